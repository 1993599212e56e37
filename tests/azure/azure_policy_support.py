"""Helpers of the Azure policy tests: one policy at a time on a patched mock run.

``verdicts(run, policy_id, patches, **answers)`` evaluates a single policy (every other
policy disabled through the project's override mechanism) on the run's resources with
``patches`` applied, through ``aiscaffold.check.evaluate`` and so through pulumi-policy's
own types, and returns the names of the flagged resources and of those reported unknown.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from aiscaffold.check import CheckReport, evaluate
from aiscaffold.testing import CapturedResource, MockRun, run_program
from aiscaffold_components.policies import Requirements, registry

#: Answers of the project the policy tests start from: the defaults (confidential data,
#: no framework) plus a denied topic, run with one application secret.
ANSWERS: dict[str, Any] = {
    "cloud": "azure",
    "project_name": "az-policies",
    "guardrail_denied_topics": ["investment advice"],
}
SECRET_CONFIG = {
    "app_secrets": {"search-api-key": "2025-01-31"},
    "secret-search-api-key": "s3cret-value",
}
_RUNS: dict[str, MockRun] = {}


def base_run(render_project: Any) -> MockRun:
    """The generated default Azure project (with a denied topic and a secret) under
    mocks, once per session: every policy passes on it."""
    if "base" not in _RUNS:
        _RUNS["base"] = run_program(render_project(**ANSWERS), config=SECRET_CONFIG)
    return _RUNS["base"]


DROP = object()
"""Patch value that removes the key."""

STACK = "(stack)"
"""Name of a finding that names no resource."""

Patches = Mapping[str, Mapping[str, Any]]


def reqs(only: str | None = None, **answers: Any) -> Requirements:
    """Requirements of the base project (confidential, no framework) unless overridden; with
    ``only``, every other Azure policy is disabled."""
    values: dict[str, Any] = {
        "cloud": "azure",
        "data_sensitivity": "confidential",
        "compliance": [],
        "ai_service": "openai",
        "guardrail_denied_topics": ANSWERS["guardrail_denied_topics"],
    }
    values.update(answers)
    if only is not None:
        values["overrides"] = {
            p.id: {"level": "disabled", "reason": "tested one policy at a time"}
            for p in registry("azure")
            if p.id != only
        }
    return Requirements.model_validate(values)


def patch(inputs: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``inputs`` with dotted paths set, or removed with :data:`DROP`.

    A numeric segment indexes a list; missing mappings on the way are created.
    """
    out: dict[str, Any] = copy.deepcopy(dict(inputs))
    for dotted, value in changes.items():
        keys: list[str | int] = [int(k) if k.isdigit() else k for k in dotted.split(".")]
        parent: Any = out
        for key in keys[:-1]:
            parent = parent[key] if isinstance(key, int) else parent.setdefault(key, {})
        last = keys[-1]
        if value is DROP:
            if isinstance(last, int) or last in parent:
                parent.pop(last)
        else:
            parent[last] = copy.deepcopy(value)
    return out


def patched(
    run: MockRun,
    patches: Patches = {},  # noqa: B006 - read only
    *,
    drop: Sequence[str] = (),
    add: Sequence[CapturedResource] = (),
) -> MockRun:
    """A copy of ``run`` with resources patched by name, ``drop`` removed, ``add`` added."""
    names = {r.name for r in run.resources}
    unknown = (set(patches) | set(drop)) - names
    assert not unknown, f"no such resources: {sorted(unknown)}"
    resources = [
        dataclasses.replace(r, inputs=patch(r.inputs, patches[r.name])) if r.name in patches else r
        for r in run.resources
        if r.name not in drop
    ]
    resources.extend(add)
    return MockRun(run.project, run.stack, run.config, resources, run.warnings, run.outputs)


def report(
    run: MockRun,
    policy_id: str,
    patches: Patches = {},  # noqa: B006 - read only
    *,
    drop: Sequence[str] = (),
    add: Sequence[CapturedResource] = (),
    **answers: Any,
) -> CheckReport:
    """The check of the patched run, its policy findings only: a patch that breaks a
    control may also break what Azure accepts, which the deploy rules report (they are
    tested in test_azure_deploy.py)."""
    result = evaluate(patched(run, patches, drop=drop, add=add), reqs(policy_id, **answers))
    result.findings = [f for f in result.findings if f.category == "policy"]
    return result


def flagged(
    run: MockRun,
    policy_id: str,
    patches: Patches = {},  # noqa: B006 - read only
    *,
    drop: Sequence[str] = (),
    add: Sequence[CapturedResource] = (),
    **answers: Any,
) -> set[str]:
    """Names of the resources ``policy_id`` flags ("(stack)" for the stack)."""
    result = report(run, policy_id, patches, drop=drop, add=add, **answers)
    assert all(f.policy == policy_id for f in result.findings)
    assert not result.unknown, [f.message for f in result.unknown]
    return {f.resource for f in result.violations}


def unknown(
    run: MockRun,
    policy_id: str,
    patches: Patches,
    *,
    add: Sequence[CapturedResource] = (),
    **answers: Any,
) -> set[str]:
    """Names of the resources the policy reports unknown ("(stack)" for the stack), after
    checking it reports no violation on the patched resources or the stack."""
    result = report(run, policy_id, patches, add=add, **answers)
    wrong = [f for f in result.violations if f.resource in {*patches, STACK}]
    assert not wrong, [f.message for f in wrong]
    return {f.resource for f in result.unknown}


def resource(type_: str, name: str, inputs: Mapping[str, Any]) -> CapturedResource:
    """A custom resource with engine inputs (camelCase), parentless."""
    return CapturedResource(
        type=type_,
        name=name,
        urn=f"urn:pulumi:dev::proj::{type_}::{name}",
        parent=None,
        custom=True,
        inputs=copy.deepcopy(dict(inputs)),
        outputs={},
    )


def copy_of(run: MockRun, name: str, new_name: str, changes: Mapping[str, Any]) -> CapturedResource:
    """A renamed copy of the run's resource ``name`` with ``changes`` patched in."""
    original = next(r for r in run.resources if r.name == name)
    return dataclasses.replace(
        original,
        name=new_name,
        urn=original.urn.rsplit("::", 1)[0] + f"::{new_name}",
        inputs=patch(original.inputs, changes),
    )
