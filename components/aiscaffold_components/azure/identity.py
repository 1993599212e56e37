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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure_native

from ._common import assign_role, child_opts, plain_name, tags_of

__all__ = ["WorkloadIdentity", "WorkloadIdentityArgs"]


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    """Arguments of :class:`WorkloadIdentity`."""

    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    tags: Mapping[str, str] = field(default_factory=dict)
    openai_account_id: pulumi.Input[str] | None = None
    """Account the workload calls (Cognitive Services OpenAI User)."""
    key_vault_id: pulumi.Input[str] | None = None
    """Vault whose secrets the workload reads (Key Vault Secrets User)."""
    data_container_ids: Sequence[pulumi.Input[str]] = ()
    """Blob containers the workload reads (Storage Blob Data Reader)."""
    data_write_access: bool = False
    """Weakening: Storage Blob Data Contributor (read, write, delete) on the data
    containers instead of Reader."""


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
        if args.openai_account_id is not None:
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
