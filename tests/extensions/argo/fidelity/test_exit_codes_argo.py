"""Argo's own tests of exit codes and node messages: a main container that exits non-zero is Failed with
"main: Error (exit code N)" (operator.go inferFailedReason ~lines 1864-1874), a signal gives 128 + its number,
and what the executor cannot do after the container (an output file missing) is an Error, not a failure."""

from __future__ import annotations

import pytest

from .fidelity_support import node_messages, node_phases, run_workflow


# test/e2e/expectedfailures/failed-step-event.yaml (functional_test.go TestFailedStepEvent)
FAILED_STEP_EVENT = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: failed-step-event-
spec:
  entrypoint: exit
  templates:
    - name: exit
      container:
        image: argoproj/argosay:v2
        args: ["exit", "1"]
"""


def test_failed_step_message(tmp_path):
    """functional_test.go TestFailedStepEvent: the workflow fails with a message holding "exit code 1" (the
    root pod's message, operator.go ~line 541); the node's exit code is kept as outputs.exitCode ("1")."""
    result = run_workflow(tmp_path, FAILED_STEP_EVENT)
    assert (result.phase, result.message) == ("Failed", "main: Error (exit code 1)")
    assert result.nodes[0].exit_code == "1"


def test_failed_node_in_a_dag(tmp_path):
    """cli_test.go TestWorkflowResubmitDAGWithDependencies (testdata/resubmit-dag-with-dependencies.yaml): B
    exits 1 and is Failed with "exit code 1" in its message, C after it is Omitted with "omitted: depends
    condition not met", the workflow Failed with 5 nodes."""
    result = run_workflow(tmp_path, """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: resubmit-dag-with-dependencies-
spec:
  entrypoint: rand-fail-dag
  templates:
    - name: rand-fail-dag
      dag:
        tasks:
          - name: A
            template: success
          - name: B
            template: fail
            depends: A
          - name: C
            depends: "B"
            template: success
          - name: D
            depends: "C"
            template: success
    - name: fail
      container:
        image: argoproj/argosay:v2
        args: ["exit", "1"]
    - name: success
      container:
        image: argoproj/argosay:v2
        args: ["exit", "0"]
""")
    phases, messages = node_phases(result), node_messages(result)
    assert result.phase == "Failed" and len(result.nodes) == 5
    assert phases["B"] == "Failed" and "exit code 1" in messages["B"]
    assert (phases["C"], messages["C"]) == ("Omitted", "omitted: depends condition not met")


def test_failed_step_after_a_volume(tmp_path):
    """cli_test.go TestWorkflowRetryWithRecreatedPVC (testdata/retry-with-recreated-pvc-test.yaml): "print" is
    Failed with exactly "main: Error (exit code 1)". (Its steps written as a DAG, its volumeClaimTemplates as a
    persistentVolumeClaim volume: the emulator has no claim templates.)"""
    result = run_workflow(tmp_path, """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: retry-with-recreated-pvc
spec:
  entrypoint: volumes-pvc-example
  volumes:
    - name: workdir
      persistentVolumeClaim: {claimName: workdir}
  templates:
    - name: volumes-pvc-example
      dag:
        tasks:
          - name: generate
            template: whalesay
          - name: print
            template: print-message
            depends: generate
    - name: whalesay
      container:
        image: argoproj/argosay:v2
        command: [sh, -c]
        args: ["echo generating message in volume; echo hello world | tee /mnt/vol/hello_world.txt"]
        volumeMounts:
          - name: workdir
            mountPath: /mnt/vol
    - name: print-message
      container:
        image: argoproj/argosay:v2
        command: [sh, -c]
        args: ["exit 1"]
        volumeMounts:
          - name: workdir
            mountPath: /mnt/vol
""")
    assert node_phases(result)["print"] == "Failed"
    assert node_messages(result)["print"] == "main: Error (exit code 1)"


@pytest.mark.parametrize("signal,code", [("TERM", 143), ("KILL", 137)])
def test_signaled(tmp_path, signal, code):
    """signals_test.go TestSignaled (testdata/signaled-workflow.yaml, ``kill $BASHPID``): Failed, the message
    has "(exit code 143)"; a container killed by a signal exits 128 + the signal (SIGKILL: 137, as
    TestSignaledContainerSet asserts)."""
    result = run_workflow(tmp_path, f"""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: signaled-
spec:
  entrypoint: main
  templates:
    - name: main
      container:
        image: argoproj/argosay:v1
        command: [ bash, -c ]
        args:
          - |
            kill -{signal} $BASHPID
""")
    assert result.phase == "Failed" and f"(exit code {code})" in result.message


def test_missing_output_is_an_error_not_a_failure(tmp_path):
    """A container that exits 0 but leaves no file for an output parameter without default: the node is Error
    (the executor fails after the main container: inferFailedReason's wait container, operator.go ~line 1876),
    so OnFailure, the default policy, does not retry it (operator.go ~line 1174) while Always does."""
    manifest = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: output-missing
spec:
  entrypoint: main
  templates:
    - name: main
      retryStrategy: {limit: 1%s}
      outputs:
        parameters:
          - name: result
            valueFrom: {path: /tmp/result.txt}
      container:
        image: argoproj/argosay:v2
        args: [echo, hello]
"""
    default = run_workflow(tmp_path / "default", manifest % "")
    assert node_phases(default) == {"output-missing": "Error", "output-missing(0)": "Error"}
    assert default.phase == "Error" and default.node("output-missing(0)").exit_code == "0"
    always = run_workflow(tmp_path / "always", manifest % ", retryPolicy: Always")
    assert [node_phases(always)[f"output-missing({i})"] for i in (0, 1)] == ["Error", "Error"]


def test_unresolvable_variable_is_an_error(tmp_path):
    """A reference that cannot be resolved makes the node Error, not Failed (common.ProcessArgs fails in
    executeTemplate, operator.go ~lines 2255-2258, initializeNodeOrMarkError); no pod runs."""
    result = run_workflow(tmp_path, """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: unresolved
spec:
  entrypoint: main
  templates:
    - name: main
      container:
        image: argoproj/argosay:v2
        args: [echo, "{{workflow.parameters.nope}}"]
""")
    assert result.phase == "Error" and result.nodes[0].log is None
    assert "{{workflow.parameters.nope}}" in result.message
