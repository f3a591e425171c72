"""The file-system catalog: globs and folders, sha256 recorded, nothing outside the project or catalog."""

import hashlib

import pytest

from conftest import read_run_log
from extensions.catalog.file_system import FileSystemCatalog
from runnable.errors import RunnableError


def test_put_and_get_with_globs_and_folders(tmp_path):
    project = tmp_path / "project"
    (project / "reports" / "deep").mkdir(parents=True)
    (project / "data.csv").write_text("a")
    (project / "other.csv").write_text("b")
    (project / "reports" / "deep" / "r.txt").write_text("c")
    catalog = FileSystemCatalog(catalog_location=str(tmp_path / "catalog"))
    put = catalog.put("run", ["*.csv", "reports"], base=project)
    assert sorted(e.name for e in put) == ["data.csv", "other.csv", "reports/deep/r.txt"]
    assert {e.name: e.data_hash for e in put}["data.csv"] == hashlib.sha256(b"a").hexdigest()
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    got = catalog.get("run", ["reports/**/*.txt"], into=fresh)
    assert [e.name for e in got] == ["reports/deep/r.txt"] and (fresh / "reports/deep/r.txt").read_text() == "c"


@pytest.mark.parametrize("pattern", ["../x", "/etc/passwd", "a/../../x"])
def test_patterns_cannot_leave_the_project(tmp_path, pattern):
    catalog = FileSystemCatalog(catalog_location=str(tmp_path / "catalog"))
    with pytest.raises(RunnableError, match="not allowed"):
        catalog.put("run", [pattern], base=tmp_path)


def test_symlink_out_of_the_project_is_not_copied(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "outside.txt").write_text("secret")
    (project / "link.txt").symlink_to(tmp_path / "outside.txt")
    catalog = FileSystemCatalog(catalog_location=str(tmp_path / "catalog"))
    with pytest.raises(Exception, match="matched no file"):
        catalog.put("run", ["*.txt"], base=project)


def test_catalog_example_records_hashes(cli, project):
    result = cli("execute", "-f", "examples/catalog.yaml", "--run-id", "c")
    assert result.returncode == 0, result.stderr
    log = read_run_log(project, "c")
    put = [e for e in log["steps"]["write"]["data_catalog"] if e["name"] == "data/report.csv"][0]
    got = [e for e in log["steps"]["read"]["data_catalog"] if e["name"] == "data/report.csv"][0]
    assert put["stage"] == "put" and got["stage"] == "get" and put["data_hash"] == got["data_hash"]
    assert (project / ".catalog" / "c" / "data" / "report.csv").exists()
    logs = [e for e in log["steps"]["write"]["data_catalog"] if e["name"].endswith(".execution.log")]
    assert logs and (project / ".catalog" / logs[0]["catalog_relative_path"]).exists()
