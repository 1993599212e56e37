"""Detection and response (DET): SCC findings routed, tampering alarms, alert channels.

The operations each tampering alarm must watch are data here, with the Google reference
naming them (the same lists ``aiscaffold_components.gcp.detection`` builds its filters
from; tests/gcp/test_gcp_detection.py keeps the two equal). A stack policy reads each
alert policy's log filter and judges the operations it names, not just that a policy
exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import every, is_ai_workload, of_type, refers_to, some

ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
TOPIC = "gcp:pubsub/topic:Topic"
LOG_METRIC = "gcp:logging/metric:Metric"
SCC_CONFIGS = (
    "gcp:securitycenter/v2ProjectNotificationConfig:V2ProjectNotificationConfig",
    "gcp:securitycenter/projectNotificationConfig:ProjectNotificationConfig",
)

#: Operations each tampering alarm must watch (audit-log method names), with the source:
#: https://cloud.google.com/model-armor/audit-logging,
#: https://cloud.google.com/logging/docs/audit-logging,
#: https://cloud.google.com/kms/docs/audit-logging,
#: https://cloud.google.com/iam/docs/audit-logging,
#: https://cloud.google.com/dns/docs/audit-logging,
#: https://cloud.google.com/secret-manager/docs/audit-logging.
REQUIRED_OPERATIONS: dict[str, tuple[str, ...]] = {
    "guardrail-tampering": (
        "google.cloud.modelarmor.v1.ModelArmor.DeleteTemplate",
        "google.cloud.modelarmor.v1.ModelArmor.UpdateTemplate",
        "google.cloud.modelarmor.v1.ModelArmor.UpdateFloorSetting",
    ),
    "invocation-logging-disabled": (
        "google.logging.v2.ConfigServiceV2.DeleteSink",
        "google.logging.v2.ConfigServiceV2.UpdateSink",
        "google.logging.v2.ConfigServiceV2.DeleteBucket",
        "google.logging.v2.ConfigServiceV2.UpdateBucket",
        "google.logging.v2.ConfigServiceV2.CreateExclusion",
        "google.logging.v2.ConfigServiceV2.UpdateCmekSettings",
        "auditConfigDeltas",
    ),
    "key-tampering": (
        "DestroyCryptoKeyVersion",
        "UpdateCryptoKeyVersion",
        "UpdateCryptoKey",
        "SetIamPolicy",
    ),
    "workload-permissions-changed": (
        "bindingDeltas.member",
        "google.iam.admin.v1.SetIAMPolicy",
        "google.iam.admin.v1.CreateServiceAccountKey",
    ),
    "private-network-changed": (
        "compute.globalForwardingRules.",
        "compute.firewalls.",
        "dns.changes.create",
    ),
    "secret-read-by-other-principal": (
        "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion",
        "principalEmail!=",
    ),
}

#: What the surge and volume alarms must count: Model Armor's sanitize-operation log
#: (https://cloud.google.com/model-armor/configure-logging) and Vertex AI's invocation
#: metric (https://cloud.google.com/monitoring/api/metrics_gcp_a_b#gcp-aiplatform).
SURGES: dict[str, str] = {
    "guardrail-intervention-surge": 'filterMatchState="MATCH_FOUND"',
    "prompt-attack-surge": 'piAndJailbreakFilterResult.matchState="MATCH_FOUND"',
}
INVOCATION_METRIC = "aiplatform_googleapis_com:publisher_online_serving_model_invocation_count"


def _quoted_or_text(filter_text: str, operation: str) -> bool:
    """Whether the filter names ``operation``: as a quoted method name, or (for field
    paths and operators such as ``auditConfigDeltas``) as text."""
    if re.fullmatch(r"(google|dns)\.[\w.]*\w|[A-Z]\w+", operation):
        return f'"{operation}"' in filter_text
    return operation in filter_text


def _filters(policy: Resource) -> list[str]:
    out = []
    for condition in policy.items("conditions"):
        for key in ("conditionMatchedLog", "conditionThreshold"):
            value = condition.get(key) if hasattr(condition, "get") else None
            if value is not None and value.get("filter") is not None:
                out.append(str(value.get("filter")))
        promql = (
            condition.get("conditionPrometheusQueryLanguage") if hasattr(condition, "get") else None
        )
        if promql is not None and promql.get("query") is not None:
            out.append(str(promql.get("query")))
    return out


def _routed(policy: Resource, channels: Sequence[Resource]) -> bool:
    """Enabled, and notifying at least one notification channel of the stack."""
    if policy.get("enabled") is False:
        return False
    # Monitoring numbers its channels, so a reference cannot be matched to a channel's
    # inputs: it must name a notification channel, and the stack must have one.
    return bool(channels) and some(
        policy.items("notificationChannels"),
        lambda ref: isinstance(ref, str) and "/notificationChannels/" in ref,
    )


def _alert_topics(resources: Sequence[Resource]) -> list[Resource]:
    """Topics a Monitoring ``pubsub`` channel of the stack delivers to: the alert topic."""
    channels = [c for c in of_type(resources, CHANNEL) if c.get("type") == "pubsub"]
    return [
        t
        for t in of_type(resources, TOPIC)
        if any(refers_to(c.get("labels", "topic"), t) for c in channels)
    ]


@stack_policy(
    id="GCP-DET-001",
    title="Security Command Center findings of the project reach the alert topic",
    severity="high",
    controls=["DET-01", "DET-02"],
    remediation="Add ThreatDetection (answer account_services: this-stack), whose "
    "notification config streams ACTIVE HIGH and CRITICAL findings to the alert topic; "
    "or, with account_services: shared, have the owning stack route them.",
)
def scc_findings_routed(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A project running an AI workload streams its active high and critical Security
    Command Center findings to the alert topic through a project notification config,
    unless the project's services belong to another stack (``account_services: shared``).
    A config without a filter streams every finding, which includes those."""
    if requirements.account_services == "shared":
        raise NotApplicable(
            "account_services is shared: the stack owning the project's services routes "
            "its Security Command Center findings"
        )
    if not is_ai_workload(resources):
        raise NotApplicable("no AI workload: the workload stack routes the findings")
    configs = of_type(resources, *SCC_CONFIGS)
    if not configs:
        yield None, "no Security Command Center notification config routes the findings"
        return
    topics = _alert_topics(resources)
    for config in configs:
        if not any(refers_to(config.get("pubsubTopic"), t) for t in topics):
            yield config, f"{config.name} does not deliver to the alert topic"
        text = config.get("streamingConfig", "filter")
        if text is None:
            continue
        text = str(text)
        if 'state="ACTIVE"' not in text.replace(" ", ""):
            yield config, f"{config.name} does not select active findings"
        for severity in ("HIGH", "CRITICAL"):
            if not re.search(rf'severity\s*=\s*"{severity}"', text):
                yield config, f"{config.name} does not send {severity} findings"


@stack_policy(
    id="GCP-DET-002",
    title="Every tampering alarm watches its operations and is routed to the alert channel",
    severity="high",
    controls=["DET-03", "DET-02"],
    remediation="Add SecurityAlarms: one enabled alert policy per tampering alarm, whose "
    "log filter names the audit-log operations it watches, notifying the alert channel.",
)
def tampering_alarms(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """For each tampering alarm (guardrail, logging, keys, workload permissions,
    private network, secret reads) an enabled alert policy's log filter names every
    operation that alarm must watch, and the policy notifies a notification channel of
    the stack."""
    if not is_ai_workload(resources):
        raise NotApplicable("no AI workload: nothing to watch for tampering")
    channels = of_type(resources, CHANNEL)
    policies = of_type(resources, ALERT_POLICY)
    for alarm, operations in REQUIRED_OPERATIONS.items():
        watching = [
            p
            for p in policies
            if any(all(_quoted_or_text(f, op) for op in operations) for f in _filters(p))
        ]
        if not watching:
            yield None, f"no alert policy watches {alarm} ({', '.join(operations)})"
        elif not some(watching, lambda p: _routed(p, channels)):
            yield watching[0], f"{watching[0].name} ({alarm}) is not routed to the alert channel"


@stack_policy(
    id="GCP-DET-003",
    title="Guardrail and invocation surges raise alerts",
    severity="medium",
    controls=["DET-03"],
    remediation="Add SecurityAlarms: log-based metrics over Model Armor's sanitize "
    "operations with alert policies on them, and an alert on Vertex AI invocation volume.",
)
def surge_alarms(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Model Armor filter matches and prompt-injection matches are counted by log-based
    metrics that an enabled, routed alert policy watches, and Vertex AI invocation volume
    has an alert policy too."""
    if not is_ai_workload(resources):
        raise NotApplicable("no AI workload: no invocations to watch")
    channels = of_type(resources, CHANNEL)
    policies = [p for p in of_type(resources, ALERT_POLICY) if _routed(p, channels)]
    metrics = of_type(resources, LOG_METRIC)
    for alarm, match in SURGES.items():
        counting = [
            m
            for m in metrics
            if match in str(m.get("filter", default=""))
            and "sanitize_operations" in str(m.get("filter", default=""))
            and m.get("disabled") is not True
        ]
        if not counting:
            yield None, f"no log-based metric counts {alarm} ({match})"
            continue
        names = [str(m.get("name", default="")) for m in counting]
        if not any(
            n and any(n.replace("-", "_") in f for f in _filters(p))
            for p in policies
            for n in names
        ):
            yield None, f"no routed alert policy watches the {alarm} metric"
    if not any(INVOCATION_METRIC in f for p in policies for f in _filters(p)):
        yield None, "no routed alert policy watches Vertex AI invocation volume"


@resource_policy(
    id="GCP-DET-004",
    title="No alert policy without an action",
    severity="high",
    types=[ALERT_POLICY],
    controls=["DET-02"],
    remediation="Enable the alert policy and give it the alert channel's notification "
    "channels (AlertChannel.notification_channel_ids).",
)
def alert_has_action(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Every alert policy is enabled and notifies at least one channel; a log-match
    policy limits its notification rate (Monitoring refuses one without)."""
    if resource.get("enabled") is False:
        yield f"{resource.name} is disabled"
    if not resource.items("notificationChannels"):
        yield f"{resource.name} notifies no one"
    matched = any(
        hasattr(c, "get") and c.get("conditionMatchedLog") is not None
        for c in resource.items("conditions")
    )
    if matched and not resource.get("alertStrategy", "notificationRateLimit", "period"):
        yield f"{resource.name} matches log entries without a notification rate limit"


@stack_policy(
    id="GCP-DET-005",
    title="The alert channel reaches every alert address and a CMEK topic",
    severity="high",
    controls=["DET-02"],
    remediation="Pass alert_emails to AlertChannel (one e-mail channel each) and its "
    "project_number (the Pub/Sub channel on the CMEK alert topic).",
)
def alert_channel_subscribed(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Each address of ``alert_emails`` has an enabled Monitoring e-mail channel, and an
    enabled Monitoring Pub/Sub channel delivers to an alert topic encrypted with a
    customer-managed key (the machine channel)."""
    if not is_ai_workload(resources):
        raise NotApplicable("no AI workload: the workload stack owns the alert channel")
    channels = [c for c in of_type(resources, CHANNEL) if c.get("enabled") is not False]

    def delivers_to(address: str) -> Callable[[Resource], bool]:
        def test(channel: Resource) -> bool:
            to = str(channel.get("labels", "email_address", default=""))
            return channel.get("type") == "email" and to.lower() == address.lower()

        return test

    for address in requirements.alert_emails:
        if not some(channels, delivers_to(address)):
            yield None, f"no e-mail notification channel delivers to {address}"
    pubsub = [c for c in channels if c.get("type") == "pubsub"]
    topics = of_type(resources, TOPIC)
    if not pubsub:
        yield None, "no Pub/Sub notification channel delivers alerts to the alert topic"
        return
    if not some(
        pubsub,
        lambda c: any(
            refers_to(c.get("labels", "topic"), t) and every([t], lambda x: x.get("kmsKeyName"))
            for t in topics
        ),
    ):
        yield pubsub[0], f"{pubsub[0].name} does not deliver to a CMEK topic of the stack"


SINK = "gcp:logging/projectSink:ProjectSink"
SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
SUBSCRIPTION_GRANTS = (
    "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember",
    "gcp:pubsub/subscriptionIAMBinding:SubscriptionIAMBinding",
)
#: Members that stand for everyone (https://cloud.google.com/iam/docs/principals-overview).
_PUBLIC = ("allUsers", "allAuthenticatedUsers")


@stack_policy(
    id="GCP-DET-006",
    title="The SIEM export is on and its consumer may only pull it",
    severity="high",
    controls=["DET-04"],
    remediation="Keep the SiemExport sink enabled, and grant the consumer (siem_consumer) "
    "roles/pubsub.subscriber on the export subscription only.",
)
def siem_export_least_privilege(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Where a log sink exports the audit logs to a Pub/Sub topic (the SIEM export,
    stack config ``siem_consumer``), the sink is enabled, and whoever is granted on a
    subscription of that topic holds ``roles/pubsub.subscriber`` (pull and acknowledge)
    and is a named principal, not everyone."""
    sinks = [
        s
        for s in of_type(resources, SINK)
        if str(s.get("destination", default="")).startswith("pubsub.googleapis.com/")
        and "cloudaudit.googleapis.com" in str(s.get("filter", default=""))
    ]
    if not sinks:
        raise NotApplicable("no SIEM export (stack config siem_consumer is not set)")
    for sink in sinks:
        if sink.get("disabled") is True:
            yield sink, f"{sink.name} is disabled: the SIEM receives nothing"
    topics = [
        t
        for t in of_type(resources, TOPIC)
        if any(refers_to(str(s.get("destination")), t) for s in sinks)
    ]
    subscriptions = [
        s
        for s in of_type(resources, SUBSCRIPTION)
        if any(refers_to(s.get("topic"), t) for t in topics)
    ]
    for grant in of_type(resources, *SUBSCRIPTION_GRANTS):
        if not any(refers_to(grant.get("subscription"), s) for s in subscriptions):
            continue
        role = grant.get("role")
        members = [str(m) for m in grant.items("members")] or [str(grant.get("member"))]
        if role != "roles/pubsub.subscriber":
            yield grant, f"{grant.name} grants {role} on the SIEM export, not only pulling it"
        for member in members:
            if member in _PUBLIC:
                yield grant, f"{grant.name} lets {member} read the project's logs"
