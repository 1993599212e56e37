"""Organization policy constraints on the project, and the VPC Service Controls perimeter."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import is_ai_workload, of_type, some

POLICY = "gcp:orgpolicy/policy:Policy"
PERIMETER = "gcp:accesscontextmanager/servicePerimeter:ServicePerimeter"

#: Constraints the project sets on itself (GOV-06), and what each prevents.
GUARDRAIL_CONSTRAINTS = {
    "iam.disableServiceAccountKeyCreation": "service account keys",
    "compute.vmExternalIpAccess": "external IPs on VMs",
    "storage.publicAccessPrevention": "public buckets",
    "storage.uniformBucketLevelAccess": "object ACLs",
    "gcp.resourceLocations": "resources outside the allowed regions",
    "compute.requireOsLogin": "SSH keys outside OS Login",
    "compute.requireShieldedVm": "VMs without Shielded VM",
    "compute.disableSerialPortAccess": "interactive serial consoles",
    "ainotebooks.restrictPublicIp": "Workbench instances with public IPs",
    "iam.automaticIamGrantsForDefaultServiceAccounts": "Editor grants to default service accounts",
}
#: List constraints that are guardrails only when they deny everything.
_DENY_ALL = ("compute.vmExternalIpAccess",)
#: Ingress identity types that admit every caller of a kind, not named identities.
_ANY_IDENTITY = ("ANY_IDENTITY", "ANY_USER_ACCOUNT", "ANY_SERVICE_ACCOUNT")
_LOCATION_VALUE = re.compile(r"^(?:in:)?(?P<region>[a-z]+-[a-z]+\d+)(?:-locations)?$")


def constraint_of(policy: Resource) -> str:
    return str(policy.get("name", default="")).rsplit("/policies/", 1)[-1]


def _true(value: object) -> bool:
    return str(value).upper() == "TRUE"


@resource_policy(
    id="GCP-ORG-001",
    title="Organization policy constraints are enforced, not relaxed",
    severity="high",
    types=[POLICY],
    controls=["GOV-06"],
    remediation="Give the policy a spec whose rules enforce the constraint (enforce TRUE, "
    "or deny_all TRUE for compute.vmExternalIpAccess); no allow_all, no reset, not only "
    "a dry-run spec.",
)
def constraint_enforced(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A project policy on a guardrail constraint enforces it; a policy that relaxes a
    constraint (enforce FALSE, allow all, reset to Google's default, or only a dry run)
    switches the guardrail off."""
    constraint = constraint_of(resource)
    if constraint == "gcp.resourceLocations":
        raise NotApplicable("resource locations are checked by GCP-ORG-002")
    rules = resource.items("spec", "rules")
    if resource.get("spec", "reset") is True:
        yield f"{resource.name} resets {constraint} to Google's default"
    if not rules:
        yield f"{resource.name} enforces {constraint} in no rule (only a dry run or nothing)"
    for rule in rules:
        if _true(rule.get("allowAll")):
            yield f"{resource.name} allows everything for {constraint}"
        elif str(rule.get("enforce", "")).upper() == "FALSE":
            yield f"{resource.name} turns {constraint} off"
    if constraint in _DENY_ALL and rules and not some(rules, lambda r: _true(r.get("denyAll"))):
        yield f"{resource.name} does not deny {constraint} to everything"
    if (
        constraint in GUARDRAIL_CONSTRAINTS
        and constraint not in _DENY_ALL
        and rules
        and not some(rules, lambda r: _true(r.get("enforce")))
    ):
        yield f"{resource.name} does not enforce {constraint}"


@resource_policy(
    id="GCP-ORG-002",
    title="The resource locations constraint allows only the allowed regions",
    severity="high",
    types=[POLICY],
    controls=["GOV-02"],
    remediation="Allow only in:<region>-locations values for the profile's allowed regions "
    "(OrgPolicies(allowed_regions=profile.allowed_regions)).",
)
def allowed_locations(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """gcp.resourceLocations limits where anything in the project stores data to the
    regions the compliance answers allow."""
    if constraint_of(resource) != "gcp.resourceLocations":
        raise NotApplicable("not the resource locations constraint")
    allowed = set(requirements.setting("allowed_regions"))
    rules = resource.items("spec", "rules")
    values = [str(v) for r in rules for v in (r.get("values") or {}).get("allowedValues", [])]
    if not values or some(rules, lambda r: _true(r.get("allowAll"))):
        yield f"{resource.name} does not limit resource locations to an allow list"
    for value in values:
        match = _LOCATION_VALUE.match(value)
        if match is None or match.group("region") not in allowed:
            yield f"{resource.name} allows {value}, outside the allowed regions"


@stack_policy(
    id="GCP-ORG-003",
    title="The project enforces its guardrail constraints",
    severity="high",
    controls=["GOV-06"],
    remediation="Keep the OrgPolicies component (it needs roles/orgpolicy.policyAdmin at "
    "organization level), or answer gcp_org_policies: false when the organization's "
    "administrators set the constraints.",
)
def guardrail_constraints(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A stack running an AI workload sets the platform constraints on its project: no
    service account keys, no external IPs, public access prevention and uniform access
    on buckets, allowed locations, OS Login, Shielded VM, no serial port, no public IP
    on Workbench, no automatic Editor grants. Only where the project answers
    gcp_org_policies: true (setting them needs an organization-level role); otherwise
    the organization's administrators own them (GCP-DEPLOY-001 says so)."""
    if not requirements.gcp_org_policies:
        raise NotApplicable(
            "gcp_org_policies is false: the organization's administrators set the project's "
            "organization policies (roles/orgpolicy.policyAdmin is granted only on an "
            "organization)"
        )
    if not is_ai_workload(resources):
        raise NotApplicable("no AI workload: the workload stack constrains the project")
    present = {constraint_of(p) for p in of_type(resources, POLICY)}
    for constraint, what in GUARDRAIL_CONSTRAINTS.items():
        if constraint not in present:
            yield None, f"no organization policy on {constraint} prevents {what}"


@resource_policy(
    id="GCP-ORG-004",
    title="The service perimeter restricts the data and AI services and admits only "
    "named identities",
    severity="medium",
    types=[PERIMETER],
    controls=["PE-04"],
    remediation="List aiplatform, storage, secretmanager, cloudkms, modelarmor, logging, "
    "monitoring and notebooks in status.restricted_services, restrict VPC-accessible "
    "services to RESTRICTED-SERVICES, enforce the status (not only a dry-run spec), and "
    "admit callers from outside by named identities (OrgPolicies(perimeter_deployers=...)) "
    "or access levels, never any identity.",
)
def perimeter_restricts(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The VPC Service Controls perimeter stops data from leaving the project through
    the services that hold it or that the workload calls, the network may call only
    restricted services, and an ingress rule admits named identities, not everyone."""
    if resource.get("perimeterType", default="PERIMETER_TYPE_REGULAR") != "PERIMETER_TYPE_REGULAR":
        raise NotApplicable("a bridge perimeter restricts nothing itself")
    if resource.get("useExplicitDryRunSpec") is True:
        yield f"{resource.name} is only a dry run"
    if not resource.items("status", "resources"):
        yield f"{resource.name} surrounds no project"
    # The services the component restricts, for the reasons its docstring gives.
    from aiscaffold_components.gcp.org_policies import PERIMETER_SERVICES

    restricted = {str(s) for s in resource.items("status", "restrictedServices")}
    missing = [s for s in PERIMETER_SERVICES if s not in restricted]
    if missing:
        yield f"{resource.name} does not restrict {', '.join(missing)}"
    vpc = resource.get("status", "vpcAccessibleServices")
    if vpc is None or vpc.get("enableRestriction") is not True:
        yield f"{resource.name} lets the network call any Google API"
    else:
        services = {str(s) for s in vpc.get("allowedServices") or []}
        extra = sorted(services - {"RESTRICTED-SERVICES"} - restricted)
        if not services:
            yield f"{resource.name} names no service the network may call"
        elif extra:
            yield f"{resource.name} lets the network call unrestricted {', '.join(extra)}"
    for index, rule in enumerate(resource.items("status", "ingressPolicies")):
        kind = str((rule.get("ingressFrom") or {}).get("identityType") or "")
        if kind in _ANY_IDENTITY:
            title = rule.get("title") or f"#{index}"
            yield f"{resource.name} ingress rule {title} admits {kind} from outside"
