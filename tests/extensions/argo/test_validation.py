"""The check the argo executor runs on every manifest before writing it (extensions/argo/validation.py).

Each case starts from a small manifest the check accepts (shaped like the transpiler's: a DAG of tasks, a
loop, outputs passed between tasks, an exit handler) and breaks one rule. Cases named Test... follow the
Argo test of that name (workflow/validate/validate_test.go or validate_dag_test.go); the others name the
Argo function the rule comes from.
"""

from __future__ import annotations

import copy

import pytest

from conftest import run_cli
from extensions.argo.validation import check_manifest, validate_workflow
from runnable.errors import InternalError

from argo_support import templates, transpile


def _container(*args: str) -> dict:
    return {"image": "img:1", "command": ["runnable"], "args": list(args),
            "volumeMounts": [{"name": "vol", "mountPath": "/mnt"}]}


def _task(name: str, template: str, depends: str | None = None, **arguments: str) -> dict:
    task = {"name": name, "template": template}
    if depends:
        task["depends"] = depends
    if arguments:
        task["arguments"] = {"parameters": [{"name": k, "value": v} for k, v in arguments.items()]}
    return task


def valid() -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "t-"}, "spec": {
        "entrypoint": "main", "onExit": "end",
        "arguments": {"parameters": [{"name": "run_id", "value": ""}]},
        "volumes": [{"name": "vol", "persistentVolumeClaim": {"claimName": "vol"}}],
        "templates": [
            {"name": "main", "dag": {"tasks": [
                _task("a", "step", step="a"),
                _task("b", "step", "a.Succeeded", step="{{tasks.a.outputs.parameters.out}}"),
                {**_task("each", "step", "b", step="{{item}}"), "withParam": "{{tasks.a.outputs.parameters.out}}"},
                _task("c", "step", "(each.Succeeded || each.Failed)", step="c"),
            ]}},
            {"name": "step", "inputs": {"parameters": [{"name": "step"}, {"name": "map_variable", "default": "{}"}]},
             "retryStrategy": {"limit": "1", "retryPolicy": "Always"},
             "outputs": {"parameters": [{"name": "out", "valueFrom": {"path": "/tmp/out"}}]},
             "container": _container("execute-single-node", "{{workflow.parameters.run_id}}",
                                     "{{inputs.parameters.step}}", "{{ inputs.parameters.map_variable }}",
                                     "--workflow-uid", "{{workflow.uid}}", "--pod", "{{pod.name}}",
                                     "--retries", "{{retries}}")},
            {"name": "end", "container": _container("end-run", "{{workflow.parameters.run_id}}",
                                                    "--workflow-status", "{{workflow.status}}",
                                                    "--failures", "{{workflow.failures}}")},
        ]}}


def tmpl(m: dict, name: str) -> dict:
    return next(t for t in m["spec"]["templates"] if t["name"] == name)


def tasks(m: dict) -> dict[str, dict]:
    return {t["name"]: t for t in tmpl(m, "main")["dag"]["tasks"]}


def args(m: dict, name: str = "step") -> list[str]:
    return tmpl(m, name)["container"]["args"]


def broken(edit) -> list[str]:
    m = valid()
    edit(m)
    return validate_workflow(m)


def test_the_starting_manifest_is_valid():
    assert validate_workflow(valid()) == []


# (why, edit, a part of the problem it must report)
SUBMIT = [  # what Argo's validation refuses (workflow/validate/validate.go)
    ("TestMaxLengthName", lambda m: m["metadata"].update(name="n" * 64), "metadata.name must not be more than 63"),
    ("TestDuplicateOrEmptyNames templates", lambda m: m["spec"]["templates"].append(copy.deepcopy(tmpl(m, "end"))),
     "template name 'end' is not unique"),
    ("TestDuplicateOrEmptyNames tasks", lambda m: tasks(m)["c"].update(name="b"), "task name 'b' is not unique"),
    ("TestInvalidTemplateName", lambda m: m["spec"]["templates"].append({**tmpl(m, "end"), "name": "bad_name"}),
     "template name 'bad_name' is invalid"),
    ("TestInvalidStepName (task names, validateWorkflowFieldNames)", lambda m: tasks(m)["c"].update(name="c" * 129),
     f"task name '{'c' * 129}' is invalid"),
    ("TestInvalidArgParamName", lambda m: m["spec"]["arguments"]["parameters"].append({"name": "a b", "value": "x"}),
     "argument name 'a b' is invalid"),
    ("TestSpecArgumentNoValue", lambda m: m["spec"]["arguments"]["parameters"][0].pop("value"),
     "argument 'run_id' needs a value or valueFrom"),
    ("TestInvalidInputParamName",
     lambda m: tmpl(m, "end").update(inputs={"parameters": [{"name": "x!", "value": "1"}]}),
     "inputs.parameter name 'x!' is invalid"),
    ("TestInvalidOutputParam", lambda m: tmpl(m, "step")["outputs"]["parameters"][0].update(value="v"),
     "has both valueFrom and value"),
    ("TestMultipleTemplateTypes", lambda m: tmpl(m, "end").update(script={"image": "i", "source": "x"}),
     "multiple template types specified"),
    ("TestExitHandler (onExit names no template)", lambda m: m["spec"].update(onExit="nope"),
     "spec.onExit: template name 'nope' undefined"),
    ("validate.go Workflow: entrypoint required", lambda m: m["spec"].pop("entrypoint"), "spec.entrypoint is required"),
    ("validateTemplateHolder: the entrypoint's inputs come from spec.arguments",
     lambda m: tmpl(m, "main").update(inputs={"parameters": [{"name": "x"}]}),
     "spec.entrypoint: template 'main' input 'x' is not given by spec.arguments"),
    ("TestLeafWithParallelism", lambda m: tmpl(m, "end").update(parallelism=2), "parallelism is only valid"),
    ("validateNonLeaf", lambda m: tmpl(m, "main").update(activeDeadlineSeconds="60"),
     "activeDeadlineSeconds is only valid for leaf templates"),
    ("TestValidActiveDeadlineSeconds", lambda m: tmpl(m, "end").update(activeDeadlineSeconds="soon"),
     "activeDeadlineSeconds must be a positive integer"),
    ("validateTemplate: timeout only on leaves", lambda m: tmpl(m, "main").update(timeout="1m"),
     "dag template doesn't support timeout field"),
    ("TestInvalidWfNoImageField", lambda m: tmpl(m, "end")["container"].pop("image"),
     "container.image may not be empty"),
    ("TestVolumeMountArtifactPathCollision (two mounts)",
     lambda m: tmpl(m, "end")["container"]["volumeMounts"].append({"name": "vol", "mountPath": "/mnt"}),
     "mountPath '/mnt' already mounted"),
    ("controller/workflowpod.go addVolumeReferences", lambda m: m["spec"].pop("volumes"),
     "volume 'vol' not found in workflow spec"),
    ("TestIncorrectPodGCStrategy", lambda m: m["spec"].update(podGC={"strategy": "Foo"}), "unknown strategy 'Foo'"),
    ("validateTemplateHolder: retryPolicy", lambda m: tmpl(m, "step")["retryStrategy"].update(retryPolicy="Sometimes"),
     "'Sometimes' is not a valid RetryPolicy"),
    ("TestDAGCycle", lambda m: tasks(m)["a"].update(depends="c"), "dependency cycle detected: a->c->each->b->a"),
    ("TestAnyWithoutExpandingTask", lambda m: tasks(m)["c"].update(depends="b.AnySucceeded"),
     "dependency 'b' uses an items-based condition"),
    ("TestDAGUndefinedTemplate", lambda m: tasks(m)["c"].update(template="echo"), "template name 'echo' undefined"),
    ("TestDAGVariableResolution (unresolvable output)",
     lambda m: tasks(m)["b"]["arguments"]["parameters"][0].update(value="{{tasks.a.outputs.parameters.unresolvable}}"),
     "'{{tasks.a.outputs.parameters.unresolvable}}' is not defined for task 'a'"),
    ("TestDAGVariableResolution (not an ancestor)", lambda m: tasks(m)["b"].pop("depends"),
     "task 'a' is not a dependency of this task"),
    ("TestDAGNonExistantTarget", lambda m: tmpl(m, "main")["dag"].update(target="nope"),
     "target 'nope' is not defined"),
    ("TestDependsAndDependencies", lambda m: tasks(m)["c"].update(dependencies=["a"]),
     "cannot use both 'depends' and 'dependencies'"),
    ("TestDependsAndContinueOn", lambda m: tasks(m)["a"].update(continueOn={"failed": True}),
     "cannot use 'continueOn' when using 'depends'"),
    ("TestDAGDependsDigit", lambda m: tasks(m)["c"].update(name="9c"), "name cannot begin with a digit"),
    ("TestDAGMissingParamValueInTask", lambda m: tasks(m)["a"]["arguments"]["parameters"][0].pop("value"),
     "argument 'step' needs a value or valueFrom"),
    ("ProcessArgs: a required input not passed", lambda m: tasks(m)["a"].pop("arguments"),
     "input 'step' of template 'step' was not supplied"),
    ("validateDAG: dependency not defined", lambda m: tasks(m)["c"].update(depends="zzz.Succeeded"),
     "dependency 'zzz' not defined"),
    ("ancestry.go ValidateTaskResults", lambda m: tasks(m)["c"].update(depends="each.Finished"),
     "task result 'Finished' for task 'each' is invalid"),
    ("addItemsToScope: one loop kind", lambda m: tasks(m)["each"].update(withItems=[1, 2]),
     "only one of withItems, withParam, withSequence"),
    ("TestUnresolved", lambda m: args(m).append("{{inputs.parameters.nope}}"),
     "'{{inputs.parameters.nope}}' is not declared in the template's inputs"),
    ("TestPodNameVariable (not in a DAG template)",
     lambda m: tasks(m)["c"]["arguments"]["parameters"][0].update(value="{{pod.name}}"),
     "'{{pod.name}}' is defined only in templates that run a pod"),
    ("TestPriorityVariable", lambda m: args(m).append("{{workflow.priority}}"), "only when spec.priority is set"),
    ("TestGlobalParam", lambda m: args(m).append("{{workflow.parameters.nope}}"),
     "'{{workflow.parameters.nope}}' is not in spec.arguments.parameters"),
    ("TestWorkflowTemplateLabels (label not on the workflow)", lambda m: args(m).append("{{workflow.labels.team}}"),
     "'{{workflow.labels.team}}' is not in the workflow's labels"),
    ("validate.go Workflow: workflow.failures only with onExit",
     lambda m: m["spec"].pop("onExit"), "'{{workflow.failures}}' is defined only when spec.onExit is set"),
    ("util/template Validate: fasttemplate needs each '{{' closed", lambda m: args(m).append("{{workflow.uid"),
     "'{{' without a closing '}}'"),
]

def _items(m: dict, items: list) -> None:
    each = tasks(m)["each"]
    each.pop("withParam")
    each["withItems"] = items


RUN_TIME = [  # what Argo accepts and then binds differently (an unknown {{...}} stays text in the pod)
    ("{{retries}} without a retry strategy (operator.go executeTemplate ~2446-2540)",
     lambda m: tmpl(m, "step").pop("retryStrategy"), "'{{retries}}' is bound only with a retryStrategy"),
    ("{{lastRetry.*}} without a retry strategy", lambda m: args(m, "end").append("{{lastRetry.exitCode}}"),
     "'{{lastRetry.exitCode}}' is bound only with a retryStrategy"),
    ("workflow.status outside the exit handler (operator.go operate ~457, setGlobalRuntimeParameters)",
     lambda m: args(m).append("{{workflow.status}}"),
     "'{{workflow.status}}' is the final phase only in templates reached from spec.onExit"),
    ("workflow.failures outside the exit handler (operator.go operate ~479)",
     lambda m: tasks(m)["c"]["arguments"]["parameters"][0].update(value="{{workflow.failures}}"),
     "'{{workflow.failures}}' is bound only in templates reached from spec.onExit"),
    ("an exit template also reached from the entrypoint", lambda m: tasks(m)["c"].update(template="end", arguments={}),
     "'{{workflow.status}}' is the final phase only in templates reached from spec.onExit"),
    ("{{item}} in a task without a loop", lambda m: tasks(m)["each"].pop("withParam"),
     "'{{item}}' is bound only in a DAG task with withItems"),
    ("{{item}} in a template", lambda m: args(m).append("{{item}}"), "'{{item}}' is bound only in a DAG task"),
    ("withItems of strings bind {{item}} (addItemsToScope)", lambda m: _items(m, ["x", "y"]), None),
    ("withItems of maps bind {{item.<key>}} only (addItemsToScope)", lambda m: _items(m, [{"k": 1}]),
     "'{{item}}' is not a field of the withItems items"),
    ("an argument the template does not declare (ProcessArgs reads only inputs)",
     lambda m: tasks(m)["a"]["arguments"]["parameters"].append({"name": "extra", "value": "1"}),
     "argument 'extra' is not an input of template 'step' (Argo drops it)"),
    ("a workflow argument holding a variable (operator.go setGlobalParameters ~707)",
     lambda m: m["spec"]["arguments"]["parameters"][0].update(value="{{workflow.uid}}"),
     "argument 'run_id' value '{{workflow.uid}}' reaches pods as text"),
    ("a depends expression expr cannot parse (controller/dag.go evaluateDependsLogic)",
     lambda m: tasks(m)["c"].update(depends="each.Succeeded ||"), "incomplete expression"),
    ("a name Argo does not define", lambda m: args(m).append("{{step}}"), "'{{step}}' is no variable Argo defines"),
    ("more than 200 tasks in a DAG (workflow_types.go DAGTemplate.Tasks MaxItems=200, the v4 CRD)",
     lambda m: tmpl(m, "main")["dag"]["tasks"].extend(_task(f"x{i}", "step", step="x") for i in range(200)),
     "204 tasks, more than the 200 Argo v4 allows in a DAG"),
    ("more than 200 templates (workflow_types.go WorkflowSpec.Templates MaxItems=200, the v4 CRD)",
     lambda m: m["spec"]["templates"].extend({"name": f"s{i}", "suspend": {"duration": "0"}} for i in range(198)),
     "201 templates, more than the 200 Argo v4 allows"),
]


@pytest.mark.parametrize("why,edit,problem", SUBMIT + RUN_TIME, ids=[c[0] for c in SUBMIT + RUN_TIME])
def test_each_rule(why, edit, problem):
    found = broken(edit)
    if problem is None:
        assert found == []
    else:
        assert any(problem in p for p in found), found


def test_a_problem_names_the_template_task_field_and_variable():
    [problem] = broken(lambda m: tasks(m)["c"]["arguments"]["parameters"][0].update(value="{{workflow.failures}}"))
    assert problem.startswith("template 'main' task 'c' field 'arguments.parameters[0].value': '{{workflow.failures}}'")
    [problem] = broken(lambda m: tmpl(m, "step").pop("retryStrategy"))
    assert problem.startswith("template 'step' field 'container.args[9]': '{{retries}}'")


def test_accepted_forms():
    """What the rules must let through: a spec.retryStrategy binds {{retries}} everywhere (operator.go
    retryStrategy ~4475), and so does one in spec.templateDefaults (mergedTemplateDefaultsInto); an indirect
    ancestor's outputs; a WorkflowTemplate's entrypoint and argument values
    may be left out (validate.go WorkflowTemplate: IgnoreEntrypoint, allowEmptyValues); expression tags are
    not validated (util/template/validate.go)."""
    def spec_retry(m):
        tmpl(m, "step").pop("retryStrategy")
        m["spec"]["retryStrategy"] = {"limit": "2"}
    assert broken(spec_retry) == []

    def default_retry(m):
        tmpl(m, "step").pop("retryStrategy")
        m["spec"]["templateDefaults"] = {"retryStrategy": {"limit": "2"}}
    assert broken(default_retry) == []
    assert broken(lambda m: tasks(m)["c"]["arguments"]["parameters"][0].update(
        value="{{tasks.a.outputs.parameters.out}}")) == []
    assert broken(lambda m: args(m).append("{{=sprig.trim(inputs.parameters.nope)}}")) == []
    template = valid()
    template.update(kind="WorkflowTemplate", metadata={"name": "nightly"})
    template["spec"].pop("entrypoint")
    template["spec"]["arguments"]["parameters"][0].pop("value")
    assert validate_workflow(template) == []


def test_cron_workflow_spec_is_checked_under_workflow_spec():
    cron = valid()
    cron.update(kind="CronWorkflow", metadata={"name": "nightly"},
                spec={"schedules": ["0 3 * * *"], "workflowSpec": cron["spec"]})
    assert validate_workflow(cron) == []
    tmpl({"spec": cron["spec"]["workflowSpec"]}, "step").pop("retryStrategy")
    assert any("'{{retries}}' is bound only with a retryStrategy" in p for p in validate_workflow(cron))
    cron["spec"]["schedules"] = []
    cron["metadata"]["name"] = "n" * 53  # validate.go maxCharsInCronWorkflowName
    found = validate_workflow(cron)
    assert "spec.schedules: a cron workflow must have at least one schedule" in found
    assert "metadata.name must not be more than 52 characters long" in found


def test_check_manifest_raises_one_internal_error_line(project):
    """The executor's check on a real manifest, broken the way the transpiler once wrote it: {{retries}} in a
    template without a retry strategy (and no spec.retryStrategy)."""
    (project / "argo.yaml").write_text(CONFIG.format(extra="retry_strategy: {limit: 2}"))
    _, manifest = transpile(project, "examples/hello.yaml", config="argo.yaml")
    check_manifest(manifest)
    del templates(manifest)["runnable-task"]["retryStrategy"]
    with pytest.raises(InternalError) as error:
        check_manifest(manifest)
    message = str(error.value)
    assert "\n" not in message and message.startswith("the generated Workflow breaks Argo's rules, so it was not "
                                                      "written: template 'runnable-task' field 'container.args[")
    assert "'{{retries}}' is bound only with a retryStrategy" in message


CONFIG = """
pipeline-executor:
  type: argo
  config:
    image: my/image:1
    persistent_volumes: [{{name: runnable-volume, mount_path: /mnt}}]
    {extra}
run-log-store:
  type: file-system
  config: {{log_folder: /mnt/run_log_store}}
catalog:
  type: file-system
  config: {{catalog_location: /mnt/catalog}}
"""


def test_cli_writes_what_the_check_accepts_and_nothing_it_refuses(project):
    """Through the real CLI. A pipeline with a map, a retry strategy and the exit handler passes the check and is
    written. An env value asking every pod for {{workflow.failures}} (bound only in the exit handler; the
    configuration passes env values through as written) is refused: one line, exit 3, no file."""
    (project / "argo.yaml").write_text(CONFIG.format(extra="retry_strategy: {limit: 1}"))
    ok = run_cli(["execute", "-f", "examples/map.yaml", "-c", "argo.yaml"], project)
    assert ok.returncode == 0, ok.stderr
    assert (project / "argo-pipeline.yaml").exists()
    (project / "argo-pipeline.yaml").unlink()
    (project / "argo.yaml").write_text(CONFIG.format(extra="env: {FAILURES: '{{workflow.failures}}'}"))
    bad = run_cli(["execute", "-f", "examples/map.yaml", "-c", "argo.yaml"], project)
    assert bad.returncode == 3
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("internal error: InternalError: the generated Workflow breaks "
                                                   "Argo's rules, so it was not written: template '")
    assert "field 'container.env[" in lines[0] and "'{{workflow.failures}}'" in lines[0]
    assert not (project / "argo-pipeline.yaml").exists()
