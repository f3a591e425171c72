"""``type: map``: the branch runs once for each item of a list parameter.

Each iteration sees the item as ``iterate_as`` (and every parameter around the step). What the
iterations return is gathered per name into a list in iteration order, or passed through ``reducer``
(a dotted path to a function taking that list, or one of the names in ``REDUCERS``). Iterations are named by their index, so items of any
size or shape are fine. A reducer that cannot be imported, or that raises, fails the step and the run
with one line naming the step and its ``reducer`` field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import field_validator

from runnable import names
from runnable.run_log import BranchLog, Parameter
from runnable.errors import PipelineDefinitionError
from runnable.graph import Graph
from runnable.nodes import BranchRun, CompositeNode, MapSlot
from runnable.parameters import parameter_name
from runnable.plugins import import_object, is_dotted_path


def _concat(values: list) -> Any:
    """Strings joined into one string; lists (or other iterables) chained into one list."""
    if all(isinstance(v, str) for v in values):
        return "".join(values)
    return [item for value in values for item in value]


# Reducers named without a module (docs/pipelines.md); each takes the list of the iterations' values
REDUCERS = {"max": max, "min": min, "sum": sum, "first": lambda values: values[0],
            "last": lambda values: values[-1], "concat": _concat}


class MapNode(CompositeNode):
    user_fields: ClassVar[tuple[str, ...]] = ("type", "next", "on_failure", "overrides", "iterate_on",
                                              "iterate_as", "reducer", "branch")

    iterate_on: str
    iterate_as: str
    reducer: str | None = None

    _graph: Graph

    @field_validator("iterate_as", "iterate_on")
    @classmethod
    def _identifier(cls, value: str) -> str:
        return parameter_name(value)

    @field_validator("reducer")
    @classmethod
    def _dotted(cls, value: str | None) -> str | None:
        if value is None or value in REDUCERS:
            return value
        if value.lstrip().startswith("lambda"):
            raise ValueError(f"'{value}': a lambda is not evaluated (runnable 0.50 did); name a module.function, "
                             f"or one of {', '.join(REDUCERS)}")
        if not is_dotted_path(value):
            raise ValueError(f"'{value}' is not a dotted path to a function (module.function) nor one of "
                             f"{', '.join(REDUCERS)}")
        return value

    @classmethod
    def parse(cls, name, data, builder, keys, segments):
        data = dict(data)
        branch = data.pop("branch", None)
        node = super().parse(name, data, builder, keys, segments)
        if branch is None:
            raise builder.error("is required: the pipeline each item runs", keys + ["branch"], step=name,
                                field="branch")
        clash = [s for s in segments if isinstance(s, MapSlot) and s.iterate_as == node.iterate_as]
        if clash:
            raise builder.error(f"'{node.iterate_as}' is already the iterate_as of an enclosing map",
                                keys + ["iterate_as"], step=name, field="iterate_as")
        node._graph = builder.graph(branch, keys + ["branch"], segments + (MapSlot(node.iterate_as),), where=name)
        return node

    def branches(self) -> dict[str, Graph]:
        return {str(MapSlot(self.iterate_as)): self._graph}

    def branch_for(self, key: str) -> Graph | None:
        return self._graph

    def items(self, ctx, map_variable) -> list[Any]:
        """The list iterated on, as it is at run time."""
        params = ctx.read_parameters(self.enclosing_branches(map_variable))
        if self.iterate_on not in params:
            raise PipelineDefinitionError(f"parameter '{self.iterate_on}' does not exist at run time",
                                          file=ctx.pipeline_file, step=self.name, field="iterate_on")
        items = ctx.load_value(params[self.iterate_on])
        if not isinstance(items, list):
            raise PipelineDefinitionError(
                f"parameter '{self.iterate_on}' is not a list at run time (it is {type(items).__name__})",
                file=ctx.pipeline_file, step=self.name, field="iterate_on")
        return items

    def branch_runs(self, ctx, map_variable) -> Sequence[BranchRun]:
        return Iterations(self, map_variable, self.items(ctx, map_variable))

    def gather(self, ctx, map_variable, branch_logs: list[BranchLog | None]) -> dict[str, Parameter]:
        """Each returned name as the list of its values in iteration order (or the reducer's result)."""
        reducer = self._reducer(ctx) if self.reducer else None
        scope = self.enclosing_branches(map_variable)
        key = names.append(scope[-1], self.name) if scope else self.internal_name(map_variable)
        gathered: dict[str, Parameter] = {}
        for name in dict.fromkeys(n for node in self._graph.steps.values() for n in node.returns_names()):
            params = [log.parameters.get(name) if log is not None else None for log in branch_logs]
            present = [p for p in params if p is not None]
            if not present:
                continue
            kind = "object" if any(p.kind == "object" for p in present) else present[0].kind
            values = [ctx.load_value(p) if p is not None else None for p in params]
            if reducer:
                try:
                    values = reducer(values)
                except Exception as exc:  # the user's function: told like a mistake in the step, not a bug
                    raise self._reducer_error(ctx.pipeline_file, f"failed on '{name}'", exc) from exc
            gathered[name] = ctx.make_parameter(name, kind, values, key)
        return gathered

    def _reducer(self, ctx):
        if self.reducer in REDUCERS:
            return REDUCERS[self.reducer]
        try:
            return import_object(self.reducer)
        except Exception as exc:  # ImportError, AttributeError, or whatever importing the module raised
            raise self._reducer_error(ctx.pipeline_file, "cannot be imported", exc) from exc

    def _reducer_error(self, file: str | None, what: str, exc: Exception) -> PipelineDefinitionError:
        return PipelineDefinitionError(f"reducer '{self.reducer}' {what}: {type(exc).__name__}: {exc}",
                                       file=file, step=self.name, field="reducer")

    def branch_parameters(self) -> tuple[str, ...]:
        return (self.iterate_as,)

    def preflight(self, check) -> None:
        if check.is_set(self.iterate_on) is False:
            check.problem("iterate_on", f"parameter '{self.iterate_on}' is not set before this step: it is not an "
                                        f"initial parameter, nor returned by a step on every route to this one")
        else:
            check.is_list(self.iterate_on, "iterate_on")
        if check.imports and self.reducer and self.reducer not in REDUCERS:
            failure = check.once(("reducer", self.reducer), lambda: _import_failure(self.reducer))
            if failure is not None:
                check.problem("reducer", self._reducer_error(None, "cannot be imported", failure).message)


class Iterations(Sequence[BranchRun]):
    """A map step's iterations in this run, each made when it is asked for: a batch pod running 200 iterations of a
    map of 100,000 items makes those 200 (making all of them took 2.8 s, in each of its 500 pods)."""

    def __init__(self, node: MapNode, map_variable: dict, items: list[Any]) -> None:
        self.node, self.map_variable, self.items = node, map_variable, items
        self.prefix = node.internal_name(map_variable)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index):  # an int: its BranchRun; a slice: a list of them
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.items)))]
        index = range(len(self.items))[index]  # an IndexError past the end ends iterating over the sequence
        name, item = self.node.iterate_as, self.items[index]
        return BranchRun(names.append(self.prefix, str(index)), self.node._graph, {**self.map_variable, name: index},
                         iteration=index, parameters={name: Parameter(kind="json", value=item)})


def _import_failure(dotted: str) -> Exception | None:
    try:
        import_object(dotted)
    except Exception as exc:  # what the step would meet at run time
        return exc
    return None
