"""What happened: the runs of a store (``runnable runs``) and the tree of one run (``runnable show``).

Everything is read through the run log store's API and nothing is ever written, so both work on a run
that is still going (its pieces not yet gathered), on a run cut short, and on run logs copied back from
a cluster. Without a configuration, every installed store that keeps runs in a folder reads that folder
(file-system and chunked-fs runs often sit side by side in ``.run_log_store``).

Output is coloured with rich on a terminal and plain text otherwise (one line per fact, for grep).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable

from . import names
from .run_log import FAIL, PROCESSING, SUCCESS, BranchLog, RunLog, StepLog
from .errors import RunnableError, RunLogNotFoundError
from .run_log_store import TERMINAL_STEP_TYPES, StepTally, parse_time  # the drawing reads TERMINAL_STEP_TYPES here

if TYPE_CHECKING:
    from .run_log_store import BaseRunLogStore

DEFAULT_LOG_FOLDER = ".run_log_store"
STATUS_STYLES = {SUCCESS: "green", FAIL: "bold red", PROCESSING: "yellow", "CREATED": "dim", "TRIGGERED": "cyan"}
VALUE_WIDTH = 80  # longer parameter values are cut in the tree (--json has them whole)


# --- which stores -----------------------------------------------------------------------------------
def open_stores(config_file: str | None, log_folder: str | None) -> list["BaseRunLogStore"]:
    """The stores to read: the configured one (``-c``, or RUNNABLE_CONFIGURATION_FILE), its folder replaced
    by ``log_folder`` if given; with no configuration, every folder-keeping store on ``log_folder``."""
    from . import plugins
    from .config import CONFIG_FILE_ENV, load_configuration
    from .service import build_service

    given = config_file
    config_file = config_file or os.environ.get(CONFIG_FILE_ENV) or None
    if config_file:
        config = load_configuration(given)  # None: the variable's file, which its errors then name
        if log_folder is not None:
            config.run_log_store.config = {**(config.run_log_store.config or {}), "log_folder": log_folder}
        store = build_service("run_log_store", config)
        folder = getattr(store, "log_folder", None)
        if folder is not None:
            _check_folder(folder, given=log_folder is not None, config_file=config_file)
        return [store]
    folder = log_folder if log_folder is not None else DEFAULT_LOG_FOLDER
    _check_folder(folder, given=log_folder is not None)
    stores = []
    for name in sorted(plugins.available("run_log_store"), key=lambda n: n != "file-system"):
        cls = plugins.load("run_log_store", name)
        if "log_folder" in cls.model_fields:
            stores.append(cls(log_folder=folder))
    return stores


def _check_folder(folder: str, *, given: bool, config_file: str | None = None) -> None:
    if os.path.isdir(folder):
        return
    if given:
        raise RunnableError(f"no run log folder '{folder}'", field="--log-folder")
    if config_file:
        raise RunnableError(f"no run log folder '{folder}' (the log_folder {config_file} names; or give --log-folder)")
    raise RunnableError(f"no run log folder '{folder}' here: nothing ran in this directory (or give --log-folder)")


def _where(stores: list["BaseRunLogStore"]) -> str:
    folders = dict.fromkeys(str(getattr(s, "log_folder", s.service_name)) for s in stores)
    return f"{', '.join(folders)} ({', '.join(s.service_name for s in stores)})"


def holding(stores: list["BaseRunLogStore"], run_id: str) -> "BaseRunLogStore":
    """The first of ``stores`` that holds run ``run_id``."""
    from .run_log_store import check_run_id

    check_run_id(run_id)
    for store in stores:
        if store.run_exists(run_id):
            return store
    raise RunLogNotFoundError(f"no run '{run_id}' in {_where(stores)}")


def find_run(stores: list["BaseRunLogStore"], run_id: str) -> tuple["BaseRunLogStore", RunLog]:
    """The whole run log of ``run_id``, from the first store that holds it."""
    store = holding(stores, run_id)
    return store, store.get_run_log(run_id)


def write_run_json(stores: list["BaseRunLogStore"], run_id: str, write) -> None:
    """The whole run log of ``run_id`` as JSON through ``write``, from the first store that holds it, as the
    store gives it in parts (a map of 100,000 iterations is never held whole)."""
    holding(stores, run_id).write_json(run_id, write)
    write("\n")


# --- times ------------------------------------------------------------------------------------------
def span(steps: Iterable[StepLog]) -> tuple[datetime | None, datetime | None]:
    """The first start and the last end among the attempts of ``steps`` (a step still running: its start)."""
    tally = StepTally.of(steps)
    return tally.first, tally.last


def seconds(first: datetime | None, last: datetime | None) -> float | None:
    return (last - first).total_seconds() if first and last else None


def human_duration(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    minutes, secs = divmod(int(value), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {secs} s"


def short_time(moment: datetime | None) -> str:
    return moment.isoformat(sep=" ", timespec="seconds") if moment else "-"


# --- runs -------------------------------------------------------------------------------------------
@dataclass
class RunSummary:
    run_id: str
    status: str
    tag: str
    original_run_id: str
    store: str
    start: datetime | None
    end: datetime | None
    counts: Counter = field(default_factory=Counter)

    @property
    def duration(self) -> float | None:
        return seconds(self.start, self.end)

    def steps_text(self) -> str:
        total = sum(self.counts.values())
        if not total:
            return "0"
        detail = ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items(), key=lambda kv: -kv[1]))
        return f"{total} ({detail})"

    def as_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "status": self.status, "tag": self.tag, "original_run_id": self.original_run_id,
                "store": self.store, "start": self.start.isoformat(sep=" ") if self.start else None,
                "end": self.end.isoformat(sep=" ") if self.end else None, "duration_seconds": self.duration,
                "steps": dict(self.counts)}


def summarize(store: "BaseRunLogStore", run_id: str) -> RunSummary:
    header, tally = store.summary(run_id)
    return RunSummary(run_id, header.status, header.tag, header.original_run_id, store.service_name,
                      tally.first, tally.last, Counter(tally.counts))


def list_runs(stores: list["BaseRunLogStore"], limit: int | None = None) -> list[RunSummary]:
    """Every run of the stores, newest first (by first step start; runs that never started a step last)."""
    summaries: dict[str, RunSummary] = {}
    for store in stores:
        for run_id in store.list_run_ids():
            if run_id in summaries:
                continue
            try:
                summaries[run_id] = summarize(store, run_id)
            except RunLogNotFoundError:  # removed while we listed
                continue
    ordered = sorted(summaries.values(), key=lambda s: (s.start is not None, s.start or datetime.min, s.run_id),
                     reverse=True)
    return ordered[:limit] if limit else ordered


def print_runs(summaries: list[RunSummary], *, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps([s.as_json() for s in summaries], indent=1))
        return
    headers = ["RUN ID", "STATUS", "TAG", "STARTED", "DURATION", "STEPS", "RETRY OF"]
    rows = [[s.run_id, s.status, s.tag, short_time(s.start), human_duration(s.duration), s.steps_text(),
             s.original_run_id] for s in summaries]
    console = _console()
    if console is None:
        widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
        for row in [headers] + rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for h in headers:
        table.add_column(h, no_wrap=True)
    for row in rows:
        table.add_row(*row[:1], f"[{STATUS_STYLES.get(row[1], '')}]{row[1]}[/]", *row[2:])
    console.print(table)


# --- one run ----------------------------------------------------------------------------------------
def _console():
    """A rich console when stdout is a terminal; None for plain text."""
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    return console if console.is_terminal else None


def _value(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def _parameters(params: dict) -> str:
    return ", ".join(f"{k}={'(object) ' if p.kind == 'object' else ''}{_value(p.value)}" for k, p in params.items())


def _code(step: StepLog) -> str:
    parts = []
    for c in step.code_identities:
        text = f"{c.code_identifier_type} {c.code_identifier[:12] or '(none)'}"
        if c.code_identifier_url:
            text += f" {c.code_identifier_url}"
        if c.code_identifier_message:
            message = c.code_identifier_message
            text += f" ({message if len(message) <= 60 else message[:59] + '…'})"
        parts.append(text)
    return "; ".join(parts)


def _iterate_as(run_config: dict, map_step: str) -> str | None:
    """The ``iterate_as`` of a map step, read from the pipeline definition the run log keeps."""
    graph = (run_config.get("dag") or {}).get("dag")
    segments = names.split(map_step)
    step: Any = None
    for i, segment in enumerate(segments):
        if i % 2 == 0:  # a step name
            if not isinstance(graph, dict):
                return None
            step = (graph.get("steps") or {}).get(segment)
            if not isinstance(step, dict):
                return None
        else:  # the branch key of the step before it
            graph = step.get("branch") if step.get("type") == "map" else (step.get("branches") or {}).get(segment)
    return step.get("iterate_as") if isinstance(step, dict) else None


class _Lines:
    """Lines of the tree, each a list of (text, style); printed plain or with rich."""

    def __init__(self) -> None:
        self.lines: list[list[tuple[str, str]]] = []

    def add(self, *parts: tuple[str, str] | str) -> None:
        self.lines.append([p if isinstance(p, tuple) else (p, "") for p in parts])

    def print(self) -> None:
        console = _console()
        if console is None:
            import sys

            sys.stdout.write("".join("".join(t for t, _ in line) + "\n" for line in self.lines))
            return
        from rich.text import Text

        text = Text()
        for line in self.lines:
            for part, style in line:
                text.append(part, style=style or None)
            text.append("\n")
        console.print(text, end="")


def _status(status: str) -> tuple[str, str]:
    return status, STATUS_STYLES.get(status, "")


def show_run(run_log: RunLog) -> None:
    """The run as a tree of steps and branches, with what each did."""
    out = _Lines()
    every_step = list(walk_steps(run_log.steps.values()))
    first, last = span(every_step)
    title = [("run ", "bold"), (run_log.run_id, "bold"), ": ", _status(run_log.status)]
    if run_log.tag:
        title.append(f"  tag: {run_log.tag}")
    if run_log.original_run_id:
        title.append(f"  retry of: {run_log.original_run_id}")
    out.add(*title)
    out.add(f"  started {short_time(first)}, took {human_duration(seconds(first, last))}"
            + (f"; pipeline {run_log.run_config['pipeline_file']}" if run_log.run_config.get("pipeline_file") else ""))
    if run_log.parameters:
        out.add(f"  parameters: {_parameters(run_log.parameters)}")
    stack: list[tuple[str, Any, bool]] = [("", s, i == len(run_log.steps) - 1)
                                          for i, s in enumerate(run_log.steps.values())][::-1]
    while stack:  # iterative: runs of any depth and length
        prefix, item, is_last = stack.pop()
        branch = "└─ " if is_last else "├─ "
        inner = prefix + ("   " if is_last else "│  ")
        if isinstance(item, StepLog):
            _step_lines(out, prefix + branch, inner, item)
            children: list = sorted(item.branches.values(), key=lambda b: (b.iteration is None, b.iteration or 0))
            iterate_as = _iterate_as(run_log.run_config, item.internal_name) if item.step_type == "map" else None
            children = [(c, iterate_as) for c in children]
        else:
            log, iterate_as = item
            _branch_lines(out, prefix + branch, inner, log, iterate_as)
            children = list(log.steps.values())
        stack.extend((inner, child, i == len(children) - 1) for i, child in reversed(list(enumerate(children))))
    out.print()


def walk_steps(steps: Iterable[StepLog]):
    stack = list(steps)
    while stack:
        step = stack.pop()
        yield step
        for b in step.branches.values():
            stack.extend(b.steps.values())


def _step_lines(out: _Lines, head: str, inner: str, step: StepLog) -> None:
    first, last = span(walk_steps([step]))
    line = [head, (step.name, "bold"), f" ({step.step_type}) ", _status(step.status)]
    if step.step_type not in TERMINAL_STEP_TYPES:
        line.append(f"  {human_duration(seconds(first, last))}")
    if step.reused:
        line.append(("  reused from the original run", "cyan"))
    if step.mock:
        line.append("  mock")
    out.add(*line)
    detail = inner + ("│  " if step.branches else "   ")
    if step.message:
        out.add(detail, ("message: ", "dim"), step.message)
    if step.step_type in TERMINAL_STEP_TYPES or step.branches:
        return
    for attempt in step.attempts:
        out.add(detail, (f"attempt {attempt.attempt_number}: ", "dim"), _status(attempt.status),
                f" {human_duration(seconds(parse_time(attempt.start_time), parse_time(attempt.end_time)))}"
                f" from {attempt.start_time or '-'}" + (f": {attempt.message}" if attempt.message else ""))
    final = step.attempts[-1] if step.attempts else None
    if final and final.input_parameters:
        out.add(detail, ("in: ", "dim"), _parameters(final.input_parameters))
    if final and final.output_parameters:
        out.add(detail, ("out: ", "dim"), _parameters(final.output_parameters))
    if step.user_defined_metrics:
        out.add(detail, ("metrics: ", "dim"), ", ".join(f"{k}={_value(v)}" for k, v in step.user_defined_metrics.items()))
    for entry in step.data_catalog:
        digest = f" hash {entry.data_hash[:12]}" if entry.data_hash else ""
        out.add(detail, ("catalog: ", "dim"), f"{entry.stage} {entry.name}{digest}")
    if step.code_identities:
        out.add(detail, ("code: ", "dim"), _code(step))


def _branch_lines(out: _Lines, head: str, inner: str, log: BranchLog, iterate_as: str | None) -> None:
    key = names.split(log.internal_name)[-1]
    params = dict(log.parameters)
    if log.iteration is not None:
        item = iterate_as if iterate_as in params else next(iter(params), None)
        label = f"iteration {log.iteration}" + (f" ({_parameters({item: params.pop(item)})})" if item else "")
    else:
        label = f"branch {key}"
    out.add(head, (label, "bold"), " ", _status(log.status))
    if params:
        out.add(inner + ("│  " if log.steps else "   "), ("set: ", "dim"), _parameters(params))
