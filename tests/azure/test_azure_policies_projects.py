"""Generated Azure projects through `aiscaffold check`, and the state-backend bootstrap
program under the project's policies."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.cli import main
from aiscaffold.testing import MockRun, run_program
from azure.azure_support import VARIANTS


def _check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["check", str(path), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_generated_project_has_no_violation(
    projects: dict[str, Path], variant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = _check(projects[variant], capsys)
    # Azure's cost anomaly alert e-mails only: without alert_emails (or with the
    # subscription's services shared) there is none, reported as advisory (COST-02).
    # Restricted data without a recovery region is reported, advisory (REC-01).
    others = [
        v
        for v in report["violations"]
        if not (v["policy"] in ("AZURE-COST-003", "AZURE-REC-002") and v["level"] == "advisory")
    ]
    assert others == [] and code == 0
    assert report["policies"] >= 70


def test_disabling_key_rotation_fails_the_check(
    projects: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    shutil.copytree(projects["defaults"], project)
    program = project / "__main__.py"
    source = program.read_text()
    assert "rotation_days=profile.key_rotation_days" in source
    # A century between rotations: rotation is off in all but name.
    program.write_text(
        source.replace("rotation_days=profile.key_rotation_days", "rotation_days=36500")
    )
    code, report = _check(project, capsys)
    assert code == 1
    rotation = [v for v in report["violations"] if v["policy"] == "AZURE-KV-010"]
    assert {v["resource"] for v in rotation} == {"keys-data", "keys-ai", "keys-logs"}
    assert all(v["level"] == "mandatory" and v["controls"] == ["KEY-02"] for v in rotation)


# ----------------------------------------------------------------- bootstrap
@pytest.fixture(scope="module")
def bootstraps(projects: dict[str, Path]) -> dict[str, MockRun]:
    return {
        name: run_program(projects[name] / "bootstrap", stack="bootstrap")
        for name in ("defaults", "restricted-hipaa-gdpr")
    }


@pytest.mark.parametrize("variant", ["defaults", "restricted-hipaa-gdpr"])
def test_bootstrap_passes_the_projects_policies(
    projects: dict[str, Path], bootstraps: dict[str, MockRun], variant: str
) -> None:
    run = bootstraps[variant]
    report = evaluate(run, load_requirements(projects[variant]))
    assert not report.findings, [(f.policy, f.resource, f.message) for f in report.findings]
    assert not [w for w in run.warnings if "deprecated" in w.lower()]


def test_bootstrap_exports_the_backend_and_the_secrets_provider(
    bootstraps: dict[str, MockRun],
) -> None:
    run = bootstraps["defaults"]
    assert set(run.outputs) == {"backend_url", "secrets_provider"}
    account = run.one("azure-native:storage:StorageAccount", "state-account").inputs
    assert run.outputs["backend_url"] == f"azblob://state?storage_account={account['accountName']}"
    vault = run.one("azure-native:keyvault:Vault").inputs["vaultName"]
    # The key's current version: decrypting a stack's data key with a later version
    # after rotation would fail (pulumi/pulumi#22338).
    assert re.fullmatch(
        rf"azurekeyvault://{vault}\.vault\.azure\.net/keys/pulumi-secrets/[0-9a-f]{{32}}",
        run.outputs["secrets_provider"],
    )
    container = run.one("azure-native:storage:BlobContainer", "state-state").inputs
    assert container["containerName"] == "state" and container["publicAccess"] == "None"


def test_bootstrap_state_and_key_are_private_keyless_encrypted_and_protected(
    bootstraps: dict[str, MockRun],
) -> None:
    run = bootstraps["defaults"]
    state = run.one("azure-native:storage:StorageAccount", "state-account")
    assert state.protect
    assert state.inputs["publicNetworkAccess"] == "Disabled"
    assert state.inputs["allowSharedKeyAccess"] is False
    assert state.inputs["encryption"]["keyVaultProperties"]["keyName"] == "cmk-data"
    key = run.one("azure-native:keyvault:Key", "pulumi-secrets")
    assert key.protect
    assert key.inputs["properties"]["keyOps"] == ["encrypt", "decrypt"]
    # Its first version expires 30 days after its rotation, like the rotated ones, and
    # Azure's create-only attributes are left as created.
    attributes = key.inputs["properties"]["attributes"]
    assert attributes["expires"] - attributes["notBefore"] == (365 + 30) * 86400
    assert key.inputs["properties"]["rotationPolicy"]["attributes"]["expiryTime"] == "P395D"
    assert set(key.ignore_changes) == {
        "properties.attributes.notBefore",
        "properties.attributes.expires",
    }
    assert (
        run.one("azure-native:authorization:ManagementLockAtResourceGroupLevel").inputs["level"]
        == "CanNotDelete"
    )
    restricted = bootstraps["restricted-hipaa-gdpr"]
    kinds = {k.inputs["properties"]["kty"] for k in restricted.of_type("azure-native:keyvault:Key")}
    assert kinds == {"RSA-HSM"}
