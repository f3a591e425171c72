"""A pipeline as a graph of steps, built from a YAML mapping (or the SDK) and validated before anything runs.

Checks (SPEC section 1): unknown keys and step types, a ``next``/``on_failure`` that names no step,
steps that cannot be reached, cycles, names that collide, nested ``dag_definition`` files outside the
project. Each failure is one :class:`~runnable.errors.PipelineDefinitionError` naming file, line, step
and field. Every walk is iterative, so pipelines of any length load.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import unicodedata
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
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
        self.nested_sources: list[Any] = []  # the definitions of nested pipeline files, in the order read
        #: the files the pipeline was read from, with the digest of each text (None: not read from files)
        self.source_files: list[tuple[str, str]] | None = None

    def node(self, name: str) -> BaseNode:
        return self.steps[name]

    @property
    def start_node(self) -> BaseNode:
        return self.steps[self.start_at]

    def fail_node(self) -> BaseNode:
        if isinstance(self.steps, LazySteps):
            return self.steps[self.steps.fail_name]
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

    def sources_record(self) -> list[list[str]] | None:
        """What the run log keeps so that a step's pod may take the pipeline from it (:func:`recorded_pipeline`)
        rather than read its files again: each file read and the digest of its text. None when the record could
        not stand for the files exactly: a pipeline not read from files, or values JSON does not keep as they
        are (dates, keys that are not strings, infinities)."""
        if not self.source_files:
            return None
        try:
            text = json.dumps([self.definition, self.nested_sources], allow_nan=False)
        except (TypeError, ValueError):
            return None
        if json.loads(text) != [self.definition, self.nested_sources]:
            return None
        return [[file, digest] for file, digest in self.source_files]


class LazySteps(Mapping):
    """The steps of a graph whose whole was checked when its run started (:func:`recorded_pipeline`): each step
    is built, and its own fields checked, when first asked for; a pod builds the few it needs, not thousands."""

    def __init__(self, builder: "GraphBuilder", data: dict, keys: list, segments: Segments) -> None:
        self._builder, self._data, self._keys, self._segments = builder, data, keys, segments
        self._scope = (builder.file, list(builder._dag_stack))
        types = {step.get("type") for step in data.values()}
        self._names = list(data) + [t for t in TERMINAL_TYPES if t not in types]
        self._known = set(self._names)
        self.fail_name = next(n for n in self._names if (data[n].get("type") if n in data else n) == "fail")
        self._built: dict[str, BaseNode] = {}

    def __getitem__(self, name: str) -> BaseNode:
        node = self._built.get(name)
        if node is None:
            if name not in self._known:
                raise KeyError(name)
            if name in self._data:
                with self._builder.scope(*self._scope):
                    node = self._builder.node(name, self._data[name], self._keys + ["steps", name],
                                              self._segments + (name,))
            else:
                node = _terminal(name, self._segments)
            self._built[name] = node
        return node

    def __contains__(self, name: object) -> bool:
        return name in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _terminal(kind: str, segments: Segments) -> BaseNode:
    """The success or fail step a graph has when it names none of that type."""
    node = plugins.load("nodes", kind).model_validate({"type": kind})
    node._name = kind
    node._segments = segments + (kind,)
    return node


class GraphBuilder:
    """Builds and validates graphs from definitions, remembering the file for messages."""

    def __init__(self, file: str | None, project_dir: Path | None = None, *, lazy: bool = False) -> None:
        self.file = file
        self.project_dir = (project_dir or Path.cwd()).resolve()
        self.sources: list[Any] = []  # every definition read, for the dag hash
        self.source_files: list[tuple[str, str]] | None = None  # the files read, with their digests
        self.lazy = lazy  # graphs of LazySteps, unchecked as a whole (a pipeline its run checked when it started)
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
        if self.lazy:
            return Graph(data["start_at"], LazySteps(self, data["steps"], keys, segments),  # type: ignore[arg-type]
                         description=data.get("description"), segments=segments, file=self.file)
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
                steps[terminal] = _terminal(terminal, segments)
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
        from .yamlio import parse, read

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
            text = read(resolved, error=PipelineDefinitionError)
            data = parse(text, resolved, error=PipelineDefinitionError)
        except RunnableError as exc:
            raise self.error(f"'{relative}': {exc.message}", keys, step=step, field="dag_definition") from None
        if self.source_files is not None:
            self.source_files.append((str(PurePosixPath(resolved.relative_to(self.project_dir))), digest(text)))
        if not isinstance(data, dict) or "dag" not in data:
            raise self.error(f"'{relative}' has no 'dag' at its top", keys, step=step, field="dag_definition")
        return str(resolved), data

    def enter_file(self, file: str):
        return self.scope(file, self._dag_stack + [file])

    @contextlib.contextmanager
    def scope(self, file: str | None, dag_stack: list[str]):
        """Build as if reading ``file``, included through ``dag_stack`` (the nested files around it)."""
        saved = self.file, self._dag_stack
        self.file, self._dag_stack = file, list(dag_stack)
        try:
            yield
        finally:
            self.file, self._dag_stack = saved

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


def digest(text: str) -> str:
    """The digest of a pipeline file's text (what the run log keeps to know the file unchanged)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def build_pipeline(definition: Any, *, file: str | None = None, project_dir: Path | None = None,
                   text_digest: str | None = None) -> Graph:
    """The validated top-level graph of a pipeline definition ({dag: {...}}); ``text_digest``: that of the
    text of ``file`` it was read from (nested files read are then listed too, in ``source_files``)."""
    builder = GraphBuilder(file, project_dir)
    if file is not None and text_digest is not None:
        builder.source_files = [(file, text_digest)]
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
    graph.nested_sources = builder.sources[1:]
    graph.source_files = builder.source_files
    return graph


def load_pipeline(path: str, *, project_dir: Path | None = None) -> Graph:
    from .yamlio import parse, read

    text = read(path, error=PipelineDefinitionError)
    definition = parse(text, path, error=PipelineDefinitionError)
    return build_pipeline(definition, file=path, project_dir=project_dir, text_digest=digest(text))


def recorded_pipeline(path: str, run_config: dict, recorded_hash: str, *,
                      project_dir: Path | None = None) -> Graph | None:
    """The pipeline of a started run as its run log recorded it (``run_config``), if read from ``path`` and every
    file it was read from is unchanged since (same digest); else None.

    Its run checked the whole pipeline when it started, from these very files, so its steps are built (and
    each checked on its own) only when asked for: a step's pod pays for the steps it uses, not for all."""
    from .yamlio import read

    sources = run_config.get("pipeline_sources")
    definition = run_config.get("dag")
    if not sources or sources[0][0] != path or not isinstance(definition, dict) or not recorded_hash:
        return None
    root = (project_dir or Path.cwd()).resolve()
    for i, (file, wanted) in enumerate(sources):
        try:
            text = read(file if i == 0 else root / file)
        except RunnableError:
            return None
        if digest(text) != wanted:
            return None
    graph = GraphBuilder(path, root, lazy=True).graph(definition["dag"], ["dag"], ())
    graph.definition = definition
    graph.dag_hash = recorded_hash
    graph.nested_sources = run_config.get("nested_dags") or []
    graph.source_files = [(file, wanted) for file, wanted in sources]
    return graph
