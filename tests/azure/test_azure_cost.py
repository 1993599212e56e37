"""Cost guardrails on Azure (issue 16, COST-01..03): the budget, the cost anomaly alert,
the capacity bound, their policies (AZURE-COST-001..004) and deploy rules
(AZURE-DEPLOY-020..022), on generated projects and on the component alone."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.testing import MockRun, run, run_program
from aiscaffold_components.azure import (
    ACTUAL_THRESHOLDS,
    FORECAST_THRESHOLDS,
    CostGuardrails,
    CostGuardrailsArgs,
    ModelDeployment,
)
from aiscaffold_components.deploy import DeployContext, deploy_rules
from aiscaffold_components.policies import Resource, base_type
from aiscaffold_components.policies.azure.cost import (
    ANOMALY_VIEW,
    DUTY_CYCLE,
    MINUTES_PER_MONTH,
    capacity_bound,
    price_per_million_tokens,
)
from azure.azure_policy_support import DROP, STACK, base_run, flagged, patched, report

BUDGET = "azure-native:consumption:Budget"
ALERT = "azure-native:costmanagement:ScheduledActionByScope"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
DEPLOYMENT = "azure-native:cognitiveservices:Deployment"
GROUP = "azure-native:resources:ResourceGroup"
GROUP_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-proj-dev"
CHANNEL = f"{GROUP_ID}/providers/Microsoft.Insights/actionGroups/proj-dev-alerts"


@pytest.fixture(scope="module")
def cost_run(runs: dict[str, MockRun]) -> MockRun:
    """The generated project with monthly_budget 2500 and an alert address."""
    return runs["cost-alerts"]


@pytest.fixture(scope="module")
def base(render_project: Any) -> MockRun:
    return base_run(render_project)


def component(**overrides: Any) -> MockRun:
    """CostGuardrails alone, as the program composes it, with ``overrides`` of its Args."""
    values: dict[str, Any] = {
        "resource_group_id": GROUP_ID,
        "name_prefix": "proj-dev",
        "action_group_id": CHANNEL,
        "monthly_budget": 1000,
        "start_date": dt.date(2025, 3, 1),
        "emails": ("secops@example.com",),
        "anomaly_window_start": dt.date(2025, 3, 1),
        "location": "eastus2",
        "deployments": ModelDeployment.from_models(
            ["gpt-5.1:2025-11-13", "text-embedding-3-large:1"], capacity=10
        ),
        **overrides,
    }
    return run(
        lambda: CostGuardrails("cost", CostGuardrailsArgs(**values)),
        project="proj",
        stack="dev",
        config={"azure-native:location": values["location"]},
    )


# ----------------------------------------------------------------- COST-01 budget
def test_budget_is_monthly_cost_on_the_resource_group(cost_run: MockRun) -> None:
    budget = cost_run.one(BUDGET).inputs
    group = cost_run.one(GROUP)
    assert budget["scope"].endswith(f"/resourceGroups/{group.inputs['resourceGroupName']}")
    assert budget["category"] == "Cost"
    assert budget["timeGrain"] == "Monthly"
    # The answer, in the billing currency: a budget names no currency.
    assert budget["amount"] == 2500
    assert "currency" not in str(budget).lower()
    # The resource group is the project: no filter narrows it (the AI account counts).
    assert "filter" not in budget
    start = dt.date.fromisoformat(budget["timePeriod"]["startDate"][:10])
    assert start == dt.datetime.now(dt.UTC).date().replace(day=1)
    assert "endDate" not in budget["timePeriod"]  # Azure's default: ten years on


def test_budget_alerts_actual_and_forecast_to_the_alert_channel(cost_run: MockRun) -> None:
    notes = cost_run.one(BUDGET).inputs["notifications"]
    channel = cost_run.one(ACTION_GROUP)
    assert channel.name == "alerts-group"  # the project's one channel, adopted
    by_kind = {
        kind: sorted(n["threshold"] for n in notes.values() if n["thresholdType"] == kind)
        for kind in ("Actual", "Forecasted")
    }
    assert by_kind == {"Actual": [50, 80, 100, 120], "Forecasted": [100]}
    assert len(notes) == 5  # the most a budget holds
    for note in notes.values():
        assert note["enabled"] is True
        assert note["operator"] == "GreaterThan"
        assert len(note["contactGroups"]) == 1
        assert note["contactGroups"][0].endswith(
            f"/actionGroups/{channel.inputs['actionGroupName']}"
        )
        assert note["contactEmails"] == ["finops@example.com"]


def test_budget_amount_and_start_come_from_stack_config(projects: dict[str, Path]) -> None:
    changed = run_program(
        projects["cost-alerts"], config={"monthly_budget": 4000, "budget_start": "2025-01-01"}
    )
    budget = changed.one(BUDGET).inputs
    assert budget["amount"] == 4000
    assert budget["timePeriod"]["startDate"] == "2025-01-01T00:00:00Z"


def test_budget_start_is_created_once_and_never_updated() -> None:
    """Azure refuses to update a budget's start ("Start date of budgets cannot be
    updated"): the budget ignores later changes of it."""
    captured = component().one(BUDGET)
    assert "timePeriod.startDate" in captured.ignore_changes


def test_budget_zero_creates_no_budget_and_no_bound() -> None:
    quiet = component(monthly_budget=0)
    assert not quiet.of_type(BUDGET)
    assert quiet.of_type(ALERT)  # the anomaly alert does not need a budget


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"start_date": dt.date(2025, 3, 2)}, "first day of a month"),
        ({"start_date": dt.date(2017, 5, 1)}, "2017-06-01"),
        ({"forecast_thresholds": (100, 120)}, "at most 5 notifications"),
        ({"forecast_thresholds": ()}, "one actual and one forecast"),
        ({"actual_thresholds": (0, 80)}, "threshold 0 %"),
        ({"actual_thresholds": (50, 1001)}, "threshold 1001 %"),
        ({"monthly_budget": -1}, "from 0 to"),
        ({"monthly_budget": 10_000_001}, "from 0 to"),
        ({"emails": tuple(f"a{i}@example.com" for i in range(21))}, "at most 20"),
    ],
)
def test_what_azure_refuses_is_refused_first(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CostGuardrails("cost", CostGuardrailsArgs(**_args(**overrides)))


def _args(**overrides: Any) -> dict[str, Any]:
    return {
        "resource_group_id": GROUP_ID,
        "name_prefix": "proj-dev",
        "action_group_id": CHANNEL,
        "monthly_budget": 1000,
        "start_date": dt.date(2025, 3, 1),
        **overrides,
    }


# ----------------------------------------------------------------- COST-02 anomaly
def test_anomaly_alert_watches_the_subscription_daily(cost_run: MockRun) -> None:
    alert = cost_run.one(ALERT).inputs
    assert alert["kind"] == "InsightAlert"
    assert alert["status"] == "Enabled"
    subscription = cost_run.one(BUDGET).inputs["scope"].split("/resourceGroups/")[0]
    assert alert["scope"] == subscription
    assert (
        alert["viewId"] == f"{subscription}/providers/Microsoft.CostManagement/views/{ANOMALY_VIEW}"
    )
    assert alert["notification"]["to"] == ["finops@example.com"]
    assert len(alert["notification"]["subject"]) <= 50
    assert 1 <= len(alert["displayName"]) <= 25
    schedule = alert["schedule"]
    assert schedule["frequency"] == "Daily"
    start = dt.date.fromisoformat(schedule["startDate"][:10])
    end = dt.date.fromisoformat(schedule["endDate"][:10])
    assert start == dt.datetime.now(dt.UTC).date().replace(day=1)
    assert end == start.replace(year=start.year + 1)


def test_no_anomaly_alert_without_addresses_when_shared_or_in_government() -> None:
    assert component().of_type(ALERT)
    assert not component(emails=()).of_type(ALERT)  # Azure e-mails anomaly alerts only
    assert not component(anomaly_alert=False).of_type(ALERT)  # account_services: shared
    assert not component(location="usgovvirginia").of_type(ALERT)
    # The budget stays in every case: it is the project's own.
    assert component(location="usgovvirginia").of_type(BUDGET)


def test_a_long_prefix_keeps_the_display_name_within_25_characters() -> None:
    alert = component(name_prefix="a-rather-long-project-name-prod").one(ALERT).inputs
    assert len(alert["displayName"]) <= 25
    assert alert["name"] == "a-rather-long-project-name-prod-cost-anomaly"


def test_shared_account_services_create_no_anomaly_alert(render_project: Any) -> None:
    project = render_project(
        cloud="azure",
        project_name="az-cost-shared",
        account_services="shared",
        alert_emails=["finops@example.com"],
    )
    shared = run_program(project)
    assert shared.of_type(BUDGET)
    assert not shared.of_type(ALERT)


# ----------------------------------------------------------------- COST-03 capacity
def test_the_capacity_rule_is_the_documented_arithmetic() -> None:
    # gpt-5.1 at 10 per million tokens: 1K tokens/minute for 10 % of a month costs
    # 1000 * 43,200 * 0.1 / 1e6 * 10 = 43.20, so 1000 pays for 23.
    assert MINUTES_PER_MONTH == 43_200 and DUTY_CYCLE == 0.10
    assert price_per_million_tokens("gpt-5.1") == 10.0
    assert capacity_bound("gpt-5.1", 1000) == 23
    assert capacity_bound("gpt-5-mini", 1000) == 115  # longest family wins
    assert capacity_bound("text-embedding-3-large", 1000) == 1780
    assert capacity_bound("some-future-model", 1000) == 23  # priced like the dearest
    assert capacity_bound("gpt-5.1", 0) == 0
    assert capacity_bound("gpt-5.1", 10) == 1  # never below one unit


def test_capacity_above_the_bound_is_reported_never_lowered(
    projects: dict[str, Path],
) -> None:
    big = run_program(projects["cost-alerts"], config={"model_capacity": 100})
    capacities = {d.name: d.inputs["sku"]["capacity"] for d in big.of_type(DEPLOYMENT)}
    assert capacities == {"openai-gpt-5.1": 100, "openai-text-embedding-3-large": 100}
    # 2500 pays for 57K tokens/minute of gpt-5.1: that one is over, the embeddings not.
    findings = evaluate(big, load_requirements(projects["cost-alerts"]))
    over = {f.resource for f in findings.violations if f.policy == "AZURE-COST-004"}
    assert over == {"openai-gpt-5.1"}
    assert all(
        f.level == "advisory" for f in findings.violations if f.policy.startswith("AZURE-COST")
    )


def test_the_component_reports_the_bound_and_the_overrun() -> None:
    captured: dict[str, Any] = {}

    def program() -> None:
        cost = CostGuardrails(
            "cost",
            CostGuardrailsArgs(
                **_args(
                    deployments=ModelDeployment.from_models(
                        ["gpt-5.1:2025-11-13", "text-embedding-3-large:1"],
                        capacity={"gpt-5.1": 50},
                    )
                )
            ),
        )
        captured.update(bounds=cost.capacity_bounds, overruns=cost.capacity_overruns)

    result = run(program, project="proj", stack="dev", config={})
    assert captured["bounds"] == {"gpt-5.1": 23, "text-embedding-3-large": 1780}
    assert captured["overruns"] == {"gpt-5.1": (50, 23)}
    assert any("gpt-5.1" in w and "pays for 23K" in w for w in result.warnings)


# ----------------------------------------------------------------- the policies
def test_every_cost_policy_passes_and_is_proven_on_the_cost_project(
    projects: dict[str, Path], cost_run: MockRun
) -> None:
    result = evaluate(cost_run, load_requirements(projects["cost-alerts"]))
    ids = {"AZURE-COST-001", "AZURE-COST-002", "AZURE-COST-003", "AZURE-COST-004"}
    assert not {f.policy for f in result.violations} & ids
    assert ids <= set(result.passed)


def test_budget_policy(base: MockRun) -> None:
    policy = "AZURE-COST-001"
    assert flagged(base, policy) == set()
    assert flagged(base, policy, {"cost-budget": {"amount": 999}}) == {"cost-budget"}
    assert flagged(base, policy, {"cost-budget": {"timeGrain": "Quarterly"}}) == {"cost-budget"}
    assert flagged(base, policy, {"cost-budget": {"category": DROP}}) == {"cost-budget"}
    assert flagged(base, policy, drop=["cost-budget"]) == {STACK}
    # A budget on the whole subscription is not the project's.
    sub = GROUP_ID.split("/resourceGroups/")[0]
    assert flagged(base, policy, {"cost-budget": {"scope": sub}}) == {STACK}
    # The amount must follow the answer: the same budget fails a project expecting 2000.
    assert flagged(base, policy, monthly_budget=2000) == {"cost-budget"}


def test_budget_policy_is_advisory_without_a_budget(base: MockRun) -> None:
    result = report(
        base, "AZURE-COST-001", drop=["cost-budget"], monthly_budget=0, data_sensitivity="internal"
    )
    assert [(f.resource, f.level) for f in result.violations] == [(STACK, "advisory")]
    # Mandatory otherwise: restricted data makes COST-01 block.
    strict = report(base, "AZURE-COST-001", drop=["cost-budget"], data_sensitivity="restricted")
    assert [f.level for f in strict.violations] == ["mandatory"]


def test_budget_notification_policy(base: MockRun) -> None:
    policy = "AZURE-COST-002"
    notes = "notifications"
    assert flagged(base, policy) == set()
    for change in (
        {f"{notes}.Actual_GreaterThan_50_Percent.enabled": False},
        {f"{notes}.Actual_GreaterThan_80_Percent.operator": "EqualTo"},
        {f"{notes}.Actual_GreaterThan_100_Percent.contactGroups": DROP},
        {f"{notes}.Actual_GreaterThan_120_Percent.contactGroups": [CHANNEL, "*"]},
        {f"{notes}.Forecasted_GreaterThan_100_Percent": DROP},  # no forecast left
    ):
        assert flagged(base, policy, {"cost-budget": change}) == {"cost-budget"}, change
    # Another action group than the channel: the alert goes somewhere nobody watches.
    other = CHANNEL.replace("proj-dev-alerts", "someone-elses")
    routed = {f"{notes}.{key}.contactGroups": [other] for key in base.one(BUDGET).inputs[notes]}
    assert flagged(base, policy, {"cost-budget": routed}) == {"cost-budget"}
    assert flagged(base, policy, drop=["cost-budget"]) == set()  # AZURE-COST-001's


def test_anomaly_alert_policy(base: MockRun, cost_run: MockRun) -> None:
    policy = "AZURE-COST-003"
    # The default project has no alert address, so no anomaly alert: advisory finding.
    result = report(base, policy)
    assert [(f.resource, f.level) for f in result.violations] == [(STACK, "advisory")]
    assert "alert_emails is empty" in result.violations[0].message
    emails = {"alert_emails": ["finops@example.com"]}
    assert flagged(cost_run, policy, **emails) == set()
    for change in (
        {"status": "Disabled"},
        {"kind": "Email"},
        {"schedule.frequency": "Weekly"},
        {"notification.to": ["someone@example.com"]},
    ):
        assert flagged(cost_run, policy, {"cost-anomaly": change}, **emails) == {"cost-anomaly"}
    assert flagged(cost_run, policy, drop=["cost-anomaly"], **emails) == {STACK}
    # Shared subscription services: not this stack's to create.
    assert flagged(base, policy, account_services="shared") == set()


def test_capacity_policy(base: MockRun) -> None:
    policy = "AZURE-COST-004"
    assert flagged(base, policy) == set()
    gpt = "openai-gpt-5.1"
    assert flagged(base, policy, {gpt: {"sku.capacity": 24}}) == {gpt}  # bound 23 at 1000
    assert flagged(base, policy, {gpt: {"sku.capacity": 23}}) == set()
    assert flagged(base, policy, {gpt: {"sku.capacity": DROP}}) == {gpt}
    # A larger budget pays for more; no budget bounds nothing.
    assert flagged(base, policy, {gpt: {"sku.capacity": 24}}, monthly_budget=2000) == set()
    assert (
        flagged(
            base,
            policy,
            {gpt: {"sku.capacity": 500}},
            monthly_budget=0,
            data_sensitivity="internal",
        )
        == set()
    )
    # Provisioned throughput counts units billed by the hour: another rule.
    assert (
        flagged(base, policy, {gpt: {"sku.name": "ProvisionedManaged", "sku.capacity": 500}})
        == set()
    )


# ----------------------------------------------------------------- no budget
def test_a_project_without_budget_renders_and_checks_clean(render_project: Any) -> None:
    project = render_project(
        cloud="azure", project_name="az-no-budget", data_sensitivity="internal", monthly_budget=0
    )
    quiet = run_program(project)
    assert not quiet.of_type(BUDGET)
    result = evaluate(quiet, load_requirements(project))
    cost = [(f.policy, f.level) for f in result.violations if f.policy.startswith("AZURE-COST")]
    assert ("AZURE-COST-001", "advisory") in cost
    assert all(level == "advisory" for _, level in cost)
    assert "AZURE-COST-001" not in result.passed  # shown, never credited
    cli = subprocess.run(
        [sys.executable, "-m", "aiscaffold", "check", str(project)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr


# ----------------------------------------------------------------- deploy rules
def _fired(rule_id: str, resources: MockRun, region: str = "eastus2") -> set[str]:
    rule = next(r for r in deploy_rules("azure") if r.id == rule_id)
    views = [
        Resource(type=base_type(r.type), name=r.name, urn=r.urn, props=r.inputs)
        for r in resources.custom_resources
    ]
    return {
        res.name if res else STACK
        for res, _ in rule.evaluate(views, DeployContext("azure", region))
    }


def test_cost_deploy_rules_are_silent_on_the_generated_project(cost_run: MockRun) -> None:
    for rule_id in ("AZURE-DEPLOY-020", "AZURE-DEPLOY-021", "AZURE-DEPLOY-022"):
        assert _fired(rule_id, cost_run) == set(), rule_id


@pytest.mark.parametrize(
    ("rule_id", "patches"),
    [
        ("AZURE-DEPLOY-020", {"cost-budget": {"timePeriod.startDate": "2025-03-15T00:00:00Z"}}),
        ("AZURE-DEPLOY-020", {"cost-budget": {"timePeriod.startDate": "2017-05-01T00:00:00Z"}}),
        ("AZURE-DEPLOY-020", {"cost-budget": {"timePeriod.startDate": "2099-01-01T00:00:00Z"}}),
        (
            "AZURE-DEPLOY-021",
            {
                "cost-budget": {
                    "notifications.Forecasted_GreaterThan_120_Percent": {
                        "enabled": True,
                        "operator": "GreaterThan",
                        "threshold": 120,
                        "thresholdType": "Forecasted",
                        "contactGroups": [CHANNEL],
                        "contactEmails": [],
                    }
                }
            },
        ),
        (
            "AZURE-DEPLOY-021",
            {"cost-budget": {"notifications.Actual_GreaterThan_50_Percent.threshold": 1500}},
        ),
        (
            "AZURE-DEPLOY-021",
            {
                "cost-budget": {
                    "notifications.Actual_GreaterThan_50_Percent.contactGroups": [],
                    "notifications.Actual_GreaterThan_50_Percent.contactEmails": [],
                }
            },
        ),
        ("AZURE-DEPLOY-022", {"cost-anomaly": {"scope": GROUP_ID}}),
        ("AZURE-DEPLOY-022", {"cost-anomaly": {"notification.to": []}}),
        ("AZURE-DEPLOY-022", {"cost-anomaly": {"displayName": "x" * 26}}),
    ],
)
def test_cost_deploy_rules_fire_on_what_azure_refuses(
    cost_run: MockRun, rule_id: str, patches: dict[str, dict[str, Any]]
) -> None:
    target = next(iter(patches))
    assert _fired(rule_id, patched(cost_run, patches)) == {target}


def test_anomaly_alerts_are_refused_in_azure_government(cost_run: MockRun) -> None:
    assert _fired("AZURE-DEPLOY-022", cost_run, region="usgovvirginia") == {"cost-anomaly"}


def test_cost_deploy_rules_cite_their_sources() -> None:
    rules = {r.id: r for r in deploy_rules("azure")}
    assert "budgets/create-or-update" in rules["AZURE-DEPLOY-020"].source
    assert "cannot be updated" in rules["AZURE-DEPLOY-020"].error
    assert "up to five notifications" in rules["AZURE-DEPLOY-021"].error
    assert "analyze-unexpected-charges" in rules["AZURE-DEPLOY-022"].source
    assert all(
        rules[i].blocking for i in ("AZURE-DEPLOY-020", "AZURE-DEPLOY-021", "AZURE-DEPLOY-022")
    )


def test_the_thresholds_are_those_the_catalog_states() -> None:
    # COST-01: actual and forecasted spend at 50, 80, 100 and 120 %, within Azure's five.
    assert (ACTUAL_THRESHOLDS, FORECAST_THRESHOLDS) == ((50, 80, 100, 120), (100,))
