"""Keys (Key Vault, rotating CMKs) and SecureStorage (private, Entra-only, CMK)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiscaffold.testing import MockRun

VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
ACCOUNT = "azure-native:storage:StorageAccount"


def test_vault_is_rbac_only_purge_protected_and_private(default_run: MockRun) -> None:
    props = default_run.one(VAULT).inputs["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enablePurgeProtection"] is True
    assert props["enableSoftDelete"] is True
    assert props["softDeleteRetentionInDays"] == 90
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["networkAcls"]["defaultAction"] == "Deny"
    assert props["networkAcls"]["bypass"] == "None"
    assert props["sku"]["name"] == "premium"
    assert "accessPolicies" not in props
    assert props["tenantId"]  # from the client config invoke
    name = default_run.one(VAULT).inputs["vaultName"]
    assert 3 <= len(name) <= 24 and name[0].isalpha() and "--" not in name


def test_keys_are_hsm_rsa_with_rotation_before_expiry(default_run: MockRun) -> None:
    keys = {k.name: k.inputs["properties"] for k in default_run.of_type(KEY)}
    assert set(keys) == {"keys-data", "keys-logs", "keys-ai"}
    for name, props in keys.items():
        assert props["kty"] == "RSA-HSM"
        assert props["keyOps"] == ["wrapKey", "unwrapKey"]
        assert props["attributes"]["exportable"] is False
        policy = props["rotationPolicy"]
        assert policy["attributes"]["expiryTime"] == "P395D"
        actions = {a["action"]["type"]: a["trigger"] for a in policy["lifetimeActions"]}
        assert actions["rotate"] == {"timeAfterCreate": "P365D"}
        assert "timeBeforeExpiry" in actions["notify"]
        # Azure AI services accept 2048-bit RSA keys only; the others are 3072.
        assert props["keySize"] == (2048 if name == "keys-ai" else 3072)


def _midnight(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp()


def test_first_key_versions_expire_like_the_rotated_ones(default_run: MockRun, az: Any) -> None:
    start = _midnight(az.KEYS_CREATED_ON)
    for key in default_run.of_type(KEY):
        attributes = key.inputs["properties"]["attributes"]
        assert attributes["notBefore"] == start, key.name
        # 365 days to rotation plus the 30-day grace: the rotation policy's P395D.
        assert attributes["expires"] == start + 395 * 86400, key.name
        assert attributes["enabled"] is True
        # Azure sets these on creation only; a later run must not show them changing.
        assert set(key.ignore_changes) == {
            "properties.attributes.notBefore",
            "properties.attributes.expires",
        }


@pytest.mark.parametrize(
    ("args", "days"),
    [({"rotation_days": 90}, 120), ({"expiry_grace_days": 10}, 375)],
)
def test_the_first_versions_lifetime_follows_the_rotation_policy(
    azure_run: Any, default_run: MockRun, az: Any, args: dict[str, int], days: int
) -> None:
    run = azure_run(keys=args)
    changed = {"properties.attributes.expires", "properties.rotationPolicy.attributes.expiryTime"}
    if "rotation_days" in args:
        changed.add("properties.rotationPolicy.lifetimeActions[0].trigger.timeAfterCreate")
    assert az.diff(default_run, run) == {k: changed for k in ("keys-data", "keys-logs", "keys-ai")}
    for key in run.of_type(KEY):
        props = key.inputs["properties"]
        span = props["attributes"]["expires"] - props["attributes"]["notBefore"]
        assert span == days * 86400
        assert props["rotationPolicy"]["attributes"]["expiryTime"] == f"P{days}D"


def test_created_on_moves_only_the_first_versions_window(
    azure_run: Any, default_run: MockRun, az: Any
) -> None:
    later = azure_run(keys={"created_on": dt.date(2025, 6, 1)})
    window = {"properties.attributes.notBefore", "properties.attributes.expires"}
    assert az.diff(default_run, later) == {k: window for k in ("keys-data", "keys-logs", "keys-ai")}


def test_cmk_identity_may_use_each_key_and_nothing_else(default_run: MockRun) -> None:
    key_ids = {k.outputs["id"] for k in default_run.of_type(KEY)}
    identity = default_run.one(
        "azure-native:managedidentity:UserAssignedIdentity", "keys-cmk-identity"
    )
    grants = [
        r
        for r in default_run.of_type("azure-native:authorization:RoleAssignment")
        if r.inputs["principalId"] == identity.outputs["principalId"]
    ]
    assert {g.inputs["scope"] for g in grants} == key_ids
    assert {g.inputs["roleDefinitionId"].rsplit("/", 1)[1] for g in grants} == {
        "e147488a-f6f5-4113-8e2d-b22465e65bf6"  # Key Vault Crypto Service Encryption User
    }


def test_weakening_software_keys_changes_only_the_key_type(
    azure_run: Any, default_run: MockRun, az: Any
) -> None:
    changes = az.diff(default_run, azure_run(keys={"hsm_keys": False}))
    # The ai key stays HSM-backed: at 2048 bits only an HSM meets KEY-05.
    assert changes == {"keys-data": {"properties.kty"}, "keys-logs": {"properties.kty"}}


def test_weakening_soft_delete_changes_only_the_vault_window(
    azure_run: Any, default_run: MockRun, az: Any
) -> None:
    short = azure_run(keys={"soft_delete_days": 7})
    assert az.diff(default_run, short) == {"keys-vault": {"properties.softDeleteRetentionInDays"}}
    props = short.one(VAULT).inputs["properties"]
    assert props["softDeleteRetentionInDays"] == 7
    assert props["enablePurgeProtection"] is True  # purge protection stays


def test_weakening_trusted_services_opens_only_the_vault_bypass(
    azure_run: Any, default_run: MockRun, az: Any
) -> None:
    weak = azure_run(keys={"trusted_services_bypass": True})
    assert az.diff(default_run, weak) == {"keys-vault": {"properties.networkAcls.bypass"}}
    props = weak.one(VAULT).inputs["properties"]
    assert props["networkAcls"]["bypass"] == "AzureServices"
    assert props["publicNetworkAccess"] == "Disabled"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"key_size": 2048}, "key_size"),
        ({"rotation_days": 7}, "28 days"),
        ({"soft_delete_days": 120}, "soft_delete_days"),
    ],
)
def test_keys_refuse_weak_settings(azure_run: Any, args: dict[str, Any], message: str) -> None:
    from aiscaffold.testing import ProgramError

    with pytest.raises(ProgramError, match=message):
        azure_run(keys=args)


def test_storage_is_private_entra_only_and_cmk_encrypted(default_run: MockRun) -> None:
    account = default_run.one(ACCOUNT, "data-account").inputs
    assert account["publicNetworkAccess"] == "Disabled"
    assert account["networkRuleSet"] == {
        "defaultAction": "Deny",
        "bypass": "None",
        "ipRules": [],
        "virtualNetworkRules": [],
    }
    assert account["allowSharedKeyAccess"] is False
    assert account["allowBlobPublicAccess"] is False
    assert account["isLocalUserEnabled"] is False
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["enableHttpsTrafficOnly"] is True
    assert account["kind"] == "StorageV2"
    name = account["accountName"]
    assert 3 <= len(name) <= 24 and name.isalnum() and name.islower()

    keys = {k.name: k.outputs for k in default_run.of_type(KEY)}
    identity = default_run.one(
        "azure-native:managedidentity:UserAssignedIdentity", "keys-cmk-identity"
    ).outputs["id"]
    encryption = account["encryption"]
    assert encryption["keySource"] == "Microsoft.Keyvault"
    vault_uri = default_run.one(VAULT).outputs["properties"]["vaultUri"]
    assert encryption["keyVaultProperties"] == {  # no keyVersion: follows rotation
        "keyName": keys["keys-data"]["name"],
        "keyVaultUri": vault_uri,
    }
    assert encryption["encryptionIdentity"]["encryptionUserAssignedIdentity"] == identity
    assert encryption["requireInfrastructureEncryption"] is True
    assert all(s["keyType"] == "Account" for s in encryption["services"].values())
    assert account["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [identity]}


def test_storage_keeps_versions_and_deleted_blobs(default_run: MockRun) -> None:
    service = default_run.one("azure-native:storage:BlobServiceProperties", "data-blob-service")
    assert service.inputs["isVersioningEnabled"] is True
    assert service.inputs["deleteRetentionPolicy"] == {"enabled": True, "days": 30}
    assert service.inputs["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 30}
    container = default_run.one("azure-native:storage:BlobContainer", "data-data")
    assert container.inputs["publicAccess"] == "None"


def test_weakening_storage_trusted_services_changes_only_network_access(
    azure_run: Any, default_run: MockRun, az: Any
) -> None:
    changes = az.diff(default_run, azure_run(storage={"trusted_services_bypass": True}))
    assert changes == {"data-account": {"publicNetworkAccess", "networkRuleSet.bypass"}}


def test_weakening_blob_soft_delete_changes_only_the_data_accounts_windows(
    azure_run: Any, default_run: MockRun, az: Any
) -> None:
    short = azure_run(storage={"soft_delete_days": 7})
    assert az.diff(default_run, short) == {
        "data-blob-service": {"deleteRetentionPolicy.days", "containerDeleteRetentionPolicy.days"}
    }
    service = short.one("azure-native:storage:BlobServiceProperties", "data-blob-service").inputs
    assert service["deleteRetentionPolicy"] == {"enabled": True, "days": 7}
    assert service["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 7}
    assert service["isVersioningEnabled"] is True
