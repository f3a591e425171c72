"""What every pluggable service shares: built from its configuration, errors located in the file."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigurationError


class BaseService(BaseModel):
    """A plugin configured by the ``config:`` mapping of its section in the configuration file."""

    model_config = ConfigDict(extra="forbid")

    service_type: ClassVar[str] = ""
    service_name: ClassVar[str] = ""

    def shared_paths(self) -> dict[str, str]:
        """Folders this service reads and writes (field -> path): pods on other machines must share them."""
        return {}

    def describe(self) -> dict[str, Any]:
        """What the run log records of this service (no secret values)."""
        return {"service_name": self.service_name, "service_type": self.service_type, **self.model_dump(mode="json")}


def build_service(kind: str, config) -> Any:
    """Instantiate the plugin the configuration names for ``kind`` (e.g. ``run_log_store``)."""
    from . import plugins
    from .diagnostics import from_validation_error
    from .yamlio import locate

    section = getattr(config, kind)
    keys = config.key_path(kind)
    try:
        cls = plugins.load(kind, section.type)
    except ConfigurationError:
        raise
    except Exception as exc:  # PluginNotFoundError: point at the 'type' line of the file
        from .errors import RunnableError

        if isinstance(exc, RunnableError):
            raise exc.located(file=config.file, line=locate(config.file, keys[:-1] + ["type"]), field=f"{keys[0]}.type")
        raise
    try:
        return cls.model_validate(section.config or {})
    except ValidationError as exc:
        raise from_validation_error(
            exc, ConfigurationError, file=config.file, keys=keys, model=cls, field_prefix=f"{keys[0]}.config"
        ) from None
