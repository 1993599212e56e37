"""Recovery (REC-01): the curated data and model artifacts replicate to the recovery
region, into buckets encrypted with keys of that region.

The sources are VertexAI's datasets bucket (the curated zone, its Pulumi name ends in
``-datasets-bucket``) and the model artifacts bucket (label ``data-zone: artifacts``).
A replica is the sink of an enabled Storage Transfer replication job whose source is
such a bucket. The replicas' own hardening (uniform access, public access prevention,
CMEK only, versioning, soft delete, access logs) is checked on every bucket by
GCP-STORAGE-001..009; this policy checks where they are and where their keys are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from .._core import NotApplicable, Requirements, Resource, stack_policy
from ._util import BUCKET_TYPE, is_ai_workload, of_type, refers_to

TRANSFER_JOB = "gcp:storage/transferJob:TransferJob"
#: What each replication job logs (Cloud Logging): the objects it found and copied, and
#: its failures, so a replication gap (the RPO slipping) is seen and alerted on.
LOG_ACTIONS = frozenset({"FIND", "COPY"})
LOG_STATES = frozenset({"SUCCEEDED", "FAILED"})
_KEY_LOCATION = re.compile(r"/locations/([^/]+)/keyRings/")


def no_recovery_region(requirements: Requirements) -> str | None:
    """``advisory_when`` of GCP-REC-001: without a recovery region the finding is
    reported, never blocking (choosing one is a per-stack decision with a cost)."""
    if not requirements.dr_region:
        return "no recovery region chosen (dr_region empty)"
    return None


def sources(resources: Sequence[Resource]) -> list[Resource]:
    """The buckets that must replicate: the curated data and the model artifacts."""
    return [
        b
        for b in of_type(resources, BUCKET_TYPE)
        if b.name.endswith("-datasets-bucket") or b.get("labels", "data-zone") == "artifacts"
    ]


def _key_location(bucket: Resource) -> str | None:
    key = bucket.get("encryption", "defaultKmsKeyName")
    match = _KEY_LOCATION.search(key) if isinstance(key, str) else None
    return match.group(1).lower() if match else None


@stack_policy(
    id="GCP-REC-001",
    title="Curated data and model artifacts replicate to the recovery region under CMEK",
    severity="high",
    controls=["REC-01"],
    remediation="Choose a recovery region (pulumi config set <project>:dr_region <region>, "
    "or aiscaffold update --data dr_region=<region>): the program then replicates each "
    "source bucket with ReplicatedBucket to a bucket in that region encrypted with a key "
    "of a key ring in that region.",
    advisory_when=no_recovery_region,
)
def replicated(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """With a recovery region, each curated or artifacts bucket is the source of an
    enabled replication job into a versioned bucket located in that region, whose
    default key's key ring is in that region too, and each job logs the objects it
    finds and copies and its failures. Without one, restricted data is
    reported (advisory)."""
    if not is_ai_workload(resources):
        raise NotApplicable("not an AI workload stack")
    dr_region = requirements.dr_region.lower()
    if not dr_region:
        if requirements.data_sensitivity == "restricted":
            yield None, "restricted data has no replica: no recovery region (dr_region) chosen"
            return
        raise NotApplicable("no recovery region chosen and the data is not restricted")
    buckets = of_type(resources, BUCKET_TYPE)
    jobs = [j for j in of_type(resources, TRANSFER_JOB) if j.get("status") != "DISABLED"]
    primary = sources(resources)
    if not primary:
        yield None, "no curated data or model artifacts bucket to replicate"
    for source in primary:
        if str(source.get("location", default="")).lower() == dr_region:
            yield source, f"{source.name} is in the recovery region itself"
        sinks = {
            bucket.urn: bucket
            for job in jobs
            if refers_to(job.get("replicationSpec", "gcsDataSource", "bucketName"), source)
            for bucket in buckets
            if refers_to(job.get("replicationSpec", "gcsDataSink", "bucketName"), bucket)
        }
        if not sinks:
            yield source, f"{source.name} is not replicated (no enabled replication job)"
        for sink in sinks.values():
            where = str(sink.get("location", default="")).lower()
            if where != dr_region:
                yield (
                    sink,
                    f"{sink.name} replicates {source.name} to {where or '?'}, not {dr_region}",
                )
            key_at = _key_location(sink)
            if key_at != dr_region:
                yield sink, f"{sink.name} is not encrypted with a key in {dr_region} ({key_at})"
            if sink.get("versioning", "enabled") is not True and not sink.get(
                "retentionPolicy", "retentionPeriod"
            ):
                yield sink, f"{sink.name} keeps no overwritten objects (versioning off)"
    for job in jobs:
        actions = {str(a) for a in job.items("loggingConfig", "logActions")}
        states = {str(a) for a in job.items("loggingConfig", "logActionStates")}
        if not (actions >= LOG_ACTIONS and states >= LOG_STATES):
            yield job, f"{job.name} does not log what it finds and copies, and its failures"
