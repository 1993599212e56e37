"""Cost guardrails on AWS (COST-01..03): the component, its policies, its deploy rules,
the alert channel's publishers and the generated projects with and without a budget."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.cli import main
from aiscaffold.testing import MockRun, run_program
from aiscaffold_components.aws import CostGuardrails, CostGuardrailsArgs
from aiscaffold_components.aws.alerts import ALERT_PUBLISHER_SERVICES
from aiscaffold_components.aws.cost import (
    ACTUAL_THRESHOLDS,
    FORECAST_THRESHOLDS,
    anomaly_threshold_usd,
)
from aiscaffold_components.deploy import DeployContext, deploy_rules
from aiscaffold_components.policies import Resource
from aws.aws_policy_support import check, flagged, only, patched, requirements, res
from aws.aws_support import ACCOUNT, REGION, run_component

TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:unit-test-alerts"
BUDGET = "aws:budgets/budget:Budget"
MONITOR = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
SUBSCRIPTION = "aws:costexplorer/anomalySubscription:AnomalySubscription"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
KEY = "aws:kms/key:Key"
STACK = "(stack)"


def _args(**changes: Any) -> CostGuardrailsArgs:
    values: dict[str, Any] = {
        "name_prefix": "unit-test",
        "project": "unit",
        "ai_service": "bedrock",
        "monthly_budget": 1000,
        "alert_topic_arn": TOPIC_ARN,
        "tags": {"project": "unit"},
    }
    values.update(changes)
    return CostGuardrailsArgs(**values)


def _run(**changes: Any) -> MockRun:
    return run_component(lambda: CostGuardrails("cost", _args(**changes)))


def _of(run: MockRun, type_: str) -> list[Any]:
    return [r for r in run.custom_resources if r.type == type_]


# ---------------------------------------------------------------- the component
def test_budgets_watch_the_project_tag_and_the_ai_service_in_usd() -> None:
    budgets = {b.inputs["name"]: b.inputs for b in _of(_run(monthly_budget=2500), BUDGET)}
    assert set(budgets) == {"unit-test-project", "unit-test-bedrock"}
    assert budgets["unit-test-project"]["costFilters"] == [
        {"name": "TagKeyValue", "values": ["user:project$unit"]}
    ]
    assert budgets["unit-test-bedrock"]["costFilters"] == [
        {"name": "Service", "values": ["Amazon Bedrock"]}
    ]
    for budget in budgets.values():
        assert (budget["budgetType"], budget["timeUnit"]) == ("COST", "MONTHLY")
        assert (budget["limitAmount"], budget["limitUnit"]) == ("2500", "USD")


def test_sagemaker_budget_watches_the_sagemaker_line() -> None:
    [ai] = [b for b in _of(_run(ai_service="sagemaker"), BUDGET) if "sagemaker" in b.inputs["name"]]
    assert ai.inputs["costFilters"] == [{"name": "Service", "values": ["Amazon SageMaker"]}]


def test_every_threshold_notifies_the_alert_topic_only() -> None:
    for budget in _of(_run(), BUDGET):
        notes = budget.inputs["notifications"]
        assert sorted((n["notificationType"], n["threshold"]) for n in notes) == sorted(
            [("ACTUAL", t) for t in ACTUAL_THRESHOLDS]
            + [("FORECASTED", t) for t in FORECAST_THRESHOLDS]
        )
        assert [
            ACTUAL_THRESHOLDS,
            FORECAST_THRESHOLDS,
        ] == [(50.0, 80.0, 100.0, 120.0), (100.0, 120.0)]
        for note in notes:
            assert note["subscriberSnsTopicArns"] == [TOPIC_ARN]
            assert (note["comparisonOperator"], note["thresholdType"]) == (
                "GREATER_THAN",
                "PERCENTAGE",
            )


def test_no_budget_creates_no_budget_but_keeps_the_anomaly_alerts() -> None:
    run = _run(monthly_budget=0, service_monitor=True)
    assert _of(run, BUDGET) == []
    [sub] = _of(run, SUBSCRIPTION)
    assert sub.inputs["thresholdExpression"]["dimension"]["values"] == ["100"]


def test_anomaly_subscription_alerts_the_topic_at_once_from_a_tenth_of_the_budget() -> None:
    run = _run(monthly_budget=2345, tag_monitor=True)
    [monitor] = _of(run, MONITOR)
    assert monitor.inputs["monitorType"] == "CUSTOM"
    assert json.loads(monitor.inputs["monitorSpecification"]) == {
        "Tags": {"Key": "project", "Values": ["unit"]}
    }
    [sub] = _of(run, SUBSCRIPTION)
    assert sub.inputs["frequency"] == "IMMEDIATE"
    assert sub.inputs["subscribers"] == [{"type": "SNS", "address": TOPIC_ARN}]
    assert sub.inputs["thresholdExpression"] == {
        "dimension": {
            "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
            "matchOptions": ["GREATER_THAN_OR_EQUAL"],
            "values": ["235"],
        }
    }
    assert len(sub.inputs["monitorArnLists"]) == 1
    assert [anomaly_threshold_usd(b) for b in (0, 1, 9, 1000)] == [100, 1, 1, 100]


def test_monitors_only_when_asked() -> None:
    # A tag monitor only an organization's management account may create: never by
    # default; without any monitor there is nothing to subscribe.
    run = _run()
    assert _of(run, MONITOR) == [] and _of(run, SUBSCRIPTION) == []
    run = _run(service_monitor=True)
    assert [(m.inputs["monitorType"], m.inputs["monitorDimension"]) for m in _of(run, MONITOR)] == [
        ("DIMENSIONAL", "SERVICE")
    ]
    [sub] = _of(run, SUBSCRIPTION)
    assert len(sub.inputs["monitorArnLists"]) == 1
    run = _run(service_monitor=True, tag_monitor=True)
    assert sorted(m.inputs["monitorType"] for m in _of(run, MONITOR)) == ["CUSTOM", "DIMENSIONAL"]
    [sub] = _of(run, SUBSCRIPTION)
    assert len(sub.inputs["monitorArnLists"]) == 2


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"monthly_budget": -1}, "monthly_budget"),
        ({"ai_service": "openai"}, "ai_service"),
        ({"project": "a$b"}, "project"),
        ({"anomaly_threshold": 0}, "anomaly_threshold"),
        ({"name_prefix": "a:b"}, "budget name"),
    ],
)
def test_bad_arguments_are_refused_before_any_resource(changes: dict[str, Any], says: str) -> None:
    # Checked before the component registers: no resource exists when it is refused.
    with pytest.raises(ValueError, match=says):
        CostGuardrails("cost", _args(**changes))


def test_the_alert_channel_admits_the_cost_publishers_for_this_account() -> None:
    from aiscaffold_components.aws import AlertChannel, AlertChannelArgs

    assert {"budgets.amazonaws.com", "costalerts.amazonaws.com"} <= set(ALERT_PUBLISHER_SERVICES)
    run = run_component(
        lambda: AlertChannel("alerts", AlertChannelArgs(name_prefix="unit-test", tags={}))
    )
    [topic_policy] = _of(run, TOPIC_POLICY)
    [key] = _of(run, KEY)
    for holder in (topic_policy, key):
        doc = json.loads(holder.inputs["policy"])
        grants = [
            s
            for s in doc["Statement"]
            if s["Effect"] == "Allow"
            and {"budgets.amazonaws.com", "costalerts.amazonaws.com"}
            <= set(_as_list(s.get("Principal", {}).get("Service")))
        ]
        assert grants, holder.name
        for grant in grants:
            assert grant["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------- policies
@pytest.fixture(scope="module")
def defaults(aws_run: Callable[[str], MockRun]) -> MockRun:
    return aws_run("defaults")


def _names(run: MockRun, type_: str) -> list[str]:
    return [r.name for r in run.resources if r.type == type_]


def _evaluate(run: MockRun, policy: str, **answers: Any) -> set[str]:
    report = evaluate(run, only(requirements(**answers), policy))
    return flagged(report, policy)


@pytest.mark.parametrize("policy", ["AWS-COST-001", "AWS-COST-002", "AWS-COST-003", "AWS-COST-005"])
def test_the_generated_project_passes(defaults: MockRun, policy: str) -> None:
    report = evaluate(defaults, only(requirements(), policy))
    assert flagged(report, policy) == set()
    assert report.verdicts[policy] == {"": "passed"}


def test_budget_amount_must_be_the_chosen_one(defaults: MockRun) -> None:
    assert _evaluate(defaults, "AWS-COST-001", monthly_budget=1000) == set()
    assert _evaluate(defaults, "AWS-COST-001", monthly_budget=2000) == {
        "cost-project-budget",
        "cost-ai-budget",
    }


@pytest.mark.parametrize(
    ("changes", "flagged_names"),
    [
        ({"limitUnit": "EUR"}, {"cost-project-budget"}),
        ({"timeUnit": "ANNUALLY"}, {"cost-project-budget"}),
        ({"budgetType": "USAGE"}, {"cost-project-budget"}),
        ({"costFilters.0.values": ["user:project$aws-defaults", "*"]}, {STACK}),
    ],
)
def test_budget_scope_and_kind(
    defaults: MockRun, changes: dict[str, Any], flagged_names: set[str]
) -> None:
    run = patched(defaults, {"cost-project-budget": changes})
    assert _evaluate(run, "AWS-COST-001") == flagged_names


def test_a_missing_budget_is_reported(defaults: MockRun) -> None:
    assert _evaluate(patched(defaults, drop=["cost-ai-budget"]), "AWS-COST-001") == {STACK}


@pytest.mark.parametrize(
    "changes",
    [
        {"notifications.0.threshold": 500.0},
        {"notifications.4.notificationType": "ACTUAL"},
        {"notifications.1.comparisonOperator": "LESS_THAN"},
        {"notifications.2.thresholdType": "ABSOLUTE_VALUE"},
        {"notifications.3.subscriberSnsTopicArns": []},
        {"notifications.5.subscriberSnsTopicArns": ["arn:aws:sns:us-east-1:999999999999:x"]},
    ],
)
def test_budget_notifications_must_reach_the_channel(
    defaults: MockRun, changes: dict[str, Any]
) -> None:
    run = patched(defaults, {"cost-ai-budget": changes})
    assert _evaluate(run, "AWS-COST-002") == {"cost-ai-budget"}


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("cost-anomaly-alerts", {"frequency": "DAILY"}),
        ("cost-anomaly-alerts", {"thresholdExpression.dimension.values": ["1000"]}),
        ("cost-anomaly-alerts", {"subscribers.0.type": "EMAIL"}),
    ],
)
def test_anomaly_alerts_must_reach_the_channel(
    defaults: MockRun, name: str, changes: dict[str, Any]
) -> None:
    run = patched(defaults, {name: changes})
    assert _evaluate(run, "AWS-COST-003")


def test_a_tag_monitor_watches_the_project_alone_and_is_subscribed(defaults: MockRun) -> None:
    [service] = [r for r in defaults.resources if r.name == "cost-service-monitor"]

    def tag_monitor(values: list[str]) -> Any:
        spec = json.dumps({"Tags": {"Key": "project", "Values": values}})
        return dataclasses.replace(
            service,
            name="tag-monitor",
            urn=service.urn.replace("cost-service-monitor", "tag-monitor"),
            inputs={"monitorType": "CUSTOM", "monitorSpecification": spec},
        )

    def messages(run: MockRun) -> list[str]:
        report = evaluate(run, only(requirements(), "AWS-COST-003"))
        return [f.message for f in report.violations if f.policy == "AWS-COST-003"]

    unsubscribed = patched(defaults, add=[tag_monitor([defaults.project])])
    assert [m for m in messages(unsubscribed) if "alerts no one" in m]
    elsewhere = patched(defaults, add=[tag_monitor(["another-project"])])
    assert [m for m in messages(elsewhere) if "alone" in m]


def test_the_account_services_monitor_follows_account_services(defaults: MockRun) -> None:
    run = patched(defaults, drop=["cost-service-monitor"])
    assert _evaluate(run, "AWS-COST-003", account_services="this-stack") == {STACK}
    assert _evaluate(run, "AWS-COST-003", account_services="shared") == set()


def test_capacity_beyond_the_bound_is_reported() -> None:
    throughput = res(
        "aws:bedrock/provisionedModelThroughput:ProvisionedModelThroughput",
        "pt",
        {"modelUnits": 1, "commitmentDuration": "OneMonth"},
    )
    endpoint = res(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "ep",
        {"productionVariants": [{"initialInstanceCount": 3}]},
    )
    small = res(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "small",
        {"productionVariants": [{"initialInstanceCount": 2}]},
    )
    scaling = res(
        "aws:appautoscaling/target:Target",
        "scale",
        {"serviceNamespace": "sagemaker", "maxCapacity": 10},
    )
    report = check([throughput, endpoint, small, scaling])
    assert flagged(report, "AWS-COST-004") == {"pt", "ep", "scale"}
    assert flagged(check([small]), "AWS-COST-004") == set()
    assert check([]).verdicts["AWS-COST-004"] == {"": "not applicable"}


def test_publishers_limited_to_this_account(defaults: MockRun) -> None:
    [topic_policy] = [r for r in defaults.resources if r.type == TOPIC_POLICY]
    doc = json.loads(topic_policy.inputs["policy"])
    for st in doc["Statement"]:
        st.get("Condition", {}).pop("StringEquals", None)
    run = patched(defaults, {topic_policy.name: {"policy": json.dumps(doc)}})
    assert _evaluate(run, "AWS-COST-005") == {"alerts-topic"}
    run = patched(defaults, drop=[topic_policy.name])
    assert _evaluate(run, "AWS-COST-005") == {"alerts-topic"}


# ---------------------------------------------------------------- deploy rules
CONTEXT = DeployContext(cloud="aws", region=REGION)


def _rule(rule_id: str) -> Any:
    return next(r for r in deploy_rules("aws") if r.id == rule_id)


def _resource(type_: str, inputs: dict[str, Any], name: str = "r") -> Resource:
    return Resource(
        type=type_, name=name, urn=f"urn:pulumi:dev::app::{type_}::{name}", props=inputs
    )


def test_deploy_rules_on_the_generated_budgets(defaults: MockRun) -> None:
    budgets = [_resource(BUDGET, r.inputs, r.name) for r in defaults.resources if r.type == BUDGET]
    assert budgets
    for rule_id in ("AWS-DEPLOY-020", "AWS-DEPLOY-021"):
        assert _rule(rule_id).evaluate(budgets, CONTEXT) == []
    eur = _resource(BUDGET, {**budgets[0].props, "limitUnit": "EUR"})
    assert _rule("AWS-DEPLOY-020").evaluate([eur], CONTEXT)
    notes = list(budgets[0].props["notifications"])
    crowded = _resource(BUDGET, {**budgets[0].props, "notifications": notes * 2})
    assert _rule("AWS-DEPLOY-021").evaluate([crowded], CONTEXT)
    two = [{**notes[0], "subscriberSnsTopicArns": [TOPIC_ARN, TOPIC_ARN + "2"]}]
    assert _rule("AWS-DEPLOY-021").evaluate([_resource(BUDGET, {"notifications": two})], CONTEXT)


def test_deploy_rule_service_monitor_is_a_singleton(defaults: MockRun) -> None:
    monitors = [
        _resource(MONITOR, r.inputs, r.name) for r in defaults.resources if r.type == MONITOR
    ]
    found = _rule("AWS-DEPLOY-022").evaluate(monitors, CONTEXT)
    assert [r.name for r, _ in found if r is not None] == ["cost-service-monitor"]


def test_deploy_rule_cost_allocation_tag_waits_for_billing_data() -> None:
    tag = _resource("aws:costexplorer/costAllocationTag:CostAllocationTag", {"tagKey": "project"})
    assert _rule("AWS-DEPLOY-023").evaluate([tag], CONTEXT)


# ---------------------------------------------------------------- generated projects
def test_generated_budget_notifies_the_alert_channel(defaults: MockRun) -> None:
    [topic] = [r for r in defaults.custom_resources if r.type == TOPIC]
    arns = {
        arn
        for r in defaults.custom_resources
        if r.type == BUDGET
        for n in r.inputs["notifications"]
        for arn in n["subscriberSnsTopicArns"]
    }
    assert arns == {f"arn:aws:sns:{REGION}:{ACCOUNT}:{topic.inputs['name']}"}
    tags = {
        r.inputs["costFilters"][0]["values"][0]
        for r in defaults.custom_resources
        if r.type == BUDGET
    }
    assert tags == {"user:project$aws-defaults", "Amazon Bedrock"}


def test_budget_amount_comes_from_the_stack_config(aws_project: Callable[[str], Path]) -> None:
    run = run_program(aws_project("defaults"), config={"monthly_budget": "2000"})
    amounts = {r.inputs["limitAmount"] for r in run.custom_resources if r.type == BUDGET}
    assert amounts == {"2000"}


def test_no_budget_project_checks_clean_with_the_advisory_finding(
    aws_project: Callable[[str], Path],
    aws_run: Callable[[str], MockRun],
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = aws_run("no-budget")
    assert [r for r in run.custom_resources if r.type == BUDGET] == []
    # account_services shared and no tag monitor: the owning stack's monitor covers it
    assert [r for r in run.custom_resources if r.type == MONITOR] == []
    report = evaluate(run, load_requirements(aws_project("no-budget")))
    [finding] = [f for f in report.violations if f.policy == "AWS-COST-001"]
    assert finding.level == "advisory"
    assert "monthly_budget 0" in finding.message
    assert main(["check", str(aws_project("no-budget")), "--format", "json"]) == 0
    capsys.readouterr()


def test_deploy_rule_tag_monitor_needs_the_management_account() -> None:
    run = _run(service_monitor=True, tag_monitor=True)
    monitors = [_resource(MONITOR, r.inputs, r.name) for r in _of(run, MONITOR)]
    found = _rule("AWS-DEPLOY-024").evaluate(monitors, CONTEXT)
    assert [r.name for r, _ in found if r is not None] == ["cost-anomaly-monitor"]
    assert "management account" in found[0][1]
    services = [
        _resource(MONITOR, r.inputs, r.name) for r in _of(_run(service_monitor=True), MONITOR)
    ]
    assert _rule("AWS-DEPLOY-024").evaluate(services, CONTEXT) == []
