"""Turning pydantic validation errors into the one-line messages users read."""

from __future__ import annotations

from typing import Any, Sequence

from .errors import RunnableError


def _model_at(model: Any, loc: Sequence[Any]) -> Any:
    """The model that holds the last field of ``loc`` (nested models, dicts and lists of them followed)."""
    import typing

    from pydantic import BaseModel

    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(part) if isinstance(part, str) else None
            if info is None:
                return current
            current = info.annotation
            continue
        args = [a for a in typing.get_args(current) if a is not type(None)]
        origin = typing.get_origin(current)
        if origin in (dict, list) and args:
            current = args[-1]
        elif args:  # a union such as X | None: follow the model in it
            current = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), args[0])
            return _model_at(current, [part]) if isinstance(part, str) else current
        else:
            return model
    while typing.get_args(current) and typing.get_origin(current) not in (dict, list):  # X | None
        current = next((a for a in typing.get_args(current) if isinstance(a, type) and issubclass(a, BaseModel)),
                       model)
    return current


def _describe(error: dict, model: type | None) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        if not isinstance(model, (list, tuple, set)) and model is not None:
            model = _model_at(model, list(error.get("loc", ()))[:-1]) or model
        if isinstance(model, (list, tuple, set)):
            allowed = sorted(model)
        else:
            allowed = sorted(getattr(model, "user_fields", None) or getattr(model, "model_fields", {}) or [])
        return f"unknown field; allowed: {', '.join(allowed)}" if allowed else "unknown field"
    if kind == "missing":
        return "is required"
    msg = error.get("msg", "invalid")
    if kind.startswith("value_error"):
        msg = msg.removeprefix("Value error, ")
    if kind in ("literal_error", "enum") and "expected" in (error.get("ctx") or {}):
        return f"must be {error['ctx']['expected']} (got {error.get('input')!r})"
    return msg[:1].lower() + msg[1:]


def from_validation_error(
    exc: Any,
    error_cls: type[RunnableError],
    *,
    file: str | None = None,
    keys: Sequence[Any] = (),
    step: str | None = None,
    model: type | None = None,
    field_prefix: str = "",
) -> RunnableError:
    """The first error of a pydantic ``ValidationError``, located in the YAML file when there is one."""
    from .yamlio import locate

    first = exc.errors()[0]
    loc = [part for part in first.get("loc", ()) if not (isinstance(part, str) and part.startswith("function-"))]
    field = ".".join(str(p) for p in loc) or None
    if field_prefix:
        field = f"{field_prefix}.{field}" if field else field_prefix
    line = locate(file, [*keys, *loc]) if file else None
    return error_cls(_describe(first, model), file=file, line=line, step=step, field=field)
