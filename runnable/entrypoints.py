"""What each command does, from its arguments to the executor: CLI -> context -> executor.

The CLI only parses arguments and reports; the SDK calls these functions too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .errors import RunnableError


def build_context(*, graph, config, run_id: str, pipeline_file: str | None, parameters_file: str | None = None,
                  tag: str = "", original_run_id: str = ""):
    from .context import RunContext
    from .service import build_service

    project_dir = Path.cwd()
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    ctx = RunContext(
        run_id=run_id, graph=graph, config=config,
        executor=build_service("pipeline_executor", config),
        run_log_store=build_service("run_log_store", config),
        catalog=build_service("catalog", config),
        secrets=build_service("secrets", config),
        pipeline_file=pipeline_file, parameters_file=parameters_file, tag=tag, project_dir=project_dir,
        original_run_id=original_run_id,
    )
    return ctx.activate()


def _prepare(pipeline_file: str, config_file: str | None, run_id: str | None, *, definition: Any = None):
    from .config import load_configuration
    from .context import new_run_id
    from .graph import build_pipeline, load_pipeline
    from .run_log_store import check_run_id

    config = load_configuration(config_file)
    graph = build_pipeline(definition, file=pipeline_file) if definition is not None else load_pipeline(pipeline_file)
    run_id = check_run_id(run_id) if run_id else new_run_id()
    return config, graph, run_id


def execute(pipeline_file: str, *, config_file: str | None = None, parameters_file: str | None = None,
            run_id: str | None = None, tag: str = "", definition: Any = None):
    """Run a pipeline (or, with a describing executor such as argo, write what would run it)."""
    from .parameters import initial_parameters

    config, graph, run_id = _prepare(pipeline_file, config_file, run_id, definition=definition)
    parameters = initial_parameters(parameters_file)
    ctx = build_context(graph=graph, config=config, run_id=run_id, pipeline_file=pipeline_file,
                        parameters_file=parameters_file, tag=tag)
    status = ctx.executor.execute_pipeline(ctx, parameters)
    return ctx, status


def parse_map_variable(text: str | None) -> dict[str, int]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunnableError(f"not valid JSON: {exc.msg}", field="--map-variable") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
                                              and v >= 0 for k, v in value.items()):
        raise RunnableError('must be a JSON object of iteration indexes, e.g. {"chunk": 3}', field="--map-variable")
    return value


def _pod_context(run_id: str, pipeline_file: str, config_file: str | None):
    from .config import load_configuration
    from .graph import load_pipeline
    from .run_log_store import check_run_id

    config = load_configuration(config_file)
    graph = load_pipeline(pipeline_file)
    return build_context(graph=graph, config=config, run_id=check_run_id(run_id), pipeline_file=pipeline_file)


def execute_single_node(run_id: str, step: str, pipeline_file: str, *, config_file: str | None = None,
                        map_variable: str | None = None, attempt: int | None = None) -> str:
    """Run one step of an existing run (what every Argo pod does); returns the step's status."""
    ctx = _pod_context(run_id, pipeline_file, config_file)
    node = ctx.graph.find(step)
    return ctx.executor.execute_single_node(ctx, node, parse_map_variable(map_variable), attempt)


def fan(run_id: str, step: str, mode: str, pipeline_file: str, *, config_file: str | None = None,
        map_variable: str | None = None) -> Any:
    """Open (``out``) or close (``in``) a parallel, map or dag step of an existing run."""
    ctx = _pod_context(run_id, pipeline_file, config_file)
    node = ctx.graph.find(step)
    if not node.is_composite:
        raise RunnableError(f"'{step}' is a {node.type} step; only parallel, map and dag steps fan out", step=step)
    mv = parse_map_variable(map_variable)
    if mode == "out":
        return ctx.executor.fan_out(ctx, node, mv)
    return ctx.executor.fan_in(ctx, node, mv)
