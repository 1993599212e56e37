"""PrivateEndpoints: interface endpoints with private DNS, and an S3 gateway endpoint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from ._common import AwsContext, Statement, aws_context, policy_json

__all__ = [
    "ECR_ENDPOINT_SERVICES",
    "ENDPOINT_ACTIONS",
    "ENDPOINT_ACTIONS_WITH",
    "ENDPOINT_SERVICES",
    "S3_GATEWAY_ACTIONS",
    "IdentityActions",
    "PrivateEndpoints",
    "PrivateEndpointsArgs",
    "ScopedBucket",
    "ecr_layer_bucket_arn",
]

#: Interface endpoints each AI service needs, so its workload reaches every API it calls
#: without a route out of the VPC: the model APIs, then identity, logs, keys, secrets.
ENDPOINT_SERVICES: Mapping[str, tuple[str, ...]] = {
    "bedrock": (
        "bedrock",
        "bedrock-runtime",
        "bedrock-agent-runtime",
        "sts",
        "logs",
        "kms",
        "secretsmanager",
    ),
    "sagemaker": (
        "sagemaker.api",
        "sagemaker.runtime",
        "sagemaker.studio",
        "ecr.api",
        "ecr.dkr",
        "sts",
        "logs",
        "kms",
        "secretsmanager",
    ),
}

#: Interface endpoints a container runtime needs to pull private images from ECR in a
#: VPC with no route out (ECS on Fargate; SageMaker AI has them in its list): ecr.api
#: for the registry login, ecr.dkr for the registry itself. The image layers come from
#: ECR's AWS-owned bucket (:func:`ecr_layer_bucket_arn`) through the S3 gateway.
#: Lambda pulls function code and images itself, outside the VPC: it needs none.
ECR_ENDPOINT_SERVICES: tuple[str, ...] = ("ecr.api", "ecr.dkr")

#: What principals of the account may call through each interface endpoint: the actions
#: the workload's role is granted through that API (WorkloadIdentity), and no others.
#: ``None`` admits the service's API as a whole, for the one API where a list would
#: break the product (see the comment there). IAM still decides who may do what; the
#: endpoint policy bounds what any credential, the workload's included, can do from
#: inside the VPC. ``PrivateEndpointsArgs.extra_endpoint_actions`` adds actions.
ENDPOINT_ACTIONS: Mapping[str, tuple[str, ...] | None] = {
    "bedrock-runtime": (
        "bedrock:ApplyGuardrail",
        "bedrock:InvokeModel",  # also authorizes Converse
        "bedrock:InvokeModelWithResponseStream",  # also authorizes ConverseStream
    ),
    # The workload's role grants nothing on the Bedrock control plane: the endpoint
    # serves read-only lookups of models, inference profiles and guardrails.
    "bedrock": (
        "bedrock:GetFoundationModel",
        "bedrock:GetGuardrail",
        "bedrock:GetInferenceProfile",
        "bedrock:ListFoundationModels",
        "bedrock:ListGuardrails",
        "bedrock:ListInferenceProfiles",
    ),
    # Knowledge-base and agent calls (data plane only); the role grants them only when
    # you add the knowledge base or agent to it.
    "bedrock-agent-runtime": (
        "bedrock:InvokeAgent",
        "bedrock:InvokeFlow",
        "bedrock:Retrieve",
        "bedrock:RetrieveAndGenerate",
    ),
    # Studio's web apps and the SageMaker Python SDK call dozens of control-plane
    # actions (apps, spaces, jobs, experiments, pipelines, model registry...) whose set
    # grows with every Studio release; a list would break Studio without warning. The
    # execution role's IAM policy bounds them instead, and the endpoint still refuses
    # credentials of any other account.
    "sagemaker.api": None,
    "sagemaker.runtime": (
        "sagemaker:InvokeEndpoint",
        "sagemaker:InvokeEndpointWithResponseStream",
    ),
    # Image pulls only (ECS on Fargate, Studio's custom images); pushing from inside the
    # VPC needs the upload actions added.
    "ecr.api": (
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetAuthorizationToken",
        "ecr:GetDownloadUrlForLayer",
    ),
    "ecr.dkr": (
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetAuthorizationToken",
        "ecr:GetDownloadUrlForLayer",
    ),
    # SDKs ask who they are; nothing in the VPC needs to assume another role.
    "sts": ("sts:GetCallerIdentity",),
    # Writing to existing groups: the project creates its groups, encrypted with the
    # logs key (SageMaker AI's own: ENDPOINT_ACTIONS_WITH).
    "logs": ("logs:CreateLogStream", "logs:PutLogEvents"),
    # The workload uses the keys through S3, Secrets Manager and Bedrock (kms:ViaService),
    # whose calls do not cross the endpoint; these are for direct use inside the VPC.
    "kms": ("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"),
    # Reading, plus what a rotation function in the private subnets calls (README).
    "secretsmanager": (
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetRandomPassword",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
    ),
}

#: Actions an interface endpoint admits only when the endpoints serve another service as
#: well, because that service calls them as the workload's role from inside the VPC:
#: ``{service whose endpoint is created: {endpoint service: actions}}``. SageMaker AI
#: (the sagemaker.api endpoint) creates its ``/aws/sagemaker/*`` log groups as the
#: execution role (WorkloadIdentity creates_log_groups); no other workload creates log
#: groups, so elsewhere the logs endpoint refuses CreateLogGroup.
ENDPOINT_ACTIONS_WITH: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "sagemaker.api": {"logs": ("logs:CreateLogGroup",)},
}

#: What the S3 gateway endpoint lets principals of the account do on the project's
#: buckets: object reads and writes, listing, multipart uploads. Nothing else.
S3_GATEWAY_ACTIONS: tuple[str, ...] = (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
)

# IAM prefix of each endpoint's API, for its endpoint policy; None: the endpoint takes
# no policy (the Studio web UI endpoint is not an AWS API endpoint).
_IAM_PREFIX: Mapping[str, str | None] = {
    "bedrock": "bedrock",
    "bedrock-runtime": "bedrock",
    "bedrock-agent-runtime": "bedrock",
    "sagemaker.api": "sagemaker",
    "sagemaker.runtime": "sagemaker",
    "sagemaker.studio": None,
    "ecr.api": "ecr",
    "ecr.dkr": "ecr",
    "sts": "sts",
    "logs": "logs",
    "kms": "kms",
    "secretsmanager": "secretsmanager",
}


def ecr_layer_bucket_arn(
    *, partition: pulumi.Input[str], region: pulumi.Input[str]
) -> pulumi.Output[str]:
    """The AWS-owned bucket ECR serves image layers from in ``region``.

    A pull through the ecr.dkr endpoint downloads each layer from this bucket, so the S3
    gateway endpoint must let it be read (``PrivateEndpointsArgs.aws_owned_bucket_arns``).
    """
    return pulumi.Output.concat("arn:", partition, ":s3:::prod-", region, "-starport-layer-bucket")


@dataclass(frozen=True)
class IdentityActions:
    """Actions an interface endpoint admits for the named identities only (IAM-05,
    NET-07): a training identity's job calls, which no other principal may make from
    inside the VPC."""

    service: str
    """The interface endpoint service (``bedrock``)."""
    actions: Sequence[str]
    principal_arns: Sequence[pulumi.Input[str]]


@dataclass(frozen=True)
class ScopedBucket:
    """A bucket the S3 gateway endpoint reaches for the named identities only (NET-07:
    the raw data for data processing, the model artifacts for training)."""

    bucket_arn: pulumi.Input[str]
    principal_arns: Sequence[pulumi.Input[str]]
    """The roles that use this bucket from inside the VPC (``aws:PrincipalArn``)."""


@dataclass(frozen=True)
class PrivateEndpointsArgs:
    """Arguments of :class:`PrivateEndpoints`.

    Always on: private DNS on every interface endpoint (service names resolve to the
    endpoints inside the VPC), an endpoint security group admitting HTTPS from the VPC
    only, endpoint policies admitting principals of the project's account only, an S3
    gateway endpoint that reaches the project's buckets only.
    """

    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    """The VPC's range: the only source the endpoints admit (TCP 443)."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets to place an endpoint interface in (one per zone)."""
    route_table_ids: Sequence[pulumi.Input[str]]
    """Route tables of the private subnets, for the S3 gateway endpoint's routes."""
    services: Sequence[str]
    """Interface endpoint services (see ``ENDPOINT_SERVICES``)."""
    bucket_arns: Sequence[pulumi.Input[str]]
    """The project's buckets: the only ones the S3 gateway endpoint reaches."""
    tags: Mapping[str, str]
    aws_owned_bucket_arns: Sequence[pulumi.Input[str]] = ()
    """AWS-owned buckets that AWS services read on the workload's behalf through the
    gateway (ECR serves image layers from one); objects may only be read there."""
    client_security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups of clients: each gets an HTTPS egress rule to S3's prefix list."""
    identity_actions: Sequence[IdentityActions] = ()
    """Per interface endpoint, actions admitted for named identities only (besides
    ``ENDPOINT_ACTIONS``, which any principal of the account may call through it)."""
    scoped_buckets: Sequence[ScopedBucket] = ()
    """Buckets of one workload type, which the S3 gateway endpoint admits only for their
    identities (in addition to ``bucket_arns``, which any principal of the account may
    reach through it)."""
    extra_endpoint_actions: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Weakening: actions, by interface endpoint service, admitted besides
    ``ENDPOINT_ACTIONS`` (say ``{"ecr.api": ["ecr:PutImage", ...]}`` to push images)."""


class PrivateEndpoints(pulumi.ComponentResource):
    """VPC endpoints, so the workload reaches AWS APIs without a route to the internet."""

    security_group_id: pulumi.Output[str]
    endpoint_ids: dict[str, pulumi.Output[str]]
    """Interface endpoint ids by service, plus ``s3`` for the gateway endpoint."""
    s3_prefix_list_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: PrivateEndpointsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        unknown = sorted(set(args.services) - set(_IAM_PREFIX))
        if unknown:
            raise ValueError(f"no endpoint definition for {', '.join(unknown)}")
        for service, extra in args.extra_endpoint_actions.items():
            prefix = _IAM_PREFIX.get(service) if service in args.services else None
            if prefix is None:
                raise ValueError(f"extra_endpoint_actions: no endpoint policy for {service}")
            wrong = [a for a in extra if not a.startswith(f"{prefix}:") or "*" in a]
            if wrong:
                raise ValueError(
                    f"extra_endpoint_actions for {service} must be {prefix}: actions "
                    f"without wildcards, not {', '.join(wrong)}"
                )
        if not args.subnet_ids or not args.bucket_arns:
            raise ValueError("subnet_ids and bucket_arns must not be empty")
        super().__init__("aiscaffold:aws:PrivateEndpoints", name, None, opts)
        ctx = aws_context(self)
        child = pulumi.ResourceOptions(parent=self)

        def tags(resource: str) -> dict[str, str]:
            return {**args.tags, "Name": f"{name}-{resource}"}

        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="Interface endpoints: HTTPS from the VPC only",
            revoke_rules_on_delete=True,
            tags=tags("sg"),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-https-from-vpc",
            security_group_id=group.id,
            description="HTTPS from the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=args.vpc_cidr,
            tags=tags("https-from-vpc"),
            opts=child,
        )
        self.security_group_id = group.id
        self.endpoint_ids = {}
        for service in args.services:
            prefix = _IAM_PREFIX[service]
            label = service.replace(".", "-")
            endpoint = aws.ec2.VpcEndpoint(
                f"{name}-{label}",
                vpc_id=args.vpc_id,
                service_name=_service_name(ctx, service),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=list(args.subnet_ids),
                security_group_ids=[group.id],
                ip_address_type="ipv4",
                policy=(
                    None
                    if prefix is None
                    else self._account_only(
                        ctx,
                        prefix,
                        _actions(service, args),
                        [i for i in args.identity_actions if i.service == service],
                    )
                ),
                tags=tags(label),
                opts=child,
            )
            self.endpoint_ids[service] = endpoint.id

        gateway = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=args.vpc_id,
            service_name=ctx.service_name("s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=list(args.route_table_ids),
            policy=self._s3_policy(ctx, args),
            tags=tags("s3"),
            opts=child,
        )
        self.endpoint_ids["s3"] = gateway.id
        self.s3_prefix_list_id = gateway.prefix_list_id
        for index, client in enumerate(args.client_security_group_ids):
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-client-{index}-https-to-s3",
                security_group_id=client,
                description="HTTPS to S3 through the gateway endpoint",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                prefix_list_id=gateway.prefix_list_id,
                tags=tags(f"client-{index}-https-to-s3"),
                opts=child,
            )
        self.register_outputs(
            {"security_group_id": self.security_group_id, "endpoint_ids": self.endpoint_ids}
        )

    def _account_only(
        self,
        ctx: AwsContext,
        prefix: str,
        actions: Sequence[str] | None,
        identities: Sequence[IdentityActions] = (),
    ) -> pulumi.Output[str]:
        # The endpoint keeps other accounts' credentials out (a stolen or foreign
        # identity cannot use the VPC's private path) and bounds what any credential can
        # call from inside the VPC to what the workload uses. Resource "*": which of the
        # account's resources a principal may touch is the business of its IAM policy,
        # and the resources (models, secrets, keys...) differ by action.
        statement: Statement = {
            "sid": "PrincipalsOfThisAccountOnly",
            "effect": "Allow",
            "principals": [{"type": "*", "identifiers": ["*"]}],
            "actions": [f"{prefix}:*"] if actions is None else list(actions),
            "resources": ["*"],
            "conditions": [
                {
                    "test": "StringEquals",
                    "variable": "aws:PrincipalAccount",
                    "values": [ctx.account_id],
                }
            ],
        }
        statements = [statement]
        for index, identity in enumerate(identities):
            wrong = [a for a in identity.actions if not a.startswith(f"{prefix}:") or "*" in a]
            if wrong or not identity.principal_arns:
                raise ValueError(
                    f"identity_actions for {identity.service}: {prefix}: actions without "
                    f"wildcards and at least one identity, not {', '.join(wrong) or 'none'}"
                )
            statements.append(
                {
                    "sid": f"Identity{index}Only",
                    "effect": "Allow",
                    "principals": [{"type": "*", "identifiers": ["*"]}],
                    "actions": list(identity.actions),
                    "resources": ["*"],
                    "conditions": [
                        {
                            "test": "StringEquals",
                            "variable": "aws:PrincipalAccount",
                            "values": [ctx.account_id],
                        },
                        {
                            "test": "ArnEquals",
                            "variable": "aws:PrincipalArn",
                            "values": list(identity.principal_arns),
                        },
                    ],
                }
            )
        return policy_json(statements, parent=self)

    def _s3_policy(self, ctx: AwsContext, args: PrivateEndpointsArgs) -> pulumi.Output[str]:
        buckets = list(args.bucket_arns)
        objects = [pulumi.Output.concat(arn, "/*") for arn in buckets]
        statements: list[Statement] = [
            {
                "sid": "ProjectBucketsOnly",
                "effect": "Allow",
                "principals": [{"type": "*", "identifiers": ["*"]}],
                "actions": list(S3_GATEWAY_ACTIONS),
                "resources": [*buckets, *objects],
                "conditions": [
                    {
                        "test": "StringEquals",
                        "variable": "aws:PrincipalAccount",
                        "values": [ctx.account_id],
                    }
                ],
            }
        ]
        for index, scoped in enumerate(args.scoped_buckets):
            if not scoped.principal_arns:
                raise ValueError("scoped_buckets: name the identities that use the bucket")
            statements.append(
                {
                    "sid": f"WorkloadBucket{index}ForItsIdentities",
                    "effect": "Allow",
                    "principals": [{"type": "*", "identifiers": ["*"]}],
                    "actions": list(S3_GATEWAY_ACTIONS),
                    "resources": [
                        scoped.bucket_arn,
                        pulumi.Output.concat(scoped.bucket_arn, "/*"),
                    ],
                    "conditions": [
                        {
                            "test": "StringEquals",
                            "variable": "aws:PrincipalAccount",
                            "values": [ctx.account_id],
                        },
                        {
                            "test": "ArnEquals",
                            "variable": "aws:PrincipalArn",
                            "values": list(scoped.principal_arns),
                        },
                    ],
                }
            )
        if args.aws_owned_bucket_arns:
            statements.append(
                {
                    "sid": "ReadAwsOwnedServiceBuckets",
                    "effect": "Allow",
                    "principals": [{"type": "*", "identifiers": ["*"]}],
                    "actions": ["s3:GetObject"],
                    "resources": [
                        pulumi.Output.concat(arn, "/*") for arn in args.aws_owned_bucket_arns
                    ],
                }
            )
        return policy_json(statements, parent=self)


def _actions(service: str, args: PrivateEndpointsArgs) -> list[str] | None:
    """The actions the endpoint of ``service`` admits (None: the whole API)."""
    base = ENDPOINT_ACTIONS[service]
    if base is None:
        return None
    served = (
        action
        for other, added in ENDPOINT_ACTIONS_WITH.items()
        if other in args.services
        for action in added.get(service, ())
    )
    return sorted({*base, *served, *args.extra_endpoint_actions.get(service, ())})


def _service_name(ctx: AwsContext, service: str) -> pulumi.Output[str]:
    return endpoint_service_name(ctx, service)


def endpoint_service_name(ctx: AwsContext, service: str) -> pulumi.Output[str]:
    """The VPC endpoint service name of ``service`` (a name of ``ENDPOINT_SERVICES``)."""
    if service == "sagemaker.studio":
        # The Studio web UI endpoint lives under its own naming scheme.
        return pulumi.Output.concat("aws.sagemaker.", ctx.region, ".studio")
    return ctx.service_name(service)
