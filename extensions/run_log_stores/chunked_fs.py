"""``chunked-fs``: a folder per run (``<log_folder>/<run_id>/``) of small files, one per piece.

Made for many writers at once (Argo pods on a shared volume): nothing is ever rewritten but the
piece being recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from .pieces import HEADER, PieceStore


class ChunkedFileSystemRunLogStore(PieceStore):
    service_name: ClassVar[str] = "chunked-fs"

    def run_dir(self, run_id: str) -> Path:
        return self._root() / run_id

    def location(self, run_id: str) -> str:
        return f"{self.run_dir(run_id)}/"

    def list_run_ids(self) -> list[str]:
        """Folders holding a run's header (a file-system store's ``<run_id>.parts`` beside them is not one)."""
        return [p.parent.name for p in self._root().glob(f"*/{HEADER}") if not p.parent.name.endswith(".parts")]
