"""The GCP policy pack as a whole: manifest, coverage, generated projects, state backend."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from aiscaffold.check import check_project, evaluate, load_requirements
from aiscaffold.cli import main
from aiscaffold.testing import MockRun, run_program
from aiscaffold_components.catalog import load_catalog
from aiscaffold_components.policies import Requirements, ResourcePolicy, registry
from gcp.gcp_support import VARIANTS, GeneratedRun

#: Every GCP policy and its level for public data without a framework (the weakest
#: profile, where the catalog makes most of them advisory). A refactor that drops or
#: renames a policy, or moves one to another control, shows up here.
MANIFEST = {
    "GCP-ARMOR-001": "mandatory",
    "GCP-ARMOR-002": "mandatory",
    "GCP-ARMOR-003": "advisory",
    "GCP-ARMOR-004": "mandatory",
    "GCP-ARMOR-005": "mandatory",
    "GCP-ARMOR-006": "mandatory",
    "GCP-ARMOR-007": "advisory",
    "GCP-ARMOR-008": "mandatory",
    "GCP-ARMOR-009": "advisory",
    "GCP-ARMOR-010": "mandatory",
    "GCP-ARMOR-011": "mandatory",
    "GCP-DNS-001": "advisory",
    "GCP-DNS-002": "advisory",
    "GCP-DNS-003": "advisory",
    "GCP-GOV-001": "advisory",
    "GCP-GOV-002": "mandatory",
    "GCP-IAM-001": "mandatory",
    "GCP-IAM-002": "mandatory",
    "GCP-IAM-003": "mandatory",
    "GCP-IAM-004": "mandatory",
    "GCP-IAM-005": "mandatory",
    "GCP-IAM-006": "mandatory",
    "GCP-IAM-007": "mandatory",
    "GCP-IAM-008": "mandatory",
    "GCP-KMS-001": "advisory",
    "GCP-KMS-002": "advisory",
    "GCP-KMS-003": "advisory",
    "GCP-KMS-004": "advisory",
    "GCP-KMS-005": "mandatory",
    "GCP-KMS-006": "advisory",
    "GCP-LOG-001": "advisory",
    "GCP-LOG-002": "advisory",
    "GCP-LOG-003": "mandatory",
    "GCP-LOG-004": "advisory",
    "GCP-LOG-005": "advisory",
    "GCP-LOG-006": "advisory",
    "GCP-LOG-007": "advisory",
    "GCP-LOG-008": "advisory",
    "GCP-LOG-009": "advisory",
    "GCP-LOG-010": "advisory",
    "GCP-LOG-011": "advisory",
    "GCP-NET-001": "mandatory",
    "GCP-NET-002": "mandatory",
    "GCP-NET-003": "advisory",
    "GCP-NET-004": "advisory",
    "GCP-NET-005": "advisory",
    "GCP-NET-006": "mandatory",
    "GCP-NET-007": "mandatory",
    "GCP-NET-008": "advisory",
    "GCP-NET-009": "mandatory",
    "GCP-NET-010": "mandatory",
    "GCP-NET-011": "mandatory",
    "GCP-NET-012": "mandatory",
    "GCP-NET-013": "mandatory",
    "GCP-NET-014": "mandatory",
    "GCP-ORG-001": "advisory",
    "GCP-ORG-002": "mandatory",
    "GCP-ORG-003": "advisory",
    "GCP-ORG-004": "advisory",
    "GCP-PSC-001": "advisory",
    "GCP-PSC-002": "advisory",
    "GCP-PSC-003": "mandatory",
    "GCP-PUBSUB-001": "advisory",
    "GCP-PUBSUB-002": "mandatory",
    "GCP-SECRETS-001": "advisory",
    "GCP-SECRETS-002": "mandatory",
    "GCP-SECRETS-003": "advisory",
    "GCP-SECRETS-004": "mandatory",
    "GCP-STORAGE-001": "mandatory",
    "GCP-STORAGE-002": "mandatory",
    "GCP-STORAGE-003": "advisory",
    "GCP-STORAGE-004": "advisory",
    "GCP-STORAGE-005": "advisory",
    "GCP-STORAGE-006": "advisory",
    "GCP-STORAGE-007": "advisory",
    "GCP-STORAGE-008": "mandatory",
    "GCP-STORAGE-009": "advisory",
    "GCP-VERTEX-001": "mandatory",
    "GCP-VERTEX-002": "advisory",
    "GCP-VERTEX-003": "advisory",
    "GCP-VERTEX-004": "mandatory",
    "GCP-VERTEX-005": "mandatory",
    "GCP-VERTEX-006": "mandatory",
    "GCP-VERTEX-007": "mandatory",
    "GCP-VERTEX-008": "mandatory",
    "GCP-VERTEX-009": "mandatory",
}


def test_manifest() -> None:
    requirements = Requirements(cloud="gcp", data_sensitivity="public", ai_service="vertex-ai")
    assert {p.id: p.level(requirements) for p in registry("gcp")} == MANIFEST


def test_every_gcp_control_has_a_gcp_policy() -> None:
    covered = {c for p in registry("gcp") if p.id.startswith("GCP-") for c in p.controls}
    expected = {c.id for c in load_catalog().controls if c.applies_to("gcp")}
    assert expected - covered == set()


def test_resource_types_are_real_pulumi_gcp_types() -> None:
    for policy in registry("gcp"):
        if not isinstance(policy, ResourcePolicy):
            continue
        for token in policy.resource_types:
            _, module_path, class_name = token.split(":")
            module = importlib.import_module(f"pulumi_gcp.{module_path.split('/')[0]}")
            source = importlib.import_module(getattr(module, class_name).__module__).__file__
            assert source is not None, token
            assert f"'{token}'" in Path(source).read_text(encoding="utf-8"), (policy.id, token)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_generated_project_passes_the_check(
    variant: str, gcp_projects: dict[str, GeneratedRun], capsys: pytest.CaptureFixture[str]
) -> None:
    path = gcp_projects[variant].path
    assert main(["check", str(path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["violations"] == []  # neither mandatory nor advisory
    assert report["policies"] == len(registry("gcp"))
    assert not check_project(path).unknown


def test_optional_pieces_pass_the_pack(gcp_projects: dict[str, GeneratedRun]) -> None:
    project = gcp_projects["confidential-iso-soc2"]  # with Workbench, perimeter, secret value
    report = evaluate(project.run, load_requirements(project.path))
    assert [f"{f.policy} {f.resource}" for f in report.violations] == []


def test_optional_pieces_pass_the_gcp_policies(gcp_projects: dict[str, GeneratedRun]) -> None:
    project = gcp_projects["confidential-iso-soc2"]
    assert project.run.of_type("gcp:workbench/instance:Instance")
    report = evaluate(project.run, load_requirements(project.path))
    assert [
        f"{f.policy} {f.resource}" for f in report.violations if f.policy != "GCP-GOV-002"
    ] == []
    assert not report.unknown


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("rotation_days=profile.key_rotation_days,", "rotation_days=36500,  # effectively never"),
        (
            "\n# Network isolation",
            "\ngcp.kms.CryptoKey(\n"
            '    "unrotated", key_ring=keys.key_ring_id, labels=labels,\n'
            "    opts=pulumi.ResourceOptions(protect=True),\n"
            ")\n\n# Network isolation",
        ),
    ],
    ids=["rotation-period", "key-without-rotation"],
)
def test_disabling_key_rotation_fails_the_check(
    old: str,
    new: str,
    gcp_projects: dict[str, GeneratedRun],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = tmp_path / "edited"
    shutil.copytree(gcp_projects["defaults"].path, project)
    main_py = project / "__main__.py"
    source = main_py.read_text(encoding="utf-8")
    assert source.count(old) == 1
    main_py.write_text(source.replace(old, new), encoding="utf-8")
    assert main(["check", str(project), "--format", "json"]) == 1
    violations = json.loads(capsys.readouterr().out)["violations"]
    rotation = [v for v in violations if v["policy"] == "GCP-KMS-001"]
    assert rotation and all(v["level"] == "mandatory" for v in rotation)
    assert "rotat" in rotation[0]["message"]


def test_removing_the_model_armor_regional_endpoint_fails_the_check(
    gcp_projects: dict[str, GeneratedRun], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "edited"
    shutil.copytree(gcp_projects["defaults"].path, project)
    main_py = project / "__main__.py"
    source = main_py.read_text(encoding="utf-8")
    old = "subnet_cidr=network.subnet_cidr,\n"
    assert source.count(old) == 1
    main_py.write_text(source.replace(old, old + "        regional_services=(),\n"), "utf-8")
    assert main(["check", str(project), "--format", "json"]) == 1
    violations = json.loads(capsys.readouterr().out)["violations"]
    assert {(v["policy"], v["level"]) for v in violations} == {("GCP-PSC-003", "mandatory")}
    assert "modelarmor." in violations[0]["message"]


# ----------------------------------------------------------------- state backend
@pytest.fixture(scope="module")
def bootstraps(gcp_projects: dict[str, GeneratedRun]) -> dict[str, MockRun]:
    return {
        variant: run_program(project.path / "bootstrap", stack="bootstrap")
        for variant, project in gcp_projects.items()
    }


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_bootstrap_passes_the_project_policies(
    variant: str, bootstraps: dict[str, MockRun], gcp_projects: dict[str, GeneratedRun]
) -> None:
    run = bootstraps[variant]
    report = evaluate(run, load_requirements(gcp_projects[variant].path))
    assert [f"{f.policy} {f.resource}: {f.message}" for f in report.findings] == []
    assert not [w for w in run.warnings if "deprecat" in w.lower()]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_bootstrap_state_bucket_and_secrets_key(
    variant: str, bootstraps: dict[str, MockRun], gcp_projects: dict[str, GeneratedRun]
) -> None:
    run = bootstraps[variant]
    config = gcp_projects[variant].config
    assert set(run.outputs) == {"backend_url", "secrets_provider"}
    state = next(
        b for b in run.of_type("gcp:storage/bucket:Bucket") if b.name.endswith("-state-bucket")
    )
    assert run.outputs["backend_url"] == f"gs://{state.outputs['name']}"
    inputs = state.inputs
    assert inputs["uniformBucketLevelAccess"] is True
    assert inputs["publicAccessPrevention"] == "enforced"
    assert inputs["versioning"] == {"enabled": True}
    assert inputs["encryption"]["defaultKmsKeyName"]
    assert inputs["location"] == gcp_projects[variant].region
    assert state.protect
    keys = {k.name: k for k in run.of_type("gcp:kms/cryptoKey:CryptoKey")}
    secrets_key = next(k for n, k in keys.items() if n.endswith("-secrets-provider"))
    assert run.outputs["secrets_provider"] == f"gcpkms://{secrets_key.outputs['id']}"
    assert run.outputs["secrets_provider"].startswith("gcpkms://projects/")
    assert "/cryptoKeys/" in run.outputs["secrets_provider"]
    for key in keys.values():
        assert key.protect
        assert key.inputs["rotationPeriod"] == f"{config['key_rotation_days'] * 86400}s"
        level = "HSM" if config["hsm_keys"] else "SOFTWARE"
        assert key.inputs["versionTemplate"]["protectionLevel"] == level
    # the secrets-provider key is granted to no one; the state key only to Cloud Storage
    grants = run.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert [g.inputs["member"].split("@")[-1] for g in grants] == [
        "gs-project-accounts.iam.gserviceaccount.com"
    ]


# ------------------------------------------------------- the project's own tests
@pytest.mark.slow
@pytest.mark.parametrize("variant", ["defaults", "restricted-gdpr"])
def test_generated_tests_pass_in_the_project(
    variant: str, gcp_projects: dict[str, GeneratedRun], tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(gcp_projects[variant].path, project)
    source = (project / "tests" / "test_infrastructure.py").read_text(encoding="utf-8")
    assert "def test_model_armor_screens_every_model_call" in source
    assert "def test_state_backend_passes_the_policy_pack" in source
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore::DeprecationWarning",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout
