"""S3: buckets are never public, encrypted with project keys, versioned, TLS-only, logged.

The bucket's settings live in separate resources (pulumi-aws 7 deprecates the inline
inputs); resource policies check each one, stack policies check that every bucket has
them and what log buckets need (object lock, retention).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import (
    actions,
    as_list,
    bucket_refers_to,
    conditions,
    document,
    has_condition,
    is_public_principal,
    of_type,
    principals,
    statements,
)

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
VERSIONING = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
LIFECYCLE = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
OBJECT_LOCK = (
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
)
TRAIL = "aws:cloudtrail/trail:Trail"
INVOCATION_LOGGING = (
    "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
)
FLOW_LOG = "aws:ec2/flowLog:FlowLog"

#: Conditions that confine a grant to Principal "*" to this account or network.
_SCOPING = (
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalArn",
    "aws:SourceVpce",
    "aws:SourceVpc",
)
#: Conditions that bind a service principal to this account or its resources.
_SERVICE_SCOPE = ("aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID")


@resource_policy(
    id="AWS-S3-001",
    title="S3 public access blocks all on",
    severity="critical",
    types=[PUBLIC_ACCESS_BLOCK],
    controls=["GOV-03"],
    remediation="Set block_public_acls, block_public_policy, ignore_public_acls and "
    "restrict_public_buckets to True (SecureBucket always does).",
)
def public_access_block(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """All four S3 public access blocks are on, so neither an ACL nor a bucket policy can
    make the bucket or its objects public."""
    off = [
        key
        for key in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
        if resource.get(key) is not True
    ]
    if off:
        yield f"{resource.name} leaves {', '.join(off)} off"


#: S3 delivers server access logs only into buckets whose default encryption is SSE-S3:
#: "Default server-side encryption with AWS KMS keys (SSE-KMS) is not supported"
#: (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html).
ACCESS_LOG_TARGET_ALGORITHM = "AES256"


def _encryption_findings(resource: Resource, access_log_target: bool) -> Iterator[str]:
    rules = resource.items("rules")
    if not rules:
        yield f"{resource.name} sets no default encryption rule"
        return
    for rule in rules:
        default = rule.get("applyServerSideEncryptionByDefault") or {}
        algorithm = default.get("sseAlgorithm")
        key = default.get("kmsMasterKeyId")
        if access_log_target:
            if algorithm != ACCESS_LOG_TARGET_ALGORITHM:
                yield (
                    f"{resource.name} encrypts a server access log target with "
                    f"{algorithm or 'no algorithm'}: S3 delivers access logs only into "
                    "SSE-S3 (AES256) buckets"
                )
        elif algorithm not in ("aws:kms", "aws:kms:dsse"):
            yield f"{resource.name} encrypts with {algorithm or 'no algorithm'}, not SSE-KMS"
        elif not key or str(key).endswith("alias/aws/s3"):
            yield f"{resource.name} uses the AWS-managed key, not a customer-managed one"
        if "SSE-C" not in as_list(rule.get("blockedEncryptionTypes")):
            yield f"{resource.name} accepts SSE-C uploads, which bypass the project key"


@stack_policy(
    id="AWS-S3-002",
    title="S3 default encryption with a customer-managed key",
    severity="high",
    controls=["KEY-01"],
    remediation="Encrypt by default with sse_algorithm aws:kms and the project's data or logs "
    "key (kms_master_key_id), and block SSE-C uploads (blocked_encryption_types). A bucket "
    "receiving server access logs takes AES256 instead, the only encryption S3 delivers "
    "them into (SecureBucket server_access_log_target=True).",
)
def default_encryption(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Objects are encrypted by default with SSE-KMS under a customer-managed key (not the
    AWS-managed ``aws/s3`` key), and uploads with customer-provided keys (SSE-C), which
    bypass the project key, are refused. The one exception is a bucket receiving S3
    server access logs: S3 delivers them only into SSE-S3 buckets, so such a bucket must
    use SSE-S3 (AES256), and nothing else may."""
    _, access = log_bucket_references(resources)
    buckets = of_type(resources, *BUCKETS)
    targets = [b for b in buckets if _referenced(b, access)]
    for config in of_type(resources, *ENCRYPTION):
        target = any(bucket_refers_to(config.get("bucket"), b) for b in targets)
        for message in _encryption_findings(config, target):
            yield config, message


@resource_policy(
    id="AWS-S3-003",
    title="S3 versioning enabled",
    severity="medium",
    types=VERSIONING,
    controls=["GOV-04"],
    remediation='Set versioning_configuration={"status": "Enabled"}.',
)
def versioning(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Versioning is enabled, so overwritten and deleted objects can be recovered."""
    status = resource.get("versioningConfiguration", "status")
    if status != "Enabled":
        yield f"{resource.name} has versioning {status or 'unset'}"


def _covers_objects(statement: Any) -> bool:
    resources = [str(r) for r in as_list(statement.get("Resource"))]
    return any(r == "*" or r.endswith("/*") for r in resources)


def _denies_all_s3(statement: Any) -> bool:
    granted = {a.lower() for a in actions(statement)}
    return bool(granted & {"s3:*", "*"}) and is_public_principal(statement)


@resource_policy(
    id="AWS-S3-004",
    title="S3 bucket policy denies requests without TLS 1.2",
    severity="high",
    types=[BUCKET_POLICY],
    controls=["NET-05"],
    remediation="Add Deny statements for every principal and s3:* on the bucket and its "
    "objects when aws:SecureTransport is false and when s3:TlsVersion is below 1.2 "
    "(SecureBucket adds both).",
)
def tls_only(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The bucket policy denies every request made without TLS, and with TLS older than
    1.2, on the bucket and its objects."""
    denies = [s for s in statements(document(resource, "policy"), "Deny") if _denies_all_s3(s)]
    plain = [
        s
        for s in denies
        if "false" in conditions(s).get("Bool", {}).get("aws:securetransport", [])
        and _covers_objects(s)
    ]
    old_tls = []
    for s in denies:
        for value in conditions(s).get("NumericLessThan", {}).get("s3:tlsversion", []):
            try:
                if float(value) >= 1.2 and _covers_objects(s):
                    old_tls.append(s)
            except ValueError:
                continue
    if not plain:
        yield f"{resource.name} does not deny requests without TLS (aws:SecureTransport false)"
    if not old_tls:
        yield f"{resource.name} does not deny TLS older than 1.2 (s3:TlsVersion)"


@resource_policy(
    id="AWS-S3-006",
    title="S3 object ownership enforced (ACLs off)",
    severity="medium",
    types=[OWNERSHIP],
    controls=["GOV-03"],
    remediation='Set rule={"object_ownership": "BucketOwnerEnforced"}.',
)
def ownership(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Object ownership is ``BucketOwnerEnforced``: ACLs are disabled, so access is decided
    by policies alone and no object can be shared through an ACL."""
    value = resource.get("rule", "objectOwnership")
    if value != "BucketOwnerEnforced":
        yield f"{resource.name} keeps ACLs in effect (object ownership {value or 'unset'})"


@resource_policy(
    id="AWS-S3-007",
    title="S3 bucket policy grants nothing publicly",
    severity="critical",
    types=[BUCKET_POLICY],
    controls=["GOV-03"],
    remediation="Grant named principals only; for Principal * add aws:PrincipalAccount or "
    "aws:SourceVpce, for AWS services aws:SourceAccount or aws:SourceArn.",
)
def no_public_grants(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """No Allow statement reaches anyone unconditionally: grants to Principal ``*`` are
    confined to the account or network, grants to services to this account's resources."""
    for index, st in enumerate(statements(document(resource, "policy"), "Allow")):
        sid = st.get("Sid") or f"#{index}"
        if "NotPrincipal" in st:
            yield f"{resource.name} statement {sid} allows everyone but NotPrincipal"
        elif is_public_principal(st) and not has_condition(st, *_SCOPING):
            yield f"{resource.name} statement {sid} allows access to anyone"
        elif principals(st).get("Service") and not has_condition(st, *_SERVICE_SCOPE):
            yield (
                f"{resource.name} statement {sid} lets a service write for any account "
                "(add aws:SourceAccount or aws:SourceArn)"
            )


@resource_policy(
    id="AWS-S3-014",
    title="S3 buckets are not force-destroyed",
    severity="medium",
    types=BUCKETS,
    controls=["GOV-04"],
    remediation="Remove force_destroy=True: empty a bucket deliberately before deleting it.",
)
def no_force_destroy(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """``force_destroy`` is off: deleting the stack cannot silently delete every object
    and version in the bucket."""
    if resource.get("forceDestroy") is True:
        yield f"{resource.name} is force-destroyed with all its objects on deletion"


# ------------------------------------------------------------------ stack policies
def companions(
    bucket: Resource, resources: Sequence[Resource], types: Sequence[str]
) -> list[Resource]:
    """The resources of ``types`` that configure ``bucket`` (through their ``bucket`` input)."""
    return [r for r in of_type(resources, *types) if bucket_refers_to(r.get("bucket"), bucket)]


def log_bucket_references(resources: Sequence[Resource]) -> tuple[list[str], list[str]]:
    """Names or ARNs of the buckets receiving audit logs, and of those receiving access logs."""
    audit: list[str] = []
    for trail in of_type(resources, TRAIL):
        audit.append(trail.get("s3BucketName", default=""))
    for config in of_type(resources, INVOCATION_LOGGING):
        audit.append(config.get("loggingConfig", "s3Config", "bucketName", default=""))
        audit.append(
            config.get(
                "loggingConfig",
                "cloudwatchConfig",
                "largeDataDeliveryS3Config",
                "bucketName",
                default="",
            )
        )
    for flow_log in of_type(resources, FLOW_LOG):
        if flow_log.get("logDestinationType") == "s3":
            audit.append(flow_log.get("logDestination", default=""))
    access = [r.get("targetBucket", default="") for r in of_type(resources, *LOGGING)]
    return [a for a in audit if a], [a for a in access if a]


def _referenced(bucket: Resource, references: Sequence[str]) -> bool:
    return any(bucket_refers_to(ref, bucket) for ref in references)


def _companion_policy(
    *,
    id: str,
    title: str,
    severity: Any,
    control: str,
    types: Sequence[str],
    what: str,
    remediation: str,
    doc: str,
    exempt: Callable[[Resource, Sequence[Resource]], bool] | None = None,
) -> None:
    def check(
        resources: Sequence[Resource], requirements: Requirements
    ) -> Iterator[tuple[Resource | None, str]]:
        for bucket in of_type(resources, *BUCKETS):
            if exempt is not None and exempt(bucket, resources):
                continue
            if not companions(bucket, resources, types):
                yield bucket, f"{bucket.name} has no {what}"

    check.__doc__ = doc
    stack_policy(
        id=id, title=title, severity=severity, controls=[control], remediation=remediation
    )(check)


def _receives_access_logs(bucket: Resource, resources: Sequence[Resource]) -> bool:
    return _referenced(bucket, log_bucket_references(resources)[1])


_companion_policy(
    id="AWS-S3-005",
    title="Every bucket records server access logs",
    severity="medium",
    control="LOG-06",
    types=LOGGING,
    what="server access logging (aws.s3.BucketLogging)",
    remediation="Give the bucket a BucketLogging to the project's access-log bucket "
    "(SecureBucket's access_log_bucket).",
    doc="Every bucket but the ones receiving access logs (S3 must not log a bucket into "
    "itself) delivers server access logs.",
    exempt=_receives_access_logs,
)
_companion_policy(
    id="AWS-S3-008",
    title="Every bucket has its public access block",
    severity="high",
    control="GOV-03",
    types=[PUBLIC_ACCESS_BLOCK],
    what="public access block (aws.s3.BucketPublicAccessBlock)",
    remediation="Create the bucket with SecureBucket, or add a BucketPublicAccessBlock with "
    "all four blocks on.",
    doc="Every bucket has a BucketPublicAccessBlock in the stack, so its public access "
    "settings are stated and reviewed in code.",
)
_companion_policy(
    id="AWS-S3-009",
    title="Every bucket has default encryption with a project key",
    severity="high",
    control="KEY-01",
    types=ENCRYPTION,
    what="default encryption configuration (SSE-KMS with a project key)",
    remediation="Create the bucket with SecureBucket, or add a "
    "BucketServerSideEncryptionConfiguration with aws:kms and the project key.",
    doc="Every bucket has a server-side encryption configuration in the stack (its "
    "content is checked by AWS-S3-002).",
)
_companion_policy(
    id="AWS-S3-010",
    title="Every bucket has versioning",
    severity="medium",
    control="GOV-04",
    types=VERSIONING,
    what="versioning configuration",
    remediation="Create the bucket with SecureBucket, or add a BucketVersioning with status "
    "Enabled.",
    doc="Every bucket has a versioning configuration in the stack (its status is checked "
    "by AWS-S3-003).",
)
_companion_policy(
    id="AWS-S3-011",
    title="Every bucket has a TLS-only bucket policy",
    severity="high",
    control="NET-05",
    types=[BUCKET_POLICY],
    what="bucket policy (one denying requests without TLS)",
    remediation="Create the bucket with SecureBucket, or add a BucketPolicy denying "
    "aws:SecureTransport false and s3:TlsVersion below 1.2.",
    doc="Every bucket has a bucket policy in the stack (its TLS statements are checked by "
    "AWS-S3-004).",
)


def _retention_days(rule: Any) -> float | None:
    default = rule.get("defaultRetention") or {}
    if default.get("days") is not None:
        return float(default["days"])
    if default.get("years") is not None:
        return float(default["years"]) * 365
    return None


def _audit_object_locks(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource, list[Resource]]]:
    """Each bucket receiving audit logs, with its object lock configurations."""
    if not requirements.setting("immutable_logs"):
        raise NotApplicable("the profile does not ask for immutable logs")
    audit, _ = log_bucket_references(resources)
    for bucket in of_type(resources, *BUCKETS):
        if _referenced(bucket, audit):
            yield bucket, companions(bucket, resources, OBJECT_LOCK)


@stack_policy(
    id="AWS-S3-012",
    title="Audit log buckets have object lock for the log retention",
    severity="high",
    controls=["LOG-03"],
    remediation="Create the log bucket with object lock (AuditLogging object_lock=True, from "
    "the profile's immutable_logs): a default retention of at least the log retention.",
)
def log_buckets_locked(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Where the profile asks for immutable logs, the buckets receiving the trail's and the
    AI service's logs have S3 Object Lock with a default retention of at least the log
    retention (GOVERNANCE until the lock is made final, then COMPLIANCE: AWS-S3-016)."""
    if not requirements.setting("immutable_logs"):
        raise NotApplicable("the profile does not ask for immutable logs")
    audit, _ = log_bucket_references(resources)
    required = requirements.setting("log_retention_days")
    for bucket in of_type(resources, *BUCKETS):
        if not _referenced(bucket, audit):
            continue
        if bucket.get("objectLockEnabled") is not True:
            yield bucket, f"{bucket.name} receives audit logs without object lock"
            continue
        locks = companions(bucket, resources, OBJECT_LOCK)
        if not locks:
            yield bucket, f"{bucket.name} has object lock but no default retention"
        for lock in locks:
            rule = lock.get("rule") or {}
            mode = (rule.get("defaultRetention") or {}).get("mode")
            days = _retention_days(rule)
            if mode not in ("COMPLIANCE", "GOVERNANCE"):
                yield lock, f"{lock.name} sets no retention mode"
            if days is None or days < required:
                shown = "no" if days is None else f"{days:g} days'"
                yield (
                    lock,
                    f"{lock.name} keeps {shown} retention; logs must be kept {required} days",
                )


@stack_policy(
    id="AWS-S3-013",
    title="Log buckets keep logs for the profile's retention",
    severity="medium",
    controls=["LOG-04"],
    remediation="Expire log objects (and noncurrent versions) no earlier than the stack's "
    "log_retention_days (AuditLogging retention_days).",
)
def log_bucket_retention(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Buckets receiving audit or access logs keep objects and their noncurrent versions at
    least ``log_retention_days``, and then expire them (storage limitation)."""
    audit, access = log_bucket_references(resources)
    required = requirements.setting("log_retention_days")
    for bucket in of_type(resources, *BUCKETS):
        if not _referenced(bucket, [*audit, *access]):
            continue
        expires = False
        for config in companions(bucket, resources, LIFECYCLE):
            for rule in config.items("rules"):
                if rule.get("status") != "Enabled":
                    continue
                for label, days in (
                    ("objects", (rule.get("expiration") or {}).get("days")),
                    (
                        "noncurrent versions",
                        (rule.get("noncurrentVersionExpiration") or {}).get("noncurrentDays"),
                    ),
                ):
                    if days is None:
                        continue
                    expires = True
                    if days < required:
                        yield (
                            config,
                            (
                                f"{config.name} expires log {label} after {days:g} days; the profile "
                                f"asks for {required}"
                            ),
                        )
        if not expires:
            yield bucket, f"{bucket.name} keeps logs forever: expire them after {required} days"


@stack_policy(
    id="AWS-S3-016",
    title="Audit log buckets' object lock is final (COMPLIANCE mode)",
    severity="high",
    controls=["LOG-03"],
    remediation="Make the lock final in a second, explicit step once the stack is right: "
    "`pulumi config set lock_log_archive true && pulumi up` in a generated project "
    "(AuditLogging object_lock_mode='COMPLIANCE'). Irreversible (AWS-DEPLOY-007).",
)
def log_buckets_locked_for_good(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Where the profile asks for immutable logs, the audit log buckets' default retention
    is in COMPLIANCE mode: nobody, the account root included, can delete a log version
    before its retention ends. GOVERNANCE mode can be lifted by whoever holds
    s3:BypassGovernanceRetention: the state before the second, explicit lock step."""
    for bucket, locks in _audit_object_locks(resources, requirements):
        if bucket.get("objectLockEnabled") is not True:
            yield bucket, f"{bucket.name} receives audit logs without object lock"
        for lock in locks:
            mode = ((lock.get("rule") or {}).get("defaultRetention") or {}).get("mode")
            if mode != "COMPLIANCE":
                yield (
                    lock,
                    f"{lock.name} locks in {mode or 'no'} mode, not COMPLIANCE: once the stack "
                    "is right, `pulumi config set lock_log_archive true && pulumi up` "
                    "(irreversible)",
                )
