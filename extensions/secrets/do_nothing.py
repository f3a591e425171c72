"""``do-nothing``: no secrets; asking for one is an error that says so."""

from __future__ import annotations

from typing import ClassVar

from runnable.secrets import BaseSecrets


class DoNothingSecrets(BaseSecrets):
    service_name: ClassVar[str] = "do-nothing"
