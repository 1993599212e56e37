"""A Cloud Storage bucket hardened for data and logs.

Uniform bucket-level access (no object ACLs), public access prevention enforced,
default CMEK with Google-managed and customer-supplied encryption refused for new
objects, soft delete, and either Object Versioning or a retention policy: Cloud
Storage does not allow both on one bucket, and a retention policy already keeps every
object unaltered for its period, so buckets with ``retention_days`` go without
versioning. Objects expire once the retention period ends (storage limitation).
Access is granted per bucket to the members the caller names, never public.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from ._common import DAY, child_opts, labels_of, wait_for_dependencies

__all__ = ["SecureBucket", "SecureBucketArgs"]


@dataclass(frozen=True)
class SecureBucketArgs:
    """Arguments of :class:`SecureBucket`."""

    location: pulumi.Input[str]
    """Region of the bucket (regional buckets keep data in one region)."""

    kms_key_name: pulumi.Input[str]
    """Default CMEK key; must be in the bucket's region, usable by the Cloud Storage
    service agent."""

    project: pulumi.Input[str] | None = None
    """Project; the provider's project when unset."""

    retention_days: int | None = None
    """Retention policy: objects cannot be deleted or replaced for this many days, and
    are deleted after it. Excludes Object Versioning."""

    lock_retention: bool = False
    """Lock the retention policy (irreversible: the period can then only grow)."""

    versioning: bool | None = None
    """Object Versioning. Unset: on unless ``retention_days`` is set. ``False`` is a
    weakening (GOV-04) on buckets without retention; ``True`` with ``retention_days``
    is refused, as Cloud Storage refuses it."""

    soft_delete_days: int = 30
    """Days deleted objects stay restorable (7-90; 0 weakens recovery)."""

    force_destroy: bool = False
    """Weakening: let Pulumi delete the bucket with its objects."""

    usage_log_bucket: pulumi.Input[str] | None = None
    """Bucket receiving this bucket's usage logs (LOG-06); data access audit logs
    (AuditLogging) record every object access in any case."""

    object_viewers: Sequence[pulumi.Input[str]] = ()
    """Members granted roles/storage.objectViewer on this bucket."""

    object_creators: Sequence[pulumi.Input[str]] = ()
    """Members granted roles/storage.objectCreator on this bucket."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the bucket."""


class SecureBucket(pulumi.ComponentResource):
    """A private, CMEK-encrypted, versioned or retention-locked bucket."""

    bucket_name: pulumi.Output[str]
    url: pulumi.Output[str]
    bucket: gcp.storage.Bucket

    def __init__(
        self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:gcp:SecureBucket", name, None, opts)
        wait_for_dependencies(self, opts)
        if args.retention_days is not None and args.versioning:
            raise ValueError(
                "Cloud Storage does not allow Object Versioning on a bucket with a "
                "retention policy; the retention policy already keeps objects unaltered"
            )
        if args.lock_retention and args.retention_days is None:
            raise ValueError("lock_retention needs retention_days")
        if not (args.soft_delete_days == 0 or 7 <= args.soft_delete_days <= 90):
            raise ValueError("soft_delete_days must be 0 or between 7 and 90")
        versioning = args.versioning if args.versioning is not None else args.retention_days is None
        child = child_opts(self)

        refused = "FullyRestricted"
        self.bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            project=args.project,
            location=args.location,
            storage_class="STANDARD",
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            encryption=gcp.storage.BucketEncryptionArgs(
                default_kms_key_name=args.kms_key_name,
                google_managed_encryption_enforcement_config=gcp.storage.BucketEncryptionGoogleManagedEncryptionEnforcementConfigArgs(
                    restriction_mode=refused
                ),
                customer_supplied_encryption_enforcement_config=gcp.storage.BucketEncryptionCustomerSuppliedEncryptionEnforcementConfigArgs(
                    restriction_mode=refused
                ),
            ),
            versioning=gcp.storage.BucketVersioningArgs(enabled=versioning),
            retention_policy=(
                gcp.storage.BucketRetentionPolicyArgs(
                    retention_period=str(args.retention_days * DAY), is_locked=args.lock_retention
                )
                if args.retention_days is not None
                else None
            ),
            lifecycle_rules=(
                [
                    gcp.storage.BucketLifecycleRuleArgs(
                        action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                        condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                            age=args.retention_days
                        ),
                    )
                ]
                if args.retention_days is not None
                else None
            ),
            soft_delete_policy=gcp.storage.BucketSoftDeletePolicyArgs(
                retention_duration_seconds=args.soft_delete_days * DAY
            ),
            logging=(
                gcp.storage.BucketLoggingArgs(log_bucket=args.usage_log_bucket)
                if args.usage_log_bucket is not None
                else None
            ),
            force_destroy=args.force_destroy,
            labels=labels_of(args.labels),
            opts=child,
        )
        grants = [("roles/storage.objectViewer", m) for m in args.object_viewers]
        grants += [("roles/storage.objectCreator", m) for m in args.object_creators]
        for index, (role, member) in enumerate(grants):
            gcp.storage.BucketIAMMember(
                f"{name}-{role.split('.')[-1].lower()}-{index}",
                bucket=self.bucket.name,
                role=role,
                member=member,
                opts=child,
            )

        self.bucket_name = self.bucket.name
        self.url = self.bucket.url
        self.register_outputs({"bucket_name": self.bucket_name, "url": self.url})
