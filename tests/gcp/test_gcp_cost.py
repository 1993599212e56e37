"""Cost guardrails on GCP (COST-01..03): the component, its policies, its deploy rules and
the generated projects with and without a budget."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiscaffold.cli import main
from aiscaffold.testing import CapturedResource
from aiscaffold_components.deploy import DeployContext, deploy_rules
from aiscaffold_components.gcp import CostGuardrails, CostGuardrailsArgs
from aiscaffold_components.gcp.cost import (
    FORECAST_THRESHOLDS,
    SPEND_THRESHOLDS,
    VERTEX_AI_BILLING_SERVICE,
    max_requests_per_minute,
)
from aiscaffold_components.policies import Resource
from gcp.gcp_policy_support import DROP, PROJECT, flagged, patch, reqs, res
from gcp_support import NUMBER, REGION, GeneratedRun, run_component

ACCOUNT = "012345-6789AB-CDEF01"
TOPIC_ID = f"projects/{PROJECT}/topics/unit-test-alerts"
CHANNEL = f"projects/{PROJECT}/notificationChannels/1"
BUDGET = "gcp:billing/budget:Budget"
OVERRIDE = "gcp:serviceusage/consumerQuotaOverride:ConsumerQuotaOverride"
ENDPOINT = "gcp:vertex/aiEndpoint:AiEndpoint"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"


def _args(**changes: Any) -> CostGuardrailsArgs:
    values: dict[str, Any] = {
        "project": PROJECT,
        "project_number": NUMBER,
        "name_prefix": "unit-test",
        "region": REGION,
        "billing_account": ACCOUNT,
        "alert_topic_id": TOPIC_ID,
        "notification_channels": [CHANNEL],
        "models": ["gemini-3.5-flash", "text-embedding-005"],
    }
    values.update(changes)
    return CostGuardrailsArgs(**values)


def _run(**changes: Any) -> list[CapturedResource]:
    result = run_component(lambda: CostGuardrails("cost", _args(**changes)))
    return result.custom_resources


def _of(resources: list[CapturedResource], type_: str) -> dict[str, CapturedResource]:
    return {r.name: r for r in resources if r.type == type_}


# ------------------------------------------------------------------- the component
def test_budgets_alert_on_actual_and_forecast_spend_of_the_project() -> None:
    budgets = _of(_run(), BUDGET)
    assert set(budgets) == {"cost-budget", "cost-ai-budget"}
    for budget in budgets.values():
        rules = {(r["spendBasis"], r["thresholdPercent"]) for r in budget.inputs["thresholdRules"]}
        assert rules == {("CURRENT_SPEND", p) for p in (0.5, 0.8, 1.0, 1.2)} | {
            ("FORECASTED_SPEND", p) for p in (1.0, 1.2)
        }
        assert budget.inputs["billingAccount"] == ACCOUNT
        assert budget.inputs["budgetFilter"]["projects"] == [f"projects/{NUMBER}"]
        assert budget.inputs["budgetFilter"]["calendarPeriod"] == "MONTH"
        # credits do not hide a runaway caller's usage
        assert budget.inputs["budgetFilter"]["creditTypesTreatment"] == "EXCLUDE_ALL_CREDITS"
    assert "services" not in budgets["cost-budget"].inputs["budgetFilter"]
    assert budgets["cost-ai-budget"].inputs["budgetFilter"]["services"] == [
        VERTEX_AI_BILLING_SERVICE
    ]


def test_amount_is_the_budget_in_the_billing_accounts_own_currency() -> None:
    for budget in _of(_run(monthly_budget=2500), BUDGET).values():
        # no currencyCode: Billing refuses one that differs from the account's currency
        assert budget.inputs["amount"] == {"specifiedAmount": {"units": "2500"}}


def test_budgets_notify_the_alert_channel() -> None:
    for budget in _of(_run(), BUDGET).values():
        rule = budget.inputs["allUpdatesRule"]
        assert rule["pubsubTopic"] == TOPIC_ID
        assert rule["schemaVersion"] == "1.0"
        assert rule["monitoringNotificationChannels"] == [CHANNEL]
        assert rule["disableDefaultIamRecipients"] is False


def test_budgets_use_a_provider_with_the_project_as_quota_project() -> None:
    result = run_component(lambda: CostGuardrails("cost", _args()))
    provider = next(r for r in result.resources if r.type == "pulumi:providers:gcp")
    assert provider.inputs["billingProject"] == PROJECT
    assert str(provider.inputs["userProjectOverride"]).lower() == "true"
    for budget in _of(result.custom_resources, BUDGET).values():
        assert budget.provider is not None and budget.provider.startswith(provider.urn)


@pytest.mark.parametrize(
    "changes", [{"billing_account": ""}, {"monthly_budget": 0}], ids=["no-account", "budget-0"]
)
def test_no_budget_without_account_or_amount(changes: dict[str, Any]) -> None:
    resources = _run(**changes)
    assert not _of(resources, BUDGET)
    assert len(_of(resources, OVERRIDE)) == 2  # the caps do not need a billing account


def test_quota_overrides_cap_each_model_per_region() -> None:
    overrides = _of(_run(), OVERRIDE)
    assert set(overrides) == {"cost-quota-gemini-3-5-flash", "cost-quota-text-embedding-005"}
    gemini = overrides["cost-quota-gemini-3-5-flash"].inputs
    assert gemini["service"] == "aiplatform.googleapis.com"
    assert gemini["metric"] == (
        "aiplatform.googleapis.com%2Fgenerate_content_requests_per_minute_per_project_per_base_model"
    )
    assert gemini["limit"] == "%2Fmin%2Fproject%2Fregion%2Fbase_model"
    assert gemini["dimensions"] == {"region": REGION, "base_model": "gemini-3.5-flash"}
    assert gemini["overrideValue"] == "60"
    assert gemini["force"] is True
    embedding = overrides["cost-quota-text-embedding-005"].inputs
    assert (
        embedding["metric"]
        == "aiplatform.googleapis.com%2Fonline_prediction_requests_per_base_model"
    )


def test_quota_cap_from_config_and_zero_creates_none() -> None:
    assert {
        o.inputs["overrideValue"] for o in _of(_run(requests_per_minute=25), OVERRIDE).values()
    } == {"25"}
    assert not _of(_run(requests_per_minute=0), OVERRIDE)


def test_cap_bound_scales_with_the_budget() -> None:
    assert max_requests_per_minute(0) == 60
    assert max_requests_per_minute(1000) == 60
    assert max_requests_per_minute(10_000) == 600


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"monthly_budget": -1}, "negative"),
        ({"billing_account": "0123-4567"}, "XXXXXX-XXXXXX-XXXXXX"),
        ({"notification_channels": [CHANNEL] * 6}, "at most 5"),
        ({"requests_per_minute": -5}, "negative"),
        ({"ai_services": ["vertex"]}, "Cloud Billing service"),
    ],
)
def test_invalid_arguments_are_refused(changes: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        CostGuardrails("cost", _args(**changes))


# ----------------------------------------------------------------------- policies
BUDGET_INPUTS: dict[str, Any] = {
    "billingAccount": ACCOUNT,
    "displayName": "app-dev monthly",
    "budgetFilter": {
        "projects": [f"projects/{NUMBER}"],
        "calendarPeriod": "MONTH",
        "creditTypesTreatment": "EXCLUDE_ALL_CREDITS",
    },
    "amount": {"specifiedAmount": {"units": "1000"}},
    "thresholdRules": [
        {"spendBasis": "CURRENT_SPEND", "thresholdPercent": p} for p in SPEND_THRESHOLDS
    ]
    + [{"spendBasis": "FORECASTED_SPEND", "thresholdPercent": p} for p in FORECAST_THRESHOLDS],
    "allUpdatesRule": {
        "pubsubTopic": f"projects/{PROJECT}/topics/app-dev-alerts",
        "schemaVersion": "1.0",
        "monitoringNotificationChannels": [CHANNEL],
        "disableDefaultIamRecipients": False,
    },
}
OVERRIDE_INPUTS: dict[str, Any] = {
    "service": "aiplatform.googleapis.com",
    "metric": "aiplatform.googleapis.com%2Fonline_prediction_requests_per_base_model",
    "limit": "%2Fmin%2Fproject%2Fregion%2Fbase_model",
    "dimensions": {"region": REGION, "base_model": "text-embedding-005"},
    "overrideValue": "60",
    "force": True,
}
WITH_ACCOUNT = reqs(billing_account=ACCOUNT)


def budget(name: str = "good", /, **changes: Any) -> CapturedResource:
    return res(BUDGET, name, patch(BUDGET_INPUTS, changes))


def override(name: str = "cap", /, **changes: Any) -> CapturedResource:
    return res(OVERRIDE, name, patch(OVERRIDE_INPUTS, changes))


AI = res(ENDPOINT, "endpoint", {"region": REGION})


def _level(policy: str, resources: list[CapturedResource], requirements: Any) -> set[str]:
    from gcp.gcp_policy_support import report

    return {f.level for f in report(resources, requirements).violations if f.policy == policy}


def test_budget_policy_compliant_and_each_way_it_fails() -> None:
    assert flagged("GCP-COST-001", [AI, budget()], WITH_ACCOUNT) == set()
    bad = [
        budget("amount", **{"amount.specifiedAmount.units": "500"}),
        budget("account-wide", **{"budgetFilter.projects": []}),
        budget("quarter", **{"budgetFilter.calendarPeriod": "QUARTER"}),
        budget("no-forecast", thresholdRules=BUDGET_INPUTS["thresholdRules"][:4]),
        budget("no-half", thresholdRules=BUDGET_INPUTS["thresholdRules"][1:]),
        budget("after-credits", **{"budgetFilter.creditTypesTreatment": "INCLUDE_ALL_CREDITS"}),
    ]
    assert flagged("GCP-COST-001", [AI, budget(), *bad], WITH_ACCOUNT) == {r.name for r in bad}
    # missing altogether, with a billing account and soc2: mandatory
    soc2 = reqs(billing_account=ACCOUNT, compliance=["soc2"])
    assert flagged("GCP-COST-001", [AI], soc2) == {"(stack)"}
    assert _level("GCP-COST-001", [AI], soc2) == {"mandatory"}


@pytest.mark.parametrize(
    "requirements",
    [
        reqs(data_sensitivity="restricted"),  # no billing account
        reqs(data_sensitivity="internal", monthly_budget=0, billing_account=ACCOUNT),
    ],
    ids=["no-account-restricted", "budget-0"],
)
def test_no_budget_is_advisory_when_none_can_be_created(requirements: Any) -> None:
    assert flagged("GCP-COST-001", [AI], requirements) == {"(stack)"}
    assert _level("GCP-COST-001", [AI], requirements) == {"advisory"}


def test_budget_routing_policy() -> None:
    bad = [
        budget("no-topic", **{"allUpdatesRule.pubsubTopic": DROP}),
        budget("other-topic", **{"allUpdatesRule.pubsubTopic": f"projects/{PROJECT}/topics/x"}),
        budget("no-schema", **{"allUpdatesRule.schemaVersion": DROP}),
        budget("silenced", **{"allUpdatesRule.disableDefaultIamRecipients": True}),
    ]
    assert flagged("GCP-COST-002", [AI, budget(), *bad], WITH_ACCOUNT) == {r.name for r in bad}
    # with alert addresses, threshold crossings e-mail them
    no_mail = budget("no-mail", **{"allUpdatesRule.monitoringNotificationChannels": []})
    addresses = reqs(billing_account=ACCOUNT, alert_emails=["secops@example.com"])
    assert flagged("GCP-COST-002", [AI, budget(), no_mail], addresses) == {"no-mail"}
    assert flagged("GCP-COST-002", [AI, no_mail], WITH_ACCOUNT) == set()


def test_anomaly_policy_judges_forecasts_or_the_volume_alarm() -> None:
    assert flagged("GCP-COST-003", [AI, budget()], WITH_ACCOUNT) == set()
    no_forecast = budget("nf", thresholdRules=BUDGET_INPUTS["thresholdRules"][:4])
    assert flagged("GCP-COST-003", [AI, no_forecast], WITH_ACCOUNT) == {"nf"}
    alarm = res(
        ALERT_POLICY,
        "app-alarms-invocation-volume-spike",
        {"enabled": True, "notificationChannels": [CHANNEL]},
    )
    # without a budget, the routed request-volume alert counts
    assert flagged("GCP-COST-003", [AI, alarm], reqs()) == set()
    unrouted = res(ALERT_POLICY, "app-alarms-invocation-volume-spike", {"enabled": True})
    disabled = res(
        ALERT_POLICY,
        "app-alarms-invocation-volume-spike",
        {"enabled": False, "notificationChannels": [CHANNEL]},
    )
    assert flagged("GCP-COST-003", [AI, disabled], reqs()) == {"(stack)"}
    assert flagged("GCP-COST-003", [AI, unrouted], reqs()) == {"(stack)"}
    assert _level("GCP-COST-003", [AI, unrouted], reqs(data_sensitivity="restricted")) == {
        "advisory"
    }


def test_capacity_policy_bounds_the_cap() -> None:
    assert flagged("GCP-COST-004", [AI, override()], reqs()) == set()
    bad = [
        override("unlimited", overrideValue="-1"),
        override("above", overrideValue="61"),
        override("zero", overrideValue="0"),
        override("no-model", dimensions={"region": REGION}),
        override("no-value", overrideValue=DROP),
    ]
    assert flagged("GCP-COST-004", [AI, override(), *bad], reqs()) == {r.name for r in bad}
    # a budget ten times the default allows ten times the rate
    assert (
        flagged("GCP-COST-004", [AI, override(overrideValue="600")], reqs(monthly_budget=10_000))
        == set()
    )
    assert flagged("GCP-COST-004", [AI], reqs()) == {"(stack)"}
    assert _level("GCP-COST-004", [AI], reqs(data_sensitivity="restricted")) == {"advisory"}


# --------------------------------------------------------------------- deploy rules
def _rule(rule_id: str) -> Any:
    return next(r for r in deploy_rules("gcp") if r.id == rule_id)


def _resource(
    type_: str, inputs: dict[str, Any], provider: dict[str, Any] | None = None
) -> Resource:
    return Resource(
        type=type_,
        name="r",
        urn=f"urn:pulumi:dev::p::{type_}::r",
        props=inputs,
        provider_props=provider or {},
    )


CONTEXT = DeployContext(cloud="gcp", region=REGION)
QUOTA_PROVIDER = {"billingProject": PROJECT, "userProjectOverride": "true", "project": PROJECT}


def test_deploy_rule_budget_quota_project() -> None:
    rule = _rule("GCP-DEPLOY-020")
    assert rule.evaluate([_resource(BUDGET, BUDGET_INPUTS, QUOTA_PROVIDER)], CONTEXT) == []
    assert rule.evaluate([_resource(BUDGET, BUDGET_INPUTS, {"project": PROJECT})], CONTEXT)


@pytest.mark.parametrize(
    "changes",
    [
        {"displayName": "x" * 61},
        {"allUpdatesRule.monitoringNotificationChannels": [CHANNEL] * 6},
        {"allUpdatesRule.schemaVersion": DROP},
    ],
)
def test_deploy_rule_budget_limits(changes: dict[str, Any]) -> None:
    rule = _rule("GCP-DEPLOY-021")
    assert rule.evaluate([_resource(BUDGET, BUDGET_INPUTS)], CONTEXT) == []
    assert rule.evaluate([_resource(BUDGET, patch(BUDGET_INPUTS, changes))], CONTEXT)


def test_deploy_rule_forecast_needs_calendar_period() -> None:
    rule = _rule("GCP-DEPLOY-022")
    assert rule.evaluate([_resource(BUDGET, BUDGET_INPUTS)], CONTEXT) == []
    custom = patch(
        BUDGET_INPUTS,
        {
            "budgetFilter.calendarPeriod": DROP,
            "budgetFilter.customPeriod": {"startDate": {"year": 2030, "month": 1, "day": 1}},
        },
    )
    assert rule.evaluate([_resource(BUDGET, custom)], CONTEXT)


def test_deploy_rule_quota_decrease_is_forced() -> None:
    rule = _rule("GCP-DEPLOY-023")
    assert rule.evaluate([_resource(OVERRIDE, OVERRIDE_INPUTS)], CONTEXT) == []
    assert rule.evaluate([_resource(OVERRIDE, patch(OVERRIDE_INPUTS, {"force": DROP}))], CONTEXT)


def test_deploy_rule_budget_role_names_the_billing_account() -> None:
    rule = _rule("GCP-DEPLOY-024")
    [(_, message)] = rule.evaluate([_resource(BUDGET, BUDGET_INPUTS)], CONTEXT)
    assert ACCOUNT in message and "roles/billing.costsManager" in message
    assert rule.evaluate([_resource(OVERRIDE, OVERRIDE_INPUTS)], CONTEXT) == []


# ---------------------------------------------------------------- generated projects
def _check(path: Any, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["check", str(path), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_generated_project_with_billing_account_creates_the_budgets(
    gcp_projects: dict[str, GeneratedRun],
) -> None:
    project = gcp_projects["confidential-iso-soc2"]
    budgets = [r for r in project.run.custom_resources if r.type == BUDGET]
    assert len(budgets) == 2
    topic = next(
        r
        for r in project.run.custom_resources
        if r.type == "gcp:pubsub/topic:Topic" and str(r.inputs.get("name", "")).endswith("-alerts")
    )
    for found in budgets:
        assert found.inputs["billingAccount"] == project.config["billing_account"]
        # the amount comes from the stack config the profile reads
        assert found.inputs["amount"]["specifiedAmount"]["units"] == str(
            project.config["monthly_budget"]
        )
        assert found.inputs["allUpdatesRule"]["pubsubTopic"].endswith(
            f"/topics/{topic.inputs['name']}"
        )
    overrides = [r for r in project.run.custom_resources if r.type == OVERRIDE]
    assert {o.inputs["dimensions"]["base_model"] for o in overrides} == set(
        project.config["models"]
    )


def test_budget_amount_follows_stack_config(render_project: Any) -> None:
    from aiscaffold.testing import run_program

    path = render_project(cloud="gcp", project_name="gcp-cost-config", billing_account=ACCOUNT)
    result = run_program(path, config={"monthly_budget": 2000, "ai_requests_per_minute": 30})
    budgets = [r for r in result.custom_resources if r.type == BUDGET]
    assert {b.inputs["amount"]["specifiedAmount"]["units"] for b in budgets} == {"2000"}
    caps = {r.inputs["overrideValue"] for r in result.custom_resources if r.type == OVERRIDE}
    assert caps == {"30"}


@pytest.mark.slow
@pytest.mark.parametrize(
    "answers",
    [
        {"data_sensitivity": "internal", "monthly_budget": 0, "billing_account": ACCOUNT},
        {"data_sensitivity": "restricted"},
    ],
    ids=["budget-0-internal", "no-account-restricted"],
)
def test_project_without_budget_checks_clean_with_the_advisory_finding(
    render_project: Any, answers: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    path = render_project(cloud="gcp", project_name=f"gcp-cost-{len(answers)}", **answers)
    code, report = _check(path, capsys)
    assert code == 0
    cost = [v for v in report["violations"] if v["policy"] == "GCP-COST-001"]
    assert [v["level"] for v in cost] == ["advisory"]
    assert "no Cloud Billing budget" in cost[0]["message"]
    assert "GCP-COST-001" not in report["passed"]
    target = tmp_path / "COMPLIANCE.md"
    assert main(["check", str(path), "--format", "compliance", "-o", str(target)]) == 0
    capsys.readouterr()
    rows = [line for line in target.read_text(encoding="utf-8").splitlines() if "COST-01" in line]
    assert rows and not any("✅" in row for row in rows)
