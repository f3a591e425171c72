"""Typed models of the Argo Workflow objects the transpiler writes (a subset of Argo's API).

Field names are Argo's (camelCase aliases); IntOrString and Quantity fields are strings, as Argo's
published JSON schema types them. Tests check every generated manifest against Argo's schema and
against hera's generated models of the full API, so a field written here that Argo does not know, or
writes differently, fails the tests rather than the cluster.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _M(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class Parameter(_M):
    name: str
    value: str | None = None
    default: str | None = None
    value_from: "ValueFrom | None" = Field(None, alias="valueFrom")


class ValueFrom(_M):
    path: str | None = None
    default: str | None = None


class Inputs(_M):
    parameters: list[Parameter] | None = None


class Outputs(_M):
    parameters: list[Parameter] | None = None


class Arguments(_M):
    parameters: list[Parameter] | None = None


class SecretKeySelector(_M):
    name: str
    key: str


class EnvVarSource(_M):
    secret_key_ref: SecretKeySelector | None = Field(None, alias="secretKeyRef")


class EnvVar(_M):
    name: str
    value: str | None = None
    value_from: EnvVarSource | None = Field(None, alias="valueFrom")


class VolumeMount(_M):
    name: str
    mount_path: str = Field(alias="mountPath")


class PVCSource(_M):
    claim_name: str = Field(alias="claimName")


class Volume(_M):
    name: str
    persistent_volume_claim: PVCSource | None = Field(None, alias="persistentVolumeClaim")


class ResourceRequirements(_M):
    limits: dict[str, str] | None = None
    requests: dict[str, str] | None = None


class Container(_M):
    image: str
    image_pull_policy: str | None = Field(None, alias="imagePullPolicy")
    command: list[str]
    args: list[str] | None = None
    env: list[EnvVar] | None = None
    resources: ResourceRequirements | None = None
    volume_mounts: list[VolumeMount] | None = Field(None, alias="volumeMounts")
    # Template.Container is a Kubernetes core/v1 Container (workflow_types.go, Template.Container); its
    # securityContext is a core/v1 SecurityContext, passed through as the configuration writes it
    security_context: dict[str, Any] | None = Field(None, alias="securityContext")


class Toleration(_M):
    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None
    toleration_seconds: int | None = Field(None, alias="tolerationSeconds")


class Backoff(_M):
    duration: str | None = None
    factor: str | None = None
    max_duration: str | None = Field(None, alias="maxDuration")


class RetryStrategy(_M):
    limit: str | None = None
    retry_policy: str | None = Field(None, alias="retryPolicy")
    backoff: Backoff | None = None


class DAGTask(_M):
    name: str
    template: str
    depends: str | None = None
    arguments: Arguments | None = None
    with_param: str | None = Field(None, alias="withParam")


class DAGTemplate(_M):
    fail_fast: bool | None = Field(None, alias="failFast")
    tasks: list[DAGTask]


class SuspendTemplate(_M):
    duration: str | None = None


class Metadata(_M):
    """Argo's pod ``Metadata`` (workflow_types.go, ``type Metadata struct``): labels and annotations that
    workflow/controller/workflowpod.go ``addMetadata`` copies onto the template's pods."""

    annotations: dict[str, str] | None = None
    labels: dict[str, str] | None = None


class Template(_M):
    name: str
    # The four fields below are Template's in pkg/apis/workflow/v1alpha1/workflow_types.go (Template.Metadata,
    # .Affinity, .PriorityClassName, .SecurityContext: a core/v1 PodSecurityContext). workflowpod.go
    # addSchedulingConstraints puts a template's affinity, priorityClassName and securityContext on its pod,
    # ahead of the workflow-level ones, which are never written.
    metadata: Metadata | None = None
    affinity: dict[str, Any] | None = None
    priority_class_name: str | None = Field(None, alias="priorityClassName")
    security_context: dict[str, Any] | None = Field(None, alias="securityContext")
    inputs: Inputs | None = None
    outputs: Outputs | None = None
    parallelism: int | None = None
    active_deadline_seconds: str | None = Field(None, alias="activeDeadlineSeconds")
    retry_strategy: RetryStrategy | None = Field(None, alias="retryStrategy")
    node_selector: dict[str, str] | None = Field(None, alias="nodeSelector")
    tolerations: list[Toleration] | None = None
    dag: DAGTemplate | None = None
    container: Container | None = None
    suspend: SuspendTemplate | None = None


class PodGC(_M):
    strategy: str


class LocalObjectReference(_M):
    name: str


class WorkflowMetadata(_M):
    """WorkflowSpec.WorkflowMetadata (workflow_types.go ``type WorkflowMetadata struct``): labels and
    annotations workflow/controller/operator.go ``updateWorkflowMetadata`` puts on each Workflow run from
    this spec, e.g. one submitted from a WorkflowTemplate or started by a CronWorkflow."""

    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class WorkflowSpec(_M):
    entrypoint: str
    on_exit: str | None = Field(None, alias="onExit")
    arguments: Arguments | None = None
    workflow_metadata: WorkflowMetadata | None = Field(None, alias="workflowMetadata")
    service_account_name: str | None = Field(None, alias="serviceAccountName")
    # WorkflowSpec.ImagePullSecrets ([]core/v1 LocalObjectReference); workflowpod.go puts them on every pod
    # (PodSpec.ImagePullSecrets: pb.in.execWfSpec.ImagePullSecrets). Templates have no such field.
    image_pull_secrets: list[LocalObjectReference] | None = Field(None, alias="imagePullSecrets")
    # WorkflowSpec.PodMetadata: workflowpod.go addMetadata copies it onto every pod, then the template's metadata
    pod_metadata: Metadata | None = Field(None, alias="podMetadata")
    active_deadline_seconds: int | None = Field(None, alias="activeDeadlineSeconds")
    parallelism: int | None = None
    pod_gc: PodGC | None = Field(None, alias="podGC")
    volumes: list[Volume] | None = None
    templates: list[Template]


class ObjectMeta(_M):
    name: str | None = None
    generate_name: str | None = Field(None, alias="generateName")
    namespace: str | None = None
    annotations: dict[str, str] | None = None
    labels: dict[str, str] | None = None


class Workflow(_M):
    api_version: str = Field("argoproj.io/v1alpha1", alias="apiVersion")
    kind: str = "Workflow"
    metadata: ObjectMeta
    spec: WorkflowSpec


class WorkflowTemplate(_M):
    """workflow_template_types.go: ``metadata`` (a fixed name: it is registered, not run) and a WorkflowSpec."""

    api_version: str = Field("argoproj.io/v1alpha1", alias="apiVersion")
    kind: str = "WorkflowTemplate"
    metadata: ObjectMeta
    spec: WorkflowSpec


class CronWorkflowSpec(_M):
    """cron_workflow_types.go ``CronWorkflowSpec`` as of v4: ``schedules`` is a list (the single
    ``schedule`` of v3.5 and before is gone) and ``workflowSpec`` is the spec of each Workflow it starts."""

    schedules: list[str]
    timezone: str | None = None
    concurrency_policy: str | None = Field(None, alias="concurrencyPolicy")
    starting_deadline_seconds: int | None = Field(None, alias="startingDeadlineSeconds")
    workflow_spec: WorkflowSpec = Field(alias="workflowSpec")


class CronWorkflow(_M):
    api_version: str = Field("argoproj.io/v1alpha1", alias="apiVersion")
    kind: str = "CronWorkflow"
    metadata: ObjectMeta
    spec: CronWorkflowSpec


Parameter.model_rebuild()
