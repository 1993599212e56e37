"""Generated GCP projects and their mock runs, shared by the tests of this folder."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold.testing import run_program
from gcp_support import OPTIONAL_CONFIG, VARIANTS, GeneratedRun


@pytest.fixture(scope="session")
def gcp_projects(render_project: Any) -> dict[str, GeneratedRun]:
    """Every variant rendered once and run under the mocks once."""
    out = {}
    for variant, answers in VARIANTS.items():
        path = render_project(cloud="gcp", project_name=f"gcp-{variant}"[:30], **answers)
        config = OPTIONAL_CONFIG if variant == "confidential-iso-soc2" else None
        out[variant] = GeneratedRun(path, run_program(path, config=config))
    return out
