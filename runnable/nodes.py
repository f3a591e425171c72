"""The base of every step type (node). Node types are plugins: ``runnable.nodes`` entry points.

A node knows what it is (its fields from the pipeline definition, where it sits, the branches around
it) and how to run itself on a :class:`~runnable.context.RunContext`; the executor decides *when* and
*where* it runs, and records what it returns: a node never writes the run log.
Leaf nodes implement :meth:`BaseNode.execute` (one attempt, returned as an :class:`Outcome`);
composite nodes (parallel, map, dag) implement :meth:`CompositeNode.branch_runs` and
:meth:`CompositeNode.gather` and expose their branches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr

from . import names
from .errors import PipelineDefinitionError

if TYPE_CHECKING:
    from .context import RunContext
    from .run_log import BranchLog, DataCatalog, Parameter, StepAttempt
    from .graph import Graph, GraphBuilder
    from .preflight import StepCheck

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
    """One branch to run: a branch of a parallel step or one iteration of a map step.

    ``iteration`` and ``parameters`` are what its branch log starts with (a map iteration: its index
    and the item, as ``iterate_as``).
    """

    internal_name: str
    graph: "Graph"
    map_variable: MapVariable
    iteration: int | None = None
    parameters: dict[str, "Parameter"] = field(default_factory=dict)


@dataclass
class Outcome:
    """What one attempt of a leaf step produced; the executor records it in the step's log."""

    attempt: "StepAttempt"
    data_catalog: list["DataCatalog"] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    #: a terminal step: the status of the graph it ends (the run's, or its branch's)
    ends_with: str | None = None


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
    _written_at: tuple[str | None, tuple[Any, ...]] = PrivateAttr(default=(None, ()))

    @classmethod
    def parse(cls, name: str, data: dict, builder: "GraphBuilder", keys: list, segments: Segments) -> "BaseNode":
        """Build the node from its definition; composite types build their branches through ``builder``."""
        node = builder.validate_model(cls, data, keys, name)
        node._name = name
        node._segments = segments
        node._written_at = (builder.file, tuple(keys))
        return node

    @property
    def name(self) -> str:
        return self._name

    @property
    def segments(self) -> Segments:
        return self._segments

    @property
    def written_at(self) -> tuple[str | None, tuple[Any, ...]]:
        """The file that defines this step and the keys leading to it there (for the line of a message)."""
        return self._written_at

    def error(self, message: str, field: str, cls: type = PipelineDefinitionError):
        """A mistake in ``field`` (dotted keys under the step) of this step's definition, with its file and line."""
        from .yamlio import locate

        file, keys = self._written_at
        return cls(message, file=file, line=locate(file, [*keys, *field.split(".")]) if file else None,
                   step=self.name, field=field)

    def internal_name(self, map_variable: MapVariable | None = None) -> str:
        return resolve(self._segments, map_variable)

    def internal_name_template(self) -> str:
        """The internal name with each map iteration shown as ``{iterate_as}`` (what pods are told)."""
        return names.join(*(str(s) for s in self._segments))

    def enclosing_branches(self, map_variable: MapVariable | None) -> list[str]:
        """Internal names of the branches around this step, outermost first (its parameter scopes)."""
        return [resolve(self._segments[:i], map_variable) for i in range(2, len(self._segments), 2)]

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

    def preflight(self, check: "StepCheck") -> None:
        """Checks that need the parameters known before the step, or the project's files and code (what
        ``runnable validate`` reports): call ``check.problem(field, message)`` for each problem found."""

    def returns_names(self) -> list[str]:
        """Names of the parameters this step (and anything inside it) may set."""
        out: list[str] = []
        for graph in self.branches().values():
            for node in graph.steps.values():
                out.extend(node.returns_names())
        return out

    # --- running -------------------------------------------------------------------------------
    def execute(self, ctx: "RunContext", map_variable: MapVariable, attempt_number: int) -> Outcome:
        """Run one attempt of a leaf step and say what it produced (the executor records it)."""
        raise NotImplementedError(f"{self.type} steps are not executed directly")

    def max_attempts_allowed(self) -> int:
        return 1

    def stopped(self, ctx: "RunContext", map_variable: MapVariable, attempt: "StepAttempt") -> Outcome:
        """What an attempt stopped from outside (past its time limit) leaves: ``attempt``, already finished."""
        return Outcome(attempt)


class CompositeNode(BaseNode):
    """A step made of branches (parallel, map, dag): opened by fan-out, closed by fan-in.

    The executor records the step and its branch logs; the node says which branches run
    (:meth:`branch_runs`) and what they return to the scope around the step (:meth:`gather`).
    """

    is_composite: ClassVar[bool] = True

    def branch_parameters(self) -> tuple[str, ...]:
        """Names of the parameters every branch of this step starts with (a map's ``iterate_as``)."""
        return ()

    def branch_runs(self, ctx: "RunContext", map_variable: MapVariable) -> Sequence[BranchRun]:
        """The branches of this step in this run, in order (a sequence: a map makes each iteration's when it is
        asked for); may raise RunnableError for a run-time mistake."""
        raise NotImplementedError

    def gather(self, ctx: "RunContext", map_variable: MapVariable,
               branch_logs: "list[BranchLog | None]") -> "dict[str, Parameter]":
        """What the branches set becomes the parameters around the step (a later branch wins a name)."""
        updates = {}
        for log in branch_logs:
            if log is not None:
                updates.update(log.parameters)
        return updates
