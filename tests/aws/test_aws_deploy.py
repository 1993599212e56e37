"""AWS deploy rules (issue 19, items 1-5): each fix, through the rule that guards it.

For each blocker: on the generated project the rule is silent (or, for an advisory
category, says what it must), and on the configuration that failed at deploy (rebuilt by
editing the captured resources, or by running the component with the old arguments) it
fires with the error the cloud returns.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.testing import AiscaffoldMocks, CapturedResource, MockRun, ProgramError, run
from aiscaffold_components.aws import (
    ENDPOINT_SERVICES,
    Network,
    NetworkArgs,
    SecureBucket,
    SecureBucketArgs,
)
from aiscaffold_components.aws.network import choose_zone_ids
from aiscaffold_components.deploy import DeployContext, DeployRule, deploy_rules
from aiscaffold_components.policies import Resource
from aws.aws_support import ACCOUNT, KEY, REGION, TAGS, run_component, statement
from pulumi.runtime.mocks import MockCallArgs

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
KEY_TYPE = "aws:kms/key:Key"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
SUBNET = "aws:ec2/subnet:Subnet"
INVOCATION = "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
SLEEP = "time:index/sleep:Sleep"
DOMAIN = "aws:sagemaker/domain:Domain"


# ------------------------------------------------------------------ helpers
def rule(rule_id: str) -> DeployRule:
    return next(r for r in deploy_rules("aws") if r.id == rule_id)


def views(resources: list[CapturedResource]) -> list[Resource]:
    return [
        Resource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            props=copy.deepcopy(r.inputs),
            dependencies=tuple(r.dependencies),
        )
        for r in resources
        if r.custom
    ]


def fired(rule_id: str, resources: list[CapturedResource], **config: Any) -> dict[str, list[str]]:
    """The rule's messages by resource name ("(stack)" for the stack)."""
    found: dict[str, list[str]] = {}
    context = DeployContext(cloud="aws", region=REGION, config=config)
    for resource, message in rule(rule_id).evaluate(views(resources), context):
        found.setdefault(resource.name if resource else "(stack)", []).append(message)
    return found


def edited(
    result: MockRun, name: str, change: Callable[[CapturedResource], CapturedResource]
) -> list[CapturedResource]:
    """The run's resources with the one named ``name`` replaced by ``change(it)``."""
    out = []
    hits = 0
    for resource in result.resources:
        if resource.name == name:
            hits += 1
            resource = change(copy.deepcopy(resource))
        out.append(resource)
    assert hits == 1, f"no single resource {name}"
    return out


def with_inputs(resource: CapturedResource, **inputs: Any) -> CapturedResource:
    return dataclasses.replace(resource, inputs={**resource.inputs, **inputs})


def named(result: MockRun, name: str) -> CapturedResource:
    return next(r for r in result.resources if r.name == name)


def deploy_ids(report: Any) -> set[str]:
    return {f.policy for f in report.deploy_findings}


# ------------------------------------------------------------------ 1. CloudTrail's key
def _without_cloudtrail_decrypt(key: CapturedResource) -> CapturedResource:
    """The logs key as release 0.2.0 wrote it: CloudTrail may only GenerateDataKey
    (listed, no wildcard) and DescribeKey, and never decrypt."""
    doc = json.loads(key.inputs["policy"])
    doc["Statement"] = [
        s for s in doc["Statement"] if s["Sid"] != "CloudTrailDecryptsWithBucketKey"
    ]
    for st in doc["Statement"]:
        if st["Sid"] == "CloudTrailEncryptsLogFiles":
            st["Action"] = "kms:GenerateDataKey"
    return with_inputs(key, policy=json.dumps(doc))


@pytest.mark.parametrize("name", ["defaults", "bedrock-restricted", "sagemaker-confidential"])
def test_trail_key_lets_cloudtrail_create_the_trail(
    name: str, aws_run: Callable[[str], MockRun], aws_project: Callable[[str], Path]
) -> None:
    result = aws_run(name)
    assert fired("AWS-DEPLOY-001", result.resources) == {}
    old = edited(result, "keys-logs", _without_cloudtrail_decrypt)
    assert fired("AWS-DEPLOY-001", old) == {
        "keys-logs": [
            "keys-logs does not let CloudTrail kms:Decrypt for trail "
            f"aws-{name}-dev-trail (its log bucket uses an S3 Bucket Key): creating the trail fails"
        ]
    }
    report = evaluate(result, load_requirements(aws_project(name)))
    assert "AWS-DEPLOY-001" not in deploy_ids(report)


def test_trail_key_follows_cloudtrails_guide(aws_run: Callable[[str], MockRun]) -> None:
    doc = named(aws_run("defaults"), "keys-logs").inputs["policy"]
    trail_arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/aws-defaults-dev-trail"
    encrypt = statement(doc, "CloudTrailEncryptsLogFiles")
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"] == {
        "StringEquals": {"aws:SourceArn": trail_arn},
        "StringLike": {
            "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"
        },
    }
    for sid, action in (
        ("CloudTrailDecryptsWithBucketKey", "kms:Decrypt"),
        ("CloudTrailDescribesKey", "kms:DescribeKey"),
    ):
        granted = statement(doc, sid)
        assert granted["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
        assert granted["Action"] == action
        assert granted["Condition"] == {"StringEquals": {"aws:SourceArn": trail_arn}}


def test_trail_key_limited_to_another_trail_fires(aws_run: Callable[[str], MockRun]) -> None:
    def other_trail(key: CapturedResource) -> CapturedResource:
        text = key.inputs["policy"].replace("trail/aws-defaults-dev-trail", "trail/someone-else")
        return with_inputs(key, policy=text)

    old = edited(aws_run("defaults"), "keys-logs", other_trail)
    [message] = fired("AWS-DEPLOY-001", old)["keys-logs"]
    assert (
        "kms:GenerateDataKey, kms:DescribeKey, kms:Decrypt for trail aws-defaults-dev-trail"
        in message
    )
    assert rule("AWS-DEPLOY-001").error.startswith("InsufficientEncryptionPolicyException")


def test_generated_program_sets_log_readers(
    aws_project: Callable[[str], Path], aws_run: Callable[[str], MockRun]
) -> None:
    auditor = f"arn:aws:iam::{ACCOUNT}:role/auditor"
    from aiscaffold.testing import run_program

    result = run_program(aws_project("defaults"), config={"log_reader_arns": json.dumps([auditor])})
    readers = statement(named(result, "keys-logs").inputs["policy"], "AuditorsReadLogFiles")
    assert readers["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    assert readers["Condition"]["ArnEquals"] == {"aws:PrincipalArn": auditor}
    assert readers["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    # Nobody by default: the key policy names no reader.
    sids = {
        s["Sid"]
        for s in json.loads(named(aws_run("defaults"), "keys-logs").inputs["policy"])["Statement"]
    }
    assert "AuditorsReadLogFiles" not in sids


# ------------------------------------------------------------------ 2. access-log targets
def _sse_kms(config: CapturedResource) -> CapturedResource:
    """An access-log bucket encrypted with the logs key, as release 0.2.0 made it."""
    return with_inputs(
        config,
        rules=[
            {
                "applyServerSideEncryptionByDefault": {
                    "sseAlgorithm": "aws:kms",
                    "kmsMasterKeyId": KEY,
                },
                "bucketKeyEnabled": True,
                "blockedEncryptionTypes": ["SSE-C"],
            }
        ],
    )


def test_access_log_bucket_is_sse_s3(
    aws_run: Callable[[str], MockRun], aws_project: Callable[[str], Path]
) -> None:
    result = aws_run("defaults")
    [rule_] = named(result, "audit-access-logs-encryption").inputs["rules"]
    assert rule_["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert rule_["blockedEncryptionTypes"] == ["SSE-C"]
    assert fired("AWS-DEPLOY-002", result.resources) == {}
    old = edited(result, "audit-access-logs-encryption", _sse_kms)
    assert fired("AWS-DEPLOY-002", old) == {
        "audit-access-logs-encryption": [
            "audit-access-logs-encryption encrypts a server access log target with aws:kms: "
            "S3 delivers no access logs into it"
        ]
    }
    report = evaluate(result, load_requirements(aws_project("defaults")))
    assert "AWS-DEPLOY-002" not in deploy_ids(report)
    assert not [f for f in report.findings if f.policy == "AWS-S3-002"]


def test_s3_002_judges_targets_and_other_buckets_apart(
    aws_run: Callable[[str], MockRun], aws_project: Callable[[str], Path]
) -> None:
    result = aws_run("defaults")
    requirements = load_requirements(aws_project("defaults"))

    def s3_002(resources: list[CapturedResource]) -> set[str]:
        changed = dataclasses.replace(result, resources=resources)
        return {
            f.resource
            for f in evaluate(changed, requirements).findings
            if f.policy == "AWS-S3-002" and f.outcome == "violation"
        }

    # The access-log target on SSE-KMS: S3-002 asks for SSE-S3 there.
    assert s3_002(edited(result, "audit-access-logs-encryption", _sse_kms)) == {
        "audit-access-logs-encryption"
    }

    # Any other bucket on SSE-S3: still a violation (never weaker elsewhere).
    def sse_s3(config: CapturedResource) -> CapturedResource:
        return with_inputs(
            config,
            rules=[
                {
                    "applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"},
                    "blockedEncryptionTypes": ["SSE-C"],
                }
            ],
        )

    assert s3_002(edited(result, "data-encryption", sse_s3)) == {"data-encryption"}
    assert s3_002(edited(result, "audit-logs-encryption", sse_s3)) == {"audit-logs-encryption"}


def test_secure_bucket_access_log_target_arguments() -> None:
    target = run_component(
        lambda: SecureBucket(
            "logs",
            SecureBucketArgs(
                kms_key_arn=None,
                server_access_log_target=True,
                tags=TAGS,
                server_access_logging=False,
            ),
        )
    )
    assert fired("AWS-DEPLOY-002", target.resources) == {}
    [sse] = target.of_type(SSE)
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "AES256"
    }
    with pytest.raises(ProgramError, match="pass kms_key_arn=None"):
        run_component(
            lambda: SecureBucket(
                "logs",
                SecureBucketArgs(
                    kms_key_arn=KEY,
                    server_access_log_target=True,
                    tags=TAGS,
                    server_access_logging=False,
                ),
            )
        )
    with pytest.raises(ProgramError, match="kms_key_arn is required"):
        run_component(
            lambda: SecureBucket(
                "data", SecureBucketArgs(kms_key_arn=None, tags=TAGS, access_log_bucket="x")
            )
        )


def test_bootstrap_access_log_bucket_is_sse_s3() -> None:
    text = (TEMPLATES / "includes" / "aws" / "bootstrap.py.jinja").read_text()
    assert "server_access_log_target=True" in text
    assert 'logging.s3.amazonaws.com"], "actions": ["kms' not in text
    assert "S3ServerAccessLogDelivery" not in text


# ------------------------------------------------------------------ 3. SageMaker home volume
def test_sagemaker_retained_home_volume_is_reported(
    aws_run: Callable[[str], MockRun], aws_project: Callable[[str], Path]
) -> None:
    result = aws_run("sagemaker-confidential")
    [domain] = result.of_type(DOMAIN)
    assert domain.inputs["retentionPolicy"] == {"homeEfsFileSystem": "Retain"}
    [message] = fired("AWS-DEPLOY-003", result.resources)["studio-domain"]
    assert "scripts/sagemaker-cleanup.sh" in message
    report = evaluate(result, load_requirements(aws_project("sagemaker-confidential")))
    [finding] = [f for f in report.deploy_findings if f.policy == "AWS-DEPLOY-003"]
    assert finding.level == "advisory"
    assert "DependencyViolation" in finding.message
    # A domain deleting its home volume leaves nothing behind; no domain, nothing to say.
    deleting = edited(
        result,
        "studio-domain",
        lambda d: with_inputs(d, retentionPolicy={"homeEfsFileSystem": "Delete"}),
    )
    assert fired("AWS-DEPLOY-003", deleting) == {}
    assert fired("AWS-DEPLOY-003", aws_run("defaults").resources) == {}
    assert "sagemaker_home_efs_id" in result.outputs


def _cleanup_script() -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined
    )
    return env.get_template("includes/aws/sagemaker-cleanup.sh.jinja").render(project_name="my-app")


def test_sagemaker_cleanup_script_is_valid_bash_reading_the_stack(tmp_path: Path) -> None:
    script = _cleanup_script()
    path = tmp_path / "sagemaker-cleanup.sh"
    path.write_text(script)
    bash = shutil.which("bash")
    assert bash is not None
    checked = subprocess.run([bash, "-n", str(path)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    # It finds the domain through the stack outputs the program exports.
    for output in ("sagemaker_domain_id", "sagemaker_home_efs_id", "region", "vpc_id"):
        assert f"output {output})" in script
    # Destructive steps run only with --yes; the home volume goes only when asked.
    assert 'if [[ "$apply" == true ]]; then "$@"; fi' in script
    assert 'if [[ "$delete_volume" == true ]]; then' in script
    for step in (
        "delete-app",
        "delete-space",
        "delete-user-profile",
        "delete-domain",
        "delete-mount-target",
        "delete-security-group",
    ):
        assert (
            f"run aws {'efs' if 'mount' in step else 'ec2' if 'security' in step else 'sagemaker'} {step}"
            in script
        )


def test_sagemaker_readme_documents_the_cleanup(aws_project: Callable[[str], Path]) -> None:
    sagemaker = (aws_project("sagemaker-confidential") / "README.md").read_text()
    assert "### Destroying a SageMaker AI domain" in sagemaker
    assert "bash scripts/sagemaker-cleanup.sh --yes" in sagemaker
    assert "Destroying a SageMaker" not in (aws_project("defaults") / "README.md").read_text()


# ------------------------------------------------------------------ 4. Bedrock logging
def test_invocation_logging_is_account_wide_and_waits_for_its_role(
    aws_run: Callable[[str], MockRun], aws_project: Callable[[str], Path]
) -> None:
    result = aws_run("bedrock-restricted")
    [config] = result.of_type(INVOCATION)
    sleep = named(result, "audit-bedrock-invocations-role-propagation")
    policy = named(result, "audit-bedrock-invocations-role-policy")
    assert sleep.inputs["createDuration"] == "30s"
    assert policy.urn in sleep.dependencies
    assert {policy.urn, sleep.urn} <= set(config.dependencies)
    assert fired("AWS-DEPLOY-005", result.resources) == {}
    [account_wide] = fired("AWS-DEPLOY-004", result.resources)["audit-bedrock-invocation-logging"]
    assert (
        "pulumi import aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration audit-bedrock-invocation-logging us-east-1"
        in account_wide
    )
    report = evaluate(result, load_requirements(aws_project("bedrock-restricted")))
    assert {
        f.policy: f.level
        for f in report.deploy_findings
        if f.policy in ("AWS-DEPLOY-004", "AWS-DEPLOY-005")
    } == {"AWS-DEPLOY-004": "advisory"}


def test_invocation_logging_without_the_wait_fires(aws_run: Callable[[str], MockRun]) -> None:
    result = aws_run("bedrock-restricted")
    sleep = named(result, "audit-bedrock-invocations-role-propagation")
    policy = named(result, "audit-bedrock-invocations-role-policy")

    def drop(*urns: str) -> Callable[[CapturedResource], CapturedResource]:
        return lambda c: dataclasses.replace(
            c, dependencies=tuple(d for d in c.dependencies if d not in urns)
        )

    # Release 0.2.0: the configuration depended on the log bucket only.
    old = edited(result, "audit-bedrock-invocation-logging", drop(policy.urn, sleep.urn))
    assert fired("AWS-DEPLOY-005", old) == {
        "audit-bedrock-invocation-logging": [
            "audit-bedrock-invocation-logging does not depend on "
            "audit-bedrock-invocations-role-policy: Bedrock may check the role before it may "
            "write to the log group"
        ]
    }
    # Ordered after the policy but without a wait for IAM to propagate it.
    no_wait = edited(result, "audit-bedrock-invocation-logging", drop(sleep.urn))
    assert fired("AWS-DEPLOY-005", no_wait) == {
        "audit-bedrock-invocation-logging": [
            "audit-bedrock-invocation-logging does not wait for IAM to propagate "
            "audit-bedrock-invocations-role-policy (no time Sleep created after it)"
        ]
    }
    assert "Failed to validate permissions for log group" in rule("AWS-DEPLOY-005").error


def test_shared_account_services_create_no_invocation_logging(
    render_project: Callable[..., Path],
) -> None:
    from aiscaffold.testing import run_program

    project = render_project(
        project_name="aws-shared", cloud="aws", ai_service="bedrock", account_services="shared"
    )
    result = run_program(project)
    assert not result.of_type(INVOCATION)
    assert not result.of_type(SLEEP)
    logs_key = json.loads(named(result, "keys-logs").inputs["policy"])
    assert "BedrockInvocationLogDelivery" not in {s["Sid"] for s in logs_key["Statement"]}
    report = evaluate(result, load_requirements(project))
    assert not {"AWS-DEPLOY-004", "AWS-DEPLOY-005"} & deploy_ids(report)
    # Not a gap in this stack's evidence: the owner of the account's services logs.
    assert not [f for f in report.findings if f.policy == "AWS-BEDROCK-009"]
    readme = (project / "README.md").read_text()
    assert "Account-wide services are shared" in readme
    assert "Account-wide services belong to this stack" not in readme


def test_this_stack_readme_says_how_to_import(aws_project: Callable[[str], Path]) -> None:
    readme = (aws_project("bedrock-restricted") / "README.md").read_text()
    assert "Account-wide services belong to this stack" in readme
    assert (
        "pulumi import aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration audit-bedrock-invocation-logging"
        in readme
    )


# ------------------------------------------------------------------ 5. subnets by zone id
def test_endpoint_subnets_are_placed_by_zone_id(
    aws_run: Callable[[str], MockRun], aws_project: Callable[[str], Path]
) -> None:
    result = aws_run("defaults")
    zone_ids = {s.name: s.inputs["availabilityZoneId"] for s in result.of_type(SUBNET)}
    assert zone_ids == {"network-private-a": "use1-az1", "network-private-b": "use1-az2"}
    assert fired("AWS-DEPLOY-006", result.resources) == {}
    report = evaluate(result, load_requirements(aws_project("defaults")))
    assert "AWS-DEPLOY-006" not in deploy_ids(report)

    def by_name(subnet: CapturedResource) -> CapturedResource:
        inputs = {k: v for k, v in subnet.inputs.items() if k != "availabilityZoneId"}
        return dataclasses.replace(subnet, inputs={**inputs, "availabilityZone": "us-east-1a"})

    old = edited(result, "network-private-a", by_name)
    assert fired("AWS-DEPLOY-006", old) == {
        "network-private-a": [
            "network-private-a holds interface endpoints and is placed by zone name "
            "us-east-1a: the zone may not offer every endpoint service"
        ]
    }


class _PartialZones(AiscaffoldMocks):
    """Mocks of a region where some endpoint services skip the first zone."""

    def __init__(self, missing: dict[str, set[str]]) -> None:
        super().__init__({"aws:region": REGION})
        self.missing = missing
        self.asked: list[str] = []

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        result, failures = super().call(args)
        if args.token == "aws:ec2/getVpcEndpointService:getVpcEndpointService":
            service = str(result["serviceName"]).rsplit(".", 1)[-1]
            self.asked.append(service)
            result = {
                **result,
                "availabilityZones": [
                    z
                    for z in result["availabilityZones"]
                    if z not in self.missing.get(service, set())
                ],
            }
        return result, failures


def _network(mocks: _PartialZones, services: tuple[str, ...]) -> MockRun:
    return run(
        lambda: Network(
            "network", NetworkArgs(tags=TAGS, logs_key_arn=KEY, endpoint_services=services)
        ),
        project="unit",
        stack="test",
        config={"aws:region": REGION},
        mocks=mocks,
    )


def test_network_avoids_zones_without_the_endpoint_services() -> None:
    mocks = _PartialZones({"bedrock-runtime": {f"{REGION}a"}})
    result = _network(mocks, ENDPOINT_SERVICES["bedrock"])
    assert {s.inputs["availabilityZoneId"] for s in result.of_type(SUBNET)} == {
        "use1-az2",
        "use1-az3",
    }
    # Every interface service was asked about.
    assert sorted(mocks.asked) == sorted(ENDPOINT_SERVICES["bedrock"])
    # Zones stay those of release 0.2.0 when every zone offers the services.
    plain = _network(_PartialZones({}), ENDPOINT_SERVICES["bedrock"])
    # Keyed by name: the mocks capture a resource when its inputs resolve, so the order
    # of two subnets waiting on the same zone lookup is not the order they were declared.
    assert {s.name: s.inputs["availabilityZoneId"] for s in plain.of_type(SUBNET)} == {
        "network-private-a": "use1-az1",
        "network-private-b": "use1-az2",
    }


def test_network_fails_clearly_without_enough_zones() -> None:
    with pytest.raises(ProgramError, match="kms is not offered in us-east-1a, us-east-1b"):
        _network(_PartialZones({"kms": {f"{REGION}a", f"{REGION}b"}}), ("kms", "sts"))


def test_choose_zone_ids_keeps_the_regions_order() -> None:
    names, ids = ["x1a", "x1b", "x1c", "x1d"], ["az1", "az2", "az3", "az4"]
    offered = {"a": ["x1a", "x1c", "x1d"], "b": ["x1c", "x1d", "x1b"]}
    assert choose_zone_ids(names, ids, offered, 2) == ["az3", "az4"]
    assert choose_zone_ids(names, ids, {}, 2) == ["az1", "az2"]
    with pytest.raises(ValueError, match="fewer than az_count=3"):
        choose_zone_ids(names, ids, offered, 3)


# ------------------------------------------------------------------ registry
def test_aws_deploy_rules_cite_their_sources() -> None:
    rules = {r.id: r for r in deploy_rules("aws") if r.id.startswith("AWS-")}
    assert {k: v.category for k, v in rules.items()} == {
        "AWS-DEPLOY-001": "deploy-failure",
        "AWS-DEPLOY-002": "deploy-failure",
        "AWS-DEPLOY-003": "irreversible",
        "AWS-DEPLOY-004": "account-wide",
        "AWS-DEPLOY-005": "deploy-failure",
        "AWS-DEPLOY-006": "deploy-failure",
        "AWS-DEPLOY-007": "irreversible",
        "AWS-DEPLOY-008": "account-wide",
        "AWS-DEPLOY-009": "deploy-failure",
        "AWS-DEPLOY-020": "deploy-failure",
        "AWS-DEPLOY-021": "deploy-failure",
        "AWS-DEPLOY-022": "account-wide",
        "AWS-DEPLOY-023": "deploy-failure",
        "AWS-DEPLOY-024": "account-wide",
        "AWS-DEPLOY-030": "account-wide",
        "AWS-DEPLOY-031": "deploy-failure",
        "AWS-DEPLOY-032": "deploy-failure",
        "AWS-DEPLOY-033": "deploy-failure",
        "AWS-DEPLOY-034": "deploy-failure",
        "AWS-DEPLOY-035": "deploy-failure",
        "AWS-DEPLOY-036": "deploy-failure",
    }
    for r in rules.values():
        assert r.source.startswith("https://") and r.error and r.description


# ------------------------------------------------------------------ 7. final object lock
def test_the_final_object_lock_is_a_second_explicit_step(
    aws_project: Callable[[str], Path],
) -> None:
    """The first `pulumi up` locks in GOVERNANCE (liftable), reported by AWS-S3-016 under a
    visible exception; `lock_log_archive` makes it COMPLIANCE, which AWS-DEPLOY-007 names
    as irreversible."""
    from aiscaffold.check import evaluate, load_requirements
    from aiscaffold.testing import run_program

    project = aws_project("bedrock-restricted")
    requirements = load_requirements(project)
    assert requirements.overrides["AWS-S3-016"].level == "advisory"
    assert "lock_log_archive" in requirements.overrides["AWS-S3-016"].reason

    first = evaluate(run_program(project), requirements)
    assert not [f for f in first.deploy_findings if f.policy == "AWS-DEPLOY-007"]
    pending = [f for f in first.violations if f.policy == "AWS-S3-016"]
    assert pending and all(f.level == "advisory" for f in pending)
    assert not first.mandatory, "the first deploy is not blocked by the pending lock"

    locked = evaluate(run_program(project, config={"lock_log_archive": True}), requirements)
    (lock,) = locked.deploy_findings and [
        f for f in locked.deploy_findings if f.policy == "AWS-DEPLOY-007"
    ]
    assert lock.category == "irreversible" and "COMPLIANCE" in lock.message
    assert not [f for f in locked.violations if f.policy in ("AWS-S3-012", "AWS-S3-016")]
