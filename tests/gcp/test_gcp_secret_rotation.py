"""Secret rotation notices reach the owners on Google Cloud (issue 13, item 5).

Every secret has a rotation schedule (period and first time) whose SECRET_ROTATE
notices go to the rotation topic and to the project's alert topic, a CMEK topic kept
in the allowed regions that Secret Manager may publish to, after its grant propagated.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.testing import MockRun, ProgramError
from aiscaffold_components.gcp import AlertChannel, AlertChannelArgs, Secrets, SecretsArgs
from gcp_support import KEY, LABELS, REGION, agent, run_component

TOPIC = "gcp:pubsub/topic:Topic"
TOPIC_MEMBER = "gcp:pubsub/topicIAMMember:TopicIAMMember"
SECRET = "gcp:secretmanager/secret:Secret"
SLEEP = "time:index/sleep:Sleep"


def _build(**secrets_args: object) -> Callable[[], None]:
    def build() -> None:
        alerts = AlertChannel(
            "alerts",
            AlertChannelArgs(
                name_prefix="unit-test",
                kms_key_name=f"{KEY}/secrets",
                regions=[REGION],
                publishers={"secretmanager": agent("secretmanager")},
                labels=LABELS,
            ),
        )
        Secrets(
            "secrets",
            SecretsArgs(
                replicas={REGION: f"{KEY}/secrets"},
                allowed_regions=[REGION],
                secrets={"app": "v"},
                secret_manager_agent=agent("secretmanager"),
                labels=LABELS,
                **{"notify_topics": [alerts.topic_id], **secrets_args},  # type: ignore[arg-type]
            ),
        )

    return build


@pytest.fixture(scope="module")
def notified() -> MockRun:
    return run_component(_build())


def test_the_alert_topic_is_encrypted_and_resident(notified: MockRun) -> None:
    topic = next(t for t in notified.of_type(TOPIC) if t.name == "alerts-topic")
    assert topic.inputs["name"] == "unit-test-alerts"
    assert topic.inputs["kmsKeyName"] == f"{KEY}/secrets"
    assert topic.inputs["messageStoragePolicy"] == {
        "allowedPersistenceRegions": [REGION],
        "enforceInTransit": True,
    }


def test_secret_manager_may_publish_and_the_secret_waits(notified: MockRun) -> None:
    (grant,) = [g for g in notified.of_type(TOPIC_MEMBER) if g.name.startswith("alerts-")]
    assert grant.name == "alerts-publisher-secretmanager"
    assert grant.inputs["role"] == "roles/pubsub.publisher"
    assert grant.inputs["member"] == agent("secretmanager")
    sleep = next(s for s in notified.of_type(SLEEP) if s.name == "alerts-publishers-propagation")
    assert sleep.inputs["createDuration"] == "120s"


def test_rotation_notices_go_to_the_rotation_and_alert_topics(notified: MockRun) -> None:
    secret = notified.one(SECRET)
    topics = {t.name: t.outputs["id"] for t in notified.of_type(TOPIC)}
    assert [t["name"] for t in secret.inputs["topics"]] == [
        topics["secrets-rotation"],
        topics["alerts-topic"],
    ]
    assert secret.inputs["rotation"]["rotationPeriod"] == f"{90 * 86400}s"
    assert secret.inputs["rotation"]["nextRotationTime"]


def test_at_most_ten_topics_per_secret() -> None:
    with pytest.raises(ProgramError, match="at most 10 topics"):
        run_component(_build(notify_topics=[f"projects/p/topics/t{i}" for i in range(10)]))


def test_an_alert_topic_name_google_refuses_is_refused() -> None:
    def build() -> None:
        AlertChannel(
            "alerts",
            AlertChannelArgs(name_prefix="goog", kms_key_name="k", regions=[REGION]),
        )

    with pytest.raises(ProgramError, match="invalid Pub/Sub topic id"):
        run_component(build)


def test_generated_projects_notify_the_alert_topic(gcp_projects: dict[str, object]) -> None:
    for variant, generated in gcp_projects.items():
        run: MockRun = generated.run  # type: ignore[attr-defined]
        topic = next(t for t in run.of_type(TOPIC) if t.name == "alerts-topic")
        for secret in run.of_type(SECRET):
            named = [t["name"] for t in secret.inputs.get("topics", [])]
            assert topic.outputs["id"] in named, (variant, secret.name)
        report = evaluate(run, load_requirements(generated.path))  # type: ignore[attr-defined]
        mine = [
            f"{f.policy} {f.resource}: {f.message}"
            for f in report.policy_findings
            if f.policy.startswith(("GCP-PUBSUB", "GCP-SECRETS"))
        ]
        assert not mine, (variant, mine)
