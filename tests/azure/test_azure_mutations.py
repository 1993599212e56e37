"""Mutation test of the Azure policy pack: every weakening of every security-relevant
input of the generated programs is caught.

The mutations are derived from what the default project and the compliance-heavy
variants register (``derive_mutations``), not hand-picked; each is applied alone and
the project's own policies must find a new violation. Mutations that are not weakenings
are exempted in ``mutation_exemptions.yaml``, each with its reason; an entry may name the
value the input must hold (removing a value equal to Azure's default changes nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiscaffold.check import load_requirements
from aiscaffold.testing import MockRun, run_program
from aiscaffold.testing.mutations import Exemption, Mutation, derive_mutations, run_mutations

EXEMPTIONS_FILE = Path(__file__).with_name("mutation_exemptions.yaml")
_ANY = object()

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


@dataclass(frozen=True)
class ValueExemption:
    """An exemption, applying only while the input holds ``value`` (when given)."""

    exemption: Exemption
    value: Any = _ANY

    def matches(self, mutation: Mutation, run: MockRun) -> bool:
        if not self.exemption.matches(mutation):
            return False
        if self.value is _ANY:
            return True
        current: Any = run.by_urn(mutation.urn).inputs
        for key in mutation.path:
            current = current[key]
        return bool(current == self.value)


def load_exemptions() -> list[ValueExemption]:
    entries = yaml.safe_load(EXEMPTIONS_FILE.read_text(encoding="utf-8"))
    out = []
    for entry in entries:
        exemption = Exemption(
            type=entry["type"],
            path=entry["path"],
            kinds=tuple(entry["kinds"]),
            reason=entry["reason"],
        )
        out.append(ValueExemption(exemption, entry.get("value", _ANY)))
    return out


def split(
    run: MockRun, mutations: Sequence[Mutation], exemptions: Sequence[ValueExemption]
) -> tuple[list[Mutation], list[tuple[Mutation, ValueExemption]]]:
    """The mutations to run, and those exempted with the entry that exempts them."""
    remaining: list[Mutation] = []
    exempted: list[tuple[Mutation, ValueExemption]] = []
    for mutation in mutations:
        entry = next((e for e in exemptions if e.matches(mutation, run)), None)
        if entry is None:
            remaining.append(mutation)
        else:
            exempted.append((mutation, entry))
    return remaining, exempted


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
    exemptions = load_exemptions()
    used: set[int] = set()
    for run in runs.values():
        _, exempted = split(run, derive_mutations(run), exemptions)
        used.update(id(entry) for _, entry in exempted)
    for entry in exemptions:
        assert len(entry.exemption.reason) >= 10, entry
        assert id(entry) in used, f"stale exemption: {entry.exemption}"


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_weakening_is_caught(
    variant: str,
    projects: dict[str, Path],
    runs: dict[str, MockRun],
    record_kill_rate: Callable[[str, int, int, int], None],
) -> None:
    run = runs[variant]
    mutations, exempted = split(run, derive_mutations(run), load_exemptions())
    report = run_mutations(run, load_requirements(projects[variant]), mutations)
    record_kill_rate(f"azure {variant}", len(report.killed), report.total, len(exempted))
    assert report.total > 300  # derived from the program, not a handful
    assert not report.survived, "weakenings no policy catches:\n" + "\n".join(
        m.label for m in report.survived
    )
