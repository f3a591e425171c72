"""Issue 16 item 5: the catalog never writes (or copies) through a symbolic link out of the project, the
catalog folder or the run log folder."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import run_cli

PIPELINE = """
dag:
  start_at: make
  steps:
    make:
      type: task
      command_type: shell
      command: mkdir -p data && echo made > data/x.txt
      catalog: {put: [data/x.txt]}
      next: relink
    relink:
      type: task
      command_type: shell
      command: rm -rf data && ln -s "$OUTSIDE" data
      next: fetch
    fetch:
      type: task
      command_type: shell
      command: 'true'
      catalog: {get: [data/x.txt]}
      next: success
    success: {type: success}
"""
SIMPLE = """
dag:
  start_at: a
  steps:
    a: {type: task, command_type: shell, command: "echo logged; test -f again || (touch again; exit 1)", next: success}
    success: {type: success}
"""


def setup(tmp_path: Path, pipeline: str) -> tuple[Path, Path]:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (outside / "precious").write_text("keep me")
    (project / "p.yaml").write_text(pipeline)
    return project, outside


def untouched(outside: Path) -> bool:
    return sorted(p.name for p in outside.rglob("*")) == ["precious"] and (outside / "precious").read_text() == "keep me"


def test_get_does_not_write_through_a_symlinked_project_folder(tmp_path):
    project, outside = setup(tmp_path, PIPELINE)
    result = run_cli(["execute", "-f", "p.yaml"], project, env={"OUTSIDE": str(outside)})
    assert result.returncode == 1 and "symbolic link" in result.stdout + result.stderr
    assert untouched(outside)


def test_a_symlinked_catalog_folder_is_refused(tmp_path):
    project, outside = setup(tmp_path, SIMPLE)
    os.symlink(outside, project / ".catalog")
    result = run_cli(["execute", "-f", "p.yaml"], project)
    assert result.returncode != 0 and "symbolic link" in result.stdout + result.stderr
    assert untouched(outside)


def test_planted_links_in_the_catalog_are_replaced_not_followed_and_not_copied_by_retry(tmp_path):
    project, outside = setup(tmp_path, SIMPLE)
    first = run_cli(["execute", "-f", "p.yaml", "--run-id", "first"], project)
    assert first.returncode == 1
    (project / "again").unlink()
    logs = sorted(p.name for p in (project / ".catalog/first").iterdir())
    # a run folder whose execution log is a link to a file outside: the log replaces the link
    (project / ".catalog/planted").mkdir()
    for name in logs:
        os.symlink(outside / "precious", project / ".catalog/planted" / name)
    assert run_cli(["execute", "-f", "p.yaml", "--run-id", "planted"], project).returncode == 1
    assert untouched(outside)
    assert all(not (project / ".catalog/planted" / n).is_symlink() for n in logs)
    # a link to an outside file in the original run's catalog is not copied into the retry's catalog
    os.symlink(outside / "precious", project / ".catalog/first/stolen")
    os.symlink(outside, project / ".catalog/first/stolen-folder")
    retried = run_cli(["retry", "first", "-f", "p.yaml", "--run-id", "second"], project)
    assert retried.returncode == 0, retried.stderr
    copies = [p for p in (project / ".catalog").rglob("*") if p.is_file() and not p.is_symlink()
              and p.read_bytes() == b"keep me"]
    assert copies == [] and untouched(outside)


def test_the_run_log_store_writes_nothing_through_a_planted_link(tmp_path):
    """A step replaces its run's steps folder by a link out of the project: the step log is not written."""
    plant = "rm -rf .run_log_store/r.parts/steps && ln -s $OUTSIDE .run_log_store/r.parts/steps"
    project, outside = setup(tmp_path, SIMPLE.replace(
        "echo logged; test -f again || (touch again; exit 1)", plant))
    result = run_cli(["execute", "-f", "p.yaml", "--run-id", "r"], project, env={"OUTSIDE": str(outside)})
    assert result.returncode == 2 and "symbolic link out of '.run_log_store'" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert untouched(outside)
