"""IAM: no basic roles or public grants, narrow project grants, no keys, no impersonation."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from .._core import (
    Addition,
    NotApplicable,
    Requirements,
    Resource,
    resource_policy,
    stack_policy,
)
from ._util import (
    BASIC_ROLES,
    IAM_TYPES,
    IMPERSONATION_ROLES,
    PROJECT_IAM_TYPES,
    PUBLIC_MEMBERS,
    SERVICE_ACCOUNT_IAM_TYPES,
    grants,
    is_ai_workload,
)

ACCOUNT = "gcp:serviceaccount/account:Account"
CUSTOM_ROLE_TYPES = (
    "gcp:projects/iAMCustomRole:IAMCustomRole",
    "gcp:organizations/iAMCustomRole:IAMCustomRole",
)
CREDENTIAL_TYPES = (
    "gcp:serviceaccount/key:Key",
    "gcp:storage/hmacKey:HmacKey",
    "gcp:projects/apiKey:ApiKey",
)

#: Predefined roles a project-level grant may carry: the resources they act on (log
#: entries, metrics, traces) exist only at project level.
PROJECT_ONLY_ROLES = frozenset(
    {"roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/cloudtrace.agent"}
)
#: Model Armor's Vertex AI integration needs the Vertex AI service agent to hold
#: roles/modelarmor.user on the project; nobody else needs it there.
_VERTEX_AGENT = re.compile(
    r"^serviceAccount:service-\d+@gcp-sa-aiplatform\.iam\.gserviceaccount\.com$"
)
_CUSTOM_ROLE = re.compile(r"^(projects|organizations)/[^/]+/roles/[^/]+$")

#: Permissions that let their holder grant itself more (or act as someone else).
ESCALATING_PERMISSIONS = frozenset(
    {
        "iam.serviceAccounts.actAs",
        "iam.serviceAccounts.getAccessToken",
        "iam.serviceAccounts.getOpenIdToken",
        "iam.serviceAccounts.implicitDelegation",
        "iam.serviceAccounts.signBlob",
        "iam.serviceAccounts.signJwt",
        "iam.serviceAccountKeys.create",
        "iam.roles.create",
        "iam.roles.update",
        "orgpolicy.policy.set",
    }
)

#: Google-managed service accounts (service agents), as IAM members.
_SERVICE_AGENT = re.compile(
    r"^serviceAccount:(service-\d+@[a-z0-9-]+\.iam\.gserviceaccount\.com"
    r"|\d+@cloudservices\.gserviceaccount\.com"
    r"|cloud-logs@system\.gserviceaccount\.com"
    # Storage Transfer Service's agent (replication jobs, REC-01)
    r"|project-\d+@storage-transfer-service\.iam\.gserviceaccount\.com)$"
)
_DEFAULT_ACCOUNT = re.compile(
    r"^serviceAccount:(\d+-compute@developer\.gserviceaccount\.com"
    r"|[a-z0-9-]+@appspot\.gserviceaccount\.com)$"
)
_PROJECT_ACCOUNT = re.compile(
    r"^serviceAccount:([a-z][a-z0-9-]*)@([a-z0-9-]+)\.iam\.gserviceaccount\.com$"
)


@resource_policy(
    id="GCP-IAM-001",
    title="No basic roles (owner, editor, viewer)",
    severity="critical",
    types=IAM_TYPES,
    controls=["IAM-02"],
    remediation="Grant the predefined or custom role with only the permissions needed, on "
    "the resource that needs it.",
)
def no_basic_roles(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Owner, editor and viewer grant every permission of whole service families; no
    grant carries them."""
    for role, member in grants(resource):
        if role in BASIC_ROLES:
            yield f"{resource.name} grants {role} to {member}"


@resource_policy(
    id="GCP-IAM-002",
    title="Nothing is granted to allUsers or allAuthenticatedUsers",
    severity="critical",
    types=IAM_TYPES,
    controls=["IAM-02", "GOV-03"],
    remediation="Grant named principals instead of allUsers / allAuthenticatedUsers.",
)
def no_public_grants(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A grant to allUsers or allAuthenticatedUsers makes the resource public to the
    internet or to every Google account."""
    for role, member in grants(resource):
        if member in PUBLIC_MEMBERS:
            yield f"{resource.name} grants {role} to {member}"


@resource_policy(
    id="GCP-IAM-003",
    title="Project-level grants only where no narrower scope exists",
    severity="high",
    types=PROJECT_IAM_TYPES,
    controls=["IAM-02"],
    remediation="Grant the role on the resource it is needed for (bucket, secret, key, "
    "endpoint IAM); project-level grants are for log, metric and trace writing, custom "
    "roles whose permissions have no resource scope, and the Vertex AI agent's "
    "roles/modelarmor.user. Record any other as an override with its reason.",
)
def narrow_project_grants(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Roles are granted on the resources they act on; at project (folder, organization)
    level only log, metric and trace writers, the project's custom roles (checked by
    GCP-IAM-004) and roles/modelarmor.user for the Vertex AI service agent."""
    for role, member in grants(resource):
        if role in PROJECT_ONLY_ROLES or _CUSTOM_ROLE.match(role):
            continue
        if role == "roles/modelarmor.user" and _VERTEX_AGENT.match(member):
            continue
        yield f"{resource.name} grants {role} to {member} on the whole project"


@resource_policy(
    id="GCP-IAM-004",
    title="Custom roles hold no wildcard or privilege-escalating permission",
    severity="high",
    types=CUSTOM_ROLE_TYPES,
    controls=["IAM-02"],
    remediation="Remove wildcards, setIamPolicy and the permissions that act as or mint "
    "credentials for service accounts from the custom role.",
)
def custom_role_permissions(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A custom role lists the permissions the workload uses; none lets its holder
    change IAM policies, act as another service account or define roles."""
    for permission in map(str, resource.items("permissions")):
        if "*" in permission:
            yield f"{resource.name} holds the wildcard permission {permission}"
        elif permission.endswith(".setIamPolicy") or permission in ESCALATING_PERMISSIONS:
            yield f"{resource.name} holds {permission}, which escalates privileges"


@resource_policy(
    id="GCP-IAM-005",
    title="No long-lived credentials",
    severity="high",
    types=CREDENTIAL_TYPES,
    controls=["IAM-01", "IAM-03"],
    remediation="Remove the key: workloads authenticate as their service account through "
    "the metadata server or workload identity federation, never with exported keys.",
)
def no_long_lived_credentials(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Service account keys, HMAC keys and API keys are bearer credentials that leak;
    the workload authenticates as its service account instead."""
    kind = resource.type.rsplit(":", 1)[-1]
    yield f"{resource.name} creates a long-lived credential ({kind})"


#: The one impersonation role an account may hold on itself: a Vertex AI training job
#: runs as the account that creates it, which needs iam.serviceAccounts.actAs on it
#: (https://cloud.google.com/vertex-ai/docs/general/custom-service-account). Acting as
#: itself gives it nothing it does not have.
SELF_ACT_AS = "roles/iam.serviceAccountUser"


def _on_itself(resource: Resource, member: str) -> bool:
    """Whether a grant on a service account goes to that same account."""
    account = resource.get("serviceAccountId")
    if not isinstance(account, str) or not member.startswith("serviceAccount:"):
        return False
    return account.rstrip("/").rsplit("/", 1)[-1] == member.removeprefix("serviceAccount:")


@resource_policy(
    id="GCP-IAM-006",
    title="Nobody is granted to act as a service account",
    severity="high",
    types=SERVICE_ACCOUNT_IAM_TYPES + PROJECT_IAM_TYPES,
    controls=["IAM-04"],
    remediation="Remove the grant of serviceAccountUser, serviceAccountTokenCreator, "
    "workloadIdentityUser (or an admin role) on service accounts or the project.",
    live_when=[
        Addition(
            "gcp:projects/iAMMember:IAMMember",
            "a project-wide grant of the token creator role, which impersonates every "
            "service account",
            name="liveness-added-token-creator",
            inputs={
                "project": "mock-project",
                "role": "roles/iam.serviceAccountTokenCreator",
                "member": "user:someone@example.com",
            },
        )
    ],
)
def no_impersonation(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Who may act as the workload is scoped: no principal is granted the roles that
    impersonate, mint tokens for or manage service accounts, on one account or on the
    whole project."""
    on_account = resource.type in SERVICE_ACCOUNT_IAM_TYPES
    for role, member in grants(resource):
        if on_account and role == SELF_ACT_AS and _on_itself(resource, member):
            continue
        if role in IMPERSONATION_ROLES or (on_account and role in BASIC_ROLES):
            scope = "a service account" if on_account else "every service account of the project"
            yield f"{resource.name} lets {member} act as {scope} ({role})"


@resource_policy(
    id="GCP-IAM-007",
    title="Default service accounts are granted nothing",
    severity="medium",
    types=IAM_TYPES,
    controls=["IAM-01"],
    remediation="Run the workload as its own service account and grant that one.",
    live_when=[
        Addition(
            "gcp:projects/iAMMember:IAMMember",
            "a grant to the Compute Engine default service account",
            name="liveness-added-default-account",
            inputs={
                "project": "mock-project",
                "role": "roles/storage.objectViewer",
                "member": "serviceAccount:123456789012-compute@developer.gserviceaccount.com",
            },
        )
    ],
)
def no_default_accounts(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The Compute Engine and App Engine default service accounts are shared by every
    instance or app that names no account; granting them access shares it with all."""
    for role, member in grants(resource):
        if _DEFAULT_ACCOUNT.match(member):
            yield f"{resource.name} grants {role} to the default service account {member}"


@stack_policy(
    id="GCP-IAM-008",
    title="The workload acts as a service account of its own stack",
    severity="medium",
    controls=["IAM-01"],
    remediation="Create the workload's service account in the stack (WorkloadIdentity) and "
    "grant it; do not grant service accounts the stack does not manage.",
)
def dedicated_identity(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """An AI workload stack creates its own service account, and grants to service
    accounts go to the stack's own accounts or to Google's service agents."""
    accounts = {str(r.get("accountId")) for r in resources if r.type == ACCOUNT}
    if is_ai_workload(resources) and not accounts:
        yield None, "the AI workload creates no service account of its own"
    checked = False
    for resource in resources:
        if resource.type not in IAM_TYPES:
            continue
        for role, member in grants(resource):
            if not member.startswith("serviceAccount:") or _SERVICE_AGENT.match(member):
                continue
            checked = True
            match = _PROJECT_ACCOUNT.match(member)
            if match is None or match.group(1) not in accounts:
                yield (
                    resource,
                    f"{resource.name} grants {role} to {member}, not managed by this stack",
                )
    if not checked and not is_ai_workload(resources):
        raise NotApplicable("no grant to a service account and no AI workload")
