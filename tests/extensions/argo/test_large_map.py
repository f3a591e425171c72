"""A map over 10,000 items of 1 kB each (10 MiB): the items never travel through Argo (whose parameters and
objects are limited to about 1 MiB); the fan-out pod hands Argo only iteration indexes and each
iteration's pod reads its own item from the run log; a shell step gets the whole list as a file, too
large for its environment. Shown with the pods' own commands."""

from __future__ import annotations

import json

from conftest import read_run_log, run_cli, shell_map

PIPELINE = shell_map('test -s "$items_FILE" && test ${#item} -gt 1000 && export size=${#item}', returns="size")


def test_ten_thousand_items_of_a_kilobyte(project):
    (project / "big.yaml").write_text(PIPELINE)
    items = [f"{i:05d}" + "x" * 1019 for i in range(10_000)]  # 1,024 characters each, 10 MiB in all
    (project / "items.yaml").write_text(json.dumps({"items": items}))
    (project / "pods.yaml").write_text("run-log-store:\n  type: chunked-fs\n")
    common = ["-f", "big.yaml", "-c", "pods.yaml"]
    assert run_cli(["start-run", "big", *common, "-p", "items.yaml"], project).returncode == 0
    out = run_cli(["fan", "big", "fan", *common, "--mode", "out", "--iterations-file", "iterations.json"], project)
    assert out.returncode == 0, out.stderr
    iterations = json.loads((project / "iterations.json").read_text())
    # what Argo's withParam fans out over: 10,000 small map variables, far under Argo's limits
    assert len(iterations) == 10_000 and json.loads(iterations[9_999]) == {"item": 9_999}
    assert len((project / "iterations.json").read_bytes()) < 200_000
    for index in (0, 9_999):  # two of the iteration pods
        pod = run_cli(["execute-single-node", "big", "fan.{item}.each", *common, "--map-variable", iterations[index]],
                      project)
        assert pod.returncode == 0, pod.stderr
    log = read_run_log(project, "big")
    branches = log["steps"]["fan"]["branches"]
    assert branches["fan.9999"]["steps"]["each"]["attempts"][0]["output_parameters"]["size"]["value"] == 1024
    assert branches["fan.0"]["steps"]["each"]["status"] == "SUCCESS"
