"""PrivateEndpoints, WorkloadIdentity and SageMakerWorkspace."""

from __future__ import annotations

import pytest
from aiscaffold.testing import MockRun
from aiscaffold_components.aws import (
    ENDPOINT_SERVICES,
    PrivateEndpoints,
    PrivateEndpointsArgs,
    SageMakerWorkspace,
    SageMakerWorkspaceArgs,
    WorkloadIdentity,
    WorkloadIdentityArgs,
    bedrock_model_arns,
)
from aiscaffold_components.aws.identity import unscoped_statement
from aws.aws_support import (
    ACCOUNT,
    KEY,
    REGION,
    ROLE,
    TAGS,
    as_list,
    changes,
    policy,
    run_component,
    statement,
    untagged,
)

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ROLE_TYPE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
DOMAIN = "aws:sagemaker/domain:Domain"
DATA = "arn:aws:s3:::unit-test-data-abc"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:unit/test/app-AbCdEf"
GUARDRAIL = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/abc123"
CLAUDE = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0"
TITAN = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.titan-embed-text-v2:0"
VPC_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0123"


def endpoints(
    services: tuple[str, ...] = ENDPOINT_SERVICES["bedrock"], **overrides: object
) -> MockRun:
    settings: dict[str, object] = {
        "vpc_id": "vpc-0123",
        "vpc_cidr": "10.0.0.0/16",
        "subnet_ids": ["subnet-a", "subnet-b"],
        "route_table_ids": ["rtb-a", "rtb-b"],
        "services": services,
        "bucket_arns": [DATA],
        "client_security_group_ids": ["sg-workload"],
        "tags": TAGS,
    }
    settings.update(overrides)
    return run_component(lambda: PrivateEndpoints("pe", PrivateEndpointsArgs(**settings)))  # type: ignore[arg-type]


def identity(**overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "role_name": "unit-test-workload",
        "trusted_services": ["lambda.amazonaws.com"],
        "tags": TAGS,
        "model_arns": [CLAUDE],
        "guardrail_arn": GUARDRAIL,
        "guardrail_version": "3",
        "kms_key_arns": [KEY],
        "secret_arns": [SECRET],
        "bucket_arns": [DATA],
    }
    settings.update(overrides)
    return run_component(lambda: WorkloadIdentity("workload", WorkloadIdentityArgs(**settings)))  # type: ignore[arg-type]


def workspace(**overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "vpc_id": "vpc-0123",
        "subnet_ids": ["subnet-a", "subnet-b"],
        "security_group_ids": ["sg-workload"],
        "kms_key_arn": KEY,
        "execution_role_arn": ROLE,
        "execution_role_name": "unit-test-workload",
        "tags": TAGS,
        "domain_name": "unit-test",
    }
    settings.update(overrides)
    return run_component(lambda: SageMakerWorkspace("studio", SageMakerWorkspaceArgs(**settings)))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def bedrock_endpoints() -> MockRun:
    return endpoints()


@pytest.fixture(scope="module")
def role() -> MockRun:
    return identity()


@pytest.fixture(scope="module")
def studio() -> MockRun:
    return workspace()


# ---------------------------------------------------------------- PrivateEndpoints
def service_names(result: MockRun) -> set[str]:
    return {e.inputs["serviceName"] for e in result.of_type(ENDPOINT)}


def test_bedrock_endpoints_with_private_dns(bedrock_endpoints: MockRun) -> None:
    assert service_names(bedrock_endpoints) == {
        f"com.amazonaws.{REGION}.{s}"
        for s in ("bedrock", "bedrock-runtime", "bedrock-agent-runtime", "sts", "logs", "kms",
                  "secretsmanager", "s3")
    }  # fmt: skip
    for endpoint in bedrock_endpoints.of_type(ENDPOINT):
        if endpoint.inputs["vpcEndpointType"] == "Interface":
            assert endpoint.inputs["privateDnsEnabled"] is True
            assert endpoint.inputs["subnetIds"] == ["subnet-a", "subnet-b"]
    assert untagged(bedrock_endpoints, TAGS) == []


def test_sagemaker_endpoints() -> None:
    names = service_names(endpoints(ENDPOINT_SERVICES["sagemaker"]))
    for service in ("sagemaker.api", "sagemaker.runtime", "ecr.api", "ecr.dkr", "sts"):
        assert f"com.amazonaws.{REGION}.{service}" in names
    assert f"aws.sagemaker.{REGION}.studio" in names


def test_endpoint_group_admits_https_from_the_vpc_only(bedrock_endpoints: MockRun) -> None:
    (rule,) = bedrock_endpoints.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["cidrIpv4"]) == (
        443,
        443,
        "10.0.0.0/16",
    )


def test_interface_endpoints_admit_the_account_only(bedrock_endpoints: MockRun) -> None:
    for endpoint in bedrock_endpoints.of_type(ENDPOINT):
        if endpoint.inputs["vpcEndpointType"] != "Interface":
            continue
        (st,) = policy(endpoint)["Statement"]
        assert st["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}
        assert as_list(st["Action"])[0].endswith(":*") and st["Action"] != "*"


def test_s3_gateway_reaches_the_project_buckets_only(bedrock_endpoints: MockRun) -> None:
    gateway = bedrock_endpoints.one(ENDPOINT, "pe-s3")
    assert gateway.inputs["vpcEndpointType"] == "Gateway"
    assert gateway.inputs["routeTableIds"] == ["rtb-a", "rtb-b"]
    (st,) = policy(gateway)["Statement"]
    assert set(st["Resource"]) == {DATA, f"{DATA}/*"}
    assert "s3:*" not in as_list(st["Action"])
    assert st["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}
    rule = bedrock_endpoints.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert rule.inputs["securityGroupId"] == "sg-workload"
    assert rule.inputs["prefixListId"] == gateway.outputs["prefixListId"]


def test_aws_owned_buckets_are_read_only() -> None:
    layers = "arn:aws:s3:::prod-us-east-1-starport-layer-bucket"
    gateway = endpoints(aws_owned_bucket_arns=[layers]).one(ENDPOINT, "pe-s3")
    st = statement(gateway.inputs["policy"], "ReadAwsOwnedServiceBuckets")
    assert st["Action"] == "s3:GetObject" and st["Resource"] == f"{layers}/*"


# ---------------------------------------------------------------- WorkloadIdentity
def test_trust_is_scoped_to_the_services_and_account(role: MockRun) -> None:
    (trust,) = policy(role.one(ROLE_TYPE), "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert role.one(ROLE_TYPE).inputs["name"] == "unit-test-workload"
    assert not [r for r in role.resources if r.type == "aws:iam/accessKey:AccessKey"]
    assert untagged(role, TAGS) == []


def test_models_only_through_the_pinned_guardrail(role: MockRun) -> None:
    doc = role.one(ROLE_POLICY).inputs["policy"]
    allow = statement(doc, "InvokeModelsThroughTheGuardrail")
    assert set(as_list(allow["Action"])) == {
        "bedrock:InvokeModel",
        "bedrock:InvokeModelWithResponseStream",
    }
    assert allow["Resource"] == CLAUDE
    assert allow["Condition"]["StringEquals"] == {"bedrock:GuardrailIdentifier": f"{GUARDRAIL}:3"}
    deny = statement(doc, "DenyModelCallsWithoutTheGuardrail")
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {
        "StringNotEquals": {"bedrock:GuardrailIdentifier": f"{GUARDRAIL}:3"}
    }
    assert statement(doc, "ApplyTheGuardrail")["Resource"] == GUARDRAIL


def test_keys_secrets_and_buckets_are_the_projects_own(role: MockRun) -> None:
    doc = role.one(ROLE_POLICY).inputs["policy"]
    keys = statement(doc, "UseProjectKeysThroughServices")
    assert keys["Resource"] == KEY
    assert keys["Condition"]["StringEquals"]["kms:ViaService"] == [
        f"s3.{REGION}.amazonaws.com",
        f"secretsmanager.{REGION}.amazonaws.com",
    ]
    assert statement(doc, "ReadProjectSecrets")["Resource"] == SECRET
    assert statement(doc, "ListProjectBuckets")["Resource"] == DATA
    assert statement(doc, "ReadWriteProjectObjects")["Resource"] == f"{DATA}/*"
    for st in policy(role.one(ROLE_POLICY))["Statement"]:
        if st["Effect"] == "Allow":
            assert st["Condition"]["Bool"] == {"aws:SecureTransport": "true"}, st["Sid"]


def test_unguarded_models_add_exactly_one_grant(role: MockRun) -> None:
    weak = identity(unguarded_model_arns=[TITAN])
    diff = changes(role, weak)
    assert not diff.added and not diff.removed
    assert set(diff.changed_paths) == {"workload-policy"}
    before = {s["Sid"] for s in policy(role.one(ROLE_POLICY))["Statement"]}
    after = policy(weak.one(ROLE_POLICY))["Statement"]
    assert {s["Sid"] for s in after} - before == {"InvokeUnguardedModels"}
    added = statement(weak.one(ROLE_POLICY).inputs["policy"], "InvokeUnguardedModels")
    assert added["Resource"] == TITAN
    assert "StringEquals" not in added["Condition"]


def test_models_without_a_guardrail_are_refused() -> None:
    with pytest.raises(ValueError, match="guardrail"):
        WorkloadIdentity(
            "w",
            WorkloadIdentityArgs(
                role_name="r", trusted_services=["lambda.amazonaws.com"], tags=TAGS,
                model_arns=[CLAUDE],
            ),
        )  # fmt: skip


def test_unscoped_statements_accept_only_documented_actions() -> None:
    assert unscoped_statement("Login", ["ecr:GetAuthorizationToken"])["resources"] == ["*"]
    with pytest.raises(ValueError, match="s3:GetObject"):
        unscoped_statement("Bad", ["s3:GetObject"])


def test_sagemaker_grants_network_interfaces_in_the_vpc_only() -> None:
    result = identity(
        model_arns=[], network_interface_vpc_arn=VPC_ARN,
        ecr_repository_arns=[f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/unit/*"],
    )  # fmt: skip
    doc = result.one(ROLE_POLICY).inputs["policy"]
    enis = statement(doc, "ManageNetworkInterfacesInTheVpc")
    assert enis["Condition"]["ArnEquals"] == {"ec2:Vpc": VPC_ARN}
    assert all(r.startswith(f"arn:aws:ec2:{REGION}:{ACCOUNT}:") for r in enis["Resource"])
    assert statement(doc, "DescribeNetworkForVpcMode")["Resource"] == "*"
    assert statement(doc, "RegistryLogin")["Action"] == "ecr:GetAuthorizationToken"


def test_model_arns_for_foundation_models_and_inference_profiles() -> None:
    captured: dict[str, list[str]] = {}

    def build() -> None:
        import pulumi

        arns = bedrock_model_arns(
            ["amazon.titan-embed-text-v2:0", "us.anthropic.claude-3-7-sonnet-20250219-v1:0"],
            partition="aws", region=REGION, account_id=ACCOUNT,
        )  # fmt: skip
        pulumi.Output.all(*arns).apply(lambda v: captured.setdefault("arns", list(v)))

    run_component(build)
    assert captured["arns"] == [
        TITAN,
        f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0",
    ]


# -------------------------------------------------------------- SageMakerWorkspace
def test_domain_is_vpc_only_encrypted_and_locked_down(studio: MockRun) -> None:
    domain = studio.one(DOMAIN)
    assert domain.inputs["appNetworkAccessType"] == "VpcOnly"
    assert domain.inputs["authMode"] == "IAM"
    assert domain.inputs["kmsKeyId"] == KEY
    assert domain.inputs["subnetIds"] == ["subnet-a", "subnet-b"]
    settings = domain.inputs["domainSettings"]
    assert settings["dockerSettings"] == {"enableDockerAccess": "DISABLED"}
    assert settings["executionRoleIdentityConfig"] == "USER_PROFILE_NAME"
    user = domain.inputs["defaultUserSettings"]
    assert user["executionRole"] == ROLE
    assert user["sharingSettings"] == {"notebookOutputOption": "Disabled"}
    assert "sg-workload" in user["securityGroups"]
    assert domain.inputs["retentionPolicy"] == {"homeEfsFileSystem": "Retain"}
    assert untagged(studio, TAGS) == []


def test_studio_policy_is_scoped_to_the_domain(studio: MockRun) -> None:
    domain = studio.one(DOMAIN)
    grant = studio.one(ROLE_POLICY)
    assert grant.inputs["role"] == "unit-test-workload"
    apps = statement(grant.inputs["policy"], "StudioAppsAndSpacesOfThisDomain")
    prefix = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
    assert set(apps["Resource"]) == {
        f"{prefix}:app/{domain.id}/*",
        f"{prefix}:space/{domain.id}/*",
    }
    passing = statement(grant.inputs["policy"], "PassTheRoleToSageMakerOnly")
    assert passing["Resource"] == ROLE
    assert passing["Condition"]["StringEquals"] == {
        "iam:PassedToService": "sagemaker.amazonaws.com"
    }


def test_public_internet_access_changes_only_the_network_mode(studio: MockRun) -> None:
    diff = changes(studio, workspace(public_internet_access=True))
    assert not diff.added and not diff.removed
    assert diff.changed == {
        (DOMAIN, "studio-domain"): {"appNetworkAccessType": ("VpcOnly", "PublicInternetOnly")}
    }
