"""The AI gateway on GCP (API-01..05): the component (private and public), its policies,
and the generated projects with a gateway."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi
import pytest
import yaml
from aiscaffold.testing import CapturedResource
from aiscaffold_components.gcp import ApiGateway, ApiGatewayArgs, Network, NetworkArgs
from aiscaffold_components.gcp.gateway import (
    ESPV2_IMAGE,
    PATH_DEPTH,
    THROTTLE_INTERVAL_SEC,
    WAF_RULES,
)
from gcp.gcp_policy_support import DROP, PROJECT, flagged, patch, reqs
from gcp_support import NUMBER, REGION, GeneratedRun, run_component

ISSUER = "https://login.example.com/tenant/v2.0"
AUDIENCE = "api://unit"
NETWORK_ID = f"projects/{PROJECT}/global/networks/net"
SUBNET_ID = f"projects/{PROJECT}/regions/{REGION}/subnetworks/subnet"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

ENDPOINTS = "gcp:endpoints/service:Service"
RUN = "gcp:cloudrunv2/service:Service"
ARMOR = "gcp:compute/securityPolicy:SecurityPolicy"
REGION_ARMOR = "gcp:compute/regionSecurityPolicy:RegionSecurityPolicy"
BACKEND = "gcp:compute/backendService:BackendService"
REGION_BACKEND = "gcp:compute/regionBackendService:RegionBackendService"
URL_MAP = "gcp:compute/uRLMap:URLMap"
REGION_URL_MAP = "gcp:compute/regionUrlMap:RegionUrlMap"
SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
REGION_SSL_POLICY = "gcp:compute/regionSslPolicy:RegionSslPolicy"
PROXY = "gcp:compute/targetHttpsProxy:TargetHttpsProxy"
REGION_PROXY = "gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy"
GLOBAL_RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
REGION_RULE = "gcp:compute/forwardingRule:ForwardingRule"
INVOKER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"
SUBNET = "gcp:compute/subnetwork:Subnetwork"

PRIVATE = reqs(api_gateway="private")
PUBLIC = reqs(api_gateway="public", data_sensitivity="restricted", compliance=["pci-dss"])


def _args(**changes: Any) -> ApiGatewayArgs:
    values: dict[str, Any] = {
        "project": PROJECT,
        "project_number": NUMBER,
        "region": REGION,
        "name_prefix": "unit-dev",
        "mode": "public",
        "oidc_issuer": ISSUER,
        "oidc_audience": AUDIENCE,
        "rate_limit": 5,
        "burst_limit": 10,
        "tokens_per_minute": 10000,
        "network_id": NETWORK_ID,
        "subnet_id": SUBNET_ID,
    }
    values.update(changes)
    return ApiGatewayArgs(**values)


def _run(**changes: Any) -> list[CapturedResource]:
    result = run_component(lambda: ApiGateway("gw", _args(**changes)))
    return result.custom_resources


def _one(resources: list[CapturedResource], type_: str) -> CapturedResource:
    found = [r for r in resources if r.type == type_]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def _with(
    resources: list[CapturedResource], target: CapturedResource, **changes: Any
) -> list[CapturedResource]:
    """The resources with ``target``'s inputs patched (dotted paths, DROP removes)."""
    changed = dataclasses.replace(target, inputs=patch(target.inputs, changes))
    return [changed if r.urn == target.urn else r for r in resources]


def _openapi(resources: list[CapturedResource]) -> dict[str, Any]:
    loaded = yaml.safe_load(_one(resources, ENDPOINTS).inputs["openapiConfig"])
    assert isinstance(loaded, dict)
    return loaded


# ------------------------------------------------------------------- the component
@pytest.mark.parametrize("mode", ["private", "public"])
def test_every_operation_requires_the_callers_oidc_token(mode: str) -> None:
    document = _openapi(_run(mode=mode))
    scheme = document["securityDefinitions"]["oidc"]
    assert scheme["x-google-issuer"] == ISSUER
    assert scheme["x-google-audiences"] == AUDIENCE
    assert "x-google-allow" not in document
    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
    ]
    assert {path for path, _, _ in operations} == {
        "/" + "/".join(f"{{s{i}}}" for i in range(1, depth + 1)) for depth in range(PATH_DEPTH + 1)
    }
    assert len(operations) == 5 * (PATH_DEPTH + 1)
    assert all(op["security"] == [{"oidc": []}] for _, _, op in operations)


@pytest.mark.parametrize("mode", ["private", "public"])
def test_the_proxy_is_reached_only_through_the_load_balancer(mode: str) -> None:
    resources = _run(mode=mode)
    proxy = _one(resources, RUN)
    assert proxy.inputs["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    assert proxy.inputs["defaultUriDisabled"] is True
    container = proxy.inputs["template"]["containers"][0]
    assert container["image"] == ESPV2_IMAGE
    envs = {e["name"]: e.get("value") for e in container["envs"]}
    assert envs["ENDPOINTS_SERVICE_NAME"] == f"unit-dev-gw.endpoints.{PROJECT}.cloud.goog"
    assert "ESPv2_ARGS" not in envs  # no header or token-payload logging
    assert proxy.inputs["template"]["serviceAccount"].startswith("unit-dev-gw@")


def test_public_gateway_has_waf_rules_and_a_throttle_from_the_profile() -> None:
    resources = _run(mode="public", rate_limit=7)
    armor = _one(resources, ARMOR)
    rules = armor.inputs["rules"]
    waf = [r["match"]["expr"]["expression"] for r in rules if r["action"] == "deny(403)"]
    assert [e.split("'")[1] for e in waf] == list(WAF_RULES)
    (throttle,) = [r for r in rules if r["action"] == "throttle"]
    options = throttle["rateLimitOptions"]
    assert options["rateLimitThreshold"] == {
        "count": 7 * THROTTLE_INTERVAL_SEC,
        "intervalSec": THROTTLE_INTERVAL_SEC,
    }
    assert options["enforceOnKey"] == "IP"
    assert options["exceedAction"] == "deny(429)"
    backend = _one(resources, BACKEND)
    assert backend.inputs["loadBalancingScheme"] == "EXTERNAL_MANAGED"
    assert backend.inputs["securityPolicy"] == armor.outputs["id"]
    assert backend.inputs["logConfig"] == {"enable": True, "sampleRate": 1.0}
    assert backend.inputs["protocol"] == "HTTPS"


def test_private_gateway_is_internal_with_a_regional_throttle() -> None:
    resources = _run(mode="private", certificate=PEM, private_key="key")
    backend = _one(resources, REGION_BACKEND)
    assert backend.inputs["loadBalancingScheme"] == "INTERNAL_MANAGED"
    assert backend.inputs["logConfig"] == {"enable": True, "sampleRate": 1.0}
    armor = _one(resources, REGION_ARMOR)
    assert [r["action"] for r in armor.inputs["rules"]] == ["throttle", "allow"]
    rule = _one(resources, REGION_RULE)
    assert rule.inputs["loadBalancingScheme"] == "INTERNAL_MANAGED"
    assert rule.inputs["subnetwork"] == SUBNET_ID
    assert rule.inputs["allowGlobalAccess"] is False
    assert not [r for r in resources if r.type in (ARMOR, BACKEND, GLOBAL_RULE)]


@pytest.mark.parametrize(
    ("mode", "extra", "policy_type", "proxy_type"),
    [
        ("private", {"certificate": PEM, "private_key": "key"}, REGION_SSL_POLICY, REGION_PROXY),
        ("public", {"domain": "api.example.com"}, SSL_POLICY, PROXY),
    ],
)
def test_tls_policy_on_the_https_proxy(
    mode: str, extra: dict[str, Any], policy_type: str, proxy_type: str
) -> None:
    resources = _run(mode=mode, **extra)
    policy = _one(resources, policy_type)
    assert policy.inputs["profile"] == "MODERN"
    assert policy.inputs["minTlsVersion"] == "TLS_1_2"
    assert _one(resources, proxy_type).inputs["sslPolicy"] == policy.outputs["id"]


def test_without_a_certificate_no_frontend_is_created() -> None:
    resources = _run(mode="public")
    assert not [r for r in resources if r.type in (PROXY, GLOBAL_RULE, REGION_RULE)]
    assert _one(resources, SSL_POLICY)  # waiting for the proxy


@pytest.mark.parametrize("mode", ["private", "public"])
def test_without_backend_every_call_answers_503(mode: str) -> None:
    resources = _run(mode=mode)
    url_map = _one(resources, URL_MAP if mode == "public" else REGION_URL_MAP)
    abort = url_map.inputs["defaultRouteAction"]["faultInjectionPolicy"]["abort"]
    assert abort == {"httpStatus": 503, "percentage": 100}
    assert "x-google-backend" not in _openapi(resources)
    assert not [r for r in resources if r.type == INVOKER]


def test_with_backend_the_proxy_alone_invokes_the_workload() -> None:
    resources = _run(backend_service="ai-workload")
    url_map = _one(resources, URL_MAP)
    assert "defaultRouteAction" not in url_map.inputs
    backend = _openapi(resources)["x-google-backend"]
    url = f"https://ai-workload-{NUMBER}.{REGION}.run.app"
    assert backend["address"] == url
    assert backend["jwt_audience"] == url
    invoker = _one(resources, INVOKER)
    assert invoker.inputs["name"] == "ai-workload"
    assert invoker.inputs["role"] == "roles/run.invoker"
    assert (
        invoker.inputs["member"] == f"serviceAccount:unit-dev-gw@{PROJECT}.iam.gserviceaccount.com"
    )


def test_logging_headers_is_an_explicit_weakening() -> None:
    proxy = _one(_run(log_headers=True), RUN)
    envs = {e["name"]: e["value"] for e in proxy.inputs["template"]["containers"][0]["envs"]}
    assert "--log_jwt_payloads" in envs["ESPv2_ARGS"]


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"mode": "internal"}, "mode must be"),
        ({"oidc_issuer": "http://login.example.com"}, "oidc_issuer must be an https URL"),
        ({"oidc_audience": " "}, "oidc_audience must not be empty"),
        ({"rate_limit": 0}, "rate_limit must be a positive"),
        ({"burst_limit": True}, "burst_limit must be a positive"),
        ({"log_sample_rate": 0.0}, "log_sample_rate must be in"),
        ({"mode": "private", "network_id": None}, "needs network_id and subnet_id"),
        ({"mode": "private", "domain": "api.example.com"}, "self-managed certificate"),
        ({"certificate": PEM}, "given together"),
        ({"backend_service": "Bad_Name"}, "Cloud Run service name"),
    ],
)
def test_invalid_arguments_are_refused(changes: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        ApiGateway("gw", _args(**changes))


def test_proxy_only_subnet_only_when_asked() -> None:
    def subnets(**changes: Any) -> list[CapturedResource]:
        args = NetworkArgs(project=PROJECT, region=REGION, **changes)
        run = run_component(lambda: Network("net", args))
        return [r for r in run.custom_resources if r.type == SUBNET]

    assert [r.name for r in subnets()] == ["net-subnet"]
    proxy = [
        r for r in subnets(proxy_only_subnet_cidr="10.10.16.0/23") if r.name == "net-proxy-only"
    ]
    assert proxy[0].inputs["purpose"] == "REGIONAL_MANAGED_PROXY"
    assert proxy[0].inputs["role"] == "ACTIVE"


# ------------------------------------------------------------------- the policies
def test_no_gateway_policy_applies_without_a_gateway() -> None:
    resources = _run()
    for policy in ("GCP-API-001", "GCP-API-003", "GCP-API-004", "GCP-API-007"):
        assert flagged(policy, resources, reqs()) == set()


def test_jwt_policy_compliant_and_each_way_it_fails() -> None:
    resources = _run()
    assert flagged("GCP-API-001", resources, PUBLIC) == set()
    endpoints = _one(resources, ENDPOINTS)
    document = _openapi(resources)

    def with_document(change: Any) -> list[CapturedResource]:
        edited = json.loads(json.dumps(document))
        change(edited)
        return _with(resources, endpoints, openapiConfig=json.dumps(edited))

    def open_operation(d: dict[str, Any]) -> None:
        d["paths"]["/{s1}/{s2}/{s3}"]["post"]["security"] = []

    def no_default(d: dict[str, Any]) -> None:
        del d["security"]
        del d["paths"]["/"]["get"]["security"]

    def http_issuer(d: dict[str, Any]) -> None:
        d["securityDefinitions"]["oidc"]["x-google-issuer"] = "http://login.example.com"

    def allow_all(d: dict[str, Any]) -> None:
        d["x-google-allow"] = "all"

    for change in (open_operation, no_default, http_issuer, allow_all):
        assert flagged("GCP-API-001", with_document(change), PUBLIC) == {endpoints.name}, change
    assert flagged("GCP-API-001", _with(resources, endpoints, openapiConfig=DROP), PUBLIC) == {
        endpoints.name
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"ingress": "INGRESS_TRAFFIC_ALL"},
        {"defaultUriDisabled": False},
        {"template.serviceAccount": DROP},
        {"template.containers.0.envs": []},
    ],
)
def test_proxy_bypass_policy(changes: dict[str, Any]) -> None:
    resources = _run()
    proxy = _one(resources, RUN)
    assert flagged("GCP-API-002", resources, PUBLIC) == set()
    assert flagged("GCP-API-002", _with(resources, proxy, **changes), PUBLIC) == {proxy.name}


@pytest.mark.parametrize("mode", ["private", "public"])
def test_throttle_policy_bounds_the_rate(mode: str) -> None:
    requirements = PRIVATE if mode == "private" else PUBLIC
    limit = requirements.setting("gateway_rate_limit")
    resources = _run(mode=mode, rate_limit=limit)
    armor = _one(resources, REGION_ARMOR if mode == "private" else ARMOR)
    index = next(i for i, r in enumerate(armor.inputs["rules"]) if r["action"] == "throttle")
    at = f"rules.{index}"
    assert flagged("GCP-API-003", resources, requirements) == set()
    above = {f"{at}.rateLimitOptions.rateLimitThreshold.count": (limit + 1) * 60}
    for changes in (
        above,
        {f"{at}.rateLimitOptions.exceedAction": "allow"},
        {f"{at}.match.config.srcIpRanges": ["10.0.0.0/8"]},
        {f"{at}.action": "allow"},
        # the default allow rule moved before the throttle: nothing is counted
        {f"rules.{len(armor.inputs['rules']) - 1}.priority": 1},
    ):
        assert flagged("GCP-API-003", _with(resources, armor, **changes), requirements) == {
            armor.name
        }, changes


def test_waf_policy_needs_every_rule_on_public_only() -> None:
    resources = _run()
    armor = _one(resources, ARMOR)
    assert flagged("GCP-API-004", resources, PUBLIC) == set()
    dropped = _with(resources, armor, rules=armor.inputs["rules"][1:])
    assert flagged("GCP-API-004", dropped, PUBLIC) == {armor.name}
    preview = _with(resources, armor, **{"rules.0.preview": True})
    assert flagged("GCP-API-004", preview, PUBLIC) == {armor.name}
    assert flagged("GCP-API-004", dropped, PRIVATE) == set()
    # the throttle (which admits requests under its rate) moved before the WAF rules
    throttle = next(i for i, r in enumerate(armor.inputs["rules"]) if r["action"] == "throttle")
    early = _with(resources, armor, **{f"rules.{throttle}.priority": 1})
    assert flagged("GCP-API-004", early, PUBLIC) == {armor.name}


def test_exposure_policy() -> None:
    public = _run()
    backend = _one(public, BACKEND)
    assert flagged("GCP-API-005", public, PUBLIC) == set()
    assert flagged("GCP-API-005", _with(public, backend, securityPolicy=DROP), PUBLIC) == {
        backend.name
    }
    # a private gateway on an external load balancer
    assert flagged("GCP-API-005", public, PRIVATE) == {backend.name}
    private = _run(mode="private")
    assert flagged("GCP-API-005", private, PRIVATE) == set()
    regional = _one(private, REGION_BACKEND)
    unthrottled = _with(private, regional, securityPolicy=DROP)
    assert flagged("GCP-API-005", unthrottled, PRIVATE) == {regional.name}


def test_logging_policy_no_headers_for_restricted() -> None:
    resources = _run()
    backend = _one(resources, BACKEND)
    assert flagged("GCP-API-006", resources, PUBLIC) == set()
    for changes in (
        {"logConfig.enable": False},
        {"logConfig.sampleRate": 0.5},
        {"logConfig": DROP},
    ):
        assert flagged("GCP-API-006", _with(resources, backend, **changes), PUBLIC) == {
            backend.name
        }
    headers = _run(log_headers=True)
    proxy = _one(headers, RUN)
    assert flagged("GCP-API-006", headers, PUBLIC) == {proxy.name}
    assert (
        flagged("GCP-API-006", headers, reqs(api_gateway="public", data_sensitivity="internal"))
        == set()
    )


def test_tls_policy() -> None:
    resources = _run(domain="api.example.com")
    assert flagged("GCP-API-007", resources, PUBLIC) == set()
    policy = _one(resources, SSL_POLICY)
    proxy = _one(resources, PROXY)
    backend = _one(resources, BACKEND)
    assert flagged("GCP-API-007", _with(resources, policy, minTlsVersion="TLS_1_0"), PUBLIC) == {
        policy.name,
        proxy.name,
    }
    assert flagged("GCP-API-007", _with(resources, policy, profile="COMPATIBLE"), PUBLIC) == {
        policy.name,
        proxy.name,
    }
    assert flagged("GCP-API-007", _with(resources, proxy, sslPolicy=DROP), PUBLIC) == {proxy.name}
    assert flagged("GCP-API-007", _with(resources, backend, protocol="HTTP"), PUBLIC) == {
        backend.name
    }


def test_tls_policy_needs_a_policy_only_in_the_workload_stack() -> None:
    from gcp.gcp_policy_support import res

    endpoint = res("gcp:vertex/aiEndpoint:AiEndpoint", "endpoint", {"region": REGION})
    # the state backend's stack (no AI workload) holds no gateway
    assert flagged("GCP-API-007", [], PUBLIC) == set()
    assert flagged("GCP-API-007", [endpoint], PUBLIC) == {"(stack)"}


# ------------------------------------------------------------------- generated projects
@pytest.mark.parametrize("variant", ["private-gateway", "public-restricted-pci"])
def test_generated_project_with_a_gateway(
    variant: str, gcp_projects: dict[str, GeneratedRun]
) -> None:
    project = gcp_projects[variant]
    resources = project.run.custom_resources
    document = _openapi(resources)
    assert document["securityDefinitions"]["oidc"]["x-google-audiences"] == f"api://gcp-{variant}"
    armor_type = REGION_ARMOR if variant == "private-gateway" else ARMOR
    (throttle,) = [
        r for r in _one(resources, armor_type).inputs["rules"] if r["action"] == "throttle"
    ]
    rate = project.config["gateway_rate_limit"]
    assert throttle["rateLimitOptions"]["rateLimitThreshold"]["count"] == rate * 60
    proxy_only = [r for r in resources if r.type == SUBNET and r.inputs.get("purpose")]
    if variant == "private-gateway":
        assert len(proxy_only) == 1
        # no certificate yet: the first deploy creates no frontend, every call answers 503
        assert not [r for r in resources if r.type == REGION_RULE]
        assert _one(resources, REGION_URL_MAP).inputs["defaultRouteAction"]
    else:
        assert not proxy_only
        (frontend,) = [r for r in resources if r.name.endswith("-gateway-frontend")]
        assert frontend.type == GLOBAL_RULE
        assert frontend.inputs["loadBalancingScheme"] == "EXTERNAL_MANAGED"
        assert "x-google-backend" in document
        assert "defaultRouteAction" not in _one(resources, URL_MAP).inputs


def test_without_a_gateway_no_gateway_resource(gcp_projects: dict[str, GeneratedRun]) -> None:
    resources = gcp_projects["defaults"].run.custom_resources
    assert not [r for r in resources if r.type in (ENDPOINTS, RUN, ARMOR, REGION_ARMOR)]
    assert not [r for r in resources if r.type == SUBNET and r.inputs.get("purpose")]


# ------------------------------------------------------------------- deploy rules
def _fired(rule_id: str, resources: list[CapturedResource]) -> list[str]:
    from aiscaffold_components.deploy import DeployContext, deploy_rules
    from aiscaffold_components.policies import Resource

    (rule,) = [r for r in deploy_rules("gcp") if r.id == rule_id]
    views = [
        Resource(type=r.type, name=r.name, urn=r.urn, props=r.inputs, parent=r.parent)
        for r in resources
        if r.custom
    ]
    context = DeployContext(cloud="gcp", region=REGION)
    return [r.name if r else "(stack)" for r, _ in rule.evaluate(views, context)]


def _private_stack(**network: Any) -> list[CapturedResource]:
    def build() -> None:
        net = Network("net", NetworkArgs(project=PROJECT, region=REGION, **network))
        ApiGateway(
            "gw",
            _args(
                mode="private",
                network_id=net.network_id,
                subnet_id=net.subnet_id,
                certificate=PEM,
                private_key="key",
            ),
            opts=pulumi.ResourceOptions(depends_on=[net]),
        )

    return run_component(build).custom_resources


def test_deploy_rule_internal_load_balancer_needs_a_proxy_only_subnet() -> None:
    fixed = _private_stack(proxy_only_subnet_cidr="10.10.16.0/23")
    assert _fired("GCP-DEPLOY-032", fixed) == []
    assert _fired("GCP-DEPLOY-031", fixed) == []
    assert _fired("GCP-DEPLOY-032", _private_stack()) == ["gw-frontend"]


def test_deploy_rule_proxy_only_subnet_role_and_logs() -> None:
    resources = _private_stack(proxy_only_subnet_cidr="10.10.16.0/23")
    subnet = next(r for r in resources if r.name == "net-proxy-only")
    assert _fired("GCP-DEPLOY-031", _with(resources, subnet, role=DROP)) == [subnet.name]
    logged = _with(resources, subnet, logConfig={"metadata": "INCLUDE_ALL_METADATA"})
    assert _fired("GCP-DEPLOY-031", logged) == [subnet.name]


def test_deploy_rule_cloud_run_service_id() -> None:
    resources = _run()
    proxy = _one(resources, RUN)
    assert _fired("GCP-DEPLOY-030", resources) == []
    assert _fired("GCP-DEPLOY-030", _with(resources, proxy, name="x" * 50)) == [proxy.name]
    assert _fired("GCP-DEPLOY-030", _with(resources, proxy, name="Gateway_1")) == [proxy.name]


@pytest.mark.parametrize("variant", ["private-gateway", "public-restricted-pci"])
def test_generated_gateway_projects_meet_no_gateway_deploy_rule(
    variant: str, gcp_projects: dict[str, GeneratedRun]
) -> None:
    resources = gcp_projects[variant].run.custom_resources
    for rule in ("GCP-DEPLOY-030", "GCP-DEPLOY-031", "GCP-DEPLOY-032"):
        assert _fired(rule, resources) == [], rule


def test_turning_the_gateway_on_only_adds_resources(gcp_projects: dict[str, GeneratedRun]) -> None:
    """The same answers with api_gateway private (an update of a 0.2.0 project that turns
    it on) keep every resource's type, parent and name: the gateway adds, renames none."""

    def shape(project: GeneratedRun) -> set[tuple[str, str]]:
        prefix = project.project
        return {
            (r.type, r.urn.split("::", 2)[2].replace(prefix, "<p>")) for r in project.run.resources
        }

    before, after = shape(gcp_projects["defaults"]), shape(gcp_projects["private-gateway"])
    assert before <= after
    added = {name for _, name in after - before}
    assert added and all("gateway" in n or "proxy-only" in n or "api-" in n for n in added), added
