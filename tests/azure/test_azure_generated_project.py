"""The generated Azure project: its program runs under the harness for typical answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from aiscaffold.testing import MockRun, ProgramError, run_program
from aiscaffold_components.catalog import load_catalog
from azure.azure_support import VARIANTS

#: Deployment names of the default models (the catalog's, which change with releases).
CHAT, EMBEDDING = (
    model.partition(":")[0]
    for model in load_catalog().clouds["azure"].ai_services["openai"].default_models
)

COMPONENTS = {
    "Network",
    "PrivateEndpoints",
    "Keys",
    "WorkloadIdentity",
    "AuditLogging",
    "SecureStorage",
    "Guardrail",
    "Secrets",
    "OpenAIAccount",
    "AlertChannel",
    "SecurityAlarms",
    "CostGuardrails",
}
EXPORTS = {
    "openai_endpoint_host",
    "openai_deployments",
    "workload_identity_client_id",
    "key_vault_uri",
    "log_analytics_workspace_id",
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_program_composes_every_component_without_deprecations(
    runs: dict[str, MockRun], variant: str
) -> None:
    run = runs[variant]
    # Defender for Cloud is the subscription's: created by the stack owning its services.
    owned = {"ThreatDetection"} if variant != "shared-alerts" else set()
    if VARIANTS[variant].get("api_gateway", "none") != "none":
        owned.add("ApiGateway")  # the AI gateway (issue 20)
    if VARIANTS[variant].get("dr_region"):
        owned.add("ReplicatedStorage")  # replicas in the recovery region (issue 17)
    assert {c.type.rsplit(":", 1)[1] for c in run.components} == COMPONENTS | owned
    assert not [w for w in run.warnings if "deprecated" in w.lower()]
    assert set(run.outputs) >= EXPORTS
    assert run.outputs["openai_endpoint_host"].endswith(".openai.azure.com")
    assert run.outputs["key_vault_uri"].startswith("https://kv-")
    assert run.outputs["openai_deployments"] == [CHAT, EMBEDDING]
    policy = run.one("azure-native:cognitiveservices:RaiPolicy").inputs["raiPolicyName"]
    for deployment in run.of_type("azure-native:cognitiveservices:Deployment"):
        assert deployment.inputs["properties"]["raiPolicyName"] == policy
    account = run.one("azure-native:cognitiveservices:Account").inputs["properties"]
    assert account["publicNetworkAccess"] == "Disabled"
    assert account["disableLocalAuth"] is True


def _threshold(run: MockRun) -> set[str]:
    filters = run.one("azure-native:cognitiveservices:RaiPolicy").inputs["properties"]
    return {f["severityThreshold"] for f in filters["contentFilters"] if "severityThreshold" in f}


def _key_types(run: MockRun) -> dict[str, str]:
    return {k.name: k.inputs["properties"]["kty"] for k in run.of_type("azure-native:keyvault:Key")}


def test_defaults_follow_the_confidential_profile(runs: dict[str, MockRun]) -> None:
    run = runs["defaults"]
    assert not run.of_type("azure-native:authorization:ManagementLockAtResourceGroupLevel")
    assert _key_types(run) == {"keys-data": "RSA", "keys-logs": "RSA", "keys-ai": "RSA-HSM"}
    assert _threshold(run) == {"Low"}  # HIGH strength
    assert run.one("azure-native:operationalinsights:Workspace").inputs["retentionInDays"] == 365
    # The vault lets Storage and the AI account reach their keys.
    vault = run.one("azure-native:keyvault:Vault").inputs["properties"]
    assert vault["networkAcls"]["bypass"] == "AzureServices"
    assert vault["publicNetworkAccess"] == "Disabled"
    assert not run.of_type("azure-native:keyvault:Secret")


def test_restricted_hipaa_gdpr_locks_uses_hsm_keys_and_stays_in_the_eu(
    runs: dict[str, MockRun],
) -> None:
    run = runs["restricted-hipaa-gdpr"]
    lock = run.one("azure-native:authorization:ManagementLockAtResourceGroupLevel")
    assert lock.inputs["level"] == "CanNotDelete"
    assert set(_key_types(run).values()) == {"RSA-HSM"}
    # Location names are case-insensitive (the action group is "Global").
    locations = {
        r.inputs["location"].lower() for r in run.custom_resources if "location" in r.inputs
    }
    # The recovery region (dr_region, also in the EU) holds the replicas and their vault.
    assert locations == {
        "swedencentral",
        "germanywestcentral",
        "global",
    }
    assert run.one("azure-native:operationalinsights:Workspace").inputs["retentionInDays"] == 730
    archive = run.one("azure-native:storage:StorageAccount", "audit-archive-account").inputs
    policy = archive["immutableStorageWithVersioning"]["immutabilityPolicy"]
    assert policy["immutabilityPeriodSinceCreationInDays"] == 2192
    assert policy["state"] == "Unlocked"  # locked on a later deployment
    rotation = run.one("azure-native:keyvault:Key", "keys-data").inputs["properties"]
    assert rotation["rotationPolicy"]["lifetimeActions"][0]["trigger"] == {
        "timeAfterCreate": "P90D"
    }


def test_internal_soc2_filters_at_medium_without_lock(runs: dict[str, MockRun]) -> None:
    run = runs["internal-soc2"]
    assert _threshold(run) == {"Medium"}
    assert not run.of_type("azure-native:authorization:ManagementLockAtResourceGroupLevel")
    assert run.one("azure-native:operationalinsights:Workspace").inputs["retentionInDays"] == 365
    assert run.one("azure-native:resources:ResourceGroup").inputs["tags"]["compliance"] == "soc2"


def test_lock_log_archive_config_locks_it_when_the_profile_asks(
    projects: dict[str, Path],
) -> None:
    locked = run_program(projects["restricted-hipaa-gdpr"], config={"lock_log_archive": True})
    archive = locked.one("azure-native:storage:StorageAccount", "audit-archive-account").inputs
    assert archive["immutableStorageWithVersioning"]["immutabilityPolicy"]["state"] == "Locked"


def test_app_secrets_come_from_config_secrets_with_expiry(projects: dict[str, Path]) -> None:
    run = run_program(
        projects["defaults"],
        config={"app_secrets": {"search-api-key": "2025-01-31"}, "secret-search-api-key": "v"},
    )
    secret = run.one("azure-native:keyvault:Secret")
    assert "properties" in secret.secret_inputs
    assert secret.inputs["secretName"] == "search-api-key"
    expires = dt.datetime(2025, 1, 31, tzinfo=dt.UTC) + dt.timedelta(days=90)
    assert secret.inputs["properties"]["attributes"]["expires"] == expires.timestamp()
    assert set(run.outputs["secret_uris"]) == {"search-api-key"}


def _capacities(run: MockRun) -> dict[str, int]:
    return {
        d.inputs["deploymentName"]: d.inputs["sku"]["capacity"]
        for d in run.of_type("azure-native:cognitiveservices:Deployment")
    }


def test_model_capacity_comes_from_stack_config(
    runs: dict[str, MockRun], projects: dict[str, Path]
) -> None:
    assert _capacities(runs["defaults"]) == {CHAT: 10, EMBEDDING: 10}
    every = run_program(projects["defaults"], config={"model_capacity": 50})
    assert _capacities(every) == {CHAT: 50, EMBEDDING: 50}
    per_model = run_program(projects["defaults"], config={"model_capacity": {CHAT: 120}})
    assert _capacities(per_model) == {CHAT: 120, EMBEDDING: 10}
    with pytest.raises(ProgramError, match="capacity given for gpt4o, not among the models"):
        run_program(projects["defaults"], config={"model_capacity": {"gpt4o": 120}})


def test_keys_first_versions_expire_from_the_pinned_creation_day(
    runs: dict[str, MockRun], projects: dict[str, Path]
) -> None:
    pinned = run_program(projects["defaults"], config={"keys_created_on": "2025-03-01"})
    start = dt.datetime(2025, 3, 1, tzinfo=dt.UTC).timestamp()
    for key in pinned.of_type("azure-native:keyvault:Key"):
        attributes = key.inputs["properties"]["attributes"]
        assert (attributes["notBefore"], attributes["expires"]) == (start, start + 395 * 86400)
    # Unpinned: the day of the run, with the same lifetime.
    today = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(), tzinfo=dt.UTC)
    days = {today.timestamp(), (today - dt.timedelta(days=1)).timestamp()}  # run before 0:00
    for key in runs["defaults"].of_type("azure-native:keyvault:Key"):
        attributes = key.inputs["properties"]["attributes"]
        assert attributes["notBefore"] in days
        assert attributes["expires"] - attributes["notBefore"] == 395 * 86400


def test_long_retention_keeps_the_audit_tables_beyond_the_workspace(
    runs: dict[str, MockRun],
) -> None:
    tables = runs["restricted-hipaa-gdpr"].of_type("azure-native:operationalinsights:Table")
    assert {t.inputs["tableName"] for t in tables} >= {"AzureActivity", "AzureDiagnostics"}
    # 2192 days required; beyond two years Azure keeps whole years only (AZURE-DEPLOY-003).
    assert {t.inputs["totalRetentionInDays"] for t in tables} == {2556}
    assert not runs["defaults"].of_type("azure-native:operationalinsights:Table")
