"""Network: a private-only VPC across availability zones, with flow logs.

Subnets are placed by availability zone id (``use1-az1``), not by name: a zone's name
maps to a different physical zone in each account, and interface endpoint services are
not offered in every zone ("The VPC endpoint service ... does not support the
availability zone of the subnet",
https://github.com/terraform-aws-modules/terraform-aws-vpc/issues/462). The zones are
chosen, in the region's order, among those offering every interface endpoint service
the project creates (``NetworkArgs.endpoint_services``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ._common import (
    AwsContext,
    aws_context,
    cloudwatch_retention_days,
    policy_json,
    same_account,
    service_trust,
)
from .endpoints import endpoint_service_name

__all__ = ["Network", "NetworkArgs", "choose_zone_ids"]

_EPHEMERAL = (1024, 65535)
#: The ephemeral ports replies from outside the VPC may arrive on, minus 3389 (RDP): a
#: network ACL admitting a remote administration port from 0.0.0.0/0 fails CIS 5.1 and
#: Security Hub EC2.21 even when no route lets such traffic in (22 is below the range).
_EPHEMERAL_FROM_OUTSIDE = ((1024, 3388), (3390, 65535))


@dataclass(frozen=True)
class NetworkArgs:
    """Arguments of :class:`Network`.

    Always on: private subnets only (no public IP on launch), a default security group,
    default network ACL and main route table stripped of every rule and route, flow
    logs of ALL traffic to a KMS-encrypted log group.
    """

    tags: Mapping[str, str]
    """Tags of every taggable resource."""
    logs_key_arn: pulumi.Input[str]
    """KMS key encrypting the flow log group."""
    flow_log_retention_days: int = 365
    """Days flow logs are kept (rounded up to a retention CloudWatch Logs accepts)."""
    cidr_block: str = "10.0.0.0/16"
    """The VPC's IPv4 range, /16 to /20; private subnets take one sixteenth each."""
    az_count: int = 2
    """Availability zones to spread subnets over (at least two)."""
    allow_internet_egress: bool = False
    """Weakening: ``True`` adds an internet gateway, small public subnets holding one
    NAT gateway per zone, and a default route from the private subnets to them. Egress
    stays restricted: only HTTPS (TCP 443) leaves the private subnets, through the
    workload security group and the network ACLs, and only to ``egress_cidrs``;
    nothing from the internet can open a connection inward."""
    egress_cidrs: Sequence[str] = ("0.0.0.0/0",)
    """With ``allow_internet_egress``: the destinations the workload may reach over HTTPS."""
    allowed_regions: Sequence[str] = ()
    """Regions the project may deploy to (GOV-02); the run fails elsewhere. Empty: any."""
    endpoint_services: Sequence[str] = ()
    """Interface endpoint services (names of ``ENDPOINT_SERVICES``: ``bedrock-runtime``,
    ``kms``...) the subnets will hold endpoints of: subnets go only to zones offering
    every one of them, so creating the endpoints cannot fail on an unsupported zone.
    Existing subnets keep their zone when the zones chosen are the ones they are in
    (the first ``az_count`` zones of the region, when those offer every service)."""


class Network(pulumi.ComponentResource):
    """A VPC with private subnets only, locked defaults, NACLs and flow logs."""

    vpc: aws.ec2.Vpc
    vpc_id: pulumi.Output[str]
    vpc_arn: pulumi.Output[str]
    cidr_block: str
    private_subnet_ids: list[pulumi.Output[str]]
    private_subnet_arns: list[pulumi.Output[str]]
    private_route_table_ids: list[pulumi.Output[str]]
    private_subnet_cidrs: list[str]
    """The private subnets' ranges (the inference segment, where the endpoints live)."""
    zone_ids: list[pulumi.Output[str]]
    """The availability zone ids of the private subnets, in order (for more segments)."""
    workload_security_group: aws.ec2.SecurityGroup
    workload_security_group_id: pulumi.Output[str]
    """Security group for the workload: HTTPS out to the VPC (endpoints) only, no ingress."""
    workload_security_group_arn: pulumi.Output[str]
    flow_log_group_name: pulumi.Output[str]
    region: pulumi.Output[str]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        vpc_range = ipaddress.ip_network(args.cidr_block)
        if not isinstance(vpc_range, ipaddress.IPv4Network) or not 16 <= vpc_range.prefixlen <= 20:
            raise ValueError(f"cidr_block must be an IPv4 range from /16 to /20, not {vpc_range}")
        if args.az_count < 2:
            raise ValueError("az_count must be at least 2: one zone is one outage away")
        # Private subnets: the first sixteenths of the range; public ones (egress only):
        # the last 256ths, so the two never overlap.
        private_ranges = list(vpc_range.subnets(new_prefix=vpc_range.prefixlen + 4))
        public_ranges = list(vpc_range.subnets(new_prefix=vpc_range.prefixlen + 8))
        if args.az_count > 15:
            raise ValueError("az_count must be at most 15")
        private_ranges = private_ranges[: args.az_count]
        public_ranges = public_ranges[-args.az_count :]
        cidr = str(vpc_range)
        super().__init__("aiscaffold:aws:Network", name, None, opts)
        self.cidr_block = cidr

        ctx = aws_context(self)
        allowed = tuple(args.allowed_regions)

        def check_region(region: str) -> str:
            if allowed and region not in allowed:
                raise ValueError(
                    f"region {region} is not allowed for this project (allowed: "
                    f"{', '.join(allowed)}); the compliance answers restrict it (GOV-02)"
                )
            return region

        self.region = ctx.region.apply(check_region)
        child = pulumi.ResourceOptions(parent=self)

        def tags(resource: str, **extra: str) -> dict[str, str]:
            return {**args.tags, "Name": f"{name}-{resource}", **extra}

        zones = self._zone_ids(ctx, args)
        self.zone_ids = zones
        self.private_subnet_cidrs = [str(r) for r in private_ranges]

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=cidr,
            enable_dns_support=True,  # interface endpoints' private DNS needs both
            enable_dns_hostnames=True,
            instance_tenancy="default",
            tags=tags("vpc"),
            opts=child,
        )
        vpc_id = self.vpc.id
        # Adopt the defaults AWS creates with every VPC and strip them: the default
        # security group and network ACL lose every rule, the main route table every
        # route, so nothing placed there by mistake can talk to anything.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc_id,
            ingress=[],
            egress=[],
            tags=tags("default-sg"),
            opts=child,
        )
        aws.ec2.DefaultNetworkAcl(
            f"{name}-default-nacl",
            default_network_acl_id=self.vpc.default_network_acl_id,
            ingress=[],
            egress=[],
            tags=tags("default-nacl"),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["subnetIds"]),
        )
        aws.ec2.DefaultRouteTable(
            f"{name}-main-routes",
            default_route_table_id=self.vpc.default_route_table_id,
            routes=[],
            tags=tags("main-routes"),
            opts=child,
        )

        self.private_subnet_ids = []
        self.private_subnet_arns = []
        self.private_route_table_ids = []
        private_tables: list[aws.ec2.RouteTable] = []
        for index, subnet_range in enumerate(private_ranges):
            letter = chr(ord("a") + index)
            subnet = aws.ec2.Subnet(
                f"{name}-private-{letter}",
                vpc_id=vpc_id,
                cidr_block=str(subnet_range),
                availability_zone_id=zones[index],
                map_public_ip_on_launch=False,
                assign_ipv6_address_on_creation=False,
                tags=tags(f"private-{letter}", tier="private"),
                opts=child,
            )
            table = aws.ec2.RouteTable(
                f"{name}-private-{letter}-routes",
                vpc_id=vpc_id,
                tags=tags(f"private-{letter}-routes", tier="private"),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{letter}-routes-assoc",
                subnet_id=subnet.id,
                route_table_id=table.id,
                opts=child,
            )
            self.private_subnet_ids.append(subnet.id)
            self.private_subnet_arns.append(subnet.arn)
            self.private_route_table_ids.append(table.id)
            private_tables.append(table)

        # Network ACLs are stateless: return traffic needs its own rule. Private subnets
        # talk freely inside the VPC; beyond it only HTTPS leaves (the S3 gateway endpoint
        # is reached on S3's public addresses, so 0.0.0.0/0 here; routing, not the ACL,
        # decides what is reachable) and only replies come back.
        aws.ec2.NetworkAcl(
            f"{name}-private-nacl",
            vpc_id=vpc_id,
            subnet_ids=self.private_subnet_ids,
            ingress=[
                _acl(100, "-1", cidr, 0, 0),
                *(
                    _acl(110 + j, "tcp", "0.0.0.0/0", low, high)
                    for j, (low, high) in enumerate(_EPHEMERAL_FROM_OUTSIDE)
                ),
            ],
            egress=[
                _acl(100, "-1", cidr, 0, 0),
                _acl(110, "tcp", "0.0.0.0/0", 443, 443),
            ],
            tags=tags("private-nacl"),
            opts=child,
        )

        self.workload_security_group = aws.ec2.SecurityGroup(
            f"{name}-workload-sg",
            vpc_id=vpc_id,
            # EC2 refuses an apostrophe here (allowed: a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*):
            # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
            description="Workload: no inbound, HTTPS to the private endpoints of the VPC",
            revoke_rules_on_delete=True,
            tags=tags("workload-sg"),
            opts=child,
        )
        self.workload_security_group_id = self.workload_security_group.id
        self.workload_security_group_arn = self.workload_security_group.arn
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-workload-https-to-vpc",
            security_group_id=self.workload_security_group_id,
            description="HTTPS to interface endpoints in the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=cidr,
            tags=tags("workload-https-to-vpc"),
            opts=child,
        )

        if args.allow_internet_egress:
            self._internet_egress(name, args, vpc_id, cidr, public_ranges, zones, private_tables)

        self._flow_logs(name, args, ctx, vpc_id)
        self.vpc_id = vpc_id
        self.vpc_arn = self.vpc.arn
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_ids": self.private_subnet_ids,
                "workload_security_group_id": self.workload_security_group_id,
                "flow_log_group_name": self.flow_log_group_name,
                "region": self.region,
            }
        )

    def _internet_egress(
        self,
        name: str,
        args: NetworkArgs,
        vpc_id: pulumi.Output[str],
        cidr: str,
        public_ranges: Sequence[ipaddress.IPv4Network],
        zones: Sequence[pulumi.Output[str]],
        private_tables: Sequence[aws.ec2.RouteTable],
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)

        def tags(resource: str, **extra: str) -> dict[str, str]:
            return {**args.tags, "Name": f"{name}-{resource}", **extra}

        gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc_id, tags=tags("igw"), opts=child
        )
        public_table = aws.ec2.RouteTable(
            f"{name}-public-routes", vpc_id=vpc_id, tags=tags("public-routes"), opts=child
        )
        aws.ec2.Route(
            f"{name}-public-default-route",
            route_table_id=public_table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=gateway.id,
            opts=child,
        )
        public_subnet_ids: list[pulumi.Output[str]] = []
        for index, (subnet_range, private_table) in enumerate(
            zip(public_ranges, private_tables, strict=True)
        ):
            letter = chr(ord("a") + index)
            subnet = aws.ec2.Subnet(
                f"{name}-public-{letter}",
                vpc_id=vpc_id,
                cidr_block=str(subnet_range),
                availability_zone_id=zones[index],
                # Only the NAT gateways live here, on Elastic IPs: nothing gets a
                # public address by accident.
                map_public_ip_on_launch=False,
                tags=tags(f"public-{letter}", tier="public"),
                opts=child,
            )
            public_subnet_ids.append(subnet.id)
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{letter}-routes-assoc",
                subnet_id=subnet.id,
                route_table_id=public_table.id,
                opts=child,
            )
            address = aws.ec2.Eip(
                f"{name}-nat-{letter}-eip", domain="vpc", tags=tags(f"nat-{letter}-eip"), opts=child
            )
            nat = aws.ec2.NatGateway(
                f"{name}-nat-{letter}",
                subnet_id=subnet.id,
                allocation_id=address.allocation_id,
                connectivity_type="public",
                tags=tags(f"nat-{letter}"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
            )
            aws.ec2.Route(
                f"{name}-private-{letter}-egress-route",
                route_table_id=private_table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
                opts=child,
            )
        # Public subnets: HTTPS in from the VPC only (to the NAT gateways), HTTPS out to
        # the allowed destinations, and the replies of both.
        aws.ec2.NetworkAcl(
            f"{name}-public-nacl",
            vpc_id=vpc_id,
            subnet_ids=public_subnet_ids,
            ingress=[
                _acl(100, "tcp", cidr, 443, 443),
                *(
                    _acl(110 + 2 * i + j, "tcp", dest, low, high)
                    for i, dest in enumerate(args.egress_cidrs)
                    for j, (low, high) in enumerate(_EPHEMERAL_FROM_OUTSIDE)
                ),
            ],
            egress=[
                *(_acl(100 + i, "tcp", dest, 443, 443) for i, dest in enumerate(args.egress_cidrs)),
                _acl(200, "tcp", cidr, *_EPHEMERAL),
            ],
            tags=tags("public-nacl"),
            opts=child,
        )
        for index, dest in enumerate(args.egress_cidrs):
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-workload-https-egress-{index}",
                security_group_id=self.workload_security_group.id,
                description="HTTPS to the internet through the NAT gateways (allow_internet_egress)",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=dest,
                tags=tags(f"workload-https-egress-{index}"),
                opts=child,
            )

    def _zone_ids(self, ctx: AwsContext, args: NetworkArgs) -> list[pulumi.Output[str]]:
        """The ids of the ``az_count`` zones the subnets go to, one output per subnet."""
        opts = pulumi.InvokeOutputOptions(parent=self)
        zones = aws.get_availability_zones_output(
            state="available",
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=opts,
        )
        services = list(dict.fromkeys(args.endpoint_services))
        offered = [
            aws.ec2.get_vpc_endpoint_service_output(
                service_name=endpoint_service_name(ctx, service),
                service_type="Interface",
                opts=opts,
            ).availability_zones
            for service in services
        ]

        def pick(values: list[list[str]]) -> list[str]:
            names, ids, *offers = values
            return choose_zone_ids(
                names, ids, dict(zip(services, offers, strict=True)), args.az_count
            )

        chosen = pulumi.Output.all(zones.names, zones.zone_ids, *offered).apply(pick)

        def nth(index: int) -> pulumi.Output[str]:
            return chosen.apply(lambda ids: ids[index])

        return [nth(index) for index in range(args.az_count)]

    def _flow_logs(
        self,
        name: str,
        args: NetworkArgs,
        ctx: AwsContext,
        vpc_id: pulumi.Output[str],
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        base = {**args.tags}
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            kms_key_id=args.logs_key_arn,
            retention_in_days=cloudwatch_retention_days(args.flow_log_retention_days),
            log_group_class="STANDARD",
            tags={**base, "Name": f"{name}-flow-logs"},
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            description="VPC flow logs delivery to CloudWatch Logs",
            assume_role_policy=policy_json(
                [
                    service_trust(
                        "VpcFlowLogsOfThisAccount",
                        "vpc-flow-logs.amazonaws.com",
                        same_account(ctx.account_id),
                        {
                            "test": "ArnLike",
                            "variable": "aws:SourceArn",
                            "values": [ctx.arn("ec2", "vpc-flow-log/*")],
                        },
                    )
                ],
                parent=self,
            ),
            max_session_duration=3600,
            tags={**base, "Name": f"{name}-flow-logs-role"},
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=role.id,
            policy=policy_json(
                [
                    {
                        "sid": "WriteFlowLogsToItsGroup",
                        "effect": "Allow",
                        "actions": [
                            "logs:CreateLogStream",
                            "logs:DescribeLogStreams",
                            "logs:PutLogEvents",
                        ],
                        "resources": [group.arn, pulumi.Output.concat(group.arn, ":*")],
                    }
                ],
                parent=self,
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={**base, "Name": f"{name}-flow-log"},
            opts=child,
        )
        self.flow_log_group_name = group.name


def choose_zone_ids(
    names: Sequence[str],
    zone_ids: Sequence[str],
    offered: Mapping[str, Sequence[str]],
    count: int,
) -> list[str]:
    """The first ``count`` zone ids, in the region's order, whose zone offers every service.

    Args:
        names: the region's zone names (``get_availability_zones``), in its order.
        zone_ids: their ids, in the same order.
        offered: per interface endpoint service, the names of the zones offering it.
        count: how many zones the network spans.
    """
    usable = [
        zone_id
        for name, zone_id in zip(names, zone_ids, strict=True)
        if all(name in zones for zones in offered.values())
    ]
    if len(usable) < count:
        missing = {service: sorted(set(names) - set(zones)) for service, zones in offered.items()}
        gaps = "; ".join(f"{s} is not offered in {', '.join(z)}" for s, z in missing.items() if z)
        raise ValueError(
            f"the region has {len(usable)} availability zones offering every endpoint "
            f"service, fewer than az_count={count}" + (f" ({gaps})" if gaps else "")
        )
    return usable[:count]


def _acl(
    rule_no: int, protocol: str, cidr: str, from_port: int, to_port: int
) -> aws.ec2.NetworkAclIngressArgsDict:
    return {
        "rule_no": rule_no,
        "action": "allow",
        "protocol": protocol,
        "cidr_block": cidr,
        "from_port": from_port,
        "to_port": to_port,
    }
