"""``file-system``: one JSON document per run, ``<log_folder>/<run_id>.json``.

While the run is going, steps are recorded piece by piece in ``<log_folder>/<run_id>.parts/`` (see
:mod:`.pieces`: atomic, safe for many writers, constant cost per step); when the run ends, the pieces
are gathered into ``<run_id>.json``, written atomically, and the parts folder is removed. A run log
copied from a cluster can hold either form (or both, if the run was cut short): the store reads both.

Gathering and writing exclude each other through a lock on ``<log_folder>/.<run_id>.lock`` (``flock``):
every read and write of a run holds it shared, gathering (and turning a gathered run back into pieces
for a late writer) holds it alone. So a gathering never removes a piece it did not gather, two
gatherings never interleave, and a late write after a gathering lands in pieces again.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, ClassVar

from pydantic import PrivateAttr, ValidationError

from runnable.run_log import BranchLog, Parameter, RunLog, StepLog
from runnable.diagnostics import first_error
from runnable.errors import RunLogNotFoundError, RunnableError
from runnable.run_log_store import StepTally, check_run_id, log_not_found

from .pieces import BRANCHES, HEADER, STEPS, PieceStore, write_atomic

PARTS_SUFFIX = ".parts"


class FileSystemRunLogStore(PieceStore):
    service_name: ClassVar[str] = "file-system"

    _cache: dict[str, Any] = PrivateAttr(default_factory=dict)
    #: (run id, process, thread) -> [lock file descriptor, depth held]: a forked child or another
    #: thread has its own open lock file, as flock locks belong to an open file
    _locks: dict[tuple, list] = PrivateAttr(default_factory=dict)

    def run_dir(self, run_id: str) -> Path:
        return self._root() / f"{run_id}{PARTS_SUFFIX}"

    def json_path(self, run_id: str) -> Path:
        return self._root() / f"{check_run_id(run_id)}.json"

    def location(self, run_id: str) -> str:
        return str(self.json_path(run_id))

    def list_run_ids(self) -> list[str]:
        """Gathered runs (``<run_id>.json``) and runs still in pieces (going, or cut short)."""
        root = self._root()
        gathered = {p.stem for p in root.glob("*.json") if not p.name.startswith(".")}  # the store's own files
        pieces = {p.parent.name[: -len(PARTS_SUFFIX)] for p in root.glob(f"*{PARTS_SUFFIX}/{HEADER}")}
        return sorted(gathered | pieces)

    def _consolidated_exists(self, run_id: str) -> bool:
        return self.json_path(run_id).exists()

    def _open_lock(self, run_id: str, reading: bool) -> int | None:
        """The run's lock file, opened. A read creates none: a run without one was never written by a
        process that locks (nothing to wait for), and a read-only copy of the log folder stays readable."""
        pid, thread = os.getpid(), threading.get_ident()
        if len(self._locks) >= 64:  # a process reading many runs (``runnable runs``) keeps few files open
            for key, (fd, depth) in list(self._locks.items()):
                if key[1] != pid or (key[2] == thread and not depth):  # a forked parent's, or ours and free
                    os.close(fd)
                    del self._locks[key]
        path = self._root() / f".{check_run_id(run_id)}.lock"
        if reading:
            try:
                return os.open(path, os.O_RDWR | os.O_NOFOLLOW)
            except FileNotFoundError:
                return None
            except OSError:  # read-only: a shared lock needs no write access
                return os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)

    @contextmanager
    def _locked(self, run_id: str, exclusive: bool = False, reading: bool = False):
        """Hold the run's lock (shared, or alone); nested holds in one thread take it once."""
        key = (run_id, os.getpid(), threading.get_ident())
        held = self._locks.get(key)
        if held is None:
            fd = self._open_lock(run_id, reading)
            if fd is None:
                yield
                return
            held = self._locks[key] = [fd, 0]
        if held[1]:  # already held by this thread: an outer hold covers it (never shared -> alone)
            held[1] += 1
            try:
                yield
            finally:
                held[1] -= 1
            return
        fcntl.flock(held[0], fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        held[1] = 1
        try:
            yield
        finally:
            held[1] = 0
            fcntl.flock(held[0], fcntl.LOCK_UN)

    @contextmanager
    def _writing(self, run_id: str):
        """Hold the lock shared over the run's pieces (a gathered run is first turned back into pieces)."""
        while True:
            with self._locked(run_id):
                if self._pieces(run_id):
                    yield
                    return
            with self._locked(run_id, exclusive=True):
                if not self._pieces(run_id):
                    self._explode(run_id, self._consolidated(run_id))

    def _consolidated(self, run_id: str) -> RunLog:
        """The consolidated run log, parsed once per store (reading it never changes it)."""
        path = self.json_path(run_id)
        cached = self._cache.get(run_id)
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            raise RunLogNotFoundError(f"no run log for run id '{run_id}' in {self.log_folder}") from None
        if cached is None or cached[0] != stamp:
            run_log = self._parse(path)
            steps: dict[str, StepLog] = {}
            branches: dict[str, BranchLog] = {}
            stack = list(run_log.steps.values())
            while stack:
                step = stack.pop()
                for branch in step.branches.values():
                    stack.extend(branch.steps.values())
                    branches[branch.internal_name] = branch.model_copy(update={"steps": {}})
                steps[step.internal_name] = step.model_copy(update={"branches": {}})
            cached = self._cache[run_id] = (stamp, run_log, steps, branches)
        return cached

    def _parse(self, path: Path) -> RunLog:
        try:
            return RunLog.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            raise RunLogNotFoundError(f"no run log for run id '{path.stem}' in {self.log_folder}") from None
        except ValidationError as exc:
            raise RunnableError(f"the run log {path} cannot be read: {first_error(exc)}", field="run_id") from None

    def _pieces(self, run_id: str) -> bool:
        return (self._dir(run_id) / HEADER).exists()

    def _explode(self, run_id: str, consolidated) -> None:
        """Turn a consolidated run log back into pieces, so the run can be written to again."""
        _, run_log, steps, branches = consolidated
        d = self._dir(run_id)
        (d / STEPS).mkdir(parents=True, exist_ok=True)
        (d / BRANCHES).mkdir(exist_ok=True)
        for branch in branches.values():
            self._put_piece(d, BRANCHES, branch, "steps")
        for step in steps.values():
            self._put_piece(d, STEPS, step, "branches")
        self._write_run(d, run_log)

    # reads of a consolidated run come from its JSON; writes go to pieces; both under the run's lock
    def get_run_log_header(self, run_id: str) -> RunLog:
        with self._locked(run_id, reading=True):
            if self._pieces(run_id):
                return super().get_run_log_header(run_id)
            return self._consolidated(run_id)[1].header()

    def get_run_config(self, run_id: str) -> dict:
        with self._locked(run_id, reading=True):
            if self._pieces(run_id):
                return super().get_run_config(run_id)
            return self._consolidated(run_id)[1].run_config

    def get_parameters(self, run_id: str) -> dict[str, Parameter]:
        with self._locked(run_id, reading=True):
            if self._pieces(run_id):
                return super().get_parameters(run_id)
            return dict(self._consolidated(run_id)[1].parameters)

    def get_step_log(self, run_id: str, internal_name: str) -> StepLog:
        with self._locked(run_id, reading=True):
            if self._pieces(run_id):
                return super().get_step_log(run_id, internal_name)
            return self._consolidated_piece(run_id, 2, internal_name, "step")

    def get_branch_log(self, run_id: str, internal_name: str) -> BranchLog:
        with self._locked(run_id, reading=True):
            if self._pieces(run_id):
                return super().get_branch_log(run_id, internal_name)
            return self._consolidated_piece(run_id, 3, internal_name, "branch")

    def _consolidated_piece(self, run_id: str, index: int, internal_name: str, kind: str):
        found = self._consolidated(run_id)[index].get(internal_name)
        if found is None:
            raise log_not_found(kind, internal_name, run_id)
        return found.model_copy()

    def list_logs(self, run_id: str) -> tuple[list[StepLog], list[BranchLog]]:
        with self._locked(run_id, reading=True):
            if self._pieces(run_id):
                return super().list_logs(run_id)
            _, _, steps, branches = self._consolidated(run_id)
            return list(steps.values()), list(branches.values())

    def create_run_log(self, run_log: RunLog, exist_ok: bool = False) -> None:
        with self._locked(run_log.run_id, exclusive=True):  # no gathering of an older run of this id between
            super().create_run_log(run_log, exist_ok)

    def set_run_status(self, run_id: str, status: str) -> None:
        with self._writing(run_id):
            super().set_run_status(run_id, status)

    def set_parameters(self, run_id: str, parameters: dict[str, Parameter]) -> None:
        with self._writing(run_id):
            super().set_parameters(run_id, parameters)

    def put_step_log(self, run_id: str, step_log: StepLog) -> None:
        with self._writing(run_id):
            super().put_step_log(run_id, step_log)

    def put_branch_log(self, run_id: str, branch_log: BranchLog) -> None:
        with self._writing(run_id):
            super().put_branch_log(run_id, branch_log)

    def get_run_log(self, run_id: str) -> RunLog:
        with self._locked(run_id, reading=True):
            if self._pieces(run_id):
                return super().get_run_log(run_id)
            return self._parse(self.json_path(run_id))  # a fresh copy: parsing costs a fifth of a deep copy

    def write_json(self, run_id: str, write: Callable[[str], Any]) -> None:
        """A run in pieces gathered as it is read; a gathered run, its file as written (a run of 100,000 map
        iterations is not parsed into memory to be written again)."""
        with self._locked(run_id, reading=True):
            if self._pieces(run_id):
                return super().write_json(run_id, write)
            try:
                fh = open(self.json_path(run_id), encoding="utf-8")
            except FileNotFoundError:
                raise RunLogNotFoundError(f"no run log for run id '{run_id}' in {self.log_folder}") from None
            with fh:
                for part in iter(lambda: fh.read(1 << 20), ""):
                    write(part)

    def summary(self, run_id: str) -> tuple[RunLog, StepTally]:
        """A gathered run's, as kept beside it when it was gathered (``runnable runs`` does not parse a map of
        100,000 iterations to count its steps); else worked out from its pieces or its file."""
        with self._locked(run_id, reading=True):
            if self._pieces(run_id):
                return super().summary(run_id)
            kept = self._kept_summary(run_id)
            if kept is not None:
                return kept
            _, run_log, steps, _ = self._consolidated(run_id)
            return run_log.header(), StepTally.of(steps.values())

    def _summary_path(self, run_id: str) -> Path:
        return self._root() / f".{check_run_id(run_id)}.summary"

    def _keep_summary(self, run_id: str, header: RunLog, tally: StepTally) -> None:
        st = self.json_path(run_id).stat()
        text = json.dumps({"gathered": [st.st_size, st.st_mtime_ns], "header": header.model_dump(mode="json"),
                           "tally": tally.as_json()})
        try:
            write_atomic(self._summary_path(run_id), text, self.durable)
        except OSError:  # only a speed-up: runs are summed up from their file without it
            pass

    def _kept_summary(self, run_id: str) -> tuple[RunLog, StepTally] | None:
        """The summary kept when the run was gathered, if the gathered file is still the one it describes."""
        try:
            kept = json.loads(self._summary_path(run_id).read_bytes())
            st = self.json_path(run_id).stat()
            if kept["gathered"] != [st.st_size, st.st_mtime_ns]:
                return None
            return RunLog.model_validate(kept["header"]), StepTally.from_json(kept["tally"])
        except (OSError, ValueError, KeyError, TypeError, ValidationError):
            return None

    def finalize(self, run_id: str) -> None:
        """Gather the pieces into ``<run_id>.json`` and remove them, holding the run's lock alone."""
        with self._locked(run_id, exclusive=True):
            d = self._dir(run_id)
            if not (d / HEADER).exists():
                return
            tally = StepTally()  # counted as the step logs are gathered: read once
            write_atomic(self.json_path(run_id), lambda write: super(FileSystemRunLogStore, self).write_json(
                run_id, write, tally), self.durable)
            self._keep_summary(run_id, super().get_run_log_header(run_id), tally)
            shutil.rmtree(d, ignore_errors=True)
