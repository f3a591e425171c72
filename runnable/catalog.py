"""The data catalog: files a step gets before it runs and puts after, and the objects steps pass on.

Catalogs are plugins (``runnable.catalog`` entry points). Patterns are globs relative to the project
directory; a pattern or a name that would reach outside the project or the catalog is refused.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from .run_log import DataCatalog
from .errors import RunnableError
from .service import BaseService


def check_relative(pattern: str, *, field: str = "catalog") -> str:
    """A catalog pattern or name must be relative and must not climb out with '..'."""
    p = PurePosixPath(pattern)
    if not pattern or p.is_absolute() or ".." in p.parts or Path(pattern).is_absolute():
        raise RunnableError(f"'{pattern}' is not allowed: catalog paths are relative to the project and "
                            f"may not contain '..'", field=field)
    return pattern


def check_pattern(pattern: str, *, field: str = "catalog") -> str:
    """A relative catalog pattern must also be a glob that can name files (``Path.glob`` refuses the rest)."""
    parts = PurePosixPath(pattern).parts
    if not parts:
        raise RunnableError(f"'{pattern}' names no file: write a file, a folder or a glob under the project "
                            f"(data/*.csv)", field=field)
    if parts[0].startswith("~"):
        raise RunnableError(f"'{pattern}': '~' is not expanded: catalog paths are relative to the project",
                            field=field)
    if any("**" in part and part != "**" for part in parts):
        raise RunnableError(f"'{pattern}': '**' must be a whole part of the path, as in 'data/**/*.csv'",
                            field=field)
    return pattern


class BaseCatalog(BaseService):
    service_type: ClassVar[str] = "catalog"

    def get(self, run_id: str, patterns: list[str], *, into: Path) -> list[DataCatalog]:
        """Copy the run's catalog files matching ``patterns`` into the project directory ``into``."""
        raise NotImplementedError

    def put(self, run_id: str, patterns: list[str], *, base: Path) -> list[DataCatalog]:
        """Copy files under ``base`` matching ``patterns`` into the run's catalog."""
        raise NotImplementedError

    def put_text(self, run_id: str, name: str, text: str) -> DataCatalog | None:
        """Keep generated text (a task's execution log, an executed notebook) as the file ``name`` of the run's
        catalog, replacing one of that name; every catalog implements it.

        The text is kept as UTF-8, a character UTF-8 cannot hold (a lone surrogate a task printed) as ``?``.
        Returns the entry the step log records: ``name``, stage ``put`` and the sha256 of the bytes kept; a
        later ``get`` of ``name`` in that run fetches that text. A catalog that keeps no files (``do-nothing``)
        keeps nothing and returns None.
        """
        raise NotImplementedError

    def put_object(self, run_id: str, name: str, value: Any) -> str:
        """Pickle ``value`` into the run's catalog; returns the path recorded in the run log."""
        raise NotImplementedError

    def get_object(self, run_id: str, path: str) -> Any:
        raise NotImplementedError

    def path_of(self, entry: DataCatalog) -> Path | None:
        """Where a user finds a catalog entry on this machine (None: not a local file)."""
        return None

    def copy_run(self, from_run_id: str, to_run_id: str) -> None:
        """Make the files of an earlier run available to a new run (retry)."""
