"""CloudWatch Logs: log groups encrypted with the logs key and kept for the profile's retention."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .._core import Requirements, Resource, resource_policy
from ._util import as_list, cloudwatch_retention, document, grants, statements
from .iam import IDENTITY_POLICIES

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
#: The log groups SageMaker AI creates itself, as the execution role
#: (WorkloadIdentity ``creates_log_groups``): the one documented exception.
_SERVICE_CREATED_GROUPS = re.compile(r"arn:aws[a-z-]*:logs:[^:]*:[^:]*:log-group:/aws/sagemaker/.*")


@resource_policy(
    id="AWS-LOGS-001",
    title="Log groups encrypted with a project key",
    severity="medium",
    types=[LOG_GROUP],
    controls=["KEY-01"],
    remediation="Set kms_key_id to the project's logs key.",
)
def log_group_encrypted(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Log events are encrypted with the project's logs key, so reading them takes a key
    grant as well as a logs permission."""
    if not resource.get("kmsKeyId"):
        yield f"{resource.name} is not encrypted with a project key"


@resource_policy(
    id="AWS-LOGS-002",
    title="Log groups keep events for the profile's retention",
    severity="medium",
    types=[LOG_GROUP],
    controls=["LOG-04"],
    remediation="Set retention_in_days to the stack's log_retention_days, rounded up to a value "
    "CloudWatch Logs accepts (913 becomes 1096).",
)
def log_group_retention(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Events are kept at least ``log_retention_days`` (CloudWatch accepts fixed periods:
    the next one up) and expire afterwards; unset or 0 keeps them forever."""
    required = requirements.setting("log_retention_days")
    days = resource.get("retentionInDays", default=0)
    if not days:
        yield f"{resource.name} keeps events forever: set a retention of {cloudwatch_retention(required)} days"
    elif days < required:
        yield f"{resource.name} keeps events {days:g} days; the profile asks for {required}"


@resource_policy(
    id="AWS-LOGS-003",
    title="The workload creates no log groups, except SageMaker AI's own",
    severity="medium",
    types=IDENTITY_POLICIES,
    controls=["KEY-01", "LOG-04"],
    remediation="Create the log group in the program (WorkloadIdentity log_group_name: "
    "encrypted with the logs key, kept for the profile's retention) and grant only "
    "logs:CreateLogStream and logs:PutLogEvents on it. creates_log_groups=True is for SageMaker "
    "AI's /aws/sagemaker/* groups; another service that must create its own groups needs an "
    "override of AWS-LOGS-003 in policy/enforcement.yaml, with the reason.",
)
def no_workload_log_groups(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """No identity policy grants ``logs:CreateLogGroup`` beyond SageMaker AI's
    ``/aws/sagemaker/*`` groups (which the service creates as the execution role): a
    group the workload creates is encrypted with a CloudWatch Logs key rather than the
    project's, and keeps its events forever."""
    for index, st in enumerate(statements(document(resource, "policy"), "Allow")):
        if not grants(st, "logs:CreateLogGroup"):
            continue
        other = [
            str(r)
            for r in as_list(st.get("Resource"))
            if not _SERVICE_CREATED_GROUPS.fullmatch(str(r))
        ]
        if other:
            sid = st.get("Sid") or f"#{index}"
            yield (
                f"{resource.name} statement {sid} lets its principal create log groups "
                f"({', '.join(other)}), which the project's logs key does not encrypt"
            )
