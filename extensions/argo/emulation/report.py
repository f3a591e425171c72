"""What ``runnable emulate`` tells when a workflow ends: every node on the console (full names, each pod's
logs) and, with ``--status-json FILE``, the workflow's final status as JSON for CI jobs."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .engine import EmulationResult, NodeRecord, display_name

COLOURS = {"Succeeded": "green", "Failed": "red", "Error": "red", "Omitted": "dim", "Skipped": "dim"}


def _when(wall: float) -> str | None:
    """A time as Argo stores it in a node's status (metav1.Time: RFC 3339 to the second, UTC); None if unset
    (Argo omits the field: ``startedAt,omitempty``, pkg/apis/workflow/v1alpha1/workflow_types.go ~line 2583)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall)) if wall else None


def _shown(path: Path) -> str:
    """A path as short as it can be without ambiguity: relative when under the working directory."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def pod_logs(node: NodeRecord) -> Path | None:
    """The folder holding a pod node's stdout.log and stderr.log (a Retry node's pods are its children)."""
    return node.log if node.kind == "Pod" and node.log is not None else None


def status(result: EmulationResult) -> dict[str, Any]:
    """The workflow's final status, with the field names of Argo's WorkflowStatus and NodeStatus
    (pkg/apis/workflow/v1alpha1/workflow_types.go ~lines 2189-2210 and 2548-2586). The nodes are a list in
    the order they were created (Argo keys them by a hashed node id, which the emulator does not make);
    a pod node adds ``podName`` and the paths of its ``stdout.log`` and ``stderr.log``."""
    nodes = []
    for n in result.nodes:
        node = {"name": n.name, "displayName": display_name(result.nodes, result.name, n.name), "type": n.kind,
                "templateName": n.template, "phase": n.phase, "message": n.message,
                "startedAt": _when(n.started), "finishedAt": _when(n.finished)}
        if n.kind == "Retry":
            node["attempts"] = n.attempts
        if n.exit_code is not None:
            node["exitCode"] = n.exit_code
        logs = pod_logs(n)
        if logs is not None:
            node.update(podName=logs.name, stdout=str(logs / "stdout.log"), stderr=str(logs / "stderr.log"))
        nodes.append(node)
    started = [n.started for n in result.nodes if n.started]
    finished = [n.finished for n in result.nodes if n.finished]
    return {"name": result.name, "uid": result.uid, "phase": result.phase, "message": result.message,
            "startedAt": _when(min(started)) if started else None,
            "finishedAt": _when(max(finished)) if finished else None,
            "stateDir": str(result.state_dir), "nodes": nodes}


def _unwritable(path: str, reason: str):
    from runnable.errors import RunnableError

    return RunnableError(f"cannot be written ({reason})", file=path, field="--status-json")


def check_status_path(path: str) -> None:
    """Refuse a --status-json FILE that could not be written before the workflow runs, not after."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise _unwritable(path, "No such file or directory")
    if not os.access(folder, os.W_OK):
        raise _unwritable(path, "Permission denied")


def write_status(result: EmulationResult, path: str, **extra: Any) -> None:
    """``extra``: more top-level fields (the CLI's ``statusEstimate``)."""
    try:
        Path(path).write_text(json.dumps({**status(result), **extra}, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise _unwritable(path, exc.strerror or exc.__class__.__name__) from None


def _line(n: NodeRecord) -> str:
    """One node on one line, nothing cut: what a CI log (or a narrow terminal) shows."""
    text = f"{n.phase:<9} {n.name} [{n.template}] {n.duration:.1f}s"
    if n.kind == "Retry":
        text += f" attempts {n.attempts}"
    logs = pod_logs(n)
    if logs is not None:
        text += f" logs {_shown(logs)}/"
    return text + (f" - {n.message}" if n.message else "")


def show(result: EmulationResult) -> None:
    """Every node, on stderr: a table when the terminal is wide enough to show every cell whole, otherwise
    (a pipe, a CI log, a narrow terminal) one line per node."""
    from rich.console import Console
    from rich.measure import Measurement
    from rich.table import Table

    console = Console(stderr=True)
    if not console.is_terminal:
        for n in result.nodes:
            print(_line(n), file=sys.stderr)
        return
    table = Table(title=f"{result.name} ({result.uid})")
    for column in ("node", "template", "phase", "attempts", "seconds", "logs", "message"):
        table.add_column(column)
    for n in result.nodes:
        logs = pod_logs(n)
        table.add_row(n.name, n.template, f"[{COLOURS.get(n.phase, 'white')}]{n.phase}[/]", str(n.attempts or ""),
                      f"{n.duration:.1f}", f"{_shown(logs)}/" if logs is not None else "", n.message)
    unbounded = console.options.update_width(1_000_000)
    if Measurement.get(console, unbounded, table).maximum > console.width:  # some cell would be cut
        for n in result.nodes:
            console.print(_line(n), markup=False, highlight=False, soft_wrap=True)
        return
    console.print(table)
