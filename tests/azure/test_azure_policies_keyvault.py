"""Key Vault policies: each failure mode flags exactly the offending resources."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold.testing import MockRun
from azure.azure_policy_support import DROP, base_run, copy_of, flagged

ROTATE = {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P365D"}}
NOTIFY = {"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P7D"}}
ALL_KEYS = {"keys-data", "keys-ai", "keys-logs"}
RESTRICTED = {"data_sensitivity": "restricted"}


@pytest.fixture(scope="module")
def base(render_project: Any) -> MockRun:
    return base_run(render_project)


def _consumers_elsewhere(base: MockRun) -> dict[str, dict[str, Any]]:
    """Patches pointing every CMK consumer at a vault outside the stack."""
    other = "https://kv-elsewhere.vault.azure.net/"
    patches: dict[str, dict[str, Any]] = {
        name: {"encryption.keyVaultProperties.keyVaultUri": other}
        for name in ("data-account", "audit-archive-account", "audit-flowlogs-account")
    }
    patches["openai-account"] = {"properties.encryption.keyVaultProperties.keyVaultUri": other}
    return patches


CASES: list[tuple[str, dict[str, dict[str, Any]], set[str], dict[str, Any]]] = [
    # KV-001 RBAC only
    (
        "AZURE-KV-001",
        {"keys-vault": {"properties.enableRbacAuthorization": False}},
        {"keys-vault"},
        {},
    ),
    (
        "AZURE-KV-001",
        {"keys-vault": {"properties.enableRbacAuthorization": DROP}},
        {"keys-vault"},
        {},
    ),
    (
        "AZURE-KV-001",
        {"keys-vault": {"properties.accessPolicies": [{"objectId": "x", "tenantId": "t"}]}},
        {"keys-vault"},
        {},
    ),
    # KV-002 purge protection, soft delete
    (
        "AZURE-KV-002",
        {"keys-vault": {"properties.enablePurgeProtection": False}},
        {"keys-vault"},
        {},
    ),
    (
        "AZURE-KV-002",
        {"keys-vault": {"properties.enablePurgeProtection": DROP}},
        {"keys-vault"},
        {},
    ),
    ("AZURE-KV-002", {"keys-vault": {"properties.enableSoftDelete": False}}, {"keys-vault"}, {}),
    (
        "AZURE-KV-002",
        {"keys-vault": {"properties.softDeleteRetentionInDays": 30}},
        {"keys-vault"},
        {},
    ),
    ("AZURE-KV-002", {"keys-vault": {"properties.softDeleteRetentionInDays": DROP}}, set(), {}),
    # KV-003 network
    (
        "AZURE-KV-003",
        {"keys-vault": {"properties.publicNetworkAccess": "Enabled"}},
        {"keys-vault"},
        {},
    ),
    ("AZURE-KV-003", {"keys-vault": {"properties.publicNetworkAccess": DROP}}, {"keys-vault"}, {}),
    (
        "AZURE-KV-003",
        {"keys-vault": {"properties.networkAcls.defaultAction": "Allow"}},
        {"keys-vault"},
        {},
    ),
    ("AZURE-KV-003", {"keys-vault": {"properties.networkAcls": DROP}}, {"keys-vault"}, {}),
    (
        "AZURE-KV-003",
        {"keys-vault": {"properties.networkAcls.ipRules": [{"value": "203.0.113.0/24"}]}},
        {"keys-vault"},
        {},
    ),
    (
        "AZURE-KV-003",
        {"keys-vault": {"properties.networkAcls.virtualNetworkRules": [{"id": "/subnets/x"}]}},
        {"keys-vault"},
        {},
    ),
    ("AZURE-KV-003", {"keys-vault": {"properties.networkAcls.bypass": "None"}}, set(), {}),
    # KV-004 trusted services only for a CMK vault
    ("AZURE-KV-004", {"keys-vault": {"properties.networkAcls.bypass": DROP}}, set(), {}),
    # KV-005 platform access
    ("AZURE-KV-005", {"keys-vault": {"properties.enabledForDeployment": True}}, {"keys-vault"}, {}),
    (
        "AZURE-KV-005",
        {"keys-vault": {"properties.enabledForDiskEncryption": True}},
        {"keys-vault"},
        {},
    ),
    (
        "AZURE-KV-005",
        {"keys-vault": {"properties.enabledForTemplateDeployment": True}},
        {"keys-vault"},
        {},
    ),
    # KV-006 premium for HSM keys
    (
        "AZURE-KV-006",
        {"keys-vault": {"properties.sku.name": "standard"}},
        {"keys-vault"},
        RESTRICTED,
    ),
    ("AZURE-KV-006", {"keys-vault": {"properties.sku.name": "standard"}}, set(), {}),
    ("AZURE-KV-006", {}, set(), RESTRICTED),
    # KV-010 rotation
    (
        "AZURE-KV-010",
        {
            "keys-data": {
                "properties.rotationPolicy.lifetimeActions.0.trigger.timeAfterCreate": "P400D"
            }
        },
        {"keys-data"},
        {},
    ),
    ("AZURE-KV-010", {"keys-ai": {"properties.rotationPolicy": DROP}}, {"keys-ai"}, {}),
    (
        "AZURE-KV-010",
        {"keys-logs": {"properties.rotationPolicy.lifetimeActions": [NOTIFY]}},
        {"keys-logs"},
        {},
    ),
    ("AZURE-KV-010", {}, ALL_KEYS, RESTRICTED),  # 90 days for restricted data
    (
        "AZURE-KV-010",
        {
            "keys-data": {
                "properties.rotationPolicy.lifetimeActions.0.trigger": {"timeBeforeExpiry": "P30D"}
            }
        },
        set(),
        {},
    ),
    (
        "AZURE-KV-010",
        {
            "keys-data": {
                "properties.rotationPolicy.lifetimeActions.0.trigger.timeAfterCreate": "P1Y"
            }
        },
        set(),
        {},
    ),
    # KV-011 expiry
    (
        "AZURE-KV-011",
        {"keys-data": {"properties.rotationPolicy.attributes": DROP}},
        {"keys-data"},
        {},
    ),
    (
        "AZURE-KV-011",
        {"keys-data": {"properties.rotationPolicy.attributes.expiryTime": "P800D"}},
        {"keys-data"},
        {},
    ),
    # KV-011 the first version's own expiry (the rotation policy's applies to rotations)
    (
        "AZURE-KV-011",
        {"keys-ai": {"properties.attributes.expires": DROP}},
        {"keys-ai"},
        {},
    ),
    (
        "AZURE-KV-011",
        {"keys-logs": {"properties.attributes": DROP}},
        {"keys-logs"},
        {},
    ),
    (
        "AZURE-KV-011",
        {"keys-data": {"properties.attributes.notBefore": DROP}},
        {"keys-data"},
        {},
    ),
    (
        "AZURE-KV-011",
        {"keys-data": {"properties.attributes.notBefore": 4102444800}},  # 2100
        {"keys-data"},
        {},
    ),
    # KV-012 notification
    (
        "AZURE-KV-012",
        {"keys-ai": {"properties.rotationPolicy.lifetimeActions": [ROTATE]}},
        {"keys-ai"},
        {},
    ),
    # KV-014 HSM when asked
    ("AZURE-KV-014", {}, {"keys-data", "keys-logs"}, RESTRICTED),
    ("AZURE-KV-014", {"keys-data": {"properties.kty": "RSA"}}, set(), {}),
    # KV-015 not exportable
    ("AZURE-KV-015", {"keys-data": {"properties.attributes.exportable": True}}, {"keys-data"}, {}),
    (
        "AZURE-KV-015",
        {"keys-data": {"properties.releasePolicy": {"data": "e30="}}},
        {"keys-data"},
        {},
    ),
    # KV-016 every CMK used
    (
        "AZURE-KV-016",
        {"data-account": {"encryption.keyVaultProperties.keyName": "cmk-other"}},
        {"keys-data"},
        {},
    ),
    ("AZURE-KV-016", {"openai-account": {"properties.encryption": DROP}}, {"keys-ai"}, {}),
    # KV-020 secret expiry
    (
        "AZURE-KV-020",
        {"secrets-search-api-key": {"properties.attributes.expires": DROP}},
        {"secrets-search-api-key"},
        {},
    ),
    (
        "AZURE-KV-020",
        {"secrets-search-api-key": {"properties.attributes.notBefore": DROP}},
        {"secrets-search-api-key"},
        {},
    ),
    ("AZURE-KV-020", {}, {"secrets-search-api-key"}, RESTRICTED),  # 30 days, not 90
    ("AZURE-KV-020", {}, {"secrets-search-api-key"}, {"compliance": ["fedramp"]}),  # 60 days
    # KV-021 secrets in the project's vault
    (
        "AZURE-KV-021",
        {"secrets-search-api-key": {"vaultName": "kv-elsewhere"}},
        {"secrets-search-api-key"},
        {},
    ),
]


@pytest.mark.parametrize(("policy", "patches", "expected", "answers"), CASES)
def test_keyvault_policy(
    base: MockRun,
    policy: str,
    patches: dict[str, dict[str, Any]],
    expected: set[str],
    answers: dict[str, Any],
) -> None:
    assert flagged(base, policy, patches, **answers) == expected


def test_trusted_services_bypass_needs_a_cmk_consumer(base: MockRun) -> None:
    assert flagged(base, "AZURE-KV-004", _consumers_elsewhere(base)) == {"keys-vault"}
    closed = {**_consumers_elsewhere(base), "keys-vault": {"properties.networkAcls.bypass": "None"}}
    assert flagged(base, "AZURE-KV-004", closed) == set()


KEY_STRENGTH: list[tuple[str, dict[str, Any], bool]] = [
    ("keys-data", {"properties.keySize": 2048}, True),  # software RSA 2048
    ("keys-data", {"properties.kty": "RSA-HSM", "properties.keySize": 2048}, True),  # not for AI
    ("keys-ai", {"properties.kty": "RSA"}, True),  # 2048 only when HSM-backed
    ("keys-ai", {"properties.keySize": 1024}, True),
    ("keys-data", {"properties.kty": DROP}, True),
    ("keys-data", {"properties.keySize": DROP}, True),
    ("keys-data", {"properties.kty": "EC-HSM", "properties.curveName": "P-256K"}, True),
    ("keys-data", {"properties.kty": "EC-HSM", "properties.curveName": "P-384"}, False),
    ("keys-data", {"properties.keySize": 4096}, False),
]


@pytest.mark.parametrize(("key", "changes", "fails"), KEY_STRENGTH)
def test_key_strength(base: MockRun, key: str, changes: dict[str, Any], fails: bool) -> None:
    assert flagged(base, "AZURE-KV-013", {key: changes}) == ({key} if fails else set())


def test_the_ai_key_may_be_2048_only_while_it_serves_ai_accounts_alone(base: MockRun) -> None:
    assert flagged(base, "AZURE-KV-013") == set()  # keys-ai is RSA-HSM 2048 for the AI account
    storage_on_ai_key = {"data-account": {"encryption.keyVaultProperties.keyName": "cmk-ai"}}
    assert flagged(base, "AZURE-KV-013", storage_on_ai_key) == {"keys-ai"}


def test_unused_keys_are_flagged_but_client_keys_need_no_consumer(base: MockRun) -> None:
    extra = copy_of(base, "keys-data", "keys-extra", {"keyName": "cmk-extra"})
    assert flagged(base, "AZURE-KV-016", add=[extra]) == {"keys-extra"}
    client = copy_of(
        base,
        "keys-data",
        "pulumi-secrets",
        {"keyName": "pulumi-secrets", "properties.keyOps": ["encrypt", "decrypt"]},
    )
    assert flagged(base, "AZURE-KV-016", add=[client]) == set()


DAY = 86400


def test_the_first_key_version_expires_within_the_rotation_period(base: MockRun) -> None:
    assert flagged(base, "AZURE-KV-011") == set()
    attributes = base.one("azure-native:keyvault:Key", "keys-data").inputs["properties"][
        "attributes"
    ]
    start = attributes["notBefore"]
    assert attributes["expires"] - start == 395 * DAY  # 365-day rotation + 30 days
    too_long = {"keys-data": {"properties.attributes.expires": start + 396 * DAY}}
    assert flagged(base, "AZURE-KV-011", too_long) == {"keys-data"}
    # Restricted data rotates every 90 days: a first version valid 395 days is too long
    # even when the rotation policy's own expiry fits.
    fitting_policy = {
        key: {"properties.rotationPolicy.attributes.expiryTime": "P120D"} for key in ALL_KEYS
    }
    assert flagged(base, "AZURE-KV-011", fitting_policy, **RESTRICTED) == ALL_KEYS
    both = {
        key: {
            **changes,
            "properties.attributes.expires": start + 120 * DAY,
        }
        for key, changes in fitting_policy.items()
    }
    assert flagged(base, "AZURE-KV-011", both, **RESTRICTED) == set()
