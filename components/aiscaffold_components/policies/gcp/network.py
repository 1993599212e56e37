"""VPC networks: custom mode, private subnets with flow logs, firewall baseline, ports,
egress."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from typing import Any

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import of_type, refers_to, some

NETWORK = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
FIREWALL = "gcp:compute/firewall:Firewall"
ROUTE = "gcp:compute/route:Route"
NAT = "gcp:compute/routerNat:RouterNat"
INSTANCE_TYPES = (
    "gcp:compute/instance:Instance",
    "gcp:compute/instanceTemplate:InstanceTemplate",
    "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate",
)

ANYWHERE = ("0.0.0.0/0", "::/0")
ALL_METADATA = "INCLUDE_ALL_METADATA"
#: Flow log aggregation interval CIS GCP 3.8 asks for (also Google's default).
FLOW_INTERVAL = "INTERVAL_5_SEC"
#: The only port the workload's allow rules open: HTTPS to Google APIs, their Private
#: Service Connect endpoints and, when chosen, the internet.
HTTPS = "443"
#: SSH, open only from Identity-Aware Proxy: the tunnel to a Workbench instance (see
#: ``aiscaffold_components.gcp.vertex``).
SSH = "22"
#: IANA protocol numbers the firewall accepts in place of names.
_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp"}

#: Google API ranges reached through Private Google Access (restricted and private
#: googleapis.com): public addresses that never leave Google's network.
GOOGLE_API_RANGES = tuple(ipaddress.ip_network(r) for r in ("199.36.153.4/30", "199.36.153.8/30"))
#: Google front ends that reach instances without being the internet: Identity-Aware
#: Proxy TCP forwarding and load balancer health checks.
GOOGLE_SOURCE_RANGES = tuple(
    ipaddress.ip_network(r) for r in ("35.235.240.0/20", "130.211.0.0/22", "35.191.0.0/16")
)
#: Identity-Aware Proxy's TCP forwarding range.
IAP_RANGE = ipaddress.ip_network("35.235.240.0/20")
#: Subnet purposes that carry workloads (others, such as proxy-only subnets, take no
#: flow logs).
_WORKLOAD_PURPOSES = (None, "PRIVATE", "PRIVATE_RFC_1918")


def _network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return None


def _within(
    cidr: ipaddress.IPv4Network | ipaddress.IPv6Network,
    ranges: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> bool:
    return any(cidr.version == r.version and cidr.subnet_of(r) for r in ranges)  # type: ignore[arg-type]


def _is_private(cidr: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return cidr.is_private and cidr.prefixlen > 0


def _direction(resource: Resource) -> str:
    return str(resource.get("direction", default="INGRESS")).upper()


@resource_policy(
    id="GCP-NET-001",
    title="VPC networks are custom mode",
    severity="high",
    types=[NETWORK],
    controls=["NET-01"],
    remediation="Create the network with auto_create_subnetworks=False and add only the "
    "subnets the workload needs (the Network component does).",
)
def custom_mode(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """An auto-mode network creates a subnet in every region, with Google's default
    ranges: the workload's network holds only the subnets it declares."""
    if resource.get("autoCreateSubnetworks", default=True) is not False:
        yield f"{resource.name} is an auto-mode network (a subnet in every region)"


@resource_policy(
    id="GCP-NET-002",
    title="The default internet route is deleted",
    severity="medium",
    types=[NETWORK],
    controls=["NET-01", "NET-03"],
    remediation="Create the network with delete_default_routes_on_create=True; add a "
    "default route only together with Cloud NAT when internet egress is chosen.",
)
def no_default_route(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A new VPC gets a route to the internet gateway for 0.0.0.0/0; the workload's
    network deletes it at creation, so nothing reaches the internet by default."""
    if resource.get("deleteDefaultRoutesOnCreate", default=False) is not True:
        yield f"{resource.name} keeps the default route to the internet gateway"


@resource_policy(
    id="GCP-NET-003",
    title="Subnets reach Google APIs privately",
    severity="medium",
    types=[SUBNET],
    controls=["PE-02"],
    remediation="Set private_ip_google_access=True on the subnet.",
)
def private_google_access(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Instances without external addresses reach Google APIs (keys, secrets, storage,
    logging) only with Private Google Access on their subnet."""
    if resource.get("purpose") not in _WORKLOAD_PURPOSES:
        raise NotApplicable(f"a {resource.get('purpose')} subnet runs no workload")
    if resource.get("privateIpGoogleAccess", default=False) is not True:
        yield f"{resource.name} has no Private Google Access"


@resource_policy(
    id="GCP-NET-004",
    title="Subnets record flow logs with all metadata every 5 seconds",
    severity="medium",
    types=[SUBNET],
    controls=["NET-04"],
    remediation="Set the subnet's log_config (metadata INCLUDE_ALL_METADATA, "
    "aggregation_interval INTERVAL_5_SEC, no filter expression).",
)
def subnet_flow_logs(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Flow logs record accepted and rejected connections of the subnet with every
    metadata field, unfiltered, aggregated over 5 seconds (CIS GCP 3.8): a longer
    interval merges the flows of up to 15 minutes into one entry, blurring when a
    connection happened and how short-lived it was."""
    if resource.get("purpose") not in _WORKLOAD_PURPOSES:
        raise NotApplicable(f"a {resource.get('purpose')} subnet takes no flow logs")
    if resource.get("logConfig") is None:
        yield f"{resource.name} records no flow logs"
        return
    metadata = resource.get("logConfig", "metadata", default=ALL_METADATA)
    if metadata != ALL_METADATA:
        yield f"{resource.name} flow logs record {metadata}, not all metadata"
    interval = resource.get("logConfig", "aggregationInterval", default=FLOW_INTERVAL)
    if interval != FLOW_INTERVAL:
        yield f"{resource.name} flow logs aggregate over {interval}, not {FLOW_INTERVAL}"
    expression = resource.get("logConfig", "filterExpr", default="true")
    if str(expression).strip() != "true":
        yield f"{resource.name} flow logs keep only flows matching {expression!r}"


@resource_policy(
    id="GCP-NET-005",
    title="Flow logs sample at the profile's rate",
    severity="medium",
    types=[SUBNET],
    controls=["NET-04"],
    remediation="Set log_config.flow_sampling to the profile's flow_log_sampling "
    "(Network(flow_log_sampling=profile.flow_log_sampling)).",
)
def flow_log_sampling(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The share of flows recorded is at least the profile's `flow_log_sampling`
    (Google's default is 0.5)."""
    if resource.get("logConfig") is None:
        raise NotApplicable("no flow logs (GCP-NET-004 reports it)")
    required = float(requirements.setting("flow_log_sampling"))
    sampling = float(resource.get("logConfig", "flowSampling", default=0.5))
    if sampling < required:
        yield f"{resource.name} samples {sampling:g} of flows; the profile requires {required:g}"


@resource_policy(
    id="GCP-NET-006",
    title="No firewall rule admits traffic from the internet",
    severity="critical",
    types=[FIREWALL],
    controls=["NET-01", "NET-02"],
    remediation="Remove the ingress allow rule, or limit its source ranges to private "
    "ranges, Identity-Aware Proxy (35.235.240.0/20) or Google health checks.",
)
def no_internet_ingress(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Ingress allow rules admit only private ranges and Google's own front ends
    (Identity-Aware Proxy, health checks); a rule without a source admits everyone."""
    if _direction(resource) != "INGRESS" or not resource.items("allows"):
        raise NotApplicable("not an ingress allow rule")
    if resource.get("disabled") is True:
        raise NotApplicable("the rule is disabled")
    ranges = [str(r) for r in resource.items("sourceRanges")]
    if (
        not ranges
        and not resource.items("sourceTags")
        and not resource.items("sourceServiceAccounts")
    ):
        ranges = ["0.0.0.0/0"]
    for text in ranges:
        cidr = _network(text)
        if cidr is None or (not _is_private(cidr) and not _within(cidr, GOOGLE_SOURCE_RANGES)):
            yield f"{resource.name} allows ingress from {text}"


@resource_policy(
    id="GCP-NET-007",
    title="Egress reaches public addresses beyond Google's APIs only when chosen",
    severity="high",
    types=[FIREWALL],
    controls=["NET-03"],
    remediation="Allow egress to public addresses only to Google's API ranges "
    "(199.36.153.4/30), or to the internet (0.0.0.0/0) with allow_internet_egress "
    "answered true.",
)
def restricted_egress(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Egress allow rules to public addresses beyond Google's API ranges exist only when
    the project answered `allow_internet_egress`. Private destinations are the VPC's
    own business; which ports any allow rule opens is GCP-NET-014's."""
    if _direction(resource) != "EGRESS" or not resource.items("allows"):
        raise NotApplicable("not an egress allow rule")
    if resource.get("disabled") is True:
        raise NotApplicable("the rule is disabled")
    ranges = [str(r) for r in resource.items("destinationRanges")] or ["0.0.0.0/0"]
    internet = [
        r
        for r in ranges
        if (c := _network(r)) is None or not (_is_private(c) or _within(c, GOOGLE_API_RANGES))
    ]
    if internet and not requirements.allow_internet_egress:
        yield (
            f"{resource.name} allows egress to {', '.join(internet)}, but the project did not "
            "choose internet egress"
        )


@resource_policy(
    id="GCP-NET-008",
    title="Firewall rules log every match with metadata",
    severity="medium",
    types=[FIREWALL],
    controls=["NET-04"],
    remediation="Set log_config with metadata INCLUDE_ALL_METADATA on every firewall rule.",
)
def firewall_logging(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Every firewall rule logs the connections it allows or denies, with metadata, so
    rejected traffic is visible too."""
    if resource.get("logConfig") is None:
        yield f"{resource.name} does not log its matches"
    elif resource.get("logConfig", "metadata") != ALL_METADATA:
        yield f"{resource.name} logs matches without all metadata"


def _deny_all(rule: Resource, direction: str) -> bool:
    if _direction(rule) != direction or rule.get("disabled") is True:
        return False
    if rule.items("targetTags") or rule.items("targetServiceAccounts"):
        return False
    if not some(rule.items("denies"), lambda d: str(d.get("protocol", "")).lower() == "all"):
        return False
    key = "sourceRanges" if direction == "INGRESS" else "destinationRanges"
    ranges = [str(r) for r in rule.items(key)] or (["0.0.0.0/0"] if direction == "EGRESS" else [])
    return "0.0.0.0/0" in ranges


def _denies_all(network: Resource, direction: str, firewalls: Sequence[Resource]) -> bool:
    """Whether one of ``firewalls`` is a deny-all rule of ``network`` in ``direction``."""
    return some(
        firewalls, lambda f: refers_to(f.get("network"), network) and _deny_all(f, direction)
    )


@stack_policy(
    id="GCP-NET-009",
    title="Every VPC network has a deny-all firewall baseline",
    severity="high",
    controls=["NET-02"],
    remediation="Add enabled firewall rules denying all protocols from and to 0.0.0.0/0 on "
    "every network, at a priority number above the allow rules (the Network component "
    "uses 65000).",
)
def deny_all_baseline(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Each network denies all ingress and all egress by explicit, logged rules that
    apply to every instance; Google's implied rules allow all egress otherwise, and
    only the ports the workload needs are opened above the baseline."""
    networks = of_type(resources, NETWORK)
    if not networks:
        raise NotApplicable("the stack creates no VPC network")
    firewalls = of_type(resources, FIREWALL)
    for network in networks:
        for direction in ("INGRESS", "EGRESS"):
            if not _denies_all(network, direction, firewalls):
                yield network, f"{network.name} has no deny-all {direction.lower()} rule"


@resource_policy(
    id="GCP-NET-010",
    title="No route to the internet unless internet egress is chosen",
    severity="high",
    types=[ROUTE],
    controls=["NET-03"],
    remediation="Remove the default route to default-internet-gateway, or answer "
    "allow_internet_egress (which also adds Cloud NAT and an HTTPS-only egress rule).",
)
def no_internet_route(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A default route to the internet gateway exists only when the project chose
    internet egress; routes to Google's API ranges are private access."""
    destination = resource.get("destRange")
    gateway = str(resource.get("nextHopGateway", default=""))
    if destination not in ANYWHERE or not gateway.endswith("default-internet-gateway"):
        raise NotApplicable("not a default route to the internet gateway")
    if requirements.allow_internet_egress:
        raise NotApplicable("internet egress was chosen (allow_internet_egress)")
    yield f"{resource.name} routes {destination} to the internet gateway"


@resource_policy(
    id="GCP-NET-011",
    title="Cloud NAT exists only when internet egress is chosen, and logs everything",
    severity="high",
    types=[NAT],
    controls=["NET-03"],
    remediation="Remove the Cloud NAT gateway, or answer allow_internet_egress; keep "
    "log_config enabled with filter ALL.",
)
def nat_only_when_chosen(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Cloud NAT gives private instances a way to the internet: only with
    `allow_internet_egress`, and then every translation is logged."""
    if not requirements.allow_internet_egress:
        yield f"{resource.name} gives the network internet egress the project did not choose"
    if resource.get("logConfig", "enable") is not True:
        yield f"{resource.name} does not log translations"
    elif resource.get("logConfig", "filter", default="ALL") != "ALL":
        yield f"{resource.name} logs only {resource.get('logConfig', 'filter')} translations"


@resource_policy(
    id="GCP-NET-012",
    title="VM instances have no external IP address",
    severity="high",
    types=INSTANCE_TYPES,
    controls=["NET-01"],
    remediation="Remove access_configs and ipv6_access_configs from the network "
    "interfaces; reach the internet, if at all, through Cloud NAT.",
)
def no_external_ip(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Instances sit in private subnets only: no network interface has an external IPv4
    or IPv6 access configuration."""
    for index, interface in enumerate(resource.items("networkInterfaces")):
        if interface.get("accessConfigs") or interface.get("ipv6AccessConfigs"):
            yield f"{resource.name} network interface {index} has an external IP"


@resource_policy(
    id="GCP-NET-013",
    title="Subnets hand out no external IPv6 addresses",
    severity="high",
    types=[SUBNET],
    controls=["NET-01"],
    remediation="Keep the subnet IPV4_ONLY, or give it INTERNAL IPv6 access only.",
)
def no_external_ipv6(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A dual-stack subnet with EXTERNAL IPv6 access gives instances internet-routable
    addresses; the workload's subnets are IPv4 only or internal IPv6."""
    if str(resource.get("ipv6AccessType", default="")).upper() == "EXTERNAL":
        yield f"{resource.name} gives instances external IPv6 addresses"


def _iap_only(resource: Resource) -> bool:
    """Whether an ingress rule admits Identity-Aware Proxy's range and nothing else."""
    if resource.items("sourceTags") or resource.items("sourceServiceAccounts"):
        return False
    ranges = [_network(r) for r in resource.items("sourceRanges")]
    return bool(ranges) and all(c is not None and _within(c, [IAP_RANGE]) for c in ranges)


@resource_policy(
    id="GCP-NET-014",
    title="Firewall allow rules open only HTTPS",
    severity="high",
    types=[FIREWALL],
    controls=["NET-02", "NET-05"],
    remediation="Allow protocol tcp with ports ['443'] only, in each allow block of the "
    "rule (the Network and PrivateEndpoints components do); never 'all', another protocol, "
    "a missing port list or a port range. The one exception is the Workbench tunnel: "
    "ingress tcp:22 from Identity-Aware Proxy (35.235.240.0/20) alone.",
)
def https_only(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Every enabled allow rule, in either direction and to any destination (Google's
    API ranges, the Private Service Connect endpoints, the internet), opens tcp:443
    and nothing else: the workload talks only HTTPS, so a wider rule opens ports nobody
    needs past the deny-all baseline, in clear text. An ingress rule from
    Identity-Aware Proxy alone may also open tcp:22, the SSH tunnel to a Workbench
    instance."""
    if not resource.items("allows"):
        raise NotApplicable("not an allow rule")
    if resource.get("disabled") is True:
        raise NotApplicable("the rule is disabled")
    for allow in resource.items("allows"):
        raw = str(allow.get("protocol", "")).lower()
        protocol = _PROTOCOL_NAMES.get(raw, raw)
        ports = [str(p) for p in allow.get("ports") or []]
        if protocol == "tcp" and ports and set(ports) <= {HTTPS}:
            continue
        # the sources matter only for SSH: an unknown source range of an HTTPS rule is fine
        tunnel = _direction(resource) == "INGRESS" and _iap_only(resource)
        if tunnel and protocol == "tcp" and ports and set(ports) <= {HTTPS, SSH}:
            continue
        shown = protocol or "no protocol"
        what = f"{shown}:{','.join(ports)}" if ports else f"{shown} (all ports)"
        only = "tcp:443 or tcp:22" if tunnel else "tcp:443"
        yield f"{resource.name} allows {what}; only {only}"
