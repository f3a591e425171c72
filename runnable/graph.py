"""A pipeline as a graph of steps, built from a YAML mapping (or the SDK) and validated before anything runs.

Checks (SPEC section 1): unknown keys and step types, a ``next``/``on_failure`` that names no step,
steps that cannot be reached, cycles, names that collide, nested ``dag_definition`` files outside the
project. Each failure is one :class:`~runnable.errors.PipelineDefinitionError` naming file, line, step
and field. Every walk is iterative, so pipelines of any length load.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import names, plugins
from .diagnostics import is_number, written
from .errors import PipelineDefinitionError, PluginNotFoundError, RunnableError
from .nodes import BaseNode, Segments

TERMINAL_TYPES = ("success", "fail")
GRAPH_FIELDS = ("start_at", "steps", "description", "name")


class Graph:
    """The steps of a pipeline or of one branch, and where execution starts."""

    def __init__(self, start_at: str, steps: dict[str, BaseNode], *, description: str | None = None,
                 segments: Segments = (), file: str | None = None) -> None:
        self.start_at = start_at
        self.steps = steps
        self.description = description
        self.segments = segments  # internal name of the branch this graph is (empty at the top)
        self.file = file
        self.definition: dict[str, Any] = {}
        self.dag_hash = ""

    def node(self, name: str) -> BaseNode:
        return self.steps[name]

    @property
    def start_node(self) -> BaseNode:
        return self.steps[self.start_at]

    def fail_node(self) -> BaseNode:
        return next(n for n in self.steps.values() if n.type == "fail")

    def next_after(self, node: BaseNode, succeeded: bool) -> BaseNode:
        """The step that runs after ``node``: its ``next`` on success, else its ``on_failure`` or the fail step."""
        if succeeded:
            return self.steps[node.next]  # type: ignore[index]
        if node.on_failure:
            return self.steps[node.on_failure]
        return self.fail_node()

    def walk(self):
        """Every node of this graph and of every branch below it, iteratively (parents before children)."""
        stack = [self]
        while stack:
            graph = stack.pop()
            for node in graph.steps.values():
                yield node
                stack.extend(reversed(list(node.branches().values())))

    def find(self, internal_name: str) -> BaseNode:
        return self.locate(internal_name)[0]

    def locate(self, internal_name: str) -> tuple[BaseNode, "Graph"]:
        """The node an internal name refers to, and the graph (pipeline or branch) it belongs to.

        Inside a map the segment after the map's name may be any iteration index (``fan.3.inner``) or the
        placeholder of :meth:`~runnable.nodes.BaseNode.internal_name_template`: every iteration runs one graph."""
        wanted = names.split(internal_name)
        graph: Graph = self
        i = 0
        while i < len(wanted):
            name = wanted[i]
            if name not in graph.steps:
                raise PipelineDefinitionError(f"no step '{internal_name}' in the pipeline", step=internal_name)
            node = graph.steps[name]
            if i == len(wanted) - 1:
                return node, graph
            branch = node.branch_for(wanted[i + 1])
            if branch is None:
                raise PipelineDefinitionError(f"no step '{internal_name}' in the pipeline", step=internal_name)
            graph = branch
            i += 2
        raise PipelineDefinitionError(f"no step '{internal_name}' in the pipeline", step=internal_name)


class GraphBuilder:
    """Builds and validates graphs from definitions, remembering the file for messages."""

    def __init__(self, file: str | None, project_dir: Path | None = None) -> None:
        self.file = file
        self.project_dir = (project_dir or Path.cwd()).resolve()
        self.sources: list[Any] = []  # every definition read, for the dag hash
        self._dag_stack: list[str] = []

    # --- errors ----------------------------------------------------------------------------------
    def error(self, message: str, keys: list, *, step: str | None = None, field: str | None = None,
              file: str | None = None) -> PipelineDefinitionError:
        from .yamlio import locate

        file = file or self.file
        return PipelineDefinitionError(message, file=file, line=locate(file, keys), step=step, field=field)

    def validate_model(self, cls: type, data: dict, keys: list, step: str, allowed=None):
        from .diagnostics import from_validation_error

        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise from_validation_error(exc, PipelineDefinitionError, file=self.file, keys=keys, step=step,
                                        model=allowed or cls) from None

    # --- building -------------------------------------------------------------------------------
    def graph(self, data: Any, keys: list, segments: Segments, *, where: str | None = None) -> Graph:
        if not isinstance(data, dict):
            raise self.error("must be a mapping with start_at and steps", keys, step=where)
        for key in data:
            if key not in GRAPH_FIELDS:
                raise self.error(f"unknown field; allowed: {', '.join(GRAPH_FIELDS)}", keys + [key], step=where,
                                 field=str(key))
        steps_data = data.get("steps")
        if isinstance(steps_data, list) and steps_data and isinstance(steps_data[0], dict) and steps_data[0]:
            first = next(iter(steps_data[0]))
            raise self.error(f"must be a mapping of step names to steps, not a list: write '{first}:' rather than "
                             f"'- {first}:'", keys + ["steps"], step=where, field="steps")
        if steps_data is not None and not isinstance(steps_data, dict):
            raise self.error(f"must be a mapping of step names to steps, not {written(steps_data)}",
                             keys + ["steps"], step=where, field="steps")
        if not steps_data:
            raise self.error("must name at least one step", keys + ["steps"], step=where, field="steps")
        start_at = data.get("start_at")
        if start_at is None:
            raise self.error("is required: the name of the first step", keys + ["start_at"], step=where,
                             field="start_at")
        if not isinstance(start_at, str):
            quote = f": quote it (start_at: '{start_at}')" if is_number(start_at) else ""
            if quote and start_at in steps_data:
                quote += f", and the step's name too ('{start_at}':)"
            raise self.error(f"must be a step name (a string), not {written(start_at)}{quote}",
                             keys + ["start_at"], step=where, field="start_at")
        steps: dict[str, BaseNode] = {}
        normal_forms: dict[str, str] = {}
        for name, step in steps_data.items():
            step_keys = keys + ["steps", name]
            if not isinstance(name, str):
                quote = f": quote it ('{name}':)" if is_number(name) else ""
                raise self.error(f"step names must be non-empty strings, not {written(name)}{quote}", step_keys,
                                 step=str(name))
            if not name.strip():
                raise self.error("step names must be non-empty strings", step_keys, step=str(name))
            nf = unicodedata.normalize("NFC", name)
            if nf in normal_forms:
                raise self.error(f"duplicate step name: '{name}' and '{normal_forms[nf]}' are the same name "
                                 f"once converted to unicode normal form", step_keys, step=name)
            normal_forms[nf] = name
            steps[name] = self.node(name, step, step_keys, segments + (name,))
        for terminal in TERMINAL_TYPES:
            if not any(n.type == terminal for n in steps.values()):
                if terminal in steps:
                    raise self.error(f"a step named '{terminal}' must be of type {terminal}", keys + ["steps", terminal],
                                     step=terminal, field="type")
                node = plugins.load("nodes", terminal).model_validate({"type": terminal})
                node._name = terminal
                node._segments = segments + (terminal,)
                steps[terminal] = node
        graph = Graph(start_at, steps, description=data.get("description"), segments=segments, file=self.file)
        self.check(graph, keys, where)
        return graph

    def node(self, name: str, data: Any, keys: list, segments: Segments) -> BaseNode:
        if not isinstance(data, dict):
            raise self.error("must be a mapping with at least a 'type'", keys, step=name)
        node_type = data.get("type")
        if node_type is None:
            raise self.error("is required (task, stub, parallel, map, dag, success or fail)", keys, step=name,
                             field="type")
        try:
            cls = plugins.load("nodes", node_type)
        except PluginNotFoundError as exc:
            raise self.error(exc.message, keys + ["type"], step=name, field="type") from None
        return cls.parse(name, data, self, keys, segments)

    def nested_file(self, relative: Any, keys: list, step: str) -> tuple[str, Any]:
        """Load a nested pipeline file; it must stay inside the project and not include itself."""
        from .yamlio import load

        if not isinstance(relative, str) or not relative or "\0" in relative:
            raise self.error("must be the path of a pipeline file", keys, step=step, field="dag_definition")
        path = Path(relative)
        resolved = (self.project_dir / path).resolve()
        if path.is_absolute() or not resolved.is_relative_to(self.project_dir):
            raise self.error(f"'{relative}' is outside the project directory", keys, step=step,
                             field="dag_definition")
        if str(resolved) in self._dag_stack:
            raise self.error(f"'{relative}' includes itself", keys, step=step, field="dag_definition")
        try:
            data = load(resolved, error=PipelineDefinitionError)
        except RunnableError as exc:
            raise self.error(f"'{relative}': {exc.message}", keys, step=step, field="dag_definition") from None
        if not isinstance(data, dict) or "dag" not in data:
            raise self.error(f"'{relative}' has no 'dag' at its top", keys, step=step, field="dag_definition")
        return str(resolved), data

    def enter_file(self, file: str):
        builder = self

        class _Scope:
            def __enter__(self_inner):
                self_inner.saved = builder.file
                builder._dag_stack.append(file)
                builder.file = file

            def __exit__(self_inner, *exc):
                builder._dag_stack.pop()
                builder.file = self_inner.saved

        return _Scope()

    # --- checks ---------------------------------------------------------------------------------
    def check(self, graph: Graph, keys: list, where: str | None) -> None:
        steps = graph.steps
        if graph.start_at not in steps:
            raise self.error(f"names no step ('{graph.start_at}')", keys + ["start_at"], step=where, field="start_at")
        for name, node in steps.items():
            step_keys = keys + ["steps", name]
            if node.is_terminal:
                if node.next or node.on_failure:
                    raise self.error("a terminal step has no next or on_failure", step_keys, step=name, field="next")
                continue
            if not node.next:
                raise self.error("is required for every step that is not success or fail", step_keys, step=name,
                                 field="next")
            for field in ("next", "on_failure"):
                target = getattr(node, field)
                if target is not None and target not in steps:
                    raise self.error(f"names no step ('{target}')", step_keys + [field], step=name, field=field)
            if node.on_failure is not None and node.on_failure == node.next:
                raise self.error("on_failure must differ from next", step_keys + ["on_failure"], step=name,
                                 field="on_failure")
            node.check(graph, self, step_keys)
        self._check_reachable(graph, keys)
        self._check_acyclic(graph, keys)

    def _edges(self, node: BaseNode) -> list[str]:
        return [t for t in (node.next, node.on_failure) if t]

    def _check_reachable(self, graph: Graph, keys: list) -> None:
        seen = {graph.start_at}
        stack = [graph.start_at]
        while stack:
            for target in self._edges(graph.steps[stack.pop()]):
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        for name, node in graph.steps.items():
            if name not in seen and not node.is_terminal:
                raise self.error(f"cannot be reached from start_at '{graph.start_at}'", keys + ["steps", name],
                                 step=name)

    def _check_acyclic(self, graph: Graph, keys: list) -> None:
        white, grey, black = 0, 1, 2
        colour = dict.fromkeys(graph.steps, white)
        for root in graph.steps:
            if colour[root] != white:
                continue
            colour[root] = grey
            stack = [(root, iter(self._edges(graph.steps[root])))]
            while stack:
                name, edges = stack[-1]
                target = next(edges, None)
                if target is None:
                    colour[name] = black
                    stack.pop()
                elif colour[target] == grey:
                    path = [n for n, _ in stack]
                    cycle = path[path.index(target):] + [target]
                    raise self.error(f"is part of a cycle: {' -> '.join(cycle)}", keys + ["steps", name],
                                     step=name, field="next")
                elif colour[target] == white:
                    colour[target] = grey
                    stack.append((target, iter(self._edges(graph.steps[target]))))


def dag_hash(*definitions: Any) -> str:
    try:
        payload = json.dumps(definitions, sort_keys=True, default=str).encode()
    except TypeError:  # keys of several types in one mapping (1 and 'a') cannot be sorted by json
        payload = json.dumps(_sortable(definitions), sort_keys=True, default=str).encode()
    return hashlib.sha1(payload).hexdigest()


def _sortable(value: Any) -> Any:
    """``value`` with every mapping as a sorted list of [type and key, value] pairs."""
    if isinstance(value, dict):
        return sorted(([f"{type(k).__name__}:{k}", _sortable(v)] for k, v in value.items()), key=lambda kv: kv[0])
    if isinstance(value, (list, tuple)):
        return [_sortable(v) for v in value]
    return value


def _containers(value: Any) -> set[int]:
    """Identities of the mappings and lists in ``value`` (an alias loads as the very object of its anchor)."""
    found: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)) and id(item) not in found:
            found.add(id(item))
            stack.extend(item.values() if isinstance(item, dict) else item)
    return found


def build_pipeline(definition: Any, *, file: str | None = None, project_dir: Path | None = None) -> Graph:
    """The validated top-level graph of a pipeline definition ({dag: {...}})."""
    builder = GraphBuilder(file, project_dir)
    if not isinstance(definition, dict) or "dag" not in definition:
        raise PipelineDefinitionError("must have a 'dag' at its top", file=file)
    # runnable's own examples keep YAML anchors in keys beside 'dag' (branch: &branch ...); such a key is
    # allowed when 'dag' uses what it holds through an alias, and is then no part of the pipeline
    used = _containers(definition["dag"])
    unknown = [k for k in definition if k != "dag" and not (_containers(definition[k]) & used)]
    if unknown:
        raise builder.error("unknown field; allowed: dag (and keys holding anchors that 'dag' uses)", [unknown[0]],
                            field=str(unknown[0]))
    definition = {"dag": definition["dag"]}
    builder.sources.append(definition)
    graph = builder.graph(definition["dag"], ["dag"], ())
    graph.definition = definition
    graph.dag_hash = dag_hash(*builder.sources)
    graph.nested_sources = builder.sources[1:]  # type: ignore[attr-defined]
    return graph


def load_pipeline(path: str, *, project_dir: Path | None = None) -> Graph:
    from .yamlio import load

    definition = load(path, error=PipelineDefinitionError)
    return build_pipeline(definition, file=path, project_dir=project_dir)
