"""Audit logging: Log Analytics, diagnostic settings everywhere, an immutable archive.

* A Log Analytics workspace keeps logs for ``retention_days``, takes Entra ID
  authentication only and accepts no public ingestion or query (LOG-04). Its
  interactive retention ends at 730 days; beyond that, the tables holding audit
  records (:data:`AUDIT_TABLES`) keep them in long-term retention for the rest of
  ``retention_days`` (table ``totalRetentionInDays``, up to 12 years; read with search
  jobs), and the immutable archive below holds its own copy either way. Beyond two
  years Azure accepts whole years only (1095, 1460, 1826, 2191, 2556 ... 4383 days), so
  the tables keep the smallest of those covering ``retention_days``: 913 days (FedRAMP)
  become 1095, 2192 (six years and a leap day) 2556
  (:func:`~aiscaffold_components.deploy.azure.table_total_retention_days`,
  AZURE-DEPLOY-003). Other tables
  (metrics, traffic analytics) end at 730 days: their source data (flow log blobs) is
  in the log accounts for the full retention. Log Analytics
  encrypts with a customer-managed key only through a dedicated cluster (a 100 GB/day
  commitment): pass ``dedicated_cluster_id`` to link one, otherwise its data is
  encrypted with Microsoft-managed keys.
* Every :class:`DiagnosticTarget` gets two diagnostic settings: the ``allLogs`` category
  group and its metrics to Log Analytics (LOG-02, LOG-05, LOG-06), and its ``audit``
  group (``allLogs`` for resource types without one) to the archive account. The
  workspace and the archive account are targets too.
* The subscription's activity log goes to both (LOG-01).
* The archive is a :class:`~aiscaffold_components.azure.SecureStorage` account
  encrypted with the logs key, holding every blob version immutable for
  ``retention_days`` (LOG-03), locked with ``lock_immutability``, and deleting blobs
  after that (LOG-04).
* VNet flow logs (NET-04) through Network Watcher, of every flow accepted or denied, go
  to a second log account (flow logs rewrite their hourly blobs, which an immutable
  account refuses) with the same retention, written by a dedicated managed identity
  (the account takes no shared keys), with traffic analytics into the workspace.
  ``flow_logs`` has no default: a caller passes :class:`FlowLogArgs` or names the
  weakening ``flow_logs=None``.

Azure Monitor and Network Watcher write to storage only through its public endpoint as
trusted services, so both log accounts admit trusted Azure services and nothing else
(``trusted_services_bypass``); people read them through private endpoints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure_native

from ..deploy.azure import table_total_retention_days
from ._common import (
    CustomerManagedKey,
    DiagnosticTarget,
    PrivateLinkTarget,
    assign_role,
    child_opts,
    plain_name,
    tags_of,
    unique_name,
)
from .storage import SecureStorage, SecureStorageArgs

__all__ = ["AuditLogging", "AuditLoggingArgs", "FlowLogArgs"]

#: Longest interactive retention of a Log Analytics workspace.
_WORKSPACE_MAX_DAYS = 730
#: Longest retention policy a flow log takes; longer retention is the lifecycle rule's.
_FLOW_LOG_MAX_DAYS = 365
#: Longest total (interactive plus long-term) retention of a Log Analytics table.
_TABLE_MAX_DAYS = 4383

#: Log Analytics tables holding audit records, kept for the whole ``retention_days``
#: when that is longer than the workspace's interactive retention. One table resource
#: each, and only then: a retention within 730 days needs none.
AUDIT_TABLES = (
    "AzureActivity",  # the subscription activity log (LOG-01)
    "AzureDiagnostics",  # AI account audit and request logs, security group and VNet events
    "AZKVAuditLogs",  # Key Vault operations (resource-specific mode)
    "StorageBlobLogs",  # blob reads, writes and deletes (LOG-06)
    "LAQueryLogs",  # queries of the workspace itself
)

#: Every activity log category (LOG-01).
ACTIVITY_LOG_CATEGORIES = (
    "Administrative",
    "Security",
    "ServiceHealth",
    "Alert",
    "Recommendation",
    "Policy",
    "Autoscale",
    "ResourceHealth",
)


@dataclass(frozen=True)
class FlowLogArgs:
    """VNet flow logs (Network Watcher) for one virtual network."""

    vnet_id: pulumi.Input[str]
    network_watcher_name: str | None = None
    """Network Watcher of the region; default ``NetworkWatcher_<location>``, the one
    Azure creates when a subscription gets its first VNet there."""
    network_watcher_resource_group: str = "NetworkWatcherRG"
    traffic_analytics: bool = True
    """Send flow analytics to the workspace (10-minute interval)."""


@dataclass(frozen=True)
class AuditLoggingArgs:
    """Arguments of :class:`AuditLogging`."""

    resource_group_name: pulumi.Input[str]
    location: str
    """Azure region (a plain string: it names the region's Network Watcher)."""
    cmk: CustomerManagedKey
    """Key of the log accounts (``keys.cmk("logs")``)."""
    flow_logs: FlowLogArgs | None
    """VNet flow logs (NET-04), e.g. ``FlowLogArgs(vnet_id=network.vnet_id)``. No
    default, because a flow log needs the VNet to log: leaving the argument out is a
    ``TypeError`` rather than a project without flow logs. Weakening: ``None`` creates
    no flow log, no writer identity and no flow-log account (AZURE-NET-007 reports the
    VNet)."""
    retention_days: int = 365
    """How long every log is kept, then deleted (LOG-04); at most 4383 days (12 years,
    the longest a Log Analytics table keeps data). The log accounts keep exactly this;
    Log Analytics tables keep the smallest retention Azure accepts that covers it."""
    diagnostic_targets: Sequence[DiagnosticTarget] = ()
    """Resources whose logs and metrics are collected (components'
    ``diagnostic_targets``)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    immutable_archive: bool = True
    """Weakening when false: archived logs can be changed or deleted before
    ``retention_days``."""
    lock_immutability: bool = False
    """Lock the archive's retention policy so nobody can shorten it (irreversible).
    Azure creates the policy unlocked; set this on a later deployment."""
    export_activity_log: bool = True
    """Weakening when false: the subscription's activity log is not exported (when a
    platform team already exports it)."""
    public_query_access: bool = False
    """Weakening: Log Analytics accepts queries over the internet (portal users
    without an Azure Monitor Private Link Scope)."""
    dedicated_cluster_id: pulumi.Input[str] | None = None
    """Log Analytics dedicated cluster with a customer-managed key to link."""
    archive_sku_name: str = "Standard_ZRS"
    """Replication of the log accounts."""


class AuditLogging(pulumi.ComponentResource):
    """Log Analytics, diagnostic settings, activity log export and an immutable archive."""

    workspace_id: pulumi.Output[str]
    workspace_customer_id: pulumi.Output[str]
    archive_account_id: pulumi.Output[str]
    flow_log_account_id: pulumi.Output[str] | None
    flow_log_id: pulumi.Output[str] | None
    private_links: list[PrivateLinkTarget]
    """Blob endpoints of the log accounts, for people reading them privately."""

    def __init__(
        self, name: str, args: AuditLoggingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:azure:AuditLogging", name, None, opts)
        if not 30 <= args.retention_days <= _TABLE_MAX_DAYS:
            raise ValueError(f"retention_days must be between 30 and {_TABLE_MAX_DAYS}")
        tags = tags_of(args.tags)

        workspace = azure_native.operationalinsights.Workspace(
            f"{name}-workspace",
            resource_group_name=args.resource_group_name,
            workspace_name=unique_name("workspace", name),
            location=args.location,
            sku=azure_native.operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=min(args.retention_days, _WORKSPACE_MAX_DAYS),
            features=azure_native.operationalinsights.WorkspaceFeaturesArgs(
                disable_local_auth=True,
                enable_log_access_using_only_resource_permissions=True,
                cluster_resource_id=args.dedicated_cluster_id,
            ),
            public_network_access_for_ingestion="Disabled",
            public_network_access_for_query="Enabled" if args.public_query_access else "Disabled",
            tags=tags,
            opts=child_opts(self),
        )
        if args.retention_days > _WORKSPACE_MAX_DAYS:
            # Rounded up to the whole years Azure accepts, never below the requirement.
            total_days = table_total_retention_days(args.retention_days)
            for table in AUDIT_TABLES:
                azure_native.operationalinsights.Table(
                    f"{name}-table-{table}",
                    resource_group_name=args.resource_group_name,
                    workspace_name=workspace.name,
                    table_name=table,
                    # Interactive retention stays the workspace's (730 days); the rest
                    # is low-cost long-term retention.
                    total_retention_in_days=total_days,
                    opts=child_opts(self),
                )
        archive = SecureStorage(
            f"{name}-archive",
            SecureStorageArgs(
                resource_group_name=args.resource_group_name,
                location=args.location,
                cmk=args.cmk,
                tags=tags,
                containers=("audit-archive",),
                sku_name=args.archive_sku_name,
                immutability_days=args.retention_days if args.immutable_archive else None,
                lock_immutability=args.lock_immutability,
                retention_days=args.retention_days,
                trusted_services_bypass=True,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        targets = [
            *args.diagnostic_targets,
            DiagnosticTarget("workspace", workspace.id),
            # The archive's own logs go to Log Analytics only: archiving them into
            # itself would log every write it logs.
            *(dataclasses.replace(t, archive_group=None) for t in archive.diagnostic_targets),
        ]

        self.flow_log_account_id = None
        self.flow_log_id = None
        self.private_links = [archive.private_link]
        if args.flow_logs is not None:
            flow_store = SecureStorage(
                f"{name}-flowlogs",
                SecureStorageArgs(
                    resource_group_name=args.resource_group_name,
                    location=args.location,
                    cmk=args.cmk,
                    tags=tags,
                    containers=(),
                    sku_name=args.archive_sku_name,
                    retention_days=args.retention_days,
                    trusted_services_bypass=True,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            targets.extend(flow_store.diagnostic_targets)
            self.private_links.append(flow_store.private_link)
            self.flow_log_account_id = flow_store.account_id
            self.flow_log_id = self._flow_log(
                name, args, args.flow_logs, tags, flow_store, workspace
            ).id

        names = [t.name for t in targets]
        if len(set(names)) != len(names):
            raise ValueError(f"diagnostic target names must be unique: {names}")
        for target in targets:
            self._diagnostics(name, target, workspace.id, archive.account_id)

        if args.export_activity_log:
            azure_native.monitor.SubscriptionDiagnosticSetting(
                f"{name}-activity-log",
                name=plain_name("activity", name, limit=60),
                workspace_id=workspace.id,
                storage_account_id=archive.account_id,
                logs=[
                    azure_native.monitor.SubscriptionLogSettingsArgs(category=c, enabled=True)
                    for c in ACTIVITY_LOG_CATEGORIES
                ],
                opts=child_opts(self),
            )

        self.workspace_id = workspace.id
        self.workspace_customer_id = workspace.customer_id
        self.archive_account_id = archive.account_id
        self.register_outputs(
            {
                "workspace_id": self.workspace_id,
                "workspace_customer_id": self.workspace_customer_id,
                "archive_account_id": self.archive_account_id,
            }
        )

    def _diagnostics(
        self,
        name: str,
        target: DiagnosticTarget,
        workspace_id: pulumi.Input[str],
        archive_id: pulumi.Input[str],
    ) -> None:
        if target.logs or target.metrics:
            azure_native.monitor.DiagnosticSetting(
                f"{name}-{target.name}-la",
                name="aiscaffold-log-analytics",
                resource_uri=target.resource_id,
                workspace_id=workspace_id,
                log_analytics_destination_type="Dedicated",
                logs=(
                    [
                        azure_native.monitor.DiagnosticsLogSettingsArgs(
                            category_group="allLogs", enabled=True
                        )
                    ]
                    if target.logs
                    else []
                ),
                metrics=[
                    azure_native.monitor.DiagnosticsMetricSettingsArgs(category=m, enabled=True)
                    for m in target.metrics
                ],
                opts=child_opts(self),
            )
        if target.logs and target.archive_group:
            azure_native.monitor.DiagnosticSetting(
                f"{name}-{target.name}-archive",
                name="aiscaffold-archive",
                resource_uri=target.resource_id,
                storage_account_id=archive_id,
                logs=[
                    azure_native.monitor.DiagnosticsLogSettingsArgs(
                        category_group=target.archive_group, enabled=True
                    )
                ],
                opts=child_opts(self),
            )

    def _flow_log(
        self,
        name: str,
        args: AuditLoggingArgs,
        flow: FlowLogArgs,
        tags: dict[str, str],
        store: SecureStorage,
        workspace: azure_native.operationalinsights.Workspace,
    ) -> azure_native.network.FlowLog:
        writer = azure_native.managedidentity.UserAssignedIdentity(
            f"{name}-flowlog-identity",
            resource_group_name=args.resource_group_name,
            resource_name_=plain_name("id", f"{name}-flowlogs"),
            location=args.location,
            tags=tags,
            opts=child_opts(self),
        )
        # On the account, not a container: Network Watcher creates and names its
        # container itself (insights-logs-flowlogflowevent) and documents Storage Blob
        # Data Contributor on the account as what its identity needs; a grant on a
        # container made in advance would rely on undocumented behaviour, and a flow
        # log that cannot write fails silently. The account is dedicated to flow logs,
        # so the grant reaches nothing else (AZURE-IAM-005 checks that).
        grant = assign_role(
            f"{name}-flowlog-writer",
            scope=store.account_id,
            principal_id=writer.principal_id,
            role="Storage Blob Data Contributor",
            parent=self,
        )
        keep = args.retention_days <= _FLOW_LOG_MAX_DAYS
        return azure_native.network.FlowLog(
            f"{name}-flowlog",
            resource_group_name=flow.network_watcher_resource_group,
            network_watcher_name=flow.network_watcher_name or f"NetworkWatcher_{args.location}",
            flow_log_name=plain_name("flowlog", name),
            location=args.location,
            target_resource_id=flow.vnet_id,
            storage_id=store.account_id,
            enabled=True,
            format=azure_native.network.FlowLogFormatParametersArgs(type="JSON", version=2),
            # Up to 365 days the flow log expires its own records; beyond that it keeps
            # them and the account's lifecycle rule deletes them at retention_days.
            retention_policy=azure_native.network.RetentionPolicyParametersArgs(
                enabled=keep, days=args.retention_days if keep else 0
            ),
            flow_analytics_configuration=azure_native.network.TrafficAnalyticsPropertiesArgs(
                network_watcher_flow_analytics_configuration=(
                    azure_native.network.TrafficAnalyticsConfigurationPropertiesArgs(
                        enabled=flow.traffic_analytics,
                        workspace_id=workspace.customer_id,
                        workspace_region=args.location,
                        workspace_resource_id=workspace.id,
                        traffic_analytics_interval=10,
                    )
                )
            ),
            identity=azure_native.network.ManagedServiceIdentityArgs(
                type=azure_native.network.ResourceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[writer.id],
            ),
            tags=tags,
            opts=child_opts(self, depends_on=[grant]),
        )
