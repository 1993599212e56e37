"""AWS KMS and S3 policies: compliant and non-compliant fixtures, one per way to fail."""

from __future__ import annotations

import dataclasses
from typing import Any

from aws.aws_policy_support import (
    ACCOUNT,
    KEY_ARN,
    ROLE,
    ROOT,
    SOURCE_ACCOUNT,
    TAGS,
    check,
    doc,
    flagged,
    messages,
    res,
    secure_bucket,
    stmt,
    tls_bucket_policy,
)

KEY = "aws:kms/key:Key"
USE = ["kms:Decrypt", "kms:GenerateDataKey"]
ADMIN = stmt(["kms:DescribeKey", "kms:ScheduleKeyDeletion"], principal={"AWS": ROOT}, sid="Admin")
VIA_S3 = {
    "ArnEquals": {"aws:PrincipalArn": ROLE},
    "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
}
GOOD_KEY_POLICY = doc(
    ADMIN,
    stmt(USE, principal={"AWS": ROOT}, condition=VIA_S3, sid="Workload"),
    stmt(
        "kms:GenerateDataKey",
        principal={"Service": "cloudtrail.amazonaws.com"},
        condition=SOURCE_ACCOUNT,
        sid="Trail",
    ),
    stmt(
        "kms:CreateGrant",
        principal={"AWS": ROOT},
        condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        sid="Grants",
    ),
)


def key(name: str, **inputs: Any) -> Any:
    base = {"enableKeyRotation": True, "policy": GOOD_KEY_POLICY, "tags": TAGS}
    base.update(inputs)
    return res(KEY, name, {k: v for k, v in base.items() if v is not None})


# ---------------------------------------------------------------------------- KMS
def test_kms_001_rotation_enabled() -> None:
    report = check(
        [
            key("rotating"),
            key("off", enableKeyRotation=False),
            key("absent", enableKeyRotation=None),
            key("signing", enableKeyRotation=None, customerMasterKeySpec="RSA_2048"),
        ]
    )
    assert flagged(report, "AWS-KMS-001") == {"off", "absent"}
    assert report.not_applicable >= 1  # the asymmetric key cannot rotate


def test_kms_002_rotation_period_follows_the_profile() -> None:
    keys = [
        key("yearly", rotationPeriodInDays=365.0),
        key("default"),  # KMS rotates every 365 days when unset
        key("slow", rotationPeriodInDays=730.0),
        key("quarterly", rotationPeriodInDays=90.0),
    ]
    assert flagged(check(keys), "AWS-KMS-002") == {"slow"}
    restricted = check(keys, data_sensitivity="restricted")  # key_rotation_days: 90
    assert flagged(restricted, "AWS-KMS-002") == {"yearly", "default", "slow"}


def test_kms_003_deletion_window() -> None:
    report = check(
        [
            key("longest", deletionWindowInDays=30.0),
            key("default"),
            key("hasty", deletionWindowInDays=7.0),
        ]
    )
    assert flagged(report, "AWS-KMS-003") == {"hasty"}


def test_kms_004_key_policy_grants_use_to_named_principals_only() -> None:
    report = check(
        [
            key("scoped"),
            key("no-policy", policy=None),
            key("wildcard", policy=doc(stmt("kms:*", principal={"AWS": ROOT}))),
            key("public", policy=doc(ADMIN, stmt("kms:Decrypt", principal="*"))),
            key("account-wide", policy=doc(ADMIN, stmt(USE, principal={"AWS": ROOT}))),
            key(
                "any-account-service",
                policy=doc(
                    ADMIN, stmt("kms:GenerateDataKey", principal={"Service": "logs.amazonaws.com"})
                ),
            ),
            key(
                "any-grant",
                policy=doc(
                    ADMIN,
                    stmt(
                        "kms:CreateGrant",
                        principal={"AWS": ROOT},
                        condition={
                            "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
                        },
                    ),
                ),
            ),
            key(
                "caller-account",
                policy=doc(
                    ADMIN,
                    stmt(
                        USE,
                        principal="*",
                        condition={
                            "StringEquals": {
                                "kms:CallerAccount": ACCOUNT,
                                "kms:ViaService": "s3.us-east-1.amazonaws.com",
                            }
                        },
                    ),
                ),
            ),
        ]
    )
    assert flagged(report, "AWS-KMS-004") == {
        "no-policy",
        "wildcard",
        "public",
        "account-wide",
        "any-account-service",
        "any-grant",
    }


def test_kms_005_lockout_safety_check() -> None:
    report = check(
        [
            key("checked", bypassPolicyLockoutSafetyCheck=False),
            key("bypassed", bypassPolicyLockoutSafetyCheck=True),
        ]
    )
    assert flagged(report, "AWS-KMS-005") == {"bypassed"}


def test_kms_006_single_region_keys() -> None:
    report = check(
        [key("regional", multiRegion=False), key("default"), key("replicable", multiRegion=True)]
    )
    assert flagged(report, "AWS-KMS-006") == {"replicable"}


def _identified(name: str, key_id: str) -> Any:
    # The engine gives stack policies the resources' outputs: a key's ARN and id.
    arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}"
    return key(name, arn=arn, keyId=key_id)


def test_kms_007_every_key_is_used() -> None:
    resources = [
        _identified("bucket-key", "aaaa"),
        _identified("exported-key", "bbbb"),
        _identified("idle-key", "cccc"),
        _identified("aliased-only", "dddd"),
        key("unidentified"),  # an inputs-only view, nothing depends on it: unused
        key("depended-on"),  # an inputs-only view a resource depends on: used
        dataclasses.replace(
            res("aws:sns/topic:Topic", "alerts", {"name": "alerts"}),
            dependencies=(key("depended-on").urn,),
        ),
        res(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "encryption",
            {
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "kmsMasterKeyId": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/aaaa"
                        }
                    }
                ]
            },
        ),
        res(
            "aws:kms/alias:Alias",
            "exported-alias",
            {"name": "alias/app-secrets", "targetKeyId": "bbbb"},
        ),
        res("aws:kms/alias:Alias", "idle-alias", {"name": "alias/app-idle", "targetKeyId": "dddd"}),
        res(
            "pulumi:pulumi:Stack",
            "app-dev",
            {"secrets_provider": "awskms://alias/app-secrets?region=us-east-1"},
        ),
    ]
    assert flagged(check(resources), "AWS-KMS-007") == {"idle-key", "aliased-only", "unidentified"}


# ----------------------------------------------------------------------------- S3
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def test_s3_001_public_access_block() -> None:
    blocks = {
        "all-on": {},
        "acls-allowed": {"blockPublicAcls": False},
        "policy-unset": {"blockPublicPolicy": None},
    }
    resources = []
    for name, change in blocks.items():
        inputs = {
            "bucket": name,
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
            **change,
        }
        resources.append(res(PAB, name, {k: v for k, v in inputs.items() if v is not None}))
    assert flagged(check(resources), "AWS-S3-001") == {"acls-allowed", "policy-unset"}


def _sse(
    name: str, algorithm: str = "aws:kms", key_id: str | None = KEY_ARN, blocked: Any = ("SSE-C",)
) -> Any:
    default: dict[str, Any] = {"sseAlgorithm": algorithm}
    if key_id:
        default["kmsMasterKeyId"] = key_id
    rule: dict[str, Any] = {"applyServerSideEncryptionByDefault": default}
    if blocked is not None:
        rule["blockedEncryptionTypes"] = list(blocked)
    return res(SSE, name, {"bucket": name, "rules": [rule]})


def test_s3_002_default_encryption_with_a_project_key() -> None:
    report = check(
        [
            _sse("cmk"),
            _sse("s3-managed", algorithm="AES256", key_id=None),
            _sse("aws-managed", key_id="alias/aws/s3"),
            _sse("no-key", key_id=None),
            _sse("sse-c-accepted", blocked=None),
            res(SSE, "no-rule", {"bucket": "x", "rules": []}),
        ]
    )
    assert flagged(report, "AWS-S3-002") == {
        "s3-managed",
        "aws-managed",
        "no-key",
        "sse-c-accepted",
        "no-rule",
    }


def test_s3_003_versioning() -> None:
    versioning = "aws:s3/bucketVersioning:BucketVersioning"
    report = check(
        [
            res(
                versioning,
                "enabled",
                {"bucket": "a", "versioningConfiguration": {"status": "Enabled"}},
            ),
            res(
                versioning,
                "suspended",
                {"bucket": "b", "versioningConfiguration": {"status": "Suspended"}},
            ),
            res(versioning, "unset", {"bucket": "c", "versioningConfiguration": {}}),
        ]
    )
    assert flagged(report, "AWS-S3-003") == {"suspended", "unset"}


def test_s3_004_bucket_policy_denies_plain_http_and_old_tls() -> None:
    policy = "aws:s3/bucketPolicy:BucketPolicy"
    arns = ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]
    no_tls = stmt(
        "s3:*",
        arns,
        effect="Deny",
        principal="*",
        condition={"Bool": {"aws:SecureTransport": "false"}},
    )
    old_tls = stmt(
        "s3:*",
        arns,
        effect="Deny",
        principal="*",
        condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}},
    )
    bucket_only = stmt(
        "s3:*",
        arns[0],
        effect="Deny",
        principal="*",
        condition={"Bool": {"aws:SecureTransport": "false"}},
    )
    report = check(
        [
            res(policy, "tls-only", {"bucket": "b", "policy": tls_bucket_policy("b")}),
            res(policy, "plain-http", {"bucket": "b", "policy": doc(old_tls)}),
            res(policy, "old-tls", {"bucket": "b", "policy": doc(no_tls)}),
            res(policy, "bucket-not-objects", {"bucket": "b", "policy": doc(bucket_only, old_tls)}),
        ]
    )
    assert flagged(report, "AWS-S3-004") == {"plain-http", "old-tls", "bucket-not-objects"}


def test_s3_006_object_ownership_enforced() -> None:
    ownership = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
    report = check(
        [
            res(
                ownership,
                "enforced",
                {"bucket": "a", "rule": {"objectOwnership": "BucketOwnerEnforced"}},
            ),
            res(ownership, "writer", {"bucket": "b", "rule": {"objectOwnership": "ObjectWriter"}}),
        ]
    )
    assert flagged(report, "AWS-S3-006") == {"writer"}


def test_s3_007_bucket_policy_grants_nothing_publicly() -> None:
    policy = "aws:s3/bucketPolicy:BucketPolicy"
    objects = "arn:aws:s3:::b/*"
    cases = {
        "account-only": stmt(
            "s3:GetObject",
            objects,
            principal="*",
            condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
        ),
        "delivery": stmt(
            "s3:PutObject",
            objects,
            principal={"Service": "logging.s3.amazonaws.com"},
            condition=SOURCE_ACCOUNT,
        ),
        "public-read": stmt("s3:GetObject", objects, principal="*"),
        "public-aws": stmt("s3:GetObject", objects, principal={"AWS": "*"}),
        "any-account-delivery": stmt(
            "s3:PutObject", objects, principal={"Service": "cloudtrail.amazonaws.com"}
        ),
        "not-principal": {**stmt("s3:GetObject", objects), "NotPrincipal": {"AWS": ROOT}},
    }
    resources = [
        res(policy, name, {"bucket": "b", "policy": tls_bucket_policy("b", s)})
        for name, s in cases.items()
    ]
    assert flagged(check(resources), "AWS-S3-007") == {
        "public-read",
        "public-aws",
        "any-account-delivery",
        "not-principal",
    }


def test_s3_014_no_force_destroy() -> None:
    bucket = "aws:s3/bucket:Bucket"
    report = check(
        [res(bucket, "kept", {"forceDestroy": False}), res(bucket, "wiped", {"forceDestroy": True})]
    )
    assert flagged(report, "AWS-S3-014") == {"wiped"}


COMPANIONS = {
    "AWS-S3-005": "aws:s3/bucketLogging:BucketLogging",
    "AWS-S3-008": PAB,
    "AWS-S3-009": SSE,
    "AWS-S3-010": "aws:s3/bucketVersioning:BucketVersioning",
    "AWS-S3-011": "aws:s3/bucketPolicy:BucketPolicy",
}


def test_s3_companions_every_bucket_has_its_settings() -> None:
    complete = secure_bucket("complete")
    # Matched by name prefix and by Pulumi's auto-name as well as by explicit name.
    prefixed = [
        r
        if r.type != "aws:s3/bucket:Bucket"
        else res(r.type, "prefixed-bucket", {"bucketPrefix": "app-data-", "tags": TAGS})
        for r in secure_bucket("app-data-0123456789abcdef")
    ]
    automatic = [
        r if r.type != "aws:s3/bucket:Bucket" else res(r.type, "auto", {"tags": TAGS})
        for r in secure_bucket("auto-1a2b3c4d")
    ]
    access_logs = secure_bucket("access-logs", log_to=None)  # receives the logs: not logged itself
    bare = res("aws:s3/bucket:Bucket", "bare", {"bucket": "bare", "tags": TAGS})
    report = check([*complete, *prefixed, *automatic, *access_logs, bare])
    for policy in COMPANIONS:
        assert flagged(report, policy) == {"bare"}, policy
    for policy, companion in COMPANIONS.items():
        without = [r for r in complete if r.type != companion]
        others = secure_bucket("other")  # logs into access-logs, which is then exempt
        assert flagged(check([*without, *others, *access_logs]), policy) == {"complete-bucket"}, (
            policy
        )


def _trail(name: str = "trail", bucket: str = "audit-logs", **inputs: Any) -> Any:
    base = {
        "s3BucketName": bucket,
        "isMultiRegionTrail": True,
        "includeGlobalServiceEvents": True,
        "enableLogFileValidation": True,
        "kmsKeyId": KEY_ARN,
        "cloudWatchLogsGroupArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:trail-logs:*",
        "cloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/trail-logs",
        "tags": TAGS,
    }
    base.update(inputs)
    return res("aws:cloudtrail/trail:Trail", name, {k: v for k, v in base.items() if v is not None})


def _lock(bucket: str, mode: str = "COMPLIANCE", days: float | None = 2192.0) -> Any:
    retention: dict[str, Any] = {"mode": mode}
    if days is not None:
        retention["days"] = days
    return res(
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        f"{bucket}-lock",
        {"bucket": bucket, "objectLockEnabled": "Enabled", "rule": {"defaultRetention": retention}},
    )


def test_s3_012_audit_log_buckets_are_locked_when_logs_must_be_immutable() -> None:
    buckets = [
        *secure_bucket("locked", objectLockEnabled=True),
        _lock("locked"),
        *secure_bucket("unlocked", objectLockEnabled=False),
        *secure_bucket("governance", objectLockEnabled=True),
        _lock("governance", mode="GOVERNANCE"),
        *secure_bucket("short", objectLockEnabled=True),
        _lock("short", days=30.0),
        *secure_bucket("no-retention", objectLockEnabled=True),
        *secure_bucket("data"),  # holds no logs: not required
    ]
    trails = [
        _trail(f"trail-{b}", bucket=b)
        for b in ("locked", "unlocked", "governance", "short", "no-retention")
    ]
    report = check([*buckets, *trails], data_sensitivity="restricted")  # immutable, 2192 days
    # GOVERNANCE holds the logs for the retention: the state before the final lock step
    assert flagged(report, "AWS-S3-012") == {"unlocked-bucket", "short-lock", "no-retention-bucket"}
    assert not flagged(check([*buckets, *trails]), "AWS-S3-012")  # confidential: not asked
    # ... and only COMPLIANCE is final: nobody, root included, can lift it
    assert flagged(report, "AWS-S3-016") == {"unlocked-bucket", "governance-lock"}
    assert not flagged(check([*buckets, *trails]), "AWS-S3-016")


def _lifecycle(bucket: str, days: float | None, noncurrent: float | None = None) -> Any:
    rule: dict[str, Any] = {"id": "r", "status": "Enabled", "filter": {"prefix": ""}}
    if days is not None:
        rule["expiration"] = {"days": days}
    if noncurrent is not None:
        rule["noncurrentVersionExpiration"] = {"noncurrentDays": noncurrent}
    return res(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        f"{bucket}-lifecycle",
        {"bucket": bucket, "rules": [rule]},
    )


def test_s3_013_log_buckets_keep_logs_for_the_retention_then_expire_them() -> None:
    resources = [
        *secure_bucket("audit-logs"),
        _lifecycle("audit-logs", 365.0, 365.0),
        _trail("trail", bucket="audit-logs"),
        *secure_bucket("access-logs", log_to=None),
        _lifecycle("access-logs", 365.0, 30.0),  # noncurrent versions go too early
        *secure_bucket("early", log_to="early-target"),
        *secure_bucket("early-target", log_to=None),
        _lifecycle("early-target", 90.0),
        *secure_bucket("forever", log_to="forever-target"),
        *secure_bucket("forever-target", log_to=None),
        *secure_bucket("data"),  # not a log bucket: keeps objects as long as it likes
    ]
    report = check(resources)  # confidential: 365 days
    assert flagged(report, "AWS-S3-013") == {
        "access-logs-lifecycle",
        "early-target-lifecycle",
        "forever-target-bucket",
    }
    assert any("noncurrent versions after 30 days" in m for m in messages(report, "AWS-S3-013"))
