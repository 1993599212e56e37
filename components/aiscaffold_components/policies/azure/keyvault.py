"""Key Vault: a private, RBAC-only, purge-protected vault; rotating, strong, used keys;
secrets that expire.

The vault may let trusted Azure services through its firewall (``AzureServices``) only
when it holds customer-managed keys that Storage or Cognitive Services unwrap from it
(AZURE-KV-004). Keys for client-side encryption (``encrypt``/``decrypt`` only, such as
the Pulumi secrets provider's key) need no consumer in the stack (AZURE-KV-016). A
2048-bit RSA key is accepted only HSM-backed and only for Azure AI services, which take
no larger key (AZURE-KV-013).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import (
    AI_ACCOUNT,
    KEY,
    SECRET,
    STORAGE,
    VAULT,
    days,
    duration_days,
    listed,
    name_of,
    of_type,
)

#: Key Vault keeps deleted vaults, keys and secrets at most this long (KEY-03: the
#: longest window).
SOFT_DELETE_MAX_DAYS = 90
#: A key version may outlive its scheduled rotation by this many days at most.
EXPIRY_GRACE_DAYS = 30
#: RSA keys are at least this large (NIST SP 800-57: 128-bit security).
RSA_MIN_BITS = 3072
#: Azure AI services accept only 2048-bit RSA keys.
AI_RSA_BITS = 2048
_EC_CURVES = ("P-256", "P-384", "P-521")
_HSM_TYPES = ("RSA-HSM", "EC-HSM", "oct-HSM")
#: Key operations of a key that encrypts data for a client (not a service's CMK).
CLIENT_OPS = frozenset({"encrypt", "decrypt"})
_DAY_SECONDS = 86400


# ------------------------------------------------------------------ vault
@resource_policy(
    id="AZURE-KV-001",
    title="Key Vault authorizes data access with Azure RBAC only",
    severity="high",
    types=[VAULT],
    controls=["KEY-04", "SEC-02"],
    remediation="Set properties.enableRbacAuthorization true and remove accessPolicies; "
    "grant data-plane roles at key or vault scope (Keys does).",
)
def vault_rbac(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Access policies grant vault-wide permissions outside Azure RBAC and its audit
    trail; with RBAC authorization, keys and secrets are reachable only through role
    assignments at the narrowest scope."""
    if resource.get("properties", "enableRbacAuthorization") is not True:
        yield "enableRbacAuthorization is not true: access policies decide who reads keys"
    if resource.items("properties", "accessPolicies"):
        yield "the vault has access policies; use Azure RBAC role assignments instead"


@resource_policy(
    id="AZURE-KV-002",
    title="Key Vault has purge protection and the longest soft-delete window",
    severity="high",
    types=[VAULT],
    controls=["KEY-03"],
    remediation="Set properties.enablePurgeProtection true and softDeleteRetentionInDays 90 "
    "(or leave it unset: 90 is Azure's default); never set enableSoftDelete false.",
)
def vault_deletion(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Deleted keys stay recoverable and cannot be purged before the window ends, so a
    mistaken or malicious delete cannot destroy data encrypted with them."""
    props = ("properties",)
    if resource.get(*props, "enablePurgeProtection") is not True:
        yield "purge protection is off: deleted keys can be purged at once"
    if resource.get(*props, "enableSoftDelete") is False:
        yield "soft delete is disabled"
    required = max(SOFT_DELETE_MAX_DAYS, requirements.setting("key_deletion_window_days"))
    window = resource.get(*props, "softDeleteRetentionInDays", default=SOFT_DELETE_MAX_DAYS)
    if window < required:
        yield f"soft delete keeps deleted keys {days(window)}; {days(required)} required"


@resource_policy(
    id="AZURE-KV-003",
    title="Key Vault refuses public network access",
    severity="high",
    types=[VAULT],
    controls=["PE-03"],
    remediation="Set properties.publicNetworkAccess Disabled and networkAcls "
    "{defaultAction: Deny, bypass: None or AzureServices, no ipRules or virtualNetworkRules}; "
    "reach the vault through a private endpoint.",
)
def vault_network(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The vault is reached only through its private endpoint: public network access
    disabled and a default-deny firewall without IP or VNet rules."""
    props = ("properties",)
    if resource.get(*props, "publicNetworkAccess") != "Disabled":
        yield "publicNetworkAccess is not Disabled"
    acls = ("properties", "networkAcls")
    if resource.get(*acls, "defaultAction") != "Deny":
        yield "the firewall's default action is not Deny"
    if resource.items(*acls, "ipRules") or resource.items(*acls, "virtualNetworkRules"):
        yield "the firewall admits IP ranges or subnets; use the private endpoint only"
    bypass = resource.get(*acls, "bypass", default="AzureServices")
    if bypass not in ("None", "AzureServices"):
        yield f"firewall bypass {bypass!r} is neither None nor AzureServices"


@stack_policy(
    id="AZURE-KV-004",
    title="Key Vault lets trusted Azure services through only to unwrap its CMKs",
    severity="medium",
    controls=["PE-03"],
    remediation="Set the vault's networkAcls.bypass to None unless Storage or Cognitive "
    "Services accounts of the stack encrypt with its keys (Keys(trusted_services_bypass=...)).",
)
def vault_bypass(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """The ``AzureServices`` bypass (Azure's default when none is given) is the way
    Storage and Azure AI services reach a customer-managed key behind a private vault;
    a vault that serves no such key keeps every trusted service out."""
    vaults = of_type(resources, VAULT)
    if not vaults:
        raise NotApplicable("no Key Vault")
    for vault in vaults:
        bypass = vault.get("properties", "networkAcls", "bypass", default="AzureServices")
        if bypass != "AzureServices":
            continue
        if not _serves_cmk(vault, resources):
            yield (
                vault,
                f"{vault.name} lets trusted Azure services through its firewall, but no "
                "storage or AI account of the stack encrypts with its keys",
            )


def _vault_host(uri: object) -> str:
    text = str(uri or "").lower().removeprefix("https://")
    return text.split(".", 1)[0]


def cmk_reference(consumer: Resource) -> tuple[str, str] | None:
    """(vault name, key name) of the CMK a storage or AI account encrypts with."""
    if consumer.type == STORAGE:
        props = consumer.get("encryption", "keyVaultProperties")
    elif consumer.type == AI_ACCOUNT:
        props = consumer.get("properties", "encryption", "keyVaultProperties")
    else:
        return None
    if not props:
        return None
    uri, key = props.get("keyVaultUri"), props.get("keyName")
    if not isinstance(key, str) or not uri:
        return None
    return _vault_host(uri), key.lower()


def _consumers(resources: Sequence[Resource]) -> list[tuple[Resource, tuple[str, str]]]:
    out = []
    for consumer in of_type(resources, STORAGE, AI_ACCOUNT):
        reference = cmk_reference(consumer)
        if reference is not None:
            out.append((consumer, reference))
    return out


def _serves_cmk(vault: Resource, resources: Sequence[Resource]) -> bool:
    name = name_of(vault, "vaultName")
    return bool(name) and any(ref[0] == name for _, ref in _consumers(resources))


@resource_policy(
    id="AZURE-KV-005",
    title="Key Vault is closed to VM deployment, disk encryption and ARM templates",
    severity="medium",
    types=[VAULT],
    controls=["SEC-02", "KEY-04"],
    remediation="Set properties.enabledForDeployment, enabledForDiskEncryption and "
    "enabledForTemplateDeployment false (or leave them unset).",
)
def vault_platform_access(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """These switches let the compute, disk encryption and ARM deployment services read
    secrets and keys outside the role assignments that name the workload."""
    for flag in (
        "enabledForDeployment",
        "enabledForDiskEncryption",
        "enabledForTemplateDeployment",
    ):
        if resource.get("properties", flag) is True:
            yield f"{flag} is true: a platform service may read the vault's secrets"


@resource_policy(
    id="AZURE-KV-006",
    title="Key Vault is Premium when keys must be HSM-backed",
    severity="medium",
    types=[VAULT],
    controls=["KEY-05"],
    remediation="Use the premium SKU (properties.sku.name premium): only Premium vaults "
    "hold RSA-HSM keys.",
)
def vault_premium(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """HSM-protected keys exist only in Premium vaults (or Managed HSM)."""
    if not requirements.setting("hsm_keys"):
        raise NotApplicable("the profile does not ask for HSM-backed keys")
    sku = str(resource.get("properties", "sku", "name", default="")).lower()
    if sku != "premium":
        yield f"the vault's SKU is {sku or 'unset'}; HSM-backed keys need premium"


# ------------------------------------------------------------------ keys
def _rotation_age(resource: Resource) -> float | None:
    """Days after creation at which the key's rotation policy rotates it."""
    policy = ("properties", "rotationPolicy")
    expiry = duration_days(resource.get(*policy, "attributes", "expiryTime"))
    ages = []
    for action in resource.items(*policy, "lifetimeActions"):
        if str(action.get("action", {}).get("type", "")).lower() != "rotate":
            continue
        trigger = action.get("trigger") or {}
        after = duration_days(trigger.get("timeAfterCreate"))
        before = duration_days(trigger.get("timeBeforeExpiry"))
        if after is not None:
            ages.append(after)
        elif before is not None and expiry is not None:
            ages.append(expiry - before)
    return min(ages) if ages else None


@resource_policy(
    id="AZURE-KV-010",
    title="Keys rotate automatically within the profile's period",
    severity="high",
    types=[KEY],
    controls=["KEY-02"],
    remediation="Give the key a rotation policy with a Rotate action at most "
    "key_rotation_days after creation (Keys(rotation_days=profile.key_rotation_days)).",
)
def key_rotation(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Key Vault creates a new key version at least every `key_rotation_days` days, and
    services given the versionless key follow it."""
    required = requirements.setting("key_rotation_days")
    age = _rotation_age(resource)
    if age is None:
        yield f"the key never rotates (no Rotate action); rotate within {days(required)}"
    elif age > required:
        yield f"the key rotates after {days(age)}; the profile requires {days(required)}"


@resource_policy(
    id="AZURE-KV-011",
    title="Key versions expire soon after their rotation",
    severity="medium",
    types=[KEY],
    controls=["KEY-02"],
    remediation="Set rotationPolicy.attributes.expiryTime to the rotation period plus a "
    f"grace of at most {EXPIRY_GRACE_DAYS} days, and the first version's "
    "properties.attributes notBefore (its creation day) and expires (that long after it) "
    "(Keys(created_on=..., expiry_grace_days=30)).",
)
def key_expiry(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Every key version gets an expiry, so a version that failed to rotate stops
    encrypting new data: at most `key_rotation_days` plus a month after creation. The
    rotation policy's expiry applies only to the versions Key Vault rotates to; the
    first version carries its own in its attributes, or it never expires."""
    limit = requirements.setting("key_rotation_days") + EXPIRY_GRACE_DAYS
    raw = resource.get("properties", "rotationPolicy", "attributes", "expiryTime")
    expiry = duration_days(raw)
    if expiry is None:
        yield "key versions never expire (no rotationPolicy.attributes.expiryTime)"
    elif expiry > limit:
        yield f"key versions expire after {days(expiry)}; at most {days(limit)} allowed"
    attributes = ("properties", "attributes")
    expires = resource.get(*attributes, "expires")
    not_before = resource.get(*attributes, "notBefore")
    if expires is None:
        yield "the key's first version never expires (no properties.attributes.expires)"
    elif not_before is None:
        yield (
            "the key's first version has no notBefore: its validity cannot be checked "
            "against the rotation period"
        )
    elif expires <= not_before:
        yield "the key's first version expires before it becomes valid"
    elif (expires - not_before) / _DAY_SECONDS > limit:
        valid = (expires - not_before) / _DAY_SECONDS
        yield f"the key's first version stays valid {days(valid)}; at most {days(limit)} allowed"


@resource_policy(
    id="AZURE-KV-012",
    title="Keys notify before a version expires",
    severity="low",
    types=[KEY],
    controls=["KEY-02"],
    remediation="Add a Notify lifetime action (trigger timeBeforeExpiry, e.g. P7D) to the "
    "key's rotation policy and route the vault's Event Grid events to the team.",
)
def key_notify(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A near-expiry event tells the team in time when a rotation did not happen, before
    the services that encrypt with the key stop working."""
    actions = resource.items("properties", "rotationPolicy", "lifetimeActions")
    if not any(str(a.get("action", {}).get("type", "")).lower() == "notify" for a in actions):
        yield "the rotation policy has no Notify action before expiry"


def _key_shape(resource: Resource) -> tuple[str, float | None, str]:
    props = ("properties",)
    return (
        str(resource.get(*props, "kty", default="")),
        resource.get(*props, "keySize"),
        str(resource.get(*props, "curveName", default="")),
    )


@stack_policy(
    id="AZURE-KV-013",
    title="Keys are strong: RSA 3072+ or an HSM-backed 2048-bit key for Azure AI",
    severity="high",
    controls=["KEY-01"],
    remediation="Create RSA keys of 3072 or 4096 bits (or EC P-256/P-384/P-521); only the "
    "key of an Azure AI services account may be RSA-HSM 2048, the size that service accepts.",
)
def key_strength(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """RSA keys give 128-bit security from 3072 bits. Azure AI services accept only
    2048-bit RSA keys, so their key may be 2048 bits when it never leaves an HSM and
    serves nothing else."""
    keys = of_type(resources, KEY)
    if not keys:
        raise NotApplicable("no Key Vault keys")
    for key in keys:
        kty, size, curve = _key_shape(key)
        if not kty:
            yield key, f"{key.name} states no key type (kty)"
        elif kty.startswith("RSA"):
            if size is None:
                yield key, f"{key.name} states no key size; RSA keys need {RSA_MIN_BITS} bits"
            elif size < AI_RSA_BITS or (size < RSA_MIN_BITS and kty != "RSA-HSM"):
                yield key, f"{key.name} is {kty} {size:g}; RSA keys need {RSA_MIN_BITS} bits"
            elif size < RSA_MIN_BITS:
                users = _users_of(key, resources)
                if not users or any(u.type != AI_ACCOUNT for u in users):
                    yield (
                        key,
                        f"{key.name} is RSA-HSM {size:g}: only a key serving Azure AI "
                        f"accounts alone may be smaller than {RSA_MIN_BITS} bits",
                    )
        elif kty.startswith("EC") and curve not in _EC_CURVES:
            yield key, f"{key.name} uses curve {curve or 'unset'}; use P-256, P-384 or P-521"


def _users_of(key: Resource, resources: Sequence[Resource]) -> list[Resource]:
    reference = (name_of(key, "vaultName"), name_of(key, "keyName"))
    return [consumer for consumer, ref in _consumers(resources) if ref == reference]


@resource_policy(
    id="AZURE-KV-014",
    title="Keys are HSM-backed when the profile asks for it",
    severity="high",
    types=[KEY],
    controls=["KEY-05"],
    remediation="Use kty RSA-HSM (or EC-HSM) in a Premium vault (Keys(hsm_keys=True)).",
)
def key_hsm(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """For restricted data, key material is generated and used only inside FIPS 140-3
    validated HSMs."""
    if not requirements.setting("hsm_keys"):
        raise NotApplicable("the profile does not ask for HSM-backed keys")
    kty = str(resource.get("properties", "kty", default=""))
    if kty not in _HSM_TYPES:
        yield f"the key is {kty or 'of no stated type'}, not HSM-backed (RSA-HSM, EC-HSM)"


@resource_policy(
    id="AZURE-KV-015",
    title="Key material cannot be exported",
    severity="medium",
    types=[KEY],
    controls=["KEY-04"],
    remediation="Leave properties.attributes.exportable false and set no release policy.",
)
def key_not_exportable(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """An exportable key (with a release policy) can leave the vault; the project's keys
    are only ever used inside it."""
    if resource.get("properties", "attributes", "exportable") is True:
        yield "the key is exportable"
    if resource.get("properties", "releasePolicy"):
        yield "the key has a release policy: its material can leave the vault"


@stack_policy(
    id="AZURE-KV-016",
    title="Every customer-managed key encrypts something",
    severity="medium",
    controls=["KEY-01"],
    remediation="Pass each key to the account it is for (SecureStorageArgs(cmk=keys.cmk(...)), "
    "OpenAIAccountArgs(cmk=...)) or remove it; a key for client-side encryption lists only "
    "the encrypt and decrypt operations.",
)
def keys_used(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A key made for a service that no account uses means that account encrypts with
    Microsoft-managed keys instead. Keys whose only operations are encrypt and decrypt
    serve clients (the Pulumi secrets provider) and need no consumer in the stack."""
    keys = of_type(resources, KEY)
    if not keys:
        raise NotApplicable("no Key Vault keys")
    used = {ref for _, ref in _consumers(resources)}
    for key in keys:
        ops = {str(op) for op in listed(key.get("properties", "keyOps"))}
        if ops and ops <= CLIENT_OPS:
            continue
        if (name_of(key, "vaultName"), name_of(key, "keyName")) not in used:
            yield key, f"{key.name} is not the customer-managed key of any account"


# ------------------------------------------------------------------ secrets


@resource_policy(
    id="AZURE-KV-020",
    title="Secrets expire within the profile's rotation period",
    severity="high",
    types=[SECRET],
    controls=["SEC-03"],
    remediation="Set properties.attributes.notBefore to when the value was set and expires "
    "at most secret_rotation_days later (Secrets(expiry_days=profile.secret_rotation_days)); "
    "set a new value before it expires.",
)
def secret_expiry(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Each secret is marked valid from the day its value was set for at most
    `secret_rotation_days` days. Key Vault records the expiry and announces it
    (SecretNearExpiry) but still returns the value after it
    (https://github.com/Azure/AzureKeyVault/issues/19): this is the schedule a rotation
    keeps, not the rotation itself, which AZURE-SECRETS-001 judges."""
    required = requirements.setting("secret_rotation_days")
    attributes = ("properties", "attributes")
    expires = resource.get(*attributes, "expires")
    not_before = resource.get(*attributes, "notBefore")
    if expires is None:
        yield "the secret never expires (no attributes.expires)"
    elif not_before is None:
        yield "the secret has no notBefore: its validity cannot be checked against the period"
    elif (expires - not_before) / _DAY_SECONDS > required:
        valid = (expires - not_before) / _DAY_SECONDS
        yield f"the secret stays valid {days(valid)}; the profile allows {days(required)}"


@stack_policy(
    id="AZURE-KV-021",
    title="Secrets live in a Key Vault the project manages",
    severity="medium",
    controls=["SEC-01"],
    remediation="Create secrets in the project's vault (Secrets(vault_name=keys.vault_name)), "
    "whose RBAC, network and deletion settings the pack checks.",
)
def secrets_in_project_vault(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A secret written into a vault outside the stack escapes every vault check
    (RBAC only, private, purge protection) this pack makes."""
    secrets = of_type(resources, SECRET)
    if not secrets:
        raise NotApplicable("no Key Vault secrets")
    vaults = {name_of(v, "vaultName") for v in of_type(resources, VAULT)}
    for secret in secrets:
        if name_of(secret, "vaultName") not in vaults:
            yield secret, f"{secret.name} is in a vault this stack does not manage"
