"""IAM: one workload role, no long-lived credentials, scoped trust, least-privilege grants."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import (
    actions,
    as_list,
    conditions,
    document,
    grants,
    has_condition,
    is_public_principal,
    of_type,
    principals,
    refers_to,
    statements,
    unscoped_actions,
)

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IDENTITY_POLICIES = (
    ROLE_POLICY,
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
)
LONG_LIVED = {
    "aws:iam/user:User": "an IAM user",
    "aws:iam/accessKey:AccessKey": "an access key",
    "aws:iam/userLoginProfile:UserLoginProfile": "a console password",
    "aws:iam/serviceSpecificCredential:ServiceSpecificCredential": "a service-specific credential",
    "aws:iam/sshKey:SshKey": "an SSH key of an IAM user",
    "aws:iam/signingCertificate:SigningCertificate": "a signing certificate",
}
#: Services that run workload code: a role they may assume is a workload role.
WORKLOAD_SERVICES = (
    "lambda.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "sagemaker.amazonaws.com",
    "ec2.amazonaws.com",
    "pods.eks.amazonaws.com",
    "batch.amazonaws.com",
)
#: AWS managed policies far broader than any workload needs.
_BROAD_MANAGED = re.compile(
    r"arn:aws[a-z-]*:iam::aws:policy/(.*/)?(AdministratorAccess|PowerUserAccess|IAMFullAccess"
    r"|[A-Za-z0-9]+FullAccess(-v\d+)?)"
)
#: Conditions that bind a service principal to this account or its resources.
_CONFUSED_DEPUTY = ("aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID")


@resource_policy(
    id="AWS-IAM-001",
    title="No IAM users or long-lived credentials",
    severity="high",
    types=list(LONG_LIVED),
    controls=["IAM-01", "IAM-03"],
    remediation="Remove it: workloads assume their role; people sign in through IAM Identity "
    "Center; CI authenticates with OIDC.",
)
def no_long_lived_credentials(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The project creates no IAM users, access keys, passwords or other long-lived
    credentials: the workload acts as its role with temporary credentials."""
    yield f"{resource.name} is {LONG_LIVED[resource.type]}: a long-lived credential"


@resource_policy(
    id="AWS-IAM-002",
    title="Role trust is scoped to named services of this account",
    severity="high",
    types=[ROLE],
    controls=["IAM-04"],
    remediation="Trust named service principals with an aws:SourceAccount (or aws:SourceArn) "
    "condition; never Principal * or NotPrincipal.",
)
def scoped_trust(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Who may assume the role is scoped: no public principal, service principals only for
    this account's resources (confused deputy), federated principals only with
    conditions."""
    doc = document(resource, "assumeRolePolicy")
    if doc is None:
        yield f"{resource.name} has no trust policy"
        return
    for index, st in enumerate(statements(doc, "Allow")):
        sid = st.get("Sid") or f"#{index}"
        found = principals(st)
        if "NotPrincipal" in st or is_public_principal(st):
            yield f"{resource.name} statement {sid} lets anyone assume the role"
            continue
        if found.get("Service") and not has_condition(st, *_CONFUSED_DEPUTY):
            yield (
                f"{resource.name} statement {sid} trusts a service for any account: require "
                "aws:SourceAccount or aws:SourceArn"
            )
        if found.get("Federated") and not conditions(st):
            yield f"{resource.name} statement {sid} trusts a federated identity without conditions"


def _lower(values: Sequence[str]) -> set[str]:
    return {v.lower() for v in values}


def policy_findings(name: str, doc: Mapping[str, Any] | None) -> Iterator[str]:
    """Least-privilege findings of an identity policy document."""
    unscoped = _lower(list(unscoped_actions()))
    for index, st in enumerate(statements(doc, "Allow")):
        sid = st.get("Sid") or f"#{index}"
        granted = _lower(actions(st))
        if "NotAction" in st:
            yield f"{name} statement {sid} allows everything but NotAction"
        wild = sorted(a for a in granted if "*" in a)
        if wild:
            yield f"{name} statement {sid} grants wildcard actions {', '.join(wild)}"
        if "NotResource" in st:
            yield f"{name} statement {sid} grants on everything but NotResource"
        if "*" in [str(r) for r in as_list(st.get("Resource"))]:
            broad = sorted(granted - unscoped)
            if broad:
                yield (
                    f"{name} statement {sid} grants {', '.join(broad)} on every resource: "
                    "name the resources"
                )


@resource_policy(
    id="AWS-IAM-003",
    title="Identity policies name actions and resources",
    severity="high",
    types=IDENTITY_POLICIES,
    controls=["IAM-02"],
    remediation="List the actions the workload performs and the ARNs of the resources it "
    "uses; Resource * only for actions AWS authorizes against no resource (UNSCOPED_ACTIONS).",
)
def least_privilege(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """No wildcard actions, no NotAction or NotResource, and Resource ``*`` only for the
    actions AWS authorizes against no resource type (the components' UNSCOPED_ACTIONS)."""
    yield from policy_findings(resource.name, document(resource, "policy"))


@resource_policy(
    id="AWS-IAM-004",
    title="No broad AWS managed policies",
    severity="high",
    types=[ROLE, *ATTACHMENTS],
    controls=["IAM-02"],
    remediation="Detach AdministratorAccess, PowerUserAccess and *FullAccess policies; grant "
    "the actions on the project's resources in an inline policy (WorkloadIdentity).",
)
def no_broad_managed_policies(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """No role or principal gets an administrator, power-user or full-access AWS managed
    policy."""
    arns = (
        resource.items("managedPolicyArns")
        if resource.type == ROLE
        else [resource.get("policyArn")]
    )
    for arn in arns:
        if isinstance(arn, str) and _BROAD_MANAGED.fullmatch(arn):
            yield f"{resource.name} attaches {arn.rsplit('/', 1)[-1]}"


def trusted_services(role: Resource) -> set[str]:
    """Service principals the role's trust policy allows."""
    return {
        service
        for st in statements(document(role, "assumeRolePolicy"), "Allow")
        for service in principals(st).get("Service", [])
    }


def workload_roles(resources: Sequence[Resource]) -> list[Resource]:
    """Roles that services running workload code may assume."""
    return [r for r in of_type(resources, ROLE) if trusted_services(r) & set(WORKLOAD_SERVICES)]


def policies_of(role: Resource, resources: Sequence[Resource]) -> list[Resource]:
    """The role's inline policies (``aws.iam.RolePolicy`` naming it)."""
    return [p for p in of_type(resources, ROLE_POLICY) if refers_to(p.get("role"), role)]


def _requires_tls(statement: Mapping[str, Any]) -> bool:
    return "true" in conditions(statement).get("Bool", {}).get("aws:securetransport", [])


@stack_policy(
    id="AWS-IAM-005",
    title="Workload grants require TLS",
    severity="medium",
    controls=["NET-05"],
    remediation='Add {"Bool": {"aws:SecureTransport": "true"}} to every Allow of the workload '
    "role (WorkloadIdentity does).",
)
def workload_requires_tls(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Every Allow of a workload role's policies requires aws:SecureTransport, so its
    credentials are refused over plain HTTP."""
    for role in workload_roles(resources):
        for policy in policies_of(role, resources):
            for index, st in enumerate(statements(document(policy, "policy"), "Allow")):
                if not _requires_tls(st):
                    sid = st.get("Sid") or f"#{index}"
                    yield policy, f"{policy.name} statement {sid} does not require TLS"


@stack_policy(
    id="AWS-IAM-006",
    title="The workload has a dedicated role",
    severity="medium",
    controls=["IAM-01"],
    remediation="Create the workload's role with WorkloadIdentity (trusted by the service that "
    "runs the workload).",
)
def dedicated_role(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """The stack has a role for the workload, trusted by the service that runs it, so the
    workload never borrows a person's or another system's credentials."""
    if not deploys_workload(resources):
        raise NotApplicable("the stack deploys no workload (a state backend, say)")
    if not workload_roles(resources):
        services = ", ".join(WORKLOAD_SERVICES)
        yield None, f"no role is trusted by a workload service ({services})"


#: Resource types that run or serve the workload (with workload roles, see
#: :func:`deploys_workload`).
WORKLOAD_TYPES = (
    "aws:ec2/vpc:Vpc",
    "aws:ec2/instance:Instance",
    "aws:lambda/function:Function",
    "aws:ecs/taskDefinition:TaskDefinition",
    "aws:ecs/service:Service",
    "aws:eks/cluster:Cluster",
    "aws:bedrock/guardrail:Guardrail",
    "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration",
    "aws:sagemaker/domain:Domain",
    "aws:sagemaker/notebookInstance:NotebookInstance",
    "aws:sagemaker/endpoint:Endpoint",
)


def deploys_workload(resources: Sequence[Resource]) -> bool:
    """Whether the stack deploys the workload (network, compute, AI resources or a role
    for them), as opposed to a supporting stack such as the state backend. Obligations of
    the whole project (a trail, a guardrail, invocation logging) attach to the former."""
    return bool(of_type(resources, *WORKLOAD_TYPES) or workload_roles(resources))


#: Creating a network interface places it in a subnet, with security groups.
_PLACES_INTERFACES = "ec2:createnetworkinterface"
#: Condition keys that confine where a network interface is created.
_PLACEMENT_KEYS = ("ec2:vpc", "ec2:subnet")


def _confined(statement: Mapping[str, Any]) -> bool:
    """Whether a condition names the VPC or subnets (no wildcard) the grant applies in."""
    for operator, block in conditions(statement).items():
        test = operator.rsplit(":", 1)[-1]  # ForAnyValue:StringEquals
        if "Not" in test or test.endswith("IfExists"):
            continue
        for key in _PLACEMENT_KEYS:
            values = block.get(key, [])
            if values and not any("*" in v or "?" in v for v in values):
                return True
    return False


def _any_placement(resources: Sequence[str]) -> list[str]:
    """Resources of a CreateNetworkInterface grant that stand for more than named
    subnets and security groups (the interface's own ARN aside: its id does not exist
    before the call)."""
    out = []
    for resource in resources:
        parts = resource.split(":", 5)
        tail = parts[5] if resource.startswith("arn:") and len(parts) == 6 else resource
        if tail.startswith("network-interface/"):
            continue
        if "*" in tail or "?" in tail:
            out.append(resource)
    return out


@resource_policy(
    id="AWS-IAM-007",
    title="Network interfaces only in the project's subnets and security groups",
    severity="high",
    types=IDENTITY_POLICIES,
    controls=["IAM-02", "NET-01"],
    remediation="Grant ec2:CreateNetworkInterface on network-interface/* and the ARNs of the "
    "project's private subnets and security groups (WorkloadIdentity lambda_vpc), or bind it "
    "to the project's VPC with an ArnEquals ec2:Vpc condition (network_interface_vpc_arn).",
)
def scoped_network_interfaces(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Whoever may create network interfaces (Lambda and SageMaker AI attaching the
    workload to the VPC) may create them only in named subnets with named security
    groups, or in the project's VPC by an ``ec2:Vpc`` condition: never in any subnet or
    with any group of the account, which could be public or open."""
    for index, st in enumerate(statements(document(resource, "policy"), "Allow")):
        if not grants(st, _PLACES_INTERFACES) or _confined(st):
            continue
        broad = _any_placement([str(r) for r in as_list(st.get("Resource"))])
        if broad:
            sid = st.get("Sid") or f"#{index}"
            yield (
                f"{resource.name} statement {sid} lets network interfaces be created in "
                f"{', '.join(broad)}: name the project's subnets and security groups"
            )
