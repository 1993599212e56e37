"""Network and PrivateEndpoints: isolation, deny-all baseline, PSC and private DNS."""

from __future__ import annotations

import ipaddress
import re

import pytest
from aiscaffold.testing import MockRun
from aiscaffold_components.gcp import (
    Network,
    NetworkArgs,
    PrivateEndpoints,
    PrivateEndpointsArgs,
)
from aiscaffold_components.gcp.network import RESTRICTED_GOOGLE_APIS
from gcp_support import LABELS, PROJECT, REGION, changes, run_component

FIREWALL = "gcp:compute/firewall:Firewall"
ZONE = "gcp:dns/managedZone:ManagedZone"
RECORD = "gcp:dns/recordSet:RecordSet"
REGIONAL_ENDPOINT = "gcp:networkconnectivity/regionalEndpoint:RegionalEndpoint"
NETWORK_ID = f"projects/{PROJECT}/global/networks/vpc"
SUBNET_ID = f"projects/{PROJECT}/regions/{REGION}/subnetworks/subnet"
SUBNET_CIDR = "10.10.0.0/20"
ARMOR_HOST = f"modelarmor.{REGION}.rep.googleapis.com"
#: The highest address Google leaves usable in 10.10.0.0/20 (.254 and .255 are reserved).
ARMOR_IP = "10.10.15.253"


def build_network(**overrides: object) -> MockRun:
    args = NetworkArgs(project=PROJECT, region=REGION, **overrides)  # type: ignore[arg-type]
    return run_component(lambda: Network("net", args))


def build_endpoints(**overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "project": PROJECT,
        "network_id": NETWORK_ID,
        "region": REGION,
        "subnet_id": SUBNET_ID,
        "subnet_cidr": SUBNET_CIDR,
        "labels": LABELS,
    }
    settings.update(overrides)
    args = PrivateEndpointsArgs(**settings)  # type: ignore[arg-type]
    return run_component(lambda: PrivateEndpoints("pe", args))


@pytest.fixture(scope="module")
def network() -> MockRun:
    return build_network()


@pytest.fixture(scope="module")
def endpoints() -> MockRun:
    return build_endpoints()


def test_vpc_is_custom_mode_without_default_internet_route(network: MockRun) -> None:
    vpc = network.one("gcp:compute/network:Network").inputs
    assert vpc["autoCreateSubnetworks"] is False
    assert vpc["deleteDefaultRoutesOnCreate"] is True
    assert network.one("aiscaffold:gcp:Network").custom is False


def test_subnet_has_private_google_access_and_full_flow_logs(network: MockRun) -> None:
    subnet = network.one("gcp:compute/subnetwork:Subnetwork").inputs
    assert subnet["privateIpGoogleAccess"] is True
    assert subnet["region"] == REGION
    assert subnet["network"] == network.one("gcp:compute/network:Network").outputs["id"]
    assert subnet["logConfig"] == {
        "aggregationInterval": "INTERVAL_5_SEC",
        "flowSampling": 1.0,
        "metadata": "INCLUDE_ALL_METADATA",
    }


@pytest.mark.parametrize("direction", ["INGRESS", "EGRESS"])
def test_deny_all_baseline_in_both_directions(network: MockRun, direction: str) -> None:
    deny = [
        r.inputs
        for r in network.of_type(FIREWALL)
        if r.inputs["direction"] == direction and r.inputs.get("denies")
    ]
    assert len(deny) == 1
    rule = deny[0]
    assert rule["denies"] == [{"protocol": "all"}]
    ranges = rule.get("sourceRanges") if direction == "INGRESS" else rule.get("destinationRanges")
    assert ranges == ["0.0.0.0/0"]
    assert rule["priority"] == 65000
    assert rule["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}


def test_only_https_to_google_apis_is_allowed_out(network: MockRun) -> None:
    allows = [r.inputs for r in network.of_type(FIREWALL) if r.inputs.get("allows")]
    assert [a["direction"] for a in allows] == ["EGRESS"]
    assert allows[0]["allows"] == [{"protocol": "tcp", "ports": ["443"]}]
    assert allows[0]["destinationRanges"] == [RESTRICTED_GOOGLE_APIS]
    assert allows[0]["priority"] < 65000
    routes = [r.inputs["destRange"] for r in network.of_type("gcp:compute/route:Route")]
    assert routes == [RESTRICTED_GOOGLE_APIS]


def test_no_nat_by_default(network: MockRun) -> None:
    assert not network.of_type("gcp:compute/router:Router")
    assert not network.of_type("gcp:compute/routerNat:RouterNat")


def test_allow_internet_egress_adds_exactly_nat_and_https_egress(network: MockRun) -> None:
    weak = build_network(allow_internet_egress=True)
    assert changes(network, weak) == {
        "+net-internet",
        "+net-router",
        "+net-nat",
        "+net-allow-https-egress",
    }
    rule = weak.one(FIREWALL, "net-allow-https-egress").inputs
    assert rule["allows"] == [{"protocol": "tcp", "ports": ["443"]}]
    nat = weak.one("gcp:compute/routerNat:RouterNat").inputs
    assert (
        nat["subnetworks"][0]["name"] == weak.one("gcp:compute/subnetwork:Subnetwork").outputs["id"]
    )
    assert nat["logConfig"] == {"enable": True, "filter": "ALL"}


def test_more_google_api_ranges_widen_only_the_google_api_egress(network: MockRun) -> None:
    private_apis = "199.36.153.8/30"  # private.googleapis.com: APIs VPC-SC cannot protect
    wider = build_network(google_api_ranges=(RESTRICTED_GOOGLE_APIS, private_apis))
    assert changes(network, wider) == {
        "net-allow-google-apis:destinationRanges[1]",
        "+net-google-apis-1",
    }
    assert wider.one(FIREWALL, "net-allow-google-apis").inputs["destinationRanges"] == [
        RESTRICTED_GOOGLE_APIS,
        private_apis,
    ]


def test_no_google_api_ranges_drop_only_their_rule_and_route(network: MockRun) -> None:
    assert changes(network, build_network(google_api_ranges=())) == {
        "-net-allow-google-apis",
        "-net-google-apis-0",
    }


def test_lower_flow_log_sampling_changes_only_the_sampling(network: MockRun) -> None:
    assert changes(network, build_network(flow_log_sampling=0.5)) == {
        "net-subnet:logConfig.flowSampling"
    }


@pytest.mark.parametrize("sampling", [0.0, 1.5])
def test_flow_log_sampling_out_of_range_is_refused(sampling: float) -> None:
    with pytest.raises(Exception, match="flow_log_sampling"):
        build_network(flow_log_sampling=sampling)


def test_psc_endpoint_for_google_apis(endpoints: MockRun) -> None:
    address = endpoints.one("gcp:compute/globalAddress:GlobalAddress")
    assert address.inputs["purpose"] == "PRIVATE_SERVICE_CONNECT"
    assert address.inputs["addressType"] == "INTERNAL"
    assert address.inputs["network"] == NETWORK_ID
    rule = endpoints.one("gcp:compute/globalForwardingRule:GlobalForwardingRule").inputs
    assert rule["target"] == "all-apis"
    assert rule["loadBalancingScheme"] == ""
    assert rule["ipAddress"] == address.outputs["id"]
    assert rule["network"] == NETWORK_ID
    assert re.fullmatch(r"[a-z][a-z0-9]{0,19}", rule["name"])
    assert rule["serviceDirectoryRegistrations"] == {"serviceDirectoryRegion": REGION}


def test_psc_endpoint_reachable_through_the_firewall(endpoints: MockRun) -> None:
    rule = endpoints.one(FIREWALL, "pe-allow-psc").inputs
    ip = endpoints.one("gcp:compute/globalAddress:GlobalAddress").inputs["address"]
    assert rule["direction"] == "EGRESS"
    assert rule["destinationRanges"] == [f"{ip}/32"]
    assert rule["allows"] == [{"protocol": "tcp", "ports": ["443"]}]
    assert rule["priority"] < 65000


def test_vpc_sc_bundle_changes_only_the_target(endpoints: MockRun) -> None:
    strict = build_endpoints(bundle="vpc-sc")
    assert changes(endpoints, strict) == {"pe-psc:target"}
    assert (
        strict.one("gcp:compute/globalForwardingRule:GlobalForwardingRule").inputs["target"]
        == "vpc-sc"
    )


def test_private_dns_points_google_apis_at_the_endpoint(endpoints: MockRun) -> None:
    ip = endpoints.one("gcp:compute/globalAddress:GlobalAddress").inputs["address"]
    zones = {z.inputs["dnsName"]: z for z in endpoints.of_type("gcp:dns/managedZone:ManagedZone")}
    assert "googleapis.com." in zones
    for zone in zones.values():
        assert zone.inputs["visibility"] == "private"
        assert zone.inputs["privateVisibilityConfig"] == {"networks": [{"networkUrl": NETWORK_ID}]}
    records = {r.inputs["name"]: r.inputs for r in endpoints.of_type("gcp:dns/recordSet:RecordSet")}
    googleapis = zones["googleapis.com."].outputs["name"]
    assert records["googleapis.com."]["rrdatas"] == [ip]
    assert records["googleapis.com."]["managedZone"] == googleapis
    assert records["*.googleapis.com."] | {"managedZone": None} == {
        "managedZone": None,
        "name": "*.googleapis.com.",
        "type": "CNAME",
        "ttl": 300.0,
        "rrdatas": ["googleapis.com."],
        "project": PROJECT,
    }
    vertex = records[f"{REGION}-aiplatform.googleapis.com."]
    assert (vertex["type"], vertex["rrdatas"], vertex["managedZone"]) == ("A", [ip], googleapis)


def test_endpoint_resources_carry_labels(endpoints: MockRun) -> None:
    labelled = [r for r in endpoints.custom_resources if "labels" in r.inputs]
    assert {r.type.split(":")[-1] for r in labelled} == {
        "GlobalAddress",
        "GlobalForwardingRule",
        "ManagedZone",
        "RegionalEndpoint",
    }
    assert all(r.inputs["labels"] == LABELS for r in labelled)


def test_network_exposes_its_subnet_range(network: MockRun) -> None:
    net = network.one("gcp:compute/subnetwork:Subnetwork").inputs["ipCidrRange"]
    assert net == NetworkArgs(region=REGION).subnet_cidr == SUBNET_CIDR


def test_model_armor_gets_a_regional_psc_endpoint_in_the_subnet(endpoints: MockRun) -> None:
    rep = endpoints.one(REGIONAL_ENDPOINT, "pe-modelarmor-rep").inputs
    assert rep["targetGoogleApi"] == ARMOR_HOST
    assert (rep["location"], rep["accessType"]) == (REGION, "REGIONAL")
    assert (rep["network"], rep["subnetwork"]) == (NETWORK_ID, SUBNET_ID)
    assert rep["address"] == ARMOR_IP
    assert ipaddress.ip_address(rep["address"]) in ipaddress.ip_network(SUBNET_CIDR)
    assert re.fullmatch(r"[a-z0-9][-a-z0-9]{0,44}[a-z0-9]", rep["name"])
    assert rep["project"] == PROJECT


def test_regional_endpoint_reachable_through_the_firewall(endpoints: MockRun) -> None:
    rule = endpoints.one(FIREWALL, "pe-allow-modelarmor-rep").inputs
    assert rule["direction"] == "EGRESS"
    assert rule["network"] == NETWORK_ID
    assert rule["destinationRanges"] == [f"{ARMOR_IP}/32"]
    assert rule["allows"] == [{"protocol": "tcp", "ports": ["443"]}]
    assert not rule.get("denies")
    # same priority as the network's allow rules, ahead of the deny-all baseline
    assert rule["priority"] == 1000
    assert rule["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}


def test_model_armor_hostname_resolves_to_the_regional_endpoint(endpoints: MockRun) -> None:
    zone = endpoints.one(ZONE, "pe-modelarmor-rep-zone")
    assert zone.inputs["dnsName"] == f"{ARMOR_HOST}."
    assert zone.inputs["visibility"] == "private"
    assert zone.inputs["privateVisibilityConfig"] == {"networks": [{"networkUrl": NETWORK_ID}]}
    record = endpoints.one(RECORD, "pe-modelarmor-rep-a").inputs
    assert record["managedZone"] == zone.outputs["name"]
    assert (record["name"], record["type"], record["rrdatas"]) == (
        f"{ARMOR_HOST}.",
        "A",
        [ARMOR_IP],
    )
    # the zone is more specific than googleapis.com, whose wildcard names the global
    # endpoint; no record for the hostname sits in the googleapis.com zone
    googleapis = endpoints.one(ZONE, "pe-googleapis-com").outputs["name"]
    names = {
        r.inputs["name"] for r in endpoints.of_type(RECORD) if r.inputs["managedZone"] == googleapis
    }
    assert f"{ARMOR_HOST}." not in names


def test_no_regional_services_drop_exactly_the_regional_endpoint(endpoints: MockRun) -> None:
    assert changes(endpoints, build_endpoints(regional_services=())) == {
        "-pe-modelarmor-rep",
        "-pe-allow-modelarmor-rep",
        "-pe-modelarmor-rep-zone",
        "-pe-modelarmor-rep-a",
    }
    # without regional services no subnet is needed
    bare = build_endpoints(regional_services=(), subnet_id=None, subnet_cidr=None)
    assert not bare.of_type(REGIONAL_ENDPOINT)


def test_each_regional_service_takes_the_next_address_down(endpoints: MockRun) -> None:
    two = build_endpoints(regional_services=("modelarmor", "secretmanager"))
    addresses = {
        r.inputs["targetGoogleApi"]: r.inputs["address"] for r in two.of_type(REGIONAL_ENDPOINT)
    }
    assert addresses == {
        ARMOR_HOST: ARMOR_IP,
        f"secretmanager.{REGION}.rep.googleapis.com": "10.10.15.252",
    }
    # adding a service leaves the first one's resources as they were
    assert {c for c in changes(endpoints, two) if not c.startswith("+")} == set()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"subnet_id": None}, "subnet_id and subnet_cidr"),
        ({"subnet_cidr": None}, "subnet_id and subnet_cidr"),
        ({"subnet_cidr": "10.0.0.0/30"}, "no room"),
        ({"subnet_cidr": "fd00::/64"}, "IPv4"),
        ({"regional_services": ("modelarmor.googleapis.com",)}, "service names"),
    ],
)
def test_regional_endpoint_arguments_are_checked(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(Exception, match=message):
        build_endpoints(**overrides)


def test_invalid_labels_are_refused() -> None:
    with pytest.raises(Exception, match="not a valid GCP label"):
        build_endpoints(labels={"Data-Classification": "Confidential"})


def test_names_fit_gcp_limits() -> None:
    from aiscaffold_components.gcp._common import account_id, compact

    assert re.fullmatch(
        r"[a-z][a-z0-9-]{4,28}[a-z0-9]", account_id("a-very-long-project-name-workload")
    )
    assert account_id("ai") == "ai-wkld"
    assert compact("My-Project_1", max_len=20, prefix="psc") == "pscmyproject1"
