"""Audit logging: Data Access audit logs kept in a CMEK log bucket and a GCS archive.

``projects.IAMAuditConfig`` turns on ADMIN_READ, DATA_READ and DATA_WRITE audit logs
for the AI, storage, secret and key services (admin writes are always logged by
Google). A sink routes every audit log, the VPC flow and firewall logs and Model
Armor's screening logs to a regional Cloud Logging bucket encrypted with the logs key
and kept for ``retention_days`` (locked when the profile asks for immutable logs); a
second sink copies them to a :class:`~aiscaffold_components.gcp.SecureBucket` archive
with a retention policy of the same length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from ._common import child_opts, labels_of, wait_for_dependencies
from .storage import SecureBucket, SecureBucketArgs

__all__ = ["AUDITED_SERVICES", "LOG_FILTER", "AuditLogging", "AuditLoggingArgs"]

#: Services whose Data Access audit logs are enabled.
AUDITED_SERVICES: tuple[str, ...] = (
    "aiplatform.googleapis.com",
    "storage.googleapis.com",
    "secretmanager.googleapis.com",
    "cloudkms.googleapis.com",
)

#: What the sinks route: audit logs, network flow and firewall logs, Model Armor.
LOG_FILTER = " OR ".join(
    (
        'logName:"cloudaudit.googleapis.com"',
        'logName:"compute.googleapis.com%2Fvpc_flows"',
        'logName:"compute.googleapis.com%2Ffirewall"',
        'logName:"modelarmor.googleapis.com"',
    )
)


@dataclass(frozen=True)
class AuditLoggingArgs:
    """Arguments of :class:`AuditLogging`."""

    project: pulumi.Input[str]
    """Project id."""

    location: pulumi.Input[str]
    """Region of the log bucket and the archive bucket."""

    kms_key_name: pulumi.Input[str]
    """The logs key (``Keys.key_ids["logs"]``)."""

    retention_days: int = 365
    """Days logs are kept, in the log bucket and the archive (LOG-04)."""

    locked: bool = True
    """Lock the log bucket and the archive's retention policy (irreversible). False is
    a weakening of LOG-03 for profiles that do not ask for immutable logs."""

    services: Sequence[str] = AUDITED_SERVICES
    """Services whose audit logs are configured; leaving one of :data:`AUDITED_SERVICES`
    out is a weakening (LOG-02): its data reads and writes go unrecorded."""

    data_access_logs: bool = True
    """Weakening when false (LOG-02): only ADMIN_READ, no DATA_READ / DATA_WRITE."""

    archive: bool = True
    """Weakening when false: no GCS archive copy of the logs."""

    protect: bool = True
    """Guard the log bucket and the archive with Pulumi's protect option (GOV-05)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the archive bucket (log buckets and sinks take none)."""


class AuditLogging(pulumi.ComponentResource):
    """Audit configs, a locked CMEK log bucket, sinks and a GCS archive."""

    log_bucket_id: pulumi.Output[str]
    """Id of the Cloud Logging bucket (``projects/../locations/../buckets/..``)."""
    archive_bucket_name: pulumi.Output[str] | None
    """Name of the GCS archive bucket (``None`` without an archive)."""

    def __init__(
        self, name: str, args: AuditLoggingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:gcp:AuditLogging", name, None, opts)
        wait_for_dependencies(self, opts)
        labels_of(args.labels)
        child = child_opts(self)

        log_types = (
            ["ADMIN_READ", "DATA_READ", "DATA_WRITE"] if args.data_access_logs else ["ADMIN_READ"]
        )
        for service in args.services:
            gcp.projects.IAMAuditConfig(
                f"{name}-{service.split('.')[0]}",
                project=args.project,
                service=service,
                audit_log_configs=[
                    gcp.projects.IAMAuditConfigAuditLogConfigArgs(log_type=t) for t in log_types
                ],
                opts=child,
            )

        bucket = gcp.logging.ProjectBucketConfig(
            f"{name}-log-bucket",
            project=args.project,
            location=args.location,
            bucket_id=f"{name}-logs",
            description="Audit, network and guardrail logs (aiscaffold)",
            retention_days=args.retention_days,
            locked=args.locked,
            cmek_settings=gcp.logging.ProjectBucketConfigCmekSettingsArgs(
                kms_key_name=args.kms_key_name
            ),
            opts=child_opts(self, protect=args.protect),
        )
        gcp.logging.ProjectSink(
            f"{name}-sink",
            project=args.project,
            destination=pulumi.Output.concat("logging.googleapis.com/", bucket.id),
            filter=LOG_FILTER,
            unique_writer_identity=True,
            description="Audit logs to the locked CMEK log bucket",
            opts=child,
        )

        self.archive_bucket_name = None
        if args.archive:
            archive = SecureBucket(
                f"{name}-archive",
                SecureBucketArgs(
                    project=args.project,
                    location=args.location,
                    kms_key_name=args.kms_key_name,
                    retention_days=args.retention_days,
                    lock_retention=args.locked,
                    labels=args.labels,
                ),
                opts=child_opts(self, protect=args.protect),
            )
            archive_sink = gcp.logging.ProjectSink(
                f"{name}-archive-sink",
                project=args.project,
                destination=pulumi.Output.concat("storage.googleapis.com/", archive.bucket_name),
                filter=LOG_FILTER,
                unique_writer_identity=True,
                description="Audit logs to the GCS archive",
                opts=child,
            )
            # The sink writes as the project's Cloud Logging service agent.
            gcp.storage.BucketIAMMember(
                f"{name}-archive-writer",
                bucket=archive.bucket_name,
                role="roles/storage.objectCreator",
                member=archive_sink.writer_identity,
                opts=child,
            )
            self.archive_bucket_name = archive.bucket_name

        self.log_bucket_id = bucket.id
        self.register_outputs(
            {"log_bucket_id": self.log_bucket_id, "archive_bucket_name": self.archive_bucket_name}
        )
