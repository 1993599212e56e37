"""Detection and response: Security Command Center findings, tampering alarms, SIEM export.

:class:`ThreatDetection` (DET-01, DET-02) streams the project's Security Command Center
findings to the alert topic: a project-level notification config of the current SCC API
(v2, ``securitycenter.V2ProjectNotificationConfig``; the v1 ``ProjectNotificationConfig``
uses the older API, https://cloud.google.com/security-command-center/docs/how-to-notifications)
for ACTIVE findings of HIGH or CRITICAL severity and for every THREAT finding (Event
Threat Detection, and Model Armor's and AI Protection's threat findings, whatever their
severity: a detected attack on the model is worth a look even when SCC rates it medium;
filter fields per https://cloud.google.com/security-command-center/docs/how-to-api-filter-notifications).
SCC publishes as its notification service agent, which needs ``roles/pubsub.publisher``
on the topic (https://cloud.google.com/security-command-center/docs/how-to-notifications#set_up_a_topic;
``securitycenter.NotificationServiceAccount`` asks for it before the config names the
topic). Prerequisite: Security Command Center is activated (Standard or Premium tier) for
the organization or the project, an organization-level step this stack cannot take
(https://cloud.google.com/security-command-center/docs/activate-scc-overview); without
it the notification config is refused. It exists once per project: the program creates it
only with ``account_services: this-stack``.

:class:`SecurityAlarms` (DET-03, DET-02) raises an alert from the audit trail the project
already writes, each with a stable name, a severity and a runbook link
(``docs/incident-response.md#<name>``), each routed to the alert channel's notification
channels (no alarm without an action):

=============================  ========  ==========================================================
alert                          severity  watches
=============================  ========  ==========================================================
guardrail-tampering            CRITICAL  Model Armor template deleted or updated, floor setting
                                         (the Vertex AI integration) updated
invocation-logging-disabled    CRITICAL  log sinks, buckets, exclusions, CMEK settings changed;
                                         audit configs changed
key-tampering                  CRITICAL  key version destroyed or disabled, key or primary
                                         version updated, key IAM policy set
workload-permissions-changed   ERROR     IAM bindings of the workload's service account, its
                                         keys and IAM policy, the invoker role changed
private-network-changed        ERROR     PSC forwarding rules, firewall rules, routes, subnets,
                                         regional endpoints, private DNS zones changed
secret-read-by-other-principal ERROR     a secret version read by anyone but the workload
guardrail-intervention-surge   ERROR     Model Armor filter matches above a threshold
prompt-attack-surge            ERROR     prompt-injection / jailbreak matches above a threshold
invocation-volume-spike        WARNING   Vertex AI model invocations far above the day before
=============================  ========  ==========================================================

The seven change alarms are log-match alert policies (``condition_matched_log``): one
change is enough to act on, and a log-match policy fires on the entry itself, with no
metric to define, and at most once per ``notification_rate_limit_seconds``
(https://cloud.google.com/logging/docs/alerting/log-based-alerts). The two surges
count Model Armor's sanitize-operation log entries with a log-based counter metric
(``logging.Metric``, https://cloud.google.com/logging/docs/logs-based-metrics) and alert
on its PromQL rate (a PromQL condition needs no monitored resource type, which Model
Armor's log entries would have to supply to a threshold condition;
https://cloud.google.com/monitoring/promql/promql-mapping names the metric); the
invocation spike compares Vertex AI's ``publisher/online_serving/model_invocation_count``
(https://cloud.google.com/monitoring/api/metrics_gcp_a_b#gcp-aiplatform) over the last hour
with the same hour's average the day before.

Method names and where each is documented: Model Armor
``google.cloud.modelarmor.v1.ModelArmor.{DeleteTemplate,UpdateTemplate,UpdateFloorSetting}``
(https://cloud.google.com/model-armor/audit-logging); Cloud Logging
``google.logging.v2.ConfigServiceV2.*`` (https://cloud.google.com/logging/docs/audit-logging);
project audit configs: ``SetIamPolicy`` with ``serviceData.policyDelta.auditConfigDeltas``
(CIS Google Cloud Foundations 2.5, Security Health Analytics
AUDIT_CONFIG_CHANGES_NOT_MONITORED,
https://cloud.google.com/security-command-center/docs/concepts-vulnerabilities-findings#monitoring-vulnerability-findings);
Cloud KMS ``DestroyCryptoKeyVersion``, ``UpdateCryptoKeyVersion``, ``UpdateCryptoKey``,
``UpdateCryptoKeyPrimaryVersion``, ``SetIamPolicy`` (https://cloud.google.com/kms/docs/audit-logging);
IAM ``google.iam.admin.v1.{SetIAMPolicy,CreateServiceAccountKey,UpdateRole,DeleteRole}``
(https://cloud.google.com/iam/docs/audit-logging); project IAM ``SetIamPolicy``
(https://cloud.google.com/resource-manager/docs/audit-logging); Compute Engine
``v1.compute.<collection>.<verb>`` (https://cloud.google.com/compute/docs/logging/audit-logging);
Cloud DNS ``dns.changes.create``, ``dns.managedZones.*`` (https://cloud.google.com/dns/docs/audit-logging);
Secret Manager ``google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion``,
a Data Access (DATA_READ) log that :class:`~.audit_logging.AuditLogging` turns on
(https://cloud.google.com/secret-manager/docs/audit-logging); Model Armor's
``sanitize_operations`` log and its ``sanitizationResult.filterMatchState``
(https://cloud.google.com/model-armor/configure-logging, written because the template
sets ``log_sanitize_operations`` and the floor setting ``enable_cloud_logging``).

Not watched here: VPC Service Controls perimeters live in the organization's access
policy, whose audit logs are the organization's, not this project's; the organization's
own alerting covers them.

:class:`SiemExport` (DET-04) lets one central SIEM identity read everything the project
logs and nothing else: a log sink with the audit-logging filter (audit, VPC flow,
firewall and Model Armor logs) to a dedicated CMEK topic (the sink's writer identity may
publish to that topic only), and a pull subscription on which the consumer alone has
``roles/pubsub.subscriber`` (https://cloud.google.com/logging/docs/export/pubsub;
https://cloud.google.com/pubsub/docs/access-control).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time

from ._common import child_opts, duration, labels_of, wait_for_dependencies
from .audit_logging import LOG_FILTER

__all__ = [
    "ALARMS",
    "SCC_FINDINGS_FILTER",
    "Alarm",
    "SecurityAlarms",
    "SecurityAlarmsArgs",
    "SiemExport",
    "SiemExportArgs",
    "ThreatDetection",
    "ThreatDetectionArgs",
]

Severity = Literal["CRITICAL", "ERROR", "WARNING"]

#: Findings the notification config streams: active ones of high or critical severity,
#: and every active threat finding (Event Threat Detection, AI threats).
SCC_FINDINGS_FILTER = (
    'state="ACTIVE" AND (severity="HIGH" OR severity="CRITICAL" OR finding_class="THREAT")'
)

_MODEL_ARMOR = "google.cloud.modelarmor.{v}.ModelArmor.{m}"
_LOGGING = "google.logging.v2.ConfigServiceV2.{m}"
_IAM_ADMIN = "google.iam.admin.v1.{m}"
_SECRET_READ_METHOD = "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion"  # noqa: S105 - an audit-log method name
_SANITIZE_LOG = "modelarmor.googleapis.com%2Fsanitize_operations"
_INVOCATIONS = "aiplatform.googleapis.com/publisher/online_serving/model_invocation_count"


def _methods(service: str, names: Sequence[str]) -> str:
    methods = " OR ".join(f'protoPayload.methodName="{n}"' for n in names)
    return f'protoPayload.serviceName="{service}" AND ({methods})'


@dataclass(frozen=True)
class Alarm:
    """One alert of :class:`SecurityAlarms`: its name (after the project prefix, the
    same on every cloud), severity, what it watches and its runbook anchor."""

    name: str
    severity: Severity
    summary: str

    @property
    def anchor(self) -> str:
        """The heading id of its playbook section in ``docs/incident-response.md``."""
        return self.name


#: Every alarm, in the order of the playbook.
ALARMS: tuple[Alarm, ...] = (
    Alarm(
        "guardrail-tampering",
        "CRITICAL",
        "A Model Armor template was deleted or changed, or the project's floor setting "
        "(the Vertex AI screening) was changed.",
    ),
    Alarm(
        "invocation-logging-disabled",
        "CRITICAL",
        "A log sink, log bucket, exclusion or the logging CMEK settings changed, or an "
        "audit config was changed: AI calls and admin actions may go unrecorded.",
    ),
    Alarm(
        "key-tampering",
        "CRITICAL",
        "A Cloud KMS key version was destroyed or disabled, a key or its primary version "
        "updated, or a key's IAM policy set.",
    ),
    Alarm(
        "workload-permissions-changed",
        "ERROR",
        "The workload service account's grants, keys or IAM policy, or its invoker role, changed.",
    ),
    Alarm(
        "private-network-changed",
        "ERROR",
        "A Private Service Connect forwarding rule, regional endpoint, firewall rule, "
        "route, subnet or private DNS zone changed.",
    ),
    Alarm(
        "secret-read-by-other-principal",
        "ERROR",
        "A secret version was read by a principal other than the workload service account.",
    ),
    Alarm(
        "guardrail-intervention-surge",
        "ERROR",
        "Model Armor filters matched more prompts or responses than the threshold.",
    ),
    Alarm(
        "prompt-attack-surge",
        "ERROR",
        "Model Armor's prompt-injection and jailbreak filter matched more prompts than the "
        "threshold.",
    ),
    Alarm(
        "invocation-volume-spike",
        "WARNING",
        "Vertex AI model invocations in the last hour far above the same hour's average "
        "the day before.",
    ),
)
_BY_NAME = {alarm.name: alarm for alarm in ALARMS}

#: Method names each change alarm watches (the policies judge filters against them).
WATCHED_METHODS: dict[str, tuple[str, ...]] = {
    "guardrail-tampering": tuple(
        _MODEL_ARMOR.format(v=v, m=m)
        for v in ("v1", "v1alpha", "v1beta")
        for m in ("DeleteTemplate", "UpdateTemplate", "UpdateFloorSetting")
    ),
    "invocation-logging-disabled": tuple(
        _LOGGING.format(m=m)
        for m in (
            "DeleteSink",
            "UpdateSink",
            "DeleteBucket",
            "UpdateBucket",
            "UpdateBucketAsync",
            "CreateExclusion",
            "UpdateExclusion",
            "UpdateCmekSettings",
            "UpdateSettings",
        )
    ),
    "key-tampering": (
        "DestroyCryptoKeyVersion",
        "UpdateCryptoKeyVersion",
        "UpdateCryptoKey",
        "UpdateCryptoKeyPrimaryVersion",
        "SetIamPolicy",
    ),
    "workload-permissions-changed": tuple(
        _IAM_ADMIN.format(m=m)
        for m in ("SetIAMPolicy", "CreateServiceAccountKey", "UploadServiceAccountKey")
    )
    + tuple(_IAM_ADMIN.format(m=m) for m in ("UpdateRole", "DeleteRole")),
    "private-network-changed": (
        "dns.changes.create",
        "dns.managedZones.delete",
        "dns.managedZones.patch",
        "dns.managedZones.update",
    ),
    "secret-read-by-other-principal": (_SECRET_READ_METHOD,),
}

#: Compute Engine collections whose changes ``private-network-changed`` watches (its
#: method names are ``v1.compute.<collection>.<verb>`` and ``beta.`` likewise).
NETWORK_COLLECTIONS = (
    "globalForwardingRules",
    "forwardingRules",
    "firewalls",
    "routes",
    "subnetworks",
    "globalAddresses",
)


@dataclass(frozen=True)
class ThreatDetectionArgs:
    """Arguments of :class:`ThreatDetection`."""

    project: pulumi.Input[str]
    """Project id: the notification config streams this project's findings only."""

    topic_id: pulumi.Input[str]
    """The alert topic (``projects/<p>/topics/<t>``, ``AlertChannel.topic_id``)."""

    config_id: str
    """Id of the notification config (letters, digits, ``-`` and ``_``, at most 128)."""

    findings_filter: str = SCC_FINDINGS_FILTER
    """Which findings are sent; narrowing it below active HIGH and CRITICAL findings is a
    weakening of DET-01 (GCP-DET-001 reads it)."""

    grant_propagation_seconds: int = 120
    """How long the config waits after SCC's publisher grant
    (https://cloud.google.com/iam/docs/access-change-propagation)."""


class ThreatDetection(pulumi.ComponentResource):
    """The project's SCC findings (high, critical and threats) streamed to the alert topic."""

    config_name: pulumi.Output[str]
    """Resource name of the notification config."""

    def __init__(
        self, name: str, args: ThreatDetectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", args.config_id):
            raise ValueError(f"invalid notification config id {args.config_id!r}")
        if 'state="ACTIVE"' not in args.findings_filter:
            raise ValueError('the findings filter must select state="ACTIVE" findings')
        if args.grant_propagation_seconds < 0:
            raise ValueError("grant_propagation_seconds may not be negative")
        super().__init__("aiscaffold:gcp:ThreatDetection", name, None, opts)
        wait_for_dependencies(self, opts)
        child = child_opts(self)
        agent = gcp.securitycenter.NotificationServiceAccount(
            f"{name}-scc-agent", project=args.project, opts=child
        )
        grant = gcp.pubsub.TopicIAMMember(
            f"{name}-scc-publisher",
            project=args.project,
            topic=args.topic_id,
            role="roles/pubsub.publisher",
            member=agent.member,
            opts=child,
        )
        waits: list[pulumi.Resource] = [grant]
        if args.grant_propagation_seconds:
            waits.append(
                pulumiverse_time.Sleep(
                    f"{name}-scc-propagation",
                    create_duration=f"{args.grant_propagation_seconds}s",
                    triggers={"member": agent.member},
                    opts=child_opts(self, depends_on=[grant]),
                )
            )
        config = gcp.securitycenter.V2ProjectNotificationConfig(
            f"{name}-findings",
            project=args.project,
            location="global",
            config_id=args.config_id,
            description="High, critical and threat findings of this project (aiscaffold)",
            pubsub_topic=args.topic_id,
            streaming_config=gcp.securitycenter.V2ProjectNotificationConfigStreamingConfigArgs(
                filter=args.findings_filter
            ),
            opts=child_opts(self, depends_on=waits),
        )
        self.config_name = config.name
        self.register_outputs({"config_name": self.config_name})


@dataclass(frozen=True)
class SecurityAlarmsArgs:
    """Arguments of :class:`SecurityAlarms`."""

    project: pulumi.Input[str]
    """Project id whose audit trail is watched."""

    name_prefix: str
    """Each alert policy is named ``<name_prefix>-<alarm>`` (``ALARMS``)."""

    notification_channels: Sequence[pulumi.Input[str]]
    """Monitoring notification channel ids every alert goes to
    (``AlertChannel.notification_channel_ids``); at least one (no alarm without an action)."""

    workload_email: pulumi.Input[str]
    """E-mail of the workload service account: the one principal that may read secrets,
    whose grants are watched."""

    workload_role: pulumi.Input[str] | None = None
    """The workload's custom invoker role (``projects/<p>/roles/<r>``), watched too."""

    runbook: str = "docs/incident-response.md"
    """Where the playbook is: each alert's documentation names ``<runbook>#<alarm>``; an
    ``https://`` URL (the repository's copy) also becomes the alert's link."""

    notification_rate_limit_seconds: int = 300
    """Log-match alerts notify at most once per this period (Monitoring requires one)."""

    auto_close_seconds: int = 7 * 86400
    """Incidents close on their own after this long without a new match."""

    guardrail_surge_threshold: int = 20
    """Model Armor filter matches in 10 minutes above which ``guardrail-intervention-surge`` fires."""

    prompt_attack_threshold: int = 5
    """Prompt-injection / jailbreak matches in 10 minutes above which ``prompt-attack-surge`` fires."""

    invocation_spike_factor: float = 5.0
    """``invocation-volume-spike`` fires when the last hour's invocations exceed this many
    times the same hour's average the day before..."""

    invocation_spike_floor: int = 100
    """...and number more than this (a quiet project's 2 calls after 0 are no spike)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """User labels of the alert policies (each also gets ``alert`` and ``runbook``)."""


class SecurityAlarms(pulumi.ComponentResource):
    """The DET-03 alerts: tampering and misuse of the AI workload, each routed to the
    alert channel, with a severity and a runbook link."""

    alert_policy_ids: dict[str, pulumi.Output[str]]
    """Alert policy id by alarm name (``ALARMS``)."""
    alert_names: dict[str, str]
    """Display name (``<name_prefix>-<alarm>``) by alarm name."""

    def __init__(
        self, name: str, args: SecurityAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not args.notification_channels:
            raise ValueError("security alarms need at least one notification channel")
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,62}", args.name_prefix):
            raise ValueError(f"invalid alarm name prefix {args.name_prefix!r}")
        for label, value in (
            ("notification_rate_limit_seconds", args.notification_rate_limit_seconds),
            ("auto_close_seconds", args.auto_close_seconds),
            ("guardrail_surge_threshold", args.guardrail_surge_threshold),
            ("prompt_attack_threshold", args.prompt_attack_threshold),
            ("invocation_spike_floor", args.invocation_spike_floor),
        ):
            if value <= 0:
                raise ValueError(f"{label} must be positive")
        if args.invocation_spike_factor <= 1:
            raise ValueError("invocation_spike_factor must be above 1 (a spike is above baseline)")
        # Monitoring closes incidents after at least 30 minutes (AlertStrategy.autoClose).
        if args.auto_close_seconds < 1800:
            raise ValueError("auto_close_seconds must be at least 1800 (Monitoring's minimum)")
        super().__init__("aiscaffold:gcp:SecurityAlarms", name, None, opts)
        wait_for_dependencies(self, opts)
        self._base = name
        self._args = args
        self._labels = labels_of(args.labels)
        self.alert_policy_ids = {}
        self.alert_names = {}

        ma = WATCHED_METHODS
        self._log_alarm(
            "guardrail-tampering", _methods("modelarmor.googleapis.com", ma["guardrail-tampering"])
        )
        self._log_alarm(
            "invocation-logging-disabled",
            f"({_methods('logging.googleapis.com', ma['invocation-logging-disabled'])}) OR "
            '(protoPayload.methodName="SetIamPolicy" AND '
            "protoPayload.serviceData.policyDelta.auditConfigDeltas:*)",
        )
        self._log_alarm("key-tampering", _methods("cloudkms.googleapis.com", ma["key-tampering"]))
        workload_member = pulumi.Output.concat("serviceAccount:", args.workload_email)
        iam_sa = _methods("iam.googleapis.com", ma["workload-permissions-changed"][:3])
        iam_role = _methods("iam.googleapis.com", ma["workload-permissions-changed"][3:])
        parts: list[pulumi.Input[str]] = [
            '(protoPayload.serviceName="cloudresourcemanager.googleapis.com" AND '
            'protoPayload.methodName="SetIamPolicy" AND '
            'protoPayload.serviceData.policyDelta.bindingDeltas.member="',
            workload_member,
            '") OR (',
            iam_sa,
            ' AND protoPayload.resourceName:"',
            args.workload_email,
            '")',
        ]
        if args.workload_role is not None:
            parts += [
                " OR (",
                iam_role,
                ' AND protoPayload.resourceName:"',
                args.workload_role,
                '")',
            ]
        self._log_alarm("workload-permissions-changed", pulumi.Output.concat(*parts))
        compute = " OR ".join(
            f'protoPayload.methodName:"compute.{c}."' for c in NETWORK_COLLECTIONS
        )
        self._log_alarm(
            "private-network-changed",
            f'(protoPayload.serviceName="compute.googleapis.com" AND ({compute})) OR '
            '(protoPayload.serviceName="networkconnectivity.googleapis.com" AND '
            'protoPayload.resourceName:"/regionalEndpoints/") OR '
            f"({_methods('dns.googleapis.com', ma['private-network-changed'])})",
        )
        self._log_alarm(
            "secret-read-by-other-principal",
            pulumi.Output.concat(
                _methods("secretmanager.googleapis.com", ma["secret-read-by-other-principal"]),
                ' AND protoPayload.authenticationInfo.principalEmail!="',
                args.workload_email,
                '"',
            ),
        )

        sanitize_log = pulumi.Output.concat(
            'logName="projects/', args.project, f'/logs/{_SANITIZE_LOG}"'
        )
        self._surge(
            "guardrail-intervention-surge",
            pulumi.Output.concat(
                sanitize_log, ' AND jsonPayload.sanitizationResult.filterMatchState="MATCH_FOUND"'
            ),
            args.guardrail_surge_threshold,
        )
        self._surge(
            "prompt-attack-surge",
            pulumi.Output.concat(
                sanitize_log,
                " AND jsonPayload.sanitizationResult.filterResults.pi_and_jailbreak"
                '.piAndJailbreakFilterResult.matchState="MATCH_FOUND"',
            ),
            args.prompt_attack_threshold,
        )
        invocations = _promql_name(_INVOCATIONS)
        self._alert(
            "invocation-volume-spike",
            gcp.monitoring.AlertPolicyConditionArgs(
                display_name="invocations far above the day before",
                condition_prometheus_query_language=gcp.monitoring.AlertPolicyConditionConditionPrometheusQueryLanguageArgs(
                    query=(
                        f"(sum(rate({invocations}[1h])) > {args.invocation_spike_factor:g} * "
                        f"sum(rate({invocations}[1h] offset 1d))) and "
                        f"(sum(increase({invocations}[1h])) > {args.invocation_spike_floor})"
                    ),
                    duration="0s",
                    evaluation_interval="300s",
                ),
            ),
        )
        self.register_outputs(
            {"alert_policy_ids": self.alert_policy_ids, "alert_names": self.alert_names}
        )

    def _log_alarm(self, alarm: str, log_filter: pulumi.Input[str]) -> None:
        self._alert(
            alarm,
            gcp.monitoring.AlertPolicyConditionArgs(
                display_name=_BY_NAME[alarm].summary[:100],
                condition_matched_log=gcp.monitoring.AlertPolicyConditionConditionMatchedLogArgs(
                    filter=log_filter
                ),
            ),
            rate_limit=True,
        )

    def _surge(self, alarm: str, log_filter: pulumi.Input[str], threshold: int) -> None:
        metric_name = f"{self._args.name_prefix}-{alarm}".replace("-", "_")
        metric = gcp.logging.Metric(
            f"{self._base}-{alarm}-metric",
            project=self._args.project,
            name=metric_name,
            description=_BY_NAME[alarm].summary,
            filter=log_filter,
            metric_descriptor=gcp.logging.MetricMetricDescriptorArgs(
                metric_kind="DELTA", value_type="INT64", unit="1"
            ),
            opts=child_opts(self),
        )
        series = _promql_name(f"logging.googleapis.com/user/{metric_name}")
        self._alert(
            alarm,
            gcp.monitoring.AlertPolicyConditionArgs(
                display_name=f"more than {threshold} in 10 minutes",
                condition_prometheus_query_language=gcp.monitoring.AlertPolicyConditionConditionPrometheusQueryLanguageArgs(
                    query=f"sum(increase({series}[10m])) > {threshold}",
                    duration="0s",
                    evaluation_interval="60s",
                ),
            ),
            depends_on=[metric],
        )

    def _alert(
        self,
        alarm: str,
        condition: gcp.monitoring.AlertPolicyConditionArgs,
        *,
        rate_limit: bool = False,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> None:
        spec = _BY_NAME[alarm]
        args = self._args
        display = f"{args.name_prefix}-{alarm}"
        runbook = f"{args.runbook}#{spec.anchor}"
        policy = gcp.monitoring.AlertPolicy(
            f"{self._base}-{alarm}",
            project=args.project,
            display_name=display,
            combiner="OR",
            enabled=True,
            severity=spec.severity,
            conditions=[condition],
            notification_channels=list(args.notification_channels),
            alert_strategy=gcp.monitoring.AlertPolicyAlertStrategyArgs(
                auto_close=f"{args.auto_close_seconds}s",
                notification_rate_limit=(
                    gcp.monitoring.AlertPolicyAlertStrategyNotificationRateLimitArgs(
                        period=f"{args.notification_rate_limit_seconds}s"
                    )
                    if rate_limit
                    else None
                ),
            ),
            documentation=gcp.monitoring.AlertPolicyDocumentationArgs(
                subject=f"[{spec.severity}] {display}",
                content=f"{spec.summary}\n\nRunbook: {runbook}",
                mime_type="text/markdown",
                links=(
                    [
                        gcp.monitoring.AlertPolicyDocumentationLinkArgs(
                            display_name="Runbook", url=runbook
                        )
                    ]
                    if runbook.startswith("https://")
                    else None
                ),
            ),
            user_labels={**self._labels, "alert": alarm, "runbook": spec.anchor},
            opts=child_opts(self, depends_on=depends_on),
        )
        self.alert_policy_ids[alarm] = policy.id
        self.alert_names[alarm] = display


def _promql_name(metric_type: str) -> str:
    """A Cloud Monitoring metric type as PromQL names it: the first ``/`` becomes ``:``,
    other characters outside ``[A-Za-z0-9_:]`` ``_``
    (https://cloud.google.com/monitoring/promql/promql-mapping)."""
    domain, _, path = metric_type.partition("/")
    return re.sub(r"[^A-Za-z0-9_]", "_", domain) + ":" + re.sub(r"[^A-Za-z0-9_]", "_", path)


@dataclass(frozen=True)
class SiemExportArgs:
    """Arguments of :class:`SiemExport`."""

    project: pulumi.Input[str]
    """Project id whose logs are exported."""

    consumer: str
    """IAM member of the SIEM (``serviceAccount:siem@central.iam.gserviceaccount.com``,
    ``group:...``): the only principal allowed to pull the export."""

    name_prefix: str
    """The topic and the subscription are ``<name_prefix>-siem``."""

    kms_key_name: pulumi.Input[str]
    """Key encrypting the exported messages (one the Pub/Sub service agent may use)."""

    regions: Sequence[str]
    """Regions the messages may be stored in (the allowed regions)."""

    log_filter: str = LOG_FILTER
    """Logs exported: by default everything the audit-logging sinks keep."""

    retention_days: int = 7
    """Days unacknowledged messages are kept for the consumer (Pub/Sub: at most 7 on a
    subscription, https://cloud.google.com/pubsub/docs/subscription-properties)."""

    labels: Mapping[str, str] = field(default_factory=dict)


_MEMBER = re.compile(r"(serviceAccount|group|user|principal|principalSet):\S+")


class SiemExport(pulumi.ComponentResource):
    """The project's logs through a log sink to a CMEK topic that only the SIEM reads."""

    topic_id: pulumi.Output[str]
    subscription_id: pulumi.Output[str]
    """The subscription the SIEM pulls (``projects/<p>/subscriptions/<name>``)."""

    def __init__(
        self, name: str, args: SiemExportArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not _MEMBER.fullmatch(args.consumer):
            raise ValueError(
                f"siem consumer {args.consumer!r} is not an IAM member "
                "(serviceAccount:<email>, group:<email>, user:<email> or principal://...)"
            )
        if args.consumer.startswith(("allUsers", "allAuthenticatedUsers")):
            raise ValueError("the SIEM consumer may not be public")
        if not 1 <= args.retention_days <= 7:
            raise ValueError("retention_days must be between 1 and 7")
        if not args.regions:
            raise ValueError("the SIEM topic needs at least one allowed region")
        if "cloudaudit.googleapis.com" not in args.log_filter:
            raise ValueError("the SIEM export must include the audit logs")
        super().__init__("aiscaffold:gcp:SiemExport", name, None, opts)
        wait_for_dependencies(self, opts)
        child = child_opts(self)
        labels = labels_of(args.labels)
        topic = gcp.pubsub.Topic(
            f"{name}-topic",
            project=args.project,
            name=f"{args.name_prefix}-siem",
            kms_key_name=args.kms_key_name,
            message_storage_policy=gcp.pubsub.TopicMessageStoragePolicyArgs(
                allowed_persistence_regions=list(args.regions), enforce_in_transit=True
            ),
            labels=labels,
            opts=child,
        )
        sink = gcp.logging.ProjectSink(
            f"{name}-sink",
            project=args.project,
            destination=pulumi.Output.concat("pubsub.googleapis.com/", topic.id),
            filter=args.log_filter,
            unique_writer_identity=True,
            description="Audit and AI logs to the SIEM topic (aiscaffold, DET-04)",
            opts=child,
        )
        # The sink writes as its own identity: publisher on this topic and nothing else.
        gcp.pubsub.TopicIAMMember(
            f"{name}-writer",
            project=args.project,
            topic=topic.name,
            role="roles/pubsub.publisher",
            member=sink.writer_identity,
            opts=child,
        )
        subscription = gcp.pubsub.Subscription(
            f"{name}-subscription",
            project=args.project,
            name=f"{args.name_prefix}-siem",
            topic=topic.id,
            ack_deadline_seconds=60,
            message_retention_duration=duration(args.retention_days),
            # A pull subscription: no push endpoint receives the logs.
            expiration_policy=gcp.pubsub.SubscriptionExpirationPolicyArgs(ttl=""),
            labels=labels,
            opts=child,
        )
        gcp.pubsub.SubscriptionIAMMember(
            f"{name}-consumer",
            project=args.project,
            subscription=subscription.name,
            role="roles/pubsub.subscriber",
            member=args.consumer,
            opts=child,
        )
        self.topic_id = topic.id
        self.subscription_id = subscription.id
        self.register_outputs({"topic_id": self.topic_id, "subscription_id": self.subscription_id})
