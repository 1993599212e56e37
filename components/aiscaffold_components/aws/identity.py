"""WorkloadIdentity: the workload's IAM role, scoped to the project's own resources."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ._common import Condition, Statement, aws_context, policy_json, require_tls, same_account

__all__ = [
    "BEDROCK_INVOKE_ACTIONS",
    "CROSS_REGION_PREFIXES",
    "UNSCOPED_ACTIONS",
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
    "ec2:DescribeNetworkInterfaces": "EC2 Describe calls support no resource-level permissions",
    "ec2:DescribeVpcs": "EC2 Describe calls support no resource-level permissions",
    "ec2:DescribeSubnets": "EC2 Describe calls support no resource-level permissions",
    "ec2:DescribeSecurityGroups": "EC2 Describe calls support no resource-level permissions",
    "ec2:DescribeDhcpOptions": "EC2 Describe calls support no resource-level permissions",
    "sagemaker:ListApps": "SageMaker AI List calls support no resource-level permissions",
    "sagemaker:ListSpaces": "SageMaker AI List calls support no resource-level permissions",
}

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
    log_group_arns: Sequence[pulumi.Input[str]] = ()
    """Log groups (ARN patterns) the workload may create and write to."""
    ecr_repository_arns: Sequence[pulumi.Input[str]] = ()
    """ECR repositories (ARN patterns) the workload may pull images from."""
    network_interface_vpc_arn: pulumi.Input[str] | None = None
    """A VPC in which the workload's jobs may create and delete network interfaces
    (SageMaker AI jobs and apps in VPC mode)."""
    max_session_duration: int = 3600
    """Longest session, in seconds, a service may hold the role's credentials."""
    permissions_boundary_arn: pulumi.Input[str] | None = None
    """A permissions boundary your organisation requires on roles, if any."""


class WorkloadIdentity(pulumi.ComponentResource):
    """The workload's role: trusted by the named services only, granted only what it uses."""

    role: aws.iam.Role
    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

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
        statements = _statements(args, ctx.region, ctx.dns_suffix)
        if statements:
            aws.iam.RolePolicy(
                f"{name}-policy",
                role=self.role.id,
                policy=policy_json(statements, parent=self),
                opts=child,
            )
        self.role_arn = self.role.arn
        self.role_name = self.role.name
        self.register_outputs({"role_arn": self.role_arn, "role_name": self.role_name})


def _allow(
    sid: str, actions: Sequence[str], resources: Sequence[pulumi.Input[str]], *conditions: Condition
) -> Statement:
    return {
        "sid": sid,
        "effect": "Allow",
        "actions": list(actions),
        "resources": list(resources),
        "conditions": [require_tls(), *conditions],
    }


def _statements(
    args: WorkloadIdentityArgs, region: pulumi.Output[str], dns_suffix: pulumi.Output[str]
) -> list[Statement]:
    out: list[Statement] = []
    if args.model_arns and args.guardrail_arn is not None and args.guardrail_version is not None:
        pinned = pulumi.Output.concat(args.guardrail_arn, ":", args.guardrail_version)
        out.append(
            _allow(
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
            _allow("InvokeUnguardedModels", BEDROCK_INVOKE_ACTIONS, args.unguarded_model_arns)
        )
    if args.guardrail_arn is not None:
        out.append(_allow("ApplyTheGuardrail", ["bedrock:ApplyGuardrail"], [args.guardrail_arn]))
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
            _allow(
                "UseProjectKeysThroughServices",
                ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                args.kms_key_arns,
                via,
            )
        )
    if args.secret_arns:
        out.append(
            _allow(
                "ReadProjectSecrets",
                ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                args.secret_arns,
            )
        )
    if args.bucket_arns:
        out.append(
            _allow(
                "ListProjectBuckets", ["s3:GetBucketLocation", "s3:ListBucket"], args.bucket_arns
            )
        )
        out.append(
            _allow(
                "ReadWriteProjectObjects",
                ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                [pulumi.Output.concat(arn, "/*") for arn in args.bucket_arns],
            )
        )
    if args.sagemaker_endpoint_arns:
        out.append(
            _allow(
                "InvokeProjectEndpoints",
                ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
                args.sagemaker_endpoint_arns,
            )
        )
    if args.log_group_arns:
        out.append(
            _allow(
                "WriteProjectLogs",
                ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                [
                    *args.log_group_arns,
                    *(pulumi.Output.concat(arn, ":log-stream:*") for arn in args.log_group_arns),
                ],
            )
        )
    if args.ecr_repository_arns:
        out.append(
            _allow(
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
            _allow(
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
    return out
