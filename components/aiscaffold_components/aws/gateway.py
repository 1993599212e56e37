"""ApiGateway: the project's authenticated, throttled front door (API-01..05, issue 20).

An API Gateway REST API before the team's workload, never before the model: the
gateway forwards to the workload (a Lambda function or a private load balancer, stack
config ``gateway_backend``), which calls Bedrock through the guardrail. Until a backend
is set every route answers 503 from a MOCK integration, so the first ``pulumi up``
works and nothing reaches the AI service.

Why a REST API and not an HTTP API: HTTP APIs have a native JWT authorizer but no
private endpoint type and no AWS WAF association ("Choose between REST APIs and HTTP
APIs", https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html:
private API endpoints and AWS WAF are REST-only), and this product needs both. REST
APIs have no JWT authorizer, so a Lambda TOKEN authorizer validates the caller's OIDC
token: signature against the issuer's published keys, issuer, audience and lifetime
(:mod:`._jwt_authorizer`, standard library only, shipped with this package; Lambda
authorizers:
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html).
It runs outside the VPC, because it fetches the issuer's keys from the internet
(the project's VPC has no route out by default); it touches no project data. Cognito
is not used: the team brings its identity provider (``gateway_oidc_issuer``).

- ``private``: endpoint type PRIVATE, reachable only through the project's
  ``execute-api`` interface endpoint (created here, private DNS, in the private
  subnets, HTTPS from the VPC only), with a resource policy denying every request not
  coming through that endpoint (aws:SourceVpce;
  https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-api-create.html).
  No WAF: nothing outside the network reaches it (API-03 holds by being private).
- ``public``: endpoint type REGIONAL, behind an AWS WAF web ACL (scope REGIONAL,
  associated with the stage:
  https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-aws-waf.html)
  with the managed rule groups :data:`MANAGED_RULE_GROUPS` and a rate-based rule per
  client address over a 60-second evaluation window (a rate-based rule counts requests
  per evaluation window of 60, 120, 300 or 600 seconds, limit at least 10:
  https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html).
  WAF logs go to a log group named ``aws-waf-logs-...`` (WAF refuses any other name:
  https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html), encrypted
  with the logs key, the ``authorization`` header redacted.

Always: every method requires the authorizer; stage-wide throttling (rate and burst,
method path ``*/*``:
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html);
execution logging at ERROR without request/response bodies (``data_trace_enabled``
false) and metrics; access logs in JSON to a log group encrypted with the logs key;
X-Ray tracing; the enhanced TLS security policy ``SecurityPolicy_TLS13_1_2_2021_06``
(TLS 1.2 and 1.3 only) with STRICT endpoint access mode on the API itself, and
``TLS_1_2`` on a custom domain, when one is given
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies.html).

Limits the platform cannot enforce: API Gateway meters requests, not model tokens, so
``tokens_per_minute`` is not applied here (README: the workload caps ``max_tokens`` per
call and Bedrock's own per-model quotas and the cost alerts catch the rest). The stage
throttle is for all callers together; per-client quotas need API keys and a usage plan
(``clients``), never created by default because an API key is a shared secret, not an
identity (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html).

Account-wide: API Gateway writes execution logs as one CloudWatch role per account and
region (``aws.apigateway.Account``,
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html):
created only with ``manage_account_logging_role`` (the stack owning the account's
services); otherwise the stage needs that role set by whoever owns it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import pulumi
import pulumi_aws as aws

from ._common import (
    aws_context,
    cloudwatch_retention_days,
    policy_json,
    require_tls,
    same_account,
    service_trust,
)

__all__ = [
    "ACCESS_LOG_FORMAT",
    "MANAGED_RULE_GROUPS",
    "SECURITY_POLICY",
    "ApiGateway",
    "ApiGatewayArgs",
]

#: AWS managed rule groups the public gateway's web ACL runs, in this order: OWASP-style
#: core rules, known bad inputs (Log4j, exploit payloads), and Amazon's IP reputation
#: list (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-list.html).
MANAGED_RULE_GROUPS: tuple[str, ...] = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)
#: TLS 1.2 and 1.3 with forward-secret ciphers, on the API's own endpoint.
SECURITY_POLICY = "SecurityPolicy_TLS13_1_2_2021_06"
#: The security policy a custom domain gets (the legacy TLS 1.2 minimum, which every
#: endpoint type and region accepts for domain names).
DOMAIN_SECURITY_POLICY = "TLS_1_2"
#: What the access log records of each call: who (authorizer principal, source
#: address), what (method, route, status), how long, throttling and WAF outcome. Never a
#: body or a header (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html).
ACCESS_LOG_FORMAT: Mapping[str, str] = {
    "requestId": "$context.requestId",
    "time": "$context.requestTimeEpoch",
    "sourceIp": "$context.identity.sourceIp",
    "principal": "$context.authorizer.principalId",
    "apiKeyId": "$context.identity.apiKeyId",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "latency": "$context.responseLatency",
    "authorizerError": "$context.authorizer.error",
    "wafStatus": "$context.waf.status",
    "tlsVersion": "$context.tlsVersion",
}
#: The body every route returns until ``gateway_backend`` is set.
MOCK_BODY = '{"message": "no backend configured: set gateway_backend (README, AI gateway)"}'

_LAMBDA_ARN = re.compile(r"arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+")
_LB_ARN = re.compile(
    r"arn:aws[\w-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/(app|net)/.+"
)
_ISSUER = re.compile(r"https://[^\s/]+(/\S*)?")
_AUTHORIZER_CODE = Path(__file__).with_name("_jwt_authorizer.py")


@dataclass(frozen=True)
class ApiGatewayArgs:
    """Arguments of :class:`ApiGateway`."""

    name_prefix: str
    """Names of the API, functions and log groups start with it."""
    mode: Literal["private", "public"]
    """``private``: reachable through the project's VPC endpoint only; ``public``:
    internet-facing behind the web ACL (the explicit, named exposure)."""
    oidc_issuer: str
    """The https issuer URL whose tokens are accepted (its discovery document must be
    reachable from the internet: the authorizer fetches the keys)."""
    oidc_audience: str
    """The audience callers' tokens must name."""
    rate_limit: float
    """Requests per second for the stage, all callers (API Gateway: above 0; the
    account's regional limit, 10,000 by default, caps it)."""
    burst_limit: int
    """Requests admitted at once above the rate (1 to 5,000, the account's burst)."""
    logs_key_arn: pulumi.Input[str]
    """The project's logs key: access, authorizer and WAF log groups use it."""
    log_retention_days: int
    """Days the gateway's logs are kept (rounded up to a CloudWatch Logs period)."""
    tags: Mapping[str, str]
    """The profile's tags (project, stack, data-classification...) on every child."""
    vpc_id: pulumi.Input[str] = ""
    """``private``: the VPC whose endpoint alone reaches the API."""
    vpc_cidr: str = ""
    """``private``: the only source the execute-api endpoint admits (TCP 443)."""
    subnet_ids: Sequence[pulumi.Input[str]] = ()
    """Private subnets: the execute-api endpoint (``private``) and the VPC link to a
    load balancer backend go there."""
    backend: str = ""
    """A Lambda function ARN (AWS_PROXY) or an internal ALB/NLB ARN (HTTP_PROXY over a
    VPC link); empty: every route answers 503 (MOCK)."""
    backend_host: str = ""
    """With a load balancer backend: the https host name its listener's certificate
    names (the integration's URI and Host header)."""
    backend_security_group_ids: Sequence[pulumi.Input[str]] = ()
    """With a load balancer backend: security groups of the VPC link's interfaces."""
    clients: Sequence[str] = ()
    """Named clients that each get an API key and the usage plan's quota (per-client
    quotas on top of the token; none by default)."""
    client_daily_quota: int = 0
    """Requests per client and day with ``clients`` (0: rate_limit for an hour)."""
    domain_name: str = ""
    """``public``: a custom domain (TLS_1_2 security policy), with ``certificate_arn``."""
    certificate_arn: str = ""
    """The ACM certificate of ``domain_name``, in the stack's region (REGIONAL domain)."""
    manage_account_logging_role: bool = False
    """Create the account's API Gateway CloudWatch role setting (one per account and
    region: the stack owning the account's services)."""
    waf_rate_limit: int = 0
    """``public``: requests per client address and minute before WAF blocks it (0:
    rate_limit times 60)."""
    execution_log_level: Literal["ERROR", "INFO"] = "ERROR"
    """Execution logging level (never OFF: AWS-API-005); INFO logs every call's flow."""
    log_bodies: bool = False
    """Weakening: log full requests and responses (prompts and completions) in the
    execution log; AWS-API-005 reports it for confidential and restricted data."""
    authorizer_cache_seconds: int = 300
    """How long API Gateway caches an allowed token (0 to 3,600; a revoked token
    works that long at most)."""
    stage_name: str = "v1"
    """The stage callers reach (``https://<api>.execute-api.<region>.amazonaws.com/v1``)."""


def _validate(args: ApiGatewayArgs) -> None:
    if args.mode not in ("private", "public"):
        raise ValueError(f"mode must be private or public, not {args.mode!r}")
    if not _ISSUER.fullmatch(args.oidc_issuer):
        raise ValueError(f"oidc_issuer must be an https URL, not {args.oidc_issuer!r}")
    if not args.oidc_audience.strip():
        raise ValueError("oidc_audience must not be empty")
    if not 0 < args.rate_limit <= 10000:
        raise ValueError(f"rate_limit must be above 0 and at most 10000, not {args.rate_limit}")
    if not 1 <= args.burst_limit <= 5000:
        raise ValueError(f"burst_limit must be 1 to 5000, not {args.burst_limit}")
    if not 0 <= args.authorizer_cache_seconds <= 3600:
        raise ValueError("authorizer_cache_seconds must be 0 to 3600 (API Gateway's range)")
    if args.mode == "private" and (not args.subnet_ids or not args.vpc_cidr):
        raise ValueError("a private gateway needs subnet_ids and vpc_cidr for its endpoint")
    if args.backend and not (
        _LAMBDA_ARN.fullmatch(args.backend) or _LB_ARN.fullmatch(args.backend)
    ):
        raise ValueError(
            "backend must be a Lambda function ARN or an internal ALB/NLB ARN, not "
            f"{args.backend!r} (never the model's endpoint: the workload applies the guardrail)"
        )
    if _LB_ARN.fullmatch(args.backend or "-") and not (args.backend_host and args.subnet_ids):
        raise ValueError("a load balancer backend needs backend_host and subnet_ids")
    if args.domain_name and (args.mode != "public" or not args.certificate_arn):
        raise ValueError("a custom domain needs mode public and certificate_arn")
    if not re.fullmatch(r"[a-zA-Z0-9_]{1,128}", args.stage_name):
        raise ValueError(f"stage_name must be 1-128 letters, digits or _, not {args.stage_name!r}")
    if len(set(args.clients)) != len(args.clients) or any(not c.strip() for c in args.clients):
        raise ValueError("clients must be distinct, non-empty names")
    if args.waf_rate_limit and not 10 <= args.waf_rate_limit <= 2_000_000_000:
        raise ValueError("waf_rate_limit must be 10 to 2,000,000,000 (WAF's range)")


class ApiGateway(pulumi.ComponentResource):
    """An API Gateway REST API with an OIDC authorizer, throttling, logs, TLS 1.2+ and
    (public) a WAF, or (private) a VPC-endpoint-only resource policy."""

    rest_api_id: pulumi.Output[str]
    stage_name: pulumi.Output[str]
    invoke_url: pulumi.Output[str]
    access_log_group_name: pulumi.Output[str]
    authorizer_function_name: pulumi.Output[str]
    web_acl_arn: pulumi.Output[str] | None
    vpc_endpoint_id: pulumi.Output[str] | None
    api_key_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: ApiGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        _validate(args)
        super().__init__("aiscaffold:aws:ApiGateway", name, None, opts)
        ctx = aws_context(self)
        child = pulumi.ResourceOptions(parent=self)
        retention = cloudwatch_retention_days(args.log_retention_days)
        api_name = f"{args.name_prefix}-gateway"

        def tags(resource: str) -> dict[str, str]:
            return {**args.tags, "Name": f"{name}-{resource}"}

        # -- the private path: an execute-api endpoint only the VPC reaches
        endpoint: aws.ec2.VpcEndpoint | None = None
        if args.mode == "private":
            group = aws.ec2.SecurityGroup(
                f"{name}-endpoint-sg",
                vpc_id=args.vpc_id,
                description="execute-api endpoint: HTTPS from the VPC only",
                revoke_rules_on_delete=True,
                tags=tags("endpoint-sg"),
                opts=child,
            )
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-endpoint-https-from-vpc",
                security_group_id=group.id,
                description="HTTPS from the VPC",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=args.vpc_cidr,
                tags=tags("endpoint-https-from-vpc"),
                opts=child,
            )
            endpoint = aws.ec2.VpcEndpoint(
                f"{name}-execute-api",
                vpc_id=args.vpc_id,
                service_name=ctx.service_name("execute-api"),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=list(args.subnet_ids),
                security_group_ids=[group.id],
                ip_address_type="ipv4",
                # Invoking APIs of this account in this region only (callers present
                # tokens, not AWS credentials, so no principal condition can apply; the
                # API's id cannot be named: the API names the endpoint).
                policy=policy_json(
                    [
                        {
                            "sid": "InvokeThisAccountsApisOnly",
                            "effect": "Allow",
                            "principals": [{"type": "*", "identifiers": ["*"]}],
                            "actions": ["execute-api:Invoke"],
                            "resources": [ctx.arn("execute-api", "*")],
                        }
                    ],
                    parent=self,
                ),
                tags=tags("execute-api"),
                opts=child,
            )
        self.vpc_endpoint_id = endpoint.id if endpoint is not None else None

        api = aws.apigateway.RestApi(
            f"{name}-api",
            name=api_name,
            description=f"{args.name_prefix}: authenticated front door of the AI workload",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(
                types="PRIVATE" if args.mode == "private" else "REGIONAL",
                vpc_endpoint_ids=[endpoint.id] if endpoint is not None else None,
            ),
            security_policy=SECURITY_POLICY,
            endpoint_access_mode="STRICT",
            tags=tags("api"),
            opts=child,
        )
        # A private API is deployed only with its resource policy attached.
        api_policy: list[pulumi.Resource] = []
        if endpoint is not None:
            api_policy.append(
                aws.apigateway.RestApiPolicy(
                    f"{name}-policy",
                    rest_api_id=api.id,
                    policy=policy_json(
                        [
                            {
                                "sid": "InvokeThroughTheProjectEndpoint",
                                "effect": "Allow",
                                "principals": [{"type": "*", "identifiers": ["*"]}],
                                "actions": ["execute-api:Invoke"],
                                "resources": [pulumi.Output.concat(api.execution_arn, "/*")],
                            },
                            {
                                "sid": "DenyOtherPaths",
                                "effect": "Deny",
                                "principals": [{"type": "*", "identifiers": ["*"]}],
                                "actions": ["execute-api:Invoke"],
                                "resources": [pulumi.Output.concat(api.execution_arn, "/*")],
                                "conditions": [
                                    {
                                        "test": "StringNotEquals",
                                        "variable": "aws:SourceVpce",
                                        "values": [endpoint.id],
                                    }
                                ],
                            },
                        ],
                        parent=self,
                    ),
                    opts=child,
                )
            )

        # -- the authorizer
        function_name = f"{args.name_prefix}-gateway-authorizer"[:64]
        authorizer_logs = aws.cloudwatch.LogGroup(
            f"{name}-authorizer-logs",
            name=f"/aws/lambda/{function_name}",
            kms_key_id=args.logs_key_arn,
            retention_in_days=retention,
            log_group_class="STANDARD",
            tags=tags("authorizer-logs"),
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-authorizer-role",
            description="The gateway's JWT authorizer: writes its own log group only",
            assume_role_policy=policy_json(
                [
                    service_trust(
                        "LambdaOfThisAccount", "lambda.amazonaws.com", same_account(ctx.account_id)
                    )
                ],
                parent=self,
            ),
            tags=tags("authorizer-role"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-authorizer-logs",
            role=role.name,
            policy=policy_json(
                [
                    {
                        "sid": "WriteOwnLogGroup",
                        "effect": "Allow",
                        "actions": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "resources": [pulumi.Output.concat(authorizer_logs.arn, ":*")],
                        "conditions": [require_tls()],
                    }
                ],
                parent=self,
            ),
            opts=child,
        )
        function = aws.lambda_.Function(
            f"{name}-authorizer",
            name=function_name,
            description="Validates callers' OIDC tokens (issuer, audience, signature)",
            role=role.arn,
            runtime="python3.13",
            architectures=["arm64"],
            handler="index.handler",
            code=pulumi.AssetArchive({"index.py": pulumi.FileAsset(str(_AUTHORIZER_CODE))}),
            timeout=10,
            memory_size=256,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={"OIDC_ISSUER": args.oidc_issuer, "OIDC_AUDIENCE": args.oidc_audience}
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="Text", log_group=authorizer_logs.name
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            tags=tags("authorizer"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[authorizer_logs]),
        )
        authorizer = aws.apigateway.Authorizer(
            f"{name}-jwt",
            name="oidc-jwt",
            rest_api=api.id,
            type="TOKEN",
            authorizer_uri=function.invoke_arn,
            identity_source="method.request.header.Authorization",
            # Malformed headers are refused before the function runs (and costs).
            identity_validation_expression=r"^Bearer [-0-9A-Za-z_]+\.[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+$",
            authorizer_result_ttl_in_seconds=args.authorizer_cache_seconds,
            opts=child,
        )
        aws.lambda_.Permission(
            f"{name}-authorizer-invoke",
            function=function.name,
            action="lambda:InvokeFunction",
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(api.execution_arn, "/authorizers/", authorizer.id),
            opts=child,
        )

        # -- routes: / and /{proxy+}, any method, each behind the authorizer
        proxy = aws.apigateway.Resource(
            f"{name}-proxy",
            rest_api=api.id,
            parent_id=api.root_resource_id,
            path_part="{proxy+}",
            opts=child,
        )
        routes = {"root": api.root_resource_id, "proxy": proxy.id}
        backend = self._backend(name, args, api, child)
        methods: list[pulumi.Resource] = []
        for label, resource_id in routes.items():
            method = aws.apigateway.Method(
                f"{name}-{label}-any",
                rest_api=api.id,
                resource_id=resource_id,
                http_method="ANY",
                authorization="CUSTOM",
                authorizer_id=authorizer.id,
                api_key_required=bool(args.clients),
                request_parameters={"method.request.path.proxy": True}
                if label == "proxy"
                else None,
                opts=child,
            )
            methods.append(method)
            methods.extend(
                self._integration(name, label, args, api, resource_id, method, backend, child)
            )

        # -- logs, deployment and stage
        access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{api_name}/access",
            kms_key_id=args.logs_key_arn,
            retention_in_days=retention,
            log_group_class="STANDARD",
            tags=tags("access-logs"),
            opts=child,
        )
        stage_deps: list[pulumi.Resource] = []
        if args.manage_account_logging_role:
            stage_deps.append(self._account_logging_role(name, ctx.account_id, args.tags))
        # A new deployment whenever the routes or integrations change (a deployment is a
        # snapshot: without one, changes never reach the stage).
        fingerprint = hashlib.sha256(
            json.dumps([args.backend, args.backend_host, args.clients, args.mode]).encode()
        ).hexdigest()
        deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=api.id,
            description="aiscaffold gateway routes",
            triggers={"routes": fingerprint},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*methods, *api_policy],
                # The stage points at the new deployment before the old one goes.
                delete_before_replace=False,
            ),
        )
        stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=api.id,
            deployment=deployment.id,
            stage_name=args.stage_name,
            xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=access_logs.arn,
                format=json.dumps(dict(ACCESS_LOG_FORMAT), separators=(",", ":")),
            ),
            tags=tags("stage"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=stage_deps),
        )
        aws.apigateway.MethodSettings(
            f"{name}-settings",
            rest_api=api.id,
            stage_name=stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                throttling_rate_limit=args.rate_limit,
                throttling_burst_limit=args.burst_limit,
                logging_level=args.execution_log_level,
                data_trace_enabled=args.log_bodies,
                metrics_enabled=True,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=stage_deps),
        )

        self.api_key_ids = {}
        if args.clients:
            self._usage_plan(name, args, api, stage, child)
        self.web_acl_arn = None
        if args.mode == "public":
            self.web_acl_arn = self._waf(name, args, stage, retention, child)
            if args.domain_name:
                domain = aws.apigateway.DomainName(
                    f"{name}-domain",
                    domain_name=args.domain_name,
                    regional_certificate_arn=args.certificate_arn,
                    endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(
                        types="REGIONAL"
                    ),
                    security_policy=DOMAIN_SECURITY_POLICY,
                    tags=tags("domain"),
                    opts=child,
                )
                aws.apigateway.BasePathMapping(
                    f"{name}-domain-mapping",
                    rest_api=api.id,
                    stage_name=stage.stage_name,
                    domain_name=domain.domain_name,
                    opts=child,
                )

        self.rest_api_id = api.id
        self.stage_name = stage.stage_name
        self.invoke_url = stage.invoke_url
        self.access_log_group_name = access_logs.name
        self.authorizer_function_name = function.name
        self.register_outputs(
            {
                "rest_api_id": self.rest_api_id,
                "stage_name": self.stage_name,
                "invoke_url": self.invoke_url,
                "access_log_group_name": self.access_log_group_name,
                "web_acl_arn": self.web_acl_arn,
                "vpc_endpoint_id": self.vpc_endpoint_id,
            }
        )

    # ------------------------------------------------------------------ backends
    def _backend(
        self,
        name: str,
        args: ApiGatewayArgs,
        api: aws.apigateway.RestApi,
        child: pulumi.ResourceOptions,
    ) -> aws.apigatewayv2.VpcLink | None:
        if _LAMBDA_ARN.fullmatch(args.backend):
            aws.lambda_.Permission(
                f"{name}-backend-invoke",
                function=args.backend,
                action="lambda:InvokeFunction",
                principal="apigateway.amazonaws.com",
                # This API's methods only, not any API of the account.
                source_arn=pulumi.Output.concat(api.execution_arn, "/*/*"),
                opts=child,
            )
            return None
        if _LB_ARN.fullmatch(args.backend):
            # REST APIs reach an ALB or NLB through a VPC link V2 (integration target
            # the load balancer; V1 links reach NLBs only):
            # https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-private-integration.html
            return aws.apigatewayv2.VpcLink(
                f"{name}-vpc-link",
                name=f"{args.name_prefix}-gateway",
                subnet_ids=list(args.subnet_ids),
                security_group_ids=list(args.backend_security_group_ids),
                tags={**args.tags, "Name": f"{name}-vpc-link"},
                opts=child,
            )
        return None

    def _integration(
        self,
        name: str,
        label: str,
        args: ApiGatewayArgs,
        api: aws.apigateway.RestApi,
        resource_id: pulumi.Input[str],
        method: aws.apigateway.Method,
        link: aws.apigatewayv2.VpcLink | None,
        child: pulumi.ResourceOptions,
    ) -> list[pulumi.Resource]:
        path = "/{proxy}" if label == "proxy" else "/"
        params = (
            {"integration.request.path.proxy": "method.request.path.proxy"}
            if label == "proxy"
            else None
        )
        if _LAMBDA_ARN.fullmatch(args.backend):
            region = args.backend.split(":")[3]
            return [
                aws.apigateway.Integration(
                    f"{name}-{label}-integration",
                    rest_api=api.id,
                    resource_id=resource_id,
                    http_method=method.http_method,
                    type="AWS_PROXY",
                    integration_http_method="POST",
                    uri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{args.backend}/invocations",
                    opts=child,
                )
            ]
        if link is not None:
            return [
                aws.apigateway.Integration(
                    f"{name}-{label}-integration",
                    rest_api=api.id,
                    resource_id=resource_id,
                    http_method=method.http_method,
                    type="HTTP_PROXY",
                    integration_http_method="ANY",
                    connection_type="VPC_LINK",
                    connection_id=link.id,
                    integration_target=args.backend,
                    uri=f"https://{args.backend_host}{path}",
                    request_parameters=params,
                    opts=child,
                )
            ]
        # No backend yet: API Gateway answers 503 itself (MOCK), nothing is forwarded.
        integration = aws.apigateway.Integration(
            f"{name}-{label}-integration",
            rest_api=api.id,
            resource_id=resource_id,
            http_method=method.http_method,
            type="MOCK",
            request_templates={"application/json": '{"statusCode": 503}'},
            passthrough_behavior="WHEN_NO_TEMPLATES",
            opts=child,
        )
        response = aws.apigateway.MethodResponse(
            f"{name}-{label}-503",
            rest_api=api.id,
            resource_id=resource_id,
            http_method=method.http_method,
            status_code="503",
            opts=child,
        )
        answer = aws.apigateway.IntegrationResponse(
            f"{name}-{label}-503",
            rest_api=api.id,
            resource_id=resource_id,
            http_method=method.http_method,
            status_code=response.status_code,
            selection_pattern="",
            response_templates={"application/json": MOCK_BODY},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[integration]),
        )
        return [integration, response, answer]

    # ------------------------------------------------------------ account, clients, WAF
    def _account_logging_role(
        self, name: str, account_id: pulumi.Output[str], tags: Mapping[str, str]
    ) -> pulumi.Resource:
        role = aws.iam.Role(
            f"{name}-cloudwatch-role",
            description="API Gateway writes execution and access logs (account setting)",
            assume_role_policy=policy_json(
                [
                    service_trust(
                        "ApiGatewayOfThisAccount",
                        "apigateway.amazonaws.com",
                        same_account(account_id),
                    )
                ],
                parent=self,
            ),
            managed_policy_arns=[
                "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
            ],
            tags={**tags, "Name": f"{name}-cloudwatch-role"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.apigateway.Account(
            f"{name}-account",
            cloudwatch_role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _usage_plan(
        self,
        name: str,
        args: ApiGatewayArgs,
        api: aws.apigateway.RestApi,
        stage: aws.apigateway.Stage,
        child: pulumi.ResourceOptions,
    ) -> None:
        quota = args.client_daily_quota or int(args.rate_limit * 3600)
        plan = aws.apigateway.UsagePlan(
            f"{name}-clients",
            name=f"{args.name_prefix}-gateway-clients",
            description="Per-client quota and throttle (API keys add quotas, not identity)",
            api_stages=[
                aws.apigateway.UsagePlanApiStageArgs(api_id=api.id, stage=stage.stage_name)
            ],
            throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(
                rate_limit=args.rate_limit, burst_limit=args.burst_limit
            ),
            quota_settings=aws.apigateway.UsagePlanQuotaSettingsArgs(limit=quota, period="DAY"),
            tags={**args.tags, "Name": f"{name}-clients"},
            opts=child,
        )
        for client in args.clients:
            key = aws.apigateway.ApiKey(
                f"{name}-client-{client}",
                name=f"{args.name_prefix}-{client}",
                description=f"API key of client {client} (quota only; callers still need a token)",
                enabled=True,
                tags={**args.tags, "Name": f"{name}-client-{client}"},
                opts=child,
            )
            aws.apigateway.UsagePlanKey(
                f"{name}-client-{client}",
                key_id=key.id,
                key_type="API_KEY",
                usage_plan_id=plan.id,
                opts=child,
            )
            self.api_key_ids[client] = key.id

    def _waf(
        self,
        name: str,
        args: ApiGatewayArgs,
        stage: aws.apigateway.Stage,
        retention: int,
        child: pulumi.ResourceOptions,
    ) -> pulumi.Output[str]:
        def visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgs:
            return aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True,
                metric_name=metric,
                sampled_requests_enabled=True,
            )

        prefix = args.name_prefix
        rules = [
            aws.wafv2.WebAclRuleArgs(
                name=group,
                priority=index,
                override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                    # An empty block: the group's own actions (block) apply, not count.
                    none=cast(Any, {})
                ),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                        name=group, vendor_name="AWS"
                    )
                ),
                visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                    cloudwatch_metrics_enabled=True,
                    metric_name=f"{prefix}-{group}",
                    sampled_requests_enabled=True,
                ),
            )
            for index, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        rules.append(
            aws.wafv2.WebAclRuleArgs(
                name="rate-per-client-address",
                priority=len(MANAGED_RULE_GROUPS),
                action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                        limit=args.waf_rate_limit or max(10, int(args.rate_limit * 60)),
                        evaluation_window_sec=60,
                        aggregate_key_type="IP",
                    )
                ),
                visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                    cloudwatch_metrics_enabled=True,
                    metric_name=f"{prefix}-rate",
                    sampled_requests_enabled=True,
                ),
            )
        )
        acl = aws.wafv2.WebAcl(
            f"{name}-waf",
            name=f"{prefix}-gateway",
            description="Managed rules and a per-address rate limit before the AI gateway",
            scope="REGIONAL",
            default_action=aws.wafv2.WebAclDefaultActionArgs(
                allow=aws.wafv2.WebAclDefaultActionAllowArgs()
            ),
            rules=rules,
            visibility_config=visibility(f"{prefix}-gateway"),
            tags={**args.tags, "Name": f"{name}-waf"},
            opts=child,
        )
        aws.wafv2.WebAclAssociation(
            f"{name}-waf-association",
            resource_arn=stage.arn,
            web_acl_arn=acl.arn,
            opts=child,
        )
        waf_logs = aws.cloudwatch.LogGroup(
            f"{name}-waf-logs",
            name=f"aws-waf-logs-{prefix}-gateway",
            kms_key_id=args.logs_key_arn,
            retention_in_days=retention,
            log_group_class="STANDARD",
            tags={**args.tags, "Name": f"{name}-waf-logs"},
            opts=child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-waf-logging",
            resource_arn=acl.arn,
            log_destination_configs=[waf_logs.arn],
            # Bearer tokens stay out of the WAF logs.
            redacted_fields=[
                aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                    single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(
                        name="authorization"
                    )
                )
            ],
            opts=child,
        )
        return acl.arn
