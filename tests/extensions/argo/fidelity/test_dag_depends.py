"""Argo's own tests of DAG ``depends``, run in the emulator; each case names the Argo file and test."""

from __future__ import annotations

import itertools
import re

import pytest

from extensions.argo.emulation.expressions import ExpressionError, evaluate, referenced_tasks

from .fidelity_support import load, node_messages, node_phases, pod_stdout, run_workflow

# test/e2e/functional/dag-depends.yaml (functional_test.go TestDAGDepends)
DAG_DEPENDS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: dag-depends-
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - name: P
            template: pass
          - name: F
            template: fail
          - name: should-execute-1
            depends: "P && (F.Succeeded || F.Failed)"
            template: pass
          - name: should-execute-2
            depends: "P || F"
            template: pass
          - name: should-not-execute
            depends: "P && F"
            template: pass
          - name: should-execute-3
            depends: "should-execute-2.Succeeded || should-not-execute"
            template: pass

    - name: pass
      container:
        image: argoproj/argosay:v2

    - name: fail
      container:
        image: argoproj/argosay:v2
        args: ["exit 1"]
"""


def test_functional_dag_depends(tmp_path):
    """functional_test.go TestDAGDepends + test/e2e/functional/dag-depends.yaml"""
    phases = node_phases(run_workflow(tmp_path, DAG_DEPENDS))
    assert phases["should-execute-1"] == "Succeeded"
    assert phases["should-execute-2"] == "Succeeded"
    assert phases["should-not-execute"] == "Omitted"


# workflow/controller/dag_test.go TestEvaluateDependsLogic: its tasks, with pods that give the phases the test
# sets by hand (A and B succeed, C fails), run for real
EVALUATE_DEPENDS_LOGIC = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: evaluate-depends-logic-
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - {name: A, template: pass}
          - {name: B, template: pass, depends: "A"}
          - {name: C, template: fail, depends: "A"}
          - {name: should-execute-1, template: pass, depends: "A && (C.Succeeded || C.Failed)"}
          - {name: should-execute-2, template: pass, depends: "B || C"}
          - {name: should-not-execute, template: pass, depends: "B && C"}
          - {name: should-execute-3, template: pass, depends: "should-execute-2 || should-not-execute"}
    - name: pass
      container: {image: "argoproj/argosay:v2"}
    - name: fail
      container: {image: "argoproj/argosay:v2", args: [exit, "1"]}
"""


def test_evaluate_depends_logic(tmp_path):
    """dag_test.go TestEvaluateDependsLogic: B and C run after A; should-execute-1/2/3 run, should-not-execute
    does not (Omitted, with dag.go's message 'omitted: depends condition not met', dag.go ~line 597)."""
    result = run_workflow(tmp_path, EVALUATE_DEPENDS_LOGIC)
    phases = node_phases(result)
    assert {k: phases[k] for k in ("A", "B", "C")} == {"A": "Succeeded", "B": "Succeeded", "C": "Failed"}
    assert phases["should-execute-1"] == phases["should-execute-2"] == phases["should-execute-3"] == "Succeeded"
    assert phases["should-not-execute"] == "Omitted"
    assert node_messages(result)["should-not-execute"] == "omitted: depends condition not met"
    # leaves are should-execute-1 and -3, both Succeeded: assessDAGPhase (dag.go ~line 140) passes the DAG
    assert result.phase == "Succeeded"


# workflow/controller/dag_test.go TestEvaluateAnyAllDependsLogic: A and B are loops; A has one failing and one
# succeeding iteration, both of B's fail. C's condition is also tried the other way round (D, E).
ANY_ALL_DEPENDS_LOGIC = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: any-all-depends-logic-
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - name: A
            template: exit-with
            arguments: {parameters: [{name: code, value: "{{item}}"}]}
            withItems: [1, 0]
          - name: B
            depends: A.AnySucceeded
            template: exit-with
            arguments: {parameters: [{name: code, value: "{{item}}"}]}
            withItems: [1, 2]
          - {name: C, template: exit-with, depends: B.AllFailed, arguments: {parameters: [{name: code, value: "0"}]}}
          - {name: D, template: exit-with, depends: B.AnySucceeded, arguments: {parameters: [{name: code, value: "0"}]}}
          - {name: E, template: exit-with, depends: A.AllFailed, arguments: {parameters: [{name: code, value: "0"}]}}
    - name: exit-with
      inputs: {parameters: [{name: code}]}
      container: {image: "argoproj/argosay:v2", args: [exit, "{{inputs.parameters.code}}"]}
"""


def test_any_succeeded_and_all_failed_on_loops(tmp_path):
    """dag_test.go TestEvaluateAnyAllDependsLogic: A.AnySucceeded holds once one iteration succeeded,
    B.AllFailed once every iteration failed (dag.go evaluateDependsLogic ~lines 1000-1030)."""
    phases = node_phases(run_workflow(tmp_path, ANY_ALL_DEPENDS_LOGIC))
    assert phases["A(0:1)"] == "Failed" and phases["A(1:0)"] == "Succeeded"
    assert phases["A"] == "Failed"  # a loop takes the phase of a failed iteration (dag.go ~line 708)
    assert phases["B"] == "Failed"  # B ran although A failed
    assert phases["C"] == "Succeeded" and phases["D"] == "Omitted" and phases["E"] == "Omitted"


# workflow/controller/dag_test.go TestEvaluateDependsLogicWhenTaskOmitted: B depends on A.Omitted. To get an
# Omitted A for real, A depends on the success of a failing task.
DEPENDS_ON_OMITTED = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: depends-on-omitted-
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - {name: X, template: fail}
          - {name: A, template: pass, depends: X.Succeeded}
          - {name: B, template: pass, depends: A.Omitted}
    - name: pass
      container: {image: "argoproj/argosay:v2"}
    - name: fail
      container: {image: "argoproj/argosay:v2", args: [exit, "1"]}
"""


@pytest.mark.parametrize("order", ["as written", "reversed"])
def test_depends_on_omitted(tmp_path, order):
    """dag_test.go TestEvaluateDependsLogicWhenTaskOmitted: a task depending on A.Omitted runs, wherever it
    is listed (Argo walks each target's dependencies, dag.go executeDAGTask ~line 590)."""
    manifest = load(DEPENDS_ON_OMITTED)
    if order == "reversed":
        manifest["spec"]["templates"][0]["dag"]["tasks"].reverse()
    result = run_workflow(tmp_path, manifest)
    phases = node_phases(result)
    assert phases["A"] == "Omitted" and phases["B"] == "Succeeded"
    # the only leaf, B, succeeded: the handled failure does not fail the DAG (assessDAGPhase, dag.go ~line 140)
    assert result.phase == "Succeeded"


# workflow/controller/dag_test.go TestAllEvaluateDependsLogic: "same" ends Succeeded, Failed or Skipped; Run
# depends on same.<result>, NotRun on !same.<result>. A Skipped "same" is a loop over an empty list here
# (the Go test sets the phase by hand).
ALL_EVALUATE_DEPENDS_LOGIC = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: all-evaluate-depends-logic-
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - {name: same, template: RESULT}
          - {name: Run, template: Succeeded, depends: same.RESULT}
          - {name: NotRun, template: Succeeded, depends: "!same.RESULT"}
    - name: Succeeded
      container: {image: "argoproj/argosay:v2"}
    - name: Failed
      container: {image: "argoproj/argosay:v2", args: [exit, "1"]}
"""


@pytest.mark.parametrize("status", ["Succeeded", "Failed", "Skipped"])
def test_all_evaluate_depends_logic(tmp_path, status):
    """dag_test.go TestAllEvaluateDependsLogic: same.<result> runs Run, !same.<result> omits NotRun."""
    manifest = load(ALL_EVALUATE_DEPENDS_LOGIC.replace("RESULT", status))
    if status == "Skipped":
        main = manifest["spec"]["templates"][0]["dag"]["tasks"][0]
        main.update(template="Succeeded", withParam="[]")
    phases = node_phases(run_workflow(tmp_path, manifest))
    assert phases["same"] == status
    assert phases["Run"] == "Succeeded" and phases["NotRun"] == "Omitted"


# workflow/controller/dag_test.go dynamicSingleDag, used by TestSingleDependency
SINGLE_DAG = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
 generateName: dag-diamond-
spec:
 entrypoint: diamond
 templates:
 - name: diamond
   dag:
     tasks:
     - name: A
       template: STATUS
       WHEN
     - name: TestSingle
       template: Succeeded
       depends: A.STATUS

 - name: Succeeded
   container:
     image: alpine:3.23
     command: [sh, -c, "exit 0"]

 - name: Failed
   container:
     image: alpine:3.23
     command: [sh, -c, "exit 1"]

 - name: Skipped
   container:
     image: alpine:3.23
     command: [sh, -c, "echo Hello"]
"""


@pytest.mark.parametrize("status", ["Succeeded", "Failed"])
def test_single_dependency(tmp_path, status):
    """dag_test.go TestSingleDependency: TestSingle (depends: A.<status>) is started once A ends <status>."""
    phases = node_phases(run_workflow(tmp_path, SINGLE_DAG.replace("STATUS", status).replace("WHEN", "")))
    assert phases["A"] == status
    assert phases["TestSingle"] == "Succeeded"


def test_single_dependency_skipped_by_when_is_refused(tmp_path):
    """dag_test.go TestSingleDependency, "Skipped" case: A has `when: "False == True"`. The emulator does not
    evaluate `when`: it refuses the task in one line rather than run it."""
    manifest = SINGLE_DAG.replace("STATUS", "Skipped").replace("WHEN", 'when: "False == True"')
    result = run_workflow(tmp_path, manifest)
    assert node_phases(result)["A"] == "Error"
    assert node_messages(result)["A"] == "task 'A' uses 'when', which the emulator does not emulate"
    assert result.phase == "Error"


# test/e2e/functional/dag-omitted-output-ref.yaml (functional_test.go TestDAGOmittedOutputRef)
DAG_OMITTED_OUTPUT_REF = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: dag-omitted-output-ref-
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - name: stage-a
            template: stage-a
          - name: stage-b
            template: stage-b
            depends: "stage-a.Failed"
          - name: stage-c
            template: stage-c
            depends: "stage-a && (stage-b || stage-b.Omitted)"
            arguments:
              parameters:
                - name: message-from-a
                  value: "{{tasks.stage-a.outputs.parameters.output-message}}"
                - name: message-from-b
                  value: "{{tasks.stage-b.outputs.parameters.output-message}}"
    - name: stage-a
      outputs:
        parameters:
          - name: output-message
            valueFrom:
              path: /tmp/output.txt
      container:
        image: argoproj/argosay:v2
        args: ["echo", "hello from stage A", "/tmp/output.txt"]
    - name: stage-b
      outputs:
        parameters:
          - name: output-message
            valueFrom:
              path: /tmp/output.txt
      container:
        image: argoproj/argosay:v2
        args: ["echo", "hello from stage B", "/tmp/output.txt"]
    - name: stage-c
      inputs:
        parameters:
          - name: message-from-a
          - name: message-from-b
      container:
        image: argoproj/argosay:v2
        args: ["echo", "stage-c received: [{{inputs.parameters.message-from-a}}] and [{{inputs.parameters.message-from-b}}]"]
"""


def test_dag_omitted_output_ref(tmp_path):
    """functional_test.go TestDAGOmittedOutputRef: an output of the Omitted stage-b, with no default on
    either side, is an absent optional (scope.go addSkippedNodeOutputsToScope ~line 140): stage-c is Error
    ('absent optional', common/util.go ProcessArgs ~line 219) and so is the workflow."""
    result = run_workflow(tmp_path, DAG_OMITTED_OUTPUT_REF)
    phases = node_phases(result)
    assert result.phase == "Error"
    assert (phases["stage-a"], phases["stage-b"], phases["stage-c"]) == ("Succeeded", "Omitted", "Error")
    assert "absent optional" in node_messages(result)["stage-c"]


def test_dag_omitted_output_ref_with_consumer_default(tmp_path):
    """The same workflow with a default on stage-c's input (as functional_test.go
    TestDAGSkippedConsumerInputDefault does for a Skipped producer): the argument that is purely the absent
    reference is dropped and the input's default applies (dag.go resolveDependencyReferences ~line 822)."""
    manifest = load(DAG_OMITTED_OUTPUT_REF)
    manifest["spec"]["templates"][3]["inputs"]["parameters"][1]["default"] = "fallback"
    result = run_workflow(tmp_path, manifest)
    assert result.phase == "Succeeded"
    assert pod_stdout(result, "stage-c") == "stage-c received: [hello from stage A] and [fallback]\n"


# workflow/common/ancestry_test.go TestGetTaskDependenciesFromDepends: each depends with the tasks it names and
# the expanded logic Argo evaluates (a bare name is "Succeeded || Skipped || Daemoned")
EXPANSIONS = [
    ("(task-1 || task-2.Succeeded) && !task-3.Succeeded",
     "((task-1.Succeeded || task-1.Skipped || task-1.Daemoned) || task-2.Succeeded) && !task-3.Succeeded"),
    ("(task-1 || task-2.AnySucceeded) && !task-3.Succeeded",
     "((task-1.Succeeded || task-1.Skipped || task-1.Daemoned) || task-2.AnySucceeded) && !task-3.Succeeded"),
    ("(task-1||(task-2.Succeeded || task-2.Failed))&&!task-3.Failed",
     "((task-1.Succeeded || task-1.Skipped || task-1.Daemoned)||(task-2.Succeeded || task-2.Failed))&&!task-3.Failed"),
    ("(task-1 || task-1.Succeeded) && !task-1.Failed",
     "((task-1.Succeeded || task-1.Skipped || task-1.Daemoned) || task-1.Succeeded) && !task-1.Failed"),
    ("task-1.Succeeded && task-1.AnySucceeded", "task-1.Succeeded && task-1.AnySucceeded"),
]
PHASES = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")


@pytest.mark.parametrize("depends,expanded", EXPANSIONS)
def test_depends_expansion(depends, expanded):
    """ancestry_test.go TestGetTaskDependenciesFromDepends: the tasks named, and the same truth value as
    Argo's expanded logic for every combination of the tasks' phases (the Go test compares the text)."""
    names = sorted(set(re.findall(r"task-\d", expanded)))
    assert sorted(referenced_tasks(depends)) == names
    python = re.sub(r"(task-\d)\.(\w+)", r"result('\1', '\2')", expanded)
    python = python.replace("&&", " and ").replace("||", " or ").replace("!", " not ")
    for combination in itertools.product(PHASES, repeat=len(names)):
        state = dict(zip(names, combination))

        def result(task, what):
            if what == "AnySucceeded":  # a stand-in loop whose one iteration has the task's phase
                return state[task] == "Succeeded"
            return state[task] == {"Errored": "Error"}.get(what, what)

        assert evaluate(depends, result) is eval(python, {"result": result}), (depends, state)


@pytest.mark.parametrize("depends", [
    "(task-1 || task-2.Succeeded) && !task-3",
    "((task-1.Succeeded || task-1.Failed) || task-2.Succeeded) && !task-3.Skipped && task-2.Failed || task-6.Succeeded",
    "((task-1.Succeeded || task-1.Omitted) || task-2.Succeeded) && !task-3.Skipped && task-2.Failed || task-6.Succeeded",
])
def test_valid_task_results(depends):
    """ancestry_test.go TestValidateTaskResults: these depends are valid."""
    evaluate(depends, lambda task, what: True)


def test_invalid_task_result():
    """ancestry_test.go TestValidateTaskResults: 'task-1.DoeNotExist' is not a task result."""
    with pytest.raises(ExpressionError, match="unknown result 'DoeNotExist'"):
        evaluate("(task-1.DoeNotExist || task-2.Succeeded)", lambda task, what: True)
