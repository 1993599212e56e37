"""GCP-LOG policies: compliant and non-compliant fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from gcp.gcp_policy_support import (
    BUCKET_INPUTS,
    DROP,
    KEY,
    PROJECT,
    REGION,
    archive_inputs,
    audit,
    flagged,
    messages,
    patch,
    reqs,
    res,
    unknown,
)
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE

BUCKET = "gcp:storage/bucket:Bucket"
LOG_BUCKET = "gcp:logging/projectBucketConfig:ProjectBucketConfig"
SINK = "gcp:logging/projectSink:ProjectSink"
ENDPOINT = "gcp:vertex/aiEndpoint:AiEndpoint"
FILTER = (
    'logName:"cloudaudit.googleapis.com" OR logName:"compute.googleapis.com%2Fvpc_flows" '
    'OR logName:"compute.googleapis.com%2Ffirewall" OR logName:"modelarmor.googleapis.com"'
)
LOG_BUCKET_INPUTS = {
    "project": PROJECT,
    "location": REGION,
    "bucketId": "app-logs",
    "retentionDays": 365.0,
    "locked": True,
    "cmekSettings": {"kmsKeyName": KEY},
}
RESTRICTED = reqs(data_sensitivity="restricted")  # 2192 days, immutable, deletion protection


def log_bucket(name: str = "logs", /, protect: bool = False, **changes: Any) -> Any:
    return res(LOG_BUCKET, name, patch(LOG_BUCKET_INPUTS, changes), protect=protect)


def sink(name: str, destination: str, /, **changes: Any) -> Any:
    inputs = {"destination": destination, "filter": FILTER, "uniqueWriterIdentity": True}
    return res(SINK, name, patch(inputs, changes))


TO_LOG_BUCKET = f"logging.googleapis.com/projects/{PROJECT}/locations/{REGION}/buckets/app-logs"


def test_audit_config_log_types() -> None:
    resources = [
        audit("storage.googleapis.com", "good"),
        audit(
            "aiplatform.googleapis.com", "admin-only", auditLogConfigs=[{"logType": "ADMIN_READ"}]
        ),
        audit("cloudkms.googleapis.com", "none", auditLogConfigs=DROP),
        audit(
            "secretmanager.googleapis.com",
            "exempting",
            **{"auditLogConfigs.1.exemptedMembers": ["user:admin@example.com"]},
        ),
    ]
    assert flagged("GCP-LOG-001", resources) == {"admin-only", "none", "exempting"}


def test_audited_services_cover_the_workload() -> None:
    endpoint = res(ENDPOINT, "endpoint", {})
    bucket = res(BUCKET, "bucket", BUCKET_INPUTS)
    configs = [audit("aiplatform.googleapis.com"), audit("storage.googleapis.com")]
    assert flagged("GCP-LOG-002", [endpoint, bucket, *configs]) == set()
    assert flagged("GCP-LOG-002", [endpoint, bucket, configs[0]]) == {"(stack)"}
    reads_only = audit("storage.googleapis.com", auditLogConfigs=[{"logType": "DATA_READ"}])
    assert flagged("GCP-LOG-002", [endpoint, bucket, configs[0], reads_only]) == {"(stack)"}
    assert flagged("GCP-LOG-002", [endpoint, bucket, audit("allServices")]) == set()
    # a stack without AI workload (the state backend) relies on the workload stack
    assert flagged("GCP-LOG-002", [bucket]) == set()


def test_audit_logs_routed_to_a_retained_store() -> None:
    endpoint = res(ENDPOINT, "endpoint", {})
    logs = log_bucket()
    assert flagged("GCP-LOG-003", [endpoint, logs, sink("sink", TO_LOG_BUCKET)]) == set()
    assert (
        flagged("GCP-LOG-003", [endpoint, logs, sink("sink", TO_LOG_BUCKET, filter=DROP)]) == set()
    )
    assert flagged("GCP-LOG-003", [endpoint, logs]) == {"(stack)"}
    flows_only = sink("sink", TO_LOG_BUCKET, filter='logName:"compute.googleapis.com%2Fvpc_flows"')
    assert flagged("GCP-LOG-003", [endpoint, logs, flows_only]) == {"(stack)"}
    off = sink("sink", TO_LOG_BUCKET, disabled=True)
    assert flagged("GCP-LOG-003", [endpoint, logs, off]) == {"(stack)"}
    elsewhere = sink(
        "sink", "logging.googleapis.com/projects/central/locations/global/buckets/other"
    )
    assert flagged("GCP-LOG-003", [endpoint, logs, elsewhere]) == {"(stack)"}
    assert flagged("GCP-LOG-003", [logs]) == set()


def test_network_and_guardrail_logs_routed() -> None:
    subnet = res(
        "gcp:compute/subnetwork:Subnetwork", "subnet", {"logConfig": {"flowSampling": 1.0}}
    )
    template = res("gcp:modelarmor/template:Template", "template", {})
    logs = log_bucket()
    assert flagged("GCP-LOG-004", [subnet, template, logs, sink("sink", TO_LOG_BUCKET)]) == set()
    audit_only = sink("sink", TO_LOG_BUCKET, filter='logName:"cloudaudit.googleapis.com"')
    assert flagged("GCP-LOG-004", [subnet, template, logs, audit_only]) == {"(stack)"}
    assert flagged("GCP-LOG-004", [subnet, logs]) == {"(stack)"}
    quiet = res("gcp:compute/subnetwork:Subnetwork", "subnet", {})
    assert flagged("GCP-LOG-004", [quiet, logs]) == set()


def test_log_bucket_retention() -> None:
    resources = [
        log_bucket("good"),
        log_bucket("short", retentionDays=90.0),
        log_bucket("default", retentionDays=DROP),
    ]
    assert flagged("GCP-LOG-005", resources) == {"short", "default"}
    assert flagged("GCP-LOG-005", [log_bucket("year")], RESTRICTED) == {"year"}


def test_log_bucket_locked_when_immutable() -> None:
    resources = [
        log_bucket("good"),
        log_bucket("open", locked=False),
        log_bucket("unset", locked=DROP),
    ]
    assert flagged("GCP-LOG-006", resources, RESTRICTED) == {"open", "unset"}
    assert flagged("GCP-LOG-006", resources) == set()


def test_log_bucket_cmek() -> None:
    resources = [log_bucket("good"), log_bucket("google", cmekSettings=DROP)]
    assert flagged("GCP-LOG-007", resources) == {"google"}


def test_sink_identity() -> None:
    resources = [
        sink("good", TO_LOG_BUCKET),
        sink("default", TO_LOG_BUCKET, uniqueWriterIdentity=DROP),  # true by default
        sink("shared", TO_LOG_BUCKET, uniqueWriterIdentity=False),
        sink("off", TO_LOG_BUCKET, disabled=True),
    ]
    assert flagged("GCP-LOG-008", resources) == {"shared", "off"}


def archive(name: str = "archive", /, protect: bool = False, **changes: Any) -> Any:
    return res(BUCKET, name, patch(archive_inputs(), changes), protect=protect)


def test_buckets_receiving_logs_keep_them() -> None:
    to_archive = sink("archive-sink", "storage.googleapis.com/archive-1a2b3c4")
    data = res(BUCKET, "data", BUCKET_INPUTS)  # receives no logs: not checked
    assert flagged("GCP-LOG-009", [archive(), to_archive, data]) == set()
    for bad in (
        archive(retentionPolicy=DROP),
        archive(**{"retentionPolicy.retentionPeriod": str(30 * 86400)}),
        archive(**{"lifecycleRules.0.condition.age": 30.0}),
    ):
        assert flagged("GCP-LOG-009", [bad, to_archive, data]) == {"archive"}
    assert flagged("GCP-LOG-009", [archive(), to_archive], RESTRICTED) == {"archive"}
    # a usage-log bucket is a log store too
    state = res(
        BUCKET, "state", patch(BUCKET_INPUTS, {"logging": {"logBucket": "archive-1a2b3c4"}})
    )
    assert flagged("GCP-LOG-009", [state, archive(retentionPolicy=DROP)]) == {"archive"}
    assert flagged("GCP-LOG-009", [data]) == set()


def test_buckets_receiving_logs_delete_them_after_the_retention() -> None:
    to_archive = sink("archive-sink", "storage.googleapis.com/archive-1a2b3c4")
    delete = {"type": "Delete"}
    later = archive(**{"lifecycleRules.0.condition.age": 400.0})  # not before: fine
    assert flagged("GCP-LOG-009", [later, to_archive]) == set()
    prefixed_early = {"action": delete, "condition": {"age": 30.0, "matchesPrefixes": ["a/"]}}
    cold = {
        "action": {"type": "SetStorageClass", "storageClass": "ARCHIVE"},
        "condition": {"age": 90.0},
    }
    also_fine = archive(lifecycleRules=[cold, *archive_inputs()["lifecycleRules"]])
    assert flagged("GCP-LOG-009", [also_fine, to_archive]) == set()
    for kept_forever in (
        archive(lifecycleRules=DROP),
        archive(lifecycleRules=[]),
        archive(lifecycleRules=[cold]),  # moves logs, deletes none
        archive(**{"lifecycleRules.0.condition": {}}),  # no age: not an expiry
        # Delete rules that reach only some logs (conditions are ANDed)
        archive(**{"lifecycleRules.0.condition.matchesPrefixes": ["audit/"]}),
        archive(**{"lifecycleRules.0.condition.matchesStorageClasses": ["STANDARD"]}),
        archive(**{"lifecycleRules.0.condition.withState": "ARCHIVED"}),
        archive(**{"lifecycleRules.0.condition.numNewerVersions": 2.0}),
        archive(**{"lifecycleRules.0.condition.sizeAboveBytes": 1024.0}),
        # an early rule for some logs, nothing for the others
        archive(lifecycleRules=[prefixed_early]),
    ):
        assert flagged("GCP-LOG-009", [kept_forever, to_archive]) == {"archive"}
    # a Delete rule for every live object, with empty or explicit defaults, expires all logs
    explicit = archive(
        **{
            "lifecycleRules.0.condition.withState": "LIVE",
            "lifecycleRules.0.condition.matchesPrefixes": [],
        }
    )
    assert flagged("GCP-LOG-009", [explicit, to_archive]) == set()
    # the usage-log bucket of a state bucket must expire its logs too
    state = res(
        BUCKET, "state", patch(BUCKET_INPUTS, {"logging": {"logBucket": "archive-1a2b3c4"}})
    )
    assert flagged("GCP-LOG-009", [state, archive()]) == set()
    assert flagged("GCP-LOG-009", [state, archive(lifecycleRules=DROP)]) == {"archive"}


def test_log_expiry_messages() -> None:
    to_archive = sink("archive-sink", "storage.googleapis.com/archive-1a2b3c4")
    assert messages("GCP-LOG-009", [archive(lifecycleRules=DROP), to_archive]) == [
        "archive keeps logs forever: delete them after 365 days with a lifecycle rule"
    ]
    # an early rule for every log deletes early; it does not keep logs forever
    early = archive(**{"lifecycleRules.0.condition.age": 30.0})
    assert messages("GCP-LOG-009", [early, to_archive]) == ["archive deletes logs after 30 days"]


def test_buckets_receiving_logs_lock_retention_when_immutable() -> None:
    to_archive = sink("archive-sink", "storage.googleapis.com/archive-1a2b3c4")
    locked = archive(**{"retentionPolicy.isLocked": True})
    assert flagged("GCP-LOG-010", [locked, to_archive], RESTRICTED) == set()
    assert flagged("GCP-LOG-010", [archive(), to_archive], RESTRICTED) == {"archive"}
    assert flagged("GCP-LOG-010", [archive(), to_archive]) == set()


def test_log_stores_protected_when_asked() -> None:
    to_archive = sink("archive-sink", "storage.googleapis.com/archive-1a2b3c4")
    protected = [log_bucket(protect=True), archive(protect=True), to_archive]
    assert flagged("GCP-LOG-011", protected, RESTRICTED) == set()
    assert flagged(
        "GCP-LOG-011", [log_bucket(), archive(protect=True), to_archive], RESTRICTED
    ) == {"logs"}
    assert flagged(
        "GCP-LOG-011", [log_bucket(protect=True), archive(), to_archive], RESTRICTED
    ) == {"archive"}
    assert flagged("GCP-LOG-011", [log_bucket(), archive(), to_archive]) == set()


@pytest.mark.parametrize(
    ("policy", "resource"),
    [
        (
            "GCP-LOG-001",
            audit("storage.googleapis.com", "pending", auditLogConfigs=UNKNOWN_OBJECT_VALUE),
        ),
        ("GCP-LOG-005", log_bucket("pending", retentionDays=UNKNOWN_STRING_VALUE)),
        ("GCP-LOG-006", log_bucket("pending", locked=UNKNOWN_STRING_VALUE)),
        ("GCP-LOG-007", log_bucket("pending", **{"cmekSettings.kmsKeyName": UNKNOWN_STRING_VALUE})),
        ("GCP-LOG-008", sink("pending", TO_LOG_BUCKET, uniqueWriterIdentity=UNKNOWN_STRING_VALUE)),
    ],
)
def test_unknown_values(policy: str, resource: Any) -> None:
    assert unknown(policy, [resource], RESTRICTED) == {"pending"}


def test_unknown_sink_destination() -> None:
    pending = sink("sink", UNKNOWN_STRING_VALUE)
    assert unknown("GCP-LOG-003", [res(ENDPOINT, "endpoint", {}), log_bucket(), pending]) == {
        "(stack)"
    }


@pytest.mark.parametrize("policy", ["GCP-LOG-009", "GCP-LOG-010", "GCP-LOG-011"])
def test_unknown_log_destination(policy: str) -> None:
    resources = [archive(), log_bucket(protect=True), sink("sink", UNKNOWN_STRING_VALUE)]
    assert unknown(policy, resources, RESTRICTED) == {"(stack)"}


@pytest.mark.parametrize(
    "changes",
    [
        {"lifecycleRules": UNKNOWN_OBJECT_VALUE},
        {"lifecycleRules.0.condition.age": UNKNOWN_STRING_VALUE},
        {"lifecycleRules.0.condition.matchesPrefixes": UNKNOWN_OBJECT_VALUE},
    ],
    ids=["rules", "age", "prefixes"],
)
def test_unknown_lifecycle_rules(changes: dict[str, Any]) -> None:
    to_archive = sink("archive-sink", "storage.googleapis.com/archive-1a2b3c4")
    assert unknown("GCP-LOG-009", [archive(**changes), to_archive]) == {"(stack)"}
