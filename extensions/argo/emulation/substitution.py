"""Argo's ``{{...}}`` variables: replaced from a scope; a variable the scope lacks is an error."""

from __future__ import annotations

import json
import re
from typing import Any

_VAR = re.compile(r"{{\s*([^{}]+?)\s*}}")


# The value of a Skipped or Omitted task's output parameter that has no valueFrom.default: an "absent optional"
# (scope.go addSkippedNodeOutputsToScope ~line 140), which no substitution may use.
ABSENT = "\x00absent optional\x00"


class UnresolvedVariable(ValueError):
    pass


def render(text: str, scope: dict[str, str]) -> str:
    def repl(match: re.Match) -> str:
        key = match.group(1)
        if key.startswith("="):
            raise UnresolvedVariable(f"expression templates ('{{{{{key}}}}}') are not emulated")
        if key not in scope:
            raise UnresolvedVariable(f"failed to resolve {{{{{key}}}}}")
        if scope[key] == ABSENT:  # util/template simple_template.go simpleReplaceStrict
            raise UnresolvedVariable(f"unable to substitute {{{{{key}}}}}: output is an absent optional "
                                     f"(skipped/omitted node with no default)")
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


def _compact(value: Any) -> str:
    """An item as Argo prints it (Item.String, pkg/apis/workflow/v1alpha1/item.go ~line 61): a string as
    is, anything else as compact JSON with mapping keys sorted (Go's json.Marshal)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def item_scope(item: Any) -> dict[str, str]:
    """``{{item}}`` (and ``{{item.key}}`` for mapping items) as Argo renders them (operator.go processItem)."""
    scope = {"item": _compact(item)}
    if isinstance(item, dict):
        for k, v in item.items():
            scope[f"item.{k}"] = _compact(v)
    return scope


def item_label(item: Any) -> str:
    """What goes between ``(i:`` and ``)`` in a loop child's name: the item, a mapping as its sorted
    ``key:value`` pairs joined by commas, without parentheses (operator.go processItem ~line 4098,
    generateNodeName ~line 4159)."""
    if isinstance(item, dict):
        text = ",".join(sorted(f"{k}:{_compact(v)}" for k, v in item.items()))
    elif isinstance(item, list):  # Go's fmt of a list: "[a b]"
        text = "[" + " ".join(_compact(v) for v in item) + "]"
    else:
        text = _compact(item)
    return text.replace("(", "").replace(")", "")
