"""Storage policies: each failure mode flags exactly the offending resources."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold.testing import MockRun
from azure.azure_policy_support import DROP, base_run, flagged

DATA = "data-account"
ARCHIVE = "audit-archive-account"
FLOWS = "audit-flowlogs-account"
RESTRICTED = {"data_sensitivity": "restricted"}
TRUSTED_SHAPE = {
    "publicNetworkAccess": "Enabled",
    "networkRuleSet.bypass": "AzureServices",
}
IMMUTABILITY = "immutableStorageWithVersioning"
POLICY = f"{IMMUTABILITY}.immutabilityPolicy"
RULE = "policy.rules.0"


@pytest.fixture(scope="module")
def base(render_project: Any) -> MockRun:
    return base_run(render_project)


CASES: list[tuple[str, dict[str, dict[str, Any]], set[str], dict[str, Any]]] = [
    # ST-001 network
    ("AZURE-ST-001", {DATA: {"publicNetworkAccess": "Enabled"}}, {DATA}, {}),
    ("AZURE-ST-001", {DATA: {"publicNetworkAccess": DROP}}, {DATA}, {}),
    ("AZURE-ST-001", {DATA: {"networkRuleSet.defaultAction": "Allow"}}, {DATA}, {}),
    (
        "AZURE-ST-001",
        {DATA: {"networkRuleSet.ipRules": [{"iPAddressOrRange": "203.0.113.9"}]}},
        {DATA},
        {},
    ),
    (
        "AZURE-ST-001",
        {DATA: {"networkRuleSet.virtualNetworkRules": [{"id": "/subnets/x"}]}},
        {DATA},
        {},
    ),
    ("AZURE-ST-001", {DATA: {"networkRuleSet.bypass": DROP}}, {DATA}, {}),
    ("AZURE-ST-001", {DATA: {"networkRuleSet.bypass": "AzureServices"}}, {DATA}, {}),
    ("AZURE-ST-001", {ARCHIVE: {"networkRuleSet.bypass": "None"}}, {ARCHIVE}, {}),
    (
        "AZURE-ST-001",
        {ARCHIVE: {"networkRuleSet.ipRules": [{"iPAddressOrRange": "203.0.113.9"}]}},
        {ARCHIVE},
        {},
    ),
    (
        "AZURE-ST-001",
        {ARCHIVE: {"publicNetworkAccess": "Disabled", "networkRuleSet.bypass": "None"}},
        set(),
        {},
    ),
    ("AZURE-ST-001", {DATA: TRUSTED_SHAPE}, set(), {}),  # the exception's shape (ST-002 judges it)
    # ST-002 the exception only on log accounts
    ("AZURE-ST-002", {DATA: TRUSTED_SHAPE}, {DATA}, {}),
    # ST-003 Entra ID only
    ("AZURE-ST-003", {DATA: {"allowSharedKeyAccess": True}}, {DATA}, {}),
    ("AZURE-ST-003", {ARCHIVE: {"allowSharedKeyAccess": DROP}}, {ARCHIVE}, {}),
    ("AZURE-ST-003", {DATA: {"defaultToOAuthAuthentication": False}}, {DATA}, {}),
    ("AZURE-ST-003", {DATA: {"isLocalUserEnabled": DROP}}, {DATA}, {}),
    ("AZURE-ST-003", {DATA: {"isSftpEnabled": True}}, {DATA}, {}),
    # ST-004 blob public access
    ("AZURE-ST-004", {DATA: {"allowBlobPublicAccess": True}}, {DATA}, {}),
    ("AZURE-ST-004", {FLOWS: {"allowBlobPublicAccess": DROP}}, {FLOWS}, {}),
    # ST-005 containers
    ("AZURE-ST-005", {"data-data": {"publicAccess": "Blob"}}, {"data-data"}, {}),
    ("AZURE-ST-005", {"data-data": {"publicAccess": "Container"}}, {"data-data"}, {}),
    ("AZURE-ST-005", {"data-data": {"publicAccess": DROP}}, set(), {}),
    # ST-006 TLS
    ("AZURE-ST-006", {DATA: {"enableHttpsTrafficOnly": False}}, {DATA}, {}),
    ("AZURE-ST-006", {DATA: {"enableHttpsTrafficOnly": DROP}}, {DATA}, {}),
    ("AZURE-ST-006", {DATA: {"minimumTlsVersion": "TLS1_0"}}, {DATA}, {}),
    ("AZURE-ST-006", {DATA: {"minimumTlsVersion": DROP}}, {DATA}, {}),
    ("AZURE-ST-006", {DATA: {"minimumTlsVersion": "TLS1_3"}}, set(), {}),
    # ST-007 CMK
    ("AZURE-ST-007", {DATA: {"encryption.keySource": "Microsoft.Storage"}}, {DATA}, {}),
    ("AZURE-ST-007", {DATA: {"encryption": DROP}}, {DATA}, {}),
    ("AZURE-ST-007", {DATA: {"encryption.keyVaultProperties": DROP}}, {DATA}, {}),
    ("AZURE-ST-007", {DATA: {"encryption.keyVaultProperties.keyVersion": "0123abcd"}}, {DATA}, {}),
    ("AZURE-ST-007", {DATA: {"encryption.encryptionIdentity": DROP}}, {DATA}, {}),
    ("AZURE-ST-007", {DATA: {"identity": DROP}}, {DATA}, {}),
    ("AZURE-ST-007", {DATA: {"identity.type": "SystemAssigned"}}, {DATA}, {}),
    # ST-008 every service under the account key
    ("AZURE-ST-008", {DATA: {"encryption.services.queue.keyType": "Service"}}, {DATA}, {}),
    ("AZURE-ST-008", {DATA: {"encryption.services.table": DROP}}, {DATA}, {}),
    ("AZURE-ST-008", {DATA: {"encryption.services.blob.enabled": False}}, {DATA}, {}),
    # ST-009 infrastructure encryption
    ("AZURE-ST-009", {DATA: {"encryption.requireInfrastructureEncryption": False}}, {DATA}, {}),
    (
        "AZURE-ST-009",
        {ARCHIVE: {"encryption.requireInfrastructureEncryption": DROP}},
        {ARCHIVE},
        {},
    ),
    # ST-010 tenant boundary
    ("AZURE-ST-010", {DATA: {"allowCrossTenantReplication": True}}, {DATA}, {}),
    ("AZURE-ST-010", {DATA: {"allowCrossTenantReplication": DROP}}, {DATA}, {}),
    ("AZURE-ST-010", {DATA: {"allowedCopyScope": DROP}}, {DATA}, {}),
    ("AZURE-ST-010", {DATA: {"allowedCopyScope": "PrivateLink"}}, set(), {}),
    # ST-011 SAS
    ("AZURE-ST-011", {DATA: {"sasPolicy": DROP}}, {DATA}, {}),
    ("AZURE-ST-011", {DATA: {"sasPolicy.sasExpirationPeriod": "7.00:00:00"}}, {DATA}, {}),
    ("AZURE-ST-011", {DATA: {"sasPolicy.expirationAction": "Log"}}, {DATA}, {}),
    ("AZURE-ST-011", {DATA: {"sasPolicy.sasExpirationPeriod": "0.12:00:00"}}, set(), {}),
    # ST-012 versioning, change feed
    (
        "AZURE-ST-012",
        {"data-blob-service": {"isVersioningEnabled": False}},
        {"data-blob-service"},
        {},
    ),
    (
        "AZURE-ST-012",
        {"data-blob-service": {"isVersioningEnabled": DROP}},
        {"data-blob-service"},
        {},
    ),
    (
        "AZURE-ST-012",
        {"data-blob-service": {"changeFeed.enabled": False}},
        {"data-blob-service"},
        {},
    ),
    # ST-013 soft delete
    (
        "AZURE-ST-013",
        {"data-blob-service": {"deleteRetentionPolicy.enabled": False}},
        {"data-blob-service"},
        {},
    ),
    (
        "AZURE-ST-013",
        {"data-blob-service": {"containerDeleteRetentionPolicy": DROP}},
        {"data-blob-service"},
        {},
    ),
    (
        "AZURE-ST-013",
        {"data-blob-service": {"deleteRetentionPolicy.days": 1}},
        {"data-blob-service"},
        {},
    ),
    ("AZURE-ST-013", {"data-blob-service": {"deleteRetentionPolicy.days": DROP}}, set(), {}),
    # ST-015 immutable archive
    ("AZURE-ST-015", {ARCHIVE: {IMMUTABILITY: DROP}}, {ARCHIVE}, {}),
    ("AZURE-ST-015", {ARCHIVE: {f"{IMMUTABILITY}.enabled": False}}, {ARCHIVE}, {}),
    (
        "AZURE-ST-015",
        {ARCHIVE: {f"{POLICY}.immutabilityPeriodSinceCreationInDays": 30}},
        {ARCHIVE},
        {},
    ),
    ("AZURE-ST-015", {ARCHIVE: {f"{POLICY}.state": "Disabled"}}, {ARCHIVE}, {}),
    ("AZURE-ST-015", {ARCHIVE: {f"{POLICY}.state": DROP}}, {ARCHIVE}, {}),
    ("AZURE-ST-015", {ARCHIVE: {f"{POLICY}.state": "Locked"}}, set(), {}),
    ("AZURE-ST-015", {}, {ARCHIVE}, RESTRICTED),  # six years for restricted data
    # ST-016 lifecycle of log accounts
    ("AZURE-ST-016", {"audit-archive-lifecycle": {f"{RULE}.enabled": False}}, {ARCHIVE}, {}),
    (
        "AZURE-ST-016",
        {
            "audit-flowlogs-lifecycle": {
                f"{RULE}.definition.actions.baseBlob.delete.daysAfterCreationGreaterThan": 30
            }
        },
        {FLOWS},
        {},
    ),
    (
        "AZURE-ST-016",
        {"audit-archive-lifecycle": {f"{RULE}.definition.actions.version": DROP}},
        {ARCHIVE},
        {},
    ),
    (
        "AZURE-ST-016",
        {"audit-archive-lifecycle": {f"{RULE}.definition.filters.blobTypes": ["blockBlob"]}},
        {ARCHIVE},
        {},
    ),
    (
        "AZURE-ST-016",
        {"audit-archive-lifecycle": {f"{RULE}.definition.filters.prefixMatch": ["insights-logs"]}},
        {ARCHIVE},
        {},
    ),
    ("AZURE-ST-016", {"audit-archive-lifecycle": {"policy": DROP}}, {ARCHIVE}, {}),
    ("AZURE-ST-016", {}, {ARCHIVE, FLOWS}, RESTRICTED),
]


@pytest.mark.parametrize(("policy", "patches", "expected", "answers"), CASES)
def test_storage_policy(
    base: MockRun,
    policy: str,
    patches: dict[str, dict[str, Any]],
    expected: set[str],
    answers: dict[str, Any],
) -> None:
    assert flagged(base, policy, patches, **answers) == expected


def test_log_accounts_may_keep_the_trusted_services_endpoint(base: MockRun) -> None:
    archive = base.one("azure-native:storage:StorageAccount", ARCHIVE).inputs
    assert archive["publicNetworkAccess"] == "Enabled"  # the intended exception...
    assert flagged(base, "AZURE-ST-001") == flagged(base, "AZURE-ST-002") == set()
    # ...as long as diagnostic settings or flow logs write to it.
    unused = [r.name for r in base.resources if r.type.endswith(("DiagnosticSetting", "FlowLog"))]
    assert flagged(base, "AZURE-ST-002", drop=unused) == {ARCHIVE, FLOWS}


def test_companions_blob_service_and_lifecycle(base: MockRun) -> None:
    assert flagged(base, "AZURE-ST-014", drop=["data-blob-service"]) == {DATA}
    assert flagged(base, "AZURE-ST-016", drop=["audit-archive-lifecycle"]) == {ARCHIVE}


def test_an_account_receiving_audit_logs_must_be_immutable(base: MockRun) -> None:
    data_id = base.one("azure-native:storage:StorageAccount", DATA).outputs["id"]
    redirected = {"audit-openai-archive": {"storageAccountId": data_id}}
    assert flagged(base, "AZURE-ST-015", redirected) == {DATA}
    # The flow-log account is written by Network Watcher only: rewritten hourly blobs
    # cannot be immutable, and no policy asks for it.
    flows = base.one("azure-native:storage:StorageAccount", FLOWS).inputs
    assert IMMUTABILITY not in flows
