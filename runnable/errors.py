"""Errors a user can fix, and how they are told.

Every mistake in a pipeline, configuration, parameter file or command line is raised as a
:class:`RunnableError`. The CLI prints it as one line -- file, line, step, field, problem -- and exits
non-zero; a traceback is shown only with ``--log-level DEBUG``.
"""

from __future__ import annotations


class RunnableError(Exception):
    """A mistake the user can fix, told in one line."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        step: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.step = step
        self.field = field

    def located(self, **where) -> "RunnableError":
        """Fill in what the raiser did not know (file, line, step, field), keeping what it did."""
        for key, value in where.items():
            if getattr(self, key) is None and value is not None:
                setattr(self, key, value)
        return self

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.step is not None:
            parts.append(f"step '{self.step}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        parts.append(self.message)
        return ": ".join(parts).replace("\n", " ")


class PipelineDefinitionError(RunnableError):
    """The pipeline (YAML or SDK) is not valid."""


class ConfigurationError(RunnableError):
    """The configuration file or an environment variable it refers to is not valid."""


class ParameterError(RunnableError):
    """A parameter file, an override or a step's parameters cannot be used."""


class PluginNotFoundError(RunnableError):
    """A configuration or pipeline names a plugin that is not installed."""


class RunLogNotFoundError(RunnableError):
    """No run log with that run id exists in the store."""


class StepLogNotFoundError(RunnableError):
    """The run log has no step log of that name."""


class SecretNotFoundError(RunnableError):
    """A task asked for a secret the secrets manager does not have."""


class ExecutionError(Exception):
    """A step failed while running user code; recorded in the run log, not a user-input mistake."""


class InternalError(Exception):
    """A bug of ours (or a plugin's), found by a check rather than by a crash: not a user's mistake, so the CLI
    reports it as an internal error in one line and exits 3 (cli.main)."""
