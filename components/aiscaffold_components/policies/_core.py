"""Policy units, enforcement requirements and the pulumi-policy adapter.

A policy is one small unit: a stable id (``AWS-KMS-001``), a title, a description (the
check's docstring), a severity, the resource types it reads, the catalog controls it
verifies, remediation steps and a pure check function. Framework clauses are never
written into a policy: they come from the controls in the catalog.

A resource check returns the violation messages (none: compliant) or raises
:class:`NotApplicable`. Reading a value that is unknown during ``pulumi preview``
raises pulumi-policy's ``UnknownValueError`` (props are pulumi-policy's
unknown-checking proxy, offline too), which the engine reports as advisory and the
offline check reports as "unknown".

This module holds the base types every pack imports; it imports no pack. The registry
that gathers the packs (``registry``, ``policies_for``, ``pulumi_policies`` and the
``Requirements`` that checks override ids against it) is :mod:`._registry`, so the
packs and this module do not import each other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field

from ..catalog import Cloud, FrameworkId, Sensitivity, load_catalog
from ..profile import derive_settings

if TYPE_CHECKING:
    from pulumi_policy import Policy as PulumiPolicy

__all__ = [
    "REMINDER_ONLY",
    "Addition",
    "Level",
    "NotApplicable",
    "Override",
    "Policy",
    "Requirements",
    "Resource",
    "ResourcePolicy",
    "StackPolicy",
    "base_type",
    "resource_policy",
    "stack_policy",
    "to_pulumi",
]

Severity = Literal["low", "medium", "high", "critical"]
Level = Literal["mandatory", "advisory", "disabled"]


class NotApplicable(Exception):
    """The policy does not apply to this resource (reason in the message)."""


#: The start of a secret-rotation policy's not-applicable reason when nothing rotates the
#: values and the owners are only reminded (AWS-SECRETS-004, AZURE-SECRETS-001,
#: GCP-SECRETS-003): never credited, never a violation; reports render it "reminder only".
REMINDER_ONLY = "reminder only"


@dataclass(frozen=True)
class Resource:
    """What a check sees of one resource: its type, name, inputs and options."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    parent: str | None = None
    provider_props: Mapping[str, Any] = field(default_factory=dict)
    """Properties of the resource's provider (region, project...), when known."""
    dependencies: tuple[str, ...] = ()
    """URNs the resource depends on (explicit ``depends_on`` and inputs read from other
    resources), when known: deploy rules check ordering with them."""

    def get(self, *path: str | int, default: Any = None) -> Any:
        """The value at ``path`` in the props, or ``default`` when absent.

        Raises pulumi-policy's UnknownValueError when a value on the path is unknown.
        """
        value: Any = self.props
        for key in path:
            if isinstance(key, int):
                if not isinstance(value, Sequence) or isinstance(value, str) or key >= len(value):
                    return default
                value = value[key]
            else:
                if not isinstance(value, Mapping) or key not in value:
                    return default
                value = value[key]
            if value is None:
                return default
        return value

    def items(self, *path: str) -> list[Any]:
        """The list at ``path`` (an absent value is an empty list)."""
        value = self.get(*path, default=[])
        if isinstance(value, (Mapping, str)):
            return [value]
        return list(value)

    def json(self, *path: str) -> Any:
        """A JSON document held as a string at ``path`` (None when absent)."""
        raw = self.get(*path)
        if raw is None:
            return None
        if isinstance(raw, str):
            return json.loads(raw)
        return raw


@dataclass(frozen=True)
class _EngineResource(Resource):
    """A Resource over what the policy engine gives: its ``protect`` option is read from
    the engine's options when a check reads it, not before, so an evaluation that records
    what a policy reads (``aiscaffold check``) sees the options it judged."""

    options: Any = None
    """The engine's ``PolicyResourceOptions``."""

    def __getattribute__(self, name: str) -> Any:
        if name == "protect":
            options = object.__getattribute__(self, "options")
            if options is not None:
                return bool(options.protect)
        return object.__getattribute__(self, name)


@dataclass(frozen=True)
class Addition:
    """A declared weakening that adds what a policy forbids, kept next to the policy.

    Policies that check for something being absent (no internet gateway, no NAT, no
    orphan key) cannot be weakened by changing an input the stack sets: the mutation
    engine proves them live on a project by adding the forbidden thing and seeing the
    policy report it (``live_when`` of :func:`resource_policy` / :func:`stack_policy`).
    One of three forms:

    - a new resource of ``type`` with ``inputs`` (``path`` unset);
    - ``entry`` appended to the list input at ``path`` of each resource of ``type`` (a
      rule in an adopted default security group, a route);
    - ``value`` set at ``path`` of each resource of ``type`` that has that input (a
      value the SDK types as a free string, so no enum names it: a Global SKU).
    """

    type: str
    why: str
    """What is added, as the kill report shows it (``a NAT gateway``)."""
    name: str = "liveness-added"
    inputs: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None
    """A dotted input path of each resource of ``type``, for ``entry`` or ``value``."""
    entry: Any = None
    value: Any = None

    def __post_init__(self) -> None:
        if self.path is None and (self.entry is not None or self.value is not None):
            raise ValueError(f"{self.why}: an entry or a value needs the path it goes to")
        if self.path is not None and (self.entry is None) == (self.value is None):
            raise ValueError(f"{self.why}: give either the entry to append or the value to set")

    @property
    def label(self) -> str:
        return f"{self.type} {self.name} (add: {self.why})"


ResourceCheck = Callable[[Resource, "Requirements"], Iterable[str]]
StackCheck = Callable[[Sequence[Resource], "Requirements"], Iterable[tuple[Resource | None, str]]]


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    description: str
    severity: Severity
    controls: tuple[str, ...]
    remediation: str
    live_when: tuple[Addition, ...] = ()
    """Declared weakenings that prove an absence check live (see :class:`Addition`)."""
    advisory_when: Callable[[Requirements], str | None] | None = None
    """Answers under which the policy's findings cannot block, with the reason (e.g. a GCP
    project without ``billing_account`` can have no budget). The finding still shows, so
    the control is not credited: only blocking is waived."""

    @property
    def cloud(self) -> str:
        return self.id.split("-", 1)[0].lower()

    def clauses(self, frameworks: Sequence[FrameworkId] | None = None) -> dict[str, list[str]]:
        """Framework clauses this policy helps verify, through its controls."""
        catalog = load_catalog()
        out: dict[str, list[str]] = {}
        for control_id in self.controls:
            for fw, clauses in catalog.control(control_id).frameworks.items():
                if frameworks is None or fw in frameworks:
                    bucket = out.setdefault(fw, [])
                    bucket.extend(c for c in clauses if c not in bucket)
        return out

    def level(self, requirements: Requirements) -> Level:
        """Mandatory when a control it verifies is; an override in the project wins."""
        override = requirements.overrides.get(self.id)
        if override is not None:
            return override.level
        if self.advisory_when is not None and self.advisory_when(requirements):
            return "advisory"
        catalog = load_catalog()
        mandatory = any(
            catalog.is_mandatory(
                catalog.control(c), requirements.data_sensitivity, requirements.compliance
            )
            for c in self.controls
        )
        return "mandatory" if mandatory else "advisory"


_API_VERSION = re.compile(r"/v\d{8}(preview)?(?=:)")


def base_type(token: str) -> str:
    """A type token without its API version (azure-native's versioned modules):
    ``azure-native:storage/v20230101:StorageAccount`` -> ``azure-native:storage:StorageAccount``."""
    return _API_VERSION.sub("", token)


@dataclass(frozen=True)
class ResourcePolicy(Policy):
    resource_types: tuple[str, ...] = ()
    check: ResourceCheck | None = None

    def applies_to(self, type_token: str) -> bool:
        """Whether resources of ``type_token`` (any API version) are checked."""
        return base_type(type_token) in self.resource_types

    def evaluate(self, resource: Resource, requirements: Requirements) -> list[str]:
        assert self.check is not None
        return list(self.check(resource, requirements))


@dataclass(frozen=True)
class StackPolicy(Policy):
    check_stack: StackCheck | None = None

    def evaluate(
        self, resources: Sequence[Resource], requirements: Requirements
    ) -> list[tuple[Resource | None, str]]:
        assert self.check_stack is not None
        return list(self.check_stack(resources, requirements))


_REGISTRY: dict[str, Policy] = {}
"""Every declared policy by id, filled as the packs are imported (see :mod:`._registry`)."""


def _register(policy: Policy) -> None:
    if policy.id in _REGISTRY:
        raise ValueError(f"policy id {policy.id} is defined twice")
    catalog = load_catalog()
    for control in policy.controls:
        catalog.control(control)  # KeyError for a control the catalog does not know
    _REGISTRY[policy.id] = policy


def _doc(fn: Callable[..., Any]) -> str:
    return " ".join((fn.__doc__ or "").split())


def no_budget_chosen(requirements: Requirements) -> str | None:
    """``advisory_when`` of the COST-01 policies: a project that chose no budget
    (``monthly_budget`` 0, allowed for public and internal data only) is told so, never
    blocked."""
    if requirements.monthly_budget == 0:
        return "no budget chosen (monthly_budget 0, allowed for public and internal data)"
    return None


def gateway_chosen(requirements: Requirements) -> str:
    """The gateway the project chose (``private`` or ``public``), for the API-01..05
    policies; raises NotApplicable without one (``api_gateway`` none: no front door is
    generated and the workload is reached only inside the network)."""
    if requirements.api_gateway == "none":
        raise NotApplicable("no gateway chosen (api_gateway none)")
    return requirements.api_gateway


def resource_policy(
    *,
    id: str,
    title: str,
    severity: Severity,
    types: Sequence[str],
    controls: Sequence[str],
    remediation: str,
    live_when: Sequence[Addition] = (),
    advisory_when: Callable[[Requirements], str | None] | None = None,
) -> Callable[[ResourceCheck], ResourcePolicy]:
    """Declare a resource policy; the decorated check's docstring is its description.

    ``live_when``: the declared additions that prove an absence check live (what it
    forbids, added to a project's resources, must make it report a violation).
    ``advisory_when``: returns the reason the policy cannot block under these answers
    (None when it can); its findings then stay advisory (still shown, never credited).
    """

    def register(check: ResourceCheck) -> ResourcePolicy:
        policy = ResourcePolicy(
            id=id,
            title=title,
            description=_doc(check),
            severity=severity,
            controls=tuple(controls),
            remediation=remediation,
            live_when=tuple(live_when),
            advisory_when=advisory_when,
            resource_types=tuple(types),
            check=check,
        )
        _register(policy)
        return policy

    return register


def stack_policy(
    *,
    id: str,
    title: str,
    severity: Severity,
    controls: Sequence[str],
    remediation: str,
    live_when: Sequence[Addition] = (),
    advisory_when: Callable[[Requirements], str | None] | None = None,
) -> Callable[[StackCheck], StackPolicy]:
    """Declare a stack policy (sees every resource at once); ``live_when`` and
    ``advisory_when`` as for :func:`resource_policy`."""

    def register(check: StackCheck) -> StackPolicy:
        policy = StackPolicy(
            id=id,
            title=title,
            description=_doc(check),
            severity=severity,
            controls=tuple(controls),
            remediation=remediation,
            live_when=tuple(live_when),
            advisory_when=advisory_when,
            check_stack=check,
        )
        _register(policy)
        return policy

    return register


class Override(BaseModel):
    """A project's explicit decision to enforce one policy differently."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    level: Level
    reason: str = Field(min_length=10)


class Requirements(BaseModel):
    """What a project's answers demand: the input of the policy pack.

    Read from the generated project's ``policy/enforcement.yaml``; the settings (minimum
    log retention, immutable logs, allowed regions...) derive from the sensitivity and
    frameworks through the catalog, so they cannot drift from it.

    This is the type the checks read. Projects load the public
    ``aiscaffold_components.policies.Requirements`` (:mod:`._registry`), which also
    refuses overrides naming a policy no pack declares.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    cloud: Cloud
    data_sensitivity: Sensitivity
    compliance: tuple[FrameworkId, ...] = ()
    ai_service: str
    allow_internet_egress: bool = False
    guardrail_denied_topics: tuple[str, ...] = ()
    pii_action: Literal["block", "anonymize"] = "block"
    account_services: Literal["this-stack", "shared"] = "this-stack"
    """Account-level singletons owned by this stack, or by another stack / a central
    team (this stack then creates none: their policies are not applicable here)."""
    gcp_org_policies: bool = False
    """GCP: the project creates its organization policies (else the organization's
    administrators own them: their policies are not applicable here)."""
    alert_emails: tuple[str, ...] = ()
    """Addresses the alert channel must deliver to (DET-02)."""
    monthly_budget: int = 1000
    """Expected monthly spend (COST-01); 0: no budget (public or internal data only)."""
    billing_account: str = ""
    """GCP: the billing account a budget attaches to; empty: none can be created."""
    api_gateway: Literal["none", "private", "public"] = "none"
    """The front door (API-01..05): none, a private gateway, or a public one behind a
    web application firewall (the explicit, named internet exposure)."""
    workloads: tuple[Literal["inference", "training", "data-processing"], ...] = ("inference",)
    """Workload types with their own identity, segment and data stores (IAM-05, NET-07,
    GOV-07)."""
    dr_region: str = ""
    """The recovery region the curated data and model artifacts replicate to (REC-01);
    empty: no replica (a finding for restricted data, advisory)."""
    overrides: dict[str, Override] = Field(default_factory=dict)

    @property
    def settings(self) -> dict[str, Any]:
        return derive_settings(
            cloud=self.cloud, data_sensitivity=self.data_sensitivity, compliance=self.compliance
        )

    def setting(self, name: str) -> Any:
        return self.settings[name]

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read ``policy/enforcement.yaml``."""
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls.model_validate(data)


def _framework(policy: Policy, requirements: Requirements) -> Any:
    from pulumi_policy import PolicyComplianceFramework

    chosen = requirements.compliance or None
    clauses = policy.clauses(chosen) or policy.clauses()
    catalog = load_catalog()
    names = [catalog.frameworks[fw].title for fw in clauses]  # type: ignore[index]
    return PolicyComplianceFramework(
        name=", ".join(names) or "aiscaffold control catalog",
        version="aiscaffold catalog",
        reference=", ".join(policy.controls),
        specification="; ".join(f"{fw} {', '.join(cl)}" for fw, cl in clauses.items()),
    )


def to_pulumi(policy: Policy, requirements: Requirements) -> PulumiPolicy:
    """The pulumi-policy object of ``policy`` for this project."""
    from pulumi_policy import (
        EnforcementLevel,
        ResourceValidationArgs,
        ResourceValidationPolicy,
        Severity,
        StackValidationArgs,
        StackValidationPolicy,
    )

    common: dict[str, Any] = {
        "name": policy.id,
        "description": f"{policy.title}. {policy.description}".strip(),
        "display_name": policy.title,
        "enforcement_level": EnforcementLevel(policy.level(requirements)),
        "severity": Severity(policy.severity),
        "framework": _framework(policy, requirements),
        "tags": ["aiscaffold", *policy.controls],
        "remediation_steps": policy.remediation,
    }
    if isinstance(policy, ResourcePolicy):

        def validate(args: ResourceValidationArgs, report_violation: Callable[..., None]) -> None:
            if not policy.applies_to(args.resource_type):
                return
            provider = args.provider
            resource = _EngineResource(
                type=base_type(args.resource_type),
                name=args.name,
                urn=args.urn,
                props=args.props,
                parent=args.opts.parent if args.opts else None,
                provider_props=provider.props if provider is not None else {},
                options=args.opts,
            )
            try:
                messages = policy.evaluate(resource, requirements)
            except NotApplicable as reason:
                args.not_applicable(str(reason) or None)
                return
            for message in messages:
                report_violation(message, None)

        return ResourceValidationPolicy(validate=validate, **common)

    assert isinstance(policy, StackPolicy)

    def validate_stack(args: StackValidationArgs, report_violation: Callable[..., None]) -> None:
        resources = [
            _EngineResource(
                type=base_type(r.resource_type),
                name=r.name,
                urn=r.urn,
                props=r.props,
                parent=r.parent.urn if r.parent is not None else None,
                provider_props=r.provider.props if r.provider is not None else {},
                # What the engine knows resources depend on (inputs read from another
                # resource, explicit depends_on): AWS-KMS-007 judges use by it.
                dependencies=tuple(d.urn for d in r.dependencies or ()),
                options=r.opts,
            )
            for r in args.resources
        ]
        try:
            findings = policy.evaluate(resources, requirements)
        except NotApplicable as reason:
            args.not_applicable(str(reason) or None)
            return
        for resource, message in findings:
            report_violation(message, resource.urn if resource is not None else None)

    return StackValidationPolicy(validate=validate_stack, **common)
