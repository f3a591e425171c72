"""docs/argo.md's examples, run as the page shows them.

The page marks its examples with an HTML comment before a code block:

* ``<!-- example: file NAME -->``: the block is a file of the project (written before any example runs);
* ``<!-- example: run -->``: a ``sh`` block, run by bash (``set -e``) in the project, with stand-ins for the
  cluster's tools on the PATH: ``argo submit FILE`` runs the manifest in ``runnable emulate``; ``argo template
  create`` / ``argo cron create`` keep the manifest, and ``argo submit --from workflowtemplate/NAME`` runs a kept
  template as the Workflow Argo makes of it (workflow/common/convert.go NewWorkflowFromWorkflowTemplate: a
  generateName of NAME-, the template's spec); ``docker build`` needs the page's Dockerfile; ``kubectl`` does
  nothing. Every manifest in the project is then checked against Argo's schema for its kind, hera's models
  and the rule checker;
* ``<!-- example: stderr -->`` after a run: lines its stderr holds (byte counts may differ);
* ``<!-- example: excerpt of FILE -->`` after a run: a YAML mapping that is part of FILE (a mapping in it
  with these keys and values);
* ``<!-- example: error -->``: ``$ command`` then the exact line it prints, with exit status 2. These commands
  run with ``RUNNABLE_VAR_argo_docker_image`` set, as after the page's ``export``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import REPO, contains
from extensions.argo.config import ArgoConfig

from test_argo_platform import valid

DOC = REPO / "docs" / "argo.md"
TEXT = DOC.read_text()
_BLOCK = re.compile(r"<!-- example: (?P<what>[^>]*?) -->\n```[^\n]*\n(?P<body>.*?)\n```", re.S)
IMAGE = "registry.example.com/team/project:1.4.2"


def _examples():
    files: dict[str, str] = {}
    runs: list[dict] = []
    errors: list[dict] = []
    for m in _BLOCK.finditer(TEXT):
        what, body = m.group("what").strip(), m.group("body") + "\n"
        line = TEXT.count("\n", 0, m.start()) + 1
        if what.startswith("file "):
            name = what.removeprefix("file ").strip()
            assert name not in files, f"docs/argo.md:{line}: file {name} is given twice"
            files[name] = body
        elif what == "run":
            runs.append({"line": line, "script": body, "stderr": [], "excerpts": []})
        elif what == "stderr":
            runs[-1]["stderr"].extend(body.splitlines())
        elif what.startswith("excerpt of "):
            runs[-1]["excerpts"].append((what.removeprefix("excerpt of ").strip(), body))
        elif what == "error":
            command, *expected = body.strip().splitlines()
            assert command.startswith("$ "), f"docs/argo.md:{line}: an error example starts with '$ command'"
            errors.append({"line": line, "command": command[2:], "expected": "\n".join(expected)})
        else:
            raise AssertionError(f"docs/argo.md:{line}: unknown example marker '{what}'")
    return files, runs, errors


FILES, RUNS, ERRORS = _examples()

ARGO = r'''#!{python}
"""A stand-in for the argo CLI (see test_argo_docs.py)."""
import subprocess, sys
from pathlib import Path
from ruamel.yaml import YAML

yaml = YAML(typ="safe")
kept = Path(".argo-kept")
args = sys.argv[1:]
if args[:2] in (["template", "create"], ["cron", "create"]):
    manifest = yaml.load(Path(args[2]).read_text())
    kind = "WorkflowTemplate" if args[0] == "template" else "CronWorkflow"
    if manifest.get("kind") != kind:
        sys.exit(f"argo {{args[0]}} create: {{args[2]}} is a {{manifest.get('kind')}}, not a {{kind}}")
    kept.mkdir(exist_ok=True)
    (kept / (manifest["metadata"]["name"] + ".yaml")).write_text(Path(args[2]).read_text())
    print(f"{{kind}} {{manifest['metadata']['name']}} created")
elif args[:1] == ["submit"]:
    rest = args[1:]
    if rest[0] == "--from":
        kind, _, name = rest[1].partition("/")
        assert kind == "workflowtemplate", kind
        template = yaml.load((kept / (name + ".yaml")).read_text())
        workflow = {{"apiVersion": template["apiVersion"], "kind": "Workflow",
                    "metadata": {{"generateName": name + "-"}}, "spec": template["spec"]}}
        Path(".argo-kept/submitted.yaml").write_text(__import__("json").dumps(workflow))
        manifest, rest = ".argo-kept/submitted.yaml", rest[2:]
    else:
        manifest, rest = rest[0], rest[1:]
    sys.exit(subprocess.call(["runnable", "emulate", manifest, *rest, "--state-dir", ".emulator",
                              "--backoff-scale", "0"]))
else:
    sys.exit(f"argo stand-in: {{' '.join(args)}} is not modelled")
'''

DOCKER = r'''#!/bin/sh
case "$1" in
  build) test -f Dockerfile || {{ echo "docker build: no Dockerfile" >&2; exit 1; }} ;;
  push) ;;
  *) echo "docker stand-in: $* is not modelled" >&2; exit 1 ;;
esac
'''


@pytest.fixture
def doc_project(project):
    for name, body in FILES.items():
        (project / name).write_text(body)
    tools = project / ".doc-bin"
    tools.mkdir()
    for name, text in (("argo", ARGO.format(python=sys.executable)), ("docker", DOCKER.format()),
                       ("kubectl", "#!/bin/sh\nexit 0\n")):
        (tools / name).write_text(text)
        (tools / name).chmod(0o755)
    git = ["git", "-c", "user.name=doc", "-c", "user.email=doc@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "project"], cwd=project, check=True)
    return project


def _bash(project: Path, script: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNABLE_", "PYTHONPATH"))}
    base.update(PYTHONPATH=str(project), PATH=f"{project / '.doc-bin'}:{Path(sys.executable).parent}:{base['PATH']}")
    return subprocess.run(["bash", "-e", "-c", script], cwd=project, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=600)


def _manifests(project: Path) -> dict[str, dict]:
    out = {}
    for path in project.glob("*.yaml"):
        document = YAML(typ="safe").load(path.read_text())
        if isinstance(document, dict) and str(document.get("apiVersion", "")).startswith("argoproj.io/"):
            out[path.name] = document
    return out


def _bytes(line: str) -> str:
    return re.sub(r"\d[\d,]* bytes", "N bytes", line)


@pytest.mark.parametrize("run", RUNS, ids=[f"line {r['line']}" for r in RUNS])
def test_run_example(doc_project, run):
    done = _bash(doc_project, run["script"])
    assert done.returncode == 0, f"docs/argo.md:{run['line']}\n{done.stdout}\n{done.stderr}"
    manifests = _manifests(doc_project)
    assert manifests, f"docs/argo.md:{run['line']}: no manifest written"
    for name, manifest in manifests.items():
        valid(manifest)
    printed = [_bytes(line) for line in done.stderr.splitlines()]
    for line in run["stderr"]:
        assert _bytes(line) in printed, f"docs/argo.md:{run['line']}: not printed: {line}\n{done.stderr}"
    for name, body in run["excerpts"]:
        assert contains(manifests[name], YAML(typ="safe").load(body)), f"docs/argo.md:{run['line']}: {name}"
    # what the script's comments say a submitted workflow did: a step printed a line, a run has that id
    pods = doc_project / ".emulator" / "pods"
    for said in re.findall(r'# the step prints "([^"]+)"', run["script"]):
        assert any(said in log.read_text() for log in pods.glob("*/stdout.log")), f"docs/argo.md:{run['line']}: {said}"
    store = doc_project / ".emulator" / "volumes" / "runnable-volume" / "run_log_store"
    for run_id in re.findall(r"# run ([\w.-]+)$", run["script"], re.M):
        assert (store / run_id).is_dir(), f"docs/argo.md:{run['line']}: no run {run_id} in {sorted(store.iterdir())}"


@pytest.mark.parametrize("error", ERRORS, ids=[f"line {e['line']}" for e in ERRORS])
def test_error_example(doc_project, error):
    done = _bash(doc_project, error["command"], {"RUNNABLE_VAR_argo_docker_image": IMAGE})
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == error["expected"], f"docs/argo.md:{error['line']}"


def test_the_field_table_lists_every_field_in_the_codes_order():
    section = TEXT[TEXT.index("### Every field"):]
    rows = re.findall(r"^\| `([a-z0-9_]+)` \|", section[:section.index("\n\n", section.index("|---"))], re.M)
    assert rows == list(ArgoConfig.model_fields)


def test_the_page_has_examples_of_each_kind():
    assert len(RUNS) >= 6 and len(ERRORS) >= 3 and {"pipeline.yaml", "argo-config.yaml", "Dockerfile"} <= set(FILES)
