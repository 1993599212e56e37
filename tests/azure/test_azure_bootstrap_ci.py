"""The CI deploy identity the Azure bootstrap creates on request (issue 19, requirement 4).

With `ci_repository`, a user-assigned managed identity with a federated credential for
the exact `sub` of the trusted GitHub environment (no secret), the role assignments of
deployer-permissions/azure.json (the RBAC Administrator one with its condition), and the
use of the state backend; without it, nothing of this.
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
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"  # the mocks' client config
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"


@pytest.fixture(scope="module")
def project(render_project: Callable[..., Path]) -> Path:
    return render_project(cloud="azure", project_name="ci-azure")


@pytest.fixture(scope="module")
def bootstrap(project: Path) -> Callable[..., MockRun]:
    runs: dict[str, MockRun] = {}

    def get(**config: Any) -> MockRun:
        key = json.dumps(config, sort_keys=True)
        if key not in runs:
            runs[key] = run_program(project / "bootstrap", stack="bootstrap", config=config)
        return runs[key]

    return get


def _ci_assignments(run: MockRun) -> list[Any]:
    identity = run.one(IDENTITY, "ci-deploy")
    return [
        a
        for a in run.of_type(ASSIGNMENT)
        if a.inputs["principalId"] == identity.outputs["principalId"]
    ]


def test_without_ci_repository_nothing_changes(bootstrap: Callable[..., MockRun]) -> None:
    run = bootstrap()
    assert not [r for r in run.resources if r.name.startswith("ci-deploy")]
    assert set(run.outputs) == {"backend_url", "secrets_provider"}


def test_identity_is_federated_with_the_repositorys_environment_only(
    bootstrap: Callable[..., MockRun],
) -> None:
    run = bootstrap(ci_repository=REPOSITORY, ci_branches=["main"])
    identity = run.one(IDENTITY, "ci-deploy")
    credentials = run.of_type(CREDENTIAL)
    assert [c.inputs["subject"] for c in credentials] == [
        f"repo:{REPOSITORY}:environment:sandbox",
        f"repo:{REPOSITORY}:ref:refs/heads/main",
    ]
    for credential in credentials:
        assert credential.inputs["issuer"] == "https://token.actions.githubusercontent.com"
        assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
        assert credential.inputs["resourceName"] == identity.outputs["name"]
    assert run.outputs["ci_client_id"] == identity.outputs["clientId"]
    assert run.outputs["ci_tenant_id"] == identity.outputs["tenantId"]
    # No secret: no application password or certificate anywhere.
    assert not [
        r for r in run.resources if "applicationPassword" in r.type or "Certificate" in r.type
    ]


def test_wildcard_repository_is_refused(project: Path) -> None:
    with pytest.raises(ProgramError, match="ci_repository"):
        run_program(project / "bootstrap", stack="bootstrap", config={"ci_repository": "acme/*"})


def test_assignments_are_the_generated_document(
    bootstrap: Callable[..., MockRun], project: Path
) -> None:
    run = bootstrap(ci_repository=REPOSITORY)
    document = json.loads((project / "deployer-permissions" / "azure.json").read_text())
    granted = {
        (
            a.inputs["roleDefinitionId"].rsplit("/", 1)[-1],
            a.inputs["scope"],
            a.inputs.get("condition"),
        )
        for a in _ci_assignments(run)
    }
    subscription = f"/subscriptions/{SUBSCRIPTION}"
    expected = set()
    widened = []
    for entry in document:
        if "granted_by_program" in entry:
            continue  # the program grants it to its deployer (ci_principal_id)
        scope = entry["scope"].replace("${subscription_id}", SUBSCRIPTION)
        if "/resourceGroups/" in scope and "/resourceGroups/NetworkWatcherRG" not in scope:
            # The stack's own group does not exist yet (one per stack): the subscription.
            if (entry["role_definition_id"], subscription, entry.get("condition")) not in expected:
                widened.append(entry["role"])
            scope = subscription
        expected.add((entry["role_definition_id"], scope, entry.get("condition")))
    state = run.one("azure-native:storage:StorageAccount", "state-account").outputs["id"]
    key = run.one("azure-native:keyvault:Key", "pulumi-secrets").outputs["id"]
    backend = {(BLOB_DATA_CONTRIBUTOR, state, None), (KEY_VAULT_CRYPTO_USER, key, None)}
    assert granted == expected | backend
    # The delegation keeps its condition: exactly the roles the program assigns.
    (admin,) = [a for a in _ci_assignments(run) if a.inputs.get("condition")]
    assert admin.inputs["conditionVersion"] == "2.0"
    assert all(a.inputs["principalType"] == "ServicePrincipal" for a in _ci_assignments(run))
    assert [w.split(":", 1)[0] for w in run.outputs["ci_widened_roles"]] == widened
    assert "Owner" not in {e["role"] for e in document}


def test_policy_pack_findings_touch_only_the_ci_identity(
    bootstrap: Callable[..., MockRun], project: Path
) -> None:
    """AZURE-IAM-001/002/005 read the deployer's assignments as a workload's: until they
    tell a deployer apart, their findings must stay on the CI assignments."""
    run = bootstrap(ci_repository=REPOSITORY)
    report = evaluate(run, load_requirements(project))
    elsewhere = [f for f in report.findings if not str(f.resource).startswith("ci-deploy")]
    assert not elsewhere, elsewhere
    assert not report.deploy_findings
    assert not run.warnings
