"""Every policy document of the generated AWS projects: parsed and held to the IAM rules.

The rules (IAM-02, KEY-04, PE-04):
* no ``*`` action anywhere; service-wide ``<service>:*`` only in denies (TLS rules on
  buckets) and in the one endpoint policy that admits its API whole for the account
  (the SageMaker AI API, ``ENDPOINT_ACTIONS``); every other endpoint lists actions;
* Resource ``*`` only for actions in ``UNSCOPED_ACTIONS``, and in resource policies where
  ``*`` means the resource itself (key policies, secret policies) or in endpoint
  policies that admit the account's principals only;
* every statement scoped: principals ``*`` only in denies or with a condition or named
  resources, service principals only for this account, the account root only for key
  administration or with conditions naming the roles and services;
* the workload's grants require TLS; trust policies name the account.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiscaffold.testing import MockRun
from aiscaffold_components.aws import ENDPOINT_ACTIONS, UNSCOPED_ACTIONS
from aiscaffold_components.aws.keys import CLOUDTRAIL_GENERATE_DATA_KEY, KEY_ADMIN_ACTIONS
from aws.aws_support import PROJECTS, Document, as_list, documents

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KEY = "aws:kms/key:Key"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
#: Resource policies in which Resource "*" denotes the resource the policy is attached to.
SELF_RESOURCE = {KEY, SECRET_POLICY}
#: Conditions that tie a service principal to this account or to its resources.
SERVICE_SCOPES = {"aws:SourceAccount", "aws:SourceArn", "kms:EncryptionContext:aws:logs:arn"}


def conditions(statement: dict[str, object]) -> dict[str, object]:
    """Condition keys of a statement, mapped to their values (operators dropped)."""
    out: dict[str, object] = {}
    for variables in (statement.get("Condition") or {}).values():  # type: ignore[union-attr]
        out.update(variables)
    return out


def admits_whole_api(document: Document) -> bool:
    """An endpoint policy whose service ENDPOINT_ACTIONS admits whole (``None``)."""
    service = str(document.resource.inputs.get("serviceName", "")).split(".", 3)[-1]
    return service in ENDPOINT_ACTIONS and ENDPOINT_ACTIONS[service] is None


def violations(document: Document) -> list[str]:
    kind = document.resource.type
    found: list[str] = []
    for index, st in enumerate(document.statements):
        where = f"{document.resource.name}.{document.field} statement {st.get('Sid', index)}"
        actions = as_list(st.get("Action", []))
        resources = as_list(st.get("Resource", []))
        keys = conditions(st)
        allow = st["Effect"] == "Allow"
        if not actions or "NotAction" in st or "NotResource" in st:
            found.append(f"{where}: needs Action and Resource, not their negations")
        if "*" in actions:
            found.append(f"{where}: grants action *")
        wildcards = [a for a in actions if "*" in a]
        if wildcards:
            whole_api = (
                kind == ENDPOINT and "aws:PrincipalAccount" in keys and admits_whole_api(document)
            )
            # CloudTrail's key-policy guide grants its service principal exactly this.
            cloudtrail_guide = (
                kind == KEY
                and st.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}
                and wildcards == [CLOUDTRAIL_GENERATE_DATA_KEY]
                and "aws:SourceArn" in keys
            )
            if not (whole_api or cloudtrail_guide or not allow):
                found.append(f"{where}: wildcard actions {wildcards}")
        # -- resources
        if kind == ROLE and document.field == "assumeRolePolicy":
            if resources:
                found.append(f"{where}: a trust policy names no resources")
        elif not resources:
            found.append(f"{where}: names no resources")
        elif "*" in resources and allow:
            documented = set(actions) <= set(UNSCOPED_ACTIONS)
            self_resource = kind in SELF_RESOURCE
            endpoint_filter = kind == ENDPOINT and "aws:PrincipalAccount" in keys
            if not (documented or self_resource or endpoint_filter):
                found.append(f"{where}: Resource * for {actions}")
        # -- principals
        principal = st.get("Principal")
        if kind in (ROLE_POLICY,) and principal is not None:
            found.append(f"{where}: identity policies name no principal")
        if principal == "*" and allow and not keys and "*" in resources:
            found.append(f"{where}: anyone may act on anything")
        if isinstance(principal, dict):
            if "Service" in principal and allow and not SERVICE_SCOPES & keys.keys():
                found.append(f"{where}: service principal not tied to the account")
            for arn in as_list(principal.get("AWS", [])):
                admin_only = set(actions) <= set(KEY_ADMIN_ACTIONS)
                if arn.endswith(":root") and allow and not keys and not admin_only:
                    found.append(f"{where}: the account may {actions} unconditioned")
        # -- the workload's grants require TLS; trusts name the account
        workload = kind == ROLE_POLICY and "workload" in document.resource.inputs.get("role", "")
        if workload and allow and keys.get("aws:SecureTransport") != "true":
            found.append(f"{where}: does not require TLS")
        # A trust of a service is scoped to the account by aws:SourceAccount; a trust of
        # one named role (the SIEM's, DET-04) is scoped by that principal itself.
        named_roles = (
            isinstance(principal, dict)
            and set(principal) == {"AWS"}
            and all(":role/" in arn for arn in as_list(principal["AWS"]))
        )
        if kind == ROLE and allow and "aws:SourceAccount" not in keys and not named_roles:
            found.append(f"{where}: trust not scoped to the account")
    return found


@pytest.mark.parametrize("project", PROJECTS)
def test_every_policy_document_follows_the_rules(
    project: str, aws_run: Callable[[str], MockRun]
) -> None:
    docs = list(documents(aws_run(project)))
    kinds = {d.resource.type for d in docs}
    assert {ROLE, ROLE_POLICY, KEY, BUCKET_POLICY, ENDPOINT, SECRET_POLICY} <= kinds
    problems = [problem for doc in docs for problem in violations(doc)]
    assert problems == []


def test_the_rules_catch_what_they_forbid(aws_run: Callable[[str], MockRun]) -> None:
    """The checker flags a wildcard action, an unscoped resource and a bare principal."""
    workload = next(
        d for d in documents(aws_run("defaults")) if d.resource.name == "workload-policy"
    )
    bad = Document(
        workload.resource,
        workload.field,
        {
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::x"},
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                 "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
                {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::x",
                 "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x"},
            ]
        },
    )  # fmt: skip
    problems = violations(bad)
    assert any("grants action *" in p for p in problems)
    assert any("Resource * for ['s3:GetObject']" in p for p in problems)
    assert any("wildcard actions ['s3:*']" in p for p in problems)
    assert any("does not require TLS" in p for p in problems)
    runtime = next(
        d for d in documents(aws_run("defaults")) if d.resource.name == "endpoints-bedrock-runtime"
    )
    whole = {**runtime.doc, "Statement": [{**runtime.statements[0], "Action": "bedrock:*"}]}
    assert violations(Document(runtime.resource, runtime.field, runtime.doc)) == []
    assert any(
        "wildcard actions ['bedrock:*']" in p
        for p in violations(Document(runtime.resource, runtime.field, whole))
    )


def test_resource_star_appears_only_for_documented_actions(
    aws_run: Callable[[str], MockRun],
) -> None:
    """In identity policies, Resource * carries only actions listed with their reason."""
    seen: set[str] = set()
    for doc in documents(aws_run("sagemaker-confidential")):
        if doc.resource.type != ROLE_POLICY:
            continue
        for st in doc.statements:
            if "*" in as_list(st["Resource"]):
                seen |= set(as_list(st["Action"]))
    assert seen
    assert seen <= set(UNSCOPED_ACTIONS)
    assert all(reason for reason in UNSCOPED_ACTIONS.values())
