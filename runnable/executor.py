"""Pipeline executors: where and when steps run. Executors are plugins (``runnable.pipeline_executor``).

:class:`BasePipelineExecutor` holds the traversal every executor shares: walk a graph from its first
step, run each step (with its attempts), follow ``next`` or ``on_failure``, open and close parallel
and map steps. The local executor adds running branches in processes of their own (``enable_parallel``);
the argo executor writes a manifest instead of walking the graph (:meth:`describe_run`), and its pods call,
through :mod:`runnable.entrypoints`, :meth:`start_run`, :meth:`execute_single_node`, :meth:`fan_out_single`,
:meth:`fan_in_single`, :meth:`execute_batch` and :meth:`end_run`, one step or fan at a time.

The executor is the one writer of the run log: nodes return what they did (an attempt with its
catalog entries and metrics, the branches to run, what branches return) and the executor records it.
An exception that stops a step leaves that step FAIL with the exception in one line, and the run FAIL.
As it records, it tells the run's :class:`RunObserver` (``ctx.observer``: the console's progress display,
:mod:`runnable.progress`) what happened.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, ClassVar, Iterator

from . import run_log as dm
from .run_log import BranchLog, RunLog, StepAttempt, StepLog
from .errors import RunnableError
from .nodes import BaseNode, BranchRun, CompositeNode, MapVariable, Outcome
from .service import BaseService
from .batches import provisional, resuming

if TYPE_CHECKING:
    from .context import RunContext
    from .graph import Graph

logger = logging.getLogger("runnable")


class RunObserver:
    """What the executor tells as a run goes, each time it has recorded it; this base ignores everything.

    A 10,000-step run makes about 20,000 calls: an observer does little per call. In a branch process
    (the local executor's ``enable_parallel``) the calls come from that process.
    """

    def run_started(self, ctx: "RunContext") -> None:
        """The run log exists; steps are about to run (a retry: its original run is ``ctx.original_run_id``)."""

    def step_started(self, ctx: "RunContext", step_log: StepLog, branches: int | None = None) -> None:
        """A step that does work starts; a parallel, map or dag step says how many ``branches`` it opened."""

    def step_ended(self, ctx: "RunContext", step_log: StepLog) -> None:
        """A step's final record for now: run, reused from the original run (``step_log.reused``) or failed."""

    def branch_ended(self, ctx: "RunContext", step: str, branch: str, status: str) -> None:
        """One branch (or map iteration) ``branch`` of the composite step ``step`` ended with ``status``."""

    def run_ended(self, ctx: "RunContext", status: str) -> None:
        """The run ended with ``status`` (FAIL too when a mistake found at run time stopped it)."""


class BasePipelineExecutor(BaseService):
    service_type: ClassVar[str] = "pipeline_executor"
    #: False for executors that only describe the run (argo): ``execute`` then writes, not runs
    runs_locally: ClassVar[bool] = True

    # --- a whole run -----------------------------------------------------------------------------
    def start_run(self, ctx: "RunContext", parameters: dict[str, dm.Parameter], exist_ok: bool = False) -> None:
        """Create the run log with the initial parameters (``exist_ok``: a retried pod finds it made)."""
        from .retry import initial_parameters_record

        run_config = {**ctx.run_config(), "initial_parameters": initial_parameters_record(parameters)}
        logger.info("run %s: creating its run log in the %s store", ctx.run_id, ctx.run_log_store.service_name)
        ctx.run_log_store.create_run_log(exist_ok=exist_ok, run_log=RunLog(
            run_id=ctx.run_id, dag_hash=ctx.graph.dag_hash, tag=ctx.tag, original_run_id=ctx.original_run_id,
            status=dm.PROCESSING, parameters=parameters, run_config=run_config,
        ))
        if ctx.original_run_id:  # only the process that claimed the run id writes to its catalog
            logger.info("run %s retries run %s: copying its catalog", ctx.run_id, ctx.original_run_id)
            ctx.catalog.copy_run(ctx.original_run_id, ctx.run_id)

    def retries_run(self) -> tuple[str, bool] | None:
        """The run this executor's configuration says to retry, and whether a changed pipeline is allowed."""
        return None

    def check_run(self, ctx: "RunContext") -> None:
        """What this executor can tell is wrong before anything runs: its configuration against the pipeline
        (an override a step names and the configuration does not define, a path pods could not share). Raises
        the first problem; ``runnable validate`` and ``runnable execute`` both call it after the pre-flight."""

    def describe_run(self, ctx: "RunContext", parameters: dict[str, dm.Parameter]) -> None:
        """Executors that do not run the pipeline here (argo) write what will run it instead."""
        raise NotImplementedError

    def execute_pipeline(self, ctx: "RunContext", parameters: dict[str, dm.Parameter]) -> str:
        """Run the whole pipeline here; returns the run's final status."""
        self.start_run(ctx, parameters)
        ctx.observer.run_started(ctx)
        status = dm.FAIL
        try:
            status = self.execute_graph(ctx, ctx.graph, {})
        except (Exception, KeyboardInterrupt):  # a mistake found at run time, a bug, or interrupted: the run failed
            ctx.run_log_store.set_run_status(ctx.run_id, dm.FAIL)
            raise
        finally:
            ctx.run_log_store.finalize(ctx.run_id)
            logger.info("run %s: %s", ctx.run_id, status)
            ctx.observer.run_ended(ctx, status)
        return status

    def execute_single_node(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable,
                            attempt: int | None = None) -> bool:
        """Run one leaf step of an existing run (what a pod does); True when the pod should report success.

        With ``attempt`` (a pod's retry number + 1) one attempt runs; without, every attempt the step
        allows. On the step's final outcome, a terminal step that follows it (success or fail) is
        recorded here too, so terminal steps need no pod of their own. A pod fails when its step
        failed or led to the fail step.
        """
        if node.is_composite:
            raise RunnableError(f"'{node.name}' is a {node.type} step: open and close it with 'runnable fan'",
                                step=node.name)
        if self.should_skip(ctx, node, map_variable):
            return not self.follow_to_terminal(ctx, node, map_variable, True)
        with self.failing_step(ctx, node, map_variable):
            step_log = self.execute_node(ctx, node, map_variable, attempt_number=attempt)
        ok = step_log.status == dm.SUCCESS
        final = ok or attempt is None or attempt >= self.attempts_allowed(ctx, node)
        reached_fail = self.follow_to_terminal(ctx, node, map_variable, ok) if final else False
        return ok and not reached_fail

    def attempts_allowed(self, ctx: "RunContext", node: BaseNode) -> int:
        return node.max_attempts_allowed()

    def follow_to_terminal(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable, ok: bool) -> bool:
        """Record the terminal step that follows ``node`` given its outcome, if one does; True if it is fail."""
        if node.is_terminal:
            if len(node.segments) == 1:
                ctx.run_log_store.finalize(ctx.run_id)
            return node.type == "fail"
        _, graph = ctx.graph.locate(node.internal_name_template())
        target = graph.next_after(node, ok)
        if not target.is_terminal:
            return False
        self.execute_node(ctx, target, map_variable)
        if len(target.segments) == 1:
            ctx.run_log_store.finalize(ctx.run_id)
        return target.type == "fail"

    def fan_out_single(self, ctx: "RunContext", node: CompositeNode, map_variable: MapVariable) -> list[BranchRun]:
        """A pod's fan-out: open the step; on a mistake found at run time, record and follow the failure."""
        with self.failing_step(ctx, node, map_variable, follow=True):
            return self.fan_out(ctx, node, map_variable)

    def fan_in_single(self, ctx: "RunContext", node: CompositeNode, map_variable: MapVariable) -> bool:
        """A pod's fan-in: close the step and record the terminal step its outcome leads to, if any."""
        with self.failing_step(ctx, node, map_variable, follow=True):
            ok = self.fan_in(ctx, node, map_variable) == dm.SUCCESS
        reached_fail = self.follow_to_terminal(ctx, node, map_variable, ok)
        return ok and not reached_fail

    def end_run(self, ctx: "RunContext", workflow_status: str | None = None) -> str:
        """After everything (Argo's exit handler): a run that did not reach a terminal step has failed."""
        store = ctx.run_log_store
        if not store.run_exists(ctx.run_id):
            return dm.FAIL
        status = store.get_run_log_header(ctx.run_id).status
        if status not in dm.FINAL_STATUSES:
            store.set_run_status(ctx.run_id, dm.FAIL)
            status = dm.FAIL
        store.finalize(ctx.run_id)
        return status

    # --- graphs and steps ------------------------------------------------------------------------
    def execute_graph(self, ctx: "RunContext", graph: "Graph", map_variable: MapVariable) -> str:
        """Walk ``graph`` from its first step to a terminal step; returns SUCCESS or FAIL."""
        node = graph.start_node
        while True:
            status = self.execute_from_graph(ctx, node, map_variable)
            if node.is_terminal:
                return dm.SUCCESS if node.type == "success" else dm.FAIL
            if status != dm.SUCCESS and provisional.get():  # a batch tried again: its last try follows the failure
                return dm.FAIL
            node = graph.next_after(node, status == dm.SUCCESS)

    def execute_from_graph(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable) -> str:
        """Run one step of a graph (a composite step with all its branches); returns its status."""
        if self.should_skip(ctx, node, map_variable):
            return dm.SUCCESS
        with self.failing_step(ctx, node, map_variable):
            if node.is_composite:
                return self.execute_composite(ctx, node, map_variable)  # type: ignore[arg-type]
            return self.execute_node(ctx, node, map_variable).status

    @contextmanager
    def failing_step(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable,
                     follow: bool = False) -> Iterator[None]:
        """An exception that stops ``node`` leaves its step log FAIL, saying why in one line, and goes on up.

        ``follow`` (a pod's fan-out or fan-in): the failure is also followed to a terminal step, as a
        failed step's would be.
        """
        try:
            yield
        except (Exception, KeyboardInterrupt) as exc:  # Ctrl-C, SIGTERM (runnable.processes): "interrupted"
            message = exc.message if isinstance(exc, RunnableError) else "interrupted" \
                if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
            step_log = self.step_log(ctx, node, map_variable)
            step_log.status = dm.FAIL
            step_log.message = (message.splitlines() or [""])[0]
            ctx.run_log_store.put_step_log(ctx.run_id, step_log)
            logger.info("step '%s': FAIL (%s)", step_log.internal_name, step_log.message)
            ctx.observer.step_ended(ctx, step_log)
            if follow:
                self.follow_to_terminal(ctx, node, map_variable, False)
            raise

    def should_skip(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable) -> bool:
        """Whether a step is already done: in a retry, a step that succeeded in the original run.

        Its step log is carried over and what it returned is put back into its scope.
        """
        if resuming.get() and not node.is_terminal:  # a batch run again: what this run already did stays
            done = ctx.run_log_store.step_log_or_none(ctx.run_id, node.internal_name(map_variable))
            if done is not None and done.status == dm.SUCCESS:
                return True
        from .retry import reusable

        carried = reusable(ctx, node, map_variable)
        if carried is None:
            return False
        step_log, returned = carried
        ctx.run_log_store.put_step_log(ctx.run_id, step_log)
        self.write_parameters(ctx, node.enclosing_branches(map_variable), returned)
        logger.info("step '%s': reused from run %s", step_log.internal_name, ctx.original_run_id)
        ctx.observer.step_ended(ctx, step_log)
        return True

    def execute_node(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable,
                     attempt_number: int | None = None) -> StepLog:
        """Run a leaf step: every attempt it is allowed (or the one attempt given), each recorded."""
        store = ctx.run_log_store
        again = resuming.get() and not attempt_number  # a batch run again: attempts numbered on from those recorded
        step_log = self.step_log(ctx, node, map_variable, recorded=bool(attempt_number) or again)
        first = len(step_log.attempts) + 1 if again else 1
        step_log.status = dm.PROCESSING
        if node.records_start:
            store.put_step_log(ctx.run_id, step_log)
            logger.info("step '%s': started", step_log.internal_name)
            ctx.observer.step_started(ctx, step_log)
        attempts = [attempt_number] if attempt_number else range(first, first + node.max_attempts_allowed())
        for number in attempts:
            attempt = self.record_attempt(ctx, node, map_variable, step_log,
                                          self.run_attempt(ctx, node, map_variable, number))
            if attempt.status == dm.SUCCESS:
                break
            logger.warning("step '%s' attempt %d failed: %s", step_log.internal_name, number, attempt.message)
            if number != attempts[-1]:
                logger.info("step '%s': attempt %d of %d", step_log.internal_name, number + 1, attempts[-1])
        store.put_step_log(ctx.run_id, step_log)
        logger.info("step '%s': %s", step_log.internal_name, step_log.status)
        ctx.observer.step_ended(ctx, step_log)
        return step_log

    def run_attempt(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable, number: int) -> Outcome:
        """One attempt of a leaf step (an executor may run it elsewhere, or under a time limit)."""
        return node.execute(ctx, map_variable, number)

    def step_log(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable,
                 recorded: bool = True) -> StepLog:
        """The step's log as recorded so far (``recorded``), or a new one."""
        internal = node.internal_name(map_variable)
        step_log = ctx.run_log_store.step_log_or_none(ctx.run_id, internal) if recorded else None
        return step_log or ctx.new_step_log(node.name, internal, node.step_type)

    def record_attempt(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable, step_log: StepLog,
                       outcome: Outcome) -> StepAttempt:
        """Record what one attempt produced: its returns into the step's scope, the rest into its step log."""
        attempt = outcome.attempt
        step_log.add_data_catalogs(outcome.data_catalog)
        step_log.user_defined_metrics.update(outcome.metrics)
        self.write_parameters(ctx, node.enclosing_branches(map_variable), attempt.output_parameters)
        if outcome.ends_with is not None:
            self.end_graph(ctx, node, map_variable, outcome.ends_with)
        step_log.attempts.append(attempt)
        step_log.status = attempt.status
        step_log.message = attempt.message
        return attempt

    def end_graph(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable, status: str) -> None:
        """A terminal step was reached: the graph it ends (the run, or its branch) takes ``status``."""
        store = ctx.run_log_store
        chain = node.enclosing_branches(map_variable)
        if not chain:
            store.set_run_status(ctx.run_id, status)
            return
        branch = store.get_branch_log(ctx.run_id, chain[-1])
        branch.status = status  # type: ignore[assignment]
        store.put_branch_log(ctx.run_id, branch)

    def write_parameters(self, ctx: "RunContext", chain: list[str], updates: dict[str, dm.Parameter]) -> None:
        """Set parameters in the innermost scope of ``chain`` (the run's own when it is empty)."""
        if not updates:
            return
        store = ctx.run_log_store
        if chain:
            branch = store.get_branch_log(ctx.run_id, chain[-1])
            branch.parameters.update(updates)
            store.put_branch_log(ctx.run_id, branch)
        else:
            params = store.get_parameters(ctx.run_id)
            params.update(updates)
            store.set_parameters(ctx.run_id, params)

    def execute_composite(self, ctx: "RunContext", node: CompositeNode, map_variable: MapVariable) -> str:
        branches = self.fan_out(ctx, node, map_variable)
        self.execute_branches(ctx, node.internal_name(map_variable), branches)
        return self.fan_in(ctx, node, map_variable)

    def fan_out(self, ctx: "RunContext", node: CompositeNode, map_variable: MapVariable) -> list[BranchRun]:
        """Open a composite step: its step log PROCESSING, then a log for each branch not recorded yet."""
        store = ctx.run_log_store
        step_log = self.step_log(ctx, node, map_variable)
        step_log.status = dm.PROCESSING
        store.put_step_log(ctx.run_id, step_log)
        runs = node.branch_runs(ctx, map_variable)
        ctx.observer.step_started(ctx, step_log, branches=len(runs))  # said before a wide map's minutes of writing
        for run in runs:
            if store.branch_log_or_none(ctx.run_id, run.internal_name) is None:
                store.put_branch_log(ctx.run_id, BranchLog(internal_name=run.internal_name, status=dm.CREATED,
                                                           iteration=run.iteration, parameters=run.parameters))
        logger.info("step '%s': opened %d branches", step_log.internal_name, len(runs))
        return runs

    def fan_in(self, ctx: "RunContext", node: CompositeNode, map_variable: MapVariable) -> str:
        """Close a composite step: it succeeds when every branch did; what they return goes around it."""
        store = ctx.run_log_store
        branch_names = [run.internal_name for run in node.branch_runs(ctx, map_variable)]
        branch_logs = [store.branch_log_or_none(ctx.run_id, b) for b in branch_names]
        returned = node.gather(ctx, map_variable, branch_logs)  # before the status: a reducer may fail
        failed = [b for b, log in zip(branch_names, branch_logs) if log is None or log.status != dm.SUCCESS]
        status = dm.FAIL if failed else dm.SUCCESS
        step_log = store.get_step_log(ctx.run_id, node.internal_name(map_variable))
        step_log.status = status  # type: ignore[assignment]
        step_log.message = f"{len(failed)} of {len(branch_names)} branches did not succeed: " \
                           f"{', '.join(failed[:5])}{' ...' if len(failed) > 5 else ''}" if failed else ""
        if not step_log.attempts:
            step_log.attempts.append(StepAttempt(attempt_number=1).start())
        step_log.attempts[-1].finish(status, step_log.message)
        store.put_step_log(ctx.run_id, step_log)
        self.write_parameters(ctx, node.enclosing_branches(map_variable), returned)
        logger.info("step '%s': %s (%d of %d branches succeeded)", step_log.internal_name, status,
                    len(branch_names) - len(failed), len(branch_names))
        ctx.observer.step_ended(ctx, step_log)
        return status

    def execute_branches(self, ctx: "RunContext", step: str, branches: list[BranchRun]) -> None:
        """Run the branches of the parallel or map step ``step`` (one after another here)."""
        for branch in branches:
            ctx.observer.branch_ended(ctx, step, branch.internal_name, self.execute_branch(ctx, branch))

    def execute_branch(self, ctx: "RunContext", branch: BranchRun) -> str:
        return self.execute_graph(ctx, branch.graph, branch.map_variable)

    def execute_batch(self, ctx: "RunContext", node: CompositeNode, map_variable: MapVariable,
                      iterations: list[int], retries: int | None = None) -> bool:
        """Run some iterations of an opened map step here, one after another (an Argo batch pod); True when every
        one succeeded. Each is its own branch: one that fails, or raises, fails its branch only, and the others still
        run. One that succeeded already is left alone; the others resume (:mod:`runnable.batches`). ``retries``: how
        many tries of this batch came before (Argo's ``{{retries}}``); in a try that will be made again
        (:meth:`batch_retries_allowed`) an iteration that fails stops at its failed step."""
        store = ctx.run_log_store
        again = retries is not None and retries < self.batch_retries_allowed(ctx, node)
        runs = node.branch_runs(ctx, map_variable)
        if iterations and max(iterations) >= len(runs):
            raise RunnableError(f"step '{node.name}' has {len(runs)} iterations, so no iteration {max(iterations)}",
                                step=node.name, field="--iterations")
        ok = True
        for index in iterations:
            run = runs[index]
            log = store.branch_log_or_none(ctx.run_id, run.internal_name)
            if log is not None and log.status == dm.SUCCESS:
                continue
            token, held = resuming.set(True), provisional.set(again)
            try:
                status = self.execute_branch(ctx, run)
            except Exception as exc:  # told in the step log that raised it (failing_step); the batch goes on
                logger.warning("iteration %s failed: %s", run.internal_name, exc)
                branch = store.get_branch_log(ctx.run_id, run.internal_name)
                branch.status, status = dm.FAIL, dm.FAIL
                store.put_branch_log(ctx.run_id, branch)
            finally:
                resuming.reset(token)
                provisional.reset(held)
            ok = ok and status == dm.SUCCESS
        return ok

    def batch_retries_allowed(self, ctx: "RunContext", node: CompositeNode) -> int:
        """How many times a batch of ``node``'s iterations is tried again after a try that failed."""
        return 0

    def carry_over(self, ctx: "RunContext", runs: list[BranchRun]) -> list[BranchRun]:
        """In a retry, the iterations (or branches) that succeeded in the original run are walked here, every step
        reused; the others are returned, to run."""
        if not ctx.original_run_id:
            return runs
        pending = []
        for run in runs:
            original = ctx.run_log_store.branch_log_or_none(ctx.original_run_id, run.internal_name)
            if original is None or original.status != dm.SUCCESS or self.execute_branch(ctx, run) != dm.SUCCESS:
                pending.append(run)
        return pending
