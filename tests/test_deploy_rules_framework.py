"""The deploy-rule framework: declaration, evaluation in check, and every report format.

Rules of the clouds are tested with their fixes (tests/<cloud>/test_<cloud>_deploy.py);
here a registry of test rules runs on a real generated project so the framework's own
behaviour is pinned: blocking categories count as mandatory, the others advise, every
rule names a source and the cloud's error, and table, JSON and SARIF carry them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.reports import check_json, check_sarif, check_table
from aiscaffold.testing import run_program
from aiscaffold_components.deploy import DeployContext, _core, deploy_rule, deploy_rules
from aiscaffold_components.policies import NotApplicable, Resource
from helpers import RenderProject
from rich.console import Console

KEY = "aws:kms/key:Key"


@pytest.fixture
def test_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry holding only the rules a test declares."""
    deploy_rules()  # the clouds' modules are imported (and registered) before the swap
    monkeypatch.setattr(_core, "_REGISTRY", {})


def _declare(**overrides: object) -> None:
    arguments: dict[str, object] = {
        "id": "AWS-DEPLOY-900",
        "title": "Keys are refused",
        "category": "deploy-failure",
        "source": "https://docs.aws.amazon.com/kms/latest/developerguide/overview.html",
        "error": "KMSInvalidStateException",
        "remediation": "Do not create keys.",
        "types": [KEY],
        **overrides,
    }

    @deploy_rule(**arguments)  # type: ignore[arg-type]
    def check(resource: Resource, context: DeployContext) -> Iterator[str]:
        """Every key is refused (a test rule)."""
        if resource.get("enableKeyRotation") is None:
            raise NotApplicable("no rotation setting")
        yield f"{resource.name} in {context.region}"


def test_declaration_needs_an_id_a_source_and_the_cloud_error(test_rules: None) -> None:
    with pytest.raises(ValueError, match="not <CLOUD>-DEPLOY-<nnn>"):
        _declare(id="AWS-KMS-900")
    with pytest.raises(ValueError, match="source as an https URL"):
        _declare(source="the docs")
    with pytest.raises(ValueError, match="error the cloud returns"):
        _declare(error=" ")
    _declare()
    with pytest.raises(ValueError, match="defined twice"):
        _declare()


@pytest.mark.slow
def test_check_reports_rules_in_their_categories(
    test_rules: None, render_project: RenderProject, tmp_path: Path
) -> None:
    _declare()

    @deploy_rule(
        id="AWS-DEPLOY-901",
        title="The stack is irreversible",
        category="irreversible",
        source="https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html",
        error="AccessDenied",
        remediation="Lock in a second step.",
    )
    def stack_rule(
        resources: list[Resource], context: DeployContext
    ) -> Iterator[tuple[Resource | None, str]]:
        """A stack rule that names the stack (a test rule)."""
        yield (
            None,
            f"{len(resources)} resources, lock_log_archive={context.flag('lock_log_archive')}",
        )

    project = render_project(cloud="aws")
    run = run_program(project)
    report = evaluate(run, load_requirements(project))
    keys = run.of_type(KEY)
    assert keys and report.deploy_rules == 2

    blocking = [f for f in report.deploy_findings if f.policy == "AWS-DEPLOY-900"]
    assert sorted(f.resource for f in blocking) == sorted(k.name for k in keys)
    assert all(f.level == "mandatory" and f.category == "would fail at deploy" for f in blocking)
    assert all("KMSInvalidStateException" in f.message for f in blocking)
    assert all(f in report.mandatory for f in blocking), "a refused deploy blocks like a policy"
    assert all(f not in report.policy_findings for f in blocking)
    (irreversible,) = [f for f in report.deploy_findings if f.policy == "AWS-DEPLOY-901"]
    assert irreversible.level == "advisory" and irreversible.resource == "(stack)"
    assert "lock_log_archive=False" in irreversible.message

    data = json.loads(check_json(report))
    assert data["deploy_rules"] == 2
    assert {d["rule"] for d in data["deploy"]} == {"AWS-DEPLOY-900", "AWS-DEPLOY-901"}
    assert all(d["source"].startswith("https://") for d in data["deploy"])
    assert not any(v["policy"].startswith("AWS-DEPLOY") for v in data["violations"])

    sarif = json.loads(check_sarif(report))
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["AWS-DEPLOY-900"]["helpUri"].startswith("https://docs.aws.amazon.com/kms")
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "AWS-DEPLOY-900"]
    assert results and all(r["level"] == "error" for r in results)
    driver_rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert all(
        driver_rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in sarif["runs"][0]["results"]
    )

    console = Console(record=True, width=200)
    console.print(check_table(report))
    text = console.export_text()
    assert "DEPLOY RULES (" in text and "would fail at deploy" in text and "FAIL" in text


def test_every_registered_rule_is_declared_completely() -> None:
    rules = deploy_rules()
    assert len({r.id for r in rules}) == len(rules)
    for rule in rules:
        assert rule.source.startswith("https://") and rule.error.strip(), rule.id
        assert rule.description and rule.remediation, rule.id
        assert (rule.check is None) != (rule.check_stack is None), rule.id
