"""The deployer permissions every generated project carries (issue 19, requirements 4, 7).

Each cloud's default and variant projects are rendered (``aiscaffold new`` writes the
files through ``write_reports``); the files are read back and checked against the mock
run of the same project: the AWS policy parses and allows every create action of every
registered type, scoped wherever the Service Authorization Reference allows; Azure lists
the Key Vault data role on the vault; GCP names the organization-level role only when
the project sets organization policies.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.deployer_permissions import (
    MARKDOWN_FILE,
    _aws_data,
    aws_policy,
    azure_role_assignments,
    gcp_roles,
    machine_file,
)
from aiscaffold.testing import CapturedResource, MockRun, run_program

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "${aws:PrincipalAccount}"

VARIANTS: dict[str, dict[str, Any]] = {
    "aws-defaults": {"cloud": "aws"},
    "aws-sagemaker": {"cloud": "aws", "ai_service": "sagemaker", "compliance": ["soc2"]},
    "aws-egress": {"cloud": "aws", "allow_internet_egress": True},
    "aws-shared": {"cloud": "aws", "account_services": "shared"},
    "azure-defaults": {"cloud": "azure"},
    "azure-restricted": {
        "cloud": "azure",
        "data_sensitivity": "restricted",
        "compliance": ["gdpr"],
    },
    "gcp-defaults": {"cloud": "gcp"},
    "gcp-org-policies": {"cloud": "gcp", "gcp_org_policies": True},
}


@pytest.fixture(scope="module")
def project(render_project: Callable[..., Path]) -> Callable[[str], tuple[Path, MockRun]]:
    runs: dict[str, tuple[Path, MockRun]] = {}

    def get(variant: str) -> tuple[Path, MockRun]:
        if variant not in runs:
            path = render_project(project_name=f"perm-{variant}", **VARIANTS[variant])
            runs[variant] = (path, run_program(path))
        return runs[variant]

    return get


def _document(path: Path, cloud: str) -> Any:
    assert (path / MARKDOWN_FILE).is_file()
    return json.loads((path / machine_file(cloud)).read_text(encoding="utf-8"))


def _without(run: MockRun, type_: str) -> MockRun:
    return dataclasses.replace(run, resources=[r for r in run.resources if r.type != type_])


def _resource(type_: str, name: str, **outputs: Any) -> CapturedResource:
    return CapturedResource(
        type=type_, name=name, urn=f"urn:{name}", parent=None, custom=True,
        inputs={}, outputs=outputs,
    )  # fmt: skip


# ------------------------------------------------------------------------- the data
def test_action_table_is_current() -> None:
    """deployer_aws_actions.json is what the generator script makes of today's sources."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_deployer_actions.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# -------------------------------------------------------------------------------- AWS
def _allowed(policy: dict[str, Any]) -> dict[str, list[str]]:
    """Action -> the Resource patterns it is allowed on."""
    out: dict[str, list[str]] = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        resources = statement["Resource"]
        for action in statement["Action"]:
            out.setdefault(action, []).extend([resources] if resources == "*" else resources)
    return out


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.startswith("aws")])
def test_aws_policy_covers_every_create_action(
    project: Callable[[str], tuple[Path, MockRun]], variant: str
) -> None:
    path, run = project(variant)
    policy = _document(path, "aws")
    assert policy["Version"] == "2012-10-17"
    allowed = _allowed(policy)
    data = _aws_data()
    types = {r.type for r in run.custom_resources if r.type.startswith("aws:")}
    assert types - data["types"].keys() == set(), "types missing from deployer_aws_types.yaml"
    for type_ in types:
        missing = set(data["types"][type_]["create"]) - allowed.keys()
        assert not missing, f"{type_}: {sorted(missing)}"
    assert "sts:GetCallerIdentity" in allowed


@pytest.mark.parametrize("variant", ["aws-defaults", "aws-sagemaker"])
def test_aws_policy_has_no_star_where_a_scope_exists(
    project: Callable[[str], tuple[Path, MockRun]], variant: str
) -> None:
    path, _ = project(variant)
    policy = _document(path, "aws")
    data = _aws_data()
    for statement in policy["Statement"]:
        if statement["Resource"] == "*":
            scoped = [a for a in statement["Action"] if data["actions"][a]["resources"]]
            assert not scoped, f"scopable actions under Resource '*': {scoped}"
        else:
            for arn in statement["Resource"]:
                assert arn.startswith("arn:aws:") and arn != "*", arn
                assert "${" not in arn.replace(ACCOUNT, ""), arn


#: Types whose mock ARN has the format AWS gives the resource (the mocks' ARNs of
#: configuration-only types are placeholders).
_REAL_ARNS = (
    "aws:s3/bucket:Bucket",
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:kms/key:Key",
    "aws:iam/role:Role",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:secretsmanager/secret:Secret",
    "aws:cloudtrail/trail:Trail",
    "aws:bedrock/guardrail:Guardrail",
)


def _arns_outside(policy: dict[str, Any], run: MockRun) -> list[str]:
    """ARNs of created resources no statement granting their type's create action covers."""
    data = _aws_data()
    account = run.config.get("aws:accountId", "123456789012")
    outside = []
    for resource in run.custom_resources:
        arn = resource.outputs.get("arn")
        if resource.type not in _REAL_ARNS or not isinstance(arn, str):
            continue
        wanted = arn.replace(account, ACCOUNT)
        creates = set(data["types"][resource.type]["create"])
        patterns = [
            pattern
            for statement in policy["Statement"]
            if creates & set(statement["Action"]) and statement["Resource"] != "*"
            for pattern in statement["Resource"]
        ]
        if patterns and not any(fnmatch.fnmatchcase(wanted, p) for p in patterns):
            outside.append(arn)
    return outside


def test_aws_scopes_cover_the_resources_the_program_creates(
    project: Callable[[str], tuple[Path, MockRun]],
) -> None:
    """Scoping must not break the deploy: every created ARN is inside its statements' scope;
    the same policy for another region leaves them outside (the check can fail)."""
    path, run = project("aws-defaults")
    assert _arns_outside(_document(path, "aws"), run) == []
    other, _ = aws_policy(run, "eu-west-3")
    assert _arns_outside(other, run)


def test_aws_unit_key_and_unmapped_type() -> None:
    run = MockRun(project="p", stack="s", config={})
    run.resources.append(_resource("aws:kms/key:Key", "k"))
    run.resources.append(_resource("aws:foo/bar:Bar", "b"))
    policy, unmapped = aws_policy(run, "eu-west-1")
    assert unmapped == ["aws:foo/bar:Bar"]
    allowed = _allowed(policy)
    assert allowed["kms:CreateKey"] == ["*"]  # no resource type: the key has no ARN yet
    assert allowed["kms:EnableKeyRotation"] == [f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*"]
    gov, _ = aws_policy(run, "us-gov-west-1")
    assert _allowed(gov)["kms:EnableKeyRotation"] == [
        f"arn:aws-us-gov:kms:us-gov-west-1:{ACCOUNT}:key/*"
    ]


# ------------------------------------------------------------------------------ Azure
CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"


@pytest.mark.parametrize("variant", ["azure-defaults", "azure-restricted"])
def test_azure_assignments(project: Callable[[str], tuple[Path, MockRun]], variant: str) -> None:
    path, run = project(variant)
    assignments = _document(path, "azure")
    assert azure_role_assignments(run)[1] == []
    for entry in assignments:
        assert {"role", "role_definition_id", "scope"} <= entry.keys()
        assert entry["scope"].startswith("/subscriptions/${subscription_id}")
        assert entry["role"] != "Owner"
    vault = run.one("azure-native:keyvault:Vault")
    officer = [a for a in assignments if a["role"] == "Key Vault Crypto Officer"]
    assert len(officer) == 1
    assert officer[0]["role_definition_id"] == CRYPTO_OFFICER
    assert officer[0]["scope"].endswith(
        f"/providers/Microsoft.KeyVault/vaults/{vault.inputs['vaultName']}"
    )
    group = run.one("azure-native:resources:ResourceGroup").inputs["resourceGroupName"]
    scopes = {(a["role"], a["scope"]) for a in assignments}
    assert ("Contributor", f"/subscriptions/${{subscription_id}}/resourceGroups/{group}") in scopes
    # Role assignments: delegated with a condition naming exactly the roles the program assigns.
    admin = next(a for a in assignments if a["role"] == "Role Based Access Control Administrator")
    assigned = {
        str(r.inputs["roleDefinitionId"]).rsplit("/", 1)[-1]
        for r in run.of_type("azure-native:authorization:RoleAssignment")
    }
    assert assigned and all(guid in admin["condition"] for guid in assigned)
    assert "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9" not in admin["condition"]


def test_azure_key_vault_role_fires_on_keys_only(
    project: Callable[[str], tuple[Path, MockRun]],
) -> None:
    _, run = project("azure-defaults")
    roles = {a["role"] for a in azure_role_assignments(run)[0]}
    assert "Key Vault Crypto Officer" in roles
    without_keys = _without(run, "azure-native:keyvault:Key")
    assert "Key Vault Crypto Officer" not in {
        a["role"] for a in azure_role_assignments(without_keys)[0]
    }


# -------------------------------------------------------------------------------- GCP
ORG_ROLE = "roles/orgpolicy.policyAdmin"


def test_gcp_org_role_when_org_policies_are_on(
    project: Callable[[str], tuple[Path, MockRun]],
) -> None:
    path, run = project("gcp-org-policies")
    roles = _document(path, "gcp")
    org = [r for r in roles if r["role"] == ORG_ROLE]
    assert [r["level"] for r in org] == ["organization"]
    assert all(r["level"] == "project" for r in roles if r["role"] != ORG_ROLE)
    assert gcp_roles(run, org_policies=True)[1] == []


def test_gcp_default_names_org_role_only_with_org_policies(
    project: Callable[[str], tuple[Path, MockRun]],
) -> None:
    path, run = project("gcp-defaults")
    roles = _document(path, "gcp")
    has_policies = bool(run.of_type("gcp:orgpolicy/policy:Policy"))
    assert any(r["role"] == ORG_ROLE for r in roles) == has_policies
    stripped = _without(run, "gcp:orgpolicy/policy:Policy")
    assert ORG_ROLE not in {r["role"] for r in gcp_roles(stripped, org_policies=False)[0]}
    assert ORG_ROLE in {r["role"] for r in gcp_roles(stripped, org_policies=True)[0]}
    assert gcp_roles(run, org_policies=False)[1] == []
    assert not {r["role"] for r in roles} & {"roles/owner", "roles/editor"}
