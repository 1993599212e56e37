"""The offline tests generated into AWS projects pass right after generation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["defaults", "sagemaker-confidential", "egress", "gateway-private"]
)
def test_generated_tests_pass_in_the_project(
    name: str, aws_project: Callable[[str], Path], tmp_path: Path
) -> None:
    """As a user would run them: pytest in the project directory (each template branch)."""
    # A copy: running pytest writes caches, and the rendered project is shared.
    project = Path(shutil.copytree(aws_project(name), tmp_path / "project" / name))
    tests = (project / "tests" / "test_infrastructure.py").read_text()
    assert "def test_keys_rotate_within_the_profile_period" in tests
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "pytest"),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
