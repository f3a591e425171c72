"""A manifest written with the default configuration runs its first task on a real cluster.

Argo binds ``{{retries}}`` only where a retry strategy applies (workflow/controller/operator.go,
executeTemplate: ``localParams[Retries]`` inside ``if woc.retryStrategy(processedTmpl) != nil``; retryStrategy()
falls back to spec.retryStrategy, else nil). A ``{{retries}}`` anywhere else reaches the pod as literal text.
"""

from __future__ import annotations

from argo_support import templates, transpile

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
