"""SecureBucket: an S3 bucket that cannot be made public, encrypted with a project key."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from ._common import Condition, Statement, aws_context, policy_json, same_account

__all__ = ["SERVER_ACCESS_LOG_TARGET_GUIDE", "SecureBucket", "SecureBucketArgs", "ServiceDelivery"]

#: S3's guide to server access logging: "You can use default bucket encryption on the
#: target bucket only if you use server-side encryption with Amazon S3 managed keys
#: (SSE-S3) [...]. Default server-side encryption with AWS KMS keys (SSE-KMS) is not
#: supported." Delivery into an SSE-KMS target fails silently.
SERVER_ACCESS_LOG_TARGET_GUIDE = (
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html"
)


@dataclass(frozen=True)
class ServiceDelivery:
    """An AWS service allowed to write objects under a prefix of the bucket.

    The grant is scoped to the project's account (``aws:SourceAccount``) and, when
    ``source_arns`` is given, to the resources the writes must come from
    (``aws:SourceArn``), so another account's trail or model cannot write here.
    """

    service: str
    """The service principal, e.g. ``cloudtrail.amazonaws.com``."""
    prefix: str = ""
    """Key prefix the service writes under (``cloudtrail/``); empty for the whole bucket."""
    source_arns: Sequence[pulumi.Input[str]] = ()
    """ARN patterns of the resources that deliver (``ArnLike aws:SourceArn``)."""
    reads_bucket_acl: bool = False
    """The service checks the bucket ACL before it writes (CloudTrail does)."""


@dataclass(frozen=True)
class SecureBucketArgs:
    """Arguments of :class:`SecureBucket`.

    Always on, with no argument to turn them off: all four public access blocks,
    bucket-owner-enforced object ownership (no ACLs), versioning, SSE-KMS with the
    given key and an S3 bucket key (SSE-S3 for a server access log target, the only
    encryption S3 delivers access logs into), SSE-C refused, a policy denying requests
    without TLS 1.2 or later, aborting incomplete multipart uploads after a week.
    """

    kms_key_arn: pulumi.Input[str] | None
    """The customer-managed key that encrypts every object by default. ``None`` only
    with ``server_access_log_target``."""
    tags: Mapping[str, str]
    """Tags of the bucket."""
    name_prefix: str | None = None
    """The bucket's name starts with this (S3 adds a unique suffix); at most 37
    characters. Lets a trail select the bucket's data events before it exists."""
    access_log_bucket: pulumi.Input[str] | None = None
    """Name of the bucket receiving this bucket's server access logs."""
    access_log_prefix: str | None = None
    """Key prefix of this bucket's access logs there (default: ``<name>/``)."""
    server_access_logging: bool = True
    """Weakening: ``False`` records no server access logs. Only for the bucket that
    receives the access logs of the others (S3 must not log a bucket into itself), and
    only with a trail recording its object events instead (AuditLogging does for its
    access-log bucket; AWS-TRAIL-007 checks it)."""
    expiration_days: int | None = None
    """Delete objects, and noncurrent versions, this many days after they were written
    (or became noncurrent); ``None`` keeps them."""
    object_lock_days: int | None = None
    """Enable S3 Object Lock with a default retention of this many days, in
    ``object_lock_mode``."""
    object_lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    """COMPLIANCE: nobody, the account root included, can delete or overwrite a version
    before its retention ends, and the bucket cannot be deleted while it holds one:
    irreversible for every object written meanwhile. Weakening: GOVERNANCE, which a
    principal allowed ``s3:BypassGovernanceRetention`` can lift: the state of a first
    deployment, before the lock is made final in a second, explicit step
    (``lock_log_archive`` in a generated project; AWS-S3-016 reports it until then)."""
    service_deliveries: Sequence[ServiceDelivery] = ()
    """AWS services that may write into the bucket (log delivery)."""
    server_access_log_target: bool = False
    """The bucket receives other buckets' S3 server access logs. S3 delivers them only
    into buckets whose default encryption is SSE-S3 (AES256): SSE-KMS targets receive
    nothing, silently (``SERVER_ACCESS_LOG_TARGET_GUIDE``). Such a bucket is encrypted
    with SSE-S3 and takes no ``kms_key_arn``; AWS-S3-002 requires SSE-S3 of server access
    log targets and SSE-KMS of every other bucket, and AWS-DEPLOY-002 reports a target
    left on SSE-KMS."""
    protect: bool = False
    """Guard the bucket with Pulumi's ``protect`` option."""


class SecureBucket(pulumi.ComponentResource):
    """An S3 bucket hardened for datasets, artifacts and logs."""

    bucket: aws.s3.Bucket
    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if args.server_access_logging and args.access_log_bucket is None:
            raise ValueError(
                f"{name}: access_log_bucket is required; pass server_access_logging=False "
                "only for the bucket that receives access logs"
            )
        if args.name_prefix is not None and not re.fullmatch(
            r"[a-z0-9][a-z0-9.-]{0,36}", args.name_prefix
        ):
            raise ValueError(
                f"{name}: name_prefix must be at most 37 lowercase letters, digits, dots "
                f"and hyphens, not {args.name_prefix!r}"
            )
        if args.object_lock_days is not None and args.object_lock_days < 1:
            raise ValueError(f"{name}: object_lock_days must be positive")
        if args.server_access_log_target:
            if args.kms_key_arn is not None:
                raise ValueError(
                    f"{name}: a server access log target is encrypted with SSE-S3 (S3 "
                    "delivers no access logs into SSE-KMS buckets): pass kms_key_arn=None"
                )
            if args.object_lock_days is not None:
                raise ValueError(f"{name}: S3 delivers no access logs into a locked bucket")
        elif args.kms_key_arn is None:
            raise ValueError(
                f"{name}: kms_key_arn is required (None only with server_access_log_target)"
            )
        super().__init__("aiscaffold:aws:SecureBucket", name, None, opts)
        ctx = aws_context(self)
        child = pulumi.ResourceOptions(parent=self)

        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            # Object lock can only be switched on when a bucket is created.
            bucket_prefix=args.name_prefix,
            object_lock_enabled=args.object_lock_days is not None,
            force_destroy=False,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        bucket_id = self.bucket.id
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket_id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket_id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        encryption: aws.s3.BucketServerSideEncryptionConfigurationRuleArgsDict = (
            {
                # Server access logs land only in SSE-S3 buckets (see the argument).
                "apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                "blocked_encryption_types": ["SSE-C"],
            }
            if args.server_access_log_target
            else {
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": args.kms_key_arn,
                },
                "bucket_key_enabled": True,
                "blocked_encryption_types": ["SSE-C"],
            }
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=bucket_id, rules=[encryption], opts=child
        )
        rules: list[aws.s3.BucketLifecycleConfigurationRuleArgsDict] = [
            {
                "id": "abort-incomplete-multipart-uploads",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
            }
        ]
        if args.expiration_days is not None:
            rules.append(
                {
                    "id": "expire-after-retention",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": args.expiration_days},
                    "noncurrent_version_expiration": {"noncurrent_days": args.expiration_days},
                }
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket_id,
            rules=rules,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        if args.object_lock_days is not None:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=bucket_id,
                object_lock_enabled="Enabled",
                rule={
                    "default_retention": {
                        "mode": args.object_lock_mode,
                        "days": args.object_lock_days,
                    }
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
            )
        if args.server_access_logging and args.access_log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-access-logging",
                bucket=bucket_id,
                target_bucket=args.access_log_bucket,
                target_prefix=args.access_log_prefix or f"{name}/",
                target_object_key_format={
                    "partitioned_prefix": {"partition_date_source": "EventTime"}
                },
                opts=child,
            )

        arn = self.bucket.arn
        objects = pulumi.Output.concat(arn, "/*")
        statements: list[Statement] = [
            {
                "sid": "DenyInsecureTransport",
                "effect": "Deny",
                "principals": [{"type": "*", "identifiers": ["*"]}],
                "actions": ["s3:*"],
                "resources": [arn, objects],
                "conditions": [
                    {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}
                ],
            },
            {
                "sid": "DenyTlsOlderThan12",
                "effect": "Deny",
                "principals": [{"type": "*", "identifiers": ["*"]}],
                "actions": ["s3:*"],
                "resources": [arn, objects],
                "conditions": [
                    {"test": "NumericLessThan", "variable": "s3:TlsVersion", "values": ["1.2"]}
                ],
            },
        ]
        for index, delivery in enumerate(args.service_deliveries):
            conditions: list[Condition] = [same_account(ctx.account_id)]
            if delivery.source_arns:
                conditions.append(
                    {
                        "test": "ArnLike",
                        "variable": "aws:SourceArn",
                        "values": list(delivery.source_arns),
                    }
                )
            if delivery.reads_bucket_acl:
                statements.append(
                    {
                        "sid": f"Delivery{index}ReadsAcl",
                        "effect": "Allow",
                        "principals": [{"type": "Service", "identifiers": [delivery.service]}],
                        "actions": ["s3:GetBucketAcl"],
                        "resources": [arn],
                        "conditions": conditions,
                    }
                )
            statements.append(
                {
                    "sid": f"Delivery{index}Writes",
                    "effect": "Allow",
                    "principals": [{"type": "Service", "identifiers": [delivery.service]}],
                    "actions": ["s3:PutObject"],
                    "resources": [pulumi.Output.concat(arn, "/", delivery.prefix, "*")],
                    "conditions": conditions,
                }
            )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket_id,
            policy=policy_json(statements, parent=self),
            # A policy put before the public access block could be judged public.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access, ownership]),
        )

        self.bucket_name = self.bucket.bucket
        self.arn = arn
        self.register_outputs({"bucket_name": self.bucket_name, "arn": self.arn})
