"""GCP detection policies (GCP-DET-001..005): a compliant stack, and each way to fail.

The compliant stack is what the components build (AlertChannel, ThreatDetection,
SecurityAlarms under the mocks) plus a Vertex AI endpoint, which makes it an AI workload.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from aiscaffold.testing import CapturedResource
from aiscaffold_components.gcp import (
    AlertChannel,
    AlertChannelArgs,
    SecurityAlarms,
    SecurityAlarmsArgs,
    ThreatDetection,
    ThreatDetectionArgs,
)
from gcp_policy_support import DROP, PROJECT, REGION, flagged, messages, patch, reqs, res
from gcp_support import KEY, NUMBER, run_component

EMAILS = ["sec@example.com", "ops@example.com"]
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
SCC = "gcp:securitycenter/v2ProjectNotificationConfig:V2ProjectNotificationConfig"


def _build() -> None:
    alerts = AlertChannel(
        "alerts",
        AlertChannelArgs(
            project=PROJECT,
            name_prefix="app-dev",
            kms_key_name=f"{KEY}/secrets",
            regions=[REGION],
            emails=EMAILS,
            project_number=NUMBER,
        ),
    )
    ThreatDetection(
        "threats",
        ThreatDetectionArgs(project=PROJECT, topic_id=alerts.topic_id, config_id="app-dev-hsf"),
    )
    SecurityAlarms(
        "alarms",
        SecurityAlarmsArgs(
            project=PROJECT,
            name_prefix="app-dev",
            notification_channels=alerts.notification_channel_ids,
            workload_email=f"workload@{PROJECT}.iam.gserviceaccount.com",
        ),
    )


@pytest.fixture(scope="module")
def stack() -> list[CapturedResource]:
    resources = run_component(_build).custom_resources
    return [*resources, res("gcp:vertex/aiEndpoint:AiEndpoint", "endpoint", {"region": REGION})]


def _edit(
    resources: list[CapturedResource],
    pick: Callable[[CapturedResource], bool],
    changes: dict[str, Any],
) -> list[CapturedResource]:
    out = []
    for resource in resources:
        if pick(resource):
            resource = dataclasses.replace(resource, inputs=patch(resource.inputs, changes))
        out.append(resource)
    return out


def _named(name: str) -> Callable[[CapturedResource], bool]:
    return lambda r: r.name == name


def _without(resources: list[CapturedResource], name: str) -> list[CapturedResource]:
    return [r for r in resources if r.name != name]


REQS = reqs(alert_emails=EMAILS)


@pytest.mark.parametrize(
    "policy", ["GCP-DET-001", "GCP-DET-002", "GCP-DET-003", "GCP-DET-004", "GCP-DET-005"]
)
def test_the_components_comply(policy: str, stack: list[CapturedResource]) -> None:
    assert flagged(policy, stack, REQS) == set()


# ------------------------------------------------------------------ GCP-DET-001
def test_scc_config_missing(stack: list[CapturedResource]) -> None:
    assert flagged("GCP-DET-001", _without(stack, "threats-findings"), REQS) == {"(stack)"}


def test_scc_config_to_another_topic(stack: list[CapturedResource]) -> None:
    edited = _edit(
        stack, _named("threats-findings"), {"pubsubTopic": f"projects/{PROJECT}/topics/other"}
    )
    assert flagged("GCP-DET-001", edited, REQS) == {"threats-findings"}


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ('state="ACTIVE" AND severity="CRITICAL"', "HIGH"),
        ('severity="HIGH" OR severity="CRITICAL"', "active"),
    ],
)
def test_scc_filter_narrowed(stack: list[CapturedResource], text: str, missing: str) -> None:
    edited = _edit(stack, _named("threats-findings"), {"streamingConfig.filter": text})
    found = messages("GCP-DET-001", edited, REQS)
    assert found and all("threats-findings" in m for m in found)
    assert any(missing in m for m in found)


def test_scc_not_applicable_when_shared(stack: list[CapturedResource]) -> None:
    without = _without(stack, "threats-findings")
    assert flagged("GCP-DET-001", without, reqs(account_services="shared")) == set()


# ------------------------------------------------------------------ GCP-DET-002
@pytest.mark.parametrize(
    ("alarm", "operation"),
    [
        ("guardrail-tampering", "google.cloud.modelarmor.v1.ModelArmor.DeleteTemplate"),
        ("key-tampering", "DestroyCryptoKeyVersion"),
        ("invocation-logging-disabled", "google.logging.v2.ConfigServiceV2.DeleteSink"),
        ("secret-read-by-other-principal", "AccessSecretVersion"),
    ],
)
def test_tampering_alarm_missing_an_operation(
    stack: list[CapturedResource], alarm: str, operation: str
) -> None:
    name = f"alarms-{alarm}"
    (policy,) = [r for r in stack if r.name == name]
    text = policy.inputs["conditions"][0]["conditionMatchedLog"]["filter"]
    weakened = text.replace(operation, "google.example.v1.Nothing")
    edited = _edit(stack, _named(name), {"conditions.0.conditionMatchedLog.filter": weakened})
    found = messages("GCP-DET-002", edited, REQS)
    assert any(alarm in m for m in found), found


def test_tampering_alarm_disabled(stack: list[CapturedResource]) -> None:
    edited = _edit(stack, _named("alarms-key-tampering"), {"enabled": False})
    assert flagged("GCP-DET-002", edited, REQS) == {"alarms-key-tampering"}


def test_tampering_alarm_missing(stack: list[CapturedResource]) -> None:
    assert flagged("GCP-DET-002", _without(stack, "alarms-guardrail-tampering"), REQS) == {
        "(stack)"
    }


# ------------------------------------------------------------------ GCP-DET-003
def test_surge_metric_missing(stack: list[CapturedResource]) -> None:
    without = _without(stack, "alarms-prompt-attack-surge-metric")
    assert any("prompt-attack-surge" in m for m in messages("GCP-DET-003", without, REQS))


def test_invocation_alarm_missing(stack: list[CapturedResource]) -> None:
    without = _without(stack, "alarms-invocation-volume-spike")
    assert messages("GCP-DET-003", without, REQS) == [
        "no routed alert policy watches Vertex AI invocation volume"
    ]


# ------------------------------------------------------------------ GCP-DET-004
@pytest.mark.parametrize(
    "changes",
    [
        {"enabled": False},
        {"notificationChannels": DROP},
        {"alertStrategy.notificationRateLimit": DROP},
    ],
)
def test_alarm_without_action(stack: list[CapturedResource], changes: dict[str, Any]) -> None:
    edited = _edit(stack, _named("alarms-guardrail-tampering"), changes)
    assert flagged("GCP-DET-004", edited, REQS) == {"alarms-guardrail-tampering"}


# ------------------------------------------------------------------ GCP-DET-005
def test_address_not_subscribed(stack: list[CapturedResource]) -> None:
    found = messages("GCP-DET-005", stack, reqs(alert_emails=[*EMAILS, "ciso@example.com"]))
    assert found == ["no e-mail notification channel delivers to ciso@example.com"]


def test_alert_topic_without_cmek(stack: list[CapturedResource]) -> None:
    edited = _edit(stack, _named("alerts-topic"), {"kmsKeyName": DROP})
    assert flagged("GCP-DET-005", edited, REQS) == {"alerts-pubsub"}


def test_no_machine_channel(stack: list[CapturedResource]) -> None:
    assert flagged("GCP-DET-005", _without(stack, "alerts-pubsub"), REQS) == {"(stack)"}


def test_email_channel_disabled(stack: list[CapturedResource]) -> None:
    edited = _edit(
        stack,
        lambda r: (
            r.type == CHANNEL
            and r.inputs.get("labels", {}).get("email_address") == "ops@example.com"
        ),
        {"enabled": False},
    )
    assert messages("GCP-DET-005", edited, REQS) == [
        "no e-mail notification channel delivers to ops@example.com"
    ]


# ------------------------------------------------------------------ GCP-DET-006
@pytest.fixture(scope="module")
def siem() -> list[CapturedResource]:
    from aiscaffold_components.gcp import SiemExport, SiemExportArgs

    def build() -> None:
        SiemExport(
            "siem",
            SiemExportArgs(
                project=PROJECT,
                consumer="serviceAccount:siem@central.iam.gserviceaccount.com",
                name_prefix="app-dev",
                kms_key_name=f"{KEY}/secrets",
                regions=[REGION],
            ),
        )

    return run_component(build).custom_resources


def test_siem_export_complies(siem: list[CapturedResource]) -> None:
    assert flagged("GCP-DET-006", siem, REQS) == set()


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("siem-consumer", {"role": "roles/pubsub.editor"}),
        ("siem-consumer", {"member": "allUsers"}),
        ("siem-sink", {"disabled": True}),
    ],
)
def test_siem_export_widened_or_off(
    siem: list[CapturedResource], name: str, changes: dict[str, Any]
) -> None:
    assert flagged("GCP-DET-006", _edit(siem, _named(name), changes), REQS) == {name}


def test_no_siem_export_is_not_applicable(stack: list[CapturedResource]) -> None:
    assert flagged("GCP-DET-006", stack, REQS) == set()
