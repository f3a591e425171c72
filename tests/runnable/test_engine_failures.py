"""Whatever stops the engine mid-run leaves the run log FAIL, and the step it stopped FAIL with the reason in
one line; a mistake in a step's definition found at run time (a reducer) is told as one line naming the
file, step and field, as every other mistake is."""

from __future__ import annotations

import json
import textwrap

import pytest

from conftest import read_run_log, run_cli
from test_user_errors import check_one_line

FUNCTIONS = '''
import os


def make():
    return [1, 2, 3]


def double(x):
    return 2 * x


def refuse(values):
    raise ValueError("cannot reduce " + str(values))


def crash():
    os._exit(9)  # the process dies without a word, as a crashing native library would take it


def fine():
    return 1
'''


def map_pipeline(reducer: str) -> str:
    return textwrap.dedent(f"""
        dag:
          start_at: make
          steps:
            make: {{type: task, command: functions.make, returns: [xs], next: m}}
            m:
              type: map
              iterate_on: xs
              iterate_as: x
              reducer: {reducer}
              next: success
              branch:
                start_at: d
                steps:
                  d: {{type: task, command: functions.double, returns: [doubled], next: success}}
        """)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "functions.py").write_text(FUNCTIONS)
    return tmp_path


def assert_map_failed(project, run_id: str, reason: str) -> None:
    log = read_run_log(project, run_id)
    assert log["status"] == "FAIL"
    step = log["steps"]["m"]
    assert step["status"] == "FAIL" and reason in step["message"] and "\n" not in step["message"], step["message"]
    assert [b["status"] for b in step["branches"].values()] == ["SUCCESS"] * 3  # the iterations did run
    assert "doubled" not in log["parameters"]


@pytest.mark.parametrize("reducer, reason", [
    ("no_such_module.reduce", "reducer 'no_such_module.reduce' cannot be imported: ModuleNotFoundError"),
    ("functions.no_such_function", "reducer 'functions.no_such_function' cannot be imported: AttributeError"),
    ("functions.refuse", "reducer 'functions.refuse' failed on 'doubled': ValueError: cannot reduce [2, 4, 6]"),
])
def test_a_reducer_that_cannot_reduce_fails_the_map_and_the_run(project, reducer, reason):
    """At run time: pre-flight, which refuses a reducer that does not import before the run, is told not to import."""
    (project / "pipeline.yaml").write_text(map_pipeline(reducer))
    result = run_cli(["execute", "-f", "pipeline.yaml", "--run-id", "r", "--no-import"], project)
    check_one_line(result, ["pipeline.yaml", "step 'm'", "field 'reducer'", reason])
    assert_map_failed(project, "r", reason)


def test_a_reducer_that_cannot_be_imported_fails_the_run_in_pods(project):
    """What Argo's pods do, command by command: the fan-in pod fails, and the run is recorded FAIL there."""
    (project / "pipeline.yaml").write_text(map_pipeline("no_such_module.reduce"))

    def pod(*args: str):
        return run_cli([*args, "-f", "pipeline.yaml"], project)

    assert pod("start-run", "r").returncode == 0
    assert pod("execute-single-node", "r", "make").returncode == 0
    assert pod("fan", "r", "m", "--mode", "out", "--iterations-file", "iterations.json").returncode == 0
    for map_variable in json.loads((project / "iterations.json").read_text()):
        assert pod("execute-single-node", "r", "m.{x}.d", "--map-variable", map_variable).returncode == 0
    result = pod("fan", "r", "m", "--mode", "in")
    check_one_line(result, ["pipeline.yaml", "step 'm'", "field 'reducer'", "cannot be imported"])
    assert_map_failed(project, "r", "cannot be imported: ModuleNotFoundError")
    assert read_run_log(project, "r")["steps"]["fail"]["status"] == "SUCCESS"  # the failure was followed


def test_a_branch_process_that_dies_fails_the_step_and_the_run(project):
    (project / "parallel.yaml").write_text("pipeline-executor:\n  type: local\n  config: {enable_parallel: true}\n")
    (project / "pipeline.yaml").write_text(textwrap.dedent("""
        dag:
          start_at: p
          steps:
            p:
              type: parallel
              next: success
              branches:
                ok: {start_at: a, steps: {a: {type: task, command: functions.fine, next: success}}}
                dies: {start_at: b, steps: {b: {type: task, command: functions.crash, next: success}}}
        """))
    result = run_cli(["execute", "-f", "pipeline.yaml", "-c", "parallel.yaml", "--run-id", "r"], project)
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    assert len(result.error_lines) == 1 and result.error_lines[0].startswith("internal error: BrokenProcessPool")
    log = read_run_log(project, "r")
    assert log["status"] == "FAIL"
    step = log["steps"]["p"]
    assert step["status"] == "FAIL" and step["message"].startswith("BrokenProcessPool: "), step["message"]
