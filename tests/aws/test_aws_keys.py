"""Keys: customer-managed KMS keys per purpose, rotation, least-privilege key policies."""

from __future__ import annotations

import pytest
from aiscaffold.testing import MockRun
from aiscaffold_components.aws import Keys, KeysArgs
from aiscaffold_components.aws.keys import KEY_ADMIN_ACTIONS
from aws.aws_support import (
    ACCOUNT,
    REGION,
    ROLE,
    ROOT,
    TAGS,
    as_list,
    changes,
    policy,
    run_component,
    statement,
)

KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"


def build(**overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "tags": TAGS,
        "alias_prefix": "unit-test",
        "workload_role_arns": [ROLE],
        "rotation_period_days": 180,
    }
    settings.update(overrides)
    return run_component(lambda: Keys("keys", KeysArgs(**settings)))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def keys() -> MockRun:
    return build()


def test_one_rotating_key_per_purpose(keys: MockRun) -> None:
    created = {r.name: r for r in keys.of_type(KEY)}
    assert set(created) == {"keys-data", "keys-logs", "keys-secrets"}
    for key in created.values():
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["rotationPeriodInDays"] == 180
        assert key.inputs["deletionWindowInDays"] == 30
        assert key.inputs["keyUsage"] == "ENCRYPT_DECRYPT"
        assert key.inputs["multiRegion"] is False
        assert key.inputs["bypassPolicyLockoutSafetyCheck"] is False
        assert TAGS.items() <= key.inputs["tags"].items()
        assert key.protect is False
    aliases = {r.inputs["name"] for r in keys.of_type(ALIAS)}
    assert aliases == {"alias/unit-test-data", "alias/unit-test-logs", "alias/unit-test-secrets"}


def test_account_administers_but_never_uses_the_keys(keys: MockRun) -> None:
    for key in keys.of_type(KEY):
        doc = policy(key)
        admin = statement(key.inputs["policy"], "KeyAdministrationByTheAccount")
        assert admin["Principal"] == {"AWS": ROOT}
        assert set(as_list(admin["Action"])) == set(KEY_ADMIN_ACTIONS)
        cryptographic = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"}
        assert not cryptographic & set(KEY_ADMIN_ACTIONS)
        # Every other statement that names the account carries conditions narrowing it.
        for st in doc["Statement"]:
            if st["Sid"] != "KeyAdministrationByTheAccount":
                assert st.get("Condition"), f"{key.name}: {st['Sid']} is unconditioned"


def test_workload_uses_data_and_secrets_keys_only_through_services(keys: MockRun) -> None:
    data = statement(keys.one(KEY, "keys-data").inputs["policy"], "WorkloadUseThroughServices")
    assert data["Condition"]["ArnEquals"] == {"aws:PrincipalArn": ROLE}
    assert data["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    secrets = statement(keys.one(KEY, "keys-secrets").inputs["policy"], "WorkloadReadsSecrets")
    assert set(secrets["Action"]) == {"kms:Decrypt", "kms:DescribeKey"}
    assert secrets["Condition"]["StringEquals"] == {
        "kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"
    }
    writers = statement(keys.one(KEY, "keys-secrets").inputs["policy"], "AccountStoresSecretValues")
    assert "kms:Decrypt" not in writers["Action"]
    assert writers["Condition"]["StringEquals"]["kms:CallerAccount"] == ACCOUNT
    logs_sids = {s["Sid"] for s in policy(keys.one(KEY, "keys-logs"))["Statement"]}
    assert "WorkloadUseThroughServices" not in logs_sids


def test_log_services_are_scoped_to_the_account(keys: MockRun) -> None:
    doc = policy(keys.one(KEY, "keys-logs"))
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    logs = by_sid["CloudWatchLogsOfThisAccount"]
    assert logs["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert logs["Condition"]["ArnLike"] == {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"
    }
    trail = by_sid["CloudTrailEncryptsLogFiles"]
    assert trail["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert trail["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"
    }
    # Access-log buckets are SSE-S3 (S3 delivers access logs into no other): S3's log
    # delivery has no use for the logs key.
    assert "S3ServerAccessLogDelivery" not in by_sid
    assert by_sid["CloudTrailDecryptsWithBucketKey"]["Action"] == "kms:Decrypt"
    # Bedrock is let in only when invocation logging is asked for.
    assert "BedrockInvocationLogDelivery" not in by_sid


def test_bedrock_invocation_logging_adds_only_bedrock_to_the_logs_key(keys: MockRun) -> None:
    with_bedrock = build(bedrock_invocation_logging=True)
    before = {s["Sid"] for s in policy(keys.one(KEY, "keys-logs"))["Statement"]}
    doc = policy(with_bedrock.one(KEY, "keys-logs"))
    after = {s["Sid"] for s in doc["Statement"]}
    assert after - before == {"BedrockInvocationLogDelivery"}
    added = statement(
        with_bedrock.one(KEY, "keys-logs").inputs["policy"], "BedrockInvocationLogDelivery"
    )
    assert added["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:*"
    }
    for purpose in ("data", "secrets"):
        name = f"keys-{purpose}"
        assert with_bedrock.one(KEY, name).inputs == keys.one(KEY, name).inputs


def test_service_managed_data_lets_the_account_use_the_data_key_through_that_service() -> None:
    result = build(service_managed_data=["bedrock"])
    st = statement(result.one(KEY, "keys-data").inputs["policy"], "ServiceManagedConfiguration")
    assert st["Condition"]["StringEquals"] == {
        "kms:ViaService": f"bedrock.{REGION}.amazonaws.com",
        "kms:CallerAccount": ACCOUNT,
    }


def test_efs_of_a_sagemaker_domain_may_wrap_its_key_through_the_data_key() -> None:
    """EFS, not SageMaker AI, calls KMS for the domain's home volume, and wraps the file
    system's key without plaintext: both must pass the data key's policy."""
    result = build(service_managed_data=["sagemaker", "elasticfilesystem"])
    st = statement(result.one(KEY, "keys-data").inputs["policy"], "ServiceManagedConfiguration")
    assert st["Condition"]["StringEquals"]["kms:ViaService"] == [
        f"sagemaker.{REGION}.amazonaws.com",
        f"elasticfilesystem.{REGION}.amazonaws.com",
    ]
    assert "kms:GenerateDataKeyWithoutPlaintext" in st["Action"]
    # Volumes in a service's own account use the key through a grant for AWS resources.
    grants = statement(result.one(KEY, "keys-data").inputs["policy"], "GrantsForAwsResourcesOnly")
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_a_shorter_deletion_window_changes_only_the_windows(keys: MockRun) -> None:
    diff = changes(keys, build(deletion_window_days=7))
    assert not diff.added and not diff.removed
    assert diff.changed == {
        (KEY, f"keys-{purpose}"): {"deletionWindowInDays": (30, 7)}
        for purpose in ("data", "logs", "secrets")
    }


def test_protect_guards_every_key() -> None:
    result = build(protect=True)
    assert all(key.protect for key in result.of_type(KEY))


@pytest.mark.parametrize(
    ("field", "value"),
    [("rotation_period_days", 30), ("rotation_period_days", 3000), ("deletion_window_days", 5)],
)
def test_out_of_range_settings_are_refused(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        Keys("keys", KeysArgs(tags=TAGS, alias_prefix="x", **{field: value}))  # type: ignore[arg-type]
