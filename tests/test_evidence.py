"""Evidence a reviewer can trust (issue 13): exceptions are visible, the matrix is current.

Through the CLI, on a project rendered from the examples' answers: an override is shown
with its reason on every row its policy touches, a disabled policy is never credited,
the SARIF report validates against the SARIF 2.1.0 schema and carries each exception as
a suppression, and the generated project's own tests catch a stale COMPLIANCE.md.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiscaffold.cli import main
from helpers import RenderProject

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-2.1.0.json"
KMS_REASON = "keys are re-keyed by the central key team's runbook, not by KMS rotation"
S3_REASON = "access logs go to the central logging account's bucket instead"
ROTATION_CLAUSE = "164.312(a)(2)(iv)"  # HIPAA encryption: KEY-02 automatic key rotation

#: A team's edit turning automatic rotation off on every key the Keys component makes
#: (the component has no argument to weaken it: a transformation is how one would).
NO_ROTATION = """

def _no_rotation(
    args: pulumi.ResourceTransformationArgs,
) -> pulumi.ResourceTransformationResult | None:
    if args.type_ == "aws:kms/key:Key":
        props = {**args.props, "enable_key_rotation": False}
        return pulumi.ResourceTransformationResult(props, args.opts)
    return None


"""


def _hipaa_answers() -> dict[str, Any]:
    answers = yaml.safe_load((EXAMPLES / "answers" / "aws-bedrock-hipaa.yml").read_text())
    assert isinstance(answers, dict)
    return answers


def _override(project: Path, overrides: dict[str, tuple[str, str]]) -> None:
    path = project / "policy" / "enforcement.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # Added to the project's own (a new HIPAA project already declares its pending lock).
    data["overrides"] = {
        **(data.get("overrides") or {}),
        **{p: {"level": lvl, "reason": why} for p, (lvl, why) in overrides.items()},
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _without_rotation(project: Path) -> None:
    """Every KMS key of the program with enable_key_rotation=False."""
    program = project / "__main__.py"
    source = program.read_text(encoding="utf-8")
    call = re.search(r"^keys = Keys\(\n(.*?)^\)\n", source, re.MULTILINE | re.DOTALL)
    assert call, "the AWS program creates its keys with `keys = Keys(...)`"
    edited = (
        source[: call.start()]
        + NO_ROTATION.lstrip("\n")
        + call.group(0)[: -len(")\n")]
        + "    opts=pulumi.ResourceOptions(transformations=[_no_rotation]),\n)\n"
        + source[call.end() :]
    )
    program.write_text(edited, encoding="utf-8")


@pytest.fixture(scope="module")
def excepted(render_project: RenderProject, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """aws-bedrock-hipaa with no key rotation, AWS-KMS-001/002 disabled, AWS-S3-005 advisory."""
    project = tmp_path_factory.mktemp("evidence") / "aws-bedrock-hipaa"
    shutil.copytree(render_project(**_hipaa_answers()), project)
    _without_rotation(project)
    _override(
        project,
        {
            "AWS-KMS-001": ("disabled", KMS_REASON),
            "AWS-KMS-002": ("disabled", KMS_REASON),
            "AWS-S3-005": ("advisory", S3_REASON),
        },
    )
    return project


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out


def _rows(matrix: str) -> dict[str, list[str]]:
    """Table rows of a Markdown matrix by their first cell (cells stripped)."""
    rows: dict[str, list[str]] = {}
    for line in matrix.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows.setdefault(cells[0], cells)
    return rows


@pytest.mark.slow
def test_disabled_override_is_shown_and_never_credited(
    excepted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "COMPLIANCE.md"
    code, _ = _cli(capsys, "check", str(excepted), "--format", "compliance", "-o", str(target))
    assert code == 0  # disabled policies block nothing: their violations are suppressed
    matrix = target.read_text(encoding="utf-8")
    header = "| Clause | Title | Controls | Implemented by | Verified by | Status |"
    columns = header.strip("|").split("|")
    rows = _rows(matrix)
    row = dict(zip((c.strip() for c in columns), rows[ROTATION_CLAUSE], strict=True))
    assert "✅" not in row["Status"]
    assert row["Status"].startswith("⚠ not verified: KEY-02 only by disabled AWS-KMS-001")
    assert "would find 3 violations" in row["Status"]  # the data, logs and secrets keys
    for policy in ("AWS-KMS-001", "AWS-KMS-002"):
        assert f"⚠ exception: {policy} disabled — {KMS_REASON}" in row["Status"]
        assert policy not in row["Verified by"].split(", ")
    # Every row naming a control an overridden policy verifies carries its exception.
    touched = {"KEY-02": "AWS-KMS-001", "LOG-06": "AWS-S3-005"}
    for cells in rows.values():
        for control, policy in touched.items():
            if f"{control} " in cells[2] and len(cells) == len(columns):
                assert f"⚠ exception: {policy} " in cells[-1], cells[0]
    # The advisory exception leaves its clauses verified (S3-005 runs and passes here).
    audit = dict(zip((c.strip() for c in columns), rows["164.312(b)"], strict=True))
    assert audit["Status"].startswith("✅")
    assert f"⚠ exception: AWS-S3-005 advisory — {S3_REASON}" in audit["Status"]
    assert "AWS-S3-005" in audit["Verified by"]
    # The exceptions table and the policies that verified nothing here.
    assert f"| ⚠ AWS-KMS-001 | disabled | {KMS_REASON} | KEY-02 |" in matrix
    not_exercised = matrix.split("## Not exercised here", 1)[1]
    assert "| AWS-KMS-001 | KMS keys rotate automatically | KEY-02 | ⚠ disabled" in not_exercised
    # stdout gives the same matrix as the file
    code, printed = _cli(capsys, "check", str(excepted), "--format", "compliance")
    assert code == 0 and printed == matrix


@pytest.mark.slow
def test_check_lists_overrides_with_reasons(
    excepted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _cli(capsys, "check", str(excepted), "--format", "json")
    report = json.loads(out)
    assert code == 0
    overrides = {o["policy"]: o for o in report["overrides"]}
    assert overrides["AWS-KMS-001"] == {
        "policy": "AWS-KMS-001",
        "level": "disabled",
        "reason": KMS_REASON,
        "effect": "not run; it would find 3 violations here",
    }
    assert overrides["AWS-S3-005"]["level"] == "advisory"
    assert overrides["AWS-S3-005"]["reason"] == S3_REASON
    # what the disabled policy would report is there, suppressed, never a violation
    suppressed = [f for f in report["suppressed"] if f["policy"] == "AWS-KMS-001"]
    assert len(suppressed) == 3
    assert all(f["override"] == {"level": "disabled", "reason": KMS_REASON} for f in suppressed)
    assert not [v for v in report["violations"] if v["policy"].startswith("AWS-KMS-00")]

    code, table = _cli(capsys, "check", str(excepted))
    flat = " ".join(table.split())
    # the three above and the pending final lock every new immutable-log project declares
    assert "OVERRIDES (4) in policy/enforcement.yaml" in flat
    assert (
        "4 exceptions (AWS-KMS-001 disabled, AWS-KMS-002 disabled, AWS-S3-005 advisory, "
        "AWS-S3-016 advisory)" in flat
    )


@pytest.mark.slow
def test_sarif_with_overrides_validates_and_carries_suppressions(
    excepted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import jsonschema

    target = tmp_path / "aiscaffold.sarif"
    code, _ = _cli(capsys, "check", str(excepted), "--format", "sarif", "-o", str(target))
    assert code == 0  # the disabled policies block nothing
    sarif = json.loads(target.read_text(encoding="utf-8"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(sarif)

    (run,) = sarif["runs"]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    enforcement = (excepted / "policy" / "enforcement.yaml").read_text().splitlines()
    reasons = {"AWS-KMS-001": KMS_REASON, "AWS-KMS-002": KMS_REASON, "AWS-S3-005": S3_REASON}
    for policy, reason in reasons.items():
        expected = [{"kind": "external", "status": "accepted", "justification": reason}]
        (note,) = [
            r
            for r in results
            if r["ruleId"] == policy
            and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "policy/enforcement.yaml"
        ]
        # Every exception is a note, even AWS-KMS-002, which finds nothing here.
        assert note["level"] == "note" and note["suppressions"] == expected
        line = note["locations"][0]["physicalLocation"]["region"]["startLine"]
        assert enforcement[line - 1].strip() == f"{policy}:"
        # ...and every violation it covers carries the same suppression.
        covered = [r for r in results if r["ruleId"] == policy and r is not note]
        assert all(r["suppressions"] == expected for r in covered)
    rotation = [r for r in results if r["ruleId"] == "AWS-KMS-001" and "suppressions" in r]
    assert len(rotation) == 4  # the note and the three keys that do not rotate
    # The project's own exception for its pending lock step is suppressed the same way.
    lock = {"AWS-S3-016"}
    assert all(
        "suppressions" not in r for r in results if r["ruleId"] not in {*reasons, *lock}
    )  # findings no exception covers stay open


def _project_pytest(
    project: Path, tmp_path: Path, *selection: str
) -> subprocess.CompletedProcess[str]:
    """The generated project's own tests, as its CI runs them (pytest in the project)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "pytest"),
            *selection,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_generated_tests_catch_a_stale_compliance_md(
    render_project: RenderProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Path(shutil.copytree(render_project(cloud="aws"), tmp_path / "project"))
    only = ("-k", "compliance_md_is_current")
    assert _project_pytest(project, tmp_path, *only).returncode == 0  # as generated

    def refresh(mandatory_violations: bool = False) -> None:
        code, _ = _cli(capsys, "check", str(project), "--format", "compliance", "-o",
                       str(project / "COMPLIANCE.md"))  # fmt: skip
        assert code == (1 if mandatory_violations else 0)  # the file is written either way

    # A weakened setting in __main__.py: key material kept for the longest period KMS allows.
    program = project / "__main__.py"
    source = program.read_text(encoding="utf-8")
    setting = "rotation_period_days=profile.key_rotation_days"
    # The project's keys (the recovery region's key, when there is one, comes later).
    assert source.index(setting) > source.index("keys = Keys(")
    program.write_text(source.replace(setting, "rotation_period_days=2560", 1))
    stale = _project_pytest(project, tmp_path, *only)
    assert stale.returncode == 1, stale.stdout
    assert "COMPLIANCE.md is stale" in stale.stdout
    assert "aiscaffold check --format compliance --output COMPLIANCE.md" in stale.stdout
    assert "AWS-KMS-002" in stale.stdout  # the diff shows the row that changed
    refresh(mandatory_violations=True)
    assert "❌ violations: AWS-KMS-002" in (project / "COMPLIANCE.md").read_text()
    assert _project_pytest(project, tmp_path, *only).returncode == 0
    program.write_text(source)
    refresh()

    # An exception in policy/enforcement.yaml, and the stack's config, alike.
    _override(project, {"AWS-S3-005": ("advisory", S3_REASON)})
    stale = _project_pytest(project, tmp_path, *only)
    assert stale.returncode == 1 and "COMPLIANCE.md is stale" in stale.stdout
    assert f"⚠ exception: AWS-S3-005 advisory — {S3_REASON}" in stale.stdout
    refresh()
    config = next(project.glob("Pulumi.*.yaml"))
    text = config.read_text(encoding="utf-8")
    key = re.search(r"^\s+(\S+:log_retention_days): (\d+)$", text, re.MULTILINE)
    assert key, "the stack config sets log_retention_days"
    config.write_text(text.replace(key.group(0), key.group(0).replace(key.group(2), "1")))
    stale = _project_pytest(project, tmp_path, *only)
    assert stale.returncode == 1 and "COMPLIANCE.md is stale" in stale.stdout
    config.write_text(text)
    # With the committed matrix current again, the project's whole suite passes.
    done = _project_pytest(project, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_matrix_is_one_file_with_a_section_per_stack(
    render_project: RenderProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Several stacks and no --stack: one COMPLIANCE.md, a section per stack; `new`
    wrote exactly what `check --format compliance` writes for one."""
    project = Path(shutil.copytree(render_project(cloud="aws"), tmp_path / "project"))
    code, single = _cli(capsys, "check", str(project), "--format", "compliance")
    assert code == 0
    assert single == (project / "COMPLIANCE.md").read_text(encoding="utf-8")
    (stack_file,) = project.glob("Pulumi.*.yaml")
    shutil.copy(stack_file, project / "Pulumi.prod.yaml")
    code, both = _cli(capsys, "check", str(project), "--format", "compliance")
    assert code == 0
    sections = re.findall(r"^## Stack `(\w+)`$", both, re.MULTILINE)
    assert sections == sorted(["prod", stack_file.name.split(".")[1]])
    assert both.count("\n### Not exercised here\n") == 2
    assert "(stacks `" in both
    code, one = _cli(capsys, "check", str(project), "--format", "compliance", "--stack", "prod")
    assert code == 0 and "## Stack" not in one and "(stack `prod`)" in one
