"""The code has no unused imports or variables and no undefined names: pyflakes reports nothing.

It checks the package, the plugins, the tests, the examples and the benchmark's scripts (hidden folders,
such as bench/.peer-venv, are not ours).
"""

import io
from pathlib import Path

import pyflakes.api
import pyflakes.reporter

from conftest import REPO

CHECKED = ("runnable", "extensions", "tests", "examples", "bench")


def _ours() -> list[Path]:
    return [path for folder in CHECKED for path in sorted((REPO / folder).rglob("*.py"))
            if not any(part.startswith(".") for part in path.relative_to(REPO).parts)]


def test_pyflakes_reports_nothing():
    files = _ours()
    assert REPO / "runnable" / "executor.py" in files and REPO / "bench" / "run.py" in files
    out = io.StringIO()
    found = sum(pyflakes.api.checkPath(str(path), pyflakes.reporter.Reporter(out, out)) for path in files)
    assert found == 0, "pyflakes:\n" + out.getvalue()


def test_an_unused_import_is_reported(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n")
    out = io.StringIO()
    assert pyflakes.api.checkPath(str(sample), pyflakes.reporter.Reporter(out, out)) == 1
    assert "'os' imported but unused" in out.getvalue()
