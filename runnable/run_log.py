"""The run log: what every run, local or in a cluster, leaves behind.

One :class:`RunLog` per run; a :class:`StepLog` per step (inside branches too), with one
:class:`StepAttempt` per try; :class:`BranchLog` for each branch of a parallel step and each iteration
of a map step. The shape is the external contract of SPEC section 4.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CREATED = "CREATED"
PROCESSING = "PROCESSING"
SUCCESS = "SUCCESS"
FAIL = "FAIL"
TRIGGERED = "TRIGGERED"
FINAL_STATUSES = (SUCCESS, FAIL)

Status = Literal["CREATED", "PROCESSING", "SUCCESS", "FAIL", "TRIGGERED"]
ParameterKind = Literal["json", "object", "metric"]


class Parameter(BaseModel):
    """A value passed between steps. ``object`` values live in the catalog; ``value`` is their path there."""

    model_config = ConfigDict(extra="forbid")

    kind: ParameterKind = "json"
    value: Any = None


class CodeIdentity(BaseModel):
    code_identifier: str = ""
    code_identifier_type: str = "git"
    code_identifier_dependable: bool = False
    code_identifier_url: str = ""
    code_identifier_message: str = ""


class DataCatalog(BaseModel):
    name: str
    data_hash: str = ""
    catalog_relative_path: str = ""
    stage: Literal["get", "put"] = "put"


class StepAttempt(BaseModel):
    attempt_number: int = 1
    start_time: str = ""
    end_time: str = ""
    duration: str = ""
    status: Status = FAIL
    message: str = ""
    input_parameters: dict[str, Parameter] = Field(default_factory=dict)
    output_parameters: dict[str, Parameter] = Field(default_factory=dict)

    def start(self) -> "StepAttempt":
        self._t0 = datetime.now()
        self.start_time = str(self._t0)
        return self

    def finish(self, status: str, message: str = "") -> "StepAttempt":
        end = datetime.now()
        self.end_time = str(end)
        t0 = getattr(self, "_t0", None) or end
        self.duration = str(end - t0)
        self.status = status  # type: ignore[assignment]
        self.message = message
        return self


class StepLog(BaseModel):
    name: str
    internal_name: str
    status: Status = CREATED
    step_type: str = "task"
    message: str = ""
    mock: bool = False
    reused: bool = False
    code_identities: list[CodeIdentity] = Field(default_factory=list)
    attempts: list[StepAttempt] = Field(default_factory=list)
    user_defined_metrics: dict[str, Any] = Field(default_factory=dict)
    data_catalog: list[DataCatalog] = Field(default_factory=list)
    branches: dict[str, "BranchLog"] = Field(default_factory=dict)

    def add_data_catalogs(self, entries: list[DataCatalog]) -> None:
        self.data_catalog.extend(entries)


class BranchLog(BaseModel):
    """A branch of a parallel step, or one iteration of a map step.

    ``parameters`` holds only what this branch changed or added (and, for a map iteration, the
    iterated value); readers see the enclosing scopes' parameters beneath it.
    """

    internal_name: str
    status: Status = CREATED
    iteration: int | None = None
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    steps: dict[str, StepLog] = Field(default_factory=dict)


class RunLog(BaseModel):
    run_id: str
    dag_hash: str = ""
    use_cached: bool = False
    tag: str = ""
    original_run_id: str = ""
    status: Status = CREATED
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    run_config: dict[str, Any] = Field(default_factory=dict)
    steps: dict[str, StepLog] = Field(default_factory=dict)

    def header(self) -> "RunLog":
        """The run's own record: this run log without its steps, parameters and configuration (which stores
        keep apart)."""
        return self.model_copy(update={"steps": {}, "parameters": {}, "run_config": {}})


StepLog.model_rebuild()
