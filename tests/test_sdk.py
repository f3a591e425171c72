"""The Python SDK builds the same pipeline as the equivalent YAML, and runs it."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from conftest import REPO, read_run_log


def test_sdk_definition_equals_the_yaml(monkeypatch):
    monkeypatch.chdir(REPO)
    from examples.sdk.pipeline import build

    yaml_definition = YAML(typ="safe").load((REPO / "examples" / "map.yaml").read_text())
    assert build().definition() == yaml_definition


def test_sdk_script_runs_and_records(project):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "examples.sdk.pipeline"], cwd=project, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(project)})
    assert proc.returncode == 0, proc.stderr
    runs = list((project / ".run_log_store").glob("*.json"))
    assert len(runs) == 1
    run_log = read_run_log(project, runs[0].stem)
    assert run_log["status"] == "SUCCESS"
    assert run_log["parameters"]["total"]["value"] == 55


def test_sdk_rejects_nested_functions():
    from runnable import Pipeline, PythonTask
    from runnable.errors import PipelineDefinitionError

    def local():
        return 1

    with pytest.raises(PipelineDefinitionError, match="module level"):
        Pipeline(steps=[PythonTask(name="x", function=local)]).definition()


def test_sdk_on_failure_pipeline(project):
    script = project / "flow.py"
    script.write_text(
        "from examples.common.functions import fail, recover\n"
        "from runnable import Pipeline, PythonTask\n"
        "if __name__ == '__main__':\n"
        "    recovery = Pipeline(steps=[PythonTask(name='recover', function=recover, returns=['note'])])\n"
        "    p = Pipeline(steps=[PythonTask(name='boom', function=fail, on_failure=recovery),"
        " PythonTask(name='never', function=recover)])\n"
        "    import sys; sys.exit(0 if p.execute(run_id='sdk').status == 'SUCCESS' else 1)\n")
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "flow.py"], cwd=project, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    log = read_run_log(project, "sdk")
    assert log["steps"]["boom"]["status"] == "FAIL"
    assert log["steps"]["recover"]["status"] == "SUCCESS"
    assert "never" not in log["steps"]


def test_sdk_script_read_from_standard_input(project):
    """`python - < script.py` (a CI step, a here-document): the manifest's pipeline goes to
    runnable-pipeline.yaml, and a function defined in that script is refused (a pod could not import it)."""
    import os
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(project), "RUNNABLE_VAR_argo_docker_image": "img:1"}
    script = ("from runnable import Pipeline, PythonTask\n"
              "from examples.common.functions import hello\n"
              "Pipeline(steps=[PythonTask(name='hello', function=hello, terminate_with_success=True)])"
              ".execute(configuration_file='examples/configs/argo-config.yaml')\n")
    proc = subprocess.run([sys.executable, "-"], input=script, cwd=project, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "hello" in (project / "runnable-pipeline.yaml").read_text()
    assert "- runnable-pipeline.yaml\n" in (project / "argo-pipeline.yaml").read_text()  # the pods' -f
    assert not any(name.startswith("<") for name in os.listdir(project))
    own = script.replace("from examples.common.functions import hello\n", "def hello():\n    print('hi')\n")
    proc = subprocess.run([sys.executable, "-"], input=own, cwd=project, capture_output=True, text=True, env=env)
    assert proc.returncode != 0 and "standard input" in proc.stderr
