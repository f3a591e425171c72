"""Argo's own tests of workflow-level behaviour around DAGs (arguments and -p, the entrypoint's inputs,
workflow variables, the exit handler, parallelism, failFast, nested DAGs), run in the emulator."""

from __future__ import annotations

import json

from .fidelity_support import load, node_messages, node_phases, run_workflow
from .fidelity_support import pod_stdout as stdout


# examples/dag-diamond.yaml (test/e2e/functional/dag-diamond.yaml links to it; examples_test.go
# TestExampleWorkflows expects every example to succeed)
DAG_DIAMOND = """
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
        template: echo
        arguments:
          parameters: [{name: message, value: A}]
      - name: B
        depends: "A"
        template: echo
        arguments:
          parameters: [{name: message, value: B}]
      - name: C
        depends: "A"
        template: echo
        arguments:
          parameters: [{name: message, value: C}]
      - name: D
        depends: "B && C"
        template: echo
        arguments:
          parameters: [{name: message, value: D}]

  - name: echo
    inputs:
      parameters:
      - name: message
    container:
      image: busybox
      command: [echo, "{{inputs.parameters.message}}"]
"""


def test_example_dag_diamond(tmp_path):
    """examples_test.go TestExampleWorkflows + examples/dag-diamond.yaml: Succeeded; D ran after B and C."""
    result = run_workflow(tmp_path, DAG_DIAMOND)
    assert result.phase == "Succeeded"
    assert node_phases(result)["D"] == "Succeeded" and stdout(result, "D") == "D\n"
    by_name = {n.name.rsplit(".", 1)[-1]: n for n in result.nodes}
    assert by_name["D"].started >= max(by_name["B"].finished, by_name["C"].finished)


# examples/dag-multiroot.yaml (examples_test.go TestExampleWorkflows)
DAG_MULTIROOT = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: dag-multiroot-
spec:
  entrypoint: multiroot
  templates:
  - name: echo
    inputs:
      parameters:
      - name: message
    container:
      image: busybox
      command: [echo, "{{inputs.parameters.message}}"]
  - name: multiroot
    dag:
      tasks:
      - name: A
        template: echo
        arguments:
          parameters: [{name: message, value: A}]
      - name: B
        template: echo
        arguments:
          parameters: [{name: message, value: B}]
      - name: C
        depends: "A"
        template: echo
        arguments:
          parameters: [{name: message, value: C}]
      - name: D
        depends: "A && B"
        template: echo
        arguments:
          parameters: [{name: message, value: D}]
"""


def test_example_dag_multiroot(tmp_path):
    """examples_test.go TestExampleWorkflows + examples/dag-multiroot.yaml: two roots, Succeeded."""
    result = run_workflow(tmp_path, DAG_MULTIROOT)
    assert result.phase == "Succeeded"
    assert set(node_phases(result).values()) == {"Succeeded"} and len(result.nodes) == 5


# workflow/controller/testdata/dag_xfail.yaml (dag_test.go TestDagXfail), its spec
DAG_XFAIL = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: dag-fail-
spec:
  entrypoint: diamond
  templates:
  - container:
      args:
      - '{{inputs.parameters.cmd}}'
      command:
      - sh
      - -c
      image: alpine:3.23
    inputs:
      parameters:
      - name: cmd
    name: echo
  - dag:
      tasks:
      - arguments:
          parameters:
          - name: cmd
            value: echo A
        name: A
        template: echo
      - arguments:
          parameters:
          - name: cmd
            value: echo B
        dependencies:
        - A
        name: B
        template: echo
      - arguments:
          parameters:
          - name: cmd
            value: echo C; exit 1
        dependencies:
        - A
        name: C
        template: echo
      - arguments:
          parameters:
          - name: cmd
            value: echo D
        dependencies:
        - B
        - C
        name: D
        template: echo
    name: diamond
"""


def test_dag_xfail(tmp_path):
    """dag_test.go TestDagXfail: C fails, D (dependencies: [B, C]) is Omitted and its leaf inherits C's
    Failed (assessDAGPhase, dag.go ~line 140): the workflow is Failed. The DAG's message stays empty
    (executeDAG marks the phase only, dag.go ~line 375)."""
    result = run_workflow(tmp_path, DAG_XFAIL)
    phases = node_phases(result)
    assert (phases["C"], phases["D"]) == ("Failed", "Omitted")
    assert result.phase == "Failed" and result.message == ""


# test/e2e/expectedfailures/parallelism-dag-fail-fast.yaml (functional_test.go TestWorkflowParallelismDAGFailFast)
PARALLELISM_DAG_FAIL_FAST = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: parallelism-dag-fail-fast
spec:
  entrypoint: main
  templates:
    - name: main
      parallelism: 2
      failFast: true
      dag:
        tasks:
          - name: task1
            template: fail
          - name: task2
            template: sleep
    - name: fail
      container:
        image: argoproj/argosay:v2
        args: ["exit", "1"]
    - name: sleep
      container:
        image: argoproj/argosay:v2
        args: ["sleep", "5"]
"""


def test_parallelism_dag_fail_fast(tmp_path):
    """functional_test.go TestWorkflowParallelismDAGFailFast: with the template's failFast: true, task1's
    failure fails the DAG once the running task2 has finished, with Argo's message (operator.go
    checkParallelism ~line 3314)."""
    manifest = load(PARALLELISM_DAG_FAIL_FAST)
    manifest["spec"]["templates"][2]["container"]["args"] = ["sleep", "1"]  # 5 s in Argo's file
    result = run_workflow(tmp_path, manifest)
    assert result.phase == "Failed"
    assert result.message == "template has failed or errored children and failFast enabled"
    phases = node_phases(result)
    assert phases["task1"] == "Failed" and phases["task2"] == "Succeeded"


def test_fail_fast_stops_tasks_not_yet_started(tmp_path):
    """The same workflow with parallelism 1 and a third task: after task1 fails, checkParallelism refuses
    every new child of the fail-fast DAG (operator.go ~lines 3338-3351), so task3 never gets a node."""
    manifest = load(PARALLELISM_DAG_FAIL_FAST)
    main = manifest["spec"]["templates"][0]
    main["parallelism"] = 1
    main["dag"]["tasks"] = [{"name": "task1", "template": "fail"},
                            {"name": "task3", "template": "sleep", "depends": "task1.Failed"}]
    manifest["spec"]["templates"][2]["container"]["args"] = ["sleep", "0"]
    result = run_workflow(tmp_path, manifest)
    assert result.phase == "Failed"
    assert "task3" not in node_phases(result)


# workflow/controller/dag_test.go TestDagParallelism (inline workflow)
DAG_PARALLELISM = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: test-parallelism
  namespace: argo
spec:
  entrypoint: main
  parallelism: 1
  templates:
    - name: main
      dag:
        tasks:
          - name: do-it-once
            template: do-it
            arguments:
              parameters:
                - name: thing
                  value: 1
          - name: do-it-twice
            template: do-it
            arguments:
              parameters:
                - name: thing
                  value: 2
          - name: do-it-thrice
            template: do-it
            arguments:
              parameters:
                - name: thing
                  value: 3
    - name: do-it
      inputs:
        parameters:
          - name: thing
      container:
        image: docker/whalesay:latest
        command: [cowsay]
        args: ["I have a {{inputs.parameters.thing}}"]
"""


def test_dag_parallelism(tmp_path):
    """dag_test.go TestDagParallelism: spec.parallelism 1 lets one pod run at a time (Argo's test sees the
    workflow still Running after two passes). Here each pod also prints when it starts and ends (a
    0.3 s sleep between) to show that no two overlap; the workflow Succeeded."""
    result = run_workflow(tmp_path, DAG_PARALLELISM)
    assert result.phase == "Succeeded"
    assert stdout(result, "do-it-twice") == "I have a 2\n"
    manifest = load(DAG_PARALLELISM)
    manifest["spec"]["templates"][1]["container"] = {
        "image": "alpine", "command": ["sh", "-c", "date +%s.%N; sleep 0.3; date +%s.%N"]}
    timed = run_workflow(tmp_path / "timed", manifest)
    spans = sorted(tuple(map(float, stdout(timed, task).split())) for task in ("do-it-once", "do-it-twice",
                                                                             "do-it-thrice"))
    assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:]))


# examples/global-parameters.yaml (examples_test.go TestExampleWorkflows); its comment shows the -p override
GLOBAL_PARAMETERS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: global-parameters-
spec:
  entrypoint: print-message
  arguments:
    parameters:
    - name: message
      value: hello world

  templates:
  - name: print-message
    container:
      image: busybox
      command: [echo]
      args: ["{{workflow.parameters.message}}"]
"""

# examples/arguments-parameters.yaml (examples_test.go TestExampleWorkflows)
ARGUMENTS_PARAMETERS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: arguments-parameters-
spec:
  entrypoint: print-message
  arguments:
    parameters:
    - name: message
      value: hello world

  templates:
  - name: print-message
    inputs:
      parameters:
      - name: message
    container:
      image: busybox
      command: [echo]
      args: ["{{inputs.parameters.message}}"]
"""


def test_example_global_parameters_and_submit_override(tmp_path):
    """examples_test.go TestExampleWorkflows + examples/global-parameters.yaml: {{workflow.parameters.message}}
    is the argument's value, or the value given at submission (`argo submit ... -p message="goodbye world"`,
    the example's own comment)."""
    result = run_workflow(tmp_path / "default", GLOBAL_PARAMETERS)
    assert result.phase == "Succeeded" and stdout(result, result.name) == "hello world\n"
    result = run_workflow(tmp_path / "override", GLOBAL_PARAMETERS, parameters={"message": "goodbye world"})
    assert stdout(result, result.name) == "goodbye world\n"


def test_example_arguments_parameters(tmp_path):
    """examples_test.go TestExampleWorkflows + examples/arguments-parameters.yaml: the entrypoint's
    inputs.parameters take the workflow's arguments (operator.go ~line 422 passes spec.arguments to the
    entrypoint), with -p overriding them."""
    result = run_workflow(tmp_path / "default", ARGUMENTS_PARAMETERS)
    assert result.phase == "Succeeded" and stdout(result, result.name) == "hello world\n"
    result = run_workflow(tmp_path / "override", ARGUMENTS_PARAMETERS, parameters={"message": "goodbye world"})
    assert stdout(result, result.name) == "goodbye world\n"


# workflow/controller/operator_test.go globalVarsOnExit (TestGlobalVarsOnExit): the workflow's
# storedWorkflowTemplateSpec, as a Workflow's spec
GLOBAL_VARS_ON_EXIT = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: hello-world-6gphm-8n22g
spec:
  arguments:
    parameters:
      -
        name: message
        value: nononono
  entrypoint: whalesay
  onExit: exitContainer
  templates:
    - name: whalesay
      container:
        image: "docker/whalesay:latest"
        args:
          - "hello {{inputs.parameters.message}}"
        command:
          - cowsay
      inputs:
        parameters:
          - name: message
    - name: exitContainer
      container:
        image: docker/whalesay
        args:
          - "goodbye {{inputs.parameters.message}}"
        command:
          - cowsay
      inputs:
        parameters:
          - name: message
"""


def test_global_vars_on_exit(tmp_path):
    """operator_test.go TestGlobalVarsOnExit: the exit handler's input 'message' is the workflow argument
    'nononono' (WorkflowSpec.GetExitHook passes spec.arguments, workflow_types.go ~line 516)."""
    result = run_workflow(tmp_path, GLOBAL_VARS_ON_EXIT)
    assert result.phase == "Succeeded"
    assert stdout(result, result.name) == "hello nononono\n"
    assert stdout(result, f"{result.name}.onExit") == "goodbye nononono\n"


# workflow/controller/operator_test.go onExitFailures (TestStepsOnExitFailures)
ON_EXIT_FAILURES = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: exit-handlers
spec:
  entrypoint: intentional-fail
  onExit: exit-handler
  templates:
  - name: intentional-fail
    container:
      image: alpine:3.23
      command: [sh, -c]
      args: ["echo intentional failure; exit 1"]
  - name: exit-handler
    container:
      image: alpine:3.23
      command: [sh, -c]
      args: ["echo send e-mail: {{workflow.name}} {{workflow.status}} {{workflow.duration}}. Failed steps {{workflow.failures}}"]
"""


def test_on_exit_failures(tmp_path):
    """operator_test.go TestStepsOnExitFailures: the exit handler sees {{workflow.name}}, {{workflow.status}}
    (Failed), {{workflow.duration}} and {{workflow.failures}}, which lists the failed node 'exit-handlers'
    of template 'intentional-fail' (operator.go ~lines 447-479); that node is Failed."""
    result = run_workflow(tmp_path, ON_EXIT_FAILURES)
    assert result.phase == "Failed" and node_phases(result)["exit-handlers"] == "Failed"
    text = stdout(result, "exit-handlers.onExit")
    head, _, failures = text.partition(". Failed steps ")
    name, status, duration = head.removeprefix("send e-mail: ").split()
    assert (name, status) == ("exit-handlers", "Failed") and float(duration) > 0
    [failure] = json.loads(failures)
    assert {k: failure[k] for k in ("displayName", "templateName", "phase")} == {
        "displayName": "exit-handlers", "templateName": "intentional-fail", "phase": "Failed"}


# test/e2e/testdata/retry-workflow-with-failed-exit-handler.yaml (cli_test.go TestRetryWorkflowWithFailedExitHandler)
FAILED_EXIT_HANDLER = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: retry-workflow-with-failed-exit-handler
spec:
  entrypoint: hello
  onExit: exit-handler
  templates:
  - name: hello
    container:
      image: argoproj/argosay:v2
      args: ["echo", "hello"]
  - name: exit-handler
    container:
      image: argoproj/argosay:v2
      args: ["exit", "1"]
"""


def test_failed_exit_handler_fails_the_workflow(tmp_path):
    """cli_test.go TestRetryWorkflowWithFailedExitHandler: the workflow is Failed with two nodes, the
    entrypoint Succeeded and the '.onExit' node Failed with 'exit code 1' in its message; the workflow takes
    the handler's message (operator.go ~lines 549-557)."""
    result = run_workflow(tmp_path, FAILED_EXIT_HANDLER)
    phases = node_phases(result)
    assert result.phase == "Failed" and len(result.nodes) == 2
    assert phases[result.name] == "Succeeded" and phases[f"{result.name}.onExit"] == "Failed"
    assert "exit code 1" in node_messages(result)[f"{result.name}.onExit"]
    assert result.message == node_messages(result)[f"{result.name}.onExit"]


# examples/exit-handler-dag-level.yaml (labelled no-test "flaky" for examples_test.go)
EXIT_HANDLER_DAG_LEVEL = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: exit-hanlder-dag-level-
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - name: A
            onExit: exit
            template: echo
            arguments:
              parameters: [{name: message, value: A}]
          - name: B
            depends: "A"
            onExit: exit
            template: echo
            arguments:
              parameters: [{name: message, value: B}]
    - name: echo
      inputs:
        parameters:
          - name: message
      container:
        image: busybox
        command: [echo]
        args: ["{{inputs.parameters.message}}"]
    - name: exit
      container:
        image: busybox
        command: [echo]
        args: ["task cleanup"]
"""


def test_task_level_on_exit_is_refused(tmp_path):
    """examples/exit-handler-dag-level.yaml (first two tasks): a task's own onExit is not emulated; the task
    is refused in one line rather than run without its handler."""
    result = run_workflow(tmp_path, EXIT_HANDLER_DAG_LEVEL)
    assert node_messages(result)["A"] == "task 'A' uses 'onExit', which the emulator does not emulate"
    assert node_phases(result)["A"] == "Error" and node_phases(result)["B"] == "Omitted"


# workflow/controller/operator_test.go dagTemplateParallelismLimit (TestDAGTemplateParallelismLimit)
DAG_TEMPLATE_PARALLELISM_LIMIT = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: dag-parallelism-limit
spec:
  entrypoint: dag-parallelism-limit
  templates:
  - name: dag-parallelism-limit
    parallelism: 2
    dag:
      tasks:
      - name: a
        template: sleep
      - name: b
        template: sleep
      - name: c
        template: sleep
      - name: d
        template: sleep
      - name: e
        template: sleep
  - name: sleep
    container:
      image: alpine:3.23
      command: [sh, -c, sleep 10]
"""


def test_dag_template_parallelism_limit(tmp_path):
    """operator_test.go TestDAGTemplateParallelismLimit: the DAG template's parallelism 2 lets two of its five
    tasks run at once (Argo's test counts two pods, twice). The pods print when they start and end, with a
    0.3 s sleep instead of 10 s: at most two overlap, and two do."""
    manifest = load(DAG_TEMPLATE_PARALLELISM_LIMIT)
    manifest["spec"]["templates"][1]["container"]["command"] = ["sh", "-c", "date +%s.%N; sleep 0.3; date +%s.%N"]
    result = run_workflow(tmp_path, manifest)
    assert result.phase == "Succeeded"
    events = []
    for task in "abcde":
        start, end = map(float, stdout(result, task).split())
        events += [(start, 1), (end, -1)]
    running = peak = 0
    for _, delta in sorted(events):
        running += delta
        peak = max(peak, running)
    assert peak == 2


# examples/dag-targets.yaml (examples_test.go TestExampleWorkflows; test/e2e/functional/dag-targets.yaml links to it)
DAG_TARGETS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: dag-target-
spec:
  entrypoint: dag-target
  arguments:
    parameters:
    - name: target
      value: E

  templates:
  - name: dag-target
    dag:
      target: "{{workflow.parameters.target}}"

      tasks:
      - name: A
        template: echo
        arguments:
          parameters: [{name: message, value: A}]
      - name: B
        depends: "A"
        template: echo
        arguments:
          parameters: [{name: message, value: B}]
      - name: C
        depends: "A"
        template: echo
        arguments:
          parameters: [{name: message, value: C}]
      - name: D
        depends: "B && C"
        template: echo
        arguments:
          parameters: [{name: message, value: D}]
      - name: E
        depends: "C"
        template: echo
        arguments:
          parameters: [{name: message, value: E}]

  - name: echo
    inputs:
      parameters:
      - name: message
    container:
      image: busybox
      command: [echo, "{{inputs.parameters.message}}"]
"""


def test_example_dag_targets(tmp_path):
    """examples_test.go TestExampleWorkflows + examples/dag-targets.yaml: only the target E and what it
    depends on (A, C) run; with the example's `-p target="B E"`, B joins them (dag.go executeDAG ~line 300).
    Tasks outside get no node."""
    result = run_workflow(tmp_path / "E", DAG_TARGETS)
    assert result.phase == "Succeeded"
    assert node_phases(result) == {result.name: "Succeeded", "A": "Succeeded", "C": "Succeeded", "E": "Succeeded"}
    result = run_workflow(tmp_path / "BE", DAG_TARGETS, parameters={"target": "B E"})
    assert result.phase == "Succeeded"
    assert sorted(node_phases(result)) == sorted([result.name, "A", "B", "C", "E"])
