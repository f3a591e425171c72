"""Where run logs live. Stores are plugins (``runnable.run_log_store`` entry points).

The store is addressed piece by piece -- the run's header, its parameters, one step log, one branch
log -- so that recording a step costs the same in a run of ten steps or of ten thousand. The whole
:class:`~runnable.run_log.RunLog` is assembled only when someone asks for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, ClassVar, Iterable

from pydantic_core import to_json

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

    def write_json(self, run_id: str, write: Callable[[str], Any]) -> None:
        """The whole run log as JSON (``get_run_log(run_id).model_dump_json(indent=1)``), in parts through
        ``write``: a store keeping pieces writes one step or branch log at a time (``runnable show --json`` of a
        run of 100,000 map iterations in little memory)."""
        write(self.get_run_log(run_id).model_dump_json(indent=1))

    def summary(self, run_id: str) -> tuple[RunLog, "StepTally"]:
        """The run's header and the tally of its step logs (what ``runnable runs`` shows of a run)."""
        return self.get_run_log_header(run_id), StepTally.of(self.list_logs(run_id)[0])

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
    records = [s.model_copy(update={"branches": {}}) for s in steps] + [b.model_copy(update={"steps": {}}) for b in branches]
    children = nesting([placement(r) for r in records])
    run_log.steps = {}
    pending = [("", run_log.steps)]
    while pending:
        parent, into = pending.pop()
        for key, index in children.get(parent, {}).items():
            record = into[key] = records[index]
            pending.append((record.internal_name, record.branches if isinstance(record, StepLog) else record.steps))
    return run_log


#: where a step or branch log goes in the run log: (internal name, key it is filed under -- a step's name, a
#: branch's internal name --, is a branch, a step's first start time, a branch's iteration)
Placement = tuple[str, str, bool, str, int]


TERMINAL_STEP_TYPES = ("success", "fail")


@dataclass
class StepTally:
    """A run's step logs in brief, gathered one at a time: how many have each status (its success and fail
    steps aside), and the first start and the last end of their attempts."""

    counts: dict[str, int] = field(default_factory=dict)
    first: datetime | None = None
    last: datetime | None = None

    @classmethod
    def of(cls, steps: Iterable[StepLog]) -> "StepTally":
        tally = cls()
        for step in steps:
            tally.add(step)
        return tally

    def add(self, step: StepLog) -> None:
        if step.step_type not in TERMINAL_STEP_TYPES:
            self.counts[step.status] = self.counts.get(step.status, 0) + 1
        for attempt in step.attempts:
            for moment in (parse_time(attempt.start_time), parse_time(attempt.end_time)):
                if moment is None:
                    continue
                if self.first is None or moment < self.first:
                    self.first = moment
                if self.last is None or moment > self.last:
                    self.last = moment

    def as_json(self) -> dict:
        return {"counts": self.counts, "first": self.first and self.first.isoformat(),
                "last": self.last and self.last.isoformat()}

    @classmethod
    def from_json(cls, data: dict) -> "StepTally":
        return cls(dict(data["counts"]), parse_time(data["first"]), parse_time(data["last"]))


def parse_time(text: str | None) -> datetime | None:
    """A time as the run log writes it (ISO 8601), or None when there is none (or it is not one)."""
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def placement(record: StepLog | BranchLog | dict) -> Placement:
    """A step or branch log's :data:`Placement`; ``record`` as a model or as its JSON, parsed (a branch log's
    JSON has ``iteration``, a step log's has not)."""
    data = record if isinstance(record, dict) else record.__dict__
    if "iteration" in data:
        return data["internal_name"], data["internal_name"], True, "", data["iteration"] or 0
    attempts = data.get("attempts") or []
    if not attempts:
        return data["internal_name"], data["name"], False, "~", 0  # steps never started go last
    first = attempts[0]
    return data["internal_name"], data["name"], False, first["start_time"] if isinstance(first, dict) else first.start_time, 0


def nesting(placements: list[Placement]) -> dict[str, dict[str, int]]:
    """For each parent (a step or branch log's internal name, '' for the run), its children in the run log's
    order, by the key each is filed under, as indexes into ``placements``. Steps are in order of their start
    (execution order), branches of their iteration; a record whose parent is missing is left out (and so is
    what is under it)."""
    steps = {p[0] for p in placements if not p[2]}
    branches = {p[0] for p in placements if p[2]}
    children: dict[str, dict[str, int]] = {}
    for index in sorted(range(len(placements)), key=lambda i: (placements[i][2], *placements[i][3:], placements[i][0])):
        internal, key, is_branch, _, _ = placements[index]
        parent = names.parent(internal)
        if (parent in steps) if is_branch else (not parent or parent in branches):
            children.setdefault(parent, {})[key] = index
    return children


def write_nested(head: str, children: dict[str, dict[str, int]], text_of, write) -> None:
    """Write a run log as ``RunLog.model_dump_json(indent=1)`` of the assembled run log would, one record at a
    time (a run of 100,000 map iterations is never whole in memory): ``head`` is the run log's JSON (indent 1)
    without steps; ``text_of(index)`` a step or branch log's JSON (indent 1) without its children, and its
    internal name; ``children`` what :func:`nesting` returned."""
    empty = "{}\n}"  # the last field (steps or branches) of every record, when it is written without them

    def record(text: str, parent: str, indent: int) -> None:
        assert text.endswith(empty), text[-20:]
        inner = children.get(parent)
        if not inner:
            write(text.replace("\n", "\n" + " " * indent))
            return
        write(text[: -len(empty)].replace("\n", "\n" + " " * indent) + "{\n")
        for n, (key, index) in enumerate(inner.items()):
            child, internal = text_of(index)
            write(("" if not n else ",\n") + " " * (indent + 2) + to_json(key).decode() + ": ")
            record(child, internal, indent + 2)
        write("\n" + " " * (indent + 1) + "}\n" + " " * indent + "}")

    record(head, "", 0)
