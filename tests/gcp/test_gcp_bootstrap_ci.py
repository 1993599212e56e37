"""The CI deploy identity the GCP bootstrap creates on request (issue 19, requirement 4).

With `ci_repository`, a workload identity pool and GitHub provider whose condition admits
this repository's trusted subjects only, a service account those subjects may impersonate
(no key), granted the project-level roles of deployer-permissions/gcp.json; the
organization-level ones come out as commands for an organization administrator.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.testing import MockRun, ProgramError, run_program

pytestmark = pytest.mark.slow

REPOSITORY = "acme/rag-service"
SUBJECT = f"repo:{REPOSITORY}:environment:sandbox"
ACCOUNT = "gcp:serviceaccount/account:Account"
PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
POOL = "gcp:iam/workloadIdentityPool:WorkloadIdentityPool"


@pytest.fixture(scope="module")
def project(render_project: Callable[..., Path]) -> Path:
    # Organization policies on: the document then holds an organization-level role.
    return render_project(cloud="gcp", project_name="ci-gcp", gcp_org_policies=True)


@pytest.fixture(scope="module")
def bootstrap(project: Path) -> Callable[..., MockRun]:
    runs: dict[str, MockRun] = {}

    def get(**config: Any) -> MockRun:
        key = json.dumps(config, sort_keys=True)
        if key not in runs:
            runs[key] = run_program(
                project / "bootstrap",
                stack="bootstrap",
                config={"lock_log_archive": True, **config},
            )
        return runs[key]

    return get


def test_without_ci_repository_nothing_changes(bootstrap: Callable[..., MockRun]) -> None:
    run = bootstrap()
    assert not run.of_type(POOL) and not run.of_type(ACCOUNT)
    assert set(run.outputs) == {"backend_url", "secrets_provider"}


def test_provider_admits_the_repositorys_subjects_only(bootstrap: Callable[..., MockRun]) -> None:
    run = bootstrap(ci_repository=REPOSITORY)
    provider = run.one(PROVIDER)
    assert provider.inputs["oidc"] == {"issuerUri": "https://token.actions.githubusercontent.com"}
    assert provider.inputs["attributeCondition"] == (
        f'assertion.repository == "{REPOSITORY}" && assertion.sub in ["{SUBJECT}"]'
    )
    assert provider.inputs["attributeMapping"]["google.subject"] == "assertion.sub"
    account = run.one(ACCOUNT, "ci-deploy")
    (binding,) = [
        m for m in run.of_type("gcp:serviceaccount/iAMMember:IAMMember")
        if m.inputs["serviceAccountId"] == account.outputs["name"]
    ]  # fmt: skip
    assert binding.inputs["role"] == "roles/iam.workloadIdentityUser"
    pool = run.one(POOL).outputs["name"]
    assert binding.inputs["member"] == f"principal://iam.googleapis.com/{pool}/subject/{SUBJECT}"
    assert run.outputs["ci_workload_identity_provider"] == provider.outputs["name"]
    assert run.outputs["ci_service_account"] == account.outputs["email"]
    assert not run.of_type("gcp:serviceaccount/key:Key")  # no long-lived key


def test_wildcard_repository_is_refused(project: Path) -> None:
    with pytest.raises(ProgramError, match="ci_repository"):
        run_program(
            project / "bootstrap",
            stack="bootstrap",
            config={"lock_log_archive": True, "ci_repository": "*/rag"},
        )


def test_roles_are_the_generated_document(bootstrap: Callable[..., MockRun], project: Path) -> None:
    run = bootstrap(ci_repository=REPOSITORY)
    document = json.loads((project / "deployer-permissions" / "gcp.json").read_text())
    member = f"serviceAccount:{run.one(ACCOUNT, 'ci-deploy').outputs['email']}"
    granted = {
        m.inputs["role"] for m in run.of_type("gcp:projects/iAMMember:IAMMember")
        if m.inputs["member"] == member
    }  # fmt: skip
    assert granted == {e["role"] for e in document if e["level"] == "project"}
    organization = [e["role"] for e in document if e["level"] == "organization"]
    assert organization == ["roles/orgpolicy.policyAdmin"]
    assert run.outputs["ci_organization_grants"] == [
        f"gcloud organizations add-iam-policy-binding ORGANIZATION_ID --member={member} --role={role}"
        for role in organization
    ]
    assert not granted & {"roles/owner", "roles/editor"}
    # The state backend: its bucket's objects and the secrets key.
    state = run.one("gcp:storage/bucketIAMMember:BucketIAMMember", "ci-deploy-state").inputs
    assert state["member"] == member and state["role"] == "roles/storage.objectUser"
    key = run.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "ci-deploy-secrets-key").inputs
    assert (
        key["cryptoKeyId"]
        == run.one("gcp:kms/cryptoKey:CryptoKey", "ci-gcp-bootstrap-secrets-provider").outputs["id"]
    )


def test_policy_pack_findings_touch_only_the_ci_identity(
    bootstrap: Callable[..., MockRun], project: Path
) -> None:
    """GCP-IAM-003/006 read the deployer's roles as a workload's: until they tell a
    deployer apart, their findings must stay on the CI grants."""
    run = bootstrap(ci_repository=REPOSITORY)
    report = evaluate(run, load_requirements(project))
    elsewhere = [f for f in report.findings if not str(f.resource).startswith("ci-deploy")]
    assert not elsewhere, elsewhere
    assert not report.deploy_findings
    assert not run.warnings
