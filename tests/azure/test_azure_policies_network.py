"""Network and private endpoint policies: each failure mode flags exactly the offending
resources."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold.testing import MockRun
from azure.azure_policy_support import DROP, base_run, flagged, resource

WORKLOAD_NSG, PE_NSG = "network-workload-nsg", "network-pe-nsg"
WORKLOAD, PE_SUBNET = "network-workload", "network-pe"
FLOW = "audit-flowlog"
ANALYTICS = "flowAnalyticsConfiguration.networkWatcherFlowAnalyticsConfiguration"
EGRESS = {"allow_internet_egress": True}
# Rules of both groups: 2 deny-internet-inbound, 3 deny-all-inbound, 4 deny-internet-
# outbound; the workload group's 0 allows HTTPS in from the VNet, 1 HTTPS out to the
# endpoints, 5 denies all outbound; the endpoint group's 1 denies all outbound.


def rule(name: str, direction: str, access: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "direction": direction,
        "access": access,
        "priority": fields.pop("priority", 200),
        "protocol": fields.pop("protocol", "Tcp"),
        "sourceAddressPrefix": fields.pop("source", "VirtualNetwork"),
        "sourcePortRange": "*",
        "destinationAddressPrefix": fields.pop("destination", "10.20.0.0/24"),
        "destinationPortRange": fields.pop("port", "443"),
        **fields,
    }


def with_rule(base: MockRun, group: str, extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rules = base.one("azure-native:network:NetworkSecurityGroup", group).inputs["securityRules"]
    return {group: {"securityRules": [*rules, extra]}}


def without_rule(base: MockRun, group: str, index: int) -> dict[str, dict[str, Any]]:
    rules = list(
        base.one("azure-native:network:NetworkSecurityGroup", group).inputs["securityRules"]
    )
    rules.pop(index)
    return {group: {"securityRules": rules}}


@pytest.fixture(scope="module")
def base(render_project: Any) -> MockRun:
    return base_run(render_project)


INBOUND = [
    ("Internet", True),
    ("*", True),
    ("0.0.0.0/0", True),
    ("52.160.0.0/16", True),
    ("10.0.0.0/8", False),
    ("AzureLoadBalancer", False),
]


@pytest.mark.parametrize(("source", "fails"), INBOUND)
def test_no_inbound_from_the_internet(base: MockRun, source: str, fails: bool) -> None:
    patches = with_rule(base, WORKLOAD_NSG, rule("in", "Inbound", "Allow", source=source))
    assert flagged(base, "AZURE-NET-001", patches) == ({WORKLOAD_NSG} if fails else set())


def test_separate_security_rules_are_checked_too(base: MockRun) -> None:
    separate = resource(
        "azure-native:network:SecurityRule",
        "ssh-from-anywhere",
        {
            "networkSecurityGroupName": "nsg-az-policies-dev-workload",
            **rule("ssh", "Inbound", "Allow", source="Internet", port="22"),
        },
    )
    assert flagged(base, "AZURE-NET-001", add=[separate]) == {"ssh-from-anywhere"}
    # A deny-all rule kept as a separate resource counts for its group.
    deny_all = resource(
        "azure-native:network:SecurityRule",
        "deny-all",
        {
            "networkSecurityGroupName": "nsg-az-policies-dev-workload",
            **rule(
                "deny-all",
                "Inbound",
                "Deny",
                priority=4090,
                protocol="*",
                source="*",
                destination="*",
                port="*",
            ),
        },
    )
    assert flagged(base, "AZURE-NET-002", without_rule(base, WORKLOAD_NSG, 3)) == {WORKLOAD_NSG}
    assert (
        flagged(base, "AZURE-NET-002", without_rule(base, WORKLOAD_NSG, 3), add=[deny_all]) == set()
    )


def test_deny_all_inbound(base: MockRun) -> None:
    assert flagged(base, "AZURE-NET-002", without_rule(base, PE_NSG, 3)) == {PE_NSG}
    narrowed = {WORKLOAD_NSG: {"securityRules.3.destinationPortRange": "22"}}
    assert flagged(base, "AZURE-NET-002", narrowed) == {WORKLOAD_NSG}


@pytest.mark.parametrize(
    ("changes", "fails"),
    [
        ({"protocol": "*"}, True),
        ({"port": "*"}, True),
        ({"port": "0-65535"}, True),
        ({}, False),
    ],
)
def test_allow_rules_are_narrow(base: MockRun, changes: dict[str, Any], fails: bool) -> None:
    patches = with_rule(base, PE_NSG, rule("narrow", "Inbound", "Allow", **changes))
    assert flagged(base, "AZURE-NET-003", patches) == ({PE_NSG} if fails else set())


def without_rules(base: MockRun, group: str, *names: str) -> dict[str, dict[str, Any]]:
    rules = base.one("azure-native:network:NetworkSecurityGroup", group).inputs["securityRules"]
    assert {r["name"] for r in rules} >= set(names)
    return {group: {"securityRules": [r for r in rules if r["name"] not in names]}}


def test_outbound_internet_is_denied_explicitly(base: MockRun) -> None:
    both = without_rules(base, WORKLOAD_NSG, "deny-internet-outbound", "deny-all-outbound")
    assert flagged(base, "AZURE-NET-004", both) == {WORKLOAD_NSG}
    # Either deny rule alone keeps the internet out.
    for group in (WORKLOAD_NSG, PE_NSG):
        assert flagged(base, "AZURE-NET-004", without_rule(base, group, 4)) == set()
    only_internet = without_rules(base, WORKLOAD_NSG, "deny-all-outbound")
    assert flagged(base, "AZURE-NET-004", only_internet) == set()


@pytest.mark.parametrize("group", [WORKLOAD_NSG, PE_NSG])
def test_deny_all_outbound(base: MockRun, group: str) -> None:
    assert flagged(base, "AZURE-NET-012") == set()
    removed = without_rules(base, group, "deny-all-outbound")
    assert flagged(base, "AZURE-NET-012", removed) == {group}
    # A deny of the internet alone leaves the rest of the VNet open.
    assert "deny-internet-outbound" in {r["name"] for r in removed[group]["securityRules"]}
    rules = base.one("azure-native:network:NetworkSecurityGroup", group).inputs["securityRules"]
    index = next(i for i, r in enumerate(rules) if r["name"] == "deny-all-outbound")
    for field, value in (
        ("destinationPortRange", "22"),
        ("destinationAddressPrefix", "Internet"),
        ("protocol", "Tcp"),
        ("access", "Allow"),
        ("priority", 65001),
    ):
        narrowed = {group: {f"securityRules.{index}.{field}": value}}
        assert flagged(base, "AZURE-NET-012", narrowed) == {group}, field


def test_deny_all_outbound_may_be_a_separate_rule(base: MockRun) -> None:
    separate = resource(
        "azure-native:network:SecurityRule",
        "deny-all-out",
        {
            "networkSecurityGroupName": "nsg-az-policies-dev-workload",
            **rule(
                "deny-all-out",
                "Outbound",
                "Deny",
                priority=4090,
                protocol="*",
                source="*",
                destination="*",
                port="*",
            ),
        },
    )
    removed = without_rules(base, WORKLOAD_NSG, "deny-all-outbound")
    assert flagged(base, "AZURE-NET-012", removed, add=[separate]) == set()


@pytest.mark.parametrize(
    ("changes", "answers", "fails"),
    [
        ({"destination": "Internet"}, {}, True),
        ({"destination": "*"}, {}, True),
        ({"destination": "Internet"}, EGRESS, False),  # HTTPS out, as answered
        ({"destination": "Internet", "port": "80"}, EGRESS, True),
        ({"destination": "Internet", "protocol": "*"}, EGRESS, True),
        ({"destination": "10.20.1.0/24"}, {}, False),
    ],
)
def test_outbound_allow_rules(
    base: MockRun, changes: dict[str, Any], answers: dict[str, Any], fails: bool
) -> None:
    patches = with_rule(
        base, WORKLOAD_NSG, rule("out", "Outbound", "Allow", priority=3000, **changes)
    )
    assert flagged(base, "AZURE-NET-004", patches, **answers) == (
        {WORKLOAD_NSG} if fails else set()
    )


NAT_ID = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/natGateways/nat"

CASES: list[tuple[str, dict[str, dict[str, Any]], set[str], dict[str, Any]]] = [
    # NET-005 private subnets
    ("AZURE-NET-005", {WORKLOAD: {"defaultOutboundAccess": True}}, {WORKLOAD}, {}),
    ("AZURE-NET-005", {PE_SUBNET: {"defaultOutboundAccess": DROP}}, {PE_SUBNET}, {}),
    ("AZURE-NET-005", {WORKLOAD: {"networkSecurityGroup": DROP}}, {WORKLOAD}, {}),
    (
        "AZURE-NET-005",
        {"network-vnet": {"subnets": [{"name": "inline", "addressPrefix": "10.20.9.0/24"}]}},
        {"network-vnet"},
        {},
    ),
    # NET-006 no route out unless answered
    ("AZURE-NET-006", {WORKLOAD: {"natGateway": {"id": NAT_ID}}}, {WORKLOAD}, {}),
    ("AZURE-NET-006", {WORKLOAD: {"natGateway": {"id": NAT_ID}}}, set(), EGRESS),
    # NET-007 flow logs
    ("AZURE-NET-007", {FLOW: {"enabled": False}}, {"network-vnet"}, {}),
    (
        "AZURE-NET-007",
        {
            FLOW: {
                "targetResourceId": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/other"
            }
        },
        {"network-vnet"},
        {},
    ),
    # NET-008 flow log retention
    ("AZURE-NET-008", {FLOW: {"retentionPolicy.days": 30}}, {FLOW}, {}),
    ("AZURE-NET-008", {FLOW: {"retentionPolicy": {"enabled": False, "days": 0}}}, set(), {}),
    ("AZURE-NET-008", {}, {FLOW}, {"data_sensitivity": "restricted"}),  # 365 < 2192 days
    # NET-009 flow log configuration
    ("AZURE-NET-009", {FLOW: {"enabled": False}}, {FLOW}, {}),
    ("AZURE-NET-009", {FLOW: {"format.version": 1}}, {FLOW}, {}),
    ("AZURE-NET-009", {FLOW: {"identity": DROP}}, {FLOW}, {}),
    # NET-010 traffic analytics
    ("AZURE-NET-010", {FLOW: {"flowAnalyticsConfiguration": DROP}}, {FLOW}, {}),
    ("AZURE-NET-010", {FLOW: {f"{ANALYTICS}.enabled": False}}, {FLOW}, {}),
    ("AZURE-NET-010", {FLOW: {f"{ANALYTICS}.workspaceResourceId": DROP}}, {FLOW}, {}),
    # NET-011 security groups apply to private endpoints
    ("AZURE-NET-011", {PE_SUBNET: {"privateEndpointNetworkPolicies": "Disabled"}}, {PE_SUBNET}, {}),
    ("AZURE-NET-011", {PE_SUBNET: {"privateEndpointNetworkPolicies": DROP}}, {PE_SUBNET}, {}),
    (
        "AZURE-NET-011",
        {PE_SUBNET: {"privateEndpointNetworkPolicies": "NetworkSecurityGroupEnabled"}},
        set(),
        {},
    ),
    # PE-001 / PE-002 private endpoints
    (
        "AZURE-PE-001",
        {"endpoints-openai": {"privateLinkServiceConnections.0.groupIds": ["sites"]}},
        {"openai-account"},
        {},
    ),
    (
        "AZURE-PE-001",
        {"endpoints-openai": {"privateLinkServiceConnections": DROP}},
        {"openai-account"},
        {},
    ),
    (
        "AZURE-PE-002",
        {"endpoints-data-blob": {"privateLinkServiceConnections.0.groupIds": ["file"]}},
        {"data-account"},
        {},
    ),
    (
        "AZURE-PE-002",
        {"endpoints-vault": {"privateLinkServiceConnections.0.privateLinkServiceId": NAT_ID}},
        {"keys-vault"},
        {},
    ),
    # PE-003 private DNS
    (
        "AZURE-PE-003",
        {"endpoints-openai-dns": {"privateDnsZoneConfigs.2": DROP}},
        {"endpoints-openai"},
        {},
    ),
    (
        "AZURE-PE-003",
        {"endpoints-vault-dns": {"privateEndpointName": "pe-other"}},
        {"endpoints-vault"},
        {},
    ),
    (
        "AZURE-PE-003",
        {"endpoints-vaultcore-azure-net": {"privateZoneName": DROP}},
        {"endpoints-vault"},
        {},
    ),
    (
        "AZURE-PE-003",
        {"endpoints-vaultcore-azure-net-link": {"privateZoneName": DROP}},
        {"endpoints-vault"},
        {},
    ),
    ("AZURE-PE-003", {"endpoints-openai": {"location": "usgovvirginia"}}, {"endpoints-openai"}, {}),
    # PE-004 no auto-registration
    (
        "AZURE-PE-004",
        {"endpoints-blob-core-windows-net-link": {"registrationEnabled": True}},
        {"endpoints-blob-core-windows-net-link"},
        {},
    ),
]


@pytest.mark.parametrize(("policy", "patches", "expected", "answers"), CASES)
def test_network_policy(
    base: MockRun,
    policy: str,
    patches: dict[str, dict[str, Any]],
    expected: set[str],
    answers: dict[str, Any],
) -> None:
    assert flagged(base, policy, patches, **answers) == expected


def test_no_nat_gateway_or_public_ip_without_egress(base: MockRun) -> None:
    nat = resource("azure-native:network:NatGateway", "nat", {"sku": {"name": "Standard"}})
    ip = resource("azure-native:network:PublicIPAddress", "nat-ip", {"sku": {"name": "Standard"}})
    assert flagged(base, "AZURE-NET-006", add=[nat, ip]) == {"nat", "nat-ip"}
    assert flagged(base, "AZURE-NET-006", add=[nat, ip], **EGRESS) == set()


def test_every_vnet_and_endpoint_has_its_companions(base: MockRun) -> None:
    assert flagged(base, "AZURE-NET-007", drop=[FLOW]) == {"network-vnet"}
    assert flagged(base, "AZURE-PE-001", drop=["endpoints-openai"]) == {"openai-account"}
    assert flagged(
        base, "AZURE-PE-002", drop=["endpoints-vault", "endpoints-audit-archive-blob"]
    ) == {
        "keys-vault",
        "audit-archive-account",
    }
    assert flagged(base, "AZURE-PE-003", drop=["endpoints-data-blob-dns"]) == {
        "endpoints-data-blob"
    }
