"""GCP policies that ask whether some resource (or list entry) passes a check, or whether
every one does, while a value is unknown during preview.

A known item decides: one that passes, for "some"; one that fails, for "every". Only
when no known item decides does an unknown value leave the verdict open. The verdict
must be the same in either order of registration (of list entries, for entries): a
check that stops at the first item it meets (``any()``, a loop returning early) passes
when a known passing item comes first and reports "unknown" when the unknown one does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from aiscaffold.testing import CapturedResource
from gcp.gcp_policy_support import (
    BUCKET_INPUTS,
    NETWORK_ID,
    PROJECT,
    REGION,
    archive_inputs,
    audit,
    only,
    patch,
    report,
    reqs,
    res,
)
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_STRING_VALUE

S, A = UNKNOWN_STRING_VALUE, UNKNOWN_ARRAY_VALUE
OTHER_NETWORK = f"projects/{PROJECT}/global/networks/other"
SUBNET_ID = f"projects/{PROJECT}/regions/{REGION}/subnetworks/subnet"
ARMOR_HOST = f"modelarmor.{REGION}.rep.googleapis.com"
PSC_ADDRESS = "10.255.255.254"
REP_ADDRESS = "10.10.15.253"
FILTER = (
    'logName:"cloudaudit.googleapis.com" OR logName:"compute.googleapis.com%2Fvpc_flows" '
    'OR logName:"compute.googleapis.com%2Ffirewall" OR logName:"modelarmor.googleapis.com"'
)
TO_LOG_BUCKET = f"logging.googleapis.com/projects/{PROJECT}/locations/{REGION}/buckets/app-logs"
DELETE = {"type": "Delete"}


# ------------------------------------------------------------- resources the cases use
def endpoint() -> CapturedResource:
    """A Vertex AI endpoint: what makes a stack an AI workload."""
    return res("gcp:vertex/aiEndpoint:AiEndpoint", "endpoint", {})


def network() -> CapturedResource:
    return res("gcp:compute/network:Network", "net", {"name": "net"})


def subnet(name: str = "subnet", network_id: str = NETWORK_ID) -> CapturedResource:
    return res(
        "gcp:compute/subnetwork:Subnetwork",
        name,
        {"name": "subnet", "network": network_id, "logConfig": {"flowSampling": 1.0}},
    )


def sink(name: str, destination: str, log_filter: str = FILTER) -> CapturedResource:
    return res(
        "gcp:logging/projectSink:ProjectSink",
        name,
        {"destination": destination, "filter": log_filter, "uniqueWriterIdentity": True},
    )


def log_bucket() -> CapturedResource:
    return res(
        "gcp:logging/projectBucketConfig:ProjectBucketConfig",
        "logs",
        {"bucketId": "app-logs", "location": REGION},
    )


def bucket(name: str, **changes: Any) -> CapturedResource:
    return res("gcp:storage/bucket:Bucket", name, patch(BUCKET_INPUTS, changes))


def archive(lifecycle_rules: list[Any]) -> list[CapturedResource]:
    """A log archive (a sink writes to it) with these lifecycle rules."""
    inputs = patch(archive_inputs(), {"lifecycleRules": lifecycle_rules})
    return [
        res("gcp:storage/bucket:Bucket", "archive", inputs),
        sink("archive-sink", "storage.googleapis.com/archive-1a2b3c4"),
    ]


def psc(name: str = "psc", network_id: str = NETWORK_ID) -> CapturedResource:
    return res(
        "gcp:compute/globalForwardingRule:GlobalForwardingRule",
        name,
        {"target": "all-apis", "network": network_id},
    )


def psc_address() -> CapturedResource:
    return res(
        "gcp:compute/globalAddress:GlobalAddress",
        "psc-address",
        {"purpose": "PRIVATE_SERVICE_CONNECT", "address": PSC_ADDRESS},
    )


def rep(name: str = "rep", /, **changes: Any) -> CapturedResource:
    inputs = {
        "targetGoogleApi": ARMOR_HOST,
        "network": NETWORK_ID,
        "subnetwork": SUBNET_ID,
        "address": REP_ADDRESS,
    }
    return res(
        "gcp:networkconnectivity/regionalEndpoint:RegionalEndpoint", name, patch(inputs, changes)
    )


def armor_template() -> CapturedResource:
    return res("gcp:modelarmor/template:Template", "template", {"location": REGION})


def zone(name: str, domain: str) -> CapturedResource:
    return res(
        "gcp:dns/managedZone:ManagedZone",
        name,
        {
            "name": name,
            "dnsName": f"{domain}.",
            "visibility": "private",
            "privateVisibilityConfig": {"networks": [{"networkUrl": NETWORK_ID}]},
        },
    )


def record(
    name: str, zone_name: str, dns_name: str, kind: str, data: list[str]
) -> CapturedResource:
    return res(
        "gcp:dns/recordSet:RecordSet",
        name,
        {"managedZone": zone_name, "name": dns_name, "type": kind, "rrdatas": data},
    )


def apex(name: str = "apex", data: str = PSC_ADDRESS) -> CapturedResource:
    return record(name, "apis", "googleapis.com.", "A", [data])


def wildcard(name: str = "wildcard", zone_name: str = "apis") -> CapturedResource:
    return record(name, zone_name, "*.googleapis.com.", "CNAME", ["googleapis.com."])


def firewall(name: str, direction: str, **inputs: Any) -> CapturedResource:
    ranges = "sourceRanges" if direction == "INGRESS" else "destinationRanges"
    values = {"network": NETWORK_ID, "direction": direction, "denies": [{"protocol": "all"}]}
    return res("gcp:compute/firewall:Firewall", name, {**values, ranges: ["0.0.0.0/0"], **inputs})


def floor(name: str, services: list[str]) -> CapturedResource:
    return res(
        "gcp:modelarmor/floorsetting:Floorsetting",
        name,
        {"parent": f"projects/{PROJECT}", "location": "global", "integratedServices": services},
    )


def org_policy(constraint: str, rules: list[Any]) -> list[CapturedResource]:
    parent = f"projects/{PROJECT}"
    inputs = {"parent": parent, "name": f"{parent}/policies/{constraint}", "spec": {"rules": rules}}
    return [res("gcp:orgpolicy/policy:Policy", "constraint", inputs)]


# ------------------------------------------------------------------------------ cases
Item = CapturedResource | dict[str, Any]


@dataclass(frozen=True)
class Case:
    """Items a policy asks "some passes?" (or "every one passes?") about."""

    policy: str
    build: Callable[[list[Item]], list[CapturedResource]]
    """The stack holding the items (resources registered after the others, or the
    entries of a list in a resource)."""
    passing: Item
    failing: Item
    path: str
    """The value of ``passing`` that is unknown in the pending item."""
    sentinel: str
    quantifier: Literal["some", "every"] = "some"

    @property
    def pending(self) -> Item:
        """The passing item, but with the value at ``path`` unknown during preview."""
        if isinstance(self.passing, CapturedResource):
            inputs = patch(self.passing.inputs, {self.path: self.sentinel})
            return res(self.passing.type, "pending", inputs)
        return patch(self.passing, {self.path: self.sentinel})

    @property
    def decided(self) -> str:
        """The outcome a known deciding item gives."""
        return "compliant" if self.quantifier == "some" else "violation"

    @property
    def deciding(self) -> Item:
        return self.passing if self.quantifier == "some" else self.failing

    @property
    def undeciding(self) -> Item:
        return self.failing if self.quantifier == "some" else self.passing


def _after(*context: CapturedResource) -> Callable[[list[Item]], list[CapturedResource]]:
    def build(items: list[Any]) -> list[CapturedResource]:
        return [*context, *items]

    return build


CASES = {
    "LOG-002 audit configs": Case(
        "GCP-LOG-002",
        _after(endpoint(), bucket("data"), audit("aiplatform.googleapis.com")),
        audit("storage.googleapis.com", "storage"),
        audit("storage.googleapis.com", "reads", auditLogConfigs=[{"logType": "DATA_READ"}]),
        "service",
        S,
    ),
    "LOG-003 sinks": Case(
        "GCP-LOG-003",
        _after(endpoint(), log_bucket()),
        sink("sink", TO_LOG_BUCKET),
        sink("flows", TO_LOG_BUCKET, 'logName:"compute.googleapis.com%2Fvpc_flows"'),
        "destination",
        S,
    ),
    "LOG-004 sinks": Case(
        "GCP-LOG-004",
        _after(subnet(), log_bucket()),
        sink("sink", TO_LOG_BUCKET),
        sink("audit", TO_LOG_BUCKET, 'logName:"cloudaudit.googleapis.com"'),
        "filter",
        S,
    ),
    "LOG-009 lifecycle rules": Case(
        "GCP-LOG-009",
        archive,
        {"action": DELETE, "condition": {"age": 365.0}},
        {"action": DELETE, "condition": {"age": 365.0, "matchesPrefixes": ["audit/"]}},
        "condition.matchesPrefixes",
        A,
    ),
    "STORAGE-009 audit configs": Case(
        "GCP-STORAGE-009",
        _after(bucket("data")),
        audit("storage.googleapis.com", "storage"),
        audit("storage.googleapis.com", "reads", auditLogConfigs=[{"logType": "DATA_READ"}]),
        "service",
        S,
    ),
    "PSC-001 forwarding rules": Case(
        "GCP-PSC-001", _after(network()), psc(), psc("elsewhere", OTHER_NETWORK), "network", S
    ),
    "PSC-003 regional endpoints": Case(
        "GCP-PSC-003",
        _after(network(), armor_template()),
        rep(),
        rep("eu", targetGoogleApi="modelarmor.europe-west4.rep.googleapis.com"),
        "network",
        S,
    ),
    "PSC-003 subnets": Case(
        "GCP-PSC-003",
        # the endpoint names only its subnet: it is in that subnet's network
        _after(network(), armor_template(), rep(network=None)),
        subnet(),
        subnet("elsewhere", OTHER_NETWORK),
        "network",
        S,
    ),
    "DNS-002 apex records": Case(
        "GCP-DNS-002",
        _after(psc(), psc_address(), zone("apis", "googleapis.com"), wildcard()),
        apex(),
        apex("public", "199.36.153.8"),
        "rrdatas",
        A,
    ),
    "DNS-002 wildcard records": Case(
        "GCP-DNS-002",
        _after(psc(), psc_address(), zone("apis", "googleapis.com"), apex()),
        wildcard(),
        wildcard("elsewhere", "other-zone"),
        "managedZone",
        S,
    ),
    "DNS-003 records": Case(
        "GCP-DNS-003",
        _after(rep(), zone("armor", ARMOR_HOST)),
        record("armor-a", "armor", f"{ARMOR_HOST}.", "A", [REP_ADDRESS]),
        record("global-a", "armor", f"{ARMOR_HOST}.", "A", [PSC_ADDRESS]),
        "rrdatas",
        A,
    ),
    "NET-009 firewall rules": Case(
        "GCP-NET-009",
        _after(network(), firewall("deny-in", "INGRESS")),
        firewall("deny-out", "EGRESS"),
        firewall("tagged", "EGRESS", targetTags=["x"]),
        "network",
        S,
    ),
    "NET-009 deny entries": Case(
        "GCP-NET-009",
        lambda denies: [
            network(),
            firewall("deny-in", "INGRESS"),
            firewall("deny-out", "EGRESS", denies=denies),
        ],
        {"protocol": "all"},
        {"protocol": "tcp"},
        "protocol",
        S,
    ),
    "ORG-001 rules": Case(
        "GCP-ORG-001",
        lambda rules: org_policy("compute.vmExternalIpAccess", rules),
        {"denyAll": "TRUE"},
        {"denyAll": "FALSE"},
        "denyAll",
        S,
    ),
    "ORG-002 rules": Case(
        "GCP-ORG-002",
        lambda rules: org_policy("gcp.resourceLocations", rules),
        {"values": {"allowedValues": [f"in:{REGION}-locations"]}},
        {"allowAll": "TRUE"},
        "allowAll",
        S,
        quantifier="every",  # every rule must not allow all
    ),
    "ARMOR-008 floor settings": Case(
        "GCP-ARMOR-008",
        _after(endpoint(), armor_template()),
        floor("floor", ["AI_PLATFORM"]),
        floor("unintegrated", []),
        "integratedServices",
        A,
    ),
}


def verdict(case: Case, items: Sequence[Item]) -> str:
    """The case's policy's outcome on the stack holding ``items``, in that order; an
    unknown outcome must be about the pending item's value."""
    result = report(case.build(list(items)), only(reqs(), case.policy))
    if result.unknown:
        (message,) = [f.message for f in result.unknown]
        assert message.endswith(f".{case.path} can't be known during preview"), message
        return "unknown"
    if [f for f in result.violations if f.category == "policy"]:
        return "violation"
    return "compliant" if case.policy in result.passed else "not applicable"


def verdicts(case: Case, items: Sequence[Item]) -> set[str]:
    """The outcomes with the items in their order and in the reverse order."""
    return {verdict(case, items), verdict(case, items[::-1])}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES)
def test_a_known_item_decides_in_either_order(case: Case) -> None:
    assert verdicts(case, [case.deciding]) == {case.decided}
    assert verdicts(case, [case.deciding, case.pending]) == {case.decided}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES)
def test_unknown_when_no_known_item_decides(case: Case) -> None:
    opposite = "violation" if case.decided == "compliant" else "compliant"
    assert verdicts(case, [case.undeciding]) == {opposite}
    assert verdicts(case, [case.undeciding, case.pending]) == {"unknown"}
    assert verdicts(case, [case.pending]) == {"unknown"}


def test_a_known_narrowing_condition_decides_beside_an_unknown_one() -> None:
    """A Delete rule limited to some logs (here by suffix) does not expire every log,
    whatever an unknown condition read before it (createdBefore) says."""
    condition = {"age": 365.0, "createdBefore": S, "matchesSuffixes": [".tmp"]}
    result = report(archive([{"action": DELETE, "condition": condition}]), reqs())
    assert [f.message for f in result.violations if f.policy == "GCP-LOG-009"] == [
        "archive keeps logs forever: delete them after 365 days with a lifecycle rule"
    ]
    condition = {"age": 365.0, "createdBefore": S}
    result = report(archive([{"action": DELETE, "condition": condition}]), reqs())
    assert [f.policy for f in result.violations if f.policy == "GCP-LOG-009"] == []
    assert [f.policy for f in result.unknown if f.policy == "GCP-LOG-009"] == ["GCP-LOG-009"]
