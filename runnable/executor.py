"""Pipeline executors: where and when steps run. Executors are plugins (``runnable.pipeline_executor``).

:class:`BasePipelineExecutor` holds the traversal every executor shares: walk a graph from its first
step, run each step (with its attempts), follow ``next`` or ``on_failure``, open and close parallel
and map steps. The local executor is this base as it is; the argo executor writes a manifest instead
of walking the graph, and its pods call :meth:`execute_single_node` and :meth:`fan` one step at a time.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

from . import datamodel as dm
from .datamodel import RunLog, StepLog
from .errors import RunnableError
from .nodes import BaseNode, BranchRun, MapVariable
from .service import BaseService

if TYPE_CHECKING:
    from .context import RunContext
    from .graph import Graph

logger = logging.getLogger("runnable")


class BasePipelineExecutor(BaseService):
    service_type: ClassVar[str] = "pipeline_executor"
    #: False for executors that only describe the run (argo): ``execute`` then writes, not runs
    runs_locally: ClassVar[bool] = True

    # --- a whole run -----------------------------------------------------------------------------
    def start_run(self, ctx: "RunContext", parameters: dict[str, dm.Parameter]) -> None:
        """Create the run log with the initial parameters."""
        ctx.run_log_store.create_run_log(RunLog(
            run_id=ctx.run_id, dag_hash=ctx.graph.dag_hash, tag=ctx.tag, original_run_id=ctx.original_run_id,
            status=dm.PROCESSING, parameters=parameters, run_config=ctx.run_config(),
        ))

    def execute_pipeline(self, ctx: "RunContext", parameters: dict[str, dm.Parameter]) -> str:
        """Run the whole pipeline here; returns the run's final status."""
        self.start_run(ctx, parameters)
        try:
            status = self.execute_graph(ctx, ctx.graph, {})
        except RunnableError:  # a mistake found at run time (a map over a non-list): the run failed
            ctx.run_log_store.set_run_status(ctx.run_id, dm.FAIL)
            raise
        finally:
            ctx.run_log_store.finalize(ctx.run_id)
        return status

    def execute_single_node(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable,
                            attempt: int | None = None) -> str:
        """Run one leaf step of an existing run: one attempt (numbered by the caller, e.g. Argo's retries)."""
        if node.is_composite:
            raise RunnableError(f"'{node.name}' is a {node.type} step: open and close it with 'runnable fan'",
                                step=node.name)
        step_log = self.execute_node(ctx, node, map_variable, attempt_number=attempt or 1)
        if node.is_terminal and len(node.segments) == 1:
            ctx.run_log_store.finalize(ctx.run_id)
        return step_log.status

    # --- graphs and steps ------------------------------------------------------------------------
    def execute_graph(self, ctx: "RunContext", graph: "Graph", map_variable: MapVariable) -> str:
        """Walk ``graph`` from its first step to a terminal step; returns SUCCESS or FAIL."""
        node = graph.start_node
        while True:
            status = self.execute_from_graph(ctx, node, map_variable)
            if node.is_terminal:
                return dm.SUCCESS if node.type == "success" else dm.FAIL
            node = graph.next_after(node, status == dm.SUCCESS)

    def execute_from_graph(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable) -> str:
        """Run one step of a graph (a composite step with all its branches); returns its status."""
        if self.should_skip(ctx, node, map_variable):
            return dm.SUCCESS
        if node.is_composite:
            return self.execute_composite(ctx, node, map_variable)
        return self.execute_node(ctx, node, map_variable).status

    def should_skip(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable) -> bool:
        """Whether a step is already done (the retry executor reuses what succeeded before)."""
        return False

    def execute_node(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable,
                     attempt_number: int | None = None) -> StepLog:
        """Run a leaf step: every attempt it is allowed (or the one attempt given), each recorded."""
        internal = node.internal_name(map_variable)
        store = ctx.run_log_store
        step_log = store.step_log_or_none(ctx.run_id, internal) if attempt_number else None
        if step_log is None:
            step_log = ctx.new_step_log(node.name, internal, node.step_type)
        step_log.status = dm.PROCESSING
        if node.records_start:
            store.put_step_log(ctx.run_id, step_log)
        attempts = [attempt_number] if attempt_number else range(1, node.max_attempts_allowed() + 1)
        for number in attempts:
            attempt = node.execute(ctx, map_variable, number, step_log)
            step_log.attempts.append(attempt)
            step_log.status = attempt.status
            step_log.message = attempt.message
            if attempt.status == dm.SUCCESS:
                break
            logger.warning("step '%s' attempt %d failed: %s", internal, number, attempt.message)
        store.put_step_log(ctx.run_id, step_log)
        return step_log

    def execute_composite(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable) -> str:
        branches = self.fan_out(ctx, node, map_variable)
        self.execute_branches(ctx, branches)
        return self.fan_in(ctx, node, map_variable)

    def fan_out(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable) -> list[BranchRun]:
        return node.fan_out(ctx, map_variable)

    def fan_in(self, ctx: "RunContext", node: BaseNode, map_variable: MapVariable) -> str:
        return node.fan_in(ctx, map_variable)

    def execute_branches(self, ctx: "RunContext", branches: list[BranchRun]) -> None:
        """Run the branches of a parallel or map step (one after another here)."""
        for branch in branches:
            self.execute_branch(ctx, branch)

    def execute_branch(self, ctx: "RunContext", branch: BranchRun) -> str:
        if self.should_skip_branch(ctx, branch):
            return dm.SUCCESS
        return self.execute_graph(ctx, branch.graph, branch.map_variable)

    def should_skip_branch(self, ctx: "RunContext", branch: BranchRun) -> bool:
        return False

    def describe(self) -> dict[str, Any]:
        return super().describe()
