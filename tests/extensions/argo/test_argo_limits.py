"""Argo v4's list limits: at most 200 tasks in a DAG and 200 templates in a Workflow (the full CRDs, the
default since v4.0: pkg/apis/workflow/v1alpha1/workflow_types.go DAGTemplate.Tasks and
WorkflowSpec.Templates, +kubebuilder:validation:MaxItems=200). A longer graph is cut into parts where its
routes narrow to one step (extensions/argo/limits.py); a run of the parts matches the local run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from argo_support import E2E_CONFIG, emulate, run_ids_on_volume, schema_errors, templates, transpile, volume_run_log
from conftest import read_run_log, run_cli, shape
from extensions.argo import limits
from extensions.argo.validation import validate_workflow


def test_clean_cuts_are_where_no_route_jumps_over():
    # 0 -> 1 -> 2 -> 3 -> success, with 0 on_failure -> 2 (jumps over the cut at 1)
    cuts = limits.clean_cuts(4, [(0, 1), (1, 2), (2, 3), (3, 4), (0, 2)])
    assert [p for p, ok in enumerate(cuts) if ok] == [2, 3]


def test_a_route_to_success_forbids_every_cut_after_it():
    cuts = limits.clean_cuts(4, [(0, 1), (0, 4), (1, 2), (2, 3), (3, 4)])
    assert not any(cuts)


def test_split_makes_the_longest_parts_that_fit():
    assert limits.split([1] * 10, limits.clean_cuts(10, [(i, i + 1) for i in range(10)]), 4) == [0, 4, 8]
    assert limits.split([3, 1, 1, 3, 1], [False, True, True, True, True, False], 4) == [0, 2, 4]
    with pytest.raises(limits.CannotSplit) as exc:
        limits.split([1] * 4, [False] * 5, 3)
    assert exc.value.position == 0


def long_pipeline(count: int, *, handler_every: int = 0, fail_at: int | None = None, command: str = "true") -> str:
    """``count`` shell steps in a row; every ``handler_every``-th one has an on_failure handler that rejoins
    the row; the step at ``fail_at`` exits 1."""
    lines = ["dag:", "  start_at: s0", "  steps:"]
    for i in range(count):
        nxt = f"s{i + 1}" if i < count - 1 else "success"
        cmd = "exit 1" if i == fail_at else command
        lines += [f"    s{i}:", "      type: task", "      command_type: shell", f"      command: '{cmd}'",
                  f"      next: {nxt}"]
        if handler_every and i % handler_every == 1:
            lines += [f"      on_failure: h{i}", f"    h{i}:", "      type: task", "      command_type: shell",
                      "      command: 'true'", f"      next: {nxt}"]
    return "\n".join(lines + ["    success: {type: success}", "    fail: {type: fail}"]) + "\n"


ARGO = """
pipeline-executor:
  type: argo
  config:
    image: my/image:1
    persistent_volumes: [{name: runnable-volume, mount_path: /mnt}]
run-log-store:
  type: chunked-fs
  config: {log_folder: /mnt/run_log_store}
catalog:
  type: file-system
  config: {catalog_location: /mnt/catalog}
"""


def test_a_pipeline_of_600_steps_fits_argo_v4(project):
    (project / "long.yaml").write_text(long_pipeline(600, handler_every=40))
    (project / "argo.yaml").write_text(ARGO)
    _, manifest = transpile(project, "long.yaml", config="argo.yaml")
    dags = {name: t["dag"]["tasks"] for name, t in templates(manifest).items() if "dag" in t}
    assert max(len(tasks) for tasks in dags.values()) <= limits.MAX_DAG_TASKS
    assert len(manifest["spec"]["templates"]) <= limits.MAX_TEMPLATES
    step_tasks = [t["name"] for tasks in dags.values() for t in tasks if not t["name"].startswith(("part-", "join"))]
    assert len(step_tasks) == 600 + 15 + 1  # every step and handler once, and the start task
    assert validate_workflow(manifest) == [] and schema_errors(manifest) == []


def execute_with_limit(project, limit: int, *args: str):
    """The real CLI, with Argo's DAG limit lowered so that a small pipeline is cut into parts."""
    code = ("import sys; import extensions.argo.limits as l; l.MAX_DAG_TASKS = int(sys.argv[1]); "
            "from runnable.cli import main; main(sys.argv[2:])")
    return subprocess.run([sys.executable, "-c", code, str(limit), *args], cwd=project, capture_output=True,
                          text=True, timeout=120)


PARTS = """
dag:
  start_at: one
  steps:
    one: {type: task, command_type: shell, command: 'echo 1', next: two}
    two: {type: task, command_type: shell, command: '%s', next: three, on_failure: mend}
    mend: {type: task, command_type: shell, command: 'true', next: three}
    three:
      type: map
      iterate_on: items
      iterate_as: item
      next: four
      branch:
        start_at: each
        steps:
          each: {type: task, command_type: shell, command: 'export seen=$item', returns: [seen], next: success}
          success: {type: success}
          fail: {type: fail}
    four: {type: task, command_type: shell, command: '%s', next: five}
    five: {type: task, command_type: shell, command: 'true', next: six}
    six: {type: task, command_type: shell, command: 'true', next: success}
    success: {type: success}
    fail: {type: fail}
"""


@pytest.mark.parametrize("two,four,status", [("exit 1", "true", "SUCCESS"), ("true", "exit 1", "FAIL")],
                         ids=["handled failure", "failure"])
def test_a_run_cut_into_parts_matches_the_local_run(project, two, four, status):
    (project / "parts.yaml").write_text(PARTS % (two, four))
    (project / "items.yaml").write_text("items: [1, 2]\n")
    (project / "argo-e2e.yaml").write_text(E2E_CONFIG.format(store="chunked-fs", extra=""))
    local = run_cli(["execute", "-f", "parts.yaml", "-p", "items.yaml", "--run-id", "local"], project)
    result = execute_with_limit(project, 5, "execute", "-f", "parts.yaml", "-p", "items.yaml", "-c", "argo-e2e.yaml")
    assert result.returncode == 0, result.stderr
    from ruamel.yaml import YAML

    manifest = YAML(typ="safe").load((project / "argo-pipeline.yaml").read_text())
    dags = [t["dag"]["tasks"] for t in manifest["spec"]["templates"] if t["name"].startswith("runnable-part")]
    assert len(dags) >= 3 and all(len(tasks) <= 5 for tasks in dags)
    phase = emulate(project)
    [run_id] = run_ids_on_volume(project)
    argo_log = volume_run_log(project, run_id)
    assert shape(argo_log) == shape(read_run_log(project, "local"))
    assert argo_log["status"] == status and (phase == "Succeeded") == (status == "SUCCESS") == (local.returncode == 0)


def test_routes_that_cannot_be_cut_are_refused_in_one_line(project):
    # mend rejoins at six: its route jumps over three, four and five, so no cut after two is clean
    (project / "parts.yaml").write_text(PARTS.replace("command: 'true', next: three}", "command: 'true', next: six}")
                                        % ("true", "true"))
    (project / "items.yaml").write_text("items: [1, 2]\n")
    (project / "argo.yaml").write_text(ARGO)
    result = execute_with_limit(project, 4, "execute", "-f", "parts.yaml", "-p", "items.yaml", "-c", "argo.yaml")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.strip()]
    assert "parts.yaml" in line and "step 'two'" in line and "Argo v4 allows 4 tasks in a DAG" in line
    assert not (project / "argo-pipeline.yaml").exists()


def test_more_templates_than_argo_v4_allows_is_said_in_one_line(project):
    steps = ["dag:", "  start_at: m0", "  steps:"]
    for i in range(110):  # each map step brings two DAG templates: its iterations and its branch
        steps += [f"    m{i}:", "      type: map", "      iterate_on: items", "      iterate_as: item",
                  f"      next: {f'm{i + 1}' if i < 109 else 'success'}", "      branch:", "        start_at: each",
                  "        steps:", "          each: {type: stub, next: success}", "          success: {type: success}",
                  "          fail: {type: fail}"]
    (project / "wide.yaml").write_text("\n".join(steps + ["    success: {type: success}", "    fail: {type: fail}"]))
    (project / "items.yaml").write_text("items: [1]\n")
    (project / "argo.yaml").write_text(ARGO)
    result = run_cli(["execute", "-f", "wide.yaml", "-p", "items.yaml", "-c", "argo.yaml"], project)
    assert result.returncode == 2 and len(result.error_lines) == 1 and "Traceback" not in result.stderr
    assert "wide.yaml" in result.stderr and "Argo v4 allows 200" in result.stderr
    assert not (project / "argo-pipeline.yaml").exists()


def test_a_parallel_step_of_more_branches_than_a_dag_holds_is_said_in_one_line(project):
    branches = "".join(f"        b{i}:\n          start_at: s\n          steps:\n            s: {{type: stub, next: success}}\n"
                       f"            success: {{type: success}}\n            fail: {{type: fail}}\n" for i in range(201))
    (project / "wide.yaml").write_text("dag:\n  start_at: fan\n  steps:\n    fan:\n      type: parallel\n"
                                       "      next: success\n      branches:\n" + branches +
                                       "    success: {type: success}\n    fail: {type: fail}\n")
    (project / "argo.yaml").write_text(ARGO)
    result = run_cli(["execute", "-f", "wide.yaml", "-c", "argo.yaml"], project)
    assert result.returncode == 2 and len(result.error_lines) == 1 and "Traceback" not in result.stderr
    assert "step 'fan'" in result.stderr and "201 branches" in result.stderr
