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


# --- a task's declared secrets (secrets: [NAME, ...]) --------------------------------------------------
READER = """
def read(name: str) -> None:
    from runnable import get_secret

    print(f"{name} has {len(get_secret(name))} characters")
"""


def declaring_pipeline(project, secrets_line: str) -> None:
    (project / "reader.py").write_text(READER)
    (project / "p.yaml").write_text(f"""
dag:
  start_at: read
  steps:
    read:
      type: task
      command: reader.read
{secrets_line}
      next: success
""")


@pytest.mark.parametrize("secrets_line,name,failure", [
    ("      secrets: [A]", "A", None),
    ("      secrets: [A]", "B", "secret 'B' is not declared by step 'read' (its secrets: A)"),
    ("      secrets: []", "A", "secret 'A' is not declared by step 'read' (its secrets: none)"),
    ("", "B", None),  # declares nothing: every secret, as before the field existed
], ids=["declared", "undeclared", "declares none", "not declared"])
def test_a_task_reads_only_the_secrets_it_declares(project, secrets_line, name, failure):
    declaring_pipeline(project, secrets_line)
    result = run_cli(["execute", "-f", "p.yaml", "--run-id", "d"], project,
                     {"A": "value-of-a", "B": "value-of-b", "RUNNABLE_PRM_name": f'"{name}"'})
    if failure is None:
        assert result.returncode == 0, result.stderr
        assert f"{name} has 10 characters" in result.stdout
        return
    assert result.returncode == 1
    assert f"step 'read' attempt 1 failed: SecretNotFoundError: {failure}" in result.error_lines
    assert "Traceback" not in result.stderr and "value-of" not in result.stderr + result.stdout


@pytest.mark.parametrize("value,problem", [
    ("A", "must be a list of secret names (got 'A')"),
    ("[A, 2B]", "'2B' is not a valid secret name"),
    ("[A, {x: 1}]", "{'x': 1} is not a valid secret name"),
    ("[A, B, A]", "'A' is listed twice"),
])
def test_the_secrets_field_is_checked_before_anything_runs(project, value, problem):
    declaring_pipeline(project, f"      secrets: {value}")
    result = run_cli(["execute", "-f", "p.yaml", "--run-id", "v"], project)
    assert result.returncode == 2 and len(result.error_lines) == 1, result.stderr
    assert result.error_lines[0].startswith("error: p.yaml:8: step 'read': field 'secrets': " + problem)
    assert not (project / ".run_log_store").exists()


def test_the_sdk_declares_secrets_as_the_yaml_does(project):
    from examples.common.functions import hello
    from runnable import PythonTask, ShellTask

    assert PythonTask(name="p", function=hello, secrets=["A"]).fields()["secrets"] == ["A"]
    assert ShellTask(name="s", command="true", secrets=[]).fields()["secrets"] == []
    assert "secrets" not in ShellTask(name="s", command="true").fields()
