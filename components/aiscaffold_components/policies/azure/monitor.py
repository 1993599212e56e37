"""Azure Monitor: diagnostic settings on every resource that has logs, an archived copy
of audit logs, the activity log exported, a private Entra-only workspace keeping logs
for the profile's retention.

Which resources must log (the types whose diagnostic settings export logs or metrics):

=====================  ====================================================
Key Vault              AuditEvent: every key and secret operation
AI account             Audit, RequestResponse: every model call (LOG-05)
network security group rule and event logs
virtual network        VM protection alerts
public IP address      DDoS notifications, mitigation reports and flows
Log Analytics          Audit: every query
storage blob service   StorageRead, StorageWrite, StorageDelete (LOG-06)
storage account        Transaction metrics (the account level has no logs)
NAT gateway            metrics only (bytes, packets, SNAT connections)
Event Grid system      DeliveryFailures: an event (a secret expiry alert, a
topic                  rotation call) Event Grid could not deliver
=====================  ====================================================

Private endpoints, private DNS zones, subnets and managed identities export nothing
through diagnostic settings (their few metrics are not exportable).

The archive account's own blob logs go to Log Analytics only: archiving them into the
archive would log every write it logs (AZURE-MON-004 does not ask for it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import (
    ACTIVITY_LOG,
    AI_ACCOUNT,
    DIAGNOSTIC,
    NAT_GATEWAY,
    NSG,
    PUBLIC_IP,
    STORAGE,
    SYSTEM_TOPIC,
    TABLE,
    VAULT,
    VNET,
    WORKSPACE,
    azure_resources,
    days,
    id_path,
    name_of,
    of_type,
    refers_to,
)
from .storage import log_accounts

#: Longest interactive retention of a Log Analytics workspace; the audit tables' long-term
#: retention (AZURE-MON-010) and the archive keep the rest of the required period.
WORKSPACE_MAX_DAYS = 730
#: Tables holding audit records (activity log, resource logs in AzureDiagnostics or
#: their resource-specific tables, Key Vault and blob access, workspace queries).
AUDIT_TABLES = (
    "AzureActivity",
    "AzureDiagnostics",
    "AZKVAuditLogs",
    "StorageBlobLogs",
    "LAQueryLogs",
)
#: Every category of the subscription activity log.
ACTIVITY_CATEGORIES = (
    "Administrative",
    "Security",
    "ServiceHealth",
    "Alert",
    "Recommendation",
    "Policy",
    "Autoscale",
    "ResourceHealth",
)
#: Types with diagnostic logs, and types with metrics only.
_LOGGED = (VAULT, AI_ACCOUNT, NSG, WORKSPACE, VNET, PUBLIC_IP, SYSTEM_TOPIC)
_METRICS_ONLY = (STORAGE, NAT_GATEWAY)
#: Types whose logs have no "audit" category group: a setting naming it sends nothing,
#: so their archive takes allLogs. An Event Grid system topic's one log category is
#: DeliveryFailures (https://learn.microsoft.com/azure/azure-monitor/reference/supported-logs/microsoft-eventgrid-systemtopics-logs).
_NO_AUDIT_GROUP = (NSG, VNET, PUBLIC_IP, SYSTEM_TOPIC)


def _sends(setting: Resource, groups: Sequence[str]) -> bool:
    """Whether the setting sends an enabled category group among ``groups``."""
    for entry in setting.items("logs"):
        group = entry.get("categoryGroup")
        if entry.get("enabled") is True and group in groups:
            return True
    return False


def _sends_metrics(setting: Resource) -> bool:
    return any(entry.get("enabled") is True for entry in setting.items("metrics"))


def _blob_path(account: Resource) -> tuple[tuple[str, str], ...]:
    return (("storageaccounts", name_of(account, "accountName")), ("blobservices", "default"))


class _Settings:
    """Diagnostic settings of the stack by the resource they are on."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self.settings = [(s, s.get("resourceUri")) for s in of_type(resources, DIAGNOSTIC)]

    def on(self, target: Resource) -> list[Resource]:
        return [s for s, uri in self.settings if refers_to(uri, target)]

    def on_blobs(self, account: Resource) -> list[Resource]:
        path = _blob_path(account)
        return [s for s, uri in self.settings if isinstance(uri, str) and id_path(uri) == path]


def _to_workspace(settings: list[Resource]) -> list[Resource]:
    return [s for s in settings if s.get("workspaceId")]


def _to_storage(settings: list[Resource]) -> list[Resource]:
    return [s for s in settings if s.get("storageAccountId")]


@stack_policy(
    id="AZURE-MON-001",
    title="Every resource with diagnostic logs sends them to Log Analytics",
    severity="high",
    controls=["LOG-02"],
    remediation="Add a diagnostic setting with the allLogs category group (and metrics) "
    "to a Log Analytics workspace on each vault, AI account, security group, VNet, public "
    "IP, Event Grid system topic and workspace, and one with metrics on each storage account and NAT gateway "
    "(AuditLogging's diagnostic_targets).",
)
def diagnostic_logs(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Key and secret operations, model calls, security group and network events, DDoS
    notifications, undelivered events (secret expiry alerts) and queries are recorded
    where they can be searched and alerted on, and so are the metrics of resources
    without logs."""
    targets = of_type(resources, *_LOGGED)
    measured = of_type(resources, *_METRICS_ONLY)
    if not targets and not measured:
        raise NotApplicable("no resource with diagnostic logs")
    index = _Settings(resources)
    for target in targets:
        settings = _to_workspace(index.on(target))
        if not any(_sends(s, ("allLogs",)) for s in settings):
            yield target, f"{target.name} sends no allLogs diagnostic logs to Log Analytics"
    for resource in measured:
        if not any(_sends_metrics(s) for s in _to_workspace(index.on(resource))):
            yield resource, f"{resource.name} sends no metrics to Log Analytics"


@stack_policy(
    id="AZURE-MON-002",
    title="Model calls are logged (AI account request and response logs)",
    severity="high",
    controls=["LOG-05"],
    remediation="Send the AI account's allLogs category group (Audit, RequestResponse) to "
    "Log Analytics (AuditLogging(diagnostic_targets=[*openai.diagnostic_targets, ...])).",
)
def model_call_logs(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Every call to the models is recorded with its caller, deployment and outcome."""
    accounts = of_type(resources, AI_ACCOUNT)
    if not accounts:
        raise NotApplicable("no AI accounts")
    index = _Settings(resources)
    for account in accounts:
        if not any(_sends(s, ("allLogs",)) for s in _to_workspace(index.on(account))):
            yield account, f"{account.name}'s model calls are not logged to Log Analytics"


@stack_policy(
    id="AZURE-MON-003",
    title="Storage accounts log blob access",
    severity="high",
    controls=["LOG-06"],
    remediation="Add a diagnostic setting on '<account>/blobServices/default' sending the "
    "allLogs category group to Log Analytics (SecureStorage's diagnostic_targets).",
)
def storage_access_logs(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Reads, writes and deletes of blobs are recorded for every storage account,
    whether or not the program declares its blob service."""
    accounts = of_type(resources, STORAGE)
    if not accounts:
        raise NotApplicable("no storage accounts")
    index = _Settings(resources)
    for account in accounts:
        if not any(_sends(s, ("allLogs",)) for s in _to_workspace(index.on_blobs(account))):
            yield account, f"{account.name} does not log blob reads, writes and deletes"


def _region(value: object) -> str:
    return str(value or "").replace(" ", "").lower()


@stack_policy(
    id="AZURE-MON-004",
    title="Audit logs are copied to the immutable archive",
    severity="medium",
    controls=["LOG-03"],
    remediation="Add a diagnostic setting sending the audit category group (allLogs for "
    "security groups, VNets, public IPs and Event Grid system topics) to the archive "
    "storage account on each vault, AI account, security group, VNet, public IP, system "
    "topic, workspace and blob service other than the archive's own (AuditLogging does).",
)
def archived_audit_logs(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Log Analytics data can be purged by its administrators; a copy in the immutable
    archive survives them for the retention period."""
    targets = of_type(resources, *_LOGGED)
    archives, _ = log_accounts(resources)
    accounts = [a for a in of_type(resources, STORAGE) if a not in archives]
    if not targets and not accounts:
        raise NotApplicable("no resource with audit logs")
    index = _Settings(resources)
    # A diagnostic setting writes only to a storage account in the monitored resource's
    # region (https://learn.microsoft.com/azure/azure-monitor/essentials/diagnostic-settings#destination-limitations):
    # resources in another region than every archive (the recovery region's replicas and
    # vault) send their logs to Log Analytics only, which MON-001 checks.
    archive_regions = {_region(a.get("location")) for a in archives} - {""}

    def elsewhere(resource: Resource) -> bool:
        region = _region(resource.get("location"))
        return bool(archive_regions) and bool(region) and region not in archive_regions

    targets = [t for t in targets if not elsewhere(t)]
    accounts = [a for a in accounts if not elsewhere(a)]
    for target in targets:
        groups = ("allLogs",) if target.type in _NO_AUDIT_GROUP else ("audit", "allLogs")
        if not any(_sends(s, groups) for s in _to_storage(index.on(target))):
            yield target, f"{target.name}'s audit logs are not archived to storage"
    for account in accounts:
        settings = _to_storage(index.on_blobs(account))
        if not any(_sends(s, ("audit", "allLogs")) for s in settings):
            yield account, f"{account.name}'s blob audit logs are not archived to storage"


@stack_policy(
    id="AZURE-MON-005",
    title="The subscription activity log is exported",
    severity="high",
    controls=["LOG-01"],
    remediation="Add a subscription diagnostic setting with every activity log category "
    "enabled, to the workspace and the archive account (AuditLogging(export_activity_log="
    "True)); if a platform team exports it already, record that as an override.",
)
def activity_log(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Every management operation on the subscription (who created, changed or deleted
    what, policy and security events) is kept beyond the activity log's 90 days, in
    Log Analytics and the immutable archive."""
    if not azure_resources(resources):
        raise NotApplicable("no Azure resources")
    exports = of_type(resources, ACTIVITY_LOG)
    for export in exports:
        enabled = {str(e.get("category")) for e in export.items("logs") if e.get("enabled") is True}
        missing = [c for c in ACTIVITY_CATEGORIES if c not in enabled]
        if missing:
            yield export, f"{export.name} does not export {', '.join(missing)}"
            continue
        if not export.get("workspaceId") or not export.get("storageAccountId"):
            yield export, f"{export.name} does not export to both Log Analytics and the archive"
    if not exports:
        yield None, "the subscription activity log is not exported"


@resource_policy(
    id="AZURE-MON-006",
    title="Log Analytics keeps logs for the profile's retention",
    severity="high",
    types=[WORKSPACE],
    controls=["LOG-04"],
    remediation=f"Set retentionInDays to log_retention_days (at most {WORKSPACE_MAX_DAYS}; "
    "the audit tables' long-term retention and the archive account keep the rest).",
)
def workspace_retention(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Logs stay queryable for the required period, up to the workspace's 730-day
    interactive limit (Azure's default is 30 days)."""
    required = min(requirements.setting("log_retention_days"), WORKSPACE_MAX_DAYS)
    kept = resource.get("retentionInDays", default=30)
    if kept < required:
        yield f"the workspace keeps logs {days(kept)}; {days(required)} required"


@resource_policy(
    id="AZURE-MON-007",
    title="Log Analytics accepts no public ingestion or queries",
    severity="medium",
    types=[WORKSPACE],
    controls=["PE-03"],
    remediation="Set publicNetworkAccessForIngestion and publicNetworkAccessForQuery "
    "Disabled; query through an Azure Monitor Private Link Scope.",
)
def workspace_private(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Logs are neither written nor read over the internet."""
    for key in ("publicNetworkAccessForIngestion", "publicNetworkAccessForQuery"):
        if resource.get(key) != "Disabled":
            yield f"{key} is not Disabled"


@resource_policy(
    id="AZURE-MON-008",
    title="Log Analytics takes Entra ID authentication only",
    severity="medium",
    types=[WORKSPACE],
    controls=["IAM-03"],
    remediation="Set features.disableLocalAuth true.",
)
def workspace_entra_only(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Workspace keys let anyone holding them write logs; without them, only
    identities with a role can."""
    if resource.get("features", "disableLocalAuth") is not True:
        yield "workspace keys are accepted (features.disableLocalAuth is not true)"


@resource_policy(
    id="AZURE-MON-009",
    title="Log Analytics grants access per resource",
    severity="medium",
    types=[WORKSPACE],
    controls=["IAM-02"],
    remediation="Set features.enableLogAccessUsingOnlyResourcePermissions true.",
)
def workspace_resource_context(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """With resource-context access, a reader sees the logs of the resources they may
    read, not the whole workspace."""
    if resource.get("features", "enableLogAccessUsingOnlyResourcePermissions") is not True:
        yield "workspace-wide permissions decide log access (resource-context access is off)"


@stack_policy(
    id="AZURE-MON-010",
    title="Audit tables keep records for the profile's whole retention",
    severity="medium",
    controls=["LOG-04"],
    remediation="When log_retention_days exceeds the workspace's 730 interactive days, "
    "give each audit table (" + ", ".join(AUDIT_TABLES) + ") a table resource with "
    "totalRetentionInDays of at least log_retention_days (AuditLogging does).",
)
def audit_table_retention(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Beyond 730 days a workspace keeps nothing unless a table's total retention says
    so; the audit tables keep their records in long-term retention (searchable) for the
    rest of the required period, besides the immutable archive's copy."""
    required = requirements.setting("log_retention_days")
    if required <= WORKSPACE_MAX_DAYS:
        raise NotApplicable(f"the workspace's interactive retention covers {days(required)}")
    workspaces = of_type(resources, WORKSPACE)
    if not workspaces:
        raise NotApplicable("no Log Analytics workspace")
    tables = of_type(resources, TABLE)
    for workspace in workspaces:
        name = name_of(workspace, "workspaceName")
        own = {
            name_of(t, "tableName"): t
            for t in tables
            if name and name_of(t, "workspaceName") == name
        }
        for table_name in AUDIT_TABLES:
            table = own.get(table_name.lower())
            if table is None:
                yield (
                    workspace,
                    f"{workspace.name} keeps {table_name} at most {days(WORKSPACE_MAX_DAYS)}; "
                    f"{days(required)} required (no table sets its total retention)",
                )
                continue
            # -1 (or none) falls back to the interactive retention, at most 730 days.
            total = table.get("totalRetentionInDays", default=-1)
            if total < required:
                kept = f"{days(total)}" if total > 0 else "its interactive retention"
                yield table, f"{table.name} keeps {table_name} {kept}; {days(required)} required"
