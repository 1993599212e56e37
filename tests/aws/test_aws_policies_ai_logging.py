"""AWS Bedrock, SageMaker AI, CloudTrail, CloudWatch Logs, Secrets Manager and deletion
protection policies: compliant and non-compliant fixtures, one per way to fail."""

from __future__ import annotations

import copy
from typing import Any

from aws.aws_policy_support import (
    ACCOUNT,
    KEY_ARN,
    REGION,
    ROLE,
    SOURCE_ACCOUNT,
    TAGS,
    TLS,
    check,
    doc,
    flagged,
    res,
    secure_bucket,
    stmt,
    tls_bucket_policy,
    workload_role,
)

GUARDRAIL = "aws:bedrock/guardrail:Guardrail"
VERSION = "aws:bedrock/guardrailVersion:GuardrailVersion"
INVOCATION = "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
TRAIL = "aws:cloudtrail/trail:Trail"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
DOMAIN = "aws:sagemaker/domain:Domain"
NOTEBOOK = "aws:sagemaker/notebookInstance:NotebookInstance"
VPC = "aws:ec2/vpc:Vpc"

CATEGORIES = ("HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT")
#: The confidential profile's pii_entities as Bedrock types (PII_ENTITY_TYPES).
PII = [
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "PASSWORD",
    "PIN",
    "EMAIL",
    "PHONE",
    "NAME",
    "ADDRESS",
    "US_SOCIAL_SECURITY_NUMBER",
    "CREDIT_DEBIT_CARD_NUMBER",
    "CREDIT_DEBIT_CARD_CVV",
    "CREDIT_DEBIT_CARD_EXPIRY",
    "US_BANK_ACCOUNT_NUMBER",
    "US_BANK_ROUTING_NUMBER",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "SWIFT_CODE",
]
GUARDRAIL_ARN = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/abc123"
CHAT = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0"
EMBED = "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"


def guardrail_inputs(strength: str = "HIGH") -> dict[str, Any]:
    return {
        "name": "app-dev",
        "kmsKeyArn": KEY_ARN,
        "contentPolicyConfig": {
            "filtersConfigs": [
                *(
                    {"type": t, "inputStrength": strength, "outputStrength": strength}
                    for t in CATEGORIES
                ),
                {"type": "PROMPT_ATTACK", "inputStrength": "HIGH", "outputStrength": "NONE"},
            ]
        },
        "sensitiveInformationPolicyConfig": {
            "piiEntitiesConfigs": [{"type": t, "action": "BLOCK"} for t in PII]
        },
        "topicPolicyConfig": {
            "topicsConfigs": [
                {"name": "investment advice", "definition": "...", "type": "DENY"},
            ]
        },
        "wordPolicyConfig": {"managedWordListsConfigs": [{"type": "PROFANITY"}]},
        "tags": TAGS,
    }


def guardrail(name: str, change: Any = None) -> Any:
    inputs = guardrail_inputs()
    if change is not None:
        change(inputs)
    return res(GUARDRAIL, name, inputs)


def _filters(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    return inputs["contentPolicyConfig"]["filtersConfigs"]  # type: ignore[no-any-return]


# ------------------------------------------------------------------------ Bedrock
def test_bedrock_001_content_filters_at_the_profile_strength() -> None:
    def drop_hate(g: dict[str, Any]) -> None:
        g["contentPolicyConfig"]["filtersConfigs"] = [f for f in _filters(g) if f["type"] != "HATE"]

    def weak_output(g: dict[str, Any]) -> None:
        _filters(g)[1]["outputStrength"] = "MEDIUM"

    def detect_only(g: dict[str, Any]) -> None:
        _filters(g)[2]["inputAction"] = "NONE"

    resources = [
        guardrail("strict"),
        guardrail("no-hate", drop_hate),
        guardrail("weak-answers", weak_output),
        guardrail("detect-only", detect_only),
        res(GUARDRAIL, "medium", guardrail_inputs("MEDIUM")),
    ]
    assert flagged(check(resources), "AWS-BEDROCK-001") == {
        "no-hate",
        "weak-answers",
        "detect-only",
        "medium",
    }
    internal = check(resources, data_sensitivity="internal")  # content_filter_strength: MEDIUM
    assert flagged(internal, "AWS-BEDROCK-001") == {"no-hate", "detect-only"}


def test_bedrock_002_prompt_attacks_blocked_at_high() -> None:
    def lower(g: dict[str, Any]) -> None:
        _filters(g)[-1]["inputStrength"] = "MEDIUM"

    def remove(g: dict[str, Any]) -> None:
        g["contentPolicyConfig"]["filtersConfigs"] = _filters(g)[:-1]

    report = check([guardrail("high"), guardrail("medium", lower), guardrail("none", remove)])
    assert flagged(report, "AWS-BEDROCK-002") == {"medium", "none"}


def test_bedrock_003_profile_pii_blocked_or_masked() -> None:
    def drop_email(g: dict[str, Any]) -> None:
        configs = g["sensitiveInformationPolicyConfig"]["piiEntitiesConfigs"]
        g["sensitiveInformationPolicyConfig"]["piiEntitiesConfigs"] = [
            c for c in configs if c["type"] != "EMAIL"
        ]

    def mask(g: dict[str, Any]) -> None:
        for config in g["sensitiveInformationPolicyConfig"]["piiEntitiesConfigs"]:
            config["action"] = "ANONYMIZE"

    def detect(g: dict[str, Any]) -> None:
        g["sensitiveInformationPolicyConfig"]["piiEntitiesConfigs"][0]["action"] = "NONE"

    def remove(g: dict[str, Any]) -> None:
        del g["sensitiveInformationPolicyConfig"]

    report = check(
        [
            guardrail("blocks"),
            guardrail("masks", mask),
            guardrail("no-email", drop_email),
            guardrail("detects", detect),
            guardrail("none", remove),
        ]
    )
    assert flagged(report, "AWS-BEDROCK-003") == {"no-email", "detects", "none"}
    # HIPAA adds health numbers, which none of these detect.
    assert "blocks" in flagged(
        check([guardrail("blocks")], compliance=["hipaa"]), "AWS-BEDROCK-003"
    )


def test_bedrock_004_denied_topics_and_profanity() -> None:
    def no_profanity(g: dict[str, Any]) -> None:
        del g["wordPolicyConfig"]

    def no_topics(g: dict[str, Any]) -> None:
        del g["topicPolicyConfig"]

    resources = [
        guardrail("complete"),
        guardrail("profane", no_profanity),
        guardrail("topicless", no_topics),
    ]
    answers = {"guardrail_denied_topics": ["Investment advice!"]}  # matched loosely, as rendered
    assert flagged(check(resources, **answers), "AWS-BEDROCK-004") == {"profane", "topicless"}
    more = check(resources, guardrail_denied_topics=["investment advice", "legal advice"])
    assert flagged(more, "AWS-BEDROCK-004") == {"complete", "profane", "topicless"}


def test_bedrock_005_guardrail_encrypted() -> None:
    def plain(g: dict[str, Any]) -> None:
        del g["kmsKeyArn"]

    assert flagged(check([guardrail("cmk"), guardrail("aws-owned", plain)]), "AWS-BEDROCK-005") == {
        "aws-owned"
    }


def test_bedrock_006_a_guardrail_with_a_published_version() -> None:
    workload = [res(VPC, "vpc"), workload_role()]
    version = res(VERSION, "version", {"guardrailArn": GUARDRAIL_ARN})
    assert not flagged(check([*workload, guardrail("g"), version]), "AWS-BEDROCK-006")
    assert flagged(check([*workload, guardrail("draft-only")]), "AWS-BEDROCK-006") == {"draft-only"}
    assert flagged(check(workload), "AWS-BEDROCK-006") == {"(stack)"}
    # With ids (the engine's view), each guardrail needs its own version.
    identified = [
        res(GUARDRAIL, "versioned", {**guardrail_inputs(), "guardrailArn": GUARDRAIL_ARN}),
        res(GUARDRAIL, "unversioned", {**guardrail_inputs(), "guardrailArn": GUARDRAIL_ARN + "x9"}),
    ]
    assert flagged(check([*workload, *identified, version]), "AWS-BEDROCK-006") == {"unversioned"}
    state_backend = check([res("aws:s3/bucket:Bucket", "state", {"tags": TAGS})])
    assert not flagged(state_backend, "AWS-BEDROCK-006")


def invocation_inputs(**flags: Any) -> dict[str, Any]:
    config = {
        "textDataDeliveryEnabled": False,
        "imageDataDeliveryEnabled": False,
        "embeddingDataDeliveryEnabled": False,
        "videoDataDeliveryEnabled": False,
        "cloudwatchConfig": {
            "logGroupName": "invocations",
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/invocations",
            "largeDataDeliveryS3Config": {
                "bucketName": "audit-logs",
                "keyPrefix": "bedrock-invocations/large",
            },
        },
        "s3Config": {"bucketName": "audit-logs", "keyPrefix": "bedrock-invocations"},
    }
    config.update(flags)
    return {"loggingConfig": {k: v for k, v in config.items() if v is not None}}


def test_bedrock_007_invocations_logged_to_cloudwatch_and_s3() -> None:
    cloudwatch = invocation_inputs()["loggingConfig"]["cloudwatchConfig"]
    no_large = {k: v for k, v in cloudwatch.items() if k != "largeDataDeliveryS3Config"}
    report = check(
        [
            res(INVOCATION, "both", invocation_inputs()),
            res(INVOCATION, "no-cloudwatch", invocation_inputs(cloudwatchConfig=None)),
            res(
                INVOCATION,
                "no-role",
                invocation_inputs(cloudwatchConfig={**cloudwatch, "roleArn": None}),
            ),
            res(INVOCATION, "no-large-data", invocation_inputs(cloudwatchConfig=no_large)),
            res(INVOCATION, "no-s3", invocation_inputs(s3Config=None)),
        ]
    )
    assert flagged(report, "AWS-BEDROCK-007") == {
        "no-cloudwatch",
        "no-role",
        "no-large-data",
        "no-s3",
    }


def test_bedrock_008_no_prompt_text_in_confidential_logs() -> None:
    resources = [
        res(INVOCATION, "metadata", invocation_inputs()),
        res(INVOCATION, "text", invocation_inputs(textDataDeliveryEnabled=True)),
        res(
            INVOCATION, "default-images", invocation_inputs(imageDataDeliveryEnabled=None)
        ),  # defaults to true
    ]
    assert flagged(check(resources), "AWS-BEDROCK-008") == {"text", "default-images"}
    assert flagged(check(resources, data_sensitivity="restricted"), "AWS-BEDROCK-008") == {
        "text",
        "default-images",
    }
    assert not flagged(check(resources, data_sensitivity="internal"), "AWS-BEDROCK-008")


def test_bedrock_009_invocation_logging_in_bedrock_projects() -> None:
    workload = [res(VPC, "vpc"), workload_role()]
    assert flagged(check(workload), "AWS-BEDROCK-009") == {"(stack)"}
    assert not flagged(
        check([*workload, res(INVOCATION, "logging", invocation_inputs())]), "AWS-BEDROCK-009"
    )
    assert not flagged(check(workload, ai_service="sagemaker"), "AWS-BEDROCK-009")


def _log_bucket(prefix: str = "bedrock-invocations/") -> list[Any]:
    delivery = stmt(
        "s3:PutObject",
        f"arn:aws:s3:::audit-logs/{prefix}*",
        principal={"Service": "bedrock.amazonaws.com"},
        condition=SOURCE_ACCOUNT,
    )
    bucket = secure_bucket("audit-logs")
    for index, resource in enumerate(bucket):
        if resource.type == "aws:s3/bucketPolicy:BucketPolicy":
            bucket[index] = res(
                resource.type,
                resource.name,
                {"bucket": "audit-logs", "policy": tls_bucket_policy("audit-logs", delivery)},
            )
    return bucket


def test_bedrock_010_invocation_logs_land_where_bedrock_may_write() -> None:
    s3 = invocation_inputs()["loggingConfig"]["s3Config"]
    assert not flagged(
        check([*_log_bucket(), res(INVOCATION, "logging", invocation_inputs())]), "AWS-BEDROCK-010"
    )
    root = invocation_inputs(s3Config={"bucketName": "audit-logs"})
    assert flagged(
        check([*_log_bucket(), res(INVOCATION, "logging", root)]), "AWS-BEDROCK-010"
    ) == {"logging"}
    elsewhere = invocation_inputs(s3Config={**s3, "keyPrefix": "other"})
    assert flagged(
        check([*_log_bucket(), res(INVOCATION, "logging", elsewhere)]), "AWS-BEDROCK-010"
    ) == {"logging"}
    # A bucket outside the stack is not judged.
    assert not flagged(check([res(INVOCATION, "logging", invocation_inputs())]), "AWS-BEDROCK-010")


def test_bedrock_011_models_invoked_only_through_the_pinned_guardrail() -> None:
    rp = "aws:iam/rolePolicy:RolePolicy"
    invoke = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    pinned = {**TLS, "StringEquals": {"bedrock:GuardrailIdentifier": f"{GUARDRAIL_ARN}:1"}}
    cases = {
        "guarded": doc(
            stmt(invoke, CHAT, condition=pinned),
            stmt("bedrock:ApplyGuardrail", GUARDRAIL_ARN, condition=TLS),
        ),
        "embeddings": doc(stmt(invoke, EMBED, condition=TLS)),
        "unguarded": doc(stmt(invoke, CHAT, condition=TLS)),
        "draft": doc(
            stmt(
                invoke,
                CHAT,
                condition={"StringEquals": {"bedrock:GuardrailIdentifier": GUARDRAIL_ARN}},
            )
        ),
        "any-model": doc(stmt(invoke, "*", condition=pinned)),
        "admin": doc(stmt("bedrock:UpdateGuardrail", GUARDRAIL_ARN)),
        "wildcard": doc(stmt("bedrock:*", CHAT, condition=pinned)),
        "any-guardrail": doc(stmt("bedrock:ApplyGuardrail", "*")),
        "unrelated": doc(stmt("s3:GetObject", "arn:aws:s3:::app-data/*", condition=TLS)),
    }
    report = check(
        [res(rp, name, {"role": "r", "policy": policy}) for name, policy in cases.items()]
    )
    assert flagged(report, "AWS-BEDROCK-011") == {
        "unguarded",
        "draft",
        "any-model",
        "admin",
        "wildcard",
        "any-guardrail",
    }


# ---------------------------------------------------------------------- SageMaker
def domain_inputs() -> dict[str, Any]:
    return {
        "domainName": "app-dev",
        "authMode": "IAM",
        "appNetworkAccessType": "VpcOnly",
        "kmsKeyId": KEY_ARN,
        "domainSettings": {
            "executionRoleIdentityConfig": "USER_PROFILE_NAME",
            "dockerSettings": {"enableDockerAccess": "DISABLED"},
        },
        "defaultUserSettings": {
            "executionRole": ROLE,
            "sharingSettings": {"notebookOutputOption": "Disabled"},
        },
        "tags": TAGS,
    }


def domain(name: str, **changes: Any) -> Any:
    inputs = copy.deepcopy(domain_inputs())
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = inputs
        for key in parents:
            target = target[key]
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return res(DOMAIN, name, inputs)


def test_sagemaker_domain_policies() -> None:
    report = check(
        [
            domain("private"),
            domain("public", appNetworkAccessType="PublicInternetOnly"),
            domain("default-network", appNetworkAccessType=None),
            domain("unencrypted", kmsKeyId=None),
            domain("docker", domainSettings__dockerSettings__enableDockerAccess="ENABLED"),
            domain("sharing", defaultUserSettings__sharingSettings__notebookOutputOption="Allowed"),
            domain("anonymous", domainSettings__executionRoleIdentityConfig=None),
        ],
        ai_service="sagemaker",
    )
    assert flagged(report, "AWS-SAGE-001") == {"public", "default-network"}
    assert flagged(report, "AWS-SAGE-002") == {"unencrypted"}
    assert flagged(report, "AWS-SAGE-003") == {"docker", "sharing"}
    assert flagged(report, "AWS-SAGE-004") == {"anonymous"}


def test_sage_008_home_volumes_retained_when_the_domain_is_deleted() -> None:
    report = check(
        [
            domain("retained", retentionPolicy={"homeEfsFileSystem": "Retain"}),
            domain("default-retention"),  # absent means Retain
            domain("empty-retention", retentionPolicy={}),
            domain("deleted", retentionPolicy={"homeEfsFileSystem": "Delete"}),
        ],
        ai_service="sagemaker",
    )
    assert flagged(report, "AWS-SAGE-008") == {"deleted"}


def test_sagemaker_notebook_policies() -> None:
    hardened = {
        "directInternetAccess": "Disabled",
        "rootAccess": "Disabled",
        "kmsKeyId": KEY_ARN,
        "subnetId": "subnet-1",
        "tags": TAGS,
    }
    report = check(
        [
            res(NOTEBOOK, "hardened", hardened),
            res(NOTEBOOK, "defaults", {"tags": TAGS}),  # direct internet and root access on, no key
            res(NOTEBOOK, "outside-vpc", {**hardened, "subnetId": None}),
            res(NOTEBOOK, "root", {**hardened, "rootAccess": "Enabled"}),
        ],
        ai_service="sagemaker",
    )
    assert flagged(report, "AWS-SAGE-005") == {"defaults", "outside-vpc"}
    assert flagged(report, "AWS-SAGE-006") == {"defaults", "root"}
    assert flagged(report, "AWS-SAGE-007") == {"defaults"}


# ----------------------------------------------------------------------- CloudTrail
def trail(name: str, **changes: Any) -> Any:
    inputs: dict[str, Any] = {
        "s3BucketName": "audit-logs",
        "isMultiRegionTrail": True,
        "includeGlobalServiceEvents": True,
        "enableLogFileValidation": True,
        "enableLogging": True,
        "kmsKeyId": KEY_ARN,
        "cloudWatchLogsGroupArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:trail-logs:*",
        "cloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/trail-logs",
        "advancedEventSelectors": [
            {
                "name": "management",
                "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}],
            },
            {
                "name": "data",
                "fieldSelectors": [
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                    {"field": "resources.ARN", "startsWiths": ["arn:aws:s3:::app-dev-data-"]},
                ],
            },
            {
                "name": "guardrail",
                "fieldSelectors": [
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": ["AWS::Bedrock::Guardrail"]},
                ],
            },
        ],
        "tags": TAGS,
    }
    for key, value in changes.items():
        if value is None:
            inputs.pop(key, None)
        else:
            inputs[key] = value
    return res(TRAIL, name, inputs)


def test_trail_resource_policies() -> None:
    reads_only = [
        {
            "name": "m",
            "fieldSelectors": [
                {"field": "eventCategory", "equals": ["Management"]},
                {"field": "readOnly", "equals": ["true"]},
            ],
        }
    ]
    report = check(
        [
            trail("complete"),
            trail(
                "classic",
                advancedEventSelectors=None,
                eventSelectors=[{"includeManagementEvents": True, "readWriteType": "All"}],
            ),
            trail(
                "defaults",
                advancedEventSelectors=None,
                includeGlobalServiceEvents=None,
                enableLogging=None,
            ),
            trail("one-region", isMultiRegionTrail=False),
            trail("no-global", includeGlobalServiceEvents=False),
            trail("unvalidated", enableLogFileValidation=False),
            trail("unencrypted", kmsKeyId=None),
            trail("no-cloudwatch", cloudWatchLogsRoleArn=None),
            trail("stopped", enableLogging=False),
            trail("reads-only", advancedEventSelectors=reads_only),
            trail(
                "writes-only",
                advancedEventSelectors=None,
                eventSelectors=[{"readWriteType": "WriteOnly"}],
            ),
        ]
    )
    assert flagged(report, "AWS-TRAIL-001") == {"one-region", "no-global"}
    assert flagged(report, "AWS-TRAIL-002") == {"unvalidated"}
    assert flagged(report, "AWS-TRAIL-003") == {"unencrypted"}
    assert flagged(report, "AWS-TRAIL-004") == {"no-cloudwatch"}
    assert flagged(report, "AWS-TRAIL-005") == {"stopped", "reads-only", "writes-only"}


def test_trail_006_a_multi_region_trail_records_the_account() -> None:
    workload = [res(VPC, "vpc"), workload_role()]
    assert not flagged(check([*workload, trail("trail")]), "AWS-TRAIL-006")
    assert flagged(check(workload), "AWS-TRAIL-006") == {"(stack)"}
    assert flagged(
        check([*workload, trail("local", isMultiRegionTrail=False)]), "AWS-TRAIL-006"
    ) == {"(stack)"}
    assert flagged(check([*workload, trail("stopped", enableLogging=False)]), "AWS-TRAIL-006") == {
        "(stack)"
    }
    assert not flagged(
        check([res("aws:s3/bucket:Bucket", "state", {"tags": TAGS})]), "AWS-TRAIL-006"
    )


def test_trail_007_data_events_of_buckets_and_the_ai_service() -> None:
    data = res("aws:s3/bucket:Bucket", "data", {"bucketPrefix": "app-dev-data-", "tags": TAGS})
    other = res("aws:s3/bucket:Bucket", "scratch", {"bucket": "app-dev-scratch", "tags": TAGS})
    logs = res("aws:s3/bucket:Bucket", "logs", {"bucket": "audit-logs", "tags": TAGS})
    report = check([trail("trail"), data, other, logs])
    assert flagged(report, "AWS-TRAIL-007") == {"scratch"}
    no_ai = trail("trail", advancedEventSelectors=trail("x").inputs["advancedEventSelectors"][:2])
    assert flagged(check([no_ai, data]), "AWS-TRAIL-007") == {"(stack)"}
    every_bucket = [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]
    classic = trail(
        "classic",
        advancedEventSelectors=None,
        eventSelectors=[{"readWriteType": "All", "dataResources": every_bucket}],
    )
    assert flagged(check([classic, data, other], ai_service="sagemaker"), "AWS-TRAIL-007") == {
        "(stack)"
    }  # no endpoint events


BUCKET = "aws:s3/bucket:Bucket"
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"


def _object_events(*arn_prefixes: str) -> dict[str, Any]:
    return {
        "name": "objects",
        "fieldSelectors": [
            {"field": "eventCategory", "equals": ["Data"]},
            {"field": "resources.type", "equals": ["AWS::S3::Object"]},
            {"field": "resources.ARN", "startsWiths": list(arn_prefixes)},
        ],
    }


def test_trail_007_the_access_log_bucket_is_recorded_by_the_trail() -> None:
    """The bucket receiving access logs has none of its own: the trail must record it."""
    base = trail("x").inputs["advancedEventSelectors"]
    logs = res(BUCKET, "logs", {"bucket": "audit-logs", "tags": TAGS})
    # Auto-named, as AuditLogging creates it: matched through Pulumi's auto-name.
    access = res(BUCKET, "audit-access-logs-bucket", {"tags": TAGS})
    access_name = "audit-access-logs-bucket-1a2b3c4d"
    logs_logging = res(
        BUCKET_LOGGING, "logs-logging", {"bucket": "audit-logs", "targetBucket": access_name}
    )
    stack = [logs, access, logs_logging]
    exact = trail(
        "exact", advancedEventSelectors=[*base, _object_events(f"arn:aws:s3:::{access_name}/")]
    )
    assert not flagged(check([exact, *stack]), "AWS-TRAIL-007")
    unrecorded = check([trail("unrecorded"), *stack])
    assert flagged(unrecorded, "AWS-TRAIL-007") == {"audit-access-logs-bucket"}
    assert any("no access logs of its own" in f.message for f in unrecorded.violations)
    # a key prefix records part of the bucket only; another bucket's name records none
    partial = trail(
        "partial", advancedEventSelectors=[*base, _object_events(f"arn:aws:s3:::{access_name}/a/")]
    )
    other = trail(
        "other", advancedEventSelectors=[*base, _object_events("arn:aws:s3:::audit-access-logs-x/")]
    )
    for wrong in (partial, other):
        assert flagged(check([wrong, *stack]), "AWS-TRAIL-007") == {"audit-access-logs-bucket"}
    # A bucket that receives access logs but has its own is recorded by them.
    own = res(
        BUCKET_LOGGING, "access-logging", {"bucket": access_name, "targetBucket": "elsewhere"}
    )
    elsewhere = res(BUCKET, "elsewhere", {"bucket": "elsewhere", "tags": TAGS})
    logged = check([trail("unrecorded"), *stack, own, elsewhere])
    assert flagged(logged, "AWS-TRAIL-007") == {"elsewhere"}  # now the access-log target


def test_trail_007_guardrail_calls_are_recorded_wherever_there_is_a_guardrail() -> None:
    base = trail("x").inputs["advancedEventSelectors"]
    endpoint_events = {
        "name": "endpoints",
        "fieldSelectors": [
            {"field": "eventCategory", "equals": ["Data"]},
            {"field": "resources.type", "equals": ["AWS::SageMaker::Endpoint"]},
        ],
    }
    sagemaker_only = trail("t", advancedEventSelectors=[*base[:2], endpoint_events])
    rail = guardrail("rail")
    assert not flagged(check([sagemaker_only], ai_service="sagemaker"), "AWS-TRAIL-007")
    assert flagged(check([sagemaker_only, rail], ai_service="sagemaker"), "AWS-TRAIL-007") == {
        "(stack)"
    }
    both = trail("t", advancedEventSelectors=[*base, endpoint_events])
    assert not flagged(check([both, rail], ai_service="sagemaker"), "AWS-TRAIL-007")


# ---------------------------------------------------------------- CloudWatch Logs
def test_logs_001_002_log_groups_encrypted_and_kept() -> None:
    report = check(
        [
            res(LOG_GROUP, "kept", {"kmsKeyId": KEY_ARN, "retentionInDays": 365.0, "tags": TAGS}),
            res(LOG_GROUP, "plain", {"retentionInDays": 365.0, "tags": TAGS}),
            res(LOG_GROUP, "forever", {"kmsKeyId": KEY_ARN, "tags": TAGS}),
            res(LOG_GROUP, "short", {"kmsKeyId": KEY_ARN, "retentionInDays": 90.0, "tags": TAGS}),
        ]
    )
    assert flagged(report, "AWS-LOGS-001") == {"plain"}
    assert flagged(report, "AWS-LOGS-002") == {"forever", "short"}
    fedramp = check(
        [res(LOG_GROUP, "rounded", {"kmsKeyId": KEY_ARN, "retentionInDays": 1096.0})],
        compliance=["fedramp"],
    )
    assert not flagged(
        fedramp, "AWS-LOGS-002"
    )  # 913 days asked, 1096 the next period CloudWatch has


def test_logs_003_the_workload_creates_no_log_groups_but_sagemakers() -> None:
    rp = "aws:iam/rolePolicy:RolePolicy"
    groups = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group"
    sagemaker, workload = f"{groups}:/aws/sagemaker/*", f"{groups}:/app/dev/workload"

    def policy(name: str, *statements: dict[str, Any], type_: str = rp) -> Any:
        return res(type_, name, {"role": "app-dev-workload", "policy": doc(*statements)})

    write = ["logs:CreateLogStream", "logs:PutLogEvents"]
    report = check(
        [
            policy("writes", stmt(write, [workload, f"{workload}:log-stream:*"], condition=TLS)),
            # WorkloadIdentity creates_log_groups, as the SageMaker AI program sets it
            policy("sagemaker-groups", stmt("logs:CreateLogGroup", sagemaker, condition=TLS)),
            policy("its-own-group", stmt(["logs:CreateLogGroup", *write], workload)),
            policy("lambda-groups", stmt("logs:CreateLogGroup", f"{groups}:/aws/lambda/*")),
            policy("any-group", stmt("logs:CreateLogGroup", "*")),
            policy("by-wildcard", stmt("logs:Create*", f"{groups}:*")),
            policy("and-another", stmt("logs:CreateLogGroup", [sagemaker, workload])),
            policy("managed", stmt("logs:CreateLogGroup", workload), type_="aws:iam/policy:Policy"),
        ]
    )
    assert flagged(report, "AWS-LOGS-003") == {
        "its-own-group",
        "lambda-groups",
        "any-group",
        "by-wildcard",
        "and-another",
        "managed",
    }
    (message,) = [
        f.message
        for f in report.violations
        if f.policy == "AWS-LOGS-003" and f.resource == "and-another"
    ]
    assert message == (
        f"and-another statement #0 lets its principal create log groups ({workload}), which "
        "the project's logs key does not encrypt"
    )


# ---------------------------------------------------------------- Secrets Manager
ENDPOINT_ID = "vpce-0123"


def secret_policy(name: str, *statements: dict[str, Any], **inputs: Any) -> Any:
    readers_only = stmt(
        "secretsmanager:GetSecretValue",
        effect="Deny",
        principal="*",
        condition={"ArnNotEquals": {"aws:PrincipalArn": ROLE}},
    )
    endpoint_only = stmt(
        "secretsmanager:GetSecretValue",
        effect="Deny",
        principal="*",
        condition={"StringNotEquals": {"aws:SourceVpce": ENDPOINT_ID}},
    )
    default = (readers_only, endpoint_only)
    base = {
        "secretArn": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/dev/{name}-AbCdEf",
        "policy": doc(*(statements or default)),
        "blockPublicPolicy": True,
    }
    base.update(inputs)
    return res(SECRET_POLICY, f"{name}-policy", {k: v for k, v in base.items() if v is not None})


def test_secrets_001_encrypted_with_the_secrets_key() -> None:
    report = check(
        [
            res(SECRET, "cmk", {"name": "app/dev/cmk", "kmsKeyId": KEY_ARN}),
            res(SECRET, "aws-managed", {"name": "app/dev/aws-managed"}),
            res(
                SECRET,
                "aws-alias",
                {"name": "app/dev/aws-alias", "kmsKeyId": "alias/aws/secretsmanager"},
            ),
        ]
    )
    assert flagged(report, "AWS-SECRETS-001") == {"aws-managed", "aws-alias"}


def test_secrets_002_003_only_the_workload_reads_through_the_endpoint() -> None:
    any_reader = stmt(
        "secretsmanager:GetSecretValue",
        effect="Deny",
        principal="*",
        condition={"StringNotEquals": {"aws:SourceVpce": ENDPOINT_ID}},
    )
    break_glass = stmt(
        "secretsmanager:GetSecretValue",
        effect="Deny",
        principal="*",
        condition={
            "StringNotEquals": {"aws:SourceVpce": ENDPOINT_ID},
            "ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::1:role/ops"},
        },
    )
    readers = stmt(
        "secretsmanager:GetSecretValue",
        effect="Deny",
        principal="*",
        condition={"ArnNotEquals": {"aws:PrincipalArn": ROLE}},
    )
    report = check(
        [
            secret_policy("locked"),
            secret_policy("no-policy", policy=None),
            secret_policy("public-allowed", blockPublicPolicy=False),
            secret_policy("anyone-in-vpc", any_reader),
            secret_policy(
                "public-grant",
                readers,
                any_reader,
                stmt("secretsmanager:GetSecretValue", principal="*"),
            ),
            secret_policy("anywhere", readers),
            secret_policy("break-glass", readers, break_glass),
        ]
    )
    assert flagged(report, "AWS-SECRETS-002") == {
        "no-policy-policy",
        "public-allowed-policy",
        "anyone-in-vpc-policy",
        "public-grant-policy",
    }
    assert flagged(report, "AWS-SECRETS-003") == {
        "no-policy-policy",
        "anywhere-policy",
        "break-glass-policy",
    }


def test_secrets_004_rotation_within_the_profile_period() -> None:
    rotation = "aws:secretsmanager/secretRotation:SecretRotation"
    report = check(
        [
            res(
                SECRET,
                "quarterly",
                {"name": "a", "kmsKeyId": KEY_ARN, "tags": {**TAGS, "rotation-days": "90"}},
            ),
            res(
                SECRET,
                "yearly",
                {"name": "b", "kmsKeyId": KEY_ARN, "tags": {**TAGS, "rotation-days": "365"}},
            ),
            res(SECRET, "unstated", {"name": "c", "kmsKeyId": KEY_ARN, "tags": TAGS}),
            res(
                rotation,
                "scheduled",
                {
                    "secretId": "a",
                    "rotationLambdaArn": "x",
                    "rotationRules": {"automaticallyAfterDays": 30.0},
                },
            ),
            res(
                rotation,
                "lazy",
                {
                    "secretId": "b",
                    "rotationLambdaArn": "x",
                    "rotationRules": {"automaticallyAfterDays": 180.0},
                },
            ),
        ]
    )  # confidential: secret_rotation_days 90
    # The rotation is judged, not the `rotation-days` tag: "yearly" is reported through its
    # rotation ("lazy", every 180 days); "unstated" has no rotation and no reminder.
    assert flagged(report, "AWS-SECRETS-004") == {"unstated", "lazy"}


def test_secrets_004_schedule_expressions_are_bounded() -> None:
    """rate() and cron() schedules are held to the profile's period by their longest gap
    between two rotations; expressions with no bound are flagged."""
    rotation = "aws:secretsmanager/secretRotation:SecretRotation"

    def scheduled(name: str, expression: str) -> Any:
        return res(
            rotation,
            name,
            {
                "secretId": "a",
                "rotationLambdaArn": "x",
                "rotationRules": {"scheduleExpression": expression},
            },
        )

    compliant = {
        "rate-90-days": "rate(90 days)",
        "rate-hours": "rate(4 hours)",
        "monthly-first": "cron(0 16 1 * ? *)",  # at most 31 days apart
        "first-monday": "cron(0 8 ? * MON#1 *)",  # at most 35 days apart
        "weekdays": "cron(0 2 ? * 2-6 *)",
        "every-other-month": "cron(0 0 1 */2 ? *)",  # at most 62 days
        "on-the-31st": "cron(0 0 31 * ? *)",  # skips months without one: up to 61 days
    }
    flagged_ = {
        "rate-a-year": "rate(365 days)",
        "every-quarter": "cron(0 0 1 1,4,7,10 ? *)",  # up to 92 days apart: 90 are asked
        "twice-a-year": "cron(0 0 1 */6 ? *)",
        "leap-days": "cron(0 0 29 2 ? *)",
        "until-2030": "cron(0 0 1 * ? 2025-2030)",  # stops rotating
        "never": "cron(0 0 30 2 ? *)",
        "unreadable": "every month",
    }
    report = check(
        [scheduled(n, e) for n, e in {**compliant, **flagged_}.items()]
    )  # confidential: secret_rotation_days 90
    assert flagged(report, "AWS-SECRETS-004") == set(flagged_)


def test_secrets_005_recoverable_after_deletion() -> None:
    report = check(
        [
            res(SECRET, "recoverable", {"name": "a", "recoveryWindowInDays": 30.0}),
            res(SECRET, "default", {"name": "b"}),
            res(SECRET, "gone", {"name": "c", "recoveryWindowInDays": 0.0}),
        ]
    )
    assert flagged(report, "AWS-SECRETS-005") == {"gone"}


def test_secrets_006_every_secret_has_a_policy() -> None:
    report = check(
        [
            res(SECRET, "guarded", {"name": "app/dev/guarded"}),
            secret_policy("guarded"),
            res(SECRET, "bare", {"name": "app/dev/bare"}),
            res(
                SECRET, "guarded-too", {"name": "app/dev/guarded-too"}
            ),  # a longer name is another secret
        ]
    )
    assert flagged(report, "AWS-SECRETS-006") == {"bare", "guarded-too"}


# ------------------------------------------------------------ deletion protection
def test_gov_003_keys_and_audit_log_stores_protected() -> None:
    def protected(resource: Any, flag: bool = True) -> Any:
        return res(resource.type, resource.name, resource.inputs, protect=flag)

    group = res(
        LOG_GROUP,
        "trail-logs",
        {
            "name": "trail-logs",
            "kmsKeyId": KEY_ARN,
            "retentionInDays": 2192.0,
            "deletionProtectionEnabled": True,
        },
        protect=True,
    )
    unguarded_group = res(
        LOG_GROUP,
        "invocation-logs",
        {"name": "invocations", "kmsKeyId": KEY_ARN, "retentionInDays": 2192.0},
        protect=True,
    )
    flow_group = res(
        LOG_GROUP, "flow-logs", {"kmsKeyId": KEY_ARN, "retentionInDays": 2192.0}
    )  # not an audit store
    audit_bucket = [
        protected(r) if r.type == "aws:s3/bucket:Bucket" else r for r in secure_bucket("audit-logs")
    ]
    access_bucket = secure_bucket("access-logs", log_to=None)  # receives access logs, unprotected
    data_bucket = secure_bucket("data")
    resources = [
        protected(res("aws:kms/key:Key", "guarded-key", {"enableKeyRotation": True})),
        res("aws:kms/key:Key", "loose-key", {"enableKeyRotation": True}),
        protected(trail("trail")),
        group,
        unguarded_group,
        flow_group,
        res(INVOCATION, "invocation-logging", invocation_inputs()),
        *audit_bucket,
        *access_bucket,
        *data_bucket,
    ]
    report = check(resources, data_sensitivity="restricted")
    assert flagged(report, "AWS-GOV-003") == {"loose-key", "invocation-logs", "access-logs-bucket"}
    assert not flagged(check(resources), "AWS-GOV-003")  # confidential: not asked
