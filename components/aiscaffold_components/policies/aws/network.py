"""EC2 networking: private subnets, no path to or from the internet unless chosen, flow logs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from .._core import (
    Addition,
    NotApplicable,
    Requirements,
    Resource,
    resource_policy,
    stack_policy,
)
from ._util import as_list, is_internet, of_type

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
INSTANCE = "aws:ec2/instance:Instance"
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
INTERNET_PATH = {
    "aws:ec2/internetGateway:InternetGateway": "internet gateway",
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway": "egress-only internet gateway",
    "aws:ec2/natGateway:NatGateway": "NAT gateway",
    "aws:ec2/eip:Eip": "Elastic IP address",
}
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLES = ("aws:ec2/routeTable:RouteTable", "aws:ec2/defaultRouteTable:DefaultRouteTable")
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
DEFAULT_NETWORK_ACL = "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
NETWORK_ACL = "aws:ec2/networkAcl:NetworkAcl"
NETWORK_ACL_RULE = "aws:ec2/networkAclRule:NetworkAclRule"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"

HTTPS = 443
#: The lowest ephemeral port: replies to the workload's own connections arrive above it.
EPHEMERAL = 1024
#: Remote administration ports (SSH, RDP) no rule may admit from the internet (CIS 5.1,
#: Security Hub EC2.21).
ADMINISTRATION_PORTS = (22, 3389)

# What the absence checks below forbid, added to a project to prove them live on it.
_IGW = "igw-0123456789abcdef0"
_DEFAULT_ROUTE = {"cidrBlock": "0.0.0.0/0", "gatewayId": _IGW}
_OPEN_RULE = {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}


@resource_policy(
    id="AWS-EC2-001",
    title="No internet gateway, NAT or public address unless egress is chosen",
    severity="high",
    types=list(INTERNET_PATH),
    controls=["NET-01", "NET-03"],
    remediation="Remove the resource, or answer allow_internet_egress=true (Network "
    "allow_internet_egress), which records the choice in policy/enforcement.yaml.",
    live_when=[
        Addition(
            "aws:ec2/internetGateway:InternetGateway",
            "an internet gateway",
            inputs={"vpcId": "vpc-0123456789abcdef0"},
        ),
        Addition(
            "aws:ec2/natGateway:NatGateway",
            "a NAT gateway",
            name="liveness-added-nat",
            inputs={"subnetId": "subnet-0123456789abcdef0", "connectivityType": "public"},
        ),
    ],
)
def internet_path(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Internet gateways, NAT gateways and Elastic IPs exist only when the project chose
    internet egress; otherwise the network has no path to or from the internet."""
    if requirements.allow_internet_egress:
        raise NotApplicable("internet egress was chosen (allow_internet_egress)")
    yield f"{resource.name} is an {INTERNET_PATH[resource.type]}, and internet egress was not chosen"


@resource_policy(
    id="AWS-EC2-002",
    title="No public IP addresses or internet-facing load balancers",
    severity="high",
    types=[SUBNET, INSTANCE, *LOAD_BALANCERS],
    controls=["NET-01"],
    remediation="Set map_public_ip_on_launch and assign_ipv6_address_on_creation to False on "
    "subnets, associate_public_ip_address=False on instances, internal=True on load balancers.",
)
def no_public_addresses(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Nothing gets a public address: subnets do not assign public IPv4 or IPv6 addresses,
    instances take none, load balancers are internal."""
    if resource.type == SUBNET:
        for key in (
            "mapPublicIpOnLaunch",
            "assignIpv6AddressOnCreation",
            "mapCustomerOwnedIpOnLaunch",
        ):
            if resource.get(key) is True:
                yield f"{resource.name} sets {key}: instances launched there are reachable"
    elif resource.type == INSTANCE:
        if resource.get("associatePublicIpAddress") is True:
            yield f"{resource.name} has a public IP address"
    elif resource.get("internal") is not True:
        yield f"{resource.name} is an internet-facing load balancer"


def _routes(resource: Resource) -> list[Mapping[str, Any]]:
    if resource.type == ROUTE:
        return [resource.props]
    return [r for r in resource.items("routes") if isinstance(r, Mapping)]


@resource_policy(
    id="AWS-EC2-003",
    title="No route to the internet unless egress is chosen",
    severity="high",
    types=[ROUTE, *ROUTE_TABLES],
    controls=["NET-03"],
    remediation="Remove default routes (0.0.0.0/0, ::/0) or answer allow_internet_egress=true.",
    live_when=[
        Addition(
            ROUTE,
            "a default route to an internet gateway",
            inputs={
                "routeTableId": "rtb-0123456789abcdef0",
                "destinationCidrBlock": "0.0.0.0/0",
                "gatewayId": _IGW,
            },
        ),
        Addition(
            "aws:ec2/defaultRouteTable:DefaultRouteTable",
            "a default route to an internet gateway in the main route table",
            path="routes",
            entry=_DEFAULT_ROUTE,
        ),
        Addition(
            "aws:ec2/routeTable:RouteTable",
            "a default route to an internet gateway",
            path="routes",
            entry=_DEFAULT_ROUTE,
        ),
    ],
)
def no_internet_routes(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Route tables send nothing beyond the VPC (the S3 gateway endpoint adds its own
    prefix-list routes) unless the project chose internet egress."""
    if requirements.allow_internet_egress:
        raise NotApplicable("internet egress was chosen (allow_internet_egress)")
    for route in _routes(resource):
        for key in (
            "destinationCidrBlock",
            "cidrBlock",
            "destinationIpv6CidrBlock",
            "ipv6CidrBlock",
        ):
            if is_internet(route.get(key)):
                yield f"{resource.name} routes {route.get(key)} out of the VPC"


def _rules_of(resource: Resource) -> list[str]:
    return [key for key in ("ingress", "egress") if resource.items(key)]


@resource_policy(
    id="AWS-EC2-004",
    title="Default security group has no rules",
    severity="medium",
    types=[DEFAULT_SECURITY_GROUP],
    controls=["NET-02"],
    remediation="Adopt the default security group with ingress=[] and egress=[] (Network does).",
    live_when=[
        Addition(
            DEFAULT_SECURITY_GROUP,
            "an allow-all ingress rule in the default security group",
            path="ingress",
            entry=_OPEN_RULE,
        )
    ],
)
def default_security_group(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The VPC's default security group (what anything placed without a group gets) allows
    nothing. Adopting it without rules removes AWS's defaults."""
    for key in _rules_of(resource):
        yield f"{resource.name} keeps {key} rules in the default security group"


@resource_policy(
    id="AWS-EC2-005",
    title="Default network ACL has no rules",
    severity="medium",
    types=[DEFAULT_NETWORK_ACL],
    controls=["NET-02"],
    remediation="Adopt the default network ACL with ingress=[] and egress=[] (Network does).",
    live_when=[
        Addition(
            DEFAULT_NETWORK_ACL,
            "an allow-all ingress rule in the default network ACL",
            path="ingress",
            entry={**_OPEN_RULE, "action": "allow", "ruleNo": 100, "cidrBlock": "0.0.0.0/0"},
        )
    ],
)
def default_network_acl(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The VPC's default network ACL (what a subnet without its own ACL gets) allows
    nothing."""
    for key in _rules_of(resource):
        yield f"{resource.name} keeps {key} rules in the default network ACL"


def _sg_rules(resource: Resource, direction: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(CIDR, rule) for each address range a security group rule names in ``direction``."""
    if resource.type in (INGRESS_RULE, EGRESS_RULE):
        if (resource.type == INGRESS_RULE) == (direction == "ingress"):
            for key in ("cidrIpv4", "cidrIpv6"):
                if resource.get(key):
                    yield resource.get(key), resource.props
    elif resource.type == SG_RULE:
        if resource.get("type") == direction:
            for cidr in [*resource.items("cidrBlocks"), *resource.items("ipv6CidrBlocks")]:
                yield cidr, resource.props
    else:
        for rule in resource.items(direction):
            for cidr in [*as_list(rule.get("cidrBlocks")), *as_list(rule.get("ipv6CidrBlocks"))]:
                yield cidr, rule


def _same_direction(resource: Resource, direction: str) -> None:
    """A rule resource of the other direction is not what a policy of ``direction``
    judges (reading its ``type`` is not judging it)."""
    if resource.type == SG_RULE and resource.get("type") != direction:
        raise NotApplicable(f"a {resource.get('type')} rule")


def _ports(rule: Mapping[str, Any]) -> tuple[str, float, float]:
    protocol = str(rule.get("ipProtocol") or rule.get("protocol") or "-1").lower()
    if protocol in ("-1", "all"):
        return "-1", 0, 65535
    return protocol, float(rule.get("fromPort") or 0), float(rule.get("toPort") or 65535)


@resource_policy(
    id="AWS-EC2-006",
    title="Security groups admit nothing from the internet",
    severity="critical",
    types=[SECURITY_GROUP, SG_RULE, INGRESS_RULE],
    controls=["NET-01", "NET-02"],
    remediation="Admit traffic from the VPC's range or from other security groups only.",
)
def no_internet_ingress(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """No security group rule admits traffic from 0.0.0.0/0, ::/0 or any other public
    range: inbound traffic comes from inside the network."""
    _same_direction(resource, "ingress")
    for cidr, _ in _sg_rules(resource, "ingress"):
        if is_internet(cidr):
            yield f"{resource.name} admits traffic from {cidr}"


@resource_policy(
    id="AWS-EC2-007",
    title="Security groups reach the internet only over HTTPS, and only if egress is chosen",
    severity="high",
    types=[SECURITY_GROUP, SG_RULE, EGRESS_RULE],
    controls=["NET-03"],
    remediation="Send traffic to the VPC range, S3's prefix list or other groups; with "
    "allow_internet_egress, TCP 443 only.",
)
def restricted_egress(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Egress rules to public ranges exist only when internet egress was chosen, and then
    allow TCP 443 only."""
    _same_direction(resource, "egress")
    for cidr, rule in _sg_rules(resource, "egress"):
        if not is_internet(cidr):
            continue
        if not requirements.allow_internet_egress:
            yield f"{resource.name} allows traffic to {cidr}, and internet egress was not chosen"
            continue
        protocol, low, high = _ports(rule)
        if (protocol, low, high) != ("tcp", HTTPS, HTTPS):
            yield f"{resource.name} allows {protocol} ports {low:g}-{high:g} to {cidr}, not HTTPS only"


class Opening(NamedTuple):
    """A TCP port range the components open."""

    low: int
    high: int
    within_group: bool
    """Only between members of one group (the rule's peer is its own group)."""
    purpose: str


#: The only ranges the components open, whatever the peer (an address range, a prefix
#: list or a group), all TCP: no component opens UDP or all protocols.
OPENED_PORTS: tuple[Opening, ...] = (
    Opening(HTTPS, HTTPS, False, "HTTPS to the endpoints, S3 and, if chosen, the internet"),
    Opening(2049, 2049, False, "NFS to SageMaker Studio's home volume"),
    Opening(8192, 65535, True, "SageMaker Studio apps among themselves"),
)
_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "-1": "all", "all": "all"}


def _every_rule(resource: Resource) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(direction, rule) for every rule a security group resource defines."""
    if resource.type == INGRESS_RULE:
        yield "ingress", resource.props
    elif resource.type == EGRESS_RULE:
        yield "egress", resource.props
    elif resource.type == SG_RULE:
        yield str(resource.get("type", default="ingress")), resource.props
    else:
        for direction in ("ingress", "egress"):
            for rule in resource.items(direction):
                if isinstance(rule, Mapping):
                    yield direction, rule


def _within_itself(rule: Mapping[str, Any]) -> bool:
    """Whether the rule's peer is the rule's own group (``self``, or the group it belongs
    to named as the referenced or source group)."""
    if rule.get("self") is True:
        return True
    group = rule.get("securityGroupId")
    peer = rule.get("referencedSecurityGroupId") or rule.get("sourceSecurityGroupId")
    return isinstance(group, str) and bool(group) and peer == group


@resource_policy(
    id="AWS-EC2-012",
    title="Security group rules open only the ports the project uses",
    severity="high",
    types=[SECURITY_GROUP, SG_RULE, INGRESS_RULE, EGRESS_RULE],
    controls=["NET-02"],
    remediation="Narrow the rule to TCP 443 (HTTPS), TCP 2049 (NFS) or, within one group to "
    "itself, TCP 8192-65535 (SageMaker Studio apps); never all protocols. A port the "
    "workload really needs: record an override of AWS-EC2-012 in policy/enforcement.yaml "
    "(level advisory, and the reason), which reviewers see.",
)
def opened_ports(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Every security group rule, inbound or outbound and whatever its peer (inside the
    VPC too), names TCP and one of the ranges the components open: 443, 2049 for
    SageMaker Studio's NFS home volume, 8192-65535 only within a group to itself (Studio's
    apps). Never all protocols, another port, or a wider range."""
    for direction, rule in _every_rule(resource):
        raw = str(rule.get("ipProtocol") or rule.get("protocol") or "-1").lower()
        protocol = _PROTOCOL_NAMES.get(raw, raw)
        if protocol != "tcp":
            what = "every protocol" if protocol == "all" else protocol
            yield f"{resource.name} {direction} rule opens {what}: the project opens TCP only"
            continue
        low, high = rule.get("fromPort"), rule.get("toPort")
        ports = (int(low), int(high)) if low is not None and high is not None else None
        opened = next((o for o in OPENED_PORTS if ports == (o.low, o.high)), None)
        shown = f"{ports[0]}-{ports[1]}" if ports else "without a port range"
        if opened is None:
            allowed = ", ".join(
                f"{o.low}" if o.low == o.high else f"{o.low}-{o.high} within a group"
                for o in OPENED_PORTS
            )
            yield (
                f"{resource.name} {direction} rule opens TCP {shown}: the project opens "
                f"only TCP {allowed}"
            )
        elif opened.within_group and not _within_itself(rule):
            yield (
                f"{resource.name} {direction} rule opens TCP {shown} to another peer: that "
                f"range is only for {opened.purpose}, within their own group"
            )


def _acl_entries(resource: Resource, direction: str) -> Iterator[Mapping[str, Any]]:
    if resource.type == NETWORK_ACL_RULE:
        if bool(resource.get("egress")) == (direction == "egress"):
            yield resource.props
    else:
        yield from (r for r in resource.items(direction) if isinstance(r, Mapping))


@resource_policy(
    id="AWS-EC2-008",
    title="Network ACLs: replies in, HTTPS out, nothing else across the internet",
    severity="high",
    types=[NETWORK_ACL, NETWORK_ACL_RULE],
    controls=["NET-02"],
    remediation="Allow from public ranges only TCP 1024-3388 and 3390-65535 (replies, without "
    "RDP) inbound, and to public ranges only TCP 443 outbound.",
)
def network_acl(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Network ACLs allow, across the internet boundary, only replies to the workload's
    own connections inbound (TCP ephemeral ports, never the administration ports 22 and
    3389) and HTTPS outbound."""
    for direction in ("ingress", "egress"):
        for entry in _acl_entries(resource, direction):
            if str(entry.get("action") or entry.get("ruleAction", "")).lower() != "allow":
                continue
            cidr = entry.get("cidrBlock") or entry.get("ipv6CidrBlock")
            if not is_internet(cidr):
                continue
            protocol, low, high = _ports(entry)
            if protocol in ("6", "tcp"):
                protocol = "tcp"
            admin = [p for p in ADMINISTRATION_PORTS if low <= p <= high]
            if direction == "ingress" and (protocol != "tcp" or low < EPHEMERAL or admin):
                yield f"{resource.name} admits {protocol} ports {low:g}-{high:g} from {cidr}"
            if direction == "egress" and (protocol, low, high) != ("tcp", HTTPS, HTTPS):
                yield f"{resource.name} lets {protocol} ports {low:g}-{high:g} out to {cidr}"


@resource_policy(
    id="AWS-EC2-009",
    title="Flow logs capture all traffic to a destination",
    severity="medium",
    types=[FLOW_LOG],
    controls=["NET-04"],
    remediation='Set traffic_type="ALL" and a log_destination (Network does).',
)
def flow_log(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Flow logs record accepted and rejected traffic (``ALL``) and deliver it somewhere."""
    traffic = resource.get("trafficType")
    if traffic != "ALL":
        yield f"{resource.name} captures {traffic or 'no'} traffic, not ALL"
    destination_type = resource.get("logDestinationType", default="cloud-watch-logs")
    if not resource.get("logDestination") and not (
        destination_type == "cloud-watch-logs" and resource.get("logGroupName")
    ):
        yield f"{resource.name} has no log destination"


def _vpc_identity(vpc: Resource) -> str | None:
    value = vpc.get("id")
    return value if isinstance(value, str) and value else None


@stack_policy(
    id="AWS-EC2-010",
    title="Every VPC has flow logs",
    severity="medium",
    controls=["NET-04"],
    remediation="Add an aws.ec2.FlowLog for the VPC (Network creates one).",
)
def vpcs_have_flow_logs(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Every VPC of the stack has a flow log. Each VPC is matched by id where the view
    carries it; otherwise the stack needs as many VPCs with flow logs as it has VPCs."""
    vpcs = of_type(resources, VPC)
    logged = {
        log.get("vpcId")
        for log in of_type(resources, FLOW_LOG)
        if isinstance(log.get("vpcId"), str)
    }
    unidentified = []
    for vpc in vpcs:
        identity = _vpc_identity(vpc)
        if identity is None:
            unidentified.append(vpc)
        elif identity not in logged:
            yield vpc, f"{vpc.name} has no flow log"
    if unidentified and len(logged) < len(vpcs):
        names = ", ".join(v.name for v in unidentified)
        yield None, f"{len(vpcs)} VPCs ({names}) but flow logs for {len(logged)}"


@resource_policy(
    id="AWS-EC2-011",
    title="VPC DNS on for private endpoints",
    severity="medium",
    types=[VPC],
    controls=["PE-05"],
    remediation="Set enable_dns_support=True and enable_dns_hostnames=True (Network does).",
)
def vpc_dns(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """DNS support (on by default) and DNS hostnames are on: interface endpoints' private
    DNS names only resolve inside the VPC with both, otherwise clients fall back to
    public service addresses."""
    if resource.get("enableDnsSupport", default=True) is not True:
        yield f"{resource.name} turns DNS support off"
    if resource.get("enableDnsHostnames") is not True:
        yield f"{resource.name} has DNS hostnames off"
