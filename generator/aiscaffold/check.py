"""The offline check: run a project's program under mocks, evaluate its policy pack.

The pack is what ``pulumi preview --policy-pack policy`` loads: aiscaffold's policies
for the project's ``policy/enforcement.yaml``, and the team's own pulumi-policy
policies in ``EXTRA_POLICIES`` of ``policy/__main__.py``. Both go through one loop that
calls them with pulumi-policy's own argument types (``ResourceValidationArgs``,
``StackValidationArgs``) and with props wrapped in its unknown-checking proxy, as the
policy analyzer does. Resources on the default provider get that provider's properties
from the stack config (``aws:region``...), as the engine gives them.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from aiscaffold_components.deploy import DeployRule
from aiscaffold_components.policies import (
    Level,
    Override,
    Policy,
    Requirements,
    ResourcePolicy,
    StackPolicy,
    policies_for,
    registry,
    to_pulumi,
)

from .errors import AiscaffoldError, ProjectError
from .testing import CapturedResource, MockRun, ProgramError, ProjectFileError, run_program

if TYPE_CHECKING:
    from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

    Validator = ResourceValidationPolicy | StackValidationPolicy

__all__ = [
    "CheckReport",
    "Finding",
    "ProgramFailed",
    "check_project",
    "evaluate",
    "load_extra_policies",
    "load_requirements",
]

Outcome = Literal["violation", "unknown"]
Verdict = Literal["violation", "passed", "not applicable", "unknown"]
"""How one evaluation of a policy on one subject (a resource, or the stack) ends.

``passed`` only when the policy read a value of what it judges (an input present on
the resource) and reported nothing; a policy that reported nothing and read nothing
judged nothing: ``not applicable``, never ``passed``, whatever its code returned."""
VERDICTS: tuple[Verdict, ...] = ("passed", "violation", "unknown", "not applicable")
SEVERITY_ORDER = ("critical", "high", "medium", "low")
DEFAULT_SEVERITY = "medium"
"""Severity reported for a team's policy that sets none (pulumi-policy leaves it unset)."""

#: The pack module, relative to the project: it holds EXTRA_POLICIES.
PACK_FILE = "policy/__main__.py"
_EXTRA_HINT = (
    "EXTRA_POLICIES is a list of pulumi_policy ResourceValidationPolicy and "
    "StackValidationPolicy objects; see docs/offline-check.md, 'Your own policies'."
)

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
    category: str = "policy"
    """``policy``, or a deploy rule's category: ``would fail at deploy``,
    ``irreversible``, ``account-wide`` (see :mod:`aiscaffold_components.deploy`)."""
    source: str = ""
    """For a deploy rule: the documentation or issue that states the constraint."""


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
    passed: set[str] = field(default_factory=set)
    """Ids of the policies that passed on at least one subject: they read the values they
    judge and those comply. The only verdict ever credited as evidence."""
    verdicts: dict[str, dict[str, Verdict]] = field(default_factory=dict)
    """Per policy id of the pack, per subject (a resource's URN, ``""`` for the stack),
    how its evaluation ended."""
    not_applicable_reasons: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per policy id, per subject: the reason a policy gave for not applying (a chosen
    answer, "reminder only: ..."), where it gave one."""
    deploy_rules: int = 0
    """How many deploy rules of the project's cloud were evaluated."""
    rule_objects: list[DeployRule] = field(default_factory=list)
    overrides: dict[str, Override] = field(default_factory=dict)
    """The project's overrides (``policy/enforcement.yaml``) of its cloud's policies, by
    policy id: the reviewed decisions to enforce a policy differently."""
    disabled_objects: list[Policy] = field(default_factory=list)
    """The policies an override disabled: not in the pack, not in ``policies``."""
    suppressed: list[Finding] = field(default_factory=list)
    """What the disabled policies would report here (violations, unknown values), at
    level ``disabled``. They are evaluated for the evidence only: never counted in
    ``findings`` or the exit code, never credited as passing."""
    disabled_checked: set[str] = field(default_factory=set)
    """Disabled policies that would have judged something here (passed or found a
    violation on a value they read): the verification the override gave up."""

    def verdict_counts(self) -> dict[Verdict, int]:
        """How many evaluations of the pack's policies ended in each verdict."""
        counts: dict[Verdict, int] = dict.fromkeys(VERDICTS, 0)
        for by_subject in self.verdicts.values():
            for verdict in by_subject.values():
                counts[verdict] += 1
        return counts

    @property
    def exceptions(self) -> dict[str, Override]:
        """The overrides that weaken enforcement (``advisory`` or ``disabled``), by id.

        An override to ``mandatory`` only strengthens a policy: no exception.
        """
        return {k: o for k, o in self.overrides.items() if o.level != "mandatory"}

    @property
    def policy_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.category == "policy"]

    @property
    def deploy_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.category != "policy"]

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


@dataclass(frozen=True)
class _Entry:
    """One policy as the evaluation loop runs it."""

    policy: Policy
    """What the reports show: id, title, severity, controls, remediation."""
    validator: Validator
    """The pulumi-policy object ``pulumi preview --policy-pack policy`` would call."""
    level: Level
    applies_to: Callable[[str], bool]
    """Resource types worth calling it on (library policies say; the team's see all)."""
    project: bool
    """The project's own (``EXTRA_POLICIES``): its errors are the project's to fix."""


def _every_type(type_token: str) -> bool:
    return True


def _level(validator: Validator) -> Level:
    """The level the policy analyzer enforces a policy at.

    A policy without a level takes the pack's default, which the generated pack leaves
    at pulumi-policy's (advisory); a violation left by a remediating policy is reported
    as mandatory, as the analyzer does.
    """
    from pulumi_policy import EnforcementLevel

    level = validator.enforcement_level or EnforcementLevel.ADVISORY
    if level is EnforcementLevel.REMEDIATE:
        return "mandatory"
    return _LEVELS[level.value]


_LEVELS: dict[str, Level] = {
    "mandatory": "mandatory",
    "advisory": "advisory",
    "disabled": "disabled",
}


def _describe(validator: Validator) -> Policy:
    """Report metadata of a team's policy: no catalog controls, so no framework clauses."""
    severity: Any = validator.severity.value if validator.severity else DEFAULT_SEVERITY
    return Policy(
        id=validator.name,
        title=validator.display_name or validator.name,
        description=validator.description or "",
        severity=severity,
        controls=(),
        remediation=validator.remediation_steps or "",
    )


def _checked_extras(extra: Sequence[Any]) -> list[Validator]:
    """The team's policies, refused unless each is a pulumi-policy policy of its own name."""
    from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

    if isinstance(extra, (str, bytes)) or not isinstance(extra, Sequence):
        raise ProjectError(
            f"{PACK_FILE}: EXTRA_POLICIES is a {type(extra).__name__}, not a list of policies",
            hint=_EXTRA_HINT,
        )
    library = {p.id for p in registry()}
    seen: set[str] = set()
    checked: list[Validator] = []
    for index, policy in enumerate(extra):
        if not isinstance(policy, (ResourceValidationPolicy, StackValidationPolicy)):
            raise ProjectError(
                f"{PACK_FILE}: EXTRA_POLICIES[{index}] is a {type(policy).__name__}, not a "
                "pulumi_policy ResourceValidationPolicy or StackValidationPolicy",
                hint=_EXTRA_HINT,
            )
        if policy.name in library:
            raise ProjectError(
                f"{PACK_FILE}: EXTRA_POLICIES[{index}] is named {policy.name!r}, the id of an "
                "aiscaffold policy",
                hint="Give your policy a name of its own; to change how aiscaffold's policy "
                "is enforced, add an override in policy/enforcement.yaml.",
            )
        if policy.name in seen:
            raise ProjectError(
                f"{PACK_FILE}: two policies in EXTRA_POLICIES are named {policy.name!r}",
                hint="Policy names must be unique within a pack.",
            )
        seen.add(policy.name)
        checked.append(policy)
    return checked


def _entries(requirements: Requirements, extra: Sequence[Any]) -> list[_Entry]:
    """The pack's policies in the order the pack lists them: aiscaffold's, then the team's."""
    from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

    entries: list[_Entry] = []
    for policy in policies_for(requirements):
        validator = to_pulumi(policy, requirements)
        assert isinstance(validator, (ResourceValidationPolicy, StackValidationPolicy))
        applies = policy.applies_to if isinstance(policy, ResourcePolicy) else _every_type
        entries.append(_Entry(policy, validator, _level(validator), applies, project=False))
    for validator in _checked_extras(extra):
        level = _level(validator)
        if level != "disabled":  # the analyzer skips disabled policies altogether
            entries.append(_Entry(_describe(validator), validator, level, _every_type, True))
    return entries


def _disabled_entries(requirements: Requirements) -> list[_Entry]:
    """The policies of the project's cloud an override disabled.

    The pack does not run them (``policies_for`` skips them, as does the analyzer); the
    check still evaluates them aside, so the evidence can say what the exception gives
    up: what they would find here, and which controls are then verified by nothing.
    """
    from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

    entries: list[_Entry] = []
    for policy in registry(requirements.cloud):
        if policy.level(requirements) != "disabled":
            continue
        validator = to_pulumi(policy, requirements)
        assert isinstance(validator, (ResourceValidationPolicy, StackValidationPolicy))
        applies = policy.applies_to if isinstance(policy, ResourcePolicy) else _every_type
        entries.append(_Entry(policy, validator, "disabled", applies, project=False))
    return entries


def _finding(
    entry: _Entry,
    requirements: Requirements,
    resource: CapturedResource | None,
    message: str,
    outcome: Outcome = "violation",
) -> Finding:
    policy = entry.policy
    return Finding(
        policy=policy.id,
        title=policy.title,
        resource=resource.name if resource else "(stack)",
        urn=resource.urn if resource else "",
        type=resource.type if resource else "pulumi:pulumi:Stack",
        level=entry.level,
        severity=policy.severity,
        controls=policy.controls,
        frameworks=policy.clauses(requirements.compliance or None),
        message=message,
        remediation=policy.remediation,
        outcome=outcome,
    )


def _validate(
    entry: _Entry, args: Any, subject: str, reads: set[tuple[str, ...]]
) -> tuple[Verdict, list[tuple[str, str | None]]]:
    """Call one policy as the policy analyzer does, awaiting an async validation.

    ``reads`` is the sink of the recording view the props of ``args`` are wrapped in:
    it holds the present inputs the policy read once it returns. Returns the verdict
    with what the policy reported as (message, urn) pairs, or the unknown value's
    message.
    """
    from pulumi_policy.policy import _NotApplicableError  # pulumi-policy's own signal
    from pulumi_policy.proxy import UnknownValueError

    reported: list[tuple[str, str | None]] = []

    def report_violation(message: str, urn: str | None = None) -> None:
        reported.append((message, urn))

    try:
        result = entry.validator.validate(args, report_violation)
        if result is not None and inspect.isawaitable(result):
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(result)
            finally:
                loop.close()
    except _NotApplicableError as exc:
        return "not applicable", [(exc.reason, None)] if exc.reason else []
    except UnknownValueError as exc:
        return "unknown", [(exc.message, None)]
    except Exception as exc:
        if not entry.project:
            raise  # a bug in aiscaffold's policy: the traceback is for us
        raise ProjectError(
            f"policy {entry.policy.id!r} from {PACK_FILE} failed on {subject}: "
            f"{type(exc).__name__}: {exc}",
            hint=_own_frames(exc)
            + "Fix the policy (it would fail `pulumi preview --policy-pack policy` too) "
            "and run the check again.",
        ) from None
    if reported:
        return "violation", reported
    # A silent return is a pass only when the policy read what it judges.
    return ("passed" if reads else "not applicable"), []


def evaluate(run: MockRun, requirements: Requirements, extra: Sequence[Any] = ()) -> CheckReport:
    """Evaluate the project's policy pack on the resources of a mock run.

    Args:
        run: the program's offline run.
        requirements: the project's ``policy/enforcement.yaml``.
        extra: the team's own pulumi-policy policies (the pack's ``EXTRA_POLICIES``,
            see :func:`load_extra_policies`), run after aiscaffold's at their own
            enforcement level; their findings cite no catalog controls.

    Policies an override disabled are not part of the pack; they are evaluated aside
    (``suppressed``, ``disabled_checked``) so the evidence can show what the exception
    gives up, and are never counted or credited.

    Each evaluation ends in one :data:`Verdict` (``report.verdicts``): the props each
    policy sees are recorded as it reads them, on top of pulumi-policy's unknown-checking
    proxy, so a policy that returns without reading anything it judges is "not
    applicable", never "passed".

    Raises:
        ProjectError: ``extra`` holds something other than a pulumi-policy policy, a
            name twice or an aiscaffold policy id, or one of its policies raised.
    """
    from pulumi_policy import ResourceValidationArgs, StackValidationArgs, StackValidationPolicy

    entries = _entries(requirements, extra)
    disabled = _disabled_entries(requirements)
    cloud_policies = {p.id for p in registry(requirements.cloud)}
    report = CheckReport(
        project=run.project,
        stack=run.stack,
        resources=len(run.custom_resources),
        policies=len(entries),
        policy_objects=[e.policy for e in entries],
        overrides={
            k: requirements.overrides[k]
            for k in sorted(requirements.overrides)
            if k in cloud_policies
        },
        disabled_objects=[e.policy for e in disabled],
    )
    by_urn = {r.urn: r for r in run.resources}
    # Policy inputs (a deep copy behind the unknown-checking proxy) are built once per
    # resource and shared by every policy: policies only read them.
    inputs = {r.urn: _policy_inputs(r, run, by_urn) for r in run.resources}
    root = _root_stack(run)
    if root is not None:
        inputs[root.urn] = _policy_inputs(root, run, by_urn)
    for resource in run.resources:
        top = resource
        while top.parent in by_urn:
            top = by_urn[top.parent]
        report.anchors[resource.urn] = top.name
    custom = [r for r in run.resources if r.custom and not r.type.startswith("pulumi:providers:")]

    for entry in [*entries, *disabled]:
        aside = entry.level == "disabled"  # evaluated for the evidence only
        # Each evaluation gets its own sink: what this policy read on this subject.
        targets: list[tuple[CapturedResource | None, Any, set[tuple[str, ...]]]] = []
        if isinstance(entry.validator, StackValidationPolicy):
            reads: set[tuple[str, ...]] = set()
            targets.append((None, StackValidationArgs(_stack_resources(run, inputs, reads)), reads))
        else:
            for r in custom:
                if entry.applies_to(r.type):
                    reads = set()
                    given = _recording(inputs[r.urn], (), reads)
                    args = ResourceValidationArgs(r.type, urn=r.urn, name=r.name, **given)
                    targets.append((r, args, reads))
        findings = report.suppressed if aside else report.findings
        for target, args, reads in targets:
            subject = f"resource {target.name!r}" if target else "the stack"
            verdict, reported = _validate(entry, args, subject, reads)
            if aside:
                if verdict in ("passed", "violation"):
                    report.disabled_checked.add(entry.policy.id)
            else:
                report.evaluations += 1
                report.verdicts.setdefault(entry.policy.id, {})[target.urn if target else ""] = (
                    verdict
                )
                if verdict == "not applicable":
                    report.not_applicable += 1
                    if reported:
                        report.not_applicable_reasons.setdefault(entry.policy.id, {})[
                            target.urn if target else ""
                        ] = reported[0][0]
                elif verdict == "passed":
                    report.passed.add(entry.policy.id)
            if verdict == "not applicable":
                continue
            if verdict == "unknown":
                message = reported[0][0]
                findings.append(_finding(entry, requirements, target, message, "unknown"))
                continue
            for message, urn in reported:
                # A stack policy names the offending resource; a resource policy is about
                # its own. The analyzer shows the description when a message is empty.
                where = target if target is not None else by_urn.get(urn or "")
                findings.append(
                    _finding(entry, requirements, where, message or entry.policy.description)
                )
    _evaluate_deploy_rules(run, requirements, report, custom, by_urn)
    order = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    for found in (report.findings, report.suppressed):
        found.sort(
            key=lambda f: (f.level != "mandatory", order.get(f.severity, 9), f.policy, f.urn)
        )
    return report


def _deploy_context(run: MockRun, requirements: Requirements) -> Any:
    """Cloud, region and the stack's config (namespaces dropped) for the deploy rules."""
    import json

    from aiscaffold_components.deploy import DeployContext
    from aiscaffold_components.profile import PROVIDER_REGION_KEYS

    config: dict[str, Any] = {}
    for key, raw in run.config.items():
        try:
            value = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            value = raw
        config[key.split(":", 1)[-1] if key.startswith(f"{run.project}:") else key] = value
    region = str(config.get(PROVIDER_REGION_KEYS[requirements.cloud], ""))
    return DeployContext(cloud=requirements.cloud, region=region, config=config)


def _evaluate_deploy_rules(
    run: MockRun,
    requirements: Requirements,
    report: CheckReport,
    custom: Sequence[CapturedResource],
    by_urn: Mapping[str, CapturedResource],
) -> None:
    """Deploy rules on the run's resources: findings in their own categories.

    A rule the cloud would refuse blocks like a mandatory policy; irreversible and
    account-wide steps are advisory: they say what the first ``pulumi up`` commits to.
    """
    from aiscaffold_components.deploy import CATEGORY_TITLES, deploy_rules, evaluate_rules
    from aiscaffold_components.policies import Resource, base_type
    from pulumi_policy.proxy import unknown_checking_proxy

    views = [
        Resource(
            type=base_type(r.type),
            name=r.name,
            urn=r.urn,
            props=unknown_checking_proxy(copy.deepcopy(r.inputs)),
            protect=r.protect,
            parent=r.parent,
            provider_props=_provider_props(r, run, by_urn),
            dependencies=tuple(r.dependencies),
        )
        for r in custom
    ]
    found, count = evaluate_rules(views, _deploy_context(run, requirements))
    report.deploy_rules = count
    report.rule_objects = deploy_rules(requirements.cloud)
    for item in found:
        rule, resource = item.rule, item.resource
        captured = by_urn.get(resource.urn) if resource is not None else None
        report.findings.append(
            Finding(
                policy=rule.id,
                title=rule.title,
                resource=captured.name if captured else "(stack)",
                urn=captured.urn if captured else "",
                type=captured.type if captured else "pulumi:pulumi:Stack",
                level="mandatory" if rule.blocking else "advisory",
                severity="high" if rule.blocking else "medium",
                controls=(),
                frameworks={},
                message=f"{item.message} (the cloud answers: {rule.error})"
                if rule.blocking
                else item.message,
                remediation=rule.remediation,
                outcome=item.outcome,
                category=CATEGORY_TITLES[rule.category],
                source=rule.source,
            )
        )


def _recording(
    given: Mapping[str, Any], prefix: tuple[str, ...], reads: set[tuple[str, ...]]
) -> dict[str, Any]:
    """A resource's policy inputs with its props, options and provider's props recorded
    into ``reads`` as a policy reads them (under ``<opts>`` and ``<provider>``): the
    region a residency policy judges, or ``protect``, is a value read too."""
    from pulumi_policy import PolicyProviderResource

    provider = given["provider"]
    return {
        **given,
        "props": _Recorder(given["props"], prefix, reads),
        "opts": _RecordedOptions(given["opts"], (*prefix, "<opts>"), reads),
        "provider": PolicyProviderResource(
            resource_type=provider.resource_type,
            props=_Recorder(provider.props, (*prefix, "<provider>"), reads),
            urn=provider.urn,
            name=provider.name,
        ),
    }


def _root_stack(run: MockRun) -> CapturedResource | None:
    """The stack itself, as stack policies see it: its outputs are its properties (an
    export such as the state backend's ``awskms://`` secrets provider names what it uses).
    None when the run already holds it (a hand-built one, in tests)."""
    if any(r.type == "pulumi:pulumi:Stack" for r in run.resources):
        return None
    return CapturedResource(
        type="pulumi:pulumi:Stack",
        name=f"{run.project}-{run.stack}",
        urn=f"urn:pulumi:{run.stack}::{run.project}::pulumi:pulumi:Stack::{run.project}-{run.stack}",
        parent=None,
        custom=False,
        inputs=dict(run.outputs),
        outputs=dict(run.outputs),
    )


def _stack_resources(
    run: MockRun, inputs: Mapping[str, dict[str, Any]], reads: set[tuple[str, ...]]
) -> list[Any]:
    """pulumi-policy's PolicyResource for every resource, parents linked; reads of any
    resource's props are recorded in ``reads`` (prefixed by the resource's URN)."""
    from pulumi_policy import PolicyResource

    built: dict[str, PolicyResource] = {}
    root = _root_stack(run)
    for resource in (*([root] if root is not None else []), *run.resources):
        built[resource.urn] = PolicyResource(
            resource_type=resource.type,
            urn=resource.urn,
            name=resource.name,
            **_recording(inputs[resource.urn], (resource.urn,), reads),
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


class _PackBuiltOnImport(Exception):
    """Raised in place of building a PolicyPack while the pack module is imported."""


@contextlib.contextmanager
def _pack_import_context(policy_dir: Path) -> Iterator[None]:
    """Import path of the pack as Pulumi runs it; PolicyPack refused; all undone after.

    Pulumi runs the pack with its directory first on the import path, so a team may
    keep helpers next to it; the entry and the modules imported from there are removed
    afterwards, so nothing of one project stays for the next. Building a PolicyPack
    starts its gRPC server and never returns: a pack that builds it outside
    ``if __name__ == "__main__":`` fails here instead of hanging the check.
    """
    from pulumi_policy import PolicyPack

    def refuse(self: Any, *args: Any, **kwargs: Any) -> None:
        raise _PackBuiltOnImport

    before = set(sys.modules)
    build = PolicyPack.__init__
    sys.path.insert(0, str(policy_dir))
    PolicyPack.__init__ = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        PolicyPack.__init__ = build  # type: ignore[method-assign]
        with contextlib.suppress(ValueError):
            sys.path.remove(str(policy_dir))
        for name in set(sys.modules) - before:
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            if module_file and Path(module_file).resolve().is_relative_to(policy_dir):
                del sys.modules[name]


def _own_frames(exc: BaseException) -> str:
    """The traceback lines in the team's code: not aiscaffold's, pulumi-policy's or Python's."""
    import pulumi_policy

    skip = tuple(
        Path(p).resolve()
        for p in (
            Path(__file__).parent,
            Path(pulumi_policy.__file__).parent,
            Path(contextlib.__file__).parent,  # the standard library (importlib, asyncio)
        )
    )
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith("<")
        and not any(Path(frame.filename).resolve().is_relative_to(s) for s in skip)
    ]
    return "".join(traceback.format_list(frames))


def _import_pack(path: Path) -> ModuleType:
    """The pack module, imported under a name of its own (not ``__main__``)."""
    import importlib.util

    name = f"_aiscaffold_pack_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ProjectError(f"{PACK_FILE} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    with _pack_import_context(path.parent.resolve()):
        # Registered while it runs: dataclasses and typing find a module's globals there.
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except _PackBuiltOnImport:
            raise ProjectError(
                f"{PACK_FILE} builds its PolicyPack on import",
                hint='Build it under `if __name__ == "__main__":`, as the generated pack does: '
                "building it starts the pack's server and never returns.",
            ) from None
        except SyntaxError as exc:
            where = "".join(traceback.format_exception_only(exc))
            raise ProjectError(
                f"{PACK_FILE} cannot be imported: SyntaxError: {exc.msg} (line {exc.lineno})",
                hint=where + "Fix the pack and run the check again.",
            ) from None
        except (Exception, SystemExit) as exc:
            raise ProjectError(
                f"{PACK_FILE} cannot be imported: {type(exc).__name__}: {exc}",
                hint=_own_frames(exc)
                + "Fix the pack (`pulumi preview --policy-pack policy` would fail the same "
                "way) and run the check again.",
            ) from None
        finally:
            sys.modules.pop(name, None)
    return module


def load_extra_policies(project: str | Path) -> list[Validator]:
    """The team's own policies: ``EXTRA_POLICIES`` of the project's ``policy/__main__.py``.

    The module is imported, not run as ``__main__`` (which builds the pack and starts its
    server). A pack without ``EXTRA_POLICIES``, as generated before it existed, or a
    project without a pack, has none.

    Raises:
        ProjectError: the module cannot be imported, builds its PolicyPack on import, or
            EXTRA_POLICIES holds something other than pulumi-policy policies, a name twice
            or the id of an aiscaffold policy.
    """
    path = Path(project).resolve() / PACK_FILE
    if not path.is_file():
        return []
    module = _import_pack(path)
    return _checked_extras(getattr(module, "EXTRA_POLICIES", ()))


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

    The pack is aiscaffold's policies at the levels ``policy/enforcement.yaml`` gives,
    and the team's own policies in ``EXTRA_POLICIES`` of ``policy/__main__.py``.

    Raises:
        ProjectError: not a generated project (no Pulumi.yaml, stack or enforcement
            file), or a pack module that cannot be imported or lists something other
            than pulumi-policy policies of their own names.
        ProgramFailed: the program raised; the message carries its error.
    """
    project = Path(path).resolve()
    if not project.is_dir():
        raise ProjectError(f"{path} is not a directory")
    from .stacks import load_stack_requirements

    name = stack or _default_stack(project)
    requirements = load_stack_requirements(project, name)
    extra = load_extra_policies(project)
    return evaluate(run_project(project, name), requirements, extra)


class _Recorder(Mapping[str, Any]):
    """A read-only view of props that records every path a policy reads.

    A path is recorded once its value was read and is present: looking up an absent
    input records nothing, and an unknown value raises (pulumi-policy's proxy, when it
    is the target) before anything is recorded.
    """

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


class _RecordedOptions:
    """The engine's resource options, recording each option a policy reads.

    ``parent`` is not recorded: it says where the resource sits (the adapter passes it
    on to every check), not a setting a policy judges.
    """

    def __init__(self, target: Any, path: tuple[str, ...], sink: set[tuple[str, ...]]) -> None:
        self._target, self._path, self._sink = target, path, sink

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name != "parent" and not name.startswith("_"):
            self._sink.add((*self._path, name))
        return value


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
