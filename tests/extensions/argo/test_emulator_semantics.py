"""The emulator follows Argo's rules, shown on small hand-written workflows whose pods are shell commands."""

from __future__ import annotations

import json
import time

import pytest

from extensions.argo.emulation import Emulator, EmulationError
from extensions.argo.emulation.expressions import ExpressionError, evaluate


def sh(name, script, **extra):
    return {"name": name, "container": {"image": "any", "command": ["/bin/sh", "-c", script]}, **extra}


def dag(name, tasks, **extra):
    return {"name": name, "dag": {"tasks": tasks, **extra.pop("dag", {})}, **extra}


def workflow(templates, entrypoint="main", **spec):
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "t-"},
            "spec": {"entrypoint": entrypoint, "templates": templates, **spec}}


def run(tmp_path, manifest, **kwargs):
    (tmp_path / "project").mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("backoff_scale", 0.0)
    return Emulator(manifest, project_dir=tmp_path / "project", state_dir=tmp_path / "state", **kwargs).run()


def phases(result):
    return {n.name.split(".", 1)[1]: n.phase for n in result.nodes if "." in n.name}


@pytest.mark.parametrize("expression,expected", [
    ("a", True), ("a.Succeeded", True), ("a.Failed", False), ("!a.Failed", True), ("b.Failed && a", True),
    ("(a.Failed || b.Succeeded) && !c.Omitted", False), ("b.Errored || b.Failed", True), ("c", False),
])
def test_depends_expressions(expression, expected):
    state = {"a": "Succeeded", "b": "Failed", "c": "Omitted"}
    assert evaluate(expression, lambda task, what: state[task] == {"Errored": "Error"}.get(what, what)) is expected


@pytest.mark.parametrize("bad", ["a ||", "(a", "a b", "a.Nope", "&& a"])
def test_malformed_depends(bad):
    with pytest.raises(ExpressionError):
        evaluate(bad, lambda t, w: True)


HANDLED = [sh("ok", "true"), sh("boom", "exit 3")]


def test_handled_failure_with_omitted_leaf_fails_the_dag(tmp_path):
    """Argo: the omitted 'next' leaf inherits A's Failed, so the DAG fails although the failure was handled."""
    m = workflow([dag("main", [
        {"name": "a", "template": "boom"},
        {"name": "handler", "template": "ok", "depends": "a.Failed"},
        {"name": "next", "template": "ok", "depends": "a.Succeeded"},
    ]), *HANDLED])
    result = run(tmp_path, m)
    assert phases(result) == {"a": "Failed", "handler": "Succeeded", "next": "Omitted"}
    assert result.phase == "Failed"


def test_join_leaf_makes_a_handled_failure_succeed(tmp_path):
    m = workflow([dag("main", [
        {"name": "a", "template": "boom"},
        {"name": "handler", "template": "ok", "depends": "a.Failed"},
        {"name": "next", "template": "ok", "depends": "a.Succeeded"},
        {"name": "join", "template": "ok", "depends": "handler.Succeeded || next.Succeeded"},
    ]), *HANDLED])
    assert run(tmp_path, m).phase == "Succeeded"


def test_a_failure_does_not_stop_ready_tasks(tmp_path):
    """Argo v4 reads failFast only when assessing the phase: tasks made ready by a failure still run."""
    tasks = [{"name": "a", "template": "boom"}, {"name": "slow", "template": "slow"},
             {"name": "after", "template": "ok", "depends": "slow"},
             {"name": "handler", "template": "ok", "depends": "a.Failed"}]
    for fail_fast in (True, False):
        result = run(tmp_path / str(fail_fast), workflow([dag("main", tasks, dag={"failFast": fail_fast}),
                                                          *HANDLED, sh("slow", "sleep 0.3")]))
        assert phases(result) == {"a": "Failed", "slow": "Succeeded", "after": "Succeeded", "handler": "Succeeded"}
        assert result.phase == "Succeeded"  # 'a' is not a leaf (handler depends on it); both leaves succeeded


def test_with_param_fan_out_parallelism_and_pvc(tmp_path):
    """200 iterations, at most 8 at once, each appending to a file on the shared volume."""
    items = json.dumps(list(range(200)))
    m = workflow([
        dag("main", [{"name": "each", "template": "write", "withParam": items,
                      "arguments": {"parameters": [{"name": "i", "value": "{{item}}"}]}}], parallelism=8),
        {"name": "write", "inputs": {"parameters": [{"name": "i"}]},
         "container": {"image": "any", "command": ["/bin/sh", "-c",
                                                   "echo {{inputs.parameters.i}} $(date +%s.%N) start >> /data/log; "
                                                   "sleep 0.05; echo {{inputs.parameters.i}} $(date +%s.%N) end >> /data/log"],
                       "volumeMounts": [{"name": "shared", "mountPath": "/data"}]}},
    ], volumes=[{"name": "shared", "persistentVolumeClaim": {"claimName": "shared"}}])
    result = run(tmp_path, m, max_pods=16)
    assert result.phase == "Succeeded"
    lines = [line.split() for line in (tmp_path / "state/volumes/shared/log").read_text().splitlines()]
    assert sorted(int(i) for i, _, what in lines if what == "end") == list(range(200))
    events = sorted((float(t), 1 if what == "start" else -1) for _, t, what in lines)
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    assert 1 < peak <= 8


def test_with_param_must_be_a_json_list(tmp_path):
    m = workflow([dag("main", [{"name": "each", "template": "ok", "withParam": '{"a": 1}'}]), *HANDLED])
    result = run(tmp_path, m)
    assert result.phase == "Error" or result.phase == "Failed"
    assert "withParam value could not be parsed as a JSON list" in result.node("t-" + result.uid.replace("-", "")[:5]
                                                                              + ".each").message


def test_empty_with_param_is_skipped(tmp_path):
    m = workflow([dag("main", [{"name": "each", "template": "ok", "withParam": "[]"},
                               {"name": "after", "template": "ok", "depends": "each"}]), *HANDLED])
    result = run(tmp_path, m)
    assert phases(result)["each"] == "Skipped" and phases(result)["after"] == "Succeeded"


FLAKY = "if [ -f /data/seen ]; then exit 0; else touch /data/seen; exit 1; fi"


def flaky_workflow(retry):
    return workflow([sh("flaky", FLAKY, retryStrategy=retry,
                        **{"container": {"image": "any", "command": ["/bin/sh", "-c", FLAKY],
                                         "volumeMounts": [{"name": "v", "mountPath": "/data"}]}})],
                    entrypoint="flaky", volumes=[{"name": "v", "persistentVolumeClaim": {"claimName": "v"}}])


def test_retry_limit_counts_retries(tmp_path):
    result = run(tmp_path, flaky_workflow({"limit": "2", "retryPolicy": "Always"}))
    assert result.phase == "Succeeded" and result.nodes[0].attempts == 2


def test_no_retry_strategy_no_retry(tmp_path):
    result = run(tmp_path, flaky_workflow(None))
    assert result.phase == "Failed" and result.nodes[0].attempts == 1


def test_on_failure_policy_does_not_retry_errors(tmp_path):
    m = workflow([{"name": "needs-secret", "retryStrategy": {"limit": 3},
                   "container": {"image": "any", "command": ["true"], "env": [
                       {"name": "X", "valueFrom": {"secretKeyRef": {"name": "missing", "key": "k"}}}]}}],
                 entrypoint="needs-secret")
    result = run(tmp_path, m)
    assert result.phase == "Error" and result.nodes[0].attempts == 0 or result.nodes[0].attempts == 1
    assert "CreateContainerConfigError" in result.nodes[0].message


def test_backoff_stops_at_max_duration(tmp_path):
    retry = {"limit": 5, "retryPolicy": "Always", "backoff": {"duration": "10", "factor": 2, "maxDuration": "15"}}
    m = workflow([sh("never", "exit 1", retryStrategy=retry)], entrypoint="never")
    result = run(tmp_path, m)
    assert result.nodes[0].attempts == 2  # 10 s fits in 15 s, the next 20 s would not
    assert result.nodes[0].message == "Backoff would exceed max duration limit"  # operator.go ~line 1136


def test_step_deadline_kills_the_pod(tmp_path):
    m = workflow([sh("slow", "sleep 30", activeDeadlineSeconds="1")], entrypoint="slow")
    started = time.monotonic()
    result = run(tmp_path, m)
    assert time.monotonic() - started < 10
    assert result.phase == "Failed" and "deadline" in result.nodes[0].message


def test_workflow_deadline_still_runs_the_exit_handler(tmp_path):
    m = workflow([sh("slow", "sleep 30"), sh("exit", "echo status={{workflow.status}}")], entrypoint="slow",
                 activeDeadlineSeconds=1, onExit="exit")
    result = run(tmp_path, m)
    assert result.phase == "Failed"
    assert result.node(f"{result.name}.onExit").result == "status=Failed"


def test_submit_time_parameters_and_secrets_reach_pods(tmp_path):
    m = workflow([{"name": "show", "container": {"image": "any", "command": ["/bin/sh", "-c", "echo $GREETING $TOKEN"],
                                                 "env": [{"name": "GREETING", "value": "{{workflow.parameters.greeting}}"},
                                                         {"name": "TOKEN", "valueFrom": {"secretKeyRef": {
                                                             "name": "api", "key": "token"}}}]}}],
                 entrypoint="show", arguments={"parameters": [{"name": "greeting", "value": "hello"}]})
    result = run(tmp_path, m, parameters={"greeting": "bonjour"}, secrets={"api": {"token": "t0k"}})
    assert result.nodes[0].result == "bonjour t0k"
    with pytest.raises(EmulationError, match="not a workflow argument"):
        run(tmp_path, m, parameters={"nope": "x"})


def test_tmp_is_pod_local_and_outputs_travel(tmp_path):
    """Two pods write /tmp/out.txt at once; each output parameter is its own. Loop outputs aggregate."""
    m = workflow([
        dag("main", [
            {"name": "each", "template": "write", "withItems": ["a", "b"],
             "arguments": {"parameters": [{"name": "v", "value": "{{item}}"}]}},
            {"name": "show", "template": "show", "depends": "each",
             "arguments": {"parameters": [{"name": "all", "value": "{{tasks.each.outputs.parameters.out}}"}]}},
        ]),
        {"name": "write", "inputs": {"parameters": [{"name": "v"}]},
         "outputs": {"parameters": [{"name": "out", "valueFrom": {"path": "/tmp/out.txt"}}]},
         "container": {"image": "any", "command": ["/bin/sh", "-c",
                                                   "printf {{inputs.parameters.v}} > /tmp/out.txt; sleep 0.3; echo done"]}},
        {"name": "show", "inputs": {"parameters": [{"name": "all"}]},
         "container": {"image": "any", "command": ["/bin/sh", "-c", "echo '{{inputs.parameters.all}}'"]}},
    ])
    result = run(tmp_path, m)
    assert result.phase == "Succeeded"
    show = next(n for n in result.nodes if n.name.endswith(".show"))
    assert json.loads(show.result) == ["a", "b"]
    each = [n for n in result.nodes if "each(" in n.name]
    assert sorted(n.result for n in each) == ["done", "done"]


def test_missing_output_file_is_an_error(tmp_path):
    m = workflow([{"name": "p", "outputs": {"parameters": [{"name": "o", "valueFrom": {"path": "/tmp/none"}}]},
                   "container": {"image": "any", "command": ["true"]}}], entrypoint="p")
    result = run(tmp_path, m)
    assert result.phase == "Error" and "failed to read output parameter" in result.nodes[0].message


def test_unknown_entrypoint_is_one_line(tmp_path):
    with pytest.raises(EmulationError, match="names no template"):
        run(tmp_path, workflow([sh("a", "true")], entrypoint="b"))


def test_dependencies_list_waits_for_success(tmp_path):
    """'dependencies: [a]' is 'depends: a': a task after a failed one is omitted, not run."""
    m = workflow([dag("main", [
        {"name": "a", "template": "boom"},
        {"name": "b", "template": "ok", "dependencies": ["a"]},
        {"name": "c", "template": "ok"},
        {"name": "d", "template": "ok", "dependencies": ["c"]},
    ]), *HANDLED])
    result = run(tmp_path, m)
    assert phases(result) == {"a": "Failed", "b": "Omitted", "c": "Succeeded", "d": "Succeeded"}
    assert result.phase == "Failed"


@pytest.mark.parametrize("field", [{"when": "1 == 2"}, {"withSequence": {"count": "2"}}, {"continueOn": {"failed": True}}])
def test_task_fields_not_emulated_are_refused_not_ignored(tmp_path, field):
    m = workflow([dag("main", [{"name": "a", "template": "ok", **field}]), *HANDLED])
    result = run(tmp_path, m)
    assert result.phase in ("Failed", "Error")
    [node] = [n for n in result.nodes if n.name.endswith(".a")]
    assert node.phase == "Error" and "does not emulate" in node.message


@pytest.mark.parametrize("claim", ["../../x", "../state-sibling", "/abs", "a/../../b"])
def test_a_claim_name_cannot_escape_the_state_folder(tmp_path, claim):
    """No PVC is named '../../x' (Kubernetes names are DNS-1123 subdomains): refused, nothing made outside."""
    m = workflow([sh("main", "true")], volumes=[{"name": "v", "persistentVolumeClaim": {"claimName": claim}}])
    before = {p for p in tmp_path.rglob("*")}
    with pytest.raises(EmulationError, match="is not a Kubernetes object name"):
        run(tmp_path, m)
    outside = {p for p in tmp_path.rglob("*") if p not in before and tmp_path / "state" not in p.parents
               and p != tmp_path / "state" and p != tmp_path / "project"}
    assert not outside and not (tmp_path.parent / "x").exists()
