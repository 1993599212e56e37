"""Network: resource group, lock, private VNet, subnets and deny-by-default NSGs."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from aiscaffold.testing import MockRun, ProgramError

NSG = "azure-native:network:NetworkSecurityGroup"
SUBNET = "azure-native:network:Subnet"


def _rules(run: MockRun, name: str) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in run.one(NSG, name).inputs["securityRules"]}


def test_resource_group_named_per_project_and_stack_and_locked(default_run: MockRun) -> None:
    group = default_run.one("azure-native:resources:ResourceGroup")
    assert group.inputs["resourceGroupName"] == "rg-proj-dev"
    lock = default_run.one("azure-native:authorization:ManagementLockAtResourceGroupLevel")
    assert lock.inputs["level"] == "CanNotDelete"
    assert lock.inputs["resourceGroupName"] == "rg-proj-dev"


@pytest.mark.parametrize("nsg", ["network-workload-nsg", "network-pe-nsg"])
def test_every_nsg_denies_the_internet_both_ways(default_run: MockRun, nsg: str) -> None:
    rules = _rules(default_run, nsg)
    inbound = rules["deny-internet-inbound"]
    assert (inbound["direction"], inbound["access"], inbound["sourceAddressPrefix"]) == (
        "Inbound",
        "Deny",
        "Internet",
    )
    outbound = rules["deny-internet-outbound"]
    assert (outbound["direction"], outbound["access"]) == ("Outbound", "Deny")
    assert outbound["destinationAddressPrefix"] == "Internet"
    deny_all = rules["deny-all-inbound"]
    assert deny_all["access"] == "Deny" and deny_all["sourceAddressPrefix"] == "*"
    # Nor anywhere else in the VNet than the rules list (Azure's AllowVnetOutBound).
    deny_out = rules["deny-all-outbound"]
    assert (deny_out["direction"], deny_out["access"], deny_out["priority"]) == (
        "Outbound",
        "Deny",
        4096,
    )
    assert (deny_out["destinationAddressPrefix"], deny_out["destinationPortRange"]) == ("*", "*")
    assert deny_out["protocol"] == "*"
    # Nothing is allowed from the internet or anywhere, nor to the internet.
    for rule in rules.values():
        if rule["access"] != "Allow":
            continue
        if rule["direction"] == "Inbound":
            assert rule["sourceAddressPrefix"] not in ("*", "Internet", "0.0.0.0/0")
        else:
            assert rule["destinationAddressPrefix"] not in ("*", "Internet", "0.0.0.0/0")
        assert rule["destinationPortRange"] == "443" and rule["protocol"] == "Tcp"


def test_subnets_are_private_carved_from_the_address_space_and_guarded(
    default_run: MockRun,
) -> None:
    vnet = default_run.one("azure-native:network:VirtualNetwork")
    space = ipaddress.ip_network(vnet.inputs["addressSpace"]["addressPrefixes"][0])
    nsg_ids = {r.name: r.outputs["id"] for r in default_run.of_type(NSG)}
    subnets = {s.name: s for s in default_run.of_type(SUBNET)}
    assert set(subnets) == {"network-workload", "network-pe"}
    prefixes = [ipaddress.ip_network(s.inputs["addressPrefix"]) for s in subnets.values()]
    assert all(p.subnet_of(space) for p in prefixes)  # type: ignore[arg-type]
    assert not prefixes[0].overlaps(prefixes[1])
    for subnet in subnets.values():
        assert subnet.inputs["defaultOutboundAccess"] is False
        assert "natGateway" not in subnet.inputs
    assert (
        subnets["network-workload"].inputs["networkSecurityGroup"]["id"]
        == (nsg_ids["network-workload-nsg"])
    )
    pe = subnets["network-pe"].inputs
    assert pe["networkSecurityGroup"]["id"] == nsg_ids["network-pe-nsg"]
    assert pe["privateEndpointNetworkPolicies"] == "Enabled"
    assert not default_run.of_type("azure-native:network:NatGateway")
    assert not default_run.of_type("azure-native:network:PublicIPAddress")


@pytest.mark.parametrize("variant", [{}, {"network": {"allow_internet_egress": True}}])
def test_workload_reaches_only_the_endpoints_and_if_chosen_the_internet_over_https(
    azure_run: Any, variant: dict[str, dict[str, Any]]
) -> None:
    run = azure_run(**variant)
    endpoints = run.one(SUBNET, "network-pe").inputs["addressPrefix"]
    rules = _rules(run, "network-workload-nsg").values()
    outbound = sorted(
        (r for r in rules if r["direction"] == "Outbound"), key=lambda r: r["priority"]
    )
    allowed = [
        (r["destinationAddressPrefix"], r["protocol"], r["destinationPortRange"])
        for r in outbound
        if r["access"] == "Allow"
    ]
    expected = [(endpoints, "Tcp", "443")]
    if variant:
        expected.append(("Internet", "Tcp", "443"))
    assert allowed == expected
    # Every allow comes before the final deny of everything else.
    assert outbound[-1]["name"] == "deny-all-outbound"
    assert all(r["priority"] < 4096 for r in outbound if r["access"] == "Allow")


def test_private_endpoints_accept_https_from_the_workload_subnet_only(
    default_run: MockRun,
) -> None:
    workload = default_run.one(SUBNET, "network-workload").inputs["addressPrefix"]
    allowed = [r for r in _rules(default_run, "network-pe-nsg").values() if r["access"] == "Allow"]
    assert [(r["direction"], r["sourceAddressPrefix"]) for r in allowed] == [("Inbound", workload)]


def test_weakening_internet_egress_adds_nat_and_https_egress_only(
    azure_run: Any, default_run: MockRun, az: Any
) -> None:
    weak = azure_run(network={"allow_internet_egress": True})
    changes = az.diff(default_run, weak)
    assert changes.pop("+") == {
        "azure-native:network:NatGateway/network-nat",
        "azure-native:network:PublicIPAddress/network-nat-ip",
        # Their logs and metrics: DDoS logs of the address (archived too), gateway metrics.
        "azure-native:monitor:DiagnosticSetting/audit-nat-ip-la",
        "azure-native:monitor:DiagnosticSetting/audit-nat-ip-archive",
        "azure-native:monitor:DiagnosticSetting/audit-nat-la",
    }
    assert changes.pop("network-workload") == {"natGateway.id"}
    workload_nsg = changes.pop("network-workload-nsg")
    assert workload_nsg and all(
        p.startswith("securityRules[allow-https-to-internet]") for p in workload_nsg
    )
    assert changes == {}
    rule = _rules(weak, "network-workload-nsg")["allow-https-to-internet"]
    assert (rule["access"], rule["destinationPortRange"], rule["protocol"]) == (
        "Allow",
        "443",
        "Tcp",
    )
    # The explicit deny of all other internet egress stays.
    assert "deny-internet-outbound" in _rules(weak, "network-workload-nsg")


def test_weakening_lock_removes_only_the_lock(
    azure_run: Any, default_run: MockRun, az: Any
) -> None:
    changes = az.diff(default_run, azure_run(network={"lock_resource_group": False}))
    assert changes == {
        "-": {"azure-native:authorization:ManagementLockAtResourceGroupLevel/network-lock"}
    }


def test_location_outside_the_allowed_regions_is_refused(azure_run: Any) -> None:
    with pytest.raises(ProgramError, match="outside the allowed regions"):
        azure_run(network={"allowed_locations": ["westeurope", "swedencentral"]})


def test_address_space_must_fit_two_subnets(azure_run: Any) -> None:
    with pytest.raises(ProgramError, match="does not fit two subnets"):
        azure_run(network={"address_space": "10.0.0.0/24", "subnet_prefix_length": 24})
