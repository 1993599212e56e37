"""Segmentation and recovery (issue 17): identities, network segments and data zones per
workload type (IAM-05, NET-07, GOV-07), replicas in the recovery region (REC-01).

The components mark what they create for a workload type beyond inference with a
``workload`` tag (roles, subnets, security groups, network ACLs), the data zones with a
``data-zone`` tag (``raw``, ``model-artifacts``) and replicas with ``replica-of``; the
inference workload and the curated data bucket are the ones a 0.2.0 project already had.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import NotApplicable, Requirements, Resource, stack_policy
from ._util import actions, as_list, bucket_refers_to, document, of_type, refers_to, statements
from ._util import training_actions as _training_actions
from .iam import ROLE, deploys_workload, policies_of
from .kms import KEY, _key_identity
from .network import EGRESS_RULE, INGRESS_RULE, NETWORK_ACL, SECURITY_GROUP, SUBNET
from .s3 import (
    BUCKETS,
    LOGGING,
    PUBLIC_ACCESS_BLOCK,
    REPLICATION,
    VERSIONING,
    log_bucket_references,
)

#: S3 Replication Time Control's only threshold, in minutes (aws.recovery.RTC_MINUTES).
RTC_MINUTES = 15
_INVOKE = (
    "bedrock:invokemodel",
    "bedrock:invokemodelwithresponsestream",
    "sagemaker:invokeendpoint",
    "sagemaker:invokeendpointwithresponsestream",
)


def _tag(resource: Resource, key: str) -> str:
    value = resource.get("tags", key)
    return value if isinstance(value, str) else ""


def _zone(resources: Sequence[Resource], zone: str) -> list[Resource]:
    return [b for b in of_type(resources, *BUCKETS) if _tag(b, "data-zone") == zone]


def _workload_stack(resources: Sequence[Resource]) -> None:
    """Segments, data zones and replicas belong to the stack that runs the workload."""
    if not deploys_workload(resources):
        raise NotApplicable("the stack deploys no workload (a state backend, say)")


def _extra_workloads(requirements: Requirements) -> list[str]:
    extra: list[str] = [w for w in requirements.workloads if w != "inference"]
    if not extra:
        raise NotApplicable("only the inference workload is chosen (workloads: [inference])")
    return extra


def _grants_on(doc: Mapping[str, Any] | None, action: str, buckets: Sequence[Resource]) -> bool:
    """Whether an Allow of ``doc`` grants ``action`` on objects of one of ``buckets``."""
    for st in statements(doc, "Allow"):
        granted = {a.lower() for a in actions(st)}
        if action not in granted and "s3:*" not in granted and "*" not in granted:
            continue
        for ref in as_list(st.get("Resource")):
            if str(ref) == "*" or any(bucket_refers_to(str(ref), b) for b in buckets):
                return True
    return False


def _jobs(role: Resource, resources: Sequence[Resource], requirements: Requirements) -> set[str]:
    """The workload jobs a role's inline policies let it do."""
    artifacts = _zone(resources, "model-artifacts")
    raw = _zone(resources, "raw")
    training = {a.lower() for a in _training_actions(requirements.ai_service)}
    jobs: set[str] = set()
    for policy in policies_of(role, resources):
        doc = document(policy, "policy")
        granted = {a.lower() for st in statements(doc, "Allow") for a in actions(st)}
        if granted & set(_INVOKE):
            jobs.add("invoke models (inference)")
        if granted & training or _grants_on(doc, "s3:putobject", artifacts):
            jobs.add("train and write model artifacts (training)")
        if _grants_on(doc, "s3:getobject", raw):
            jobs.add("read raw data (data processing)")
    return jobs


@stack_policy(
    id="AWS-IAM-008",
    title="One identity per workload type, disjoint in what they may do",
    severity="high",
    controls=["IAM-05"],
    remediation="Give training and data processing their own roles (TrainingIdentity, "
    "DataProcessingIdentity); grant model invocation to the inference role only, model "
    "artifact writes and training jobs to the training identity only, raw data reads to the "
    "data-processing identity only.",
)
def disjoint_identities(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Each role may do at most one workload type's job: invoke models (inference), run
    training jobs or write model artifacts (training), read raw data (data processing);
    and every chosen workload type has its own identity (a role with its ``workload``
    tag) that does its job."""
    _workload_stack(resources)
    extra = _extra_workloads(requirements)
    found: set[tuple[str, str]] = set()
    for role in of_type(resources, ROLE):
        jobs = _jobs(role, resources, requirements)
        found |= {(_tag(role, "workload"), job) for job in jobs}
        if len(jobs) > 1:
            yield role, f"{role.name} may {' and '.join(sorted(jobs))}: one identity per job"
    expected = {
        "training": "train and write model artifacts (training)",
        "data-processing": "read raw data (data processing)",
    }
    for workload in extra:
        if (workload, expected[workload]) not in found:
            yield (
                None,
                (
                    f"no identity of its own (a role tagged workload={workload}) does the "
                    f"{workload} job"
                ),
            )


def _networks(value: Any) -> list[ipaddress.IPv4Network]:
    out = []
    for cidr in as_list(value):
        try:
            net = ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            continue
        if isinstance(net, ipaddress.IPv4Network):
            out.append(net)
    return out


def _segment_ranges(resources: Sequence[Resource]) -> dict[str, list[ipaddress.IPv4Network]]:
    """Subnet ranges by workload type (``inference``: private subnets without the tag)."""
    out: dict[str, list[ipaddress.IPv4Network]] = {}
    for subnet in of_type(resources, SUBNET):
        if _tag(subnet, "tier") != "private":
            continue
        workload = _tag(subnet, "workload") or "inference"
        out.setdefault(workload, []).extend(_networks(subnet.get("cidrBlock")))
    return out


def _acl_findings(
    acl: Resource, workload: str, ranges: Mapping[str, list[ipaddress.IPv4Network]]
) -> Iterator[str]:
    for direction in ("ingress", "egress"):
        entries = sorted(
            (e for e in acl.items(direction) if isinstance(e, Mapping)),
            key=lambda e: float(e.get("ruleNo") or 0),
        )
        denied: list[ipaddress.IPv4Network] = []
        for entry in entries:
            nets = _networks(entry.get("cidrBlock"))
            if entry.get("action") == "deny":
                denied += nets
                continue
            protocol = str(entry.get("protocol") or "-1").lower()
            low, high = entry.get("fromPort"), entry.get("toPort")
            for other, other_ranges in ranges.items():
                if other == workload:
                    continue
                for net in nets:
                    for target in other_ranges:
                        if not net.overlaps(target) or any(target.subnet_of(d) for d in denied):
                            continue
                        # Flow to-endpoints: HTTPS to the inference subnets and its replies.
                        to_endpoints = (
                            other == "inference"
                            and protocol in ("tcp", "6")
                            and (
                                (direction == "egress" and (low, high) == (443, 443))
                                or (direction == "ingress" and low is not None and low >= 1024)
                            )
                        )
                        if not to_endpoints:
                            yield (
                                f"{acl.name} {direction} rule {entry.get('ruleNo')} allows "
                                f"{net} into the {other} segment ({target}): not a listed flow"
                            )


def _related_groups(rule: Resource, groups: Sequence[Resource]) -> list[Resource]:
    """The security groups a rule names: by reference where the view holds ids, else by
    the dependencies the engine records (preview and the offline run)."""
    refs = [rule.get("securityGroupId"), rule.get("referencedSecurityGroupId")]
    return [
        g
        for g in groups
        if g.urn in rule.dependencies or any(refers_to(ref, g) for ref in refs if ref)
    ]


def _admits_https(group: Resource, rules: Sequence[Resource]) -> bool:
    """Whether an ingress rule admits HTTPS into ``group`` (the endpoints' group)."""
    return any(
        r.type == INGRESS_RULE
        and r.get("fromPort") == 443
        and _related_groups(r, [group])
        and not r.get("referencedSecurityGroupId")
        for r in rules
    )


def _sg_findings(
    rule: Resource, groups: Sequence[Resource], rules: Sequence[Resource], extra: Sequence[str]
) -> Iterator[str]:
    related = _related_groups(rule, groups)
    own = [g for g in related if _tag(g, "workload") in extra]
    if not own:
        return
    if rule.get("prefixListId"):
        return  # Flow to-s3: the gateway endpoint's prefix list.
    cidr = rule.get("cidrIpv4") or rule.get("cidrIpv6")
    if cidr or not rule.get("referencedSecurityGroupId"):
        yield f"{rule.name} opens {own[0].name} to {cidr}: segments name their peers by group"
        return
    if len({_tag(g, "workload") for g in own}) > 1:
        yield f"{rule.name} joins two workloads' groups ({', '.join(g.name for g in own)})"
        return
    others = [g for g in related if g not in own]
    if not others:
        if _tag(own[0], "workload") != "training":
            yield f"{rule.name} opens {own[0].name} to itself: only training jobs need that"
        return
    for peer in others:
        if not _admits_https(peer, rules):
            yield f"{rule.name} lets {own[0].name} reach {peer.name}, not the endpoints' group"


@stack_policy(
    id="AWS-EC2-013",
    title="A network segment per workload type, no cross-segment flows beyond the listed ones",
    severity="high",
    controls=["NET-07"],
    remediation="Create a WorkloadSegment per workload type beyond inference; its network ACL "
    "denies the rest of the VPC after the listed flows (HTTPS to the endpoint subnets), its "
    "security group reaches only the endpoints' group and S3's prefix list (training: itself).",
)
def segments(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Every chosen workload type beyond inference has its own private subnets, network
    ACL and security group; the network ACL allows nothing into another segment but
    HTTPS to the endpoint (inference) subnets and its replies, and the security group's
    rules name the endpoints' group, S3's prefix list or (training) itself, nothing else."""
    _workload_stack(resources)
    extra = _extra_workloads(requirements)
    ranges = _segment_ranges(resources)
    acls = {
        w: [a for a in of_type(resources, NETWORK_ACL) if _tag(a, "workload") == w] for w in extra
    }
    groups = of_type(resources, SECURITY_GROUP)
    for workload in extra:
        if not ranges.get(workload):
            yield None, f"the {workload} workload has no subnets of its own (NET-07)"
        if not acls[workload]:
            yield None, f"the {workload} segment has no network ACL of its own"
        if not any(_tag(g, "workload") == workload for g in groups):
            yield None, f"the {workload} segment has no security group of its own"
        for acl in acls[workload]:
            for message in _acl_findings(acl, workload, ranges):
                yield acl, message
    rules = of_type(resources, INGRESS_RULE, EGRESS_RULE)
    for rule in rules:
        for message in _sg_findings(rule, groups, rules, extra):
            yield rule, message


@stack_policy(
    id="AWS-S3-017",
    title="Raw data and model artifacts in their own stores; artifacts versioned and kept",
    severity="medium",
    controls=["GOV-07"],
    remediation="With data-processing, create the raw data bucket; with training, the model "
    "artifact bucket (SecureBucket, data-zone tag), versioned, with "
    "protect=profile.deletion_protection.",
)
def data_zones(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Data processing has a raw data store, training a model artifact store, each
    separate from the curated data; the artifact store is versioned and, where the
    profile asks for deletion protection, protected from deletion."""
    _workload_stack(resources)
    extra = _extra_workloads(requirements)
    if "data-processing" in extra and not _zone(resources, "raw"):
        yield None, "data processing is chosen but no bucket holds the raw data (data-zone raw)"
    if "training" in extra:
        artifacts = _zone(resources, "model-artifacts")
        if not artifacts:
            yield None, "training is chosen but no bucket holds the model artifacts"
        for bucket in artifacts:
            versioned = [
                v
                for v in of_type(resources, *VERSIONING)
                if bucket_refers_to(v.get("bucket"), bucket)
                and v.get("versioningConfiguration", "status") == "Enabled"
            ]
            if not versioned:
                yield bucket, f"{bucket.name} keeps no earlier versions of model artifacts"
            if requirements.setting("deletion_protection") and not bucket.protect:
                yield bucket, f"{bucket.name} is not protected from deletion"


def _region(resource: Resource) -> str:
    value = resource.get("region") or resource.provider_props.get("region")
    return value if isinstance(value, str) else ""


def _no_dr_region(requirements: Requirements) -> str | None:
    if requirements.dr_region:
        return None
    return "no recovery region is chosen (dr_region empty): the finding is advisory"


@stack_policy(
    id="AWS-S3-018",
    title="Curated data and model artifacts replicate to the recovery region",
    severity="high",
    controls=["REC-01"],
    remediation="Set dr_region (`pulumi config set <project>:dr_region <region>`): the "
    "program then replicates the curated data and model artifacts (Recovery) to hardened "
    "buckets there, encrypted with a key in that region.",
    advisory_when=_no_dr_region,
)
def replicas(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """With a recovery region, the curated data bucket and the model artifact bucket each
    replicate (SSE-KMS objects included) to a bucket in that region with the same
    hardening (public access blocked, versioning, access logging), encrypted with a KMS
    key that lives there; restricted data also with Replication Time Control (15
    minutes). Restricted data without a recovery region is reported (advisory)."""
    _workload_stack(resources)
    dr = requirements.dr_region
    if not dr:
        if requirements.data_sensitivity == "restricted":
            yield (
                None,
                (
                    "restricted data has no replica in a recovery region: set dr_region "
                    "(docs/disaster-recovery.md)"
                ),
            )
            return
        raise NotApplicable("no recovery region is chosen (dr_region empty)")
    audit, access = log_bucket_references(resources)
    logs = [*audit, *access]
    buckets = of_type(resources, *BUCKETS)
    sources = [
        b
        for b in buckets
        if not any(bucket_refers_to(ref, b) for ref in logs)
        and not _tag(b, "replica-of")
        and _tag(b, "data-zone") != "raw"
        and _region(b) != dr
    ]
    configs = of_type(resources, REPLICATION)
    keys = of_type(resources, KEY)
    for source in sources:
        config = next((c for c in configs if bucket_refers_to(c.get("bucket"), source)), None)
        if config is None:
            yield source, f"{source.name} does not replicate to {dr}"
            continue
        rules = [r for r in config.items("rules") if isinstance(r, Mapping)]
        if not any(r.get("status") == "Enabled" for r in rules):
            yield config, f"{config.name} has no enabled rule"
        for rule in rules:
            for message in _rule_findings(config, rule, buckets, keys, dr, requirements, resources):
                yield config, message


def _rule_findings(
    config: Resource,
    rule: Mapping[str, Any],
    buckets: Sequence[Resource],
    keys: Sequence[Resource],
    dr: str,
    requirements: Requirements,
    resources: Sequence[Resource],
) -> Iterator[str]:
    destination = rule.get("destination") or {}
    target = next((b for b in buckets if bucket_refers_to(destination.get("bucket"), b)), None)
    if target is None or _region(target) != dr:
        yield f"{config.name} replicates to {destination.get('bucket')}, not a bucket in {dr}"
    sse = (rule.get("sourceSelectionCriteria") or {}).get("sseKmsEncryptedObjects") or {}
    if sse.get("status") != "Enabled":
        yield f"{config.name} leaves SSE-KMS objects unreplicated (sseKmsEncryptedObjects)"
    key_ref = (destination.get("encryptionConfiguration") or {}).get("replicaKmsKeyId")
    # The key by its ARN or id where the view holds them (``pulumi up``), else by the
    # dependency the engine records on it (``pulumi preview`` and the offline run).
    named = [
        k for k in keys if isinstance(key_ref, str) and any(i in key_ref for i in _key_identity(k))
    ]
    matches = named or [k for k in keys if k.urn in config.dependencies]
    if not matches or any(_region(k) != dr for k in matches):
        yield f"{config.name} encrypts replicas with {key_ref}, not a customer-managed key in {dr}"
    if requirements.data_sensitivity == "restricted":
        rtc = destination.get("replicationTime") or {}
        metrics = destination.get("metrics") or {}
        minutes = (rtc.get("time") or {}).get("minutes")
        if rtc.get("status") != "Enabled" or minutes is None or float(minutes) != RTC_MINUTES:
            yield f"{config.name} replicates restricted data without Replication Time Control"
        threshold = (metrics.get("eventThreshold") or {}).get("minutes")
        if (
            metrics.get("status") != "Enabled"
            or threshold is None
            or float(threshold) != RTC_MINUTES
        ):
            yield (
                f"{config.name} has no replication metrics at {RTC_MINUTES} minutes "
                "(Replication Time Control needs them)"
            )
    if target is not None:
        blocks = [
            p
            for p in of_type(resources, PUBLIC_ACCESS_BLOCK)
            if bucket_refers_to(p.get("bucket"), target)
            and all(
                p.get(k) is True
                for k in (
                    "blockPublicAcls",
                    "blockPublicPolicy",
                    "ignorePublicAcls",
                    "restrictPublicBuckets",
                )
            )
        ]
        if not blocks:
            yield f"the replica {target.name} does not block public access"
        versioned = [
            v
            for v in of_type(resources, *VERSIONING)
            if bucket_refers_to(v.get("bucket"), target)
            and v.get("versioningConfiguration", "status") == "Enabled"
        ]
        if not versioned:
            yield f"the replica {target.name} is not versioned"
        if not [
            g for g in of_type(resources, *LOGGING) if bucket_refers_to(g.get("bucket"), target)
        ]:
            yield f"the replica {target.name} records no server access logs"
