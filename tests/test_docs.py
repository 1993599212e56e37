"""The documentation: generated reference pages are current, the site builds strictly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from aiscaffold.docs_pages import render_pages

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted(render_pages(ROOT / "docs")), ids=lambda p: p.name)
def test_reference_page_is_current(path: Path) -> None:
    expected = render_pages(ROOT / "docs")[path]
    assert path.is_file(), f"{path.name} missing: run scripts/gen_docs.py"
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path.name} is stale: run scripts/gen_docs.py"
    )


def test_policy_reference_lists_every_policy() -> None:
    from aiscaffold_components.policies import registry

    page = (ROOT / "docs" / "reference" / "policies.md").read_text(encoding="utf-8")
    for policy in registry():
        assert f"### {policy.id}" in page


@pytest.mark.slow
def test_docs_build_in_strict_mode(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "reference" / "policies" / "index.html").is_file()


def _setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, re.DOTALL)


def test_readme_has_two_setup_commands_and_ci_runs_the_test_one() -> None:
    main_job, tests = _setup_commands()  # exactly two
    assert "pip install" in main_job and "aiscaffold new" in main_job
    assert "aiscaffold check" in main_job
    command = tests.rsplit(" && ", 1)[1]
    assert command.startswith("pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    install = tests.split("&& pip install ", 1)[1].split(" && ")[0]
    assert f"pip install --quiet {install}" in ci
    assert command.replace("pytest", "pytest -q", 1) in ci


def test_readme_main_job_renders_an_example_and_checks_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The aiscaffold part of the main-job command, as written, run in process."""
    import shlex

    from aiscaffold.cli import main

    main_job, _ = _setup_commands()
    steps = [shlex.split(step) for step in main_job.split(" && ") if step.startswith("aiscaffold ")]
    assert [step[1] for step in steps] == ["new", "check"]
    monkeypatch.chdir(ROOT)  # the command runs in the checkout: examples/answers/...
    for step in steps:
        argv = [str(tmp_path / Path(a).name) if a.startswith("/tmp/") else a for a in step[1:]]
        assert main(argv) == 0, argv
    out = capsys.readouterr().out
    assert "PASS aws-bedrock-hipaa" in out  # the report a new user sees
