"""Hardened Google Cloud components (pulumi-gcp 10.x), one module per concern.

Every component is a ``pulumi.ComponentResource`` with the type token
``aiscaffold:gcp:<Name>``, built from an ``<Name>Args`` frozen dataclass whose defaults
are the secure choice; each weakening is an explicit, named argument. Arguments are
plain values (regions, days, key ids), so the components serve any program; a
generated project maps its profile to them in ``__main__.py``.
"""

from __future__ import annotations

from .alerts import AlertChannel, AlertChannelArgs
from .apis import ServiceApis
from .audit_logging import AuditLogging, AuditLoggingArgs
from .cost import CostGuardrails, CostGuardrailsArgs
from .detection import (
    SecurityAlarms,
    SecurityAlarmsArgs,
    SiemExport,
    SiemExportArgs,
    ThreatDetection,
    ThreatDetectionArgs,
)
from .gateway import ApiGateway, ApiGatewayArgs
from .guardrail import Guardrail, GuardrailArgs
from .identity import WorkloadIdentity, WorkloadIdentityArgs
from .keys import Keys, KeysArgs
from .network import Network, NetworkArgs
from .org_policies import OrgPolicies, OrgPoliciesArgs
from .private_endpoints import PrivateEndpoints, PrivateEndpointsArgs
from .recovery import ReplicatedBucket, ReplicatedBucketArgs
from .secrets import Secrets, SecretsArgs
from .segments import WorkloadSegments, WorkloadSegmentsArgs
from .storage import SecureBucket, SecureBucketArgs
from .vertex import VertexAI, VertexAIArgs

__all__ = [
    "AlertChannel",
    "AlertChannelArgs",
    "ApiGateway",
    "ApiGatewayArgs",
    "AuditLogging",
    "AuditLoggingArgs",
    "CostGuardrails",
    "CostGuardrailsArgs",
    "Guardrail",
    "GuardrailArgs",
    "Keys",
    "KeysArgs",
    "Network",
    "NetworkArgs",
    "OrgPolicies",
    "OrgPoliciesArgs",
    "PrivateEndpoints",
    "PrivateEndpointsArgs",
    "ReplicatedBucket",
    "ReplicatedBucketArgs",
    "Secrets",
    "SecretsArgs",
    "SecureBucket",
    "SecureBucketArgs",
    "SecurityAlarms",
    "SecurityAlarmsArgs",
    "ServiceApis",
    "SiemExport",
    "SiemExportArgs",
    "ThreatDetection",
    "ThreatDetectionArgs",
    "VertexAI",
    "VertexAIArgs",
    "WorkloadIdentity",
    "WorkloadIdentityArgs",
    "WorkloadSegments",
    "WorkloadSegmentsArgs",
]
