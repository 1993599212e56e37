"""Guardrail (Model Armor) and Secrets (Secret Manager)."""

from __future__ import annotations

import pytest
from aiscaffold.testing import MockRun
from aiscaffold_components.gcp import Guardrail, GuardrailArgs, Secrets, SecretsArgs
from aiscaffold_components.gcp.guardrail import PII_INFO_TYPES, RAI_FILTERS
from gcp_support import KEY, LABELS, NUMBER, PROJECT, REGION, WORKLOAD, changes, run_component

TEMPLATE = "gcp:modelarmor/template:Template"
FLOOR = "gcp:modelarmor/floorsetting:Floorsetting"
INSPECT = "gcp:dataloss/preventionInspectTemplate:PreventionInspectTemplate"
DEIDENTIFY = "gcp:dataloss/preventionDeidentifyTemplate:PreventionDeidentifyTemplate"
SECRET = "gcp:secretmanager/secret:Secret"
VERTEX_AGENT = f"serviceAccount:service-{NUMBER}@gcp-sa-aiplatform.iam.gserviceaccount.com"
SECRET_AGENT = f"serviceAccount:service-{NUMBER}@gcp-sa-secretmanager.iam.gserviceaccount.com"
ALLOWED = ("europe-west1", "europe-west4")
FIRST_ROTATION = "2030-01-01T00:00:00Z"


def build_guardrail(**overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "project": PROJECT,
        "location": REGION,
        "pii_entities": ("email", "credit-card"),
        "vertex_service_agent": VERTEX_AGENT,
        "labels": LABELS,
    }
    settings.update(overrides)
    args = GuardrailArgs(**settings)  # type: ignore[arg-type]
    return run_component(lambda: Guardrail("guard", args))


def build_secrets(**overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "project": PROJECT,
        "replicas": {"europe-west1": f"{KEY}/secrets-ew1", "europe-west4": f"{KEY}/secrets-ew4"},
        "allowed_regions": ALLOWED,
        "secrets": {"api-key": "s3cr3t", "later": None},
        "accessor": WORKLOAD,
        "secret_manager_agent": SECRET_AGENT,
        "next_rotation_time": FIRST_ROTATION,
        "labels": LABELS,
    }
    settings.update(overrides)
    args = SecretsArgs(**settings)  # type: ignore[arg-type]
    return run_component(lambda: Secrets("sec", args))


@pytest.fixture(scope="module")
def guardrail() -> MockRun:
    return build_guardrail()


@pytest.fixture(scope="module")
def secrets() -> MockRun:
    return build_secrets()


def test_template_turns_every_filter_on_and_blocks(guardrail: MockRun) -> None:
    template = guardrail.one(TEMPLATE).inputs
    config = template["filterConfig"]
    assert config["raiSettings"]["raiFilters"] == [
        {"filterType": kind, "confidenceLevel": "LOW_AND_ABOVE"} for kind in RAI_FILTERS
    ]
    assert set(RAI_FILTERS) == {"HATE_SPEECH", "HARASSMENT", "SEXUALLY_EXPLICIT", "DANGEROUS"}
    assert config["piAndJailbreakFilterSettings"] == {
        "filterEnforcement": "ENABLED",
        "confidenceLevel": "LOW_AND_ABOVE",
    }
    assert config["maliciousUriFilterSettings"] == {"filterEnforcement": "ENABLED"}
    assert config["sdpSettings"] == {
        "advancedConfig": {"inspectTemplate": guardrail.one(INSPECT).outputs["name"]}
    }
    assert template["templateMetadata"]["enforcementType"] == "INSPECT_AND_BLOCK"
    assert template["templateMetadata"]["logSanitizeOperations"] is True
    assert template["location"] == REGION
    assert template["labels"] == LABELS


def test_advanced_protection_inspects_the_profile_entities(guardrail: MockRun) -> None:
    inspect = guardrail.one(INSPECT).inputs
    assert inspect["parent"] == f"projects/{PROJECT}/locations/{REGION}"
    names = [t["name"] for t in inspect["inspectConfig"]["infoTypes"]]
    assert names == [*PII_INFO_TYPES["email"], *PII_INFO_TYPES["credit-card"]]
    assert "customInfoTypes" not in inspect["inspectConfig"]
    assert not guardrail.of_type(DEIDENTIFY)


@pytest.mark.parametrize(
    ("strength", "confidence"),
    [("HIGH", "LOW_AND_ABOVE"), ("MEDIUM", "MEDIUM_AND_ABOVE"), ("LOW", "HIGH")],
)
def test_strength_maps_to_confidence_threshold(strength: str, confidence: str) -> None:
    run = build_guardrail(content_filter_strength=strength)
    for resource in (run.one(TEMPLATE), run.one(FLOOR)):
        config = resource.inputs["filterConfig"]
        assert {f["confidenceLevel"] for f in config["raiSettings"]["raiFilters"]} == {confidence}
        # The content strength is no reason to let likelier jailbreaks through.
        assert config["piAndJailbreakFilterSettings"]["confidenceLevel"] == "LOW_AND_ABOVE"


@pytest.mark.parametrize("strength", ["MEDIUM", "LOW"])
def test_lower_strength_changes_only_the_rai_thresholds(guardrail: MockRun, strength: str) -> None:
    assert changes(guardrail, build_guardrail(content_filter_strength=strength)) == {
        f"{r}:filterConfig.raiSettings.raiFilters[{i}].confidenceLevel"
        for r in ("guard-template", "guard-floor")
        for i in range(len(RAI_FILTERS))
    }


def test_prompt_injection_threshold_changes_only_its_confidence(guardrail: MockRun) -> None:
    weak = build_guardrail(prompt_injection_confidence="MEDIUM_AND_ABOVE")
    assert changes(guardrail, weak) == {
        f"{r}:filterConfig.piAndJailbreakFilterSettings.confidenceLevel"
        for r in ("guard-template", "guard-floor")
    }
    for resource in (weak.one(TEMPLATE), weak.one(FLOOR)):
        settings = resource.inputs["filterConfig"]["piAndJailbreakFilterSettings"]
        assert settings == {"filterEnforcement": "ENABLED", "confidenceLevel": "MEDIUM_AND_ABOVE"}


def test_unknown_prompt_injection_threshold_is_refused() -> None:
    with pytest.raises(Exception, match="prompt_injection_confidence"):
        build_guardrail(prompt_injection_confidence="LOW")


def test_floor_setting_enforces_the_minimum_on_vertex_ai(guardrail: MockRun) -> None:
    floor = guardrail.one(FLOOR).inputs
    assert floor["parent"] == f"projects/{PROJECT}"
    assert floor["location"] == "global"
    assert floor["enableFloorSettingEnforcement"] is True
    assert floor["integratedServices"] == ["AI_PLATFORM"]
    assert floor["aiPlatformFloorSetting"] == {"inspectAndBlock": True, "enableCloudLogging": True}
    config = floor["filterConfig"]
    assert config["raiSettings"] == guardrail.one(TEMPLATE).inputs["filterConfig"]["raiSettings"]
    assert config["piAndJailbreakFilterSettings"]["filterEnforcement"] == "ENABLED"
    assert config["maliciousUriFilterSettings"] == {"filterEnforcement": "ENABLED"}
    assert config["sdpSettings"] == {"basicConfig": {"filterEnforcement": "ENABLED"}}
    grant = guardrail.one("gcp:projects/iAMMember:IAMMember")
    assert (grant.inputs["role"], grant.inputs["member"]) == ("roles/modelarmor.user", VERTEX_AGENT)
    # An enforced floor refuses templates below it, and needs the agent's grant.
    waits = set(guardrail.one(FLOOR).dependencies)
    assert {guardrail.one(TEMPLATE).urn, grant.urn} <= waits


def test_denied_topics_become_a_phrase_dictionary_with_advanced_protection() -> None:
    run = build_guardrail(denied_topics=("investment advice",))
    custom = run.one(INSPECT).inputs["inspectConfig"]["customInfoTypes"]
    assert custom == [
        {
            "infoType": {"name": "DENIED_TOPIC"},
            "likelihood": "VERY_LIKELY",
            "dictionary": {"wordList": {"words": ["investment advice"]}},
        }
    ]


def test_basic_protection_cannot_express_denied_topics() -> None:
    guard: list[Guardrail] = []
    args = GuardrailArgs(
        project=PROJECT,
        location=REGION,
        sensitive_data_protection="basic",
        denied_topics=("legal advice",),
    )
    run = run_component(lambda: guard.append(Guardrail("guard", args)))
    assert guard[0].unmapped_denied_topics == ("legal advice",)
    assert run.one(TEMPLATE).inputs["filterConfig"]["sdpSettings"] == {
        "basicConfig": {"filterEnforcement": "ENABLED"}
    }
    assert not run.of_type(INSPECT)


def test_anonymize_adds_a_deidentify_template(guardrail: MockRun) -> None:
    anonymize = build_guardrail(pii_action="anonymize")
    deidentify = anonymize.one(DEIDENTIFY)
    assert anonymize.one(TEMPLATE).inputs["filterConfig"]["sdpSettings"]["advancedConfig"] == {
        "inspectTemplate": anonymize.one(INSPECT).outputs["name"],
        "deidentifyTemplate": deidentify.outputs["name"],
    }
    assert changes(guardrail, anonymize) == {
        "+guard-deidentify",
        "guard-template:filterConfig.sdpSettings.advancedConfig.deidentifyTemplate",
    }


@pytest.mark.parametrize(
    ("weakening", "expected"),
    [
        (
            {"prompt_injection_filter": False},
            {
                f"{r}:filterConfig.piAndJailbreakFilterSettings.{f}"
                for r in ("guard-template", "guard-floor")
                for f in ("filterEnforcement", "confidenceLevel")
            },
        ),
        (
            {"malicious_uri_filter": False},
            {
                f"{r}:filterConfig.maliciousUriFilterSettings.filterEnforcement"
                for r in ("guard-template", "guard-floor")
            },
        ),
        (
            {"inspect_only": True},
            {
                "guard-template:templateMetadata.enforcementType",
                "guard-floor:aiPlatformFloorSetting.inspectAndBlock",
                "guard-floor:aiPlatformFloorSetting.inspectOnly",
            },
        ),
        ({"floor_setting": False}, {"-guard-floor", "-guard-vertex-modelarmor"}),
    ],
)
def test_guardrail_weakenings_change_only_what_they_name(
    guardrail: MockRun, weakening: dict[str, object], expected: set[str]
) -> None:
    assert changes(guardrail, build_guardrail(**weakening)) == expected


def test_sensitive_data_off_drops_only_the_sdp_settings(guardrail: MockRun) -> None:
    found = changes(guardrail, build_guardrail(sensitive_data_protection="off"))
    assert found == {
        "-guard-inspect",
        "guard-template:filterConfig.sdpSettings.advancedConfig.inspectTemplate",
        "guard-floor:filterConfig.sdpSettings.basicConfig.filterEnforcement",
    }


def test_unknown_entity_types_are_refused() -> None:
    with pytest.raises(Exception, match="unknown pii_entities: shoe-size"):
        build_guardrail(pii_entities=("email", "shoe-size"))


def test_replicas_only_in_allowed_regions_each_with_its_key(secrets: MockRun) -> None:
    for secret in secrets.of_type(SECRET):
        replicas = secret.inputs["replication"]["userManaged"]["replicas"]
        assert {r["location"] for r in replicas} <= set(ALLOWED)
        assert {r["location"]: r["customerManagedEncryption"]["kmsKeyName"] for r in replicas} == {
            "europe-west1": f"{KEY}/secrets-ew1",
            "europe-west4": f"{KEY}/secrets-ew4",
        }
        assert "auto" not in secret.inputs["replication"]
        assert secret.inputs["labels"] == LABELS


def test_replica_outside_allowed_regions_is_refused() -> None:
    with pytest.raises(Exception, match="us-east1 are not among the allowed regions"):
        build_secrets(replicas={"europe-west1": "k1", "us-east1": "k2"})


def test_versions_come_from_secret_values(secrets: MockRun) -> None:
    versions = secrets.of_type("gcp:secretmanager/secretVersion:SecretVersion")
    assert [v.name for v in versions] == ["sec-api-key-version"]
    assert versions[0].inputs["secretData"] == "s3cr3t"
    assert "secretData" in versions[0].secret_inputs
    assert versions[0].inputs["secret"] == secrets.one(SECRET, "sec-api-key").outputs["id"]


def test_only_the_workload_may_read_the_secrets(secrets: MockRun) -> None:
    grants = secrets.of_type("gcp:secretmanager/secretIamMember:SecretIamMember")
    assert {(g.inputs["secretId"], g.inputs["role"], g.inputs["member"]) for g in grants} == {
        (secret_id, "roles/secretmanager.secretAccessor", WORKLOAD)
        for secret_id in ("api-key", "later")
    }


def test_rotation_notices_on_a_cmek_topic_kept_in_the_replica_regions(secrets: MockRun) -> None:
    topic = secrets.one("gcp:pubsub/topic:Topic")
    assert topic.inputs["kmsKeyName"] == f"{KEY}/secrets-ew1"
    assert topic.inputs["messageStoragePolicy"] == {
        "allowedPersistenceRegions": ["europe-west1", "europe-west4"],
        "enforceInTransit": True,
    }
    publisher = secrets.one("gcp:pubsub/topicIAMMember:TopicIAMMember").inputs
    assert (publisher["role"], publisher["member"]) == ("roles/pubsub.publisher", SECRET_AGENT)
    for secret in secrets.of_type(SECRET):
        assert secret.inputs["rotation"] == {
            "rotationPeriod": f"{90 * 86400}s",
            "nextRotationTime": FIRST_ROTATION,
        }
        assert secret.inputs["topics"] == [{"name": topic.outputs["id"]}]
        assert secret.ignore_changes == ("rotation.nextRotationTime",)


def test_without_rotation_only_the_rotation_goes(secrets: MockRun) -> None:
    assert changes(secrets, build_secrets(rotation_days=None)) == {
        "-sec-rotation",
        "-sec-rotation-publisher",
        *(
            f"sec-{s}:{path}"
            for s in ("api-key", "later")
            for path in ("rotation.rotationPeriod", "rotation.nextRotationTime", "topics[0].name")
        ),
    }


def test_rotation_needs_the_secret_manager_agent() -> None:
    with pytest.raises(Exception, match="secret_manager_agent"):
        build_secrets(secret_manager_agent=None)
