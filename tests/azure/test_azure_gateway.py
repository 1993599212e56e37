"""The AI gateway on Azure (issue 20, API-01..05): ApiGateway's inputs per mode, its
policies (violating and compliant), and bad arguments."""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

import pytest
from aiscaffold.testing import MockRun, run
from aiscaffold_components.policies.azure.gateway import OLD_PROTOCOLS, parse_policy
from azure.azure_policy_support import DROP, STACK, flagged

ISSUER = "https://login.example.com/tenant/v2.0"
AUDIENCE = "api://proj"
BACKEND = "https://workload.internal.example.com"
WORKSPACE = "/subscriptions/s/resourceGroups/g/providers/Microsoft.OperationalInsights/workspaces/w"
ARCHIVE = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a"
#: The confidential profile's limits (catalog/settings.yaml): the base requirements of
#: azure_policy_support are confidential data.
LIMITS = {"rate_limit": 10, "burst_limit": 20, "tokens_per_minute": 20000}


def _args(mode: str, **changes: Any) -> Any:
    from aiscaffold_components.azure import ApiGatewayArgs

    base = ApiGatewayArgs(
        resource_group_name="rg",
        location="eastus2",
        vnet_name="vnet",
        subnet_prefix="10.20.2.0/24",
        mode=mode,  # type: ignore[arg-type]
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        publisher_email="secops@example.com",
        workspace_id=WORKSPACE,
        rate_limit=LIMITS["rate_limit"],
        burst_limit=LIMITS["burst_limit"],
        tokens_per_minute=LIMITS["tokens_per_minute"],
    )
    return dataclasses.replace(base, **changes)


@cache
def gateway_run(mode: str, backend: str | None = None, archive: bool = False) -> MockRun:
    """The gateway on the project's network; ``archive`` copies its logs to an archive
    account as the generated program does."""

    def program() -> None:
        from aiscaffold_components.azure import ApiGateway, Network, NetworkArgs

        network = Network("network", NetworkArgs(location="eastus2"))
        ApiGateway(
            "gateway",
            _args(
                mode,
                resource_group_name=network.resource_group_name,
                vnet_name=network.vnet_name,
                subnet_prefix=network.spare_subnet_prefix(2),
                backend_url=backend,
                archive_account_id=ARCHIVE if archive else None,
                depends_on=[network],
            ),
        )

    return run(program, project="proj", stack="dev")


def _policy_xml(result: MockRun) -> str:
    return str(result.one("azure-native:apimanagement:ApiPolicy").inputs["value"])


# ------------------------------------------------------------------ the component
@pytest.mark.parametrize("mode", ["private", "public"])
def test_every_operation_requires_the_token_and_limits_each_caller(mode: str) -> None:
    result = gateway_run(mode)
    operations = result.of_type("azure-native:apimanagement:ApiOperation")
    assert {o.inputs["method"] for o in operations} == {"GET", "POST", "PUT", "DELETE"}
    # No operation has a policy of its own, so the API's applies to each.
    assert not result.of_type("azure-native:apimanagement:ApiOperationPolicy")
    document = parse_policy(_policy_xml(result))
    assert document is not None
    inbound = document.find("inbound")
    assert inbound is not None
    jwt = inbound.find("validate-jwt")
    assert jwt is not None
    assert jwt.findtext("issuers/issuer") == ISSUER
    assert jwt.findtext("audiences/audience") == AUDIENCE
    assert jwt.find("openid-config").get("url") == f"{ISSUER}/.well-known/openid-configuration"  # type: ignore[union-attr]
    limits = [(e.get("calls"), e.get("renewal-period")) for e in inbound.iter("rate-limit-by-key")]
    assert limits == [("20", "1"), ("600", "60")]
    tokens = inbound.find("llm-token-limit")
    assert tokens is not None and tokens.get("tokens-per-minute") == "20000"
    # The token check comes before the limits and the route.
    tags = [e.tag for e in inbound]
    assert (
        tags.index("validate-jwt") < tags.index("rate-limit-by-key") < tags.index("return-response")
    )
    api = result.one("azure-native:apimanagement:Api")
    assert api.inputs["subscriptionRequired"] is False
    assert api.inputs["protocols"] == ["https"]


def test_private_gateway_is_internal_in_its_own_subnet() -> None:
    result = gateway_run("private")
    service = result.one("azure-native:apimanagement:ApiManagementService")
    assert service.inputs["virtualNetworkType"] == "Internal"
    assert service.inputs["virtualNetworkConfiguration"]["subnetResourceId"].endswith(
        "/subnets/gateway"
    )
    assert service.inputs["sku"] == {"name": "Developer", "capacity": 1}
    # No identity: the gateway holds no role on the model (the workload calls it).
    assert "identity" not in service.inputs
    assert not result.of_type("azure-native:frontdoor:Policy")
    assert not result.of_type("azure-native:network:PublicIPAddress")
    subnet = result.one("azure-native:network:Subnet", "gateway-subnet")
    assert subnet.inputs["addressPrefix"] == "10.20.2.0/24"
    rules = {r["name"]: r for r in result.one("azure-native:network:NetworkSecurityGroup", "gateway-nsg").inputs["securityRules"]}  # fmt: skip
    assert rules["allow-apim-management"]["sourceAddressPrefix"] == "ApiManagement"
    assert rules["allow-apim-management"]["destinationPortRange"] == "3443"
    assert rules["allow-load-balancer"]["destinationPortRange"] == "6390"
    assert "allow-front-door" not in rules
    assert rules["deny-all-inbound"]["access"] == "Deny"


def test_public_gateway_sits_behind_front_door_waf() -> None:
    result = gateway_run("public")
    service = result.one("azure-native:apimanagement:ApiManagementService")
    assert service.inputs["virtualNetworkType"] == "External"
    waf = result.one("azure-native:frontdoor:Policy")
    assert waf.inputs["policySettings"]["mode"] == "Prevention"
    sets = {s["ruleSetType"]: s for s in waf.inputs["managedRules"]["managedRuleSets"]}
    assert sets["Microsoft_DefaultRuleSet"]["ruleSetAction"] == "Block"
    assert "Microsoft_BotManagerRuleSet" in sets
    (rule,) = waf.inputs["customRules"]["rules"]
    assert (rule["ruleType"], rule["action"], rule["rateLimitThreshold"]) == (
        "RateLimitRule",
        "Block",
        1200,
    )
    security = result.one("azure-native:cdn:SecurityPolicy")
    assert security.inputs["parameters"]["wafPolicy"]["id"].endswith(waf.inputs["policyName"])
    route = result.one("azure-native:cdn:Route")
    assert route.inputs["supportedProtocols"] == ["Https"]
    assert route.inputs["forwardingProtocol"] == "HttpsOnly"
    nsg = result.one("azure-native:network:NetworkSecurityGroup", "gateway-nsg")
    front = next(r for r in nsg.inputs["securityRules"] if r["name"] == "allow-front-door")
    assert front["sourceAddressPrefix"] == "AzureFrontDoor.Backend"
    fdid = result.one("azure-native:cdn:Profile").outputs.get("frontDoorId")
    assert f"<value>{fdid}</value>" in _policy_xml(result)


@pytest.mark.parametrize("mode", ["private", "public"])
def test_tls_12_only_and_logs_without_bodies(mode: str) -> None:
    result = gateway_run(mode)
    service = result.one("azure-native:apimanagement:ApiManagementService")
    assert all(service.inputs["customProperties"][k] == "False" for k in OLD_PROTOCOLS)
    assert service.inputs["apiVersionConstraint"]["minApiVersion"] == "2021-08-01"
    diagnostic = result.one("azure-native:apimanagement:Diagnostic")
    for side in ("frontend", "backend"):
        for message in ("request", "response"):
            assert diagnostic.inputs[side][message]["body"]["bytes"] == 0
    settings = result.of_type("azure-native:monitor:DiagnosticSetting")
    assert any(s.inputs["resourceUri"] == service.outputs["id"] and s.inputs["workspaceId"] == WORKSPACE for s in settings)  # fmt: skip


def test_503_mock_until_the_backend_is_set_then_the_backend() -> None:
    mocked = _policy_xml(gateway_run("private"))
    assert '<set-status code="503"' in mocked and "set-backend-service" not in mocked
    wired = gateway_run("private", BACKEND)
    xml = _policy_xml(wired)
    assert "return-response" not in xml
    assert f'<set-backend-service base-url="{BACKEND}" />' in xml
    assert wired.one("azure-native:apimanagement:Api").inputs["serviceUrl"] == BACKEND


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"oidc_issuer": "http://login.example.com"}, "oidc_issuer"),
        ({"oidc_issuer": "not a url"}, "oidc_issuer"),
        ({"oidc_audience": ""}, "oidc_audience"),
        ({"backend_url": "http://workload"}, "gateway_backend"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"burst_limit": 5}, "burst_limit"),
        ({"log_body_bytes": 1024}, "confidential"),
        ({"subnet_prefix": "10.20.2.0/30"}, "subnet_prefix"),
        ({"subnet_prefix": "8.8.8.0/24"}, "subnet_prefix"),
        ({"mode": "open"}, "mode"),
        ({"publisher_email": "nobody"}, "publisher_email"),
    ],
)
def test_bad_arguments_are_refused(changes: dict[str, Any], message: str) -> None:
    from aiscaffold_components.azure import ApiGateway

    args = dataclasses.replace(_args("private"), **changes)

    def program() -> None:
        ApiGateway("gateway", args)

    with pytest.raises(Exception, match=message):
        run(program, project="proj", stack="dev")


# ------------------------------------------------------------------ the policies
GATEWAY_POLICIES = [f"AZURE-API-00{n}" for n in range(1, 8)]


@pytest.mark.parametrize("mode", ["private", "public"])
@pytest.mark.parametrize("policy", GATEWAY_POLICIES)
def test_the_gateway_passes_its_policies(mode: str, policy: str) -> None:
    assert flagged(gateway_run(mode), policy, api_gateway=mode) == set()


@pytest.mark.parametrize("policy", GATEWAY_POLICIES)
def test_no_gateway_chosen_is_not_applicable(policy: str) -> None:
    assert flagged(gateway_run("private"), policy) == set()


def _xml_patch(result: MockRun, old: str, new: str) -> dict[str, dict[str, Any]]:
    xml = _policy_xml(result)
    assert old in xml
    return {"gateway-api-policy": {"value": xml.replace(old, new)}}


def test_api_001_flags_operations_without_a_valid_token_check() -> None:
    result = gateway_run("private")
    operations = {o.name for o in result.of_type("azure-native:apimanagement:ApiOperation")}
    no_jwt = _xml_patch(result, "<validate-jwt", "<validate-nothing")
    no_jwt["gateway-api-policy"]["value"] = no_jwt["gateway-api-policy"]["value"].replace(
        "</validate-jwt>", "</validate-nothing>"
    )
    assert flagged(result, "AZURE-API-001", no_jwt, api_gateway="private") == operations
    no_audience = _xml_patch(result, f"<audience>{AUDIENCE}</audience>", "")
    assert flagged(result, "AZURE-API-001", no_audience, api_gateway="private") == operations
    unsigned = _xml_patch(result, 'require-signed-tokens="true"', 'require-signed-tokens="false"')
    assert flagged(result, "AZURE-API-001", unsigned, api_gateway="private") == operations
    # An operation policy without <base /> drops the API's token check for that one.
    override = {
        "resourceGroupName": "rg", "serviceName": "s", "apiId": "ai", "operationId": "get-any",
        "policyId": "policy", "value": "<policies><inbound /></policies>",
    }  # fmt: skip
    from azure.azure_policy_support import resource

    extra = resource("azure-native:apimanagement:ApiOperationPolicy", "get-override", override)
    assert flagged(result, "AZURE-API-001", add=[extra], api_gateway="private") == {"gateway-get"}


def test_api_002_flags_missing_or_loose_limits() -> None:
    result = gateway_run("public")
    loose_burst = _xml_patch(
        result, 'calls="20" renewal-period="1"', 'calls="50" renewal-period="1"'
    )
    assert flagged(result, "AZURE-API-002", loose_burst, api_gateway="public") == {"gateway-api"}
    loose_tokens = _xml_patch(result, 'tokens-per-minute="20000"', 'tokens-per-minute="90000"')
    assert flagged(result, "AZURE-API-002", loose_tokens, api_gateway="public") == {"gateway-api"}
    no_tokens = _xml_patch(result, "<llm-token-limit", "<llm-token-count")
    assert flagged(result, "AZURE-API-002", no_tokens, api_gateway="public") == {"gateway-api"}
    # Restricted data halves the ceilings: the confidential gateway is then too loose.
    assert flagged(
        result, "AZURE-API-002", api_gateway="public", data_sensitivity="restricted"
    ) == {"gateway-api"}


def test_api_003_flags_an_exposed_gateway() -> None:
    public = gateway_run("public")
    no_body_check = {"gateway-waf": {"policySettings.requestBodyCheck": "Disabled"}}
    assert flagged(public, "AZURE-API-003", no_body_check, api_gateway="public") == {"gateway-waf"}
    detection = {"gateway-waf": {"policySettings.mode": "Detection"}}
    assert flagged(public, "AZURE-API-003", detection, api_gateway="public") == {"gateway-waf"}
    no_rate: dict[str, dict[str, Any]] = {"gateway-waf": {"customRules.rules": []}}
    assert flagged(public, "AZURE-API-003", no_rate, api_gateway="public") == {"gateway-waf"}
    no_managed: dict[str, dict[str, Any]] = {"gateway-waf": {"managedRules.managedRuleSets": []}}
    assert flagged(public, "AZURE-API-003", no_managed, api_gateway="public") == {"gateway-waf"}
    assert flagged(public, "AZURE-API-003", drop=["gateway-fd-waf"], api_gateway="public") == {
        STACK
    }
    waf = public.one("azure-native:frontdoor:Policy").inputs
    rule = waf["customRules"]["rules"][0]
    condition = {**rule["matchConditions"][0], "matchValue": ["0.0.0.0/0"]}
    ipv4_only = {"gateway-waf": {"customRules.rules": [{**rule, "matchConditions": [condition]}]}}
    assert flagged(public, "AZURE-API-003", ipv4_only, api_gateway="public") == {"gateway-waf"}
    sets = waf["managedRules"]["managedRuleSets"]
    no_bots = {"gateway-waf": {"managedRules.managedRuleSets": sets[:1]}}
    assert flagged(public, "AZURE-API-003", no_bots, api_gateway="public") == {"gateway-waf"}
    bypass = _xml_patch(public, 'name="X-Azure-FDID"', 'name="X-Other"')
    assert flagged(public, "AZURE-API-003", bypass, api_gateway="public") == {"gateway-api-policy"}
    private = gateway_run("private")
    external = {"gateway-apim": {"virtualNetworkType": "External"}}
    assert flagged(private, "AZURE-API-003", external, api_gateway="private") == {"gateway-apim"}
    no_vnet = {"gateway-apim": {"virtualNetworkType": DROP}}
    assert flagged(private, "AZURE-API-003", no_vnet, api_gateway="private") == {"gateway-apim"}


def test_api_004_and_005_flag_missing_logs_and_logged_bodies() -> None:
    result = gateway_run("private")
    assert flagged(result, "AZURE-API-004", drop=["gateway-apim-la"], api_gateway="private") == {
        "gateway-apim"
    }
    no_ip = {"gateway-diagnostic": {"logClientIp": False}}
    assert flagged(result, "AZURE-API-004", no_ip, api_gateway="private") == {"gateway-diagnostic"}
    other_logger = {"gateway-logger": {"loggerType": "applicationInsights"}}
    assert flagged(result, "AZURE-API-004", other_logger, api_gateway="private") == {STACK}
    sampled = {"gateway-diagnostic": {"sampling.percentage": 10}}
    assert flagged(result, "AZURE-API-004", sampled, api_gateway="private") == {
        "gateway-diagnostic"
    }
    bodies = {"gateway-diagnostic": {"frontend.request.body.bytes": 8192}}
    assert flagged(result, "AZURE-API-005", bodies, api_gateway="private") == {"gateway-diagnostic"}
    # Public data may log bodies.
    assert (
        flagged(result, "AZURE-API-005", bodies, api_gateway="private", data_sensitivity="public")
        == set()
    )


def test_api_004_flags_front_door_without_logs_and_logs_not_archived() -> None:
    public = gateway_run("public")
    assert flagged(public, "AZURE-API-004", drop=["gateway-fd-la"], api_gateway="public") == {
        "gateway-fd"
    }
    # With an archive in the project (a setting writing to storage), the gateway's logs
    # must be copied there too.
    from azure.azure_policy_support import resource

    archive = resource(
        "azure-native:monitor:DiagnosticSetting",
        "other-archive",
        {"resourceUri": "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v",
         "storageAccountId": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a",
         "logs": [{"categoryGroup": "allLogs", "enabled": True}]},
    )  # fmt: skip
    assert flagged(public, "AZURE-API-004", add=[archive], api_gateway="public") == {
        "gateway-apim",
        "gateway-fd",
    }


def test_api_007_flags_clear_text_routes() -> None:
    public = gateway_run("public")
    http = {"gateway-fd-route": {"supportedProtocols": ["Http", "Https"]}}
    assert flagged(public, "AZURE-API-007", http, api_gateway="public") == {"gateway-fd-route"}
    forward = {"gateway-fd-route": {"forwardingProtocol": "MatchRequest"}}
    assert flagged(public, "AZURE-API-007", forward, api_gateway="public") == {"gateway-fd-route"}
    unchecked = {"gateway-fd-origin": {"enforceCertificateNameCheck": False}}
    assert flagged(public, "AZURE-API-007", unchecked, api_gateway="public") == {
        "gateway-fd-origin"
    }
    plain = {"gateway-api": {"protocols": ["http", "https"]}}
    assert flagged(gateway_run("private"), "AZURE-API-007", plain, api_gateway="private") == {
        "gateway-api"
    }


def test_api_006_flags_old_protocols() -> None:
    result = gateway_run("private")
    # A dotted key cannot be patched by path: replace the whole mapping.
    props = dict(
        result.one("azure-native:apimanagement:ApiManagementService").inputs["customProperties"]
    )
    props[OLD_PROTOCOLS[0]] = "True"
    tls10 = {"gateway-apim": {"customProperties": props}}
    assert flagged(result, "AZURE-API-006", tls10, api_gateway="private") == {"gateway-apim"}
    old_api = {"gateway-apim": {"apiVersionConstraint.minApiVersion": "2019-12-01"}}
    assert flagged(result, "AZURE-API-006", old_api, api_gateway="private") == {"gateway-apim"}


# ------------------------------------------------------------------ deploy rules
@pytest.mark.parametrize("mode", ["private", "public"])
def test_deploy_rules_are_silent_on_the_gateway(mode: str) -> None:
    from azure.test_azure_deploy import fired

    result = gateway_run(mode)
    assert fired("AZURE-DEPLOY-030", result) == {}
    assert fired("AZURE-DEPLOY-031", result) == {}


def test_public_network_access_disabled_at_creation_fires() -> None:
    from azure.test_azure_deploy import edited, fired, rule

    result = gateway_run("private")
    disabled = edited(result, inputs={"gateway-apim": {"publicNetworkAccess": "Disabled"}})
    assert set(fired("AZURE-DEPLOY-030", disabled)) == {"gateway-apim"}
    assert "not enabled during service creation" in rule("AZURE-DEPLOY-030").error


@pytest.mark.parametrize("missing", ["allow-apim-management", "allow-load-balancer"])
def test_a_subnet_closed_to_management_or_probes_fires(missing: str) -> None:
    from azure.test_azure_deploy import edited, fired, rule

    result = gateway_run("private")
    nsg = result.one("azure-native:network:NetworkSecurityGroup", "gateway-nsg")
    rules = [r for r in nsg.inputs["securityRules"] if r["name"] != missing]
    closed = edited(result, inputs={"gateway-nsg": {"securityRules": rules}})
    found = fired("AZURE-DEPLOY-031", closed)
    assert set(found) == {"gateway-apim"}
    port = "3443" if missing == "allow-apim-management" else "6390"
    assert f"TCP {port}" in found["gateway-apim"]
    no_group = edited(result, inputs={"gateway-subnet": {"networkSecurityGroup": {}}})
    assert "no security group" in fired("AZURE-DEPLOY-031", no_group)["gateway-apim"]
    assert "ManagementApiRequestFailed" in rule("AZURE-DEPLOY-031").error
