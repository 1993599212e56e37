"""Inputs of the generated AWS projects against the CloudFormation and botocore models.

What a mock run accepts and the AWS API rejects (a retention CloudWatch does not offer,
a key spec KMS does not know, a character EC2 refuses in a description) fails here, not
at the first ``pulumi up``.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.api_models import (
    REGION_TYPES_FILE,
    project_needs,
    region_problem,
    region_types_document,
    validate,
)
from aiscaffold.testing import MockRun
from aws.aws_support import PROJECTS

pytestmark = pytest.mark.slow


@dataclass
class Resource:
    """An editable copy of a captured resource (type, name, inputs)."""

    type: str
    name: str
    inputs: dict[str, Any]


def editable(run: MockRun) -> list[Resource]:
    return [Resource(r.type, r.name, copy.deepcopy(r.inputs)) for r in run.custom_resources]


def first(resources: list[Resource], type_: str) -> Resource:
    return next(r for r in resources if r.type == type_)


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_every_input_is_inside_the_api_domain(aws_run: Callable[[str], MockRun], name: str) -> None:
    run = aws_run(name)
    result = validate("aws", run.custom_resources, region=run.config.get("aws:region"))
    assert not result.problems, "\n".join(map(str, result.problems))
    # A resource type without a mapping would be checked by nothing: map it in
    # aiscaffold.api_models.AWS_TYPES (or list it as adopted there).
    assert not result.unknown_types
    assert not result.unmapped, sorted(result.unmapped)


def test_the_inputs_that_matter_are_checked(aws_run: Callable[[str], MockRun]) -> None:
    checked = validate("aws", aws_run("bedrock-restricted").custom_resources).checked
    for expected in [
        ("aws:cloudwatch/logGroup:LogGroup", "retentionInDays"),
        ("aws:kms/key:Key", "customerMasterKeySpec"),
        ("aws:kms/key:Key", "rotationPeriodInDays"),
        ("aws:bedrock/guardrail:Guardrail", "contentPolicyConfig.filtersConfigs.inputStrength"),
        (
            "aws:bedrock/guardrail:Guardrail",
            "sensitiveInformationPolicyConfig.piiEntitiesConfigs.type",
        ),
        ("aws:ec2/securityGroup:SecurityGroup", "description"),
        ("aws:ec2/flowLog:FlowLog", "maxAggregationInterval"),
        (
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "rules.applyServerSideEncryptionByDefault.sseAlgorithm",
        ),
        (
            "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
            "rule.defaultRetention.mode",
        ),
        (
            "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration",
            "loggingConfig.s3Config.keyPrefix",
        ),
    ]:
        assert expected in checked


@pytest.mark.parametrize(
    ("type_", "path", "value", "field", "says"),
    [
        # CloudWatch Logs offers 2557, not the 2555 days of "7 years" (PutRetentionPolicy:
        # "InvalidParameterException: 1 validation error detected: Value '2555' at
        # 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set").
        (
            "aws:cloudwatch/logGroup:LogGroup",
            ("retentionInDays",),
            2555.0,
            "AWS::Logs::LogGroup.RetentionInDays",
            "not one of",
        ),
        (
            "aws:kms/key:Key",
            ("customerMasterKeySpec",),
            "AES_256",
            "AWS::KMS::Key.KeySpec",
            "not one of",
        ),
        (
            "aws:kms/key:Key",
            ("rotationPeriodInDays",),
            3650.0,
            "AWS::KMS::Key.RotationPeriodInDays",
            "above the maximum 2560",
        ),
        (
            "aws:bedrock/guardrail:Guardrail",
            ("contentPolicyConfig", "filtersConfigs", 0, "inputStrength"),
            "VERY_HIGH",
            "AWS::Bedrock::Guardrail.ContentPolicyConfig.FiltersConfig.InputStrength",
            "not one of",
        ),
        (
            "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration",
            ("loggingConfig", "s3Config", "keyPrefix"),
            "x" * 1025,
            "PutModelInvocationLoggingConfiguration",
            "longer than 1024",
        ),
    ],
)
def test_a_value_the_api_rejects_is_reported(
    aws_run: Callable[[str], MockRun],
    type_: str,
    path: tuple[Any, ...],
    value: Any,
    field: str,
    says: str,
) -> None:
    resources = editable(aws_run("bedrock-restricted"))
    target = first(resources, type_)
    holder: Any = target.inputs
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value

    before = {
        str(p) for p in validate("aws", aws_run("bedrock-restricted").custom_resources).problems
    }
    problems = [p for p in validate("aws", resources).problems if str(p) not in before]

    assert {(p.type, p.name) for p in problems} == {(type_, target.name)}
    (problem,) = problems
    assert field in problem.field or field in problem.source
    assert says in problem.message
    assert problem.source.startswith("https://docs.aws.amazon.com/")


#: The workload security group's description in release 0.2.0. EC2 answers
#: "InvalidParameterValue: Invalid security group description. Valid descriptions are
#: strings less than 256 characters from the following set: a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*"
#: (https://github.com/cds-snc/notification-terraform/pull/561; the character set:
#: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html).
OLD_SG_DESCRIPTION = "Workload: no inbound; HTTPS to the VPC's private endpoints"


def test_a_security_group_description_ec2_refuses_is_reported(
    aws_run: Callable[[str], MockRun],
) -> None:
    resources = editable(aws_run("defaults"))
    group = next(r for r in resources if r.name == "network-workload-sg")

    group.inputs["description"] = OLD_SG_DESCRIPTION
    (problem,) = [p for p in validate("aws", resources).problems if p.name == group.name]
    assert problem.field == "AWS::EC2::SecurityGroup.GroupDescription"
    assert "does not match the pattern" in problem.message

    group.inputs["description"] = "Workload: no inbound, HTTPS to the private endpoints of the VPC"
    assert not [p for p in validate("aws", resources).problems if p.name == group.name]


def test_a_region_without_the_type_is_reported(aws_run: Callable[[str], MockRun]) -> None:
    run = aws_run("bedrock-restricted")
    problems = validate("aws", run.custom_resources, region="af-south-1").problems
    lacking = {(p.type, p.field) for p in problems if "does not offer" in p.message}
    assert lacking == {
        ("aws:bedrock/guardrail:Guardrail", "AWS::Bedrock::Guardrail"),
        ("aws:bedrock/guardrailVersion:GuardrailVersion", "AWS::Bedrock::GuardrailVersion"),
    }
    assert not [
        p
        for p in validate("aws", run.custom_resources, region="us-east-1").problems
        if "does not offer" in p.message
    ]


def test_the_region_offering_file_is_current(
    aws_project: Callable[[str], Path], aws_run: Callable[[str], MockRun]
) -> None:
    needed: dict[str, set[str]] = defaultdict(set)
    for name in PROJECTS:
        _, service, types = project_needs(aws_project(name), aws_run(name).resources)
        needed[service] |= types
    assert set(needed) == {"bedrock", "sagemaker"}
    expected = region_types_document(needed)
    assert REGION_TYPES_FILE.read_text(encoding="utf-8") == expected, (
        "stale: run python scripts/gen_region_types.py"
    )


@pytest.mark.parametrize(
    ("service", "region", "names"),
    [
        ("bedrock", "af-south-1", ["AWS::Bedrock::Guardrail"]),
        ("bedrock", "cn-north-1", ["AWS::Bedrock::Guardrail", "api:bedrock"]),
        ("sagemaker", "mx-central-1", ["AWS::SageMaker::Domain"]),
    ],
)
def test_region_problem_names_the_missing_types(
    service: str, region: str, names: list[str]
) -> None:
    message = region_problem("aws", service, region)
    assert message is not None
    assert region in message
    for name in names:
        assert name in message


def test_every_offered_region_hosts_every_service() -> None:
    from aiscaffold_components.catalog import load_catalog

    aws = load_catalog().clouds["aws"]
    regions = {r for group in ("commercial", "government") for r in aws.regions[group]}
    for service in aws.ai_services:
        for region in sorted(regions):
            assert region_problem("aws", service, region) is None, (service, region)
