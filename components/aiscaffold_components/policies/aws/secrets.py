"""Secrets Manager: secrets under the secrets key, readable by the workload through the VPC only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import Requirements, Resource, resource_policy, stack_policy
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
ROTATION_TAG = "rotation-days"

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


@resource_policy(
    id="AWS-SECRETS-004",
    title="Secrets rotate within the profile's period",
    severity="medium",
    types=[SECRET, ROTATION],
    controls=["SEC-03"],
    remediation="Schedule rotation (SecretRotation automatically_after_days, or a rate() or "
    "cron() schedule_expression whose runs are never further apart) and record the period "
    "in the rotation-days tag, at most the stack's secret_rotation_days.",
)
def rotation(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Each secret carries its rotation period (the ``rotation-days`` tag, the schedule
    the team follows or a rotation function applies), and rotation schedules are no
    longer than ``secret_rotation_days``: ``automaticallyAfterDays``, or the longest gap
    between two runs of a ``rate()`` or ``cron()`` ``scheduleExpression``. An expression
    that cannot be bounded (unreadable, or bounded by a year field) is flagged."""
    required = requirements.setting("secret_rotation_days")
    if resource.type == ROTATION:
        days = resource.get("rotationRules", "automaticallyAfterDays")
        expression = resource.get("rotationRules", "scheduleExpression")
        if expression:
            try:
                longest = longest_interval_days(str(expression))
            except UnboundedSchedule as exc:
                yield f"{resource.name} rotates on a schedule with no bound ({exc})"
                return
            if longest > required:
                yield (
                    f"{resource.name} may go {longest:g} days between rotations "
                    f"({expression}); the profile asks for {required}"
                )
            if days is None:
                return
        if days is None or days > required:
            yield f"{resource.name} rotates every {days} days; the profile asks for {required}"
        return
    tag = (resource.get("tags") or {}).get(ROTATION_TAG)
    try:
        days = float(str(tag))
    except (TypeError, ValueError):
        yield f"{resource.name} has no rotation period (tag {ROTATION_TAG})"
        return
    if days > required:
        yield f"{resource.name} rotates every {days:g} days; the profile asks for {required}"


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
