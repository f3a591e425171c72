"""Parameters: the initial file, ``RUNNABLE_PRM_`` overrides, binding to functions, and returns.

A run's parameters are :class:`~runnable.run_log.Parameter` records: ``json`` values are stored in
the run log, ``object`` values are pickled into the catalog (the run log keeps their path), ``metric``
values are stored and listed as the step's metrics.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections.abc import Set as AbstractSet
from typing import Any, Callable, Iterable

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .run_log import Parameter, ParameterKind
from .errors import ParameterError

ENV_PREFIX = "RUNNABLE_PRM_"


class ReturnSpec(BaseModel):
    """One value a task returns: its parameter name and its kind."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: ParameterKind = "json"

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        return parameter_name(value)


def parameter_name(value: str) -> str:
    """A model's check of a field naming a parameter: a Python identifier, as a function's argument is."""
    if not value.isidentifier():
        raise ValueError(f"'{value}' is not a valid parameter name (letters, digits, '_', not starting with a digit)")
    return value


def parse_returns(value: Any) -> list[Any]:
    """``returns: [x, {name: df, kind: object}]`` -> what ``list[ReturnSpec]`` validates (a string is a json
    return), so that a wrong item is reported where it is written (``returns.1.kind``)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("must be a list of names or {name, kind} mappings")
    try:  # a name alone is reported as a problem of 'returns' (the line of the list), a mapping where it is
        items = [ReturnSpec(name=v) if isinstance(v, str) else v for v in value]
    except ValidationError as exc:
        from .diagnostics import first_error

        raise ValueError(first_error(exc, where=False)) from None
    seen: set[str] = set()
    for item in items:
        name = item.name if isinstance(item, ReturnSpec) else item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name in seen:
            raise ValueError(f"'{name}' is returned twice")
        seen.add(name)
    return items


def initial_parameters(path: str | None) -> dict[str, Parameter]:
    """The parameters file (a YAML mapping) overlaid with ``RUNNABLE_PRM_<name>=<json>`` variables."""
    from .yamlio import load_mapping, locate

    params: dict[str, Parameter] = {}
    if path:
        data = load_mapping(path, error=ParameterError, of="parameter names to values")
        for name, value in data.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise ParameterError("parameter names must be identifiers (letters, digits, '_')", file=path,
                                     line=locate(path, [name]), field=str(name))
            params[name] = Parameter(kind="json", value=value)
    for key, raw in os.environ.items():
        if key.startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX):
            name = key[len(ENV_PREFIX):]
            if not name.isidentifier():
                raise ParameterError(f"environment variable {key}: '{name}' is not a parameter name (letters, "
                                     "digits and '_', not starting with a digit)")
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                value = raw
            params[name] = Parameter(kind="json", value=value)
    return params


def to_json(value: Any, name: str) -> Any:
    """A returned value as JSON (pydantic models dumped); anything else must be declared ``kind: object``."""
    from pydantic_core import PydanticSerializationError, to_jsonable_python

    try:
        out = to_jsonable_python(value)
        json.dumps(out)
        return out
    except (PydanticSerializationError, TypeError, ValueError):
        raise ParameterError(
            f"return '{name}' of type {type(value).__name__} is not JSON: declare it {{name: {name}, kind: object}}"
        ) from None


@functools.lru_cache(maxsize=512)
def _adapter(annotation: Any):
    from pydantic import TypeAdapter

    return TypeAdapter(annotation)


def coerce(value: Any, annotation: Any, name: str) -> Any:
    """Convert ``value`` to the argument's annotation (int, float, bool, list, dict, pydantic models...)."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return value
    if isinstance(annotation, type) and isinstance(value, annotation) and annotation not in (bool, int, float):
        return value
    try:
        return _adapter(annotation).validate_python(value)
    except TypeError:  # annotation pydantic cannot build a validator for: pass the value as it is
        return value
    except ValidationError as exc:
        from .diagnostics import first_error

        raise ParameterError(
            f"parameter '{name}' ({type(value).__name__} {_short(value)}) cannot be converted to "
            f"{getattr(annotation, '__name__', annotation)}: {first_error(exc)}"
        ) from None
    except Exception as exc:  # a validator of the user's own raised something else
        raise ParameterError(f"parameter '{name}' cannot be converted to "
                             f"{getattr(annotation, '__name__', annotation)}: {exc}") from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def binding(func: Callable, available: Iterable[str]) -> list[tuple[str, Any]]:
    """The arguments ``func`` is called with, filled by name from the parameters ``available``: (name,
    annotation) pairs; a required argument that no parameter fills is a :class:`ParameterError`."""
    signature = _signature(func)
    if not isinstance(available, AbstractSet):  # a set is used as it is (pre-flight asks for each step)
        available = set(available)
    args: list[tuple[str, Any]] = []
    takes_var_kw = False
    for pname, param in signature.parameters.items():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            takes_var_kw = True
            continue
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        if pname in available:
            args.append((pname, param.annotation))
        elif param.default is inspect.Parameter.empty:
            raise ParameterError(f"function argument '{pname}' has no parameter of that name and no default")
    if takes_var_kw:
        named = {pname for pname, _ in args}
        args.extend((pname, inspect.Parameter.empty) for pname in sorted(available) if pname not in named)
    return args


def bind(func: Callable, available: Iterable[str], load: Callable[[str], Any]) -> tuple[dict[str, Any], list[str]]:
    """Keyword arguments for ``func`` filled by name from the parameters; returns them and the names used."""
    kwargs = {pname: coerce(load(pname), annotation, pname) for pname, annotation in binding(func, available)}
    return kwargs, list(kwargs)


def return_annotation(func: Callable) -> Any:
    """What ``func`` says it returns (``inspect.Signature.empty`` when it does not say, or has no signature)."""
    try:
        return _signature(func).return_annotation
    except (ValueError, TypeError):  # a builtin without a signature
        return inspect.Signature.empty


@functools.lru_cache(maxsize=1024)
def _signature(func: Callable) -> inspect.Signature:
    try:
        from typing import get_type_hints

        hints = get_type_hints(func)
    except Exception:
        hints = {}
    sig = inspect.signature(func)
    params = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in sig.parameters.values()]
    return sig.replace(parameters=params, return_annotation=hints.get("return", sig.return_annotation))


def split_returns(result: Any, specs: list[ReturnSpec]) -> dict[str, Any]:
    """A function's return value spread over its declared returns (a tuple for several)."""
    if not specs:
        return {}
    if len(specs) == 1:
        return {specs[0].name: result}
    if not isinstance(result, (tuple, list)) or len(result) != len(specs):
        raise ParameterError(
            f"the function must return {len(specs)} values ({', '.join(s.name for s in specs)}), "
            f"got {type(result).__name__}"
        )
    return {spec.name: value for spec, value in zip(specs, result)}


def as_env(value: Any) -> str:
    """How a parameter reaches a shell task: strings as they are, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def from_env(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return text
