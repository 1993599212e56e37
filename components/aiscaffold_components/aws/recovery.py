"""Recovery (REC-01): replicas of the curated data and model artifacts in the DR region.

Only when the stack names a recovery region (``dr_region``). Everything in that region
is created through a second ``aws.Provider``: a customer-managed KMS key that lives
there (same rotation and deletion window as the data key), a server access log bucket,
and one replica bucket per source, each a :class:`~.storage.SecureBucket` (public access
blocked, versioning, SSE-KMS with the DR key, TLS 1.2+ only, access logging). A
replication role trusted by ``s3.amazonaws.com`` for this account, scoped to exactly the
source and replica buckets and the two keys, replicates each source with
``aws.s3.BucketReplicationConfig``.

Constraints this follows, from S3's documentation:

- Both buckets must be versioned; SSE-KMS objects replicate only when the rule opts in
  (``source_selection_criteria.sse_kms_encrypted_objects``) and names the destination
  key (``encryption_configuration.replica_kms_key_id``, a full key ARN: an alias would
  resolve in the caller's account). The role decrypts with the source key through S3 in
  the source region and encrypts with the destination key through S3 in the destination
  region, under the ``aws:s3:arn`` encryption context
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html).
- Replication Time Control replicates 99.99% of new objects within 15 minutes and needs
  replication metrics; its ``time.minutes`` and ``metrics.event_threshold.minutes`` must
  both be 15 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html).
  Without RTC, most objects replicate within 15 minutes, some take hours, with no SLA.
- Delete markers: replicated here (``delete_marker_replication`` Enabled), so a deletion
  in the primary shows in the replica as it does in the primary; S3 never replicates the
  deletion of a version (a ``DeleteObject`` with a version id), so every version stays
  restorable from the replica
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html).
- Existing objects are not replicated by a new rule (S3 Batch Replication copies them:
  docs/disaster-recovery.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ._common import Statement, aws_context, policy_json, same_account, service_trust
from .keys import KEY_ADMIN_ACTIONS
from .storage import SecureBucket, SecureBucketArgs, ServiceDelivery

__all__ = [
    "REPLICATION_GUIDE",
    "REPLICATION_VERSIONING_ERROR",
    "RTC_MINUTES",
    "Recovery",
    "RecoveryArgs",
    "ReplicationSource",
]

REPLICATION_GUIDE = (
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html"
)
#: What PutBucketReplication answers while the source or destination is not versioned
#: (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html).
REPLICATION_VERSIONING_ERROR = (
    "InvalidRequest: Versioning must be 'Enabled' on the bucket to apply a replication "
    "configuration"
)
#: The only threshold S3 Replication Time Control accepts, in minutes (time and metrics).
RTC_MINUTES = 15


@dataclass(frozen=True)
class ReplicationSource:
    """A bucket of the primary region to replicate."""

    label: str
    """Short name (``data``, ``model-artifacts``): the replica is ``<name>-<label>``."""
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    """The source bucket's key (the replication role decrypts with it through S3)."""
    replica_name_prefix: str
    """The replica bucket's name prefix (at most 37 characters)."""
    protect: bool = False
    """Guard the replica bucket with Pulumi's ``protect`` option."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What configures the source (its SecureBucket): S3 refuses a replication
    configuration until the source is versioned (``REPLICATION_VERSIONING_ERROR``)."""


@dataclass(frozen=True)
class RecoveryArgs:
    """Arguments of :class:`Recovery`."""

    dr_region: str
    """The recovery region: every replica, its key and its log bucket live there."""
    sources: Sequence[ReplicationSource]
    tags: Mapping[str, str]
    alias_prefix: str
    """The DR key's alias is ``alias/<alias_prefix>-dr-data``."""
    replication_role_name: str
    """Fixed, so the source key's policy can name the role before it exists."""
    access_log_name_prefix: str
    """Name prefix of the DR region's server access log bucket (at most 37 characters)."""
    access_log_retention_days: int = 365
    """Days the DR region's server access logs are kept (the profile's log retention)."""
    rotation_period_days: int = 365
    """The DR key's rotation period (the data key's: KMS accepts 90 to 2560)."""
    deletion_window_days: int = 30
    """The DR key's deletion window (the data key's: KMS accepts 7 to 30)."""
    replication_time_control: bool = True
    """S3 RTC (15 minutes for 99.99% of objects) with replication metrics. Weakening:
    ``False`` replicates without the SLA (cheaper; for data below restricted)."""
    protect: bool = False
    """Guard the DR key with Pulumi's ``protect`` option."""


class Recovery(pulumi.ComponentResource):
    """A DR-region key, replica buckets and the replication that fills them."""

    provider: aws.Provider
    dr_key_arn: pulumi.Output[str]
    replicas: dict[str, SecureBucket]
    """Replica buckets by source label."""
    replication_role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: RecoveryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not args.dr_region:
            raise ValueError("dr_region is required: without one, create no Recovery")
        if not args.sources:
            raise ValueError("sources must name the buckets to replicate")
        if not 90 <= args.rotation_period_days <= 2560:
            raise ValueError("rotation_period_days must be between 90 and 2560")
        if not 7 <= args.deletion_window_days <= 30:
            raise ValueError("deletion_window_days must be between 7 and 30")
        super().__init__("aiscaffold:aws:Recovery", name, None, opts)
        ctx = aws_context(self)
        child = pulumi.ResourceOptions(parent=self)
        self.provider = aws.Provider(f"{name}-provider", region=args.dr_region, opts=child)
        in_dr = pulumi.ResourceOptions(parent=self, provider=self.provider)
        dr_s3 = pulumi.Output.concat("s3.", args.dr_region, ".", ctx.dns_suffix)
        role_arn = pulumi.Output.concat(
            "arn:", ctx.partition, ":iam::", ctx.account_id, ":role/", args.replication_role_name
        )
        key_statements: list[Statement] = [
            {
                "sid": "KeyAdministrationByTheAccount",
                "effect": "Allow",
                "principals": [{"type": "AWS", "identifiers": [ctx.account_root]}],
                "actions": list(KEY_ADMIN_ACTIONS),
                "resources": ["*"],
            },
            {
                "sid": "ReplicationEncryptsReplicasThroughS3",
                "effect": "Allow",
                "principals": [{"type": "AWS", "identifiers": [ctx.account_root]}],
                "actions": ["kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                "resources": ["*"],
                "conditions": [
                    {"test": "ArnEquals", "variable": "aws:PrincipalArn", "values": [role_arn]},
                    {"test": "StringEquals", "variable": "kms:ViaService", "values": [dr_s3]},
                ],
            },
            # Restores and failover read the replicas: principals of this account whom
            # IAM allows (no role is granted this by the stack), through S3 in the DR
            # region only (docs/disaster-recovery.md, "Restore drill").
            {
                "sid": "AccountReadsReplicasThroughS3IfIamAllows",
                "effect": "Allow",
                "principals": [{"type": "AWS", "identifiers": [ctx.account_root]}],
                "actions": ["kms:Decrypt", "kms:DescribeKey"],
                "resources": ["*"],
                "conditions": [
                    {"test": "StringEquals", "variable": "kms:ViaService", "values": [dr_s3]},
                    same_account(ctx.account_id, "kms:CallerAccount"),
                ],
            },
        ]
        self.dr_key = aws.kms.Key(
            f"{name}-dr-key",
            description=f"{args.alias_prefix} DR data key in {args.dr_region} (aiscaffold)",
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            rotation_period_in_days=args.rotation_period_days,
            deletion_window_in_days=args.deletion_window_days,
            # A key of its own in the DR region, not a replica of the primary's key: an
            # outage or compromise of one region's key leaves the other's data readable.
            multi_region=False,
            bypass_policy_lockout_safety_check=False,
            policy=policy_json(key_statements, parent=self),
            tags={**args.tags, "purpose": "dr-data"},
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, protect=args.protect),
        )
        aws.kms.Alias(
            f"{name}-dr-key-alias",
            name=f"alias/{args.alias_prefix}-dr-data",
            target_key_id=self.dr_key.key_id,
            opts=in_dr,
        )
        self.dr_key_arn = self.dr_key.arn
        self.access_log_bucket = SecureBucket(
            f"{name}-access-logs",
            SecureBucketArgs(
                kms_key_arn=None,
                tags=args.tags,
                name_prefix=args.access_log_name_prefix,
                server_access_log_target=True,
                # S3 must not log a bucket into itself; the (multi-region) trail records
                # this bucket's object events instead.
                server_access_logging=False,
                expiration_days=args.access_log_retention_days,
                service_deliveries=[ServiceDelivery(service="logging.s3.amazonaws.com")],
                protect=args.protect,
            ),
            opts=in_dr,
        )
        self.replicas = {}
        for source in args.sources:
            self.replicas[source.label] = SecureBucket(
                f"{name}-{source.label}",
                SecureBucketArgs(
                    kms_key_arn=self.dr_key.arn,
                    tags={**args.tags, "replica-of": source.label},
                    name_prefix=source.replica_name_prefix,
                    access_log_bucket=self.access_log_bucket.bucket_name,
                    protect=source.protect,
                ),
                opts=in_dr,
            )

        role = aws.iam.Role(
            f"{name}-replication-role",
            name=args.replication_role_name,
            description="S3 replication to the DR region (aiscaffold)",
            assume_role_policy=policy_json(
                [
                    service_trust(
                        "S3ReplicationOfThisAccount",
                        "s3.amazonaws.com",
                        same_account(ctx.account_id),
                        {
                            "test": "ArnLike",
                            "variable": "aws:SourceArn",
                            "values": [s.bucket_arn for s in args.sources],
                        },
                    )
                ],
                parent=self,
            ),
            max_session_duration=3600,
            force_detach_policies=True,
            tags=dict(args.tags),
            opts=child,
        )
        sources = [s.bucket_arn for s in args.sources]
        replicas = [r.arn for r in self.replicas.values()]
        src_s3 = pulumi.Output.concat("s3.", ctx.region, ".", ctx.dns_suffix)
        statements: list[Statement] = [
            {
                "sid": "ReadReplicationConfiguration",
                "effect": "Allow",
                "actions": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "resources": sources,
            },
            {
                "sid": "ReadSourceVersions",
                "effect": "Allow",
                "actions": [
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionTagging",
                ],
                "resources": [pulumi.Output.concat(arn, "/*") for arn in sources],
            },
            {
                "sid": "WriteReplicas",
                "effect": "Allow",
                "actions": ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
                "resources": [pulumi.Output.concat(arn, "/*") for arn in replicas],
            },
            {
                "sid": "DecryptSourceObjects",
                "effect": "Allow",
                "actions": ["kms:Decrypt"],
                "resources": list(dict.fromkeys([s.kms_key_arn for s in args.sources])),
                "conditions": [
                    {"test": "StringEquals", "variable": "kms:ViaService", "values": [src_s3]},
                    {
                        "test": "StringLike",
                        "variable": "kms:EncryptionContext:aws:s3:arn",
                        "values": [pulumi.Output.concat(arn, "/*") for arn in sources],
                    },
                ],
            },
            {
                "sid": "EncryptReplicas",
                "effect": "Allow",
                "actions": ["kms:Encrypt", "kms:GenerateDataKey"],
                "resources": [self.dr_key.arn],
                "conditions": [
                    {"test": "StringEquals", "variable": "kms:ViaService", "values": [dr_s3]},
                    {
                        "test": "StringLike",
                        "variable": "kms:EncryptionContext:aws:s3:arn",
                        "values": [pulumi.Output.concat(arn, "/*") for arn in replicas],
                    },
                ],
            },
        ]
        policy = aws.iam.RolePolicy(
            f"{name}-replication-policy",
            role=role.id,
            policy=policy_json(statements, parent=self),
            opts=child,
        )
        self.replication_role_arn = role.arn
        for source in args.sources:
            replica = self.replicas[source.label]
            destination: aws.s3.BucketReplicationConfigRuleDestinationArgsDict = {
                "bucket": replica.arn,
                "storage_class": "STANDARD",
                "encryption_configuration": {"replica_kms_key_id": self.dr_key.arn},
            }
            if args.replication_time_control:
                destination["replication_time"] = {
                    "status": "Enabled",
                    "time": {"minutes": RTC_MINUTES},
                }
                destination["metrics"] = {
                    "status": "Enabled",
                    "event_threshold": {"minutes": RTC_MINUTES},
                }
            aws.s3.BucketReplicationConfig(
                f"{name}-{source.label}-replication",
                bucket=source.bucket_name,
                role=role.arn,
                rules=[
                    {
                        "id": f"to-{args.dr_region}",
                        "status": "Enabled",
                        "priority": 1,
                        "filter": {"prefix": ""},
                        "delete_marker_replication": {"status": "Enabled"},
                        "source_selection_criteria": {
                            "sse_kms_encrypted_objects": {"status": "Enabled"}
                        },
                        "destination": destination,
                    }
                ],
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[replica, policy, *source.depends_on]
                ),
            )
        self.register_outputs(
            {
                "dr_key_arn": self.dr_key_arn,
                "replication_role_arn": self.replication_role_arn,
                "replica_bucket_names": {k: r.bucket_name for k, r in self.replicas.items()},
            }
        )
