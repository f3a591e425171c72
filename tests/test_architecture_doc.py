"""docs/architecture.md names real code: every module, function, folder, command and entry-point group it
names exists, the files its pictures name exist, each picture (an SVG drawn from a mermaid file by
docs/pictures/render.py) shows what its mermaid file says, and what the page says of the Argo pods'
commands and of the workflow's arguments is what the argo executor writes.

test_docs_blocks.py leaves architecture.md's blocks (it has none) to this test.
"""

from __future__ import annotations

import html
import importlib
import re
import shutil
from pathlib import Path

import click
import pytest
from ruamel.yaml import YAML

from conftest import REPO, run_cli

PAGE = REPO / "docs" / "architecture.md"
IMAGE = "registry.example.com/team/project:1.4.2"
_SPAN = re.compile(r"`([^`\n]+)`")
_CODE = re.compile(r"^(?P<file>(?:runnable|extensions)/[\w/]*\w\.py)(?::(?P<name>[A-Za-z_][\w.]*))?$")
_FOLDER = re.compile(r"^(?:runnable|extensions)/(?:[\w]+/)*$")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_PICTURE_FILE = re.compile(r"\b((?:runnable|extensions)/[\w/]*?(?:\w\.py|/))(?=[\"<\s])")
_PICTURE = re.compile(r"!\[[^\]]*\]\((pictures/[\w-]+)\.svg\)")


def _prose() -> str:
    return _FENCE.sub("", PAGE.read_text())


def _spans() -> list[str]:
    return _SPAN.findall(_prose())


def resolve(reference: str) -> str | None:
    """Why ``reference`` (``path.py`` or ``path.py:Name.attribute``) names nothing, or None."""
    m = _CODE.match(reference)
    if m is None:
        return "not a reference"
    path = REPO / m.group("file")
    if not path.is_file():
        return f"no file {m.group('file')}"
    if not m.group("name"):
        return None
    obj = importlib.import_module(m.group("file")[:-3].replace("/", "."))
    for part in m.group("name").split("."):
        if not hasattr(obj, part):
            return f"{m.group('file')} has no {m.group('name')}"
        obj = getattr(obj, part)
    return None


CODE = [s for s in _spans() if _CODE.match(s)]


def test_the_resolver_finds_what_is_missing():
    assert resolve("runnable/executor.py:BasePipelineExecutor.execute_node") is None
    assert resolve("runnable/executor.py:BasePipelineExecutor.no_such_method") is not None
    assert resolve("runnable/no_such_module.py") is not None
    assert len(CODE) > 50  # the page names the code it describes


@pytest.mark.parametrize("reference", sorted(set(CODE)))
def test_each_module_and_function_named_exists(reference):
    assert resolve(reference) is None, resolve(reference)


def test_each_folder_named_exists():
    folders = {s for s in _spans() if _FOLDER.match(s)}
    assert folders and all((REPO / f).is_dir() for f in folders), [f for f in folders if not (REPO / f).is_dir()]


def _pictures() -> list[Path]:
    return [PAGE.parent / f"{stem}.mmd" for stem in _PICTURE.findall(PAGE.read_text())]


def test_each_file_a_picture_names_exists():
    assert not _FENCE.findall(PAGE.read_text())
    sources = [p.read_text() for p in _pictures()]
    assert len(sources) == 2
    named = {f for text in sources for f in _PICTURE_FILE.findall(text)}
    assert len(named) > 15
    assert all((REPO / f).exists() for f in named), [f for f in named if not (REPO / f).exists()]


def _labels(text: str, pattern: str) -> set[str]:
    return {html.unescape(label.replace("<br/>", "\n")) for label in re.findall(pattern, text, re.S)}


@pytest.mark.parametrize("source", _pictures(), ids=lambda p: p.name)
def test_each_picture_shows_what_its_mermaid_file_says(source):
    """Every label of the mermaid file is in the SVG, and nothing else: drawn again after each change."""
    said = _labels(source.read_text(), r'"([^"]*)"')
    shown = _labels(source.with_suffix(".svg").read_text(), r"<p>(.*?)</p>")
    assert said == shown, f"draw {source.name} again (docs/pictures/render.py): {said ^ shown}"


def test_each_command_and_entry_point_group_named_exists():
    from runnable import plugins
    from runnable.cli import cli

    with click.Context(cli) as ctx:
        commands = set(cli.list_commands(ctx))
    named = {s.split()[1] for s in _spans() if s.startswith("runnable ") and len(s.split()) > 1}
    assert {"start-run", "execute-single-node", "fan", "execute-batch", "end-run", "emulate"} <= named
    assert named <= commands, named - commands
    groups = {s for s in _spans() if re.fullmatch(r"runnable\.[a-z_]+", s)}
    assert groups == set(plugins.NAMESPACES.values())


def _transpile(tmp_path: Path, pipeline: str, parameters: str | None = None, env: dict | None = None) -> dict:
    project = tmp_path / "project"
    shutil.copytree(REPO / "examples", project / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / pipeline, project / "pipeline.yaml")
    shutil.copy(REPO / "examples/configs/argo-config.yaml", project / "argo-config.yaml")
    args = ["execute", "-f", "pipeline.yaml", "-c", "argo-config.yaml"]
    if parameters:
        shutil.copy(REPO / parameters, project / "params.yaml")
        args += ["-p", "params.yaml"]
    result = run_cli(args, project, {"RUNNABLE_VAR_argo_docker_image": IMAGE, **(env or {})})
    assert result.returncode == 0, result.stderr
    return YAML(typ="safe").load((project / "argo-pipeline.yaml").read_text())


def test_the_pods_run_the_commands_the_page_lists(tmp_path):
    manifest = _transpile(tmp_path, "examples/map.yaml")
    run = {t["container"]["args"][0] for t in manifest["spec"]["templates"] if "container" in t}
    table = set(re.findall(r"^\| [^|]+ \| `runnable ([\w-]+)` \|", _prose(), re.M))
    assert run == table == {"start-run", "execute-single-node", "fan", "execute-batch", "end-run"}


def test_the_start_pod_and_the_workflow_arguments_are_as_the_page_says(tmp_path):
    # parameters/initial.yaml: spam (a string) and eggs (an integer) are exposed; config (a mapping) and
    # chunks (a list) are not, nor is a mapping given by RUNNABLE_PRM_ when the manifest is written: that one
    # is in the start pod's environment
    manifest = _transpile(tmp_path, "examples/parameters.yaml", "examples/parameters/initial.yaml",
                          {"RUNNABLE_PRM_config": '{"epochs": 5, "learning_rate": 0.5}'})
    arguments = {p["name"]: p["value"] for p in manifest["spec"]["arguments"]["parameters"]}
    assert arguments == {"run_id": "", "spam": "Hello", "eggs": "21"}
    [start] = [t for t in manifest["spec"]["templates"] if t.get("container", {}).get("args", [""])[0] == "start-run"]
    command = " ".join(["runnable", *start["container"]["args"]])
    [shown] = [s for s in _spans() if s.startswith("runnable start-run ")]
    exposed = " ".join(f"--parameter {n}={{{{workflow.parameters.{n}}}}}" for n in ("spam", "eggs"))
    assert command == f"{shown} {exposed}"
    env = {e["name"]: e.get("value") for e in start["container"].get("env") or []}
    assert {k: v for k, v in env.items() if k.startswith("RUNNABLE_PRM_")} == {
        "RUNNABLE_PRM_config": '{"epochs": 5, "learning_rate": 0.5}'}
