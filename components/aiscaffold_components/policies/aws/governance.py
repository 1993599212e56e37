"""Governance: keys and audit log stores guarded from deletion where the profile asks for it.

``AWS-GOV-001`` (classification tags) and ``AWS-GOV-002`` (residency) are the shared
policies of ``policies/common.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .._core import NotApplicable, Requirements, Resource, stack_policy
from ._util import bucket_refers_to, of_type, refers_to
from .kms import KEY
from .logs import LOG_GROUP
from .s3 import BUCKETS, INVOCATION_LOGGING, log_bucket_references
from .trail import TRAIL


def _audit_log_groups(resources: Sequence[Resource]) -> list[Resource]:
    references = [t.get("cloudWatchLogsGroupArn", default="") for t in of_type(resources, TRAIL)]
    references += [
        c.get("loggingConfig", "cloudwatchConfig", "logGroupName", default="")
        for c in of_type(resources, INVOCATION_LOGGING)
    ]
    return [
        group
        for group in of_type(resources, LOG_GROUP)
        if any(refers_to(ref, group) for ref in references if ref)
    ]


@stack_policy(
    id="AWS-GOV-003",
    title="Keys and audit log stores are protected from deletion",
    severity="medium",
    controls=["GOV-05"],
    remediation="Pass protect=profile.deletion_protection to Keys and AuditLogging (the "
    "generated program does); log groups also get deletion_protection_enabled.",
)
def deletion_protection(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Where the profile asks for deletion protection, KMS keys, trails, the buckets that
    receive logs and the trail's and model invocations' log groups carry Pulumi's
    ``protect`` option (and log groups CloudWatch's deletion protection), so no
    ``pulumi destroy`` or refactoring deletes them."""
    if not requirements.setting("deletion_protection"):
        raise NotApplicable("the profile does not ask for deletion protection")
    audit, access = log_bucket_references(resources)
    guarded = [
        *of_type(resources, KEY),
        *of_type(resources, TRAIL),
        *(
            b
            for b in of_type(resources, *BUCKETS)
            if any(bucket_refers_to(ref, b) for ref in [*audit, *access])
        ),
    ]
    for resource in guarded:
        if not resource.protect:
            yield resource, f"{resource.name} is not protected from deletion"
    for group in _audit_log_groups(resources):
        if not group.protect or group.get("deletionProtectionEnabled") is not True:
            yield group, f"{group.name} is not protected from deletion"
