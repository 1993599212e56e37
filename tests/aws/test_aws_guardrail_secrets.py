"""Guardrail (Bedrock) and Secrets (Secrets Manager)."""

from __future__ import annotations

import pytest
from aiscaffold.testing import MockRun
from aiscaffold_components.aws import (
    PII_ENTITY_TYPES,
    Guardrail,
    GuardrailArgs,
    Secrets,
    SecretsArgs,
)
from aws.aws_support import KEY, ROLE, TAGS, changes, run_component, statement, untagged

GUARDRAIL = "aws:bedrock/guardrail:Guardrail"
VERSION = "aws:bedrock/guardrailVersion:GuardrailVersion"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
ENDPOINT = "vpce-0123456789abcdef0"


def guardrail(**overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "kms_key_arn": KEY,
        "tags": TAGS,
        "guardrail_name": "unit-test",
        "content_filter_strength": "MEDIUM",
        "pii_entities": ("credentials", "email", "credit-card"),
        "denied_topics": ("investment advice",),
    }
    settings.update(overrides)
    return run_component(lambda: Guardrail("guardrail", GuardrailArgs(**settings)))  # type: ignore[arg-type]


def secrets(**overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "names": ["app", "db"],
        "prefix": "unit/test",
        "kms_key_arn": KEY,
        "reader_role_arns": [ROLE],
        "vpc_endpoint_ids": [ENDPOINT],
        "tags": TAGS,
        "rotation_days": 30,
    }
    settings.update(overrides)
    return run_component(lambda: Secrets("secrets", SecretsArgs(**settings)))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def rail() -> MockRun:
    return guardrail()


@pytest.fixture(scope="module")
def store() -> MockRun:
    return secrets()


def filters(result: MockRun) -> dict[str, dict[str, object]]:
    config = result.one(GUARDRAIL).inputs["contentPolicyConfig"]["filtersConfigs"]
    return {f["type"]: f for f in config}


# ----------------------------------------------------------------------- Guardrail
def test_content_filters_at_the_profile_strength(rail: MockRun) -> None:
    found = filters(rail)
    for kind in ("HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT"):
        assert found[kind]["inputStrength"] == "MEDIUM", kind
        assert found[kind]["outputStrength"] == "MEDIUM", kind


def test_prompt_attacks_are_filtered_high_on_input(rail: MockRun) -> None:
    attack = filters(rail)["PROMPT_ATTACK"]
    assert attack["inputStrength"] == "HIGH"
    assert attack["outputStrength"] == "NONE"


def test_pii_entities_map_to_bedrock_types_with_the_action(rail: MockRun) -> None:
    config = rail.one(GUARDRAIL).inputs["sensitiveInformationPolicyConfig"]["piiEntitiesConfigs"]
    types = {c["type"] for c in config}
    assert types == {
        *PII_ENTITY_TYPES["credentials"],
        *PII_ENTITY_TYPES["email"],
        *PII_ENTITY_TYPES["credit-card"],
    }
    assert {"AWS_SECRET_KEY", "EMAIL", "CREDIT_DEBIT_CARD_NUMBER"} <= types
    assert {c["action"] for c in config} == {"BLOCK"}
    masked = guardrail(pii_action="anonymize").one(GUARDRAIL)
    actions = {
        c["action"] for c in masked.inputs["sensitiveInformationPolicyConfig"]["piiEntitiesConfigs"]
    }
    assert actions == {"ANONYMIZE"}


def test_every_generic_pii_name_is_mapped() -> None:
    from aiscaffold_components.catalog import load_catalog

    setting = load_catalog().settings["pii_entities"]
    named = {e for values in setting.sensitivity.values() for e in values}
    named |= {e for values in setting.frameworks.values() for e in values}
    assert named <= set(PII_ENTITY_TYPES)


def test_denied_topics_profanity_and_key(rail: MockRun) -> None:
    inputs = rail.one(GUARDRAIL).inputs
    (topic,) = inputs["topicPolicyConfig"]["topicsConfigs"]
    assert topic["name"] == "investment advice" and topic["type"] == "DENY"
    assert "investment advice" in topic["definition"]
    assert inputs["wordPolicyConfig"]["managedWordListsConfigs"] == [{"type": "PROFANITY"}]
    assert inputs["kmsKeyArn"] == KEY
    assert inputs["name"] == "unit-test"
    assert "contextualGroundingPolicyConfig" not in inputs
    assert untagged(rail, TAGS) == []


def test_a_numbered_version_is_published(rail: MockRun) -> None:
    version = rail.one(VERSION)
    assert version.inputs["guardrailArn"] == rail.one(GUARDRAIL).outputs["guardrailArn"]
    changed = guardrail(content_filter_strength="HIGH").one(VERSION)
    # A configuration change replaces the version (a new one is published).
    assert changed.inputs["description"] != version.inputs["description"]


def test_a_new_key_publishes_a_new_version(rail: MockRun) -> None:
    """The version records the configuration, its key included: re-keying the guardrail
    must not leave the workload pinned to a version made under the old key."""
    other_key = KEY.replace("11111111", "99999999")
    diff = changes(rail, guardrail(kms_key_arn=other_key))
    assert not diff.added and not diff.removed
    assert diff.changed_paths == {
        "guardrail-guardrail": {"kmsKeyArn"},
        "guardrail-version": {"description"},
    }


def test_anonymizing_pii_changes_only_the_pii_actions(rail: MockRun) -> None:
    diff = changes(rail, guardrail(pii_action="anonymize"))
    assert not diff.added and not diff.removed
    paths = diff.changed_paths
    assert paths.pop("guardrail-version") == {"description"}
    (changed,) = paths.values()
    assert changed and all(
        p.startswith("sensitiveInformationPolicyConfig.piiEntitiesConfigs[")
        and p.endswith("].action")
        for p in changed
    )
    assert {before for before, _ in diff.changed[(GUARDRAIL, "guardrail-guardrail")].values()} == {
        "BLOCK"
    }
    assert {after for _, after in diff.changed[(GUARDRAIL, "guardrail-guardrail")].values()} == {
        "ANONYMIZE"
    }


def test_grounding_is_on_when_configured() -> None:
    inputs = guardrail(grounding_threshold=0.75, relevance_threshold=0.5).one(GUARDRAIL).inputs
    assert inputs["contextualGroundingPolicyConfig"]["filtersConfigs"] == [
        {"type": "GROUNDING", "threshold": 0.75},
        {"type": "RELEVANCE", "threshold": 0.5},
    ]


def test_weaker_prompt_attack_filter_changes_only_that_filter(rail: MockRun) -> None:
    diff = changes(rail, guardrail(prompt_attack_strength="LOW"))
    assert not diff.added and not diff.removed
    paths = diff.changed_paths
    assert paths.pop("guardrail-version") == {"description"}
    (changed,) = paths.values()
    (path,) = changed
    assert path.endswith(".inputStrength")
    assert (
        filters(guardrail(prompt_attack_strength="LOW"))["PROMPT_ATTACK"]["inputStrength"] == "LOW"
    )


def test_dropping_the_profanity_list_changes_only_the_word_policy(rail: MockRun) -> None:
    diff = changes(rail, guardrail(profanity_filter=False))
    paths = diff.changed_paths
    assert paths.pop("guardrail-version") == {"description"}
    assert paths == {"guardrail-guardrail": {"wordPolicyConfig.managedWordListsConfigs[0].type"}}


def test_unknown_pii_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown PII"):
        Guardrail("g", GuardrailArgs(kms_key_arn=KEY, tags=TAGS, pii_entities=["shoe-size"]))


# ------------------------------------------------------------------------- Secrets
def test_secrets_use_the_secrets_key_and_the_longest_recovery(store: MockRun) -> None:
    found = {s.inputs["name"]: s for s in store.of_type(SECRET)}
    assert set(found) == {"unit/test/app", "unit/test/db"}
    for secret in found.values():
        assert secret.inputs["kmsKeyId"] == KEY
        assert secret.inputs["recoveryWindowInDays"] == 30
        assert secret.inputs["tags"]["rotation-days"] == "30"
    assert untagged(store, TAGS) == []


def test_only_the_workload_reads_and_only_through_the_endpoint(store: MockRun) -> None:
    for resource in store.of_type(SECRET_POLICY):
        assert resource.inputs["blockPublicPolicy"] is True
        doc = resource.inputs["policy"]
        others = statement(doc, "DenyReadsByOtherPrincipals")
        assert others["Effect"] == "Deny" and others["Action"] == "secretsmanager:GetSecretValue"
        assert others["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": ROLE}}
        outside = statement(doc, "DenyReadsOutsideTheVpcEndpoint")
        assert outside["Condition"] == {"StringNotEquals": {"aws:SourceVpce": ENDPOINT}}


def test_no_rotation_schedule_without_a_function(store: MockRun) -> None:
    assert not store.of_type(ROTATION)
    with_function = secrets(rotation_lambda_arn="arn:aws:lambda:us-east-1:123456789012:function:r")
    rotations = with_function.of_type(ROTATION)
    assert len(rotations) == 2
    assert all(r.inputs["rotationRules"] == {"automaticallyAfterDays": 30} for r in rotations)


def test_readers_outside_the_vpc_change_only_the_policies(store: MockRun) -> None:
    breakglass = "arn:aws:iam::123456789012:role/break-glass"
    weak = secrets(readers_outside_vpc=[breakglass])
    diff = changes(store, weak)
    assert not diff.added and not diff.removed
    assert set(diff.changed_paths) == {"secrets-app-policy", "secrets-db-policy"}
    doc = weak.one(SECRET_POLICY, "secrets-app-policy").inputs["policy"]
    assert statement(doc, "DenyReadsOutsideTheVpcEndpoint")["Condition"]["ArnNotEquals"] == {
        "aws:PrincipalArn": breakglass
    }
    assert statement(doc, "DenyReadsByOtherPrincipals")["Condition"]["ArnNotEquals"] == {
        "aws:PrincipalArn": [ROLE, breakglass]
    }


def test_secrets_need_readers_and_an_endpoint() -> None:
    with pytest.raises(ValueError, match="vpc_endpoint_ids"):
        Secrets(
            "s",
            SecretsArgs(
                names=["a"], prefix="p", kms_key_arn=KEY, reader_role_arns=[ROLE],
                vpc_endpoint_ids=[], tags=TAGS,
            ),
        )  # fmt: skip
