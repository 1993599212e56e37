"""State backend of aws-bedrock-hipaa: where its Pulumi state and stack secrets live.

Run once per account (README.md, step 1). It creates:

- the state bucket (SecureBucket: versioned, SSE-KMS with the state key, all public
  access blocked, TLS 1.2 or later only, access-logged) and the bucket for its access logs;
- the state key, encrypting both buckets;
- the secrets key and its alias, for the `awskms://` secrets provider of the project's stacks.

Only the deployers may use the keys: `deployer_arns` in the config (the principals that
run `pulumi` for the project, you and the CI role), by default whoever runs this program:

    pulumi config set --path 'deployer_arns[0]' arn:aws:iam::<account>:role/<your-role>
    pulumi config set --path 'deployer_arns[1]' arn:aws:iam::<account>:role/<ci-role>

The keys and the state bucket are always protected from deletion (Pulumi's `protect`):
losing them loses every stack's state and secrets.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from aiscaffold_components.aws import SecureBucket, SecureBucketArgs, ServiceDelivery
from aiscaffold_components.aws.keys import KEY_ADMIN_ACTIONS
from aiscaffold_components.profile import Profile

Statement = aws.iam.GetPolicyDocumentStatementArgsDict

profile = Profile.from_config()
tags = profile.tags
config = pulumi.Config()

caller = aws.get_caller_identity_output()
partition = aws.get_partition_output()
region = aws.get_region_output().region

PROJECT = "aws-bedrock-hipaa"
# S3 adds a unique suffix to the prefix (at most 37 characters).
STATE_BUCKET_PREFIX = f"{PROJECT[:30].rstrip('-')}-state-"
SECRETS_ALIAS = f"alias/{PROJECT}-pulumi-secrets"


def principal_patterns(arn: str) -> list[str]:
    """ARN patterns matching a principal as `aws:PrincipalArn` sees it.

    An assumed-role session (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) acts
    as its role, whose ARN may carry a path (IAM Identity Center roles do); role names are
    unique in an account, so `role/<role>` and `role/*/<role>` name exactly that role.
    """
    session = re.fullmatch(r"arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/.+", arn)
    if session is None:
        return [arn]
    part, account, role = session.groups()
    return [f"arn:{part}:iam::{account}:role/{role}", f"arn:{part}:iam::{account}:role/*/{role}"]


configured: list[str] | None = config.get_object("deployer_arns")
deployers: pulumi.Output[list[str]] = (
    pulumi.Output.from_input(list(configured))
    if configured
    else caller.arn.apply(principal_patterns)
)


@dataclass(frozen=True)
class Account:
    """The values key policies name, resolved."""

    id: str
    partition: str
    region: str
    dns_suffix: str
    deployers: list[str]

    @property
    def root(self) -> str:
        return f"arn:{self.partition}:iam::{self.id}:root"


def key_policy(build: Callable[[Account], list[Statement]]) -> pulumi.Output[str]:
    """A key policy built by `aws.iam.get_policy_document` from the account's values."""
    values = pulumi.Output.all(
        caller.account_id, partition.partition, region, partition.dns_suffix, deployers
    )
    return values.apply(
        lambda v: aws.iam.get_policy_document_output(statements=build(Account(*v))).json
    )


def key_administration(account: Account) -> Statement:
    """The account administers the key (IAM decides who); no cryptographic use."""
    return {
        "sid": "KeyAdministrationByTheAccount",
        "effect": "Allow",
        "principals": [{"type": "AWS", "identifiers": [account.root]}],
        "actions": list(KEY_ADMIN_ACTIONS),
        "resources": ["*"],  # in a key policy, "*" is this key
    }


def deployers_use(account: Account, sid: str, via_service: str | None = None) -> Statement:
    """The deployers use the key (through `via_service` only, when given)."""
    conditions: list[aws.iam.GetPolicyDocumentStatementConditionArgsDict] = [
        {"test": "ArnLike", "variable": "aws:PrincipalArn", "values": account.deployers}
    ]
    if via_service is not None:
        service = f"{via_service}.{account.region}.{account.dns_suffix}"
        conditions.append(
            {"test": "StringEquals", "variable": "kms:ViaService", "values": [service]}
        )
    return {
        "sid": sid,
        "effect": "Allow",
        "principals": [{"type": "AWS", "identifiers": [account.root]}],
        "actions": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
        "resources": ["*"],
        "conditions": conditions,
    }


def key(name: str, purpose: str, policy: pulumi.Output[str]) -> aws.kms.Key:
    return aws.kms.Key(
        name,
        description=f"{PROJECT} {purpose} (aiscaffold bootstrap)",
        key_usage="ENCRYPT_DECRYPT",
        customer_master_key_spec="SYMMETRIC_DEFAULT",
        enable_key_rotation=True,
        rotation_period_in_days=profile.key_rotation_days,
        deletion_window_in_days=profile.key_deletion_window_days,
        multi_region=False,
        policy=policy,
        tags={**tags, "purpose": purpose},
        opts=pulumi.ResourceOptions(protect=True),
    )


def state_key_policy(account: Account) -> list[Statement]:
    return [
        key_administration(account),
        # The Pulumi CLI reads and writes state objects; S3 encrypts them with this key.
        deployers_use(account, "DeployersThroughS3", via_service="s3"),
        {
            "sid": "S3ServerAccessLogDelivery",
            "effect": "Allow",
            "principals": [{"type": "Service", "identifiers": ["logging.s3.amazonaws.com"]}],
            "actions": ["kms:GenerateDataKey"],
            "resources": ["*"],
            "conditions": [
                {"test": "StringEquals", "variable": "aws:SourceAccount", "values": [account.id]}
            ],
        },
    ]


def secrets_key_policy(account: Account) -> list[Statement]:
    return [
        key_administration(account),
        # The Pulumi CLI encrypts and decrypts stack secrets with this key directly.
        deployers_use(account, "DeployersEncryptStackSecrets"),
    ]


# ---------------------------------------------------------------- state key (KEY-01..04)
state_key = key("state-key", "pulumi-state", key_policy(state_key_policy))

# --------------------------------------------------------- buckets (GOV-03, GOV-04, LOG-06)
access_logs = SecureBucket(
    "state-access-logs",
    SecureBucketArgs(
        kms_key_arn=state_key.arn,
        tags=tags,
        # S3 must not log a bucket into itself: this one receives the state bucket's logs.
        server_access_logging=False,
        expiration_days=profile.log_retention_days,
        service_deliveries=[ServiceDelivery(service="logging.s3.amazonaws.com")],
        protect=profile.deletion_protection,
    ),
)
state = SecureBucket(
    "state",
    SecureBucketArgs(
        kms_key_arn=state_key.arn,
        tags=tags,
        name_prefix=STATE_BUCKET_PREFIX,
        access_log_bucket=access_logs.bucket_name,
        protect=True,
    ),
)

# -------------------------------------------------------- secrets provider key (awskms://)
secrets_key = key("secrets-key", "pulumi-secrets", key_policy(secrets_key_policy))
secrets_alias = aws.kms.Alias(
    "secrets-key-alias", name=SECRETS_ALIAS, target_key_id=secrets_key.key_id
)

pulumi.export("backend_url", pulumi.Output.concat("s3://", state.bucket_name, "?region=", region))
pulumi.export(
    "secrets_provider", pulumi.Output.concat("awskms://", secrets_alias.name, "?region=", region)
)
