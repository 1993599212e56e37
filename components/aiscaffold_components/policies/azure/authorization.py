"""Role assignments and management locks.

Roles are granted only by built-in role definition id, only on single resources, only
to managed identities, and each role only on the kind of resource it is for; write
access to storage only where Network Watcher writes flow logs. One grant goes to the
deploying identity instead, a user or a CI service principal: Key Vault Crypto Officer
on the project's vault, because Azure Resource Manager creates keys in an RBAC vault
only for a caller holding the keys' data actions (AZURE-DEPLOY-001). That role is the
deployer's alone: accepted on a vault (AZURE-IAM-004), for any principal type. With deletion
protection, every resource group carries a CanNotDelete (or ReadOnly) lock.

One custom role is accepted: the training identity's fine-tuning role, defined by the
project on one AI account (its GUID derives from the account id, so an assignment names
it only on that account) with nothing but the files and fine-tuning data actions.
Identities of different workload types are disjoint in what they may do (AZURE-IAM-006,
IAM-05): each principal's grants fit one workload type's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import (
    GROUP_LOCK,
    RESOURCE_GROUP,
    ROLE,
    ROLE_DEFINITION,
    SCOPE_LOCK,
    STORAGE,
    id_path,
    name_of,
    of_type,
    zone_of,
)
from .storage import log_accounts

# /subscriptions/<s>/resourceGroups/<g>/providers/<namespace>/<type>/<name>...
_RESOURCE_SCOPE = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/[^/]+/[^/]+/[^/]+", re.IGNORECASE
)
_ROLE_GUID = re.compile(r"/roleDefinitions/([0-9a-f-]{36})$", re.IGNORECASE)

#: Per role, the resource provider namespace and the id shapes of the scopes it fits.
_SCOPES: dict[str, tuple[str, tuple[tuple[str, ...], ...]]] = {
    "Cognitive Services OpenAI User": ("microsoft.cognitiveservices", (("accounts",),)),
    "Key Vault Secrets User": ("microsoft.keyvault", (("vaults",), ("vaults", "secrets"))),
    "Key Vault Crypto Service Encryption User": ("microsoft.keyvault", (("vaults", "keys"),)),
    # The deployer's grant, for creating the vault's keys (see the module docstring).
    "Key Vault Crypto Officer": ("microsoft.keyvault", (("vaults",),)),
    "Storage Blob Data Reader": (
        "microsoft.storage",
        (("storageaccounts",), ("storageaccounts", "blobservices", "containers")),
    ),
    "Storage Blob Data Contributor": (
        "microsoft.storage",
        (("storageaccounts",), ("storageaccounts", "blobservices", "containers")),
    ),
    # A central SIEM's read access to the project's workspace (SiemExport, DET-04).
    "Log Analytics Reader": ("microsoft.operationalinsights", (("workspaces",),)),
    # The training identity's custom role (WorkloadIdentity openai_access="fine-tuning").
    "aiscaffold OpenAI fine-tuning": ("microsoft.cognitiveservices", (("accounts",),)),
}
_WRITER = "Storage Blob Data Contributor"
_DEPLOYER_ROLE = "Key Vault Crypto Officer"


def _is_deployer_grant(resource: Resource) -> bool:
    """The deployer's grant for creating keys (Keys grants Crypto Officer to nobody else)."""
    return _role_name(resource) == _DEPLOYER_ROLE


def _role_name(resource: Resource) -> str | None:
    """The name of the role the assignment grants, if it is an allowed one: a built-in
    role of ``ROLES``, or the fine-tuning role defined for the assignment's own scope."""
    from aiscaffold_components.azure import FINE_TUNING_ROLE_NAME, ROLES
    from aiscaffold_components.azure.identity import fine_tuning_role_guid

    match = _ROLE_GUID.search(str(resource.get("roleDefinitionId", default="")))
    if match is None:
        return None
    guid = match.group(1).lower()
    builtin = next((name for name, value in ROLES.items() if value == guid), None)
    if builtin is not None:
        return builtin
    scope = str(resource.get("scope", default=""))
    if scope and guid == fine_tuning_role_guid(scope):
        return FINE_TUNING_ROLE_NAME
    return None


def _namespace(resource_id: str) -> str:
    parts = [p.lower() for p in resource_id.split("/") if p]
    if "providers" not in parts:
        return ""
    index = len(parts) - 1 - parts[::-1].index("providers")
    return parts[index + 1] if index + 1 < len(parts) else ""


@resource_policy(
    id="AZURE-IAM-001",
    title="Roles are assigned on single resources, never a subscription or group",
    severity="high",
    types=[ROLE],
    controls=["IAM-02"],
    remediation="Assign the role on the resource the identity uses (the key, vault, "
    "container or account id), not on a subscription, resource group or management group.",
)
def resource_scope(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A role at subscription or resource group scope reaches every resource below it,
    including those created later."""
    scope = str(resource.get("scope", default=""))
    if not _RESOURCE_SCOPE.match(scope):
        yield f"the role is assigned at {scope or 'no stated scope'}, not on a single resource"


@resource_policy(
    id="AZURE-IAM-002",
    title="Only the least-privilege built-in roles are assigned",
    severity="high",
    types=[ROLE],
    controls=["IAM-02"],
    remediation="Assign one of Cognitive Services OpenAI User, Key Vault Secrets User, Key "
    "Vault Crypto Service Encryption User, Storage Blob Data Reader or Contributor by its "
    "built-in role definition id; never Owner, Contributor, User Access Administrator or a "
    "custom role other than the fine-tuning role WorkloadIdentity defines on its AI account. "
    "Key Vault Crypto Officer goes only to the deploying identity (Keys does that), never to "
    "a managed identity.",
)
def allowed_roles(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Data-plane roles scoped to what the workload does; no role that can change
    resources or grant access. Crypto Officer (every key operation) only as the
    deployer's grant, which creating the keys takes."""
    if _role_name(resource) is None:
        defined = resource.get("roleDefinitionId", default="")
        yield f"role {defined or 'unstated'} is not one of the allowed built-in roles"


@resource_policy(
    id="AZURE-IAM-003",
    title="Roles are granted to managed identities",
    severity="medium",
    types=[ROLE],
    controls=["IAM-01"],
    remediation="Grant roles to the workload's user-assigned managed identity with "
    "principalType ServicePrincipal; people get access through the platform team's groups.",
)
def managed_identity_principals(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The project's grants go to identities without long-lived credentials, not to
    users, groups or foreign principals; the deployer's key grant goes to whoever
    deploys."""
    if _is_deployer_grant(resource):
        raise NotApplicable("the deploying identity's grant for creating keys")
    kind = resource.get("principalType")
    if kind != "ServicePrincipal":
        yield f"the role is granted to a {kind or 'principal of unstated type'}"


@resource_policy(
    id="AZURE-IAM-004",
    title="Each role is granted on the kind of resource it is for",
    severity="medium",
    types=[ROLE],
    controls=["IAM-02", "KEY-04", "SEC-02"],
    remediation="Grant Crypto Service Encryption User on a key, Secrets User on a vault or "
    "secret, OpenAI User on a Cognitive Services account, Blob Data roles on a storage "
    "account or container, the deployer's Crypto Officer on the vault it creates keys in.",
)
def role_fits_scope(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A key role on a whole vault would reach every key in it; each role is held on
    the narrowest resource it works on."""
    role = _role_name(resource)
    if role is None:
        raise NotApplicable("not an allowed role (AZURE-IAM-002)")
    scope = str(resource.get("scope", default=""))
    namespace, shapes = _SCOPES[role]
    shape = tuple(collection for collection, _ in id_path(scope))
    if _namespace(scope) != namespace or shape not in shapes:
        yield f"{role} is granted on {scope}, not on the resource it is for"


@stack_policy(
    id="AZURE-IAM-005",
    title="Write access to storage only where flow logs are written",
    severity="medium",
    controls=["IAM-02"],
    remediation="Grant the workload Storage Blob Data Reader on its containers "
    "(WorkloadIdentity without data_write_access); only the training identity writes model "
    "artifacts and only the data-processing identity writes curated data, each on its "
    "container. If another must write, record the decision as an override in "
    "policy/enforcement.yaml.",
)
def storage_writers(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """The inference workload reads its data; the writers the project creates are
    Network Watcher's identity on the flow-log account, and, when the answers choose
    those workloads, the training identity on the model-artifact container and the
    data-processing identity on the curated container (identities that neither call the
    model nor read secrets)."""
    assignments = [r for r in of_type(resources, ROLE) if _role_name(r) == _WRITER]
    if not assignments:
        raise NotApplicable("no Storage Blob Data Contributor assignments")
    _, flows = log_accounts(resources)
    flow_names = {name_of(f, "accountName") for f in flows}
    accounts = of_type(resources, STORAGE)
    model_users = {
        str(r.get("principalId", default=""))
        for r in of_type(resources, ROLE)
        if _role_name(r) in ("Cognitive Services OpenAI User", "Key Vault Secrets User")
    }
    writable = {"model-artifacts": "training", "curated": "data-processing"}
    for assignment in assignments:
        path = id_path(str(assignment.get("scope", default="")))
        if len(path) == 1 and path[0][0] == "storageaccounts" and path[0][1] in flow_names:
            continue
        if len(path) == 3 and path[2][0] == "containers":
            account = next((a for a in accounts if name_of(a, "accountName") == path[0][1]), None)
            zone = zone_of(account) if account is not None else ""
            workload = writable.get(zone)
            if (
                workload in requirements.workloads
                and str(assignment.get("principalId", default="")) not in model_users
            ):
                continue
        yield (
            assignment,
            f"{assignment.name} grants write access to storage that neither flow logs nor "
            "a chosen workload's job writes to",
        )


@stack_policy(
    id="AZURE-LOCK-001",
    title="Resource groups are locked against deletion when the profile asks for it",
    severity="high",
    controls=["GOV-05"],
    remediation="Add a CanNotDelete management lock on each resource group "
    "(Network(lock_resource_group=profile.deletion_protection)).",
)
def group_locks(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """With deletion protection (restricted data, FedRAMP), deleting the project's
    resource group, and with it keys and logs, takes removing the lock first."""
    if not requirements.setting("deletion_protection"):
        raise NotApplicable("the profile does not ask for deletion protection")
    groups = of_type(resources, RESOURCE_GROUP)
    if not groups:
        raise NotApplicable("no resource groups")
    locked: set[str] = set()
    for lock in of_type(resources, GROUP_LOCK, SCOPE_LOCK):
        if lock.get("level") not in ("CanNotDelete", "ReadOnly"):
            continue
        if lock.type == GROUP_LOCK:
            locked.add(name_of(lock, "resourceGroupName"))
        else:
            path = id_path(str(lock.get("scope", default="")))
            if len(path) == 2 and path[1][0] == "resourcegroups":
                locked.add(path[1][1])
    for group in groups:
        if name_of(group, "resourceGroupName") not in locked:
            yield group, f"{group.name} carries no CanNotDelete lock"


#: What each workload type's identity may do (IAM-05), in capabilities derived from its
#: grants: ``invoke-model`` (OpenAI User), ``fine-tune`` (the fine-tuning role),
#: ``read-secrets`` (Secrets User), ``<read|write>-<zone>`` (Blob Data roles on a data
#: zone's account or container).
WORKLOAD_JOBS: dict[str, frozenset[str]] = {
    "inference": frozenset({"invoke-model", "read-secrets", "read-curated"}),
    "training": frozenset({"fine-tune", "read-curated", "write-model-artifacts"}),
    "data-processing": frozenset({"read-raw", "write-curated"}),
}
_CAPABILITY = {
    "Cognitive Services OpenAI User": "invoke-model",
    "aiscaffold OpenAI fine-tuning": "fine-tune",
    "Key Vault Secrets User": "read-secrets",
}


def _capability(
    assignment: Resource, accounts: Sequence[Resource], log_names: set[str]
) -> str | None:
    role = _role_name(assignment)
    if role in _CAPABILITY:
        return _CAPABILITY[role]
    if role not in ("Storage Blob Data Reader", _WRITER):
        return None  # key, deployer and SIEM grants belong to no workload
    path = id_path(str(assignment.get("scope", default="")))
    if not path or path[0][0] != "storageaccounts" or path[0][1] in log_names:
        return None
    account = next((a for a in accounts if name_of(a, "accountName") == path[0][1]), None)
    zone = zone_of(account) if account is not None else "curated"
    return f"{'write' if role == _WRITER else 'read'}-{zone}"


@stack_policy(
    id="AZURE-IAM-006",
    title="Each workload identity holds one workload type's permissions only",
    severity="high",
    controls=["IAM-05"],
    remediation="Give each workload type its own WorkloadIdentity: inference OpenAI User, "
    "Secrets User and Blob Data Reader on the curated data; training the fine-tuning role, "
    "Reader on the curated data and Contributor on the model artifacts; data processing "
    "Reader on the raw data and Contributor on the curated data. Keep the fine-tuning role "
    "to its files and fine-tunes data actions, assignable on its AI account only.",
)
def disjoint_workload_identities(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Inference cannot write model artifacts, training cannot invoke the production
    model, data processing touches neither: a compromised job reaches only its own
    data. Judged on the role assignments per principal, and on the fine-tuning role's
    definition."""
    from aiscaffold_components.azure import FINE_TUNING_DATA_ACTIONS

    archives, flows = log_accounts(resources)
    log_names = {name_of(a, "accountName") for a in [*archives, *flows]}
    accounts = of_type(resources, STORAGE)
    held: dict[str, list[tuple[Resource, str]]] = {}
    for assignment in of_type(resources, ROLE):
        capability = _capability(assignment, accounts, log_names)
        if capability is not None:
            principal = str(assignment.get("principalId", default=""))
            held.setdefault(principal, []).append((assignment, capability))
    definitions = of_type(resources, ROLE_DEFINITION)
    if not held and not definitions:
        raise NotApplicable("no workload role assignments or custom roles")
    for grants in held.values():
        capabilities = {c for _, c in grants}
        if any(capabilities <= job for job in WORKLOAD_JOBS.values()):
            continue
        names = ", ".join(sorted(a.name for a, _ in grants))
        yield (
            grants[0][0],
            f"one identity holds {', '.join(sorted(capabilities))} ({names}): no single "
            "workload type's job needs all of them",
        )
    allowed = {a.lower() for a in FINE_TUNING_DATA_ACTIONS}
    for definition in definitions:
        for permission in definition.items("permissions"):
            if not isinstance(permission, Mapping):
                continue
            extra = [
                str(a)
                for a in (permission.get("dataActions") or [])
                if str(a).lower() not in allowed
            ]
            if extra:
                yield definition, f"{definition.name} allows data actions {', '.join(extra)}"
            if permission.get("actions"):
                yield definition, f"{definition.name} allows control-plane actions"
        where = str(definition.get("scope", default=""))
        if _namespace(where) != "microsoft.cognitiveservices" or [c for c, _ in id_path(where)] != [
            "accounts"
        ]:
            yield (
                definition,
                f"{definition.name} is defined at {where or 'no scope'}, not one AI account",
            )
        scopes = [str(s) for s in definition.items("assignableScopes")]
        for scope in scopes or ["(none)"]:
            path = id_path(scope)
            if _namespace(scope) != "microsoft.cognitiveservices" or [c for c, _ in path] != [
                "accounts"
            ]:
                yield definition, f"{definition.name} is assignable on {scope}, not one AI account"
