"""The AI gateway (API-01..05): ESPv2's JWT check, Cloud Armor's throttle and WAF, the
load balancer's mode, logs and TLS policy.

What is judged comes from :mod:`aiscaffold_components.gcp.gateway` (the WAF rule names,
the ESPv2 image and its logging flags) so a policy and the component cannot drift.
Every policy starts with :func:`gateway_chosen`: without a gateway (``api_gateway``
none) none applies. The issuer and audience are judged as the Endpoints configuration
holds them (an https issuer, a non-empty audience): the requirements carry only the
gateway's mode.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import yaml

from .._core import (
    NotApplicable,
    Requirements,
    Resource,
    gateway_chosen,
    resource_policy,
    stack_policy,
)
from ._util import gateway_constants, is_ai_workload, of_type, refers_to, some

ENDPOINTS_SERVICE = "gcp:endpoints/service:Service"
RUN_SERVICE = "gcp:cloudrunv2/service:Service"
SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"
REGION_SECURITY_POLICY = "gcp:compute/regionSecurityPolicy:RegionSecurityPolicy"
BACKEND = "gcp:compute/backendService:BackendService"
REGION_BACKEND = "gcp:compute/regionBackendService:RegionBackendService"
SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
REGION_SSL_POLICY = "gcp:compute/regionSslPolicy:RegionSslPolicy"
HTTPS_PROXY = "gcp:compute/targetHttpsProxy:TargetHttpsProxy"
REGION_HTTPS_PROXY = "gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy"
NEG = "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup"

#: ESPv2's image repository (any tag, or a custom image built from it).
_ESPV2_BUILT = "endpoints-runtime-serverless"
_HTTPS_ISSUER = re.compile(r"^https://[^\s/?#]+")
_OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch")
#: SSL policy profiles that refuse the legacy ciphers (COMPATIBLE keeps them).
_STRONG_PROFILES = ("MODERN", "RESTRICTED")
_STRONG_TLS = ("TLS_1_2", "TLS_1_3")
#: Sensitivities whose gateway never logs headers or token payloads (API-04).
_NO_HEADER_LOGS = ("confidential", "restricted")
#: The preconfigured WAF rules a public gateway must deny at least (OWASP top risks).
_REQUIRED_WAF = ("sqli-v33-stable", "xss-v33-stable", "lfi-v33-stable", "rce-v33-stable")


def _document(service: Resource) -> Mapping[str, Any] | None:
    raw = service.get("openapiConfig")
    if not isinstance(raw, str):
        return None
    try:
        loaded = yaml.safe_load(raw)
    except yaml.YAMLError:
        return None
    return loaded if isinstance(loaded, Mapping) else None


def _jwt_schemes(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The security definitions that are JWT checks: an https issuer and audiences."""
    out = {}
    for key, scheme in (document.get("securityDefinitions") or {}).items():
        if not isinstance(scheme, Mapping):
            continue
        issuer = scheme.get("x-google-issuer")
        audiences = str(scheme.get("x-google-audiences") or "").strip()
        if isinstance(issuer, str) and _HTTPS_ISSUER.match(issuer) and audiences:
            out[str(key)] = scheme
    return out


def _requires(requirement: Any, schemes: Mapping[str, Any]) -> bool:
    """Whether a ``security`` list demands a JWT scheme (every alternative does)."""
    if not isinstance(requirement, list) or not requirement:
        return False
    return all(isinstance(alt, Mapping) and set(alt) & set(schemes) for alt in requirement)


@resource_policy(
    id="GCP-API-001",
    title="Every operation of the gateway requires the caller's OIDC token",
    severity="high",
    types=[ENDPOINTS_SERVICE],
    controls=["API-01"],
    remediation="Build the Endpoints configuration with aiscaffold_components.gcp.ApiGateway: "
    "a securityDefinitions entry with x-google-issuer (gateway_oidc_issuer) and "
    "x-google-audiences (gateway_oidc_audience), required by every operation, and no "
    "x-google-allow: all.",
)
def every_operation_authenticated(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """ESPv2 admits a call only with a JWT whose issuer, audience and signature match a
    security definition the operation requires
    (https://cloud.google.com/endpoints/docs/openapi/authenticating-users-custom): every
    operation requires one (its own ``security`` or the document's), none sets an empty
    requirement, every requirement names a defined JWT scheme (ESPv2 does not check that
    it exists: "unauthenticated requests might pass through",
    https://cloud.google.com/endpoints/docs/openapi/openapi-limitations), and
    ``x-google-allow: all`` (which passes unknown paths through unchecked) is absent."""
    gateway_chosen(requirements)
    document = _document(resource)
    if document is None:
        yield f"{resource.name} has no readable OpenAPI configuration"
        return
    schemes = _jwt_schemes(document)
    if not schemes:
        yield f"{resource.name} defines no JWT check (https x-google-issuer and audiences)"
        return
    if str(document.get("x-google-allow", "")).lower() == "all":
        yield f"{resource.name} passes calls to undeclared paths through (x-google-allow: all)"
    default = document.get("security")
    paths = document.get("paths") or {}
    if not paths:
        yield f"{resource.name} declares no operation"
    for path, item in paths.items():
        for method in _OPERATIONS:
            operation = item.get(method) if isinstance(item, Mapping) else None
            if not isinstance(operation, Mapping):
                continue
            requirement = operation.get("security", default)
            if not _requires(requirement, schemes):
                yield f"{resource.name}: {method.upper()} {path} requires no caller token"


def _is_proxy(service: Resource) -> bool:
    return any(
        str(c.get("image", "")).startswith(gateway_constants().espv2_image.rsplit(":", 1)[0])
        or _ESPV2_BUILT in str(c.get("image", ""))
        for c in service.items("template", "containers")
        if isinstance(c, Mapping)
    )


def _env(service: Resource, name: str) -> Any:
    for container in service.items("template", "containers"):
        for env in container.get("envs") or [] if isinstance(container, Mapping) else []:
            if isinstance(env, Mapping) and env.get("name") == name:
                return env.get("value")
    return None


@resource_policy(
    id="GCP-API-002",
    title="The gateway's proxy is reached only through its load balancer",
    severity="high",
    types=[RUN_SERVICE],
    controls=["API-01", "API-03"],
    remediation="Keep the ESPv2 service of ApiGateway as built: ingress "
    "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER, default_uri_disabled true, its own service "
    "account, ENDPOINTS_SERVICE_NAME naming the gateway's Endpoints service.",
)
def proxy_not_bypassed(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The ESPv2 service (a Cloud Run service running ESPv2's image) admits traffic only
    from the load balancer, which carries the WAF, the throttle and the TLS policy
    (``INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER``,
    https://cloud.google.com/run/docs/securing/ingress), has no ``run.app`` address to
    reach it around them (``default_uri_disabled``), runs as a service account of its
    own (not the Compute Engine default account with Editor), and loads the gateway's
    Endpoints configuration (``ENDPOINTS_SERVICE_NAME``), whose JWT check GCP-API-001
    judges."""
    gateway_chosen(requirements)
    if not _is_proxy(resource):
        raise NotApplicable("not the gateway's ESPv2 proxy")
    ingress = resource.get("ingress")
    if ingress != "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER":
        yield f"{resource.name} admits traffic that bypasses the load balancer ({ingress or 'all'})"
    if resource.get("defaultUriDisabled") is not True:
        yield f"{resource.name} keeps its run.app address, which bypasses the load balancer"
    if not resource.get("template", "serviceAccount"):
        yield f"{resource.name} runs as the Compute Engine default service account"
    if not _env(resource, "ENDPOINTS_SERVICE_NAME"):
        yield f"{resource.name} loads no Endpoints configuration (ENDPOINTS_SERVICE_NAME)"


#: Rule actions that let a request through: a rule after one of them (a lower priority,
#: a higher number) never sees the requests it admits (a throttle admits those under
#: its rate; https://cloud.google.com/armor/docs/security-policy-overview).
_PASSING = ("allow", "throttle", "rate_based_ban")


def _priority(rule: Mapping[str, Any]) -> float:
    value = rule.get("priority")
    return float(value) if isinstance(value, (int, float)) else float("inf")


def _first_passing(policy: Resource, *, besides: tuple[str, ...] = ()) -> float:
    """The priority of the first rule letting requests through (not of ``besides``)."""
    return min(
        (
            _priority(r)
            for r in policy.items("rules")
            if isinstance(r, Mapping)
            and r.get("action") in _PASSING
            and r.get("action") not in besides
        ),
        default=float("inf"),
    )


def _throttles(policy: Resource) -> list[Mapping[str, Any]]:
    return [
        r
        for r in policy.items("rules")
        if isinstance(r, Mapping) and r.get("action") in ("throttle", "rate_based_ban")
    ]


def _rate(rule: Mapping[str, Any]) -> float | None:
    threshold = (rule.get("rateLimitOptions") or {}).get("rateLimitThreshold") or {}
    count, interval = threshold.get("count"), threshold.get("intervalSec")
    if not isinstance(count, (int, float)) or not isinstance(interval, (int, float)):
        return None
    return float(count) / float(interval) if interval > 0 else None


@resource_policy(
    id="GCP-API-003",
    title="Cloud Armor throttles each client within the profile's rate",
    severity="medium",
    types=[SECURITY_POLICY, REGION_SECURITY_POLICY],
    controls=["API-02"],
    remediation="Keep ApiGateway's throttle rule: action throttle, enforce_on_key IP, "
    "exceed_action deny(429), at most gateway_rate_limit requests a second "
    "(`pulumi config set <project>:gateway_rate_limit N` to change it).",
)
def throttled(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A throttle (or rate-based ban) rule counts each client address's requests and
    refuses them above `gateway_rate_limit` a second (count / interval), with a deny
    status (https://cloud.google.com/armor/docs/rate-limiting-overview). Its match
    covers every source address, so no caller escapes it, and no allow rule comes before
    it (Cloud Armor applies the first matching rule by priority)."""
    gateway_chosen(requirements)
    limit = float(requirements.setting("gateway_rate_limit"))
    rules = _throttles(resource)
    if not rules:
        yield f"{resource.name} has no throttle rule"
        return
    allowed_first = _first_passing(resource, besides=("throttle", "rate_based_ban"))
    for rule in rules:
        if _priority(rule) >= allowed_first:
            yield (
                f"{resource.name} allows requests (priority {allowed_first:g}) before its "
                f"throttle rule (priority {_priority(rule):g}) counts them"
            )
        options = rule.get("rateLimitOptions") or {}
        rate = _rate(rule)
        if rate is None:
            yield f"{resource.name} throttle rule {rule.get('priority')} sets no threshold"
        elif rate > limit:
            yield (
                f"{resource.name} admits {rate:g} requests/s per client, above the profile's "
                f"gateway_rate_limit {limit:g}"
            )
        if options.get("enforceOnKey", "ALL") not in ("IP", "ALL", "XFF_IP", "HTTP_HEADER"):
            yield f"{resource.name} throttles by {options.get('enforceOnKey')}, not per client"
        if not str(options.get("exceedAction", "")).startswith("deny"):
            yield f"{resource.name} does not refuse requests above the rate"
        sources = ((rule.get("match") or {}).get("config") or {}).get("srcIpRanges") or []
        expression = ((rule.get("match") or {}).get("expr") or {}).get("expression")
        if "*" not in sources and not expression:
            yield f"{resource.name} throttles only some sources ({', '.join(map(str, sources))})"


def _waf_rules(policy: Resource) -> set[str]:
    """The preconfigured WAF rules the policy denies before any rule lets requests
    through (an allow, or a throttle admitting those under its rate)."""
    found = set()
    passing = _first_passing(policy)
    for rule in policy.items("rules"):
        if not isinstance(rule, Mapping) or not str(rule.get("action", "")).startswith("deny"):
            continue
        if rule.get("preview") is True or _priority(rule) >= passing:
            continue
        expression = str(((rule.get("match") or {}).get("expr") or {}).get("expression", ""))
        found |= set(re.findall(r"evaluatePreconfigured(?:Waf|Expr)\('([\w-]+)'", expression))
    return found


@resource_policy(
    id="GCP-API-004",
    title="A public gateway's Cloud Armor policy denies the preconfigured WAF rules",
    severity="high",
    types=[SECURITY_POLICY],
    controls=["API-03"],
    remediation="Keep ApiGateway's WAF rules (gcp.gateway.WAF_RULES: deny(403), not in preview).",
)
def waf_rules(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """An internet-facing gateway denies requests matching Cloud Armor's preconfigured
    WAF rules (ModSecurity CRS 3.3: SQL injection, cross-site scripting, local and
    remote file inclusion, remote code execution, method enforcement, scanner
    detection, protocol attack, session fixation;
    https://cloud.google.com/armor/docs/waf-rules), enforced (not in preview), each
    before any rule that lets requests through (an allow, or the throttle)."""
    if gateway_chosen(requirements) != "public":
        raise NotApplicable("a private gateway is not reachable from the internet")
    missing = [r for r in gateway_constants().waf_rules if r not in _waf_rules(resource)]
    if missing:
        yield f"{resource.name} does not deny {', '.join(missing)}"


@resource_policy(
    id="GCP-API-005",
    title="The gateway's backend is internal (private) or behind Cloud Armor (public)",
    severity="high",
    types=[BACKEND, REGION_BACKEND],
    controls=["API-03", "API-02"],
    remediation="Keep ApiGateway's backend service: INTERNAL_MANAGED for a private gateway; "
    "EXTERNAL_MANAGED for a public one; with its Cloud Armor security policy in both.",
)
def exposure_as_chosen(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A private gateway's backend service belongs to a regional internal application
    load balancer (``INTERNAL_MANAGED``): reachable only from the project's VPC. Either
    gateway's backend service carries its Cloud Armor security policy, so every request
    passes the throttle first, and from the internet the WAF (GCP-API-003, GCP-API-004)."""
    mode = gateway_chosen(requirements)
    if not resource.items("backends"):
        raise NotApplicable("a backend service without backends serves nothing")
    scheme = resource.get("loadBalancingScheme", default="EXTERNAL")
    if mode == "private" and scheme != "INTERNAL_MANAGED":
        yield f"{resource.name} is {scheme}, not an internal load balancer's (private gateway)"
    if not resource.get("securityPolicy"):
        if str(scheme).startswith("EXTERNAL"):
            yield f"{resource.name} faces the internet without a Cloud Armor security policy"
        else:
            yield f"{resource.name} has no Cloud Armor security policy (no throttle)"


@resource_policy(
    id="GCP-API-006",
    title="The gateway logs every request, without headers or bodies for sensitive data",
    severity="medium",
    types=[BACKEND, REGION_BACKEND, RUN_SERVICE],
    controls=["API-04"],
    remediation="Keep ApiGateway's backend service log_config (enable true, sample_rate "
    "1.0) and its ESPv2 without --log_request_headers, --log_response_headers or "
    "--log_jwt_payloads (log_headers false).",
)
def logged_without_bodies(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The load balancer logs every request to Cloud Logging (caller address, URL,
    status, latency, sizes: never a body,
    https://cloud.google.com/load-balancing/docs/https/https-logging-monitoring). ESPv2
    logs no bodies; for confidential and restricted data it logs no headers or token
    payloads either (its ``ESPv2_ARGS`` carry none of those flags)."""
    gateway_chosen(requirements)
    if resource.type == RUN_SERVICE:
        if not _is_proxy(resource):
            raise NotApplicable("not the gateway's ESPv2 proxy")
        if requirements.data_sensitivity not in _NO_HEADER_LOGS:
            raise NotApplicable(f"{requirements.data_sensitivity} data: headers may be logged")
        flags = str(_env(resource, "ESPv2_ARGS") or "")
        logged = [f for f in gateway_constants().proxy_log_flags if f in flags]
        if logged:
            yield f"{resource.name} logs {', '.join(logged)} of {requirements.data_sensitivity} calls"
        return
    if not resource.items("backends"):
        raise NotApplicable("a backend service without backends serves nothing")
    if resource.get("logConfig", "enable") is not True:
        yield f"{resource.name} does not log requests"
        return
    rate = resource.get("logConfig", "sampleRate", default=1.0)
    if not isinstance(rate, (int, float)) or float(rate) < 1.0:
        yield f"{resource.name} logs only {rate} of requests"


def _tls_ok(policy: Resource) -> bool:
    return policy.get("profile") in _STRONG_PROFILES and policy.get("minTlsVersion") in _STRONG_TLS


def _strong_policy_named(named: Any) -> Callable[[Resource], bool]:
    return lambda policy: refers_to(named, policy) and _tls_ok(policy)


@stack_policy(
    id="GCP-API-007",
    title="The gateway accepts TLS 1.2 or later and reaches its backend over HTTPS",
    severity="medium",
    controls=["API-05"],
    remediation="Keep ApiGateway's SSL policy (profile MODERN, min_tls_version TLS_1_2) on "
    "its target HTTPS proxy and its backend service's protocol HTTPS.",
)
def tls_policy(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """The gateway's SSL policy has the MODERN or RESTRICTED profile and a minimum of TLS
    1.2 (https://cloud.google.com/load-balancing/docs/ssl-policies-concepts), every
    target HTTPS proxy names such a policy (without one, Google's default accepts TLS
    1.0), and the backend services of serverless NEGs speak HTTPS."""
    gateway_chosen(requirements)
    policies = of_type(resources, SSL_POLICY, REGION_SSL_POLICY)
    if not policies and not is_ai_workload(resources):
        raise NotApplicable("no AI workload: the workload stack holds the gateway")
    if not policies:
        yield None, "the gateway has no SSL policy"
    for policy in policies:
        if not _tls_ok(policy):
            yield (
                policy,
                f"{policy.name} accepts {policy.get('minTlsVersion') or 'TLS_1_0'} with the "
                f"{policy.get('profile') or 'COMPATIBLE'} profile",
            )
    for proxy in of_type(resources, HTTPS_PROXY, REGION_HTTPS_PROXY):
        named = proxy.get("sslPolicy")
        if not named or not some(policies, _strong_policy_named(named)):
            yield proxy, f"{proxy.name} has no SSL policy with TLS 1.2 or later"
    for backend in of_type(resources, BACKEND, REGION_BACKEND):
        if backend.items("backends") and backend.get("protocol", default="HTTP") != "HTTPS":
            yield (
                backend,
                f"{backend.name} reaches its backend over {backend.get('protocol') or 'HTTP'}",
            )
