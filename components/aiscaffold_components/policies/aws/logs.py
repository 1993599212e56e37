"""CloudWatch Logs: log groups encrypted with the logs key and kept for the profile's retention."""

from __future__ import annotations

from collections.abc import Iterator

from .._core import Requirements, Resource, resource_policy
from ._util import cloudwatch_retention

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


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
