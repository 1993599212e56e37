"""Azure Monitor policies: each failure mode flags exactly the offending resources."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold.testing import MockRun
from azure.azure_policy_support import DROP, STACK, base_run, flagged, resource, unknown
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

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
    ("AZURE-MON-001", {"audit-vnet-la": {"logs.0.enabled": False}}, {"network-vnet"}, {}),
    ("AZURE-MON-001", {"audit-vnet-la": {"workspaceId": DROP}}, {"network-vnet"}, {}),
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
    ("AZURE-MON-004", {"audit-vnet-archive": {"logs.0.enabled": False}}, {"network-vnet"}, {}),
    # Security groups and VNets have no audit category group: naming it archives nothing.
    (
        "AZURE-MON-004",
        {"audit-vnet-archive": {"logs.0.categoryGroup": "audit"}},
        {"network-vnet"},
        {},
    ),
    (
        "AZURE-MON-004",
        {"audit-pe-nsg-archive": {"logs.0.categoryGroup": "audit"}},
        {"network-pe-nsg"},
        {},
    ),
    ("AZURE-MON-004", {"audit-vault-archive": {"logs.0.categoryGroup": "allLogs"}}, set(), {}),
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


NETWORK = "/subscriptions/s/resourceGroups/rg-az-policies-dev/providers/Microsoft.Network"


def _egress_path() -> list[Any]:
    """A public IP and a NAT gateway, as Network creates them with internet egress."""
    return [
        resource(
            "azure-native:network:PublicIPAddress",
            "network-nat-ip",
            {"publicIpAddressName": "pip-az-policies-dev-nat", "sku": {"name": "Standard"}},
        ),
        resource(
            "azure-native:network:NatGateway",
            "network-nat",
            {"natGatewayName": "nat-az-policies-dev", "sku": {"name": "Standard"}},
        ),
    ]


def _setting(name: str, uri: str, **destination: Any) -> Any:
    return resource(
        "azure-native:monitor:DiagnosticSetting", name, {"resourceUri": uri, **destination}
    )


def test_the_egress_path_logs_and_archives_like_the_rest(base: MockRun) -> None:
    workspace = base.one("azure-native:operationalinsights:Workspace").outputs["id"]
    archive = base.one("azure-native:storage:StorageAccount", "audit-archive-account").outputs["id"]
    ip_id = f"{NETWORK}/publicIPAddresses/pip-az-policies-dev-nat"
    nat_id = f"{NETWORK}/natGateways/nat-az-policies-dev"
    all_logs = [{"categoryGroup": "allLogs", "enabled": True}]
    metrics = [{"category": "AllMetrics", "enabled": True}]
    ip_la = _setting("ip-la", ip_id, workspaceId=workspace, logs=all_logs, metrics=metrics)
    ip_archive = _setting("ip-archive", ip_id, storageAccountId=archive, logs=all_logs)
    nat_la = _setting("nat-la", nat_id, workspaceId=workspace, logs=[], metrics=metrics)
    path = _egress_path()
    assert flagged(base, "AZURE-MON-001", add=path) == {"network-nat-ip", "network-nat"}
    assert flagged(base, "AZURE-MON-001", add=[*path, ip_la, nat_la]) == set()
    # The gateway has no logs; its metrics are what it must send.
    no_metrics = _setting("nat-la", nat_id, workspaceId=workspace, logs=[], metrics=[])
    assert flagged(base, "AZURE-MON-001", add=[*path, ip_la, no_metrics]) == {"network-nat"}
    assert flagged(base, "AZURE-MON-004", add=[*path, ip_la, nat_la]) == {"network-nat-ip"}
    assert flagged(base, "AZURE-MON-004", add=[*path, ip_la, nat_la, ip_archive]) == set()
    audit_only = _setting(
        "ip-archive",
        ip_id,
        storageAccountId=archive,
        logs=[{**all_logs[0], "categoryGroup": "audit"}],
    )
    assert flagged(base, "AZURE-MON-004", add=[*path, ip_la, nat_la, audit_only]) == {
        "network-nat-ip"
    }


def test_the_vnet_needs_its_settings(base: MockRun) -> None:
    assert flagged(base, "AZURE-MON-001", drop=["audit-vnet-la"]) == {"network-vnet"}
    assert flagged(base, "AZURE-MON-004", drop=["audit-vnet-archive"]) == {"network-vnet"}


# ------------------------------------------------------------------ audit tables (MON-010)
RESTRICTED = {"data_sensitivity": "restricted", "compliance": ["hipaa", "gdpr"]}
AUDIT_TABLES = (
    "AzureActivity",
    "AzureDiagnostics",
    "AZKVAuditLogs",
    "StorageBlobLogs",
    "LAQueryLogs",
)


@pytest.fixture(scope="module")
def long_run(runs: dict[str, MockRun]) -> MockRun:
    """The restricted project: 2192 days of log retention, beyond the workspace's 730."""
    return runs["restricted-hipaa-gdpr"]


def test_audit_tables_keep_the_whole_retention(long_run: MockRun) -> None:
    assert flagged(long_run, "AZURE-MON-010", **RESTRICTED) == set()
    tables = [f"audit-table-{t}" for t in AUDIT_TABLES]
    assert {t.name for t in long_run.of_type("azure-native:operationalinsights:Table")} == set(
        tables
    )
    # A table missing is the workspace's finding; a short one, the table's.
    assert flagged(long_run, "AZURE-MON-010", drop=[tables[0]], **RESTRICTED) == {WORKSPACE}
    short = {tables[1]: {"totalRetentionInDays": 730}}
    assert flagged(long_run, "AZURE-MON-010", short, **RESTRICTED) == {tables[1]}
    unset = {tables[2]: {"totalRetentionInDays": DROP}}  # falls back to interactive
    assert flagged(long_run, "AZURE-MON-010", unset, **RESTRICTED) == {tables[2]}
    default = {tables[3]: {"totalRetentionInDays": -1}}
    assert flagged(long_run, "AZURE-MON-010", default, **RESTRICTED) == {tables[3]}
    other = {tables[4]: {"workspaceName": "log-elsewhere"}}  # another workspace's table
    assert flagged(long_run, "AZURE-MON-010", other, **RESTRICTED) == {WORKSPACE}


def test_audit_tables_are_not_needed_within_the_workspace_retention(base: MockRun) -> None:
    assert not base.of_type("azure-native:operationalinsights:Table")
    assert flagged(base, "AZURE-MON-010") == set()  # 365 days: the workspace keeps them
    # The same project under a 2192-day profile lacks every audit table.
    assert flagged(base, "AZURE-MON-010", **RESTRICTED) == {WORKSPACE}


def test_a_tables_workspace_unknown_in_preview_is_unknown(long_run: MockRun) -> None:
    pending = {"audit-table-AzureActivity": {"workspaceName": UNKNOWN_STRING_VALUE}}
    assert unknown(long_run, "AZURE-MON-010", pending, **RESTRICTED) == {STACK}
