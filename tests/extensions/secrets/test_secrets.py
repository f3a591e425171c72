"""Secrets reach tasks and never a run log or the catalog."""

import pytest

from conftest import run_cli
from extensions.secrets.dotenv import DotEnvSecrets, parse_dotenv
from runnable.errors import ConfigurationError, SecretNotFoundError


def test_dotenv_format(tmp_path):
    text = '# comment\nexport A=1\nB="two words"\nC=x # trailing\n\nD=\'q\'\n'
    assert parse_dotenv(text, ".env") == {"A": "1", "B": "two words", "C": "x", "D": "q"}
    with pytest.raises(ConfigurationError, match=r"\.env:2: expected KEY=value"):
        parse_dotenv("A=1\nnonsense\n", ".env")


def test_missing_secret_is_named(tmp_path):
    (tmp_path / ".env").write_text("A=1\n")
    with pytest.raises(SecretNotFoundError, match="secret 'B' is not in"):
        DotEnvSecrets(location=str(tmp_path / ".env")).get("B")


@pytest.mark.parametrize("config,env,value", [
    ("examples/configs/dotenv.yaml", {}, "not-a-real-token-123"),
    (None, {"API_TOKEN": "from-the-environment"}, "from-the-environment"),
])
def test_secret_value_is_never_recorded(project, config, env, value):
    args = ["execute", "-f", "examples/secrets.yaml", "--run-id", "s"] + (["-c", config] if config else [])
    result = run_cli(args, project, env)
    assert result.returncode == 0, result.stderr
    recorded = [p for p in list((project / ".run_log_store").rglob("*")) + list((project / ".catalog").rglob("*"))
                if p.is_file()]
    assert recorded
    assert not [p for p in recorded if value in p.read_text(errors="replace")]
    assert value not in result.stdout  # what the shell task echoes is scrubbed too


def test_missing_secret_fails_the_step(project):
    result = run_cli(["execute", "-f", "examples/secrets.yaml", "--run-id", "m"], project)
    assert result.returncode == 1
    assert "secret 'API_TOKEN' is not set" in result.stderr
