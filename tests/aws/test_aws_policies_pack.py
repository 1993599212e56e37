"""The AWS pack as a whole: its manifest, unknown values during preview, generated projects."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.cli import main
from aiscaffold.testing import CapturedResource, MockRun
from aiscaffold_components.policies import registry
from aws.aws_policy_support import TAGS, check, flagged, requirements, res, unknown
from aws.aws_support import PROJECTS
from pulumi_policy.proxy import (
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

#: Every AWS policy and its level for an internal-data Bedrock project without
#: frameworks: a rule dropped or a level changed by a refactoring shows up here.
MANIFEST = {
    "AWS-BEDROCK-001": "mandatory",
    "AWS-BEDROCK-002": "mandatory",
    "AWS-BEDROCK-003": "advisory",
    "AWS-BEDROCK-004": "mandatory",
    "AWS-BEDROCK-005": "mandatory",
    "AWS-BEDROCK-006": "mandatory",
    "AWS-BEDROCK-007": "advisory",
    "AWS-BEDROCK-008": "advisory",
    "AWS-BEDROCK-009": "advisory",
    "AWS-BEDROCK-010": "advisory",
    "AWS-BEDROCK-011": "mandatory",
    "AWS-EC2-001": "mandatory",
    "AWS-EC2-002": "mandatory",
    "AWS-EC2-003": "mandatory",
    "AWS-EC2-004": "mandatory",
    "AWS-EC2-005": "mandatory",
    "AWS-EC2-006": "mandatory",
    "AWS-EC2-007": "mandatory",
    "AWS-EC2-008": "mandatory",
    "AWS-EC2-009": "mandatory",
    "AWS-EC2-010": "mandatory",
    "AWS-EC2-011": "mandatory",
    "AWS-EC2-012": "mandatory",
    "AWS-GOV-001": "mandatory",
    "AWS-GOV-002": "mandatory",
    "AWS-GOV-003": "advisory",
    "AWS-IAM-001": "mandatory",
    "AWS-IAM-002": "mandatory",
    "AWS-IAM-003": "mandatory",
    "AWS-IAM-004": "mandatory",
    "AWS-IAM-005": "mandatory",
    "AWS-IAM-006": "mandatory",
    "AWS-IAM-007": "mandatory",
    "AWS-KMS-001": "mandatory",
    "AWS-KMS-002": "mandatory",
    "AWS-KMS-003": "mandatory",
    "AWS-KMS-004": "mandatory",
    "AWS-KMS-005": "mandatory",
    "AWS-KMS-006": "mandatory",
    "AWS-KMS-007": "mandatory",
    "AWS-LOGS-001": "mandatory",
    "AWS-LOGS-002": "mandatory",
    "AWS-LOGS-003": "mandatory",
    "AWS-S3-001": "mandatory",
    "AWS-S3-002": "mandatory",
    "AWS-S3-003": "advisory",
    "AWS-S3-004": "mandatory",
    "AWS-S3-005": "advisory",
    "AWS-S3-006": "mandatory",
    "AWS-S3-007": "mandatory",
    "AWS-S3-008": "mandatory",
    "AWS-S3-009": "mandatory",
    "AWS-S3-010": "advisory",
    "AWS-S3-011": "mandatory",
    "AWS-S3-012": "advisory",
    "AWS-S3-013": "mandatory",
    "AWS-S3-014": "advisory",
    "AWS-SAGE-001": "mandatory",
    "AWS-SAGE-002": "mandatory",
    "AWS-SAGE-003": "mandatory",
    "AWS-SAGE-004": "mandatory",
    "AWS-SAGE-005": "mandatory",
    "AWS-SAGE-006": "mandatory",
    "AWS-SAGE-007": "mandatory",
    "AWS-SAGE-008": "advisory",
    "AWS-SECRETS-001": "mandatory",
    "AWS-SECRETS-002": "mandatory",
    "AWS-SECRETS-003": "mandatory",
    "AWS-SECRETS-004": "advisory",
    "AWS-SECRETS-005": "advisory",
    "AWS-SECRETS-006": "mandatory",
    "AWS-TRAIL-001": "mandatory",
    "AWS-TRAIL-002": "mandatory",
    "AWS-TRAIL-003": "mandatory",
    "AWS-TRAIL-004": "mandatory",
    "AWS-TRAIL-005": "mandatory",
    "AWS-TRAIL-006": "mandatory",
    "AWS-TRAIL-007": "advisory",
    "AWS-VPCE-001": "mandatory",
    "AWS-VPCE-002": "advisory",
    "AWS-VPCE-003": "mandatory",
    "AWS-VPCE-004": "mandatory",
}


def test_manifest_lists_every_aws_policy_and_its_level() -> None:
    internal = requirements(data_sensitivity="internal")
    assert {p.id: p.level(internal) for p in registry("aws")} == MANIFEST


def test_every_aws_policy_has_a_title_docstring_and_remediation() -> None:
    for policy in registry("aws"):
        assert policy.description.endswith("."), policy.id
        assert len(policy.remediation) > 20, policy.id


# ------------------------------------------------------------- unknown in preview
STRING, OBJECT = UNKNOWN_STRING_VALUE, UNKNOWN_OBJECT_VALUE
UNKNOWN_CASES: list[tuple[str, CapturedResource | list[CapturedResource]]] = [
    ("AWS-KMS-001", res("aws:kms/key:Key", "k", {"enableKeyRotation": UNKNOWN_BOOLEAN_VALUE})),
    (
        "AWS-KMS-002",
        res(
            "aws:kms/key:Key",
            "k",
            {"enableKeyRotation": True, "rotationPeriodInDays": UNKNOWN_NUMBER_VALUE},
        ),
    ),
    ("AWS-KMS-004", res("aws:kms/key:Key", "k", {"enableKeyRotation": True, "policy": STRING})),
    (
        "AWS-S3-001",
        res(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "k",
            {"blockPublicAcls": UNKNOWN_BOOLEAN_VALUE},
        ),
    ),
    (
        "AWS-S3-002",
        res(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "k",
            {
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": STRING,
                        }
                    }
                ]
            },
        ),
    ),
    ("AWS-S3-004", res("aws:s3/bucketPolicy:BucketPolicy", "k", {"bucket": "b", "policy": STRING})),
    (
        "AWS-S3-008",
        [
            res("aws:s3/bucket:Bucket", "b", {"bucket": "b", "tags": TAGS}),
            res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "k", {"bucket": STRING}),
        ],
    ),
    (
        "AWS-EC2-006",
        res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "k", {"cidrIpv4": STRING}),
    ),
    ("AWS-EC2-008", res("aws:ec2/networkAcl:NetworkAcl", "k", {"ingress": OBJECT})),
    (
        "AWS-VPCE-002",
        res(
            "aws:ec2/vpcEndpoint:VpcEndpoint",
            "k",
            {
                "vpcEndpointType": "Interface",
                "serviceName": "com.amazonaws.us-east-1.kms",
                "policy": STRING,
            },
        ),
    ),
    ("AWS-IAM-002", res("aws:iam/role:Role", "k", {"assumeRolePolicy": STRING})),
    ("AWS-IAM-003", res("aws:iam/rolePolicy:RolePolicy", "k", {"role": "r", "policy": STRING})),
    ("AWS-BEDROCK-011", res("aws:iam/rolePolicy:RolePolicy", "k", {"role": "r", "policy": STRING})),
    (
        "AWS-BEDROCK-002",
        res("aws:bedrock/guardrail:Guardrail", "k", {"contentPolicyConfig": OBJECT}),
    ),
    ("AWS-BEDROCK-005", res("aws:bedrock/guardrail:Guardrail", "k", {"kmsKeyArn": STRING})),
    ("AWS-TRAIL-003", res("aws:cloudtrail/trail:Trail", "k", {"kmsKeyId": STRING})),
    ("AWS-LOGS-001", res("aws:cloudwatch/logGroup:LogGroup", "k", {"kmsKeyId": STRING})),
    (
        "AWS-SECRETS-002",
        res("aws:secretsmanager/secretPolicy:SecretPolicy", "k", {"policy": STRING}),
    ),
    ("AWS-SAGE-002", res("aws:sagemaker/domain:Domain", "k", {"kmsKeyId": STRING})),
    ("AWS-SAGE-008", res("aws:sagemaker/domain:Domain", "k", {"retentionPolicy": OBJECT})),
    (
        "AWS-EC2-012",
        res(
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
            "k",
            {"ipProtocol": "tcp", "fromPort": UNKNOWN_NUMBER_VALUE, "toPort": 443.0},
        ),
    ),
    ("AWS-IAM-007", res("aws:iam/rolePolicy:RolePolicy", "k", {"role": "r", "policy": STRING})),
    ("AWS-LOGS-003", res("aws:iam/rolePolicy:RolePolicy", "k", {"role": "r", "policy": STRING})),
]


@pytest.mark.parametrize(("policy", "resource"), UNKNOWN_CASES, ids=[c[0] for c in UNKNOWN_CASES])
def test_values_unknown_during_preview_are_reported_as_unknown(
    policy: str, resource: CapturedResource | list[CapturedResource]
) -> None:
    report = check(resource if isinstance(resource, list) else [resource])
    assert unknown(report, policy) in ({"k"}, {"(stack)"})
    assert not flagged(report, policy)


def test_a_known_value_beside_an_unknown_one_still_decides() -> None:
    # The key policy is unknown, but rotation is known to be off: AWS-KMS-001 still fails.
    report = check(
        [res("aws:kms/key:Key", "k", {"enableKeyRotation": False, "policy": STRING, "tags": TAGS})]
    )
    assert flagged(report, "AWS-KMS-001") == {"k"}
    assert unknown(report, "AWS-KMS-004") == {"k"}


# ------------------------------------------------------------------ generated projects
@pytest.mark.parametrize("name", PROJECTS)
def test_generated_project_has_no_violation(
    name: str, aws_project: Callable[[str], Path], aws_run: Callable[[str], MockRun]
) -> None:
    report = evaluate(aws_run(name), load_requirements(aws_project(name)))
    found = [f"{f.policy} {f.resource}: {f.message}" for f in report.findings]
    assert not found, "\n".join(found)
    assert report.policies == len(MANIFEST) and report.evaluations > 100


def test_default_project_passes_aiscaffold_check(
    aws_project: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(aws_project("defaults")), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["violations"] == [] and report["policies"] == len(MANIFEST)


@pytest.fixture
def editable(aws_project: Callable[[str], Path], tmp_path: Path) -> Path:
    """A copy of the default project that a test may edit."""
    return Path(shutil.copytree(aws_project("defaults"), tmp_path / "aws-defaults"))


def _violations(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[dict[str, str]]]:
    code = main(["check", str(project), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)["violations"]


def test_disabling_key_rotation_in_main_fails_the_check(
    editable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main_py = editable / "__main__.py"
    main_py.write_text(
        main_py.read_text()
        + '\n# Edited by hand: a key that never rotates.\naws.kms.Key("unrotated", enable_key_rotation=False, tags=tags)\n'
    )
    code, violations = _violations(editable, capsys)
    assert code == 1
    rotation = [v for v in violations if v["policy"] == "AWS-KMS-001"]
    assert [(v["resource"], v["level"]) for v in rotation] == [("unrotated", "mandatory")]


def test_stack_config_weaker_than_the_answers_fails_the_check(
    editable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_file = editable / "Pulumi.dev.yaml"
    stack = yaml.safe_load(stack_file.read_text())
    stack["config"]["aws-defaults:key_rotation_days"] = 730  # the answers ask for 365
    stack["config"]["aws-defaults:log_retention_days"] = 90  # and for 365
    stack_file.write_text(yaml.safe_dump(stack))
    code, violations = _violations(editable, capsys)
    assert code == 1
    by_policy: dict[str, set[str]] = {}
    for v in violations:
        by_policy.setdefault(v["policy"], set()).add(v["resource"])
    assert by_policy["AWS-KMS-002"] == {"keys-data", "keys-logs", "keys-secrets"}
    assert by_policy["AWS-LOGS-002"] == {
        "network-flow-logs",
        "audit-trail-logs",
        "audit-bedrock-invocations",
        "workload-logs",
    }
    assert by_policy["AWS-S3-013"] == {"audit-logs-lifecycle", "audit-access-logs-lifecycle"}


def _edited_workload_policy(
    run: MockRun, edit: Callable[[dict[str, Any]], None]
) -> tuple[MockRun, CapturedResource]:
    """The run with the workload role's inline policy edited statement by statement."""
    original = run.one("aws:iam/rolePolicy:RolePolicy", "workload-policy")
    document = json.loads(original.inputs["policy"])
    for st in document["Statement"]:
        edit(st)
    edited = dataclasses.replace(
        original, inputs={**original.inputs, "policy": json.dumps(document)}
    )
    resources = [edited if r is original else r for r in run.resources]
    return dataclasses.replace(run, resources=resources), edited


def test_unscoping_the_workloads_network_interfaces_or_logs_fails_the_check(
    aws_project: Callable[[str], Path], aws_run: Callable[[str], MockRun]
) -> None:
    """Hand edits to what WorkloadIdentity scopes: Lambda's interfaces in any subnet and
    with any group, and creating its own log groups without creates_log_groups."""
    run, requirements_ = aws_run("defaults"), load_requirements(aws_project("defaults"))

    def any_subnet(st: dict[str, Any]) -> None:
        if st["Sid"] == "LambdaCreatesInterfacesInProjectSubnets":
            account_region = st["Resource"][0].rsplit(":", 1)[0]
            st["Resource"] = [
                f"{account_region}:{kind}/*"
                for kind in ("network-interface", "subnet", "security-group")
            ]

    def creates_groups(st: dict[str, Any]) -> None:
        if st["Sid"] == "WriteProjectLogs":
            st["Action"] = [*st["Action"], "logs:CreateLogGroup"]

    for edit, caught in ((any_subnet, "AWS-IAM-007"), (creates_groups, "AWS-LOGS-003")):
        edited_run, edited = _edited_workload_policy(run, edit)
        report = evaluate(edited_run, requirements_)
        found = {(f.policy, f.resource, f.level) for f in report.violations}
        assert found == {(caught, edited.name, "mandatory")}, found
