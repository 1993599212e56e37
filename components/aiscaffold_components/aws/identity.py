"""WorkloadIdentity: the workload's IAM role, scoped to the project's own resources."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ._common import (
    AwsContext,
    Condition,
    Statement,
    aws_context,
    cloudwatch_retention_days,
    policy_json,
    require_tls,
    same_account,
    tls_allow,
)

__all__ = [
    "BEDROCK_INVOKE_ACTIONS",
    "CROSS_REGION_PREFIXES",
    "LAMBDA_VPC_ACTIONS",
    "UNSCOPED_ACTIONS",
    "LambdaVpcAccess",
    "WorkloadIdentity",
    "WorkloadIdentityArgs",
    "bedrock_model_arns",
    "unscoped_statement",
]

#: The only actions an aiscaffold policy grants on Resource "*", each with the reason:
#: AWS authorizes them against no resource type (Service Authorization Reference), so
#: no narrower Resource exists. Everything else names its resources.
UNSCOPED_ACTIONS: Mapping[str, str] = {
    "ecr:GetAuthorizationToken": (
        "returns a registry login token for the whole account; ECR defines no resource for it"
    ),
    "ec2:DescribeNetworkInterfaces": (
        "EC2 Describe calls support no resource-level permissions (Lambda's VPC guide: it "
        "only works allowed on all resources)"
    ),
    "ec2:DescribeVpcs": "EC2 Describe calls support no resource-level permissions",
    "ec2:DescribeSubnets": "EC2 Describe calls support no resource-level permissions",
    "ec2:DescribeSecurityGroups": "EC2 Describe calls support no resource-level permissions",
    "ec2:DescribeDhcpOptions": "EC2 Describe calls support no resource-level permissions",
    "sagemaker:ListApps": "SageMaker AI List calls support no resource-level permissions",
    "sagemaker:ListSpaces": "SageMaker AI List calls support no resource-level permissions",
    "cloudwatch:PutMetricData": (
        "CloudWatch authorizes metric writes against no resource; the cloudwatch:namespace "
        "condition limits them"
    ),
}

#: What Lambda does with a function's execution role to attach the function to a VPC
#: (its Hyperplane network interfaces), as AWSLambdaVPCAccessExecutionRole grants it.
LAMBDA_VPC_ACTIONS: tuple[str, ...] = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:UnassignPrivateIpAddresses",
)

#: Model invocation actions (Converse and ConverseStream are authorized by these too).
BEDROCK_INVOKE_ACTIONS: tuple[str, ...] = (
    "bedrock:InvokeModel",
    "bedrock:InvokeModelWithResponseStream",
)

#: Prefixes of cross-region inference profile ids (``us.anthropic.claude-...``).
CROSS_REGION_PREFIXES: tuple[str, ...] = ("us", "eu", "apac", "us-gov", "jp", "au", "ca", "global")


def bedrock_model_arns(
    model_ids: Sequence[str],
    *,
    partition: pulumi.Input[str],
    region: pulumi.Input[str],
    account_id: pulumi.Input[str],
) -> list[pulumi.Output[str]]:
    """ARNs to grant for Bedrock model ids.

    A foundation model id gives its foundation-model ARN in the region. A cross-region
    inference profile id (``us.<model>``) gives the profile's ARN plus the model's ARN in
    every region (``*``): the profile routes a call to any region of its geography, and
    Bedrock checks the model permission there.
    """
    arns: list[pulumi.Output[str]] = []
    for model in model_ids:
        head, _, rest = model.partition(".")
        if head in CROSS_REGION_PREFIXES and rest:
            arns.append(
                pulumi.Output.concat(
                    "arn:",
                    partition,
                    ":bedrock:",
                    region,
                    ":",
                    account_id,
                    ":inference-profile/",
                    model,
                )
            )
            arns.append(
                pulumi.Output.concat("arn:", partition, ":bedrock:*::foundation-model/", rest)
            )
        else:
            arns.append(
                pulumi.Output.concat(
                    "arn:", partition, ":bedrock:", region, "::foundation-model/", model
                )
            )
    return arns


def unscoped_statement(
    sid: str, actions: Sequence[str], conditions: Sequence[Condition] = ()
) -> Statement:
    """An Allow on Resource "*" for actions in ``UNSCOPED_ACTIONS`` only (checked)."""
    stray = sorted(set(actions) - set(UNSCOPED_ACTIONS))
    if stray:
        raise ValueError(f"{', '.join(stray)} can be scoped to resources: name them")
    return {
        "sid": sid,
        "effect": "Allow",
        "actions": list(actions),
        "resources": ["*"],
        "conditions": [require_tls(), *conditions],
    }


@dataclass(frozen=True)
class LambdaVpcAccess:
    """Where the workload's Lambda functions attach to the VPC.

    Lambda creates the functions' network interfaces with the execution role, so the
    role may create them only in these subnets, with these security groups: a function
    configured with any other fails to create ("The provided execution role does not
    have permissions to call CreateNetworkInterface on EC2").
    """

    subnet_arns: Sequence[pulumi.Input[str]]
    """The private subnets the functions run in."""
    security_group_arns: Sequence[pulumi.Input[str]]
    """The security groups of the functions (the workload group)."""


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    """Arguments of :class:`WorkloadIdentity`.

    The role has no access keys (IAM-01, IAM-03): only the named services can assume
    it, for this account only. Every grant names its resources and requires TLS.
    """

    role_name: str
    """The role's name (fixed, so key and secret policies can name the role's ARN)."""
    trusted_services: Sequence[str]
    """Service principals that run the workload, e.g. ``lambda.amazonaws.com``,
    ``ecs-tasks.amazonaws.com``, ``sagemaker.amazonaws.com``."""
    tags: Mapping[str, str]
    set_source_identity: bool = False
    """Let the services also set a source identity (SageMaker Studio records the user
    profile name as ``sts:SourceIdentity`` with it)."""
    model_arns: Sequence[pulumi.Input[str]] = ()
    """Bedrock models (see :func:`bedrock_model_arns`) the workload may invoke, only
    with the guardrail."""
    guardrail_arn: pulumi.Input[str] | None = None
    """The guardrail every call to ``model_arns`` must name; also granted ApplyGuardrail."""
    guardrail_version: pulumi.Input[str] | None = None
    """The guardrail version calls must name (never DRAFT)."""
    unguarded_model_arns: Sequence[pulumi.Input[str]] = ()
    """Weakening: models the workload may invoke without the guardrail. For embedding
    models, whose output is vectors that guardrails do not screen."""
    kms_key_arns: Sequence[pulumi.Input[str]] = ()
    """Project keys the workload may decrypt and generate data keys with."""
    kms_via_services: Sequence[str] = ("s3", "secretsmanager")
    """Services through which the keys may be used (``kms:ViaService``)."""
    secret_arns: Sequence[pulumi.Input[str]] = ()
    """Secrets the workload may read."""
    bucket_arns: Sequence[pulumi.Input[str]] = ()
    """Buckets whose objects the workload may read and write."""
    sagemaker_endpoint_arns: Sequence[pulumi.Input[str]] = ()
    """SageMaker AI inference endpoints (ARN patterns) the workload may invoke."""
    log_group_name: str | None = None
    """Create this log group for the workload, encrypted with ``logs_key_arn`` and kept
    ``log_retention_days``, and let the workload write to it (point Lambda's logging
    configuration or ECS's ``awslogs-group`` at it). The workload creates no log group
    itself: one it created would not be encrypted with the project's key."""
    logs_key_arn: pulumi.Input[str] | None = None
    """The logs key, which encrypts ``log_group_name``."""
    log_retention_days: int = 365
    """Days ``log_group_name`` keeps events (rounded up to a period CloudWatch accepts)."""
    log_group_arns: Sequence[pulumi.Input[str]] = ()
    """Other log groups (ARN patterns) the workload may write to."""
    creates_log_groups: bool = False
    """Weakening: the workload may also create the groups of ``log_group_arns``. For
    SageMaker AI, which creates its ``/aws/sagemaker/*`` groups as the execution role;
    groups created so are encrypted with a CloudWatch Logs key, not the project's, and
    keep events until a retention is set on them."""
    ecr_repository_arns: Sequence[pulumi.Input[str]] = ()
    """ECR repositories (ARN patterns) the workload may pull images from."""
    network_interface_vpc_arn: pulumi.Input[str] | None = None
    """A VPC in which the workload's jobs may create and delete network interfaces
    (SageMaker AI jobs and apps in VPC mode)."""
    lambda_vpc: LambdaVpcAccess | None = None
    """Subnets and security groups in which Lambda may attach the workload's functions
    to the VPC (needs ``lambda.amazonaws.com`` among ``trusted_services``)."""
    max_session_duration: int = 3600
    """Longest session, in seconds, a service may hold the role's credentials."""
    permissions_boundary_arn: pulumi.Input[str] | None = None
    """A permissions boundary your organisation requires on roles, if any."""


class WorkloadIdentity(pulumi.ComponentResource):
    """The workload's role: trusted by the named services only, granted only what it uses."""

    role: aws.iam.Role
    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    log_group: aws.cloudwatch.LogGroup | None
    """The workload's log group (``log_group_name``), if any."""
    log_group_name: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not args.trusted_services:
            raise ValueError("trusted_services must name the services that run the workload")
        if args.model_arns and (args.guardrail_arn is None or args.guardrail_version is None):
            raise ValueError(
                "model_arns are invoked with a guardrail only: pass guardrail_arn and "
                "guardrail_version, or list models as unguarded_model_arns (a weakening)"
            )
        if args.lambda_vpc is not None:
            if "lambda.amazonaws.com" not in args.trusted_services:
                raise ValueError("lambda_vpc needs lambda.amazonaws.com among trusted_services")
            if not args.lambda_vpc.subnet_arns or not args.lambda_vpc.security_group_arns:
                raise ValueError("lambda_vpc must name the subnets and security groups")
        if args.log_group_name is not None and args.logs_key_arn is None:
            raise ValueError("log_group_name is encrypted with logs_key_arn: pass the logs key")
        if args.creates_log_groups and not args.log_group_arns:
            raise ValueError("creates_log_groups applies to log_group_arns: name the groups")
        super().__init__("aiscaffold:aws:WorkloadIdentity", name, None, opts)
        ctx = aws_context(self)
        child = pulumi.ResourceOptions(parent=self)
        trust_actions = ["sts:AssumeRole"]
        if args.set_source_identity:
            trust_actions.append("sts:SetSourceIdentity")
        trust: Statement = {
            "sid": "ServicesOfThisAccount",
            "effect": "Allow",
            "principals": [{"type": "Service", "identifiers": list(args.trusted_services)}],
            "actions": trust_actions,
            "conditions": [same_account(ctx.account_id)],
        }
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description="Workload role (aiscaffold): scoped to the project's resources",
            assume_role_policy=policy_json([trust], parent=self),
            max_session_duration=args.max_session_duration,
            permissions_boundary=args.permissions_boundary_arn,
            force_detach_policies=True,
            tags=dict(args.tags),
            opts=child,
        )
        self.log_group = None
        self.log_group_name = None
        log_group_arns = list(args.log_group_arns)
        if args.log_group_name is not None:
            self.log_group = aws.cloudwatch.LogGroup(
                f"{name}-logs",
                name=args.log_group_name,
                kms_key_id=args.logs_key_arn,
                retention_in_days=cloudwatch_retention_days(args.log_retention_days),
                log_group_class="STANDARD",
                tags=dict(args.tags),
                opts=child,
            )
            self.log_group_name = self.log_group.name
            log_group_arns.insert(0, self.log_group.arn)
        statements = _statements(args, ctx, log_group_arns)
        if statements:
            aws.iam.RolePolicy(
                f"{name}-policy",
                role=self.role.id,
                policy=policy_json(statements, parent=self),
                opts=child,
            )
        self.role_arn = self.role.arn
        self.role_name = self.role.name
        outputs: dict[str, object] = {"role_arn": self.role_arn, "role_name": self.role_name}
        if self.log_group_name is not None:
            outputs["log_group_name"] = self.log_group_name
        self.register_outputs(outputs)


def _statements(
    args: WorkloadIdentityArgs, ctx: AwsContext, log_group_arns: Sequence[pulumi.Input[str]]
) -> list[Statement]:
    region, dns_suffix = ctx.region, ctx.dns_suffix
    out: list[Statement] = []
    if args.model_arns and args.guardrail_arn is not None and args.guardrail_version is not None:
        pinned = pulumi.Output.concat(args.guardrail_arn, ":", args.guardrail_version)
        out.append(
            tls_allow(
                "InvokeModelsThroughTheGuardrail",
                BEDROCK_INVOKE_ACTIONS,
                args.model_arns,
                {
                    "test": "StringEquals",
                    "variable": "bedrock:GuardrailIdentifier",
                    "values": [pinned],
                },
            )
        )
        # The explicit deny also overrides any broader grant another policy might add.
        out.append(
            {
                "sid": "DenyModelCallsWithoutTheGuardrail",
                "effect": "Deny",
                "actions": list(BEDROCK_INVOKE_ACTIONS),
                "resources": list(args.model_arns),
                "conditions": [
                    {
                        "test": "StringNotEquals",
                        "variable": "bedrock:GuardrailIdentifier",
                        "values": [pinned],
                    }
                ],
            }
        )
    if args.unguarded_model_arns:
        out.append(
            tls_allow("InvokeUnguardedModels", BEDROCK_INVOKE_ACTIONS, args.unguarded_model_arns)
        )
    if args.guardrail_arn is not None:
        out.append(tls_allow("ApplyTheGuardrail", ["bedrock:ApplyGuardrail"], [args.guardrail_arn]))
    if args.kms_key_arns:
        via: Condition = {
            "test": "StringEquals",
            "variable": "kms:ViaService",
            "values": [
                pulumi.Output.concat(service, ".", region, ".", dns_suffix)
                for service in args.kms_via_services
            ],
        }
        out.append(
            tls_allow(
                "UseProjectKeysThroughServices",
                ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                args.kms_key_arns,
                via,
            )
        )
    if args.secret_arns:
        out.append(
            tls_allow(
                "ReadProjectSecrets",
                ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                args.secret_arns,
            )
        )
    if args.bucket_arns:
        out.append(
            tls_allow(
                "ListProjectBuckets", ["s3:GetBucketLocation", "s3:ListBucket"], args.bucket_arns
            )
        )
        out.append(
            tls_allow(
                "ReadWriteProjectObjects",
                ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                [pulumi.Output.concat(arn, "/*") for arn in args.bucket_arns],
            )
        )
    if args.sagemaker_endpoint_arns:
        out.append(
            tls_allow(
                "InvokeProjectEndpoints",
                ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
                args.sagemaker_endpoint_arns,
            )
        )
    if log_group_arns:
        out.append(
            tls_allow(
                "WriteProjectLogs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [
                    *log_group_arns,
                    *(pulumi.Output.concat(arn, ":log-stream:*") for arn in log_group_arns),
                ],
            )
        )
    if args.creates_log_groups:
        out.append(
            tls_allow("CreateServiceLogGroups", ["logs:CreateLogGroup"], args.log_group_arns)
        )
    if args.ecr_repository_arns:
        out.append(
            tls_allow(
                "PullProjectImages",
                [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                args.ecr_repository_arns,
            )
        )
        out.append(unscoped_statement("RegistryLogin", ["ecr:GetAuthorizationToken"]))
    if args.network_interface_vpc_arn is not None:
        vpc_arn = pulumi.Output.from_input(args.network_interface_vpc_arn)
        # Network interfaces, subnets and security groups of the VPC only (ec2:Vpc).
        in_vpc = vpc_arn.apply(lambda arn: arn.rsplit(":", 1)[0])
        out.append(
            tls_allow(
                "ManageNetworkInterfacesInTheVpc",
                [
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ],
                [
                    pulumi.Output.concat(in_vpc, ":network-interface/*"),
                    pulumi.Output.concat(in_vpc, ":subnet/*"),
                    pulumi.Output.concat(in_vpc, ":security-group/*"),
                ],
                {"test": "ArnEquals", "variable": "ec2:Vpc", "values": [vpc_arn]},
            )
        )
        out.append(
            unscoped_statement(
                "DescribeNetworkForVpcMode",
                [
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                ],
            )
        )
    if args.lambda_vpc is not None:
        out.extend(_lambda_vpc_statements(args.lambda_vpc, ctx))
    return out


def _lambda_vpc_statements(access: LambdaVpcAccess, ctx: AwsContext) -> list[Statement]:
    """Lambda's network interface calls, as narrow as EC2 authorizes them.

    CreateNetworkInterface is authorized against the new interface, its subnet and its
    security groups: the last two are the project's own. The interface's id is not known
    before it exists, so interfaces are named by account and region (Lambda's guide asks
    for all interface ids there for DeleteNetworkInterface). No EC2 condition key
    (``ec2:Vpc``...) narrows them further: Lambda checks the role before creating the
    function, and such conditions fail that check (METR/inspect-action#138).
    """
    interfaces = ctx.arn("ec2", "network-interface/*")
    return [
        tls_allow(
            "LambdaCreatesInterfacesInProjectSubnets",
            ["ec2:CreateNetworkInterface"],
            [interfaces, *access.subnet_arns, *access.security_group_arns],
        ),
        tls_allow(
            "LambdaManagesItsInterfaces",
            [
                "ec2:AssignPrivateIpAddresses",
                "ec2:DeleteNetworkInterface",
                "ec2:UnassignPrivateIpAddresses",
            ],
            [interfaces],
        ),
        unscoped_statement(
            "LambdaDescribesInterfaces", ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
        ),
    ]
