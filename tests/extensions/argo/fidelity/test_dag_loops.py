"""Argo's own tests of DAG loops (withItems, withParam, empty lists, aggregated outputs), run in the emulator."""

from __future__ import annotations

from extensions.argo.emulation.substitution import item_label, item_scope, render

from .fidelity_support import load, node_messages, node_phases, pod_stdout, run_workflow

# test/e2e/functional/dag-empty-param.yaml (functional_test.go TestDAGEmptyParam)
DAG_EMPTY_PARAM = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: dag-param-result-
spec:
  entrypoint: dag-param-result-example
  templates:
  - name: dag-param-result-example
    dag:
      tasks:
      - name: generate
        template: gen-number-list
      - name: sleep
        template: sleep-n-sec
        arguments:
          parameters:
          - name: seconds
            value: "{{item}}"
        withParam: "{{tasks.generate.outputs.result}}"
        dependencies:
        - generate

  - name: gen-number-list
    script:
      image: argoproj/argosay:v2
      args: ["echo", "[]"]

  - name: sleep-n-sec
    inputs:
      parameters:
      - name: seconds
    container:
      image: argoproj/argosay:v1
      command: [sh, -c]
      args: ["echo sleeping for {{inputs.parameters.seconds}} seconds; sleep {{inputs.parameters.seconds}}; echo done"]
"""


def test_dag_empty_param(tmp_path):
    """functional_test.go TestDAGEmptyParam + test/e2e/functional/dag-empty-param.yaml: a withParam over the
    empty list printed by a script (without source: run as its container, operator.go ~line 3605) is Skipped
    with 'Skipped, empty params' (dag.go ~line 636); three nodes; the workflow Succeeded."""
    result = run_workflow(tmp_path, DAG_EMPTY_PARAM)
    assert result.phase == "Succeeded"
    assert len(result.nodes) == 3
    assert node_phases(result)["sleep"] == "Skipped"
    assert node_messages(result)["sleep"] == "Skipped, empty params"


# workflow/controller/dag_test.go testEmptyWithParamDAG (TestEmptyWithParamDAG), its spec (the Go test also
# carries a status from a cluster)
EMPTY_WITH_PARAM_DAG = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: dag-hang-pcwmr
spec:
  entrypoint: dag
  templates:
  -
    dag:
      tasks:
      -
        name: scheduler
        template: job-scheduler
      - arguments:
          parameters:
          - name: job_name
            value: '{{item.job_name}}'
        dependencies:
        - scheduler
        name: children
        template: whalesay
        withParam: '{{tasks.scheduler.outputs.parameters.scheduled-jobs}}'
      -
        dependencies:
        - children
        name: postprocess
        template: whalesay
    inputs: {}
    metadata: {}
    name: dag
    outputs: {}
  -
    container:
      args:
      - echo Decided not to schedule any jobs
      command:
      - sh
      - -c
      image: alpine:3.23
      name: ""
      resources: {}
    inputs: {}
    metadata: {}
    name: job-scheduler
    outputs:
      parameters:
      - name: scheduled-jobs
        value: '[]'
  -
    container:
      args:
      - hello world
      command:
      - cowsay
      image: docker/whalesay
      name: ""
      resources: {}
    inputs: {}
    metadata: {}
    name: whalesay
    outputs: {}
"""


def test_empty_with_param_dag(tmp_path):
    """dag_test.go TestEmptyWithParamDAG: an output parameter given as a value ('[]', kept as given:
    executor.go SaveParameters ~line 748) feeds an empty withParam; the loop is Skipped, the task after it
    (dependencies: [children], Skipped satisfies a bare name) runs, the workflow Succeeded."""
    result = run_workflow(tmp_path, EMPTY_WITH_PARAM_DAG)
    phases = node_phases(result)
    assert phases["children"] == "Skipped" and phases["postprocess"] == "Succeeded"
    assert result.phase == "Succeeded"


# workflow/controller/dag_test.go dagWithParamAndGlobalParam (TestDAGWithParamAndGlobalParam)
DAG_WITH_PARAM_AND_GLOBAL_PARAM = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: dag-with-param-and-global-param-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: workspace
      value: /argo_workspace/{{workflow.uid}}
  templates:
  - name: main
    dag:
      tasks:
      - name: use-with-param
        template: whalesay
        arguments:
          parameters:
          - name: message
            value: "hello {{workflow.parameters.workspace}} {{item}}"
        withParam: "[0, 1, 2]"
  - name: whalesay
    inputs:
      parameters:
      - name: message
    container:
      image: docker/whalesay:latest
      command: [cowsay]
      args: ["{{inputs.parameters.message}}"]
"""


def test_dag_with_param_and_global_param(tmp_path):
    """dag_test.go TestDAGWithParamAndGlobalParam: a literal withParam list and a workflow parameter in the
    arguments; Argo's test sees the workflow Running (not Errored) after one pass: here it runs to the end,
    one child per item named task(i:item) (operator.go generateNodeName ~line 4159)."""
    result = run_workflow(tmp_path, DAG_WITH_PARAM_AND_GLOBAL_PARAM)
    phases = node_phases(result)
    assert result.phase == "Succeeded"
    assert [phases[f"use-with-param({i}:{i})"] for i in range(3)] == ["Succeeded"] * 3


# test/e2e/testdata/two-items.yaml (functional_test.go TestResourceQuota)
TWO_ITEMS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: two-items-
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - name: task
            template: sleep
            withItems:
              - "1"
              - "2"
    - name: sleep
      container:
        image: argoproj/argosay:v2
        args: ["sleep", "3s"]
"""


def test_two_items_under_a_pod_quota(tmp_path):
    """functional_test.go TestResourceQuota + test/e2e/testdata/two-items.yaml: withItems of strings; under a
    quota of pods the items run as pods become free, and the workflow Succeeded (here max_pods=1)."""
    result = run_workflow(tmp_path, TWO_ITEMS, max_pods=1)
    phases = node_phases(result)
    assert result.phase == "Succeeded"
    assert phases["task(0:1)"] == phases["task(1:2)"] == "Succeeded"


# test/e2e/functional/param-aggregation-fromoutputs.yaml (functional_test.go TestParameterAggregationFromOutputs)
PARAM_AGGREGATION_FROM_OUTPUTS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: double-fan-out-using-param-
spec:
  entrypoint: main-dag
  templates:
    - inputs:
        parameters:
          - name: param1
      name: operation
      outputs:
        parameters:
          - name: output1
            valueFrom:
              path: /tmp/fan_out.json
      container:
        image: argoproj/argosay:v2
        args: ["echo", "{{inputs.parameters.param1}}", "/tmp/fan_out.json"]
    - dag:
        tasks:
          - arguments:
              parameters:
                - name: param1
                  value: '{{item}}'
            name: task3
            template: operation
            withParam: '{{inputs.parameters.param1}}'
      inputs:
        parameters:
          - name: param1
      name: secondary-dag
    - dag:
        tasks:
          - arguments:
              parameters:
                - name: param1
                  value: '[[{"key1": "value1"}, {"key2": "value2"}, {"key3": "value3"}], [{"key4": "value4"}, {"key5": "value5"}]]'
            name: task1
            template: operation
          - arguments:
              parameters:
                - name: param1
                  value: '{{item}}'
            depends: task1
            name: task2
            template: operation
            withParam: '{{tasks.task1.outputs.parameters.output1}}'
          - arguments:
              parameters:
                - name: param1
                  value: '{{item}}'
            depends: task2
            name: task3-dag
            template: secondary-dag
            withParam: '{{tasks.task2.outputs.parameters.output1}}'
      name: main-dag
"""


def test_parameter_aggregation_from_outputs(tmp_path):
    """functional_test.go TestParameterAggregationFromOutputs: a withParam over an output parameter, a loop
    over a nested DAG fed by the aggregated outputs (JSON lists stay lists: operator.go
    aggregatedJSONValueList ~line 3840), and map items named by their sorted key:value pairs
    (operator.go processItem ~line 4098)."""
    result = run_workflow(tmp_path, PARAM_AGGREGATION_FROM_OUTPUTS)
    phases = node_phases(result)
    assert result.phase == "Succeeded"
    for name in ("task3(0:key1:value1)", "task3(1:key2:value2)", "task3(2:key3:value3)", "task3(0:key4:value4)",
                 "task3(1:key5:value5)"):
        assert phases[name] == "Succeeded"


# test/e2e/functional/parameter-aggregation-dag-with-retry.yaml
# (functional_test.go TestParameterAggregationDAGWithRetry)
PARAMETER_AGGREGATION_DAG_WITH_RETRY = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: parameter-aggregation-dag-with-retry
spec:
  retryStrategy:
    limit: 1
  entrypoint: fanout-dag-with-output
  templates:
    - name: echo-value
      inputs:
        parameters:
          - name: message
      container:
        image: argoproj/argosay:v2
      outputs:
        parameters:
          - name: dummy-output
            value: '{{inputs.parameters.message}}'
    - name: fanout-dag-with-output
      dag:
        tasks:
          - name: echo-list
            template: echo-value
            arguments:
              parameters:
                - name: message
                  value: '{{item}}'
            withItems: [1, 2, 3]
      outputs:
        parameters:
          - name: dummy-dag-output
            valueFrom:
              parameter: '{{tasks.echo-list.outputs.parameters.dummy-output}}'
"""


def test_parameter_aggregation_dag_with_retry(tmp_path):
    """functional_test.go TestParameterAggregationDAGWithRetry: withItems of numbers, output parameters given
    as values, and the DAG's output from valueFrom.parameter is the JSON list ["1","2","3"], read as Argo's
    test does on node "<workflow>(0)", the DAG's first attempt under spec.retryStrategy."""
    result = run_workflow(tmp_path, PARAMETER_AGGREGATION_DAG_WITH_RETRY)
    assert result.phase == "Succeeded"
    attempt = result.node(f"{result.name}(0)")
    assert attempt.phase == "Succeeded"
    assert attempt.outputs == {"dummy-dag-output": '["1","2","3"]'}


# workflow/controller/dag_test.go dagOutputsReferTaskAggregatedOuputs (TestDAGReferTaskAggregatedOutputs), its
# spec (the Go test carries the status of a finished run)
DAG_OUTPUTS_REFER_TASK_AGGREGATED_OUTPUTS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: parameter-aggregation-dag-h8b82
spec:
  entrypoint: parameter-aggregation
  templates:
  -
    dag:
      tasks:
      - arguments:
          parameters:
          - name: num
            value: '{{item}}'
        name: odd-or-even
        template: odd-or-even
        withItems:
        - 1
        - 2
    inputs: {}
    metadata: {}
    name: parameter-aggregation
    outputs:
      parameters:
      - name: dag-nums
        valueFrom:
          parameter: '{{tasks.odd-or-even.outputs.parameters.num}}'
      - name: dag-evenness
        valueFrom:
          parameter: '{{tasks.odd-or-even.outputs.parameters.evenness}}'
  -
    container:
      args:
      - |
        sleep 1 &&
        echo {{inputs.parameters.num}} > /tmp/num &&
        if [ $(({{inputs.parameters.num}}%2)) -eq 0 ]; then
          echo "even" > /tmp/even;
        else
          echo "odd" > /tmp/even;
        fi
      command:
      - sh
      - -c
      image: alpine:3.23
      name: ""
      resources: {}
    inputs:
      parameters:
      - name: num
    metadata: {}
    name: odd-or-even
    outputs:
      parameters:
      - name: num
        valueFrom:
          path: /tmp/num
      - name: evenness
        valueFrom:
          path: /tmp/even
"""


def test_dag_refers_to_task_aggregated_outputs(tmp_path):
    """dag_test.go TestDAGReferTaskAggregatedOutputs: the DAG's outputs are the loop's aggregated outputs,
    in item order, each value less its trailing newline (executor.go SaveParameters ~line 780):
    ["1","2"] and ["odd","even"]."""
    result = run_workflow(tmp_path, DAG_OUTPUTS_REFER_TASK_AGGREGATED_OUTPUTS)
    assert result.phase == "Succeeded"
    assert result.node(result.name).outputs == {"dag-nums": '["1","2"]', "dag-evenness": '["odd","even"]'}


# test/e2e/functional/loops-empty-param.yaml (functional_test.go TestLoopEmptyParam)
LOOPS_EMPTY_PARAM = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: loops-param-result-
spec:
  entrypoint: loop-param-result-example
  templates:
  - name: loop-param-result-example
    steps:
    - - name: generate
        template: gen-number-list
    - - name: sleep
        template: sleep-n-sec
        arguments:
          parameters:
          - name: seconds
            value: "{{item}}"
        withParam: "{{steps.generate.outputs.result}}"

  - name: gen-number-list
    script:
      image: argoproj/argosay:v2
      args: ["echo", "[]"]

  - name: sleep-n-sec
    inputs:
      parameters:
      - name: seconds
    container:
      image: argoproj/argosay:v1
      command: [sh, -c]
      args: ["echo sleeping for {{inputs.parameters.seconds}} seconds; sleep {{inputs.parameters.seconds}}; echo done"]
"""


def test_steps_templates_are_refused(tmp_path):
    """functional_test.go TestLoopEmptyParam (test/e2e/functional/loops-empty-param.yaml) is the steps twin of
    TestDAGEmptyParam. The emulator does not run steps templates: the workflow is Error with one line."""
    result = run_workflow(tmp_path, LOOPS_EMPTY_PARAM)
    assert result.phase == "Error"
    assert result.message == ("template 'loop-param-result-example' is of a type the emulator does not run "
                              "(only container, script, dag and suspend)")


# workflow/controller/operator_test.go expandWithItemsMap (TestExpandWithItemsMap); a steps template, but a
# DAG task's items are expanded by the same processItem (operator.go ~line 4085, dag.go expandTask)
EXPAND_WITH_ITEMS_MAP = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: expand-with-items
spec:
  entrypoint: expand-with-items
  templates:
  - name: expand-with-items
    steps:
    - - name: whalesay
        template: whalesay
        arguments:
          parameters:
          - name: message
            value: "{{item.os}} {{item.version}} JSON({{item}})"
        withItems:
        - {os: debian, version: 9.1}
        - {os: debian, version: 9.1}
        - {os: ubuntu, version: 16.10}

  - name: whalesay
    inputs:
      parameters:
      - name: message
    container:
      image: docker/whalesay:latest
      command: [sh, -c]
      args: ["cowsay \\"{{inputs.parameters.message}}\\""]
"""


def test_expand_with_items_map():
    """operator_test.go TestExpandWithItemsMap: three items; the first's argument renders as
    'debian 9.1 JSON({"os":"debian","version":9.1})'; each child is named by its sorted key:value pairs."""
    step = load(EXPAND_WITH_ITEMS_MAP)["spec"]["templates"][0]["steps"][0][0]
    value = step["arguments"]["parameters"][0]["value"]
    rendered = [render(value, item_scope(item)) for item in step["withItems"]]
    assert len(rendered) == 3
    assert rendered[0] == 'debian 9.1 JSON({"os":"debian","version":9.1})'
    assert [item_label(item) for item in step["withItems"]] == [
        "os:debian,version:9.1", "os:debian,version:9.1", "os:ubuntu,version:16.1"]


def test_with_items_map_in_a_dag(tmp_path):
    """The same items on a DAG task, run: each pod gets its item's keys ({{item.os}}, {{item.version}})."""
    manifest = load(EXPAND_WITH_ITEMS_MAP)
    step = manifest["spec"]["templates"][0].pop("steps")[0][0]
    manifest["spec"]["templates"][0]["dag"] = {"tasks": [step]}
    manifest["spec"]["templates"][1]["container"] = {"image": "alpine", "command": ["echo", "{{inputs.parameters.message}}"]}
    result = run_workflow(tmp_path, manifest)
    assert result.phase == "Succeeded"
    assert pod_stdout(result, "whalesay(2:os:ubuntu,version:16.1)") == 'ubuntu 16.1 JSON({"os":"ubuntu","version":16.1})\n'
