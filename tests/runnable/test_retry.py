"""Re-running a failed run from its run log: what succeeded is reused (not executed), the rest runs.

The pipelines are the retry examples (examples/retry/): their fragile steps fail until ``fixed.marker``
exists, and every step appends a line to ``executed.log`` - the proof of what ran in which run.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from conftest import ledger, read_run_log


def steps_by_name(run_log: dict) -> dict[str, dict]:
    out, stack = {}, list(run_log["steps"].values())
    while stack:
        step = stack.pop()
        out[step["internal_name"]] = step
        for branch in step["branches"].values():
            stack.extend(branch["steps"].values())
    return out


def fail_fix_retry(cli, project: Path, pipeline: str, parameters: str | None = None):
    """Run (it fails), fix, retry: the two run logs and what ran each time; plus a clean run's log."""
    params = ["-p", parameters] if parameters else []
    first = cli("execute", "-f", pipeline, *params, "--run-id", "first")
    assert first.returncode == 1, first.stderr
    ran_first = ledger(project)
    (project / "fixed.marker").write_text("fixed")
    second = cli("retry", "first", "-f", pipeline, "--run-id", "second")
    assert second.returncode == 0, second.stderr
    assert "run second: SUCCESS" in second.stderr
    ran_second = ledger(project)
    clean = cli("execute", "-f", pipeline, *params, "--run-id", "clean")
    assert clean.returncode == 0, clean.stderr
    return (read_run_log(project, "first"), read_run_log(project, "second"), read_run_log(project, "clean"),
            ran_first, ran_second)


def test_sequential_resumes_at_the_failed_step(cli, project):
    first, second, clean, ran_first, ran_second = fail_fix_retry(cli, project, "examples/retry/sequential.yaml")
    assert first["status"] == "FAIL" and ran_first == Counter(["extract", "clean", "train"])
    # steps 1-2 are carried over, not executed; 3-5 run
    assert ran_second == Counter(["train", "evaluate", "publish"])
    assert second["status"] == "SUCCESS" and second["original_run_id"] == "first"
    steps = second["steps"]
    assert [n for n, s in steps.items() if s.get("reused")] == ["extract", "clean"]
    assert all(s["status"] == "SUCCESS" for s in steps.values())
    # the run log is complete on its own: reused steps keep their attempts and what they returned
    assert steps["extract"]["attempts"][0]["output_parameters"]["rows"]["value"] == 100
    assert steps["extract"]["attempts"] == first["steps"]["extract"]["attempts"]
    assert second["parameters"] == clean["parameters"]
    # the original run is left as it was
    assert read_run_log(project, "first") == first


def test_parallel_reruns_only_the_failed_branch(cli, project):
    first, second, clean, ran_first, ran_second = fail_fix_retry(cli, project, "examples/retry/parallel.yaml")
    assert ran_first == Counter(["steady", "shaky"])
    assert ran_second == Counter(["shaky", "combine"])
    assert second["parameters"] == clean["parameters"] and second["parameters"]["combined"]["value"] == 3
    branches = second["steps"]["both"]["branches"]
    assert {name: b["status"] for name, b in branches.items()} == {"both.steady": "SUCCESS", "both.shaky": "SUCCESS"}


def test_map_reruns_only_the_failed_iterations(cli, project):
    first, second, clean, ran_first, ran_second = fail_fix_retry(
        cli, project, "examples/retry/map.yaml", "examples/retry/map.params.yaml")
    failed = sorted(b for b, log in first["steps"]["process each"]["branches"].items() if log["status"] == "FAIL")
    assert failed == ["process each.17", "process each.4"]
    assert ran_second == Counter(["process 4", "process 17", "summarize"])
    assert second["parameters"] == clean["parameters"]
    branches = second["steps"]["process each"]["branches"]
    assert len(branches) == 20 and all(b["status"] == "SUCCESS" for b in branches.values())
    reused = sorted(int(n.split(".")[-1]) for n, b in branches.items() if b["steps"]["process"].get("reused"))
    assert reused == [i for i in range(20) if i not in (4, 17)]


def test_map_in_parallel_in_map_reruns_only_the_failed_cells(cli, project):
    first, second, clean, ran_first, ran_second = fail_fix_retry(
        cli, project, "examples/retry/nested.yaml", "examples/retry/nested.params.yaml")
    assert sum(ran_first.values()) == 8  # 2 outer x 2 sides x 2 inner
    assert ran_second == Counter({"cell 2-1": 2})  # the broken cell, in both sides of outer iteration 2
    assert second["parameters"] == clean["parameters"]
    assert {n: s["status"] for n, s in steps_by_name(second).items()} == \
           {n: s["status"] for n, s in steps_by_name(clean).items()}


def test_catalog_of_the_original_run_is_available(cli, project):
    (project / "catalog_retry.yaml").write_text("""
dag:
  start_at: write
  steps:
    write:
      type: task
      command: examples.common.functions.write_report
      catalog: {put: [data/report.csv]}
      next: read
    read:
      type: task
      command_type: shell
      command: 'test -f fixed.marker && test -f data/report.csv'
      catalog: {get: [data/report.csv]}
      next: success
""")
    assert cli("execute", "-f", "catalog_retry.yaml", "--run-id", "first").returncode == 1
    (project / "data" / "report.csv").unlink()  # only the catalog has it now
    (project / "fixed.marker").write_text("")
    result = cli("retry", "first", "-f", "catalog_retry.yaml", "--run-id", "second")
    assert result.returncode == 0, result.stderr
    assert (project / ".catalog" / "second" / "data" / "report.csv").exists()
    # a retry to a run id that exists stops in one line and leaves that run's catalog alone
    (project / ".catalog" / "second" / "data" / "report.csv").unlink()
    again = cli("retry", "first", "-f", "catalog_retry.yaml", "--run-id", "second")
    assert again.returncode != 0 and "run id 'second' already exists" in again.stderr
    assert not (project / ".catalog" / "second" / "data" / "report.csv").exists()


def test_configuration_form(cli, project):
    assert cli("execute", "-f", "examples/retry/sequential.yaml", "--run-id", "first").returncode == 1
    ledger(project)
    (project / "fixed.marker").write_text("")
    (project / "retry.yaml").write_text("pipeline-executor:\n  type: retry\n  config: {run_id: first}\n")
    result = cli("execute", "-f", "examples/retry/sequential.yaml", "-c", "retry.yaml", "--run-id", "again")
    assert result.returncode == 0, result.stderr
    assert ledger(project) == Counter(["train", "evaluate", "publish"])
    assert read_run_log(project, "again")["original_run_id"] == "first"


def failed_then_edited(cli, project: Path, old: str, new: str) -> str:
    """The sequential example fails as run 'first'; then the user edits it: the edited file's name."""
    assert cli("execute", "-f", "examples/retry/sequential.yaml", "--run-id", "first").returncode == 1
    (project / "edited.yaml").write_text((project / "examples/retry/sequential.yaml").read_text().replace(old, new))
    return "edited.yaml"


def test_changed_pipeline_is_refused_without_force(cli, project):
    evaluate = "command: examples.common.retry_demo.evaluate\n"
    edited = failed_then_edited(cli, project, evaluate, evaluate + "      max_attempts: 2\n")
    refused = cli("retry", "first", "-f", edited)
    assert refused.returncode == 2 and len(refused.error_lines) == 1 and "Traceback" not in refused.stderr
    assert "edited.yaml" in refused.stderr and "step 'evaluate' changed" in refused.stderr
    assert "--force" in refused.stderr
    (project / "fixed.marker").write_text("")
    forced = cli("retry", "first", "-f", edited, "--force", "--run-id", "forced")
    assert forced.returncode == 0, forced.stderr
    assert read_run_log(project, "forced")["original_run_id"] == "first"


def test_added_step_is_named(cli, project):
    edited = failed_then_edited(
        cli, project, "      next: success\n", "      next: announce\n    announce:\n      type: stub\n      next: success\n")
    refused = cli("retry", "first", "-f", edited)
    assert refused.returncode == 2 and "step 'announce' added" in refused.stderr


@pytest.mark.parametrize("setup, message", [
    ("", "no run log for run id 'ghost'"),
    ("succeeded", "succeeded: there is nothing to retry"),
    ("corrupt", "cannot be read"),
])
def test_what_cannot_be_retried_is_one_line(cli, project, setup, message):
    if setup == "succeeded":
        assert cli("execute", "-f", "examples/stub.yaml", "--run-id", "ghost").returncode == 0
    elif setup == "corrupt":
        (project / ".run_log_store").mkdir()
        (project / ".run_log_store" / "ghost.json").write_text('{"run_id": ')
    result = cli("retry", "ghost", "-f", "examples/stub.yaml")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.error_lines) == 1 and message in result.stderr, result.stderr


def test_the_new_run_needs_its_own_id(cli, project):
    assert cli("execute", "-f", "examples/retry/sequential.yaml", "--run-id", "first").returncode == 1
    result = cli("retry", "first", "-f", "examples/retry/sequential.yaml", "--run-id", "first")
    assert result.returncode == 2 and len(result.error_lines) == 1 and "its own run id" in result.stderr
