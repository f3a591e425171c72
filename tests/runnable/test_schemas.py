"""`runnable schema pipeline|config`: JSON Schemas every example (and every complete YAML in docs/) satisfies."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from ruamel.yaml import YAML

from conftest import REPO, run_cli

SERVICE_KEYS = {"pipeline-executor", "pipeline_executor", "executor", "run-log-store", "run_log_store", "catalog",
                "catalog-handler", "secrets", "secrets-handler"}


@pytest.fixture(scope="module")
def validators(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schema")
    out = {}
    for what in ("pipeline", "config"):
        result = run_cli(["schema", what], folder)
        assert result.returncode == 0, result.stderr
        schema = json.loads(result.stdout)
        jsonschema.Draft202012Validator.check_schema(schema)
        out[what] = jsonschema.Draft202012Validator(schema)
    return out


def _yaml(text: str):
    return YAML(typ="safe").load(text)


def _examples() -> list[tuple[str, object]]:
    found = []
    for path in sorted((REPO / "examples").rglob("*.yaml")):
        found.append((str(path.relative_to(REPO)), _yaml(path.read_text())))
    return found


def _doc_blocks() -> list[tuple[str, object]]:
    """Every ```yaml block of docs/ that is a whole pipeline or configuration file (but plugins.md's: they use
    the plugins the page writes, which are not installed)."""
    found = []
    for page in sorted((REPO / "docs").glob("*.md")):
        if page.name == "plugins.md":
            continue
        for i, block in enumerate(re.findall(r"```ya?ml\n(.*?)```", page.read_text(), re.S)):
            try:
                data = _yaml(block)
            except Exception:  # noqa: BLE001 - fragments with placeholders are not files
                continue
            if isinstance(data, dict) and ("dag" in data or (data and set(data) <= SERVICE_KEYS)):
                found.append((f"{page.name} block {i + 1}", data))
    return found


def _kind(data) -> str | None:
    if isinstance(data, dict) and "dag" in data:
        return "pipeline"
    if isinstance(data, dict) and data and set(data) <= SERVICE_KEYS:
        return "config"
    return None


def test_every_example_pipeline_and_configuration_is_valid(validators):
    checked = {"pipeline": 0, "config": 0}
    for name, data in _examples() + _doc_blocks():
        kind = _kind(data)
        if kind is None:  # parameters files, the examples' index
            continue
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validators[kind].iter_errors(data)]
        assert not errors, f"{name}: {errors}"
        checked[kind] += 1
    assert checked["pipeline"] >= 20 and checked["config"] >= 4, checked


@pytest.mark.parametrize("step, wrong", [
    ({"type": "task", "command": "m.f", "nxt": "success"}, "'nxt' was unexpected"),
    ({"type": "tsk", "command": "m.f", "next": "success"}, "'tsk' is not one of"),
    ({"type": "task", "command": "m.f"}, "'next' is a required property"),
    ({"type": "task", "command_type": "shell", "command": "true", "next": "success", "notebook_output_path": "x"},
     "'notebook_output_path' was unexpected"),
    ({"type": "task", "command": "m.f", "next": "success", "returns": [{"name": "x", "kind": "table"}]},
     "'table' is not one of"),
    ({"type": "map", "iterate_on": "xs", "iterate_as": "x", "next": "success"}, "'branch' is a required property"),
    ({"type": "parallel", "next": "success", "branches": {"a": {"start_at": "s"}}}, "'steps' is a required property"),
    ({"type": "success", "next": "x"}, "'next' was unexpected"),
])
def test_mistakes_are_rejected(validators, step, wrong):
    pipeline = {"dag": {"start_at": "s", "steps": {"s": step}}}
    messages = [e.message for e in validators["pipeline"].iter_errors(pipeline)]
    messages += [c.message for e in validators["pipeline"].iter_errors(pipeline) for c in e.context or []]
    assert any(wrong in m for m in messages), messages


def test_stub_takes_any_field_and_python_is_the_default_command_type(validators):
    assert validators["pipeline"].is_valid({"dag": {"start_at": "s", "steps": {
        "s": {"type": "stub", "command": "anything", "next": "t"},
        "t": {"type": "task", "command": "m.f", "returns": ["x", {"name": "y", "kind": "object"}], "next": "success"},
    }}})


def test_configuration_mistakes_are_rejected(validators):
    config = validators["config"]
    assert config.is_valid({"run-log-store": "chunked-fs", "executor": {"type": "local"}})
    assert not config.is_valid({"run-log-store": {"type": "chunked-fs", "config": {"log_foldr": "x"}}})
    assert not config.is_valid({"run-log-store": "chunked"})
    assert not config.is_valid({"run-logs": "chunked-fs"})


def test_the_schema_command_refuses_anything_else(tmp_path):
    result = run_cli(["schema", "steps"], tmp_path)
    assert result.returncode == 2 and len(result.error_lines) == 1 and "'steps'" in result.error_lines[0]


def test_the_documented_language_server_line_points_at_the_printed_schema():
    page = (REPO / "docs" / "editors.md").read_text()
    assert "# yaml-language-server: $schema=" in page
    assert "runnable schema pipeline > " in page and "runnable schema config > " in page
