"""Secrets: values a task needs but no run log, catalog or manifest may ever contain.

Secrets managers are plugins (``runnable.secrets`` entry points). Tasks read a secret with
:func:`runnable.get_secret`; every value handed out is remembered so that execution logs and recorded
parameters are scrubbed of it.
"""

from __future__ import annotations

from typing import ClassVar

from .errors import SecretNotFoundError
from .service import BaseService

REDACTED = "********"


class BaseSecrets(BaseService):
    service_type: ClassVar[str] = "secrets"

    def get(self, name: str) -> str:
        raise SecretNotFoundError(f"secret '{name}' is not available from the '{self.service_name}' secrets manager")


class SecretRegistry:
    """The secret values handed out in this process, to scrub them from anything recorded."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def remember(self, value: str) -> None:
        if value and len(value) >= 3:
            self.values.add(value)

    def scrub(self, text: str) -> str:
        for value in sorted(self.values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def scrub_value(self, value):
        if not self.values:
            return value
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.scrub_value(v) for k, v in value.items()}
        return value
