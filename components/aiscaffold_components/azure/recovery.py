"""Recovery (REC-01): a replica of a storage account in the recovery region.

:class:`ReplicatedStorage` creates, in ``location`` (the stack's ``dr_region``), a
:class:`~aiscaffold_components.azure.SecureStorage` account with the same hardening as
the primary (no public network access, Entra ID only, TLS 1.2, versioning, change feed,
soft delete, diagnostics) encrypted with a customer-managed key from a Key Vault in the
recovery region (a second :class:`~aiscaffold_components.azure.Keys`, so losing the
primary region's vault does not make the replica unreadable), and an object replication
policy copying each container to it.

Object replication, as Azure documents it
(https://learn.microsoft.com/azure/storage/blobs/object-replication-overview):

* "Object replication asynchronously copies block blobs between a source storage account
  and a destination account"; it needs blob versioning on both accounts and the change
  feed on the source (SecureStorage enables all three on every account);
* the policy is created on the destination account first, then on the source with the
  destination policy's id and rule ids
  (https://learn.microsoft.com/azure/storage/blobs/object-replication-configure);
* with ``allowCrossTenantReplication`` false (SecureStorage's setting), source and
  destination must be named by full resource id, not account name;
* the destination container becomes read-only to clients while the policy exists;
* there is no replication-time SLA: the RPO is whatever the asynchronous copy lags
  (object replication priority replication, where offered, has its own terms).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure_native

from ._common import CustomerManagedKey, DiagnosticTarget, PrivateLinkTarget, child_opts
from .storage import SecureStorage, SecureStorageArgs

__all__ = ["ReplicatedStorage", "ReplicatedStorageArgs"]


@dataclass(frozen=True)
class ReplicatedStorageArgs:
    """Arguments of :class:`ReplicatedStorage`."""

    resource_group_name: pulumi.Input[str]
    source: SecureStorage
    """The primary account whose containers are replicated."""
    location: str
    """Recovery region (``profile.dr_region``); must differ from the source's."""
    source_location: str
    """Region of the source account (checked to differ from ``location``)."""
    cmk: CustomerManagedKey
    """Key in a vault in the recovery region (``dr_keys.cmk("data")``)."""
    containers: Sequence[str] = ("data",)
    """Containers of the source to replicate (each to a container of the same name)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    soft_delete_days: int = 30
    """Soft delete of the replica's blobs and containers (as the source's)."""
    sku_name: str = "Standard_ZRS"
    """Replication inside the recovery region; ``Standard_LRS`` where it has no zones."""


class ReplicatedStorage(pulumi.ComponentResource):
    """A hardened replica account in the recovery region and the object replication
    policies that fill it."""

    replica: SecureStorage
    account_id: pulumi.Output[str]
    account_name: pulumi.Output[str]
    policy_id: pulumi.Output[str]
    location: str
    diagnostic_targets: list[DiagnosticTarget]
    """The replica's targets, logs and metrics to Log Analytics; none to the primary
    region's archive account: a diagnostic setting writes only to a storage account in
    the monitored resource's region
    (https://learn.microsoft.com/azure/azure-monitor/essentials/diagnostic-settings#destination-limitations)."""
    private_link: PrivateLinkTarget

    def __init__(
        self, name: str, args: ReplicatedStorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:azure:ReplicatedStorage", name, None, opts)
        if not args.location or args.location.lower() == args.source_location.lower():
            raise ValueError(
                f"the replica's region {args.location!r} must be set and differ from the "
                f"source's ({args.source_location})"
            )
        if not args.containers:
            raise ValueError("ReplicatedStorage needs at least one container")
        missing = [c for c in args.containers if c not in args.source.container_ids]
        if missing:
            raise ValueError(f"the source has no container(s) {', '.join(missing)}")
        self.location = args.location
        self.replica = SecureStorage(
            name,
            SecureStorageArgs(
                resource_group_name=args.resource_group_name,
                location=args.location,
                cmk=args.cmk,
                tags=args.tags,
                containers=tuple(args.containers),
                sku_name=args.sku_name,
                soft_delete_days=args.soft_delete_days,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        rules = [
            azure_native.storage.ObjectReplicationPolicyRuleArgs(
                source_container=container, destination_container=container
            )
            for container in args.containers
        ]
        # Destination first: Azure generates the policy id and rule ids there.
        destination = azure_native.storage.ObjectReplicationPolicy(
            f"{name}-replication-destination",
            resource_group_name=args.resource_group_name,
            account_name=self.replica.account_name,
            object_replication_policy_id="default",
            source_account=args.source.account_id,
            destination_account=self.replica.account_id,
            rules=rules,
            opts=child_opts(self, depends_on=[self.replica]),
        )
        rule_ids: pulumi.Output[list[str]] = destination.rules.apply(
            lambda rs: [str(r.rule_id) for r in rs or []]
        )
        source_rules = [
            azure_native.storage.ObjectReplicationPolicyRuleArgs(
                source_container=container,
                destination_container=container,
                rule_id=rule_ids.apply(_nth(index)),
            )
            for index, container in enumerate(args.containers)
        ]
        source = azure_native.storage.ObjectReplicationPolicy(
            f"{name}-replication-source",
            resource_group_name=args.resource_group_name,
            account_name=args.source.account_name,
            object_replication_policy_id=destination.policy_id,
            source_account=args.source.account_id,
            destination_account=self.replica.account_id,
            rules=source_rules,
            opts=child_opts(self, depends_on=[destination]),
        )
        self.account_id = self.replica.account_id
        self.account_name = self.replica.account_name
        self.policy_id = source.policy_id
        self.diagnostic_targets = [
            dataclasses.replace(target, archive_group=None)
            for target in self.replica.diagnostic_targets
        ]
        self.private_link = self.replica.private_link
        self.register_outputs(
            {
                "account_id": self.account_id,
                "account_name": self.account_name,
                "policy_id": self.policy_id,
            }
        )


def _nth(index: int) -> Callable[[list[str]], str]:
    """The ``index``-th rule id the destination policy reports."""

    def pick(ids: list[str]) -> str:
        return ids[index]

    return pick
