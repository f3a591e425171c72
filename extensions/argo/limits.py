"""Argo v4's size limits on a Workflow, and how a long graph is cut to stay within them.

Since v4.0 the full CRDs are installed by default (Argo's docs/installation.md), and they carry the list
limits of pkg/apis/workflow/v1alpha1/workflow_types.go, set "to limit CEL validation costs": the API
server refuses a Workflow with more than 200 templates (``WorkflowSpec.Templates``,
``+kubebuilder:validation:MaxItems=200``) or a DAG template with more than 200 tasks
(``DAGTemplate.Tasks``, ``MaxItems=200``) before the controller ever sees it.

So a graph whose tasks do not fit in one DAG is cut into consecutive *parts*, each a DAG template of its
own, run one after the other. A cut is only made where the pipeline itself narrows to one step: every
route (``next`` or ``on_failure``) that leaves the part before the cut leads to the first step after it.
The part before the cut then ends, as a DAG, Succeeded exactly when the pipeline reaches that step, so
``<next part>.Succeeded`` is the only wiring the parts need. Routes to the ``fail`` step end the run
wherever they are; a route to ``success`` ends it too, so no cut is made after a step that has one.
"""

from __future__ import annotations

from typing import Sequence

MAX_DAG_TASKS = 200  # workflow_types.go DAGTemplate.Tasks: +kubebuilder:validation:MaxItems=200
MAX_TEMPLATES = 200  # workflow_types.go WorkflowSpec.Templates: +kubebuilder:validation:MaxItems=200
# A map's iterations are nodes of the Workflow's status (an iteration of a one-step branch: its DAG and its pod,
# each a NodeStatus of ~0.5-1 kB: workflow_types.go NodeStatus), and the whole object is held to 1 MiB before the
# controller compresses or offloads its nodes (workflow/packer/packer.go getMaxWorkflowSize, MAX_WORKFLOW_SIZE).
# Unless a map step's batch_size says otherwise, a map with more iterations than this runs them in at most this
# many batch pods (the emulator's status estimate: about 0.4 MiB for 500 batch pods).
AUTO_BATCH_ABOVE = 500


class CannotSplit(ValueError):
    """No cut keeps a part within the limit: ``position`` is where the part that is too large starts."""

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


def clean_cuts(count: int, edges: Sequence[tuple[int, int]]) -> list[bool]:
    """``cuts[p]`` (0 < p < count): may the steps at positions < p and >= p run as separate parts?

    ``edges`` are routes as (from position, to position) in a topological order; a route to ``success``
    is (u, count) and routes to ``fail`` are left out. A cut at p is clean when no route jumps over it:
    none with from < p < to. Linear: each route marks the span it jumps over once, by differences.
    """
    jumps = [0] * (count + 1)
    for source, target in edges:
        if target - source > 1:
            jumps[source + 1] += 1
            jumps[target] -= 1
    cuts, open_jumps = [False] * (count + 1), 0
    for p in range(count + 1):
        open_jumps += jumps[p]
        cuts[p] = 0 < p < count and open_jumps == 0
    return cuts


def split(costs: Sequence[int], cuts: Sequence[bool], capacity: int) -> list[int]:
    """Where parts start (always 0 first): greedy, each part as long as fits ``capacity`` (in tasks)."""
    starts, start, used = [0], 0, 0
    last_cut: tuple[int, int] | None = None  # the latest clean cut in this part, and the tasks before it
    for position, cost in enumerate(costs):
        if position > start and cuts[position]:
            last_cut = (position, used)
        while used + cost > capacity:
            if last_cut is None:
                raise CannotSplit(start)
            start, before = last_cut
            starts.append(start)
            used -= before
            last_cut = (position, used) if position > start and cuts[position] else None
        used += cost
    return starts


def chunks(count: int, size: int) -> list[range]:
    """``range(count)`` in consecutive pieces of at most ``size``."""
    return [range(i, min(i + size, count)) for i in range(0, count, size)]
