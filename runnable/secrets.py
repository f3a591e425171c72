"""Secrets: values a task needs but no run log, catalog or manifest may ever contain.

Secrets managers are plugins (``runnable.secrets`` entry points). Tasks read a secret with
:func:`runnable.get_secret`; every value handed out is remembered so that execution logs and recorded
parameters are scrubbed of it. A task that declares ``secrets: [NAME, ...]`` may ask for those only.
"""

from __future__ import annotations

import logging
import re
import weakref
from contextlib import contextmanager
from typing import ClassVar, Iterator

from .errors import SecretNotFoundError
from .service import BaseService

REDACTED = "********"
_REGISTRIES: "weakref.WeakSet[SecretRegistry]" = weakref.WeakSet()
# What a secret may be named: an environment variable name, as shell tasks and env-secrets read them there.
SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class BaseSecrets(BaseService):
    service_type: ClassVar[str] = "secrets"

    def get(self, name: str) -> str:
        raise SecretNotFoundError(f"secret '{name}' is not available from the '{self.service_name}' secrets manager")

    def environment_variable(self, name: str) -> str | None:
        """The environment variable secret ``name`` is read from, for a manager that reads the environment."""
        return None

    def secrets_in_environment(self, environ: dict[str, str]) -> dict[str, str]:
        """Secret name -> environment variable, for the variables of ``environ`` known to hold secrets
        (a shell task's environment keeps only those it declares)."""
        return {}


class ScrubbingFormatter(logging.Formatter):
    """Formats a log record as ``inner`` does, then scrubs every secret any registry of this process knows
    (a task's own ``logging`` reaches the console through the handlers set up before it ran)."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for registry in list(_REGISTRIES):
            text = registry.scrub(text)
        return text


class SecretRegistry:
    """The secret values handed out in this process, to scrub them from anything recorded, and the
    secrets the step running now declared (the only ones it may ask for)."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        _REGISTRIES.add(self)
        self.declared: tuple[str, list[str]] | None = None  # (step, names); None: every secret may be asked for

    @contextmanager
    def declared_by(self, step: str, names: list[str] | None) -> Iterator[None]:
        """While ``step`` runs, only ``names`` may be asked for (None: it declared nothing, so any)."""
        previous, self.declared = self.declared, (None if names is None else (step, names))
        try:
            yield
        finally:
            self.declared = previous

    def check_declared(self, name: str) -> None:
        if self.declared is not None and name not in self.declared[1]:
            step, names = self.declared
            raise SecretNotFoundError(f"secret '{name}' is not declared by step '{step}' "
                                      f"(its secrets: {', '.join(names) or 'none'})")

    def remember(self, value: str) -> None:
        # each line of a multi-line secret too: output written line by line shows it a line at a time
        for part in [value, *value.splitlines()]:
            if part and len(part.strip()) >= 3:
                self.values.add(part)

    def scrub(self, text: str) -> str:
        for value in sorted(self.values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def scrub_value(self, value):
        """``value`` (JSON data) with every secret replaced, in mapping keys too; a number or boolean whose
        text holds a secret (a secret returned as an int) becomes the redacted string."""
        if not self.values:
            return value
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_value(v) for v in value]
        if isinstance(value, dict):
            return {self.scrub_value(k): self.scrub_value(v) for k, v in value.items()}
        if value is not None and self.scrub(str(value)) != str(value):
            return REDACTED
        return value
