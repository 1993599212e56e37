"""GCP-STORAGE policies: compliant and non-compliant fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from gcp.gcp_policy_support import (
    BUCKET_INPUTS,
    DROP,
    archive_inputs,
    audit,
    flagged,
    patch,
    res,
    unknown,
)
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE

BUCKET = "gcp:storage/bucket:Bucket"


def bucket(name: str = "good", /, **changes: Any) -> Any:
    return res(BUCKET, name, patch(BUCKET_INPUTS, changes))


def test_uniform_access() -> None:
    resources = [
        bucket(),
        bucket("acls", uniformBucketLevelAccess=False),
        bucket("unset", uniformBucketLevelAccess=DROP),
    ]
    assert flagged("GCP-STORAGE-001", resources) == {"acls", "unset"}


def test_public_access_prevention() -> None:
    resources = [
        bucket(),
        bucket("inherited", publicAccessPrevention="inherited"),
        bucket("unset", publicAccessPrevention=DROP),
    ]
    assert flagged("GCP-STORAGE-002", resources) == {"inherited", "unset"}


def test_cmek() -> None:
    resources = [
        bucket(),
        bucket("google", encryption=DROP),
        bucket("no-key", **{"encryption.defaultKmsKeyName": DROP}),
    ]
    assert flagged("GCP-STORAGE-003", resources) == {"google", "no-key"}


def test_cmek_only() -> None:
    resources = [
        bucket(),
        bucket("gmek", **{"encryption.googleManagedEncryptionEnforcementConfig": DROP}),
        bucket(
            "csek",
            **{
                "encryption.customerSuppliedEncryptionEnforcementConfig.restrictionMode": "NotRestricted"
            },
        ),
        bucket("none", encryption=DROP),
    ]
    assert flagged("GCP-STORAGE-004", resources) == {"gmek", "csek", "none"}


def test_recoverable_objects() -> None:
    resources = [
        bucket(),
        res(BUCKET, "archive", archive_inputs()),
        bucket("unversioned", versioning={"enabled": False}),
        bucket("unset", versioning=DROP),
    ]
    assert flagged("GCP-STORAGE-005", resources) == {"unversioned", "unset"}


def test_soft_delete() -> None:
    resources = [
        bucket(),
        bucket("default", softDeletePolicy=DROP),  # Cloud Storage keeps 7 days
        bucket("off", **{"softDeletePolicy.retentionDurationSeconds": 0.0}),
        bucket("week", **{"softDeletePolicy.retentionDurationSeconds": 7.0 * 86400}),
        bucket("quarter", **{"softDeletePolicy.retentionDurationSeconds": 90.0 * 86400}),
    ]
    assert flagged("GCP-STORAGE-006", resources) == {"default", "off", "week"}


def test_force_destroy() -> None:
    resources = [bucket(), bucket("unset", forceDestroy=DROP), bucket("forced", forceDestroy=True)]
    assert flagged("GCP-STORAGE-007", resources) == {"forced"}


def test_no_website() -> None:
    resources = [bucket(), bucket("site", website={"mainPageSuffix": "index.html"})]
    assert flagged("GCP-STORAGE-008", resources) == {"site"}


def test_access_logged() -> None:
    data = bucket("data")
    assert flagged("GCP-STORAGE-009", [data, audit("storage.googleapis.com")]) == set()
    assert flagged("GCP-STORAGE-009", [data, audit("allServices")]) == set()
    assert flagged("GCP-STORAGE-009", [data]) == {"data"}
    admin_only = audit("storage.googleapis.com", auditLogConfigs=[{"logType": "ADMIN_READ"}])
    assert flagged("GCP-STORAGE-009", [data, admin_only]) == {"data"}
    other_service = audit("secretmanager.googleapis.com")
    assert flagged("GCP-STORAGE-009", [data, other_service]) == {"data"}
    # usage logs: the logged bucket records access, the log bucket is the log
    state = bucket("state", logging={"logBucket": "access-1a2b3c4"})
    access = res(BUCKET, "access", archive_inputs())
    assert flagged("GCP-STORAGE-009", [state, access]) == set()
    assert flagged("GCP-STORAGE-009", [state, access, data]) == {"data"}


@pytest.mark.parametrize(
    ("policy", "changes"),
    [
        ("GCP-STORAGE-001", {"uniformBucketLevelAccess": UNKNOWN_STRING_VALUE}),
        ("GCP-STORAGE-002", {"publicAccessPrevention": UNKNOWN_STRING_VALUE}),
        ("GCP-STORAGE-003", {"encryption.defaultKmsKeyName": UNKNOWN_STRING_VALUE}),
        ("GCP-STORAGE-004", {"encryption": UNKNOWN_OBJECT_VALUE}),
        ("GCP-STORAGE-005", {"versioning": UNKNOWN_OBJECT_VALUE}),
        ("GCP-STORAGE-006", {"softDeletePolicy": UNKNOWN_OBJECT_VALUE}),
    ],
)
def test_unknown_values(policy: str, changes: dict[str, Any]) -> None:
    assert unknown(policy, [bucket("pending", **changes)]) == {"pending"}


def test_unknown_usage_log_bucket() -> None:
    resources = [
        bucket("state", logging={"logBucket": "access-1a2b3c4"}),
        bucket("access", name=UNKNOWN_STRING_VALUE),
    ]
    assert unknown("GCP-STORAGE-009", resources) == {"(stack)"}
