"""Secret Manager: CMEK replicas in allowed regions, rotation, access for the workload only."""

from __future__ import annotations

from collections.abc import Iterator

from .._core import Requirements, Resource, resource_policy
from ._util import DAY, SECRET_IAM_TYPES, days_text, grants, seconds

SECRET = "gcp:secretmanager/secret:Secret"  # noqa: S105 - a type token
REGIONAL_SECRET = "gcp:secretmanager/regionalSecret:RegionalSecret"  # noqa: S105
ACCESSOR_ROLES = frozenset({"roles/secretmanager.secretAccessor"})


def _replicas(resource: Resource) -> list[tuple[str | None, object]]:
    """(location, kms key) of each replica; location None for automatic replication."""
    if resource.type == REGIONAL_SECRET:
        return [
            (
                str(resource.get("location", default="")) or None,
                resource.get("customerManagedEncryption", "kmsKeyName"),
            )
        ]
    user = resource.items("replication", "userManaged", "replicas")
    if user:
        return [
            (str(r.get("location")), (r.get("customerManagedEncryption") or {}).get("kmsKeyName"))
            for r in user
        ]
    auto = resource.get("replication", "auto")
    if auto is not None:
        return [
            (None, resource.get("replication", "auto", "customerManagedEncryption", "kmsKeyName"))
        ]
    return []


@resource_policy(
    id="GCP-SECRETS-001",
    title="Every secret replica is encrypted with the secrets key",
    severity="high",
    types=[SECRET, REGIONAL_SECRET],
    controls=["SEC-01", "KEY-01"],
    remediation="Give each replica customer_managed_encryption with the secrets key of its "
    "region (Secrets does).",
)
def secret_cmek(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Secret payloads are encrypted with the project's secrets key in every replica,
    not with a Google-managed key."""
    replicas = _replicas(resource)
    if not replicas:
        yield f"{resource.name} has no replication configured"
    for location, key in replicas:
        if not key:
            where = f"replica in {location}" if location else "automatic replication"
            yield f"{resource.name} {where} has no customer-managed key"


@resource_policy(
    id="GCP-SECRETS-002",
    title="Secret replicas stay in the allowed regions",
    severity="high",
    types=[SECRET, REGIONAL_SECRET],
    controls=["GOV-02"],
    remediation="Use user-managed replication with replicas only in the allowed regions "
    "(Secrets(replicas=..., allowed_regions=profile.allowed_regions)).",
)
def secret_residency(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Secrets are replicated only to regions the compliance answers allow; automatic
    replication lets Google choose, so it is refused."""
    allowed = set(requirements.setting("allowed_regions"))
    for location, _ in _replicas(resource):
        if location is None:
            yield f"{resource.name} is replicated automatically, to regions Google chooses"
        elif location not in allowed:
            yield f"{resource.name} has a replica in {location}, outside the allowed regions"


@resource_policy(
    id="GCP-SECRETS-003",
    title="Secrets rotate or expire within the profile's period",
    severity="medium",
    types=[SECRET, REGIONAL_SECRET],
    controls=["SEC-03"],
    remediation="Set rotation.rotation_period (at most the profile's secret_rotation_days) "
    "with next_rotation_time and a rotation topic (Secrets(rotation_days=...)), or an "
    "expiry within the period.",
)
def secret_rotation(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A leaked value stops working: Secret Manager sends rotation notices to a topic at
    least every `secret_rotation_days` days, or the secret expires within them."""
    required = int(requirements.setting("secret_rotation_days"))
    ttl = seconds(resource.get("ttl"))
    if ttl is not None and ttl <= required * DAY:
        return
    period = seconds(resource.get("rotation", "rotationPeriod"))
    if period is None:
        yield f"{resource.name} neither rotates nor expires; the profile requires {required} days"
        return
    if period > required * DAY:
        yield f"{resource.name} rotates every {days_text(period)}; the profile requires {required} days"
    if not resource.get("rotation", "nextRotationTime"):
        yield f"{resource.name} has a rotation period but no next rotation time"
    if not resource.items("topics"):
        yield f"{resource.name} sends its rotation notices to no topic"


@resource_policy(
    id="GCP-SECRETS-004",
    title="Only service accounts may read secrets",
    severity="high",
    types=SECRET_IAM_TYPES,
    controls=["SEC-02"],
    remediation="Grant roles/secretmanager.secretAccessor on the secret to the workload's "
    "service account only.",
)
def secret_access(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Grants on a secret give read access (secretAccessor) to service accounts only:
    no administration or version management, no users or groups."""
    for role, member in grants(resource):
        if role not in ACCESSOR_ROLES:
            yield f"{resource.name} grants {role} to {member}; only secretAccessor is granted on secrets"
        elif not member.startswith("serviceAccount:"):
            yield f"{resource.name} lets {member} read the secret; only the workload's service account may"
