"""The registry that gathers the policy packs, and what needs every policy at once.

The packs (``aws``, ``azure``, ``gcp``, ``common``) import the base types of
:mod:`._core` and register their policies as they are imported; this module imports
the packs. Nothing imports it back, so the graph has no cycle: importing ``_core`` (as
every pack and deploy rule does) loads no pack.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import field_validator

from ..catalog import Cloud
from . import _core
from ._core import Override, Policy, to_pulumi

if TYPE_CHECKING:
    from pulumi_policy import Policy as PulumiPolicy

__all__ = ["Requirements", "policies_for", "pulumi_policies", "registry"]

#: The packs, imported on the first call of :func:`registry` (importing registers).
PACKS = ("aws", "azure", "common", "gcp")


def registry(cloud: Cloud | None = None) -> list[Policy]:
    """Every registered policy (of one cloud), in id order."""
    for pack in PACKS:
        importlib.import_module(f"{__package__}.{pack}")
    policies = sorted(_core._REGISTRY.values(), key=lambda p: p.id)
    if cloud is None:
        return policies
    prefixes = {cloud.upper(), "ALL"}
    return [p for p in policies if p.id.split("-", 1)[0] in prefixes]


class Requirements(_core.Requirements):
    """What a project's answers demand (see :class:`._core.Requirements`), with every
    override naming a policy some pack declares: an override of a misspelled id would
    silently enforce nothing."""

    @field_validator("overrides")
    @classmethod
    def _known_policies(cls, value: dict[str, Override]) -> dict[str, Override]:
        known = {p.id for p in registry()}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"overrides name unknown policies: {', '.join(unknown)}")
        return value


def policies_for(requirements: _core.Requirements) -> Iterator[Policy]:
    """The policies of the project's cloud, except those it disabled."""
    for policy in registry(requirements.cloud):
        if policy.level(requirements) != "disabled":
            yield policy


def pulumi_policies(requirements: _core.Requirements) -> list[PulumiPolicy]:
    """The project's policy pack content: every enabled policy, at its level."""
    return [to_pulumi(policy, requirements) for policy in policies_for(requirements)]
