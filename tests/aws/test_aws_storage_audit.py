"""SecureBucket and AuditLogging: locked buckets, the trail, Bedrock invocation logging."""

from __future__ import annotations

import pytest
from aiscaffold.testing import CapturedResource, MockRun
from aiscaffold_components.aws import (
    AuditLogging,
    AuditLoggingArgs,
    SecureBucket,
    SecureBucketArgs,
    ServiceDelivery,
)
from aws.aws_support import (
    ACCOUNT,
    KEY,
    REGION,
    TAGS,
    changes,
    policy,
    run_component,
    statement,
    untagged,
)

BUCKET = "aws:s3/bucket:Bucket"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
TRAIL = "aws:cloudtrail/trail:Trail"
GROUP = "aws:cloudwatch/logGroup:LogGroup"
INVOCATION = "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"


def bucket(**overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "kms_key_arn": KEY,
        "tags": TAGS,
        "access_log_bucket": "access-logs",
    }
    settings.update(overrides)
    return run_component(lambda: SecureBucket("data", SecureBucketArgs(**settings)))  # type: ignore[arg-type]


def audit(**overrides: object) -> MockRun:
    settings: dict[str, object] = {"logs_key_arn": KEY, "tags": TAGS, "retention_days": 365}
    settings.update(overrides)
    return run_component(lambda: AuditLogging("audit", AuditLoggingArgs(**settings)))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def data() -> MockRun:
    return bucket()


@pytest.fixture(scope="module")
def trail() -> MockRun:
    return audit(
        data_event_bucket_prefixes=["unit-test-data-"],
        data_event_resource_types=["AWS::Bedrock::Guardrail"],
        bedrock_invocation_logging=True,
    )


def of(result: MockRun, type_: str, bucket_component: str) -> CapturedResource:
    (found,) = [r for r in result.of_type(type_) if r.name.startswith(f"{bucket_component}-")]
    return found


# ----------------------------------------------------------------- SecureBucket
def test_bucket_cannot_be_public(data: MockRun) -> None:
    block = data.one(PAB)
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block.inputs[flag] is True, flag
    ownership = data.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_bucket_is_versioned_and_encrypted_with_the_key(data: MockRun) -> None:
    versioning = data.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    sse = data.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    (rule,) = sse.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": KEY,
    }
    assert rule["bucketKeyEnabled"] is True
    assert rule["blockedEncryptionTypes"] == ["SSE-C"]


def test_bucket_policy_requires_tls_12(data: MockRun) -> None:
    doc = data.one(POLICY).inputs["policy"]
    insecure = statement(doc, "DenyInsecureTransport")
    assert insecure["Effect"] == "Deny" and insecure["Action"] == "s3:*"
    assert insecure["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    old = statement(doc, "DenyTlsOlderThan12")
    assert old["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    arn = data.one(BUCKET).outputs["arn"]
    assert set(insecure["Resource"]) == {arn, f"{arn}/*"}


def test_bucket_logs_access_and_keeps_data_by_default(data: MockRun) -> None:
    logging = data.one(LOGGING)
    assert logging.inputs["targetBucket"] == "access-logs"
    assert logging.inputs["targetPrefix"] == "data/"
    rules = data.one(LIFECYCLE).inputs["rules"]
    assert [r["id"] for r in rules] == ["abort-incomplete-multipart-uploads"]
    assert not data.of_type(LOCK)
    assert data.one(BUCKET).inputs["objectLockEnabled"] is False
    assert data.one(BUCKET).inputs["forceDestroy"] is False
    assert untagged(data, TAGS) == []


def test_no_deprecated_inline_bucket_inputs(data: MockRun) -> None:
    inline = {"acl", "versioning", "serverSideEncryptionConfiguration", "loggings", "logging",
              "lifecycleRules", "policy", "objectLockConfiguration", "grants", "website"}  # fmt: skip
    assert not inline & data.one(BUCKET).inputs.keys()


def test_object_lock_and_expiration() -> None:
    result = bucket(object_lock_days=2192, expiration_days=2192)
    assert result.one(BUCKET).inputs["objectLockEnabled"] is True
    lock = result.one(LOCK)
    assert lock.inputs["rule"] == {"defaultRetention": {"mode": "COMPLIANCE", "days": 2192}}
    expire = [
        r for r in result.one(LIFECYCLE).inputs["rules"] if r["id"] == "expire-after-retention"
    ]
    assert expire[0]["expiration"] == {"days": 2192}
    assert expire[0]["noncurrentVersionExpiration"] == {"noncurrentDays": 2192}


def test_service_delivery_is_scoped_to_the_account_and_source() -> None:
    result = bucket(
        service_deliveries=[
            ServiceDelivery(
                service="cloudtrail.amazonaws.com",
                prefix="trail/",
                source_arns=["arn:aws:cloudtrail:us-east-1:123456789012:trail/t"],
                reads_bucket_acl=True,
            )
        ]
    )
    doc = result.one(POLICY).inputs["policy"]
    write = statement(doc, "Delivery0Writes")
    assert write["Action"] == "s3:PutObject"
    assert write["Resource"].endswith("/trail/*")
    assert write["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert write["Condition"]["ArnLike"] == {
        "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/t"
    }
    assert statement(doc, "Delivery0ReadsAcl")["Action"] == "s3:GetBucketAcl"


def test_weakening_server_access_logging_removes_only_the_logging(data: MockRun) -> None:
    weak = bucket(server_access_logging=False, access_log_bucket=None)
    diff = changes(data, weak)
    assert diff.removed == {(LOGGING, "data-access-logging")}
    assert not diff.added and diff.changed == {}


def test_access_log_target_is_required_unless_logging_is_waived() -> None:
    with pytest.raises(ValueError, match="access_log_bucket"):
        SecureBucket("b", SecureBucketArgs(kms_key_arn=KEY, tags=TAGS))


# ----------------------------------------------------------------- AuditLogging
def test_trail_is_multi_region_validated_and_encrypted(trail: MockRun) -> None:
    t = trail.one(TRAIL)
    assert t.inputs["isMultiRegionTrail"] is True
    assert t.inputs["enableLogFileValidation"] is True
    assert t.inputs["includeGlobalServiceEvents"] is True
    assert t.inputs["enableLogging"] is True
    assert t.inputs["kmsKeyId"] == KEY
    assert t.inputs["s3BucketName"] == of(trail, BUCKET, "audit-logs").outputs["bucket"]
    group = trail.one(GROUP, "audit-trail-logs")
    assert t.inputs["cloudWatchLogsGroupArn"] == group.outputs["arn"] + ":*"
    role = trail.one("aws:iam/role:Role", "audit-trail-logs-role")
    assert t.inputs["cloudWatchLogsRoleArn"] == role.outputs["arn"]
    trust = policy(role, "assumeRolePolicy")["Statement"][0]
    assert trust["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert trust["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/audit-trail"
    }
    assert group.inputs["kmsKeyId"] == KEY and group.inputs["retentionInDays"] == 365


def test_trail_records_management_and_chosen_data_events(trail: MockRun) -> None:
    selectors = trail.one(TRAIL).inputs["advancedEventSelectors"]
    fields = [{f["field"]: f for f in s["fieldSelectors"]} for s in selectors]
    assert fields[0]["eventCategory"]["equals"] == ["Management"]
    assert "readOnly" not in fields[0]  # reads and writes
    assert fields[1]["resources.type"]["equals"] == ["AWS::S3::Object"]
    assert fields[1]["resources.ARN"]["startsWiths"] == ["arn:aws:s3:::unit-test-data-"]
    assert fields[3]["resources.type"]["equals"] == ["AWS::Bedrock::Guardrail"]


def test_trail_records_the_access_log_bucket_which_has_no_access_logs(trail: MockRun) -> None:
    """S3 cannot log the access-log bucket into itself: its object events are recorded."""
    name = of(trail, BUCKET, "audit-access-logs").outputs["bucket"]
    selectors = trail.one(TRAIL).inputs["advancedEventSelectors"]
    recorded = [
        {f["field"]: f for f in s["fieldSelectors"]}
        for s in selectors
        if f"arn:aws:s3:::{name}/"
        in [v for f in s["fieldSelectors"] for v in f.get("startsWiths", [])]
    ]
    assert len(recorded) == 1
    (fields,) = recorded
    assert fields["eventCategory"]["equals"] == ["Data"]
    assert fields["resources.type"]["equals"] == ["AWS::S3::Object"]
    assert fields["resources.ARN"]["startsWiths"] == [f"arn:aws:s3:::{name}/"]
    assert "readOnly" not in fields and "eventName" not in fields  # reads, writes, deletes


def test_log_bucket_takes_only_this_trail_and_bedrock(trail: MockRun) -> None:
    doc = of(trail, POLICY, "audit-logs").inputs["policy"]
    trail_write = statement(doc, "Delivery0Writes")
    assert trail_write["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert trail_write["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/audit-trail"
    }
    bedrock = statement(doc, "Delivery1Writes")
    assert bedrock["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert bedrock["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}


def test_log_bucket_access_goes_to_an_unlocked_access_log_bucket(trail: MockRun) -> None:
    access_bucket = of(trail, BUCKET, "audit-access-logs")
    logging = of(trail, LOGGING, "audit-logs")
    assert logging.inputs["targetBucket"] == access_bucket.outputs["bucket"]
    # S3 cannot deliver access logs into a bucket with a default retention, nor log a
    # bucket into itself.
    assert access_bucket.inputs["objectLockEnabled"] is False
    assert not [r for r in trail.of_type(LOGGING) if r.name.startswith("audit-access-logs-")]
    for name in ("audit-logs", "audit-access-logs"):
        lifecycle = of(trail, LIFECYCLE, name)
        assert any(r.get("expiration") == {"days": 365} for r in lifecycle.inputs["rules"])
    assert untagged(trail, TAGS) == []


def test_bedrock_invocation_logging_keeps_metadata_only_by_default(trail: MockRun) -> None:
    config = trail.one(INVOCATION).inputs["loggingConfig"]
    assert config["textDataDeliveryEnabled"] is False
    assert config["imageDataDeliveryEnabled"] is False
    assert config["embeddingDataDeliveryEnabled"] is False
    group = trail.one(GROUP, "audit-bedrock-invocations")
    assert config["cloudwatchConfig"]["logGroupName"] == group.outputs["name"]
    assert group.inputs["kmsKeyId"] == KEY
    assert config["s3Config"]["bucketName"] == of(trail, BUCKET, "audit-logs").outputs["bucket"]
    role = trail.one("aws:iam/role:Role", "audit-bedrock-invocations-role")
    trust = policy(role, "assumeRolePolicy")["Statement"][0]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}


def test_logging_prompt_text_changes_only_that_flag(trail: MockRun) -> None:
    with_text = audit(
        data_event_bucket_prefixes=["unit-test-data-"],
        data_event_resource_types=["AWS::Bedrock::Guardrail"],
        bedrock_invocation_logging=True,
        invocation_log_text=True,
    )
    diff = changes(trail, with_text)
    assert not diff.added and not diff.removed
    assert diff.changed_paths == {
        "audit-bedrock-invocation-logging": {"loggingConfig.textDataDeliveryEnabled"}
    }


def test_object_lock_locks_the_log_bucket_only() -> None:
    result = audit(object_lock=True, retention_days=2192)
    lock = of(result, LOCK, "audit-logs")
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 2192}
    assert len(result.of_type(LOCK)) == 1


def test_without_bedrock_there_is_no_invocation_logging() -> None:
    result = audit()
    assert not result.of_type(INVOCATION)
    selectors = result.one(TRAIL).inputs["advancedEventSelectors"]
    # management events, and the access-log bucket's object events (always recorded)
    assert [s["name"] for s in selectors] == [
        "All management events",
        "Object reads and writes of the access-log bucket",
    ]


@pytest.mark.parametrize(
    ("argument", "flag"),
    [
        ("invocation_log_images", "imageDataDeliveryEnabled"),
        ("invocation_log_embeddings", "embeddingDataDeliveryEnabled"),
    ],
)
def test_logging_images_or_embeddings_changes_only_that_flag(
    trail: MockRun, argument: str, flag: str
) -> None:
    weak = audit(
        data_event_bucket_prefixes=["unit-test-data-"],
        data_event_resource_types=["AWS::Bedrock::Guardrail"],
        bedrock_invocation_logging=True,
        **{argument: True},
    )
    diff = changes(trail, weak)
    assert not diff.added and not diff.removed
    assert diff.changed == {
        (INVOCATION, "audit-bedrock-invocation-logging"): {f"loggingConfig.{flag}": (False, True)}
    }


def test_protect_guards_log_stores_and_trail() -> None:
    result = audit(protect=True, bedrock_invocation_logging=True)
    guarded = {r.name for r in result.resources if r.protect}
    assert {"audit-trail", "audit-trail-logs", "audit-bedrock-invocations"} <= guarded
    assert {"audit-logs-bucket", "audit-access-logs-bucket"} <= guarded
    assert all(g.inputs["deletionProtectionEnabled"] is True for g in result.of_type(GROUP))
