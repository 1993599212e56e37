"""GCP-SECRETS and GCP-PUBSUB policies: compliant and non-compliant fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from gcp.gcp_policy_support import (
    DROP,
    KEY,
    LABELS,
    PROJECT,
    WORKLOAD,
    flagged,
    member,
    patch,
    reqs,
    res,
    unknown,
)
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE

SECRET = "gcp:secretmanager/secret:Secret"
REGIONAL = "gcp:secretmanager/regionalSecret:RegionalSecret"
SECRET_MEMBER = "gcp:secretmanager/secretIamMember:SecretIamMember"
TOPIC = "gcp:pubsub/topic:Topic"
REPLICA = {"location": "us-central1", "customerManagedEncryption": {"kmsKeyName": KEY}}
SECRET_INPUTS = {
    "project": PROJECT,
    "secretId": "app-api-key",
    "replication": {"userManaged": {"replicas": [REPLICA]}},
    "rotation": {"rotationPeriod": f"{90 * 86400}s", "nextRotationTime": "2030-01-01T00:00:00Z"},
    # The rotation topic and the project's alert channel (AlertChannel: <prefix>-alerts).
    "topics": [
        {"name": f"projects/{PROJECT}/topics/rotation"},
        {"name": f"projects/{PROJECT}/topics/app-dev-alerts"},
    ],
    "labels": LABELS,
}
TOPIC_INPUTS = {
    "project": PROJECT,
    "kmsKeyName": KEY,
    "messageStoragePolicy": {
        "allowedPersistenceRegions": ["us-central1"],
        "enforceInTransit": True,
    },
    "labels": LABELS,
}
GDPR = reqs(compliance=["gdpr"])


def secret(name: str = "good", /, **changes: Any) -> Any:
    return res(SECRET, name, patch(SECRET_INPUTS, changes))


def topic(name: str = "good", /, **changes: Any) -> Any:
    return res(TOPIC, name, patch(TOPIC_INPUTS, changes))


def test_replicas_encrypted() -> None:
    resources = [
        secret(),
        secret("google", **{"replication.userManaged.replicas.0.customerManagedEncryption": DROP}),
        secret("auto", replication={"auto": {}}),
        secret(
            "auto-cmek", replication={"auto": {"customerManagedEncryption": {"kmsKeyName": KEY}}}
        ),
        secret("none", replication=DROP),
        res(
            REGIONAL,
            "regional",
            {"location": "us-central1", "customerManagedEncryption": {"kmsKeyName": KEY}},
        ),
        res(REGIONAL, "regional-google", {"location": "us-central1"}),
    ]
    assert flagged("GCP-SECRETS-001", resources) == {"google", "auto", "none", "regional-google"}


def test_replicas_stay_in_allowed_regions() -> None:
    eu = {"location": "europe-west4", "customerManagedEncryption": {"kmsKeyName": KEY}}
    resources = [
        secret("eu", **{"replication.userManaged.replicas": [eu]}),
        secret("us", **{"replication.userManaged.replicas": [eu, REPLICA]}),
        secret("auto", replication={"auto": {"customerManagedEncryption": {"kmsKeyName": KEY}}}),
        res(REGIONAL, "regional-us", {"location": "us-central1"}),
    ]
    assert flagged("GCP-SECRETS-002", resources, GDPR) == {"us", "auto", "regional-us"}
    assert flagged("GCP-SECRETS-002", resources) == {"auto"}


def test_rotation() -> None:
    resources = [
        secret(),
        secret("none", rotation=DROP, topics=DROP),
        secret("slow", **{"rotation.rotationPeriod": f"{365 * 86400}s"}),
        secret("no-start", **{"rotation.nextRotationTime": DROP}),
        secret("no-topic", topics=DROP),
        # Without a rotation service, notices that reach no alert channel remind nobody.
        secret("unread", topics=[{"name": f"projects/{PROJECT}/topics/rotation"}]),
        secret("expiring", rotation=DROP, topics=DROP, ttl=f"{30 * 86400}s"),
        secret("long-lived", rotation=DROP, topics=DROP, ttl=f"{365 * 86400}s"),
    ]
    # confidential: 90 days
    assert flagged("GCP-SECRETS-003", resources) == {
        "none",
        "slow",
        "no-start",
        "no-topic",
        "unread",
        "long-lived",
    }
    assert "expiring" not in flagged(
        "GCP-SECRETS-003", resources, reqs(data_sensitivity="restricted")
    )


def test_secret_access() -> None:
    resources = [
        member(
            SECRET_MEMBER, "workload", "roles/secretmanager.secretAccessor", WORKLOAD, secretId="s"
        ),
        member(SECRET_MEMBER, "admin", "roles/secretmanager.admin", WORKLOAD, secretId="s"),
        member(
            SECRET_MEMBER,
            "human",
            "roles/secretmanager.secretAccessor",
            "user:a@example.com",
            secretId="s",
        ),
        res(
            "gcp:secretmanager/secretIamBinding:SecretIamBinding",
            "team",
            {
                "role": "roles/secretmanager.secretAccessor",
                "members": [WORKLOAD, "group:g@example.com"],
            },
        ),
    ]
    assert flagged("GCP-SECRETS-004", resources) == {"admin", "human", "team"}


def test_topic_cmek() -> None:
    assert flagged("GCP-PUBSUB-001", [topic(), topic("google", kmsKeyName=DROP)]) == {"google"}


def test_topic_residency() -> None:
    resources = [
        topic(),
        topic("anywhere", messageStoragePolicy=DROP),
        topic("no-regions", **{"messageStoragePolicy.allowedPersistenceRegions": DROP}),
        topic("in-transit", **{"messageStoragePolicy.enforceInTransit": False}),
    ]
    assert flagged("GCP-PUBSUB-002", resources) == {"anywhere", "no-regions", "in-transit"}
    eu = topic("eu", **{"messageStoragePolicy.allowedPersistenceRegions": ["europe-west4"]})
    assert flagged("GCP-PUBSUB-002", [topic("us"), eu], GDPR) == {"us"}


@pytest.mark.parametrize(
    ("policy", "resource"),
    [
        (
            "GCP-SECRETS-001",
            secret(
                "pending",
                **{
                    "replication.userManaged.replicas.0.customerManagedEncryption": UNKNOWN_OBJECT_VALUE
                },
            ),
        ),
        (
            "GCP-SECRETS-002",
            secret(
                "pending", **{"replication.userManaged.replicas.0.location": UNKNOWN_STRING_VALUE}
            ),
        ),
        (
            "GCP-SECRETS-004",
            member(
                SECRET_MEMBER, "pending", "roles/secretmanager.secretAccessor", UNKNOWN_STRING_VALUE
            ),
        ),
        ("GCP-PUBSUB-001", topic("pending", kmsKeyName=UNKNOWN_STRING_VALUE)),
        ("GCP-PUBSUB-002", topic("pending", messageStoragePolicy=UNKNOWN_OBJECT_VALUE)),
    ],
)
def test_unknown_values(policy: str, resource: Any) -> None:
    assert unknown(policy, [resource]) == {"pending"}


def test_unknown_rotation_is_unknown_on_the_stack() -> None:
    """GCP-SECRETS-003 judges the stack (secrets and the subscriptions on their topics)."""
    pending = secret("pending", rotation=UNKNOWN_OBJECT_VALUE)
    assert unknown("GCP-SECRETS-003", [pending]) == {"(stack)"}
