"""Every mistake a user can make in a pipeline, configuration, parameter file or command line is one line
on stderr naming the file, the step and the field, with a non-zero exit and no traceback."""

from __future__ import annotations

import textwrap

import pytest

from conftest import run_cli

TASK = "examples.common.functions.hello"

# name, pipeline text, what the single error line must contain (besides the file name)
PIPELINE_ERRORS = [
    ("unknown key", f"""
        dag:
          start_at: a
          steps:
            a: {{type: task, command: {TASK}, nxt: success}}
        """, ["pipeline.yaml:4", "step 'a'", "field 'nxt'", "unknown field"]),
    ("unknown step type", """
        dag:
          start_at: a
          steps:
            a: {type: tsk, next: success}
        """, ["pipeline.yaml:4", "step 'a'", "field 'type'", "unknown step type 'tsk'", "parallel"]),
    ("unknown command type", f"""
        dag:
          start_at: a
          steps:
            a:
              type: task
              command_type: pyhton
              command: {TASK}
              next: success
        """, ["pipeline.yaml:6", "step 'a'", "field 'command_type'", "unknown command_type 'pyhton'"]),
    ("next names no step", """
        dag:
          start_at: a
          steps:
            a: {type: stub, next: b}
        """, ["pipeline.yaml:4", "step 'a'", "field 'next'", "names no step ('b')"]),
    ("on_failure names no step", """
        dag:
          start_at: a
          steps:
            a: {type: stub, next: success, on_failure: rescue}
        """, ["step 'a'", "field 'on_failure'", "names no step ('rescue')"]),
    ("missing next", """
        dag:
          start_at: a
          steps:
            a: {type: stub}
        """, ["step 'a'", "field 'next'", "is required"]),
    ("start_at names no step", """
        dag:
          start_at: first
          steps:
            a: {type: stub, next: success}
        """, ["pipeline.yaml:2", "field 'start_at'", "names no step ('first')"]),
    ("unreachable step", """
        dag:
          start_at: a
          steps:
            a: {type: stub, next: success}
            orphan: {type: stub, next: success}
        """, ["pipeline.yaml:5", "step 'orphan'", "cannot be reached"]),
    ("cycle", """
        dag:
          start_at: a
          steps:
            a: {type: stub, next: b}
            b: {type: stub, next: c}
            c: {type: stub, next: a}
        """, ["field 'next'", "cycle", "a -> b -> c -> a"]),
    ("duplicate names after conversion", """
        dag:
          start_at: "caf\\u00e9"
          steps:
            "caf\\u00e9": {type: stub, next: "cafe\\u0301"}
            "cafe\\u0301": {type: stub, next: success}
        """, ["duplicate step name", "unicode normal form"]),
    ("duplicate YAML key", """
        dag:
          start_at: a
          steps:
            a: {type: stub, next: success}
            a: {type: stub, next: success}
        """, ["pipeline.yaml:5", "duplicate key"]),
    ("error inside a branch", f"""
        dag:
          start_at: p
          steps:
            p:
              type: parallel
              next: success
              branches:
                one:
                  start_at: x
                  steps:
                    x: {{type: task, command: {TASK}, next: nowhere}}
        """, ["pipeline.yaml:11", "step 'x'", "field 'next'", "names no step ('nowhere')"]),
    ("bad returns", f"""
        dag:
          start_at: a
          steps:
            a: {{type: task, command: {TASK}, returns: [1x], next: success}}
        """, ["step 'a'", "field 'returns'", "not a valid parameter name"]),
    ("bad dotted path", """
        dag:
          start_at: a
          steps:
            a: {type: task, command: "not a path", next: success}
        """, ["step 'a'", "field 'command'", "not a dotted path"]),
    ("map without branch", """
        dag:
          start_at: m
          steps:
            m: {type: map, iterate_on: xs, iterate_as: x, next: success}
        """, ["step 'm'", "field 'branch'", "is required"]),
    ("catalog outside the project", f"""
        dag:
          start_at: a
          steps:
            a: {{type: task, command: {TASK}, catalog: {{put: [../secret.txt]}}, next: success}}
        """, ["step 'a'", "field 'catalog.put'", "may not contain '..'"]),
    ("dag_definition outside the project", """
        dag:
          start_at: d
          steps:
            d: {type: dag, dag_definition: ../../etc/pipeline.yaml, next: success}
        """, ["step 'd'", "field 'dag_definition'", "outside the project directory"]),
    ("not valid YAML", """
        dag:
          start_at: a
          steps: [unclosed
        """, ["pipeline.yaml", "not valid YAML"]),
]


def check_one_line(result, must_contain):
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(result.error_lines) == 1, result.stderr
    line = result.error_lines[0]
    for part in must_contain:
        assert part in line, f"{part!r} not in {line!r}"
    return line


@pytest.mark.parametrize("name,text,must_contain", PIPELINE_ERRORS, ids=[e[0] for e in PIPELINE_ERRORS])
def test_pipeline_error_is_one_line(tmp_path, name, text, must_contain):
    (tmp_path / "pipeline.yaml").write_text(textwrap.dedent(text).lstrip("\n"))
    result = run_cli(["execute", "-f", "pipeline.yaml"], tmp_path)
    check_one_line(result, ["pipeline.yaml", *must_contain])
    assert not (tmp_path / ".run_log_store").exists(), "nothing runs before the pipeline is valid"


def test_map_over_a_non_list_at_run_time(tmp_path):
    """A value only known at run time (a shell step's export; an initial value is refused by pre-flight)."""
    (tmp_path / "pipeline.yaml").write_text(textwrap.dedent("""
        dag:
          start_at: make
          steps:
            make: {type: task, command_type: shell, command: "export xs='{\\"a\\": 1}'", returns: [xs], next: m}
            m:
              type: map
              iterate_on: xs
              iterate_as: x
              next: success
              branch:
                start_at: s
                steps:
                  s: {type: stub, next: success}
        """))
    result = run_cli(["execute", "-f", "pipeline.yaml", "--run-id", "r"], tmp_path)
    check_one_line(result, ["pipeline.yaml", "step 'm'", "field 'iterate_on'", "is not a list at run time (it is dict)"])
    import json

    log = json.loads((tmp_path / ".run_log_store" / "r.json").read_text())
    assert log["status"] == "FAIL" and log["steps"]["m"]["status"] == "FAIL"


def test_nested_dag_error_names_the_nested_file(tmp_path):
    (tmp_path / "child.yaml").write_text("dag:\n  start_at: c\n  steps:\n    c: {type: stub, next: gone}\n")
    (tmp_path / "pipeline.yaml").write_text(
        "dag:\n  start_at: d\n  steps:\n    d: {type: dag, dag_definition: child.yaml, next: success}\n")
    result = run_cli(["execute", "-f", "pipeline.yaml"], tmp_path)
    check_one_line(result, ["child.yaml:4", "step 'c'", "field 'next'"])


STUB = "dag:\n  start_at: a\n  steps:\n    a: {type: stub, next: success}\n"

CONFIG_ERRORS = [
    ("unknown executor", "pipeline-executor:\n  type: lokal\n",
     ["config.yaml:2", "field 'pipeline-executor.type'", "unknown pipeline executor 'lokal'", "local"]),
    ("unknown store", "run_log_store:\n  type: s3\n", ["config.yaml:2", "unknown run log store 's3'", "chunked-fs"]),
    ("unknown service", "executer:\n  type: local\n", ["config.yaml:1", "field 'executer'", "unknown service"]),
    ("unknown config field", "run-log-store:\n  type: file-system\n  config:\n    log_dir: x\n",
     ["config.yaml:4", "field 'run-log-store.config.log_dir'", "unknown field", "log_folder"]),
    ("wrong type", "pipeline-executor:\n  type: local\n  config:\n    enable_parallel: maybe\n",
     ["config.yaml:4", "field 'pipeline-executor.config.enable_parallel'"]),
    ("unset variable", "run-log-store:\n  type: file-system\n  config:\n    log_folder: $where\n",
     ["config.yaml", "variable $where is not set", "RUNNABLE_VAR_where"]),
]


@pytest.mark.parametrize("name,text,must_contain", CONFIG_ERRORS, ids=[e[0] for e in CONFIG_ERRORS])
def test_configuration_error_is_one_line(tmp_path, name, text, must_contain):
    (tmp_path / "pipeline.yaml").write_text(STUB)
    (tmp_path / "config.yaml").write_text(text)
    result = run_cli(["execute", "-f", "pipeline.yaml", "-c", "config.yaml"], tmp_path)
    check_one_line(result, must_contain)


PARAMETER_ERRORS = [
    ("not a mapping", "- a\n- b\n", ["params.yaml", "must be a mapping"]),
    ("bad name", "1x: 3\n", ["params.yaml:1", "field '1x'", "identifiers"]),
]


@pytest.mark.parametrize("name,text,must_contain", PARAMETER_ERRORS, ids=[e[0] for e in PARAMETER_ERRORS])
def test_parameter_file_error_is_one_line(tmp_path, name, text, must_contain):
    (tmp_path / "pipeline.yaml").write_text(STUB)
    (tmp_path / "params.yaml").write_text(text)
    result = run_cli(["execute", "-f", "pipeline.yaml", "-p", "params.yaml"], tmp_path)
    check_one_line(result, must_contain)


@pytest.mark.parametrize("args,must_contain", [
    (["execute", "-f", "missing.yaml"], ["missing.yaml", "file not found"]),
    (["execute", "-f", "pipeline.yaml", "--run-id", "../escape"], ["field 'run_id'", "not allowed"]),
    (["execute", "-f", "pipeline.yaml", "--run-id", "a/b"], ["field 'run_id'", "not allowed"]),
    (["execute-single-node", "r", "a", "-f", "pipeline.yaml", "--map-variable", "[1"],
     ["field '--map-variable'", "not valid JSON"]),
    (["execute-single-node", "r", "nope", "-f", "pipeline.yaml"], ["step 'nope'", "no step"]),
], ids=["missing file", "run id with ..", "run id with /", "bad map variable", "unknown step"])
def test_command_line_error_is_one_line(tmp_path, args, must_contain):
    (tmp_path / "pipeline.yaml").write_text(STUB)
    result = run_cli(args, tmp_path)
    check_one_line(result, must_contain)
    assert not list(tmp_path.parent.glob("escape*"))


def test_debug_shows_the_traceback(tmp_path):
    (tmp_path / "pipeline.yaml").write_text("dag:\n  start_at: a\n  steps:\n    a: {type: stub, next: b}\n")
    result = run_cli(["execute", "-f", "pipeline.yaml", "--log-level", "DEBUG"], tmp_path)
    assert result.returncode == 2 and "Traceback" in result.stderr


@pytest.mark.parametrize("args,must_contain", [
    (["execute"], "runnable execute: Missing option '-f'"),
    (["retry"], "runnable retry: Missing argument 'RUN_ID'"),
    (["nope"], "No such command 'nope'"),
    (["execute", "-f", "p.yaml", "--log-level", "LOUD"], "Invalid value for '--log-level'"),
])
def test_click_usage_error_is_one_line(tmp_path, args, must_contain):
    result = run_cli(args, tmp_path)
    assert result.returncode == 2 and len(result.error_lines) == 1, result.stderr
    assert must_contain in result.stderr and "--help" in result.stderr and "Traceback" not in result.stderr
