"""Model lifecycle (issue 19 item 9): the catalog's dates, the defaults, the rules, `new`.

The defaults test uses the real date on purpose: it fails the day a default passes a
date its provider publishes, which is when the catalog needs its next update.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiscaffold.check import evaluate, load_requirements, run_project
from aiscaffold.cli import main
from aiscaffold_components.catalog import (
    Lifecycle,
    ModelLifecycle,
    load_catalog,
    model_status,
    model_warnings,
)
from aiscaffold_components.deploy import DeployContext, common, deploy_rules
from pydantic import ValidationError

AZURE_PAGE = "https://learn.microsoft.com/azure/foundry/openai/concepts/model-retirement-schedule"
BEDROCK_PAGE = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html"
VERTEX_PAGE = "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions"

#: The defaults of release 0.2.0, which the issue reports as no longer current.
OLD_DEFAULTS = {
    ("azure", "openai"): "gpt-4o:2024-11-20",
    ("aws", "bedrock"): "anthropic.claude-3-5-sonnet-20240620-v1:0",
    ("gcp", "vertex-ai"): "gemini-2.5-flash",
}

#: Services without a published lifecycle table: their models are never judged.
WITHOUT_LIFECYCLE = {("aws", "sagemaker")}


def services() -> list[tuple[str, str]]:
    return [
        (cloud, service)
        for cloud, info in load_catalog().clouds.items()
        for service in info.ai_services
    ]


# ------------------------------------------------------------------ model_status
@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 11, 19), ("current", None)),
        (date(2025, 11, 20), ("deprecated", date(2025, 11, 20))),
        (date(2027, 4, 13), ("deprecated", date(2025, 11, 20))),
        (date(2027, 4, 14), ("retired", date(2027, 4, 14))),
        (date(2030, 1, 1), ("retired", date(2027, 4, 14))),
    ],
)
def test_status_follows_the_dates(today: date, expected: tuple[str, date | None]) -> None:
    status, when, source = model_status("azure", "openai", "gpt-4o:2024-11-20", today)
    assert (status, when) == expected
    assert source == AZURE_PAGE


def test_a_model_with_only_a_retirement_date_goes_from_current_to_retired() -> None:
    model = "anthropic.claude-3-5-sonnet-20240620-v1:0"
    assert model_status("aws", "bedrock", model, date(2026, 2, 28)).status == "current"
    assert model_status("aws", "bedrock", model, date(2026, 3, 1)) == (
        "retired",
        date(2026, 3, 1),
        BEDROCK_PAGE,
    )


def test_inference_profiles_share_their_model_lifecycle() -> None:
    day = date(2026, 12, 6)
    for prefix in ("us", "eu", "global"):
        profile = f"{prefix}.anthropic.claude-3-7-sonnet-20250219-v1:0"
        assert model_status("aws", "bedrock", profile, day).status == "retired"
    # Only known routing prefixes: another dotted head is a different model id.
    assert model_status("aws", "bedrock", "xx.anthropic.claude-3-7-sonnet-20250219-v1:0", day) == (
        "unknown",
        None,
        BEDROCK_PAGE,
    )


@pytest.mark.parametrize(
    ("cloud", "service", "model"),
    [
        ("azure", "openai", "gpt-4o"),  # Azure versions are part of the id
        ("azure", "openai", "my-fine-tune:1"),
        ("gcp", "vertex-ai", "gemini-9-ultra"),
        ("aws", "sagemaker", "huggingface-llm-mistral-7b-instruct"),
        ("aws", "no-such-service", "anything"),
    ],
)
def test_unlisted_models_are_unknown(cloud: Any, service: str, model: str) -> None:
    assert model_status(cloud, service, model, date(2026, 12, 6)).status == "unknown"


def test_lifecycle_data_is_checked_on_load() -> None:
    with pytest.raises(ValidationError, match="is after retired"):
        ModelLifecycle(deprecated=date(2027, 1, 2), retired=date(2027, 1, 1))
    with pytest.raises(ValidationError, match="not an https URL"):
        Lifecycle(source="docs/models.md", checked=date(2026, 12, 6))


def test_every_lifecycle_table_names_its_source_and_check_date() -> None:
    pages = {"azure": AZURE_PAGE, "aws": BEDROCK_PAGE, "gcp": VERTEX_PAGE}
    seen = set()
    for cloud, service in services():
        lifecycle = load_catalog().clouds[cloud].ai_services[service].lifecycle  # type: ignore[index]
        if lifecycle is None:
            seen.add((cloud, service))
            continue
        assert lifecycle.source == pages[cloud]
        assert lifecycle.checked <= date.today()
        assert lifecycle.models, f"{cloud}/{service}: an empty lifecycle table"
    assert seen == WITHOUT_LIFECYCLE


# ------------------------------------------------------------------ the defaults
@pytest.mark.parametrize(("cloud", "service"), services())
def test_defaults_are_current_today(cloud: Any, service: str) -> None:
    """Fails when a default passes its deprecation or retirement date: update the catalog."""
    info = load_catalog().clouds[cloud].ai_services[service]
    variants = [info.default_models, *info.default_models_by_region.values()]
    for defaults in variants:
        for model in defaults:
            status = model_status(cloud, service, model)
            if (cloud, service) in WITHOUT_LIFECYCLE:
                assert status.status == "unknown"
            else:
                assert status.status == "current", f"{model}: {status}"


@pytest.mark.parametrize(("cloud", "service"), sorted(OLD_DEFAULTS))
def test_the_old_defaults_are_no_longer_current(cloud: Any, service: str) -> None:
    old = OLD_DEFAULTS[cloud, service]
    assert model_status(cloud, service, old).status in ("deprecated", "retired")
    assert old not in load_catalog().clouds[cloud].ai_services[service].default_models


def test_regional_defaults_use_the_regions_geography() -> None:
    bedrock = load_catalog().clouds["aws"].ai_services["bedrock"]
    assert bedrock.defaults_for("us-east-1") == bedrock.default_models
    assert bedrock.defaults_for(None) == bedrock.default_models
    chat = [m for m in bedrock.defaults_for("eu-central-1") if "claude" in m]
    assert chat and all(m.startswith("eu.") for m in chat)
    us_chat = [m for m in bedrock.defaults_for("us-east-1") if "claude" in m]
    assert us_chat and all(m.startswith("us.") for m in us_chat)


# ------------------------------------------------------------------ the rules
def context(cloud: Any, service: str, models: Any) -> DeployContext:
    return DeployContext(cloud=cloud, region="", config={"ai_service": service, "models": models})


def rule(rule_id: str) -> Any:
    return next(r for r in deploy_rules() if r.id == rule_id)


def test_rule_metadata() -> None:
    retired, deprecated = rule("ALL-DEPLOY-001"), rule("ALL-DEPLOY-002")
    assert (retired.category, retired.blocking) == ("deploy-failure", True)
    assert (deprecated.category, deprecated.blocking) == ("lifecycle", False)
    for r in (retired, deprecated):
        assert r.source == AZURE_PAGE
        assert r.types == ()  # stack rules: a model is a setting, not a resource
    assert {r.id for r in deploy_rules("gcp")} >= {"ALL-DEPLOY-001", "ALL-DEPLOY-002"}


def test_rules_on_the_old_azure_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "_today", lambda: date(2026, 12, 6))
    ctx = context("azure", "openai", ["gpt-4o:2024-11-20", "text-embedding-3-large:1"])
    assert rule("ALL-DEPLOY-001").evaluate([], ctx) == []
    [(resource, message)] = rule("ALL-DEPLOY-002").evaluate([], ctx)
    assert resource is None
    assert "gpt-4o:2024-11-20 is deprecated since 2025-11-20" in message
    assert AZURE_PAGE in message
    # Before the no-new-customers date the same model is silent...
    monkeypatch.setattr(common, "_today", lambda: date(2025, 11, 19))
    assert rule("ALL-DEPLOY-002").evaluate([], ctx) == []
    # ...and once retired it blocks, and is no longer "deprecated".
    monkeypatch.setattr(common, "_today", lambda: date(2027, 4, 14))
    assert rule("ALL-DEPLOY-002").evaluate([], ctx) == []
    [(_, message)] = rule("ALL-DEPLOY-001").evaluate([], ctx)
    assert "gpt-4o:2024-11-20 was retired on 2027-04-14" in message


@pytest.mark.parametrize(
    ("cloud", "service", "model", "page"),
    [
        ("aws", "bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", BEDROCK_PAGE),
        ("gcp", "vertex-ai", "gemini-2.5-flash", VERTEX_PAGE),
    ],
)
def test_retired_models_block_with_their_clouds_source(
    monkeypatch: pytest.MonkeyPatch, cloud: Any, service: str, model: str, page: str
) -> None:
    monkeypatch.setattr(common, "_today", lambda: date(2026, 12, 6))
    # The stack config holds the list as JSON text when it comes from `pulumi config`.
    ctx = context(cloud, service, json.dumps([model]))
    [(_, message)] = rule("ALL-DEPLOY-001").evaluate([], ctx)
    assert model in message and page in message


@pytest.mark.parametrize(("cloud", "service"), sorted(set(services()) - WITHOUT_LIFECYCLE))
def test_rules_are_silent_on_the_new_defaults(cloud: Any, service: str) -> None:
    info = load_catalog().clouds[cloud].ai_services[service]
    for defaults in (info.default_models, *info.default_models_by_region.values()):
        ctx = context(cloud, service, list(defaults))
        assert rule("ALL-DEPLOY-001").evaluate([], ctx) == []
        assert rule("ALL-DEPLOY-002").evaluate([], ctx) == []


def test_rules_ignore_unknown_models_and_missing_settings() -> None:
    ctx = context("azure", "openai", ["my-fine-tune:1"])
    assert rule("ALL-DEPLOY-001").evaluate([], ctx) == []
    assert rule("ALL-DEPLOY-002").evaluate([], ctx) == []
    empty = DeployContext(cloud="azure", region="", config={})
    assert rule("ALL-DEPLOY-002").evaluate([], empty) == []


def test_check_reports_the_old_default_through_a_mock_run(render_project: Any) -> None:
    """The wiring: the stack config of a generated project reaches the rules."""
    old = render_project(
        cloud="azure",
        project_name="az-old-model",
        models=["gpt-4o:2024-11-20", "text-embedding-3-large:1"],
    )
    findings = evaluate(run_project(old, None), load_requirements(old)).deploy_findings
    lifecycle = [f for f in findings if f.policy.startswith("ALL-DEPLOY")]
    assert [(f.policy, f.level, f.category) for f in lifecycle] == [
        ("ALL-DEPLOY-002", "advisory", "deprecated by the cloud")
    ]
    assert "gpt-4o:2024-11-20" in lifecycle[0].message

    current = render_project(cloud="azure", project_name="az-new-model")
    findings = evaluate(run_project(current, None), load_requirements(current)).deploy_findings
    assert not [f for f in findings if f.policy.startswith("ALL-DEPLOY")]


# ------------------------------------------------------------------ aiscaffold new
def test_new_warns_about_a_deprecated_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "old-model"
    models = "models=[gpt-4o:2024-11-20, text-embedding-3-large:1]"
    assert main(["new", str(dest), "--defaults", "--data", "cloud=azure", "--data", models]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err
    assert "gpt-4o:2024-11-20 is deprecated since 2025-11-20" in err
    assert AZURE_PAGE in err
    assert "text-embedding-3-large" not in err
    recorded = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert recorded["models"] == ["gpt-4o:2024-11-20", "text-embedding-3-large:1"]


def test_new_with_the_defaults_warns_about_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", str(tmp_path / "fresh"), "--defaults", "--data", "cloud=gcp"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_model_warnings_name_date_and_source() -> None:
    day = date(2026, 12, 6)
    lines = model_warnings("gcp", "vertex-ai", ["gemini-2.5-flash", "gemini-3.5-flash"], day)
    assert lines == [
        "model gemini-2.5-flash was retired on 2026-10-20: every call to it fails; "
        f"choose a current model (see {VERTEX_PAGE})"
    ]
    assert model_warnings("gcp", "vertex-ai", ["gemini-2.5-flash"], day - timedelta(days=400)) == []
