"""CloudTrail: a multi-region, validated, encrypted trail of every management and data event."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import as_list, bucket_refers_to, of_type
from .iam import deploys_workload
from .s3 import BUCKETS, LOGGING, companions, log_bucket_references

TRAIL = "aws:cloudtrail/trail:Trail"
GUARDRAIL = "aws:bedrock/guardrail:Guardrail"

#: Data event types of each AI service's data plane recorded by the trail.
AI_DATA_EVENTS: Mapping[str, tuple[str, ...]] = {
    "bedrock": ("AWS::Bedrock::Guardrail",),
    "sagemaker": ("AWS::SageMaker::Endpoint",),
}


def _multi_region(trail: Resource) -> bool:
    return (
        trail.get("isMultiRegionTrail") is True
        and trail.get("includeGlobalServiceEvents", default=True) is True
    )


@resource_policy(
    id="AWS-TRAIL-001",
    title="Trail covers every region and global services",
    severity="high",
    types=[TRAIL],
    controls=["LOG-01"],
    remediation="Set is_multi_region_trail=True and include_global_service_events=True "
    "(AuditLogging does).",
)
def multi_region(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The trail records every region (an attacker's first move is often an unused region)
    and global services such as IAM."""
    if resource.get("isMultiRegionTrail") is not True:
        yield f"{resource.name} records one region only"
    if resource.get("includeGlobalServiceEvents", default=True) is not True:
        yield f"{resource.name} leaves out global service events (IAM, STS, CloudFront)"


@resource_policy(
    id="AWS-TRAIL-002",
    title="Trail log file validation on",
    severity="high",
    types=[TRAIL],
    controls=["LOG-03", "LOG-01"],
    remediation="Set enable_log_file_validation=True.",
)
def log_file_validation(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Log file validation is on: CloudTrail signs digest files, so altered or deleted log
    files are detected."""
    if resource.get("enableLogFileValidation") is not True:
        yield f"{resource.name} does not validate its log files"


@resource_policy(
    id="AWS-TRAIL-003",
    title="Trail encrypted with a project key",
    severity="high",
    types=[TRAIL],
    controls=["KEY-01"],
    remediation="Set kms_key_id to the project's logs key.",
)
def trail_encrypted(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Log files are encrypted with the project's logs key (SSE-KMS), not only S3's
    default encryption."""
    if not resource.get("kmsKeyId"):
        yield f"{resource.name} does not encrypt its log files with a project key"


@resource_policy(
    id="AWS-TRAIL-004",
    title="Trail delivers to CloudWatch Logs",
    severity="medium",
    types=[TRAIL],
    controls=["LOG-01"],
    remediation="Set cloud_watch_logs_group_arn and cloud_watch_logs_role_arn (AuditLogging does).",
)
def cloudwatch_delivery(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Events also go to a CloudWatch Logs group, where metric filters and alarms can watch
    them as they happen."""
    if not resource.get("cloudWatchLogsGroupArn") or not resource.get("cloudWatchLogsRoleArn"):
        yield f"{resource.name} does not deliver to CloudWatch Logs"


def _selectors(trail: Resource) -> list[Mapping[str, Any]]:
    return [s for s in trail.items("advancedEventSelectors") if isinstance(s, Mapping)]


def _fields(selector: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {
        str(f.get("field")): f
        for f in as_list(selector.get("fieldSelectors"))
        if isinstance(f, Mapping)
    }


def records_all_management_events(trail: Resource) -> bool:
    advanced = _selectors(trail)
    classic = [s for s in trail.items("eventSelectors") if isinstance(s, Mapping)]
    if not advanced and not classic:
        return True  # CloudTrail's default: every management event, reads and writes
    for selector in advanced:
        fields = _fields(selector)
        category = fields.get("eventCategory") or {}
        if "Management" in as_list(category.get("equals")) and set(fields) == {"eventCategory"}:
            return True
    for selector in classic:
        if (
            selector.get("includeManagementEvents", True) is True
            and selector.get("readWriteType", "All") == "All"
            and not as_list(selector.get("excludeManagementEventSources"))
        ):
            return True
    return False


@resource_policy(
    id="AWS-TRAIL-005",
    title="Trail logs every management event",
    severity="high",
    types=[TRAIL],
    controls=["LOG-01"],
    remediation="Keep enable_logging on and select all management events, reads and writes, "
    "without exclusions.",
)
def all_management_events(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Logging is on and the trail records every management event, reads and writes, from
    every source."""
    if resource.get("enableLogging", default=True) is not True:
        yield f"{resource.name} has logging stopped"
    if not records_all_management_events(resource):
        yield f"{resource.name} leaves out management events (reads, writes or sources)"


@stack_policy(
    id="AWS-TRAIL-006",
    title="A multi-region trail records the account",
    severity="high",
    controls=["LOG-01"],
    remediation="Create the trail with AuditLogging.",
)
def trail_exists(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A stack deploying the workload has a logging, multi-region trail recording
    management events: every control-plane action of the account is on record."""
    if not deploys_workload(resources):
        raise NotApplicable("the stack deploys no workload (a state backend, say)")
    trails = [
        t
        for t in of_type(resources, TRAIL)
        if _multi_region(t)
        and t.get("enableLogging", default=True) is True
        and records_all_management_events(t)
    ]
    if not trails:
        yield None, "no logging multi-region trail records every management event"


def _data_selectors(trail: Resource) -> Iterator[tuple[str, list[str]]]:
    """(resource type, ARN prefixes; empty: all) of each data event selector."""
    for selector in _selectors(trail):
        fields = _fields(selector)
        if "Data" not in as_list((fields.get("eventCategory") or {}).get("equals")):
            continue
        arn = fields.get("resources.ARN") or {}
        prefixes = [
            *[str(v) for v in as_list(arn.get("startsWiths"))],
            *[str(v) for v in as_list(arn.get("equals"))],
        ]
        for kind in as_list((fields.get("resources.type") or {}).get("equals")):
            yield str(kind), prefixes
    for selector in trail.items("eventSelectors"):
        for data in as_list(selector.get("dataResources")):
            values = [str(v) for v in as_list(data.get("values"))]
            wide = [v for v in values if v in ("arn:aws:s3", "arn:aws:s3:::")]
            yield str(data.get("type")), [] if wide else values


_S3_ARN = re.compile(r"arn:aws[a-z-]*:s3:::(?P<tail>.*)")


def _selects(prefix: str, bucket: Resource) -> bool:
    """Whether an S3 object selector's ARN prefix covers every object of ``bucket``.

    ``arn:<partition>:s3:::name-prefix`` covers the buckets whose name starts so;
    ``arn:<partition>:s3:::bucket/`` covers one bucket, matched by its name (or
    Pulumi's auto-name: a bucket with a name prefix gets its full name only when it is
    created, so an exact selector cannot be matched to it here); a key prefix after the
    slash covers part of a bucket only.
    """
    match = _S3_ARN.fullmatch(prefix)
    if match is None:
        return False
    name_part, slash, key_part = match.group("tail").partition("/")
    if key_part:
        return False
    name, name_prefix = bucket.get("bucket"), bucket.get("bucketPrefix")
    if slash:
        if isinstance(name, str) and name:
            return name == name_part
        if isinstance(name_prefix, str) and name_prefix:
            return False
        return bucket_refers_to(name_part, bucket)
    if isinstance(name, str) and name:
        return name.startswith(name_part)
    if isinstance(name_prefix, str) and name_prefix:
        return name_prefix.startswith(name_part)
    return f"{bucket.name}-".startswith(name_part)


@stack_policy(
    id="AWS-TRAIL-007",
    title="Data events of the project's buckets and AI service are recorded",
    severity="medium",
    controls=["LOG-02"],
    remediation="Select S3 object data events of the data buckets, of the access-log bucket "
    "(AuditLogging does) and the AI service's data events (AuditLogging "
    "data_event_bucket_prefixes and data_event_resource_types).",
)
def data_events(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A trail records object reads and writes of every data bucket, of every bucket that
    receives access logs without having its own (S3 cannot log a bucket into itself, so
    the trail is its only access record), the AI service's data events, and the
    guardrail's (ApplyGuardrail) wherever the stack has a guardrail. The buckets
    the trail and the AI service deliver to are left out: their access logs record them,
    and recording the trail's own deliveries would feed it. Buckets are matched by name,
    name prefix or Pulumi's auto-name."""
    trails = of_type(resources, TRAIL)
    if not trails:
        raise NotApplicable("no trail (AWS-TRAIL-006)")
    selectors = [s for t in trails for s in _data_selectors(t)]
    object_prefixes = [p for kind, p in selectors if kind == "AWS::S3::Object"]
    recorded_types = {kind for kind, _ in selectors}
    audit, access = log_bucket_references(resources)
    for bucket in of_type(resources, *BUCKETS):
        if any(bucket_refers_to(ref, bucket) for ref in audit):
            continue
        receives_access_logs = any(bucket_refers_to(ref, bucket) for ref in access)
        if receives_access_logs and companions(bucket, resources, LOGGING):
            continue
        covered = any(
            not prefixes or any(_selects(p, bucket) for p in prefixes)
            for prefixes in object_prefixes
        )
        if not covered:
            detail = ", which has no access logs of its own" if receives_access_logs else ""
            yield bucket, f"no trail records object reads and writes of {bucket.name}{detail}"
    kinds = set(AI_DATA_EVENTS.get(requirements.ai_service, ()))
    if of_type(resources, GUARDRAIL):
        kinds.add("AWS::Bedrock::Guardrail")  # ApplyGuardrail calls, whatever the AI service
    for kind in sorted(kinds):
        if kind not in recorded_types:
            yield None, f"no trail records {kind} data events"
