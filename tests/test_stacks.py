"""Several stacks per project (issue 18): `aiscaffold stack add|list|remove`, and
`check` judging every stack by its own answers and enforcement levels.

One AWS project is rendered for the module (dev: confidential, no framework) and gets
a prod stack (restricted, HIPAA) once; tests that change it work on copies.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from aiscaffold.cli import main
from aiscaffold_components.policies import registry
from helpers import RenderProject


def _git(cwd: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@t",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@t",
    )
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


@pytest.fixture(scope="module")
def two_stacks(render_project: RenderProject, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dev (the first stack: confidential, no framework) and prod (restricted, HIPAA),
    in a git repository with everything committed. Tests copy it before changing it."""
    project = tmp_path_factory.mktemp("stacks") / "test-app"
    shutil.copytree(render_project(cloud="aws"), project)
    _git(project, "init", "--quiet")
    _git(project, "add", "-A")
    _git(project, "commit", "--quiet", "-m", "generated")
    code = main(
        [
            "stack",
            "add",
            "prod",
            "--project",
            str(project),
            "--data",
            "data_sensitivity=restricted",
            "--data",
            "compliance=[hipaa]",
            "--defaults",
        ]
    )
    assert code == 0
    _git(project, "add", "-A")
    _git(project, "commit", "--quiet", "-m", "stack prod")
    return project


def _copy(project: Path, tmp_path: Path) -> Path:
    target = tmp_path / project.name
    shutil.copytree(project, target)
    return target


def _config(project: Path, stack: str) -> dict[str, object]:
    config = yaml.safe_load((project / f"Pulumi.{stack}.yaml").read_text())["config"]
    assert isinstance(config, dict)
    return config


def _tree(project: Path) -> dict[str, str]:
    return {
        p.relative_to(project).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(project.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(project).parts
    }


def test_prod_derives_stricter_settings_and_is_recorded(two_stacks: Path) -> None:
    dev, prod = _config(two_stacks, "dev"), _config(two_stacks, "prod")
    key = "test-app:{}".format
    assert prod[key("data_sensitivity")] == "restricted" and prod[key("compliance")] == ["hipaa"]
    assert dev[key("data_sensitivity")] == "confidential" and dev[key("compliance")] == []
    assert int(str(prod[key("log_retention_days")])) > int(str(dev[key("log_retention_days")]))
    assert int(str(prod[key("key_rotation_days")])) < int(str(dev[key("key_rotation_days")]))
    assert prod[key("immutable_logs")] is True and dev[key("immutable_logs")] is False
    assert prod["aws:region"] == dev["aws:region"]  # the first stack's region by default
    # Same cloud and region as dev, which owns the account-level singletons: shared.
    assert prod[key("account_services")] == "shared"
    assert dev[key("account_services")] == "this-stack"

    record = yaml.safe_load((two_stacks / ".aiscaffold-stacks.yml").read_text())["stacks"]
    assert list(record) == ["prod"]
    assert record["prod"]["data_sensitivity"] == "restricted"
    assert "project_name" not in record["prod"] and "cloud" not in record["prod"]
    baseline = yaml.safe_load((two_stacks / ".aiscaffold-derived.yml").read_text())["files"]
    assert baseline["Pulumi.prod.yaml"]["config"] == _config(two_stacks, "prod")
    assert "Pulumi.dev.yaml" in baseline
    # The first stack's files are as a one-stack project has them.
    answers = yaml.safe_load((two_stacks / ".copier-answers.yml").read_text())
    assert answers["stack"] == "dev" and answers["data_sensitivity"] == "confidential"
    assert "data_sensitivity: confidential" in (two_stacks / "policy/enforcement.yaml").read_text()


def test_each_stack_is_enforced_at_its_own_levels(two_stacks: Path) -> None:
    from aiscaffold.stacks import load_stack_requirements

    dev = load_stack_requirements(two_stacks, "dev")
    prod = load_stack_requirements(two_stacks, "prod")
    assert (dev.data_sensitivity, dev.compliance) == ("confidential", ())
    assert (prod.data_sensitivity, prod.compliance) == ("restricted", ("hipaa",))
    levels = {p.id: (p.level(dev), p.level(prod)) for p in registry("aws")}
    stricter = {i for i, (d, p) in levels.items() if d == "advisory" and p == "mandatory"}
    looser = {i for i, (d, p) in levels.items() if d == "mandatory" and p != "mandatory"}
    assert stricter  # e.g. the threat-detection and budget policies under HIPAA
    # Only the lock step's visible exception (prod's logs lock in a second step).
    assert looser == set(prod.overrides) - set(dev.overrides)
    # The pack Pulumi runs picks the same file by PULUMI_STACK.
    from aiscaffold_components.policies import stack_requirements

    assert stack_requirements(two_stacks / "policy", "prod") == prod
    assert stack_requirements(two_stacks / "policy", "acme/test-app/prod") == prod
    assert stack_requirements(two_stacks / "policy", "qa") == dev  # no file of its own


def test_check_judges_every_stack_and_exits_with_the_worst(
    two_stacks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(two_stacks)]) == 0
    out = capsys.readouterr().out
    assert "stack dev" in out and "stack prod" in out
    assert "PASS test-app (dev)" in out and "PASS test-app (prod)" in out

    # No budget in either stack: AWS-COST-001 is advisory for dev, mandatory for prod.
    project = _copy(two_stacks, tmp_path)
    for stack in ("dev", "prod"):
        path = project / f"Pulumi.{stack}.yaml"
        text = path.read_text()
        assert "test-app:monthly_budget: 1000" in text
        path.write_text(text.replace("test-app:monthly_budget: 1000", "test-app:monthly_budget: 0"))
    assert main(["check", str(project)]) == 1
    out = capsys.readouterr().out
    assert "dev: ok" in out
    prod_line = next(line for line in out.splitlines() if line.startswith("prod: "))
    assert "mandatory" in prod_line
    assert main(["check", str(project), "--stack", "dev"]) == 0
    capsys.readouterr()
    assert main(["check", str(project), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)["stacks"]
    assert set(report) == {"dev", "prod"}
    levels = {s: {v["policy"]: v["level"] for v in report[s]["violations"]} for s in report}
    assert levels["dev"]["AWS-COST-001"] == "advisory"
    assert levels["prod"]["AWS-COST-001"] == "mandatory"


def test_compliance_md_has_each_stack_with_its_own_answers(two_stacks: Path) -> None:
    from aiscaffold.project_reports import stale_compliance

    text = (two_stacks / "COMPLIANCE.md").read_text()
    dev, prod = text.split("## Stack `dev`")[1].split("## Stack `prod`")
    assert "confidential" in dev and "No compliance framework was chosen" in dev
    assert "restricted" in prod and "HIPAA" in prod
    assert "No compliance framework was chosen" not in prod
    assert stale_compliance(two_stacks) is None  # what `check --format compliance` writes


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["dev", "--defaults"], "already a stack"),
        (["prod", "--defaults"], "already a stack"),
        (["Prod_1", "--defaults"], "not a valid stack name"),
        (["qa", "--data", "region=westeurope", "--defaults"], "region"),
        (
            ["qa", "--data", "compliance=[gdpr]", "--data", "region=us-east-1", "--defaults"],
            "region",
        ),
        (["qa", "--data", "ai_service=sagemaker", "--defaults"], "project-wide"),
        (["qa", "--data", "cloud=azure", "--defaults"], "project's cloud"),
        (["qa", "--data", "colour=blue", "--defaults"], "not a question"),
        (["qa"], "data_sensitivity"),  # no terminal, no --defaults: names what is missing
    ],
    ids=[
        "first-stack-name",
        "added-stack-name",
        "invalid-name",
        "another-clouds-region",
        "region-excluded-by-gdpr",
        "project-wide-key",
        "another-cloud",
        "unknown-key",
        "missing-answers",
    ],
)
def test_stack_add_refuses_bad_input_and_writes_nothing(
    two_stacks: Path, args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _tree(two_stacks)
    assert main(["stack", "add", *args, "--project", str(two_stacks)]) == 2
    err = capsys.readouterr().err
    assert named in " ".join(err.split()), err
    assert "Traceback" not in err
    assert _tree(two_stacks) == before


def test_account_services_default_follows_region() -> None:
    from aiscaffold.stacks import _default

    recorded = {
        "stack": "dev",
        "cloud": "aws",
        "region": "us-east-1",
        "account_services": "this-stack",
    }
    shared = _default("account_services", {"region": "us-east-1"}, recorded, {})
    assert shared == "shared"
    assert _default("account_services", {"region": "us-west-2"}, recorded, {}) == "this-stack"
    # dev shares; a stack added in its region before owns them: still shared.
    records = {"prod": {"region": "us-west-2", "account_services": "this-stack"}}
    assert _default("account_services", {"region": "us-west-2"}, recorded, records) == "shared"


def test_list_and_remove(
    two_stacks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _copy(two_stacks, tmp_path)
    assert main(["stack", "list", "--project", str(project), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["first"], r["data_sensitivity"], r["compliance"]) for r in rows] == [
        ("dev", True, "confidential", []),
        ("prod", False, "restricted", ["hipaa"]),
    ]
    assert [r["dr_region"] for r in rows] == ["", ""]  # no replica unless chosen
    assert main(["stack", "list", "--project", str(project)]) == 0
    assert "restricted" in capsys.readouterr().out

    before = _tree(project)
    assert main(["stack", "remove", "dev", "--project", str(project)]) == 2
    assert "first stack" in capsys.readouterr().err
    assert _tree(project) == before

    assert main(["stack", "remove", "prod", "--project", str(project)]) == 0
    out = capsys.readouterr().out
    assert "pulumi stack rm prod" in out and "Nothing in the cloud was touched" in out
    assert not (project / "Pulumi.prod.yaml").exists()
    assert not (project / "policy" / "enforcement.prod.yaml").exists()
    assert not (project / ".aiscaffold-stacks.yml").exists()  # one stack again
    baseline = yaml.safe_load((project / ".aiscaffold-derived.yml").read_text())["files"]
    assert "Pulumi.prod.yaml" not in baseline
    # COMPLIANCE.md is the one-stack project's again, as before `stack add`.
    before_add = subprocess.run(
        ["git", "show", "HEAD~1:COMPLIANCE.md"], cwd=project, check=True, capture_output=True
    ).stdout.decode()
    assert (project / "COMPLIANCE.md").read_text() == before_add
    assert main(["stack", "list", "--project", str(project), "--format", "json"]) == 0
    assert [r["name"] for r in json.loads(capsys.readouterr().out)] == ["dev"]


def test_questions_are_asked_on_a_terminal() -> None:
    """Per-stack questions use questionary like `new`: a choice, a checkbox, YAML text;
    the end of input names the unanswered question."""
    from aiscaffold.errors import MissingAnswersError
    from aiscaffold.stacks import _ask
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    answers = {"cloud": "aws", "region": "us-east-1"}
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        pipe.send_text("\x1b[B\r")  # one below the default (confidential): restricted
        assert _ask("data_sensitivity", "confidential", answers) == "restricted"
        pipe.send_text(" \r")  # tick the first framework
        assert _ask("compliance", [], answers) == ["hipaa"]
        pipe.send_text("\x7f\x7f\x7f\x7f2500\r")  # replace the default 1000
        assert _ask("monthly_budget", 1000, answers) == 2500
        pipe.close()
        with pytest.raises(MissingAnswersError, match="alert_emails"):
            _ask("alert_emails", [], answers)


@pytest.mark.skipif(shutil.which("jq") is None, reason="the runner's jq is not installed")
def test_ci_runs_every_stack_in_its_own_environment(two_stacks: Path, tmp_path: Path) -> None:
    workflow = yaml.safe_load((two_stacks / ".github" / "workflows" / "ci.yml").read_text())
    jobs = workflow["jobs"]
    matrix = "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    assert jobs["offline"]["strategy"]["matrix"]["stack"] == matrix
    assert jobs["preview"]["strategy"]["matrix"]["stack"] == matrix
    assert jobs["preview"]["environment"] == "${{ matrix.stack }}"
    pulumi = next(s for s in jobs["preview"]["steps"] if "pulumi/actions" in s.get("uses", ""))
    assert pulumi["with"]["stack-name"] == "${{ matrix.stack }}"
    # The listing step, run as written: the stacks come from the files, not the template.
    listing = next(s for s in jobs["stacks"]["steps"] if s.get("id") == "list")["run"]
    output = tmp_path / "github_output"
    subprocess.run(
        ["bash", "-c", listing],
        cwd=two_stacks,
        env={**os.environ, "GITHUB_OUTPUT": str(output)},
        check=True,
    )
    assert output.read_text().strip() == 'stacks=["dev","prod"]'
