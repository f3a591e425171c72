"""Argo's own tests of deadlines (a template's activeDeadlineSeconds and timeout, the workflow's
activeDeadlineSeconds, the exit handler after a deadline), run in the emulator. Argo's workflows that use
``steps`` are written as DAGs of the same tasks (the emulator runs no steps templates); deadlines are
shortened to keep the suite quick."""

from __future__ import annotations

import time

from .fidelity_support import load, node_messages, node_phases, pod_stdout, run_workflow

KUBELET = "Pod was active on the node longer than the specified deadline"
STEP = "Step exceeded its deadline"


def test_template_deadline_fails_every_pod(tmp_path):
    """workflow_test.go TestWorkflowFailedWhenAllPodSetFailedFromPending: activeDeadlineSeconds on the template
    (not the workflow), four items: every pod node Failed with the kubelet's message, the workflow Failed.
    (Argo's pods stay Pending past 2 s; here they sleep past 1 s.)"""
    started = time.monotonic()
    result = run_workflow(tmp_path, """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: active-deadline-fanout-template-level-
spec:
  entrypoint: entrypoint
  templates:
  - name: entrypoint
    dag:
      tasks:
      - name: fanout
        template: echo
        arguments:
          parameters:
            - name: item
              value: "{{item}}"
        withItems: [1, 2, 3, 4]
  - name: echo
    inputs:
      parameters:
        - name: item
    container:
      image: argoproj/argosay:v2
      command: [sh, -c]
      args: ["echo 'workflow number {{inputs.parameters.item}}'; sleep 20"]
    activeDeadlineSeconds: 1
""")
    assert time.monotonic() - started < 10
    assert result.phase == "Failed"
    pods = [n for n in result.nodes if n.kind == "Pod"]
    assert len(pods) == 4 and all(n.phase == "Failed" and KUBELET in n.message for n in pods)


def test_parametrizable_active_deadline_seconds(tmp_path):
    """functional_test.go TestParametrizableAds: activeDeadlineSeconds "{{inputs.parameters.ads}}" from a
    workflow argument; the pod sleeping 10s fails (Argo: ads 5; here -p ads=1)."""
    result = run_workflow(tmp_path, """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: param-ads-
spec:
  entrypoint: whalesay
  arguments:
    parameters:
      - name: ads
        value: "5"
  templates:
  - name: whalesay
    inputs:
      parameters:
        - name: ads
    activeDeadlineSeconds: "{{inputs.parameters.ads}}"
    container:
      image: argoproj/argosay:v2
      args: [sleep, 10s]
""", parameters={"ads": 1})
    assert (result.phase, result.message) == ("Failed", KUBELET)


def test_template_level_timeout(tmp_path):
    """functional_test.go TestTemplateLevelTimeout: ``timeout: "{{inputs.parameters.message}}"`` on a container
    template ends its pod (checkTemplateTimeouts operator.go ~line 2698, the pod's activeDeadlineSeconds
    workflowpod.go ~line 952): the workflow Fails. (Argo: 5s/10s/15s against 30s sleeps in steps; here 1s and
    2s against 10s in a DAG.)"""
    result = run_workflow(tmp_path, """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: steps-tmpl-timeout-
spec:
  entrypoint: hello-hello-hello
  templates:
  - name: hello-hello-hello
    dag:
      tasks:
      - name: hello1
        template: whalesay
        arguments:
          parameters: [{name: message, value: "1s"}]
      - name: hello2a
        template: whalesay
        arguments:
          parameters: [{name: message, value: "2s"}]
  - name: whalesay
    timeout: "{{inputs.parameters.message}}"
    inputs:
      parameters:
      - name: message
    container:
      image: argoproj/argosay:v2
      args: [sleep, 10s]
""")
    assert result.phase == "Failed"
    assert node_messages(result)["hello1"] == node_messages(result)["hello2a"] == KUBELET


# hooks_test.go TestExitHandlerWithWorkflowLevelDeadline (its steps as DAGs, the handler also echoing the
# workflow's status; it sleeps 2 s rather than 5)
EXIT_AFTER_DEADLINE = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: exit-handler-with-workflow-level-deadline
spec:
  entrypoint: main
  activeDeadlineSeconds: 1
  hooks:
    exit:
      template: exit-handler
  templates:
    - name: main
      dag:
        tasks:
        - name: sleep
          template: sleep
    - name: exit-handler
      dag:
        tasks:
        - name: sleep
          template: sleep
        - name: status
          template: status
    - name: sleep
      container:
        image: argoproj/argosay:v2
        args: ["sleep", "2"]
    - name: status
      container:
        image: argoproj/argosay:v2
        args: ["echo", "{{workflow.status}}"]
"""


def test_exit_handler_runs_after_the_workflow_deadline(tmp_path):
    """hooks_test.go TestExitHandlerWithWorkflowLevelDeadline: the workflow is Failed, its exit handler
    Succeeded: exit-handler pods are not held to the workflow's deadline (workflowpod.go ~line 455) and see
    workflow.status Failed (operator.go ~line 456). The pod running at the deadline is killed (exec_control.go
    ~line 65)."""
    result = run_workflow(tmp_path, EXIT_AFTER_DEADLINE)
    name = "exit-handler-with-workflow-level-deadline"
    assert result.phase == "Failed"
    assert node_phases(result)[f"{name}.onExit"] == "Succeeded"
    assert result.node(f"{name}.sleep").message == STEP
    assert pod_stdout(result, "status") == "Failed\n"


def test_suspend_with_deadline(tmp_path):
    """operator_test.go TestSuspendWithDeadline: a suspend without duration and activeDeadlineSeconds 0: the
    Suspend node is Failed with "Step exceeded its deadline" (operator.go ~lines 1426-1429)."""
    result = run_workflow(tmp_path, """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: suspend-template
spec:
  entrypoint: suspend
  activeDeadlineSeconds: 0
  templates:
  - name: suspend
    suspend: {}
""")
    assert (result.phase, result.message) == ("Failed", STEP)
    assert result.node("suspend-template").kind == "Suspend"


def test_suspended_and_pending_nodes_fail_after_deadline(tmp_path):
    """operator_test.go TestFailSuspendedAndPendingNodesAfterDeadline (deadlineWf, steps as a DAG, deadline
    1 s rather than 3): after the deadline the workflow is Failed and so is every node."""
    manifest = load("""
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: steps-9fvnv
spec:
  activeDeadlineSeconds: 1
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: approve
        template: approve
  - name: approve
    suspend: {}
""")
    result = run_workflow(tmp_path, manifest)
    assert result.phase == "Failed"
    assert set(node_phases(result).values()) == {"Failed"}


def test_tasks_ready_after_the_deadline_fail_without_a_pod(tmp_path):
    """operator_test.go TestFailNodesWithoutCreatedPodsAfterDeadlineOrShutdown ("Deadline"): past the workflow
    deadline no pod is created (workflowpod.go ~line 460) and a pending node is Failed with "Step exceeded its
    deadline" (operator.go ~lines 1426-1429), so a task that handles the failure fails too, and one after
    success is Omitted. The workflow's message is its root DAG's, which has none (operator.go ~line 541)."""
    result = run_workflow(tmp_path, """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: deadline-dag
spec:
  activeDeadlineSeconds: 1
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: sleep}
      - {name: on-failure, template: echo, depends: a.Failed}
      - {name: on-success, template: echo, depends: a}
  - name: sleep
    container: {image: "argoproj/argosay:v2", args: [sleep, "5"]}
  - name: echo
    container: {image: "argoproj/argosay:v2", args: [echo, hi]}
""")
    phases, messages = node_phases(result), node_messages(result)
    assert (result.phase, result.message) == ("Failed", "")
    assert (phases["a"], messages["a"]) == ("Failed", STEP)
    assert (phases["on-failure"], messages["on-failure"]) == ("Failed", STEP)
    assert result.node("deadline-dag.on-failure").log is None  # no pod was made
    assert phases["on-success"] == "Omitted"


def test_retry_stops_at_the_workflow_deadline(tmp_path):
    """operator.go processNodeRetries ~lines 1066-1074: past the workflow's deadline a failed attempt is not
    retried; the Retry node takes its phase with "retry exceeded workflow deadline <time>"."""
    result = run_workflow(tmp_path, """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: retry-deadline
spec:
  activeDeadlineSeconds: 1
  entrypoint: main
  templates:
  - name: main
    retryStrategy: {limit: 5, retryPolicy: Always}
    container: {image: "argoproj/argosay:v2", args: [sleep, "5"]}
""")
    retry = result.node("retry-deadline")
    assert node_phases(result) == {"retry-deadline": "Failed", "retry-deadline(0)": "Failed"}
    assert retry.message.startswith("retry exceeded workflow deadline ") and retry.message.endswith(" +0000 UTC")
    assert node_messages(result)["retry-deadline(0)"] == STEP


def test_dag_template_deadline_is_not_used(tmp_path):
    """Known gap as docs/emulator.md states it: activeDeadlineSeconds and timeout on a DAG template change
    nothing. Argo reads a template's activeDeadlineSeconds only for its pod (workflowpod.go ~line 451) and a
    timeout only while the node is Pending (checkTemplateTimeouts operator.go ~line 2706), which a DAG never is."""
    result = run_workflow(tmp_path, """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: dag-deadline
spec:
  entrypoint: main
  templates:
  - name: main
    activeDeadlineSeconds: 1
    timeout: 1s
    dag:
      tasks:
      - {name: a, template: sleep}
  - name: sleep
    container: {image: "argoproj/argosay:v2", args: [sleep, "1.5"]}
""")
    assert result.phase == "Succeeded" and node_phases(result)["a"] == "Succeeded"
