"""AWS-IAM-008 (IAM-05), AWS-EC2-013 (NET-07), AWS-S3-017 (GOV-07), AWS-S3-018 (REC-01)
on the restricted project (every workload type, recovery region us-west-2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.check import CheckReport, evaluate, load_requirements
from aiscaffold.testing import MockRun
from aiscaffold_components.policies import Requirements
from aws.aws_policy_support import STACK, flagged, only, patched

RESTRICTED = "bedrock-restricted"
POLICIES = ("AWS-IAM-008", "AWS-EC2-013", "AWS-S3-017", "AWS-S3-018")


@pytest.fixture(scope="module")
def project(
    aws_project: Callable[[str], Path], aws_run: Callable[[str], MockRun]
) -> tuple[MockRun, Requirements]:
    return aws_run(RESTRICTED), load_requirements(aws_project(RESTRICTED))


def judge(run: MockRun, requirements: Requirements, policy: str, **answers: Any) -> CheckReport:
    changed = Requirements.model_validate({**requirements.model_dump(), **answers})
    return evaluate(run, only(changed, policy))


def _policy_doc(run: MockRun, name: str) -> dict[str, Any]:
    resource = next(r for r in run.resources if r.name == name)
    return dict(json.loads(resource.inputs["policy"]))


@pytest.mark.parametrize("policy", POLICIES)
def test_the_project_passes_and_each_policy_judges(
    project: tuple[MockRun, Requirements], policy: str
) -> None:
    run, requirements = project
    assert requirements.workloads == ("inference", "training", "data-processing")
    assert requirements.dr_region == "us-west-2"
    report = judge(run, requirements, policy)
    assert flagged(report, policy) == set()
    assert "passed" in set(report.verdicts[policy].values())


@pytest.mark.parametrize("policy", ["AWS-IAM-008", "AWS-EC2-013", "AWS-S3-017"])
def test_inference_only_is_not_applicable(
    project: tuple[MockRun, Requirements], policy: str
) -> None:
    run, requirements = project
    report = judge(run, requirements, policy, workloads=("inference",))
    assert set(report.verdicts[policy].values()) == {"not applicable"}


# ------------------------------------------------------------------ AWS-IAM-008
def test_an_inference_role_that_writes_artifacts_is_flagged(
    project: tuple[MockRun, Requirements],
) -> None:
    run, requirements = project
    doc = _policy_doc(run, "workload-policy")
    artifacts = next(r for r in run.resources if r.name == "model-artifacts-bucket")
    doc["Statement"].append(
        {
            "Sid": "Stray",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"{artifacts.outputs['arn']}/*",
        }
    )
    bad = patched(run, {"workload-policy": {"policy": json.dumps(doc)}})
    assert flagged(judge(bad, requirements, "AWS-IAM-008"), "AWS-IAM-008") == {"workload-role"}


def test_a_training_role_that_invokes_models_is_flagged(
    project: tuple[MockRun, Requirements],
) -> None:
    run, requirements = project
    doc = _policy_doc(run, "training-policy")
    doc["Statement"].append(
        {"Sid": "Stray", "Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"}
    )
    bad = patched(run, {"training-policy": {"policy": json.dumps(doc)}})
    assert flagged(judge(bad, requirements, "AWS-IAM-008"), "AWS-IAM-008") == {"training-role"}


def test_a_chosen_workload_without_its_identity_is_flagged(
    project: tuple[MockRun, Requirements],
) -> None:
    run, requirements = project
    bad = patched(run, drop=["data-processing-policy"])
    assert flagged(judge(bad, requirements, "AWS-IAM-008"), "AWS-IAM-008") == {STACK}


# ------------------------------------------------------------------ AWS-EC2-013
def test_a_segment_acl_admitting_another_segment_is_flagged(
    project: tuple[MockRun, Requirements],
) -> None:
    run, requirements = project
    acl = next(r for r in run.resources if r.name == "training-segment-nacl")
    egress = [
        {**e, "action": "allow"} if e["action"] == "deny" else e for e in acl.inputs["egress"]
    ]
    bad = patched(run, {"training-segment-nacl": {"egress": egress}})
    report = judge(bad, requirements, "AWS-EC2-013")
    assert flagged(report, "AWS-EC2-013") == {"training-segment-nacl"}


def test_a_segment_group_opened_by_address_is_flagged(
    project: tuple[MockRun, Requirements],
) -> None:
    run, requirements = project
    bad = patched(
        run,
        {
            "data-processing-segment-https-to-endpoints": {
                "referencedSecurityGroupId": None,
                "cidrIpv4": "10.0.0.0/16",
            }
        },
    )
    report = judge(bad, requirements, "AWS-EC2-013")
    assert flagged(report, "AWS-EC2-013") == {"data-processing-segment-https-to-endpoints"}


def test_a_missing_segment_is_flagged(project: tuple[MockRun, Requirements]) -> None:
    run, requirements = project
    subnets = [
        r.name for r in run.resources if r.name in ("training-segment-a", "training-segment-b")
    ]
    bad = patched(run, drop=subnets)
    assert flagged(judge(bad, requirements, "AWS-EC2-013"), "AWS-EC2-013") == {STACK}


# ------------------------------------------------------------------ AWS-S3-017
def test_unversioned_or_unprotected_artifacts_are_flagged(
    project: tuple[MockRun, Requirements],
) -> None:
    run, requirements = project
    assert requirements.setting("deletion_protection")
    bad = patched(
        run,
        {"model-artifacts-versioning": {"versioningConfiguration": {"status": "Suspended"}}},
    )
    assert flagged(judge(bad, requirements, "AWS-S3-017"), "AWS-S3-017") == {
        "model-artifacts-bucket"
    }
    artifacts = next(r for r in run.resources if r.name == "model-artifacts-bucket")
    assert artifacts.protect
    unprotected = patched(run, drop=["model-artifacts-bucket"])
    missing = judge(unprotected, requirements, "AWS-S3-017")
    assert flagged(missing, "AWS-S3-017") == {STACK}


# ------------------------------------------------------------------ AWS-S3-018
@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("rules.0.sourceSelectionCriteria.sseKmsEncryptedObjects.status", "Disabled"),
        ("rules.0.destination.replicationTime.status", "Disabled"),
        ("rules.0.destination.metrics.status", "Disabled"),
        ("rules.0.destination.metrics.eventThreshold.minutes", 1),
        ("rules.0.status", "Disabled"),
    ],
)
def test_a_weakened_replication_rule_is_flagged(
    project: tuple[MockRun, Requirements], path: str, value: object
) -> None:
    run, requirements = project
    bad = patched(run, {"recovery-data-replication": {path: value}})
    assert flagged(judge(bad, requirements, "AWS-S3-018"), "AWS-S3-018") == {
        "recovery-data-replication"
    }


def test_a_replica_or_key_outside_the_dr_region_is_flagged(
    project: tuple[MockRun, Requirements],
) -> None:
    run, requirements = project
    # Judged against another recovery region, the replicas and their key are elsewhere.
    report = judge(run, requirements, "AWS-S3-018", dr_region="eu-west-1")
    assert flagged(report, "AWS-S3-018") >= {"recovery-data-replication"}
    messages = [f.message for f in report.violations if f.policy == "AWS-S3-018"]
    assert any("not a customer-managed key in eu-west-1" in m for m in messages)


def test_a_source_without_replication_is_flagged(project: tuple[MockRun, Requirements]) -> None:
    run, requirements = project
    bad = patched(run, drop=["recovery-model-artifacts-replication"])
    assert flagged(judge(bad, requirements, "AWS-S3-018"), "AWS-S3-018") == {
        "model-artifacts-bucket"
    }


def test_restricted_data_without_a_dr_region_is_an_advisory_finding(
    project: tuple[MockRun, Requirements],
) -> None:
    run, requirements = project
    report = judge(run, requirements, "AWS-S3-018", dr_region="")
    findings = [f for f in report.findings if f.policy == "AWS-S3-018"]
    assert findings and all(f.level == "advisory" for f in findings)
    assert not [f for f in report.mandatory if f.policy == "AWS-S3-018"]
    confidential = judge(
        run, requirements, "AWS-S3-018", dr_region="", data_sensitivity="confidential"
    )
    assert set(confidential.verdicts["AWS-S3-018"].values()) == {"not applicable"}
