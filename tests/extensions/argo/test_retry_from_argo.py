"""Runs that failed in Argo (here: in the emulator) re-run from their run log: copied back to a laptop
and retried locally, or retried in the cluster with a manifest that reuses what succeeded."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest

from argo_support import E2E_CONFIG, emulate, run_ids_on_volume, state_dir, volume, volume_run_log
from conftest import ledger, read_run_log, run_cli


def failed_argo_run(project, pipeline: str, store: str, parameters: str | None = None) -> str:
    (project / "argo-e2e.yaml").write_text(E2E_CONFIG.format(store=store, extra=""))
    args = ["execute", "-f", pipeline, "-c", "argo-e2e.yaml"] + (["-p", parameters] if parameters else [])
    assert run_cli(args, project).returncode == 0
    assert emulate(project) == "Failed"
    [run_id] = run_ids_on_volume(project)
    assert volume_run_log(project, run_id)["status"] == "FAIL"
    return run_id


@pytest.mark.parametrize("store", ["file-system", "chunked-fs"])
def test_argo_run_retried_on_a_laptop(project, store):
    run_id = failed_argo_run(project, "examples/retry/parallel.yaml", store)
    assert ledger(volume(project)) == Counter(["steady", "shaky"])
    # the user copies the run log folder and the catalog from the shared volume
    shutil.copytree(volume(project) / "run_log_store", project / "copied" / "run_log_store")
    shutil.copytree(volume(project) / "catalog", project / "copied" / "catalog")
    (project / "laptop.yaml").write_text(f"""
run-log-store: {{type: {store}, config: {{log_folder: copied/run_log_store}}}}
catalog: {{type: file-system, config: {{catalog_location: copied/catalog}}}}
""")
    (project / "fixed.marker").write_text("")
    result = run_cli(["retry", run_id, "-f", "examples/retry/parallel.yaml", "-c", "laptop.yaml",
                      "--run-id", "laptop"], project)
    assert result.returncode == 0, result.stderr
    assert ledger(project) == Counter(["shaky", "combine"])
    log = read_run_log(project, "laptop", folder="copied/run_log_store")
    assert log["status"] == "SUCCESS" and log["original_run_id"] == run_id
    assert log["parameters"]["combined"]["value"] == 3
    reused = log["steps"]["both"]["branches"]["both.steady"]["steps"]["steady step"]
    assert reused["reused"] and reused["attempts"][0]["status"] == "SUCCESS"


def test_retry_in_the_cluster_reuses_what_succeeded(project):
    run_id = failed_argo_run(project, "examples/retry/map.yaml", "file-system", "examples/retry/map.params.yaml")
    assert sum(ledger(volume(project)).values()) == 21  # items + 20 iterations
    result = run_cli(["retry", run_id, "-f", "examples/retry/map.yaml", "-c", "argo-e2e.yaml"], project)
    assert result.returncode == 0, result.stderr
    manifest = (project / "argo-pipeline.yaml").read_text()
    assert '"--original-run-id"' in manifest and run_id in manifest
    (volume(project) / "fixed.marker").write_text("")  # the fix, deployed
    assert emulate(project) == "Succeeded"
    [new_id] = [r for r in run_ids_on_volume(project) if r != run_id]
    log = volume_run_log(project, new_id)
    assert log["status"] == "SUCCESS" and log["original_run_id"] == run_id
    assert ledger(volume(project)) == Counter(["process 4", "process 17", "summarize"])
    assert log["parameters"]["total"]["value"] == sum(i * 10 for i in range(20))
    branches = log["steps"]["process each"]["branches"]
    assert sum(bool(b["steps"]["process"].get("reused")) for b in branches.values()) == 18
    assert log["steps"]["items"]["reused"]


def test_retry_in_the_cluster_refuses_a_changed_pipeline(project):
    run_id = failed_argo_run(project, "examples/retry/sequential.yaml", "chunked-fs")
    changed = (project / "examples/retry/sequential.yaml").read_text().replace(
        "    publish:\n      type: task\n", "    publish:\n      type: task\n      max_attempts: 2\n")
    (project / "changed.yaml").write_text(changed)
    assert run_cli(["retry", run_id, "-f", "changed.yaml", "-c", "argo-e2e.yaml"], project).returncode == 0
    (volume(project) / "fixed.marker").write_text("")
    assert emulate(project) == "Failed"  # the start pod refuses: the pipeline changed
    assert run_ids_on_volume(project) == [run_id]
    pod_errors = [p.read_text() for p in (state_dir(project) / "pods").glob("*/stderr.log")]
    assert any("step 'publish' changed" in text for text in pod_errors), pod_errors
