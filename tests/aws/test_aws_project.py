"""The generated AWS project, run under the mocks for several answer sets."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from aiscaffold.testing import MockRun, run_program
from aiscaffold_components.profile import compliance_tag
from aws.aws_support import ACCOUNT, PROJECTS, as_list, policy, statement, untagged

COMPONENTS = {
    f"aiscaffold:aws:{name}"
    for name in (
        "Network",
        "PrivateEndpoints",
        "Keys",
        "WorkloadIdentity",
        "AuditLogging",
        "SecureBucket",
        "Guardrail",
        "Secrets",
    )
}
EXPORTS = {
    "vpc_id",
    "private_subnet_ids",
    "endpoint_ids",
    "key_arns",
    "guardrail_id",
    "guardrail_version",
    "workload_role_arn",
    "log_bucket",
    "data_bucket",
    "trail_arn",
    "secret_arns",
}
KEY = "aws:kms/key:Key"
TRAIL = "aws:cloudtrail/trail:Trail"
INVOCATION = "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
DOMAIN = "aws:sagemaker/domain:Domain"
LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
GUARDRAIL = "aws:bedrock/guardrail:Guardrail"
NAT = "aws:ec2/natGateway:NatGateway"


@pytest.mark.parametrize("project", PROJECTS)
def test_project_runs_clean(project: str, aws_run: Callable[[str], MockRun]) -> None:
    result = aws_run(project)
    assert {r.type for r in result.components} >= COMPONENTS
    assert not [w for w in result.warnings if "deprecated" in w.lower()]
    assert not [r.type for r in result.resources if r.type.split(":")[-1].endswith("V2")]
    assert result.outputs.keys() >= EXPORTS
    assert untagged(result, tags_of(result)) == []
    # Every resource belongs to a component: the program composes, it builds nothing.
    assert all(r.parent and "aiscaffold:aws:" in r.parent for r in result.custom_resources)


def tags_of(result: MockRun) -> dict[str, str]:
    answers = PROJECTS[result.project.removeprefix("aws-")]
    compliance = answers.get("compliance") or []
    return {
        "project": result.project,
        "stack": "dev",
        "data-classification": answers.get("data_sensitivity", "confidential"),
        "managed-by": "aiscaffold",
        "compliance": compliance_tag(compliance),
    }


def test_defaults_are_bedrock_private_and_guarded(aws_run: Callable[[str], MockRun]) -> None:
    result = aws_run("defaults")
    assert not result.of_type(NAT) and not result.of_type(DOMAIN)
    assert result.of_type(INVOCATION)
    assert result.outputs["guardrail_version"] == "1"
    assert set(result.outputs["endpoint_ids"]) >= {"bedrock-runtime", "secretsmanager", "s3"}
    doc = result.one("aws:iam/rolePolicy:RolePolicy", "workload-policy").inputs["policy"]
    guarded = statement(doc, "InvokeModelsThroughTheGuardrail")
    assert "anthropic.claude" in as_list(guarded["Resource"])[0]
    assert "titan-embed" in as_list(statement(doc, "InvokeUnguardedModels")["Resource"])[0]
    # confidential data: prompts and completions stay out of the invocation logs
    config = result.one(INVOCATION).inputs["loggingConfig"]
    assert config["textDataDeliveryEnabled"] is False
    assert not any(r.protect for r in result.of_type(KEY))


def test_bedrock_workload_runs_privately_on_lambda_and_fargate(
    aws_run: Callable[[str], MockRun],
) -> None:
    """Both compute options work in the VPC with no route out: Lambda may attach its
    functions in the project's subnets only; Fargate pulls images through ECR's
    endpoints and its layer bucket; both log to the workload's own encrypted group."""
    result = aws_run("defaults")
    role = result.one("aws:iam/role:Role", "workload-role")
    trusted = policy(role, "assumeRolePolicy")["Statement"][0]["Principal"]["Service"]
    assert set(as_list(trusted)) == {"lambda.amazonaws.com", "ecs-tasks.amazonaws.com"}
    doc = result.one("aws:iam/rolePolicy:RolePolicy", "workload-policy").inputs["policy"]
    create = statement(doc, "LambdaCreatesInterfacesInProjectSubnets")
    subnets = {s.outputs["arn"] for s in result.of_type("aws:ec2/subnet:Subnet")}
    group = result.one("aws:ec2/securityGroup:SecurityGroup", "network-workload-sg")
    assert set(create["Resource"]) - subnets - {group.outputs["arn"]} == {
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:network-interface/*"
    }
    assert subnets <= set(create["Resource"])
    assert statement(doc, "PullProjectImages")["Resource"].endswith(":repository/aws-defaults/*")
    assert {"ecr.api", "ecr.dkr"} <= set(result.outputs["endpoint_ids"])
    gateway = result.one("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-s3").inputs["policy"]
    assert statement(gateway, "ReadAwsOwnedServiceBuckets")["Resource"] == (
        "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"
    )
    logs = result.one("aws:cloudwatch/logGroup:LogGroup", "workload-logs")
    assert (
        logs.inputs["name"] == result.outputs["workload_log_group"] == "/aws-defaults/dev/workload"
    )
    assert logs.inputs["kmsKeyId"] == result.outputs["key_arns"]["logs"]
    statements = policy(result.one("aws:iam/rolePolicy:RolePolicy", "workload-policy"))
    granted = {a for st in statements["Statement"] for a in as_list(st["Action"])}
    assert "logs:CreateLogGroup" not in granted
    # nor may any credential create groups through the logs endpoint (SageMaker AI only)
    (admitted,) = policy(result.one("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-logs"))[
        "Statement"
    ]
    assert set(as_list(admitted["Action"])) == {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_dropping_fargate_drops_what_only_fargate_needs(
    aws_project: Callable[[str], Path], tmp_path: Path
) -> None:
    """on_fargate = False takes away ECS's trust, ECR's endpoints and grants, the layer
    bucket; Lambda keeps its network interfaces."""
    project = tmp_path / "lambda-only"
    shutil.copytree(aws_project("defaults"), project)
    program = project / "__main__.py"
    source = program.read_text()
    assert "on_fargate = True" in source
    program.write_text(source.replace("on_fargate = True", "on_fargate = False"))
    result = run_program(project)
    role = result.one("aws:iam/role:Role", "workload-role")
    trust = policy(role, "assumeRolePolicy")["Statement"][0]["Principal"]["Service"]
    assert as_list(trust) == ["lambda.amazonaws.com"]
    assert not {"ecr.api", "ecr.dkr"} & set(result.outputs["endpoint_ids"])
    gateway = policy(result.one("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-s3"))
    assert [s["Sid"] for s in gateway["Statement"]] == ["ProjectBucketsOnly"]
    workload = policy(result.one("aws:iam/rolePolicy:RolePolicy", "workload-policy"))
    sids = {st["Sid"] for st in workload["Statement"]}
    assert "PullProjectImages" not in sids and "RegistryLogin" not in sids
    assert "LambdaCreatesInterfacesInProjectSubnets" in sids


def test_restricted_hipaa_pci_project_is_locked_down(aws_run: Callable[[str], MockRun]) -> None:
    result = aws_run("bedrock-restricted")
    keys = result.of_type(KEY)
    assert all(k.inputs["rotationPeriodInDays"] == 90 for k in keys)
    assert all(k.inputs["deletionWindowInDays"] == 30 for k in keys)
    assert all(k.protect for k in keys)
    (lock,) = result.of_type(LOCK)
    # The first deployment locks in GOVERNANCE; COMPLIANCE is the second, explicit step.
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "GOVERNANCE", "days": 2192}
    groups = result.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert {g.inputs["retentionInDays"] for g in groups} == {2192}
    assert result.one(TRAIL).protect
    rail = result.one(GUARDRAIL).inputs
    pii = {c["type"] for c in rail["sensitiveInformationPolicyConfig"]["piiEntitiesConfigs"]}
    assert {
        "US_SOCIAL_SECURITY_NUMBER",
        "CREDIT_DEBIT_CARD_NUMBER",
        "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    } <= pii
    strengths = {
        f["type"]: f["inputStrength"] for f in rail["contentPolicyConfig"]["filtersConfigs"]
    }
    assert strengths["HATE"] == "HIGH" and strengths["PROMPT_ATTACK"] == "HIGH"
    topics = {t["name"] for t in rail["topicPolicyConfig"]["topicsConfigs"]}
    assert topics == {"investment advice", "legal advice"}
    secret = result.one("aws:secretsmanager/secret:Secret")
    assert secret.inputs["tags"]["rotation-days"] == "30"
    assert result.one(INVOCATION).inputs["loggingConfig"]["textDataDeliveryEnabled"] is False


def test_sagemaker_project_has_a_vpc_only_domain(aws_run: Callable[[str], MockRun]) -> None:
    result = aws_run("sagemaker-confidential")
    assert "aiscaffold:aws:SageMakerWorkspace" in {r.type for r in result.components}
    domain = result.one(DOMAIN)
    assert domain.inputs["appNetworkAccessType"] == "VpcOnly"
    assert domain.inputs["kmsKeyId"] == result.outputs["key_arns"]["data"]
    assert (
        domain.inputs["defaultUserSettings"]["executionRole"] == result.outputs["workload_role_arn"]
    )
    assert not result.of_type(INVOCATION)
    assert set(result.outputs["endpoint_ids"]) >= {
        "sagemaker.api",
        "sagemaker.runtime",
        "sagemaker.studio",
        "ecr.dkr",
        "bedrock-runtime",
    }
    role = result.one("aws:iam/role:Role", "workload-role")
    trust = policy(role, "assumeRolePolicy")["Statement"][0]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert set(trust["Action"]) == {"sts:AssumeRole", "sts:SetSourceIdentity"}
    gateway = result.one("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoints-s3").inputs["policy"]
    assert "starport-layer-bucket" in str(
        statement(gateway, "ReadAwsOwnedServiceBuckets")["Resource"]
    )
    assert not result.of_type(LOCK)  # confidential + SOC 2: no object lock asked for
    assert result.outputs["sagemaker_domain_id"] == domain.id
    # EFS (the domain's home volume) uses the data key through its own service.
    data_key = next(k for k in result.of_type(KEY) if k.name == "keys-data")
    managed = statement(data_key.inputs["policy"], "ServiceManagedConfiguration")
    assert (
        "elasticfilesystem.us-east-1.amazonaws.com"
        in managed["Condition"]["StringEquals"]["kms:ViaService"]
    )
    assert "kms:GenerateDataKeyWithoutPlaintext" in managed["Action"]
    # SageMaker AI creates its log groups as the execution role: granted, named.
    doc = result.one("aws:iam/rolePolicy:RolePolicy", "workload-policy").inputs["policy"]
    assert statement(doc, "CreateServiceLogGroups")["Resource"].endswith(
        ":log-group:/aws/sagemaker/*"
    )


def test_egress_answer_adds_nat_gateways(aws_run: Callable[[str], MockRun]) -> None:
    assert len(aws_run("egress").of_type(NAT)) == 2


def test_rendered_program_maps_the_profile_visibly(aws_project: Callable[[str], Path]) -> None:
    source = (aws_project("defaults") / "__main__.py").read_text()
    for mapping in (
        "rotation_period_days=profile.key_rotation_days",
        "deletion_window_days=profile.key_deletion_window_days",
        "allow_internet_egress=profile.allow_internet_egress",
        "retention_days=profile.log_retention_days",
        "object_lock=profile.immutable_logs",
        "content_filter_strength=profile.content_filter_strength",
        "pii_action=profile.pii_action",
        "rotation_days=profile.secret_rotation_days",
    ):
        assert mapping in source
    assert "SageMakerWorkspace" not in source
    assert (
        "SageMakerWorkspace(" in (aws_project("sagemaker-confidential") / "__main__.py").read_text()
    )
    readme = (aws_project("defaults") / "README.md").read_text()
    assert "rotation" in readme.lower() and "put-secret-value" in readme
    # what each compute option needs to run without a route out of the VPC
    for needed in ("ecr.api", "ecr.dkr", "starport-layer-bucket", "workload_log_group",
                   "logging_config.log_group", "on_fargate"):  # fmt: skip
        assert needed in readme, needed
