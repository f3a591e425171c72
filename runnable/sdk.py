"""The Python SDK: the same pipelines as YAML, written as Python objects.

A :class:`Pipeline` is a list of steps run in order (each step's ``next`` is the one after it); a
step's ``on_failure`` names another step or gives a pipeline of recovery steps. ``Pipeline.execute``
builds exactly the definition a YAML file would hold, so both run, validate and transpile alike.
Scripts that define pipelines must call ``execute`` under ``if __name__ == "__main__":`` (steps
import the script's module to find its functions).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

from .errors import PipelineDefinitionError


def pickled(name: str) -> dict[str, str]:
    """A return passed on as a Python object (pickled into the catalog)."""
    return {"name": name, "kind": "object"}


def metric(name: str) -> dict[str, str]:
    """A return recorded as a metric of the step."""
    return {"name": name, "kind": "metric"}


class BaseStep:
    step_type = ""

    def __init__(self, name: str, *, on_failure: "str | Pipeline | None" = None, overrides: dict | None = None,
                 terminate_with_success: bool = False, terminate_with_failure: bool = False) -> None:
        if not isinstance(name, str) or not name:
            raise PipelineDefinitionError("every step needs a non-empty name", field="name")
        self.name = name
        self.on_failure = on_failure
        self.overrides = overrides or {}
        self.terminate_with_success = terminate_with_success
        self.terminate_with_failure = terminate_with_failure

    def fields(self) -> dict[str, Any]:
        return {}

    def definition(self, next_name: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.step_type, **self.fields()}
        if self.overrides:
            out["overrides"] = dict(self.overrides)
        if next_name is not None:
            out["next"] = next_name
        return out


def function_path(function: Callable) -> str:
    """The dotted path a pod (or this process) imports the function by."""
    module = function.__module__
    if module == "__main__":
        file = _main_script()
        if not file:
            raise PipelineDefinitionError(f"function '{function.__name__}' is defined in an interactive session "
                                          f"(or a script read from standard input); define it in a module",
                                          field="function")
        rel = Path(file).resolve().relative_to(Path.cwd().resolve()).with_suffix("")
        module = ".".join(rel.parts)
    if "<locals>" in function.__qualname__ or "<lambda>" in function.__qualname__:
        raise PipelineDefinitionError(f"function '{function.__qualname__}' must be defined at module level",
                                      field="function")
    return f"{module}.{function.__qualname__}"


class _Task(BaseStep):
    step_type = "task"
    command_type = ""

    def __init__(self, name: str, *, returns: list | None = None, catalog: dict | None = None,
                 max_attempts: int = 1, secrets: list[str] | None = None, **kwargs) -> None:
        super().__init__(name, **kwargs)
        self.returns = list(returns or [])
        self.catalog = catalog
        self.max_attempts = max_attempts
        self.secrets = None if secrets is None else list(secrets)  # None: not declared, every secret

    def command(self) -> str:
        raise NotImplementedError

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": self.command()}
        if self.command_type != "python":  # python is the default: leave it out, as YAML files do
            out = {"command_type": self.command_type, **out}
        if self.returns:
            out["returns"] = self.returns
        if self.catalog:
            out["catalog"] = dict(self.catalog)
        if self.max_attempts != 1:
            out["max_attempts"] = self.max_attempts
        if self.secrets is not None:
            out["secrets"] = self.secrets
        return out


class PythonTask(_Task):
    command_type = "python"

    def __init__(self, name: str, function: Callable, **kwargs) -> None:
        super().__init__(name, **kwargs)
        if not callable(function):
            raise PipelineDefinitionError("must be a function", step=name, field="function")
        self.function = function

    def command(self) -> str:
        return function_path(self.function)


class ShellTask(_Task):
    command_type = "shell"

    def __init__(self, name: str, command: str, **kwargs) -> None:
        super().__init__(name, **kwargs)
        self._command = command

    def command(self) -> str:
        return self._command


class NotebookTask(_Task):
    command_type = "notebook"

    def __init__(self, name: str, notebook: str, **kwargs) -> None:
        super().__init__(name, **kwargs)
        self.notebook = notebook

    def command(self) -> str:
        return self.notebook


class Stub(BaseStep):
    step_type = "stub"

    def __init__(self, name: str, **kwargs) -> None:
        known = {k: kwargs.pop(k) for k in list(kwargs) if k in ("on_failure", "overrides", "terminate_with_success",
                                                                 "terminate_with_failure")}
        super().__init__(name, **known)
        self.extra_fields = kwargs

    def fields(self) -> dict[str, Any]:
        return dict(self.extra_fields)


class Parallel(BaseStep):
    step_type = "parallel"

    def __init__(self, name: str, branches: dict[str, "Pipeline"], **kwargs) -> None:
        super().__init__(name, **kwargs)
        self.branches = branches

    def fields(self) -> dict[str, Any]:
        return {"branches": {k: v.dag() for k, v in self.branches.items()}}


class Map(BaseStep):
    step_type = "map"

    def __init__(self, name: str, branch: "Pipeline", iterate_on: str, iterate_as: str,
                 reducer: str | Callable | None = None, **kwargs) -> None:
        super().__init__(name, **kwargs)
        self.branch = branch
        self.iterate_on = iterate_on
        self.iterate_as = iterate_as
        self.reducer = reducer

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"iterate_on": self.iterate_on, "iterate_as": self.iterate_as, "branch": self.branch.dag()}
        if self.reducer is not None:
            out["reducer"] = self.reducer if isinstance(self.reducer, str) else function_path(self.reducer)
        return out


class Dag(BaseStep):
    step_type = "dag"

    def __init__(self, name: str, dag_definition: str, **kwargs) -> None:
        super().__init__(name, **kwargs)
        self.dag_definition = dag_definition

    def fields(self) -> dict[str, Any]:
        return {"dag_definition": self.dag_definition}


class Success(BaseStep):
    step_type = "success"

    def __init__(self, name: str = "success") -> None:
        super().__init__(name)


class Fail(BaseStep):
    step_type = "fail"

    def __init__(self, name: str = "fail") -> None:
        super().__init__(name)


class Pipeline:
    """Steps run in the order given; the pipeline succeeds when the last one does."""

    def __init__(self, steps: list[BaseStep], description: str | None = None) -> None:
        if not steps:
            raise PipelineDefinitionError("a pipeline needs at least one step", field="steps")
        self.steps = list(steps)
        self.description = description

    def dag(self) -> dict[str, Any]:
        steps: dict[str, Any] = {}
        self._add(self.steps, steps)
        out: dict[str, Any] = {"start_at": self.steps[0].name, "steps": steps}
        if self.description:
            out["description"] = self.description
        return out

    def _add(self, sequence: list[BaseStep], steps: dict[str, Any]) -> None:
        for i, step in enumerate(sequence):
            if step.name in steps:
                raise PipelineDefinitionError("two steps have this name", step=step.name)
            if isinstance(step, (Success, Fail)):
                steps[step.name] = step.definition(None)
                continue
            if step.terminate_with_failure:
                next_name = "fail"
            elif step.terminate_with_success or i == len(sequence) - 1:
                next_name = "success"
            else:
                next_name = sequence[i + 1].name
            definition = step.definition(next_name)
            if isinstance(step.on_failure, Pipeline):
                definition["on_failure"] = step.on_failure.steps[0].name
                self._add(step.on_failure.steps, steps)
            elif step.on_failure:
                definition["on_failure"] = step.on_failure
            steps[step.name] = definition

    def definition(self) -> dict[str, Any]:
        return {"dag": self.dag()}

    def to_yaml(self) -> str:
        from .yamlio import dump

        return dump(self.definition())

    def execute(self, configuration_file: str | None = None, parameters_file: str | None = None,
                run_id: str | None = None, tag: str = "", pipeline_file: str | None = None,
                quiet: bool = False) -> "Run | None":
        """Run the pipeline, showing its progress as ``runnable execute`` does (none with ``quiet``), and
        return the :class:`Run`; with an argo configuration, write its manifest and return None.

        The definition is written to ``pipeline_file`` (default: ``<script>.yaml`` beside the script when
        the executor runs elsewhere, so pods can rebuild the pipeline inside the image).
        """
        from . import entrypoints, progress
        from .config import load_configuration
        from .plugins import load

        config = load_configuration(configuration_file)
        executor_cls = load("pipeline_executor", config.pipeline_executor.type)
        if pipeline_file is None and not executor_cls.runs_locally:
            pipeline_file = _default_pipeline_file()
        if pipeline_file is not None:
            Path(pipeline_file).write_text(self.to_yaml(), encoding="utf-8")
        ctx, status = entrypoints.execute(pipeline_file or "<sdk>", config_file=configuration_file,
                                          parameters_file=parameters_file, run_id=run_id, tag=tag,
                                          definition=self.definition(), observer=progress.reporter(quiet))
        if status is None:  # a describing executor wrote its output and ran nothing
            return None
        progress.final_line(ctx.run_id, status, quiet)
        return Run(ctx.run_id, status, ctx.run_log_store)


class Run:
    """A run the SDK made: its id, its final status (``"SUCCESS"`` or ``"FAIL"``) and its run log."""

    def __init__(self, run_id: str, status: str, store) -> None:
        self.run_id = run_id
        self.status = status
        self._store = store

    def run_log(self):
        """The whole run log (:class:`runnable.run_log.RunLog`), read from the run log store."""
        return self._store.get_run_log(self.run_id)

    def __repr__(self) -> str:
        return f"Run(run_id={self.run_id!r}, status={self.status!r})"


def _main_script() -> str | None:
    """The file of the script that runs, if it is one (not an interactive session nor ``python -``'s
    ``<stdin>``)."""
    file = getattr(sys.modules.get("__main__"), "__file__", None)
    return file if file and Path(file).is_file() else None


def _default_pipeline_file() -> str:
    file = _main_script()
    if file:
        return str(Path(file).resolve().relative_to(Path.cwd().resolve()).with_suffix(".yaml"))
    return "runnable-pipeline.yaml"
