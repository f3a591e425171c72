"""Pre-flight: `runnable validate`, and `runnable execute` before its first step, find every mistake that can be
known before a step runs, each in one line naming file, line, step and field; nothing runs when one is found."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import REPO, run_cli

INDEX = YAML(typ="safe").load((REPO / "examples" / "index.yaml").read_text())

FUNCTIONS = '''
from pathlib import Path


def start():
    Path("ran.marker").write_text("the first step ran")


def make(count: int = 3) -> list:
    return list(range(count))


def count_them() -> int:
    return 3


def total(squares: list, scale: int) -> int:
    return sum(squares) * scale


def square(item: int) -> int:
    return item * item


def needs(x):
    return x


def fails():
    raise RuntimeError("on purpose")


def anything(**kwargs):
    return len(kwargs)
'''

# every kind of mistake pre-flight finds, in one pipeline; the lines are those of the YAML below
MISTAKES = """\
dag:
  start_at: first
  steps:
    first:
      type: task
      command: functions.start
      next: typo
    typo:
      type: task
      command: functions.totl
      next: no module
    no module:
      type: task
      command: nowhere.function
      next: argument
    argument:
      type: task
      command: functions.total
      next: notebook
    notebook:
      type: task
      command_type: notebook
      command: notebooks/missing.ipynb
      next: script
    script:
      type: task
      command_type: shell
      command: bash scripts/missing.sh --fast
      catalog:
        put: ["data/**.csv"]
      next: fan
    fan:
      type: map
      iterate_on: itemz
      iterate_as: item
      reducer: functions.no_reducer
      next: child
      branch:
        start_at: inner
        steps:
          inner:
            type: task
            command: functions.needs
            next: success
    child:
      type: dag
      dag_definition: child.yaml
      next: success
"""

CHILD = """\
dag:
  start_at: c
  steps:
    c:
      type: task
      command: functions.needs
      next: success
"""

EXPECTED = [
    "pipeline.yaml:10: step 'typo': field 'command': module 'functions' has no function 'totl'",
    "pipeline.yaml:14: step 'no module': field 'command': cannot import module 'nowhere': No module named 'nowhere'",
    "pipeline.yaml:18: step 'argument': field 'command': function argument 'squares' has no parameter of that name "
    "and no default (parameters set before this step: none)",
    "pipeline.yaml:23: step 'notebook': field 'command': notebook 'notebooks/missing.ipynb' does not exist",
    "pipeline.yaml:30: step 'script': field 'catalog.put': 'data/**.csv': '**' must be a whole part of the path, "
    "as in 'data/**/*.csv'",
    "pipeline.yaml:28: step 'script': field 'command': script 'scripts/missing.sh' does not exist",
    "pipeline.yaml:34: step 'fan': field 'iterate_on': parameter 'itemz' is not set before this step: it is not an "
    "initial parameter, nor returned by a step on every route to this one",
    "pipeline.yaml:36: step 'fan': field 'reducer': reducer 'functions.no_reducer' cannot be imported: "
    "AttributeError: module 'functions' has no attribute 'no_reducer'",
    "pipeline.yaml:43: step 'fan.{item}.inner': field 'command': function argument 'x' has no parameter of that "
    "name and no default (parameters set before this step: item)",
    "child.yaml:6: step 'child.dag.c': field 'command': function argument 'x' has no parameter of that name and no "
    "default (parameters set before this step: none)",
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "functions.py").write_text(FUNCTIONS)
    return tmp_path


def write(project: Path, text: str, name: str = "pipeline.yaml") -> str:
    (project / name).write_text(textwrap.dedent(text).lstrip("\n"))
    return name


def shell_step(project: Path, command: str) -> None:
    """A pipeline of one shell step 't' running ``command`` (written as a block: line 7 is its first line)."""
    block = "".join(f"        {line}\n" for line in command.splitlines())
    write(project, f"dag:\n  start_at: t\n  steps:\n    t:\n      type: task\n      command_type: shell\n"
                   f"      command: |\n{block}      next: success\n")


def problems(result) -> list[str]:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.error_lines
    assert all(line.startswith("error: ") for line in lines), result.stderr
    count = len(lines) - 1
    assert lines[-1] == f"error: {count} problem{'s' if count != 1 else ''} found; nothing was run"
    return [line.removeprefix("error: ") for line in lines[:-1]]


def nothing_ran(project: Path) -> None:
    assert not (project / "ran.marker").exists(), "the first step ran"
    assert not (project / ".run_log_store").exists(), "a run was started"
    assert not (project / ".catalog").exists(), "a run was started"


# --- every mistake at once, by validate and by execute ---------------------------------------------------------
def test_validate_lists_every_problem_with_file_line_step_and_field(project):
    write(project, MISTAKES)
    write(project, CHILD, "child.yaml")
    assert problems(run_cli(["validate", "-f", "pipeline.yaml"], project)) == EXPECTED
    nothing_ran(project)


def test_execute_finds_the_same_problems_before_the_first_step_runs(project):
    write(project, MISTAKES)
    write(project, CHILD, "child.yaml")
    assert problems(run_cli(["execute", "-f", "pipeline.yaml", "--run-id", "r"], project)) == EXPECTED
    nothing_ran(project)


def test_a_typo_in_the_fifth_step_stops_the_run_before_the_first(project):
    steps = "\n".join(f"    s{i}: {{type: task, command: functions.{'start' if i != 5 else 'strat'}, next: "
                      f"{'s' + str(i + 1) if i < 6 else 'success'}}}" for i in range(1, 7))
    write(project, f"dag:\n  start_at: s1\n  steps:\n{steps}\n")
    assert problems(run_cli(["execute", "-f", "pipeline.yaml"], project)) == [
        "pipeline.yaml:8: step 's5': field 'command': module 'functions' has no function 'strat'"]
    nothing_ran(project)


def test_the_same_pipeline_without_the_mistakes_validates_and_runs(project):
    write(project, """
        dag:
          start_at: first
          steps:
            first: {type: task, command: functions.start, next: make}
            make: {type: task, command: functions.make, returns: [items], next: fan}
            fan:
              type: map
              iterate_on: items
              iterate_as: item
              next: total
              branch:
                start_at: inner
                steps:
                  inner: {type: task, command: functions.square, returns: [squares], next: success}
            total: {type: task, command: functions.total, next: success}
        """)
    params = project / "params.yaml"
    params.write_text("scale: 2\n")
    result = run_cli(["validate", "-f", "pipeline.yaml", "-p", "params.yaml"], project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok: pipeline.yaml: 5 steps checked (functions imported, arguments bound)"
    nothing_ran(project)
    run = run_cli(["execute", "-f", "pipeline.yaml", "-p", "params.yaml", "--run-id", "r"], project)
    assert run.returncode == 0, run.stderr
    assert (project / "ran.marker").exists()


@pytest.mark.parametrize("entry", INDEX, ids=[f"{i}-{e['pipeline'].split('/')[-1]}" for i, e in enumerate(INDEX)])
def test_every_example_validates(entry):
    args = ["validate", "-f", entry["pipeline"]]
    if entry.get("parameters"):
        args += ["-p", entry["parameters"]]
    if entry.get("config"):
        args += ["-c", entry["config"]]
    result = run_cli(args, REPO, env=entry.get("env"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"ok: {entry['pipeline']}: "), result.stdout


# --- which parameters a step can count on ----------------------------------------------------------------------
def test_initial_parameters_from_the_file_and_the_environment_bind(project):
    write(project, "dag:\n  start_at: t\n  steps:\n    t: {type: task, command: functions.total, next: success}\n")
    (project / "params.yaml").write_text("squares: [1, 2]\n")
    ok = run_cli(["validate", "-f", "pipeline.yaml", "-p", "params.yaml"], project, env={"RUNNABLE_PRM_scale": "3"})
    assert ok.returncode == 0, ok.stderr
    missing = run_cli(["validate", "-f", "pipeline.yaml", "-p", "params.yaml"], project)
    assert problems(missing) == ["pipeline.yaml:4: step 't': field 'command': function argument 'scale' has no "
                                 "parameter of that name and no default (parameters set before this step: squares)"]


def test_an_initial_value_that_does_not_fit_the_annotation(project):
    write(project, "dag:\n  start_at: t\n  steps:\n    t: {type: task, command: functions.make, next: success}\n")
    (project / "params.yaml").write_text("count: many\n")
    (line,) = problems(run_cli(["validate", "-f", "pipeline.yaml", "-p", "params.yaml"], project))
    assert line.startswith("pipeline.yaml:4: step 't': field 'command': parameter 'count' (str 'many') cannot be "
                           "converted to int: "), line


def test_a_failed_step_returns_nothing_to_its_on_failure_route(project):
    pipeline = """
        dag:
          start_at: a
          steps:
            a: {type: task, command: functions.make, returns: [x], next: b, on_failure: recover}
            recover: {type: task, command: functions.fails, %s next: b}
            b: {type: task, command: functions.needs, next: success}
        """
    write(project, pipeline % "")  # a failed: recover is reached without x, and so is b through it
    assert problems(run_cli(["validate", "-f", "pipeline.yaml"], project)) == [
        "pipeline.yaml:6: step 'b': field 'command': function argument 'x' has no parameter of that name and "
        "no default (parameters set before this step: none)"]
    write(project, pipeline % "returns: [x],")  # both routes to b now set x
    result = run_cli(["validate", "-f", "pipeline.yaml"], project)
    assert result.returncode == 0, result.stderr


def test_a_function_taking_keyword_arguments_binds_whatever_is_set(project):
    write(project, "dag:\n  start_at: t\n  steps:\n    t: {type: task, command: functions.anything, next: success}\n")
    assert run_cli(["validate", "-f", "pipeline.yaml"], project).returncode == 0


def test_a_module_that_raises_when_imported(project):
    (project / "broken.py").write_text("x = 1 / 0\n\ndef f():\n    pass\n")
    write(project, "dag:\n  start_at: t\n  steps:\n    t: {type: task, command: broken.f, next: success}\n")
    assert problems(run_cli(["validate", "-f", "pipeline.yaml"], project)) == [
        "pipeline.yaml:4: step 't': field 'command': cannot import module 'broken': ZeroDivisionError: division by zero"]


# --- iterate_on --------------------------------------------------------------------------------------------------
MAP = """
    dag:
      start_at: %s
      steps:
        make: {type: task, command: functions.%s, returns: [xs], next: m}
        m:
          type: map
          iterate_on: xs
          iterate_as: x
          next: success
          branch: {start_at: s, steps: {s: {type: stub, next: success}}}
    """


def test_iterate_on_an_initial_parameter_that_is_not_a_list(project):
    write(project, """
        dag:
          start_at: m
          steps:
            m:
              type: map
              iterate_on: xs
              iterate_as: x
              next: success
              branch: {start_at: s, steps: {s: {type: stub, next: success}}}
        """)
    result = run_cli(["validate", "-f", "pipeline.yaml"], project, env={"RUNNABLE_PRM_xs": '{"a": 1}'})
    assert problems(result) == ["pipeline.yaml:6: step 'm': field 'iterate_on': parameter 'xs' is not a list "
                                "(it is dict {'a': 1})"]
    listed = run_cli(["validate", "-f", "pipeline.yaml"], project, env={"RUNNABLE_PRM_xs": "[1, 2]"})
    assert listed.returncode == 0, listed.stderr
    run = run_cli(["execute", "-f", "pipeline.yaml"], project, env={"RUNNABLE_PRM_xs": '{"a": 1}'})
    assert problems(run) == problems(result)
    nothing_ran(project)


def test_iterate_on_a_return_declared_as_another_type(project):
    write(project, MAP % ("make", "count_them"))
    assert problems(run_cli(["validate", "-f", "pipeline.yaml"], project)) == [
        "pipeline.yaml:7: step 'm': field 'iterate_on': parameter 'xs' is not a list: every step that returns it "
        "says it returns another type"]
    write(project, MAP % ("make", "make"))
    assert run_cli(["validate", "-f", "pipeline.yaml"], project).returncode == 0


# --- shell commands and catalog patterns -----------------------------------------------------------------------
@pytest.mark.parametrize("command", [
    "echo hello; rm -rf data", 'test -f "$name.sh" || echo none', "python -m http.server --help > /dev/null || true",
    "cd sub && ./run.sh", "run.sh", "bash -c 'scripts/none.sh'", "ls scripts/*.sh", "./$SCRIPT", "/opt/tool/run.sh",
    "echo one\n./missing.sh", "bash ../outside.sh",
])
def test_shell_commands_that_do_not_plainly_name_a_project_script_are_left_alone(project, command):
    shell_step(project, command)
    result = run_cli(["validate", "-f", "pipeline.yaml"], project)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("command, script", [
    ("./run.sh", "./run.sh"), ("scripts/train.py --epochs 3", "scripts/train.py"), ("python3 train.py", "train.py"),
    ("FOO=1 bash scripts/go.sh", "scripts/go.sh"),
])
def test_a_missing_script_is_found(project, command, script):
    shell_step(project, command)
    assert problems(run_cli(["validate", "-f", "pipeline.yaml"], project)) == [
        f"pipeline.yaml:7: step 't': field 'command': script '{script}' does not exist"]
    path = project / script
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("echo hi\n")
    path.chmod(0o755)
    assert run_cli(["validate", "-f", "pipeline.yaml"], project).returncode == 0


def test_a_script_run_directly_must_be_executable(project):
    (project / "run.sh").write_text("echo hi\n")
    write(project, "dag:\n  start_at: t\n  steps:\n    t: {type: task, command_type: shell, command: ./run.sh, "
                   "next: success}\n")
    assert problems(run_cli(["validate", "-f", "pipeline.yaml"], project)) == [
        "pipeline.yaml:4: step 't': field 'command': script './run.sh' is not executable: chmod +x it, or run it "
        "with its interpreter (bash ./run.sh)"]


def test_a_script_the_step_gets_from_the_catalog_is_not_looked_for(project):
    write(project, "dag:\n  start_at: t\n  steps:\n    t: {type: task, command_type: shell, command: bash gen/x.sh, "
                   "catalog: {get: [gen]}, next: success}\n")
    assert run_cli(["validate", "-f", "pipeline.yaml"], project).returncode == 0


def test_catalog_patterns_that_cannot_name_files(project):
    write(project, """
        dag:
          start_at: t
          steps:
            t:
              type: task
              command: functions.start
              catalog:
                get:
                  - "."
                  - "~/data/x.csv"
                put: [data/*.csv, "reports/**.html"]
              next: success
        """)
    assert problems(run_cli(["validate", "-f", "pipeline.yaml"], project)) == [
        "pipeline.yaml:9: step 't': field 'catalog.get': '.' names no file: write a file, a folder or a glob under "
        "the project (data/*.csv)",
        "pipeline.yaml:10: step 't': field 'catalog.get': '~/data/x.csv': '~' is not expanded: catalog paths are "
        "relative to the project",
        "pipeline.yaml:11: step 't': field 'catalog.put': 'reports/**.html': '**' must be a whole part of the "
        "path, as in 'data/**/*.csv'"]


# --- --no-import and the argo executor -------------------------------------------------------------------------
def test_no_import_leaves_python_code_alone(project):
    write(project, "dag:\n  start_at: t\n  steps:\n    t: {type: task, command: trainer.models.fit, next: success}\n")
    assert problems(run_cli(["validate", "-f", "pipeline.yaml"], project)) == [
        "pipeline.yaml:4: step 't': field 'command': cannot import module 'trainer.models': No module named "
        "'trainer'"]
    result = run_cli(["validate", "-f", "pipeline.yaml", "--no-import"], project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok: pipeline.yaml: 1 step checked (functions not imported (--no-import))"


ARGO = """\
pipeline-executor:
  type: argo
  config:
    image: registry.example.com/project:1
    output_file: argo-pipeline.yaml
    persistent_volumes: [{name: shared, mount_path: /mnt}]
run-log-store: {type: file-system, config: {log_folder: /mnt/run_log_store}}
catalog: {type: file-system, config: {catalog_location: /mnt/catalog}}
"""


def test_argo_execute_refuses_a_function_that_does_not_import_unless_told_not_to_import(project):
    """CI machines that write the manifest may lack the pipeline's environment: --no-import is for them."""
    write(project, """
        dag:
          start_at: prepare
          steps:
            prepare: {type: task, command: functions.make, returns: [items], next: train}
            train: {type: task, command: trainer.models.fit, next: success}
        """)
    (project / "argo.yaml").write_text(ARGO)
    refused = run_cli(["execute", "-f", "pipeline.yaml", "-c", "argo.yaml"], project)
    assert problems(refused) == ["pipeline.yaml:5: step 'train': field 'command': cannot import module "
                                 "'trainer.models': No module named 'trainer'"]
    assert not (project / "argo-pipeline.yaml").exists()
    written = run_cli(["execute", "-f", "pipeline.yaml", "-c", "argo.yaml", "--no-import"], project)
    assert written.returncode == 0, written.stderr
    assert "execute-single-node" in (project / "argo-pipeline.yaml").read_text()  # the pods run the steps


def test_argo_execute_still_checks_files_with_no_import(project):
    write(project, "dag:\n  start_at: n\n  steps:\n    n: {type: task, command_type: notebook, command: "
                   "nb/missing.ipynb, next: success}\n")
    (project / "argo.yaml").write_text(ARGO)
    assert problems(run_cli(["execute", "-f", "pipeline.yaml", "-c", "argo.yaml", "--no-import"], project)) == [
        "pipeline.yaml:4: step 'n': field 'command': notebook 'nb/missing.ipynb' does not exist"]
    assert not (project / "argo-pipeline.yaml").exists()


def test_a_callable_without_a_signature_is_imported_and_not_bound(project):
    """A builtin such as dict has no signature to bind: pre-flight checks that it imports, and no more."""
    write(project, "dag:\n  start_at: t\n  steps:\n    t: {type: task, command: builtins.dict, next: success}\n")
    result = run_cli(["validate", "-f", "pipeline.yaml"], project)
    assert result.returncode == 0, result.stderr


# --- what the executor would refuse, found by validate too ------------------------------------------------------
ARGO_SHARED = """
pipeline-executor:
  type: argo
  config:
    image: x:1
    persistent_volumes: [{name: shared, mount_path: /mnt}]
run-log-store: {type: file-system, config: {log_folder: /mnt/run_logs}}
catalog: {type: file-system, config: {catalog_location: /mnt/catalog}}
"""


@pytest.mark.parametrize("config,executor_field,expected", [
    (None, "local", "pipeline.yaml:5: step 'b': field 'overrides.local': names no override of the local "
                    "configuration ('nosuch'); defined: none"),
    (ARGO_SHARED, "argo", "pipeline.yaml:5: step 'b': field 'overrides.argo': names no override of the argo "
                          "configuration ('nosuch'); defined: none"),
    (ARGO_SHARED.replace("/mnt/run_logs", "run_logs"), "argo",
     "config.yaml: field 'run-log-store.config.log_folder': 'run_logs' is not on a persistent volume every pod "
     "mounts (/mnt): pods would not share it"),
])
@pytest.mark.parametrize("command", ["validate", "execute"])
def test_validate_refuses_what_the_executor_would(project, config, executor_field, expected, command):
    """`runnable validate -c` says what `execute -c` would refuse before its first step: an override the
    configuration does not define, a store the pods could not share."""
    write(project, f"""
        dag:
          start_at: a
          steps:
            a: {{type: task, command: functions.start, next: b}}
            b: {{type: stub, overrides: {{{executor_field}: nosuch}}, next: success}}
        """)
    args = [command, "-f", "pipeline.yaml"]
    if config:
        (project / "config.yaml").write_text(config)
        args += ["-c", "config.yaml"]
    result = run_cli(args, project)
    assert result.returncode == 2 and result.error_lines == [f"error: {expected}"], result.stderr
    nothing_ran(project)
