"""The Jinja extension aiscaffold's template loads (``_jinja_extensions`` in copier.yml).

It gives copier.yml and the template files the rules and data that live in Python, so
they exist once: question defaults, choices and validation (:mod:`aiscaffold.answers`),
the profile derived through the control catalog, and pinned requirements. Functions
read the answers given so far from the render context.

Because copier treats Jinja extensions as unsafe, rendering needs ``--trust`` with
plain copier; ``aiscaffold new`` and ``aiscaffold update`` pass it themselves.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from jinja2 import Environment, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context

from . import __version__
from .answers import QUESTION_KEYS, Answers, choices_for, coerce_answers, default_for, problem
from .pins import aiscaffold_requirement, pinned

__all__ = ["AiscaffoldExtension"]


def _answers(context: Context) -> dict[str, Any]:
    return {key: context[key] for key in QUESTION_KEYS if key in context}


@pass_context
def _default(context: Context, key: str) -> str:
    value = default_for(key, _answers(context))
    return value if isinstance(value, str) else json.dumps(value)


@pass_context
def _choices(context: Context, key: str) -> str:
    return json.dumps(choices_for(key, _answers(context)) or [])


@pass_context
def _problem(context: Context, key: str) -> str:
    answers = _answers(context)
    return problem(key, answers.get(key), answers)


@pass_context
def _complete(context: Context) -> Answers:
    return Answers.model_validate(coerce_answers(_answers(context)))


@pass_context
def _stack_config(context: Context, namespace: str | None = None) -> str:
    config = _complete(context).profile().stack_config(namespace)
    return yaml.safe_dump({"config": config}, sort_keys=False, width=100)


@pass_context
def _requirements(context: Context) -> list[str]:
    cloud = context["cloud"]
    sdk = {"aws": "pulumi-aws", "azure": "pulumi-azure-native", "gcp": "pulumi-gcp"}[cloud]
    return [
        aiscaffold_requirement(cloud),
        *pinned("pulumi", sdk, "pulumi-policy", "pulumiverse-time"),
    ]


#: Policies that judge a log lock the first `pulumi up` must not apply (it cannot be
#: undone): until the second, explicit step they are advisory, by a visible exception.
LOCK_STEP_POLICIES: dict[str, tuple[str, ...]] = {
    "aws": ("AWS-S3-016",),
    "gcp": ("GCP-LOG-006", "GCP-LOG-010"),
}
LOCK_STEP_REASON = (
    "the logs are locked in a second, explicit step once the stack is right "
    "(`pulumi config set lock_log_archive true && pulumi up`, irreversible); "
    "delete this exception once they are locked"
)


def lock_overrides(cloud: str, immutable_logs: bool) -> str:
    """The ``overrides:`` block of a new project's ``policy/enforcement.yaml``."""
    ids = LOCK_STEP_POLICIES.get(cloud, ()) if immutable_logs else ()
    if not ids:
        return "overrides: {}\n"
    entries = {pid: {"level": "advisory", "reason": LOCK_STEP_REASON} for pid in ids}
    return yaml.safe_dump({"overrides": entries}, sort_keys=False, width=88)


@pass_context
def _lock_overrides(context: Context) -> str:
    answers = _complete(context)
    return lock_overrides(answers.cloud, answers.profile().immutable_logs)


class AiscaffoldExtension(Extension):
    """Adds ``aiscaffold_*`` globals to copier's Jinja environment."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals.update(
            aiscaffold_version=__version__,
            aiscaffold_default=_default,
            aiscaffold_choices=_choices,
            aiscaffold_problem=_problem,
            aiscaffold_answers=_complete,
            aiscaffold_stack_config=_stack_config,
            aiscaffold_requirements=_requirements,
            aiscaffold_pinned=pinned,
            aiscaffold_lock_overrides=_lock_overrides,
        )
