"""Hostile and clumsy input: every file either loads or is refused in one line (exit 2), never an internal
error (exit 3) and never a hang. The fuzz test has a fixed budget (max_examples, deadline) to stay fast in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runnable.config import load_configuration
from runnable.errors import RunnableError
from runnable.graph import load_pipeline
from runnable.parameters import initial_parameters
from runnable.yamlio import MAX_ALIAS_VALUES, dump
from tests.conftest import run_cli

PIPELINE = "dag:\n  start_at: a\n  steps:\n    a: {step}\n    success: {{type: success}}\n"
SHELL = "{type: task, command_type: shell, command: 'true', next: success"

LAUGHS = "".join(f"{x}: &{x} [{', '.join([prev] * 9)}]\n" for x, prev in
                 zip("bcdefg", ["*a", "*b", "*c", "*d", "*e", "*f"]))
HOSTILE = {
    "type-is-a-list": PIPELINE.format(step="{type: [task], command: x.y, next: success}"),
    "command-type-is-a-mapping": PIPELINE.format(step="{type: task, command_type: {a: 1}, command: x, next: success}"),
    "nul-in-dag-definition": PIPELINE.format(step='{type: dag, dag_definition: "x\\0y.yaml", next: success}'),
    "fifo-dag-definition": PIPELINE.format(step="{type: dag, dag_definition: fifo.yaml, next: success}"),
    "alias-amplification": "a: &a [x, x, x, x, x, x, x, x, x]\n" + LAUGHS
                           + PIPELINE.format(step=SHELL + ", description: *g}"),
    "deep-nesting": "dag: " + "[" * 3000 + "]" * 3000 + "\n",
    # 1.4 kB standing for 59,049 tasks: each level a parallel step of three aliases of the level below
    "nested-parallel-aliases": "l0: &l0 {start_at: t, steps: {t: " + SHELL + "}, success: {type: success}}}\n"
    + "".join(f"l{i}: &l{i} {{start_at: p, steps: {{p: {{type: parallel, branches: {{a: *l{i - 1}, b: *l{i - 1}, "
              f"c: *l{i - 1}}}, next: success}}, success: {{type: success}}}}}}\n" for i in range(1, 11))
    + "dag: *l10\n",
}

EXPECTED = {"type-is-a-list": "field 'type': no step type given", "command-type-is-a-mapping": "no command_type given",
            "nul-in-dag-definition": "must be the path of a pipeline file", "fifo-dag-definition": "not a regular file",
            "alias-amplification": "aliases expand", "deep-nesting": "nested deeper than",
            "nested-parallel-aliases": "aliases expand"}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_pipeline_is_one_line_error(tmp_path, name):
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "p.yaml").write_text(HOSTILE[name])
    result = run_cli(["execute", "-f", "p.yaml"], tmp_path, timeout=30)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: p.yaml")
    assert EXPECTED[name] in result.stderr
    assert not (tmp_path / ".run_log_store").exists() or not any((tmp_path / ".run_log_store").iterdir())


def test_mixed_key_types_still_run(tmp_path):
    """A mapping with both integer and string keys (it broke the pipeline's hash) is just data."""
    (tmp_path / "p.yaml").write_text(PIPELINE.format(step=SHELL + "}").replace("dag:\n", "dag:\n  description: {1: a, b: c}\n"))
    result = run_cli(["execute", "-f", "p.yaml"], tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("store", ["file-system", "chunked-fs"])
def test_a_date_in_the_pipeline_is_just_data(tmp_path, store):
    """YAML reads 2024-05-01 as a date, which JSON has no type for: the run log records the pipeline all the
    same (it was an internal error when the run log was written)."""
    (tmp_path / "p.yaml").write_text(PIPELINE.format(step=SHELL + "}").replace("dag:\n", "dag:\n  description: 2024-05-01\n"))
    (tmp_path / "c.yaml").write_text(f"run-log-store: {{type: {store}}}\n")
    result = run_cli(["execute", "-f", "p.yaml", "-c", "c.yaml", "--run-id", "r"], tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    shown = run_cli(["show", "r", "--json", "-c", "c.yaml"], tmp_path, timeout=60)
    assert shown.returncode == 0 and '"description": "2024-05-01"' in shown.stdout, shown.stderr


@pytest.mark.parametrize("option", ["-c", "--parameters-file"])
def test_fifo_and_amplified_configuration_and_parameters_refused(tmp_path, option):
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "laughs.yaml").write_text("a: &a [x, x, x, x, x, x, x, x, x]\n" + LAUGHS)
    (tmp_path / "p.yaml").write_text(PIPELINE.format(step=SHELL + "}"))
    for bad, message in [("fifo.yaml", "not a regular file"), ("laughs.yaml", f"{MAX_ALIAS_VALUES:,} repeated")]:
        result = run_cli(["execute", "-f", "p.yaml", option, bad], tmp_path, timeout=30)
        assert result.returncode == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1


def test_run_id_with_a_trailing_newline_is_refused(tmp_path):
    (tmp_path / "p.yaml").write_text(PIPELINE.format(step=SHELL + "}"))
    result = run_cli(["execute", "-f", "p.yaml", "--run-id", "abc\n"], tmp_path, timeout=30)
    assert result.returncode == 2 and "run id 'abc\\n' is not allowed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- the fuzz test --------------------------------------------------------------------------------
WORDS = ["dag", "start_at", "steps", "type", "task", "stub", "parallel", "map", "success", "fail", "next",
         "on_failure", "command", "command_type", "shell", "python", "notebook", "branches", "iterate_on",
         "iterate_as", "returns", "catalog", "get", "put", "secrets", "dag_definition", "a", "b", "success",
         "pipeline_executor", "run_log_store", "catalog", "secrets", "config", "local", "file-system",
         "max_attempts", "overrides", "retry", "name", "kind", "1", "", "..", "/etc/passwd", "${HOME}"]
scalars = st.one_of(st.sampled_from(WORDS), st.integers(-3, 10**20), st.floats(), st.booleans(), st.none(),
                    st.text(max_size=12))
keys = st.one_of(st.sampled_from(WORDS), st.integers(-2, 5), st.text(max_size=6))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(keys, inner, max_size=5)), max_leaves=30)
steps = st.dictionaries(st.sampled_from(["a", "b", "success", "fail", "c"]),
                        st.dictionaries(st.sampled_from(WORDS), values, max_size=6), max_size=4)
pipelines = st.fixed_dictionaries({"dag": st.fixed_dictionaries({"start_at": scalars, "steps": steps})})
documents = st.one_of(values.map(lambda v: dump(v)), st.dictionaries(keys, values, max_size=4).map(dump),
                      pipelines.map(dump), st.text(max_size=200))


def _loads_or_one_line(loader, path: Path) -> None:
    try:
        loader(str(path))
    except RunnableError as exc:
        assert "\n" not in str(exc), str(exc)


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(text=documents)
def test_fuzz_loaders_load_or_give_one_line(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(text.encode("utf-8", "replace"))
    _loads_or_one_line(lambda p: load_pipeline(p, project_dir=tmp_path), path)
    _loads_or_one_line(load_configuration, path)
    _loads_or_one_line(initial_parameters, path)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=documents)
def test_fuzz_cli_exits_0_1_or_2(tmp_path, text):
    (tmp_path / "fuzz.yaml").write_bytes(text.encode("utf-8", "replace"))
    result = run_cli(["execute", "-f", "fuzz.yaml"], tmp_path, timeout=30)
    assert result.returncode in (0, 1, 2), result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
