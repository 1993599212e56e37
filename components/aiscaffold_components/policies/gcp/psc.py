"""Private Service Connect for Google APIs: the endpoint exists, and matches the perimeter."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .._core import NotApplicable, Requirements, Resource, stack_policy
from ._util import of_type, refers_to

NETWORK = "gcp:compute/network:Network"
FORWARDING_RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
PERIMETER = "gcp:accesscontextmanager/servicePerimeter:ServicePerimeter"
#: Targets of a Private Service Connect endpoint for Google APIs.
API_BUNDLES = ("all-apis", "vpc-sc")


def api_endpoints(resources: Sequence[Resource]) -> list[Resource]:
    """Forwarding rules that are Private Service Connect endpoints for Google APIs."""
    return [r for r in of_type(resources, FORWARDING_RULE) if r.get("target") in API_BUNDLES]


@stack_policy(
    id="GCP-PSC-001",
    title="Each VPC network reaches Google APIs through Private Service Connect",
    severity="high",
    controls=["PE-01", "PE-02"],
    remediation="Add a Private Service Connect endpoint for Google APIs to the network "
    "(the PrivateEndpoints component: a PRIVATE_SERVICE_CONNECT address and a global "
    "forwarding rule targeting all-apis or vpc-sc).",
)
def psc_for_google_apis(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """The model API and the platform APIs (keys, secrets, storage, logging) are
    reached at an internal address of the workload's network, not over the internet."""
    networks = of_type(resources, NETWORK)
    if not networks:
        raise NotApplicable("the stack creates no VPC network")
    endpoints = api_endpoints(resources)
    for network in networks:
        if not any(refers_to(e.get("network"), network) for e in endpoints):
            yield network, f"{network.name} has no Private Service Connect endpoint for Google APIs"


@stack_policy(
    id="GCP-PSC-002",
    title="Inside a service perimeter, Google APIs are reached through the vpc-sc bundle",
    severity="medium",
    controls=["PE-04"],
    remediation="Target the vpc-sc bundle with the Private Service Connect endpoint "
    "(PrivateEndpoints(bundle='vpc-sc')) when a VPC Service Controls perimeter protects "
    "the project.",
)
def perimeter_bundle(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """With a VPC Service Controls perimeter, the endpoint serves only the APIs the
    perimeter can protect, so data cannot leave through an unprotected API."""
    if not of_type(resources, PERIMETER):
        raise NotApplicable("the stack creates no service perimeter")
    for endpoint in api_endpoints(resources):
        if endpoint.get("target") != "vpc-sc":
            yield (
                endpoint,
                f"{endpoint.name} serves {endpoint.get('target')} inside a service perimeter; "
                "use the vpc-sc bundle",
            )
