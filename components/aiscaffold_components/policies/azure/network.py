"""Network isolation: private subnets, deny-by-default security groups in both
directions, no internet egress unless answered, VNet flow logs.

Security group rules are read from the group's ``securityRules`` and from separate
``SecurityRule`` resources of the same group. Azure's built-in rules allow traffic
within the VNet and outbound to the internet (priority 65000 and up): a group denies
the internet outbound only with an explicit rule.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import (
    AI_ACCOUNT,
    ENDPOINT,
    FLOW_LOG,
    INTERNET,
    NAT_GATEWAY,
    NSG,
    PUBLIC_IP,
    SECURITY_RULE,
    SUBNET,
    VNET,
    days,
    find,
    id_path,
    listed,
    name_of,
    of_type,
    ports,
    prefixes,
)

_HTTPS = "443"
_ENDPOINT_POLICIES = ("Enabled", "NetworkSecurityGroupEnabled")


def _lower(rule: Mapping[str, Any], key: str) -> str:
    return str(rule.get(key, "")).lower()


def _is_internet(prefix: str) -> bool:
    """Whether an address prefix or service tag includes internet addresses."""
    if prefix in INTERNET:
        return True
    try:
        network = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return False  # a service tag other than Internet (VirtualNetwork, AzureLoadBalancer)
    return not network.is_private


def _rules_of(resource: Resource) -> list[Mapping[str, Any]]:
    if resource.type == SECURITY_RULE:
        return [resource.props]
    return list(resource.items("securityRules"))


def _group_rules(group: Resource, resources: Sequence[Resource]) -> list[Mapping[str, Any]]:
    """The group's inline rules and the SecurityRule resources attached to it."""
    rules = _rules_of(group)
    name = name_of(group, "networkSecurityGroupName")
    for rule in of_type(resources, SECURITY_RULE):
        if name and name_of(rule, "networkSecurityGroupName") == name:
            rules.extend(_rules_of(rule))
    return rules


@resource_policy(
    id="AZURE-NET-001",
    title="Security groups admit no traffic from the internet",
    severity="critical",
    types=[NSG, SECURITY_RULE],
    controls=["NET-01"],
    remediation="Remove inbound Allow rules whose source is Internet, *, 0.0.0.0/0 or a "
    "public address range; allow only VirtualNetwork or private prefixes.",
)
def no_internet_inbound(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Nothing on the internet can open a connection to the workload or the private
    endpoints."""
    for rule in _rules_of(resource):
        if _lower(rule, "direction") != "inbound" or _lower(rule, "access") != "allow":
            continue
        sources = [p for p in prefixes(rule, "source") if _is_internet(p)]
        if sources or not prefixes(rule, "source"):
            yield f"rule {rule.get('name', '?')} allows inbound from {', '.join(sources) or 'any'}"


@stack_policy(
    id="AZURE-NET-002",
    title="Security groups end with an explicit deny-all inbound rule",
    severity="high",
    controls=["NET-02"],
    remediation="Add an inbound Deny rule from * to * on every protocol and port with a "
    "priority below 65000 (Network adds deny-all-inbound at 4096), so only the rules "
    "above it admit traffic, from inside the VNet too.",
)
def deny_all_inbound(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Azure's built-in rules admit all traffic from the VNet and the load balancer;
    an explicit deny-all makes the listed allow rules the only way in."""
    groups = of_type(resources, NSG)
    if not groups:
        raise NotApplicable("no network security groups")
    for group in groups:
        if not any(_is_deny_all(rule, "inbound") for rule in _group_rules(group, resources)):
            yield group, f"{group.name} has no explicit deny-all inbound rule"


@stack_policy(
    id="AZURE-NET-012",
    title="Security groups end with an explicit deny-all outbound rule",
    severity="high",
    controls=["NET-02"],
    remediation="Add an outbound Deny rule from * to * on every protocol and port with a "
    "priority below 65000, after the allow rules (Network adds deny-all-outbound at 4096), "
    "so a subnet reaches only the destinations and ports its rules list.",
)
def deny_all_outbound(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Azure's built-in AllowVnetOutBound lets a subnet reach every address of the VNet
    (and peered networks) on every port; an explicit deny-all makes the listed allow
    rules the only way out. Azure's DNS, DHCP and metadata addresses stay reachable:
    security groups do not filter them."""
    groups = of_type(resources, NSG)
    if not groups:
        raise NotApplicable("no network security groups")
    for group in groups:
        if not any(_is_deny_all(rule, "outbound") for rule in _group_rules(group, resources)):
            yield group, f"{group.name} has no explicit deny-all outbound rule"


def _is_deny_all(rule: Mapping[str, Any], direction: str) -> bool:
    return (
        _lower(rule, "direction") == direction
        and _lower(rule, "access") == "deny"
        and _lower(rule, "protocol") in ("*", "any")
        and "*" in ports(rule)
        and any(p in ("*", "any") for p in prefixes(rule, "source"))
        and any(p in ("*", "any") for p in prefixes(rule, "destination"))
        and rule.get("priority", 65500) < 65000
    )


@resource_policy(
    id="AZURE-NET-003",
    title="Allow rules name their protocol and ports",
    severity="medium",
    types=[NSG, SECURITY_RULE],
    controls=["NET-02"],
    remediation="Give each Allow rule a protocol (Tcp, Udp) and the destination ports the "
    "workload needs (443), never * .",
)
def narrow_allow_rules(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Only the ports the workload needs are opened; an allow rule for every protocol or
    port opens everything between its endpoints."""
    for rule in _rules_of(resource):
        if _lower(rule, "access") != "allow":
            continue
        if _lower(rule, "protocol") in ("*", "any", ""):
            yield f"rule {rule.get('name', '?')} allows every protocol"
        if not ports(rule) or "*" in ports(rule) or "0-65535" in ports(rule):
            yield f"rule {rule.get('name', '?')} allows every port"


@stack_policy(
    id="AZURE-NET-004",
    title="No outbound internet traffic unless egress is answered, then HTTPS only",
    severity="high",
    controls=["NET-03"],
    remediation="Add an outbound Deny rule to Internet (priority below 65000) to every "
    "security group; allow outbound to the internet only with allow_internet_egress, and "
    "then only TCP 443.",
)
def internet_egress(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Azure allows outbound internet traffic by default (AllowInternetOutBound); every
    group denies it explicitly, and allows HTTPS out only when the project answered
    `allow_internet_egress`."""
    groups = of_type(resources, NSG)
    if not groups:
        raise NotApplicable("no network security groups")
    for group in groups:
        rules = _group_rules(group, resources)
        denied = any(
            _lower(r, "direction") == "outbound"
            and _lower(r, "access") == "deny"
            and any(p in ("internet", "*", "any", "0.0.0.0/0") for p in prefixes(r, "destination"))
            and "*" in ports(r)
            and _lower(r, "protocol") in ("*", "any")
            and r.get("priority", 65500) < 65000
            for r in rules
        )
        if not denied:
            yield group, f"{group.name} does not deny outbound traffic to the internet"
        for rule in rules:
            if _lower(rule, "direction") != "outbound" or _lower(rule, "access") != "allow":
                continue
            targets = [p for p in prefixes(rule, "destination") if _is_internet(p)]
            if not targets and prefixes(rule, "destination"):
                continue
            label = f"{group.name} rule {rule.get('name', '?')}"
            if not requirements.allow_internet_egress:
                yield group, f"{label} allows outbound to the internet"
            elif _lower(rule, "protocol") != "tcp" or ports(rule) != [_HTTPS]:
                yield group, f"{label} allows more than HTTPS (TCP 443) to the internet"


def _subnets(resource: Resource) -> list[tuple[str, Mapping[str, Any]]]:
    if resource.type == SUBNET:
        return [(resource.name, resource.props)]
    return [(str(s.get("name", "?")), s) for s in resource.items("subnets")]


@resource_policy(
    id="AZURE-NET-005",
    title="Subnets have a security group and no default outbound access",
    severity="high",
    types=[SUBNET, VNET],
    controls=["NET-01", "NET-02"],
    remediation="Set defaultOutboundAccess false and attach a network security group to "
    "every subnet (Network does).",
)
def private_subnets(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Without these a subnet's machines reach the internet through Azure's implicit
    outbound address, and nothing filters their traffic."""
    for name, subnet in _subnets(resource):
        if subnet.get("defaultOutboundAccess") is not False:
            yield f"subnet {name} has default outbound internet access"
        group = subnet.get("networkSecurityGroup") or {}
        if not group.get("id"):
            yield f"subnet {name} has no network security group"


@resource_policy(
    id="AZURE-NET-006",
    title="No NAT gateway or public IP unless internet egress is answered",
    severity="high",
    types=[NAT_GATEWAY, PUBLIC_IP, SUBNET],
    controls=["NET-03", "NET-01"],
    remediation="Remove the NAT gateway and public IP, or answer allow_internet_egress "
    "(aiscaffold update --data allow_internet_egress=true) so the weakening is recorded.",
)
def no_egress_path(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A NAT gateway with a public IP is a route to the internet; the project has one
    only when the team chose internet egress."""
    if requirements.allow_internet_egress:
        raise NotApplicable("the project answered allow_internet_egress")
    if resource.type == SUBNET:
        if (resource.get("natGateway") or {}).get("id"):
            yield "the subnet routes to the internet through a NAT gateway"
    elif resource.type == NAT_GATEWAY:
        yield "a NAT gateway gives the network internet egress"
    else:
        yield "a public IP address exists in a project without internet egress"


@stack_policy(
    id="AZURE-NET-007",
    title="Every virtual network has an enabled flow log",
    severity="high",
    controls=["NET-04"],
    remediation="Create a VNet flow log for each VNet (AuditLogging(flow_logs="
    "FlowLogArgs(vnet_id=network.vnet_id))); NSG flow logs are retired.",
)
def vnet_flow_logs(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Accepted and denied flows of the whole network are recorded for investigation."""
    vnets = of_type(resources, VNET)
    if not vnets:
        raise NotApplicable("no virtual networks")
    logs = [f for f in of_type(resources, FLOW_LOG) if f.get("enabled") is not False]
    for vnet in vnets:
        if not any(find(f.get("targetResourceId"), [vnet]) for f in logs):
            yield vnet, f"{vnet.name} has no enabled flow log"


@resource_policy(
    id="AZURE-NET-008",
    title="Flow logs are kept for the profile's retention",
    severity="medium",
    types=[FLOW_LOG],
    controls=["LOG-04"],
    remediation="Set retentionPolicy {enabled: true, days: log_retention_days} (up to 365), "
    "or disable it and let the account's lifecycle rule expire the logs.",
)
def flow_log_retention(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A flow log's own retention deletes records after its days (0 keeps them); it
    must not delete them before the profile's retention ends."""
    required = requirements.setting("log_retention_days")
    policy = resource.get("retentionPolicy") or {}
    kept = policy.get("days", 0) or 0
    if policy.get("enabled") is True and 0 < kept < required:
        yield f"flow records are deleted after {days(kept)}; {days(required)} required"


@resource_policy(
    id="AZURE-NET-009",
    title="Flow logs capture every flow in version 2, written by a managed identity",
    severity="medium",
    types=[FLOW_LOG],
    controls=["NET-04"],
    remediation="Set enabled true, format {type: JSON, version: 2} and a user-assigned "
    "identity holding Storage Blob Data Contributor on the log account (AuditLogging does).",
)
def flow_log_config(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Version 2 records byte and packet counts per flow; the log account takes no shared
    keys, so Network Watcher writes as the flow log's managed identity."""
    if resource.get("enabled") is not True:
        yield "the flow log is not enabled"
    if resource.get("format", "version") != 2:
        yield "the flow log format is not version 2"
    identity_type = str(resource.get("identity", "type", default=""))
    if "UserAssigned" not in identity_type or not listed(
        resource.get("identity", "userAssignedIdentities")
    ):
        yield "no user-assigned identity writes the flow log (the account takes no keys)"


@resource_policy(
    id="AZURE-NET-010",
    title="Traffic analytics process the flow logs into Log Analytics",
    severity="low",
    types=[FLOW_LOG],
    controls=["NET-04"],
    remediation="Enable flowAnalyticsConfiguration.networkWatcherFlowAnalyticsConfiguration "
    "with the workspace's resource id (FlowLogArgs(traffic_analytics=True)).",
)
def traffic_analytics(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Flows land where the other logs are queried and alerted on, not only as blobs."""
    config = resource.get("flowAnalyticsConfiguration", "networkWatcherFlowAnalyticsConfiguration")
    if not config or config.get("enabled") is not True:
        yield "traffic analytics are off"
    elif not config.get("workspaceResourceId"):
        yield "traffic analytics name no Log Analytics workspace"


@stack_policy(
    id="AZURE-NET-011",
    title="Security groups apply to the private endpoints",
    severity="medium",
    controls=["NET-02"],
    remediation="Set privateEndpointNetworkPolicies Enabled on every subnet that holds "
    "private endpoints (Network does on its private-endpoint subnet).",
)
def endpoint_subnet_policies(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Azure skips security group rules for private endpoints unless the subnet enables
    network policies for them; then only the workload subnet reaches the endpoints."""
    endpoints = of_type(resources, ENDPOINT)
    if not endpoints:
        raise NotApplicable("no private endpoints")
    subnets = of_type(resources, SUBNET)
    hosting: list[Resource] = []
    for endpoint in endpoints:
        subnet_id = endpoint.get("subnet", "id")
        found = find(subnet_id, subnets)
        if found is None and isinstance(subnet_id, str):
            # An id of the form .../subnets/<name> without its VNet still names a subnet.
            tail = id_path(subnet_id)[-1:]
            found = next(
                (s for s in subnets if tail and tail[0] == ("subnets", name_of(s, "subnetName"))),
                None,
            )
        if found is not None and found not in hosting:
            hosting.append(found)
    for subnet in hosting:
        if subnet.get("privateEndpointNetworkPolicies") not in _ENDPOINT_POLICIES:
            yield (
                subnet,
                f"{subnet.name} holds private endpoints but does not apply its security "
                "group to them (privateEndpointNetworkPolicies)",
            )


# ------------------------------------------------------------------ workload segments
#: Subnets that hold one workload type each (NET-07): ``workload`` is inference's.
_SEGMENT_SUBNETS = {"workload": "inference", "training": "training",
                    "data-processing": "data-processing"}  # fmt: skip
_ENDPOINT_SUBNET = "private-endpoints"


def _covers(spec: str, prefix: str) -> bool:
    """Whether a rule's address spec includes the subnet ``prefix``."""
    if spec in ("*", "any", "virtualnetwork"):
        return True
    try:
        return ipaddress.ip_network(prefix, strict=False).subnet_of(
            ipaddress.ip_network(spec, strict=False)  # type: ignore[arg-type]
        )
    except (ValueError, TypeError):
        return False  # another service tag (Internet, AzureLoadBalancer ...)


def _decision(rules: Sequence[Mapping[str, Any]], direction: str, src: str, dst: str) -> bool:
    """Whether a group lets some traffic from subnet ``src`` to subnet ``dst`` pass in
    ``direction``: rules apply by priority, the first matching one decides; an Allow
    matching on some port lets that port through, a Deny stops everything only when it
    covers every protocol and port. Past the rules, Azure's default AllowVnetInBound /
    AllowVnetOutBound (65000) let VNet traffic through
    (https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#default-security-rules)."""
    ordered = sorted(
        (r for r in rules if _lower(r, "direction") == direction.lower()),
        key=lambda r: float(r.get("priority") or 65000),
    )
    for rule in ordered:
        if not any(_covers(s, src) for s in prefixes(rule, "source")):
            continue
        if not any(_covers(d, dst) for d in prefixes(rule, "destination")):
            continue
        if _lower(rule, "access") == "allow":
            return True
        if _lower(rule, "protocol") in ("*", "") and "*" in ports(rule):
            return False
    return True


@stack_policy(
    id="AZURE-NET-013",
    title="Workload segments reach each other only through the listed flows",
    severity="high",
    controls=["NET-07"],
    remediation="Give each chosen workload type beyond inference its own subnet and "
    "security group (Network(workload_segments=...)); let a segment send only the flows "
    "SEGMENT_FLOWS lists (HTTPS to the private endpoints) and end its rules with deny-all "
    "in both directions.",
)
def segment_isolation(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A compromised training or data-processing job cannot reach the inference
    workload, nor the other way round: between two segments a flow needs the source
    group's outbound and the destination group's inbound rules to allow it, and no
    pair of segments has both. Each chosen workload type has its segment."""
    if not of_type(resources, AI_ACCOUNT):
        raise NotApplicable("no AI account: not the workload's stack (e.g. the state backend)")
    subnets = of_type(resources, SUBNET)
    by_name = {name_of(s, "subnetName"): s for s in subnets}
    segments = {n: s for n, s in by_name.items() if n in _SEGMENT_SUBNETS}
    wanted = [w for w in requirements.workloads if w != "inference"]
    if len(segments) < 2 and not wanted:
        raise NotApplicable("the inference workload only: there are no segments to separate")
    for workload in wanted:
        if workload not in segments:
            yield None, f"the {workload} workload has no subnet of its own"
    groups = of_type(resources, NSG, SECURITY_RULE)

    def rules_of_subnet(subnet: Resource) -> list[Mapping[str, Any]] | None:
        group_id = subnet.get("networkSecurityGroup", "id")
        group = find(group_id, of_type(resources, NSG))
        if group is None:
            return None
        extra = [
            r.props
            for r in groups
            if r.type == SECURITY_RULE
            and name_of(r, "networkSecurityGroupName") == name_of(group, "networkSecurityGroupName")
        ]
        return [*_rules_of(group), *extra]

    for source_name, source in segments.items():
        source_prefix = str(source.get("addressPrefix", default=""))
        out_rules = rules_of_subnet(source)
        for target_name, target in segments.items():
            if target_name == source_name:
                continue
            target_prefix = str(target.get("addressPrefix", default=""))
            in_rules = rules_of_subnet(target)
            outbound = out_rules is None or _decision(out_rules, "Outbound", source_prefix,
                                                      target_prefix)  # fmt: skip
            inbound = in_rules is None or _decision(in_rules, "Inbound", source_prefix,
                                                    target_prefix)  # fmt: skip
            if outbound and inbound:
                yield (
                    source,
                    f"the {_SEGMENT_SUBNETS[source_name]} segment ({source_prefix}) can reach "
                    f"the {_SEGMENT_SUBNETS[target_name]} segment ({target_prefix}), a flow "
                    "no listed one needs",
                )
