"""Cost guardrails (COST-01..03): Cloud Billing budgets and Vertex AI request caps.

Values judged come from :mod:`aiscaffold_components.gcp.cost` (thresholds, the Vertex AI
billing service, the request-cap bound) so a policy and the component cannot drift. A
budget lives on a billing account: without ``billing_account`` (or with a
``monthly_budget`` of 0) none can be created, and the budget policies stay advisory
(``advisory_when``): still shown, never credited.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .._core import (
    NotApplicable,
    Requirements,
    Resource,
    no_budget_chosen,
    resource_policy,
    stack_policy,
)
from ._util import cost_constants, is_ai_workload, last_segment, of_type, some

BUDGET = "gcp:billing/budget:Budget"
QUOTA_OVERRIDE = "gcp:serviceusage/consumerQuotaOverride:ConsumerQuotaOverride"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
#: The alert channel's topic is ``<prefix>-alerts`` (:class:`~aiscaffold_components.gcp.AlertChannel`).
ALERT_TOPIC_SUFFIX = "-alerts"
#: The request-volume alert of the detection family (SecurityAlarms), COST-02's other half.
VOLUME_ALARM = "invocation-volume-spike"
#: The schema Billing's Pub/Sub notifications take (billingbudgets v1: only "1.0").
SCHEMA_VERSION = "1.0"


def _no_budget(requirements: Requirements) -> str | None:
    """Why no budget can be created under these answers (None: one can)."""
    chosen = no_budget_chosen(requirements)
    if chosen:
        return chosen
    if requirements.cloud == "gcp" and not requirements.billing_account:
        return (
            "no billing_account: a Cloud Billing budget attaches to one "
            "(aiscaffold update --data billing_account=XXXXXX-XXXXXX-XXXXXX)"
        )
    return None


def _to_alert_topic(budget: Resource) -> bool:
    topic = budget.get("allUpdatesRule", "pubsubTopic")
    return (
        isinstance(topic, str)
        and last_segment(topic).endswith(ALERT_TOPIC_SUFFIX)
        and budget.get("allUpdatesRule", "schemaVersion") == SCHEMA_VERSION
    )


def _thresholds(budget: Resource, basis: str) -> set[float]:
    out: set[float] = set()
    for rule in budget.items("thresholdRules"):
        # CURRENT_SPEND is the API's default basis.
        if (rule.get("spendBasis") or "CURRENT_SPEND") == basis:
            percent = rule.get("thresholdPercent")
            if isinstance(percent, (int, float)) and not isinstance(percent, bool):
                out.add(round(float(percent), 4))
    return out


def _missing(budget: Resource) -> list[str]:
    """What a budget lacks of the catalog's thresholds (COST-01: 50/80/100/120 % actual,
    100/120 % forecast)."""
    out = []
    for basis, wanted in (
        ("CURRENT_SPEND", cost_constants().spend_thresholds),
        ("FORECASTED_SPEND", cost_constants().forecast_thresholds),
    ):
        lacking = sorted(set(wanted) - _thresholds(budget, basis))
        if lacking:
            kind = "actual" if basis == "CURRENT_SPEND" else "forecast"
            out.append(f"{kind} spend alerts at {', '.join(f'{p:.0%}' for p in lacking)}")
    return out


@stack_policy(
    id="GCP-COST-001",
    title="A monthly budget of the project alerts on actual and forecast spend",
    severity="medium",
    controls=["COST-01"],
    remediation="Create the budgets with aiscaffold_components.gcp.CostGuardrails "
    "(billing_account set, monthly_budget above 0): amount monthly_budget per calendar "
    "month, filtered to projects/<project number>, thresholds at 50/80/100/120 % of actual "
    "and 100/120 % of forecast spend. Change the amount with `aiscaffold update --data "
    "monthly_budget=N` (stack config and policy/enforcement.yaml together).",
    advisory_when=_no_budget,
)
def budget_present(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A leaked key or a prompt loop shows first as a bill: a Cloud Billing budget of
    `monthly_budget` per calendar month, scoped to the project, alerts on actual spend at
    50, 80, 100 and 120 % and on the month's forecast at 100 and 120 %. A budget of
    another amount alerts at the wrong spend."""
    budgets = of_type(resources, BUDGET)
    if not budgets:
        if not is_ai_workload(resources):
            raise NotApplicable("no AI workload: the workload stack holds the budget")
        reason = _no_budget(requirements) or "the stack creates none"
        yield None, f"no Cloud Billing budget: {reason}"
        return
    for budget in budgets:
        units = budget.get("amount", "specifiedAmount", "units")
        try:
            amount = int(str(units))
        except ValueError:
            amount = None
        if amount != requirements.monthly_budget:
            shown = "no fixed amount" if amount is None else f"an amount of {amount}"
            yield (
                budget,
                f"{budget.name} has {shown}, not the project's monthly_budget "
                f"{requirements.monthly_budget}",
            )
        if not budget.items("budgetFilter", "projects"):
            yield budget, f"{budget.name} counts the whole billing account, not the project"
        if budget.get("budgetFilter", "calendarPeriod") != "MONTH":
            yield budget, f"{budget.name} does not track spend per calendar month"
        if budget.get("budgetFilter", "creditTypesTreatment") != "EXCLUDE_ALL_CREDITS":
            yield (
                budget,
                f"{budget.name} counts spend after credits: usage paid by credits hides a "
                "runaway caller",
            )
        for lacking in _missing(budget):
            yield budget, f"{budget.name} has no {lacking}"


@resource_policy(
    id="GCP-COST-002",
    title="Budget notifications reach the project's alert channel",
    severity="medium",
    types=[BUDGET],
    controls=["COST-01"],
    remediation="Set all_updates_rule.pubsub_topic to the alert channel's topic "
    "(AlertChannel.topic_id) with schema_version '1.0', name its e-mail channels in "
    "monitoring_notification_channels and keep disable_default_iam_recipients false "
    "(CostGuardrailsArgs.alert_topic_id and notification_channels).",
    advisory_when=_no_budget,
)
def budget_routed(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Budget updates are published to the project's alert topic (``<prefix>-alerts``,
    schema 1.0), where the responders and machine consumers of every other alert read
    them; threshold crossings e-mail the alert addresses' Monitoring channels (when the
    project has any) and still the billing account's administrators."""
    if not _to_alert_topic(resource):
        yield f"{resource.name} does not publish to the project's alert topic (schema 1.0)"
    if resource.get("allUpdatesRule", "disableDefaultIamRecipients") is True:
        yield f"{resource.name} no longer e-mails the billing account's administrators"
    if requirements.alert_emails and not resource.items(
        "allUpdatesRule", "monitoringNotificationChannels"
    ):
        yield f"{resource.name} e-mails none of the alert addresses"


def _volume_alarm(alert: Resource) -> bool:
    # Found by its Pulumi name (SecurityAlarms names it <base>-invocation-volume-spike),
    # so no other alert's inputs are read.
    return (
        alert.name.endswith(VOLUME_ALARM)
        and alert.get("enabled") is not False
        and bool(alert.items("notificationChannels"))
    )


@stack_policy(
    id="GCP-COST-003",
    title="Spend heading past the budget, or AI requests far above baseline, raise an alert",
    severity="low",
    controls=["COST-02"],
    remediation="Keep each budget's forecast thresholds (CostGuardrails) with its "
    "notifications on the alert topic; without a budget (no billing_account), keep the "
    "invocation-volume-spike alert of SecurityAlarms routed to the alert channel.",
)
def spend_anomaly(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Unusual spend is caught before the invoice: every budget has a forecast threshold
    (the month's spend heading past the budget) and publishes to the alert topic. A
    stack that can have no budget (no billing account, or no budget chosen) relies on
    the Monitoring alert on Vertex AI requests far above the day before
    (``invocation-volume-spike``), enabled and routed to notification channels."""
    if not is_ai_workload(resources):
        raise NotApplicable("no AI workload")
    budgets = of_type(resources, BUDGET)
    for budget in budgets:
        if not _thresholds(budget, "FORECASTED_SPEND"):
            yield budget, f"{budget.name} has no forecast threshold"
        elif not _to_alert_topic(budget):
            yield budget, f"{budget.name}'s forecast alerts do not reach the alert topic"
    if budgets:
        return
    if not some(of_type(resources, ALERT_POLICY), _volume_alarm):
        yield (
            None,
            f"no budget forecasts spend and no routed {VOLUME_ALARM} alert watches the AI "
            "request volume",
        )


def _cap(override: Resource) -> float | None:
    try:
        return float(str(override.get("overrideValue")))
    except ValueError:
        return None


@stack_policy(
    id="GCP-COST-004",
    title="Vertex AI requests per minute are capped within the budget's bound",
    severity="low",
    controls=["COST-03"],
    remediation="Cap each model's requests per minute with CostGuardrails (stack config "
    "ai_requests_per_minute, default 60), at most 60 x max(1, monthly_budget / 1000).",
)
def capacity_capped(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A runaway caller is throttled before it runs up the bill: consumer quota overrides
    cap Vertex AI's requests per minute of each base model in the region (Google's
    advice under dynamic shared quota), at a positive value no higher than the budget
    allows (60 per minute at the default budget of 1,000, scaled with the budget). An
    override of -1 lifts every limit."""
    if not is_ai_workload(resources):
        raise NotApplicable("no AI workload")
    bound = cost_constants().max_requests_per_minute(requirements.monthly_budget)
    overrides = [
        o
        for o in of_type(resources, QUOTA_OVERRIDE)
        if o.get("service") == "aiplatform.googleapis.com"
    ]
    if not overrides:
        yield None, "no consumer quota override caps Vertex AI's requests per minute"
        return
    for override in overrides:
        dimensions: Any = override.get("dimensions", default={})
        if not dimensions.get("base_model") or not dimensions.get("region"):
            yield override, f"{override.name} caps no single base model in one region"
        cap = _cap(override)
        if cap is None or cap < 0:
            yield override, f"{override.name} sets no limit"
        elif cap == 0 or cap > bound:
            yield (
                override,
                f"{override.name} allows {cap:g} requests a minute, outside 1..{bound} "
                f"(monthly_budget {requirements.monthly_budget})",
            )
