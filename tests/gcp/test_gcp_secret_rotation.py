"""Secret rotation told truthfully on Google Cloud (issue 13, item 5).

Every secret has a rotation schedule (period and first time) whose SECRET_ROTATE
notices go to the rotation topic and to the project's alert topic, a CMEK topic kept
in the allowed regions that Secret Manager may publish to, after its grant propagated.
Secret Manager changes no value itself: only with a rotation service (a push
subscription on the rotation topic) does GCP-SECRETS-003 pass; notices nobody acts on
are "reminder only" (not applicable: never credited), so SEC-03 is not ✅.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiscaffold.api_models import validate
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.cli import main
from aiscaffold.testing import CapturedResource, MockRun, ProgramError
from aiscaffold_components.gcp import AlertChannel, AlertChannelArgs, Secrets, SecretsArgs
from aiscaffold_components.policies import Requirements
from aiscaffold_components.policies._core import NotApplicable, Resource
from aiscaffold_components.policies.gcp.secrets import REMINDER_ONLY, secret_rotation
from gcp.gcp_policy_support import DROP, only, patch, report, reqs, res
from gcp_support import KEY, LABELS, REGION, agent, run_component
from helpers import RenderProject
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

TOPIC = "gcp:pubsub/topic:Topic"
TOPIC_MEMBER = "gcp:pubsub/topicIAMMember:TopicIAMMember"
SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
SECRET = "gcp:secretmanager/secret:Secret"
SLEEP = "time:index/sleep:Sleep"
POLICY = "GCP-SECRETS-003"
ENDPOINT = "https://rotate-secrets-abc123-uc.a.run.app/rotate"
PUSHER = "secret-rotator@mock-project.iam.gserviceaccount.com"
SEC_03_CLAUSE = "8.6.3"  # PCI DSS: system and application passwords changed periodically


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


def _only(requirements: Requirements) -> Requirements:
    return only(requirements, POLICY)


@pytest.fixture(scope="module")
def pushed() -> MockRun:
    return run_component(
        _build(rotation_push_endpoint=ENDPOINT, rotation_push_service_account=PUSHER)
    )


# ------------------------------------------------------------------ components
def test_without_a_rotation_service_nothing_subscribes(notified: MockRun) -> None:
    assert not notified.of_type(SUBSCRIPTION)


def test_a_rotation_service_gets_each_notice_pushed(pushed: MockRun) -> None:
    (subscription,) = pushed.of_type(SUBSCRIPTION)
    assert subscription.name == "secrets-rotation-push"
    rotation_topic = next(t for t in pushed.of_type(TOPIC) if t.name == "secrets-rotation")
    assert subscription.inputs["topic"] == rotation_topic.outputs["id"]
    assert subscription.inputs["pushConfig"] == {
        "pushEndpoint": ENDPOINT,
        "oidcToken": {"serviceAccountEmail": PUSHER, "audience": ENDPOINT},
    }
    assert subscription.inputs["filter"] == 'attributes.eventType = "SECRET_ROTATE"'
    # Idle between two notices, it must not be deleted after Pub/Sub's default 31 days.
    assert subscription.inputs["expirationPolicy"] == {"ttl": ""}
    assert subscription.inputs["messageRetentionDuration"] == f"{7 * 86400}s"
    assert subscription.inputs["ackDeadlineSeconds"] == 600
    assert subscription.inputs["retainAckedMessages"] is False
    assert subscription.inputs["labels"] == LABELS
    secret = pushed.one(SECRET)
    assert rotation_topic.outputs["id"] in [t["name"] for t in secret.inputs["topics"]]


def test_the_push_subscription_is_inside_the_api_domain(pushed: MockRun) -> None:
    result = validate("gcp", pushed.custom_resources)
    assert not result.problems, "\n".join(map(str, result.problems))
    assert not result.unmapped
    assert (SUBSCRIPTION, "expirationPolicy.ttl") in result.checked
    assert (SUBSCRIPTION, "messageRetentionDuration") in result.checked


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"rotation_push_endpoint": "http://rotate.example.com/"}, "https:// URL"),
        ({"rotation_push_endpoint": "rotate.example.com"}, "https:// URL"),
        ({"rotation_push_service_account": None}, "go together"),
        ({"rotation_push_endpoint": None}, "go together"),
        ({"rotation_push_service_account": f"serviceAccount:{PUSHER}"}, "email"),
        ({"rotation_days": None}, "needs rotation_days"),
    ],
)
def test_a_push_pubsub_would_refuse_is_refused(changes: dict[str, Any], says: str) -> None:
    values: dict[str, Any] = {
        "rotation_push_endpoint": ENDPOINT,
        "rotation_push_service_account": PUSHER,
        **changes,
    }
    with pytest.raises(ProgramError, match=says):
        run_component(_build(**values))


def test_notices_nobody_acts_on_are_reminder_only(notified: MockRun) -> None:
    result = evaluate(notified, _only(reqs()))
    assert not result.policy_findings, [f.message for f in result.policy_findings]
    assert result.verdicts[POLICY] == {"": "not applicable"}
    assert POLICY not in result.passed


def test_a_push_to_the_rotation_service_passes(pushed: MockRun) -> None:
    result = evaluate(pushed, reqs())
    mine = [
        f"{f.policy} {f.resource}: {f.message}"
        for f in result.policy_findings
        if f.policy.startswith(("GCP-PUBSUB", "GCP-SECRETS"))
    ]
    assert not mine
    assert result.verdicts[POLICY] == {"": "passed"}


# ------------------------------------------------------------------ GCP-SECRETS-003
ROTATION_TOPIC = "projects/mock-project/topics/rotation"
SECRET_INPUTS: dict[str, Any] = {
    "secretId": "app",
    "replication": {"userManaged": {"replicas": [{"location": REGION}]}},
    "rotation": {"rotationPeriod": f"{90 * 86400}s", "nextRotationTime": "2030-01-01T00:00:00Z"},
    "topics": [{"name": ROTATION_TOPIC}, {"name": "projects/mock-project/topics/alerts"}],
}
PUSH_INPUTS: dict[str, Any] = {
    "topic": ROTATION_TOPIC,
    "filter": 'attributes.eventType = "SECRET_ROTATE"',
    "pushConfig": {
        "pushEndpoint": ENDPOINT,
        "oidcToken": {"serviceAccountEmail": PUSHER, "audience": ENDPOINT},
    },
    "expirationPolicy": {"ttl": ""},
}


def _secret(name: str = "app", /, **changes: Any) -> CapturedResource:
    return res(SECRET, name, patch(SECRET_INPUTS, changes))


def _push(name: str = "push", /, **changes: Any) -> CapturedResource:
    return res(SUBSCRIPTION, name, patch(PUSH_INPUTS, changes))


def _verdict(resources: list[CapturedResource]) -> str:
    return report(resources, _only(reqs())).verdicts[POLICY][""]


def _flagged(resources: list[CapturedResource]) -> set[str]:
    found = report(resources, _only(reqs())).policy_findings
    return {f.resource for f in found if f.outcome == "violation"}


def test_a_push_subscription_on_a_secret_topic_passes() -> None:
    assert _verdict([_secret(), _push()]) == "passed"
    # the subscription may name its topic by its bare name (same project)
    assert _verdict([_secret(), _push(topic="rotation")]) == "passed"
    # an expiry policy longer than the rotation period keeps it alive between notices
    assert _verdict([_secret(), _push(**{"expirationPolicy.ttl": f"{120 * 86400}s"})]) == "passed"


@pytest.mark.parametrize(
    "subscription",
    [
        # an application's push on a topic of its own
        _push(topic="projects/mock-project/topics/other", filter=DROP),
        _push(pushConfig=DROP),  # a pull subscriber may act on the notices or not
    ],
    ids=["another-topic", "pull"],
)
def test_notices_no_rotation_service_receives_are_reminder_only(
    subscription: CapturedResource,
) -> None:
    assert _verdict([_secret(), subscription]) == "not applicable"
    assert not _flagged([_secret(), subscription])


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"pushConfig.pushEndpoint": "http://rotate.example.com/"}, "not an HTTPS URL"),
        ({"pushConfig.pushEndpoint": DROP}, "pushes to no endpoint"),
        ({"filter": 'attributes.eventType = "SECRET_VERSION_ADD"'}, "filter out"),
    ],
    ids=["http", "no-endpoint", "filtered-out"],
)
def test_a_push_that_cannot_deliver_the_notices_is_a_violation(
    changes: dict[str, Any], says: str
) -> None:
    resources = [_secret(), _push(**changes)]
    assert _flagged(resources) == {"push"}
    messages = [f.message for f in report(resources, _only(reqs())).policy_findings]
    assert any(says in m for m in messages), messages


def test_a_secret_left_out_of_the_rotation_service_is_a_violation() -> None:
    """Once the stack pushes notices to a rotation service, a secret whose topics it is
    not pushed from (say its rotation topic was dropped) is not merely reminded."""
    alerts_only = _secret("alerts-only", topics=[{"name": "projects/mock-project/topics/alerts"}])
    assert _flagged([_secret(), alerts_only, _push()]) == {"alerts-only"}
    # a push of rotation notices alone is the rotation service, whatever its topic...
    assert _flagged([alerts_only, _push()]) == {"alerts-only"}
    # ...while an unfiltered push from a topic no secret names serves something else
    assert _verdict([alerts_only, _push(filter=DROP)]) == "not applicable"


def test_a_rotation_period_secret_manager_refuses_is_a_violation() -> None:
    assert _flagged([_secret(**{"rotation.rotationPeriod": "0s"}), _push()]) == {"app"}


def test_reminder_only_reason_names_the_secrets() -> None:
    resources = [
        Resource(type=r.type, name=r.name, urn=r.urn, props=r.inputs)
        for r in (_secret("a"), _secret("b"))
    ]
    with pytest.raises(
        NotApplicable,
        match=rf"^{REMINDER_ONLY}: no rotation service receives the SECRET_ROTATE notices of a, b ",
    ):
        list(secret_rotation.evaluate(resources, reqs()))


@pytest.mark.parametrize(
    ("expiration", "says"),
    [
        (DROP, "expires after 31 days"),
        ({"ttl": f"{30 * 86400}s"}, "expires after 30 days"),
    ],
)
def test_a_push_subscription_gone_before_the_next_notice_is_a_violation(
    expiration: Any, says: str
) -> None:
    resources = [_secret(), _push(expirationPolicy=expiration)]
    assert _flagged(resources) == {"push"}
    messages = [f.message for f in report(resources, _only(reqs())).policy_findings]
    assert any(says in m for m in messages), messages
    # one lasting push of the secret's topics is enough
    assert _verdict([*resources, _push("lasting")]) == "passed"


def test_the_schedule_is_judged_before_any_push() -> None:
    resources = [
        _secret("none", rotation=DROP, topics=DROP),
        _secret("slow", **{"rotation.rotationPeriod": f"{365 * 86400}s"}),
        _secret("no-start", **{"rotation.nextRotationTime": DROP}),
        _secret("no-topic", topics=DROP),
        _secret("good"),
        _push(),
    ]  # confidential: 90 days
    assert _flagged(resources) == {"none", "slow", "no-start", "no-topic"}


def test_an_expiring_secret_passes_without_a_push() -> None:
    expiring = _secret("expiring", rotation=DROP, topics=DROP, ttl=f"{30 * 86400}s")
    assert _verdict([expiring]) == "passed"
    long_lived = _secret("long", rotation=DROP, topics=DROP, ttl=f"{365 * 86400}s")
    assert _flagged([expiring, long_lived]) == {"long"}


def test_no_secret_is_not_applicable() -> None:
    assert _verdict([_push()]) == "not applicable"


def test_a_violation_decides_and_a_reminder_does_not_hide_it() -> None:
    slow = _secret("slow", **{"rotation.rotationPeriod": f"{365 * 86400}s"})
    for resources in ([_secret("reminded"), slow], [slow, _secret("reminded")]):
        assert _flagged(resources) == {"slow"}


@pytest.mark.parametrize("reverse", [False, True], ids=["in-order", "reversed"])
def test_an_unknown_topic_leaves_the_verdict_open_unless_a_known_push_decides(
    reverse: bool,
) -> None:
    pending = _push("pending", topic=UNKNOWN_STRING_VALUE)
    resources = [_secret(), pending]
    ordered = resources[::-1] if reverse else resources
    result = report(ordered, _only(reqs()))
    message = UnknownValueError(UNKNOWN_STRING_VALUE, ["topic"]).message
    assert [(f.resource, f.message) for f in result.policy_findings] == [("(stack)", message)]
    assert result.verdicts[POLICY] == {"": "unknown"}
    decided = [*ordered, _push()] if not reverse else [_push(), *ordered]
    assert _verdict(decided) == "passed"


def test_an_unknown_secret_topic_is_unknown_but_a_known_violation_decides() -> None:
    pending = _secret("pending", topics=UNKNOWN_STRING_VALUE)
    assert _verdict([pending, _push()]) == "unknown"
    slow = _secret("slow", **{"rotation.rotationPeriod": f"{365 * 86400}s"})
    for resources in ([pending, slow], [slow, pending]):
        assert _flagged(resources) == {"slow"}


# ------------------------------------------------------------------ generated projects
def test_generated_projects_are_reminder_only(gcp_projects: dict[str, object]) -> None:
    for variant, generated in gcp_projects.items():
        run: MockRun = generated.run  # type: ignore[attr-defined]
        requirements = load_requirements(generated.path)  # type: ignore[attr-defined]
        result = evaluate(run, _only(requirements))
        assert result.verdicts[POLICY] == {"": "not applicable"}, variant
        assert POLICY not in result.passed


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out


def _status(matrix: str, clause: str) -> str:
    for line in matrix.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if cells and cells[0] == clause:
            return cells[-1]
    raise AssertionError(f"no row for {clause}")


@pytest.mark.slow
def test_sec_03_is_not_verified_without_a_rotation_service(
    render_project: RenderProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the CLI: PCI DSS 8.6.3 (SEC-03 only) is not ✅ while the notices only
    remind; naming a rotation service in the stack config makes it ✅."""
    project = tmp_path / "gcp-pci"
    shutil.copytree(
        render_project(cloud="gcp", project_name="gcp-pci", compliance=["pci-dss"]), project
    )
    code, matrix = _cli(capsys, "check", str(project), "--format", "compliance")
    assert code == 0, matrix
    assert "✅" not in _status(matrix, SEC_03_CLAUSE)

    (stack_file,) = project.glob("Pulumi.*.yaml")
    config = yaml.safe_load(stack_file.read_text(encoding="utf-8"))
    config["config"]["gcp-pci:secret_rotation_push_endpoint"] = ENDPOINT
    config["config"]["gcp-pci:secret_rotation_push_service_account"] = PUSHER
    stack_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    code, matrix = _cli(capsys, "check", str(project), "--format", "compliance")
    assert code == 0, matrix
    assert _status(matrix, SEC_03_CLAUSE).startswith("✅")
