"""Detection and response on AWS (issue 15): components, generated projects, playbook, policies."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.testing import CapturedResource, MockRun
from aiscaffold_components.aws import (
    ALERTS,
    AlertChannel,
    AlertChannelArgs,
    SecurityAlarms,
    SecurityAlarmsArgs,
    SiemExport,
    SiemExportArgs,
    ThreatDetection,
    ThreatDetectionArgs,
    alert_names,
)
from aws.aws_policy_support import STACK, flagged, only, patched
from aws.aws_support import ACCOUNT, KEY, TAGS, policy, run_component, statement

TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:unit-test-alerts"
SIEM = "arn:aws:iam::210987654321:role/central-siem"


def of(run: MockRun, type_: str) -> list[CapturedResource]:
    return [r for r in run.resources if r.type == type_]


def one(run: MockRun, name: str) -> CapturedResource:
    found = [r for r in run.resources if r.name == name]
    assert len(found) == 1, name
    return found[0]


def alarms_args(**overrides: Any) -> SecurityAlarmsArgs:
    values: dict[str, Any] = {
        "name_prefix": "unit-test",
        "tags": TAGS,
        "ai_service": "bedrock",
        "alert_topic_arn": TOPIC,
        "trail_log_group_name": "audit-trail-logs-1234567",
        "workload_role_name": "unit-test-workload",
        "secret_name_prefix": "unit/test/",
        "guardrail_arn": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/abc123",
        "guardrail_version": "1",
        "models": ["anthropic.claude-3-haiku", "amazon.titan-embed-text-v2:0"],
    }
    values.update(overrides)
    return SecurityAlarmsArgs(**values)


# ------------------------------------------------------------------ alert channel
def test_alert_emails_are_subscribed_and_the_topic_takes_tls_only() -> None:
    run = run_component(
        lambda: AlertChannel(
            "alerts",
            AlertChannelArgs(
                name_prefix="unit-test", tags=TAGS, emails=("a@example.com", "b@example.org")
            ),
        )
    )
    subscriptions = of(run, "aws:sns/topicSubscription:TopicSubscription")
    assert sorted((s.inputs["protocol"], s.inputs["endpoint"]) for s in subscriptions) == [
        ("email", "a@example.com"),
        ("email", "b@example.org"),
    ]
    topic_arn = one(run, "alerts-topic").outputs["arn"]
    assert {s.inputs["topic"] for s in subscriptions} == {topic_arn}
    topic_policy = one(run, "alerts-topic-policy")
    assert topic_policy.inputs["arn"] == topic_arn
    deny = statement(topic_policy.inputs["policy"], "DenyPublishWithoutTls")
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    allow = statement(topic_policy.inputs["policy"], "AlarmsAndRulesOfThisAccountPublish")
    assert {"cloudwatch.amazonaws.com", "events.amazonaws.com"} <= set(
        allow["Principal"]["Service"]
    )
    assert allow["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_no_alert_emails_no_subscription_and_names_survive_reordering() -> None:
    def names(emails: tuple[str, ...]) -> set[str]:
        run = run_component(
            lambda: AlertChannel(
                "alerts", AlertChannelArgs(name_prefix="unit-test", tags=TAGS, emails=emails)
            )
        )
        return {r.name for r in of(run, "aws:sns/topicSubscription:TopicSubscription")}

    assert names(()) == set()
    assert names(("a@example.com", "b@example.org")) == names(("b@example.org", "a@example.com"))


@pytest.mark.parametrize("emails", [("not-an-address",), ("a@example.com", "a@example.com")])
def test_bad_alert_emails_are_refused(emails: tuple[str, ...]) -> None:
    # checked before any resource is registered
    with pytest.raises(ValueError, match="e-mail address|twice"):
        AlertChannel("alerts", AlertChannelArgs(name_prefix="unit-test", tags=TAGS, emails=emails))


# ------------------------------------------------------------------ threat detection
def test_threat_detection_features_follow_the_runtime() -> None:
    def features(**kwargs: bool) -> dict[str, Any]:
        run = run_component(
            lambda: ThreatDetection(
                "td", ThreatDetectionArgs(name_prefix="unit-test", tags=TAGS, **kwargs)
            )
        )
        return {
            r.inputs["name"]: r.inputs
            for r in of(run, "aws:guardduty/detectorFeature:DetectorFeature")
        }

    assert set(features()) == {"S3_DATA_EVENTS"}
    both = features(on_lambda=True, on_fargate=True)
    assert set(both) == {"S3_DATA_EVENTS", "LAMBDA_NETWORK_LOGS", "RUNTIME_MONITORING"}
    assert {f["status"] for f in both.values()} == {"ENABLED"}
    assert both["RUNTIME_MONITORING"]["additionalConfigurations"] == [
        {"name": "ECS_FARGATE_AGENT_MANAGEMENT", "status": "ENABLED"}
    ]


def test_threat_detection_singletons_and_the_malware_scan_role() -> None:
    bucket_arn = "arn:aws:s3:::unit-test-data-abc"
    run = run_component(
        lambda: ThreatDetection(
            "td",
            ThreatDetectionArgs(
                name_prefix="unit-test",
                tags=TAGS,
                data_bucket_name="unit-test-data-abc",
                data_bucket_arn=bucket_arn,
                data_key_arn=KEY,
            ),
        )
    )
    assert one(run, "td-detector").inputs["enable"] is True
    hub = one(run, "td-security-hub").inputs
    assert hub["enableDefaultStandards"] is False
    assert one(run, "td-fsbp").inputs["standardsArn"] == (
        "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0"
    )
    assert one(run, "td-access-analyzer").inputs["type"] == "ACCOUNT"
    plan = one(run, "td-malware-protection").inputs
    assert plan["protectedResource"] == {"s3Bucket": {"bucketName": "unit-test-data-abc"}}
    assert plan["actions"] == [{"taggings": [{"status": "ENABLED"}]}]
    trust = policy(one(run, "td-malware-scan"), "assumeRolePolicy")["Statement"][0]
    assert trust["Principal"] == {"Service": "malware-protection-plan.guardduty.amazonaws.com"}
    document = one(run, "td-malware-scan-policy").inputs["policy"]
    scan = statement(document, "AllowMalwareScan")
    assert scan["Resource"] == f"{bucket_arn}/*"
    decrypt = statement(document, "AllowDecryptForMalwareScan")
    assert decrypt["Resource"] == KEY
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    }
    # the plan is created after IAM had time to propagate the role's policy
    sleep = one(run, "td-malware-scan-propagation")
    assert sleep.type == "time:index/sleep:Sleep"


# ------------------------------------------------------------------ alarms
@pytest.mark.parametrize("ai_service", ["bedrock", "sagemaker"])
def test_every_alert_publishes_to_the_topic_with_its_runbook(ai_service: str) -> None:
    run = run_component(lambda: SecurityAlarms("alarms", alarms_args(ai_service=ai_service)))
    alarms = {r.inputs["name"]: r.inputs for r in of(run, "aws:cloudwatch/metricAlarm:MetricAlarm")}
    rules = {r.inputs["name"]: r.inputs for r in of(run, "aws:cloudwatch/eventRule:EventRule")}
    assert set(alarms) | set(rules) == {f"unit-test-{n}" for n in alert_names(ai_service)}
    for spec in ALERTS[ai_service]:
        name = f"unit-test-{spec.name}"
        inputs = alarms.get(name) or rules[name]
        text = inputs.get("alarmDescription") or inputs["description"]
        assert f"Severity: {spec.severity}." in text
        assert text.endswith(f"Runbook: docs/incident-response.md#{spec.name}")
        assert inputs["tags"]["severity"] == spec.severity
        if name in alarms:
            assert inputs["alarmActions"] == [TOPIC]
            assert inputs["actionsEnabled"] is True
            assert inputs["treatMissingData"] == "notBreaching"
    target = one(run, "alarms-high-severity-finding-target").inputs
    assert target["arn"] == TOPIC and target["rule"] == "unit-test-high-severity-finding"


def test_filters_name_the_real_api_operations() -> None:
    run = run_component(lambda: SecurityAlarms("alarms", alarms_args()))
    patterns = {
        r.inputs["name"].removeprefix("unit-test-"): r.inputs["pattern"]
        for r in of(run, "aws:cloudwatch/logMetricFilter:LogMetricFilter")
    }
    for alert, operations in {
        "guardrail-tampering": ["DeleteGuardrail", "UpdateGuardrail"],
        "invocation-logging-disabled": [
            "DeleteModelInvocationLoggingConfiguration",
            "PutModelInvocationLoggingConfiguration",
            "StopLogging",
            "DeleteTrail",
        ],
        "key-tampering": ["DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy"],
        "workload-permissions-changed": ["PutRolePolicy", "AttachRolePolicy"],
        "private-network-changed": ["ModifyVpcEndpoint", "DeleteVpcEndpoints"],
        "secret-read-by-other-principal": ["GetSecretValue"],
    }.items():
        for operation in operations:
            assert f'($.eventName = "{operation}")' in patterns[alert], (alert, operation)
    assert (
        '$.requestParameters.roleName = "unit-test-workload"'
        in patterns["workload-permissions-changed"]
    )
    assert (
        '$.userIdentity.sessionContext.sessionIssuer.userName != "unit-test-workload"'
        in patterns["secret-read-by-other-principal"]
    )
    for metric_filter in of(run, "aws:cloudwatch/logMetricFilter:LogMetricFilter"):
        assert metric_filter.inputs["logGroupName"] == "audit-trail-logs-1234567"


def test_bedrock_metrics_and_sagemaker_endpoint_events() -> None:
    run = run_component(lambda: SecurityAlarms("alarms", alarms_args()))
    surge = one(run, "alarms-guardrail-intervention-surge").inputs
    assert (surge["namespace"], surge["metricName"]) == (
        "AWS/Bedrock/Guardrails",
        "InvocationsIntervened",
    )
    assert surge["dimensions"]["GuardrailVersion"] == "1"
    spike = one(run, "alarms-invocation-volume-spike").inputs
    models = [q["metric"]["dimensions"]["ModelId"] for q in spike["metricQueries"] if "metric" in q]
    assert models == ["anthropic.claude-3-haiku", "amazon.titan-embed-text-v2:0"]
    assert {q["metric"]["namespace"] for q in spike["metricQueries"] if "metric" in q} == {
        "AWS/Bedrock"
    }
    sm = run_component(
        lambda: SecurityAlarms("alarms", alarms_args(ai_service="sagemaker", models=()))
    )
    pattern = one(sm, "alarms-invocation-volume-spike-filter").inputs["pattern"]
    assert '($.eventName = "InvokeEndpoint")' in pattern
    assert one(sm, "alarms-invocation-volume-spike").inputs["threshold"] == 1000


def test_the_findings_rule_routes_high_severity_only() -> None:
    run = run_component(lambda: SecurityAlarms("alarms", alarms_args()))
    pattern = json.loads(one(run, "alarms-high-severity-finding").inputs["eventPattern"])
    guardduty, hub = pattern["$or"]
    assert guardduty["source"] == ["aws.guardduty"]
    assert guardduty["detail"]["severity"] == [{"numeric": [">=", 7]}]
    assert hub["detail"]["findings"]["Severity"]["Label"] == ["HIGH", "CRITICAL"]


def test_alarm_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="models"):
        SecurityAlarms("x", alarms_args(models=()))
    with pytest.raises(ValueError, match="thresholds"):
        SecurityAlarms("x", alarms_args(intervention_threshold=0))


# ------------------------------------------------------------------ SIEM export
def siem_run(**overrides: Any) -> MockRun:
    values: dict[str, Any] = {
        "role_name": "unit-test-siem-reader",
        "consumer_arn": SIEM,
        "log_bucket_arn": "arn:aws:s3:::unit-test-logs",
        "log_prefixes": ["cloudtrail/"],
        "logs_key_arn": KEY,
        "log_group_names": ["audit-trail-logs-1234567"],
        "tags": TAGS,
    }
    values.update(overrides)
    return run_component(lambda: SiemExport("siem", SiemExportArgs(**values)))


def test_siem_export_trusts_only_the_consumer_and_reads_only_logs() -> None:
    run = siem_run(external_id="ext-123")
    trust = policy(one(run, "siem-role"), "assumeRolePolicy")["Statement"]
    assert trust == [
        {
            "Sid": "TheSiemOnly",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"AWS": SIEM},
            "Condition": {"StringEquals": {"sts:ExternalId": "ext-123"}},
        }
    ]
    doc = policy(one(run, "siem-policy"))
    granted = {
        a
        for s in doc["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert granted == {
        "s3:ListBucket",
        "s3:GetObject",
        "kms:Decrypt",
        "logs:DescribeLogStreams",
        "logs:FilterLogEvents",
        "logs:GetLogEvents",
    }
    text = one(run, "siem-policy").inputs["policy"]
    assert (
        statement(text, "ReadTheLogFiles")["Resource"] == "arn:aws:s3:::unit-test-logs/cloudtrail/*"
    )
    assert statement(text, "ListTheLogPrefixes")["Condition"] == {
        "StringLike": {"s3:prefix": "cloudtrail/*"}
    }
    assert statement(text, "DecryptTheLogFilesThroughS3")["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    }


@pytest.mark.parametrize("consumer", [f"arn:aws:iam::{ACCOUNT}:root", "*", "central-siem"])
def test_siem_consumer_must_be_a_role_or_user(consumer: str) -> None:
    with pytest.raises(ValueError, match="siem_consumer"):
        SiemExport(
            "siem",
            SiemExportArgs(
                role_name="unit-test-siem-reader",
                consumer_arn=consumer,
                log_bucket_arn="arn:aws:s3:::unit-test-logs",
                log_prefixes=["cloudtrail/"],
                logs_key_arn=KEY,
                log_group_names=["audit-trail-logs-1234567"],
                tags=TAGS,
            ),
        )


# ------------------------------------------------------------------ generated projects
def test_shared_creates_no_singleton_and_siem_only_when_configured(
    aws_run: Callable[[str], MockRun],
) -> None:
    singletons = {
        "aws:guardduty/detector:Detector",
        "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan",
        "aws:securityhub/account:Account",
        "aws:accessanalyzer/analyzer:Analyzer",
    }
    shared = aws_run("shared-siem")
    assert not singletons & {r.type for r in shared.resources}
    # its own alerts and routes are still there, and the addresses are subscribed
    assert {r.inputs["name"] for r in of(shared, "aws:cloudwatch/eventRule:EventRule")} == {
        "aws-shared-siem-dev-high-severity-finding"
    }
    assert sorted(
        r.inputs["endpoint"] for r in of(shared, "aws:sns/topicSubscription:TopicSubscription")
    ) == ["oncall@example.org", "secops@example.com"]
    assert [r.name for r in shared.resources if r.type == "aiscaffold:aws:SiemExport"] == ["siem"]
    # the logs key lets the SIEM's role decrypt the log files through S3
    logs_key = policy(one(shared, "keys-logs"))
    auditors = statement(json.dumps(logs_key), "AuditorsReadLogFiles")
    assert auditors["Condition"]["ArnEquals"]["aws:PrincipalArn"].endswith(
        ":role/aws-shared-siem-dev-siem-reader"
    )
    defaults = aws_run("defaults")
    assert singletons <= {r.type for r in defaults.resources}
    assert not [r for r in defaults.resources if r.type == "aiscaffold:aws:SiemExport"]
    assert not of(defaults, "aws:sns/topicSubscription:TopicSubscription")


def _alarm_names(run: MockRun) -> set[str]:
    return {
        str(r.inputs["name"])
        for r in run.resources
        if r.type
        in ("aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/eventRule:EventRule")
    }


_ANCHOR = re.compile(r'<a id="([^"]+)"></a>')


@pytest.mark.parametrize("name", ["defaults", "sagemaker-confidential", "shared-siem"])
def test_playbook_and_program_name_the_same_alerts(
    name: str, aws_run: Callable[[str], MockRun], aws_project: Callable[[str], Path]
) -> None:
    run = aws_run(name)
    playbook = (aws_project(name) / "docs" / "incident-response.md").read_text(encoding="utf-8")
    prefix = f"aws-{name}-dev-"
    program = {n.removeprefix(prefix) for n in _alarm_names(run)}
    listed = set(re.findall(r"^### ([a-z-]+) \((?:high|medium|low|critical)\)$", playbook, re.M))
    assert program == listed
    anchors = set(_ANCHOR.findall(playbook))
    for resource in run.resources:
        text = resource.inputs.get("alarmDescription") or resource.inputs.get("description") or ""
        link = re.search(r"Runbook: docs/incident-response\.md#([a-z-]+)", str(text))
        if resource.type.startswith("aws:cloudwatch/") and link:
            assert link.group(1) in anchors, resource.name
    assert program <= anchors


# ------------------------------------------------------------------ policies
def _report(run: MockRun, project: Path, policy_id: str, **changes: Any) -> Any:
    """The evaluation of ``policy_id`` alone (deploy rules' findings left out)."""
    requirements = load_requirements(project)
    if changes:
        requirements = requirements.model_copy(update=changes)
    report = evaluate(run, only(requirements, policy_id))
    report.findings = [f for f in report.findings if f.policy == policy_id]
    return report


@pytest.fixture(scope="module")
def default(
    aws_run: Callable[[str], MockRun], aws_project: Callable[[str], Path]
) -> tuple[MockRun, Path]:
    return aws_run("defaults"), aws_project("defaults")


@pytest.mark.parametrize(
    "policy_id", ["AWS-DET-001", "AWS-DET-002", "AWS-DET-003", "AWS-DET-005", "AWS-DET-006"]
)
def test_the_default_project_passes(default: tuple[MockRun, Path], policy_id: str) -> None:
    report = _report(*default, policy_id)
    assert not report.violations and policy_id in report.passed


def test_det001_flags_a_suspended_detector_and_missing_standard(
    default: tuple[MockRun, Path],
) -> None:
    run, project = default
    weakened = patched(
        run, {"threat-detection-detector": {"enable": False}}, drop=["threat-detection-fsbp"]
    )
    assert flagged(_report(weakened, project, "AWS-DET-001"), "AWS-DET-001") == {
        "threat-detection-detector",
        STACK,
    }
    lambda_off = patched(run, drop=["threat-detection-lambda-network-logs"])
    assert flagged(_report(lambda_off, project, "AWS-DET-001"), "AWS-DET-001") == {STACK}
    shared = _report(weakened, project, "AWS-DET-001", account_services="shared")
    assert not shared.violations and "AWS-DET-001" not in shared.passed
    # An analyzer of unused access does not look for external access to the account.
    unused = patched(run, {"threat-detection-access-analyzer": {"type": "ACCOUNT_UNUSED_ACCESS"}})
    assert flagged(_report(unused, project, "AWS-DET-001"), "AWS-DET-001") == {
        "threat-detection-access-analyzer"
    }


def test_det002_judges_the_operations_and_the_route(default: tuple[MockRun, Path]) -> None:
    run, project = default
    # a filter that no longer watches DeleteGuardrail
    pattern = one(run, "security-alarms-guardrail-tampering-filter").inputs["pattern"]
    weakened = patched(
        run,
        {
            "security-alarms-guardrail-tampering-filter": {
                "pattern": pattern.replace('($.eventName = "DeleteGuardrail") || ', "")
            },
            # an alarm publishing nowhere
            "security-alarms-key-tampering": {"alarmActions": []},
        },
        drop=["security-alarms-private-network-changed"],
    )
    report = _report(weakened, project, "AWS-DET-002")
    messages = [f.message for f in report.violations if f.policy == "AWS-DET-002"]
    assert any("does not watch DeleteGuardrail" in m for m in messages)
    assert any("key-tampering" in m and "no alarm action" in m for m in messages)
    assert any(m == "no alarm private-network-changed" for m in messages)
    assert flagged(report, "AWS-DET-002") == {
        "security-alarms-guardrail-tampering",
        "security-alarms-key-tampering",
        STACK,
    }
    # the findings rule pointed at another topic
    rerouted = patched(
        run,
        {
            "security-alarms-high-severity-finding-target": {
                "arn": f"arn:aws:sns:us-east-1:{ACCOUNT}:elsewhere"
            }
        },
    )
    assert flagged(_report(rerouted, project, "AWS-DET-002"), "AWS-DET-002") == {
        "security-alarms-high-severity-finding"
    }


def test_det003_flags_an_alarm_without_action(default: tuple[MockRun, Path]) -> None:
    run, project = default
    weakened = patched(run, {"security-alarms-guardrail-tampering": {"actionsEnabled": False}})
    assert flagged(_report(weakened, project, "AWS-DET-003"), "AWS-DET-003") == {
        "security-alarms-guardrail-tampering"
    }


def test_det004_wants_every_answered_address(
    aws_run: Callable[[str], MockRun], aws_project: Callable[[str], Path]
) -> None:
    run, project = aws_run("shared-siem"), aws_project("shared-siem")
    assert not _report(run, project, "AWS-DET-004").violations
    missing = dataclasses.replace(
        run,
        resources=[
            r
            for r in run.resources
            if not (
                r.type == "aws:sns/topicSubscription:TopicSubscription"
                and r.inputs["endpoint"] == "oncall@example.org"
            )
        ],
    )
    report = _report(missing, project, "AWS-DET-004")
    assert [f.message for f in report.violations] == [
        "oncall@example.org is not subscribed to the alert topic"
    ]


def test_det005_wants_tls_only_publishing(default: tuple[MockRun, Path]) -> None:
    run, project = default
    text = json.loads(one(run, "alerts-topic-policy").inputs["policy"])
    text["Statement"] = [s for s in text["Statement"] if s["Effect"] != "Deny"]
    weakened = patched(run, {"alerts-topic-policy": {"policy": json.dumps(text)}})
    assert flagged(_report(weakened, project, "AWS-DET-005"), "AWS-DET-005") == {
        "alerts-topic-policy"
    }


def test_det006_wants_the_data_bucket_scanned(default: tuple[MockRun, Path]) -> None:
    run, project = default
    weakened = patched(run, drop=["threat-detection-malware-protection"])
    assert flagged(_report(weakened, project, "AWS-DET-006"), "AWS-DET-006") == {"data-bucket"}


def test_det007_judges_the_siem_role(
    aws_run: Callable[[str], MockRun], aws_project: Callable[[str], Path]
) -> None:
    run, project = aws_run("shared-siem"), aws_project("shared-siem")
    assert "AWS-DET-007" in _report(run, project, "AWS-DET-007").passed
    doc = json.loads(one(run, "siem-policy").inputs["policy"])
    doc["Statement"].append({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"})
    trust = json.loads(one(run, "siem-role").inputs["assumeRolePolicy"])
    trust["Statement"][0]["Principal"] = {"AWS": "arn:aws:iam::210987654321:root"}
    weakened = patched(
        run,
        {
            "siem-policy": {"policy": json.dumps(doc)},
            "siem-role": {"assumeRolePolicy": json.dumps(trust)},
        },
    )
    assert flagged(_report(weakened, project, "AWS-DET-007"), "AWS-DET-007") == {
        "siem-policy",
        "siem-role",
    }
    off = _report(aws_run("defaults"), aws_project("defaults"), "AWS-DET-007")
    assert not off.violations and "AWS-DET-007" not in off.passed
