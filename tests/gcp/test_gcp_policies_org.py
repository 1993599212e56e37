"""GCP-ORG policies (organization policies, perimeter): compliant and non-compliant fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold_components.gcp.org_policies import PERIMETER_SERVICES
from aiscaffold_components.policies.gcp.orgpolicy import GUARDRAIL_CONSTRAINTS
from gcp.gcp_policy_support import DROP, PROJECT, flagged, patch, reqs, res, unknown
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE

POLICY = "gcp:orgpolicy/policy:Policy"
PERIMETER = "gcp:accesscontextmanager/servicePerimeter:ServicePerimeter"
ENDPOINT = "gcp:vertex/aiEndpoint:AiEndpoint"


def org_policy(constraint: str, *rules: dict[str, Any], name: str | None = None) -> Any:
    parent = f"projects/{PROJECT}"
    return res(
        POLICY,
        name or constraint,
        {
            "parent": parent,
            "name": f"{parent}/policies/{constraint}",
            "spec": {"rules": list(rules or [{"enforce": "TRUE"}])},
        },
    )


def locations(*regions: str) -> Any:
    values = {"allowedValues": [f"in:{r}-locations" for r in regions]}
    return org_policy("gcp.resourceLocations", {"values": values})


def test_constraints_enforced() -> None:
    resources = [
        org_policy("iam.disableServiceAccountKeyCreation"),
        org_policy("compute.vmExternalIpAccess", {"denyAll": "TRUE"}),
        org_policy("storage.publicAccessPrevention", {"enforce": "FALSE"}, name="off"),
        org_policy("compute.requireOsLogin", {"allowAll": "TRUE"}, name="allow-all"),
        org_policy("compute.vmExternalIpAccess", {"allowAll": "TRUE"}, name="external-ips"),
        org_policy("compute.requireShieldedVm", {}, name="no-rule-value"),
        res(
            POLICY,
            "dry-run",
            {
                "name": "projects/p/policies/compute.disableSerialPortAccess",
                "dryRunSpec": {"rules": [{"enforce": "TRUE"}]},
            },
        ),
        res(
            POLICY,
            "reset",
            {"name": "projects/p/policies/ainotebooks.restrictPublicIp", "spec": {"reset": True}},
        ),
        locations("us-central1"),  # GCP-ORG-002's business
    ]
    assert flagged("GCP-ORG-001", resources) == {
        "off",
        "allow-all",
        "external-ips",
        "no-rule-value",
        "dry-run",
        "reset",
    }


def test_allowed_locations() -> None:
    gdpr = reqs(compliance=["gdpr"])
    assert flagged("GCP-ORG-002", [locations("europe-west4", "europe-west1")], gdpr) == set()
    assert flagged("GCP-ORG-002", [locations("europe-west4", "us-central1")], gdpr) == {
        "gcp.resourceLocations"
    }
    multi = org_policy("gcp.resourceLocations", {"values": {"allowedValues": ["in:us-locations"]}})
    assert flagged("GCP-ORG-002", [multi], gdpr) == {"gcp.resourceLocations"}
    # Global resources (PSC address, DNS zones, the floor setting) need no "global" value:
    # the constraint leaves them alone, and allowing it lets data out of the regions.
    for value in ("global", "in:global"):
        values = {"allowedValues": ["in:europe-west4-locations", value]}
        with_global = org_policy("gcp.resourceLocations", {"values": values})
        assert flagged("GCP-ORG-002", [with_global], gdpr) == {"gcp.resourceLocations"}
    everything = org_policy("gcp.resourceLocations", {"allowAll": "TRUE"})
    assert flagged("GCP-ORG-002", [everything]) == {"gcp.resourceLocations"}
    deny_only = org_policy(
        "gcp.resourceLocations", {"values": {"deniedValues": ["in:asia-locations"]}}
    )
    assert flagged("GCP-ORG-002", [deny_only]) == {"gcp.resourceLocations"}
    assert flagged("GCP-ORG-002", [org_policy("compute.requireOsLogin")]) == set()


@pytest.mark.parametrize("missing", list(GUARDRAIL_CONSTRAINTS))
def test_guardrail_constraints_present(missing: str) -> None:
    endpoint = res(ENDPOINT, "endpoint", {})
    policies = [org_policy(c) for c in GUARDRAIL_CONSTRAINTS]
    own = reqs(gcp_org_policies=True)
    assert flagged("GCP-ORG-003", [endpoint, *policies], own) == set()
    without = [p for p in policies if p.name != missing]
    assert flagged("GCP-ORG-003", [endpoint, *without], own) == {"(stack)"}
    # a stack without AI workload (the state backend) leaves them to the workload stack
    assert flagged("GCP-ORG-003", without, own) == set()
    # without gcp_org_policies the organization's administrators set them: not applicable
    assert flagged("GCP-ORG-003", [endpoint]) == set()


def perimeter(name: str = "good", /, **changes: Any) -> Any:
    inputs = {
        "parent": "accessPolicies/123",
        "perimeterType": "PERIMETER_TYPE_REGULAR",
        "status": {
            "resources": ["projects/123456789012"],
            "restrictedServices": list(PERIMETER_SERVICES),
            "vpcAccessibleServices": {
                "enableRestriction": True,
                "allowedServices": ["RESTRICTED-SERVICES"],
            },
        },
    }
    return res(PERIMETER, name, patch(inputs, changes))


def ingress(identity_type: str | None, *identities: str) -> dict[str, Any]:
    source: dict[str, Any] = {"sources": [{"accessLevel": "*"}]}
    if identity_type is not None:
        source["identityType"] = identity_type
    if identities:
        source["identities"] = list(identities)
    return {
        "title": "deployers",
        "ingressFrom": source,
        "ingressTo": {
            "resources": ["projects/123456789012"],
            "operations": [{"serviceName": "*", "methodSelectors": [{"method": "*"}]}],
        },
    }


def test_perimeter_restricts() -> None:
    deployer = ingress(None, "serviceAccount:ci@p.iam.gserviceaccount.com")
    assert {"modelarmor.googleapis.com", "logging.googleapis.com"} <= set(PERIMETER_SERVICES)
    resources = [
        perimeter(),
        perimeter("deployer", **{"status.ingressPolicies": [deployer]}),
        perimeter("no-kms", **{"status.restrictedServices": list(PERIMETER_SERVICES[:3])}),
        perimeter(
            "logs-out",
            **{
                "status.restrictedServices": [
                    s for s in PERIMETER_SERVICES if s != "logging.googleapis.com"
                ]
            },
        ),
        perimeter("anyone", **{"status.ingressPolicies": [deployer, ingress("ANY_IDENTITY")]}),
        perimeter("any-sa", **{"status.ingressPolicies": [ingress("ANY_SERVICE_ACCOUNT")]}),
        perimeter("open-vpc", **{"status.vpcAccessibleServices": DROP}),
        perimeter("unrestricted", **{"status.vpcAccessibleServices.enableRestriction": False}),
        perimeter("none-listed", **{"status.vpcAccessibleServices.allowedServices": DROP}),
        perimeter(
            "extra",
            **{
                "status.vpcAccessibleServices.allowedServices": [
                    "RESTRICTED-SERVICES",
                    "bigquery.googleapis.com",
                ]
            },
        ),
        perimeter("dry-run", useExplicitDryRunSpec=True),
        perimeter("empty", **{"status.resources": DROP}),
        perimeter("bridge", perimeterType="PERIMETER_TYPE_BRIDGE", status=DROP),
    ]
    assert flagged("GCP-ORG-004", resources) == {
        "no-kms",
        "logs-out",
        "anyone",
        "any-sa",
        "open-vpc",
        "unrestricted",
        "none-listed",
        "extra",
        "dry-run",
        "empty",
    }


@pytest.mark.parametrize(
    ("policy", "resource"),
    [
        (
            "GCP-ORG-001",
            res(
                POLICY,
                "pending",
                {
                    "name": "projects/p/policies/compute.requireOsLogin",
                    "spec": UNKNOWN_OBJECT_VALUE,
                },
            ),
        ),
        (
            "GCP-ORG-002",
            res(
                POLICY,
                "pending",
                {"name": "projects/p/policies/gcp.resourceLocations", "spec": UNKNOWN_OBJECT_VALUE},
            ),
        ),
        ("GCP-ORG-004", perimeter("pending", status=UNKNOWN_OBJECT_VALUE)),
    ],
)
def test_unknown_values(policy: str, resource: Any) -> None:
    assert unknown(policy, [resource]) == {"pending"}


def test_unknown_policy_name() -> None:
    pending = res(
        POLICY, "pending", {"name": UNKNOWN_STRING_VALUE, "spec": {"rules": [{"enforce": "TRUE"}]}}
    )
    own = reqs(gcp_org_policies=True)
    assert unknown("GCP-ORG-003", [res(ENDPOINT, "endpoint", {}), pending], own) == {"(stack)"}
