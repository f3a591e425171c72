"""enable_parallel: branches and map iterations run in processes and leave the run log a sequential run leaves."""

from __future__ import annotations

import pytest

from conftest import read_run_log, shape, shell_map

PARALLEL = "pipeline-executor:\n  type: local\n  config: {enable_parallel: true, max_processes: 3}\n"


@pytest.mark.parametrize("pipeline, parameters, store", [
    ("examples/nested.yaml", "examples/parameters/nested.yaml", "file-system"),
    ("examples/parallel.yaml", None, "chunked-fs"),
    ("examples/retry/map.yaml", "examples/retry/map.params.yaml", "file-system"),  # iterations 4 and 17 fail
    ("examples/map_reducer.yaml", None, "chunked-fs"),
])
def test_parallel_run_log_equals_sequential(cli, project, pipeline, parameters, store):
    (project / "parallel.yaml").write_text(PARALLEL + f"run-log-store:\n  type: {store}\n")
    (project / "sequential.yaml").write_text(f"run-log-store:\n  type: {store}\n")
    params = ["-p", parameters] if parameters else []
    seq = cli("execute", "-f", pipeline, *params, "-c", "sequential.yaml", "--run-id", "seq")
    par = cli("execute", "-f", pipeline, *params, "-c", "parallel.yaml", "--run-id", "par")
    assert par.returncode == seq.returncode, par.stderr
    assert shape(read_run_log(project, "par")) == shape(read_run_log(project, "seq"))


def test_branches_really_overlap(cli, project):
    (project / "parallel.yaml").write_text(PARALLEL)
    (project / "overlap.yaml").write_text(shell_map(
        "touch started.$item; for i in $(seq 100); do [ $(ls started.* | wc -l) -ge 3 ] && exit 0; sleep 0.05; done; "
        "exit 1"))
    (project / "items.yaml").write_text("items: [1, 2, 3]\n")
    # each iteration waits until all three have started: only concurrent iterations can succeed
    result = cli("execute", "-f", "overlap.yaml", "-p", "items.yaml", "-c", "parallel.yaml")
    assert result.returncode == 0, result.stderr


def test_buffered_store_runs_branches_one_after_another(cli, project):
    (project / "parallel.yaml").write_text(PARALLEL + "run-log-store:\n  type: buffered\n")
    result = cli("execute", "-f", "examples/parallel.yaml", "-c", "parallel.yaml")
    assert result.returncode == 0, result.stderr
    assert "one after another" in result.stderr
