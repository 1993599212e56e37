"""Verdicts: every evaluation ends as violation, passed, not applicable or unknown, and a
policy that judged nothing is never "passed"; the registry lives apart from the base types."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.check import CheckReport, check_project, evaluate
from aiscaffold.cli import main
from aiscaffold.testing import CapturedResource, MockRun
from aiscaffold_components.catalog import CLOUDS
from aiscaffold_components.policies import (
    Requirements,
    ResourcePolicy,
    StackPolicy,
    registry,
)
from aiscaffold_components.policies._registry import PACKS
from pulumi_policy import ResourceValidationPolicy

AI_SERVICE = {"aws": "bedrock", "azure": "openai", "gcp": "vertex-ai"}
REGION = {"aws": ("aws:region", "eu-west-1"), "azure": ("azure-native:location", "westeurope"),
          "gcp": ("gcp:region", "europe-west1")}  # fmt: skip
#: Answers under which policies judge differently (a chosen answer may make one moot).
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "egress, shared services, restricted HIPAA": {
        "allow_internet_egress": True,
        "account_services": "shared",
        "data_sensitivity": "restricted",
        "compliance": ["hipaa"],
    },
}


def _requirements(cloud: str, **answers: Any) -> Requirements:
    values: dict[str, Any] = {
        "cloud": cloud,
        "data_sensitivity": "confidential",
        "ai_service": AI_SERVICE[cloud],
        "gcp_org_policies": cloud == "gcp",
    }
    return Requirements.model_validate({**values, **answers})


def _empty(type_: str, index: int) -> CapturedResource:
    return CapturedResource(
        type=type_,
        name=f"r{index}",
        urn=f"urn:pulumi:dev::p::{type_}::r{index}",
        parent=None,
        custom=True,
        inputs={},
        outputs={},
    )


def _run(cloud: str, resources: list[CapturedResource]) -> MockRun:
    key, region = REGION[cloud]
    return MockRun(project="p", stack="dev", config={key: region}, resources=resources)


def _passes(report: CheckReport) -> dict[str, list[str]]:
    return {
        policy: sorted(s or "(stack)" for s, v in subjects.items() if v == "passed")
        for policy, subjects in report.verdicts.items()
        if "passed" in subjects.values()
    }


# ------------------------------------------------------------------ the import graph
def test_importing_the_base_types_loads_no_pack() -> None:
    """_core is what every pack imports; it must not import a pack back (issue 13, 8)."""
    code = (
        "import sys\n"
        "import aiscaffold_components.policies._core as core\n"
        f"packs = [m for m in sys.modules if m.rsplit('.', 1)[-1] in {PACKS!r} "
        "and m.startswith('aiscaffold_components.policies.')]\n"
        "assert not packs, packs\n"
        "assert not core._REGISTRY, sorted(core._REGISTRY)\n"
        "from aiscaffold_components.policies import registry\n"
        "assert len(registry()) > 200\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    core = Path(__import__("aiscaffold_components.policies._core").__file__ or "").parent
    source = (core / "policies" / "_core.py").read_text(encoding="utf-8")
    for pack in PACKS:
        assert f"from . import {pack}" not in source and f"from .{pack} " not in source


def test_the_public_names_stay_and_overrides_are_still_checked() -> None:
    import aiscaffold_components.policies as policies

    for name in ("registry", "policies_for", "pulumi_policies", "Requirements", "to_pulumi"):
        assert name in policies.__all__ and hasattr(policies, name)
    with pytest.raises(ValueError, match="unknown policies: AWS-NOPE-001"):
        _requirements("aws", overrides={"AWS-NOPE-001": {"level": "disabled", "reason": "x" * 12}})


# ------------------------------------------------- nothing judged is never "passed"
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("cloud", CLOUDS)
def test_no_policy_passes_on_resources_lacking_what_it_judges(cloud: str, variant: str) -> None:
    """Every policy of the cloud, on an empty stack and on one resource of each type it
    reads with no inputs at all: not applicable or a violation, never passed."""
    requirements = _requirements(cloud, **VARIANTS[variant])
    policies = registry(cloud)  # type: ignore[arg-type]
    types = sorted({t for p in policies if isinstance(p, ResourcePolicy) for t in p.resource_types})
    # No stack config either: the provider's region is a value residency policies judge.
    empty_stack = evaluate(MockRun(project="p", stack="dev", config={}), requirements)
    bare = evaluate(
        MockRun("p", "dev", {}, resources=[_empty(t, i) for i, t in enumerate(types)]),
        requirements,
    )

    assert not _passes(empty_stack), "passed on an empty stack"
    assert not _passes(bare), "passed on resources without inputs"
    # Each policy was evaluated: stack policies once per run, resource policies on each
    # resource of their types (so the assertions above cover all of them).
    for policy in policies:
        if isinstance(policy, StackPolicy):
            assert set(empty_stack.verdicts[policy.id]) == {""}, policy.id
        else:
            assert isinstance(policy, ResourcePolicy)
            expected = {f"urn:pulumi:dev::p::{t}::r{types.index(t)}" for t in policy.resource_types}
            assert set(bare.verdicts[policy.id]) == expected, policy.id
    counts = bare.verdict_counts()
    assert counts["passed"] == 0 and sum(counts.values()) == bare.evaluations


def _team_policy(name: str, validate: Callable[..., None]) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(name=name, description=name, validate=validate)


def test_a_silent_return_is_not_applicable_and_a_read_is_a_pass() -> None:
    """The mechanism itself, on the team's policies (which give no verdict of their own)."""

    def silent(args: Any, report: Callable[..., None]) -> None:
        return None

    def absent_only(args: Any, report: Callable[..., None]) -> None:
        args.props.get("publicAccess")  # looks, finds nothing to judge

    def reads(args: Any, report: Callable[..., None]) -> None:
        if args.props.get("tags", {}).get("owner") is None:
            report("no owner")

    def option(args: Any, report: Callable[..., None]) -> None:
        if not args.opts.protect:
            report("not protected")

    topic = "aws:sns/topic:Topic"
    run = _run(
        "aws",
        [
            _empty(topic, 0),
            CapturedResource(
                type=topic,
                name="owned",
                urn=f"urn:pulumi:dev::p::{topic}::owned",
                parent=None,
                custom=True,
                inputs={"tags": {"owner": "team"}},
                outputs={},
                protect=True,
            ),
        ],
    )
    extra = [
        _team_policy(n, f)
        for n, f in (("silent", silent), ("absent", absent_only), ("reads", reads), ("opt", option))
    ]
    report = evaluate(run, _requirements("aws"), extra)
    bare, owned = run.resources[0].urn, run.resources[1].urn
    assert report.verdicts["silent"] == {bare: "not applicable", owned: "not applicable"}
    assert report.verdicts["absent"] == {bare: "not applicable", owned: "not applicable"}
    assert report.verdicts["reads"] == {bare: "violation", owned: "passed"}
    assert report.verdicts["opt"] == {bare: "violation", owned: "passed"}
    assert {"reads", "opt"} <= report.passed and not {"silent", "absent"} & report.passed


# ------------------------------------------------------------- AWS-EC2-003, -EC2-001
def test_internet_routes_are_not_applicable_when_egress_was_chosen_never_passed() -> None:
    route = CapturedResource(
        type="aws:ec2/route:Route",
        name="default-route",
        urn="urn:pulumi:dev::p::aws:ec2/route:Route::default-route",
        parent=None,
        custom=True,
        inputs={"destinationCidrBlock": "0.0.0.0/0", "routeTableId": "rtb-1"},
        outputs={},
    )
    gateway = _empty("aws:ec2/internetGateway:InternetGateway", 1)
    chosen = evaluate(
        _run("aws", [route, gateway]), _requirements("aws", allow_internet_egress=True)
    )
    refused = evaluate(_run("aws", [route, gateway]), _requirements("aws"))
    for policy, urn in (("AWS-EC2-003", route.urn), ("AWS-EC2-001", gateway.urn)):
        assert chosen.verdicts[policy] == {urn: "not applicable"}, policy
        assert refused.verdicts[policy] == {urn: "violation"}, policy
        assert policy not in chosen.passed


def test_a_rule_of_the_other_direction_is_not_judged_by_a_direction_policy() -> None:
    """AWS-EC2-006 (ingress) reads an egress rule's ``type`` only to see it is not its
    business: not applicable, not a pass; and the other way round for AWS-EC2-007."""
    rule = "aws:ec2/securityGroupRule:SecurityGroupRule"
    rules = [
        CapturedResource(
            type=rule,
            name=direction,
            urn=f"urn:pulumi:dev::p::{rule}::{direction}",
            parent=None,
            custom=True,
            inputs={
                "type": direction,
                "protocol": "tcp",
                "fromPort": 443.0,
                "toPort": 443.0,
                "cidrBlocks": ["10.0.0.0/16"],
            },
            outputs={},
        )
        for direction in ("ingress", "egress")
    ]
    report = evaluate(_run("aws", rules), _requirements("aws"))
    ingress, egress = (r.urn for r in rules)
    assert report.verdicts["AWS-EC2-006"] == {ingress: "passed", egress: "not applicable"}
    assert report.verdicts["AWS-EC2-007"] == {ingress: "not applicable", egress: "passed"}


# ------------------------------------------------------------------- AWS-KMS-007
@pytest.fixture(scope="module")
def aws_default(render_project: Callable[..., Path]) -> Path:
    return render_project(project_name="verdicts-aws", cloud="aws")


def test_kms_keys_in_use_pass_on_the_generated_project(aws_default: Path) -> None:
    report = check_project(aws_default)
    assert report.verdicts["AWS-KMS-007"] == {"": "passed"}
    assert "AWS-KMS-007" in report.passed
    assert not [f for f in report.findings if f.policy == "AWS-KMS-007"]


def test_an_orphan_kms_key_is_reported_through_the_cli(
    aws_default: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "orphan"
    shutil.copytree(aws_default, project)
    with (project / "__main__.py").open("a", encoding="utf-8") as program:
        program.write(
            "\n_orphan = aws.kms.Key('orphan-key', description='used by nothing', "
            "enable_key_rotation=True)\n"
        )
    capsys.readouterr()
    assert main(["check", str(project), "--format", "json"]) == 1  # KMS-004 is mandatory
    out = json.loads(capsys.readouterr().out)
    orphans = [f for f in out["violations"] if f["policy"] == "AWS-KMS-007"]
    assert [f["resource"] for f in orphans] == ["orphan-key"]
    assert "not used by any resource" in orphans[0]["message"]
    report = check_project(project)
    assert report.verdicts["AWS-KMS-007"] == {"": "violation"}
    assert "AWS-KMS-007" not in report.passed
