"""``command_type: python``: call a function by its dotted path, arguments filled from the parameters."""

from __future__ import annotations

import inspect
import sys
import typing
from typing import Literal

from pydantic import field_validator

from runnable.errors import ExecutionError
from runnable.parameters import return_annotation, split_returns
from runnable.plugins import import_object, is_dotted_path
from runnable.tasks import BaseTaskType, TaskResult, capture_output


def import_function(dotted: str):
    module_name, _, attr = dotted.rpartition(".")
    try:
        func = import_object(dotted)
    except ModuleNotFoundError as exc:
        raise ExecutionError(f"cannot import module '{module_name}': {exc}") from None
    except AttributeError as exc:
        if exc.obj is not sys.modules.get(module_name) or exc.name != attr:  # raised while importing the module
            raise
        raise ExecutionError(f"module '{module_name}' has no function '{attr}'") from None
    if not callable(func):
        raise ExecutionError(f"'{dotted}' is not callable")
    return func


def _importable(dotted: str):
    """The function, or why it cannot be imported (pre-flight: the same words as a step that runs it)."""
    try:
        return import_function(dotted)
    except ExecutionError as exc:
        return str(exc)
    except Exception as exc:  # the module (or one it imports) raised while being imported
        failure = ExecutionError(f"cannot import module '{dotted.rpartition('.')[0]}': {type(exc).__name__}: {exc}")
        return str(failure).splitlines()[0]


class PythonTaskType(BaseTaskType):
    task_type = "python"

    command_type: Literal["python"] = "python"

    @field_validator("command")
    @classmethod
    def _dotted(cls, value: str) -> str:
        if not is_dotted_path(value):
            raise ValueError(f"'{value}' is not a dotted path to a function (module.function)")
        return value

    def preflight(self, check) -> None:
        if not check.imports:
            return
        func = check.once(("python", self.command), lambda: _importable(self.command))
        if isinstance(func, str):
            check.problem("command", func)
            return
        check.bind(func)
        declared = return_annotation(func)
        if declared is inspect.Signature.empty or not self.returns:
            return
        each = typing.get_args(declared) if len(self.returns) > 1 else (declared,)
        if len(self.returns) > 1 and (typing.get_origin(declared) is not tuple or len(each) != len(self.returns)
                                      or Ellipsis in each):
            return
        for spec, annotation in zip(self.returns, each):
            check.returns_type(spec.name, annotation, spec.kind)

    def run(self, ctx, inputs, *, step_name, log) -> TaskResult:
        from runnable.parameters import bind

        func = import_function(self.command)
        kwargs, used = bind(func, inputs.names, inputs.load)
        inputs.used = used
        with capture_output(log, ctx.secret_registry.scrub):
            result = func(**kwargs)
        return TaskResult(split_returns(result, self.returns), used)
