"""State backend of azure-openai-gdpr: where Pulumi keeps the stacks' state, and the key
that encrypts their secrets.

A storage account (public network access disabled, Entra ID only, encrypted with a
customer-managed key, versioned, soft-deleted blobs) with a `state` container, and a
Key Vault key for the `azurekeyvault://` secrets provider. Both are reached through
private endpoints only: run `pulumi login` and the project's deployments from inside
this network (a self-hosted CI runner in the `workload` subnet, a peered network or a
VPN). The same components and policy pack as the project's program apply: the backend
gets the project's profile (Pulumi.bootstrap.yaml), logging and deletion protection.

    pulumi up
    pulumi stack output backend_url        # azblob://state?storage_account=...
    pulumi stack output secrets_provider   # azurekeyvault://<vault>.vault.azure.net/keys/...
"""

import datetime as dt

import pulumi
import pulumi_azure_native as azure_native
from aiscaffold_components.azure import (
    AuditLogging,
    AuditLoggingArgs,
    FlowLogArgs,
    Keys,
    KeysArgs,
    Network,
    NetworkArgs,
    PrivateEndpoints,
    PrivateEndpointsArgs,
    SecureStorage,
    SecureStorageArgs,
)
from aiscaffold_components.profile import Profile

config = pulumi.Config()
profile = Profile.from_config(config)
location = profile.region
tags = profile.tags
CONTAINER = "state"
SECRETS_KEY = "pulumi-secrets"

# Resource group (always locked: every stack's state lives here), VNet and subnets
# whose security groups deny the internet.
network = Network(
    "network",
    NetworkArgs(
        location=location,
        tags=tags,
        allowed_locations=profile.allowed_regions,
        resource_group_name=f"rg-{pulumi.get_project()}",
        lock_resource_group=True,
    ),
)
group = network.resource_group_name

# Key Vault with the keys of the state account and of its logs. Each key's first version
# is valid from keys_created_on for key_rotation_days + 30 days, like every rotated
# version; Azure sets that only when it creates a key, so pin the day of the first
# deployment (pulumi config set keys_created_on "$(date -u +%F)").
keys_created_on = config.get("keys_created_on")
created_on = (
    dt.date.fromisoformat(keys_created_on) if keys_created_on else dt.datetime.now(dt.UTC).date()
)
keys = Keys(
    "keys",
    KeysArgs(
        resource_group_name=group,
        location=location,
        created_on=created_on,
        tags=tags,
        purposes=("data", "logs"),
        rotation_days=profile.key_rotation_days,
        hsm_keys=profile.hsm_keys,
        # Storage reaches its customer-managed keys through the vault's firewall as a
        # trusted Azure service.
        trusted_services_bypass=True,
    ),
)

# The key of the secrets provider: Pulumi encrypts each stack's data key with it
# (encrypt/decrypt, not a service's wrap/unwrap). It rotates like the others; the
# exported URL names the current version, which keeps decrypting after rotation (see
# the README: re-encrypt with `pulumi stack change-secrets-provider` after a rotation).
# Protected: without it no stack's secrets can be read.
expiry_days = profile.key_rotation_days + 30
valid_from = dt.datetime.combine(created_on, dt.time(), tzinfo=dt.UTC)
secrets_key = azure_native.keyvault.Key(
    SECRETS_KEY,
    resource_group_name=group,
    vault_name=keys.vault_name,
    key_name=SECRETS_KEY,
    properties=azure_native.keyvault.KeyPropertiesArgs(
        kty="RSA-HSM" if profile.hsm_keys else "RSA",
        key_size=3072,
        key_ops=["encrypt", "decrypt"],
        # The first version expires like the rotated ones (Key Vault seconds since 1970).
        attributes=azure_native.keyvault.KeyAttributesArgs(
            enabled=True,
            exportable=False,
            not_before=int(valid_from.timestamp()),
            expires=int((valid_from + dt.timedelta(days=expiry_days)).timestamp()),
        ),
        rotation_policy=azure_native.keyvault.RotationPolicyArgs(
            attributes=azure_native.keyvault.KeyRotationPolicyAttributesArgs(
                expiry_time=f"P{expiry_days}D"
            ),
            lifetime_actions=[
                azure_native.keyvault.LifetimeActionArgs(
                    action=azure_native.keyvault.ActionArgs(
                        type=azure_native.keyvault.KeyRotationPolicyActionType.ROTATE
                    ),
                    trigger=azure_native.keyvault.TriggerArgs(
                        time_after_create=f"P{profile.key_rotation_days}D"
                    ),
                ),
                azure_native.keyvault.LifetimeActionArgs(
                    action=azure_native.keyvault.ActionArgs(
                        type=azure_native.keyvault.KeyRotationPolicyActionType.NOTIFY
                    ),
                    trigger=azure_native.keyvault.TriggerArgs(time_before_expiry="P7D"),
                ),
            ],
        ),
    ),
    tags={**tags, "key-purpose": SECRETS_KEY},
    # Azure applies the attributes only on creation: later runs leave them as created.
    opts=pulumi.ResourceOptions(
        protect=True,
        ignore_changes=["properties.attributes.notBefore", "properties.attributes.expires"],
    ),
)

# The state: private, Entra ID only, CMK-encrypted, versioned; protected from deletion.
state = SecureStorage(
    "state",
    SecureStorageArgs(
        resource_group_name=group,
        location=location,
        cmk=keys.cmk("data"),
        tags=tags,
        containers=(CONTAINER,),
    ),
    opts=pulumi.ResourceOptions(protect=True),
)

# Who reads and changes the state is logged like everything else in the project.
audit = AuditLogging(
    "audit",
    AuditLoggingArgs(
        resource_group_name=group,
        location=location,
        cmk=keys.cmk("logs"),
        tags=tags,
        retention_days=profile.log_retention_days,
        lock_immutability=profile.immutable_logs and bool(config.get_bool("lock_log_archive")),
        diagnostic_targets=[
            *network.diagnostic_targets,
            *keys.diagnostic_targets,
            *state.diagnostic_targets,
        ],
        flow_logs=FlowLogArgs(vnet_id=network.vnet_id),
    ),
)

PrivateEndpoints(
    "endpoints",
    PrivateEndpointsArgs(
        resource_group_name=group,
        location=location,
        tags=tags,
        vnet_id=network.vnet_id,
        subnet_id=network.private_endpoint_subnet_id,
        targets=[keys.private_link, state.private_link, *audit.private_links],
    ),
)

pulumi.export(
    "backend_url", pulumi.Output.concat("azblob://", CONTAINER, "?storage_account=", state.account_name)
)
pulumi.export(
    "secrets_provider",
    secrets_key.key_uri_with_version.apply(lambda uri: "azurekeyvault://" + uri.removeprefix("https://")),
)

