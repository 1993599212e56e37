"""Generated programs type-check strictly against the real cloud SDKs.

mypy catches what a mock run accepts: a misspelled key in a nested dict input (the SDKs'
TypedDicts), a wrong argument type. Cold, each cloud's SDK takes about a minute; the
cache is shared with the repository's own mypy run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import RenderProject

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = {
    "aws-bedrock": {"cloud": "aws"},
    "aws-sagemaker": {"cloud": "aws", "ai_service": "sagemaker", "allow_internet_egress": True},
    "azure": {"cloud": "azure"},
    "gcp": {"cloud": "gcp"},
}


@pytest.mark.slow
@pytest.mark.parametrize("program", ["__main__.py", "bootstrap/__main__.py", "policy/__main__.py"])
@pytest.mark.parametrize("label", sorted(PROJECTS))
def test_generated_program_passes_mypy_strict(
    render_project: RenderProject, label: str, program: str
) -> None:
    from mypy import api

    path = render_project(**PROJECTS[label]) / program
    stdout, stderr, status = api.run(
        ["--strict", "--cache-dir", str(ROOT / ".mypy_cache"), str(path)]
    )
    assert status == 0, stdout + stderr
