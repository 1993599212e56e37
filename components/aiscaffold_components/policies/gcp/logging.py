"""Audit logging: data access audit configs, log routing, retention, locks, CMEK."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import (
    AUDIT_CONFIG_TYPES,
    BUCKET_TYPE,
    DAY,
    LOG_BUCKET_TYPE,
    SINK_TYPE,
    audit_log_types,
    audited,
    days_text,
    every,
    is_ai_workload,
    of_type,
    refers_to,
    seconds,
    some,
)

LOG_TYPES = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")

#: Services whose data access the stack's resources produce, by resource type prefix.
_SERVICE_OF_PREFIX = {
    "gcp:vertex/": "aiplatform.googleapis.com",
    "gcp:storage/bucket:": "storage.googleapis.com",
    "gcp:secretmanager/": "secretmanager.googleapis.com",
    "gcp:kms/cryptoKey:": "cloudkms.googleapis.com",
}

#: Log names (as they appear in sink filters) of the logs each kind of resource writes.
_ROUTED_LOGS = {
    "VPC flow logs": (("gcp:compute/subnetwork:Subnetwork", "logConfig"), "vpc_flows"),
    "firewall logs": (("gcp:compute/firewall:Firewall", "logConfig"), "firewall"),
    "Model Armor screening logs": (("gcp:modelarmor/template:Template", None), "modelarmor"),
}


@resource_policy(
    id="GCP-LOG-001",
    title="Audit configs record admin reads and data reads and writes, exempting nobody",
    severity="high",
    types=AUDIT_CONFIG_TYPES,
    controls=["LOG-02"],
    remediation="List ADMIN_READ, DATA_READ and DATA_WRITE in audit_log_configs, without "
    "exempted_members (AuditLogging(data_access_logs=True) does).",
)
def audit_config_types(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Reads and writes of data, keys, secrets and the AI service are audited: each
    audit config enables ADMIN_READ, DATA_READ and DATA_WRITE and exempts no one."""
    missing = [t for t in LOG_TYPES if t not in audit_log_types(resource)]
    if missing:
        yield f"{resource.name} does not record {', '.join(missing)}"
    for config in resource.items("auditLogConfigs"):
        exempted = list(config.get("exemptedMembers") or [])
        if exempted:
            yield (
                f"{resource.name} exempts {', '.join(map(str, exempted))} from "
                f"{config.get('logType')} logs"
            )


@stack_policy(
    id="GCP-LOG-002",
    title="Data access audit logs cover the services the workload uses",
    severity="high",
    controls=["LOG-02", "LOG-05"],
    remediation="Add an audit config with DATA_READ and DATA_WRITE for each service the "
    "stack uses (AuditLogging covers aiplatform, storage, secretmanager and cloudkms).",
)
def audited_services(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """In a stack running an AI workload, every call to the model (Vertex AI) and every
    read or write of its buckets, secrets and keys is recorded in Data Access audit
    logs: an audit config with DATA_READ and DATA_WRITE for each of those services (or
    allServices)."""
    if not is_ai_workload(resources):
        raise NotApplicable(
            "no AI workload: the workload stack configures the project's audit logs"
        )
    used = {
        service
        for r in resources
        for prefix, service in _SERVICE_OF_PREFIX.items()
        if r.type.startswith(prefix)
    }
    for service in sorted(used):
        if not audited(resources, service):
            yield None, f"no audit config records data reads and writes of {service}"


def _routes(sink: Resource, log_name: str) -> bool:
    """Whether an enabled sink's filter lets ``log_name`` entries through."""
    if sink.get("disabled") is True:
        return False
    text = str(sink.get("filter", default=""))
    return not text.strip() or log_name in text


def _retained(sink: Resource, stores: Sequence[Resource]) -> bool:
    """Whether a sink writes to one of ``stores`` (log buckets and Cloud Storage buckets
    of this stack)."""
    destination = str(sink.get("destination", default=""))
    return destination.startswith(("logging.googleapis.com/", "storage.googleapis.com/")) and (
        some(stores, lambda store: refers_to(destination, store))
    )


def _routed(resources: Sequence[Resource], log_name: str) -> bool:
    """Whether an enabled sink routes ``log_name`` entries to a log store of this stack
    (one such sink is enough, whatever other sinks' values unknown during preview)."""
    stores = of_type(resources, LOG_BUCKET_TYPE, BUCKET_TYPE)
    return some(
        of_type(resources, SINK_TYPE),
        lambda sink: _routes(sink, log_name) and _retained(sink, stores),
    )


@stack_policy(
    id="GCP-LOG-003",
    title="Audit logs are routed to the stack's retained log store",
    severity="high",
    controls=["LOG-01"],
    remediation="Add a log sink routing cloudaudit.googleapis.com logs to the stack's log "
    "bucket (AuditLogging does).",
)
def audit_logs_routed(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Admin activity and data access audit logs of an AI workload reach a log bucket
    the stack keeps for the profile's retention (Google's _Default bucket keeps them 30
    days), through an enabled sink."""
    if not is_ai_workload(resources):
        raise NotApplicable("no AI workload: the workload stack routes the project's audit logs")
    if not _routed(resources, "cloudaudit.googleapis.com"):
        yield None, "no enabled sink routes audit logs to a log store of this stack"


def _produces(resources: Sequence[Resource], type_: str, key: str | None) -> bool:
    """Whether a resource of ``type_`` writes logs (has ``key`` set, when one is named)."""
    return some(of_type(resources, type_), lambda r: key is None or r.get(key) is not None)


@stack_policy(
    id="GCP-LOG-004",
    title="Network and guardrail logs are routed to the retained log store",
    severity="medium",
    controls=["NET-04", "LOG-05"],
    remediation="Include the flow log, firewall log and Model Armor log names in the "
    "filter of the sink to the log bucket (AuditLogging's filter does).",
)
def other_logs_routed(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """VPC flow logs, firewall logs and Model Armor screening logs the stack produces
    are kept as long as the audit logs: a sink to the stack's log store routes them."""
    produced = False
    for what, ((type_, key), log_name) in _ROUTED_LOGS.items():
        if not _produces(resources, type_, key):
            continue
        produced = True
        if not _routed(resources, log_name):
            yield None, f"no sink routes {what} to a log store of this stack"
    if not produced:
        raise NotApplicable("the stack produces no flow, firewall or Model Armor logs")


@resource_policy(
    id="GCP-LOG-005",
    title="Log buckets keep logs for the profile's retention",
    severity="high",
    types=[LOG_BUCKET_TYPE],
    controls=["LOG-04"],
    remediation="Set retention_days to the profile's log_retention_days "
    "(AuditLogging(retention_days=profile.log_retention_days)).",
)
def log_bucket_retention(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A Cloud Logging bucket keeps entries at least `log_retention_days` days (the
    default is 30)."""
    required = int(requirements.setting("log_retention_days"))
    days = float(resource.get("retentionDays", default=30))
    if days < required:
        yield f"{resource.name} keeps logs {days:g} days; the profile requires {required}"


@resource_policy(
    id="GCP-LOG-006",
    title="Log buckets are locked when the profile asks for immutable logs",
    severity="high",
    types=[LOG_BUCKET_TYPE],
    controls=["LOG-03"],
    remediation="Lock the log bucket (AuditLogging(locked=True)) in a second, explicit step "
    "once the stack is right: `pulumi config set lock_log_archive true && pulumi up` in a "
    "generated project. A locked bucket's retention can no longer change and the bucket "
    "cannot be deleted while it holds entries (GCP-DEPLOY-005).",
)
def log_bucket_locked(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """With immutable logs, the log bucket is locked: no one can shorten its retention or
    delete it before every entry has expired. Locking is irreversible, so a generated
    project locks in a second step: until then the lock is missing, and this says so."""
    if not requirements.setting("immutable_logs"):
        raise NotApplicable("the profile does not ask for immutable logs")
    if resource.get("locked") is not True:
        yield (
            f"{resource.name} is not locked: once the stack is right, lock it with "
            "`pulumi config set lock_log_archive true && pulumi up` (irreversible)"
        )


@resource_policy(
    id="GCP-LOG-007",
    title="Log buckets are encrypted with a customer-managed key",
    severity="high",
    types=[LOG_BUCKET_TYPE],
    controls=["KEY-01"],
    remediation="Set cmek_settings.kms_key_name to the logs key.",
)
def log_bucket_cmek(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Logs are encrypted with the project's logs key, not a Google-managed key."""
    if not resource.get("cmekSettings", "kmsKeyName"):
        yield f"{resource.name} has no customer-managed key"


@resource_policy(
    id="GCP-LOG-008",
    title="Log sinks are enabled and write as their own identity",
    severity="medium",
    types=[SINK_TYPE],
    controls=["LOG-03"],
    remediation="Keep unique_writer_identity=True (the default) and disabled unset.",
)
def sink_identity(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A sink writes as a service agent of the project, not the shared
    cloud-logs@system.gserviceaccount.com that any project's sink uses (a grant to it
    would let others write into the log store); a disabled sink routes nothing."""
    if resource.get("uniqueWriterIdentity", default=True) is not True:
        yield f"{resource.name} writes as the shared cloud-logs@system.gserviceaccount.com"
    if resource.get("disabled") is True:
        yield f"{resource.name} is disabled"


def _named_in(resource: Resource, references: Sequence[str]) -> bool:
    return some(references, lambda reference: refers_to(reference, resource))


def log_archives(resources: Sequence[Resource]) -> list[Resource]:
    """Cloud Storage buckets of the stack that receive logs: sink destinations and
    usage-log buckets."""
    buckets = of_type(resources, BUCKET_TYPE)
    references = [
        str(s.get("destination"))
        for s in of_type(resources, SINK_TYPE)
        if str(s.get("destination", default="")).startswith("storage.googleapis.com/")
    ]
    references += [
        str(b.get("logging", "logBucket")) for b in buckets if b.get("logging", "logBucket")
    ]
    return [b for b in buckets if _named_in(b, references)]


#: Lifecycle conditions that limit a rule to some objects (conditions are ANDed): a Delete
#: rule carrying one does not expire every log.
_NARROWING_CONDITIONS = (
    "createdBefore",
    "customTimeBefore",
    "daysSinceCustomTime",
    "daysSinceNoncurrentTime",
    "matchesPrefixes",
    "matchesStorageClasses",
    "matchesSuffixes",
    "noncurrentTimeBefore",
    "numNewerVersions",
    "sizeAboveBytes",
    "sizeBelowBytes",
)


def _expires_every_log(condition: Mapping[str, Any]) -> bool:
    """Whether a Delete rule's condition, besides its age, selects every live object."""

    def selects_all(key: str) -> bool:
        value = condition.get(key)
        if key == "withState":
            return str(value or "ANY").upper() in ("ANY", "LIVE")
        return value is None or (isinstance(value, (str, Sequence)) and len(value) == 0)

    return every(("withState", *_NARROWING_CONDITIONS), selects_all)


@stack_policy(
    id="GCP-LOG-009",
    title="Buckets receiving logs keep them for the profile's retention, then delete them",
    severity="high",
    controls=["LOG-04"],
    remediation="Give the log archive a retention policy of the profile's "
    "log_retention_days and a Delete lifecycle rule at that age, and no lifecycle rule "
    "deleting objects earlier (SecureBucket(retention_days=...) sets both).",
)
def archive_retention(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A bucket that receives logs (a sink destination or usage-log bucket) has a
    retention policy of at least `log_retention_days`, no lifecycle rule deletes
    objects before then, and a Delete rule expires every log once that age is reached
    (storage limitation: logs hold personal data such as caller identities and
    addresses, kept no longer than required)."""
    archives = log_archives(resources)
    if not archives:
        raise NotApplicable("no Cloud Storage bucket receives logs")
    required = int(requirements.setting("log_retention_days"))
    for bucket in archives:
        period = seconds(bucket.get("retentionPolicy", "retentionPeriod"))
        if period is None:
            yield bucket, f"{bucket.name} receives logs without a retention policy"
        elif period < required * DAY:
            yield (
                bucket,
                (
                    f"{bucket.name} retains logs {days_text(period)}; the profile requires {required} days"
                ),
            )
        deletions = []
        for rule in bucket.items("lifecycleRules"):
            action = rule.get("action") or {}
            condition = rule.get("condition") or {}
            age = condition.get("age")
            if action.get("type") != "Delete" or age is None:
                continue
            if float(age) < required:
                yield bucket, f"{bucket.name} deletes logs after {float(age):g} days"
            deletions.append(condition)
        if not some(deletions, _expires_every_log):
            yield (
                bucket,
                f"{bucket.name} keeps logs forever: delete them after {required} days "
                "with a lifecycle rule",
            )


@stack_policy(
    id="GCP-LOG-010",
    title="Buckets receiving logs lock their retention when the profile asks",
    severity="high",
    controls=["LOG-03"],
    remediation="Lock the log archive's retention policy (SecureBucket(lock_retention=True), "
    "AuditLogging(locked=True)) in a second, explicit step once the stack is right: "
    "`pulumi config set lock_log_archive true && pulumi up` in a generated project "
    "(irreversible, GCP-DEPLOY-006).",
)
def archive_locked(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """With immutable logs, the retention policy of each bucket receiving logs is
    locked, so no one can shorten it or delete logs early."""
    if not requirements.setting("immutable_logs"):
        raise NotApplicable("the profile does not ask for immutable logs")
    archives = log_archives(resources)
    if not archives:
        raise NotApplicable("no Cloud Storage bucket receives logs")
    for bucket in archives:
        if bucket.get("retentionPolicy", "isLocked") is not True:
            yield (
                bucket,
                f"{bucket.name} does not lock its retention policy: once the stack is "
                "right, lock it with `pulumi config set lock_log_archive true && pulumi up` (irreversible)",
            )


@stack_policy(
    id="GCP-LOG-011",
    title="Log stores are protected from deletion when the profile asks",
    severity="medium",
    controls=["GOV-05"],
    remediation="Create log buckets and log archives with "
    "pulumi.ResourceOptions(protect=True) (AuditLogging(protect=profile.deletion_protection)).",
)
def log_stores_protected(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """With deletion protection, Pulumi refuses to delete the log buckets and the
    buckets receiving logs."""
    if not requirements.setting("deletion_protection"):
        raise NotApplicable("the profile does not ask for deletion protection")
    stores = of_type(resources, LOG_BUCKET_TYPE) + log_archives(resources)
    if not stores:
        raise NotApplicable("the stack creates no log store")
    for store in stores:
        if not store.protect:
            yield store, f"{store.name} is not protected from deletion"
