"""The base of every step type (node). Node types are plugins: ``runnable.nodes`` entry points.

A node knows what it is (its fields from the pipeline definition) and how to run itself on a
:class:`~runnable.context.RunContext`; the executor decides *when* and *where* it runs.
Leaf nodes implement :meth:`BaseNode.execute`; composite nodes (parallel, map, dag) implement
:meth:`BaseNode.fan_out` / :meth:`BaseNode.fan_in` and expose their branches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr

from . import names
from .errors import PipelineDefinitionError

if TYPE_CHECKING:
    from .context import RunContext
    from .datamodel import StepAttempt, StepLog
    from .graph import Graph, GraphBuilder

MapVariable = dict[str, int]
"""For each enclosing map step (outer to inner): its ``iterate_as`` name and the iteration index."""


@dataclass(frozen=True)
class MapSlot:
    """Placeholder segment of a static internal name: the index of the enclosing map's iteration."""

    iterate_as: str

    def __str__(self) -> str:
        return "{" + self.iterate_as + "}"


Segments = tuple[Any, ...]  # str | MapSlot


def resolve(segments: Segments, map_variable: MapVariable | None) -> str:
    """The internal name of ``segments`` with every map slot replaced by its iteration index."""
    mv = map_variable or {}
    parts = []
    for seg in segments:
        if isinstance(seg, MapSlot):
            if seg.iterate_as not in mv:
                raise PipelineDefinitionError(
                    f"the map variable does not give an index for '{seg.iterate_as}'", field="map_variable"
                )
            parts.append(str(mv[seg.iterate_as]))
        else:
            parts.append(seg)
    return names.join(*parts)


@dataclass
class BranchRun:
    """One branch to run: a branch of a parallel step or one iteration of a map step."""

    internal_name: str
    graph: "Graph"
    map_variable: MapVariable


class BaseNode(BaseModel):
    """A step of a pipeline, as the user defined it."""

    model_config = ConfigDict(extra="forbid")

    is_terminal: ClassVar[bool] = False
    is_composite: ClassVar[bool] = False
    #: steps that do work are recorded as PROCESSING before they start; instant ones only when done
    records_start: ClassVar[bool] = True
    #: the fields a user may write for this step type (shown when an unknown field is given)
    user_fields: ClassVar[tuple[str, ...]] = ()

    type: str
    next: str | None = None
    on_failure: str | None = None
    overrides: dict[str, str] = {}

    _name: str = PrivateAttr(default="")
    _segments: Segments = PrivateAttr(default=())

    @classmethod
    def parse(cls, name: str, data: dict, builder: "GraphBuilder", keys: list, segments: Segments) -> "BaseNode":
        """Build the node from its definition; composite types build their branches through ``builder``."""
        node = builder.validate_model(cls, data, keys, name)
        node._name = name
        node._segments = segments
        return node

    @property
    def name(self) -> str:
        return self._name

    @property
    def segments(self) -> Segments:
        return self._segments

    def internal_name(self, map_variable: MapVariable | None = None) -> str:
        return resolve(self._segments, map_variable)

    def internal_name_template(self) -> str:
        """The internal name with each map iteration shown as ``{iterate_as}`` (what pods are told)."""
        return names.join(*(str(s) for s in self._segments))

    @property
    def step_type(self) -> str:
        return self.type

    def branches(self) -> dict[str, "Graph"]:
        """Static branches of a composite node (name -> graph); none for a leaf."""
        return {}

    def branch_for(self, key: str) -> "Graph | None":
        """The branch graph an internal-name segment refers to (a map answers for any iteration index)."""
        return self.branches().get(key)

    def check(self, graph: "Graph", builder: "GraphBuilder", keys: list) -> None:
        """Checks that need the whole graph (e.g. a map's parameter names); raise PipelineDefinitionError."""

    def returns_names(self) -> list[str]:
        """Names of the parameters this step (and anything inside it) may set."""
        out: list[str] = []
        for graph in self.branches().values():
            for node in graph.steps.values():
                out.extend(node.returns_names())
        return out

    # --- running -------------------------------------------------------------------------------
    def execute(self, ctx: "RunContext", map_variable: MapVariable, attempt_number: int,
                step_log: "StepLog") -> "StepAttempt":
        """Run one attempt of a leaf step; may add catalog entries and metrics to ``step_log``."""
        raise NotImplementedError(f"{self.type} steps are not executed directly")

    def fan_out(self, ctx: "RunContext", map_variable: MapVariable) -> list[BranchRun]:
        raise NotImplementedError(f"{self.type} steps have no branches")

    def fan_in(self, ctx: "RunContext", map_variable: MapVariable) -> str:
        raise NotImplementedError(f"{self.type} steps have no branches")

    def max_attempts_allowed(self) -> int:
        return 1


class CompositeNode(BaseNode):
    """A step made of branches (parallel, map, dag): opened by fan-out, closed by fan-in."""

    is_composite: ClassVar[bool] = True

    def open_step(self, ctx: "RunContext", map_variable: MapVariable) -> "StepLog":
        from .datamodel import PROCESSING

        internal = self.internal_name(map_variable)
        step_log = ctx.run_log_store.step_log_or_none(ctx.run_id, internal)
        if step_log is None:
            step_log = ctx.new_step_log(self.name, internal, self.step_type)
        step_log.status = PROCESSING
        ctx.run_log_store.put_step_log(ctx.run_id, step_log)
        return step_log

    def close_step(self, ctx: "RunContext", map_variable: MapVariable, branch_names: list[str]) -> tuple[str, list]:
        """Status of the step from its branches (all must have succeeded); records it."""
        from .datamodel import FAIL, SUCCESS, StepAttempt

        store = ctx.run_log_store
        branch_logs = [store.branch_log_or_none(ctx.run_id, b) for b in branch_names]
        failed = [b for b, log in zip(branch_names, branch_logs) if log is None or log.status != SUCCESS]
        status = FAIL if failed else SUCCESS
        step_log = store.get_step_log(ctx.run_id, self.internal_name(map_variable))
        step_log.status = status  # type: ignore[assignment]
        step_log.message = f"{len(failed)} of {len(branch_names)} branches did not succeed: " \
                           f"{', '.join(failed[:5])}{' ...' if len(failed) > 5 else ''}" if failed else ""
        if not step_log.attempts:
            step_log.attempts.append(StepAttempt(attempt_number=1).start())
        step_log.attempts[-1].finish(status, step_log.message)
        store.put_step_log(ctx.run_id, step_log)
        return status, branch_logs

    def parent_chain(self, map_variable: MapVariable) -> list[str]:
        from .context import enclosing_branches

        return enclosing_branches(self.segments, map_variable)

    def merge_branch_parameters(self, ctx: "RunContext", map_variable: MapVariable, branch_logs: list) -> None:
        """Parallel and dag steps: what each branch set becomes the parameters around the step."""
        updates = {}
        for log in branch_logs:
            if log is not None:
                updates.update(log.parameters)
        ctx.write_parameters(self.parent_chain(map_variable), updates)
