"""Argo's ``{{...}}`` variables: replaced from a scope; a variable the scope lacks is an error."""

from __future__ import annotations

import json
import re
from typing import Any

_VAR = re.compile(r"{{\s*([^{}]+?)\s*}}")


class UnresolvedVariable(ValueError):
    pass


def render(text: str, scope: dict[str, str]) -> str:
    def repl(match: re.Match) -> str:
        key = match.group(1)
        if key.startswith("="):
            raise UnresolvedVariable(f"expression templates ('{{{{{key}}}}}') are not emulated")
        if key not in scope:
            raise UnresolvedVariable(f"failed to resolve {{{{{key}}}}}")
        return scope[key]

    return _VAR.sub(repl, text)


def render_all(value: Any, scope: dict[str, str]) -> Any:
    if isinstance(value, str):
        return render(value, scope)
    if isinstance(value, list):
        return [render_all(v, scope) for v in value]
    if isinstance(value, dict):
        return {k: render_all(v, scope) for k, v in value.items()}
    return value


def item_scope(item: Any) -> dict[str, str]:
    """``{{item}}`` (and ``{{item.key}}`` for mapping items) as Argo renders them."""
    if isinstance(item, str):
        return {"item": item}
    scope = {"item": json.dumps(item, separators=(",", ":"))}
    if isinstance(item, dict):
        for k, v in item.items():
            scope[f"item.{k}"] = v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
    return scope
