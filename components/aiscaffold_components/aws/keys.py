"""Keys: one customer-managed KMS key per purpose (data, logs, secrets), rotating.

The profile's ``hsm_keys`` (KEY-05) needs no setting here: AWS KMS generates the
material of the keys it holds (origin ``AWS_KMS``, as these are) in its FIPS
140-validated hardware security modules, uses it in plaintext only inside them, and
never exports it. A CloudHSM custom key store would add a single-tenant cluster to run
and keep available, not a boundary these keys lack, so none is created.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ._common import Condition, Statement, aws_context, policy_json, same_account

__all__ = [
    "CLOUDTRAIL_GENERATE_DATA_KEY",
    "CLOUDTRAIL_KEY_POLICY_GUIDE",
    "KEY_ADMIN_ACTIONS",
    "KEY_PURPOSES",
    "Keys",
    "KeysArgs",
]

#: CloudTrail's guide to the key policy a trail's key needs: encrypt
#: (``kms:GenerateDataKey*`` with the trail's encryption context and ``aws:SourceArn``),
#: decrypt (required "to create or update a trail" when the bucket has an S3 Bucket Key)
#: and describe the key.
CLOUDTRAIL_KEY_POLICY_GUIDE = (
    "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/"
    "create-kms-key-policy-for-cloudtrail.html"
)
#: The action the guide grants CloudTrail to encrypt log files, verbatim: the one
#: wildcard action a key policy here carries (AWS-KMS-004 accepts it for CloudTrail only).
CLOUDTRAIL_GENERATE_DATA_KEY = "kms:GenerateDataKey*"

#: The purposes a project's keys serve; each gets its own key and alias.
KEY_PURPOSES: tuple[str, ...] = ("data", "logs", "secrets")

#: What the account (root, so IAM policies decide which administrators) may do with a
#: key: manage it, never use it for cryptography. Listed one by one: no wildcards.
KEY_ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)

_ENCRYPT_DECRYPT = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)


@dataclass(frozen=True)
class KeysArgs:
    """Arguments of :class:`Keys`.

    Key use is granted through the account principal plus an ``aws:PrincipalArn``
    condition naming the roles, so a key policy may name a role before the role exists
    (KMS rejects policies whose principals do not exist yet).
    """

    tags: Mapping[str, str]
    """Tags of every key (project, stack, data-classification, managed-by, compliance)."""
    alias_prefix: str
    """Aliases are ``alias/<alias_prefix>-<purpose>``."""
    rotation_period_days: int = 365
    """Automatic rotation period (KMS accepts 90 to 2560 days)."""
    deletion_window_days: int = 30
    """Waiting period before a scheduled deletion (KMS accepts 7 to 30; 30 is the safest)."""
    workload_role_arns: Sequence[pulumi.Input[str]] = ()
    """Roles that may use the data key (through ``data_services``) and decrypt with the
    secrets key (through Secrets Manager)."""
    data_services: Sequence[str] = ("s3",)
    """Services (endpoint prefixes such as ``s3``, ``bedrock``, ``sagemaker``) through
    which the workload roles use the data key (``kms:ViaService``)."""
    service_managed_data: Sequence[str] = ()
    """Services that encrypt what they keep with the data key using the deploying
    principal's permissions (``bedrock`` for guardrails; for a SageMaker AI domain,
    ``sagemaker`` and ``elasticfilesystem``: SageMaker AI creates the domain's EFS home
    volume as the deployer, and EFS, not SageMaker AI, then calls KMS): principals of
    the account may use the data key through these only."""
    data_role_arns: Sequence[pulumi.Input[str]] = ()
    """Roles of the other workload types (training, its jobs, data processing: IAM-05)
    that use the data key only, through ``data_role_services``; never the secrets key."""
    data_role_services: Sequence[str] = ("s3",)
    """Services through which ``data_role_arns`` use the data key (``kms:ViaService``)."""
    replication_role_arns: Sequence[pulumi.Input[str]] = ()
    """The S3 replication role of a recovery region (REC-01): decrypts the source objects
    through S3 in this region only (``Recovery``)."""
    secret_rotator_arns: Sequence[pulumi.Input[str]] = ()
    """Roles of secret rotation functions: encrypt and decrypt through Secrets Manager."""
    log_reader_arns: Sequence[pulumi.Input[str]] = ()
    """Principals (auditors) that may decrypt the log files kept in S3 (trail files,
    invocation logs), through S3 only. Empty: nobody reads the S3 copies; the CloudWatch
    Logs copies stay readable to whom IAM allows."""
    trail_arns: Sequence[pulumi.Input[str]] = ()
    """The trails that encrypt with the logs key (``aws:SourceArn``, as CloudTrail's
    key-policy guide recommends). Empty: any trail of this account (``aws:SourceAccount``)."""
    bedrock_invocation_logging: bool = False
    """Let Bedrock encrypt the model invocation logs it writes to the log bucket."""
    malware_scan_role_arns: Sequence[pulumi.Input[str]] = ()
    """The roles GuardDuty Malware Protection for S3 scans the data bucket as
    (``ThreatDetection``): decrypt objects and write the validation object, through S3
    only (the guide's ``AllowDecryptForMalwareScan``,
    https://docs.aws.amazon.com/guardduty/latest/ug/malware-protection-s3-iam-policy-prerequisite.html)."""
    protect: bool = False
    """Guard the keys with Pulumi's ``protect`` option (deletion protection, GOV-05)."""


class Keys(pulumi.ComponentResource):
    """Customer-managed KMS keys, one per purpose, with rotation and least-privilege policies.

    Administration belongs to the account (IAM decides which administrators); use belongs
    to named service principals with ``aws:SourceAccount`` or encryption-context
    conditions, and to the named roles through ``kms:ViaService``.
    """

    keys: dict[str, aws.kms.Key]
    """The keys by purpose (``data``, ``logs``, ``secrets``)."""
    aliases: dict[str, aws.kms.Alias]
    data_key_arn: pulumi.Output[str]
    logs_key_arn: pulumi.Output[str]
    secrets_key_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not 90 <= args.rotation_period_days <= 2560:
            raise ValueError(
                f"rotation_period_days must be between 90 and 2560, not {args.rotation_period_days}"
            )
        if not 7 <= args.deletion_window_days <= 30:
            raise ValueError(
                f"deletion_window_days must be between 7 and 30, not {args.deletion_window_days}"
            )
        super().__init__("aiscaffold:aws:Keys", name, None, opts)
        ctx = aws_context(self)
        self._ctx = ctx
        self._args = args
        statements: dict[str, list[Statement]] = {
            "data": self._data_statements(),
            "logs": self._logs_statements(),
            "secrets": self._secrets_statements(),
        }
        self.keys = {}
        self.aliases = {}
        for purpose in KEY_PURPOSES:
            key = aws.kms.Key(
                f"{name}-{purpose}",
                description=f"{args.alias_prefix} {purpose} key (aiscaffold)",
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                enable_key_rotation=True,
                rotation_period_in_days=args.rotation_period_days,
                deletion_window_in_days=args.deletion_window_days,
                multi_region=False,
                bypass_policy_lockout_safety_check=False,
                policy=policy_json([*self._admin_statements(), *statements[purpose]], parent=self),
                tags={**args.tags, "purpose": purpose},
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            self.keys[purpose] = key
            self.aliases[purpose] = aws.kms.Alias(
                f"{name}-{purpose}-alias",
                name=f"alias/{args.alias_prefix}-{purpose}",
                target_key_id=key.key_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.data_key_arn = self.keys["data"].arn
        self.logs_key_arn = self.keys["logs"].arn
        self.secrets_key_arn = self.keys["secrets"].arn
        self.register_outputs(
            {
                "data_key_arn": self.data_key_arn,
                "logs_key_arn": self.logs_key_arn,
                "secrets_key_arn": self.secrets_key_arn,
            }
        )

    # -- policy pieces -------------------------------------------------------------
    def _via(self, services: Sequence[str]) -> Condition:
        ctx = self._ctx
        return {
            "test": "StringEquals",
            "variable": "kms:ViaService",
            "values": [
                pulumi.Output.concat(service, ".", ctx.region, ".", ctx.dns_suffix)
                for service in services
            ],
        }

    def _roles(
        self,
        sid: str,
        arns: Sequence[pulumi.Input[str]],
        actions: Sequence[str],
        services: Sequence[str],
    ) -> list[Statement]:
        if not arns or not services:
            return []
        return [
            {
                "sid": sid,
                "effect": "Allow",
                "principals": [{"type": "AWS", "identifiers": [self._ctx.account_root]}],
                "actions": list(actions),
                "resources": ["*"],
                "conditions": [
                    {"test": "ArnEquals", "variable": "aws:PrincipalArn", "values": list(arns)},
                    self._via(services),
                ],
            }
        ]

    def _admin_statements(self) -> list[Statement]:
        # In a key policy, Resource "*" means "this key": the only value KMS accepts
        # besides the key's own ARN, which does not exist before the key does.
        root: Statement = {
            "sid": "KeyAdministrationByTheAccount",
            "effect": "Allow",
            "principals": [{"type": "AWS", "identifiers": [self._ctx.account_root]}],
            "actions": list(KEY_ADMIN_ACTIONS),
            "resources": ["*"],
        }
        grants: Statement = {
            "sid": "GrantsForAwsResourcesOnly",
            "effect": "Allow",
            "principals": [{"type": "AWS", "identifiers": [self._ctx.account_root]}],
            "actions": ["kms:CreateGrant"],
            "resources": ["*"],
            "conditions": [
                {"test": "Bool", "variable": "kms:GrantIsForAWSResource", "values": ["true"]}
            ],
        }
        return [root, grants]

    def _data_statements(self) -> list[Statement]:
        args = self._args
        out = self._roles(
            "WorkloadUseThroughServices",
            args.workload_role_arns,
            _ENCRYPT_DECRYPT,
            args.data_services,
        )
        if args.service_managed_data:
            out.append(
                {
                    "sid": "ServiceManagedConfiguration",
                    "effect": "Allow",
                    "principals": [{"type": "AWS", "identifiers": [self._ctx.account_root]}],
                    # EFS wraps a file system's key without seeing it in plaintext
                    # (GenerateDataKeyWithoutPlaintext); volumes that run in a
                    # service's own account (SageMaker AI's EBS volumes) use the key
                    # through a grant (GrantsForAwsResourcesOnly).
                    "actions": [
                        "kms:Decrypt",
                        "kms:DescribeKey",
                        "kms:GenerateDataKey",
                        "kms:GenerateDataKeyWithoutPlaintext",
                    ],
                    "resources": ["*"],
                    "conditions": [
                        self._via(args.service_managed_data),
                        same_account(self._ctx.account_id, "kms:CallerAccount"),
                    ],
                }
            )
        out += self._roles(
            "OtherWorkloadsUseThroughServices",
            args.data_role_arns,
            ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
            args.data_role_services,
        )
        out += self._roles(
            "ReplicationDecryptsThroughS3", args.replication_role_arns, ["kms:Decrypt"], ["s3"]
        )
        out += self._roles(
            "MalwareScanThroughS3",
            args.malware_scan_role_arns,
            ["kms:Decrypt", "kms:GenerateDataKey"],
            ["s3"],
        )
        return out

    def _service(
        self,
        sid: str,
        service: pulumi.Input[str],
        actions: Sequence[str],
        conditions: Sequence[Condition],
    ) -> Statement:
        return {
            "sid": sid,
            "effect": "Allow",
            "principals": [{"type": "Service", "identifiers": [service]}],
            "actions": list(actions),
            "resources": ["*"],
            "conditions": list(conditions),
        }

    def _logs_statements(self) -> list[Statement]:
        ctx, args = self._ctx, self._args
        account = same_account(ctx.account_id)
        trail: Condition = (
            {"test": "StringEquals", "variable": "aws:SourceArn", "values": list(args.trail_arns)}
            if args.trail_arns
            else account
        )
        out = [
            self._service(
                "CloudWatchLogsOfThisAccount",
                pulumi.Output.concat("logs.", ctx.region, ".", ctx.dns_suffix),
                _ENCRYPT_DECRYPT,
                [
                    {
                        "test": "ArnLike",
                        "variable": "kms:EncryptionContext:aws:logs:arn",
                        "values": [ctx.arn("logs", "log-group:*")],
                    }
                ],
            ),
            # CloudTrail's key-policy guide (CLOUDTRAIL_KEY_POLICY_GUIDE): encrypt with
            # kms:GenerateDataKey* under the trail's encryption context, describe the key,
            # and decrypt: with an S3 Bucket Key on the log bucket (SecureBucket always
            # sets one), CreateTrail and UpdateTrail fail with
            # InsufficientEncryptionPolicyException unless CloudTrail may decrypt.
            self._service(
                "CloudTrailEncryptsLogFiles",
                "cloudtrail.amazonaws.com",
                [CLOUDTRAIL_GENERATE_DATA_KEY],
                [
                    trail,
                    {
                        "test": "StringLike",
                        "variable": "kms:EncryptionContext:aws:cloudtrail:arn",
                        "values": [
                            pulumi.Output.concat(
                                "arn:", ctx.partition, ":cloudtrail:*:", ctx.account_id, ":trail/*"
                            )
                        ],
                    },
                ],
            ),
            self._service(
                "CloudTrailDecryptsWithBucketKey",
                "cloudtrail.amazonaws.com",
                ["kms:Decrypt"],
                [trail],
            ),
            self._service(
                "CloudTrailDescribesKey", "cloudtrail.amazonaws.com", ["kms:DescribeKey"], [trail]
            ),
        ]
        if args.bedrock_invocation_logging:
            out.append(
                self._service(
                    "BedrockInvocationLogDelivery",
                    "bedrock.amazonaws.com",
                    ["kms:GenerateDataKey"],
                    [
                        account,
                        {
                            "test": "ArnLike",
                            "variable": "aws:SourceArn",
                            "values": [ctx.arn("bedrock", "*")],
                        },
                    ],
                )
            )
        out += self._roles(
            "AuditorsReadLogFiles",
            args.log_reader_arns,
            ["kms:Decrypt", "kms:DescribeKey"],
            ["s3"],
        )
        return out

    def _secrets_statements(self) -> list[Statement]:
        ctx, args = self._ctx, self._args
        out = self._roles(
            "WorkloadReadsSecrets",
            args.workload_role_arns,
            ["kms:Decrypt", "kms:DescribeKey"],
            ["secretsmanager"],
        )
        out += self._roles(
            "RotationFunctions", args.secret_rotator_arns, _ENCRYPT_DECRYPT, ["secretsmanager"]
        )
        # Anyone in the account whom IAM allows may store a secret value (encrypt); only
        # the workload and rotation roles above may read one (decrypt).
        out.append(
            {
                "sid": "AccountStoresSecretValues",
                "effect": "Allow",
                "principals": [{"type": "AWS", "identifiers": [ctx.account_root]}],
                "actions": ["kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                "resources": ["*"],
                "conditions": [
                    self._via(["secretsmanager"]),
                    same_account(ctx.account_id, "kms:CallerAccount"),
                ],
            }
        )
        return out
