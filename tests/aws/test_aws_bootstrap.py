"""The AWS state-backend bootstrap of generated projects: run under mocks, checked by the pack."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.testing import MockRun, run_program
from aws.aws_support import ACCOUNT

BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
CALLER = f"arn:aws:iam::{ACCOUNT}:user/mock"  # who the mocks say runs the program


@pytest.fixture(scope="module")
def bootstrap(aws_project: Callable[[str], Path]) -> Callable[..., MockRun]:
    runs: dict[str, MockRun] = {}

    def get(name: str = "defaults", **config: Any) -> MockRun:
        key = json.dumps([name, config], sort_keys=True)
        if key not in runs:
            runs[key] = run_program(
                aws_project(name) / "bootstrap", stack="bootstrap", config=config
            )
        return runs[key]

    return get


@pytest.mark.parametrize("name", ["defaults", "bedrock-restricted"])
def test_bootstrap_passes_the_projects_policy_pack(
    name: str, bootstrap: Callable[..., MockRun], aws_project: Callable[[str], Path]
) -> None:
    run = bootstrap(name)
    report = evaluate(run, load_requirements(aws_project(name)))
    found = [f"{f.policy} {f.resource}: {f.message} ({f.outcome})" for f in report.findings]
    assert not found, "\n".join(found)
    assert not run.warnings


def test_bootstrap_exports_the_backend_and_the_secrets_provider(
    bootstrap: Callable[..., MockRun],
) -> None:
    run = bootstrap()
    assert set(run.outputs) == {"backend_url", "secrets_provider"}
    state = run.one(BUCKET, "state-bucket")
    bucket = state.outputs["bucket"]
    assert bucket.startswith("aws-defaults-state-")
    assert run.outputs["backend_url"] == f"s3://{bucket}?region=us-east-1"
    alias = run.one("aws:kms/alias:Alias").inputs
    assert alias["name"] == "alias/aws-defaults-pulumi-secrets"
    assert (
        run.outputs["secrets_provider"]
        == "awskms://alias/aws-defaults-pulumi-secrets?region=us-east-1"
    )
    secrets_key = run.one(KEY, "secrets-key")
    assert alias["targetKeyId"] == secrets_key.outputs["keyId"]


def test_state_bucket_is_versioned_encrypted_private_and_tls_only(
    bootstrap: Callable[..., MockRun],
) -> None:
    run = bootstrap()
    bucket = run.one(BUCKET, "state-bucket").outputs["bucket"]
    state_key = run.one(KEY, "state-key").outputs["arn"]

    def companion(type_: str) -> dict[str, Any]:
        (found,) = [r.inputs for r in run.of_type(type_) if r.inputs.get("bucket") == bucket]
        return found

    assert companion("aws:s3/bucketVersioning:BucketVersioning")["versioningConfiguration"] == {
        "status": "Enabled"
    }
    rule = companion(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": state_key,
    }
    block = companion("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(
        block[k] is True
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    policy = json.loads(companion("aws:s3/bucketPolicy:BucketPolicy")["policy"])
    assert {"Bool": {"aws:SecureTransport": "false"}} in [
        s.get("Condition") for s in policy["Statement"]
    ]
    assert companion("aws:s3/bucketLogging:BucketLogging")["targetBucket"]
    # Losing the state or the keys loses every stack: protected whatever the profile says.
    assert run.one(BUCKET, "state-bucket").protect
    assert all(key.protect for key in run.of_type(KEY))


def _use_statements(run: MockRun, key: str) -> list[dict[str, Any]]:
    policy = json.loads(run.one(KEY, key).inputs["policy"])
    return [s for s in policy["Statement"] if "kms:Decrypt" in s["Action"]]


def test_only_the_deployers_use_the_keys(bootstrap: Callable[..., MockRun]) -> None:
    (state_use,) = _use_statements(bootstrap(), "state-key")
    assert state_use["Condition"]["ArnLike"]["aws:PrincipalArn"] == CALLER
    assert state_use["Condition"]["StringEquals"]["kms:ViaService"] == "s3.us-east-1.amazonaws.com"
    (secrets_use,) = _use_statements(bootstrap(), "secrets-key")
    assert secrets_use["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": CALLER}
    }  # direct use: the CLI
    deployers = [f"arn:aws:iam::{ACCOUNT}:role/admin", f"arn:aws:iam::{ACCOUNT}:role/ci"]
    (configured,) = _use_statements(bootstrap(deployer_arns=deployers), "secrets-key")
    assert configured["Condition"]["ArnLike"]["aws:PrincipalArn"] == deployers
