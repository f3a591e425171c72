"""What the console shows while a run goes (runnable/progress.py), through the real command line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import RUNNABLE, read_run_log, run_cli

DURATION = r"\d+(\.\d+)? (s|min)"
ANSI = "\x1b["

FLAKY_MAP = """\
dag:
  start_at: make
  steps:
    make:
      type: task
      command: progress_funcs.items
      returns: [items]
      next: fan
    fan:
      type: map
      iterate_on: items
      iterate_as: item
      next: success
      branch:
        start_at: each
        steps:
          each:
            type: task
            command: progress_funcs.each
            next: success
"""

FUNCS = """\
def items():
    return [1, 2, 3, 4]


def each(item):
    if item % 2 == 0:
        raise ValueError(f"item {item} is even")
"""

LOCAL_PARALLEL = {"pipeline-executor": {"type": "local", "config": {"enable_parallel": True, "max_processes": 2}}}


def _flaky_map(project: Path) -> None:
    (project / "progress_funcs.py").write_text(FUNCS)
    (project / "flaky_map.yaml").write_text(FLAKY_MAP)


def test_each_step_is_named_with_its_status_and_duration_and_a_summary_ends_the_run(project):
    result = run_cli(["execute", "-f", "examples/map.yaml", "--run-id", "shown"], project)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0] == "run shown: started"
    for step in ("make chunks", "total", "check", *(f"square each.{i}.square" for i in range(5))):
        assert f"{step}: started\n" in out
        assert re.search(rf"^{re.escape(step)}: SUCCESS in {DURATION}$", out, re.M), step
    assert "square each: started, 5 branches" in out
    assert re.search(rf"^square each: SUCCESS in {DURATION} \(5/5 branches done, 0 failed\)$", out, re.M)
    assert "total=55" in out  # the task's own output, between its step's lines
    assert out.index("check: started") < out.index("total=55") < out.index("check: SUCCESS")
    summary = out.splitlines()[-1]
    assert re.fullmatch(rf"run shown: steps ran 8, reused 0, failed 0; took {DURATION}; "
                        rf"run log: \.run_log_store/shown\.json", summary), summary
    assert (project / ".run_log_store" / "shown.json").exists()
    assert result.error_lines == ["run shown: SUCCESS"]  # the final line, as before


def test_a_map_with_failing_iterations_counts_them(project):
    _flaky_map(project)
    result = run_cli(["execute", "-f", "flaky_map.yaml", "--run-id", "flaky"], project)
    assert result.returncode == 1
    out = result.stdout
    assert "fan: started, 4 branches" in out
    assert re.search(rf"^fan: FAIL in {DURATION} \(4/4 branches done, 2 failed\): 2 of 4 branches did not succeed",
                     out, re.M), out
    assert re.search(r"^fan\.1\.each: FAIL in .*: ValueError: item 2 is even$", out, re.M)
    assert re.search(r"^fan\.0\.each: SUCCESS", out, re.M)
    assert "run flaky: steps ran 5, reused 0, failed 2;" in out


def test_branches_run_in_processes_are_counted_and_shown(project):
    _flaky_map(project)
    (project / "parallel.yaml").write_text(json.dumps(LOCAL_PARALLEL))
    result = run_cli(["execute", "-f", "flaky_map.yaml", "-c", "parallel.yaml", "--run-id", "par"], project)
    assert result.returncode == 1
    out = result.stdout
    assert "fan: started, 4 branches" in out and "(4/4 branches done, 2 failed)" in out
    for i in range(4):  # each worker process prints its branch's step
        assert re.search(rf"^fan\.{i}\.each: (SUCCESS|FAIL) in ", out, re.M), out
    assert "run par: steps ran 5, reused 0, failed 2;" in out  # the workers' steps are in the summary


def test_a_parallel_step_counts_its_branches(project):
    result = run_cli(["execute", "-f", "examples/parallel.yaml", "--run-id", "both"], project)
    assert result.returncode == 0, result.stderr
    assert "both: started, 2 branches" in result.stdout
    assert re.search(rf"^both: SUCCESS in {DURATION} \(2/2 branches done, 0 failed\)$", result.stdout, re.M)
    assert re.search(r"^both\.left\.left step: SUCCESS", result.stdout, re.M)


def test_a_failing_python_step_shows_its_traceback_and_execution_log(project):
    result = run_cli(["execute", "-f", "examples/failing.yaml", "--run-id", "broken"], project)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    failed = lines.index(next(x for x in lines if x.startswith("fails: FAIL")))
    assert re.fullmatch(rf"fails: FAIL in {DURATION}: RuntimeError: this step fails on purpose", lines[failed])
    tail = [x for x in lines[failed + 1:] if x.startswith("  | ")]
    assert tail[-1] == "  | RuntimeError: this step fails on purpose"
    assert any('raise RuntimeError("this step fails on purpose")' in x for x in tail)
    [where] = [x for x in lines if x.startswith("  execution log: ")]
    path = project / where.split(": ", 1)[1]
    assert path.parent == project / ".catalog" / "broken" and path.name.endswith(".attempt-1.execution.log")
    assert "Traceback (most recent call last)" in path.read_text()
    assert "run broken: steps ran 1, reused 0, failed 1;" in result.stdout
    assert result.error_lines[-1] == "run broken: FAIL"


def test_a_failing_shell_step_shows_what_it_wrote_to_stderr(project):
    (project / "shell.yaml").write_text(
        "dag:\n  start_at: s\n  steps:\n    s:\n      type: task\n      command_type: shell\n"
        "      command: 'echo about to fail; echo no such table: users >&2; exit 3'\n      next: success\n")
    result = run_cli(["execute", "-f", "shell.yaml", "--run-id", "sh"], project)
    assert result.returncode == 1
    assert "  | no such table: users" in result.stdout.splitlines()
    assert "  execution log: .catalog/sh/" in result.stdout


def test_output_piped_is_plain_lines(project):
    result = run_cli(["execute", "-f", "examples/map.yaml", "--run-id", "plain"], project)
    assert result.returncode == 0
    assert ANSI not in result.stdout and ANSI not in result.stderr


def _on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal (24 rows, 100 columns) as its console; what it showed."""
    import fcntl
    import pty
    import struct
    import termios

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNABLE_", "NO_COLOR", "FORCE_COLOR"))}
    env.update(PYTHONPATH=str(cwd), TERM="xterm-256color")
    pid, fd = pty.fork()
    if pid == 0:  # the child: its size set before anything runs
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        os.chdir(cwd)
        os.execve(sys.executable, [*RUNNABLE, *args], env)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", errors="replace")


def test_on_a_terminal_steps_are_coloured_and_a_status_line_is_kept_at_the_bottom(project):
    code, shown = _on_a_terminal(["execute", "-f", "examples/map.yaml", "--run-id", "live"], project)
    assert code == 0, shown
    assert "\x1b[1;23r" in shown  # rows 1-23 scroll; row 24 holds the status line
    assert "\x1b[24;1H" in shown and "running make chunks" in shown
    assert "\x1b[r" in shown  # the whole screen scrolls again at the end
    plain = re.sub(r"\x1b(\[[0-9;]*[A-Za-z]|[78])", "", shown)
    for step in ("make chunks", "total", "check", "square each.4.square"):
        assert re.search(rf"{re.escape(step)}: SUCCESS in {DURATION}", plain), step
    assert "square each: SUCCESS" in plain and "(5/5 branches done, 0 failed)" in plain
    assert "run live: steps ran 8, reused 0, failed 0;" in plain and "run live: SUCCESS" in plain
    assert "\x1b[32mSUCCESS" in shown  # green


def test_quiet_prints_nothing_on_success_and_one_line_for_a_mistake(project):
    result = run_cli(["execute", "-f", "examples/stub.yaml", "--run-id", "q", "--quiet"], project)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    assert read_run_log(project, "q")["status"] == "SUCCESS"
    result = run_cli(["execute", "-f", "examples/failing.yaml", "--run-id", "qf", "-q"], project)
    assert result.returncode == 1 and result.stdout == ""
    assert result.error_lines[-1] == "run qf: FAIL"
    result = run_cli(["execute", "-f", "nowhere.yaml", "--quiet"], project)
    assert result.returncode == 2 and result.stdout == "" and len(result.error_lines) == 1


def test_log_level_info_says_what_the_engine_does(project):
    result = run_cli(["--log-level", "INFO", "execute", "-f", "examples/map.yaml", "--run-id", "told", "-q"], project)
    assert result.returncode == 0, result.stderr
    said = result.stderr
    for line in ("run told: creating its run log in the file-system store",
                 "step 'make chunks': started", "step 'make chunks': SUCCESS",
                 "step 'square each': opened 5 branches", "step 'square each': SUCCESS (5 of 5 branches succeeded)",
                 "run told: SUCCESS"):
        assert f"INFO runnable: {line}" in said, line
    assert "catalog" in said  # the execution logs the steps put there


def test_retry_says_which_steps_it_reuses_and_which_it_runs(project):
    first = run_cli(["execute", "-f", "examples/retry/sequential.yaml", "--run-id", "first"], project)
    assert first.returncode == 1
    (project / "fixed.marker").write_text("fixed")
    second = run_cli(["retry", "first", "-f", "examples/retry/sequential.yaml", "--run-id", "second"], project)
    assert second.returncode == 0, second.stderr
    out = second.stdout
    assert out.splitlines()[0] == "run second: started, retrying run first"
    for step in ("extract", "clean"):
        assert f"{step}: reused (SUCCESS in run first)\n" in out
        assert f"{step}: started" not in out
    for step in ("train", "evaluate", "publish"):
        assert f"{step}: started\n" in out and re.search(rf"^{step}: SUCCESS in ", out, re.M)
    assert "run second: steps ran 3, reused 2, failed 0;" in out


def test_a_pod_prints_its_step_and_a_failure_tail(project):
    def pod(*args: str):
        return run_cli([*args, "-f", "examples/failing.yaml"], project)

    assert pod("start-run", "r").returncode == 0
    result = pod("execute-single-node", "r", "fails")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == "fails: started"
    assert "  | RuntimeError: this step fails on purpose" in result.stdout.splitlines()
    assert "  execution log: .catalog/r/" in result.stdout and ANSI not in result.stdout


SDK_SCRIPT = """\
from examples.common.functions import fail, make_chunks
from runnable import Pipeline, PythonTask

if __name__ == "__main__":
    run = Pipeline(steps=[PythonTask(name="make", function=make_chunks, returns=["chunks"])]).execute(run_id="sdk")
    print("RESULT", run.run_id, run.status, sorted(run.run_log().steps), run.run_log().parameters["chunks"].value)
    broken = Pipeline(steps=[PythonTask(name="boom", function=fail)]).execute(run_id="sdk-fail", quiet=True)
    print("RESULT", broken.run_id, broken.status, broken.run_log().steps["boom"].status)
"""


def test_the_sdk_returns_the_run_and_shows_progress(project):
    (project / "flow.py").write_text(SDK_SCRIPT)
    proc = subprocess.run([sys.executable, "flow.py"], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(project)})
    assert proc.returncode == 0, proc.stderr
    results = [line for line in proc.stdout.splitlines() if line.startswith("RESULT")]
    assert results == ["RESULT sdk SUCCESS ['make', 'success'] [1, 2, 3, 4, 5]",
                       "RESULT sdk-fail FAIL FAIL"]
    assert "make: started" in proc.stdout and "run sdk: steps ran 1, reused 0, failed 0;" in proc.stdout
    assert "boom" not in proc.stdout  # quiet=True
    assert "run sdk: SUCCESS" in proc.stderr and "run sdk-fail: FAIL" in proc.stderr
