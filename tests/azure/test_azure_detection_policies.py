"""Detection policies (AZURE-DET-*): each failure mode flags exactly the offending
resources, and the compliant project passes."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold.testing import MockRun
from azure.azure_policy_support import DROP, STACK, base_run, flagged
from azure.test_azure_detection import SIEM

GUARDRAIL = "alarms-guardrail-tampering"
KEYS = "alarms-key-tampering"
BLOCKED = "alarms-guardrail-intervention-surge"
FINDING = "detection-high-severity-finding"
OTHER_GROUP = (
    "/subscriptions/s/resourceGroups/g/providers/Microsoft.Insights/actionGroups/elsewhere"
)


@pytest.fixture(scope="module")
def base(render_project: Any) -> MockRun:
    return base_run(render_project)


CASES: list[tuple[str, dict[str, dict[str, Any]], list[str], set[str], dict[str, Any]]] = [
    # DET-001 Defender plans
    (
        "AZURE-DET-001",
        {"detection-plan-ai": {"pricingTier": "Free"}},
        [],
        {"detection-plan-ai"},
        {},
    ),
    ("AZURE-DET-001", {}, ["detection-plan-keyvaults"], {STACK}, {}),
    # DET-002 security contact
    ("AZURE-DET-002", {"detection-contact": {"isEnabled": False}}, [], {"detection-contact"}, {}),
    (
        "AZURE-DET-002",
        {"detection-contact": {"notificationsSources": []}},
        [],
        {"detection-contact"},
        {},
    ),
    ("AZURE-DET-002", {}, ["detection-contact"], {STACK}, {}),
    # the contact must e-mail the answered addresses
    ("AZURE-DET-002", {}, [], {"detection-contact"}, {"alert_emails": ["secops@example.com"]}),
    # DET-003 tampering alarms: what they watch, where they go, that they exist
    (
        "AZURE-DET-003",
        {
            GUARDRAIL: {
                "condition.allOf.1.anyOf": [
                    {
                        "field": "operationName",
                        "equals": "Microsoft.CognitiveServices/accounts/raiPolicies/write",
                    }
                ]
            }
        },
        [],
        {GUARDRAIL},
        {},
    ),
    (
        "AZURE-DET-003",
        {GUARDRAIL: {"actions.actionGroups.0.actionGroupId": OTHER_GROUP}},
        [],
        {GUARDRAIL},
        {},
    ),
    (
        "AZURE-DET-003",
        {KEYS: {"criteria.allOf.0.query": 'AZKVAuditLogs | where OperationName == "KeyDelete"'}},
        [],
        {KEYS},
        {},
    ),
    (
        "AZURE-DET-003",
        {BLOCKED: {"criteria.allOf.0.metricName": "AzureOpenAIRequests"}},
        [],
        {BLOCKED},
        {},
    ),
    ("AZURE-DET-003", {}, ["alarms-secret-read-by-other-principal"], {STACK}, {}),
    ("AZURE-DET-003", {BLOCKED: {"criteria.allOf.0.threshold": 500}}, [], {BLOCKED}, {}),
    # DET-004 findings route
    ("AZURE-DET-004", {FINDING: {"condition.allOf.2.equals": "Low"}}, [], {FINDING}, {}),
    ("AZURE-DET-004", {FINDING: {"condition.allOf.0.equals": "Administrative"}}, [], {FINDING}, {}),
    ("AZURE-DET-004", {}, [FINDING], {STACK}, {}),
    # DET-006 no alarm without an action
    ("AZURE-DET-006", {BLOCKED: {"enabled": False}}, [], {BLOCKED}, {}),
    ("AZURE-DET-006", {KEYS: {"actions.actionGroups": []}}, [], {KEYS}, {}),
    ("AZURE-DET-006", {GUARDRAIL: {"enabled": DROP}}, [], {GUARDRAIL}, {}),
]


@pytest.mark.parametrize(("policy", "patches", "drop", "expected", "answers"), CASES)
def test_each_failure_flags_exactly_the_offender(
    base: MockRun,
    policy: str,
    patches: dict[str, dict[str, Any]],
    drop: list[str],
    expected: set[str],
    answers: dict[str, Any],
) -> None:
    assert flagged(base, policy, patches, drop=drop, **answers) == expected


@pytest.mark.parametrize(
    "policy",
    ["AZURE-DET-001", "AZURE-DET-002", "AZURE-DET-003", "AZURE-DET-004", "AZURE-DET-006"],
)
def test_the_generated_project_complies(base: MockRun, policy: str) -> None:
    assert flagged(base, policy) == set()


@pytest.mark.parametrize("policy", ["AZURE-DET-001", "AZURE-DET-002", "AZURE-DET-004"])
def test_shared_account_services_make_the_singleton_policies_not_applicable(
    base: MockRun, policy: str
) -> None:
    # Even without the singletons: another stack owns them.
    drop = ["detection-plan-ai", "detection-contact", FINDING]
    assert flagged(base, policy, drop=drop, account_services="shared") == set()


def test_channel_receivers_cover_every_address(runs: dict[str, MockRun]) -> None:
    run = runs["shared-alerts"]
    emails = {"alert_emails": ["secops@example.com", "oncall@example.com"]}
    assert flagged(run, "AZURE-DET-005", **emails) == set()
    dropped = {
        "alerts-group": {"emailReceivers": [{"name": "x", "emailAddress": "secops@example.com"}]}
    }
    assert flagged(run, "AZURE-DET-005", dropped, **emails) == {"alerts-group"}


def test_siem_access_beyond_the_workspace_is_flagged(projects: Any) -> None:
    from aiscaffold.testing import run_program

    run = run_program(projects["defaults"], config={"siem_consumer": SIEM})
    assert flagged(run, "AZURE-DET-007") == set()
    wider = {"siem-reader": {"scope": "/subscriptions/s/resourceGroups/g"}}
    assert flagged(run, "AZURE-DET-007", wider) == {"siem-reader"}
