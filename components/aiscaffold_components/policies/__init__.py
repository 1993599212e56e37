"""Policies that verify the catalog's controls, as pulumi-policy packs and offline.

Every policy is a small unit (see :mod:`._core`, which imports no pack; the registry
that gathers the packs is :mod:`._registry`): per cloud in ``aws/``, ``azure/``,
``gcp/`` (one module per service), and the cross-cloud ones in ``common.py``.

A generated project's ``policy/__main__.py`` builds its pack with
:func:`pulumi_policies` from ``policy/enforcement.yaml``; ``aiscaffold check`` runs the
same pulumi-policy objects against the resources of an offline run.
"""

from __future__ import annotations

from ._core import (
    REMINDER_ONLY,
    Level,
    NotApplicable,
    Override,
    Policy,
    Resource,
    ResourcePolicy,
    StackPolicy,
    base_type,
    resource_policy,
    stack_policy,
    to_pulumi,
)
from ._registry import Requirements, policies_for, pulumi_policies, registry
from ._stacks import stack_enforcement_file, stack_requirements

__all__ = [
    "REMINDER_ONLY",
    "Level",
    "NotApplicable",
    "Override",
    "Policy",
    "Requirements",
    "Resource",
    "ResourcePolicy",
    "StackPolicy",
    "base_type",
    "policies_for",
    "pulumi_policies",
    "registry",
    "resource_policy",
    "stack_enforcement_file",
    "stack_policy",
    "stack_requirements",
    "to_pulumi",
]
