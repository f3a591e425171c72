"""The manifest the argo executor writes, checked against Argo's rules before the file is written.

``validate_workflow(manifest)`` returns readable problems (an empty list: valid); ``check_manifest`` raises
:class:`runnable.errors.InternalError` with them, which the CLI reports as an internal error (exit 3): a
manifest that breaks these rules is a bug of the transpiler, never the user's mistake. The manifest may be a
Workflow, a WorkflowTemplate or a CronWorkflow (its spec is ``spec.workflowSpec``).

Two kinds of rule, each citing the Argo v4.1 source it follows:

* what ``argo submit`` / the API server's validation refuses (workflow/validate/validate.go, the functions
  named at each check, and workflow/common/ancestry.go for ``depends``);
* what Argo accepts but binds differently at run time, where an unknown ``{{...}}`` stays literal text
  (util/template/simple_template.go simpleReplaceStrict writes the tag back): ``{{retries}}`` without a retry
  strategy, ``{{workflow.status}}``/``{{workflow.failures}}`` outside the exit handler, ``{{item}}`` outside
  a loop, ``{{tasks.X...}}`` from a task that does not wait for X, arguments a template does not declare, ...

One pass over the manifest: each string is scanned once, each DAG is sorted once; a ``{{tasks.X...}}`` from
a task that does not depend on X directly walks that task's ancestry (the transpiler only writes direct ones).
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from runnable.errors import InternalError

from .emulation.expressions import ITEM_RESULTS, RESULTS, scan
from .limits import MAX_DAG_TASKS, MAX_TEMPLATES
from .naming import NAME

# validate.go isValidWorkflowFieldName (NAME in naming.py; workflowFieldMaxLength) and
# isValidParamOrArtifactName (paramOrArtifactNameRegex)
PARAM_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")
MAX_NAME = 128
# validate.go maxCharsInObjectName (Workflow, WorkflowTemplate metadata.name) and maxCharsInCronWorkflowName
MAX_WORKFLOW_NAME = 63
MAX_CRON_WORKFLOW_NAME = 52
# Kubernetes appends 5 random characters to a generateName (it truncates a longer prefix, so Argo never
# refuses one); the configuration keeps the whole name by refusing more than 63 - 5 (config.py)
GENERATE_SUFFIX = 5

# validate.go validateTemplateType
_TYPES = ("container", "containerSet", "steps", "script", "resource", "dag", "suspend", "data", "http", "plugin")
_POD_TYPES = {"container", "containerSet", "script", "resource", "data"}        # Template.IsPodType
_LEAF_TYPES = _POD_TYPES | {"http", "plugin"}                                    # Template.IsLeaf
# common.go GlobalVarValidWorkflowVariablePrefix: validate.go resolveAllVariables checks only these roots
_CHECKED_ROOTS = ("item.", "steps.", "inputs.", "outputs.", "pod.", "workflow.", "tasks.")
# util/variables/keys/globals.go: always bound (operator.go setGlobalParameters ~677-700)
_WORKFLOW_GLOBALS = {"workflow.name", "workflow.namespace", "workflow.uid", "workflow.mainEntrypoint",
                     "workflow.serviceAccountName", "workflow.labels", "workflow.labels.json",
                     "workflow.annotations", "workflow.annotations.json"}
# validate.go resolveAllVariables accepts these by prefix (bound at run time)
_WORKFLOW_PREFIXES = ("workflow.creationTimestamp", "workflow.scheduledTime", "workflow.duration")
_LAST_RETRY = {"lastRetry.exitCode", "lastRetry.status", "lastRetry.duration", "lastRetry.message"}
# pod_gc: workflow_types.go PodGCStrategy.IsValid; retryPolicy: validate.go validateTemplateHolder
_POD_GC = {"", "OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess"}
_RETRY_POLICIES = {"", "Always", "OnError", "OnFailure", "OnTransientError"}
_CONCURRENCY = {"", "Allow", "Forbid", "Replace"}   # validate.go CronWorkflow


def check_manifest(manifest: dict) -> None:
    """Raise InternalError naming the first problems if Argo would refuse or misbind the manifest."""
    problems = validate_workflow(manifest)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InternalError(f"the generated {manifest.get('kind', 'Workflow')} breaks Argo's rules, so it was not "
                            f"written: {problems[0]}{more}")


def validate_workflow(manifest: dict) -> list[str]:
    return _Checker(manifest).run()


def _strings(value: Any) -> Iterator[str]:
    """Every string in value, in document order."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(reversed(item.values()))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def _field_of(value: Any, text: str, path: str = "") -> str | None:
    """The path of the first string in value equal to text (used only to name a problem's field)."""
    if isinstance(value, str):
        return path if value == text else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _field_of(item, text, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key)
        if found is not None:
            return found
    return None


def tags(text: str) -> Iterator[str | None]:
    """The ``{{...}}`` tags of text as Argo's fasttemplate finds them (each "{{" up to the next "}}"),
    trimmed as simpleReplaceStrict trims them; None for a "{{" that is never closed (fasttemplate.NewTemplate
    refuses the whole text, so Argo's validation and substitution fail)."""
    pos = text.find("{{")
    while pos >= 0:
        end = text.find("}}", pos + 2)
        if end < 0:
            yield None
            return
        yield text[pos + 2:end].strip()
        pos = text.find("{{", end + 2)


def depends_tasks(expression: str) -> tuple[list[tuple[str, str]], str | None]:
    """The (task, result) pairs a depends expression refers to (result '' for a bare task name), or why
    it does not parse. Argo finds names with ancestry.go's taskNameRegex and evaluates the expression, '-'
    read as '_', with expr at run time (controller/dag.go evaluateDependsLogic): an expression that does not
    parse passes submission and fails the task there."""
    refs, depth, expect_operand = [], 0, True
    found, rest = scan(expression)
    for token in found:
        if token in ("||", "&&"):
            if expect_operand:
                return refs, f"operator '{token}' without a left operand"
            expect_operand = True
        elif token == "!":
            if not expect_operand:
                return refs, "'!' after an operand"
        elif token == "(":
            if not expect_operand:
                return refs, "'(' after an operand"
            depth += 1
        elif token == ")":
            depth -= 1
            if depth < 0 or expect_operand:
                return refs, "unbalanced parentheses"
        else:
            if not expect_operand:
                return refs, f"missing operator before '{token}'"
            task, _, result = token.partition(".")
            if result and result not in RESULTS:  # ancestry.go ValidateTaskResults
                return refs, f"task result '{result}' for task '{task}' is invalid"
            refs.append((task, result))
            expect_operand = False
    if rest.strip():
        return refs, f"cannot parse '{rest.strip()}'"
    if depth != 0 or expect_operand:
        return refs, "incomplete expression"
    return refs, None


def _kind(template: dict) -> str | None:
    kinds = [k for k in _TYPES if template.get(k) is not None]
    return kinds[0] if len(kinds) == 1 else None


def _names(items: list, pattern: re.Pattern, what: str, limit: int | None = None) -> Iterator[str]:
    """validate.go validateWorkflowFieldNames: every name present, valid and unique."""
    seen: set[str] = set()
    for i, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        if not name:
            yield f"{what}[{i}].name is required"
        elif not pattern.match(name) or (limit and len(name) > limit):
            yield f"{what} name '{name}' is invalid"
        elif name in seen:
            yield f"{what} name '{name}' is not unique"
        seen.add(name)


def _required_inputs(template: dict) -> list[str]:
    """Inputs with no value, default or valueFrom: common/util.go ProcessArgs needs an argument for each
    ("inputs.parameters.X had no value" in SubstituteParams)."""
    return [p["name"] for p in (template.get("inputs") or {}).get("parameters") or []
            if isinstance(p, dict) and "name" in p and p.get("value") is None and p.get("default") is None
            and p.get("valueFrom") is None]


def _argument_problems(where: str, arguments: dict, allow_empty: bool) -> Iterator[str]:
    """validate.go validateArguments: parameter names, and a value or valueFrom for each."""
    params = (arguments or {}).get("parameters") or []
    yield from (f"{where}: {p}" for p in _names(params, PARAM_NAME, "argument"))
    for p in params:
        value_from = p.get("valueFrom")
        if p.get("value") is None and value_from is None and not allow_empty:
            yield f"{where}: argument '{p.get('name')}' needs a value or valueFrom"
        if value_from is not None and (not any(k in value_from for k in ("configMapKeyRef", "event", "supplied"))
                                       or any(k in value_from for k in ("path", "jsonPath", "parameter",
                                                                         "expression"))):
            yield f"{where}: argument '{p.get('name')}' valueFrom only allows default, configMapKeyRef and supplied"
        if p.get("enum") is not None and p.get("value") is not None and p["value"] not in p["enum"]:
            yield f"{where}: argument '{p.get('name')}' value is not in its enum"


class _Checker:
    def __init__(self, manifest: dict) -> None:
        self.manifest = manifest
        self.kind = manifest.get("kind", "Workflow")
        outer = manifest.get("spec") or {}
        self.spec = (outer.get("workflowSpec") or {}) if self.kind == "CronWorkflow" else outer
        self.outer = outer
        self.problems: list[str] = []
        self.templates: dict[str, dict] = {}
        self.inputs_of: dict[str, tuple[list[str], set[str]]] = {}  # per template: required, declared inputs

    def run(self) -> list[str]:
        if self.kind not in ("Workflow", "WorkflowTemplate", "CronWorkflow"):
            return [f"kind '{self.kind}' is not one the argo executor writes"]
        self._object()
        self._spec()
        self.main, self.exits = self._reached()
        for name, template in self.templates.items():
            self._template(name, template)
        return self.problems

    # --- the object and its spec ------------------------------------------------------------------------
    def _object(self) -> None:
        meta = self.manifest.get("metadata") or {}
        limit = MAX_CRON_WORKFLOW_NAME if self.kind == "CronWorkflow" else MAX_WORKFLOW_NAME
        if len(meta.get("name") or "") > limit:  # validate.go Workflow / WorkflowTemplate / CronWorkflow
            self.problems.append(f"metadata.name must not be more than {limit} characters long")
        if self.kind == "CronWorkflow":  # validate.go CronWorkflow
            if not self.outer.get("schedules"):
                self.problems.append("spec.schedules: a cron workflow must have at least one schedule")
            if (self.outer.get("concurrencyPolicy") or "") not in _CONCURRENCY:
                self.problems.append(f"spec.concurrencyPolicy '{self.outer['concurrencyPolicy']}' is not valid")
            if (self.outer.get("startingDeadlineSeconds") or 0) < 0:
                self.problems.append("spec.startingDeadlineSeconds must be positive")

    def _spec(self) -> None:
        spec, add = self.spec, self.problems.append
        templates = spec.get("templates") or []
        self.problems += [f"spec.templates: {p}" for p in _names(templates, NAME, "template", MAX_NAME)]
        if len(templates) > MAX_TEMPLATES:  # the CRD's list limit (limits.py), checked by the API server
            add(f"spec.templates: {len(templates)} templates, more than the {MAX_TEMPLATES} Argo v4 allows")
        self.templates = {t["name"]: t for t in templates if isinstance(t, dict) and t.get("name")}
        # validate.go Workflow: a WorkflowTemplate may leave out the entrypoint and its arguments' values
        # (IgnoreEntrypoint, allowEmptyValues); a Workflow (a CronWorkflow validates as one) may not
        template_kind = self.kind == "WorkflowTemplate"
        arguments = spec.get("arguments") or {}
        self.problems += list(_argument_problems("spec.arguments", arguments, template_kind))
        self.workflow_params = {p.get("name") for p in arguments.get("parameters") or []}
        for p in arguments.get("parameters") or []:
            # operator.go setGlobalParameters (~707-710) binds workflow.parameters.X to the value as written;
            # substituteGlobalVariables (~4694) rewrites the spec, not that binding: pods would get the text
            if "{{" in str(p.get("value") or ""):
                add(f"spec.arguments: argument '{p.get('name')}' value '{p['value']}' reaches pods as text "
                    f"(Argo binds workflow arguments before substituting variables)")
        if not spec.get("entrypoint") and not template_kind:
            add("spec.entrypoint is required")
        for key in ("entrypoint", "onExit"):
            target = spec.get(key)
            if not target:
                continue
            if target not in self.templates:
                add(f"spec.{key}: template name '{target}' undefined")
            elif not template_kind:  # validateTemplateHolder(entrypoint/onExit, &wf.Spec.Arguments)
                for name in _required_inputs(self.templates[target]):
                    if name not in self.workflow_params:
                        add(f"spec.{key}: template '{target}' input '{name}' is not given by spec.arguments")
        for hook, value in (spec.get("hooks") or {}).items():  # validate.go validateHooks
            if hook != "exit" and not (value or {}).get("expression"):
                add(f"spec.hooks.{hook}: expression required")
        if ((spec.get("podGC") or {}).get("strategy") or "") not in _POD_GC:
            add(f"spec.podGC.strategy: unknown strategy '{spec['podGC']['strategy']}'")
        # the variables Argo defines for this spec (validate.go Workflow fills globalParams with these)
        self.on_exit = bool(spec.get("onExit"))
        meta = self.manifest.get("metadata") or {}
        wf_meta = spec.get("workflowMetadata") or {}
        if self.kind == "CronWorkflow":
            # common/convert.go ConvertCronWorkflowToWorkflow: the Workflow gets the cron-workflow label and
            # the CronWorkflow's spec.workflowMetadata, not the CronWorkflow's own labels and annotations
            cron_meta = self.outer.get("workflowMetadata") or {}
            labels = {"workflows.argoproj.io/cron-workflow", *(cron_meta.get("labels") or {})}
            annotations = {"workflows.argoproj.io/scheduled-time", *(cron_meta.get("annotations") or {})}
        else:
            labels, annotations = set(meta.get("labels") or {}), set(meta.get("annotations") or {})
        self.labels = labels | set(wf_meta.get("labels") or {}) | set(wf_meta.get("labelsFrom") or {})
        self.annotations = annotations | set(wf_meta.get("annotations") or {})
        self.global_outputs = {o.get("globalName") for t in self.templates.values()
                               for o in (t.get("outputs") or {}).get("parameters") or [] if o.get("globalName")}
        self.global_artifacts = {o.get("globalName") for t in self.templates.values()
                                 for o in (t.get("outputs") or {}).get("artifacts") or [] if o.get("globalName")}
        volumes = {v.get("name") for v in spec.get("volumes") or []}
        self.volumes = volumes | {(c.get("metadata") or {}).get("name") for c in spec.get("volumeClaimTemplates") or []}

    def _reached(self) -> tuple[set[str], set[str]]:
        """The templates reached from the entrypoint, and from spec.onExit or a workflow hook. Only in those
        reached from the exit roots alone is workflow.status final and workflow.failures bound (operator.go
        operate sets both after the entrypoint's executeTemplate returns (~457, ~479), then runs workflow hooks
        (executeWfLifeCycleHook) and the exit handler (~507); before, workflow.status is the phase so far
        (setGlobalRuntimeParameters ~4560) and workflow.failures stays text)."""
        def reached(roots: list[str]) -> set[str]:
            seen, stack = set(), [r for r in roots if r in self.templates]
            while stack:
                name = stack.pop()
                if name in seen:
                    continue
                seen.add(name)
                t = self.templates[name]
                calls = list((t.get("dag") or {}).get("tasks") or [])
                calls += [s for group in t.get("steps") or [] for s in (group or [])]
                for call in calls:
                    targets = [call.get("template"), call.get("onExit")]
                    targets += [h.get("template") for h in (call.get("hooks") or {}).values()]
                    stack += [x for x in targets if x in self.templates and x not in seen]
            return seen

        exits = [self.spec.get("onExit")] + [h.get("template") for h in (self.spec.get("hooks") or {}).values()]
        return reached([self.spec.get("entrypoint")]), reached([x for x in exits if x])

    # --- one template -----------------------------------------------------------------------------------
    def _template(self, name: str, t: dict) -> None:
        where = f"template '{name}'"
        add = self.problems.append
        kind = _kind(t)
        if kind is None:  # validate.go validateTemplateType
            found = [k for k in _TYPES if t.get(k) is not None]
            add(f"{where}: " + ("multiple template types specified" if found else "template type unspecified"))
            return
        inputs = t.get("inputs") or {}
        outputs = t.get("outputs") or {}
        self.problems += [f"{where}: inputs.{p}" for p in _names(inputs.get("parameters") or [], PARAM_NAME,
                                                                   "parameter")]
        self.problems += [f"{where}: outputs.{p}" for p in _names(outputs.get("parameters") or [], PARAM_NAME,
                                                                    "parameter")]
        self._outputs(where, kind, outputs)
        leaf = kind in _LEAF_TYPES
        if not leaf and t.get("activeDeadlineSeconds") is not None:  # validate.go validateNonLeaf
            add(f"{where}: activeDeadlineSeconds is only valid for leaf templates")
        if not leaf and t.get("timeout"):  # validate.go validateTemplate
            add(f"{where}: {kind} template doesn't support timeout field")
        if leaf:  # validate.go validateLeaf
            self._leaf(where, kind, t)
        retry = t.get("retryStrategy")
        if retry is not None and (retry.get("retryPolicy") or "") not in _RETRY_POLICIES:
            add(f"{where}: retryStrategy.retryPolicy '{retry['retryPolicy']}' is not a valid RetryPolicy")
        scope = _Scope(self, name, t, kind)
        if kind == "dag":
            dag = t["dag"]
            self._dag(where, dag, scope)  # its tasks, each with its own scope; then the rest of the template
            self._variables(where, {k: v for k, v in t.items() if k != "dag"}, scope)
            self._variables(where, {k: v for k, v in dag.items() if k != "tasks"}, scope)
        else:
            if kind == "steps":
                self._steps(where, t["steps"])
            self._variables(where, t, scope)

    def _outputs(self, where: str, kind: str, outputs: dict) -> None:
        """validate.go validateOutputs / validateOutputParameter."""
        for p in outputs.get("parameters") or []:
            ref = f"{where}: outputs.parameters.{p.get('name')}"
            value_from = p.get("valueFrom")
            if value_from is not None and p.get("value") is not None:
                self.problems.append(f"{ref} has both valueFrom and value specified")
            elif value_from is None and p.get("value") is None:
                self.problems.append(f"{ref} does not have valueFrom or value specified")
            elif value_from is not None:
                sources = [k for k in ("path", "jqFilter", "jsonPath", "parameter", "expression", "supplied")
                           if value_from.get(k) not in (None, "")]
                if len(sources) != 1:
                    self.problems.append(f"{ref} needs exactly one valueFrom type, has {sources or 'none'}")
                elif kind in ("container", "containerSet", "script") and "path" not in sources:
                    self.problems.append(f"{ref}.path must be specified for {kind} templates")
                elif kind in ("dag", "steps") and sources[0] not in ("parameter", "expression"):
                    self.problems.append(f"{ref}.parameter or expression must be specified for {kind} templates")

    def _leaf(self, where: str, kind: str, t: dict) -> None:
        add = self.problems.append
        if t.get("parallelism") is not None:
            add(f"{where}: parallelism is only valid for steps and dag templates")
        deadline = t.get("activeDeadlineSeconds")
        if deadline is not None:  # util/intstr IsValidIntOrArgoVariable, and not negative
            text = str(deadline)
            variable = text.startswith("{{") and text.endswith("}}")
            if not variable and (not re.fullmatch(r"[-+]?\d+", text) or int(text) < 0):
                add(f"{where}: activeDeadlineSeconds must be a positive integer > 0 or an argo variable")
        if t.get("timeout") and re.fullmatch(r"[-+]?\d+", str(t["timeout"])):
            add(f"{where}: has invalid duration format in timeout")
        for field in ("container", "script"):
            body = t.get(field)
            if body is None:
                continue
            defaults = (self.spec.get("templateDefaults") or {}).get(field) or {}
            if not body.get("image") and not defaults.get("image"):
                add(f"{where}: {field}.image may not be empty")
        mounts: dict[str, str] = {}
        for i, mount in enumerate((t.get("container") or {}).get("volumeMounts") or []):
            if mount.get("mountPath") in mounts:
                add(f"{where}: container.volumeMounts[{i}].mountPath '{mount['mountPath']}' already mounted")
            mounts[mount.get("mountPath")] = mount.get("name")
        # controller/workflowpod.go addVolumeReferences (~1444-1478): a mount must name a template volume, a
        # spec volume or a volumeClaimTemplate, or the pod is not created ("volume 'x' not found in workflow spec")
        local = {v.get("name") for v in t.get("volumes") or []}
        bodies = [t.get(kind) or {}] + list(t.get("initContainers") or []) + list(t.get("sidecars") or [])
        for body in bodies:
            for mount in body.get("volumeMounts") or []:
                if mount.get("name") not in local and mount.get("name") not in self.volumes:
                    add(f"{where}: volume '{mount.get('name')}' not found in workflow spec")

    def _steps(self, where: str, groups: list) -> None:
        for group in groups or []:
            for step in group or []:
                if step.get("template") is not None and step["template"] not in self.templates:
                    self.problems.append(f"{where}: step '{step.get('name')}' template name "
                                         f"'{step['template']}' undefined")

    # --- a DAG ------------------------------------------------------------------------------------------
    def _dag(self, where: str, dag: dict, scope: "_Scope") -> None:
        """validate.go validateDAG."""
        add = self.problems.append
        tasks = [x for x in dag.get("tasks") or [] if isinstance(x, dict)]
        if not tasks:
            add(f"{where}: must have at least one task")
            return
        self.problems += [f"{where}: tasks {p}" for p in _names(tasks, NAME, "task", MAX_NAME)]
        if len(tasks) > MAX_DAG_TASKS:  # the CRD's list limit (limits.py), checked by the API server
            add(f"{where}: {len(tasks)} tasks, more than the {MAX_DAG_TASKS} Argo v4 allows in a DAG")
        by_name = {x.get("name"): x for x in tasks}
        using_depends = any(x.get("depends") for x in tasks)
        if using_depends and any(x.get("dependencies") for x in tasks):
            add(f"{where}: cannot use both 'depends' and 'dependencies' in the same DAG template")
        if using_depends and any(x.get("continueOn") is not None for x in tasks):
            add(f"{where}: cannot use 'continueOn' when using 'depends'")
        deps: dict[str, list[str]] = {}
        for task in tasks:
            tname = task.get("name") or ""
            at = f"{where} task '{tname}'"
            if (using_depends or task.get("dependencies")) and tname[:1].isdigit():
                add(f"{at}: name cannot begin with a digit when using either 'depends' or 'dependencies'")
            target = task.get("template")
            if target not in self.templates:
                add(f"{at}: template name '{target}' undefined")
            loops = [k for k in ("withItems", "withParam", "withSequence") if task.get(k)]
            if len(loops) > 1:  # validate.go addItemsToScope
                add(f"{at}: only one of withItems, withParam, withSequence can be specified")
            refs = [(d, "") for d in task.get("dependencies") or []]
            if task.get("depends"):
                found, error = depends_tasks(task["depends"])
                if error:
                    add(f"{at}: depends '{task['depends']}': {error}")
                refs += found
            mine = deps.setdefault(tname, [])
            for dep, result in refs:
                other = by_name.get(dep)
                if other is None:
                    add(f"{at}: dependency '{dep}' not defined")
                    continue
                if result in ITEM_RESULTS and not any(other.get(k) for k in ("withItems", "withParam",
                                                                               "withSequence")):
                    add(f"{at}: dependency '{dep}' uses an items-based condition such as .{result} but does "
                        f"not contain any items")
                mine.append(dep)
            self.problems += list(_argument_problems(at, task.get("arguments") or {}, False))
            if target in self.templates:
                self._call(at, task, self.templates[target])
        scope.dag = _DagScope(self, by_name, deps)
        if self._cycle(where, tasks, deps):
            return
        for target_name in (dag.get("target") or "").split():  # validate.go validateDAGTargets
            if target_name not in by_name and not re.fullmatch(r"{{.*}}", target_name):
                add(f"{where}: targets: target '{target_name}' is not defined")
        for task in tasks:
            scope.task = task
            self._variables(f"{where} task '{task.get('name')}'", task, scope)
        scope.task = None

    def _call(self, at: str, task: dict, target: dict) -> None:
        """The arguments a task gives the template it calls."""
        given = {p.get("name") for p in (task.get("arguments") or {}).get("parameters") or []}
        if target["name"] not in self.inputs_of:
            self.inputs_of[target["name"]] = (_required_inputs(target), {
                p.get("name") for p in (target.get("inputs") or {}).get("parameters") or []})
        required, declared = self.inputs_of[target["name"]]
        for name in required:
            if name not in given:  # common/util.go ProcessArgs / SubstituteParams
                self.problems.append(f"{at}: input '{name}' of template '{target['name']}' was not supplied")
        for name in sorted(n for n in given - declared if n):
            # run time: ProcessArgs reads only the template's inputs, so the value never reaches the pod
            self.problems.append(f"{at}: argument '{name}' is not an input of template '{target['name']}' "
                                 f"(Argo drops it)")

    def _cycle(self, where: str, tasks: list[dict], deps: dict[str, list[str]]) -> bool:
        """validate.go verifyNoCycles, iteratively (a DAG may have thousands of tasks)."""
        state: dict[str, int] = {}
        for task in tasks:
            root = task.get("name") or ""
            if root in state:
                continue
            state[root] = 1
            stack = [(root, iter(deps.get(root, ())))]
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    state[node] = 2
                    stack.pop()
                elif state.get(nxt) == 1:
                    path = [n for n, _ in stack]
                    self.problems.append(f"{where}: tasks dependency cycle detected: "
                                         f"{'->'.join(path[path.index(nxt):] + [nxt])}")
                    return True
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(deps.get(nxt, ()))))
        return False

    # --- variables --------------------------------------------------------------------------------------
    def _variables(self, where: str, value: Any, scope: "_Scope") -> None:
        for text in _strings(value):
            if "{{" not in text:
                continue
            for tag in tags(text):
                problem = "'{{' without a closing '}}'" if tag is None else scope.problem(tag)
                if problem:
                    field = _field_of(value, text)
                    self.problems.append(f"{where}" + (f" field '{field}'" if field else "") + f": {problem}")


class _DagScope:
    """What the tasks of one DAG may refer to: each other's outputs, and which tasks each one waits for."""

    def __init__(self, checker: _Checker, tasks: dict[str, dict], deps: dict[str, list[str]]) -> None:
        self.checker, self.tasks, self.deps = checker, tasks, deps

    def waits_for(self, task: str, other: str) -> bool:
        """Whether other is an ancestor of task (ancestry.go GetTaskAncestry)."""
        direct = self.deps.get(task, ())
        if other in direct:
            return True
        seen, stack = set(direct), list(direct)
        while stack:
            for dep in self.deps.get(stack.pop(), ()):
                if dep == other:
                    return True
                if dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
        return False

    def field_problem(self, name: str, rest: str, task: dict | None) -> str | None:
        """validate.go addOutputsToScope: what tasks.<name>.<rest> may be."""
        other = self.tasks.get(name)
        if other is None:
            return "names no task of this DAG"
        target = self.checker.templates.get(other.get("template")) or {}
        kind = _kind(target) if target else None
        loop = bool(other.get("withItems") or other.get("withParam"))
        outputs = target.get("outputs") or {}
        fields = {"id", "startedAt", "finishedAt", "hostNodeName"}
        if target.get("daemon"):
            fields.add("ip")
        if kind in ("container", "script", "data", "http", "plugin") or (
                kind == "containerSet" and any(c.get("name") == "main"
                                               for c in target["containerSet"].get("containers") or [])):
            fields |= {"outputs.result", "exitCode"}      # Template.HasOutput
        if loop:
            fields.add("outputs.parameters")
            if kind in ("script", "containerSet"):
                fields |= {"outputs.result", "exitCode"}
        fields |= {f"outputs.parameters.{p.get('name')}" for p in outputs.get("parameters") or []}
        fields |= {f"outputs.artifacts.{a.get('name')}" for a in outputs.get("artifacts") or []}
        if task is not None:
            if not self.waits_for(task.get("name"), name):
                # validate.go validateDAGTaskArgumentDependency ("missing dependency"), and at run time a
                # task that does not wait for X may start before X has outputs
                return f"task '{name}' is not a dependency of this task, direct or indirect"
            fields.add("status")  # addOutputsToScope(..., isAncestor=true)
        if rest not in fields:
            return f"is not defined for task '{name}' (template '{other.get('template')}')"
        return None


class _Scope:
    """The variables one template (and, inside a DAG, one of its tasks) may use."""

    def __init__(self, checker: _Checker, name: str, template: dict, kind: str) -> None:
        self.checker, self.name, self.kind = checker, name, kind
        inputs = template.get("inputs") or {}
        self.inputs = {p.get("name") for p in inputs.get("parameters") or []}
        self.artifacts = {a.get("name") for a in inputs.get("artifacts") or []}
        # operator.go retryStrategy (~4475): the template's (spec.templateDefaults merged in first,
        # mergedTemplateDefaultsInto ~4649 from executeTemplate ~2234), else spec.retryStrategy
        spec = checker.spec
        self.retry = any(x.get("retryStrategy") is not None
                         for x in (template, spec.get("templateDefaults") or {}, spec))
        self.dag: _DagScope | None = None
        self.task: dict | None = None

    def problem(self, tag: str) -> str | None:
        shown = "{{" + tag + "}}"
        why = self._why(tag)
        return f"'{shown}' {why}" if why else None

    def _why(self, tag: str) -> str | None:
        if tag.startswith("="):
            return None  # util/template/validate.go: expression tags are not validated
        if tag == "retries" or tag.startswith("lastRetry."):
            if tag != "retries" and tag not in _LAST_RETRY:
                return "is not a lastRetry variable"
            if not self.retry:
                # operator.go executeTemplate (~2446-2540) binds them only `if woc.retryStrategy(tmpl) != nil`
                return "is bound only with a retryStrategy on the template or the spec; here it stays text"
            return None
        if tag == "item" or tag.startswith("item."):
            return self._item(tag)
        if not tag.startswith(_CHECKED_ROOTS):
            return "is no variable Argo defines; it would reach the pod as text"
        if tag.startswith("inputs."):
            return self._input(tag)
        if tag.startswith("outputs."):
            return None  # resolveAllVariables: self references for metrics
        if tag.startswith("pod."):
            if tag == "pod.name" and self.kind in _POD_TYPES:  # validateTemplate: only for IsPodType
                return None
            return "is defined only in templates that run a pod" if tag == "pod.name" else "is not defined"
        if tag.startswith("workflow."):
            return self._workflow(tag)
        if tag.startswith(("tasks.name", "steps.name")):
            return None  # resolveAllVariables accepts these prefixes
        if tag.startswith("steps."):
            return None if self.kind == "steps" else "is defined only in steps templates"
        return self._task_ref(tag)

    def _item(self, tag: str) -> str | None:
        """validate.go addItemsToScope, and run time: only a looping DAG task's fields are expanded."""
        task = self.task
        if task is None or not any(task.get(k) for k in ("withItems", "withParam", "withSequence")):
            return "is bound only in a DAG task with withItems, withParam or withSequence; here it stays text"
        if task.get("withParam"):
            return None
        if task.get("withSequence"):
            return None if tag == "item" else "is not defined for withSequence (use {{item}})"
        allowed = set()
        for item in task["withItems"]:
            if isinstance(item, dict):
                allowed |= {f"item.{k}" for k in item}
            elif isinstance(item, list):
                allowed |= {f"item.[{i}]" for i in range(len(item))}
            else:
                allowed.add("item")
        return None if tag in allowed else "is not a field of the withItems items"

    def _input(self, tag: str) -> str | None:
        if tag == "inputs.parameters":
            return None if self.inputs else "needs inputs.parameters on the template"
        for prefix, declared in (("inputs.parameters.", self.inputs), ("inputs.artifacts.", self.artifacts)):
            if tag.startswith(prefix):
                name = tag[len(prefix):]
                if prefix == "inputs.artifacts." and name.endswith(".path") and self.kind in _LEAF_TYPES:
                    name = name[:-len(".path")]
                return None if name in declared else "is not declared in the template's inputs"
        return "is not defined"

    def _workflow(self, tag: str) -> str | None:
        c = self.checker
        if tag in _WORKFLOW_GLOBALS or tag.startswith(_WORKFLOW_PREFIXES):
            return None
        if tag in ("workflow.status", "workflow.failures"):
            if tag == "workflow.failures" and not c.on_exit:
                return "is defined only when spec.onExit is set"  # validate.go Workflow
            if self.name in c.main or self.name not in c.exits:
                meaning = ("is the final phase" if tag == "workflow.status" else "is bound")
                here = ("this template is reached from the entrypoint" if self.name in c.main else
                        "this template is not reached from them")
                return f"{meaning} only in templates reached from spec.onExit or a workflow hook; {here}"
            return None
        if tag == "workflow.priority":
            return None if c.spec.get("priority") is not None else "is defined only when spec.priority is set"
        if tag in ("workflow.parameters", "workflow.parameters.json"):
            return None if c.workflow_params else "needs spec.arguments.parameters"
        for prefix, known, what in (("workflow.parameters.", c.workflow_params, "spec.arguments.parameters"),
                                    ("workflow.labels.", c.labels, "the workflow's labels"),
                                    ("workflow.annotations.", c.annotations, "the workflow's annotations"),
                                    ("workflow.outputs.parameters.", c.global_outputs, "any output's globalName"),
                                    ("workflow.outputs.artifacts.", c.global_artifacts, "any output's globalName")):
            if tag.startswith(prefix):
                return None if tag[len(prefix):] in known else f"is not in {what}"
        return "is not a workflow variable Argo defines"

    def _task_ref(self, tag: str) -> str | None:
        if self.dag is None:
            return "is defined only inside a DAG template"
        name, _, rest = tag[len("tasks."):].partition(".")
        return self.dag.field_problem(name, rest, self.task)
