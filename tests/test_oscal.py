"""OSCAL evidence (issue 14): the component definition and the assessment results.

Both documents are loaded back with compliance-trestle's OSCAL models (which validate
them) and must serialise to the same bytes; every control, clause, setting and policy
they name must exist in the catalog and the policy registry; the same inputs with
``SOURCE_DATE_EPOCH`` set give byte-identical output; and a project with a violation
and an exception carries the finding and the risk, linked.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiscaffold.cli import main
from aiscaffold.oscal import (
    NIST_800_53_R5,
    PROPERTY_NS,
    component_definition,
    framework_source,
    oscal_control_id,
    oscal_json,
    project_assessment_results,
)
from aiscaffold_components.catalog import CLOUDS, FRAMEWORKS, load_catalog
from aiscaffold_components.policies import registry
from helpers import RenderProject
from trestle.oscal import OSCAL_VERSION
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.component import ComponentDefinition

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EPOCH = "1767225600"  # 2026-01-01T00:00:00Z
TOKEN = re.compile(r"^[_A-Za-z][_A-Za-z0-9.\-]*$")  # OSCAL's token, ASCII part
#: NIST's ids in its OSCAL SP 800-53 catalog: family, number, enhancement after a dot.
NIST_ID = re.compile(r"^[a-z]{2}-\d{1,2}(\.\d{1,2})?$")
KMS_REASON = "keys are re-keyed by the central key team's runbook, not by KMS rotation"


@pytest.fixture
def epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def _props(node: dict[str, Any], name: str) -> list[str]:
    return [
        p["value"] for p in node.get("props", []) if p["name"] == name and p["ns"] == PROPERTY_NS
    ]


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _assert_names_exist(document: dict[str, Any], cloud: str | None = None) -> None:
    """Every control, setting and policy a document names is in the catalog / registry."""
    catalog = load_catalog()
    controls = {c.id for c in catalog.controls}
    policies = {p.id for p in registry()}
    for node in _walk(document):
        for control in _props(node, "control"):
            assert control in controls, control
        for setting in _props(node, "setting"):
            assert setting in catalog.settings, setting
        for policy in _props(node, "policy"):
            assert policy in policies or policy.split("-")[1] == "DEPLOY", policy
        for fw in _props(node, "framework"):
            assert fw in catalog.frameworks, fw
            for clause in _props(node, "clause"):
                assert clause in catalog.frameworks[fw].clauses, (fw, clause)  # type: ignore[index]


# ------------------------------------------------------------------ control ids
def test_every_catalog_framework_has_a_documented_source() -> None:
    for fw in FRAMEWORKS:
        assert framework_source(fw).startswith("https://"), fw
    assert framework_source("fedramp") == NIST_800_53_R5


def test_clause_ids_become_distinct_oscal_tokens() -> None:
    for fw, framework in load_catalog().frameworks.items():
        ids = [oscal_control_id(fw, c) for c in framework.clauses]
        assert all(TOKEN.match(i) for i in ids), (fw, ids)
        assert len(set(ids)) == len(ids), f"{fw}: two clauses give one OSCAL id"
        if fw == "fedramp":
            assert all(NIST_ID.match(i) for i in ids), ids
    assert oscal_control_id("fedramp", "AC-6") == "ac-6"
    assert oscal_control_id("fedramp", "SC-7") == "sc-7"
    assert oscal_control_id("fedramp", "SC-7(5)") == "sc-7.5"
    assert oscal_control_id("fedramp", "AU-11") == "au-11"
    assert oscal_control_id("hipaa", "164.312(a)(2)(iv)") == "hipaa-164.312.a.2.iv"
    assert oscal_control_id("pci-dss", "10.2.1.2") == "pci-dss-10.2.1.2"
    assert oscal_control_id("gdpr", "Art. 5(1)(c)") == "art.5.1.c"
    assert oscal_control_id("soc2", "CC6.1") == "cc6.1"
    assert oscal_control_id("iso27001", "A.8.20") == "a.8.20"


# ------------------------------------------------------------------ component definition
def _load_definition(text: str) -> tuple[dict[str, Any], ComponentDefinition]:
    data = json.loads(text)
    assert list(data) == ["component-definition"]
    model = ComponentDefinition.model_validate(data["component-definition"])
    assert oscal_json(model) == text  # round trip: what was written is what loads
    return data["component-definition"], model


@pytest.mark.parametrize("cloud", CLOUDS)
def test_component_definition_of_each_cloud(cloud: str) -> None:
    catalog = load_catalog()
    document, _ = _load_definition(oscal_json(component_definition(cloud)))  # type: ignore[arg-type]
    assert document["metadata"]["oscal-version"] == OSCAL_VERSION
    _assert_names_exist(document)
    titles = {c["title"]: c for c in document["components"]}
    expected = {
        f"aiscaffold:{cloud}:{name}"
        for c in catalog.select(cloud=cloud)  # type: ignore[arg-type]
        for name in c.implemented_by.get(cloud, ())  # type: ignore[call-overload]
    }
    assert expected <= set(titles)
    pack = titles[f"aiscaffold:{cloud}:policy-pack"]
    assert pack["type"] == "validation"
    assert {c["type"] for t, c in titles.items() if t != pack["title"]} == {"software"}
    assert set(_props(pack, "policy")) == {
        p.id
        for p in registry(cloud)
        if p.controls  # type: ignore[arg-type]
    }
    for component in document["components"]:
        for implementation in component.get("control-implementations", []):
            (fw,) = _props(implementation, "framework")
            assert implementation["source"] == framework_source(fw)
            for requirement in implementation["implemented-requirements"]:
                (clause,) = _props(requirement, "clause")
                assert requirement["control-id"] == oscal_control_id(fw, clause)
                cited = _props(requirement, "control")
                assert cited, requirement
                for control_id in cited:
                    assert clause in catalog.control(control_id).frameworks[fw]  # type: ignore[index]
                for policy_id in _props(requirement, "policy"):
                    policy = next(p for p in registry(cloud) if p.id == policy_id)  # type: ignore[arg-type]
                    assert set(policy.controls) & set(cited), (policy_id, cited)
                for setting in _props(requirement, "setting"):
                    assert catalog.settings[setting].control in cited
    # NIST SP 800-53 clauses against NIST's own catalog, with its ids.
    fedramp = [
        r["control-id"]
        for c in document["components"]
        for i in c.get("control-implementations", [])
        if i["source"] == NIST_800_53_R5
        for r in i["implemented-requirements"]
    ]
    assert {"ac-6", "sc-7", "sc-7.5"} <= set(fedramp)
    assert all(NIST_ID.match(i) for i in fedramp)


def test_component_definition_filtered_by_framework() -> None:
    catalog = load_catalog()
    document, _ = _load_definition(oscal_json(component_definition("gcp", "soc2")))
    sources = {i["source"] for c in document["components"] for i in c["control-implementations"]}
    assert sources == {framework_source("soc2")}
    implemented = {
        r["control-id"]
        for c in document["components"]
        for i in c["control-implementations"]
        for r in i["implemented-requirements"]
    }
    cited = {
        oscal_control_id("soc2", clause)
        for c in catalog.select(cloud="gcp", framework="soc2")
        if c.implemented_by.get("gcp")
        for clause in c.frameworks["soc2"]
    }
    assert implemented == cited
    with pytest.raises(KeyError):
        component_definition("gcp", "nope")


def test_component_definition_is_byte_identical_with_source_date_epoch(epoch: None) -> None:
    first = oscal_json(component_definition())
    assert oscal_json(component_definition()) == first
    metadata = json.loads(first)["component-definition"]["metadata"]
    assert metadata["last-modified"] == "2026-01-01T00:00:00+00:00"


# ------------------------------------------------------------------ assessment results
def _example(name: str) -> dict[str, Any]:
    answers = yaml.safe_load((EXAMPLES / "answers" / f"{name}.yml").read_text())
    assert isinstance(answers, dict)
    return answers


PROJECTS = {
    **{
        f"{cloud}-defaults": {"project_name": f"{cloud}-defaults", "cloud": cloud}
        for cloud in CLOUDS
    },
    **{p.stem: _example(p.stem) for p in sorted((EXAMPLES / "answers").glob("*.yml"))},
}


def _copy(render_project: RenderProject, tmp_path: Path, name: str) -> Path:
    """A writable copy (the liveness proof is cached in the project)."""
    project = tmp_path / name
    shutil.copytree(render_project(**PROJECTS[name]), project)
    return project


def _load_results(text: str) -> dict[str, Any]:
    data = json.loads(text)
    assert list(data) == ["assessment-results"]
    model = AssessmentResults.model_validate(data["assessment-results"])
    assert oscal_json(model) == text
    document: dict[str, Any] = data["assessment-results"]
    return document


def _check_results(document: dict[str, Any], project: Path) -> None:
    """What every assessment-results document must hold, against the project's check."""
    from aiscaffold.liveness import check_with_liveness

    report, live = check_with_liveness(project)
    _assert_names_exist(document)
    (result,) = document["results"]
    items = {i["uuid"]: i for i in result["local-definitions"]["inventory-items"]}
    observations = {o["uuid"]: o for o in result["observations"]}
    risks = {r["uuid"]: r for r in result.get("risks", [])}
    # One observation per verdict, its subject an inventory item with the URN and type.
    assert len(observations) == sum(len(by) for by in report.verdicts.values())
    seen = set()
    for observation in observations.values():
        (subject,) = observation["subjects"]
        assert subject["type"] == "inventory-item"
        item = items[subject["subject-uuid"]]
        (urn,) = _props(item, "pulumi-urn")
        assert subject["title"] == urn
        (policy,) = _props(observation, "policy")
        (verdict,) = _props(observation, "verdict")
        key = urn if urn in report.verdicts[policy] else ""
        assert report.verdicts[policy][key] == verdict
        assert _props(item, "resource-type")[0] == urn.split("::")[2].rsplit("$", 1)[-1]
        assert observation["methods"] == ["TEST"]
        credited = _props(observation, "credited") == ["true"]
        assert credited == (verdict == "passed" and policy in live)
        seen.add((policy, key))
    assert seen == {(p, u) for p, by in report.verdicts.items() for u in by}
    for node in _walk(result):
        for ref in node.get("related-observations", []):
            assert ref["observation-uuid"] in observations
        for ref in node.get("related-risks", []):
            assert ref["risk-uuid"] in risks
    # Only passed verdicts of live policies satisfy a clause; the team's clauses never.
    catalog = load_catalog()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    clauses = [f for f in result["findings"] if _props(f, "clause")]
    expected = sum(len(catalog.frameworks[fw].clauses) for fw in answers["compliance"])
    assert len(clauses) == expected
    for finding in clauses:
        status = finding["target"]["status"]["state"]
        if _props(finding, "responsibility") == ["customer"]:
            assert status == "not-satisfied"
            assert finding["remarks"].startswith("Customer responsibility: ")
    for finding in result["findings"]:
        if finding["target"]["status"]["state"] == "satisfied":
            verified = _props(finding, "policy")
            assert verified and all(p in report.passed and p in live for p in verified)
            assert not any(v.policy in verified for v in report.violations)
    if not answers["compliance"]:  # then one finding per catalog control, as in COMPLIANCE.md
        applicable = {c.id.lower() for c in catalog.controls if c.applies_to(answers["cloud"])}
        assert {f["target"]["target-id"] for f in result["findings"]} >= applicable
    # Something is credited on every generated project (else the branch above is moot).
    assert any(f["target"]["status"]["state"] == "satisfied" for f in result["findings"])
    assert {r["statement"] for r in risks.values()} == {
        o.reason for o in report.exceptions.values()
    }
    violations = [
        f
        for f in result["findings"]
        if f["title"].endswith(tuple(f" violation on {v.resource}" for v in report.violations))
    ]
    assert len(violations) == len(report.violations)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_assessment_results_of_default_and_example_projects(
    name: str, render_project: RenderProject, tmp_path: Path, epoch: None
) -> None:
    project = _copy(render_project, tmp_path, name)
    results, report = project_assessment_results(project)
    text = oscal_json(results)
    document = _load_results(text)
    metadata = document["metadata"]
    assert metadata["last-modified"] == "2026-01-01T00:00:00+00:00"
    assert _props(metadata, "stack") == [report.stack]
    assert _props(metadata, "project") == [report.project]
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert _props(metadata, "template-commit") == [str(recorded["_commit"])]
    # import-ap points at the back-matter resource naming the component definition.
    (resource,) = document["back-matter"]["resources"]
    assert document["import-ap"]["href"] == f"#{resource['uuid']}"
    definition = component_definition(recorded["cloud"])
    assert _props(resource, "component-definition-uuid") == [definition.uuid]
    _check_results(document, project)
    # The same inputs give the same bytes.
    again, _ = project_assessment_results(project)
    assert oscal_json(again) == text


@pytest.fixture(scope="module")
def excepted(render_project: RenderProject, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """aws-bedrock-hipaa without key rotation and AWS-KMS-001 overridden to advisory."""
    from test_evidence import _override, _without_rotation

    project = tmp_path_factory.mktemp("oscal") / "aws-bedrock-hipaa"
    shutil.copytree(render_project(**_example("aws-bedrock-hipaa")), project)
    _without_rotation(project)
    _override(project, {"AWS-KMS-001": ("advisory", KMS_REASON)})
    return project


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.mark.slow
def test_a_violation_and_an_exception_are_a_finding_and_a_risk(
    excepted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], epoch: None
) -> None:
    target = tmp_path / "results.json"
    code, _ = _cli(capsys, "check", str(excepted), "--format", "oscal", "-o", str(target))
    assert code == 0  # the override makes the rotation violations advisory
    loaded = AssessmentResults.oscal_read(target)  # trestle's reader: one root key
    assert loaded is not None
    text = target.read_text(encoding="utf-8")
    document = _load_results(text.rstrip("\n"))
    _check_results(document, excepted)
    (result,) = document["results"]
    (risk,) = [r for r in result["risks"] if _props(r, "policy") == ["AWS-KMS-001"]]
    assert risk["statement"] == KMS_REASON
    assert _props(risk, "level") == ["advisory"]
    assert risk["status"] == "deviation-approved"
    kms = [
        f
        for f in result["findings"]
        if _props(f, "policy") == ["AWS-KMS-001"] and f["target"]["target-id"] == "AWS-KMS-001"
    ]
    assert len(kms) == 3  # the data, logs and secrets keys
    for finding in kms:
        assert finding["target"]["status"]["state"] == "not-satisfied"
        assert finding["related-risks"] == [{"risk-uuid": risk["uuid"]}]
        (observation,) = finding["related-observations"]
        (match,) = [
            o for o in result["observations"] if o["uuid"] == observation["observation-uuid"]
        ]
        assert _props(match, "verdict") == ["violation"]
    # The HIPAA clause KEY-02 serves is not satisfied, and names the exception.
    (clause,) = [
        f for f in result["findings"] if f["target"]["target-id"] == "hipaa-164.312.a.2.iv"
    ]
    assert clause["target"]["status"]["state"] == "not-satisfied"
    assert {"risk-uuid": risk["uuid"]} in clause["related-risks"]
    # stdout gives the same document
    code, printed = _cli(capsys, "check", str(excepted), "--format", "oscal")
    assert code == 0 and printed == text


def test_controls_format_oscal_prints_a_component_definition(
    capsys: pytest.CaptureFixture[str], epoch: None
) -> None:
    code, out = _cli(
        capsys, "controls", "--format", "oscal", "--cloud", "azure", "--framework", "gdpr"
    )
    assert code == 0
    document, _ = _load_definition(out.rstrip("\n"))
    assert oscal_json(component_definition("azure", "gdpr")) == out.rstrip("\n")
    assert {c["title"].split(":")[1] for c in document["components"]} == {"azure"}
    code, _ = _cli(capsys, "controls", "--format", "oscal", "--framework", "nope")
    assert code == 2
