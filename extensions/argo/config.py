"""The argo executor's configuration: every field of SPEC section 3, the reference page's defaults,
and named per-step overrides.

Workflow-level fields (name, namespace, annotations, labels, pod_gc, service_account_name,
max_workflow_duration_in_seconds, output_file, expose_parameters_as_inputs) cannot be overridden per
step; every container- and template-level field can, and ``parallelism`` in an override limits the
fan-out of the map or parallel step that uses it.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from runnable.secrets import SECRET_NAME

# Kubernetes quantities: 250m, 1Gi, 0.5, 1e3 ... (k8s.io/apimachinery resource.Quantity)
_QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[munkMGTPE])?$")
_DURATION = re.compile(r"^\d+$|^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
WORKFLOW_LEVEL = ("name", "namespace", "annotations", "labels", "pod_gc", "service_account_name",
                  "max_workflow_duration_in_seconds", "output_file", "expose_parameters_as_inputs", "overrides")


def check_quantity(value: Any) -> str:
    text = str(value)
    if isinstance(value, bool) or not _QUANTITY.match(text):
        raise ValueError(f"'{value}' is not a Kubernetes quantity (e.g. 250m, 1Gi, 2)")
    return text


def check_duration(value: Any) -> str:
    """Argo backoff durations: seconds as a number ("120") or a Go duration ("2m", "1h30m")."""
    text = str(value)
    if isinstance(value, bool) or not _DURATION.match(text):
        raise ValueError(f"'{value}' is not a duration (seconds like \"120\", or \"2m\", \"1h\")")
    return text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Resources(_Strict):
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}

    @field_validator("limits", "requests", mode="before")
    @classmethod
    def _quantities(cls, value: Any) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError("must map resource names to quantities")
        return {str(k): check_quantity(v) for k, v in value.items()}


class Backoff(_Strict):
    duration: str = "120"
    factor: int = Field(2, ge=1)
    max_duration: str = "3600"

    @field_validator("duration", "max_duration", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> str:
        return check_duration(value)


class RetryStrategy(_Strict):
    limit: int = Field(0, ge=0)
    retry_policy: Literal["Always", "OnFailure", "OnError", "OnTransientError"] = "Always"
    backoff: Backoff = Backoff()


class PersistentVolume(_Strict):
    name: str
    mount_path: str

    @field_validator("name")
    @classmethod
    def _dns(cls, value: str) -> str:
        if not re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", value) or len(value) > 63:
            raise ValueError(f"'{value}' is not a valid claim name (lowercase letters, digits, '-')")
        return value

    @field_validator("mount_path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"'{value}' must be an absolute path in the container")
        return value.rstrip("/") or "/"


class SecretFromK8s(_Strict):
    environment_variable: str
    secret_name: str
    secret_key: str

    @field_validator("environment_variable")
    @classmethod
    def _env(cls, value: str) -> str:
        if not SECRET_NAME.match(value):
            raise ValueError(f"'{value}' is not a valid environment variable name")
        return value


class Toleration(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    key: str | None = None
    operator: Literal["Exists", "Equal"] | None = None
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = Field(None, alias="tolerationSeconds")


class StepSettings(_Strict):
    """What a step's pod is made of: the defaults, and what an override may change."""

    image: str | None = None
    image_pull_policy: Literal["", "Always", "IfNotPresent", "Never"] = ""
    resources: Resources = Resources(limits={"memory": "1Gi", "cpu": "250m"},
                                     requests={"memory": "1Gi", "cpu": "250m"})
    node_selector: dict[str, str] = {}
    tolerations: list[Toleration] = []
    max_step_duration_in_seconds: int = Field(7200, ge=1)
    retry_strategy: RetryStrategy | None = None  # none: Argo does not retry (a step's max_attempts still counts)
    persistent_volumes: list[PersistentVolume] = []
    secrets_from_k8s: list[SecretFromK8s] = []
    env: dict[str, str] = {}
    parallelism: int | None = Field(None, ge=1)

    @field_validator("tolerations", "persistent_volumes", "secrets_from_k8s", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("node_selector", "env", mode="before")
    @classmethod
    def _none_is_empty_map(cls, value: Any) -> Any:
        return {} if value is None else value


class Override(StepSettings):
    """A named set of changes; only the fields written change (maps are merged, lists replaced)."""

    @model_validator(mode="before")
    @classmethod
    def _no_workflow_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key in WORKFLOW_LEVEL:
                    raise ValueError(f"'{key}' applies to the whole workflow and cannot be overridden per step")
        return data


class ArgoConfig(StepSettings):
    """``pipeline-executor: {type: argo, config: {...}}``; only ``image`` is required."""

    image: str  # type: ignore[assignment]
    output_file: str = "argo-pipeline.yaml"
    name: str = "runnable-dag-"
    namespace: str | None = None
    annotations: dict[str, str] = {}
    labels: dict[str, str] = {}
    pod_gc: Literal["OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess"] = \
        "OnPodCompletion"
    service_account_name: str | None = None
    max_workflow_duration_in_seconds: int = Field(86400, ge=1)
    expose_parameters_as_inputs: bool = True
    overrides: dict[str, Override] = {}

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not value.strip() or any(c.isspace() for c in value):
            raise ValueError(f"'{value}' is not an image reference")
        return value

    @field_validator("annotations", "labels", mode="before")
    @classmethod
    def _maps(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("name")
    @classmethod
    def _generate_name(cls, value: str) -> str:
        from .rules import GENERATE_SUFFIX, MAX_WORKFLOW_NAME

        room = MAX_WORKFLOW_NAME - GENERATE_SUFFIX
        if not re.match(r"^[a-z0-9]([-a-z0-9.]*)?$", value):
            raise ValueError(f"'{value}' is not a valid workflow name prefix (lowercase letters, digits, '-', '.')")
        if len(value) > room:
            raise ValueError(f"'{value}' is {len(value)} characters; Argo adds {GENERATE_SUFFIX} to make a name of "
                             f"at most {MAX_WORKFLOW_NAME}, so at most {room}")
        return value


def settings_for(config: ArgoConfig, override: Override | None) -> StepSettings:
    """The settings of a step: the configuration's, changed by the step's override if it has one."""
    base = StepSettings.model_validate({k: getattr(config, k) for k in StepSettings.model_fields})
    base.parallelism = None  # the workflow's parallelism is spec.parallelism, not a step's fan-out limit
    if override is None:
        return base
    data = base.model_dump()
    for field in override.model_fields_set:
        value = getattr(override, field)
        if field == "resources":
            for kind in ("limits", "requests"):
                data["resources"][kind] = {**data["resources"][kind], **getattr(value, kind)}
        elif field in ("node_selector", "env"):
            data[field] = {**data[field], **value}
        elif field == "retry_strategy":
            base_retry = data["retry_strategy"] or RetryStrategy().model_dump()
            written = value.model_dump(include=value.model_fields_set)
            if "backoff" in value.model_fields_set:
                written["backoff"] = {**base_retry["backoff"],
                                      **value.backoff.model_dump(include=value.backoff.model_fields_set)}
            data["retry_strategy"] = {**base_retry, **written}
        else:
            data[field] = value.model_dump() if isinstance(value, BaseModel) else \
                [v.model_dump() if isinstance(v, BaseModel) else v for v in value] if isinstance(value, list) else value
    return StepSettings.model_validate(data)
