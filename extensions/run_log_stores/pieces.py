"""Run logs kept as one small file per piece: the run's header, its parameters, each step and branch log.

Shared by the ``file-system`` and ``chunked-fs`` stores. Every write goes to a temporary file in the
same folder and is renamed over the old one, so a reader never sees half a file and a process that
dies loses nothing it had written. With ``durable`` each file and its folder are also
fsynced around the rename, so a power loss cannot leave a renamed file without its data. Pieces of different steps are different files, so any number of
processes (Argo pods) can record steps of one run at once, and recording a step costs the same in a
run of ten steps or ten thousand.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, PrivateAttr

from runnable import names
from runnable.run_log import BranchLog, Parameter, RunLog, StepLog
from runnable.errors import RunnableError, RunLogNotFoundError
from runnable.run_log_store import (BaseRunLogStore, StepTally, check_run_id, log_not_found, nesting, placement,
                                   write_nested)

HEADER = "run.json"
PARAMETERS = "parameters.json"
RUN_CONFIG = "run_config.json"
STEPS = "steps"
BRANCHES = "branches"
_DIGEST = 20  # hex characters of the piece names' hash: no collision in any realistic run
#: a file written less than this long before it was read may be replaced again without its (inode, size,
#: times) changing (a reused inode, a coarse clock): what was parsed from it is not trusted again
_SETTLED_NS = 2_000_000_000


def sync_folder(folder: Path) -> None:
    """Make the names in ``folder`` (a file renamed or created in it) survive a power loss."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str | Callable[[Callable[[str], Any]], None], durable: bool = False) -> None:
    """Write ``text`` to ``path`` so that readers see the old content or the new, never a mix (``text`` may be a
    function that writes the content in parts with the ``write`` it is given).

    The temporary file is named after the writing process and thread, so no two writers share one
    (cheaper than ``mkstemp``'s random names: a third of the cost of writing a record). ``durable``:
    the data is on disk before the rename and the rename is on disk when this returns.
    """
    tmp = path.parent / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)  # a planted link: refused
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text) if isinstance(text, str) else text(fh.write)
            if durable:
                fh.flush()
                os.fsync(fd)
        os.replace(tmp, path)
        if durable:
            sync_folder(path.parent)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def piece_file(internal_name: str) -> str:
    return names.log_name(internal_name, _DIGEST) + ".json"


class PieceStore(BaseRunLogStore):
    """A folder per run, a file per piece."""

    log_folder: str = ".run_log_store"
    #: fsync every file and its folder around each atomic rename (see docs/run-log.md for the cost)
    durable: bool = False

    #: the run's parameters as last parsed: (path, file identity, settled, parameters); a map of 100,000
    #: iterations reads its 100,000-item list once, not once per iteration
    _parameters_seen: tuple | None = PrivateAttr(default=None)
    #: the store's folder, resolved once
    _resolved_root: Path | None = PrivateAttr(default=None)

    def shared_paths(self) -> dict[str, str]:
        return {"log_folder": self.log_folder}

    # where a run's pieces are; subclasses decide
    def run_dir(self, run_id: str) -> Path:
        raise NotImplementedError

    # --- low level ----------------------------------------------------------------------------------
    def _root(self) -> Path:
        return Path(self.log_folder)

    def _dir(self, run_id: str) -> Path:
        return self.run_dir(check_run_id(run_id))

    def _inside(self, folder: Path) -> bool:
        """``folder`` is in the store's folder, not reached through a symbolic link out of it. Fast path: the
        folders between the store's folder and ``folder`` are no links (two lstat calls for a step's record)."""
        root = self._root()
        try:
            parts = folder.relative_to(root).parts
        except ValueError:
            parts = ("..",)
        here = str(root)
        for part in parts:
            here = os.path.join(here, part)
            if part == ".." or os.path.islink(here):
                break
        else:
            return True
        if self._resolved_root is None:
            self._resolved_root = root.resolve()
        return folder.resolve().is_relative_to(self._resolved_root)

    def _write(self, path: Path, model: BaseModel | dict) -> None:
        text = model.model_dump_json() if isinstance(model, BaseModel) else json.dumps(model, default=str)  # a YAML date
        if not self._inside(path.parent):  # through a link out of the folder
            raise RunnableError(f"'{path}' is reached through a symbolic link out of '{self.log_folder}': "
                                "nothing is written")
        try:
            write_atomic(path, text, self.durable)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text, self.durable)

    def _read(self, path: Path):
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            return None

    def _need_run(self, run_id: str) -> Path:
        d = self._dir(run_id)
        if not (d / HEADER).exists():
            raise RunLogNotFoundError(f"no run log for run id '{run_id}' in {self.log_folder}")
        return d

    # --- the store ------------------------------------------------------------------------------
    def create_run_log(self, run_log: RunLog, exist_ok: bool = False) -> None:
        """Claim the run id by creating its folder (atomic: of processes starting one run id together,
        exactly one creates it; every other gets "already exists" and writes nothing)."""
        d = self._dir(run_log.run_id)
        if self._consolidated_exists(run_log.run_id) or not self._claim(d):
            if exist_ok:
                return
            raise RunnableError(f"run id '{run_log.run_id}' already exists in {self.log_folder}; choose another",
                                field="run_id")
        (d / STEPS).mkdir(exist_ok=True)
        (d / BRANCHES).mkdir(exist_ok=True)
        self._write_run(d, run_log)

    def _write_run(self, d: Path, run_log: RunLog) -> None:
        """The run's own pieces, the header last (a folder without one holds no run yet)."""
        self._write_parameters(d, run_log.parameters)
        self._write(d / RUN_CONFIG, run_log.run_config)
        self._write(d / HEADER, run_log.header())

    def _write_parameters(self, d: Path, parameters: dict[str, Parameter]) -> None:
        self._write(d / PARAMETERS, {k: v.model_dump(mode="json") for k, v in parameters.items()})

    def _claim(self, d: Path) -> bool:
        try:
            d.mkdir()
        except FileNotFoundError:
            d.parent.mkdir(parents=True, exist_ok=True)
            return self._claim(d)
        except FileExistsError:
            return False
        if self.durable:
            sync_folder(d.parent)
        return True

    def _consolidated_exists(self, run_id: str) -> bool:
        return False

    def summary(self, run_id: str) -> tuple[RunLog, StepTally]:
        """The header and the step logs' tally, reading one step log at a time."""
        d = self._need_run(run_id)
        tally = StepTally()
        for _, data in self._read_pieces(d / STEPS):
            tally.add(StepLog.model_validate(data))
        return self.get_run_log_header(run_id), tally

    def run_exists(self, run_id: str) -> bool:
        return (self._dir(run_id) / HEADER).exists() or self._consolidated_exists(run_id)

    def get_run_log_header(self, run_id: str) -> RunLog:
        return RunLog.model_validate(self._read(self._need_run(run_id) / HEADER))

    def get_run_config(self, run_id: str) -> dict:
        return self._read(self._need_run(run_id) / RUN_CONFIG) or {}

    def set_run_status(self, run_id: str, status: str) -> None:
        header = self.get_run_log_header(run_id)
        header.status = status  # type: ignore[assignment]
        self._write(self._dir(run_id) / HEADER, header)

    def get_parameters(self, run_id: str) -> dict[str, Parameter]:
        """The run's parameters. Parsed again only when the file changed: every piece is replaced by a rename,
        so an unchanged (inode, size, times) is an unchanged file, once it had settled when it was parsed."""
        path = self._need_run(run_id) / PARAMETERS
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return {}
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fd)
            identity = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            seen = self._parameters_seen
            if seen is not None and seen[0] == path and seen[1] == identity and seen[2]:
                return dict(seen[3])
            settled = time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > _SETTLED_NS
            parameters = {k: Parameter.model_validate(v) for k, v in json.loads(fh.read()).items()}
        self._parameters_seen = (path, identity, settled, parameters)
        return dict(parameters)

    def set_parameters(self, run_id: str, parameters: dict[str, Parameter]) -> None:
        self._write_parameters(self._need_run(run_id), parameters)

    def put_step_log(self, run_id: str, step_log: StepLog) -> None:
        self._put_piece(self._dir(run_id), STEPS, step_log, "branches")

    def get_step_log(self, run_id: str, internal_name: str) -> StepLog:
        return self._get_piece(run_id, STEPS, internal_name, StepLog, "step")

    def put_branch_log(self, run_id: str, branch_log: BranchLog) -> None:
        self._put_piece(self._dir(run_id), BRANCHES, branch_log, "steps")

    def get_branch_log(self, run_id: str, internal_name: str) -> BranchLog:
        return self._get_piece(run_id, BRANCHES, internal_name, BranchLog, "branch")

    def _put_piece(self, d: Path, folder: str, record: StepLog | BranchLog, children: str) -> None:
        """A step or branch log, without its ``children`` (each of them is a piece of its own)."""
        if getattr(record, children):
            record = record.model_copy(update={children: {}})
        self._write(d / folder / piece_file(record.internal_name), record)

    def _get_piece(self, run_id: str, folder: str, internal_name: str, model: type, kind: str):
        data = self._read(self._dir(run_id) / folder / piece_file(internal_name))
        if data is None:
            raise log_not_found(kind, internal_name, run_id)
        return model.model_validate(data)

    def list_logs(self, run_id: str) -> tuple[list[StepLog], list[BranchLog]]:
        d = self._need_run(run_id)
        steps = [StepLog.model_validate(x) for x in self._read_all(d / STEPS)]
        branches = [BranchLog.model_validate(x) for x in self._read_all(d / BRANCHES)]
        return steps, branches

    def _read_all(self, folder: Path) -> list:
        return [data for _, data in self._read_pieces(folder)]

    def _read_pieces(self, folder: Path):
        """(path, parsed JSON) of each piece in ``folder``, in the order of their file names."""
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except FileNotFoundError:
            return
        for entry in entries:
            if entry.name.endswith(".json") and not entry.name.startswith("."):
                data = self._read(Path(entry.path))
                if data is not None:
                    yield entry.path, data

    def write_json(self, run_id: str, write: Callable[[str], Any], tally: StepTally | None = None) -> None:
        """Write the whole run log as JSON, as ``get_run_log(run_id).model_dump_json(indent=1)`` would, holding one
        step or branch log at a time: a run of 100,000 map iterations is gathered in linear time and little memory.
        ``tally``: each step log written is added to it."""
        d = self._need_run(run_id)
        head = self.get_run_log_header(run_id).model_copy(update={"run_config": self.get_run_config(run_id),
                                                                 "parameters": self.get_parameters(run_id)})
        paths, placements = [], []
        for folder in (STEPS, BRANCHES):
            for path, data in self._read_pieces(d / folder):
                paths.append(path)
                placements.append(placement(data))

        def text_of(index: int) -> tuple[str, str]:
            model, children = (BranchLog, "steps") if placements[index][2] else (StepLog, "branches")
            record = model.model_validate_json(Path(paths[index]).read_bytes())
            if tally is not None and model is StepLog:
                tally.add(record)
            if getattr(record, children):
                record = record.model_copy(update={children: {}})
            return record.model_dump_json(indent=1), record.internal_name

        write_nested(head.model_dump_json(indent=1), nesting(placements), text_of, write)
