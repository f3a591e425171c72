"""Every registered catalog keeps ``BaseCatalog.put_text``'s contract (runnable/catalog.py): the text is
kept as UTF-8 under its name (a character UTF-8 cannot hold as '?'), the entry returned is what a later
``get`` fetches, or the catalog keeps no files and returns None."""

import hashlib

import pytest

from conftest import read_run_log, run_cli
from runnable import plugins
from runnable.run_log import DataCatalog

CATALOGS = plugins.available("catalog")
NAME = "train.attempt-1.execution.log"
# a line a task may print: accents, an emoji, and a lone surrogate (Python prints it; UTF-8 cannot hold it)
TEXT = "épochs: 3 ✓ 🚀\nloss \udc80 0.25\n"
KEPT = "épochs: 3 ✓ 🚀\nloss ? 0.25\n"


def test_every_catalog_of_the_package_is_checked():
    assert {"do-nothing", "file-system"} <= set(CATALOGS)


@pytest.fixture
def catalog_in(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a catalog's default folders are relative to the project

    def make(name: str):
        return plugins.load("catalog", name)()

    return make


@pytest.mark.parametrize("name", CATALOGS)
def test_put_text_returns_what_a_later_get_fetches(name, catalog_in, tmp_path):
    catalog = catalog_in(name)
    entry = catalog.put_text("run-1", NAME, TEXT)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    if entry is None:  # a catalog that keeps no files: nothing to fetch
        assert catalog.get("run-1", [NAME], into=fresh) == [] and not any(fresh.iterdir())
        return
    assert isinstance(entry, DataCatalog)
    assert (entry.name, entry.stage) == (NAME, "put")
    assert entry.data_hash == hashlib.sha256(KEPT.encode("utf-8")).hexdigest()
    [got] = catalog.get("run-1", [NAME], into=fresh)
    assert (fresh / NAME).read_text(encoding="utf-8") == KEPT and got.data_hash == entry.data_hash


@pytest.mark.parametrize("name", CATALOGS)
def test_put_text_replaces_the_text_of_that_name(name, catalog_in, tmp_path):
    catalog = catalog_in(name)
    catalog.put_text("run-1", NAME, "first attempt\n")
    entry = catalog.put_text("run-1", NAME, "second\n")
    if entry is None:
        return
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    catalog.get("run-1", [NAME], into=fresh)
    assert (fresh / NAME).read_text() == "second\n"
    assert entry.data_hash == hashlib.sha256(b"second\n").hexdigest()


PRINTS = '''
def shout():
    print("loss \\udc80 0.25")
'''


@pytest.mark.parametrize("name", CATALOGS)
def test_a_task_that_prints_what_utf8_cannot_hold_succeeds(name, tmp_path):
    """It used to stop the run with an internal error under the file-system catalog (UnicodeEncodeError)."""
    (tmp_path / "tasks.py").write_text(PRINTS)
    (tmp_path / "config.yaml").write_text(f"catalog:\n  type: {name}\n")
    (tmp_path / "p.yaml").write_text("dag:\n  start_at: shout\n  steps:\n    shout:\n      type: task\n"
                                     "      command: tasks.shout\n      next: success\n")
    result = run_cli(["execute", "-f", "p.yaml", "-c", "config.yaml", "--run-id", "r1"], tmp_path)
    assert result.returncode == 0, result.stderr
    logs = [c for c in read_run_log(tmp_path, "r1")["steps"]["shout"]["data_catalog"]
            if c["name"].endswith(".execution.log")]
    if name == "do-nothing":
        assert logs == []
    else:
        [log] = logs
        kept = (tmp_path / ".catalog" / log["catalog_relative_path"]).read_bytes()
        assert b"loss ? 0.25" in kept and hashlib.sha256(kept).hexdigest() == log["data_hash"]
