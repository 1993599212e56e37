"""Mutation test of the GCP policy pack: weaken each security input, a policy must object.

The mutations are derived from the generated projects' resources (every security
input, see ``aiscaffold.testing.mutations``), for each answer set of the GCP tests and
for the state backend. Mutations that are not weakenings are listed, with the reason,
in mutation_exemptions.yaml; an entry may apply only while the input holds a given
value (removing a value that is the provider's default changes nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiscaffold.check import load_requirements
from aiscaffold.testing import MockRun, run_program
from aiscaffold.testing.mutations import Exemption, Mutation, derive_mutations, run_mutations
from gcp.gcp_support import VARIANTS, GeneratedRun

EXEMPTIONS = Path(__file__).with_name("mutation_exemptions.yaml")


@dataclass(frozen=True)
class Entry:
    """An exemption, optionally only while the input holds one of ``values``."""

    exemption: Exemption
    values: tuple[Any, ...] | None

    def matches(self, mutation: Mutation, run: MockRun) -> bool:
        if not self.exemption.matches(mutation):
            return False
        if self.values is None:
            return True
        value: Any = run.by_urn(mutation.urn).inputs
        for key in mutation.path:
            value = value[key]
        return value in self.values


def load_entries() -> list[Entry]:
    entries = []
    for raw in yaml.safe_load(EXEMPTIONS.read_text(encoding="utf-8")):
        values = raw.get("values", [raw["value"]] if "value" in raw else None)
        exemption = Exemption(
            type=raw["type"], path=raw["path"], kinds=tuple(raw["kinds"]), reason=raw["reason"]
        )
        entries.append(Entry(exemption, tuple(values) if values is not None else None))
    return entries


ENTRIES = load_entries()


def split(
    run: MockRun, mutations: Sequence[Mutation]
) -> tuple[list[Mutation], list[tuple[Mutation, Entry]]]:
    """The mutations to run, and the exempted ones with their entry."""
    to_run: list[Mutation] = []
    exempted: list[tuple[Mutation, Entry]] = []
    for mutation in mutations:
        entry = next((e for e in ENTRIES if e.matches(mutation, run)), None)
        if entry is None:
            to_run.append(mutation)
        else:
            exempted.append((mutation, entry))
    return to_run, exempted


@pytest.fixture(scope="module")
def runs(gcp_projects: dict[str, GeneratedRun]) -> dict[str, tuple[MockRun, Path]]:
    """The generated projects' runs, and the state backend of the default project."""
    out = {variant: (project.run, project.path) for variant, project in gcp_projects.items()}
    defaults = gcp_projects["defaults"].path
    out["bootstrap"] = (run_program(defaults / "bootstrap", stack="bootstrap"), defaults)
    return out


def test_exemptions_have_specific_reasons_and_are_all_needed(
    runs: dict[str, tuple[MockRun, Path]],
) -> None:
    used: set[int] = set()
    for run, _ in runs.values():
        for _, entry in split(run, derive_mutations(run))[1]:
            used.add(id(entry))
    for entry in ENTRIES:
        assert len(entry.exemption.reason) > 40, entry.exemption
        assert entry.exemption.type.startswith("gcp:"), entry.exemption
        assert id(entry) in used, f"no mutation needs {entry.exemption}"


@pytest.mark.slow
@pytest.mark.parametrize("label", [*VARIANTS, "bootstrap"])
def test_every_weakening_is_caught(
    label: str, runs: dict[str, tuple[MockRun, Path]], record_kill_rate: Any
) -> None:
    run, project = runs[label]
    mutations, exempted = split(run, derive_mutations(run))
    assert len(mutations) > (5 if label == "bootstrap" else 100)
    report = run_mutations(run, load_requirements(project), mutations)
    record_kill_rate(f"gcp {label}", len(report.killed), report.total, len(exempted))
    assert not report.survived, "not caught by any policy:\n" + "\n".join(
        m.label for m in report.survived
    )
