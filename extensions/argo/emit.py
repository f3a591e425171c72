"""Writing manifests as block YAML, fast.

ruamel.yaml's emitter takes about 1.8 s for a 5,000-step manifest, most of a transpile's budget; this
writer covers only what manifests hold (mappings, lists, strings, numbers, booleans, null) and quotes
every string that a YAML reader could take for something else. Tests read its output back with
ruamel.yaml and compare, over generated documents and every example's manifest.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~", ".inf", ".nan"}


def _quote(text: str) -> str:
    """A double-quoted YAML scalar; JSON's escapes are YAML's, and non-ASCII is escaped as YAML does."""
    if text.isascii():
        return json.dumps(text)
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return _quote(text)


def _emit(value: Any, indent: str, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            k = scalar(key)
            if isinstance(item, dict) and item:
                out.append(f"{indent}{k}:\n")
                _emit(item, indent + "  ", out)
            elif isinstance(item, list) and item:
                out.append(f"{indent}{k}:\n")
                _emit(item, indent, out)
            else:
                out.append(f"{indent}{k}: {_inline(item)}\n")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                lines: list[str] = []
                _emit(item, indent + "  ", lines)
                lines[0] = f"{indent}- {lines[0][len(indent) + 2:]}"
                out.extend(lines)
            elif isinstance(item, list) and item:
                lines = []
                _emit(item, indent + "  ", lines)
                lines[0] = f"{indent}- {lines[0][len(indent) + 2:]}"
                out.extend(lines)
            else:
                out.append(f"{indent}- {_inline(item)}\n")
    else:
        out.append(f"{indent}{_inline(value)}\n")


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


def dump(document: Any) -> str:
    out: list[str] = []
    _emit(document, "", out)
    return "".join(out)
