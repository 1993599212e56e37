"""Detection and response on Azure (issue 15): Defender for Cloud, the tampering and misuse
alarms, the alert channel's receivers, the SIEM export, and the playbook that names them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.testing import CapturedResource, MockRun, run_program
from aiscaffold_components.azure import ALARMS, ROLES

ACTIVITY = "azure-native:monitor:ActivityLogAlert"
QUERY = "azure-native:monitor:ScheduledQueryRule"
METRIC = "azure-native:monitor:MetricAlert"
RULE_TYPES = (ACTIVITY, QUERY, METRIC)
SIEM = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


def rules(run: MockRun) -> dict[str, CapturedResource]:
    """Alert rules by alarm name (the suffix after ``<project>-<stack>-``)."""
    out: dict[str, CapturedResource] = {}
    for rule in (r for t in RULE_TYPES for r in run.of_type(t)):
        name = rule.inputs.get("activityLogAlertName") or rule.inputs["ruleName"]
        alarm = next((a for a in ALARMS if name.endswith(f"-{a}")), None)
        assert alarm is not None, f"{name} is not a known alarm"
        out[alarm] = rule
    return out


def operations(rule: CapturedResource) -> set[str]:
    ops: set[str] = set()
    for condition in rule.inputs["condition"]["allOf"]:
        for leaf in [condition, *condition.get("anyOf", [])]:
            if leaf.get("field") == "operationName":
                ops.add(leaf["equals"])
    return ops


def action_ids(rule: CapturedResource) -> list[str]:
    actions = rule.inputs["actions"]
    if rule.type == ACTIVITY:
        return [a["actionGroupId"] for a in actions["actionGroups"]]
    if rule.type == QUERY:
        return list(actions["actionGroups"])
    return [a["actionGroupId"] for a in actions]


def query(rule: CapturedResource) -> str:
    return "\n".join(c["query"] for c in rule.inputs["criteria"]["allOf"])


# ---------------------------------------------------------------- the alarms
def test_control_plane_alarms_watch_the_real_operations(runs: dict[str, MockRun]) -> None:
    alarms = rules(runs["defaults"])
    assert {
        "Microsoft.CognitiveServices/accounts/raiPolicies/delete",
        "Microsoft.CognitiveServices/accounts/raiPolicies/write",
        "Microsoft.CognitiveServices/accounts/deployments/write",
    } <= operations(alarms["guardrail-tampering"])
    assert {
        "Microsoft.Insights/diagnosticSettings/write",
        "Microsoft.Insights/diagnosticSettings/delete",
    } <= operations(alarms["invocation-logging-disabled"])
    assert {
        "Microsoft.Authorization/roleAssignments/write",
        "Microsoft.Authorization/roleAssignments/delete",
    } <= operations(alarms["workload-permissions-changed"])
    assert {
        "Microsoft.Network/privateEndpoints/write",
        "Microsoft.Network/privateEndpoints/delete",
    } <= operations(alarms["private-network-changed"])
    for alarm in ("guardrail-tampering", "workload-permissions-changed", "private-network-changed"):
        categories = [
            c["equals"]
            for c in alarms[alarm].inputs["condition"]["allOf"]
            if c.get("field") == "category"
        ]
        assert categories == ["Administrative"], alarm


def test_group_alarms_watch_the_project_group_and_logging_the_subscription(
    runs: dict[str, MockRun],
) -> None:
    alarms = rules(runs["defaults"])
    group = runs["defaults"].one("azure-native:resources:ResourceGroup").outputs["id"]
    assert alarms["guardrail-tampering"].inputs["scopes"] == [group]
    # The activity log export is a subscription-level diagnostic setting.
    assert alarms["invocation-logging-disabled"].inputs["scopes"] == [
        group.rsplit("/resourceGroups/", 1)[0]
    ]


def test_key_vault_alarms_query_the_audit_table_the_vault_writes(runs: dict[str, MockRun]) -> None:
    run = runs["defaults"]
    alarms = rules(run)
    # The vault's diagnostic setting writes resource-specific tables (AZKVAuditLogs).
    vault_setting = run.one("azure-native:monitor:DiagnosticSetting", name="audit-vault-la")
    assert vault_setting.inputs["logAnalyticsDestinationType"] == "Dedicated"
    keys = query(alarms["key-tampering"])
    assert keys.startswith("union\n(AZKVAuditLogs")
    for op in (
        "KeyDelete",
        "KeyPurge",
        "KeyUpdate",
        "KeyRotationPolicySet",
        "KeyImport",
        "KeyBackup",
    ):
        assert f'"{op}"' in keys, op
    assert '"Microsoft.KeyVault/vaults/write"' in keys
    secrets = query(alarms["secret-read-by-other-principal"])
    workload = run.one(
        "azure-native:managedidentity:UserAssignedIdentity", name="workload-identity"
    )
    assert 'OperationName == "SecretGet"' in secrets
    assert f'!in ("{workload.outputs["principalId"]}")' in secrets
    workspace = run.one("azure-native:operationalinsights:Workspace").outputs["id"]
    for alarm in ("key-tampering", "secret-read-by-other-principal"):
        rule = alarms[alarm].inputs
        assert rule["scopes"] == [workspace]
        assert rule["kind"] == "LogAlert" and rule["severity"] == 1
        threshold = rule["criteria"]["allOf"][0]
        assert (threshold["operator"], threshold["threshold"]) == ("GreaterThan", 0)


def test_metric_alarms_watch_the_content_filter_and_call_volume(runs: dict[str, MockRun]) -> None:
    run = runs["defaults"]
    alarms = rules(run)
    account = run.one("azure-native:cognitiveservices:Account").outputs["id"]
    blocked = alarms["guardrail-intervention-surge"].inputs
    (criterion,) = blocked["criteria"]["allOf"]
    assert (criterion["metricName"], criterion["metricNamespace"]) == (
        "RAIRejectedRequests",
        "Microsoft.CognitiveServices/accounts",
    )
    assert (criterion["operator"], criterion["threshold"], criterion["timeAggregation"]) == (
        "GreaterThan",
        20,
        "Total",
    )
    volume = alarms["invocation-volume-spike"].inputs
    (dynamic,) = volume["criteria"]["allOf"]
    assert dynamic["criterionType"] == "DynamicThresholdCriterion"
    assert dynamic["metricName"] == "AzureOpenAIRequests"
    assert (
        volume["criteria"]["odataType"]
        == "Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria"
    )
    for rule in (blocked, volume):
        assert rule["scopes"] == [account] and rule["severity"] == 2


@pytest.mark.parametrize("variant", ["defaults", "shared-alerts"])
def test_every_alarm_is_routed_with_its_severity_and_runbook(
    runs: dict[str, MockRun], variant: str
) -> None:
    run = runs[variant]
    channel = run.one("azure-native:monitor:ActionGroup").outputs["id"]
    for alarm, rule in rules(run).items():
        spec = ALARMS[alarm]
        assert rule.inputs["enabled"] is True, alarm
        assert action_ids(rule) == [channel], alarm
        assert rule.inputs["tags"]["severity"] == spec.severity
        assert rule.inputs["tags"]["runbook"] == f"docs/incident-response.md#{alarm}"
        assert f"Runbook: docs/incident-response.md#{alarm}" in rule.inputs["description"]


# --------------------------------------------------- Defender for Cloud, shared
def test_threat_detection_turns_on_the_four_plans_and_the_contact(runs: dict[str, MockRun]) -> None:
    run = runs["defaults"]
    plans = {
        p.inputs["pricingName"]: p.inputs for p in run.of_type("azure-native:security:Pricing")
    }
    assert set(plans) == {"AI", "KeyVaults", "StorageAccounts", "Arm"}
    assert {p["pricingTier"] for p in plans.values()} == {"Standard"}
    assert {p["scopeId"] for p in plans.values()} == {
        "/subscriptions/00000000-0000-0000-0000-000000000000"
    }
    storage = plans["StorageAccounts"]
    assert storage["subPlan"] == "DefenderForStorageV2"
    assert {e["name"]: e["isEnabled"] for e in storage["extensions"]} == {
        "OnUploadMalwareScanning": "True",
        "SensitiveDataDiscovery": "True",
    }
    # Prompt evidence would copy workload data into Defender's alert store: off.
    assert plans["AI"]["extensions"] == [{"name": "AIPromptEvidence", "isEnabled": "False"}]
    contact = run.one("azure-native:security:SecurityContact").inputs
    assert contact["securityContactName"] == "default" and contact["isEnabled"] is True
    assert contact["notificationsSources"] == [{"sourceType": "Alert", "minimalSeverity": "High"}]
    finding = rules(run)["high-severity-finding"]
    assert operations(finding) == {"Microsoft.Security/locations/alerts/activate/action"}
    leaves = {c.get("field"): c.get("equals") for c in finding.inputs["condition"]["allOf"]}
    assert leaves["category"] == "Security" and leaves["properties.Severity"] == "High"
    assert finding.inputs["scopes"] == ["/subscriptions/00000000-0000-0000-0000-000000000000"]


def test_shared_account_services_create_no_singleton_but_every_own_alarm(
    runs: dict[str, MockRun],
) -> None:
    run = runs["shared-alerts"]
    assert not run.of_type("azure-native:security:Pricing")
    assert not run.of_type("azure-native:security:SecurityContact")
    assert set(rules(run)) == set(ALARMS) - {"high-severity-finding"}


def test_alert_emails_become_receivers_with_the_common_schema(runs: dict[str, MockRun]) -> None:
    group = runs["shared-alerts"].one("azure-native:monitor:ActionGroup").inputs
    receivers = group["emailReceivers"]
    assert [r["emailAddress"] for r in receivers] == ["secops@example.com", "oncall@example.com"]
    assert all(r["useCommonAlertSchema"] is True for r in receivers)
    assert len({r["name"] for r in receivers}) == 2
    assert "emailReceivers" not in runs["defaults"].one("azure-native:monitor:ActionGroup").inputs


def test_components_refuse_bad_input() -> None:
    from aiscaffold_components.azure import (
        AlertChannel,
        AlertChannelArgs,
        SiemExport,
        SiemExportArgs,
    )
    from aiscaffold_components.azure.detection import secret_read_query

    with pytest.raises(ValueError, match="not an e-mail address"):
        AlertChannel(
            "a",
            AlertChannelArgs(resource_group_name="g", name_prefix="p", tags={}, emails=["nobody"]),
        )
    with pytest.raises(ValueError, match="not an Entra object id"):
        SiemExport("s", SiemExportArgs(workspace_id="w", consumer_object_id="sentinel"))
    with pytest.raises(ValueError, match="not an Entra object id"):
        secret_read_query(["x' or 1==1"])


# ------------------------------------------------------------------ SIEM export
def test_siem_export_is_absent_without_a_consumer(runs: dict[str, MockRun]) -> None:
    reader = ROLES["Log Analytics Reader"]
    for run in runs.values():
        assert not [
            a
            for a in run.of_type("azure-native:authorization:RoleAssignment")
            if a.inputs["roleDefinitionId"].endswith(reader)
        ]


def test_siem_consumer_reads_the_workspace_only(projects: dict[str, Path]) -> None:
    run = run_program(projects["defaults"], config={"siem_consumer": SIEM})
    grants = [
        a
        for a in run.of_type("azure-native:authorization:RoleAssignment")
        if a.inputs["principalId"] == SIEM
    ]
    assert len(grants) == 1
    grant = grants[0].inputs
    assert grant["roleDefinitionId"].endswith(ROLES["Log Analytics Reader"])
    assert grant["scope"] == run.one("azure-native:operationalinsights:Workspace").outputs["id"]
    assert grant["principalType"] == "ServicePrincipal"


# ------------------------------------------------------------------- the playbook
def _playbook(project: Path) -> str:
    return (project / "docs" / "incident-response.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("variant", ["defaults", "shared-alerts"])
def test_playbook_and_program_name_the_same_alarms(
    projects: dict[str, Path], runs: dict[str, MockRun], variant: str
) -> None:
    run, text = runs[variant], _playbook(projects[variant])
    prefix = f"{run.project}-{run.stack}-"
    in_program = {
        r.inputs.get("activityLogAlertName") or r.inputs["ruleName"]
        for t in RULE_TYPES
        for r in run.of_type(t)
    }
    # the cost guardrails' notifiers, named in the cost spike scenario
    in_program |= {r.inputs["budgetName"] for r in run.of_type("azure-native:consumption:Budget")}
    in_program |= {
        r.inputs["name"] for r in run.of_type("azure-native:costmanagement:ScheduledAction")
    }
    in_playbook = set(re.findall(rf"`({re.escape(prefix)}[a-z-]+)`", text)) - {f"{prefix}alerts"}
    assert in_program == in_playbook


@pytest.mark.parametrize("variant", ["defaults", "shared-alerts"])
def test_every_runbook_link_points_to_an_anchor_of_the_playbook(
    projects: dict[str, Path], runs: dict[str, MockRun], variant: str
) -> None:
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', _playbook(projects[variant])))
    links: list[Any] = [
        r.inputs["tags"]["runbook"] for t in RULE_TYPES for r in runs[variant].of_type(t)
    ]
    assert links
    for link in links:
        path, anchor = link.split("#")
        assert path == "docs/incident-response.md" and anchor in anchors, link
