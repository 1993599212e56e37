"""Mutation test of the GCP policy pack: weaken each security input, a policy must object.

The mutations are derived from the generated projects' resources (every security
input, see ``aiscaffold.testing.mutations``), for each answer set of the GCP tests and
for the state backend. Mutations that are not weakenings are listed, with the reason,
in mutation_exemptions.yaml; an entry may apply only while the input holds a given
value (removing a value that is the provider's default changes nothing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiscaffold.check import load_requirements
from aiscaffold.liveness import MutationRun
from aiscaffold.testing import MockRun, run_program
from aiscaffold.testing.mutations import (
    derive_mutations,
    exemption_for,
    load_exemptions,
    run_mutations,
    stale_exemptions,
)
from gcp.gcp_support import VARIANTS, GeneratedRun
from liveness_support import credited_without_kill, proof_of, unexempted_reads

EXEMPTIONS = load_exemptions(Path(__file__).with_name("mutation_exemptions.yaml"))


@pytest.fixture(scope="module")
def runs(gcp_projects: dict[str, GeneratedRun]) -> dict[str, tuple[MockRun, Path]]:
    """The generated projects' runs, and the state backend of the default project."""
    out = {variant: (project.run, project.path) for variant, project in gcp_projects.items()}
    defaults = gcp_projects["defaults"].path
    out["bootstrap"] = (run_program(defaults / "bootstrap", stack="bootstrap"), defaults)
    return out


@pytest.fixture(scope="module")
def proofs(runs: dict[str, tuple[MockRun, Path]]) -> dict[str, MutationRun]:
    """The exhaustive liveness run of each variant (what every policy reads and catches)."""
    return {label: proof_of(*runs[label]) for label in VARIANTS}


def test_exemptions_have_specific_reasons() -> None:
    for exemption in EXEMPTIONS:
        assert len(exemption.reason) > 40, exemption
        assert exemption.type.startswith(("gcp:", "time:")), exemption
        assert set(exemption.projects or ()) <= {*VARIANTS, "bootstrap"}, exemption


@pytest.mark.slow
def test_exemptions_are_all_needed(
    runs: dict[str, tuple[MockRun, Path]], proofs: dict[str, MutationRun]
) -> None:
    """Each exemption matches a derived mutation, or (kind ``read``) an input a policy
    reads that no caught mutation weakens, on some project: otherwise it is stale."""
    stale = stale_exemptions(
        EXEMPTIONS,
        {label: run for label, (run, _) in runs.items()},
        uncovered_reads={label: proof.uncovered_reads() for label, proof in proofs.items()},
    )
    assert not stale, f"no mutation needs {stale}"


@pytest.mark.slow
@pytest.mark.parametrize("label", [*VARIANTS, "bootstrap"])
def test_every_weakening_is_caught(
    label: str, runs: dict[str, tuple[MockRun, Path]], record_kill_rate: Any
) -> None:
    run, project = runs[label]
    candidates = derive_mutations(run)
    exempted = [m for m in candidates if exemption_for(m, EXEMPTIONS, run)]
    mutations = [m for m in candidates if m not in exempted]
    assert len(mutations) > (5 if label == "bootstrap" else 100)
    report = run_mutations(run, load_requirements(project), mutations)
    record_kill_rate(f"gcp {label}", len(report.killed), report.total, len(exempted))
    assert not report.survived, "not caught by any policy:\n" + "\n".join(
        m.label for m in report.survived
    )


@pytest.mark.slow
@pytest.mark.parametrize("label", list(VARIANTS))
def test_every_credited_policy_has_a_kill_the_full_pack_confirms(
    label: str, runs: dict[str, tuple[MockRun, Path]], proofs: dict[str, MutationRun]
) -> None:
    """COMPLIANCE.md credits a policy only with a kill on the project; each is applied
    again through a full evaluation of the pack, which must catch it too."""
    run, project = runs[label]
    problems = credited_without_kill(run, project, proofs[label])
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("label", list(VARIANTS))
def test_every_input_a_policy_reads_is_weakened_or_exempted(
    label: str, proofs: dict[str, MutationRun]
) -> None:
    """Each input path a policy reads is weakened by a mutation some policy catches, or
    exempted (kind ``read``) with its reason."""
    missing = unexempted_reads(proofs[label], EXEMPTIONS, label)
    assert not missing, "inputs policies read that no caught weakening touches:\n" + "\n".join(
        missing
    )
