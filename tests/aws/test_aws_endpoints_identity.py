"""PrivateEndpoints, WorkloadIdentity and SageMakerWorkspace."""

from __future__ import annotations

import pytest
from aiscaffold.testing import MockRun
from aiscaffold_components.aws import (
    ECR_ENDPOINT_SERVICES,
    ENDPOINT_ACTIONS,
    ENDPOINT_SERVICES,
    LAMBDA_VPC_ACTIONS,
    UNSCOPED_ACTIONS,
    LambdaVpcAccess,
    PrivateEndpoints,
    PrivateEndpointsArgs,
    SageMakerWorkspace,
    SageMakerWorkspaceArgs,
    WorkloadIdentity,
    WorkloadIdentityArgs,
    bedrock_model_arns,
    ecr_layer_bucket_arn,
)
from aiscaffold_components.aws.endpoints import ENDPOINT_ACTIONS_WITH
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
SUBNETS = [f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/subnet-{z}" for z in "ab"]
WORKLOAD_SG = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-workload"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LAYERS = f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket"


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


@pytest.mark.parametrize("ai_service", ["bedrock", "sagemaker"])
def test_interface_endpoints_admit_the_account_and_the_workloads_actions(ai_service: str) -> None:
    """Each endpoint admits this account's principals, and only the actions it serves the
    workload; the SageMaker AI API alone as a whole (ENDPOINT_ACTIONS documents why)."""
    services = [*ENDPOINT_SERVICES[ai_service], *ECR_ENDPOINT_SERVICES]
    result = endpoints(tuple(dict.fromkeys(services)))
    checked = set()
    for endpoint in result.of_type(ENDPOINT):
        service = endpoint.inputs["serviceName"].rsplit(f"{REGION}.", 1)[1]
        if endpoint.inputs["vpcEndpointType"] != "Interface" or service == "studio":
            continue
        (st,) = policy(endpoint)["Statement"]
        assert st["Principal"] == {"AWS": "*"} or st["Principal"] == "*"
        assert st["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}
        expected = ENDPOINT_ACTIONS[service]
        if expected is None:
            assert st["Action"] == f"{service.split('.')[0]}:*", service
        else:
            served = ENDPOINT_ACTIONS_WITH["sagemaker.api"].get(service, ())
            added = served if ai_service == "sagemaker" else ()
            assert set(as_list(st["Action"])) == {*expected, *added}, service
            assert not [a for a in as_list(st["Action"]) if "*" in a]
        checked.add(service)
    assert checked == {s for s in services if s != "sagemaker.studio"}


@pytest.mark.parametrize("ai_service", ["bedrock", "sagemaker"])
def test_logs_endpoint_admits_creating_groups_only_for_sagemaker(ai_service: str) -> None:
    """SageMaker AI creates its own log groups as the execution role; in a Bedrock
    network the logs endpoint admits writing to existing groups only."""
    result = endpoints(ENDPOINT_SERVICES[ai_service])
    (st,) = policy(result.one(ENDPOINT, "pe-logs"))["Statement"]
    writes = {"logs:CreateLogStream", "logs:PutLogEvents"}
    if ai_service == "sagemaker":
        assert set(as_list(st["Action"])) == {*writes, "logs:CreateLogGroup"}
    else:
        assert set(as_list(st["Action"])) == writes


def test_workload_actions_pass_their_endpoints(bedrock_endpoints: MockRun) -> None:
    """What the workload role may do through an interface endpoint, the endpoint admits."""
    role_actions = {
        action
        for st in policy(identity().one(ROLE_POLICY))["Statement"]
        if st["Effect"] == "Allow"
        for action in as_list(st["Action"])
    }
    through_endpoints = {
        a for a in role_actions if a.split(":")[0] in ("bedrock", "secretsmanager")
    }
    admitted = {a for actions in ENDPOINT_ACTIONS.values() if actions for a in actions}
    assert through_endpoints and through_endpoints <= admitted


def test_extra_endpoint_actions_widen_only_that_endpoint(bedrock_endpoints: MockRun) -> None:
    push = ["ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage"]
    services = (*ENDPOINT_SERVICES["bedrock"], *ECR_ENDPOINT_SERVICES)
    before = endpoints(services)
    after = endpoints(services, extra_endpoint_actions={"ecr.api": push})
    diff = changes(before, after)
    assert not diff.added and not diff.removed
    assert set(diff.changed_paths) == {"pe-ecr-api"}
    (st,) = policy(after.one(ENDPOINT, "pe-ecr-api"))["Statement"]
    assert set(as_list(st["Action"])) == {*(ENDPOINT_ACTIONS["ecr.api"] or ()), *push}


@pytest.mark.parametrize(
    "extra",
    [{"ecr.api": ["s3:GetObject"]}, {"ecr.api": ["ecr:*"]}, {"sagemaker.studio": ["x:y"]}],
)
def test_extra_endpoint_actions_must_be_named_actions_of_a_created_endpoint(
    extra: dict[str, list[str]],
) -> None:
    with pytest.raises(ValueError, match="extra_endpoint_actions"):
        PrivateEndpoints(
            "pe",
            PrivateEndpointsArgs(
                vpc_id="vpc-1", vpc_cidr="10.0.0.0/16", subnet_ids=["s"], route_table_ids=["r"],
                services=["ecr.api"], bucket_arns=[DATA], tags=TAGS, extra_endpoint_actions=extra,
            ),
        )  # fmt: skip


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


def test_aws_owned_buckets_add_only_object_reads_there(bedrock_endpoints: MockRun) -> None:
    weak = endpoints(aws_owned_bucket_arns=[LAYERS])
    diff = changes(bedrock_endpoints, weak)
    assert not diff.added and not diff.removed
    assert set(diff.changed_paths) == {"pe-s3"}
    before = policy(bedrock_endpoints.one(ENDPOINT, "pe-s3"))["Statement"]
    after = policy(weak.one(ENDPOINT, "pe-s3"))["Statement"]
    assert after[: len(before)] == before
    (added,) = after[len(before) :]
    assert added["Sid"] == "ReadAwsOwnedServiceBuckets"
    assert added["Action"] == "s3:GetObject" and added["Resource"] == f"{LAYERS}/*"


def test_ecr_layer_bucket_is_the_regions_starport_bucket() -> None:
    captured: list[str] = []

    def build() -> None:
        ecr_layer_bucket_arn(partition="aws", region=REGION).apply(captured.append)

    run_component(build)
    assert captured == [LAYERS]


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


def lambda_in_vpc(**overrides: object) -> MockRun:
    return identity(
        lambda_vpc=LambdaVpcAccess(subnet_arns=SUBNETS, security_group_arns=[WORKLOAD_SG]),
        **overrides,
    )


def test_lambda_may_attach_functions_in_the_project_subnets_only(role: MockRun) -> None:
    result = lambda_in_vpc()
    doc = result.one(ROLE_POLICY).inputs["policy"]
    interfaces = f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*"
    create = statement(doc, "LambdaCreatesInterfacesInProjectSubnets")
    assert create["Action"] == "ec2:CreateNetworkInterface"
    assert set(create["Resource"]) == {interfaces, *SUBNETS, WORKLOAD_SG}
    manage = statement(doc, "LambdaManagesItsInterfaces")
    assert manage["Resource"] == interfaces
    describe = statement(doc, "LambdaDescribesInterfaces")
    assert describe["Resource"] == "*"
    assert set(as_list(describe["Action"])) <= set(UNSCOPED_ACTIONS)
    granted = {a for st in (create, manage, describe) for a in as_list(st["Action"])}
    assert granted == set(LAMBDA_VPC_ACTIONS)
    for st in (create, manage, describe):
        # TLS only: EC2 condition keys make Lambda's pre-flight check of the role fail.
        assert st["Condition"] == {"Bool": {"aws:SecureTransport": "true"}}
    # exactly three statements more, nothing else changes
    diff = changes(role, result)
    assert not diff.added and not diff.removed and set(diff.changed_paths) == {"workload-policy"}
    before = {s["Sid"] for s in policy(role.one(ROLE_POLICY))["Statement"]}
    after = {s["Sid"] for s in policy(result.one(ROLE_POLICY))["Statement"]}
    assert after - before == {
        "LambdaCreatesInterfacesInProjectSubnets",
        "LambdaManagesItsInterfaces",
        "LambdaDescribesInterfaces",
    }


def test_lambda_vpc_access_needs_lambda_and_its_network() -> None:
    access = LambdaVpcAccess(subnet_arns=SUBNETS, security_group_arns=[WORKLOAD_SG])
    with pytest.raises(ValueError, match="lambda.amazonaws.com"):
        WorkloadIdentity(
            "w",
            WorkloadIdentityArgs(
                role_name="r", trusted_services=["ecs-tasks.amazonaws.com"], tags=TAGS,
                lambda_vpc=access,
            ),
        )  # fmt: skip
    with pytest.raises(ValueError, match="subnets and security groups"):
        WorkloadIdentity(
            "w",
            WorkloadIdentityArgs(
                role_name="r", trusted_services=["lambda.amazonaws.com"], tags=TAGS,
                lambda_vpc=LambdaVpcAccess(subnet_arns=SUBNETS, security_group_arns=[]),
            ),
        )  # fmt: skip


def test_workload_log_group_is_created_encrypted_and_the_only_one_written() -> None:
    result = identity(
        log_group_name="/unit/test/workload", logs_key_arn=KEY, log_retention_days=400
    )
    group = result.one(LOG_GROUP, "workload-logs")
    assert group.inputs["name"] == "/unit/test/workload"
    assert group.inputs["kmsKeyId"] == KEY
    assert group.inputs["retentionInDays"] == 400
    assert TAGS.items() <= group.inputs["tags"].items()
    write = statement(result.one(ROLE_POLICY).inputs["policy"], "WriteProjectLogs")
    assert set(as_list(write["Action"])) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    arn = group.outputs["arn"]
    assert set(write["Resource"]) == {arn, f"{arn}:log-stream:*"}
    all_actions = {
        a for st in policy(result.one(ROLE_POLICY))["Statement"] for a in as_list(st["Action"])
    }
    assert "logs:CreateLogGroup" not in all_actions
    with pytest.raises(ValueError, match="logs_key_arn"):
        WorkloadIdentity(
            "w",
            WorkloadIdentityArgs(
                role_name="r", trusted_services=["lambda.amazonaws.com"], tags=TAGS,
                log_group_name="/x",
            ),
        )  # fmt: skip


def test_creating_log_groups_adds_exactly_that_grant() -> None:
    groups = [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/*"]
    base = identity(log_group_arns=groups)
    weak = identity(log_group_arns=groups, creates_log_groups=True)
    before = {s["Sid"]: s for s in policy(base.one(ROLE_POLICY))["Statement"]}
    after = {s["Sid"]: s for s in policy(weak.one(ROLE_POLICY))["Statement"]}
    assert set(after) - set(before) == {"CreateServiceLogGroups"}
    assert {sid: after[sid] for sid in before} == before
    added = after["CreateServiceLogGroups"]
    assert added["Action"] == "logs:CreateLogGroup" and added["Resource"] == groups[0]
    assert "logs:CreateLogGroup" not in as_list(before["WriteProjectLogs"]["Action"])


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
