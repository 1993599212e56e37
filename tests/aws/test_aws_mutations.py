"""Mutation test of the AWS pack: every weakening of a generated project is caught.

The security-relevant inputs are derived from what the generated programs register
(``derive_mutations``), for each answer set below and for the state backend of the
default project ("bootstrap"); each is weakened alone and the project's policies must
find a new violation. Mutations that are not weakenings are exempted in
``mutation_exemptions.yaml``, each with its reason.
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
from aws.aws_support import PROJECTS
from liveness_support import credited_without_kill, proof_of, unexempted_reads

EXEMPTIONS = load_exemptions(Path(__file__).with_name("mutation_exemptions.yaml"))


MUTATED_PROJECTS = [
    "defaults",
    "bedrock-restricted",
    "sagemaker-confidential",
    "egress",
    "shared-siem",
    "gateway-public",
]
#: The state backend of the default project, checked by that project's pack.
BOOTSTRAP = "bootstrap"


def test_exemptions_name_known_projects() -> None:
    for exemption in EXEMPTIONS:
        assert set(exemption.projects or ()) <= {*PROJECTS, BOOTSTRAP}, exemption


@pytest.fixture(scope="module")
def runs(
    aws_project: Callable[[str], Path], aws_run: Callable[[str], MockRun]
) -> dict[str, tuple[MockRun, Path]]:
    """Each mutated project's run and directory, and the default project's bootstrap."""
    out = {name: (aws_run(name), aws_project(name)) for name in MUTATED_PROJECTS}
    defaults = aws_project("defaults")
    out[BOOTSTRAP] = (run_program(defaults / "bootstrap", stack="bootstrap"), defaults)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", [*MUTATED_PROJECTS, BOOTSTRAP])
def test_every_weakening_is_caught(
    name: str,
    runs: dict[str, tuple[MockRun, Path]],
    record_kill_rate: Callable[[str, int, int, int], None],
) -> None:
    run, project = runs[name]
    candidates = derive_mutations(run)
    exempted = [m for m in candidates if exemption_for(m, EXEMPTIONS, run, name)]
    mutations = [m for m in candidates if m not in exempted]
    report = run_mutations(run, load_requirements(project), mutations)
    record_kill_rate(f"aws {name}", len(report.killed), report.total, len(exempted))
    # derived, not hand-picked: every security input of the run
    assert report.total > (40 if name == BOOTSTRAP else 150)
    survivors = [m.label for m in report.survived]
    assert not survivors, "weakenings no policy catches:\n" + "\n".join(survivors)


@pytest.fixture(scope="module")
def proofs(runs: dict[str, tuple[MockRun, Path]]) -> dict[str, MutationRun]:
    """The exhaustive liveness run of each project (what every policy reads and catches)."""
    return {name: proof_of(*runs[name]) for name in MUTATED_PROJECTS}


@pytest.mark.slow
def test_every_exemption_is_used(
    runs: dict[str, tuple[MockRun, Path]], proofs: dict[str, MutationRun]
) -> None:
    """An exemption that matches nothing is stale (a renamed input, or a ``read`` of an
    input a caught mutation now weakens): remove or fix it."""
    stale = stale_exemptions(
        EXEMPTIONS,
        {name: run for name, (run, _) in runs.items()},
        uncovered_reads={name: proof.uncovered_reads() for name, proof in proofs.items()},
    )
    assert not stale, stale


@pytest.mark.slow
@pytest.mark.parametrize("name", MUTATED_PROJECTS)
def test_every_credited_policy_has_a_kill_the_full_pack_confirms(
    name: str, runs: dict[str, tuple[MockRun, Path]], proofs: dict[str, MutationRun]
) -> None:
    """COMPLIANCE.md credits a policy only with a kill on the project; each is applied
    again through a full evaluation of the pack, which must catch it too."""
    run, project = runs[name]
    problems = credited_without_kill(run, project, proofs[name])
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("name", MUTATED_PROJECTS)
def test_every_input_a_policy_reads_is_weakened_or_exempted(
    name: str, proofs: dict[str, MutationRun]
) -> None:
    """Each input path a policy reads is weakened by a mutation some policy catches, or
    exempted (kind ``read``) with its reason."""
    missing = unexempted_reads(proofs[name], EXEMPTIONS, name)
    assert not missing, "inputs policies read that no caught weakening touches:\n" + "\n".join(
        missing
    )
