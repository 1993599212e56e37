"""AuditLogging (workspace, diagnostic settings, activity log, archive, flow logs) and
PrivateEndpoints (endpoints, zones, links, zone groups)."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold.testing import MockRun

SETTING = "azure-native:monitor:DiagnosticSetting"
WORKSPACE = "azure-native:operationalinsights:Workspace"
ACCOUNT = "azure-native:storage:StorageAccount"


def _settings(run: MockRun) -> dict[tuple[str, str], dict[str, Any]]:
    """Diagnostic settings by (resource id, destination: la | archive)."""
    out = {}
    for s in run.of_type(SETTING):
        destination = "la" if "workspaceId" in s.inputs else "archive"
        out[(s.inputs["resourceUri"], destination)] = s.inputs
    return out


def test_workspace_retention_entra_only_and_no_public_access(default_run: MockRun) -> None:
    workspace = default_run.one(WORKSPACE).inputs
    assert workspace["retentionInDays"] == 365
    assert workspace["features"]["disableLocalAuth"] is True
    assert workspace["publicNetworkAccessForIngestion"] == "Disabled"
    assert workspace["publicNetworkAccessForQuery"] == "Disabled"


def test_every_supporting_resource_sends_all_logs_and_metrics_to_log_analytics(
    default_run: MockRun,
) -> None:
    settings = _settings(default_run)
    workspace = default_run.one(WORKSPACE).outputs["id"]
    ids = {r.name: r.outputs["id"] for r in default_run.custom_resources}
    expect_logs_and_metrics = [
        ids["keys-vault"],
        ids["openai-account"],
        ids["audit-workspace"],
        f"{ids['data-account']}/blobServices/default",
        f"{ids['audit-archive-account']}/blobServices/default",
    ]
    for resource in expect_logs_and_metrics:
        la = settings[(resource, "la")]
        assert la["workspaceId"] == workspace
        assert {"categoryGroup": "allLogs", "enabled": True} in la["logs"]
        assert la["metrics"] and all(m["enabled"] for m in la["metrics"])
    for nsg in ("network-workload-nsg", "network-pe-nsg"):  # logs, no metrics
        la = settings[(ids[nsg], "la")]
        assert la["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    for account in ("data-account", "audit-archive-account", "audit-flowlogs-account"):
        metrics = settings[(ids[account], "la")]["metrics"]
        assert metrics == [{"category": "Transaction", "enabled": True}]


def test_audit_logs_are_archived_except_the_archive_own(default_run: MockRun) -> None:
    settings = _settings(default_run)
    archive = default_run.one(ACCOUNT, "audit-archive-account").outputs["id"]
    ids = {r.name: r.outputs["id"] for r in default_run.custom_resources}
    archived = {uri: s for (uri, dest), s in settings.items() if dest == "archive"}
    assert all(s["storageAccountId"] == archive for s in archived.values())
    for name in ("keys-vault", "openai-account", "audit-workspace"):
        assert archived[ids[name]]["logs"] == [{"categoryGroup": "audit", "enabled": True}]
    assert archived[f"{ids['data-account']}/blobServices/default"]["logs"][0] == {
        "categoryGroup": "audit",
        "enabled": True,
    }
    for nsg in ("network-workload-nsg", "network-pe-nsg"):  # no audit group: all logs
        assert archived[ids[nsg]]["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    assert not any(uri.startswith(archive) for uri in archived)


def test_activity_log_goes_to_workspace_and_archive(default_run: MockRun) -> None:
    activity = default_run.one("azure-native:monitor:SubscriptionDiagnosticSetting").inputs
    assert activity["workspaceId"] == default_run.one(WORKSPACE).outputs["id"]
    assert (
        activity["storageAccountId"]
        == default_run.one(ACCOUNT, "audit-archive-account").outputs["id"]
    )
    categories = {log["category"] for log in activity["logs"] if log["enabled"]}
    assert {"Administrative", "Security", "Policy", "Alert"} <= categories


def test_archive_is_immutable_for_the_retention_then_expires(default_run: MockRun) -> None:
    archive = default_run.one(ACCOUNT, "audit-archive-account").inputs
    immutability = archive["immutableStorageWithVersioning"]
    assert immutability["enabled"] is True
    assert immutability["immutabilityPolicy"] == {
        "immutabilityPeriodSinceCreationInDays": 365,
        "state": "Unlocked",
        "allowProtectedAppendWrites": True,
    }
    assert archive["encryption"]["keyVaultProperties"]["keyName"] == "cmk-logs"
    # Azure Monitor writes through the trusted-services path, nothing else gets in.
    assert archive["publicNetworkAccess"] == "Enabled"
    assert archive["networkRuleSet"]["defaultAction"] == "Deny"
    assert archive["networkRuleSet"]["bypass"] == "AzureServices"
    assert archive["networkRuleSet"]["ipRules"] == []
    assert archive["allowSharedKeyAccess"] is False
    rule = default_run.one("azure-native:storage:ManagementPolicy", "audit-archive-lifecycle")
    actions = rule.inputs["policy"]["rules"][0]["definition"]["actions"]
    assert actions["baseBlob"]["delete"] == {"daysAfterCreationGreaterThan": 365}
    assert actions["version"]["delete"] == {"daysAfterCreationGreaterThan": 365}


def test_vnet_flow_logs_with_retention_identity_and_traffic_analytics(
    default_run: MockRun,
) -> None:
    flow = default_run.one("azure-native:network:FlowLog").inputs
    assert (
        flow["targetResourceId"]
        == default_run.one("azure-native:network:VirtualNetwork").outputs["id"]
    )
    assert flow["networkWatcherName"] == "NetworkWatcher_eastus2"
    assert flow["resourceGroupName"] == "NetworkWatcherRG"
    assert flow["enabled"] is True
    assert flow["retentionPolicy"] == {"enabled": True, "days": 365}
    store = default_run.one(ACCOUNT, "audit-flowlogs-account")
    assert flow["storageId"] == store.outputs["id"]
    assert store.inputs["encryption"]["keyVaultProperties"]["keyName"] == "cmk-logs"
    analytics = flow["flowAnalyticsConfiguration"]["networkWatcherFlowAnalyticsConfiguration"]
    workspace = default_run.one(WORKSPACE).outputs
    assert analytics["enabled"] is True
    assert analytics["workspaceResourceId"] == workspace["id"]
    assert analytics["workspaceId"] == workspace["customerId"]
    writer = default_run.one(
        "azure-native:managedidentity:UserAssignedIdentity", "audit-flowlog-identity"
    ).outputs
    assert flow["identity"]["userAssignedIdentities"] == [writer["id"]]
    grant = default_run.one("azure-native:authorization:RoleAssignment", "audit-flowlog-writer")
    assert grant.inputs["scope"] == store.outputs["id"]
    assert grant.inputs["principalId"] == writer["principalId"]


def test_retention_beyond_a_year_moves_to_lifecycle_and_caps_the_workspace(
    azure_run: Any,
) -> None:
    long = azure_run(audit={"retention_days": 2192})
    assert long.one(WORKSPACE).inputs["retentionInDays"] == 730
    flow = long.one("azure-native:network:FlowLog").inputs
    assert flow["retentionPolicy"] == {"enabled": False, "days": 0}
    rule = long.one("azure-native:storage:ManagementPolicy", "audit-flowlogs-lifecycle")
    actions = rule.inputs["policy"]["rules"][0]["definition"]["actions"]
    assert actions["baseBlob"]["delete"] == {"daysAfterCreationGreaterThan": 2192}
    archive = long.one(ACCOUNT, "audit-archive-account").inputs
    policy = archive["immutableStorageWithVersioning"]["immutabilityPolicy"]
    assert policy["immutabilityPeriodSinceCreationInDays"] == 2192


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            {"immutable_archive": False},
            {
                "audit-archive-account": {
                    "immutableStorageWithVersioning.enabled",
                    "immutableStorageWithVersioning.immutabilityPolicy.state",
                    "immutableStorageWithVersioning.immutabilityPolicy."
                    "immutabilityPeriodSinceCreationInDays",
                    "immutableStorageWithVersioning.immutabilityPolicy.allowProtectedAppendWrites",
                }
            },
        ),
        (
            {"lock_immutability": True},
            {"audit-archive-account": {"immutableStorageWithVersioning.immutabilityPolicy.state"}},
        ),
        (
            {"export_activity_log": False},
            {"-": {"azure-native:monitor:SubscriptionDiagnosticSetting/audit-activity-log"}},
        ),
        ({"public_query_access": True}, {"audit-workspace": {"publicNetworkAccessForQuery"}}),
    ],
)
def test_logging_weakenings_change_only_what_they_name(
    azure_run: Any, default_run: MockRun, az: Any, args: dict[str, Any], expected: Any
) -> None:
    assert az.diff(default_run, azure_run(audit=args)) == expected


def test_locking_is_the_policy_state(azure_run: Any) -> None:
    locked = azure_run(audit={"lock_immutability": True})
    archive = locked.one(ACCOUNT, "audit-archive-account").inputs
    assert archive["immutableStorageWithVersioning"]["immutabilityPolicy"]["state"] == "Locked"


# ------------------------------------------------------------------ private endpoints
REQUIRED_ZONES = {
    "privatelink.openai.azure.com",
    "privatelink.cognitiveservices.azure.com",
    "privatelink.vaultcore.azure.net",
    "privatelink.blob.core.windows.net",
}


def test_private_endpoints_for_ai_vault_and_storage(default_run: MockRun) -> None:
    subnet = default_run.one("azure-native:network:Subnet", "network-pe").outputs["id"]
    endpoints = {
        e.name: e.inputs for e in default_run.of_type("azure-native:network:PrivateEndpoint")
    }
    targets = {
        "endpoints-openai": ("openai-account", "account"),
        "endpoints-vault": ("keys-vault", "vault"),
        "endpoints-data-blob": ("data-account", "blob"),
        "endpoints-audit-archive-blob": ("audit-archive-account", "blob"),
        "endpoints-audit-flowlogs-blob": ("audit-flowlogs-account", "blob"),
    }
    assert set(endpoints) == set(targets)
    ids = {r.name: r.outputs["id"] for r in default_run.custom_resources}
    for name, (resource, group) in targets.items():
        endpoint = endpoints[name]
        assert endpoint["subnet"]["id"] == subnet
        (connection,) = endpoint["privateLinkServiceConnections"]
        assert connection["privateLinkServiceId"] == ids[resource]
        assert connection["groupIds"] == [group]


def test_dns_zones_are_linked_without_registration_and_used_by_zone_groups(
    default_run: MockRun,
) -> None:
    zones = {
        z.inputs["privateZoneName"]: z.outputs["id"]
        for z in default_run.of_type("azure-native:privatedns:PrivateZone")
    }
    assert set(zones) >= REQUIRED_ZONES
    vnet = default_run.one("azure-native:network:VirtualNetwork").outputs["id"]
    links = default_run.of_type("azure-native:privatedns:VirtualNetworkLink")
    assert {link.inputs["privateZoneName"] for link in links} == set(zones)
    for link in links:
        assert link.inputs["registrationEnabled"] is False
        assert link.inputs["virtualNetwork"]["id"] == vnet
    groups = {
        g.name: {c["privateDnsZoneId"] for c in g.inputs["privateDnsZoneConfigs"]}
        for g in default_run.of_type("azure-native:network:PrivateDnsZoneGroup")
    }
    assert groups["endpoints-vault-dns"] == {zones["privatelink.vaultcore.azure.net"]}
    assert groups["endpoints-data-blob-dns"] == {zones["privatelink.blob.core.windows.net"]}
    assert {
        zones["privatelink.openai.azure.com"],
        zones["privatelink.cognitiveservices.azure.com"],
    } <= groups["endpoints-openai-dns"]


def test_us_government_regions_get_their_own_zones(azure_run: Any) -> None:
    from aiscaffold_components.azure._common import cloud_suffixes

    suffixes = cloud_suffixes("usgovvirginia")
    assert suffixes.key_vault == "privatelink.vaultcore.usgovcloudapi.net"
    assert suffixes.openai == "privatelink.openai.azure.us"
    assert cloud_suffixes("westeurope").blob == "privatelink.blob.core.windows.net"
