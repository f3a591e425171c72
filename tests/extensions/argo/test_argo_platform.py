"""What a platform team asks for before accepting a manifest: pull secrets, security contexts, affinity,
priority classes, pod labels; registering a pipeline (WorkflowTemplate) or scheduling it (CronWorkflow);
and `execute --run-id`. Every manifest is checked against Argo's schema for its kind, hera's models and
the rule checker."""

from __future__ import annotations

import json

import pytest
from ruamel.yaml import YAML

from conftest import SHARED, run_cli
from extensions.argo.config import K8S_OBJECTS
from extensions.argo.validation import validate_workflow

from argo_support import (E2E_CONFIG, IMAGE, emulate, model_differences, run_ids_on_volume, schema_errors, tasks,
                          templates, transpile, volume)
from test_argo_config import OVERRIDES

# the config's big-memory override on a task and on a map step (its fan-out and fan-in pods)
PIPELINE = OVERRIDES.replace("overrides: {argo: sequential}", "overrides: {argo: big-memory}")


def config(project, extra: str, name: str = "c.yaml") -> str:
    (project / name).write_text(E2E_CONFIG.format(store="chunked-fs", extra=extra))
    return name


def valid(manifest: dict) -> None:
    assert schema_errors(manifest) == []
    assert model_differences(manifest) == []
    spec = manifest["spec"].get("workflowSpec", manifest["spec"])
    # Argo validates a WorkflowTemplate or CronWorkflow as the Workflow it makes (validate.go WorkflowTemplate,
    # CronWorkflow via common.ConvertCronWorkflowToWorkflow)
    assert validate_workflow({"metadata": {"generateName": "x-"}, "spec": spec}) == []


def test_platform_fields_land_on_every_pod(project):
    (project / "p.yaml").write_text(PIPELINE)
    (project / "params.yaml").write_text("items: [1, 2]\n")
    _, m = transpile(project, "p.yaml", parameters="params.yaml")
    valid(m)
    spec = m["spec"]
    assert spec["imagePullSecrets"] == [{"name": "registry-credentials"}]
    assert spec["podMetadata"] == {"labels": {"app.kubernetes.io/part-of": "runnable", "cost-center": "analytics"},
                                   "annotations": {"owner": "data-platform"}}
    containers = {n: t for n, t in templates(m).items() if "container" in t}
    assert {"runnable-start", "runnable-end", "runnable-task"} <= set(containers)
    for name, t in containers.items():
        assert t["securityContext"] == {"runAsNonRoot": True, "runAsUser": 1000, "fsGroup": 1000}, name
        assert t["container"]["securityContext"] == {"allowPrivilegeEscalation": False,
                                                     "capabilities": {"drop": ["ALL"]}}, name
        assert list(t["affinity"]) == ["nodeAffinity"], name
    # the override's priority class and pod labels reach the task and the fan-out/fan-in of the steps using it, and
    # the map's batch pods
    t = tasks(m)
    overridden = [t["big"]["template"], t["fan-out"]["template"], t["fan-in"]["template"],
                  tasks(m, t["fan"]["template"])["batch"]["template"]]
    for name in overridden:
        assert containers[name]["priorityClassName"] == "batch-high"
        assert containers[name]["metadata"] == {"labels": {"cost-center": "highmem"},
                                                "annotations": {"owner": "data-platform"}}
    for name in set(containers) - set(overridden):
        assert containers[name]["priorityClassName"] == "batch-default" and "metadata" not in containers[name]
    # the configuration's labels and annotations are the workflow's, not its pods'
    assert m["metadata"]["labels"] == {"app.kubernetes.io/part-of": "runnable"}
    assert "workflowMetadata" not in spec


def test_an_override_replaces_a_security_context_and_affinity(project):
    (project / "p.yaml").write_text(PIPELINE.replace("overrides: {argo: big-memory}", "overrides: {argo: root}", 1))
    (project / "params.yaml").write_text("items: [1]\n")
    c = config(project, "security_context: {runAsNonRoot: true, runAsUser: 1000}\n"
                        "    affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: []}}\n"
                        "    overrides:\n"
                        "      big-memory: {}\n"
                        "      root: {security_context: {runAsUser: 0}, labels: {privileged: 'yes'},"
                        " affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution:"
                        " {nodeSelectorTerms: [{matchExpressions: [{key: pool, operator: In, values: [admin]}]}]}}}}")
    _, m = transpile(project, "p.yaml", config=c, parameters="params.yaml")
    valid(m)
    big = templates(m)[tasks(m)["big"]["template"]]
    assert big["securityContext"] == {"runAsUser": 0}  # replaced, not merged: no runAsNonRoot left over
    assert big["metadata"] == {"labels": {"privileged": "yes"}}
    assert list(big["affinity"]) == ["nodeAffinity"]
    assert templates(m)["runnable-task"]["securityContext"] == {"runAsNonRoot": True, "runAsUser": 1000}


def test_kubernetes_field_tables_are_argos_schema():
    """The keys (and JSON types) the configuration accepts are those of Argo's schema, nested tables too."""
    definitions = json.loads((SHARED / "argo" / "workflow-schema.json").read_text())["definitions"]
    types = {"integer": int, "boolean": bool, "string": str, "array": list}

    def expected(definition: str) -> dict:
        out = {}
        for key, prop in definitions[definition]["properties"].items():
            out[key] = types.get(prop.get("type"), dict)
        return out

    for field, (kind, table) in K8S_OBJECTS.items():
        flat = {k: (dict if isinstance(v, dict) else v) for k, v in table.items()}
        assert flat == expected(f"io.k8s.api.core.v1.{kind}"), field
    affinity = K8S_OBJECTS["affinity"][1]
    for key, kind in (("nodeAffinity", "NodeAffinity"), ("podAffinity", "PodAffinity"),
                      ("podAntiAffinity", "PodAntiAffinity")):
        assert affinity[key] == expected(f"io.k8s.api.core.v1.{kind}"), key


def test_workflow_template_is_registered_under_a_fixed_name(project):
    c = config(project, "kind: WorkflowTemplate\n    name: nightly-training-\n    labels: {team: ml}\n"
                        "    annotations: {owner: ml-platform}")
    result = run_cli(["execute", "-f", "examples/hello.yaml", "-c", c], project)
    assert result.returncode == 0, result.stderr
    m = YAML(typ="safe").load((project / "argo-pipeline.yaml").read_text())
    valid(m)
    assert m["kind"] == "WorkflowTemplate"
    assert m["metadata"] == {"name": "nightly-training", "labels": {"team": "ml"},
                             "annotations": {"owner": "ml-platform"}}
    # carried to every Workflow submitted from it (operator.go updateWorkflowMetadata)
    assert m["spec"]["workflowMetadata"] == {"labels": {"team": "ml"}, "annotations": {"owner": "ml-platform"}}
    assert m["spec"]["arguments"]["parameters"][0] == {"name": "run_id", "value": ""}
    assert "argo submit --from workflowtemplate/nightly-training" in result.stderr


def test_cron_workflow_runs_the_pipeline_on_a_schedule(project):
    c = config(project, "name: nightly\n    labels: {team: ml}\n"
                        "    cron: {schedule: '0 3 * * *', timezone: Europe/London, concurrency_policy: Forbid,"
                        " starting_deadline_seconds: 600}")
    result = run_cli(["execute", "-f", "examples/hello.yaml", "-c", c], project)
    assert result.returncode == 0, result.stderr
    m = YAML(typ="safe").load((project / "argo-pipeline.yaml").read_text())
    valid(m)
    assert m["kind"] == "CronWorkflow" and m["metadata"] == {"name": "nightly", "labels": {"team": "ml"}}
    spec = m["spec"]
    assert {k: v for k, v in spec.items() if k != "workflowSpec"} == {
        "schedules": ["0 3 * * *"], "timezone": "Europe/London", "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": 600}
    assert spec["workflowSpec"]["entrypoint"] == "runnable"
    assert spec["workflowSpec"]["workflowMetadata"] == {"labels": {"team": "ml"}}
    assert "argo cron create argo-pipeline.yaml" in result.stderr and "0 3 * * * (Europe/London)" in result.stderr


def test_several_schedules(project):
    c = config(project, "kind: CronWorkflow\n    name: twice\n    cron: {schedule: ['@hourly', '30 6 * * MON-FRI']}")
    result = run_cli(["execute", "-f", "examples/hello.yaml", "-c", c], project)
    assert result.returncode == 0, result.stderr
    m = YAML(typ="safe").load((project / "argo-pipeline.yaml").read_text())
    valid(m)
    assert m["spec"]["schedules"] == ["@hourly", "30 6 * * MON-FRI"]


@pytest.mark.parametrize("extra,field,must_contain", [
    ("image_pull_secrets: [Reg_Cred]", "image_pull_secrets", "'Reg_Cred' is not a valid secret name"),
    ("image_pull_secrets: regcred", "image_pull_secrets", "must be a list of secret names (got 'regcred')"),
    ("security_context: {runAsUsr: 1000}", "security_context",
     "'runAsUsr' is not a field of a Kubernetes PodSecurityContext; allowed: appArmorProfile, "),
    ("security_context: {runAsUser: '1000'}", "security_context", "'runAsUser' must be an integer (got '1000')"),
    ("container_security_context: {privileged: 'no'}", "container_security_context",
     "'privileged' must be true or false (got 'no')"),
    ("affinity: {nodeAffinty: {}}", "affinity",
     "'nodeAffinty' is not a field of a Kubernetes Affinity; allowed: nodeAffinity, podAffinity, podAntiAffinity"),
    ("affinity: {podAffinity: {required: []}}", "affinity", "'podAffinity.required' is not a field"),
    ("priority_class_name: High", "priority_class_name", "'High' is not a valid priority class name"),
    ("labels: {team: data science}", "labels", "'data science' (label 'team') is not a valid label value"),
    ("overrides: {o: {labels: {'-bad': x}}}", "overrides.o.labels", "'-bad' is not a valid label key"),
    ("overrides: {o: {image_pull_secrets: [a]}}", "overrides.o",
     "'image_pull_secrets' applies to the whole workflow"),
    ("pod_labels: {cost center: x}", "pod_labels", "'cost center' is not a valid label key"),
    ("overrides: {o: {pod_labels: {a: b}}}", "overrides.o", "'pod_labels' applies to the whole workflow"),
    ("overrides: {o: {cron: {schedule: '@daily'}}}", "overrides.o", "'cron' applies to the whole workflow"),
    ("kind: Job", "kind", "must be 'Workflow', 'WorkflowTemplate' or 'CronWorkflow' (got 'Job')"),
    ("kind: WorkflowTemplate", "name", "a WorkflowTemplate is stored under a fixed name: set name"),
    ("kind: CronWorkflow\n    name: n", "cron", "kind CronWorkflow needs a schedule"),
    ("kind: WorkflowTemplate\n    name: n\n    cron: {schedule: '@daily'}", "cron",
     "applies only to kind CronWorkflow (kind is WorkflowTemplate)"),
    ("name: " + "n" * 53 + "\n    cron: {schedule: '@daily'}", "name", "a CronWorkflow name is at most 52"),
    ("name: n\n    cron: {schedule: every night}", "cron.schedule", "'every night' is not a cron schedule"),
    ("name: n\n    cron: {schedule: '0 24 * * *'}", "cron.schedule",
     "'0 24 * * *': 24 is out of range for the hour (0-23)"),
    ("name: n\n    cron: {schedule: '0 3 * * 7'}", "cron.schedule", "7 is out of range for the day of week (0-6)"),
    ("name: n\n    cron: {schedule: '@daily', concurrency_policy: Never}", "cron.concurrency_policy",
     "must be 'Allow', 'Forbid' or 'Replace' (got 'Never')"),
    ("name: n\n    cron: {schedule: '@daily', timezone: Mars/Olympus}", "cron.timezone",
     "'Mars/Olympus' is not a time zone"),
    ("name: n\n    cron: {schedule: '@daily', starting_deadline_seconds: -1}", "cron.starting_deadline_seconds",
     "must be 0 or more seconds (got -1)"),
    ("name: n\n    cron: daily", "cron", "must be a mapping such as {schedule: '0 3 * * *'} (got 'daily')"),
    ("affinity: {nodeAffinity: []}", "affinity", "'nodeAffinity' must be a mapping (a Kubernetes Affinity; got [])"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 30 and " " not in v else None)
def test_each_new_field_refuses_a_wrong_value_in_one_line(project, extra, field, must_contain):
    c = config(project, extra)
    result = run_cli(["execute", "-f", "examples/hello.yaml", "-c", c], project)
    assert result.returncode == 2 and len(result.error_lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"error: {c}:"), result.stderr  # the file, and the line when it is known
    assert f"field 'pipeline-executor.config.{field}'" in result.stderr, result.stderr
    assert must_contain in result.stderr, result.stderr


# --- execute --run-id ----------------------------------------------------------------------------------
SEEN = """
dag:
  start_at: remember
  steps:
    remember:
      type: task
      command_type: shell
      command: echo "$spam" >> /mnt/seen.txt
      next: success
"""


def test_run_id_is_baked_in_and_a_second_submit_reuses_it(project):
    """`execute --run-id X` names the run X in the manifest; submitting that file again runs the pipeline
    again into run X's log, with X's first parameters (the start pod takes the run log as made)."""
    (project / "seen.yaml").write_text(SEEN)
    (project / "params.yaml").write_text("spam: Hello\n")
    result = run_cli(["execute", "-f", "seen.yaml", "-c", config(project, ""), "-p", "params.yaml",
                      "--run-id", "nightly-1"], project)
    assert result.returncode == 0, result.stderr
    assert "its run id is nightly-1: submitting it again runs the pipeline again into run nightly-1's log" \
        in result.stderr
    m = YAML(typ="safe").load((project / "argo-pipeline.yaml").read_text())
    assert m["spec"]["arguments"]["parameters"][0] == {"name": "run_id", "value": "nightly-1"}
    assert emulate(project, submit=["spam=First"]) == "Succeeded"
    assert emulate(project, submit=["spam=Second"]) == "Succeeded"
    assert run_ids_on_volume(project) == ["nightly-1"]
    assert (volume(project) / "seen.txt").read_text().split() == ["First", "First"]
    assert emulate(project, submit=["spam=Third", "run_id=nightly-2"]) == "Succeeded"
    assert run_ids_on_volume(project) == ["nightly-1", "nightly-2"]
    assert (volume(project) / "seen.txt").read_text().split() == ["First", "First", "Third"]


def test_without_run_id_the_argument_is_empty(project):
    _, m = transpile(project, "examples/hello.yaml")
    assert m["spec"]["arguments"]["parameters"][0] == {"name": "run_id", "value": ""}


@pytest.mark.parametrize("kind", ["kind: WorkflowTemplate\n    name: t", "name: t\n    cron: {schedule: '@daily'}"])
def test_run_id_is_refused_for_kinds_that_start_many_runs(project, kind):
    c = config(project, kind)
    result = run_cli(["execute", "-f", "examples/hello.yaml", "-c", c, "--run-id", "x"], project)
    assert result.returncode == 2 and len(result.error_lines) == 1, result.stderr
    assert "field '--run-id'" in result.stderr and "starts a new run each time it is used" in result.stderr
    assert not (project / "argo-pipeline.yaml").exists()


def test_retry_with_run_id_names_the_new_run(project):
    result = run_cli(["retry", "failed-1", "-f", "examples/hello.yaml", "-c", "examples/configs/argo-config.yaml",
                      "--run-id", "failed-1-again"], project, {"RUNNABLE_VAR_argo_docker_image": IMAGE})
    assert result.returncode == 0, result.stderr
    m = YAML(typ="safe").load((project / "argo-pipeline.yaml").read_text())
    assert m["spec"]["arguments"]["parameters"][0] == {"name": "run_id", "value": "failed-1-again"}
