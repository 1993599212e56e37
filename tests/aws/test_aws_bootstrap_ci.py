"""The CI deploy identity the AWS bootstrap creates on request (issue 19, requirement 4).

The bootstrap of a rendered project runs under the mocks with and without
`ci_repository`: with it, a role GitHub Actions assumes by OIDC (aud sts.amazonaws.com,
the exact `sub` of the trusted environment), no access key, granted exactly
deployer-permissions/aws.json split into managed policies IAM accepts, and named among
the deployers of the state and secrets keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.testing import MockRun, ProgramError, run_program

pytestmark = pytest.mark.slow

REPOSITORY = "acme/rag-service"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
GITHUB = "token.actions.githubusercontent.com"
#: IAM's managed-policy size, white space not counted (reference_iam-quotas.html).
MANAGED_POLICY_CHARS = 6144


@pytest.fixture(scope="module")
def project(render_project: Callable[..., Path]) -> Callable[[str], Path]:
    def get(account_services: str = "this-stack") -> Path:
        return render_project(
            cloud="aws",
            project_name=f"ci-aws-{account_services}",
            account_services=account_services,
        )

    return get


@pytest.fixture(scope="module")
def bootstrap(project: Callable[[str], Path]) -> Callable[..., MockRun]:
    runs: dict[str, MockRun] = {}

    def get(account_services: str = "this-stack", **config: Any) -> MockRun:
        key = json.dumps([account_services, config], sort_keys=True)
        if key not in runs:
            runs[key] = run_program(
                project(account_services) / "bootstrap", stack="bootstrap", config=config
            )
        return runs[key]

    return get


def _pairs(document: dict[str, Any]) -> set[tuple[str, str]]:
    """Every (action, resource) an Allow-only policy grants."""
    out = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow" and "Condition" not in statement
        actions = statement["Action"]
        resources = statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            for resource in [resources] if isinstance(resources, str) else resources:
                out.add((action, resource))
    return out


def test_without_ci_repository_nothing_changes(bootstrap: Callable[..., MockRun]) -> None:
    run = bootstrap()
    assert not [r for r in run.custom_resources if r.type.startswith("aws:iam/")]
    assert set(run.outputs) == {"backend_url", "secrets_provider"}


def test_role_trusts_only_the_repositorys_environment(bootstrap: Callable[..., MockRun]) -> None:
    run = bootstrap(ci_repository=REPOSITORY)
    provider = run.one(OIDC)
    assert provider.inputs["url"] == f"https://{GITHUB}"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    role = run.one(ROLE, "ci-deploy")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Federated": provider.outputs["arn"]}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    # Exact values (StringEquals): no StringLike, no wildcard reaching other repositories.
    assert statement["Condition"] == {
        "StringEquals": {
            f"{GITHUB}:aud": "sts.amazonaws.com",
            f"{GITHUB}:sub": [f"repo:{REPOSITORY}:environment:sandbox"],
        }
    }
    assert run.outputs["ci_role_arn"] == role.outputs["arn"]
    # No long-lived credential anywhere.
    assert not run.of_type("aws:iam/accessKey:AccessKey") and not run.of_type("aws:iam/user:User")


def test_environment_and_branches_are_configurable(bootstrap: Callable[..., MockRun]) -> None:
    run = bootstrap(ci_repository=REPOSITORY, ci_environment="prod", ci_branches=["main"])
    (statement,) = json.loads(run.one(ROLE, "ci-deploy").inputs["assumeRolePolicy"])["Statement"]
    assert statement["Condition"]["StringEquals"][f"{GITHUB}:sub"] == [
        f"repo:{REPOSITORY}:environment:prod",
        f"repo:{REPOSITORY}:ref:refs/heads/main",
    ]


@pytest.mark.parametrize(
    "config",
    [
        {"ci_repository": "acme/*"},
        {"ci_repository": "acme"},
        {"ci_repository": REPOSITORY, "ci_environment": "*"},
        {"ci_repository": REPOSITORY, "ci_branches": ["release/*"]},
    ],
)
def test_wildcards_are_refused(project: Callable[[str], Path], config: dict[str, Any]) -> None:
    with pytest.raises(ProgramError, match="ci_repository|ci_environment"):
        run_program(project("this-stack") / "bootstrap", stack="bootstrap", config=config)


def test_granted_policies_equal_the_generated_document(
    bootstrap: Callable[..., MockRun], project: Callable[[str], Path]
) -> None:
    run = bootstrap(ci_repository=REPOSITORY)
    generated = json.loads(
        (project("this-stack") / "deployer-permissions" / "aws.json").read_text()
    )
    role = run.one(ROLE, "ci-deploy")
    attached = {
        a.inputs["policyArn"]
        for a in run.of_type(ATTACHMENT)
        if a.inputs["role"] == role.outputs["name"]
    }
    policies = [p for p in run.of_type(POLICY) if p.outputs["arn"] in attached]
    assert len(policies) == len(attached) <= 10  # IAM: 10 managed policies per role
    for policy in policies:
        assert len(json.dumps(json.loads(policy.inputs["policy"]), separators=(",", ":"))) <= (
            MANAGED_POLICY_CHARS
        ), policy.name
    deployer = [p for p in policies if p.name != "ci-deploy-state"]
    assert len(generated["Statement"]) and len(deployer) >= 2  # the document is over 6,144
    granted = set().union(*(_pairs(json.loads(p.inputs["policy"])) for p in deployer))
    assert granted == _pairs(generated)
    # The backend policy: this state bucket and these two keys, nothing else.
    state = json.loads(run.one(POLICY, "ci-deploy-state").inputs["policy"])
    bucket = run.one("aws:s3/bucket:Bucket", "state-bucket").outputs["arn"]
    keys = {run.one("aws:kms/key:Key", k).outputs["arn"] for k in ("state-key", "secrets-key")}
    assert {r for _, r in _pairs(state)} == {bucket, f"{bucket}/*", *keys}


def test_role_is_a_deployer_of_the_keys(bootstrap: Callable[..., MockRun]) -> None:
    run = bootstrap(ci_repository=REPOSITORY)
    role_arn = run.one(ROLE, "ci-deploy").outputs["arn"]
    for key in ("state-key", "secrets-key"):
        policy = json.loads(run.one("aws:kms/key:Key", key).inputs["policy"])
        (use,) = [s for s in policy["Statement"] if "kms:Decrypt" in s["Action"]]
        assert role_arn in use["Condition"]["ArnLike"]["aws:PrincipalArn"]


def test_shared_account_services_look_the_oidc_provider_up(
    bootstrap: Callable[..., MockRun],
) -> None:
    run = bootstrap("shared", ci_repository=REPOSITORY)
    assert not run.of_type(OIDC)  # an account has one per URL: the owning stack creates it
    (statement,) = json.loads(run.one(ROLE, "ci-deploy").inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"]["Federated"].endswith(f":oidc-provider/{GITHUB}")
    configured = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    run = bootstrap(ci_repository=REPOSITORY, ci_oidc_provider_arn=configured)
    assert not run.of_type(OIDC)
    (statement,) = json.loads(run.one(ROLE, "ci-deploy").inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"]["Federated"] == configured


def test_policy_pack_findings_touch_only_the_deploy_role(
    bootstrap: Callable[..., MockRun], project: Callable[[str], Path]
) -> None:
    """The workload policies (AWS-IAM-003, AWS-BEDROCK-011, AWS-LOGS-003) read the deploy
    role's grants as a workload's: until they tell a deployer apart, their findings must
    stay on the CI policies, and the rest of the bootstrap passes."""
    run = bootstrap(ci_repository=REPOSITORY)
    report = evaluate(run, load_requirements(project("this-stack")))
    elsewhere = [f for f in report.findings if not str(f.resource).startswith("ci-deploy")]
    assert not elsewhere, elsewhere
    assert not report.deploy_findings
    assert not run.warnings
