"""State backend of aws-bedrock-hipaa: where its Pulumi state and stack secrets live.

Run once per account (README.md, step 1). It creates:

- the state bucket (SecureBucket: versioned, SSE-KMS with the state key, all public
  access blocked, TLS 1.2 or later only, access-logged) and the bucket for its access logs
  (SSE-S3: S3 delivers server access logs into no other encryption);
- the state key, encrypting the state bucket;
- the secrets key and its alias, for the `awskms://` secrets provider of the project's stacks.

Only the deployers may use the keys: `deployer_arns` in the config (the principals that
run `pulumi` for the project, you and the CI role), by default whoever runs this program:

    pulumi config set --path 'deployer_arns[0]' arn:aws:iam::<account>:role/<your-role>
    pulumi config set --path 'deployer_arns[1]' arn:aws:iam::<account>:role/<ci-role>

The keys and the state bucket are always protected from deletion (Pulumi's `protect`):
losing them loses every stack's state and secrets.

Optionally (`ci_repository`), the CI deploy identity: a role GitHub Actions assumes by
OIDC federation (no keys), allowed exactly what ../deployer-permissions/aws.json lists plus
the use of this state backend, and added to the deployers of the keys:

    pulumi config set ci_repository <owner>/<repository>
    pulumi config set ci_environment sandbox     # the GitHub environment trusted (default)
    pulumi up && pulumi stack output ci_role_arn # -> variable SANDBOX_AWS_ROLE_ARN
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

# ------------------------------------------------ CI deploy identity (opt-in: ci_repository)
#: GitHub Actions' OIDC issuer and the audience configure-aws-credentials asks for
#: (https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services).
GITHUB_OIDC = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
#: IAM quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html):
#: a managed policy holds 6,144 characters (white space not counted), a role takes 10
#: managed policies by default. Beyond them IAM answers "LimitExceeded: Cannot exceed
#: quota for PolicySize: 6144" and "LimitExceeded: Cannot exceed quota for
#: PoliciesPerRole: 10".
MANAGED_POLICY_CHARS = 6144
POLICIES_PER_ROLE = 10
#: The project's generated deployer permissions: what the role is granted, exactly.
PERMISSIONS_FILE = Path(__file__).resolve().parent.parent / "deployer-permissions" / "aws.json"
_REPOSITORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")


def github_subjects(repository: str, environment: str, branches: list[str]) -> list[str]:
    """The `sub` claims trusted: jobs of `environment` (its protection rules decide who
    runs them) and, when listed, of pushes to `branches`; never pull requests, whose
    branches anyone with write access controls. Exact values: no wildcard reaches
    another repository (https://docs.github.com/en/actions/reference/security/oidc)."""
    if not _REPOSITORY.fullmatch(repository):
        raise ValueError(f"ci_repository must be <owner>/<repository>, got {repository!r}")
    for value in (environment, *branches):
        if not value or set(value) & set("*?:"):
            raise ValueError(f"ci_environment and ci_branches take exact names, got {value!r}")
    return [
        f"repo:{repository}:environment:{environment}",
        *(f"repo:{repository}:ref:refs/heads/{branch}" for branch in branches),
    ]


def _chars(statements: list[dict[str, Any]]) -> int:
    return len(json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":")))


def _halves(statement: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """`statement` as statements of at most `limit` characters each, allowing together what
    it allows: its Resource list halved (same actions), else its Action list halved."""
    if _chars([statement]) <= limit:
        return [statement]
    for key in ("Resource", "Action"):
        values = statement[key]
        if isinstance(values, list) and len(values) > 1:
            middle = len(values) // 2
            return [
                *_halves({**statement, key: values[:middle]}, limit),
                *_halves({**statement, key: values[middle:]}, limit),
            ]
    raise ValueError(f"statement {statement.get('Sid')} alone exceeds {limit} characters")


def split_policy(document: dict[str, Any], limit: int = MANAGED_POLICY_CHARS) -> list[dict[str, Any]]:
    """`document` as managed policies of at most `limit` characters: its statements in
    order, packed; a statement too large alone is split (`_halves`). Together they allow
    exactly what the document allows."""
    pieces: list[dict[str, Any]] = []
    for statement in document["Statement"]:
        parts = _halves(statement, limit)
        if len(parts) > 1:  # Sids are unique within a policy
            parts = [{**p, "Sid": f"{statement['Sid']}Part{n}"} for n, p in enumerate(parts)]
        pieces.extend(parts)
    documents: list[list[dict[str, Any]]] = [[]]
    for piece in pieces:
        if documents[-1] and _chars([*documents[-1], piece]) > limit:
            documents.append([])
        documents[-1].append(piece)
    return [{"Version": document["Version"], "Statement": s} for s in documents]


ci_repository = config.get("ci_repository")
ci_role: aws.iam.Role | None = None
if ci_repository:
    subjects = github_subjects(
        ci_repository,
        config.get("ci_environment") or "sandbox",
        list(config.get_object("ci_branches") or []),
    )
    # An account has one OIDC provider per issuer URL (a second: "EntityAlreadyExists:
    # Provider with url https://token.actions.githubusercontent.com already exists."):
    # `account_services` says whether this stack owns it or another one does.
    issuer = f"https://{GITHUB_OIDC}"
    provider_arn: pulumi.Input[str]
    if config.get("ci_oidc_provider_arn"):
        provider_arn = config.require("ci_oidc_provider_arn")
    elif profile.account_services == "shared":
        provider_arn = aws.iam.get_open_id_connect_provider_output(url=issuer).arn
    else:
        # No thumbprints: IAM validates GitHub's certificate against its own trusted CAs.
        provider_arn = aws.iam.OpenIdConnectProvider(
            "github-oidc", url=issuer, client_id_lists=[AUDIENCE], tags=tags
        ).arn
    trust = pulumi.Output.from_input(provider_arn).apply(
        lambda arn: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "GitHubActionsOfThisRepository",
                        "Effect": "Allow",
                        "Principal": {"Federated": arn},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {
                            "StringEquals": {
                                f"{GITHUB_OIDC}:aud": AUDIENCE,
                                f"{GITHUB_OIDC}:sub": subjects,
                            }
                        },
                    }
                ],
            }
        )
    )
    ci_role = aws.iam.Role(
        "ci-deploy",
        description=f"Deploys {PROJECT} from GitHub Actions ({ci_repository}); aiscaffold bootstrap",
        assume_role_policy=trust,
        tags=tags,
    )
    # The role runs `pulumi` for the project: it uses the state and secrets keys too.
    deployers = pulumi.Output.all(deployers, ci_role.arn).apply(lambda v: [*v[0], v[1]])


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
        # (The access-log bucket is SSE-S3: S3 delivers server access logs into no other.)
        deployers_use(account, "DeployersThroughS3", via_service="s3"),
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
        # S3 delivers server access logs only into buckets encrypted with SSE-S3
        # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html).
        kms_key_arn=None,
        server_access_log_target=True,
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

if ci_role is not None:
    if not PERMISSIONS_FILE.is_file():
        raise ValueError(
            f"{PERMISSIONS_FILE.name} is missing: `aiscaffold update` (or `aiscaffold check`) "
            "writes the project's deployer permissions, which the CI role is granted"
        )
    generated: dict[str, Any] = json.loads(PERMISSIONS_FILE.read_text(encoding="utf-8"))
    # The document's `${aws:PrincipalAccount}` stays: IAM resolves global condition keys
    # used as policy variables in Resource, here to the role's own account
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
    parts = split_policy(generated)
    # What `pulumi login s3://` and `--secrets-provider awskms://` need, beyond the project's
    # resources: this backend's bucket and keys, nothing else.
    backend = pulumi.Output.all(state.arn, state_key.arn, secrets_key.arn).apply(
        lambda arns: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "StateBucket",
                        "Effect": "Allow",
                        "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                        "Resource": [arns[0]],
                    },
                    {
                        "Sid": "StateObjects",
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                        "Resource": [f"{arns[0]}/*"],
                    },
                    {
                        "Sid": "StateAndSecretsKeys",
                        "Effect": "Allow",
                        "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                        "Resource": [arns[1], arns[2]],
                    },
                ],
            }
        )
    )
    documents: list[pulumi.Input[str]] = [json.dumps(p, separators=(",", ":")) for p in parts]
    if len(documents) + 1 > POLICIES_PER_ROLE:
        raise ValueError(
            f"the deployer permissions need {len(documents) + 1} managed policies, over IAM's "
            f"{POLICIES_PER_ROLE} per role: raise the quota (Service Quotas, IAM) first"
        )
    for index, text in enumerate([*documents, backend]):
        part = "state" if index == len(documents) else str(index)
        policy = aws.iam.Policy(
            f"ci-deploy-{part}",
            description=(
                f"{PROJECT} CI deploy role: "
                + ("state backend" if part == "state" else f"deployer permissions {index + 1}/{len(documents)}")
            ),
            policy=text,
            tags=tags,
        )
        aws.iam.RolePolicyAttachment(
            f"ci-deploy-{part}", role=ci_role.name, policy_arn=policy.arn
        )
    pulumi.export("ci_role_arn", ci_role.arn)

pulumi.export("backend_url", pulumi.Output.concat("s3://", state.bucket_name, "?region=", region))
pulumi.export(
    "secrets_provider", pulumi.Output.concat("awskms://", secrets_alias.name, "?region=", region)
)
