"""Every example in examples/ runs with the command the README gives, and its run log says how it ended."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import REPO, ledger, read_run_log

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
    assert not stray_files(project)


def stray_files(project: Path) -> list[str]:
    """Files in ``project`` (a copy of the repository's examples, run where a user runs them: the repository's
    root) that the repository does not track and its .gitignore does not ignore: what `git status` would
    show after running the examples in a clone."""
    tracked = set(subprocess.run(["git", "-C", str(REPO), "ls-files"], capture_output=True, text=True,
                                 check=True).stdout.splitlines())
    new = [p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()]
    new = [f for f in new if f not in tracked]
    ignored = subprocess.run(["git", "-C", str(REPO), "check-ignore", "--no-index", "--stdin"], input="\n".join(new),
                             capture_output=True, text=True).stdout.splitlines()
    return sorted(set(new) - set(ignored))


def test_the_retry_walkthrough_leaves_the_repository_clean(cli, project):
    """docs/retry.md's walk-through: the failed run's ledger, the marker standing for the fix, the retry."""
    assert cli("execute", "-f", "examples/retry/sequential.yaml", "--run-id", "nightly").returncode == 1
    assert ledger(project) == {"extract": 1, "clean": 1, "train": 1}  # the ledger is where the docs say
    (project / "fixed.marker").write_text("")
    assert cli("retry", "nightly", "-f", "examples/retry/sequential.yaml", "--run-id", "fixed").returncode == 0
    assert not stray_files(project)
