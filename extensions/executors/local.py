"""``local``: run the pipeline here, recording everything in the run log.

    pipeline-executor:
      type: local
      config:
        enable_parallel: true   # branches of parallel steps and map iterations in processes
        max_processes: 4        # at most this many at once (default: the number of CPUs)
        max_step_duration_in_seconds: 3600   # a time limit for each attempt of a step (default: none)
        overrides:
          long: {max_step_duration_in_seconds: 86400}   # a step names it: overrides: {local: long}

With ``enable_parallel`` the branches of a parallel or map step run in forked processes, which write
their steps to the same run log (the file stores are safe for many writers), so the run log is the
one a sequential run leaves. Branches inside a branch that already runs in its own process run one
after another there, so the number of processes stays bounded. The in-memory ``buffered`` store cannot
be shared between processes: with it, branches run one after another.

With a time limit, each attempt of a step that does work runs in a forked process leading a process
group of its own; at the limit the step is stopped (its execution log keeps its output so far), the group
(the step and everything it started) is killed, and the attempt recorded FAIL, "timed out after N s"; the
step's ``max_attempts`` then apply. A step's override
(``overrides: {local: <name>}``) changes the limit for that step only, as an argo override does for its
pod (:mod:`runnable.overrides`). Without a limit, steps run in this process as before.

Branch workers die with the process that forked them; interrupted (Ctrl-C, SIGTERM), they record their
steps as interrupted and end. What the run's tasks start ends with the run (:mod:`runnable.processes`).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from runnable import processes
from runnable.executor import BasePipelineExecutor
from runnable.overrides import named_override, with_override
from runnable.run_log import FAIL, StepAttempt

logger = logging.getLogger(__name__)

# what forked workers run: set by the parent just before it forks them
_job: dict = {}
_in_worker = False
_busy = False  # a worker runs a branch now (interrupted, it records it)
_stopping = False  # a worker records that it was interrupted


class StepLimits(BaseModel):
    """What a step's override may change locally (the same field as the argo executor's)."""

    model_config = ConfigDict(extra="forbid")

    max_step_duration_in_seconds: int | None = Field(None, ge=1, description=(
        "Each attempt of a step that does work is ended past this many seconds and recorded FAIL (timed out); "
        "none: no limit."))


class LocalExecutor(StepLimits, BasePipelineExecutor):
    service_name: ClassVar[str] = "local"
    #: the key of a step's ``overrides`` this executor reads (the retry executor is the local one too)
    overrides_key: ClassVar[str] = "local"

    enable_parallel: bool = False
    max_processes: int = Field(default=0, ge=0, description="0: the number of CPUs")
    overrides: dict[str, StepLimits] = {}

    def check_run(self, ctx) -> None:
        for node in ctx.graph.walk():  # a step naming an override not defined: nothing runs
            named_override(node, self.overrides_key, self.overrides, ctx.pipeline_file)

    def execute_pipeline(self, ctx, parameters) -> str:
        with processes.watched_run():
            return super().execute_pipeline(ctx, parameters)

    def time_limit(self, ctx, node) -> int | None:
        """The step's time limit in seconds: the configuration's, or its override's."""
        if not node.records_start or (self.max_step_duration_in_seconds is None and not self.overrides):
            return None
        base = StepLimits.model_validate({k: getattr(self, k) for k in StepLimits.model_fields})
        override = named_override(node, self.overrides_key, self.overrides, ctx.pipeline_file)
        return with_override(base, override).max_step_duration_in_seconds

    def run_attempt(self, ctx, node, map_variable, number):
        limit = self.time_limit(ctx, node)
        if limit is None:
            return node.execute(ctx, map_variable, number)
        attempt = StepAttempt(attempt_number=number).start()

        def attempt_here():  # in the forked process: the outcome and the secrets it handed out come back
            return node.execute(ctx, map_variable, number), ctx.secret_registry.values

        try:
            (outcome, handed_out), overran = processes.run_with_limit(attempt_here, limit)
        except (processes.TimedOutError, processes.VanishedError) as exc:  # it could not say what it did
            return node.stopped(ctx, map_variable, attempt.finish(FAIL, str(exc)))
        ctx.secret_registry.values |= handed_out  # this process scrubs them from what it records next
        if overran:  # stopped at its limit, it recorded what it did (its output so far): failed, whatever it says
            outcome.attempt.status, outcome.attempt.message = FAIL, f"timed out after {limit} s"
            outcome.attempt.output_parameters = {}
            outcome.metrics.clear()
        return outcome

    def execute_branches(self, ctx, step, branches) -> None:
        if not self.enable_parallel or _in_worker or len(branches) < 2:
            return super().execute_branches(ctx, step, branches)
        if not ctx.run_log_store.shared_between_processes:
            logger.warning("enable_parallel: the %s run log store lives in one process; running branches one "
                           "after another", ctx.run_log_store.service_name)
            return super().execute_branches(ctx, step, branches)
        workers = min(len(branches), self.max_processes or os.cpu_count() or 2)
        _job.update(executor=self, ctx=ctx, branches=branches, parent=os.getpid())
        processes._prctl()  # ctypes loaded once here: a worker starts in microseconds, with less to be stopped in
        outcomes: list = [None] * len(branches)
        try:
            with _Workers(workers, mp_context=multiprocessing.get_context("fork"),
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


class _Workers(ProcessPoolExecutor):
    """Branch workers that stop at once when the run is interrupted (or fails): each records the step it
    runs as interrupted and ends; one that does not within a few seconds is killed."""

    def __exit__(self, kind, exc, tb):
        if exc is None:
            return super().__exit__(kind, exc, tb)
        workers = list((getattr(self, "_processes", None) or {}).values())
        for worker in workers:
            if worker.is_alive():
                with contextlib.suppress(ProcessLookupError):  # it ended in between
                    os.kill(worker.pid, signal.SIGTERM)
        deadline = time.monotonic() + 3.0
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                worker.kill()
                worker.join(1.0)
        self.shutdown(wait=False, cancel_futures=True)
        super().__exit__(kind, exc, tb)
        # Ctrl-C reaches the workers too: one may end (recorded, exit 128 + SIGINT) before this process sees its
        # own KeyboardInterrupt, and the pool reports it broken; the run was interrupted all the same. SIGTERM
        # does not count: that is how this process, and the pool when a worker crashed, stop the others.
        interrupted = [signal.SIGINT for w in workers if w.exitcode == 128 + signal.SIGINT]
        if isinstance(exc, BrokenProcessPool) and interrupted:
            raise processes.Interrupted(interrupted[0]) from None
        return False


def _become_worker() -> None:
    global _in_worker
    _in_worker = True
    for signum in (signal.SIGINT, signal.SIGTERM):  # first: stopped while it starts, a worker just ends
        signal.signal(signum, _interrupted)
    processes.die_with_parent(_job["parent"])  # a run killed with SIGKILL leaves no worker behind


def _interrupted(signum, frame) -> None:
    global _stopping
    if _stopping:  # a second signal (Ctrl-C reaches the group, then runnable stops its workers) would cut the
        return     # recording of the first short: the steps would stay PROCESSING
    if _busy:  # the steps it runs are recorded FAIL, interrupted (_run_branch ends the worker then)
        _stopping = True
        raise processes.Interrupted(signum)
    os._exit(128 + signum)


def _run_branch(index: int):
    """In a worker: run one branch; its status, or what went wrong, comes back as plain data (exceptions may
    not pickle)."""
    global _busy
    _busy = True
    try:
        return ("done", _job["executor"].execute_branch(_job["ctx"], _job["branches"][index]))
    except KeyboardInterrupt as exc:  # recorded: the worker ends, as the run does
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(getattr(exc, "exit_code", 130))
    except BaseException as exc:  # noqa: BLE001 - reported by the parent like any internal error
        return processes.failure(exc)
    finally:
        _busy = False


def _raise(outcome) -> None:
    processes.raise_failure(outcome, "a branch process")
