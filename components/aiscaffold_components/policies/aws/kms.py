"""KMS: customer-managed keys rotate, survive mistakes and grant use to named principals only."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .._core import Addition, NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import (
    actions,
    document,
    has_condition,
    is_public_principal,
    of_type,
    principals,
    statements,
    strings,
)

KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"

#: What KMS assumes when an input is absent (pulumi-aws documents the same defaults).
DEFAULT_ROTATION_DAYS = 365
DEFAULT_DELETION_WINDOW_DAYS = 30

#: Actions that use a key's material (or hand it on through a grant), as opposed to
#: administering the key.
_USE_PREFIXES = (
    "kms:decrypt",
    "kms:encrypt",
    "kms:reencrypt",
    "kms:generatedatakey",
    "kms:generatemac",
    "kms:verifymac",
    "kms:sign",
    "kms:verify",
    "kms:deriveshared",
    "kms:creategrant",
)
#: Conditions that narrow who uses a key granted to an account principal: the calling
#: role, the service the call must come through, or grants for AWS resources only.
_NARROWING = ("aws:PrincipalArn", "kms:ViaService", "kms:GrantIsForAWSResource")
#: Conditions that bind a service principal to this account or its resources.
_SERVICE_SCOPE = (
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOrgID",
    "kms:CallerAccount",
    "kms:ViaService",
    "kms:EncryptionContext:*",
)


#: Wildcard actions a service's own key-policy guide prescribes, accepted for that
#: service principal alone: CloudTrail's grants "kms:GenerateDataKey*" to encrypt log
#: files (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html).
_DOCUMENTED_WILDCARDS: dict[str, frozenset[str]] = {
    "cloudtrail.amazonaws.com": frozenset({"kms:generatedatakey*"}),
}


def _documented_wildcards(found: dict[str, list[str]]) -> frozenset[str]:
    """The wildcards a statement may carry: only when its principals are all services
    whose guides prescribe them."""
    if set(found) != {"Service"}:
        return frozenset()
    allowed = [_DOCUMENTED_WILDCARDS.get(service, frozenset()) for service in found["Service"]]
    return frozenset.intersection(*allowed) if allowed else frozenset()


def _symmetric(resource: Resource) -> None:
    spec = resource.get("customerMasterKeySpec", default="SYMMETRIC_DEFAULT")
    if spec != "SYMMETRIC_DEFAULT":
        raise NotApplicable(f"{spec} keys cannot rotate automatically")
    if resource.get("customKeyStoreId"):
        raise NotApplicable("keys in a custom key store cannot rotate automatically")


@resource_policy(
    id="AWS-KMS-001",
    title="KMS keys rotate automatically",
    severity="high",
    types=[KEY],
    controls=["KEY-02"],
    remediation="Set enable_key_rotation=True on the key (the Keys component always does).",
)
def rotation_enabled(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Symmetric customer-managed keys have automatic rotation on, so a key's material
    changes at the profile's period without re-encrypting data."""
    _symmetric(resource)
    if resource.get("enableKeyRotation") is not True:
        yield f"{resource.name} does not rotate its key material automatically"


@resource_policy(
    id="AWS-KMS-002",
    title="Key rotation period within the profile's",
    severity="medium",
    types=[KEY],
    controls=["KEY-02"],
    remediation="Set rotation_period_in_days (Keys: rotation_period_days) to at most the "
    "stack's key_rotation_days.",
)
def rotation_period(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The rotation period (KMS's default 365 days when unset) is no longer than the
    profile's ``key_rotation_days``."""
    _symmetric(resource)
    if resource.get("enableKeyRotation") is not True:
        raise NotApplicable("rotation is off (AWS-KMS-001)")
    period = resource.get("rotationPeriodInDays", default=DEFAULT_ROTATION_DAYS)
    required = requirements.setting("key_rotation_days")
    if period > required:
        yield f"{resource.name} rotates every {period:g} days; the profile asks for {required}"


@resource_policy(
    id="AWS-KMS-003",
    title="Key deletion waits the profile's window",
    severity="medium",
    types=[KEY],
    controls=["KEY-03"],
    remediation="Set deletion_window_in_days to at least the stack's key_deletion_window_days "
    "(30, the longest KMS allows).",
)
def deletion_window(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A scheduled key deletion waits at least ``key_deletion_window_days`` (KMS's default
    30 when unset), time to notice and cancel it."""
    window = resource.get("deletionWindowInDays", default=DEFAULT_DELETION_WINDOW_DAYS)
    required = requirements.setting("key_deletion_window_days")
    if window < required:
        yield f"{resource.name} can be deleted {window:g} days after scheduling; the profile asks for {required}"


def _key_policy_findings(name: str, doc: dict[str, object] | None) -> Iterator[str]:
    if doc is None:
        yield (
            f"{name} has no key policy: KMS's default lets any principal of the account that "
            "IAM allows use the key"
        )
        return
    for index, st in enumerate(statements(doc, "Allow")):
        sid = st.get("Sid") or f"#{index}"
        granted = [a.lower() for a in actions(st)]
        found = principals(st)
        documented = _documented_wildcards(found)
        if any("*" in a and a not in documented for a in granted):
            yield f"{name} statement {sid} grants wildcard actions: list them"
        if is_public_principal(st) and not has_condition(
            st, "kms:CallerAccount", "aws:PrincipalAccount"
        ):
            yield f"{name} statement {sid} grants the key to any principal of any account"
            continue
        uses = [a for a in granted if a.startswith(_USE_PREFIXES) or a in ("*", "kms:*")]
        if uses and found.get("AWS") and not has_condition(st, *_NARROWING):
            yield (
                f"{name} statement {sid} lets every principal of the account use the key: "
                "name the roles (aws:PrincipalArn) or the service (kms:ViaService)"
            )
        if "kms:creategrant" in granted and not has_condition(
            st, "kms:GrantIsForAWSResource", "aws:PrincipalArn"
        ):
            yield f"{name} statement {sid} allows grants for any grantee: require kms:GrantIsForAWSResource"
        if found.get("Service") and not has_condition(st, *_SERVICE_SCOPE):
            yield (
                f"{name} statement {sid} grants a service without binding it to this account "
                "(aws:SourceAccount, aws:SourceArn or an encryption context)"
            )


@resource_policy(
    id="AWS-KMS-004",
    title="Key policies grant use to named principals only",
    severity="high",
    types=[KEY],
    controls=["KEY-04"],
    remediation="Give the key an explicit policy (the Keys component builds one): the account "
    "administers, named roles use the key through aws:PrincipalArn and kms:ViaService, services "
    "only for this account; list actions, never kms:*.",
)
def key_policy(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The key policy exists and keeps cryptographic use to named roles, services bound to
    the account, and grants for AWS resources; no wildcard actions or public principals."""
    yield from _key_policy_findings(resource.name, document(resource, "policy"))


@resource_policy(
    id="AWS-KMS-005",
    title="Key policy lockout safety check kept",
    severity="medium",
    types=[KEY],
    controls=["KEY-04"],
    remediation="Remove bypass_policy_lockout_safety_check=True.",
)
def lockout_check(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """KMS's safety check refuses a key policy that locks the account out of the key; it is
    not bypassed."""
    if resource.get("bypassPolicyLockoutSafetyCheck") is True:
        yield f"{resource.name} bypasses the key policy lockout safety check"


@resource_policy(
    id="AWS-KMS-006",
    title="Keys stay in their region",
    severity="medium",
    types=[KEY],
    controls=["KEY-04", "GOV-02"],
    remediation="Set multi_region=False (the default): create a separate key in each region.",
)
def single_region(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A multi-Region key can be replicated, with its material, into other regions,
    outside the residency the answers allow and the key policy reviewed here."""
    if resource.get("multiRegion") is True:
        yield f"{resource.name} is a multi-Region key: its material can be replicated to other regions"


def _key_identity(key: Resource) -> list[str]:
    return [
        v for v in (key.get("arn"), key.get("keyId"), key.get("id")) if isinstance(v, str) and v
    ]


@stack_policy(
    id="AWS-KMS-007",
    title="Every KMS key is used",
    severity="low",
    controls=["KEY-01"],
    remediation="Use the key (encryption of a bucket, log group, secret, trail...) or delete "
    "it: an unused key costs money and widens what must be reviewed.",
    live_when=[
        Addition(
            "aws:kms/key:Key",
            "a key nothing uses",
            name="liveness-orphan-key",
            inputs={"description": "orphan", "enableKeyRotation": True, "deletionWindowInDays": 30},
        )
    ],
)
def keys_used(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Every key is used by another resource of the stack: one depends on it (reads its
    ARN or id: the engine records the dependency under ``pulumi preview``, and the
    offline run alike), or on an alias of it, or names the alias (an export such as an
    awskms:// secrets provider URL); where the view carries the keys' ARNs or ids
    (resource outputs, as under ``pulumi up``), naming them counts too."""
    keys = of_type(resources, KEY)
    if not keys:
        raise NotApplicable("the stack creates no KMS key")
    known = {key.urn: _key_identity(key) for key in keys}
    # An alias names a key, it does not use it; what names or depends on the alias does.
    users = [r for r in resources if r.type not in (KEY, ALIAS)]
    texts = [text for resource in users for text in strings(resource.props)]
    depended = {urn for resource in users for urn in resource.dependencies}
    referenced = {
        urn
        for urn, ids in known.items()
        if urn in depended or any(i in text for text in texts for i in ids)
    }
    for alias in of_type(resources, ALIAS):
        name, target = alias.get("name"), alias.get("targetKeyId")
        named = isinstance(name, str) and bool(name) and any(name in text for text in texts)
        if not (named or alias.urn in depended):
            continue
        referenced |= {
            urn
            for urn, ids in known.items()
            if urn in alias.dependencies
            or (isinstance(target, str) and bool(target) and any(i in target for i in ids))
        }
    for key in keys:
        if key.urn not in referenced:
            yield key, f"{key.name} is not used by any resource of the stack"
