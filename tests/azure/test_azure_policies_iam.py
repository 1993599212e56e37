"""Role assignment and lock policies: each failure mode flags exactly the offending
resources."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold.testing import MockRun
from azure.azure_policy_support import DROP, base_run, flagged, resource

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
OWNER = (
    f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
)
CONTRIBUTOR = (
    f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
)
BLOB_CONTRIBUTOR = (
    f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe"
)
LOCKED = {"data_sensitivity": "restricted"}


@pytest.fixture(scope="module")
def base(render_project: Any) -> MockRun:
    return base_run(render_project)


def scope_of(base: MockRun, name: str) -> str:
    return str(next(r for r in base.resources if r.name == name).outputs["id"])


CASES: list[tuple[str, dict[str, dict[str, Any]], set[str], dict[str, Any]]] = [
    # IAM-001 resource scope
    (
        "AZURE-IAM-001",
        {"workload-openai-user": {"scope": f"{SUB}/resourceGroups/rg-az-policies-dev"}},
        {"workload-openai-user"},
        {},
    ),
    ("AZURE-IAM-001", {"workload-openai-user": {"scope": SUB}}, {"workload-openai-user"}, {}),
    (
        "AZURE-IAM-001",
        {"keys-data-cmk-user": {"scope": "/providers/Microsoft.Management/managementGroups/root"}},
        {"keys-data-cmk-user"},
        {},
    ),
    # IAM-002 allowed roles
    (
        "AZURE-IAM-002",
        {"workload-secrets-user": {"roleDefinitionId": OWNER}},
        {"workload-secrets-user"},
        {},
    ),
    (
        "AZURE-IAM-002",
        {"workload-data-0": {"roleDefinitionId": CONTRIBUTOR}},
        {"workload-data-0"},
        {},
    ),
    ("AZURE-IAM-002", {"workload-data-0": {"roleDefinitionId": DROP}}, {"workload-data-0"}, {}),
    # IAM-003 managed identities
    ("AZURE-IAM-003", {"workload-data-0": {"principalType": "User"}}, {"workload-data-0"}, {}),
    ("AZURE-IAM-003", {"workload-data-0": {"principalType": DROP}}, {"workload-data-0"}, {}),
    # IAM-005 write access only for flow logs
    (
        "AZURE-IAM-005",
        {"workload-data-0": {"roleDefinitionId": BLOB_CONTRIBUTOR}},
        {"workload-data-0"},
        {},
    ),
]


@pytest.mark.parametrize(("policy", "patches", "expected", "answers"), CASES)
def test_iam_policy(
    base: MockRun,
    policy: str,
    patches: dict[str, dict[str, Any]],
    expected: set[str],
    answers: dict[str, Any],
) -> None:
    assert flagged(base, policy, patches, **answers) == expected


@pytest.mark.parametrize(
    ("assignment", "target", "fails"),
    [
        ("keys-data-cmk-user", "keys-vault", True),  # a key role on the whole vault
        ("workload-openai-user", "data-account", True),
        ("workload-secrets-user", "secrets-search-api-key", False),  # one secret: narrower
        ("workload-data-0", "data-account", False),
        ("workload-secrets-user", "keys-data", True),
    ],
)
def test_each_role_on_its_kind_of_resource(
    base: MockRun, assignment: str, target: str, fails: bool
) -> None:
    patches = {assignment: {"scope": scope_of(base, target)}}
    assert flagged(base, "AZURE-IAM-004", patches) == ({assignment} if fails else set())


def test_the_flow_log_writer_may_write_only_to_the_flow_log_account(base: MockRun) -> None:
    assert flagged(base, "AZURE-IAM-005") == set()
    moved = {"audit-flowlog-writer": {"scope": scope_of(base, "data-account")}}
    assert flagged(base, "AZURE-IAM-005", moved) == {"audit-flowlog-writer"}


def _lock(level: str, group: str = "rg-az-policies-dev") -> Any:
    return resource(
        "azure-native:authorization:ManagementLockAtResourceGroupLevel",
        "network-lock",
        {"resourceGroupName": group, "lockName": "aiscaffold-cannot-delete", "level": level},
    )


def test_resource_groups_are_locked_when_the_profile_asks(base: MockRun) -> None:
    assert flagged(base, "AZURE-LOCK-001", **LOCKED) == {"network-rg"}
    assert flagged(base, "AZURE-LOCK-001", add=[_lock("CanNotDelete")], **LOCKED) == set()
    assert flagged(base, "AZURE-LOCK-001", add=[_lock("ReadOnly")], **LOCKED) == set()
    assert flagged(base, "AZURE-LOCK-001", add=[_lock("CanNotDelete", "rg-other")], **LOCKED) == {
        "network-rg"
    }
    by_scope = resource(
        "azure-native:authorization:ManagementLockByScope",
        "scope-lock",
        {"scope": f"{SUB}/resourceGroups/rg-az-policies-dev", "level": "CanNotDelete"},
    )
    assert flagged(base, "AZURE-LOCK-001", add=[by_scope], **LOCKED) == set()
    # Without deletion protection in the profile, no lock is asked for.
    assert flagged(base, "AZURE-LOCK-001") == set()
    assert flagged(base, "AZURE-LOCK-001", compliance=["fedramp"]) == {"network-rg"}
