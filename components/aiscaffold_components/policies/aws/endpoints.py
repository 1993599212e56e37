"""VPC endpoints: the AI service and platform APIs reached privately, with narrow policies."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import (
    actions,
    as_list,
    document,
    ecr_endpoint_services,
    endpoint_actions,
    endpoint_services,
    has_condition,
    is_public_principal,
    of_type,
    statements,
)
from .iam import trusted_services, workload_roles

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
VPC = "aws:ec2/vpc:Vpc"

_SERVICE = re.compile(r"com\.amazonaws\.[a-z0-9-]+\.(?P<service>.+)")
#: The SageMaker AI Studio web UI endpoint (``aws.sagemaker.<region>.studio``) is not an
#: AWS API endpoint and accepts no endpoint policy.
_STUDIO = re.compile(r"aws\.sagemaker\.[a-z0-9-]+\.studio")
#: Conditions confining an endpoint grant to the account's (or organisation's) principals.
_ACCOUNT = ("aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:PrincipalArn")


def service_of(resource: Resource) -> str:
    """The endpoint's service (``bedrock-runtime``, ``sagemaker.studio``, ``s3``)."""
    name = str(resource.get("serviceName", default=""))
    if _STUDIO.fullmatch(name):
        return "sagemaker.studio"
    match = _SERVICE.fullmatch(name)
    return match.group("service") if match else name


def _interface(resource: Resource) -> bool:
    return bool(resource.get("vpcEndpointType", default="Gateway") == "Interface")


@resource_policy(
    id="AWS-VPCE-001",
    title="Interface endpoints resolve through private DNS",
    severity="medium",
    types=[ENDPOINT],
    controls=["PE-05"],
    remediation="Set private_dns_enabled=True on interface endpoints (PrivateEndpoints does).",
)
def private_dns(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Interface endpoints have private DNS on, so the service's public name resolves to
    the endpoint inside the VPC and clients cannot fall back to public addresses."""
    if not _interface(resource):
        raise NotApplicable("gateway endpoints work through routes, not DNS")
    if resource.get("privateDnsEnabled") is not True:
        yield f"{resource.name} ({service_of(resource)}) has private DNS off"


@resource_policy(
    id="AWS-VPCE-002",
    title="Endpoint policies admit the account's principals and the project's buckets only",
    severity="high",
    types=[ENDPOINT],
    controls=["PE-04"],
    remediation="Give the endpoint a policy (PrivateEndpoints does): Principal * only with "
    "aws:PrincipalAccount, the actions the workload calls (ENDPOINT_ACTIONS) rather than a "
    "whole API; the S3 gateway only on the project's buckets.",
)
def endpoint_policy(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Endpoint policies keep foreign credentials off the private path: every grant needs
    the account's principals (without a policy, AWS allows anyone), names the actions
    rather than a whole API (``<service>:*``, except for the APIs whose wildcard the
    components document: the SageMaker AI API), and the S3 gateway reaches named buckets
    only (AWS-owned service buckets for reading objects)."""
    if _STUDIO.fullmatch(str(resource.get("serviceName", default=""))):
        raise NotApplicable("the Studio UI endpoint accepts no endpoint policy")
    doc = document(resource, "policy")
    if doc is None:
        yield f"{resource.name} has no endpoint policy: AWS's default allows any principal"
        return
    service = service_of(resource)
    gateway_s3 = not _interface(resource) and service == "s3"
    documented = endpoint_actions()
    whole_api = service in documented and documented[service] is None
    for index, st in enumerate(statements(doc, "Allow")):
        sid = st.get("Sid") or f"#{index}"
        granted = [a.lower() for a in actions(st)]
        resources = [str(r) for r in as_list(st.get("Resource"))]
        if "*" in granted:
            yield f"{resource.name} statement {sid} allows every action of every service"
        elif not whole_api and any("*" in a for a in granted):
            wild = ", ".join(sorted(a for a in granted if "*" in a))
            yield (
                f"{resource.name} statement {sid} admits whole APIs ({wild}): list the "
                "actions the workload calls"
            )
        if gateway_s3 and any(r == "*" or r.startswith("arn:aws:s3:::*") for r in resources):
            yield f"{resource.name} statement {sid} reaches every bucket"
        scoped = has_condition(st, *_ACCOUNT) or not is_public_principal(st)
        read_only = gateway_s3 and granted == ["s3:getobject"] and "*" not in resources
        if not scoped and not read_only and not _gateway_invoke(service, st, requirements):
            yield f"{resource.name} statement {sid} admits principals of any account"


def _gateway_invoke(service: str, statement: Mapping[str, Any], requirements: Requirements) -> bool:
    """The private AI gateway's execute-api endpoint (API-03): its callers present OIDC
    tokens, not AWS credentials, so no principal condition can hold; the grant is
    confined to invoking execute-api ARNs instead, and only with a gateway chosen."""
    return (
        requirements.api_gateway != "none"
        and service == "execute-api"
        and [a.lower() for a in actions(statement)] == ["execute-api:invoke"]
        and all(
            str(r).startswith("arn:") and ":execute-api:" in str(r)
            for r in as_list(statement.get("Resource"))
        )
        and bool(as_list(statement.get("Resource")))
    )


def _services(resources: Sequence[Resource]) -> set[str]:
    return {service_of(r) for r in of_type(resources, ENDPOINT)}


def _ai_services(ai_service: str) -> list[str]:
    return [s for s in endpoint_services().get(ai_service, ()) if s.startswith(ai_service)]


def _platform_services(ai_service: str) -> list[str]:
    return [s for s in endpoint_services().get(ai_service, ()) if not s.startswith(ai_service)]


@stack_policy(
    id="AWS-VPCE-003",
    title="The AI service is reached through private endpoints",
    severity="high",
    controls=["PE-01"],
    remediation="Create interface endpoints for the AI service's APIs (PrivateEndpoints with "
    "ENDPOINT_SERVICES[ai_service]).",
)
def ai_endpoints(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """The network has interface endpoints for every API of the answered AI service
    (Bedrock: bedrock, bedrock-runtime, bedrock-agent-runtime; SageMaker AI: API,
    runtime, Studio), so model calls never leave the VPC."""
    if not of_type(resources, VPC):
        raise NotApplicable("the stack has no VPC")
    missing = sorted(set(_ai_services(requirements.ai_service)) - _services(resources))
    if missing:
        yield None, f"no interface endpoint for {', '.join(missing)}"


@stack_policy(
    id="AWS-VPCE-004",
    title="Platform services are reached through private endpoints",
    severity="medium",
    controls=["PE-02"],
    remediation="Create interface endpoints for STS, CloudWatch Logs, KMS and Secrets Manager "
    "(and ECR for SageMaker AI and for ECS tasks) and an S3 gateway endpoint "
    "(PrivateEndpoints does).",
)
def platform_endpoints(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Keys, secrets, logs, identity and storage are reached privately as well: interface
    endpoints for the platform services and an S3 gateway endpoint, so the workload
    needs no route out of the VPC; ECR's too when ECS tasks run the workload (a
    Fargate task pulls its image through them)."""
    if not of_type(resources, VPC):
        raise NotApplicable("the stack has no VPC")
    needed = {*_platform_services(requirements.ai_service), "s3"}
    if any("ecs-tasks.amazonaws.com" in trusted_services(r) for r in workload_roles(resources)):
        needed.update(ecr_endpoint_services())
    missing = sorted(needed - _services(resources))
    if missing:
        yield None, f"no endpoint for {', '.join(missing)}"
