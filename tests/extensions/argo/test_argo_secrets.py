"""Kubernetes secrets (secrets_from_k8s) reach only the pods that run user code, and of those a task that
declares ``secrets`` gets only the ones it declares."""

from __future__ import annotations

import io

from ruamel.yaml import YAML

from conftest import run_cli

from argo_support import E2E_CONFIG, SECRET, emulate, run_ids_on_volume, templates, transpile, volume_run_log


def config(prefix: str = "", token_variable: str = "A") -> str:
    """The end-to-end configuration with two Kubernetes secrets, A and B. Both read the secret the emulator
    is given (argo_support.emulate: api/token), so a pod's environment shows which its template carries."""
    data = YAML(typ="safe").load(E2E_CONFIG.format(store="file-system", extra=""))
    data["pipeline-executor"]["config"]["secrets_from_k8s"] = [
        {"environment_variable": name, "secret_name": "api", "secret_key": "token"} for name in (token_variable, "B")]
    data["secrets"] = {"type": "env-secrets", "config": {"prefix": prefix}}
    out = io.StringIO()
    YAML(typ="safe").dump(data, out)
    return out.getvalue()


PIPELINE = """
dag:
  start_at: placeholder
  steps:
    placeholder: {type: stub, next: only a}
    only a:
      type: task
      command_type: shell
      command: 'export only_a_sees="${A:+A}${B:+B}"'
      returns: [only_a_sees]
      secrets: [A]
      next: also only a
    also only a: {type: task, command_type: shell, command: 'true', secrets: [A], next: every}
    every:
      type: task
      command_type: shell
      command: 'export every_sees="${A:+A}${B:+B}"'
      returns: [every_sees]
      next: fan
    fan:
      type: parallel
      next: success
      branches:
        one:
          start_at: each
          steps:
            each: {type: task, command_type: shell, command: 'true', secrets: [B, A], next: success}
"""


def manifest(project, pipeline: str = PIPELINE, prefix: str = "") -> dict:
    (project / "p.yaml").write_text(pipeline)
    (project / "argo-secrets.yaml").write_text(config(prefix))
    return transpile(project, "p.yaml", config="argo-secrets.yaml")[1]


def secret_refs(template: dict) -> set[str]:
    return {e["name"] for e in template.get("container", {}).get("env") or [] if "valueFrom" in e}


def template_of(m: dict, task: str, dag: str = "runnable") -> dict:
    return templates(m)[next(t["template"] for t in templates(m)[dag]["dag"]["tasks"] if t["name"] == task)]


def test_start_fan_and_end_pods_get_no_secret(project):
    m = manifest(project)
    by_command = {}
    for t in templates(m).values():
        if "container" in t:
            by_command.setdefault(t["container"]["args"][0], []).append(t)
    assert set(by_command) == {"start-run", "end-run", "fan", "execute-single-node"}
    for command in ("start-run", "end-run", "fan"):
        assert "secretKeyRef" not in str(by_command[command]), command
    assert all(secret_refs(t) for t in by_command["execute-single-node"] if t["name"] != "runnable-task-no-secrets")
    assert secret_refs(template_of(m, "placeholder")) == set()  # a stub runs no user code


def test_a_task_gets_only_the_secrets_it_declares(project):
    m = manifest(project)
    assert secret_refs(template_of(m, "only-a")) == {"A"}
    assert secret_refs(template_of(m, "every")) == {"A", "B"}
    # equal secrets share a template; declaring every secret is the same pod as declaring none
    assert template_of(m, "also-only-a") is template_of(m, "only-a")
    assert template_of(m, "each", dag="fan-one") is template_of(m, "every")
    assert [template_of(m, n)["name"] for n in ("placeholder", "only-a", "every")] == [
        "runnable-task-no-secrets", "runnable-task-secrets-a", "runnable-task"]


def test_declared_names_follow_the_env_secrets_prefix(project):
    prefixed = PIPELINE.replace("secrets: [A]", "secrets: [TOKEN]").replace("secrets: [B, A]", "secrets: [TOKEN]")
    (project / "p.yaml").write_text(prefixed)
    (project / "argo-secrets.yaml").write_text(config("SVC_", token_variable="SVC_TOKEN"))
    m = transpile(project, "p.yaml", config="argo-secrets.yaml")[1]
    assert secret_refs(template_of(m, "only-a")) == {"SVC_TOKEN"}


def test_a_declared_secret_no_entry_provides_is_refused(project):
    (project / "p.yaml").write_text(PIPELINE.replace("secrets: [B, A]", "secrets: [A, C]"))
    (project / "argo-secrets.yaml").write_text(config())
    result = run_cli(["execute", "-f", "p.yaml", "-c", "argo-secrets.yaml"], project)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.error_lines == ["error: p.yaml: step 'each': field 'secrets': 'C' is not provided by "
                                  "secrets_from_k8s of the argo configuration; provided: A, B"]
    assert not (project / "argo-pipeline.yaml").exists()


def test_in_the_emulator_a_pod_sees_only_the_declared_secrets(project):
    manifest(project)
    assert emulate(project) == "Succeeded"
    log = volume_run_log(project, run_ids_on_volume(project)[0])
    assert log["parameters"]["only_a_sees"]["value"] == "A"
    assert log["parameters"]["every_sees"]["value"] == "AB"
    assert SECRET not in str(log)


def test_a_manager_that_reads_no_environment_matches_names_as_they_are(project):
    (project / "p.yaml").write_text(PIPELINE.replace("secrets: [B, A]", "secrets: [A, C]"))
    (project / "argo-secrets.yaml").write_text(config().replace("type: env-secrets", "type: dotenv").replace(
        "prefix: ''", "location: secrets.env"))
    m = transpile(project, "p.yaml", config="argo-secrets.yaml")[1]  # C may be in the .env file: no check
    assert secret_refs(template_of(m, "each", dag="fan-one")) == {"A"}
