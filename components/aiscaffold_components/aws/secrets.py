"""Secrets: Secrets Manager secrets readable by the workload, through the VPC only."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ._common import Condition, Statement, policy_json

__all__ = ["Secrets", "SecretsArgs"]

_SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,256}")


@dataclass(frozen=True)
class SecretsArgs:
    """Arguments of :class:`Secrets`.

    Each secret is encrypted with the secrets key, kept 30 days after deletion (longest
    recovery window) and guarded by a resource policy that denies reading its value to
    every principal but the readers, and to them too unless the request comes through
    the project's Secrets Manager endpoint. The policy is checked to grant no public
    access (``block_public_policy``).

    Values are not managed here: set them with ``aws secretsmanager put-secret-value``
    or by a rotation function. (The provider reads a value back after writing it, which
    the policy denies outside the VPC.)
    """

    names: Sequence[str]
    """Secret names; each is created as ``<prefix>/<name>``."""
    prefix: str
    """Name prefix, e.g. ``<project>/<stack>``."""
    kms_key_arn: pulumi.Input[str]
    """The secrets key."""
    reader_role_arns: Sequence[pulumi.Input[str]]
    """The only roles that may read values (the workload role)."""
    vpc_endpoint_ids: Sequence[pulumi.Input[str]]
    """The Secrets Manager interface endpoint(s) reads must come through."""
    tags: Mapping[str, str]
    rotation_days: int = 90
    """Rotation period; applied when ``rotation_lambda_arn`` is given, and recorded as
    the ``rotation-days`` tag either way."""
    rotation_lambda_arn: pulumi.Input[str] | None = None
    """A rotation function to schedule. Without one, rotate by hand (see the README)."""
    readers_outside_vpc: Sequence[pulumi.Input[str]] = ()
    """Weakening: principals that may read values without going through the endpoint
    (a break-glass or deployment role). They are added to the readers."""


class Secrets(pulumi.ComponentResource):
    """The project's Secrets Manager secrets."""

    secrets: dict[str, aws.secretsmanager.Secret]
    secret_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not args.reader_role_arns:
            raise ValueError("reader_role_arns must name the roles that read the secrets")
        if not args.vpc_endpoint_ids:
            raise ValueError("vpc_endpoint_ids must name the Secrets Manager endpoint")
        if not 1 <= args.rotation_days <= 1000:
            raise ValueError(f"rotation_days must be between 1 and 1000, not {args.rotation_days}")
        for secret_name in args.names:
            if not _SECRET_NAME.fullmatch(f"{args.prefix}/{secret_name}"):
                raise ValueError(f"invalid secret name {args.prefix}/{secret_name!r}")
        super().__init__("aiscaffold:aws:Secrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.secrets = {}
        self.secret_arns = {}
        for secret_name in args.names:
            full = f"{args.prefix}/{secret_name}"
            label = re.sub(r"[^a-z0-9-]", "-", secret_name.lower())
            secret = aws.secretsmanager.Secret(
                f"{name}-{label}",
                name=full,
                description=f"{secret_name} ({args.prefix}, aiscaffold)",
                kms_key_id=args.kms_key_arn,
                recovery_window_in_days=30,
                tags={**args.tags, "rotation-days": str(args.rotation_days)},
                opts=child,
            )
            aws.secretsmanager.SecretPolicy(
                f"{name}-{label}-policy",
                secret_arn=secret.arn,
                policy=policy_json(_policy(args), parent=self),
                block_public_policy=True,
                opts=child,
            )
            if args.rotation_lambda_arn is not None:
                aws.secretsmanager.SecretRotation(
                    f"{name}-{label}-rotation",
                    secret_id=secret.id,
                    rotation_lambda_arn=args.rotation_lambda_arn,
                    rotation_rules={"automatically_after_days": args.rotation_days},
                    opts=child,
                )
            self.secrets[secret_name] = secret
            self.secret_arns[secret_name] = secret.arn
        self.register_outputs({"secret_arns": self.secret_arns})


def _policy(args: SecretsArgs) -> list[Statement]:
    # In a secret's resource policy, Resource "*" means "this secret".
    readers = [*args.reader_role_arns, *args.readers_outside_vpc]
    outside_vpc: list[Condition] = [
        {
            "test": "StringNotEquals",
            "variable": "aws:SourceVpce",
            "values": list(args.vpc_endpoint_ids),
        },
    ]
    if args.readers_outside_vpc:
        outside_vpc.append(
            {
                "test": "ArnNotEquals",
                "variable": "aws:PrincipalArn",
                "values": list(args.readers_outside_vpc),
            }
        )
    return [
        {
            "sid": "DenyReadsByOtherPrincipals",
            "effect": "Deny",
            "principals": [{"type": "*", "identifiers": ["*"]}],
            "actions": ["secretsmanager:GetSecretValue"],
            "resources": ["*"],
            "conditions": [
                {"test": "ArnNotEquals", "variable": "aws:PrincipalArn", "values": readers}
            ],
        },
        {
            "sid": "DenyReadsOutsideTheVpcEndpoint",
            "effect": "Deny",
            "principals": [{"type": "*", "identifiers": ["*"]}],
            "actions": ["secretsmanager:GetSecretValue"],
            "resources": ["*"],
            "conditions": outside_vpc,
        },
    ]
