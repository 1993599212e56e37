"""Keys and WorkloadIdentity: rotation, HSM, protection, grants to exactly who needs them."""

from __future__ import annotations

import pytest
from aiscaffold.testing import MockRun
from aiscaffold_components.gcp import Keys, KeysArgs, WorkloadIdentity, WorkloadIdentityArgs
from aiscaffold_components.gcp.identity import INVOKER_PERMISSIONS, SCREENER_PERMISSIONS
from gcp_support import (
    LABELS,
    NUMBER,
    PROJECT,
    REGION,
    SERVICE_AGENTS,
    agent,
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
        # the vertex key's wait restarts when its grantees change
        "keys-vertex-grants-propagation:triggers.compute",
        "keys-vertex-grants-propagation:triggers.notebooks",
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


def roles_by_id(identity: MockRun) -> dict[str, dict[str, object]]:
    roles = identity.of_type("gcp:projects/iAMCustomRole:IAMCustomRole")
    return {r.name: {**r.inputs, "name": r.outputs["name"]} for r in roles}


def test_custom_roles_split_model_calls_from_screening(identity: MockRun) -> None:
    roles = roles_by_id(identity)
    assert set(roles) == {"workload-invoker-role", "workload-screener-role"}
    assert roles["workload-invoker-role"]["permissions"] == ["aiplatform.endpoints.predict"]
    assert INVOKER_PERMISSIONS == ("aiplatform.endpoints.predict",)
    # Screening needs no model call: the project-wide screener role carries no predict.
    assert sorted(roles["workload-screener-role"]["permissions"]) == sorted(SCREENER_PERMISSIONS)
    assert SCREENER_PERMISSIONS == (
        "modelarmor.templates.useToSanitizeUserPrompt",
        "modelarmor.templates.useToSanitizeModelResponse",
    )


def test_project_level_grants_are_the_documented_ones(identity: MockRun) -> None:
    roles = roles_by_id(identity)
    member = identity.one("gcp:serviceaccount/account:Account").outputs["member"]
    grants = {(b.name, b.inputs["role"], b.inputs["member"]) for b in iam_bindings(identity)}
    assert grants == {
        # publisher models (Gemini): no narrower scope exists
        ("workload-invoker", roles["workload-invoker-role"]["name"], member),
        # Model Armor templates carry no IAM policy
        ("workload-screener", roles["workload-screener-role"]["name"], member),
        ("workload-logwriter", "roles/logging.logWriter", member),
        ("workload-metricwriter", "roles/monitoring.metricWriter", member),
    }


@pytest.mark.parametrize(
    ("flag", "dropped"),
    [
        ("publisher_model_access", {"-workload-invoker"}),
        ("model_armor_access", {"-workload-screener"}),
        ("telemetry_roles", {"-workload-logwriter", "-workload-metricwriter"}),
    ],
)
def test_each_project_grant_goes_with_its_flag(
    identity: MockRun, flag: str, dropped: set[str]
) -> None:
    assert changes(identity, build_identity(**{flag: False})) == dropped


def test_extra_project_roles_add_exactly_their_binding(identity: MockRun) -> None:
    weak = build_identity(extra_project_roles=("roles/aiplatform.user",))
    assert changes(identity, weak) == {"+workload-aiplatform-user"}


@pytest.mark.parametrize("basic", ["roles/owner", "roles/editor", "roles/viewer"])
def test_basic_roles_are_refused(basic: str) -> None:
    with pytest.raises(Exception, match="basic roles"):
        build_identity(extra_project_roles=(basic,))


def test_keys_serve_only_named_service_agents() -> None:
    """Every agent Keys may grant is in the named list the IAM tests accept."""
    every = build_keys(compute_disk_encryption=True)
    assert {b.inputs["member"] for b in every.of_type(KEY_MEMBER)} <= SERVICE_AGENTS
    assert f"serviceAccount:workload@{PROJECT}.iam.gserviceaccount.com" not in SERVICE_AGENTS
