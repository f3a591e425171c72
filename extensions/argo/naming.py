"""Argo names for steps, branches and templates.

Step names may hold spaces, dots, unicode and be long; Argo's template and task names must match
``^[a-zA-Z0-9][-a-zA-Z0-9]*$`` (at most 128 characters; we keep to 63, Kubernetes' label length, to
stay readable). A name is the step's name made ASCII, lowercase, with runs of anything else turned
into ``-``; where two names would collide, or a name is too long, a short hash of the original is
added. Everything is a function of the pipeline, so the same pipeline always gets the same names.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Iterable

MAX_LENGTH = 63
# validate.go isValidWorkflowFieldName (workflowFieldNameFmt): template and task names
NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _digest(key: object) -> str:
    return hashlib.sha1(repr(key).encode()).hexdigest()[:8]


class NameAllocator:
    """Hands out distinct Argo names within one scope (a DAG's tasks, or all templates)."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self.used: set[str] = set(reserved)
        self.by_key: dict[object, str] = {}

    def reserve(self, name: str) -> str:
        self.used.add(name)
        self.by_key[name] = name
        return name

    def allocate(self, key: str | tuple[str, ...]) -> str:
        """The name for ``key`` (a step name, or a path of names joined with '-')."""
        if key in self.by_key:
            return self.by_key[key]
        parts = (key,) if isinstance(key, str) else key
        base = "-".join(p for p in (slug(part) for part in parts) if p) or "step"
        lossy = "-".join(parts) != base  # changed characters: another original may map here too
        name = base
        if len(name) > MAX_LENGTH or name in self.used or (lossy and not NAME.match(name)):
            name = f"{base[:MAX_LENGTH - 9].rstrip('-')}-{_digest(key)}"
        while name in self.used:  # a hash collision: vanishingly rare, still deterministic
            name = f"{name[:MAX_LENGTH - 9].rstrip('-')}-{_digest((key, name))}"
        self.used.add(name)
        self.by_key[key] = name
        return name

    def derive(self, base: str, suffix: str) -> str:
        """A name made from an allocated one (``fan`` -> ``fan-in``), distinct from every other."""
        return self.allocate((base, suffix))
