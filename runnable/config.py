"""The configuration: which executor, run log store, catalog and secrets manager a run uses.

``-c config.yaml`` (or ``RUNNABLE_CONFIGURATION_FILE``) names the file; with neither, every service has
its default (local executor, file-system run log store and catalog, env secrets). ``$name`` and
``${name}`` in any value are replaced by the environment variable ``RUNNABLE_VAR_<name>``.
"""

from __future__ import annotations

import os
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .errors import ConfigurationError

SERVICES = ("pipeline_executor", "run_log_store", "catalog", "secrets")

# Every spelling a user may write for a service, and the one the code uses.
ALIASES = {
    "pipeline-executor": "pipeline_executor",
    "pipeline_executor": "pipeline_executor",
    "executor": "pipeline_executor",
    "run-log-store": "run_log_store",
    "run_log_store": "run_log_store",
    "catalog": "catalog",
    "catalog-handler": "catalog",
    "secrets": "secrets",
    "secrets-handler": "secrets",
}

# runnable 0.11's names of plugins that are ours under another name
TYPE_ALIASES = {("secrets", "env-secrets-manager"): "env-secrets"}
# runnable 0.11's experiment tracker section: only its 'do-nothing' tracker is accepted (and does nothing)
TRACKER_KEYS = ("experiment_tracker", "experiment-tracker")
# runnable 0.11's executors we do not ship, and what to write instead
REFUSED_EXECUTORS = {
    "mocked": "runnable 0.11's 'mocked' executor is not provided: to test a pipeline's wiring, make the steps "
              "'type: stub' (they succeed without running; their other fields may stay) and run with the 'local' "
              "executor",
}

DEFAULTS: dict[str, dict[str, Any]] = {
    "pipeline_executor": {"type": "local", "config": {}},
    "run_log_store": {"type": "file-system", "config": {}},
    "catalog": {"type": "file-system", "config": {}},
    "secrets": {"type": "env-secrets", "config": {}},
}

VARIABLE_PREFIX = "RUNNABLE_VAR_"
CONFIG_FILE_ENV = "RUNNABLE_CONFIGURATION_FILE"
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


class ServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    config: dict[str, Any] = Field(default_factory=dict)


class RunnableConfig(BaseModel):
    """The four services of a run, each a plugin name and its settings."""

    pipeline_executor: ServiceConfig
    run_log_store: ServiceConfig
    catalog: ServiceConfig
    secrets: ServiceConfig
    file: str | None = None
    _written_keys: dict[str, list[str]] = PrivateAttr(default_factory=dict)

    def key_path(self, service: str) -> list[str]:
        """Keys leading to a service's ``config`` in the file as the user wrote it (for line numbers)."""
        return list(self._written_keys.get(service, [service])) + ["config"]


def variable_names(text: str) -> list[str]:
    """The names ``$name`` / ``${name}`` in ``text`` refer to, sorted (``$$`` is a literal ``$``)."""
    return sorted({m.group(1) or m.group(2) for m in _VARIABLE.finditer(text) if m.group(0) != "$$"})


def substitute(value: Any, *, file: str | None, where: str = "") -> Any:
    """Replace ``$name`` / ``${name}`` with ``RUNNABLE_VAR_<name>``; ``$$`` is a literal ``$``."""
    if isinstance(value, str):

        def repl(match: re.Match) -> str:
            if match.group(0) == "$$":
                return "$"
            name = match.group(1) or match.group(2)
            env = VARIABLE_PREFIX + name
            if env not in os.environ:
                raise ConfigurationError(
                    f"variable ${name} is not set (set environment variable {env})", file=file, field=where or None
                )
            return os.environ[env]

        return _VARIABLE.sub(repl, value)
    if isinstance(value, dict):
        return {k: substitute(v, file=file, where=f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, file=file, where=f"{where}.{i}") for i, v in enumerate(value)]
    return value


def load_configuration(path: str | None) -> RunnableConfig:
    """Read the configuration file (or the defaults) into a :class:`RunnableConfig`."""
    from .diagnostics import from_validation_error
    from .yamlio import load_mapping, locate

    from_env = not path and bool(os.environ.get(CONFIG_FILE_ENV))
    path = path or os.environ.get(CONFIG_FILE_ENV) or None
    raw: Any = {}
    if path:
        try:
            raw = load_mapping(path, error=ConfigurationError, of="services")
        except ConfigurationError as exc:  # say where the name came from: no -c was given
            if from_env:
                exc.message += f" (named by the environment variable {CONFIG_FILE_ENV})"
            raise
    services: dict[str, Any] = {}
    written: dict[str, list[str]] = {}
    for key, value in raw.items():
        if str(key) in TRACKER_KEYS:
            tracker = value.get("type") if isinstance(value, dict) else value
            if tracker != "do-nothing":
                raise ConfigurationError(f"experiment tracker '{tracker}' is not supported (only 'do-nothing', "
                                         f"which does nothing, is accepted)", file=path, line=locate(path, [key]),
                                         field=str(key))
            continue
        canonical = ALIASES.get(str(key))
        if canonical is None:
            raise ConfigurationError(
                "unknown service; allowed: pipeline-executor, run-log-store, catalog, secrets",
                file=path, line=locate(path, [key]), field=str(key),
            )
        if canonical in services:
            raise ConfigurationError(
                f"'{canonical}' is given twice (under two spellings)", file=path, line=locate(path, [key]), field=str(key)
            )
        value = {"type": value} if isinstance(value, str) else value
        services[canonical] = substitute(value, file=path, where=str(key))
        written[canonical] = [key]
    from pydantic import ValidationError

    for name in SERVICES:
        given = services.get(name)
        if given is None:
            services[name] = DEFAULTS[name]
            continue
        try:
            services[name] = ServiceConfig.model_validate(given)
        except ValidationError as exc:
            raise from_validation_error(
                exc, ConfigurationError, file=path, keys=written[name], model=ServiceConfig,
                field_prefix=str(written[name][0]),
            ) from None
        services[name].type = TYPE_ALIASES.get((name, services[name].type), services[name].type)
        if name == "pipeline_executor" and services[name].type in REFUSED_EXECUTORS:
            raise ConfigurationError(REFUSED_EXECUTORS[services[name].type], file=path,
                                     line=locate(path, [written[name][0], "type"]), field=f"{written[name][0]}.type")
    config = RunnableConfig(**services, file=path)
    config._written_keys = written
    return config
