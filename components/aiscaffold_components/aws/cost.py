"""Cost guardrails: budgets, spend anomaly alerts, capacity limits (COST-01..03).

AI spend is a security signal: a leaked key or a prompt loop shows up first as a bill
(OWASP LLM10, unbounded consumption). Everything here notifies the project's one alert
channel (:class:`~.alerts.AlertChannel`'s topic), never a channel of its own.

- Budgets (COST-01): two AWS Budgets cost budgets of ``monthly_budget`` a month, one
  scoped to the project's cost-allocation tag (``TagKeyValue`` =
  ``user:project$<project>``, the filter syntax of the provider's "cost filter using
  resource tags" example, https://www.pulumi.com/registry/packages/aws/api-docs/budgets/budget/)
  and one to the AI service's own line of the bill (``Service`` = ``Amazon Bedrock`` or
  ``Amazon SageMaker``, the SERVICE dimension values Cost Explorer and Budgets filter on).
  The second exists because on-demand model invocations carry no resource tag: the
  project-tag budget does not see them, the service line does (for every workload of
  the account). Each notifies the alert topic on ACTUAL spend at 50, 80, 100 and 120 %
  and FORECASTED spend at 100 and 120 % (:data:`ACTUAL_THRESHOLDS`,
  :data:`FORECAST_THRESHOLDS`; a budget holds up to ten notifications, each with one
  SNS subscriber:
  https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Notification.html).
  Amounts are US dollars: AWS Budgets refuses any other unit ("AUD is not in the
  supported unit set: [USD]",
  https://github.com/awslabs/landing-zone-accelerator-on-aws/issues/682).
  A tag-filtered budget sees nothing until the tag is activated as a cost-allocation
  tag, once per account (paying account in an organization), and only after the tag has
  appeared in billing data (up to 24 hours):
  https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html.
  The stack does not activate it (``aws.costexplorer.CostAllocationTag`` fails with an
  "empty result" until then, https://github.com/hashicorp/terraform-provider-aws/issues/29068,
  and is refused outside the paying account): the README says how.
- Anomaly detection (COST-02): when the stack owns the account's services, the account's
  AWS services monitor (DIMENSIONAL, SERVICE: one per account, "Limit exceeded on
  dimensional spend monitor creation" for a second,
  https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/2515),
  and, only when asked (``tag_monitor``, stack config ``cost_tag_monitor``), a CUSTOM
  monitor on the project's cost-allocation tag: "Cost monitors for linked accounts, cost
  allocation tags, and cost categories can only be created in the management account"
  (https://docs.aws.amazon.com/cost-management/latest/userguide/getting-started-ad.html),
  and a workload usually lives in a member account, where it would fail the first
  ``pulumi up``. One subscription sends every anomaly whose total impact reaches
  :func:`anomaly_threshold_usd` to the alert topic at once (frequency IMMEDIATE:
  the only frequency that publishes to SNS, DAILY and WEEKLY send e-mail,
  https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_AnomalySubscription.html).
- Capacity (COST-03): Bedrock on-demand quotas (tokens per minute per model) are AWS's;
  Service Quotas only raises them (RequestServiceQuotaIncrease, "the new, increased
  value", https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_RequestServiceQuotaIncrease.html;
  https://docs.aws.amazon.com/bedrock/latest/userguide/quotas.html), so the cap is the
  application's own throttle (README, "Cost guardrails"). Provisioned throughput (a
  monthly commitment) is never created here, and SageMaker endpoints stay within
  :data:`MAX_ENDPOINT_INSTANCES` (AWS-COST-004 reports either).

Both Budgets and Cost Anomaly Detection publish to the topic as services
(``budgets.amazonaws.com``, ``costalerts.amazonaws.com``): the alert channel's topic and
key policies admit them for this account only (:data:`~.alerts.ALERT_PUBLISHER_SERVICES`;
https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html,
https://docs.aws.amazon.com/cost-management/latest/userguide/ad-SNS.html, and for the
encrypted topic's key https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

__all__ = [
    "ACTUAL_THRESHOLDS",
    "ANOMALY_BUDGET_FRACTION",
    "ANOMALY_DEFAULT_USD",
    "BUDGET_CURRENCY",
    "BUDGET_SERVICE_NAMES",
    "FORECAST_THRESHOLDS",
    "MAX_ENDPOINT_INSTANCES",
    "PROJECT_TAG_KEY",
    "CostGuardrails",
    "CostGuardrailsArgs",
    "anomaly_threshold_usd",
    "project_tag_filter",
]

#: The only unit AWS Budgets accepts for a cost budget.
BUDGET_CURRENCY = "USD"
#: Percentages of the budget at which actual spend notifies (COST-01).
ACTUAL_THRESHOLDS: tuple[float, ...] = (50.0, 80.0, 100.0, 120.0)
#: Percentages of the budget at which forecasted spend notifies: the month is heading
#: over budget before it is.
FORECAST_THRESHOLDS: tuple[float, ...] = (100.0, 120.0)
#: The cost-allocation tag every resource of the project carries (Profile.tags).
PROJECT_TAG_KEY = "project"
#: The SERVICE dimension value of each AI service's line on the bill.
BUDGET_SERVICE_NAMES: Mapping[str, str] = {
    "bedrock": "Amazon Bedrock",
    "sagemaker": "Amazon SageMaker",
}
#: An anomaly alerts when its total impact reaches this share of the monthly budget
#: (10 %: three days of a budget spent evenly), and at least 1 USD.
ANOMALY_BUDGET_FRACTION = 0.1
#: The impact that alerts when the project has no budget (monthly_budget 0).
ANOMALY_DEFAULT_USD = 100
#: Endpoint instances (initial count, autoscaling maximum) a SageMaker endpoint may have
#: before AWS-COST-004 reports it: the project creates none; one that needs more is a
#: decision to record (an override with its reason).
MAX_ENDPOINT_INSTANCES = 2
#: AWS Budgets: 1-100 characters, no ``:`` or ``\`` (botocore's BudgetName pattern).
_BUDGET_NAME = re.compile(r"[^:\\]{1,100}")

AiService = Literal["bedrock", "sagemaker"]


def project_tag_filter(project: str) -> str:
    """The ``TagKeyValue`` filter value of the project's cost-allocation tag
    (``user:<key>$<value>``; user-defined tags are prefixed ``user:``)."""
    return f"user:{PROJECT_TAG_KEY}${project}"


def anomaly_threshold_usd(monthly_budget: int) -> int:
    """The total impact (USD) from which an anomaly alerts: 10 % of the budget, rounded
    up, at least 1; :data:`ANOMALY_DEFAULT_USD` without a budget."""
    if monthly_budget <= 0:
        return ANOMALY_DEFAULT_USD
    return max(1, math.ceil(monthly_budget * ANOMALY_BUDGET_FRACTION))


@dataclass(frozen=True)
class CostGuardrailsArgs:
    """Arguments of :class:`CostGuardrails`."""

    name_prefix: str
    """Budgets are ``<name_prefix>-project`` and ``<name_prefix>-<ai_service>``, the
    monitor ``<name_prefix>-project``, the subscription ``<name_prefix>-anomalies``."""
    project: str
    """The value of the project's ``project`` tag the budget and monitor filter on."""
    ai_service: AiService
    monthly_budget: int
    """Expected monthly spend in USD (AWS Budgets' only unit); 0 creates no budget."""
    alert_topic_arn: pulumi.Input[str]
    """The project's alert topic (``AlertChannel.topic_arn``): every notification goes
    there; its policies must admit budgets.amazonaws.com and costalerts.amazonaws.com."""
    tags: Mapping[str, str]
    service_monitor: bool = False
    """Create the account's AWS services anomaly monitor (one per account: only the
    stack owning the account's services, ``account_services: this-stack``)."""
    tag_monitor: bool = False
    """Create a CUSTOM monitor on the project's cost-allocation tag: only an
    organization's management account may (see the module docstring)."""
    anomaly_threshold: int | None = None
    """Total impact in USD from which an anomaly alerts; default
    :func:`anomaly_threshold_usd` of the budget."""


class CostGuardrails(pulumi.ComponentResource):
    """Budgets with actual and forecast alerts, anomaly detection, all to the alert topic."""

    budgets: list[aws.budgets.Budget]
    """The project and AI-service budgets (none when ``monthly_budget`` is 0)."""
    monitor: aws.costexplorer.AnomalyMonitor | None
    """The project-tag monitor (only with ``tag_monitor``)."""
    service_monitor: aws.costexplorer.AnomalyMonitor | None
    subscription: aws.costexplorer.AnomalySubscription | None
    """None when the stack has no monitor to subscribe (``account_services: shared``
    without a tag monitor: the owning stack's subscription covers the account)."""
    budget_names: list[str]

    def __init__(
        self, name: str, args: CostGuardrailsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if args.ai_service not in BUDGET_SERVICE_NAMES:
            raise ValueError(
                f"ai_service must be one of {', '.join(BUDGET_SERVICE_NAMES)}, "
                f"not {args.ai_service!r}"
            )
        if args.monthly_budget < 0:
            raise ValueError(f"monthly_budget must be 0 or more, not {args.monthly_budget}")
        if not args.project or "$" in args.project:
            raise ValueError(f"invalid project tag value {args.project!r}")
        threshold = (
            anomaly_threshold_usd(args.monthly_budget)
            if args.anomaly_threshold is None
            else args.anomaly_threshold
        )
        if threshold < 1:
            raise ValueError(f"anomaly_threshold must be at least 1 USD, not {threshold}")
        budget_names = (
            [f"{args.name_prefix}-project", f"{args.name_prefix}-{args.ai_service}"]
            if args.monthly_budget
            else []
        )
        for budget_name in budget_names:
            if not _BUDGET_NAME.fullmatch(budget_name):
                raise ValueError(
                    f"invalid budget name {budget_name!r} (1-100 characters, no ':' or '\\')"
                )
        super().__init__("aiscaffold:aws:CostGuardrails", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        notifications = [
            aws.budgets.BudgetNotificationArgs(
                notification_type=kind,
                comparison_operator="GREATER_THAN",
                threshold=percent,
                threshold_type="PERCENTAGE",
                subscriber_sns_topic_arns=[args.alert_topic_arn],
            )
            for kind, thresholds in (
                ("ACTUAL", ACTUAL_THRESHOLDS),
                ("FORECASTED", FORECAST_THRESHOLDS),
            )
            for percent in thresholds
        ]
        # The project's tagged resources; the AI service's line, which on-demand
        # invocations (untagged) reach.
        scopes = (
            ("project", "TagKeyValue", project_tag_filter(args.project)),
            ("ai", "Service", BUDGET_SERVICE_NAMES[args.ai_service]),
        )
        self.budgets = [
            aws.budgets.Budget(
                f"{name}-{role}-budget",
                name=budget_name,
                budget_type="COST",
                time_unit="MONTHLY",
                limit_amount=str(args.monthly_budget),
                limit_unit=BUDGET_CURRENCY,
                cost_filters=[aws.budgets.BudgetCostFilterArgs(name=filter_name, values=[value])],
                notifications=notifications,
                tags=args.tags,
                opts=child,
            )
            for (role, filter_name, value), budget_name in zip(scopes, budget_names, strict=False)
        ]

        monitors: list[pulumi.Input[str]] = []
        self.monitor = None
        if args.tag_monitor:
            self.monitor = aws.costexplorer.AnomalyMonitor(
                f"{name}-anomaly-monitor",
                name=f"{args.name_prefix}-project",
                monitor_type="CUSTOM",
                monitor_specification=json.dumps(
                    {"Tags": {"Key": PROJECT_TAG_KEY, "Values": [args.project]}}, sort_keys=True
                ),
                tags=args.tags,
                opts=child,
            )
            monitors.append(self.monitor.arn)
        self.service_monitor = None
        if args.service_monitor:
            self.service_monitor = aws.costexplorer.AnomalyMonitor(
                f"{name}-service-monitor",
                name=f"{args.name_prefix}-aws-services",
                monitor_type="DIMENSIONAL",
                monitor_dimension="SERVICE",
                tags=args.tags,
                opts=child,
            )
            monitors.append(self.service_monitor.arn)
        self.subscription = None
        if monitors:
            self.subscription = aws.costexplorer.AnomalySubscription(
                f"{name}-anomaly-alerts",
                name=f"{args.name_prefix}-anomalies",
                frequency="IMMEDIATE",
                monitor_arn_lists=monitors,
                subscribers=[
                    aws.costexplorer.AnomalySubscriptionSubscriberArgs(
                        type="SNS", address=args.alert_topic_arn
                    )
                ],
                threshold_expression=aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs(
                    dimension=aws.costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                        key="ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                        match_options=["GREATER_THAN_OR_EQUAL"],
                        values=[str(threshold)],
                    )
                ),
                tags=args.tags,
                opts=child,
            )
        self.budget_names = budget_names
        self.register_outputs({"budget_names": self.budget_names})
