"""The AWS AI gateway (issue 20, API-01..05): ApiGateway, its authorizer, policies, deploy rules.

Component runs check the security-relevant inputs per mode (private, public); policy
tests take those resources, weaken one input and assert the exact set flagged; the
liveness run proves each AWS-API policy killed by a derived mutation; the generated
gateway projects check clean and ``none`` registers no gateway resource.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.liveness import run_all_mutations
from aiscaffold.testing import CapturedResource, MockRun
from aiscaffold_components.aws import ApiGateway, ApiGatewayArgs
from aiscaffold_components.aws import _jwt_authorizer as authorizer_code
from aiscaffold_components.aws.gateway import MANAGED_RULE_GROUPS, SECURITY_POLICY
from aiscaffold_components.deploy import DeployContext, deploy_rules
from aiscaffold_components.policies import Requirements, Resource
from aws.aws_support import ACCOUNT, KEY, REGION, TAGS, run_component

ISSUER = "https://login.example.com/tenant/v2.0"
AUDIENCE = "api://unit"
LAMBDA = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:unit-app"
ALB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/unit/0123456789abcdef"
API_POLICIES = [f"AWS-API-00{i}" for i in range(1, 8)]

METHOD = "aws:apigateway/method:Method"
SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
INTEGRATION = "aws:apigateway/integration:Integration"
REST_API = "aws:apigateway/restApi:RestApi"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"


def gateway_args(mode: str = "public", **changes: Any) -> ApiGatewayArgs:
    """The component's arguments for a unit project (restricted data's limits)."""
    base = ApiGatewayArgs(
        name_prefix="unit-test",
        mode=mode,  # type: ignore[arg-type]
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        rate_limit=5,
        burst_limit=10,
        logs_key_arn=KEY,
        log_retention_days=365,
        tags=TAGS,
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr="10.0.0.0/16",
        subnet_ids=["subnet-0a", "subnet-0b"],
        manage_account_logging_role=True,
    )
    return dataclasses.replace(base, **changes)


def gateway_run(mode: str = "public", **changes: Any) -> MockRun:
    args = gateway_args(mode, **changes)
    return run_component(lambda: ApiGateway("gateway", args))


def of(run: MockRun, type_: str) -> list[CapturedResource]:
    return [r for r in run.resources if r.type == type_]


def one(run: MockRun, type_: str) -> CapturedResource:
    (found,) = of(run, type_)
    return found


def requirements(mode: str, sensitivity: str = "restricted") -> Requirements:
    return Requirements.model_validate(
        {
            "cloud": "aws",
            "ai_service": "bedrock",
            "data_sensitivity": sensitivity,
            "compliance": [],
            "api_gateway": mode,
        }
    )


def report_of(run: MockRun, mode: str, sensitivity: str = "restricted") -> Any:
    return evaluate(run, requirements(mode, sensitivity))


def flagged(report: Any, policy: str) -> set[str]:
    return {f.resource for f in report.violations if f.policy == policy}


def edit(run: MockRun, name: str, change: Callable[[dict[str, Any]], None]) -> MockRun:
    resources = []
    for r in run.resources:
        if r.name == name and r.custom:
            inputs = copy.deepcopy(r.inputs)
            change(inputs)
            r = dataclasses.replace(r, inputs=inputs)
        resources.append(r)
    return MockRun(run.project, run.stack, run.config, resources, run.warnings, run.outputs)


@pytest.fixture(scope="module")
def public() -> MockRun:
    return gateway_run("public")


@pytest.fixture(scope="module")
def private() -> MockRun:
    return gateway_run("private")


# ------------------------------------------------------------------ component
@pytest.mark.parametrize("mode", ["private", "public"])
def test_every_method_requires_the_oidc_authorizer(mode: str) -> None:
    run = gateway_run(mode)
    methods = of(run, METHOD)
    assert len(methods) == 2  # / and /{proxy+}: every path of the API
    for method in methods:
        assert method.inputs["authorization"] == "CUSTOM"
        assert method.inputs["authorizerId"]
        assert method.inputs["apiKeyRequired"] is False  # no API keys by default
    auth = one(run, "aws:apigateway/authorizer:Authorizer")
    assert auth.inputs["type"] == "TOKEN"
    assert auth.inputs["identitySource"] == "method.request.header.Authorization"
    function = one(run, "aws:lambda/function:Function")
    assert function.inputs["environment"]["variables"] == {
        "OIDC_ISSUER": ISSUER,
        "OIDC_AUDIENCE": AUDIENCE,
    }
    assert "vpcConfig" not in function.inputs  # reaches the issuer's keys
    permission = next(
        p
        for p in of(run, "aws:lambda/permission:Permission")
        if p.name.endswith("authorizer-invoke")
    )
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    assert "/authorizers/" in permission.inputs["sourceArn"]


@pytest.mark.parametrize("mode", ["private", "public"])
def test_throttling_logging_and_tls_come_from_the_arguments(mode: str) -> None:
    run = gateway_run(mode, rate_limit=7, burst_limit=14)
    settings = one(run, SETTINGS)
    assert settings.inputs["methodPath"] == "*/*"
    assert settings.inputs["settings"] == {
        "throttlingRateLimit": 7,
        "throttlingBurstLimit": 14,
        "loggingLevel": "ERROR",
        "dataTraceEnabled": False,
        "metricsEnabled": True,
    }
    stage = one(run, "aws:apigateway/stage:Stage")
    assert stage.inputs["xrayTracingEnabled"] is True
    log_format = json.loads(stage.inputs["accessLogSettings"]["format"])
    assert log_format["principal"] == "$context.authorizer.principalId"
    assert not any("body" in v.lower() for v in log_format.values())
    access = next(r for r in of(run, "aws:cloudwatch/logGroup:LogGroup") if "access" in r.name)
    assert access.inputs["kmsKeyId"] == KEY
    api = one(run, REST_API)
    assert api.inputs["securityPolicy"] == SECURITY_POLICY
    assert api.inputs["endpointAccessMode"] == "STRICT"


def test_public_gateway_is_behind_the_waf(public: MockRun) -> None:
    api = one(public, REST_API)
    assert api.inputs["endpointConfiguration"]["types"] == "REGIONAL"
    acl = one(public, WEB_ACL)
    assert acl.inputs["scope"] == "REGIONAL"
    groups = [
        r["statement"]["managedRuleGroupStatement"]["name"]
        for r in acl.inputs["rules"]
        if "managedRuleGroupStatement" in r["statement"]
    ]
    assert groups == list(MANAGED_RULE_GROUPS)
    (rate,) = [r for r in acl.inputs["rules"] if "rateBasedStatement" in r["statement"]]
    assert rate["action"] == {"block": {}}
    assert rate["statement"]["rateBasedStatement"] == {
        "limit": 300,  # 5 requests/s over the 60-second window
        "evaluationWindowSec": 60,
        "aggregateKeyType": "IP",
    }
    association = one(public, "aws:wafv2/webAclAssociation:WebAclAssociation")
    assert association.inputs["resourceArn"].endswith("/stages/v1")
    logging = one(public, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    (destination,) = logging.inputs["logDestinationConfigs"]
    assert ":log-group:aws-waf-logs-unit-test-gateway" in destination
    assert logging.inputs["redactedFields"] == [{"singleHeader": {"name": "authorization"}}]
    assert not of(public, "aws:ec2/vpcEndpoint:VpcEndpoint")


def test_private_gateway_is_reached_through_the_project_endpoint_only(private: MockRun) -> None:
    endpoint = one(private, "aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint.inputs["serviceName"] == f"com.amazonaws.{REGION}.execute-api"
    assert endpoint.inputs["privateDnsEnabled"] is True
    assert endpoint.inputs["subnetIds"] == ["subnet-0a", "subnet-0b"]
    api = one(private, REST_API)
    assert api.inputs["endpointConfiguration"]["types"] == "PRIVATE"
    assert api.inputs["endpointConfiguration"]["vpcEndpointIds"]
    doc = json.loads(one(private, "aws:apigateway/restApiPolicy:RestApiPolicy").inputs["policy"])
    (deny,) = [s for s in doc["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"]["StringNotEquals"]["aws:SourceVpce"]
    assert not of(private, WEB_ACL)
    ingress = one(private, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert (ingress.inputs["cidrIpv4"], ingress.inputs["fromPort"]) == ("10.0.0.0/16", 443)


def test_without_a_backend_every_route_answers_503(public: MockRun) -> None:
    integrations = of(public, INTEGRATION)
    assert len(integrations) == 2 and all(i.inputs["type"] == "MOCK" for i in integrations)
    answers = of(public, "aws:apigateway/integrationResponse:IntegrationResponse")
    assert {a.inputs["statusCode"] for a in answers} == {"503"}
    assert all(
        "gateway_backend" in a.inputs["responseTemplates"]["application/json"] for a in answers
    )


def test_a_lambda_backend_is_a_proxy_integration_scoped_to_this_api() -> None:
    run = gateway_run("public", backend=LAMBDA)
    integrations = of(run, INTEGRATION)
    assert {i.inputs["type"] for i in integrations} == {"AWS_PROXY"}
    assert all(LAMBDA in i.inputs["uri"] for i in integrations)
    assert not of(run, "aws:apigateway/integrationResponse:IntegrationResponse")
    permission = next(
        p for p in of(run, "aws:lambda/permission:Permission") if p.name.endswith("backend-invoke")
    )
    assert permission.inputs["function"] == LAMBDA
    assert permission.inputs["sourceArn"].startswith(f"arn:aws:execute-api:{REGION}:{ACCOUNT}:")


def test_a_load_balancer_backend_goes_through_a_vpc_link_over_https() -> None:
    run = gateway_run("private", backend=ALB, backend_host="app.internal.example.com")
    link = one(run, "aws:apigatewayv2/vpcLink:VpcLink")
    assert link.inputs["subnetIds"] == ["subnet-0a", "subnet-0b"]
    for integration in of(run, INTEGRATION):
        assert integration.inputs["type"] == "HTTP_PROXY"
        assert integration.inputs["connectionType"] == "VPC_LINK"
        assert integration.inputs["integrationTarget"] == ALB
        assert integration.inputs["uri"].startswith("https://app.internal.example.com/")


def test_api_keys_only_for_named_clients(public: MockRun) -> None:
    assert not of(public, "aws:apigateway/apiKey:ApiKey")
    run = gateway_run("public", clients=["partner-a", "partner-b"])
    assert len(of(run, "aws:apigateway/apiKey:ApiKey")) == 2
    plan = one(run, "aws:apigateway/usagePlan:UsagePlan")
    assert plan.inputs["throttleSettings"] == {"rateLimit": 5, "burstLimit": 10}
    assert plan.inputs["quotaSettings"] == {"limit": 18000, "period": "DAY"}
    assert all(m.inputs["apiKeyRequired"] is True for m in of(run, METHOD))


def test_the_account_logging_role_follows_account_services(public: MockRun) -> None:
    account = one(public, "aws:apigateway/account:Account")
    stage = one(public, "aws:apigateway/stage:Stage")
    assert account.urn in stage.dependencies
    shared = gateway_run("public", manage_account_logging_role=False)
    assert not of(shared, "aws:apigateway/account:Account")


def test_custom_domain_uses_tls_1_2() -> None:
    run = gateway_run(
        "public",
        domain_name="ai.example.com",
        certificate_arn=f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/abc",
    )
    domain = one(run, "aws:apigateway/domainName:DomainName")
    assert domain.inputs["securityPolicy"] == "TLS_1_2"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mode": "internal"}, "mode must be private or public"),
        ({"oidc_issuer": "http://login.example.com"}, "https URL"),
        ({"oidc_audience": " "}, "oidc_audience"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"burst_limit": 6000}, "burst_limit"),
        ({"authorizer_cache_seconds": 7200}, "authorizer_cache_seconds"),
        ({"backend": "https://bedrock-runtime.us-east-1.amazonaws.com"}, "never the model"),
        ({"backend": ALB}, "backend_host"),
        ({"domain_name": "ai.example.com"}, "certificate_arn"),
        ({"clients": ["a", "a"]}, "distinct"),
        ({"waf_rate_limit": 5}, "waf_rate_limit"),
        ({"stage_name": "v 1"}, "stage_name"),
    ],
)
def test_bad_arguments_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ApiGateway("gateway", gateway_args(**{"mode": "public", **changes}))


def test_private_mode_needs_its_subnets() -> None:
    with pytest.raises(ValueError, match="subnet_ids"):
        ApiGateway("gateway", gateway_args("private", subnet_ids=()))


# ------------------------------------------------------------------ policies
@pytest.mark.parametrize("mode", ["private", "public"])
def test_the_component_passes_every_gateway_policy(mode: str) -> None:
    report = report_of(gateway_run(mode), mode)
    assert not [f for f in report.violations if f.policy.startswith("AWS-API-")]
    assert set(API_POLICIES) <= set(report.passed)


def test_no_gateway_means_not_applicable(public: MockRun) -> None:
    report = report_of(public, "none")
    assert not set(API_POLICIES) & set(report.passed)
    assert not [f for f in report.violations if f.policy.startswith("AWS-API-")]


def test_api_001_flags_an_anonymous_method(public: MockRun) -> None:
    run = edit(public, "gateway-proxy-any", lambda i: i.update(authorization="NONE"))
    assert flagged(report_of(run, "public"), "AWS-API-001") == {"gateway-proxy-any"}
    run = edit(public, "gateway-root-any", lambda i: i.pop("authorizerId"))
    assert flagged(report_of(run, "public"), "AWS-API-001") == {"gateway-root-any"}


def test_api_002_flags_an_authorizer_without_issuer_or_audience(public: MockRun) -> None:
    run = edit(
        public,
        "gateway-authorizer",
        lambda i: i["environment"]["variables"].pop("OIDC_AUDIENCE"),
    )
    assert flagged(report_of(run, "public"), "AWS-API-002") == {"gateway-authorizer"}
    run = edit(public, "gateway-jwt", lambda i: i.update(identitySource="method.request.header.X"))
    assert flagged(report_of(run, "public"), "AWS-API-002") == {"gateway-jwt"}
    run = edit(public, "gateway-jwt", lambda i: i.update(authorizerResultTtlInSeconds=7200))
    assert flagged(report_of(run, "public"), "AWS-API-002") == {"gateway-jwt"}


def test_api_003_flags_limits_above_the_profile() -> None:
    # restricted: 5 requests/s, bursts of 10 (catalog settings)
    over = gateway_run("public", rate_limit=6)
    assert flagged(report_of(over, "public"), "AWS-API-003") == {"gateway-settings"}
    assert not flagged(report_of(over, "public", "confidential"), "AWS-API-003")
    run = edit(
        gateway_run("public"),
        "gateway-settings",
        lambda i: i["settings"].pop("throttlingBurstLimit"),
    )
    assert flagged(report_of(run, "public"), "AWS-API-003") == {"gateway-settings"}
    run = edit(gateway_run("public"), "gateway-settings", lambda i: i.update(methodPath="~1/GET"))
    assert flagged(report_of(run, "public"), "AWS-API-003") == {"gateway-stage"}


def test_api_004_flags_a_missing_or_weak_waf(public: MockRun) -> None:
    def drop_group(inputs: dict[str, Any]) -> None:
        inputs["rules"] = inputs["rules"][1:]

    run = edit(public, "gateway-waf", drop_group)
    assert flagged(report_of(run, "public"), "AWS-API-004") == {"gateway-waf"}

    def count_only(inputs: dict[str, Any]) -> None:
        inputs["rules"][0]["overrideAction"] = {"count": {}}

    assert flagged(report_of(edit(public, "gateway-waf", count_only), "public"), "AWS-API-004") == {
        "gateway-waf"
    }
    resources = [
        r for r in public.resources if r.type != "aws:wafv2/webAclAssociation:WebAclAssociation"
    ]
    run = MockRun(public.project, public.stack, public.config, resources, [], {})
    assert flagged(report_of(run, "public"), "AWS-API-004") == {"gateway-stage"}
    # an internet-facing API in a project that chose a private gateway
    assert flagged(report_of(public, "private"), "AWS-API-004") == {"gateway-api"}


def test_api_004_flags_a_private_api_open_to_other_paths(private: MockRun) -> None:
    resources = [
        r for r in private.resources if r.type != "aws:apigateway/restApiPolicy:RestApiPolicy"
    ]
    run = MockRun(private.project, private.stack, private.config, resources, [], {})
    assert flagged(report_of(run, "private"), "AWS-API-004") == {"gateway-api"}


def test_api_005_flags_body_logging_for_sensitive_data() -> None:
    run = gateway_run("public", log_bodies=True)
    assert flagged(report_of(run, "public", "restricted"), "AWS-API-005") == {"gateway-settings"}
    assert flagged(report_of(run, "public", "confidential"), "AWS-API-005") == {"gateway-settings"}
    # public and internal data may keep bodies for debugging
    assert not flagged(report_of(run, "public", "internal"), "AWS-API-005")


def test_api_005_flags_unencrypted_or_missing_access_logs(public: MockRun) -> None:
    run = edit(public, "gateway-access-logs", lambda i: i.pop("kmsKeyId"))
    assert flagged(report_of(run, "public"), "AWS-API-005") == {"gateway-stage"}
    run = edit(public, "gateway-stage", lambda i: i.pop("accessLogSettings"))
    assert flagged(report_of(run, "public"), "AWS-API-005") == {"gateway-stage"}
    run = edit(public, "gateway-waf-logs", lambda i: i.pop("kmsKeyId"))
    assert flagged(report_of(run, "public"), "AWS-API-005") == {"gateway-waf-logging"}


def test_api_006_flags_tls_below_1_2(public: MockRun) -> None:
    run = edit(public, "gateway-api", lambda i: i.pop("securityPolicy"))
    assert flagged(report_of(run, "public"), "AWS-API-006") == {"gateway-api"}
    run = edit(public, "gateway-api", lambda i: i.update(securityPolicy="TLS_1_0"))
    assert flagged(report_of(run, "public"), "AWS-API-006") == {"gateway-api"}
    alb = gateway_run("private", backend=ALB, backend_host="app.internal.example.com")
    run = edit(alb, "gateway-proxy-integration", lambda i: i.update(uri="http://app/{proxy}"))
    assert flagged(report_of(run, "private"), "AWS-API-006") == {"gateway-proxy-integration"}


def test_api_007_flags_a_permission_for_any_api() -> None:
    run = gateway_run("public", backend=LAMBDA)
    unscoped = edit(run, "gateway-backend-invoke", lambda i: i.pop("sourceArn"))
    assert flagged(report_of(unscoped, "public"), "AWS-API-007") == {"gateway-backend-invoke"}
    wide = edit(
        run,
        "gateway-authorizer-invoke",
        lambda i: i.update(sourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:*"),
    )
    assert flagged(report_of(wide, "public"), "AWS-API-007") == {"gateway-authorizer-invoke"}


def test_api_005_flags_waf_logging_without_destination(public: MockRun) -> None:
    run = edit(public, "gateway-waf-logging", lambda i: i.pop("logDestinationConfigs"))
    assert flagged(report_of(run, "public"), "AWS-API-005") == {"gateway-waf-logging"}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["private", "public"])
def test_every_gateway_policy_is_killed_by_a_derived_mutation(mode: str) -> None:
    backend = {"backend": LAMBDA} if mode == "public" else {"backend": ALB}
    run = gateway_run(mode, backend_host="app.internal.example.com", **backend)
    proof = run_all_mutations(run, requirements(mode), exhaustive=False)
    killers = {policy for _, found in proof.outcomes for policy in found}
    assert set(API_POLICIES) <= killers, sorted(set(API_POLICIES) - killers)


# ------------------------------------------------------------------ the authorizer's code
@pytest.fixture(scope="module")
def signer() -> tuple[dict[str, Any], Callable[..., str]]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    def as_b64(number: int) -> str:
        return b64(number.to_bytes((number.bit_length() + 7) // 8, "big"))

    jwk = {"kty": "RSA", "kid": "k1", "n": as_b64(numbers.n), "e": as_b64(numbers.e)}

    def sign(claims: dict[str, Any], alg: str = "RS256", kid: str = "k1") -> str:
        head = b64(json.dumps({"alg": alg, "kid": kid, "typ": "JWT"}).encode())
        body = b64(json.dumps(claims).encode())
        digest = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}
        signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), digest[alg])
        return f"{head}.{body}.{b64(signature)}"

    return jwk, sign


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "exp": now + 600, **changes}


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_the_authorizer_accepts_a_valid_token(
    signer: tuple[dict[str, Any], Callable[..., str]], alg: str
) -> None:
    jwk, sign = signer
    token = sign(_claims(aud=["other", AUDIENCE]), alg=alg)
    claims = authorizer_code.claims_of(token, issuer=ISSUER, audience=AUDIENCE, keys={"k1": jwk})
    assert claims["sub"] == "user-1"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (_claims(iss="https://evil.example.com"), "wrong issuer"),
        (_claims(aud="api://other"), "wrong audience"),
        (_claims(exp=int(time.time()) - 3600), "expired"),
        (_claims(nbf=int(time.time()) + 3600), "not yet valid"),
    ],
)
def test_the_authorizer_refuses_wrong_claims(
    signer: tuple[dict[str, Any], Callable[..., str]], claims: dict[str, Any], reason: str
) -> None:
    jwk, sign = signer
    with pytest.raises(authorizer_code.Unauthorized, match=reason):
        authorizer_code.claims_of(sign(claims), issuer=ISSUER, audience=AUDIENCE, keys={"k1": jwk})


def test_the_authorizer_refuses_forged_and_unsigned_tokens(
    signer: tuple[dict[str, Any], Callable[..., str]],
) -> None:
    jwk, sign = signer
    head, body, sig = sign(_claims()).split(".")
    forged_body = base64.urlsafe_b64encode(json.dumps(_claims(sub="admin")).encode()).rstrip(b"=")
    with pytest.raises(authorizer_code.Unauthorized, match="bad signature"):
        authorizer_code.claims_of(
            f"{head}.{forged_body.decode()}.{sig}",
            issuer=ISSUER,
            audience=AUDIENCE,
            keys={"k1": jwk},
        )
    none_head = base64.urlsafe_b64encode(b'{"alg":"none","kid":"k1"}').rstrip(b"=").decode()
    with pytest.raises(authorizer_code.Unauthorized, match="refused"):
        authorizer_code.claims_of(
            f"{none_head}.{body}.", issuer=ISSUER, audience=AUDIENCE, keys={"k1": jwk}
        )
    with pytest.raises(authorizer_code.Unauthorized, match="unknown signing key"):
        authorizer_code.claims_of(
            sign(_claims(), kid="k2"), issuer=ISSUER, audience=AUDIENCE, keys={"k1": jwk}
        )


def test_the_authorizer_handler_allows_the_stage_and_denies_without_a_bearer(
    signer: tuple[dict[str, Any], Callable[..., str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    jwk, sign = signer
    monkeypatch.setenv("OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("OIDC_AUDIENCE", AUDIENCE)
    monkeypatch.setattr(authorizer_code, "_signing_keys", lambda issuer, refresh=False: {"k1": jwk})
    arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/v1/POST/chat"
    answer = authorizer_code.handler(
        {"authorizationToken": f"Bearer {sign(_claims())}", "methodArn": arn}, None
    )
    assert answer["principalId"] == "user-1"
    (grant,) = answer["policyDocument"]["Statement"]
    assert grant == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/v1/*",
    }
    with pytest.raises(Exception, match="Unauthorized"):
        authorizer_code.handler({"authorizationToken": "Basic dXNlcg==", "methodArn": arn}, None)
    token = sign(_claims(aud="api://other"))
    with pytest.raises(Exception, match="Unauthorized"):
        authorizer_code.handler({"authorizationToken": f"Bearer {token}", "methodArn": arn}, None)


# ------------------------------------------------------------------ deploy rules
def _views(run: MockRun) -> list[Resource]:
    return [
        Resource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            props=copy.deepcopy(r.inputs),
            dependencies=tuple(r.dependencies),
        )
        for r in run.resources
        if r.custom
    ]


def fired(rule_id: str, run: MockRun) -> set[str]:
    rule = next(r for r in deploy_rules("aws") if r.id == rule_id)
    context = DeployContext(cloud="aws", region=REGION, config={})
    return {
        resource.name if resource else "(stack)"
        for resource, _ in rule.evaluate(_views(run), context)
    }


@pytest.mark.parametrize("mode", ["private", "public"])
def test_deploy_rules_are_silent_on_the_component(mode: str) -> None:
    run = gateway_run(mode)
    for rule_id in (
        "AWS-DEPLOY-031",
        "AWS-DEPLOY-032",
        "AWS-DEPLOY-033",
        "AWS-DEPLOY-034",
        "AWS-DEPLOY-035",
    ):
        assert not fired(rule_id, run), rule_id
    assert fired("AWS-DEPLOY-030", run) == {"gateway-account"}


def _without_dependencies(run: MockRun, name: str) -> MockRun:
    resources = [
        dataclasses.replace(r, dependencies=()) if r.name == name else r for r in run.resources
    ]
    return MockRun(run.project, run.stack, run.config, resources, run.warnings, run.outputs)


def test_deploy_rules_fire_on_what_aws_refuses(private: MockRun, public: MockRun) -> None:
    assert fired("AWS-DEPLOY-031", _without_dependencies(public, "gateway-stage")) == {
        "gateway-stage"
    }
    bad_name = edit(
        public,
        "gateway-waf-logging",
        lambda i: i.update(
            logDestinationConfigs=[f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:waf"]
        ),
    )
    assert fired("AWS-DEPLOY-032", bad_name) == {"gateway-waf-logging"}
    assert fired("AWS-DEPLOY-033", _without_dependencies(public, "gateway-deployment")) == {
        "gateway-deployment"
    }
    assert fired(
        "AWS-DEPLOY-034", edit(public, "gateway-api", lambda i: i.pop("endpointAccessMode"))
    ) == {"gateway-api"}
    assert fired("AWS-DEPLOY-035", _without_dependencies(private, "gateway-deployment")) == {
        "gateway-deployment"
    }


# ------------------------------------------------------------------ generated projects
@pytest.mark.slow
@pytest.mark.parametrize("name", ["gateway-private", "gateway-public"])
def test_gateway_projects_check_clean(
    name: str, aws_project: Callable[[str], Path], aws_run: Callable[[str], MockRun]
) -> None:
    project = aws_project(name)
    report = evaluate(aws_run(name), load_requirements(project))
    assert not report.mandatory, [f.message for f in report.mandatory]
    assert set(API_POLICIES) <= set(report.passed)
    assert not [f for f in report.violations if f.policy.startswith("AWS-API-")]
    assert not [f for f in report.deploy_findings if f.category == "deploy-failure"]


@pytest.mark.slow
def test_the_public_project_forwards_to_its_backend(
    aws_run: Callable[[str], MockRun],
) -> None:
    run = aws_run("gateway-public")
    assert {i.inputs["type"] for i in of(run, INTEGRATION)} == {"AWS_PROXY"}
    assert not of(run, "aws:apigateway/apiKey:ApiKey")  # no gateway_clients
    settings = one(run, SETTINGS).inputs
    assert settings["settings"]["throttlingRateLimit"] == 5  # restricted data
    assert settings["settings"]["dataTraceEnabled"] is False


@pytest.mark.slow
def test_no_gateway_registers_no_gateway_resource(aws_run: Callable[[str], MockRun]) -> None:
    run = aws_run("defaults")
    assert not [
        r
        for r in run.resources
        if r.type.startswith(("aws:apigateway", "aws:wafv2", "aws:lambda"))
        or r.type == "aiscaffold:aws:ApiGateway"
    ]


# ------------------------------------------------------------------ the endpoint exemption
def test_the_execute_api_endpoint_grant_passes_only_with_a_gateway(private: MockRun) -> None:
    """AWS-VPCE-002 admits the execute-api endpoint's principal-less grant (callers bring
    tokens, not AWS credentials) only with a gateway chosen, and only for
    execute-api:Invoke on execute-api ARNs."""
    assert not flagged(report_of(private, "private"), "AWS-VPCE-002")
    assert flagged(report_of(private, "none"), "AWS-VPCE-002") == {"gateway-execute-api"}

    def widen(change: Callable[[dict[str, Any]], None]) -> MockRun:
        def edit_policy(inputs: dict[str, Any]) -> None:
            doc = json.loads(inputs["policy"])
            change(doc["Statement"][0])
            inputs["policy"] = json.dumps(doc)

        return edit(private, "gateway-execute-api", edit_policy)

    every_action = widen(lambda st: st.update(Action="execute-api:*"))
    assert flagged(report_of(every_action, "private"), "AWS-VPCE-002") == {"gateway-execute-api"}
    every_resource = widen(lambda st: st.update(Resource="*"))
    assert flagged(report_of(every_resource, "private"), "AWS-VPCE-002") == {"gateway-execute-api"}


@pytest.mark.slow
def test_choosing_a_gateway_adds_resources_and_renames_none(
    aws_run: Callable[[str], MockRun],
) -> None:
    """gateway-private has the default project's answers plus the gateway: every resource
    of the default project keeps its type and name, the rest belongs to the gateway."""
    before = {(r.type, r.name) for r in aws_run("defaults").resources if r.custom}
    after = aws_run("gateway-private")
    names = {(r.type, r.name) for r in after.resources if r.custom}
    assert before <= names
    gateway = next(r for r in after.resources if r.type == "aiscaffold:aws:ApiGateway")
    added = [r for r in after.resources if r.custom and (r.type, r.name) not in before]
    assert added and all(r.parent == gateway.urn for r in added)
