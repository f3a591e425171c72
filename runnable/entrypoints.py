"""What each command does, from its arguments to the executor: CLI -> context -> executor.

The CLI only parses arguments and reports; the SDK calls these functions too. Each command builds the
run context once, with everything that identifies the run (retrying which run, named by the user or
not), from its arguments, its configuration and, for a step's pod, the run log.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .errors import PipelineDefinitionError, RunnableError


def _services(config) -> dict[str, Any]:
    """The executor, stores and secrets manager the configuration names (project modules importable first)."""
    from .service import build_service

    project_dir = str(Path.cwd())
    if project_dir not in sys.path:
        sys.path.insert(0, project_dir)
    return {"executor": build_service("pipeline_executor", config),
            "run_log_store": build_service("run_log_store", config),
            "catalog": build_service("catalog", config),
            "secrets": build_service("secrets", config)}


def build_context(*, graph, config, run_id: str, pipeline_file: str | None, parameters_file: str | None = None,
                  tag: str = "", services: dict[str, Any] | None = None, original_run_id: str = "",
                  force_retry: bool = False, run_id_chosen: bool = False, observer=None):
    """The run context with its final identity; nothing changes it afterwards. ``observer``: what is told
    of the run as it goes (the console's progress display; default: nothing)."""
    from .context import RunContext

    ctx = RunContext(run_id=run_id, graph=graph, config=config, **(services or _services(config)),
                     pipeline_file=pipeline_file, parameters_file=parameters_file, tag=tag, project_dir=Path.cwd(),
                     original_run_id=original_run_id, force_retry=force_retry, run_id_chosen=run_id_chosen,
                     observer=observer)
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
            imports: bool = True,
            run_id: str | None = None, tag: str = "", definition: Any = None, observer=None):
    """Run a pipeline (or, with a describing executor such as argo, write what would run it).

    The ``retry`` executor's configuration names a run to retry: the run is then that retry. Pre-flight
    checks (:mod:`runnable.preflight`) run first; ``imports``: python code is imported and bound there.
    """
    from .parameters import initial_parameters

    chosen = bool(run_id)
    config, graph, run_id = _prepare(pipeline_file, config_file, run_id, definition=definition)
    parameters = initial_parameters(parameters_file)
    services = _services(config)
    original_run_id, force = services["executor"].retries_run() or ("", False)
    ctx = build_context(graph=graph, config=config, run_id=run_id, pipeline_file=pipeline_file,
                        parameters_file=parameters_file, tag=tag, services=services, original_run_id=original_run_id,
                        force_retry=force, run_id_chosen=chosen, observer=observer)
    return ctx, _run(ctx, parameters, imports=imports)


def _run(ctx, parameters, *, imports: bool = True) -> str | None:
    """Run here (a retry starts from its original run) and return the status; or write what will run it.

    Either way the pre-flight checks run first: a mistake they find stops everything before the run starts.
    """
    from .preflight import check

    if not ctx.executor.runs_locally:  # a retry's original run log is in the cluster: pods check it at start
        check(ctx.graph, None if ctx.original_run_id else parameters, imports=imports, project_dir=ctx.project_dir)
        ctx.executor.check_run(ctx)
        ctx.executor.describe_run(ctx, parameters)
        return None
    if ctx.original_run_id:
        from . import retry as retrying

        parameters = retrying.prepare(ctx, ctx.original_run_id, force=ctx.force_retry)
    check(ctx.graph, parameters, imports=imports, project_dir=ctx.project_dir)
    ctx.executor.check_run(ctx)
    return ctx.executor.execute_pipeline(ctx, parameters)


def validate(pipeline_file: str, *, config_file: str | None = None, parameters_file: str | None = None,
             imports: bool = True):
    """Load the pipeline, configuration and parameters and run the pre-flight checks; nothing runs.
    Returns the pre-flight (what it checked); a problem raises :class:`~runnable.preflight.PreflightError`."""
    from .parameters import initial_parameters
    from .preflight import check

    config, graph, run_id = _prepare(pipeline_file, config_file, None)
    parameters = initial_parameters(parameters_file)
    services = _services(config)  # the services the configuration names must build
    checked = check(graph, parameters, imports=imports)
    ctx = build_context(graph=graph, config=config, run_id=run_id, pipeline_file=pipeline_file,
                        parameters_file=parameters_file, services=services)
    services["executor"].check_run(ctx)  # what the executor would refuse before its first step
    return checked


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


def _pod_step(run_id: str, step: str, pipeline_file: str, config_file: str | None, map_variable: str | None):
    """A pod's context and step, its arguments checked before the run log says whether this is a retry."""
    mv = parse_map_variable(map_variable)
    ctx, node = _pod_context(run_id, pipeline_file, config_file, step=step)
    return ctx, node, mv


def _pod_context(run_id: str, pipeline_file: str, config_file: str | None, *, step: str | None = None,
                 original_run_id: str = "", force: bool = False):
    """The context of a pod, and its ``step`` if it runs one. A pod that starts or ends a run does not read
    the run log here; a step's pod reads from it whether the run is a retry, and the pipeline the run started
    with (:func:`_run_pipeline`)."""
    from .config import load_configuration
    from .graph import load_pipeline
    from .errors import RunLogNotFoundError
    from .run_log_store import check_run_id

    config = load_configuration(config_file)
    if step is None:
        graph = load_pipeline(pipeline_file)
    run_id = check_run_id(run_id)
    services = _services(config)
    node = observer = None
    if step is not None:  # a step's pod: its run is a retry if the run log says so
        from .progress import pod_reporter

        try:
            header = services["run_log_store"].get_run_log_header(run_id)
        except RunLogNotFoundError:  # a mistake in the pod's own arguments is named first
            load_pipeline(pipeline_file).find(step)
            raise
        graph = _run_pipeline(pipeline_file, run_id, header.dag_hash, services["run_log_store"])
        node = graph.find(step)
        original_run_id = header.original_run_id
        observer = pod_reporter()  # its step's lines in the pod's log
    ctx = build_context(graph=graph, config=config, run_id=run_id, pipeline_file=pipeline_file, services=services,
                        original_run_id=original_run_id, force_retry=force, observer=observer)
    return ctx, node


def _run_pipeline(pipeline_file: str, run_id: str, dag_hash: str, store):
    """The pipeline a step's pod runs: the run log's record of it when the files it was read from are unchanged
    (its steps then built only as asked for: the run checked the whole when it started); else the file read
    again, refused if it is not the pipeline the run started with (``dag_hash``)."""
    from .graph import load_pipeline, recorded_pipeline

    try:
        run_config = store.get_run_config(run_id)
    except NotImplementedError:  # a store that keeps no run configuration
        run_config = {}
    graph = recorded_pipeline(pipeline_file, run_config, dag_hash)
    if graph is not None:
        return graph
    graph = load_pipeline(pipeline_file)
    if dag_hash and graph.dag_hash != dag_hash:
        from .retry import describe_change

        change = describe_change(run_config.get("dag") or {}, graph.definition)
        raise PipelineDefinitionError(f"the pipeline changed since run '{run_id}' started ({change}): its steps run "
                                      f"only the pipeline it started with; start a new run", file=pipeline_file)
    return graph


def retry(original_run_id: str, pipeline_file: str, *, config_file: str | None = None, run_id: str | None = None,
          force: bool = False, tag: str = "", observer=None):
    """Re-run a failed run: what succeeded is reused, the rest runs (or, with argo, a manifest that does so)."""
    from .run_log_store import check_run_id

    check_run_id(original_run_id)
    chosen = bool(run_id)
    config, graph, run_id = _prepare(pipeline_file, config_file, run_id)
    if run_id == original_run_id:
        raise RunnableError("the new run needs its own run id", field="--run-id")
    ctx = build_context(graph=graph, config=config, run_id=run_id, pipeline_file=pipeline_file, tag=tag,
                        original_run_id=original_run_id, force_retry=force, run_id_chosen=chosen, observer=observer)
    return ctx, _run(ctx, {})


def execute_single_node(run_id: str, step: str, pipeline_file: str, *, config_file: str | None = None,
                        map_variable: str | None = None, attempt: int | None = None) -> bool:
    """Run one step of an existing run (what every Argo pod does); True when the pod succeeded."""
    ctx, node, mv = _pod_step(run_id, step, pipeline_file, config_file, map_variable)
    return ctx.executor.execute_single_node(ctx, node, mv, attempt)


def fan(run_id: str, step: str, mode: str, pipeline_file: str, *, config_file: str | None = None,
        map_variable: str | None = None, iterations_file: str | None = None, batches_file: str | None = None,
        batch_size: int | None = None, batch_above: int | None = None) -> bool:
    """Open (``out``) or close (``in``) a parallel, map or dag step of an existing run.

    Opening writes the branches to run to ``iterations_file`` as a JSON list of map variables (what
    Argo's ``withParam`` fans out over); closing records the step's status from its branches.
    With ``batches_file`` a map's iterations may run in batches instead (:mod:`runnable.batches`: of
    ``batch_size``, or automatically above ``batch_above`` iterations): the batches, as ranges of
    iterations, go there and the iteration list is empty. In a retry, of a map of at most
    ``batches.CARRY_OVER_AT_MOST`` iterations only those that did not succeed in the original run are
    batched (the others are carried over here); a wider map's batch pods carry over theirs.
    """
    ctx, node, mv = _pod_step(run_id, step, pipeline_file, config_file, map_variable)
    if not node.is_composite:
        raise RunnableError(f"'{step}' is a {node.type} step; only parallel, map and dag steps fan out", step=step)
    if mode == "in":
        return ctx.executor.fan_in_single(ctx, node, mv)
    branches = ctx.executor.fan_out_single(ctx, node, mv)
    runs = branches if node.type == "map" else []
    batches = None
    if batches_file:
        from . import batches as batching

        if len(runs) <= batching.CARRY_OVER_AT_MOST:
            runs = ctx.executor.carry_over(ctx, runs)
        batches = batching.form([r.iteration for r in runs], size=batch_size, above=batch_above)
        _write_json(batches_file, [batching.encode(b) for b in batches or []])
    if iterations_file:
        _write_json(iterations_file, [] if batches else [json.dumps(b.map_variable, separators=(",", ":"))
                                                         for b in runs])
    return True


def _write_json(file: str, value: Any) -> None:
    path = Path(file)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


def execute_batch(run_id: str, step: str, pipeline_file: str, *, iterations: str, config_file: str | None = None,
                  map_variable: str | None = None, retries: int | None = None) -> bool:
    """Run some iterations of an opened map step, one after another (an Argo batch pod); True when all succeeded."""
    from .batches import decode

    indexes = decode(iterations)
    ctx, node, mv = _pod_step(run_id, step, pipeline_file, config_file, map_variable)
    if node.type != "map":
        raise RunnableError(f"'{step}' is a {node.type} step; only a map step's iterations run in batches", step=step)
    return ctx.executor.execute_batch(ctx, node, mv, indexes, retries)


def start_run(run_id: str, pipeline_file: str, *, config_file: str | None = None, parameters_file: str | None = None,
              overrides: list[str] = (), original_run_id: str | None = None, force: bool = False) -> None:
    """Create the run log of a run that pods will execute (Argo's first task).

    ``overrides`` are ``name=value`` pairs given at submit time; each value takes the type of the
    parameter in the parameters file (a value for an int parameter is read as an int).
    """
    from .run_log import Parameter
    from .parameters import initial_parameters

    ctx, _ = _pod_context(run_id, pipeline_file, config_file, original_run_id=original_run_id or "", force=force)
    if original_run_id:
        from . import retry as retrying

        if ctx.run_log_store.run_exists(ctx.run_id):  # this pod is a retry of the start pod
            return
        parameters = retrying.prepare(ctx, original_run_id, force=force)
    else:
        parameters = initial_parameters(parameters_file)
    for item in overrides:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise RunnableError(f"'{item}' is not name=value", field="--parameter")
        parameters[name] = Parameter(kind="json", value=_typed(text, parameters.get(name)))
    ctx.executor.start_run(ctx, parameters, exist_ok=True)


def _typed(text: str, like) -> Any:
    original = like.value if like is not None else None
    try:
        if isinstance(original, bool):
            return text.lower() in ("1", "true", "yes")
        if isinstance(original, int):
            return int(text)
        if isinstance(original, float):
            return float(text)
    except ValueError:
        raise RunnableError(f"'{text}' is not a {type(original).__name__}", field="--parameter") from None
    return text


def end_run(run_id: str, pipeline_file: str, *, config_file: str | None = None,
            workflow_status: str | None = None) -> str:
    ctx, _ = _pod_context(run_id, pipeline_file, config_file)
    return ctx.executor.end_run(ctx, workflow_status)
