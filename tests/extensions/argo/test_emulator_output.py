"""What `runnable emulate` prints and writes for a CI job: every node's full name and its pod's logs, whatever
the terminal's width, and the final status as JSON with --status-json."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
from datetime import datetime
from pathlib import Path

from ruamel.yaml import YAML

from argo_support import E2E_CONFIG, state_dir, transpile
from conftest import RUNNABLE, run_cli

# Argo's names for a node's status fields (NodeStatus, pkg/apis/workflow/v1alpha1/workflow_types.go ~line 2548)
ARGO_NODE_FIELDS = ("name", "displayName", "type", "templateName", "phase", "message", "startedAt", "finishedAt")

WORKFLOW = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
    "metadata": {"name": "a-workflow-whose-name-is-longer-than-the-terminal"},
    "spec": {"entrypoint": "main", "templates": [
        {"name": "main", "dag": {"tasks": [
            {"name": "a-task-with-a-name-far-wider-than-forty-columns", "template": "say"},
            {"name": "loop", "template": "say", "withItems": ["an-item-value-that-is-long-too", "b"]},
            {"name": "breaks", "template": "boom"},
        ]}},
        {"name": "say", "container": {"image": "x", "command": ["/bin/sh", "-c", "echo said-by-the-pod"]}},
        {"name": "boom", "retryStrategy": {"limit": 1},
         "container": {"image": "x", "command": ["/bin/sh", "-c", "echo broken-on-stderr >&2; exit 3"]}},
    ]},
}
NAME = WORKFLOW["metadata"]["name"]
EXPECTED_NODES = [NAME, f"{NAME}.a-task-with-a-name-far-wider-than-forty-columns", f"{NAME}.loop",
                  f"{NAME}.loop(0:an-item-value-that-is-long-too)", f"{NAME}.loop(1:b)", f"{NAME}.breaks",
                  f"{NAME}.breaks(0)", f"{NAME}.breaks(1)"]
POD_NODES = [n for n in EXPECTED_NODES if n.endswith(("columns", "too)", "(1:b)", "(0)", "(1)"))]


def _manifest(project: Path) -> str:
    path = project / "workflow.yaml"
    YAML().dump(WORKFLOW, path)
    return path.name


def _in_terminal(project: Path, args: list[str], columns: int) -> str:
    """The command's stderr as a terminal of that width shows it."""
    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "PYTHONPATH": str(project), "TERM": "xterm"}
    proc = subprocess.Popen([*RUNNABLE, *args], cwd=project, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=child)
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=120)
    os.close(main)
    return re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode())


def _node_lines(stderr: str) -> dict[str, str]:
    """The node lines of the end-of-run output, by node name (a line starts with the node's phase)."""
    lines = re.findall(r"^(?:Succeeded|Failed|Error|Omitted|Skipped) +\S+ .*$", stderr, re.M)
    return {line.split()[1]: line for line in lines}


def _status(path: Path) -> dict:
    status = json.loads(path.read_text())
    for when in ("startedAt", "finishedAt"):
        datetime.strptime(status[when], "%Y-%m-%dT%H:%M:%SZ")
    for node in status["nodes"]:
        assert all(field in node for field in ARGO_NODE_FIELDS), node
        for when in ("startedAt", "finishedAt"):
            datetime.strptime(node[when], "%Y-%m-%dT%H:%M:%SZ")
    return status


def test_a_narrow_pipe_shows_every_full_name_and_pod_log_and_the_status_json_is_complete(project):
    manifest = _manifest(project)
    result = run_cli(["emulate", manifest, "--state-dir", "state", "--backoff-scale", "0", "--status-json",
                      "status.json"], project, {"COLUMNS": "40"})
    assert result.returncode == 1, result.stderr
    assert f"workflow {NAME}: Failed" in result.error_lines
    by_name = _node_lines(result.stderr)
    assert sorted(by_name) == sorted(EXPECTED_NODES)  # one line each, the name whole
    assert by_name[f"{NAME}.breaks(0)"].startswith("Failed ")
    assert by_name[f"{NAME}.breaks(0)"].endswith(" - main: Error (exit code 3)")
    assert by_name[f"{NAME}.breaks"].endswith("attempts 2 - No more retries left")

    status = _status(project / "status.json")
    assert (status["name"], status["phase"]) == (NAME, "Failed")
    nodes = {n["name"]: n for n in status["nodes"]}
    assert sorted(nodes) == sorted(EXPECTED_NODES)
    assert nodes[f"{NAME}.loop(1:b)"]["displayName"] == "loop(1:b)"
    assert (nodes[f"{NAME}.breaks"]["type"], nodes[f"{NAME}.breaks"]["attempts"]) == ("Retry", 2)
    assert nodes[f"{NAME}.breaks(1)"]["exitCode"] == "3"
    for name in POD_NODES:  # the logs the line points to are the pod's, and the JSON names the same files
        node = nodes[name]
        logs = re.search(r" logs (\S+)/", by_name[name]).group(1)
        assert Path(node["stdout"]) == (project / logs / "stdout.log").resolve()
        assert Path(node["stderr"]) == (project / logs / "stderr.log").resolve()
        assert node["podName"] == Path(logs).name
        expected = ("", "broken-on-stderr\n") if node["templateName"] == "boom" else ("said-by-the-pod\n", "")
        assert (Path(node["stdout"]).read_text(), Path(node["stderr"]).read_text()) == expected
    assert not any("stdout" in nodes[n] for n in EXPECTED_NODES if n not in POD_NODES)


def test_a_terminal_shows_a_table_only_when_every_cell_fits(project):
    manifest = _manifest(project)
    args = ["emulate", manifest, "--state-dir", "state", "--backoff-scale", "0"]
    narrow = _in_terminal(project, args, 40)
    for name in EXPECTED_NODES:
        assert re.search(rf"^\w+ +{re.escape(name)} \[", narrow, re.M), narrow
    assert "…" not in narrow and "┃" not in narrow
    wide = _in_terminal(project, args, 400)
    assert "┃ node" in wide and "…" not in wide
    for name in EXPECTED_NODES:
        assert f"│ {name} " in wide, wide
    assert len(re.findall(r"│ state/pods/[\w-]+/ ", wide)) == len(POD_NODES)


def test_a_runnable_pipeline_through_the_emulator(project):
    """The argo executor's manifest of the parallel example: every node, those in branches included, whole in a
    30-column pipe."""
    (project / "argo-e2e.yaml").write_text(E2E_CONFIG.format(store="file-system", extra=""))
    transpile(project, "examples/parallel.yaml", config="argo-e2e.yaml")
    (project / "secrets.yaml").write_text("api:\n  token: t\n")
    result = run_cli(["emulate", "argo-pipeline.yaml", "--secrets", "secrets.yaml", "--state-dir",
                      str(state_dir(project)), "--status-json", "out/status.json"], project, {"COLUMNS": "30"})
    assert result.returncode == 2
    assert result.error_lines == ["error: out/status.json: field '--status-json': cannot be written "
                                  "(No such file or directory)"]
    (project / "out").mkdir()
    result = run_cli(["emulate", "argo-pipeline.yaml", "--secrets", "secrets.yaml", "--state-dir",
                      str(state_dir(project)), "--status-json", "out/status.json"], project, {"COLUMNS": "30"})
    assert result.returncode == 0, result.stderr
    status = _status(project / "out" / "status.json")
    assert status["phase"] == "Succeeded"
    printed = list(_node_lines(result.stderr))
    assert printed == [n["name"] for n in status["nodes"]]
    assert max(len(name) for name in printed) > 30
    pods = [n for n in status["nodes"] if n["type"] == "Pod"]
    assert pods and all(Path(n["stdout"]).is_file() and Path(n["stderr"]).is_file() for n in pods)
