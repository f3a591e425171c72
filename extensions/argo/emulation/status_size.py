"""How much of the Workflow object a run's status would take in Argo: the emulator's node records written as
Argo's ``NodeStatus`` JSON.

Argo keeps every node of a run in the Workflow object's ``status.nodes``, a map from node id to NodeStatus
(pkg/apis/workflow/v1alpha1/workflow_types.go ``WorkflowStatus.Nodes`` ~line 2210, ``NodeStatus`` ~lines
2545-2649), and a pod node's id again in ``status.taskResultsCompletionStatus`` (~line 2245). The whole object,
spec and status, is held to 1 MiB of JSON before the controller compresses the nodes (workflow/packer/packer.go
getMaxWorkflowSize: ``MAX_WORKFLOW_SIZE``, 1024 * 1024), and etcd refuses objects over about 1.5 MiB.

Each node is written with the fields Argo fills for it (operator.go initializeNode ~lines 3043-3094, pod
reconciliation ~lines 1600-1680, dag.go updateOutboundNodesForTargetTasks ~line 443):

* every node: ``id`` (``<workflow>-<fnv32a of the name>``, Workflow.NodeID ~line 3870), ``name``,
  ``displayName``, ``type``, ``templateName``, ``templateScope`` (``local/<workflow>``: templateresolution
  GetTemplateScope), ``phase``, ``boundaryID`` (the enclosing DAG's id), ``message``, ``startedAt``,
  ``finishedAt`` (RFC 3339 to the second), ``progress``, ``nodeFlag`` (``{}``, ``{"retried": true}`` for a retry's
  attempts), ``inputs`` (the template's input parameters with their values and defaults), ``children``;
* a pod: ``outputs`` (declared parameters with their values and ``valueFrom``, and ``exitCode``),
  ``resourcesDuration`` (cpu and memory seconds), ``hostNodeName`` (a stand-in of 27 characters, as
  ``ip-10-0-123-45.ec2.internal``) and ``taskResultSynced``;
* a DAG: ``outboundNodes``, the outbound nodes of its leaf tasks (getOutboundNodes ~lines 3391-3452: a pod or a
  skipped node is its own, a task group gives its children's, a retry its last attempt, a DAG its own list).

Not counted: what Argo adds in particular set-ups (memoization, synchronization, artifacts, pod IPs of daemons),
``estimatedDuration`` (only when earlier runs of the same workflow exist) and the spec, which is the manifest.
"""

from __future__ import annotations

import json
import time
from typing import Any

from .engine import EmulationResult, NodeRecord

HOST_NODE = "ip-10-0-123-45.ec2.internal"  # a Kubernetes node's name, as EKS names them
LIMIT = 1024 * 1024  # workflow/packer/packer.go getMaxWorkflowSize


def fnv32a(text: str) -> int:
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def _when(wall: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall))


def _parameters(definitions: list[dict], values: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for p in definitions:
        item = {k: v for k, v in p.items() if k in ("name", "default", "valueFrom")}
        if p.get("name") in values:
            item["value"] = values[p["name"]]
        out.append(item)
    return out


class _Status:
    def __init__(self, result: EmulationResult, manifest: dict) -> None:
        self.wf = result.name
        self.templates = {t.get("name"): t for t in (manifest.get("spec") or {}).get("templates") or []}
        self.nodes = result.nodes
        self.by_name = {n.name: n for n in result.nodes}
        self.ids = {n.name: n.name if n.name == self.wf else f"{self.wf}-{fnv32a(n.name)}" for n in result.nodes}
        self.dags = {n.name for n in result.nodes if n.kind == "DAG"}
        self.attempt_of = {c.name: n for n in result.nodes if n.kind == "Retry" for c in n.children}
        self.leaves: dict[str, list[str]] = {}
        self.children: dict[str, list[str]] = {}
        grouped = {c.name for n in result.nodes if n.kind in ("Retry", "TaskGroup") for c in n.children}
        for n in result.nodes:
            if n.kind in ("Retry", "TaskGroup"):
                self.children[n.name] = [self.ids[c.name] for c in n.children]
            elif n.name not in grouped:
                boundary = self.boundary(n.name)
                if boundary is not None:  # a DAG's task: the child of the task it depends on, or of the DAG
                    self.children.setdefault(boundary, []).append(self.ids[n.name])

    def boundary(self, name: str) -> str | None:
        """The DAG node a node belongs to: its name's longest prefix naming a DAG node."""
        cut = name.rfind(".")
        while cut > 0:
            if name[:cut] in self.dags:
                return name[:cut]
            cut = name.rfind(".", 0, cut)
        return None

    def outbound(self, n: NodeRecord) -> list[str]:
        if n.kind in ("Pod", "Skipped", "Suspend"):
            return [self.ids[n.name]]
        if n.kind == "TaskGroup":
            return [i for c in n.children for i in self.outbound(c)] or [self.ids[n.name]]
        if n.kind == "Retry":
            return [self.ids[n.children[-1].name]] if n.children else []
        if n.kind == "DAG":
            leaves = [self.by_name.get(f"{n.name}.{task}") for task in self.leaf_tasks(n.template)]
            return [i for leaf in leaves if leaf is not None for i in self.outbound(leaf)]
        return []

    def leaf_tasks(self, template: str) -> list[str]:
        """The tasks of a DAG template no other task depends on (dag.go findLeafTaskNames)."""
        if template not in self.leaves:
            from .expressions import referenced_tasks

            tasks = ((self.templates.get(template) or {}).get("dag") or {}).get("tasks") or []
            used = {d for t in tasks for d in referenced_tasks(t.get("depends") or " && ".join(
                t.get("dependencies") or []))}
            self.leaves[template] = [t["name"] for t in tasks if t["name"] not in used]
        return self.leaves[template]

    def record(self, n: NodeRecord) -> dict[str, Any]:
        parent = self.attempt_of.get(n.name)
        boundary = self.boundary(parent.name if parent else n.name)
        tmpl = self.templates.get(n.template) or {}
        inputs = (parent or n).inputs
        status: dict[str, Any] = {"id": self.ids[n.name], "name": n.name,
                                  "displayName": n.name[len(boundary) + 1:] if boundary else n.name,
                                  "type": n.kind, "templateName": n.template, "templateScope": f"local/{self.wf}",
                                  "phase": n.phase}
        if boundary:
            status["boundaryID"] = self.ids[boundary]
        if n.message:
            status["message"] = n.message
        status.update(startedAt=_when(n.started), finishedAt=_when(n.finished or n.started), progress="1/1",
                      nodeFlag={"retried": True} if parent else {})
        definitions = (tmpl.get("inputs") or {}).get("parameters") or []
        if definitions and n.kind not in ("TaskGroup", "Skipped"):
            status["inputs"] = {"parameters": _parameters(definitions, inputs)}
        if n.kind in ("Pod", "Retry") and n.exit_code is not None:
            declared = (tmpl.get("outputs") or {}).get("parameters") or []
            outputs: dict[str, Any] = {"parameters": _parameters(declared, n.outputs)} if declared else {}
            status["outputs"] = {**outputs, "exitCode": n.exit_code}
        if self.children.get(n.name):
            status["children"] = self.children[n.name]
        if n.kind == "DAG":
            status["outboundNodes"] = self.outbound(n)
        if n.kind == "Pod":
            seconds = max(1, round(n.duration))
            status.update(resourcesDuration={"cpu": seconds, "memory": seconds}, hostNodeName=HOST_NODE,
                          taskResultSynced=True)
        return status


def estimate(result: EmulationResult, manifest: dict) -> dict[str, int]:
    """``nodes``: the nodes the run created (as Argo counts them: every entry of status.nodes); ``pods``: those
    that were pods; ``statusBytes``: the JSON of status.nodes and status.taskResultsCompletionStatus."""
    status = _Status(result, manifest)
    records = {status.ids[n.name]: status.record(n) for n in result.nodes}
    pods = [i for i, r in records.items() if r["type"] == "Pod"]
    text = json.dumps({"nodes": records, "taskResultsCompletionStatus": dict.fromkeys(pods, True)},
                      separators=(",", ":"), ensure_ascii=False)
    return {"nodes": len(records), "pods": len(pods), "statusBytes": len(text.encode())}


def describe(figures: dict[str, int]) -> str:
    """One line for the console."""
    size = figures["statusBytes"]
    return (f"{figures['nodes']:,} nodes ({figures['pods']:,} pods); Argo's status of them: about "
            f"{size / 1024:,.0f} KiB ({100 * size / LIMIT:.0f}% of the 1 MiB a Workflow object may take "
            f"before Argo compresses its nodes)")
