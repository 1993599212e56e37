"""Mutation test of the Azure policy pack: every weakening of every security-relevant
input of the generated programs is caught.

The mutations are derived from what the default project, the compliance-heavy variants
and the default project's state backend ("bootstrap") register (``derive_mutations``),
not hand-picked; each is applied alone and the project's own policies must find a new
violation. Mutations that are not weakenings are exempted in ``mutation_exemptions.yaml``,
each with its reason; an entry may name the value the input must hold (removing a value
equal to Azure's default changes nothing) or the fields of the list entry it is in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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
from azure.azure_support import VARIANTS
from liveness_support import credited_without_kill, proof_of, unexempted_reads

EXEMPTIONS = load_exemptions(Path(__file__).with_name("mutation_exemptions.yaml"))
#: The state backend of the default project, checked by that project's pack.
BOOTSTRAP = "bootstrap"


@pytest.fixture(scope="module")
def mutated(projects: dict[str, Path], runs: dict[str, MockRun]) -> dict[str, tuple[MockRun, Path]]:
    """Each variant's run and directory, and the default project's bootstrap."""
    out = {variant: (runs[variant], projects[variant]) for variant in VARIANTS}
    defaults = projects["defaults"]
    out[BOOTSTRAP] = (run_program(defaults / "bootstrap", stack="bootstrap"), defaults)
    return out


@pytest.fixture(scope="module")
def proofs(mutated: dict[str, tuple[MockRun, Path]]) -> dict[str, MutationRun]:
    """The exhaustive liveness run of each variant (what every policy reads and catches)."""
    return {variant: proof_of(*mutated[variant]) for variant in VARIANTS}


@pytest.mark.slow
def test_exemptions_are_reasoned_and_each_is_used(
    mutated: dict[str, tuple[MockRun, Path]], proofs: dict[str, MutationRun]
) -> None:
    """Each exemption matches a derived mutation, or (kind ``read``) an input a policy
    reads that no caught mutation weakens, on some project: otherwise it is stale."""
    stale = stale_exemptions(
        EXEMPTIONS,
        {label: run for label, (run, _) in mutated.items()},
        uncovered_reads={label: proof.uncovered_reads() for label, proof in proofs.items()},
    )
    assert not stale, f"stale exemptions: {stale}"


@pytest.mark.slow
@pytest.mark.parametrize("variant", [*VARIANTS, BOOTSTRAP])
def test_every_weakening_is_caught(
    variant: str,
    mutated: dict[str, tuple[MockRun, Path]],
    record_kill_rate: Callable[[str, int, int, int], None],
) -> None:
    run, project = mutated[variant]
    candidates = derive_mutations(run)
    exempted = [m for m in candidates if exemption_for(m, EXEMPTIONS, run)]
    mutations = [m for m in candidates if m not in exempted]
    report = run_mutations(run, load_requirements(project), mutations)
    record_kill_rate(f"azure {variant}", len(report.killed), report.total, len(exempted))
    assert report.total > 300  # derived from the program, not a handful
    assert not report.survived, "weakenings no policy catches:\n" + "\n".join(
        m.label for m in report.survived
    )


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_credited_policy_has_a_kill_the_full_pack_confirms(
    variant: str, mutated: dict[str, tuple[MockRun, Path]], proofs: dict[str, MutationRun]
) -> None:
    """COMPLIANCE.md credits a policy only with a kill on the project; each is applied
    again through a full evaluation of the pack, which must catch it too."""
    run, project = mutated[variant]
    problems = credited_without_kill(run, project, proofs[variant])
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_input_a_policy_reads_is_weakened_or_exempted(
    variant: str, proofs: dict[str, MutationRun]
) -> None:
    """Each input path a policy reads is weakened by a mutation some policy catches, or
    exempted (kind ``read``) with its reason."""
    missing = unexempted_reads(proofs[variant], EXEMPTIONS, variant)
    assert not missing, "inputs policies read that no caught weakening touches:\n" + "\n".join(
        missing
    )
