"""Iterations of a map step run in batches: several iterations by one process, one after another.

An executor that starts a process per unit of work (argo: a pod) runs a wide map in batches so that it
needs a few processes, not one per iteration. A batch is written as ranges of iteration indexes
(``0-399``, or ``4,17`` when a retry re-runs two iterations): small whatever the items are, as it
travels through the executor's own machinery (Argo's ``withParam``).

Each iteration is still its own branch in the run log. A batch run again (its process retried) leaves
alone the iterations that succeeded and *resumes* the others: their steps that succeeded are kept, the
rest get further attempts, numbered on from the ones recorded (``resuming``). Only the last try follows a
failure where the pipeline routes it (``provisional``).

In a retry (``runnable retry``) the iterations that succeeded in the original run are carried over, not run:
their step logs copied into the new run, marked reused. The pod that opens a map of at most
:data:`CARRY_OVER_AT_MOST` iterations does that itself (a few seconds), so that only the others are batched; a
wider map is batched as in the original run and each batch pod carries over the iterations of its batch that
succeeded, in parallel (one pod carried over 10,000 iterations in 56 s on a 2-core machine: ten minutes for
100,000).
"""

from __future__ import annotations

from contextvars import ContextVar

from .errors import RunnableError

#: In a retry, a map of at most this many iterations has those that succeeded carried over by the pod opening it
CARRY_OVER_AT_MOST = 500
#: True while an iteration attempted before by this run is run again (a retried batch)
resuming: ContextVar[bool] = ContextVar("resuming", default=False)
#: True in a try of a batch that will be made again if an iteration fails (an Argo batch pod with retries left): a
#: failing iteration stops at the step that failed, for the next try to resume, instead of following the failure
#: (``on_failure``, the ``fail`` step), whose records the next try, if it succeeds, could not take back
provisional: ContextVar[bool] = ContextVar("provisional", default=False)


def encode(indexes: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2,5"``."""
    parts: list[str] = []
    start = previous = None
    for index in indexes:
        if previous is not None and index == previous + 1:
            previous = index
            continue
        if start is not None:
            parts.append(f"{start}-{previous}" if previous != start else str(start))
        start = previous = index
    if start is not None:
        parts.append(f"{start}-{previous}" if previous != start else str(start))
    return ",".join(parts)


def decode(text: str) -> list[int]:
    """``"0-2,5"`` -> ``[0, 1, 2, 5]``; a mistake is one line naming ``--iterations``."""
    indexes: list[int] = []
    try:
        for part in text.split(","):
            low, sep, high = part.strip().partition("-")
            first, last = int(low), int(high) if sep else int(low)
            if first < 0 or last < first:
                raise ValueError
            indexes.extend(range(first, last + 1))
    except ValueError:
        raise RunnableError(f"'{text}' is not a list of iteration ranges such as 0-99,120", field="--iterations") \
            from None
    return indexes


def form(pending: list[int], *, size: int | None, above: int | None) -> list[list[int]] | None:
    """The batches ``pending`` iterations run in: of ``size`` each; or, with ``above``, in at most ``above`` batches
    of equal size once there are more than ``above`` iterations. None: one process per iteration."""
    if size is None:
        if above is None or len(pending) <= above:
            return None
        size = -(-len(pending) // above)
    return [pending[i:i + size] for i in range(0, len(pending), size)]
