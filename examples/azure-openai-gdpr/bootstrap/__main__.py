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

Optionally (`ci_repository`), the CI deploy identity: a user-assigned managed identity
GitHub Actions signs in as by OIDC federation (no secret), with the role assignments of
../deployer-permissions/azure.json and the use of this state backend:

    pulumi config set ci_repository <owner>/<repository>
    pulumi config set ci_environment sandbox      # the GitHub environment trusted (default)
    pulumi up
    pulumi stack output ci_client_id              # -> variable SANDBOX_AZURE_CLIENT_ID
    pulumi stack output ci_tenant_id              # -> variable SANDBOX_AZURE_TENANT_ID
"""

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

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
        # Whoever runs `pulumi up` here gets Key Vault Crypto Officer on the vault to
        # create its keys (a CI service principal: set deployer_principal_type).
        deployer_principal_id=config.get("deployer_object_id"),
        deployer_principal_type=config.get("deployer_principal_type") or "User",
    ),
)

# The key of the secrets provider: Pulumi encrypts each stack's data key with it
# (encrypt/decrypt, not a service's wrap/unwrap). It rotates like the others; the
# exported URL names the current version, which keeps decrypting after rotation (see
# the README: re-encrypt with `pulumi stack change-secrets-provider` after a rotation).
# Protected: without it no stack's secrets can be read. Created, like the component's
# keys, after the deployer's Key Vault Crypto Officer grant has propagated: Azure
# Resource Manager answers ForbiddenByRbac otherwise.
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
        depends_on=keys.key_creation_ready,
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

# ------------------------------------------------ CI deploy identity (opt-in: ci_repository)
#: GitHub Actions' issuer, and the audience Entra ID exchanges tokens for
#: (https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust-user-assigned-managed-identity).
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
AUDIENCE = "api://AzureADTokenExchange"
#: The project's generated deployer permissions: what the identity is granted.
PERMISSIONS_FILE = Path(__file__).resolve().parent.parent / "deployer-permissions" / "azure.json"
SUBSCRIPTION = "${subscription_id}"
#: Built-in roles the identity needs on this backend (same ids in every tenant,
#: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
#: Resource groups that exist before the project's first deployment: Azure creates
#: NetworkWatcherRG with the region's first virtual network (the bootstrap's own).
_EXISTING_GROUPS = ("NetworkWatcherRG",)
_REPOSITORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")
_GROUP = re.compile(r"^/subscriptions/[^/]+/resourceGroups/([^/]+)", re.IGNORECASE)


def github_subjects(repository: str, environment: str, branches: list[str]) -> list[str]:
    """The `sub` claims trusted: jobs of `environment` (its protection rules decide who
    runs them) and, when listed, of pushes to `branches`; never pull requests, whose
    branches anyone with write access controls. Entra ID matches a subject exactly: no
    wildcard reaches another repository (https://docs.github.com/en/actions/reference/security/oidc).
    """
    if not _REPOSITORY.fullmatch(repository):
        raise ValueError(f"ci_repository must be <owner>/<repository>, got {repository!r}")
    for value in (environment, *branches):
        if not value or set(value) & set("*?:"):
            raise ValueError(f"ci_environment and ci_branches take exact names, got {value!r}")
    return [
        f"repo:{repository}:environment:{environment}",
        *(f"repo:{repository}:ref:refs/heads/{branch}" for branch in branches),
    ]


def grant_scope(entry: dict[str, Any]) -> tuple[str, str | None]:
    """Where an assignment of the document is made, and why not at its own scope.

    The project's resource group is created by the project's stack (one group per stack:
    a deploy smoke test's throw-away stack gets a new one), so it does not exist when the
    bootstrap runs, and Azure refuses an assignment at a missing scope
    ("ResourceGroupNotFound"). Those assignments are made at the subscription, with their
    conditions: the only widening, reported in the `ci_widened_roles` output.
    """
    scope = str(entry["scope"])
    group = _GROUP.match(scope)
    if group is None or group.group(1) in _EXISTING_GROUPS:
        return scope, None
    return f"/subscriptions/{SUBSCRIPTION}", f"{group.group(1)} is created by the project's stack"


ci_repository = config.get("ci_repository")
if ci_repository:
    subjects = github_subjects(
        ci_repository,
        config.get("ci_environment") or "sandbox",
        list(config.get_object("ci_branches") or []),
    )
    if not PERMISSIONS_FILE.is_file():
        raise ValueError(
            f"{PERMISSIONS_FILE.name} is missing: `aiscaffold update` (or `aiscaffold check`) "
            "writes the project's deployer permissions, which the CI identity is granted"
        )
    document: list[dict[str, Any]] = json.loads(PERMISSIONS_FILE.read_text(encoding="utf-8"))
    client = azure_native.authorization.get_client_config_output()
    subscription = client.subscription_id
    ci_identity = azure_native.managedidentity.UserAssignedIdentity(
        "ci-deploy", resource_group_name=group, location=location, tags=tags
    )
    # Entra ID refuses concurrent writes of one identity's federated credentials ("Too many
    # Federated Identity Credentials are written concurrently"): one after the other
    # (https://learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations#concurrent-updates-arent-supported-user-assigned-managed-identities).
    previous: list[pulumi.Resource] = []
    for index, subject in enumerate(subjects):
        credential = azure_native.managedidentity.FederatedIdentityCredential(
            f"ci-deploy-github-{index}",
            resource_group_name=group,
            resource_name_=ci_identity.name,
            federated_identity_credential_resource_name=f"github-{index}",
            issuer=GITHUB_ISSUER,
            subject=subject,
            audiences=[AUDIENCE],
            opts=pulumi.ResourceOptions(depends_on=previous),
        )
        previous = [credential]

    def role_id(guid: str) -> pulumi.Output[str]:
        return pulumi.Output.concat(
            "/subscriptions/", subscription, "/providers/Microsoft.Authorization/roleDefinitions/", guid
        )

    def assign(
        name: str,
        guid: str,
        scope: pulumi.Input[str],
        condition: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        azure_native.authorization.RoleAssignment(
            name,
            principal_id=ci_identity.principal_id,
            # A new identity: without the type, Azure may look the principal up before it
            # has replicated and answer "PrincipalNotFound".
            principal_type=azure_native.authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=role_id(guid),
            scope=scope,
            condition=condition,
            condition_version="2.0" if condition else None,
            opts=opts,
        )

    def in_subscription(scope: str) -> pulumi.Output[str]:
        return subscription.apply(lambda sub: scope.replace(SUBSCRIPTION, sub))

    widened: list[str] = []
    made: set[tuple[str, str]] = set()
    for entry in document:
        if "granted_by_program" in entry:
            # The program grants it to its deployer: set deployer_object_id (ci_principal_id)
            # and deployer_principal_type ServicePrincipal on the project's stacks instead.
            continue
        scope, reason = grant_scope(entry)
        key = (str(entry["role_definition_id"]), scope)
        if key in made:
            continue  # the same role at the subscription already covers it
        made.add(key)
        if reason is not None:
            widened.append(f"{entry['role']}: at the subscription, {reason}")
        slug = re.sub(r"[^a-z0-9]+", "-", f"{entry['role']}-{scope.rsplit('/', 1)[-1]}".lower())
        assign(
            f"ci-deploy-{slug}".rstrip("-"),
            str(entry["role_definition_id"]),
            in_subscription(scope),
            # The Role Based Access Control Administrator keeps its condition: only the
            # roles the program assigns.
            condition=entry.get("condition"),
            # NetworkWatcherRG exists once the bootstrap's network has its flow logs.
            opts=pulumi.ResourceOptions(depends_on=[audit]),
        )
    # What `pulumi login azblob://` and `--secrets-provider azurekeyvault://` need: the
    # state account's blobs and the secrets key, nothing else of this backend.
    assign("ci-deploy-state-blobs", STORAGE_BLOB_DATA_CONTRIBUTOR, state.account_id)
    assign("ci-deploy-secrets-key", KEY_VAULT_CRYPTO_USER, secrets_key.id)
    pulumi.export("ci_client_id", ci_identity.client_id)
    pulumi.export("ci_tenant_id", ci_identity.tenant_id)
    pulumi.export("ci_principal_id", ci_identity.principal_id)
    pulumi.export("ci_subscription_id", subscription)
    pulumi.export("ci_widened_roles", widened)

pulumi.export(
    "backend_url", pulumi.Output.concat("azblob://", CONTAINER, "?storage_account=", state.account_name)
)
pulumi.export(
    "secrets_provider",
    secrets_key.key_uri_with_version.apply(lambda uri: "azurekeyvault://" + uri.removeprefix("https://")),
)

