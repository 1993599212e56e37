"""Azure Monitor policies: each failure mode flags exactly the offending resources."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold.testing import MockRun
from azure.azure_policy_support import DROP, STACK, base_run, flagged

WORKSPACE = "audit-workspace"
ACTIVITY = "audit-activity-log"


@pytest.fixture(scope="module")
def base(render_project: Any) -> MockRun:
    return base_run(render_project)


CASES: list[tuple[str, dict[str, dict[str, Any]], set[str], dict[str, Any]]] = [
    # MON-001 diagnostic logs to Log Analytics
    ("AZURE-MON-001", {"audit-vault-la": {"logs.0.enabled": False}}, {"keys-vault"}, {}),
    ("AZURE-MON-001", {"audit-vault-la": {"logs.0.categoryGroup": "audit"}}, {"keys-vault"}, {}),
    ("AZURE-MON-001", {"audit-workload-nsg-la": {"logs": DROP}}, {"network-workload-nsg"}, {}),
    ("AZURE-MON-001", {"audit-workspace-la": {"workspaceId": DROP}}, {WORKSPACE}, {}),
    (
        "AZURE-MON-001",
        {"audit-data-account-la": {"metrics.0.enabled": False}},
        {"data-account"},
        {},
    ),
    (
        "AZURE-MON-001",
        {
            "audit-vault-la": {
                "resourceUri": "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/other"
            }
        },
        {"keys-vault"},
        {},
    ),
    # MON-002 model calls
    ("AZURE-MON-002", {"audit-openai-la": {"logs.0.enabled": False}}, {"openai-account"}, {}),
    # MON-003 blob access logs
    ("AZURE-MON-003", {"audit-data-blob-la": {"logs.0.enabled": False}}, {"data-account"}, {}),
    (
        "AZURE-MON-003",
        {"audit-audit-flowlogs-blob-la": {"logs": DROP}},
        {"audit-flowlogs-account"},
        {},
    ),
    # MON-004 audit logs archived
    ("AZURE-MON-004", {"audit-vault-archive": {"logs.0.enabled": False}}, {"keys-vault"}, {}),
    ("AZURE-MON-004", {"audit-openai-archive": {"storageAccountId": DROP}}, {"openai-account"}, {}),
    ("AZURE-MON-004", {"audit-data-blob-archive": {"logs": DROP}}, {"data-account"}, {}),
    # MON-005 activity log
    ("AZURE-MON-005", {ACTIVITY: {"logs.2": DROP}}, {ACTIVITY}, {}),
    ("AZURE-MON-005", {ACTIVITY: {"logs.0.enabled": False}}, {ACTIVITY}, {}),
    ("AZURE-MON-005", {ACTIVITY: {"storageAccountId": DROP}}, {ACTIVITY}, {}),
    ("AZURE-MON-005", {ACTIVITY: {"workspaceId": DROP}}, {ACTIVITY}, {}),
    # MON-006 workspace retention
    ("AZURE-MON-006", {WORKSPACE: {"retentionInDays": 90}}, {WORKSPACE}, {}),
    ("AZURE-MON-006", {WORKSPACE: {"retentionInDays": DROP}}, {WORKSPACE}, {}),  # Azure: 30
    ("AZURE-MON-006", {}, {WORKSPACE}, {"data_sensitivity": "restricted"}),  # 365 < 730
    (
        "AZURE-MON-006",
        {WORKSPACE: {"retentionInDays": 730}},
        set(),
        {"data_sensitivity": "restricted"},
    ),
    # MON-007 private workspace
    ("AZURE-MON-007", {WORKSPACE: {"publicNetworkAccessForIngestion": "Enabled"}}, {WORKSPACE}, {}),
    ("AZURE-MON-007", {WORKSPACE: {"publicNetworkAccessForQuery": DROP}}, {WORKSPACE}, {}),
    # MON-008 Entra only
    ("AZURE-MON-008", {WORKSPACE: {"features.disableLocalAuth": False}}, {WORKSPACE}, {}),
    ("AZURE-MON-008", {WORKSPACE: {"features": DROP}}, {WORKSPACE}, {}),
    # MON-009 resource-context access
    (
        "AZURE-MON-009",
        {WORKSPACE: {"features.enableLogAccessUsingOnlyResourcePermissions": False}},
        {WORKSPACE},
        {},
    ),
    (
        "AZURE-MON-009",
        {WORKSPACE: {"features.enableLogAccessUsingOnlyResourcePermissions": DROP}},
        {WORKSPACE},
        {},
    ),
]


@pytest.mark.parametrize(("policy", "patches", "expected", "answers"), CASES)
def test_logging_policy(
    base: MockRun,
    policy: str,
    patches: dict[str, dict[str, Any]],
    expected: set[str],
    answers: dict[str, Any],
) -> None:
    assert flagged(base, policy, patches, **answers) == expected


def test_every_logged_resource_needs_its_settings(base: MockRun) -> None:
    assert flagged(base, "AZURE-MON-001", drop=["audit-vault-la", "audit-pe-nsg-la"]) == {
        "keys-vault",
        "network-pe-nsg",
    }
    assert flagged(base, "AZURE-MON-001", drop=["audit-data-account-la"]) == {"data-account"}
    assert flagged(base, "AZURE-MON-002", drop=["audit-openai-la"]) == {"openai-account"}
    assert flagged(base, "AZURE-MON-003", drop=["audit-data-blob-la"]) == {"data-account"}
    assert flagged(base, "AZURE-MON-004", drop=["audit-workspace-archive"]) == {WORKSPACE}
    assert flagged(base, "AZURE-MON-005", drop=[ACTIVITY]) == {STACK}


def test_the_archive_does_not_archive_its_own_logs(base: MockRun) -> None:
    settings = {r.name for r in base.of_type("azure-native:monitor:DiagnosticSetting")}
    assert "audit-audit-archive-blob-archive" not in settings
    assert flagged(base, "AZURE-MON-004") == set()
    # The flow-log account's blob logs are archived like the data account's.
    assert flagged(base, "AZURE-MON-004", drop=["audit-audit-flowlogs-blob-archive"]) == {
        "audit-flowlogs-account"
    }
