"""WorkloadSegments and ReplicatedBucket: identities, segments, data zones and replicas."""

from __future__ import annotations

import dataclasses
import ipaddress

import pulumi_gcp as gcp
import pytest
from aiscaffold.testing import MockRun
from aiscaffold_components.gcp import (
    ReplicatedBucket,
    ReplicatedBucketArgs,
    WorkloadIdentity,
    WorkloadIdentityArgs,
    WorkloadSegments,
    WorkloadSegmentsArgs,
)
from aiscaffold_components.gcp.recovery import SINK_ROLE, SOURCE_ROLE
from aiscaffold_components.gcp.segments import SEGMENT_CIDRS, TRAINING_PERMISSIONS
from aiscaffold_components.policies import registry
from aiscaffold_components.policies._core import Resource
from aiscaffold_components.policies.gcp.segments import capabilities
from gcp.gcp_policy_support import (
    DROP,
    derived,
    flagged,
    messages,
    patch,
    patched,
    report,
    reqs,
    unknown,
)
from gcp_support import KEY, PROJECT, REGION, iam_bindings, run_component

DR_REGION = "us-east1"
DR_KEY = f"projects/{PROJECT}/locations/{DR_REGION}/keyRings/dr/cryptoKeys/data"
CURATED = "curated-bucket-1234567"
ENDPOINT_MEMBER = "gcp:vertex/aiEndpointIamMember:AiEndpointIamMember"
BUCKET = "gcp:storage/bucket:Bucket"
FIREWALL = "gcp:compute/firewall:Firewall"
ALL = ("inference", "training", "data-processing")


def build(workloads: tuple[str, ...], dr_region: str = "") -> MockRun:
    def program() -> None:
        # the AI service the segments serve (the policies judge AI workload stacks only)
        gcp.vertex.AiEndpoint("app-endpoint", location=REGION, display_name="endpoint")
        # the inference subnet (Network's)
        gcp.compute.Subnetwork(
            "app-net-subnet",
            network=f"projects/{PROJECT}/global/networks/net",
            region=REGION,
            ip_cidr_range="10.10.0.0/20",
        )
        identity = WorkloadIdentity("app-workload", WorkloadIdentityArgs(project=PROJECT))
        segments = WorkloadSegments(
            "app-segments",
            WorkloadSegmentsArgs(
                project=PROJECT,
                region=REGION,
                network_id=f"projects/{PROJECT}/global/networks/net",
                inference_email=identity.email,
                inference_cidr="10.10.0.0/20",
                curated_bucket=CURATED,
                data_kms_key_name=f"{KEY}/data",
                workloads=workloads,  # type: ignore[arg-type]
            ),
        )
        if dr_region:
            sources = {"curated": CURATED}
            if segments.artifacts_bucket_name is not None:
                sources["artifacts"] = segments.artifacts_bucket_name  # type: ignore[assignment]
            for zone, source in sources.items():
                ReplicatedBucket(
                    f"app-{zone}-dr",
                    ReplicatedBucketArgs(
                        project=PROJECT,
                        source_bucket=source,
                        location=dr_region,
                        kms_key_name=DR_KEY,
                    ),
                )

    return run_component(program)


@pytest.fixture(scope="module")
def everything() -> MockRun:
    return build(ALL, DR_REGION)


def member_of(run: MockRun, prefix: str) -> str:
    (account,) = [
        a
        for a in run.of_type("gcp:serviceaccount/account:Account")
        if a.inputs["accountId"].startswith(prefix)
    ]
    return str(account.outputs["member"])


def grants_of(run: MockRun, member: str) -> set[tuple[str, str]]:
    """(role, what) pairs granted to ``member``: the bucket, or the resource type."""
    out = set()
    for grant in iam_bindings(run):
        if grant.inputs.get("member") == member:
            where = grant.inputs.get("bucket") or grant.type.split(":")[-1]
            out.add((grant.inputs["role"], str(where)))
    return out


def artifacts_bucket(run: MockRun) -> str:
    (bucket,) = [
        b for b in run.of_type(BUCKET) if b.inputs["labels"].get("data-zone") == "artifacts"
    ]
    return str(bucket.outputs["name"])


@pytest.mark.parametrize(
    "workloads",
    [("inference",), ("inference", "training"), ("inference", "data-processing"), ALL],
)
def test_one_identity_per_added_workload(workloads: tuple[str, ...]) -> None:
    run = build(workloads)
    accounts = {a.inputs["accountId"] for a in run.of_type("gcp:serviceaccount/account:Account")}
    assert len(accounts) == len(workloads)
    assert any(a.startswith("training-") for a in accounts) == ("training" in workloads)
    assert any(a.startswith("dataproc-") for a in accounts) == ("data-processing" in workloads)
    zones = {b.inputs["labels"].get("data-zone") for b in run.of_type(BUCKET)}
    assert zones == {
        z for w, z in (("training", "artifacts"), ("data-processing", "raw")) if w in workloads
    }
    # inference alone: the component adds nothing at all
    if workloads == ("inference",):
        assert [r.type for r in run.custom_resources if "segments" in r.name] == []
        assert len(run.of_type("gcp:compute/subnetwork:Subnetwork")) == 1


def test_training_role_runs_jobs_and_cannot_predict(everything: MockRun) -> None:
    role = everything.one("gcp:projects/iAMCustomRole:IAMCustomRole", "app-segments-training-role")
    permissions = set(role.inputs["permissions"])
    assert permissions == set(TRAINING_PERMISSIONS)
    assert {"aiplatform.customJobs.create", "aiplatform.tuningJobs.create"} <= permissions
    assert not [p for p in permissions if "predict" in p or "generateContent" in p]


def test_inference_cannot_write_model_artifacts(everything: MockRun) -> None:
    inference = member_of(everything, "app-workload")
    artifacts = artifacts_bucket(everything)
    assert not [g for g in grants_of(everything, inference) if g[1] == artifacts]
    assert "write-artifacts" not in capabilities_of(everything)[inference]
    assert "predict" in capabilities_of(everything)[inference]


def test_training_cannot_invoke_the_model(everything: MockRun) -> None:
    training = member_of(everything, "training-")
    held = grants_of(everything, training)
    assert not [g for g in held if g[1] == ENDPOINT_MEMBER.split(":")[-1]]
    assert ("roles/storage.objectViewer", CURATED) in held
    assert ("roles/storage.objectCreator", artifacts_bucket(everything)) in held
    assert "predict" not in capabilities_of(everything)[training]
    assert {"train", "write-artifacts"} <= capabilities_of(everything)[training]
    # actAs only on itself
    (act_as,) = [
        g
        for g in everything.of_type("gcp:serviceaccount/iAMMember:IAMMember")
        if g.inputs["member"] == training
    ]
    assert act_as.inputs["serviceAccountId"].endswith(training.removeprefix("serviceAccount:"))


def test_data_processing_reads_raw_writes_curated_only(everything: MockRun) -> None:
    dataproc = member_of(everything, "dataproc-")
    held = grants_of(everything, dataproc)
    raw = [b for b in everything.of_type(BUCKET) if b.inputs["labels"].get("data-zone") == "raw"]
    assert held == {
        ("roles/storage.objectViewer", str(raw[0].outputs["name"])),
        ("roles/storage.objectCreator", CURATED),
        ("roles/logging.logWriter", "IAMMember"),
        ("roles/monitoring.metricWriter", "IAMMember"),
    }
    assert capabilities_of(everything)[dataproc] == {"read-raw"}


def capabilities_of(run: MockRun) -> dict[str, set[str]]:
    """What each member may do, as GCP-IAM-009 reads the registered grants."""
    resources = [
        Resource(type=r.type, name=r.name, urn=r.urn, props=r.inputs, protect=r.protect)
        for r in run.custom_resources
    ]
    return capabilities(resources)


def test_artifacts_versioned_and_protected(everything: MockRun) -> None:
    (bucket,) = [
        b for b in everything.of_type(BUCKET) if b.inputs["labels"].get("data-zone") == "artifacts"
    ]
    assert bucket.inputs["versioning"] == {"enabled": True}
    assert bucket.protect is True
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"


def test_subnets_do_not_overlap_and_keep_private_access(everything: MockRun) -> None:
    subnets = [
        s for s in everything.of_type("gcp:compute/subnetwork:Subnetwork") if "segments" in s.name
    ]
    ranges = [ipaddress.ip_network(s.inputs["ipCidrRange"]) for s in subnets]
    ranges.append(ipaddress.ip_network("10.10.0.0/20"))
    assert sorted(str(r) for r in ranges[:-1]) == sorted(SEGMENT_CIDRS.values())
    for index, one in enumerate(ranges):
        assert not [o for o in ranges[index + 1 :] if one.overlaps(o)]
    assert all(s.inputs["privateIpGoogleAccess"] is True for s in subnets)
    assert all(s.inputs["logConfig"]["flowSampling"] == 1.0 for s in subnets)


def test_firewall_denies_every_pair_of_segments(everything: MockRun) -> None:
    rules = everything.of_type(FIREWALL)
    emails = {
        m.removeprefix("serviceAccount:")
        for m in (member_of(everything, p) for p in ("app-workload", "training-", "dataproc-"))
    }
    ingress = {
        (r.inputs["targetServiceAccounts"][0], s)
        for r in rules
        if r.inputs["direction"] == "INGRESS"
        for s in r.inputs["sourceServiceAccounts"]
    }
    assert ingress == {(a, b) for a in emails for b in emails if a != b}
    for rule in rules:
        assert rule.inputs["priority"] < 1000
        assert rule.inputs["denies"] == [{"protocol": "all"}]
        assert "allows" not in rule.inputs
    egress = [r for r in rules if r.inputs["direction"] == "EGRESS"]
    assert len(egress) == 3
    assert all(len(r.inputs["destinationRanges"]) == 2 for r in egress)


def test_replicas_in_the_recovery_region_with_its_key(everything: MockRun) -> None:
    replicas = [
        b for b in everything.of_type(BUCKET) if b.inputs["labels"].get("data-zone") == "replica"
    ]
    assert len(replicas) == 2
    for bucket in replicas:
        assert bucket.inputs["location"] == DR_REGION != REGION
        key = bucket.inputs["encryption"]["defaultKmsKeyName"]
        assert f"/locations/{DR_REGION}/" in key and f"/locations/{REGION}/" not in key
        assert bucket.inputs["versioning"] == {"enabled": True}
        assert bucket.inputs["publicAccessPrevention"] == "enforced"
    jobs = everything.of_type("gcp:storage/transferJob:TransferJob")
    sinks = {j.inputs["replicationSpec"]["gcsDataSink"]["bucketName"] for j in jobs}
    assert sinks == {str(b.outputs["name"]) for b in replicas}
    sources = {j.inputs["replicationSpec"]["gcsDataSource"]["bucketName"] for j in jobs}
    assert sources == {CURATED, artifacts_bucket(everything)}


def test_transfer_agent_granted_only_on_the_two_buckets(everything: MockRun) -> None:
    agent = "serviceAccount:project-123456789012@storage-transfer-service.iam.gserviceaccount.com"
    held = grants_of(everything, agent)
    replicas = {
        str(b.outputs["name"])
        for b in everything.of_type(BUCKET)
        if b.inputs["labels"].get("data-zone") == "replica"
    }
    assert held == {(SOURCE_ROLE, CURATED), (SOURCE_ROLE, artifacts_bucket(everything))} | {
        (SINK_ROLE, r) for r in replicas
    }


def test_no_replica_without_recovery_region() -> None:
    run = build(ALL)
    assert not run.of_type("gcp:storage/transferJob:TransferJob")
    assert not [b for b in run.of_type(BUCKET) if b.inputs["labels"].get("data-zone") == "replica"]


def test_policies_pass_on_the_components(everything: MockRun) -> None:
    requirements = reqs(data_sensitivity="restricted", workloads=list(ALL), dr_region=DR_REGION)
    resources = everything.resources
    assert flagged("GCP-IAM-009", resources, requirements) == set()
    assert flagged("GCP-NET-015", resources, requirements) == set()
    assert flagged("GCP-STORAGE-010", resources, requirements) == set()


# ------------------------------------------------- policies: one fixture per way to fail
RESTRICTED_ALL = {"data_sensitivity": "restricted", "workloads": list(ALL), "dr_region": DR_REGION}


def test_iam_009_flags_an_identity_doing_two_jobs(everything: MockRun) -> None:
    requirements = reqs(**RESTRICTED_ALL)
    training = member_of(everything, "training-")
    inference = member_of(everything, "app-workload")
    invoker = everything.one(
        "gcp:projects/iAMCustomRole:IAMCustomRole", "app-workload-invoker-role"
    )
    predicts = derived(
        everything, "app-workload-invoker", "training-predicts", {"member": training}
    )
    writes = derived(
        everything,
        "app-segments-artifacts-objectcreator-1",
        "inference-writes",
        {"member": inference},
    )
    assert invoker.inputs["permissions"] == ["aiplatform.endpoints.predict"]
    assert flagged("GCP-IAM-009", [*everything.resources, predicts], requirements) == {"(stack)"}
    assert flagged("GCP-IAM-009", [*everything.resources, writes], requirements) == {"(stack)"}
    # a role granting prediction added to the training role itself
    widened = patched(
        everything,
        {
            "app-segments-training-role": {
                "permissions": [*TRAINING_PERMISSIONS, "aiplatform.endpoints.predict"]
            }
        },
    )
    assert flagged("GCP-IAM-009", widened.resources, requirements) == {"(stack)"}
    # the predefined aiplatform.user (predict and training) on the data-processing identity
    dataproc_user = derived(
        everything,
        "app-segments-dataproc-logwriter",
        "dataproc-aiplatform-user",
        {"role": "roles/aiplatform.user"},
    )
    assert flagged("GCP-IAM-009", [*everything.resources, dataproc_user], requirements) == {
        "(stack)"
    }


def test_iam_009_needs_an_identity_per_workload(everything: MockRun) -> None:
    requirements = reqs(**RESTRICTED_ALL)
    without = [r for r in everything.resources if r.name != "app-segments-training-trainer"]
    assert "no identity of the training workload" in " ".join(
        messages("GCP-IAM-009", without, requirements)
    )
    assert unknown("GCP-IAM-009", everything.resources, reqs()) == set()  # not applicable
    not_ai = [r for r in everything.resources if r.name != "app-endpoint"]
    assert flagged("GCP-IAM-009", not_ai, requirements) == set()  # e.g. the state backend


def test_net_015_flags_missing_deny_and_crossing_allows(everything: MockRun) -> None:
    requirements = reqs(**RESTRICTED_ALL)
    assert flagged("GCP-NET-015", everything.resources, requirements) == set()
    for name in (
        "app-segments-training-deny-from-segments",
        "app-segments-dataproc-deny-to-segments",
    ):
        gone = [r for r in everything.resources if r.name != name]
        assert flagged("GCP-NET-015", gone, requirements) == {"(stack)"}, name
    jobs = {"app-segments-training-trainer", "app-segments-artifacts-objectcreator-1"}
    jobless = [r for r in everything.resources if r.name not in jobs]
    assert "2 workload identities for 3" in " ".join(messages("GCP-NET-015", jobless, requirements))
    late = patched(everything, {"app-segments-inference-deny-from-segments": {"priority": 1000}})
    assert flagged("GCP-NET-015", late.resources, requirements) == {"(stack)"}
    wide = patched(
        everything, {"app-segments-training-deny-to-segments": {"destinationRanges": ["0.0.0.0/0"]}}
    )
    assert flagged("GCP-NET-015", wide.resources, requirements) == {
        "app-segments-training-deny-to-segments"
    }
    crossing = derived(
        everything,
        "app-segments-training-deny-from-segments",
        "allow-training-from-all",
        {"denies": DROP, "allows": [{"protocol": "tcp", "ports": ["22"]}], "priority": 800},
    )
    assert flagged("GCP-NET-015", [*everything.resources, crossing], requirements) == {
        "allow-training-from-all"
    }
    to_segment = derived(
        everything,
        "app-segments-inference-deny-to-segments",
        "allow-to-training",
        {"denies": DROP, "allows": [{"protocol": "tcp", "ports": ["443"]}], "priority": 800},
    )
    assert flagged("GCP-NET-015", [*everything.resources, to_segment], requirements) == {
        "allow-to-training"
    }


def test_storage_010_artifacts_versioned_protected_and_zones_present(everything: MockRun) -> None:
    requirements = reqs(**RESTRICTED_ALL)
    assert flagged("GCP-STORAGE-010", everything.resources, requirements) == set()
    unversioned = patched(
        everything, {"app-segments-artifacts-bucket": {"versioning.enabled": False}}
    )
    assert flagged("GCP-STORAGE-010", unversioned.resources, requirements) == {
        "app-segments-artifacts-bucket"
    }
    unprotected = [
        dataclasses.replace(r, protect=False) if r.name == "app-segments-artifacts-bucket" else r
        for r in everything.resources
    ]
    assert flagged("GCP-STORAGE-010", unprotected, requirements) == {
        "app-segments-artifacts-bucket"
    }
    assert flagged("GCP-STORAGE-010", unprotected, reqs(workloads=list(ALL))) == set()
    no_raw = [r for r in everything.resources if r.name != "app-segments-raw-bucket"]
    assert flagged("GCP-STORAGE-010", no_raw, requirements) == {"(stack)"}


def test_rec_001_replica_region_and_key(everything: MockRun) -> None:
    # the curated bucket as VertexAI names it (its Pulumi name ends in -datasets-bucket)
    raw = everything.one(BUCKET, "app-segments-raw-bucket")
    curated = dataclasses.replace(
        raw,
        name="app-vertex-datasets-bucket",
        urn=raw.urn.replace("app-segments-raw-bucket", "app-vertex-datasets-bucket"),
        inputs={**raw.inputs, "labels": {}, "name": CURATED},
    )
    base = [*everything.resources, curated]
    requirements = reqs(**RESTRICTED_ALL)
    assert flagged("GCP-REC-001", base, requirements) == set()
    elsewhere = reqs(**{**RESTRICTED_ALL, "dr_region": "europe-west1"})
    assert flagged("GCP-REC-001", base, elsewhere) == {
        "app-curated-dr-replica-bucket",
        "app-artifacts-dr-replica-bucket",
    }
    key_here = [
        dataclasses.replace(
            r, inputs=patch(r.inputs, {"encryption.defaultKmsKeyName": f"{KEY}/data"})
        )
        if r.name == "app-curated-dr-replica-bucket"
        else r
        for r in base
    ]
    assert flagged("GCP-REC-001", key_here, requirements) == {"app-curated-dr-replica-bucket"}
    no_job = [r for r in base if r.name != "app-artifacts-dr-replication"]
    assert flagged("GCP-REC-001", no_job, requirements) == {"app-segments-artifacts-bucket"}
    unlogged = [
        dataclasses.replace(
            r, inputs=patch(r.inputs, {"loggingConfig.logActionStates": ["SUCCEEDED"]})
        )
        if r.name == "app-curated-dr-replication"
        else r
        for r in base
    ]
    assert flagged("GCP-REC-001", unlogged, requirements) == {"app-curated-dr-replication"}
    disabled = [
        dataclasses.replace(r, inputs={**r.inputs, "status": "DISABLED"})
        if r.name == "app-curated-dr-replication"
        else r
        for r in base
    ]
    assert flagged("GCP-REC-001", disabled, requirements) == {"app-vertex-datasets-bucket"}


def test_rec_001_without_recovery_region_is_advisory_for_restricted(everything: MockRun) -> None:
    restricted = reqs(data_sensitivity="restricted")
    findings = [
        f for f in report(everything.resources, restricted).violations if f.policy == "GCP-REC-001"
    ]
    assert [f.level for f in findings] == ["advisory"]
    assert flagged("GCP-REC-001", everything.resources, reqs()) == set()
    assert reqs(data_sensitivity="restricted", dr_region=DR_REGION)  # mandatory then:
    policy = next(p for p in registry("gcp") if p.id == "GCP-REC-001")
    assert policy.level(reqs(data_sensitivity="restricted", dr_region=DR_REGION)) == "mandatory"
    assert policy.level(restricted) == "advisory"
