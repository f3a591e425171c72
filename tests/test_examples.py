"""Every example in examples/ runs with the command the README gives, and its run log says how it ended."""

from __future__ import annotations

import re

import pytest
from ruamel.yaml import YAML

from conftest import REPO, read_run_log

INDEX = YAML(typ="safe").load((REPO / "examples" / "index.yaml").read_text())


def command(entry: dict) -> str:
    """The command line the README shows for an example."""
    parts = ["runnable execute -f", entry["pipeline"]]
    if entry.get("parameters"):
        parts += ["-p", entry["parameters"]]
    if entry.get("config"):
        parts += ["-c", entry["config"]]
    env = " ".join(f"{k}={v}" for k, v in (entry.get("env") or {}).items())
    return f"{env} {' '.join(parts)}".strip()


def test_every_example_pipeline_is_listed():
    listed = {e["pipeline"] for e in INDEX}
    on_disk = {f"examples/{p.name}" for p in (REPO / "examples").glob("*.yaml") if p.name != "index.yaml"}
    assert on_disk == listed


def test_readme_shows_every_example_command():
    readme = (REPO / "README.md").read_text()
    missing = [command(e) for e in INDEX if command(e) not in readme]
    assert not missing


@pytest.mark.parametrize("entry", INDEX, ids=[f"{i}-{e['pipeline'].split('/')[-1]}" for i, e in enumerate(INDEX)])
def test_example_runs(entry, cli, project):
    args = ["execute", "-f", entry["pipeline"], "--run-id", "example"]
    if entry.get("parameters"):
        args += ["-p", entry["parameters"]]
    if entry.get("config"):
        args += ["-c", entry["config"]]
    result = cli(*args, env=entry.get("env"))
    expected = entry.get("expect", "SUCCESS")
    assert result.returncode == (0 if expected == "SUCCESS" else 1), result.stderr
    run_log = read_run_log(project, "example")
    assert run_log["status"] == expected
    assert re.search(rf"run example: {expected}", result.stderr)
    assert "Traceback" not in result.stderr
