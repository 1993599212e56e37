"""Mutation test of the Azure policy pack: every weakening of every security-relevant
input of the generated programs is caught.

The mutations are derived from what the default project and the compliance-heavy
variants register (``derive_mutations``), not hand-picked; each is applied alone and
the project's own policies must find a new violation. Mutations that are not weakenings
are exempted in ``mutation_exemptions.yaml``, each with its reason; an entry may name the
value the input must hold (removing a value equal to Azure's default changes nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.check import load_requirements
from aiscaffold.testing import MockRun, run_program
from aiscaffold.testing.mutations import (
    derive_mutations,
    exemption_for,
    load_exemptions,
    run_mutations,
    stale_exemptions,
)

EXEMPTIONS = load_exemptions(Path(__file__).with_name("mutation_exemptions.yaml"))

#: The projects of test_azure_generated_project.py (same answers: renders are shared).
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "restricted-hipaa-gdpr": {
        "data_sensitivity": "restricted",
        "compliance": ["hipaa", "gdpr"],
        "region": "swedencentral",
    },
    "internal-soc2": {"data_sensitivity": "internal", "compliance": ["soc2"]},
}


@pytest.fixture(scope="module")
def projects(render_project: Any) -> dict[str, Path]:
    return {
        name: render_project(cloud="azure", project_name=f"az-{name}"[:30], **answers)
        for name, answers in VARIANTS.items()
    }


@pytest.fixture(scope="module")
def runs(projects: dict[str, Path]) -> dict[str, MockRun]:
    return {name: run_program(path) for name, path in projects.items()}


def test_exemptions_are_reasoned_and_each_is_used(runs: dict[str, MockRun]) -> None:
    stale = stale_exemptions(EXEMPTIONS, runs)
    assert not stale, f"stale exemptions: {stale}"


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_weakening_is_caught(
    variant: str,
    projects: dict[str, Path],
    runs: dict[str, MockRun],
    record_kill_rate: Callable[[str, int, int, int], None],
) -> None:
    run = runs[variant]
    candidates = derive_mutations(run)
    exempted = [m for m in candidates if exemption_for(m, EXEMPTIONS, run)]
    mutations = [m for m in candidates if m not in exempted]
    report = run_mutations(run, load_requirements(projects[variant]), mutations)
    record_kill_rate(f"azure {variant}", len(report.killed), report.total, len(exempted))
    assert report.total > 300  # derived from the program, not a handful
    assert not report.survived, "weakenings no policy catches:\n" + "\n".join(
        m.label for m in report.survived
    )
