"""Private DNS: Google API names resolve to the private endpoints inside the network."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from typing import Any

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import last_segment, of_type, refers_to, some
from .psc import api_endpoints, regional_endpoints, target_host

ZONE = "gcp:dns/managedZone:ManagedZone"
RECORD = "gcp:dns/recordSet:RecordSet"
ADDRESS = "gcp:compute/globalAddress:GlobalAddress"
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")

#: Domains of Google APIs and the services a workload reaches through them.
GOOGLE_DOMAINS = (
    "googleapis.com",
    "gcr.io",
    "pkg.dev",
    "googleusercontent.com",
    "cloud.google.com",
)


def _domain(resource: Resource) -> str:
    return str(resource.get("dnsName", default="")).lower().rstrip(".")


def _visible_to(zone: Resource, network: Any) -> bool:
    """Whether a private zone answers queries from ``network`` (a reference; any of the
    zone's networks when the endpoint names none, only its subnet)."""
    if zone.get("visibility") != "private":
        return False
    urls = [
        last_segment(str(n.get("networkUrl", "")))
        for n in zone.items("privateVisibilityConfig", "networks")
        if isinstance(n, Mapping)
    ]
    if not isinstance(network, str) or not network:
        return bool(urls)
    return last_segment(network) in urls


@resource_policy(
    id="GCP-DNS-001",
    title="Zones for Google API domains are private to the project's networks",
    severity="medium",
    types=[ZONE],
    controls=["PE-05"],
    remediation="Create the zone with visibility 'private' and private_visibility_config "
    "listing the workload's network.",
)
def private_zone(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A zone overriding a Google API domain is visible only to the workload's networks,
    so names resolve to the private endpoint there and nowhere else."""
    domain = _domain(resource)
    if not any(domain == d or domain.endswith("." + d) for d in GOOGLE_DOMAINS):
        raise NotApplicable(f"{domain or 'the zone'} is not a Google API domain")
    if resource.get("visibility", default="public") != "private":
        yield f"{resource.name} ({domain}) is a public zone"
    elif not resource.items("privateVisibilityConfig", "networks"):
        yield f"{resource.name} ({domain}) is visible to no network"


def _record_of(
    zone: Resource,
    names: Set[str],
    kind: str | None = None,
    pointing_at: Set[str] = frozenset(),
) -> Callable[[Resource], bool]:
    """A test of a record set, for :func:`some`: in ``zone``, named one of ``names``
    (lowercase), of type ``kind`` (any when None), answering one of ``pointing_at``
    (anything when empty)."""

    def test(record: Resource) -> bool:
        return (
            refers_to(record.get("managedZone"), zone)
            and str(record.get("name", default="")).lower() in names
            and (kind is None or record.get("type") == kind)
            and (not pointing_at or bool(set(map(str, record.items("rrdatas"))) & pointing_at))
        )

    return test


@stack_policy(
    id="GCP-DNS-002",
    title="googleapis.com resolves to the Private Service Connect endpoint",
    severity="medium",
    controls=["PE-05"],
    remediation="Add a private googleapis.com zone with an A record at the apex pointing "
    "at the endpoint's address and a *.googleapis.com record (the PrivateEndpoints "
    "component does).",
)
def googleapis_resolves_privately(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """With a Private Service Connect endpoint, every *.googleapis.com name resolves to
    it inside the network, so clients cannot fall back to public addresses."""
    endpoints = api_endpoints(resources)
    if not endpoints:
        raise NotApplicable("the stack creates no Private Service Connect endpoint")
    addresses = {
        str(a.get("address"))
        for a in of_type(resources, ADDRESS)
        if a.get("purpose") == "PRIVATE_SERVICE_CONNECT" and a.get("address")
    }
    zones = [
        z
        for z in of_type(resources, ZONE)
        if _domain(z) == "googleapis.com" and z.get("visibility") == "private"
    ]
    if not zones:
        yield endpoints[0], "no private googleapis.com zone points at the endpoint"
        return
    records = of_type(resources, RECORD)
    apex = {"googleapis.com."}
    for zone in zones:
        if not some(records, _record_of(zone, apex, "A")):
            yield zone, f"{zone.name} has no A record for googleapis.com"
        elif addresses and not some(records, _record_of(zone, apex, "A", addresses)):
            yield zone, f"{zone.name} does not point googleapis.com at the endpoint's address"
        if not some(records, _record_of(zone, {"*.googleapis.com."})):
            yield zone, f"{zone.name} has no *.googleapis.com record"


@stack_policy(
    id="GCP-DNS-003",
    title="Regional Google API hostnames resolve to their regional endpoint",
    severity="medium",
    controls=["PE-05"],
    remediation="Add a private zone for the endpoint's hostname "
    "(<service>.<region>.rep.googleapis.com), visible to its network, with an A record "
    "at the apex pointing at the endpoint's address (PrivateEndpoints does).",
)
def regional_hostnames_resolve_privately(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Inside the network, a regional endpoint's hostname must resolve to the endpoint:
    otherwise the googleapis.com zone's wildcard sends it to the global endpoint, which
    does not serve regional-only APIs (Model Armor answers 404 there). The most specific
    private zone visible to the network decides, as in Cloud DNS."""
    endpoints = regional_endpoints(resources)
    if not endpoints:
        raise NotApplicable("the stack creates no regional Private Service Connect endpoint")
    zones = of_type(resources, ZONE)
    records = of_type(resources, RECORD)
    for endpoint in endpoints:
        host = target_host(endpoint)
        if not host:
            continue
        network = endpoint.get("network")
        covering = [
            z
            for z in zones
            if (_domain(z) == host or host.endswith("." + _domain(z))) and _visible_to(z, network)
        ]
        if not covering:
            yield endpoint, f"no private zone visible to its network resolves {host}"
            continue
        zone = max(covering, key=lambda z: len(_domain(z)))
        address = endpoint.get("address")
        names = {host, f"{host}."}
        if not some(records, _record_of(zone, names, "A")):
            yield endpoint, f"{zone.name} has no A record for {host}"
        elif (
            isinstance(address, str)
            and _IPV4.match(address)
            and not some(records, _record_of(zone, names, "A", {address}))
        ):
            yield endpoint, f"{zone.name} does not point {host} at {address}"
