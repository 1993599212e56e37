"""The AI risk frameworks (issue 14): what they map, what they select, what a project shows.

OWASP Top 10 for LLM Applications (2025), MITRE ATLAS, NIST AI RMF, ISO/IEC 42001 and
the EU AI Act are mapped only to AI-specific controls, or to another control with a
stated reason; each is selectable in `controls --framework` and in `compliance`, where
eu-ai-act and owasp-llm change settings; every generated COMPLIANCE.md lists the ten
OWASP risks, covered only where the matrix credits their controls.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiscaffold.answers import Answers, allowed_regions
from aiscaffold.cli import main
from aiscaffold.oscal import framework_source, oscal_control_id
from aiscaffold_components.catalog import (
    AI_FRAMEWORKS,
    CLOUDS,
    FRAMEWORKS,
    SENSITIVITIES,
    Catalog,
    Control,
    load_catalog,
)
from aiscaffold_components.policies import registry
from aiscaffold_components.profile import derive_settings
from helpers import RenderProject
from pydantic import ValidationError

catalog = load_catalog()

#: Controls whose subject is the AI system itself, which an AI risk framework may cite
#: without a reason: the guardrails family, plus the controls of other families that
#: concern only the AI service.
AI_SPECIFIC_FAMILIES = {"guardrails"}
AI_SPECIFIC_CONTROLS = {
    "LOG-05",  # AI model invocation logging
    "PE-01",  # private access to the AI service (the AI endpoint's isolation)
    "NET-06",  # AI compute without direct internet access
    "DET-03",  # alerts on AI tampering and misuse
    "COST-03",  # AI capacity limits
    "API-02",  # request and token limits before the model (AI gateway)
}

OWASP_ITEMS = [f"LLM{n:02d}" for n in range(1, 11)]
OWASP_2025_TITLES = {  # genai.owasp.org/llm-top-10/, the 2025 list (v2.0)
    "LLM01": "Prompt Injection",
    "LLM02": "Sensitive Information Disclosure",
    "LLM03": "Supply Chain",
    "LLM04": "Data and Model Poisoning",
    "LLM05": "Improper Output Handling",
    "LLM06": "Excessive Agency",
    "LLM07": "System Prompt Leakage",
    "LLM08": "Vector and Embedding Weaknesses",
    "LLM09": "Misinformation",
    "LLM10": "Unbounded Consumption",
}


def _is_ai_specific(control: Control) -> bool:
    return control.family in AI_SPECIFIC_FAMILIES or control.id in AI_SPECIFIC_CONTROLS


def _mapping_problems(cat: Catalog) -> list[str]:
    """Why the catalog's AI framework mappings break the rule (empty when they keep it)."""
    problems = []
    for framework in cat.ai_frameworks():
        citing = [c for c in cat.controls if framework.id in c.frameworks]
        if not any(_is_ai_specific(c) for c in citing):
            problems.append(f"{framework.id}: no AI-specific control cites it")
        for control in citing:
            reasons = {str(fw): why for fw, why in control.ai_reasons.items()}
            if not _is_ai_specific(control) and not reasons.get(framework.id):
                problems.append(
                    f"{control.id} ({control.family}) cites {framework.id} without a reason"
                )
    return problems


# ------------------------------------------------------------------ the catalog
def test_the_five_ai_frameworks_are_the_ai_risk_kind() -> None:
    assert AI_FRAMEWORKS == ("owasp-llm", "mitre-atlas", "nist-ai-rmf", "iso42001", "eu-ai-act")
    assert set(AI_FRAMEWORKS) < set(FRAMEWORKS)
    assert [f.id for f in catalog.ai_frameworks()] == list(AI_FRAMEWORKS)
    for fw in FRAMEWORKS:
        expected = "ai-risk" if fw in AI_FRAMEWORKS else "security"
        assert catalog.frameworks[fw].kind == expected, fw
    # the ids OSCAL export already documents a source for


def test_ai_frameworks_cite_only_ai_specific_controls_or_say_why() -> None:
    assert _mapping_problems(catalog) == []
    # every reason names a framework the control cites (the model refuses others)
    reasoned = [c for c in catalog.controls if c.ai_reasons]
    assert reasoned, "no generic control needs a reason: drop the field or this test"
    for control in reasoned:
        assert not _is_ai_specific(control), f"{control.id} is AI-specific: no reason needed"
        for fw, why in control.ai_reasons.items():
            assert fw in control.frameworks and len(why) > 30, (control.id, fw)


def test_the_mapping_rule_catches_an_unexplained_generic_control() -> None:
    data = catalog.model_dump()
    key_rotation = next(c for c in data["controls"] if c["id"] == "KEY-02")
    key_rotation["frameworks"]["owasp-llm"] = ("LLM02",)
    tampered = Catalog.model_validate(data)
    assert _mapping_problems(tampered) == ["KEY-02 (encryption) cites owasp-llm without a reason"]
    key_rotation["ai_reasons"] = {"owasp-llm": "LLM02:2025 names keys rotating, it does not."}
    assert _mapping_problems(Catalog.model_validate(data)) == []


def test_catalog_model_refuses_a_stray_reason_a_wrong_kind_and_a_plain_http_source() -> None:
    data = catalog.model_dump()
    rotation = next(c for c in data["controls"] if c["id"] == "KEY-02")
    rotation["ai_reasons"] = {"eu-ai-act": "cited nowhere by this control"}
    with pytest.raises(ValidationError, match="ai_reasons for frameworks it does not cite"):
        Catalog.model_validate(data)
    data = catalog.model_dump()
    data["frameworks"]["eu-ai-act"]["kind"] = "security"
    with pytest.raises(ValidationError, match="must have kind ai-risk"):
        Catalog.model_validate(data)
    data = catalog.model_dump()
    data["frameworks"]["owasp-llm"]["source"] = "http://genai.owasp.org/llm-top-10/"
    with pytest.raises(ValidationError, match="not an https URL"):
        Catalog.model_validate(data)


def test_owasp_items_are_the_2025_list() -> None:
    owasp = catalog.frameworks["owasp-llm"]
    assert list(owasp.clauses) == OWASP_ITEMS
    assert {k: c.title for k, c in owasp.clauses.items()} == OWASP_2025_TITLES
    assert owasp.version.startswith("2025")


@pytest.mark.parametrize("framework", AI_FRAMEWORKS)
def test_ai_framework_clauses_are_cited_or_the_teams(framework: str) -> None:
    fw = catalog.frameworks[framework]  # type: ignore[index]
    pattern = re.compile(fw.clause_pattern)
    cited = {cl for c in catalog.controls for cl in c.frameworks.get(fw.id, ())}
    assert cited, f"{framework} is cited by no control"
    for clause_id, clause in fw.clauses.items():
        assert pattern.fullmatch(clause_id), clause_id
        assert (clause_id in cited) != bool(clause.customer), (
            f"{framework} {clause_id}: cited and the team's, or neither"
        )
        if clause.customer:
            assert len(clause.customer) > 30, f"{framework} {clause_id}: say why in a line"
    assert fw.source and fw.source.startswith("https://")
    assert framework_source(framework) == fw.source


def test_every_framework_has_a_source_and_the_oscal_source_is_it() -> None:
    for fw_id, framework in catalog.frameworks.items():
        assert framework.source and framework.source.startswith("https://"), fw_id
        assert framework_source(fw_id) == framework.source


# ------------------------------------------------------------------ settings
def test_eu_ai_act_keeps_logs_six_months_and_makes_invocation_logging_mandatory() -> None:
    for sensitivity in SENSITIVITIES:
        settings = derive_settings(
            cloud="aws", data_sensitivity=sensitivity, compliance=["eu-ai-act"]
        )
        assert settings["log_retention_days"] >= 183, sensitivity
    # public data alone keeps logs 90 days and leaves invocation logging advisory
    public = derive_settings(cloud="aws", data_sensitivity="public", compliance=[])
    assert public["log_retention_days"] < 183
    invocation_logging = catalog.control("LOG-05")
    assert not catalog.is_mandatory(invocation_logging, "public", [])
    assert catalog.is_mandatory(invocation_logging, "public", ["eu-ai-act"])


def test_a_project_answering_eu_ai_act_gets_the_retention_in_its_stack_config() -> None:
    answers = Answers.model_validate(
        {
            "project_name": "act-app",
            "cloud": "azure",
            "ai_service": "openai",
            "data_sensitivity": "public",
            "compliance": ["eu-ai-act"],
            "region": "westeurope",
            "models": ["gpt-4o"],
        }
    )
    config = answers.profile().stack_config()
    assert config["act-app:log_retention_days"] >= 183
    assert config["act-app:compliance"] == ["eu-ai-act"]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_ai_frameworks_do_not_restrict_regions(cloud: str) -> None:
    everywhere = allowed_regions(cloud, [])  # type: ignore[arg-type]
    for fw in AI_FRAMEWORKS:
        assert allowed_regions(cloud, [fw]) == everywhere, fw  # type: ignore[arg-type]
    # GDPR still restricts, with or without an AI framework beside it
    assert allowed_regions(cloud, ["gdpr", "eu-ai-act"]) == allowed_regions(cloud, ["gdpr"])  # type: ignore[arg-type]


def test_owasp_llm_asks_for_the_strongest_filters() -> None:
    settings = derive_settings(cloud="gcp", data_sensitivity="public", compliance=["owasp-llm"])
    assert settings["content_filter_strength"] == "HIGH"
    assert settings["sensitive_data_protection"] == "advanced"
    assert {"credentials", "credit-card", "health-number"} <= set(settings["pii_entities"])
    # frameworks that name no value change nothing
    baseline = derive_settings(cloud="gcp", data_sensitivity="public", compliance=[])
    for fw in ("mitre-atlas", "nist-ai-rmf", "iso42001"):
        assert derive_settings(cloud="gcp", data_sensitivity="public", compliance=[fw]) == baseline


# ------------------------------------------------------------------ controls --framework
def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out


def test_controls_framework_owasp_llm_in_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, table = _cli(capsys, "controls", "--framework", "owasp-llm", "--cloud", "azure")
    assert code == 0 and "AI-02" in table and "KEY-02" not in table
    code, text = _cli(capsys, "controls", "--framework", "owasp-llm", "--format", "json")
    assert code == 0
    records = json.loads(text)
    expected = {c.id for c in catalog.select(framework="owasp-llm")}
    assert {r["id"] for r in records} == expected
    assert all(set(r["frameworks"]) == {"owasp-llm"} for r in records)
    code, text = _cli(
        capsys, "controls", "--framework", "owasp-llm", "--cloud", "aws", "--format", "oscal"
    )
    assert code == 0
    document = json.loads(text)["component-definition"]
    implementations = [
        i for c in document["components"] for i in c.get("control-implementations", [])
    ]
    assert {i["source"] for i in implementations} == {"https://genai.owasp.org/llm-top-10/"}
    ids = {r["control-id"] for i in implementations for r in i["implemented-requirements"]}
    covered = {c for c, cl in catalog.frameworks["owasp-llm"].clauses.items() if not cl.customer}
    assert ids <= {oscal_control_id("owasp-llm", c) for c in covered}
    assert oscal_control_id("owasp-llm", "LLM01") in ids


# ------------------------------------------------------------------ COMPLIANCE.md
def _ai_risks(matrix: str) -> dict[str, list[str]]:
    """The AI risks section's rows by risk id (cells stripped), asserting each once."""
    start = matrix.index("AI risks (OWASP Top 10 for LLM Applications")
    section = matrix[start:].split("\n#", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if cells and re.fullmatch(r"LLM\d\d", cells[0]):
            assert cells[0] not in rows, f"{cells[0]} listed twice"
            rows[cells[0]] = cells
    return rows


def _assert_section_honest(matrix: str, cloud: str) -> dict[str, list[str]]:
    assert matrix.count("AI risks (OWASP Top 10 for LLM Applications") == 1
    rows = _ai_risks(matrix)
    assert list(rows) == OWASP_ITEMS
    owasp = catalog.frameworks["owasp-llm"]
    ids = {p.id for p in registry(cloud)}  # type: ignore[arg-type]
    for item, (_, title, controls, verified, status) in rows.items():
        assert title == owasp.clauses[item].title
        if owasp.clauses[item].customer:
            assert status.startswith("👤") and controls == "—", item
            continue
        if status.startswith("✅"):
            credited = verified.split(", ")
            assert credited and set(credited) <= ids, item
            assert status.startswith(f"✅ {len(credited)} "), item
        else:
            assert "✅" not in status, item
    return rows


@pytest.mark.parametrize("cloud", CLOUDS)
def test_default_project_compliance_lists_the_ten_owasp_risks(
    render_project: RenderProject, cloud: str
) -> None:
    project = render_project(project_name=f"ai-{cloud}", cloud=cloud)
    matrix = (project / "COMPLIANCE.md").read_text(encoding="utf-8")
    rows = _assert_section_honest(matrix, cloud)
    assert "choose `owasp-llm` in `compliance`" in matrix
    assert rows["LLM01"][4].startswith("✅")  # the default guardrail passes, proven live


@pytest.mark.slow
@pytest.mark.parametrize("cloud", CLOUDS)
def test_owasp_llm_project_renders_and_checks_clean(
    render_project: RenderProject, cloud: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = render_project(project_name=f"llm-{cloud}", cloud=cloud, compliance=["owasp-llm"])
    code, _ = _cli(capsys, "check", str(project))
    assert code == 0
    target = tmp_path / "COMPLIANCE.md"
    code, _ = _cli(capsys, "check", str(project), "--format", "compliance", "-o", str(target))
    assert code == 0
    matrix = target.read_text(encoding="utf-8")
    assert matrix == (project / "COMPLIANCE.md").read_text(encoding="utf-8")  # deterministic
    _assert_section_honest(matrix, cloud)
    assert "a chosen framework: its controls are mandatory here" in matrix
    # the framework's own matrix is there too, with the team's items explained
    assert "## OWASP Top 10 for LLM Applications (2025, v2.0)" in matrix


def _disable(project: Path, policies: list[str], reason: str) -> None:
    path = project / "policy" / "enforcement.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    data["overrides"] = {
        **(data.get("overrides") or {}),
        **{p: {"level": "disabled", "reason": reason} for p in policies},
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@pytest.mark.slow
def test_a_disabled_prompt_attack_policy_leaves_prompt_injection_not_verified(
    render_project: RenderProject, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "llm-aws"
    shutil.copytree(
        render_project(project_name="llm-aws", cloud="aws", compliance=["owasp-llm"]), project
    )
    prompt_attack = sorted(p.id for p in registry("aws") if "AI-02" in p.controls)
    assert prompt_attack
    reason = "prompt attacks are screened by the API gateway's own filter"
    _disable(project, prompt_attack, reason)
    target = tmp_path / "COMPLIANCE.md"
    code, _ = _cli(capsys, "check", str(project), "--format", "compliance", "-o", str(target))
    assert code == 0  # a disabled policy blocks nothing
    rows = _assert_section_honest(target.read_text(encoding="utf-8"), "aws")
    for item in ("LLM01", "LLM07"):  # the risks AI-02 covers
        verified, status = rows[item][3], rows[item][4]
        assert "✅" not in status, item
        assert status.startswith("⚠ not verified: AI-02 only by disabled "), item
        for policy in prompt_attack:
            assert f"⚠ exception: {policy} disabled — {reason}" in status
            assert policy not in verified.split(", ")
    assert rows["LLM02"][4].startswith("✅")  # AI-03 and AI-05 untouched
