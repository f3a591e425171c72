"""The run context: one run's pipeline, services and identity, handed to executors, nodes and tasks.

Calls go one way: a command (runnable/cli.py, then runnable/entrypoints.py) builds the context and hands
it to the executor, which asks each node to run, and a task node runs its task. What a step did comes
back to the executor as an :class:`~runnable.nodes.Outcome`, and the executor alone writes the run log.
Nodes and tasks read parameters and secrets through the context; task nodes copy files to and from the
catalog.
The context is built once per process, from what the command says (which run, retrying which, named
by the user or not), and is not changed afterwards.

Parameters are scoped: a step at the top reads and writes the run's parameters; a step inside a
branch reads the run's parameters overlaid with those of every enclosing branch (its
``enclosing_branches``), and writes to its innermost branch. Fan-in merges a branch's parameters into
the scope around it. The executor does every write; the context reads.
"""

from __future__ import annotations

import copy
import secrets as _secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import names
from .run_log import CodeIdentity, Parameter, StepLog
from .errors import RunnableError
from .secrets import SecretRegistry

if TYPE_CHECKING:
    from .catalog import BaseCatalog
    from .config import RunnableConfig
    from .executor import BasePipelineExecutor, RunObserver
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


class RunContext:
    def __init__(self, *, run_id: str, graph: "Graph", config: "RunnableConfig", executor: "BasePipelineExecutor",
                 run_log_store: "BaseRunLogStore", catalog: "BaseCatalog", secrets: "BaseSecrets",
                 pipeline_file: str | None = None, parameters_file: str | None = None, tag: str = "",
                 project_dir: Path | None = None, original_run_id: str = "", force_retry: bool = False,
                 run_id_chosen: bool = False, observer: "RunObserver | None" = None) -> None:
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
        self.original_run_id = original_run_id  # this run retries that one: what succeeded there is reused
        self.force_retry = force_retry  # the retry runs even if the pipeline changed since the original run
        self.run_id_chosen = run_id_chosen  # the user named the run (execute/retry --run-id): argo writes it
        if observer is None:
            from .executor import RunObserver

            observer = RunObserver()
        self.observer = observer  # told by the executor what happens (the console's progress display)
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
            "pipeline_sources": self.graph.sources_record(),  # what lets a step's pod trust "dag" above
        }

    # --- parameters ----------------------------------------------------------------------------
    def read_parameters(self, chain: list[str]) -> dict[str, Parameter]:
        params = dict(self.run_log_store.get_parameters(self.run_id))
        for branch in chain:
            params.update(self.run_log_store.get_branch_log(self.run_id, branch).parameters)
        return params

    def load_value(self, param: Parameter) -> Any:
        """The value a step is given: its own copy (a function that changes a list it was given changes
        nothing recorded, nor what the next step reads; the store may keep parameters it read)."""
        if param.kind == "object":
            return self.catalog.get_object(self.run_id, param.value)
        value = param.value
        return copy.deepcopy(value) if isinstance(value, (list, dict)) else value

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
