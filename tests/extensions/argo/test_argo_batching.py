"""Wide maps on Argo: a map step's iterations run several per pod (``batch_size``, or automatically above 500
iterations), so that the Workflow's node count, and the status Argo keeps of them, stay bounded. Each iteration
is still its own branch in the run log; a failing iteration fails its branch only; a retried batch pod and
``runnable retry`` re-run only the iterations that did not succeed. Shown on the emulator (Argo's withParam
expansion, retryStrategy and node records) against the local run."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import pytest
from ruamel.yaml import YAML

from argo_support import (E2E_CONFIG, SECRET, model_differences, run_ids_on_volume, schema_errors, state_dir,
                          tasks, templates, volume, volume_run_log)
from conftest import read_run_log, run_cli, shape, shell_map
from extensions.argo.validation import validate_workflow

# the shell step leaves a line per run of an iteration on the shared volume, and fails for the items listed in
# /mnt/broken until /mnt/fixed exists
COUNTED = ('echo $item >> /mnt/ran; if grep -qx "$item" /mnt/broken 2>/dev/null && [ ! -f /mnt/fixed ]; '
           'then exit 1; fi; export doubled=$((item * 2))')
REDUCED = shell_map(COUNTED, returns="doubled", map_fields="reducer: sum\noverrides: {argo: batched}")


def configure(project, extra: str, store: str = "chunked-fs") -> str:
    (project / "argo-e2e.yaml").write_text(E2E_CONFIG.format(store=store, extra=extra))
    return "argo-e2e.yaml"


def transpiled(project, pipeline: str, extra: str, parameters: str | None = None):
    args = ["execute", "-f", pipeline, "-c", configure(project, extra)] + (["-p", parameters] if parameters else [])
    result = run_cli(args, project)
    return result, (YAML(typ="safe").load((project / "argo-pipeline.yaml").read_text())
                    if result.returncode == 0 else None)


def emulate(project, status: str = "status.json") -> tuple[str, dict]:
    """The workflow's phase and its final status (--status-json), nodes and status estimate included."""
    (project / "secrets.yaml").write_text(f"api:\n  token: {SECRET}\n")
    result = run_cli(["emulate", "argo-pipeline.yaml", "--secrets", "secrets.yaml", "--state-dir", str(state_dir(project)),
                      "--backoff-scale", "0", "--status-json", status], project, timeout=900)
    assert "workflow " in result.stderr, result.stderr
    return result.stderr, json.loads((project / status).read_text())


def items(project, count: int) -> str:
    (project / "items.yaml").write_text(f"items: {list(range(count))}\n")
    return "items.yaml"


def ran(project) -> Counter:
    """Which iterations ran since the last call (the shell step's ledger on the volume)."""
    path = volume(project) / "ran"
    lines = path.read_text().split() if path.exists() else []
    path.write_text("")
    return Counter(int(x) for x in lines)


def batch_pods(status: dict) -> list[str]:
    return [n["name"] for n in status["nodes"] if n["type"] == "Pod" and n["templateName"].startswith("runnable-batch")]


# --- the manifest ------------------------------------------------------------------------------------
def test_batched_manifest_is_valid_for_argo_hera_and_our_checks(project):
    (project / "m.yaml").write_text(REDUCED)
    result, m = transpiled(project, "m.yaml", "overrides: {batched: {batch_size: 100, parallelism: 4}}",
                           items(project, 3))
    assert result.returncode == 0, result.stderr
    assert schema_errors(m) == []
    assert model_differences(m) == []
    assert validate_workflow(m) == []
    wrapper = templates(m)[tasks(m)["fan"]["template"]]
    assert wrapper["parallelism"] == 4  # pods at once, whether each runs one iteration or a batch
    batch = {t["name"]: t for t in wrapper["dag"]["tasks"]}["batch"]
    assert batch["withParam"] == "{{inputs.parameters.batches}}"
    pod = templates(m)[batch["template"]]["container"]["args"]
    assert pod[:2] == ["execute-batch", "{{workflow.parameters.run_id}}"] and "{{inputs.parameters.iterations}}" in pod
    out = templates(m)[tasks(m)["fan-out"]["template"]]
    assert out["container"]["args"][-2:] == ["--batch-size", "100"]
    assert [p["name"] for p in out["outputs"]["parameters"]] == ["iterations", "batches"]


def test_a_map_batches_automatically_above_500_iterations_unless_batch_size_is_1(project):
    (project / "m.yaml").write_text(shell_map("true"))
    _, m = transpiled(project, "m.yaml", "", items(project, 3))
    out = templates(m)[tasks(m)["fan-out"]["template"]]
    assert out["container"]["args"][-2:] == ["--batch-above", "500"]
    _, m = transpiled(project, "m.yaml", "batch_size: 1", items(project, 3))  # a pod per iteration's step
    assert "--batches-file" not in templates(m)[tasks(m)["fan-out"]["template"]]["container"]["args"]
    assert [t["name"] for t in templates(m)[tasks(m)["fan"]["template"]]["dag"]["tasks"]] == ["iteration"]


def test_fan_out_pod_forms_batches_from_the_number_of_items(project):
    """The fan-out pod's command as Argo runs it: above 500 iterations at most 500 batches covering each
    iteration once, written as ranges; at 500 one iteration per pod, as before."""
    (project / "m.yaml").write_text(shell_map("true"))
    (project / "c.yaml").write_text("run-log-store:\n  type: chunked-fs\n")
    common = ["-f", "m.yaml", "-c", "c.yaml"]
    for count, batches_expected in ((1_201, 401), (500, 0)):
        run_id = f"r{count}"
        assert run_cli(["start-run", run_id, *common, "-p", items(project, count)], project).returncode == 0
        out = run_cli(["fan", run_id, "fan", *common, "--mode", "out", "--iterations-file", "i.json",
                       "--batches-file", "b.json", "--batch-above", "500"], project)
        assert out.returncode == 0, out.stderr
        batches = json.loads((project / "b.json").read_text())
        iterations = json.loads((project / "i.json").read_text())
        assert len(batches) == batches_expected and len(iterations) == (0 if batches else count)
        if batches:
            assert batches[0] == "0-2" and batches[-1] == "1200"
            covered = [i for b in batches for lo, _, hi in [b.partition("-")] for i in range(int(lo), int(hi or lo) + 1)]
            assert covered == list(range(count))


def test_batch_size_must_be_positive(project):
    (project / "m.yaml").write_text(REDUCED)
    result, _ = transpiled(project, "m.yaml", "overrides: {batched: {batch_size: 0}}", items(project, 3))
    assert result.returncode == 2 and len(result.error_lines) == 1, result.stderr
    assert "batch_size" in result.stderr and "greater than or equal to 1" in result.stderr


def test_batch_size_on_a_task_and_on_a_map_whose_branch_has_its_own_override_are_refused(project):
    (project / "t.yaml").write_text("dag:\n  start_at: t\n  steps:\n    t:\n      type: task\n      command_type: shell\n"
                                    "      command: 'true'\n      overrides: {argo: batched}\n      next: success\n")
    result, _ = transpiled(project, "t.yaml", "overrides: {batched: {batch_size: 10}}")
    assert result.returncode == 2 and len(result.error_lines) == 1
    assert "step 't'" in result.stderr and "sets batch_size, which only applies to map steps" in result.stderr
    own = REDUCED.replace("            command_type: shell\n",
                          "            command_type: shell\n            overrides: {argo: big}\n")
    (project / "m.yaml").write_text(own)
    result, _ = transpiled(project, "m.yaml", "overrides: {batched: {batch_size: 10}, big: {env: {A: b}}}",
                           items(project, 3))
    assert result.returncode == 2 and len(result.error_lines) == 1
    assert "step 'fan'" in result.stderr and "step 'each' of its branch names its own argo override" in result.stderr
    # without batch_size such a map keeps a pod per step: no batch task
    _, m = transpiled(project, "m.yaml", "overrides: {batched: {}, big: {env: {A: b}}}", items(project, 3))
    assert [t["name"] for t in templates(m)[tasks(m)["fan"]["template"]]["dag"]["tasks"]] == ["iteration"]


# --- runs on the emulator -------------------------------------------------------------------------------
@pytest.mark.parametrize("pipeline,parameters", [
    ("examples/map_reducer.yaml", None),
    ("examples/nested.yaml", "examples/parameters/nested.yaml"),  # a map in a parallel in a map, in batch pods
])
def test_batched_examples_leave_the_run_log_of_the_local_run(project, pipeline, parameters):
    local = run_cli(["execute", "-f", pipeline, "--run-id", "local"] + (["-p", parameters] if parameters else []),
                    project)
    assert local.returncode == 0, local.stderr
    configure(project, "batch_size: 2")  # every map step of the pipeline, in batches of 2
    args = ["execute", "-f", pipeline, "-c", "argo-e2e.yaml"] + (["-p", parameters] if parameters else [])
    assert run_cli(args, project).returncode == 0
    _, status = emulate(project)
    assert status["phase"] == "Succeeded" and batch_pods(status)
    [run_id] = run_ids_on_volume(project)
    assert shape(volume_run_log(project, run_id)) == shape(read_run_log(project, "local"))


def test_batched_map_of_25_leaves_the_run_log_of_the_local_run(project):
    (project / "m.yaml").write_text(REDUCED)
    local = run_cli(["execute", "-f", "m.yaml", "-p", items(project, 25), "--run-id", "local"], project)
    assert local.returncode == 0, local.stderr
    configure(project, "overrides: {batched: {batch_size: 10}}")
    assert run_cli(["execute", "-f", "m.yaml", "-c", "argo-e2e.yaml", "-p", "items.yaml"], project).returncode == 0
    _, status = emulate(project)
    assert status["phase"] == "Succeeded"
    assert sorted(n.rsplit(".", 1)[1] for n in batch_pods(status)) == ["batch(0:0-9)", "batch(1:10-19)",
                                                                      "batch(2:20-24)"]
    [run_id] = run_ids_on_volume(project)
    argo_log = volume_run_log(project, run_id)
    local_log = read_run_log(project, "local")
    assert shape(argo_log) == shape(local_log)
    branches = argo_log["steps"]["fan"]["branches"]
    assert sorted(branches) == sorted(f"fan.{i}" for i in range(25))  # one branch per iteration
    assert all(b["steps"]["each"]["attempts"][0]["input_parameters"]["item"]["value"] == int(name.split(".")[1])
               for name, b in branches.items())
    assert argo_log["parameters"]["doubled"]["value"] == sum(2 * i for i in range(25)) == \
        local_log["parameters"]["doubled"]["value"]
    assert ran(project) == Counter(range(25))


def _attempts(log: dict, index: int) -> list[tuple[int, str]]:
    return [(a["attempt_number"], a["status"]) for a in log["steps"]["fan"]["branches"][f"fan.{index}"]["steps"]
            ["each"]["attempts"]]


def test_a_failing_iteration_fails_its_branch_and_a_retried_batch_pod_reruns_only_it(project):
    """Argo's retryStrategy retries the batch pod, which exited non-zero (operator.go processNodeRetries); the
    retried pod leaves its batch's succeeded iterations alone and gives the failed one a second attempt."""
    once = REDUCED.replace("export doubled", "if [ $item = 3 ] && [ ! -f /mnt/once ]; then touch /mnt/once; exit 1; fi; "
                                             "export doubled")
    (project / "m.yaml").write_text(once)
    configure(project, "overrides: {batched: {batch_size: 5, retry_strategy: {limit: 1}}}")
    assert run_cli(["execute", "-f", "m.yaml", "-c", "argo-e2e.yaml", "-p", items(project, 10)], project).returncode == 0
    _, status = emulate(project)
    assert status["phase"] == "Succeeded"
    retried = [n for n in status["nodes"] if n["type"] == "Retry" and n["name"].endswith("batch(0:0-4)")]
    assert retried and retried[0]["attempts"] == 2
    assert ran(project) == Counter({0: 1, 1: 1, 2: 1, 3: 2, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1})
    [run_id] = run_ids_on_volume(project)
    log = volume_run_log(project, run_id)
    assert log["status"] == "SUCCESS" and log["parameters"]["doubled"]["value"] == 90
    assert _attempts(log, 3) == [(1, "FAIL"), (2, "SUCCESS")]
    assert all(_attempts(log, i) == [(1, "SUCCESS")] for i in range(10) if i != 3)
    # the first try, which Argo would retry, stopped the iteration at its failed step: its branch holds the steps
    # of a clean run, not also the fail step the failure would have led to
    assert sorted(log["steps"]["fan"]["branches"]["fan.3"]["steps"]) == ["each", "success"]


def test_the_last_try_of_a_batch_pod_follows_a_failing_iteration_to_the_fail_step(project):
    """Argo gives the pod ``{{retries}}`` (operator.go executeTemplate ~lines 2446-2520 bind it beside a
    retryStrategy): the try with no retry left records the failure as the pipeline routes it, the fail step and a
    failed branch."""
    (project / "m.yaml").write_text(REDUCED)
    configure(project, "overrides: {batched: {batch_size: 5, retry_strategy: {limit: 1}}}")
    assert run_cli(["execute", "-f", "m.yaml", "-c", "argo-e2e.yaml", "-p", items(project, 10)], project).returncode == 0
    batch = templates(YAML(typ="safe").load((project / "argo-pipeline.yaml").read_text()))["runnable-batch-batched"]
    assert batch["container"]["args"][-2:] == ["--retries", "{{retries}}"]
    volume(project).mkdir(parents=True, exist_ok=True)
    (volume(project) / "broken").write_text("3\n")
    _, status = emulate(project)
    assert status["phase"] == "Failed"
    assert ran(project) == Counter({**{i: 1 for i in range(10)}, 3: 2})  # two tries of the pod of batch 0-4
    [run_id] = run_ids_on_volume(project)
    log = volume_run_log(project, run_id)
    branches = log["steps"]["fan"]["branches"]
    assert log["status"] == "FAIL" and branches["fan.3"]["status"] == "FAIL"
    assert sorted(branches["fan.3"]["steps"]) == ["each", "fail"] and _attempts(log, 3) == [(1, "FAIL"), (2, "FAIL")]
    assert all(b["status"] == "SUCCESS" for name, b in branches.items() if name != "fan.3")


def _run_with_two_broken(project, batch_size: int, count: int, broken: tuple[int, int]) -> dict:
    """The reduced map of ``count`` iterations in batches of ``batch_size`` on the emulator, with the iterations
    ``broken`` failing: its status (the run failed)."""
    (project / "m.yaml").write_text(REDUCED)
    configure(project, f"overrides: {{batched: {{batch_size: {batch_size}}}}}")
    assert run_cli(["execute", "-f", "m.yaml", "-c", "argo-e2e.yaml", "-p", items(project, count)],
                   project).returncode == 0
    volume(project).mkdir(parents=True, exist_ok=True)
    (volume(project) / "broken").write_text("".join(f"{i}\n" for i in broken))
    _, status = emulate(project)
    assert status["phase"] == "Failed"
    return status


def test_two_failing_iterations_then_runnable_retry_reruns_exactly_those_two_in_batches(project):
    status = _run_with_two_broken(project, 4, 12, (5, 10))
    assert len(batch_pods(status)) == 3
    assert ran(project) == Counter(range(12))  # every iteration ran: a failure fails its branch, not its neighbours
    [run_id] = run_ids_on_volume(project)
    original = volume_run_log(project, run_id)
    branches = original["steps"]["fan"]["branches"]
    assert original["status"] == "FAIL"
    assert sorted(n for n, b in branches.items() if b["status"] != "SUCCESS") == ["fan.10", "fan.5"]

    result = run_cli(["retry", run_id, "-f", "m.yaml", "-c", "argo-e2e.yaml"], project)
    assert result.returncode == 0, result.stderr
    (volume(project) / "fixed").write_text("")
    _, status = emulate(project, "retry.json")
    assert status["phase"] == "Succeeded"
    # one batch pod, for exactly the two failed iterations; they are the only ones that ran
    assert [n.rsplit(".", 1)[1] for n in batch_pods(status)] == ["batch(0:5,10)"]
    assert ran(project) == Counter([5, 10])
    [new_id] = [r for r in run_ids_on_volume(project) if r != run_id]
    log = volume_run_log(project, new_id)
    assert log["status"] == "SUCCESS" and log["original_run_id"] == run_id
    assert log["parameters"]["doubled"]["value"] == sum(2 * i for i in range(12))
    ended = max(datetime.fromisoformat(s["attempts"][-1]["end_time"]) for b in branches.values()
                for s in b["steps"].values() if s["attempts"])
    for name, b in log["steps"]["fan"]["branches"].items():
        step = b["steps"]["each"]
        assert b["status"] == "SUCCESS"
        started = datetime.fromisoformat(step["attempts"][-1]["start_time"])
        if name in ("fan.5", "fan.10"):
            assert not step.get("reused") and started > ended  # run again, in the retry
        else:
            assert step["reused"] and started < ended  # carried over from the original run


def test_runnable_retry_of_a_map_wider_than_500_runs_its_batches_again_each_carrying_over_its_succeeded(project):
    """Above 500 iterations the fan-out pod of the retry does not carry over the succeeded iterations itself (one
    pod, ten minutes for 100,000): the batches are those of the original run and each carries over its own."""
    status = _run_with_two_broken(project, 100, 600, (5, 550))
    original_batches = sorted(n.rsplit(".", 1)[1] for n in batch_pods(status))
    assert len(original_batches) == 6 and ran(project) == Counter(range(600))
    [run_id] = run_ids_on_volume(project)

    assert run_cli(["retry", run_id, "-f", "m.yaml", "-c", "argo-e2e.yaml"], project).returncode == 0
    (volume(project) / "fixed").write_text("")
    _, status = emulate(project, "retry.json")
    assert status["phase"] == "Succeeded"
    assert sorted(n.rsplit(".", 1)[1] for n in batch_pods(status)) == original_batches
    assert ran(project) == Counter([5, 550])  # the batch pods ran only the two that failed
    [new_id] = [r for r in run_ids_on_volume(project) if r != run_id]
    log = volume_run_log(project, new_id)
    assert log["status"] == "SUCCESS" and log["parameters"]["doubled"]["value"] == sum(2 * i for i in range(600))
    branches = log["steps"]["fan"]["branches"]
    assert all(b["status"] == "SUCCESS" for b in branches.values()) and len(branches) == 600
    assert sorted(name for name, b in branches.items() if not b["steps"]["each"].get("reused")) == ["fan.5", "fan.550"]


# --- how many nodes Argo keeps ----------------------------------------------------------------------------
def test_node_count_and_status_size_stay_bounded_with_batches(project):
    """1,000 iterations in batches of 100: ten batch pods and a fixed few nodes; a map of 20 without batches
    already needs two nodes per iteration (its DAG and its pod), and more status than the batched 1,000."""
    (project / "m.yaml").write_text(shell_map("export doubled=$((item * 2))", returns="doubled",
                                              map_fields="overrides: {argo: batched}"))
    configure(project, "overrides: {batched: {batch_size: 100}}")
    assert run_cli(["execute", "-f", "m.yaml", "-c", "argo-e2e.yaml", "-p", items(project, 1_000)],
                   project).returncode == 0
    stderr, batched = emulate(project)
    assert batched["phase"] == "Succeeded" and len(batch_pods(batched)) == 10
    figures = batched["statusEstimate"]
    assert figures["nodes"] == len(batched["nodes"]) <= 10 + 8
    assert f"{figures['nodes']:,} nodes" in stderr and "KiB" in stderr

    configure(project, "overrides: {batched: {batch_size: 1}}")
    assert run_cli(["execute", "-f", "m.yaml", "-c", "argo-e2e.yaml", "-p", items(project, 20)],
                   project).returncode == 0
    _, unbatched = emulate(project, "unbatched.json")
    assert unbatched["phase"] == "Succeeded"
    assert unbatched["statusEstimate"]["nodes"] >= 2 * 20
    assert unbatched["statusEstimate"]["statusBytes"] > figures["statusBytes"]


NESTED = """
dag:
  start_at: outer
  steps:
    outer:
      type: map
      iterate_on: outer_items
      iterate_as: o
      next: success
      branch:
        start_at: prep
        steps:
          prep:
            type: task
            command_type: shell
            command: 'export base=$((o * 10))'
            returns: [base]
            overrides: {argo: small}
            next: inner
          inner:
            type: map
            iterate_on: inner_items
            iterate_as: i
            reducer: sum
            overrides: {argo: batched}
            next: success
            branch:
              start_at: cell
              steps:
                cell:
                  type: task
                  command_type: shell
                  command: 'export cells=$((base + i))'
                  returns: [cells]
                  next: success
"""


def test_a_batched_map_inside_an_iteration_of_a_map_with_a_pod_per_step(project):
    """The outer map keeps a pod per step (a step of its branch has its own override); the inner map of each
    of its iterations runs in batch pods, which get the outer iteration's map variable."""
    (project / "n.yaml").write_text(NESTED)
    (project / "p.yaml").write_text("outer_items: [0, 1]\ninner_items: [0, 1, 2]\n")
    local = run_cli(["execute", "-f", "n.yaml", "-p", "p.yaml", "--run-id", "local"], project)
    assert local.returncode == 0, local.stderr
    configure(project, "overrides: {batched: {batch_size: 2}, small: {env: {SMALL: 'yes'}}}")
    assert run_cli(["execute", "-f", "n.yaml", "-c", "argo-e2e.yaml", "-p", "p.yaml"], project).returncode == 0
    _, status = emulate(project)
    assert status["phase"] == "Succeeded"
    assert sorted(n.split(".")[-1] for n in batch_pods(status)) == ["batch(0:0-1)", "batch(0:0-1)", "batch(1:2)",
                                                                   "batch(1:2)"]
    [run_id] = run_ids_on_volume(project)
    log = volume_run_log(project, run_id)
    assert shape(log) == shape(read_run_log(project, "local"))
    assert log["steps"]["outer"]["branches"]["outer.1"]["parameters"]["cells"]["value"] == 10 + 11 + 12
