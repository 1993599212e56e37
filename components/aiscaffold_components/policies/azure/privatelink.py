"""Private endpoints and private DNS: the AI account, vaults and storage accounts are
reached through private endpoints whose names resolve privately inside the VNet."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import (
    AI_ACCOUNT,
    ENDPOINT,
    STORAGE,
    VAULT,
    VNET,
    ZONE,
    ZONE_GROUP,
    ZONE_LINK,
    find,
    listed,
    name_of,
    of_type,
)

#: Private link sub-resource each target type is reached through.
GROUP_IDS = {AI_ACCOUNT: "account", VAULT: "vault", STORAGE: "blob"}


def _connections(endpoint: Resource) -> list[tuple[object, list[str]]]:
    """(target resource id, group ids) of each of the endpoint's connections."""
    out = []
    for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        for connection in endpoint.items(key):
            groups = [str(g).lower() for g in listed(connection.get("groupIds"))]
            out.append((connection.get("privateLinkServiceId"), groups))
    return out


def _missing_endpoints(
    resources: Sequence[Resource], types: Sequence[str]
) -> Iterator[tuple[Resource | None, str]]:
    targets = of_type(resources, *types)
    if not targets:
        raise NotApplicable("nothing to reach privately")
    connections = [c for e in of_type(resources, ENDPOINT) for c in _connections(e)]
    for target in targets:
        group = GROUP_IDS[target.type]
        if not any(group in groups and find(rid, [target]) for rid, groups in connections):
            yield target, f"{target.name} has no private endpoint for its {group!r} sub-resource"


@stack_policy(
    id="AZURE-PE-001",
    title="AI accounts are reached through a private endpoint",
    severity="high",
    controls=["PE-01"],
    remediation="Create a private endpoint to the account's 'account' sub-resource in the "
    "private-endpoint subnet (PrivateEndpoints(targets=[openai.private_link, ...])).",
)
def ai_private_endpoint(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """The model API is called at a private address inside the VNet; with public access
    disabled, an account without an endpoint cannot be reached at all."""
    yield from _missing_endpoints(resources, [AI_ACCOUNT])


@stack_policy(
    id="AZURE-PE-002",
    title="Key Vaults and storage accounts are reached through private endpoints",
    severity="high",
    controls=["PE-02"],
    remediation="Create a private endpoint to each vault ('vault') and storage account "
    "('blob') in the private-endpoint subnet (PrivateEndpoints(targets=[keys.private_link, "
    "data.private_link, *audit.private_links])).",
)
def platform_private_endpoints(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Keys, secrets, data and logs are reached without leaving the network."""
    yield from _missing_endpoints(resources, [VAULT, STORAGE])


def _required_zones(endpoint: Resource, group: str) -> tuple[str, ...] | None:
    from aiscaffold_components.azure._common import cloud_suffixes

    location = endpoint.get("location") or endpoint.provider_props.get("location") or ""
    suffixes = cloud_suffixes(str(location))
    zones = {
        "account": (suffixes.cognitive_services, suffixes.openai, suffixes.ai_services),
        "vault": (suffixes.key_vault,),
        "blob": (suffixes.blob,),
    }.get(group)
    return None if zones is None else tuple(z for z in zones if z)


@stack_policy(
    id="AZURE-PE-003",
    title="Private endpoints resolve through linked private DNS zones",
    severity="medium",
    controls=["PE-05"],
    remediation="Give each private endpoint a PrivateDnsZoneGroup referencing the "
    "privatelink zones of its sub-resource, each zone linked to the VNet "
    "(PrivateEndpoints creates both).",
)
def endpoint_dns(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Service names resolve to the endpoint's private address inside the network, so
    clients never fall back to a public address."""
    endpoints = of_type(resources, ENDPOINT)
    if not endpoints:
        raise NotApplicable("no private endpoints")
    zones = of_type(resources, ZONE)
    vnets = of_type(resources, VNET)
    linked = {
        name_of(link, "privateZoneName")
        for link in of_type(resources, ZONE_LINK)
        if find(link.get("virtualNetwork", "id"), vnets)
    }
    groups = of_type(resources, ZONE_GROUP)
    for endpoint in endpoints:
        name = name_of(endpoint, "privateEndpointName")
        referenced: set[str] = set()
        for group in groups:
            if name and name_of(group, "privateEndpointName") == name:
                for config in group.items("privateDnsZoneConfigs"):
                    zone = find(config.get("privateDnsZoneId"), zones)
                    if zone is not None:
                        referenced.add(name_of(zone, "privateZoneName"))
        wanted: set[str] = set()
        for _, group_ids in _connections(endpoint):
            for group_id in group_ids:
                required = _required_zones(endpoint, group_id)
                wanted.update(z.lower() for z in required or ())
        if not referenced:
            yield endpoint, f"{endpoint.name} registers in no private DNS zone of the stack"
            continue
        missing = sorted(wanted - referenced)
        if missing:
            yield endpoint, f"{endpoint.name} does not register in {', '.join(missing)}"
        unlinked = sorted(referenced - linked)
        if unlinked:
            yield (
                endpoint,
                f"{endpoint.name}'s zones are not linked to a VNet: {', '.join(unlinked)}",
            )


@resource_policy(
    id="AZURE-PE-004",
    title="Private DNS zone links do not auto-register",
    severity="low",
    types=[ZONE_LINK],
    controls=["PE-05"],
    remediation="Set registrationEnabled false on links to privatelink zones.",
)
def zone_link_no_registration(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Auto-registration would let any VM of the VNet write its own records into the
    service's private zone."""
    if resource.get("registrationEnabled") is True:
        yield "the link auto-registers VM records in the zone"
