"""Network: private-only VPC, locked defaults, NACLs, flow logs, internet egress weakening."""

from __future__ import annotations

import ipaddress

import pytest
from aiscaffold.testing import MockRun, ProgramError
from aiscaffold_components.aws import Network, NetworkArgs
from aiscaffold_components.aws._common import cloudwatch_retention_days
from aws.aws_support import ACCOUNT, KEY, REGION, TAGS, changes, policy, run_component, untagged

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
NACL = "aws:ec2/networkAcl:NetworkAcl"
INTERNET = {
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/route:Route",
}


def build(region: str = REGION, **overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "tags": TAGS,
        "logs_key_arn": KEY,
        "flow_log_retention_days": 365,
    }
    settings.update(overrides)
    return run_component(lambda: Network("net", NetworkArgs(**settings)), region=region)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def private() -> MockRun:
    return build()


@pytest.fixture(scope="module")
def egress() -> MockRun:
    return build(allow_internet_egress=True)


def test_private_subnets_across_two_zones_inside_the_vpc(private: MockRun) -> None:
    vpc = private.one(VPC)
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    assert vpc.inputs["enableDnsSupport"] is True and vpc.inputs["enableDnsHostnames"] is True
    subnets = private.of_type(SUBNET)
    assert len(subnets) == 2
    assert len({s.inputs["availabilityZoneId"] for s in subnets}) == 2
    assert not any("availabilityZone" in s.inputs for s in subnets)
    ranges = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in subnets]
    assert all(r.subnet_of(ipaddress.ip_network("10.0.0.0/16")) for r in ranges)
    assert not ranges[0].overlaps(ranges[1])
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)


def test_no_route_to_the_internet_by_default(private: MockRun) -> None:
    assert not {r.type for r in private.resources} & INTERNET
    for table in private.of_type("aws:ec2/routeTable:RouteTable"):
        assert not table.inputs.get("routes")
    assert private.one("aws:ec2/defaultRouteTable:DefaultRouteTable").inputs["routes"] == []


def test_default_security_group_and_acl_have_no_rules(private: MockRun) -> None:
    group = private.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert group.inputs["ingress"] == [] and group.inputs["egress"] == []
    acl = private.one("aws:ec2/defaultNetworkAcl:DefaultNetworkAcl")
    assert acl.inputs["ingress"] == [] and acl.inputs["egress"] == []


def test_workload_group_reaches_only_https_in_the_vpc(private: MockRun) -> None:
    assert not private.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    (rule,) = private.of_type(EGRESS)
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
        "tcp",
        443,
        443,
    )
    assert rule.inputs["cidrIpv4"] == "10.0.0.0/16"


def test_private_acl_lets_only_https_leave_the_vpc(private: MockRun) -> None:
    (acl,) = private.of_type(NACL)
    outside = [r for r in acl.inputs["egress"] if r["cidrBlock"] != "10.0.0.0/16"]
    assert [(r["protocol"], r["fromPort"], r["toPort"]) for r in outside] == [("tcp", 443, 443)]
    inbound = [r for r in acl.inputs["ingress"] if r["cidrBlock"] != "10.0.0.0/16"]
    # Only replies (ephemeral ports, but not RDP's 3389) come back from outside the VPC.
    assert [(r["protocol"], r["fromPort"], r["toPort"]) for r in inbound] == [
        ("tcp", 1024, 3388),
        ("tcp", 3390, 65535),
    ]
    assert len(acl.inputs["subnetIds"]) == 2


def test_flow_logs_capture_all_traffic_encrypted(private: MockRun) -> None:
    log = private.one("aws:ec2/flowLog:FlowLog")
    assert log.inputs["trafficType"] == "ALL"
    assert log.inputs["logDestinationType"] == "cloud-watch-logs"
    group = private.one("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["kmsKeyId"] == KEY
    assert group.inputs["retentionInDays"] == 365
    assert log.inputs["logDestination"] == group.outputs["arn"]
    role = private.one("aws:iam/role:Role")
    trust = policy(role, "assumeRolePolicy")["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    grant = policy(private.one("aws:iam/rolePolicy:RolePolicy"))["Statement"][0]
    assert group.outputs["arn"] in grant["Resource"]


def test_every_taggable_resource_is_tagged(private: MockRun, egress: MockRun) -> None:
    assert untagged(private, TAGS) == []
    assert untagged(egress, TAGS) == []


def test_internet_egress_adds_nat_and_touches_nothing_else(
    private: MockRun, egress: MockRun
) -> None:
    diff = changes(private, egress)
    assert not diff.removed
    assert diff.changed == {}
    assert diff.added_types >= INTERNET
    assert diff.added_types <= INTERNET | {
        SUBNET,
        NACL,
        EGRESS,
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
    }
    assert len(egress.of_type("aws:ec2/natGateway:NatGateway")) == 2
    # The private subnets' default route goes to a NAT gateway, never the internet gateway.
    private_routes = [r for r in egress.of_type("aws:ec2/route:Route") if "private" in r.name]
    assert len(private_routes) == 2
    assert all("natGatewayId" in r.inputs and "gatewayId" not in r.inputs for r in private_routes)
    new_subnets = [egress.one(SUBNET, name) for t, name in diff.added if t == SUBNET]
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in new_subnets)


def test_internet_egress_is_https_only_to_the_named_destinations() -> None:
    result = build(allow_internet_egress=True, egress_cidrs=["198.51.100.0/24"])
    rules = [r for r in result.of_type(EGRESS) if r.inputs["cidrIpv4"] != "10.0.0.0/16"]
    assert [(r.inputs["cidrIpv4"], r.inputs["fromPort"], r.inputs["toPort"]) for r in rules] == [
        ("198.51.100.0/24", 443, 443)
    ]
    public = result.one(NACL, "net-public-nacl")
    assert {r["cidrBlock"] for r in public.inputs["egress"] if r["toPort"] == 443} == {
        "198.51.100.0/24"
    }
    assert {r["cidrBlock"] for r in public.inputs["ingress"] if r["fromPort"] == 443} == {
        "10.0.0.0/16"
    }


def test_flow_log_retention_rounds_up_to_what_cloudwatch_accepts() -> None:
    result = build(flow_log_retention_days=913)  # FedRAMP's 30 months
    assert result.one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 1096
    assert cloudwatch_retention_days(365) == 365
    with pytest.raises(ValueError, match="exceeds"):
        cloudwatch_retention_days(4000)


def test_regions_outside_the_allowed_ones_fail_the_run() -> None:
    assert build(allowed_regions=[REGION]).one(VPC)
    with pytest.raises(ProgramError, match="not allowed"):
        build(region="eu-west-1", allowed_regions=[REGION])


@pytest.mark.parametrize(
    ("field", "value"),
    [("cidr_block", "10.0.0.0/8"), ("cidr_block", "10.0.0.0/24"), ("az_count", 1)],
)
def test_bad_layouts_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        Network("net", NetworkArgs(tags=TAGS, logs_key_arn=KEY, **{field: value}))  # type: ignore[arg-type]
