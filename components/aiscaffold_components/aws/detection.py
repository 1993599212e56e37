"""Detection and response: threat detection, alerts on AI tampering, SIEM export (DET-01..04).

Three components, each reading what the project already writes:

- :class:`ThreatDetection` (DET-01, DET-02): the account's threat detection services,
  created only by the stack that owns the account's services (``account_services:
  this-stack``; the program decides, the component creates what it is asked to):
  a GuardDuty detector with the protections the workload needs, GuardDuty Malware
  Protection for S3 on the data bucket, Security Hub with the AWS Foundational Security
  Best Practices standard, and an IAM Access Analyzer for the account.
- :class:`SecurityAlarms` (DET-02, DET-03): one alert per tampering or misuse scenario,
  each with a stable name (:data:`ALERTS`), a severity and a runbook link into the
  generated project's ``docs/incident-response.md``, each routed to the alert channel.
  Management-plane tampering is read from the trail's CloudWatch Logs copy (metric
  filter + alarm); misuse from the services' own metrics; high-severity findings of
  GuardDuty and Security Hub from EventBridge. The findings route is created whoever
  owns the detectors: findings land on the account's default event bus either way.
- :class:`SiemExport` (DET-04, off unless asked): a role a central SIEM assumes, which
  may read the trail's files and the project's log groups and nothing else.

Why alarms on the trail's CloudWatch Logs copy rather than CloudTrail's own SNS
notification (issue 15 item 6, "CloudTrail delivers to SNS"): CloudTrail notifies SNS
once per log file it delivers, every few minutes, whatever the file holds
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/configure-sns-notifications-for-cloudtrail.html):
on a channel people read that is noise which buries the alerts, and it says nothing
about what happened. The trail delivers every event to CloudWatch Logs (AuditLogging,
AWS-TRAIL-004 judges it), metric filters pick the operations that matter, and alarms
publish those to the alert topic; AWS-DET-002 judges that each alarm watches the right
operations and reaches the topic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws
import pulumiverse_time

from ._common import Statement, aws_context, policy_json, same_account
from .audit import IAM_PROPAGATION_WAIT

__all__ = [
    "ALERTS",
    "ALERT_METRIC_NAMESPACE",
    "FSBP_STANDARD",
    "METRIC_FILTER_SYNTAX",
    "AlertSpec",
    "SecurityAlarms",
    "SecurityAlarmsArgs",
    "SiemExport",
    "SiemExportArgs",
    "ThreatDetection",
    "ThreatDetectionArgs",
    "alert_names",
    "runbook_link",
]

#: CloudWatch Logs filter pattern syntax for JSON log events (CloudTrail's):
#: ``{ ($.eventSource = "...") && ($.eventName = "...") }``, ``||``, ``!=``, ``*``.
METRIC_FILTER_SYNTAX = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html"
)
#: Security Hub's CloudWatch controls (CloudWatch.1-14) are the model of these filters:
#: a metric filter on the trail's log group and an alarm with an SNS action.
CLOUDWATCH_CONTROLS = (
    "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html"
)
#: Where the metric filters publish (one metric per alert).
ALERT_METRIC_NAMESPACE = "aiscaffold/Security"
#: The AWS Foundational Security Best Practices standard, v1.0.0: its ARN names the
#: region but no account (the standards table of
#: https://docs.aws.amazon.com/securityhub/latest/userguide/standards-reference.html and
#: the provider's StandardsSubscription page).
FSBP_STANDARD = "standards/aws-foundational-security-best-practices/v/1.0.0"

Severity = Literal["critical", "high", "medium", "low"]
AiService = Literal["bedrock", "sagemaker"]


@dataclass(frozen=True)
class AlertSpec:
    """One alert: its name (the suffix after the project prefix), what it watches."""

    name: str
    severity: Severity
    summary: str
    operations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Event source -> API operations a trail metric filter counts (empty: a metric
    alarm or a findings rule)."""
    source: str = ""
    """Documentation naming the operations, metrics or events."""


# Each operation name below is the eventName CloudTrail records for the API call of the
# same name (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
_BEDROCK_API = (
    "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_Operations_Amazon_Bedrock.html"
)
_KMS_API = "https://docs.aws.amazon.com/kms/latest/APIReference/API_Operations.html"
_IAM_API = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_Operations.html"
_EC2_API = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/OperationList-query-vpc.html"
_TRAIL_API = "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_Operations.html"
_SECRETS_API = (
    "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html"
)
_GUARDRAIL_METRICS = (
    "https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-guardrails-cw-metrics.html"
)
_BEDROCK_METRICS = "https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring.html#runtime-cloudwatch-metrics"
_SAGEMAKER_EVENTS = "https://docs.aws.amazon.com/sagemaker/latest/dg/logging-using-cloudtrail.html"
_FINDINGS = (
    "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html; "
    "https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-cwe-event-formats.html"
)

#: Trail operations that stop or narrow the record of every call (and so of model calls:
#: SageMaker endpoint invocations are the trail's data events).
_TRAIL_TAMPERING = ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors")


def _alerts(ai_service: AiService) -> tuple[AlertSpec, ...]:
    logging_ops: dict[str, tuple[str, ...]] = {"cloudtrail.amazonaws.com": _TRAIL_TAMPERING}
    if ai_service == "bedrock":
        logging_ops["bedrock.amazonaws.com"] = (
            "DeleteModelInvocationLoggingConfiguration",
            "PutModelInvocationLoggingConfiguration",
        )
    volume = (
        AlertSpec(
            "invocation-volume-spike",
            "medium",
            "Bedrock model invocations (AWS/Bedrock Invocations, summed over the project's "
            "models) above the threshold in five minutes: abuse of the workload or stolen "
            "credentials running up cost.",
            source=_BEDROCK_METRICS,
        )
        if ai_service == "bedrock"
        else AlertSpec(
            "invocation-volume-spike",
            "medium",
            "SageMaker AI endpoint invocations (the trail's InvokeEndpoint data events) above "
            "the threshold in five minutes: abuse of an endpoint or stolen credentials.",
            operations={
                "sagemaker.amazonaws.com": (
                    "InvokeEndpoint",
                    "InvokeEndpointAsync",
                    "InvokeEndpointWithResponseStream",
                )
            },
            source=_SAGEMAKER_EVENTS,
        )
    )
    return (
        AlertSpec(
            "guardrail-tampering",
            "high",
            "The Bedrock guardrail was deleted or changed (DeleteGuardrail, UpdateGuardrail).",
            operations={"bedrock.amazonaws.com": ("DeleteGuardrail", "UpdateGuardrail")},
            source=_BEDROCK_API,
        ),
        AlertSpec(
            "invocation-logging-disabled",
            "high",
            (
                "Model invocation logging was deleted or replaced, or the trail stopped or "
                "narrowed."
                if ai_service == "bedrock"
                else "The trail (which records the endpoints' invocations) stopped or narrowed."
            ),
            operations=logging_ops,
            source=f"{_BEDROCK_API}; {_TRAIL_API}" if ai_service == "bedrock" else _TRAIL_API,
        ),
        AlertSpec(
            "key-tampering",
            "high",
            "A KMS key of the account was disabled, scheduled for deletion, lost its rotation "
            "or got a new key policy.",
            operations={
                "kms.amazonaws.com": (
                    "DisableKey",
                    "ScheduleKeyDeletion",
                    "PutKeyPolicy",
                    "DisableKeyRotation",
                )
            },
            source=_KMS_API,
        ),
        AlertSpec(
            "workload-permissions-changed",
            "high",
            "The workload role's permissions or trust changed.",
            operations={
                "iam.amazonaws.com": (
                    "PutRolePolicy",
                    "DeleteRolePolicy",
                    "AttachRolePolicy",
                    "DetachRolePolicy",
                    "UpdateAssumeRolePolicy",
                    "PutRolePermissionsBoundary",
                    "DeleteRolePermissionsBoundary",
                )
            },
            source=_IAM_API,
        ),
        AlertSpec(
            "private-network-changed",
            "high",
            "A VPC endpoint, route, gateway or security group rule of the account changed: "
            "the private path to the AI service may now lead elsewhere.",
            operations={
                "ec2.amazonaws.com": (
                    "ModifyVpcEndpoint",
                    "DeleteVpcEndpoints",
                    "CreateRoute",
                    "ReplaceRoute",
                    "AttachInternetGateway",
                    "CreateNatGateway",
                    "AuthorizeSecurityGroupEgress",
                    "AuthorizeSecurityGroupIngress",
                )
            },
            source=_EC2_API,
        ),
        AlertSpec(
            "secret-read-by-other-principal",
            "high",
            "A secret of the project was read (GetSecretValue) by a principal other than the "
            "workload role.",
            operations={"secretsmanager.amazonaws.com": ("GetSecretValue",)},
            source=_SECRETS_API,
        ),
        AlertSpec(
            "guardrail-intervention-surge",
            "medium",
            "The guardrail intervened (AWS/Bedrock/Guardrails InvocationsIntervened) more "
            "often than the threshold in five minutes: a prompt-injection or jailbreak "
            "campaign, or content the application should not send. Prompt attacks are one "
            "content filter of the guardrail's ContentPolicy: the metrics do not count them "
            "apart, so there is no separate prompt-attack-surge alert.",
            source=_GUARDRAIL_METRICS,
        ),
        volume,
        AlertSpec(
            "high-severity-finding",
            "high",
            "GuardDuty finding of severity 7 or more, or Security Hub finding labelled HIGH "
            "or CRITICAL (GuardDuty's own findings only once, directly).",
            source=_FINDINGS,
        ),
    )


#: The alerts of each AI service, by name.
ALERTS: Mapping[str, tuple[AlertSpec, ...]] = {
    "bedrock": _alerts("bedrock"),
    "sagemaker": _alerts("sagemaker"),
}


def alert_names(ai_service: str) -> tuple[str, ...]:
    """The alert names (suffixes after the project prefix) of an AI service."""
    return tuple(spec.name for spec in ALERTS[ai_service])


def runbook_link(runbook: str, alert: str) -> str:
    """The playbook section of an alert: ``<runbook>#<alert>``."""
    return f"{runbook}#{alert}"


def _filter_pattern(operations: Mapping[str, tuple[str, ...]], extra: Sequence[str] = ()) -> str:
    """A CloudWatch Logs JSON filter pattern matching the operations (METRIC_FILTER_SYNTAX)."""
    sources = []
    for source, names in operations.items():
        ops = " || ".join(f'($.eventName = "{op}")' for op in names)
        sources.append(f'(($.eventSource = "{source}") && ({ops}))')
    clause = " || ".join(sources)
    if extra:
        clause = f"({clause}) && " + " && ".join(extra)
    return "{ " + clause + " }"


# --------------------------------------------------------------------- ThreatDetection
#: GuardDuty Malware Protection for S3: the service principal its role trusts and the
#: role policy the guide gives
#: (https://docs.aws.amazon.com/guardduty/latest/ug/malware-protection-s3-iam-policy-prerequisite.html).
MALWARE_PROTECTION_PRINCIPAL = "malware-protection-plan.guardduty.amazonaws.com"
#: The EventBridge rule GuardDuty manages for the plan (its name prefix, per the guide).
_MANAGED_RULE = "rule/DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*"


@dataclass(frozen=True)
class ThreatDetectionArgs:
    """Arguments of :class:`ThreatDetection`."""

    name_prefix: str
    """Names: ``<name_prefix>-malware-scan`` (role), ``<name_prefix>-access`` (analyzer)."""
    tags: Mapping[str, str]
    data_bucket_name: pulumi.Input[str] | None = None
    """The bucket GuardDuty Malware Protection for S3 scans on upload (None: no plan)."""
    data_bucket_arn: pulumi.Input[str] | None = None
    data_key_arn: pulumi.Input[str] | None = None
    """The bucket's KMS key: the scan role decrypts objects through S3 with it. The key's
    policy must also allow the role (``KeysArgs.malware_scan_role_arns``)."""
    zone_buckets: Mapping[str, tuple[pulumi.Input[str], pulumi.Input[str]]] = field(
        default_factory=dict
    )
    """More buckets encrypted with ``data_key_arn`` to scan on upload, by label
    (``raw``, ``model``): ``(name, arn)``. Each gets its own plan and a role named
    ``<name_prefix>-malware-scan-<label>`` (GOV-07's data zones)."""
    on_lambda: bool = False
    """The workload runs on Lambda: GuardDuty watches the functions' network activity
    (LAMBDA_NETWORK_LOGS)."""
    on_fargate: bool = False
    """The workload runs on ECS with Fargate: GuardDuty Runtime Monitoring with its
    managed agent for Fargate (RUNTIME_MONITORING + ECS_FARGATE_AGENT_MANAGEMENT)."""
    finding_publishing_frequency: Literal["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"] = (
        "FIFTEEN_MINUTES"
    )
    """How often GuardDuty sends updates of existing findings to EventBridge (new
    findings go at once)."""


class ThreatDetection(pulumi.ComponentResource):
    """GuardDuty (with S3, Lambda, runtime and S3 malware protection), Security Hub with
    the AWS Foundational Security Best Practices standard, IAM Access Analyzer.

    Account and region singletons: a second detector or Security Hub in the same account
    and region fails to create ("The request is rejected because a detector already
    exists for the current account" / "Account is already subscribed to Security Hub");
    AWS-DEPLOY-004 reports them as account-wide, and the README says how to import them.
    """

    detector: aws.guardduty.Detector
    detector_id: pulumi.Output[str]
    features: dict[str, aws.guardduty.DetectorFeature]
    security_hub: aws.securityhub.Account
    analyzer_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ThreatDetectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if (args.data_bucket_name is None) != (args.data_bucket_arn is None) or (
            args.data_bucket_name is None and args.data_key_arn is not None
        ):
            raise ValueError("data_bucket_name and data_bucket_arn go together (and the key)")
        super().__init__("aiscaffold:aws:ThreatDetection", name, None, opts)
        ctx = aws_context(self)
        child = pulumi.ResourceOptions(parent=self)
        self.detector = aws.guardduty.Detector(
            f"{name}-detector",
            enable=True,
            finding_publishing_frequency=args.finding_publishing_frequency,
            tags=dict(args.tags),
            opts=child,
        )
        # Features by name (the GuardDuty API's DetectorFeature enum; checked against
        # botocore's model by the API model tests).
        wanted: dict[str, list[aws.guardduty.DetectorFeatureAdditionalConfigurationArgsDict]] = {
            "S3_DATA_EVENTS": []
        }
        if args.on_lambda:
            wanted["LAMBDA_NETWORK_LOGS"] = []
        if args.on_fargate:
            wanted["RUNTIME_MONITORING"] = [
                {"name": "ECS_FARGATE_AGENT_MANAGEMENT", "status": "ENABLED"}
            ]
        self.features = {}
        for feature, extra in wanted.items():
            self.features[feature] = aws.guardduty.DetectorFeature(
                f"{name}-{feature.lower().replace('_', '-')}",
                detector_id=self.detector.id,
                name=feature,
                status="ENABLED",
                additional_configurations=extra or None,
                opts=child,
            )
        if args.data_bucket_name is not None and args.data_bucket_arn is not None:
            managed_rule = ctx.arn("events", _MANAGED_RULE)
            self._malware_protection(
                name, args, managed_rule, "", args.data_bucket_name, args.data_bucket_arn
            )
            for label, (bucket_name, bucket_arn) in args.zone_buckets.items():
                self._malware_protection(
                    name, args, managed_rule, f"-{label}", bucket_name, bucket_arn
                )
        self.security_hub = aws.securityhub.Account(
            f"{name}-security-hub",
            # The standard is subscribed explicitly below; the defaults would add CIS.
            enable_default_standards=False,
            auto_enable_controls=True,
            control_finding_generator="SECURITY_CONTROL",
            opts=child,
        )
        aws.securityhub.StandardsSubscription(
            f"{name}-fsbp",
            standards_arn=pulumi.Output.concat(
                "arn:", ctx.partition, ":securityhub:", ctx.region, "::", FSBP_STANDARD
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.security_hub]),
        )
        analyzer = aws.accessanalyzer.Analyzer(
            f"{name}-access-analyzer",
            analyzer_name=f"{args.name_prefix}-access",
            type="ACCOUNT",
            tags=dict(args.tags),
            opts=child,
        )
        self.detector_id = self.detector.id
        self.analyzer_arn = analyzer.arn
        self.register_outputs({"detector_id": self.detector_id, "analyzer_arn": self.analyzer_arn})

    def _malware_protection(
        self,
        name: str,
        args: ThreatDetectionArgs,
        managed_rule: pulumi.Output[str],
        suffix: str,
        bucket_name: pulumi.Input[str],
        bucket_arn: pulumi.Input[str],
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        ctx = aws_context(self)
        role = aws.iam.Role(
            f"{name}-malware-scan{suffix}",
            name=f"{args.name_prefix}-malware-scan{suffix}",
            description="GuardDuty Malware Protection for S3 scans the data bucket (aiscaffold)",
            assume_role_policy=policy_json(
                [
                    {
                        "sid": "MalwareProtectionOfThisAccount",
                        "effect": "Allow",
                        "principals": [
                            {"type": "Service", "identifiers": [MALWARE_PROTECTION_PRINCIPAL]}
                        ],
                        "actions": ["sts:AssumeRole"],
                        "conditions": [same_account(ctx.account_id)],
                    }
                ],
                parent=self,
            ),
            max_session_duration=3600,
            tags=dict(args.tags),
            opts=child,
        )
        objects = pulumi.Output.concat(bucket_arn, "/*")
        statements: list[Statement] = [
            {
                "sid": "AllowManagedRuleToSendS3EventsToGuardDuty",
                "effect": "Allow",
                "actions": [
                    "events:PutRule",
                    "events:DeleteRule",
                    "events:PutTargets",
                    "events:RemoveTargets",
                ],
                "resources": [managed_rule],
                "conditions": [
                    {
                        "test": "StringLike",
                        "variable": "events:ManagedBy",
                        "values": [MALWARE_PROTECTION_PRINCIPAL],
                    }
                ],
            },
            {
                "sid": "AllowGuardDutyToMonitorEventBridgeManagedRule",
                "effect": "Allow",
                "actions": ["events:DescribeRule", "events:ListTargetsByRule"],
                "resources": [managed_rule],
            },
            {
                "sid": "AllowPostScanTag",
                "effect": "Allow",
                "actions": [
                    "s3:PutObjectTagging",
                    "s3:GetObjectTagging",
                    "s3:PutObjectVersionTagging",
                    "s3:GetObjectVersionTagging",
                ],
                "resources": [objects],
            },
            {
                "sid": "AllowEnableS3EventBridgeEvents",
                "effect": "Allow",
                "actions": ["s3:PutBucketNotification", "s3:GetBucketNotification"],
                "resources": [bucket_arn],
            },
            {
                "sid": "AllowPutValidationObject",
                "effect": "Allow",
                "actions": ["s3:PutObject"],
                "resources": [
                    pulumi.Output.concat(
                        bucket_arn, "/malware-protection-resource-validation-object"
                    )
                ],
            },
            {
                "sid": "AllowCheckBucketOwnership",
                "effect": "Allow",
                "actions": ["s3:ListBucket"],
                "resources": [bucket_arn],
            },
            {
                "sid": "AllowMalwareScan",
                "effect": "Allow",
                "actions": ["s3:GetObject", "s3:GetObjectVersion"],
                "resources": [objects],
            },
        ]
        if args.data_key_arn is not None:
            statements.append(
                {
                    "sid": "AllowDecryptForMalwareScan",
                    "effect": "Allow",
                    "actions": ["kms:GenerateDataKey", "kms:Decrypt"],
                    "resources": [args.data_key_arn],
                    "conditions": [
                        {
                            "test": "StringEquals",
                            "variable": "kms:ViaService",
                            "values": [
                                pulumi.Output.concat("s3.", ctx.region, ".", ctx.dns_suffix)
                            ],
                        }
                    ],
                }
            )
        policy = aws.iam.RolePolicy(
            f"{name}-malware-scan{suffix}-policy",
            role=role.id,
            policy=policy_json(statements, parent=self),
            opts=child,
        )
        # GuardDuty checks the role when the plan is created ("The request was rejected
        # because provided IAM role does not have the required permissions to validate S3
        # bucket ownership"); the guide asks to let a new role's policy propagate first
        # (https://docs.aws.amazon.com/guardduty/latest/ug/troubleshoot-malware-protection-s3-iam-role-permissions-error.html).
        propagated = pulumiverse_time.Sleep(
            f"{name}-malware-scan{suffix}-propagation",
            create_duration=IAM_PROPAGATION_WAIT,
            triggers={"policy": policy.policy, "role": role.arn},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        aws.guardduty.MalwareProtectionPlan(
            f"{name}-malware-protection{suffix}",
            role=role.arn,
            protected_resource={"s3_bucket": {"bucket_name": bucket_name}},
            # Tag each scanned object with the verdict (GuardDutyMalwareScanStatus), so
            # a bucket policy or the workload can refuse infected objects.
            actions=[{"taggings": [{"status": "ENABLED"}]}],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, propagated]),
        )


# --------------------------------------------------------------------- SecurityAlarms
@dataclass(frozen=True)
class SecurityAlarmsArgs:
    """Arguments of :class:`SecurityAlarms`."""

    name_prefix: str
    """Alarm, filter and rule names are ``<name_prefix>-<alert>`` (:data:`ALERTS`)."""
    tags: Mapping[str, str]
    ai_service: AiService
    alert_topic_arn: pulumi.Input[str]
    """Where every alarm and the findings rule publish (the AlertChannel's topic)."""
    trail_log_group_name: pulumi.Input[str]
    """The trail's CloudWatch log group: the management events the filters read."""
    workload_role_name: str
    """The workload role: changes to it alert, its secret reads do not."""
    secret_name_prefix: str
    """The project's secrets' name prefix (``<project>/<stack>/``)."""
    guardrail_arn: pulumi.Input[str]
    guardrail_version: pulumi.Input[str]
    models: Sequence[str] = ()
    """Bedrock model ids whose invocations are counted (AWS/Bedrock ModelId dimension)."""
    runbook: str = "docs/incident-response.md"
    """The playbook; each alert links to its section ``<runbook>#<alert>``."""
    intervention_threshold: int = 20
    """Guardrail interventions in five minutes that alert (a static threshold: see
    :class:`SecurityAlarms`)."""
    invocation_threshold: int = 1000
    """Model or endpoint invocations in five minutes that alert."""


def _description(spec: AlertSpec, runbook: str) -> str:
    """What an alarm's description says: summary, severity, runbook (AWS-DET-002 reads
    the last two)."""
    return (
        f"{spec.summary} Severity: {spec.severity}. Runbook: {runbook_link(runbook, spec.name)}"
    )[:1024]


class SecurityAlarms(pulumi.ComponentResource):
    """The project's tampering and misuse alerts, each routed to the alert topic.

    Thresholds are static: CloudWatch anomaly detection needs up to two weeks of a
    metric's history to train its model
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Anomaly_Detection.html),
    and a new project has none; a static threshold alerts from the first day. Raise or
    lower ``intervention_threshold`` and ``invocation_threshold`` once the workload's
    normal volume is known. Every alarm treats missing data as not breaching: no event,
    no alarm (the filters publish only when an operation matches).
    """

    alarm_names: dict[str, pulumi.Output[str]]
    """Alarm (or rule) name by alert name."""
    findings_rule_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: SecurityAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if args.ai_service not in ALERTS:
            raise ValueError(f"unknown ai_service {args.ai_service!r}")
        if args.intervention_threshold < 1 or args.invocation_threshold < 1:
            raise ValueError("alert thresholds must be at least 1")
        if args.ai_service == "bedrock" and not args.models:
            raise ValueError("a Bedrock project needs the models whose invocations are counted")
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,200}", args.name_prefix):
            raise ValueError(f"invalid name_prefix {args.name_prefix!r}")
        super().__init__("aiscaffold:aws:SecurityAlarms", name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        self._args = args
        self.alarm_names = {}
        for spec in ALERTS[args.ai_service]:
            if spec.name == "high-severity-finding":
                self.findings_rule_arn = self._findings_rule(name, spec)
            elif spec.name == "guardrail-intervention-surge":
                self._guardrail_alarm(name, spec)
            elif spec.name == "invocation-volume-spike" and args.ai_service == "bedrock":
                self._bedrock_volume_alarm(name, spec)
            else:
                self._trail_alarm(name, spec)
        self.register_outputs({"alarm_names": self.alarm_names})

    def _alarm(
        self,
        name: str,
        spec: AlertSpec,
        *,
        threshold: float,
        namespace: str | None = None,
        metric_name: pulumi.Input[str] | None = None,
        dimensions: Mapping[str, pulumi.Input[str]] | None = None,
        metric_queries: Sequence[aws.cloudwatch.MetricAlarmMetricQueryArgsDict] | None = None,
    ) -> None:
        """An alarm on one metric (Sum over five minutes) or on ``metric_queries``, rising
        to ``threshold``, publishing to the alert topic."""
        args = self._args
        single = metric_queries is None
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-{spec.name}",
            name=f"{args.name_prefix}-{spec.name}",
            alarm_description=_description(spec, args.runbook),
            actions_enabled=True,
            alarm_actions=[args.alert_topic_arn],
            namespace=namespace,
            metric_name=metric_name,
            dimensions=dimensions,
            statistic="Sum" if single else None,
            period=300 if single else None,
            metric_queries=metric_queries,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=threshold,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data="notBreaching",
            tags={**args.tags, "alert": spec.name, "severity": spec.severity},
            opts=self._child,
        )
        self.alarm_names[spec.name] = alarm.name

    def _trail_alarm(self, name: str, spec: AlertSpec) -> None:
        args = self._args
        extra: list[str] = []
        threshold = 1
        if spec.name == "workload-permissions-changed":
            extra = [f'($.requestParameters.roleName = "{args.workload_role_name}")']
        elif spec.name == "secret-read-by-other-principal":
            extra = [
                f'($.requestParameters.secretId = "*{args.secret_name_prefix}*")',
                "($.userIdentity.sessionContext.sessionIssuer.userName != "
                f'"{args.workload_role_name}")',
            ]
        elif spec.name == "invocation-volume-spike":
            threshold = args.invocation_threshold
        metric_name = f"{args.name_prefix}-{spec.name}"
        metric_filter = aws.cloudwatch.LogMetricFilter(
            f"{name}-{spec.name}-filter",
            name=metric_name,
            log_group_name=args.trail_log_group_name,
            pattern=_filter_pattern(spec.operations, extra),
            metric_transformation={
                "name": metric_name,
                "namespace": ALERT_METRIC_NAMESPACE,
                "value": "1",
            },
            opts=self._child,
        )
        self._alarm(
            name,
            spec,
            namespace=ALERT_METRIC_NAMESPACE,
            metric_name=metric_filter.metric_transformation.name,
            threshold=threshold,
        )

    def _guardrail_alarm(self, name: str, spec: AlertSpec) -> None:
        args = self._args
        # Guardrail metrics carry GuardrailArn and GuardrailVersion dimensions
        # (_GUARDRAIL_METRICS): the version the workload is pinned to.
        self._alarm(
            name,
            spec,
            namespace="AWS/Bedrock/Guardrails",
            metric_name="InvocationsIntervened",
            dimensions={
                "GuardrailArn": args.guardrail_arn,
                "GuardrailVersion": args.guardrail_version,
            },
            threshold=args.intervention_threshold,
        )

    def _bedrock_volume_alarm(self, name: str, spec: AlertSpec) -> None:
        args = self._args
        queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict] = [
            {
                "id": f"m{index}",
                "return_data": False,
                "metric": {
                    "namespace": "AWS/Bedrock",
                    "metric_name": "Invocations",
                    "dimensions": {"ModelId": model},
                    "stat": "Sum",
                    "period": 300,
                },
            }
            for index, model in enumerate(args.models)
        ]
        queries.append(
            {
                "id": "total",
                "expression": " + ".join(f"FILL(m{i}, 0)" for i in range(len(args.models))),
                "label": "Invocations of the project's models",
                "return_data": True,
            }
        )
        self._alarm(
            name,
            spec,
            metric_queries=queries,
            threshold=args.invocation_threshold,
        )

    def _findings_rule(self, name: str, spec: AlertSpec) -> pulumi.Output[str]:
        args = self._args
        pattern = {
            "$or": [
                {
                    "source": ["aws.guardduty"],
                    "detail-type": ["GuardDuty Finding"],
                    "detail": {"severity": [{"numeric": [">=", 7]}]},
                },
                {
                    "source": ["aws.securityhub"],
                    "detail-type": ["Security Hub Findings - Imported"],
                    "detail": {
                        "findings": {
                            "Severity": {"Label": ["HIGH", "CRITICAL"]},
                            # GuardDuty's findings reach the topic directly (above).
                            "ProductName": [{"anything-but": "GuardDuty"}],
                        }
                    },
                },
            ]
        }
        rule = aws.cloudwatch.EventRule(
            f"{name}-{spec.name}",
            name=f"{args.name_prefix}-{spec.name}",
            description=_description(spec, args.runbook)[:512],
            event_pattern=json.dumps(pattern, sort_keys=True),
            state="ENABLED",
            tags={**args.tags, "alert": spec.name, "severity": spec.severity},
            opts=self._child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-{spec.name}-target",
            rule=rule.name,
            arn=args.alert_topic_arn,
            target_id="alert-topic",
            opts=self._child,
        )
        self.alarm_names[spec.name] = rule.name
        return rule.arn


# --------------------------------------------------------------------- SiemExport
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+")


@dataclass(frozen=True)
class SiemExportArgs:
    """Arguments of :class:`SiemExport`."""

    role_name: str
    """The role the SIEM assumes (fixed, so the logs key's policy can name it first:
    pass its ARN in ``KeysArgs.log_reader_arns``)."""
    consumer_arn: str
    """The SIEM's IAM principal (a role in the security account): the only one trusted."""
    log_bucket_arn: pulumi.Input[str]
    log_prefixes: Sequence[str]
    """Key prefixes of the log bucket the SIEM reads (the trail's, the invocation logs')."""
    logs_key_arn: pulumi.Input[str]
    log_group_names: Sequence[pulumi.Input[str]]
    """The project's log groups (trail, invocation logs, workload, flow logs); a name may
    end in ``*`` (SageMaker AI's ``/aws/sagemaker/*``)."""
    tags: Mapping[str, str]
    external_id: str | None = None
    """``sts:ExternalId`` the SIEM must present (stack config ``siem_external_id``)."""


class SiemExport(pulumi.ComponentResource):
    """A read-only role a central SIEM assumes to read the project's logs.

    Trust: the consumer principal only, with ``sts:ExternalId`` when given
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html).
    Permissions: ``s3:ListBucket`` on the log bucket for the log prefixes only
    (``s3:prefix``), ``s3:GetObject`` under those prefixes, ``kms:Decrypt`` with the logs
    key through S3 only (``kms:ViaService``), and ``logs:FilterLogEvents``,
    ``logs:GetLogEvents``, ``logs:DescribeLogStreams`` on the project's log groups. Nothing
    writes, nothing else is read.
    """

    role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: SiemExportArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not _ROLE_NAME.fullmatch(args.role_name):
            raise ValueError(f"invalid role name {args.role_name!r}")
        if not _PRINCIPAL_ARN.fullmatch(args.consumer_arn):
            raise ValueError(
                f"siem_consumer must be an IAM role or user ARN, not {args.consumer_arn!r}"
            )
        if not args.log_prefixes or not args.log_group_names:
            raise ValueError("the SIEM export needs the log prefixes and log groups it reads")
        if args.external_id is not None and not re.fullmatch(
            r"[\w+=,.@:/-]{2,1224}", args.external_id
        ):
            raise ValueError("siem_external_id must be 2 to 1224 characters of [\\w+=,.@:/-]")
        super().__init__("aiscaffold:aws:SiemExport", name, None, opts)
        ctx = aws_context(self)
        child = pulumi.ResourceOptions(parent=self)
        trust: Statement = {
            "sid": "TheSiemOnly",
            "effect": "Allow",
            "principals": [{"type": "AWS", "identifiers": [args.consumer_arn]}],
            "actions": ["sts:AssumeRole"],
        }
        if args.external_id is not None:
            trust["conditions"] = [
                {"test": "StringEquals", "variable": "sts:ExternalId", "values": [args.external_id]}
            ]
        role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description="A central SIEM reads the project's logs, read-only (aiscaffold)",
            assume_role_policy=policy_json([trust], parent=self),
            max_session_duration=3600,
            tags=dict(args.tags),
            opts=child,
        )
        prefixes = [p.strip("/") + "/" for p in args.log_prefixes]
        groups = [
            pulumi.Output.concat(
                "arn:", ctx.partition, ":logs:", ctx.region, ":", ctx.account_id, ":log-group:", g
            )
            for g in args.log_group_names
        ]
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=policy_json(
                [
                    {
                        "sid": "ListTheLogPrefixes",
                        "effect": "Allow",
                        "actions": ["s3:ListBucket"],
                        "resources": [args.log_bucket_arn],
                        "conditions": [
                            {
                                "test": "StringLike",
                                "variable": "s3:prefix",
                                "values": [f"{p}*" for p in prefixes],
                            }
                        ],
                    },
                    {
                        "sid": "ReadTheLogFiles",
                        "effect": "Allow",
                        "actions": ["s3:GetObject"],
                        "resources": [
                            pulumi.Output.concat(args.log_bucket_arn, "/", p, "*") for p in prefixes
                        ],
                    },
                    {
                        "sid": "DecryptTheLogFilesThroughS3",
                        "effect": "Allow",
                        "actions": ["kms:Decrypt"],
                        "resources": [args.logs_key_arn],
                        "conditions": [
                            {
                                "test": "StringEquals",
                                "variable": "kms:ViaService",
                                "values": [
                                    pulumi.Output.concat("s3.", ctx.region, ".", ctx.dns_suffix)
                                ],
                            }
                        ],
                    },
                    {
                        "sid": "ReadTheLogGroups",
                        "effect": "Allow",
                        "actions": [
                            "logs:DescribeLogStreams",
                            "logs:FilterLogEvents",
                            "logs:GetLogEvents",
                        ],
                        "resources": [
                            *groups,
                            *(pulumi.Output.concat(g, ":log-stream:*") for g in groups),
                        ],
                    },
                ],
                parent=self,
            ),
            opts=child,
        )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})
