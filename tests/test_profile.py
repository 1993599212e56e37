"""Profiles: settings derived from answers through the catalog, and read back from config."""

from __future__ import annotations

import json

import pytest
from aiscaffold_components.profile import (
    ANSWER_KEYS,
    SETTING_KEYS,
    Profile,
    ProfileConfigError,
    derive_profile,
)


def profile(**overrides: object) -> Profile:
    answers: dict[str, object] = {
        "project": "demo",
        "stack": "dev",
        "cloud": "aws",
        "region": "us-east-1",
        "ai_service": "bedrock",
        "models": ["m"],
        "data_sensitivity": "confidential",
        "compliance": [],
    }
    answers.update(overrides)
    return derive_profile(**answers)  # type: ignore[arg-type]


def test_sensitivity_baseline() -> None:
    public, restricted = profile(data_sensitivity="public"), profile(data_sensitivity="restricted")
    assert public.log_retention_days < restricted.log_retention_days
    assert public.key_rotation_days >= restricted.key_rotation_days
    assert (public.immutable_logs, restricted.immutable_logs) == (False, True)
    assert (public.hsm_keys, restricted.hsm_keys) == (False, True)


def test_frameworks_tighten_and_never_loosen() -> None:
    base = profile(data_sensitivity="public")
    hipaa = profile(data_sensitivity="public", compliance=["hipaa"])
    assert hipaa.log_retention_days == 2192  # six years, 164.316(b)(2)(i)
    assert hipaa.immutable_logs
    assert set(base.pii_entities) < set(hipaa.pii_entities)
    pci = profile(data_sensitivity="restricted", compliance=["pci-dss"])
    assert pci.key_rotation_days == 90  # restricted's 90 beats PCI's 365 (min)
    assert pci.log_retention_days == 2192  # restricted's value beats PCI's 365 (max)
    assert pci.flow_log_sampling == 1.0


def test_residency_from_frameworks() -> None:
    gdpr = profile(compliance=["gdpr"], region="eu-central-1")
    assert gdpr.allowed_regions and all(r.startswith("eu-") for r in gdpr.allowed_regions)
    assert "eu-west-2" not in gdpr.allowed_regions  # London is not in the EU
    fedramp = profile(compliance=["fedramp"], region="us-gov-west-1")
    assert set(fedramp.allowed_regions) == {"us-gov-west-1", "us-gov-east-1"}
    assert "us-east-1" in profile().allowed_regions


def test_strongest_ordered_choice() -> None:
    assert profile(data_sensitivity="internal").content_filter_strength == "MEDIUM"
    assert (
        profile(data_sensitivity="internal", compliance=["hipaa"]).sensitive_data_protection
        == "advanced"
    )


def test_tags_are_valid_everywhere() -> None:
    tags = profile(compliance=["hipaa", "pci-dss"]).tags
    assert tags == {
        "project": "demo",
        "stack": "dev",
        "data-classification": "confidential",
        "managed-by": "aiscaffold",
        "compliance": "hipaa_pci-dss",
    }
    for value in tags.values():  # GCP label rules are the strictest
        assert value == value.lower() and all(c.isalnum() or c in "-_" for c in value)


def test_mandatory_from_frameworks_or_sensitivity() -> None:
    assert not profile(data_sensitivity="internal").is_mandatory("LOG-03")
    assert profile(data_sensitivity="internal", compliance=["pci-dss"]).is_mandatory("LOG-03")
    assert profile(data_sensitivity="confidential").is_mandatory("LOG-03")


def _as_config_strings(p: Profile) -> dict[str, str]:
    return {
        key.split(":", 1)[1] if key.startswith(f"{p.project}:") else "region": (
            value if isinstance(value, str) else json.dumps(value)
        )
        for key, value in p.stack_config().items()
    }


def test_stack_config_round_trip() -> None:
    p = profile(compliance=["gdpr"], region="eu-west-1", guardrail_denied_topics=["legal advice"])
    config = p.stack_config()
    assert config["aws:region"] == "eu-west-1"
    assert set(config) == {"aws:region"} | {
        f"demo:{k}" for k in ANSWER_KEYS + SETTING_KEYS if k not in ("region", "gcp_org_policies")
    }, "gcp_org_policies is a GCP answer: other clouds' stacks do not carry it"
    assert Profile.from_mapping(_as_config_strings(p), project="demo", stack="dev") == p
    gcp = profile(cloud="gcp", ai_service="vertex-ai", region="us-central1", gcp_org_policies=True)
    assert gcp.stack_config()["demo:gcp_org_policies"] is True
    assert Profile.from_mapping(_as_config_strings(gcp), project="demo", stack="dev") == gcp


def test_missing_config_names_the_key_and_the_fix() -> None:
    raw = _as_config_strings(profile())
    del raw["log_retention_days"]
    with pytest.raises(ProfileConfigError, match="log_retention_days.*pulumi config set"):
        Profile.from_mapping(raw, project="demo", stack="dev")


def test_invalid_config_value_names_the_key() -> None:
    raw = _as_config_strings(profile())
    raw["key_rotation_days"] = "yearly"
    with pytest.raises(ProfileConfigError, match="demo:key_rotation_days"):
        Profile.from_mapping(raw, project="demo", stack="dev")
