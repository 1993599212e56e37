"""Private endpoints: private IPs in the VNet for the AI account, vault and storage.

For each :class:`PrivateLinkTarget` (components expose theirs as ``private_link``) a
``network.PrivateEndpoint`` in the private-endpoint subnet connects to the resource's
sub-resource (``account``, ``vault``, ``blob``) (PE-01, PE-02). The private DNS zones the
targets need are created once, linked to the VNet without auto-registration, and each
endpoint's ``PrivateDnsZoneGroup`` writes its A records there, so the service names
resolve to private addresses inside the network (PE-05):

========================  ==================================================
target                    zones (Azure public cloud; US Gov zones differ)
========================  ==================================================
AI Services account       privatelink.cognitiveservices.azure.com,
                          privatelink.openai.azure.com,
                          privatelink.services.ai.azure.com
Key Vault                 privatelink.vaultcore.azure.net
Storage (blob)            privatelink.blob.core.windows.net
========================  ==================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure_native

from ._common import PrivateLinkTarget, child_opts, plain_name, tags_of

__all__ = ["PrivateEndpoints", "PrivateEndpointsArgs"]


@dataclass(frozen=True)
class PrivateEndpointsArgs:
    """Arguments of :class:`PrivateEndpoints`."""

    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    vnet_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    """The private-endpoint subnet."""
    targets: Sequence[PrivateLinkTarget]
    tags: Mapping[str, str] = field(default_factory=dict)


class PrivateEndpoints(pulumi.ComponentResource):
    """Private endpoints with private DNS for the project's PaaS resources."""

    endpoint_ids: dict[str, pulumi.Output[str]]
    zone_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: PrivateEndpointsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:azure:PrivateEndpoints", name, None, opts)
        tags = tags_of(args.tags)
        roles = [t.name for t in args.targets]
        if len(set(roles)) != len(roles):
            raise ValueError(f"private link target names must be unique: {roles}")

        self.zone_ids = {}
        for zone in dict.fromkeys(z for t in args.targets for z in t.dns_zones):
            slug = _slug(zone)
            created = azure_native.privatedns.PrivateZone(
                f"{name}-{slug}",
                resource_group_name=args.resource_group_name,
                private_zone_name=zone,
                location="global",
                tags=tags,
                opts=child_opts(self),
            )
            azure_native.privatedns.VirtualNetworkLink(
                f"{name}-{slug}-link",
                resource_group_name=args.resource_group_name,
                private_zone_name=created.name,
                virtual_network_link_name=plain_name("link", slug, limit=80),
                location="global",
                virtual_network=azure_native.privatedns.SubResourceArgs(id=args.vnet_id),
                registration_enabled=False,
                tags=tags,
                opts=child_opts(self),
            )
            self.zone_ids[zone] = created.id

        self.endpoint_ids = {}
        for target in args.targets:
            endpoint_name = plain_name("pe", target.name)
            endpoint = azure_native.network.PrivateEndpoint(
                f"{name}-{target.name}",
                resource_group_name=args.resource_group_name,
                private_endpoint_name=endpoint_name,
                location=args.location,
                subnet=azure_native.network.SubnetArgs(id=args.subnet_id),
                custom_network_interface_name=f"{endpoint_name}-nic",
                private_link_service_connections=[
                    azure_native.network.PrivateLinkServiceConnectionArgs(
                        name=endpoint_name,
                        private_link_service_id=target.resource_id,
                        group_ids=[target.group_id],
                    )
                ],
                tags=tags,
                opts=child_opts(self),
            )
            azure_native.network.PrivateDnsZoneGroup(
                f"{name}-{target.name}-dns",
                resource_group_name=args.resource_group_name,
                private_endpoint_name=endpoint.name,
                private_dns_zone_group_name="default",
                private_dns_zone_configs=[
                    azure_native.network.PrivateDnsZoneConfigArgs(
                        name=_slug(zone), private_dns_zone_id=self.zone_ids[zone]
                    )
                    for zone in target.dns_zones
                ],
                opts=child_opts(self),
            )
            self.endpoint_ids[target.name] = endpoint.id
        self.register_outputs({"endpoint_ids": self.endpoint_ids, "zone_ids": self.zone_ids})


def _slug(zone: str) -> str:
    """``privatelink.blob.core.windows.net`` -> ``blob-core-windows-net``."""
    return re.sub(r"[^a-z0-9]+", "-", zone.lower().removeprefix("privatelink.")).strip("-")
