"""Every example, transpiled and run by the emulator, leaves the run log a local run leaves: same steps
and branches, statuses, attempt counts, final parameters and catalog entries; the workflow's phase
agrees with the run log. For both file run log stores."""

from __future__ import annotations

import json

import pytest
from ruamel.yaml import YAML

from argo_support import SECRET, argo_run
from conftest import REPO, read_run_log, run_cli, shape, shell_map

INDEX = YAML(typ="safe").load((REPO / "examples" / "index.yaml").read_text())
PIPELINES = {}
for entry in INDEX:
    PIPELINES.setdefault(entry["pipeline"], entry)


# The default argo configuration has no retry strategy (what most users submit); the other form has one.
# Argo binds {{retries}} only where a retry strategy applies (operator.go executeTemplate), so both forms
# must run every example. Its limit is 0 so that attempts match the local run's (a step's max_attempts
# still raises the limit of its own template); extra attempts from a limit are shown by the test below.
# Each store is paired with each form once.
RETRY_FORMS = {"default": "", "retry-strategy": "retry_strategy: {limit: 0}"}


@pytest.mark.parametrize("store,retry", [("file-system", "default"), ("chunked-fs", "retry-strategy")])
@pytest.mark.parametrize("pipeline", sorted(PIPELINES), ids=lambda p: p.split("/")[-1])
def test_argo_run_matches_local_run(project, pipeline, store, retry):
    entry = PIPELINES[pipeline]
    local_args = ["execute", "-f", pipeline, "--run-id", "local"]
    if entry.get("parameters"):
        local_args += ["-p", entry["parameters"]]
    local = run_cli(local_args, project, {"API_TOKEN": SECRET})
    local_log = read_run_log(project, "local")
    phase, argo_log = argo_run(project, pipeline, store=store, parameters=entry.get("parameters"),
                               extra=RETRY_FORMS[retry])
    assert shape(argo_log) == shape(local_log)
    assert (phase == "Succeeded") == (argo_log["status"] == "SUCCESS") == (local.returncode == 0)
    assert SECRET not in json.dumps(argo_log)


def test_map_of_200_with_parallelism_8(project):
    (project / "big_map.yaml").write_text(shell_map("export seen=$item", returns="seen",
                                                    map_fields="overrides: {argo: eight}"))
    (project / "items.yaml").write_text(f"items: {list(range(200))}\n")
    phase, log = argo_run(project, "big_map.yaml", store="chunked-fs", parameters="items.yaml",
                          extra="overrides: {eight: {parallelism: 8}}")
    assert phase == "Succeeded" and log["status"] == "SUCCESS"
    branches = log["steps"]["fan"]["branches"]
    assert len(branches) == 200 and all(b["status"] == "SUCCESS" for b in branches.values())
    assert log["parameters"]["seen"]["value"] == list(range(200))


def test_step_failing_once_is_retried_by_argo(project):
    (project / "flaky.yaml").write_text("""
dag:
  start_at: flaky
  steps:
    flaky:
      type: task
      command_type: shell
      command: 'if [ -f /mnt/seen ]; then echo second; else touch /mnt/seen; exit 1; fi'
      next: success
""")
    phase, log = argo_run(project, "flaky.yaml", store="file-system", extra="retry_strategy: {limit: 2}")
    assert phase == "Succeeded" and log["status"] == "SUCCESS"
    attempts = log["steps"]["flaky"]["attempts"]
    assert [(a["attempt_number"], a["status"]) for a in attempts] == [(1, "FAIL"), (2, "SUCCESS")]


def test_parameter_given_at_submit_time_reaches_the_steps(project):
    phase, log = argo_run(project, "examples/parameters.yaml", store="chunked-fs",
                          parameters="examples/parameters/initial.yaml", submit=["spam=Bonjour", "eggs=5"])
    first = log["steps"]["read initial"]["attempts"][0]
    assert first["input_parameters"]["spam"]["value"] == "Bonjour" and first["input_parameters"]["eggs"]["value"] == 5
    # the example's own check expects the file's values, so the submitted ones make it fail, as they should
    assert phase == "Failed" and log["status"] == "FAIL"
