"""Private DNS: Google API names resolve to the private endpoint inside the network."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import of_type, refers_to
from .psc import api_endpoints

ZONE = "gcp:dns/managedZone:ManagedZone"
RECORD = "gcp:dns/recordSet:RecordSet"
ADDRESS = "gcp:compute/globalAddress:GlobalAddress"

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
    for zone in zones:
        mine = [r for r in records if refers_to(r.get("managedZone"), zone)]
        apex = [
            r
            for r in mine
            if str(r.get("name", default="")).lower() == "googleapis.com." and r.get("type") == "A"
        ]
        if not apex:
            yield zone, f"{zone.name} has no A record for googleapis.com"
        elif addresses and not any(set(map(str, r.items("rrdatas"))) & addresses for r in apex):
            yield zone, f"{zone.name} does not point googleapis.com at the endpoint's address"
        if not any(str(r.get("name", default="")).lower() == "*.googleapis.com." for r in mine):
            yield zone, f"{zone.name} has no *.googleapis.com record"
