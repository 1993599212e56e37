"""Secret rotation told truthfully on Azure (issue 13, item 5), and the alert channel.

Key Vault rotates no secret and serves an expired one, so an expiry within the period
plus an alert to the project's action group is "reminder only" (AZURE-SECRETS-001 not
applicable: never credited); a rotation function on the vault's SecretNearExpiry events
is rotation; no alert route, or no expiry, is a violation.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiscaffold.check import evaluate
from aiscaffold.cli import main
from aiscaffold.testing import MockRun, ProgramError, run
from aiscaffold_components.policies import Requirements
from aiscaffold_components.policies._core import NotApplicable, Resource
from aiscaffold_components.policies.azure.secrets import REMINDER_ONLY, rotation
from helpers import RenderProject

SECRET = "azure-native:keyvault:Secret"
TOPIC = "azure-native:eventgrid:SystemTopic"
SUBSCRIPTION = "azure-native:eventgrid:SystemTopicEventSubscription"
GROUP = "azure-native:monitor:ActionGroup"
FUNCTION = "/subscriptions/0/resourceGroups/g/providers/Microsoft.Web/sites/app/functions/rotate"
VAULT_ID = "/subscriptions/0/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv-a"
GROUP_ID = "/subscriptions/0/resourceGroups/g/providers/Microsoft.Insights/actionGroups/p-alerts"
SEC_03_CLAUSE = "8.6.3"  # PCI DSS: system and application passwords changed periodically
DAY = 86400


def _requirements(**answers: Any) -> Requirements:
    values: dict[str, Any] = {
        "cloud": "azure",
        "data_sensitivity": "confidential",  # secret_rotation_days 90
        "compliance": [],
        "ai_service": "openai",
    }
    values.update(answers)
    return Requirements.model_validate(values)


def _only(policy: str) -> Requirements:
    from aiscaffold_components.policies import registry

    return _requirements(
        overrides={
            p.id: {"level": "disabled", "reason": "one policy at a time"}
            for p in registry("azure")
            if p.id != policy
        }
    )


# ------------------------------------------------------------------ components
def test_secrets_alert_the_action_group_near_expiry(default_run: MockRun) -> None:
    group = default_run.one(GROUP)
    assert group.inputs["actionGroupName"] == "proj-dev-alerts"
    assert group.inputs["location"] == "Global"
    assert group.inputs["enabled"] is True
    topic = default_run.one(TOPIC)
    vault = default_run.one("azure-native:keyvault:Vault")
    assert topic.inputs["topicType"] == "Microsoft.KeyVault.vaults"
    assert topic.inputs["source"] == vault.outputs["id"]
    (subscription,) = default_run.of_type(SUBSCRIPTION)
    assert subscription.inputs["systemTopicName"] == topic.inputs["systemTopicName"]
    # The Azure Monitor alert destination takes only the CloudEvents v1.0 schema.
    assert subscription.inputs["eventDeliverySchema"] == "CloudEventSchemaV1_0"
    assert subscription.inputs["filter"]["includedEventTypes"] == [
        "Microsoft.KeyVault.SecretNearExpiry",
        "Microsoft.KeyVault.SecretExpired",
    ]
    destination = subscription.inputs["destination"]
    assert destination["endpointType"] == "MonitorAlert"
    assert destination["actionGroups"] == [group.outputs["id"]]


def test_a_rotation_function_gets_the_near_expiry_events(azure_run: Any) -> None:
    run = azure_run(secrets={"rotation_function_id": FUNCTION})
    by_name = {s.name: s.inputs for s in run.of_type(SUBSCRIPTION)}
    assert set(by_name) == {"secrets-expiry-alerts", "secrets-rotation"}
    rotation_sub = by_name["secrets-rotation"]
    assert rotation_sub["destination"]["endpointType"] == "AzureFunction"
    assert rotation_sub["destination"]["resourceId"] == FUNCTION
    assert rotation_sub["filter"]["includedEventTypes"] == ["Microsoft.KeyVault.SecretNearExpiry"]


def test_expiry_alerts_need_the_vault() -> None:
    from aiscaffold_components.azure import Secrets, SecretsArgs

    def build() -> None:
        Secrets(
            "secrets",
            SecretsArgs(
                resource_group_name="g", vault_name="kv-a", expiry_action_group_id=GROUP_ID
            ),
        )

    with pytest.raises(ProgramError, match="need vault_id and location"):
        run(build, project="p", stack="dev", config={"azure-native:location": "eastus2"})


def test_the_channel_and_alerts_pass_the_pack(default_run: MockRun) -> None:
    report = evaluate(default_run, _requirements())
    mine = [f for f in report.policy_findings if f.policy == "AZURE-SECRETS-001"]
    assert not mine, [f.message for f in mine]
    assert report.verdicts["AZURE-SECRETS-001"] == {"": "not applicable"}
    assert "AZURE-SECRETS-001" not in report.passed


def test_with_a_rotation_function_the_policy_passes(azure_run: Any) -> None:
    run = azure_run(secrets={"rotation_function_id": FUNCTION})
    report = evaluate(run, _only("AZURE-SECRETS-001"))
    assert "AZURE-SECRETS-001" in report.passed
    assert not report.policy_findings


# ------------------------------------------------------------------ AZURE-SECRETS-001
def _secret(name: str, valid_days: float | None = 90, vault: str = "kv-a") -> Resource:
    attributes: dict[str, Any] = {"enabled": True, "notBefore": 1_700_000_000}
    if valid_days is not None:
        attributes["expires"] = 1_700_000_000 + valid_days * DAY
    return Resource(
        type=SECRET,
        name=name,
        urn=f"urn:pulumi:dev::p::{SECRET}::{name}",
        props={
            "vaultName": vault,
            "secretName": name,
            "properties": {"value": "x", "attributes": attributes},
        },
    )


def _topic(vault_id: str = VAULT_ID) -> Resource:
    return Resource(
        type=TOPIC,
        name="events",
        urn=f"urn:pulumi:dev::p::{TOPIC}::events",
        props={
            "systemTopicName": "kv-a-events",
            "topicType": "Microsoft.KeyVault.vaults",
            "source": vault_id,
        },
    )


def _group(enabled: bool = True) -> Resource:
    return Resource(
        type=GROUP,
        name="alerts-group",
        urn=f"urn:pulumi:dev::p::{GROUP}::alerts-group",
        props={"actionGroupName": "p-alerts", "enabled": enabled, "groupShortName": "alerts"},
    )


def _subscription(name: str, destination: dict[str, Any], **inputs: Any) -> Resource:
    props: dict[str, Any] = {
        "systemTopicName": "kv-a-events",
        "filter": {"includedEventTypes": ["Microsoft.KeyVault.SecretNearExpiry"]},
        "destination": destination,
    }
    props.update(inputs)
    return Resource(
        type=SUBSCRIPTION, name=name, urn=f"urn:pulumi:dev::p::{SUBSCRIPTION}::{name}", props=props
    )


ALERT = {"endpointType": "MonitorAlert", "severity": "Sev2", "actionGroups": [GROUP_ID]}
FUNCTION_DESTINATION = {"endpointType": "AzureFunction", "resourceId": FUNCTION}
#: What an alert route delivers: the reminder 30 days before, and the expiry itself.
EXPIRY_EVENTS = ["Microsoft.KeyVault.SecretNearExpiry", "Microsoft.KeyVault.SecretExpired"]


def _alert(name: str = "alert", **inputs: Any) -> Resource:
    return _subscription(name, ALERT, **{"filter": {"includedEventTypes": EXPIRY_EVENTS}, **inputs})


def _judge(resources: list[Resource]) -> list[tuple[str | None, str]]:
    found = rotation.evaluate(resources, _requirements())
    return [(r.name if r is not None else None, m) for r, m in found]


def test_a_rotation_function_on_near_expiry_passes() -> None:
    resources = [_secret("a"), _topic(), _subscription("rot", FUNCTION_DESTINATION)]
    assert _judge(resources) == []


def test_alerts_only_are_a_reminder_never_a_pass() -> None:
    resources = [_secret("a"), _topic(), _group(), _alert()]
    with pytest.raises(NotApplicable, match=rf"^{REMINDER_ONLY}: the secrets of kv-a"):
        _judge(resources)


@pytest.mark.parametrize(
    ("resources", "why"),
    [
        ([_secret("a"), _group()], "neither rotated"),
        # The topic watches another vault.
        (
            [
                _secret("a"),
                _topic(VAULT_ID.replace("kv-a", "kv-b")),
                _group(),
                _alert(),
            ],
            "neither rotated",
        ),
        # The filter leaves the near-expiry event out.
        (
            [
                _secret("a"),
                _topic(),
                _group(),
                _subscription(
                    "alert",
                    ALERT,
                    filter={"includedEventTypes": ["Microsoft.KeyVault.SecretNewVersionCreated"]},
                ),
            ],
            "neither rotated",
        ),
        # The alert leaves out the expiry itself: no second notice once the value expired.
        ([_secret("a"), _topic(), _group(), _subscription("alert", ALERT)], "SecretExpired"),
        # A subject filter may drop the secrets' events.
        (
            [
                _secret("a"),
                _topic(),
                _group(),
                _alert(filter={"includedEventTypes": EXPIRY_EVENTS, "subjectBeginsWith": "o"}),
            ],
            "neither rotated",
        ),
        # The action group is disabled: none of its receivers hears anything.
        (
            [_secret("a"), _topic(), _group(enabled=False), _alert()],
            "neither rotated",
        ),
        # The action group is not this stack's.
        ([_secret("a"), _topic(), _alert()], "neither rotated"),
    ],
)
def test_an_alert_route_that_tells_nobody_is_a_violation(
    resources: list[Resource], why: str
) -> None:
    found = _judge(resources)
    assert [name for name, _ in found] == ["a"]
    assert why in found[0][1]


@pytest.mark.parametrize(
    ("valid_days", "why"), [(None, "never expires"), (180, "stays valid 180 days")]
)
def test_an_expiry_beyond_the_period_is_a_violation_even_with_rotation(
    valid_days: float | None, why: str
) -> None:
    resources = [_secret("a", valid_days), _topic(), _subscription("rot", FUNCTION_DESTINATION)]
    found = _judge(resources)
    assert [name for name, _ in found] == ["a"]
    assert why in found[0][1]


def test_no_secret_is_not_applicable() -> None:
    with pytest.raises(NotApplicable, match="no Key Vault secrets"):
        _judge([_topic(), _group()])
    # ... and so is a working reminder on a vault whose secrets are set outside the stack.
    with pytest.raises(NotApplicable, match="no Key Vault secrets"):
        _judge([_topic(), _group(), _alert()])


@pytest.mark.parametrize(
    ("resources", "why"),
    [
        # The alert leaves the near-expiry event out: told only once it has expired.
        (
            [_topic(), _group(), _alert(filter={"includedEventTypes": EXPIRY_EVENTS[1:]})],
            "SecretNearExpiry",
        ),
        # The alert is on a topic that watches no vault of the stack.
        ([_group(), _alert()], "on no Key Vault system topic"),
        ([_topic(), _group(), _alert(systemTopicName="other-events")], "on no Key Vault"),
        # Its topic's source names no vault.
        ([_topic("/subscriptions/0/resourceGroups/g"), _group(), _alert()], "on no Key Vault"),
        # Its action group is disabled.
        ([_topic(), _group(enabled=False), _alert()], "no enabled action group"),
    ],
)
def test_a_broken_reminder_is_a_violation_without_secrets_too(
    resources: list[Resource], why: str
) -> None:
    """A vault may hold secrets set outside the stack: an expiry alert the stack sets up
    must work even when the stack itself holds no secret."""
    found = _judge(resources)
    assert [name for name, _ in found] == ["alert"]
    assert why in found[0][1]


# ------------------------------------------------------------------ through the CLI
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
    render_project: RenderProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the CLI: PCI DSS 8.6.3 (SEC-03 only) is not ✅ on a project whose secret
    only expires and alerts; naming a rotation function makes it ✅."""
    project = tmp_path / "az-pci"
    shutil.copytree(
        render_project(cloud="azure", project_name="az-pci", compliance=["pci-dss"]), project
    )
    (stack_file,) = project.glob("Pulumi.*.yaml")
    config = yaml.safe_load(stack_file.read_text(encoding="utf-8"))
    config["config"]["az-pci:app_secrets"] = {"search-api-key": "2025-01-31"}
    config["config"]["az-pci:secret-search-api-key"] = "not-a-real-value"
    stack_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    code, matrix = _cli(capsys, "check", str(project), "--format", "compliance")
    assert code in (0, 1), matrix
    assert "✅" not in _status(matrix, SEC_03_CLAUSE)

    config["config"]["az-pci:secret_rotation_function_id"] = FUNCTION
    stack_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    code, matrix = _cli(capsys, "check", str(project), "--format", "compliance")
    assert _status(matrix, SEC_03_CLAUSE).startswith("✅")
