"""WorkloadSegment: private subnets and a security group for one workload type (NET-07).

Inference keeps the Network's private subnets and workload security group. Training and
data processing each get their own subnets (one per zone, in ranges no other segment
uses) with their own route tables, network ACL and security group. Traffic between
segments is denied except the flows listed in :data:`FLOWS`, each with its reason:

- ``<segment> -> endpoints``: HTTPS (TCP 443) to the interface endpoints, which live in
  the inference subnets (their security group admits HTTPS from the VPC). The segment's
  network ACL allows TCP 443 to the inference subnets and their replies, nothing else:
  the inference workload's own security group admits no inbound traffic, so this reaches
  the endpoints only.
- ``<segment> -> s3``: HTTPS to S3 through the gateway endpoint (S3's prefix list), whose
  route the segment's route tables get.
- ``training <-> training`` (``internal_traffic``): the containers of one distributed
  training job exchange parameters over TCP 8192-65535, within the training security
  group only (the range AWS-EC2-012 admits within a group); SageMaker AI encrypts that
  traffic (EnableInterContainerTrafficEncryption, required by the training identity).

Every other address of the VPC is denied by the segment's network ACL before the rule
that lets HTTPS reach S3's public addresses (routing, not the ACL, decides where 443 can
go: the VPC has no route to the internet unless ``allow_internet_egress``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

__all__ = ["FLOWS", "SEGMENT_SLOTS", "WorkloadSegment", "WorkloadSegmentArgs", "segment_cidrs"]

#: The flows allowed between segments, by name, with the reason (README, "Workload
#: segments"). A network rule of a segment allows nothing else across segments.
FLOWS: Mapping[str, str] = {
    "to-endpoints": "HTTPS to the interface endpoints in the inference subnets (AWS APIs)",
    "to-s3": "HTTPS to S3 through the gateway endpoint (the data zones)",
    "within-training": "containers of one distributed training job, encrypted by SageMaker AI",
}

#: The first sixteenth of the VPC range each segment's subnets start at. The Network's
#: private subnets take the first ones (inference), its public subnets (egress only) the
#: last 256ths: these slots overlap neither.
SEGMENT_SLOTS: Mapping[str, int] = {"training": 4, "data-processing": 8}
_EPHEMERAL = (1024, 65535)
_EPHEMERAL_FROM_OUTSIDE = ((1024, 3388), (3390, 65535))


def segment_cidrs(vpc_cidr: str, workload: str, zones: int) -> list[str]:
    """The subnet ranges of ``workload``'s segment: ``zones`` sixteenths of the VPC range
    from its slot (``SEGMENT_SLOTS``)."""
    if workload not in SEGMENT_SLOTS:
        raise ValueError(f"no segment slot for {workload!r} (inference uses the Network's)")
    vpc = ipaddress.ip_network(vpc_cidr)
    sixteenths = list(vpc.subnets(new_prefix=vpc.prefixlen + 4))
    start = SEGMENT_SLOTS[workload]
    if zones > 4:
        raise ValueError("a segment spans at most 4 zones (4 sixteenths of the VPC range)")
    return [str(r) for r in sixteenths[start : start + zones]]


@dataclass(frozen=True)
class WorkloadSegmentArgs:
    """Arguments of :class:`WorkloadSegment`."""

    workload: str
    """``training`` or ``data-processing``."""
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    zone_ids: Sequence[pulumi.Input[str]]
    """One subnet per zone (the Network's ``zone_ids``)."""
    endpoint_subnet_cidrs: Sequence[str]
    """Ranges of the subnets holding the interface endpoints (the Network's private ones)."""
    endpoint_security_group_id: pulumi.Input[str]
    """The interface endpoints' security group: the segment's HTTPS goes there."""
    s3_gateway_endpoint_id: pulumi.Input[str]
    """The S3 gateway endpoint: its route is added to the segment's route tables."""
    s3_prefix_list_id: pulumi.Input[str]
    tags: Mapping[str, str]
    internal_traffic: bool = False
    """Allow all traffic between members of the segment's security group (distributed
    training: ``within-training`` in ``FLOWS``)."""


class WorkloadSegment(pulumi.ComponentResource):
    """Private subnets, route tables, network ACL and security group of one workload."""

    subnet_ids: list[pulumi.Output[str]]
    subnet_arns: list[pulumi.Output[str]]
    cidr_blocks: list[str]
    security_group_id: pulumi.Output[str]
    security_group_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: WorkloadSegmentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        cidrs = segment_cidrs(args.vpc_cidr, args.workload, len(args.zone_ids))
        vpc = ipaddress.ip_network(args.vpc_cidr)
        for endpoint_cidr in args.endpoint_subnet_cidrs:
            if any(
                ipaddress.ip_network(c).overlaps(ipaddress.ip_network(endpoint_cidr)) for c in cidrs
            ):
                raise ValueError(f"{name}: segment ranges overlap {endpoint_cidr}")
        if len(args.zone_ids) < 2:
            raise ValueError(f"{name}: a segment spans at least two zones")
        super().__init__("aiscaffold:aws:WorkloadSegment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        def tags(resource: str) -> dict[str, str]:
            return {**args.tags, "Name": f"{name}-{resource}", "workload": args.workload}

        self.cidr_blocks = cidrs
        self.subnet_ids = []
        self.subnet_arns = []
        for index, (cidr, zone) in enumerate(zip(cidrs, args.zone_ids, strict=True)):
            letter = chr(ord("a") + index)
            subnet = aws.ec2.Subnet(
                f"{name}-{letter}",
                vpc_id=args.vpc_id,
                cidr_block=cidr,
                availability_zone_id=zone,
                map_public_ip_on_launch=False,
                assign_ipv6_address_on_creation=False,
                tags={**tags(letter), "tier": "private"},
                opts=child,
            )
            table = aws.ec2.RouteTable(
                f"{name}-{letter}-routes",
                vpc_id=args.vpc_id,
                tags=tags(f"{letter}-routes"),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-{letter}-routes-assoc",
                subnet_id=subnet.id,
                route_table_id=table.id,
                opts=child,
            )
            # Flow to-s3: the gateway endpoint's route (no other route leaves the VPC).
            aws.ec2.VpcEndpointRouteTableAssociation(
                f"{name}-{letter}-s3-route",
                vpc_endpoint_id=args.s3_gateway_endpoint_id,
                route_table_id=table.id,
                opts=child,
            )
            self.subnet_ids.append(subnet.id)
            self.subnet_arns.append(subnet.arn)

        ingress: list[aws.ec2.NetworkAclIngressArgsDict] = []
        egress: list[aws.ec2.NetworkAclEgressArgsDict] = []
        for i, cidr in enumerate(cidrs):
            # Inside the segment (a job's own containers, retries between its tasks).
            ingress.append(_acl(100 + i, "allow", "-1", cidr, 0, 0))
            egress.append(_acl(100 + i, "allow", "-1", cidr, 0, 0))
        for i, cidr in enumerate(args.endpoint_subnet_cidrs):
            # Flow to-endpoints: HTTPS out, its replies back.
            egress.append(_acl(120 + i, "allow", "tcp", cidr, 443, 443))
            ingress.append(_acl(120 + i, "allow", "tcp", cidr, *_EPHEMERAL))
        # Everything else in the VPC (the other segments) is denied before the S3 rules.
        ingress.append(_acl(190, "deny", "-1", str(vpc), 0, 0))
        egress.append(_acl(190, "deny", "-1", str(vpc), 0, 0))
        # Flow to-s3: S3 answers from its public addresses (the gateway's prefix list).
        egress.append(_acl(200, "allow", "tcp", "0.0.0.0/0", 443, 443))
        for j, (low, high) in enumerate(_EPHEMERAL_FROM_OUTSIDE):
            ingress.append(_acl(200 + j, "allow", "tcp", "0.0.0.0/0", low, high))
        aws.ec2.NetworkAcl(
            f"{name}-nacl",
            vpc_id=args.vpc_id,
            subnet_ids=self.subnet_ids,
            ingress=ingress,
            egress=egress,
            tags=tags("nacl"),
            opts=child,
        )

        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"{args.workload}: no inbound, HTTPS to the endpoints and S3 only",
            revoke_rules_on_delete=True,
            tags=tags("sg"),
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-https-to-endpoints",
            security_group_id=group.id,
            description="Flow to-endpoints: HTTPS to the interface endpoints",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            referenced_security_group_id=args.endpoint_security_group_id,
            tags=tags("https-to-endpoints"),
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-https-to-s3",
            security_group_id=group.id,
            description="Flow to-s3: HTTPS to S3 through the gateway endpoint",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            prefix_list_id=args.s3_prefix_list_id,
            tags=tags("https-to-s3"),
            opts=child,
        )
        if args.internal_traffic:
            # Flow within-training: members of this group only, both ways.
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-within-segment-in",
                security_group_id=group.id,
                description="Flow within-training: distributed training containers",
                ip_protocol="tcp",
                from_port=8192,
                to_port=65535,
                referenced_security_group_id=group.id,
                tags=tags("within-segment-in"),
                opts=child,
            )
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-within-segment-out",
                security_group_id=group.id,
                description="Flow within-training: distributed training containers",
                ip_protocol="tcp",
                from_port=8192,
                to_port=65535,
                referenced_security_group_id=group.id,
                tags=tags("within-segment-out"),
                opts=child,
            )
        self.security_group_id = group.id
        self.security_group_arn = group.arn
        self.register_outputs(
            {"subnet_ids": self.subnet_ids, "security_group_id": self.security_group_id}
        )


def _acl(
    rule_no: int, action: str, protocol: str, cidr: str, from_port: int, to_port: int
) -> aws.ec2.NetworkAclIngressArgsDict:
    return {
        "rule_no": rule_no,
        "action": action,
        "protocol": protocol,
        "cidr_block": cidr,
        "from_port": from_port,
        "to_port": to_port,
    }
