"""The AI gateway (API-01..05): an HTTPS load balancer, Cloud Armor and ESPv2 before the
team's Cloud Run workload.

Why this shape, and not Google's API Gateway product alone. Three managed options were
weighed (issue 20):

* **API Gateway** (``apigateway.Api/ApiConfig/Gateway``) validates tokens of any OIDC
  issuer (``securityDefinitions`` with ``x-google-issuer``, ``x-google-jwks_uri``,
  ``x-google-audiences``) and meters per-consumer quotas, but a gateway has only a
  public ``*.gateway.dev`` address: it cannot be reached privately from a VPC, and
  Cloud Armor can only be put in front through a serverless NEG while the direct
  address stays open, so a WAF could be bypassed
  (https://cloud.google.com/api-gateway/docs/gateway-serverless-neg,
  https://cloud.google.com/api-gateway/docs/authenticating-users-jwt).
* **IAP** authenticates Google identities (or Identity Platform tenants), not tokens of
  the issuer of the team's choice, and **Cloud Run IAM** admits only Google-signed ID
  tokens (https://cloud.google.com/run/docs/authenticating/end-users,
  https://cloud.google.com/iap/docs/concepts-overview).
* **Load balancer + ESPv2** (what Google's Cloud Endpoints guide for Cloud Run builds):
  ESPv2, Envoy-based, runs as a Cloud Run service and validates JWTs of any OIDC issuer
  from the same OpenAPI ``securityDefinitions``
  (https://cloud.google.com/endpoints/docs/openapi/get-started-cloud-run,
  https://cloud.google.com/endpoints/docs/openapi/authenticating-users-custom); an
  application load balancer in front of it through a serverless NEG gives what API
  Gateway lacks: internal mode (``private``: a regional internal application load
  balancer, ``INTERNAL_MANAGED``, in the project's VPC with a proxy-only subnet), Cloud
  Armor (``public``: a global external application load balancer, preconfigured WAF
  rules and a throttle rule) and an SSL policy (TLS 1.2+)
  (https://cloud.google.com/load-balancing/docs/negs/serverless-neg-concepts,
  https://cloud.google.com/armor/docs/security-policy-overview, which lists regional
  internal application load balancers among the protected types).

This component builds the third. The ESPv2 service admits only traffic from the load
balancer (``ingress: INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER``) and has no ``run.app``
address (``default_uri_disabled``), so the JWT check cannot be bypassed
(https://cloud.google.com/run/docs/securing/ingress); its invoker IAM check is off
because callers present the OIDC token of their own issuer, which Cloud Run IAM would
refuse: ESPv2 checks it instead. ESPv2 fetches its Endpoints configuration at start
(``ENDPOINTS_SERVICE_NAME`` and ``ENDPOINTS_SERVICE_VERSION``, the configuration id,
so each configuration change rolls out a new revision): Google's guide bakes the
configuration into a custom image with ``gcloud_build_image`` instead; the
environment-variable mode avoids a build step in ``pulumi up`` and is marked "not
officially supported" by ESPv2's start script
(https://github.com/GoogleCloudPlatform/esp-v2/blob/master/docker/serverless/env_start_proxy.py).
A team that prefers the documented image sets ``proxy_image`` to it.

Backend. ``backend_service`` names the team's Cloud Run service in the region. ESPv2
forwards to its deterministic URL (``https://<service>-<project number>.<region>.run.app``,
https://cloud.google.com/run/docs/triggering/https-request#deterministic) with a
Google-signed ID token of the proxy's own service account (``x-google-backend``
``jwt_audience``), which alone is granted ``roles/run.invoker`` on it. Until it is set,
the URL map aborts every request with 503 (fault injection, 100 %: the request never
reaches ESPv2, nor the AI service;
https://cloud.google.com/load-balancing/docs/https/traffic-management-global#fault_injection).
There is no direct route to the model: the workload applies the guardrail.

Limits (API-02). Cloud Armor's ``throttle`` rule admits ``rate_limit`` requests a
second per client address, counted over 60-second windows (``rate_limit`` x 60 per 60
s), and answers the rest with 429
(https://cloud.google.com/armor/docs/rate-limiting-overview). What the platform cannot
enforce, stated in the README: a *burst* (Cloud Armor counts fixed windows, it has no
token bucket: up to a window's count may arrive at once) and *tokens per minute*
(neither the load balancer nor ESPv2 reads model tokens). The team covers tokens in the
workload (count usage per caller, refuse above ``gateway_tokens_per_minute``) and
Vertex AI's own request cap (COST-03) bounds the spend; per-client quotas by API key
(Endpoints ``x-google-management``) are theirs to add when they issue keys.

Logs (API-04). The backend service logs every request (sample rate 1.0) to Cloud
Logging; load balancer logs record the request's URL, status, latency, sizes and client
address, never its body (https://cloud.google.com/load-balancing/docs/https/https-logging-monitoring#what_is_logged).
ESPv2 logs no bodies either, and its header and JWT-payload logging flags
(``--log_request_headers``, ``--log_jwt_payloads``) stay off for confidential and
restricted data (https://cloud.google.com/endpoints/docs/openapi/specify-esp-v2-startup-options).

TLS (API-05). An SSL policy with the ``MODERN`` profile and minimum TLS 1.2 on the
target HTTPS proxy (https://cloud.google.com/load-balancing/docs/ssl-policies-concepts).
The proxy needs a certificate: ``domain`` (``public`` only: a Google-managed
certificate, active once the domain's DNS names the gateway's address) or a PEM
``certificate`` and ``private_key`` (self-managed; the only kind a regional internal
load balancer takes without Certificate Manager). With neither, the stack creates
everything but the HTTPS frontend (target proxy and forwarding rule): the first
``pulumi up`` succeeds, nothing is reachable, and the README says to set one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp

from ._common import account_id, child_opts, labels_of, wait_for_dependencies

__all__ = [
    "ESPV2_IMAGE",
    "PATH_DEPTH",
    "PROXY_LOG_FLAGS",
    "SSL_MIN_TLS",
    "SSL_PROFILE",
    "THROTTLE_INTERVAL_SEC",
    "WAF_RULES",
    "ApiGateway",
    "ApiGatewayArgs",
]

#: ESPv2's serverless image (https://cloud.google.com/endpoints/docs/openapi/get-started-cloud-run).
ESPV2_IMAGE = "gcr.io/endpoints-release/endpoints-runtime-serverless:2"

#: Preconfigured WAF rules (ModSecurity CRS 3.3) a public gateway denies, with the
#: sensitivity (OWASP paranoia level) 1: high-confidence signatures
#: (https://cloud.google.com/armor/docs/waf-rules, names and sensitivity levels in
#: https://cloud.google.com/armor/docs/rule-tuning).
WAF_RULES: tuple[str, ...] = (
    "sqli-v33-stable",
    "xss-v33-stable",
    "lfi-v33-stable",
    "rfi-v33-stable",
    "rce-v33-stable",
    "methodenforcement-v33-stable",
    "scannerdetection-v33-stable",
    "protocolattack-v33-stable",
    "sessionfixation-v33-stable",
)

#: Window of the throttle rule; Cloud Armor takes 10, 30, 60, 120, 180, 240, 300, 600,
#: 900, 1200, 1800, 2700 or 3600 s (https://cloud.google.com/armor/docs/rate-limiting-overview,
#: https://github.com/GoogleCloudPlatform/terraform-google-cloud-armor/issues/147).
THROTTLE_INTERVAL_SEC = 60
#: SSL policy: the MODERN profile with TLS 1.2 at least (RESTRICTED also passes API-05).
SSL_PROFILE = "MODERN"
SSL_MIN_TLS = "TLS_1_2"
#: ESPv2 flags that log request headers or token payloads: never for confidential and
#: restricted data.
PROXY_LOG_FLAGS = ("--log_request_headers", "--log_response_headers", "--log_jwt_payloads")

_WAF_PRIORITY = 1000
_THROTTLE_PRIORITY = 2000
_DEFAULT_PRIORITY = 2147483647
_METHODS = ("get", "post", "put", "patch", "delete")
#: Path depth the gateway's operations cover (``/v1/chat/completions`` is 3); deeper
#: paths match no operation and ESPv2 refuses them (404).
PATH_DEPTH = 6
_ISSUER = re.compile(r"^https://[^\s/?#]+(/[^\s?#]*)?$")


@dataclass(frozen=True)
class ApiGatewayArgs:
    """Arguments of :class:`ApiGateway`."""

    project: pulumi.Input[str]
    """Project of the gateway."""

    project_number: pulumi.Input[str]
    """Project number (the backend's deterministic Cloud Run URL carries it)."""

    region: str
    """Region of the serverless NEG, ESPv2 and (private) the load balancer."""

    name_prefix: str
    """Prefix of the cloud names (``<project>-<stack>``)."""

    mode: Literal["private", "public"]
    """``private``: regional internal application load balancer in ``network_id``;
    ``public``: global external application load balancer behind Cloud Armor's WAF."""

    oidc_issuer: str
    """https issuer URL of the identity provider whose tokens callers present (API-01)."""

    oidc_audience: str
    """Audience the tokens must carry (API-01)."""

    rate_limit: int
    """Requests per second admitted per client address (API-02, Cloud Armor throttle)."""

    burst_limit: int
    """Requests admitted at once (API-02). Not enforceable by Cloud Armor (fixed
    windows): recorded on the security policy's description and in the README."""

    tokens_per_minute: int
    """Model tokens per minute (API-02). Not enforceable by the load balancer or ESPv2:
    the workload meters them (README)."""

    network_id: pulumi.Input[str] | None = None
    """VPC of a private gateway (its forwarding rule and clients)."""

    subnet_id: pulumi.Input[str] | None = None
    """Subnet a private gateway takes its address from (the workload subnet)."""

    backend_service: str | None = None
    """Cloud Run service (name, in ``region``) the gateway forwards to; None: every
    request answers 503 and nothing reaches the workload."""

    oidc_jwks_uri: str | None = None
    """JWKS URL of the issuer; None: ESPv2 finds it by OpenID Connect discovery."""

    domain: str | None = None
    """``public``: the domain of a Google-managed certificate."""

    certificate: str | None = None
    """PEM certificate (chain) of a self-managed certificate."""

    private_key: pulumi.Input[str] | None = None
    """PEM private key of ``certificate`` (a config secret)."""

    log_sample_rate: float = 1.0
    """Share of requests the load balancer logs (API-04); below 1.0 weakens it."""

    log_headers: bool = False
    """Weakening (API-04): ESPv2 logs request/response headers and token payloads."""

    proxy_image: str = ESPV2_IMAGE
    """ESPv2 image (a custom ``gcloud_build_image`` image with the configuration baked
    in also works: the environment variables are then ignored)."""

    max_instances: int = 10
    """Upper bound of ESPv2 instances (a cost bound, not a rate limit)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the resources that take labels."""


def _validate(args: ApiGatewayArgs) -> None:
    if args.mode not in ("private", "public"):
        raise ValueError(f"mode must be 'private' or 'public', not {args.mode!r}")
    if not _ISSUER.match(args.oidc_issuer):
        raise ValueError(f"oidc_issuer must be an https URL, not {args.oidc_issuer!r}")
    if not args.oidc_audience.strip():
        raise ValueError("oidc_audience must not be empty")
    if args.oidc_jwks_uri is not None and not _ISSUER.match(args.oidc_jwks_uri):
        raise ValueError(f"oidc_jwks_uri must be an https URL, not {args.oidc_jwks_uri!r}")
    for label, value in (
        ("rate_limit", args.rate_limit),
        ("burst_limit", args.burst_limit),
        ("tokens_per_minute", args.tokens_per_minute),
        ("max_instances", args.max_instances),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{label} must be a positive whole number, not {value!r}")
    if not 0.0 < args.log_sample_rate <= 1.0:
        raise ValueError(f"log_sample_rate must be in (0, 1], not {args.log_sample_rate}")
    if args.mode == "private" and (args.network_id is None or args.subnet_id is None):
        raise ValueError("a private gateway needs network_id and subnet_id")
    if args.domain and args.mode == "private":
        raise ValueError(
            "a private gateway takes a self-managed certificate (certificate and "
            "private_key), not a Google-managed one for a domain"
        )
    if (args.certificate is None) != (args.private_key is None):
        raise ValueError("certificate and private_key are given together")
    if args.domain and args.certificate is not None:
        raise ValueError("give either domain or certificate, not both")
    if args.backend_service is not None and not re.fullmatch(
        r"[a-z]([-a-z0-9]{0,47}[a-z0-9])?", args.backend_service
    ):
        raise ValueError(
            f"backend_service must be a Cloud Run service name (lowercase letters, "
            f"digits, hyphens, at most 49), not {args.backend_service!r}"
        )


def openapi_document(
    *,
    title: str,
    host: str,
    issuer: str,
    audience: str,
    jwks_uri: str | None,
    backend_url: str | None,
) -> dict[str, Any]:
    """The Endpoints configuration (OpenAPI 2.0): every operation of every path requires
    the caller's JWT (``security``), no ``x-google-allow: all``
    (https://cloud.google.com/endpoints/docs/openapi/openapi-extensions)."""
    scheme: dict[str, Any] = {
        "type": "oauth2",
        "flow": "implicit",
        # Unused by ESPv2 (OpenAPI 2.0 requires it for oauth2 schemes).
        "authorizationUrl": "",
        "x-google-issuer": issuer,
        "x-google-audiences": audience,
    }
    if jwks_uri:
        scheme["x-google-jwks_uri"] = jwks_uri
    operation: dict[str, Any] = {
        "security": [{"oidc": []}],
        "responses": {"default": {"description": "the workload's answer"}},
    }
    paths: dict[str, Any] = {}
    # Endpoints takes path parameters of whole segments only (no "**" wildcard), so the
    # catch-all is one template per depth, up to PATH_DEPTH segments
    # (https://cloud.google.com/endpoints/docs/openapi/openapi-limitations).
    for depth in range(PATH_DEPTH + 1):
        names = [f"s{i}" for i in range(1, depth + 1)]
        template = "/" + "/".join(f"{{{n}}}" for n in names)
        item: dict[str, Any] = {}
        for method in _METHODS:
            op = dict(operation, operationId=f"{method}Depth{depth}")
            if names:
                op["parameters"] = [
                    {"name": n, "in": "path", "required": True, "type": "string"} for n in names
                ]
            item[method] = op
        paths[template] = item
    document: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": title, "version": "1.0.0"},
        "host": host,
        "schemes": ["https"],
        "produces": ["application/json"],
        "securityDefinitions": {"oidc": scheme},
        "security": [{"oidc": []}],
        "paths": paths,
    }
    if backend_url:
        document["x-google-backend"] = {
            "address": backend_url,
            "jwt_audience": backend_url,
            "path_translation": "APPEND_PATH_TO_ADDRESS",
            "protocol": "h2",
        }
    return document


class ApiGateway(pulumi.ComponentResource):
    """The front door of the AI workload: JWT-checked, throttled, logged, TLS 1.2+."""

    endpoints_service_name: pulumi.Output[str]
    """Endpoints service (the API's name, ``<prefix>-gw.endpoints.<project>.cloud.goog``)."""
    proxy_service_name: pulumi.Output[str]
    """The ESPv2 Cloud Run service."""
    proxy_service_account: pulumi.Output[str]
    """E-mail of the ESPv2 service account (the identity the backend admits)."""
    address: pulumi.Output[str]
    """IP address callers reach (internal for private, external for public)."""
    security_policy_id: pulumi.Output[str]
    """Cloud Armor security policy on the backend service."""
    frontend: bool
    """Whether the HTTPS frontend exists (a certificate or domain was given)."""
    mock_backend: bool
    """True until ``backend_service`` is set: every request answers 503."""

    def __init__(
        self, name: str, args: ApiGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:gcp:ApiGateway", name, None, opts)
        wait_for_dependencies(self, opts)
        _validate(args)
        labels = labels_of(args.labels)
        child = child_opts(self)
        private = args.mode == "private"
        base = f"{args.name_prefix}-gw"

        # ---- ESPv2: the JWT check (API-01) --------------------------------------------
        self.account = gcp.serviceaccount.Account(
            f"{name}-proxy-sa",
            project=args.project,
            account_id=account_id(base),
            display_name="AI gateway proxy (ESPv2)",
            description="ESPv2 of the AI gateway: reports to Service Control, invokes the backend",
            opts=child,
        )
        host = pulumi.Output.concat(base, ".endpoints.", args.project, ".cloud.goog")
        backend_url: pulumi.Input[str] | None = None
        if args.backend_service:
            backend_url = pulumi.Output.concat(
                "https://",
                args.backend_service,
                "-",
                args.project_number,
                ".",
                args.region,
                ".run.app",
            )
        openapi = pulumi.Output.all(host, backend_url).apply(
            lambda values: json.dumps(
                openapi_document(
                    title=f"{args.name_prefix} AI gateway",
                    host=values[0],
                    issuer=args.oidc_issuer,
                    audience=args.oidc_audience,
                    jwks_uri=args.oidc_jwks_uri,
                    backend_url=values[1],
                ),
                indent=2,
                sort_keys=True,
            )
        )
        self.endpoints = gcp.endpoints.Service(
            f"{name}-api",
            project=args.project,
            service_name=host,
            openapi_config=openapi,
            opts=child,
        )
        # The API a gateway serves is itself a service to enable in the project, or
        # ESPv2's checks fail (https://cloud.google.com/endpoints/docs/openapi/get-started-cloud-run#checking_required_services).
        gcp.projects.Service(
            f"{name}-api-enabled",
            project=args.project,
            service=self.endpoints.service_name,
            disable_on_destroy=False,
            opts=child,
        )
        # Service Control reports and checks of the proxy: granted on this service only,
        # not on the project (https://cloud.google.com/endpoints/docs/openapi/service-account-permissions).
        gcp.endpoints.ServiceIamMember(
            f"{name}-proxy-controller",
            service_name=self.endpoints.service_name,
            role="roles/servicemanagement.serviceController",
            member=self.account.member,
            opts=child,
        )
        envs = [
            gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(
                name="ENDPOINTS_SERVICE_NAME", value=self.endpoints.service_name
            ),
            gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(
                name="ENDPOINTS_SERVICE_VERSION", value=self.endpoints.config_id
            ),
        ]
        if args.log_headers:
            envs.append(
                gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(
                    name="ESPv2_ARGS", value=",".join(PROXY_LOG_FLAGS)
                )
            )
        self.proxy = gcp.cloudrunv2.Service(
            f"{name}-proxy",
            project=args.project,
            name=base[:49].rstrip("-"),
            location=args.region,
            description="ESPv2 of the AI gateway: checks each caller's JWT",
            ingress="INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
            default_uri_disabled=True,
            invoker_iam_disabled=True,
            deletion_protection=False,
            labels=labels,
            template=gcp.cloudrunv2.ServiceTemplateArgs(
                service_account=self.account.email,
                scaling=gcp.cloudrunv2.ServiceTemplateScalingArgs(
                    max_instance_count=args.max_instances
                ),
                containers=[
                    gcp.cloudrunv2.ServiceTemplateContainerArgs(image=args.proxy_image, envs=envs)
                ],
            ),
            opts=child,
        )
        if args.backend_service:
            # The proxy alone may call the workload (x-google-backend signs its ID token).
            gcp.cloudrunv2.ServiceIamMember(
                f"{name}-backend-invoker",
                project=args.project,
                location=args.region,
                name=args.backend_service,
                role="roles/run.invoker",
                member=self.account.member,
                opts=child,
            )

        neg = gcp.compute.RegionNetworkEndpointGroup(
            f"{name}-neg",
            project=args.project,
            region=args.region,
            network_endpoint_type="SERVERLESS",
            cloud_run=gcp.compute.RegionNetworkEndpointGroupCloudRunArgs(service=self.proxy.name),
            opts=child,
        )

        # ---- Cloud Armor: throttle (API-02), WAF (API-03, public) ---------------------
        description = (
            f"AI gateway: {args.rate_limit} requests/s per client address "
            f"(burst {args.burst_limit} and {args.tokens_per_minute} tokens/min are not "
            "enforced here: see README)"
        )
        if private:
            policy: pulumi.CustomResource = gcp.compute.RegionSecurityPolicy(
                f"{name}-armor",
                project=args.project,
                region=args.region,
                type="CLOUD_ARMOR",
                description=description,
                rules=self._region_rules(args),
                opts=child,
            )
            self.security_policy_id = policy.id
        else:
            policy = gcp.compute.SecurityPolicy(
                f"{name}-armor",
                project=args.project,
                type="CLOUD_ARMOR",
                description=description,
                rules=self._global_rules(args),
                labels=labels,
                opts=child,
            )
            self.security_policy_id = policy.id

        # ---- load balancer: internal (private) or external (public) -------------------
        self.mock_backend = not args.backend_service
        self.frontend = bool(args.domain or args.certificate)
        if private:
            self._private(name, args, neg, description)
        else:
            self._public(name, args, neg, labels)

        self.endpoints_service_name = self.endpoints.service_name
        self.proxy_service_name = self.proxy.name
        self.proxy_service_account = self.account.email
        self.register_outputs(
            {
                "endpoints_service_name": self.endpoints_service_name,
                "proxy_service_name": self.proxy_service_name,
                "proxy_service_account": self.proxy_service_account,
                "address": self.address,
                "security_policy_id": self.security_policy_id,
            }
        )

    # ------------------------------------------------------------------ Cloud Armor
    @staticmethod
    def _waf_expression(rule: str) -> str:
        return f"evaluatePreconfiguredWaf('{rule}', {{'sensitivity': 1}})"

    def _global_rules(self, args: ApiGatewayArgs) -> list[gcp.compute.SecurityPolicyRuleArgs]:
        rules = [
            gcp.compute.SecurityPolicyRuleArgs(
                action="deny(403)",
                priority=_WAF_PRIORITY + index,
                description=f"WAF: {rule}",
                match=gcp.compute.SecurityPolicyRuleMatchArgs(
                    expr=gcp.compute.SecurityPolicyRuleMatchExprArgs(
                        expression=self._waf_expression(rule)
                    )
                ),
            )
            for index, rule in enumerate(WAF_RULES)
        ]
        rules.append(
            gcp.compute.SecurityPolicyRuleArgs(
                action="throttle",
                priority=_THROTTLE_PRIORITY,
                description="Rate limit per client address (gateway_rate_limit)",
                match=gcp.compute.SecurityPolicyRuleMatchArgs(
                    versioned_expr="SRC_IPS_V1",
                    config=gcp.compute.SecurityPolicyRuleMatchConfigArgs(src_ip_ranges=["*"]),
                ),
                rate_limit_options=gcp.compute.SecurityPolicyRuleRateLimitOptionsArgs(
                    conform_action="allow",
                    exceed_action="deny(429)",
                    enforce_on_key="IP",
                    rate_limit_threshold=gcp.compute.SecurityPolicyRuleRateLimitOptionsRateLimitThresholdArgs(
                        count=args.rate_limit * THROTTLE_INTERVAL_SEC,
                        interval_sec=THROTTLE_INTERVAL_SEC,
                    ),
                ),
            )
        )
        rules.append(
            gcp.compute.SecurityPolicyRuleArgs(
                action="allow",
                priority=_DEFAULT_PRIORITY,
                description="Default: allow what no rule above denied (ESPv2 checks the JWT)",
                match=gcp.compute.SecurityPolicyRuleMatchArgs(
                    versioned_expr="SRC_IPS_V1",
                    config=gcp.compute.SecurityPolicyRuleMatchConfigArgs(src_ip_ranges=["*"]),
                ),
            )
        )
        return rules

    def _region_rules(self, args: ApiGatewayArgs) -> list[gcp.compute.RegionSecurityPolicyRuleArgs]:
        return [
            gcp.compute.RegionSecurityPolicyRuleArgs(
                action="throttle",
                priority=_THROTTLE_PRIORITY,
                description="Rate limit per client address (gateway_rate_limit)",
                match=gcp.compute.RegionSecurityPolicyRuleMatchArgs(
                    versioned_expr="SRC_IPS_V1",
                    config=gcp.compute.RegionSecurityPolicyRuleMatchConfigArgs(src_ip_ranges=["*"]),
                ),
                rate_limit_options=gcp.compute.RegionSecurityPolicyRuleRateLimitOptionsArgs(
                    conform_action="allow",
                    exceed_action="deny(429)",
                    enforce_on_key="IP",
                    rate_limit_threshold=gcp.compute.RegionSecurityPolicyRuleRateLimitOptionsRateLimitThresholdArgs(
                        count=args.rate_limit * THROTTLE_INTERVAL_SEC,
                        interval_sec=THROTTLE_INTERVAL_SEC,
                    ),
                ),
            ),
            gcp.compute.RegionSecurityPolicyRuleArgs(
                action="allow",
                priority=_DEFAULT_PRIORITY,
                description="Default: allow what no rule above denied (ESPv2 checks the JWT)",
                match=gcp.compute.RegionSecurityPolicyRuleMatchArgs(
                    versioned_expr="SRC_IPS_V1",
                    config=gcp.compute.RegionSecurityPolicyRuleMatchConfigArgs(src_ip_ranges=["*"]),
                ),
            ),
        ]

    # ------------------------------------------------------------------ load balancers
    def _private(
        self,
        name: str,
        args: ApiGatewayArgs,
        neg: gcp.compute.RegionNetworkEndpointGroup,
        description: str,
    ) -> None:
        child = child_opts(self)
        backend = gcp.compute.RegionBackendService(
            f"{name}-backend",
            project=args.project,
            region=args.region,
            load_balancing_scheme="INTERNAL_MANAGED",
            protocol="HTTPS",
            backends=[gcp.compute.RegionBackendServiceBackendArgs(group=neg.id)],
            security_policy=self.security_policy_id,
            log_config=gcp.compute.RegionBackendServiceLogConfigArgs(
                enable=True, sample_rate=args.log_sample_rate
            ),
            opts=child,
        )
        route = None
        if self.mock_backend:
            route = gcp.compute.RegionUrlMapDefaultRouteActionArgs(
                fault_injection_policy=gcp.compute.RegionUrlMapDefaultRouteActionFaultInjectionPolicyArgs(
                    abort=gcp.compute.RegionUrlMapDefaultRouteActionFaultInjectionPolicyAbortArgs(
                        http_status=503, percentage=100
                    )
                )
            )
        url_map = gcp.compute.RegionUrlMap(
            f"{name}-urlmap",
            project=args.project,
            region=args.region,
            default_service=backend.id,
            default_route_action=route,
            description="AI gateway"
            + (": 503 until gateway_backend is set" if self.mock_backend else ""),
            opts=child,
        )
        ssl_policy = gcp.compute.RegionSslPolicy(
            f"{name}-tls",
            project=args.project,
            region=args.region,
            profile=SSL_PROFILE,
            min_tls_version=SSL_MIN_TLS,
            opts=child,
        )
        address = gcp.compute.Address(
            f"{name}-address",
            project=args.project,
            region=args.region,
            address_type="INTERNAL",
            subnetwork=args.subnet_id,
            labels=labels_of(args.labels),
            opts=child,
        )
        self.address = address.address
        # The baseline denies all egress: clients in the VPC may reach the gateway's
        # address on 443, nothing more.
        gcp.compute.Firewall(
            f"{name}-allow-clients",
            project=args.project,
            network=args.network_id,
            direction="EGRESS",
            priority=1000,
            description="AI gateway: HTTPS from the VPC to the gateway's internal address",
            destination_ranges=[address.address.apply(lambda ip: f"{ip}/32")],
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=["443"])],
            log_config=gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"),
            opts=child,
        )
        if not self.frontend:
            return
        certificate = gcp.compute.RegionSslCertificate(
            f"{name}-cert",
            project=args.project,
            region=args.region,
            certificate=args.certificate,
            private_key=args.private_key,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(additional_secret_outputs=["privateKey"])
            ),
        )
        proxy = gcp.compute.RegionTargetHttpsProxy(
            f"{name}-https",
            project=args.project,
            region=args.region,
            url_map=url_map.id,
            ssl_certificates=[certificate.id],
            ssl_policy=ssl_policy.id,
            opts=child,
        )
        gcp.compute.ForwardingRule(
            f"{name}-frontend",
            project=args.project,
            region=args.region,
            load_balancing_scheme="INTERNAL_MANAGED",
            ip_protocol="TCP",
            port_range="443",
            network=args.network_id,
            subnetwork=args.subnet_id,
            ip_address=address.id,
            target=proxy.id,
            allow_global_access=False,
            labels=labels_of(args.labels),
            opts=child,
        )

    def _public(
        self,
        name: str,
        args: ApiGatewayArgs,
        neg: gcp.compute.RegionNetworkEndpointGroup,
        labels: dict[str, str],
    ) -> None:
        child = child_opts(self)
        backend = gcp.compute.BackendService(
            f"{name}-backend",
            project=args.project,
            load_balancing_scheme="EXTERNAL_MANAGED",
            protocol="HTTPS",
            backends=[gcp.compute.BackendServiceBackendArgs(group=neg.id)],
            security_policy=self.security_policy_id,
            log_config=gcp.compute.BackendServiceLogConfigArgs(
                enable=True, sample_rate=args.log_sample_rate
            ),
            opts=child,
        )
        route = None
        if self.mock_backend:
            route = gcp.compute.URLMapDefaultRouteActionArgs(
                fault_injection_policy=gcp.compute.URLMapDefaultRouteActionFaultInjectionPolicyArgs(
                    abort=gcp.compute.URLMapDefaultRouteActionFaultInjectionPolicyAbortArgs(
                        http_status=503, percentage=100
                    )
                )
            )
        url_map = gcp.compute.URLMap(
            f"{name}-urlmap",
            project=args.project,
            default_service=backend.id,
            default_route_action=route,
            description="AI gateway"
            + (": 503 until gateway_backend is set" if self.mock_backend else ""),
            opts=child,
        )
        ssl_policy = gcp.compute.SSLPolicy(
            f"{name}-tls",
            project=args.project,
            profile=SSL_PROFILE,
            min_tls_version=SSL_MIN_TLS,
            opts=child,
        )
        address = gcp.compute.GlobalAddress(
            f"{name}-address",
            project=args.project,
            address_type="EXTERNAL",
            ip_version="IPV4",
            labels=labels,
            opts=child,
        )
        self.address = address.address
        if not self.frontend:
            return
        certificate: pulumi.CustomResource
        if args.domain:
            certificate = gcp.compute.ManagedSslCertificate(
                f"{name}-cert",
                project=args.project,
                managed=gcp.compute.ManagedSslCertificateManagedArgs(domains=[args.domain]),
                opts=child,
            )
        else:
            certificate = gcp.compute.SSLCertificate(
                f"{name}-cert",
                project=args.project,
                certificate=args.certificate,
                private_key=args.private_key,
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(additional_secret_outputs=["privateKey"])
                ),
            )
        proxy = gcp.compute.TargetHttpsProxy(
            f"{name}-https",
            project=args.project,
            url_map=url_map.id,
            ssl_certificates=[certificate.id],
            ssl_policy=ssl_policy.id,
            opts=child,
        )
        gcp.compute.GlobalForwardingRule(
            f"{name}-frontend",
            project=args.project,
            load_balancing_scheme="EXTERNAL_MANAGED",
            ip_protocol="TCP",
            port_range="443",
            ip_address=address.id,
            target=proxy.id,
            labels=labels,
            opts=child,
        )
