"""The AI gateway (API-01..05): Azure API Management in front of the workload.

Every caller presents a token of the team's identity provider: ``validate-jwt`` (issuer,
audience, signature through the issuer's OpenID configuration) runs on every operation
before anything else (API-01). Requests are limited per caller, the caller being the
token's client (``azp``, Entra v1 ``appid``, else ``sub``): ``rate-limit-by-key`` caps
the burst in any one second and the sustained rate over a minute, ``llm-token-limit``
the tokens per minute (API-02). Logs go to the project's Log Analytics workspace through
an Azure Monitor logger and diagnostic settings, without request or response bodies
(API-04). TLS 1.0, 1.1 and SSL 3 are off towards clients and backends, and the control
plane refuses API versions older than 2021-08-01 (API-05).

Exposure (API-03):

* ``private``: API Management injected in a dedicated subnet of the project's VNet in
  *internal* mode: the gateway has a private address only, reachable from the VNet and
  peered networks. Internal mode needs the Developer or Premium classic tier
  (https://learn.microsoft.com/azure/api-management/api-management-using-with-internal-vnet);
  Developer (about 50 USD a month, one unit, no SLA) is the default, Premium (about
  2,800 USD a month per unit, SLA, zones) is one argument away. Standard v2 only
  integrates outbound; Premium v2 injection is the v2 alternative
  (https://learn.microsoft.com/azure/api-management/virtual-network-concepts).
  ``publicNetworkAccess`` stays Enabled: it governs private-endpoint access, not an
  injected instance, and Azure refuses Disabled at creation and without an approved
  private endpoint (Azure/azure-rest-api-specs#24947; AZURE-DEPLOY-030).
* ``public``: the same instance in *external* mode behind Azure Front Door Premium with a
  WAF policy in Prevention mode (Microsoft default rule set 2.1, bot manager 1.1, a
  rate-limit rule per client address). Front Door rather than Application Gateway WAF
  v2: Application Gateway needs its own subnet admitting the internet and must keep
  outbound internet access, which the project's deny-all security groups forbid
  (https://learn.microsoft.com/azure/application-gateway/configuration-infrastructure);
  Front Door is global, needs no subnet or public IP in the project, and its price
  (about 330 USD a month base for Premium) is comparable. The gateway subnet admits 443
  only from the ``AzureFrontDoor.Backend`` service tag, and the gateway policy accepts a
  request only with this profile's ``X-Azure-FDID`` header, as Microsoft documents for
  restricting an origin to one Front Door
  (https://learn.microsoft.com/azure/frontdoor/origin-security).

The subnet's security group holds the rules Microsoft documents for an injected instance
(https://learn.microsoft.com/azure/api-management/virtual-network-reference): 3443 from
``ApiManagement`` (management), 6390 from ``AzureLoadBalancer``, outbound Storage 443,
SQL 1433, Key Vault 443 and Azure Monitor 1886/443; then the project's deny baseline.

Backend: ``backend_url`` (stack config ``gateway_backend``), an https URL of the team's
workload. Until it is set every operation answers 503 from a ``return-response`` policy:
the first deployment works and nothing reaches the AI service. The gateway never proxies
to the Azure OpenAI account itself; the workload calls it with its own identity, so
API Management holds no key and no role on the model.

What the platform cannot enforce: rate limits are counted per gateway unit and are not
exact under distribution ("Due to the distributed nature of throttling architecture,
rate limiting is never completely accurate",
https://learn.microsoft.com/azure/api-management/rate-limit-by-key-policy); there is no
token bucket (``burst_limit`` is a one-second window, ``rate_limit`` a one-minute
window); token counts of a request are estimated before the backend answers
(``estimate-prompt-tokens``,
https://learn.microsoft.com/azure/api-management/llm-token-limit-policy). Spend is
bounded by the budget and the deployments' capacity (COST-01..03), which the README
tells the team to keep in step with these limits. Provisioning takes 30-45 minutes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlparse
from xml.sax.saxutils import escape, quoteattr

import pulumi
import pulumi_azure_native as azure_native

from ._common import child_opts, plain_name, short_hash, tags_of

__all__ = ["TLS_PROPERTIES", "ApiGateway", "ApiGatewayArgs"]

GatewayMode = Literal["private", "public"]

_SECURITY = "Microsoft.WindowsAzure.ApiManagement.Gateway.Security"
#: custom_properties that turn off old protocols and ciphers, towards clients and
#: towards backends; API Management's defaults keep them on for instances created before
#: April 2018 only, and "False" must be stated to be sure (API reference,
#: https://learn.microsoft.com/rest/api/apimanagement/api-management-service/create-or-update#apimanagementserviceresource,
#: customProperties).
TLS_PROPERTIES: dict[str, str] = {
    f"{_SECURITY}.Protocols.Tls10": "False",
    f"{_SECURITY}.Protocols.Tls11": "False",
    f"{_SECURITY}.Protocols.Ssl30": "False",
    f"{_SECURITY}.Backend.Protocols.Tls10": "False",
    f"{_SECURITY}.Backend.Protocols.Tls11": "False",
    f"{_SECURITY}.Backend.Protocols.Ssl30": "False",
    f"{_SECURITY}.Ciphers.TripleDes168": "False",
}
#: Oldest control-plane API version the instance accepts (apiVersionConstraint): older
#: versions returned secrets in responses and were retired in September 2023
#: (https://learn.microsoft.com/azure/api-management/breaking-changes/api-version-retirement-sep-2023).
MIN_API_VERSION = "2021-08-01"
#: The methods the API forwards, each as a wildcard operation (``/*``).
METHODS = ("GET", "POST", "PUT", "DELETE")
#: The caller a limit is counted for: the token's client, else its subject.
_JWT = '((Jwt)context.Variables["jwt"])'
CLIENT_KEY = (
    f'@({_JWT}.Claims.GetValueOrDefault("azp", {_JWT}.Claims.GetValueOrDefault('
    f'"appid", {_JWT}.Subject)))'
)
_AUDIENCE = re.compile(r"^[^\s<>&\"']{1,256}$")


@dataclass(frozen=True)
class ApiGatewayArgs:
    """Arguments of :class:`ApiGateway`."""

    resource_group_name: pulumi.Input[str]
    location: str
    vnet_name: pulumi.Input[str]
    """The project's VNet; the gateway gets its own subnet in it."""
    subnet_prefix: str
    """Address prefix of the gateway's subnet (``Network.spare_subnet_prefix(2)``);
    an injected instance needs /29 at least, Microsoft recommends /27 or larger."""
    mode: GatewayMode
    """``private`` (internal mode) or ``public`` (external mode behind Front Door WAF)."""
    oidc_issuer: str
    """https issuer URL of the identity provider (``iss`` of the tokens); its OpenID
    configuration is read from ``<issuer>/.well-known/openid-configuration``."""
    oidc_audience: str
    """The audience (``aud``) the tokens must carry."""
    publisher_email: str
    """Address API Management sends its system notifications to (required by Azure)."""
    workspace_id: pulumi.Input[str]
    """Log Analytics workspace of the project (gateway logs, API-04)."""
    rate_limit: int
    """Sustained requests per second per caller (``profile.gateway_rate_limit``)."""
    burst_limit: int
    """Requests any one caller may send within one second (``gateway_burst_limit``)."""
    tokens_per_minute: int
    """Model tokens per minute per caller (``profile.gateway_tokens_per_minute``)."""
    archive_account_id: pulumi.Input[str] | None = None
    """Immutable archive account; the gateway's logs are copied there too."""
    backend_url: str | None = None
    """https URL of the workload (stack config ``gateway_backend``); None answers 503."""
    sku: Literal["Developer", "Premium"] = "Developer"
    """Classic tier: the two that support internal mode. Developer has no SLA."""
    log_body_bytes: int = 0
    """Weakening: bytes of request and response bodies written to the logs (up to
    8192). Refused with ``confidential_data``."""
    confidential_data: bool = True
    """The data is confidential or restricted: bodies are never logged."""
    tags: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[pulumi.Resource] = ()
    """Written before the gateway's subnet (Azure refuses concurrent subnet writes on
    one VNet); pass the Network component."""


def _https_url(value: str, what: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme != "https" or not parsed.hostname or any(c in value for c in "<>\"' "):
        raise ValueError(f"{what} {value!r} is not an https URL")
    return value


def _validate(args: ApiGatewayArgs) -> None:
    if args.mode not in ("private", "public"):
        raise ValueError(f"mode {args.mode!r} is not private or public")
    _https_url(args.oidc_issuer, "oidc_issuer")
    if not _AUDIENCE.match(args.oidc_audience):
        raise ValueError(f"oidc_audience {args.oidc_audience!r} is empty or not a plain value")
    if args.backend_url is not None:
        _https_url(args.backend_url, "gateway_backend")
    for name in ("rate_limit", "burst_limit", "tokens_per_minute"):
        if getattr(args, name) < 1:
            raise ValueError(f"{name} must be at least 1, not {getattr(args, name)}")
    if args.burst_limit < args.rate_limit:
        raise ValueError(
            f"burst_limit {args.burst_limit} is below rate_limit {args.rate_limit}: the "
            "one-second window would cut the sustained rate"
        )
    if not 0 <= args.log_body_bytes <= 8192:
        raise ValueError("log_body_bytes must be 0-8192 (API Management's maximum)")
    if args.confidential_data and args.log_body_bytes:
        raise ValueError(
            "log_body_bytes must be 0 for confidential or restricted data (API-04): bodies "
            "carry prompts and completions"
        )
    try:
        subnet = ipaddress.ip_network(args.subnet_prefix)
    except ValueError as exc:
        raise ValueError(f"subnet_prefix {args.subnet_prefix!r}: {exc}") from None
    if subnet.prefixlen > 29 or not subnet.is_private:
        raise ValueError(
            f"subnet_prefix {args.subnet_prefix} must be a private /29 or larger (API "
            "Management's minimum for an injected instance)"
        )
    if "@" not in args.publisher_email:
        raise ValueError(f"publisher_email {args.publisher_email!r} is not an e-mail address")


def gateway_policy(
    *,
    issuer: str,
    audience: str,
    rate_limit: int,
    burst_limit: int,
    tokens_per_minute: int,
    backend_url: str | None,
    front_door_id: str | None,
) -> str:
    """The API's inbound policy: (Front Door check), token validation, limits, backend
    or the 503 mock. Policy reference: validate-jwt, rate-limit-by-key, llm-token-limit,
    return-response (https://learn.microsoft.com/azure/api-management/api-management-policies)."""
    issuer_clean = issuer.rstrip("/")
    front_door = (
        '<check-header name="X-Azure-FDID" failed-check-httpcode="403" '
        'failed-check-error-message="Not through the front door" ignore-case="true">'
        f"<value>{escape(front_door_id)}</value></check-header>"
        if front_door_id is not None
        else ""
    )
    if backend_url:
        route = f"<set-backend-service base-url={quoteattr(backend_url)} />"
    else:
        # Until gateway_backend is set: nothing reaches a backend, callers learn why.
        route = (
            '<return-response><set-status code="503" reason="Service Unavailable" />'
            '<set-header name="Retry-After" exists-action="override"><value>3600</value>'
            '</set-header><set-body>{"error": "no backend configured (gateway_backend)"}'
            "</set-body></return-response>"
        )
    return (
        "<policies><inbound><base />"
        f"{front_door}"
        '<validate-jwt header-name="Authorization" failed-validation-httpcode="401" '
        'failed-validation-error-message="Unauthorized" require-expiration-time="true" '
        'require-scheme="Bearer" require-signed-tokens="true" output-token-variable-name="jwt">'
        f"<openid-config url={quoteattr(issuer_clean + '/.well-known/openid-configuration')} />"
        f"<audiences><audience>{escape(audience)}</audience></audiences>"
        f"<issuers><issuer>{escape(issuer)}</issuer></issuers>"
        "</validate-jwt>"
        # renewal-period is a sliding window in seconds: the burst in any one second,
        # and the sustained rate over a minute.
        f'<rate-limit-by-key calls="{burst_limit}" renewal-period="1" '
        f'counter-key="{CLIENT_KEY}" />'
        f'<rate-limit-by-key calls="{rate_limit * 60}" renewal-period="60" '
        f'counter-key="{CLIENT_KEY}" />'
        f'<llm-token-limit counter-key="{CLIENT_KEY}" tokens-per-minute="{tokens_per_minute}" '
        'estimate-prompt-tokens="true" remaining-tokens-header-name="x-remaining-tokens" />'
        f"{route}"
        "</inbound><backend><base /></backend><outbound><base /></outbound>"
        "<on-error><base /></on-error></policies>"
    )


def _rule(
    name: str,
    priority: int,
    direction: str,
    access: str,
    source: str,
    destination: str,
    port: str,
    description: str,
) -> azure_native.network.SecurityRuleArgs:
    return azure_native.network.SecurityRuleArgs(
        name=name,
        priority=priority,
        direction=direction,
        access=access,
        protocol="Tcp" if port != "*" else "*",
        source_address_prefix=source,
        source_port_range="*",
        destination_address_prefix=destination,
        destination_port_range=port,
        description=description,
    )


def gateway_rules(mode: GatewayMode) -> list[azure_native.network.SecurityRuleArgs]:
    """Security rules of the gateway subnet, from Microsoft's virtual network reference
    for injected instances (https://learn.microsoft.com/azure/api-management/virtual-network-reference)."""
    vnet = "VirtualNetwork"
    rules = [
        _rule("allow-apim-management", 100, "Inbound", "Allow", "ApiManagement", vnet, "3443",
              "Management endpoint (Azure portal, ARM): required in both modes"),
        _rule("allow-load-balancer", 110, "Inbound", "Allow", "AzureLoadBalancer", vnet, "6390",
              "Azure infrastructure load balancer health probes: required"),
        _rule("allow-https-from-vnet", 120, "Inbound", "Allow", vnet, vnet, "443",
              "Callers inside the VNet and peered networks"),
        _rule("allow-storage", 100, "Outbound", "Allow", vnet, "Storage", "443",
              "Azure Storage: core service dependency"),
        _rule("allow-sql", 110, "Outbound", "Allow", vnet, "Sql", "1433",
              "Azure SQL: core service dependency"),
        _rule("allow-key-vault", 120, "Outbound", "Allow", vnet, "AzureKeyVault", "443",
              "Key Vault: core service dependency"),
        _rule("allow-monitor", 130, "Outbound", "Allow", vnet, "AzureMonitor", "1886",
              "Azure Monitor: diagnostics and resource health"),
        _rule("allow-monitor-https", 140, "Outbound", "Allow", vnet, "AzureMonitor", "443",
              "Azure Monitor: metrics and logs"),
        _rule("allow-https-to-vnet", 150, "Outbound", "Allow", vnet, vnet, "443",
              "The workload (gateway_backend) inside the VNet"),
    ]  # fmt: skip
    if mode == "public":
        # Only Front Door's back end reaches the gateway; the gateway policy checks the
        # X-Azure-FDID header so no other Front Door profile can.
        rules.append(
            _rule("allow-front-door", 130, "Inbound", "Allow", "AzureFrontDoor.Backend", vnet,
                  "443", "Azure Front Door (the WAF) to the gateway")
        )  # fmt: skip
    return [
        *rules,
        _rule("deny-internet-inbound", 4000, "Inbound", "Deny", "Internet", "*", "*",
              "No inbound traffic from the internet (NET-01)"),
        _rule("deny-all-inbound", 4096, "Inbound", "Deny", "*", "*", "*",
              "Deny every inbound flow not allowed above (NET-02)"),
        _rule("deny-internet-outbound", 4000, "Outbound", "Deny", "*", "Internet", "*",
              "No outbound traffic to the internet (NET-03)"),
        _rule("deny-all-outbound", 4096, "Outbound", "Deny", "*", "*", "*",
              "Deny every outbound flow not allowed above (NET-02)"),
    ]  # fmt: skip


class ApiGateway(pulumi.ComponentResource):
    """API Management as the AI gateway: authenticated, rate- and token-limited, logged
    without bodies, TLS 1.2+; internal (``private``) or behind Front Door WAF
    (``public``)."""

    service_id: pulumi.Output[str]
    service_name: str
    gateway_host: str
    """Host name of the gateway: ``<service>.azure-api.net`` (private: resolve it to the
    gateway's private address in the VNet's DNS), or the Front Door endpoint's host."""
    gateway_url: pulumi.Output[str]
    api_path: str

    def __init__(
        self, name: str, args: ApiGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:azure:ApiGateway", name, None, opts)
        _validate(args)
        tags = tags_of(args.tags)
        group = args.resource_group_name
        public = args.mode == "public"

        nsg = azure_native.network.NetworkSecurityGroup(
            f"{name}-nsg",
            resource_group_name=group,
            network_security_group_name=plain_name("nsg", "gateway"),
            location=args.location,
            security_rules=gateway_rules(args.mode),
            tags=tags,
            opts=child_opts(self),
        )
        subnet = azure_native.network.Subnet(
            f"{name}-subnet",
            resource_group_name=group,
            virtual_network_name=args.vnet_name,
            subnet_name="gateway",
            address_prefix=args.subnet_prefix,
            default_outbound_access=False,
            network_security_group=azure_native.network.NetworkSecurityGroupArgs(id=nsg.id),
            opts=child_opts(self, depends_on=args.depends_on),
        )

        # Globally unique (<name>.azure-api.net), 1-50 letters, digits and hyphens,
        # starting with a letter (AZURE-DEPLOY-031).
        digest = short_hash(pulumi.get_project(), pulumi.get_stack(), "gateway")
        self.service_name = f"{plain_name('apim', 'gw', limit=50 - 1 - len(digest))}-{digest}"
        service = azure_native.apimanagement.ApiManagementService(
            f"{name}-apim",
            resource_group_name=group,
            service_name=self.service_name,
            location=args.location,
            sku=azure_native.apimanagement.ApiManagementServiceSkuPropertiesArgs(
                name=args.sku, capacity=1
            ),
            publisher_email=args.publisher_email,
            publisher_name=f"{pulumi.get_project()} ({pulumi.get_stack()})",
            virtual_network_type="External" if public else "Internal",
            virtual_network_configuration=azure_native.apimanagement.VirtualNetworkConfigurationArgs(
                subnet_resource_id=subnet.id
            ),
            custom_properties=dict(TLS_PROPERTIES),
            api_version_constraint=azure_native.apimanagement.ApiVersionConstraintArgs(
                min_api_version=MIN_API_VERSION
            ),
            # Disabled is refused at creation and without an approved private endpoint;
            # it does not govern an injected gateway (module docstring).
            public_network_access="Enabled",
            tags=tags,
            opts=child_opts(self),
        )
        self.gateway_host = f"{self.service_name}.azure-api.net"
        self.api_path = "ai"

        front_door_id: pulumi.Input[str] | None = None
        front_door_host: pulumi.Output[str] | None = None
        profile: azure_native.cdn.Profile | None = None
        if public:
            profile, endpoint = self._front_door(name, args, group, tags)
            front_door_id = profile.front_door_id
            front_door_host = endpoint.host_name

        api = azure_native.apimanagement.Api(
            f"{name}-api",
            resource_group_name=group,
            service_name=service.name,
            api_id="ai",
            display_name="AI workload",
            path=self.api_path,
            protocols=["https"],
            # Callers authenticate with tokens (validate-jwt), not shared subscription keys.
            subscription_required=False,
            service_url=args.backend_url,
            opts=child_opts(self),
        )
        for method in METHODS:
            azure_native.apimanagement.ApiOperation(
                f"{name}-{method.lower()}",
                resource_group_name=group,
                service_name=service.name,
                api_id=api.name,
                operation_id=f"{method.lower()}-any",
                display_name=f"{method} /*",
                method=method,
                url_template="/*",
                opts=child_opts(self),
            )
        azure_native.apimanagement.ApiPolicy(
            f"{name}-api-policy",
            resource_group_name=group,
            service_name=service.name,
            api_id=api.name,
            policy_id="policy",
            format="rawxml",
            value=pulumi.Output.from_input(front_door_id or "").apply(
                lambda fdid: gateway_policy(
                    issuer=args.oidc_issuer,
                    audience=args.oidc_audience,
                    rate_limit=args.rate_limit,
                    burst_limit=args.burst_limit,
                    tokens_per_minute=args.tokens_per_minute,
                    backend_url=args.backend_url,
                    front_door_id=fdid if public else None,
                )
            ),
            opts=child_opts(self),
        )

        logger = azure_native.apimanagement.Logger(
            f"{name}-logger",
            resource_group_name=group,
            service_name=service.name,
            logger_id="azuremonitor",
            logger_type="azureMonitor",
            is_buffered=True,
            opts=child_opts(self),
        )
        no_body = azure_native.apimanagement.HttpMessageDiagnosticArgs(
            body=azure_native.apimanagement.BodyDiagnosticSettingsArgs(bytes=args.log_body_bytes),
            headers=[],
        )
        azure_native.apimanagement.Diagnostic(
            f"{name}-diagnostic",
            resource_group_name=group,
            service_name=service.name,
            diagnostic_id="azuremonitor",
            logger_id=logger.id,
            always_log="allErrors",
            log_client_ip=True,
            verbosity="information",
            sampling=azure_native.apimanagement.SamplingSettingsArgs(
                sampling_type="fixed", percentage=100
            ),
            frontend=azure_native.apimanagement.PipelineDiagnosticSettingsArgs(
                request=no_body, response=no_body
            ),
            backend=azure_native.apimanagement.PipelineDiagnosticSettingsArgs(
                request=no_body, response=no_body
            ),
            opts=child_opts(self),
        )
        # Security groups have logs but no metrics (as Network's, AZURE-MON-001/004).
        self._diagnostic_settings(f"{name}-nsg", nsg.id, args, metrics=False)
        self._diagnostic_settings(f"{name}-apim", service.id, args)
        if profile is not None:
            self._diagnostic_settings(f"{name}-fd", profile.id, args)

        self.service_id = service.id
        self.gateway_url = (
            front_door_host.apply(lambda h: f"https://{h}/{self.api_path}")
            if front_door_host is not None
            else pulumi.Output.from_input(f"https://{self.gateway_host}/{self.api_path}")
        )
        self.register_outputs({"service_id": self.service_id, "gateway_url": self.gateway_url})

    def _diagnostic_settings(
        self,
        name: str,
        resource_id: pulumi.Input[str],
        args: ApiGatewayArgs,
        *,
        metrics: bool = True,
    ) -> None:
        azure_native.monitor.DiagnosticSetting(
            f"{name}-la",
            name="aiscaffold-log-analytics",
            resource_uri=resource_id,
            workspace_id=args.workspace_id,
            log_analytics_destination_type="Dedicated",
            logs=[azure_native.monitor.DiagnosticsLogSettingsArgs(category_group="allLogs", enabled=True)],
            metrics=[azure_native.monitor.DiagnosticsMetricSettingsArgs(category="AllMetrics", enabled=True)] if metrics else [],
            opts=child_opts(self),
        )  # fmt: skip
        if args.archive_account_id is not None:
            azure_native.monitor.DiagnosticSetting(
                f"{name}-archive",
                name="aiscaffold-archive",
                resource_uri=resource_id,
                storage_account_id=args.archive_account_id,
                logs=[azure_native.monitor.DiagnosticsLogSettingsArgs(category_group="allLogs", enabled=True)],
                opts=child_opts(self),
            )  # fmt: skip

    def _front_door(
        self,
        name: str,
        args: ApiGatewayArgs,
        group: pulumi.Input[str],
        tags: dict[str, str],
    ) -> tuple[azure_native.cdn.Profile, azure_native.cdn.AFDEndpoint]:
        """Front Door Premium with a WAF policy in front of the external gateway."""
        cdn = azure_native.cdn
        # WAF policy names: letters and digits only, starting with a letter (AZURE-DEPLOY-032).
        waf_name = "waf" + re.sub(r"[^a-z0-9]", "", plain_name("x", "gateway").lower())[1:][:100]
        waf = azure_native.frontdoor.Policy(
            f"{name}-waf",
            resource_group_name=group,
            policy_name=waf_name,
            location="Global",
            sku=azure_native.frontdoor.SkuArgs(name="Premium_AzureFrontDoor"),
            policy_settings=azure_native.frontdoor.PolicySettingsArgs(
                enabled_state="Enabled", mode="Prevention", request_body_check="Enabled"
            ),
            managed_rules=azure_native.frontdoor.ManagedRuleSetListArgs(
                managed_rule_sets=[
                    azure_native.frontdoor.ManagedRuleSetArgs(
                        rule_set_type="Microsoft_DefaultRuleSet",
                        rule_set_version="2.1",
                        rule_set_action="Block",
                    ),
                    azure_native.frontdoor.ManagedRuleSetArgs(
                        rule_set_type="Microsoft_BotManagerRuleSet", rule_set_version="1.1"
                    ),
                ]
            ),
            custom_rules=azure_native.frontdoor.CustomRuleListArgs(
                rules=[
                    # Per client address, before a token is even read: a flood from one
                    # source stops at the edge (the gateway limits each token's client).
                    azure_native.frontdoor.CustomRuleArgs(
                        name="ratelimitperclient",
                        priority=100,
                        enabled_state="Enabled",
                        rule_type="RateLimitRule",
                        rate_limit_duration_in_minutes=1,
                        rate_limit_threshold=args.burst_limit * 60,
                        match_conditions=[
                            azure_native.frontdoor.MatchConditionArgs(
                                match_variable="RemoteAddr",
                                operator="IPMatch",
                                match_value=["0.0.0.0/0", "::/0"],
                            )
                        ],
                        action="Block",
                    )
                ]
            ),
            tags=tags,
            opts=child_opts(self),
        )
        profile = cdn.Profile(
            f"{name}-fd",
            resource_group_name=group,
            profile_name=plain_name("afd", "gateway", limit=260),
            location="Global",
            sku=cdn.SkuArgs(name="Premium_AzureFrontDoor"),
            origin_response_timeout_seconds=60,
            tags=tags,
            opts=child_opts(self),
        )
        endpoint = cdn.AFDEndpoint(
            f"{name}-fd-endpoint",
            resource_group_name=group,
            profile_name=profile.name,
            endpoint_name=plain_name("ep", "gateway", limit=46),
            location="Global",
            enabled_state="Enabled",
            tags=tags,
            opts=child_opts(self),
        )
        origins = cdn.AFDOriginGroup(
            f"{name}-fd-origins",
            resource_group_name=group,
            profile_name=profile.name,
            origin_group_name="apim",
            load_balancing_settings=cdn.LoadBalancingSettingsParametersArgs(
                sample_size=4, successful_samples_required=3, additional_latency_in_milliseconds=50
            ),
            # API Management's built-in health endpoint.
            health_probe_settings=cdn.HealthProbeParametersArgs(
                probe_path="/status-0123456789abcdef",
                probe_protocol=cdn.ProbeProtocol.HTTPS,
                probe_request_type=cdn.HealthProbeRequestType.HEAD,
                probe_interval_in_seconds=100,
            ),
            session_affinity_state="Disabled",
            opts=child_opts(self),
        )
        origin = cdn.AFDOrigin(
            f"{name}-fd-origin",
            resource_group_name=group,
            profile_name=profile.name,
            origin_group_name=origins.name,
            origin_name="apim",
            host_name=self.gateway_host,
            origin_host_header=self.gateway_host,
            http_port=80,
            https_port=443,
            enforce_certificate_name_check=True,
            enabled_state="Enabled",
            opts=child_opts(self),
        )
        route = cdn.Route(
            f"{name}-fd-route",
            resource_group_name=group,
            profile_name=profile.name,
            endpoint_name=endpoint.name,
            route_name="gateway",
            origin_group=cdn.ResourceReferenceArgs(id=origins.id),
            supported_protocols=["Https"],
            https_redirect="Disabled",
            forwarding_protocol="HttpsOnly",
            link_to_default_domain="Enabled",
            patterns_to_match=["/*"],
            enabled_state="Enabled",
            # A route to an origin group without origins is refused (AZURE-DEPLOY-033).
            opts=child_opts(self, depends_on=[origin]),
        )
        cdn.SecurityPolicy(
            f"{name}-fd-waf",
            resource_group_name=group,
            profile_name=profile.name,
            security_policy_name="waf",
            parameters=cdn.SecurityPolicyWebApplicationFirewallParametersArgs(
                type="WebApplicationFirewall",
                waf_policy=cdn.ResourceReferenceArgs(id=waf.id),
                associations=[
                    cdn.SecurityPolicyWebApplicationFirewallAssociationArgs(
                        domains=[cdn.ActivatedResourceReferenceArgs(id=endpoint.id)],
                        patterns_to_match=["/*"],
                    )
                ],
            ),
            opts=child_opts(self, depends_on=[route]),
        )
        return profile, endpoint
