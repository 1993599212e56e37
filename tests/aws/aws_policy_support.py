"""Helpers of the AWS policy tests: fixture resources, IAM documents, offline evaluation.

Fixtures go through ``aiscaffold.check.evaluate``, so every check runs as the pack's
pulumi-policy object would, on props wrapped in pulumi-policy's unknown-checking proxy.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from aiscaffold.check import CheckReport, evaluate
from aiscaffold.testing import CapturedResource, MockRun
from aiscaffold_components.policies import Requirements, registry

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


STACK = "(stack)"
"""The resource name of a finding that names no resource (a stack policy's)."""


def only(requirements: Requirements, policy_id: str) -> Requirements:
    """``requirements`` with every other policy of the cloud disabled, so a report holds
    that policy's findings alone."""
    overrides = {
        p.id: {"level": "disabled", "reason": "tested one policy at a time"}
        for p in registry(requirements.cloud)
        if p.id != policy_id
    }
    return Requirements.model_validate({**requirements.model_dump(), "overrides": overrides})


def patch(inputs: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``inputs`` with values set at dotted paths (``rules.0.bucket``).

    A numeric segment indexes a list; missing mappings on the way are created.
    """
    out: dict[str, Any] = copy.deepcopy(dict(inputs))
    for dotted, value in changes.items():
        keys: list[str | int] = [int(k) if k.isdigit() else k for k in dotted.split(".")]
        parent: Any = out
        for key in keys[:-1]:
            parent = parent[key] if isinstance(key, int) else parent.setdefault(key, {})
        parent[keys[-1]] = copy.deepcopy(value)
    return out


def patched(
    run: MockRun,
    patches: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    drop: Sequence[str] = (),
    add: Sequence[CapturedResource] = (),
) -> MockRun:
    """A copy of ``run`` with resources patched by name, ``drop`` removed, ``add`` added."""
    patches = patches or {}
    names = [r.name for r in run.resources]
    for name in (*patches, *drop):
        assert names.count(name) == 1, f"{name!r}: {names.count(name)} resources of that name"
    resources = [
        dataclasses.replace(r, inputs=patch(r.inputs, patches[r.name])) if r.name in patches else r
        for r in run.resources
        if r.name not in drop
    ]
    return dataclasses.replace(run, resources=[*resources, *add])


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
