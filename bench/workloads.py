"""The benchmark's pipelines, written for us and (where it differs) for runnable 0.50.

Both take the same YAML pipeline format except for ``returns``: 0.50 wants ``{name, kind}`` mappings,
so the pipelines are generated in that spelling, which we accept too. Only the peer's configuration
files differ (see :func:`peer_argo_config`).
"""

from __future__ import annotations

import json
from pathlib import Path

FUNCTIONS = '''
def noop():
    return None


def items(count: int = 10):
    return list(range(count))


def each(item: int):
    return item
'''


def _task(command: str, nxt: str, *, shell: bool = False, returns: list[str] = ()) -> dict:
    step = {"type": "task", "command": command, "next": nxt}
    if shell:
        step["command_type"] = "shell"
    if returns:
        step["returns"] = [{"name": r, "kind": "json"} for r in returns]
    return step


def sequential(n: int, kind: str) -> dict:
    """n steps in a row: stubs, python tasks or shell tasks."""
    steps = {}
    for i in range(n):
        nxt = f"step {i + 1}" if i < n - 1 else "success"
        if kind == "stub":
            steps[f"step {i}"] = {"type": "stub", "next": nxt}
        elif kind == "python":
            steps[f"step {i}"] = _task("benchfuncs.noop", nxt)
        else:
            steps[f"step {i}"] = _task("true", nxt, shell=True)
    return {"dag": {"start_at": "step 0", "steps": steps}}


def map_over(m: int) -> dict:
    """A map over m items with a one-step (python task) branch."""
    return {"dag": {"start_at": "make", "steps": {
        "make": _task("benchfuncs.items", "fan", returns=["items"]),
        "fan": {"type": "map", "iterate_on": "items", "iterate_as": "item", "next": "success",
                "branch": {"start_at": "each", "steps": {"each": _task("benchfuncs.each", "success")}}},
    }}}


def batched(pipeline: dict, override: str) -> dict:
    """``pipeline`` (a :func:`map_over`) with its map step naming the argo override ``override``."""
    steps = dict(pipeline["dag"]["steps"])
    steps["fan"] = {**steps["fan"], "overrides": {"argo": override}}
    return {"dag": {**pipeline["dag"], "steps": steps}}


def parallel_of(b: int) -> dict:
    branches = {f"b{i}": {"start_at": "x", "steps": {"x": {"type": "stub", "next": "success"}}} for i in range(b)}
    return {"dag": {"start_at": "par", "steps": {"par": {"type": "parallel", "next": "success", "branches": branches}}}}


def nested(width: int = 3) -> dict:
    """Depth 3: a map, in a parallel of two branches, in a map (width x 2 x width python tasks)."""
    inner = {"start_at": "inner", "steps": {"inner": {
        "type": "map", "iterate_on": "items", "iterate_as": "inner_item", "next": "success",
        "branch": {"start_at": "each", "steps": {"each": _task("benchfuncs.noop", "success")}}}}}
    return {"dag": {"start_at": "make", "steps": {
        "make": _task("benchfuncs.items", "outer", returns=["items"]),
        "outer": {"type": "map", "iterate_on": "items", "iterate_as": "item", "next": "success",
                  "branch": {"start_at": "sides", "steps": {"sides": {
                      "type": "parallel", "next": "success", "branches": {"a": inner, "b": inner}}}}},
    }}}


def sleeping_map(m: int, seconds: float) -> dict:
    return {"dag": {"start_at": "fan", "steps": {"fan": {
        "type": "map", "iterate_on": "items", "iterate_as": "item", "next": "success",
        "branch": {"start_at": "nap", "steps": {"nap": _task(f"sleep {seconds}", "success", shell=True)}}}}}}


def write(folder: Path, name: str, pipeline: dict, parameters: dict | None = None) -> tuple[Path, Path | None]:
    """Write a pipeline (JSON is YAML) and its parameters; the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "benchfuncs.py").write_text(FUNCTIONS)
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(pipeline))
    params = None
    if parameters is not None:
        params = folder / f"{name}.params.yaml"
        params.write_text(json.dumps(parameters))
    return path, params


def our_argo_config(folder: Path, overrides: dict | None = None) -> Path:
    """Our argo configuration; ``overrides``: the executor's named overrides (a map's ``batch_size``)."""
    path = folder / "argo-ours.yaml"
    path.write_text(json.dumps({
        "pipeline-executor": {"type": "argo", "config": {
            "image": "registry.example.com/bench:1", "output_file": "out.yaml",
            "persistent_volumes": [{"name": "runnable", "mount_path": "/mnt"}], "overrides": overrides or {}}},
        "run-log-store": {"type": "chunked-fs", "config": {"log_folder": "/mnt/run_log_store"}},
        "catalog": {"type": "file-system", "config": {"catalog_location": "/mnt/catalog"}},
    }))
    return path


def peer_argo_config(folder: Path) -> Path:
    """The same intent in runnable 0.50's own argo configuration format."""
    path = folder / "argo-peer.yaml"
    path.write_text(json.dumps({
        "pipeline-executor": {"type": "argo", "config": {
            "pvc_for_runnable": "runnable", "output_file": "out.yaml",
            "defaults": {"image": "registry.example.com/bench:1"},
            "argoWorkflow": {"metadata": {"generateName": "bench-"}, "spec": {}}}},
    }))
    return path
