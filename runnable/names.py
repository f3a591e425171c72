"""Internal names: the dotted path of a step or branch inside the run log.

A step at the top level is named by itself (``train``); a step inside a branch is named by the path of
steps and branches leading to it (``fan.3.inner``, ``join.left.a``). Step names may contain dots and
backslashes, so a segment's ``.`` and ``\\`` are escaped and :func:`split` undoes exactly what
:func:`join` did.
"""

from __future__ import annotations

SEPARATOR = "."


def escape(segment: str) -> str:
    return segment.replace("\\", "\\\\").replace(".", "\\.")


def join(*segments: str) -> str:
    return SEPARATOR.join(escape(s) for s in segments)


def append(prefix: str, *segments: str) -> str:
    """The internal name of ``segments`` inside ``prefix`` (an internal name itself, or empty)."""
    tail = join(*segments)
    return f"{prefix}{SEPARATOR}{tail}" if prefix else tail


def split(internal_name: str) -> list[str]:
    segments: list[str] = []
    current: list[str] = []
    chars = iter(internal_name)
    for ch in chars:
        if ch == "\\":
            current.append(next(chars, "\\"))
        elif ch == SEPARATOR:
            segments.append("".join(current))
            current = []
        else:
            current.append(ch)
    segments.append("".join(current))
    return segments


def parent(internal_name: str) -> str:
    """The internal name one level up ('' at the top)."""
    segments = split(internal_name)
    return join(*segments[:-1]) if len(segments) > 1 else ""


def log_name(internal_name: str, digest_chars: int = 10) -> str:
    """A file name for a step's files: readable, safe, and distinct for distinct steps."""
    import hashlib

    readable = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in internal_name)
    readable = readable[:60].strip("-") or "step"
    digest = hashlib.sha1(internal_name.encode()).hexdigest()[:digest_chars]
    return f"{readable}-{digest}"
