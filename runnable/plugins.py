"""Finding plugins: executors, run log stores, catalogs, secrets managers, node and task types.

Each kind is a package entry-point group; stevedore loads the one a configuration or pipeline names.
A name that is not installed is a one-line error that lists the names that are.
"""

from __future__ import annotations

import functools

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


def available(kind: str) -> list[str]:
    from stevedore import ExtensionManager

    return sorted(ExtensionManager(NAMESPACES[kind], invoke_on_load=False).names())


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
    try:
        return driver.DriverManager(
            NAMESPACES[kind], name, invoke_on_load=False, on_load_failure_callback=_reraise
        ).driver
    except NoMatches:
        raise PluginNotFoundError(
            f"unknown {label} '{name}'; available: {', '.join(available(kind))}"
        ) from None
    except _PluginImportError as exc:
        raise PluginNotFoundError(f"{label} '{name}' is installed but cannot be loaded: {exc}") from None


class _PluginImportError(Exception):
    pass


def _reraise(manager, entrypoint, exc) -> None:
    raise _PluginImportError(f"{exc.__class__.__name__}: {exc}")
