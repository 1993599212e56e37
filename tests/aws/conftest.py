"""Generated AWS projects, rendered and run under the mocks once per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from aiscaffold.testing import MockRun, run_program
from aws.aws_support import PROJECT_CONFIG, PROJECTS


@pytest.fixture(scope="session")
def aws_project(render_project: Callable[..., Path]) -> Callable[[str], Path]:
    """The rendered project directory of one of ``PROJECTS``."""

    def render(name: str) -> Path:
        return render_project(project_name=f"aws-{name}", **PROJECTS[name])

    return render


@pytest.fixture(scope="session")
def aws_run(aws_project: Callable[[str], Path]) -> Callable[[str], MockRun]:
    """The mock run of one of ``PROJECTS`` (run once per session)."""
    runs: dict[str, MockRun] = {}

    def get(name: str) -> MockRun:
        if name not in runs:
            runs[name] = run_program(aws_project(name), config=PROJECT_CONFIG.get(name))
        return runs[name]

    return get
