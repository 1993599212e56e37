"""GCP-NET, GCP-PSC and GCP-DNS policies: compliant and non-compliant fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from gcp.gcp_policy_support import (
    DROP,
    LABELS,
    NETWORK_ID,
    PROJECT,
    flagged,
    messages,
    patch,
    reqs,
    res,
    unknown,
)
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE

NETWORK = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
FIREWALL = "gcp:compute/firewall:Firewall"
ROUTE = "gcp:compute/route:Route"
NAT = "gcp:compute/routerNat:RouterNat"
RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
ADDRESS = "gcp:compute/globalAddress:GlobalAddress"
ZONE = "gcp:dns/managedZone:ManagedZone"
RECORD = "gcp:dns/recordSet:RecordSet"
REP = "gcp:networkconnectivity/regionalEndpoint:RegionalEndpoint"
TEMPLATE = "gcp:modelarmor/template:Template"
SUBNET_ID = f"projects/{PROJECT}/regions/us-central1/subnetworks/subnet"
ARMOR_HOST = "modelarmor.us-central1.rep.googleapis.com"

NETWORK_INPUTS = {
    "project": PROJECT,
    "autoCreateSubnetworks": False,
    "deleteDefaultRoutesOnCreate": True,
    "routingMode": "REGIONAL",
}
SUBNET_INPUTS = {
    "network": NETWORK_ID,
    "region": "us-central1",
    "ipCidrRange": "10.10.0.0/20",
    "privateIpGoogleAccess": True,
    "logConfig": {
        "aggregationInterval": "INTERVAL_5_SEC",
        "flowSampling": 1.0,
        "metadata": "INCLUDE_ALL_METADATA",
    },
}
LOG = {"metadata": "INCLUDE_ALL_METADATA"}
ALL = [{"protocol": "all"}]
HTTPS = [{"protocol": "tcp", "ports": ["443"]}]


def network(name: str = "net", /, **changes: Any) -> Any:
    return res(NETWORK, name, patch({**NETWORK_INPUTS, "name": "net"}, changes))


def subnet(name: str = "subnet", /, **changes: Any) -> Any:
    return res(SUBNET, name, patch(SUBNET_INPUTS, changes))


def firewall(name: str, direction: str | None, /, **inputs: Any) -> Any:
    return res(
        FIREWALL, name, {"network": NETWORK_ID, "direction": direction, "logConfig": LOG, **inputs}
    )


def baseline() -> list[Any]:
    return [
        firewall("deny-in", "INGRESS", priority=65000.0, denies=ALL, sourceRanges=["0.0.0.0/0"]),
        firewall(
            "deny-out", "EGRESS", priority=65000.0, denies=ALL, destinationRanges=["0.0.0.0/0"]
        ),
    ]


def test_custom_mode_and_default_route() -> None:
    resources = [
        network("good"),
        network("auto", autoCreateSubnetworks=True),
        network("default-mode", autoCreateSubnetworks=DROP),
        network("routed", deleteDefaultRoutesOnCreate=False),
        network("routed-default", deleteDefaultRoutesOnCreate=DROP),
    ]
    assert flagged("GCP-NET-001", resources) == {"auto", "default-mode"}
    assert flagged("GCP-NET-002", resources) == {"routed", "routed-default"}


def test_private_google_access() -> None:
    resources = [
        subnet("good"),
        subnet("off", privateIpGoogleAccess=False),
        subnet("unset", privateIpGoogleAccess=DROP),
        subnet("proxy", privateIpGoogleAccess=DROP, purpose="REGIONAL_MANAGED_PROXY"),
    ]
    assert flagged("GCP-NET-003", resources) == {"off", "unset"}


def test_flow_logs() -> None:
    resources = [
        subnet("good"),
        subnet("defaults", **{"logConfig": {"flowSampling": 1.0}}),  # metadata defaults to all
        subnet("none", logConfig=DROP),
        subnet("no-metadata", **{"logConfig.metadata": "EXCLUDE_ALL_METADATA"}),
        subnet("filtered", **{"logConfig.filterExpr": "connection.dest_port == 443"}),
        subnet("interval-default", **{"logConfig.aggregationInterval": DROP}),  # 5 s
        subnet("quarter-hour", **{"logConfig.aggregationInterval": "INTERVAL_15_MIN"}),
        subnet("half-minute", **{"logConfig.aggregationInterval": "INTERVAL_30_SEC"}),
        subnet("proxy", logConfig=DROP, purpose="REGIONAL_MANAGED_PROXY"),
    ]
    assert flagged("GCP-NET-004", resources) == {
        "none",
        "no-metadata",
        "filtered",
        "quarter-hour",
        "half-minute",
    }


def test_flow_log_sampling_follows_the_profile() -> None:
    resources = [
        subnet("good"),
        subnet("half", **{"logConfig.flowSampling": 0.5}),
        subnet("default", **{"logConfig.flowSampling": DROP}),  # Google samples 0.5
        subnet("none", logConfig=DROP),  # GCP-NET-004's business
    ]
    assert flagged("GCP-NET-005", resources) == {"half", "default"}
    assert flagged("GCP-NET-005", resources, reqs(data_sensitivity="internal")) == set()


def test_no_internet_ingress() -> None:
    resources = [
        *baseline(),
        firewall("iap", "INGRESS", allows=HTTPS, sourceRanges=["35.235.240.0/20"]),
        firewall("vpc", "INGRESS", allows=HTTPS, sourceRanges=["10.0.0.0/8"]),
        firewall("tagged", "INGRESS", allows=HTTPS, sourceTags=["web"]),
        firewall("world", "INGRESS", allows=HTTPS, sourceRanges=["0.0.0.0/0"]),
        firewall("public", "INGRESS", allows=HTTPS, sourceRanges=["8.8.8.0/24"]),
        firewall("no-source", "INGRESS", allows=HTTPS),
        firewall("implicit", None, allows=HTTPS, sourceRanges=["::/0"]),
        firewall("off", "INGRESS", allows=HTTPS, sourceRanges=["0.0.0.0/0"], disabled=True),
    ]
    assert flagged("GCP-NET-006", resources) == {"world", "public", "no-source", "implicit"}


def test_restricted_egress() -> None:
    google = ["199.36.153.4/30"]
    resources = [
        *baseline(),
        firewall("google", "EGRESS", allows=HTTPS, destinationRanges=google),
        firewall("psc", "EGRESS", allows=HTTPS, destinationRanges=["10.255.255.254/32"]),
        firewall("private-api", "EGRESS", allows=HTTPS, destinationRanges=["199.36.153.8/30"]),
        firewall("internet", "EGRESS", allows=HTTPS, destinationRanges=["0.0.0.0/0"]),
        firewall("anywhere", "EGRESS", allows=HTTPS),
        firewall("public", "EGRESS", allows=HTTPS, destinationRanges=["8.8.8.8/32", *google]),
        firewall("off", "EGRESS", allows=HTTPS, destinationRanges=["0.0.0.0/0"], disabled=True),
        firewall("ingress", "INGRESS", allows=HTTPS, sourceRanges=["10.0.0.0/8"]),
    ]
    assert flagged("GCP-NET-007", resources) == {"internet", "anywhere", "public"}
    # with internet egress chosen, the internet is a destination like any other
    assert flagged("GCP-NET-007", resources, reqs(allow_internet_egress=True)) == set()


IAP = ["35.235.240.0/20"]
SSH = [{"protocol": "tcp", "ports": ["22"]}]


def test_allow_rules_open_only_https() -> None:
    google = ["199.36.153.4/30"]
    psc = ["10.255.255.254/32"]
    resources = [
        *baseline(),  # deny rules open nothing
        firewall("google", "EGRESS", allows=HTTPS, destinationRanges=google),
        firewall("psc", "EGRESS", allows=HTTPS, destinationRanges=psc),
        firewall("numbered", "EGRESS", allows=[{"protocol": "6", "ports": ["443"]}]),
        firewall("two-blocks", "EGRESS", allows=[*HTTPS, *HTTPS], destinationRanges=psc),
        firewall("iap-ssh", "INGRESS", allows=SSH, sourceRanges=IAP),
        firewall(
            "iap-both",
            "INGRESS",
            allows=[{"protocol": "tcp", "ports": ["22", "443"]}],
            sourceRanges=IAP,
        ),
        firewall("internal-https", "INGRESS", allows=HTTPS, sourceRanges=["10.0.0.0/8"]),
        firewall("off", "EGRESS", allows=ALL, destinationRanges=psc, disabled=True),
        # every way to open more than HTTPS, in either direction and to any destination
        firewall("psc-all", "EGRESS", allows=ALL, destinationRanges=psc),
        firewall("psc-every-port", "EGRESS", allows=[{"protocol": "tcp"}], destinationRanges=psc),
        firewall(
            "psc-range",
            "EGRESS",
            allows=[{"protocol": "tcp", "ports": ["0-65535"]}],
            destinationRanges=psc,
        ),
        firewall(
            "psc-443-range",
            "EGRESS",
            allows=[{"protocol": "tcp", "ports": ["443-444"]}],
            destinationRanges=psc,
        ),
        firewall(
            "google-http",
            "EGRESS",
            allows=[{"protocol": "tcp", "ports": ["80", "443"]}],
            destinationRanges=google,
        ),
        firewall(
            "google-udp",
            "EGRESS",
            allows=[{"protocol": "udp", "ports": ["443"]}],
            destinationRanges=google,
        ),
        firewall(
            "extra-block", "EGRESS", allows=[*HTTPS, {"protocol": "icmp"}], destinationRanges=psc
        ),
        firewall("no-protocol", "EGRESS", allows=[{"ports": ["443"]}], destinationRanges=psc),
        firewall("internal-ssh", "INGRESS", allows=SSH, sourceRanges=["10.0.0.0/8"]),
        firewall("iap-and-more", "INGRESS", allows=SSH, sourceRanges=[*IAP, "10.0.0.0/8"]),
        firewall("iap-tagged", "INGRESS", allows=SSH, sourceRanges=IAP, sourceTags=["admin"]),
        firewall(
            "iap-rdp", "INGRESS", allows=[{"protocol": "tcp", "ports": ["3389"]}], sourceRanges=IAP
        ),
        firewall("egress-ssh", "EGRESS", allows=SSH, destinationRanges=IAP),
    ]
    assert flagged("GCP-NET-014", resources) == {
        "psc-all",
        "psc-every-port",
        "psc-range",
        "psc-443-range",
        "google-http",
        "google-udp",
        "extra-block",
        "no-protocol",
        "internal-ssh",
        "iap-and-more",
        "iap-tagged",
        "iap-rdp",
        "egress-ssh",
    }
    # choosing internet egress opens destinations, never ports
    assert "psc-all" in flagged("GCP-NET-014", resources, reqs(allow_internet_egress=True))


def test_https_only_messages() -> None:
    psc = ["10.255.255.254/32"]
    rules = [
        firewall("all", "EGRESS", allows=ALL, destinationRanges=psc),
        firewall("range", "EGRESS", allows=[{"protocol": "tcp", "ports": ["0-65535"]}]),
        firewall("bare", "EGRESS", allows=[{"ports": ["443"]}]),
        firewall(
            "rdp", "INGRESS", allows=[{"protocol": "tcp", "ports": ["3389"]}], sourceRanges=IAP
        ),
    ]
    assert set(messages("GCP-NET-014", rules)) == {
        "all allows all (all ports); only tcp:443",
        "range allows tcp:0-65535; only tcp:443",
        "bare allows no protocol:443; only tcp:443",
        "rdp allows tcp:3389; only tcp:443 or tcp:22",
    }


def test_https_rule_needs_no_known_sources() -> None:
    # only SSH depends on where traffic comes from: HTTPS is judged with the sources unknown
    pending = firewall("pending", "INGRESS", allows=HTTPS, sourceRanges=UNKNOWN_OBJECT_VALUE)
    assert unknown("GCP-NET-014", [pending]) == set()


def test_firewall_logging() -> None:
    resources = [
        firewall("good", "INGRESS", denies=ALL, sourceRanges=["0.0.0.0/0"]),
        firewall("silent", "INGRESS", denies=ALL, sourceRanges=["0.0.0.0/0"], logConfig=None),
        firewall("bare", "INGRESS", denies=ALL, logConfig={"metadata": "EXCLUDE_ALL_METADATA"}),
    ]
    assert flagged("GCP-NET-008", resources) == {"silent", "bare"}


def test_deny_all_baseline() -> None:
    net = network("net")
    other = res(NETWORK, "other", {**NETWORK_INPUTS, "name": "other"})
    assert flagged("GCP-NET-009", [net, *baseline()]) == set()
    ingress_only = [baseline()[0]]
    assert flagged("GCP-NET-009", [net, *ingress_only]) == {"net"}
    tagged = firewall("deny-out", "EGRESS", denies=ALL, targetTags=["x"])
    disabled = firewall("deny-out", "EGRESS", denies=ALL, disabled=True)
    tcp_only = firewall("deny-out", "EGRESS", denies=[{"protocol": "tcp"}])
    for rule in (tagged, disabled, tcp_only):
        assert flagged("GCP-NET-009", [net, baseline()[0], rule]) == {"net"}
    # rules of another network protect only that network
    assert flagged("GCP-NET-009", [net, other, *baseline()]) == {"other"}
    # auto-named networks are matched by their logical name
    auto = res(NETWORK, "auto", NETWORK_INPUTS)
    rules = [
        firewall(
            "a",
            "INGRESS",
            denies=ALL,
            sourceRanges=["0.0.0.0/0"],
            network="projects/p/global/networks/auto-1a2b3c4",
        ),
        firewall("b", "EGRESS", denies=ALL, network="projects/p/global/networks/auto-1a2b3c4"),
    ]
    assert flagged("GCP-NET-009", [auto, *rules]) == set()


def test_internet_route_only_when_chosen() -> None:
    resources = [
        res(
            ROUTE,
            "google",
            {"destRange": "199.36.153.4/30", "nextHopGateway": "default-internet-gateway"},
        ),
        res(
            ROUTE,
            "internet",
            {"destRange": "0.0.0.0/0", "nextHopGateway": "default-internet-gateway"},
        ),
        res(ROUTE, "appliance", {"destRange": "0.0.0.0/0", "nextHopIp": "10.0.0.5"}),
    ]
    assert flagged("GCP-NET-010", resources) == {"internet"}
    assert flagged("GCP-NET-010", resources, reqs(allow_internet_egress=True)) == set()


def test_nat_only_when_chosen_and_logged() -> None:
    logged = {"logConfig": {"enable": True, "filter": "ALL"}}
    resources = [
        res(NAT, "good", logged),
        res(NAT, "silent", {}),
        res(NAT, "errors", {"logConfig": {"enable": True, "filter": "ERRORS_ONLY"}}),
    ]
    assert flagged("GCP-NET-011", resources, reqs(allow_internet_egress=True)) == {
        "silent",
        "errors",
    }
    assert flagged("GCP-NET-011", [res(NAT, "good", logged)]) == {"good"}


def test_no_external_ip() -> None:
    nic = {"network": NETWORK_ID, "subnetwork": "s"}
    resources = [
        res("gcp:compute/instance:Instance", "private", {"networkInterfaces": [nic]}),
        res(
            "gcp:compute/instance:Instance",
            "public",
            {"networkInterfaces": [{**nic, "accessConfigs": [{}]}]},
        ),
        res(
            "gcp:compute/instanceTemplate:InstanceTemplate",
            "v6",
            {"networkInterfaces": [{**nic, "ipv6AccessConfigs": [{"networkTier": "PREMIUM"}]}]},
        ),
    ]
    assert flagged("GCP-NET-012", resources) == {"public", "v6"}


def test_no_external_ipv6() -> None:
    resources = [
        subnet("v4"),
        subnet("internal", stackType="IPV4_IPV6", ipv6AccessType="INTERNAL"),
        subnet("external", stackType="IPV4_IPV6", ipv6AccessType="EXTERNAL"),
    ]
    assert flagged("GCP-NET-013", resources) == {"external"}


def psc(target: str = "all-apis", network_id: str = NETWORK_ID) -> Any:
    return res(
        RULE,
        "psc",
        {"target": target, "network": network_id, "loadBalancingScheme": "", "labels": LABELS},
    )


def test_psc_endpoint_for_each_network() -> None:
    net = network("net")
    assert flagged("GCP-PSC-001", [net, psc()]) == set()
    assert flagged("GCP-PSC-001", [net]) == {"net"}
    assert flagged("GCP-PSC-001", [net, psc(network_id="projects/p/global/networks/other")]) == {
        "net"
    }
    lb = res(RULE, "lb", {"target": "https-proxy", "network": NETWORK_ID})
    assert flagged("GCP-PSC-001", [net, lb]) == {"net"}
    assert flagged("GCP-PSC-001", []) == set()


def test_vpc_sc_bundle_inside_a_perimeter() -> None:
    perimeter = res("gcp:accesscontextmanager/servicePerimeter:ServicePerimeter", "perimeter", {})
    assert flagged("GCP-PSC-002", [perimeter, psc("vpc-sc")]) == set()
    assert flagged("GCP-PSC-002", [perimeter, psc("all-apis")]) == {"psc"}
    assert flagged("GCP-PSC-002", [psc("all-apis")]) == set()


def zone(name: str, domain: str, /, **changes: Any) -> Any:
    inputs = {
        "dnsName": f"{domain}.",
        "visibility": "private",
        "privateVisibilityConfig": {"networks": [{"networkUrl": NETWORK_ID}]},
        "labels": LABELS,
    }
    return res(ZONE, name, patch(inputs, changes))


def test_private_zones_for_google_domains() -> None:
    resources = [
        zone("good", "googleapis.com"),
        zone("public", "googleapis.com", visibility=DROP),
        zone("nowhere", "pkg.dev", privateVisibilityConfig=DROP),
        zone(
            "nowhere-list", "aiplatform.googleapis.com", **{"privateVisibilityConfig.networks": []}
        ),
        zone("own-domain", "example.com", visibility="public", privateVisibilityConfig=DROP),
    ]
    assert flagged("GCP-DNS-001", resources) == {"public", "nowhere", "nowhere-list"}


def record(name: str, dns_name: str, kind: str, data: list[str], zone_name: str = "apis") -> Any:
    return res(
        RECORD, name, {"managedZone": zone_name, "name": dns_name, "type": kind, "rrdatas": data}
    )


def test_googleapis_resolves_to_the_endpoint() -> None:
    address = res(
        ADDRESS, "addr", {"purpose": "PRIVATE_SERVICE_CONNECT", "address": "10.255.255.254"}
    )
    apis = zone("apis", "googleapis.com", name="apis")
    apex = record("apex", "googleapis.com.", "A", ["10.255.255.254"])
    wildcard = record("wild", "*.googleapis.com.", "CNAME", ["googleapis.com."])
    good = [psc(), address, apis, apex, wildcard]
    assert flagged("GCP-DNS-002", good) == set()
    assert flagged("GCP-DNS-002", [psc(), address]) == {"psc"}
    assert flagged("GCP-DNS-002", [psc(), address, apis, wildcard]) == {"apis"}
    assert flagged("GCP-DNS-002", [psc(), address, apis, apex]) == {"apis"}
    elsewhere = record("apex", "googleapis.com.", "A", ["199.36.153.8"])
    assert flagged("GCP-DNS-002", [psc(), address, apis, elsewhere, wildcard]) == {"apis"}
    public = zone("apis", "googleapis.com", name="apis", visibility="public")
    assert flagged("GCP-DNS-002", [psc(), address, public, apex, wildcard]) == {"psc"}
    assert flagged("GCP-DNS-002", [apis]) == set()


def template(name: str = "armor", location: str = "us-central1") -> Any:
    return res(TEMPLATE, name, {"location": location, "templateId": name, "labels": LABELS})


def rep(name: str = "rep", /, **changes: Any) -> Any:
    inputs = {
        "location": "us-central1",
        "targetGoogleApi": ARMOR_HOST,
        "accessType": "REGIONAL",
        "network": NETWORK_ID,
        "subnetwork": SUBNET_ID,
        "address": "10.10.15.253",
        "labels": LABELS,
    }
    return res(REP, name, patch(inputs, changes))


def test_model_armor_reached_through_a_regional_endpoint() -> None:
    net = network("net")
    assert flagged("GCP-PSC-003", [net, template(), rep()]) == set()
    # removed, or targeting another region or service: the network cannot reach Model Armor
    assert flagged("GCP-PSC-003", [net, template()]) == {"net"}
    other_region = rep(targetGoogleApi="modelarmor.europe-west4.rep.googleapis.com")
    assert flagged("GCP-PSC-003", [net, template(), other_region]) == {"net"}
    other_service = rep(targetGoogleApi="secretmanager.us-central1.rep.googleapis.com")
    assert flagged("GCP-PSC-003", [net, template(), other_service]) == {"net"}
    # the global all-apis endpoint does not serve the regional hostname
    assert flagged("GCP-PSC-003", [net, template(), psc()]) == {"net"}
    # an endpoint in another network serves only that network
    elsewhere = rep(network="projects/p/global/networks/other", subnetwork="s-other")
    assert flagged("GCP-PSC-003", [net, template(), elsewhere]) == {"net"}
    # templates in two regions need an endpoint each
    eu = template("armor-eu", "europe-west4")
    assert flagged("GCP-PSC-003", [net, template(), eu, rep()]) == {"net"}
    assert (
        flagged(
            "GCP-PSC-003",
            [
                net,
                template(),
                eu,
                rep(),
                rep("rep-eu", targetGoogleApi="modelarmor.europe-west4.rep.googleapis.com"),
            ],
        )
        == set()
    )
    # an endpoint naming only its subnet is in that subnet's network
    sub = subnet("subnet", name="subnet")
    assert flagged("GCP-PSC-003", [net, sub, template(), rep(network=DROP)]) == set()
    # not applicable without a template or without a VPC network
    assert flagged("GCP-PSC-003", [net]) == set()
    assert flagged("GCP-PSC-003", [template()]) == set()


def armor_zone(**changes: Any) -> Any:
    return zone("armor-zone", ARMOR_HOST, name="armor-zone", **changes)


def armor_record(data: list[str] | None = None, zone_name: str = "armor-zone") -> Any:
    return record("armor-a", f"{ARMOR_HOST}.", "A", data or ["10.10.15.253"], zone_name)


def test_regional_hostname_resolves_to_its_endpoint() -> None:
    apis = zone("apis", "googleapis.com", name="apis")
    wildcard = record("wild", "*.googleapis.com.", "CNAME", ["googleapis.com."])
    good = [rep(), apis, wildcard, armor_zone(), armor_record()]
    assert flagged("GCP-DNS-003", good) == set()
    # no zone of its own: the googleapis.com wildcard sends the name to the global endpoint
    assert flagged("GCP-DNS-003", [rep(), apis, wildcard]) == {"rep"}
    # zone without the record, or pointing elsewhere
    assert flagged("GCP-DNS-003", [rep(), armor_zone()]) == {"rep"}
    assert flagged("GCP-DNS-003", [rep(), armor_zone(), armor_record(["10.255.255.254"])]) == {
        "rep"
    }
    # a public zone, or one visible to another network, does not answer inside the VPC
    public = armor_zone(visibility="public")
    assert flagged("GCP-DNS-003", [rep(), public, armor_record()]) == {"rep"}
    other = armor_zone(
        **{"privateVisibilityConfig.networks": [{"networkUrl": "projects/p/global/networks/x"}]}
    )
    assert flagged("GCP-DNS-003", [rep(), other, armor_record()]) == {"rep"}
    # a record in a broader zone answers when no more specific zone exists
    in_apis = armor_record(zone_name="apis")
    assert flagged("GCP-DNS-003", [rep(), apis, wildcard, in_apis]) == set()
    # but the most specific zone decides: an empty zone for the name shadows it
    assert flagged("GCP-DNS-003", [rep(), apis, in_apis, armor_zone()]) == {"rep"}
    assert flagged("GCP-DNS-003", [apis, wildcard]) == set()


@pytest.mark.parametrize(
    ("policy", "resource"),
    [
        ("GCP-NET-001", res(NETWORK, "pending", {"autoCreateSubnetworks": UNKNOWN_STRING_VALUE})),
        ("GCP-NET-003", res(SUBNET, "pending", {"privateIpGoogleAccess": UNKNOWN_STRING_VALUE})),
        ("GCP-NET-004", res(SUBNET, "pending", {"logConfig": UNKNOWN_OBJECT_VALUE})),
        (
            "GCP-NET-006",
            firewall("pending", "INGRESS", allows=HTTPS, sourceRanges=UNKNOWN_OBJECT_VALUE),
        ),
        (
            "GCP-NET-007",
            firewall("pending", "EGRESS", allows=HTTPS, destinationRanges=UNKNOWN_OBJECT_VALUE),
        ),
        (
            "GCP-NET-004",
            subnet("pending", **{"logConfig.aggregationInterval": UNKNOWN_STRING_VALUE}),
        ),
        ("GCP-NET-014", firewall("pending", "EGRESS", allows=UNKNOWN_OBJECT_VALUE)),
        (
            "GCP-NET-014",
            firewall(
                "pending", "EGRESS", allows=[{"protocol": "tcp", "ports": UNKNOWN_OBJECT_VALUE}]
            ),
        ),
        (
            "GCP-NET-014",
            firewall("pending", "INGRESS", allows=SSH, sourceRanges=UNKNOWN_OBJECT_VALUE),
        ),
        (
            "GCP-DNS-001",
            zone("pending", "googleapis.com", privateVisibilityConfig=UNKNOWN_OBJECT_VALUE),
        ),
    ],
)
def test_unknown_values(policy: str, resource: Any) -> None:
    assert unknown(policy, [resource]) == {"pending"}


def test_unknown_network_of_a_firewall_rule() -> None:
    rules = [
        res(FIREWALL, r.name, {**r.inputs, "network": UNKNOWN_STRING_VALUE}) for r in baseline()
    ]
    assert unknown("GCP-NET-009", [network("net"), *rules]) == {"(stack)"}


def test_unknown_references_in_stack_policies() -> None:
    pending_rule = psc(network_id=UNKNOWN_STRING_VALUE)
    assert unknown("GCP-PSC-001", [network("net"), pending_rule]) == {"(stack)"}
    address = res(
        ADDRESS, "addr", {"purpose": "PRIVATE_SERVICE_CONNECT", "address": "10.255.255.254"}
    )
    apis = zone("apis", "googleapis.com", name="apis")
    pending_record = record(
        "apex", "googleapis.com.", "A", ["10.255.255.254"], UNKNOWN_STRING_VALUE
    )
    assert unknown("GCP-DNS-002", [psc(), address, apis, pending_record]) == {"(stack)"}


def test_unknown_values_of_regional_endpoints() -> None:
    pending_target = rep(targetGoogleApi=UNKNOWN_STRING_VALUE)
    assert unknown("GCP-PSC-003", [network("net"), template(), pending_target]) == {"(stack)"}
    pending_location = res(TEMPLATE, "armor", {"location": UNKNOWN_STRING_VALUE})
    assert unknown("GCP-PSC-003", [network("net"), pending_location, rep()]) == {"(stack)"}
    pending_zone = armor_zone(privateVisibilityConfig=UNKNOWN_OBJECT_VALUE)
    assert unknown("GCP-DNS-003", [rep(), pending_zone, armor_record()]) == {"(stack)"}
    pending_data = record("armor-a", f"{ARMOR_HOST}.", "A", UNKNOWN_OBJECT_VALUE, "armor-zone")
    assert unknown("GCP-DNS-003", [rep(), armor_zone(), pending_data]) == {"(stack)"}
