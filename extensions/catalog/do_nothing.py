"""``do-nothing``: no catalog. ``catalog`` get/put are ignored; objects passed between steps stay in memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import PrivateAttr

from runnable.catalog import BaseCatalog
from runnable.run_log import DataCatalog
from runnable.errors import RunnableError


class DoNothingCatalog(BaseCatalog):
    service_name: ClassVar[str] = "do-nothing"

    _objects: dict[str, Any] = PrivateAttr(default_factory=dict)

    def get(self, run_id: str, patterns: list[str], *, into: Path) -> list[DataCatalog]:
        return []

    def put(self, run_id: str, patterns: list[str], *, base: Path) -> list[DataCatalog]:
        return []

    def put_text(self, run_id: str, name: str, text: str) -> None:
        return None  # keeps no files: the step log records no entry

    def put_object(self, run_id: str, name: str, value: Any) -> str:
        self._objects[f"{run_id}/{name}"] = value
        return name

    def get_object(self, run_id: str, path: str) -> Any:
        try:
            return self._objects[f"{run_id}/{path}"]
        except KeyError:
            raise RunnableError(f"object '{path}' is not available: the do-nothing catalog keeps objects only "
                                f"within one process; configure the file-system catalog") from None
