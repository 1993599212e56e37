"""Private endpoints: Private Service Connect for Google APIs and private DNS.

A global internal address (purpose ``PRIVATE_SERVICE_CONNECT``) and a global
forwarding rule make Google APIs reachable at one IP inside the VPC. The bundle is
``vpc-sc`` (only APIs VPC Service Controls can protect) when a service perimeter
surrounds the project, ``all-apis`` otherwise. Private Cloud DNS zones make the
default service names (``*.googleapis.com`` and the other Google API domains, the
Vertex regional domains explicitly) resolve to that IP, so clients cannot fall back to
public addresses; an egress firewall rule (priority 1000) lets the VPC reach it on
tcp:443 past :class:`~aiscaffold_components.gcp.Network`'s deny-all baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_gcp as gcp

from ._common import child_opts, compact, labels_of, wait_for_dependencies

__all__ = ["GOOGLE_API_DOMAINS", "PrivateEndpoints", "PrivateEndpointsArgs"]

#: Domains served through Private Service Connect for Google APIs: the APIs
#: themselves, container registries (Vertex custom containers) and the Workbench
#: notebook proxy domains.
GOOGLE_API_DOMAINS: tuple[str, ...] = (
    "googleapis.com",
    "gcr.io",
    "pkg.dev",
    "notebooks.cloud.google.com",
    "notebooks.googleusercontent.com",
    "kernels.googleusercontent.com",
)


@dataclass(frozen=True)
class PrivateEndpointsArgs:
    """Arguments of :class:`PrivateEndpoints`."""

    network_id: pulumi.Input[str]
    """The VPC (``Network.network_id``) the endpoint and DNS zones belong to."""

    region: str
    """Region of the workload: Service Directory region of the endpoint and the Vertex
    regional domain (``<region>-aiplatform.googleapis.com``)."""

    project: pulumi.Input[str] | None = None
    """Project; the provider's project when unset."""

    ip_address: str = "10.255.255.254"
    """Internal IP of the endpoint; must lie outside every subnet of the VPC."""

    bundle: Literal["all-apis", "vpc-sc"] = "all-apis"
    """API bundle: ``vpc-sc`` when a VPC Service Controls perimeter protects the
    project (only APIs the perimeter can protect are reachable), ``all-apis``
    otherwise."""

    domains: Sequence[str] = GOOGLE_API_DOMAINS
    """Domains that get a private zone pointing at the endpoint."""

    vertex_regions: Sequence[str] = ()
    """Further regions whose Vertex domain gets an explicit record (the workload
    region always does)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the address, forwarding rule and zones."""


class PrivateEndpoints(pulumi.ComponentResource):
    """Private Service Connect endpoint for Google APIs with private DNS."""

    address: pulumi.Output[str]
    """Internal IP of the endpoint."""
    forwarding_rule_id: pulumi.Output[str]
    zone_names: dict[str, pulumi.Output[str]]
    """Managed zone name per domain."""

    def __init__(
        self, name: str, args: PrivateEndpointsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:gcp:PrivateEndpoints", name, None, opts)
        wait_for_dependencies(self, opts)
        labels = labels_of(args.labels)
        child = child_opts(self)

        address = gcp.compute.GlobalAddress(
            f"{name}-psc-address",
            project=args.project,
            address_type="INTERNAL",
            purpose="PRIVATE_SERVICE_CONNECT",
            network=args.network_id,
            address=args.ip_address,
            labels=labels,
            opts=child,
        )
        rule = gcp.compute.GlobalForwardingRule(
            f"{name}-psc",
            # PSC rules for Google APIs: 1-20 lowercase letters and digits.
            name=compact(name, max_len=20, prefix="psc"),
            project=args.project,
            target=args.bundle,
            network=args.network_id,
            ip_address=address.id,
            load_balancing_scheme="",
            # Service Directory keeps the endpoint's registration in the workload region.
            service_directory_registrations=gcp.compute.GlobalForwardingRuleServiceDirectoryRegistrationsArgs(
                service_directory_region=args.region
            ),
            labels=labels,
            opts=child,
        )
        gcp.compute.Firewall(
            f"{name}-allow-psc",
            project=args.project,
            network=args.network_id,
            direction="EGRESS",
            priority=1000,
            description="Allow HTTPS to the Private Service Connect endpoint for Google APIs",
            destination_ranges=[f"{args.ip_address}/32"],
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=["443"])],
            log_config=gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"),
            opts=child,
        )

        self.zone_names = {}
        vertex_regions = dict.fromkeys([args.region, *args.vertex_regions])
        for domain in args.domains:
            slug = domain.replace(".", "-")
            zone = gcp.dns.ManagedZone(
                f"{name}-{slug}",
                project=args.project,
                dns_name=f"{domain}.",
                visibility="private",
                description=f"{domain} through Private Service Connect",
                private_visibility_config=gcp.dns.ManagedZonePrivateVisibilityConfigArgs(
                    networks=[
                        gcp.dns.ManagedZonePrivateVisibilityConfigNetworkArgs(
                            network_url=args.network_id
                        )
                    ]
                ),
                labels=labels,
                opts=child,
            )
            self.zone_names[domain] = zone.name
            self._record(f"{name}-{slug}-a", args, zone, f"{domain}.", "A", [args.ip_address])
            self._record(
                f"{name}-{slug}-wildcard", args, zone, f"*.{domain}.", "CNAME", [f"{domain}."]
            )
            if domain == "googleapis.com":
                for region in vertex_regions:
                    self._record(
                        f"{name}-{region}-aiplatform",
                        args,
                        zone,
                        f"{region}-aiplatform.googleapis.com.",
                        "A",
                        [args.ip_address],
                    )

        self.address = address.address
        self.forwarding_rule_id = rule.id
        self.register_outputs(
            {
                "address": self.address,
                "forwarding_rule_id": self.forwarding_rule_id,
                "zone_names": self.zone_names,
            }
        )

    def _record(
        self,
        resource_name: str,
        args: PrivateEndpointsArgs,
        zone: gcp.dns.ManagedZone,
        dns_name: str,
        kind: str,
        rrdatas: Sequence[str],
    ) -> None:
        gcp.dns.RecordSet(
            resource_name,
            project=args.project,
            managed_zone=zone.name,
            name=dns_name,
            type=kind,
            ttl=300,
            rrdatas=list(rrdatas),
            opts=child_opts(self),
        )
