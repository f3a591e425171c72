"""``env-secrets``: secrets are environment variables (in Argo: filled from Kubernetes secrets)."""

from __future__ import annotations

import os
from typing import ClassVar

from runnable.errors import SecretNotFoundError
from runnable.secrets import BaseSecrets


class EnvSecrets(BaseSecrets):
    service_name: ClassVar[str] = "env-secrets"

    prefix: str = ""

    def environment_variable(self, name: str) -> str:
        return self.prefix + name

    def secrets_in_environment(self, environ: dict[str, str]) -> dict[str, str]:
        # without a prefix any variable may be a secret, and none can be told apart (docs/catalog-and-secrets.md)
        if not self.prefix:
            return {}
        return {key[len(self.prefix):]: key for key in environ if key.startswith(self.prefix)}

    def get(self, name: str) -> str:
        key = self.environment_variable(name)
        if key not in os.environ:
            raise SecretNotFoundError(f"secret '{name}' is not set: no environment variable {key}")
        return os.environ[key]
