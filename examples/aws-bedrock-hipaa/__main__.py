"""aws-bedrock-hipaa: Clinical notes summarisation on Amazon Bedrock

Composes aiscaffold's hardened AWS components from the stack's profile
(Pulumi.dev.yaml). Run `aiscaffold check` to verify it offline.

Every setting taken from the profile is passed visibly below: tighten it here or in the
stack config. Weakening a control takes a named argument (README.md lists them).

Stack config read here besides the profile:

- `log_reader_arns` (list of IAM role ARNs, default none): the auditors who may decrypt
  the log files kept in S3 (trail files, model invocation logs), through S3 only.
  Nobody by default: reading the audit archive is a separate duty from deploying or
  running the workload; the CloudWatch Logs copies stay readable to whom IAM allows.
  `pulumi config set --path 'log_reader_arns[0]' arn:aws:iam::<account>:role/<auditor>`
- `lock_log_archive` (default false): make the audit log bucket's object lock final
  (COMPLIANCE mode) once the stack is right: `pulumi config set lock_log_archive true &&
  pulumi up`. Irreversible: no one, root included, can delete a log version before its
  retention ends, or the bucket while it holds one. Until then the lock is in GOVERNANCE
  mode (AWS-S3-016 reports it), which a principal allowed s3:BypassGovernanceRetention
  can lift.
- `secret_rotation_lambda_arn` (Lambda function ARN, default none): the function that
  rotates the secrets (SEC-03). Secrets Manager then rotates each one every
  `secret_rotation_days`. Without it nothing changes a value on its own: a reminder goes
  to the alert topic every `secret_rotation_days` and COMPLIANCE.md does not count SEC-03
  as verified ("reminder only"). README.md, "Secrets", says what the function needs.
  `pulumi config set secret_rotation_lambda_arn arn:aws:lambda:<region>:<account>:function:<name>`
- `siem_consumer` (IAM role ARN, default none): a central SIEM's principal. When set, the
  stack creates a read-only role only it may assume (DET-04, README.md, "Alerts"):
  `pulumi config set siem_consumer arn:aws:iam::<security-account>:role/<siem>`;
  `siem_external_id` (optional) is the sts:ExternalId it must present.
"""

import pulumi
import pulumi_aws as aws
from aiscaffold_components.aws import (
    BEDROCK_TRAINING_ACTIONS,
    AlertChannel,
    AlertChannelArgs,
    ApiGateway,
    ApiGatewayArgs,
    ECR_ENDPOINT_SERVICES,
    ENDPOINT_SERVICES,
    AuditLogging,
    AuditLoggingArgs,
    CostGuardrails,
    CostGuardrailsArgs,
    DataProcessingIdentity,
    DataProcessingIdentityArgs,
    Guardrail,
    GuardrailArgs,
    IdentityActions,
    Keys,
    KeysArgs,
    LambdaVpcAccess,
    Network,
    NetworkArgs,
    PrivateEndpoints,
    PrivateEndpointsArgs,
    Recovery,
    RecoveryArgs,
    ReplicationSource,
    ScopedBucket,
    Secrets,
    SecretsArgs,
    SecureBucket,
    SecureBucketArgs,
    SecurityAlarms,
    SecurityAlarmsArgs,
    SiemExport,
    SiemExportArgs,
    ThreatDetection,
    ThreatDetectionArgs,
    TrainingIdentity,
    TrainingIdentityArgs,
    WorkloadIdentity,
    WorkloadIdentityArgs,
    WorkloadSegment,
    WorkloadSegmentArgs,
    bedrock_model_arns,
    ecr_layer_bucket_arn,
)
from aiscaffold_components.profile import Profile

profile = Profile.from_config()
lock_log_archive = pulumi.Config().get_bool("lock_log_archive") or False
tags = profile.tags  # project, stack, data-classification, managed-by, compliance
prefix = f"{profile.project}-{profile.stack}"

caller = aws.get_caller_identity_output()
partition = aws.get_partition_output().partition
region = aws.get_region_output().region


def arn(service: str, resource: str) -> pulumi.Output[str]:
    """An ARN in this account and region."""
    return pulumi.Output.concat(
        "arn:", partition, ":", service, ":", region, ":", caller.account_id, ":", resource
    )


# The workload role's name is fixed so that key and secret policies can name the role
# (through an aws:PrincipalArn condition) before it exists.
workload_role_name = f"{prefix}-workload"
workload_role_arn = pulumi.Output.concat(
    "arn:", partition, ":iam::", caller.account_id, ":role/", workload_role_name
)
# S3 names are global: the data bucket's name starts with the project and stack, and the
# trail records object reads and writes of buckets named so.
data_bucket_prefix = f"{prefix[:31].rstrip('-')}-data-"


def zone_bucket_prefix(zone: str) -> str:
    """A bucket name prefix ``<project>-<stack>-<zone>-`` cut to S3's 37 characters."""
    return f"{prefix[: 35 - len(zone)].rstrip('-')}-{zone}-"


# Workload types beyond inference (IAM-05, NET-07, GOV-07) and the recovery region
# (REC-01) come from the stack's profile at run time: each stack chooses its own
# (`pulumi config set --path 'workloads[1]' training`, `pulumi config set dr_region
# us-west-2`). Nothing of theirs exists unless chosen.
training = "training" in profile.workloads
data_processing = "data-processing" in profile.workloads
dr_region = profile.dr_region
# Fixed names, so the data key's policy can name the roles before they exist.
training_role_name = f"{prefix}-training"
processing_role_name = f"{prefix}-data-processing"
replication_role_name = f"{prefix}-replication"


def role_arn(name: str) -> pulumi.Output[str]:
    """The ARN of the role ``name`` of this account."""
    return pulumi.Output.concat("arn:", partition, ":iam::", caller.account_id, ":role/", name)


# Each new store's name prefix, which the trail's data events select (LOG-03).
zone_prefixes = [
    *([zone_bucket_prefix("raw")] if data_processing else []),
    *([zone_bucket_prefix("model")] if training else []),
    *(
        [zone_bucket_prefix(z) for z in ("drdata", "drlogs", *(["drmodel"] if training else []))]
        if dr_region
        else []
    ),
]
trail_name = f"{prefix}-trail"
# Auditors who may decrypt the S3 copies of the logs (see the docstring): none by default.
log_reader_arns: list[str] = list(pulumi.Config().get_object("log_reader_arns") or [])
# A central SIEM (see the docstring): off unless siem_consumer is set. Its role's name is
# fixed, so the logs key can let it decrypt the log files before the role exists.
siem_consumer = pulumi.Config().get("siem_consumer")
siem_role_name = f"{prefix}-siem-reader"
siem_reader_arns = (
    [pulumi.Output.concat("arn:", partition, ":iam::", caller.account_id, ":role/", siem_role_name)]
    if siem_consumer
    else []
)
# Account-wide services (threat detection, Bedrock model invocation logging: one configuration per account
# and region) are created by this stack only when it owns them (README.md, "Account-wide
# services"); with "shared", another stack or a central team does.
owns_account_services = profile.account_services == "this-stack"
# GuardDuty Malware Protection scans the data bucket as this role (DET-01), and each
# data zone chosen (raw data, model artifacts) as its own.
scanned_zones = [
    *(["raw"] if "data-processing" in profile.workloads else []),
    *(["model"] if "training" in profile.workloads else []),
]
malware_scan_role_arns = (
    [
        pulumi.Output.concat(
            "arn:", partition, ":iam::", caller.account_id, ":role/", f"{prefix}-malware-scan"
        ),
        *(
            pulumi.Output.concat(
                "arn:",
                partition,
                ":iam::",
                caller.account_id,
                ":role/",
                f"{prefix}-malware-scan-{zone}",
            )
            for zone in scanned_zones
        ),
    ]
    if owns_account_services
    else []
)
# The workload runs on Lambda, on ECS with Fargate, or both. Set the one you do not use
# to False: what only it needs (its trust, endpoints and grants) goes with it.
on_lambda = True
on_fargate = True

# ------------------------------------------------------------------ keys (KEY-01..05)
# KEY-05 (profile.hsm_keys) holds for every KMS key: its material exists in plaintext
# only inside KMS's FIPS 140-validated HSMs. No CloudHSM key store is created (keys.py).
keys = Keys(
    "keys",
    KeysArgs(
        tags=tags,
        alias_prefix=prefix,
        rotation_period_days=profile.key_rotation_days,
        deletion_window_days=profile.key_deletion_window_days,
        workload_role_arns=[workload_role_arn],
        log_reader_arns=[*log_reader_arns, *siem_reader_arns],
        malware_scan_role_arns=malware_scan_role_arns,
        # Training (its pipeline and its jobs) and data processing use the data key
        # only, never the secrets key (IAM-05).
        data_role_arns=[
            *(
                [role_arn(training_role_name), role_arn(f"{training_role_name}-job")]
                if training
                else []
            ),
            *([role_arn(processing_role_name)] if data_processing else []),
        ],
        data_role_services=["s3", "bedrock"],
        # S3 replication to the recovery region decrypts the source objects (REC-01).
        replication_role_arns=[role_arn(replication_role_name)] if dr_region else [],
        # CloudTrail encrypts with the logs key for this trail only (aws:SourceArn).
        trail_arns=[arn("cloudtrail", f"trail/{trail_name}")],
        # The workload uses the data key for S3 objects and to read the guardrail.
        data_services=["s3", "bedrock"],
        # Bedrock encrypts the guardrail's configuration with the deployer's permissions.
        service_managed_data=["bedrock"],
        bedrock_invocation_logging=owns_account_services,
        protect=profile.deletion_protection,
    ),
)

# Interface endpoints the VPC gets: subnets go only to zones offering every one of them.
# Fargate pulls the task's image from ECR inside the VPC (Lambda needs nothing more: it
# fetches function code and images itself).
interface_services = [
    *ENDPOINT_SERVICES["bedrock"],
    *(ECR_ENDPOINT_SERVICES if on_fargate else ()),
]

# ---------------------------------------------------------- network (NET-01..04, GOV-02)
network = Network(
    "network",
    NetworkArgs(
        tags=tags,
        logs_key_arn=keys.logs_key_arn,
        flow_log_retention_days=profile.log_retention_days,
        allow_internet_egress=profile.allow_internet_egress,
        allowed_regions=profile.allowed_regions,
        endpoint_services=interface_services,
    ),
)

# --------------------------------------------------------------- audit (LOG-01..05)
audit = AuditLogging(
    "audit",
    AuditLoggingArgs(
        logs_key_arn=keys.logs_key_arn,
        tags=tags,
        trail_name=trail_name,
        retention_days=profile.log_retention_days,
        object_lock=profile.immutable_logs,
        # Final (COMPLIANCE) only in the second, explicit step: see lock_log_archive above.
        object_lock_mode="COMPLIANCE" if lock_log_archive else "GOVERNANCE",
        data_event_bucket_prefixes=[data_bucket_prefix, *zone_prefixes],
        data_event_resource_types=["AWS::Bedrock::Guardrail"],
        # One configuration per account and region: only the stack owning the account's
        # services creates it (`pulumi destroy` would turn it off for every stack).
        bedrock_invocation_logging=owns_account_services,
        # Prompts and completions are written to the invocation logs only when the
        # data is not confidential; otherwise the logs hold metadata (caller, model,
        # tokens, guardrail outcome) and the data stays out of long-lived logs.
        invocation_log_text=profile.data_sensitivity in ("public", "internal"),
        protect=profile.deletion_protection,
    ),
)

# ------------------------------------------------------------ data (GOV-03, GOV-04)
data = SecureBucket(
    "data",
    SecureBucketArgs(
        kms_key_arn=keys.data_key_arn,
        tags=tags,
        name_prefix=data_bucket_prefix,
        access_log_bucket=audit.access_log_bucket_name,
        protect=profile.deletion_protection,
    ),
)

# ------------------------------------------------- data zones (GOV-07), curated = data
# The data bucket above is the curated zone. Raw data comes with data processing, model
# artifacts with training; the same hardening as the data bucket, access per workload
# (identities below). Model artifacts are versioned (SecureBucket always is) and guarded
# from deletion where the profile asks for it.
raw_data = (
    SecureBucket(
        "raw-data",
        SecureBucketArgs(
            kms_key_arn=keys.data_key_arn,
            tags={**tags, "data-zone": "raw"},
            name_prefix=zone_bucket_prefix("raw"),
            access_log_bucket=audit.access_log_bucket_name,
            protect=profile.deletion_protection,
        ),
    )
    if data_processing
    else None
)
model_artifacts = (
    SecureBucket(
        "model-artifacts",
        SecureBucketArgs(
            kms_key_arn=keys.data_key_arn,
            tags={**tags, "data-zone": "model-artifacts"},
            name_prefix=zone_bucket_prefix("model"),
            access_log_bucket=audit.access_log_bucket_name,
            protect=profile.deletion_protection,
        ),
    )
    if training
    else None
)

# ---------------------------------------------------------- endpoints (PE-01..05)
endpoints = PrivateEndpoints(
    "endpoints",
    PrivateEndpointsArgs(
        vpc_id=network.vpc_id,
        vpc_cidr=network.cidr_block,
        subnet_ids=network.private_subnet_ids,
        route_table_ids=network.private_route_table_ids,
        services=interface_services,
        # ECR serves image layers from this AWS-owned bucket, read through the S3 gateway.
        aws_owned_bucket_arns=(
            [ecr_layer_bucket_arn(partition=partition, region=region)] if on_fargate else []
        ),
        bucket_arns=[data.arn, audit.log_bucket.arn, audit.access_log_bucket.arn],
        # The training identity starts its model customization jobs from the training
        # segment: the bedrock endpoint admits those calls for it alone.
        identity_actions=(
            [
                IdentityActions(
                    "bedrock", BEDROCK_TRAINING_ACTIONS, [role_arn(training_role_name)]
                )
            ]
            if training
            else []
        ),
        # The data zones of one workload type: through the gateway, for its identity only.
        scoped_buckets=[
            *([ScopedBucket(raw_data.arn, [role_arn(processing_role_name)])] if raw_data else []),
            *(
                [
                    ScopedBucket(
                        model_artifacts.arn,
                        [role_arn(training_role_name), role_arn(f"{training_role_name}-job")],
                    )
                ]
                if model_artifacts
                else []
            ),
        ],
        client_security_group_ids=[network.workload_security_group_id],
        tags=tags,
    ),
)

# ------------------------------------------------------ workload segments (NET-07)
# Inference keeps the network's private subnets and workload security group. Training
# and data processing get their own subnets, network ACL and security group; between
# segments only the listed flows pass (segments.FLOWS, README "Workload segments"):
# HTTPS to the interface endpoints, HTTPS to S3 through the gateway endpoint, and, for
# training, the traffic of one distributed job's containers (encrypted).
segments: dict[str, WorkloadSegment] = {}
for workload_type in [w for w in profile.workloads if w != "inference"]:
    segments[workload_type] = WorkloadSegment(
        f"{workload_type}-segment",
        WorkloadSegmentArgs(
            workload=workload_type,
            vpc_id=network.vpc_id,
            vpc_cidr=network.cidr_block,
            zone_ids=network.zone_ids,
            endpoint_subnet_cidrs=network.private_subnet_cidrs,
            endpoint_security_group_id=endpoints.security_group_id,
            s3_gateway_endpoint_id=endpoints.endpoint_ids["s3"],
            s3_prefix_list_id=endpoints.s3_prefix_list_id,
            internal_traffic=workload_type == "training",
            tags=tags,
        ),
    )

# --------------------------------------------------------------- guardrail (AI-01..05)
guardrail = Guardrail(
    "guardrail",
    GuardrailArgs(
        kms_key_arn=keys.data_key_arn,
        tags=tags,
        guardrail_name=prefix,
        content_filter_strength=profile.content_filter_strength,
        pii_entities=profile.pii_entities,
        pii_action=profile.pii_action,
        denied_topics=profile.guardrail_denied_topics,
        # For answers grounded in retrieved sources (RAG), block weakly grounded ones,
        # e.g. grounding_threshold=0.75.
        grounding_threshold=None,
    ),
)

# ------------------------------------------------------ alert channel (SEC-03, DET-02)
# The project's one alert topic, encrypted with its own key: rotation reminders, alarms
# and findings go there. Each address of alert_emails must confirm its subscription
# (README.md, "Alerts").
alerts = AlertChannel(
    "alerts",
    AlertChannelArgs(
        name_prefix=prefix,
        tags=tags,
        key_rotation_days=profile.key_rotation_days,
        key_deletion_window_days=profile.key_deletion_window_days,
        protect=profile.deletion_protection,
        emails=profile.alert_emails,
    ),
)

# ----------------------------------------------------------------- secrets (SEC-01..03)
# With a rotation function Secrets Manager rotates each secret; without one a reminder
# goes to the alert topic every secret_rotation_days (see the docstring).
secret_rotation_lambda_arn = pulumi.Config().get("secret_rotation_lambda_arn")
secrets = Secrets(
    "secrets",
    SecretsArgs(
        names=["app"],
        prefix=f"{profile.project}/{profile.stack}",
        kms_key_arn=keys.secrets_key_arn,
        reader_role_arns=[workload_role_arn],
        vpc_endpoint_ids=[endpoints.endpoint_ids["secretsmanager"]],
        rotation_days=profile.secret_rotation_days,
        rotation_lambda_arn=secret_rotation_lambda_arn,
        reminder_topic_arn=alerts.topic_arn,
        reminder_role_arn=alerts.scheduler_role_arn,
        tags=tags,
    ),
)

# ------------------------------------------------------------ identity (IAM-01..04)
# Embedding models return vectors, which guardrails do not screen: they are the only
# models invoked without the guardrail. Every other model only through it.
embedding_models = [model for model in profile.models if "embed" in model]
guarded_models = [model for model in profile.models if model not in embedding_models]
workload = WorkloadIdentity(
    "workload",
    WorkloadIdentityArgs(
        role_name=workload_role_name,
        trusted_services=[
            *(["lambda.amazonaws.com"] if on_lambda else []),
            *(["ecs-tasks.amazonaws.com"] if on_fargate else []),
        ],
        tags=tags,
        model_arns=bedrock_model_arns(
            guarded_models, partition=partition, region=region, account_id=caller.account_id
        ),
        guardrail_arn=guardrail.guardrail_arn,
        guardrail_version=guardrail.guardrail_version,
        unguarded_model_arns=bedrock_model_arns(
            embedding_models, partition=partition, region=region, account_id=caller.account_id
        ),
        kms_key_arns=[keys.data_key_arn, keys.secrets_key_arn],
        kms_via_services=["s3", "secretsmanager", "bedrock"],
        secret_arns=list(secrets.secret_arns.values()),
        bucket_arns=[data.arn],
        # The workload logs here only (Lambda: logging_config.log_group; ECS:
        # awslogs-group): a group it created itself would not use the logs key.
        log_group_name=f"/{profile.project}/{profile.stack}/workload",
        logs_key_arn=keys.logs_key_arn,
        log_retention_days=profile.log_retention_days,
        # Lambda creates the functions' network interfaces in the private subnets, with
        # the workload security group, as this role.
        lambda_vpc=(
            LambdaVpcAccess(
                subnet_arns=network.private_subnet_arns,
                security_group_arns=[network.workload_security_group_arn],
            )
            if on_lambda
            else None
        ),
        # Fargate pulls the task's image as this role (the task execution role).
        ecr_repository_arns=([arn("ecr", f"repository/{profile.project}/*")] if on_fargate else []),
    ),
)

# ------------------------------------------- workload identities (IAM-05)
# One identity per chosen workload type, each with only its own job: inference is the
# workload role above; training reads curated data, writes model artifacts and runs
# Bedrock model customization jobs in the training segment; data processing reads
# raw data and writes curated data. None invokes a model but inference.
if training and model_artifacts is not None:
    training_identity = TrainingIdentity(
        "training",
        TrainingIdentityArgs(
            role_name=training_role_name,
            ai_service="bedrock",
            # The team's training pipeline runs as ECS tasks on Fargate.
            trusted_services=["ecs-tasks.amazonaws.com"],
            base_model_arns=bedrock_model_arns(
                guarded_models, partition=partition, region=region, account_id=caller.account_id
            ),
            curated_bucket_arn=data.arn,
            artifact_bucket_arn=model_artifacts.arn,
            data_key_arn=keys.data_key_arn,
            subnet_arns=segments["training"].subnet_arns,
            subnet_ids=segments["training"].subnet_ids,
            security_group_arn=segments["training"].security_group_arn,
            security_group_id=segments["training"].security_group_id,
            job_name_prefix=f"{prefix}-",
            tags=tags,
        ),
    )
    pulumi.export("training_role_arn", training_identity.role_arn)
    pulumi.export("training_job_role_arn", training_identity.job_role_arn)
    pulumi.export("training_subnet_ids", segments["training"].subnet_ids)
    pulumi.export("training_security_group_id", segments["training"].security_group_id)
    pulumi.export("model_artifact_bucket", model_artifacts.bucket_name)
if data_processing and raw_data is not None:
    processing_identity = DataProcessingIdentity(
        "data-processing",
        DataProcessingIdentityArgs(
            role_name=processing_role_name,
            # The team's batch compute: ECS tasks on Fargate.
            trusted_services=["ecs-tasks.amazonaws.com"],
            raw_bucket_arn=raw_data.arn,
            curated_bucket_arn=data.arn,
            data_key_arn=keys.data_key_arn,
            tags=tags,
        ),
    )
    pulumi.export("data_processing_role_arn", processing_identity.role_arn)
    pulumi.export("data_processing_subnet_ids", segments["data-processing"].subnet_ids)
    pulumi.export(
        "data_processing_security_group_id", segments["data-processing"].security_group_id
    )
    pulumi.export("raw_data_bucket", raw_data.bucket_name)

# ------------------------------------------------------------- recovery (REC-01)
# Only with a recovery region: the curated data (and the model artifacts) replicate to
# buckets there, with the same hardening, encrypted with a key that lives there.
# docs/disaster-recovery.md: what replicates, RPO/RTO, failover and the restore drill.
if dr_region:
    recovery = Recovery(
        "recovery",
        RecoveryArgs(
            dr_region=dr_region,
            sources=[
                ReplicationSource(
                    label="data",
                    bucket_name=data.bucket_name,
                    bucket_arn=data.arn,
                    kms_key_arn=keys.data_key_arn,
                    replica_name_prefix=zone_bucket_prefix("drdata"),
                    protect=profile.deletion_protection,
                    depends_on=[data],
                ),
                *(
                    [
                        ReplicationSource(
                            label="model-artifacts",
                            bucket_name=model_artifacts.bucket_name,
                            bucket_arn=model_artifacts.arn,
                            kms_key_arn=keys.data_key_arn,
                            replica_name_prefix=zone_bucket_prefix("drmodel"),
                            protect=profile.deletion_protection,
                            depends_on=[model_artifacts],
                        )
                    ]
                    if model_artifacts is not None
                    else []
                ),
            ],
            tags=tags,
            alias_prefix=prefix,
            replication_role_name=replication_role_name,
            access_log_name_prefix=zone_bucket_prefix("drlogs"),
            access_log_retention_days=profile.log_retention_days,
            rotation_period_days=profile.key_rotation_days,
            deletion_window_days=profile.key_deletion_window_days,
            # S3 Replication Time Control (15 minutes for 99.99% of objects) for
            # restricted data; below that, replication without the SLA.
            replication_time_control=profile.data_sensitivity == "restricted",
            protect=profile.deletion_protection,
        ),
    )
    pulumi.export("dr_region", dr_region)
    pulumi.export("dr_key_arn", recovery.dr_key_arn)
    pulumi.export(
        "replica_buckets", {label: r.bucket_name for label, r in recovery.replicas.items()}
    )

# ------------------------------------------- detection and response (DET-01..04)
# Threat detection services exist once per account and region: only the stack owning
# the account's services creates them (README.md, "Alerts").
if owns_account_services:
    threat_detection = ThreatDetection(
        "threat-detection",
        ThreatDetectionArgs(
            name_prefix=prefix,
            tags=tags,
            data_bucket_name=data.bucket_name,
            data_bucket_arn=data.arn,
            data_key_arn=keys.data_key_arn,
            zone_buckets={
                **({"raw": (raw_data.bucket_name, raw_data.arn)} if raw_data else {}),
                **(
                    {"model": (model_artifacts.bucket_name, model_artifacts.arn)}
                    if model_artifacts
                    else {}
                ),
            },
            on_lambda=on_lambda,
            on_fargate=on_fargate,
        ),
    )
    pulumi.export("guardduty_detector_id", threat_detection.detector_id)
# The tampering and misuse alerts, each with its runbook in docs/incident-response.md,
# and the route of high-severity findings: all to the alert topic.
security_alarms = SecurityAlarms(
    "security-alarms",
    SecurityAlarmsArgs(
        name_prefix=prefix,
        tags=tags,
        ai_service="bedrock",
        alert_topic_arn=alerts.topic_arn,
        trail_log_group_name=audit.trail_log_group_name,
        workload_role_name=workload_role_name,
        secret_name_prefix=f"{profile.project}/{profile.stack}/",
        guardrail_arn=guardrail.guardrail_arn,
        guardrail_version=guardrail.guardrail_version,
        models=profile.models,
        # Alerts per five minutes; raise them once the workload's normal volume is known.
        intervention_threshold=20,
        invocation_threshold=1000,
    ),
)
# A central SIEM reads the logs through a read-only role (off unless siem_consumer is set).
if siem_consumer:
    siem = SiemExport(
        "siem",
        SiemExportArgs(
            role_name=siem_role_name,
            consumer_arn=siem_consumer,
            external_id=pulumi.Config().get("siem_external_id"),
            log_bucket_arn=audit.log_bucket.arn,
            log_prefixes=["cloudtrail/", "bedrock-invocations/"],
            logs_key_arn=keys.logs_key_arn,
            log_group_names=[
                audit.trail_log_group_name,
                network.flow_log_group_name,
                f"/{profile.project}/{profile.stack}/workload",
                *(
                    [audit.invocation_log_group_name]
                    if audit.invocation_log_group_name is not None
                    else []
                ),
            ],
            tags=tags,
        ),
    )
    pulumi.export("siem_role_arn", siem.role_arn)

# ---- AI gateway (API-01..05)
# With api_gateway private or public: an API Gateway REST API before the workload, every
# method behind the OIDC authorizer (gateway_oidc_issuer / gateway_oidc_audience),
# throttled at gateway_rate_limit / gateway_burst_limit, logged without bodies, TLS 1.2+;
# public: behind AWS WAF. Stack config read here (README.md, "AI gateway"):
# gateway_backend (a Lambda function ARN or an internal ALB/NLB ARN; until set every
# route answers 503), gateway_backend_host (the load balancer's https host name),
# gateway_clients (names that get an API key and a daily quota), gateway_domain and
# gateway_certificate_arn (public: a custom domain with TLS 1.2).
if profile.api_gateway != "none":
    gateway_config = pulumi.Config()
    gateway = ApiGateway(
        "gateway",
        ApiGatewayArgs(
            name_prefix=prefix,
            mode=profile.api_gateway,
            oidc_issuer=profile.gateway_oidc_issuer,
            oidc_audience=profile.gateway_oidc_audience,
            rate_limit=profile.gateway_rate_limit,
            burst_limit=profile.gateway_burst_limit,
            logs_key_arn=keys.logs_key_arn,
            log_retention_days=profile.log_retention_days,
            tags=tags,
            vpc_id=network.vpc_id,
            vpc_cidr=network.cidr_block,
            subnet_ids=network.private_subnet_ids,
            backend=gateway_config.get("gateway_backend") or "",
            backend_host=gateway_config.get("gateway_backend_host") or "",
            backend_security_group_ids=[network.workload_security_group_id],
            clients=list(gateway_config.get_object("gateway_clients") or []),
            domain_name=gateway_config.get("gateway_domain") or "",
            certificate_arn=gateway_config.get("gateway_certificate_arn") or "",
            # The account's API Gateway logging role: one per account and region.
            manage_account_logging_role=owns_account_services,
            # API Gateway meters requests, not tokens: profile.gateway_tokens_per_minute
            # is the workload's to enforce (README.md, "AI gateway").
        ),
    )
    pulumi.export("gateway_url", gateway.invoke_url)
    pulumi.export("gateway_access_log_group", gateway.access_log_group_name)

# ---- cost guardrails (COST-01..03)
# Budgets of monthly_budget USD a month (the project's cost-allocation tag, and the
# bedrock line of the bill) and spend anomaly alerts, all to the alert topic.
# Change the amount with `pulumi config set monthly_budget <USD> && pulumi up`; 0 creates
# no budget. The account's AWS services anomaly monitor exists once per account: only
# the stack owning the account's services creates it. README.md, "Cost guardrails".
cost = CostGuardrails(
    "cost",
    CostGuardrailsArgs(
        name_prefix=prefix,
        project=profile.project,
        ai_service="bedrock",
        monthly_budget=profile.monthly_budget,
        alert_topic_arn=alerts.topic_arn,
        tags=tags,
        service_monitor=owns_account_services,
        # A monitor on the project's cost-allocation tag can only be created in an
        # organization's management account: `pulumi config set cost_tag_monitor true`
        # there (README, "Cost guardrails").
        tag_monitor=pulumi.Config().get_bool("cost_tag_monitor") or False,
    ),
)

pulumi.export("data_classification", profile.data_sensitivity)
pulumi.export("region", network.region)
pulumi.export("vpc_id", network.vpc_id)
pulumi.export("private_subnet_ids", network.private_subnet_ids)
pulumi.export("workload_security_group_id", network.workload_security_group_id)
pulumi.export("endpoint_ids", endpoints.endpoint_ids)
pulumi.export(
    "key_arns",
    {"data": keys.data_key_arn, "logs": keys.logs_key_arn, "secrets": keys.secrets_key_arn},
)
pulumi.export("guardrail_id", guardrail.guardrail_id)
pulumi.export("guardrail_version", guardrail.guardrail_version)
pulumi.export("workload_role_arn", workload.role_arn)
pulumi.export("workload_log_group", workload.log_group_name)
pulumi.export("data_bucket", data.bucket_name)
pulumi.export("log_bucket", audit.log_bucket_name)
pulumi.export("access_log_bucket", audit.access_log_bucket_name)
pulumi.export("trail_arn", audit.trail_arn)
pulumi.export("secret_arns", secrets.secret_arns)
pulumi.export("alert_topic_arn", alerts.topic_arn)
pulumi.export("budget_names", cost.budget_names)
pulumi.export("alert_names", security_alarms.alarm_names)

