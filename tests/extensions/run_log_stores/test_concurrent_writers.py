"""Many processes recording steps of one run at once lose nothing, and the JSON stays valid throughout."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from pathlib import Path

import pytest

from runnable.run_log import SUCCESS, BranchLog, RunLog, StepAttempt, StepLog

WRITERS = 16
STEPS_EACH = 50
STORES = ["file-system", "chunked-fs"]


def make_store(kind: str, folder: str):
    from extensions.run_log_stores.chunked_fs import ChunkedFileSystemRunLogStore
    from extensions.run_log_stores.file_system import FileSystemRunLogStore

    cls = FileSystemRunLogStore if kind == "file-system" else ChunkedFileSystemRunLogStore
    return cls(log_folder=folder)


def writer(kind: str, folder: str, index: int, start: float) -> None:
    store = make_store(kind, folder)
    while time.time() < start:  # all writers begin together
        time.sleep(0.001)
    for i in range(STEPS_EACH):
        name = f"writer-{index}.step {i}"
        log = StepLog(name=name, internal_name=name, status="PROCESSING")
        store.put_step_log("run", log)
        log.status = SUCCESS
        log.attempts.append(StepAttempt(attempt_number=1, status=SUCCESS))
        store.put_step_log("run", log)
    store.put_branch_log("run", BranchLog(internal_name=f"fan.{index}", status=SUCCESS))


def every_json_file(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.json")]


@pytest.mark.parametrize("kind", STORES)
def test_sixteen_writers_fifty_steps_each(tmp_path, kind):
    folder = str(tmp_path / "logs")
    store = make_store(kind, folder)
    store.create_run_log(RunLog(run_id="run", status="PROCESSING"))
    store.put_step_log("run", StepLog(name="fan", internal_name="fan"))
    start = time.time() + 0.5
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=writer, args=(kind, folder, i, start)) for i in range(WRITERS)]
    for p in procs:
        p.start()
    invalid = []
    reads = 0
    while any(p.is_alive() for p in procs):  # read while they write: never a half-written file
        for path in every_json_file(tmp_path / "logs"):
            try:
                json.loads(path.read_bytes())
                reads += 1
            except FileNotFoundError:
                pass
            except ValueError:
                invalid.append(path.name)
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert not invalid
    assert reads > 0

    run_log = make_store(kind, folder).get_run_log("run")
    written = {s.internal_name for s in make_store(kind, folder).list_logs("run")[0]}
    expected = {f"writer-{w}.step {i}" for w in range(WRITERS) for i in range(STEPS_EACH)} | {"fan"}
    assert written == expected
    assert all(s.status == SUCCESS and len(s.attempts) == 1 for s in make_store(kind, folder).list_logs("run")[0]
               if s.internal_name != "fan")
    assert len(run_log.steps["fan"].branches) == WRITERS
    leftovers = [p for p in (tmp_path / "logs").rglob("*.tmp")]
    assert not leftovers


@pytest.mark.parametrize("kind", STORES)
def test_finalized_run_reads_the_same(tmp_path, kind):
    """file-system gathers the pieces into <run_id>.json at the end; both stores read back the same run log."""
    folder = str(tmp_path / "logs")
    store = make_store(kind, folder)
    store.create_run_log(RunLog(run_id="r", status="PROCESSING"))
    store.put_step_log("r", StepLog(name="a", internal_name="a", status=SUCCESS))
    store.put_step_log("r", StepLog(name="m", internal_name="m", status=SUCCESS))
    store.put_branch_log("r", BranchLog(internal_name="m.0", status=SUCCESS))
    store.put_step_log("r", StepLog(name="x.y", internal_name="m.0.x\\.y", status=SUCCESS))
    store.set_run_status("r", SUCCESS)
    before = store.get_run_log("r")
    store.finalize("r")
    after = make_store(kind, folder).get_run_log("r")
    assert after == before
    assert after.steps["m"].branches["m.0"].steps["x.y"].status == SUCCESS
    if kind == "file-system":
        assert sorted(os.listdir(folder)) == [".r.lock", ".r.summary", "r.json"]  # the parts folder is gone
        # writing to a finished run (a late pod) keeps what was there
        store.put_step_log("r", StepLog(name="late", internal_name="late", status=SUCCESS))
        store.finalize("r")
        assert set(make_store(kind, folder).get_run_log("r").steps) == {"a", "m", "late"}


def test_gathered_file_is_the_assembled_run_log_written_whole(tmp_path):
    """The file-system store writes <run_id>.json record by record (a run of 100,000 map iterations is never whole
    in memory); the file is the very text of the assembled run log: same order, nesting and escapes."""
    folder = str(tmp_path / "logs")
    store = make_store("file-system", folder)
    store.create_run_log(RunLog(run_id="r", status="PROCESSING", parameters={"n": {"value": 2.5}},
                                run_config={"executor": "local"}))
    started = StepAttempt(attempt_number=1, status=SUCCESS, start_time="2026-12-03 10:00:00")
    late = StepAttempt(attempt_number=1, status=SUCCESS, start_time="2026-12-03 10:00:05")
    store.put_step_log("r", StepLog(name="zeta", internal_name="zeta", status=SUCCESS, attempts=[started]))
    store.put_step_log("r", StepLog(name="par", internal_name="par", status=SUCCESS, attempts=[late]))
    for branch in ("b", "a"):
        store.put_branch_log("r", BranchLog(internal_name=f"par.{branch}", status=SUCCESS))
        store.put_step_log("r", StepLog(name="fan", internal_name=f"par.{branch}.fan", status=SUCCESS, attempts=[late]))
        for i in (10, 2, 0):  # iterations in their order, not their names'
            store.put_branch_log("r", BranchLog(internal_name=f"par.{branch}.fan.{i}", iteration=i, status=SUCCESS,
                                                parameters={"item": {"value": f"é\"{i}\n"}}))
            store.put_step_log("r", StepLog(name="naïve \"x\".y", internal_name=f"par.{branch}.fan.{i}.naïve \"x\"\\.y",
                                            status=SUCCESS, attempts=[started], user_defined_metrics={"m": 0.1}))
    store.put_step_log("r", StepLog(name="never", internal_name="never"))  # not started: last
    store.put_branch_log("r", BranchLog(internal_name="gone.0", status=SUCCESS))  # its step is missing: left out
    store.set_run_status("r", SUCCESS)
    expected = store.get_run_log("r")
    store.finalize("r")
    text = (Path(folder) / "r.json").read_text(encoding="utf-8")
    assert text == expected.model_dump_json(indent=1)
    assert list(expected.steps) == ["zeta", "par", "never"]
    assert list(expected.steps["par"].branches["par.a"].steps["fan"].branches) == ["par.a.fan.0", "par.a.fan.2",
                                                                                     "par.a.fan.10"]
