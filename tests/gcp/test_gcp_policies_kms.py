"""GCP-KMS policies: one compliant and one non-compliant fixture per way each can fail."""

from __future__ import annotations

import pytest
from gcp.gcp_policy_support import (
    AGENT,
    BUCKET_INPUTS,
    DROP,
    KEY,
    KEY_INPUTS,
    RING,
    WORKLOAD,
    flagged,
    member,
    patch,
    policy_data,
    reqs,
    res,
    unknown,
)
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE

CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
USE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


def key(name: str = "good", /, protect: bool = True, **changes: object) -> object:
    return res(CRYPTO_KEY, name, patch(KEY_INPUTS, changes), protect=protect)


def test_rotation() -> None:
    resources = [
        key("good"),
        key("none", rotationPeriod=DROP),
        key("slow", rotationPeriod=f"{400 * 86400}s"),
        key("signing", purpose="ASYMMETRIC_SIGN", rotationPeriod=DROP),
    ]
    # confidential, no framework: 365 days
    assert flagged("GCP-KMS-001", resources) == {"none", "slow"}
    # restricted data rotates every 90 days
    assert flagged(
        "GCP-KMS-001",
        [key("ninety"), key("yearly", rotationPeriod="31536000s")],
        reqs(data_sensitivity="restricted"),
    ) == {"yearly"}


def test_destroy_window() -> None:
    resources = [
        key("good"),
        key("default", destroyScheduledDuration=DROP),  # Cloud KMS keeps 30 days
        key("short", destroyScheduledDuration="86400s"),
    ]
    assert flagged("GCP-KMS-002", resources) == {"short"}


def test_protect() -> None:
    assert flagged("GCP-KMS-003", [key("good"), key("loose", protect=False)]) == {"loose"}


def test_hsm_only_when_the_profile_asks() -> None:
    resources = [
        key("good"),
        key("software", **{"versionTemplate.protectionLevel": "SOFTWARE"}),
        key("default", **{"versionTemplate.protectionLevel": DROP}),
    ]
    assert flagged("GCP-KMS-004", resources, reqs(data_sensitivity="restricted")) == {
        "software",
        "default",
    }
    assert flagged("GCP-KMS-004", resources) == set()


def test_key_grants() -> None:
    resources = [
        member(KEY_MEMBER, "agent", USE, AGENT, cryptoKeyId=KEY),
        member(KEY_MEMBER, "workload", USE, WORKLOAD, cryptoKeyId=KEY),
        member(KEY_MEMBER, "admin", "roles/cloudkms.admin", WORKLOAD, cryptoKeyId=KEY),
        member(KEY_MEMBER, "user", USE, "user:alice@example.com", cryptoKeyId=KEY),
        member("gcp:kms/keyRingIAMMember:KeyRingIAMMember", "ring", USE, AGENT, keyRingId=RING),
        res(
            "gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding",
            "binding",
            {"role": USE, "members": [AGENT, "group:team@example.com"], "cryptoKeyId": KEY},
        ),
        res(
            "gcp:kms/cryptoKeyIAMPolicy:CryptoKeyIAMPolicy",
            "policy",
            {
                "cryptoKeyId": KEY,
                "policyData": policy_data("roles/owner", AGENT),
            },
        ),
    ]
    assert flagged("GCP-KMS-005", resources) == {"admin", "user", "ring", "binding", "policy"}


def _bucket(key_id: str) -> object:
    return res(
        "gcp:storage/bucket:Bucket",
        "bucket",
        patch(BUCKET_INPUTS, {"encryption.defaultKmsKeyName": key_id}),
    )


def test_every_key_is_used() -> None:
    used = key("data")
    idle = key("idle")
    external = key("secrets", **{"labels.key-purpose": "pulumi-secrets"})
    grant = member(KEY_MEMBER, "grant", USE, AGENT, cryptoKeyId=f"{RING}/cryptoKeys/idle-1234567")
    resources = [used, idle, external, grant, _bucket(f"{RING}/cryptoKeys/data-abcdef0")]
    # a grant is no use; the secrets-provider key serves outside the stack
    assert flagged("GCP-KMS-006", resources) == {"idle"}
    # a cloud name from the provider's auto-naming counts too
    named = res(CRYPTO_KEY, "named", {**KEY_INPUTS, "name": "named-key"}, protect=True)
    assert flagged("GCP-KMS-006", [named, _bucket(f"{RING}/cryptoKeys/named-key")]) == set()
    # same key name in another ring is another key
    assert flagged(
        "GCP-KMS-006",
        [used, _bucket("projects/p/locations/l/keyRings/other/cryptoKeys/data-abcdef0")],
    ) == {"data"}


def test_unused_key_is_unknown_while_a_reference_is_unknown() -> None:
    resources = [key("data"), _bucket(UNKNOWN_STRING_VALUE)]
    assert unknown("GCP-KMS-006", resources) == {"(stack)"}


@pytest.mark.parametrize(
    ("policy", "changes"),
    [
        ("GCP-KMS-001", {"rotationPeriod": UNKNOWN_STRING_VALUE}),
        ("GCP-KMS-002", {"destroyScheduledDuration": UNKNOWN_STRING_VALUE}),
        ("GCP-KMS-004", {"versionTemplate": UNKNOWN_OBJECT_VALUE}),
    ],
)
def test_unknown_values(policy: str, changes: dict[str, object]) -> None:
    assert unknown(policy, [key("pending", **changes)], reqs(data_sensitivity="restricted")) == {
        "pending"
    }


def test_unknown_grant_member() -> None:
    grant = member(KEY_MEMBER, "pending", USE, UNKNOWN_STRING_VALUE, cryptoKeyId=KEY)
    assert unknown("GCP-KMS-005", [grant]) == {"pending"}
