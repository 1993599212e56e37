"""The AI gateway (API-01..05): API Gateway REST APIs, their authorizer, limits, WAF, logs, TLS.

Every policy starts with ``gateway_chosen`` (not applicable with ``api_gateway`` none)
and then judges the values it reads; the component's constants (managed rule groups,
accepted security policies) come from :mod:`...aws.gateway`. AWS-API-001/002/007 verify
API-01, -003 API-02, -004 API-03, -005 API-04 and -006 API-05.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import (
    NotApplicable,
    Requirements,
    Resource,
    gateway_chosen,
    resource_policy,
    stack_policy,
)
from ._util import conditions, document, of_type, refers_to, statements

REST_API = "aws:apigateway/restApi:RestApi"
REST_API_POLICY = "aws:apigateway/restApiPolicy:RestApiPolicy"
METHOD = "aws:apigateway/method:Method"
AUTHORIZER = "aws:apigateway/authorizer:Authorizer"
STAGE = "aws:apigateway/stage:Stage"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
USAGE_PLAN = "aws:apigateway/usagePlan:UsagePlan"
INTEGRATION = "aws:apigateway/integration:Integration"
DOMAIN = "aws:apigateway/domainName:DomainName"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"

#: Authorization types that identify the caller (a Lambda or Cognito authorizer, IAM).
_AUTHENTICATED = ("CUSTOM", "COGNITO_USER_POOLS", "AWS_IAM")
#: API Gateway's legacy TLS 1.2 policy, and every enhanced policy (TLS 1.2 and 1.3, or
#: 1.3 only): https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies-list.html
_TLS12_OR_LATER = re.compile(r"TLS_1_2|SecurityPolicy_TLS1[23]_.+")
_FUNCTION_IN_URI = re.compile(r"functions/(?P<arn>arn:[^/]+)/invocations")
#: Sensitivities whose prompts and completions must stay out of the logs (API-04).
_NO_BODIES = ("confidential", "restricted")


def _managed_rule_groups() -> tuple[str, ...]:
    from ...aws.gateway import MANAGED_RULE_GROUPS

    return MANAGED_RULE_GROUPS


@resource_policy(
    id="AWS-API-001",
    title="Every gateway method requires an authorizer",
    severity="high",
    types=[METHOD],
    controls=["API-01"],
    remediation="Set authorization=CUSTOM and authorizer_id to the OIDC authorizer on every "
    "method (ApiGateway does); API keys alone do not identify a caller.",
)
def method_authorized(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """No anonymous route: each method names an authorizer (CUSTOM or Cognito) or IAM."""
    gateway_chosen(requirements)
    authorization = resource.get("authorization")
    if authorization not in _AUTHENTICATED:
        yield f"{resource.name} lets anyone call it (authorization {authorization or 'NONE'})"
    elif authorization != "AWS_IAM" and not resource.get("authorizerId"):
        yield f"{resource.name} uses {authorization} without an authorizer"


def _function_of(authorizer: Resource, resources: Sequence[Resource]) -> Resource | None:
    match = _FUNCTION_IN_URI.search(str(authorizer.get("authorizerUri", default="")))
    if match is None:
        return None
    arn = match.group("arn")
    for function in of_type(resources, FUNCTION):
        if refers_to(arn, function) or refers_to(arn.rsplit(":", 1)[-1], function):
            return function
    return None


@stack_policy(
    id="AWS-API-002",
    title="The gateway's authorizer validates the project's OIDC issuer and audience",
    severity="high",
    controls=["API-01"],
    remediation="Use ApiGateway's TOKEN authorizer: the Authorization header, its function "
    "with OIDC_ISSUER (https) and OIDC_AUDIENCE set to the answers, a cache of at most 3600 s.",
)
def oidc_authorizer(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Each REST API's authorizer reads the caller's bearer token and hands it to a
    function that checks it against the project's issuer and audience; an API without
    an authorizer has no authenticated route."""
    gateway_chosen(requirements)
    authorizers = of_type(resources, AUTHORIZER)
    if of_type(resources, METHOD) and not authorizers:
        yield None, "the gateway's methods exist but no authorizer does"
    for authorizer in authorizers:
        kind = authorizer.get("type", default="TOKEN")
        if kind == "COGNITO_USER_POOLS":
            if not authorizer.items("providerArns"):
                yield authorizer, f"{authorizer.name} names no Cognito user pool"
            continue
        source = str(authorizer.get("identitySource", default=""))
        if "authorization" not in source.lower():
            yield authorizer, f"{authorizer.name} does not read the Authorization header"
        ttl = authorizer.get("authorizerResultTtlInSeconds", default=300)
        if ttl > 3600:
            yield authorizer, f"{authorizer.name} caches decisions {ttl:g} s (at most 3600)"
        function = _function_of(authorizer, resources)
        if function is None:
            yield authorizer, f"{authorizer.name} invokes no function of the stack"
            continue
        variables = function.get("environment", "variables", default={})
        issuer = str(variables.get("OIDC_ISSUER", ""))
        if not issuer.startswith("https://"):
            yield function, f"{function.name} has no https OIDC_ISSUER to validate tokens against"
        if not str(variables.get("OIDC_AUDIENCE", "")).strip():
            yield function, f"{function.name} has no OIDC_AUDIENCE: tokens for any audience pass"


def _limits(requirements: Requirements) -> tuple[float, float]:
    return (
        float(requirements.setting("gateway_rate_limit")),
        float(requirements.setting("gateway_burst_limit")),
    )


def _throttle_findings(
    name: str, rate: Any, burst: Any, requirements: Requirements
) -> Iterator[str]:
    max_rate, max_burst = _limits(requirements)
    if not isinstance(rate, (int, float)) or rate <= 0:
        yield f"{name} sets no request rate limit (the account's 10,000/s applies)"
    elif rate > max_rate:
        yield f"{name} admits {rate:g} requests/s; the profile allows {max_rate:g}"
    if not isinstance(burst, (int, float)) or burst <= 0:
        yield f"{name} sets no burst limit (the account's 5,000 applies)"
    elif burst > max_burst:
        yield f"{name} admits bursts of {burst:g}; the profile allows {max_burst:g}"


@stack_policy(
    id="AWS-API-003",
    title="Gateway stages are throttled within the profile's limits",
    severity="medium",
    controls=["API-02"],
    remediation="Give each stage a MethodSettings for */* with throttling_rate_limit and "
    "throttling_burst_limit at most gateway_rate_limit and gateway_burst_limit (stack config).",
)
def throttled(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Every stage throttles all its methods (method path ``*/*``) at no more than the
    profile's rate and burst, and a usage plan's per-client throttle stays within them."""
    gateway_chosen(requirements)
    settings = of_type(resources, METHOD_SETTINGS)
    for stage in of_type(resources, STAGE):
        wide = [
            s
            for s in settings
            if s.get("stageName") == stage.get("stageName") and s.get("methodPath") == "*/*"
        ]
        if not wide:
            yield stage, f"{stage.name} has no throttling for all methods (*/*)"
    for item in settings:
        if item.get("methodPath") != "*/*":
            continue
        for message in _throttle_findings(
            item.name,
            item.get("settings", "throttlingRateLimit"),
            item.get("settings", "throttlingBurstLimit"),
            requirements,
        ):
            yield item, message
    for plan in of_type(resources, USAGE_PLAN):
        for message in _throttle_findings(
            plan.name,
            plan.get("throttleSettings", "rateLimit"),
            plan.get("throttleSettings", "burstLimit"),
            requirements,
        ):
            yield plan, message


def _acl_findings(acl: Resource, requirements: Requirements) -> Iterator[str]:
    managed: dict[str, Mapping[str, Any]] = {}
    rate_rules: list[Mapping[str, Any]] = []
    for rule in acl.items("rules"):
        statement = rule.get("statement") or {}
        group = statement.get("managedRuleGroupStatement")
        if isinstance(group, Mapping) and group.get("vendorName") == "AWS":
            managed[str(group.get("name"))] = rule
        if isinstance(statement.get("rateBasedStatement"), Mapping):
            rate_rules.append(rule)
    for wanted in _managed_rule_groups():
        rule = managed.get(wanted)
        if rule is None:
            yield f"{acl.name} does not run the managed rule group {wanted}"
        elif "count" in (rule.get("overrideAction") or {}):
            yield f"{acl.name} only counts {wanted} (override action count): nothing is blocked"
    if not rate_rules:
        yield f"{acl.name} has no rate-based rule"
    max_per_minute = float(requirements.setting("gateway_rate_limit")) * 60
    for rule in rate_rules:
        statement = rule["statement"]["rateBasedStatement"]
        if "block" not in (rule.get("action") or {}):
            yield f"{acl.name} rule {rule.get('name')} does not block clients over the rate"
        window = statement.get("evaluationWindowSec") or 300
        limit = statement.get("limit")
        if not isinstance(limit, (int, float)) or limit * 60 / window > max(max_per_minute, 10):
            yield (
                f"{acl.name} rule {rule.get('name')} admits {limit} requests per {window:g} s "
                f"and address; the profile's rate allows {max_per_minute:g} a minute"
            )


def _confines(statement: Mapping[str, Any]) -> bool:
    """A Deny unless the request comes through a named VPC endpoint (or VPC), or an Allow
    only when it does."""
    for operator, block in conditions(statement).items():
        if not ({"aws:sourcevpce", "aws:sourcevpc"} & set(block)):
            continue
        test = operator.rsplit(":", 1)[-1]
        if statement.get("Effect") == "Deny" and test.startswith("StringNotEquals"):
            return True
        if statement.get("Effect") == "Allow" and test == "StringEquals":
            return True
    return False


def _private_findings(api: Resource, resources: Sequence[Resource]) -> Iterator[str]:
    if not api.items("endpointConfiguration", "vpcEndpointIds"):
        yield f"{api.name} is private but names no VPC endpoint"
    docs = [document(api, "policy")] + [
        document(p, "policy") for p in of_type(resources, REST_API_POLICY)
    ]
    confined = any(_confines(st) for doc in docs for st in statements(doc))
    if not confined:
        yield f"{api.name} has no resource policy confining it to the project's VPC endpoint"


@stack_policy(
    id="AWS-API-004",
    title="A public gateway is behind AWS WAF; a private one is reached only from the VPC",
    severity="high",
    controls=["API-03"],
    remediation="public: associate a REGIONAL web ACL with the managed rule groups and a "
    "blocking rate-based rule with each stage (ApiGateway does); private: endpoint type "
    "PRIVATE with the VPC endpoint and a resource policy on aws:SourceVpce.",
)
def waf_or_private(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """An internet-facing API (REGIONAL or EDGE) exists only with ``api_gateway`` public
    and every stage then has a web ACL with the managed rule groups and a blocking
    per-address rate rule; a private API is reachable through the project's endpoint
    only."""
    chosen = gateway_chosen(requirements)
    acls = of_type(resources, WEB_ACL)
    associations = of_type(resources, WEB_ACL_ASSOCIATION)
    apis = of_type(resources, REST_API)
    if not apis:
        raise NotApplicable("the stack has no REST API")
    internet_facing = False
    for api in apis:
        types = api.items("endpointConfiguration", "types") or ["EDGE"]
        if "PRIVATE" in types:
            for message in _private_findings(api, resources):
                yield api, message
            continue
        internet_facing = True
        if chosen != "public":
            yield (
                api,
                f"{api.name} is internet-facing ({', '.join(types)}) but api_gateway is {chosen}",
            )
    if not internet_facing:
        return
    for stage in of_type(resources, STAGE):
        suffix = f"/stages/{stage.get('stageName')}"
        attached = [
            acl
            for association in associations
            if str(association.get("resourceArn", default="")).endswith(suffix)
            for acl in acls
            if refers_to(association.get("webAclArn"), acl)
            or f"/webacl/{acl.get('name')}/" in str(association.get("webAclArn", default=""))
        ]
        if not attached:
            yield stage, f"{stage.name} is internet-facing without a web ACL"
        for acl in attached:
            if acl.get("scope") != "REGIONAL":
                yield acl, f"{acl.name} has scope {acl.get('scope')}, not REGIONAL"
            for message in _acl_findings(acl, requirements):
                yield acl, message


@stack_policy(
    id="AWS-API-005",
    title="Gateway access logs go to an encrypted log group, without request bodies",
    severity="medium",
    controls=["API-04"],
    remediation="Set each stage's access_log_settings to a log group encrypted with the logs "
    "key, in JSON; keep data_trace_enabled false for confidential and restricted data, execution "
    "logging at ERROR or INFO; log the web ACL to an encrypted aws-waf-logs-* group.",
)
def gateway_logs(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Each stage writes a structured (JSON) access log to an encrypted log group;
    execution logs are on and, for confidential and restricted data, never hold request
    or response bodies; each web ACL logs to an encrypted log group."""
    gateway_chosen(requirements)
    groups = of_type(resources, LOG_GROUP)
    for stage in of_type(resources, STAGE):
        destination = stage.get("accessLogSettings", "destinationArn")
        group = next((g for g in groups if refers_to(destination, g)), None)
        if not destination:
            yield stage, f"{stage.name} writes no access log"
        elif group is None:
            yield stage, f"{stage.name} logs to a log group outside the stack"
        elif not group.get("kmsKeyId"):
            yield stage, f"{stage.name} logs to {group.name}, which no project key encrypts"
        try:
            json.loads(str(stage.get("accessLogSettings", "format", default="")))
        except ValueError:
            yield stage, f"{stage.name} access log format is not structured JSON"
    for item in of_type(resources, METHOD_SETTINGS):
        level = item.get("settings", "loggingLevel", default="OFF")
        if level not in ("ERROR", "INFO"):
            yield item, f"{item.name} execution logging is {level}"
        if (
            item.get("settings", "dataTraceEnabled") is True
            and requirements.data_sensitivity in _NO_BODIES
        ):
            yield (
                item,
                (
                    f"{item.name} logs full requests and responses (prompts, completions) for "
                    f"{requirements.data_sensitivity} data"
                ),
            )
    logged = of_type(resources, WEB_ACL_LOGGING)
    for acl in of_type(resources, WEB_ACL):
        configs = [
            c
            for c in logged
            if refers_to(c.get("resourceArn"), acl)
            or f"/webacl/{acl.get('name')}/" in str(c.get("resourceArn", default=""))
        ]
        if not configs:
            yield acl, f"{acl.name} has no logging"
        for config in configs:
            if not config.items("logDestinationConfigs"):
                yield config, f"{config.name} names no log destination"
            for destination in config.items("logDestinationConfigs"):
                group = next((g for g in groups if refers_to(destination, g)), None)
                if group is None or not group.get("kmsKeyId"):
                    yield config, f"{config.name} logs to an unencrypted or foreign destination"


@resource_policy(
    id="AWS-API-006",
    title="The gateway accepts TLS 1.2 or later and reaches its backend over TLS",
    severity="medium",
    types=[REST_API, DOMAIN, INTEGRATION],
    controls=["API-05"],
    remediation="Set security_policy to SecurityPolicy_TLS13_1_2_2021_06 (with "
    "endpoint_access_mode) on the API and TLS_1_2 on custom domains; https URIs for HTTP "
    "backends.",
)
def gateway_tls(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The API and its custom domains negotiate TLS 1.2 or later (without a security
    policy the execute-api endpoint also accepts TLS 1.0); HTTP integrations use https."""
    gateway_chosen(requirements)
    if resource.type == INTEGRATION:
        if resource.get("type") not in ("HTTP", "HTTP_PROXY"):
            raise NotApplicable("not an HTTP integration (Lambda, MOCK or AWS service)")
        if not str(resource.get("uri", default="")).startswith("https://"):
            yield f"{resource.name} reaches its backend without TLS"
        return
    policy = resource.get("securityPolicy")
    if not isinstance(policy, str) or not _TLS12_OR_LATER.fullmatch(policy):
        yield f"{resource.name} security policy {policy or 'TLS_1_0 (default)'} admits TLS below 1.2"


_EXECUTE_API_ARN = re.compile(r"arn:aws[\w-]*:execute-api:[a-z0-9-]+:\d{12}:[a-z0-9]+/.+")


@resource_policy(
    id="AWS-API-007",
    title="API Gateway may invoke a function only from this project's API",
    severity="high",
    types=[PERMISSION],
    controls=["API-01"],
    remediation="Set source_arn to the API's execution ARN (ApiGateway does: "
    "<execution arn>/authorizers/<id> for the authorizer, <execution arn>/*/* for the backend).",
)
def invoke_from_this_api(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A Lambda permission for ``apigateway.amazonaws.com`` names the API that may invoke
    the function; without it any API Gateway API, of any account, could call the
    workload or the authorizer and skip the gateway's authentication."""
    gateway_chosen(requirements)
    if resource.get("principal") != "apigateway.amazonaws.com":
        raise NotApplicable("not a permission for API Gateway")
    source = resource.get("sourceArn")
    if not isinstance(source, str) or not _EXECUTE_API_ARN.fullmatch(source):
        yield f"{resource.name} lets any API Gateway API invoke {resource.get('function')}"
