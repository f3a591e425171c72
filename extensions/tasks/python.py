"""``command_type: python``: call a function by its dotted path, arguments filled from the parameters."""

from __future__ import annotations

import importlib
from typing import Literal

from pydantic import field_validator

from runnable.errors import ExecutionError
from runnable.parameters import split_returns
from runnable.tasks import BaseTaskType, TaskResult, capture_output


def import_function(dotted: str):
    module_name, _, attr = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ExecutionError(f"cannot import module '{module_name}': {exc}") from None
    try:
        func = getattr(module, attr)
    except AttributeError:
        raise ExecutionError(f"module '{module_name}' has no function '{attr}'") from None
    if not callable(func):
        raise ExecutionError(f"'{dotted}' is not callable")
    return func


class PythonTaskType(BaseTaskType):
    task_type = "python"

    command_type: Literal["python"] = "python"

    @field_validator("command")
    @classmethod
    def _dotted(cls, value: str) -> str:
        parts = value.split(".")
        if len(parts) < 2 or not all(p.isidentifier() for p in parts):
            raise ValueError(f"'{value}' is not a dotted path to a function (module.function)")
        return value

    def run(self, ctx, inputs, *, step_name, log) -> TaskResult:
        from runnable.parameters import bind

        func = import_function(self.command)
        kwargs, used = bind(func, inputs.names, inputs.load)
        inputs.used = used
        with capture_output(log, ctx.secret_registry.scrub):
            result = func(**kwargs)
        return TaskResult(split_returns(result, self.returns), used)
