"""Workload segmentation: disjoint identities (IAM-05), separate segments (NET-07), data
zones (GOV-07).

The workload types come from the project's answers (``requirements.workloads``); with
inference alone there is nothing to separate and the policies are not applicable.
Buckets of a zone carry the label ``data-zone`` (``raw``, ``artifacts``), as
``WorkloadSegments`` sets it; the curated zone is the VertexAI datasets bucket.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence

from .._core import NotApplicable, Requirements, Resource, stack_policy
from ._util import (
    BASIC_ROLES,
    IAM_TYPES,
    PROJECT_IAM_TYPES,
    grants,
    is_ai_workload,
    of_type,
    refers_to,
)

ACCOUNT = "gcp:serviceaccount/account:Account"
FIREWALL = "gcp:compute/firewall:Firewall"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
BUCKET = "gcp:storage/bucket:Bucket"
CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
BUCKET_IAM = (
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:storage/bucketIAMBinding:BucketIAMBinding",
    "gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
)

#: Permissions that call a model.
PREDICT_PERMISSIONS = frozenset(
    {
        "aiplatform.endpoints.predict",
        "aiplatform.endpoints.generateContent",
        "aiplatform.endpoints.streamGenerateContent",
    }
)
#: Permissions that start training or tuning jobs.
TRAIN_PERMISSIONS = frozenset({"aiplatform.customJobs.create", "aiplatform.tuningJobs.create"})
#: Predefined roles holding both (https://cloud.google.com/vertex-ai/docs/general/access-control).
_AIPLATFORM_ROLES = frozenset({"roles/aiplatform.user", "roles/aiplatform.admin"})
_OBJECT_WRITE = frozenset(
    {
        "roles/storage.objectCreator",
        "roles/storage.objectUser",
        "roles/storage.objectAdmin",
        "roles/storage.admin",
        "roles/storage.legacyBucketWriter",
        "roles/storage.legacyBucketOwner",
        *BASIC_ROLES,
    }
)
_OBJECT_READ = frozenset(
    {
        "roles/storage.objectViewer",
        "roles/storage.objectUser",
        "roles/storage.objectAdmin",
        "roles/storage.admin",
        "roles/storage.legacyObjectReader",
        "roles/storage.legacyObjectOwner",
        *BASIC_ROLES,
    }
)
#: What only one workload type may do: inference calls models, training runs training
#: jobs and writes model artifacts, data processing reads raw data.
EXCLUSIVE: dict[str, frozenset[str]] = {
    "inference": frozenset({"predict"}),
    "training": frozenset({"train", "write-artifacts"}),
    "data-processing": frozenset({"read-raw"}),
}


def _segmented(resources: Sequence[Resource], requirements: Requirements) -> None:
    if not is_ai_workload(resources):
        raise NotApplicable("not an AI workload stack")
    if len(requirements.workloads) < 2:
        raise NotApplicable("inference is the only workload type: nothing to separate")


def _zone(resources: Sequence[Resource], zone: str) -> list[Resource]:
    return [b for b in of_type(resources, BUCKET) if b.get("labels", "data-zone") == zone]


def _role_permissions(resources: Sequence[Resource]) -> dict[str, set[str]]:
    """Permissions of each custom role of the stack, by role id."""
    return {
        str(role.get("roleId")): {str(p) for p in role.items("permissions")}
        for role in of_type(resources, CUSTOM_ROLE)
    }


def capabilities(resources: Sequence[Resource]) -> dict[str, set[str]]:
    """What each member may do of :data:`EXCLUSIVE`'s jobs, from the stack's grants."""
    roles = _role_permissions(resources)
    raw = _zone(resources, "raw")
    artifacts = _zone(resources, "artifacts")
    out: dict[str, set[str]] = {}
    for resource in resources:
        if resource.type not in IAM_TYPES:
            continue
        project_wide = resource.type in PROJECT_IAM_TYPES
        on_bucket = resource.type in BUCKET_IAM
        for role, member in grants(resource):
            found = out.setdefault(member, set())
            permissions = roles.get(role.rstrip("/").rsplit("/", 1)[-1], set())
            if role in _AIPLATFORM_ROLES or role in BASIC_ROLES:
                permissions = permissions | PREDICT_PERMISSIONS | TRAIN_PERMISSIONS
            if permissions & PREDICT_PERMISSIONS:
                found.add("predict")
            if permissions & TRAIN_PERMISSIONS:
                found.add("train")
            if not (project_wide or on_bucket):
                continue

            def covers(
                zone: list[Resource], grant: Resource = resource, wide: bool = project_wide
            ) -> bool:
                # the bucket a grant names is read only for the roles that matter here
                return wide or any(refers_to(grant.get("bucket"), b) for b in zone)

            if role in _OBJECT_WRITE and artifacts and covers(artifacts):
                found.add("write-artifacts")
            if role in _OBJECT_READ and raw and covers(raw):
                found.add("read-raw")
    return {m: c for m, c in out.items() if c}


@stack_policy(
    id="GCP-IAM-009",
    title="Each workload type acts as its own identity, disjoint from the others",
    severity="high",
    controls=["IAM-05"],
    remediation="Give training and data processing their own service accounts "
    "(WorkloadSegments): only training may run training jobs and write the model "
    "artifacts bucket, only data processing may read the raw data bucket, only inference "
    "may call models; remove any grant that gives one identity another's job.",
)
def disjoint_identities(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """No member can do the job of two workload types: calling models (inference),
    running training jobs or writing model artifacts (training), reading raw data (data
    processing); and each chosen type beyond inference has a member that does its job."""
    _segmented(resources, requirements)
    held = capabilities(resources)
    for member, caps in sorted(held.items()):
        jobs = sorted(w for w, exclusive in EXCLUSIVE.items() if caps & exclusive)
        if len(jobs) > 1:
            yield (
                None,
                f"{member} can do the jobs of {' and '.join(jobs)} ({', '.join(sorted(caps))})",
            )
    for workload in requirements.workloads:
        if workload == "inference":
            continue
        if not any(EXCLUSIVE[workload] <= caps for caps in held.values()):
            needed = " and ".join(sorted(EXCLUSIVE[workload]))
            yield None, f"no identity of the {workload} workload ({needed})"


def _email_account(email: object, accounts: Mapping[str, Resource]) -> str | None:
    if not isinstance(email, str) or "@" not in email:
        return None
    local = email.removeprefix("serviceAccount:").split("@", 1)[0]
    return local if local in accounts else None


def _networks(ranges: Sequence[object]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    out = []
    for cidr in ranges:
        try:
            out.append(ipaddress.ip_network(str(cidr), strict=False))
        except ValueError:
            continue
    return out


def _denies_all(rule: Resource) -> bool:
    return any(d.get("protocol") == "all" for d in rule.items("denies"))


@stack_policy(
    id="GCP-NET-015",
    title="Workload segments allow no traffic between each other",
    severity="high",
    controls=["NET-07"],
    remediation="Keep WorkloadSegments' deny rules (priority 900, by service account) "
    "between every pair of workload identities, and add no allow rule from one segment's "
    "identity or range to another's; data moves between segments through the buckets.",
)
def segments_separated(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Each workload identity (a service account of the stack granted a workload's job:
    calling models, training, reading raw data) is denied, ahead of every allow rule,
    ingress from every other workload identity and egress to every other segment's subnet; no allow rule
    lets one segment reach another (the listed flows go to Google API addresses only)."""
    _segmented(resources, requirements)
    # The workload identities: the stack's service accounts granted a workload's job.
    jobs = {
        m.removeprefix("serviceAccount:").split("@", 1)[0]
        for m, caps in capabilities(resources).items()
        if m.startswith("serviceAccount:") and caps & frozenset().union(*EXCLUSIVE.values())
    }
    accounts = {
        str(a.get("accountId")): a
        for a in of_type(resources, ACCOUNT)
        if str(a.get("accountId")) in jobs
    }
    if len(accounts) < len(requirements.workloads):
        yield (
            None,
            (
                f"{len(accounts)} workload identities for {len(requirements.workloads)} "
                "workload types: the segments cannot be told apart"
            ),
        )
        return
    subnets = [s for s in of_type(resources, SUBNET) if s.get("purpose") in (None, "PRIVATE")]
    ranges = _networks([s.get("ipCidrRange") for s in subnets])
    rules = of_type(resources, FIREWALL)

    def targets(rule: Resource) -> set[str]:
        found = {_email_account(e, accounts) for e in rule.items("targetServiceAccounts")}
        return {f for f in found if f is not None}

    for account in sorted(accounts):
        others = set(accounts) - {account}
        ingress = [
            r
            for r in rules
            if r.get("direction") == "INGRESS"
            and _denies_all(r)
            and account in targets(r)
            and float(r.get("priority", default=1000)) < 1000
        ]
        denied_from = {
            _email_account(e, accounts) for r in ingress for e in r.items("sourceServiceAccounts")
        }
        if not others <= denied_from:
            missing = ", ".join(sorted(others - {d for d in denied_from if d}))
            yield None, f"{account} is not denied ingress from the segments of {missing}"
        egress = [
            r
            for r in rules
            if r.get("direction") == "EGRESS"
            and _denies_all(r)
            and account in targets(r)
            and float(r.get("priority", default=1000)) < 1000
        ]
        denied_to = _networks([c for r in egress for c in r.items("destinationRanges")])
        covered = [n for n in ranges if any(n.subnet_of(d) for d in denied_to)]  # type: ignore[arg-type]
        if len(covered) < len(ranges) - 1:
            yield None, f"{account} is not denied egress to the other segments' subnets"
        for rule in egress:
            for net in _networks(rule.items("destinationRanges")):
                if not any(net.subnet_of(r) for r in ranges):  # type: ignore[arg-type]
                    # wider than the segments: it shadows the listed flows (Google APIs)
                    yield rule, f"{rule.name} denies {net}, beyond the workload segments"

    for rule in rules:
        if not rule.items("allows"):
            continue
        if rule.get("direction") == "INGRESS":
            sources = {_email_account(e, accounts) for e in rule.items("sourceServiceAccounts")}
            sources.discard(None)
            source_nets = _networks(rule.items("sourceRanges"))
            if sources or any(n.overlaps(r) for n in source_nets for r in ranges):
                yield rule, f"{rule.name} allows traffic from a workload segment"
        else:
            for net in _networks(rule.items("destinationRanges")):
                # A single address on tcp:443 is a Google API endpoint (a listed flow).
                if net.num_addresses == 1:
                    continue
                if any(net.overlaps(r) for r in ranges):
                    yield rule, f"{rule.name} allows traffic to a workload segment ({net})"


@stack_policy(
    id="GCP-STORAGE-010",
    title="Raw data and model artifacts have their own stores; artifacts are versioned",
    severity="medium",
    controls=["GOV-07"],
    remediation="Create the raw data bucket with data processing and the model artifacts "
    "bucket with training (WorkloadSegments), labelled data-zone raw / artifacts; keep "
    "versioning on the artifacts bucket and, for restricted data, protect it.",
)
def data_zones(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """With data processing, a raw data bucket; with training, a model artifacts bucket
    with Object Versioning (a replaced model stays restorable) and, for restricted data,
    Pulumi's ``protect`` so it is never deleted by a program change."""
    if not is_ai_workload(resources):
        raise NotApplicable("not an AI workload stack")
    wanted = {"data-processing": "raw", "training": "artifacts"}
    zones = [z for w, z in wanted.items() if w in requirements.workloads]
    if not zones:
        raise NotApplicable("no training or data processing: the curated store is the only one")
    for zone in zones:
        buckets = _zone(resources, zone)
        if not buckets:
            yield None, f"no {zone} bucket (label data-zone={zone})"
        if zone != "artifacts":
            continue
        for bucket in buckets:
            if bucket.get("versioning", "enabled") is not True:
                yield bucket, f"{bucket.name} (model artifacts) is not versioned"
            if requirements.data_sensitivity == "restricted" and not bucket.protect:
                yield bucket, f"{bucket.name} (model artifacts) is not protected from deletion"
