"""Nothing left running: a run stopped by SIGINT, SIGTERM or SIGKILL leaves no process behind.

Each run is the real command line in a temporary project; every process it makes (branch workers, shell
scripts and their children, a python task's subprocesses) inherits a unique environment variable, by
which the test finds them in /proc. Waits poll with deadlines: the machine may be loaded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import RUNNABLE, run_cli
from test_retry import steps_by_name

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

BLOCKING_SCRIPT = "if [ -e block ]; then sleep 31 & sleep 32; fi"
SHELL_GRAPH = f"""start_at: sh
steps:
  sh:
    type: task
    command_type: shell
    command: "{BLOCKING_SCRIPT}"
    next: success
"""


def indented(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line + "\n" for line in text.splitlines())


SHELL = "dag:\n" + indented(SHELL_GRAPH, 2)
# a parallel step: a shell branch that starts a background and a foreground sleep, a python branch whose
# function waits on a sleeping subprocess; they sleep only while the file 'block' exists
PARALLEL = """
dag:
  start_at: fan
  steps:
    fan:
      type: parallel
      next: success
      branches:
        a:
""" + indented(SHELL_GRAPH, 10) + """        b:
          start_at: py
          steps:
            py:
              type: task
              command: tasks.blocked
              next: success
"""
TASKS = """
import os, subprocess

def blocked():
    if os.path.exists("block"):
        subprocess.run(["sleep", "34"])
"""
PARALLEL_CONFIG = "pipeline-executor:\n  type: local\n  config: {enable_parallel: true}\n"


def wait_for(predicate, timeout: float, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def marked(mark: str) -> dict[int, str]:
    """Live processes carrying ``mark`` in their environment: pid -> command line."""
    needle = f"RUNNABLE_TEST_MARK={mark}".encode()
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if needle not in fh.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat", "rb") as fh:
                if fh.read().rsplit(b")", 1)[1].split()[0] == b"Z":  # a zombie has ended
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                found[int(entry)] = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
    return found


def sleepers(mark: str) -> list[str]:
    return [cmd for cmd in marked(mark).values() if cmd.startswith("sleep ")]


def start(project: Path, pipeline: str, config: str | None, run_id: str, mark: str) -> subprocess.Popen:
    (project / "pipeline.yaml").write_text(pipeline)
    (project / "tasks.py").write_text(TASKS)
    (project / "block").write_text("")
    args = [*RUNNABLE, "execute", "-f", "pipeline.yaml", "--run-id", run_id]
    if config:
        (project / "config.yaml").write_text(config)
        args += ["-c", "config.yaml"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNABLE_PRM_", "RUNNABLE_VAR_"))}
    env.pop("RUNNABLE_CONFIGURATION_FILE", None)
    env.update(PYTHONPATH=str(project), RUNNABLE_TEST_MARK=mark)
    # output to files: a process left holding a pipe would not keep this test waiting; a session of its own,
    # as a terminal's job has, so that a signal can go to its whole process group as Ctrl-C's does; SIGINT
    # handled as in a terminal's foreground job (a suite started in the background by a script inherits it
    # ignored, and a run started so rightly ignores Ctrl-C)
    return subprocess.Popen(args, cwd=project, env=env, stdout=open(project / "out.txt", "w"),
                            stderr=open(project / "err.txt", "w"), start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def stopped(project: Path, pipeline: str, config: str | None, signum: int, sleeping: int,
            group: bool = False) -> tuple[int, str]:
    """Start the run, wait until ``sleeping`` sleeps run, send ``signum`` to runnable alone (``group``: to
    its process group, as Ctrl-C in a terminal does); then no process of the run may be left 5 s later.
    Returns the exit status and the run id."""
    mark, run_id = uuid.uuid4().hex, "stopped"
    proc = start(project, pipeline, config, run_id, mark)
    try:
        running = wait_for(lambda: len(sleepers(mark)) >= sleeping, 60)
        assert running, (marked(mark), (project / "err.txt").read_text())
        if group:
            os.killpg(proc.pid, signum)
        else:
            os.kill(proc.pid, signum)
        code = proc.wait(30)
        left = wait_for(lambda: not marked(mark), 5.0)
        assert left, f"still running 5 s after {signal.Signals(signum).name}: {marked(mark)}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in marked(mark):  # a failure above leaves nothing behind either
            os.kill(pid, signal.SIGKILL)
    return code, run_id


def run_log(project: Path, run_id: str) -> dict:
    """The run log as a user reads it (``runnable show --json``), whatever state the store was left in."""
    result = run_cli(["show", run_id, "--json"], project)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("signum, code, group", [(signal.SIGTERM, 143, False), (signal.SIGINT, 130, False),
                                                (signal.SIGINT, 130, True)], ids=["SIGTERM", "SIGINT", "Ctrl-C"])
@pytest.mark.parametrize("kind", ["parallel", "shell"])
def test_an_interrupted_run_ends_its_processes_and_records_interrupted(tmp_path, kind, signum, code, group):
    pipeline, config, sleeping = (PARALLEL, PARALLEL_CONFIG, 3) if kind == "parallel" else (SHELL, None, 2)
    exit_code, run_id = stopped(tmp_path, pipeline, config, signum, sleeping, group)
    assert exit_code == code
    assert (tmp_path / "err.txt").read_text().strip().splitlines()[-1] == "interrupted"
    recorded_run = json.loads((tmp_path / ".run_log_store" / f"{run_id}.json").read_text())  # gathered at its end
    assert recorded_run["status"] == "FAIL"
    recorded = steps_by_name(recorded_run)
    top = recorded["fan" if kind == "parallel" else "sh"]
    assert (top["status"], top["message"]) == ("FAIL", "interrupted")
    if kind == "parallel":  # each branch's step was running: its worker recorded it before ending
        for name in ("fan.a.sh", "fan.b.py"):
            assert (recorded[name]["status"], recorded[name]["message"]) == ("FAIL", "interrupted")


@pytest.mark.parametrize("kind", ["parallel", "shell"])
def test_a_killed_run_leaves_nothing_running_and_is_retried(tmp_path, kind):
    pipeline, config, sleeping = (PARALLEL, PARALLEL_CONFIG, 3) if kind == "parallel" else (SHELL, None, 2)
    exit_code, run_id = stopped(tmp_path, pipeline, config, signal.SIGKILL, sleeping)
    assert exit_code == -signal.SIGKILL
    assert run_log(tmp_path, run_id)["status"] == "PROCESSING"  # readable, as the kill left it
    (tmp_path / "block").unlink()
    args = ["retry", run_id, "-f", "pipeline.yaml", "--run-id", "again"] + (["-c", "config.yaml"] if config else [])
    result = run_cli(args, tmp_path)
    assert result.returncode == 0, result.stderr
    assert run_log(tmp_path, "again")["status"] == "SUCCESS"


@pytest.mark.parametrize("kind", ["shell", "python"])
def test_a_task_s_leftover_background_process_ends_with_the_run(tmp_path, kind):
    """A shell task's process group ends with the task; what a python task left running ends with the run."""
    mark = uuid.uuid4().hex
    if kind == "shell":
        pipeline = SHELL.replace(BLOCKING_SCRIPT, "sleep 35 > /dev/null 2>&1 &")
    else:
        pipeline = SHELL.replace("      command_type: shell\n", "").replace(f'"{BLOCKING_SCRIPT}"', "tasks.leaves")
    (tmp_path / "pipeline.yaml").write_text(pipeline)
    (tmp_path / "tasks.py").write_text(TASKS + "\n\ndef leaves():\n    subprocess.Popen(['sleep', '36'])\n")
    result = run_cli(["execute", "-f", "pipeline.yaml"], tmp_path, env={"RUNNABLE_TEST_MARK": mark})
    assert result.returncode == 0, result.stderr
    assert wait_for(lambda: not marked(mark), 5.0), marked(mark)
