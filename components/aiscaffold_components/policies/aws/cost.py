"""Cost guardrails: budgets, spend anomaly alerts and capacity, all to the alert topic.

AWS-COST-001 and -002 verify COST-01 (mandatory from restricted data and under SOC 2;
advisory when the project chose no budget, ``monthly_budget`` 0), AWS-COST-003 COST-02
and AWS-COST-004 COST-03 (both advisory-only in the catalog: anomaly detection learns a
baseline first, and Bedrock's on-demand quotas cannot be lowered by the account).
AWS-COST-005 keeps the services that publish cost alerts to this account's own budgets
and monitors. The values the checks compare against (thresholds, the service names of
the bill, the anomaly threshold rule) are the component's, :mod:`...aws.cost`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import (
    Addition,
    NotApplicable,
    Requirements,
    Resource,
    no_budget_chosen,
    stack_policy,
)
from ._util import (
    actions,
    conditions,
    document,
    of_type,
    principals,
    refers_to,
    statements,
)
from .iam import deploys_workload

BUDGET = "aws:budgets/budget:Budget"
MONITOR = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
SUBSCRIPTION = "aws:costexplorer/anomalySubscription:AnomalySubscription"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
PROVISIONED = "aws:bedrock/provisionedModelThroughput:ProvisionedModelThroughput"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
SCALING_TARGET = "aws:appautoscaling/target:Target"

#: The service principals that publish cost alerts, by the resource type that makes them.
COST_PUBLISHERS: Mapping[str, str] = {
    BUDGET: "budgets.amazonaws.com",
    SUBSCRIPTION: "costalerts.amazonaws.com",
}


def _component(name: str) -> Any:
    """A value of the AWS cost component, imported when a policy runs (pulumi-aws)."""
    from ...aws import cost

    return getattr(cost, name)


def _project(resources: Sequence[Resource]) -> str | None:
    """The Pulumi project (the value of every resource's ``project`` tag), from a URN."""
    for resource in resources:
        parts = resource.urn.split("::")
        if len(parts) >= 2 and parts[1]:
            return parts[1]
    return None


def _filters(budget: Resource) -> list[tuple[str, list[str]]]:
    return [
        (str(item.get("name")), [str(v) for v in item.get("values") or []])
        for item in budget.items("costFilters")
        if isinstance(item, Mapping)
    ]


def _topics(reference: Any, resources: Sequence[Resource]) -> list[Resource]:
    return [t for t in of_type(resources, TOPIC) if refers_to(reference, t)]


@stack_policy(
    id="AWS-COST-001",
    title="Monthly budgets of the chosen amount watch the project and its AI service",
    severity="medium",
    controls=["COST-01"],
    remediation="Create the budgets with CostGuardrails (monthly_budget from the stack "
    "config: `pulumi config set monthly_budget <USD>`); keep the project-tag and "
    "AI-service filters, COST and MONTHLY, and the amount in USD.",
    advisory_when=no_budget_chosen,
)
def budgets_present(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """The stack has a monthly COST budget of ``monthly_budget`` USD filtered to the
    project's cost-allocation tag (``TagKeyValue`` ``user:project$<project>``) and one
    filtered to the AI service's line of the bill (``Service``), each filter holding
    that value only (a wider filter counts other spend against the budget). Every
    budget of the stack is MONTHLY, COST, in USD and of the chosen amount. With no
    budget chosen (``monthly_budget`` 0) the finding says so, without blocking."""
    if not deploys_workload(resources):
        raise NotApplicable("the stack deploys no workload (a state backend, say)")
    budgets = of_type(resources, BUDGET)
    if requirements.monthly_budget == 0:
        yield None, "no budget: the project chose monthly_budget 0, so no spend is watched"
        return
    project = _project(resources)
    service = _component("BUDGET_SERVICE_NAMES").get(requirements.ai_service)
    wanted = {
        "TagKeyValue": _component("project_tag_filter")(project) if project else None,
        "Service": service,
    }
    for filter_name, value in wanted.items():
        if value is None:
            continue
        if not any(_filters(b) == [(filter_name, [value])] for b in budgets):
            yield None, f"no budget is filtered to {filter_name} {value!r} alone"
    currency = _component("BUDGET_CURRENCY")
    for budget in budgets:
        if budget.get("budgetType") != "COST":
            yield budget, f"{budget.name} is a {budget.get('budgetType')} budget, not COST"
        if budget.get("timeUnit") != "MONTHLY":
            yield budget, f"{budget.name} resets {budget.get('timeUnit')}, not MONTHLY"
        if budget.get("limitUnit") != currency:
            yield budget, f"{budget.name} is in {budget.get('limitUnit')}, not {currency}"
        amount = budget.get("limitAmount")
        try:
            value = float(amount)
        except (TypeError, ValueError):
            value = None
        if value != float(requirements.monthly_budget):
            yield (
                budget,
                f"{budget.name} is {amount} a month; the project's monthly_budget is "
                f"{requirements.monthly_budget}",
            )


@stack_policy(
    id="AWS-COST-002",
    title="Budgets alert the alert channel on actual and forecasted spend",
    severity="medium",
    controls=["COST-01"],
    remediation="Keep CostGuardrails' notifications: ACTUAL at 50/80/100/120 % and "
    "FORECASTED at 100/120 % (GREATER_THAN, PERCENTAGE), each to the alert topic only.",
    advisory_when=no_budget_chosen,
)
def budgets_notify(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Each budget notifies, GREATER_THAN a PERCENTAGE of its amount, on ACTUAL spend at
    50, 80, 100 and 120 % and on FORECASTED spend at 100 and 120 %, and every
    notification's one SNS subscriber is a topic of the stack (the alert channel's): a
    notification to nowhere, or to a topic outside the project, alerts no one here."""
    budgets = of_type(resources, BUDGET)
    if not budgets:
        raise NotApplicable("the stack has no budget")
    ladder = [
        *(("ACTUAL", t) for t in _component("ACTUAL_THRESHOLDS")),
        *(("FORECASTED", t) for t in _component("FORECAST_THRESHOLDS")),
    ]
    for budget in budgets:
        routed: list[tuple[str, float]] = []
        for index, note in enumerate(budget.items("notifications")):
            if not isinstance(note, Mapping):
                continue
            topics = [str(a) for a in note.get("subscriberSnsTopicArns") or []]
            if len(topics) != 1 or not _topics(topics[0], resources):
                yield (
                    budget,
                    f"{budget.name} notification #{index} does not go to the alert topic "
                    f"(SNS subscribers {topics})",
                )
                continue
            threshold = note.get("threshold")
            if (
                note.get("comparisonOperator") == "GREATER_THAN"
                and note.get("thresholdType") == "PERCENTAGE"
                and isinstance(threshold, (int, float))
            ):
                routed.append((str(note.get("notificationType")), float(threshold)))
        missing = [f"{kind} {t:g} %" for kind, t in ladder if (kind, float(t)) not in routed]
        if missing:
            yield budget, f"{budget.name} does not alert at {', '.join(missing)}"


@stack_policy(
    id="AWS-COST-003",
    title="Spend anomalies of the project reach the alert channel at once",
    severity="medium",
    controls=["COST-02"],
    remediation="The stack owning the account's services keeps CostGuardrails' AWS services "
    "monitor (service_monitor=True) and its subscription (IMMEDIATE, to the alert topic, "
    "ANOMALY_TOTAL_IMPACT_ABSOLUTE at most 10 % of the monthly budget); a project-tag "
    "monitor (cost_tag_monitor, management account only) watches the project tag alone.",
)
def anomalies_alert(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """When the stack owns the account's services, the account's AWS services monitor
    (DIMENSIONAL, SERVICE) exists, and a subscription sends its anomalies to a topic of
    the stack with frequency IMMEDIATE (the only one that publishes to SNS) from a total
    impact of at most 10 % of ``monthly_budget`` (100 USD without a budget). A CUSTOM
    monitor (only an organization's management account may create one on a
    cost-allocation tag) watches the project's tag value alone and is subscribed the
    same way."""
    if not deploys_workload(resources):
        raise NotApplicable("the stack deploys no workload (a state backend, say)")
    project = _project(resources)
    monitors = of_type(resources, MONITOR)
    mine: list[Resource] = []
    for m in monitors:
        if m.get("monitorType") != "CUSTOM":
            continue
        if _spec(m) == {"Tags": {"Key": "project", "Values": [project]}}:
            mine.append(m)
        else:
            yield m, f"{m.name} does not watch the project tag project={project} alone"
    if requirements.account_services == "shared" and not monitors:
        raise NotApplicable(
            "the account's services monitor belongs to the stack owning the account's "
            "services (account_services: shared), and no project-tag monitor is asked "
            "(cost_tag_monitor: management account only)"
        )
    services = [
        m
        for m in monitors
        if m.get("monitorType") == "DIMENSIONAL" and m.get("monitorDimension") == "SERVICE"
    ]
    needed = [*mine, *(services if requirements.account_services == "this-stack" else [])]
    if requirements.account_services == "this-stack" and not services:
        yield None, "the stack owns the account's services but has no AWS services monitor"
    limit = _component("anomaly_threshold_usd")(requirements.monthly_budget)
    covered: set[str] = set()
    for sub in of_type(resources, SUBSCRIPTION):
        problems = list(_subscription_problems(sub, resources, limit))
        yield from ((sub, p) for p in problems)
        if problems:
            continue
        arns = [str(a) for a in sub.get("monitorArnLists") or []]
        covered |= {m.urn for m in needed if any(refers_to(a, m) for a in arns)}
    for monitor in needed:
        if monitor.urn not in covered:
            yield monitor, f"{monitor.name} alerts no one (no working subscription names it)"


def _spec(monitor: Resource) -> Any:
    raw = monitor.get("monitorSpecification")
    try:
        spec = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if not isinstance(spec, Mapping):
        return None
    # The provider's examples spell absent parts as null: they say nothing.
    out = {k: v for k, v in spec.items() if v is not None}
    tags = out.get("Tags")
    if isinstance(tags, Mapping):
        out["Tags"] = {k: v for k, v in tags.items() if v is not None}
    return out


def _subscription_problems(
    sub: Resource, resources: Sequence[Resource], limit: int
) -> Iterator[str]:
    if sub.get("frequency") != "IMMEDIATE":
        yield f"{sub.name} sends {sub.get('frequency')} digests, not IMMEDIATE alerts"
    subscribers = [s for s in sub.items("subscribers") if isinstance(s, Mapping)]
    if not subscribers or any(
        s.get("type") != "SNS" or not _topics(s.get("address"), resources) for s in subscribers
    ):
        yield f"{sub.name} does not send to the alert topic alone"
    dimension = sub.get("thresholdExpression", "dimension") or {}
    values = [str(v) for v in dimension.get("values") or []]
    try:
        amounts = [float(v) for v in values]
    except ValueError:
        amounts = []
    if (
        dimension.get("key") != "ANOMALY_TOTAL_IMPACT_ABSOLUTE"
        or list(dimension.get("matchOptions") or []) != ["GREATER_THAN_OR_EQUAL"]
        or len(amounts) != 1
        or amounts[0] > limit
    ):
        yield (
            f"{sub.name} does not alert from a total impact of {limit} USD or less "
            f"(threshold {dimension.get('key')} {list(dimension.get('matchOptions') or [])} "
            f"{values})"
        )


@stack_policy(
    id="AWS-COST-004",
    title="No AI capacity beyond the project's bound",
    severity="low",
    controls=["COST-03"],
    remediation="Leave out Bedrock provisioned throughput (a monthly commitment) and keep "
    "SageMaker endpoints within MAX_ENDPOINT_INSTANCES instances (initial count and "
    "autoscaling maximum); one that needs more is a decision to record as an override. "
    "Bedrock's on-demand quotas cannot be lowered: throttle in the application (README).",
    live_when=[
        Addition(
            PROVISIONED,
            "Bedrock provisioned throughput",
            inputs={
                "provisionedModelName": "liveness-throughput",
                "modelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1",
                "modelUnits": 1,
                "commitmentDuration": "OneMonth",
            },
        ),
    ],
)
def capacity_bounded(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """No Bedrock provisioned throughput (billed per model unit and hour whether used or
    not, committed for months), and no SageMaker endpoint able to run more than
    ``MAX_ENDPOINT_INSTANCES`` instances (a production variant's initial count, an
    autoscaling target's maximum): what a runaway caller can spend stays bounded."""
    bound = int(_component("MAX_ENDPOINT_INSTANCES"))
    capacity = of_type(resources, PROVISIONED, ENDPOINT_CONFIG, SCALING_TARGET)
    if not capacity:
        raise NotApplicable(
            "the stack buys no provisioned throughput and runs no SageMaker endpoint; "
            "Bedrock's on-demand quotas are AWS's and only the application throttles below "
            "them (README, 'Cost guardrails')"
        )
    for item in of_type(resources, PROVISIONED):
        yield (
            item,
            f"{item.name} buys Bedrock provisioned throughput ({item.get('modelUnits')} units)",
        )
    for config in of_type(resources, ENDPOINT_CONFIG):
        for variant in config.items("productionVariants"):
            count = variant.get("initialInstanceCount") if isinstance(variant, Mapping) else None
            if isinstance(count, (int, float)) and count > bound:
                yield config, f"{config.name} starts {count:g} instances; the bound is {bound}"
    for target in of_type(resources, SCALING_TARGET):
        if target.get("serviceNamespace") != "sagemaker":
            continue
        ceiling = target.get("maxCapacity")
        if isinstance(ceiling, (int, float)) and ceiling > bound:
            yield target, f"{target.name} scales to {ceiling:g} instances; the bound is {bound}"


@stack_policy(
    id="AWS-COST-005",
    title="Cost alert publishers are limited to this account",
    severity="medium",
    controls=["COST-01", "COST-02"],
    remediation="Let budgets.amazonaws.com and costalerts.amazonaws.com publish to the "
    "alert topic only with aws:SourceAccount set to this account (AlertChannel's "
    "ALERT_PUBLISHER_SERVICES does).",
)
def publishers_of_this_account(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """The topic a budget or an anomaly subscription notifies lets its service
    (``budgets.amazonaws.com``, ``costalerts.amazonaws.com``) publish, and only for this
    account's budgets and monitors (``aws:SourceAccount``, the confused-deputy guard
    AWS's guides show): without the grant the alerts are dropped, without the condition
    any account's budgets could write to the project's channel."""
    needs: dict[str, Resource] = {}
    for kind, service in COST_PUBLISHERS.items():
        for item in of_type(resources, kind):
            refs = (
                [
                    a
                    for n in item.items("notifications")
                    for a in n.get("subscriberSnsTopicArns") or []
                ]
                if kind == BUDGET
                else [s.get("address") for s in item.items("subscribers")]
            )
            for ref in refs:
                for topic in _topics(ref, resources):
                    needs.setdefault(f"{topic.urn}|{service}", topic)
    if not needs:
        raise NotApplicable("no budget or anomaly subscription notifies a topic of the stack")
    for key, topic in needs.items():
        service = key.split("|", 1)[1]
        policies = [p for p in of_type(resources, TOPIC_POLICY) if refers_to(p.get("arn"), topic)]
        grants = [
            st
            for p in policies
            for st in statements(document(p, "policy"), "Allow")
            if service in principals(st).get("Service", [])
            and any(a.lower() in ("sns:publish", "sns:*") for a in actions(st))
        ]
        if not grants:
            yield topic, f"{topic.name} does not let {service} publish: its alerts are dropped"
        for st in grants:
            if not conditions(st).get("StringEquals", {}).get("aws:sourceaccount"):
                yield (
                    topic,
                    f"{topic.name} lets {service} publish for any account (statement "
                    f"{st.get('Sid') or '?'} has no aws:SourceAccount)",
                )
