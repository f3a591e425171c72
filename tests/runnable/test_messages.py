"""Messages that used to mislead, each now one line naming the file, line, step or field and the value the
user wrote, through the real CLI."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conftest import run_cli


def _refused(result, expected: str) -> None:
    """One line on stderr, exactly ``expected``; exit 2; nothing on stdout; no traceback."""
    assert result.returncode == 2, result.stderr
    assert result.error_lines == [expected], result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def _pipeline(folder: Path, text: str) -> str:
    (folder / "pipeline.yaml").write_text(textwrap.dedent(text).lstrip())
    return "pipeline.yaml"


@pytest.mark.parametrize("text,expected", [
    ("""
     dag:
       start_at: a
       steps:
         - a:
             type: stub
     """, "error: pipeline.yaml:3: field 'steps': must be a mapping of step names to steps, not a list: "
          "write 'a:' rather than '- a:'"),
    ("""
     dag:
       start_at: a
       steps: a
     """, "error: pipeline.yaml:3: field 'steps': must be a mapping of step names to steps, not the string \"a\""),
    ("""
     dag:
       start_at: 1
       steps:
         1: {type: stub, next: success}
     """, "error: pipeline.yaml:2: field 'start_at': must be a step name (a string), not the number 1: quote it "
          "(start_at: '1'), and the step's name too ('1':)"),
    ("""
     dag:
       start_at: "1"
       steps:
         1: {type: stub, next: success}
     """, "error: pipeline.yaml:4: step '1': step names must be non-empty strings, not the number 1: quote it "
          "('1':)"),
    ("""
     dag:
       start_at: [a]
       steps:
         a: {type: stub, next: success}
     """, "error: pipeline.yaml:2: field 'start_at': must be a step name (a string), not a list [\"a\"]"),
    ("""
     dag:
       steps:
         a: {type: stub, next: success}
     """, "error: pipeline.yaml:1: field 'start_at': is required: the name of the first step"),
    ("""
     dag:
       start_at: a
       steps:
         a:
           type: task
           command: examples.common.functions.hello
           returns:
             - x
             - name: y
               kind: dataframe
           next: success
     """, "error: pipeline.yaml:10: step 'a': field 'returns.1.kind': must be 'json', 'object' or 'metric' "
          "(got 'dataframe')"),
], ids=["steps-as-list", "steps-as-string", "start-at-number", "step-named-by-number", "start-at-list",
        "start-at-missing", "returns-unknown-kind"])
def test_pipeline_messages(tmp_path, text, expected):
    _refused(run_cli(["execute", "-f", _pipeline(tmp_path, text)], tmp_path), expected)


OK = """
dag:
  start_at: a
  steps:
    a: {type: stub, next: success}
"""


@pytest.mark.parametrize("variable", ["RUNNABLE_PRM_bad-name", "RUNNABLE_PRM_1st"])
def test_a_parameter_variable_that_names_no_parameter_is_refused(tmp_path, variable):
    name = variable.removeprefix("RUNNABLE_PRM_")
    result = run_cli(["execute", "-f", _pipeline(tmp_path, OK)], tmp_path, {variable: "1"})
    _refused(result, f"error: environment variable {variable}: '{name}' is not a parameter name (letters, digits "
                     "and '_', not starting with a digit)")
    assert not (tmp_path / ".run_log_store").exists()  # refused before the run began


@pytest.mark.parametrize("command", [["execute", "-f", "pipeline.yaml"], ["runs"]])
def test_a_configuration_file_named_by_the_variable_says_so(tmp_path, command):
    _pipeline(tmp_path, OK)
    result = run_cli(command, tmp_path, {"RUNNABLE_CONFIGURATION_FILE": "nope.yaml"})
    _refused(result, "error: nope.yaml: file not found (named by the environment variable "
                     "RUNNABLE_CONFIGURATION_FILE)")
    given = run_cli([*command, "-c", "missing.yaml"], tmp_path, {"RUNNABLE_CONFIGURATION_FILE": "nope.yaml"})
    _refused(given, "error: missing.yaml: file not found")  # -c wins, and it is what the line names


def test_runnable_alone_prints_its_help_and_succeeds(tmp_path):
    """As pip, docker and kubectl do: the help on stdout, nothing on stderr, exit 0; the same text as --help."""
    alone = run_cli([], tmp_path)
    assert (alone.returncode, alone.stderr) == (0, "")
    assert alone.stdout.startswith("Usage: runnable ")
    assert all(f"  {command} " in alone.stdout for command in ("execute", "retry", "emulate"))
    assert alone.stdout == run_cli(["--help"], tmp_path).stdout
    unknown = run_cli(["nope"], tmp_path)
    assert unknown.returncode == 2 and unknown.error_lines == [
        "error: runnable: No such command 'nope' (see 'runnable --help')"]


def test_help_lists_each_command_once_and_the_old_pod_spelling_still_runs(tmp_path):
    """SPEC section 6: `execute_single_node` (runnable 0.50's pod command) is accepted, but --help names the
    command once, under its one name."""
    listed = [line.split()[0] for line in run_cli(["--help"], tmp_path).stdout.split("Commands:")[1].splitlines()
              if line.strip()]
    assert len(listed) == len(set(listed)) and "execute-single-node" in listed
    assert "execute_single_node" not in listed
    old = run_cli(["execute_single_node", "--help"], tmp_path)
    assert old.returncode == 0 and "RUN_ID STEP" in old.stdout


@pytest.mark.parametrize("line,expected", [
    ("max_step_duration_in_seconds: -3", "field 'pipeline-executor.config.max_step_duration_in_seconds': input should "
                                         "be greater than or equal to 1 (got -3)"),
    ("parallelism: many", "field 'pipeline-executor.config.parallelism': input should be a valid integer, unable to "
                          "parse string as an integer (got 'many')"),
])
def test_a_value_out_of_range_or_of_the_wrong_type_is_echoed(tmp_path, line, expected):
    """A configuration value pydantic refuses by its range or type: the message quotes what was written."""
    _pipeline(tmp_path, """
        dag:
          start_at: a
          steps:
            a: {type: stub, next: success}
        """)
    (tmp_path / "argo.yaml").write_text(f"pipeline-executor:\n  type: argo\n  config:\n    image: x:1\n    {line}\n")
    _refused(run_cli(["execute", "-f", "pipeline.yaml", "-c", "argo.yaml"], tmp_path),
             f"error: argo.yaml:5: {expected}")
