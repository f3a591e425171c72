"""Docs that cannot lie: every fenced block of README.md and docs/*.md is run or checked, and the site builds
with ``mkdocs build --strict`` (a broken link, a missing anchor or a page left out of the nav fails).

How a block is treated (decided by its language, its first line and an HTML comment on the line before it):

* ``<!-- not-run: REASON -->``: cannot run here (a cluster, the network); each must say why, and they may be
  at most an eighth of the blocks (no test is skipped for them: CI runs with nothing skipped).
* ``<!-- example: ... -->`` (docs/argo.md) and the pages in ``ELSEWHERE``: run by their own test.
* a block whose first line is a comment naming a file (``# examples/map.yaml``, ``# pipeline.yaml — ...``):
  a file of the repository (``examples/...``, ``pyproject.toml``): the block must be a part of it (YAML: a
  mapping with these keys and values somewhere in the file; other text: these lines, in this order);
  any other name: a file of the page's project, written there before the page's commands run.
* ``yaml`` blocks: a whole pipeline is loaded by the pipeline loader, a whole configuration by the
  configuration loader (both in this process: the code the CLI runs), settings of the argo executor under
  its section, steps each in a pipeline of its own (their routes lead to stubs); ``<!-- manifest of: PIPELINE -->``: a
  part of the Argo manifest written for PIPELINE with examples/configs/argo-config.yaml; ``<!-- excerpt of:
  FILE -->``: a part of the project's FILE once the page's commands ran.
* ``sh`` blocks: each command runs, in the page's order, in one bash session in a temporary project (a copy
  of examples/, or an empty folder for getting-started.md) holding the page's files; it must exit 0, or 1
  when its comment says ``# FAIL``. ``$ command`` lines (in ``sh`` or ``text`` blocks) are a transcript: the
  lines after one are what it prints (run ids and times aside; ``...`` for lines left out), and a printed
  ``error:`` means exit 2, a ``run ...: FAIL`` exit 1.
* ``python`` blocks run in that session (as a script in the project); ``toml`` blocks with a ``runnable.*``
  entry-point group are installed into the project (a ``.dist-info`` on its PYTHONPATH), as ``pip install`` would.
* ``text`` blocks: ``runnable ...`` usage lines name only options the command has; ``error: ...`` lines are
  messages the code can write; ``<!-- output of: COMMAND -->``: COMMAND runs and prints these lines.
* ``json`` blocks parse, and every mapping in them that is a run log record has that record's fields (all of
  them, unless it holds ``"..."``).

Anything else fails the test: a new block must be one of these, or marked.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import REPO, contains

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# pages whose every block another test runs (their pages say so)
ELSEWHERE = {"seeing-runs.md": "tests/runnable/test_views_docs.py", "editors.md": "tests/runnable/test_views_docs.py",
             "architecture.md": "tests/test_architecture_doc.py"}
ARGO_DOCS_TEST = "tests/extensions/argo/test_argo_docs.py"
EMPTY_PROJECT = {"getting-started.md"}  # starts in an empty folder
IMAGE = "registry.example.com/team/project:1.4.2"

_FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<lang>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ ]*$", re.S | re.M)
_MARKER = re.compile(r"^\s*<!--\s*(?P<text>.*?)\s*-->\s*$")
_NAMED = re.compile(r"^#\s+(?P<name>[\w./-]+\.(?:ya?ml|py|toml|env|txt))(?:[\s:]|$)")
_RUN_ID = re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{6}\b")
_TRACKED = set(subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split())


@dataclass
class Block:
    page: str
    line: int
    lang: str
    body: str
    marker: str = ""
    where: str = field(init=False)

    def __post_init__(self):
        self.where = f"{'' if self.page == 'README.md' else 'docs/'}{self.page}:{self.line}"

    @property
    def name(self) -> str | None:
        m = _NAMED.match(self.body.splitlines()[0]) if self.body.strip() else None
        return m.group("name") if m else None


def blocks(path: Path) -> list[Block]:
    text = path.read_text()
    found = []
    for m in _FENCE.finditer(text):
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _MARKER.match(before)
        indent = len(m.group("indent"))
        body = "\n".join(line[indent:] for line in m.group("body").splitlines())
        found.append(Block(path.name, text.count("\n", 0, m.start()) + 1, m.group("lang").strip(), body,
                           marker.group("text") if marker else ""))
    return found


ALL = [b for page in PAGES for b in blocks(page)]


# --- what a block is -------------------------------------------------------------------------------------

def _yaml(text: str):
    return YAML(typ="safe").load("\n".join(line for line in text.splitlines() if line.strip() != "..."))


def _is_transcript(b: Block) -> bool:
    return any(line.startswith("$ ") for line in b.body.splitlines())


def _entry_points(b: Block) -> dict[str, str]:
    """A toml block's ``[project.entry-points."runnable.X"]`` tables, as entry_points.txt sections."""
    sections, current = {}, None
    for line in b.body.splitlines():
        m = re.match(r'\[project\.entry-points\."(runnable\.[\w]+)"\]', line)
        if m:
            current = m.group(1)
            sections[current] = ""
        elif current and "=" in line:
            name, value = (part.strip().strip('"') for part in line.split("=", 1))
            sections[current] += f"{name} = {value}\n"
    return sections


def kind(b: Block) -> str:
    if b.marker.startswith("not-run:"):
        return "not-run"
    if b.marker.startswith("example:") and b.page == "argo.md":
        return "elsewhere"
    if b.page in ELSEWHERE:
        return "elsewhere"
    if b.marker.startswith("output of:"):
        return "output"
    if b.marker.startswith("manifest of:"):
        return "manifest"
    if b.marker.startswith("excerpt of:"):
        return "excerpt-of"
    if b.name:
        return "excerpt" if b.name in _TRACKED else "file"
    if b.lang in ("sh", "text", "") and _is_transcript(b):
        return "transcript"
    if b.lang == "sh":
        return "commands"
    if b.lang == "python":
        return "python"
    if b.lang == "json":
        return "json"
    if b.lang == "toml" and _entry_points(b):
        return "entry-points"
    if b.lang == "yaml":
        data = _yaml(b.body)
        if isinstance(data, dict) and "dag" in data:
            return "pipeline"
        if isinstance(data, dict) and data and set(data) <= SERVICE_KEYS:
            return "config"
        if isinstance(data, dict) and data and set(data) <= _argo_fields():
            return "argo-fields"
        if isinstance(data, dict) and data and all(isinstance(s, dict) and "type" in s for s in data.values()):
            return "steps"
    lines = [line for line in b.body.splitlines() if line.strip()]
    if b.lang in ("text", "") and lines and lines[0].startswith("runnable ") and re.search(r"[\[|]|[A-Z]{3}", lines[0]):
        return "synopsis"
    if b.lang in ("text", "") and lines and all(line.startswith(("error: ", "internal error: ")) for line in lines):
        return "errors"
    return "unknown"


def _argo_fields() -> set[str]:
    from extensions.argo.config import ArgoConfig

    return set(ArgoConfig.model_fields)


SERVICE_KEYS = {"pipeline-executor", "pipeline_executor", "executor", "run-log-store", "run_log_store", "catalog",
                "catalog-handler", "secrets", "secrets-handler"}


def test_every_block_is_run_or_checked_or_marked():
    assert "examples/map.yaml" in _TRACKED  # excerpts are told from project files by git's list
    unknown = [f"{b.where}: ```{b.lang}" for b in ALL if kind(b) == "unknown"]
    assert not unknown, "blocks neither run, checked nor marked <!-- not-run: why -->:\n" + "\n".join(unknown)
    # the blocks that cannot run here stay few, and each says why
    assert all(b.marker.removeprefix("not-run:").strip() for b in NOT_RUN)
    assert len(NOT_RUN) <= len(ALL) // 8, [b.where for b in NOT_RUN]
    # pages run by another test: that test exists and names the page
    for page, test in {**ELSEWHERE, "argo.md": ARGO_DOCS_TEST}.items():
        assert page in (REPO / test).read_text(), (page, test)


NOT_RUN = [b for b in ALL if kind(b) == "not-run"]


# --- YAML, python, toml and text checked against the repository and the code -------------------------------

def _in_order(lines: list[str], text: str) -> bool:
    real = iter(line.strip() for line in text.splitlines())
    return all(any(line == r for r in real) for line in lines)


def _body_lines(b: Block) -> list[str]:
    return [line.strip() for line in b.body.splitlines()[1:] if line.strip() and line.strip() != "..."]


EXCERPTS = [b for b in ALL if kind(b) == "excerpt"]


@pytest.mark.parametrize("b", EXCERPTS, ids=[b.where for b in EXCERPTS])
def test_an_excerpt_is_part_of_the_file_it_names(b):
    text = (REPO / b.name).read_text()
    if b.lang == "yaml":
        part = _yaml(b.body)
        assert part is not None and contains(_yaml(text), part), f"{b.where}: not in {b.name}"
    else:
        assert _in_order(_body_lines(b), text), f"{b.where}: these lines are not in {b.name}, in this order"


def _load_pipeline(path: Path):
    from runnable.graph import load_pipeline

    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        return load_pipeline(path.name)
    finally:
        os.chdir(cwd)


def _load_config(path: Path):
    from runnable.config import load_configuration

    return load_configuration(str(path))


def _loads_as(b: Block) -> str | None:
    """'pipeline', 'config', 'argo-fields' or 'steps' for a YAML block the loaders read: a whole one, or a file
    of the page's project (but not on a page that installs a plugin first: the page's run loads those)."""
    k = kind(b)
    if k == "file" and b.lang == "yaml" and not any(c.page == b.page and kind(c) == "entry-points" for c in ALL):
        k = kind(Block(b.page, b.line, b.lang, b.body.split("\n", 1)[1]))
    return k if k in ("pipeline", "config", "argo-fields", "steps") else None


LOADED = [b for b in ALL if _loads_as(b)]


@pytest.fixture(scope="module")
def examples_copy(tmp_path_factory) -> Path:
    """A folder holding a copy of examples/ (the files a block's nested pipeline may name)."""
    folder = tmp_path_factory.mktemp("loaded")
    shutil.copytree(REPO / "examples", folder / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.mark.parametrize("b", LOADED, ids=[b.where for b in LOADED])
def test_a_pipeline_or_configuration_block_loads(b, examples_copy, monkeypatch):
    monkeypatch.setenv("RUNNABLE_VAR_argo_docker_image", IMAGE)
    path = examples_copy / f"block-{b.page}-{b.line}.yaml"
    body = b.body
    if _loads_as(b) == "argo-fields":  # settings of the argo executor: under its section, beside an image
        body = "pipeline-executor:\n  type: argo\n  config:\n    image: " + IMAGE + "\n" + \
            "".join(f"    {line}\n" for line in b.body.splitlines())
    if _loads_as(b) == "steps":  # steps of a pipeline: each in a pipeline of its own, its routes to stubs
        for name, step in _yaml(body).items():
            routes = {step.get(k) for k in ("next", "on_failure")} - {None, "success", "fail", name}
            steps = {name: step, **{r: {"type": "stub", "next": "success"} for r in routes}}
            path.write_text(json.dumps({"dag": {"start_at": name, "steps": steps}}))
            assert _load_pipeline(path).start_at == name, b.where
        return
    path.write_text(body + "\n")
    data = _yaml(body)
    if "dag" in data:
        assert _load_pipeline(path).start_at, b.where
    else:
        _load_config(path)


SYNOPSES = [b for b in ALL if kind(b) == "synopsis"]


def _command(words: list[str]):
    import click

    from runnable.cli import cli

    ctx = click.Context(cli)
    command = cli
    for word in words:
        if not isinstance(command, click.Group):
            break
        sub = command.get_command(ctx, word)
        if sub is None:
            break
        command = sub
    return command


@pytest.mark.parametrize("b", SYNOPSES, ids=[b.where for b in SYNOPSES])
def test_a_usage_line_names_only_options_the_command_has(b):
    from runnable.cli import cli

    usage = " ".join(b.body.split())
    words = re.match(r"runnable((?: [a-z][a-z_-]*)*)", usage).group(1).split()
    command = _command(words)
    assert command is not cli or not words, f"{b.where}: no command 'runnable {' '.join(words)}'"
    options = {opt for p in [*command.params, *cli.params] for opt in [*p.opts, *p.secondary_opts]}
    options |= {"-h", "--help"}
    shown = set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", usage))
    assert shown <= options, f"{b.where}: 'runnable {' '.join(words)}' has no option {sorted(shown - options)}"


ERRORS = [b for b in ALL if kind(b) == "errors"]


@pytest.mark.parametrize("b", ERRORS, ids=[b.where for b in ERRORS])
def test_an_error_line_is_one_the_code_writes(b):
    patterns = _message_patterns()
    for line in b.body.splitlines():
        if line.strip():
            assert any(p.search(line) for p in patterns), f"{b.where}: no message of the code reads: {line}"


@functools.lru_cache(maxsize=1)
def _message_patterns() -> list[re.Pattern]:
    """Each message of the code (tests/runnable/test_errors_doc.py finds them) as a pattern."""
    if str(REPO / "tests" / "runnable") not in sys.path:
        sys.path.insert(0, str(REPO / "tests" / "runnable"))
    from test_errors_doc import PLACEHOLDER, messages

    out = []
    for _, _, template in messages(everything=True):
        pieces = template.split(PLACEHOLDER)
        if sum(len(p) for p in pieces) >= 12:
            out.append(re.compile(".*?".join(re.escape(p) for p in pieces)))
    return out


JSONS = [b for b in ALL if kind(b) == "json"]


def _records():
    from runnable import run_log

    return [getattr(run_log, name) for name in ("RunLog", "StepLog", "BranchLog", "StepAttempt", "CodeIdentity",
                                                "DataCatalog", "Parameter")]


@pytest.mark.parametrize("b", JSONS, ids=[b.where for b in JSONS])
def test_a_run_log_example_has_the_fields_of_its_records(b):
    text = b.body.strip()
    data = json.loads(text if text.startswith(("{", "[")) else "{" + text + "}")
    records, checked, stack = _records(), 0, [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        keys = set(node) - {"..."}
        fits = [r for r in records if len(keys) >= 2 and keys <= set(r.model_fields)]
        if fits:
            if "..." not in node:
                assert any(keys == set(r.model_fields) for r in fits), \
                    f"{b.where}: {sorted(keys)} lacks {sorted(set(fits[0].model_fields) - keys)} ({fits[0].__name__})"
            checked += 1
        stack.extend(node.values())
    if not checked:  # another document (the emulator's status): it parses, and says nothing of the run log
        assert "run_id" not in text and "internal_name" not in text, f"{b.where}: no run log record in the example"


# --- the pages' commands, run ------------------------------------------------------------------------------

@dataclass
class Command:
    where: str
    text: str
    expect: int = 0
    prints: list[str] = field(default_factory=list)


def _commands(b: Block) -> list[Command]:
    """A shell block's commands (continuations and here-documents kept together); a transcript's commands
    with the lines each prints."""
    out: list[Command] = []
    lines = b.body.splitlines()
    transcript = _is_transcript(b)
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if transcript and not line.startswith("$ "):
            if line.strip() not in ("", "...") and out:  # "..." stands for lines left out
                out[-1].prints.append(line)
            continue
        text = line[2:] if transcript else line
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        while text.endswith("\\") and i < len(lines):
            text += "\n" + lines[i]
            i += 1
        heredoc = re.search(r"<<-?\s*'?(\w+)'?", text)
        if heredoc:
            while i < len(lines):
                text += "\n" + lines[i]
                i += 1
                if lines[i - 1].strip() == heredoc.group(1):
                    break
        comment = re.search(r"\s#\s.*$", text.splitlines()[-1])
        out.append(Command(f"{b.where}+{len(out)}", text, 1 if comment and "FAIL" in comment.group(0) else 0))
    for c in out:
        if any(p.startswith(("error: ", "internal error: ")) for p in c.prints):
            c.expect = 2
        elif any(re.match(r"run \S+: FAIL", p) for p in c.prints):
            c.expect = 1
    return out


def _session(page: str) -> tuple[str, list[Command]]:
    """The page's runnable blocks as one bash script, and what each command must do."""
    script, commands = ["cd \"$(dirname \"$0\")\"/.."], []

    def add(command: Command):
        i = len(commands)
        commands.append(command)
        script.append(f"{{ {command.text}\n}} >.doc/{i}.out 2>.doc/{i}.err </dev/null; __s=$?; echo $__s >.doc/{i}.rc; "
                      f"(exit $__s)")

    for b in [b for b in ALL if b.page == page]:
        k = kind(b)
        if k in ("commands", "transcript"):
            for c in _commands(b):
                add(c)
        elif k == "python":  # as a script of the project, as a user runs one
            script_name = f"doc_block_{b.line}.py"
            add(Command(b.where, f"cat > {script_name} <<'__DOC_PY__'\n{b.body}\n__DOC_PY__\npython {script_name}"))
        elif k == "output":
            add(Command(b.where, b.marker.removeprefix("output of:").strip(), prints=b.body.splitlines()))
        elif k == "manifest":
            pipeline = b.marker.removeprefix("manifest of:").strip()
            write = f"runnable execute -f {pipeline} -c examples/configs/argo-config.yaml"
            add(Command(b.where, f"RUNNABLE_VAR_argo_docker_image={IMAGE} {write} "
                                 f"&& cp argo-pipeline.yaml .doc/manifest-{b.line}.yaml"))
    return "\n".join(script) + "\n", commands


def _project(page: str, root: Path) -> Path:
    project = root / "project"
    project.mkdir()
    if page not in EMPTY_PROJECT:
        shutil.copytree(REPO / "examples", project / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    (project / ".doc").mkdir()
    for b in ALL:
        if b.page == page and kind(b) == "file":
            (project / b.name).parent.mkdir(parents=True, exist_ok=True)
            (project / b.name).write_text("\n".join(b.body.splitlines()[1:]) + "\n")
    points = {}
    for b in ALL:
        if b.page == page and kind(b) == "entry-points":
            points.update(_entry_points(b))
    if points:
        info = project / "docs_example_plugin-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: docs-example-plugin\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text("".join(f"[{group}]\n{body}\n" for group, body in points.items()))
    for name, text in FIXTURES.get(page, {}).items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    return project


def _normal(line: str) -> str:
    """A printed line without what changes from run to run: run ids, durations, times of day, the suffix
    of a generated workflow name."""
    line = _RUN_ID.sub("RUN", line.strip())
    line = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?", "TIME", line)
    line = re.sub(r"(?<=-)[0-9a-f]{5}(?=[:.\s/]|$)", "NAME", line)  # a generateName's random suffix
    return re.sub(r"\d+(\.\d+)? ?s\b", "T", line)


RUN_PAGES = sorted({b.page for b in ALL if kind(b) in ("commands", "transcript", "python", "output", "manifest",
                                                      "excerpt-of")})


@pytest.mark.parametrize("page", RUN_PAGES)
def test_the_pages_commands_run(page, tmp_path):
    script, commands = _session(page)
    project = _project(page, tmp_path)
    (project / ".doc" / "run.sh").write_text(script)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNABLE_", "PYTHONPATH"))}
    env.update(PYTHONPATH=str(project), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}")
    done = subprocess.run(["bash", str(project / ".doc" / "run.sh")], cwd=project, env=env, capture_output=True,
                          text=True, timeout=600)
    assert "syntax error" not in done.stderr, done.stderr
    failures = []
    for i, c in enumerate(commands):
        rc_file = project / ".doc" / f"{i}.rc"
        if not rc_file.exists():
            failures.append(f"{c.where}: did not run: {c.text}")
            continue
        out = (project / ".doc" / f"{i}.out").read_text() + (project / ".doc" / f"{i}.err").read_text()
        rc = int(rc_file.read_text())
        if rc != c.expect:
            failures.append(f"{c.where}: exit {rc}, not {c.expect}: {c.text}\n{out}")
            continue
        printed = {_normal(line) for line in out.splitlines()}
        missing = [p for p in c.prints if p.strip() and _normal(p) not in printed]
        if missing:
            failures.append(f"{c.where}: {c.text} did not print:\n  " + "\n  ".join(missing) + f"\nit printed:\n{out}")
    for b in ALL:
        if b.page == page and kind(b) in ("manifest", "excerpt-of"):
            written = project / (f".doc/manifest-{b.line}.yaml" if kind(b) == "manifest"
                                 else b.marker.removeprefix("excerpt of:").strip())
            if not contains(_yaml(written.read_text()), _yaml(b.body)):
                failures.append(f"{b.where}: not in {b.marker}")
    assert not failures, "\n\n".join(failures)


# the files a page's transcript names without showing them (the mistakes it demonstrates; line numbers count)
_HELLO = """\
dag:
  start_at: hello
  steps:
    hello:
      type: task
      command: examples.common.functions.hello
"""
FIXTURES: dict[str, dict[str, str]] = {
    "configuration.md": {
        "bad/c1.yaml": "executor:\n  type: local\n  config: {foo: 1}\n",
        "bad/c2.yaml": "run_log_store:\n  type: file-system\n  config:\n    log_folder: $where\n",
        "bad/c3.yaml": "catalog:\n  type: s3\n",
    },
    "pipelines.md": {
        "bad/next.yaml": _HELLO + "      next: goodbye\n",
        "bad/key.yaml": _HELLO + "      nxt: success\n",
        "bad/type.yaml": "dag:\n  start_at: a\n  steps:\n    a:\n      type: taks\n      next: success\n",
        "bad/cycle.yaml": """\
dag:
  start_at: a
  steps:
    a:
      type: stub
      next: b
    b:
      type: stub
      next: a
""",
        "bad/unreach.yaml": """\
dag:
  start_at: a
  steps:
    a:
      type: stub
      next: success
    lonely:
      type: stub
      next: success
""",
        "bad/maplist.yaml": """\
dag:
  start_at: make
  steps:
    make:
      type: task
      command_type: shell
      command: export items=abc
      returns: [items]
      next: m
    m:
      type: map
      iterate_on: items
      iterate_as: x
      next: success
      branch:
        start_at: s
        steps:
          s: {type: stub, next: success}
""",
    },
}


# --- the site ----------------------------------------------------------------------------------------------

def test_mkdocs_builds_the_site_strictly_with_every_page_in_the_nav(tmp_path):
    config = _yaml((REPO / "mkdocs.yml").read_text())
    listed = []
    stack = list(config["nav"])
    while stack:
        entry = stack.pop()
        for value in (entry.values() if isinstance(entry, dict) else [entry]):
            stack.extend(value) if isinstance(value, list) else listed.append(value)
    assert sorted(listed) == sorted(p.name for p in (REPO / "docs").glob("*.md"))
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for page in listed:
        assert (tmp_path / "site" / page.removesuffix(".md") / "index.html").exists() or page == "index.md"
