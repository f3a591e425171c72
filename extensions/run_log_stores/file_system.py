"""``file-system``: one JSON document per run, ``<log_folder>/<run_id>.json``.

While the run is going, steps are recorded piece by piece in ``<log_folder>/<run_id>.parts/`` (see
:mod:`.pieces`: atomic, safe for many writers, constant cost per step); when the run ends, the pieces
are gathered into ``<run_id>.json``, written atomically, and the parts folder is removed. A run log
copied from a cluster can hold either form (or both, if the run was cut short): the store reads both.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import ClassVar

from runnable.datamodel import BranchLog, RunLog, StepLog
from runnable.errors import RunLogNotFoundError
from runnable.run_log_store import assemble, check_run_id

from .pieces import BRANCHES, HEADER, PARAMETERS, RUN_CONFIG, STEPS, PieceStore, piece_file, write_atomic

PARTS_SUFFIX = ".parts"


class FileSystemRunLogStore(PieceStore):
    service_name: ClassVar[str] = "file-system"

    def run_dir(self, run_id: str) -> Path:
        return self._root() / f"{run_id}{PARTS_SUFFIX}"

    def json_path(self, run_id: str) -> Path:
        return self._root() / f"{check_run_id(run_id)}.json"

    def _consolidated_exists(self, run_id: str) -> bool:
        return self.json_path(run_id).exists()

    def _need_run(self, run_id: str) -> Path:
        d = self._dir(run_id)
        if not (d / HEADER).exists():
            if self.json_path(run_id).exists():
                self._explode(run_id)
            else:
                raise RunLogNotFoundError(f"no run log for run id '{run_id}' in {self.log_folder}")
        return d

    def _explode(self, run_id: str) -> None:
        """Turn a consolidated run log back into pieces, so the run can be written to again."""
        try:
            run_log = RunLog.model_validate_json(self.json_path(run_id).read_bytes())
        except ValueError as exc:
            raise RunLogNotFoundError(f"the run log {self.json_path(run_id)} is not valid: "
                                      f"{str(exc).splitlines()[0]}") from None
        d = self._dir(run_id)
        (d / STEPS).mkdir(parents=True, exist_ok=True)
        (d / BRANCHES).mkdir(exist_ok=True)
        stack = list(run_log.steps.values())
        while stack:
            step = stack.pop()
            for branch in step.branches.values():
                stack.extend(branch.steps.values())
                self._write(d / BRANCHES / piece_file(branch.internal_name), branch.model_copy(update={"steps": {}}))
            self._write(d / STEPS / piece_file(step.internal_name), step.model_copy(update={"branches": {}}))
        self._write(d / PARAMETERS, {k: v.model_dump(mode="json") for k, v in run_log.parameters.items()})
        self._write(d / RUN_CONFIG, run_log.run_config)
        self._write(d / HEADER, run_log.model_copy(update={"steps": {}, "parameters": {}, "run_config": {}}))

    def get_step_log(self, run_id: str, internal_name: str) -> StepLog:
        self._need_run(run_id)
        return super().get_step_log(run_id, internal_name)

    def get_branch_log(self, run_id: str, internal_name: str) -> BranchLog:
        self._need_run(run_id)
        return super().get_branch_log(run_id, internal_name)

    def put_step_log(self, run_id: str, step_log: StepLog) -> None:
        self._need_run(run_id)
        super().put_step_log(run_id, step_log)

    def put_branch_log(self, run_id: str, branch_log: BranchLog) -> None:
        self._need_run(run_id)
        super().put_branch_log(run_id, branch_log)

    def get_run_log(self, run_id: str) -> RunLog:
        d = self._dir(run_id)
        if not (d / HEADER).exists() and self.json_path(run_id).exists():
            return RunLog.model_validate_json(self.json_path(run_id).read_bytes())
        return super().get_run_log(run_id)

    def finalize(self, run_id: str) -> None:
        """Gather the pieces into ``<run_id>.json`` and remove them."""
        d = self._dir(run_id)
        if not (d / HEADER).exists():
            return
        run_log = super().get_run_log(run_id)
        write_atomic(self.json_path(run_id), run_log.model_dump_json(indent=1))
        shutil.rmtree(d, ignore_errors=True)
