"""Cost guardrails: the project's budget, the subscription's cost anomaly alert and the
bound on the Azure OpenAI deployments' capacity (COST-01..03).

AI spend is a security signal: a leaked key or a prompt loop shows first as a bill
(OWASP LLM10, unbounded consumption). :class:`CostGuardrails` creates:

* **a budget** (COST-01): ``Microsoft.Consumption/budgets`` on the project's resource
  group, so it measures everything the project runs, the AI account included; category
  Cost, reset monthly, amount ``monthly_budget`` in the billing currency of the
  subscription (a budget states no currency: Azure evaluates it in the currency the
  account is billed in). Its notifications go to the alert channel's action group, and
  to ``alert_emails`` too. A budget holds at most five notifications
  (https://learn.microsoft.com/rest/api/consumption/budgets/create-or-update, property
  ``notifications``), so the alerts are actual spend above 50, 80, 100 and 120 % and
  forecasted spend above 100 %: the forecast warns days before the money is spent, and
  120 % actual says the overrun is real. Budgets only notify: Azure never stops a
  resource when one is exceeded
  (https://learn.microsoft.com/azure/cost-management-billing/costs/tutorial-acm-create-budgets).
  Azure evaluates budgets about once a day, on cost data 8-24 hours old.

  Its start date is the first day of a month, not more than twelve months ahead, and
  cannot be updated ("Start date of budgets cannot be updated. Please delete and create
  a new budget", Azure/azure-quickstart-templates#7095). So ``start_date`` is fixed
  (stack config ``budget_start``, else the first of the month of the first deployment)
  and the budget ignores later changes of it: a program computing "this month" on every
  run would otherwise fail every deployment after the first month.

* **a cost anomaly alert** (COST-02): a Cost Management scheduled action of kind
  ``InsightAlert`` that e-mails the addresses when the subscription's daily cost leaves
  its learned pattern
  (https://learn.microsoft.com/azure/cost-management-billing/understand/analyze-unexpected-charges).
  Azure creates anomaly alerts at subscription scope only, five at most per subscription,
  and delivers them by e-mail only (``notification.to``, 1-20 addresses): no action group
  can receive one. So it follows ``account_services`` like the other subscription
  singletons (``this-stack`` creates it, ``shared`` leaves it to the subscription's
  owners), needs ``alert_emails`` (without them none is created, and AZURE-COST-003
  reports it, advisory), and is not available in Azure Government. Its window is the
  current month's first day and a year on: each ``pulumi up`` moves it forward, so the
  alert never expires while the stack is deployed at least once a year.

* **the capacity bound** (COST-03): the capacity of each Azure OpenAI deployment
  (thousands of tokens per minute, set by ``model_capacity``) that the budget pays for,
  by the rule in :mod:`aiscaffold_components.policies.azure.cost`. The bound never
  changes a deployment: :attr:`CostGuardrails.capacity_bounds` reports it,
  :attr:`CostGuardrails.capacity_overruns` lists deployments above it (a warning at
  ``pulumi up``), and AZURE-COST-004 reports them (advisory).

Deploying takes Cost Management Contributor (or Contributor) on the resource group for
the budget, and on the subscription for the anomaly alert
(``Microsoft.CostManagement/scheduledActions/write``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from ..deploy.azure import (
    ANOMALY_DISPLAY_NAME_MAX,
    ANOMALY_MAX_RECIPIENTS,
    BUDGET_EARLIEST_START,
    BUDGET_MAX_NOTIFICATIONS,
    BUDGET_THRESHOLD_RANGE,
)
from ..policies.azure.cost import ANOMALY_VIEW, capacity_bound
from ._common import child_opts, short_hash
from .openai import ModelDeployment

__all__ = [
    "ACTUAL_THRESHOLDS",
    "FORECAST_THRESHOLDS",
    "CostGuardrails",
    "CostGuardrailsArgs",
]

#: Percentages of the budget that raise an alert on actual spend, and on forecasted spend.
#: Five in all: the most one budget holds.
ACTUAL_THRESHOLDS: tuple[int, ...] = (50, 80, 100, 120)
FORECAST_THRESHOLDS: tuple[int, ...] = (100,)
#: Budget names: letters, digits, ``_`` and ``-``, at most 63 characters (REST reference,
#: ``budgetName``: ^[a-zA-Z0-9_-]+$).
_BUDGET_NAME = re.compile(r"[A-Za-z0-9_-]{1,63}")
#: A monthly budget above this is a typo, not a plan (the answer's own limit).
_MAX_BUDGET = 10_000_000
#: An anomaly alert's e-mail subject: at most 50 characters (the limit
#: hashicorp/terraform-provider-azurerm validates since the API's 2026-04 change).
_SUBJECT_MAX = 50
#: Scheduled action names: letters, digits and hyphens.
_ACTION_NAME = re.compile(r"[A-Za-z0-9-]{1,260}")
# /subscriptions/<id>/resourceGroups/<name>
_GROUP_ID = re.compile(r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/[^/]+$", re.IGNORECASE)


def _subscription_of(resource_group_id: str) -> str:
    match = _GROUP_ID.match(resource_group_id)
    if match is None:
        raise ValueError(f"{resource_group_id!r} is not a resource group id")
    return f"/subscriptions/{match['sub']}"


def _government(location: str) -> bool:
    return location.lower().startswith(("usgov", "usdod"))


def _first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


@dataclass(frozen=True)
class CostGuardrailsArgs:
    """Arguments of :class:`CostGuardrails`."""

    resource_group_id: pulumi.Input[str]
    """The project's resource group (``network.resource_group_id``): the budget's scope,
    and the subscription the anomaly alert watches."""
    name_prefix: str
    """Budget ``<name_prefix>-monthly`` and anomaly alert ``<name_prefix>-cost-anomaly``."""
    action_group_id: pulumi.Input[str]
    """The alert channel's action group (``alerts.action_group_id``): every budget alert
    goes there."""
    monthly_budget: int
    """Expected monthly spend in the billing currency (``profile.monthly_budget``);
    0 creates no budget (allowed for public and internal data only)."""
    start_date: dt.date
    """First day of the month the budget starts (on or after 2017-06-01, at most twelve
    months ahead). Fixed: Azure cannot update it, so the budget ignores later changes."""
    emails: Sequence[str] = ()
    """Addresses also e-mailed by the budget, and the anomaly alert's recipients
    (``profile.alert_emails``, at most 20)."""
    anomaly_alert: bool = True
    """Create the subscription's cost anomaly alert (``account_services == "this-stack"``);
    it needs ``emails``. False: the subscription's owners run theirs."""
    anomaly_window_start: dt.date | None = None
    """Start of the anomaly alert's one-year window; default the first day of this month
    (UTC), so each deployment renews the window."""
    deployments: Sequence[ModelDeployment] = ()
    """The Azure OpenAI deployments whose capacity the budget bounds (the ones given to
    :class:`~aiscaffold_components.azure.OpenAIAccount`)."""
    actual_thresholds: Sequence[int] = ACTUAL_THRESHOLDS
    forecast_thresholds: Sequence[int] = FORECAST_THRESHOLDS
    location: str = ""
    """The project's region: in Azure Government (``usgov*``, ``usdod*``) no anomaly
    alert is created ("Cost anomaly alerts are not available for Azure Government
    customers", the anomaly page above)."""


class CostGuardrails(pulumi.ComponentResource):
    """Budget with actual and forecast alerts to the alert channel, cost anomaly alert,
    and the bound on Azure OpenAI capacity (COST-01..03)."""

    budget: azure_native.consumption.Budget | None
    budget_name: str | None
    anomaly_alert: azure_native.costmanagement.ScheduledActionByScope | None
    capacity_bounds: dict[str, int]
    """Deployment name -> the largest capacity the budget pays for (empty with no budget)."""
    capacity_overruns: dict[str, tuple[int, int]]
    """Deployment name -> (its capacity, the bound), for those above the bound."""

    def __init__(
        self, name: str, args: CostGuardrailsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        _validate(args)
        super().__init__("aiscaffold:azure:CostGuardrails", name, None, opts)
        emails = list(dict.fromkeys(args.emails))

        self.budget = None
        self.budget_name = None
        if args.monthly_budget > 0:
            self.budget_name = f"{args.name_prefix}-monthly"
            notifications: dict[str, azure_native.consumption.NotificationArgs] = {}
            for kind, thresholds in (
                ("Actual", args.actual_thresholds),
                ("Forecasted", args.forecast_thresholds),
            ):
                for threshold in thresholds:
                    notifications[f"{kind}_GreaterThan_{threshold}_Percent"] = (
                        azure_native.consumption.NotificationArgs(
                            enabled=True,
                            # GreaterThan is the operator Azure recommends; EqualTo misses
                            # spend that jumps past the threshold.
                            operator=azure_native.consumption.OperatorType.GREATER_THAN,
                            threshold=threshold,
                            threshold_type=kind,
                            contact_groups=[args.action_group_id],
                            # At resource group scope a contact group is enough; the
                            # addresses are e-mailed directly as well.
                            contact_emails=emails,
                        )
                    )
            self.budget = azure_native.consumption.Budget(
                f"{name}-budget",
                scope=args.resource_group_id,
                budget_name=self.budget_name,
                category=azure_native.consumption.CategoryType.COST,
                time_grain=azure_native.consumption.TimeGrainType.MONTHLY,
                amount=args.monthly_budget,
                time_period=azure_native.consumption.BudgetTimePeriodArgs(
                    start_date=f"{args.start_date.isoformat()}T00:00:00Z",
                ),
                notifications=notifications,
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["timePeriod.startDate"]),
            )

        self.anomaly_alert = None
        if args.anomaly_alert and emails and not _government(args.location):
            window = args.anomaly_window_start or _first_of_month(dt.datetime.now(dt.UTC).date())
            subscription = pulumi.Output.from_input(args.resource_group_id).apply(_subscription_of)
            display = f"{args.name_prefix}-anomaly"
            if len(display) > ANOMALY_DISPLAY_NAME_MAX:
                display = f"cost-anomaly-{short_hash(args.name_prefix)}"
            self.anomaly_alert = azure_native.costmanagement.ScheduledActionByScope(
                f"{name}-anomaly",
                scope=subscription,
                name=f"{args.name_prefix}-cost-anomaly",
                kind=azure_native.costmanagement.ScheduledActionKind.INSIGHT_ALERT,
                display_name=display,
                status=azure_native.costmanagement.ScheduledActionStatus.ENABLED,
                view_id=subscription.apply(
                    lambda s: f"{s}/providers/Microsoft.CostManagement/views/{ANOMALY_VIEW}"
                ),
                notification=azure_native.costmanagement.NotificationPropertiesArgs(
                    to=emails,
                    subject=f"Cost anomaly: {args.name_prefix}"[:_SUBJECT_MAX],
                ),
                notification_email=emails[0],
                schedule=azure_native.costmanagement.SchedulePropertiesArgs(
                    # Insight alerts are evaluated daily only (the SDK's ScheduledActionKind).
                    frequency=azure_native.costmanagement.ScheduleFrequency.DAILY,
                    start_date=f"{window.isoformat()}T00:00:00Z",
                    end_date=f"{window.replace(year=window.year + 1).isoformat()}T00:00:00Z",
                ),
                opts=child_opts(self),
            )

        self.capacity_bounds = {}
        self.capacity_overruns = {}
        if args.monthly_budget > 0:
            for deployment in args.deployments:
                bound = capacity_bound(deployment.model, args.monthly_budget)
                self.capacity_bounds[deployment.deployment_name] = bound
                if deployment.capacity > bound:
                    self.capacity_overruns[deployment.deployment_name] = (
                        deployment.capacity,
                        bound,
                    )
                    pulumi.log.warn(
                        f"deployment {deployment.deployment_name} ({deployment.model}) has "
                        f"capacity {deployment.capacity}K tokens/minute; monthly_budget "
                        f"{args.monthly_budget} pays for {bound}K (README, 'Cost guardrails')",
                        resource=self,
                    )
        self.register_outputs(
            {
                "budget_name": self.budget_name,
                "anomaly_alert": self.anomaly_alert.id if self.anomaly_alert else None,
                "capacity_bounds": self.capacity_bounds,
            }
        )


def _validate(args: CostGuardrailsArgs) -> None:
    """Refuse what Azure would refuse, before any resource is registered."""
    if isinstance(args.monthly_budget, bool) or not 0 <= args.monthly_budget <= _MAX_BUDGET:
        raise ValueError(
            f"monthly_budget must be a whole number from 0 to {_MAX_BUDGET:,}, "
            f"not {args.monthly_budget!r}"
        )
    if args.monthly_budget > 0:
        if not _BUDGET_NAME.fullmatch(f"{args.name_prefix}-monthly"):
            raise ValueError(
                f"budget name {args.name_prefix}-monthly is not 1-63 letters, digits, _ or -"
            )
        if args.start_date.day != 1 or args.start_date < BUDGET_EARLIEST_START:
            raise ValueError(
                f"budget start {args.start_date} must be the first day of a month, on or "
                "after 2017-06-01 (pulumi config set budget_start YYYY-MM-01)"
            )
        thresholds = [*args.actual_thresholds, *args.forecast_thresholds]
        if not args.actual_thresholds or not args.forecast_thresholds:
            raise ValueError("a budget needs at least one actual and one forecast threshold")
        if len(thresholds) > BUDGET_MAX_NOTIFICATIONS:
            raise ValueError(
                f"a budget holds at most {BUDGET_MAX_NOTIFICATIONS} notifications, not "
                f"{len(thresholds)}"
            )
        low, high = BUDGET_THRESHOLD_RANGE
        for threshold in thresholds:
            if not low < threshold <= high:
                raise ValueError(f"threshold {threshold} % is not above {low} and at most {high}")
    if len(set(args.emails)) > ANOMALY_MAX_RECIPIENTS:
        raise ValueError(f"an anomaly alert e-mails at most {ANOMALY_MAX_RECIPIENTS} addresses")
    if args.anomaly_alert and not _ACTION_NAME.fullmatch(f"{args.name_prefix}-cost-anomaly"):
        raise ValueError(f"anomaly alert name {args.name_prefix}-cost-anomaly is not valid")
