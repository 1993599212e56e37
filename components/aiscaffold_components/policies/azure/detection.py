"""Detection and response: Defender for Cloud plans and contact, the tampering and
misuse alarms, their routing to the alert channel, its e-mail receivers, the SIEM's
read access (DET-01..04).

The alarms are judged by what they watch, not by their count: each alarm of the table
below must exist (an alert rule whose Azure name ends with ``-<alarm>``), be routed to
an action group of the stack, and watch at least the operations or metrics listed. The
list is this pack's own statement of what each alarm is for, independent of the
component that builds the rules (which watches more).

==============================  ==============================================================
alarm                           must watch
==============================  ==============================================================
guardrail-tampering             RAI policy and blocklist writes and deletes, deployment writes
                                and deletes (rebinding a deployment detaches the filter)
invocation-logging-disabled     diagnostic setting writes and deletes
key-tampering                   KeyDelete, KeyPurge, KeyUpdate (disabling), KeyRotationPolicySet,
                                KeyImport, KeyBackup; vault writes and deletes
workload-permissions-changed    role assignment and federated credential writes and deletes
private-network-changed         private endpoints, security rules, private DNS links, AI and
                                storage account writes (network access)
secret-read-by-other-principal  SecretGet
guardrail-intervention-surge    RAIRejectedRequests (content filter "Blocked Volume")
invocation-volume-spike         AzureOpenAIRequests
high-severity-finding           Defender alert activations of severity High (this-stack only)
==============================  ==============================================================

Sources: Azure resource provider operations
(https://learn.microsoft.com/azure/role-based-access-control/resource-provider-operations),
Key Vault log operation names (https://learn.microsoft.com/azure/key-vault/general/logging),
Azure OpenAI metrics (https://learn.microsoft.com/azure/ai-services/openai/monitor-openai-reference),
the activity log's Security category
(https://learn.microsoft.com/azure/azure-monitor/essentials/activity-log-schema#security-category).

An action group keeps no messages, so no policy asks for its encryption (see
``aiscaffold_components.azure.alerts``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import AI_ACCOUNT, ROLE, WORKSPACE, id_path, listed, name_of, of_type

ACTION_GROUP = "azure-native:monitor:ActionGroup"
ACTIVITY_ALERT = "azure-native:monitor:ActivityLogAlert"
QUERY_RULE = "azure-native:monitor:ScheduledQueryRule"
METRIC_ALERT = "azure-native:monitor:MetricAlert"
PRICING = "azure-native:security:Pricing"
CONTACT = "azure-native:security:SecurityContact"
ALERT_TYPES = (ACTIVITY_ALERT, QUERY_RULE, METRIC_ALERT)

#: Defender for Cloud plans a stack owning its subscription's services turns on:
#: AI services, Key Vault, Storage, Resource Manager (pricing names:
#: https://learn.microsoft.com/rest/api/defenderforcloud/pricings/list).
REQUIRED_PLANS = ("AI", "KeyVaults", "StorageAccounts", "Arm")

#: What each tampering or misuse alarm must watch (see the module docstring).
REQUIRED_WATCH: dict[str, tuple[str, ...]] = {
    "guardrail-tampering": (
        "Microsoft.CognitiveServices/accounts/raiPolicies/write",
        "Microsoft.CognitiveServices/accounts/raiPolicies/delete",
        "Microsoft.CognitiveServices/accounts/raiBlocklists/write",
        "Microsoft.CognitiveServices/accounts/raiBlocklists/delete",
        "Microsoft.CognitiveServices/accounts/raiBlocklists/raiBlocklistItems/write",
        "Microsoft.CognitiveServices/accounts/raiBlocklists/raiBlocklistItems/delete",
        "Microsoft.CognitiveServices/accounts/deployments/write",
        "Microsoft.CognitiveServices/accounts/deployments/delete",
    ),
    "invocation-logging-disabled": (
        "Microsoft.Insights/diagnosticSettings/write",
        "Microsoft.Insights/diagnosticSettings/delete",
    ),
    "key-tampering": (
        "KeyDelete",
        "KeyPurge",
        "KeyUpdate",
        "KeyRotationPolicySet",
        "KeyImport",
        "KeyBackup",
        "Microsoft.KeyVault/vaults/write",
        "Microsoft.KeyVault/vaults/delete",
    ),
    "workload-permissions-changed": (
        "Microsoft.Authorization/roleAssignments/write",
        "Microsoft.Authorization/roleAssignments/delete",
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete",
    ),
    "private-network-changed": (
        "Microsoft.Network/privateEndpoints/write",
        "Microsoft.Network/privateEndpoints/delete",
        "Microsoft.Network/networkSecurityGroups/securityRules/write",
        "Microsoft.Network/networkSecurityGroups/securityRules/delete",
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks/delete",
        "Microsoft.CognitiveServices/accounts/write",
        "Microsoft.Storage/storageAccounts/write",
    ),
    "secret-read-by-other-principal": ("SecretGet",),
    "guardrail-intervention-surge": ("RAIRejectedRequests",),
    "invocation-volume-spike": ("AzureOpenAIRequests",),
}
#: Most content-filter blocks in the surge alarm's window before it fires: a threshold
#: above this lets an attack run unnoticed (the component's default is 20 in 15 minutes).
MAX_BLOCKED_THRESHOLD = 100
#: The Defender findings route: alert activations in the Security category, severity High.
FINDINGS_ALARM = "high-severity-finding"
DEFENDER_ALERT_OPERATION = "Microsoft.Security/locations/alerts/activate/action"

_NAME_KEYS = {
    ACTIVITY_ALERT: "activityLogAlertName",
    QUERY_RULE: "ruleName",
    METRIC_ALERT: "ruleName",
}


def _text(value: Any) -> str:
    """A string input, lowercased (the engine may hand SDK enum members: their value)."""
    return str(getattr(value, "value", value) if value is not None else "").lower()


def _alarm_name(rule: Resource) -> str:
    value = rule.get(_NAME_KEYS[rule.type]) or rule.get("name")
    return value.lower() if isinstance(value, str) else ""


def _alarm(rules: Sequence[Resource], alarm: str) -> Resource | None:
    return next((r for r in rules if _alarm_name(r).endswith(f"-{alarm}")), None)


def _action_ids(rule: Resource) -> list[str]:
    """The action groups a rule notifies."""
    if rule.type == ACTIVITY_ALERT:
        return [str(a.get("actionGroupId", "")) for a in rule.items("actions", "actionGroups")]
    if rule.type == QUERY_RULE:
        return [str(a) for a in rule.items("actions", "actionGroups")]
    return [str(a.get("actionGroupId", "")) for a in rule.items("actions")]


def _group_name(group: Resource) -> str:
    value = group.get("actionGroupName") or group.get("name")
    return value.lower() if isinstance(value, str) else ""


def _routed_to(rule: Resource, groups: Sequence[Resource]) -> bool:
    names = {_group_name(g) for g in groups} - {""}
    for action in _action_ids(rule):
        path = id_path(action)
        if path and path[-1][0] == "actiongroups" and path[-1][1] in names:
            return True
    return False


def _leaves(rule: Resource) -> Iterator[Any]:
    for condition in rule.items("condition", "allOf"):
        yield condition
        yield from listed(condition.get("anyOf"))


def _field_values(rule: Resource, field: str) -> set[str]:
    """Values an activity log alert's condition compares ``field`` with (lowercased)."""
    values: set[str] = set()
    for leaf in _leaves(rule):
        if str(leaf.get("field", "")).lower() != field.lower():
            continue
        if isinstance(leaf.get("equals"), str):
            values.add(leaf["equals"].lower())
        values.update(str(v).lower() for v in listed(leaf.get("containsAny")))
    return values


def _watched(rule: Resource) -> str:
    """What a rule watches, as text the required names are looked up in (lowercased)."""
    if rule.type == ACTIVITY_ALERT:
        return "\n".join(sorted(_field_values(rule, "operationName")))
    if rule.type == QUERY_RULE:
        return "\n".join(str(c.get("query", "")) for c in rule.items("criteria", "allOf")).lower()
    return "\n".join(str(c.get("metricName", "")) for c in rule.items("criteria", "allOf")).lower()


def _missing_watch(rule: Resource, required: Sequence[str]) -> list[str]:
    text = _watched(rule)
    if rule.type == ACTIVITY_ALERT:
        return [op for op in required if op.lower() not in text.splitlines()]
    if rule.type == QUERY_RULE:
        return [op for op in required if f'"{op.lower()}"' not in text]
    return [m for m in required if m.lower() not in text.splitlines()]


def _workload_stack(resources: Sequence[Resource]) -> None:
    if not of_type(resources, AI_ACCOUNT):
        raise NotApplicable("the stack deploys no AI account (a state backend, say)")


def _shared(requirements: Requirements) -> None:
    if requirements.account_services == "shared":
        raise NotApplicable(
            "account_services is shared: the stack owning the subscription's services "
            "turns on Defender for Cloud, names its security contact and routes its findings"
        )


@stack_policy(
    id="AZURE-DET-001",
    title="Defender for Cloud plans for AI services, Key Vault, Storage and Resource "
    "Manager are on",
    severity="high",
    controls=["DET-01"],
    remediation="Create ThreatDetection (answer account_services: this-stack) with every "
    "plan of DEFENDER_PLANS at pricing tier Standard, or have the stack owning the "
    "subscription's services do so (account_services: shared).",
)
def defender_plans(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Threat detection watches the AI account (prompt injection, credential theft,
    data leakage), the vault (unusual access), the storage accounts (malware, unusual
    access) and Resource Manager operations of the subscription."""
    _shared(requirements)
    _workload_stack(resources)
    # Inputs name the plan in pricingName; the engine's outputs in name.
    plans = {
        str(p.get("pricingName") or p.get("name") or "").lower(): p
        for p in of_type(resources, PRICING)
    }
    for plan in REQUIRED_PLANS:
        pricing = plans.get(plan.lower())
        if pricing is None:
            yield None, f"the Defender for Cloud plan {plan} is not turned on"
        elif _text(pricing.get("pricingTier")) != "standard":
            yield (
                pricing,
                f"the Defender plan {plan} is at tier {pricing.get('pricingTier')}, not Standard",
            )


@stack_policy(
    id="AZURE-DET-002",
    title="Defender for Cloud e-mails its high-severity alerts to the project's contacts",
    severity="high",
    controls=["DET-01", "DET-02"],
    remediation="Create the subscription's security contact (ThreatDetection) enabled, with "
    "alert notifications from severity High and every address of alert_emails.",
)
def security_contact(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Someone hears of a high-severity Defender alert even if the alert channel's rules
    are changed: the security contact e-mails the answered addresses and the
    subscription's owners."""
    _shared(requirements)
    _workload_stack(resources)
    contacts = of_type(resources, CONTACT)
    if not contacts:
        yield None, "the subscription has no Defender for Cloud security contact"
        return
    for contact in contacts:
        if contact.get("isEnabled") is not True:
            yield contact, f"{contact.name} is not enabled"
        severities = [
            _text(s.get("minimalSeverity"))
            for s in contact.items("notificationsSources")
            if _text(s.get("sourceType")) == "alert"
        ]
        if not any(s in ("high", "medium", "low") for s in severities):
            yield contact, f"{contact.name} sends no alert notifications"
        addresses = {a.strip().lower() for a in str(contact.get("emails", default="")).split(";")}
        for address in requirements.alert_emails:
            if address.lower() not in addresses:
                yield contact, f"{contact.name} does not e-mail {address}"


@stack_policy(
    id="AZURE-DET-003",
    title="Every tampering and misuse alarm exists, watches its operations and is routed "
    "to the alert channel",
    severity="high",
    controls=["DET-03", "DET-02"],
    remediation="Create SecurityAlarms with action_group_id=alerts.action_group_id; keep "
    "each alarm's operations and metrics (the table in policies/azure/detection.py).",
)
def tampering_alarms(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Disabling the guardrail, the logging or a key, widening the workload's rights or
    the network, reading a secret as someone else, or a surge of blocked or total model
    calls, each alerts the people on the alert channel."""
    _workload_stack(resources)
    rules = of_type(resources, *ALERT_TYPES)
    groups = of_type(resources, ACTION_GROUP)
    for alarm, required in REQUIRED_WATCH.items():
        rule = _alarm(rules, alarm)
        if rule is None:
            yield None, f"no alert rule {alarm}"
            continue
        missing = _missing_watch(rule, required)
        if missing:
            yield rule, f"{rule.name} ({alarm}) does not watch {', '.join(missing)}"
        if not _routed_to(rule, groups):
            yield rule, f"{rule.name} ({alarm}) is not routed to the project's action group"
        if alarm == "guardrail-intervention-surge":
            for criterion in rule.items("criteria", "allOf"):
                threshold = criterion.get("threshold")
                if isinstance(threshold, (int, float)) and threshold > MAX_BLOCKED_THRESHOLD:
                    yield (
                        rule,
                        f"{rule.name} waits for {threshold:g} blocked requests "
                        f"(at most {MAX_BLOCKED_THRESHOLD})",
                    )


@stack_policy(
    id="AZURE-DET-004",
    title="High-severity Defender alerts reach the alert channel",
    severity="high",
    controls=["DET-01", "DET-02"],
    remediation="Create ThreatDetection (account_services: this-stack): its "
    "high-severity-finding rule routes Defender's High alerts (activity log, category "
    "Security) to the action group.",
)
def findings_route(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Defender's findings do not wait in the portal: each high-severity alert it
    raises notifies the alert channel."""
    _shared(requirements)
    _workload_stack(resources)
    rule = _alarm(of_type(resources, ACTIVITY_ALERT), FINDINGS_ALARM)
    if rule is None:
        yield None, f"no alert rule {FINDINGS_ALARM} routes Defender alerts"
        return
    if "security" not in _field_values(rule, "category"):
        yield rule, f"{rule.name} does not watch the activity log's Security category"
    if DEFENDER_ALERT_OPERATION.lower() not in _field_values(rule, "operationName"):
        yield rule, f"{rule.name} does not watch Defender alert activations"
    severities = _field_values(rule, "properties.Severity")
    if severities and "high" not in severities:
        yield rule, f"{rule.name} filters on severity {sorted(severities)}, not High"
    if not _routed_to(rule, of_type(resources, ACTION_GROUP)):
        yield rule, f"{rule.name} is not routed to the project's action group"


@stack_policy(
    id="AZURE-DET-005",
    title="The alert channel e-mails every address of alert_emails",
    severity="medium",
    controls=["DET-02"],
    remediation="Pass emails=profile.alert_emails to AlertChannel (an e-mail receiver per "
    "address).",
)
def channel_receivers(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """The people the answers name are told of every alert."""
    if not requirements.alert_emails:
        raise NotApplicable("alert_emails is empty: receivers are added later (README, Alerts)")
    groups = of_type(resources, ACTION_GROUP)
    if not groups:
        yield None, "the project has no action group"
        return
    for group in groups:
        receivers = {str(r.get("emailAddress", "")).lower() for r in group.items("emailReceivers")}
        for address in requirements.alert_emails:
            if address.lower() not in receivers:
                yield group, f"{group.name} does not e-mail {address}"


@resource_policy(
    id="AZURE-DET-006",
    title="No alert rule without an action: every rule is enabled and notifies an action group",
    severity="high",
    types=list(ALERT_TYPES),
    controls=["DET-02"],
    remediation="Enable the rule and give it the project's action group (alerts.action_group_id).",
)
def alarm_has_action(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """An alert that notifies no one, or is switched off, is a log line nobody reads."""
    if resource.get("enabled") is not True:
        yield "the alert rule is not enabled"
    if not [a for a in _action_ids(resource) if a]:
        yield "the alert rule notifies no action group"


@stack_policy(
    id="AZURE-DET-007",
    title="A SIEM reads the project's logs only, read-only",
    severity="high",
    controls=["DET-04"],
    remediation="Grant the SIEM's identity Log Analytics Reader on the project's workspace "
    "and nothing else (SiemExport with stack config siem_consumer).",
)
def siem_read_only(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """The central SIEM's identity holds read access to exactly the project's log
    workspace: no wider scope, no other workspace."""
    reader = "/roledefinitions/73c42c96-874c-492b-b04d-ab87d138a893"
    grants = [
        r
        for r in of_type(resources, ROLE)
        if str(r.get("roleDefinitionId", default="")).lower().endswith(reader)
    ]
    if not grants:
        raise NotApplicable("no SIEM consumer is configured (stack config siem_consumer)")
    workspaces = {name_of(w, "workspaceName") for w in of_type(resources, WORKSPACE)} - {""}
    for grant in grants:
        path = id_path(str(grant.get("scope", default="")))
        if len(path) != 1 or path[0][0] != "workspaces" or path[0][1] not in workspaces:
            yield grant, f"{grant.name} grants log read access beyond the project's workspace"
