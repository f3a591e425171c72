"""Where each field of the argo configuration lands, what an override touches, and what never appears."""

from __future__ import annotations


import pytest

from conftest import run_cli
from extensions.argo.validation import validate_workflow

from argo_support import IMAGE, tasks, templates, transpile

OVERRIDES = """
dag:
  start_at: small
  steps:
    small:
      type: task
      command: examples.common.functions.hello
      next: big
    big:
      type: task
      command: examples.common.functions.hello
      overrides: {argo: big-memory}
      next: fan
    fan:
      type: map
      iterate_on: items
      iterate_as: item
      overrides: {argo: sequential}
      next: success
      branch:
        start_at: each
        steps:
          each: {type: stub, next: success}
"""


def test_every_field_lands_where_the_reference_says(project):
    _, m = transpile(project, "examples/map.yaml")
    meta, spec = m["metadata"], m["spec"]
    assert meta == {"generateName": "runnable-dag-", "namespace": "data-pipelines", "annotations": {"team": "analytics"},
                    "labels": {"app.kubernetes.io/part-of": "runnable"}}
    assert spec["podGC"] == {"strategy": "OnPodCompletion"}
    assert spec["serviceAccountName"] == "pipeline-runner"
    assert spec["activeDeadlineSeconds"] == 86400
    assert spec["parallelism"] == 20
    assert spec["volumes"] == [{"name": "runnable-volume", "persistentVolumeClaim": {"claimName": "runnable-volume"}}]
    task = templates(m)["runnable-task"]
    assert task["activeDeadlineSeconds"] == "7200"
    assert task["retryStrategy"] == {"limit": "0", "retryPolicy": "Always",
                                     "backoff": {"duration": "120", "factor": "2", "maxDuration": "3600"}}
    assert task["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert task["tolerations"] == [{"key": "dedicated", "operator": "Equal", "value": "pipelines",
                                    "effect": "NoSchedule"}]
    c = task["container"]
    assert c["image"] == IMAGE and c["imagePullPolicy"] == "IfNotPresent"
    assert c["resources"] == {"limits": {"memory": "1Gi", "cpu": "250m"}, "requests": {"memory": "1Gi", "cpu": "250m"}}
    assert c["volumeMounts"] == [{"name": "runnable-volume", "mountPath": "/mnt"}]
    env = {e["name"]: e for e in c["env"]}
    assert env["API_TOKEN"] == {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}
    assert env["LOG_FORMAT"]["value"] == "json"
    assert c["args"][:2] == ["execute-single-node", "{{workflow.parameters.run_id}}"]
    # empty: each pod takes --workflow-uid (Argo would hand the first pods "{{workflow.uid}}" as text)
    assert spec["arguments"]["parameters"][0] == {"name": "run_id", "value": ""}
    assert c["args"][c["args"].index("--workflow-uid") + 1] == "{{workflow.uid}}"


def test_defaults_without_optional_fields(project):
    (project / "argo-min.yaml").write_text(
        "pipeline-executor:\n  type: argo\n  config:\n    image: my/image:1\n"
        "    persistent_volumes: [{name: runnable-volume, mount_path: /mnt}]\n"
        "run-log-store:\n  type: file-system\n  config: {log_folder: /mnt/run_log_store}\n"
        "catalog:\n  type: file-system\n  config: {catalog_location: /mnt/catalog}\n")
    _, m = transpile(project, "examples/hello.yaml", config="argo-min.yaml")
    spec = m["spec"]
    assert m["metadata"] == {"generateName": "runnable-dag-"}
    assert spec["podGC"] == {"strategy": "OnPodCompletion"} and spec["activeDeadlineSeconds"] == 86400
    assert "parallelism" not in spec and "serviceAccountName" not in spec
    c = templates(m)["runnable-task"]["container"]
    assert "imagePullPolicy" not in c and c["image"] == "my/image:1"
    assert c["resources"]["limits"] == {"memory": "1Gi", "cpu": "250m"}
    assert c["volumeMounts"] == [{"name": "runnable-volume", "mountPath": "/mnt"}]
    # retry_strategy defaults to none (the reference table): no template is retried by Argo
    assert all("retryStrategy" not in t for t in templates(m).values()) and "retryStrategy" not in spec
    assert "nodeSelector" not in templates(m)["runnable-task"] and "tolerations" not in templates(m)["runnable-task"]


def test_without_a_volume_the_stores_cannot_be_shared(project):
    (project / "argo-novol.yaml").write_text(
        "pipeline-executor:\n  type: argo\n  config:\n    image: my/image:1\n"
        "run-log-store:\n  type: file-system\n  config: {log_folder: /mnt/run_log_store}\n")
    result = run_cli(["execute", "-f", "examples/hello.yaml", "-c", "argo-novol.yaml"], project)
    assert result.returncode == 2 and len(result.error_lines) == 1 and "Traceback" not in result.stderr
    assert "field 'run-log-store.config.log_folder'" in result.stderr
    assert "add persistent_volumes to the argo configuration" in result.stderr


def test_an_override_touches_only_its_step(project):
    (project / "p.yaml").write_text(OVERRIDES)
    (project / "params.yaml").write_text("items: [1, 2, 3]\n")
    _, m = transpile(project, "p.yaml", parameters="params.yaml")
    t = tasks(m)
    assert t["small"]["template"] == "runnable-task"
    big = templates(m)[t["big"]["template"]]
    assert t["big"]["template"] != "runnable-task"
    assert big["container"]["resources"]["limits"] == {"memory": "16Gi", "cpu": "250m"}
    assert big["nodeSelector"] == {"kubernetes.io/os": "linux", "pool": "highmem"}
    assert templates(m)["runnable-task"]["container"]["resources"]["limits"]["memory"] == "1Gi"
    wrapper = templates(m)[t["fan"]["template"]]
    assert wrapper["parallelism"] == 1
    assert [tmpl.get("parallelism") for name, tmpl in templates(m).items() if name != wrapper["name"]
            and "dag" in tmpl] == [None] * (sum("dag" in x for x in templates(m).values()) - 1)
    assert validate_workflow(m) == []


@pytest.mark.parametrize("config_text,must_contain", [
    ("image: ''", "field 'pipeline-executor.config.image'"),
    ("image: x\n    imag: x", "field 'pipeline-executor.config.imag': unknown field"),
    ("image: x\n    resources: {limits: {memory: lots}}", "'lots' is not a Kubernetes quantity"),
    ("image: x\n    overrides: {o: {namespace: other}}", "'namespace' applies to the whole workflow"),
    ("image: x\n    retry_strategy: {limit: -1}", "field 'pipeline-executor.config.retry_strategy.limit'"),
    ("image: x\n    persistent_volumes: [{name: Bad_Name, mount_path: /mnt}]", "not a valid claim name"),
    ("image: x\n    name: " + "a" * 59, "so at most 58"),
    ("image: x\n    name: My_Pipeline-", "not a valid workflow name prefix"),
    ("image: x\n    overrides: {o: {nme: 1}}", "unknown field; allowed: affinity, annotations, batch_size, container_security_context, env, "),
    ("image: x\n    retry_strategy: {limt: 1}", "unknown field; allowed: backoff, limit, retry_policy"),
], ids=["empty image", "unknown field", "bad quantity", "workflow field in override", "negative retries",
        "bad claim name", "long name", "bad name", "unknown override field", "unknown retry field"])
def test_configuration_mistakes_are_one_line(project, config_text, must_contain):
    (project / "c.yaml").write_text(
        f"pipeline-executor:\n  type: argo\n  config:\n    {config_text}\n"
        "run-log-store:\n  type: file-system\n  config: {log_folder: /mnt/logs}\n")
    result = run_cli(["execute", "-f", "examples/hello.yaml", "-c", "c.yaml"], project)
    assert result.returncode == 2 and len(result.error_lines) == 1, result.stderr
    assert must_contain in result.stderr and "c.yaml" in result.stderr


@pytest.mark.parametrize("store,must_contain", [
    ("run-log-store:\n  type: buffered\n", "lives in one process"),
    ("run-log-store:\n  type: file-system\n  config: {log_folder: .run_log_store}\n", "not on a persistent volume"),
    ("run-log-store:\n  type: file-system\n  config: {log_folder: /data/logs}\n", "not on a persistent volume"),
])
def test_stores_must_be_shared_by_every_pod(project, store, must_contain):
    (project / "c.yaml").write_text("pipeline-executor:\n  type: argo\n  config: {image: x}\n" + store +
                                    "catalog:\n  type: do-nothing\n")
    result = run_cli(["execute", "-f", "examples/hello.yaml", "-c", "c.yaml"], project)
    assert result.returncode == 2 and must_contain in result.stderr and len(result.error_lines) == 1


def test_unknown_override_names_the_step(project):
    (project / "p.yaml").write_text(OVERRIDES.replace("big-memory", "huge"))
    result = run_cli(["execute", "-f", "p.yaml", "-c", "examples/configs/argo-config.yaml"], project,
                     {"RUNNABLE_VAR_argo_docker_image": IMAGE, "RUNNABLE_PRM_items": "[1, 2]"})
    assert result.returncode == 2 and len(result.error_lines) == 1
    assert "step 'big'" in result.stderr and "overrides.argo" in result.stderr and "big-memory" in result.stderr


def test_parallelism_override_on_a_task_is_refused(project):
    (project / "p.yaml").write_text(OVERRIDES.replace("overrides: {argo: big-memory}", "overrides: {argo: sequential}"))
    result = run_cli(["execute", "-f", "p.yaml", "-c", "examples/configs/argo-config.yaml"], project,
                     {"RUNNABLE_VAR_argo_docker_image": IMAGE, "RUNNABLE_PRM_items": "[1, 2]"})
    assert result.returncode == 2 and "only applies to steps with branches (parallel, map, dag)" in result.stderr


def test_no_secret_and_no_build_machine_path_in_the_manifest(project):
    text, _ = transpile(project, "examples/secrets.yaml", env={"API_TOKEN": "s3cr3t-value-xyz"})
    assert "s3cr3t-value-xyz" not in text
    assert str(project) not in text and "/root" not in text and "/tmp/" not in text.replace("/tmp/runnable/", "")


def test_same_pipeline_same_bytes(project):
    first, _ = transpile(project, "examples/nested.yaml", parameters="examples/parameters/nested.yaml")
    second, _ = transpile(project, "examples/nested.yaml", parameters="examples/parameters/nested.yaml")
    assert first == second


def test_parameters_become_workflow_arguments(project):
    _, m = transpile(project, "examples/parameters.yaml", parameters="examples/parameters/initial.yaml")
    args = {p["name"]: p["value"] for p in m["spec"]["arguments"]["parameters"]}
    assert args == {"run_id": "", "spam": "Hello", "eggs": "21"}  # lists and maps are not exposed
    start = templates(m)["runnable-start"]["container"]["args"]
    assert "spam={{workflow.parameters.spam}}" in start and "eggs={{workflow.parameters.eggs}}" in start


def test_sdk_and_yaml_give_the_same_manifest(project):
    import shutil
    import subprocess
    import sys

    yaml_text, _ = transpile(project, "examples/map.yaml")
    shutil.move(project / "argo-pipeline.yaml", project / "from-yaml.yaml")
    env = {"RUNNABLE_VAR_argo_docker_image": IMAGE, "PYTHONPATH": str(project),
           "RUNNABLE_CONFIGURATION_FILE": "examples/configs/argo-config.yaml", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c",
                           "from examples.sdk.pipeline import build; build().execute(pipeline_file='examples/map.yaml')"],
                          cwd=project, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    sdk_text = (project / "argo-pipeline.yaml").read_text()
    assert sdk_text == yaml_text


POD_CONFIG = """
pipeline-executor:
  type: argo
  config:
    image: example/image:1
    overrides:
      big-memory: {resources: {limits: {memory: 2Gi}}}
      sequential: {parallelism: 1}
run-log-store:
  type: chunked-fs
"""


@pytest.mark.parametrize("override, must_contain", [
    ("huge", "names no override of the argo configuration ('huge'); defined: big-memory, sequential"),
    ("sequential", "override 'sequential' sets parallelism, which only applies to steps with branches"),
])
def test_a_pod_checks_the_override_its_step_names_as_the_manifest_does(project, override, must_contain):
    """The pipeline a pod reads names an override the manifest's writer would refuse: the pod refuses it in
    one line before running the step (it used to run it with the configuration's settings)."""
    (project / "p.yaml").write_text("dag:\n  start_at: big\n  steps:\n    big:\n      type: task\n"
                                    "      command_type: shell\n      command: touch ran\n"
                                    f"      overrides: {{argo: {override}}}\n      next: success\n")
    (project / "c.yaml").write_text(POD_CONFIG)
    common = ["-f", "p.yaml", "-c", "c.yaml"]
    assert run_cli(["start-run", "r1", *common], project).returncode == 0
    result = run_cli(["execute-single-node", "r1", "big", *common], project)
    assert result.returncode == 2 and len(result.error_lines) == 1, result.stderr
    assert "step 'big'" in result.stderr and "overrides.argo" in result.stderr and must_contain in result.stderr
    assert not (project / "ran").exists()
