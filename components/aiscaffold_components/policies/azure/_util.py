"""Shared helpers of the Azure policies: type tokens, resource ids, durations.

Stack policies relate resources through Azure resource ids (a diagnostic setting's
``resourceUri``, a private endpoint's ``privateLinkServiceId``, a role's ``scope``). A
resource's own inputs carry its name, not its id, so :func:`refers_to` compares the
id's tail (``vaults/<name>/keys/<name>``) with the path the resource's names give.
Azure names are case-insensitive; so is the comparison.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._core import Resource

# ------------------------------------------------------------------ type tokens
VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
SECRET = "azure-native:keyvault:Secret"  # noqa: S105 - a type token
STORAGE = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
CONTAINER = "azure-native:storage:BlobContainer"
LIFECYCLE = "azure-native:storage:ManagementPolicy"
AI_ACCOUNT = "azure-native:cognitiveservices:Account"
DEPLOYMENT = "azure-native:cognitiveservices:Deployment"
RAI_POLICY = "azure-native:cognitiveservices:RaiPolicy"
BLOCKLIST = "azure-native:cognitiveservices:RaiBlocklist"
BLOCKLIST_ITEM = "azure-native:cognitiveservices:RaiBlocklistItem"
NSG = "azure-native:network:NetworkSecurityGroup"
SECURITY_RULE = "azure-native:network:SecurityRule"
SUBNET = "azure-native:network:Subnet"
VNET = "azure-native:network:VirtualNetwork"
NAT_GATEWAY = "azure-native:network:NatGateway"
PUBLIC_IP = "azure-native:network:PublicIPAddress"
FLOW_LOG = "azure-native:network:FlowLog"
ENDPOINT = "azure-native:network:PrivateEndpoint"
ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
ZONE = "azure-native:privatedns:PrivateZone"
ZONE_LINK = "azure-native:privatedns:VirtualNetworkLink"
WORKSPACE = "azure-native:operationalinsights:Workspace"
TABLE = "azure-native:operationalinsights:Table"
DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"
ACTIVITY_LOG = "azure-native:monitor:SubscriptionDiagnosticSetting"
ROLE = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
REPLICATION = "azure-native:storage:ObjectReplicationPolicy"
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
GROUP_LOCK = "azure-native:authorization:ManagementLockAtResourceGroupLevel"
SCOPE_LOCK = "azure-native:authorization:ManagementLockByScope"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
SYSTEM_TOPIC = "azure-native:eventgrid:SystemTopic"

#: Per type, the (id collection, name input) pairs of its resource id's tail; a name
#: input of ``None`` stands for the fixed name ``default``.
_ID_PATHS: dict[str, tuple[tuple[str, str | None], ...]] = {
    VAULT: (("vaults", "vaultName"),),
    KEY: (("vaults", "vaultName"), ("keys", "keyName")),
    SECRET: (("vaults", "vaultName"), ("secrets", "secretName")),
    STORAGE: (("storageaccounts", "accountName"),),
    BLOB_SERVICE: (("storageaccounts", "accountName"), ("blobservices", None)),
    CONTAINER: (
        ("storageaccounts", "accountName"),
        ("blobservices", None),
        ("containers", "containerName"),
    ),
    AI_ACCOUNT: (("accounts", "accountName"),),
    NSG: (("networksecuritygroups", "networkSecurityGroupName"),),
    VNET: (("virtualnetworks", "virtualNetworkName"),),
    PUBLIC_IP: (("publicipaddresses", "publicIpAddressName"),),
    NAT_GATEWAY: (("natgateways", "natGatewayName"),),
    SUBNET: (("virtualnetworks", "virtualNetworkName"), ("subnets", "subnetName")),
    WORKSPACE: (("workspaces", "workspaceName"),),
    ZONE: (("privatednszones", "privateZoneName"),),
    ENDPOINT: (("privateendpoints", "privateEndpointName"),),
    IDENTITY: (("userassignedidentities", "resourceName"),),
    SYSTEM_TOPIC: (("systemtopics", "systemTopicName"),),
}

#: Per type, the input holding the resource's own Azure name.
_OWN_NAME: dict[str, str] = {
    **{t: spec[-1][1] for t, spec in _ID_PATHS.items() if spec[-1][1] is not None},
    BLOB_SERVICE: "blobServicesName",
    DEPLOYMENT: "deploymentName",
    RAI_POLICY: "raiPolicyName",
    BLOCKLIST: "raiBlocklistName",
    BLOCKLIST_ITEM: "raiBlocklistItemName",
    LIFECYCLE: "managementPolicyName",
    RESOURCE_GROUP: "resourceGroupName",
    ZONE_GROUP: "privateDnsZoneGroupName",
    ZONE_LINK: "virtualNetworkLinkName",
    FLOW_LOG: "flowLogName",
    SECURITY_RULE: "securityRuleName",
    TABLE: "tableName",
    REPLICATION: "objectReplicationPolicyId",
}
#: Name inputs of a parent, and the id collections that name it.
_PARENT_COLLECTIONS: dict[str, tuple[str, ...]] = {
    "vaultName": ("vaults",),
    "accountName": ("storageaccounts", "accounts"),
    "raiBlocklistName": ("raiblocklists",),
    "privateEndpointName": ("privateendpoints",),
    "privateZoneName": ("privatednszones",),
    "workspaceName": ("workspaces",),
    "networkSecurityGroupName": ("networksecuritygroups",),
    "networkWatcherName": ("networkwatchers",),
    "virtualNetworkName": ("virtualnetworks",),
    "resourceGroupName": ("resourcegroups",),
}

Path = tuple[tuple[str, str], ...]


def id_path(resource_id: str) -> Path:
    """The ``(collection, name)`` pairs at the end of an Azure resource id, lowercased.

    ``/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v/keys/k``
    gives ``(("vaults", "v"), ("keys", "k"))``; an id without a provider part (a
    resource group, a subscription) gives its own pairs from the start.
    """
    parts = [p for p in resource_id.strip().split("/") if p]
    lowered = [p.lower() for p in parts]
    start = 0
    if "providers" in lowered:
        start = len(lowered) + 1 - lowered[::-1].index("providers")
    tail = lowered[start:]
    return tuple((tail[i], tail[i + 1]) for i in range(0, len(tail) - 1, 2))


def own_path(resource: Resource) -> Path | None:
    """The id tail ``resource`` has, from its names (None: unnamed)."""
    spec = _ID_PATHS.get(resource.type)
    if spec is None:
        return None
    path: list[tuple[str, str]] = []
    for collection, key in spec:
        name = "default" if key is None else name_of(resource, key)
        if not name:
            return None
        path.append((collection, name))
    return tuple(path)


def refers_to(resource_id: Any, resource: Resource) -> bool:
    """Whether the resource id ``resource_id`` names ``resource``."""
    if not isinstance(resource_id, str) or not resource_id:
        return False
    path = own_path(resource)
    return path is not None and id_path(resource_id) == path


def find(resource_id: Any, candidates: Iterable[Resource]) -> Resource | None:
    """The resource among ``candidates`` that ``resource_id`` names, if any."""
    return next((r for r in candidates if refers_to(resource_id, r)), None)


def of_type(resources: Sequence[Resource], *types: str) -> list[Resource]:
    return [r for r in resources if r.type in types]


def azure_resources(resources: Sequence[Resource]) -> list[Resource]:
    return [r for r in resources if r.type.startswith("azure-native:")]


def _segment(resource_id: str, collections: tuple[str, ...]) -> str:
    parts = [p.lower() for p in resource_id.split("/") if p]
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] in collections:
            return parts[index + 1]
    return ""


def name_of(resource: Resource, key: str) -> str:
    """The Azure name in input ``key`` of ``resource`` (its own or a parent's),
    lowercased; "" when unnamed.

    Resource policies see inputs, which name a resource and its parents
    (``vaultName``, ``keyName``). Stack policies under the Pulumi engine see outputs,
    which have ``name`` and ``id`` instead: the name is then read from those.
    """
    value = resource.get(key)
    if isinstance(value, str) and value:
        return value.lower()
    if key == _OWN_NAME.get(resource.type):
        own = resource.get("name")
        if isinstance(own, str) and own:
            return own.lower()
    collections = _PARENT_COLLECTIONS.get(key)
    if collections and "id" in resource.props:
        resource_id = resource.get("id")
        if isinstance(resource_id, str):
            return _segment(resource_id, collections)
    return ""


def listed(value: Any) -> list[Any]:
    """A list input as a list (identity maps give their keys)."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return list(value)
    if isinstance(value, str):
        return [value]
    return list(value)


# ------------------------------------------------------------------ durations
_DURATION = re.compile(
    r"^P(?:(?P<y>\d+)Y)?(?:(?P<m>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<min>\d+)M)?(?:(?P<s>\d+)S)?)?$"
)


def duration_days(value: Any) -> float | None:
    """Days of an ISO 8601 duration (``P90D``, ``P1Y``, ``P2M``); None if not one.

    Years count 365 days and months 30, as Key Vault's rotation policies do.
    """
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value.strip().upper())
    if match is None or value.strip().upper() in ("P", "PT"):
        return None
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    return (
        parts.get("y", 0) * 365
        + parts.get("m", 0) * 30
        + parts.get("w", 0) * 7
        + parts.get("d", 0)
        + parts.get("h", 0) / 24
        + parts.get("min", 0) / 1440
        + parts.get("s", 0) / 86400
    )


def days(value: float) -> str:
    return f"{value:g} days"


# ------------------------------------------------------------------ network prefixes
#: Source or destination prefixes that stand for the internet in a security rule.
INTERNET = frozenset({"*", "internet", "any", "0.0.0.0/0", "::/0"})


def prefixes(rule: Mapping[str, Any], side: str) -> list[str]:
    """The address prefixes of one side (``source``/``destination``) of a rule."""
    single = rule.get(f"{side}AddressPrefix")
    many = rule.get(f"{side}AddressPrefixes") or []
    values = [single] if isinstance(single, str) and single else []
    values.extend(str(v) for v in many)
    return [v.strip().lower() for v in values]


def ports(rule: Mapping[str, Any]) -> list[str]:
    single = rule.get("destinationPortRange")
    many = rule.get("destinationPortRanges") or []
    values = [single] if isinstance(single, str) and single else []
    values.extend(str(v) for v in many)
    return [v.strip() for v in values]


# ------------------------------------------------------------------ data zones
#: Tag naming a storage account's data zone (issue 17); an untagged account that no log
#: writes to is the curated zone (the project's original data account).
ZONE_TAG = "data-zone"


def zone_of(account: Resource) -> str:
    """``raw``, ``curated``, ``model-artifacts`` or ``replica`` (log accounts aside)."""
    tags = account.get("tags", default={})
    zone = tags.get(ZONE_TAG) if isinstance(tags, Mapping) else None
    return str(zone) if zone else "curated"
