"""aws-bedrock-hipaa: Clinical notes summarisation on Amazon Bedrock

Composes aiscaffold's hardened AWS components from the stack's profile
(Pulumi.dev.yaml). Run `aiscaffold check` to verify it offline.

Every setting taken from the profile is passed visibly below: tighten it here or in the
stack config. Weakening a control takes a named argument (README.md lists them).
"""

import pulumi
import pulumi_aws as aws
from aiscaffold_components.aws import (
    ECR_ENDPOINT_SERVICES,
    ENDPOINT_SERVICES,
    AuditLogging,
    AuditLoggingArgs,
    Guardrail,
    GuardrailArgs,
    Keys,
    KeysArgs,
    LambdaVpcAccess,
    Network,
    NetworkArgs,
    PrivateEndpoints,
    PrivateEndpointsArgs,
    Secrets,
    SecretsArgs,
    SecureBucket,
    SecureBucketArgs,
    WorkloadIdentity,
    WorkloadIdentityArgs,
    bedrock_model_arns,
    ecr_layer_bucket_arn,
)
from aiscaffold_components.profile import Profile

profile = Profile.from_config()
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
        # The workload uses the data key for S3 objects and to read the guardrail.
        data_services=["s3", "bedrock"],
        # Bedrock encrypts the guardrail's configuration with the deployer's permissions.
        service_managed_data=["bedrock"],
        bedrock_invocation_logging=True,
        protect=profile.deletion_protection,
    ),
)

# ---------------------------------------------------------- network (NET-01..04, GOV-02)
network = Network(
    "network",
    NetworkArgs(
        tags=tags,
        logs_key_arn=keys.logs_key_arn,
        flow_log_retention_days=profile.log_retention_days,
        allow_internet_egress=profile.allow_internet_egress,
        allowed_regions=profile.allowed_regions,
    ),
)

# --------------------------------------------------------------- audit (LOG-01..05)
audit = AuditLogging(
    "audit",
    AuditLoggingArgs(
        logs_key_arn=keys.logs_key_arn,
        tags=tags,
        trail_name=f"{prefix}-trail",
        retention_days=profile.log_retention_days,
        object_lock=profile.immutable_logs,
        data_event_bucket_prefixes=[data_bucket_prefix],
        data_event_resource_types=["AWS::Bedrock::Guardrail"],
        bedrock_invocation_logging=True,
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

# ---------------------------------------------------------- endpoints (PE-01..05)
endpoints = PrivateEndpoints(
    "endpoints",
    PrivateEndpointsArgs(
        vpc_id=network.vpc_id,
        vpc_cidr=network.cidr_block,
        subnet_ids=network.private_subnet_ids,
        route_table_ids=network.private_route_table_ids,
        # Fargate pulls the task's image from ECR inside the VPC (Lambda needs nothing
        # more: it fetches function code and images itself).
        services=[*ENDPOINT_SERVICES["bedrock"], *(ECR_ENDPOINT_SERVICES if on_fargate else ())],
        # ECR serves image layers from this AWS-owned bucket, read through the S3 gateway.
        aws_owned_bucket_arns=(
            [ecr_layer_bucket_arn(partition=partition, region=region)] if on_fargate else []
        ),
        bucket_arns=[data.arn, audit.log_bucket.arn, audit.access_log_bucket.arn],
        client_security_group_ids=[network.workload_security_group_id],
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

# ----------------------------------------------------------------- secrets (SEC-01..03)
secrets = Secrets(
    "secrets",
    SecretsArgs(
        names=["app"],
        prefix=f"{profile.project}/{profile.stack}",
        kms_key_arn=keys.secrets_key_arn,
        reader_role_arns=[workload_role_arn],
        vpc_endpoint_ids=[endpoints.endpoint_ids["secretsmanager"]],
        rotation_days=profile.secret_rotation_days,
        rotation_lambda_arn=None,  # no rotation function is generated: see README.md
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

