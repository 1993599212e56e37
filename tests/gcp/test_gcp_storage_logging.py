"""SecureBucket and AuditLogging: private CMEK buckets, audit configs, locked log stores."""

from __future__ import annotations

import pytest
from aiscaffold.testing import MockRun
from aiscaffold_components.gcp import (
    AuditLogging,
    AuditLoggingArgs,
    SecureBucket,
    SecureBucketArgs,
)
from aiscaffold_components.gcp.audit_logging import AUDITED_SERVICES
from gcp_support import KEY, LABELS, PROJECT, REGION, WORKLOAD, changes, run_component

BUCKET = "gcp:storage/bucket:Bucket"
AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
LOG_BUCKET = "gcp:logging/projectBucketConfig:ProjectBucketConfig"
SINK = "gcp:logging/projectSink:ProjectSink"


def build_bucket(**overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "project": PROJECT,
        "location": REGION,
        "kms_key_name": f"{KEY}/data",
        "labels": LABELS,
    }
    settings.update(overrides)
    args = SecureBucketArgs(**settings)  # type: ignore[arg-type]
    return run_component(lambda: SecureBucket("data", args))


def build_audit(**overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "project": PROJECT,
        "location": REGION,
        "kms_key_name": f"{KEY}/logs",
        "retention_days": 400,
        "labels": LABELS,
    }
    settings.update(overrides)
    args = AuditLoggingArgs(**settings)  # type: ignore[arg-type]
    return run_component(lambda: AuditLogging("audit", args))


@pytest.fixture(scope="module")
def bucket() -> MockRun:
    return build_bucket()


@pytest.fixture(scope="module")
def audit() -> MockRun:
    return build_audit()


def assert_hardened(inputs: dict[str, object], key: str) -> None:
    assert inputs["uniformBucketLevelAccess"] is True
    assert inputs["publicAccessPrevention"] == "enforced"
    assert inputs["forceDestroy"] is False
    assert inputs["location"] == REGION
    assert inputs["encryption"] == {
        "defaultKmsKeyName": key,
        "googleManagedEncryptionEnforcementConfig": {"restrictionMode": "FullyRestricted"},
        "customerSuppliedEncryptionEnforcementConfig": {"restrictionMode": "FullyRestricted"},
    }
    assert inputs["softDeletePolicy"] == {"retentionDurationSeconds": 30 * 86400}
    assert inputs["labels"] == LABELS


def test_bucket_is_private_cmek_and_versioned(bucket: MockRun) -> None:
    inputs = bucket.one(BUCKET).inputs
    assert_hardened(inputs, f"{KEY}/data")
    assert inputs["versioning"] == {"enabled": True}
    assert "retentionPolicy" not in inputs
    assert not bucket.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")


def test_retention_replaces_versioning_and_expires_objects() -> None:
    kept = build_bucket(retention_days=10, lock_retention=True).one(BUCKET).inputs
    assert kept["retentionPolicy"] == {"retentionPeriod": str(10 * 86400), "isLocked": True}
    assert kept["versioning"] == {"enabled": False}
    assert kept["lifecycleRules"] == [{"action": {"type": "Delete"}, "condition": {"age": 10}}]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"retention_days": 10, "versioning": True}, "Object Versioning"),
        ({"lock_retention": True}, "lock_retention needs retention_days"),
        ({"soft_delete_days": 3}, "soft_delete_days"),
    ],
)
def test_impossible_bucket_settings_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(Exception, match=message):
        build_bucket(**overrides)


@pytest.mark.parametrize(
    ("weakening", "expected"),
    [
        ({"versioning": False}, {"data-bucket:versioning.enabled"}),
        ({"force_destroy": True}, {"data-bucket:forceDestroy"}),
        ({"soft_delete_days": 0}, {"data-bucket:softDeletePolicy.retentionDurationSeconds"}),
    ],
)
def test_bucket_weakenings_change_only_what_they_name(
    bucket: MockRun, weakening: dict[str, object], expected: set[str]
) -> None:
    weak = build_bucket(**weakening)
    assert changes(bucket, weak) == expected
    if "soft_delete_days" in weakening:
        assert weak.one(BUCKET).inputs["softDeletePolicy"] == {"retentionDurationSeconds": 0}


def test_bucket_grants_go_to_the_named_members_only() -> None:
    granted = build_bucket(object_viewers=[WORKLOAD], object_creators=[WORKLOAD])
    grants = {
        (b.inputs["role"], b.inputs["member"], b.inputs["bucket"])
        for b in granted.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
    }
    name = granted.one(BUCKET).outputs["name"]
    assert grants == {
        ("roles/storage.objectViewer", WORKLOAD, name),
        ("roles/storage.objectCreator", WORKLOAD, name),
    }


def test_usage_logs_go_to_the_named_bucket() -> None:
    logged = build_bucket(usage_log_bucket="logs-bucket").one(BUCKET).inputs
    assert logged["logging"] == {"logBucket": "logs-bucket"}


def test_data_access_audit_logs_for_the_ai_storage_secret_and_key_services(audit: MockRun) -> None:
    configs = {c.inputs["service"]: c.inputs for c in audit.of_type(AUDIT_CONFIG)}
    assert (
        set(configs)
        == set(AUDITED_SERVICES)
        == {
            "aiplatform.googleapis.com",
            "storage.googleapis.com",
            "secretmanager.googleapis.com",
            "cloudkms.googleapis.com",
        }
    )
    for config in configs.values():
        assert config["project"] == PROJECT
        assert sorted(c["logType"] for c in config["auditLogConfigs"]) == [
            "ADMIN_READ",
            "DATA_READ",
            "DATA_WRITE",
        ]


def test_log_bucket_is_cmek_locked_and_kept(audit: MockRun) -> None:
    log_bucket = audit.one(LOG_BUCKET)
    assert log_bucket.inputs["retentionDays"] == 400
    assert log_bucket.inputs["locked"] is True
    assert log_bucket.inputs["location"] == REGION
    assert log_bucket.inputs["cmekSettings"] == {"kmsKeyName": f"{KEY}/logs"}
    assert log_bucket.protect is True


def test_sinks_route_audit_logs_to_the_bucket_and_archive(audit: MockRun) -> None:
    sinks = {s.name: s for s in audit.of_type(SINK)}
    log_bucket = audit.one(LOG_BUCKET).outputs["id"]
    archive = audit.one(BUCKET)
    assert sinks["audit-sink"].inputs["destination"] == f"logging.googleapis.com/{log_bucket}"
    assert (
        sinks["audit-archive-sink"].inputs["destination"]
        == f"storage.googleapis.com/{archive.outputs['name']}"
    )
    for sink in sinks.values():
        assert 'logName:"cloudaudit.googleapis.com"' in sink.inputs["filter"]
        assert sink.inputs["uniqueWriterIdentity"] is True
    writer = audit.one("gcp:storage/bucketIAMMember:BucketIAMMember").inputs
    assert writer["member"] == sinks["audit-archive-sink"].outputs["writerIdentity"]
    assert writer["role"] == "roles/storage.objectCreator"


def test_archive_bucket_is_hardened_with_locked_retention(audit: MockRun) -> None:
    archive = audit.one(BUCKET)
    assert_hardened(archive.inputs, f"{KEY}/logs")
    assert archive.inputs["retentionPolicy"] == {
        "retentionPeriod": str(400 * 86400),
        "isLocked": True,
    }
    assert archive.protect is True


def test_without_data_access_logs_only_the_log_types_change(audit: MockRun) -> None:
    found = changes(audit, build_audit(data_access_logs=False))
    assert found == {
        f"audit-{s.split('.')[0]}:auditLogConfigs[{i}].logType"
        for s in AUDITED_SERVICES
        for i in (1, 2)
    }


def test_fewer_audited_services_drop_only_their_audit_configs(audit: MockRun) -> None:
    kept = tuple(s for s in AUDITED_SERVICES if s != "cloudkms.googleapis.com")
    assert changes(audit, build_audit(services=kept)) == {"-audit-cloudkms"}


def test_unlocked_logs_change_only_the_locks(audit: MockRun) -> None:
    assert changes(audit, build_audit(locked=False)) == {
        "audit-log-bucket:locked",
        "audit-archive-bucket:retentionPolicy.isLocked",
    }


def test_without_archive_only_the_archive_goes(audit: MockRun) -> None:
    assert changes(audit, build_audit(archive=False)) == {
        "-audit-archive",
        "-audit-archive-bucket",
        "-audit-archive-sink",
        "-audit-archive-writer",
    }


def test_unprotected_logs_change_only_the_protect_option(audit: MockRun) -> None:
    assert changes(audit, build_audit(protect=False)) == {
        "audit-log-bucket:<protect>",
        "audit-archive:<protect>",
        "audit-archive-bucket:<protect>",
    }
