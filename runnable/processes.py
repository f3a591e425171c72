"""The processes a run starts, and how they end with it.

* A task's process tree runs in a process group of its own (a shell task's script; a time-limited
  attempt, :func:`run_with_limit`), ended when the task ends, is interrupted or times out.
* While a local run goes, a small watcher process (:func:`watched_run`) knows those groups. When the
  run ends, however it ends -- its process killed with SIGKILL included -- the watcher ends every
  group still registered and every process still carrying the run's mark: the environment variable
  ``RUNNABLE_RUN_MARK``, which every program a task starts inherits (a python task's subprocesses too).
* Processes forked for the run (branch workers, time-limited attempts) die with the process that
  forked them (Linux: ``PR_SET_PDEATHSIG``).
* SIGTERM (what Kubernetes sends) stops a run as Ctrl-C does: the command line raises
  :class:`Interrupted` (runnable/cli.py), the executor records the running steps and the run FAIL,
  "interrupted", and the command exits 128 + the signal (143).
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, Callable, Iterator

from .errors import RunnableError

if TYPE_CHECKING:
    import subprocess

MARK = "RUNNABLE_RUN_MARK"
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal: SIGINT (Ctrl-C) or SIGTERM."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class _State:
    watcher: int | None = None  # write end of the pipe to the run's watcher
    leads_group = False  # this process leads the group of the task it runs (a time-limited attempt)
    prctl: Any = None


_state = _State()


def _prctl():
    """libc's prctl (Linux), loaded before forking so that a forked child need not import ctypes."""
    if _state.prctl is None and sys.platform.startswith("linux"):
        try:
            import ctypes

            _state.prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            _state.prctl = False
    return _state.prctl


def die_with_parent(parent: int, signum: int = signal.SIGKILL) -> None:
    """In a forked child: receive ``signum`` when the parent (the thread that forked it) ends; if it has
    already ended, end now."""
    prctl = _prctl()
    if prctl:
        prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(128 + signum)


# --- the run's watcher -----------------------------------------------------------------------------
@contextmanager
def watched_run() -> Iterator[None]:
    """While the block runs, what the run's tasks start is watched: it all ends when the block ends or
    this process dies."""
    import secrets

    if not hasattr(os, "fork") or _state.watcher is not None:
        yield
        return
    _reap_ended()
    token = secrets.token_hex(8)
    read, write = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the watcher
        code = 1
        try:
            code = _watch(read, parent, token)
        finally:
            os._exit(code)
    os.close(read)
    previous = os.environ.get(MARK)
    os.environ[MARK] = token
    _state.watcher = write
    try:
        yield
    finally:
        _state.watcher = None
        if previous is None:
            os.environ.pop(MARK, None)
        else:
            os.environ[MARK] = previous
        _tell(write, b"=\n")  # the end: a forked process the user left may still hold the pipe open
        os.close(write)
        _ended.append(pid)  # it ends what is left, then exits: not waited for here (a run's end is not delayed)
        _reap_ended()


_ended: list[int] = []  # watchers of runs that have ended, reaped once they exit


def _reap_ended() -> None:
    for pid in list(_ended):
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == 0:
                continue
        except ChildProcessError:
            pass
        _ended.remove(pid)


def _tell(fd: int | None, line: bytes) -> None:
    if fd is not None:
        try:
            os.write(fd, line)  # one short write: atomic, whichever process of the run writes it
        except OSError:
            pass


def _reap(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done or time.monotonic() > deadline:
            return
        time.sleep(0.005)


class _ParentGone(Exception):
    pass


def _watch(read: int, parent: int, token: str) -> int:
    """The watcher: wait for the run's end (a line "=", the pipe closed, or the run's process gone), then
    end every group still registered and every process carrying the run's mark."""
    try:
        os.setsid()  # out of the terminal's process group: Ctrl-C is for the run, not for its watcher
    except OSError:
        pass
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    # nothing inherited is held open: not the console's pipes, not the stores' files and locks
    os.closerange(3, read)
    os.closerange(read + 1, 1 << 16)

    def parent_gone(signum, frame):
        raise _ParentGone

    signal.signal(signal.SIGUSR1, parent_gone)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent, signal.SIGUSR1)
    groups: set[int] = set()
    pending = b""
    try:
        while os.getppid() == parent:
            if not select.select([read], [], [], 1.0)[0]:
                continue
            data = os.read(read, 4096)
            if not data:
                break
            *lines, pending = (pending + data).split(b"\n")
            if b"=" in lines:
                break
            for line in lines:
                if line[:1] == b"+":
                    groups.add(int(line[1:]))
                elif line[:1] == b"-":
                    groups.discard(int(line[1:]))
    except _ParentGone:
        pass
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    for group in groups:
        end_group(group)
    end_marked(token)
    return 0


def end_marked(token: str, rounds: int = 3) -> None:
    """Kill every process whose environment carries the run's mark (Linux: read from /proc)."""
    mark = f"{MARK}={token}".encode()
    me = os.getpid()
    for _ in range(rounds):  # what one of them started meanwhile is found the next time round
        found = []
        try:
            entries = os.listdir("/proc")
        except OSError:
            return
        for entry in entries:
            if not entry.isdigit() or int(entry) == me:
                continue
            try:
                with open(f"/proc/{entry}/environ", "rb") as fh:
                    environ = fh.read()
            except OSError:
                continue
            if mark in environ and mark in environ.split(b"\0"):
                found.append(int(entry))
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


# --- a task's process group ------------------------------------------------------------------------
def end_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:  # already gone
        pass


@contextmanager
def task_group(pgid: int) -> Iterator[None]:
    """``pgid`` is a task's process group: it ends when the block does, and with the run if this process
    dies first."""
    fd = _state.watcher
    _tell(fd, b"+%d\n" % pgid)
    try:
        yield
    finally:
        end_group(pgid)
        _tell(fd, b"-%d\n" % pgid)


@contextmanager
def task_process(args: list[str], **popen: Any) -> Iterator[subprocess.Popen]:
    """Start a task's program in a process group of its own (here, unless this process already leads the
    task's group), ended with everything it started when the block ends."""
    import subprocess

    own = not _state.leads_group and hasattr(os, "killpg")
    if own:
        popen.update({"process_group": 0} if sys.version_info >= (3, 11) else {"start_new_session": True})
    proc = subprocess.Popen(args, **popen)
    try:
        with task_group(proc.pid) if own else nullcontext():
            yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


# --- failures that cross a process boundary --------------------------------------------------------
def failure(exc: BaseException) -> tuple:
    """What went wrong in a forked process, as plain data (an exception may not pickle)."""
    import traceback

    if isinstance(exc, RunnableError):
        return ("user", exc.message, exc.file, exc.line, exc.step, exc.field)
    return ("internal", f"{type(exc).__name__}: {exc}", traceback.format_exc())


def raise_failure(outcome: tuple, where: str = "a forked process") -> None:
    """Raise, in the parent, what :func:`failure` recorded in ``where``."""
    import logging

    if outcome[0] == "user":
        _, message, file, line, step, field = outcome
        raise RunnableError(message, file=file, line=line, step=step, field=field)
    logging.getLogger("runnable").debug("%s failed:\n%s", where, outcome[2])
    raise RuntimeError(f"{where} failed: {outcome[1]}")


# --- a time limit ----------------------------------------------------------------------------------
class TimedOutError(Exception):
    """Past the time limit: the attempt's process group was killed."""


def _timed_out(seconds: float) -> TimedOutError:
    return TimedOutError(f"timed out after {seconds} s")


class VanishedError(Exception):
    """The attempt's process ended without saying what it did (killed, or ``os._exit`` in the task)."""


def run_with_limit(work: Callable[[], Any], seconds: float, grace: float = 2.0) -> tuple[Any, bool]:
    """``work()`` in a forked process leading a process group of its own: what it returns (it must pickle),
    and whether it ran past ``seconds``.

    At ``seconds`` the processes ``work`` started get SIGTERM and :class:`TimedOutError` is raised inside
    ``work`` (SIGALRM), so that it can still say what it did (a task's attempt records its output so far);
    work that ends within ``grace`` after that returns what it says, with True. Work that does not (stuck where Python cannot raise, or swallowing the error)
    is killed with its group and :class:`TimedOutError` raised here; :class:`VanishedError` if the process
    ends without a result. An exception ``work`` raises comes back as :func:`raise_failure` raises it. The
    group (the work and every process it started) is killed when this returns or raises, interrupted too.
    """
    import pickle

    read, write = os.pipe()
    parent = os.getpid()
    _prctl()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.close(read)
            os.setpgid(0, 0)
            die_with_parent(parent)
            _state.leads_group = True
            overran = []

            def too_long(signum, frame):
                overran.append(True)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                try:  # what the work started is asked to stop first (it may hold the output pipes open)
                    os.killpg(0, signal.SIGTERM)
                except OSError:
                    pass
                raise _timed_out(seconds)

            signal.signal(signal.SIGALRM, too_long)
            try:
                try:
                    signal.setitimer(signal.ITIMER_REAL, seconds)
                    value = work()
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                result: tuple = ("ok", (value, bool(overran)))
            except TimedOutError:
                result = ("timed out", None)
            except BaseException as exc:  # noqa: BLE001 - the parent raises it
                result = ("failed", failure(exc))
            payload = pickle.dumps(result)
            view = memoryview(len(payload).to_bytes(8, "big") + payload)
            while view:
                view = view[os.write(write, view):]
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    try:
        os.setpgid(pid, pid)  # as the child does: whichever runs first
    except OSError:
        pass
    received = bytearray()
    deadline = time.monotonic() + seconds + grace
    try:
        with task_group(pid):  # its end kills what the work left running
            # the result's length first: a process the work forked may hold the pipe open after it
            while len(received) < 8 or len(received) < 8 + int.from_bytes(received[:8], "big"):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _timed_out(seconds)
                if select.select([read], [], [], left)[0]:
                    chunk = os.read(read, 1 << 16)
                    if not chunk:
                        raise VanishedError("its process ended without a result (killed, or the task ended its "
                                            "own process)")
                    received += chunk
    finally:
        os.close(read)
        _reap(pid, 5.0)
    kind, value = pickle.loads(received[8:])
    if kind == "timed out":
        raise _timed_out(seconds)
    if kind == "failed":
        raise_failure(value)
    return value
