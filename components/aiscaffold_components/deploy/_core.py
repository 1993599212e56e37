"""The deploy-rule unit, its registry and its evaluation over a mock run.

A rule is one cloud constraint: a stable id (``AZURE-DEPLOY-002``), a title, a
category, the source that documents it (a URL), the error the cloud returns when it is
broken, the resource types it reads, and a pure check. A resource check sees one
resource and yields messages; a stack check (``types=()``) sees every resource and
yields ``(resource or None, message)`` pairs. Values a rule compares against (allowed
retention days, lifecycle dates...) are module-level data beside the rule, with their
source, never literals buried in the check.

A rule reads the same :class:`~aiscaffold_components.policies.Resource` view as the
policies, plus a :class:`DeployContext`: the cloud, the region and the stack config,
because some constraints depend on what the deployer chose (``lock_log_archive``,
``account_services``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..catalog import Cloud
from ..policies._core import NotApplicable, Resource, base_type

__all__ = [
    "CATEGORY_TITLES",
    "Category",
    "DeployContext",
    "DeployRule",
    "RuleFinding",
    "depends_on",
    "deploy_rule",
    "deploy_rules",
    "evaluate_rules",
]

Category = Literal["deploy-failure", "irreversible", "account-wide", "lifecycle"]

#: How each category is shown, and whether its findings block like a mandatory policy.
CATEGORY_TITLES: dict[Category, str] = {
    "deploy-failure": "would fail at deploy",
    "irreversible": "irreversible",
    "account-wide": "account-wide",
    "lifecycle": "deprecated by the cloud",
}
BLOCKING: frozenset[Category] = frozenset({"deploy-failure"})


@dataclass(frozen=True)
class DeployContext:
    """What a rule may know besides the resources: cloud, region and stack config.

    ``config`` maps the stack's config keys without their namespace
    (``lock_log_archive``, ``account_services``, ``region``...) to their values.
    """

    cloud: Cloud
    region: str
    config: Mapping[str, Any] = field(default_factory=dict)

    def flag(self, key: str) -> bool:
        """A boolean stack setting (``true``/``false`` strings too); absent is false."""
        value = self.config.get(key)
        if isinstance(value, str):
            return value.strip().lower() == "true"
        return bool(value)


def depends_on(resource: Resource, by_urn: Mapping[str, Resource]) -> set[str]:
    """URNs ``resource`` depends on, directly or through other resources of the stack
    (ordering rules: a wait must stand between a grant and what needs it)."""
    seen: set[str] = set()
    todo = list(resource.dependencies)
    while todo:
        urn = todo.pop()
        if urn in seen:
            continue
        seen.add(urn)
        found = by_urn.get(urn)
        if found is not None:
            todo.extend(found.dependencies)
    return seen


ResourceRuleCheck = Callable[[Resource, DeployContext], Iterable[str]]
StackRuleCheck = Callable[
    [Sequence[Resource], DeployContext], Iterable[tuple[Resource | None, str]]
]


@dataclass(frozen=True)
class DeployRule:
    id: str
    title: str
    description: str
    category: Category
    source: str
    """URL of the documentation or public issue that states the constraint."""
    error: str
    """What the cloud answers when it is broken (the error code or message)."""
    remediation: str
    types: tuple[str, ...] = ()
    """Resource types checked one by one; empty: a stack rule."""
    check: ResourceRuleCheck | None = None
    check_stack: StackRuleCheck | None = None

    @property
    def cloud(self) -> str:
        return self.id.split("-", 1)[0].lower()

    @property
    def blocking(self) -> bool:
        return self.category in BLOCKING

    def evaluate(
        self, resources: Sequence[Resource], context: DeployContext
    ) -> list[tuple[Resource | None, str]]:
        """Every (resource, message) this rule reports; ``NotApplicable`` is silence."""
        found: list[tuple[Resource | None, str]] = []
        if self.check is not None:
            for resource in resources:
                if base_type(resource.type) not in self.types:
                    continue
                try:
                    found.extend((resource, message) for message in self.check(resource, context))
                except NotApplicable:
                    continue
        elif self.check_stack is not None:
            with contextlib.suppress(NotApplicable):
                found.extend(self.check_stack(resources, context))
        return found


_REGISTRY: dict[str, DeployRule] = {}
_ID = r"^(AWS|AZURE|GCP|ALL)-DEPLOY-\d{3}$"


def _register(rule: DeployRule) -> None:
    import re

    if not re.match(_ID, rule.id):
        raise ValueError(f"deploy rule id {rule.id!r} is not <CLOUD>-DEPLOY-<nnn>")
    if rule.id in _REGISTRY:
        raise ValueError(f"deploy rule id {rule.id} is defined twice")
    if not rule.source.startswith("https://"):
        raise ValueError(f"deploy rule {rule.id} needs its source as an https URL")
    if not rule.error.strip():
        raise ValueError(f"deploy rule {rule.id} needs the error the cloud returns")
    _REGISTRY[rule.id] = rule


def deploy_rule(
    *,
    id: str,
    title: str,
    category: Category,
    source: str,
    error: str,
    remediation: str,
    types: Sequence[str] = (),
) -> Callable[[Callable[..., Any]], DeployRule]:
    """Declare a deploy rule; the decorated check's docstring is its description.

    With ``types``, the check is called per resource of those types as
    ``check(resource, context) -> Iterable[str]``; without, once with every resource as
    ``check(resources, context) -> Iterable[tuple[Resource | None, str]]``.
    """

    def register(check: Callable[..., Any]) -> DeployRule:
        rule = DeployRule(
            id=id,
            title=title,
            description=" ".join((check.__doc__ or "").split()),
            category=category,
            source=source,
            error=error,
            remediation=remediation,
            types=tuple(types),
            check=check if types else None,
            check_stack=None if types else check,
        )
        _register(rule)
        return rule

    return register


def deploy_rules(cloud: Cloud | None = None) -> list[DeployRule]:
    """Every registered deploy rule (of one cloud, with the cross-cloud ones), by id."""
    from . import aws, azure, common, gcp  # noqa: F401 - importing registers

    rules = sorted(_REGISTRY.values(), key=lambda r: r.id)
    if cloud is None:
        return rules
    prefixes = {cloud.upper(), "ALL"}
    return [r for r in rules if r.id.split("-", 1)[0] in prefixes]


@dataclass(frozen=True)
class RuleFinding:
    rule: DeployRule
    resource: Resource | None
    message: str
    outcome: Literal["violation", "unknown"] = "violation"


def evaluate_rules(
    resources: Sequence[Resource], context: DeployContext
) -> tuple[list[RuleFinding], int]:
    """Evaluate the cloud's rules; returns the findings and how many rules ran.

    A rule that reads a value unknown offline reports ``unknown`` (not a pass).
    """
    from pulumi_policy.proxy import UnknownValueError

    findings: list[RuleFinding] = []
    rules = deploy_rules(context.cloud)
    for rule in rules:
        try:
            reported = rule.evaluate(resources, context)
        except UnknownValueError as exc:
            findings.append(RuleFinding(rule, None, exc.message, "unknown"))
            continue
        findings.extend(RuleFinding(rule, r, m) for r, m in reported)
    return findings, len(rules)
