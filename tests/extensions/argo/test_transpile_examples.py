"""Every example pipeline becomes a manifest that Argo's schema, Argo's API models and Argo's own
validation rules accept, with the argo configuration that sets every field."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from conftest import REPO
from extensions.argo.rules import validate_workflow

from argo_support import model_differences, schema_errors, transpile

INDEX = YAML(typ="safe").load((REPO / "examples" / "index.yaml").read_text())
PIPELINES = {e["pipeline"]: e.get("parameters") for e in INDEX}


@pytest.mark.parametrize("pipeline", sorted(PIPELINES), ids=lambda p: p.split("/")[-1])
def test_example_manifest_is_valid(project, pipeline):
    _, manifest = transpile(project, pipeline, parameters=PIPELINES[pipeline])
    assert validate_workflow(manifest) == []
    assert model_differences(manifest) == []
    assert schema_errors(manifest) == []


def test_rules_catch_what_argo_rejects():
    """The rule checker is not a rubber stamp: each broken manifest is reported."""
    good = {"metadata": {"generateName": "x-"}, "spec": {"entrypoint": "main", "templates": [
        {"name": "main", "dag": {"tasks": [{"name": "a", "template": "c"},
                                           {"name": "b", "template": "c", "depends": "a.Succeeded"}]}},
        {"name": "c", "container": {"image": "i", "command": ["true"]}}]}}
    assert validate_workflow(good) == []
    import copy

    def broken(edit):
        m = copy.deepcopy(good)
        edit(m)
        return validate_workflow(m)

    dag = lambda m: m["spec"]["templates"][0]["dag"]["tasks"]  # noqa: E731
    assert broken(lambda m: m["spec"].update(entrypoint="nope"))
    assert broken(lambda m: dag(m)[1].update(depends="zzz.Succeeded"))
    assert broken(lambda m: dag(m)[1].update(depends="a.Succeeded ||"))
    assert broken(lambda m: dag(m)[0].update(depends="b"))  # cycle
    assert broken(lambda m: dag(m)[1].update(name="a"))  # duplicate
    assert broken(lambda m: dag(m)[1].update(name="b_c"))  # pattern
    assert broken(lambda m: dag(m)[1].update(name="b" * 129))  # length
    assert broken(lambda m: m["spec"]["templates"][1]["container"].update(args=["{{inputs.parameters.x}}"]))
    assert broken(lambda m: m["metadata"].update(generateName="x" * 60))
