"""`runnable runs` and `runnable show`: what a user sees of past, running, cut-short and copied-back runs."""

from __future__ import annotations

import json
from collections import Counter
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import RUNNABLE, read_run_log, run_cli

CHUNKED = "examples/configs/chunked-fs.yaml"


def _execute(project: Path, pipeline: str, run_id: str, *extra: str):
    result = run_cli(["execute", "-f", pipeline, "--run-id", run_id, *extra], project)
    return result


def _runs_json(project: Path, *args: str) -> list[dict]:
    result = run_cli(["runs", "--json", *args], project)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_runs_lists_both_stores_newest_first_with_status_tag_steps_and_original_run(project):
    assert _execute(project, "examples/hello.yaml", "first", "--tag", "nightly").returncode == 0
    assert _execute(project, "examples/map.yaml", "second", "-c", CHUNKED).returncode == 0
    assert _execute(project, "examples/failing.yaml", "third").returncode == 1
    assert run_cli(["retry", "third", "-f", "examples/failing.yaml", "--run-id", "fourth"], project).returncode == 1

    listed = _runs_json(project)
    assert [r["run_id"] for r in listed] == ["fourth", "third", "second", "first"]
    by_id = {r["run_id"]: r for r in listed}
    assert by_id["first"]["tag"] == "nightly" and by_id["first"]["status"] == "SUCCESS"
    assert by_id["second"]["store"] == "chunked-fs" and by_id["first"]["store"] == "file-system"
    assert by_id["third"]["status"] == "FAIL" and by_id["third"]["steps"] == {"FAIL": 1}
    assert by_id["fourth"]["original_run_id"] == "third"
    # map.yaml: make, fan, 5 iterations of square, total... every step log but success/fail counted
    second = read_run_log(project, "second")
    expected = []
    stack = list(second["steps"].values())
    while stack:
        step = stack.pop()
        if step["step_type"] not in ("success", "fail"):
            expected.append(step["status"])
        for branch in step["branches"].values():
            stack.extend(branch["steps"].values())
    assert sum(by_id["second"]["steps"].values()) == len(expected) > 5
    assert by_id["second"]["duration_seconds"] > 0

    table = run_cli(["runs"], project)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["RUN", "ID", "STATUS", "TAG", "STARTED", "DURATION", "STEPS", "RETRY", "OF"]
    assert [line.split()[0] for line in lines[1:]] == ["fourth", "third", "second", "first"]
    assert lines[1].split()[1] == "FAIL" and lines[1].rstrip().endswith("third")
    assert "nightly" in lines[4]

    assert [r["run_id"] for r in _runs_json(project, "--limit", "2")] == ["fourth", "third"]
    only_chunked = _runs_json(project, "-c", CHUNKED)
    assert [r["run_id"] for r in only_chunked] == ["second"]


def test_show_prints_the_tree_with_iterations_items_attempts_parameters_metrics_catalog_and_code(project):
    assert _execute(project, "examples/map.yaml", "mapped", "-c", CHUNKED).returncode == 0
    assert _execute(project, "examples/returns.yaml", "returned").returncode == 0
    assert _execute(project, "examples/catalog.yaml", "catalogued").returncode == 0
    assert _execute(project, "examples/retry_attempts.yaml", "attempted").returncode == 0

    shown = run_cli(["show", "mapped"], project)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert out.splitlines()[0] == "run mapped: SUCCESS"
    run_log = read_run_log(project, "mapped")
    fan = next(s for s in run_log["steps"].values() if s["step_type"] == "map")
    for branch in fan["branches"].values():
        item = branch["parameters"]["chunk"]["value"]
        assert f"iteration {branch['iteration']} (chunk={item}) SUCCESS" in out
    # each iteration's step sits under its iteration, indented one level deeper
    lines = out.splitlines()
    first_iteration = next(i for i, line in enumerate(lines) if "iteration 0 (" in line)
    square = next(i for i, line in enumerate(lines) if "square (task) SUCCESS" in line)
    assert square > first_iteration
    assert lines[square].index("square") > lines[first_iteration].index("iteration")

    out = run_cli(["show", "returned"], project).stdout
    assert "metrics: accuracy=" in out
    assert "out: model=(object) " in out and "stats=" in out
    assert "in: " in out
    assert "code: git " in out or "code: " in out

    out = run_cli(["show", "catalogued"], project).stdout
    assert "catalog: put data/report.csv hash " in out
    assert "catalog: get data/report.csv hash " in out

    out = run_cli(["show", "attempted"], project).stdout
    assert "attempt 1: FAIL" in out and "RuntimeError: first attempt fails" in out
    assert "attempt 2: SUCCESS" in out


@pytest.mark.parametrize("config", [None, CHUNKED])
def test_show_json_is_the_run_log(project, config):
    args = ["-c", config] if config else []
    assert _execute(project, "examples/parallel.yaml", "par", *args).returncode == 0
    shown = run_cli(["show", "par", "--json"], project)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == read_run_log(project, "par")


WAITING = """dag:
  start_at: before
  steps:
    before:
      type: stub
      next: wait
    wait:
      type: task
      command_type: shell
      command: 'touch started; while [ ! -f go ]; do sleep 0.05; done'
      next: success
"""


@pytest.mark.parametrize("config", [None, CHUNKED])
def test_runs_and_show_on_a_run_still_going(project, config):
    (project / "waiting.yaml").write_text(WAITING)
    args = ["-c", config] if config else []
    env = {**os.environ, "PYTHONPATH": str(project)}
    proc = subprocess.Popen([*RUNNABLE, "execute", "-f", "waiting.yaml", "--run-id", "going", *args], cwd=project,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not (project / "started").exists():
            assert time.time() < deadline and proc.poll() is None, "the step never started"
            time.sleep(0.05)
        listed = _runs_json(project)
        assert [(r["run_id"], r["status"]) for r in listed] == [("going", "PROCESSING")]
        assert listed[0]["steps"] == {"SUCCESS": 1, "PROCESSING": 1}
        out = run_cli(["show", "going"], project).stdout
        assert "run going: PROCESSING" in out
        assert "before (stub) SUCCESS" in out and "wait (task) PROCESSING" in out
        going = json.loads(run_cli(["show", "going", "--json"], project).stdout)  # gathered from its pieces
        assert going["status"] == "PROCESSING" and going["steps"]["wait"]["status"] == "PROCESSING"
    finally:
        (project / "go").touch()
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert "run going: SUCCESS" in run_cli(["show", "going"], project).stdout


def test_runs_and_show_on_a_run_cut_short(project):
    (project / "killed.yaml").write_text(WAITING.replace(
        "'touch started; while [ ! -f go ]; do sleep 0.05; done'", "'kill -9 $PPID; sleep 5'"))
    result = _execute(project, "killed.yaml", "cut")
    assert result.returncode == -9
    assert (project / ".run_log_store" / "cut.parts").is_dir()  # never gathered
    listed = _runs_json(project)
    assert [(r["run_id"], r["status"]) for r in listed] == [("cut", "PROCESSING")]
    out = run_cli(["show", "cut"], project).stdout
    assert "wait (task) PROCESSING" in out


def test_runs_of_a_gathered_run_says_the_same_with_or_without_what_was_kept_beside_it(project):
    """The file-system store keeps a gathered run's summary beside it, so that listing runs parses no run log (a
    map of 100,000 iterations took gigabytes); what runs says is the same as worked out from the run log itself,
    and a summary that no longer describes the file (a run log copied over it) is not used."""
    assert _execute(project, "examples/map.yaml", "mapped").returncode == 0
    assert _execute(project, "examples/failing.yaml", "failed").returncode == 1
    store = project / ".run_log_store"
    kept = _runs_json(project)
    assert sorted(p.name for p in store.glob(".*.summary")) == [".failed.summary", ".mapped.summary"]
    for summary in store.glob(".*.summary"):
        summary.unlink()
    assert _runs_json(project) == kept
    for listed in kept:  # every step log but success and fail, by status, as the run log has them
        counted, stack = Counter(), list(read_run_log(project, listed["run_id"])["steps"].values())
        while stack:
            step = stack.pop()
            counted[step["status"]] += step["step_type"] not in ("success", "fail")
            stack.extend(s for branch in step["branches"].values() for s in branch["steps"].values())
        assert listed["steps"] == {k: v for k, v in counted.items() if v}

    assert _execute(project, "examples/map.yaml", "again").returncode == 0
    shutil.copy(store / "failed.json", store / "again.json")  # the file changed since its summary was kept
    again = {r["run_id"]: r for r in _runs_json(project)}["again"]
    assert again["status"] == "FAIL" and again["steps"] == {"FAIL": 1}


def test_runs_and_show_on_logs_copied_back_from_a_cluster(project, tmp_path):
    """Pods record steps one by one (start-run, execute-single-node); the folder is copied elsewhere."""
    (project / "two.yaml").write_text(WAITING)
    assert run_cli(["start-run", "pods", "-f", "two.yaml", "-c", CHUNKED], project).returncode == 0
    step = run_cli(["execute-single-node", "pods", "before", "-f", "two.yaml", "-c", CHUNKED], project)
    assert step.returncode == 0, step.stderr
    copied = tmp_path / "from-cluster"
    shutil.copytree(project / ".run_log_store", copied)
    shutil.rmtree(project / ".run_log_store")
    listed = _runs_json(project, "--log-folder", str(copied))
    assert [(r["run_id"], r["store"]) for r in listed] == [("pods", "chunked-fs")]
    out = run_cli(["show", "pods", "--log-folder", str(copied)], project).stdout
    assert "before (stub) SUCCESS" in out and "wait" not in out
    assert "run pods: PROCESSING" in out  # the next pod and the exit handler (end-run) did not run


def test_on_a_terminal_the_same_tree_and_table_are_coloured(project):
    assert _execute(project, "examples/failing.yaml", "red").returncode == 1
    plain = run_cli(["show", "red"], project).stdout
    coloured = run_cli(["show", "red"], project, env={"FORCE_COLOR": "1", "COLUMNS": "300"}).stdout
    assert "\x1b[1;31mFAIL" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain
    table = run_cli(["runs"], project, env={"FORCE_COLOR": "1", "COLUMNS": "300"}).stdout
    assert "\x1b[1;31mFAIL" in table and "red" in table


def test_mistakes_are_one_line(project):
    assert _execute(project, "examples/hello.yaml", "exists").returncode == 0
    result = run_cli(["show", "absent"], project)
    assert result.returncode == 2
    assert result.error_lines == ["error: no run 'absent' in .run_log_store (file-system, chunked-fs)"]
    result = run_cli(["runs", "--log-folder", "nowhere"], project)
    assert result.returncode == 2
    assert len(result.error_lines) == 1 and "'nowhere'" in result.error_lines[0]
    result = run_cli(["show", "../x"], project)
    assert result.returncode == 2 and len(result.error_lines) == 1 and "'../x'" in result.error_lines[0]


def test_runs_of_an_empty_store_lists_nothing(project):
    (project / ".run_log_store").mkdir()
    result = run_cli(["runs"], project)
    assert result.returncode == 0
    assert result.stdout.splitlines()[1:] == []
    assert _runs_json(project) == []
