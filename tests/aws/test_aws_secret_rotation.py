"""Secret rotation told truthfully on AWS (issue 13, item 5), and the alert channel.

With a rotation function Secrets Manager rotates every secret and AWS-SECRETS-004
passes; without one each secret gets a reminder to the alert topic and the policy is
"reminder only" (not applicable: never credited), so SEC-03 is not ✅. Tags are not
evidence. The alert topic is encrypted with its own key, which the publishers may use.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.cli import main
from aiscaffold.testing import MockRun, ProgramError
from aiscaffold_components.aws import AlertChannel, AlertChannelArgs, Secrets, SecretsArgs
from aiscaffold_components.policies._core import NotApplicable, Resource
from aiscaffold_components.policies.aws.secrets import REMINDER_ONLY, rotation
from aws.aws_policy_support import (
    KEY_ARN,
    TAGS,
    check,
    flagged,
    only,
    requirements,
    res,
    unknown,
)
from aws.aws_support import ACCOUNT, PROJECTS, ROLE, run_component
from helpers import RenderProject
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

SECRET = "aws:secretsmanager/secret:Secret"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
SCHEDULE = "aws:scheduler/schedule:Schedule"
TOPIC = "aws:sns/topic:Topic"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:p-alerts"
LAMBDA = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:rotate"
SEC_03_CLAUSE = "8.6.3"  # PCI DSS: system and application passwords changed periodically


def _secrets(**overrides: Any) -> MockRun:
    def build() -> None:
        channel = AlertChannel("alerts", AlertChannelArgs(name_prefix="p-dev", tags=TAGS))
        values: dict[str, Any] = {
            "names": ["app", "db"],
            "prefix": "p/dev",
            "kms_key_arn": KEY_ARN,
            "reader_role_arns": [ROLE],
            "vpc_endpoint_ids": ["vpce-1"],
            "tags": TAGS,
            "rotation_days": 30,
            "reminder_topic_arn": channel.topic_arn,
            "reminder_role_arn": channel.scheduler_role_arn,
        }
        values.update(overrides)
        Secrets("secrets", SecretsArgs(**values))

    return run_component(build)


@pytest.fixture(scope="module")
def reminded() -> MockRun:
    return _secrets()


# ------------------------------------------------------------------ components
def test_without_a_function_each_secret_gets_a_reminder(reminded: MockRun) -> None:
    assert not reminded.of_type(ROTATION)
    schedules = {s.name: s.inputs for s in reminded.of_type(SCHEDULE)}
    assert set(schedules) == {"secrets-app-reminder", "secrets-db-reminder"}
    topic = reminded.one(TOPIC)
    for inputs in schedules.values():
        assert inputs["scheduleExpression"] == "rate(30 days)"
        assert inputs["state"] == "ENABLED"
        assert inputs["flexibleTimeWindow"] == {"mode": "OFF"}
        assert inputs["target"]["arn"] == topic.outputs["arn"]
        assert inputs["target"]["roleArn"].endswith(":role/p-dev-alert-scheduler")
    message = json.loads(schedules["secrets-app-reminder"]["target"]["input"])
    assert message["secret"] == "p/dev/app"


def test_with_a_function_secrets_rotate_and_no_reminder_is_left() -> None:
    run = _secrets(rotation_lambda_arn=LAMBDA)
    assert not run.of_type(SCHEDULE)
    rotations = run.of_type(ROTATION)
    assert {r.name for r in rotations} == {"secrets-app-rotation", "secrets-db-rotation"}
    assert all(r.inputs["rotationRules"] == {"automaticallyAfterDays": 30} for r in rotations)


def test_a_reminder_needs_its_topic_and_role() -> None:
    with pytest.raises(ProgramError, match="go together"):
        _secrets(reminder_role_arn=None)


def test_one_day_reminders_use_the_singular() -> None:
    run = _secrets(rotation_days=1)
    assert {s.inputs["scheduleExpression"] for s in run.of_type(SCHEDULE)} == {"rate(1 day)"}


def _key_statements(run: MockRun) -> dict[str, dict[str, Any]]:
    key = next(k for k in run.of_type("aws:kms/key:Key") if k.name == "alerts-key")
    doc = json.loads(key.inputs["policy"])
    return {st["Sid"]: st for st in doc["Statement"]}


def test_the_alert_topic_is_encrypted_with_its_own_key(reminded: MockRun) -> None:
    key = next(k for k in reminded.of_type("aws:kms/key:Key") if k.name == "alerts-key")
    topic = reminded.one(TOPIC)
    assert topic.inputs["name"] == "p-dev-alerts"
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    statements = _key_statements(reminded)
    services = statements["AwsServicesPublishAlerts"]
    assert set(services["Principal"]["Service"]) == {
        "cloudwatch.amazonaws.com",
        "events.amazonaws.com",
        "budgets.amazonaws.com",
        "costalerts.amazonaws.com",
    }
    assert sorted(services["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    # Only for this topic (the context SNS passes to KMS) and this account.
    assert services["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"] == (
        f"arn:aws:sns:us-east-1:{ACCOUNT}:p-dev-alerts"
    )
    assert services["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    scheduler = statements["SchedulerRolePublishesReminders"]["Condition"]
    assert scheduler["ArnEquals"]["aws:PrincipalArn"].endswith(":role/p-dev-alert-scheduler")
    assert scheduler["StringEquals"]["kms:ViaService"] == "sns.us-east-1.amazonaws.com"


def test_the_alert_channel_and_reminders_pass_the_pack(reminded: MockRun) -> None:
    """Key, topic, role and schedules satisfy every AWS policy that reads them (the
    rotation policy aside: reminder only)."""
    report = evaluate(reminded, requirements())
    found = [f"{f.policy} {f.resource}: {f.message}" for f in report.policy_findings]
    assert not found, "\n".join(found)
    assert report.verdicts["AWS-SECRETS-004"] == {"": "not applicable"}
    assert "AWS-SNS-001" in report.passed


# ------------------------------------------------------------------ AWS-SECRETS-004
def _secret(name: str, full: str) -> Any:
    return res(SECRET, name, {"name": full, "kmsKeyId": KEY_ARN, "tags": TAGS})


def _reminder(name: str, secret: str, **inputs: Any) -> Any:
    values: dict[str, Any] = {
        "scheduleExpression": "rate(90 days)",
        "state": "ENABLED",
        "flexibleTimeWindow": {"mode": "OFF"},
        "target": {
            "arn": TOPIC_ARN,
            "roleArn": ROLE,
            "input": json.dumps({"reminder": "rotate secret", "secret": secret}),
        },
    }
    values.update(inputs)
    return res(SCHEDULE, name, values)


def _rotation(name: str, secret: str, days: float) -> Any:
    return res(
        ROTATION,
        name,
        {
            "secretId": secret,
            "rotationLambdaArn": LAMBDA,
            "rotationRules": {"automaticallyAfterDays": days},
        },
    )


def test_rotating_secrets_pass() -> None:
    report = check([_secret("a", "p/a"), _rotation("a-rotation", "p/a", 30.0)])
    assert not flagged(report, "AWS-SECRETS-004")
    assert "AWS-SECRETS-004" in report.passed


def test_a_tag_is_not_rotation() -> None:
    """The old evidence (a rotation-days tag) proves nothing: no rotation, no reminder."""
    tagged = res(SECRET, "tagged", {"name": "p/t", "tags": {**TAGS, "rotation-days": "30"}})
    report = check([tagged])
    assert flagged(report, "AWS-SECRETS-004") == {"tagged"}
    assert "AWS-SECRETS-004" not in report.passed


def test_reminder_only_is_not_applicable_never_passed() -> None:
    report = check([_secret("a", "p/a"), _reminder("a-reminder", "p/a")])
    assert not flagged(report, "AWS-SECRETS-004")
    assert report.verdicts["AWS-SECRETS-004"] == {"": "not applicable"}
    assert "AWS-SECRETS-004" not in report.passed


def test_a_reminder_of_another_secret_does_not_count() -> None:
    report = check([_secret("a", "p/a"), _reminder("b-reminder", "p/b")])
    assert flagged(report, "AWS-SECRETS-004") == {"a"}


def test_reminder_only_reason_names_the_secrets() -> None:
    resources = [
        Resource(type=r.type, name=r.name, urn=r.urn, props=r.inputs)
        for r in (_secret("a", "p/a"), _reminder("a-reminder", "p/a"))
    ]
    with pytest.raises(NotApplicable, match=rf"^{REMINDER_ONLY}: a have no rotation function"):
        rotation.evaluate(resources, requirements())


@pytest.mark.parametrize(
    ("inputs", "why"),
    [
        ({"state": "DISABLED"}, "disabled"),
        ({"scheduleExpression": "rate(365 days)"}, "365 days between reminders"),
        ({"scheduleExpression": "cron(0 0 1 1 ? 2030)"}, "no bound"),
    ],
)
def test_a_broken_reminder_is_a_violation(inputs: dict[str, Any], why: str) -> None:
    report = check([_secret("a", "p/a"), _reminder("a-reminder", "p/a", **inputs)])
    assert flagged(report, "AWS-SECRETS-004") == {"a-reminder"}
    assert any(why in f.message for f in report.violations if f.policy == "AWS-SECRETS-004")


def test_a_reminder_to_another_service_is_a_violation() -> None:
    target = {
        "arn": "arn:aws:sqs:us-east-1:1:q",
        "roleArn": ROLE,
        "input": json.dumps({"reminder": "rotate secret", "secret": "p/a"}),
    }
    report = check([_secret("a", "p/a"), _reminder("a-reminder", "p/a", target=target)])
    assert flagged(report, "AWS-SECRETS-004") == {"a-reminder"}


def test_rotation_beyond_the_period_is_a_violation_even_beside_reminders() -> None:
    report = check(
        [
            _secret("a", "p/a"),
            _rotation("a-rotation", "p/a", 180.0),
            _secret("b", "p/b"),
            _reminder("b-reminder", "p/b"),
        ]
    )  # confidential: secret_rotation_days 90
    assert flagged(report, "AWS-SECRETS-004") == {"a-rotation"}


def test_no_secret_is_not_applicable() -> None:
    report = check([res(TOPIC, "t", {"kmsMasterKeyId": KEY_ARN, "tags": TAGS})])
    assert report.verdicts["AWS-SECRETS-004"] == {"": "not applicable"}


def test_an_unknown_reminder_schedule_leaves_the_verdict_open() -> None:
    report = check(
        [
            _secret("a", "p/a"),
            _reminder("a-reminder", "p/a", scheduleExpression=UNKNOWN_STRING_VALUE),
        ]
    )
    assert not flagged(report, "AWS-SECRETS-004")
    assert unknown(report, "AWS-SECRETS-004")
    assert "AWS-SECRETS-004" not in report.passed


# ------------------------------------------------------------------ AWS-SNS-001
def test_sns_001_topics_use_a_customer_managed_key() -> None:
    report = check(
        [
            res(TOPIC, "cmk", {"name": "a", "kmsMasterKeyId": KEY_ARN, "tags": TAGS}),
            res(TOPIC, "plain", {"name": "b", "tags": TAGS}),
            res(TOPIC, "aws-managed", {"name": "c", "kmsMasterKeyId": "alias/aws/sns"}),
        ]
    )
    assert flagged(report, "AWS-SNS-001") == {"plain", "aws-managed"}
    assert report.verdicts["AWS-SNS-001"][f"urn:pulumi:dev::app::{TOPIC}::cmk"] == "passed"


def test_sns_001_unknown_key_is_unknown() -> None:
    report = check([res(TOPIC, "t", {"name": "a", "kmsMasterKeyId": UNKNOWN_STRING_VALUE})])
    assert not flagged(report, "AWS-SNS-001")
    assert unknown(report, "AWS-SNS-001") == {"t"}


# ------------------------------------------------------------------ generated projects
@pytest.mark.parametrize("name", PROJECTS)
def test_generated_projects_remind_and_encrypt_their_alerts(
    name: str, aws_project: Callable[[str], Path], aws_run: Callable[[str], MockRun]
) -> None:
    run = aws_run(name)
    project = load_requirements(aws_project(name))
    report = evaluate(run, only(project, "AWS-SECRETS-004"))
    assert not report.policy_findings, [f.message for f in report.policy_findings]
    assert report.verdicts["AWS-SECRETS-004"] == {"": "not applicable"}
    assert "AWS-SNS-001" in evaluate(run, only(project, "AWS-SNS-001")).passed
    assert {s.name for s in run.of_type(SCHEDULE)} == {"secrets-app-reminder"}


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
def test_sec_03_is_not_verified_without_a_rotation_mechanism(
    render_project: RenderProject,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Through the CLI: PCI DSS 8.6.3 (SEC-03 only) is not ✅ on a reminder-only project;
    naming a rotation function in the stack config makes it ✅."""
    project = tmp_path / "aws-pci"
    shutil.copytree(
        render_project(project_name="aws-pci", **PROJECTS["bedrock-restricted"]), project
    )
    code, matrix = _cli(capsys, "check", str(project), "--format", "compliance")
    assert code == 0
    assert "✅" not in _status(matrix, SEC_03_CLAUSE)

    (stack_file,) = project.glob("Pulumi.*.yaml")
    config = yaml.safe_load(stack_file.read_text(encoding="utf-8"))
    config["config"]["aws-pci:secret_rotation_lambda_arn"] = LAMBDA
    stack_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    code, matrix = _cli(capsys, "check", str(project), "--format", "compliance")
    assert code == 0
    assert _status(matrix, SEC_03_CLAUSE).startswith("✅")
