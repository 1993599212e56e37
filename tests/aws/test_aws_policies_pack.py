"""The AWS pack as a whole: its manifest, unknown values during preview, generated projects."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.cli import main
from aiscaffold.testing import CapturedResource, MockRun
from aiscaffold_components.policies import Requirements, ResourcePolicy, StackPolicy, registry
from aws.aws_policy_support import (
    STACK,
    TAGS,
    check,
    flagged,
    only,
    patched,
    requirements,
    res,
    unknown,
)
from aws.aws_support import PROJECTS
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

#: Every AWS policy and its level for an internal-data Bedrock project without
#: frameworks: a rule dropped or a level changed by a refactoring shows up here.
MANIFEST = {
    # The AI gateway (API-01..05): mandatory from restricted data (API-05 from
    # confidential), advisory for internal data.
    "AWS-API-001": "advisory",
    "AWS-API-002": "advisory",
    "AWS-API-003": "advisory",
    "AWS-API-004": "advisory",
    "AWS-API-005": "advisory",
    "AWS-API-006": "advisory",
    "AWS-API-007": "advisory",
    "AWS-BEDROCK-001": "mandatory",
    "AWS-BEDROCK-002": "mandatory",
    "AWS-BEDROCK-003": "advisory",
    "AWS-BEDROCK-004": "mandatory",
    "AWS-BEDROCK-005": "mandatory",
    "AWS-BEDROCK-006": "mandatory",
    "AWS-BEDROCK-007": "advisory",
    "AWS-BEDROCK-008": "advisory",
    "AWS-BEDROCK-009": "advisory",
    "AWS-DET-001": "advisory",
    "AWS-DET-002": "advisory",
    "AWS-DET-003": "advisory",
    "AWS-DET-004": "advisory",
    "AWS-DET-005": "advisory",
    "AWS-DET-006": "advisory",
    "AWS-DET-007": "advisory",
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
    "AWS-EC2-013": "advisory",
    "AWS-COST-001": "advisory",
    "AWS-COST-002": "advisory",
    "AWS-COST-003": "advisory",
    "AWS-COST-004": "advisory",
    "AWS-COST-005": "advisory",
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
    "AWS-IAM-008": "advisory",
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
    "AWS-S3-016": "advisory",
    "AWS-S3-017": "advisory",
    "AWS-S3-018": "advisory",
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
    "AWS-SNS-001": "mandatory",
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
S, B, N, OBJ, A = (
    UNKNOWN_STRING_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_ARRAY_VALUE,
)
AWS_POLICIES = {p.id for p in registry("aws")}
STACK_POLICIES = {p.id for p in registry("aws") if isinstance(p, StackPolicy)}


class Unknown(NamedTuple):
    """A value a policy reads, made unknown in a generated project's resources."""

    project: str
    """The generated project (``PROJECTS``) whose run the case starts from."""
    resource: str
    path: str
    """Dotted path of the input (a numeric segment indexes a list)."""
    sentinel: str
    drop: tuple[str, ...] = ()
    """Resources removed first, for a policy that reads the value in another stack shape."""
    known: frozenset[str] = frozenset()
    """What the policy flags in the started-from run, where the value is known."""
    given: Mapping[str, Mapping[str, Any]] = {}
    """Inputs set first (by resource name, dotted paths), so the policy has a present value
    to judge where the generated project leaves the input out (absent is not judged)."""


DEFAULTS, SAGEMAKER, RESTRICTED = "defaults", "sagemaker-confidential", "bedrock-restricted"
#: Alert e-mails answered, threat detection shared, the SIEM export on (issue 15).
SHARED = "shared-siem"
#: The public AI gateway (issue 20), with its Lambda backend.
GATEWAY = "gateway-public"
#: What a user adds to the SageMaker project's program: a notebook instance (no component
#: creates one), so the notebook policies have a resource to read.
NOTEBOOK = "studio-notebook"
#: ... and an endpoint configuration of one instance (COST-03 bounds its capacity).
ENDPOINT_CONFIG = "studio-endpoint-config"
#: Every AWS policy but those in READS_NO_VALUE: a value it reads, set to pulumi-policy's
#: unknown sentinel as ``pulumi preview`` sends it when the value comes from a resource
#: not created yet (ARNs, ids, names, documents built with Output.json_dumps) or from an
#: expression on one.
UNKNOWN: dict[str, Unknown] = {
    "AWS-API-001": Unknown(GATEWAY, "gateway-root-any", "authorization", S),
    "AWS-API-002": Unknown(GATEWAY, "gateway-jwt", "identitySource", S),
    "AWS-API-003": Unknown(GATEWAY, "gateway-settings", "settings.throttlingRateLimit", N),
    "AWS-API-004": Unknown(GATEWAY, "gateway-waf", "rules", A),
    "AWS-API-005": Unknown(GATEWAY, "gateway-stage", "accessLogSettings.destinationArn", S),
    "AWS-API-006": Unknown(GATEWAY, "gateway-api", "securityPolicy", S),
    "AWS-API-007": Unknown(GATEWAY, "gateway-backend-invoke", "sourceArn", S),
    "AWS-BEDROCK-001": Unknown(
        DEFAULTS, "guardrail-guardrail", "contentPolicyConfig.filtersConfigs", A
    ),
    "AWS-BEDROCK-002": Unknown(DEFAULTS, "guardrail-guardrail", "contentPolicyConfig", OBJ),
    "AWS-BEDROCK-003": Unknown(
        DEFAULTS, "guardrail-guardrail", "sensitiveInformationPolicyConfig.piiEntitiesConfigs", A
    ),
    "AWS-BEDROCK-004": Unknown(
        RESTRICTED, "guardrail-guardrail", "topicPolicyConfig.topicsConfigs", A
    ),
    "AWS-BEDROCK-005": Unknown(DEFAULTS, "guardrail-guardrail", "kmsKeyArn", S),
    "AWS-BEDROCK-006": Unknown(DEFAULTS, "guardrail-version", "guardrailArn", S),
    "AWS-BEDROCK-007": Unknown(
        DEFAULTS,
        "audit-bedrock-invocation-logging",
        "loggingConfig.cloudwatchConfig.logGroupName",
        S,
    ),
    "AWS-BEDROCK-008": Unknown(
        DEFAULTS, "audit-bedrock-invocation-logging", "loggingConfig.textDataDeliveryEnabled", B
    ),
    # Any workload resource (the VPC, the guardrail, the logging itself) decides without a
    # value; a stack of roles alone is judged by whether a role is a workload's.
    "AWS-BEDROCK-009": Unknown(
        DEFAULTS,
        "workload-role",
        "assumeRolePolicy",
        S,
        drop=("network-vpc", "guardrail-guardrail", "audit-bedrock-invocation-logging"),
        known=frozenset({STACK}),
    ),
    "AWS-BEDROCK-010": Unknown(
        DEFAULTS, "audit-bedrock-invocation-logging", "loggingConfig.s3Config.bucketName", S
    ),
    "AWS-BEDROCK-011": Unknown(DEFAULTS, "workload-policy", "policy", S),
    "AWS-EC2-002": Unknown(DEFAULTS, "network-private-a", "mapPublicIpOnLaunch", B),
    "AWS-EC2-003": Unknown(DEFAULTS, "network-main-routes", "routes", A),
    "AWS-EC2-004": Unknown(DEFAULTS, "network-default-sg", "ingress", A),
    "AWS-EC2-005": Unknown(DEFAULTS, "network-default-nacl", "egress", A),
    "AWS-EC2-006": Unknown(DEFAULTS, "endpoints-https-from-vpc", "cidrIpv4", S),
    "AWS-EC2-007": Unknown(DEFAULTS, "network-workload-https-to-vpc", "cidrIpv4", S),
    "AWS-EC2-008": Unknown(DEFAULTS, "network-private-nacl", "ingress.0.cidrBlock", S),
    "AWS-EC2-009": Unknown(DEFAULTS, "network-flow-log", "logDestination", S),
    "AWS-EC2-010": Unknown(DEFAULTS, "network-flow-log", "vpcId", S),
    "AWS-EC2-011": Unknown(DEFAULTS, "network-vpc", "enableDnsHostnames", B),
    "AWS-EC2-012": Unknown(SAGEMAKER, "studio-apps-in", "securityGroupId", S),
    # Issue 17: the restricted project chose every workload type and a recovery region.
    "AWS-EC2-013": Unknown(RESTRICTED, "training-segment-a", "cidrBlock", S),
    "AWS-GOV-001": Unknown(DEFAULTS, "data-bucket", "tags", OBJ),
    "AWS-GOV-002": Unknown(DEFAULTS, "network-private-a", "availabilityZone", S),
    "AWS-GOV-003": Unknown(RESTRICTED, "audit-trail", "cloudWatchLogsGroupArn", S),
    "AWS-IAM-002": Unknown(DEFAULTS, "workload-role", "assumeRolePolicy", S),
    "AWS-IAM-003": Unknown(DEFAULTS, "workload-policy", "policy", S),
    "AWS-IAM-004": Unknown(
        DEFAULTS,
        "workload-role",
        "managedPolicyArns",
        A,
        given={
            "workload-role": {
                "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonBedrockReadOnly"]
            }
        },
    ),
    "AWS-IAM-005": Unknown(DEFAULTS, "workload-policy", "role", S),
    "AWS-IAM-006": Unknown(SAGEMAKER, "workload-role", "assumeRolePolicy", S),
    "AWS-IAM-007": Unknown(SAGEMAKER, "studio-studio-policy", "policy", S),
    "AWS-IAM-008": Unknown(RESTRICTED, "training-policy", "policy", S),
    "AWS-KMS-001": Unknown(DEFAULTS, "keys-data", "enableKeyRotation", B),
    "AWS-KMS-002": Unknown(DEFAULTS, "keys-data", "rotationPeriodInDays", N),
    "AWS-KMS-003": Unknown(DEFAULTS, "keys-data", "deletionWindowInDays", N),
    "AWS-KMS-004": Unknown(DEFAULTS, "keys-data", "policy", S),
    "AWS-KMS-005": Unknown(DEFAULTS, "keys-data", "bypassPolicyLockoutSafetyCheck", B),
    "AWS-KMS-006": Unknown(DEFAULTS, "keys-data", "multiRegion", B),
    # Under preview the stack policy sees outputs: a new key's ARN is unknown.
    "AWS-KMS-007": Unknown(DEFAULTS, "keys-data", "arn", S),
    "AWS-LOGS-001": Unknown(DEFAULTS, "workload-logs", "kmsKeyId", S),
    "AWS-LOGS-002": Unknown(DEFAULTS, "workload-logs", "retentionInDays", N),
    "AWS-LOGS-003": Unknown(SAGEMAKER, "studio-studio-policy", "policy", S),
    "AWS-S3-001": Unknown(DEFAULTS, "data-public-access-block", "blockPublicAcls", B),
    "AWS-S3-002": Unknown(
        DEFAULTS, "data-encryption", "rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId", S
    ),
    "AWS-S3-003": Unknown(DEFAULTS, "data-versioning", "versioningConfiguration.status", S),
    "AWS-S3-004": Unknown(DEFAULTS, "data-policy", "policy", S),
    "AWS-S3-005": Unknown(DEFAULTS, "data-access-logging", "bucket", S),
    "AWS-S3-006": Unknown(DEFAULTS, "data-ownership", "rule.objectOwnership", S),
    "AWS-S3-007": Unknown(DEFAULTS, "audit-logs-policy", "policy", S),
    "AWS-S3-008": Unknown(DEFAULTS, "data-public-access-block", "bucket", S),
    "AWS-S3-009": Unknown(DEFAULTS, "data-encryption", "bucket", S),
    "AWS-S3-010": Unknown(DEFAULTS, "data-versioning", "bucket", S),
    "AWS-S3-011": Unknown(DEFAULTS, "data-policy", "bucket", S),
    "AWS-S3-012": Unknown(RESTRICTED, "audit-logs-object-lock", "rule.defaultRetention.days", N),
    "AWS-S3-013": Unknown(DEFAULTS, "audit-logs-lifecycle", "bucket", S),
    "AWS-S3-014": Unknown(DEFAULTS, "data-bucket", "forceDestroy", B),
    # A first deployment locks in GOVERNANCE: the final (COMPLIANCE) lock is pending.
    "AWS-S3-016": Unknown(
        RESTRICTED,
        "audit-logs-object-lock",
        "rule.defaultRetention.mode",
        S,
        known=frozenset({"audit-logs-object-lock"}),
    ),
    "AWS-S3-017": Unknown(
        RESTRICTED, "model-artifacts-versioning", "versioningConfiguration.status", S
    ),
    "AWS-S3-018": Unknown(
        RESTRICTED,
        "recovery-data-replication",
        "rules.0.sourceSelectionCriteria.sseKmsEncryptedObjects.status",
        S,
    ),
    "AWS-SAGE-001": Unknown(SAGEMAKER, "studio-domain", "appNetworkAccessType", S),
    "AWS-SAGE-002": Unknown(SAGEMAKER, "studio-domain", "kmsKeyId", S),
    "AWS-SAGE-003": Unknown(
        SAGEMAKER, "studio-domain", "domainSettings.dockerSettings.enableDockerAccess", S
    ),
    "AWS-SAGE-004": Unknown(
        SAGEMAKER, "studio-domain", "domainSettings.executionRoleIdentityConfig", S
    ),
    "AWS-SAGE-005": Unknown(SAGEMAKER, NOTEBOOK, "subnetId", S),
    "AWS-SAGE-006": Unknown(SAGEMAKER, NOTEBOOK, "rootAccess", S),
    "AWS-SAGE-007": Unknown(SAGEMAKER, NOTEBOOK, "kmsKeyId", S),
    "AWS-SAGE-008": Unknown(SAGEMAKER, "studio-domain", "retentionPolicy", OBJ),
    "AWS-SECRETS-001": Unknown(DEFAULTS, "secrets-app", "kmsKeyId", S),
    "AWS-SECRETS-002": Unknown(DEFAULTS, "secrets-app-policy", "policy", S),
    "AWS-SECRETS-003": Unknown(DEFAULTS, "secrets-app-policy", "policy", S),
    # A reminder-only project is not applicable (nothing rotates): a reminder too sparse
    # for the profile is judged, and its schedule made unknown.
    "AWS-SECRETS-004": Unknown(
        DEFAULTS,
        "secrets-app-reminder",
        "scheduleExpression",
        S,
        given={"secrets-app-reminder": {"scheduleExpression": "rate(400 days)"}},
        known=frozenset({"secrets-app-reminder"}),
    ),
    "AWS-SNS-001": Unknown(DEFAULTS, "alerts-topic", "kmsMasterKeyId", S),
    "AWS-DET-001": Unknown(DEFAULTS, "threat-detection-detector", "enable", B),
    "AWS-DET-002": Unknown(DEFAULTS, "security-alarms-guardrail-tampering-filter", "pattern", S),
    "AWS-DET-003": Unknown(DEFAULTS, "security-alarms-key-tampering", "alarmActions", A),
    "AWS-DET-004": Unknown(SHARED, "alerts-email-30c4ede1", "endpoint", S),
    "AWS-DET-005": Unknown(DEFAULTS, "alerts-topic-policy", "policy", S),
    "AWS-DET-006": Unknown(
        DEFAULTS,
        "threat-detection-malware-protection",
        "protectedResource.s3Bucket.bucketName",
        S,
    ),
    "AWS-DET-007": Unknown(SHARED, "siem-policy", "policy", S),
    "AWS-SECRETS-005": Unknown(DEFAULTS, "secrets-app", "recoveryWindowInDays", N),
    "AWS-COST-001": Unknown(DEFAULTS, "cost-project-budget", "limitAmount", S),
    "AWS-COST-002": Unknown(DEFAULTS, "cost-ai-budget", "notifications.0.threshold", N),
    "AWS-COST-003": Unknown(DEFAULTS, "cost-anomaly-alerts", "frequency", S),
    "AWS-COST-004": Unknown(
        SAGEMAKER, ENDPOINT_CONFIG, "productionVariants.0.initialInstanceCount", N
    ),
    "AWS-COST-005": Unknown(DEFAULTS, "alerts-topic-policy", "policy", S),
    "AWS-SECRETS-006": Unknown(DEFAULTS, "secrets-app-policy", "secretArn", S),
    "AWS-TRAIL-001": Unknown(DEFAULTS, "audit-trail", "isMultiRegionTrail", B),
    "AWS-TRAIL-002": Unknown(DEFAULTS, "audit-trail", "enableLogFileValidation", B),
    "AWS-TRAIL-003": Unknown(DEFAULTS, "audit-trail", "kmsKeyId", S),
    "AWS-TRAIL-004": Unknown(DEFAULTS, "audit-trail", "cloudWatchLogsGroupArn", S),
    "AWS-TRAIL-005": Unknown(DEFAULTS, "audit-trail", "advancedEventSelectors", A),
    "AWS-TRAIL-006": Unknown(DEFAULTS, "audit-trail", "isMultiRegionTrail", B),
    "AWS-TRAIL-007": Unknown(DEFAULTS, "audit-trail", "s3BucketName", S),
    "AWS-VPCE-001": Unknown(DEFAULTS, "endpoints-bedrock", "privateDnsEnabled", B),
    "AWS-VPCE-002": Unknown(DEFAULTS, "endpoints-s3", "policy", S),
    "AWS-VPCE-003": Unknown(DEFAULTS, "endpoints-bedrock-runtime", "serviceName", S),
    "AWS-VPCE-004": Unknown(DEFAULTS, "endpoints-kms", "serviceName", S),
}
#: Policies that read no value of a resource, so nothing they read can be unknown.
READS_NO_VALUE = {
    "AWS-EC2-001": "an internet gateway, NAT gateway or Elastic IP is judged by its type "
    "and the allow_internet_egress answer",
    "AWS-IAM-001": "an IAM user or long-lived credential is judged by its type",
}


def _notebook(run: MockRun) -> CapturedResource:
    """A notebook instance placed like the project's Studio domain: its first subnet, its
    security group, key and execution role, its tags."""
    domain = run.one("aws:sagemaker/domain:Domain").inputs
    type_ = "aws:sagemaker/notebookInstance:NotebookInstance"
    return dataclasses.replace(
        res(
            type_,
            NOTEBOOK,
            {
                "instanceType": "ml.t3.medium",
                "roleArn": domain["defaultUserSettings"]["executionRole"],
                "subnetId": domain["subnetIds"][0],
                "securityGroups": list(domain["domainSettings"]["securityGroupIds"]),
                "kmsKeyId": domain["kmsKeyId"],
                "directInternetAccess": "Disabled",
                "rootAccess": "Disabled",
                "tags": domain["tags"],
            },
        ),
        urn=f"urn:pulumi:{run.stack}::{run.project}::{type_}::{NOTEBOOK}",
    )


def _endpoint_config(run: MockRun) -> CapturedResource:
    """A SageMaker endpoint configuration of one instance, as a user adds one."""
    type_ = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
    return dataclasses.replace(
        res(
            type_,
            ENDPOINT_CONFIG,
            {
                "productionVariants": [
                    {
                        "variantName": "main",
                        "modelName": "model",
                        "instanceType": "ml.m5.large",
                        "initialInstanceCount": 1,
                    }
                ],
                "tags": run.one("aws:sagemaker/domain:Domain").inputs["tags"],
            },
        ),
        urn=f"urn:pulumi:{run.stack}::{run.project}::{type_}::{ENDPOINT_CONFIG}",
    )


@pytest.fixture(scope="module")
def base(
    aws_project: Callable[[str], Path], aws_run: Callable[[str], MockRun]
) -> Callable[[str], tuple[MockRun, Requirements]]:
    """A generated project's run (the SageMaker one with a notebook instance added) and
    its requirements."""

    def get(project: str) -> tuple[MockRun, Requirements]:
        run = aws_run(project)
        if project == SAGEMAKER:
            run = patched(run, add=[_notebook(run), _endpoint_config(run)])
        return run, load_requirements(aws_project(project))

    return get


#: The advisory deploy findings of each generated project: Bedrock model invocation
#: logging and the threat detection services owned by the stack (account-wide), a
#: SageMaker AI domain's retained home volume (irreversible without
#: scripts/sagemaker-cleanup.sh).
EXPECTED_ADVISORIES: dict[str, set[str]] = {
    "defaults": {"AWS-DEPLOY-004", "AWS-DEPLOY-008", "AWS-DEPLOY-022"},
    "bedrock-restricted": {"AWS-DEPLOY-004", "AWS-DEPLOY-008", "AWS-DEPLOY-022"},
    "egress": {"AWS-DEPLOY-004", "AWS-DEPLOY-008", "AWS-DEPLOY-022"},
    "sagemaker-confidential": {"AWS-DEPLOY-003", "AWS-DEPLOY-008", "AWS-DEPLOY-022"},
    "no-budget": set(),  # account_services: shared
    # threat detection belongs to another stack (account_services: shared)
    "shared-siem": set(),
    # ... and the account's API Gateway CloudWatch role the gateway's logs need.
    "gateway-private": {"AWS-DEPLOY-004", "AWS-DEPLOY-008", "AWS-DEPLOY-022", "AWS-DEPLOY-030"},
    "gateway-public": {"AWS-DEPLOY-004", "AWS-DEPLOY-008", "AWS-DEPLOY-022", "AWS-DEPLOY-030"},
}


def _waived(policy_id: str, requirements: Requirements) -> bool:
    """Whether the answers make the policy advisory by its declaration (``advisory_when``:
    the no-budget project's AWS-COST-001), a finding the project expects."""
    policy = next(p for p in registry("aws") if p.id == policy_id)
    return policy.advisory_when is not None and bool(policy.advisory_when(requirements))


def _policy(findings: list[Any]) -> list[Any]:
    """The policies' findings, without the deploy rules' (judged in test_aws_deploy.py)."""
    return [f for f in findings if f.category == "policy"]


def test_every_aws_policy_has_an_unknown_case() -> None:
    assert set(READS_NO_VALUE) <= AWS_POLICIES
    assert set(UNKNOWN) == AWS_POLICIES - set(READS_NO_VALUE)


@pytest.mark.parametrize("policy_id", sorted(UNKNOWN))
def test_values_unknown_during_preview_are_reported_unknown(
    base: Callable[[str], tuple[MockRun, Requirements]], policy_id: str
) -> None:
    case = UNKNOWN[policy_id]
    run, project_requirements = base(case.project)
    requirements = only(project_requirements, policy_id)
    start = patched(run, case.given, drop=case.drop)
    # Where the value is known, the policy decides (and reads it: see below).
    known = evaluate(start, requirements)
    assert not _policy(known.unknown), [f.message for f in known.unknown]
    # ... it decides: passes or finds a violation, having read what it judges.
    assert {"passed", "violation"} & set(known.verdicts[policy_id].values()), known.verdicts
    assert flagged(known, policy_id) == case.known
    report = evaluate(patched(start, {case.resource: {case.path: case.sentinel}}), requirements)
    assert not _policy(report.violations), [f.message for f in report.violations]
    expected = STACK if policy_id in STACK_POLICIES else case.resource
    assert unknown(report, policy_id) == {expected}
    # The unknown reported is the value the case made unknown, not another one.
    assert [f.message.split(" value at ")[1] for f in _policy(report.unknown)] == [
        f".{case.path} can't be known during preview"
    ]


@pytest.mark.parametrize("policy_id", sorted(READS_NO_VALUE))
def test_policies_reading_no_value_decide_when_every_input_is_unknown(
    aws_project: Callable[[str], Path], aws_run: Callable[[str], MockRun], policy_id: str
) -> None:
    """The exclusions are honest: with every input of every resource unknown, these
    policies still flag each resource they apply to (the egress project's gateways and
    addresses, an IAM user and its access key, in a project that did not choose egress)."""
    added = [
        res("aws:iam/user:User", "deployer", {"name": "deployer", "tags": TAGS}),
        res("aws:iam/accessKey:AccessKey", "deployer-key", {"user": "deployer"}),
    ]
    resources = [
        dataclasses.replace(r, inputs={key: S for key in r.inputs})
        for r in [*aws_run("egress").resources, *added]
    ]
    run = dataclasses.replace(aws_run("egress"), resources=resources)
    report = evaluate(run, only(load_requirements(aws_project("defaults")), policy_id))
    policy = next(p for p in registry("aws") if p.id == policy_id)
    assert isinstance(policy, ResourcePolicy)
    expected = {r.name for r in run.resources if r.custom and policy.applies_to(r.type)}
    assert expected
    assert not _policy(report.unknown), [f.message for f in report.unknown]
    assert flagged(report, policy_id) == expected


def test_a_known_value_beside_an_unknown_one_still_decides() -> None:
    # The key policy is unknown, but rotation is known to be off: AWS-KMS-001 still fails.
    report = check(
        [res("aws:kms/key:Key", "k", {"enableKeyRotation": False, "policy": S, "tags": TAGS})]
    )
    assert flagged(report, "AWS-KMS-001") == {"k"}
    assert unknown(report, "AWS-KMS-004") == {"k"}


# ------------------------------------------------------------------ generated projects
@pytest.mark.parametrize("name", PROJECTS)
def test_generated_project_has_no_violation(
    name: str, aws_project: Callable[[str], Path], aws_run: Callable[[str], MockRun]
) -> None:
    requirements = load_requirements(aws_project(name))
    report = evaluate(aws_run(name), requirements)
    # The one exception a new project declares: with immutable logs, the final lock is a
    # second step (AWS-S3-016 stays advisory, with its reason, until then).
    pending = {p for p, o in requirements.overrides.items() if "lock_log_archive" in o.reason}
    assert pending == ({"AWS-S3-016"} if requirements.setting("immutable_logs") else set())
    found = [
        f"{f.policy} {f.resource}: {f.message}"
        for f in report.policy_findings
        if f.policy not in pending and not _waived(f.policy, requirements)
    ]
    assert not found, "\n".join(found)
    # Deploy rules: nothing the cloud would refuse, only what the first `pulumi up`
    # commits the account to (advisory, documented in the README).
    deploy = {(f.policy, f.level, f.outcome) for f in report.deploy_findings}
    assert deploy == {(rule, "advisory", "violation") for rule in EXPECTED_ADVISORIES[name]}
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
    assert by_policy["AWS-KMS-002"] == {"keys-data", "keys-logs", "keys-secrets", "alerts-key"}
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
        found = {(f.policy, f.resource, f.level) for f in _policy(report.violations)}
        assert found == {(caught, edited.name, "mandatory")}, found
