"""``type: task``: runs a command (python function, shell script or notebook) with the parameters.

The node owns what every task type shares -- parameters in and out, the catalog, the execution log,
one attempt record per try -- and hands the command itself to the task type named by
``command_type`` (a ``runnable.tasks`` plugin).
"""

from __future__ import annotations

import io
import logging
import traceback

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runnable import names, plugins
from runnable.catalog import check_pattern, check_relative
from runnable.run_log import FAIL, SUCCESS, DataCatalog, StepAttempt
from runnable.errors import ParameterError, PluginNotFoundError, RunnableError
from runnable.nodes import BaseNode, Outcome
from runnable.tasks import BaseTaskType, TaskInputs

logger = logging.getLogger("runnable")

NODE_FIELDS = ("type", "next", "on_failure", "overrides", "catalog", "max_attempts")


class CatalogSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    get: list[str] = []
    put: list[str] = []
    store_copy: bool = True  # runnable 0.50's; read and ignored: a put file is always copied (docs/migrating.md)

    @field_validator("get", "put")
    @classmethod
    def _relative(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                check_relative(pattern)
            except Exception as exc:
                raise ValueError(getattr(exc, "message", str(exc))) from None
        return patterns


class TaskNode(BaseNode):
    catalog: CatalogSpec | None = None
    max_attempts: int = Field(1, ge=1, le=100)

    _task: BaseTaskType

    @classmethod
    def parse(cls, name, data, builder, keys, segments):
        task_data = {k: v for k, v in data.items() if k not in NODE_FIELDS}
        task_data.setdefault("command_type", "python")
        node_data = {k: v for k, v in data.items() if k in NODE_FIELDS}
        try:
            task_cls = plugins.load("tasks", task_data["command_type"])
        except PluginNotFoundError as exc:
            raise builder.error(exc.message, keys + ["command_type"], step=name, field="command_type") from None
        allowed = sorted(set(NODE_FIELDS) | set(task_cls.model_fields))
        task = builder.validate_model(task_cls, task_data, keys, name, allowed=allowed)
        node = super().parse(name, node_data, builder, keys, segments)
        node._task = task
        return node

    @property
    def task(self) -> BaseTaskType:
        return self._task

    def returns_names(self) -> list[str]:
        return [r.name for r in self._task.returns]

    def preflight(self, check) -> None:
        for stage in ("get", "put"):
            for i, pattern in enumerate(getattr(self.catalog, stage) if self.catalog else []):
                try:
                    check_pattern(pattern)
                except RunnableError as exc:
                    check.problem(f"catalog.{stage}", exc.message, keys=["catalog", stage, i])
        check.fetched = list(self.catalog.get) if self.catalog else []
        self._task.preflight(check)

    def max_attempts_allowed(self) -> int:
        return self.max_attempts

    def execute(self, ctx, map_variable, attempt_number) -> Outcome:
        outcome = Outcome(StepAttempt(attempt_number=attempt_number).start())
        attempt, internal = outcome.attempt, self.internal_name(map_variable)
        chain = self.enclosing_branches(map_variable)
        scope = chain[-1] if chain else ""
        log = io.StringIO()
        params, inputs = {}, None
        try:
            params = ctx.read_parameters(chain)
            if self.catalog and self.catalog.get:
                got = ctx.catalog.get(ctx.run_id, self.catalog.get, into=ctx.project_dir)
                logger.info("step '%s': %d files from the catalog into the project", internal, len(got))
                outcome.data_catalog += got
            inputs = TaskInputs(
                names=list(params),
                load=lambda n: ctx.load_value(params[n]),
                json_values={n: p.value for n, p in params.items() if p.kind != "object"},
            )
            with ctx.secret_registry.declared_by(internal, self._task.secrets):
                result = self._task.run(ctx, inputs, step_name=internal, log=log)
            outcome.data_catalog += result.catalog
            used = result.used if result.used is not None else list(params)
            attempt.input_parameters = {n: params[n] for n in used if n in params}
            outputs = {}
            for spec in self._task.returns:
                if spec.name not in result.values:
                    raise ParameterError(f"return '{spec.name}' was not produced by the command")
                outputs[spec.name] = ctx.make_parameter(spec.name, spec.kind, result.values[spec.name], scope)
                if spec.kind == "metric":
                    outcome.metrics[spec.name] = outputs[spec.name].value
            attempt.output_parameters = outputs  # the executor sets them in the step's scope
            if self.catalog and self.catalog.put:
                put = ctx.catalog.put(ctx.run_id, self.catalog.put, base=ctx.project_dir)
                logger.info("step '%s': %d files from the project into the catalog", internal, len(put))
                outcome.data_catalog += put
            attempt.finish(SUCCESS)
        except Exception as exc:  # the user's code failed: recorded, the pipeline decides what follows
            message = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
            given = inputs.used if inputs is not None and inputs.used is not None else list(params)
            attempt.input_parameters = attempt.input_parameters or {n: params[n] for n in given if n in params}
            attempt.finish(FAIL, ctx.secret_registry.scrub(f"{exc.__class__.__name__}: {message}".splitlines()[0]))
            log.write(traceback.format_exc())
            logger.debug("step '%s' failed", internal, exc_info=True)
        outcome.data_catalog += self._keep_log(ctx, internal, attempt_number, log.getvalue())
        return outcome

    def stopped(self, ctx, map_variable, attempt) -> Outcome:
        internal = self.internal_name(map_variable)
        text = f"[runnable] attempt {attempt.attempt_number}: {attempt.message}; its processes were ended\n"
        return Outcome(attempt, data_catalog=self._keep_log(ctx, internal, attempt.attempt_number, text))

    def _keep_log(self, ctx, internal: str, attempt_number: int, text: str) -> list[DataCatalog]:
        """The command's output, kept in the catalog as the step's execution log (secrets scrubbed)."""
        slug = names.log_name(internal)
        entry = ctx.catalog.put_text(ctx.run_id, f"{slug}.attempt-{attempt_number}.execution.log",
                                     ctx.secret_registry.scrub(text))
        if entry is None:
            return []
        logger.info("step '%s': execution log kept in the catalog as %s", internal, entry.catalog_relative_path)
        return [entry]

