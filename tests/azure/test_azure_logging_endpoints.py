"""AuditLogging (workspace, diagnostic settings, activity log, archive, flow logs) and
PrivateEndpoints (endpoints, zones, links, zone groups)."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold.testing import CapturedResource, MockRun

SETTING = "azure-native:monitor:DiagnosticSetting"
WORKSPACE = "azure-native:operationalinsights:Workspace"
ACCOUNT = "azure-native:storage:StorageAccount"
TABLE = "azure-native:operationalinsights:Table"


def _azure(run: MockRun) -> list[CapturedResource]:
    """The run's Azure resources (not the propagation waits, time:index/sleep:Sleep)."""
    return [r for r in run.custom_resources if r.type.startswith("azure-native:")]


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


#: What Azure Monitor diagnostic settings export from each resource type the components
#: create (Azure Monitor's supported logs and metrics references): (logs, metrics), or
#: why the type has no diagnostic settings. A type missing here fails the test below,
#: so a new resource type gets this decision.
SUPPORT: dict[str, tuple[bool, bool] | str] = {
    "azure-native:keyvault:Vault": (True, True),
    "azure-native:cognitiveservices:Account": (True, True),
    "azure-native:operationalinsights:Workspace": (True, True),
    "azure-native:network:NetworkSecurityGroup": (True, False),
    "azure-native:network:VirtualNetwork": (True, True),  # VM protection alerts, DDoS
    "azure-native:network:PublicIPAddress": (True, True),  # DDoS logs
    "azure-native:network:NatGateway": (False, True),  # metrics only
    "azure-native:storage:StorageAccount": (False, True),  # account level: Transaction
    "azure-native:storage:BlobServiceProperties": (True, True),  # blob reads, writes...
    "azure-native:network:Subnet": "no diagnostic settings",
    "azure-native:network:PrivateEndpoint": "its metrics are not exportable",
    "azure-native:privatedns:PrivateZone": "its metrics are not exportable",
    "azure-native:privatedns:VirtualNetworkLink": "a zone's sub-resource",
    "azure-native:network:PrivateDnsZoneGroup": "an endpoint's sub-resource",
    "azure-native:network:FlowLog": "writes flow logs itself",
    "azure-native:resources:ResourceGroup": "the activity log records it",
    "azure-native:authorization:ManagementLockAtResourceGroupLevel": "activity log",
    "azure-native:authorization:RoleAssignment": "activity log",
    "azure-native:managedidentity:UserAssignedIdentity": "no diagnostic settings",
    "azure-native:keyvault:Key": "the vault's AuditEvent logs its use",
    "azure-native:keyvault:Secret": "the vault's AuditEvent logs its use",
    "azure-native:cognitiveservices:Deployment": "the account's logs cover it",
    "azure-native:cognitiveservices:RaiPolicy": "the account's logs cover it",
    "azure-native:cognitiveservices:RaiBlocklist": "the account's logs cover it",
    "azure-native:cognitiveservices:RaiBlocklistItem": "the account's logs cover it",
    "azure-native:storage:BlobContainer": "the blob service's logs cover it",
    "azure-native:storage:ManagementPolicy": "the activity log records it",
    "azure-native:operationalinsights:Table": "the workspace's logs cover it",
    # DeliveryFailures logs and delivery metrics (Azure Monitor's supported logs of
    # Microsoft.EventGrid/systemTopics; Event Grid's monitoring data reference):
    # an expiry alert or rotation call that cannot be delivered is recorded.
    "azure-native:eventgrid:SystemTopic": (True, True),
    "azure-native:eventgrid:SystemTopicEventSubscription": "its topic's logs name it",
    # Azure Monitor lists no resource logs or exportable metrics for action groups; their
    # changes are in the activity log, the alerts they send in Azure Monitor's alert history.
    "azure-native:monitor:ActionGroup": "no diagnostic settings",
    # Detection and cost: Azure Monitor's index of resource logs and metrics
    # (https://learn.microsoft.com/azure/azure-monitor/reference/logs-index) lists none
    # for alert rules (Microsoft.Insights has autoscale settings, components and data
    # collection rules only), Defender plans or security contacts (Microsoft.Security has
    # antiMalwareSettings and defenderForStorageSettings only), budgets or scheduled
    # actions (no Microsoft.Consumption, no Microsoft.CostManagement). Their changes are
    # in the activity log, which the alarms watch; fired alerts in the alert history.
    "azure-native:monitor:ActivityLogAlert": "no diagnostic settings",
    "azure-native:monitor:ScheduledQueryRule": "no diagnostic settings",
    "azure-native:monitor:MetricAlert": "no diagnostic settings",
    "azure-native:security:Pricing": "no diagnostic settings",
    "azure-native:security:SecurityContact": "no diagnostic settings",
    "azure-native:consumption:Budget": "no diagnostic settings",
    "azure-native:costmanagement:ScheduledActionByScope": "no diagnostic settings",
    "azure-native:monitor:DiagnosticSetting": "is one",
    "azure-native:monitor:SubscriptionDiagnosticSetting": "is one",
}


@pytest.mark.parametrize(
    "overrides",
    [{}, {"network": {"allow_internet_egress": True}}, {"audit": {"retention_days": 2192}}],
    ids=["defaults", "internet-egress", "long-retention"],
)
def test_every_resource_with_diagnostics_sends_them_to_log_analytics_and_archives_its_logs(
    azure_run: Any, overrides: dict[str, dict[str, Any]]
) -> None:
    run = azure_run(**overrides)
    settings = _settings(run)
    workspace = run.one(WORKSPACE).outputs["id"]
    archive = run.one(ACCOUNT, "audit-archive-account").outputs["id"]
    unknown = {r.type for r in _azure(run)} - set(SUPPORT)
    assert not unknown, f"decide what diagnostic settings these types have: {unknown}"
    covered = 0
    for resource in _azure(run):
        support = SUPPORT[resource.type]
        if isinstance(support, str):
            assert (resource.outputs["id"], "la") not in settings, resource.name
            continue
        logs, metrics = support
        la = settings[(resource.outputs["id"], "la")]
        assert la["workspaceId"] == workspace, resource.name
        assert la["logAnalyticsDestinationType"] == "Dedicated"
        assert la["logs"] == ([{"categoryGroup": "allLogs", "enabled": True}] if logs else [])
        assert bool(la["metrics"]) is metrics, resource.name
        assert all(m["enabled"] for m in la["metrics"])
        # Logs are archived too, except the archive's own (it would log its own writes).
        archived = settings.get((resource.outputs["id"], "archive"))
        if logs and not resource.outputs["id"].startswith(archive):
            assert archived is not None, resource.name
            assert archived["storageAccountId"] == archive
            assert archived["logs"][0]["enabled"] is True
        else:
            assert archived is None, resource.name
        covered += 1
    # Every setting is on a resource of the run: none points elsewhere.
    ids = {r.outputs["id"] for r in _azure(run)}
    assert {uri for uri, _ in settings} <= ids
    assert covered == len({uri for uri, _ in settings})


def test_metric_categories_fit_each_type(default_run: MockRun) -> None:
    settings = _settings(default_run)
    ids = {r.name: r.outputs["id"] for r in _azure(default_run)}
    for account in ("data-account", "audit-archive-account", "audit-flowlogs-account"):
        metrics = settings[(ids[account], "la")]["metrics"]
        assert metrics == [{"category": "Transaction", "enabled": True}]
    for name in ("keys-vault", "openai-account", "audit-workspace", "network-vnet"):
        assert settings[(ids[name], "la")]["metrics"] == [
            {"category": "AllMetrics", "enabled": True}
        ]


def test_audit_logs_are_archived_except_the_archive_own(default_run: MockRun) -> None:
    settings = _settings(default_run)
    archive = default_run.one(ACCOUNT, "audit-archive-account").outputs["id"]
    ids = {r.name: r.outputs["id"] for r in _azure(default_run)}
    archived = {uri: s for (uri, dest), s in settings.items() if dest == "archive"}
    assert all(s["storageAccountId"] == archive for s in archived.values())
    for name in ("keys-vault", "openai-account", "audit-workspace"):
        assert archived[ids[name]]["logs"] == [{"categoryGroup": "audit", "enabled": True}]
    assert archived[f"{ids['data-account']}/blobServices/default"]["logs"][0] == {
        "categoryGroup": "audit",
        "enabled": True,
    }
    # No audit category group on these types: all their logs are archived.
    for name in ("network-workload-nsg", "network-pe-nsg", "network-vnet"):
        assert archived[ids[name]]["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
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
    # The audit tables keep the years beyond the workspace's 730 in long-term retention.
    tables = {t.inputs["tableName"]: t.inputs for t in long.of_type(TABLE)}
    assert set(tables) == {
        "AzureActivity",
        "AzureDiagnostics",
        "AZKVAuditLogs",
        "StorageBlobLogs",
        "LAQueryLogs",
    }
    workspace = long.one(WORKSPACE)
    for table in tables.values():
        # Whole years beyond two (Azure refuses 2192): the smallest covering 2192 days.
        assert table["totalRetentionInDays"] == 2556
        assert table["workspaceName"] == workspace.outputs["name"]
        assert "retentionInDays" not in table  # interactive: the workspace's 730 days


def test_retention_within_the_workspace_limit_needs_no_tables(
    azure_run: Any, default_run: MockRun, az: Any
) -> None:
    assert not default_run.of_type(TABLE)
    two_years = azure_run(audit={"retention_days": 730})
    assert not two_years.of_type(TABLE)
    assert two_years.one(WORKSPACE).inputs["retentionInDays"] == 730
    # Beyond it the tables are all that is added.
    changes = az.diff(two_years, azure_run(audit={"retention_days": 731}))
    assert {c.split("/")[0] for c in changes.pop("+")} == {TABLE}
    assert "-" not in changes
    assert "audit-workspace" not in changes  # stays at 730


def test_retention_beyond_what_log_analytics_keeps_is_refused(azure_run: Any) -> None:
    from aiscaffold.testing import ProgramError

    with pytest.raises(ProgramError, match="between 30 and 4383"):
        azure_run(audit={"retention_days": 4384})


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


def test_weakening_traffic_analytics_off_changes_only_its_switch(
    azure_run: Any, default_run: MockRun, az: Any
) -> None:
    off = azure_run(flow_logs={"traffic_analytics": False})
    analytics = "flowAnalyticsConfiguration.networkWatcherFlowAnalyticsConfiguration"
    assert az.diff(default_run, off) == {"audit-flowlog": {f"{analytics}.enabled"}}
    flow = off.one("azure-native:network:FlowLog").inputs
    assert flow["enabled"] is True  # the flow log itself still records every flow


def test_leaving_out_flow_logs_is_an_error_not_a_silent_weakening() -> None:
    from aiscaffold_components.azure import AuditLoggingArgs, CustomerManagedKey

    cmk = CustomerManagedKey(
        key_name="logs",
        vault_uri="https://kv.vault.azure.net/",
        identity_id="/subscriptions/0/identity",
        identity_client_id="00000000-0000-0000-0000-000000000000",
    )
    with pytest.raises(TypeError, match="flow_logs"):
        AuditLoggingArgs(resource_group_name="rg", location="eastus2", cmk=cmk)  # type: ignore[call-arg]
    # Naming the weakening is accepted (what it removes is the next test).
    named = AuditLoggingArgs(resource_group_name="rg", location="eastus2", cmk=cmk, flow_logs=None)
    assert named.flow_logs is None


def test_without_flow_logs_only_the_flow_log_and_its_storage_go(
    azure_run: Any, default_run: MockRun, az: Any
) -> None:
    changes = az.diff(default_run, azure_run(audit={"flow_logs": None}))
    assert changes == {
        "-": {
            "azure-native:network:FlowLog/audit-flowlog",
            "azure-native:managedidentity:UserAssignedIdentity/audit-flowlog-identity",
            "azure-native:authorization:RoleAssignment/audit-flowlog-writer",
            # The flow-log account with its blob service, lifecycle rule, diagnostics
            # and private endpoint.
            "azure-native:storage:StorageAccount/audit-flowlogs-account",
            "azure-native:storage:BlobServiceProperties/audit-flowlogs-blob-service",
            "azure-native:storage:ManagementPolicy/audit-flowlogs-lifecycle",
            "azure-native:monitor:DiagnosticSetting/audit-audit-flowlogs-account-la",
            "azure-native:monitor:DiagnosticSetting/audit-audit-flowlogs-blob-la",
            "azure-native:monitor:DiagnosticSetting/audit-audit-flowlogs-blob-archive",
            "azure-native:network:PrivateEndpoint/endpoints-audit-flowlogs-blob",
            "azure-native:network:PrivateDnsZoneGroup/endpoints-audit-flowlogs-blob-dns",
        }
    }


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
    ids = {r.name: r.outputs["id"] for r in _azure(default_run)}
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
