"""Network isolation: the project's resource group and a private virtual network.

The VNet has two subnets carved from its address space with :mod:`ipaddress`: a
workload subnet and a private-endpoint subnet. Neither has default outbound access
(Azure's implicit internet SNAT), and each has a network security group that:

* denies inbound from the internet and every inbound flow not listed (NET-01, NET-02);
* allows only HTTPS from the workload subnet to the private endpoints;
* denies outbound to the internet (NET-03). ``allow_internet_egress`` instead allows
  outbound HTTPS (TCP 443) from the workload subnet through a NAT gateway, nothing else;
* ends with a deny-all outbound rule, so neither subnet reaches other VNet addresses
  beyond what is listed (Azure's built-in rules allow all traffic within the VNet).

Workload segments (NET-07): ``workload_segments`` adds a subnet and security group per
workload type beyond inference (``training``, ``data-processing``) to the same VNet, at
fixed blocks of the address space (3 and 4; 2 is the AI gateway's), so adding one later
moves nothing. Inference keeps the ``workload`` subnet. A segment admits no inbound flow
and sends only the flows listed in :data:`SEGMENT_FLOWS`; every other flow, to another
segment, the internet or anywhere else in the VNet, is denied by its own rules (Azure's
built-in AllowVnetInBound / AllowVnetOutBound would allow all VNet traffic). The
private-endpoint group admits each segment on HTTPS only. A flow between segments needs
both the source's outbound and the destination's inbound rule to allow it
(https://learn.microsoft.com/azure/virtual-network/network-security-group-how-it-works),
so the workload group's inbound HTTPS from ``VirtualNetwork`` does not open inference to
the segments: their outbound rules deny it.

With ``lock_resource_group`` the resource group carries a ``CanNotDelete`` management
lock (GOV-05). A location outside ``allowed_locations`` is refused (GOV-02).

VNet flow logs (NET-04) are written by
:class:`~aiscaffold_components.azure.AuditLogging`, which owns the log storage they go
to; this component exposes the VNet id for it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_azure_native as azure_native

from ._common import DiagnosticTarget, child_opts, plain_name, tags_of

__all__ = ["SEGMENT_FLOWS", "Network", "NetworkArgs", "Segment"]

_HTTPS = "443"

Segment = Literal["training", "data-processing"]
#: Block of the address space each segment's subnet takes (0 workload, 1 private
#: endpoints, 2 the AI gateway): fixed per type, so a segment added later moves nothing.
_SEGMENT_BLOCKS: dict[Segment, int] = {"training": 3, "data-processing": 4}
#: The only flows a segment may start, each with why (NET-07). Nothing may start a flow
#: into a segment: training and data processing are jobs, not services.
SEGMENT_FLOWS: dict[Segment, tuple[tuple[str, str], ...]] = {
    "training": (
        (
            "to-private-endpoints-https",
            "HTTPS to the private endpoints: Azure OpenAI fine-tuning (files, jobs), the "
            "curated data it reads and the model-artifact store it writes",
        ),
    ),
    "data-processing": (
        (
            "to-private-endpoints-https",
            "HTTPS to the private endpoints: the raw data it reads and the curated data it writes",
        ),
    ),
}


@dataclass(frozen=True)
class NetworkArgs:
    """Arguments of :class:`Network`."""

    location: str
    """Azure region of every resource (a plain string: it selects flow log and DNS
    settings at deployment time)."""

    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of every taggable resource (GOV-01)."""

    allowed_locations: Sequence[str] = ()
    """Regions the project may use (GOV-02); empty allows any."""

    address_space: str = "10.20.0.0/16"
    """Address space of the VNet; the subnets are its first two blocks of
    ``subnet_prefix_length``."""

    subnet_prefix_length: int = 24
    """Prefix length of each subnet."""

    resource_group_name: str | None = None
    """Name of the resource group; default ``rg-<project>-<stack>``."""

    lock_resource_group: bool = True
    """Put a ``CanNotDelete`` lock on the resource group. Weakening when false: the
    whole project can be deleted in one call."""

    allow_internet_egress: bool = False
    """Weakening: a NAT gateway gives the workload subnet outbound internet access,
    restricted by its security group to HTTPS (TCP 443)."""

    workload_segments: Sequence[Segment] = ()
    """Workload types beyond inference that get their own subnet and security group
    (NET-07): ``training``, ``data-processing``. Inference uses the workload subnet."""


class Network(pulumi.ComponentResource):
    """A resource group and a private VNet whose subnets deny the internet."""

    resource_group_name: pulumi.Output[str]
    resource_group_id: pulumi.Output[str]
    vnet_id: pulumi.Output[str]
    vnet_name: pulumi.Output[str]
    workload_subnet_id: pulumi.Output[str]
    private_endpoint_subnet_id: pulumi.Output[str]
    workload_subnet_prefix: str
    private_endpoint_subnet_prefix: str
    segment_subnet_ids: dict[str, pulumi.Output[str]]
    """Subnet id per workload segment (``training``, ``data-processing``)."""
    segment_subnet_prefixes: dict[str, str]
    diagnostic_targets: list[DiagnosticTarget]
    """The VNet, the security groups and the egress path (public IP, NAT gateway), for
    :class:`~aiscaffold_components.azure.AuditLogging`."""

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:azure:Network", name, None, opts)
        if args.allowed_locations and args.location not in args.allowed_locations:
            raise ValueError(
                f"location {args.location!r} is outside the allowed regions "
                f"({', '.join(args.allowed_locations)}) of this project's compliance answers"
            )
        tags = tags_of(args.tags)
        workload_prefix, endpoint_prefix = _subnet_prefixes(
            args.address_space, args.subnet_prefix_length
        )
        unknown = sorted(set(args.workload_segments) - set(_SEGMENT_BLOCKS))
        if unknown:
            raise ValueError(
                f"unknown workload segment(s) {', '.join(unknown)}: "
                f"choose among {', '.join(_SEGMENT_BLOCKS)} (inference uses the workload subnet)"
            )
        segments = [s for s in _SEGMENT_BLOCKS if s in args.workload_segments]
        self._address_space = args.address_space
        self._subnet_prefix_length = args.subnet_prefix_length
        self.segment_subnet_prefixes = {
            s: self.spare_subnet_prefix(_SEGMENT_BLOCKS[s]) for s in segments
        }
        self.workload_subnet_prefix = workload_prefix
        self.private_endpoint_subnet_prefix = endpoint_prefix

        group = azure_native.resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=args.resource_group_name or plain_name("rg", "", limit=90),
            location=args.location,
            tags=tags,
            opts=child_opts(self),
        )
        if args.lock_resource_group:
            azure_native.authorization.ManagementLockAtResourceGroupLevel(
                f"{name}-lock",
                resource_group_name=group.name,
                lock_name="aiscaffold-cannot-delete",
                level="CanNotDelete",
                notes="Deletion protection of the project (aiscaffold GOV-05); remove "
                "this lock deliberately before tearing the project down.",
                opts=child_opts(self),
            )

        vnet = azure_native.network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=group.name,
            virtual_network_name=plain_name("vnet", ""),
            location=args.location,
            address_space=azure_native.network.AddressSpaceArgs(
                address_prefixes=[args.address_space]
            ),
            # Subnets are separate resources below; none are declared inline.
            tags=tags,
            opts=child_opts(self),
        )

        workload_nsg = azure_native.network.NetworkSecurityGroup(
            f"{name}-workload-nsg",
            resource_group_name=group.name,
            network_security_group_name=plain_name("nsg", "workload"),
            location=args.location,
            security_rules=_workload_rules(
                workload_prefix, endpoint_prefix, args.allow_internet_egress
            ),
            tags=tags,
            opts=child_opts(self),
        )
        endpoint_nsg = azure_native.network.NetworkSecurityGroup(
            f"{name}-pe-nsg",
            resource_group_name=group.name,
            network_security_group_name=plain_name("nsg", "private-endpoints"),
            location=args.location,
            security_rules=_endpoint_rules(
                workload_prefix, endpoint_prefix, self.segment_subnet_prefixes
            ),
            tags=tags,
            opts=child_opts(self),
        )

        nat: azure_native.network.NatGateway | None = None
        egress_targets: list[DiagnosticTarget] = []
        if args.allow_internet_egress:
            ip = azure_native.network.PublicIPAddress(
                f"{name}-nat-ip",
                resource_group_name=group.name,
                public_ip_address_name=plain_name("pip", "nat"),
                location=args.location,
                sku=azure_native.network.PublicIPAddressSkuArgs(name="Standard"),
                public_ip_allocation_method="Static",
                tags=tags,
                opts=child_opts(self),
            )
            nat = azure_native.network.NatGateway(
                f"{name}-nat",
                resource_group_name=group.name,
                nat_gateway_name=plain_name("nat", ""),
                location=args.location,
                sku=azure_native.network.NatGatewaySkuArgs(name="Standard"),
                public_ip_addresses=[azure_native.network.SubResourceArgs(id=ip.id)],
                tags=tags,
                opts=child_opts(self),
            )
            # The address logs DDoS notifications, mitigation reports and flows (no
            # "audit" category group: all go to the archive); the gateway has metrics
            # only (bytes, packets, SNAT connections), no log categories.
            egress_targets = [
                DiagnosticTarget("nat-ip", ip.id, archive_group="allLogs"),
                DiagnosticTarget("nat", nat.id, logs=False, archive_group=None),
            ]

        workload = azure_native.network.Subnet(
            f"{name}-workload",
            resource_group_name=group.name,
            virtual_network_name=vnet.name,
            subnet_name="workload",
            address_prefix=workload_prefix,
            default_outbound_access=False,
            network_security_group=azure_native.network.NetworkSecurityGroupArgs(
                id=workload_nsg.id
            ),
            nat_gateway=azure_native.network.SubResourceArgs(id=nat.id) if nat else None,
            opts=child_opts(self),
        )
        endpoints = azure_native.network.Subnet(
            f"{name}-pe",
            resource_group_name=group.name,
            virtual_network_name=vnet.name,
            subnet_name="private-endpoints",
            address_prefix=endpoint_prefix,
            default_outbound_access=False,
            # Lets the security group (and route tables) apply to private endpoints.
            private_endpoint_network_policies="Enabled",
            network_security_group=azure_native.network.NetworkSecurityGroupArgs(
                id=endpoint_nsg.id
            ),
            # Subnet writes on one VNet conflict when concurrent.
            opts=child_opts(self, depends_on=[workload]),
        )

        # One subnet and security group per extra workload type (NET-07), written one
        # after the other like the subnets above.
        self.segment_subnet_ids = {}
        segment_targets: list[DiagnosticTarget] = []
        previous: pulumi.Resource = endpoints
        for segment in segments:
            prefix = self.segment_subnet_prefixes[segment]
            segment_nsg = azure_native.network.NetworkSecurityGroup(
                f"{name}-{segment}-nsg",
                resource_group_name=group.name,
                network_security_group_name=plain_name("nsg", segment),
                location=args.location,
                security_rules=_segment_rules(segment, prefix, endpoint_prefix),
                tags=tags,
                opts=child_opts(self),
            )
            subnet = azure_native.network.Subnet(
                f"{name}-{segment}",
                resource_group_name=group.name,
                virtual_network_name=vnet.name,
                subnet_name=segment,
                address_prefix=prefix,
                default_outbound_access=False,
                network_security_group=azure_native.network.NetworkSecurityGroupArgs(
                    id=segment_nsg.id
                ),
                opts=child_opts(self, depends_on=[previous]),
            )
            previous = subnet
            self.segment_subnet_ids[segment] = subnet.id
            segment_targets.append(
                DiagnosticTarget(
                    f"{segment}-nsg", segment_nsg.id, metrics=(), archive_group="allLogs"
                )
            )

        self.resource_group_name = group.name
        self.resource_group_id = group.id
        self.vnet_id = vnet.id
        self.vnet_name = vnet.name
        self.workload_subnet_id = workload.id
        self.private_endpoint_subnet_id = endpoints.id
        # Security groups have logs (events, rule counters) but no metrics, and no
        # "audit" category group: all their logs go to the archive. The VNet logs VM
        # protection alerts and has DDoS and ping-mesh metrics, also without an audit
        # group. Subnets have no diagnostic settings.
        self.diagnostic_targets = [
            DiagnosticTarget("vnet", vnet.id, archive_group="allLogs"),
            DiagnosticTarget("workload-nsg", workload_nsg.id, metrics=(), archive_group="allLogs"),
            DiagnosticTarget("pe-nsg", endpoint_nsg.id, metrics=(), archive_group="allLogs"),
            *egress_targets,
            *segment_targets,
        ]
        self.register_outputs(
            {
                "resource_group_name": self.resource_group_name,
                "resource_group_id": self.resource_group_id,
                "vnet_id": self.vnet_id,
                "workload_subnet_id": self.workload_subnet_id,
                "private_endpoint_subnet_id": self.private_endpoint_subnet_id,
            }
        )

    def spare_subnet_prefix(self, index: int) -> str:
        """The ``index``-th block of the subnet size in the address space (0 and 1 are
        the workload and private-endpoint subnets), for a subnet another component adds
        to the VNet (the AI gateway's). No resource is created here."""
        network = ipaddress.ip_network(self._address_space)
        blocks = list(network.subnets(new_prefix=self._subnet_prefix_length))
        if not 2 <= index < len(blocks):
            raise ValueError(f"no spare subnet {index} in {self._address_space}")
        return str(blocks[index])


def _subnet_prefixes(address_space: str, prefix_length: int) -> tuple[str, str]:
    """The first two ``prefix_length`` blocks of ``address_space``."""
    try:
        network = ipaddress.ip_network(address_space)
    except ValueError as exc:
        raise ValueError(f"address_space {address_space!r} is not a network: {exc}") from None
    if not network.is_private:
        raise ValueError(f"address_space {address_space} is not a private range")
    if prefix_length - network.prefixlen < 1 or prefix_length > 29:
        raise ValueError(
            f"subnet_prefix_length /{prefix_length} does not fit two subnets in "
            f"{address_space} (Azure subnets are /29 or larger)"
        )
    blocks = network.subnets(new_prefix=prefix_length)
    return str(next(blocks)), str(next(blocks))


def _rule(
    name: str,
    priority: int,
    direction: str,
    access: str,
    *,
    source: str,
    destination: str,
    description: str,
    https_only: bool = False,
) -> azure_native.network.SecurityRuleArgs:
    return azure_native.network.SecurityRuleArgs(
        name=name,
        priority=priority,
        direction=direction,
        access=access,
        protocol="Tcp" if https_only else "*",
        source_address_prefix=source,
        source_port_range="*",
        destination_address_prefix=destination,
        destination_port_range=_HTTPS if https_only else "*",
        description=description,
    )


def _deny_rules() -> list[azure_native.network.SecurityRuleArgs]:
    """The explicit deny baseline every subnet's group ends with."""
    return [
        _rule("deny-internet-inbound", 4000, "Inbound", "Deny", source="Internet",
              destination="*", description="No inbound traffic from the internet (NET-01)"),
        _rule("deny-all-inbound", 4096, "Inbound", "Deny", source="*", destination="*",
              description="Deny every inbound flow not allowed above (NET-02)"),
        _rule("deny-internet-outbound", 4000, "Outbound", "Deny", source="*",
              destination="Internet", description="No outbound traffic to the internet (NET-03)"),
    ]  # fmt: skip


def _workload_rules(
    workload: str, endpoints: str, internet_egress: bool
) -> list[azure_native.network.SecurityRuleArgs]:
    rules = [
        _rule("allow-https-from-vnet", 100, "Inbound", "Allow", source="VirtualNetwork",
              destination=workload, https_only=True,
              description="HTTPS to the workload from inside the VNet"),
        _rule("allow-https-to-endpoints", 100, "Outbound", "Allow", source=workload,
              destination=endpoints, https_only=True,
              description="HTTPS to the private endpoints (AI service, vault, storage)"),
    ]  # fmt: skip
    if internet_egress:
        rules.append(
            _rule("allow-https-to-internet", 3000, "Outbound", "Allow", source=workload,
                  destination="Internet", https_only=True,
                  description="Weakening allow_internet_egress: outbound HTTPS only")
        )  # fmt: skip
    # Azure's built-in AllowVnetOutBound (65000) would let the workload reach every VNet
    # address on every port; only the rules above may. Azure DNS, DHCP and IMDS (where
    # managed identities get their tokens) use the host addresses 168.63.129.16 and
    # 169.254.169.254, which security groups do not filter.
    deny_outbound = _rule(
        "deny-all-outbound",
        4096,
        "Outbound",
        "Deny",
        source="*",
        destination="*",
        description="Deny every outbound flow not allowed above (NET-02)",
    )
    return [*rules, *_deny_rules(), deny_outbound]


def _endpoint_rules(
    workload: str, endpoints: str, segments: Mapping[str, str]
) -> list[azure_native.network.SecurityRuleArgs]:
    # Each workload segment reaches the private endpoints on HTTPS (SEGMENT_FLOWS);
    # none is listed without segments, so the default group is unchanged.
    from_segments = [
        _rule(f"allow-https-from-{segment}", 110 + 10 * index, "Inbound", "Allow",
              source=prefix, destination=endpoints, https_only=True,
              description=f"The {segment} segment reaches the private endpoints (NET-07)")
        for index, (segment, prefix) in enumerate(segments.items())
    ]  # fmt: skip
    return [
        _rule("allow-https-from-workload", 100, "Inbound", "Allow", source=workload,
              destination=endpoints, https_only=True,
              description="Only the workload subnet reaches the private endpoints"),
        *from_segments,
        _rule("deny-all-outbound", 4096, "Outbound", "Deny", source="*", destination="*",
              description="Private endpoints initiate no traffic"),
        *_deny_rules(),
    ]  # fmt: skip


def _segment_rules(
    segment: Segment, prefix: str, endpoints: str
) -> list[azure_native.network.SecurityRuleArgs]:
    """A workload segment's group: the flows of :data:`SEGMENT_FLOWS` out, nothing in,
    and the deny baseline (internet both ways, then everything else both ways)."""
    (flow_name, why), *_ = SEGMENT_FLOWS[segment]
    rules = [
        _rule(f"allow-{flow_name}", 100, "Outbound", "Allow", source=prefix,
              destination=endpoints, https_only=True, description=why[:140]),
    ]  # fmt: skip
    deny_outbound = _rule(
        "deny-all-outbound",
        4096,
        "Outbound",
        "Deny",
        source="*",
        destination="*",
        description="No flow to other segments or VNet addresses beyond the listed ones (NET-07)",
    )
    return [*rules, *_deny_rules(), deny_outbound]
