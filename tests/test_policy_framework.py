"""The policy framework: registry, levels, pulumi-policy adapters, offline evaluation."""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

import pytest
from aiscaffold.check import check_project, evaluate, load_extra_policies
from aiscaffold.cli import main
from aiscaffold.testing import CapturedResource, MockRun
from aiscaffold_components.catalog import CLOUDS, load_catalog
from aiscaffold_components.policies import (
    Requirements,
    ResourcePolicy,
    StackPolicy,
    pulumi_policies,
    registry,
    to_pulumi,
)
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE
from pydantic import ValidationError

ID = re.compile(r"(AWS|AZURE|GCP)-[A-Z0-9]{2,8}-\d{3}")


def requirements(**overrides: object) -> Requirements:
    values: dict[str, object] = {
        "cloud": "aws",
        "data_sensitivity": "confidential",
        "compliance": [],
        "ai_service": "bedrock",
    }
    values.update(overrides)
    return Requirements.model_validate(values)


def test_policy_ids_are_unique_namespaced_and_complete() -> None:
    policies = registry()
    ids = [p.id for p in policies]
    assert len(ids) == len(set(ids))
    for policy in policies:
        assert ID.fullmatch(policy.id), policy.id
        assert policy.title and policy.description and policy.remediation, policy.id
        assert policy.severity in ("low", "medium", "high", "critical")
        assert policy.controls, f"{policy.id} verifies no control"
        if isinstance(policy, ResourcePolicy):
            assert policy.resource_types, f"{policy.id} reads no resource type"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_control_has_a_policy_on_every_cloud_it_applies_to(cloud: str) -> None:
    covered = {c for p in registry(cloud) for c in p.controls}  # type: ignore[arg-type]
    missing = [
        c.id
        for c in load_catalog().controls
        if c.applies_to(cloud) and c.id not in covered  # type: ignore[arg-type]
    ]
    assert not missing, f"{cloud}: controls without a policy: {', '.join(missing)}"


def test_levels_follow_sensitivity_and_frameworks() -> None:
    tags = next(p for p in registry("aws") if p.id == "AWS-GOV-001")  # GOV-01: from internal
    assert tags.level(requirements(data_sensitivity="public")) == "advisory"
    assert tags.level(requirements(data_sensitivity="internal")) == "mandatory"
    assert (
        tags.level(requirements(data_sensitivity="public", compliance=["iso27001"])) == "mandatory"
    )
    assert tags.level(requirements(data_sensitivity="public", compliance=["hipaa"])) == "advisory"


def test_overrides_need_a_reason_and_a_known_policy() -> None:
    ok = requirements(
        overrides={"AWS-GOV-001": {"level": "advisory", "reason": "central tagging service"}}
    )
    tags = next(p for p in registry("aws") if p.id == "AWS-GOV-001")
    assert tags.level(ok) == "advisory"
    with pytest.raises(ValidationError, match="reason"):
        requirements(overrides={"AWS-GOV-001": {"level": "disabled", "reason": ""}})
    with pytest.raises(ValidationError, match="unknown policies: AWS-NOPE-001"):
        requirements(
            overrides={"AWS-NOPE-001": {"level": "disabled", "reason": "a long enough reason"}}
        )
    disabled = requirements(
        overrides={"AWS-GOV-001": {"level": "disabled", "reason": "tags come later"}}
    )
    assert "AWS-GOV-001" not in {p.name for p in pulumi_policies(disabled)}


def test_pulumi_policy_objects_carry_metadata() -> None:
    reqs = requirements(compliance=["hipaa", "iso27001"])
    for policy in registry("aws"):
        converted = to_pulumi(policy, reqs)
        expected = (
            ResourceValidationPolicy
            if isinstance(policy, ResourcePolicy)
            else StackValidationPolicy
        )
        assert isinstance(converted, expected)
        assert converted.name == policy.id
        assert converted.enforcement_level in (
            EnforcementLevel.MANDATORY,
            EnforcementLevel.ADVISORY,
        )
        assert converted.severity is not None and converted.severity.value == policy.severity
        assert converted.remediation_steps == policy.remediation
        assert converted.framework is not None
        assert converted.framework.reference == ", ".join(policy.controls)
    residency = to_pulumi(next(p for p in registry("aws") if p.id == "AWS-GOV-002"), reqs)
    assert residency.framework is not None and "A.5.23" in (residency.framework.specification or "")


def _resource(type_: str, name: str, inputs: dict[str, object], **kw: object) -> CapturedResource:
    return CapturedResource(
        type=type_, name=name, urn=f"urn:pulumi:dev::p::{type_}::{name}", parent=None,
        custom=True, inputs=inputs, outputs={}, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


TAGS = {
    "project": "p",
    "stack": "dev",
    "data-classification": "confidential",
    "managed-by": "aiscaffold",
    "compliance": "none",
}


def test_evaluate_flags_exactly_the_offending_resources() -> None:
    run = MockRun(project="p", stack="dev", config={"aws:region": "eu-west-2"})
    run.resources = [
        _resource("aws:sns/topic:Topic", "tagged", {"tags": TAGS}),
        _resource("aws:sns/topic:Topic", "untagged", {}),
        _resource(
            "aws:sns/topic:Topic",
            "mislabelled",
            {"tags": {**TAGS, "data-classification": "public"}},
        ),
        _resource("aws:sns/topicPolicy:TopicPolicy", "policy", {}),  # takes no tags
    ]
    report = evaluate(run, requirements(compliance=["gdpr"]))
    by_policy: dict[str, set[str]] = {}
    for finding in report.violations:
        by_policy.setdefault(finding.policy, set()).add(finding.resource)
    assert by_policy["AWS-GOV-001"] == {"untagged", "mislabelled"}
    # eu-west-2 (London) is outside the EU: every resource on that provider is flagged
    assert by_policy["AWS-GOV-002"] == {"tagged", "untagged", "mislabelled", "policy"}
    assert all(f.level == "mandatory" for f in report.violations)
    london = next(f for f in report.violations if f.policy == "AWS-GOV-002")
    assert "eu-west-2" in london.message and london.frameworks == {"gdpr": ["Art. 44"]}


def test_unknown_values_are_reported_as_unknown_not_as_violations() -> None:
    run = MockRun(project="p", stack="dev", config={"aws:region": "us-east-1"})
    run.resources = [_resource("aws:sns/topic:Topic", "pending", {"tags": UNKNOWN_OBJECT_VALUE})]
    report = evaluate(run, requirements())
    assert [f.policy for f in report.unknown] == ["AWS-GOV-001"]
    assert "can't be known during preview" in report.unknown[0].message
    assert not [f for f in report.violations if f.policy == "AWS-GOV-001"]
    assert report.verdicts["AWS-GOV-001"] == {"": "unknown"}  # a stack policy


PROGRAM = """
import pulumi
import pulumi_aws as aws

tags = {"project": "mini", "stack": "dev", "data-classification": "confidential",
        "managed-by": "aiscaffold", "compliance": "none"}
# A customer-managed key (AWS-SNS-001); its alias stands for it in this mini project.
topic = aws.sns.Topic("data-topic", tags=tags, kms_master_key_id="alias/mini-data")
pulumi.export("topic", topic.arn)
"""


@pytest.fixture
def mini_project(tmp_path: Path) -> Path:
    project = tmp_path / "mini"
    (project / "policy").mkdir(parents=True)
    (project / "Pulumi.yaml").write_text("name: mini\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-east-1\n")
    (project / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    (project / "policy" / "enforcement.yaml").write_text(
        "cloud: aws\ndata_sensitivity: confidential\ncompliance: []\nai_service: bedrock\n"
    )
    return project


def test_check_passes_a_clean_project(
    mini_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(mini_project)]) == 0
    assert "PASS mini (dev)" in capsys.readouterr().out


def test_check_fails_on_a_mandatory_violation(
    mini_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main_py = mini_project / "__main__.py"
    main_py.write_text(main_py.read_text().replace(", tags=tags", ""))
    assert main(["check", str(mini_project), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["resources"] == 1 and report["policies"] >= 2
    (violation,) = report["violations"]
    assert set(violation) == {
        "policy", "resource", "type", "level", "severity", "controls", "frameworks", "message", "remediation",
    }  # fmt: skip
    assert violation["policy"] == "AWS-GOV-001" and violation["resource"] == "data-topic"
    assert violation["level"] == "mandatory" and violation["controls"] == ["GOV-01"]


def test_sarif_report(mini_project: Path, tmp_path: Path) -> None:
    main_py = mini_project / "__main__.py"
    main_py.write_text(main_py.read_text().replace(", tags=tags", ""))
    out = tmp_path / "report.sarif"
    assert main(["check", str(mini_project), "--format", "sarif", "--output", str(out)]) == 1
    sarif = json.loads(out.read_text())
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    (run,) = sarif["runs"]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    (result,) = run["results"]
    assert result["ruleId"] in rules and rules[result["ruleId"]]["properties"]["security-severity"]
    assert result["level"] == "error"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "__main__.py"
    line = main_py.read_text().splitlines()[location["region"]["startLine"] - 1]
    assert '"data-topic"' in line  # points at the line creating the resource


def test_check_reports_program_errors_with_exit_2(
    mini_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (mini_project / "__main__.py").write_text(
        "import pulumi\nraise ValueError('region is required')\n"
    )
    assert main(["check", str(mini_project)]) == 2
    err = capsys.readouterr().err
    assert "region is required" in err and "__main__.py" in err
    assert "aiscaffold/check.py" not in err and "Traceback" not in err


def test_check_reports_a_program_calling_sys_exit_with_exit_2(
    mini_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A program ending itself is a failed run (exit 2), not "findings" (exit 1)."""
    (mini_project / "__main__.py").write_text("import sys\nsys.exit(1)\n")
    assert main(["check", str(mini_project)]) == 2
    err = capsys.readouterr().err
    assert "SystemExit" in err and "Traceback" not in err


def test_check_output_that_cannot_be_written_is_a_usage_error(
    mini_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "missing-dir" / "report.sarif"
    assert main(["check", str(mini_project), "--format", "sarif", "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "cannot write the report" in err and "Traceback" not in err
    assert not out.parent.exists()


def test_check_outside_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path)]) == 2
    assert "enforcement.yaml" in capsys.readouterr().err


def test_preview_tree_and_json(mini_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", str(mini_project)]) == 0
    tree = capsys.readouterr().out
    assert "data-topic" in tree and "aws:sns/topic:Topic" in tree and "tags" in tree
    assert main(["preview", str(mini_project), "--format", "json"]) == 0
    preview = json.loads(capsys.readouterr().out)
    (key,) = preview["resources"]
    assert (
        key["type"] == "aws:sns/topic:Topic" and key["inputs"]["tags"]["managed-by"] == "aiscaffold"
    )


def test_policy_pack_module_builds_without_blocking(render_project: object) -> None:
    import runpy

    project = render_project(cloud="aws")  # type: ignore[operator]
    namespace = runpy.run_path(str(project / "policy" / "__main__.py"))  # not __main__: no server
    pack_requirements = namespace["REQUIREMENTS"]
    assert isinstance(pack_requirements, Requirements) and pack_requirements.cloud == "aws"
    assert namespace["EXTRA_POLICIES"] == []  # where the team adds its own
    assert load_extra_policies(project) == []  # imported as `aiscaffold check` does
    assert (project / "policy" / "PulumiPolicy.yaml").is_file()
    assert any(
        line.startswith("pulumi-policy==")
        for line in (project / "policy" / "requirements.txt").read_text().splitlines()
    )


def test_stack_policies_see_every_resource(mini_project: Path) -> None:
    report = check_project(mini_project)
    stack_ids = {p.id for p in report.policy_objects if isinstance(p, StackPolicy)}
    assert {"AWS-GOV-001", "AWS-GOV-002"} <= stack_ids


def test_versioned_azure_types_are_checked_too() -> None:
    from aiscaffold_components.policies._core import base_type

    assert (
        base_type("azure-native:storage/v20230101:StorageAccount")
        == "azure-native:storage:StorageAccount"
    )
    assert (
        base_type("azure-native:storage/v20240101preview:StorageAccount")
        == "azure-native:storage:StorageAccount"
    )
    assert base_type("aws:s3/bucket:Bucket") == "aws:s3/bucket:Bucket"
    storage = [
        p for p in registry("azure")
        if isinstance(p, ResourcePolicy) and "azure-native:storage:StorageAccount" in p.resource_types
    ]  # fmt: skip
    assert storage and all(
        p.applies_to("azure-native:storage/v20230101:StorageAccount") for p in storage
    )


# ------------------------------------------------------- the team's own policies
#: A team's policy pack module, as a project's policy/__main__.py holds it.
PACK = """
from pathlib import Path

from aiscaffold_components.policies import Requirements, pulumi_policies
from pulumi_policy import (
    EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy,
    Severity, StackValidationArgs, StackValidationPolicy,
)

REQUIREMENTS = Requirements.load(Path(__file__).with_name("enforcement.yaml"))


def no_topics(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == "aws:sns/topic:Topic":
        report_violation(f"{{args.name}}: the team sends events through its queue", None)


EXTRA_POLICIES = [
    ResourceValidationPolicy(
        name="team-no-topics",
        description="No SNS topics.",
        validate=no_topics,
        enforcement_level={level},
        severity=Severity.HIGH,
        remediation_steps="Publish to the team's queue instead.",
    ),
]

if __name__ == "__main__":
    from pulumi_policy import PolicyPack

    PolicyPack(name="mini-security", policies=[*pulumi_policies(REQUIREMENTS), *EXTRA_POLICIES])
"""


def write_pack(project: Path, text: str) -> Path:
    pack = project / "policy" / "__main__.py"
    pack.write_text(textwrap.dedent(text))
    return pack


def library_policy_count(project: Path) -> int:
    from aiscaffold.check import load_requirements
    from aiscaffold_components.policies import policies_for

    return len(list(policies_for(load_requirements(project))))


def test_a_mandatory_team_policy_fails_the_check(
    mini_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_pack(mini_project, PACK.format(level="EnforcementLevel.MANDATORY"))
    assert main(["check", str(mini_project), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["policies"] == library_policy_count(mini_project) + 1
    (violation,) = report["violations"]
    assert violation == {
        "policy": "team-no-topics",
        "resource": "data-topic",
        "type": "aws:sns/topic:Topic",
        "level": "mandatory",
        "severity": "high",
        "controls": [],
        "frameworks": {},
        "message": "data-topic: the team sends events through its queue",
        "remediation": "Publish to the team's queue instead.",
    }
    sarif_file = mini_project / "report.sarif"
    assert main(["check", str(mini_project), "--format", "sarif", "-o", str(sarif_file)]) == 1
    (run,) = json.loads(sarif_file.read_text())["runs"]
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "team-no-topics")
    assert rule["help"] == {
        "text": "Publish to the team's queue instead.",
        "markdown": "**Remediation:** Publish to the team's queue instead.",
    }  # no catalog controls or frameworks to cite
    assert rule["properties"]["security-severity"] == "8.0"
    assert [r["ruleId"] for r in run["results"]] == ["team-no-topics"]
    # The pack was imported as a module of its own: nothing of it stays behind.
    assert str(mini_project / "policy") not in sys.path
    assert not [
        m for m in list(sys.modules.values())
        if str(getattr(m, "__file__", None) or "").startswith(str(mini_project))
    ]  # fmt: skip


def test_an_advisory_team_policy_is_listed_without_failing(
    mini_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_pack(mini_project, PACK.format(level="EnforcementLevel.ADVISORY"))
    assert main(["check", str(mini_project), "--format", "json"]) == 0
    (violation,) = json.loads(capsys.readouterr().out)["violations"]
    assert violation["policy"] == "team-no-topics" and violation["level"] == "advisory"
    assert main(["check", str(mini_project)]) == 0
    table = capsys.readouterr().out
    assert "team-no-topics" in table and "PASS mini (dev)" in table and "1 advisory" in table


def test_a_team_policy_without_a_level_is_advisory_as_in_the_pack(mini_project: Path) -> None:
    write_pack(mini_project, PACK.format(level="None"))
    report = check_project(mini_project)
    assert [(f.policy, f.level) for f in report.violations] == [("team-no-topics", "advisory")]


def test_a_disabled_team_policy_is_not_run(mini_project: Path) -> None:
    pack = PACK.format(level="EnforcementLevel.DISABLED").replace(
        "    if args.resource_type", "    raise AssertionError('a disabled policy ran')\n    if args.resource_type"
    )  # fmt: skip
    write_pack(mini_project, pack)
    report = check_project(mini_project)
    assert "team-no-topics" not in {p.id for p in report.policy_objects}
    assert not report.findings and report.policies == library_policy_count(mini_project)


def test_team_stack_policies_and_helpers_next_to_the_pack(
    mini_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stack policy may name resources or the stack; async validations are awaited;
    a helper module beside the pack imports as it does when Pulumi runs the pack."""
    (mini_project / "policy" / "team_rules.py").write_text(
        textwrap.dedent(
            """
            from pulumi_policy import StackValidationArgs, ReportViolation

            def owners(args: StackValidationArgs, report_violation: ReportViolation) -> None:
                topics = [r for r in args.resources if r.resource_type == "aws:sns/topic:Topic"]
                for topic in topics:
                    if "owner" not in (topic.props.get("tags") or {}):
                        report_violation("no owner tag", topic.urn)
                if len(topics) < 2:
                    report_violation("the stack needs a dead-letter topic", None)

            async def awaited(args, report_violation) -> None:
                if args.resource_type == "aws:sns/topic:Topic":
                    report_violation("reported once awaited", None)
            """
        )
    )
    write_pack(
        mini_project,
        """
        from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

        from team_rules import awaited, owners

        EXTRA_POLICIES = [
            StackValidationPolicy(name="team-owners", description="Topics have owners.",
                                  validate=owners, enforcement_level=EnforcementLevel.MANDATORY),
            ResourceValidationPolicy(name="team-async", description="Awaited.", validate=awaited),
        ]
        """,
    )
    assert main(["check", str(mini_project), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    found = {
        (v["policy"], v["resource"], v["message"], v["severity"]) for v in report["violations"]
    }
    assert found == {
        ("team-owners", "data-topic", "no owner tag", "medium"),  # no severity: medium
        ("team-owners", "(stack)", "the stack needs a dead-letter topic", "medium"),
        ("team-async", "data-topic", "reported once awaited", "medium"),
    }
    assert "team_rules" not in sys.modules
    levels = {v["policy"]: v["level"] for v in report["violations"]}
    assert levels == {"team-owners": "mandatory", "team-async": "advisory"}


def test_an_old_pack_without_extra_policies_has_none(mini_project: Path) -> None:
    write_pack(
        mini_project,
        """
        from pathlib import Path

        from aiscaffold_components.policies import Requirements, pulumi_policies

        REQUIREMENTS = Requirements.load(Path(__file__).with_name("enforcement.yaml"))

        if __name__ == "__main__":
            from pulumi_policy import PolicyPack

            PolicyPack(name="mini-security", policies=pulumi_policies(REQUIREMENTS))
        """,
    )
    report = check_project(mini_project)
    assert report.policies == library_policy_count(mini_project) and not report.findings


@pytest.mark.parametrize(
    ("pack", "expected"),
    [
        ("EXTRA_POLICIES = [\n    oops(\n", ["SyntaxError", "line 2"]),
        ("import team_rules_nobody_wrote\n", ["ModuleNotFoundError", "team_rules_nobody_wrote"]),
        (
            "raise RuntimeError('vault unreachable')\n",
            ["RuntimeError: vault unreachable", "line 1"],
        ),
    ],
    ids=["syntax-error", "import-error", "raises"],
)
def test_a_broken_pack_is_a_usage_error(
    mini_project: Path, capsys: pytest.CaptureFixture[str], pack: str, expected: list[str]
) -> None:
    write_pack(mini_project, pack)
    assert main(["check", str(mini_project)]) == 2
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long messages
    assert "policy/__main__.py cannot be imported" in err
    for text in expected:
        assert text in err
    assert "Traceback" not in err and "aiscaffold/check.py" not in err
    assert str(mini_project / "policy") not in sys.path


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("[no_topics]", "EXTRA_POLICIES[0] is a function, not a pulumi_policy"),
        ("[POLICY, 'team-no-topics']", "EXTRA_POLICIES[1] is a str, not a pulumi_policy"),
        ("POLICY", "EXTRA_POLICIES is a ResourceValidationPolicy, not a list"),
        ("[POLICY, POLICY]", "two policies in EXTRA_POLICIES are named 'team-no-topics'"),
        (
            "[ResourceValidationPolicy(name='AWS-GOV-001', description='d', validate=no_topics)]",
            "named 'AWS-GOV-001', the id of an aiscaffold policy",
        ),
    ],
    ids=["function", "string", "not-a-list", "duplicate", "library-id"],
)
def test_extra_policies_must_be_pulumi_policies_of_their_own_names(
    mini_project: Path, capsys: pytest.CaptureFixture[str], extra: str, expected: str
) -> None:
    pack = PACK.format(level="EnforcementLevel.MANDATORY").replace(
        "EXTRA_POLICIES = [", "POLICY = ResourceValidationPolicy(name='team-no-topics', "
        "description='d', validate=no_topics)\nEXTRA_POLICIES = " + extra + "\n_UNUSED = ["
    )  # fmt: skip
    write_pack(mini_project, pack)
    assert main(["check", str(mini_project)]) == 2
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long messages
    assert expected in err and "Traceback" not in err


def test_a_team_policy_that_raises_is_named_without_a_traceback(
    mini_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = PACK.format(level="EnforcementLevel.MANDATORY").replace(
        "    if args.resource_type", "    args.props['owner']\n    if args.resource_type"
    )  # fmt: skip
    write_pack(mini_project, pack)
    assert main(["check", str(mini_project)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "policy 'team-no-topics' from policy/__main__.py failed on resource 'data-topic'" in err
    assert "KeyError" in err and "__main__.py" in err and "Traceback" not in err


def test_a_pack_building_its_policy_pack_on_import_fails_instead_of_hanging(
    mini_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import signal

    write_pack(
        mini_project,
        """
        from pulumi_policy import PolicyPack, StackValidationPolicy

        never = StackValidationPolicy(name="never", description="d", validate=lambda a, r: None)
        PolicyPack(name="mini-security", policies=[never])
        """,
    )

    def hung(signum: int, frame: object) -> None:
        raise AssertionError("the check blocked in PolicyPack")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        assert main(["check", str(mini_project)]) == 2
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = capsys.readouterr().err
    assert "builds its PolicyPack on import" in err and "__name__" in err
    from pulumi_policy import PolicyPack

    with pytest.raises(TypeError, match="Missing policies"):  # the real one is back
        PolicyPack(name="p", policies=[])


@pytest.mark.parametrize("cloud", ["aws", "gcp"])  # tags, and GCP's labels
def test_the_example_in_the_generated_pack_works_as_written(
    render_project: object, tmp_path: Path, cloud: str
) -> None:
    import shutil

    project = shutil.copytree(render_project(cloud=cloud), tmp_path / "app")  # type: ignore[operator]
    pack = project / "policy" / "__main__.py"
    text = pack.read_text()
    example = text.split("For example:\n#\n", 1)[1].split("\nEXTRA_POLICIES:", 1)[0]
    code = "\n".join(line.removeprefix("#     ") for line in example.splitlines())
    pack.write_text(text.replace(" = []\n", " = []\n" + code + "\n", 1))
    from aiscaffold.check import load_requirements, run_project

    run = run_project(project, None)
    report = evaluate(run, load_requirements(project), load_extra_policies(project))
    key = "labels" if cloud == "gcp" else "tags"
    tagged = {r.name for r in run.custom_resources if key in r.inputs}
    flagged = [f for f in report.violations if f.policy == "team-cost-center"]
    assert tagged and {f.resource for f in flagged} == tagged
    assert {(f.level, f.severity) for f in flagged} == {("mandatory", "low")}
    assert {f.policy for f in report.mandatory} == {"team-cost-center"}


def test_loading_the_policies_imports_no_cloud_sdk() -> None:
    """Reading a project's enforcement file validates its overrides against every pack,
    so every pack is imported by every `check`: a pack that imports a components module
    at import time drags in its cloud SDK (pulumi_gcp.compute alone takes seconds) for
    projects of every cloud. Packs reach component constants lazily (their _util)."""
    import subprocess

    code = (
        "import sys\n"
        "from aiscaffold_components.policies import registry\n"
        "registry()\n"
        "heavy = sorted({m for m in sys.modules if m.split('.')[0] in "
        "('pulumi_aws', 'pulumi_azure_native', 'pulumi_gcp') or m.split('.')[:2] in "
        "(['aiscaffold_components', 'aws'], ['aiscaffold_components', 'azure'], "
        "['aiscaffold_components', 'gcp'])})\n"
        "print('\\n'.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [], f"importing the policy packs imports {out[:10]}"
