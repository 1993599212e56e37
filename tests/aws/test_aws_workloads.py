"""Issue 17 on AWS: identities, segments and data zones per workload type, replicas in
the recovery region (TrainingIdentity, DataProcessingIdentity, WorkloadSegment, Recovery)."""

from __future__ import annotations

import fnmatch
import ipaddress
import json
from typing import Any

import pytest
from aiscaffold.testing import MockRun
from aiscaffold_components.aws import (
    DataProcessingIdentity,
    DataProcessingIdentityArgs,
    Network,
    NetworkArgs,
    Recovery,
    RecoveryArgs,
    ReplicationSource,
    SecureBucket,
    SecureBucketArgs,
    TrainingIdentity,
    TrainingIdentityArgs,
    WorkloadIdentity,
    WorkloadIdentityArgs,
    WorkloadSegment,
    WorkloadSegmentArgs,
)
from aws.aws_support import ACCOUNT, KEY, REGION, TAGS, run_component

DR = "us-west-2"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BUCKET = "aws:s3/bucket:Bucket"
NACL = "aws:ec2/networkAcl:NetworkAcl"
SUBNET = "aws:ec2/subnet:Subnet"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
KMS_KEY = "aws:kms/key:Key"
PROVIDER = "pulumi:providers:aws"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
MODEL = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.titan-text-express-v1"
INVOKE = ("bedrock:InvokeModel", "sagemaker:InvokeEndpoint")
REPOSITORY = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/unit/*"


# ------------------------------------------------------------------ the program
def build(workloads: tuple[str, ...], dr_region: str, ai_service: str = "bedrock") -> None:
    """What the generated program composes for these answers, in small."""
    network = Network(
        "network", NetworkArgs(tags=TAGS, logs_key_arn=KEY, endpoint_services=["kms"])
    )
    curated = SecureBucket(
        "data", SecureBucketArgs(kms_key_arn=KEY, tags=TAGS, access_log_bucket="access-logs")
    )
    WorkloadIdentity(
        "workload",
        WorkloadIdentityArgs(
            role_name="unit-test-workload",
            trusted_services=["ecs-tasks.amazonaws.com"],
            tags=TAGS,
            model_arns=[MODEL],
            guardrail_arn=f"arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/g1",
            guardrail_version="1",
            kms_key_arns=[KEY],
            bucket_arns=[curated.arn],
        ),
    )
    segments = {
        w: WorkloadSegment(
            f"{w}-segment",
            WorkloadSegmentArgs(
                workload=w,
                vpc_id=network.vpc_id,
                vpc_cidr=network.cidr_block,
                zone_ids=network.zone_ids,
                endpoint_subnet_cidrs=network.private_subnet_cidrs,
                endpoint_security_group_id="sg-endpoints",
                s3_gateway_endpoint_id="vpce-s3",
                s3_prefix_list_id="pl-s3",
                internal_traffic=w == "training",
                tags=TAGS,
            ),
        )
        for w in workloads
        if w != "inference"
    }
    artifacts = None
    if "training" in workloads:
        artifacts = SecureBucket(
            "model-artifacts",
            SecureBucketArgs(
                kms_key_arn=KEY,
                tags={**TAGS, "data-zone": "model-artifacts"},
                access_log_bucket="access-logs",
            ),
        )
        segment = segments["training"]
        TrainingIdentity(
            "training",
            TrainingIdentityArgs(
                role_name="unit-test-training",
                ai_service=ai_service,  # type: ignore[arg-type]
                trusted_services=["ecs-tasks.amazonaws.com"],
                curated_bucket_arn=curated.arn,
                artifact_bucket_arn=artifacts.arn,
                data_key_arn=KEY,
                subnet_arns=segment.subnet_arns,
                subnet_ids=segment.subnet_ids,
                security_group_arn=segment.security_group_arn,
                security_group_id=segment.security_group_id,
                base_model_arns=[MODEL],
                ecr_repository_arns=[REPOSITORY] if ai_service == "sagemaker" else [],
                tags=TAGS,
            ),
        )
    if "data-processing" in workloads:
        raw = SecureBucket(
            "raw-data",
            SecureBucketArgs(
                kms_key_arn=KEY, tags={**TAGS, "data-zone": "raw"}, access_log_bucket="access-logs"
            ),
        )
        DataProcessingIdentity(
            "data-processing",
            DataProcessingIdentityArgs(
                role_name="unit-test-data-processing",
                trusted_services=["ecs-tasks.amazonaws.com"],
                raw_bucket_arn=raw.arn,
                curated_bucket_arn=curated.arn,
                data_key_arn=KEY,
                tags=TAGS,
            ),
        )
    if dr_region:
        sources = [
            ReplicationSource(
                "data", curated.bucket_name, curated.arn, KEY, "unit-drdata-", depends_on=[curated]
            )
        ]
        if artifacts is not None:
            sources.append(
                ReplicationSource(
                    "model-artifacts",
                    artifacts.bucket_name,
                    artifacts.arn,
                    KEY,
                    "unit-drmodel-",
                    depends_on=[artifacts],
                )
            )
        Recovery(
            "recovery",
            RecoveryArgs(
                dr_region=dr_region,
                sources=sources,
                tags=TAGS,
                alias_prefix="unit-test",
                replication_role_name="unit-test-replication",
                access_log_name_prefix="unit-drlogs-",
            ),
        )


MIXES = [
    ("inference",),
    ("inference", "training"),
    ("inference", "data-processing"),
    ("inference", "training", "data-processing"),
]
_RUNS: dict[tuple[tuple[str, ...], str, str], MockRun] = {}


def program(workloads: tuple[str, ...], dr_region: str = "", ai: str = "bedrock") -> MockRun:
    key = (workloads, dr_region, ai)
    if key not in _RUNS:
        _RUNS[key] = run_component(lambda: build(workloads, dr_region, ai))
    return _RUNS[key]


# ------------------------------------------------------------------ a small evaluator
def _matches(patterns: Any, value: str) -> bool:
    items = patterns if isinstance(patterns, list) else [patterns]
    return any(fnmatch.fnmatchcase(value.lower(), str(p).lower()) for p in items)


def allows(run: MockRun, policy_name: str, action: str, resource: str) -> bool:
    """Whether the role policy's statements allow ``action`` on ``resource`` (conditions
    aside: an Allow counts, an unconditional Deny wins)."""
    doc = json.loads(run.one(ROLE_POLICY, policy_name).inputs["policy"])
    allowed = False
    for st in doc["Statement"]:
        if _matches(st["Action"], action) and _matches(st.get("Resource", "*"), resource):
            if st["Effect"] == "Deny" and "Condition" not in st:
                return False
            allowed = allowed or st["Effect"] == "Allow"
    return allowed


def bucket_arn(run: MockRun, name: str) -> str:
    return str(run.one(BUCKET, f"{name}-bucket").outputs["arn"])


# ------------------------------------------------------------------ identities
@pytest.mark.parametrize("workloads", MIXES, ids="+".join)
@pytest.mark.parametrize("dr_region", ["", DR], ids=["no-dr", "dr"])
def test_each_mix_creates_only_what_it_asks_for(workloads: tuple[str, ...], dr_region: str) -> None:
    run = program(workloads, dr_region)
    components = {r.type.rsplit(":", 1)[1] for r in run.components}
    assert ("TrainingIdentity" in components) == ("training" in workloads)
    assert ("DataProcessingIdentity" in components) == ("data-processing" in workloads)
    assert ("Recovery" in components) == bool(dr_region)
    segments = {r.name for r in run.components if r.type.endswith(":WorkloadSegment")}
    assert segments == {f"{w}-segment" for w in workloads if w != "inference"}
    zones = {r.inputs["tags"].get("data-zone") for r in run.of_type(BUCKET)}
    assert ("model-artifacts" in zones) == ("training" in workloads)
    assert ("raw" in zones) == ("data-processing" in workloads)


def test_inference_cannot_write_artifacts_and_training_cannot_invoke() -> None:
    run = program(("inference", "training", "data-processing"))
    artifacts = bucket_arn(run, "model-artifacts") + "/model.tar.gz"
    raw = bucket_arn(run, "raw-data") + "/input.jsonl"
    curated = bucket_arn(run, "data") + "/train.jsonl"
    assert not allows(run, "workload-policy", "s3:PutObject", artifacts)
    assert not allows(run, "workload-policy", "s3:GetObject", raw)
    assert allows(run, "workload-policy", "bedrock:InvokeModel", MODEL)
    for name in ("training-policy", "training-job-policy"):
        for action in INVOKE:
            assert not allows(run, name, action, MODEL), (name, action)
            assert not allows(run, name, action, "*"), (name, action)
        assert allows(run, name, "s3:PutObject", artifacts)
        assert allows(run, name, "s3:GetObject", curated)
        assert not allows(run, name, "s3:PutObject", curated)
        assert not allows(run, name, "s3:GetObject", raw)
    for action in INVOKE:
        assert not allows(run, "data-processing-policy", action, MODEL)
    assert not allows(run, "data-processing-policy", "s3:PutObject", artifacts)
    assert not allows(run, "data-processing-policy", "s3:GetObject", artifacts)
    assert allows(run, "data-processing-policy", "s3:GetObject", raw)
    assert not allows(run, "data-processing-policy", "s3:PutObject", raw)
    assert allows(run, "data-processing-policy", "s3:PutObject", curated)


def test_training_passes_only_its_job_role_to_bedrock() -> None:
    run = program(("inference", "training"))
    doc = json.loads(run.one(ROLE_POLICY, "training-policy").inputs["policy"])
    passes = [s for s in doc["Statement"] if s["Action"] == "iam:PassRole"]
    assert len(passes) == 1
    assert passes[0]["Resource"] == f"arn:aws:iam::{ACCOUNT}:role/unit-test-training-job"
    assert passes[0]["Condition"]["StringEquals"] == {
        "iam:PassedToService": "bedrock.amazonaws.com"
    }
    trust = json.loads(
        run.one("aws:iam/role:Role", "training-job-role").inputs["assumeRolePolicy"]
    )["Statement"][0]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"].endswith(
        ":model-customization-job/unit-test-training*"
    )
    # The job's network interfaces only in the training segment.
    job = json.loads(run.one(ROLE_POLICY, "training-job-policy").inputs["policy"])
    eni = next(s for s in job["Statement"] if s["Sid"] == "JobInterfacesInTheTrainingSegment")
    subnets = {r.outputs["arn"] for r in run.of_type(SUBNET) if r.name.startswith("training-")}
    assert subnets <= set(eni["Resource"])
    assert not [r for r in eni["Resource"] if ":subnet/network-private" in r]


def test_sagemaker_training_jobs_must_carry_the_project_settings() -> None:
    run = program(("inference", "training"), ai="sagemaker")
    doc = json.loads(run.one(ROLE_POLICY, "training-policy").inputs["policy"])
    create = next(s for s in doc["Statement"] if s["Action"] == "sagemaker:CreateTrainingJob")
    condition = create["Condition"]
    assert condition["Bool"] == {
        "sagemaker:NetworkIsolation": "true",
        "sagemaker:InterContainerTrafficEncryption": "true",
        "aws:SecureTransport": "true",
    }
    assert condition["StringEquals"] == {
        "sagemaker:VolumeKmsKey": KEY,
        "sagemaker:OutputKmsKey": KEY,
    }
    subnet_ids = {r.outputs["id"] for r in run.of_type(SUBNET) if r.name.startswith("training-")}
    assert set(condition["ForAllValues:StringEquals"]["sagemaker:VpcSubnets"]) == subnet_ids
    assert condition["Null"] == {"sagemaker:VpcSubnets": "false"}
    passes = next(s for s in doc["Statement"] if s["Action"] == "iam:PassRole")
    assert passes["Condition"]["StringEquals"]["iam:PassedToService"] == "sagemaker.amazonaws.com"


def test_sagemaker_training_jobs_can_log_report_metrics_and_pull_their_image() -> None:
    """The job role's own needs (sagemaker-roles.html, CreateTrainingJob): without the
    log stream a job fails at start; Bedrock customization jobs need none of these."""
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/TrainingJobs"
    run = program(("inference", "training"), ai="sagemaker")
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert allows(run, "training-job-policy", action, f"{group}:log-stream:job-1/algo-1")
        assert not allows(run, "training-job-policy", action, f"{group}x:log-stream:a")
    for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"):
        assert allows(run, "training-job-policy", action, REPOSITORY.replace("*", "trainer"))
        assert not allows(run, "training-job-policy", action, REPOSITORY.replace("unit/*", "other"))
    doc = json.loads(run.one(ROLE_POLICY, "training-job-policy").inputs["policy"])
    metrics = next(s for s in doc["Statement"] if s["Action"] == "cloudwatch:PutMetricData")
    assert metrics["Condition"]["StringEquals"] == {
        "cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"
    }
    bedrock = program(("inference", "training"))
    text = bedrock.one(ROLE_POLICY, "training-job-policy").inputs["policy"]
    assert "logs:" not in text and "ecr:" not in text and "cloudwatch:" not in text


# ------------------------------------------------------------------ segments
def test_segments_take_new_ranges_and_deny_each_other() -> None:
    run = program(("inference", "training", "data-processing"))
    ranges = {r.name: ipaddress.ip_network(r.inputs["cidrBlock"]) for r in run.of_type(SUBNET)}
    # The network's subnets keep their names and ranges.
    assert str(ranges["network-private-a"]) == "10.0.0.0/20"
    assert str(ranges["network-private-b"]) == "10.0.16.0/20"
    nets = list(ranges.values())
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
    training = [str(n) for name, n in ranges.items() if name.startswith("training-")]
    processing = [str(n) for name, n in ranges.items() if name.startswith("data-processing-")]
    endpoint_subnets = [str(ranges["network-private-a"]), str(ranges["network-private-b"])]
    acl = run.one(NACL, "training-segment-nacl").inputs
    for direction in ("egress", "ingress"):
        entries = sorted(acl[direction], key=lambda e: e["ruleNo"])
        allowed_before_deny: list[dict[str, Any]] = []
        for entry in entries:
            if entry["action"] == "deny":
                assert entry["cidrBlock"] == "10.0.0.0/16" and entry["protocol"] == "-1"
                break
            allowed_before_deny.append(entry)
        else:
            pytest.fail(f"{direction}: no deny of the VPC range")
        peers = {e["cidrBlock"] for e in allowed_before_deny}
        assert peers == {*training, *endpoint_subnets}
        assert not peers & set(processing)
        for entry in allowed_before_deny:
            if entry["cidrBlock"] in endpoint_subnets:
                assert entry["protocol"] == "tcp"
                ports = (entry["fromPort"], entry["toPort"])
                assert ports == ((443, 443) if direction == "egress" else (1024, 65535))


def test_segment_groups_reach_only_endpoints_s3_and_themselves() -> None:
    run = program(("inference", "training", "data-processing"))
    rules = [r for r in [*run.of_type(INGRESS), *run.of_type(EGRESS)] if "segment" in r.name]
    by_group: dict[str, list[dict[str, Any]]] = {}
    for rule in rules:
        by_group.setdefault(rule.inputs["securityGroupId"], []).append(rule.inputs)
    assert len(by_group) == 2
    owners = set()
    for group, inputs in by_group.items():
        peers = {i.get("referencedSecurityGroupId") or i.get("prefixListId") for i in inputs}
        assert not [i for i in inputs if "cidrIpv4" in i], "segments name peers by group"
        owner = next(r.name for r in run.of_type(SECURITY_GROUP) if r.outputs["id"] == group)
        owners.add(owner)
        if owner == "training-segment-sg":
            assert peers == {"sg-endpoints", "pl-s3", group}
        else:
            assert peers == {"sg-endpoints", "pl-s3"}
    assert owners == {"training-segment-sg", "data-processing-segment-sg"}


# ------------------------------------------------------------------ recovery
def test_replicas_live_in_the_dr_region_with_a_key_there() -> None:
    run = program(("inference", "training"), DR)
    provider = run.one(PROVIDER, "recovery-provider")
    assert provider.inputs["region"] == DR != REGION
    in_dr = {r.name for r in run.resources if r.provider and "recovery-provider" in r.provider}
    assert {"recovery-dr-key", "recovery-data-bucket", "recovery-model-artifacts-bucket"} <= in_dr
    assert "recovery-access-logs-bucket" in in_dr
    # The primary's resources stay on the default provider.
    assert "data-bucket" not in in_dr and "model-artifacts-bucket" not in in_dr
    key = run.one(KMS_KEY, "recovery-dr-key")
    assert key.inputs["enableKeyRotation"] is True and key.inputs["multiRegion"] is False
    doc = json.loads(key.inputs["policy"])
    via = next(s for s in doc["Statement"] if s["Sid"] == "ReplicationEncryptsReplicasThroughS3")
    assert via["Condition"]["StringEquals"]["kms:ViaService"] == f"s3.{DR}.amazonaws.com"
    configs = run.of_type(REPLICATION)
    assert {c.name for c in configs} == {
        "recovery-data-replication",
        "recovery-model-artifacts-replication",
    }
    for config in configs:
        rule = config.inputs["rules"][0]
        assert rule["status"] == "Enabled"
        assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] == "Enabled"
        assert rule["deleteMarkerReplication"]["status"] == "Enabled"
        destination = rule["destination"]
        assert destination["encryptionConfiguration"]["replicaKmsKeyId"] == key.outputs["arn"]
        assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
        assert destination["metrics"] == {"status": "Enabled", "eventThreshold": {"minutes": 15}}
    replica_names = {r.name for r in run.of_type(BUCKET) if r.name.startswith("recovery-")}
    # The same hardening as the primary's buckets: SecureBucket's companions, in the DR region.
    for companion in ("public-access-block", "versioning", "encryption", "policy"):
        for replica in ("recovery-data", "recovery-model-artifacts"):
            assert f"{replica}-{companion}" in in_dr
    assert replica_names == {
        "recovery-data-bucket",
        "recovery-model-artifacts-bucket",
        "recovery-access-logs-bucket",
    }
    encryption = run.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "recovery-data-encryption",
    ).inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert encryption["kmsMasterKeyId"] == key.outputs["arn"] != KEY


def test_replication_role_is_scoped_to_the_buckets_and_keys() -> None:
    run = program(("inference",), DR)
    doc = json.loads(run.one(ROLE_POLICY, "recovery-replication-policy").inputs["policy"])
    data = bucket_arn(run, "data")
    replica = bucket_arn(run, "recovery-data")
    resources = {
        str(r)
        for s in doc["Statement"]
        for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    }
    assert "*" not in resources
    dr_key = run.one(KMS_KEY, "recovery-dr-key").outputs["arn"]
    assert resources == {data, f"{data}/*", f"{replica}/*", KEY, dr_key}
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["DecryptSourceObjects"]["Condition"]["StringEquals"] == {
        "kms:ViaService": f"s3.{REGION}.amazonaws.com"
    }
    assert by_sid["EncryptReplicas"]["Condition"]["StringEquals"] == {
        "kms:ViaService": f"s3.{DR}.amazonaws.com"
    }


def test_recovery_needs_a_region_and_sources() -> None:
    with pytest.raises(ValueError, match="dr_region"):
        RecoveryArgs_check(dr_region="")
    with pytest.raises(ValueError, match="sources"):
        RecoveryArgs_check(dr_region=DR, sources=[])


def RecoveryArgs_check(**overrides: Any) -> None:
    settings: dict[str, Any] = {
        "dr_region": DR,
        "sources": [ReplicationSource("data", "b", "arn:aws:s3:::b", KEY, "unit-drdata-")],
        "tags": TAGS,
        "alias_prefix": "unit",
        "replication_role_name": "unit-replication",
        "access_log_name_prefix": "unit-drlogs-",
    }
    settings.update(overrides)
    errors: list[BaseException] = []

    def make() -> None:
        try:
            Recovery("recovery", RecoveryArgs(**settings))
        except ValueError as error:
            errors.append(error)

    run_component(make)
    if errors:
        raise errors[0]


def test_replication_waits_for_both_buckets_versioning() -> None:
    """AWS-DEPLOY-036: S3 refuses a replication configuration before both buckets are
    versioned; the configuration depends on both versionings."""
    run = program(("inference", "training"), DR)
    for label in ("data", "model-artifacts"):
        config = run.one(REPLICATION, f"recovery-{label}-replication")
        names = {urn.rsplit("::", 1)[1] for urn in config.dependencies}
        assert {f"{label}-versioning", f"recovery-{label}-versioning"} <= names


def test_replication_before_versioning_is_a_deploy_finding() -> None:
    import dataclasses

    from aiscaffold.check import evaluate
    from aws.aws_policy_support import requirements

    run = program(("inference",), DR)
    assert not _deploy_036(evaluate(run, requirements(dr_region=DR)))
    config = run.one(REPLICATION, "recovery-data-replication")
    # Without the source's SecureBucket among its dependencies (its lifecycle waits for
    # its versioning too), only the bucket itself.
    kept = tuple(
        d for d in config.dependencies if "::data-" not in d or d.endswith("::data-bucket")
    )
    bad = dataclasses.replace(
        run,
        resources=[
            dataclasses.replace(r, dependencies=kept) if r is config else r for r in run.resources
        ],
    )
    assert _deploy_036(evaluate(bad, requirements(dr_region=DR))) == {"recovery-data-replication"}


def _deploy_036(report: Any) -> set[str]:
    return {f.resource for f in report.deploy_findings if f.policy == "AWS-DEPLOY-036"}


def test_the_s3_gateway_admits_a_zone_only_for_its_identities() -> None:
    from aiscaffold_components.aws import PrivateEndpoints, PrivateEndpointsArgs, ScopedBucket

    raw = "arn:aws:s3:::unit-raw-1"
    processing = f"arn:aws:iam::{ACCOUNT}:role/unit-test-data-processing"

    def endpoints(scoped: list[ScopedBucket]) -> MockRun:
        return run_component(
            lambda: PrivateEndpoints(
                "endpoints",
                PrivateEndpointsArgs(
                    vpc_id="vpc-1",
                    vpc_cidr="10.0.0.0/16",
                    subnet_ids=["subnet-a"],
                    route_table_ids=["rtb-a"],
                    services=["kms"],
                    bucket_arns=["arn:aws:s3:::unit-data-1"],
                    scoped_buckets=scoped,
                    tags=TAGS,
                ),
            )
        )

    gateway = "aws:ec2/vpcEndpoint:VpcEndpoint"
    before = json.loads(endpoints([]).one(gateway, "endpoints-s3").inputs["policy"])
    after = json.loads(
        endpoints([ScopedBucket(raw, [processing])]).one(gateway, "endpoints-s3").inputs["policy"]
    )
    assert after["Statement"][0] == before["Statement"][0]  # the shared buckets: unchanged
    scoped = next(s for s in after["Statement"] if s["Sid"] == "WorkloadBucket0ForItsIdentities")
    assert scoped["Resource"] == [raw, f"{raw}/*"]
    assert scoped["Condition"]["ArnEquals"] == {"aws:PrincipalArn": processing}
    assert not [s for s in after["Statement"] if raw in json.dumps(s) and s is not scoped]


def test_the_bedrock_endpoint_admits_training_jobs_for_the_training_identity_only() -> None:
    from aiscaffold_components.aws import (
        BEDROCK_TRAINING_ACTIONS,
        IdentityActions,
        PrivateEndpoints,
        PrivateEndpointsArgs,
    )

    training = f"arn:aws:iam::{ACCOUNT}:role/unit-test-training"
    run = run_component(
        lambda: PrivateEndpoints(
            "endpoints",
            PrivateEndpointsArgs(
                vpc_id="vpc-1",
                vpc_cidr="10.0.0.0/16",
                subnet_ids=["subnet-a"],
                route_table_ids=["rtb-a"],
                services=["bedrock", "bedrock-runtime"],
                bucket_arns=["arn:aws:s3:::unit-data-1"],
                identity_actions=[IdentityActions("bedrock", BEDROCK_TRAINING_ACTIONS, [training])],
                tags=TAGS,
            ),
        )
    )
    gateway = "aws:ec2/vpcEndpoint:VpcEndpoint"
    control = json.loads(run.one(gateway, "endpoints-bedrock").inputs["policy"])["Statement"]
    shared, only = control
    assert "bedrock:CreateModelCustomizationJob" not in shared["Action"]
    assert only["Action"] == list(BEDROCK_TRAINING_ACTIONS)
    assert only["Condition"]["ArnEquals"] == {"aws:PrincipalArn": training}
    runtime = json.loads(run.one(gateway, "endpoints-bedrock-runtime").inputs["policy"])
    assert len(runtime["Statement"]) == 1  # no identity actions where none were given
