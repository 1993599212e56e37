"""Hardened AWS components (pulumi-aws 7), one per control family.

Each component is secure by default; every weakening is an explicit, named argument of
its ``*Args``. Arguments take plain values, not the profile, so the components are
reusable outside aiscaffold's generated programs.
"""

from .alerts import AlertChannel, AlertChannelArgs
from .audit import AuditLogging, AuditLoggingArgs
from .cost import CostGuardrails, CostGuardrailsArgs
from .detection import (
    ALERTS,
    SecurityAlarms,
    SecurityAlarmsArgs,
    SiemExport,
    SiemExportArgs,
    ThreatDetection,
    ThreatDetectionArgs,
    alert_names,
)
from .endpoints import (
    ECR_ENDPOINT_SERVICES,
    ENDPOINT_ACTIONS,
    ENDPOINT_ACTIONS_WITH,
    ENDPOINT_SERVICES,
    IdentityActions,
    PrivateEndpoints,
    PrivateEndpointsArgs,
    ScopedBucket,
    ecr_layer_bucket_arn,
)
from .gateway import ApiGateway, ApiGatewayArgs
from .guardrail import PII_ENTITY_TYPES, Guardrail, GuardrailArgs
from .identity import (
    LAMBDA_VPC_ACTIONS,
    UNSCOPED_ACTIONS,
    LambdaVpcAccess,
    WorkloadIdentity,
    WorkloadIdentityArgs,
    bedrock_model_arns,
)
from .keys import Keys, KeysArgs
from .network import Network, NetworkArgs
from .recovery import Recovery, RecoveryArgs, ReplicationSource
from .sagemaker import SageMakerWorkspace, SageMakerWorkspaceArgs
from .secrets import Secrets, SecretsArgs
from .segments import FLOWS, WorkloadSegment, WorkloadSegmentArgs
from .storage import SecureBucket, SecureBucketArgs, ServiceDelivery
from .workloads import (
    BEDROCK_TRAINING_ACTIONS,
    DataProcessingIdentity,
    DataProcessingIdentityArgs,
    TrainingIdentity,
    TrainingIdentityArgs,
)

__all__ = [
    "ALERTS",
    "BEDROCK_TRAINING_ACTIONS",
    "ECR_ENDPOINT_SERVICES",
    "ENDPOINT_ACTIONS",
    "ENDPOINT_ACTIONS_WITH",
    "ENDPOINT_SERVICES",
    "FLOWS",
    "LAMBDA_VPC_ACTIONS",
    "PII_ENTITY_TYPES",
    "UNSCOPED_ACTIONS",
    "AlertChannel",
    "AlertChannelArgs",
    "ApiGateway",
    "ApiGatewayArgs",
    "AuditLogging",
    "AuditLoggingArgs",
    "CostGuardrails",
    "CostGuardrailsArgs",
    "DataProcessingIdentity",
    "DataProcessingIdentityArgs",
    "Guardrail",
    "GuardrailArgs",
    "IdentityActions",
    "Keys",
    "KeysArgs",
    "LambdaVpcAccess",
    "Network",
    "NetworkArgs",
    "PrivateEndpoints",
    "PrivateEndpointsArgs",
    "Recovery",
    "RecoveryArgs",
    "ReplicationSource",
    "SageMakerWorkspace",
    "SageMakerWorkspaceArgs",
    "ScopedBucket",
    "Secrets",
    "SecretsArgs",
    "SecureBucket",
    "SecureBucketArgs",
    "SecurityAlarms",
    "SecurityAlarmsArgs",
    "ServiceDelivery",
    "SiemExport",
    "SiemExportArgs",
    "ThreatDetection",
    "ThreatDetectionArgs",
    "TrainingIdentity",
    "TrainingIdentityArgs",
    "WorkloadIdentity",
    "WorkloadIdentityArgs",
    "WorkloadSegment",
    "WorkloadSegmentArgs",
    "alert_names",
    "bedrock_model_arns",
    "ecr_layer_bucket_arn",
]
