"""The AI gateway (API-01..05): API Management in front of the workload.

Every policy starts with :func:`~.._core.gateway_chosen` (not applicable without a
gateway) and reads what it judges: the API's policy document (``validate-jwt``, the
limits, the Front Door header check), the instance's network mode and TLS properties,
its diagnostics, and for a ``public`` gateway the Front Door WAF policy and the security
policy that attaches it. Policy documents are API Management's XML; expressions
(``@(...)``) may hold unescaped quotes, so they are masked before parsing.

Sources: policy reference (https://learn.microsoft.com/azure/api-management/api-management-policies),
``customProperties`` of the service (https://learn.microsoft.com/rest/api/apimanagement/api-management-service/create-or-update),
Front Door WAF (https://learn.microsoft.com/azure/web-application-firewall/afds/afds-overview).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from typing import Any

from .._core import (
    NotApplicable,
    Requirements,
    Resource,
    gateway_chosen,
    resource_policy,
    stack_policy,
)
from ._util import DIAGNOSTIC, id_path, name_of, of_type

APIM = "azure-native:apimanagement:ApiManagementService"
API = "azure-native:apimanagement:Api"
OPERATION = "azure-native:apimanagement:ApiOperation"
API_POLICY = "azure-native:apimanagement:ApiPolicy"
OPERATION_POLICY = "azure-native:apimanagement:ApiOperationPolicy"
APIM_DIAGNOSTIC = "azure-native:apimanagement:Diagnostic"
APIM_LOGGER = "azure-native:apimanagement:Logger"
WAF_POLICY = "azure-native:frontdoor:Policy"
SECURITY_POLICY = "azure-native:cdn:SecurityPolicy"
FRONT_DOOR = "azure-native:cdn:Profile"
ROUTE = "azure-native:cdn:Route"
ORIGIN = "azure-native:cdn:AFDOrigin"

_SECURITY = "Microsoft.WindowsAzure.ApiManagement.Gateway.Security"
#: The protocol switches that must be stated "False" (API-05).
OLD_PROTOCOLS = tuple(
    f"{_SECURITY}.{side}Protocols.{p}"
    for side in ("", "Backend.")
    for p in ("Tls10", "Tls11", "Ssl30")
)
MIN_API_VERSION = "2021-08-01"
_TOKEN_CHECKS = ("validate-jwt", "validate-azure-ad-token")
_RATE_LIMITS = ("rate-limit-by-key", "rate-limit")
_TOKEN_LIMITS = ("llm-token-limit", "azure-openai-token-limit")
_MANAGED_SETS = ("Microsoft_DefaultRuleSet", "DefaultRuleSet")


def _names(resource_id: Any, resource: Resource, collection: str, key: str) -> bool:
    """Whether ``resource_id`` ends in ``<collection>/<the resource's name in key>``
    (gateway types are not in ``_util``'s id table)."""
    if not isinstance(resource_id, str):
        return False
    if resource_id == resource.get("id"):
        return True
    tail = id_path(resource_id)
    name = name_of(resource, key)
    return bool(tail and name) and tail[-1] == (collection.lower(), name)


def _mask_expressions(text: str) -> str:
    """``text`` with every ``@(...)``/``@{...}`` expression replaced by ``@expr``."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "@" and i + 1 < len(text) and text[i + 1] in "({":
            opening = text[i + 1]
            closing = ")" if opening == "(" else "}"
            depth, j = 0, i + 1
            while j < len(text):
                if text[j] == opening:
                    depth += 1
                elif text[j] == closing:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out.append("@expr")
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse_policy(value: Any) -> ET.Element | None:
    """The policy document as XML, None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        # The project's own policy input, not a downloaded document: ElementTree resolves
        # no external entities, and expat >= 2.4.1 refuses entity expansion bombs.
        return ET.fromstring(_mask_expressions(value))  # noqa: S314
    except ET.ParseError:
        return None


def _inbound(document: ET.Element | None) -> ET.Element | None:
    return None if document is None else document.find("inbound")


def _api_of(resource: Resource) -> str:
    return name_of(resource, "apiId")


def _policies_by_api(resources: Sequence[Resource]) -> dict[str, list[Resource]]:
    found: dict[str, list[Resource]] = {}
    for policy in of_type(resources, API_POLICY):
        found.setdefault(_api_of(policy), []).append(policy)
    return found


def _token_checks(inbound: ET.Element | None) -> list[ET.Element]:
    if inbound is None:
        return []
    return [e for e in inbound.iter() if e.tag in _TOKEN_CHECKS]


def token_check_problems(check: ET.Element) -> list[str]:
    """What a validate-jwt (or validate-azure-ad-token) element lacks."""
    problems = []
    if check.tag == "validate-jwt":
        issuers = [e.text or "" for e in check.iter("issuer")]
        if not any(i.startswith("https://") for i in issuers):
            problems.append("no https issuer")
        config = check.find("openid-config")
        if config is None or not str(config.get("url", "")).startswith("https://"):
            problems.append("no https openid-config (signing keys) URL")
        if str(check.get("require-signed-tokens", "true")).lower() == "false":
            problems.append("unsigned tokens accepted")
    elif not check.get("tenant-id"):
        problems.append("no tenant-id")
    if not any((e.text or "").strip() for e in check.iter("audience")):
        problems.append("no audience")
    return problems


@stack_policy(
    id="AZURE-API-001",
    title="Every gateway operation requires a valid token of the team's identity provider",
    severity="high",
    controls=["API-01"],
    remediation="Put validate-jwt (openid-config of the issuer, the issuer, the audience, "
    "require-signed-tokens) in the API's inbound policy and keep <base /> in every "
    "operation's policy (ApiGateway does).",
)
def operations_authenticated(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """No operation answers an anonymous caller: the API policy validates the caller's
    token on every operation, and no operation policy drops it."""
    gateway_chosen(requirements)
    operations = of_type(resources, OPERATION)
    if not of_type(resources, APIM):
        yield None, "the project chose a gateway but registers no API Management service"
        return
    if not operations:
        yield None, "the gateway has no API operations to protect"
        return
    by_api = _policies_by_api(resources)
    own = {(_api_of(p), name_of(p, "operationId")): p for p in of_type(resources, OPERATION_POLICY)}
    for operation in operations:
        key = (_api_of(operation), name_of(operation, "operationId"))
        checks: list[ET.Element] = []
        override = own.get(key)
        override_inbound = _inbound(parse_policy(override.get("value"))) if override else None
        inherits = override is None or (
            override_inbound is not None and override_inbound.find("base") is not None
        )
        if inherits:
            for policy in by_api.get(key[0], []):
                checks.extend(_token_checks(_inbound(parse_policy(policy.get("value")))))
        checks.extend(_token_checks(override_inbound))
        if not checks:
            yield operation, f"operation {key[1] or operation.name} validates no caller token"
            continue
        for check in checks:
            for problem in token_check_problems(check):
                yield operation, f"operation {key[1] or operation.name}: {check.tag} has {problem}"


def _number(element: ET.Element, attribute: str) -> float | None:
    try:
        return float(str(element.get(attribute)))
    except ValueError:
        return None


@stack_policy(
    id="AZURE-API-002",
    title="The gateway limits each caller's requests and model tokens to the profile's",
    severity="medium",
    controls=["API-02"],
    remediation="Add rate-limit-by-key (counter-key the token's client; calls per second at "
    "most gateway_burst_limit, per minute at most 60 x gateway_rate_limit) and "
    "llm-token-limit (tokens-per-minute at most gateway_tokens_per_minute) to the API's "
    "inbound policy (ApiGateway does).",
)
def limits(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A stolen token or a runaway loop spends at most the profile's request rate, burst
    and tokens per minute (OWASP LLM10, unbounded consumption)."""
    gateway_chosen(requirements)
    rate = float(requirements.setting("gateway_rate_limit"))
    burst = float(requirements.setting("gateway_burst_limit"))
    tokens = float(requirements.setting("gateway_tokens_per_minute"))
    apis = of_type(resources, API)
    if not apis:
        yield None, "the gateway has no API whose limits could be read"
        return
    by_api = _policies_by_api(resources)
    for api in apis:
        inbound_parts = [
            _inbound(parse_policy(p.get("value"))) for p in by_api.get(name_of(api, "apiId"), [])
        ]
        elements = [e for inbound in inbound_parts if inbound is not None for e in inbound.iter()]
        rate_limits = [e for e in elements if e.tag in _RATE_LIMITS]
        token_limits = [e for e in elements if e.tag in _TOKEN_LIMITS]
        if not rate_limits:
            yield api, f"{api.name} has no request rate limit"
        sustained = False
        for element in rate_limits:
            calls, period = _number(element, "calls"), _number(element, "renewal-period")
            if calls is None or period is None or period <= 0:
                yield api, f"{api.name}: {element.tag} has no readable calls/renewal-period"
                continue
            if calls / period > burst:
                yield (
                    api,
                    f"{api.name}: {calls:g} calls per {period:g} s exceed the burst limit {burst:g}/s",
                )
            if period >= 60 and calls / period <= rate:
                sustained = True
            if element.tag == "rate-limit-by-key" and "@" not in str(
                element.get("counter-key", "")
            ):
                yield api, f"{api.name}: the rate limit is not counted per caller"
        if rate_limits and not sustained:
            yield api, f"{api.name} has no per-minute limit at or below {rate:g} requests/s"
        if not token_limits:
            yield api, f"{api.name} has no token limit"
        for element in token_limits:
            per_minute = _number(element, "tokens-per-minute")
            if per_minute is None or per_minute > tokens:
                allowed = element.get("tokens-per-minute")
                yield (
                    api,
                    f"{api.name}: {element.tag} allows {allowed} tokens/min, above {tokens:g}",
                )


def _counts_every_address(rule: Any) -> bool:
    """Whether a rate-limit rule's conditions match every IPv4 and IPv6 client."""
    for condition in rule.get("matchConditions") or []:
        if (
            condition.get("matchVariable") in ("RemoteAddr", "SocketAddr")
            and condition.get("operator") == "IPMatch"
            and condition.get("negateCondition") is not True
            and {"0.0.0.0/0", "::/0"} <= {str(v) for v in condition.get("matchValue") or []}
        ):
            return True
    return False


def _waf_problems(waf: Resource, requirements: Requirements) -> Iterator[str]:
    settings = waf.get("policySettings") or {}
    if settings.get("enabledState") != "Enabled" or settings.get("mode") != "Prevention":
        yield f"{waf.name} is not enabled in Prevention mode"
    if settings.get("requestBodyCheck") != "Enabled":
        yield f"{waf.name} does not inspect request bodies (requestBodyCheck)"
    sets = waf.get("managedRules", "managedRuleSets") or []
    managed = [
        s for s in sets
        if s.get("ruleSetType") in _MANAGED_SETS and s.get("ruleSetAction", "Block") == "Block"
    ]  # fmt: skip
    if not managed:
        yield f"{waf.name} has no Microsoft default rule set that blocks"
    if not any(s.get("ruleSetType") == "Microsoft_BotManagerRuleSet" for s in sets):
        yield f"{waf.name} has no bot manager rule set"
    rules = waf.get("customRules", "rules") or []
    limit = float(requirements.setting("gateway_burst_limit")) * 60
    rate_rules = [
        r for r in rules
        if r.get("ruleType") == "RateLimitRule" and r.get("action") == "Block"
        and r.get("enabledState", "Enabled") == "Enabled"
    ]  # fmt: skip
    if not rate_rules:
        yield f"{waf.name} has no enabled rate-limit rule that blocks"
    for rule in rate_rules:
        if not _counts_every_address(rule):
            yield f"{waf.name} rule {rule.get('name', '?')} does not count every client address"
        minutes = float(rule.get("rateLimitDurationInMinutes") or 0)
        if minutes not in (1, 5):
            yield f"{waf.name} rule {rule.get('name', '?')} has a window of {minutes:g} minutes (1 or 5)"
            continue
        per_minute = float(rule.get("rateLimitThreshold") or 0) / minutes
        if not 0 < per_minute <= limit:
            yield f"{waf.name} rule {rule.get('name', '?')} allows {per_minute:g} requests/min per client, above {limit:g}"  # fmt: skip


@stack_policy(
    id="AZURE-API-003",
    title="A public gateway is reached only through a WAF; a private one only from the VNet",
    severity="high",
    controls=["API-03"],
    remediation="public: Front Door Premium with a WAF policy (Prevention, Microsoft default "
    "rule set, a rate-limit rule) attached by a security policy, and the API policy "
    "checking X-Azure-FDID; private: virtualNetworkType Internal with a subnet "
    "(ApiGateway does both).",
)
def exposure(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Internet traffic meets the web application firewall before the gateway; a private
    gateway has no internet-facing address at all."""
    mode = gateway_chosen(requirements)
    services = of_type(resources, APIM)
    if not services:
        yield None, "the project chose a gateway but registers no API Management service"
        return
    for service in services:
        network = service.get("virtualNetworkType") or "None"
        subnet = service.get("virtualNetworkConfiguration", "subnetResourceId")
        wanted = "Internal" if mode == "private" else "External"
        if network != wanted or not subnet:
            yield (
                service,
                f"{service.name} is in virtual network mode {network}, not {wanted} in a subnet",
            )
    if mode == "private":
        return
    wafs = of_type(resources, WAF_POLICY)
    attached = [
        w for w in wafs
        if any(_names(s.get("parameters", "wafPolicy", "id"), w,
                      "frontDoorWebApplicationFirewallPolicies", "policyName")
               for s in of_type(resources, SECURITY_POLICY)
               if s.get("parameters", "associations"))
    ]  # fmt: skip
    if not attached:
        yield None, "no Front Door WAF policy is attached to the gateway's endpoint"
    for waf in attached:
        for problem in _waf_problems(waf, requirements):
            yield waf, problem
    for policy in of_type(resources, API_POLICY):
        inbound = _inbound(parse_policy(policy.get("value")))
        checks = [] if inbound is None else [
            e for e in inbound.iter("check-header")
            if str(e.get("name", "")).lower() == "x-azure-fdid" and (e.findtext("value") or "").strip()
        ]  # fmt: skip
        if not checks:
            yield policy, f"{policy.name} admits requests that did not come through this Front Door (X-Azure-FDID)"  # fmt: skip


def _sends_all(setting: Resource) -> bool:
    return any(
        entry.get("enabled") is True and entry.get("categoryGroup") == "allLogs"
        for entry in setting.items("logs")
    )


def _sends_to_workspace(setting: Resource) -> bool:
    return bool(setting.get("workspaceId")) and any(
        entry.get("enabled") is True
        and (entry.get("categoryGroup") == "allLogs" or entry.get("category") == "GatewayLogs")
        for entry in setting.items("logs")
    )


@stack_policy(
    id="AZURE-API-004",
    title="The gateway logs every call to Log Analytics",
    severity="medium",
    controls=["API-04"],
    remediation="Add a diagnostic setting on the API Management service (allLogs to the "
    "workspace) and an Azure Monitor logger with a diagnostic sampling 100 % (ApiGateway "
    "does).",
)
def gateway_logs(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Who called what, when, and what the gateway answered, kept with the project's
    other logs for investigation and abuse alerts."""
    gateway_chosen(requirements)
    services = of_type(resources, APIM)
    if not services:
        yield None, "the project chose a gateway but registers no API Management service"
        return
    settings = of_type(resources, DIAGNOSTIC)
    # The project archives audit logs when any diagnostic setting writes to storage
    # (AuditLogging's immutable archive): the gateway's logs are copied there too.
    archived = any(s.get("storageAccountId") for s in settings)
    targets = [(service, "service", "serviceName") for service in services] + [
        (profile, "profiles", "profileName") for profile in of_type(resources, FRONT_DOOR)
    ]
    for target, collection, key in targets:
        own = [s for s in settings if _names(s.get("resourceUri"), target, collection, key)]
        if not any(_sends_to_workspace(s) for s in own):
            yield target, f"{target.name} sends no gateway logs to Log Analytics"
        if archived and not any(s.get("storageAccountId") and _sends_all(s) for s in own):
            yield target, f"{target.name}'s logs are not copied to the archive"
    monitors = {
        name_of(logger, "loggerId")
        for logger in of_type(resources, APIM_LOGGER)
        if logger.get("loggerType") == "azureMonitor"
    }
    diagnostics = of_type(resources, APIM_DIAGNOSTIC)
    writing = [
        d for d in diagnostics
        if id_path(str(d.get("loggerId") or ""))[-1:] and id_path(str(d.get("loggerId")))[-1][1] in monitors
    ]  # fmt: skip
    if not writing:
        yield None, "no API Management diagnostic writes to an Azure Monitor logger"
    for diagnostic in writing:
        sampling = diagnostic.get("sampling", "percentage")
        if (
            diagnostic.get("sampling", "samplingType") != "fixed"
            or sampling is None
            or float(sampling) < 100
        ):
            yield diagnostic, f"{diagnostic.name} does not log every call (fixed sampling 100 %)"
        if diagnostic.get("logClientIp") is not True:
            yield diagnostic, f"{diagnostic.name} does not record the caller's address"
        if diagnostic.get("alwaysLog") != "allErrors":
            yield diagnostic, f"{diagnostic.name} does not always log failed calls (alwaysLog)"


@resource_policy(
    id="AZURE-API-005",
    title="Gateway logs hold no request or response bodies of confidential data",
    severity="medium",
    types=[APIM_DIAGNOSTIC],
    controls=["API-04"],
    remediation="Set body.bytes 0 on frontend and backend request and response of every "
    "API Management diagnostic (ApiGateway's log_body_bytes 0).",
)
def no_body_logging(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Bodies carry prompts and completions: the data itself, outside its encrypted store."""
    gateway_chosen(requirements)
    if requirements.data_sensitivity not in ("confidential", "restricted"):
        raise NotApplicable(f"{requirements.data_sensitivity} data: bodies may be logged")
    for side in ("frontend", "backend"):
        for message in ("request", "response"):
            body = resource.get(side, message, "body", "bytes")
            if body is None or float(body) != 0:
                yield f"{side} {message} bodies are logged ({body if body is not None else 'default'} bytes)"


@resource_policy(
    id="AZURE-API-006",
    title="The gateway accepts TLS 1.2 or later only, and current control-plane API versions",
    severity="medium",
    types=[APIM],
    controls=["API-05"],
    remediation="Set customProperties ...Protocols.Tls10/Tls11/Ssl30 and "
    '...Backend.Protocols.Tls10/Tls11/Ssl30 to "False", and apiVersionConstraint '
    f"minApiVersion {MIN_API_VERSION} or later (ApiGateway does).",
)
def tls(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Old protocols are off towards callers and backends; they are stated, not left to
    the default of the instance's creation date."""
    gateway_chosen(requirements)
    properties = resource.get("customProperties") or {}
    for key in OLD_PROTOCOLS:
        if str(properties.get(key, "")).lower() != "false":
            yield f"{key.removeprefix(_SECURITY + '.')} is not stated False"
    minimum = str(resource.get("apiVersionConstraint", "minApiVersion") or "")
    if minimum < MIN_API_VERSION:
        yield f"control-plane API versions older than {MIN_API_VERSION} are accepted"


@stack_policy(
    id="AZURE-API-007",
    title="The gateway's routes carry HTTPS only, to origins whose certificates are checked",
    severity="medium",
    controls=["API-05"],
    remediation="Set the API's protocols to [https]; on Front Door, each route's "
    "supportedProtocols to [Https] and forwardingProtocol HttpsOnly, and each origin's "
    "enforceCertificateNameCheck true (ApiGateway does).",
)
def https_only(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """No request or token crosses a network in clear text, and Front Door talks to the
    gateway it was configured for, not to whoever answers its host name."""
    gateway_chosen(requirements)
    apis = of_type(resources, API)
    if not apis:
        yield None, "the gateway has no API whose protocols could be read"
        return
    for api in apis:
        protocols = [str(p).lower() for p in api.items("protocols")]
        if protocols != ["https"]:
            yield (
                api,
                f"{api.name} accepts {', '.join(protocols) or 'no stated protocol'}, not https only",
            )
    for route in of_type(resources, ROUTE):
        supported = list(route.items("supportedProtocols"))
        if supported != ["Https"]:
            yield (
                route,
                f"{route.name} accepts {', '.join(map(str, supported)) or 'the default protocols'}, not Https only",
            )
        if route.get("forwardingProtocol") != "HttpsOnly":
            yield route, f"{route.name} may forward to the gateway over HTTP"
    for origin in of_type(resources, ORIGIN):
        if origin.get("enforceCertificateNameCheck") is not True:
            yield origin, f"{origin.name} does not check the gateway's certificate name"
