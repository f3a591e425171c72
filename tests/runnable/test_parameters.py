"""Parameters: the initial file, RUNNABLE_PRM_ overrides, conversion by annotation."""

import pytest
from pydantic import BaseModel

from runnable.errors import ParameterError
from runnable.parameters import bind, coerce, initial_parameters, split_returns


def test_environment_overrides_and_adds(tmp_path, monkeypatch):
    path = tmp_path / "p.yaml"
    path.write_text("a: 1\nb: text\n")
    monkeypatch.setenv("RUNNABLE_PRM_a", "[1, 2]")
    monkeypatch.setenv("RUNNABLE_PRM_c", "not json")
    params = initial_parameters(str(path))
    assert {k: v.value for k, v in params.items()} == {"a": [1, 2], "b": "text", "c": "not json"}


class Config(BaseModel):
    rate: float


def target(n: int, flag: bool, config: Config, items: list[int], optional: str = "x"):
    return n, flag, config, items, optional


def test_binding_converts_by_annotation():
    values = {"n": "3", "flag": "true", "config": {"rate": "0.5"}, "items": ["1", 2], "unused": 1}
    kwargs, used = bind(target, values, values.__getitem__)
    assert kwargs == {"n": 3, "flag": True, "config": Config(rate=0.5), "items": [1, 2]}
    assert sorted(used) == ["config", "flag", "items", "n"]


def test_missing_parameter_names_the_argument():
    with pytest.raises(ParameterError, match="'n' has no parameter"):
        bind(target, {}, {}.__getitem__)


def test_conversion_failure_names_the_parameter():
    with pytest.raises(ParameterError, match=r"parameter 'n' \(str 'three'\) cannot be converted to int: Input should be a valid integer"):
        coerce("three", int, "n")


def test_returns_must_match_the_declaration():
    from runnable.parameters import ReturnSpec

    specs = [ReturnSpec(name="a"), ReturnSpec(name="b")]
    assert split_returns((1, 2), specs) == {"a": 1, "b": 2}
    with pytest.raises(ParameterError, match="must return 2 values"):
        split_returns(1, specs)


STEPS = """
dag:
  start_at: make
  steps:
    make: {type: task, command: steps.make, returns: [items], next: wait}
    wait: {type: task, command: steps.wait, next: spoil}
    spoil: {type: task, command: steps.spoil, next: grow}
    grow: {type: task, command: steps.grow, returns: [items], next: count}
    count: {type: task, command: steps.count, returns: [seen], next: success}
"""

FUNCTIONS = """
import time

def make():
    return [1, 2, 3]

def spoil(items):
    items.append("spoiled")  # in place: the run's parameter must not change

def wait():
    time.sleep(2.5)  # the parameters file settles: a store that keeps what it parsed trusts it from now on

def grow(items: list):
    return items + [4]

def count(items: list):
    return items
"""


def test_each_step_reads_the_parameters_as_recorded(tmp_path):
    """A step that changes a list it was given in place changes nothing the next step reads; a parameter
    written after the run's parameters had settled is read anew (the store parses them once, not per step)."""
    from tests.conftest import read_run_log, run_cli

    (tmp_path / "p.yaml").write_text(STEPS)
    (tmp_path / "steps.py").write_text(FUNCTIONS)
    result = run_cli(["execute", "-f", "p.yaml", "--run-id", "r"], tmp_path)
    assert result.returncode == 0, result.stderr
    run_log = read_run_log(tmp_path, "r")
    assert run_log["parameters"]["items"]["value"] == [1, 2, 3, 4]
    assert run_log["parameters"]["seen"]["value"] == [1, 2, 3, 4]
