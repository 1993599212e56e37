"""Secure storage: a StorageV2 account that only identities on the private network use.

Secure defaults:

* public network access disabled, firewall default Deny, no bypass (PE-03); reached
  through a blob private endpoint (:class:`~aiscaffold_components.azure.PrivateEndpoints`);
* Entra ID only: shared key access and local users off, OAuth the portal default
  (IAM-03); user delegation SAS limited to one day;
* blob and container public access disallowed (GOV-03), HTTPS only with TLS 1.2 (NET-05);
* encrypted with a customer-managed key through a user-assigned identity, blob, file,
  queue and table alike, plus infrastructure (double) encryption (KEY-01);
* blob versioning, change feed, and 30-day soft delete of blobs and containers (GOV-04).

For log archives: ``immutability_days`` sets an account-level, version-level
time-based retention policy (LOG-03) that every container inherits, including those
Azure Monitor creates itself; ``lock_immutability`` locks it, which cannot be undone.
Azure creates such policies unlocked and refuses one created locked, so locking is a
second deployment. ``retention_days`` deletes blobs and versions once they are that old
(LOG-04: kept as long as required, then expired).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure_native

from ._common import (
    CustomerManagedKey,
    DiagnosticTarget,
    PrivateLinkTarget,
    child_opts,
    cloud_suffixes,
    tags_of,
    unique_name,
)

__all__ = ["SecureStorage", "SecureStorageArgs"]


@dataclass(frozen=True)
class SecureStorageArgs:
    """Arguments of :class:`SecureStorage`."""

    resource_group_name: pulumi.Input[str]
    location: str
    """Azure region (a plain string: it selects the private DNS zone's cloud)."""
    cmk: CustomerManagedKey
    """Key the account encrypts with (``keys.cmk("data")``)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    containers: Sequence[str] = ("data",)
    """Private blob containers to create."""
    sku_name: str = "Standard_ZRS"
    """Replication; zone-redundant by default. Regions without zones need
    ``Standard_LRS``."""
    soft_delete_days: int = 30
    """Days deleted blobs and containers stay recoverable (1-365)."""
    immutability_days: int | None = None
    """Days every blob version is immutable (account-level WORM); ``None`` for none."""
    lock_immutability: bool = False
    """Lock the immutability policy (irreversible). Only on an account whose policy was
    already deployed unlocked."""
    retention_days: int | None = None
    """Delete blobs and versions older than this many days; ``None`` keeps them."""
    trusted_services_bypass: bool = False
    """Weakening: the public endpoint admits trusted Azure services (and nothing else:
    default Deny, no IP or VNet rules) instead of being disabled. Azure Monitor and
    Network Watcher write logs only through it, so log storage needs it."""
    account_name: str | None = None
    """3-24 lowercase letters and digits, globally unique; default derived from the
    project, stack and component name."""


class SecureStorage(pulumi.ComponentResource):
    """A private, Entra-only, CMK-encrypted storage account with private containers."""

    account_id: pulumi.Output[str]
    account_name: pulumi.Output[str]
    blob_endpoint: pulumi.Output[str]
    container_ids: dict[str, pulumi.Output[str]]
    diagnostic_targets: list[DiagnosticTarget]
    private_link: PrivateLinkTarget

    def __init__(
        self, name: str, args: SecureStorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:azure:SecureStorage", name, None, opts)
        if not 1 <= args.soft_delete_days <= 365:
            raise ValueError("soft_delete_days must be between 1 and 365")
        if args.lock_immutability and not args.immutability_days:
            raise ValueError("lock_immutability needs immutability_days")
        tags = tags_of(args.tags)
        immutability = None
        if args.immutability_days:
            immutability = azure_native.storage.ImmutableStorageAccountArgs(
                enabled=True,
                immutability_policy=azure_native.storage.AccountImmutabilityPolicyPropertiesArgs(
                    immutability_period_since_creation_in_days=args.immutability_days,
                    state="Locked" if args.lock_immutability else "Unlocked",
                    # Azure Monitor appends to its log blobs.
                    allow_protected_append_writes=True,
                ),
            )
        encrypted = azure_native.storage.EncryptionServiceArgs(enabled=True, key_type="Account")
        account = azure_native.storage.StorageAccount(
            f"{name}-account",
            resource_group_name=args.resource_group_name,
            account_name=args.account_name or unique_name("storage", name),
            location=args.location,
            kind="StorageV2",
            sku=azure_native.storage.SkuArgs(name=args.sku_name),
            access_tier=azure_native.storage.AccessTier.HOT,
            identity=azure_native.storage.IdentityArgs(
                type="UserAssigned", user_assigned_identities=[args.cmk.identity_id]
            ),
            encryption=azure_native.storage.EncryptionArgs(
                key_source="Microsoft.Keyvault",
                key_vault_properties=azure_native.storage.KeyVaultPropertiesArgs(
                    key_name=args.cmk.key_name, key_vault_uri=args.cmk.vault_uri
                ),
                encryption_identity=azure_native.storage.EncryptionIdentityArgs(
                    encryption_user_assigned_identity=args.cmk.identity_id
                ),
                require_infrastructure_encryption=True,
                services=azure_native.storage.EncryptionServicesArgs(
                    blob=encrypted, file=encrypted, queue=encrypted, table=encrypted
                ),
            ),
            public_network_access="Enabled" if args.trusted_services_bypass else "Disabled",
            network_rule_set=azure_native.storage.NetworkRuleSetArgs(
                default_action=azure_native.storage.DefaultAction.DENY,
                bypass="AzureServices" if args.trusted_services_bypass else "None",
                ip_rules=[],
                virtual_network_rules=[],
            ),
            allow_blob_public_access=False,
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            allowed_copy_scope="AAD",
            is_local_user_enabled=False,
            is_sftp_enabled=False,
            is_hns_enabled=False,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            sas_policy=azure_native.storage.SasPolicyArgs(
                sas_expiration_period="01.00:00:00", expiration_action="Block"
            ),
            immutable_storage_with_versioning=immutability,
            tags=tags,
            opts=child_opts(self, depends_on=args.cmk.grants),
        )
        blob_service = azure_native.storage.BlobServiceProperties(
            f"{name}-blob-service",
            resource_group_name=args.resource_group_name,
            account_name=account.name,
            blob_services_name="default",
            is_versioning_enabled=True,
            change_feed=azure_native.storage.ChangeFeedArgs(enabled=True),
            delete_retention_policy=azure_native.storage.DeleteRetentionPolicyArgs(
                enabled=True, days=args.soft_delete_days
            ),
            container_delete_retention_policy=azure_native.storage.DeleteRetentionPolicyArgs(
                enabled=True, days=args.soft_delete_days
            ),
            opts=child_opts(self),
        )
        if args.retention_days:
            _expire_after(self, name, args, account.name, args.retention_days)

        self.container_ids = {}
        for container in args.containers:
            created = azure_native.storage.BlobContainer(
                f"{name}-{container}",
                resource_group_name=args.resource_group_name,
                account_name=account.name,
                container_name=container,
                public_access=azure_native.storage.PublicAccess.NONE,
                opts=child_opts(self, depends_on=[blob_service]),
            )
            self.container_ids[container] = created.id

        self.account_id = account.id
        self.account_name = account.name
        self.blob_endpoint = account.primary_endpoints.apply(lambda e: e.blob)
        blob_service_id = pulumi.Output.concat(account.id, "/blobServices/default")
        self.diagnostic_targets = [
            # Account level: transaction metrics only; logs belong to the services.
            DiagnosticTarget(
                f"{name}-account",
                account.id,
                logs=False,
                metrics=("Transaction",),
                archive_group=None,
            ),
            DiagnosticTarget(f"{name}-blob", blob_service_id, metrics=("Transaction",)),
        ]
        self.private_link = PrivateLinkTarget(
            f"{name}-blob", account.id, "blob", (cloud_suffixes(args.location).blob,)
        )
        self.register_outputs(
            {
                "account_id": self.account_id,
                "account_name": self.account_name,
                "blob_endpoint": self.blob_endpoint,
                "container_ids": self.container_ids,
            }
        )


def _expire_after(
    parent: pulumi.Resource,
    name: str,
    args: SecureStorageArgs,
    account_name: pulumi.Input[str],
    days: int,
) -> azure_native.storage.ManagementPolicy:
    """A lifecycle rule deleting blobs and their versions ``days`` after creation."""
    delete = azure_native.storage.DateAfterCreationArgs(days_after_creation_greater_than=days)
    return azure_native.storage.ManagementPolicy(
        f"{name}-lifecycle",
        resource_group_name=args.resource_group_name,
        account_name=account_name,
        management_policy_name="default",
        policy=azure_native.storage.ManagementPolicySchemaArgs(
            rules=[
                azure_native.storage.ManagementPolicyRuleArgs(
                    name="expire-after-retention",
                    type="Lifecycle",
                    enabled=True,
                    definition=azure_native.storage.ManagementPolicyDefinitionArgs(
                        filters=azure_native.storage.ManagementPolicyFilterArgs(
                            blob_types=["blockBlob", "appendBlob"]
                        ),
                        actions=azure_native.storage.ManagementPolicyActionArgs(
                            base_blob=azure_native.storage.ManagementPolicyBaseBlobArgs(
                                delete=azure_native.storage.DateAfterModificationArgs(
                                    days_after_creation_greater_than=days
                                )
                            ),
                            version=azure_native.storage.ManagementPolicyVersionArgs(delete=delete),
                        ),
                    ),
                )
            ]
        ),
        opts=child_opts(parent),
    )
