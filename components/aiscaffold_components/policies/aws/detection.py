"""Detection and response: threat detection on, tampering alerts routed, SIEM export least-privilege.

Issue 15 item 6. "CloudTrail delivers to SNS" is judged as the trail delivering to
CloudWatch Logs (AWS-TRAIL-004) and the alarms on its events publishing to the alert
topic (AWS-DET-002): CloudTrail's own SNS notification announces log files, not events
(see ``aws/detection.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import (
    actions,
    as_list,
    bucket_refers_to,
    conditions,
    document,
    has_condition,
    of_type,
    principals,
    refers_to,
    statements,
    tail_name,
)
from .iam import ROLE, ROLE_POLICY, deploys_workload, policies_of, trusted_services
from .s3 import BUCKETS, REPLICATION, log_bucket_references

DETECTOR = "aws:guardduty/detector:Detector"
FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
MALWARE_PLAN = "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan"
HUB = "aws:securityhub/account:Account"
STANDARD = "aws:securityhub/standardsSubscription:StandardsSubscription"
ANALYZER = "aws:accessanalyzer/analyzer:Analyzer"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
TRAIL = "aws:cloudtrail/trail:Trail"

_FSBP = re.compile(
    r"arn:aws[a-z-]*:securityhub:[a-z0-9-]+::standards/"
    r"aws-foundational-security-best-practices/v/1\.0\.0"
)
_SHARED = (
    "the account's services are shared (account_services: shared): the stack owning them "
    "creates the GuardDuty detector, Security Hub and Access Analyzer"
)
#: GuardDuty severities: 7.0-8.9 high, 9.0-10.0 critical
#: (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html).
_HIGH_SEVERITY = 7


def _alerts(ai_service: str) -> tuple[Any, ...]:
    """The alert specs of the AI service (``aws.detection.ALERTS``), imported when a
    policy runs: importing the AWS components loads pulumi-aws."""
    from ...aws.detection import ALERTS

    return ALERTS.get(ai_service, ())


def _owned(resources: Sequence[Resource], requirements: Requirements) -> None:
    if requirements.account_services == "shared":
        raise NotApplicable(_SHARED)
    if not deploys_workload(resources):
        raise NotApplicable("the stack deploys no workload (a state backend, say)")


def _feature_name(feature: Resource) -> str:
    return str(feature.get("name", default=""))


@stack_policy(
    id="AWS-DET-001",
    title="Threat detection services on",
    severity="high",
    controls=["DET-01"],
    remediation="Create ThreatDetection (account_services: this-stack): an enabled GuardDuty "
    "detector with S3_DATA_EVENTS (and LAMBDA_NETWORK_LOGS, RUNTIME_MONITORING with "
    "ECS_FARGATE_AGENT_MANAGEMENT where the workload runs on Lambda or Fargate), Security Hub "
    "subscribed to AWS Foundational Security Best Practices v1.0.0, an ACCOUNT Access Analyzer.",
)
def threat_detection(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A stack owning the account's services runs GuardDuty (enabled, S3 data events on,
    Lambda network logs when a workload role trusts Lambda, Runtime Monitoring with the
    Fargate agent when one trusts ECS tasks), Security Hub with the AWS Foundational
    Security Best Practices standard, and an account (or organization) Access Analyzer.
    Not applicable with ``account_services: shared``."""
    _owned(resources, requirements)
    detectors = of_type(resources, DETECTOR)
    if not detectors:
        yield None, "no GuardDuty detector"
    for detector in detectors:
        if detector.get("enable", default=True) is not True:
            yield detector, f"{detector.name} is suspended (enable is false)"
    features = {_feature_name(f): f for f in of_type(resources, FEATURE)}
    services = {s for role in of_type(resources, ROLE) for s in trusted_services(role)}
    wanted: dict[str, tuple[str, ...]] = {"S3_DATA_EVENTS": ()}
    if "lambda.amazonaws.com" in services:
        wanted["LAMBDA_NETWORK_LOGS"] = ()
    if "ecs-tasks.amazonaws.com" in services:
        wanted["RUNTIME_MONITORING"] = ("ECS_FARGATE_AGENT_MANAGEMENT",)
    for name, extras in wanted.items():
        feature = features.get(name)
        if feature is None:
            yield None, f"GuardDuty feature {name} is not configured"
            continue
        if feature.get("status") != "ENABLED":
            yield feature, f"{feature.name} leaves {name} {feature.get('status')}"
        configured = {
            str(c.get("name")): c.get("status")
            for c in feature.items("additionalConfigurations")
            if isinstance(c, Mapping)
        }
        for extra in extras:
            if configured.get(extra) != "ENABLED":
                yield feature, f"{feature.name} does not enable {extra}"
    if not of_type(resources, HUB):
        yield None, "Security Hub is not enabled"
    if not any(
        _FSBP.fullmatch(str(s.get("standardsArn", default="")))
        for s in of_type(resources, STANDARD)
    ):
        yield (
            None,
            "Security Hub is not subscribed to AWS Foundational Security Best Practices v1.0.0",
        )
    analyzers = of_type(resources, ANALYZER)
    if not analyzers:
        yield None, "no IAM Access Analyzer"
    for analyzer in analyzers:
        kind = analyzer.get("type", default="ACCOUNT")
        if kind not in ("ACCOUNT", "ORGANIZATION"):
            yield analyzer, f"{analyzer.name} analyzes {kind}, not external access to the account"


@stack_policy(
    id="AWS-DET-006",
    title="Uploads to the data buckets are scanned for malware",
    severity="medium",
    controls=["DET-01"],
    remediation="Give ThreatDetection the data bucket (data_bucket_name/arn): a GuardDuty "
    "MalwareProtectionPlan with tagging ENABLED, as a role the bucket's key lets decrypt.",
)
def malware_protection(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Every bucket of the stack that is not a log bucket or a replica (REC-01) has a
    GuardDuty Malware Protection plan, which scans each new object and tags it with the verdict, so the
    workload never reads an unscanned upload as clean. Not applicable with
    ``account_services: shared``."""
    _owned(resources, requirements)
    audit, access = log_bucket_references(resources)
    logs = [*audit, *access]
    plans = of_type(resources, MALWARE_PLAN)
    for plan in plans:
        tagging = [
            t.get("status")
            for a in plan.items("actions")
            if isinstance(a, Mapping)
            for t in as_list(a.get("taggings"))
            if isinstance(t, Mapping)
        ]
        if "ENABLED" not in tagging:
            yield plan, f"{plan.name} does not tag scanned objects with the verdict"
        if not plan.get("role"):
            yield plan, f"{plan.name} names no role to scan as"
    # Replicas (REC-01) receive only objects replicated from a bucket scanned here; no
    # identity may upload into them.
    replicas = [
        rule["destination"].get("bucket")
        for config in of_type(resources, REPLICATION)
        for rule in config.items("rules")
        if isinstance(rule, Mapping) and isinstance(rule.get("destination"), Mapping)
    ]
    for bucket in of_type(resources, *BUCKETS):
        if any(bucket_refers_to(ref, bucket) for ref in logs):
            continue
        if any(bucket_refers_to(ref, bucket) for ref in replicas if isinstance(ref, str)):
            continue
        scanned = [
            p
            for p in plans
            if bucket_refers_to(p.get("protectedResource", "s3Bucket", "bucketName"), bucket)
        ]
        if not scanned:
            yield bucket, f"uploads to {bucket.name} are not scanned for malware"


# --------------------------------------------------------------------- alerts
def _topics(resources: Sequence[Resource]) -> list[Resource]:
    return of_type(resources, TOPIC)


def _routed(reference: Any, resources: Sequence[Resource]) -> str | None:
    """Why publishing to ``reference`` does not reach an encrypted topic of the stack."""
    topics = [t for t in _topics(resources) if refers_to(reference, t)]
    if not topics:
        return f"{reference or 'nothing'} is not the stack's alert topic"
    if not any(t.get("kmsMasterKeyId") for t in topics):
        return f"{topics[0].name} is not encrypted"
    return None


_EQUALS = re.compile(r'\$\.(eventSource|eventName)\s*=\s*"([^"]*)"')


def _watched(pattern: str) -> dict[str, set[str]]:
    """Event sources and names a filter pattern matches with ``=`` (``!=`` excluded)."""
    out: dict[str, set[str]] = {"eventSource": set(), "eventName": set()}
    for field, value in _EQUALS.findall(pattern):
        out[field].add(value)
    return out


def _alarm_findings(
    alarm: Resource, spec: Any, resources: Sequence[Resource], trail_groups: set[str]
) -> Iterator[str]:
    if alarm.get("actionsEnabled", default=True) is not True:
        yield f"{alarm.name} ({spec.name}) has its actions disabled"
    actions_ = [a for a in alarm.items("alarmActions") if a]
    if not actions_:
        yield f"{alarm.name} ({spec.name}) notifies no one (no alarm action)"
    for action in actions_:
        problem = _routed(action, resources)
        if problem:
            yield f"{alarm.name} ({spec.name}): {problem}"
    if f"#{spec.name}" not in str(alarm.get("alarmDescription", default="")):
        yield f"{alarm.name} ({spec.name}) carries no runbook link (#{spec.name})"
    threshold = alarm.get("threshold")
    operator = alarm.get("comparisonOperator")
    if operator not in ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold"):
        yield f"{alarm.name} ({spec.name}) alarms on {operator}, not on a rise"
    elif not isinstance(threshold, (int, float)) or threshold <= 0:
        yield f"{alarm.name} ({spec.name}) has no positive threshold ({threshold})"
    elif spec.operations and spec.name != "invocation-volume-spike" and threshold > 1:
        yield f"{alarm.name} ({spec.name}) waits for {threshold:g} events; one must alarm"
    if spec.operations:
        yield from _filter_findings(alarm, spec, resources, trail_groups)
    elif spec.name == "guardrail-intervention-surge":
        yield from _guardrail_metric_findings(alarm, spec)
    elif spec.name == "invocation-volume-spike":
        counted = []
        for query in alarm.items("metricQueries"):
            metric = query.get("metric") if isinstance(query, Mapping) else None
            if not isinstance(metric, Mapping):
                continue
            dimensions = metric.get("dimensions") or {}
            if (metric.get("namespace"), metric.get("metricName")) == (
                "AWS/Bedrock",
                "Invocations",
            ) and dimensions.get("ModelId"):
                counted.append(metric)
        if not counted:
            yield f"{alarm.name} ({spec.name}) counts no model's AWS/Bedrock Invocations"


def _guardrail_metric_findings(alarm: Resource, spec: Any) -> Iterator[str]:
    """The guardrail metric with the dimensions Bedrock publishes it under: without them
    the alarm watches a metric that never has data."""
    metric = (alarm.get("namespace"), alarm.get("metricName"))
    if metric != ("AWS/Bedrock/Guardrails", "InvocationsIntervened"):
        yield f"{alarm.name} ({spec.name}) watches {metric[0]} {metric[1]}, not InvocationsIntervened"
    dimensions = alarm.get("dimensions", default={})
    for key in ("GuardrailArn", "GuardrailVersion"):
        if not (isinstance(dimensions, Mapping) and dimensions.get(key)):
            yield f"{alarm.name} ({spec.name}) names no {key}: the metric it watches has no data"


def _filter_findings(
    alarm: Resource, spec: Any, resources: Sequence[Resource], trail_groups: set[str]
) -> Iterator[str]:
    metric = (alarm.get("namespace"), alarm.get("metricName"))
    filters = [
        f
        for f in of_type(resources, METRIC_FILTER)
        if (f.get("metricTransformation", "namespace"), f.get("metricTransformation", "name"))
        == metric
    ]
    if not filters:
        yield f"{alarm.name} ({spec.name}) counts no metric filter's events"
        return
    for metric_filter in filters:
        group = str(metric_filter.get("logGroupName", default=""))
        if tail_name(group) not in trail_groups:
            yield f"{metric_filter.name} ({spec.name}) reads {group or 'no log group'}, not the trail's"
        if str(metric_filter.get("metricTransformation", "value", default="")) != "1":
            yield f"{metric_filter.name} ({spec.name}) does not count each event as 1"
        watched = _watched(str(metric_filter.get("pattern", default="")))
        for source, names in spec.operations.items():
            if source not in watched["eventSource"]:
                yield f"{metric_filter.name} ({spec.name}) does not watch {source}"
            missing = sorted(set(names) - watched["eventName"])
            if missing:
                yield f"{metric_filter.name} ({spec.name}) does not watch {', '.join(missing)}"


def _pattern_findings(rule: Resource) -> Iterator[str]:
    try:
        pattern = json.loads(str(rule.get("eventPattern", default="{}")))
    except ValueError:
        yield f"{rule.name} has no valid event pattern"
        return
    branches = [b for b in as_list(pattern.get("$or", pattern)) if isinstance(b, Mapping)]
    guardduty = [b for b in branches if "aws.guardduty" in as_list(b.get("source"))]
    hub = [b for b in branches if "aws.securityhub" in as_list(b.get("source"))]
    if not guardduty:
        yield f"{rule.name} does not route GuardDuty findings"
    for branch in guardduty:
        bounds = [
            float(c["numeric"][1])
            for c in as_list(branch.get("detail", {}).get("severity"))
            if isinstance(c, Mapping) and c.get("numeric", [None])[0] in (">=", ">")
        ]
        if not bounds or min(bounds) > _HIGH_SEVERITY:
            yield f"{rule.name} leaves out GuardDuty findings of severity {_HIGH_SEVERITY} and more"
    if not hub:
        yield f"{rule.name} does not route Security Hub findings"
    for branch in hub:
        labels = set(
            as_list(branch.get("detail", {}).get("findings", {}).get("Severity", {}).get("Label"))
        )
        if not {"HIGH", "CRITICAL"} <= labels:
            yield f"{rule.name} leaves out Security Hub findings labelled HIGH or CRITICAL"


def _rule_findings(rule: Resource, spec: Any, resources: Sequence[Resource]) -> Iterator[str]:
    if rule.get("state", default="ENABLED") != "ENABLED":
        yield f"{rule.name} ({spec.name}) is {rule.get('state')}"
    if f"#{spec.name}" not in str(rule.get("description", default="")):
        yield f"{rule.name} ({spec.name}) carries no runbook link (#{spec.name})"
    yield from _pattern_findings(rule)
    targets = [t for t in of_type(resources, TARGET) if refers_to(t.get("rule"), rule)]
    if not targets:
        yield f"{rule.name} ({spec.name}) has no target"
    for target in targets:
        problem = _routed(target.get("arn"), resources)
        if problem:
            yield f"{target.name} ({spec.name}): {problem}"


def _named(resources: Sequence[Resource], type_: str, alert: str) -> list[Resource]:
    return [
        r for r in of_type(resources, type_) if str(r.get("name", default="")).endswith(f"-{alert}")
    ]


@stack_policy(
    id="AWS-DET-002",
    title="Every tampering and misuse alert exists and reaches the alert channel",
    severity="high",
    controls=["DET-03", "DET-02"],
    remediation="Create SecurityAlarms with the alert topic and the trail's log group: one "
    "alarm (or findings rule) per alert of aws.detection.ALERTS, each watching the operations "
    "listed there, with a runbook link and the encrypted alert topic as its action.",
)
def tampering_alerts(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Each alert of the AI service (guardrail tampering, invocation logging disabled,
    key tampering, workload permissions changed, private network changed, secret read by
    another principal, guardrail intervention surge, invocation volume spike, high-severity
    findings) exists under its name, carries its runbook link, alarms on a rise (one event
    for tampering), and publishes to an encrypted topic of the stack. Trail alerts are
    judged by their metric filter: on the trail's CloudWatch log group, counting every
    API operation the alert names; the findings rule by its event pattern (GuardDuty
    severity 7 and more, Security Hub HIGH and CRITICAL) and its target."""
    if not deploys_workload(resources):
        raise NotApplicable("the stack deploys no workload (a state backend, say)")
    specs = _alerts(requirements.ai_service)
    if not specs:
        raise NotApplicable(f"no alerts are defined for {requirements.ai_service}")
    trail_groups = {
        tail_name(str(t.get("cloudWatchLogsGroupArn", default="")))
        for t in of_type(resources, TRAIL)
        if t.get("cloudWatchLogsGroupArn")
    }
    for spec in specs:
        if spec.name == "high-severity-finding":
            rules = _named(resources, RULE, spec.name)
            if not rules:
                yield None, f"no EventBridge rule routes high-severity findings ({spec.name})"
            for rule in rules:
                for message in _rule_findings(rule, spec, resources):
                    yield rule, message
            continue
        alarms = _named(resources, ALARM, spec.name)
        if not alarms:
            yield None, f"no alarm {spec.name}"
        for alarm in alarms:
            for message in _alarm_findings(alarm, spec, resources, trail_groups):
                yield alarm, message


@resource_policy(
    id="AWS-DET-003",
    title="No alarm without an action",
    severity="high",
    types=[ALARM],
    controls=["DET-02"],
    remediation="Give the alarm alarm_actions=[<alert topic ARN>] and keep actions_enabled.",
)
def alarm_has_action(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """An alarm that notifies no one is a dashboard, not an alert: every CloudWatch alarm
    has an alarm action and its actions enabled."""
    if not [a for a in resource.items("alarmActions") if a]:
        yield f"{resource.name} has no alarm action"
    if resource.get("actionsEnabled", default=True) is not True:
        yield f"{resource.name} has its actions disabled"


@stack_policy(
    id="AWS-DET-004",
    title="The alert channel delivers to every answered address",
    severity="medium",
    controls=["DET-02"],
    remediation="Pass the answers' alert_emails to AlertChannelArgs.emails: one email "
    "subscription per address (each must confirm).",
)
def alert_subscriptions(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Every address of ``alert_emails`` has an ``email`` subscription to the alert topic.
    Not applicable when none was answered (subscriptions are then added by hand)."""
    if not requirements.alert_emails:
        raise NotApplicable(
            "no alert_emails answered: subscribe to the alert topic by hand (README.md, Alerts)"
        )
    topics = _topics(resources)
    if not topics:
        yield None, "the stack has no alert topic"
        return
    subscribed = {
        str(s.get("endpoint", default="")).lower()
        for s in of_type(resources, SUBSCRIPTION)
        if s.get("protocol") == "email" and any(refers_to(s.get("topic"), t) for t in topics)
    }
    for address in requirements.alert_emails:
        if address.lower() not in subscribed:
            yield None, f"{address} is not subscribed to the alert topic"


@stack_policy(
    id="AWS-DET-005",
    title="Alert topics take TLS only, from this account's alarms and rules",
    severity="medium",
    controls=["DET-02"],
    remediation="Give the topic a TopicPolicy (AlertChannel does): Deny sns:Publish when "
    "aws:SecureTransport is false; Allow cloudwatch.amazonaws.com and events.amazonaws.com "
    "sns:Publish with aws:SourceAccount.",
)
def topic_policy(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Each alert topic (a topic an alarm or an EventBridge rule of the stack publishes
    to) has a policy that denies publishing without TLS, lets CloudWatch alarms and
    EventBridge rules publish (EventBridge cannot deliver otherwise) only for this
    account (``aws:SourceAccount`` or ``aws:SourceArn``), and grants nothing to anyone
    unconditionally."""
    senders = [
        reference
        for alarm in of_type(resources, ALARM)
        for reference in alarm.items("alarmActions")
    ] + [target.get("arn") for target in of_type(resources, TARGET)]
    alert_topics = [t for t in _topics(resources) if any(refers_to(r, t) for r in senders)]
    if not alert_topics:
        raise NotApplicable("no alarm or EventBridge rule of the stack publishes to a topic")
    for topic in alert_topics:
        policies = [p for p in of_type(resources, TOPIC_POLICY) if refers_to(p.get("arn"), topic)]
        if not policies:
            yield topic, f"{topic.name} has no topic policy"
            continue
        for policy in policies:
            doc = document(policy, "policy")
            tls = [
                s
                for s in statements(doc, "Deny")
                if "*" in principals(s).get("*", principals(s).get("AWS", []))
                and any(a.lower() in ("sns:publish", "sns:*", "*") for a in actions(s))
                and "false" in conditions(s).get("Bool", {}).get("aws:securetransport", [])
            ]
            if not tls:
                yield policy, f"{policy.name} does not deny publishing without TLS"
            publishers: set[str] = set()
            for st in statements(doc, "Allow"):
                found = principals(st)
                if "*" in found or "*" in found.get("AWS", []):
                    yield policy, f"{policy.name} lets anyone publish"
                scoped = has_condition(st, "aws:SourceAccount", "aws:SourceArn")
                for service in found.get("Service", []):
                    if not scoped:
                        yield policy, f"{policy.name} lets {service} publish for any account"
                    elif any(a.lower() in ("sns:publish", "sns:*") for a in actions(st)):
                        publishers.add(service)
            for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
                if service not in publishers:
                    yield policy, f"{policy.name} does not let {service} publish alerts"


# --------------------------------------------------------------------- SIEM export
#: What the SIEM's role may do: read log objects and log events, decrypt through S3.
_SIEM_ACTIONS = {
    "s3:listbucket",
    "s3:getobject",
    "kms:decrypt",
    "logs:describelogstreams",
    "logs:filterlogevents",
    "logs:getlogevents",
}
_PRINCIPAL = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/.+")


def _siem_roles(resources: Sequence[Resource]) -> list[Resource]:
    return [r for r in of_type(resources, ROLE) if "aiscaffold:aws:SiemExport" in (r.parent or "")]


def _siem_statement_findings(name: str, st: Mapping[str, Any]) -> Iterator[str]:
    granted = {a.lower() for a in actions(st)}
    extra = sorted(granted - _SIEM_ACTIONS)
    if extra:
        yield f"{name} grants {', '.join(extra)}: the SIEM only reads"
    resources_ = [str(r) for r in as_list(st.get("Resource"))]
    if not resources_ or "*" in resources_:
        yield f"{name} grants on every resource"
    if "s3:getobject" in granted:
        broad = [r for r in resources_ if re.fullmatch(r"arn:[^:]+:s3:::[^/]+/\*", r)]
        if broad:
            yield f"{name} reads every object of {', '.join(broad)}, not the log prefixes"
    if "s3:listbucket" in granted and not has_condition(st, "s3:prefix"):
        yield f"{name} lists the whole bucket (no s3:prefix condition)"
    if "kms:decrypt" in granted and not has_condition(st, "kms:ViaService"):
        yield f"{name} decrypts outside S3 (no kms:ViaService condition)"


@stack_policy(
    id="AWS-DET-007",
    title="The SIEM reads the project's logs, nothing more",
    severity="high",
    controls=["DET-04"],
    remediation="Create the export with SiemExport (stack config siem_consumer): trust the "
    "SIEM's role ARN only; read-only grants on the log prefixes, the logs key through S3 and "
    "the project's log groups.",
)
def siem_least_privilege(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """The SIEM export's role trusts one named IAM role or user (not an account, not
    anyone) and may only list and read the log prefixes, decrypt through S3 and read the
    project's log groups. Not applicable while the export is off (no ``siem_consumer``)."""
    roles = _siem_roles(resources)
    if not roles:
        raise NotApplicable("the SIEM export is off (stack config siem_consumer is not set)")
    for role in roles:
        trust = statements(document(role, "assumeRolePolicy"), "Allow")
        if not trust:
            yield role, f"{role.name} trusts no one"
        for st in trust:
            found = principals(st)
            others = sorted(set(found) - {"AWS"})
            if others:
                yield role, f"{role.name} trusts {', '.join(others)} principals"
            for principal in found.get("AWS", []):
                if not _PRINCIPAL.fullmatch(principal):
                    yield role, f"{role.name} trusts {principal}, not one named role"
        policies = policies_of(role, resources)
        if not policies:
            yield role, f"{role.name} has no policy to read the logs with"
        for policy in of_type(policies, ROLE_POLICY):
            for st in statements(document(policy, "policy"), "Allow"):
                for message in _siem_statement_findings(policy.name, st):
                    yield policy, message
