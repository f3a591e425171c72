"""``local``: run the pipeline here, recording everything in the run log.

    pipeline-executor:
      type: local
      config:
        enable_parallel: true   # branches of parallel steps and map iterations in processes
        max_processes: 4        # at most this many at once (default: the number of CPUs)

With ``enable_parallel`` the branches of a parallel or map step run in forked processes, which write
their steps to the same run log (the file stores are safe for many writers), so the run log is the
one a sequential run leaves. Branches inside a branch that already runs in its own process run one
after another there, so the number of processes stays bounded. The in-memory ``buffered`` store cannot
be shared between processes: with it, branches run one after another.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import ClassVar

from pydantic import Field

from runnable.errors import RunnableError
from runnable.executor import BasePipelineExecutor

logger = logging.getLogger(__name__)

# what forked workers run: set by the parent just before it forks them
_job: dict = {}
_in_worker = False


class LocalExecutor(BasePipelineExecutor):
    service_name: ClassVar[str] = "local"

    enable_parallel: bool = False
    max_processes: int = Field(default=0, ge=0, description="0: the number of CPUs")

    def execute_branches(self, ctx, step, branches) -> None:
        if not self.enable_parallel or _in_worker or len(branches) < 2:
            return super().execute_branches(ctx, step, branches)
        if not ctx.run_log_store.shared_between_processes:
            logger.warning("enable_parallel: the %s run log store lives in one process; running branches one "
                           "after another", ctx.run_log_store.service_name)
            return super().execute_branches(ctx, step, branches)
        workers = min(len(branches), self.max_processes or os.cpu_count() or 2)
        _job.update(executor=self, ctx=ctx, branches=branches)
        outcomes: list = [None] * len(branches)
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                     initializer=_become_worker) as pool:
                futures = {pool.submit(_run_branch, i): i for i in range(len(branches))}
                for future in as_completed(futures):  # as each ends: the progress display counts it
                    index = futures[future]
                    outcomes[index] = future.result()
                    if outcomes[index][0] == "done":
                        ctx.observer.branch_ended(ctx, step, branches[index].internal_name, outcomes[index][1])
        finally:
            _job.clear()
        for outcome in outcomes:
            if outcome[0] != "done":
                _raise(outcome)


def _become_worker() -> None:
    global _in_worker
    _in_worker = True


def _run_branch(index: int):
    """In a worker: run one branch; its status, or what went wrong, comes back as plain data (exceptions may
    not pickle)."""
    try:
        return ("done", _job["executor"].execute_branch(_job["ctx"], _job["branches"][index]))
    except RunnableError as exc:
        return ("user", exc.message, exc.file, exc.line, exc.step, exc.field)
    except BaseException as exc:  # noqa: BLE001 - reported by the parent like any internal error
        return ("internal", f"{type(exc).__name__}: {exc}", traceback.format_exc())


def _raise(outcome) -> None:
    if outcome[0] == "user":
        _, message, file, line, step, field = outcome
        raise RunnableError(message, file=file, line=line, step=step, field=field)
    logger.debug("a branch process failed:\n%s", outcome[2])
    raise RuntimeError(f"a branch process failed: {outcome[1]}")
