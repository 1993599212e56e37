"""Mutation test of the AWS pack: every weakening of a generated project is caught.

The security-relevant inputs are derived from what the generated programs register
(``derive_mutations``); each is weakened alone and the project's policies must find a
new violation. Mutations that are not weakenings are exempted in
``mutation_exemptions.yaml``, each with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from aiscaffold.check import load_requirements
from aiscaffold.testing import MockRun
from aiscaffold.testing.mutations import (
    derive_mutations,
    exemption_for,
    load_exemptions,
    run_mutations,
    stale_exemptions,
)
from aws.aws_support import PROJECTS

EXEMPTIONS = load_exemptions(Path(__file__).with_name("mutation_exemptions.yaml"))


def test_exemptions_name_known_projects() -> None:
    for exemption in EXEMPTIONS:
        assert set(exemption.projects or ()) <= set(PROJECTS), exemption


MUTATED_PROJECTS = ["defaults", "bedrock-restricted", "sagemaker-confidential", "egress"]


@pytest.mark.slow
@pytest.mark.parametrize("name", MUTATED_PROJECTS)
def test_every_weakening_is_caught(
    name: str,
    aws_project: Callable[[str], Path],
    aws_run: Callable[[str], MockRun],
    record_kill_rate: Callable[[str, int, int, int], None],
) -> None:
    run = aws_run(name)
    candidates = derive_mutations(run)
    exempted = [m for m in candidates if exemption_for(m, EXEMPTIONS, run, name)]
    mutations = [m for m in candidates if m not in exempted]
    report = run_mutations(run, load_requirements(aws_project(name)), mutations)
    record_kill_rate(f"aws {name}", len(report.killed), report.total, len(exempted))
    assert report.total > 150  # derived, not hand-picked: every security input of the run
    survivors = [m.label for m in report.survived]
    assert not survivors, "weakenings no policy catches:\n" + "\n".join(survivors)


def test_every_exemption_is_used(aws_run: Callable[[str], MockRun]) -> None:
    """An exemption that matches nothing is stale (a renamed input): remove or fix it."""
    stale = stale_exemptions(EXEMPTIONS, {name: aws_run(name) for name in MUTATED_PROJECTS})
    assert not stale, stale
