"""Customer-managed keys: a locked-down Key Vault and one rotating key per purpose.

The vault (Premium, so keys can live in HSMs) authorizes data access with Azure RBAC
only, has purge protection and 90-day soft delete, and refuses public network access
(PE-03, KEY-03); it is reached through a private endpoint
(:class:`~aiscaffold_components.azure.PrivateEndpoints`). Its firewall lets trusted
Azure services through only with ``trusted_services_bypass``, which a vault holding
other services' CMKs needs: Storage and Cognitive Services fetch their keys through it.

Keys (KEY-01, KEY-02, KEY-05):

========  ===================================  =====================================
purpose   encrypts                             type
========  ===================================  =====================================
data      the data storage account             RSA-HSM 3072 (RSA 3072 if not HSM)
logs      the log archive and flow-log storage RSA-HSM 3072 (RSA 3072 if not HSM)
ai        the Azure OpenAI / AI Services       RSA-HSM 2048: Azure AI services
          account                              accept only 2048-bit RSA keys, so
                                               this key is always HSM-backed
========  ===================================  =====================================

Each key rotates automatically ``rotation_days`` after creation, and each version
expires ``expiry_grace_days`` later, so a version in use never outlives its rotation
by more than the grace period; Event Grid gets a near-expiry notice a week before.
The rotation policy's expiry applies only to the versions Key Vault rotates to, so the
first version, which Azure Resource Manager creates, carries the same lifetime in its
own attributes: valid from ``created_on``, expiring ``rotation_days +
expiry_grace_days`` later. Without that it would never expire, nor would it after
rotation replaced it.

Services unwrap the keys through one user-assigned identity (``encryption_identity``),
holding Key Vault Crypto Service Encryption User on each key, not on the vault (KEY-04).
Azure checks that grant when a service is created with the key, and it takes up to 10
minutes to propagate: :meth:`Keys.cmk` hands out the grant together with an explicit
wait after it, which every encrypting resource depends on (AZURE-DEPLOY-002).

Creating a key in an RBAC vault through Azure Resource Manager takes the keys' data
actions (``Microsoft.KeyVault/vaults/keys/read`` first), which Owner, Contributor and
Role Based Access Control Administrator do not hold: without them Azure answers
ForbiddenByRbac (Azure/bicep#7864, pulumi/pulumi-azure-native#890). So the deploying
identity (``get_client_config``'s object id, or ``deployer_principal_id``, of
``deployer_principal_type``) gets Key Vault Crypto Officer on this vault, and the keys
wait for that grant to propagate (AZURE-DEPLOY-001). Other keys created in the vault
depend on ``key_creation_ready``.

Application secrets share the vault; Key Vault encrypts them with its own HSM-protected
keys, which cannot be customer-managed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast, get_args

import pulumi
import pulumi_azure_native as azure_native

from ._common import (
    ROLE_PROPAGATION_SECONDS,
    CustomerManagedKey,
    DiagnosticTarget,
    PrincipalType,
    PrivateLinkTarget,
    assign_role,
    child_opts,
    cloud_suffixes,
    plain_name,
    propagation_wait,
    tags_of,
    unique_name,
)

__all__ = ["KEY_PURPOSES", "Keys", "KeysArgs"]

Purpose = Literal["data", "logs", "ai"]
KEY_PURPOSES: tuple[Purpose, ...] = ("data", "logs", "ai")

#: Services that take a CMK only of this size (Azure AI services: 2048-bit RSA).
_FIXED_SIZE: dict[Purpose, int] = {"ai": 2048}


@dataclass(frozen=True)
class KeysArgs:
    """Arguments of :class:`Keys`."""

    resource_group_name: pulumi.Input[str]
    location: str
    """Azure region (a plain string: it selects the private DNS zone's cloud)."""
    created_on: dt.date
    """Day (UTC) the keys are first created. Each key's first version is valid from that
    day and expires ``rotation_days + expiry_grace_days`` later, the lifetime the
    rotation policy gives every later version (KEY-02).

    A date, not the time of the run: Azure Resource Manager sets a key's attributes
    only when it creates the key and never updates an existing one, so a value moving
    with each run would show a change in every preview that could never be applied
    (and some providers turn such a change into a replacement, impossible under purge
    protection: hashicorp/terraform-provider-azurerm#24965). Keep it fixed, e.g. in
    stack config, once the keys exist."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the vault, keys and identity (GOV-01)."""

    rotation_days: int = 365
    """Days after creation at which each key rotates to a new version (KEY-02)."""

    expiry_grace_days: int = 30
    """Days a key version stays valid after its rotation is due."""

    hsm_keys: bool = True
    """Weakening when false: the data and logs keys are software-protected (RSA 3072).
    The ai key stays HSM-backed, the only way to meet KEY-05 at the 2048 bits Azure AI
    services accept."""

    key_size: int = 3072
    """RSA size of the data and logs keys (3072 or 4096)."""

    purposes: Sequence[Purpose] = KEY_PURPOSES
    """Keys to create, one per purpose."""

    trusted_services_bypass: bool = False
    """Let trusted Azure services (Storage, Cognitive Services) through the vault's
    firewall to unwrap their customer-managed keys. Needed when the keys here encrypt
    other services; otherwise a weakening."""

    soft_delete_days: int = 90
    """Days deleted keys and secrets stay recoverable (7-90)."""

    tenant_id: pulumi.Input[str] | None = None
    """Entra tenant of the vault; default the deploying identity's tenant."""

    vault_name: str | None = None
    """Name of the vault (3-24 characters, globally unique); default derived from the
    project, stack and component name."""

    deployer_principal_id: pulumi.Input[str] | None = None
    """Object id of the identity that runs ``pulumi up``, granted Key Vault Crypto
    Officer on the vault so Azure Resource Manager can create the keys; default the
    deploying identity's (``get_client_config``). Name it when stacks are deployed by
    one CI identity, so a run by someone else does not move the grant."""

    deployer_principal_type: str = "User"
    """Kind of the deploying identity: ``User`` (``az login``), ``ServicePrincipal`` (a
    CI identity) or ``Group``. Azure refuses a grant stating another type than the
    principal's (UnmatchedPrincipalType), and get_client_config does not tell them
    apart. A string, checked, because it usually comes from stack config."""

    role_propagation_seconds: int = ROLE_PROPAGATION_SECONDS
    """Seconds to wait after a role assignment before using it (the deployer's grant
    before creating keys, the encryption identity's before services use the keys).
    Azure documents up to 10 minutes; the wait runs once, when the grant is created."""


class Keys(pulumi.ComponentResource):
    """A private, RBAC-only, purge-protected vault with rotating keys."""

    vault_id: pulumi.Output[str]
    vault_name: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    key_ids: dict[str, pulumi.Output[str]]
    """Key resource id per purpose."""
    key_names: dict[str, pulumi.Output[str]]
    key_creation_ready: list[pulumi.Resource]
    """Resources a key created in this vault outside the component must depend on: the
    deployer's Key Vault Crypto Officer grant and the wait for it to propagate."""
    encryption_identity_id: pulumi.Output[str]
    encryption_identity_client_id: pulumi.Output[str]
    encryption_identity_principal_id: pulumi.Output[str]
    diagnostic_targets: list[DiagnosticTarget]
    private_link: PrivateLinkTarget

    def __init__(
        self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:azure:Keys", name, None, opts)
        if not 7 <= args.soft_delete_days <= 90:
            raise ValueError("soft_delete_days must be between 7 and 90")
        if args.key_size not in (3072, 4096):
            raise ValueError("key_size must be 3072 or 4096 (KEY-01 asks for 3072 or more)")
        if args.rotation_days < 28:
            raise ValueError("Key Vault rotates keys at most every 28 days")
        if args.deployer_principal_type not in get_args(PrincipalType):
            raise ValueError(
                f"deployer_principal_type must be one of {', '.join(get_args(PrincipalType))}, "
                f"not {args.deployer_principal_type!r}"
            )
        if args.role_propagation_seconds < 0:
            raise ValueError("role_propagation_seconds must not be negative")
        tags = tags_of(args.tags)
        client = azure_native.authorization.get_client_config_output(
            opts=pulumi.InvokeOptions(parent=self)
        )
        tenant = args.tenant_id or client.tenant_id

        vault = azure_native.keyvault.Vault(
            f"{name}-vault",
            resource_group_name=args.resource_group_name,
            vault_name=args.vault_name or unique_name("vault", name),
            location=args.location,
            properties=azure_native.keyvault.VaultPropertiesArgs(
                tenant_id=tenant,
                sku=azure_native.keyvault.SkuArgs(
                    family="A", name=azure_native.keyvault.SkuName.PREMIUM
                ),
                enable_rbac_authorization=True,
                enable_purge_protection=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=args.soft_delete_days,
                public_network_access="Disabled",
                network_acls=azure_native.keyvault.NetworkRuleSetArgs(
                    default_action="Deny",
                    bypass="AzureServices" if args.trusted_services_bypass else "None",
                    ip_rules=[],
                    virtual_network_rules=[],
                ),
                enabled_for_deployment=False,
                enabled_for_disk_encryption=False,
                enabled_for_template_deployment=False,
            ),
            tags=tags,
            opts=child_opts(self),
        )
        identity = azure_native.managedidentity.UserAssignedIdentity(
            f"{name}-cmk-identity",
            resource_group_name=args.resource_group_name,
            resource_name_=plain_name("id", f"{name}-cmk"),
            location=args.location,
            tags=tags,
            opts=child_opts(self),
        )

        # Azure Resource Manager creates keys in an RBAC vault only for a caller holding
        # the keys' data actions (ForbiddenByRbac otherwise): the deployer's grant, on
        # this vault only, and a wait for it to propagate before the first key.
        deployer_grant = assign_role(
            f"{name}-deployer-crypto-officer",
            scope=vault.id,
            principal_id=args.deployer_principal_id or client.object_id,
            role="Key Vault Crypto Officer",
            parent=self,
            principal_type=cast(PrincipalType, args.deployer_principal_type),
        )
        self.key_creation_ready = [
            deployer_grant,
            propagation_wait(
                f"{name}-deployer-crypto-officer-wait",
                deployer_grant,
                parent=self,
                seconds=args.role_propagation_seconds,
            ),
        ]

        lifetime_days = args.rotation_days + args.expiry_grace_days
        self.key_ids = {}
        self.key_names = {}
        self._grants: dict[str, tuple[pulumi.Resource, ...]] = {}
        for purpose in args.purposes:
            size = _FIXED_SIZE.get(purpose, args.key_size)
            hsm = args.hsm_keys or purpose in _FIXED_SIZE
            key = azure_native.keyvault.Key(
                f"{name}-{purpose}",
                resource_group_name=args.resource_group_name,
                vault_name=vault.name,
                key_name=f"cmk-{purpose}",
                properties=azure_native.keyvault.KeyPropertiesArgs(
                    kty="RSA-HSM" if hsm else "RSA",
                    key_size=size,
                    key_ops=["wrapKey", "unwrapKey"],
                    attributes=_first_version_attributes(args.created_on, lifetime_days),
                    rotation_policy=_rotation_policy(args.rotation_days, args.expiry_grace_days),
                ),
                tags={**tags, "key-purpose": purpose},
                opts=pulumi.ResourceOptions(
                    parent=self,
                    ignore_changes=_FIRST_VERSION_ONLY,
                    depends_on=self.key_creation_ready,
                ),
            )
            grant = assign_role(
                f"{name}-{purpose}-cmk-user",
                scope=key.id,
                principal_id=identity.principal_id,
                role="Key Vault Crypto Service Encryption User",
                parent=self,
            )
            self._grants[purpose] = (
                grant,
                propagation_wait(
                    f"{name}-{purpose}-cmk-user-wait",
                    grant,
                    parent=self,
                    seconds=args.role_propagation_seconds,
                ),
            )
            self.key_ids[purpose] = key.id
            self.key_names[purpose] = key.name

        self.vault_id = vault.id
        self.vault_name = vault.name
        self.vault_uri = vault.properties.apply(lambda p: p.vault_uri or "")
        self.encryption_identity_id = identity.id
        self.encryption_identity_client_id = identity.client_id
        self.encryption_identity_principal_id = identity.principal_id
        # The project's Keys ("keys") names its vault's targets "vault", as before a
        # second Keys (the recovery region's) existed; another is named after itself.
        target = "vault" if name == "keys" else f"{name}-vault"
        self.diagnostic_targets = [DiagnosticTarget(target, vault.id)]
        self.private_link = PrivateLinkTarget(
            target,
            vault.id,
            "vault",
            (cloud_suffixes(args.location).key_vault,),
        )
        self.register_outputs(
            {
                "vault_id": self.vault_id,
                "vault_uri": self.vault_uri,
                "key_ids": self.key_ids,
                "encryption_identity_id": self.encryption_identity_id,
            }
        )

    def cmk(self, purpose: Purpose) -> CustomerManagedKey:
        """The key of ``purpose`` with the identity that encrypts with it."""
        if purpose not in self.key_names:
            raise KeyError(f"this Keys component has no {purpose!r} key")
        return CustomerManagedKey(
            key_name=self.key_names[purpose],
            vault_uri=self.vault_uri,
            identity_id=self.encryption_identity_id,
            identity_client_id=self.encryption_identity_client_id,
            grants=self._grants[purpose],
        )


#: Key attributes Azure applies only when it creates a key: Pulumi keeps the values it
#: created the key with, so changing ``created_on`` or the lifetime later shows no diff
#: that Azure Resource Manager would silently not apply. Rotated versions take their
#: expiry from the rotation policy instead.
_FIRST_VERSION_ONLY = ["properties.attributes.notBefore", "properties.attributes.expires"]


def _first_version_attributes(
    created_on: dt.date, lifetime_days: int
) -> azure_native.keyvault.KeyAttributesArgs:
    """Attributes of a key's first version: enabled, not exportable, valid from midnight
    UTC of ``created_on`` for ``lifetime_days`` (Key Vault's dates are epoch seconds)."""
    start = dt.datetime.combine(created_on, dt.time(), tzinfo=dt.UTC)
    return azure_native.keyvault.KeyAttributesArgs(
        enabled=True,
        exportable=False,
        not_before=int(start.timestamp()),
        expires=int((start + dt.timedelta(days=lifetime_days)).timestamp()),
    )


def _rotation_policy(
    rotation_days: int, grace_days: int
) -> azure_native.keyvault.RotationPolicyArgs:
    return azure_native.keyvault.RotationPolicyArgs(
        attributes=azure_native.keyvault.KeyRotationPolicyAttributesArgs(
            expiry_time=f"P{rotation_days + grace_days}D"
        ),
        lifetime_actions=[
            azure_native.keyvault.LifetimeActionArgs(
                action=azure_native.keyvault.ActionArgs(
                    type=azure_native.keyvault.KeyRotationPolicyActionType.ROTATE
                ),
                trigger=azure_native.keyvault.TriggerArgs(time_after_create=f"P{rotation_days}D"),
            ),
            azure_native.keyvault.LifetimeActionArgs(
                action=azure_native.keyvault.ActionArgs(
                    type=azure_native.keyvault.KeyRotationPolicyActionType.NOTIFY
                ),
                trigger=azure_native.keyvault.TriggerArgs(time_before_expiry="P7D"),
            ),
        ],
    )
