"""Private endpoints: Private Service Connect for Google APIs and private DNS.

A global internal address (purpose ``PRIVATE_SERVICE_CONNECT``) and a global
forwarding rule make Google APIs reachable at one IP inside the VPC. The bundle is
``vpc-sc`` (only APIs VPC Service Controls can protect) when a service perimeter
surrounds the project, ``all-apis`` otherwise. Private Cloud DNS zones make the
default service names (``*.googleapis.com`` and the other Google API domains, the
Vertex regional domains explicitly) resolve to that IP, so clients cannot fall back to
public addresses; an egress firewall rule (priority 1000) lets the VPC reach it on
tcp:443 past :class:`~aiscaffold_components.gcp.Network`'s deny-all baseline.

Some APIs answer only at their regional endpoint, ``<service>.<region>.rep.googleapis.com``,
which the API bundles do not serve: Model Armor's template and sanitize calls
(``SanitizeUserPrompt``, ``SanitizeModelResponse``) are among them, and through the
global endpoint or Private Google Access they get ``404 Not Found``. Each service of
``regional_services`` (Model Armor by default, so the workload can screen prompts from
inside the VPC) therefore gets a regional Private Service Connect endpoint
(``networkconnectivity.RegionalEndpoint``, which creates the regional forwarding rule
to Google's service attachment) at a fixed internal address in the workload subnet,
regional access only; a private zone for the public hostname, visible to the VPC, with
an ``A`` record at that address (more specific than the ``googleapis.com`` zone, whose
wildcard would send the name to the global endpoint); and an egress rule (priority
1000) allowing tcp:443 to that address alone. The address is the highest one Google
leaves usable in the subnet's primary range (the last two are reserved), the next
service the one below, so DNS and the firewall name a known IP. Vertex AI needs no
regional endpoint here: the workload calls ``<region>-aiplatform.googleapis.com``, which
the bundle serves (``aiplatform.<region>.rep`` is only for the ``us`` and ``eu``
multi-regions).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_gcp as gcp

from ._common import child_opts, compact, labels_of, wait_for_dependencies

__all__ = [
    "GOOGLE_API_DOMAINS",
    "REGIONAL_ONLY_SERVICES",
    "PrivateEndpoints",
    "PrivateEndpointsArgs",
    "regional_hostname",
]

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

#: Services the workload calls that answer only at their regional endpoint
#: (``<service>.<region>.rep.googleapis.com``), not through the API bundles.
REGIONAL_ONLY_SERVICES: tuple[str, ...] = ("modelarmor",)

_SERVICE = re.compile(r"^[a-z][a-z0-9]*$")


def regional_hostname(service: str, region: str) -> str:
    """Public hostname of a service's regional endpoint, such as
    ``modelarmor.us-central1.rep.googleapis.com``."""
    return f"{service}.{region}.rep.googleapis.com"


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

    subnet_id: pulumi.Input[str] | None = None
    """The workload subnet (``Network.subnet_id``), in ``region``: regional endpoints
    take their internal address from it. Needed with ``regional_services``."""

    subnet_cidr: str | None = None
    """Primary range of that subnet (``Network.subnet_cidr``); the regional endpoints'
    addresses are its highest usable ones. Needed with ``regional_services``."""

    regional_services: Sequence[str] = REGIONAL_ONLY_SERVICES
    """Services reached at their regional endpoint through a regional Private Service
    Connect endpoint each. Leaving ``modelarmor`` out while the project has a Model
    Armor template is a weakening (PE-02, AI-05): the workload's screening calls from
    the VPC fail with 404. Empty only for a stack that calls no such service."""

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
    """Labels of the address, forwarding rule, regional endpoints and zones."""


class PrivateEndpoints(pulumi.ComponentResource):
    """Private Service Connect endpoint for Google APIs with private DNS."""

    address: pulumi.Output[str]
    """Internal IP of the endpoint."""
    forwarding_rule_id: pulumi.Output[str]
    zone_names: dict[str, pulumi.Output[str]]
    """Managed zone name per domain (regional hostnames included)."""
    regional_endpoint_ids: dict[str, pulumi.Output[str]]
    """Id of the regional Private Service Connect endpoint per service."""
    regional_addresses: dict[str, str]
    """Internal IP of the regional endpoint per service."""

    def __init__(
        self, name: str, args: PrivateEndpointsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:gcp:PrivateEndpoints", name, None, opts)
        wait_for_dependencies(self, opts)
        labels = labels_of(args.labels)
        regional = _regional_addresses(args)
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
            zone = self._private_zone(
                f"{name}-{slug}", args, domain, f"{domain} through Private Service Connect"
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

        self.regional_endpoint_ids = {}
        for service, ip in regional.items():
            self.regional_endpoint_ids[service] = self._regional_endpoint(
                name, args, service, ip, labels
            )
        self.regional_addresses = regional

        self.address = address.address
        self.forwarding_rule_id = rule.id
        self.register_outputs(
            {
                "address": self.address,
                "forwarding_rule_id": self.forwarding_rule_id,
                "zone_names": self.zone_names,
                "regional_endpoint_ids": self.regional_endpoint_ids,
                "regional_addresses": self.regional_addresses,
            }
        )

    def _regional_endpoint(
        self,
        name: str,
        args: PrivateEndpointsArgs,
        service: str,
        ip: str,
        labels: dict[str, str],
    ) -> pulumi.Output[str]:
        """A regional PSC endpoint for ``service``, its private zone and egress rule."""
        child = child_opts(self)
        hostname = regional_hostname(service, args.region)
        endpoint = gcp.networkconnectivity.RegionalEndpoint(
            f"{name}-{service}-rep",
            # 1-46 lowercase letters, digits and hyphens, unique per project and region.
            name=compact(name, max_len=46, prefix=f"{service}rep"),
            project=args.project,
            location=args.region,
            target_google_api=hostname,
            # Clients in the workload region only; the workload runs nowhere else.
            access_type="REGIONAL",
            network=args.network_id,
            subnetwork=args.subnet_id,
            address=ip,
            description=f"{hostname} through Private Service Connect",
            labels=labels,
            opts=child,
        )
        gcp.compute.Firewall(
            f"{name}-allow-{service}-rep",
            project=args.project,
            network=args.network_id,
            direction="EGRESS",
            priority=1000,
            description=f"Allow HTTPS to the regional endpoint of {hostname}",
            destination_ranges=[f"{ip}/32"],
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=["443"])],
            log_config=gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"),
            opts=child,
        )
        zone = self._private_zone(
            f"{name}-{service}-rep-zone",
            args,
            hostname,
            f"{hostname} through its regional Private Service Connect endpoint",
        )
        self.zone_names[hostname] = zone.name
        self._record(f"{name}-{service}-rep-a", args, zone, f"{hostname}.", "A", [ip])
        return endpoint.id

    def _private_zone(
        self, resource_name: str, args: PrivateEndpointsArgs, domain: str, description: str
    ) -> gcp.dns.ManagedZone:
        """A private zone for ``domain``, visible to the project's network only."""
        return gcp.dns.ManagedZone(
            resource_name,
            project=args.project,
            dns_name=f"{domain}.",
            visibility="private",
            description=description,
            private_visibility_config=gcp.dns.ManagedZonePrivateVisibilityConfigArgs(
                networks=[
                    gcp.dns.ManagedZonePrivateVisibilityConfigNetworkArgs(
                        network_url=args.network_id
                    )
                ]
            ),
            labels=labels_of(args.labels),
            opts=child_opts(self),
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


def _regional_addresses(args: PrivateEndpointsArgs) -> dict[str, str]:
    """The internal IP of each regional endpoint: the subnet's highest usable addresses."""
    services = list(dict.fromkeys(args.regional_services))
    if not services:
        return {}
    bad = [s for s in services if not _SERVICE.match(s)]
    if bad:
        raise ValueError(f"regional_services are service names such as 'modelarmor', not {bad}")
    if args.subnet_id is None or args.subnet_cidr is None:
        raise ValueError(
            "regional_services need subnet_id and subnet_cidr (the workload subnet): "
            "their endpoints take an internal address from it"
        )
    subnet = ipaddress.ip_network(args.subnet_cidr)
    if not isinstance(subnet, ipaddress.IPv4Network):
        raise ValueError(f"subnet_cidr must be an IPv4 range, not {args.subnet_cidr}")
    # Google reserves the network and gateway addresses at the bottom and the last two
    # addresses at the top of every primary range.
    top = int(subnet.broadcast_address) - 2
    if top - len(services) < int(subnet.network_address) + 1:
        raise ValueError(
            f"subnet_cidr {args.subnet_cidr} has no room for {len(services)} endpoints"
        )
    return {s: str(ipaddress.IPv4Address(top - i)) for i, s in enumerate(services)}
