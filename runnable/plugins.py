"""Finding code by name: plugins (executors, run log stores, catalogs, secrets managers, node and task
types, commands) and the functions a pipeline names by dotted path.

Each kind of plugin is a package entry-point group. Which names are installed is read straight from the
installed distributions' ``entry_points.txt``, once per process (importlib.metadata or stevedore would
cost a fifth of the time ``runnable --help`` may take to list the plugin commands); the one plugin a
configuration or pipeline names is loaded by stevedore (SPEC section 3). A name that is not installed is a
one-line error that lists the names that are.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from .errors import PluginNotFoundError

NAMESPACES = {
    "pipeline_executor": "runnable.pipeline_executor",
    "run_log_store": "runnable.run_log_store",
    "catalog": "runnable.catalog",
    "secrets": "runnable.secrets",
    "nodes": "runnable.nodes",
    "tasks": "runnable.tasks",
    "commands": "runnable.commands",
}

KIND_LABELS = {
    "pipeline_executor": "pipeline executor",
    "run_log_store": "run log store",
    "catalog": "catalog",
    "secrets": "secrets manager",
    "nodes": "step type",
    "tasks": "command_type",
    "commands": "command",
}


def targets(kind: str) -> dict[str, str]:
    """The names registered in the entry-point group of ``kind``, each with its ``module:attribute``."""
    return _entry_points().get(NAMESPACES[kind], {})


@functools.lru_cache(maxsize=None)
def _entry_points() -> dict[str, dict[str, str]]:
    """Every ``runnable.*`` group of the distributions on ``sys.path``; of two entries of one name, the
    first on the path wins (as the first distribution on the path wins for importlib.metadata)."""
    import os

    groups: dict[str, dict[str, str]] = {}
    for entry in sys.path:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            try:
                with open(os.path.join(folder, name, "entry_points.txt"), encoding="utf-8") as fh:
                    text = fh.read()
            except OSError:
                continue
            group = None
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("["):
                    group = line.strip("[]").strip()
                elif group and group.startswith("runnable.") and "=" in line and not line.startswith(("#", ";")):
                    key, target = line.split("=", 1)
                    groups.setdefault(group, {}).setdefault(key.strip(), target.split("[")[0].strip())
    return groups


def available(kind: str) -> list[str]:
    return sorted(targets(kind))


def load(kind: str, name: str) -> type:
    """The class registered under ``name`` in the entry-point group of ``kind``."""
    if not isinstance(name, str) or not name:  # checked before the cache, which cannot hash a list or mapping
        raise PluginNotFoundError(f"no {KIND_LABELS[kind]} given; available: {', '.join(available(kind))}")
    return _load(kind, name)


@functools.lru_cache(maxsize=None)
def _load(kind: str, name: str) -> type:
    from stevedore import driver
    from stevedore.exception import NoMatches

    label = KIND_LABELS[kind]
    if name not in targets(kind):
        raise PluginNotFoundError(f"unknown {label} '{name}'; available: {', '.join(available(kind))}")
    try:
        return driver.DriverManager(NAMESPACES[kind], name, invoke_on_load=False,
                                    on_load_failure_callback=_reraise).driver
    except NoMatches:  # listed in an entry_points.txt that importlib.metadata does not see
        raise PluginNotFoundError(f"unknown {label} '{name}'; available: {', '.join(available(kind))}") from None
    except _LoadFailed as failed:
        exc = failed.__cause__
        raise PluginNotFoundError(
            f"{label} '{name}' is installed but cannot be loaded: {exc.__class__.__name__}: {exc}") from None


class _LoadFailed(Exception):
    """What importing a plugin raised, carried out of stevedore (which would otherwise log and skip it)."""


def _reraise(manager, entrypoint, exc) -> None:
    raise _LoadFailed() from exc


def import_object(path: str) -> Any:
    """What ``package.module.name`` (a python task's command, a map's reducer) or ``package.module:name``
    (an entry point's target) names. Raises what importing the module raises, or AttributeError (its
    ``name`` and ``obj`` say which attribute of which module) when the module has no such name."""
    import importlib

    module_name, colon, attribute = path.partition(":")
    if not colon:
        module_name, _, attribute = path.rpartition(".")
    found: Any = importlib.import_module(module_name)
    for part in attribute.split(".") if attribute else ():
        found = getattr(found, part)
    return found


def is_dotted_path(value: str) -> bool:
    """``module.function`` (or deeper): a path :func:`import_object` can follow."""
    parts = value.split(".")
    return len(parts) >= 2 and all(p.isidentifier() for p in parts)
