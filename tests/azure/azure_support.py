"""Shared data of the Azure tests (fixtures are in conftest.py)."""

from __future__ import annotations

from typing import Any

#: Answer sets the generated Azure project is tested with (besides cloud=azure): the
#: default project and the compliance-heavy variants of issue 4.
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "restricted-hipaa-gdpr": {
        "data_sensitivity": "restricted",
        "compliance": ["hipaa", "gdpr"],
        "region": "swedencentral",
    },
    "internal-soc2": {"data_sensitivity": "internal", "compliance": ["soc2"]},
}
