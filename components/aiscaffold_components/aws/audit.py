"""AuditLogging: CloudTrail, locked log buckets, Bedrock model invocation logging."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws
import pulumiverse_time

from ._common import (
    AwsContext,
    Statement,
    aws_context,
    cloudwatch_retention_days,
    policy_json,
    same_account,
)
from .storage import SecureBucket, SecureBucketArgs, ServiceDelivery

__all__ = ["IAM_EVENTUAL_CONSISTENCY", "IAM_PROPAGATION_WAIT", "AuditLogging", "AuditLoggingArgs"]

#: IAM is eventually consistent: "changes that you make [...] take time to become visible
#: from all possible endpoints", so a role policy just written may not be the one a
#: service checks. Bedrock checks the delivery role when the configuration is put:
#: "ValidationException: Failed to validate permissions for log group".
IAM_EVENTUAL_CONSISTENCY = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
    "troubleshoot_general.html#troubleshoot_general_eventual-consistency"
)
#: How long to wait after the delivery role's policy is written before Bedrock checks it.
IAM_PROPAGATION_WAIT = "30s"

_TRAIL_PREFIX = "cloudtrail"
_BEDROCK_PREFIX = "bedrock-invocations"


@dataclass(frozen=True)
class AuditLoggingArgs:
    """Arguments of :class:`AuditLogging`.

    Always on: a multi-region trail with global service events and log file validation,
    encrypted with the logs key, delivered to the log bucket and to a CloudWatch log
    group; all management events; a log bucket with the SecureBucket hardening whose
    access logs go to a separate access-log bucket, whose own object events the trail
    records (S3 cannot log a bucket into itself).
    """

    logs_key_arn: pulumi.Input[str]
    """The key encrypting trail files, log groups and both log buckets."""
    tags: Mapping[str, str]
    trail_name: str | None = None
    """The trail's name, unique in the account and region (default: ``<name>-trail``)."""
    retention_days: int = 365
    """Days logs are kept, in the buckets and the log groups (LOG-04)."""
    object_lock: bool = False
    """Lock the log bucket's objects for ``retention_days`` (LOG-03)."""
    object_lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    """The lock's mode (see ``SecureBucketArgs.object_lock_mode``). Weakening:
    GOVERNANCE until the lock is made final in a second, explicit step."""
    data_event_bucket_prefixes: Sequence[str] = ()
    """Name prefixes of the buckets whose object reads and writes the trail records
    (LOG-02). Prefixes, not ARNs, so the data buckets can log their access into this
    component's access-log bucket and still be selected here."""
    data_event_resource_types: Sequence[str] = ()
    """Other data event types to record, e.g. ``AWS::Bedrock::Guardrail``."""
    bedrock_invocation_logging: bool = False
    """Configure Bedrock model invocation logging for the account and region (LOG-05),
    to an encrypted log group and the log bucket. Bedrock keeps one such configuration
    per account and region: ``pulumi up`` replaces whatever configuration exists, and
    ``pulumi destroy`` turns invocation logging off for the whole account and region.
    Only the stack that owns the account's services (``account_services: this-stack``)
    sets it; AWS-DEPLOY-004 reports it as account-wide."""
    invocation_log_text: bool = False
    """Include prompt and completion text in invocation logs. Off: logs hold metadata
    (caller, model, token counts, guardrail outcome), not the data."""
    invocation_log_images: bool = False
    invocation_log_embeddings: bool = False
    protect: bool = False
    """Guard the log buckets, log groups and trail with Pulumi's ``protect`` option."""


class AuditLogging(pulumi.ComponentResource):
    """The project's audit trail and the locked buckets it lands in."""

    log_bucket: SecureBucket
    access_log_bucket: SecureBucket
    log_bucket_name: pulumi.Output[str]
    access_log_bucket_name: pulumi.Output[str]
    trail_arn: pulumi.Output[str]
    trail_log_group_name: pulumi.Output[str]
    invocation_log_group_name: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: AuditLoggingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:aws:AuditLogging", name, None, opts)
        ctx = aws_context(self)
        child = pulumi.ResourceOptions(parent=self)
        guarded = pulumi.ResourceOptions(parent=self, protect=args.protect)
        retention = cloudwatch_retention_days(args.retention_days)
        trail_name = args.trail_name or f"{name}-trail"
        trail_arn = ctx.arn("cloudtrail", f"trail/{trail_name}")

        # Access logs of every project bucket land here. S3 delivers server access logs
        # only to buckets without an Object Lock default retention and must not log a
        # bucket into itself, so this bucket is unlocked and has no access logs of its
        # own: the trail records the object reads, writes and deletions on it instead
        # (its own selector, below). The trail writes to the log bucket, not here, so
        # recording this bucket does not record the trail's own deliveries.
        # S3 delivers server access logs only into SSE-S3 buckets: this one is encrypted
        # with S3-managed keys, not the logs key (SecureBucketArgs.server_access_log_target).
        self.access_log_bucket = SecureBucket(
            f"{name}-access-logs",
            SecureBucketArgs(
                kms_key_arn=None,
                server_access_log_target=True,
                tags=args.tags,
                server_access_logging=False,
                expiration_days=args.retention_days,
                service_deliveries=[ServiceDelivery(service="logging.s3.amazonaws.com")],
                protect=args.protect,
            ),
            opts=child,
        )
        deliveries = [
            ServiceDelivery(
                service="cloudtrail.amazonaws.com",
                prefix=f"{_TRAIL_PREFIX}/AWSLogs/",
                source_arns=[trail_arn],
                reads_bucket_acl=True,
            )
        ]
        if args.bedrock_invocation_logging:
            deliveries.append(
                ServiceDelivery(
                    service="bedrock.amazonaws.com",
                    prefix=f"{_BEDROCK_PREFIX}/",
                    source_arns=[ctx.arn("bedrock", "*")],
                )
            )
        self.log_bucket = SecureBucket(
            f"{name}-logs",
            SecureBucketArgs(
                kms_key_arn=args.logs_key_arn,
                tags=args.tags,
                access_log_bucket=self.access_log_bucket.bucket_name,
                expiration_days=args.retention_days,
                object_lock_days=args.retention_days if args.object_lock else None,
                object_lock_mode=args.object_lock_mode,
                service_deliveries=deliveries,
                protect=args.protect,
            ),
            opts=child,
        )

        trail_group = aws.cloudwatch.LogGroup(
            f"{name}-trail-logs",
            kms_key_id=args.logs_key_arn,
            retention_in_days=retention,
            log_group_class="STANDARD",
            deletion_protection_enabled=args.protect,
            tags=dict(args.tags),
            opts=guarded,
        )
        trail_role, trail_role_policy = self._delivery_role(
            f"{name}-trail-logs-role",
            "cloudtrail.amazonaws.com",
            [trail_arn],
            trail_group,
            ctx,
            args.tags,
        )
        trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=trail_name,
            s3_bucket_name=self.log_bucket.bucket_name,
            s3_key_prefix=_TRAIL_PREFIX,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=args.logs_key_arn,
            cloud_watch_logs_group_arn=pulumi.Output.concat(trail_group.arn, ":*"),
            cloud_watch_logs_role_arn=trail_role.arn,
            advanced_event_selectors=self._selectors(args, ctx, self.access_log_bucket.bucket_name),
            tags=dict(args.tags),
            # CreateTrail checks the log delivery role too: its policy comes first.
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                depends_on=[self.log_bucket, trail_role_policy],
            ),
        )

        self.invocation_log_group_name = None
        if args.bedrock_invocation_logging:
            group = aws.cloudwatch.LogGroup(
                f"{name}-bedrock-invocations",
                kms_key_id=args.logs_key_arn,
                retention_in_days=retention,
                log_group_class="STANDARD",
                deletion_protection_enabled=args.protect,
                tags=dict(args.tags),
                opts=guarded,
            )
            role, role_policy = self._delivery_role(
                f"{name}-bedrock-invocations-role",
                "bedrock.amazonaws.com",
                [ctx.arn("bedrock", "*")],
                group,
                ctx,
                args.tags,
            )
            # Bedrock checks, when the configuration is put, that the role may write to
            # the group: wait for the role policy, then for IAM to propagate it
            # (IAM_EVENTUAL_CONSISTENCY), or the first `pulumi up` fails with
            # "Failed to validate permissions for log group".
            propagated = pulumiverse_time.Sleep(
                f"{name}-bedrock-invocations-role-propagation",
                create_duration=IAM_PROPAGATION_WAIT,
                triggers={"policy": role_policy.policy, "role": role.arn},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
            )
            aws.bedrockmodel.InvocationLoggingConfiguration(
                f"{name}-bedrock-invocation-logging",
                logging_config={
                    "text_data_delivery_enabled": args.invocation_log_text,
                    "image_data_delivery_enabled": args.invocation_log_images,
                    "embedding_data_delivery_enabled": args.invocation_log_embeddings,
                    "video_data_delivery_enabled": False,
                    "cloudwatch_config": {
                        "log_group_name": group.name,
                        "role_arn": role.arn,
                        "large_data_delivery_s3_config": {
                            "bucket_name": self.log_bucket.bucket_name,
                            "key_prefix": f"{_BEDROCK_PREFIX}/large",
                        },
                    },
                    "s3_config": {
                        "bucket_name": self.log_bucket.bucket_name,
                        "key_prefix": _BEDROCK_PREFIX,
                    },
                },
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[self.log_bucket, role_policy, propagated]
                ),
            )
            self.invocation_log_group_name = group.name

        self.log_bucket_name = self.log_bucket.bucket_name
        self.access_log_bucket_name = self.access_log_bucket.bucket_name
        self.trail_arn = trail.arn
        self.trail_log_group_name = trail_group.name
        self.register_outputs(
            {
                "log_bucket_name": self.log_bucket_name,
                "access_log_bucket_name": self.access_log_bucket_name,
                "trail_arn": self.trail_arn,
            }
        )

    @staticmethod
    def _selectors(
        args: AuditLoggingArgs, ctx: AwsContext, access_log_bucket: pulumi.Output[str]
    ) -> list[aws.cloudtrail.TrailAdvancedEventSelectorArgsDict]:
        selectors: list[aws.cloudtrail.TrailAdvancedEventSelectorArgsDict] = [
            {
                "name": "All management events",
                "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}],
            }
        ]
        if args.data_event_bucket_prefixes:
            selectors.append(
                {
                    "name": "Object reads and writes of the project's buckets",
                    "field_selectors": [
                        {"field": "eventCategory", "equals": ["Data"]},
                        {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                        {
                            "field": "resources.ARN",
                            "starts_withs": [
                                pulumi.Output.concat("arn:", ctx.partition, ":s3:::", prefix)
                                for prefix in args.data_event_bucket_prefixes
                            ],
                        },
                    ],
                }
            )
        # The access-log bucket has no server access logs (see above): its object events
        # are its only access record. Named exactly (the bucket exists before the trail),
        # so other buckets sharing a prefix are not recorded with it.
        selectors.append(
            {
                "name": "Object reads and writes of the access-log bucket",
                "field_selectors": [
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                    {
                        "field": "resources.ARN",
                        "starts_withs": [
                            pulumi.Output.concat(
                                "arn:", ctx.partition, ":s3:::", access_log_bucket, "/"
                            )
                        ],
                    },
                ],
            }
        )
        for resource_type in args.data_event_resource_types:
            selectors.append(
                {
                    "name": f"Data events of {resource_type}",
                    "field_selectors": [
                        {"field": "eventCategory", "equals": ["Data"]},
                        {"field": "resources.type", "equals": [resource_type]},
                    ],
                }
            )
        return selectors

    def _delivery_role(
        self,
        resource_name: str,
        service: str,
        source_arns: Sequence[pulumi.Input[str]],
        group: aws.cloudwatch.LogGroup,
        ctx: AwsContext,
        tags: Mapping[str, str],
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        """A role ``service`` assumes to write into ``group``, for this account only, and
        the policy that lets it."""
        child = pulumi.ResourceOptions(parent=self)
        trust: Statement = {
            "sid": "DeliveryForThisAccount",
            "effect": "Allow",
            "principals": [{"type": "Service", "identifiers": [service]}],
            "actions": ["sts:AssumeRole"],
            "conditions": [
                same_account(ctx.account_id),
                {"test": "ArnLike", "variable": "aws:SourceArn", "values": list(source_arns)},
            ],
        }
        role = aws.iam.Role(
            resource_name,
            description=f"Lets {service} write to its log group",
            assume_role_policy=policy_json([trust], parent=self),
            max_session_duration=3600,
            tags=dict(tags),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{resource_name}-policy",
            role=role.id,
            policy=policy_json(
                [
                    {
                        "sid": "WriteToItsLogGroup",
                        "effect": "Allow",
                        "actions": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "resources": [pulumi.Output.concat(group.arn, ":log-stream:*")],
                    }
                ],
                parent=self,
            ),
            opts=child,
        )
        return role, policy
