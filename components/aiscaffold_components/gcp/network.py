"""Network isolation: a custom-mode VPC with a deny-all firewall baseline.

Firewall priorities (lower number wins; GCP's implied rules sit at 65535):

=========  =========  ==========================================================
priority   direction  rule
=========  =========  ==========================================================
1000       egress     allow tcp:443 to the restricted Google API range
                      (``199.36.153.4/30``) - this component
1000       egress     allow tcp:443 to the Private Service Connect endpoint -
                      :class:`~aiscaffold_components.gcp.PrivateEndpoints`
1000       egress     allow tcp:443 to each regional endpoint's address (Model
                      Armor) - :class:`~aiscaffold_components.gcp.PrivateEndpoints`
1000       egress     allow tcp:443 to the internet - only with
                      ``allow_internet_egress``
65000      egress     deny all, logged
65000      ingress    deny all, logged
=========  =========  ==========================================================

The default internet route is deleted when the network is created: the only routes
out are to the restricted Google API range and, with ``allow_internet_egress``, a
default route used by Cloud NAT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from ._common import child_opts, wait_for_dependencies

__all__ = ["RESTRICTED_GOOGLE_APIS", "Network", "NetworkArgs"]

#: restricted.googleapis.com: Google APIs that support VPC Service Controls.
RESTRICTED_GOOGLE_APIS = "199.36.153.4/30"

_ALLOW_PRIORITY = 1000
_DENY_PRIORITY = 65000
_LOG_ALL = gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA")


@dataclass(frozen=True)
class NetworkArgs:
    """Arguments of :class:`Network`."""

    region: pulumi.Input[str]
    """Region of the workload subnet."""

    project: pulumi.Input[str] | None = None
    """Project of the network; the provider's project when unset."""

    subnet_cidr: str = "10.10.0.0/20"
    """Primary range of the workload subnet."""

    flow_log_sampling: float = 1.0
    """Share of flows the subnet's flow logs record (0-1). Below 1.0 weakens NET-04."""

    flow_log_interval: str = "INTERVAL_5_SEC"
    """Aggregation interval of the flow logs."""

    google_api_ranges: Sequence[str] = (RESTRICTED_GOOGLE_APIS,)
    """Google API ranges the subnet may reach on tcp:443 (routed to Google's edge).
    Adding a range is a widening (NET-03): ``private.googleapis.com``
    (``199.36.153.8/30``) serves APIs VPC Service Controls cannot protect. Empty: no
    rule and no route, Google APIs only through the Private Service Connect endpoint."""

    allow_internet_egress: bool = False
    """Weakening (NET-03): add a default route, Cloud NAT and an egress rule allowing
    tcp:443 to the internet."""

    proxy_only_subnet_cidr: str | None = None
    """Range of a proxy-only subnet (``REGIONAL_MANAGED_PROXY``, role ``ACTIVE``) in the
    region: the Envoy proxies of a regional internal application load balancer, which
    a private AI gateway needs (one per region and network, /26 at least;
    https://cloud.google.com/load-balancing/docs/proxy-only-subnets). None: no subnet
    (no private gateway). Proxy-only subnets take no flow logs and run no workload."""


class Network(pulumi.ComponentResource):
    """A custom-mode VPC, one private subnet with flow logs, and a deny-all firewall.

    Networks, subnets, routes and firewall rules take no labels in GCP.
    """

    network_id: pulumi.Output[str]
    """Id of the VPC (``projects/<p>/global/networks/<n>``)."""
    network_self_link: pulumi.Output[str]
    subnet_id: pulumi.Output[str]
    """Id of the workload subnet."""
    subnet_self_link: pulumi.Output[str]
    subnet_cidr: str
    """Primary range of the workload subnet (``PrivateEndpointsArgs.subnet_cidr``)."""
    network: gcp.compute.Network
    subnet: gcp.compute.Subnetwork

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:gcp:Network", name, None, opts)
        wait_for_dependencies(self, opts)
        if not 0.0 < args.flow_log_sampling <= 1.0:
            raise ValueError(f"flow_log_sampling must be in (0, 1], not {args.flow_log_sampling}")
        child = child_opts(self)

        self.network = gcp.compute.Network(
            f"{name}-vpc",
            project=args.project,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            delete_default_routes_on_create=True,
            description="aiscaffold workload network: custom mode, no default internet route",
            opts=child,
        )
        self.subnet = gcp.compute.Subnetwork(
            f"{name}-subnet",
            project=args.project,
            network=self.network.id,
            region=args.region,
            ip_cidr_range=args.subnet_cidr,
            private_ip_google_access=True,
            stack_type="IPV4_ONLY",
            log_config=gcp.compute.SubnetworkLogConfigArgs(
                aggregation_interval=args.flow_log_interval,
                flow_sampling=args.flow_log_sampling,
                metadata="INCLUDE_ALL_METADATA",
            ),
            opts=child,
        )

        self.proxy_only_subnet: gcp.compute.Subnetwork | None = None
        if args.proxy_only_subnet_cidr:
            self.proxy_only_subnet = gcp.compute.Subnetwork(
                f"{name}-proxy-only",
                project=args.project,
                network=self.network.id,
                region=args.region,
                ip_cidr_range=args.proxy_only_subnet_cidr,
                purpose="REGIONAL_MANAGED_PROXY",
                role="ACTIVE",
                description="Proxy-only subnet of the private AI gateway's load balancer",
                opts=child,
            )

        self._firewall(
            f"{name}-deny-all-ingress",
            args,
            direction="INGRESS",
            priority=_DENY_PRIORITY,
            description="Baseline: deny all ingress",
            source_ranges=["0.0.0.0/0"],
            denies=[gcp.compute.FirewallDenyArgs(protocol="all")],
        )
        self._firewall(
            f"{name}-deny-all-egress",
            args,
            direction="EGRESS",
            priority=_DENY_PRIORITY,
            description="Baseline: deny all egress",
            destination_ranges=["0.0.0.0/0"],
            denies=[gcp.compute.FirewallDenyArgs(protocol="all")],
        )
        if args.google_api_ranges:
            self._firewall(
                f"{name}-allow-google-apis",
                args,
                direction="EGRESS",
                priority=_ALLOW_PRIORITY,
                description="Allow HTTPS to the restricted Google API range",
                destination_ranges=list(args.google_api_ranges),
                allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=["443"])],
            )
            for index, cidr in enumerate(args.google_api_ranges):
                gcp.compute.Route(
                    f"{name}-google-apis-{index}",
                    project=args.project,
                    network=self.network.id,
                    dest_range=cidr,
                    next_hop_gateway="default-internet-gateway",
                    description="Google API range through Private Google Access",
                    opts=child,
                )

        if args.allow_internet_egress:
            self._internet_egress(name, args)

        self.network_id = self.network.id
        self.network_self_link = self.network.self_link
        self.subnet_id = self.subnet.id
        self.subnet_self_link = self.subnet.self_link
        self.subnet_cidr = args.subnet_cidr
        self.register_outputs(
            {
                "network_id": self.network_id,
                "network_self_link": self.network_self_link,
                "subnet_id": self.subnet_id,
                "subnet_self_link": self.subnet_self_link,
            }
        )

    def _firewall(
        self,
        resource_name: str,
        args: NetworkArgs,
        *,
        direction: str,
        priority: int,
        description: str,
        source_ranges: Sequence[str] | None = None,
        destination_ranges: Sequence[str] | None = None,
        allows: Sequence[gcp.compute.FirewallAllowArgs] | None = None,
        denies: Sequence[gcp.compute.FirewallDenyArgs] | None = None,
    ) -> gcp.compute.Firewall:
        return gcp.compute.Firewall(
            resource_name,
            project=args.project,
            network=self.network.id,
            direction=direction,
            priority=priority,
            description=description,
            source_ranges=list(source_ranges) if source_ranges else None,
            destination_ranges=list(destination_ranges) if destination_ranges else None,
            allows=list(allows) if allows else None,
            denies=list(denies) if denies else None,
            log_config=_LOG_ALL,
            opts=child_opts(self),
        )

    def _internet_egress(self, name: str, args: NetworkArgs) -> None:
        """Cloud NAT and its route: only when ``allow_internet_egress`` (NET-03)."""
        child = child_opts(self)
        gcp.compute.Route(
            f"{name}-internet",
            project=args.project,
            network=self.network.id,
            dest_range="0.0.0.0/0",
            next_hop_gateway="default-internet-gateway",
            priority=_ALLOW_PRIORITY,
            description="Default route for Cloud NAT (allow_internet_egress)",
            opts=child,
        )
        router = gcp.compute.Router(
            f"{name}-router",
            project=args.project,
            network=self.network.id,
            region=args.region,
            opts=child,
        )
        gcp.compute.RouterNat(
            f"{name}-nat",
            project=args.project,
            router=router.name,
            region=args.region,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetworks=[
                gcp.compute.RouterNatSubnetworkArgs(
                    name=self.subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"]
                )
            ],
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ALL"),
            opts=child,
        )
        self._firewall(
            f"{name}-allow-https-egress",
            args,
            direction="EGRESS",
            priority=_ALLOW_PRIORITY,
            description="allow_internet_egress: HTTPS to the internet through Cloud NAT",
            destination_ranges=["0.0.0.0/0"],
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=["443"])],
        )
