"""Shared checks of the liveness proof, run by each cloud's mutation test on its projects.

``credited_without_kill``: every policy COMPLIANCE.md credits on a project (it passed
and the proof found it live) has a kill that a *full* evaluation confirms, so the fast
engine (only affected policies re-evaluated) cannot credit what the pack would not
catch. ``unexempted_reads``: every input a policy reads is weakened by a mutation some
policy catches, or exempted (kind ``read``) with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aiscaffold.check import evaluate, load_requirements
from aiscaffold.liveness import MutationRun, run_all_mutations
from aiscaffold.testing import MockRun
from aiscaffold.testing.mutations import Exemption, Mutation, exemption_for, mutate


def proof_of(run: MockRun, project: Path) -> MutationRun:
    return run_all_mutations(run, load_requirements(project), exhaustive=True)


def credited_without_kill(run: MockRun, project: Path, tried: MutationRun) -> list[str]:
    """Credited policies whose first kill a full evaluation of the pack does not confirm."""
    requirements = load_requirements(project)
    report = evaluate(run, requirements)
    passed = set(report.passed)
    baseline = {(f.policy, f.urn, f.message) for f in report.violations}
    first: dict[str, Mutation] = {}
    for mutation, killers in tried.outcomes:
        for policy_id in killers:
            first.setdefault(policy_id, mutation)
    added = {p for a, killers in tried.additions for p in killers}
    problems = []
    for policy_id in sorted(passed):
        if policy_id in added and policy_id not in first:
            continue  # proven by a declared addition (checked by the unit tests)
        if policy_id not in first:
            continue  # not live: not credited (the matrix lists it under Not exercised)
        mutation = first[policy_id]
        resources = [mutate(r, mutation) if r.urn == mutation.urn else r for r in run.resources]
        mutated = MockRun(run.project, run.stack, run.config, resources, run.warnings, run.outputs)
        after = {(f.policy, f.urn, f.message) for f in evaluate(mutated, requirements).violations}
        if not any(p == policy_id for p, _, _ in after - baseline):
            problems.append(f"{policy_id}: {mutation.label} is not caught by a full evaluation")
    return problems


def unexempted_reads(
    tried: MutationRun, exemptions: Sequence[Exemption], project: str
) -> list[str]:
    """Inputs policies read that no caught mutation weakens and no ``read`` exemption covers."""
    out = []
    for resource, path in tried.uncovered_reads():
        probe = Mutation(resource.urn, resource.name, resource.type, path, "read")
        if exemption_for(probe, exemptions, tried.run, project) is None:
            out.append(f"{resource.type} {resource.name} {probe.dotted}")
    return out
