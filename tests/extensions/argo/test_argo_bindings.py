"""Manifests bind only what Argo binds: the default configuration runs its first task on a real cluster.

Argo binds ``{{retries}}`` only where a retry strategy applies (workflow/controller/operator.go,
executeTemplate: ``localParams[Retries]`` inside ``if woc.retryStrategy(processedTmpl) != nil``; retryStrategy()
falls back to spec.retryStrategy, else nil). A ``{{retries}}`` anywhere else reaches the pod as literal text.
"""

from __future__ import annotations

import pytest
from argo_support import argo_run, templates, transpile

DEFAULT = """
pipeline-executor:
  type: argo
  config:
    image: my/image:1
    persistent_volumes: [{name: runnable-volume, mount_path: /mnt}]
    {extra}
run-log-store:
  type: file-system
  config: {log_folder: /mnt/run_log_store}
catalog:
  type: file-system
  config: {catalog_location: /mnt/catalog}
"""


def _manifest(project, extra="", pipeline="examples/hello.yaml"):
    (project / "argo.yaml").write_text(DEFAULT.replace("{extra}", extra))
    return transpile(project, pipeline, config="argo.yaml")


def _uses_retries(template: dict) -> bool:
    return any("{{retries}}" in arg for arg in template.get("container", {}).get("args", []))


def test_default_configuration_writes_no_retries_variable(project):
    text, manifest = _manifest(project)
    assert "{{retries}}" not in text and "retryStrategy" not in manifest["spec"]
    task = templates(manifest)["runnable-task"]
    assert "retryStrategy" not in task and task["container"]["args"][0] == "execute-single-node"


def test_retries_variable_only_in_templates_with_a_retry_strategy(project):
    _, manifest = _manifest(project, "retry_strategy: {limit: 2}")
    task = templates(manifest)["runnable-task"]
    assert task["retryStrategy"]["limit"] == "2" and _uses_retries(task)
    for template in templates(manifest).values():
        assert not _uses_retries(template) or "retryStrategy" in template


def test_max_attempts_alone_gives_a_retry_strategy_and_the_attempt_number(project):
    _, manifest = _manifest(project, pipeline="examples/retry_attempts.yaml")
    flaky = [t for t in templates(manifest).values() if _uses_retries(t)]
    assert len(flaky) == 1 and flaky[0]["retryStrategy"]["limit"] == "1"


def test_a_workflow_argument_is_bound_before_workflow_variables_are_substituted(tmp_path):
    """operator.go setGlobalParameters (~707-710) binds workflow.parameters.X to the raw value, and
    substituteGlobalVariables (~4694) rewrites the spec but not that binding: the first pods of a run see
    an argument's '{{workflow.uid}}' as text. So the transpiler writes an empty run_id and --workflow-uid."""
    from extensions.argo.emulation import Emulator

    manifest = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "t-"},
                "spec": {"entrypoint": "main", "arguments": {"parameters": [{"name": "x", "value": "{{workflow.uid}}"}]},
                         "templates": [{"name": "main", "container": {"image": "any", "command": [
                             "/bin/sh", "-c", "echo '{{workflow.parameters.x}}' > /tmp/x"]},
                             "outputs": {"parameters": [{"name": "x", "valueFrom": {"path": "/tmp/x"}}]}}]}}
    (tmp_path / "project").mkdir()
    result = Emulator(manifest, project_dir=tmp_path / "project", state_dir=tmp_path / "state").run()
    assert result.phase == "Succeeded"
    assert result.nodes[0].outputs["x"].strip() == "{{workflow.uid}}"


def test_pods_take_the_workflow_uid_when_run_id_is_empty(project):
    from argo_support import argo_run, run_ids_on_volume

    phase, log = argo_run(project, "examples/hello.yaml", store="file-system")
    assert phase == "Succeeded" and log["status"] == "SUCCESS"
    [run_id] = run_ids_on_volume(project)
    assert "{{" not in run_id and len(run_id) == 36  # a uid, as Argo's workflow.uid is


@pytest.mark.parametrize("expose", [True, False])
def test_a_parameter_set_in_the_environment_of_execute_reaches_the_run(project, expose):
    """RUNNABLE_PRM_count=3 when the manifest is written: the run on the cluster makes 3 chunks, not the
    function's default 5, whether or not parameters are exposed as workflow arguments (the start pod gets
    the variable; an exposed one is its argument's default as well)."""
    extra = "" if expose else "expose_parameters_as_inputs: false"
    phase, run_log = argo_run(project, "examples/map.yaml", store="file-system", extra=extra,
                              env={"RUNNABLE_PRM_count": "3"})
    assert phase == "Succeeded"
    assert run_log["parameters"]["total"]["value"] == 1 + 4 + 9
