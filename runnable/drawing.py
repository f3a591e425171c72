"""Pictures of a pipeline (``runnable graph``): mermaid, Graphviz dot, or one self-contained html page.

Every format draws the same thing: each graph (the pipeline, each branch) is a box of its steps, a
composite step (parallel, map, dag) is a box holding its branches, ``next`` edges are solid and
``on_failure`` edges dashed. Given a run, each step is coloured by its status in that run (a step inside
a map by all its iterations together: FAIL if any failed, its status if all agree, else PROCESSING).
The html page needs no network: its CSS, script and SVG are inline; the graph is laid out here in
layers (a step is one layer below the longest path leading to it), and the page adds a Gantt view of
the run's step timings.
"""

from __future__ import annotations

import html as _html
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .run_log import FAIL, PROCESSING, SUCCESS

if TYPE_CHECKING:
    from .run_log import RunLog
    from .graph import Graph
    from .nodes import BaseNode

FORMATS = ("mermaid", "dot", "html")
COLOURS = {SUCCESS: ("#dcf3e0", "#2e7d32"), FAIL: ("#fbdada", "#c62828"), PROCESSING: ("#fff3cd", "#b8860b"),
           "CREATED": ("#eeeeee", "#757575"), "TRIGGERED": ("#dff4fb", "#00838f")}
NOT_RUN = ("#ffffff", "#9e9e9e")


# --- the picture, whatever the format ---------------------------------------------------------------
@dataclass
class Box:
    """One step: a leaf, or a composite holding one cluster per branch."""

    id: str
    name: str
    template: str  # its internal name, map iterations as {iterate_as}
    type: str
    note: str = ""  # what a composite does: "map over items as item"
    status: str | None = None
    runs: int = 0  # how many step logs (map iterations) the status sums up
    clusters: list["Cluster"] = field(default_factory=list)

    @property
    def label_status(self) -> str:
        """What a mermaid or dot label says of the run: the status, or that the run reached an end."""
        if not self.status:
            return ""
        return "reached" if self.type in ("success", "fail") else self.status

    @property
    def colour(self) -> str | None:
        """The status it is coloured by: a ``fail`` end the run reached is recorded as done, drawn as FAIL."""
        return FAIL if self.type == "fail" and self.status else self.status


@dataclass
class Cluster:
    """One graph: the pipeline, or a branch of a composite step."""

    id: str
    title: str
    boxes: list[Box] = field(default_factory=list)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # from id, to id, "next" | "on_failure"


def summed_status(statuses: list[str]) -> str:
    if FAIL in statuses:
        return FAIL
    return statuses[0] if len(set(statuses)) == 1 else PROCESSING


def run_statuses(graph: "Graph", run_log: "RunLog") -> dict[str, tuple[str, int]]:
    """Each step's status in the run, by its internal name template (map iterations summed up)."""
    from . import views
    from .errors import RunnableError

    found: dict[str, list[str]] = {}
    for step in views.walk_steps(run_log.steps.values()):
        try:
            template = graph.find(step.internal_name).internal_name_template()
        except RunnableError:  # the pipeline changed since the run: that step is not drawn
            continue
        found.setdefault(template, []).append(step.status)
    return {k: (summed_status(v), len(v)) for k, v in found.items()}


def picture(graph: "Graph", statuses: dict[str, tuple[str, int]] | None = None) -> Cluster:
    """The clusters and boxes of ``graph`` and its branches (an implicit fail step only if something leads
    there or the run reached it)."""
    counter = iter(range(10**9))
    statuses = statuses or {}

    def cluster(g: "Graph", title: str) -> Cluster:
        out = Cluster(f"c{next(counter)}", title)
        targets = {t for n in g.steps.values() for t in (n.next, n.on_failure) if t}
        ids: dict[str, str] = {}
        for name in _order(g):
            node = g.steps[name]
            template = node.internal_name_template()
            if node.type == "fail" and name not in targets and template not in statuses:
                continue
            box = Box(f"s{next(counter)}", name, template, node.type, _note(node), *statuses.get(template, (None, 0)))
            for key, branch in node.branches().items():
                box.clusters.append(cluster(branch, _branch_title(node, key)))
            ids[name] = box.id
            out.boxes.append(box)
        for name, node in g.steps.items():
            for kind in ("next", "on_failure"):
                target = getattr(node, kind)
                if name in ids and target in ids:
                    out.edges.append((ids[name], ids[target], kind))
        end = g.fail_node().name
        if end in ids:  # the way the run took to the fail end: from each step that failed with no on_failure
            for name, node in g.steps.items():
                if name in ids and not node.on_failure and not node.is_terminal \
                        and statuses.get(node.internal_name_template(), ("",))[0] == FAIL:
                    out.edges.append((ids[name], ids[end], "on_failure"))
        return out

    return cluster(graph, graph.description or "pipeline")


def _order(g: "Graph") -> list[str]:
    """Steps in the order they can run (start first, terminal steps last)."""
    seen, order, queue = {g.start_at}, [], [g.start_at]
    while queue:
        name = queue.pop(0)
        order.append(name)
        node = g.steps[name]
        for target in (node.next, node.on_failure):
            if target and target not in seen:
                seen.add(target)
                queue.append(target)
    rest = [n for n in g.steps if n not in seen]
    return [n for n in order if not g.steps[n].is_terminal] + [n for n in order + rest if g.steps[n].is_terminal]


def _note(node: "BaseNode") -> str:
    if node.type == "map":
        return f"map over {node.iterate_on} as {node.iterate_as}"  # type: ignore[attr-defined]
    if node.type == "dag":
        return f"dag {node.dag_definition}"  # type: ignore[attr-defined]
    return node.type if node.is_composite else ""


def _branch_title(node: "BaseNode", key: str) -> str:
    if node.type == "map":
        return f"each {node.iterate_as}"  # type: ignore[attr-defined]
    return "pipeline" if node.type == "dag" else f"branch {key}"


def layers(c: Cluster) -> list[list[Box]]:
    """The boxes of a cluster by layer: one below the longest path of edges that leads to each."""
    depth = {b.id: 0 for b in c.boxes}
    incoming: dict[str, int] = {b.id: 0 for b in c.boxes}
    out: dict[str, list[str]] = {b.id: [] for b in c.boxes}
    for a, b, _ in c.edges:
        incoming[b] += 1
        out[a].append(b)
    ready = [b.id for b in c.boxes if not incoming[b.id]]
    while ready:  # Kahn's order: pipelines are acyclic (checked when loaded)
        a = ready.pop()
        for b in out[a]:
            depth[b] = max(depth[b], depth[a] + 1)
            incoming[b] -= 1
            if not incoming[b]:
                ready.append(b)
    terminal_depth = max([depth[b.id] for b in c.boxes if b.type not in ("success", "fail")], default=-1) + 1
    rows: dict[int, list[Box]] = {}
    for box in c.boxes:
        d = max(depth[box.id], terminal_depth) if box.type in ("success", "fail") else depth[box.id]
        rows.setdefault(d, []).append(box)
    return [rows[d] for d in sorted(rows)]


# --- mermaid ----------------------------------------------------------------------------------------
def _mermaid_text(text: str) -> str:
    """Text for a quoted mermaid label: its entity codes for what mermaid would read as markup."""
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("&", "#amp;")):
        text = text.replace(char, code)
    return text


def mermaid(top: Cluster) -> str:
    lines = ["flowchart TD"]
    styled: dict[str, list[str]] = {}

    def emit(c: Cluster, indent: str) -> None:
        for box in c.boxes:
            label = _mermaid_text(box.name + (f" ({box.label_status})" if box.status else ""))
            if box.clusters:
                lines.append(f'{indent}subgraph {box.id} ["{label}: {_mermaid_text(box.note)}"]')
                lines.append(f"{indent}  direction TB")
                for branch in box.clusters:
                    if len(box.clusters) > 1:
                        lines.append(f'{indent}  subgraph {branch.id} ["{_mermaid_text(branch.title)}"]')
                        emit(branch, indent + "    ")
                        lines.append(f"{indent}  end")
                    else:
                        emit(branch, indent + "  ")
                lines.append(f"{indent}end")
            elif box.type in ("success", "fail"):
                lines.append(f'{indent}{box.id}(["{label}"])')
            else:
                lines.append(f'{indent}{box.id}["{label}"]')
            styled.setdefault(box.colour or "NOT_RUN", []).append(box.id)
        for a, b, kind in c.edges:
            lines.append(f"{indent}{a} -.->|on failure| {b}" if kind == "on_failure" else f"{indent}{a} --> {b}")

    emit(top, "  ")
    if any(s != "NOT_RUN" for s in styled):
        for status, ids in styled.items():
            fill, stroke = COLOURS.get(status, NOT_RUN)
            lines.append(f"  classDef {status} fill:{fill},stroke:{stroke}")
            lines.append(f"  class {','.join(ids)} {status}")
    return "\n".join(lines) + "\n"


# --- dot --------------------------------------------------------------------------------------------
def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot(top: Cluster) -> str:
    lines = ["digraph pipeline {", "  compound=true;", "  rankdir=TB;",
             '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];',
             f"  label={_dot_text(top.title)};"]

    def emit(c: Cluster, indent: str) -> None:
        for box in c.boxes:
            fill, stroke = COLOURS.get(box.colour or "", NOT_RUN)
            label = box.name + (f"\n{box.label_status}" if box.status else "")
            attrs = f'label={_dot_text(label)}, fillcolor="{fill}", color="{stroke}"'
            if box.type in ("success", "fail"):
                attrs += ", shape=oval"
            if not box.clusters:
                lines.append(f"{indent}{box.id} [{attrs}];")
                continue
            lines.append(f"{indent}subgraph cluster_{box.id} {{")
            lines.append(f"{indent}  label={_dot_text(box.name + ': ' + box.note)}; style=rounded; color=\"{stroke}\";")
            lines.append(f"{indent}  {box.id} [{attrs}, shape=box3d];")
            for branch in box.clusters:
                lines.append(f"{indent}  subgraph cluster_{branch.id} {{")
                lines.append(f"{indent}    label={_dot_text(branch.title)}; style=dashed;")
                emit(branch, indent + "    ")
                lines.append(f"{indent}  }}")
                first = branch.boxes[0]
                lines.append(f"{indent}  {box.id} -> {first.id} [style=dotted, arrowhead=none];")
            lines.append(f"{indent}}}")
        kinds = {b.id: b for b in c.boxes}
        for a, b, kind in c.edges:
            attrs = ["style=dashed", 'color="#c62828"', 'label="on failure"'] if kind == "on_failure" else []
            if kinds[a].clusters:
                attrs.append(f"ltail=cluster_{a}")
            if kinds[b].clusters:
                attrs.append(f"lhead=cluster_{b}")
            lines.append(f"{indent}{a} -> {b}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")

    emit(top, "  ")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- html -------------------------------------------------------------------------------------------
LEAF_H, ROW_GAP, COL_GAP, PAD, HEADER = 38, 34, 18, 12, 24


def _text_width(text: str) -> float:
    return 7.4 * len(text) + 26


@dataclass
class _Placed:
    w: float
    h: float
    svg: list[str]


def _place_cluster(c: Cluster, title: bool) -> tuple[float, float, list[str], dict[str, tuple]]:
    """SVG of a cluster at (0, 0): its width, height, elements and each box's rectangle."""
    rows = layers(c)
    placed_rows = [[(box, _place_box(box)) for box in row] for row in rows]
    top = HEADER if title else 0
    width = max((sum(p.w for _, p in row) + COL_GAP * (len(row) - 1) for row in placed_rows), default=0) + 2 * PAD
    width = max(width, _text_width(c.title) if title else 0)
    svg: list[str] = []
    rects: dict[str, tuple] = {}
    y = top + PAD
    for row in placed_rows:
        row_w = sum(p.w for _, p in row) + COL_GAP * (len(row) - 1)
        row_h = max(p.h for _, p in row)
        x = (width - row_w) / 2
        for box, p in row:
            rects[box.id] = (x, y, p.w, p.h)
            svg.append(f'<g transform="translate({x:.1f},{y:.1f})">')
            svg.extend(p.svg)
            svg.append("</g>")
            x += p.w + COL_GAP
        y += row_h + ROW_GAP
    height = y - ROW_GAP + PAD
    for a, b, kind in c.edges:
        ax, ay, aw, ah = rects[a]
        bx, by, bw, bh = rects[b]
        x1, y1, x2, y2 = ax + aw / 2, ay + ah, bx + bw / 2, by
        mid = (y1 + y2) / 2
        svg.append(f'<path class="edge {kind}" d="M{x1:.1f},{y1:.1f} C{x1:.1f},{mid:.1f} {x2:.1f},{mid:.1f} '
                   f'{x2:.1f},{y2 - 2:.1f}" marker-end="url(#arrow{"-fail" if kind == "on_failure" else ""})"/>')
    if title:
        svg.insert(0, f'<text class="cluster-title" x="8" y="16">{_html.escape(c.title)}</text>')
    return width, height, svg, rects


def _place_box(box: Box) -> _Placed:
    status = box.colour or "NOT-RUN"
    tip = f"{box.template} ({box.type})" + (f": {box.status}" if box.status else ": not run")
    if box.runs > 1:
        tip += f" over {box.runs} iterations"
    head = (f'<g class="step st-{status}{" composite" if box.clusters else ""}" id="{box.id}" '
            f'data-step="{_html.escape(box.template)}" data-name="{_html.escape(box.name)}" '
            f'data-type="{box.type}" data-status="{box.status or ""}"><title>{_html.escape(tip)}</title>')
    label = box.name + (f" — {box.note}" if box.note else "")
    if not box.clusters:
        w = _text_width(box.name)
        rx = LEAF_H / 2 if box.type in ("success", "fail") else 6
        return _Placed(w, LEAF_H, [head, f'<rect width="{w:.1f}" height="{LEAF_H}" rx="{rx}"/>',
                                   f'<text x="{w / 2:.1f}" y="{LEAF_H / 2 + 5}" text-anchor="middle">'
                                   f'{_html.escape(box.name)}</text>', "</g>"])
    inner = [_place_cluster(branch, True) for branch in box.clusters]
    content_w = sum(w for w, *_ in inner) + COL_GAP * (len(inner) - 1)
    w = max(content_w + 2 * PAD, _text_width(label))
    h = HEADER + PAD + max(h for _, h, *_ in inner) + PAD
    svg = [head, f'<rect width="{w:.1f}" height="{h:.1f}" rx="8"/>',
           f'<text class="composite-title" x="10" y="17">{_html.escape(label)}</text>']
    x = (w - content_w) / 2
    for cw, ch, csvg, _ in inner:
        svg.append(f'<g class="branch" transform="translate({x:.1f},{HEADER + PAD})">'
                   f'<rect class="branch-box" width="{cw:.1f}" height="{ch:.1f}" rx="6"/>')
        svg.extend(csvg)
        svg.append("</g>")
        x += cw + COL_GAP
    svg.append("</g>")
    return _Placed(w, h, svg)


def timings(run_log: "RunLog") -> list[dict[str, Any]]:
    """One Gantt bar per step of the run (composite steps span their branches), in order of start."""
    from . import views

    bars = []
    for step in views.walk_steps(run_log.steps.values()):
        if step.step_type in views.TERMINAL_STEP_TYPES:
            continue
        first, last = views.span(views.walk_steps([step]))
        if first is None:
            continue
        bars.append({"step": step.internal_name, "name": step.name, "type": step.step_type, "status": step.status,
                     "start": first.timestamp(), "end": (last or first).timestamp(),
                     "attempts": len(step.attempts)})
    bars.sort(key=lambda b: (b["start"], b["step"]))
    return bars


PAGE_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:16px;color:#222}
h1{font-size:20px;margin:0 0 4px} .meta{color:#555;margin-bottom:12px}
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;border:1px solid;border-radius:4px;font-size:12px}
svg text{font-size:13px;fill:#222} .cluster-title,.composite-title{font-size:12px;fill:#555}
.step>rect{stroke-width:1.5} .branch-box{fill:none;stroke:#bbb;stroke-dasharray:4 3}
.edge{fill:none;stroke:#555;stroke-width:1.3} .edge.on_failure{stroke:#c62828;stroke-dasharray:5 4}
.step{cursor:pointer} #details{white-space:pre-wrap;font-family:monospace;font-size:12px;background:#f6f6f6;
padding:8px;border-radius:4px;min-height:1em}
#gantt{font-size:12px} .row{display:flex;align-items:center;height:18px}
.row .label{width:260px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;padding-right:8px}
.row .track{flex:1;position:relative;height:12px;background:#f3f3f3}
.row .bar{position:absolute;top:0;height:12px;min-width:2px;border-radius:2px}
.row .dur{width:90px;text-align:right;color:#555}
"""

PAGE_JS = """
(function(){
  var run = JSON.parse(document.getElementById('run-data').textContent);
  var colours = JSON.parse(document.getElementById('colours').textContent);
  var details = document.getElementById('details');
  document.querySelectorAll('g.step').forEach(function(g){
    g.addEventListener('click', function(ev){
      ev.stopPropagation();
      var step = g.getAttribute('data-step');
      var lines = [step + ' (' + g.getAttribute('data-type') + '): ' + (g.getAttribute('data-status') || 'not run')];
      (run.bars || []).forEach(function(b){ if (b.template === step) lines.push('  ' + b.step + ': ' + b.status +
        ', ' + (b.end - b.start).toFixed(3) + ' s, ' + b.attempts + ' attempt(s)'); });
      details.textContent = lines.join('\\n');
    });
  });
  var gantt = document.getElementById('gantt');
  var bars = run.bars || [];
  if (!bars.length) { gantt.textContent = run.run_id ? 'No step of this run has started.' :
    'No run given: draw with --run-id to see step timings.'; return; }
  var t0 = Math.min.apply(null, bars.map(function(b){return b.start;}));
  var t1 = Math.max.apply(null, bars.map(function(b){return b.end;}));
  var total = Math.max(t1 - t0, 1e-6);
  bars.forEach(function(b){
    var row = document.createElement('div'); row.className = 'row gantt-row';
    row.setAttribute('data-step', b.step); row.setAttribute('data-status', b.status);
    var label = document.createElement('div'); label.className = 'label'; label.textContent = b.step;
    label.title = b.step + ' (' + b.type + ')';
    var track = document.createElement('div'); track.className = 'track';
    var bar = document.createElement('div'); bar.className = 'bar';
    bar.style.left = (100 * (b.start - t0) / total) + '%';
    bar.style.width = (100 * (b.end - b.start) / total) + '%';
    var c = colours[b.status] || colours.NOT_RUN; bar.style.background = c[1];
    var dur = document.createElement('div'); dur.className = 'dur'; dur.textContent = (b.end - b.start).toFixed(3) + ' s';
    track.appendChild(bar); row.appendChild(label); row.appendChild(track); row.appendChild(dur);
    gantt.appendChild(row);
  });
})();
"""


def html_page(top: Cluster, run_log: "RunLog | None", graph: "Graph", pipeline_file: str) -> str:
    from . import views

    width, height, svg, _ = _place_cluster(top, False)
    bars = timings(run_log) if run_log is not None else []
    for bar in bars:
        try:
            bar["template"] = graph.find(bar["step"]).internal_name_template()
        except Exception:  # noqa: BLE001 - a step of a changed pipeline: shown in the Gantt only
            bar["template"] = ""
    data = {"run_id": run_log.run_id if run_log else None, "bars": bars}
    colours = {**{k: list(v) for k, v in COLOURS.items()}, "NOT_RUN": list(NOT_RUN)}
    css = PAGE_CSS + "".join(f".st-{s}>rect{{fill:{f};stroke:{c}}}" for s, (f, c) in COLOURS.items())
    css += f".st-NOT-RUN>rect{{fill:{NOT_RUN[0]};stroke:{NOT_RUN[1]}}}"
    title = f"{pipeline_file}" + (f" — run {run_log.run_id}" if run_log else "")
    meta = _html.escape(top.title)
    if run_log is not None:
        first, last = views.span(views.walk_steps(run_log.steps.values()))
        meta += (f" · run <b>{_html.escape(run_log.run_id)}</b>: <span class=\"run-status\">{run_log.status}</span>"
                 f" · started {views.short_time(first)} · took {views.human_duration(views.seconds(first, last))}")
    legend = "".join(f'<span style="background:{f};border-color:{c}">{s}</span>' for s, (f, c) in COLOURS.items())
    markers = ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
               'orient="auto"><path d="M0,0L10,5L0,10z" fill="#555"/></marker>'
               '<marker id="arrow-fail" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
               'orient="auto"><path d="M0,0L10,5L0,10z" fill="#c62828"/></marker></defs>')
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_html.escape(title)}</title>", f"<style>{css}</style></head><body>",
        f"<h1>{_html.escape(pipeline_file)}</h1>", f'<div class="meta">{meta}</div>',
        f'<div class="legend">{legend}</div>',
        f'<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.1f} {height:.1f}">{markers}', *svg, "</svg>",
        '<h2>Step details</h2><div id="details">Click a step.</div>',
        '<h2>Timings</h2><div id="gantt"></div>',
        f'<script type="application/json" id="run-data">{_json_in_html(data)}</script>',
        f'<script type="application/json" id="colours">{_json_in_html(colours)}</script>',
        f"<script>{PAGE_JS}</script>", "</body></html>", ""])


def _json_in_html(value: Any) -> str:
    return json.dumps(value).replace("</", "<\\/")


# --- the command ------------------------------------------------------------------------------------
def draw(pipeline_file: str, fmt: str, *, run_id: str | None = None, config_file: str | None = None,
         log_folder: str | None = None) -> str:
    from .errors import RunnableError
    from .graph import load_pipeline

    if fmt not in FORMATS:
        raise RunnableError(f"unknown format '{fmt}'; allowed: {', '.join(FORMATS)}", field="--format")
    graph = load_pipeline(pipeline_file)
    run_log = None
    if run_id is not None:
        from . import views

        _, run_log = views.find_run(views.open_stores(config_file, log_folder), run_id)
        if run_log.dag_hash and run_log.dag_hash != graph.dag_hash:
            import sys

            sys.stderr.write(f"warning: run '{run_id}' was made from another version of {pipeline_file}: "
                             f"steps it does not have are drawn as not run\n")
    top = picture(graph, run_statuses(graph, run_log) if run_log is not None else None)
    if fmt == "mermaid":
        return mermaid(top)
    if fmt == "dot":
        return dot(top)
    return html_page(top, run_log, graph, pipeline_file)
