"""Secrets Manager: secrets under the secrets key, readable by the workload through the VPC only."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import (
    REMINDER_ONLY,
    NotApplicable,
    Requirements,
    Resource,
    resource_policy,
    stack_policy,
)
from ._schedule import UnboundedSchedule, longest_interval_days
from ._util import (
    actions,
    conditions,
    document,
    is_public_principal,
    of_type,
    statements,
    tail_name,
)

SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 - a type token
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"  # noqa: S105 - a type token
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
SCHEDULE = "aws:scheduler/schedule:Schedule"
TOPIC = "aws:sns/topic:Topic"

_READ = {"secretsmanager:getsecretvalue", "secretsmanager:*", "*"}


@resource_policy(
    id="AWS-SECRETS-001",
    title="Secrets encrypted with the project's secrets key",
    severity="high",
    types=[SECRET],
    controls=["SEC-01", "KEY-01"],
    remediation="Set kms_key_id to the project's secrets key (Secrets does).",
)
def secret_encrypted(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Secret values are encrypted with the project's secrets key, not the AWS-managed
    ``aws/secretsmanager`` key, so the key policy decides who can decrypt them."""
    key = resource.get("kmsKeyId")
    if not key or str(key).endswith("alias/aws/secretsmanager"):
        yield f"{resource.name} is encrypted with the AWS-managed key"


def _reads(st: Mapping[str, Any]) -> bool:
    return bool({a.lower() for a in actions(st)} & _READ)


def _denies(doc: Mapping[str, Any] | None, operator: str, key: str) -> list[Mapping[str, Any]]:
    return [
        st
        for st in statements(doc, "Deny")
        if is_public_principal(st) and _reads(st) and key in conditions(st).get(operator, {})
    ]


@resource_policy(
    id="AWS-SECRETS-002",
    title="Only the workload may read the secret",
    severity="high",
    types=[SECRET_POLICY],
    controls=["SEC-02"],
    remediation="Deny secretsmanager:GetSecretValue to every principal but the workload role "
    "(ArnNotEquals aws:PrincipalArn), grant nothing publicly, keep block_public_policy=True "
    "(Secrets does).",
)
def readers_only(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The secret's policy denies reading the value to every principal but the named
    readers, grants nothing to the public, and Secrets Manager refuses a public policy."""
    doc = document(resource, "policy")
    if doc is None:
        yield f"{resource.name} has no policy: any principal IAM allows can read the secret"
        return
    if resource.get("blockPublicPolicy") is not True:
        yield f"{resource.name} does not block public secret policies"
    if not _denies(doc, "ArnNotEquals", "aws:principalarn") and not _denies(
        doc, "StringNotEquals", "aws:principalarn"
    ):
        yield f"{resource.name} does not deny reads to principals other than the workload"
    for index, st in enumerate(statements(doc, "Allow")):
        if is_public_principal(st):
            yield f"{resource.name} statement {st.get('Sid') or f'#{index}'} grants access to anyone"


@resource_policy(
    id="AWS-SECRETS-003",
    title="Secrets are read through the project's VPC endpoint only",
    severity="high",
    types=[SECRET_POLICY],
    controls=["PE-03"],
    remediation="Deny secretsmanager:GetSecretValue unless aws:SourceVpce is the project's "
    "Secrets Manager endpoint, with no principal exempted (Secrets does unless "
    "readers_outside_vpc is given).",
)
def endpoint_only(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Reading the value is denied outside the project's Secrets Manager endpoint, to every
    principal (an extra condition on the deny exempts those it names)."""
    doc = document(resource, "policy")
    denies = [
        *_denies(doc, "StringNotEquals", "aws:sourcevpce"),
        *_denies(doc, "StringNotEquals", "aws:sourcevpc"),
    ]
    if not denies:
        yield f"{resource.name} lets the secret be read from outside the VPC"
        return
    for st in denies:
        extra = [
            key
            for block in conditions(st).values()
            for key in block
            if key not in ("aws:sourcevpce", "aws:sourcevpc")
        ]
        if extra:
            yield f"{resource.name} exempts principals from the endpoint-only rule ({', '.join(extra)})"


def _rotation_findings(rotation: Resource, required: int) -> list[str]:
    """What is wrong with a SecretRotation's schedule: ``automaticallyAfterDays``, or the
    longest gap between two runs of a ``rate()`` or ``cron()`` ``scheduleExpression``."""
    days = rotation.get("rotationRules", "automaticallyAfterDays")
    expression = rotation.get("rotationRules", "scheduleExpression")
    if expression:
        try:
            longest = longest_interval_days(str(expression))
        except UnboundedSchedule as exc:
            return [f"{rotation.name} rotates on a schedule with no bound ({exc})"]
        out = []
        if longest > required:
            out.append(
                f"{rotation.name} may go {longest:g} days between rotations "
                f"({expression}); the profile asks for {required}"
            )
        if days is not None and days > required:
            out.append(
                f"{rotation.name} rotates every {days} days; the profile asks for {required}"
            )
        return out
    if days is None or days > required:
        return [f"{rotation.name} rotates every {days} days; the profile asks for {required}"]
    return []


def _reminded_secret(schedule: Resource) -> str | None:
    """The secret a rotation reminder names (the ``secret`` of its target's JSON input)."""
    raw = schedule.get("target", "input")
    try:
        message = json.loads(str(raw)) if raw else None
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("reminder") != "rotate secret":
        return None
    secret = message.get("secret")
    return secret if isinstance(secret, str) else None


def _reminder_findings(schedule: Resource, required: int) -> list[str]:
    """What keeps a reminder from reaching the alert topic every rotation period."""
    out = []
    if schedule.get("state", default="ENABLED") != "ENABLED":
        out.append(f"{schedule.name} is disabled: the reminder never comes")
    if ":sns:" not in str(schedule.get("target", "arn", default="")):
        out.append(f"{schedule.name} does not publish to an SNS topic (the alert channel)")
    expression = str(schedule.get("scheduleExpression", default=""))
    try:
        longest = longest_interval_days(expression)
    except UnboundedSchedule as exc:
        out.append(f"{schedule.name} reminds on a schedule with no bound ({exc})")
    else:
        if longest > required:
            out.append(
                f"{schedule.name} may go {longest:g} days between reminders "
                f"({expression}); the profile asks for {required}"
            )
    return out


@stack_policy(
    id="AWS-SECRETS-004",
    title="Secrets rotate within the profile's period",
    severity="medium",
    controls=["SEC-03"],
    remediation="Give the stack a rotation function (stack config secret_rotation_lambda_arn, "
    "passed to SecretsArgs.rotation_lambda_arn): each secret then gets a SecretRotation at "
    "most secret_rotation_days apart. Until then, keep the reminders (SecretsArgs."
    "reminder_topic_arn): rotation by hand is reported 'reminder only', never as rotating.",
)
def rotation(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A leaked value stops working: every secret has a ``SecretRotation`` (a rotation
    function Secrets Manager runs) at most ``secret_rotation_days`` apart, judged by
    ``automaticallyAfterDays`` or the longest gap between two runs of its ``rate()`` or
    ``cron()`` expression (an expression with no bound is flagged). A secret with
    neither rotation nor reminder is a violation. A secret without a rotation function
    but with an enabled EventBridge Scheduler reminder to an SNS topic, at most the
    period apart, is not judged ("reminder only": nothing rotates the value, so the
    policy cannot pass); a broken reminder is a violation. Tags are not evidence."""
    required = int(requirements.setting("secret_rotation_days"))
    secrets = of_type(resources, SECRET)
    rotations = of_type(resources, ROTATION)
    if not secrets and not rotations:
        raise NotApplicable("the stack has no Secrets Manager secrets")
    found: list[tuple[Resource | None, str]] = []
    for item in rotations:
        found += [(item, message) for message in _rotation_findings(item, required)]
    rotated = [item.get("secretId") for item in rotations]
    reminders = [
        (schedule, _reminded_secret(schedule)) for schedule in of_type(resources, SCHEDULE)
    ]
    reminder_only: list[str] = []
    for secret in secrets:
        if any(_secret_refers(ref, secret) for ref in rotated):
            continue
        name = secret.get("name")
        mine = [schedule for schedule, named in reminders if named is not None and named == name]
        if not mine:
            found.append(
                (secret, f"{secret.name} neither rotates (no SecretRotation) nor has a reminder")
            )
            continue
        problems = [_reminder_findings(schedule, required) for schedule in mine]
        if all(problems):  # no reminder of this secret works
            found += [
                (schedule, m) for schedule, ms in zip(mine, problems, strict=True) for m in ms
            ]
        else:
            reminder_only.append(secret.name)
    if found:
        yield from found
        return
    if reminder_only:
        raise NotApplicable(
            f"{REMINDER_ONLY}: {', '.join(reminder_only)} have no rotation function "
            f"(stack config secret_rotation_lambda_arn); a reminder every {required} days or "
            "sooner goes to the alert topic, and nothing rotates the values"
        )


@resource_policy(
    id="AWS-SECRETS-005",
    title="Deleted secrets can be recovered",
    severity="low",
    types=[SECRET],
    controls=["GOV-04"],
    remediation="Keep recovery_window_in_days at 7 to 30 (Secrets uses 30); 0 deletes at once.",
)
def recovery_window(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A deleted secret can be restored during its recovery window (30 days unless set);
    0 deletes it at once."""
    if resource.get("recoveryWindowInDays", default=30) == 0:
        yield f"{resource.name} is deleted without a recovery window"


def _secret_refers(reference: Any, secret: Resource) -> bool:
    if not isinstance(reference, str) or not reference:
        return False
    identity = [v for v in (secret.get("arn"), secret.get("id")) if isinstance(v, str) and v]
    if identity:
        return reference in identity
    name = secret.get("name")
    # Secrets Manager appends a hyphen and six random characters to the name in the ARN.
    tail = tail_name(reference)
    if isinstance(name, str) and name:
        return tail == name or (tail.startswith(name + "-") and len(tail) == len(name) + 7)
    prefix = secret.get("namePrefix")
    return isinstance(prefix, str) and bool(prefix) and tail.startswith(prefix)


@stack_policy(
    id="AWS-SECRETS-006",
    title="Every secret has a resource policy",
    severity="high",
    controls=["SEC-02"],
    remediation="Create secrets with the Secrets component, or add an "
    "aws.secretsmanager.SecretPolicy denying reads to all but the workload.",
)
def secrets_have_policies(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Every secret of the stack has a resource policy (its content is checked by
    AWS-SECRETS-002 and -003): without one, any principal IAM allows reads it."""
    policies = [p.get("secretArn") for p in of_type(resources, SECRET_POLICY)]
    for secret in of_type(resources, SECRET):
        if not any(_secret_refers(ref, secret) for ref in policies):
            yield secret, f"{secret.name} has no resource policy"


@resource_policy(
    id="AWS-SNS-001",
    title="Alert topics are encrypted with a customer-managed key",
    severity="medium",
    types=[TOPIC],
    controls=["KEY-01"],
    remediation="Set kms_master_key_id to a customer-managed key whose policy lets the "
    "publishers use it (AlertChannel does).",
)
def topic_encrypted(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Messages (alerts, rotation reminders naming the project's secrets) are stored
    encrypted with a key the project controls, not unencrypted nor with the AWS-managed
    ``alias/aws/sns`` key, whose policy no one can restrict."""
    key = resource.get("kmsMasterKeyId")
    if not key:
        yield f"{resource.name} stores its messages unencrypted"
    elif str(key).endswith("alias/aws/sns"):
        yield f"{resource.name} is encrypted with the AWS-managed key alias/aws/sns"
