"""Pipeline graph -> Argo Workflow.

Shape of the manifest (docs/argo.md has the reasoning):

* ``runnable`` (entrypoint, a DAG): ``start`` creates the run log with the parameters given at submit
  time, then the pipeline's steps. ``onExit`` runs ``runnable end-run`` so a run cut short (deadline,
  lost pod) is still recorded as failed.
* A task or stub step is one DAG task calling a shared container template (``runnable-task``, or a
  variant per override, attempts or secrets); steps that differ only by name share it, so a step costs
  ~150 bytes. Kubernetes secrets go only to the pods that run user code (tasks), and of those to a task
  that declares ``secrets`` only the entries it declares.
* A parallel, map or dag step is three tasks: ``<step>-out`` (fan-out pod; for a map it writes the
  iterations to a pod-local file read as an output parameter), ``<step>`` calling a wrapper DAG
  template (one task per branch, or one ``withParam`` task over the iterations, with the override's
  ``parallelism``) and ``<step>-in`` (fan-in pod), which runs whether or not the branches succeeded.
  Map items never travel in the workflow: iterations are indexes, each pod reads its item from the
  run log.
* Batches: a map whose branch can run in one pod (no step of it names its own argo override) gets a second
  ``withParam`` task, ``batch``, over batches of iterations (``0-399``, or ``4,17`` in a retry), each a pod
  running ``execute-batch`` for its iterations one after another. The fan-out pod decides at run time, when
  the number of items is known: with ``batch_size`` (or more than ``limits.AUTO_BATCH_ABOVE`` iterations) it
  writes the batches and an empty iteration list, else the reverse; Argo skips the task whose list is empty
  (dag.go executeDAGTask ~line 634: "Skipped, empty params"), and a Skipped leaf does not fail the DAG.
  Argo facts this relies on: ``withParam`` is parsed as a JSON list and a string item is ``{{item}}`` as it
  is (dag.go expandTask ~line 903, operator.go processItem ~line 4085); an output parameter read from a file
  has no size limit of its own but is stored in the fan-out node's status (the executor's WorkflowTaskResult,
  workflow/executor/taskresult.go, copied into ``status.nodes``: controller/taskresult.go ~line 128), so it
  counts against the 1 MiB of the Workflow object (workflow/packer/packer.go) like every node does, and a
  list of batches stays small where a list of 100,000 iterations (~1.6 MB) would not; a pod that exits
  non-zero is Failed and, with a retryStrategy on its template, retried as a new attempt node (operator.go
  processNodeRetries ~line 1030).
* Edges: ``next`` is ``<prev>.Succeeded``, ``on_failure`` is ``<prev>.Failed || <prev>.Errored``.
  Terminal steps (success, fail) are not pods: the pod of the step before records them. A pod exits
  non-zero when its step failed or led to ``fail``.
* Argo decides a DAG's phase from its leaf tasks, and an Omitted leaf inherits the phase of a handled
  failure upstream. In a graph with ``on_failure`` routes a pod-less ``join`` task (suspend, 0s)
  depends on every edge into ``success``, so it is the only leaf: the DAG succeeds exactly when the
  pipeline does. All DAGs set ``failFast: false``: Argo v4 reads it only when assessing a DAG's phase
  (with it on, a DAG may be declared failed while a recovery route is still to run); older controllers
  also stopped scheduling new tasks after a failure, which would starve recovery routes and fan-ins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runnable.config import VARIABLE_PREFIX, variable_names
from runnable.parameters import ENV_PREFIX as PARAMETER_PREFIX
from runnable.run_log import Parameter as RunParameter
from runnable.errors import PipelineDefinitionError
from runnable.graph import Graph
from runnable.nodes import BaseNode

from . import limits
from . import spec as a
from .config import ArgoConfig, SecretFromK8s, StepSettings, settings_for
from .naming import NameAllocator

ITERATIONS_FILE = "/tmp/runnable/iterations.json"
BATCHES_FILE = "/tmp/runnable/batches.json"
RUN_ID = "{{workflow.parameters.run_id}}"
WORKFLOW_UID = ["--workflow-uid", "{{workflow.uid}}"]  # the run id when run_id is empty
ENTRYPOINT = "runnable"

TASK, FAN_OUT, FAN_IN, START, END = "task", "fan-out", "fan-in", "start", "end"
FAN_OUT_BATCHED, BATCH = "fan-out-batched", "batch"  # a map whose iterations may run in batch pods


def succeeded(task: str) -> str:
    return f"{task}.Succeeded"


def failed(task: str) -> str:
    return f"{task}.Failed || {task}.Errored"


def finished(task: str) -> str:
    return f"({task}.Succeeded || {task}.Failed || {task}.Errored)"


class Transpiler:
    def __init__(self, ctx, config: ArgoConfig, *, pipeline_file: str, config_file: str,
                 parameters_file: str | None, parameters: dict[str, RunParameter]) -> None:
        self.ctx = ctx
        self.config = config
        self.pipeline_file = pipeline_file
        self.config_file = config_file
        self.parameters_file = parameters_file
        self.parameters = parameters
        self.template_names = NameAllocator()
        self.templates: list[a.Template] = []
        self.container_templates: dict[tuple, str] = {}
        self.volumes: dict[str, a.Volume] = {}
        self.has_join_template = False
        self.variables_env = self._config_variables()

    # --- the workflow ----------------------------------------------------------------------------
    def workflow(self) -> a.Workflow | a.WorkflowTemplate | a.CronWorkflow:
        """The manifest of the configured ``kind``: a Workflow to submit, a WorkflowTemplate to register (Argo's
        workflow_template_types.go: a fixed metadata.name), or a CronWorkflow whose ``workflowSpec`` Argo runs on
        each schedule (cron_workflow_types.go CronWorkflowSpec; v4 has ``schedules`` only)."""
        cfg = self.config
        spec = self.workflow_spec()
        if cfg.kind == "Workflow":
            return a.Workflow(metadata=a.ObjectMeta(generate_name=cfg.name, namespace=cfg.namespace,
                                                    annotations=cfg.annotations or None, labels=cfg.labels or None),
                              spec=spec)
        metadata = a.ObjectMeta(name=cfg.object_name, namespace=cfg.namespace,
                                annotations=cfg.annotations or None, labels=cfg.labels or None)
        if cfg.labels or cfg.annotations:  # the object's own labels are not copied to the Workflows it makes
            spec.workflow_metadata = a.WorkflowMetadata(labels=cfg.labels or None, annotations=cfg.annotations or None)
        if cfg.kind == "WorkflowTemplate":
            return a.WorkflowTemplate(metadata=metadata, spec=spec)
        cron = cfg.cron
        return a.CronWorkflow(metadata=metadata, spec=a.CronWorkflowSpec(
            schedules=cron.schedule, timezone=cron.timezone, concurrency_policy=cron.concurrency_policy,
            starting_deadline_seconds=cron.starting_deadline_seconds, workflow_spec=spec))

    def workflow_spec(self) -> a.WorkflowSpec:
        cfg = self.config
        exposed = self._exposed_parameters()
        start = self.container_template(START, settings_for(cfg, None), exposed=exposed)
        entry_names = NameAllocator(reserved=["start"])
        tasks = [a.DAGTask(name="start", template=start)]
        tasks += self.graph_tasks(self.ctx.graph, entry_names, roots_depend_on="start", in_branch=False,
                                  label=(ENTRYPOINT,))
        entry = a.Template(name=self.template_names.reserve(ENTRYPOINT),
                           dag=a.DAGTemplate(fail_fast=False, tasks=tasks))
        end = self.container_template(END, settings_for(cfg, None))
        # empty: the pods take the workflow's uid (never "{{workflow.uid}}" here: see runnable.cli.pod_run_id);
        # `execute --run-id X` writes X (the executor refuses it for the kinds that start many runs)
        arguments = [a.Parameter(name="run_id", value=self.ctx.run_id if self.ctx.run_id_chosen else "")]
        arguments += [a.Parameter(name=name, value=_text(value)) for name, value in exposed.items()]
        if len(self.templates) + 1 > limits.MAX_TEMPLATES:
            raise PipelineDefinitionError(
                f"needs {len(self.templates) + 1} Argo templates and Argo v4 allows {limits.MAX_TEMPLATES} (one per "
                f"parallel, map or dag step and branch, and per distinct pod settings): use fewer overrides or "
                f"nested steps", file=self.ctx.pipeline_file)
        return a.WorkflowSpec(
            entrypoint=ENTRYPOINT, on_exit=end, arguments=a.Arguments(parameters=arguments),
            service_account_name=cfg.service_account_name,
            image_pull_secrets=[a.LocalObjectReference(name=n) for n in cfg.image_pull_secrets] or None,
            pod_metadata=a.Metadata(labels=cfg.pod_labels or None, annotations=cfg.pod_annotations or None)
            if cfg.pod_labels or cfg.pod_annotations else None,
            active_deadline_seconds=cfg.max_workflow_duration_in_seconds,
            parallelism=cfg.parallelism, pod_gc=a.PodGC(strategy=cfg.pod_gc),
            volumes=list(self.volumes.values()) or None,
            templates=[entry, *self.templates],
        )

    def _exposed_parameters(self) -> dict[str, Any]:
        if not self.config.expose_parameters_as_inputs:
            return {}
        exposed = {}
        for name, param in self.parameters.items():
            if param.kind == "json" and isinstance(param.value, (str, int, float)) and not isinstance(param.value, bool):
                if name == "run_id":
                    raise PipelineDefinitionError("a parameter may not be named 'run_id': it is the workflow "
                                                  "argument naming the run", field="run_id")
                exposed[name] = param.value
        return exposed

    @staticmethod
    def _parameter_variables() -> list[a.EnvVar]:
        """The RUNNABLE_PRM_ values ``execute`` saw: the start pod sees them too, so the run starts from the
        parameters the pre-flight checked (values not exposed as workflow arguments, a list or a mapping,
        would otherwise be lost). An exposed one is still overridden at submit time by ``--parameter``."""
        import os

        return [a.EnvVar(name=k, value=v) for k, v in sorted(os.environ.items())
                if k.startswith(PARAMETER_PREFIX) and len(k) > len(PARAMETER_PREFIX)]

    def _config_variables(self) -> list[a.EnvVar]:
        """Pods read the same configuration file, so they need the RUNNABLE_VAR_ values it refers to."""
        import os

        if not self.config_file:
            return []
        names = variable_names(Path(self.config_file).read_text(encoding="utf-8"))
        return [a.EnvVar(name=f"{VARIABLE_PREFIX}{n}", value=os.environ.get(f"{VARIABLE_PREFIX}{n}", ""))
                for n in names]

    # --- graphs ----------------------------------------------------------------------------------
    def graph_tasks(self, graph: Graph, names: NameAllocator, *, roots_depend_on: str | None,
                    in_branch: bool, label: tuple[str, ...]) -> list[a.DAGTask]:
        """The DAG tasks of one graph: each step's tasks, wired by next / on_failure edges; a graph too large
        for one DAG becomes consecutive parts (extensions/argo/limits.py), and these are the tasks that chain
        them."""
        steps = [n for n in graph.steps.values() if not n.is_terminal]
        entry: dict[str, str] = {}     # step name -> task that starts it
        outcome: dict[str, tuple[str, str]] = {}  # step name -> (succeeded expr, failed expr)
        for node in steps:
            base = names.allocate(node.name)
            if node.is_composite:
                entry[node.name] = names.derive(base, "out")
                outcome[node.name] = (succeeded(names.derive(base, "in")),
                                      f"{failed(names.derive(base, 'in'))} || {failed(entry[node.name])}")
            else:
                entry[node.name] = base
                outcome[node.name] = (succeeded(base), failed(base))
        incoming: dict[str, list[str]] = {n.name: [] for n in graph.steps.values()}
        for node in steps:
            ok, bad = outcome[node.name]
            incoming[node.next].append(ok)  # type: ignore[index]
            incoming[node.on_failure or graph.fail_node().name].append(bad)
        success = next(t.name for t in graph.steps.values() if t.is_terminal and t.type == "success")

        def part(members: list[BaseNode], first: str, exit_step: str, roots: str | None) -> list[a.DAGTask]:
            """The tasks of some steps, ``first`` the one they start with (its routes in come from before)."""
            tasks: list[a.DAGTask] = []
            for node in members:
                depends = (succeeded(roots) if roots else None) if node.name == first \
                    else " || ".join(incoming[node.name]) or None
                tasks.extend(self.step_tasks(node, names, entry[node.name], depends, in_branch))
            if any(n.on_failure for n in members):
                ends = incoming[exit_step]
                tasks.append(a.DAGTask(name=names.allocate("join"), template=self.join_template(),
                                       depends=" || ".join(ends) if ends else succeeded("start")))
            return tasks

        if sum(map(_tasks_of, steps)) + 2 <= limits.MAX_DAG_TASKS:  # with a start task and a join
            return part(steps, graph.start_at, success, roots_depend_on)
        order = _topological(graph, steps)
        position = {n.name: i for i, n in enumerate(order)}
        routes = [(position[n.name], position[t] if t in position else len(order))
                  for n in order for t in (n.next, n.on_failure) if t and graph.steps[t].type != "fail"]
        try:
            starts = limits.split([_tasks_of(n) for n in order], limits.clean_cuts(len(order), routes),
                                  limits.MAX_DAG_TASKS - 1)
        except limits.CannotSplit as exc:
            raise PipelineDefinitionError(
                f"the steps from '{order[exc.position].name}' on need more than {limits.MAX_DAG_TASKS} Argo tasks "
                f"and no single step joins their routes, where they could be cut into parts (Argo v4 allows "
                f"{limits.MAX_DAG_TASKS} tasks in a DAG)", file=self.ctx.pipeline_file,
                step=order[exc.position].name) from None
        templates = []
        for i, lo in enumerate(starts):
            hi = starts[i + 1] if i + 1 < len(starts) else len(order)
            exit_step = order[hi].name if hi < len(order) else success
            tasks = part(order[lo:hi], order[lo].name, exit_step, None)
            templates.append(self.dag_template(label + (f"part-{i + 1}",), tasks, in_branch))
        return self.chain(templates, roots_depend_on, in_branch, label)

    def chain(self, templates: list[str], roots_depend_on: str | None, in_branch: bool,
              label: tuple[str, ...]) -> list[a.DAGTask]:
        """Tasks running ``templates`` one after the other, nested in groups when too many for one DAG."""
        while len(templates) > limits.MAX_DAG_TASKS - 1:
            templates = [self.dag_template(label + (f"parts-{g + 1}",), self.chain(templates[c.start:c.stop], None,
                                                                                    in_branch, label), in_branch)
                         for g, c in enumerate(limits.chunks(len(templates), limits.MAX_DAG_TASKS - 1))]
        mv = [a.Parameter(name="map_variable", value="{{inputs.parameters.map_variable}}")] if in_branch else []
        tasks, before = [], roots_depend_on
        for i, template in enumerate(templates):
            name = f"part-{i + 1}"
            tasks.append(a.DAGTask(name=name, template=template, depends=succeeded(before) if before else None,
                                   arguments=a.Arguments(parameters=mv) if mv else None))
            before = name
        return tasks

    def dag_template(self, label: tuple[str, ...], tasks: list[a.DAGTask], in_branch: bool) -> str:
        name = self.template_names.allocate(label)
        inputs = a.Inputs(parameters=[a.Parameter(name="map_variable")]) if in_branch else None
        self.templates.append(a.Template(name=name, inputs=inputs, dag=a.DAGTemplate(fail_fast=False, tasks=tasks)))
        return name

    def step_tasks(self, node: BaseNode, names: NameAllocator, first: str, depends: str | None,
                   in_branch: bool) -> list[a.DAGTask]:
        settings = self.config.step_settings(self.ctx, node)
        step_arg = a.Parameter(name="step", value=_static_name(node))
        mv = [a.Parameter(name="map_variable", value="{{inputs.parameters.map_variable}}")] if in_branch else []
        if not node.is_composite:
            template = self.container_template(TASK, settings, attempts=self.attempts(node, settings),
                                               override=node.overrides.get("argo"),
                                               secrets=self.pod_secrets(node, settings))
            return [a.DAGTask(name=first, template=template, depends=depends,
                              arguments=a.Arguments(parameters=[step_arg, *mv]))]
        base = first.removesuffix("-out")
        fan_in = names.derive(base, "in")
        batched = self.batched(node, settings)
        out_template = self.container_template(FAN_OUT_BATCHED if batched else FAN_OUT, settings,
                                               override=node.overrides.get("argo"))
        in_template = self.container_template(FAN_IN, settings, override=node.overrides.get("argo"))
        body_args = list(mv)
        if node.type == "map":
            body_args = [a.Parameter(name="iterations", value=f"{{{{tasks.{first}.outputs.parameters.iterations}}}}")]
            if batched:
                body_args += [a.Parameter(name="batches", value=f"{{{{tasks.{first}.outputs.parameters.batches}}}}"),
                              *mv]
        return [
            a.DAGTask(name=first, template=out_template, depends=depends,
                      arguments=a.Arguments(parameters=[step_arg, *mv])),
            a.DAGTask(name=base, template=self.wrapper_template(node, settings), depends=succeeded(first),
                      arguments=a.Arguments(parameters=body_args) if body_args else None),
            a.DAGTask(name=fan_in, template=in_template, depends=finished(base),
                      arguments=a.Arguments(parameters=[step_arg, *mv])),
        ]

    def wrapper_template(self, node: BaseNode, settings: StepSettings) -> str:
        """The DAG that runs a composite step's branches (all of them, or one per iteration)."""
        name = self.template_names.allocate(_path_name(node) + ("branches",))
        tasks: list[a.DAGTask] = []
        if node.type == "map":
            graph = next(iter(node.branches().values()))
            inputs = [a.Parameter(name="iterations")]
            tasks.append(a.DAGTask(name="iteration", template=self.graph_template(node, graph, "branch"),
                                   with_param="{{inputs.parameters.iterations}}",
                                   arguments=a.Arguments(parameters=[a.Parameter(name="map_variable", value="{{item}}")])))
            if self.batched(node, settings):
                inputs += [a.Parameter(name="batches"), a.Parameter(name="map_variable", default="{}")]
                batch = self.container_template(BATCH, settings, override=node.overrides.get("argo"),
                                                secrets=self.batch_secrets(graph, settings))
                tasks.append(a.DAGTask(name="batch", template=batch, with_param="{{inputs.parameters.batches}}",
                                       arguments=a.Arguments(parameters=[
                                           a.Parameter(name="step", value=_static_name(node)),
                                           a.Parameter(name="map_variable", value="{{inputs.parameters.map_variable}}"),
                                           a.Parameter(name="iterations", value="{{item}}")])))
        else:
            inputs = [a.Parameter(name="map_variable", default="{}")]
            if len(node.branches()) > limits.MAX_DAG_TASKS:  # one task per branch in one DAG
                raise PipelineDefinitionError(f"has {len(node.branches())} branches and Argo v4 allows "
                                              f"{limits.MAX_DAG_TASKS} tasks in a DAG: use a map step",
                                              file=self.ctx.pipeline_file, step=node.name, field="branches")
            branch_names = NameAllocator()
            for branch_name, graph in node.branches().items():
                tasks.append(a.DAGTask(
                    name=branch_names.allocate(branch_name), template=self.graph_template(node, graph, branch_name),
                    arguments=a.Arguments(parameters=[a.Parameter(name="map_variable",
                                                                  value="{{inputs.parameters.map_variable}}")])))
        self.templates.append(a.Template(name=name, inputs=a.Inputs(parameters=inputs), parallelism=settings.parallelism,
                                         dag=a.DAGTemplate(fail_fast=False, tasks=tasks)))
        return name

    def graph_template(self, node: BaseNode, graph: Graph, branch: str) -> str:
        name = self.template_names.allocate(_path_name(node) + (branch,))
        tasks = self.graph_tasks(graph, NameAllocator(), roots_depend_on=None, in_branch=True,
                                 label=_path_name(node) + (branch,))
        self.templates.append(a.Template(name=name, inputs=a.Inputs(parameters=[a.Parameter(name="map_variable")]),
                                         dag=a.DAGTemplate(fail_fast=False, tasks=tasks)))
        return name

    def join_template(self) -> str:
        if not self.has_join_template:
            self.has_join_template = True
            self.templates.append(a.Template(name=self.template_names.reserve("runnable-join"),
                                             suspend=a.SuspendTemplate(duration="0")))
        return "runnable-join"

    # --- containers ------------------------------------------------------------------------------
    def batched(self, node: BaseNode, settings: StepSettings) -> bool:
        """Whether a map step's iterations may run in batch pods: not with ``batch_size: 1``, nor when a step of
        its branch names its own argo override (a batch pod runs the whole branch with the map step's settings),
        which is an error if ``batch_size`` asks for batches."""
        if node.type != "map" or settings.batch_size == 1:
            return False
        graph = next(iter(node.branches().values()))
        own = next((n for n in graph.walk() if n.overrides.get("argo")), None)
        if own is None:
            return True
        if settings.batch_size is not None:
            raise PipelineDefinitionError(
                f"batch_size {settings.batch_size}: step '{own.name}' of its branch names its own argo override, and "
                f"a batch pod runs the whole branch with the map step's settings; drop one of them",
                file=self.ctx.pipeline_file, step=node.name, field="overrides.argo")
        return False

    def batch_secrets(self, graph: Graph, settings: StepSettings) -> list[SecretFromK8s]:
        """A batch pod runs every task of the branch: the ``secrets_from_k8s`` entries any of them gets."""
        wanted = {s.environment_variable for n in graph.walk() for s in self.pod_secrets(n, settings)}
        return [s for s in settings.secrets_from_k8s if s.environment_variable in wanted]

    @staticmethod
    def attempts(node: BaseNode, settings: StepSettings) -> int:
        """Attempts Argo makes of a step: the retry strategy's, or the step's max_attempts if more."""
        return max(Transpiler.retry_limit(settings) + 1, node.max_attempts_allowed())

    @staticmethod
    def retry_limit(settings: StepSettings) -> int:
        return settings.retry_strategy.limit if settings.retry_strategy else 0

    def pod_secrets(self, node: BaseNode, settings: StepSettings) -> list[SecretFromK8s]:
        """The ``secrets_from_k8s`` entries a step's pod gets. Only a task runs user code: one that declares
        ``secrets`` gets the entries that provide them, one that declares nothing gets all."""
        task = getattr(node, "task", None)
        if task is None:
            return []
        if task.secrets is None:
            return settings.secrets_from_k8s
        provided = {s.environment_variable for s in settings.secrets_from_k8s}
        wanted = set()
        for name in task.secrets:
            variable = self.ctx.secrets.environment_variable(name)  # None: the manager reads no environment
            if variable is not None and variable not in provided:
                where = f" (override '{node.overrides['argo']}')" if node.overrides.get("argo") else ""
                raise PipelineDefinitionError(
                    f"'{name}' is not provided by secrets_from_k8s of the argo configuration{where}"
                    + (f" (as the environment variable {variable})" if variable != name else "")
                    + f"; provided: {', '.join(sorted(provided)) or 'none'}",
                    file=self.ctx.pipeline_file, step=node.name, field="secrets")
            wanted.add(variable or name)
        return [s for s in settings.secrets_from_k8s if s.environment_variable in wanted]

    def container_template(self, kind: str, settings: StepSettings, *, attempts: int | None = None,
                           override: str | None = None, exposed: dict[str, Any] | None = None,
                           secrets: list[SecretFromK8s] | None = None) -> str:
        """``secrets``: the ``secrets_from_k8s`` entries the pod gets (only task pods get any)."""
        secrets = secrets or []
        unused = {"parallelism", "secrets_from_k8s"} | ({"batch_size"} if kind != FAN_OUT_BATCHED else set())
        key = (kind, settings.model_dump_json(exclude=unused), attempts,
               tuple(s.model_dump_json() for s in secrets))
        if key in self.container_templates:
            return self.container_templates[key]
        suffix = (override,) if override else ()
        if attempts is not None and attempts != self.retry_limit(settings) + 1:
            suffix += (f"{attempts}-attempts",)
        if kind in (TASK, BATCH) and len(secrets) < len(settings.secrets_from_k8s):  # a task that declared secrets, a stub
            suffix += ("secrets", *(s.environment_variable for s in secrets)) if secrets else ("no-secrets",)
        name = self.template_names.allocate(("runnable", kind) + suffix)
        self.container_templates[key] = name
        for volume in settings.persistent_volumes:
            self.volumes.setdefault(volume.name, a.Volume(
                name=volume.name, persistent_volume_claim=a.PVCSource(claim_name=volume.name)))
        inputs = outputs = None
        common = ["-f", self.pipeline_file, "-c", self.config_file, *WORKFLOW_UID]
        if kind == START:
            args = ["start-run", RUN_ID, *common]
            if self.ctx.original_run_id:  # a retry: the start pod checks the original run and reuses it
                args += ["--original-run-id", self.ctx.original_run_id] + (["--force"] if self.ctx.force_retry else [])
            elif self.parameters_file:
                args += ["-p", self.parameters_file]
            for pname in exposed or {}:
                args += ["--parameter", f"{pname}={{{{workflow.parameters.{pname}}}}}"]
        elif kind == END:
            args = ["end-run", RUN_ID, *common, "--workflow-status", "{{workflow.status}}"]
        else:
            inputs = a.Inputs(parameters=[a.Parameter(name="step"), a.Parameter(name="map_variable", default="{}")])
            where = ["{{inputs.parameters.step}}", *common, "--map-variable", "{{inputs.parameters.map_variable}}"]
            if kind == TASK:
                args = ["execute-single-node", RUN_ID, *where]
            elif kind in (FAN_OUT, FAN_OUT_BATCHED):
                args = ["fan", RUN_ID, *where, "--mode", "out", "--iterations-file", ITERATIONS_FILE]
                files = {"iterations": ITERATIONS_FILE}
                if kind == FAN_OUT_BATCHED:  # the fan-out pod decides: iterations, or batches of them
                    args += ["--batches-file", BATCHES_FILE]
                    args += ["--batch-size", str(settings.batch_size)] if settings.batch_size else \
                        ["--batch-above", str(limits.AUTO_BATCH_ABOVE)]
                    files["batches"] = BATCHES_FILE
                outputs = a.Outputs(parameters=[a.Parameter(name=n, value_from=a.ValueFrom(path=path))
                                                for n, path in files.items()])
            elif kind == BATCH:
                inputs.parameters.append(a.Parameter(name="iterations"))
                args = ["execute-batch", RUN_ID, *where, "--iterations", "{{inputs.parameters.iterations}}"]
            else:
                args = ["fan", RUN_ID, *where, "--mode", "in"]
        retry = settings.retry_strategy
        limit = (attempts - 1) if attempts is not None else self.retry_limit(settings)
        retry_strategy = None
        if retry is not None:  # on the step templates: spec.retryStrategy would retry whole DAGs too
            retry_strategy = a.RetryStrategy(limit=str(limit), retry_policy=retry.retry_policy, backoff=a.Backoff(
                duration=retry.backoff.duration, factor=str(retry.backoff.factor),
                max_duration=retry.backoff.max_duration))
        elif limit > 0:  # no retry strategy configured, but the step's max_attempts asks for more attempts
            retry_strategy = a.RetryStrategy(limit=str(limit), retry_policy="Always")
        if kind in (TASK, BATCH) and retry_strategy is not None:
            # Argo binds {{retries}} only where a retry strategy applies (workflow/controller/operator.go,
            # executeTemplate: `if woc.retryStrategy(processedTmpl) != nil` ~line 2446, then the retry node's
            # child count as `localParams[varkeys.Retries.Template()]` ~line 2520;
            # spec.retryStrategy is never written). Elsewhere it stays literal text, so a template without one
            # runs its step's single attempt (the pod's default) and takes no attempt number. A batch pod is told
            # its try so that only the last follows a failing iteration's failure (runnable.batches.provisional).
            args += ["--retries", "{{retries}}"]
        env = [a.EnvVar(name=s.environment_variable, value_from=a.EnvVarSource(secret_key_ref=a.SecretKeySelector(
            name=s.secret_name, key=s.secret_key))) for s in secrets]
        env += [a.EnvVar(name=k, value=v) for k, v in settings.env.items()]
        env += self.variables_env
        if kind == START and not self.ctx.original_run_id:
            env += self._parameter_variables()
        resources = settings.resources
        self.templates.append(a.Template(
            name=name, inputs=inputs, outputs=outputs,
            active_deadline_seconds=str(settings.max_step_duration_in_seconds),
            retry_strategy=retry_strategy,
            node_selector=settings.node_selector or None,
            tolerations=[a.Toleration.model_validate(t.model_dump(by_alias=True)) for t in settings.tolerations] or None,
            metadata=a.Metadata(labels=settings.labels or None, annotations=settings.annotations or None)
            if settings.labels or settings.annotations else None,
            affinity=settings.affinity, priority_class_name=settings.priority_class_name,
            security_context=settings.security_context,
            container=a.Container(security_context=settings.container_security_context,
                image=settings.image or self.config.image, image_pull_policy=settings.image_pull_policy or None,
                command=["runnable"], args=args, env=env or None,
                resources=a.ResourceRequirements(limits=resources.limits or None, requests=resources.requests or None),
                volume_mounts=[a.VolumeMount(name=v.name, mount_path=v.mount_path)
                               for v in settings.persistent_volumes] or None,
            ),
        ))
        return name


def _tasks_of(node: BaseNode) -> int:
    return 3 if node.is_composite else 1  # fan-out, branches, fan-in


def _topological(graph: Graph, steps: list[BaseNode]) -> list[BaseNode]:
    """The steps in an order every route goes forward in (the graph is acyclic): Kahn's, ties in the order
    the steps were written."""
    import heapq

    index = {n.name: i for i, n in enumerate(steps)}
    waiting = dict.fromkeys(index, 0)
    for n in steps:
        for t in {n.next, n.on_failure} - {None}:
            if t in waiting:
                waiting[t] += 1
    ready = [index[n] for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = steps[heapq.heappop(ready)]
        order.append(node)
        for t in {node.next, node.on_failure} - {None}:
            if t in waiting:
                waiting[t] -= 1
                if waiting[t] == 0:
                    heapq.heappush(ready, index[t])
    return order


def _static_name(node: BaseNode) -> str:
    return node.internal_name_template()


def _path_name(node: BaseNode) -> tuple[str, ...]:
    return tuple(str(s) for s in node.segments if not str(s).startswith("{"))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
