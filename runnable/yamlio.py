"""Reading and writing YAML.

Reading is done twice only when needed: the fast safe loader reads every file, and the round-trip
loader (which keeps line numbers) runs only when a message needs the line of a key.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any, Sequence

from .errors import RunnableError


def _safe_yaml():
    from ruamel.yaml import YAML

    try:
        return YAML(typ="safe", pure=False)
    except Exception:  # pragma: no cover - no C extension
        return YAML(typ="safe", pure=True)


def load(path: str | Path, *, error: type[RunnableError] = RunnableError) -> Any:
    """Load a YAML file; a missing file or a syntax error is one line naming the file and line."""
    return parse(read(path, error=error), path, error=error)


def read(path: str | Path, *, error: type[RunnableError] = RunnableError) -> str:
    """The text of a file; a missing or unreadable file is one line naming it."""
    p = Path(path)
    try:
        if p.exists() and not p.is_file():  # a FIFO or a device would block the read forever
            raise error("cannot be read (not a regular file)", file=str(path))
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error("file not found", file=str(path)) from None
    except (OSError, ValueError) as exc:  # a folder, no permission, not UTF-8, a NUL in the path
        raise error(f"cannot be read ({exc.__class__.__name__})", file=str(path)) from None


def parse(text: str, path: str | Path, *, error: type[RunnableError] = RunnableError) -> Any:
    """The YAML ``text`` read from ``path`` (named in messages); a syntax error is one line naming its line."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        data = _safe_yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise error(f"not valid YAML: {exc.problem or exc.context}", file=str(path), line=line) from None
    except YAMLError as exc:
        raise error(f"not valid YAML: {exc}".splitlines()[0], file=str(path)) from None
    except RecursionError:
        raise error(f"nested deeper than {MAX_DEPTH} levels", file=str(path)) from None
    problem = _check_size(data)
    if problem:
        raise error(problem, file=str(path))
    return data


def load_mapping(path: str | Path, *, error: type[RunnableError], of: str) -> dict:
    """A YAML file that holds a mapping (``of`` what, for the message); an empty file is an empty mapping."""
    data = load(path, error=error)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error(f"must be a mapping of {of}", file=str(path))
    return data


# Limits on what a YAML file may expand to (docs/errors.md): aliases (*name) repeat what their anchor holds,
# so a few hundred bytes can stand for billions of values; no pipeline, configuration or parameter file
# needs that many repeats or that deep a nesting.
MAX_ALIAS_VALUES = 100_000
MAX_DEPTH = 100


def _check_size(data: Any) -> str | None:
    """Why ``data`` is refused (too many values repeated through aliases, or too deep), else None.

    The walk stops as soon as a limit is passed, so it never visits more than the file's own values
    and MAX_ALIAS_VALUES repeats."""
    seen: set[int] = set()
    repeated = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if id(item) in seen:
            repeated += len(item)
            if repeated > MAX_ALIAS_VALUES:
                return (f"its aliases expand to more than {MAX_ALIAS_VALUES:,} repeated values "
                        "(write the values out, or use fewer aliases)")
        seen.add(id(item))
        stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return None


@functools.lru_cache(maxsize=8)
def _round_trip(path: str) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="rt").load(Path(path).read_text(encoding="utf-8"))


def locate(path: str | Path | None, keys: Sequence[Any]) -> int | None:
    """1-based line of the deepest of ``keys`` (a path of mapping keys / list indexes) found in the file."""
    if path is None:
        return None
    try:
        node = _round_trip(str(path))
    except Exception:
        return None
    line = None
    for key in keys:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(node, dict) and key in node:
                if lc is not None:
                    line = lc.key(key)[0] + 1
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                if lc is not None:
                    line = lc.item(key)[0] + 1
                node = node[key]
            else:
                break
        except Exception:
            break
    return line


def dump(data: Any) -> str:
    """Block-style YAML, keys in the order given, long strings unfolded."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[attr-defined]
    yaml.width = 1 << 16
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()
