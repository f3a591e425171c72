"""The benchmark runs (figures are the benchmark's business, not the tests': this machine is noisy).

It takes minutes, so the default test run leaves it out: ``python -m pytest -m bench`` runs it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.bench


def test_quick_benchmark_runs_and_writes_its_results(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--no-peer", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    figures = {f["workload"]: f for f in results["figures"]}
    for workload in ("sequential stub x10: wall time", "sequential python x100: wall time", "map x10: wall time",
                     "parallel x10: wall time", "nesting depth 3 (map 3 > parallel 2 > map 3): wall time",
                     "runnable --help", "transpile 100 steps: manifest size", "local parallel speed-up",
                     "runs: store of 100 runs x 10 steps (chunked-fs)", "show: a run of 1000 steps"):
        assert figures[workload]["ours"] > 0, workload
    assert any(w.startswith("pod step (chunked-fs): cost ratio") for w in figures)
    assert "goals" in proc.stdout and "runnable 0.50.0" in proc.stdout
