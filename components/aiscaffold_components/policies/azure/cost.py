"""Cost guardrails (COST-01..03): the project's budget, the subscription's cost anomaly
alert and the Azure OpenAI deployments' capacity, checked against the answers.

=================  ==============================================================
AZURE-COST-001     a monthly Cost budget on the project's resource group, of
                   ``monthly_budget`` (COST-01)
AZURE-COST-002     the budget warns on actual and on forecasted spend, every
                   notification enabled, above its threshold, to the alert
                   channel's action group and to nothing else (COST-01)
AZURE-COST-003     a cost anomaly alert (scheduled action of kind InsightAlert)
                   e-mails the alert addresses daily (COST-02, advisory)
AZURE-COST-004     each deployment's capacity is set and within the bound the
                   budget allows (COST-03, advisory)
=================  ==============================================================

The capacity rule (COST-03) lives here, as data next to the policy that judges it;
:class:`~aiscaffold_components.azure.CostGuardrails` reports the same bound.

**The rule.** A Standard deployment's capacity is its rate limit, in thousands of
tokens per minute (https://learn.microsoft.com/azure/ai-foundry/openai/how-to/quota).
A deployment used at its full rate for :data:`DUTY_CYCLE` of a 30-day month consumes
``capacity x 1000 x 43,200 x DUTY_CYCLE`` tokens; priced at the model's published price
per million tokens (:data:`PRICE_PER_MILLION_TOKENS`, the output-token price, the higher
one, so the bound errs low) that spend must stay within ``monthly_budget``. The bound is
the largest whole capacity that does. Each deployment is judged against the whole
budget: several deployments share it, so keep their sum in mind. The rule never
lowers a capacity: a capacity above the bound is an advisory finding, and the team
raises ``monthly_budget`` or accepts it (``policy/enforcement.yaml`` override).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import (
    NotApplicable,
    Requirements,
    Resource,
    no_budget_chosen,
    resource_policy,
    stack_policy,
)
from ._util import RESOURCE_GROUP, id_path, name_of, of_type

__all__ = [
    "ANOMALY_VIEW",
    "BUDGET",
    "DEFAULT_PRICE_PER_MILLION_TOKENS",
    "DUTY_CYCLE",
    "MINUTES_PER_MONTH",
    "PRICE_PER_MILLION_TOKENS",
    "SCHEDULED_ACTION",
    "TOKEN_SKUS",
    "capacity_bound",
    "price_per_million_tokens",
]

BUDGET = "azure-native:consumption:Budget"
SCHEDULED_ACTION = "azure-native:costmanagement:ScheduledActionByScope"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
DEPLOYMENT = "azure-native:cognitiveservices:Deployment"
AI_ACCOUNT = "azure-native:cognitiveservices:Account"

#: The built-in view an anomaly alert evaluates: daily cost by resource group, at the
#: subscription (the view hashicorp/terraform-provider-azurerm's azurerm_cost_anomaly_alert
#: and the Microsoft FinOps toolkit's scheduled-action module use).
ANOMALY_VIEW = "ms:DailyAnomalyByResourceGroup"

# ------------------------------------------------------------------ COST-03 rule data
#: Planning assumption, not a cloud fact: a deployment runs at its full rate for a tenth
#: of the month (about 2.4 hours a day). A runaway caller runs it at 100 %: ten times the
#: spend the bound allows, which the budget's alerts then report.
DUTY_CYCLE = 0.10
#: Minutes in the 30-day month the rule prices.
MINUTES_PER_MONTH = 30 * 24 * 60
#: Output-token price per million tokens, in the billing currency taken as USD, of the
#: Global Standard deployments of each model family, from the Azure OpenAI pricing page
#: (https://azure.microsoft.com/pricing/details/cognitive-services/openai-service/).
#: Matched by the longest prefix of the model name; regional and Data Zone deployments
#: cost up to 10 % more, which :data:`DUTY_CYCLE`'s margin absorbs.
PRICE_PER_MILLION_TOKENS: Mapping[str, float] = {
    "gpt-5": 10.00,
    "gpt-5-mini": 2.00,
    "gpt-5-nano": 0.40,
    "gpt-4.1": 8.00,
    "gpt-4.1-mini": 1.60,
    "gpt-4.1-nano": 0.40,
    "gpt-4o": 10.00,
    "gpt-4o-mini": 0.60,
    "o3": 8.00,
    "o4-mini": 4.40,
    "text-embedding-3-large": 0.13,
    "text-embedding-3-small": 0.02,
    "text-embedding-ada-002": 0.10,
}
#: Models the table does not name are priced like the dearest family it lists.
DEFAULT_PRICE_PER_MILLION_TOKENS = max(PRICE_PER_MILLION_TOKENS.values())
#: SKUs whose capacity is a token rate (thousands of tokens per minute); provisioned
#: SKUs count provisioned throughput units instead, billed by the hour whatever is used.
TOKEN_SKUS = frozenset({"Standard", "GlobalStandard", "DataZoneStandard"})


def price_per_million_tokens(model: str) -> float:
    """The rule's price of ``model`` (longest matching family; the default otherwise)."""
    families = [f for f in PRICE_PER_MILLION_TOKENS if model.lower().startswith(f)]
    if not families:
        return DEFAULT_PRICE_PER_MILLION_TOKENS
    return PRICE_PER_MILLION_TOKENS[max(families, key=len)]


def capacity_bound(model: str, monthly_budget: float) -> int:
    """The largest capacity (thousands of tokens per minute) of a ``model`` deployment
    that, used at :data:`DUTY_CYCLE` for a month, costs at most ``monthly_budget``;
    0 when the budget is 0 (no bound: COST-03 is then moot)."""
    if monthly_budget <= 0:
        return 0
    tokens_per_unit = 1000 * MINUTES_PER_MONTH * DUTY_CYCLE
    monthly_cost_per_unit = tokens_per_unit / 1_000_000 * price_per_million_tokens(model)
    return max(1, math.floor(monthly_budget / monthly_cost_per_unit))


# ------------------------------------------------------------------ helpers
#: Highest threshold a budget notification takes, in percent ("between 0 and 1000").
_MAX_THRESHOLD = 1000.0


def _workload_stack(resources: Sequence[Resource]) -> None:
    if not of_type(resources, AI_ACCOUNT):
        raise NotApplicable("the stack deploys no AI account (a state backend, say)")


def _group_names(resources: Sequence[Resource]) -> set[str]:
    """Names of the stack's resource groups, lowercased."""
    return {
        name
        for group in of_type(resources, RESOURCE_GROUP)
        if (name := name_of(group, "resourceGroupName"))
    }


def _group_of(scope: Any) -> str:
    """The resource group a scope ``/subscriptions/<s>/resourceGroups/<g>`` names
    (lowercased); "" for any other scope (a subscription, a resource)."""
    path = id_path(scope) if isinstance(scope, str) else ()
    if len(path) == 2 and path[0][0] == "subscriptions" and path[1][0] == "resourcegroups":
        return path[1][1]
    return ""


def _action_groups(resources: Sequence[Resource]) -> set[tuple[tuple[str, str], ...]]:
    """Id tails of the stack's action groups. Inputs name a group in
    ``actionGroupName``; the engine's outputs, which stack policies see under
    ``pulumi preview``, in ``name`` only."""
    return {
        (("actiongroups", name.lower()),)
        for group in of_type(resources, ACTION_GROUP)
        if isinstance(name := group.get("actionGroupName") or group.get("name"), str) and name
    }


def _notifications(budget: Resource) -> dict[str, Mapping[str, Any]]:
    value = budget.get("notifications", default={})
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, Mapping)}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


# ------------------------------------------------------------------ COST-01
@stack_policy(
    id="AZURE-COST-001",
    title="A monthly budget of monthly_budget covers the project's resource group",
    severity="medium",
    controls=["COST-01"],
    remediation="Create a Microsoft.Consumption budget on the project's resource group, "
    "category Cost, time grain Monthly, amount monthly_budget (CostGuardrails does; "
    "`pulumi config set monthly_budget N` changes the amount).",
    advisory_when=no_budget_chosen,
)
def budget_covers_project(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Spend on everything the project runs, the AI account included, is measured each
    month against the amount the team expects, so a leaked key or a prompt loop shows
    as a budget alert rather than on the invoice."""
    _workload_stack(resources)
    groups = _group_names(resources)
    if not groups:
        raise NotApplicable("no resource group in this stack")
    budgets = of_type(resources, BUDGET)
    expected = float(requirements.monthly_budget)
    if expected == 0:
        # Under the advisory reason above: nothing to compare, and a budget is welcome.
        yield None, "no monthly budget: monthly_budget is 0"
        return
    covering = [b for b in budgets if _group_of(b.get("scope")) in groups]
    if not covering:
        yield None, "no budget covers the project's resource group"
        return
    for budget in covering:
        problems = []
        if budget.get("category") != "Cost":
            problems.append(f"tracks {budget.get('category')!r}, not Cost")
        if budget.get("timeGrain") != "Monthly":
            problems.append(f"resets {budget.get('timeGrain')!r}, not Monthly")
        amount = _number(budget.get("amount"))
        if amount != expected:
            problems.append(f"amount {budget.get('amount')!r}, not monthly_budget {expected:g}")
        if problems:
            yield budget, f"{budget.name}: " + "; ".join(problems)


@stack_policy(
    id="AZURE-COST-002",
    title="The budget alerts the alert channel on actual and forecasted spend",
    severity="medium",
    controls=["COST-01"],
    remediation="Give the budget enabled notifications of threshold type Actual and "
    "Forecasted, thresholds above 0 and at most 1000 %, operator GreaterThan, each with "
    "the alert channel's action group id in "
    "contactGroups and no other group (CostGuardrails does).",
    advisory_when=no_budget_chosen,
)
def budget_alerts_channel(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A budget nobody hears of is a report: each of its notifications is enabled, fires
    above its threshold and reaches the project's action group (and only it); together
    they warn on actual spend and on the forecast, which fires days before the money is
    spent."""
    budgets = of_type(resources, BUDGET)
    if not budgets:
        raise NotApplicable("no budget (AZURE-COST-001 reports a missing one)")
    channels = _action_groups(resources)
    for budget in budgets:
        kinds: set[str] = set()
        for key, note in _notifications(budget).items():
            problems = []
            if note.get("enabled") is not True:
                problems.append("disabled")
            threshold = _number(note.get("threshold"))
            if threshold is None or not 0 < threshold <= _MAX_THRESHOLD:
                problems.append(f"threshold {note.get('threshold')!r} % never fires")
            if note.get("operator") not in ("GreaterThan", "GreaterThanOrEqualTo"):
                problems.append(f"operator {note.get('operator')!r} misses spend above it")
            groups = note.get("contactGroups") or []
            if not groups:
                problems.append("notifies no action group")
            elif not all(isinstance(g, str) and id_path(g) in channels for g in groups):
                problems.append("notifies an action group other than the alert channel")
            if problems:
                yield budget, f"{budget.name} notification {key}: " + ", ".join(problems)
            else:
                kinds.add(str(note.get("thresholdType") or "Actual"))
        for kind in ("Actual", "Forecasted"):
            if kind not in kinds:
                yield budget, f"{budget.name} has no {kind.lower()} spend alert to the channel"


# ------------------------------------------------------------------ COST-02
@stack_policy(
    id="AZURE-COST-003",
    title="A cost anomaly alert e-mails the alert addresses",
    severity="low",
    controls=["COST-02"],
    remediation="With account_services this-stack and alert_emails set, create a "
    "subscription-scope scheduled action of kind InsightAlert, status Enabled, daily, on "
    "the ms:DailyAnomalyByResourceGroup view, to every alert address (CostGuardrails "
    "does). Azure sends anomaly alerts by e-mail only: without alert_emails none can be "
    "created.",
)
def anomaly_alert(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Spend far from the subscription's learned daily pattern (a key used elsewhere, a
    loop calling the model) is e-mailed the day it is detected, whatever the budget."""
    _workload_stack(resources)
    if requirements.account_services == "shared":
        raise NotApplicable(
            "account_services is shared: the subscription's anomaly alerts (five at most per "
            "subscription) belong to the team that owns the subscription"
        )
    alerts = [
        a
        for a in of_type(resources, SCHEDULED_ACTION)
        if str(a.get("viewId", default="")).lower().endswith(ANOMALY_VIEW.lower())
    ]
    emails = {e.lower() for e in requirements.alert_emails}
    if not alerts:
        why = "" if emails else " (alert_emails is empty: Azure e-mails anomaly alerts only)"
        yield None, f"no cost anomaly alert{why}"
        return
    for alert in alerts:
        problems = []
        if alert.get("kind") != "InsightAlert":
            problems.append(f"kind {alert.get('kind')!r}, not InsightAlert")
        if alert.get("status") != "Enabled":
            problems.append(f"status {alert.get('status')!r}")
        if alert.get("schedule", "frequency") != "Daily":
            problems.append("not evaluated daily")
        to = {str(t).lower() for t in alert.items("notification", "to")}
        missing = sorted(emails - to)
        if missing:
            problems.append("does not e-mail " + ", ".join(missing))
        if problems:
            yield alert, f"{alert.name}: " + "; ".join(problems)


# ------------------------------------------------------------------ COST-03
@resource_policy(
    id="AZURE-COST-004",
    title="Each Azure OpenAI deployment's capacity is set and within the budget's bound",
    severity="low",
    types=[DEPLOYMENT],
    controls=["COST-03"],
    remediation="Set the deployment's sku.capacity (`pulumi config set model_capacity N` or "
    "per model) at or below the bound the budget allows (README, 'Cost guardrails'), or "
    "raise monthly_budget.",
    advisory_when=no_budget_chosen,
)
def deployment_capacity(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A deployment's capacity caps how many tokens a minute it serves: set at what the
    budget pays for, a runaway caller is throttled (HTTP 429) before it can spend many
    months' budget."""
    sku = resource.get("sku", "name")
    if sku is not None and sku not in TOKEN_SKUS:
        raise NotApplicable(f"SKU {sku} is provisioned throughput, billed by the hour")
    model = str(resource.get("properties", "model", "name", default=""))
    capacity = _number(resource.get("sku", "capacity"))
    if capacity is None or capacity < 1:
        yield f"{resource.name} states no capacity: Azure applies its default rate limit"
        return
    bound = capacity_bound(model, requirements.monthly_budget)
    if bound == 0:
        raise NotApplicable("no budget chosen: nothing bounds the capacity")
    if capacity > bound:
        yield (
            f"{resource.name} ({model}) has capacity {capacity:g}K tokens/minute; "
            f"monthly_budget {requirements.monthly_budget} pays for {bound}K at "
            f"{DUTY_CYCLE:.0%} use"
        )
