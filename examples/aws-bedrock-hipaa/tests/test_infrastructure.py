"""Offline tests of aws-bedrock-hipaa: the program under Pulumi mocks, its policy pack.

No cloud credentials or Pulumi CLI needed: `pytest` in the project directory.
"""

import os
from pathlib import Path

import pytest
# load_requirements: the first stack's policy settings, for the control tests below.
from aiscaffold.check import evaluate, load_extra_policies, load_requirements  # noqa: F401
from aiscaffold.testing import MockRun, run_program

PROJECT = Path(__file__).resolve().parents[1]
STACK = "dev"
"""The first stack: the control tests at the end of this file check its answers."""
# Every stack of the project (one Pulumi.<stack>.yaml each; `aiscaffold stack add` adds
# them), or the one CI's matrix names in AISCAFFOLD_STACK.
STACKS = (
    [os.environ["AISCAFFOLD_STACK"]]
    if os.environ.get("AISCAFFOLD_STACK")
    else sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in PROJECT.glob("Pulumi.*.yaml"))
)
_RUNS: dict[str, MockRun] = {}


def _run_of(stack: str) -> MockRun:
    if stack not in _RUNS:
        _RUNS[stack] = run_program(PROJECT, stack=stack)
    return _RUNS[stack]


@pytest.fixture(scope="module")
def run() -> MockRun:
    if STACK not in STACKS:
        pytest.skip(f"the control tests check stack {STACK}; this run covers {STACKS}")
    return _run_of(STACK)


@pytest.fixture(scope="module", params=STACKS)
def stack_run(request: pytest.FixtureRequest) -> MockRun:
    return _run_of(str(request.param))


def test_program_runs_without_deprecated_resources(stack_run: MockRun) -> None:
    assert stack_run.custom_resources, "the program created no resource"
    assert not [w for w in stack_run.warnings if "deprecated" in w.lower()]


def test_policy_pack_finds_no_mandatory_violation(stack_run: MockRun) -> None:
    # aiscaffold's policies and the team's own (EXTRA_POLICIES in policy/__main__.py),
    # at the stack's own levels (policy/enforcement.<stack>.yaml, else enforcement.yaml)
    from aiscaffold.stacks import load_stack_requirements

    requirements = load_stack_requirements(PROJECT, stack_run.stack)
    report = evaluate(stack_run, requirements, load_extra_policies(PROJECT))
    mandatory = [f"{f.policy} {f.resource}: {f.message}" for f in report.mandatory]
    assert not mandatory, "\n".join(mandatory)


def test_compliance_md_is_current() -> None:
    # COMPLIANCE.md is the evidence a reviewer reads: it must be what the current
    # __main__.py, Pulumi.<stack>.yaml files and policy/enforcement*.yaml give.
    from aiscaffold.project_reports import stale_compliance

    problem = stale_compliance(PROJECT, runs={s: _run_of(s) for s in STACKS})
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def test_every_taggable_resource_is_classified(stack_run: MockRun) -> None:
    key = "tags"
    sensitivity = stack_run.config["aws-bedrock-hipaa:data_sensitivity"]
    tagged = [r for r in stack_run.custom_resources if key in r.inputs]
    assert tagged
    for resource in tagged:
        labels = resource.inputs[key]
        assert labels.get("data-classification") == sensitivity, resource.name


def _setting(run: MockRun, name: str) -> str:
    """A setting of the stack's profile (Pulumi.dev.yaml)."""
    return run.config["aws-bedrock-hipaa:" + name]


def _statements(document: str) -> list[dict[str, object]]:
    import json

    statements = json.loads(document)["Statement"]
    return statements if isinstance(statements, list) else [statements]


def test_keys_rotate_within_the_profile_period(run: MockRun) -> None:
    keys = run.of_type("aws:kms/key:Key")
    assert keys
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True, key.name
        assert key.inputs["rotationPeriodInDays"] <= int(_setting(run, "key_rotation_days"))
        assert key.inputs["deletionWindowInDays"] >= int(_setting(run, "key_deletion_window_days"))


def test_network_has_no_internet_path_unless_chosen(run: MockRun) -> None:
    gateways = run.of_type("aws:ec2/internetGateway:InternetGateway")
    nat = run.of_type("aws:ec2/natGateway:NatGateway")
    assert not gateways
    assert not nat
    for subnet in run.of_type("aws:ec2/subnet:Subnet"):
        assert subnet.inputs["mapPublicIpOnLaunch"] is False, subnet.name
    assert run.one("aws:ec2/flowLog:FlowLog").inputs["trafficType"] == "ALL"


def test_guardrail_screens_prompt_attacks_at_high(run: MockRun) -> None:
    guardrail = run.one("aws:bedrock/guardrail:Guardrail").inputs
    filters = {f["type"]: f for f in guardrail["contentPolicyConfig"]["filtersConfigs"]}
    assert filters["PROMPT_ATTACK"]["inputStrength"] == "HIGH"
    assert run.of_type("aws:bedrock/guardrailVersion:GuardrailVersion")


def test_trail_is_multi_region_validated_and_encrypted(run: MockRun) -> None:
    trail = run.one("aws:cloudtrail/trail:Trail").inputs
    assert trail["isMultiRegionTrail"] is True
    assert trail["includeGlobalServiceEvents"] is True
    assert trail["enableLogFileValidation"] is True
    assert trail["kmsKeyId"]


def test_buckets_block_public_access_and_deny_plain_http(run: MockRun) -> None:
    blocks = run.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert len(blocks) == len(run.of_type("aws:s3/bucket:Bucket"))
    settings = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for block in blocks:
        for setting in settings:
            assert block.inputs[setting] is True, (block.name, setting)
    for policy in run.of_type("aws:s3/bucketPolicy:BucketPolicy"):
        denies = [s for s in _statements(policy.inputs["policy"]) if s["Effect"] == "Deny"]
        assert any("aws:SecureTransport" in str(s.get("Condition")) for s in denies), policy.name


def test_workload_invokes_chat_models_only_through_the_guardrail(run: MockRun) -> None:
    policy = run.one("aws:iam/rolePolicy:RolePolicy", name="workload-policy").inputs["policy"]
    invoking = [
        s
        for s in _statements(policy)
        if s["Effect"] == "Allow" and "bedrock:InvokeModel" in str(s["Action"])
    ]
    assert invoking
    for statement in invoking:
        guarded = "bedrock:GuardrailIdentifier" in str(statement.get("Condition"))
        assert guarded or "embed" in str(statement["Resource"]), statement


def test_workload_logs_only_to_its_encrypted_group(run: MockRun) -> None:
    policy = run.one("aws:iam/rolePolicy:RolePolicy", name="workload-policy").inputs["policy"]
    granted: list[object] = []
    for statement in _statements(policy):
        action = statement["Action"]
        granted.extend(action if isinstance(action, list) else [action])
    assert "logs:CreateLogGroup" not in granted  # a group it created would use no project key
    group = run.one("aws:cloudwatch/logGroup:LogGroup", name="workload-logs").inputs
    assert group["kmsKeyId"]
    assert group["retentionInDays"] >= int(_setting(run, "log_retention_days"))


def test_model_invocations_are_logged(run: MockRun) -> None:
    logging = run.one(
        "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
    ).inputs["loggingConfig"]
    assert logging["cloudwatchConfig"]["logGroupName"]
    assert logging["s3Config"]["bucketName"]

def test_budgets_notify_the_alert_channel(run: MockRun) -> None:
    """COST-01: each budget is the chosen amount in USD and alerts the alert topic on
    actual and forecasted spend (README.md, "Cost guardrails")."""
    budgets = run.of_type("aws:budgets/budget:Budget")
    amount = int(_setting(run, "monthly_budget"))
    if amount == 0:  # no budget chosen: the anomaly alerts remain
        assert not budgets
        return
    topic = run.one("aws:sns/topic:Topic").inputs["name"]
    assert len(budgets) == 2
    for budget in budgets:
        assert (budget.inputs["limitAmount"], budget.inputs["limitUnit"]) == (str(amount), "USD")
        notes = budget.inputs["notifications"]
        assert {n["notificationType"] for n in notes} == {"ACTUAL", "FORECASTED"}
        for note in notes:
            [arn] = note["subscriberSnsTopicArns"]
            assert arn.endswith(":" + topic), arn
    subscription = run.one("aws:costexplorer/anomalySubscription:AnomalySubscription").inputs
    assert [s["address"] for s in subscription["subscribers"]] == [arn]


def test_security_alarms_route_to_the_alert_channel(run: MockRun) -> None:
    """DET-02, DET-03: every security alarm and the findings rule publish to the alert
    topic and link their section of docs/incident-response.md."""
    from pathlib import Path

    topic = run.one("aws:sns/topic:Topic").inputs["name"]
    playbook = (Path(__file__).parents[1] / "docs" / "incident-response.md").read_text()
    alarms = run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    link = "Runbook: docs/incident-response.md#"
    security = [a for a in alarms if link in a.inputs.get("alarmDescription", "")]
    assert len(security) >= 8
    for alarm in security:
        assert alarm.inputs["actionsEnabled"] is True, alarm.name
        [action] = alarm.inputs["alarmActions"]
        assert action.endswith(":" + topic), alarm.name
        anchor = alarm.inputs["alarmDescription"].rsplit("#", 1)[1]
        assert f'<a id="{anchor}"></a>' in playbook, anchor
    rule = "aws-bedrock-hipaa-dev-high-severity-finding"
    rules = run.of_type("aws:cloudwatch/eventRule:EventRule")
    assert [r.inputs["name"] for r in rules if r.inputs["name"] == rule] == [rule]
    targets = run.of_type("aws:cloudwatch/eventTarget:EventTarget")
    [target] = [t for t in targets if t.inputs["rule"] == rule]
    assert target.inputs["arn"].endswith(":" + topic)
    emails = sorted(
        s.inputs["endpoint"] for s in run.of_type("aws:sns/topicSubscription:TopicSubscription")
    )
    assert emails == sorted([])


def test_every_gateway_method_requires_the_oidc_authorizer(run: MockRun) -> None:
    """With api_gateway private or public (API-01), no route of the gateway is anonymous
    and its authorizer validates the stack's issuer and audience; with none, no gateway
    exists."""
    methods = run.of_type("aws:apigateway/method:Method")
    if _setting(run, "api_gateway") == "none":
        assert not methods
        assert not run.of_type("aws:apigateway/restApi:RestApi")
        return
    assert methods
    for method in methods:
        assert method.inputs["authorization"] == "CUSTOM", method.name
        assert method.inputs["authorizerId"], method.name
    authorizer = run.one("aws:lambda/function:Function", name="gateway-authorizer").inputs
    assert authorizer["environment"]["variables"] == {
        "OIDC_ISSUER": _setting(run, "gateway_oidc_issuer"),
        "OIDC_AUDIENCE": _setting(run, "gateway_oidc_audience"),
    }
    settings = run.one("aws:apigateway/methodSettings:MethodSettings").inputs["settings"]
    assert settings["throttlingRateLimit"] <= float(_setting(run, "gateway_rate_limit"))
    assert settings["throttlingBurstLimit"] <= int(_setting(run, "gateway_burst_limit"))


def _answer(run: MockRun, name: str, default: object) -> object:
    """A per-stack answer of the profile (JSON for lists), ``default`` when unset."""
    import json

    raw = run.config.get("aws-bedrock-hipaa:" + name)
    if raw is None or raw == "":
        return default
    return json.loads(raw) if raw.startswith("[") else raw


def _grants(run: MockRun, policy_name: str) -> set[str]:
    """Actions the Allow statements of a role policy grant."""
    policy = run.one("aws:iam/rolePolicy:RolePolicy", policy_name).inputs["policy"]
    out: set[str] = set()
    for statement in _statements(policy):
        if statement["Effect"] == "Allow":
            actions = statement["Action"]
            out |= {actions} if isinstance(actions, str) else set(actions)
    return out


def test_each_workload_type_has_its_own_identity(run: MockRun) -> None:
    """IAM-05: training and data processing get their own roles, and none of them can
    invoke a model; the inference role cannot write model artifacts."""
    workloads = _answer(run, "workloads", ["inference"])
    assert isinstance(workloads, list)
    policies = {r.name for r in run.of_type("aws:iam/rolePolicy:RolePolicy")}
    invoke = {
        "bedrock:InvokeModel",
        "bedrock:InvokeModelWithResponseStream",
        "sagemaker:InvokeEndpoint",
        "sagemaker:InvokeEndpointWithResponseStream",
    }
    assert ("training-policy" in policies) == ("training" in workloads)
    assert ("data-processing-policy" in policies) == ("data-processing" in workloads)
    for name in ("training-policy", "training-job-policy", "data-processing-policy"):
        if name in policies:
            assert not _grants(run, name) & invoke, name
    if "training" in workloads:
        artifacts = run.one("aws:s3/bucket:Bucket", "model-artifacts-bucket")
        prefix = artifacts.inputs["bucketPrefix"]
        workload = run.one("aws:iam/rolePolicy:RolePolicy", "workload-policy").inputs["policy"]
        assert prefix not in workload


def test_each_workload_type_has_its_own_segment(run: MockRun) -> None:
    """NET-07: subnets of their own for training and data processing, denied the rest of
    the VPC by their network ACL after the listed flows."""
    workloads = _answer(run, "workloads", ["inference"])
    assert isinstance(workloads, list)
    for workload in ("training", "data-processing"):
        acls = [
            a
            for a in run.of_type("aws:ec2/networkAcl:NetworkAcl")
            if a.name == f"{workload}-segment-nacl"
        ]
        assert bool(acls) == (workload in workloads)
        for acl in acls:
            vpc = run.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"]
            for direction in ("ingress", "egress"):
                denies = [e for e in acl.inputs[direction] if e["action"] == "deny"]
                assert [e["cidrBlock"] for e in denies] == [vpc], (acl.name, direction)


def test_replicas_live_in_the_recovery_region(run: MockRun) -> None:
    """REC-01: with dr_region, the curated data (and model artifacts) replicate there,
    encrypted with a key that lives there; without it, nothing replicates."""
    dr_region = _answer(run, "dr_region", "")
    configs = run.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    if not dr_region:
        assert not configs
        return
    provider = run.one("pulumi:providers:aws", "recovery-provider")
    assert provider.inputs["region"] == dr_region
    dr_key = run.one("aws:kms/key:Key", "recovery-dr-key")
    assert dr_key.provider and "recovery-provider" in dr_key.provider
    assert configs
    for config in configs:
        rule = config.inputs["rules"][0]
        assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] == "Enabled"
        replica_key = rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"]
        assert replica_key == dr_key.outputs["arn"], config.name

