"""Time limits locally: ``max_step_duration_in_seconds`` of the local executor, and a step's override.

A step past its limit is ended with everything it started, its attempt recorded FAIL "timed out after N s",
and its ``max_attempts`` apply. Real command line, real subprocesses, in temporary projects.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid

import pytest

from conftest import run_cli
from test_signals import marked, wait_for

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="a time-limited attempt runs in a forked process")

TASKS = """
import subprocess, time

def stuck():
    print("started", flush=True)
    subprocess.Popen(["sleep", "41"])  # a child that would outlive the step
    time.sleep(60)

def quick():
    return {"n": 3}, [1, 2]

def uses(answer, pair):
    assert answer == {"n": 3} and pair == [1, 2], (answer, pair)
"""


def config(limit: int | None = 2, overrides: str = "") -> str:
    lines = ["pipeline-executor:", "  type: local", "  config:"]
    if limit is not None:
        lines.append(f"    max_step_duration_in_seconds: {limit}")
    if overrides:
        lines.append(f"    overrides: {overrides}")
    if len(lines) == 3:
        lines[-1] = "  config: {}"
    return "\n".join(lines) + "\n"


def task(name: str, command: str, *, next_: str = "success", shell: bool = False, extra: str = "") -> str:
    kind = "      command_type: shell\n" if shell else ""
    return f"    {name}:\n      type: task\n{kind}      command: {json.dumps(command)}\n{extra}      next: {next_}\n"


def run(tmp_path, steps: str, start_at: str, config_text: str, mark: str = ""):
    (tmp_path / "tasks.py").write_text(TASKS)
    (tmp_path / "pipeline.yaml").write_text(f"dag:\n  start_at: {start_at}\n  steps:\n{steps}")
    (tmp_path / "config.yaml").write_text(config_text)
    started = time.monotonic()
    result = run_cli(["execute", "-f", "pipeline.yaml", "-c", "config.yaml", "--run-id", "r"], tmp_path,
                     env={"RUNNABLE_TEST_MARK": mark} if mark else None, timeout=120)
    took = time.monotonic() - started
    recorded = tmp_path / ".run_log_store" / "r.json"  # the run ended: the store gathered its log into one file
    return result, (json.loads(recorded.read_text()) if recorded.exists() else None), took


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("kind", ["python", "shell"])
def test_a_sleeping_step_is_ended_and_retried_under_its_limit(tmp_path, kind):
    mark = uuid.uuid4().hex
    command = "tasks.stuck" if kind == "python" else "echo started; sleep 42 & sleep 60"
    steps = task("stuck", command, shell=kind == "shell", extra="      max_attempts: 2\n")
    result, run_log, took = run(tmp_path, steps, "stuck", config(2), mark)
    assert result.returncode == 1, result.stderr
    step = run_log["steps"]["stuck"]
    assert step["status"] == "FAIL" and run_log["status"] == "FAIL"
    assert [(a["attempt_number"], a["status"], a["message"]) for a in step["attempts"]] == \
        [(1, "FAIL", "timed out after 2 s"), (2, "FAIL", "timed out after 2 s")]
    assert took < 60  # not the minute the step would sleep
    assert wait_for(lambda: not marked(mark), 5.0), marked(mark)  # what the step started was ended with it
    logs = sorted((tmp_path / ".catalog" / "r").glob("stuck*.attempt-*.execution.log"))  # each attempt's says why
    assert [log.name.rsplit(".", 3)[1] for log in logs] == ["attempt-1", "attempt-2"]
    assert all("timed out after 2 s" in log.read_text() for log in logs)
    assert all("started" in log.read_text() for log in logs)  # what it wrote before it was stopped


def test_a_step_within_its_limit_returns_its_values(tmp_path):
    steps = (task("make", "tasks.quick", next_="use", extra="      returns: [answer, {name: pair, kind: object}]\n")
             + task("use", "tasks.uses"))
    result, run_log, _ = run(tmp_path, steps, "make", config(30))
    assert result.returncode == 0, result.stderr
    assert run_log["status"] == "SUCCESS"
    assert run_log["parameters"]["answer"]["value"] == {"n": 3}


def test_a_step_s_override_changes_its_limit_only(tmp_path):
    """The configuration's limit is 1 s; the first step names an override of 30 s and sleeps 2 s: it succeeds,
    the second sleeps as long without one: it is ended."""
    steps = (task("patient", "sleep 2", shell=True, next_="hurried", extra="      overrides: {local: long}\n")
             + task("hurried", "sleep 2", shell=True))
    result, run_log, _ = run(tmp_path, steps, "patient", config(1, "{long: {max_step_duration_in_seconds: 30}}"))
    assert result.returncode == 1, result.stderr
    assert run_log["steps"]["patient"]["status"] == "SUCCESS"
    hurried = run_log["steps"]["hurried"]
    assert (hurried["status"], hurried["message"]) == ("FAIL", "timed out after 1 s")


def test_an_override_alone_limits_its_step(tmp_path):
    steps = task("capped", "sleep 30", shell=True, extra="      overrides: {local: short}\n")
    result, run_log, took = run(tmp_path, steps, "capped", config(None, "{short: {max_step_duration_in_seconds: 2}}"))
    assert result.returncode == 1
    assert run_log["steps"]["capped"]["message"] == "timed out after 2 s"
    assert took < 30


def test_a_step_naming_an_undefined_override_runs_nothing(tmp_path):
    steps = task("capped", "sleep 1", shell=True, extra="      overrides: {local: nosuch}\n")
    result, run_log, _ = run(tmp_path, steps, "capped", config(2, "{short: {max_step_duration_in_seconds: 2}}"))
    assert result.returncode == 2
    assert result.error_lines == ["error: pipeline.yaml:8: step 'capped': field 'overrides.local': names no override "
                                  "of the local configuration ('nosuch'); defined: short"]
    assert run_log is None and not (tmp_path / ".run_log_store").exists()


def test_a_limit_must_be_a_positive_number_of_seconds(tmp_path):
    steps = task("s", "true", shell=True)
    result, _, _ = run(tmp_path, steps, "s", config(0))
    assert result.returncode == 2 and len(result.error_lines) == 1
    assert "max_step_duration_in_seconds" in result.stderr and "Traceback" not in result.stderr
