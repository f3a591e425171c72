"""Issue 16 (items 1 and 2): one run id is one run, and gathering a file-system run loses no step.

Processes are forked and released together by a barrier, so every repetition is a real race.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from pathlib import Path

import pytest

from runnable.run_log import SUCCESS, RunLog, StepAttempt, StepLog
from runnable.errors import RunnableError
from tests.conftest import read_run_log
from tests.extensions.run_log_stores.test_concurrent_writers import STORES, make_store

CTX = mp.get_context("fork")
STARTERS = 8
REPEATS = 20


def start(kind: str, folder: str, index: int, barrier, outcomes) -> None:
    """What a run's start does with the store: create the run log, then record its steps."""
    store = make_store(kind, folder)
    barrier.wait()
    try:
        store.create_run_log(RunLog(run_id="same", status="PROCESSING", tag=f"p{index}"))
    except RunnableError as exc:
        outcomes.put((index, str(exc)))
        return
    outcomes.put((index, "ran"))
    for i in range(3):
        store.put_step_log("same", StepLog(name=f"s{i}", internal_name=f"p{index}-s{i}", status=SUCCESS))
    store.set_run_status("same", SUCCESS)
    store.finalize("same")


@pytest.mark.parametrize("kind", STORES)
def test_eight_starts_of_one_run_id_run_once(tmp_path, kind):
    for repeat in range(REPEATS):
        folder = str(tmp_path / f"logs{repeat}")
        barrier, outcomes = CTX.Barrier(STARTERS), CTX.Queue()
        procs = [CTX.Process(target=start, args=(kind, folder, i, barrier, outcomes)) for i in range(STARTERS)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
            assert p.exitcode == 0
        results = dict(outcomes.get(timeout=5) for _ in procs)
        winners = [i for i, outcome in results.items() if outcome == "ran"]
        assert len(winners) == 1, (repeat, results)
        losers = {outcome for outcome in results.values() if outcome != "ran"}
        assert losers == {f"field 'run_id': run id 'same' already exists in {folder}; choose another"}
        run_log = make_store(kind, folder).get_run_log("same")
        # only the winner wrote: its header, its steps, its status
        assert (run_log.tag, run_log.status) == (f"p{winners[0]}", SUCCESS)
        assert sorted(run_log.steps) == ["s0", "s1", "s2"]
        assert {s.internal_name for s in run_log.steps.values()} == {f"p{winners[0]}-s{i}" for i in range(3)}


def test_a_second_start_of_a_run_id_is_one_line_and_changes_nothing(project, cli):
    assert cli("execute", "-f", "examples/hello.yaml", "--run-id", "once").returncode == 0
    before = read_run_log(project, "once")
    again = cli("execute", "-f", "examples/hello.yaml", "--run-id", "once")
    assert again.returncode != 0
    assert len(again.error_lines) == 1 and "run id 'once' already exists" in again.error_lines[0]
    assert "Traceback" not in again.stderr
    assert read_run_log(project, "once") == before


WRITERS = 64
STEPS_EACH = 4


def write_steps(folder: str, prefix: str, count: int, barrier) -> None:
    store = make_store("file-system", folder)
    barrier.wait()
    for i in range(count):
        log = StepLog(name=f"{prefix}-{i}", internal_name=f"{prefix}-{i}", status="PROCESSING")
        store.put_step_log("run", log)
        log.status = SUCCESS
        log.attempts.append(StepAttempt(attempt_number=1, status=SUCCESS))
        store.put_step_log("run", log)


def gather_until(folder: str, barrier, stop) -> None:
    store = make_store("file-system", folder)
    barrier.wait()
    while not stop.is_set():
        store.finalize("run")
        store.get_run_log("run")
        time.sleep(0.02)  # gatherings keep coming, writers still get the lock in between


def race(folder: str, prefix: str, count: int) -> list[str]:
    """64 writers and 2 repeated gatherings at once, while this process reads every JSON file."""
    barrier, stop = CTX.Barrier(WRITERS + 2), CTX.Event()
    writers = [CTX.Process(target=write_steps, args=(folder, f"{prefix}{w}", count, barrier), daemon=True) for w in range(WRITERS)]
    gatherers = [CTX.Process(target=gather_until, args=(folder, barrier, stop), daemon=True) for _ in range(2)]
    for p in writers + gatherers:
        p.start()
    torn = []
    while any(p.is_alive() for p in writers):
        for path in (Path(d) / n for d, _, files in os.walk(folder) for n in files if n.endswith(".json")):
            try:
                json.loads(path.read_bytes())
            except FileNotFoundError:
                pass
            except ValueError:
                torn.append(path.name)
    stop.set()
    for p in writers + gatherers:
        p.join(30)
        assert p.exitcode == 0
    return torn


def test_sixty_four_writers_racing_repeated_gatherings_and_late_writes_lose_nothing(tmp_path):
    folder = str(tmp_path / "logs")
    store = make_store("file-system", folder)
    store.create_run_log(RunLog(run_id="run", status="PROCESSING"))
    torn = race(folder, "w", STEPS_EACH)  # during the run
    store.set_run_status("run", SUCCESS)
    store.finalize("run")
    torn += race(folder, "late", 1)  # late pods writing to the finished run, gathered again and again
    store.finalize("run")

    assert not torn
    run_log = RunLog.model_validate_json((Path(folder) / "run.json").read_bytes())
    expected = {f"w{w}-{i}" for w in range(WRITERS) for i in range(STEPS_EACH)} | {f"late{w}-0" for w in range(WRITERS)}
    assert set(run_log.steps) == expected
    assert all(s.status == SUCCESS and len(s.attempts) == 1 for s in run_log.steps.values())
    assert run_log.status == SUCCESS
    assert sorted(p.name for p in Path(folder).iterdir()) == [".run.lock", ".run.summary", "run.json"]  # all gathered
    header, tally = store.summary("run")  # what `runnable runs` shows, as kept by the last gathering
    assert header.status == SUCCESS and tally.counts == {SUCCESS: len(expected)}


@pytest.mark.parametrize("kind", STORES)
def test_a_durable_store_records_the_same_run(project, cli, kind):
    """``durable: true`` (fsync around each rename) changes when data reaches the disk, not what is written."""
    for durable in ("false", "true"):
        (project / f"{durable}.yaml").write_text(f"run-log-store:\n  type: {kind}\n  config: {{durable: {durable}}}\n")
        assert cli("execute", "-f", "examples/hello.yaml", "-c", f"{durable}.yaml", "--run-id", durable).returncode == 0
    plain, durable = read_run_log(project, "false"), read_run_log(project, "true")
    assert plain["status"] == durable["status"] == SUCCESS
    assert plain["steps"].keys() == durable["steps"].keys() == {"hello", "success"}
    (project / "bad.yaml").write_text(f"run-log-store:\n  type: {kind}\n  config: {{durable: sometimes}}\n")
    bad = cli("execute", "-f", "examples/hello.yaml", "-c", "bad.yaml")
    assert bad.returncode != 0 and len(bad.error_lines) == 1 and "durable" in bad.error_lines[0]
