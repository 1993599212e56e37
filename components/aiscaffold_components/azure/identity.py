"""Least-privilege identity: a user-assigned managed identity for the workload.

The workload (an app service, container app or VM the team attaches the identity to)
gets tokens from Entra ID, never keys (IAM-01), and built-in roles on single resources
only (IAM-02, SEC-02):

==========================================  ===========================================
role                                        scope
==========================================  ===========================================
Cognitive Services OpenAI User              the OpenAI / AI Services account
Key Vault Secrets User                      the Key Vault (reads secrets, not keys)
Storage Blob Data Reader (or Contributor    each data container it is given
with ``data_write_access``)
==========================================  ===========================================

No Owner, Contributor or User Access Administrator, nothing at subscription or resource
group scope: every scope is checked to be a resource id before it is used.

One identity per workload type (IAM-05), each with only its own job:

===============  ==========================================================================
workload         grants
===============  ==========================================================================
inference        OpenAI User on the account (chat, completions, embeddings); Secrets User
                 on the vault; Blob Data Reader on the curated data
training         the fine-tuning role below on the account; Blob Data Reader on the
                 curated data, Contributor on the model-artifact container
data-processing  Blob Data Reader on the raw data, Contributor on the curated data
===============  ==========================================================================

Training must not call the production model, and Azure has no built-in role that allows
fine-tuning without inference (Cognitive Services OpenAI Contributor also holds
``deployments/*/action``). So ``openai_access="fine-tuning"`` defines a custom role,
assignable on the one account only, holding exactly the data actions of files and
fine-tuning jobs listed in :data:`FINE_TUNING_DATA_ACTIONS` (Azure resource provider
operations, Microsoft.CognitiveServices:
https://learn.microsoft.com/azure/role-based-access-control/permissions/ai-machine-learning#microsoftcognitiveservices),
and none of ``deployments/chat/completions/action``, ``deployments/completions/action``
or ``deployments/embeddings/action``. Fine-tuning works with the account's own key and
network settings: the identity only calls the account's data plane.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_azure_native as azure_native

from ._common import assign_role, child_opts, plain_name, resource_scope, tags_of

__all__ = [
    "FINE_TUNING_DATA_ACTIONS",
    "FINE_TUNING_ROLE_NAME",
    "WorkloadIdentity",
    "WorkloadIdentityArgs",
    "fine_tuning_role_guid",
]

#: Name of the custom role the training identity holds on the AI account.
FINE_TUNING_ROLE_NAME = "aiscaffold OpenAI fine-tuning"
#: The data actions of Azure OpenAI files (training and validation files, their import
#: from blob storage) and fine-tuning jobs, and nothing that invokes a deployment
#: (https://learn.microsoft.com/azure/role-based-access-control/permissions/ai-machine-learning#microsoftcognitiveservices;
#: files: https://learn.microsoft.com/azure/ai-services/openai/how-to/fine-tuning).
FINE_TUNING_DATA_ACTIONS: tuple[str, ...] = (
    "Microsoft.CognitiveServices/accounts/OpenAI/files/read",
    "Microsoft.CognitiveServices/accounts/OpenAI/files/write",
    "Microsoft.CognitiveServices/accounts/OpenAI/files/delete",
    "Microsoft.CognitiveServices/accounts/OpenAI/files/import/action",
    "Microsoft.CognitiveServices/accounts/OpenAI/fine-tunes/read",
    "Microsoft.CognitiveServices/accounts/OpenAI/fine-tunes/write",
    "Microsoft.CognitiveServices/accounts/OpenAI/fine-tunes/delete",
    "Microsoft.CognitiveServices/accounts/OpenAI/models/read",
)


def fine_tuning_role_guid(account_id: str) -> str:
    """The fine-tuning role's definition GUID for one AI account: stable across runs,
    one role per account (policies recompute it from an assignment's scope)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aiscaffold-openai-fine-tuning|{account_id}"))


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    """Arguments of :class:`WorkloadIdentity`."""

    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    tags: Mapping[str, str] = field(default_factory=dict)
    openai_account_id: pulumi.Input[str] | None = None
    """Account the workload calls (Cognitive Services OpenAI User)."""
    openai_access: Literal["inference", "fine-tuning"] = "inference"
    """What the identity does on ``openai_account_id``: call the deployments
    (Cognitive Services OpenAI User) or, for training, fine-tune only (a custom role
    with :data:`FINE_TUNING_DATA_ACTIONS`, which cannot invoke a deployment)."""
    key_vault_id: pulumi.Input[str] | None = None
    """Vault whose secrets the workload reads (Key Vault Secrets User)."""
    data_container_ids: Sequence[pulumi.Input[str]] = ()
    """Blob containers the workload reads (Storage Blob Data Reader)."""
    data_write_access: bool = False
    """Weakening: Storage Blob Data Contributor (read, write, delete) on the data
    containers instead of Reader."""
    write_container_ids: Sequence[pulumi.Input[str]] = ()
    """Blob containers the workload writes, its job's output (Storage Blob Data
    Contributor): the curated data for data processing, the model artifacts for
    training."""


class WorkloadIdentity(pulumi.ComponentResource):
    """The workload's managed identity and its resource-scoped role assignments."""

    identity_id: pulumi.Output[str]
    client_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:azure:WorkloadIdentity", name, None, opts)
        identity = azure_native.managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_group_name=args.resource_group_name,
            resource_name_=plain_name("id", name),
            location=args.location,
            tags=tags_of(args.tags),
            opts=child_opts(self),
        )
        if args.openai_access not in ("inference", "fine-tuning"):
            raise ValueError(
                f"openai_access {args.openai_access!r} is not inference or fine-tuning"
            )
        if args.openai_account_id is not None and args.openai_access == "fine-tuning":
            _fine_tune(self, name, args.openai_account_id, identity.principal_id)
        elif args.openai_account_id is not None:
            assign_role(
                f"{name}-openai-user",
                scope=args.openai_account_id,
                principal_id=identity.principal_id,
                role="Cognitive Services OpenAI User",
                parent=self,
            )
        if args.key_vault_id is not None:
            assign_role(
                f"{name}-secrets-user",
                scope=args.key_vault_id,
                principal_id=identity.principal_id,
                role="Key Vault Secrets User",
                parent=self,
            )
        for index, container_id in enumerate(args.data_container_ids):
            assign_role(
                f"{name}-data-{index}",
                scope=container_id,
                principal_id=identity.principal_id,
                role=(
                    "Storage Blob Data Contributor"
                    if args.data_write_access
                    else "Storage Blob Data Reader"
                ),
                parent=self,
            )
        for index, container_id in enumerate(args.write_container_ids):
            assign_role(
                f"{name}-write-{index}",
                scope=container_id,
                principal_id=identity.principal_id,
                role="Storage Blob Data Contributor",
                parent=self,
            )

        self.identity_id = identity.id
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self.register_outputs(
            {
                "identity_id": self.identity_id,
                "client_id": self.client_id,
                "principal_id": self.principal_id,
            }
        )


def _fine_tune(
    parent: pulumi.Resource,
    name: str,
    account_id: pulumi.Input[str],
    principal_id: pulumi.Input[str],
) -> azure_native.authorization.RoleAssignment:
    """The custom fine-tuning role, assignable on ``account_id`` only, and its grant
    there. Custom role definitions live in the subscription; ``assignableScopes`` limits
    where they may be assigned
    (https://learn.microsoft.com/azure/role-based-access-control/custom-roles)."""
    account = pulumi.Output.from_input(account_id).apply(resource_scope)
    guid = account.apply(fine_tuning_role_guid)
    definition = azure_native.authorization.RoleDefinition(
        f"{name}-fine-tuning-role",
        role_definition_id=guid,
        scope=account,
        role_name=account.apply(lambda a: f"{FINE_TUNING_ROLE_NAME} {a.rsplit('/', 1)[-1]}"),
        role_type="CustomRole",
        description="aiscaffold: Azure OpenAI files and fine-tuning jobs on one account; "
        "no deployment may be invoked (IAM-05)",
        permissions=[
            azure_native.authorization.PermissionArgs(
                actions=[],
                not_actions=[],
                data_actions=list(FINE_TUNING_DATA_ACTIONS),
                not_data_actions=[],
            )
        ],
        assignable_scopes=[account],
        opts=child_opts(parent),
    )
    subscription = account.apply(lambda a: a.split("/")[2])
    principal = pulumi.Output.from_input(principal_id)
    return azure_native.authorization.RoleAssignment(
        f"{name}-fine-tuning",
        scope=account,
        principal_id=principal,
        principal_type="ServicePrincipal",
        role_definition_id=pulumi.Output.all(subscription, guid).apply(
            lambda p: (
                f"/subscriptions/{p[0]}/providers/Microsoft.Authorization/roleDefinitions/{p[1]}"
            )
        ),
        role_assignment_name=pulumi.Output.all(account, principal).apply(
            lambda p: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{p[0]}|{p[1]}|{FINE_TUNING_ROLE_NAME}"))
        ),
        description=f"aiscaffold: {FINE_TUNING_ROLE_NAME}",
        opts=child_opts(parent, depends_on=[definition]),
    )
