"""URN snapshots: resources a project creates, kept so renames cannot slip through.

A renamed or re-parented Pulumi resource gets a new URN, and `pulumi up` replaces it —
for a key or a log bucket, data loss. ``missing_without_alias`` lists the URNs of a
snapshot that a run no longer creates and that no resource of the run aliases.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._harness import MockRun

__all__ = ["missing_without_alias", "urns"]


def urns(run: MockRun) -> list[str]:
    """Every resource URN of a run (components included), sorted."""
    return sorted(r.urn for r in run.resources)


def _urn_parts(urn: str) -> tuple[str, str]:
    """(type, name) of a URN: ``urn:pulumi:stack::project::parent$type::name``."""
    qualified, name = urn.split("::")[-2:]
    return qualified.split("$")[-1], name


def missing_without_alias(snapshot: Iterable[str], run: MockRun) -> list[str]:
    """URNs of ``snapshot`` that ``run`` neither creates nor aliases."""
    present = {r.urn for r in run.resources}
    aliased: set[str] = set()
    aliased_specs: set[tuple[str, str]] = set()
    for resource in run.resources:
        for alias in resource.aliases:
            if "urn" in alias:
                aliased.add(str(alias["urn"]))
            spec = alias.get("spec", alias)
            name = spec.get("name") or resource.name
            aliased_specs.add((str(spec.get("type") or resource.type), str(name)))
    return [
        urn
        for urn in snapshot
        if urn not in present and urn not in aliased and _urn_parts(urn) not in aliased_specs
    ]
