"""Helpers of the AWS policy tests: fixture resources, IAM documents, offline evaluation.

Fixtures go through ``aiscaffold.check.evaluate``, so every check runs as the pack's
pulumi-policy object would, on props wrapped in pulumi-policy's unknown-checking proxy.
"""

from __future__ import annotations

import json
from typing import Any

from aiscaffold.check import CheckReport, evaluate
from aiscaffold.testing import CapturedResource, MockRun
from aiscaffold_components.policies import Requirements

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-dev-workload"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
TAGS = {
    "project": "app",
    "stack": "dev",
    "data-classification": "confidential",
    "managed-by": "aiscaffold",
    "compliance": "none",
}


def requirements(**overrides: Any) -> Requirements:
    values: dict[str, Any] = {
        "cloud": "aws",
        "data_sensitivity": "confidential",
        "compliance": [],
        "ai_service": "bedrock",
    }
    values.update(overrides)
    return Requirements.model_validate(values)


def res(
    type_: str, name: str, inputs: dict[str, Any] | None = None, **options: Any
) -> CapturedResource:
    """A captured resource (``custom=False`` for components and the stack)."""
    custom = options.pop("custom", not type_.startswith(("aiscaffold:", "pulumi:pulumi:")))
    return CapturedResource(
        type=type_,
        name=name,
        urn=f"urn:pulumi:dev::app::{type_}::{name}",
        parent=None,
        custom=custom,
        inputs=inputs or {},
        outputs={},
        **options,
    )


def check(resources: list[CapturedResource], **answers: Any) -> CheckReport:
    """Evaluate the AWS pack on ``resources`` for a project with these answers."""
    run = MockRun(project="app", stack="dev", config={"aws:region": REGION})
    run.resources = list(resources)
    return evaluate(run, requirements(**answers))


def flagged(report: CheckReport, policy: str) -> set[str]:
    """Names of the resources ``policy`` found in violation (``(stack)`` for the stack)."""
    return {f.resource for f in report.violations if f.policy == policy}


def messages(report: CheckReport, policy: str) -> list[str]:
    return [f.message for f in report.violations if f.policy == policy]


def unknown(report: CheckReport, policy: str) -> set[str]:
    return {f.resource for f in report.unknown if f.policy == policy}


def doc(*statements: dict[str, Any]) -> str:
    """An IAM policy document (JSON, as resources carry it)."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def stmt(
    actions: str | list[str],
    resources: str | list[str] | None = "*",
    *,
    effect: str = "Allow",
    principal: Any = None,
    condition: dict[str, dict[str, Any]] | None = None,
    sid: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": effect, "Action": actions}
    if sid:
        out["Sid"] = sid
    if resources is not None:
        out["Resource"] = resources
    if principal is not None:
        out["Principal"] = principal
    if condition:
        out["Condition"] = condition
    return out


TLS = {"Bool": {"aws:SecureTransport": "true"}}
SOURCE_ACCOUNT = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def tls_bucket_policy(bucket: str, *extra: dict[str, Any]) -> str:
    """A bucket policy denying requests without TLS and with TLS older than 1.2."""
    arns = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    return doc(
        stmt(
            "s3:*",
            arns,
            effect="Deny",
            principal="*",
            condition={"Bool": {"aws:SecureTransport": "false"}},
        ),
        stmt(
            "s3:*",
            arns,
            effect="Deny",
            principal="*",
            condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        ),
        *extra,
    )


def secure_bucket(
    name: str, *, log_to: str | None = "access-logs", **bucket_inputs: Any
) -> list[CapturedResource]:
    """A bucket named ``name`` with every companion SecureBucket gives it."""
    out = [
        res(
            "aws:s3/bucket:Bucket",
            f"{name}-bucket",
            {"bucket": name, "tags": TAGS, **bucket_inputs},
        ),
        res(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            f"{name}-pab",
            {
                "bucket": name,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        res(
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            f"{name}-ownership",
            {"bucket": name, "rule": {"objectOwnership": "BucketOwnerEnforced"}},
        ),
        res(
            "aws:s3/bucketVersioning:BucketVersioning",
            f"{name}-versioning",
            {"bucket": name, "versioningConfiguration": {"status": "Enabled"}},
        ),
        res(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            f"{name}-encryption",
            {
                "bucket": name,
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": KEY_ARN,
                        },
                        "bucketKeyEnabled": True,
                        "blockedEncryptionTypes": ["SSE-C"],
                    }
                ],
            },
        ),
        res(
            "aws:s3/bucketPolicy:BucketPolicy",
            f"{name}-policy",
            {"bucket": name, "policy": tls_bucket_policy(name)},
        ),
    ]
    if log_to is not None:
        out.append(
            res(
                "aws:s3/bucketLogging:BucketLogging",
                f"{name}-logging",
                {"bucket": name, "targetBucket": log_to, "targetPrefix": f"{name}/"},
            )
        )
    return out


def workload_role(
    name: str = "workload-role", services: tuple[str, ...] = ("lambda.amazonaws.com",)
) -> CapturedResource:
    """A role trusted by workload services of this account (role name app-dev-workload)."""
    return res(
        "aws:iam/role:Role",
        name,
        {
            "name": "app-dev-workload",
            "assumeRolePolicy": doc(
                stmt(
                    "sts:AssumeRole",
                    None,
                    principal={"Service": list(services)},
                    condition=SOURCE_ACCOUNT,
                )
            ),
            "tags": TAGS,
        },
    )
