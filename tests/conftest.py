"""Shared fixtures: a throw-away project directory holding the examples, and the real CLI in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
RUNNABLE = [sys.executable, "-m", "runnable"]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run_cli(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 240) -> Result:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNABLE_PRM_", "RUNNABLE_VAR_"))}
    full_env.pop("RUNNABLE_CONFIGURATION_FILE", None)
    full_env["PYTHONPATH"] = str(cwd)
    full_env.update(env or {})
    proc = subprocess.run([*RUNNABLE, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project directory with the examples, as a user who cloned the repo has it."""
    shutil.copytree(REPO / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


@pytest.fixture
def cli(project: Path):
    def call(*args: str, env: dict[str, str] | None = None) -> Result:
        return run_cli(list(args), project, env)

    return call


def read_run_log(project: Path, run_id: str, folder: str = ".run_log_store") -> dict:
    """The run log as a user reads it, whichever file store wrote it."""
    import json

    path = project / folder / f"{run_id}.json"
    if path.exists():
        return json.loads(path.read_text())
    sys.path.insert(0, str(REPO))
    from extensions.run_log_stores.chunked_fs import ChunkedFileSystemRunLogStore

    cwd = os.getcwd()
    os.chdir(project)
    try:
        return ChunkedFileSystemRunLogStore(log_folder=folder).get_run_log(run_id).model_dump(mode="json")
    finally:
        os.chdir(cwd)


def matches(doc, real) -> bool:
    """What a page shows (``doc``) says what ``real`` holds: mappings key by key (``real`` may have more
    keys; a key ``...`` stands for the rest), lists item by item, scalars equal (or equal as text)."""
    if isinstance(doc, dict):
        if set(doc) == {"..."}:
            return True
        return isinstance(real, dict) and all(k == "..." or (k in real and matches(v, real[k])) for k, v in doc.items())
    if isinstance(doc, list):
        return isinstance(real, list) and len(doc) == len(real) and all(matches(d, r) for d, r in zip(doc, real))
    return doc == "..." or doc == real or (not isinstance(real, (dict, list)) and str(doc) == str(real))


def contains(tree, part) -> bool:
    """``part`` (a mapping, or a list of mappings) matches a mapping found somewhere in ``tree``: an excerpt
    of a YAML or JSON document as a page shows it."""
    if isinstance(part, list):
        return all(contains(tree, p) for p in part)
    stack = [tree]
    while stack:
        node = stack.pop()
        if matches(part, node):
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def ledger(folder: Path) -> Counter:
    """What ran since the last call: the lines the example steps append to ``folder/executed.log`` (the
    retry examples' proof of what ran in which run); the ledger is emptied."""
    path = folder / "executed.log"
    lines = path.read_text().splitlines() if path.exists() else []
    path.write_text("")
    return Counter(lines)


def shape(run_log: dict) -> dict:
    """What must agree between two runs of one pipeline (local and Argo, sequential and parallel)."""
    steps, branches = {}, {}
    stack = list(run_log["steps"].values())
    while stack:
        s = stack.pop()
        catalog = sorted((c["name"], c["stage"], "" if c["name"].endswith((".execution.log", ".ipynb"))
                          else c["data_hash"]) for c in s["data_catalog"])
        steps[s["internal_name"]] = (s["status"], s["step_type"], len(s["attempts"]), catalog,
                                     [a["status"] for a in s["attempts"]])
        for name, b in s["branches"].items():
            branches[name] = (b["status"], {k: v["value"] for k, v in b["parameters"].items() if v["kind"] != "object"})
            stack.extend(b["steps"].values())
    params = {k: (v["kind"], v["value"] if v["kind"] != "object" else "object") for k, v in run_log["parameters"].items()}
    return {"status": run_log["status"], "steps": steps, "branches": branches, "parameters": params}


def shell_map(command: str, *, returns: str | None = None, map_fields: str = "") -> str:
    """A pipeline of one map step, 'fan' over the parameter 'items' as 'item', whose branch is one shell
    step 'each' running ``command`` (``returns``: the name it exports; ``map_fields``: more YAML lines
    for the map step, e.g. its overrides)."""
    import json

    lines = ["dag:", "  start_at: fan", "  steps:", "    fan:", "      type: map", "      iterate_on: items",
             "      iterate_as: item", *[f"      {line}" for line in map_fields.splitlines()], "      next: success",
             "      branch:", "        start_at: each", "        steps:", "          each:", "            type: task",
             "            command_type: shell", f"            command: {json.dumps(command)}"]
    if returns:
        lines.append(f"            returns: [{returns}]")
    lines.append("            next: success")
    return "\n".join(lines) + "\n"


def pytest_configure(config):
    """Load the fidelity suite's summary line (tests/extensions/argo/fidelity/conftest.py) here as well:
    under pytest-xdist the controller, where every report arrives, loads only this conftest."""
    import importlib.util

    path = REPO / "tests" / "extensions" / "argo" / "fidelity" / "conftest.py"
    spec = importlib.util.spec_from_file_location("fidelity_summary", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config.pluginmanager.register(module, "fidelity-summary")
