"""Training and data-processing identities (IAM-05): one role per workload type, disjoint.

The inference workload keeps :class:`~.identity.WorkloadIdentity`'s role. The roles here
exist only when the project chose the workload type, and each is granted only its own
job, so no identity can do another's:

- ``TrainingIdentity``: reads curated data, writes model artifacts, and starts the AI
  service's own training jobs, passing them only its job role. It invokes no model.
- ``DataProcessingIdentity``: reads raw data and writes curated data. It touches no
  model artifact and invokes no model.

Training on Bedrock is a model customization job (CreateModelCustomizationJob): Bedrock
assumes a service role trusted by ``bedrock.amazonaws.com`` under ``aws:SourceAccount``
and ``aws:SourceArn`` (model-customization-job), reads the training data and writes the
output to S3 as that role, and attaches to the VPC given in the job's ``vpcConfig``
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-iam-role.html,
https://docs.aws.amazon.com/bedrock/latest/userguide/vpc-model-customization.html). The
caller needs ``iam:PassRole`` on that role (``iam:PassedToService``). Bedrock has no
condition key requiring a job's VPC configuration: the job role may create network
interfaces only in the training subnets with the training security group, which is the
narrowest the platform allows.

Training on SageMaker AI is a training job (CreateTrainingJob). Its condition keys let the
training identity's policy require the project's settings on every job it starts:
``sagemaker:VpcSubnets``, ``sagemaker:VpcSecurityGroupIds``,
``sagemaker:NetworkIsolation``, ``sagemaker:InterContainerTrafficEncryption``,
``sagemaker:VolumeKmsKey`` and ``sagemaker:OutputKmsKey``
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html,
https://docs.aws.amazon.com/sagemaker/latest/dg/security_iam_id-based-policy-examples.html).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from ._common import (
    AwsContext,
    Condition,
    Statement,
    aws_context,
    policy_json,
    same_account,
    service_trust,
    tls_allow,
)
from .identity import unscoped_statement

__all__ = [
    "BEDROCK_TRAINING_ACTIONS",
    "SAGEMAKER_TRAINING_ACTIONS",
    "DataProcessingIdentity",
    "DataProcessingIdentityArgs",
    "TrainingIdentity",
    "TrainingIdentityArgs",
]

#: What the training identity calls on Bedrock: start, watch and stop its customization
#: jobs (the job and the resulting custom model are its resources).
BEDROCK_TRAINING_ACTIONS: tuple[str, ...] = (
    "bedrock:CreateModelCustomizationJob",
    "bedrock:GetModelCustomizationJob",
    "bedrock:StopModelCustomizationJob",
)
#: What the training identity calls on SageMaker AI: start, watch and stop its jobs.
SAGEMAKER_TRAINING_ACTIONS: tuple[str, ...] = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:StopTrainingJob",
)
_READ = ("s3:GetObject",)
_WRITE = ("s3:AbortMultipartUpload", "s3:PutObject")
_LIST = ("s3:GetBucketLocation", "s3:ListBucket")


def _objects(arns: Sequence[pulumi.Input[str]]) -> list[pulumi.Output[str]]:
    return [pulumi.Output.concat(arn, "/*") for arn in arns]


def _kms(
    key_arn: pulumi.Input[str],
    services: Sequence[str],
    region: pulumi.Input[str],
    suffix: pulumi.Input[str],
) -> Statement:
    return tls_allow(
        "UseTheDataKeyThroughServices",
        ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
        [key_arn],
        {
            "test": "StringEquals",
            "variable": "kms:ViaService",
            "values": [pulumi.Output.concat(s, ".", region, ".", suffix) for s in services],
        },
    )


#: Where SageMaker AI training jobs write their logs and metrics.
SAGEMAKER_TRAINING_LOGS = "log-group:/aws/sagemaker/TrainingJobs"
SAGEMAKER_TRAINING_METRICS = "/aws/sagemaker/TrainingJobs"


def _sagemaker_job_statements(
    ctx: AwsContext, ecr_repository_arns: Sequence[pulumi.Input[str]]
) -> list[Statement]:
    """What a training job's execution role needs besides data and network: its logs,
    its metrics and its image ("CreateTrainingJob API: Execution Role Permissions",
    https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html). Without the
    logs the job fails to start its log stream; the group is SageMaker AI's own (it
    creates it as the job role on the first job), so it carries no project key."""
    group = ctx.arn("logs", SAGEMAKER_TRAINING_LOGS)
    statements: list[Statement] = [
        tls_allow(
            "TrainingJobLogs",
            [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
            ],
            [group, pulumi.Output.concat(group, ":log-stream:*")],
        ),
        # PutMetricData authorizes against no resource; the namespace condition keeps
        # the jobs to their own metrics.
        unscoped_statement(
            "TrainingJobMetrics",
            ["cloudwatch:PutMetricData"],
            [
                {
                    "test": "StringEquals",
                    "variable": "cloudwatch:namespace",
                    "values": [SAGEMAKER_TRAINING_METRICS],
                }
            ],
        ),
    ]
    if ecr_repository_arns:
        statements += [
            unscoped_statement("RegistryLogin", ["ecr:GetAuthorizationToken"]),
            tls_allow(
                "PullTrainingImages",
                [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                ecr_repository_arns,
            ),
        ]
    return statements


@dataclass(frozen=True)
class TrainingIdentityArgs:
    """Arguments of :class:`TrainingIdentity`."""

    role_name: str
    """The training identity's name; the job role is ``<role_name>-job``."""
    ai_service: Literal["bedrock", "sagemaker"]
    """Whose training jobs the identity runs (model customization or training jobs)."""
    trusted_services: Sequence[str]
    """Services that run the team's training pipeline as this identity
    (``ecs-tasks.amazonaws.com``, ``lambda.amazonaws.com``...)."""
    curated_bucket_arn: pulumi.Input[str]
    """The curated data: read only."""
    artifact_bucket_arn: pulumi.Input[str]
    """The model artifacts: the jobs' only output."""
    data_key_arn: pulumi.Input[str]
    """The project's data key: encrypts the buckets, the job volumes and the custom model."""
    subnet_arns: Sequence[pulumi.Input[str]]
    """The training segment's subnets: the jobs' only network placement."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """The same subnets' ids (SageMaker AI's ``sagemaker:VpcSubnets`` condition)."""
    security_group_arn: pulumi.Input[str]
    """The training segment's security group."""
    security_group_id: pulumi.Input[str]
    """Its id (``sagemaker:VpcSecurityGroupIds``)."""
    tags: Mapping[str, str]
    base_model_arns: Sequence[pulumi.Input[str]] = ()
    """Bedrock: the foundation models the jobs may customize."""
    job_name_prefix: str = ""
    """Jobs (and custom models) are named ``<job_name_prefix>*``: the only ones the
    identity may start and stop. Empty: the role name."""
    ecr_repository_arns: Sequence[pulumi.Input[str]] = ()
    """SageMaker AI: the repositories holding the team's training images (pulled by the
    job role); SageMaker AI's own algorithm images need none."""
    max_session_duration: int = 3600


class TrainingIdentity(pulumi.ComponentResource):
    """The training identity and the role its jobs run as (IAM-05)."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    job_role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: TrainingIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not args.trusted_services:
            raise ValueError(
                "trusted_services must name the services that run the training pipeline"
            )
        if not args.subnet_arns or len(args.subnet_arns) != len(args.subnet_ids):
            raise ValueError("subnet_arns and subnet_ids must name the same training subnets")
        if args.ai_service == "bedrock" and not args.base_model_arns:
            raise ValueError("base_model_arns must name the models the jobs may customize")
        super().__init__("aiscaffold:aws:TrainingIdentity", name, None, opts)
        ctx = aws_context(self)
        child = pulumi.ResourceOptions(parent=self)
        jobs = args.job_name_prefix or args.role_name
        service = f"{args.ai_service}.amazonaws.com"
        job_resource = (
            f"model-customization-job/{jobs}*"
            if args.ai_service == "bedrock"
            else f"training-job/{jobs}*"
        )
        tags = {**args.tags, "workload": "training"}

        # Bedrock's guide names the job in aws:SourceArn; SageMaker AI's execution-role
        # guide asks for the account only.
        job_conditions: list[Condition] = [same_account(ctx.account_id)]
        if args.ai_service == "bedrock":
            job_conditions.append(
                {
                    "test": "ArnLike",
                    "variable": "aws:SourceArn",
                    "values": [ctx.arn("bedrock", job_resource)],
                }
            )
        job_role = aws.iam.Role(
            f"{name}-job-role",
            name=f"{args.role_name}-job",
            description="Training jobs (aiscaffold): read curated data, write model artifacts",
            assume_role_policy=policy_json(
                [
                    service_trust("TrainingJobsOfThisAccount", service, *job_conditions),
                ],
                parent=self,
            ),
            max_session_duration=args.max_session_duration,
            force_detach_policies=True,
            tags=tags,
            opts=child,
        )
        vpc_prefix = pulumi.Output.from_input(args.security_group_arn).apply(
            lambda arn: arn.rsplit(":", 1)[0]
        )
        job_statements: list[Statement] = [
            tls_allow(
                "ListTrainingBuckets", _LIST, [args.curated_bucket_arn, args.artifact_bucket_arn]
            ),
            tls_allow("ReadCuratedData", _READ, _objects([args.curated_bucket_arn])),
            tls_allow(
                "WriteModelArtifacts", [*_READ, *_WRITE], _objects([args.artifact_bucket_arn])
            ),
            _kms(args.data_key_arn, ["s3", args.ai_service], ctx.region, ctx.dns_suffix),
            # The job's network interfaces: in the training subnets, with the training
            # security group, nowhere else.
            tls_allow(
                "JobInterfacesInTheTrainingSegment",
                [
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ],
                [
                    pulumi.Output.concat(vpc_prefix, ":network-interface/*"),
                    *args.subnet_arns,
                    args.security_group_arn,
                ],
            ),
            unscoped_statement(
                "DescribeNetworkForVpcJobs",
                [
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                ],
            ),
        ]
        if args.ai_service == "sagemaker":
            job_statements += _sagemaker_job_statements(ctx, args.ecr_repository_arns)
        aws.iam.RolePolicy(
            f"{name}-job-policy",
            role=job_role.id,
            policy=policy_json(job_statements, parent=self),
            opts=child,
        )

        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description="Training identity (aiscaffold): starts training jobs, invokes no model",
            assume_role_policy=policy_json(
                [
                    service_trust(
                        "TrainingPipelineOfThisAccount",
                        args.trusted_services,
                        same_account(ctx.account_id),
                    )
                ],
                parent=self,
            ),
            max_session_duration=args.max_session_duration,
            force_detach_policies=True,
            tags=tags,
            opts=child,
        )
        jobs_arn = ctx.arn(args.ai_service, job_resource)
        statements: list[Statement] = [
            tls_allow(
                "ListTrainingBuckets", _LIST, [args.curated_bucket_arn, args.artifact_bucket_arn]
            ),
            tls_allow("ReadCuratedData", _READ, _objects([args.curated_bucket_arn])),
            tls_allow(
                "WriteModelArtifacts", [*_READ, *_WRITE], _objects([args.artifact_bucket_arn])
            ),
            _kms(args.data_key_arn, ["s3", args.ai_service], ctx.region, ctx.dns_suffix),
            tls_allow(
                "PassOnlyTheJobRole",
                ["iam:PassRole"],
                [job_role.arn],
                {"test": "StringEquals", "variable": "iam:PassedToService", "values": [service]},
            ),
        ]
        if args.ai_service == "bedrock":
            statements.append(
                tls_allow(
                    "RunModelCustomizationJobs",
                    BEDROCK_TRAINING_ACTIONS,
                    [
                        jobs_arn,
                        ctx.arn("bedrock", f"custom-model/{jobs}*"),
                        *args.base_model_arns,
                    ],
                )
            )
        else:
            key = pulumi.Output.from_input(args.data_key_arn)
            statements.append(
                tls_allow(
                    "StartTrainingJobsWithTheProjectSettings",
                    ["sagemaker:CreateTrainingJob"],
                    [jobs_arn],
                    {
                        "test": "ForAllValues:StringEquals",
                        "variable": "sagemaker:VpcSubnets",
                        "values": list(args.subnet_ids),
                    },
                    {
                        "test": "ForAllValues:StringEquals",
                        "variable": "sagemaker:VpcSecurityGroupIds",
                        "values": [args.security_group_id],
                    },
                    # ForAllValues holds for an absent key too: require the keys present.
                    {"test": "Null", "variable": "sagemaker:VpcSubnets", "values": ["false"]},
                    {"test": "Bool", "variable": "sagemaker:NetworkIsolation", "values": ["true"]},
                    {
                        "test": "Bool",
                        "variable": "sagemaker:InterContainerTrafficEncryption",
                        "values": ["true"],
                    },
                    {"test": "StringEquals", "variable": "sagemaker:VolumeKmsKey", "values": [key]},
                    {"test": "StringEquals", "variable": "sagemaker:OutputKmsKey", "values": [key]},
                )
            )
            statements.append(
                tls_allow(
                    "WatchAndStopTrainingJobs",
                    ["sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"],
                    [jobs_arn],
                )
            )
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=policy_json(statements, parent=self),
            opts=child,
        )
        self.role_arn = self.role.arn
        self.role_name = self.role.name
        self.job_role_arn = job_role.arn
        self.register_outputs(
            {
                "role_arn": self.role_arn,
                "role_name": self.role_name,
                "job_role_arn": self.job_role_arn,
            }
        )


@dataclass(frozen=True)
class DataProcessingIdentityArgs:
    """Arguments of :class:`DataProcessingIdentity`."""

    role_name: str
    trusted_services: Sequence[str]
    """The team's batch compute: ``ecs-tasks.amazonaws.com`` (ECS tasks on Fargate) and/or
    ``lambda.amazonaws.com``."""
    raw_bucket_arn: pulumi.Input[str]
    """The raw data: read only."""
    curated_bucket_arn: pulumi.Input[str]
    """The curated data: written (and read back) here."""
    data_key_arn: pulumi.Input[str]
    tags: Mapping[str, str]
    max_session_duration: int = 3600


class DataProcessingIdentity(pulumi.ComponentResource):
    """The data-processing identity: raw in, curated out, nothing else (IAM-05)."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: DataProcessingIdentityArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if not args.trusted_services:
            raise ValueError("trusted_services must name the batch compute that processes data")
        super().__init__("aiscaffold:aws:DataProcessingIdentity", name, None, opts)
        ctx = aws_context(self)
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description="Data processing (aiscaffold): reads raw data, writes curated data",
            assume_role_policy=policy_json(
                [
                    service_trust(
                        "BatchComputeOfThisAccount",
                        args.trusted_services,
                        same_account(ctx.account_id),
                    )
                ],
                parent=self,
            ),
            max_session_duration=args.max_session_duration,
            force_detach_policies=True,
            tags={**args.tags, "workload": "data-processing"},
            opts=child,
        )
        statements: list[Statement] = [
            tls_allow("ListDataBuckets", _LIST, [args.raw_bucket_arn, args.curated_bucket_arn]),
            tls_allow("ReadRawData", _READ, _objects([args.raw_bucket_arn])),
            tls_allow("WriteCuratedData", [*_READ, *_WRITE], _objects([args.curated_bucket_arn])),
            _kms(args.data_key_arn, ["s3"], ctx.region, ctx.dns_suffix),
        ]
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=policy_json(statements, parent=self),
            opts=child,
        )
        self.role_arn = self.role.arn
        self.role_name = self.role.name
        self.register_outputs({"role_arn": self.role_arn, "role_name": self.role_name})
