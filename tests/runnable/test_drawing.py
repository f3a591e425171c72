"""`runnable graph`: mermaid, dot and a self-contained html page, checked in a real headless browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import read_run_log, run_cli, shell_map


def _graph(project: Path, *args: str) -> str:
    result = run_cli(["graph", *args], project)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _block(lines: list[str], opener: str) -> list[str]:
    """The lines of the mermaid subgraph whose title starts with ``opener``, up to its ``end``."""
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("subgraph") and f'["{opener}' in line)
    depth, out = 0, []
    for line in lines[start:]:
        depth += line.strip().startswith("subgraph")
        depth -= line.strip() == "end"
        out.append(line)
        if depth == 0:
            return out
    raise AssertionError(f"subgraph {opener} never ends")


def test_mermaid_draws_every_step_inside_the_step_that_holds_it(project):
    text = _graph(project, "-f", "examples/nested.yaml")
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    outer = _block(lines, "outer")
    assert outer[0].strip().endswith('["outer: map over outer_items as outer"]')
    sides = _block(outer, "sides")
    for branch in ("branch a", "branch b"):
        inner = _block(_block(sides, branch), "inner")
        assert sum('["cell"]' in line for line in inner) == 1
    assert not any('["check"]' in line for line in outer)
    assert any('["check"]' in line for line in lines)
    ids = {name: re.search(r"(\w+)\[\"" + name, text).group(1) for name in ("check",)}
    outer_id = outer[0].split()[1]
    assert f"  {outer_id} --> {ids['check']}" in lines


def test_on_failure_edges_are_drawn_dashed_and_labelled(project):
    text = _graph(project, "-f", "examples/on_failure.yaml")
    node = {m.group(2): m.group(1) for m in re.finditer(r"(\w+)\[\"([^\"]+)\"\]", text)}
    assert f"{node['fails']} -.->|on failure| {node['recover']}" in text
    assert f"{node['fails']} --> {node['not reached']}" in text
    dot = _graph(project, "-f", "examples/on_failure.yaml", "--format", "dot")
    dot_node = {m.group(2): m.group(1) for m in re.finditer(r"(\w+) \[label=\"([^\"]+)\"", dot)}
    assert re.search(rf"{dot_node['fails']} -> {dot_node['recover']} \[style=dashed.*label=\"on failure\"", dot)


def test_dot_nests_clusters_and_is_accepted_by_graphviz_when_installed(project):
    dot = _graph(project, "-f", "examples/nested.yaml", "--format", "dot")
    assert dot.startswith("digraph pipeline {") and dot.rstrip().endswith("}")
    assert dot.count("{") == dot.count("}")
    # a cluster per composite step (outer, sides, inner twice) and per branch (1 + 2 + 1 + 1)
    assert dot.count("subgraph cluster_") == 4 + 5
    if shutil.which("dot"):
        subprocess.run(["dot", "-Tsvg"], input=dot, text=True, check=True, capture_output=True)


def test_a_run_colours_the_steps_by_status(project):
    assert run_cli(["execute", "-f", "examples/failing.yaml", "--run-id", "failed"], project).returncode == 1
    text = _graph(project, "-f", "examples/failing.yaml", "--run-id", "failed")
    node = {m.group(2): m.group(1) for m in re.finditer(r"(\w+)\[\"([^\" ]+) \((\w+)\)\"\]", text)}
    assert '["fails (FAIL)"]' in text
    fail_class = next(line for line in text.splitlines() if line.strip().startswith("class ") and "FAIL" in line)
    assert node["fails"] in fail_class.split()[1].split(",")
    assert "classDef FAIL fill:" in text
    # the run's way to the implicit fail end is drawn, and that end in the FAIL colour
    end = re.search(r'(\w+)\(\["fail \(reached\)"\]\)', text).group(1)
    assert f"{node['fails']} -.->|on failure| {end}" in text
    assert end in fail_class.split()[1].split(",")
    dot = _graph(project, "-f", "examples/failing.yaml", "--run-id", "failed", "--format", "dot")
    assert re.search(r'(\w+) \[label="fail\\nreached", fillcolor="#fbdada"', dot)


def test_a_run_of_another_pipeline_is_drawn_with_a_warning(project):
    assert run_cli(["execute", "-f", "examples/hello.yaml", "--run-id", "hello"], project).returncode == 0
    result = run_cli(["graph", "-f", "examples/stub.yaml", "--run-id", "hello"], project)
    assert result.returncode == 0
    assert result.error_lines == ["warning: run 'hello' was made from another version of examples/stub.yaml: "
                                  "steps it does not have are drawn as not run"]
    assert "(SUCCESS)" not in result.stdout
    same = run_cli(["graph", "-f", "examples/hello.yaml", "--run-id", "hello"], project)
    assert same.error_lines == [] and "(SUCCESS)" in same.stdout


def test_mistakes_are_one_line(project):
    result = run_cli(["graph", "-f", "examples/hello.yaml", "--format", "svg"], project)
    assert result.returncode == 2 and len(result.error_lines) == 1
    assert "'svg'" in result.error_lines[0] and "--format" in result.error_lines[0]
    result = run_cli(["graph", "-f", "missing.yaml"], project)
    assert result.returncode == 2 and result.error_lines == ["error: missing.yaml: file not found"]
    (project / ".run_log_store").mkdir()
    result = run_cli(["graph", "-f", "examples/hello.yaml", "--run-id", "nope"], project)
    assert result.returncode == 2 and len(result.error_lines) == 1 and "'nope'" in result.error_lines[0]


# --- html, in a real browser ------------------------------------------------------------------------
def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return name
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed (.ci/run installs it: apt-get install -y chromium)")
    pytest.skip("chromium is not installed (apt-get install -y chromium)")


def _browser(page: Path, workdir: Path, *extra: str) -> subprocess.CompletedProcess:
    profile = workdir / "chromium-profile"
    profile.mkdir(exist_ok=True)
    args = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--virtual-time-budget=5000", *extra, page.as_uri()]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


class _Elements(HTMLParser):
    """Every element's tag and attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def _dom(page: Path, workdir: Path) -> tuple[list[tuple[str, dict]], str]:
    """The elements of the page once the browser has run its script, and the page as it then is."""
    proc = _browser(page, workdir, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    parser = _Elements()
    parser.feed(proc.stdout)
    return parser.elements, proc.stdout


def _steps_of(run_log: dict) -> list[dict]:
    out, stack = [], list(run_log["steps"].values())
    while stack:
        step = stack.pop()
        out.append(step)
        for branch in step["branches"].values():
            stack.extend(branch["steps"].values())
    return out


def test_html_page_of_a_run_draws_every_step_with_its_status_in_a_browser(project):
    _chromium()
    (project / "fan.yaml").write_text(shell_map('test "$item" != 2'))
    (project / "items.yaml").write_text("items: [1, 2, 3]\n")
    assert run_cli(["execute", "-f", "fan.yaml", "-p", "items.yaml", "--run-id", "fanned"], project).returncode == 1
    assert run_cli(["execute", "-f", "examples/nested.yaml", "-p", "examples/parameters/nested.yaml",
                    "--run-id", "nested"], project).returncode == 0
    for pipeline, run_id in (("fan.yaml", "fanned"), ("examples/nested.yaml", "nested")):
        page = project / f"{run_id}.html"
        assert run_cli(["graph", "-f", pipeline, "--format", "html", "--run-id", run_id, "-o", str(page)],
                       project).returncode == 0
        html = page.read_text()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?https?:""", html)
        elements, _ = _dom(page, project)
        drawn = [a for tag, a in elements if tag == "g" and "step" in a.get("class", "").split()]
        rows = {a["data-step"]: a for tag, a in elements if "gantt-row" in a.get("class", "").split()}
        run_log = read_run_log(project, run_id)
        for step in _steps_of(run_log):
            statuses = {a["data-status"] for a in drawn if a["data-name"] == step["name"]}
            assert statuses, f"step {step['internal_name']} is not drawn"
            if step["step_type"] not in ("success", "fail"):
                # the Gantt view is built by the page's script: one bar per step of the run
                assert rows[step["internal_name"]]["data-status"] == step["status"]
        if run_id == "fanned":
            # a map's inner step is drawn once, with all its iterations summed up: one failed
            each = next(a for a in drawn if a["data-name"] == "each")
            assert each["data-status"] == "FAIL"
            assert next(a for a in drawn if a["data-name"] == "fan")["data-status"] == "FAIL"
            statuses = sorted(s["status"] for s in _steps_of(run_log) if s["name"] == "each")
            assert statuses == ["FAIL", "SUCCESS", "SUCCESS"]
        else:
            assert {a["data-status"] for a in drawn} == {"SUCCESS"}
            assert len(rows) == len([s for s in _steps_of(run_log) if s["step_type"] not in ("success", "fail")])

    shot = project / "shot.png"
    proc = _browser(project / "fanned.html", project, f"--screenshot={shot}", "--window-size=1000,900")
    assert proc.returncode == 0 and shot.stat().st_size > 5000


def test_html_page_without_a_run_draws_the_pipeline_and_says_there_is_no_timing(project):
    _chromium()
    page = project / "plain.html"
    assert run_cli(["graph", "-f", "examples/parallel.yaml", "--format", "html", "-o", str(page)],
                   project).returncode == 0
    elements, dom = _dom(page, project)
    assert '<div id="gantt">No run given: draw with --run-id to see step timings.</div>' in dom
    names = sorted(a["data-name"] for tag, a in elements if tag == "g" and "step" in a.get("class", "").split())
    assert names == sorted(["both", "left step", "success", "right step", "success", "check", "success"])
    assert all(a["data-status"] == "" for tag, a in elements if tag == "g" and "step" in a.get("class", "").split())


ODD = """dag:
  start_at: 'a "quoted" <b>bold</b> & #1 step.x'
  steps:
    'a "quoted" <b>bold</b> & #1 step.x':
      type: stub
      next: end
    end:
      type: stub
      next: success
"""


def test_step_names_are_shown_as_written_whatever_their_characters(project):
    _chromium()
    name = 'a "quoted" <b>bold</b> & #1 step.x'
    (project / "odd.yaml").write_text(ODD)
    text = _graph(project, "-f", "odd.yaml")
    assert '["a #quot;quoted#quot; #lt;b#gt;bold#lt;/b#gt; #amp; #35;1 step.x"]' in text
    assert '["end"]' in text
    assert run_cli(["execute", "-f", "odd.yaml", "--run-id", "odd"], project).returncode == 0
    page = project / "odd.html"
    assert run_cli(["graph", "-f", "odd.yaml", "--format", "html", "--run-id", "odd", "-o", str(page)],
                   project).returncode == 0
    elements, dom = _dom(page, project)
    steps = {a["data-name"]: a["data-status"] for tag, a in elements if "step" in a.get("class", "").split()}
    assert steps == {name: "SUCCESS", "end": "SUCCESS", "success": "SUCCESS"}
    assert "<b>bold</b>" not in dom  # shown as text, never as markup
