"""Turning pydantic validation errors into the one-line messages users read."""

from __future__ import annotations

from typing import Any, Sequence

from .errors import RunnableError


def _model_at(model: Any, loc: Sequence[Any]) -> Any:
    """The model that holds the last field of ``loc`` (through nested models, dicts, lists, ``X | None``)."""
    import typing

    current: Any = model
    for part in loc:
        current = _unwrap(current)
        fields = getattr(current, "model_fields", None)
        if isinstance(part, str) and isinstance(fields, dict) and part in fields:
            current = fields[part].annotation
        elif typing.get_origin(current) in (dict, list) and typing.get_args(current):
            current = typing.get_args(current)[-1]  # past a key or an index
        else:
            return None
    return _unwrap(current)


def _unwrap(annotation: Any) -> Any:
    """``X | None`` (or any union holding a model): the model."""
    import typing

    if typing.get_origin(annotation) in (dict, list):
        return annotation
    models = [a for a in typing.get_args(annotation) if hasattr(a, "model_fields")]
    return models[0] if models else annotation


def written(value: Any) -> str:
    """A value read from YAML (or the environment), told as the user wrote it: its kind and its text, cut at
    40 characters. YAML reads ``1`` as a number and ``true`` as a boolean; the message says so."""
    import json

    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    text = json.dumps(value, default=str, ensure_ascii=False)
    text = text if len(text) <= 40 else text[:37] + "..."
    kinds = {str: "the string", list: "a list", dict: "a mapping"}
    return f"{kinds.get(type(value), type(value).__name__)} {text}"


def is_number(value: Any) -> bool:
    """A YAML number (not a boolean): what a user meant as a name when they did not quote it."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def first_error(exc: Any, *, where: bool = True) -> str:
    """The first problem of a pydantic ``ValidationError`` in its words (without the "Value error, " pydantic
    puts before a validator's own), with where it is when it says (and ``where``)."""
    first = exc.errors()[0]
    at = ".".join(str(p) for p in first.get("loc", ())) if where else ""
    return first["msg"].removeprefix("Value error, ") + (f" (at {at})" if at else "")


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
    msg = msg[:1].lower() + msg[1:]
    written = error.get("input")
    if not kind.startswith("value_error") and isinstance(written, (str, int, float)) and len(repr(written)) <= 60:
        msg += f" (got {written!r})"  # a range or type error: the value written, as a validator's message says it
    return msg


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
