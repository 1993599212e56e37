"""Pub/Sub topics (secret rotation notices): CMEK and message residency."""

from __future__ import annotations

from collections.abc import Iterator

from .._core import Requirements, Resource, resource_policy

TOPIC = "gcp:pubsub/topic:Topic"


@resource_policy(
    id="GCP-PUBSUB-001",
    title="Topics are encrypted with a customer-managed key",
    severity="medium",
    types=[TOPIC],
    controls=["KEY-01"],
    remediation="Set kms_key_name on the topic (the secrets key for rotation topics).",
)
def topic_cmek(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Messages at rest are encrypted with the project's key, not a Google-managed one."""
    if not resource.get("kmsKeyName"):
        yield f"{resource.name} has no customer-managed key"


@resource_policy(
    id="GCP-PUBSUB-002",
    title="Topic messages are stored and routed only in allowed regions",
    severity="medium",
    types=[TOPIC],
    controls=["GOV-02"],
    remediation="Set message_storage_policy with allowed_persistence_regions among the "
    "allowed regions and enforce_in_transit=True.",
)
def topic_residency(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Messages are persisted only in regions the compliance answers allow, and that
    limit also applies while they are in transit."""
    regions = [str(r) for r in resource.items("messageStoragePolicy", "allowedPersistenceRegions")]
    if not regions:
        yield f"{resource.name} may store messages in any region"
        return
    outside = sorted(set(regions) - set(requirements.setting("allowed_regions")))
    if outside:
        yield f"{resource.name} may store messages in {', '.join(outside)}, outside the allowed regions"
    if resource.get("messageStoragePolicy", "enforceInTransit") is not True:
        yield f"{resource.name} does not keep messages in those regions in transit"
