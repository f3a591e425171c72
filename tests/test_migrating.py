"""Pipelines and configurations written as runnable 0.11 and 0.50 users write them (docs/migrating.md), run
through the real CLI: they run unchanged, or fail with one line saying what to write instead."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import read_run_log, run_cli

SHELL_STEP = """
      type: task
      command_type: shell
      command: {command}
"""


def _write(project: Path, name: str, text: str) -> str:
    (project / name).write_text(text)
    return name


def _one_line_error(result) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def _run(project: Path, *args: str, env: dict | None = None):
    return run_cli(list(args), project, env)


def _status(project: Path, run_id: str) -> str:
    return read_run_log(project, run_id)["status"]


# --- 1. anchors beside dag (0.50 examples/06-parallel, 07-map) ------------------------------------------

PARALLEL_050 = """
branch: &branch
  start_at: hello
  steps:
    hello:
      type: task
      command_type: shell
      command: echo hello
      next: success
    success:
      type: success
    fail:
      type: fail

nested_branch: &nested_branch
  start_at: inner
  steps:
    inner:
      type: parallel
      branches:
        left: *branch
        right: *branch
      next: success
    success:
      type: success
    fail:
      type: fail

dag:
  start_at: outer
  steps:
    outer:
      type: parallel
      branches:
        one: *nested_branch
        two: *branch
      next: success
    success:
      type: success
    fail:
      type: fail
"""


def test_anchors_in_keys_beside_dag_run(tmp_path):
    _write(tmp_path, "parallel.yaml", PARALLEL_050)
    result = _run(tmp_path, "execute", "-f", "parallel.yaml", "--run-id", "anchors")
    assert result.returncode == 0, result.stderr
    run_log = read_run_log(tmp_path, "anchors")
    assert run_log["status"] == "SUCCESS"
    assert set(run_log["steps"]["outer"]["branches"]) == {"outer.one", "outer.two"}


def test_a_misspelled_dag_or_an_unused_key_beside_it_is_one_line(tmp_path):
    _write(tmp_path, "typo.yaml", PARALLEL_050.replace("\ndag:", "\ndga:"))
    assert "must have a 'dag' at its top" in _one_line_error(_run(tmp_path, "execute", "typo.yaml"))
    _write(tmp_path, "extra.yaml", PARALLEL_050 + "dga:\n  start_at: x\n")
    line = _one_line_error(_run(tmp_path, "execute", "extra.yaml"))
    assert "extra.yaml:" in line and "field 'dga'" in line and "anchors" in line


# --- 2. objects in notebooks (0.50 03-parameters/passing_parameters_notebook, 0.11 notebook_native_parameters)

def _notebook(path: Path, *cells: tuple[str, list[str]]) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source, metadata={"tags": tags}) for source, tags in cells]
    nbformat.write(nb, str(path))


FUNCTIONS = '''
class Frame:
    """An object whose repr is several lines, like a DataFrame's."""
    def __init__(self, rows):
        self.rows = rows
    def __repr__(self):
        return "   a\\n0  1\\n1  2"

def make(x: int):
    return Frame([x, x + 1]), x

def read_point(point) -> int:
    return point.x + point.y

def fails(x: int, label: str):
    raise ValueError(f"cannot use {x}")
'''

NOTEBOOK_PIPELINE = """
dag:
  start_at: make
  steps:
    make:
      type: task
      command: functions.make
      catalog: {put: [functions.py], store_copy: false}
      returns: [{name: frame, kind: object}, x]
      next: notebook
    notebook:
      type: task
      command_type: notebook
      command: notebook.ipynb
      returns: [squared, {name: point, kind: object}]
      next: read
    read:
      type: task
      command: functions.read_point
      returns: [total]
      next: success
    success:
      type: success
    fail:
      type: fail
"""


def test_object_parameters_are_not_injected_and_notebook_classes_are_stored(tmp_path):
    _write(tmp_path, "functions.py", FUNCTIONS)
    _notebook(tmp_path / "notebook.ipynb", ("x = 0\nframe = None", ["parameters"]),
              ("squared = x * x\nassert frame is None\nopen('ran.txt', 'a').write('ran ')", []),
              ("class Point:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\npoint = Point(squared, 1)", []))
    _write(tmp_path, "pipeline.yaml", NOTEBOOK_PIPELINE)
    (tmp_path / "params.yaml").write_text("x: 3\n")
    result = _run(tmp_path, "execute", "pipeline.yaml", "-p", "params.yaml", "--run-id", "nb")
    assert result.returncode == 0, result.stderr
    run_log = read_run_log(tmp_path, "nb")
    assert run_log["parameters"]["squared"]["value"] == 9
    assert run_log["parameters"]["total"]["value"] == 10  # the notebook's Point, unpickled by the next step
    assert (tmp_path / "ran.txt").read_text() == "ran "  # the notebook ran once
    assert ("functions.py", "put") in {(c["name"], c["stage"]) for c in run_log["steps"]["make"]["data_catalog"]}
    logs = list((tmp_path / ".catalog" / "nb").rglob("notebook*.execution.log"))
    assert logs and "object parameters not injected into the notebook: frame" in logs[0].read_text()


# --- 3. runnable 0.11's configuration names --------------------------------------------------------------

HELLO = "dag:\n  start_at: hello\n  steps:\n    hello:" + SHELL_STEP.format(command="echo hi") + \
        "      next: success\n    success:\n      type: success\n    fail:\n      type: fail\n"


def test_configuration_names_of_011(tmp_path):
    _write(tmp_path, "hello.yaml", HELLO)
    _write(tmp_path, "config.yaml", "secrets:\n  type: env-secrets-manager\nexperiment_tracker:\n  type: do-nothing\n")
    result = _run(tmp_path, "execute", "-f", "hello.yaml", "-c", "config.yaml", "--run-id", "names")
    assert result.returncode == 0, result.stderr
    assert _status(tmp_path, "names") == "SUCCESS"

    _write(tmp_path, "mlflow.yaml", "experiment_tracker:\n  type: mlflow\n")
    line = _one_line_error(_run(tmp_path, "execute", "-f", "hello.yaml", "-c", "mlflow.yaml"))
    assert "mlflow.yaml:1" in line and "'mlflow'" in line and "do-nothing" in line

    _write(tmp_path, "mocked.yaml", "executor:\n  type: mocked\n")
    line = _one_line_error(_run(tmp_path, "execute", "-f", "hello.yaml", "-c", "mocked.yaml"))
    assert "mocked.yaml:2" in line and "'mocked'" in line and "type: stub" in line


ARGO = """
pipeline-executor:
  type: argo
  config:
    image: registry.example/project:1
    output_file: manifest.yaml
    persistent_volumes: [{{name: runnable-volume, mount_path: /mnt}}]
{extra}
run-log-store:
  type: file-system
  config: {{log_folder: /mnt/run_log_store}}
catalog:
  type: file-system
  config: {{catalog_location: /mnt/catalog}}
"""


@pytest.mark.parametrize("backoff, expected", [
    ("", {"duration": "120", "factor": "2", "maxDuration": "3600"}),
    ("{duration: ~, factor: 3, max_duration: ~}", {"duration": "120", "factor": "3", "maxDuration": "3600"}),
])
def test_a_null_backoff_takes_the_default(tmp_path, backoff, expected):
    _write(tmp_path, "hello.yaml", HELLO)
    extra = f"    retry_strategy:\n      limit: 2\n      backoff: {backoff}\n"
    _write(tmp_path, "argo.yaml", ARGO.format(extra=extra))
    result = _run(tmp_path, "execute", "-f", "hello.yaml", "-c", "argo.yaml")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load((tmp_path / "manifest.yaml").read_text())
    backoffs = [t["retryStrategy"]["backoff"] for t in manifest["spec"]["templates"] if "retryStrategy" in t]
    assert backoffs and all(b == expected for b in backoffs)


# --- 4. runnable 0.50's argo layout ---------------------------------------------------------------------

@pytest.mark.parametrize("field, written, says", [
    ("defaults", "    defaults:\n      image: registry.example/project:1\n", "directly under config"),
    ("argoWorkflow", "    argoWorkflow:\n      metadata:\n        generateName: job-\n", "service_account_name"),
    ("pvc_for_runnable", "    pvc_for_runnable: runnable\n", "persistent_volumes"),
    ("cronSchedule", "    cronSchedule:\n      schedules: ['0 3 * * *']\n", "cron: {schedule"),
])
def test_the_050_argo_layout_is_refused_field_by_field(tmp_path, field, written, says):
    _write(tmp_path, "hello.yaml", HELLO)
    _write(tmp_path, "argo.yaml", ARGO.format(extra=written))
    line = _one_line_error(_run(tmp_path, "execute", "-f", "hello.yaml", "-c", "argo.yaml"))
    assert "argo.yaml:8" in line and f"field 'pipeline-executor.config.{field}'" in line and says in line
    assert "is runnable 0.50's layout" in line
    assert not (tmp_path / "manifest.yaml").exists()


# --- 5. map reducers ------------------------------------------------------------------------------------

MAP = """
dag:
  start_at: fan
  steps:
    fan:
      type: map
      iterate_on: items
      iterate_as: item
      reducer: {reducer}
      next: success
      branch:
        start_at: each
        steps:
          each:
            type: task
            command_type: shell
            command: export value=$item
            returns: [value]
            next: success
          success:
            type: success
          fail:
            type: fail
    success:
      type: success
    fail:
      type: fail
"""


@pytest.mark.parametrize("reducer, expected", [("max", 7), ("min", 2), ("sum", 14), ("first", 5), ("last", 7)])
def test_shipped_reducers(tmp_path, reducer, expected):
    _write(tmp_path, "map.yaml", MAP.format(reducer=reducer))
    (tmp_path / "params.yaml").write_text("items: [5, 2, 7]\n")
    result = _run(tmp_path, "execute", "map.yaml", "-p", "params.yaml", "--run-id", "reduced")
    assert result.returncode == 0, result.stderr
    assert read_run_log(tmp_path, "reduced")["parameters"]["value"]["value"] == expected


def test_concat_reducer_and_lambda_refused(tmp_path):
    _write(tmp_path, "map.yaml", MAP.format(reducer="concat").replace("$item", "[$item]"))
    (tmp_path / "params.yaml").write_text("items: [5, 2, 7]\n")
    result = _run(tmp_path, "execute", "map.yaml", "-p", "params.yaml", "--run-id", "concat")
    assert result.returncode == 0, result.stderr
    assert read_run_log(tmp_path, "concat")["parameters"]["value"]["value"] == [5, 2, 7]

    _write(tmp_path, "lambda.yaml", MAP.format(reducer='"lambda *x: max(x)"'))
    line = _one_line_error(_run(tmp_path, "execute", "lambda.yaml", "-p", "params.yaml"))
    assert "lambda.yaml:9" in line and "step 'fan'" in line and "field 'reducer'" in line
    assert "lambda *x: max(x)" in line and "module.function" in line and "max, min, sum, first, last, concat" in line


# --- 6. a failed attempt records its parameters ---------------------------------------------------------

FAILING = """
dag:
  start_at: fails
  steps:
    fails:
      type: task
      command: functions.fails
      next: success
    success:
      type: success
    fail:
      type: fail
"""


def test_a_failed_attempt_records_the_parameters_it_was_given(tmp_path):
    _write(tmp_path, "functions.py", FUNCTIONS)
    _write(tmp_path, "failing.yaml", FAILING)
    (tmp_path / "params.yaml").write_text("x: 4\nlabel: four\nunused: 1\n")
    result = _run(tmp_path, "execute", "failing.yaml", "-p", "params.yaml", "--run-id", "failed")
    assert result.returncode == 1
    attempt = read_run_log(tmp_path, "failed")["steps"]["fails"]["attempts"][0]
    assert attempt["status"] == "FAIL" and "cannot use 4" in attempt["message"]
    assert {k: v["value"] for k, v in attempt["input_parameters"].items()} == {"x": 4, "label": "four"}


# --- 7. the CLI forms -----------------------------------------------------------------------------------

def test_cli_forms_of_050_and_011(tmp_path):
    _write(tmp_path, "flaky.yaml", "dag:\n  start_at: flaky\n  steps:\n    flaky:"
           + SHELL_STEP.format(command="test -f ok") + "      next: success\n"
           "    success:\n      type: success\n    fail:\n      type: fail\n")
    first = _run(tmp_path, "execute", "flaky.yaml", "--run-id", "first")  # 0.50: the pipeline as the argument
    assert first.returncode == 1 and _status(tmp_path, "first") == "FAIL"
    (tmp_path / "ok").write_text("")
    again = _run(tmp_path, "execute", "-f", "flaky.yaml", "--use-cached", "first", "--run-id", "again")  # 0.11
    assert again.returncode == 0, again.stderr
    run_log = read_run_log(tmp_path, "again")
    assert run_log["status"] == "SUCCESS" and run_log["original_run_id"] == "first"

    line = _one_line_error(_run(tmp_path, "execute", "flaky.yaml", "-f", "other.yaml"))
    assert "two pipelines given" in line
    line = _one_line_error(_run(tmp_path, "execute"))
    assert "'-f'" in line
