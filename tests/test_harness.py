"""The mock-run harness captures what a real engine would receive."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pulumi
import pytest
from aiscaffold.testing import MockRun, ProgramError, ProjectFileError, run, run_program


def _aws_program() -> None:
    import pulumi_aws as aws

    class Box(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("aiscaffold:test:Box", name)
            self.key = aws.kms.Key(
                f"{name}-key",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            )
            aws.kms.Alias(
                f"{name}-alias",
                name="alias/box",
                target_key_id=self.key.key_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.register_outputs({})

    box = Box("box")
    ident = aws.get_caller_identity()
    doc = aws.iam.get_policy_document_output(
        statements=[
            aws.iam.GetPolicyDocumentStatementArgs(
                sid="UseKey",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[box.key.arn],
                principals=[
                    aws.iam.GetPolicyDocumentStatementPrincipalArgs(
                        type="AWS", identifiers=[f"arn:aws:iam::{ident.account_id}:root"]
                    )
                ],
                conditions=[
                    aws.iam.GetPolicyDocumentStatementConditionArgs(
                        test="Bool", variable="aws:SecureTransport", values=["true"]
                    )
                ],
            )
        ]
    )
    aws.kms.KeyPolicy("policy", key_id=box.key.id, policy=doc.json)
    aws.secretsmanager.Secret("secret", name="app")
    aws.secretsmanager.SecretVersion(
        "value", secret_id="app", secret_string=pulumi.Output.secret("s3cr3t")
    )
    pulumi.export("key_arn", box.key.arn)


@pytest.fixture(scope="module")
def aws_run() -> MockRun:
    return run(_aws_program, project="demo", stack="prod", config={"aws:region": "eu-west-1"})


def test_captures_types_names_parents_and_options(aws_run: MockRun) -> None:
    box = aws_run.one("aiscaffold:test:Box")
    assert not box.custom
    key = aws_run.one("aws:kms/key:Key")
    assert key.name == "box-key" and key.parent == box.urn and key.custom and key.protect
    assert key.inputs == {"enableKeyRotation": True, "deletionWindowInDays": 30}
    assert [r.name for r in aws_run.children(box)] == ["box-key", "box-alias"]
    assert aws_run.one("aws:kms/alias:Alias").inputs["targetKeyId"] == key.outputs["keyId"]


def test_invokes_answer_like_the_provider(aws_run: MockRun) -> None:
    policy = json.loads(aws_run.one("aws:kms/keyPolicy:KeyPolicy").inputs["policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Resource"].startswith("arn:aws:kms:eu-west-1:123456789012:key/")
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "true"}}


def test_secrets_are_unwrapped_and_flagged(aws_run: MockRun) -> None:
    value = aws_run.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert value.inputs["secretString"] == "s3cr3t"
    assert value.secret_inputs == frozenset({"secretString"})


def test_stack_outputs(aws_run: MockRun) -> None:
    assert aws_run.outputs["key_arn"].startswith("arn:aws:kms:eu-west-1:")


def test_engine_warnings_are_captured() -> None:
    def deprecated() -> None:
        import pulumi_aws as aws

        aws.s3.BucketV2("old")

    assert any("deprecated" in w for w in run(deprecated).warnings)


def test_program_errors_are_reported() -> None:
    def broken() -> None:
        raise RuntimeError("no region configured")

    with pytest.raises(ProgramError, match="RuntimeError: no region configured"):
        run(broken)


def test_runs_are_isolated(aws_run: MockRun) -> None:
    other = run(lambda: None, project="other")
    assert other.resources == [] and other.outputs == {}
    assert len(aws_run.resources) == 6  # Box, key, alias, key policy, secret, version


def test_azure_and_gcp_invokes() -> None:
    seen: dict[str, str] = {}

    def program() -> None:
        import pulumi_azure_native as azure
        import pulumi_gcp as gcp

        client = azure.authorization.get_client_config()
        seen["tenant"] = client.tenant_id
        project = gcp.organizations.get_project()
        seen["project"] = project.project_id or ""
        seen["number"] = project.number
        group = azure.resources.ResourceGroup("rg", resource_group_name="rg-demo")
        group.id.apply(lambda i: seen.setdefault("rg", i))
        account = gcp.serviceaccount.Account("sa", account_id="workload")
        account.email.apply(lambda e: seen.setdefault("email", e))

    run(program, config={"gcp:project": "acme-ai"})
    assert seen["tenant"] and seen["project"] == "acme-ai" and seen["number"]
    assert seen["rg"].endswith("/resourceGroups/rg-demo")
    assert seen["email"] == "workload@acme-ai.iam.gserviceaccount.com"


def test_run_program_reads_project_and_stack(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    (tmp_path / "Pulumi.test.yaml").write_text(
        "config:\n  aws:region: us-west-2\n  demo:size: 3\n  demo:tags: [a, b]\n"
        "  demo:token:\n    secure: AAABAxyz\n"
    )
    (tmp_path / "helper.py").write_text("SIZE_KEY = 'size'\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi\nfrom helper import SIZE_KEY\n"
        "c = pulumi.Config()\n"
        "pulumi.export('size', c.require_int(SIZE_KEY))\n"
        "pulumi.export('tags', c.require_object('tags'))\n"
        "pulumi.export('token_is_secret', c.require_secret('token').is_secret)\n"
        "pulumi.export('stack', pulumi.get_stack())\n"
    )
    result = run_program(tmp_path, stack="test", config={"size": 4})
    assert result.outputs["size"] == 4  # overrides win
    assert result.outputs["tags"] == ["a", "b"]
    assert result.outputs["stack"] == "test"
    import sys

    assert "helper" not in sys.modules  # the program's own modules are unloaded


def test_run_program_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ProjectFileError, match="no Pulumi.yaml"):
        run_program(tmp_path)
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: nodejs\n")
    with pytest.raises(ProjectFileError, match="only Python"):
        run_program(tmp_path)
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text("config: {}\n")
    with pytest.raises(ProjectFileError, match="no Pulumi.dev.yaml; its stacks: prod"):
        run_program(tmp_path)


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_generated_program_runs(render_project: object, tmp_path: Path, cloud: str) -> None:
    project = render_project(cloud=cloud)  # type: ignore[operator]
    copy = tmp_path / "p"
    shutil.copytree(project, copy)
    result = run_program(copy)
    assert not [w for w in result.warnings if "deprecated" in w.lower()]
    assert len(result.components) >= 7 and len(result.custom_resources) >= 40
    for component in result.components:
        assert component.type.startswith(f"aiscaffold:{cloud}:"), component.type
