"""What holds across every Azure component: tags, role assignments, structure, warnings."""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any

import pytest
from aiscaffold.testing import MockRun

ALLOWED_ROLES = {
    "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",  # Cognitive Services OpenAI User
    "4633458b-17de-408a-b874-0445c86b69e6",  # Key Vault Secrets User
    "e147488a-f6f5-4113-8e2d-b22465e65bf6",  # Key Vault Crypto Service Encryption User
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",  # Storage Blob Data Reader
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe",  # Storage Blob Data Contributor
}
#: Key Vault Crypto Officer: the deploying identity's only (AZURE-DEPLOY-001).
DEPLOYER_ROLE = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
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
    "ThreatDetection",
    "CostGuardrails",
}

#: Weakened runs checked too, so no weakening loses tags or widens a role's scope.
VARIANTS: list[dict[str, dict[str, Any]]] = [
    {},
    {"network": {"allow_internet_egress": True}},
    {"identity": {"data_write_access": True}},
    {"keys": {"hsm_keys": False}},
]


@functools.cache
def takes_tags(type_: str) -> bool:
    """Whether the azure-native resource class of ``type_`` has a ``tags`` input (the
    propagation waits, ``time:index/sleep:Sleep``, are not Azure resources)."""
    package, module, name = type_.split(":")
    if package != "azure-native":
        return False
    cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
    return "tags" in inspect.signature(cls._internal_init).parameters


@pytest.fixture(scope="module", params=range(len(VARIANTS)), ids=lambda i: f"variant{i}")
def variant(request: pytest.FixtureRequest, azure_run: Any) -> MockRun:
    run: MockRun = azure_run(**VARIANTS[request.param])
    return run


def test_every_taggable_resource_carries_the_standard_tags(variant: MockRun, az: Any) -> None:
    taggable = [r for r in variant.custom_resources if takes_tags(r.type)]
    assert len(taggable) > 40
    missing = [r.name for r in taggable if not az.TAGS.items() <= r.inputs.get("tags", {}).items()]
    assert missing == []
    # Resources that take no tags exist too: the check above is not vacuous.
    assert any(not takes_tags(r.type) for r in variant.custom_resources)


def test_role_assignments_are_resource_scoped_and_allowed(variant: MockRun, az: Any) -> None:
    assignments = variant.of_type("azure-native:authorization:RoleAssignment")
    assert assignments
    for assignment in assignments:
        scope = assignment.inputs["scope"]
        assert az.is_resource_id(scope), scope
        assert "/resourceGroups/" in scope and "/providers/" in scope
        role = assignment.inputs["roleDefinitionId"]
        assert role.startswith("/subscriptions/") and "/roleDefinitions/" in role
        if assignment.name == "keys-deployer-crypto-officer":
            # The deploying identity's grant for creating the keys: on the vault, to a user.
            assert role.endswith(f"/{DEPLOYER_ROLE}")
            assert scope.rsplit("/", 2)[-2] == "vaults"
            continue
        assert role.rsplit("/", 1)[1] in ALLOWED_ROLES
        assert assignment.inputs["principalType"] == "ServicePrincipal"


def test_every_component_is_there_with_its_token(default_run: MockRun) -> None:
    tokens = {c.type for c in default_run.components}
    assert tokens == {f"aiscaffold:azure:{name}" for name in COMPONENTS}


def test_every_cloud_resource_is_a_named_child_of_a_component(default_run: MockRun) -> None:
    components = {c.urn: c for c in default_run.components}
    for resource in default_run.custom_resources:
        parent = components.get(resource.parent or "")
        assert parent is not None, f"{resource.name} has no component parent"
        assert resource.name.startswith(f"{parent.name}-"), resource.name


def test_no_engine_warnings(variant: MockRun) -> None:
    assert variant.warnings == []


def test_every_resource_is_in_the_location_or_global(default_run: MockRun, az: Any) -> None:
    # Azure location names are case-insensitive: private DNS zones are written "global",
    # the action group "Global" as Azure Monitor's own templates write it
    # (https://learn.microsoft.com/azure/azure-monitor/alerts/resource-manager-action-groups).
    locations = {
        r.inputs["location"].lower() for r in default_run.custom_resources if "location" in r.inputs
    }
    assert locations == {az.LOCATION, "global"}
