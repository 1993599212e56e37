"""AWS network, endpoint and IAM policies: compliant and non-compliant fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold_components.aws import ECR_ENDPOINT_SERVICES, ENDPOINT_ACTIONS, ENDPOINT_SERVICES
from aws.aws_policy_support import (
    ACCOUNT,
    REGION,
    SOURCE_ACCOUNT,
    TAGS,
    TLS,
    check,
    doc,
    flagged,
    res,
    stmt,
    unknown,
    workload_role,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

VPC = "aws:ec2/vpc:Vpc"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


# ---------------------------------------------------------------------------- EC2
def test_ec2_001_internet_path_only_with_egress() -> None:
    resources = [
        res("aws:ec2/internetGateway:InternetGateway", "igw", {"tags": TAGS}),
        res("aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway", "eigw", {"tags": TAGS}),
        res("aws:ec2/natGateway:NatGateway", "nat", {"tags": TAGS}),
        res("aws:ec2/eip:Eip", "eip", {"domain": "vpc", "tags": TAGS}),
        res(VPC, "vpc", {"cidrBlock": "10.0.0.0/16", "tags": TAGS}),
    ]
    assert flagged(check(resources), "AWS-EC2-001") == {"igw", "eigw", "nat", "eip"}
    assert not flagged(check(resources, allow_internet_egress=True), "AWS-EC2-001")


def test_ec2_002_no_public_addresses() -> None:
    subnet, lb = "aws:ec2/subnet:Subnet", "aws:lb/loadBalancer:LoadBalancer"
    report = check(
        [
            res(subnet, "private", {"mapPublicIpOnLaunch": False}),
            res(subnet, "default-private", {}),
            res(subnet, "public-v4", {"mapPublicIpOnLaunch": True}),
            res(subnet, "public-v6", {"assignIpv6AddressOnCreation": True}),
            res("aws:ec2/instance:Instance", "exposed", {"associatePublicIpAddress": True}),
            res("aws:ec2/instance:Instance", "hidden", {"associatePublicIpAddress": False}),
            res(lb, "internal", {"internal": True}),
            res(lb, "internet-facing", {"internal": False}),
            res(lb, "default-lb", {}),
        ]
    )
    assert flagged(report, "AWS-EC2-002") == {
        "public-v4",
        "public-v6",
        "exposed",
        "internet-facing",
        "default-lb",
    }


def test_ec2_003_no_internet_routes_unless_egress() -> None:
    route, table = "aws:ec2/route:Route", "aws:ec2/routeTable:RouteTable"
    resources = [
        res(route, "peer", {"routeTableId": "rtb-1", "destinationCidrBlock": "10.1.0.0/16"}),
        res(route, "default-v4", {"routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0"}),
        res(route, "default-v6", {"routeTableId": "rtb-1", "destinationIpv6CidrBlock": "::/0"}),
        res(table, "inline", {"routes": [{"cidrBlock": "0.0.0.0/0", "natGatewayId": "nat-1"}]}),
        res("aws:ec2/defaultRouteTable:DefaultRouteTable", "main", {"routes": []}),
    ]
    assert flagged(check(resources), "AWS-EC2-003") == {"default-v4", "default-v6", "inline"}
    assert not flagged(check(resources, allow_internet_egress=True), "AWS-EC2-003")


def test_ec2_004_005_default_group_and_acl_have_no_rules() -> None:
    rule = {"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"]}
    sg, acl = (
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl",
    )
    report = check(
        [
            res(sg, "stripped-sg", {"ingress": [], "egress": []}),
            res(sg, "adopted-sg", {}),  # the provider strips an adopted group's rules
            res(sg, "open-sg", {"ingress": [rule], "egress": []}),
            res(sg, "egress-sg", {"ingress": [], "egress": [rule]}),
            res(acl, "stripped-acl", {"ingress": [], "egress": []}),
            res(acl, "open-acl", {"ingress": [{**rule, "action": "allow", "ruleNo": 100.0}]}),
        ]
    )
    assert flagged(report, "AWS-EC2-004") == {"open-sg", "egress-sg"}
    assert flagged(report, "AWS-EC2-005") == {"open-acl"}


def _rule(kind: str, name: str, **inputs: Any) -> Any:
    return res(
        f"aws:vpc/securityGroup{kind}Rule:SecurityGroup{kind}Rule",
        name,
        {"securityGroupId": "sg-1", **inputs},
    )


def test_ec2_006_no_ingress_from_the_internet() -> None:
    report = check(
        [
            _rule(
                "Ingress",
                "from-vpc",
                ipProtocol="tcp",
                fromPort=443.0,
                toPort=443.0,
                cidrIpv4="10.0.0.0/16",
            ),
            _rule(
                "Ingress",
                "from-group",
                ipProtocol="tcp",
                fromPort=443.0,
                toPort=443.0,
                referencedSecurityGroupId="sg-2",
            ),
            _rule(
                "Ingress",
                "from-anywhere",
                ipProtocol="tcp",
                fromPort=22.0,
                toPort=22.0,
                cidrIpv4="0.0.0.0/0",
            ),
            _rule(
                "Ingress",
                "from-public-range",
                ipProtocol="tcp",
                fromPort=443.0,
                toPort=443.0,
                cidrIpv4="203.0.113.0/24",
            ),
            res(
                "aws:ec2/securityGroup:SecurityGroup",
                "inline-v6",
                {
                    "ingress": [
                        {
                            "protocol": "tcp",
                            "fromPort": 443.0,
                            "toPort": 443.0,
                            "ipv6CidrBlocks": ["::/0"],
                        }
                    ]
                },
            ),
            res(
                "aws:ec2/securityGroupRule:SecurityGroupRule",
                "legacy",
                {
                    "type": "ingress",
                    "protocol": "tcp",
                    "fromPort": 80.0,
                    "toPort": 80.0,
                    "cidrBlocks": ["0.0.0.0/0"],
                },
            ),
            res(
                "aws:ec2/securityGroupRule:SecurityGroupRule",
                "legacy-egress",
                {
                    "type": "egress",
                    "protocol": "tcp",
                    "fromPort": 443.0,
                    "toPort": 443.0,
                    "cidrBlocks": ["10.0.0.0/16"],
                },
            ),
        ]
    )
    assert flagged(report, "AWS-EC2-006") == {
        "from-anywhere",
        "from-public-range",
        "inline-v6",
        "legacy",
    }


def test_ec2_007_internet_egress_https_only_and_only_when_chosen() -> None:
    resources = [
        _rule(
            "Egress",
            "to-vpc",
            ipProtocol="tcp",
            fromPort=443.0,
            toPort=443.0,
            cidrIpv4="10.0.0.0/16",
        ),
        _rule(
            "Egress", "to-s3", ipProtocol="tcp", fromPort=443.0, toPort=443.0, prefixListId="pl-1"
        ),
        _rule(
            "Egress",
            "https-out",
            ipProtocol="tcp",
            fromPort=443.0,
            toPort=443.0,
            cidrIpv4="0.0.0.0/0",
        ),
        _rule("Egress", "all-out", ipProtocol="-1", cidrIpv4="0.0.0.0/0"),
        res(
            "aws:ec2/securityGroup:SecurityGroup",
            "inline-http",
            {
                "egress": [
                    {
                        "protocol": "tcp",
                        "fromPort": 80.0,
                        "toPort": 80.0,
                        "cidrBlocks": ["0.0.0.0/0"],
                    }
                ]
            },
        ),
    ]
    assert flagged(check(resources), "AWS-EC2-007") == {"https-out", "all-out", "inline-http"}
    assert flagged(check(resources, allow_internet_egress=True), "AWS-EC2-007") == {
        "all-out",
        "inline-http",
    }


def _entry(
    rule_no: float, protocol: str, cidr: str, low: float, high: float, action: str = "allow"
) -> dict[str, Any]:
    return {
        "ruleNo": rule_no,
        "protocol": protocol,
        "cidrBlock": cidr,
        "fromPort": low,
        "toPort": high,
        "action": action,
    }


def test_ec2_008_network_acls_admit_replies_and_send_https_only() -> None:
    acl = "aws:ec2/networkAcl:NetworkAcl"
    vpc_all = _entry(100.0, "-1", "10.0.0.0/16", 0.0, 0.0)
    replies = _entry(110.0, "tcp", "0.0.0.0/0", 1024.0, 3388.0)
    more_replies = _entry(111.0, "tcp", "0.0.0.0/0", 3390.0, 65535.0)
    https = _entry(110.0, "tcp", "0.0.0.0/0", 443.0, 443.0)
    report = check(
        [
            res(
                acl,
                "private",
                {"ingress": [vpc_all, replies, more_replies], "egress": [vpc_all, https]},
            ),
            res(acl, "rdp-in", {"ingress": [_entry(120.0, "tcp", "0.0.0.0/0", 1024.0, 65535.0)]}),
            res(acl, "ssh-in", {"ingress": [_entry(120.0, "tcp", "0.0.0.0/0", 22.0, 22.0)]}),
            res(acl, "all-in", {"ingress": [_entry(120.0, "-1", "0.0.0.0/0", 0.0, 0.0)]}),
            res(acl, "http-out", {"egress": [_entry(120.0, "6", "0.0.0.0/0", 80.0, 80.0)]}),
            res(
                acl, "denies-all", {"ingress": [_entry(90.0, "-1", "0.0.0.0/0", 0.0, 0.0, "deny")]}
            ),
            res(
                "aws:ec2/networkAclRule:NetworkAclRule",
                "rule-in",
                {
                    "egress": False,
                    "ruleAction": "allow",
                    "protocol": "tcp",
                    "cidrBlock": "0.0.0.0/0",
                    "fromPort": 3389.0,
                    "toPort": 3389.0,
                },
            ),
        ]
    )
    assert flagged(report, "AWS-EC2-008") == {"ssh-in", "rdp-in", "all-in", "http-out", "rule-in"}


def test_ec2_009_flow_logs_capture_everything_somewhere() -> None:
    flow = "aws:ec2/flowLog:FlowLog"
    destination = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:flow"
    report = check(
        [
            res(
                flow, "all", {"vpcId": "vpc-1", "trafficType": "ALL", "logDestination": destination}
            ),
            res(
                flow,
                "rejects",
                {"vpcId": "vpc-1", "trafficType": "REJECT", "logDestination": destination},
            ),
            res(flow, "nowhere", {"vpcId": "vpc-1", "trafficType": "ALL"}),
        ]
    )
    assert flagged(report, "AWS-EC2-009") == {"rejects", "nowhere"}


def test_ec2_010_every_vpc_has_flow_logs() -> None:
    flow = res(
        "aws:ec2/flowLog:FlowLog",
        "flow",
        {"vpcId": "vpc-1", "trafficType": "ALL", "logDestination": "x"},
    )
    # With ids (the engine's view of stack resources), each VPC is matched.
    identified = [res(VPC, "logged", {"id": "vpc-1"}), res(VPC, "dark", {"id": "vpc-2"}), flow]
    assert flagged(check(identified), "AWS-EC2-010") == {"dark"}
    # Without ids, the count decides.
    assert flagged(check([res(VPC, "a"), res(VPC, "b"), flow]), "AWS-EC2-010") == {"(stack)"}
    assert not flagged(check([res(VPC, "a"), flow]), "AWS-EC2-010")


def test_ec2_011_vpc_dns_for_private_endpoints() -> None:
    report = check(
        [
            res(VPC, "resolving", {"enableDnsSupport": True, "enableDnsHostnames": True}),
            res(VPC, "default-support", {"enableDnsHostnames": True}),
            res(VPC, "no-hostnames", {"enableDnsSupport": True}),
            res(VPC, "no-dns", {"enableDnsSupport": False, "enableDnsHostnames": True}),
        ]
    )
    assert flagged(report, "AWS-EC2-011") == {"no-hostnames", "no-dns"}


def _tcp(low: float, high: float, **peer: Any) -> dict[str, Any]:
    return {"ipProtocol": "tcp", "fromPort": low, "toPort": high, **peer}


SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
VPC_CIDR = {"cidrIpv4": "10.0.0.0/16"}
SELF = {"referencedSecurityGroupId": "sg-1"}  # _rule's rules belong to sg-1
OTHER_GROUP = {"referencedSecurityGroupId": "sg-2"}


def test_ec2_012_rules_open_only_the_components_ports_whatever_the_peer() -> None:
    report = check(
        [
            # what the components open: HTTPS to any peer, NFS, Studio apps within their group
            _rule("Ingress", "https-from-vpc", **_tcp(443.0, 443.0, **VPC_CIDR)),
            _rule("Egress", "https-to-s3", **_tcp(443.0, 443.0, prefixListId="pl-1")),
            _rule("Egress", "https-to-group", **_tcp(443.0, 443.0, **OTHER_GROUP)),
            _rule("Ingress", "nfs-in", **_tcp(2049.0, 2049.0, **SELF)),
            _rule("Egress", "nfs-out", **_tcp(2049.0, 2049.0, **OTHER_GROUP)),
            _rule("Ingress", "apps-in", **_tcp(8192.0, 65535.0, **SELF)),
            _rule("Egress", "apps-out", **_tcp(8192.0, 65535.0, **SELF)),
            _rule("Ingress", "tcp-by-number", ipProtocol="6", fromPort=443.0, toPort=443.0),
            # every protocol, another protocol
            _rule("Egress", "all-protocols", ipProtocol="-1", **VPC_CIDR),
            _rule("Ingress", "all-to-group", ipProtocol="-1", **SELF),
            _rule("Egress", "udp-dns", ipProtocol="udp", fromPort=53.0, toPort=53.0, **VPC_CIDR),
            _rule("Ingress", "icmp", ipProtocol="icmp", fromPort=-1.0, toPort=-1.0, **VPC_CIDR),
            # TCP, but wider or other ports, inside the VPC
            _rule("Ingress", "from-zero", **_tcp(0.0, 443.0, **VPC_CIDR)),
            _rule("Egress", "to-the-top", **_tcp(443.0, 65535.0, prefixListId="pl-1")),
            _rule("Ingress", "ssh-from-vpc", **_tcp(22.0, 22.0, **VPC_CIDR)),
            _rule("Egress", "plain-http-to-s3", **_tcp(80.0, 80.0, prefixListId="pl-1")),
            _rule("Ingress", "apps-below-8192", **_tcp(0.0, 65535.0, **SELF)),
            # Studio's app range, but to another peer than the group itself
            _rule("Ingress", "apps-from-vpc", **_tcp(8192.0, 65535.0, **VPC_CIDR)),
            _rule("Egress", "apps-to-other-group", **_tcp(8192.0, 65535.0, **OTHER_GROUP)),
            # the older rule resource and inline rules
            res(SG_RULE, "legacy-https", {"type": "ingress", "protocol": "tcp", "fromPort": 443.0,
                                           "toPort": 443.0, "cidrBlocks": ["10.0.0.0/16"]}),
            res(SG_RULE, "legacy-self", {"type": "egress", "protocol": "tcp", "fromPort": 8192.0,
                                          "toPort": 65535.0, "self": True}),
            res(SG_RULE, "legacy-source", {"type": "ingress", "protocol": "tcp",
                                            "fromPort": 8192.0, "toPort": 65535.0,
                                            "securityGroupId": "sg-1",
                                            "sourceSecurityGroupId": "sg-1"}),
            res(SG_RULE, "legacy-wide", {"type": "egress", "protocol": "tcp", "fromPort": 0.0,
                                          "toPort": 65535.0, "cidrBlocks": ["10.0.0.0/16"]}),
            res(SECURITY_GROUP, "no-inline-rules", {"vpcId": "vpc-1"}),
            res(SECURITY_GROUP, "inline-ok", {
                "ingress": [{"protocol": "tcp", "fromPort": 8192.0, "toPort": 65535.0,
                             "self": True}],
                "egress": [{"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0,
                            "cidrBlocks": ["10.0.0.0/16"]}],
            }),
            res(SECURITY_GROUP, "inline-open", {
                "ingress": [{"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0,
                             "cidrBlocks": ["10.0.0.0/16"]}],
                "egress": [{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0,
                            "cidrBlocks": ["10.0.0.0/16"]}],
            }),
        ]
    )  # fmt: skip
    assert flagged(report, "AWS-EC2-012") == {
        "all-protocols",
        "all-to-group",
        "udp-dns",
        "icmp",
        "from-zero",
        "to-the-top",
        "ssh-from-vpc",
        "plain-http-to-s3",
        "apps-below-8192",
        "apps-from-vpc",
        "apps-to-other-group",
        "legacy-wide",
        "inline-open",
    }
    found = {f.resource: f.message for f in report.violations if f.policy == "AWS-EC2-012"}
    assert (
        found["inline-open"]
        == "inline-open egress rule opens every protocol: the project opens TCP only"
    )
    assert found["ssh-from-vpc"] == (
        "ssh-from-vpc ingress rule opens TCP 22-22: the project opens only TCP 443, 2049, "
        "8192-65535 within a group"
    )
    assert found["apps-from-vpc"] == (
        "apps-from-vpc ingress rule opens TCP 8192-65535 to another peer: that range is only "
        "for SageMaker Studio apps among themselves, within their own group"
    )


def test_ec2_012_a_rule_the_workload_needs_takes_a_recorded_override() -> None:
    """A user-added rule fails with the way out in the remediation; the override that
    takes it makes the finding advisory, so it no longer blocks, and stays visible."""
    postgres = _rule("Egress", "workload-to-postgres", **_tcp(5432.0, 5432.0, **OTHER_GROUP))
    (finding,) = [f for f in check([postgres]).violations if f.policy == "AWS-EC2-012"]
    assert finding.level == "mandatory"
    assert "AWS-EC2-012 in policy/enforcement.yaml" in finding.remediation
    reason = "the workload reads the orders database in the shared VPC"
    overridden = check(
        [postgres], overrides={"AWS-EC2-012": {"level": "advisory", "reason": reason}}
    )
    (finding,) = [f for f in overridden.violations if f.policy == "AWS-EC2-012"]
    assert finding.level == "advisory"
    assert not [f for f in overridden.mandatory if f.policy == "AWS-EC2-012"]


def test_ec2_012_the_studio_range_waits_for_unknown_group_ids() -> None:
    unknown_ids = {"securityGroupId": UNKNOWN_STRING_VALUE}
    report = check(
        [
            res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "apps-in",
                {**unknown_ids, **_tcp(8192.0, 65535.0, referencedSecurityGroupId=UNKNOWN_STRING_VALUE)}),
            # HTTPS is allowed whatever the peer: the unknown group id is never read
            res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "https-in",
                {**unknown_ids, **_tcp(443.0, 443.0, referencedSecurityGroupId=UNKNOWN_STRING_VALUE)}),
        ]
    )  # fmt: skip
    assert unknown(report, "AWS-EC2-012") == {"apps-in"}
    assert not flagged(report, "AWS-EC2-012")


# ---------------------------------------------------------------------- endpoints
ACCOUNT_ONLY = {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}


def _endpoint(name: str, service: str, kind: str = "Interface", **inputs: Any) -> Any:
    service_name = (
        "aws.sagemaker.us-east-1.studio"
        if service == "sagemaker.studio"
        else f"com.amazonaws.us-east-1.{service}"
    )
    base: dict[str, Any] = {
        "vpcId": "vpc-1",
        "serviceName": service_name,
        "vpcEndpointType": kind,
        "tags": TAGS,
    }
    if kind == "Interface":
        base["privateDnsEnabled"] = True
    if service != "sagemaker.studio":
        prefix = service.split(".")[0].split("-")[0]
        listed = ENDPOINT_ACTIONS.get(service, (f"{prefix}:GetObject",))
        actions = [f"{prefix}:*"] if listed is None else list(listed)
        base["policy"] = doc(stmt(actions, principal="*", condition=ACCOUNT_ONLY))
    base.update(inputs)
    return res(ENDPOINT, name, {k: v for k, v in base.items() if v is not None})


def test_vpce_001_private_dns_on_interface_endpoints() -> None:
    report = check(
        [
            _endpoint("kms", "kms"),
            _endpoint("sts", "sts", privateDnsEnabled=False),
            _endpoint("logs", "logs", privateDnsEnabled=None),
            _endpoint("s3", "s3", kind="Gateway"),
        ]
    )
    assert flagged(report, "AWS-VPCE-001") == {"sts", "logs"}


def test_vpce_002_endpoint_policies_admit_the_account_only() -> None:
    bucket = "arn:aws:s3:::app-data"
    report = check(
        [
            _endpoint("kms", "kms"),
            _endpoint("studio", "sagemaker.studio"),  # the Studio UI endpoint takes no policy
            _endpoint("no-policy", "sts", policy=None),
            _endpoint(
                "everything", "logs", policy=doc(stmt("*", principal="*", condition=ACCOUNT_ONLY))
            ),
            _endpoint(
                "any-account",
                "secretsmanager",
                policy=doc(stmt("secretsmanager:GetSecretValue", principal="*")),
            ),
            _endpoint(
                "whole-api",
                "secretsmanager",
                policy=doc(stmt("secretsmanager:*", principal="*", condition=ACCOUNT_ONLY)),
            ),
            _endpoint(
                "whole-runtime-api",
                "bedrock-runtime",
                policy=doc(
                    stmt(
                        ["bedrock:InvokeModel", "bedrock:Invoke*"],
                        principal="*",
                        condition=ACCOUNT_ONLY,
                    )
                ),
            ),
            # The SageMaker AI API is admitted whole (ENDPOINT_ACTIONS documents why).
            _endpoint("sagemaker-api", "sagemaker.api"),
            _endpoint(
                "s3",
                "s3",
                kind="Gateway",
                policy=doc(
                    stmt(
                        ["s3:GetObject", "s3:PutObject"],
                        [bucket, f"{bucket}/*"],
                        principal="*",
                        condition=ACCOUNT_ONLY,
                    ),
                    stmt(
                        "s3:GetObject",
                        "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*",
                        principal="*",
                    ),
                ),
            ),
            _endpoint(
                "s3-every-bucket",
                "s3",
                kind="Gateway",
                policy=doc(
                    stmt("s3:GetObject", "arn:aws:s3:::*", principal="*", condition=ACCOUNT_ONLY)
                ),
            ),
            _endpoint(
                "s3-foreign-writes",
                "s3",
                kind="Gateway",
                policy=doc(stmt("s3:PutObject", f"{bucket}/*", principal="*")),
            ),
        ]
    )
    assert flagged(report, "AWS-VPCE-002") == {
        "no-policy",
        "everything",
        "any-account",
        "whole-api",
        "whole-runtime-api",
        "s3-every-bucket",
        "s3-foreign-writes",
    }


@pytest.mark.parametrize("ai_service", ["bedrock", "sagemaker"])
def test_vpce_003_004_ai_and_platform_services_reached_privately(ai_service: str) -> None:
    services = [*ENDPOINT_SERVICES[ai_service]]
    complete = [
        res(VPC, "vpc"),
        _endpoint("s3", "s3", kind="Gateway"),
        *(_endpoint(s, s) for s in services),
    ]
    report = check(complete, ai_service=ai_service)
    assert not flagged(report, "AWS-VPCE-003")
    assert not flagged(report, "AWS-VPCE-004")
    ai = next(s for s in services if s.startswith(ai_service))
    missing_ai = check([r for r in complete if r.name != ai], ai_service=ai_service)
    assert flagged(missing_ai, "AWS-VPCE-003") == {"(stack)"}
    assert not flagged(missing_ai, "AWS-VPCE-004")
    missing_platform = check(
        [r for r in complete if r.name not in ("kms", "s3")], ai_service=ai_service
    )
    assert flagged(missing_platform, "AWS-VPCE-004") == {"(stack)"}
    assert not flagged(
        check([_endpoint("kms", "kms")], ai_service=ai_service), "AWS-VPCE-003"
    )  # no VPC


def test_vpce_004_ecs_tasks_pull_images_privately() -> None:
    """A workload run by ECS tasks needs ECR's endpoints; one run by Lambda does not."""
    platform = [
        res(VPC, "vpc"),
        _endpoint("s3", "s3", kind="Gateway"),
        *(_endpoint(s, s) for s in ENDPOINT_SERVICES["bedrock"]),
    ]
    on_lambda = workload_role(services=("lambda.amazonaws.com",))
    on_ecs = workload_role(services=("lambda.amazonaws.com", "ecs-tasks.amazonaws.com"))
    assert not flagged(check([*platform, on_lambda]), "AWS-VPCE-004")
    assert flagged(check([*platform, on_ecs]), "AWS-VPCE-004") == {"(stack)"}
    ecr = [_endpoint(s, s) for s in ECR_ENDPOINT_SERVICES]
    assert not flagged(check([*platform, *ecr, on_ecs]), "AWS-VPCE-004")
    assert flagged(check([*platform, ecr[0], on_ecs]), "AWS-VPCE-004") == {"(stack)"}


# ---------------------------------------------------------------------------- IAM
def test_iam_001_no_long_lived_credentials() -> None:
    report = check(
        [
            res("aws:iam/user:User", "person", {"tags": TAGS}),
            res("aws:iam/accessKey:AccessKey", "key", {"user": "person"}),
            res("aws:iam/userLoginProfile:UserLoginProfile", "password", {"user": "person"}),
            workload_role(),
        ]
    )
    assert flagged(report, "AWS-IAM-001") == {"person", "key", "password"}


def _role(name: str, trust: str | None) -> Any:
    inputs: dict[str, Any] = {"tags": TAGS}
    if trust is not None:
        inputs["assumeRolePolicy"] = trust
    return res("aws:iam/role:Role", name, inputs)


def test_iam_002_scoped_trust() -> None:
    assume = "sts:AssumeRole"
    report = check(
        [
            workload_role("scoped"),
            _role(
                "source-arn",
                doc(
                    stmt(
                        assume,
                        None,
                        principal={"Service": "cloudtrail.amazonaws.com"},
                        condition={"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*"}},
                    )
                ),
            ),
            _role(
                "oidc",
                doc(
                    stmt(
                        "sts:AssumeRoleWithWebIdentity",
                        None,
                        principal={"Federated": "arn:aws:iam::1:oidc-provider/x"},
                        condition={"StringEquals": {"x:aud": "sts.amazonaws.com"}},
                    )
                ),
            ),
            _role("no-trust", None),
            _role("anyone", doc(stmt(assume, None, principal="*"))),
            _role("any-aws", doc(stmt(assume, None, principal={"AWS": "*"}))),
            _role(
                "confused-deputy",
                doc(stmt(assume, None, principal={"Service": "lambda.amazonaws.com"})),
            ),
            _role(
                "open-federation",
                doc(
                    stmt(
                        "sts:AssumeRoleWithWebIdentity",
                        None,
                        principal={"Federated": "arn:aws:iam::1:oidc-provider/x"},
                    )
                ),
            ),
        ]
    )
    assert flagged(report, "AWS-IAM-002") == {
        "no-trust",
        "anyone",
        "any-aws",
        "confused-deputy",
        "open-federation",
    }


def test_iam_003_identity_policies_name_actions_and_resources() -> None:
    rp = "aws:iam/rolePolicy:RolePolicy"
    bucket = "arn:aws:s3:::app-data/*"
    report = check(
        [
            res(
                rp,
                "scoped",
                {
                    "role": "r",
                    "policy": doc(
                        stmt("s3:GetObject", bucket, condition=TLS),
                        stmt("ecr:GetAuthorizationToken", "*", condition=TLS),
                    ),
                },
            ),
            res(rp, "service-wildcard", {"role": "r", "policy": doc(stmt("s3:*", bucket))}),
            res(rp, "prefix-wildcard", {"role": "r", "policy": doc(stmt("s3:Get*", bucket))}),
            res(rp, "any-resource", {"role": "r", "policy": doc(stmt("s3:GetObject", "*"))}),
            res(
                rp,
                "not-action",
                {
                    "role": "r",
                    "policy": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": bucket}),
                },
            ),
            res(
                rp,
                "not-resource",
                {
                    "role": "r",
                    "policy": doc(
                        {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": bucket}
                    ),
                },
            ),
            res("aws:iam/policy:Policy", "managed", {"policy": doc(stmt("*", "*"))}),
        ]
    )
    assert flagged(report, "AWS-IAM-003") == {
        "service-wildcard",
        "prefix-wildcard",
        "any-resource",
        "not-action",
        "not-resource",
        "managed",
    }


def test_iam_004_no_broad_managed_policies() -> None:
    attachment = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    report = check(
        [
            res(
                attachment,
                "admin",
                {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            ),
            res(
                attachment,
                "full",
                {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"},
            ),
            res(
                attachment,
                "read",
                {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"},
            ),
            res(
                attachment,
                "own",
                {"role": "r", "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess"},
            ),
            res(
                "aws:iam/role:Role",
                "power",
                {"managedPolicyArns": ["arn:aws:iam::aws:policy/PowerUserAccess"]},
            ),
        ]
    )
    assert flagged(report, "AWS-IAM-004") == {"admin", "full", "power"}


def test_iam_005_workload_grants_require_tls() -> None:
    rp = "aws:iam/rolePolicy:RolePolicy"
    bucket = "arn:aws:s3:::app-data/*"
    delivery = _role(
        "delivery",
        doc(
            stmt(
                "sts:AssumeRole",
                None,
                principal={"Service": "vpc-flow-logs.amazonaws.com"},
                condition=SOURCE_ACCOUNT,
            )
        ),
    )
    report = check(
        [
            workload_role(),
            delivery,
            res(
                rp,
                "workload-tls",
                {
                    "role": "app-dev-workload",
                    "policy": doc(stmt("s3:GetObject", bucket, condition=TLS)),
                },
            ),
            res(
                rp,
                "workload-plain",
                {"role": "app-dev-workload", "policy": doc(stmt("s3:GetObject", bucket))},
            ),
            res(
                rp,
                "delivery-policy",
                {
                    "role": "delivery-1a2b3c4",
                    "policy": doc(stmt("logs:PutLogEvents", "arn:aws:logs:*")),
                },
            ),
        ]
    )
    assert flagged(report, "AWS-IAM-005") == {"workload-plain"}


def test_iam_006_the_workload_has_a_dedicated_role() -> None:
    delivery = _role(
        "delivery",
        doc(
            stmt(
                "sts:AssumeRole",
                None,
                principal={"Service": "cloudtrail.amazonaws.com"},
                condition=SOURCE_ACCOUNT,
            )
        ),
    )
    assert flagged(check([res(VPC, "vpc"), delivery]), "AWS-IAM-006") == {"(stack)"}
    assert not flagged(check([res(VPC, "vpc"), workload_role()]), "AWS-IAM-006")
    report = check(
        [res("aws:s3/bucket:Bucket", "state", {"tags": TAGS}), delivery]
    )  # a state backend
    assert not flagged(report, "AWS-IAM-006")
    assert report.not_applicable


EC2_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
INTERFACES = f"{EC2_ARN}:network-interface/*"
PROJECT_SUBNET = f"{EC2_ARN}:subnet/subnet-a"
WORKLOAD_GROUP = f"{EC2_ARN}:security-group/sg-workload"
IN_THE_VPC = {"ArnEquals": {"ec2:Vpc": f"{EC2_ARN}:vpc/vpc-0123"}}


def test_iam_007_network_interfaces_only_in_named_subnets_and_groups() -> None:
    rp = "aws:iam/rolePolicy:RolePolicy"
    create = "ec2:CreateNetworkInterface"
    in_vpc = [INTERFACES, f"{EC2_ARN}:subnet/*", f"{EC2_ARN}:security-group/*"]

    def policy(name: str, *statements: dict[str, Any], type_: str = rp) -> Any:
        return res(type_, name, {"role": "app-dev-workload", "policy": doc(*statements)})

    report = check(
        [
            # what WorkloadIdentity grants Lambda (lambda_vpc) and SageMaker AI jobs
            policy("lambda-vpc", stmt(create, [INTERFACES, PROJECT_SUBNET, WORKLOAD_GROUP]),
                   stmt(["ec2:DeleteNetworkInterface"], INTERFACES),
                   stmt(["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], "*")),
            policy("sagemaker-vpc", stmt([create, "ec2:DeleteNetworkInterface"], in_vpc,
                                         condition=IN_THE_VPC)),
            # the scoping removed
            policy("any-subnet", stmt(create, [INTERFACES, f"{EC2_ARN}:subnet/*", WORKLOAD_GROUP])),
            policy("any-group", stmt(create, [INTERFACES, PROJECT_SUBNET,
                                              f"{EC2_ARN}:security-group/*"])),
            policy("anything", stmt(create, "*")),
            policy("all-of-ec2", stmt(create, f"{EC2_ARN}:*")),
            policy("by-wildcard-action", stmt("ec2:Create*", in_vpc)),
            policy("any-vpc", stmt(create, in_vpc,
                                   condition={"ArnLike": {"ec2:Vpc": f"{EC2_ARN}:vpc/*"}})),
            policy("not-that-vpc", stmt(create, in_vpc,
                                        condition={"ArnNotEquals": {"ec2:Vpc": f"{EC2_ARN}:vpc/v"}})),
            policy("managed", stmt(create, in_vpc), type_="aws:iam/policy:Policy"),
        ]
    )  # fmt: skip
    assert flagged(report, "AWS-IAM-007") == {
        "any-subnet",
        "any-group",
        "anything",
        "all-of-ec2",
        "by-wildcard-action",
        "any-vpc",
        "not-that-vpc",
        "managed",
    }
    (message,) = [
        f.message
        for f in report.violations
        if f.policy == "AWS-IAM-007" and f.resource == "any-subnet"
    ]
    assert message == (
        f"any-subnet statement #0 lets network interfaces be created in {EC2_ARN}:subnet/*: "
        "name the project's subnets and security groups"
    )
