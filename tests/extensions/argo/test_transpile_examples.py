"""Every example pipeline becomes a manifest that Argo's schema, Argo's API models and Argo's own
validation rules accept, with the argo configuration that sets every field. The executor runs the same
rules (extensions/argo/validation.py) before writing; test_validation.py shows each rule refusing."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from conftest import REPO
from extensions.argo.validation import validate_workflow

from argo_support import model_differences, schema_errors, transpile

INDEX = YAML(typ="safe").load((REPO / "examples" / "index.yaml").read_text())
PIPELINES = {e["pipeline"]: e.get("parameters") for e in INDEX}


@pytest.mark.parametrize("pipeline", sorted(PIPELINES), ids=lambda p: p.split("/")[-1])
def test_example_manifest_is_valid(project, pipeline):
    _, manifest = transpile(project, pipeline, parameters=PIPELINES[pipeline])
    assert validate_workflow(manifest) == []
    assert model_differences(manifest) == []
    assert schema_errors(manifest) == []

