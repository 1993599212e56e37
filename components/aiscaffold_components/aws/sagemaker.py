"""SageMakerWorkspace: a SageMaker AI Studio domain reachable only inside the VPC.

Why a domain and not a notebook instance: SageMaker AI directs new work to Studio
(JupyterLab and Code Editor spaces in a domain); notebook instances are the older,
single-user option that receives no new IDE features. A domain also gives what this
project needs in one place: ``VpcOnly`` network access (all traffic, the EFS home
volume included, stays in the project's private subnets, with no SageMaker-managed
internet path), a customer-managed key on the home volume and spaces, one execution
role, IAM authentication, and the user profile name recorded as the source identity of
every call.

Root access: a notebook instance has a switch for it (``RootAccess``); a domain has
none. Its apps run in containers on instances that SageMaker AI manages and users never
reach. What the domain does control is Docker access inside spaces (running one's own
containers, as root among others), and this component disables it. Whatever a user runs
in an app is bounded by the execution role, the VPC-only network and the endpoints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ._common import Statement, aws_context, policy_json, require_tls
from .identity import unscoped_statement

__all__ = ["SageMakerWorkspace", "SageMakerWorkspaceArgs"]


@dataclass(frozen=True)
class SageMakerWorkspaceArgs:
    """Arguments of :class:`SageMakerWorkspace`.

    Always on: IAM authentication, KMS encryption of the home volume and spaces,
    Docker access disabled, notebook output never shared, the user profile name as
    ``sts:SourceIdentity``, home volumes retained when the domain is deleted.
    """

    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets for the apps and the home volume's mount targets."""
    security_group_ids: Sequence[pulumi.Input[str]]
    """Security groups of the apps besides the domain's own (the workload group)."""
    kms_key_arn: pulumi.Input[str]
    execution_role_arn: pulumi.Input[str]
    """The workload role, which the apps run as."""
    execution_role_name: pulumi.Input[str]
    tags: Mapping[str, str]
    domain_name: str
    public_internet_access: bool = False
    """Weakening: ``True`` sets ``PublicInternetOnly``: SageMaker gives the apps its own
    internet access, bypassing the VPC, its endpoints and flow logs."""
    default_volume_gb: int = 5
    """Default size of a space's storage volume."""
    max_volume_gb: int = 100
    """Largest storage volume a user may give a space."""


class SageMakerWorkspace(pulumi.ComponentResource):
    """A Studio domain in VpcOnly mode, with the Studio permissions its role needs."""

    domain: aws.sagemaker.Domain
    domain_id: pulumi.Output[str]
    domain_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    home_efs_file_system_id: pulumi.Output[str]
    """The EFS home volume SageMaker AI creates for the domain. It is retained when the
    domain is deleted (``retention_policy`` Retain, AWS-SAGE-008), with its mount targets
    and SageMaker-created security groups in the subnets: ``pulumi destroy`` and any
    subnet or VPC replacement then fail with DependencyViolation until they are removed
    (the generated project's ``scripts/sagemaker-cleanup.sh``; AWS-DEPLOY-003)."""

    def __init__(
        self, name: str, args: SageMakerWorkspaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not args.subnet_ids:
            raise ValueError("subnet_ids must name the private subnets")
        super().__init__("aiscaffold:aws:SageMakerWorkspace", name, None, opts)
        ctx = aws_context(self)
        child = pulumi.ResourceOptions(parent=self)

        # Studio apps talk to each other and to the home volume (NFS) inside the group.
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="SageMaker Studio apps: NFS and app traffic among themselves",
            revoke_rules_on_delete=True,
            tags={**args.tags, "Name": f"{name}-sg"},
            opts=child,
        )
        for label, low, high in (("nfs", 2049, 2049), ("apps", 8192, 65535)):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-{label}-in",
                security_group_id=group.id,
                description=f"Studio {label} traffic from the group itself",
                ip_protocol="tcp",
                from_port=low,
                to_port=high,
                referenced_security_group_id=group.id,
                tags={**args.tags, "Name": f"{name}-{label}-in"},
                opts=child,
            )
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{label}-out",
                security_group_id=group.id,
                description=f"Studio {label} traffic to the group itself",
                ip_protocol="tcp",
                from_port=low,
                to_port=high,
                referenced_security_group_id=group.id,
                tags={**args.tags, "Name": f"{name}-{label}-out"},
                opts=child,
            )
        self.security_group_id = group.id
        app_groups = [*args.security_group_ids, group.id]

        self.domain = aws.sagemaker.Domain(
            f"{name}-domain",
            domain_name=args.domain_name,
            auth_mode="IAM",
            app_network_access_type=(
                "PublicInternetOnly" if args.public_internet_access else "VpcOnly"
            ),
            vpc_id=args.vpc_id,
            subnet_ids=list(args.subnet_ids),
            kms_key_id=args.kms_key_arn,
            domain_settings={
                "security_group_ids": [group.id],
                "execution_role_identity_config": "USER_PROFILE_NAME",
                "docker_settings": {"enable_docker_access": "DISABLED"},
            },
            default_user_settings={
                "execution_role": args.execution_role_arn,
                "security_groups": app_groups,
                "studio_web_portal": "ENABLED",
                "default_landing_uri": "studio::",
                "sharing_settings": {"notebook_output_option": "Disabled"},
                "space_storage_settings": {
                    "default_ebs_storage_settings": {
                        "default_ebs_volume_size_in_gb": args.default_volume_gb,
                        "maximum_ebs_volume_size_in_gb": args.max_volume_gb,
                    }
                },
            },
            default_space_settings={
                "execution_role": args.execution_role_arn,
                "security_groups": app_groups,
            },
            retention_policy={"home_efs_file_system": "Retain"},
            tag_propagation="ENABLED",
            tags=dict(args.tags),
            opts=child,
        )
        self.domain_id = self.domain.id
        self.domain_arn = self.domain.arn
        self.home_efs_file_system_id = self.domain.home_efs_file_system_id

        def scoped(resource: str) -> pulumi.Output[str]:
            return pulumi.Output.concat(
                "arn:",
                ctx.partition,
                ":sagemaker:",
                ctx.region,
                ":",
                ctx.account_id,
                ":",
                resource,
                "/",
                self.domain_id,
            )

        apps = pulumi.Output.concat(scoped("app"), "/*")
        spaces = pulumi.Output.concat(scoped("space"), "/*")
        profiles = pulumi.Output.concat(scoped("user-profile"), "/*")
        statements: list[Statement] = [
            {
                "sid": "StudioAppsAndSpacesOfThisDomain",
                "effect": "Allow",
                "actions": [
                    "sagemaker:AddTags",
                    "sagemaker:CreateApp",
                    "sagemaker:CreateSpace",
                    "sagemaker:DeleteApp",
                    "sagemaker:DeleteSpace",
                    "sagemaker:DescribeApp",
                    "sagemaker:DescribeSpace",
                    "sagemaker:UpdateSpace",
                ],
                "resources": [apps, spaces],
                "conditions": [require_tls()],
            },
            {
                "sid": "DescribeThisDomainAndItsProfiles",
                "effect": "Allow",
                "actions": ["sagemaker:DescribeDomain", "sagemaker:DescribeUserProfile"],
                "resources": [self.domain_arn, profiles],
                "conditions": [require_tls()],
            },
            unscoped_statement("ListStudioApps", ["sagemaker:ListApps", "sagemaker:ListSpaces"]),
            {
                "sid": "PassTheRoleToSageMakerOnly",
                "effect": "Allow",
                "actions": ["iam:PassRole"],
                "resources": [args.execution_role_arn],
                "conditions": [
                    require_tls(),
                    {
                        "test": "StringEquals",
                        "variable": "iam:PassedToService",
                        "values": ["sagemaker.amazonaws.com"],
                    },
                ],
            },
        ]
        aws.iam.RolePolicy(
            f"{name}-studio-policy",
            role=args.execution_role_name,
            policy=policy_json(statements, parent=self),
            opts=child,
        )
        self.register_outputs(
            {"domain_id": self.domain_id, "security_group_id": self.security_group_id}
        )
