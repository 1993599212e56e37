"""Generated GCP projects and their mock runs, shared by the tests of this folder."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold.testing import run_program
from gcp_support import OPTIONAL_CONFIG, ORG_POLICIES, VARIANT_CONFIG, VARIANTS, GeneratedRun


@pytest.fixture(scope="session")
def gcp_projects(render_project: Any) -> dict[str, GeneratedRun]:
    """Every variant rendered once and run under the mocks once."""
    out = {}
    for variant, answers in VARIANTS.items():
        path = render_project(cloud="gcp", project_name=f"gcp-{variant}"[:30], **answers)
        # Organization policies and locked logs in every variant, as release 0.2.0
        # deployed them; tests/gcp/test_gcp_deploy.py runs the defaults (off) too.
        config = {
            **ORG_POLICIES,
            **(OPTIONAL_CONFIG if variant == "confidential-iso-soc2" else {}),
            **VARIANT_CONFIG.get(variant, {}),
        }
        out[variant] = GeneratedRun(path, run_program(path, config=config))
    return out
