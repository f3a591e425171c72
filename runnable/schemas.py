"""JSON Schemas of the pipeline and configuration files (``runnable schema pipeline|config``), for editors.

Built at run time from the pydantic models of the installed plugins, so a step type, task type or
service that a plugin adds is in the schema as soon as it is installed:

- a step is chosen by its ``type`` among the ``runnable.nodes`` plugins; a ``task`` step by its
  ``command_type`` among the ``runnable.tasks`` plugins (``python`` when absent); its fields are the
  node's fields and the task type's;
- a composite step's branches are not pydantic fields (the node builds them itself): a step type that
  accepts ``branch`` takes one pipeline there, and one that accepts ``branches`` a mapping of them;
- each configuration section is a service name, or ``{type, config}`` where ``config`` follows that
  service's model;
- a field converted before it is validated (a pydantic ``mode="before"`` validator) accepts what its
  ``json_schema_input_type`` says; one that does not say (it may take other shapes than the one it is
  kept as, e.g. one schedule or a list of them) accepts any value here, and loading checks it.

The schemas say what the YAML may hold, not everything loading checks (a ``next`` that names no step,
cycles): ``runnable execute`` still tells those.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema

DRAFT = "https://json-schema.org/draft/2020-12/schema"
TERMINAL = ("success", "fail")


class _WrittenForm(GenerateJsonSchema):
    """What a user may write: a before-validator's declared input, or anything when it declares none."""

    def function_before_schema(self, schema):
        model_level = schema["schema"].get("type") in ("model-fields", "model", "definition-ref")
        if model_level or schema.get("json_schema_input_schema"):
            return super().function_before_schema(schema)
        return {}


def _model_schema(cls: type, prefix: str, defs: dict[str, Any]) -> dict[str, Any]:
    """``cls``'s JSON Schema, its definitions moved into ``defs`` under names starting with ``prefix``."""
    schema = cls.model_json_schema(ref_template="#/$defs/" + prefix + "{model}", schema_generator=_WrittenForm)
    for name, definition in schema.pop("$defs", {}).items():
        defs[prefix + name] = definition
    return schema


def _object(properties: dict, required: list[str], *, extra: bool = False, description: str = "",
            title: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": extra}
    if required:
        out["required"] = sorted(set(required))
    if description:
        out["description"] = description
    if title:
        out["title"] = title
    return out


def _doc(cls: type) -> str:
    return " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())


def _choose(field: str, variants: dict[str, dict], *, default: str | None = None) -> list[dict[str, Any]]:
    """``if field is X then variant X`` for each variant (the default also when the field is absent)."""
    rules = []
    for name, schema in variants.items():
        condition: dict[str, Any] = {"properties": {field: {"const": name}}}
        if name != default:
            condition["required"] = [field]
        rules.append({"if": condition, "then": schema})
    return rules


def _branch_fields(cls: type) -> dict[str, dict]:
    """The branches a composite step type takes, by field name (not pydantic fields: see the module's doc)."""
    user_fields = getattr(cls, "user_fields", ()) or ()
    found = {}
    if "branch" in user_fields:
        found["branch"] = {"$ref": "#/$defs/pipeline", "description": "The pipeline each item runs."}
    if "branches" in user_fields:
        found["branches"] = {"type": "object", "minProperties": 1, "additionalProperties": {"$ref": "#/$defs/pipeline"},
                             "description": "Branch names and their pipelines; every branch runs."}
    return found


def _step_schema(node_type: str, cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    from . import plugins

    schema = _model_schema(cls, f"{node_type}.", defs)
    properties = dict(schema.get("properties", {}))
    properties["type"] = {"const": node_type}
    required = list(schema.get("required", [])) + ["type"]
    for name, branch in _branch_fields(cls).items():
        properties[name] = branch
        required.append(name)
    extra = cls.model_config.get("extra") == "allow"
    if node_type in TERMINAL:
        properties.pop("next", None)
        properties.pop("on_failure", None)
    else:
        required.append("next")
    if node_type != "task":
        return _object(properties, required, extra=extra, description=_doc(cls), title=f"{node_type} step")
    variants = {}
    for command_type in plugins.available("tasks"):
        task_cls = plugins.load("tasks", command_type)
        task = _model_schema(task_cls, f"task.{command_type}.", defs)
        merged = {**properties, **task.get("properties", {}), "command_type": {"const": command_type}}
        variants[command_type] = _object(merged, required + list(task.get("required", [])), extra=extra,
                                         title=f"{command_type} task", description=_doc(task_cls))
    return {"type": "object", "title": "task step", "description": _doc(cls),
            "properties": {"command_type": {"enum": sorted(variants), "default": "python"}},
            "allOf": _choose("command_type", variants, default="python")}


def pipeline_schema() -> dict[str, Any]:
    """The schema of a pipeline file (``dag: {start_at, steps, ...}``)."""
    from . import plugins

    defs: dict[str, Any] = {}
    step_types = plugins.available("nodes")
    steps = {t: _step_schema(t, plugins.load("nodes", t), defs) for t in step_types}
    defs["step"] = {"type": "object", "required": ["type"], "properties": {"type": {"enum": step_types}},
                    "allOf": _choose("type", steps)}
    defs["pipeline"] = _object({
        "start_at": {"type": "string", "description": "The name of the first step."},
        "steps": {"type": "object", "minProperties": 1, "additionalProperties": {"$ref": "#/$defs/step"},
                  "description": "Step names and their definitions."},
        "description": {"type": "string"},
        "name": {"type": "string"},
    }, ["start_at", "steps"])
    return {"$schema": DRAFT, "$id": "https://runnable.local/schemas/pipeline.json", "title": "runnable pipeline",
            **_object({"dag": {"$ref": "#/$defs/pipeline"}}, ["dag"]), "$defs": defs}


def config_schema() -> dict[str, Any]:
    """The schema of a configuration file (``-c``): each service a plugin name or ``{type, config}``."""
    from . import plugins
    from .config import ALIASES

    defs: dict[str, Any] = {}
    properties = {}
    for service in dict.fromkeys(ALIASES.values()):
        names = plugins.available(service)
        variants = {}
        for name in names:
            cls = plugins.load(service, name)
            try:
                settings = _model_schema(cls, f"{service}.{name}.", defs)
            except Exception:  # noqa: BLE001 - a plugin whose settings pydantic cannot describe: any mapping
                settings = {"type": "object"}
            settings.pop("title", None)
            variants[name] = _object({"type": {"const": name}, "config": {**settings, "description": _doc(cls)}},
                                     ["type"])
        defs[service] = {"anyOf": [
            {"enum": names, "description": f"a {plugins.KIND_LABELS[service]} with its default settings"},
            {"type": "object", "required": ["type"], "properties": {"type": {"enum": names}},
             "allOf": _choose("type", variants)},
        ]}
        for spelling, canonical in ALIASES.items():
            if canonical == service:
                properties[spelling] = {"$ref": f"#/$defs/{service}"}
    return {"$schema": DRAFT, "$id": "https://runnable.local/schemas/config.json", "title": "runnable configuration",
            **_object(properties, []), "$defs": defs}
