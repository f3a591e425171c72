"""``chunked-fs``: a folder per run (``<log_folder>/<run_id>/``) of small files, one per piece.

Made for many writers at once (Argo pods on a shared volume): nothing is ever rewritten but the
piece being recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from .pieces import PieceStore


class ChunkedFileSystemRunLogStore(PieceStore):
    service_name: ClassVar[str] = "chunked-fs"

    def run_dir(self, run_id: str) -> Path:
        return self._root() / run_id
