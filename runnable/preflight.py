"""Pre-flight: what can be known about a pipeline before any step runs, checked all at once.

``runnable validate`` runs these checks; ``runnable execute`` runs them before the first step (or before
the argo executor writes its manifest), so a typo in the fifth step is found before the first one runs.
The core walks the graphs and works out which parameters each step can count on; each step type and
each task type checks itself (:meth:`runnable.nodes.BaseNode.preflight`,
:meth:`runnable.tasks.BaseTaskType.preflight`) through a :class:`StepCheck`.

Which parameters a step can count on: the initial parameters (``-p`` file and ``RUNNABLE_PRM_``
variables), the ``iterate_as`` of every map around it, and the ``returns`` of the steps before it on
every route to it. A step's returns reach the step after it through ``next`` only: a step that failed
(its ``on_failure`` route) returned nothing. A composite step's returns are those of the steps inside it.
The walk visits each step once and hands a route's set of names on without copying it when the route
does not split, so a long pipeline costs time in proportion to its steps.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .errors import ParameterError, PipelineDefinitionError, RunnableError

if TYPE_CHECKING:
    from .graph import Graph
    from .nodes import BaseNode
    from .run_log import Parameter


class PreflightError(RunnableError):
    """Every problem pre-flight found, one line each (``error:`` is put before each by the CLI's one line)."""

    def __init__(self, message: str, problems: list[RunnableError]) -> None:
        super().__init__(message)
        self.problems = problems

    def __str__(self) -> str:
        return "\nerror: ".join([*(str(p) for p in self.problems), self.message])


class Preflight:
    """One pre-flight of one pipeline.

    ``parameters`` are the initial parameters, or None when they cannot be known here (an argo retry:
    they are in the cluster's run log), in which case no check that needs them is made. ``imports``:
    whether python code may be imported (functions, reducers) and function arguments bound.
    """

    def __init__(self, graph: "Graph", parameters: "dict[str, Parameter] | None", *, imports: bool = True,
                 project_dir: Path | None = None) -> None:
        self.graph = graph
        self.imports = imports
        self.parameters_known = parameters is not None
        self.project_dir = (project_dir or Path.cwd()).resolve()
        parameters = parameters or {}
        self.initial = set(parameters)
        self.problems: list[RunnableError] = []
        self._cache: dict[Any, Any] = {}
        setters: dict[str, int] = {}
        self._returned: dict[int, list[str]] = {}  # each step's returns_names(), asked once
        for node in graph.walk():
            returned = self._returned[id(node)] = node.returns_names()
            if not node.is_composite:
                for name in returned:
                    setters[name] = setters.get(name, 0) + 1
        self.setters = setters  # how many steps return each name
        # values known before the run: initial parameters that no step returns (a map's iterate_as hides one)
        self.values = {n: p.value for n, p in parameters.items() if n not in setters and p.kind != "object"}
        self.types: dict[str, list[Any]] = {}  # the declared python types of returns, as steps report them
        self.steps_checked = 0

    def run(self) -> list[RunnableError]:
        self._walk(self.graph, set(self.initial), frozenset())
        return self.problems

    def once(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked for, its result after (a module is imported once)."""
        try:
            return self._cache[key]
        except KeyError:
            result = self._cache[key] = compute()
            return result

    def _walk(self, graph: "Graph", entry: set[str], hidden: frozenset[str]) -> None:
        """Check every step of ``graph`` in an order where each comes after all the steps routed to it."""
        steps = graph.steps
        waiting = dict.fromkeys(steps, 0)
        for node in steps.values():
            for target in (node.next, node.on_failure):
                if target:
                    waiting[target] += 1
        # the names arriving at a step by each route, and whether that route's set may be changed in place:
        # a set is copied only where a route adds names and another route holds the same set
        arriving: dict[str, list[tuple[set[str], bool]]] = {graph.start_at: [(entry, True)]}
        ready = [graph.start_at]
        while ready:
            name = ready.pop()
            node = steps[name]
            routes = arriving.pop(name)
            if len(routes) == 1:
                known, owned = routes[0]
            else:
                known, owned = set.intersection(*(names for names, _ in routes)), True
            if node.is_terminal:
                continue
            node.preflight(StepCheck(self, node, known, hidden))
            self.steps_checked += 1
            if node.is_composite:
                inside = set(node.branch_parameters())  # type: ignore[attr-defined]
                for branch in node.branches().values():
                    self._walk(branch, known | inside, hidden | inside)
            returned = self._returned[id(node)]
            for target in (node.next, node.on_failure):
                if target:
                    waiting[target] -= 1
            targets = [t for t in (node.next, node.on_failure) if t and not steps[t].is_terminal]
            adds = [t for t in targets if t == node.next and returned]  # a failed step returned nothing
            plain = len(targets) - len(adds)  # routes that take the set as it is
            for target in targets:
                if target in adds:
                    if owned and not plain:
                        known.update(returned)
                        entry = (known, True)
                    else:
                        entry = (known | set(returned), True)
                else:
                    entry = (known, owned and plain == 1)
                arriving.setdefault(target, []).append(entry)
                if waiting[target] == 0:
                    ready.append(target)


_NEVER_LISTS = (int, float, str, bool, bytes, dict, type(None))


def _never_a_list(annotation: Any, kind: str) -> bool:
    """Whether a value of this declared type can never arrive as a list (JSON turns tuples into lists)."""
    origin = typing.get_origin(annotation) or annotation
    if origin in _NEVER_LISTS or annotation is None:
        return True
    if origin is tuple:
        return kind == "object"  # pickled as it is
    return isinstance(origin, type) and hasattr(origin, "model_fields")  # a pydantic model: a mapping


class StepCheck:
    """What one step's checks see: the parameters it can count on, and where to report a problem."""

    def __init__(self, preflight: Preflight, node: "BaseNode", known: set[str], hidden: frozenset[str]) -> None:
        self._preflight = preflight
        self.node = node
        self.known = known  # read only: it is shared with the steps after this one
        self._hidden = hidden
        self.fetched: list[str] = []  # catalog patterns the step gets into the project before its command runs

    @property
    def imports(self) -> bool:
        return self._preflight.imports

    @property
    def project_dir(self) -> Path:
        return self._preflight.project_dir

    def once(self, key: Any, compute: Callable[[], Any]) -> Any:
        return self._preflight.once(key, compute)

    def problem(self, field: str, message: str, keys: list | None = None) -> None:
        """Report a problem in ``field`` of this step (``keys``: where under the step, for the line)."""
        from .yamlio import locate

        file, step_keys = self.node.written_at
        line = locate(file, [*step_keys, *(keys if keys is not None else field.split("."))]) if file else None
        if file and Path(file).is_absolute() and Path(file).is_relative_to(self.project_dir):
            file = str(Path(file).relative_to(self.project_dir))  # a nested pipeline file, as the user wrote it
        self._preflight.problems.append(PipelineDefinitionError(
            message, file=file, line=line, step=self.node.internal_name_template(), field=field))

    # --- parameters ----------------------------------------------------------------------------
    def is_set(self, name: str) -> bool | None:
        """Whether parameter ``name`` is set when this step runs; None when that cannot be known here."""
        if not self._preflight.parameters_known and name not in self.known:
            return None
        return name in self.known

    def value(self, name: str) -> tuple[bool, Any]:
        """(True, value) when the value this step will see is known before the run."""
        values = self._preflight.values
        if name in values and name not in self._hidden:
            return True, values[name]
        return False, None

    def bind(self, func: Callable, field: str = "command") -> None:
        """Check that ``func``'s arguments can be filled from the parameters set at this step (and that
        values known already convert to its annotations): what the python task does at run time."""
        from .parameters import binding, coerce

        if not self._preflight.parameters_known:
            return
        try:
            for name, annotation in binding(func, self.known):
                known, value = self.value(name)
                if known:
                    coerce(value, annotation, name)
        except (ValueError, TypeError):  # a callable whose signature cannot be read (a builtin): not checked
            return
        except ParameterError as exc:
            names = sorted(self.known)
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "") if names else "none"
            self.problem(field, f"{exc.message} (parameters set before this step: {shown})")

    def returns_type(self, name: str, annotation: Any, kind: str) -> None:
        """A task says what type it returns under ``name`` (a python function's annotation)."""
        self._preflight.types.setdefault(name, []).append(_never_a_list(annotation, kind))

    def is_list(self, name: str, field: str) -> None:
        """Report in ``field`` when parameter ``name`` is known, before the run, not to be a list here."""
        known, value = self.value(name)
        if known and not isinstance(value, list):
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
            self.problem(field, f"parameter '{name}' is not a list (it is {type(value).__name__} {shown})")
        never = self._preflight.types.get(name, [])
        if not known and never and len(never) == self._preflight.setters.get(name) and all(never):
            self.problem(field, f"parameter '{name}' is not a list: every step that returns it says it returns "
                                f"another type")


def check(graph: "Graph", parameters: "dict[str, Parameter] | None", *, imports: bool = True,
          project_dir: Path | None = None) -> Preflight:
    """Run every pre-flight check; raise :class:`PreflightError` listing all the problems found."""
    import sys

    project = str((project_dir or Path.cwd()).resolve())
    if project not in sys.path:  # the project's modules import as they will when the steps run
        sys.path.insert(0, project)
    preflight = Preflight(graph, parameters, imports=imports, project_dir=project_dir)
    problems = preflight.run()
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise PreflightError(f"{count} found; nothing was run", problems)
    return preflight

