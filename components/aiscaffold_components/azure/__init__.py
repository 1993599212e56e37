"""Hardened Azure components (pulumi-azure-native 3.x) for AI workloads.

Each is a ``pulumi.ComponentResource`` with token ``aiscaffold:azure:<Name>``, secure
by default; every weakening is a named argument of its ``<Name>Args``. A project
composes them in this order (``docs/clouds/azure.md`` shows the whole program)::

    network = Network("network", NetworkArgs(location=..., tags=...))
    keys = Keys("keys", KeysArgs(resource_group_name=network.resource_group_name, ...))
    storage = SecureStorage("data", SecureStorageArgs(..., cmk=keys.cmk("data")))
    openai = OpenAIAccount("openai", OpenAIAccountArgs(..., cmk=keys.cmk("ai"),
                                                      guardrail=GuardrailArgs(...)))
    identity = WorkloadIdentity("workload", WorkloadIdentityArgs(...))
    secrets = Secrets("secrets", SecretsArgs(vault_name=keys.vault_name, ...))
    audit = AuditLogging("audit", AuditLoggingArgs(..., cmk=keys.cmk("logs"),
                         flow_logs=FlowLogArgs(vnet_id=network.vnet_id),
                         diagnostic_targets=[*network.diagnostic_targets, ...]))
    PrivateEndpoints("endpoints", PrivateEndpointsArgs(..., targets=[...]))
    ThreatDetection("detection", ThreatDetectionArgs(...))  # account_services: this-stack
    SecurityAlarms("alarms", SecurityAlarmsArgs(..., action_group_id=alerts.action_group_id))
    SiemExport("siem", SiemExportArgs(workspace_id=audit.workspace_id, consumer_object_id=...))
    ApiGateway("gateway", ApiGatewayArgs(mode="private", ...))  # api_gateway != none
    CostGuardrails("cost", CostGuardrailsArgs(resource_group_id=network.resource_group_id,
                   action_group_id=alerts.action_group_id, monthly_budget=..., ...))

Workloads beyond inference (issue 17): ``NetworkArgs(workload_segments=[...])`` adds
their subnets; raw and model-artifact data are more ``SecureStorage`` accounts; each
workload has its own ``WorkloadIdentity`` (training with ``openai_access="fine-tuning"``).
With a recovery region, ``ReplicatedStorage`` replicates the curated data and the
artifacts to accounts there, encrypted with keys of a ``Keys`` in that region.
"""

from ._common import ROLES, CustomerManagedKey, DiagnosticTarget, PrivateLinkTarget
from .alerts import AlertChannel, AlertChannelArgs
from .audit_logging import AuditLogging, AuditLoggingArgs, FlowLogArgs
from .cost import ACTUAL_THRESHOLDS, FORECAST_THRESHOLDS, CostGuardrails, CostGuardrailsArgs
from .detection import (
    ALARMS,
    DEFENDER_PLANS,
    AlarmSpec,
    SecurityAlarms,
    SecurityAlarmsArgs,
    SiemExport,
    SiemExportArgs,
    ThreatDetection,
    ThreatDetectionArgs,
)
from .gateway import ApiGateway, ApiGatewayArgs
from .guardrail import PII_PATTERNS, Guardrail, GuardrailArgs
from .identity import (
    FINE_TUNING_DATA_ACTIONS,
    FINE_TUNING_ROLE_NAME,
    WorkloadIdentity,
    WorkloadIdentityArgs,
)
from .keys import KEY_PURPOSES, Keys, KeysArgs
from .network import SEGMENT_FLOWS, Network, NetworkArgs
from .openai import ModelDeployment, OpenAIAccount, OpenAIAccountArgs
from .private_endpoints import PrivateEndpoints, PrivateEndpointsArgs
from .recovery import ReplicatedStorage, ReplicatedStorageArgs
from .secrets import AppSecret, Secrets, SecretsArgs
from .storage import SecureStorage, SecureStorageArgs

__all__ = [
    "ACTUAL_THRESHOLDS",
    "ALARMS",
    "DEFENDER_PLANS",
    "FINE_TUNING_DATA_ACTIONS",
    "FINE_TUNING_ROLE_NAME",
    "FORECAST_THRESHOLDS",
    "KEY_PURPOSES",
    "PII_PATTERNS",
    "ROLES",
    "SEGMENT_FLOWS",
    "AlarmSpec",
    "AlertChannel",
    "AlertChannelArgs",
    "ApiGateway",
    "ApiGatewayArgs",
    "AppSecret",
    "AuditLogging",
    "AuditLoggingArgs",
    "CostGuardrails",
    "CostGuardrailsArgs",
    "CustomerManagedKey",
    "DiagnosticTarget",
    "FlowLogArgs",
    "Guardrail",
    "GuardrailArgs",
    "Keys",
    "KeysArgs",
    "ModelDeployment",
    "Network",
    "NetworkArgs",
    "OpenAIAccount",
    "OpenAIAccountArgs",
    "PrivateEndpoints",
    "PrivateEndpointsArgs",
    "PrivateLinkTarget",
    "ReplicatedStorage",
    "ReplicatedStorageArgs",
    "Secrets",
    "SecretsArgs",
    "SecureStorage",
    "SecureStorageArgs",
    "SecurityAlarms",
    "SecurityAlarmsArgs",
    "SiemExport",
    "SiemExportArgs",
    "ThreatDetection",
    "ThreatDetectionArgs",
    "WorkloadIdentity",
    "WorkloadIdentityArgs",
]
