"""Helpers and shared types of the Azure components (not public API, except the types
re-exported from the package: :class:`CustomerManagedKey`, :class:`DiagnosticTarget`,
:class:`PrivateLinkTarget`)."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_azure_native as azure_native

# ------------------------------------------------------------------ built-in roles
#: Built-in role definition ids (the GUID part) the components assign, by name. They
#: are the same in every Azure cloud and tenant, and listed in Azure's built-in roles
#: reference (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
#: Nothing else is ever assigned: no Owner, Contributor or User Access Administrator
#: (IAM-02). Key Vault Crypto Officer goes only to the deploying identity, on the vault:
#: Azure Resource Manager creates a key in an RBAC vault only for a caller holding the
#: keys' data actions (:class:`~aiscaffold_components.azure.Keys`, AZURE-DEPLOY-001).
ROLES: dict[str, str] = {
    "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "Key Vault Crypto Officer": "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    # Read-only on one Log Analytics workspace, for a central SIEM (SiemExport, DET-04).
    "Log Analytics Reader": "73c42c96-874c-492b-b04d-ab87d138a893",
}

RoleName = Literal[
    "Cognitive Services OpenAI User",
    "Key Vault Secrets User",
    "Key Vault Crypto Service Encryption User",
    "Key Vault Crypto Officer",
    "Storage Blob Data Reader",
    "Storage Blob Data Contributor",
    "Log Analytics Reader",
]

PrincipalType = Literal["User", "Group", "ServicePrincipal"]

#: Longest time Azure documents for a role assignment to take effect: "it can take up
#: to 10 minutes for changes to take effect" (Troubleshoot Azure RBAC,
#: https://learn.microsoft.com/azure/role-based-access-control/troubleshooting). A
#: resource using a grant right after creating it otherwise fails on the first run
#: only (KeyVaultAuthenticationFailure, ForbiddenByRbac: Azure/bicep#16601).
ROLE_PROPAGATION_SECONDS = 600

# A resource id below a resource group: /subscriptions/<s>/resourceGroups/<g>/providers/...
_RESOURCE_SCOPE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/[^/]+/providers/[^/]+/[^/]+/[^/]+",
    re.IGNORECASE,
)


def resource_scope(scope: str) -> str:
    """``scope`` if it names a resource; ValueError for a subscription or group scope."""
    if not _RESOURCE_SCOPE.match(scope):
        raise ValueError(
            f"role assignment scope {scope!r} is not a resource id: aiscaffold assigns roles "
            "on single resources only, never on a subscription or resource group (IAM-02)"
        )
    return scope


def role_definition_id(scope: str, role: RoleName) -> str:
    """The subscription-qualified id of a built-in role, for a resource ``scope``."""
    match = _RESOURCE_SCOPE.match(resource_scope(scope))
    assert match is not None
    return (
        f"/subscriptions/{match['sub']}/providers/Microsoft.Authorization/"
        f"roleDefinitions/{ROLES[role]}"
    )


def assign_role(
    name: str,
    *,
    scope: pulumi.Input[str],
    principal_id: pulumi.Input[str],
    role: RoleName,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
    principal_type: PrincipalType = "ServicePrincipal",
) -> azure_native.authorization.RoleAssignment:
    """Assign a built-in ``role`` to a managed identity on one resource.

    The assignment's name is a GUID derived from scope, principal and role, so the same
    grant keeps its name across runs. The scope is checked to be a resource id.
    ``principal_type`` must be the principal's own (Azure refuses another with
    UnmatchedPrincipalType); managed identities are service principals.
    """
    if isinstance(scope, str):
        resource_scope(scope)  # fail at once for a known scope
    checked = pulumi.Output.from_input(scope).apply(resource_scope)
    principal = pulumi.Output.from_input(principal_id)
    return azure_native.authorization.RoleAssignment(
        name,
        scope=checked,
        principal_id=principal,
        principal_type=principal_type,
        role_definition_id=checked.apply(lambda s: role_definition_id(s, role)),
        role_assignment_name=pulumi.Output.all(checked, principal).apply(
            lambda parts: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{parts[0]}|{parts[1]}|{role}"))
        ),
        description=f"aiscaffold: {role}",
        opts=child_opts(parent, depends_on=depends_on),
    )


def propagation_wait(
    name: str,
    grant: azure_native.authorization.RoleAssignment,
    *,
    parent: pulumi.Resource,
    seconds: int = ROLE_PROPAGATION_SECONDS,
) -> pulumi.Resource:
    """An explicit wait of ``seconds`` after ``grant`` is created, for resources that
    use the grant at once (see :data:`ROLE_PROPAGATION_SECONDS`).

    It sleeps when created, and again only when the grant is replaced (its id is a
    trigger); later runs pass straight through.
    """
    import pulumiverse_time

    return pulumiverse_time.Sleep(
        name,
        create_duration=f"{seconds}s",
        triggers={"role_assignment": grant.id},
        opts=child_opts(parent, depends_on=[grant]),
    )


# ------------------------------------------------------------------ resource options
def child_opts(
    parent: pulumi.Resource,
    *,
    depends_on: Sequence[pulumi.Resource] = (),
    protect: bool = False,
) -> pulumi.ResourceOptions:
    """Options of a component's child: parented, optionally ordered or protected."""
    return pulumi.ResourceOptions(
        parent=parent, depends_on=list(depends_on) or None, protect=protect or None
    )


# ------------------------------------------------------------------ tags and names
_TAG_KEY = re.compile(r"^[^<>%&\\?/]{1,512}$")


def tags_of(tags: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``tags``, checked against Azure's tag rules (at most 50, key <= 512
    characters without ``<>%&\\?/``, value <= 256 characters)."""
    if len(tags) > 50:
        raise ValueError(f"Azure allows 50 tags per resource, not {len(tags)}")
    for key, value in tags.items():
        if not _TAG_KEY.match(key) or len(value) > 256:
            raise ValueError(f"tag {key}={value!r} is not a valid Azure tag")
    return dict(tags)


def short_hash(*parts: str, length: int = 6) -> str:
    """A short, stable hex digest of ``parts`` (names globally unique per project/stack)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _hyphenated(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")


def unique_name(kind: Literal["storage", "vault", "subdomain", "workspace"], role: str) -> str:
    """A valid, globally unique Azure name for this project, stack and ``role``.

    Deterministic: the same project, stack and role always give the same name, ended by
    a hash of all three so that names stay unique when the readable part is cut.

    ======== ======================================================================
    storage  3-24 lowercase letters and digits (``st`` + name + hash)
    vault    3-24 letters, digits and single hyphens, starting with a letter
    subdomain custom subdomain of a Cognitive Services account, 2-64 characters
    workspace Log Analytics workspace, 4-63 characters
    ======== ======================================================================
    """
    project, stack = pulumi.get_project(), pulumi.get_stack()
    digest = short_hash(project, stack, role)
    if kind == "storage":
        readable = _alnum(f"{project}{stack}{role}")
        return f"st{readable[: 24 - 2 - len(digest)]}{digest}"
    readable = _hyphenated(f"{project}-{stack}-{role}")
    if kind == "vault":
        head = readable[: 24 - 4 - len(digest)].rstrip("-")
        return f"kv-{head}-{digest}"
    limit = 64 if kind == "subdomain" else 63
    return f"{readable[: limit - 1 - len(digest)].rstrip('-')}-{digest}"


def plain_name(prefix: str, role: str, *, limit: int = 80) -> str:
    """A readable name unique within a resource group (``<prefix>-<project>-<stack>``)."""
    name = _hyphenated(f"{prefix}-{pulumi.get_project()}-{pulumi.get_stack()}-{role}")
    return name[:limit].rstrip("-")


# ------------------------------------------------------------------ sovereign clouds
@dataclass(frozen=True)
class CloudSuffixes:
    """DNS suffixes of one Azure cloud's private link zones."""

    openai: str
    cognitive_services: str
    ai_services: str | None
    key_vault: str
    blob: str


_PUBLIC = CloudSuffixes(
    openai="privatelink.openai.azure.com",
    cognitive_services="privatelink.cognitiveservices.azure.com",
    ai_services="privatelink.services.ai.azure.com",
    key_vault="privatelink.vaultcore.azure.net",
    blob="privatelink.blob.core.windows.net",
)
_US_GOVERNMENT = CloudSuffixes(
    openai="privatelink.openai.azure.us",
    cognitive_services="privatelink.cognitiveservices.azure.us",
    ai_services=None,
    key_vault="privatelink.vaultcore.usgovcloudapi.net",
    blob="privatelink.blob.core.usgovcloudapi.net",
)


def cloud_suffixes(location: str) -> CloudSuffixes:
    """Private link DNS zones of the cloud ``location`` belongs to (public or US Gov)."""
    return _US_GOVERNMENT if location.lower().startswith(("usgov", "usdod")) else _PUBLIC


# ------------------------------------------------------------------ shared types
@dataclass(frozen=True)
class CustomerManagedKey:
    """A Key Vault key another resource encrypts with, through a user-assigned identity.

    :class:`~aiscaffold_components.azure.Keys` hands these out (``keys.cmk("data")``);
    the identity already holds Key Vault Crypto Service Encryption User on the key.
    """

    key_name: pulumi.Input[str]
    """Name of the key; no version, so services follow its automatic rotation."""
    vault_uri: pulumi.Input[str]
    """``https://<vault>.vault.azure.net/``."""
    identity_id: pulumi.Input[str]
    """Resource id of the user-assigned identity that unwraps the key."""
    identity_client_id: pulumi.Input[str]
    """Client id of that identity (Cognitive Services asks for it)."""
    grants: Sequence[pulumi.Resource] = ()
    """What the encrypting resource must wait for: the identity's role assignment on
    the key and the propagation wait after it (Azure checks the grant when the resource
    is created, and refuses with KeyVaultAuthenticationFailure until it has
    propagated: AZURE-DEPLOY-002)."""


@dataclass(frozen=True)
class DiagnosticTarget:
    """A resource whose platform logs and metrics the audit logging collects.

    Components expose these as ``diagnostic_targets``, since each knows what its
    resources support; :class:`~aiscaffold_components.azure.AuditLogging` turns each into
    diagnostic settings.
    """

    name: str
    """Short role name, used in the diagnostic settings' Pulumi names."""
    resource_id: pulumi.Input[str]
    logs: bool = True
    """Send the ``allLogs`` category group to Log Analytics."""
    metrics: tuple[str, ...] = ("AllMetrics",)
    """Metric categories sent to Log Analytics; empty for a resource type without
    metrics (network security groups). Storage names its own (``Transaction``)."""
    archive_group: Literal["audit", "allLogs"] | None = "audit"
    """Category group also written to the immutable archive; ``None`` for none (the
    archive account itself, whose own logs would otherwise feed back into it)."""


@dataclass(frozen=True)
class PrivateLinkTarget:
    """A resource reachable through a private endpoint.

    Components expose these as ``private_link``;
    :class:`~aiscaffold_components.azure.PrivateEndpoints` creates the endpoint, the DNS
    zones and their zone group from it.
    """

    name: str
    """Short role name, used in the endpoint's Pulumi and Azure names."""
    resource_id: pulumi.Input[str]
    group_id: str
    """Private link sub-resource: ``account``, ``vault``, ``blob``."""
    dns_zones: tuple[str, ...]
    """Private DNS zones the endpoint registers its records in."""
