"""Transpiling through the real CLI, and the checks every generated manifest must pass."""

from __future__ import annotations

import json
import functools
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import SHARED, read_run_log, run_cli

IMAGE = "registry.example.com/team/project:1.4.2"
SCHEMA = SHARED / "argo" / "workflow-schema.json"


def transpile(project: Path, pipeline: str, *, config: str = "examples/configs/argo-config.yaml",
              parameters: str | None = None, env: dict | None = None, output: str = "argo-pipeline.yaml"):
    args = ["execute", "-f", pipeline, "-c", config]
    if parameters:
        args += ["-p", parameters]
    result = run_cli(args, project, {"RUNNABLE_VAR_argo_docker_image": IMAGE, **(env or {})})
    assert result.returncode == 0, result.stderr
    text = (project / output).read_text()
    return text, YAML(typ="safe").load(text)


@functools.lru_cache(maxsize=None)
def _schema_validator(kind: str):
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    one_kind = {"$ref": f"#/definitions/io.argoproj.workflow.v1alpha1.{kind}", "definitions": schema["definitions"]}
    return jsonschema.Draft7Validator(one_kind)


def schema_errors(manifest: dict) -> list[str]:
    """Problems against the definition of the manifest's kind (Workflow, WorkflowTemplate, CronWorkflow)."""
    if not SCHEMA.exists():
        pytest.skip("Argo's JSON schema (../shared/argo/workflow-schema.json) is not present")
    validator = _schema_validator(manifest.get("kind", "Workflow"))
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(manifest)]


def model_differences(manifest: dict) -> list[str]:
    """Parse with hera's generated models of Argo's whole API (the manifest's kind); report every field dropped
    or changed."""
    from hera.workflows import models

    model = getattr(models, manifest.get("kind", "Workflow"))
    back = model.model_validate(manifest).model_dump(by_alias=True, exclude_none=True, mode="json")
    out: list[str] = []
    stack = [("", manifest, back)]
    while stack:
        path, a, b = stack.pop()
        if isinstance(a, dict) and isinstance(b, dict):
            for k in set(a) | set(b):
                if k not in b:
                    out.append(f"dropped {path}.{k}")
                elif k not in a:
                    out.append(f"added {path}.{k}")
                else:
                    stack.append((f"{path}.{k}", a[k], b[k]))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            stack.extend((f"{path}[{i}]", x, y) for i, (x, y) in enumerate(zip(a, b)))
        elif a != b:
            out.append(f"changed {path}: {a!r} -> {b!r}")
    return out


def templates(manifest: dict) -> dict[str, dict]:
    return {t["name"]: t for t in manifest["spec"]["templates"]}


def tasks(manifest: dict, template: str = "runnable") -> dict[str, dict]:
    return {t["name"]: t for t in templates(manifest)[template]["dag"]["tasks"]}


# --- running manifests in the emulator, with the run log and catalog on a persistent volume ----------
SECRET = "emulated-token-value"

E2E_CONFIG = """
pipeline-executor:
  type: argo
  config:
    image: runnable-test:latest
    secrets_from_k8s:
      - {{environment_variable: API_TOKEN, secret_name: api, secret_key: token}}
    env: {{FLAKY_MARKER_DIR: /mnt, RETRY_DEMO_DIR: /mnt}}
    persistent_volumes: [{{name: runnable-volume, mount_path: /mnt}}]
    {extra}
run-log-store:
  type: {store}
  config: {{log_folder: /mnt/run_log_store}}
catalog:
  type: file-system
  config: {{catalog_location: /mnt/catalog}}
"""


def state_dir(project: Path) -> Path:
    """Where the emulator keeps its volumes: ``volume(project)`` is what pods see at /mnt."""
    return project.parent / (project.name + "-state")


def volume(project: Path) -> Path:
    return state_dir(project) / "volumes" / "runnable-volume"


def emulate(project: Path, manifest: str = "argo-pipeline.yaml", submit: list[str] = ()) -> str:
    """Run a manifest in the emulator (volumes kept between calls); the workflow's phase."""
    (project / "secrets.yaml").write_text(f"api:\n  token: {SECRET}\n")
    submitted = [x for p in submit for x in ("-p", p)]
    emulated = run_cli(["emulate", manifest, "--secrets", "secrets.yaml", "--state-dir", str(state_dir(project)),
                        "--backoff-scale", "0", *submitted], project, timeout=600)
    assert "workflow " in emulated.stderr, emulated.stderr
    return "Succeeded" if emulated.returncode == 0 else "Failed"


def run_ids_on_volume(project: Path) -> list[str]:
    logs = volume(project) / "run_log_store"
    return sorted(p.name.removesuffix(".json") for p in logs.iterdir() if not p.name.startswith("."))


def volume_run_log(project: Path, run_id: str) -> dict:
    return read_run_log(volume(project), run_id, folder="run_log_store")


def argo_run(project: Path, pipeline: str, *, store: str, parameters: str | None = None, extra: str = "",
             submit: list[str] = (), env: dict | None = None) -> tuple[str, dict]:
    """Transpile ``pipeline`` with the end-to-end configuration and run it: the phase and the run log."""
    (project / "argo-e2e.yaml").write_text(E2E_CONFIG.format(store=store, extra=extra))
    args = ["execute", "-f", pipeline, "-c", "argo-e2e.yaml"] + (["-p", parameters] if parameters else [])
    result = run_cli(args, project, env)
    assert result.returncode == 0, result.stderr
    phase = emulate(project, submit=submit)
    run_ids = run_ids_on_volume(project)
    assert len(run_ids) == 1, run_ids
    return phase, volume_run_log(project, run_ids[0])
