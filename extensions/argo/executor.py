"""``argo``: write the pipeline as an Argo Workflow manifest instead of running it.

``runnable execute -f pipeline.yaml -c argo-config.yaml`` validates everything, then writes
``output_file`` and runs nothing. Inside the cluster every pod calls back into runnable with the same
configuration file (``start-run``, ``execute-single-node``, ``fan``, ``execute-batch``, ``end-run``), where
this executor behaves like the local one for one step at a time.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path, PurePosixPath
from typing import ClassVar

from runnable.errors import ConfigurationError, PipelineDefinitionError
from runnable.executor import BasePipelineExecutor
from runnable.nodes import BaseNode
from runnable.overrides import named_override

from .config import ArgoConfig, StepSettings, settings_for

logger = logging.getLogger("runnable")


class ArgoExecutor(ArgoConfig, BasePipelineExecutor):
    service_name: ClassVar[str] = "argo"
    runs_locally: ClassVar[bool] = False

    def check_run(self, ctx) -> None:
        """Everything a pod needs is in the image (the project's files) or on a shared volume; names Argo can
        take; every override a step names defined and fit for the step."""
        self._files(ctx)
        self._check_shared(ctx)
        self._check_names(ctx)
        if ctx.run_id_chosen and self.kind != "Workflow":
            raise ConfigurationError(f"a {self.kind} starts a new run each time it is used, so it cannot carry one "
                                     f"run id; leave --run-id out (each run is named by its workflow's uid) or "
                                     f"name a run when starting it: argo submit --from ... -p run_id=...",
                                     field="--run-id")
        for node in ctx.graph.walk():
            if self.service_name in node.overrides:
                self.step_settings(ctx, node)

    def _files(self, ctx) -> tuple[str, str, str | None]:
        """The pipeline, configuration and parameters files as pods name them (in the project, relative)."""
        return (self._in_project(ctx.pipeline_file, "-f", "the pipeline file"),
                self._in_project(ctx.config.file, "-c", "the configuration file"),
                self._in_project(ctx.parameters_file, "-p", "the parameters file") if ctx.parameters_file else None)

    def describe_run(self, ctx, parameters) -> None:
        from .emit import dump
        from .transpiler import Transpiler
        from .validation import check_manifest

        pipeline_file, config_file, parameters_file = self._files(ctx)
        workflow = Transpiler(ctx, self, pipeline_file=pipeline_file, config_file=config_file,
                              parameters_file=parameters_file, parameters=parameters).workflow()
        manifest = workflow.dump()
        check_manifest(manifest)  # Argo's validation and binding rules; a violation is our bug: nothing is written
        text = dump(manifest)
        out = Path(self.output_file)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        spec = workflow.spec.workflow_spec if self.kind == "CronWorkflow" else workflow.spec
        print(f"wrote {self.output_file}: {len(text.encode()):,} bytes, {len(spec.templates)} templates; "
              f"{self._next_step(ctx)}", file=sys.stderr)

    def _next_step(self, ctx) -> str:
        """What to do with the file, for the stderr line."""
        out = self.output_file
        if self.kind == "WorkflowTemplate":
            return (f"register it with 'argo template create {out}' (or 'kubectl apply -f {out}'), then start runs "
                    f"with 'argo submit --from workflowtemplate/{self.object_name}'")
        if self.kind == "CronWorkflow":
            zone = f" ({self.cron.timezone})" if self.cron.timezone else ""
            return (f"register it with 'argo cron create {out}' (or 'kubectl apply -f {out}'); Argo starts a run at "
                    f"each of {', '.join(self.cron.schedule)}{zone}")
        if ctx.run_id_chosen:
            return (f"submit it with 'argo submit {out}'; its run id is {ctx.run_id}: submitting it again runs the "
                    f"pipeline again into run {ctx.run_id}'s log (its first parameters kept, its step records "
                    f"replaced); give -p run_id=<new id> for a new run")
        return f"submit it with 'argo submit {out}'"

    # a pod checks the override its step names as the manifest's writer did (the pipeline file it reads may
    # not be the one transpiled): before running the step, or opening a parallel, map or dag step
    def execute_single_node(self, ctx, node, map_variable, attempt=None) -> bool:
        self.step_settings(ctx, node)
        return super().execute_single_node(ctx, node, map_variable, attempt)

    def fan_out_single(self, ctx, node, map_variable):
        self.step_settings(ctx, node)
        return super().fan_out_single(ctx, node, map_variable)

    def attempts_allowed(self, ctx, node) -> int:
        from .transpiler import Transpiler

        return Transpiler.attempts(node, self.step_settings(ctx, node))

    def batch_retries_allowed(self, ctx, node) -> int:
        from .transpiler import Transpiler

        return Transpiler.retry_limit(self.step_settings(ctx, node))  # the batch template's retryStrategy.limit

    def step_settings(self, ctx, node: BaseNode) -> StepSettings:
        """A step's settings: the configuration's, changed by the override the step names, which is checked
        (defined; parallelism only on a step with branches, batch_size only on a map). The one place both the
        manifest (Transpiler) and the pods (attempts_allowed) read them."""
        override = named_override(node, self.service_name, self.overrides, ctx.pipeline_file)
        if override is not None:
            name = node.overrides[self.service_name]
            if override.parallelism is not None and not node.is_composite:
                raise node.error(f"override '{name}' sets parallelism, which only applies to steps with branches "
                                 "(parallel, map, dag)", "overrides.argo").located(file=ctx.pipeline_file)
            if override.batch_size is not None and node.type != "map":
                raise node.error(f"override '{name}' sets batch_size, which only applies to map steps",
                                 "overrides.argo").located(file=ctx.pipeline_file)
        return settings_for(self, override)

    # --- checks: everything a pod needs must be in the image or on a shared volume -------------------
    def _in_project(self, path: str | None, option: str, what: str) -> str:
        if not path or path.startswith("<"):
            raise ConfigurationError(f"{what} must be a file in the project (pods read it from the image)",
                                     field=option)
        p = Path(path)
        cwd = Path.cwd().resolve()
        resolved = p.resolve()
        if not resolved.is_relative_to(cwd):
            raise ConfigurationError(f"{what} '{path}' is outside the project directory; pods read it from the "
                                     f"image, where only the project is", field=option)
        return str(PurePosixPath(resolved.relative_to(cwd)))

    def _check_shared(self, ctx) -> None:
        mounts = [v.mount_path for v in self.persistent_volumes]
        for key, service in (("run-log-store", ctx.run_log_store), ("catalog", ctx.catalog)):
            if not getattr(service, "shared_between_processes", True):
                raise ConfigurationError(f"the {service.service_name} {key} lives in one process; pods need "
                                         f"one on a persistent volume they all mount",
                                         file=ctx.config.file, field=f"{key}.type")
            for field, path in service.shared_paths().items():
                inside = any(PurePosixPath(path).is_relative_to(m) for m in mounts) if path.startswith("/") else False
                if not inside:
                    raise ConfigurationError(
                        f"'{path}' is not on a persistent volume every pod mounts "
                        + (f"({', '.join(mounts)})" if mounts else
                           "(none configured: add persistent_volumes to the argo configuration)")
                        + ": pods would not share it",
                        file=ctx.config.file, field=f"{key}.config.{field}")

    def _check_names(self, ctx) -> None:
        for node in ctx.graph.walk():
            if "{{" in node.name or "}}" in node.name:
                raise PipelineDefinitionError("step names may not contain '{{' or '}}' (Argo reads them as "
                                              "variables)", file=ctx.pipeline_file, step=node.name)
            nxt = node.next
            if node.on_failure and nxt and not node.is_terminal:
                _, graph = ctx.graph.locate(node.internal_name_template())
                if graph.steps[nxt].type == "fail" and not graph.steps[node.on_failure].is_terminal:
                    raise node.error("a step whose next is the fail step cannot also have an on_failure route in "
                                     "Argo (both outcomes fail the pod)", "on_failure").located(file=ctx.pipeline_file)
