"""The run context: one run's pipeline, services and identity, handed to executors, nodes and tasks.

Data flows one way: CLI -> context -> executor -> node -> task -> run log store / catalog.
Parameters are scoped: a step at the top reads and writes the run's parameters; a step inside a
branch reads the run's parameters overlaid with those of every enclosing branch, and writes to its
innermost branch. Fan-in merges a branch's parameters into the scope around it.
"""

from __future__ import annotations

import os
import secrets as _secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import names
from .datamodel import CodeIdentity, Parameter, StepLog
from .errors import RunnableError
from .nodes import MapVariable, Segments, resolve
from .secrets import SecretRegistry

if TYPE_CHECKING:
    from .catalog import BaseCatalog
    from .config import RunnableConfig
    from .executor import BasePipelineExecutor
    from .graph import Graph
    from .run_log_store import BaseRunLogStore
    from .secrets import BaseSecrets

_current: "RunContext | None" = None


def new_run_id() -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{_secrets.token_hex(3)}"


def current() -> "RunContext":
    if _current is None:
        raise RunnableError("no pipeline is running in this process")
    return _current


def enclosing_branches(segments: Segments, map_variable: MapVariable | None) -> list[str]:
    """Internal names of the branches around a step, outermost first."""
    return [resolve(segments[:i], map_variable) for i in range(2, len(segments), 2)]


class RunContext:
    def __init__(self, *, run_id: str, graph: "Graph", config: "RunnableConfig", executor: "BasePipelineExecutor",
                 run_log_store: "BaseRunLogStore", catalog: "BaseCatalog", secrets: "BaseSecrets",
                 pipeline_file: str | None = None, parameters_file: str | None = None, tag: str = "",
                 project_dir: Path | None = None, original_run_id: str = "") -> None:
        self.run_id = run_id
        self.graph = graph
        self.config = config
        self.executor = executor
        self.run_log_store = run_log_store
        self.catalog = catalog
        self.secrets = secrets
        self.pipeline_file = pipeline_file
        self.parameters_file = parameters_file
        self.tag = tag
        self.project_dir = (project_dir or Path.cwd()).resolve()
        self.original_run_id = original_run_id
        self.run_id_chosen = False  # the user named the run (execute/retry --run-id): argo writes it into the manifest
        self.force_retry = False
        self.secret_registry = SecretRegistry()
        self._code_identities: list[CodeIdentity] | None = None

    def activate(self) -> "RunContext":
        global _current
        _current = self
        return self

    # --- identity ------------------------------------------------------------------------------
    def code_identities(self) -> list[CodeIdentity]:
        """Git identity of the project, computed once per process (it cannot change during a step)."""
        if self._code_identities is None:
            from .gitid import code_identity

            self._code_identities = [code_identity(self.project_dir)]
        return self._code_identities

    def new_step_log(self, name: str, internal_name: str, step_type: str) -> StepLog:
        return StepLog(name=name, internal_name=internal_name, step_type=step_type,
                       code_identities=[c.model_copy() for c in self.code_identities()])

    def run_config(self) -> dict[str, Any]:
        """What the run log records of how this run was made (no secret values)."""
        return {
            "pipeline_executor": self.executor.describe(),
            "run_log_store": self.run_log_store.describe(),
            "catalog": self.catalog.describe(),
            "secrets": self.secrets.describe(),
            "pipeline_file": self.pipeline_file,
            "parameters_file": self.parameters_file,
            "configuration_file": self.config.file,
            "tag": self.tag,
            "run_id": self.run_id,
            "original_run_id": self.original_run_id,
            "dag": self.graph.definition,
            "nested_dags": getattr(self.graph, "nested_sources", []),
            "dag_hash": self.graph.dag_hash,
        }

    # --- parameters ----------------------------------------------------------------------------
    def read_parameters(self, chain: list[str]) -> dict[str, Parameter]:
        params = dict(self.run_log_store.get_parameters(self.run_id))
        for branch in chain:
            params.update(self.run_log_store.get_branch_log(self.run_id, branch).parameters)
        return params

    def write_parameters(self, chain: list[str], updates: dict[str, Parameter]) -> None:
        if not updates:
            return
        store = self.run_log_store
        if chain:
            branch = store.get_branch_log(self.run_id, chain[-1])
            branch.parameters.update(updates)
            store.put_branch_log(self.run_id, branch)
        else:
            params = store.get_parameters(self.run_id)
            params.update(updates)
            store.set_parameters(self.run_id, params)

    def load_value(self, param: Parameter) -> Any:
        if param.kind == "object":
            return self.catalog.get_object(self.run_id, param.value)
        return param.value

    def make_parameter(self, name: str, kind: str, value: Any, scope: str) -> Parameter:
        """Record a returned value: JSON in the run log, objects pickled into the catalog."""
        from .parameters import to_json

        if kind == "object":
            key = names.append(scope, name) if scope else name
            return Parameter(kind="object", value=self.catalog.put_object(self.run_id, key, value))
        return Parameter(kind=kind, value=self.secret_registry.scrub_value(to_json(value, name)))  # type: ignore[arg-type]

    def get_secret(self, name: str) -> str:
        self.secret_registry.check_declared(name)
        value = self.secrets.get(name)
        self.secret_registry.remember(value)
        return value


def environment_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
