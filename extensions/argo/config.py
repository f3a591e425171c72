"""The argo executor's configuration: every field of SPEC section 3, the reference page's defaults,
and named per-step overrides.

Workflow-level fields (``WORKFLOW_LEVEL``: name, namespace, pod_gc, service_account_name, image_pull_secrets,
pod_labels, pod_annotations, max_workflow_duration_in_seconds, output_file, expose_parameters_as_inputs, kind,
cron) cannot be overridden per step; every container- and template-level field can, and ``parallelism`` in an override limits the
fan-out of the map or parallel step that uses it. ``labels`` and ``annotations`` mean two things: in the
configuration they are the workflow object's (``metadata``), in an override the pods' of the steps using
it (the templates' ``metadata``).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from runnable.overrides import with_override
from runnable.secrets import SECRET_NAME

from .limits import AUTO_BATCH_ABOVE

# Kubernetes quantities: 250m, 1Gi, 0.5, 1e3 ... (k8s.io/apimachinery resource.Quantity)
_QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[munkMGTPE])?$")
_DURATION = re.compile(r"^\d+$|^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
WORKFLOW_LEVEL = ("name", "namespace", "pod_gc", "service_account_name", "image_pull_secrets", "pod_labels",
                  "pod_annotations", "max_workflow_duration_in_seconds", "output_file", "expose_parameters_as_inputs",
                  "kind", "cron", "overrides")
POD_METADATA = ("labels", "annotations")  # the workflow's in the configuration, a step's pods' in an override
# Argo's validate.go: maxCharsInObjectName (63) for a WorkflowTemplate's name, maxCharsInCronWorkflowName (52) for a
# CronWorkflow's, which leaves room for the "-<unix time>" its Workflows' names get
NAME_LIMITS = {"WorkflowTemplate": 63, "CronWorkflow": 52}

# Kubernetes names (k8s.io/apimachinery/pkg/util/validation: IsDNS1123Subdomain for secret and priority class
# names; IsQualifiedName for label and annotation keys; IsValidLabelValue, which Argo's operator.go
# updateWorkflowMetadata also applies, for label values)
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")
_QUALIFIED_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
# A CronWorkflow schedule, as cron_workflow_types.go's kubebuilder pattern for Schedules items allows: a
# descriptor, @every <Go duration>, or five fields (minute hour day-of-month month day-of-week)
_SCHEDULE = re.compile(r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|@every\s+(\d+(ns|us|µs|ms|s|m|h))+"
                       r"|([A-Za-z0-9*,/?-]+\s+){4}[A-Za-z0-9*,/?-]+)$")
# Argo's validate.go parses schedules with robfig/cron/v3 ParseStandard, whose bounds (spec.go) are these
_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
                ("day of week", 0, 6))

# Kubernetes objects written through as given (camelCase, as in Kubernetes' API). Their keys are those of
# Argo's schema (io.k8s.api.core.v1.PodSecurityContext, .SecurityContext, .Affinity, .NodeAffinity,
# .PodAffinity, .PodAntiAffinity; a test compares these tables with it), so a misspelt key is an error here
# rather than a setting the API server drops. Values: the JSON type each key takes (a dict: a nested table).
_AFFINITY_TERMS = {"preferredDuringSchedulingIgnoredDuringExecution": list,
                   "requiredDuringSchedulingIgnoredDuringExecution": list}
K8S_OBJECTS: dict[str, tuple[str, dict[str, Any]]] = {
    "security_context": ("PodSecurityContext", {
        "appArmorProfile": dict, "fsGroup": int, "fsGroupChangePolicy": str, "runAsGroup": int,
        "runAsNonRoot": bool, "runAsUser": int, "seLinuxChangePolicy": str, "seLinuxOptions": dict,
        "seccompProfile": dict, "supplementalGroups": list, "supplementalGroupsPolicy": str, "sysctls": list,
        "windowsOptions": dict}),
    "container_security_context": ("SecurityContext", {
        "allowPrivilegeEscalation": bool, "appArmorProfile": dict, "capabilities": dict, "privileged": bool,
        "procMount": str, "readOnlyRootFilesystem": bool, "runAsGroup": int, "runAsNonRoot": bool, "runAsUser": int,
        "seLinuxOptions": dict, "seccompProfile": dict, "windowsOptions": dict}),
    "affinity": ("Affinity", {
        "nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": list,
                         "requiredDuringSchedulingIgnoredDuringExecution": dict},
        "podAffinity": _AFFINITY_TERMS, "podAntiAffinity": _AFFINITY_TERMS}),
}
_JSON_TYPES = {int: "an integer", bool: "true or false", str: "a string", list: "a list", dict: "a mapping"}


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


def check_k8s_object(value: Any, kind: str, table: dict[str, Any], path: str = "") -> dict[str, Any]:
    """``value``'s keys and their JSON types against ``table`` (see ``K8S_OBJECTS``), nested tables too."""
    if not isinstance(value, dict):
        where = f"'{path}'" if path else "the value"
        raise ValueError(f"{where} must be a mapping (a Kubernetes {kind}; got {value!r})")
    for key, item in value.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in table:
            raise ValueError(f"'{where}' is not a field of a Kubernetes {kind}; allowed: {', '.join(sorted(table))}")
        expected = table[key]
        if isinstance(expected, dict):
            check_k8s_object(item, kind, expected, where)
        elif not isinstance(item, expected) or (expected is int and isinstance(item, bool)):
            raise ValueError(f"'{where}' must be {_JSON_TYPES[expected]} (got {item!r})")
    return value


def check_dns_name(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise ValueError(f"'{value}' is not a valid {what} (lowercase letters, digits, '-' and '.')")
    return value


def check_metadata(value: Any, *, labels: bool) -> dict[str, str]:
    """Label or annotation keys (``prefix/name``), and label values, as Kubernetes accepts them."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"must map names to strings (got {value!r})")
    for key, item in value.items():
        prefix, _, name = str(key).rpartition("/")
        if (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix))) or len(name) > 63 \
                or not _QUALIFIED_NAME.match(name):
            raise ValueError(f"'{key}' is not a valid {'label' if labels else 'annotation'} key "
                             f"([prefix/]name: a name of at most 63 letters, digits, '-', '_', '.')")
        if labels and (not isinstance(item, str) or len(item) > 63 or (item and not _QUALIFIED_NAME.match(item))):
            raise ValueError(f"'{item}' (label '{key}') is not a valid label value (at most 63 letters, digits, "
                             f"'-', '_', '.', starting and ending with a letter or digit)")
    return {str(k): str(v) for k, v in value.items()}


def check_schedule(value: Any) -> str:
    text = str(value).strip()
    if not _SCHEDULE.match(text):
        raise ValueError(f"'{value}' is not a cron schedule (five fields, e.g. '0 3 * * *', or @hourly, @daily, "
                         f"@every 2h, ...)")
    if not text.startswith("@"):
        for field, (what, low, high) in zip(text.split(), _CRON_FIELDS):
            for number in re.findall(r"\d+", field.split("/")[0]):
                if not low <= int(number) <= high:
                    raise ValueError(f"'{value}': {number} is out of range for the {what} ({low}-{high})")
    return text


def field_error(field: str, message: str, value: Any) -> Exception:
    """A validation error located at ``field`` (for checks that need several fields)."""
    from pydantic import ValidationError
    from pydantic_core import InitErrorDetails, PydanticCustomError

    return ValidationError.from_exception_data("ArgoConfig", [InitErrorDetails(
        type=PydanticCustomError("value_error", message), loc=(field,), input=value)])


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

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: Any) -> Any:  # a field written empty (duration: ~) takes its default
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else data

    @field_validator("duration", "max_duration", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> str:
        return check_duration(value)


class RetryStrategy(_Strict):
    limit: int = Field(0, ge=0)
    retry_policy: Literal["Always", "OnFailure", "OnError", "OnTransientError"] = "Always"
    backoff: Backoff = Backoff()

    @field_validator("backoff", mode="before", json_schema_input_type=Backoff | None)
    @classmethod
    def _null_backoff(cls, value: Any) -> Any:  # backoff: ~ is the default backoff
        return {} if value is None else value


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
    # a map step's iterations per pod (extensions/argo/transpiler.py, docs/argo.md "Wide maps"): 1 is a pod per
    # iteration's step; none is automatic (batches once the map has more than limits.AUTO_BATCH_ABOVE iterations)
    batch_size: int | None = Field(None, ge=1, description=(
        "Map steps: iterations run by one pod, one after another (each still its own branch in the run log). "
        f"1: a pod per step of each iteration. Unset: automatic, batches once a map has more than {AUTO_BATCH_ABOVE} "
        f"iterations, so that it never needs more than {AUTO_BATCH_ABOVE} iteration pods."))
    security_context: dict[str, Any] | None = None            # template securityContext (PodSecurityContext)
    container_security_context: dict[str, Any] | None = None  # container securityContext (SecurityContext)
    affinity: dict[str, Any] | None = None                    # template affinity
    priority_class_name: str | None = None                    # template priorityClassName
    labels: dict[str, str] = {}       # POD_METADATA: see the module's docstring
    annotations: dict[str, str] = {}

    @field_validator("tolerations", "persistent_volumes", "secrets_from_k8s", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("node_selector", "env", mode="before")
    @classmethod
    def _none_is_empty_map(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator(*K8S_OBJECTS, mode="before")
    @classmethod
    def _k8s_object(cls, value: Any, info) -> Any:
        return None if value is None else check_k8s_object(value, *K8S_OBJECTS[info.field_name])

    @field_validator("priority_class_name")
    @classmethod
    def _priority_class(cls, value: str | None) -> str | None:
        return None if value is None else check_dns_name(value, "priority class name")

    @field_validator(*POD_METADATA, "pod_labels", "pod_annotations", mode="before", check_fields=False)
    @classmethod
    def _metadata(cls, value: Any, info) -> dict[str, str]:  # pod_*: ArgoConfig's
        return check_metadata(value, labels=info.field_name.endswith("labels"))


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


class Cron(_Strict):
    """``cron:`` of a CronWorkflow (cron_workflow_types.go CronWorkflowSpec)."""

    schedule: list[str]   # one schedule or several: spec.schedules
    timezone: str | None = None
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] | None = None  # ConcurrencyPolicy's enum
    starting_deadline_seconds: int | None = None  # StartingDeadlineSeconds: kubebuilder Minimum=0

    @field_validator("starting_deadline_seconds")
    @classmethod
    def _deadline(cls, value: int | None) -> int | None:
        if value is not None and value < 0:
            raise ValueError(f"must be 0 or more seconds (got {value})")
        return value

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedules(cls, value: Any) -> list[str]:
        values = value if isinstance(value, list) else [value]
        if not values:
            raise ValueError("give at least one schedule (got an empty list)")
        return [check_schedule(v) for v in values]

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        """Argo's validate.go CronWorkflow loads it with time.LoadLocation: an IANA zone name."""
        from zoneinfo import ZoneInfo

        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError; malformed keys a ValueError
            raise ValueError(f"'{value}' is not a time zone (an IANA name such as Europe/London)") from None
        return value


# runnable 0.50's argo configuration fields that are not ours, and what to write instead (docs/migrating.md)
RUNNABLE_050_FIELDS = {
    "defaults": "write its fields (image, resources, node_selector, tolerations, retry_strategy, env, "
                "image_pull_policy) directly under config; its active_deadline_seconds is max_step_duration_in_seconds",
    "argo_workflow": "write metadata.generateName as name, metadata.namespace as namespace, metadata.labels/"
                     "annotations as labels/annotations, spec.serviceAccountName as service_account_name, "
                     "spec.activeDeadlineSeconds as max_workflow_duration_in_seconds, spec.parallelism as parallelism, "
                     "spec.podGC.strategy as pod_gc, spec.nodeSelector/tolerations/retryStrategy as node_selector/"
                     "tolerations/retry_strategy, all directly under config",
    "pvc_for_runnable": "write persistent_volumes: [{name: <claim>, mount_path: <path>}] (docs/argo.md says where "
                        "run logs and the catalog live)",
    "custom_volumes": "write persistent_volumes: [{name: <claim>, mount_path: <path>}]",
    "cron_schedule": "write cron: {schedule: [...], timezone: ...} (schedules is schedule)",
    "secret_from_k8s": "write secrets_from_k8s: [{environment_variable, secret_name, secret_key}]",
    "configmap_cache_name": "not needed: steps are not memoized",
    "log_level": "not a configuration field: pass --log-level to runnable",
    "mock": "make the steps 'type: stub' to run a pipeline without its code",
}


class ArgoConfig(StepSettings):
    """``pipeline-executor: {type: argo, config: {...}}``; only ``image`` is required."""

    image: str  # type: ignore[assignment]
    output_file: str = "argo-pipeline.yaml"
    kind: Literal["Workflow", "WorkflowTemplate", "CronWorkflow"] = "Workflow"  # with cron: CronWorkflow
    cron: Cron | None = None
    name: str = "runnable-dag-"
    namespace: str | None = None
    pod_gc: Literal["OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess"] = \
        "OnPodCompletion"
    service_account_name: str | None = None
    image_pull_secrets: list[str] = []
    pod_labels: dict[str, str] = {}       # every pod's (spec.podMetadata); an override's labels add to them
    pod_annotations: dict[str, str] = {}
    max_workflow_duration_in_seconds: int = Field(86400, ge=1)
    expose_parameters_as_inputs: bool = True
    overrides: dict[str, Override] = {}

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not value.strip() or any(c.isspace() for c in value):
            raise ValueError(f"'{value}' is not an image reference")
        return value

    @field_validator("image_pull_secrets", mode="before")
    @classmethod
    def _pull_secrets(cls, value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise ValueError(f"must be a list of secret names (got {value!r})")
        return [check_dns_name(v, "secret name") for v in value]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(r"^[a-z0-9]([-a-z0-9.]*)?$", value):
            raise ValueError(f"'{value}' is not a valid workflow name prefix (lowercase letters, digits, '-', '.')")
        return value

    @field_validator("cron", mode="before")
    @classmethod
    def _cron_mapping(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, dict):
            raise ValueError(f"must be a mapping such as {{schedule: '0 3 * * *'}} (got {value!r})")
        return value

    @staticmethod
    def _refuse_layout_of_runnable_050(data: Any) -> None:
        if isinstance(data, dict):
            for field, instead in RUNNABLE_050_FIELDS.items():
                # 0.50 read each field under its name or its camelCase alias
                for written in dict.fromkeys((field, re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), field))):
                    if written in data:
                        shown = repr(data[written])
                        shown = shown if len(shown) <= 60 else shown[:57] + "..."
                        raise field_error(written, f"{shown} is runnable 0.50's layout: {instead} "
                                                   f"(docs/migrating.md)", data[written])

    @model_validator(mode="before")
    @classmethod
    def _cron_means_cron_workflow(cls, data: Any) -> Any:  # one model-level before-validator: schemas.py reads it
        cls._refuse_layout_of_runnable_050(data)
        if isinstance(data, dict) and data.get("cron") is not None and "kind" not in data:
            data = {**data, "kind": "CronWorkflow"}
        return data

    @model_validator(mode="after")
    def _kind(self) -> "ArgoConfig":
        from .validation import GENERATE_SUFFIX, MAX_WORKFLOW_NAME

        if self.kind == "CronWorkflow" and self.cron is None:
            raise field_error("cron", "kind CronWorkflow needs a schedule, e.g. cron: {schedule: '0 3 * * *'}", None)
        if self.cron is not None and self.kind != "CronWorkflow":
            raise field_error("cron", f"applies only to kind CronWorkflow (kind is {self.kind})", None)
        if self.kind == "Workflow":
            room = MAX_WORKFLOW_NAME - GENERATE_SUFFIX
            if len(self.name) > room:
                raise field_error("name", f"'{self.name}' is {len(self.name)} characters; Argo adds {GENERATE_SUFFIX} "
                                  f"to make a name of at most {MAX_WORKFLOW_NAME}, so at most {room}", self.name)
            return self
        if "name" not in self.model_fields_set:
            raise field_error("name", f"a {self.kind} is stored under a fixed name: set name (metadata.name), "
                              f"e.g. name: nightly-training", None)
        limit = NAME_LIMITS[self.kind]
        if len(self.object_name) > limit:
            raise field_error("name", f"'{self.name}' is {len(self.object_name)} characters; a {self.kind} name is at "
                              f"most {limit} (Argo's validate.go)", self.name)
        return self

    @property
    def object_name(self) -> str:
        """metadata.name of a WorkflowTemplate or CronWorkflow: ``name`` without a trailing '-' or '.'."""
        return self.name.rstrip("-.")


def settings_for(config: ArgoConfig, override: Override | None) -> StepSettings:
    """The settings of a step: the configuration's, changed by the step's override if it has one."""
    # the workflow's parallelism is spec.parallelism, not a step's fan-out limit; its labels and annotations are
    # the workflow object's, not its pods'
    base = StepSettings.model_validate({k: getattr(config, k) for k in StepSettings.model_fields
                                        if k not in ("parallelism", *POD_METADATA)})
    # maps are merged key by key, and resources and retry_strategy field by field; other fields replaced
    return with_override(base, override, merged=("resources", "node_selector", "env", *POD_METADATA, "retry_strategy"))
