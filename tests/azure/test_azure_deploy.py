"""Azure deploy rules (issue 19 items 6-8): what the first `pulumi up` would be refused.

Each fix is tested through its rule: on the generated project (or the composed
components) the rule is silent, and on the configuration before the fix, rebuilt by
editing the captured resources of the same run, it fires with the error Azure returns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.check import CheckReport, evaluate, load_requirements
from aiscaffold.testing import CapturedResource, MockRun
from aiscaffold_components.deploy import DeployContext, DeployRule, deploy_rules
from aiscaffold_components.deploy.azure import (
    TABLE_TOTAL_RETENTION_YEARS,
    table_total_retention_allowed,
    table_total_retention_days,
)
from aiscaffold_components.policies import Resource, base_type

KEY = "azure-native:keyvault:Key"
ROLE = "azure-native:authorization:RoleAssignment"
SLEEP = "time:index/sleep:Sleep"
TABLE = "azure-native:operationalinsights:Table"
WORKSPACE = "azure-native:operationalinsights:Workspace"
CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
CMK_USERS = {"data-account", "audit-archive-account", "audit-flowlogs-account", "openai-account"}


# ----------------------------------------------------------------- helpers
def edited(
    run: MockRun,
    *,
    inputs: Mapping[str, Mapping[str, Any]] | None = None,
    drop: Mapping[str, set[str]] | None = None,
) -> MockRun:
    """A copy of ``run`` with some resources' inputs overridden (top-level keys) and some
    dependencies (by resource name) removed: the configuration before a fix."""
    names = {r.urn: r.name for r in run.resources}
    resources: list[CapturedResource] = []
    for r in run.resources:
        gone = (drop or {}).get(r.name, set())
        resources.append(
            dataclasses.replace(
                r,
                inputs={**r.inputs, **(inputs or {}).get(r.name, {})},
                dependencies=tuple(d for d in r.dependencies if names.get(d) not in gone),
            )
        )
    return dataclasses.replace(run, resources=resources)


def deploy_findings(report: CheckReport, rule_id: str) -> dict[str, str]:
    """Resource name -> message of one rule's findings."""
    return {f.resource: f.message for f in report.deploy_findings if f.policy == rule_id}


def rule(rule_id: str) -> DeployRule:
    return next(r for r in deploy_rules("azure") if r.id == rule_id)


def fired(rule_id: str, run: MockRun) -> dict[str, str]:
    """Resource name -> message of a rule evaluated directly on a run's resources."""
    views = [
        Resource(
            type=base_type(r.type),
            name=r.name,
            urn=r.urn,
            props=r.inputs,
            dependencies=tuple(r.dependencies),
        )
        for r in run.custom_resources
    ]
    found = rule(rule_id).evaluate(views, DeployContext(cloud="azure", region="eastus2"))
    return {(res.name if res else "(stack)"): message for res, message in found}


def names_of(run: MockRun, type_: str) -> set[str]:
    return {r.name for r in run.of_type(type_)}


@pytest.fixture(scope="module")
def checked(projects: dict[str, Path], runs: dict[str, MockRun]) -> dict[str, CheckReport]:
    return {name: evaluate(runs[name], load_requirements(projects[name])) for name in runs}


# ----------------------------------------------------------------- the rules exist
def test_azure_rules_are_registered_with_their_sources() -> None:
    rules = {r.id: r for r in deploy_rules("azure") if r.id.startswith("AZURE-")}
    assert {k: r.category for k, r in rules.items()} == {
        **{f"AZURE-DEPLOY-00{n}": "deploy-failure" for n in range(1, 5)},
        "AZURE-DEPLOY-005": "account-wide",
        **{f"AZURE-DEPLOY-0{n}": "deploy-failure" for n in (20, 21, 22)},
        # The AI gateway (issue 20): test_azure_gateway.py tests them.
        **{f"AZURE-DEPLOY-0{n}": "deploy-failure" for n in (30, 31)},
        # Object replication to the recovery region (issue 17).
        "AZURE-DEPLOY-040": "deploy-failure",
    }
    assert all(r.blocking == (r.category == "deploy-failure") for r in rules.values())
    assert "ForbiddenByRbac" in rules["AZURE-DEPLOY-001"].error
    assert "pulumi-azure-native/issues/890" in rules["AZURE-DEPLOY-001"].source
    assert "KeyVaultAuthenticationFailure" in rules["AZURE-DEPLOY-002"].error
    assert "bicep/issues/16601" in rules["AZURE-DEPLOY-002"].source
    assert "restricted to full years" in rules["AZURE-DEPLOY-003"].error
    assert "data-retention-configure" in rules["AZURE-DEPLOY-003"].source
    assert "object-replication-configure" in rules["AZURE-DEPLOY-040"].source


@pytest.mark.parametrize(
    "variant",
    ["defaults", "restricted-hipaa-gdpr", "internal-soc2", "gateway-private", "gateway-public"],
)
def test_generated_projects_pass_every_azure_deploy_rule(
    checked: dict[str, CheckReport], variant: str
) -> None:
    report = checked[variant]
    assert report.deploy_rules >= 4
    found = [f for f in report.deploy_findings if f.policy.startswith("AZURE-DEPLOY")]
    # The one advisory finding: this stack owns the subscription's Defender settings.
    assert {f.policy for f in found} <= {"AZURE-DEPLOY-005"}


# ----------------------------------------------- item 6: keys need the deployer's role
def test_keys_wait_for_the_deployers_crypto_officer_grant(runs: dict[str, MockRun]) -> None:
    run = runs["defaults"]
    grant = run.one(ROLE, "keys-deployer-crypto-officer")
    vault = run.one("azure-native:keyvault:Vault")
    assert grant.inputs["roleDefinitionId"].endswith(CRYPTO_OFFICER)
    assert grant.inputs["scope"].endswith(f"/vaults/{vault.inputs['vaultName']}")
    # The deploying identity (get_client_config), a user unless the stack says otherwise.
    from aiscaffold.testing._azure import OBJECT_ID

    assert grant.inputs["principalId"] == OBJECT_ID
    assert grant.inputs["principalType"] == "User"
    wait = run.one(SLEEP, "keys-deployer-crypto-officer-wait")
    assert wait.inputs["createDuration"] == "600s"
    assert grant.urn in wait.dependencies
    for key in run.of_type(KEY):
        assert wait.urn in key.dependencies, key.name


def test_keys_created_without_the_deployers_grant_fire_forbidden_by_rbac(
    projects: dict[str, Path], runs: dict[str, MockRun]
) -> None:
    run = runs["defaults"]
    # Before the fix: the keys depended on the vault only.
    old = edited(
        run,
        drop={
            key: {"keys-deployer-crypto-officer", "keys-deployer-crypto-officer-wait"}
            for key in names_of(run, KEY)
        },
    )
    found = deploy_findings(
        evaluate(old, load_requirements(projects["defaults"])), "AZURE-DEPLOY-001"
    )
    assert set(found) == {"keys-data", "keys-logs", "keys-ai"}
    assert all("ForbiddenByRbac" in m and "keys/read" in m for m in found.values())


def test_a_crypto_officer_grant_to_a_managed_identity_is_not_the_deployers(
    runs: dict[str, MockRun],
) -> None:
    run = runs["defaults"]
    # The grant rebuilt as the encryption identity's: it no longer reaches the caller.
    identity = run.one("azure-native:managedidentity:UserAssignedIdentity", "keys-cmk-identity")
    grant = run.one(ROLE, "keys-deployer-crypto-officer")
    moved = dataclasses.replace(
        run,
        resources=[
            dataclasses.replace(r, dependencies=(*r.dependencies, identity.urn))
            if r is grant
            else r
            for r in run.resources
        ],
    )
    assert set(fired("AZURE-DEPLOY-001", moved)) == {"keys-data", "keys-logs", "keys-ai"}
    assert fired("AZURE-DEPLOY-001", run) == {}


def test_a_grant_of_a_role_without_key_data_actions_does_not_count(
    runs: dict[str, MockRun],
) -> None:
    run = runs["defaults"]
    secrets_user = "4633458b-17de-408a-b874-0445c86b69e6"
    grant = run.one(ROLE, "keys-deployer-crypto-officer")
    role = grant.inputs["roleDefinitionId"].replace(CRYPTO_OFFICER, secrets_user)
    old = edited(run, inputs={grant.name: {"roleDefinitionId": role}})
    assert set(fired("AZURE-DEPLOY-001", old)) == {"keys-data", "keys-logs", "keys-ai"}


def test_the_bootstraps_secrets_key_waits_for_the_deployers_grant(
    projects: dict[str, Path],
) -> None:
    from aiscaffold.testing import run_program

    path = projects["defaults"] / "bootstrap"
    run = run_program(path, stack="bootstrap")
    key = run.one(KEY, "pulumi-secrets")
    wait = run.one(SLEEP, "keys-deployer-crypto-officer-wait")
    assert wait.urn in key.dependencies
    # The bootstrap runs under the project's policy pack.
    report = evaluate(run, load_requirements(projects["defaults"]))
    assert deploy_findings(report, "AZURE-DEPLOY-001") == {}
    assert deploy_findings(report, "AZURE-DEPLOY-002") == {}
    old = edited(
        run,
        drop={
            "pulumi-secrets": {"keys-deployer-crypto-officer-wait", "keys-deployer-crypto-officer"}
        },
    )
    assert set(fired("AZURE-DEPLOY-001", old)) == {"pulumi-secrets"}


def test_a_ci_deployer_is_granted_as_a_service_principal(azure_run: Any) -> None:
    run = azure_run(
        keys={"deployer_principal_type": "ServicePrincipal", "deployer_principal_id": "ci-object"}
    )
    grant = run.one(ROLE, "keys-deployer-crypto-officer")
    assert grant.inputs["principalType"] == "ServicePrincipal"
    assert grant.inputs["principalId"] == "ci-object"
    assert fired("AZURE-DEPLOY-001", run) == {}


def test_an_unknown_deployer_principal_type_is_refused(azure_run: Any) -> None:
    with pytest.raises(Exception, match="deployer_principal_type"):
        azure_run(keys={"deployer_principal_type": "Robot"})


# --------------------------------------- item 8: CMK users wait for their identity's grant
def test_every_cmk_user_depends_on_its_grant_through_a_wait(runs: dict[str, MockRun]) -> None:
    run = runs["defaults"]
    waits = {w.name: w for w in run.of_type(SLEEP)}
    purpose = {
        "data-account": "data",
        "audit-archive-account": "logs",
        "audit-flowlogs-account": "logs",
        "openai-account": "ai",
    }
    for name, key in purpose.items():
        user = next(r for r in run.custom_resources if r.name == name)
        grant = run.one(ROLE, f"keys-{key}-cmk-user")
        wait = waits[f"keys-{key}-cmk-user-wait"]
        assert grant.urn in wait.dependencies
        assert wait.inputs["triggers"]["role_assignment"].endswith(
            grant.inputs["roleAssignmentName"]
        )
        assert wait.urn in user.dependencies, name
    assert fired("AZURE-DEPLOY-002", run) == {}


def test_cmk_users_without_the_wait_fire_key_vault_authentication_failure(
    projects: dict[str, Path], runs: dict[str, MockRun]
) -> None:
    run = runs["defaults"]
    # Before the fix: each CMK user depended on its grant directly, with no wait.
    old = edited(
        run,
        drop={
            name: {f"keys-{p}-cmk-user-wait" for p in ("data", "logs", "ai")} for name in CMK_USERS
        },
    )
    found = deploy_findings(
        evaluate(old, load_requirements(projects["defaults"])), "AZURE-DEPLOY-002"
    )
    assert set(found) == CMK_USERS
    assert all("no wait" in m and "KeyVaultAuthenticationFailure" in m for m in found.values())


def test_cmk_users_without_any_grant_fire(runs: dict[str, MockRun]) -> None:
    run = runs["defaults"]
    ours = {f"keys-{p}-cmk-user{s}" for p in ("data", "logs", "ai") for s in ("", "-wait")}
    found = fired("AZURE-DEPLOY-002", edited(run, drop=dict.fromkeys(CMK_USERS, ours)))
    assert set(found) == CMK_USERS
    assert all("depends on no role assignment" in m for m in found.values())


def test_a_wait_after_another_identitys_grant_does_not_count(runs: dict[str, MockRun]) -> None:
    run = runs["defaults"]
    # The data account waits for the logs key's grant, not its own (data) key's.
    logs_wait = run.one(SLEEP, "keys-logs-cmk-user-wait")
    logs_grant = run.one(ROLE, "keys-logs-cmk-user")
    old = edited(run, drop={"data-account": {"keys-data-cmk-user", "keys-data-cmk-user-wait"}})
    old = dataclasses.replace(
        old,
        resources=[
            dataclasses.replace(r, dependencies=(*r.dependencies, logs_wait.urn, logs_grant.urn))
            if r.name == "data-account"
            else r
            for r in old.resources
        ],
    )
    assert set(fired("AZURE-DEPLOY-002", old)) == {"data-account"}


# -------------------------------------------- item 7: Log Analytics retention domain
@pytest.mark.parametrize(
    ("required", "kept"),
    [
        (30, 30),
        (365, 365),
        (730, 730),
        (731, 1095),
        (913, 1095),
        (1095, 1095),
        (2191, 2191),
        (2192, 2556),
        (4383, 4383),
    ],
)
def test_table_retention_rounds_up_to_an_allowed_value(required: int, kept: int) -> None:
    assert table_total_retention_days(required) == kept


def test_table_retention_is_allowed_and_never_below_the_requirement() -> None:
    for required in range(4, 4384):
        kept = table_total_retention_days(required)
        assert table_total_retention_allowed(kept) and kept >= required, required
        # The smallest such value: nothing allowed lies between the two.
        assert not any(table_total_retention_allowed(d) for d in range(required, kept)), required
    with pytest.raises(ValueError, match="4383"):
        table_total_retention_days(4384)
    assert TABLE_TOTAL_RETENTION_YEARS[-1] == 4383


def test_restricted_project_keeps_audit_tables_whole_years(
    projects: dict[str, Path], runs: dict[str, MockRun], checked: dict[str, CheckReport]
) -> None:
    run = runs["restricted-hipaa-gdpr"]
    requirements = load_requirements(projects["restricted-hipaa-gdpr"])
    assert requirements.setting("log_retention_days") == 2192
    tables = run.of_type(TABLE)
    assert tables and {t.inputs["totalRetentionInDays"] for t in tables} == {2556}
    # The log accounts keep exactly the requirement; the workspace its 730-day maximum.
    assert run.one(WORKSPACE).inputs["retentionInDays"] == 730
    report = checked["restricted-hipaa-gdpr"]
    assert deploy_findings(report, "AZURE-DEPLOY-003") == {}
    # The retention policies still pass: rounding up never keeps logs shorter.
    retention = [f for f in report.violations if f.policy in ("AZURE-MON-006", "AZURE-MON-010")]
    assert retention == []
    # Before the fix the tables kept exactly 2192 days, which Azure refuses.
    old = edited(run, inputs={t.name: {"totalRetentionInDays": 2192} for t in tables})
    found = deploy_findings(evaluate(old, requirements), "AZURE-DEPLOY-003")
    assert set(found) == {t.name for t in tables}
    assert all("restricted to full years" in m and "2556 covers it" in m for m in found.values())


def test_fedramp_retention_becomes_three_years(azure_run: Any) -> None:
    run = azure_run(audit={"retention_days": 913})
    tables = run.of_type(TABLE)
    assert {t.inputs["totalRetentionInDays"] for t in tables} == {1095}
    assert fired("AZURE-DEPLOY-003", run) == {}
    old = edited(run, inputs={t.name: {"totalRetentionInDays": 913} for t in tables})
    assert set(fired("AZURE-DEPLOY-003", old)) == {t.name for t in tables}


def test_table_interactive_retention_outside_4_to_730_fires(runs: dict[str, MockRun]) -> None:
    run = runs["restricted-hipaa-gdpr"]
    table = run.of_type(TABLE)[0]
    found = fired("AZURE-DEPLOY-003", edited(run, inputs={table.name: {"retentionInDays": 731}}))
    assert set(found) == {table.name} and "4 to 730" in found[table.name]


@pytest.mark.parametrize("days", [7, 29, 731, 2192])
def test_workspace_retention_outside_30_to_730_fires(runs: dict[str, MockRun], days: int) -> None:
    run = runs["defaults"]
    workspace = run.one(WORKSPACE)
    assert fired("AZURE-DEPLOY-004", run) == {}
    found = fired(
        "AZURE-DEPLOY-004", edited(run, inputs={workspace.name: {"retentionInDays": days}})
    )
    assert set(found) == {workspace.name}
