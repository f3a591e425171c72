"""A step's settings: its executor's configuration, changed by the override the step names.

A step names one with ``overrides: {<executor>: <name>}`` (``argo``, ``local``); the executor's
configuration defines it under ``overrides``. Only the fields an override writes change: a field listed
as ``merged`` is merged (mappings key by key, nested settings field by field), any other is replaced.
The argo executor's pod settings and the local executor's time limit are both read this way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, TypeVar

from pydantic import BaseModel


if TYPE_CHECKING:
    from .nodes import BaseNode

S = TypeVar("S", bound=BaseModel)
O = TypeVar("O", bound=BaseModel)


def named_override(node: "BaseNode", executor: str, overrides: Mapping[str, O], pipeline_file: str | None) -> O | None:
    """The override ``node`` names for ``executor``, if it names one; naming one not defined is an error."""
    name = node.overrides.get(executor)
    if name is None:
        return None
    if name not in overrides:
        error = node.error(f"names no override of the {executor} configuration ('{name}'); defined: "
                           f"{', '.join(sorted(overrides)) or 'none'}", f"overrides.{executor}")
        raise error.located(file=pipeline_file)
    return overrides[name]


def with_override(settings: S, override: BaseModel | None, merged: Iterable[str] = ()) -> S:
    """``settings`` changed by the fields ``override`` writes (see the module's docstring)."""
    if override is None:
        return settings
    merged = set(merged)
    data = settings.model_dump()
    for field in override.model_fields_set:
        value = getattr(override, field)
        data[field] = _merge(data.get(field), value) if field in merged else _plain(value)
    return type(settings).model_validate(data)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _merge(old: Any, new: Any) -> Any:
    if isinstance(new, BaseModel):  # field by field over what was there (or the defaults, if nothing was)
        base = old if isinstance(old, dict) else type(new)().model_dump()
        return {**base, **{f: _merge(base.get(f), getattr(new, f)) for f in new.model_fields_set}}
    if isinstance(new, dict) and isinstance(old, dict):
        return {**old, **new}
    return _plain(new)
