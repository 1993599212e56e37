"""WorkloadIdentity (resource-scoped built-in roles) and Secrets (config secrets, expiry)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pulumi
import pytest
from aiscaffold.testing import MockRun, ProgramError, run

ASSIGNMENT = "azure-native:authorization:RoleAssignment"
SECRET = "azure-native:keyvault:Secret"

OPENAI_USER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
BLOB_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


def _grants(run: MockRun) -> dict[str, tuple[str, str]]:
    """Role id and scope of each of the workload identity's assignments, by name."""
    principal = run.one(
        "azure-native:managedidentity:UserAssignedIdentity", "workload-identity"
    ).outputs["principalId"]
    return {
        a.name: (a.inputs["roleDefinitionId"].rsplit("/", 1)[1], a.inputs["scope"])
        for a in run.of_type(ASSIGNMENT)
        if a.inputs["principalId"] == principal
    }


def test_workload_gets_exactly_three_roles_on_single_resources(default_run: MockRun) -> None:
    account = default_run.one("azure-native:cognitiveservices:Account").outputs["id"]
    vault = default_run.one("azure-native:keyvault:Vault").outputs["id"]
    container = default_run.one("azure-native:storage:BlobContainer", "data-data").outputs["id"]
    assert _grants(default_run) == {
        "workload-openai-user": (OPENAI_USER, account),
        "workload-secrets-user": (SECRETS_USER, vault),
        "workload-data-0": (BLOB_READER, container),
    }
    for assignment in default_run.of_type(ASSIGNMENT):
        # The deploying identity's grant for creating the keys goes to a user by default.
        expected = (
            "User" if assignment.name == "keys-deployer-crypto-officer" else "ServicePrincipal"
        )
        assert assignment.inputs["principalType"] == expected


def test_weakening_write_access_changes_only_the_data_role(
    azure_run: Any, default_run: MockRun, az: Any
) -> None:
    weak = azure_run(identity={"data_write_access": True})
    # The assignment's name and description derive from its role.
    assert az.diff(default_run, weak) == {
        "workload-data-0": {"roleDefinitionId", "roleAssignmentName", "description"}
    }
    assert _grants(weak)["workload-data-0"][0] == BLOB_CONTRIBUTOR


@pytest.mark.parametrize(
    "scope",
    [
        "/subscriptions/00000000-0000-0000-0000-000000000000",
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-proj-dev",
    ],
)
def test_subscription_and_group_scopes_are_refused(scope: str) -> None:
    from aiscaffold_components.azure import WorkloadIdentity, WorkloadIdentityArgs

    def program() -> None:
        WorkloadIdentity(
            "workload",
            WorkloadIdentityArgs(
                resource_group_name="rg-proj-dev", location="eastus2", key_vault_id=scope
            ),
        )

    with pytest.raises(ProgramError, match="not a resource id"):
        run(program, project="proj")


def test_secret_value_is_a_secret_with_content_type_and_expiry(
    default_run: MockRun, az: Any
) -> None:
    secret = default_run.one(SECRET)
    assert "properties" in secret.secret_inputs
    props = secret.inputs["properties"]
    assert props["value"] == "s3cret-value"
    assert props["contentType"] == "text/plain"
    midnight = dt.datetime.combine(az.SECRET_ROTATED_ON, dt.time(), tzinfo=dt.UTC)
    assert props["attributes"]["notBefore"] == midnight.timestamp()
    expires = midnight + dt.timedelta(days=90)
    assert props["attributes"]["expires"] == expires.timestamp()
    vault = default_run.one("azure-native:keyvault:Vault").inputs["vaultName"]
    assert secret.inputs["vaultName"] == vault


def test_literal_secret_values_are_refused() -> None:
    from aiscaffold_components.azure import AppSecret, Secrets, SecretsArgs

    def program() -> None:
        Secrets(
            "secrets",
            SecretsArgs(
                resource_group_name="rg",
                vault_name="kv",
                secrets={"db-password": AppSecret(value="hunter2", rotated_on=dt.date.today())},  # type: ignore[arg-type]
            ),
        )

    with pytest.raises(ProgramError, match="config secret"):
        run(program, project="proj")


def test_secret_names_follow_key_vault_rules() -> None:
    from aiscaffold_components.azure import AppSecret, Secrets, SecretsArgs

    def program() -> None:
        Secrets(
            "secrets",
            SecretsArgs(
                resource_group_name="rg",
                vault_name="kv",
                secrets={
                    "db_password": AppSecret(
                        value=pulumi.Output.secret("x"), rotated_on=dt.date.today()
                    )
                },
            ),
        )

    with pytest.raises(ProgramError, match="not valid in Key Vault"):
        run(program, project="proj")
