"""``command_type: notebook``: execute a Jupyter notebook with the parameters injected as a cell.

The notebook runs in-process with ploomber-engine (no kernel to start). The executed notebook is
kept in the catalog; ``returns`` are read from the notebook's variables. JSON parameters are injected as
literals; object parameters are not (their repr is not source text).
"""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from runnable.catalog import check_relative
from runnable.errors import ExecutionError
from runnable.tasks import BaseTaskType, TaskResult, capture_output
from runnable.names import log_name


class NotebookTaskType(BaseTaskType):
    task_type = "notebook"

    command_type: Literal["notebook"]

    @field_validator("command")
    @classmethod
    def _notebook(cls, value: str) -> str:
        if not value.endswith(".ipynb"):
            raise ValueError(f"'{value}' is not a notebook (.ipynb)")
        try:
            check_relative(value)
        except Exception as exc:
            raise ValueError(getattr(exc, "message", str(exc))) from None
        return value

    def preflight(self, check) -> None:
        if not (check.project_dir / self.command).is_file():
            check.problem("command", f"notebook '{self.command}' does not exist")

    def run(self, ctx, inputs, *, step_name, log) -> TaskResult:
        import nbformat
        from ploomber_engine._util import parametrize_notebook  # what PloomberClient.execute(parameters) calls
        from ploomber_engine.ipython import PloomberClient

        path = ctx.project_dir / self.command
        if not path.is_file():
            raise ExecutionError(f"notebook '{self.command}' does not exist")
        notebook = nbformat.read(str(path), as_version=4)
        client = PloomberClient(notebook, display_stdout=False, progress_bar=False, cwd=str(ctx.project_dir))
        # only values that are written as Python literals are injected: an object's repr is not source text
        # (docs/parameters.md: a notebook reads an object from a file its step gets from the catalog)
        parameters = dict(inputs.json_values)
        inputs.used = list(parameters)
        skipped = [name for name in inputs.names if name not in parameters]
        if skipped:
            log.write(f"object parameters not injected into the notebook: {', '.join(skipped)}\n")
        parametrize_notebook(notebook, parameters=parameters)
        failure, namespace = None, {}
        with capture_output(log, ctx.secret_registry.scrub):
            try:  # runs the notebook once, in place (its cells get their outputs), and keeps its variables
                namespace = client.get_namespace()
            except Exception as exc:  # the notebook raised: keep what ran, then fail the attempt
                failure = exc
        # its cells' sources and outputs scrubbed of secrets, as every other record
        executed = nbformat.writes(nbformat.from_dict(ctx.secret_registry.scrub_value(notebook)))
        entry = ctx.catalog.put_text(ctx.run_id, f"{log_name(step_name)}-{path.name}", executed)
        if failure is not None:
            raise ExecutionError(f"the notebook failed: {failure.__class__.__name__}: {failure}".splitlines()[0])
        values = {spec.name: namespace[spec.name] for spec in self.returns if spec.name in namespace}
        return TaskResult(values, used=inputs.used, catalog=[entry] if entry is not None else [])
