"""Recovery: a replica of a bucket in the recovery region, under the same controls.

The replica is a :class:`~aiscaffold_components.gcp.SecureBucket` (uniform access,
public access prevention enforced, CMEK only, versioning or retention, soft delete) in
the recovery region, encrypted with a key that lives there: Cloud Storage only uses a
key in the bucket's own location ("the key ring must be in the same location as the
data you intend to encrypt",
https://cloud.google.com/storage/docs/encryption/customer-managed-keys#key-storage), so
the caller passes a key of a :class:`~aiscaffold_components.gcp.Keys` created in the
recovery region (its ``data`` key, whose user is the Cloud Storage service agent).

The source bucket is never moved: a bucket's location cannot change, and changing it in
the program replaces the bucket with an empty one.

Objects are copied by cross-bucket replication: a Storage Transfer Service job with a
``replicationSpec`` (https://cloud.google.com/storage/docs/cross-bucket-replication,
https://cloud.google.com/storage-transfer/docs/reference/rest/v1/transferJobs#ReplicationSpec).
It copies new and updated objects asynchronously, event-driven ("most objects replicate
within minutes; objects over 1 GiB can take hours", no SLA): an RPO of minutes. It does
not copy the objects that exist before the job is created (a one-off batch transfer
does, see docs/disaster-recovery.md) and never deletes in the replica (delete options
are refused), so a deletion in the primary leaves the replica's copy.

Storage Transfer Service acts as its service agent,
``project-<number>@storage-transfer-service.iam.gserviceaccount.com``, created on the
first ``googleServiceAccounts.get`` call (the invoke this component makes, after the
Storage Transfer API is enabled: pass that ``projects.Service`` in ``depends_on``). It is
granted what the console grants for a replication job, on the two buckets only
(https://cloud.google.com/storage/docs/using-cross-bucket-replication):
``roles/storage.legacyBucketOwner`` on the source (it reads objects and registers the
change notifications the job listens to) and ``roles/storage.legacyBucketWriter`` on the
replica (https://cloud.google.com/storage-transfer/docs/sink-cloud-storage).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from ._common import child_opts, wait_for_dependencies
from .storage import SecureBucket, SecureBucketArgs

__all__ = ["SINK_ROLE", "SOURCE_ROLE", "ReplicatedBucket", "ReplicatedBucketArgs"]

#: The Storage Transfer service agent's role on the source bucket.
SOURCE_ROLE = "roles/storage.legacyBucketOwner"
#: The Storage Transfer service agent's role on the replica.
SINK_ROLE = "roles/storage.legacyBucketWriter"


@dataclass(frozen=True)
class ReplicatedBucketArgs:
    """Arguments of :class:`ReplicatedBucket`."""

    project: pulumi.Input[str]
    """Project id (of the transfer job and the replica)."""

    source_bucket: pulumi.Input[str]
    """Name of the bucket to replicate (unchanged by this component)."""

    location: pulumi.Input[str]
    """The recovery region (``dr_region``): where the replica lives."""

    kms_key_name: pulumi.Input[str]
    """A key in the recovery region usable by the Cloud Storage service agent (the
    ``data`` key of a ``Keys`` in ``location``)."""

    retention_days: int | None = None
    """Retention policy of the replica, as the source's (``None``: versioning)."""

    usage_log_bucket: pulumi.Input[str] | None = None
    """Bucket receiving the replica's usage logs, as the source's."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the replica (``data-zone: replica`` is added)."""


class ReplicatedBucket(pulumi.ComponentResource):
    """A hardened replica of a bucket in the recovery region, fed by cross-bucket
    replication."""

    bucket_name: pulumi.Output[str]
    """Name of the replica."""
    transfer_job_name: pulumi.Output[str]
    transfer_agent: pulumi.Output[str]
    """IAM member of the Storage Transfer service agent."""

    def __init__(
        self, name: str, args: ReplicatedBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:gcp:ReplicatedBucket", name, None, opts)
        wait_for_dependencies(self, opts)
        child = child_opts(self)

        replica = SecureBucket(
            f"{name}-replica",
            SecureBucketArgs(
                project=args.project,
                location=args.location,
                kms_key_name=args.kms_key_name,
                retention_days=args.retention_days,
                usage_log_bucket=args.usage_log_bucket,
                labels={**args.labels, "data-zone": "replica"},
            ),
            opts=child,
        )
        # The service agent exists once googleServiceAccounts.get has been called, which
        # needs the Storage Transfer API: the invoke waits for what the component waits for.
        agent = gcp.storage.get_transfer_project_service_account_output(
            project=args.project,
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=child.depends_on),
        )
        self.transfer_agent = agent.member
        source_grant = gcp.storage.BucketIAMMember(
            f"{name}-transfer-source",
            bucket=args.source_bucket,
            role=SOURCE_ROLE,
            member=agent.member,
            opts=child,
        )
        sink_grant = gcp.storage.BucketIAMMember(
            f"{name}-transfer-sink",
            bucket=replica.bucket_name,
            role=SINK_ROLE,
            member=agent.member,
            opts=child,
        )
        job = gcp.storage.TransferJob(
            f"{name}-replication",
            project=args.project,
            description=pulumi.Output.concat("aiscaffold replica of ", args.source_bucket),
            replication_spec=gcp.storage.TransferJobReplicationSpecArgs(
                gcs_data_source=gcp.storage.TransferJobReplicationSpecGcsDataSourceArgs(
                    bucket_name=args.source_bucket
                ),
                gcs_data_sink=gcp.storage.TransferJobReplicationSpecGcsDataSinkArgs(
                    bucket_name=replica.bucket_name
                ),
            ),
            logging_config=gcp.storage.TransferJobLoggingConfigArgs(
                log_actions=["FIND", "COPY"],
                log_action_states=["SUCCEEDED", "FAILED"],
            ),
            status="ENABLED",
            opts=child_opts(self, depends_on=[source_grant, sink_grant]),
        )

        self.bucket_name = replica.bucket_name
        self.transfer_job_name = job.name
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "transfer_job_name": self.transfer_job_name,
                "transfer_agent": self.transfer_agent,
            }
        )
