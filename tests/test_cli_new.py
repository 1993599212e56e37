"""`aiscaffold new` end to end, in process: renders, and every bad input refused cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiscaffold.cli import main


def tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


EXPECTED_FILES = {
    ".copier-answers.yml",
    ".gitignore",
    "Pulumi.yaml",
    "README.md",
    "__main__.py",
    "requirements.txt",
}


@pytest.mark.parametrize(
    ("cloud", "service", "sdk"),
    [
        ("aws", "bedrock", "pulumi-aws"),
        ("azure", "openai", "pulumi-azure-native"),
        ("gcp", "vertex-ai", "pulumi-gcp"),
    ],
)
def test_new_from_answers_file(tmp_path: Path, cloud: str, service: str, sdk: str) -> None:
    answers = tmp_path / "answers.yml"
    answers.write_text(
        yaml.safe_dump(
            {"project_name": "rag-app", "cloud": cloud, "stack": "prod", "compliance": ["soc2"]}
        )
    )
    dest = tmp_path / "out"
    assert main(["new", str(dest), "--answers-file", str(answers), "--defaults"]) == 0
    files = set(tree(dest))
    assert EXPECTED_FILES | {"Pulumi.prod.yaml"} <= files
    recorded = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert recorded["_src_path"].endswith("template.bundle") and recorded["_commit"]
    assert recorded["cloud"] == cloud and recorded["ai_service"] == service
    assert recorded["compliance"] == ["soc2"]
    stack = yaml.safe_load((dest / "Pulumi.prod.yaml").read_text())["config"]
    assert stack["rag-app:log_retention_days"] >= 365
    assert yaml.safe_load((dest / "Pulumi.yaml").read_text())["runtime"]["name"] == "python"
    requirements = (dest / "requirements.txt").read_text().split("\n")
    assert f"aiscaffold[{cloud}]==0.1.0" in requirements
    assert any(line.startswith(f"{sdk}==") for line in requirements)
    assert all("==" in line for line in requirements if line and not line.startswith("#"))


@pytest.mark.parametrize(
    ("cloud", "region_key", "eu_prefix"),
    [
        ("aws", "aws:region", "eu-"),
        ("azure", "azure-native:location", ""),
        ("gcp", "gcp:region", "europe-"),
    ],
)
def test_new_from_data_options(tmp_path: Path, cloud: str, region_key: str, eu_prefix: str) -> None:
    from aiscaffold_components.catalog import load_catalog

    dest = tmp_path / "svc"
    code = main(
        [
            "new", str(dest), "--defaults",
            "--data", "project_name=svc-one",
            "--data", f"cloud={cloud}",
            "--data", "compliance=[hipaa,gdpr]",
            "--data", "guardrail_denied_topics=[legal advice]",
            "--data", "allow_internet_egress=false",
        ]
    )  # fmt: skip
    assert code == 0
    recorded = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert recorded["compliance"] == ["hipaa", "gdpr"]
    assert recorded["cloud"] == cloud and recorded["region"].startswith(eu_prefix)
    eu = load_catalog().clouds[cloud].regions["eu"]  # GDPR: an EU region by default
    assert recorded["region"] in eu, recorded["region"]
    assert recorded["guardrail_denied_topics"] == ["legal advice"]
    stack = yaml.safe_load((dest / "Pulumi.dev.yaml").read_text())["config"]
    assert stack[region_key] == recorded["region"]
    assert stack["svc-one:log_retention_days"] == 2192  # HIPAA: six years


def test_project_name_defaults_to_destination(tmp_path: Path) -> None:
    assert main(["new", str(tmp_path / "my-rag-app"), "--defaults"]) == 0
    recorded = yaml.safe_load((tmp_path / "my-rag-app" / ".copier-answers.yml").read_text())
    assert recorded["project_name"] == "my-rag-app"


BAD_DATA = [
    (["--data", "project_name=my app"], "project_name"),
    (["--data", "project_name=MyApp"], "project_name"),
    (["--data", "project_name=../evil"], "project_name"),
    (["--data", "project_name={{ cookiecutter }}"], "project_name"),
    (["--data", "cloud=oracle"], "cloud"),
    (["--data", "cloud=aws", "--data", "region=westeurope"], "region"),
    (["--data", "compliance=[gdpr]", "--data", "region=us-east-1"], "eu-central-1"),
    (["--data", "cloud=azure", "--data", "ai_service=bedrock"], "not offered on azure"),
    (["--data", "compliance=[gdpr,fedramp]"], "allow no aws region"),
    (["--data", "colour=blue"], "not a question"),
    # GovCloud: no default model is confirmed there, so none is guessed
    (["--data", "compliance=[fedramp]"], "no default model is confirmed in us-gov-west-1"),
    (["--data", "gcp_org_policies=true"], "applies to gcp projects only"),
    (["--data", "account_services=central"], "account_services"),
    (["--data", "alert_emails=[not-an-address]"], "is not an e-mail address"),
    (["--data", "alert_emails=secops@example.com"], "is not a list"),
    (["--data", "monthly_budget=-5"], "is negative"),
    (["--data", "monthly_budget=lots"], "is not a whole number"),
    (["--data", "monthly_budget=20000000"], "is above 10,000,000"),
    (["--data", "monthly_budget=0"], "0 (no budget) is not allowed for confidential data"),
    (
        ["--data", "monthly_budget=0", "--data", "data_sensitivity=restricted"],
        "not allowed for restricted data",
    ),
    (["--data", "cloud=gcp", "--data", "billing_account=12-34"], "is not a billing account id"),
    (["--data", "billing_account=012345-6789AB-CDEF01"], "applies to gcp projects only"),
    (["--data", "api_gateway=open"], "api_gateway"),
    (["--data", "api_gateway=private"], "gateway_oidc_issuer: missing"),
    (
        ["--data", "api_gateway=public", "--data", "gateway_oidc_issuer=https://idp.example.com"],
        "gateway_oidc_audience: missing",
    ),
    (
        [
            *("--data", "api_gateway=private", "--data", "gateway_oidc_audience=api://ok-app"),
            *("--data", "gateway_oidc_issuer=http://idp.example.com"),
        ],
        "is not an OIDC issuer URL",
    ),
    (
        [
            *("--data", "api_gateway=private", "--data", "gateway_oidc_audience=api://ok-app"),
            *("--data", "gateway_oidc_issuer=https://idp.example.com/?tenant=x"),
        ],
        "is not an OIDC issuer URL",
    ),
    (
        [
            *(
                "--data",
                "api_gateway=private",
                "--data",
                "gateway_oidc_issuer=https://idp.example.com",
            ),
            *("--data", "gateway_oidc_audience=my audience"),
        ],
        "is not an OIDC audience",
    ),
    (["--data", "gateway_oidc_audience=api://ok-app"], "applies only with a gateway"),
    # Workloads (issue 17): inference is always one of them; each type once.
    (["--data", "workloads=[training]"], "must include inference"),
    (["--data", "workloads=[inference, serving]"], "'serving' is not one of the choices"),
    (["--data", "workloads=[inference, training, training]"], "lists training more than once"),
    (["--data", "workloads=inference"], "is not a list"),
    # The recovery region: not the primary, the same rules, the same partition.
    (["--data", "dr_region=us-east-1"], "is the primary region"),
    (["--data", "dr_region=westeurope"], "is not a region of Amazon Web Services"),
    (
        ["--data", "compliance=[gdpr]", "--data", "dr_region=us-west-2"],
        "is not allowed by gdpr (the same rules as region)",
    ),
    (["--data", "dr_region=us-gov-west-1"], "are in separate partitions"),
    (["--data", "noequals"], "KEY=VALUE"),
    (["--data", "compliance=[unclosed"], "not a YAML value"),
]


@pytest.mark.parametrize(("args", "mentions"), BAD_DATA)
def test_bad_data_is_refused_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], mentions: str
) -> None:
    dest = tmp_path / "never"
    assert main(["new", str(dest), "--defaults", "--data", "project_name=ok-app", *args]) == 2
    err = capsys.readouterr().err
    assert mentions in err
    assert "Traceback" not in err
    assert not dest.exists()
    assert not list(tmp_path.iterdir())  # no staging directory left behind either


def test_region_refused_by_compliance_lists_allowed_regions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "new",
        str(tmp_path / "x"),
        "--defaults",
        "--data",
        "cloud=aws",
        "--data",
        "compliance=[fedramp]",
    ]
    assert main([*args, "--data", "region=us-east-1"]) == 2
    err = capsys.readouterr().err
    assert "not allowed by fedramp" in err and "us-gov-west-1, us-gov-east-1" in err


@pytest.mark.parametrize(
    ("content", "mentions"),
    [
        (None, "does not exist"),
        ("cloud: [aws\n", "not valid YAML"),
        ("- aws\n- azure\n", "not a mapping"),
        ("cloud: aws\nflavour: vanilla\n", "flavour: not a question"),
    ],
)
def test_bad_answers_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, mentions: str
) -> None:
    answers = tmp_path / "answers.yml"
    if content is not None:
        answers.write_text(content)
    dest = tmp_path / "never"
    assert main(["new", str(dest), "--answers-file", str(answers), "--defaults"]) == 2
    err = capsys.readouterr().err
    assert mentions in err and "Traceback" not in err
    assert not dest.exists()


def test_destination_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("mine")
    assert main(["new", str(target), "--defaults", "--data", "project_name=abc"]) == 2
    assert "is a file" in capsys.readouterr().err
    assert target.read_text() == "mine"


def test_destination_not_empty_needs_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "proj"
    dest.mkdir()
    (dest / "notes.md").write_text("my notes")
    (dest / "README.md").write_text("my readme")
    assert main(["new", str(dest), "--defaults"]) == 2
    assert "--force" in capsys.readouterr().err
    assert tree(dest) == {"notes.md": b"my notes", "README.md": b"my readme"}

    assert main(["new", str(dest), "--defaults", "--force"]) == 0
    files = tree(dest)
    assert files["notes.md"] == b"my notes"  # user files outside the template survive
    assert set(files) >= EXPECTED_FILES


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda d: (d / "tests").write_text("a file where the template has a folder"), "tests"),
        (lambda d: (d / "README.md").mkdir(), "README.md"),
        (lambda d: (d / "policy").symlink_to(d.parent), "policy"),
    ],
    ids=["file-for-folder", "folder-for-file", "symlink"],
)
def test_force_refuses_paths_that_cannot_take_the_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, named: str
) -> None:
    dest = tmp_path / "proj"
    dest.mkdir()
    (dest / "__main__.py").write_text("mine")
    make(dest)
    before = tree(dest)
    assert main(["new", str(dest), "--defaults", "--force"]) == 2
    err = capsys.readouterr().err
    assert named in err and "Nothing was written" in err and "Traceback" not in err
    assert tree(dest) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]


def test_force_puts_everything_back_when_a_move_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failure part way through the move (disk full, permissions) restores the files."""
    import aiscaffold.generate as generate_module

    real_replace = os.replace
    moves: list[str] = []

    def failing_replace(src: Any, dst: Any) -> None:
        if "project" in Path(src).parts and len(moves) == 5:
            raise OSError(28, "No space left on device", str(dst))
        moves.append(str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(generate_module.os, "replace", failing_replace)
    dest = tmp_path / "proj"
    dest.mkdir()
    (dest / "README.md").write_text("my readme")
    (dest / "notes.md").write_text("my notes")
    assert main(["new", str(dest), "--defaults", "--force"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "put back as it was" in err
    assert tree(dest) == {"README.md": b"my readme", "notes.md": b"my notes"}
    assert not [p for p in dest.rglob("*") if p.is_dir()]  # folders it made are gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]


def test_pretend_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "proj"
    assert main(["new", str(dest), "--defaults", "--pretend"]) == 0
    assert "Would write" in capsys.readouterr().out
    assert not dest.exists()
    assert not list(tmp_path.iterdir())


def test_missing_answers_without_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "proj"
    assert main(["new", str(dest), "--data", "cloud=aws", "--data", "project_name=abc"]) == 2
    err = capsys.readouterr().err
    assert "missing: description, ai_service" in err and "--defaults" in err
    assert "cloud" not in err.split("missing:")[1].split("\n")[0]
    assert not dest.exists()


def test_render_failure_leaves_destination_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import copier

    def half_render(src: str, dst: Path, **kwargs: object) -> None:
        Path(dst).mkdir(parents=True)
        (Path(dst) / "__main__.py").write_text("partial")
        raise OSError("disk full")

    monkeypatch.setattr(copier, "run_copy", half_render)
    dest = tmp_path / "proj"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    assert main(["new", str(dest), "--defaults", "--force"]) == 2
    err = capsys.readouterr().err
    assert "disk full" in err and "left as it was" in err
    assert tree(dest) == {"keep.txt": b"mine"}
    assert [p.name for p in tmp_path.iterdir()] == ["proj"]


def test_version_and_help_do_not_import_pulumi_or_sdks() -> None:
    code = (
        "import sys\n"
        "from aiscaffold.cli import main\n"
        "for argv in (['--version'], ['--help'], ['new', '--help'], ['controls', '--help']):\n"
        "    assert main(argv) == 0, argv\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('pulumi', 'pulumi_aws', 'pulumi_azure_native', 'pulumi_gcp', 'pulumi_policy', 'copier')]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy()
    )
    assert done.returncode == 0, done.stderr


def test_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aiscaffold", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert done.stdout.startswith("aiscaffold ")
