"""Private Service Connect for Google APIs: the endpoint exists, and matches the perimeter;
Model Armor, reached only at its regional endpoint, has a regional endpoint too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .._core import NotApplicable, Requirements, Resource, stack_policy
from ._util import of_type, refers_to, some

NETWORK = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
FORWARDING_RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
REGIONAL_ENDPOINT = "gcp:networkconnectivity/regionalEndpoint:RegionalEndpoint"
PERIMETER = "gcp:accesscontextmanager/servicePerimeter:ServicePerimeter"
ARMOR_TEMPLATE = "gcp:modelarmor/template:Template"
#: Targets of a Private Service Connect endpoint for Google APIs.
API_BUNDLES = ("all-apis", "vpc-sc")


def api_endpoints(resources: Sequence[Resource]) -> list[Resource]:
    """Forwarding rules that are Private Service Connect endpoints for Google APIs."""
    return [r for r in of_type(resources, FORWARDING_RULE) if r.get("target") in API_BUNDLES]


def _reaches_apis(network: Resource, rules: Sequence[Resource]) -> bool:
    """Whether one of the forwarding ``rules`` is an endpoint for Google APIs in
    ``network``."""
    return some(
        rules, lambda r: r.get("target") in API_BUNDLES and refers_to(r.get("network"), network)
    )


def regional_endpoints(resources: Sequence[Resource]) -> list[Resource]:
    """Regional Private Service Connect endpoints (to ``<service>.<region>.rep`` hosts)."""
    return of_type(resources, REGIONAL_ENDPOINT)


def target_host(endpoint: Resource) -> str:
    """The regional hostname a regional endpoint targets, lowercase, without a dot."""
    return str(endpoint.get("targetGoogleApi", default="")).lower().rstrip(".")


def _in_network(endpoint: Resource, network: Resource, subnets: Sequence[Resource]) -> bool:
    """Whether a regional endpoint sits in ``network``: named directly, or through the
    subnet it takes its address from."""
    if refers_to(endpoint.get("network"), network):
        return True
    subnet = endpoint.get("subnetwork")
    return some(subnets, lambda s: refers_to(subnet, s) and refers_to(s.get("network"), network))


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
    rules = of_type(resources, FORWARDING_RULE)
    for network in networks:
        if not _reaches_apis(network, rules):
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


def _reaches_host(
    host: str, network: Resource, endpoints: Sequence[Resource], subnets: Sequence[Resource]
) -> bool:
    """Whether one of the regional ``endpoints`` serves ``host`` in ``network``."""
    return some(endpoints, lambda e: target_host(e) == host and _in_network(e, network, subnets))


@stack_policy(
    id="GCP-PSC-003",
    title="Model Armor is reachable from the VPC at its regional endpoint",
    severity="high",
    controls=["PE-02", "AI-05"],
    remediation="Add a regional Private Service Connect endpoint targeting "
    "modelarmor.<region>.rep.googleapis.com in the workload network, for the region of "
    "each Model Armor template (PrivateEndpoints does by default: regional_services "
    "includes 'modelarmor', with subnet_id and subnet_cidr of the workload subnet).",
)
def model_armor_regional_endpoint(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Model Armor answers template and screening calls only at
    modelarmor.<region>.rep.googleapis.com, which the Google API bundles do not serve:
    from a private network without a regional endpoint for it, every screening call
    fails with 404 Not Found and the workload cannot screen prompts and responses."""
    templates = of_type(resources, ARMOR_TEMPLATE)
    if not templates:
        raise NotApplicable("the stack creates no Model Armor template")
    networks = of_type(resources, NETWORK)
    if not networks:
        raise NotApplicable("the stack creates no VPC network")
    regions = sorted(
        {str(t.get("location")).lower() for t in templates if t.get("location") is not None}
    )
    endpoints = regional_endpoints(resources)
    subnets = of_type(resources, SUBNET)
    for region in regions:
        host = f"modelarmor.{region}.rep.googleapis.com"
        for network in networks:
            if not _reaches_host(host, network, endpoints, subnets):
                yield (
                    network,
                    f"{network.name} has no regional Private Service Connect endpoint for "
                    f"{host}: Model Armor calls from it get 404 Not Found",
                )
