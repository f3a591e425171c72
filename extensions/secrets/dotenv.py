"""``dotenv``: secrets from a ``.env`` file (``KEY=value`` lines; ``#`` comments; optional quotes, ``export``)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import PrivateAttr

from runnable.errors import ConfigurationError, SecretNotFoundError
from runnable.secrets import BaseSecrets


def parse_dotenv(text: str, file: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "a").isalnum():
            raise ConfigurationError("expected KEY=value", file=file, line=number)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


class DotEnvSecrets(BaseSecrets):
    service_name: ClassVar[str] = "dotenv"

    location: str = ".env"

    _values: dict[str, str] | None = PrivateAttr(default=None)

    def get(self, name: str) -> str:
        if self._values is None:
            path = Path(self.location)
            if not path.is_file():
                raise SecretNotFoundError(f"the secrets file {self.location} does not exist")
            self._values = parse_dotenv(path.read_text(encoding="utf-8"), self.location)
        if name not in self._values:
            raise SecretNotFoundError(f"secret '{name}' is not in {self.location}")
        return self._values[name]
