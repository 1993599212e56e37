"""Cloud Storage buckets: never public, CMEK only, recoverable, access recorded."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import BUCKET_TYPE, DAY, audited, days_text, of_type, refers_to, some

#: Cloud Storage's soft-delete duration when a bucket names none.
DEFAULT_SOFT_DELETE = 7 * DAY
#: How long deleted objects must stay restorable.
MIN_SOFT_DELETE = 30 * DAY
_REFUSED = "FullyRestricted"


@resource_policy(
    id="GCP-STORAGE-001",
    title="Buckets use uniform bucket-level access",
    severity="high",
    types=[BUCKET_TYPE],
    controls=["GOV-03"],
    remediation="Set uniform_bucket_level_access=True: IAM alone decides access, no object ACLs.",
)
def uniform_access(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Access is decided by IAM alone: object ACLs, which can make single objects
    public, are disabled."""
    if resource.get("uniformBucketLevelAccess") is not True:
        yield f"{resource.name} allows object ACLs"


@resource_policy(
    id="GCP-STORAGE-002",
    title="Buckets enforce public access prevention",
    severity="critical",
    types=[BUCKET_TYPE],
    controls=["GOV-03", "PE-03"],
    remediation="Set public_access_prevention='enforced'.",
)
def public_access_prevention(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Public access prevention is enforced on the bucket itself, whatever the
    organization policy says, so no grant can make it public."""
    value = resource.get("publicAccessPrevention", default="inherited")
    if value != "enforced":
        yield f"{resource.name} has public access prevention {value}"


@resource_policy(
    id="GCP-STORAGE-003",
    title="Buckets encrypt with a customer-managed key by default",
    severity="high",
    types=[BUCKET_TYPE],
    controls=["KEY-01"],
    remediation="Set encryption.default_kms_key_name to the key for the bucket's purpose.",
)
def bucket_cmek(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """New objects are encrypted with the project's key for the bucket's purpose."""
    if not resource.get("encryption", "defaultKmsKeyName"):
        yield f"{resource.name} has no default customer-managed key"


@resource_policy(
    id="GCP-STORAGE-004",
    title="Buckets refuse Google-managed and customer-supplied encryption",
    severity="medium",
    types=[BUCKET_TYPE],
    controls=["KEY-01"],
    remediation="Set restriction_mode 'FullyRestricted' in the encryption's "
    "google_managed_encryption_enforcement_config and "
    "customer_supplied_encryption_enforcement_config.",
)
def bucket_cmek_only(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A client cannot bypass the default key: objects encrypted with Google-managed or
    customer-supplied keys are refused."""
    for key, what in (
        ("googleManagedEncryptionEnforcementConfig", "Google-managed"),
        ("customerSuppliedEncryptionEnforcementConfig", "customer-supplied"),
    ):
        if resource.get("encryption", key, "restrictionMode") != _REFUSED:
            yield f"{resource.name} accepts objects with {what} encryption"


@resource_policy(
    id="GCP-STORAGE-005",
    title="Objects survive overwrites and deletes",
    severity="medium",
    types=[BUCKET_TYPE],
    controls=["GOV-04"],
    remediation="Enable versioning, or give the bucket a retention policy (Cloud Storage "
    "refuses both on one bucket).",
)
def recoverable_objects(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Either Object Versioning keeps overwritten and deleted objects, or a retention
    policy keeps every object unaltered for its period."""
    versioned = resource.get("versioning", "enabled") is True
    retained = resource.get("retentionPolicy", "retentionPeriod") is not None
    if not versioned and not retained:
        yield f"{resource.name} has neither versioning nor a retention policy"


@resource_policy(
    id="GCP-STORAGE-006",
    title="Soft delete keeps deleted objects for at least 30 days",
    severity="low",
    types=[BUCKET_TYPE],
    controls=["GOV-04"],
    remediation="Set soft_delete_policy.retention_duration_seconds to 30 days or more "
    "(SecureBucket(soft_delete_days=30) does).",
)
def soft_delete(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Deleted objects stay restorable for at least 30 days, as long as a destroyed key
    version: a deletion noticed at the next monthly review can still be undone. Cloud
    Storage's own default is 7 days; zero turns soft delete off."""
    duration = resource.get(
        "softDeletePolicy", "retentionDurationSeconds", default=DEFAULT_SOFT_DELETE
    )
    if float(duration) < MIN_SOFT_DELETE:
        yield (
            f"{resource.name} keeps deleted objects {days_text(float(duration))}; "
            f"at least {days_text(MIN_SOFT_DELETE)} are required"
        )


@resource_policy(
    id="GCP-STORAGE-007",
    title="Buckets cannot be deleted with their objects",
    severity="medium",
    types=[BUCKET_TYPE],
    controls=["GOV-04"],
    remediation="Leave force_destroy unset (False): delete objects deliberately first.",
)
def no_force_destroy(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """force_destroy lets `pulumi destroy` delete a bucket with every object in it."""
    if resource.get("forceDestroy") is True:
        yield f"{resource.name} may be deleted with its objects (force_destroy)"


@resource_policy(
    id="GCP-STORAGE-008",
    title="Buckets serve no static website",
    severity="medium",
    types=[BUCKET_TYPE],
    controls=["NET-05"],
    remediation="Remove the website configuration; serve content through an HTTPS load "
    "balancer if it must be public at all.",
)
def no_website(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Cloud Storage serves data only over HTTPS, except a bucket website reached
    through a CNAME, which is plain HTTP."""
    if resource.get("website"):
        yield f"{resource.name} is configured as a website (plain HTTP through a CNAME)"


def _receives_usage_logs(bucket: Resource, buckets: Sequence[Resource]) -> bool:
    return some(buckets, lambda b: refers_to(b.get("logging", "logBucket"), bucket))


@stack_policy(
    id="GCP-STORAGE-009",
    title="Every bucket records who reads and writes its objects",
    severity="medium",
    controls=["LOG-06"],
    remediation="Turn on Data Access audit logs (DATA_READ, DATA_WRITE) for "
    "storage.googleapis.com in the stack (AuditLogging), or send the bucket's usage "
    "logs to a log bucket (SecureBucket(usage_log_bucket=...)).",
)
def bucket_access_logged(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Each bucket's object reads and writes are recorded: by Data Access audit logs for
    Cloud Storage configured in the same stack, or by usage logs to a log bucket; a
    bucket receiving usage logs is the log itself."""
    buckets = of_type(resources, BUCKET_TYPE)
    if not buckets:
        raise NotApplicable("the stack creates no bucket")
    if audited(resources, "storage.googleapis.com"):
        return
    for bucket in buckets:
        if bucket.get("logging", "logBucket"):
            continue
        if _receives_usage_logs(bucket, buckets):
            continue
        yield (
            bucket,
            f"{bucket.name} records no access: no storage data access audit logs or usage logs",
        )
