"""Generated projects: segmentation and recovery only when the answers ask for them."""

from __future__ import annotations

from aiscaffold.check import evaluate, load_requirements
from gcp_support import GeneratedRun

NEW_TYPES = {
    "aiscaffold:gcp:WorkloadSegments",
    "aiscaffold:gcp:ReplicatedBucket",
    "gcp:storage/transferJob:TransferJob",
}


def test_defaults_register_nothing_new(gcp_projects: dict[str, GeneratedRun]) -> None:
    run = gcp_projects["defaults"].run
    assert not {r.type for r in run.resources} & NEW_TYPES
    assert not [r for r in run.resources if "segments" in r.name or "-dr" in r.name]
    assert "api-storagetransfer" not in {r.name for r in run.resources}


def test_restricted_gdpr_has_segments_and_replicas(gcp_projects: dict[str, GeneratedRun]) -> None:
    project = gcp_projects["restricted-gdpr"]
    run = project.run
    assert project.config["dr_region"] == "europe-west1"
    assert project.region != "europe-west1"
    accounts = {r.inputs["accountId"] for r in run.of_type("gcp:serviceaccount/account:Account")}
    assert len([a for a in accounts if a.startswith("training-")]) == 1
    assert len([a for a in accounts if a.startswith("dataproc-")]) == 1
    replicas = [
        b
        for b in run.of_type("gcp:storage/bucket:Bucket")
        if b.inputs["labels"].get("data-zone") == "replica"
    ]
    assert len(replicas) == 2  # curated data and model artifacts
    for bucket in replicas:
        assert bucket.inputs["location"] == "europe-west1"
        assert (
            "/locations/europe-west1/keyRings/" in bucket.inputs["encryption"]["defaultKmsKeyName"]
        )
    primary = [
        b for b in run.of_type("gcp:storage/bucket:Bucket") if b.name.endswith("-datasets-bucket")
    ]
    assert [b.inputs["location"] for b in primary] == [project.region]
    assert len(run.of_type("gcp:storage/transferJob:TransferJob")) == 2
    assert "api-storagetransfer" in {r.name for r in run.resources}
    report = evaluate(run, load_requirements(project.path))
    assert not [
        f
        for f in report.violations
        if f.policy in {"GCP-IAM-009", "GCP-NET-015", "GCP-STORAGE-010", "GCP-REC-001"}
    ]
    verdicts = report.passed
    assert {"GCP-IAM-009", "GCP-NET-015", "GCP-STORAGE-010", "GCP-REC-001"} <= verdicts
