"""The base of every task type (``command_type``). Task types are plugins: ``runnable.tasks`` entry points.

A task type knows how to call its command with the step's parameters and what the command returned;
the task step (node) around it handles attempts, the catalog and the run log.
"""

from __future__ import annotations

import codecs
import os
import queue
import sys
import threading
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator

from pydantic import BaseModel, ConfigDict, field_validator

from .parameters import ReturnSpec, parse_returns
from .secrets import SECRET_NAME

if TYPE_CHECKING:
    from .context import RunContext
    from .preflight import StepCheck


class TaskInputs:
    """The parameters a task may read; object values are loaded only when a task asks for them."""

    def __init__(self, names: list[str], load: Callable[[str], Any], json_values: dict[str, Any]) -> None:
        self.names = names
        self.load = load
        self.json_values = json_values  # json/metric values as they are; objects are absent
        self.used: list[str] | None = None  # set by a task once it knows what it reads (kept if it then fails)


class TaskResult:
    def __init__(self, values: dict[str, Any], used: list[str] | None = None, catalog: list | None = None) -> None:
        self.values = values  # raw python values by return name
        self.used = used  # parameter names the command read (None: all)
        self.catalog = catalog or []  # catalog entries the command produced (an executed notebook)


class _Tee:
    """Writes to the execution log and on to the console the user is watching.

    With ``scrub``, text is passed on a whole line at a time, so a secret printed in several pieces is
    scrubbed as one; a line without its end is passed on when the capture ends (or past 64 KB)."""

    HOLD = 1 << 16

    def __init__(self, *streams, scrub: Callable[[str], str] | None = None) -> None:
        self.streams = streams
        self.scrub = scrub
        self.pending = ""

    def write(self, text: str) -> int:
        if not self.scrub:
            self._emit(text)
            return len(text)
        self.pending += text
        cut = self.pending.rfind("\n") + 1 if len(self.pending) <= self.HOLD else len(self.pending)
        if cut:
            self._emit(self.scrub(self.pending[:cut]))
            self.pending = self.pending[cut:]
        return len(text)

    def _emit(self, text: str) -> None:
        for stream in self.streams:
            stream.write(text)

    def close(self) -> None:
        if self.pending:
            self._emit(self.scrub(self.pending) if self.scrub else self.pending)
            self.pending = ""
        self.flush()

    def flush(self) -> None:  # the line being written is held back: flushing it could show half a secret
        for stream in self.streams:
            stream.flush()


@contextmanager
def capture_output(log, scrub: Callable[[str], str] | None = None) -> Iterator[None]:
    """Copy what in-process code prints into the step's execution log, still showing it on the console.

    ``scrub`` removes secret values from both copies. With ``scrub``, file descriptors 1 and 2 are also
    read through pipes while the code runs, so what a child process it starts writes is scrubbed and
    logged too (not possible when the console is not a file descriptor, e.g. inside pytest's capture).
    """
    with _descriptors_piped(scrub is not None) as consoles:
        out = _Tee(log, consoles[0] if consoles else sys.stdout, scrub=scrub)
        err = _Tee(log, consoles[1] if consoles else sys.stderr, scrub=scrub)
        # a child's output has tees of its own: each holds back its own unfinished line
        piped = [_Tee(log, console, scrub=scrub) for console in consoles[:2]] if consoles else []
        pumps = [_Pump.start(pipe, tee) for pipe, tee in zip(consoles[2:4], piped)] if consoles else []
        try:
            with redirect_stdout(out), redirect_stderr(err):
                yield
        finally:
            if consoles:
                _restore(consoles)
            for pump in pumps:  # a child left running in the background may keep a pipe open: do not wait
                pump.wait(timeout=1.0)
            for tee in [out, err, *piped]:
                tee.close()


@contextmanager
def _descriptors_piped(wanted: bool) -> Iterator[list | None]:
    """Descriptors 1 and 2 pointed at pipes: [console out, console err, pipe out, pipe err, saved 1, saved 2]."""
    try:
        if not wanted or sys.stdout.fileno() != 1 or sys.stderr.fileno() != 2:
            raise OSError
    except (AttributeError, OSError, ValueError):
        yield None
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    consoles = [open(os.dup(fd), "w", buffering=1, encoding="utf-8", errors="replace") for fd in saved]
    reads = []
    for fd in (1, 2):
        read, write = os.pipe()
        os.dup2(write, fd)
        os.close(write)
        reads.append(read)
    try:
        yield [*consoles, *reads, *saved]
    finally:
        for console in consoles:
            console.close()


def _restore(consoles: list) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    for fd, saved in zip((1, 2), consoles[4:]):
        os.dup2(saved, fd)  # closes this process's write end of the pipe: the pump sees the end
        os.close(saved)


class _Pump:
    """A thread that copies pipes into tees, one pipe at a time, kept for this process's later steps: starting a
    thread for each step's output took a third of a one-step map iteration (3 ms a thread on a loaded machine)."""

    idle: list["_Pump"] = []
    lock = threading.Lock()

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._serve, daemon=True, name="runnable-output-pump").start()

    @classmethod
    def start(cls, read: int, tee: _Tee) -> threading.Event:
        """Copy ``read`` into ``tee`` until its writers close it (an idle pump, or a new one); set when done."""
        with cls.lock:
            pump = cls.idle.pop() if cls.idle else None
        done = threading.Event()
        (pump or cls()).jobs.put((read, tee, done))
        return done

    def _serve(self) -> None:
        while True:
            read, tee, done = self.jobs.get()
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            with os.fdopen(read, "rb", buffering=0) as fh:
                try:
                    while chunk := fh.read(1 << 16):
                        tee.write(decoder.decode(chunk))
                except (OSError, ValueError):  # the step ended and closed its log while a child still wrote
                    pass
            with _Pump.lock:  # ready for another step's output (a pipe a background child kept open holds it here)
                _Pump.idle.append(self)
            done.set()

    @classmethod
    def forked(cls) -> None:
        """A forked process has none of its parent's threads, and a lock one of them held stays held: afresh."""
        cls.idle, cls.lock = [], threading.Lock()


os.register_at_fork(after_in_child=_Pump.forked)


class BaseTaskType(BaseModel):
    """The command part of a task step: ``command_type``, ``command``, ``returns``, ``secrets`` and
    type-specific fields."""

    model_config = ConfigDict(extra="forbid")

    task_type: ClassVar[str] = ""

    command_type: str
    command: str
    returns: list[ReturnSpec] = []
    secrets: list[str] | None = None  # what the command may ask for; None (not declared): every secret

    @field_validator("secrets", mode="before", json_schema_input_type=list[str] | None)
    @classmethod
    def _secrets(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, list):
            raise ValueError(f"must be a list of secret names (got {value!r})")
        for i, name in enumerate(value):
            if not isinstance(name, str) or not SECRET_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid secret name (letters, digits and '_', not starting "
                                 f"with a digit)")
            if name in value[:i]:
                raise ValueError(f"'{name}' is listed twice")
        return value

    @field_validator("returns", mode="before", json_schema_input_type=list[str | ReturnSpec])
    @classmethod
    def _returns(cls, value: Any) -> list[Any]:
        return parse_returns(value)

    @field_validator("command")
    @classmethod
    def _command(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    def check(self) -> None:
        """Static checks beyond the field types (e.g. the dotted path's shape); raise ValueError."""

    def preflight(self, check: "StepCheck") -> None:
        """What can be checked before the run (the command's files, its code, its arguments): report each
        problem with ``check.problem(field, message)``; never run the command."""

    def run(self, ctx: "RunContext", inputs: TaskInputs, *, step_name: str, log) -> TaskResult:
        """Run the command; raise to fail the attempt. ``log`` receives the command's output."""
        raise NotImplementedError
