"""Deploy rules for azure: see the package docstring.

Three ways a first ``pulumi up`` of an Azure project fails although every input is
well-formed:

* AZURE-DEPLOY-001: a key created in an RBAC vault before the deploying identity holds
  the keys' data actions there (ForbiddenByRbac);
* AZURE-DEPLOY-002: a service created with a customer-managed key before its identity's
  grant on the key has propagated (KeyVaultAuthenticationFailure);
* AZURE-DEPLOY-003/004: a Log Analytics retention outside the values Azure accepts;
* AZURE-DEPLOY-020..022: a budget's start date or notifications, or a cost anomaly alert,
  outside what Cost Management accepts.

The allowed Log Analytics retentions are data here, with their source, and
:func:`table_total_retention_days` is how the components pick a value: the smallest
allowed one that covers the requirement, never less.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import urlparse

from ..policies._core import NotApplicable, Resource
from ._core import DeployContext, depends_on, deploy_rule

__all__ = [
    "ANOMALY_DISPLAY_NAME_MAX",
    "ANOMALY_MAX_RECIPIENTS",
    "BUDGET_EARLIEST_START",
    "BUDGET_MAX_MONTHS_AHEAD",
    "BUDGET_MAX_NOTIFICATIONS",
    "BUDGET_THRESHOLD_RANGE",
    "DEPLOYER_KEY_ROLES",
    "KEY_USER_ROLES",
    "TABLE_INTERACTIVE_RETENTION_DAYS",
    "TABLE_TOTAL_RETENTION_YEARS",
    "WORKSPACE_RETENTION_DAYS",
    "table_total_retention_allowed",
    "table_total_retention_days",
]

_VAULT = "azure-native:keyvault:Vault"
_KEY = "azure-native:keyvault:Key"
_ROLE = "azure-native:authorization:RoleAssignment"
_IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
_SLEEP = "time:index/sleep:Sleep"
_STORAGE = "azure-native:storage:StorageAccount"
_AI_ACCOUNT = "azure-native:cognitiveservices:Account"
_TABLE = "azure-native:operationalinsights:Table"
_WORKSPACE = "azure-native:operationalinsights:Workspace"

# ------------------------------------------------------------------ Log Analytics
#: Source: https://learn.microsoft.com/azure/azure-monitor/logs/data-retention-configure
#: (a table's interactive retention is 4 to 730 days; -1 takes the workspace's).
TABLE_INTERACTIVE_RETENTION_DAYS = range(4, 731)
#: Source: the same page and Azure/azure-cli#25660, quoting the API: "The value beyond
#: two years is restricted to full years. Allowed values are: [4-730], 1095, 1460, 1826,
#: 2191, 2556 days", since extended to 12 years (the azurerm provider validates the same
#: list). Total retention (interactive plus long-term) beyond 730 days is one of these.
TABLE_TOTAL_RETENTION_YEARS = (1095, 1460, 1826, 2191, 2556, 2922, 3288, 3653, 4018, 4383)
#: Source: https://learn.microsoft.com/azure/azure-monitor/logs/data-retention-configure
#: (a workspace's default retention on the pay-as-you-go tiers: 30 to 730 days; the
#: legacy Free tier keeps 7).
WORKSPACE_RETENTION_DAYS = range(30, 731)
_FREE_TIER_DAYS = 7


def table_total_retention_allowed(days: int) -> bool:
    """Whether Azure accepts ``days`` as a table's ``totalRetentionInDays`` (-1: the
    table's interactive retention)."""
    return (
        days == -1
        or days in TABLE_INTERACTIVE_RETENTION_DAYS
        or days in (TABLE_TOTAL_RETENTION_YEARS)
    )


def table_total_retention_days(required: int) -> int:
    """The smallest total retention Azure accepts that keeps data ``required`` days.

    ``913`` gives ``1095`` (three years), ``2192`` gives ``2556``: beyond two years Azure
    takes whole years only, and rounding down would keep logs shorter than required.
    ValueError beyond 12 years (4383 days), the longest a table keeps anything.
    """
    if required < TABLE_INTERACTIVE_RETENTION_DAYS.start:
        return TABLE_INTERACTIVE_RETENTION_DAYS.start
    if required in TABLE_INTERACTIVE_RETENTION_DAYS:
        return required
    index = bisect.bisect_left(TABLE_TOTAL_RETENTION_YEARS, required)
    if index == len(TABLE_TOTAL_RETENTION_YEARS):
        raise ValueError(
            f"Log Analytics keeps data at most {TABLE_TOTAL_RETENTION_YEARS[-1]} days, "
            f"not {required}"
        )
    return TABLE_TOTAL_RETENTION_YEARS[index]


def _smallest_covering(days: int | None) -> str:
    try:
        return f" ({table_total_retention_days(days)} covers it)" if days and days > 0 else ""
    except ValueError:
        return " (none covers it)"


def _whole(value: object) -> int | None:
    """A captured number as an int (the engine sends ints as floats); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if float(value).is_integer() else None


@deploy_rule(
    id="AZURE-DEPLOY-003",
    title="Log Analytics tables keep data for a retention Azure accepts",
    category="deploy-failure",
    source="https://learn.microsoft.com/azure/azure-monitor/logs/data-retention-configure",
    error="InvalidParameter: The specified total retention value is invalid. The value "
    "beyond two years is restricted to full years. Allowed values are: [4-730], 1095, "
    "1460, 1826, 2191, 2556 days (Azure/azure-cli#25660)",
    remediation="Round totalRetentionInDays up to an allowed value "
    "(aiscaffold_components.deploy.azure.table_total_retention_days; AuditLogging does): "
    "4-730 days, then whole years 1095, 1460, 1826, 2191, 2556, 2922, 3288, 3653, 4018, "
    "4383; retentionInDays 4-730.",
    types=[_TABLE],
)
def _table_retention(resource: Resource, context: DeployContext) -> Iterator[str]:
    """A table's total retention beyond two years is a whole number of years, and its
    interactive retention is 4 to 730 days; Azure refuses any other value."""
    total = resource.get("totalRetentionInDays")
    interactive = resource.get("retentionInDays")
    if total is None and interactive is None:
        raise NotApplicable("the table states no retention")
    if total is not None:
        days = _whole(total)
        if days is None or not table_total_retention_allowed(days):
            yield (
                f"{resource.name} keeps data {total} days in total; Azure accepts 4 to 730, "
                "then whole years only: "
                + ", ".join(map(str, TABLE_TOTAL_RETENTION_YEARS))
                + _smallest_covering(days)
            )
    if interactive is not None:
        days = _whole(interactive)
        if days is None or (days != -1 and days not in TABLE_INTERACTIVE_RETENTION_DAYS):
            yield (
                f"{resource.name} keeps data interactively {interactive} days; Azure accepts "
                "4 to 730 (or -1 for the workspace's)"
            )


@deploy_rule(
    id="AZURE-DEPLOY-004",
    title="Log Analytics workspaces keep data for a retention Azure accepts",
    category="deploy-failure",
    source="https://learn.microsoft.com/azure/azure-monitor/logs/data-retention-configure",
    error="InvalidParameter: retentionInDays is out of range for the PerGB2018 pricing "
    "tier: it must be between 30 and 730 days",
    remediation="Set the workspace's retentionInDays between 30 and 730 (AuditLogging caps "
    "it at 730 and keeps the rest in the audit tables' long-term retention).",
    types=[_WORKSPACE],
)
def _workspace_retention(resource: Resource, context: DeployContext) -> Iterator[str]:
    """A workspace's default (interactive) retention is 30 to 730 days on the
    pay-as-you-go tiers; longer retention is per table."""
    kept = resource.get("retentionInDays")
    if kept is None:
        raise NotApplicable("the workspace keeps Azure's default retention (30 days)")
    days = _whole(kept)
    if str(resource.get("sku", "name", default="")).lower() == "free":
        if days != _FREE_TIER_DAYS:
            yield f"{resource.name} keeps data {kept} days; the Free tier keeps 7"
        return
    if days is None or days not in WORKSPACE_RETENTION_DAYS:
        yield (
            f"{resource.name} keeps data {kept} days; a workspace keeps 30 to 730 (longer "
            "retention is set per table, up to 12 years)"
        )


# ------------------------------------------------------------------ Key Vault grants
#: Source: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
#: (Security section). Roles holding the keys' data actions a caller of Azure Resource
#: Manager needs to create a key (Microsoft.KeyVault/vaults/keys/read, create, and the
#: rotation policy's write): Key Vault Crypto Officer and Key Vault Administrator.
DEPLOYER_KEY_ROLES: Mapping[str, str] = {
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603": "Key Vault Crypto Officer",
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
}
#: Source: the same page. Roles that let a service's identity wrap and unwrap with a key:
#: Key Vault Crypto Service Encryption User (least privilege), and the broader Crypto
#: User, Crypto Officer and Administrator.
KEY_USER_ROLES: Mapping[str, str] = {
    "e147488a-f6f5-4113-8e2d-b22465e65bf6": "Key Vault Crypto Service Encryption User",
    "12338af0-0e69-4776-bea7-57ae8d297424": "Key Vault Crypto User",
    **DEPLOYER_KEY_ROLES,
}


def _role_guid(assignment: Resource) -> str:
    return str(assignment.get("roleDefinitionId", default="")).rsplit("/", 1)[-1].lower()


def _path(scope: str) -> list[tuple[str, str]]:
    """``(collection, name)`` pairs after the last ``/providers/<namespace>`` of a
    resource id, lowercased: ``[("vaults", "kv"), ("keys", "cmk-data")]``."""
    parts = [p.lower() for p in scope.strip("/").split("/")]
    if "providers" not in parts:
        return []
    start = len(parts) - parts[::-1].index("providers") + 1
    rest = parts[start:]
    return list(zip(rest[::2], rest[1::2], strict=False))


def _covers_vault(scope: str, vault: str) -> bool:
    """Whether a grant at ``scope`` reaches the keys of vault ``vault``: the vault
    itself, or its resource group or subscription (no provider part)."""
    if "/providers/" not in scope.lower():
        return bool(scope)
    return _path(scope) == [("vaults", vault.lower())]


def _covers_key(scope: str, vault: str, key: str) -> bool:
    """Whether a grant at ``scope`` reaches key ``key`` of vault ``vault``."""
    if _covers_vault(scope, vault):
        return True
    return _path(scope) == [("vaults", vault.lower()), ("keys", key.lower())]


class _Graph:
    """The stack's resources by URN, and what each depends on, directly or not."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self.by_urn = {r.urn: r for r in resources}

    def ancestors(self, resource: Resource) -> list[Resource]:
        """Every resource of the stack ``resource`` depends on, transitively."""
        seen = depends_on(resource, self.by_urn)
        return [self.by_urn[u] for u in sorted(seen) if u in self.by_urn]

    def identities_of(self, resource: Resource) -> set[str]:
        """URNs of the stack's managed identities ``resource`` reads directly."""
        return {
            urn
            for urn in resource.dependencies
            if (found := self.by_urn.get(urn)) is not None and found.type == _IDENTITY
        }


@deploy_rule(
    id="AZURE-DEPLOY-001",
    title="Keys in an RBAC vault are created after the deployer's key role",
    category="deploy-failure",
    source="https://github.com/pulumi/pulumi-azure-native/issues/890",
    error="ForbiddenByRbac: Caller is not authorized to perform action on resource. "
    "Action: 'Microsoft.KeyVault/vaults/keys/read' (Azure/bicep#7864)",
    remediation="Grant the deploying identity (azure_native.authorization.get_client_config "
    "object_id) Key Vault Crypto Officer on the vault, wait for the grant to propagate "
    "(pulumiverse_time.Sleep) and make every key depend on the wait (Keys does; other keys "
    "in its vault depend on keys.key_creation_ready).",
)
def _keys_after_deployer_grant(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """Azure Resource Manager reads and creates a key in an RBAC vault with the caller's
    Key Vault data roles, which Owner, Contributor and Role Based Access Control
    Administrator lack: each key depends on a grant of Crypto Officer (or Administrator)
    on its vault to a principal the stack does not create, i.e. the deployer."""
    # By the vault's name (an input; a key names its vault by it).
    vaults = {
        str(v.get("vaultName")): v
        for v in resources
        if v.type == _VAULT
        and v.get("vaultName")
        and v.get("properties", "enableRbacAuthorization") is True
    }
    keys = [
        r for r in resources if r.type == _KEY and str(r.get("vaultName", default="")) in vaults
    ]
    if not keys:
        raise NotApplicable("no key in an RBAC vault of this stack")
    graph = _Graph(resources)
    for key in keys:
        vault = str(key.get("vaultName"))
        grants = [
            r
            for r in graph.ancestors(key)
            if r.type == _ROLE
            and _role_guid(r) in DEPLOYER_KEY_ROLES
            and _covers_vault(str(r.get("scope", default="")), vault)
            # A grant to a managed identity of the stack is a workload's, not the caller's.
            and not graph.identities_of(r)
        ]
        if not grants:
            yield (
                key,
                f"{key.name} is created in RBAC vault {vault} without depending on a Key "
                "Vault Crypto Officer (or Administrator) grant on the vault to the deploying "
                "identity",
            )


@deploy_rule(
    id="AZURE-DEPLOY-002",
    title="Services using a customer-managed key wait for their identity's grant",
    category="deploy-failure",
    source="https://github.com/Azure/bicep/issues/16601",
    error="KeyVaultAuthenticationFailure: The operation failed because of authentication "
    "issue on the keyvault.",
    remediation="Make the resource depend on its identity's role assignment on the key and "
    "on an explicit wait after it (pulumiverse_time.Sleep depending on the assignment; "
    "Azure documents up to 10 minutes: "
    "https://learn.microsoft.com/azure/role-based-access-control/troubleshooting). "
    "CustomerManagedKey.grants from Keys.cmk() carry both.",
)
def _cmk_users_wait_for_grant(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """Azure checks a customer-managed key through the resource's identity when it
    creates the resource; a grant made moments before has often not propagated, so the
    first run fails and a retry passes. Each CMK user depends on its identity's grant
    on the key (or vault) through an explicit wait."""
    users = [(r, cmk) for r in resources if (cmk := _cmk_of(r)) is not None]
    if not users:
        raise NotApplicable("no resource encrypts with a Key Vault key")
    graph = _Graph(resources)
    for user, (vault, key) in users:
        identities = graph.identities_of(user)
        ancestors = graph.ancestors(user)
        grants = [
            r
            for r in ancestors
            if r.type == _ROLE
            and _role_guid(r) in KEY_USER_ROLES
            and _covers_key(str(r.get("scope", default="")), vault, key)
            and (not identities or graph.identities_of(r) & identities)
        ]
        if not grants:
            yield (
                user,
                f"{user.name} encrypts with key {key} of vault {vault} but depends on no "
                "role assignment granting its identity that key",
            )
            continue
        waits = [r for r in ancestors if r.type == _SLEEP]
        if not any({g.urn for g in grants} & {a.urn for a in graph.ancestors(w)} for w in waits):
            names = ", ".join(sorted(g.name for g in grants))
            yield (
                user,
                f"{user.name} depends on {names} but on no wait after it: the grant may not "
                "have propagated when Azure checks the key",
            )


def _cmk_of(resource: Resource) -> tuple[str, str] | None:
    """``(vault name, key name)`` of the Key Vault key a storage or AI Services account
    encrypts with; None for one using Microsoft-managed keys."""
    if resource.type == _STORAGE:
        encryption: tuple[str, ...] = ("encryption",)
    elif resource.type == _AI_ACCOUNT:
        encryption = ("properties", "encryption")
    else:
        return None
    if str(resource.get(*encryption, "keySource", default="")).lower() != "microsoft.keyvault":
        return None
    uri = resource.get(*encryption, "keyVaultProperties", "keyVaultUri")
    key = resource.get(*encryption, "keyVaultProperties", "keyName")
    if not uri or not key:
        return None
    host = urlparse(str(uri)).hostname or ""
    return host.split(".", 1)[0], str(key)


# ------------------------------------------------------------------ cost guardrails
# AZURE-DEPLOY-020..029 (COST-01, COST-02). Sources: the Budgets REST reference, whose
# property descriptions state the rules (https://learn.microsoft.com/rest/api/consumption/budgets/create-or-update,
# the same text in the 2024-08-01 models of azure-mgmt-consumption), and the anomaly
# alert page (https://learn.microsoft.com/azure/cost-management-billing/understand/analyze-unexpected-charges).
_BUDGET = "azure-native:consumption:Budget"
_SCHEDULED_ACTION = "azure-native:costmanagement:ScheduledActionByScope"
#: "Budget start date must be on or after June 1, 2017."
BUDGET_EARLIEST_START = dt.date(2017, 6, 1)
#: "Future start date should not be more than twelve months."
BUDGET_MAX_MONTHS_AHEAD = 12
#: "Budget can have up to five notifications."
BUDGET_MAX_NOTIFICATIONS = 5
#: "Threshold value ... It is always percent and has to be between 0 and 1000."
BUDGET_THRESHOLD_RANGE = (0.0, 1000.0)
#: Anomaly alerts: 1-20 recipients (``notification.to``, the 2022-10-01 model), display
#: names of at most 25 characters (hashicorp/terraform-provider-azurerm validates the
#: limit the API set in 2026-04, internal/services/costmanagement/anomaly_alert_resource.go).
ANOMALY_MAX_RECIPIENTS = 20
ANOMALY_DISPLAY_NAME_MAX = 25


def _date(value: object) -> dt.date | None:
    """The date of an ISO 8601 date or date-time string; None otherwise."""
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


@deploy_rule(
    id="AZURE-DEPLOY-020",
    title="A budget starts on the first day of a month Azure accepts",
    category="deploy-failure",
    source="https://learn.microsoft.com/rest/api/consumption/budgets/create-or-update",
    error="400 BadRequest: 'The start date must be first of the month ... Budget start date "
    "must be on or after June 1, 2017. Future start date should not be more than twelve "
    "months.' (timePeriod); on a later update of the date: 'Start date of budgets cannot be "
    "updated. Please delete and create a new budget.' (Azure/azure-quickstart-templates#7095)",
    remediation="Start the budget on the first day of the current month (CostGuardrails' "
    "default) or of a month at most a year ahead: `pulumi config set budget_start "
    "YYYY-MM-01` before the first deployment; never change it afterwards (the component "
    "ignores later changes).",
    types=[_BUDGET],
)
def _budget_start(resource: Resource, context: DeployContext) -> Iterator[str]:
    """A budget's period starts on the first day of a month, not before June 2017 and
    not more than twelve months after today."""
    raw = resource.get("timePeriod", "startDate")
    start = _date(raw)
    if start is None:
        yield f"{resource.name} has no valid start date ({raw!r}); Azure requires one"
        return
    today = dt.datetime.now(dt.UTC).date()
    if start.day != 1:
        yield f"{resource.name} starts on {start}, not on the first day of a month"
    if start < BUDGET_EARLIEST_START:
        yield f"{resource.name} starts on {start}, before June 1, 2017"
    if _months_between(today, start) > BUDGET_MAX_MONTHS_AHEAD:
        yield f"{resource.name} starts on {start}, more than twelve months from now"


@deploy_rule(
    id="AZURE-DEPLOY-021",
    title="A budget has at most five notifications, each with a threshold and a contact",
    category="deploy-failure",
    source="https://learn.microsoft.com/rest/api/consumption/budgets/create-or-update",
    error="400 BadRequest: 'Budget can have up to five notifications.'; 'Threshold value ... "
    "has to be between 0 and 1000.'; 'Must have at least one contact email or contact group "
    "specified at the Subscription or Resource Group scopes.'",
    remediation="Keep five notifications at most (CostGuardrails: actual 50/80/100/120 %, "
    "forecast 100 %), thresholds above 0 and at most 1000 %, each to the alert channel's "
    "action group.",
    types=[_BUDGET],
)
def _budget_notifications(resource: Resource, context: DeployContext) -> Iterator[str]:
    """Azure refuses a budget with more than five notifications, a threshold outside
    0-1000 %, or a notification that reaches no one."""
    notes = resource.get("notifications", default={})
    if not isinstance(notes, Mapping) or not notes:
        raise NotApplicable("the budget has no notifications (AZURE-COST-002 reports it)")
    if len(notes) > BUDGET_MAX_NOTIFICATIONS:
        yield (
            f"{resource.name} has {len(notes)} notifications; a budget holds at most "
            f"{BUDGET_MAX_NOTIFICATIONS}"
        )
    low, high = BUDGET_THRESHOLD_RANGE
    for key, note in notes.items():
        if not isinstance(note, Mapping):
            continue
        threshold = note.get("threshold")
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float))
            or not low < threshold <= high
        ):
            yield f"{resource.name} notification {key}: threshold {threshold!r} is not 0-1000 %"
        if not note.get("contactEmails") and not note.get("contactGroups"):
            yield f"{resource.name} notification {key} has no contact e-mail or action group"


@deploy_rule(
    id="AZURE-DEPLOY-022",
    title="A cost anomaly alert is created where Azure offers one",
    category="deploy-failure",
    source="https://learn.microsoft.com/azure/cost-management-billing/understand/analyze-unexpected-charges",
    error="'Anomaly alert rules can only be created at the subscription scope'; 'Cost anomaly "
    "alerts are not available for Azure Government customers'; notification.to takes 1-20 "
    "addresses; InvalidScheduledActionDisplayName past 25 characters",
    remediation="Create the InsightAlert at /subscriptions/<id>, with 1-20 recipients and a "
    "display name of at most 25 characters, outside Azure Government (CostGuardrails does, "
    "and creates none in usgov*/usdod* regions or without alert_emails).",
    types=[_SCHEDULED_ACTION],
)
def _anomaly_alert(resource: Resource, context: DeployContext) -> Iterator[str]:
    """Anomaly alerts exist at subscription scope only, not in Azure Government, and
    e-mail 1 to 20 addresses under a display name of at most 25 characters."""
    if resource.get("kind") != "InsightAlert":
        raise NotApplicable("not an anomaly alert")
    scope = [p for p in str(resource.get("scope", default="")).strip("/").split("/") if p]
    if len(scope) != 2 or scope[0].lower() != "subscriptions":
        yield f"{resource.name} is scoped to {resource.get('scope')!r}, not a subscription"
    if context.region.lower().startswith(("usgov", "usdod")):
        yield f"{resource.name}: cost anomaly alerts are not available in Azure Government"
    recipients = resource.get("notification", "to", default=[])
    if not isinstance(recipients, Sequence) or not 1 <= len(recipients) <= ANOMALY_MAX_RECIPIENTS:
        yield f"{resource.name} e-mails {recipients!r}; an anomaly alert needs 1-20 addresses"
    display = str(resource.get("displayName", default=""))
    if not 1 <= len(display) <= ANOMALY_DISPLAY_NAME_MAX:
        yield f"{resource.name}'s display name {display!r} is not 1-25 characters"


# ------------------------------------------------------------------ Defender plans
_PRICING = "azure-native:security:Pricing"
_SECURITY_CONTACT = "azure-native:security:SecurityContact"
#: Source: Defender for Cloud plans are enabled per subscription ("Enable the plan at the
#: subscription level"): every workload of the subscription shares the setting.
DEFENDER_PLANS_SOURCE = (
    "https://learn.microsoft.com/azure/defender-for-cloud/connect-azure-subscription"
)


@deploy_rule(
    id="AZURE-DEPLOY-005",
    title="Defender plans and the security contact are settings of the whole subscription",
    category="account-wide",
    source=DEFENDER_PLANS_SOURCE,
    error="(no error: the last stack to deploy or destroy sets the plan for every workload "
    "of the subscription)",
    remediation="Let one stack own the subscription's services (account_services: "
    "this-stack there, shared in every other stack of the subscription); where Azure "
    "Policy or a platform team manages Defender, answer shared.",
    types=[_PRICING, _SECURITY_CONTACT],
)
def _subscription_security_settings(resource: Resource, context: DeployContext) -> Iterator[str]:
    """A Defender plan (``security:Pricing``) or the security contact is one setting per
    subscription: a second stack managing it overwrites the first's, and `pulumi destroy`
    changes it for every workload of the subscription."""
    what = "Defender plan" if resource.type.endswith(":Pricing") else "security contact"
    yield (
        f"{resource.name} sets the subscription's {what}: it applies to every workload of "
        "the subscription, and `pulumi destroy` of this stack changes it for all of them"
    )


# ------------------------------------------------------------------ AI gateway (issue 20)
_APIM = "azure-native:apimanagement:ApiManagementService"
_SUBNET = "azure-native:network:Subnet"
_NSG = "azure-native:network:NetworkSecurityGroup"
#: Inbound ports an API Management instance injected in a VNet needs, from the service
#: tags Microsoft names: "Bold items ... are required for successful deployment and
#: operation" (https://learn.microsoft.com/azure/api-management/virtual-network-reference).
APIM_REQUIRED_INBOUND = {"3443": "ApiManagement", "6390": "AzureLoadBalancer"}


@deploy_rule(
    id="AZURE-DEPLOY-030",
    title="API Management is created with public network access enabled",
    category="deploy-failure",
    source="https://github.com/Azure/azure-rest-api-specs/issues/24947",
    error="NotSupported: Blocking all public network access by setting property "
    "`publicNetworkAccess` of API Management service ... is not enabled during service "
    "creation. (hashicorp/terraform-provider-azurerm#21506)",
    remediation="Create the instance with publicNetworkAccess Enabled (ApiGateway does): it "
    "governs private-endpoint access, not an injected instance, whose exposure is its "
    "virtualNetworkType (Internal for a private gateway). Disable it later only after a "
    "private endpoint connection is approved.",
    types=[_APIM],
)
def _apim_public_access_at_creation(resource: Resource, context: DeployContext) -> Iterator[str]:
    """Azure refuses an API Management service created with publicNetworkAccess
    Disabled, and later refuses Disabled without an approved private endpoint."""
    access = resource.get("publicNetworkAccess")
    if access is None:
        raise NotApplicable("publicNetworkAccess not stated (Enabled by default)")
    if str(access).lower() == "disabled":
        yield (
            f"{resource.name} disables public network access at creation, which API "
            "Management refuses"
        )


def _allows(rule: Mapping[str, object], port: str, source: str) -> bool:
    def values(single: str, many: str) -> list[str]:
        more = rule.get(many)
        return [str(v) for v in [rule.get(single), *(more if isinstance(more, list) else [])] if v]

    sources = values("sourceAddressPrefix", "sourceAddressPrefixes")
    ports = values("destinationPortRange", "destinationPortRanges")
    return (
        str(rule.get("direction", "")).lower() == "inbound"
        and str(rule.get("access", "")).lower() == "allow"
        and any(s.lower() in (source.lower(), "*") for s in sources)
        and any(p in (port, "*") for p in ports)
    )


@deploy_rule(
    id="AZURE-DEPLOY-031",
    title="The API Management subnet admits the management and load balancer ports",
    category="deploy-failure",
    source="https://learn.microsoft.com/azure/api-management/virtual-network-reference",
    error="ManagementApiRequestFailed: Failed to connect to management endpoint "
    "<service>.management.azure-api.net:3443 for a service deployed in a Virtual Network. "
    "Make sure to follow guidance at https://aka.ms/apim-vnet-common-issues. "
    "(Azure/azure-rest-api-specs#10289)",
    remediation="Give the gateway subnet a security group allowing inbound TCP 3443 from "
    "ApiManagement and TCP 6390 from AzureLoadBalancer before any deny rule (ApiGateway "
    "does); stv2 instances also need a security group on the subnet at all.",
)
def _apim_subnet_ports(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """An instance injected in a VNet is managed through port 3443 and probed on 6390:
    a subnet security group that does not admit them makes the instance's APIs and
    policies fail to deploy (and the stv2 load balancer needs a security group)."""
    services = [
        r for r in resources
        if r.type == _APIM and str(r.get("virtualNetworkType") or "None") != "None"
    ]  # fmt: skip
    if not services:
        raise NotApplicable("no API Management instance in a virtual network")
    subnets = [r for r in resources if r.type == _SUBNET]
    groups = [r for r in resources if r.type == _NSG]
    for service in services:
        subnet_id = str(service.get("virtualNetworkConfiguration", "subnetResourceId") or "")
        name = subnet_id.rstrip("/").rsplit("/", 1)[-1].lower()
        subnet = next(
            (s for s in subnets if str(s.get("subnetName") or s.get("name") or "").lower() == name),
            None,
        )
        if subnet is None:
            continue  # a subnet of another stack: not judged here
        group_id = str(subnet.get("networkSecurityGroup", "id") or "")
        if not group_id:
            yield service, f"{service.name}'s subnet {subnet.name} has no security group"
            continue
        group_name = group_id.rstrip("/").rsplit("/", 1)[-1].lower()
        group = next(
            (
                g for g in groups
                if str(g.get("networkSecurityGroupName") or g.get("name") or "").lower() == group_name
            ),
            None,
        )  # fmt: skip
        if group is None:
            continue
        rules = list(group.get("securityRules") or [])
        for port, source in APIM_REQUIRED_INBOUND.items():
            if not any(_allows(rule, port, source) for rule in rules):
                yield (
                    service,
                    f"{service.name}'s subnet group {group.name} does not admit TCP {port} "
                    f"from {source}",
                )


# ------------------------------------------------------------------ recovery (issue 17)
_REPLICATION = "azure-native:storage:ObjectReplicationPolicy"
#: Source: https://learn.microsoft.com/azure/storage/blobs/object-replication-configure
#: (the policy is created on the destination account first; the source's policy then
#: names the destination policy's id and rule ids) and
#: https://learn.microsoft.com/azure/storage/blobs/object-replication-prevent-cross-tenant-policies
#: (with AllowCrossTenantReplication false, accounts are named by full resource id).
OBJECT_REPLICATION_SOURCE = (
    "https://learn.microsoft.com/azure/storage/blobs/object-replication-configure"
)


@deploy_rule(
    id="AZURE-DEPLOY-040",
    title="Object replication: destination policy first, accounts by resource id",
    category="deploy-failure",
    source=OBJECT_REPLICATION_SOURCE,
    error="InvalidRequestPropertyValue / ObjectReplicationPolicyNotFound: the source "
    "account's policy names a policy id the destination account does not have, or an "
    "account name where cross-tenant replication is disallowed",
    remediation="Create the policy on the destination account with policy id 'default', "
    "then the source account's policy with the destination policy's policyId and rule ids, "
    "naming both accounts by resource id (ReplicatedStorage does).",
)
def _object_replication_order(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """Azure generates the policy id and rule ids on the destination; a source policy
    created first, or without them, is refused. With AllowCrossTenantReplication false
    (every SecureStorage account), source and destination are full resource ids."""
    policies = [r for r in resources if r.type == _REPLICATION]
    if not policies:
        raise NotApplicable("no object replication policy in this stack")
    graph = _Graph(resources)
    for policy in policies:
        for side in ("sourceAccount", "destinationAccount"):
            if not str(policy.get(side, default="")).startswith("/subscriptions/"):
                yield policy, f"{policy.name} names its {side} by name, not resource id"
        own = str(policy.get("accountName", default=""))
        source = str(policy.get("sourceAccount", default=""))
        if not source or not own or source.rsplit("/", 1)[-1] != own:
            continue  # the destination's policy
        if policy.get("objectReplicationPolicyId") in (None, "", "default"):
            yield policy, f"{policy.name} is a source policy without the destination's id"
            continue
        if not any(
            r.type == _REPLICATION and r.get("objectReplicationPolicyId") == "default"
            for r in graph.ancestors(policy)
        ):
            yield policy, f"{policy.name} does not wait for the destination account's policy"
