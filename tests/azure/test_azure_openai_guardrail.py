"""OpenAIAccount (AI Services account, deployments) and Guardrail (RAI policy)."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold.testing import MockRun, ProgramError

ACCOUNT = "azure-native:cognitiveservices:Account"
DEPLOYMENT = "azure-native:cognitiveservices:Deployment"
POLICY = "azure-native:cognitiveservices:RaiPolicy"
HARM = ("Hate", "Sexual", "Violence", "Selfharm")


def _filters(run: MockRun) -> dict[tuple[str, str], dict[str, Any]]:
    filters = run.one(POLICY).inputs["properties"]["contentFilters"]
    return {(f["name"], f["source"]): f for f in filters}


def test_account_is_private_keyless_restricted_and_cmk_encrypted(default_run: MockRun) -> None:
    account = default_run.one(ACCOUNT).inputs
    props = account["properties"]
    assert account["kind"] == "AIServices"
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["disableLocalAuth"] is True
    assert props["networkAcls"]["defaultAction"] == "Deny"
    assert props["networkAcls"]["bypass"] == "None"
    assert props["restrictOutboundNetworkAccess"] is True
    assert props["allowedFqdnList"] == []
    assert props["customSubDomainName"] == account["accountName"]

    identity = default_run.one(
        "azure-native:managedidentity:UserAssignedIdentity", "keys-cmk-identity"
    ).outputs
    assert account["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": [identity["id"]],
    }
    encryption = props["encryption"]
    assert encryption["keySource"] == "Microsoft.KeyVault"
    assert encryption["keyVaultProperties"]["keyName"] == "cmk-ai"
    assert encryption["keyVaultProperties"]["identityClientId"] == identity["clientId"]
    assert "keyVersion" not in encryption["keyVaultProperties"]


def test_every_deployment_is_bound_to_the_guardrail(default_run: MockRun) -> None:
    policy = default_run.one(POLICY).inputs["raiPolicyName"]
    deployments = {d.inputs["deploymentName"]: d.inputs for d in default_run.of_type(DEPLOYMENT)}
    assert set(deployments) == {"gpt-4o", "text-embedding-3-large"}
    for deployment in deployments.values():
        assert deployment["properties"]["raiPolicyName"] == policy
        assert deployment["properties"]["model"]["format"] == "OpenAI"
    assert deployments["gpt-4o"]["properties"]["model"]["version"] == "2024-11-20"
    assert deployments["gpt-4o"]["sku"] == {"name": "Standard", "capacity": 10}
    assert deployments["text-embedding-3-large"]["sku"]["capacity"] == 20


def test_deployments_wait_for_the_policy_and_for_each_other(default_run: MockRun) -> None:
    policy = default_run.one(POLICY)
    first, second = default_run.of_type(DEPLOYMENT)
    assert policy.urn in first.dependencies
    assert first.urn in second.dependencies


def test_policy_blocks_harm_jailbreak_indirect_attacks_and_protected_material(
    default_run: MockRun,
) -> None:
    props = default_run.one(POLICY).inputs["properties"]
    assert props["mode"] == "Blocking"
    assert props["basePolicyName"] == "Microsoft.DefaultV2"
    filters = _filters(default_run)
    for category in HARM:
        for source in ("Prompt", "Completion"):
            f = filters[(category, source)]
            # HIGH strength: blocked from low severity up.
            assert (f["enabled"], f["blocking"], f["severityThreshold"]) == (True, True, "Low")
    for shield in (
        ("Jailbreak", "Prompt"),
        ("Indirect Attack", "Prompt"),
        ("Protected Material Text", "Completion"),
        ("Protected Material Code", "Completion"),
        ("Profanity", "Prompt"),
        ("Profanity", "Completion"),
    ):
        assert filters[shield]["enabled"] is True
        assert filters[shield]["blocking"] is True


def test_denied_terms_and_pii_patterns_are_blocklists_on_both_sides(
    default_run: MockRun, az: Any
) -> None:
    lists = {
        b.name: b.inputs["raiBlocklistName"]
        for b in default_run.of_type("azure-native:cognitiveservices:RaiBlocklist")
    }
    assert set(lists) == {"openai-guardrail-denied-terms", "openai-guardrail-pii"}
    items = default_run.of_type("azure-native:cognitiveservices:RaiBlocklistItem")
    terms = {
        i.inputs["properties"]["pattern"]
        for i in items
        if i.inputs["raiBlocklistName"] == lists["openai-guardrail-denied-terms"]
    }
    assert terms == set(az.DENIED_TERMS)
    pii = [i.inputs["properties"] for i in items if i.name.startswith("openai-guardrail-pii")]
    assert len(pii) == 2 and all(p["isRegex"] for p in pii)  # email, us-ssn; not "name"
    configured = {
        (c["blocklistName"], c["source"], c["blocking"])
        for c in default_run.one(POLICY).inputs["properties"]["customBlocklists"]
    }
    assert configured == {
        (name, source, True) for name in lists.values() for source in ("Prompt", "Completion")
    }


@pytest.mark.parametrize(
    ("strength", "threshold"), [("HIGH", "Low"), ("MEDIUM", "Medium"), ("LOW", "High")]
)
def test_strength_sets_the_severity_threshold(
    azure_run: Any, strength: str, threshold: str
) -> None:
    # HIGH is the default: the default run serves it.
    filters = _filters(
        azure_run(**({} if strength == "HIGH" else {"guardrail": {"strength": strength}}))
    )
    assert {
        filters[(c, s)]["severityThreshold"] for c in HARM for s in ("Prompt", "Completion")
    } == {threshold}


@pytest.mark.parametrize(
    ("argument", "changed"),
    [
        ("block_jailbreak", {"Jailbreak/Prompt"}),
        ("block_indirect_attacks", {"Indirect Attack/Prompt"}),
        (
            "block_protected_material",
            {"Protected Material Text/Completion", "Protected Material Code/Completion"},
        ),
        ("block_profanity", {"Profanity/Prompt", "Profanity/Completion"}),
    ],
)
def test_weakening_a_shield_annotates_instead_of_blocking(
    azure_run: Any, default_run: MockRun, az: Any, argument: str, changed: set[str]
) -> None:
    changes = az.diff(default_run, azure_run(guardrail={argument: False}))
    assert changes == {
        "openai-guardrail-policy": {f"properties.contentFilters[{f}].blocking" for f in changed}
    }


def test_weakening_strength_changes_only_thresholds(
    azure_run: Any, default_run: MockRun, az: Any
) -> None:
    changes = az.diff(default_run, azure_run(guardrail={"strength": "LOW"}))
    assert changes == {
        "openai-guardrail-policy": {
            f"properties.contentFilters[{c}/{s}].severityThreshold"
            for c in HARM
            for s in ("Prompt", "Completion")
        }
    }


@pytest.mark.parametrize(
    ("argument", "value", "path"),
    [
        ("allowed_fqdns", ["search.example.com"], "properties.allowedFqdnList[0]"),
        ("trusted_services_bypass", True, "properties.networkAcls.bypass"),
    ],
)
def test_weakening_account_network_changes_only_what_it_names(
    azure_run: Any, default_run: MockRun, az: Any, argument: str, value: Any, path: str
) -> None:
    assert az.diff(default_run, azure_run(openai={argument: value})) == {
        "openai-account": {path} | ({"properties.allowedFqdnList"} if "Fqdn" in path else set())
    }


def test_model_ids_must_be_name_and_version() -> None:
    from aiscaffold_components.azure import ModelDeployment

    assert ModelDeployment.parse("gpt-4o:2024-11-20").deployment_name == "gpt-4o"
    with pytest.raises(ValueError, match="name:version"):
        ModelDeployment.parse("gpt-4o")


MODELS = ("gpt-4o:2024-11-20", "text-embedding-3-large:1")


@pytest.mark.parametrize(
    ("capacity", "expected"),
    [
        (10, {"gpt-4o": 10, "text-embedding-3-large": 10}),
        (50, {"gpt-4o": 50, "text-embedding-3-large": 50}),
        ("40", {"gpt-4o": 40, "text-embedding-3-large": 40}),  # config text
        ({"gpt-4o": 120}, {"gpt-4o": 120, "text-embedding-3-large": 10}),
        (
            {"gpt-4o": "5", "text-embedding-3-large": 30},
            {"gpt-4o": 5, "text-embedding-3-large": 30},
        ),
    ],
)
def test_deployments_from_the_models_take_one_or_per_model_capacity(
    capacity: Any, expected: dict[str, int]
) -> None:
    from aiscaffold_components.azure import ModelDeployment

    deployments = ModelDeployment.from_models(MODELS, capacity=capacity)
    assert {d.model: d.capacity for d in deployments} == expected
    assert [d.version for d in deployments] == ["2024-11-20", "1"]
    assert {d.sku for d in deployments} == {"Standard"}


@pytest.mark.parametrize(
    ("capacity", "message"),
    [
        ({"gpt4o": 120}, "capacity given for gpt4o, not among the models"),
        (0, "capacity of gpt-4o must be a whole number"),
        ({"gpt-4o": -1}, "capacity of gpt-4o must be a whole number"),
        ("lots", "capacity of gpt-4o must be a whole number"),
        (True, "capacity of gpt-4o must be a whole number"),
        (2.5, "capacity of gpt-4o must be a whole number"),
    ],
)
def test_invalid_capacities_are_refused(capacity: Any, message: str) -> None:
    from aiscaffold_components.azure import ModelDeployment

    with pytest.raises(ValueError, match=message):
        ModelDeployment.from_models(MODELS, capacity=capacity)


def test_duplicate_deployments_are_refused(azure_run: Any) -> None:
    from aiscaffold_components.azure import ModelDeployment

    with pytest.raises(ProgramError, match="unique"):
        azure_run(
            openai={
                "deployments": [
                    ModelDeployment.parse("gpt-4o:2024-11-20"),
                    ModelDeployment.parse("gpt-4o:2024-08-06"),
                ]
            }
        )
