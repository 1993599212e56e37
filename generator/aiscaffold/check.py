"""The offline check: run a project's program under mocks, evaluate its policy pack.

The pack's policies are the same pulumi-policy objects ``pulumi preview --policy-pack``
loads; they are called here with pulumi-policy's own argument types
(``ResourceValidationArgs``, ``StackValidationArgs``) and with props wrapped in its
unknown-checking proxy, as the policy analyzer does. Resources on the default provider
get that provider's properties from the stack config (``aws:region``...), as the engine
gives them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiscaffold_components.policies import (
    Policy,
    Requirements,
    ResourcePolicy,
    StackPolicy,
    policies_for,
    to_pulumi,
)

from .errors import AiscaffoldError, ProjectError
from .testing import CapturedResource, MockRun, ProgramError, ProjectFileError, run_program

__all__ = [
    "CheckReport",
    "Finding",
    "ProgramFailed",
    "check_project",
    "evaluate",
    "load_requirements",
]

Outcome = Literal["violation", "unknown"]
SEVERITY_ORDER = ("critical", "high", "medium", "low")

_PROVIDER_NAMESPACES = {"aws": "aws", "azure-native": "azure-native", "gcp": "gcp"}


class ProgramFailed(AiscaffoldError, RuntimeError):
    """The project's program raised under mocks (exit 2, with the program's error)."""


@dataclass(frozen=True)
class Finding:
    """One policy's verdict on one resource (or on the stack)."""

    policy: str
    title: str
    resource: str
    urn: str
    type: str
    level: str
    severity: str
    controls: tuple[str, ...]
    frameworks: dict[str, list[str]]
    message: str
    remediation: str
    outcome: Outcome = "violation"


@dataclass
class CheckReport:
    project: str
    stack: str
    resources: int
    policies: int
    findings: list[Finding] = field(default_factory=list)
    evaluations: int = 0
    not_applicable: int = 0
    policy_objects: list[Policy] = field(default_factory=list)
    anchors: dict[str, str] = field(default_factory=dict)
    """Resource URN -> name of its top-level component (to locate it in __main__.py)."""
    checked: set[str] = field(default_factory=set)
    """Ids of the policies that reached a verdict on something: a resource they apply to
    (not "not applicable", not unknown), or the stack."""

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.outcome == "violation"]

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.violations if f.level == "mandatory"]

    @property
    def unknown(self) -> list[Finding]:
        return [f for f in self.findings if f.outcome == "unknown"]


def _provider_props(
    resource: CapturedResource, run: MockRun, by_urn: Mapping[str, CapturedResource]
) -> dict[str, Any]:
    """Properties of the provider a resource uses: explicit provider or stack config."""
    if resource.provider:
        urn = resource.provider.rsplit("::", 1)[0]
        explicit = by_urn.get(urn)
        if explicit is not None:
            return dict(explicit.inputs)
    package = resource.type.split(":", 1)[0]
    namespace = _PROVIDER_NAMESPACES.get(package)
    if namespace is None:
        return {}
    return {
        key.split(":", 1)[1]: value
        for key, value in run.config.items()
        if key.startswith(f"{namespace}:")
    }


def _policy_inputs(
    resource: CapturedResource, run: MockRun, by_urn: Mapping[str, CapturedResource]
) -> dict[str, Any]:
    from pulumi_policy import PolicyCustomTimeouts, PolicyProviderResource, PolicyResourceOptions
    from pulumi_policy.proxy import unknown_checking_proxy

    opts = PolicyResourceOptions(
        protect=resource.protect,
        ignore_changes=list(resource.ignore_changes),
        delete_before_replace=resource.delete_before_replace,
        aliases=[str(a.get("urn") or a.get("name") or a) for a in resource.aliases],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=resource.parent,
    )
    package = resource.type.split(":", 1)[0]
    provider = PolicyProviderResource(
        resource_type=f"pulumi:providers:{package}",
        props=_provider_props(resource, run, by_urn),
        urn=resource.provider
        or f"urn:pulumi:{run.stack}::{run.project}::pulumi:providers:{package}::default",
        name="default",
    )
    return {
        "props": unknown_checking_proxy(copy.deepcopy(resource.inputs)),
        "opts": opts,
        "provider": provider,
    }


def _finding(
    policy: Policy,
    requirements: Requirements,
    resource: CapturedResource | None,
    message: str,
    outcome: Outcome = "violation",
) -> Finding:
    return Finding(
        policy=policy.id,
        title=policy.title,
        resource=resource.name if resource else "(stack)",
        urn=resource.urn if resource else "",
        type=resource.type if resource else "pulumi:pulumi:Stack",
        level=policy.level(requirements),
        severity=policy.severity,
        controls=policy.controls,
        frameworks=policy.clauses(requirements.compliance or None),
        message=message,
        remediation=policy.remediation,
        outcome=outcome,
    )


def evaluate(run: MockRun, requirements: Requirements) -> CheckReport:
    """Evaluate the project's policies on the resources of a mock run."""
    from pulumi_policy import (
        PolicyResource,
        ResourceValidationArgs,
        ResourceValidationPolicy,
        StackValidationArgs,
        StackValidationPolicy,
    )
    from pulumi_policy.policy import _NotApplicableError  # pulumi-policy's own signal
    from pulumi_policy.proxy import UnknownValueError

    policies = list(policies_for(requirements))
    report = CheckReport(
        project=run.project,
        stack=run.stack,
        resources=len(run.custom_resources),
        policies=len(policies),
        policy_objects=policies,
    )
    by_urn = {r.urn: r for r in run.resources}
    # Policy inputs (a deep copy behind the unknown-checking proxy) are built once per
    # resource and shared by every policy: policies only read them.
    inputs = {r.urn: _policy_inputs(r, run, by_urn) for r in run.resources}
    stack_resources: list[PolicyResource] | None = None
    for resource in run.resources:
        top = resource
        while top.parent in by_urn:
            top = by_urn[top.parent]
        report.anchors[resource.urn] = top.name
    custom = [r for r in run.resources if r.custom and not r.type.startswith("pulumi:providers:")]

    for policy in policies:
        pulumi_policy = to_pulumi(policy, requirements)
        if isinstance(policy, ResourcePolicy):
            validator = pulumi_policy
            assert isinstance(validator, ResourceValidationPolicy)
            for resource in custom:
                if not policy.applies_to(resource.type):
                    continue
                report.evaluations += 1
                messages: list[str] = []
                args = ResourceValidationArgs(
                    resource.type, urn=resource.urn, name=resource.name, **inputs[resource.urn]
                )

                def collect(
                    message: str, urn: str | None = None, sink: list[str] = messages
                ) -> None:
                    sink.append(message)

                try:
                    validator.validate(args, collect)
                except _NotApplicableError:
                    report.not_applicable += 1
                    continue
                except UnknownValueError as exc:
                    report.findings.append(
                        _finding(policy, requirements, resource, exc.message, "unknown")
                    )
                    continue
                report.checked.add(policy.id)
                report.findings.extend(
                    _finding(policy, requirements, resource, m) for m in messages
                )
        elif isinstance(policy, StackPolicy):
            stack_validator = pulumi_policy
            assert isinstance(stack_validator, StackValidationPolicy)
            report.evaluations += 1
            if stack_resources is None:
                stack_resources = _stack_resources(run, inputs)
            reported: list[tuple[str, str | None]] = []
            stack_args = StackValidationArgs(stack_resources)

            def collect_stack(
                message: str, urn: str | None = None, sink: list[tuple[str, str | None]] = reported
            ) -> None:
                sink.append((message, urn))

            try:
                stack_validator.validate(stack_args, collect_stack)
            except _NotApplicableError:
                report.not_applicable += 1
                continue
            except UnknownValueError as exc:
                report.findings.append(_finding(policy, requirements, None, exc.message, "unknown"))
                continue
            report.checked.add(policy.id)
            report.findings.extend(
                _finding(policy, requirements, by_urn.get(urn or ""), message)
                for message, urn in reported
            )
    order = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    report.findings.sort(
        key=lambda f: (f.level != "mandatory", order.get(f.severity, 9), f.policy, f.urn)
    )
    return report


def _stack_resources(run: MockRun, inputs: Mapping[str, dict[str, Any]]) -> list[Any]:
    """pulumi-policy's PolicyResource for every resource, parents linked."""
    from pulumi_policy import PolicyResource

    built: dict[str, PolicyResource] = {}
    for resource in run.resources:
        built[resource.urn] = PolicyResource(
            resource_type=resource.type,
            props=inputs[resource.urn]["props"],
            urn=resource.urn,
            name=resource.name,
            opts=inputs[resource.urn]["opts"],
            provider=inputs[resource.urn]["provider"],
            parent=built.get(resource.parent or ""),
            dependencies=[built[d] for d in resource.dependencies if d in built],
            property_dependencies={},
        )
    return list(built.values())


def load_requirements(project: Path) -> Requirements:
    """The project's ``policy/enforcement.yaml``."""
    from pydantic import ValidationError

    path = project / "policy" / "enforcement.yaml"
    if not path.is_file():
        raise ProjectError(
            f"{project} has no policy/enforcement.yaml, the project's policy settings",
            hint="Is this a project generated by aiscaffold? `aiscaffold update` restores the file.",
        )
    try:
        return Requirements.load(path)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ProjectError(f"policy/enforcement.yaml is invalid: {problems}") from None
    except Exception as exc:  # YAML errors
        raise ProjectError(f"policy/enforcement.yaml cannot be read: {exc}") from None


def run_project(project: Path, stack: str | None) -> MockRun:
    """The project's program under mocks, errors turned into user messages."""
    try:
        return run_program(project, stack=stack or _default_stack(project))
    except ProjectFileError as exc:
        raise ProjectError(str(exc)) from None
    except ProgramError as exc:
        raise ProgramFailed(
            f"the program failed under mocks: {exc}",
            hint=(exc.details.rstrip() + "\n" if exc.details else "")
            + "Fix the program (it would fail in `pulumi preview` too) and run the check again.",
        ) from None


def _default_stack(project: Path) -> str:
    stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project.glob("Pulumi.*.yaml"))
    if len(stacks) == 1:
        return stacks[0]
    answers = project / ".copier-answers.yml"
    if answers.is_file():
        import yaml

        recorded = yaml.safe_load(answers.read_text(encoding="utf-8")) or {}
        if recorded.get("stack"):
            return str(recorded["stack"])
    return "dev"


def check_project(path: str | Path = ".", *, stack: str | None = None) -> CheckReport:
    """Run the project's program offline and evaluate its policy pack.

    Raises:
        ProjectError: not a generated project (no Pulumi.yaml, stack or enforcement file).
        ProgramFailed: the program raised; the message carries its error.
    """
    project = Path(path).resolve()
    if not project.is_dir():
        raise ProjectError(f"{path} is not a directory")
    requirements = load_requirements(project)
    return evaluate(run_project(project, stack), requirements)


class _Recorder(Mapping[str, Any]):
    """A read-only view of props that records every path a policy reads."""

    def __init__(
        self, target: Mapping[str, Any], path: tuple[str, ...], sink: set[tuple[str, ...]]
    ) -> None:
        self._target, self._path, self._sink = target, path, sink

    def __getitem__(self, key: str) -> Any:
        value = self._target[key]
        path = (*self._path, str(key))
        self._sink.add(path)
        return _record(value, path, self._sink)

    def __iter__(self) -> Any:
        return iter(self._target)

    def __len__(self) -> int:
        return len(self._target)


def _record(value: Any, path: tuple[str, ...], sink: set[tuple[str, ...]]) -> Any:
    if isinstance(value, Mapping):
        return _Recorder(value, path, sink)
    if isinstance(value, list):
        return [_record(v, (*path, str(i)), sink) for i, v in enumerate(value)]
    return value


def _value_at(inputs: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = inputs
    for key in path:
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value


def key_settings(run: MockRun, requirements: Requirements) -> dict[str, list[tuple[str, Any]]]:
    """Per resource URN, the inputs the project's policies read, with their values.

    These are the resource's security-relevant settings, derived from the policies
    rather than listed by hand.
    """
    from aiscaffold_components.policies import Resource, base_type

    read: dict[str, set[tuple[str, ...]]] = {r.urn: set() for r in run.resources}
    views = {
        r.urn: Resource(
            type=base_type(r.type),
            name=r.name,
            urn=r.urn,
            props=_Recorder(r.inputs, (), read[r.urn]),
            protect=r.protect,
            parent=r.parent,
        )
        for r in run.resources
    }
    for policy in policies_for(requirements):
        try:
            if isinstance(policy, ResourcePolicy):
                for resource in run.resources:
                    if policy.applies_to(resource.type):
                        try:
                            policy.evaluate(views[resource.urn], requirements)
                        except Exception:  # noqa: S112 - not applicable or unknown: reads recorded
                            continue
            elif isinstance(policy, StackPolicy):
                policy.evaluate(list(views.values()), requirements)
        except Exception:  # noqa: S112 - a policy that gives up still recorded its reads
            continue
    out: dict[str, list[tuple[str, Any]]] = {}
    for resource in run.resources:
        paths = read[resource.urn]
        leaves = sorted(p for p in paths if not any(q[: len(p)] == p and q != p for q in paths))
        # Three or more keys read from one mapping (tags, say) show as one line.
        siblings: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for leaf in leaves:
            siblings.setdefault(leaf[:-1], []).append(leaf)
        settings: list[tuple[str, Any]] = []
        for parent, children in siblings.items():
            try:
                values = {c[-1]: _value_at(resource.inputs, c) for c in children}
            except (KeyError, IndexError, ValueError, TypeError):
                continue
            if (
                len(children) >= 3
                and parent
                and isinstance(_value_at(resource.inputs, parent), Mapping)
            ):
                settings.append((".".join(parent), values))
            else:
                settings.extend((".".join(c), values[c[-1]]) for c in children)
        if settings:
            out[resource.urn] = settings
    return out
