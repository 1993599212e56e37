"""Deploy rules for aws: see the package docstring.

Each rule's constraint comes from AWS's documentation or a public issue (``source``),
with what AWS answers when it is broken (``error``). Values compared against are data
next to their source.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..policies._core import NotApplicable, Resource
from ..policies.aws._util import (
    actions,
    as_list,
    bucket_refers_to,
    conditions,
    document,
    of_type,
    principals,
    refers_to,
    statements,
    strings,
)
from ._core import DeployContext, depends_on, deploy_rule

TRAIL = "aws:cloudtrail/trail:Trail"
KEY = "aws:kms/key:Key"
BUCKET = "aws:s3/bucket:Bucket"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
LOGGING = "aws:s3/bucketLogging:BucketLogging"
DOMAIN = "aws:sagemaker/domain:Domain"
INVOCATION_LOGGING = (
    "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
)
ROLE = "aws:iam/role:Role"
ROLE_POLICIES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
)
SLEEP = "time:index/sleep:Sleep"
SUBNET = "aws:ec2/subnet:Subnet"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"

#: Source: CloudTrail's key-policy guide. A trail's key must let cloudtrail.amazonaws.com
#: encrypt (kms:GenerateDataKey*) and describe the key; "If you are using an existing S3
#: bucket with an S3 Bucket Key, kms:Decrypt permissions are required to create or
#: update a trail with SSE-KMS encryption enabled."
CLOUDTRAIL_KEY_GUIDE = (
    "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/"
    "create-kms-key-policy-for-cloudtrail.html"
)
CLOUDTRAIL = "cloudtrail.amazonaws.com"

#: Source: S3's server access logging guide: "You can use default bucket encryption on the
#: target bucket only if you use server-side encryption with Amazon S3 managed keys
#: (SSE-S3) [...]. Default server-side encryption with AWS KMS keys (SSE-KMS) is not
#: supported."
ACCESS_LOG_GUIDE = (
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html"
)
ACCESS_LOG_TARGET_ALGORITHMS = ("AES256",)

#: Source: a SageMaker AI domain's EFS home volume, its mount targets and the security
#: groups SageMaker AI created stay in the subnets when the domain is deleted with
#: RetentionPolicy Retain (the API's default), so deleting the subnets, security groups
#: or VPC fails with DependencyViolation.
SAGEMAKER_RETAIN_ISSUE = "https://github.com/hashicorp/terraform-provider-aws/issues/20986"
SAGEMAKER_CLEANUP_SCRIPT = "scripts/sagemaker-cleanup.sh"

#: Source: Bedrock keeps one model invocation logging configuration per account and
#: region (PutModelInvocationLoggingConfiguration replaces it,
#: DeleteModelInvocationLoggingConfiguration removes it).
BEDROCK_LOGGING_GUIDE = (
    "https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html"
)
#: Source: IAM is eventually consistent; a policy just written may not yet be the one a
#: service checks.
IAM_EVENTUAL_CONSISTENCY = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
    "troubleshoot_general.html#troubleshoot_general_eventual-consistency"
)

#: Source: interface endpoint services are not offered in every availability zone, and a
#: zone name designates a different physical zone in each account; creating an endpoint
#: in a subnet of a zone the service does not offer fails.
ENDPOINT_ZONES_ISSUE = "https://github.com/terraform-aws-modules/terraform-aws-vpc/issues/462"


# ------------------------------------------------------------------ helpers
def _keys_of(reference: Any, holder: Resource, resources: Sequence[Resource]) -> list[Resource]:
    """The stack's keys that ``reference`` (a key ARN or id read from ``holder``) names:
    by identity when the views hold the keys' outputs (``pulumi preview``), else the
    keys ``holder`` depends on directly (the offline mock run)."""
    keys = of_type(resources, KEY)
    if isinstance(reference, str) and reference:
        named = [
            k
            for k in keys
            if any(
                isinstance(v, str) and v and v in reference
                for v in (k.get("arn"), k.get("keyId"), k.get("id"))
            )
        ]
        if named:
            return named
    return [k for k in keys if k.urn in holder.dependencies]


def _grants(statement: Mapping[str, Any], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions(statement))


def _source_arns(statement: Mapping[str, Any]) -> list[str] | None:
    """The ``aws:SourceArn`` patterns a statement is limited to (None: not limited)."""
    found: list[str] = []
    limited = False
    for test, variables in conditions(statement).items():
        if test.lower() in ("stringequals", "stringlike", "arnequals", "arnlike"):
            values = variables.get("aws:sourcearn")
            if values is not None:
                limited = True
                found.extend(str(v) for v in values)
    return found if limited else None


def _allows_trail(statement: Mapping[str, Any], trail_name: str) -> bool:
    patterns = _source_arns(statement)
    if patterns is None:
        return True
    return any(fnmatch.fnmatchcase(f"trail/{trail_name}", p.split(":", 5)[-1]) for p in patterns)


# ------------------------------------------------------------------ 1. CloudTrail's key
@deploy_rule(
    id="AWS-DEPLOY-001",
    title="The trail's KMS key lets CloudTrail encrypt, decrypt and describe",
    category="deploy-failure",
    source=CLOUDTRAIL_KEY_GUIDE,
    error="InsufficientEncryptionPolicyException: Insufficient permissions to access S3 "
    "bucket <bucket> or KMS key <key>",
    remediation="Grant cloudtrail.amazonaws.com kms:GenerateDataKey* (with the trail's "
    "encryption context), kms:DescribeKey and, when the log bucket uses an S3 Bucket Key, "
    "kms:Decrypt, each limited to the trail (aws:SourceArn) (Keys does, with trail_arns).",
)
def _trail_key(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """The key policy of a trail's KMS key lets CloudTrail generate data keys and describe
    the key and, when the log bucket has an S3 Bucket Key, decrypt: CreateTrail checks
    them, and so does every later UpdateTrail."""
    trails = [t for t in of_type(resources, TRAIL) if t.get("kmsKeyId")]
    if not trails:
        raise NotApplicable("no trail encrypts with a KMS key")
    for trail in trails:
        trail_name = str(trail.get("name") or trail.name)
        bucket_name = trail.get("s3BucketName")
        buckets = [b for b in of_type(resources, BUCKET) if bucket_refers_to(bucket_name, b)]
        bucket_key = any(
            rule.get("bucketKeyEnabled") is True
            for config in of_type(resources, ENCRYPTION)
            if any(bucket_refers_to(config.get("bucket"), b) for b in buckets)
            for rule in config.items("rules")
        )
        needed = ["kms:GenerateDataKey", "kms:DescribeKey"]
        if bucket_key:
            needed.append("kms:Decrypt")
        for key in _keys_of(trail.get("kmsKeyId"), trail, resources):
            granted = [
                st
                for st in statements(document(key, "policy"), "Allow")
                if CLOUDTRAIL in principals(st).get("Service", []) and _allows_trail(st, trail_name)
            ]
            missing = [a for a in needed if not any(_grants(st, a) for st in granted)]
            if missing:
                why = " (its log bucket uses an S3 Bucket Key)" if "kms:Decrypt" in missing else ""
                yield (
                    key,
                    f"{key.name} does not let CloudTrail {', '.join(missing)} for trail "
                    f"{trail_name}{why}: creating the trail fails",
                )


# ------------------------------------------------------------------ 2. access-log targets
@deploy_rule(
    id="AWS-DEPLOY-002",
    title="Server access logs go to a bucket encrypted with SSE-S3",
    category="deploy-failure",
    source=ACCESS_LOG_GUIDE,
    error="No error: S3 accepts the logging configuration, then delivers no server access "
    "logs into a target bucket whose default encryption is SSE-KMS",
    remediation="Encrypt the access-log bucket with SSE-S3 (AES256): SecureBucket "
    "server_access_log_target=True, kms_key_arn=None.",
)
def _access_log_target(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """A bucket receiving S3 server access logs has SSE-S3 as its default encryption:
    S3 does not deliver access logs into SSE-KMS buckets, and says nothing."""
    loggings = of_type(resources, LOGGING)
    if not loggings:
        raise NotApplicable("no bucket records server access logs")
    targets = {t for t in (r.get("targetBucket") for r in loggings) if isinstance(t, str) and t}
    buckets = [
        b for b in of_type(resources, BUCKET) if any(bucket_refers_to(t, b) for t in targets)
    ]
    for config in of_type(resources, ENCRYPTION):
        if not any(bucket_refers_to(config.get("bucket"), b) for b in buckets):
            continue
        for rule in config.items("rules"):
            default = rule.get("applyServerSideEncryptionByDefault") or {}
            algorithm = default.get("sseAlgorithm")
            if algorithm not in ACCESS_LOG_TARGET_ALGORITHMS:
                yield (
                    config,
                    f"{config.name} encrypts a server access log target with {algorithm}: "
                    "S3 delivers no access logs into it",
                )


# ------------------------------------------------------------------ 3. SageMaker home volume
@deploy_rule(
    id="AWS-DEPLOY-003",
    title="A SageMaker AI domain leaves its home volume in the subnets",
    category="irreversible",
    source=SAGEMAKER_RETAIN_ISSUE,
    error="DependencyViolation: The subnet 'subnet-...' has dependencies and cannot be "
    "deleted. / resource sg-... has a dependent object",
    remediation=f"Before `pulumi destroy` or a change replacing the subnets or VPC, run "
    f"{SAGEMAKER_CLEANUP_SCRIPT} (README.md, 'Destroying a SageMaker AI domain'): it "
    "deletes the domain's apps, spaces and profiles, then, once the home volume is backed "
    "up, its mount targets and the security groups SageMaker AI created.",
    types=[DOMAIN],
)
def _sagemaker_retain(resource: Resource, context: DeployContext) -> Iterator[str]:
    """A domain whose home volume is retained (the default; AWS-SAGE-008 requires it)
    leaves the volume, its mount targets and the security groups SageMaker AI created in
    the subnets: deleting the subnets, the project's security groups or the VPC fails
    until they are removed."""
    retention = resource.get("retentionPolicy", "homeEfsFileSystem", default="Retain")
    if retention != "Retain":
        raise NotApplicable(f"the home volume is deleted with the domain ({retention})")
    yield (
        f"{resource.name} keeps its EFS home volume, mount targets and security groups after "
        f"deletion: `pulumi destroy` and subnet or VPC replacement fail with "
        f"DependencyViolation until {SAGEMAKER_CLEANUP_SCRIPT} removes them"
    )


# ------------------------------------------------------------------ 4. Bedrock logging
@deploy_rule(
    id="AWS-DEPLOY-004",
    title="Bedrock model invocation logging is one setting per account and region",
    category="account-wide",
    source=BEDROCK_LOGGING_GUIDE,
    error="No error: PutModelInvocationLoggingConfiguration silently replaces the "
    "configuration of the account and region; deleting it turns logging off for all",
    remediation="Let one stack own the account's services (answer account_services: "
    "this-stack there, shared everywhere else). If a configuration exists already, import "
    "it before the first `pulumi up`: `pulumi import "
    "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration "
    "<resource name> <region>`.",
    types=[INVOCATION_LOGGING],
)
def _invocation_logging_owner(resource: Resource, context: DeployContext) -> Iterator[str]:
    """The stack creates the model invocation logging configuration of its account and
    region: ``pulumi up`` overwrites one another stack or team set, and ``pulumi destroy``
    turns invocation logging off for every workload of the account and region."""
    where = context.region or "its region"
    yield (
        f"{resource.name} is the account's only Bedrock invocation logging configuration in "
        f"{where}: `pulumi up` replaces any existing one (import it first: `pulumi import "
        f"aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration "
        f"{resource.name} {where}`), `pulumi destroy` turns logging off for every stack"
    )


def _role_policies(role: Resource, resources: Sequence[Resource]) -> list[Resource]:
    return [p for p in of_type(resources, *ROLE_POLICIES) if refers_to(p.get("role"), role)]


@deploy_rule(
    id="AWS-DEPLOY-005",
    title="Invocation logging waits for its role's policy to propagate",
    category="deploy-failure",
    source=IAM_EVENTUAL_CONSISTENCY,
    error="ValidationException: Failed to validate permissions for log group: <group>, with "
    "role: <role>. Verify the IAM role permissions are correct.",
    remediation="Make the logging configuration depend on the role's policies and on a "
    "pulumiverse_time.Sleep created after them (AuditLogging does).",
)
def _invocation_logging_waits(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """Bedrock checks the CloudWatch delivery role when the configuration is put, so the
    configuration depends on every policy of that role and on a wait created after them
    (IAM propagates a new policy within seconds, not at once)."""
    configs = of_type(resources, INVOCATION_LOGGING)
    if not configs:
        raise NotApplicable("the stack configures no invocation logging")
    by_urn = {r.urn: r for r in resources}
    for config in configs:
        role_arn = config.get("loggingConfig", "cloudwatchConfig", "roleArn")
        if not isinstance(role_arn, str) or not role_arn:
            continue
        roles = [r for r in of_type(resources, ROLE) if refers_to(role_arn, r)]
        reached = depends_on(config, by_urn)
        sleeps = [by_urn[u] for u in reached if u in by_urn and by_urn[u].type == SLEEP]
        for role in roles:
            for policy in _role_policies(role, resources):
                if policy.urn not in reached:
                    yield (
                        config,
                        f"{config.name} does not depend on {policy.name}: Bedrock may check "
                        "the role before it may write to the log group",
                    )
                elif not any(policy.urn in depends_on(s, by_urn) for s in sleeps):
                    yield (
                        config,
                        f"{config.name} does not wait for IAM to propagate {policy.name} (no "
                        "time Sleep created after it)",
                    )


# ------------------------------------------------------------------ 5. subnets by zone id
@deploy_rule(
    id="AWS-DEPLOY-006",
    title="Endpoint subnets are placed by zone id among the zones offering the services",
    category="deploy-failure",
    source=ENDPOINT_ZONES_ISSUE,
    error="InvalidParameter: The VPC endpoint service com.amazonaws.<region>.<service> does "
    "not support the availability zone of the subnet: subnet-...",
    remediation="Place the subnets by availability_zone_id, chosen among the zones every "
    "interface endpoint service offers (Network endpoint_services does, from "
    "aws.ec2.get_vpc_endpoint_service).",
)
def _endpoint_subnet_zones(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """A subnet holding interface endpoints is placed by availability zone id, not by
    name: a zone name designates a different physical zone in each account, so whether
    it offers the endpoint services cannot be known from the program. The zone ids
    themselves come from the services' own zone lists (Network's ``endpoint_services``)."""
    endpoints = [
        e for e in of_type(resources, VPC_ENDPOINT) if e.get("vpcEndpointType") == "Interface"
    ]
    if not endpoints:
        raise NotApplicable("the stack creates no interface endpoints")
    referenced = {s for e in endpoints for s in strings(as_list(e.get("subnetIds", default=[])))}
    subnets = of_type(resources, SUBNET)
    hosting = [
        s
        for s in subnets
        if any(refers_to(ref, s, name_keys=("id",), prefix_keys=()) for ref in referenced)
        or any(s.urn in e.dependencies for e in endpoints)
    ]
    for subnet in hosting:
        if subnet.get("availabilityZoneId"):
            continue
        zone = subnet.get("availabilityZone")
        where = f"zone name {zone}" if zone else "no zone at all (EC2 picks one)"
        yield (
            subnet,
            f"{subnet.name} holds interface endpoints and is placed by {where}: the zone "
            "may not offer every endpoint service",
        )


# ------------------------------------------------------------------ 7. final object lock
#: S3 Object Lock: "In compliance mode, a protected object version can't be overwritten
#: or deleted by any user, including the root user in your AWS account. [...] its
#: retention mode can't be changed, and its retention period can't be shortened."
OBJECT_LOCK_GUIDE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html"


@deploy_rule(
    id="AWS-DEPLOY-007",
    title="A COMPLIANCE-mode object lock cannot be undone",
    category="irreversible",
    source=OBJECT_LOCK_GUIDE,
    error="AccessDenied: Access Denied because object protected by object lock (deleting a "
    "version, or the bucket, before its retention ends)",
    remediation="Lock in COMPLIANCE mode only in the second, explicit step, once the stack "
    "is right (`pulumi config set lock_log_archive true && pulumi up`); a sandbox never "
    "sets it (scripts/smoke_stack.py).",
    types=["aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"],
)
def _final_object_lock(resource: Resource, context: DeployContext) -> Iterator[str]:
    """Every object version written under a COMPLIANCE-mode default retention stays until
    its retention ends: nobody, root included, can delete it, so neither the bucket nor
    the stack can be destroyed before then."""
    retention = resource.get("rule", "defaultRetention", default={})
    mode = retention.get("mode") if isinstance(retention, Mapping) else None
    if mode != "COMPLIANCE":
        raise NotApplicable(f"default retention in {mode or 'no'} mode can still be lifted")
    days = retention.get("days") or (retention.get("years") or 0) * 365
    yield (
        f"{resource.name} locks every log version for {days:g} days in COMPLIANCE mode: no one "
        "can delete them, or the bucket, before then"
    )


# ------------------------------------------------------------------ 8. threat detection
#: Source: "You can have only one detector per account per Region" (GuardDuty
#: CreateDetector); Security Hub is enabled once per account and Region
#: (EnableSecurityHub answers ResourceConflictException when it already is).
GUARDDUTY_DETECTOR_API = (
    "https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreateDetector.html"
)
SECURITY_HUB_ENABLE_API = (
    "https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_EnableSecurityHub.html"
)
#: The threat detection singletons and the id `pulumi import` takes for each.
_THREAT_SINGLETONS: Mapping[str, tuple[str, str]] = {
    "aws:guardduty/detector:Detector": ("GuardDuty detector", "<detector id>"),
    "aws:securityhub/account:Account": ("Security Hub", "<account id>"),
}


@deploy_rule(
    id="AWS-DEPLOY-008",
    title="GuardDuty and Security Hub are one per account and region",
    category="account-wide",
    source=f"{GUARDDUTY_DETECTOR_API}; {SECURITY_HUB_ENABLE_API}",
    error="BadRequestException: The request is rejected because a detector already exists "
    "for the current account. / ResourceConflictException: Account is already subscribed "
    "to Security Hub",
    remediation="Let one stack own the account's services (answer account_services: "
    "this-stack there, shared everywhere else). If they are on already, import them before "
    "the first `pulumi up`: `pulumi import aws:guardduty/detector:Detector <resource name> "
    "<detector id>` (`aws guardduty list-detectors`), `pulumi import "
    "aws:securityhub/account:Account <resource name> <account id>`.",
    types=list(_THREAT_SINGLETONS),
)
def _threat_detection_owner(resource: Resource, context: DeployContext) -> Iterator[str]:
    """The stack creates a threat detection service of its account and region: the first
    `pulumi up` fails where one is already on (another stack, a central team, the
    organization's delegated administrator), and `pulumi destroy` turns it off for every
    workload of the account (deleting a detector deletes its findings)."""
    what, import_id = _THREAT_SINGLETONS[resource.type]
    where = context.region or "its region"
    yield (
        f"{resource.name} is the account's only {what} in {where}: `pulumi up` fails if one "
        f"is on already (import it: `pulumi import {resource.type} {resource.name} "
        f"{import_id}`), `pulumi destroy` turns it off for every stack"
    )


# ------------------------------------------------------------------ 9. malware scan role
MALWARE_ROLE_GUIDE = (
    "https://docs.aws.amazon.com/guardduty/latest/ug/"
    "troubleshoot-malware-protection-s3-iam-role-permissions-error.html"
)
MALWARE_PLAN = "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan"


@deploy_rule(
    id="AWS-DEPLOY-009",
    title="A malware protection plan waits for its role's policy to propagate",
    category="deploy-failure",
    source=MALWARE_ROLE_GUIDE,
    error="InvalidInputException: The request was rejected because provided IAM role does "
    "not have the required permissions to validate S3 bucket ownership.",
    remediation="Make the plan depend on the role's policies and on a pulumiverse_time.Sleep "
    "created after them (ThreatDetection does).",
)
def _malware_plan_waits(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """GuardDuty checks the plan's role (s3:ListBucket on the bucket, among others) when
    the plan is created; the guide asks to let a new role reach eventual consistency
    first. The plan depends on every policy of its role and on a wait created after them."""
    plans = of_type(resources, MALWARE_PLAN)
    if not plans:
        raise NotApplicable("the stack has no malware protection plan")
    by_urn = {r.urn: r for r in resources}
    for plan in plans:
        roles = [r for r in of_type(resources, ROLE) if refers_to(plan.get("role"), r)]
        reached = depends_on(plan, by_urn)
        sleeps = [by_urn[u] for u in reached if u in by_urn and by_urn[u].type == SLEEP]
        for role in roles:
            for policy in _role_policies(role, resources):
                if policy.urn not in reached:
                    yield plan, f"{plan.name} does not depend on {policy.name}"
                elif not any(policy.urn in depends_on(s, by_urn) for s in sleeps):
                    yield (
                        plan,
                        f"{plan.name} does not wait for IAM to propagate {policy.name} (no "
                        "time Sleep created after it)",
                    )


# ------------------------------------------------------------------ 20-23. cost guardrails
BUDGET = "aws:budgets/budget:Budget"
ANOMALY_MONITOR = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
COST_ALLOCATION_TAG = "aws:costexplorer/costAllocationTag:CostAllocationTag"
#: Source: AWS Budgets refuses a cost budget in any unit but USD (CloudFormation's
#: InvalidParameterException, the Budgets API's own answer, quoted in the issue).
BUDGET_CURRENCY_ISSUE = "https://github.com/awslabs/landing-zone-accelerator-on-aws/issues/682"
BUDGET_UNITS: tuple[str, ...] = ("USD",)
#: Source: "A budget can have up to ten notifications"; "A notification can have one SNS
#: subscriber and up to 10 email subscribers".
BUDGET_NOTIFICATION_API = (
    "https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/"
    "API_budgets_Notification.html"
)
BUDGET_MAX_NOTIFICATIONS = 10
BUDGET_MAX_SNS_SUBSCRIBERS = 1
#: Source: one DIMENSIONAL monitor per dimension and account; a second fails with
#: "Limit exceeded on dimensional spend monitor creation".
SERVICE_MONITOR_ISSUE = (
    "https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/2515"
)
#: Source: a user-defined tag can be activated only after it has appeared in billing data
#: (up to 24 hours after first use), in the paying account; before, the provider reads
#: back an "empty result".
COST_ALLOCATION_TAG_ISSUE = "https://github.com/hashicorp/terraform-provider-aws/issues/29068"


@deploy_rule(
    id="AWS-DEPLOY-020",
    title="AWS Budgets amounts are in US dollars",
    category="deploy-failure",
    source=BUDGET_CURRENCY_ISSUE,
    error="InvalidParameterException: Unable to create/update budget - AUD is not in the "
    "supported unit set: [USD]",
    remediation="Give limit_unit='USD' and the amount in US dollars (CostGuardrails does); "
    "convert a budget planned in another currency before `pulumi config set monthly_budget`.",
    types=[BUDGET],
)
def _budget_in_usd(resource: Resource, context: DeployContext) -> Iterator[str]:
    """A COST budget's amount is in USD, the only unit AWS Budgets accepts for it,
    whatever the account's preferred billing currency."""
    if resource.get("budgetType", default="COST") != "COST":
        raise NotApplicable("not a cost budget")
    unit = resource.get("limitUnit")
    if unit is not None and unit not in BUDGET_UNITS:
        yield f"{resource.name} is in {unit}; AWS Budgets accepts {', '.join(BUDGET_UNITS)} only"


@deploy_rule(
    id="AWS-DEPLOY-021",
    title="A budget has at most ten notifications, each with one SNS subscriber",
    category="deploy-failure",
    source=BUDGET_NOTIFICATION_API,
    error="InvalidParameterException (a budget with more than ten notifications, or a "
    "notification with more than one SNS subscriber)",
    remediation="Keep at most ten thresholds per budget and one SNS topic (the alert topic) "
    "per notification; split thresholds over a second budget if needed.",
    types=[BUDGET],
)
def _budget_notification_limits(resource: Resource, context: DeployContext) -> Iterator[str]:
    """Budgets holds up to ten notifications per budget and one SNS subscriber per
    notification."""
    notes = resource.items("notifications")
    if len(notes) > BUDGET_MAX_NOTIFICATIONS:
        yield (
            f"{resource.name} has {len(notes)} notifications; a budget holds at most "
            f"{BUDGET_MAX_NOTIFICATIONS}"
        )
    for index, note in enumerate(notes):
        topics = as_list(note.get("subscriberSnsTopicArns") if isinstance(note, Mapping) else None)
        if len(topics) > BUDGET_MAX_SNS_SUBSCRIBERS:
            yield f"{resource.name} notification #{index} has {len(topics)} SNS subscribers; one is allowed"


@deploy_rule(
    id="AWS-DEPLOY-022",
    title="The AWS services anomaly monitor is one per account",
    category="account-wide",
    source=SERVICE_MONITOR_ISSUE,
    error="ValidationException: Limit exceeded on dimensional spend monitor creation",
    remediation="Let one stack own the account's services (account_services: this-stack "
    "there, shared everywhere else); if the account has its services monitor already, "
    "import it: `pulumi import aws:costexplorer/anomalyMonitor:AnomalyMonitor <resource "
    "name> <monitor arn>` (`aws ce get-anomaly-monitors`).",
    types=[ANOMALY_MONITOR],
)
def _service_monitor_singleton(resource: Resource, context: DeployContext) -> Iterator[str]:
    """The stack creates the account's DIMENSIONAL (SERVICE) anomaly monitor: a second
    one in the account is refused, and `pulumi destroy` removes it for every workload."""
    if resource.get("monitorType") != "DIMENSIONAL":
        raise NotApplicable("a CUSTOM monitor: as many as the account needs")
    dimension = resource.get("monitorDimension") or "SERVICE"
    yield (
        f"{resource.name} is the account's only DIMENSIONAL {dimension} anomaly monitor: "
        "`pulumi up` fails if one exists already (import it), `pulumi destroy` removes it "
        "for every stack"
    )


@deploy_rule(
    id="AWS-DEPLOY-023",
    title="A cost-allocation tag is activated only once it is in billing data",
    category="deploy-failure",
    source=COST_ALLOCATION_TAG_ISSUE,
    error="reading AWS CE (Cost Explorer) Cost Allocation Tags (<key>): empty result",
    remediation="Activate the project tag once, by hand, a day after the first deploy "
    "(Billing and Cost Management > Cost allocation tags, in the paying account, or `aws ce "
    "update-cost-allocation-tags-status`); README.md, 'Cost guardrails'.",
    types=[COST_ALLOCATION_TAG],
)
def _cost_allocation_tag_later(resource: Resource, context: DeployContext) -> Iterator[str]:
    """Activating a user-defined cost-allocation tag in the stack that first applies the
    tag fails: the key appears in billing data up to 24 hours after first use, and only
    the paying account of an organization may activate it."""
    yield (
        f"{resource.name} activates tag {resource.get('tagKey')!r}, which billing data does "
        "not hold before the first deploy has run a day: activate it afterwards, by hand"
    )


#: Source: "Cost monitors for linked accounts, cost allocation tags, and cost categories
#: can only be created in the management account" (Cost Anomaly Detection, getting
#: started).
TAG_MONITOR_SOURCE = (
    "https://docs.aws.amazon.com/cost-management/latest/userguide/getting-started-ad.html"
)


@deploy_rule(
    id="AWS-DEPLOY-024",
    title="Cost-allocation-tag anomaly monitors exist only in the management account",
    category="account-wide",
    source=TAG_MONITOR_SOURCE,
    error="Cost monitors for linked accounts, cost allocation tags, and cost categories can "
    "only be created in the management account",
    remediation="Deploy the stack with cost_tag_monitor only in the organization's "
    "management account; in a member account `pulumi config rm cost_tag_monitor` (the "
    "account's AWS services monitor of the owning stack watches its spend).",
    types=[ANOMALY_MONITOR],
)
def _tag_monitor_in_management_account(resource: Resource, context: DeployContext) -> Iterator[str]:
    """A CUSTOM anomaly monitor on a cost-allocation tag (stack config ``cost_tag_monitor``)
    is refused outside an organization's management account."""
    spec = resource.get("monitorSpecification")
    if resource.get("monitorType") != "CUSTOM" or "Tags" not in str(spec or ""):
        raise NotApplicable("not a monitor on a cost-allocation tag")
    yield (
        f"{resource.name} watches a cost-allocation tag: `pulumi up` succeeds only in the "
        "organization's management account"
    )


# ------------------------------------------------------------- the AI gateway (issue 20)
REST_API = "aws:apigateway/restApi:RestApi"
REST_API_POLICY = "aws:apigateway/restApiPolicy:RestApiPolicy"
APIGW_ACCOUNT = "aws:apigateway/account:Account"
APIGW_DEPLOYMENT = "aws:apigateway/deployment:Deployment"
APIGW_METHOD = "aws:apigateway/method:Method"
APIGW_INTEGRATION = "aws:apigateway/integration:Integration"
APIGW_STAGE = "aws:apigateway/stage:Stage"
APIGW_METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

#: Source: "API Gateway ... account-level setting: the CloudWatch Logs role ARN ... one
#: per Region" (set up CloudWatch logging for REST APIs).
APIGW_LOGGING_SOURCE = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html"
)
#: Source: the WAF log group "must start with aws-waf-logs-".
WAF_LOG_GROUP_SOURCE = "https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html"
WAF_LOG_PREFIX = "aws-waf-logs-"
#: Source: a deployment snapshots the API's methods; it must be created after them
#: (the provider's docs: depends_on or triggers), and an API without methods is refused.
APIGW_DEPLOYMENT_SOURCE = (
    "https://www.pulumi.com/registry/packages/aws/api-docs/apigateway/deployment/"
)
#: Source: "When you use an enhanced security policy, you must also set the endpoint
#: access mode."
APIGW_SECURITY_POLICY_SOURCE = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies.html"
)
#: Source: a private API needs its resource policy before it is deployed.
APIGW_PRIVATE_SOURCE = "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-api-create.html"


@deploy_rule(
    id="AWS-DEPLOY-030",
    title="API Gateway's CloudWatch role is one setting per account and region",
    category="account-wide",
    source=APIGW_LOGGING_SOURCE,
    error="BadRequestException: CloudWatch Logs role ARN must be set in account settings "
    "to enable logging",
    remediation="Let one stack own the account's services (account_services: this-stack "
    "there, shared everywhere else). If the account has the setting already, import it: "
    "`pulumi import aws:apigateway/account:Account <resource name> api-gateway-account`.",
    types=[APIGW_ACCOUNT],
)
def _apigw_account_singleton(resource: Resource, context: DeployContext) -> Iterator[str]:
    """The stack sets the account's API Gateway CloudWatch role: it replaces whatever
    role another stack set, for every API of the account and region."""
    yield (
        f"{resource.name} sets the account's only API Gateway CloudWatch role in "
        f"{context.region}: `pulumi up` replaces any role set before, for every API there"
    )


@deploy_rule(
    id="AWS-DEPLOY-031",
    title="Gateway logging waits for the account's API Gateway CloudWatch role",
    category="deploy-failure",
    source=APIGW_LOGGING_SOURCE,
    error="BadRequestException: CloudWatch Logs role ARN must be set in account settings "
    "to enable logging",
    remediation="Make the stage and its method settings depend on the aws.apigateway.Account "
    "(ApiGateway does with manage_account_logging_role); with account_services shared, the "
    "owning stack must have set the role before the first `pulumi up`.",
)
def _apigw_logging_needs_role(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """Execution and access logging are refused while the account has no API Gateway
    CloudWatch role: a stage or method settings that log depend on the stack's
    ``aws.apigateway.Account`` (with account_services shared the owning stack sets it)."""
    logging = [
        r
        for r in of_type(resources, APIGW_STAGE, APIGW_METHOD_SETTINGS)
        if r.get("accessLogSettings", "destinationArn")
        or r.get("settings", "loggingLevel") in ("ERROR", "INFO")
    ]
    if not logging:
        raise NotApplicable("no gateway stage logs")
    accounts = of_type(resources, APIGW_ACCOUNT)
    if not accounts:
        # account_services shared: the owning stack sets the role (README, "AI gateway").
        raise NotApplicable("the account's API Gateway CloudWatch role is set by its owning stack")
    by_urn = {r.urn: r for r in resources}
    for resource in logging:
        if not any(a.urn in depends_on(resource, by_urn) for a in accounts):
            yield resource, f"{resource.name} may be created before the account's logging role"


@deploy_rule(
    id="AWS-DEPLOY-032",
    title="WAF logs go to a log group named aws-waf-logs-*",
    category="deploy-failure",
    source=WAF_LOG_GROUP_SOURCE,
    error="WAFInvalidParameterException: Error reason: The ARN isn't valid, field: LOG_DESTINATION",
    remediation="Name the log group aws-waf-logs-<something> (ApiGateway does).",
    types=[WAF_LOGGING],
)
def _waf_log_group_name(resource: Resource, context: DeployContext) -> Iterator[str]:
    """AWS WAF delivers to CloudWatch Logs only into log groups whose name starts with
    ``aws-waf-logs-``."""
    for destination in as_list(resource.get("logDestinationConfigs")):
        text = str(destination)
        if ":log-group:" not in text:
            continue
        name = text.split(":log-group:", 1)[1].split(":", 1)[0]
        if not name.startswith(WAF_LOG_PREFIX):
            yield f"{resource.name} logs to {name}, which does not start with {WAF_LOG_PREFIX}"


@deploy_rule(
    id="AWS-DEPLOY-033",
    title="A gateway deployment is created after its methods and integrations",
    category="deploy-failure",
    source=APIGW_DEPLOYMENT_SOURCE,
    error="BadRequestException: The REST API doesn't contain any methods / No integration "
    "defined for method",
    remediation="Make the aws.apigateway.Deployment depend on every method and integration "
    "(and use triggers so changes redeploy); ApiGateway does.",
)
def _deployment_after_methods(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """A deployment snapshots the API as it is when created: every method and
    integration of the stack must exist by then (one REST API per stack)."""
    deployments = of_type(resources, APIGW_DEPLOYMENT)
    if not deployments:
        raise NotApplicable("no API Gateway deployment")
    by_urn = {r.urn: r for r in resources}
    needed = of_type(resources, APIGW_METHOD, APIGW_INTEGRATION)
    for deployment in deployments:
        reached = depends_on(deployment, by_urn)
        missing = [r.name for r in needed if r.urn not in reached]
        if not needed:
            yield deployment, f"{deployment.name} deploys an API without methods"
        elif missing:
            yield (
                deployment,
                (f"{deployment.name} may be created before {', '.join(sorted(missing))}"),
            )


@deploy_rule(
    id="AWS-DEPLOY-034",
    title="An enhanced TLS security policy needs an endpoint access mode",
    category="deploy-failure",
    source=APIGW_SECURITY_POLICY_SOURCE,
    error="BadRequestException: endpointAccessMode is required for security policy "
    "SecurityPolicy_*",
    remediation="Set endpoint_access_mode (STRICT, or BASIC while migrating) with a "
    "SecurityPolicy_* security policy (ApiGateway sets STRICT).",
    types=[REST_API, "aws:apigateway/domainName:DomainName"],
)
def _security_policy_access_mode(resource: Resource, context: DeployContext) -> Iterator[str]:
    """API Gateway refuses an enhanced security policy (``SecurityPolicy_...``) without
    an endpoint access mode, on an API or a custom domain."""
    policy = str(resource.get("securityPolicy", default=""))
    if not policy.startswith("SecurityPolicy_"):
        raise NotApplicable("a legacy or default security policy")
    if resource.get("endpointAccessMode") not in ("BASIC", "STRICT"):
        yield f"{resource.name} uses {policy} without endpoint_access_mode BASIC or STRICT"


@deploy_rule(
    id="AWS-DEPLOY-035",
    title="A private gateway is deployed after its resource policy",
    category="deploy-failure",
    source=APIGW_PRIVATE_SOURCE,
    error="BadRequestException: Private REST API doesn't have a resource policy attached to it",
    remediation="Give the private API a resource policy (aws.apigateway.RestApiPolicy) and "
    "make the deployment depend on it (ApiGateway does).",
)
def _private_api_policy_first(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """A PRIVATE REST API cannot be deployed until a resource policy is attached: the
    deployment depends on the API's policy (a RestApiPolicy or the API's own input)."""
    private = [
        api
        for api in of_type(resources, REST_API)
        if "PRIVATE" in as_list(api.get("endpointConfiguration", "types"))
    ]
    if not private:
        raise NotApplicable("no private REST API")
    by_urn = {r.urn: r for r in resources}
    policies = of_type(resources, REST_API_POLICY)
    for deployment in of_type(resources, APIGW_DEPLOYMENT):
        if any(api.get("policy") for api in private):
            continue
        reached = depends_on(deployment, by_urn)
        if not policies:
            yield deployment, f"{deployment.name} deploys a private API without a resource policy"
        elif not any(p.urn in reached for p in policies):
            yield deployment, f"{deployment.name} may be created before the API's resource policy"


# ------------------------------------------------------------------ 36. replication order
#: S3's replication requirements: "Both source and destination buckets must have
#: versioning enabled"; PutBucketReplication answers otherwise with the error below.
REPLICATION_REQUIREMENTS = (
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html"
)
REPLICATION_CONFIG = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"


@deploy_rule(
    id="AWS-DEPLOY-036",
    title="Replication is configured after both buckets are versioned",
    category="deploy-failure",
    source=REPLICATION_REQUIREMENTS,
    error="InvalidRequest: Versioning must be 'Enabled' on the bucket to apply a replication "
    "configuration",
    remediation="Make the aws.s3.BucketReplicationConfig depend on the versioning of its "
    "source and of its destination (Recovery does: ReplicationSource.depends_on names the "
    "source's SecureBucket).",
)
def _replication_after_versioning(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """A replication configuration is created only once the source and destination
    buckets are both versioned: S3 refuses it before."""
    configs = of_type(resources, REPLICATION_CONFIG)
    if not configs:
        raise NotApplicable("no bucket replicates (no recovery region)")
    by_urn = {r.urn: r for r in resources}
    versionings = of_type(resources, BUCKET_VERSIONING)
    for config in configs:
        reached = depends_on(config, by_urn)
        targets = [config.get("bucket")] + [
            (rule.get("destination") or {}).get("bucket")
            for rule in config.items("rules")
            if isinstance(rule, Mapping)
        ]
        for target in targets:
            if not isinstance(target, str) or not target:
                continue
            buckets = [b for b in of_type(resources, BUCKET) if bucket_refers_to(target, b)]
            for bucket in buckets:
                own = [
                    v
                    for v in versionings
                    if bucket.urn in depends_on(v, by_urn)
                    or bucket_refers_to(v.get("bucket"), bucket)
                ]
                if not any(v.urn in reached for v in own):
                    yield (
                        config,
                        (f"{config.name} may be created before {bucket.name} is versioned"),
                    )
