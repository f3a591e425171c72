"""``file-system``: the catalog is a folder (``catalog_location``), with one sub-folder per run.

``get`` copies the run's files matching the patterns into the project; ``put`` copies the project's
files matching them (folders whole) into the run's folder and records each file's sha256 in the
step log. Nothing outside the project or the catalog folder is read or written.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from runnable import names
from runnable.catalog import BaseCatalog, check_relative
from runnable.run_log import DataCatalog
from runnable.errors import ExecutionError, RunnableError
from runnable.run_log_store import check_run_id

OBJECTS = "objects"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except ValueError:
        return False


def _write(root: Path, target: Path, write) -> None:
    """``write(fh)`` into ``target`` under ``root``, never through a symbolic link: the target's folder must
    resolve inside ``root`` and the file is replaced by a rename, which replaces a link instead of following it."""
    if root.is_symlink():
        raise RunnableError(f"'{root}' is a symbolic link: write the folder it points to in the configuration")
    if not target.parent.resolve().is_relative_to(root.resolve()):
        raise ExecutionError(f"'{target}' is reached through a symbolic link out of '{root}': nothing is written")
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.parent.resolve().is_relative_to(root.resolve()):  # a link planted while the folders were made
        raise ExecutionError(f"'{target}' is reached through a symbolic link out of '{root}': nothing is written")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "xb") as fh:
            write(fh)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _copy(source: Path, root: Path, target: Path) -> None:
    def write(fh):
        with open(source, "rb") as src:
            shutil.copyfileobj(src, fh)

    _write(root, target, write)
    shutil.copystat(source, target)


class FileSystemCatalog(BaseCatalog):
    service_name: ClassVar[str] = "file-system"

    catalog_location: str = ".catalog"

    def shared_paths(self) -> dict[str, str]:
        return {"catalog_location": self.catalog_location}

    def run_dir(self, run_id: str) -> Path:
        return Path(self.catalog_location) / check_run_id(run_id)

    def _matches(self, root: Path, pattern: str, exclude: list[Path]) -> list[Path]:
        """Files under ``root`` matching ``pattern`` (folders stand for every file in them)."""
        check_relative(pattern)
        resolved_root = root.resolve()
        files: list[Path] = []
        for match in sorted(root.glob(pattern)):
            if not _inside(match, resolved_root) or any(_inside(match, e) for e in exclude):
                continue
            if match.is_dir():
                files.extend(p for p in sorted(match.rglob("*")) if p.is_file() and _inside(p, resolved_root))
            elif match.is_file():
                files.append(match)
        return list(dict.fromkeys(files))

    def get(self, run_id: str, patterns: list[str], *, into: Path) -> list[DataCatalog]:
        source = self.run_dir(run_id)
        return self._copy_matches(run_id, "get", patterns, source=source, exclude=[source.resolve() / OBJECTS],
                                  relative=lambda f: f.relative_to(source), root=into, into=into,
                                  nothing=f"matched no file of run '{run_id}'")

    def put(self, run_id: str, patterns: list[str], *, base: Path) -> list[DataCatalog]:
        return self._copy_matches(run_id, "put", patterns, source=base,
                                  exclude=[Path(self.catalog_location).resolve()],
                                  relative=lambda f: f.resolve().relative_to(base.resolve()),
                                  root=Path(self.catalog_location), into=self.run_dir(run_id),
                                  nothing="matched no file in the project")

    def _copy_matches(self, run_id: str, stage: str, patterns: list[str], *, source: Path, exclude: list[Path],
                      relative, root: Path, into: Path, nothing: str) -> list[DataCatalog]:
        """Copy the files under ``source`` each pattern matches to the same place under ``into`` (written
        inside ``root``); a pattern that matches nothing is an error."""
        entries = []
        for pattern in patterns:
            found = self._matches(source, pattern, exclude) if source.exists() else []
            if not found:
                raise ExecutionError(f"catalog {stage} '{pattern}' {nothing}")
            for f in found:
                rel = relative(f)
                target = into / rel
                _copy(f, root, target)
                entries.append(DataCatalog(name=str(PurePosixPath(rel)), data_hash=sha256(target),
                                           catalog_relative_path=str(PurePosixPath(run_id, rel)), stage=stage))
        return entries

    def put_text(self, run_id: str, name: str, text: str) -> DataCatalog:
        check_relative(name)
        target = self.run_dir(run_id) / name
        data = text.encode("utf-8", errors="replace")
        _write(Path(self.catalog_location), target, lambda fh: fh.write(data))
        return DataCatalog(name=name, data_hash=hashlib.sha256(data).hexdigest(),
                           catalog_relative_path=str(PurePosixPath(run_id, name)), stage="put")

    def path_of(self, entry: DataCatalog) -> Path | None:
        return Path(self.catalog_location) / entry.catalog_relative_path

    def put_object(self, run_id: str, name: str, value: Any) -> str:
        rel = f"{OBJECTS}/{names.log_name(name, 16)}.pickle"
        target = self.run_dir(run_id) / rel
        import cloudpickle  # classes a notebook (or __main__) defines are pickled by value; the rest as pickle does

        _write(Path(self.catalog_location), target,
               lambda fh: cloudpickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL))
        return rel

    def get_object(self, run_id: str, path: str) -> Any:
        check_relative(path)
        source = self.run_dir(run_id) / path
        if not _inside(source, Path(self.catalog_location).resolve()):
            raise RunnableError(f"object '{path}' of run '{run_id}' is a symbolic link out of the catalog "
                                f"{self.catalog_location}")
        try:
            with open(source, "rb") as fh:
                return pickle.load(fh)
        except FileNotFoundError:
            raise RunnableError(f"object '{path}' of run '{run_id}' is not in the catalog {self.catalog_location}") \
                from None

    def copy_run(self, from_run_id: str, to_run_id: str) -> None:
        source = self.run_dir(from_run_id)
        if not source.exists():
            return
        # the files that are inside the catalog only: a link (to anywhere) is not copied
        for f in self._matches(source, "*", []):
            rel = f.relative_to(source)
            if not any((source.joinpath(*rel.parts[:i])).is_symlink() for i in range(1, len(rel.parts) + 1)):
                _copy(f, Path(self.catalog_location), self.run_dir(to_run_id) / rel)
