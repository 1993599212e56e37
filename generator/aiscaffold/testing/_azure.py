"""Azure (pulumi-azure-native) outputs and invokes for the mocks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
CLIENT_ID = "22222222-2222-2222-2222-222222222222"
OBJECT_ID = "33333333-3333-3333-3333-333333333333"

# azure-native module -> resource provider namespace, for plausible resource ids.
_NAMESPACES = {
    "authorization": "Microsoft.Authorization",
    "cognitiveservices": "Microsoft.CognitiveServices",
    "consumption": "Microsoft.Consumption",
    "costmanagement": "Microsoft.CostManagement",
    "insights": "Microsoft.Insights",
    "monitor": "Microsoft.Insights",
    "keyvault": "Microsoft.KeyVault",
    "managedidentity": "Microsoft.ManagedIdentity",
    "network": "Microsoft.Network",
    "operationalinsights": "Microsoft.OperationalInsights",
    "privatedns": "Microsoft.Network",
    "storage": "Microsoft.Storage",
    # The AI gateway (issue 20): API Management, Front Door and its WAF policy.
    "apimanagement": "Microsoft.ApiManagement",
    "cdn": "Microsoft.Cdn",
    "frontdoor": "Microsoft.Network",
}


def _uuid(seed: str) -> str:
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def location(config: dict[str, str]) -> str:
    return config.get("azure-native:location", "eastus2")


# Resources whose name input is not "<resource>Name".
_NAME_KEYS = {
    # The AI gateway (issue 20).
    "ApiManagementService": "serviceName",
    "Api": "apiId",
    "ApiOperation": "operationId",
    "ApiPolicy": "policyId",
    "Logger": "loggerId",
    "Diagnostic": "diagnosticId",
    "AFDEndpoint": "endpointName",
    "AFDOriginGroup": "originGroupName",
    "AFDOrigin": "originName",
    "StorageAccount": "accountName",
    "SystemTopicEventSubscription": "eventSubscriptionName",
    "BlobContainer": "containerName",
    "BlobServiceProperties": "blobServicesName",
    "ManagementLockAtResourceGroupLevel": "lockName",
    "ManagementPolicy": "managementPolicyName",
    "PrivateZone": "privateZoneName",
    "PublicIPAddress": "publicIpAddressName",
    # Alert rules and Defender plans (detection, issue 15).
    "ScheduledQueryRule": "ruleName",
    "MetricAlert": "ruleName",
    "Pricing": "pricingName",
}

# Resource types whose id is not <group>/providers/<namespace>/<resources>/<name>: the
# collection name, and the parents (collection, name input) their id nests under.
_COLLECTIONS = {
    "SystemTopicEventSubscription": "eventSubscriptions",
    "PrivateZone": "privateDnsZones",
    "UserAssignedIdentity": "userAssignedIdentities",
    "BlobServiceProperties": "blobServices",
    "BlobContainer": "containers",
    "ManagementPolicy": "managementPolicies",
    "ManagementLockAtResourceGroupLevel": "locks",
    "RaiPolicy": "raiPolicies",
    "PublicIPAddress": "publicIPAddresses",
    "ScheduledActionByScope": "scheduledActions",
    "ApiManagementService": "service",
    "ApiOperation": "operations",
    "ApiPolicy": "policies",
    "AFDEndpoint": "afdEndpoints",
    "AFDOriginGroup": "originGroups",
    "AFDOrigin": "origins",
    "Policy": "frontDoorWebApplicationFirewallPolicies",
}
_PARENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "keyvault:Key": (("vaults", "vaultName"),),
    "keyvault:Secret": (("vaults", "vaultName"),),
    "storage:BlobServiceProperties": (("storageAccounts", "accountName"),),
    "storage:BlobContainer": (("storageAccounts", "accountName"), ("blobServices", "")),
    "storage:ManagementPolicy": (("storageAccounts", "accountName"),),
    "eventgrid:SystemTopicEventSubscription": (("systemTopics", "systemTopicName"),),
    "network:Subnet": (("virtualNetworks", "virtualNetworkName"),),
    "network:SecurityRule": (("networkSecurityGroups", "networkSecurityGroupName"),),
    "network:FlowLog": (("networkWatchers", "networkWatcherName"),),
    "network:PrivateDnsZoneGroup": (("privateEndpoints", "privateEndpointName"),),
    "privatedns:VirtualNetworkLink": (("privateDnsZones", "privateZoneName"),),
    "operationalinsights:Table": (("workspaces", "workspaceName"),),
    "cognitiveservices:Deployment": (("accounts", "accountName"),),
    "apimanagement:Api": (("service", "serviceName"),),
    "apimanagement:ApiOperation": (("service", "serviceName"), ("apis", "apiId")),
    "apimanagement:ApiPolicy": (("service", "serviceName"), ("apis", "apiId")),
    "apimanagement:Logger": (("service", "serviceName"),),
    "apimanagement:Diagnostic": (("service", "serviceName"),),
    "cdn:AFDEndpoint": (("profiles", "profileName"),),
    "cdn:AFDOriginGroup": (("profiles", "profileName"),),
    "cdn:AFDOrigin": (("profiles", "profileName"), ("originGroups", "originGroupName")),
    "cdn:Route": (("profiles", "profileName"), ("afdEndpoints", "endpointName")),
    "cdn:SecurityPolicy": (("profiles", "profileName"),),
    "cognitiveservices:RaiPolicy": (("accounts", "accountName"),),
    "cognitiveservices:RaiBlocklist": (("accounts", "accountName"),),
    "cognitiveservices:RaiBlocklistItem": (
        ("accounts", "accountName"),
        ("raiBlocklists", "raiBlocklistName"),
    ),
}


def _own_name(resource: str, name: str, inputs: dict[str, Any]) -> str:
    key = _NAME_KEYS.get(resource, resource[0].lower() + resource[1:] + "Name")
    for candidate in (key, "resourceName", "name"):
        if isinstance(inputs.get(candidate), str):
            return str(inputs[candidate])
    return f"{name}{hashlib.sha256(name.encode()).hexdigest()[:6]}"


def _resource_id(module: str, resource: str, own: str, inputs: dict[str, Any]) -> str:
    """The id Azure Resource Manager gives the resource, child resources nested."""
    group = inputs.get("resourceGroupName", "rg")
    subscription = f"/subscriptions/{SUBSCRIPTION_ID}"
    if module == "resources" and resource == "ResourceGroup":
        return f"{subscription}/resourceGroups/{own}"
    if module == "monitor" and resource == "SubscriptionDiagnosticSetting":
        return f"{subscription}/providers/Microsoft.Insights/diagnosticSettings/{own}"
    collection = _COLLECTIONS.get(resource, resource[0].lower() + resource[1:] + "s")
    if module == "monitor" and resource == "DiagnosticSetting":
        target = inputs.get("resourceUri", f"{subscription}/resourceGroups/{group}")
        return f"{target}/providers/Microsoft.Insights/diagnosticSettings/{own}"
    if module in ("consumption", "costmanagement") and "scope" in inputs:
        # Extension resources of a scope (budgets, scheduled actions): <scope>/providers/...
        scope = "/" + str(inputs["scope"]).strip("/")
        namespace = _NAMESPACES[module]
        return f"{scope}/providers/{namespace}/{collection}/{own}"
    if module == "authorization" and resource == "RoleAssignment":
        scope = inputs.get("scope", subscription)
        return f"{scope}/providers/Microsoft.Authorization/roleAssignments/{own}"
    namespace = _NAMESPACES.get(module, f"Microsoft.{module.capitalize()}")
    path = "".join(
        f"/{parent}/{inputs.get(key) or 'default'}"
        for parent, key in _PARENTS.get(f"{module}:{resource}", ())
    )
    return f"{subscription}/resourceGroups/{group}/providers/{namespace}{path}/{collection}/{own}"


def outputs(
    type_: str, name: str, inputs: dict[str, Any], config: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """The id and outputs Azure Resource Manager would report for a new resource.

    ``inputs`` is echoed back by the caller over these outputs (nested mappings
    merged), so inputs whose output shape differs from their input shape are rewritten
    in place here.
    """
    _, module, resource = type_.split(":")
    _reshape_identity(inputs)
    own = _own_name(resource, name, inputs)
    rid = _resource_id(module, resource, own, inputs)
    out: dict[str, Any] = {
        "id": rid,
        "name": own,
        "type": f"{_NAMESPACES.get(module, module)}/{resource}",
    }
    special = _SPECIAL.get(f"{module}:{resource}")
    if special is not None:
        out.update(special(name, own, inputs, config))
    return rid, out


_Special = Callable[[str, str, dict[str, Any], dict[str, str]], dict[str, Any]]


def _reshape_identity(inputs: dict[str, Any]) -> None:
    """``identity.userAssignedIdentities``: a list of ids as input, a map of id to
    principal and client id as output (the SDK refuses to read back the list)."""
    identity = inputs.get("identity")
    if not isinstance(identity, dict):
        return
    assigned = identity.get("userAssignedIdentities")
    if isinstance(assigned, list):
        inputs["identity"] = {
            **identity,
            "userAssignedIdentities": {
                str(rid): {
                    "principalId": _uuid(f"{rid}principal"),
                    "clientId": _uuid(f"{rid}client"),
                }
                for rid in assigned
            },
        }


def _identity(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> dict[str, Any]:
    return {
        "principalId": _uuid(own + "principal"),
        "clientId": _uuid(own + "client"),
        "tenantId": TENANT_ID,
    }


def _vault(name: str, own: str, inputs: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    return {"properties": {"vaultUri": f"https://{own}.vault.azure.net/"}}


def _key(name: str, own: str, inputs: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    vault = inputs.get("vaultName", "vault")
    version = hashlib.sha256(own.encode()).hexdigest()[:32]
    return {
        "keyUri": f"https://{vault}.vault.azure.net/keys/{own}",
        "keyUriWithVersion": f"https://{vault}.vault.azure.net/keys/{own}/{version}",
    }


def _secret(name: str, own: str, inputs: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    vault = inputs.get("vaultName", "vault")
    # Azure never returns a secret's value.
    inputs["properties"] = {
        k: v for k, v in (inputs.get("properties") or {}).items() if k != "value"
    }
    return {"properties": {"secretUri": f"https://{vault}.vault.azure.net/secrets/{own}"}}


def _account(name: str, own: str, inputs: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    sub = (inputs.get("properties") or {}).get("customSubDomainName", own)
    openai = f"https://{sub}.openai.azure.com/"
    if inputs.get("kind") == "OpenAI":
        return {"properties": {"endpoint": openai}}
    # AIServices and the other kinds: a generic endpoint, the OpenAI one listed.
    generic = f"https://{sub}.cognitiveservices.azure.com/"
    return {
        "properties": {
            "endpoint": generic,
            "endpoints": {"OpenAI Language Model Instance API": openai, "Content Safety": generic},
        }
    }


def _workspace(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> dict[str, Any]:
    return {"customerId": _uuid(own + "workspace")}


def _storage(name: str, own: str, inputs: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    return {
        "primaryEndpoints": {
            "blob": f"https://{own}.blob.core.windows.net/",
            "dfs": f"https://{own}.dfs.core.windows.net/",
        }
    }


def _apim(name: str, own: str, inputs: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    internal = inputs.get("virtualNetworkType") == "Internal"
    return {
        "gatewayUrl": f"https://{own}.azure-api.net",
        "privateIPAddresses": ["10.20.2.4"] if internal else [],
    }


def _front_door(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> dict[str, Any]:
    return {"frontDoorId": _uuid(own + "frontdoor")}


def _afd_endpoint(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> dict[str, Any]:
    return {"hostName": f"{own}-{_uuid(own)[:8]}.z01.azurefd.net"}


def _object_replication(
    name: str, own: str, inputs: dict[str, Any], config: dict[str, str]
) -> dict[str, Any]:
    """Azure generates a policy id and rule ids on the destination (issue 17); the source
    policy is created with them (``objectReplicationPolicyId`` other than ``default``)."""
    given = inputs.get("objectReplicationPolicyId")
    policy_id = given if given and given != "default" else _uuid(own + "policy")
    # In place: the caller echoes the inputs over the outputs, lists replaced whole.
    for index, rule in enumerate(inputs.get("rules") or []):
        if isinstance(rule, dict) and not rule.get("ruleId"):
            rule["ruleId"] = _uuid(f"{own}rule{index}")
    return {"policyId": policy_id}


_SPECIAL: dict[str, _Special] = {
    "storage:ObjectReplicationPolicy": _object_replication,
    "apimanagement:ApiManagementService": _apim,
    "cdn:Profile": _front_door,
    "cdn:AFDEndpoint": _afd_endpoint,
    "managedidentity:UserAssignedIdentity": _identity,
    "keyvault:Vault": _vault,
    "keyvault:Key": _key,
    "keyvault:Secret": _secret,
    "cognitiveservices:Account": _account,
    "operationalinsights:Workspace": _workspace,
    "storage:StorageAccount": _storage,
}


def _client_config(args: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    return {
        "clientId": CLIENT_ID,
        "objectId": OBJECT_ID,
        "subscriptionId": SUBSCRIPTION_ID,
        "tenantId": TENANT_ID,
    }


INVOKES: dict[str, Callable[[dict[str, Any], dict[str, str]], dict[str, Any]]] = {
    "azure-native:authorization:getClientConfig": _client_config,
    "azure-native:authorization:getClientToken": lambda args, config: {"token": "mock-token"},
}
