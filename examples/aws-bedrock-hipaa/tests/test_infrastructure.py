"""Offline tests of aws-bedrock-hipaa: the program under Pulumi mocks, its policy pack.

No cloud credentials or Pulumi CLI needed: `pytest` in the project directory.
"""

from pathlib import Path

import pytest
from aiscaffold.check import evaluate, load_extra_policies, load_requirements
from aiscaffold.testing import MockRun, run_program

PROJECT = Path(__file__).resolve().parents[1]
STACK = "dev"


@pytest.fixture(scope="module")
def run() -> MockRun:
    return run_program(PROJECT, stack=STACK)


def test_program_runs_without_deprecated_resources(run: MockRun) -> None:
    assert run.custom_resources, "the program created no resource"
    assert not [w for w in run.warnings if "deprecated" in w.lower()]


def test_policy_pack_finds_no_mandatory_violation(run: MockRun) -> None:
    # aiscaffold's policies and the team's own (EXTRA_POLICIES in policy/__main__.py)
    report = evaluate(run, load_requirements(PROJECT), load_extra_policies(PROJECT))
    mandatory = [f"{f.policy} {f.resource}: {f.message}" for f in report.mandatory]
    assert not mandatory, "\n".join(mandatory)


def test_compliance_md_is_current(run: MockRun) -> None:
    # COMPLIANCE.md is the evidence a reviewer reads: it must be what the current
    # __main__.py, Pulumi.<stack>.yaml and policy/enforcement.yaml give.
    from aiscaffold.project_reports import stale_compliance

    problem = stale_compliance(PROJECT, runs={STACK: run})
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def test_every_taggable_resource_is_classified(run: MockRun) -> None:
    key = "tags"
    tagged = [r for r in run.custom_resources if key in r.inputs]
    assert tagged
    for resource in tagged:
        assert resource.inputs[key].get("data-classification") == "restricted", resource.name


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
