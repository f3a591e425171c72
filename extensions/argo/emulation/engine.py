"""The emulator's engine: templates, DAG scheduling and phases, loops, retries, deadlines, exit handler.

Rules follow Argo v4 (workflow/controller/dag.go, operator.go, retry handling):

* A DAG task starts when every task its ``depends`` (or ``dependencies``) names is fulfilled; if the
  expression is false the task is Omitted.
* ``withParam`` must be a JSON list ("withParam value could not be parsed as a JSON list"); an empty
  list makes the task Skipped ("Skipped, empty params"). A loop's phase is Succeeded, or the phase of
  its last failed child; its outputs aggregate its Succeeded children's (processAggregateNodeOutputs).
* A DAG's phase is decided by its leaf tasks (or ``dag.target``): walking from the roots, each node
  passes on its phase if it completed (Succeeded, Failed, Error), else the phase it inherited; a leaf
  Failed or Errored by that walk fails the DAG. Every ready task starts at once: in Argo v4
  ``dag.failFast`` is read only when assessing the phase (it lets a DAG be declared failed before all
  its leaves exist), and ready tasks are scheduled in the same pass before that, so a failure never
  stops a ready handler. The template's own ``failFast: true`` does stop new children (checkParallelism).
* ``retryStrategy.limit`` N allows N retries; ``retryPolicy`` defaults to OnFailure (Errors are not
  retried); backoff ``duration * factor^n``, never past ``maxDuration`` from the first attempt.
* ``activeDeadlineSeconds`` kills a pod (Failed); the workflow's deadline stops everything, and the
  exit handler still runs with ``{{workflow.status}}``.
* ``parallelism`` on a DAG template limits its running children; ``spec.parallelism`` (and
  ``max_pods``) limits running pods.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .expressions import ExpressionError, evaluate, referenced_tasks
from .pods import PodOutcome, PodRunner, PodSetupError
from .substitution import ABSENT, UnresolvedVariable, item_label, item_scope, render, render_all

DONE = ("Succeeded", "Failed", "Error")
_PURE_REFERENCE = re.compile(r"{{\s*(tasks\.[^{}]+?)\s*}}")
_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


class EmulationError(Exception):
    """The manifest cannot be run (told in one line)."""


def seconds(value: Any) -> float:
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = _GO_DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise EmulationError(f"'{value}' is not a duration")
    return sum(float(n) * _UNITS[u] for n, u in parts)


@dataclass
class NodeRecord:
    """One node of the run, as ``argo get`` would list it."""

    name: str
    template: str
    kind: str
    phase: str = "Pending"
    message: str = ""
    attempts: int = 0
    started: float = 0.0
    finished: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)
    result: str | None = None
    children: list["NodeRecord"] = field(default_factory=list)
    log: Path | None = None

    @property
    def duration(self) -> float:
        return max(0.0, self.finished - self.started)


@dataclass
class EmulationResult:
    name: str
    uid: str
    phase: str
    message: str
    nodes: list[NodeRecord]
    state_dir: Path

    def node(self, name: str) -> NodeRecord:
        return next(n for n in self.nodes if n.name == name)


class Emulator:
    def __init__(self, manifest: dict, *, project_dir: Path, state_dir: Path, parameters: dict[str, str] | None = None,
                 secrets: dict | None = None, max_pods: int = 8, backoff_scale: float = 1.0,
                 uid: str | None = None) -> None:
        if not isinstance(manifest, dict) or manifest.get("kind") != "Workflow":
            raise EmulationError("not an Argo Workflow manifest (kind: Workflow)")
        spec = manifest.get("spec") or {}
        self.templates = {t.get("name"): t for t in spec.get("templates") or []}
        self.entrypoint = spec.get("entrypoint")
        if self.entrypoint not in self.templates:
            raise EmulationError(f"spec.entrypoint '{self.entrypoint}' names no template")
        self.retry_strategy = spec.get("retryStrategy")
        self.on_exit = spec.get("onExit")
        if self.on_exit and self.on_exit not in self.templates:
            raise EmulationError(f"spec.onExit '{self.on_exit}' names no template")
        meta = manifest.get("metadata") or {}
        self.uid = uid or str(uuid.uuid4())
        self.name = meta.get("name") or (meta.get("generateName", "workflow-") + self.uid.replace("-", "")[:5])
        self.namespace = meta.get("namespace") or "default"
        self.state_dir = Path(state_dir).resolve()
        self.backoff_scale = backoff_scale
        arguments = {p["name"]: p for p in (spec.get("arguments") or {}).get("parameters") or []}
        for name in parameters or {}:
            if name not in arguments:
                raise EmulationError(f"parameter '{name}' is not a workflow argument "
                                     f"({', '.join(arguments) or 'there are none'})")
        self.scope: dict[str, str] = {"workflow.name": self.name, "workflow.uid": self.uid,
                                      "workflow.namespace": self.namespace}
        for name, p in arguments.items():
            value = (parameters or {}).get(name, p.get("value", p.get("default")))
            if value is None:
                raise EmulationError(f"workflow argument '{name}' has no value; give it with -p {name}=...")
            # the raw value: Argo binds workflow.parameters.X before it substitutes workflow variables in
            # the spec, and that substitution does not reach this binding (operator.go setGlobalParameters
            # ~line 707-710, substituteGlobalVariables ~4694), so the first pods see "{{workflow.uid}}" as text
            self.scope[f"workflow.parameters.{name}"] = str(value)
        volumes = {}
        for v in spec.get("volumes") or []:
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            host = self.state_dir / "volumes" / (claim or f"{v['name']}-emptydir")
            host.mkdir(parents=True, exist_ok=True)
            volumes[v["name"]] = host
        self.volumes = volumes
        limit = min(max_pods, spec["parallelism"]) if spec.get("parallelism") else max_pods
        self.pods = PodRunner(project_dir=Path(project_dir), state_dir=self.state_dir, volumes=volumes,
                              secrets=secrets or {}, max_pods=max(1, limit))
        deadline = spec.get("activeDeadlineSeconds")
        self.deadline = time.monotonic() + float(deadline) if deadline is not None else None
        self.nodes: list[NodeRecord] = []
        self._lock = threading.Lock()

    # --- the workflow ------------------------------------------------------------------------------
    def run(self) -> EmulationResult:
        # the entrypoint and the exit handler get the workflow's arguments as their arguments (operator.go
        # ~line 422; WorkflowSpec.GetExitHook in workflow_types.go ~line 516)
        arguments = {k[len("workflow.parameters."):]: v for k, v in self.scope.items()
                     if k.startswith("workflow.parameters.")}
        started = time.time()
        root = self.execute(self.entrypoint, arguments, self.name, {})
        phase, message = root.phase, root.message
        if self.shut_down():
            phase, message = "Failed", "Step exceeded its deadline"
        if self.on_exit:
            self.deadline = None  # the exit handler runs after a deadline too
            exit_node = self.execute(self.on_exit, arguments, f"{self.name}.onExit", self._exit_scope(phase, started))
            if exit_node.phase != "Succeeded" and phase == "Succeeded":
                # a failed exit handler fails a succeeded workflow with its message (operator.go ~lines 549-557)
                phase, message = ("Failed" if exit_node.phase == "Failed" else "Error"), exit_node.message
        return EmulationResult(self.name, self.uid, phase, message, self.nodes, self.state_dir)

    def _exit_scope(self, phase: str, started: float) -> dict[str, str]:
        """The variables Argo adds once the workflow's main part ended (operator.go ~lines 447-479):
        workflow.status, workflow.duration (seconds, "%f") and workflow.failures, the Failed and Errored
        nodes as JSON in a Go-quoted string (strconv.Quote, so the pod sees the quotes)."""
        failures = [{"displayName": display_name(self.nodes, self.name, n.name), "message": n.message,
                     "templateName": n.template, "phase": n.phase, "podName": n.log.name if n.log else "",
                     "finishedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(n.finished))}
                    for n in self.nodes if n.phase in ("Failed", "Error")]
        return {"workflow.status": phase, "workflow.duration": f"{time.time() - started:f}",
                "workflow.failures": json.dumps(_json(failures))}

    def shut_down(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _record(self, node: NodeRecord) -> NodeRecord:
        with self._lock:
            self.nodes.append(node)
        return node

    # --- templates ---------------------------------------------------------------------------------
    def execute(self, template_name: str, arguments: dict[str, str], node_name: str,
                extra_scope: dict[str, str]) -> NodeRecord:
        tmpl = self.templates.get(template_name)
        kind = "Pod" if tmpl and ("container" in tmpl or "script" in tmpl) else "DAG" if tmpl and "dag" in tmpl else \
            "Suspend" if tmpl and "suspend" in tmpl else "Unknown"
        node = self._record(NodeRecord(node_name, template_name, kind, started=time.time()))
        try:
            if tmpl is None:
                raise EmulationError(f"template '{template_name}' does not exist")
            scope = {**self.scope, **extra_scope}
            for param in (tmpl.get("inputs") or {}).get("parameters") or []:
                if arguments.get(param["name"], ABSENT) != ABSENT:
                    value = arguments[param["name"]]
                elif "value" in param:
                    value = render(str(param["value"]), scope)
                elif "default" in param:
                    value = str(param["default"])
                elif param["name"] in arguments:  # common/util.go ProcessArgs ~line 219
                    raise EmulationError(f"inputs.parameters.{param['name']}: argument references an absent "
                                         f"optional (skipped/omitted node output with no default)")
                else:
                    raise EmulationError(f"inputs.parameters.{param['name']} was not supplied")
                scope[f"inputs.parameters.{param['name']}"] = value
            if kind == "Pod":
                self.run_container(_as_container(tmpl), scope, node)
                for param in (tmpl.get("outputs") or {}).get("parameters") or []:
                    if "value" in param and node.phase == "Succeeded":  # kept as given (executor.go ~line 748)
                        node.outputs[param["name"]] = render(str(param["value"]), scope)
            elif kind == "DAG":
                self.run_dag(tmpl, scope, node)
            elif kind == "Suspend":
                duration = (tmpl["suspend"] or {}).get("duration")
                if duration is None:
                    raise EmulationError("a suspend without duration waits for a person: not emulated")
                time.sleep(seconds(render(str(duration), scope)))
                node.phase = "Succeeded"
            else:
                raise EmulationError(f"template '{template_name}' is of a type the emulator does not run "
                                     f"(only container, script, dag and suspend)")
        except (EmulationError, UnresolvedVariable, ExpressionError) as exc:
            node.phase, node.message = "Error", str(exc)
        node.finished = time.time()
        return node

    def run_container(self, tmpl: dict, scope: dict[str, str], node: NodeRecord) -> None:
        # the template's retry strategy, else the workflow's (operator.go, retryStrategy(): ~line 4475)
        retry = tmpl.get("retryStrategy") or self.retry_strategy
        limit = int(render(str(retry.get("limit", 0)), scope)) if retry else 0
        policy = (retry or {}).get("retryPolicy") or ("Always" if (retry or {}).get("expression") else "OnFailure")
        backoff = (retry or {}).get("backoff") or {}
        first = time.monotonic()
        step_deadline = tmpl.get("activeDeadlineSeconds")
        last: tuple[PodOutcome, float] | None = None
        for attempt in range(limit + 1):
            pod_scope = dict(scope)
            if retry is not None:
                # {{retries}} and {{lastRetry.*}} exist only where a retry strategy applies: operator.go,
                # executeTemplate, inside `if woc.retryStrategy(processedTmpl) != nil` (~2446-2538); before
                # the first retry lastRetry.exitCode and .duration are "0", .status and .message "".
                pod_scope.update(retry_scope(attempt, last))
            pod_name = f"{self.name}-{hashlib.sha1(f'{node.name}/{attempt}'.encode()).hexdigest()[:10]}"
            pod_scope["pod.name"] = pod_name
            container = render_all(tmpl["container"], pod_scope)
            deadlines = [d for d in (self.deadline, time.monotonic() + float(render(str(step_deadline), pod_scope))
                                     if step_deadline is not None else None) if d is not None]
            attempt_started = time.monotonic()
            outcome = self.pods.run(pod_name, container, (tmpl.get("outputs") or {}).get("parameters") or [],
                                    min(deadlines) if deadlines else None)
            last = (outcome, time.monotonic() - attempt_started)
            node.attempts = attempt + 1
            node.phase, node.message, node.log = outcome.phase, outcome.message, outcome.log
            node.outputs, node.result = outcome.outputs, outcome.stdout
            if outcome.phase == "Succeeded" or attempt == limit or self.shut_down():
                break
            if not (policy == "Always" or (policy == "OnFailure" and outcome.phase == "Failed")
                    or (policy in ("OnError", "OnTransientError") and outcome.phase == "Error")):
                break
            delay = 0.0
            if backoff.get("duration"):
                factor = float(render(str(backoff.get("factor", 1)), scope))
                delay = seconds(render(str(backoff["duration"]), scope)) * (factor ** attempt)
                if backoff.get("cap"):
                    delay = min(delay, seconds(backoff["cap"]))
            if backoff.get("maxDuration"):
                max_duration = seconds(render(str(backoff["maxDuration"]), scope))
                if time.monotonic() - first + delay > max_duration:
                    node.message += " (retry stopped: backoff would pass maxDuration)"
                    break
            time.sleep(delay * self.backoff_scale)

    # --- DAGs --------------------------------------------------------------------------------------
    def run_dag(self, tmpl: dict, scope: dict[str, str], node: NodeRecord) -> None:
        dag = tmpl["dag"]
        tasks = {t["name"]: t for t in dag.get("tasks") or []}
        deps, logic = {}, {}
        for name, t in tasks.items():
            # "dependencies: [A, B]" is "depends: A && B", a bare name meaning Succeeded/Skipped/Daemoned
            # (Argo's ancestry.go; continueOn is not emulated)
            logic[name] = t.get("depends") or " && ".join(t.get("dependencies") or [])
            deps[name] = referenced_tasks(logic[name]) if logic[name] else []
            for d in deps[name]:
                if d not in tasks:
                    raise EmulationError(f"task '{name}' depends on '{d}', which is not a task of this dag")
        targets = render(str(dag["target"]), scope).split() if dag.get("target") else None
        if targets:
            # dag.go executeDAG ~line 300: only the targets and the tasks they depend on run, and the targets
            # are the tasks whose phases decide the DAG's
            keep: set[str] = set()
            stack = list(targets)
            while stack:
                name = stack.pop()
                if name not in tasks:
                    raise EmulationError(f"dag target '{name}' is not a task of this dag")
                if name not in keep:
                    keep.add(name)
                    stack.extend(deps[name])
            tasks = {n: t for n, t in tasks.items() if n in keep}
        gate = _Gate(tmpl)
        results: dict[str, NodeRecord] = {}
        started: set[str] = set()
        running = 0
        changed = threading.Condition()

        def launch(name: str, task_scope: dict[str, str]) -> None:
            nonlocal running
            try:
                record = self.run_task(tasks[name], task_scope, f"{node.name}.{name}", gate)
            except (EmulationError, UnresolvedVariable, ExpressionError) as exc:
                record = self._record(NodeRecord(f"{node.name}.{name}", tasks[name].get("template", ""), "Pod",
                                                 phase="Error", message=str(exc)))
            except Exception as exc:  # never leave the scheduler waiting
                record = self._record(NodeRecord(f"{node.name}.{name}", tasks[name].get("template", ""), "Pod",
                                                 phase="Error", message=f"{exc.__class__.__name__}: {exc}"))
            with changed:
                if record is not None:  # None: never started, failFast had stopped the DAG (no node, as in Argo)
                    results[name] = record
                running -= 1
                changed.notify_all()

        def omit(name: str, message: str) -> None:
            results[name] = self._record(NodeRecord(f"{node.name}.{name}", tasks[name].get("template", ""), "Skipped",
                                                    phase="Omitted", message=message))
            started.add(name)

        def schedule() -> bool:  # one pass over the ready tasks; True if a task was omitted
            nonlocal running
            omitted = False
            for name in tasks:
                if name in started or any(d not in results for d in deps[name]):
                    continue
                if self.shut_down():
                    omit(name, "not scheduled")
                    omitted = True
                elif logic[name] and not evaluate(logic[name], lambda task, what: _result(results[task], what)):
                    # dag.go executeDAGTask ~line 597: the task's node is Omitted with this message
                    omit(name, "omitted: depends condition not met")
                    omitted = True
                elif not gate.stopped.is_set():
                    started.add(name)
                    running += 1
                    task_scope = {**scope, **_task_outputs(results, self.templates)}
                    threading.Thread(target=launch, args=(name, task_scope), daemon=True).start()
            return omitted

        with changed:
            while True:
                while schedule():  # an omitted task may make others ready at once
                    pass
                if running == 0:
                    break
                changed.wait(timeout=1.0)
        if self.shut_down():
            node.phase, node.message = "Failed", "Step exceeded its deadline"
        elif gate.stopped.is_set():
            # the template's own failFast: true (operator.go checkParallelism ~lines 3306-3352): once a child pod
            # or DAG has Failed or Errored no further child starts, and when none is active the DAG is Failed
            node.phase, node.message = "Failed", "template has failed or errored children and failFast enabled"
        else:
            # dag.go marks the DAG's phase without a message (executeDAG ~line 375), and the workflow's message
            # is its root node's (operator.go ~line 541)
            node.phase = _dag_phase(tasks, deps, results, dag.get("failFast") is not False, targets)
        if node.phase == "Succeeded":
            # a DAG's outputs come from its tasks' (executeDAG ~line 393, getTemplateOutputsFromScope
            # operator.go ~line 3455): valueFrom.parameter names a variable, valueFrom.default stands in
            outputs_scope = {**scope, **_task_outputs(results, self.templates)}
            for param in (tmpl.get("outputs") or {}).get("parameters") or []:
                source = param.get("valueFrom") or {}
                try:
                    node.outputs[param["name"]] = render(str(source.get("parameter", "")), outputs_scope)
                except UnresolvedVariable:
                    if "default" not in source:
                        raise
                    node.outputs[param["name"]] = str(source["default"])

    def run_task(self, task: dict, scope: dict[str, str], node_name: str, gate: "_Gate") -> NodeRecord | None:
        for key in NOT_EMULATED_TASK_FIELDS:
            if key in task:  # refusing beats running the task as if the field were not there
                raise EmulationError(f"task '{task['name']}' uses '{key}', which the emulator does not emulate")

        def arguments(item_vars: dict[str, str]) -> dict[str, str]:
            # an argument that is only a reference to an absent optional is passed on as absent, so that the
            # input's own default applies (dag.go resolveDependencyReferences ~line 822, markAbsentOptionalArgs)
            params = (task.get("arguments") or {}).get("parameters") or []
            pure = {p["name"]: _PURE_REFERENCE.fullmatch(str(p.get("value", ""))) for p in params}
            return {p["name"]: ABSENT if pure[p["name"]] and scope.get(pure[p["name"]].group(1)) == ABSENT
                    else render(str(p.get("value", "")), {**scope, **item_vars}) for p in params}

        def run_one(item_vars: dict[str, str], name: str) -> NodeRecord | None:
            return gate.run(lambda: self.execute(task["template"], arguments(item_vars), name, {}))

        if "withParam" not in task and "withItems" not in task:
            return run_one({}, node_name)
        group = self._record(NodeRecord(node_name, task["template"], "TaskGroup", started=time.time()))
        if "withItems" in task:
            items = task["withItems"]
        else:
            text = render(str(task["withParam"]), scope)
            try:
                items = json.loads(text)
                problem = "" if isinstance(items, list) or items is None else f"a JSON {type(items).__name__}"
            except json.JSONDecodeError as exc:
                problem = str(exc)
            if problem:
                # dag.go expandTask ~line 918; the node is of type Skipped, phase Error (executeDAGTask ~line 626)
                group.kind, group.phase, group.finished = "Skipped", "Error", time.time()
                group.message = f"withParam value could not be parsed as a JSON list: {text.strip()[:200]}: {problem}"
                return group
        if not items:  # [] or null (Go's json.Unmarshal leaves the list empty): dag.go ~line 636
            group.kind, group.phase, group.message = "Skipped", "Skipped", "Skipped, empty params"
            group.finished = time.time()
            return group
        children: list[NodeRecord | None] = [None] * len(items)

        def child(i: int, item: Any) -> None:
            name = f"{node_name}({i}:{item_label(item)})"
            try:
                children[i] = run_one(item_scope(item), name)
            except UnresolvedVariable as exc:
                children[i] = self._record(NodeRecord(name, task["template"], "Pod", phase="Error", message=str(exc)))

        threads = [threading.Thread(target=child, args=(i, item), daemon=True) for i, item in enumerate(items)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        group.children = [c for c in children if c is not None]
        # the group's phase: Succeeded, or the phase of the last Failed/Errored child (dag.go ~lines 700-712)
        group.phase = "Succeeded"
        for c in group.children:
            if c.phase in ("Failed", "Error"):
                group.phase = c.phase
        group.finished = time.time()
        return group


def retry_scope(attempt: int, last: "tuple[PodOutcome, float] | None") -> dict[str, str]:
    """The variables Argo binds for one attempt of a template with a retry strategy (all strings)."""
    scope = {"retries": str(attempt), "lastRetry.exitCode": "0", "lastRetry.duration": "0",
             "lastRetry.status": "", "lastRetry.message": ""}
    if last is not None:
        outcome, duration = last
        scope.update({"lastRetry.exitCode": str(outcome.exit_code if outcome.exit_code is not None else 0),
                      "lastRetry.duration": str(duration), "lastRetry.status": outcome.phase,
                      "lastRetry.message": outcome.message})
    return scope


NOT_EMULATED_TASK_FIELDS = ("when", "withSequence", "continueOn", "templateRef", "hooks", "onExit")


def _as_container(tmpl: dict) -> dict:
    """A script template runs as its container; a non-empty ``source`` is written to a file whose path
    is added to the arguments (operator.go executeScript ~line 3604; here the file is the pod's
    /tmp/argo-script-source rather than /argo/staging/script)."""
    if "script" not in tmpl:
        return tmpl
    container = {k: v for k, v in tmpl["script"].items() if k != "source"}
    source = tmpl["script"].get("source") or ""
    if source:
        argv = [*(container.get("command") or []), *(container.get("args") or [])]
        container["command"] = ["/bin/sh", "-c", 'printf %s "$1" > /tmp/argo-script-source && shift && '
                                                 'exec "$@" /tmp/argo-script-source', "script", source, *argv]
        container.pop("args", None)
    return {**tmpl, "container": container}


class _Gate:
    """Starts a DAG's children: at most the template's ``parallelism`` at once, and with the template's own
    ``failFast: true`` none after a child pod or DAG Failed or Errored (operator.go checkParallelism: only an
    explicit true counts, Template.IsFailFast in workflow_types.go ~line 931)."""

    def __init__(self, tmpl: dict) -> None:
        self.limit = threading.Semaphore(int(tmpl["parallelism"])) if tmpl.get("parallelism") else None
        self.fail_fast = tmpl.get("failFast") is True
        self.stopped = threading.Event()

    def run(self, start) -> NodeRecord | None:
        with self.limit or contextlib.nullcontext():
            if self.stopped.is_set():
                return None
            record = start()
        # getUnsuccessfulChildren counts Pod, Steps and DAG nodes only (node_counters.go ~line 33)
        if self.fail_fast and record.kind in ("Pod", "DAG") and record.phase in ("Failed", "Error"):
            self.stopped.set()
        return record


def _result(record: NodeRecord, what: str) -> bool:
    # dag.go evaluateDependsLogic ~lines 1000-1030: AllFailed needs children, all Failed (an Error is not)
    if what == "AnySucceeded":
        return any(c.phase == "Succeeded" for c in record.children)
    if what == "AllFailed":
        return bool(record.children) and all(c.phase == "Failed" for c in record.children)
    if what == "Daemoned":
        return False
    return record.phase == {"Errored": "Error"}.get(what, what)


def _task_outputs(results: dict[str, NodeRecord], templates: dict[str, dict]) -> dict[str, str]:
    scope = {}
    for name, r in results.items():
        if r.phase in ("Skipped", "Omitted"):  # declared outputs: the default, else absent (scope.go ~line 132)
            for param in ((templates.get(r.template) or {}).get("outputs") or {}).get("parameters") or []:
                default = (param.get("valueFrom") or {}).get("default")
                scope[f"tasks.{name}.outputs.parameters.{param['name']}"] = ABSENT if default is None else str(default)
        outputs, result = (r.outputs, r.result) if r.kind != "TaskGroup" else _aggregate(r.children)
        if r.kind == "TaskGroup":
            scope[f"tasks.{name}.outputs.parameters"] = outputs.pop("", "[]")
        for key, value in outputs.items():
            scope[f"tasks.{name}.outputs.parameters.{key}"] = value
        if result is not None:
            scope[f"tasks.{name}.outputs.result"] = result
        scope[f"tasks.{name}.status"] = r.phase
    return scope


def _aggregate(children: list[NodeRecord]) -> tuple[dict[str, str], str | None]:
    """A loop's outputs as Argo aggregates them (operator.go processAggregateNodeOutputs ~line 3743): only
    Succeeded children, in item order; ``outputs.parameters`` is a JSON list of {name: value} maps,
    ``outputs.parameters.X`` a JSON list of the values (parsed when every value is a JSON list or map,
    aggregatedJSONValueList ~line 3840), ``outputs.result`` a JSON list of the results, each parsed as JSON
    (a result that is not JSON makes Argo fail the aggregation: here it leaves the variable unresolved)."""
    done = [c for c in children if c.phase == "Succeeded"]
    params = [c.outputs for c in done if c.outputs]
    outputs = {"": _json(params)}
    for key in dict.fromkeys(k for p in params for k in p):
        values = [p[key] for p in params if key in p]
        try:
            parsed = [json.loads(v) for v in values]
        except ValueError:
            parsed = None
        if parsed is not None and all(isinstance(v, (list, dict)) for v in parsed):
            values = parsed
        outputs[key] = _json(values)
    try:
        result = _json([json.loads(c.result) for c in done if c.result is not None])
    except ValueError:
        result = None
    return outputs, result


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)  # as Go's json.Marshal: compact


def _dag_phase(tasks: dict, deps: dict[str, list[str]], results: dict[str, NodeRecord], fail_fast: bool,
               targets: list[str] | None = None) -> str:
    """Argo's assessDAGPhase: only leaf tasks (or the dag's targets) decide; omitted nodes inherit their
    branch's last phase."""
    dependents: dict[str, list[str]] = {n: [] for n in tasks}
    for name in tasks:
        for d in deps[name]:
            dependents[d].append(name)
    leaves = {n: "" for n in (targets or [n for n in tasks if not dependents[n]])}
    queue = deque((n, "Succeeded") for n in tasks if not deps[n])
    seen: set[tuple[str, str]] = set()
    while queue:
        name, inherited = queue.popleft()
        if (name, inherited) in seen:
            continue
        seen.add((name, inherited))
        phase = results[name].phase
        branch = phase if phase in DONE else inherited
        if name in leaves and leaves[name] not in ("Failed", "Error"):
            leaves[name] = branch
        queue.extend((child, branch) for child in dependents[name])
    # leaves in name order (findLeafTaskNames sorts them, dag.go ~line 897); dag.failFast (true unless false)
    # makes the first failed leaf decide, otherwise the last one does (assessDAGPhase ~lines 222-248)
    failed = [leaves[n] for n in sorted(leaves) if leaves[n] in ("Failed", "Error")]
    if not failed:
        return "Succeeded"
    return failed[0] if fail_fast else failed[-1]


def display_name(nodes: list[NodeRecord], workflow_name: str, node_name: str) -> str:
    """Argo's display name: the node's name less its boundary's (the enclosing DAG's) name and the '.'
    (operator.go initializeNode, ~line 3071); a node without boundary (the workflow's root, the exit
    handler '<workflow>.onExit': operator.go ~line 503) shows its full name."""
    if node_name == f"{workflow_name}.onExit":
        return node_name
    boundaries = [n.name for n in nodes if n.kind == "DAG" and node_name.startswith(n.name + ".")]
    if not boundaries:
        return node_name
    return node_name[len(max(boundaries, key=len)) + 1:]


def emulate(manifest: dict, **kwargs) -> EmulationResult:
    return Emulator(manifest, **kwargs).run()
