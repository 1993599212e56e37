"""Detection and response on GCP (DET-01..04): alert channel, SCC findings, alarms, SIEM.

Component tests run one component under the mocks and check the security-relevant
inputs; project tests read the generated projects' mock runs (tests/gcp/conftest.py)
and their rendered docs/incident-response.md.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pytest
from aiscaffold.testing import CapturedResource, MockRun
from aiscaffold_components.gcp import (
    AlertChannel,
    AlertChannelArgs,
    SecurityAlarms,
    SecurityAlarmsArgs,
    SiemExport,
    SiemExportArgs,
    ThreatDetection,
    ThreatDetectionArgs,
)
from aiscaffold_components.gcp.detection import ALARMS, NETWORK_COLLECTIONS, WATCHED_METHODS
from aiscaffold_components.policies.gcp.detection import REQUIRED_OPERATIONS
from gcp_support import KEY, NUMBER, PROJECT, REGION, GeneratedRun, iam_bindings, run_component

ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
SCC_CONFIG = "gcp:securitycenter/v2ProjectNotificationConfig:V2ProjectNotificationConfig"
SINK = "gcp:logging/projectSink:ProjectSink"
WORKLOAD_EMAIL = f"workload@{PROJECT}.iam.gserviceaccount.com"
CHANNELS = [
    f"projects/{PROJECT}/notificationChannels/1",
    f"projects/{PROJECT}/notificationChannels/2",
]


def _alarms(**overrides: Any) -> MockRun:
    args: dict[str, Any] = {
        "project": PROJECT,
        "name_prefix": "app-dev",
        "notification_channels": CHANNELS,
        "workload_email": WORKLOAD_EMAIL,
        "workload_role": f"projects/{PROJECT}/roles/invoker",
    }
    args.update(overrides)
    return run_component(lambda: SecurityAlarms("alarms", SecurityAlarmsArgs(**args)))


def _policy(result: MockRun, alarm: str) -> CapturedResource:
    return result.one(ALERT_POLICY, f"alarms-{alarm}")


def _filter(policy: CapturedResource) -> str:
    condition = policy.inputs["conditions"][0]
    if "conditionMatchedLog" in condition:
        return str(condition["conditionMatchedLog"]["filter"])
    return str(condition["conditionPrometheusQueryLanguage"]["query"])


def _methods(filter_text: str) -> set[str]:
    return set(re.findall(r'protoPayload\.methodName="([^"]+)"', filter_text))


# ------------------------------------------------------------------------ alert channel
def _channel(**overrides: Any) -> MockRun:
    args: dict[str, Any] = {
        "project": PROJECT,
        "name_prefix": "app-dev",
        "kms_key_name": f"{KEY}/secrets",
        "regions": [REGION],
        "project_number": NUMBER,
    }
    args.update(overrides)
    return run_component(lambda: AlertChannel("alerts", AlertChannelArgs(**args)))


def test_alert_emails_become_email_channels_and_machines_get_the_topic() -> None:
    result = _channel(emails=["sec@example.com", "ops@example.com"])
    channels = result.of_type(CHANNEL)
    emails = {c.inputs["labels"]["email_address"] for c in channels if c.inputs["type"] == "email"}
    assert emails == {"sec@example.com", "ops@example.com"}
    (pubsub,) = [c for c in channels if c.inputs["type"] == "pubsub"]
    topic = result.one("gcp:pubsub/topic:Topic")
    assert pubsub.inputs["labels"]["topic"] == topic.id
    assert topic.inputs["kmsKeyName"] == f"{KEY}/secrets"
    grant = result.one("gcp:pubsub/topicIAMMember:TopicIAMMember", "alerts-publisher-monitoring")
    assert grant.inputs["role"] == "roles/pubsub.publisher"
    assert grant.inputs["member"] == (
        f"serviceAccount:service-{NUMBER}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
    )
    # Monitoring creates its agent with the first pubsub channel: the grant follows it.
    assert pubsub.urn in grant.dependencies


def test_no_address_still_gives_the_machine_channel() -> None:
    channels = _channel().of_type(CHANNEL)
    assert [c.inputs["type"] for c in channels] == ["pubsub"]


def test_email_channel_names_do_not_shift_when_an_address_is_removed() -> None:
    both = {c.name for c in _channel(emails=["a@example.com", "b@example.com"]).of_type(CHANNEL)}
    one = {c.name for c in _channel(emails=["b@example.com"]).of_type(CHANNEL)}
    assert one < both


@pytest.mark.parametrize("bad", ["not-an-address", "a@b", "two@@example.com"])
def test_invalid_alert_address_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="e-mail"):
        # Validation runs before anything registers.
        AlertChannel.__init__(
            object.__new__(AlertChannel),
            "alerts",
            AlertChannelArgs(
                project=PROJECT,
                name_prefix="a-dev",
                kms_key_name="k",
                regions=[REGION],
                emails=[bad],
            ),
        )


# ------------------------------------------------------------------------ threat detection
def test_scc_findings_of_high_and_critical_severity_go_to_the_alert_topic() -> None:
    topic = f"projects/{PROJECT}/topics/app-dev-alerts"
    result = run_component(
        lambda: ThreatDetection(
            "threats",
            ThreatDetectionArgs(
                project=PROJECT, topic_id=topic, config_id="app-dev-high-severity-finding"
            ),
        )
    )
    config = result.one(SCC_CONFIG)
    assert config.inputs["pubsubTopic"] == topic
    assert config.inputs["location"] == "global"
    text = config.inputs["streamingConfig"]["filter"]
    assert 'state="ACTIVE"' in text
    assert 'severity="HIGH"' in text and 'severity="CRITICAL"' in text
    assert 'finding_class="THREAT"' in text
    grant = result.one("gcp:pubsub/topicIAMMember:TopicIAMMember")
    assert grant.inputs == {
        "project": PROJECT,
        "topic": topic,
        "role": "roles/pubsub.publisher",
        "member": f"serviceAccount:service-{NUMBER}@gcp-sa-scc-notification.iam.gserviceaccount.com",
    }
    # The config waits for SCC's grant to propagate.
    sleep = result.one("time:index/sleep:Sleep")
    assert grant.urn in sleep.dependencies and sleep.urn in config.dependencies


def test_threat_detection_rejects_a_filter_without_active_findings() -> None:
    with pytest.raises(ValueError, match="ACTIVE"):
        ThreatDetection.__init__(
            object.__new__(ThreatDetection),
            "t",
            ThreatDetectionArgs(
                project=PROJECT, topic_id="t", config_id="c", findings_filter='severity="HIGH"'
            ),
        )


# ------------------------------------------------------------------------ security alarms
def test_every_alarm_is_an_enabled_alert_policy_routed_to_the_channels() -> None:
    result = _alarms()
    policies = result.of_type(ALERT_POLICY)
    assert {p.inputs["displayName"] for p in policies} == {f"app-dev-{a.name}" for a in ALARMS}
    for alarm in ALARMS:
        policy = _policy(result, alarm.name)
        assert policy.inputs["enabled"] is True
        assert policy.inputs["severity"] == alarm.severity
        assert policy.inputs["notificationChannels"] == CHANNELS
        assert (
            f"docs/incident-response.md#{alarm.name}" in policy.inputs["documentation"]["content"]
        )
        assert policy.inputs["userLabels"]["runbook"] == alarm.anchor


def test_tampering_severities() -> None:
    severity = {a.name: a.severity for a in ALARMS}
    assert {n for n, s in severity.items() if s == "CRITICAL"} == {
        "guardrail-tampering",
        "invocation-logging-disabled",
        "key-tampering",
    }


def test_filters_name_the_real_audit_log_operations() -> None:
    result = _alarms()
    guardrail = _methods(_filter(_policy(result, "guardrail-tampering")))
    assert {
        "google.cloud.modelarmor.v1.ModelArmor.DeleteTemplate",
        "google.cloud.modelarmor.v1.ModelArmor.UpdateTemplate",
        "google.cloud.modelarmor.v1.ModelArmor.UpdateFloorSetting",
    } <= guardrail
    assert 'protoPayload.serviceName="modelarmor.googleapis.com"' in _filter(
        _policy(result, "guardrail-tampering")
    )
    keys = _filter(_policy(result, "key-tampering"))
    assert {
        "DestroyCryptoKeyVersion",
        "UpdateCryptoKeyVersion",
        "UpdateCryptoKey",
        "SetIamPolicy",
    } <= _methods(keys)
    assert 'protoPayload.serviceName="cloudkms.googleapis.com"' in keys
    logging = _filter(_policy(result, "invocation-logging-disabled"))
    assert "google.logging.v2.ConfigServiceV2.DeleteSink" in _methods(logging)
    assert "protoPayload.serviceData.policyDelta.auditConfigDeltas:*" in logging
    network = _filter(_policy(result, "private-network-changed"))
    for collection in NETWORK_COLLECTIONS:
        assert f'protoPayload.methodName:"compute.{collection}."' in network
    assert "dns.changes.create" in _methods(network)
    # The policy pack's requirement and the component's filters name the same operations.
    for alarm, operations in REQUIRED_OPERATIONS.items():
        text = _filter(_policy(result, alarm))
        for operation in operations:
            assert operation in text, (alarm, operation)
        assert set(WATCHED_METHODS[alarm]) <= _methods(text) | {
            m for m in WATCHED_METHODS[alarm] if m in text
        }


def test_secret_reads_by_anyone_but_the_workload_alert() -> None:
    text = _filter(_policy(_alarms(), "secret-read-by-other-principal"))
    assert "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion" in _methods(
        text
    )
    assert f'protoPayload.authenticationInfo.principalEmail!="{WORKLOAD_EMAIL}"' in text


def test_workload_permissions_watch_its_bindings_keys_and_role() -> None:
    text = _filter(_policy(_alarms(), "workload-permissions-changed"))
    assert f'bindingDeltas.member="serviceAccount:{WORKLOAD_EMAIL}"' in text
    assert "google.iam.admin.v1.CreateServiceAccountKey" in _methods(text)
    assert f'protoPayload.resourceName:"projects/{PROJECT}/roles/invoker"' in text


def test_log_match_alarms_limit_their_notifications() -> None:
    result = _alarms(notification_rate_limit_seconds=900)
    for alarm in WATCHED_METHODS:
        strategy = _policy(result, alarm).inputs["alertStrategy"]
        assert strategy["notificationRateLimit"]["period"] == "900s"


def test_surges_count_model_armor_matches_and_alert_above_the_threshold() -> None:
    result = _alarms(prompt_attack_threshold=3)
    metric = result.one("gcp:logging/metric:Metric", "alarms-prompt-attack-surge-metric")
    assert "modelarmor.googleapis.com%2Fsanitize_operations" in metric.inputs["filter"]
    assert 'piAndJailbreakFilterResult.matchState="MATCH_FOUND"' in metric.inputs["filter"]
    query = _filter(_policy(result, "prompt-attack-surge"))
    assert query == f"sum(increase(logging_googleapis_com:user_{metric.inputs['name']}[10m])) > 3"
    spike = _filter(_policy(result, "invocation-volume-spike"))
    series = "aiplatform_googleapis_com:publisher_online_serving_model_invocation_count"
    assert f"sum(rate({series}[1h])) > 5 * sum(rate({series}[1h] offset 1d))" in spike


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"notification_channels": []}, "notification channel"),
        ({"invocation_spike_factor": 1.0}, "above 1"),
        ({"auto_close_seconds": 60}, "1800"),
        ({"prompt_attack_threshold": 0}, "positive"),
    ],
)
def test_alarm_arguments_are_checked(overrides: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {
        "project": PROJECT,
        "name_prefix": "app-dev",
        "notification_channels": CHANNELS,
        "workload_email": WORKLOAD_EMAIL,
        **overrides,
    }
    with pytest.raises(ValueError, match=match):
        SecurityAlarms.__init__(object.__new__(SecurityAlarms), "a", SecurityAlarmsArgs(**args))


# ------------------------------------------------------------------------ SIEM export
CONSUMER = "serviceAccount:siem@central.iam.gserviceaccount.com"


def _siem(**overrides: Any) -> MockRun:
    args: dict[str, Any] = {
        "project": PROJECT,
        "consumer": CONSUMER,
        "name_prefix": "app-dev",
        "kms_key_name": f"{KEY}/secrets",
        "regions": [REGION],
    }
    args.update(overrides)
    return run_component(lambda: SiemExport("siem", SiemExportArgs(**args)))


def test_siem_consumer_may_pull_the_export_and_nothing_else() -> None:
    result = _siem()
    grants = [
        (g.type.split(":")[-1], g.inputs["role"], g.inputs["member"]) for g in iam_bindings(result)
    ]
    writer = result.one(SINK).outputs["writerIdentity"]
    assert sorted(grants) == sorted(
        [
            ("SubscriptionIAMMember", "roles/pubsub.subscriber", CONSUMER),
            ("TopicIAMMember", "roles/pubsub.publisher", writer),
        ]
    )
    subscription = result.one("gcp:pubsub/subscription:Subscription")
    assert "pushConfig" not in subscription.inputs
    topic = result.one("gcp:pubsub/topic:Topic")
    assert topic.inputs["kmsKeyName"] == f"{KEY}/secrets"
    assert subscription.inputs["topic"] == topic.id
    sink = result.one(SINK)
    assert sink.inputs["destination"] == f"pubsub.googleapis.com/{topic.id}"
    assert 'logName:"cloudaudit.googleapis.com"' in sink.inputs["filter"]
    assert 'logName:"modelarmor.googleapis.com"' in sink.inputs["filter"]


@pytest.mark.parametrize("consumer", ["siem@central.iam.gserviceaccount.com", "allUsers", "user:"])
def test_siem_consumer_must_be_a_named_member(consumer: str) -> None:
    with pytest.raises(ValueError, match="consumer|IAM member"):
        SiemExport.__init__(
            object.__new__(SiemExport),
            "s",
            SiemExportArgs(
                project=PROJECT,
                consumer=consumer,
                name_prefix="a",
                kms_key_name="k",
                regions=[REGION],
            ),
        )


# ------------------------------------------------------------------------ generated projects
def test_this_stack_creates_the_scc_config_and_shared_none(
    gcp_projects: dict[str, GeneratedRun],
) -> None:
    default = gcp_projects["defaults"].run
    config = default.one(SCC_CONFIG)
    topic = default.one("gcp:pubsub/topic:Topic", "alerts-topic")
    assert config.inputs["pubsubTopic"] == topic.id
    shared = gcp_projects["restricted-shared-siem"].run
    assert not shared.of_type(SCC_CONFIG)
    assert not [r for r in shared.resources if r.type.startswith("gcp:securitycenter/")]
    # Its own alarms stay.
    assert len(shared.of_type(ALERT_POLICY)) == len(ALARMS)


def test_siem_export_only_with_a_consumer(gcp_projects: dict[str, GeneratedRun]) -> None:
    for variant, project in gcp_projects.items():
        components = [r for r in project.run.components if r.type == "aiscaffold:gcp:SiemExport"]
        assert bool(components) == (variant == "restricted-shared-siem"), variant
    run = gcp_projects["restricted-shared-siem"].run
    grant = run.one("gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember")
    assert grant.inputs["member"] == "serviceAccount:siem@central-sec.iam.gserviceaccount.com"
    assert grant.inputs["role"] == "roles/pubsub.subscriber"


def test_alert_emails_are_subscribed(gcp_projects: dict[str, GeneratedRun]) -> None:
    for variant, project in gcp_projects.items():
        expected = set(project.config.get("alert_emails") or [])
        channels = project.run.of_type(CHANNEL)
        found = {
            c.inputs["labels"]["email_address"] for c in channels if c.inputs["type"] == "email"
        }
        assert found == expected, variant
        ids = {c.id for c in channels}
        for policy in project.run.of_type(ALERT_POLICY):
            assert set(policy.inputs["notificationChannels"]) == ids, (variant, policy.name)


def _playbook(project: GeneratedRun) -> str:
    return (project.path / "docs" / "incident-response.md").read_text(encoding="utf-8")


def _program_alarms(project: GeneratedRun) -> set[str]:
    prefix = f"{project.project}-dev-"
    names = {
        p.inputs["displayName"].removeprefix(prefix) for p in project.run.of_type(ALERT_POLICY)
    }
    for config in project.run.of_type(SCC_CONFIG):
        names.add(config.inputs["configId"].removeprefix(prefix))
    return names


def _playbook_alarms(text: str) -> set[str]:
    return set(re.findall(r'<a id="([a-z0-9-]+)"></a>', text))


@pytest.mark.parametrize("variant", ["defaults", "restricted-shared-siem"])
def test_playbook_and_program_name_the_same_alerts(
    variant: str, gcp_projects: dict[str, GeneratedRun]
) -> None:
    project = gcp_projects[variant]
    text = _playbook(project)
    program = _program_alarms(project)
    documented = _playbook_alarms(text)
    # With account_services shared the SCC route is the owning stack's, still documented.
    assert program <= documented
    assert documented - program <= {"high-severity-finding"}
    assert documented == {a.name for a in ALARMS} | {"high-severity-finding"}
    for name in documented:
        assert f"`{name}`" in text


def test_every_runbook_link_points_to_an_anchor_of_the_playbook(
    gcp_projects: dict[str, GeneratedRun],
) -> None:
    project = gcp_projects["defaults"]
    anchors = _playbook_alarms(_playbook(project))
    for policy in project.run.of_type(ALERT_POLICY):
        content = policy.inputs["documentation"]["content"]
        (link,) = re.findall(r"Runbook: (\S+)", content)
        path, _, anchor = link.partition("#")
        assert (project.path / path).is_file()
        assert anchor in anchors, policy.name


def test_readme_says_how_to_add_an_alert_address_and_turn_on_the_siem(
    gcp_projects: dict[str, GeneratedRun],
) -> None:
    readme = (gcp_projects["defaults"].path / "README.md").read_text(encoding="utf-8")
    assert "pulumi config set --path 'gcp-defaults:alert_emails[0]'" in readme
    assert "pulumi config set siem_consumer" in readme
    shared = (gcp_projects["restricted-shared-siem"].path / "README.md").read_text(encoding="utf-8")
    assert "account_services: shared" in shared and "notification config" in shared
    assert "alert_emails[0]" not in shared


def test_threat_detection_waits_for_the_api(gcp_projects: dict[str, GeneratedRun]) -> None:
    run = gcp_projects["defaults"].run
    api = run.one("gcp:projects/service:Service", "api-securitycenter")
    assert api.urn in run.one(SCC_CONFIG).dependencies
    monitoring = run.one("gcp:projects/service:Service", "api-monitoring")
    for policy in run.of_type(ALERT_POLICY):
        assert monitoring.urn in policy.dependencies


def test_components_are_parented(gcp_projects: dict[str, GeneratedRun]) -> None:
    run = gcp_projects["defaults"].run
    for token in ("aiscaffold:gcp:SecurityAlarms", "aiscaffold:gcp:ThreatDetection"):
        (component,) = [r for r in run.components if r.type == token]
        assert run.children(component), token


_ = pulumi  # the components register under the harness's mocks
