"""Recovery (REC-01): replicas of the curated data and model artifacts in the recovery
region.

With ``dr_region`` set, every curated-data and model-artifact account has an object
replication policy to an account in that region (a policy on the destination and one
on the source, https://learn.microsoft.com/azure/storage/blobs/object-replication-configure),
whose customer-managed key lives in a Key Vault in that region, with blob versioning
(object replication needs it on both sides) and the change feed on the source
(https://learn.microsoft.com/azure/storage/blobs/object-replication-overview#prerequisites-and-caveats-for-object-replication).
The rest of the replica's hardening (private, Entra-only, TLS 1.2, CMK, diagnostics) is
judged by the storage, monitor and private-link policies like any account's.

Without a recovery region, restricted data is reported by an advisory finding
(AZURE-REC-002): the recovery region is a per-stack choice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .._core import NotApplicable, Requirements, Resource, stack_policy
from ._util import AI_ACCOUNT, REPLICATION, STORAGE, VAULT, find, name_of, of_type, zone_of
from .storage import blob_service_of, log_accounts

_REPLICATED_ZONES = ("curated", "model-artifacts")


def _region(value: object) -> str:
    return str(value or "").replace(" ", "").lower()


def _vault_of(account: Resource, vaults: Sequence[Resource]) -> Resource | None:
    """The vault whose URI the account's encryption names."""
    uri = str(account.get("encryption", "keyVaultProperties", "keyVaultUri", default=""))
    host = uri.split("//", 1)[-1].split(".", 1)[0].lower()
    return next((v for v in vaults if name_of(v, "vaultName") == host), None) if host else None


@stack_policy(
    id="AZURE-REC-001",
    title="Curated data and model artifacts replicate to the recovery region",
    severity="high",
    controls=["REC-01"],
    remediation="Set dr_region on the stack (pulumi config set dr_region <region>) and "
    "replicate each curated-data and model-artifact account with ReplicatedStorage to a "
    "SecureStorage account there, encrypted with a key from a Keys vault in that region.",
)
def replicas(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Losing the primary region loses neither the data nor the models trained on it;
    the replica is readable without the primary region's vault, and overwritten or
    deleted blobs can be restored from its versions."""
    if not requirements.dr_region:
        raise NotApplicable("no recovery region chosen for this stack (dr_region)")
    if not of_type(resources, AI_ACCOUNT):
        raise NotApplicable("no AI account: not the workload's stack (e.g. the state backend)")
    dr = _region(requirements.dr_region)
    archives, flows = log_accounts(resources)
    accounts = [a for a in of_type(resources, STORAGE) if a not in archives and a not in flows]
    policies = of_type(resources, REPLICATION)
    vaults = of_type(resources, VAULT)
    sources = [
        a for a in accounts if zone_of(a) in _REPLICATED_ZONES and _region(a.get("location")) != dr
    ]
    if not sources:
        yield None, "no curated-data or model-artifact account to replicate"
    for source in sources:
        name = name_of(source, "accountName")
        outgoing = [
            p
            for p in policies
            if name_of(p, "accountName") == name and find(p.get("sourceAccount"), [source])
        ]
        replica = next(
            (
                find(p.get("destinationAccount"), accounts)
                for p in outgoing
                if find(p.get("destinationAccount"), accounts) is not None
            ),
            None,
        )
        if replica is None:
            yield source, f"{source.name} has no object replication policy to a replica account"
            continue
        if _region(replica.get("location")) != dr:
            yield replica, f"{replica.name} is in {replica.get('location')}, not {dr}"
        replica_name = name_of(replica, "accountName")
        incoming = [
            p
            for p in policies
            if name_of(p, "accountName") == replica_name
            and find(p.get("sourceAccount"), [source]) is not None
            and p.items("rules")
            and p.get("objectReplicationPolicyId")
        ]
        if not incoming:
            yield replica, f"{replica.name} has no destination replication policy from {name}"
        if not all(p.get("objectReplicationPolicyId") for p in outgoing):
            yield source, f"{source.name}'s replication policy names no policy id"
        vault = _vault_of(replica, vaults)
        if vault is None or _region(vault.get("location")) != dr:
            where = vault.get("location") if vault is not None else "no known vault"
            yield replica, f"{replica.name}'s key is not in a vault in {dr} ({where})"
        for account, needs in ((source, "change feed and versioning"), (replica, "versioning")):
            service = blob_service_of(account, resources)
            versioned = service is not None and service.get("isVersioningEnabled") is True
            feed = service is not None and service.get("changeFeed", "enabled") is True
            if not versioned or (account is source and not feed):
                yield account, f"{account.name} lacks the {needs} object replication needs"
        rules = [r for p in outgoing for r in p.items("rules")]
        if not rules:
            yield source, f"{source.name}'s replication policy copies no container"


def _no_dr_advisory(requirements: Requirements) -> str | None:
    return "the recovery region is a per-stack choice: reported, never blocking"


@stack_policy(
    id="AZURE-REC-002",
    title="Restricted data has a recovery region",
    severity="medium",
    controls=["REC-01"],
    remediation="Choose a recovery region for this stack: pulumi config set "
    "<project>:dr_region <region> (or aiscaffold update --data dr_region=<region>), "
    "see docs/disaster-recovery.md.",
    advisory_when=_no_dr_advisory,
)
def recovery_region_chosen(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Restricted data without a replica outside its region is lost with the region."""
    if requirements.data_sensitivity != "restricted":
        raise NotApplicable("not restricted data")
    if requirements.dr_region:
        raise NotApplicable("a recovery region is chosen (AZURE-REC-001 judges the replicas)")
    yield None, "restricted data without a recovery region (dr_region): no replica exists"
