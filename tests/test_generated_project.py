"""What a generated project hands over: deploy guide, CI, reports, bootstrap."""

from __future__ import annotations

import re

import pytest
import yaml
from aiscaffold_components.catalog import load_catalog
from helpers import RenderProject

CLOUDS = ["aws", "azure", "gcp"]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_readme_has_the_deploy_sequence(render_project: RenderProject, cloud: str) -> None:
    readme = (render_project(cloud=cloud) / "README.md").read_text()
    scheme = {"aws": "awskms", "azure": "azurekeyvault", "gcp": "gcpkms"}[cloud]
    for expected in (
        "pulumi login",
        "pulumi stack init dev --secrets-provider",
        "pulumi preview --policy-pack policy",
        "pulumi up",
        "aiscaffold check",
        "aiscaffold update",
        "pytest",
    ):
        assert expected in readme, expected
    assert "bootstrap" in readme  # self-managed state by default
    cloud_project = render_project(cloud=cloud, state_backend="pulumi-cloud")
    assert f"{scheme}://" in (cloud_project / "README.md").read_text()
    assert not (cloud_project / "bootstrap").exists()


@pytest.mark.parametrize("cloud", CLOUDS)
def test_ci_workflow(render_project: RenderProject, cloud: str) -> None:
    workflow = yaml.safe_load(
        (render_project(cloud=cloud) / ".github" / "workflows" / "ci.yml").read_text()
    )
    offline, preview = workflow["jobs"]["offline"], workflow["jobs"]["preview"]
    runs = " ".join(step.get("run", "") for step in offline["steps"])
    assert "pytest" in runs and "aiscaffold check" in runs and "--format sarif" in runs
    assert any(
        step.get("uses", "").startswith("github/codeql-action/upload-sarif")
        for step in offline["steps"]
    )
    assert preview["permissions"]["id-token"] == "write"  # OIDC, no stored cloud keys
    login = {
        "aws": "aws-actions/configure-aws-credentials",
        "azure": "azure/login",
        "gcp": "google-github-actions/auth",
    }
    assert any(step.get("uses", "").startswith(login[cloud]) for step in preview["steps"])
    pulumi = next(s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions"))
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["policyPacks"] == "policy"
    text = (render_project(cloud=cloud) / ".github" / "workflows" / "ci.yml").read_text()
    assert "${{ vars." in text and "secrets." not in text  # no long-lived secret at all
    assert not any(s.get("uses", "").startswith("pulumi/auth-actions") for s in preview["steps"])


def test_ci_workflow_logs_in_to_pulumi_cloud_by_oidc(render_project: RenderProject) -> None:
    project = render_project(cloud="gcp", state_backend="pulumi-cloud")
    text = (project / ".github" / "workflows" / "ci.yml").read_text()
    preview = yaml.safe_load(text)["jobs"]["preview"]
    auth = next(s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/auth-actions"))
    assert auth["with"]["requested-token-type"].startswith("urn:pulumi:token-type:access_token")
    assert "secrets." not in text and "pulumi login" not in text


@pytest.mark.parametrize(
    "answers",
    [
        {"cloud": "aws", "data_sensitivity": "restricted", "compliance": ["hipaa", "pci-dss"]},
        {"cloud": "azure", "compliance": ["gdpr", "iso27001"]},
        {"cloud": "gcp", "compliance": ["soc2", "fedramp"], "region": "us-east4"},
    ],
    ids=["aws-hipaa-pci", "azure-gdpr-iso", "gcp-soc2-fedramp"],
)
def test_compliance_matrix_lists_every_clause(
    render_project: RenderProject, answers: dict[str, object]
) -> None:
    text = (render_project(**answers) / "COMPLIANCE.md").read_text()
    catalog = load_catalog()
    for framework in answers["compliance"]:  # type: ignore[attr-defined]
        fw = catalog.frameworks[framework]
        assert f"## {fw.title}" in text
        for clause in fw.clauses:
            assert re.search(rf"^\| {re.escape(clause)} \|", text, re.MULTILINE), (
                f"{framework} {clause}"
            )
    assert "not checked" not in text  # the offline check ran when the file was written
    assert "👤" in text  # customer responsibilities are listed, so the matrix is honest


@pytest.mark.parametrize("cloud", CLOUDS)
def test_architecture_diagram_names_every_component(
    render_project: RenderProject, cloud: str
) -> None:
    from aiscaffold.testing import run_program

    project = render_project(cloud=cloud)
    text = (project / "docs" / "architecture.md").read_text()
    assert "```mermaid" in text and "flowchart" in text
    run = run_program(project)
    tops = [c for c in run.components if c.parent not in {r.urn for r in run.resources}]
    assert tops
    for component in tops:
        assert f"{component.type.rsplit(':', 1)[-1]}</b> {component.name}" in text, component.name
    declared = set(re.findall(r"^\s+(\w+)[\[(]", text, re.MULTILINE))
    edges = re.findall(r"^\s+(\w+) [-=.]+>\|\w+\| (\w+)$", text, re.MULTILINE)
    assert edges and {n for edge in edges for n in edge} <= declared  # no stray nodes


@pytest.mark.parametrize("cloud", CLOUDS)
def test_bootstrap_is_a_pulumi_program(render_project: RenderProject, cloud: str) -> None:
    bootstrap = render_project(cloud=cloud) / "bootstrap"
    assert yaml.safe_load((bootstrap / "Pulumi.yaml").read_text())["name"] == "test-app-bootstrap"
    config = yaml.safe_load((bootstrap / "Pulumi.bootstrap.yaml").read_text())["config"]
    assert config["test-app-bootstrap:data_sensitivity"] == "confidential"


def test_compliance_status_counts_only_policies_that_reached_a_verdict() -> None:
    """A policy that applied to nothing (a SageMaker rule in a Bedrock project) or could
    not read a value is not counted as passing."""
    from aiscaffold.check import CheckReport, Finding
    from aiscaffold.project_reports import _status

    def finding(policy: str, outcome: str) -> Finding:
        return Finding(
            policy=policy, title="t", resource="r", urn="u", type="x", level="mandatory",
            severity="high", controls=("KEY-01",), frameworks={}, message="m", remediation="r",
            outcome=outcome,  # type: ignore[arg-type]
        )  # fmt: skip

    report = CheckReport(project="p", stack="dev", resources=3, policies=4)
    report.passed = {"AWS-KMS-001", "AWS-KMS-002"}
    passing = _status(["AWS-KMS-001", "AWS-KMS-002", "AWS-SAGE-001"], report)
    assert passing == "✅ 2 policies pass"
    assert _status(["AWS-SAGE-001", "AWS-SAGE-002"], report).startswith("➖")
    report.findings = [finding("AWS-SAGE-001", "unknown")]
    assert _status(["AWS-SAGE-001"], report) == "❔ unknown offline: AWS-SAGE-001"
    report.findings.append(finding("AWS-KMS-002", "violation"))
    assert _status(["AWS-KMS-001", "AWS-KMS-002"], report) == "❌ violations: AWS-KMS-002"
    assert _status([], report) == "no policy" and _status(["AWS-KMS-001"], None) == "not checked"
