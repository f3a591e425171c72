"""Argo's own validation rules that matter for generated manifests (workflow/validate/validate.go).

``validate_workflow(manifest)`` returns readable problems (an empty list: valid). It checks the
entrypoint and onExit, template and task names (pattern, length, uniqueness), that every ``depends``
parses and names sibling tasks, no cycles, that every ``{{inputs.parameters.X}}`` is declared, every
``{{workflow.parameters.X}}`` is a workflow argument, every ``{{tasks.X...}}`` names a sibling, that
arguments given to a template match its inputs, and that mounts name declared volumes. Linear in the
size of the manifest.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
PARAM_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")
MAX_NAME = 128
MAX_WORKFLOW_NAME = 63
GENERATE_SUFFIX = 5
_VAR = re.compile(r"{{\s*([^}]+?)\s*}}")
_DEPENDS_TOKEN = re.compile(r"\s*(\|\||&&|!|\(|\)|[a-zA-Z0-9][-a-zA-Z0-9]*(?:\.[A-Za-z]+)?)")
_RESULTS = {"Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed"}


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def depends_tasks(expression: str) -> tuple[list[str], str | None]:
    """The task names a depends expression refers to, or a parse error."""
    pos, names, depth, expect_operand = 0, [], 0, True
    while pos < len(expression):
        match = _DEPENDS_TOKEN.match(expression, pos)
        if not match:
            if expression[pos:].strip() == "":
                break
            return names, f"cannot parse '{expression[pos:].strip()}'"
        token = match.group(1)
        pos = match.end()
        if token in ("||", "&&"):
            if expect_operand:
                return names, f"operator '{token}' without a left operand"
            expect_operand = True
        elif token == "!":
            if not expect_operand:
                return names, "'!' after an operand"
        elif token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            if depth < 0 or expect_operand:
                return names, "unbalanced parentheses"
        else:
            if not expect_operand:
                return names, f"missing operator before '{token}'"
            task, _, result = token.partition(".")
            if result and result not in _RESULTS:
                return names, f"unknown result '{result}' of task '{task}'"
            names.append(task)
            expect_operand = False
    if depth != 0 or expect_operand:
        return names, "incomplete expression"
    return names, None


def validate_workflow(manifest: dict) -> list[str]:
    problems: list[str] = []
    meta = manifest.get("metadata") or {}
    spec = manifest.get("spec") or {}
    if "name" in meta and len(meta["name"]) > MAX_WORKFLOW_NAME:
        problems.append(f"metadata.name is longer than {MAX_WORKFLOW_NAME}")
    if "generateName" in meta and len(meta["generateName"]) + GENERATE_SUFFIX > MAX_WORKFLOW_NAME:
        problems.append(f"metadata.generateName leaves no room for the {GENERATE_SUFFIX}-character suffix "
                        f"within {MAX_WORKFLOW_NAME}")
    templates = {}
    for t in spec.get("templates") or []:
        name = t.get("name", "")
        if not NAME.match(name) or len(name) > MAX_NAME:
            problems.append(f"template name '{name}' is not valid")
        if name in templates:
            problems.append(f"template name '{name}' is used twice")
        templates[name] = t
    for key in ("entrypoint", "onExit"):
        if key in spec and spec[key] not in templates:
            problems.append(f"spec.{key} '{spec[key]}' names no template")
    if "entrypoint" not in spec:
        problems.append("spec.entrypoint is required")
    workflow_params = set()
    for p in (spec.get("arguments") or {}).get("parameters") or []:
        if not PARAM_NAME.match(p.get("name", "")):
            problems.append(f"workflow argument name '{p.get('name')}' is not valid")
        workflow_params.add(p.get("name"))
    volumes = {v["name"] for v in spec.get("volumes") or []}

    for name, t in templates.items():
        where = f"template '{name}'"
        inputs = {p["name"]: p for p in (t.get("inputs") or {}).get("parameters") or []}
        for p in inputs:
            if not PARAM_NAME.match(p):
                problems.append(f"{where}: input name '{p}' is not valid")
        kinds = [k for k in ("container", "dag", "steps", "script", "suspend", "resource", "data", "http",
                             "containerSet", "plugin") if k in t]
        if len(kinds) != 1:
            problems.append(f"{where}: must have exactly one template type, has {kinds or 'none'}")
        task_names = {task.get("name") for task in (t.get("dag") or {}).get("tasks") or []}
        for text in _strings({k: v for k, v in t.items() if k not in ("name",)}):
            for ref in _VAR.findall(text):
                if ref.startswith("inputs.parameters."):
                    if ref[len("inputs.parameters."):] not in inputs:
                        problems.append(f"{where}: '{{{{{ref}}}}}' is not a declared input")
                elif ref.startswith("workflow.parameters."):
                    if ref[len("workflow.parameters."):] not in workflow_params:
                        problems.append(f"{where}: '{{{{{ref}}}}}' is not a workflow argument")
                elif ref.startswith("tasks."):
                    if ref.split(".")[1] not in task_names:
                        problems.append(f"{where}: '{{{{{ref}}}}}' names no task of this dag")
                elif ref == "item" or ref.startswith("item."):
                    pass
                elif ref.startswith("=") or ref.startswith(("workflow.", "pod.", "node.", "retries", "steps.")):
                    pass
                else:
                    problems.append(f"{where}: unknown variable '{{{{{ref}}}}}'")
        for mount in ((t.get("container") or {}).get("volumeMounts") or []):
            if mount.get("name") not in volumes:
                problems.append(f"{where}: volumeMount '{mount.get('name')}' names no volume")
        if "dag" in t:
            problems.extend(_check_dag(where, t["dag"], templates))
    return problems


def _check_dag(where: str, dag: dict, templates: dict) -> list[str]:
    problems: list[str] = []
    tasks = dag.get("tasks") or []
    names: dict[str, dict] = {}
    for task in tasks:
        n = task.get("name", "")
        if not NAME.match(n) or len(n) > MAX_NAME:
            problems.append(f"{where}: task name '{n}' is not valid")
        if n in names:
            problems.append(f"{where}: task name '{n}' is used twice")
        names[n] = task
    edges: dict[str, list[str]] = {n: [] for n in names}
    for n, task in names.items():
        target = task.get("template")
        if target not in templates:
            problems.append(f"{where}: task '{n}' calls template '{target}', which does not exist")
        if "depends" in task and "dependencies" in task:
            problems.append(f"{where}: task '{n}' has both depends and dependencies")
        if "depends" in task and "continueOn" in task:
            problems.append(f"{where}: task '{n}' has continueOn with depends")
        if "withParam" in task and "withItems" in task:
            problems.append(f"{where}: task '{n}' has both withParam and withItems")
        deps = list(task.get("dependencies") or [])
        if "depends" in task:
            found, error = depends_tasks(task["depends"])
            if error:
                problems.append(f"{where}: task '{n}' depends '{task['depends']}': {error}")
            deps += found
        for d in deps:
            if d not in names:
                problems.append(f"{where}: task '{n}' depends on '{d}', which is not a task of this dag")
            else:
                edges[n].append(d)
        if target in templates:
            declared = {p["name"]: p for p in (templates[target].get("inputs") or {}).get("parameters") or []}
            given = [p["name"] for p in (task.get("arguments") or {}).get("parameters") or []]
            for g in given:
                if g not in declared:
                    problems.append(f"{where}: task '{n}' passes '{g}', not an input of '{target}'")
            for name, p in declared.items():
                if name not in given and "value" not in p and "default" not in p:
                    problems.append(f"{where}: task '{n}' does not pass required input '{name}' of '{target}'")
    # cycles, iteratively
    state: dict[str, int] = {}
    for root in names:
        if root in state:
            continue
        stack = [(root, iter(edges[root]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                problems.append(f"{where}: dependency cycle through '{nxt}'")
                return problems
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(edges[nxt])))
    return problems
