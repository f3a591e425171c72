"""A step's pod (``execute-single-node``, ``fan``, ``execute-batch``) runs the pipeline its run started with.

The run log records the pipeline when the run starts; a pod whose pipeline files are unchanged takes it from
there and builds only the steps it uses (the run checked the whole); a pod whose pipeline changed since is
refused with one line, and one whose text changed but not its steps (a comment) runs.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from conftest import read_run_log, run_cli, shape
from test_user_errors import check_one_line

FUNCTIONS = """
def one():
    return 1


def double(x):
    return 2 * x


def items():
    return [1, 2, 3]
"""

PIPELINE = """
dag:
  start_at: a
  steps:
    a: {type: task, command: functions.one, returns: [x], next: b}
    b: {type: task, command: functions.double, returns: [x], next: success}
"""

NESTED = """
dag:
  start_at: make
  steps:
    make: {type: task, command: functions.items, returns: [xs], next: inner}
    inner:
      type: dag
      dag_definition: inner.yaml
      next: success
"""

INNER = """
dag:
  start_at: fan
  steps:
    fan:
      type: map
      iterate_on: xs
      iterate_as: x
      next: success
      branch:
        start_at: twice
        steps:
          twice: {type: task, command: functions.double, returns: [y], next: success}
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "functions.py").write_text(FUNCTIONS)
    (tmp_path / "config.yaml").write_text("run-log-store: {type: chunked-fs}\n")  # as pods share it
    return tmp_path


def pod(project, *args: str):
    return run_cli([*args, "-f", "pipeline.yaml", "-c", "config.yaml"], project)


def write(project, name: str, text: str) -> None:
    (project / name).write_text(textwrap.dedent(text))


def test_a_pod_refuses_a_pipeline_that_changed_since_its_run_started(project):
    write(project, "pipeline.yaml", PIPELINE)
    assert pod(project, "start-run", "r").returncode == 0
    assert pod(project, "execute-single-node", "r", "a").returncode == 0
    write(project, "pipeline.yaml", PIPELINE.replace("functions.double", "functions.one"))
    result = pod(project, "execute-single-node", "r", "b")
    check_one_line(result, ["pipeline.yaml", "the pipeline changed since run 'r' started", "step 'b' changed",
                            "start a new run"])
    assert "b" not in read_run_log(project, "r")["steps"]  # the step did not run


def test_a_pod_runs_a_pipeline_whose_text_changed_but_not_its_steps(project):
    write(project, "pipeline.yaml", PIPELINE)
    assert pod(project, "start-run", "r").returncode == 0
    (project / "pipeline.yaml").write_text("# a comment and a blank line change no step\n\n"
                                           + (project / "pipeline.yaml").read_text())
    for step in ("a", "b"):
        result = pod(project, "execute-single-node", "r", step)
        assert result.returncode == 0, result.stderr
    log = read_run_log(project, "r")
    assert log["status"] == "SUCCESS" and log["parameters"]["x"]["value"] == 2


def test_a_pod_refuses_a_step_its_pipeline_does_not_have(project):
    write(project, "pipeline.yaml", NESTED)
    write(project, "inner.yaml", INNER)
    assert pod(project, "start-run", "r").returncode == 0
    for step in ("nope", "inner.dag.nope", "inner.dag.fan.0.nope", "make.dag.fan"):
        check_one_line(pod(project, "execute-single-node", "r", step), [f"step '{step}'", "no step"])


def run_nested_by_pods(project) -> list:
    """The nested pipeline, command by command as Argo's pods run it; each command's result."""
    results = [pod(project, "start-run", "r"), pod(project, "execute-single-node", "r", "make"),
               pod(project, "fan", "r", "inner", "--mode", "out"),
               pod(project, "fan", "r", "inner.dag.fan", "--mode", "out", "--iterations-file", "its.json")]
    for mv in json.loads((project / "its.json").read_text()):
        results.append(pod(project, "execute-single-node", "r", "inner.dag.fan.{x}.twice", "--map-variable", mv))
    results += [pod(project, "fan", "r", "inner.dag.fan", "--mode", "in"), pod(project, "fan", "r", "inner", "--mode", "in")]
    return results


def test_pods_of_a_nested_pipeline_leave_the_run_log_a_local_run_leaves(project):
    write(project, "pipeline.yaml", NESTED)
    write(project, "inner.yaml", INNER)
    assert all(r.returncode == 0 for r in run_nested_by_pods(project))
    assert run_cli(["execute", "-f", "pipeline.yaml", "-c", "config.yaml", "--run-id", "local"], project).returncode == 0
    pods, local = read_run_log(project, "r"), read_run_log(project, "local")
    assert pods["status"] == local["status"] == "SUCCESS"
    assert pods["parameters"] == local["parameters"] and pods["parameters"]["y"]["value"] == [2, 4, 6]
    assert [file for file, _ in pods["run_config"]["pipeline_sources"]] == ["pipeline.yaml", "inner.yaml"]
    assert shape(pods) == shape(local)


def test_a_pod_refuses_a_nested_pipeline_file_that_changed(project):
    write(project, "pipeline.yaml", NESTED)
    write(project, "inner.yaml", INNER)
    assert pod(project, "start-run", "r").returncode == 0
    assert pod(project, "execute-single-node", "r", "make").returncode == 0
    write(project, "inner.yaml", INNER.replace("returns: [y]", "returns: [z]"))
    check_one_line(pod(project, "fan", "r", "inner", "--mode", "out"),
                   ["pipeline.yaml", "the pipeline changed since run 'r' started", "nested pipeline file"])


def test_a_pipeline_the_run_log_cannot_keep_exactly_is_read_again_by_its_pods(project):
    """A value JSON does not keep as YAML reads it (a key that is a number): pods read the file itself, and still
    refuse a change."""
    write(project, "pipeline.yaml", PIPELINE.replace("dag:\n", "dag:\n  description: {2024: first}\n"))
    assert pod(project, "start-run", "r").returncode == 0
    assert read_run_log(project, "r")["run_config"]["pipeline_sources"] is None
    assert pod(project, "execute-single-node", "r", "a").returncode == 0
    write(project, "pipeline.yaml", PIPELINE.replace("dag:\n", "dag:\n  description: {2025: first}\n"))
    check_one_line(pod(project, "execute-single-node", "r", "b"),
                   ["pipeline.yaml", "the pipeline changed since run 'r' started"])
