"""The examples of docs/seeing-runs.md and docs/editors.md, run as a user would run them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
from ruamel.yaml import YAML

from conftest import REPO

SEEING = (REPO / "docs" / "seeing-runs.md").read_text()
EDITORS = (REPO / "docs" / "editors.md").read_text()


def _blocks(page: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", page, re.S)


def _bash(command: str, project: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNABLE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(project)
    return subprocess.run(["bash", "-c", command], cwd=project, env=env, capture_output=True, text=True, timeout=240)


def _run_shell_blocks(page: str, project: Path) -> None:
    for block in _blocks(page, "sh"):
        for line in block.strip().splitlines():
            result = _bash(line, project)
            expected = 1 if "failing.yaml" in line else 0
            assert result.returncode == expected, f"{line}\n{result.stderr}"


def test_seeing_runs_page(project):
    _run_shell_blocks(SEEING, project)
    # the sample of `runnable runs`: the same runs, in the same order, with the same status and tag
    sample = _blocks(SEEING, "text")[0].splitlines()
    real = _bash("runnable runs", project).stdout.splitlines()
    assert real[0].split() == sample[0].split()
    assert [line.split()[:2] for line in real[1:]] == [line.split()[:2] for line in sample[1:]]
    assert [("demo" in line) for line in real[1:]] == [("demo" in line) for line in sample[1:]]
    # the sample of `runnable show`: its first lines are what the real run shows, but for times and hashes
    shown = _bash("runnable show mapped", project).stdout.splitlines()
    times = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?|\d+\.\d+ s|hash [0-9a-f]+|-[0-9a-f]{10}\.|git .*")
    for doc_line, real_line in zip(_blocks(SEEING, "text")[1].splitlines()[:12], shown):
        assert times.sub("#", doc_line) == times.sub("#", real_line)
    # the mistakes, each exactly as printed
    mistakes = _blocks(SEEING, "text")[-1].splitlines()
    for command, message in zip(mistakes[0::2], mistakes[1::2]):
        result = _bash(command.removeprefix("$ "), project)
        assert result.returncode == 2 and result.stderr.strip() == message
    page = project / "mapped.html"
    assert page.exists() and "<svg" in page.read_text()


def test_editors_page(project):
    _run_shell_blocks(EDITORS, project)
    schemas = {name: json.loads((project / ".schemas" / f"{name}.json").read_text()) for name in ("pipeline", "config")}
    # the file with the language server's comment: the schema it names validates it, and it runs
    text = _blocks(EDITORS, "yaml")[0]
    first = text.splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    (project / "pipelines").mkdir()
    path = project / "pipelines" / "hello.yaml"
    path.write_text(text)
    schema_path = (path.parent / first.split("=", 1)[1]).resolve()
    assert schema_path == (project / ".schemas" / "pipeline.json").resolve()
    jsonschema.validate(YAML(typ="safe").load(text), json.loads(schema_path.read_text()))
    assert _bash("runnable execute -f pipelines/hello.yaml", project).returncode == 0
    # the project-wide mapping: each schema named, and every file its patterns match, valid against it
    settings = json.loads(_blocks(EDITORS, "json")[0])["yaml.schemas"]
    for schema_file, patterns in settings.items():
        schema = schemas[Path(schema_file).stem]
        matched = [p for pattern in patterns for p in project.glob(pattern)]
        assert matched, patterns[0]
        for match in matched:
            jsonschema.validate(YAML(typ="safe").load(match.read_text()), schema)
