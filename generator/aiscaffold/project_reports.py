"""Reports a generated project carries, derived from its own resources.

``COMPLIANCE.md`` is the control matrix of the chosen frameworks: every clause the
catalog knows, the controls that address it, the components and resources of this
project that implement them, the policies that reached a verdict on them in an offline
check, and their status; the exceptions of ``policy/enforcement.yaml`` on every row they
touch, with their reasons; the policies that verified nothing here; and the clauses
infrastructure cannot satisfy, as the customer's responsibility. Every project's file
also has an "AI risks" section: the ten OWASP Top 10 for LLM Applications (2025) risks,
each covered (credited as the matrix credits) or the team's, whatever was chosen. It is deterministic
(no date, stable order): ``aiscaffold check --format compliance`` writes it from the
current code (:func:`project_compliance`) and the project's own tests fail while the
committed file differs (:func:`stale_compliance`). ``docs/architecture.md`` is a
Mermaid diagram of the components the program creates and how they use each other,
from the same run.

Both are written by ``aiscaffold new`` and ``aiscaffold update`` (they are reports, not
template files: edit the program, not them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiscaffold_components.catalog import AIFrameworkId, Control, load_catalog
from aiscaffold_components.policies import Override, Policy

from .answers import Answers
from .check import CheckReport, evaluate, load_extra_policies, load_requirements
from .errors import ProjectError
from .liveness import project_liveness
from .testing import MockRun, run_program

__all__ = [
    "AI_RISKS_FRAMEWORK",
    "Compliance",
    "StackEvidence",
    "architecture_markdown",
    "compliance_document",
    "compliance_markdown",
    "project_compliance",
    "stale_compliance",
    "write_reports",
]

COMPLIANCE_FILE = "COMPLIANCE.md"
ARCHITECTURE_FILE = "docs/architecture.md"
ANSWERS_FILE = ".copier-answers.yml"


def _components_of(control: Control, answers: Answers, run: MockRun | None) -> list[str]:
    tokens = control.components(answers.cloud)
    if run is None:
        return [t.rsplit(":", 1)[-1] for t in tokens]
    found = []
    for token in tokens:
        names = sorted(r.name for r in run.components if r.type == token)
        if names:
            found.append(f"{token.rsplit(':', 1)[-1]} ({', '.join(f'`{n}`' for n in names)})")
    return found


def _passed(report: CheckReport) -> set[str]:
    """The policies that passed: they read what they judge here and it complies."""
    return set(report.passed)


def _credited(report: CheckReport, live: frozenset[str] | None) -> set[str]:
    """Passed and proven live on this project: the only policies credited as evidence."""
    return _passed(report) & (live or frozenset())


def _reminders(ids: Iterable[str], report: CheckReport) -> list[str]:
    """Policies that found only a reminder where the control asks for a mechanism (they
    say so with a not-applicable reason starting with REMINDER_ONLY)."""
    from aiscaffold_components.policies import REMINDER_ONLY

    out = []
    for policy_id in sorted(set(ids)):
        reasons = getattr(report, "not_applicable_reasons", {}).get(policy_id, {})
        out += sorted(
            {
                f"{policy_id}: {r.removeprefix(REMINDER_ONLY).lstrip(': ')}"
                for r in reasons.values()
                if r.startswith(REMINDER_ONLY)
            }
        )
    return out


def _status(
    policy_ids: Iterable[str], report: CheckReport | None, credited: set[str] | None = None
) -> str:
    """A clause's or control's status: only passing policies proven live here count."""
    ids = sorted(set(policy_ids))
    if report is None:
        return "not checked"
    if credited is None:
        credited = _passed(report)
    if not ids:
        return "no policy"
    failing = sorted({f.policy for f in report.violations if f.policy in ids})
    if failing:
        return "❌ violations: " + ", ".join(failing)
    unknown = sorted({f.policy for f in report.unknown if f.policy in ids})
    if unknown:
        return "❔ unknown offline: " + ", ".join(unknown)
    reminders = _reminders(ids, report)
    if reminders:
        # Something only reminds people: whatever else passes, nothing rotates.
        return "⚠ reminder only: " + "; ".join(reminders)
    passed = [i for i in ids if i in credited]
    if not passed:
        if any(i in _passed(report) for i in ids):
            return "➖ its policies pass, none proven able to fail here"
        return "➖ nothing here for its policies to verify"
    return f"✅ {len(passed)} {'policy passes' if len(passed) == 1 else 'policies pass'}"


@dataclass(frozen=True)
class StackEvidence:
    """What the matrix of one stack is written from."""

    stack: str
    report: CheckReport | None
    """The offline check of the stack; None when it could not run."""
    run: MockRun | None
    exceptions: Mapping[str, Override] = field(default_factory=dict)
    """The project's ``advisory`` and ``disabled`` overrides of its cloud's policies,
    known from ``policy/enforcement.yaml`` even when the check could not run."""
    live: frozenset[str] | None = None
    """The policies the mutation engine proved live on this stack's resources (see
    :mod:`aiscaffold.liveness`); None when no proof was made: nothing is credited."""
    answers: Answers | None = None
    """The stack's own answers (its sensitivity and frameworks select its matrix); None:
    the project's (``.copier-answers.yml``)."""

    @property
    def credited(self) -> set[str]:
        return _credited(self.report, self.live) if self.report is not None else set()


def _cell(text: str) -> str:
    """Text kept on one line of a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def _would_find(report: CheckReport, policies: Iterable[str]) -> int:
    """Violations the given disabled policies would report here."""
    chosen = set(policies)
    return sum(1 for f in report.suppressed if f.policy in chosen and f.outcome == "violation")


def _unverified(
    controls: Sequence[Control],
    by_control: Mapping[str, list[str]],
    report: CheckReport,
    credited: set[str],
) -> list[tuple[str, list[str]]]:
    """Controls an exception leaves unverified: a disabled policy would judge them here
    and no policy that runs is credited on them."""
    lost = []
    for control in controls:
        ids = by_control.get(control.id, [])
        would = sorted(
            p
            for p in ids
            if p in report.disabled_checked or any(f.policy == p for f in report.suppressed)
        )
        if would and not any(p in credited for p in ids):
            lost.append((control.id, would))
    return lost


def _row(
    controls: Sequence[Control],
    by_control: Mapping[str, list[str]],
    evidence: StackEvidence,
) -> tuple[str, str]:
    """The "Verified by" and "Status" cells of a row covering ``controls``.

    Verified by lists only the policies that passed on this project's resources and
    were proven live on them; an exception touching the row is shown on it with its
    reason, and a control judged here only by disabled policies keeps the row from ✅.
    """
    ids = sorted({p for c in controls for p in by_control.get(c.id, [])})
    report = evidence.report
    if report is None:
        verified, status = "—", "not checked"
    else:
        credited = evidence.credited
        verified = ", ".join(i for i in ids if i in credited) or "—"
        status = _status(ids, report, credited)
        lost = _unverified(controls, by_control, report, credited)
        if lost and not status.startswith("❌"):
            parts = []
            for control_id, policies in lost:
                part = f"{control_id} only by disabled {', '.join(policies)}"
                would = _would_find(report, policies)
                if would:
                    part += f" (would find {_plural(would, 'violation')})"
                parts.append(part)
            status = "⚠ not verified: " + "; ".join(parts)
    notes = [
        f"⚠ exception: {p} {evidence.exceptions[p].level} — {_cell(evidence.exceptions[p].reason)}"
        for p in ids
        if p in evidence.exceptions
    ]
    return verified, "<br>".join([status, *notes])


def _exceptions_section(evidence: StackEvidence, heading: str) -> list[str]:
    """The exceptions in force, each with its reason and what it gives up here."""
    if not evidence.exceptions:
        return []
    from .reports import override_effect

    lines = [
        f"{heading} Exceptions",
        "",
        "Overrides in `policy/enforcement.yaml`, reviewed like code; each is marked ⚠ on "
        "every row below whose controls its policy verifies. A disabled policy is not run "
        "by the pack: it is evaluated aside only to say what it would find, and is never "
        "credited.",
        "",
        "| Policy | Level | Reason | Controls | Here |",
        "|---|---|---|---|---|",
    ]
    catalog_policies = {p.id: p for p in _cloud_policies(evidence)}
    for policy_id, override in sorted(evidence.exceptions.items()):
        policy = catalog_policies.get(policy_id)
        controls = ", ".join(policy.controls) if policy else ""
        here = (
            override_effect(evidence.report, policy_id)
            if evidence.report is not None
            else "not checked"
        )
        lines.append(
            f"| ⚠ {policy_id} | {override.level} | {_cell(override.reason)} | {controls} | {here} |"
        )
    return [*lines, ""]


def _cloud_policies(evidence: StackEvidence) -> list[Policy]:
    if evidence.report is None:
        return []
    return [*evidence.report.policy_objects, *evidence.report.disabled_objects]


def _not_exercised_section(
    ids: Iterable[str], policies: Mapping[str, Policy], evidence: StackEvidence, heading: str
) -> list[str]:
    """The matrix's policies credited with nothing here, and why (never in a ✅ count)."""
    report = evidence.report
    if report is None:
        return []
    unknown = {f.policy for f in report.unknown}
    violating = {f.policy for f in report.violations}
    passed, credited = _passed(report), evidence.credited
    rows = []
    for policy_id in sorted(set(ids)):
        if policy_id in credited or policy_id in violating:
            continue
        override = evidence.exceptions.get(policy_id)
        if override is not None and override.level == "disabled":
            why = "⚠ disabled by an exception"
        elif policy_id in unknown:
            why = "❔ a value it reads is unknown offline"
        elif policy_id in passed:
            why = (
                "⚗ passes, but no weakening of this project's resources makes it fail: "
                "not proven live here"
            )
        else:
            why = "➖ nothing it judges exists in this project"
        if override is not None:
            why += f"<br>⚠ exception: {policy_id} {override.level} — {_cell(override.reason)}"
        policy = policies[policy_id]
        rows.append(
            f"| {policy_id} | {_cell(policy.title)} | {', '.join(policy.controls)} | {why} |"
        )
    if not rows:
        return []
    return [
        f"{heading} Not exercised here",
        "",
        "Policies of the controls above credited with nothing on this project's resources "
        "(no verdict, or a pass the mutation engine could not prove able to fail here): "
        'they are listed under no "Verified by" and counted in no ✅.',
        "",
        "| Policy | Title | Controls | Why |",
        "|---|---|---|---|",
        *rows,
        "",
    ]


def _stack_lines(answers: Answers, evidence: StackEvidence, depth: int) -> list[str]:
    """The matrix of one stack; ``depth`` 1 nests its headings under a stack heading."""
    from aiscaffold_components.policies import registry

    catalog = load_catalog()
    h2, h3 = "#" * (2 + depth), "#" * (3 + depth)
    policies = {p.id: p for p in registry(answers.cloud)}
    by_control: dict[str, list[str]] = {}
    for policy in policies.values():
        for control_id in policy.controls:
            by_control.setdefault(control_id, []).append(policy.id)
    controls = [c for c in catalog.controls if c.applies_to(answers.cloud)]
    run = evidence.run

    lines: list[str] = []
    if evidence.report is None:
        lines += [
            "> The offline check could not run when this file was written; statuses read "
            "*not checked*. Install the project's requirements and run `aiscaffold check`.",
            "",
        ]
    lines += _exceptions_section(evidence, h2)
    in_matrix: set[str] = set()
    if not answers.compliance:
        lines += [
            "No compliance framework was chosen. The controls below are in force for the data "
            "sensitivity; `aiscaffold update --data 'compliance=[hipaa]'` maps them to frameworks.",
            "",
            "| Control | Title | Implemented by | Verified by | Status |",
            "|---|---|---|---|---|",
        ]
        for control in controls:
            in_matrix.update(by_control.get(control.id, []))
            verified, status = _row([control], by_control, evidence)
            lines.append(
                f"| {control.id} | {control.title} | {', '.join(_components_of(control, answers, run))} "
                f"| {verified} | {status} |"
            )
        lines.append("")
        lines += _ai_risks_section(answers, controls, by_control, evidence, h2, in_matrix)
        return lines + _not_exercised_section(in_matrix, policies, evidence, h2)

    for framework_id in answers.compliance:
        framework = catalog.frameworks[framework_id]
        lines += [f"{h2} {framework.title} ({framework.version})", ""]
        if framework_id in catalog.clouds[answers.cloud].notes:
            lines += [f"> {catalog.clouds[answers.cloud].notes[framework_id]}", ""]
        lines += [
            "| Clause | Title | Controls | Implemented by | Verified by | Status |",
            "|---|---|---|---|---|---|",
        ]
        customer = []
        for clause in framework.clauses.values():
            if clause.customer:
                customer.append(clause)
                continue
            cited = [c for c in controls if clause.id in c.frameworks.get(framework_id, ())]
            if not cited:
                customer.append(clause)
                continue
            components = sorted({x for c in cited for x in _components_of(c, answers, run)})
            in_matrix.update(p for c in cited for p in by_control.get(c.id, []))
            verified, status = _row(cited, by_control, evidence)
            lines.append(
                f"| {clause.id} | {clause.title} | "
                + ", ".join(f"{c.id} {c.title}" for c in cited)
                + f" | {', '.join(components)} | {verified} | {status} |"
            )
        if customer:
            lines += [
                "",
                f"{h3} Customer responsibilities ({framework.title})",
                "",
                "| Clause | Title | Why | Status |",
                "|---|---|---|---|",
            ]
            for clause in customer:
                why = clause.customer or (
                    f"No control of this project addresses it on {catalog.clouds[answers.cloud].title}."
                )
                lines.append(f"| {clause.id} | {clause.title} | {why} | 👤 |")
        lines.append("")
    lines += _ai_risks_section(answers, controls, by_control, evidence, h2, in_matrix)
    return lines + _not_exercised_section(in_matrix, policies, evidence, h2)


#: The framework whose items every COMPLIANCE.md lists under "AI risks" (issue 14).
AI_RISKS_FRAMEWORK: AIFrameworkId = "owasp-llm"


def _ai_risks_section(
    answers: Answers,
    controls: Sequence[Control],
    by_control: Mapping[str, list[str]],
    evidence: StackEvidence,
    heading: str,
    in_matrix: set[str],
) -> list[str]:
    """The ten OWASP LLM risks: each covered (its controls, credited exactly as the
    matrix credits them) or the team's, whether or not an AI framework was chosen.

    The policies of the covered items join ``in_matrix``, so one that is credited with
    nothing here is listed under *Not exercised here* like the matrix's own.
    """
    catalog = load_catalog()
    framework = catalog.frameworks[AI_RISKS_FRAMEWORK]
    cloud = catalog.clouds[answers.cloud].title
    chosen = AI_RISKS_FRAMEWORK in answers.compliance
    lines = [
        f"{heading} AI risks ({framework.title} {framework.version})",
        "",
        "How this project meets the ten risks of the OWASP list "
        f"(<{framework.source}>), "
        + (
            "a chosen framework: its controls are mandatory here."
            if chosen
            else "listed for every project: choose `owasp-llm` in `compliance` to make "
            "their controls mandatory."
        )
        + " A covered risk carries the status of its controls' policies on this project, "
        "credited as in the matrix; 👤 the team's responsibility, with the reason.",
        "",
        "| Risk | Title | Controls | Verified by | Status |",
        "|---|---|---|---|---|",
    ]
    for clause in framework.clauses.values():
        cited = [c for c in controls if clause.id in c.frameworks.get(AI_RISKS_FRAMEWORK, ())]
        if clause.customer or not cited:
            why = clause.customer or f"No control of this project addresses it on {cloud}."
            lines.append(f"| {clause.id} | {clause.title} | — | — | 👤 {_cell(why)} |")
            continue
        in_matrix.update(p for c in cited for p in by_control.get(c.id, []))
        verified, status = _row(cited, by_control, evidence)
        names = ", ".join(f"{c.id} {c.title}" for c in cited)
        lines.append(f"| {clause.id} | {clause.title} | {names} | {verified} | {status} |")
    return [*lines, ""]


def compliance_document(answers: Answers, stacks: Sequence[StackEvidence]) -> str:
    """COMPLIANCE.md: the control matrix of a project's stacks, for its chosen frameworks.

    Deterministic (no date, stable order), so a committed copy can be compared with a
    fresh one. One stack gives one matrix; several give one section per stack.
    """
    from aiscaffold_components.policies import registry

    catalog = load_catalog()
    names = ", ".join(f"`{s.stack}`" for s in stacks)
    lines = [
        f"# Compliance matrix: {answers.project_name}",
        "",
        f"{answers.ai_service} on {catalog.clouds[answers.cloud].title} in {answers.region}; "
        f"data sensitivity **{answers.data_sensitivity}**.",
        "",
        "Written by aiscaffold from its control catalog and an offline check of this project "
        f"({'stack' if len(stacks) == 1 else 'stacks'} {names}): the program ran under Pulumi "
        "mocks and the policy pack evaluated what it would create. "
        "`aiscaffold check --format compliance --output COMPLIANCE.md` writes this file from "
        "the current code (`aiscaffold new` and `update` write the same); the project's "
        "tests fail while the committed file differs from what it would write.",
        "",
        "Status: ✅ the policies verifying the clause's controls that judged this project's "
        "resources pass, and each was proven live here: the mutation engine weakened this "
        "project's own resources and the policy caught it (the count says how many; "
        "*Verified by* names them); "
        "❌ a policy finds a violation; ❔ a value a policy reads is unknown offline; ➖ none "
        "of its policies applies to what this project creates, or none was proven able to "
        "fail here; ⚠ an exception (an override "
        "in `policy/enforcement.yaml`) touches the row, with its reason, and *⚠ not verified* "
        "when a control is judged here only by a disabled policy; 👤 the customer's "
        "responsibility (infrastructure alone cannot satisfy it). Policies credited with "
        "nothing here (no verdict, or no proof they can fail here) are listed under *Not "
        "exercised here*.",
        "",
    ]
    lines += _outside_this_stack(answers, registry(answers.cloud))
    if len(stacks) == 1:
        lines += _stack_lines(answers, stacks[0], depth=0)
    else:
        for evidence in stacks:
            own = evidence.answers or answers
            frameworks = ", ".join(own.compliance) or "no framework"
            lines += [
                f"## Stack `{evidence.stack}`",
                "",
                f"{own.region}; data sensitivity **{own.data_sensitivity}**; {frameworks}; "
                f"account services `{own.account_services}`.",
                "",
            ]
            if own is not answers:
                outside = _outside_this_stack(own, registry(own.cloud))
                lines += [f"#{line}" if line.startswith("## ") else line for line in outside]
            lines += _stack_lines(own, evidence, depth=1)
    return "\n".join(lines).rstrip("\n") + "\n"


def compliance_markdown(
    answers: Answers,
    report: CheckReport | None,
    run: MockRun | None,
    *,
    exceptions: Mapping[str, Override] | None = None,
    live: frozenset[str] | None = None,
) -> str:
    """The control matrix of a project with one stack (``answers.stack``).

    ``exceptions`` defaults to the report's (none when the check could not run);
    ``live`` is the policies proven live on the run (:mod:`aiscaffold.liveness`):
    without it nothing is credited.
    """
    if exceptions is None:
        exceptions = report.exceptions if report is not None else {}
    stack = report.stack if report is not None else answers.stack
    return compliance_document(answers, [StackEvidence(stack, report, run, exceptions, live)])


def _own_answers(project: Path, stack: str) -> Answers | None:
    """A stack's own answers (``aiscaffold stack add``); None when it has no record."""
    from .stacks import read_records, stack_answers

    try:
        if stack not in read_records(project):
            return None
        return stack_answers(project, stack)
    except Exception:  # an unreadable record: the project's answers stand in
        return None


def project_stacks(project: Path) -> list[str]:
    """The project's stacks: one per ``Pulumi.<stack>.yaml``, in name order."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project.glob("Pulumi.*.yaml"))


def project_answers(project: Path) -> Answers:
    """The answers recorded in the project's ``.copier-answers.yml``."""
    import yaml
    from pydantic import ValidationError

    path = project / ANSWERS_FILE
    if not path.is_file():
        raise ProjectError(
            f"{project} has no {ANSWERS_FILE}: COMPLIANCE.md is written from a generated "
            "project's answers",
            hint="Is this a project generated by aiscaffold? `aiscaffold new` writes the file.",
        )
    try:
        recorded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Answers.model_validate(
            {k: v for k, v in recorded.items() if k in Answers.model_fields}
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ProjectError(f"{ANSWERS_FILE} is invalid: {problems}") from None
    except Exception as exc:  # YAML errors
        raise ProjectError(f"{ANSWERS_FILE} cannot be read: {exc}") from None


@dataclass(frozen=True)
class Compliance:
    """COMPLIANCE.md as the current code would have it, with the checks it came from."""

    text: str
    reports: tuple[CheckReport, ...]

    @property
    def mandatory(self) -> int:
        """Mandatory violations over all stacks."""
        return sum(len(r.mandatory) for r in self.reports)


def project_compliance(
    path: str | Path = ".",
    *,
    stack: str | None = None,
    runs: Mapping[str, MockRun] | None = None,
) -> Compliance:
    """COMPLIANCE.md from the project's current code: ``check --format compliance``.

    Args:
        path: the project directory.
        stack: only this stack; by default every ``Pulumi.<stack>.yaml``, a section each
            when there are several.
        runs: mock runs already made, by stack (the project's tests pass theirs).

    Raises:
        ProjectError: not a generated project, or unreadable answers or policy settings.
        ProgramFailed: the program raised under mocks.
    """
    from .check import run_project

    project = Path(path).resolve()
    if not project.is_dir():
        raise ProjectError(f"{path} is not a directory")
    from .stacks import load_stack_requirements

    answers = project_answers(project)
    load_requirements(project)
    extra = load_extra_policies(project)
    evidence, reports = [], []
    for name in [stack] if stack else project_stacks(project) or [answers.stack]:
        # Each stack is judged by its own requirements (policy/enforcement.<stack>.yaml).
        requirements = load_stack_requirements(project, name)
        run = (runs or {}).get(name) or run_project(project, name)
        report = evaluate(run, requirements, extra)
        reports.append(report)
        live = project_liveness(project, name, run, requirements).live
        evidence.append(
            StackEvidence(name, report, run, report.exceptions, live, _own_answers(project, name))
        )
    return Compliance(compliance_document(answers, evidence), tuple(reports))


def stale_compliance(
    path: str | Path = ".", *, runs: Mapping[str, MockRun] | None = None
) -> str | None:
    """Why the committed COMPLIANCE.md is stale, or None when it is current.

    Current means equal (line endings aside) to what ``aiscaffold check --format
    compliance`` writes now from ``__main__.py``, the stacks' config and
    ``policy/enforcement.yaml``. The message names the file, the command that rewrites
    it, and the first differing lines.
    """
    import difflib

    project = Path(path).resolve()
    expected = project_compliance(project, runs=runs).text
    target = project / COMPLIANCE_FILE
    committed = target.read_text(encoding="utf-8") if target.is_file() else ""
    if committed.replace("\r\n", "\n") == expected:
        return None
    diff = list(
        difflib.unified_diff(
            committed.splitlines(),
            expected.splitlines(),
            f"{COMPLIANCE_FILE} (committed)",
            f"{COMPLIANCE_FILE} (from the current code)",
            lineterm="",
            n=0,
        )
    )
    shown = "\n".join(line[:300] for line in diff[:40])
    more = f"\n... {len(diff) - 40} more diff lines" if len(diff) > 40 else ""
    return (
        f"{COMPLIANCE_FILE} is stale: it is not what the current __main__.py, stack config "
        "and policy/enforcement.yaml give. Run `aiscaffold check --format compliance "
        f"--output {COMPLIANCE_FILE}`, review the change and commit it.\n{shown}{more}"
    )


def _outside_this_stack(answers: Answers, policies: Iterable[Policy]) -> list[str]:
    """What the answers leave to someone else, named so a reviewer sees the dependency."""
    rows: list[str] = []
    if answers.cloud == "gcp" and not answers.gcp_org_policies:
        org = sorted({c for p in policies if p.id.startswith("GCP-ORG-") for c in p.controls})
        rows.append(
            "| Organization policies (allowed regions, no external IPs, no service-account "
            "keys, OS Login...) | `gcp_org_policies: false`: your organization's "
            "administrators set them at the organization or folder; this project creates "
            f"none and its GCP-ORG policies do not apply | {', '.join(org)} |"
        )
    if answers.account_services == "shared" and answers.ai_service == "bedrock":
        rows.append(
            "| Bedrock model invocation logging (one per account and region) | "
            "`account_services: shared`: another stack or a central team owns it; "
            "check it is on: `aws bedrock get-model-invocation-logging-configuration` "
            "| LOG-05 |"
        )
    if not rows:
        return []
    return [
        "## Outside this stack",
        "",
        "These controls depend on what another stack or your organization provides; the "
        "matrix below cannot verify them from this project.",
        "",
        "| What | Why and who | Controls |",
        "|---|---|---|",
        *rows,
        "",
    ]


def _node(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def architecture_markdown(answers: Answers, run: MockRun | None) -> str:
    """A Mermaid diagram of the project's components, derived from a mock run."""
    catalog = load_catalog()
    service = catalog.clouds[answers.cloud].ai_services[answers.ai_service]
    lines = [
        f"# Architecture: {answers.project_name}",
        "",
        "Derived from the resources the program creates (an offline run under Pulumi mocks): "
        "each box is a component with the resources it owns; an arrow means the component "
        "uses another's output (a key, a log store, a subnet...). `aiscaffold preview` shows "
        "every resource and its security settings.",
        "",
    ]
    if run is None:
        return "\n".join(
            [*lines, "> The program could not run offline when this file was written.", ""]
        )

    by_urn = {r.urn: r for r in run.resources}
    # Sorted: Pulumi registers components asynchronously, in no fixed order.
    tops = sorted((r for r in run.components if r.parent not in by_urn), key=lambda r: r.name)
    owner: dict[str, str] = {}
    for resource in run.resources:
        top = resource
        while top.parent in by_urn:
            top = by_urn[top.parent]
        owner[resource.urn] = top.urn
    inside = {c.id for c in catalog.controls if c.family in ("network", "private-endpoints")}
    boundary_types = {
        token for c in catalog.controls if c.id in inside for token in c.components(answers.cloud)
    } - {
        f"aiscaffold:{answers.cloud}:{n}"
        for n in ("SecureBucket", "SecureStorage", "Secrets", "Keys", "WorkloadIdentity")
    }

    def label(component: object) -> str:
        from .testing import CapturedResource

        assert isinstance(component, CapturedResource)
        owned = [r for r in run.custom_resources if owner[r.urn] == component.urn]
        kinds: dict[str, int] = {}
        for r in owned:
            kind = r.type.rsplit(":", 1)[-1]
            kinds[kind] = kinds.get(kind, 0) + 1
        summary = ", ".join(f"{n} {k}" if n > 1 else k for k, n in sorted(kinds.items()))
        kind = component.type.rsplit(":", 1)[-1]
        return f'{_node(component.name)}["<b>{kind}</b> {component.name}<br/>{summary}"]'

    diagram = ["```mermaid", "flowchart LR"]
    in_boundary = [c for c in tops if c.type in boundary_types]
    if in_boundary:
        diagram.append('  subgraph boundary["Private network boundary"]')
        diagram += [f"    {label(c)}" for c in in_boundary]
        diagram.append("  end")
    diagram += [f"  {label(c)}" for c in tops if c not in in_boundary]
    # Resources the program creates outside any component (GCP's API enablements, say)
    # are one node per type, so the diagram stays readable however many there are.
    loose: dict[str, list[str]] = {}
    node_of: dict[str, str] = {c.urn: c.name for c in tops}
    for resource in run.custom_resources:
        if owner[resource.urn] == resource.urn:
            kind = resource.type.rsplit(":", 1)[-1]
            loose.setdefault(kind, []).append(resource.name)
            node_of[resource.urn] = f"loose-{kind}"
    for kind, names in sorted(loose.items()):
        shown = ", ".join(sorted(names)[:4]) + (", ..." if len(names) > 4 else "")
        count = f"{len(names)} " if len(names) > 1 else ""
        diagram.append(f'  {_node("loose-" + kind)}["{count}<b>{kind}</b><br/>{shown}"]')
    models = ", ".join(answers.models)
    diagram.append(f'  model(["{service.title}<br/>{models}"])')
    edges: set[tuple[str, str]] = set()
    for resource in run.resources:
        for dependency in resource.dependencies:
            a = node_of.get(owner.get(resource.urn, ""))
            b = node_of.get(owner.get(dependency, ""))
            if a and b and a != b:
                edges.add((a, b))
    diagram += [f"  {_node(a)} -.->|uses| {_node(b)}" for a, b in sorted(edges)]
    guardrail = next((c for c in tops if c.type.endswith(":Guardrail")), None)
    identity = next((c for c in tops if c.type.endswith(":WorkloadIdentity")), None)
    if identity is not None and guardrail is not None:
        diagram.append(f"  {_node(identity.name)} ==>|prompts| {_node(guardrail.name)}")
    if guardrail is not None:
        diagram.append(f"  {_node(guardrail.name)} ==>|screened| model")
    elif identity is not None:
        diagram.append(f"  {_node(identity.name)} ==>|invokes| model")
    diagram.append("```")
    components = "\n".join(
        f"- `{c.name}`: {c.type} ({sum(1 for r in run.custom_resources if owner[r.urn] == c.urn)} resources)"
        for c in tops
    )
    return "\n".join([*lines, *diagram, "", "## Components", "", components, ""])


def write_reports(project: Path, answers: Answers) -> tuple[Path, Path]:
    """Run the project offline and write COMPLIANCE.md and docs/architecture.md.

    COMPLIANCE.md is what ``aiscaffold check --format compliance`` writes (every stack),
    except that a stack whose check cannot run reads *not checked* instead of failing.
    """
    from aiscaffold_components.policies import registry

    def check(stack: str) -> tuple[MockRun | None, CheckReport | None, frozenset[str] | None]:
        try:
            from .stacks import load_stack_requirements

            run = run_program(project, stack=stack)
            requirements = load_stack_requirements(project, stack)
            report = evaluate(run, requirements, load_extra_policies(project))
            return run, report, project_liveness(project, stack, run, requirements).live
        except Exception:  # the reports then say "not checked" instead of a status
            return None, None, None

    exceptions: dict[str, Override] = {}
    try:  # shown even when the program cannot run
        ids = {p.id for p in registry(answers.cloud)}
        overrides = load_requirements(project).overrides
        exceptions = {
            k: o for k, o in sorted(overrides.items()) if k in ids and o.level != "mandatory"
        }
    except Exception:  # noqa: S110 - no readable enforcement file: no exceptions to show
        pass
    run, report, live = check(answers.stack)
    evidence = []
    for stack in project_stacks(project) or [answers.stack]:
        stack_run, stack_report, stack_live = (
            (run, report, live) if stack == answers.stack else check(stack)
        )
        evidence.append(
            StackEvidence(
                stack,
                stack_report,
                stack_run,
                # An added stack may have overrides of its own (enforcement.<stack>.yaml).
                stack_report.exceptions
                if stack_report is not None and stack != answers.stack
                else exceptions,
                stack_live,
                _own_answers(project, stack),
            )
        )
    compliance = project / COMPLIANCE_FILE
    compliance.write_text(compliance_document(answers, evidence), encoding="utf-8")
    architecture = project / ARCHITECTURE_FILE
    architecture.parent.mkdir(parents=True, exist_ok=True)
    architecture.write_text(architecture_markdown(answers, run), encoding="utf-8")
    # ----- deployer permissions (issue 19): docs/deployer-permissions.md + machine form
    from .deployer_permissions import write_deployer_permissions

    write_deployer_permissions(project, answers, run)
    # ----- end deployer permissions
    return compliance, architecture
