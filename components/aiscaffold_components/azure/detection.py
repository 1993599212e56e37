"""Detection and response: Defender for Cloud, alerts on AI tampering and misuse, SIEM
export (DET-01..04).

* :class:`ThreatDetection` (DET-01, DET-02) turns on the Defender for Cloud plans that
  watch what the project runs (AI services, Key Vault, Storage, Resource Manager), names
  the subscription's security contact, and routes every high-severity Defender alert to
  the alert channel. The plans and the contact exist once per subscription: the program
  creates this component only when the stack owns the subscription's services
  (``account_services: this-stack``).
* :class:`SecurityAlarms` (DET-02, DET-03) raises an alert, routed to the alert channel
  and carrying a severity and a runbook link (``docs/incident-response.md#<name>``),
  when the audit trail shows the AI guardrail, the logging, the keys, the workload's
  permissions or the private network changed, when a secret is read by another
  principal than the workload, and when content-filter blocks or model calls surge.
* :class:`SiemExport` (DET-04) lets one central SIEM identity read the project's Log
  Analytics workspace, and nothing else.

How each alert is raised (the fewest moving parts that deliver it):

==============================  ==============================================================
control-plane changes           activity log alerts (Azure Resource Manager writes every
                                create, update and delete to the activity log, which the
                                alert service evaluates as events arrive, without a
                                query or a workspace: https://learn.microsoft.com/azure/azure-monitor/alerts/activity-log-alerts)
Key Vault data plane            scheduled query rules over ``AZKVAuditLogs``, the
                                resource-specific table the vault's diagnostic setting
                                writes (AuditLogging sends resource logs with
                                ``logAnalyticsDestinationType: Dedicated``), and over
                                ``AzureActivity`` (the exported activity log)
content filter, model calls     metric alerts on the AI account's platform metrics: no log
                                needed, evaluated every minute
Defender for Cloud alerts       an activity log alert on the ``Security`` category:
                                Defender writes each alert it raises to the subscription's
                                activity log (operation
                                ``Microsoft.Security/locations/alerts/activate/action``,
                                ``properties.Severity``)
==============================  ==============================================================

Activity log alert rules have no severity field (the 2020-10-01 API): the alarm's
severity travels in its tags, its description and the properties it adds to the
notification (``webhookProperties``, shown by the common alert schema), like its runbook.

Scheduled query rules run without a managed identity: a rule without one runs its query
with the permissions of the identity that last saved it (the deployer), which reads the
workspace anyway; an identity would add a role assignment and a propagation wait for no
gain in what is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_azure_native as azure_native

from ._common import assign_role, child_opts, tags_of

__all__ = [
    "ALARMS",
    "DEFENDER_PLANS",
    "AlarmSpec",
    "SecurityAlarms",
    "SecurityAlarmsArgs",
    "SiemExport",
    "SiemExportArgs",
    "ThreatDetection",
    "ThreatDetectionArgs",
]

Severity = Literal["high", "medium"]

#: Azure Monitor alert severities (0 critical .. 4 verbose) by the alarm's severity.
_AZURE_SEVERITY: dict[Severity, int] = {"high": 1, "medium": 2}

#: Where the generated project's playbook lives; each alarm links to its own anchor.
RUNBOOK = "docs/incident-response.md"


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: its name suffix (the same on every cloud), severity and what it watches.

    The alert rule is named ``<name_prefix>-<name>``; its runbook is
    ``docs/incident-response.md#<name>``.
    """

    name: str
    severity: Severity
    summary: str

    @property
    def runbook(self) -> str:
        return f"{RUNBOOK}#{self.name}"


#: Every alarm the components create, by name. ``prompt-attack-surge`` is not among them:
#: Azure OpenAI counts requests its prompt shields block in the same "Blocked Volume"
#: metric as every other content-filter block (``RAIRejectedRequests``, split only by
#: category), so ``guardrail-intervention-surge`` covers them, and Defender for AI raises
#: its own jailbreak alerts (``high-severity-finding`` when high).
ALARMS: dict[str, AlarmSpec] = {
    spec.name: spec
    for spec in (
        AlarmSpec(
            "guardrail-tampering",
            "high",
            "the content filter (RAI policy), its blocklists or a model deployment's binding "
            "to it were created, changed or deleted",
        ),
        AlarmSpec(
            "invocation-logging-disabled",
            "high",
            "a diagnostic setting (model call logs, Key Vault audit, activity log export) "
            "was changed or deleted",
        ),
        AlarmSpec(
            "key-tampering",
            "high",
            "a key was deleted, purged, disabled or changed, its rotation policy replaced, "
            "a key imported or backed up, or the vault changed or deleted",
        ),
        AlarmSpec(
            "workload-permissions-changed",
            "high",
            "a role assignment or a managed identity's federated credential in the project "
            "was created or deleted",
        ),
        AlarmSpec(
            "private-network-changed",
            "high",
            "a private endpoint, security rule, private DNS link or the network access of "
            "the AI or storage accounts changed",
        ),
        AlarmSpec(
            "secret-read-by-other-principal",
            "high",
            "a Key Vault secret was read by an identity other than the workload's",
        ),
        AlarmSpec(
            "guardrail-intervention-surge",
            "medium",
            "the content filter blocked more requests than the threshold (jailbreak and "
            "indirect prompt attacks included)",
        ),
        AlarmSpec(
            "invocation-volume-spike",
            "medium",
            "model calls rose far above their learned baseline (dynamic threshold)",
        ),
        AlarmSpec(
            "high-severity-finding",
            "high",
            "Defender for Cloud raised a high-severity alert in the subscription",
        ),
    )
}

# ------------------------------------------------------------------ what is watched
# Operation names of Azure Resource Manager, as the activity log records them (the
# resource provider operations: https://learn.microsoft.com/azure/role-based-access-control/permissions/ai-machine-learning#microsoftcognitiveservices,
# .../permissions/monitor#microsoftinsights, .../permissions/privileged#microsoftauthorization,
# .../permissions/identity#microsoftmanagedidentity, .../permissions/networking#microsoftnetwork,
# .../permissions/storage#microsoftstorage; activity log schema:
# https://learn.microsoft.com/azure/azure-monitor/essentials/activity-log-schema).

#: The content filter and its binding. A deployment write can rebind a deployment to
#: another (or no) RAI policy, which detaches the guardrail without touching it.
GUARDRAIL_OPERATIONS = (
    "Microsoft.CognitiveServices/accounts/raiPolicies/write",
    "Microsoft.CognitiveServices/accounts/raiPolicies/delete",
    "Microsoft.CognitiveServices/accounts/raiBlocklists/write",
    "Microsoft.CognitiveServices/accounts/raiBlocklists/delete",
    "Microsoft.CognitiveServices/accounts/raiBlocklists/raiBlocklistItems/write",
    "Microsoft.CognitiveServices/accounts/raiBlocklists/raiBlocklistItems/delete",
    "Microsoft.CognitiveServices/accounts/deployments/write",
    "Microsoft.CognitiveServices/accounts/deployments/delete",
)
#: Diagnostic settings: the AI account's Audit and RequestResponse logs (LOG-05), the
#: vault's AuditEvent, the activity log export. One operation covers resource and
#: subscription settings alike.
LOGGING_OPERATIONS = (
    "Microsoft.Insights/diagnosticSettings/write",
    "Microsoft.Insights/diagnosticSettings/delete",
)
#: Who may do what: role assignments on the project's resources, and the federated
#: credentials that let an outside workload sign in as a managed identity.
PERMISSION_OPERATIONS = (
    "Microsoft.Authorization/roleAssignments/write",
    "Microsoft.Authorization/roleAssignments/delete",
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete",
)
#: The private network: endpoints, security rules, the private DNS links that make the
#: endpoints resolve, and the accounts whose public network access a write can reopen.
NETWORK_OPERATIONS = (
    "Microsoft.Network/privateEndpoints/write",
    "Microsoft.Network/privateEndpoints/delete",
    "Microsoft.Network/networkSecurityGroups/securityRules/write",
    "Microsoft.Network/networkSecurityGroups/securityRules/delete",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks/delete",
    "Microsoft.CognitiveServices/accounts/write",
    "Microsoft.Storage/storageAccounts/write",
)
#: Key Vault data-plane operations (``OperationName`` of AZKVAuditLogs) that destroy,
#: disable or replace a key or its rotation, or take its material out of the vault
#: (https://learn.microsoft.com/azure/key-vault/general/logging, "Operation names").
#: Disabling a key is a KeyUpdate of its attributes.
KEY_DATA_OPERATIONS = (
    "KeyDelete",
    "KeyPurge",
    "KeyUpdate",
    "KeyRotationPolicySet",
    "KeyImport",
    "KeyBackup",
)
#: Key Vault control-plane operations (``OperationNameValue`` of AzureActivity): the
#: vault's purge protection, network rules and existence.
KEY_CONTROL_OPERATIONS = (
    "Microsoft.KeyVault/vaults/write",
    "Microsoft.KeyVault/vaults/delete",
)
#: Defender for Cloud's alert activation in the activity log (Security category).
DEFENDER_ALERT_OPERATION = "Microsoft.Security/locations/alerts/activate/action"
#: Azure OpenAI platform metrics (namespace Microsoft.CognitiveServices/accounts):
#: "Blocked Volume", calls rejected by the content filter, and "Azure OpenAI Requests"
#: (https://learn.microsoft.com/azure/ai-services/openai/monitor-openai-reference,
#: https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/microsoft-cognitiveservices-accounts-metrics).
METRIC_NAMESPACE = "Microsoft.CognitiveServices/accounts"
BLOCKED_METRIC = "RAIRejectedRequests"
REQUESTS_METRIC = "AzureOpenAIRequests"

#: Defender for Cloud plans by pricing name, and the sub-plan each takes (None: the
#: plan's only one): Defender for AI services, Key Vault, Storage (the per-account
#: V2 plan, the one with malware scanning) and Resource Manager
#: (https://learn.microsoft.com/rest/api/defenderforcloud/pricings/update,
#: https://learn.microsoft.com/azure/defender-for-cloud/ai-threat-protection).
DEFENDER_PLANS: dict[str, str | None] = {
    "AI": None,
    "KeyVaults": None,
    "StorageAccounts": "DefenderForStorageV2",
    "Arm": None,
}

#: The identity claim holding the caller's object id in Key Vault's audit records: the
#: short ``oid`` claim, or its long form in older records.
_CALLER = (
    "coalesce(tostring(Identity.claim.oid), "
    'tostring(Identity.claim["http://schemas.microsoft.com/identity/claims/objectidentifier"]))'
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _kql_list(values: Sequence[str]) -> str:
    return ", ".join(f'"{v}"' for v in values)


def key_tampering_query() -> str:
    """KQL of ``key-tampering``: data-plane key operations and control-plane vault
    writes, each a row (any row fires the alert)."""
    return (
        "union\n"
        "(AZKVAuditLogs\n"
        f"| where OperationName in ({_kql_list(KEY_DATA_OPERATIONS)})\n"
        "| project TimeGenerated, Operation = OperationName, Caller = "
        f"{_CALLER}, ResultType, Resource = _ResourceId),\n"
        "(AzureActivity\n"
        f"| where OperationNameValue in~ ({_kql_list(KEY_CONTROL_OPERATIONS)})\n"
        '| where ActivityStatusValue in~ ("Success", "Succeeded")\n'
        "| project TimeGenerated, Operation = OperationNameValue, Caller, "
        "ResultType = ActivityStatusValue, Resource = _ResourceId)"
    )


def secret_read_query(allowed_principal_ids: Sequence[str]) -> str:
    """KQL of ``secret-read-by-other-principal``: secret reads by any caller outside
    ``allowed_principal_ids`` (object ids), successful or refused."""
    for principal in allowed_principal_ids:
        if not _GUID.match(principal):
            raise ValueError(f"{principal!r} is not an Entra object id")
    return (
        "AZKVAuditLogs\n"
        '| where OperationName == "SecretGet"\n'
        f"| extend CallerObjectId = {_CALLER}\n"
        f"| where CallerObjectId !in ({_kql_list(allowed_principal_ids)})\n"
        "| project TimeGenerated, CallerObjectId, CallerIpAddress, ResultType, "
        "RequestUri, Resource = _ResourceId"
    )


def _subscription_scope(resource_group_id: str) -> str:
    parts = resource_group_id.split("/")
    if len(parts) < 3 or parts[1].lower() != "subscriptions":
        raise ValueError(f"{resource_group_id!r} is not a resource group id")
    return f"/subscriptions/{parts[2]}"


def _alarm_tags(base: Mapping[str, str], spec: AlarmSpec) -> dict[str, str]:
    return tags_of(
        {**base, "aiscaffold-alarm": spec.name, "severity": spec.severity, "runbook": spec.runbook}
    )


def _properties(spec: AlarmSpec) -> dict[str, str]:
    """What the notification carries besides the alert (common alert schema
    ``customProperties``)."""
    return {"alarm": spec.name, "severity": spec.severity, "runbook": spec.runbook}


def _description(spec: AlarmSpec) -> str:
    return f"[{spec.severity}] Fires when {spec.summary}. Runbook: {spec.runbook}"


def _activity_log_alert(
    parent: pulumi.Resource,
    component: str,
    *,
    spec: AlarmSpec,
    prefix: str,
    resource_group_name: pulumi.Input[str],
    scope: pulumi.Input[str],
    conditions: Sequence[azure_native.monitor.AlertRuleAnyOfOrLeafConditionArgs],
    action_group_id: pulumi.Input[str],
    tags: Mapping[str, str],
) -> azure_native.monitor.ActivityLogAlert:
    return azure_native.monitor.ActivityLogAlert(
        f"{component}-{spec.name}",
        resource_group_name=resource_group_name,
        activity_log_alert_name=f"{prefix}-{spec.name}",
        # Activity log alert rules are global (https://learn.microsoft.com/azure/azure-monitor/alerts/resource-manager-alerts-activity-log).
        location="Global",
        scopes=[scope],
        condition=azure_native.monitor.AlertRuleAllOfConditionArgs(all_of=list(conditions)),
        actions=azure_native.monitor.ActionListArgs(
            action_groups=[
                azure_native.monitor.ActionGroupArgs(
                    action_group_id=action_group_id, webhook_properties=_properties(spec)
                )
            ]
        ),
        enabled=True,
        description=_description(spec),
        tags=_alarm_tags(tags, spec),
        opts=child_opts(parent),
    )


def _operations(
    category: str, operations: Sequence[str]
) -> list[azure_native.monitor.AlertRuleAnyOfOrLeafConditionArgs]:
    """Events of ``category`` whose operation is one of ``operations``."""
    return [
        azure_native.monitor.AlertRuleAnyOfOrLeafConditionArgs(field="category", equals=category),
        azure_native.monitor.AlertRuleAnyOfOrLeafConditionArgs(
            any_of=[
                azure_native.monitor.AlertRuleLeafConditionArgs(field="operationName", equals=op)
                for op in operations
            ]
        ),
    ]


# ====================================================================== ThreatDetection
@dataclass(frozen=True)
class ThreatDetectionArgs:
    """Arguments of :class:`ThreatDetection`."""

    resource_group_name: pulumi.Input[str]
    """Group holding the findings route (an activity log alert rule)."""
    resource_group_id: pulumi.Input[str]
    """Id of the project's resource group: the subscription is read from it."""
    name_prefix: str
    """Alert rules are ``<name_prefix>-<alarm>`` (``<project>-<stack>``)."""
    action_group_id: pulumi.Input[str]
    """The alert channel (``AlertChannel.action_group_id``)."""
    emails: Sequence[str] = ()
    """Security contact addresses (``profile.alert_emails``); Defender also e-mails the
    subscription's owners."""
    tags: Mapping[str, str] = field(default_factory=dict)
    plans: Sequence[str] = tuple(DEFENDER_PLANS)
    """Defender plans turned on (names of :data:`DEFENDER_PLANS`). Weakening: leaving
    one out (AZURE-DET-001 reports it)."""
    malware_scanning_cap_gb: int = 5000
    """Defender for Storage on-upload malware scanning: most GB scanned per storage
    account and month (Azure's default 5000; -1 for no cap), which bounds its cost."""
    sensitive_data_discovery: bool = True
    """Defender for Storage sensitive data discovery (which containers hold
    credentials, card numbers, ...), part of the V2 plan's price."""
    ai_prompt_evidence: bool = False
    """Defender for AI services may show the suspicious segments of prompts and
    responses as alert evidence in the Defender portal. Off by default: that copies
    workload data (possibly the restricted kind) into Defender's alert store."""


class ThreatDetection(pulumi.ComponentResource):
    """Defender for Cloud plans and security contact of the subscription, and the
    route of high-severity Defender alerts to the alert channel (DET-01, DET-02).

    The plans (``Microsoft.Security/pricings``) and the contact
    (``Microsoft.Security/securityContacts/default``) are subscription singletons: one
    stack per subscription creates this component (``account_services: this-stack``).
    Setting a plan needs Security Admin (or Owner) on the subscription; Defender bills
    the plans per protected resource (https://azure.microsoft.com/pricing/details/defender-for-cloud/).
    """

    pricings: dict[str, azure_native.security.Pricing]
    security_contact: azure_native.security.SecurityContact
    findings_alert: azure_native.monitor.ActivityLogAlert
    alarm_names: dict[str, pulumi.Output[str]]
    """Alert rule names by alarm (``high-severity-finding``)."""

    def __init__(
        self, name: str, args: ThreatDetectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        unknown = [p for p in args.plans if p not in DEFENDER_PLANS]
        if unknown:
            raise ValueError(
                f"unknown Defender plans {unknown}: choose from {list(DEFENDER_PLANS)}"
            )
        if not args.plans:
            raise ValueError("ThreatDetection needs at least one Defender plan")
        if args.malware_scanning_cap_gb != -1 and args.malware_scanning_cap_gb < 1:
            raise ValueError("malware_scanning_cap_gb must be positive, or -1 for no cap")
        super().__init__("aiscaffold:azure:ThreatDetection", name, None, opts)
        tags = tags_of(args.tags)
        subscription = pulumi.Output.from_input(args.resource_group_id).apply(_subscription_scope)

        self.pricings = {}
        for plan in args.plans:
            extensions: list[azure_native.security.ExtensionArgs] | None = None
            if plan == "StorageAccounts":
                extensions = [
                    azure_native.security.ExtensionArgs(
                        name="OnUploadMalwareScanning",
                        is_enabled="True",
                        additional_extension_properties={
                            "CapGBPerMonthPerStorageAccount": str(args.malware_scanning_cap_gb)
                        },
                    ),
                    azure_native.security.ExtensionArgs(
                        name="SensitiveDataDiscovery",
                        is_enabled="True" if args.sensitive_data_discovery else "False",
                    ),
                ]
            elif plan == "AI":
                extensions = [
                    azure_native.security.ExtensionArgs(
                        name="AIPromptEvidence",
                        is_enabled="True" if args.ai_prompt_evidence else "False",
                    )
                ]
            self.pricings[plan] = azure_native.security.Pricing(
                f"{name}-plan-{plan.lower()}",
                scope_id=subscription,
                pricing_name=plan,
                pricing_tier="Standard",
                sub_plan=DEFENDER_PLANS[plan],
                extensions=extensions,
                opts=child_opts(self),
            )

        # The subscription's one contact is named "default" (the API accepts no other:
        # https://learn.microsoft.com/rest/api/defenderforcloud/security-contacts/create).
        # Alert e-mails from severity High, to the listed addresses and the owners.
        self.security_contact = azure_native.security.SecurityContact(
            f"{name}-contact",
            security_contact_name="default",
            emails=";".join(args.emails) or None,
            is_enabled=True,
            notifications_by_role=azure_native.security.SecurityContactPropertiesNotificationsByRoleArgs(
                roles=["Owner"], state="On"
            ),
            notifications_sources=[
                azure_native.security.NotificationsSourceAlertArgs(
                    source_type="Alert", minimal_severity="High"
                )
            ],
            opts=child_opts(self),
        )

        # Defender writes each alert to the activity log, category Security, with the
        # alert's severity in properties.Severity (activity log schema, "Security
        # category": https://learn.microsoft.com/azure/azure-monitor/essentials/activity-log-schema#security-category);
        # an activity log alert condition may name any field under "properties"
        # (https://learn.microsoft.com/rest/api/monitor/activity-log-alerts/create-or-update#alertruleleafcondition).
        # Scoped to the subscription, since Defender's alerts are subscription events.
        spec = ALARMS["high-severity-finding"]
        self.findings_alert = _activity_log_alert(
            self,
            name,
            spec=spec,
            prefix=args.name_prefix,
            resource_group_name=args.resource_group_name,
            scope=subscription,
            conditions=[
                *_operations("Security", [DEFENDER_ALERT_OPERATION]),
                azure_native.monitor.AlertRuleAnyOfOrLeafConditionArgs(
                    field="properties.Severity", equals="High"
                ),
            ],
            action_group_id=args.action_group_id,
            tags=tags,
        )
        self.alarm_names = {spec.name: self.findings_alert.name}
        self.register_outputs(
            {
                "plans": list(self.pricings),
                "findings_alert_id": self.findings_alert.id,
            }
        )


# ======================================================================= SecurityAlarms
@dataclass(frozen=True)
class SecurityAlarmsArgs:
    """Arguments of :class:`SecurityAlarms`."""

    resource_group_name: pulumi.Input[str]
    resource_group_id: pulumi.Input[str]
    """The project's resource group: control-plane alerts watch operations below it."""
    location: pulumi.Input[str]
    """Region of the workspace (scheduled query rules live beside it)."""
    name_prefix: str
    """Alert rules are ``<name_prefix>-<alarm>`` (``<project>-<stack>``)."""
    action_group_id: pulumi.Input[str]
    """The alert channel (``AlertChannel.action_group_id``): every rule's action."""
    workspace_id: pulumi.Input[str]
    """Log Analytics workspace holding the Key Vault audit logs and the activity log
    (``AuditLogging.workspace_id``)."""
    ai_account_ids: Sequence[pulumi.Input[str]]
    """AI accounts whose content filter and call volume are watched."""
    secret_reader_ids: Sequence[pulumi.Input[str]]
    """Object ids of the identities allowed to read secrets (the workload's principal
    id); a read by anyone else fires ``secret-read-by-other-principal``."""
    tags: Mapping[str, str] = field(default_factory=dict)
    blocked_requests_threshold: int = 20
    """``guardrail-intervention-surge`` fires when the content filter blocks more
    requests than this within 15 minutes."""
    volume_sensitivity: Literal["Low", "Medium", "High"] = "Low"
    """Dynamic threshold sensitivity of ``invocation-volume-spike``: Low alerts only on
    large deviations from the learned pattern ("far above baseline")."""
    watch_subscription_logging: bool = True
    """``invocation-logging-disabled`` watches diagnostic settings in the whole
    subscription: the activity log export (LOG-01) is a subscription-level setting
    outside the resource group. False narrows it to the project's group."""


class SecurityAlarms(pulumi.ComponentResource):
    """Alerts on AI tampering and misuse from the audit trail (DET-03), each routed to
    the alert channel with a severity and a runbook (DET-02).

    ==============================  ==========  ============================================
    alarm                           kind        watches
    ==============================  ==========  ============================================
    guardrail-tampering             activity    :data:`GUARDRAIL_OPERATIONS` in the group
    invocation-logging-disabled     activity    :data:`LOGGING_OPERATIONS` (subscription)
    workload-permissions-changed    activity    :data:`PERMISSION_OPERATIONS` in the group
    private-network-changed         activity    :data:`NETWORK_OPERATIONS` in the group
    key-tampering                   query       :data:`KEY_DATA_OPERATIONS` (AZKVAuditLogs),
                                                :data:`KEY_CONTROL_OPERATIONS` (AzureActivity)
    secret-read-by-other-principal  query       SecretGet by another caller (AZKVAuditLogs)
    guardrail-intervention-surge    metric      RAIRejectedRequests above a threshold
    invocation-volume-spike         metric      AzureOpenAIRequests, dynamic threshold
    ==============================  ==========  ============================================

    The control-plane alarms fire on the deployer's own ``pulumi up`` as well: that is
    expected, and the runbook starts by comparing the caller with the deployer.
    """

    rules: dict[
        str,
        azure_native.monitor.ActivityLogAlert
        | azure_native.monitor.ScheduledQueryRule
        | azure_native.monitor.MetricAlert,
    ]
    """Alert rule resource by alarm name."""
    alarm_names: dict[str, pulumi.Output[str]]
    """Azure name of each alert rule by alarm name."""

    def __init__(
        self, name: str, args: SecurityAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if args.blocked_requests_threshold < 1:
            raise ValueError("blocked_requests_threshold must be at least 1")
        if not args.ai_account_ids:
            raise ValueError("SecurityAlarms needs the AI account(s) to watch")
        if not args.secret_reader_ids:
            raise ValueError(
                "SecurityAlarms needs the workload's principal id: without it every "
                "secret read would alert"
            )
        super().__init__("aiscaffold:azure:SecurityAlarms", name, None, opts)
        tags = tags_of(args.tags)
        group_id = pulumi.Output.from_input(args.resource_group_id)
        self.rules = {}

        def activity(alarm: str, scope: pulumi.Input[str], operations: Sequence[str]) -> None:
            self.rules[alarm] = _activity_log_alert(
                self,
                name,
                spec=ALARMS[alarm],
                prefix=args.name_prefix,
                resource_group_name=args.resource_group_name,
                scope=scope,
                conditions=_operations("Administrative", operations),
                action_group_id=args.action_group_id,
                tags=tags,
            )

        activity("guardrail-tampering", group_id, GUARDRAIL_OPERATIONS)
        activity(
            "invocation-logging-disabled",
            group_id.apply(_subscription_scope) if args.watch_subscription_logging else group_id,
            LOGGING_OPERATIONS,
        )
        activity("workload-permissions-changed", group_id, PERMISSION_OPERATIONS)
        activity("private-network-changed", group_id, NETWORK_OPERATIONS)

        self.rules["key-tampering"] = self._query_rule(
            name, args, tags, ALARMS["key-tampering"], key_tampering_query()
        )
        readers = pulumi.Output.all(*args.secret_reader_ids).apply(
            lambda ids: secret_read_query([str(i) for i in ids])
        )
        self.rules["secret-read-by-other-principal"] = self._query_rule(
            name, args, tags, ALARMS["secret-read-by-other-principal"], readers
        )
        self.rules["guardrail-intervention-surge"] = self._blocked_alert(name, args, tags)
        self.rules["invocation-volume-spike"] = self._volume_alert(name, args, tags)

        self.alarm_names = {alarm: rule.name for alarm, rule in self.rules.items()}
        self.register_outputs({"alarm_names": self.alarm_names})

    def _query_rule(
        self,
        name: str,
        args: SecurityAlarmsArgs,
        tags: Mapping[str, str],
        spec: AlarmSpec,
        query: pulumi.Input[str],
    ) -> azure_native.monitor.ScheduledQueryRule:
        # Every 5 minutes over the last 5: any row fires (threshold 0 on the row count).
        # The rule does not resolve itself: each event is looked at by someone.
        return azure_native.monitor.ScheduledQueryRule(
            f"{name}-{spec.name}",
            resource_group_name=args.resource_group_name,
            rule_name=f"{args.name_prefix}-{spec.name}",
            location=args.location,
            kind="LogAlert",
            display_name=f"{args.name_prefix}-{spec.name}",
            description=_description(spec),
            severity=_AZURE_SEVERITY[spec.severity],
            enabled=True,
            scopes=[args.workspace_id],
            evaluation_frequency="PT5M",
            window_size="PT5M",
            criteria=azure_native.monitor.ScheduledQueryRuleCriteriaArgs(
                all_of=[
                    azure_native.monitor.ConditionArgs(
                        query=query,
                        time_aggregation="Count",
                        operator="GreaterThan",
                        threshold=0,
                        failing_periods=azure_native.monitor.ConditionFailingPeriodsArgs(
                            number_of_evaluation_periods=1, min_failing_periods_to_alert=1
                        ),
                    )
                ]
            ),
            auto_mitigate=False,
            actions=azure_native.monitor.ActionsArgs(
                action_groups=[args.action_group_id], action_properties=_properties(spec)
            ),
            tags=_alarm_tags(tags, spec),
            opts=child_opts(self),
        )

    def _metric_alert(
        self,
        name: str,
        args: SecurityAlarmsArgs,
        tags: Mapping[str, str],
        spec: AlarmSpec,
        criteria: (
            azure_native.monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs
            | azure_native.monitor.MetricAlertMultipleResourceMultipleMetricCriteriaArgs
        ),
        *,
        window: str,
    ) -> azure_native.monitor.MetricAlert:
        return azure_native.monitor.MetricAlert(
            f"{name}-{spec.name}",
            resource_group_name=args.resource_group_name,
            rule_name=f"{args.name_prefix}-{spec.name}",
            location="global",
            description=_description(spec),
            severity=_AZURE_SEVERITY[spec.severity],
            enabled=True,
            scopes=list(args.ai_account_ids),
            target_resource_type=METRIC_NAMESPACE if len(args.ai_account_ids) > 1 else None,
            target_resource_region=args.location if len(args.ai_account_ids) > 1 else None,
            evaluation_frequency="PT5M",
            window_size=window,
            criteria=criteria,
            auto_mitigate=True,
            actions=[
                azure_native.monitor.MetricAlertActionArgs(
                    action_group_id=args.action_group_id, web_hook_properties=_properties(spec)
                )
            ],
            tags=_alarm_tags(tags, spec),
            opts=child_opts(self),
        )

    def _blocked_alert(
        self, name: str, args: SecurityAlarmsArgs, tags: Mapping[str, str]
    ) -> azure_native.monitor.MetricAlert:
        static = azure_native.monitor.MetricCriteriaArgs(
            criterion_type="StaticThresholdCriterion",
            name="blocked-requests",
            metric_name=BLOCKED_METRIC,
            metric_namespace=METRIC_NAMESPACE,
            operator="GreaterThan",
            threshold=args.blocked_requests_threshold,
            time_aggregation="Total",
        )
        criteria: (
            azure_native.monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs
            | azure_native.monitor.MetricAlertMultipleResourceMultipleMetricCriteriaArgs
        )
        if len(args.ai_account_ids) == 1:
            criteria = azure_native.monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                all_of=[static],
            )
        else:
            criteria = azure_native.monitor.MetricAlertMultipleResourceMultipleMetricCriteriaArgs(
                odata_type="Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria",
                all_of=[static],
            )
        return self._metric_alert(
            name, args, tags, ALARMS["guardrail-intervention-surge"], criteria, window="PT15M"
        )

    def _volume_alert(
        self, name: str, args: SecurityAlarmsArgs, tags: Mapping[str, str]
    ) -> azure_native.monitor.MetricAlert:
        # Dynamic thresholds learn the metric's pattern (hourly, daily, weekly) and take
        # the multi-resource criteria type even for one resource
        # (https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-dynamic-thresholds).
        # Three of four 15-minute periods above the learned band: a sustained surge,
        # not one burst.
        dynamic = azure_native.monitor.DynamicMetricCriteriaArgs(
            criterion_type="DynamicThresholdCriterion",
            name="model-calls",
            metric_name=REQUESTS_METRIC,
            metric_namespace=METRIC_NAMESPACE,
            operator="GreaterThan",
            alert_sensitivity=args.volume_sensitivity,
            failing_periods=azure_native.monitor.DynamicThresholdFailingPeriodsArgs(
                number_of_evaluation_periods=4, min_failing_periods_to_alert=3
            ),
            time_aggregation="Total",
        )
        criteria = azure_native.monitor.MetricAlertMultipleResourceMultipleMetricCriteriaArgs(
            odata_type="Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria",
            all_of=[dynamic],
        )
        return self._metric_alert(
            name, args, tags, ALARMS["invocation-volume-spike"], criteria, window="PT15M"
        )


# =========================================================================== SiemExport
@dataclass(frozen=True)
class SiemExportArgs:
    """Arguments of :class:`SiemExport`."""

    workspace_id: pulumi.Input[str]
    """The project's Log Analytics workspace (``AuditLogging.workspace_id``)."""
    consumer_object_id: str
    """Object id of the SIEM's identity (Microsoft Sentinel's or a central collector's
    service principal): stack config ``siem_consumer``."""


class SiemExport(pulumi.ComponentResource):
    """Read access for a central SIEM to the project's logs, and nothing more (DET-04).

    Every log the project writes reaches its Log Analytics workspace (resource logs of
    every resource, the activity log, flow analytics), so read access to that one
    workspace is all a SIEM needs: the consumer gets Log Analytics Reader on the
    workspace alone (read and query its data; its shared keys excluded:
    https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/analytics#log-analytics-reader).
    Microsoft Sentinel in a central workspace, or a collector, queries it across
    workspaces (https://learn.microsoft.com/azure/sentinel/extend-sentinel-across-workspaces-tenants).
    Chosen over an Event Hub export: no namespace to run and pay for, no second copy
    of the logs, no shared access key, and the workspace's private-only query access
    still applies.
    """

    grant: azure_native.authorization.RoleAssignment

    def __init__(
        self, name: str, args: SiemExportArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not _GUID.match(args.consumer_object_id):
            raise ValueError(
                f"siem_consumer {args.consumer_object_id!r} is not an Entra object id "
                "(the SIEM identity's service principal object id)"
            )
        super().__init__("aiscaffold:azure:SiemExport", name, None, opts)
        self.grant = assign_role(
            f"{name}-reader",
            scope=args.workspace_id,
            principal_id=args.consumer_object_id,
            role="Log Analytics Reader",
            parent=self,
        )
        self.register_outputs({"grant_id": self.grant.id})
