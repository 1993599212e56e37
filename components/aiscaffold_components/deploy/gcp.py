"""Deploy rules for gcp: see the package docstring.

What a first ``pulumi up`` of a Google Cloud project meets besides the policies:

* GCP-DEPLOY-001: organization policy constraints need a role grantable only on the
  organization (or, without them, are the organization administrators' to set);
* GCP-DEPLOY-002: a VPC Service Controls perimeter is edited in the organization's
  access policy, with Access Context Manager rights there;
* GCP-DEPLOY-003: a resource whose API the stack does not enable before it
  (SERVICE_DISABLED);
* GCP-DEPLOY-004: a resource encrypted with a key through a service agent, created
  before the agent's grant on the key has propagated;
* GCP-DEPLOY-005/006: a locked log bucket, a locked bucket retention policy: neither can
  be undone;
* GCP-DEPLOY-030..032 (the AI gateway): a Cloud Run service id too long, a proxy-only
  subnet without a role or with flow logs, an internal load balancer without an active
  proxy-only subnet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..policies._core import NotApplicable, Resource
from ..policies.gcp._util import BUCKET_TYPE, LOG_BUCKET_TYPE, is_ai_workload, of_type
from ._core import DeployContext, deploy_rule

__all__ = ["ORG_POLICY_ROLE", "PERIMETER_ROLE", "PROPAGATION"]

_POLICY = "gcp:orgpolicy/policy:Policy"
_PERIMETER = "gcp:accesscontextmanager/servicePerimeter:ServicePerimeter"
_SERVICE = "gcp:projects/service:Service"
_KEY_GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
_SLEEP = "time:index/sleep:Sleep"

#: Source: https://cloud.google.com/iam/docs/roles-permissions/orgpolicy ("Lowest-level
#: resources where you can grant this role: Organization").
ORG_POLICY_ROLE = "roles/orgpolicy.policyAdmin"
#: Source: https://cloud.google.com/access-context-manager/docs/access-control (editing
#: a perimeter needs accesscontextmanager.servicePerimeters.update on its access policy,
#: which belongs to the organization, or is a policy scoped to a folder or project).
PERIMETER_ROLE = "roles/accesscontextmanager.policyEditor"
#: Source: https://cloud.google.com/iam/docs/access-change-propagation (a grant takes
#: effect "typically within 2 minutes", in some cases 7 minutes or more).
PROPAGATION = "up to 7 minutes"

_KEY_NAME = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")


def _constraint(policy: Resource) -> str:
    return str(policy.get("name", default="")).rsplit("/policies/", 1)[-1]


@deploy_rule(
    id="GCP-DEPLOY-001",
    title="Organization policy constraints need an organization-level role",
    category="account-wide",
    source="https://cloud.google.com/iam/docs/roles-permissions/orgpolicy",
    error="403 PERMISSION_DENIED: Permission 'orgpolicy.policies.create' denied on "
    "resource 'projects/<project>/policies/<constraint>'",
    remediation="Have an organization administrator grant the deploying identity "
    "roles/orgpolicy.policyAdmin on the organization, or answer gcp_org_policies: false "
    "and have the organization set the constraints on the project.",
)
def _org_policies(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """Setting an organization policy on a project takes roles/orgpolicy.policyAdmin,
    which Google grants only on an organization: a project owner gets 403, a project
    outside an organization cannot have any. A stack that sets them needs that grant;
    one that does not (gcp_org_policies: false) leaves the constraints to the
    organization's administrators."""
    policies = of_type(resources, _POLICY)
    if policies:
        names = ", ".join(sorted(_constraint(p) for p in policies))
        yield (
            None,
            f"the stack sets {len(policies)} organization policies on the project ({names}): "
            f"whoever deploys needs {ORG_POLICY_ROLE} granted on the organization",
        )
        return
    if not is_ai_workload(resources):
        raise NotApplicable("no AI workload: the workload stack constrains the project")
    from ..policies.gcp.orgpolicy import GUARDRAIL_CONSTRAINTS

    yield (
        None,
        "the stack sets no organization policy on the project (gcp_org_policies: false): "
        f"the organization's administrators own {', '.join(GUARDRAIL_CONSTRAINTS)}",
    )


@deploy_rule(
    id="GCP-DEPLOY-002",
    title="A VPC Service Controls perimeter is edited in the organization's access policy",
    category="account-wide",
    source="https://cloud.google.com/access-context-manager/docs/access-control",
    error="403 PERMISSION_DENIED: Permission 'accesscontextmanager.servicePerimeters.create' "
    "denied on resource 'accessPolicies/<policy>'",
    remediation="Have the access policy's administrators grant the deploying identity "
    "roles/accesscontextmanager.policyEditor on it (or create the perimeter for you), "
    "and admit the deployer through it (vpc_sc_deployers or vpc_sc_access_levels).",
)
def _perimeter(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """A service perimeter lives in an Access Context Manager access policy, usually the
    organization's one: creating it needs rights there, and once enforced it applies to
    every caller of the project's restricted services."""
    perimeters = of_type(resources, _PERIMETER)
    if not perimeters:
        raise NotApplicable("no service perimeter (vpc_sc_access_policy unset)")
    for perimeter in perimeters:
        policy = str(perimeter.get("parent", default="the access policy"))
        yield (
            perimeter,
            f"{perimeter.name} is created in {policy}: whoever deploys needs {PERIMETER_ROLE} "
            "there, and once it is enforced calls from outside it are refused",
        )


@deploy_rule(
    id="GCP-DEPLOY-003",
    title="Every resource's API is enabled by the stack, before the resource",
    category="deploy-failure",
    source="https://cloud.google.com/service-usage/docs/enable-disable",
    error="403 SERVICE_DISABLED: <API> has not been used in project <number> before or it "
    "is disabled. Enable it by visiting https://console.developers.google.com/apis/api/"
    "<api>/overview?project=<number> then retry.",
    remediation="Enable the APIs with aiscaffold_components.gcp.ServiceApis registered as a "
    "stack transformation (the generated program does): it derives them from the "
    "resources and makes each wait for its API.",
)
def _apis_enabled(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """Google refuses every call to an API the project has not enabled, and enabling
    one in the same ``pulumi up`` helps only if the resource waits for it: each Google
    Cloud resource's API (by its type, see aiscaffold_components.gcp.apis) is enabled
    by a projects.Service of the stack that the resource depends on."""
    services: dict[str, str] = {}
    for service in of_type(resources, _SERVICE):
        name = service.get("service")
        if isinstance(name, str):
            services[name] = service.urn
    for resource in resources:
        if resource.type == _SERVICE:
            continue
        try:
            needed = _apis_needed(resource)
        except KeyError as unknown:
            yield resource, str(unknown.args[0])
            continue
        for api in sorted(needed):
            if api not in services:
                yield resource, f"{resource.name} needs {api}, which the stack does not enable"
            elif services[api] not in resource.dependencies:
                yield (
                    resource,
                    f"{resource.name} does not wait for {api} to be enabled: on the first "
                    "`pulumi up` it may be created first",
                )


def _apis_needed(resource: Resource) -> set[str]:
    """The APIs of :func:`~aiscaffold_components.gcp.apis.apis_of`, reading only the
    inputs that decide them: a value unknown during preview elsewhere does not matter,
    and an unknown input that may need an API counts as present."""
    from pulumi_policy.proxy import UnknownValueError

    from ..gcp.apis import API_OF_INPUT, apis_of

    props: dict[str, Any] = {}
    for typ, key in API_OF_INPUT:
        if typ == resource.type:
            try:
                value = resource.get(key)
            except UnknownValueError:
                value = True
            if value:
                props[key] = value
    try:
        service = resource.get("service")
    except UnknownValueError:
        service = None
    if isinstance(service, str):
        props["service"] = service
    return apis_of(resource.type, props)


def _known_strings(value: Any) -> Iterator[str]:
    """Every string inside a props value whose value is known (unknowns are skipped)."""
    from pulumi_policy.proxy import UnknownValueError

    if isinstance(value, str):
        yield value
        return
    if isinstance(value, Mapping):
        items: list[Any] = []
        for key in list(value.keys()):
            try:
                items.append(value[key])
            except UnknownValueError:
                continue
    elif isinstance(value, Sequence):
        items = []
        for index in range(len(value)):
            try:
                items.append(value[index])
            except UnknownValueError:
                continue
    else:
        return
    for item in items:
        yield from _known_strings(item)


def _waits(sleep: Resource) -> bool:
    """Whether a time Sleep waits at creation (a positive ``createDuration``, "120s")."""
    match = re.match(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$", str(sleep.get("createDuration", default="")))
    return match is not None and float(match.group(1)) > 0


def _keys_used(resource: Resource) -> set[str]:
    return {s for s in _known_strings(resource.props) if _KEY_NAME.match(s)}


@deploy_rule(
    id="GCP-DEPLOY-004",
    title="Resources encrypted with a key wait until its grants have propagated",
    category="deploy-failure",
    source="https://cloud.google.com/iam/docs/access-change-propagation",
    error="403 Permission denied on Cloud KMS key. Please ensure that your Cloud Storage "
    "service account has been authorized to use this key. (Vertex AI, Workbench: "
    "'Unable to delegate the access of CMEK. Please try again later.', "
    "https://github.com/hashicorp/terraform-provider-google/issues/17333)",
    remediation="Make the resource depend on a pulumiverse_time.Sleep that depends on the "
    "key's CryptoKeyIAMMember grants (Keys does: use Keys.key_ids, which resolve after it).",
)
def _cmek_waits_for_grants(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """A service agent encrypts with a customer-managed key when the resource is
    created; its grant on the key, made moments before, takes minutes to take effect, so
    the first ``pulumi up`` is refused and a retry passes. Each resource naming a key
    the stack grants depends on a wait (time Sleep) that follows every grant on it."""
    grants: dict[str, set[str]] = {}
    for grant in of_type(resources, _KEY_GRANT):
        key = grant.get("cryptoKeyId")
        if isinstance(key, str):
            grants.setdefault(key, set()).add(grant.urn)
    if not grants:
        raise NotApplicable("the stack grants no key to a service agent")
    sleeps = {s.urn: set(s.dependencies) for s in of_type(resources, _SLEEP) if _waits(s)}
    for resource in resources:
        if resource.type.startswith("gcp:kms/") or resource.type == _SLEEP:
            continue
        for key in sorted(_keys_used(resource) & grants.keys()):
            waited = any(
                grants[key] <= after
                for urn, after in sleeps.items()
                if urn in resource.dependencies
            )
            if not waited:
                yield (
                    resource,
                    f"{resource.name} encrypts with {key} without waiting for its grants to "
                    f"propagate ({PROPAGATION})",
                )


@deploy_rule(
    id="GCP-DEPLOY-005",
    title="A locked log bucket cannot be unlocked, shortened or deleted",
    category="irreversible",
    source="https://cloud.google.com/logging/docs/buckets#locking-logs-buckets",
    error="Cloud Logging refuses to unlock a locked bucket, to change its retention and to "
    "delete it while it holds entries younger than the retention (FAILED_PRECONDITION)",
    remediation="Lock in a second, explicit step once the stack is right: "
    "`pulumi config set lock_log_archive true && pulumi up`.",
    types=[LOG_BUCKET_TYPE],
)
def _log_bucket_locked(resource: Resource, context: DeployContext) -> Iterator[str]:
    """Locking a Cloud Logging bucket is for good: its retention can never change, it
    can never be unlocked, and it can be deleted only once empty."""
    if resource.get("locked") is not True:
        raise NotApplicable("the log bucket is not locked")
    days = resource.get("retentionDays", default=30)
    yield (
        f"{resource.name} is locked: its {float(days):g}-day retention can never change, and "
        "neither it nor `pulumi destroy` can delete it while it holds entries"
    )


@deploy_rule(
    id="GCP-DEPLOY-006",
    title="A locked bucket retention policy cannot be removed or shortened",
    category="irreversible",
    source="https://cloud.google.com/storage/docs/json_api/v1/buckets/lockRetentionPolicy",
    error="403 Object '<bucket>/<object>' is subject to bucket's retention policy and "
    "cannot be deleted, overwritten or archived until <date>",
    remediation="Lock in a second, explicit step once the stack is right: "
    "`pulumi config set lock_log_archive true && pulumi up`.",
    types=[BUCKET_TYPE],
)
def _retention_locked(resource: Resource, context: DeployContext) -> Iterator[str]:
    """Locking a bucket's retention policy is for good: the policy can never be removed
    or shortened, and the bucket can be deleted only once every object has outlived
    it."""
    if resource.get("retentionPolicy", "isLocked") is not True:
        raise NotApplicable("the bucket's retention policy is not locked")
    period = resource.get("retentionPolicy", "retentionPeriod", default=0)
    days = int(float(str(period).rstrip("s") or 0)) // 86400
    yield (
        f"{resource.name} locks its retention policy: no object can be deleted for {days} "
        "days after it is written, and the bucket (and `pulumi destroy`) waits for the "
        "last one"
    )


# ------------------------------------------------------------- cost guardrails (COST)
_BUDGET = "gcp:billing/budget:Budget"
_QUOTA_OVERRIDE = "gcp:serviceusage/consumerQuotaOverride:ConsumerQuotaOverride"
#: Source: https://cloud.google.com/billing/docs/how-to/billing-access (Billing Account
#: Costs Manager: "manage budgets"; Billing IAM is granted on the billing account).
BUDGET_ROLE = "roles/billing.costsManager"
#: billingbudgets v1 Budget: display name "less than or equal to 60 characters", "a
#: maximum of 5" Monitoring channels, schema version "Only \"1.0\" is accepted".
BUDGET_DISPLAY_NAME_MAX = 60
BUDGET_CHANNELS_MAX = 5
BUDGET_SCHEMA_VERSION = "1.0"


def _truthy(value: Any) -> bool:
    # Provider inputs arrive as strings ("true") from explicit providers, booleans from
    # the stack's config.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


@deploy_rule(
    id="GCP-DEPLOY-020",
    title="Billing Budget API calls name a quota project",
    category="deploy-failure",
    source="https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/billing_budget",
    error="403 Your application is authenticating by using local Application Default "
    "Credentials. The billingbudgets.googleapis.com API requires a quota project, which is "
    "not set by default. (or: Cloud Billing Budget API has not been used in project "
    "<n> before or it is disabled)",
    remediation="Create budgets through a provider with user_project_override=True and "
    "billing_project=<the project enabling billingbudgets.googleapis.com> "
    "(CostGuardrails does), or set gcp:userProjectOverride and gcp:billingProject.",
    types=[_BUDGET],
)
def _budget_quota_project(resource: Resource, context: DeployContext) -> Iterator[str]:
    """A budget belongs to a billing account, not to a project, so the Billing Budget
    API bills its calls to the caller's quota project: user credentials without one are
    refused, and a service account's own project may not enable the API. The budget's
    provider names the quota project (``billing_project`` with
    ``user_project_override``), the project where the stack enables the API."""
    props = resource.provider_props
    if not _truthy(props.get("userProjectOverride")) or not props.get("billingProject"):
        yield (
            f"{resource.name} is created without a quota project (provider "
            "user_project_override and billing_project): with user credentials the "
            "Billing Budget API refuses it"
        )


@deploy_rule(
    id="GCP-DEPLOY-021",
    title="A budget's name, channels and notification schema are within Billing's limits",
    category="deploy-failure",
    source="https://cloud.google.com/billing/docs/reference/budget/rest/v1/billingAccounts.budgets",
    error="400 INVALID_ARGUMENT: Request contains an invalid argument.",
    remediation="Keep the display name within 60 characters, name at most 5 Monitoring "
    "channels and set schema_version '1.0' with a pubsub_topic (CostGuardrails does).",
    types=[_BUDGET],
)
def _budget_limits(resource: Resource, context: DeployContext) -> Iterator[str]:
    """Cloud Billing refuses a budget whose display name exceeds 60 characters, which
    names more than five Monitoring notification channels, or which publishes to a
    Pub/Sub topic without the schema version "1.0"."""
    name = str(resource.get("displayName", default=""))
    if len(name) > BUDGET_DISPLAY_NAME_MAX:
        yield f"{resource.name}'s display name has {len(name)} characters (at most 60)"
    channels = resource.items("allUpdatesRule", "monitoringNotificationChannels")
    if len(channels) > BUDGET_CHANNELS_MAX:
        yield f"{resource.name} names {len(channels)} Monitoring channels (at most 5)"
    if resource.get("allUpdatesRule", "pubsubTopic") and (
        resource.get("allUpdatesRule", "schemaVersion") != BUDGET_SCHEMA_VERSION
    ):
        yield f"{resource.name} publishes to a topic without schema_version '1.0'"


@deploy_rule(
    id="GCP-DEPLOY-022",
    title="Forecast thresholds need a calendar period",
    category="deploy-failure",
    source="https://cloud.google.com/billing/docs/reference/budget/rest/v1/billingAccounts.budgets#basis",
    error="400 INVALID_ARGUMENT: FORECASTED_SPEND can only be set when the budget's time "
    "period is a Filter.calendar_period",
    remediation="Track the budget per calendar period (budget_filter.calendar_period "
    "MONTH) rather than a custom period, or drop the forecast thresholds.",
    types=[_BUDGET],
)
def _forecast_needs_calendar(resource: Resource, context: DeployContext) -> Iterator[str]:
    """Google forecasts spend only to the end of a calendar period: a budget with a
    custom period and a ``FORECASTED_SPEND`` threshold is refused."""
    forecast = any(
        r.get("spendBasis") == "FORECASTED_SPEND" for r in resource.items("thresholdRules")
    )
    if not forecast:
        raise NotApplicable("no forecast threshold")
    if resource.get("budgetFilter", "customPeriod") is not None:
        yield f"{resource.name} forecasts spend over a custom period"


@deploy_rule(
    id="GCP-DEPLOY-023",
    title="A quota override lowering a limit by more than 10 % is forced",
    category="deploy-failure",
    source="https://cloud.google.com/service-usage/docs/reference/rest/v1beta1/services.consumerQuotaMetrics.limits.consumerOverrides/create",
    error="400 FAILED_PRECONDITION: quota safety check LIMIT_DECREASE_PERCENTAGE_TOO_HIGH "
    "(the override would decrease the effective limit by more than 10 percent)",
    remediation="Set force=True on the override (CostGuardrails does): a cap far below "
    "Google's default is the point of the override.",
    types=[_QUOTA_OVERRIDE],
)
def _override_forced(resource: Resource, context: DeployContext) -> Iterator[str]:
    """Service Usage refuses an override that lowers a quota by more than 10 % (or below
    current usage) unless it is forced; a request cap of tens per minute lowers Vertex
    AI's defaults (thousands) by far more."""
    if not _truthy(resource.get("force")):
        yield (
            f"{resource.name} lowers the quota without force: Service Usage refuses a "
            "decrease of more than 10 %"
        )


@deploy_rule(
    id="GCP-DEPLOY-024",
    title="Budgets need a role on the billing account",
    category="account-wide",
    source="https://cloud.google.com/billing/docs/how-to/billing-access",
    error="403 PERMISSION_DENIED: The caller does not have permission "
    "(billing.budgets.create on billingAccounts/<account>)",
    remediation="Have a billing account administrator grant the deploying identity "
    "roles/billing.costsManager on the billing account "
    "(gcloud billing accounts add-iam-policy-binding <account> --member=... "
    "--role=roles/billing.costsManager).",
    types=[_BUDGET],
)
def _budget_role(resource: Resource, context: DeployContext) -> Iterator[str]:
    """A budget is created on the billing account, whose IAM is separate from the
    project's: a project owner is refused unless the billing account grants a budget
    role."""
    account = resource.get("billingAccount", default="the billing account")
    yield f"{resource.name} is created on billing account {account}: whoever deploys needs {BUDGET_ROLE} there"


# ---------------------------------------------------------------- the AI gateway (issue 20)
_RUN_SERVICE = "gcp:cloudrunv2/service:Service"
_SUBNET = "gcp:compute/subnetwork:Subnetwork"
_FORWARDING_RULE = "gcp:compute/forwardingRule:ForwardingRule"
#: Cloud Run's service id: lowercase letters, digits, hyphens, starting with a letter,
#: not ending with a hyphen, fewer than 50 characters.
_RUN_SERVICE_ID = re.compile(r"^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$")
#: Load balancing schemes whose Envoy proxies run in the region's proxy-only subnet.
_REGIONAL_PROXY_SCHEMES = ("INTERNAL_MANAGED",)
_PROXY_ONLY = "REGIONAL_MANAGED_PROXY"


@deploy_rule(
    id="GCP-DEPLOY-030",
    title="A Cloud Run service id has fewer than 50 characters",
    category="deploy-failure",
    source="https://github.com/pulumi/pulumi-gcp/issues/3166",
    error="Error 400: Violation in CreateServiceRequest.service_id: only lowercase, digits, "
    "and hyphens; must begin with letter, and cannot end with hyphen; must be less than "
    "50 characters.",
    remediation="Name the service with at most 49 lowercase letters, digits and hyphens "
    "(ApiGateway names its ESPv2 service <project>-<stack>-gw, cut to 49).",
    types=[_RUN_SERVICE],
)
def _run_service_id(resource: Resource, context: DeployContext) -> Iterator[str]:
    """Cloud Run refuses a service id that is 50 characters or longer, or that holds
    anything but lowercase letters, digits and hyphens (a long project and stack name
    makes the gateway's ESPv2 service name long)."""
    name = resource.get("name")
    if not isinstance(name, str):
        raise NotApplicable("named by Pulumi (pulumi-gcp caps the generated name)")
    if not _RUN_SERVICE_ID.match(name):
        yield f"{resource.name}'s service id {name!r} is not a valid Cloud Run service id"


@deploy_rule(
    id="GCP-DEPLOY-031",
    title="A proxy-only subnet has a role and no flow logs",
    category="deploy-failure",
    source="https://github.com/hashicorp/terraform-provider-google/issues/13438",
    error="Error 400: Invalid value for field 'resource.role': 'UNSPECIFIED_ROLE'. Subnetwork "
    "role must be specified when purpose set to REGIONAL_MANAGED_PROXY. (or: Invalid value "
    "for field 'resource.logConfig': ... Invalid field set in subnetwork with purpose "
    "REGIONAL_MANAGED_PROXY, https://github.com/terraform-google-modules/terraform-google-network/issues/371)",
    remediation="Give the proxy-only subnet role ACTIVE and no log_config "
    "(Network(proxy_only_subnet_cidr=...) does).",
    types=[_SUBNET],
)
def _proxy_only_subnet(resource: Resource, context: DeployContext) -> Iterator[str]:
    """Compute Engine refuses a ``REGIONAL_MANAGED_PROXY`` subnet without a role
    (``ACTIVE`` or ``BACKUP``) and one with a flow log configuration: its addresses are
    the load balancer's proxies, not workloads
    (https://cloud.google.com/load-balancing/docs/proxy-only-subnets)."""
    if resource.get("purpose") != _PROXY_ONLY:
        raise NotApplicable("not a proxy-only subnet")
    if resource.get("role") not in ("ACTIVE", "BACKUP"):
        yield f"{resource.name} is a proxy-only subnet without a role (ACTIVE or BACKUP)"
    if resource.get("logConfig") is not None:
        yield f"{resource.name} is a proxy-only subnet with a flow log configuration"


def _same_network(subnet: Resource, rule: Resource) -> bool:
    network = rule.get("network")
    if not isinstance(network, str) or not isinstance(subnet.get("network"), str):
        return True  # not known offline: the region decides
    return network.rstrip("/").rsplit("/", 1)[-1] == str(subnet.get("network")).rsplit("/", 1)[-1]


@deploy_rule(
    id="GCP-DEPLOY-032",
    title="An internal application load balancer has an active proxy-only subnet",
    category="deploy-failure",
    source="https://cloud.google.com/load-balancing/docs/proxy-only-subnets",
    error="An active proxy-only subnetwork is required in the same region and VPC as the "
    "forwarding rule.",
    remediation="Create a REGIONAL_MANAGED_PROXY subnet with role ACTIVE in the forwarding "
    "rule's region and network, before the rule (the generated program passes "
    "proxy_only_subnet_cidr to Network with a private gateway, and the gateway waits for "
    "the network).",
)
def _proxy_only_subnet_exists(
    resources: Sequence[Resource], context: DeployContext
) -> Iterator[tuple[Resource | None, str]]:
    """A regional internal application load balancer's forwarding rule
    (``INTERNAL_MANAGED``) is refused unless the region's network has an active
    proxy-only subnet, created before it."""
    subnets = [
        s
        for s in of_type(resources, _SUBNET)
        if s.get("purpose") == _PROXY_ONLY and s.get("role", default="ACTIVE") == "ACTIVE"
    ]
    for rule in of_type(resources, _FORWARDING_RULE):
        if rule.get("loadBalancingScheme") not in _REGIONAL_PROXY_SCHEMES:
            continue
        region = rule.get("region") or context.region
        here = [
            s
            for s in subnets
            if (s.get("region") or context.region) == region and _same_network(s, rule)
        ]
        if not here:
            yield (
                rule,
                f"{rule.name} is an internal load balancer's forwarding rule in {region} with "
                "no active proxy-only subnet in its network",
            )
