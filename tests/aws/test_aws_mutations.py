"""Mutation test of the AWS pack: every weakening of a generated project is caught.

The security-relevant inputs are derived from what the generated programs register
(``derive_mutations``); each is weakened alone and the project's policies must find a
new violation. Mutations that are not weakenings are exempted in
``mutation_exemptions.yaml``, each with its reason.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from aiscaffold.check import load_requirements
from aiscaffold.testing import MockRun
from aiscaffold.testing.mutations import Exemption, Mutation, derive_mutations, run_mutations
from aws.aws_support import PROJECTS

EXEMPTIONS_FILE = Path(__file__).with_name("mutation_exemptions.yaml")


@dataclass(frozen=True)
class ScopedExemption:
    """An engine exemption, optionally limited to resources and to some projects."""

    exemption: Exemption
    resource: str = "*"
    projects: tuple[str, ...] = ()

    def matches(self, project: str, mutation: Mutation) -> bool:
        return (
            (not self.projects or project in self.projects)
            and fnmatch.fnmatchcase(mutation.resource, self.resource)
            and self.exemption.matches(mutation)
        )


def load_exemptions() -> list[ScopedExemption]:
    entries = yaml.safe_load(EXEMPTIONS_FILE.read_text(encoding="utf-8"))
    out = []
    for entry in entries:
        assert set(entry) <= {"type", "path", "kinds", "reason", "resource", "projects"}, entry
        assert len(entry["reason"]) > 20, entry
        unknown = set(entry.get("projects", ())) - set(PROJECTS)
        assert not unknown, f"unknown projects {unknown} in {entry}"
        out.append(
            ScopedExemption(
                Exemption(
                    type=entry["type"],
                    path=entry["path"],
                    kinds=tuple(entry["kinds"]),
                    reason=entry["reason"],
                ),
                resource=entry.get("resource", "*"),
                projects=tuple(entry.get("projects", ())),
            )
        )
    return out


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
    exemptions = load_exemptions()
    candidates = derive_mutations(run)
    exempted = [m for m in candidates if any(e.matches(name, m) for e in exemptions)]
    mutations = [m for m in candidates if m not in exempted]
    report = run_mutations(run, load_requirements(aws_project(name)), mutations)
    record_kill_rate(f"aws {name}", len(report.killed), report.total, len(exempted))
    assert report.total > 150  # derived, not hand-picked: every security input of the run
    survivors = [m.label for m in report.survived]
    assert not survivors, "weakenings no policy catches:\n" + "\n".join(survivors)


def test_every_exemption_is_used(aws_run: Callable[[str], MockRun]) -> None:
    """An exemption that matches nothing is stale (a renamed input): remove or fix it."""
    exemptions = load_exemptions()
    used: set[int] = set()
    for name in MUTATED_PROJECTS:
        for mutation in derive_mutations(aws_run(name)):
            used |= {i for i, e in enumerate(exemptions) if e.matches(name, mutation)}
    stale = [exemptions[i].exemption for i in range(len(exemptions)) if i not in used]
    assert not stale, stale
