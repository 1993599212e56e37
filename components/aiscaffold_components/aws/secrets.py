"""Secrets: Secrets Manager secrets readable by the workload, through the VPC only.

Rotation (SEC-03) is done where the project can: given a rotation function
(``rotation_lambda_arn``), Secrets Manager rotates each secret every ``rotation_days``
(``SecretRotation``). Without one nothing changes a value on its own, so each secret
gets a reminder instead: an EventBridge Scheduler schedule publishing "rotate <secret>"
to the project's alert topic (:class:`~aiscaffold_components.aws.AlertChannel`) every
``rotation_days``. A reminder is not rotation, and the policies say so (AWS-SECRETS-004
reports such a secret "reminder only", never as rotating).
"""

from __future__ import annotations

import json
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
    """Rotation period: of the rotation function's schedule, or else of the reminders
    (also recorded as the ``rotation-days`` tag, which no policy takes as proof)."""
    rotation_lambda_arn: pulumi.Input[str] | None = None
    """A rotation function to schedule (Secrets Manager must be allowed to invoke it, and
    its role to use the secrets key: ``KeysArgs.secret_rotator_arns``). Without one,
    rotate by hand when the reminder comes (see the README)."""
    reminder_topic_arn: pulumi.Input[str] | None = None
    """Without a rotation function: the alert topic the rotation reminders go to
    (``AlertChannel.topic_arn``). Neither this nor a function: no rotation and no
    reminder, which AWS-SECRETS-004 reports."""
    reminder_role_arn: pulumi.Input[str] | None = None
    """The role the reminder schedules publish as (``AlertChannel.scheduler_role_arn``)."""
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
        if (args.reminder_topic_arn is None) != (args.reminder_role_arn is None):
            raise ValueError("reminder_topic_arn and reminder_role_arn go together")
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
            elif args.reminder_topic_arn is not None and args.reminder_role_arn is not None:
                _reminder(f"{name}-{label}-reminder", full, args, child)
            self.secrets[secret_name] = secret
            self.secret_arns[secret_name] = secret.arn
        self.register_outputs({"secret_arns": self.secret_arns})


def _reminder(
    resource_name: str, secret_name: str, args: SecretsArgs, opts: pulumi.ResourceOptions
) -> aws.scheduler.Schedule:
    """A schedule telling the alert topic, every rotation period, to rotate the secret.

    EventBridge Scheduler writes ``rate(1 day)`` in the singular, as EventBridge does
    (``ValidationException: Invalid Schedule Expression`` otherwise).
    """
    assert args.reminder_topic_arn is not None
    assert args.reminder_role_arn is not None
    unit = "day" if args.rotation_days == 1 else "days"
    message = {
        "reminder": "rotate secret",
        "secret": secret_name,
        "rotation_days": args.rotation_days,
        "how": "aws secretsmanager put-secret-value --secret-id <secret> --secret-string ...",
    }
    return aws.scheduler.Schedule(
        resource_name,
        description=f"Rotate {secret_name} every {args.rotation_days} days (aiscaffold)",
        schedule_expression=f"rate({args.rotation_days} {unit})",
        flexible_time_window={"mode": "OFF"},
        state="ENABLED",
        target={
            "arn": args.reminder_topic_arn,
            "role_arn": args.reminder_role_arn,
            "input": json.dumps(message),
        },
        opts=opts,
    )


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
