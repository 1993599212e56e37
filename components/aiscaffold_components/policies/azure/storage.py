"""Storage accounts: private, Entra-only, CMK-encrypted, recoverable; log accounts
immutable and expiring after the retention period.

Storage account settings whose Azure default changed across API versions and account
ages (shared key, TLS, blob public access, cross-tenant replication, firewall bypass)
must be stated: an absent value is a finding.

One exception to "no public endpoint" is precise (AZURE-ST-001, AZURE-ST-002): a log
account may keep public network access ``Enabled`` when its firewall denies by default,
lists no IP or VNet rule and bypasses only ``AzureServices``, because Azure Monitor
(diagnostic settings, the activity log) and Network Watcher (flow logs) write to
storage only as trusted services. Only accounts those write to may do it.

Log archives (accounts diagnostic settings write to) hold every blob version immutable
for the retention period (AZURE-ST-015). The policy is created ``Unlocked`` and locked
by a second deployment (``lock_log_archive``): Azure refuses a policy created locked and
refuses to unlock one, so the lock itself is enforced by Azure once set; the pack
accepts ``Unlocked`` and ``Locked`` and refuses ``Disabled``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import (
    ACTIVITY_LOG,
    AI_ACCOUNT,
    BLOB_SERVICE,
    CONTAINER,
    DIAGNOSTIC,
    FLOW_LOG,
    LIFECYCLE,
    STORAGE,
    days,
    find,
    listed,
    name_of,
    of_type,
    zone_of,
)

#: Blob and container soft delete keeps deleted data at least this long (Azure
#: recommends seven days or more).
SOFT_DELETE_MIN_DAYS = 7
#: Longest validity of a SAS the account accepts (``d.hh:mm:ss``).
SAS_MAX_SECONDS = 86400
_TLS = ("TLS1_2", "TLS1_3")
_SERVICES = ("blob", "file", "queue", "table")


def _trusted_services_only(resource: Resource) -> bool:
    """Public access Enabled, default Deny, no IP/VNet rules, bypass AzureServices."""
    rules = ("networkRuleSet",)
    return (
        resource.get("publicNetworkAccess") == "Enabled"
        and resource.get(*rules, "defaultAction") == "Deny"
        and not resource.items(*rules, "ipRules")
        and not resource.items(*rules, "virtualNetworkRules")
        and resource.get(*rules, "bypass") == "AzureServices"
    )


@resource_policy(
    id="AZURE-ST-001",
    title="Storage accounts refuse public network access",
    severity="high",
    types=[STORAGE],
    controls=["PE-03"],
    remediation="Set publicNetworkAccess Disabled and networkRuleSet {defaultAction: Deny, "
    "bypass: None, no ipRules or virtualNetworkRules}; reach the account through a private "
    "endpoint. Log accounts written by Azure Monitor or Network Watcher may instead keep "
    "publicNetworkAccess Enabled with that firewall and bypass AzureServices.",
)
def storage_network(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Data reaches the account only through its private endpoint: public network
    access disabled, a default-deny firewall without rules or bypass. The one exception
    admits trusted Azure services and nothing else."""
    access = resource.get("publicNetworkAccess")
    if access is None:
        yield "publicNetworkAccess is not stated (Azure then follows the firewall alone)"
    if resource.get("networkRuleSet", "defaultAction") != "Deny":
        yield "the firewall's default action is not Deny"
    if resource.items("networkRuleSet", "ipRules") or resource.items(
        "networkRuleSet", "virtualNetworkRules"
    ):
        yield "the firewall admits IP ranges or subnets; use the private endpoint only"
    bypass = resource.get("networkRuleSet", "bypass")
    if bypass is None:
        yield "networkRuleSet.bypass is not stated (Azure's default admits AzureServices)"
    if access == "Enabled" and not _trusted_services_only(resource):
        yield (
            "publicNetworkAccess is Enabled without the trusted-services-only firewall "
            "(default Deny, no rules, bypass AzureServices)"
        )
    elif access not in (None, "Enabled", "Disabled"):
        yield f"publicNetworkAccess is {access}"
    elif access == "Disabled" and bypass not in (None, "None"):
        yield f"bypass {bypass!r} would admit services as soon as public access is enabled"


def log_accounts(resources: Sequence[Resource]) -> tuple[list[Resource], list[Resource]]:
    """Storage accounts of the stack that Azure Monitor archives to, and those flow
    logs write to."""
    accounts = of_type(resources, STORAGE)
    archives: list[Resource] = []
    flows: list[Resource] = []
    for setting in of_type(resources, DIAGNOSTIC, ACTIVITY_LOG):
        found = find(setting.get("storageAccountId"), accounts)
        if found is not None and found not in archives:
            archives.append(found)
    for flow_log in of_type(resources, FLOW_LOG):
        found = find(flow_log.get("storageId"), accounts)
        if found is not None and found not in flows:
            flows.append(found)
    return archives, flows


@stack_policy(
    id="AZURE-ST-002",
    title="Only log accounts admit trusted Azure services",
    severity="medium",
    controls=["PE-03"],
    remediation="Disable public network access on this account "
    "(SecureStorage without trusted_services_bypass); only accounts that diagnostic "
    "settings or flow logs write to need the trusted-services exception.",
)
def trusted_services_only_for_logs(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """The trusted-services exception exists for Azure Monitor and Network Watcher; an
    account they do not write to has no reason for a public endpoint."""
    accounts = of_type(resources, STORAGE)
    if not accounts:
        raise NotApplicable("no storage accounts")
    archives, flows = log_accounts(resources)
    for account in accounts:
        if account.get("publicNetworkAccess") != "Enabled":
            continue
        if account not in archives and account not in flows:
            yield (
                account,
                f"{account.name} keeps a public endpoint for trusted services but no "
                "diagnostic setting or flow log writes to it",
            )


@resource_policy(
    id="AZURE-ST-003",
    title="Storage accounts accept Entra ID authentication only",
    severity="high",
    types=[STORAGE],
    controls=["IAM-03"],
    remediation="Set allowSharedKeyAccess false, defaultToOAuthAuthentication true and "
    "isLocalUserEnabled false, and leave SFTP off.",
)
def storage_entra_only(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Account keys, shared-key SAS, local users and SFTP are credentials that outlive
    any person or workload; Entra ID tokens are short-lived and tied to an identity."""
    if resource.get("allowSharedKeyAccess") is not False:
        yield "shared key access is not disabled (allowSharedKeyAccess false)"
    if resource.get("defaultToOAuthAuthentication") is not True:
        yield "Entra ID is not the default authentication (defaultToOAuthAuthentication)"
    if resource.get("isLocalUserEnabled") is not False:
        yield "local users are not disabled (isLocalUserEnabled false)"
    if resource.get("isSftpEnabled") is True:
        yield "SFTP is enabled"


@resource_policy(
    id="AZURE-ST-004",
    title="Storage accounts disallow public blob access",
    severity="high",
    types=[STORAGE],
    controls=["GOV-03"],
    remediation="Set allowBlobPublicAccess false.",
)
def storage_no_public_blobs(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """No container of the account can ever be made anonymously readable."""
    if resource.get("allowBlobPublicAccess") is not False:
        yield "allowBlobPublicAccess is not false: containers could be made public"


@resource_policy(
    id="AZURE-ST-005",
    title="Blob containers are private",
    severity="high",
    types=[CONTAINER],
    controls=["GOV-03"],
    remediation="Set publicAccess None (or leave it unset).",
)
def container_private(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A container with Blob or Container access serves its blobs to anyone."""
    access = resource.get("publicAccess", default="None")
    if access != "None":
        yield f"publicAccess is {access}: anonymous reads are allowed"


@resource_policy(
    id="AZURE-ST-006",
    title="Storage accounts take HTTPS with TLS 1.2 or later only",
    severity="high",
    types=[STORAGE],
    controls=["NET-05"],
    remediation="Set enableHttpsTrafficOnly true and minimumTlsVersion TLS1_2.",
)
def storage_tls(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Data is never sent over plain HTTP or an outdated TLS version."""
    if resource.get("enableHttpsTrafficOnly") is not True:
        yield "HTTP is accepted (enableHttpsTrafficOnly is not true)"
    tls = resource.get("minimumTlsVersion")
    if tls not in _TLS:
        yield f"minimumTlsVersion is {tls or 'not stated'}; TLS1_2 required"


@resource_policy(
    id="AZURE-ST-007",
    title="Storage accounts encrypt with a customer-managed key",
    severity="high",
    types=[STORAGE],
    controls=["KEY-01"],
    remediation="Set encryption {keySource: Microsoft.Keyvault, keyVaultProperties "
    "{keyName, keyVaultUri} without keyVersion, encryptionIdentity} and list that "
    "user-assigned identity on the account (SecureStorageArgs(cmk=keys.cmk(...))).",
)
def storage_cmk(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The account's data is encrypted with the project's Key Vault key through a
    dedicated user-assigned identity; the key is given without a version so the account
    follows its rotation."""
    encryption = ("encryption",)
    if resource.get(*encryption, "keySource") != "Microsoft.Keyvault":
        yield "encryption.keySource is not Microsoft.Keyvault: Microsoft-managed keys"
    vault = ("encryption", "keyVaultProperties")
    if not resource.get(*vault, "keyName") or not resource.get(*vault, "keyVaultUri"):
        yield "encryption.keyVaultProperties names no key and vault"
    if resource.get(*vault, "keyVersion"):
        yield "the key version is pinned: the account would not follow key rotation"
    identity = resource.get(*encryption, "encryptionIdentity", "encryptionUserAssignedIdentity")
    assigned = [str(i).lower() for i in listed(resource.get("identity", "userAssignedIdentities"))]
    if not identity:
        yield "no user-assigned encryption identity unwraps the key"
    elif str(identity).lower() not in assigned or "UserAssigned" not in str(
        resource.get("identity", "type", default="")
    ):
        yield "the encryption identity is not assigned to the account"


@resource_policy(
    id="AZURE-ST-008",
    title="Every storage service encrypts with the account's key",
    severity="medium",
    types=[STORAGE],
    controls=["KEY-01"],
    remediation="Set encryption.services blob, file, queue and table to "
    "{enabled: true, keyType: Account}.",
)
def storage_services_encrypted(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Queues and tables use a service-scoped Microsoft key unless their key type is
    Account; with Account, every service's data is under the customer-managed key."""
    for service in _SERVICES:
        settings = resource.get("encryption", "services", service)
        if not settings:
            yield f"encryption.services.{service} is not stated"
            continue
        if settings.get("enabled") is not True:
            yield f"encryption of the {service} service is not enabled"
        if settings.get("keyType") != "Account":
            yield f"the {service} service does not use the account's key (keyType Account)"


@resource_policy(
    id="AZURE-ST-009",
    title="Storage accounts use infrastructure (double) encryption",
    severity="medium",
    types=[STORAGE],
    controls=["KEY-01"],
    remediation="Set encryption.requireInfrastructureEncryption true (only possible when "
    "the account is created).",
)
def storage_double_encryption(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A second, independent layer of AES-256 encryption at the infrastructure level
    protects data if one algorithm or key is compromised."""
    if resource.get("encryption", "requireInfrastructureEncryption") is not True:
        yield "infrastructure encryption is not required"


@resource_policy(
    id="AZURE-ST-010",
    title="Storage data stays in the tenant",
    severity="medium",
    types=[STORAGE],
    controls=["PE-04"],
    remediation="Set allowCrossTenantReplication false and allowedCopyScope AAD (or PrivateLink).",
)
def storage_tenant_boundary(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Object replication to another tenant and copies from outside the tenant are
    exfiltration paths that bypass the network boundary."""
    if resource.get("allowCrossTenantReplication") is not False:
        yield "cross-tenant replication is not disabled"
    scope = resource.get("allowedCopyScope")
    if scope not in ("AAD", "PrivateLink"):
        yield f"allowedCopyScope is {scope or 'not stated'}; AAD or PrivateLink required"


def _period_seconds(text: object) -> float | None:
    """Seconds of a SAS expiration period ``d.hh:mm:ss``."""
    try:
        day_part, _, clock = str(text).partition(".")
        hours, minutes, secs = (int(p) for p in clock.split(":"))
        return int(day_part) * 86400 + hours * 3600 + minutes * 60 + secs
    except ValueError:
        return None


@resource_policy(
    id="AZURE-ST-011",
    title="Shared access signatures are short-lived",
    severity="medium",
    types=[STORAGE],
    controls=["IAM-01"],
    remediation="Set sasPolicy {sasExpirationPeriod: 01.00:00:00, expirationAction: Block}.",
)
def storage_sas_policy(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A SAS is a bearer credential; Azure refuses any longer than a day."""
    policy = resource.get("sasPolicy")
    if not policy:
        yield "no SAS expiration policy"
        return
    period = _period_seconds(policy.get("sasExpirationPeriod"))
    if period is None or period > SAS_MAX_SECONDS:
        yield f"SAS may live {policy.get('sasExpirationPeriod')}; one day at most"
    if policy.get("expirationAction") != "Block":
        yield "longer SAS are not blocked (expirationAction Block)"


@resource_policy(
    id="AZURE-ST-012",
    title="Blob versioning and change feed are on",
    severity="medium",
    types=[BLOB_SERVICE],
    controls=["GOV-04"],
    remediation="Set isVersioningEnabled true and changeFeed.enabled true on the blob service.",
)
def blob_versioning(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Overwritten blobs keep their previous versions, and the change feed records every
    change, so data can be restored to a point in time."""
    if resource.get("isVersioningEnabled") is not True:
        yield "blob versioning is off"
    if resource.get("changeFeed", "enabled") is not True:
        yield "the change feed is off"


@resource_policy(
    id="AZURE-ST-013",
    title="Deleted blobs and containers stay recoverable",
    severity="medium",
    types=[BLOB_SERVICE],
    controls=["GOV-04"],
    remediation="Enable deleteRetentionPolicy and containerDeleteRetentionPolicy with days "
    f"of at least {SOFT_DELETE_MIN_DAYS} (SecureStorage keeps 30).",
)
def blob_soft_delete(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Soft delete keeps deleted blobs and containers restorable for a week or more."""
    for key, what in (
        ("deleteRetentionPolicy", "blobs"),
        ("containerDeleteRetentionPolicy", "containers"),
    ):
        policy = resource.get(key)
        if not policy or policy.get("enabled") is not True:
            yield f"soft delete of {what} is off ({key})"
            continue
        kept = policy.get("days", SOFT_DELETE_MIN_DAYS)
        if kept < SOFT_DELETE_MIN_DAYS:
            yield f"deleted {what} are kept {days(kept)}; {days(SOFT_DELETE_MIN_DAYS)} at least"


@stack_policy(
    id="AZURE-ST-014",
    title="Every storage account has its blob service settings",
    severity="medium",
    controls=["GOV-04"],
    remediation="Give each account a BlobServiceProperties resource with versioning and "
    "soft delete (SecureStorage creates it).",
)
def storage_companions(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Versioning and soft delete live on the blob service, a separate resource: an
    account without it has neither."""
    accounts = of_type(resources, STORAGE)
    if not accounts:
        raise NotApplicable("no storage accounts")
    services = {name_of(s, "accountName") for s in of_type(resources, BLOB_SERVICE)}
    for account in accounts:
        if name_of(account, "accountName") not in services:
            yield account, f"{account.name} has no blob service settings (versioning, soft delete)"


@stack_policy(
    id="AZURE-ST-015",
    title="Log archives keep every blob version immutable for the retention period",
    severity="high",
    controls=["LOG-03"],
    remediation="Give the archive account immutableStorageWithVersioning {enabled: true, "
    "immutabilityPolicy {immutabilityPeriodSinceCreationInDays >= log_retention_days, "
    "state Unlocked, then Locked on a later deployment}} (AuditLogging does; "
    "`pulumi config set lock_log_archive true` locks it).",
)
def archive_immutable(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Audit logs written to the archive cannot be changed or deleted before the
    retention period ends. Azure creates such a policy unlocked and locks it on request,
    irreversibly; a Disabled or missing policy protects nothing."""
    archives, _ = log_accounts(resources)
    if not archives:
        raise NotApplicable("no storage account receives diagnostic logs")
    required = requirements.setting("log_retention_days")
    for account in archives:
        immutability = account.get("immutableStorageWithVersioning")
        if not immutability or immutability.get("enabled") is not True:
            yield account, f"{account.name} receives audit logs but is not immutable"
            continue
        policy = immutability.get("immutabilityPolicy") or {}
        period = policy.get("immutabilityPeriodSinceCreationInDays") or 0
        state = policy.get("state")
        if period < required:
            yield (
                account,
                f"{account.name} keeps blobs immutable {days(period)}; {days(required)} required",
            )
        if state not in ("Unlocked", "Locked"):
            yield account, f"{account.name}'s immutability policy state is {state or 'not stated'}"


@stack_policy(
    id="AZURE-ST-016",
    title="Log accounts keep logs for the retention period, then delete them",
    severity="medium",
    controls=["LOG-04"],
    remediation="Give each log account a lifecycle rule (ManagementPolicy) deleting block "
    "and append blobs and their versions log_retention_days after creation "
    "(SecureStorage(retention_days=...) does).",
)
def log_lifecycle(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Logs are kept as long as the profile requires and no longer (storage limitation):
    an enabled lifecycle rule deletes every log blob, and its versions, once that old."""
    archives, flows = log_accounts(resources)
    accounts = archives + [f for f in flows if f not in archives]
    if not accounts:
        raise NotApplicable("no storage account receives logs")
    required = requirements.setting("log_retention_days")
    policies = of_type(resources, LIFECYCLE)
    for account in accounts:
        name = name_of(account, "accountName")
        rules = [
            rule
            for policy in policies
            if name and name_of(policy, "accountName") == name
            for rule in policy.items("policy", "rules")
        ]
        problem = _expiry_problem(rules, required)
        if problem:
            yield account, f"{account.name}: {problem}"


def _expiry_problem(rules: list[Any], required: float) -> str | None:
    """Why no rule expires every log blob and version at the retention period."""
    candidates = []
    for rule in rules:
        if rule.get("enabled") is False or rule.get("type", "Lifecycle") != "Lifecycle":
            continue
        definition = rule.get("definition") or {}
        filters = definition.get("filters") or {}
        types = {str(t) for t in listed(filters.get("blobTypes"))}
        if filters.get("prefixMatch") or not {"blockBlob", "appendBlob"} <= types:
            continue
        actions = definition.get("actions") or {}
        base = (actions.get("baseBlob") or {}).get("delete") or {}
        version = (actions.get("version") or {}).get("delete") or {}
        base_days = base.get("daysAfterCreationGreaterThan")
        if base_days is None:
            base_days = base.get("daysAfterModificationGreaterThan")
        version_days = version.get("daysAfterCreationGreaterThan")
        if base_days is None or version_days is None:
            continue
        candidates.append(min(base_days, version_days))
    if not candidates:
        return (
            "no enabled lifecycle rule deletes its block and append blobs and their versions "
            "(logs would be kept forever)"
        )
    if max(candidates) < required:
        return f"logs are deleted after {days(max(candidates))}; {days(required)} required"
    return None


#: Days deleted model artifacts stay recoverable when the profile asks for deletion
#: protection (SecureStorage allows at most 365).
ARTIFACT_PROTECTED_DAYS = 365


def blob_service_of(account: Resource, resources: Sequence[Resource]) -> Resource | None:
    """The blob service properties of ``account`` among ``resources``."""
    name = name_of(account, "accountName")
    return next(
        (b for b in of_type(resources, BLOB_SERVICE) if name_of(b, "accountName") == name), None
    )


@stack_policy(
    id="AZURE-ST-017",
    title="Raw data and model artifacts have their own stores; artifacts keep every version",
    severity="medium",
    controls=["GOV-07"],
    remediation="Create a SecureStorage account per data zone the workloads need (raw with "
    "data-processing, model artifacts with training; tag data-zone raw / model-artifacts); "
    "keep blob versioning on the artifacts and soft delete of at least "
    f"{ARTIFACT_PROTECTED_DAYS} days when the profile asks for deletion protection.",
)
def data_zones(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Raw inputs, curated data and the models trained from them are kept apart, so a
    job is granted only its zones, and a model's training files and results can be
    traced and restored: overwritten artifacts keep their versions, deleted ones stay
    recoverable."""
    needed = {"data-processing": "raw", "training": "model-artifacts"}
    zones = [needed[w] for w in requirements.workloads if w in needed]
    if not zones:
        raise NotApplicable("the inference workload only: the data account is the curated zone")
    if not of_type(resources, AI_ACCOUNT):
        raise NotApplicable("no AI account: not the workload's stack (e.g. the state backend)")
    archives, flows = log_accounts(resources)
    accounts = [a for a in of_type(resources, STORAGE) if a not in archives and a not in flows]
    protected = bool(requirements.setting("deletion_protection"))
    for zone in zones:
        stores = [a for a in accounts if zone_of(a) == zone]
        if not stores:
            yield None, f"no {zone} storage account (tag data-zone={zone})"
        if zone != "model-artifacts":
            continue
        for account in stores:
            service = blob_service_of(account, resources)
            if service is None or service.get("isVersioningEnabled") is not True:
                yield account, f"{account.name} does not keep blob versions"
                continue
            retention = service.get("deleteRetentionPolicy", default={})
            kept = retention.get("days") if retention.get("enabled") is True else None
            least = ARTIFACT_PROTECTED_DAYS if protected else SOFT_DELETE_MIN_DAYS
            if not isinstance(kept, (int, float)) or kept < least:
                yield (
                    service,
                    f"deleted model artifacts stay recoverable {kept or 0} days, not {least}",
                )
