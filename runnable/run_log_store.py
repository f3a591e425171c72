"""Where run logs live. Stores are plugins (``runnable.run_log_store`` entry points).

The store is addressed piece by piece -- the run's header, its parameters, one step log, one branch
log -- so that recording a step costs the same in a run of ten steps or of ten thousand. The whole
:class:`~runnable.run_log.RunLog` is assembled only when someone asks for it.
"""

from __future__ import annotations

import re
from typing import ClassVar

from . import names
from .run_log import BranchLog, Parameter, RunLog, StepLog
from .errors import RunnableError, RunLogNotFoundError, StepLogNotFoundError
from .service import BaseService

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_run_id(run_id: str) -> str:
    """Run ids name files and folders: they may not contain path separators or start with a dot."""
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id) or ".." in run_id:
        raise RunnableError(
            f"run id {run_id!r} is not allowed: use letters, digits, '.', '_' and '-' "
            f"(at most 128, not starting with '.' or '-', no '..')",
            field="run_id",
        )
    return run_id


def log_not_found(kind: str, internal_name: str, run_id: str) -> StepLogNotFoundError:
    """``kind``: step or branch."""
    return StepLogNotFoundError(f"no {kind} log '{internal_name}' in run '{run_id}'")


class BaseRunLogStore(BaseService):
    """Stores the pieces of run logs. A store implements the methods that raise NotImplementedError here;
    the rest is shared."""

    service_type: ClassVar[str] = "run_log_store"
    #: whether pods on other machines can share it (a shared volume): the argo executor checks this
    shared_between_processes: ClassVar[bool] = True

    # --- what a store implements ------------------------------------------------------------------
    def create_run_log(self, run_log: RunLog, exist_ok: bool = False) -> None:
        raise NotImplementedError

    def get_run_log_header(self, run_id: str) -> RunLog:
        """The run log without its steps and without run_config (cheap)."""
        raise NotImplementedError

    def get_run_config(self, run_id: str) -> dict:
        raise NotImplementedError

    def set_run_status(self, run_id: str, status: str) -> None:
        raise NotImplementedError

    def get_parameters(self, run_id: str) -> dict[str, Parameter]:
        raise NotImplementedError

    def set_parameters(self, run_id: str, parameters: dict[str, Parameter]) -> None:
        raise NotImplementedError

    def put_step_log(self, run_id: str, step_log: StepLog) -> None:
        raise NotImplementedError

    def get_step_log(self, run_id: str, internal_name: str) -> StepLog:
        raise NotImplementedError

    def put_branch_log(self, run_id: str, branch_log: BranchLog) -> None:
        raise NotImplementedError

    def get_branch_log(self, run_id: str, internal_name: str) -> BranchLog:
        raise NotImplementedError

    def list_logs(self, run_id: str) -> tuple[list[StepLog], list[BranchLog]]:
        """Every step log and branch log of the run (for assembling the whole run log)."""
        raise NotImplementedError

    def list_run_ids(self) -> list[str]:
        """The id of every run the store holds, in no particular order (what ``runnable runs`` lists)."""
        raise NotImplementedError

    def run_exists(self, run_id: str) -> bool:
        try:
            self.get_run_log_header(run_id)
            return True
        except RunLogNotFoundError:
            return False

    def location(self, run_id: str) -> str:
        """Where a user finds the run log (shown when a run ends)."""
        return f"the {self.service_name} store"

    def finalize(self, run_id: str) -> None:
        """Called when a run ends: a store may consolidate what it wrote piecewise."""

    # --- shared -----------------------------------------------------------------------------------
    def get_run_log(self, run_id: str) -> RunLog:
        """The whole run log, steps and branches nested as in SPEC section 4."""
        header = self.get_run_log_header(run_id)
        run_log = header.model_copy(update={"run_config": self.get_run_config(run_id),
                                            "parameters": self.get_parameters(run_id)})
        steps, branches = self.list_logs(run_id)
        return assemble(run_log, steps, branches)

    def step_log_or_none(self, run_id: str, internal_name: str) -> StepLog | None:
        try:
            return self.get_step_log(run_id, internal_name)
        except StepLogNotFoundError:
            return None

    def branch_log_or_none(self, run_id: str, internal_name: str) -> BranchLog | None:
        try:
            return self.get_branch_log(run_id, internal_name)
        except StepLogNotFoundError:
            return None


def assemble(run_log: RunLog, steps: list[StepLog], branches: list[BranchLog]) -> RunLog:
    """Nest step and branch logs by their internal names (parents are shorter names)."""
    run_log.steps = {}
    by_name_step: dict[str, StepLog] = {}
    by_name_branch: dict[str, BranchLog] = {}
    items: list[tuple] = []
    for s in steps:
        s = s.model_copy(update={"branches": {}})
        by_name_step[s.internal_name] = s
        started = s.attempts[0].start_time if s.attempts else "~"  # steps never started go last
        items.append((len(names.split(s.internal_name)), 0, started, 0, s.internal_name, s))
    for b in branches:
        b = b.model_copy(update={"steps": {}})
        by_name_branch[b.internal_name] = b
        items.append((len(names.split(b.internal_name)), 1, "", b.iteration or 0, b.internal_name, b))
    items.sort(key=lambda t: t[:5])  # depth, kind, start time (execution order), iteration
    for *_, item in items:
        parent = names.parent(item.internal_name)  # type: ignore[attr-defined]
        if isinstance(item, StepLog):
            if not parent:
                run_log.steps[item.name] = item
            elif parent in by_name_branch:
                by_name_branch[parent].steps[item.name] = item
        else:
            if parent in by_name_step:
                by_name_step[parent].branches[item.internal_name] = item
    return run_log
