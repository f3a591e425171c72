"""Configuration: defaults, aliases, $variables, RUNNABLE_CONFIGURATION_FILE."""

import pytest

from runnable.config import load_configuration
from runnable.errors import ConfigurationError


def test_defaults_without_a_file(monkeypatch):
    monkeypatch.delenv("RUNNABLE_CONFIGURATION_FILE", raising=False)
    config = load_configuration(None)
    assert (config.pipeline_executor.type, config.run_log_store.type, config.catalog.type, config.secrets.type) == (
        "local", "file-system", "file-system", "env-secrets")


@pytest.mark.parametrize("executor_key,store_key", [("executor", "run_log_store"),
                                                      ("pipeline-executor", "run-log-store")])
def test_aliases(tmp_path, executor_key, store_key):
    path = tmp_path / "c.yaml"
    path.write_text(f"{executor_key}:\n  type: local\n{store_key}:\n  type: chunked-fs\n")
    config = load_configuration(str(path))
    assert config.pipeline_executor.type == "local" and config.run_log_store.type == "chunked-fs"


def test_both_spellings_is_an_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("executor: local\npipeline-executor: local\n")
    with pytest.raises(ConfigurationError, match="given twice"):
        load_configuration(str(path))


def test_variables_are_substituted(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNNABLE_VAR_folder", "/data/logs")
    monkeypatch.setenv("RUNNABLE_VAR_image", "repo/image:1")
    path = tmp_path / "c.yaml"
    path.write_text("run-log-store:\n  type: file-system\n  config:\n    log_folder: ${folder}/runs\n"
                    "pipeline-executor:\n  type: local\n  config: {note: $image, cost: $$5}\n")
    config = load_configuration(str(path))
    assert config.run_log_store.config["log_folder"] == "/data/logs/runs"
    assert config.pipeline_executor.config == {"note": "repo/image:1", "cost": "$5"}


def test_configuration_file_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    path.write_text("run-log-store:\n  type: buffered\n")
    monkeypatch.setenv("RUNNABLE_CONFIGURATION_FILE", str(path))
    assert load_configuration(None).run_log_store.type == "buffered"
