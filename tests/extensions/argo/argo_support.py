"""Transpiling through the real CLI, and the checks every generated manifest must pass."""

from __future__ import annotations

import json
import functools
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import SHARED, run_cli

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


@functools.lru_cache(maxsize=1)
def _schema_validator():
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    workflow_only = {"$ref": "#/definitions/io.argoproj.workflow.v1alpha1.Workflow",
                     "definitions": schema["definitions"]}
    return jsonschema.Draft7Validator(workflow_only)


def schema_errors(manifest: dict) -> list[str]:
    if not SCHEMA.exists():
        pytest.skip("Argo's JSON schema (../shared/argo/workflow-schema.json) is not present")
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in _schema_validator().iter_errors(manifest)]


def model_differences(manifest: dict) -> list[str]:
    """Parse with hera's generated models of Argo's whole API; report every field dropped or changed."""
    from hera.workflows.models import Workflow

    back = Workflow.model_validate(manifest).model_dump(by_alias=True, exclude_none=True, mode="json")
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
