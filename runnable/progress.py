"""What the console shows while a run goes: each step as it starts and ends, how many branches of each
parallel or map step are done, and a summary at the end (``runnable execute``, ``retry``, the SDK).

It is the executor's :class:`~runnable.executor.RunObserver`. Two forms:

- on a terminal, coloured lines (rich's styles) as steps end, and a status line at the bottom of the
  screen with the step running and the branch counts of the open parallel and map steps. The status
  line sits outside the terminal's scroll region, so what the tasks print (straight to the terminal,
  from any process) scrolls above it without breaking it; it is redrawn at most ten times a second.
- elsewhere (a pipe, a file, a CI log) one plain line per event, and a count line at most every second
  while branches end; pods on Argo print these too (a pod's log is one step's: its start and end).

Progress goes to standard output, with what the tasks print; standard error keeps the final
``run ID: STATUS`` line and a mistake's one line.

A failing step shows the last lines of its execution log (the traceback, or what the command wrote to
stderr) and where that log is. Each event costs a few microseconds: nothing is re-rendered as a whole.
"""

from __future__ import annotations

import mmap
import os
import sys
import time
from typing import IO, TYPE_CHECKING

from .executor import RunObserver
from .run_log import FAIL, SUCCESS, StepLog
from .views import human_duration, seconds, span

if TYPE_CHECKING:
    from .context import RunContext

TERMINAL_TYPES = ("success", "fail")
TAIL_LINES = 8  # of a failed step's execution log
TAIL_BYTES = 16384
COUNT_EVERY = 1.0  # plain: at most one branch count line a second
DRAW_EVERY = 0.1  # terminal: the status line redrawn at most ten times a second
STYLES = {"ok": "green", "fail": "bold red", "reused": "cyan", "dim": "dim", "name": "bold", "warn": "yellow"}


def reporter(quiet: bool = False, stream: IO[str] | None = None) -> RunObserver:
    """The progress display for this console: nothing with ``quiet``; live on a terminal, else plain lines."""
    if quiet:
        return RunObserver()
    return Progress(stream or sys.stdout)


def pod_reporter() -> RunObserver:
    """A pod's: plain lines (its log), with the step's own output; stderr keeps a mistake's one line."""
    return Progress(sys.stdout, live=False)


def final_line(run_id: str, status: str, quiet: bool = False) -> None:
    """The last line of a run, on stderr: ``run ID: STATUS`` (with ``quiet``, only when it failed)."""
    if not quiet or status != SUCCESS:
        print(f"run {run_id}: {status}", file=sys.stderr, flush=True)


_forked = False  # this is a process forked from the one that runs the pipeline (a branch worker)


def _in_forked_child() -> None:
    global _forked
    _forked = True


os.register_at_fork(after_in_child=_in_forked_child)


class _NoTally:
    """Counts nothing (a pod prints its step, no summary)."""

    def add(self, which: int) -> None:
        pass

    def __getitem__(self, which: int) -> int:
        return 0


class _Tally(_NoTally):
    """Steps ran, reused and failed: counted in memory shared with the branch processes the local executor
    forks (``enable_parallel``), so the summary counts their steps too."""

    RAN, REUSED, FAILED = range(3)

    def __init__(self) -> None:
        import multiprocessing

        self._memory = mmap.mmap(-1, 8 * 3)  # anonymous and shared: a forked process counts into the same
        self._counts = memoryview(self._memory).cast("q")
        self._lock = multiprocessing.get_context("fork").Lock()

    def add(self, which: int) -> None:
        if not _forked:  # the process that made it counts alone while no branch process runs
            self._counts[which] += 1
            return
        with self._lock:
            self._counts[which] += 1

    def __getitem__(self, which: int) -> int:
        return self._counts[which]


def _terminal_colours(stream: IO[str]) -> str | None:
    """None when ``stream`` is not a terminal (plain lines); else rich's colour system ('' for none: NO_COLOR)."""
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    from rich.console import Console

    console = Console(file=stream, highlight=False)
    if not console.is_terminal or console.is_dumb_terminal:
        return None
    return console.color_system or ""


def _seconds(value: float | None) -> str:
    return "" if value is None else human_duration(value)


def failure_detail(ctx: "RunContext", step_log: StepLog) -> tuple[list[str], str | None]:
    """The last lines of a failed step's execution log, and the log's path (none without a local catalog)."""
    entries = [e for e in step_log.data_catalog if e.name.endswith(".execution.log")]
    path = ctx.catalog.path_of(entries[-1]) if entries else None
    if path is None:
        return [], None
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - TAIL_BYTES))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return [], str(path)
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return lines[-TAIL_LINES:], str(path)


class Progress(RunObserver):
    """Prints a run's progress to ``stream``: live on a terminal (``live=None``: decided from the stream)."""

    def __init__(self, stream: IO[str], live: bool | None = None) -> None:
        colours = _terminal_colours(stream) if live is not False else None
        self.stream = stream
        self.live = colours is not None
        self.pending: list[str] = []
        self.holding = False  # while a run goes in this process
        self.paint = {key: self._painter(style, colours) for key, style in STYLES.items()}
        self.tally: _NoTally = _NoTally()  # counts once a run starts here
        self.started = time.monotonic()
        self.opened: dict[str, float] = {}  # steps started in this process: when
        self.fans: dict[str, list[int]] = {}  # composite step -> [done, failed, branches]
        self.running = ""
        self.rows = 0  # the terminal's height while the status line is shown
        self.last_draw = self.last_count = 0.0

    @staticmethod
    def _painter(style: str, colours):
        if not colours:
            return lambda text: text
        from rich.style import Style

        parsed = Style.parse(style)
        return lambda text: parsed.render(text, color_system=colours)

    # --- writing ---------------------------------------------------------------------------------------
    def _write(self, text: str, flush: bool = True) -> None:
        """Written out before anything else may write to the console: a task (a step starts), a forked branch
        process, the end of the run; a step's end line waits for the next of these (one write for both).
        A pod or a branch process writes at once (it may end without telling)."""
        self.pending.append(text)
        if not flush and self.holding and not _forked:
            return
        text, self.pending = "".join(self.pending), []
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the console went away (a closed pipe): the run goes on
            pass

    def _line(self, text: str, flush: bool = True) -> None:
        self._write(text + "\n", flush)

    # --- the terminal's status line ----------------------------------------------------------------------
    def _open_status(self) -> None:
        """Keep the bottom row of the terminal for the status line (VT100 scroll region, DECSTBM)."""
        try:
            size = os.get_terminal_size(self.stream.fileno())
        except (AttributeError, OSError, ValueError):
            return
        if size.lines < 4 or size.columns < 20:
            return
        self.rows, self.columns = size.lines, size.columns
        # a new row at the bottom; save the cursor; scroll rows 1..rows-1 only (this homes the cursor);
        # back to the saved position, one row up (the row made at the bottom is the status line's)
        self._write(f"\n\x1b7\x1b[1;{self.rows - 1}r\x1b8\x1b[1A")

    def _close_status(self) -> None:
        if self.rows:
            # the whole screen scrolls again (homes the cursor: saved and restored around it); status row cleared
            self._write(f"\x1b7\x1b[r\x1b8\x1b7\x1b[{self.rows};1H\x1b[2K\x1b8")
            self.rows = 0

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.rows or _forked or (not force and now - self.last_draw < DRAW_EVERY):
            return
        self.last_draw = now
        parts = [f"{step} {done}/{total}" + (f" ({failed} failed)" if failed else "")
                 for step, (done, failed, total) in self.fans.items()]
        if self.running:
            parts.append(f"running {self.running}")
        text = f"{_seconds(now - self.started)}  " + " · ".join(parts)
        text = text[: self.columns - 1]
        self._write(f"\x1b7\x1b[{self.rows};1H\x1b[2K{self.paint['dim'](text)}\x1b8")

    # --- events ----------------------------------------------------------------------------------------
    def run_started(self, ctx: "RunContext") -> None:
        self.started = time.monotonic()
        self.tally = _Tally()
        self.holding = True
        retrying = f", retrying run {ctx.original_run_id}" if ctx.original_run_id else ""
        self._line(f"{self.paint['name'](f'run {ctx.run_id}')}: started{retrying}")
        if self.live:
            self._open_status()
            self._draw(force=True)

    def step_started(self, ctx: "RunContext", step_log: StepLog, branches: int | None = None) -> None:
        name = step_log.internal_name
        self.opened[name] = self.last_count = time.monotonic()
        if branches is not None:
            self.fans[name] = [0, 0, branches]
            self._line(f"{self.paint['name'](name)}: started, {branches} branches")
        elif self.live:  # a leaf: the status line says it runs
            self.running = name
        else:
            self._line(f"{name}: started")
        self._draw(force=True)

    def step_ended(self, ctx: "RunContext", step_log: StepLog) -> None:
        if step_log.step_type in TERMINAL_TYPES:
            return
        name, status = step_log.internal_name, step_log.status
        fan = self.fans.pop(name, None)
        tally = self.tally
        if step_log.reused:
            tally.add(_Tally.REUSED)
            reused = self.paint["reused"](f"reused ({status} in run {ctx.original_run_id})")
            self._line(f"{self.paint['name'](name)}: {reused}", flush=False)
            return
        opened = self.opened.pop(name, None)
        took = time.monotonic() - opened if opened is not None else (None if fan is not None
                                                                     else seconds(*span([step_log])))
        failed = status == FAIL
        if fan is None:
            tally.add(_Tally.RAN)  # a leaf step (or a composite step that could not open)
            if failed:
                tally.add(_Tally.FAILED)
        elif failed and fan is not None and not fan[1]:  # a composite step that failed of itself
            tally.add(_Tally.FAILED)
        paint = self.paint["fail" if failed else "ok" if status == SUCCESS else "warn"]
        text = f"{self.paint['name'](name)}: {paint(status)}"
        if took is not None:
            text += f" in {_seconds(took)}"
        if fan is not None:
            text += f" ({fan[0]}/{fan[2]} branches done, {fan[1]} failed)"
        if failed and step_log.message:
            text += f": {step_log.message}"
        if name == self.running:
            self.running = ""
        self._line(text, flush=failed or fan is not None)
        if failed and fan is None:
            self._failure(ctx, step_log)
        self._draw(force=fan is not None)

    def _failure(self, ctx: "RunContext", step_log: StepLog) -> None:
        tail, path = failure_detail(ctx, step_log)
        bar = self.paint["dim"]("  | ")
        self._write("".join(f"{bar}{line}\n" for line in tail))
        if path:
            self._line(f"  execution log: {path}")

    def branch_ended(self, ctx: "RunContext", step: str, branch: str, status: str) -> None:
        fan = self.fans.get(step)
        if fan is None:
            return
        fan[0] += 1
        fan[1] += status != SUCCESS
        if self.live:
            self._draw()
            return
        now = time.monotonic()
        if now - self.last_count >= COUNT_EVERY and fan[0] < fan[2]:
            self.last_count = now
            self._line(f"{step}: {fan[0]}/{fan[2]} branches done, {fan[1]} failed")

    def run_ended(self, ctx: "RunContext", status: str) -> None:
        self.holding = False
        self._close_status()
        self.fans.clear()
        tally = self.tally
        self._line(f"{self.paint['name'](f'run {ctx.run_id}')}: steps ran {tally[_Tally.RAN]}, reused "
                   f"{tally[_Tally.REUSED]}, failed {tally[_Tally.FAILED]}; took "
                   f"{_seconds(time.monotonic() - self.started)}; run log: {ctx.run_log_store.location(ctx.run_id)}")
