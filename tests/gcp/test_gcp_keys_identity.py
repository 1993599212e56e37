"""Keys and WorkloadIdentity: rotation, HSM, protection, grants to exactly who needs them."""

from __future__ import annotations

import pytest
from aiscaffold.testing import MockRun
from aiscaffold_components.gcp import Keys, KeysArgs, WorkloadIdentity, WorkloadIdentityArgs
from aiscaffold_components.gcp.identity import INVOKER_PERMISSIONS
from gcp_support import (
    LABELS,
    NUMBER,
    PROJECT,
    REGION,
    SERVICE_AGENT,
    changes,
    iam_bindings,
    run_component,
)

CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"


def build_keys(**overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "project": PROJECT,
        "project_number": NUMBER,
        "location": REGION,
        "rotation_days": 90,
        "labels": LABELS,
    }
    settings.update(overrides)
    args = KeysArgs(**settings)  # type: ignore[arg-type]
    return run_component(lambda: Keys("keys", args))


def build_identity(**overrides: object) -> MockRun:
    args = WorkloadIdentityArgs(project=PROJECT, **overrides)  # type: ignore[arg-type]
    return run_component(lambda: WorkloadIdentity("workload", args))


@pytest.fixture(scope="module")
def keys() -> MockRun:
    return build_keys()


@pytest.fixture(scope="module")
def identity() -> MockRun:
    return build_identity()


def agent(service: str) -> str:
    domain = {
        "storage": "gs-project-accounts",
        "compute": "compute-system",
    }.get(service, f"gcp-sa-{service}")
    return f"serviceAccount:service-{NUMBER}@{domain}.iam.gserviceaccount.com"


def test_one_key_per_purpose_in_the_region(keys: MockRun) -> None:
    ring = keys.one("gcp:kms/keyRing:KeyRing")
    assert ring.inputs["location"] == REGION
    found = {k.name: k for k in keys.of_type(CRYPTO_KEY)}
    assert set(found) == {"keys-data", "keys-logs", "keys-secrets", "keys-vertex"}
    assert {k.inputs["keyRing"] for k in found.values()} == {ring.outputs["id"]}


def test_keys_rotate_live_in_hsm_and_are_protected(keys: MockRun) -> None:
    for key in keys.of_type(CRYPTO_KEY):
        assert key.inputs["rotationPeriod"] == f"{90 * 86400}s"
        assert key.inputs["purpose"] == "ENCRYPT_DECRYPT"
        assert key.inputs["versionTemplate"] == {
            "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION",
            "protectionLevel": "HSM",
        }
        assert key.inputs["destroyScheduledDuration"] == f"{30 * 86400}s"
        assert key.protect is True
        assert key.inputs["labels"] == {**LABELS, "key-purpose": key.name.split("-")[-1]}
    assert keys.one("gcp:kms/keyRing:KeyRing").protect is True


def test_key_use_is_granted_to_exactly_the_service_agents_that_encrypt(keys: MockRun) -> None:
    key_names = {k.outputs["id"]: k.name.split("-")[-1] for k in keys.of_type(CRYPTO_KEY)}
    grants = {
        (key_names[b.inputs["cryptoKeyId"]], b.inputs["member"]) for b in keys.of_type(KEY_MEMBER)
    }
    assert grants == {
        ("data", agent("storage")),
        ("logs", agent("logging")),
        ("logs", agent("storage")),
        ("secrets", agent("secretmanager")),
        ("secrets", agent("pubsub")),
        ("vertex", agent("aiplatform")),
    }
    assert {b.inputs["role"] for b in iam_bindings(keys)} == {
        "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    }
    services = {
        s.inputs["service"] for s in keys.of_type("gcp:projects/serviceIdentity:ServiceIdentity")
    }
    assert services == {
        "aiplatform.googleapis.com",
        "secretmanager.googleapis.com",
        "pubsub.googleapis.com",
    }


def test_software_keys_change_only_the_protection_level(keys: MockRun) -> None:
    assert changes(keys, build_keys(protection_level="SOFTWARE")) == {
        f"keys-{p}:versionTemplate.protectionLevel" for p in ("data", "logs", "secrets", "vertex")
    }


def test_unprotected_keys_change_only_the_protect_option(keys: MockRun) -> None:
    assert changes(keys, build_keys(protect=False)) == {
        f"{name}:<protect>"
        for name in ("keys-ring", "keys-data", "keys-logs", "keys-secrets", "keys-vertex")
    }


def test_workbench_disks_add_compute_and_notebooks_agents_on_the_vertex_key(keys: MockRun) -> None:
    disks = build_keys(compute_disk_encryption=True)
    assert changes(keys, disks) == {
        "+keys-notebooks-agent",
        "+keys-vertex-compute",
        "+keys-vertex-notebooks",
    }
    members = {
        b.inputs["member"] for b in disks.of_type(KEY_MEMBER) if b.name.startswith("keys-vertex")
    }
    assert members == {agent("aiplatform"), agent("compute"), agent("notebooks")}


def test_destroy_window_is_bounded() -> None:
    with pytest.raises(Exception, match="destroy_scheduled_days"):
        build_keys(destroy_scheduled_days=365)


def test_workload_has_its_own_service_account_and_no_keys(identity: MockRun) -> None:
    account = identity.one("gcp:serviceaccount/account:Account")
    assert account.inputs["accountId"] == "workload"
    assert not identity.of_type("gcp:serviceaccount/key:Key")
    # No one may impersonate the workload (IAM-04).
    assert not [r for r in iam_bindings(identity) if r.type.startswith("gcp:serviceaccount/")]


def test_invoker_role_holds_only_model_and_screening_permissions(identity: MockRun) -> None:
    role = identity.one("gcp:projects/iAMCustomRole:IAMCustomRole").inputs
    assert sorted(role["permissions"]) == sorted(INVOKER_PERMISSIONS)
    assert INVOKER_PERMISSIONS == (
        "aiplatform.endpoints.predict",
        "modelarmor.templates.useToSanitizeUserPrompt",
        "modelarmor.templates.useToSanitizeModelResponse",
    )


def test_project_level_grants_are_the_documented_ones(identity: MockRun) -> None:
    role = identity.one("gcp:projects/iAMCustomRole:IAMCustomRole").outputs["name"]
    member = identity.one("gcp:serviceaccount/account:Account").outputs["member"]
    grants = {(b.inputs["role"], b.inputs["member"]) for b in iam_bindings(identity)}
    assert grants == {
        (role, member),
        ("roles/logging.logWriter", member),
        ("roles/monitoring.metricWriter", member),
    }


def test_without_publisher_models_the_invoker_is_not_bound(identity: MockRun) -> None:
    assert changes(identity, build_identity(publisher_model_access=False)) == {"-workload-invoker"}


def test_extra_project_roles_add_exactly_their_binding(identity: MockRun) -> None:
    weak = build_identity(extra_project_roles=("roles/aiplatform.user",))
    assert changes(identity, weak) == {"+workload-aiplatform-user"}


@pytest.mark.parametrize("basic", ["roles/owner", "roles/editor", "roles/viewer"])
def test_basic_roles_are_refused(basic: str) -> None:
    with pytest.raises(Exception, match="basic roles"):
        build_identity(extra_project_roles=(basic,))


def test_service_agent_pattern_matches_only_agents() -> None:
    assert SERVICE_AGENT.match(agent("aiplatform"))
    assert not SERVICE_AGENT.match(f"serviceAccount:workload@{PROJECT}.iam.gserviceaccount.com")
    assert not SERVICE_AGENT.match("user:someone@example.com")
