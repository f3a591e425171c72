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
* A template with a retry strategy (its own, else ``spec.retryStrategy``; a DAG's too) is a Retry node
  whose children ``name(0)``, ``name(1)``, ... are the attempts; processNodeRetries decides in Argo's
  order (workflow deadline, backoff/maxDuration, retryPolicy, limit, expression) with Argo's messages.
* ``activeDeadlineSeconds`` on a container template kills its pod (Failed, the kubelet's message); past
  the workflow's deadline running pods are killed and ready tasks' pods fail at once ("Step exceeded its
  deadline"), and the exit handler still runs with ``{{workflow.status}}``.
* ``parallelism`` on a DAG template limits its running children; ``spec.parallelism`` (and
  ``max_pods``) limits running pods.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .expressions import ExpressionError, evaluate, referenced_tasks
from .pods import PodRunner
from .expr import ExprError, evaluate_retry
from .substitution import ABSENT, UnresolvedVariable, item_label, item_scope, render, render_all

DONE = ("Succeeded", "Failed", "Error")
_PURE_REFERENCE = re.compile(r"{{\s*(tasks\.[^{}]+?)\s*}}")
_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
# a Kubernetes object name (apimachinery validation.IsDNS1123Subdomain): at most 253 characters
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
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
    exit_code: str | None = None  # outputs.exitCode: the main container's, as a string
    waits: list[float] = field(default_factory=list)  # a Retry node's backoff before each retry (unscaled seconds)
    inputs: dict[str, str] = field(default_factory=dict)  # its template's input parameters, as given (status_size.py)

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
        # spec.hooks.exit is the exit handler too when there is no onExit, with its own arguments if it has any
        # (WorkflowSpec.GetExitHook, LifecycleHook.WithArgs: workflow_types.go ~lines 516-527, ~1850)
        hooks = spec.get("hooks") or {}
        for event in hooks:
            if event != "exit":
                raise EmulationError(f"spec.hooks.{event}: lifecycle hooks other than 'exit' are not emulated")
        exit_hook = {} if spec.get("onExit") else (hooks.get("exit") or {})
        self.on_exit = spec.get("onExit") or exit_hook.get("template")
        self.exit_arguments = (exit_hook.get("arguments") or {}).get("parameters") or []
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
            folder = claim or f"{v['name']}-emptydir"
            # a claim is a PersistentVolumeClaim's name and a volume's name a pod's: Kubernetes object names
            # are DNS-1123 subdomains (lowercase letters, digits, '-', '.'), so no real claim is named '../x'
            # (Argo passes claimName through untouched: operator.go ~line 2019); such a name never leaves
            # the emulator's state folder
            if not _DNS_SUBDOMAIN.fullmatch(str(folder)) or ".." in str(folder):
                raise EmulationError(f"volume '{v['name']}': '{folder}' is not a Kubernetes object name "
                                     "(lowercase letters, digits, '-' and '.')")
            host = self.state_dir / "volumes" / folder
            host.mkdir(parents=True, exist_ok=True)
            volumes[v["name"]] = host
        self.volumes = volumes
        limit = min(max_pods, spec["parallelism"]) if spec.get("parallelism") else max_pods
        self.pods = PodRunner(project_dir=Path(project_dir), state_dir=self.state_dir, volumes=volumes,
                              secrets=secrets or {}, max_pods=max(1, limit))
        deadline = spec.get("activeDeadlineSeconds")
        self.deadline = time.monotonic() + float(deadline) if deadline is not None else None
        self.deadline_at = time.time() + float(deadline) if deadline is not None else 0.0
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
        # the workflow's phase and message are its root node's (operator.go ~lines 446-455, ~541), after a deadline too
        phase, message = root.phase, root.message
        if self.on_exit:
            self.deadline = None  # the exit handler runs after a deadline too
            # global variables from here on (woc.scope, operator.go ~lines 456-479): the handler's own tasks see them
            self.scope.update(self._exit_scope(phase, started))
            if self.exit_arguments:
                arguments = {a["name"]: render(str(a.get("value", "")), self.scope) for a in self.exit_arguments}
            exit_node = self.execute(self.on_exit, arguments, f"{self.name}.onExit", {})
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
                scope[f"inputs.parameters.{param['name']}"] = node.inputs[param["name"]] = value
            # the template's retry strategy, else the workflow's (operator.go retryStrategy ~line 4475): the node is then
            # a Retry node whose children "<node>(0)", "<node>(1)", ... are the attempts, for any template type, a DAG
            # too (executeTemplate ~lines 2446-2538)
            retry = tmpl.get("retryStrategy") or self.retry_strategy
            if retry is not None and kind != "Unknown":
                node.kind = "Retry"
                self.run_retries(tmpl, kind, retry, scope, node)
            else:
                self.run_body(tmpl, kind, scope, node)
        except (EmulationError, UnresolvedVariable, ExpressionError, ExprError) as exc:
            node.phase, node.message = "Error", str(exc)
        node.finished = time.time()
        return node

    def run_body(self, tmpl: dict, kind: str, scope: dict[str, str], node: NodeRecord,
                 execution_deadline: float | None = None) -> None:
        """One attempt of a template: its pod, its DAG or its suspension."""
        if kind == "Pod":
            self.run_container(_as_container(tmpl), scope, node, execution_deadline)
            for param in (tmpl.get("outputs") or {}).get("parameters") or []:
                if "value" in param and node.phase == "Succeeded":  # kept as given (executor.go ~line 748)
                    node.outputs[param["name"]] = render(str(param["value"]), scope)
        elif kind == "DAG":
            self.run_dag(tmpl, scope, node)
        elif kind == "Suspend":
            self.run_suspend(tmpl, scope, node)
        else:
            raise EmulationError(f"template '{node.template}' is of a type the emulator does not run "
                                 f"(only container, script, dag and suspend)")

    def run_suspend(self, tmpl: dict, scope: dict[str, str], node: NodeRecord) -> None:
        duration = (tmpl["suspend"] or {}).get("duration")
        if duration is None and self.deadline is None:
            raise EmulationError("a suspend without duration waits for a person: not emulated")
        wait = seconds(render(str(duration), scope)) if duration is not None else float("inf")
        if self.deadline is not None and self.deadline <= time.monotonic() + wait:
            time.sleep(max(0.0, self.deadline - time.monotonic()))
            # an active suspend node past the workflow deadline is Failed (operator.go ~lines 1426-1429;
            # operator_test.go TestSuspendWithDeadline)
            node.phase, node.message = "Failed", DEADLINE_STEP
            return
        time.sleep(wait)
        node.phase = "Succeeded"

    def run_container(self, tmpl: dict, scope: dict[str, str], node: NodeRecord,
                      execution_deadline: float | None = None) -> None:
        """One pod. Past the workflow deadline no pod is created (workflowpod.go ~line 460) and the pending node is
        Failed (operator.go failNodesWithoutCreatedPodsAfterDeadlineOrShutdown ~lines 1426-1429)."""
        if self.shut_down():
            node.phase, node.message = "Failed", DEADLINE_STEP
            return
        pod_name = f"{self.name}-{hashlib.sha1(node.name.encode()).hexdigest()[:10]}"
        scope = {**scope, "pod.name": pod_name}
        container = render_all(tmpl["container"], scope)
        # the pod is killed at the earliest of: the template's activeDeadlineSeconds and its timeout from the node's
        # start (both the pod's activeDeadlineSeconds, so the kubelet's message: workflowpod.go ~lines 449-466 and
        # ~952, checkTemplateTimeouts operator.go ~line 2698), the workflow's deadline and a retry's
        # backoff.maxDuration (the executor's deadline monitor, executor.go ~line 1490; getDeadline ~line 993)
        now = time.monotonic()
        deadlines = [(d, message) for d, message in (
            (self.deadline, DEADLINE_STEP), (execution_deadline, DEADLINE_STEP),
            (now + float(render(str(tmpl["activeDeadlineSeconds"]), scope))
             if tmpl.get("activeDeadlineSeconds") is not None else None, DEADLINE_POD),
            (now + node.started + seconds(render(str(tmpl["timeout"]), scope)) - time.time()
             if tmpl.get("timeout") else None, DEADLINE_POD)) if d is not None]
        outcome = self.pods.run(pod_name, container, (tmpl.get("outputs") or {}).get("parameters") or [],
                                min(deadlines, default=None))
        node.phase, node.message, node.log, node.attempts = outcome.phase, outcome.message, outcome.log, 1
        node.outputs, node.result = outcome.outputs, outcome.stdout
        node.exit_code = None if outcome.exit_code is None else str(outcome.exit_code)

    def run_retries(self, tmpl: dict, kind: str, retry: dict, scope: dict[str, str], node: NodeRecord) -> None:
        """Attempts as children of the Retry node until one succeeds or processNodeRetries (operator.go ~lines
        1030-1207) stops; the Retry node takes its last child's phase and outputs (~line 1061, ~line 2437)."""
        retry = render_all(retry, scope)  # the template is substituted before the retry node is made (~line 2255)
        limit = None if retry.get("limit") is None else _int(retry["limit"], "retryStrategy.limit")
        shift = 0.0  # backoff not waited (--backoff-scale): maxDuration is judged on the cluster's clock
        execution_deadline = None
        while True:
            n = len(node.children)
            child = self._record(NodeRecord(f"{node.name}({n})", node.template, kind, started=time.time()))
            previous = node.children[-1] if node.children else None
            node.children.append(child)
            try:
                self.run_body(tmpl, kind, {**scope, **retry_scope(n, previous)}, child, execution_deadline)
            except (EmulationError, UnresolvedVariable, ExpressionError, ExprError) as exc:
                child.phase, child.message = "Error", str(exc)
            child.finished = time.time()
            node.attempts = n + 1
            node.outputs, node.result, node.log, node.exit_code = child.outputs, child.result, child.log, child.exit_code
            decision = self._retry_decision(retry, limit, node.children, shift)
            if isinstance(decision[0], str):
                node.phase, node.message = decision
                return
            wait, until = decision
            node.waits.append(wait)
            time.sleep(wait * self.backoff_scale)
            shift += wait * (1 - self.backoff_scale)
            execution_deadline = None if until is None else time.monotonic() + until - (time.time() + shift)

    def _retry_decision(self, retry: dict, limit: int | None, children: list[NodeRecord], shift: float) -> tuple:
        """processNodeRetries in its order: (phase, message) to stop, else (backoff wait, maxDuration deadline)."""
        last = children[-1]
        if last.phase not in ("Failed", "Error"):  # ~line 1060
            return "Succeeded", ""
        if self.shut_down():  # ~line 1066
            return last.phase, f"retry exceeded workflow deadline {_go_time(self.deadline_at)}"
        wait, until = 0.0, None
        backoff = retry.get("backoff")
        if backoff is not None:  # ~lines 1077-1150
            if backoff.get("maxDuration"):
                until = children[0].started + seconds(backoff["maxDuration"])
                if time.time() + shift > until:
                    return last.phase, "Max duration limit exceeded"
            if str(backoff.get("duration", "")) == "":
                raise EmulationError("no base duration specified for retryStrategy")
            wait = seconds(backoff["duration"])
            factor = _int(backoff["factor"], "backoff.factor") if backoff.get("factor") is not None else 0
            if factor > 0:  # duration * factor^(attempts - 1), an integer factor (intstr.Int32)
                wait *= factor ** (len(children) - 1)
            if backoff.get("cap"):
                wait = min(wait, seconds(backoff["cap"]))
            if until is not None and last.finished + shift + wait > until:
                return last.phase, "Backoff would exceed max duration limit"
            if limit is None or len(children) > limit:  # ~line 1140: no wait when no retry is left (or no limit)
                wait = 0.0
        policy = retry.get("retryPolicy") or ("Always" if retry.get("expression") else "OnFailure")  # RetryPolicyActual
        if policy == "OnTransientError":  # ~line 1162: the node's message judged as a transient error would be
            retried = {"Failed": _transient(last.message), "Error": _transient(last.message)}
        elif policy in RETRY_POLICIES:
            retried = RETRY_POLICIES[policy]
        else:
            raise EmulationError(f"{policy} is not a valid RetryPolicy")
        if not retried[last.phase]:  # ~line 1174
            return last.phase, last.message
        if limit is not None and len(children) > limit:  # ~line 1188
            return last.phase, "No more retries left"
        if retry.get("expression") and not evaluate_retry(retry["expression"], expression_scope(children)):
            return last.phase, "retryStrategy.expression evaluated to false"  # ~line 1201
        return wait, until

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
            except (EmulationError, UnresolvedVariable, ExpressionError, ExprError) as exc:
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
                if logic[name] and not evaluate(logic[name], lambda task, what: _result(results[task], what)):
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
        # past the workflow deadline ready tasks still start, and their pods fail at once (run_container)
        if gate.stopped.is_set():
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


def retry_scope(attempt: int, last: NodeRecord | None) -> dict[str, str]:
    """The variables Argo binds for one attempt of a template with a retry strategy, all strings (operator.go
    executeTemplate ~lines 2515-2538): before the first retry lastRetry.exitCode and .duration are "0", .status
    and .message ""."""
    scope = {"retries": str(attempt), "lastRetry.exitCode": "0", "lastRetry.duration": "0",
             "lastRetry.status": "", "lastRetry.message": ""}
    if last is not None:
        scope.update({"lastRetry.exitCode": last.exit_code or "0", "lastRetry.duration": _seconds_text(last),
                      "lastRetry.status": last.phase, "lastRetry.message": last.message})
    return scope


def expression_scope(children: list[NodeRecord]) -> dict[str, str]:
    """What retryStrategy.expression sees (buildRetryStrategyLocalScope, operator.go ~line 2149): ``retries`` is
    the last attempt's number, an exit code that is not known is "-1"."""
    last = children[-1]
    return {"retries": str(len(children) - 1), "lastRetry.exitCode": last.exit_code or "-1",
            "lastRetry.status": last.phase, "lastRetry.duration": _seconds_text(last),
            "lastRetry.message": last.message}


def _seconds_text(node: NodeRecord) -> str:
    # fmt.Sprint(GetDuration().Seconds()) of times Argo stores to the second (metav1.Time): a whole number
    return str(max(0, int(node.finished) - int(node.started)))


def _int(value: Any, what: str) -> int:
    try:  # an IntOrString field (intstr.Int32): a number, or a string that is one
        return int(str(value).strip())
    except ValueError:
        raise EmulationError(f"{what} '{value}' is not an integer") from None


def _go_time(wall: float) -> str:
    """A time as Go's time.Time prints it (``%v``), to the second as Argo stores it."""
    return time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(wall))


# The messages of an error Argo judges transient (util/errors/errors.go isTransientErr: the checks that read the
# message only; the others need a Kubernetes API error, which the emulator never has), plus TRANSIENT_ERROR_PATTERN.
TRANSIENT_MESSAGES = ("unexpected error when reading response body", "stream error when reading response body",
                      "Connection closed by foreign host", "net/http: TLS handshake timeout", "i/o timeout",
                      "connection timed out", "connection reset by peer", "http2: client connection lost",
                      "http2: server sent GOAWAY and closed the connection",
                      "request did not complete within requested timeout", "connect: connection refused",
                      "invalid connection", "etcdserver: leader changed", "etcdserver: request timed out",
                      "etcdserver: too many requests", "client rate limiter Wait returned an error",
                      "upper: no more rows in")


def _transient(message: str) -> bool:
    pattern = os.environ.get("TRANSIENT_ERROR_PATTERN", "")
    return any(t in message for t in TRANSIENT_MESSAGES) or bool(pattern and re.search(pattern, message))


# retryPolicy -> whether a Failed and an Errored attempt are retried (operator.go processNodeRetries ~lines 1152-1171)
RETRY_POLICIES = {"Always": {"Failed": True, "Error": True}, "OnError": {"Failed": False, "Error": True},
                  "OnFailure": {"Failed": True, "Error": False}}
DEADLINE_STEP = "Step exceeded its deadline"  # the workflow's deadline (exec_control.go ~line 65, executor.go ~1490)
DEADLINE_POD = "Pod was active on the node longer than the specified deadline"  # the kubelet's, pod activeDeadlineSeconds


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
        # getUnsuccessfulChildren counts Pod, Steps and DAG nodes only (node_counters.go ~line 33), every one in the
        # boundary: a Retry node's failed attempts too, even when a later one succeeds
        attempts = record.children if record.kind == "Retry" else [record]
        if self.fail_fast and any(a.kind in ("Pod", "DAG") and a.phase in ("Failed", "Error") for a in attempts):
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
