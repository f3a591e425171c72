"""Re-running a failed run from its run log.

The new run has its own run id and records ``original_run_id``. Steps that succeeded in the original
run are not executed again: their step logs are carried over (marked ``reused``) and what they
returned is put back into the parameters, so later steps see exactly what they saw the first time.
Parallel, map and dag steps are opened and closed again, so only the branches and iterations that
failed or never ran do any work. The original run's catalog is copied to the new run first.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import run_log as dm
from .errors import RunnableError

if TYPE_CHECKING:
    from .context import RunContext


def _steps_of(definition: dict, prefix: str = "") -> dict[str, str]:
    """Every step of a definition (branches included) by path, with its own fields."""
    out: dict[str, str] = {}
    stack = [(prefix, (definition or {}).get("dag") or {})]
    while stack:
        where, graph = stack.pop()
        for name, step in (graph.get("steps") or {}).items():
            path = f"{where}.{name}" if where else name
            step = dict(step or {})
            for key in ("branch", "branches"):
                inner = step.pop(key, None)
                if key == "branch" and isinstance(inner, dict):
                    stack.append((path, inner))
                elif isinstance(inner, dict):
                    stack.extend((f"{path}.{b}", g) for b, g in inner.items() if isinstance(g, dict))
            out[path] = json.dumps(step, sort_keys=True, default=str)
    return out


def describe_change(before: dict, after: dict) -> str:
    old, new = _steps_of(before), _steps_of(after)
    parts = [f"step '{s}' added" for s in new if s not in old][:3]
    parts += [f"step '{s}' removed" for s in old if s not in new][:3]
    parts += [f"step '{s}' changed" for s in new if s in old and new[s] != old[s]][:3]
    return ", ".join(parts) or "a nested pipeline file or the order of steps changed"


def prepare(ctx: "RunContext", original_run_id: str, *, force: bool = False) -> dict[str, dm.Parameter]:
    """Check the original run can be retried with this pipeline; its initial parameters. (Its catalog is
    copied once the retry has claimed its run id: ``BasePipelineExecutor.start_run``.)"""
    store = ctx.run_log_store
    try:
        original = store.get_run_log_header(original_run_id)
    except (OSError, ValueError) as exc:
        raise RunnableError(f"the run log of '{original_run_id}' cannot be read: {exc}", field="run_id") from None
    if original.status == dm.SUCCESS:
        raise RunnableError(f"run '{original_run_id}' succeeded: there is nothing to retry", field="run_id")
    if original.status == dm.CREATED:
        raise RunnableError(f"run '{original_run_id}' never started: run the pipeline instead", field="run_id")
    run_config = store.get_run_config(original_run_id)
    if original.dag_hash != ctx.graph.dag_hash and not force:
        change = describe_change(run_config.get("dag") or {}, ctx.graph.definition)
        raise RunnableError(f"the pipeline changed since run '{original_run_id}' ({change}); retry with --force "
                            f"to run it anyway", file=ctx.pipeline_file)
    if "initial_parameters" not in run_config:
        raise RunnableError(f"run '{original_run_id}' does not record its initial parameters", field="run_id")
    return {k: dm.Parameter.model_validate(v) for k, v in run_config["initial_parameters"].items()}


def reusable(ctx: "RunContext", node, map_variable) -> tuple[dm.StepLog, dict[str, dm.Parameter]] | None:
    """A step that succeeded in the original run: its step log to carry over (marked ``reused``) and what
    it returned; None when it has to run."""
    if not ctx.original_run_id or node.is_composite or node.is_terminal:
        return None
    try:
        original = ctx.run_log_store.step_log_or_none(ctx.original_run_id, node.internal_name(map_variable))
    except RunnableError:
        return None
    if original is None or original.status != dm.SUCCESS:
        return None
    done = [a for a in original.attempts if a.status == dm.SUCCESS]
    returned = dict(done[-1].output_parameters) if done else {}
    return original.model_copy(update={"reused": True, "branches": {}}), returned


def initial_parameters_record(parameters: dict[str, dm.Parameter]) -> dict[str, Any]:
    return {k: v.model_dump(mode="json") for k, v in parameters.items()}
