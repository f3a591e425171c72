"""Run Argo's own test workflows in the emulator and read the result the way Argo's Go tests read theirs.

The workflows come from Argo's repository (see README.md); this harness is ours. Argo's e2e workflows use
the image ``argoproj/argosay:v2``; its containers are pointed at ``argosay`` beside this file, our own
script with the same sub-commands, so the workflows run unchanged otherwise.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path

from ruamel.yaml import YAML

from extensions.argo.emulation import Emulator
from extensions.argo.emulation.engine import EmulationResult, display_name

ARGO_TESTS = "https://github.com/argoproj/argo-workflows (v4.1)"
ARGOSAY = Path(__file__).resolve().parent / "argosay"


def load(manifest: str | dict) -> dict:
    """A manifest from YAML text (as in Argo's test files) or a copy of a mapping."""
    if isinstance(manifest, str):
        return YAML(typ="safe").load(io.StringIO(manifest))
    return copy.deepcopy(manifest)


def _use_our_argosay(manifest: dict) -> None:
    """argosay's entrypoint becomes ours; ``cowsay`` (docker/whalesay, in Argo's controller tests) becomes
    ``argosay echo``, which prints its one argument as cowsay would print it in a balloon."""
    for tmpl in (manifest.get("spec") or {}).get("templates") or []:
        for kind in ("container", "script"):
            container = tmpl.get(kind)
            if not container:
                continue
            command = container.get("command")
            if command == ["cowsay"]:
                container["command"] = [str(ARGOSAY), "echo"]
            elif str(container.get("image", "")).startswith("argoproj/argosay") and command in (None, [], ["/argosay"]):
                container["command"] = [str(ARGOSAY)]


def run_workflow(tmp_path: Path, manifest: str | dict, *, parameters: dict | None = None,
                 **emulator_kwargs) -> EmulationResult:
    """Emulate ``manifest`` (YAML text or mapping) with argosay pods; backoff waits are skipped by default."""
    document = load(manifest)
    _use_our_argosay(document)
    project = tmp_path / "project"
    project.mkdir(parents=True, exist_ok=True)
    emulator_kwargs.setdefault("backoff_scale", 0.0)
    return Emulator(document, project_dir=project, state_dir=tmp_path / "state",
                    parameters={k: str(v) for k, v in (parameters or {}).items()}, **emulator_kwargs).run()


def node_phases(result: EmulationResult) -> dict[str, str]:
    """Display name -> phase of every node, as Argo's tests read ``status.Nodes.FindByDisplayName``."""
    return {display_name(result.nodes, result.name, n.name): n.phase for n in result.nodes}


def node_messages(result: EmulationResult) -> dict[str, str]:
    return {display_name(result.nodes, result.name, n.name): n.message for n in result.nodes}


def pod_stdout(result: EmulationResult, display: str) -> str:
    """What the pod of the node with this display name printed (its last attempt)."""
    [node] = [n for n in result.nodes if display_name(result.nodes, result.name, n.name) == display]
    return (node.log / "stdout.log").read_text()
