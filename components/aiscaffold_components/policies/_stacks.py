"""Which requirements a stack's policy pack enforces: one project, several stacks.

A project's ``policy/enforcement.yaml`` holds the requirements of the project's first
stack (the ``stack`` answer) and the team's overrides, which are project-wide. A stack
added with ``aiscaffold stack add`` has its own requirements (its data sensitivity and
frameworks select other enforcement levels) in ``policy/enforcement.<stack>.yaml``; an
``overrides:`` mapping there adds to (and, for the same policy id, replaces) the
project-wide ones. A stack without a file of its own (a one-stack project, or a stack
made with ``pulumi stack init`` alone) enforces ``enforcement.yaml``, as before.

The stack comes from the environment Pulumi gives the pack: the CLI starts a policy
pack with ``PULUMI_STACK`` (and ``PULUMI_PROJECT``) set, see ``constructEnv`` in
https://github.com/pulumi/pulumi/blob/master/sdk/go/common/resource/plugin/analyzer_plugin.go,
and pulumi-policy itself reads it (``PolicyPack._configure_runtime_settings``). It is
known when the pack is built, so every policy gets its level for that stack: a level
cannot change per resource (``EnforcementLevel`` is a property of the policy in the
pack, pulumi_policy/policy.py), which rules out choosing it from each resource's URN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ._registry import Requirements

__all__ = ["PROJECT_ENFORCEMENT", "stack_enforcement_file", "stack_requirements"]

PROJECT_ENFORCEMENT = "enforcement.yaml"


def stack_enforcement_file(stack: str) -> str:
    """The name of a stack's own enforcement file, next to ``enforcement.yaml``."""
    return f"enforcement.{stack}.yaml"


def _mapping(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a mapping")
    return data


def stack_requirements(policy_dir: Path, stack: str | None) -> Requirements:
    """The requirements the pack enforces for ``stack`` (see the module docstring).

    Raises:
        pydantic.ValidationError: a file holds an invalid value or overrides an unknown
            policy.
        ValueError / yaml.YAMLError: a file is not a YAML mapping.
        OSError: ``enforcement.yaml`` is missing.
    """
    project = _mapping(policy_dir / PROJECT_ENFORCEMENT)
    if stack:
        # A fully qualified name (org/project/stack, as `--stack` accepts) ends in it.
        stack = stack.rsplit("/", 1)[-1]
    own = policy_dir / stack_enforcement_file(stack) if stack else None
    if own is None or not own.is_file():
        return Requirements.model_validate(project)
    data = _mapping(own)
    overrides = {**(project.get("overrides") or {}), **(data.get("overrides") or {})}
    return Requirements.model_validate({**data, "overrides": overrides})
