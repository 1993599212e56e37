"""Renderings for people (rich) and programs (JSON, SARIF): catalog, check, preview."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiscaffold_components.catalog import Cloud, Control, FrameworkId, load_catalog

if TYPE_CHECKING:
    from rich.console import Group
    from rich.table import Table
    from rich.tree import Tree

    from .check import CheckReport, Finding
    from .testing import MockRun

__all__ = [
    "check_json",
    "check_sarif",
    "check_table",
    "controls_json",
    "controls_table",
    "preview_json",
    "preview_tree",
]


def _rows(cloud: Cloud | None, framework: FrameworkId | None) -> list[Control]:
    return load_catalog().select(cloud=cloud, framework=framework)


def _record(control: Control, cloud: Cloud | None, framework: FrameworkId | None) -> dict[str, Any]:
    catalog = load_catalog()
    frameworks = {
        fw: list(clauses)
        for fw, clauses in control.frameworks.items()
        if framework is None or fw == framework
    }
    clouds = [cloud] if cloud else list(catalog.clouds)
    return {
        "id": control.id,
        "family": control.family,
        "title": control.title,
        "description": control.description,
        "mandatory_from": control.mandatory_from,
        "frameworks": frameworks,
        "components": {c: list(control.components(c)) for c in clouds if control.applies_to(c)},
        "not_applicable": {c: r for c, r in control.not_applicable.items() if c in clouds},
        "settings": [s.name for s in catalog.settings_for(control.id)],
        "answers": list(control.answers),
    }


def controls_json(*, cloud: Cloud | None = None, framework: FrameworkId | None = None) -> str:
    """The catalog (filtered) as a JSON array of controls."""
    return json.dumps([_record(c, cloud, framework) for c in _rows(cloud, framework)], indent=2)


def controls_table(*, cloud: Cloud | None = None, framework: FrameworkId | None = None) -> Table:
    """The catalog (filtered) as a rich table."""
    from rich.table import Table

    catalog = load_catalog()
    title = "aiscaffold controls"
    if cloud:
        title += f" on {catalog.clouds[cloud].title}"
    if framework:
        title += f" citing {catalog.frameworks[framework].title}"
    table = Table(title=title, show_lines=True)
    table.add_column("Control", no_wrap=True)
    table.add_column("Family")
    table.add_column("Title")
    table.add_column("Framework clauses")
    table.add_column("Components" if cloud else "Clouds")
    table.add_column("Settings")
    for control in _rows(cloud, framework):
        record = _record(control, cloud, framework)
        clauses = "\n".join(f"{fw}: {', '.join(cl)}" for fw, cl in record["frameworks"].items())
        if cloud:
            where = ", ".join(t.rsplit(":", 1)[-1] for t in record["components"].get(cloud, []))
        else:
            where = ", ".join(record["components"])
        table.add_row(
            control.id,
            catalog.families[control.family],
            control.title,
            clauses,
            where,
            ", ".join(record["settings"]),
        )
    return table


# ------------------------------------------------------------------- check reports
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}

#: Where overrides live, relative to the project (SARIF locates override results there).
ENFORCEMENT_FILE = "policy/enforcement.yaml"


def override_effect(report: CheckReport, policy: str) -> str:
    """What an overridden policy does on this project, in words a reviewer reads.

    A disabled policy is evaluated aside (see :attr:`CheckReport.suppressed`): its
    verdict is said, never credited.
    """
    level = report.overrides[policy].level
    if level == "disabled":
        found = [f for f in report.suppressed if f.policy == policy]
        violations = sum(1 for f in found if f.outcome == "violation")
        if violations:
            return f"not run; it would find {violations} violation{'s' * (violations != 1)} here"
        if any(f.outcome == "unknown" for f in found):
            return "not run; a value it reads is unknown offline"
        if policy in report.disabled_checked:
            return "not run; it would find nothing here"
        return "not run; nothing it judges exists here"
    violations = sum(
        1 for f in report.policy_findings if f.policy == policy and f.outcome == "violation"
    )
    if violations:
        return f"runs at {level}; {violations} violation{'s' * (violations != 1)} here"
    if policy in report.passed:
        return f"runs at {level}; passes here"
    return f"runs at {level}; nothing it judges exists here"


def _override_line(path: Path | None, policy: str) -> int:
    """The line of ``policy/enforcement.yaml`` naming the overridden policy."""
    if path is None or not path.is_file():
        return 1
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if stripped.startswith((f"{policy}:", f'"{policy}":', f"'{policy}':")):
            return number
    return 1


def _pass_figures(report: CheckReport, live: frozenset[str] | None) -> tuple[list[str], list[str]]:
    """(credited, passed without a proof): only policies that passed and were proven
    live on this project (:mod:`aiscaffold.liveness`) are counted as passing."""
    passed = sorted(report.passed)
    if live is None:
        return [], passed
    return [p for p in passed if p in live], [p for p in passed if p not in live]


def check_json(report: CheckReport, live: frozenset[str] | None = None) -> str:
    """The check report as JSON: resources, policies, violations (and unknowns).

    With ``live`` (the policies proven live here), ``passed`` lists the credited
    policies and ``passed_not_proven`` those that passed without a liveness proof.
    """

    exceptions = report.exceptions

    def entry(f: Finding) -> dict[str, Any]:
        record: dict[str, Any] = {
            "policy": f.policy,
            "resource": f.resource,
            "type": f.type,
            "level": f.level,
            "severity": f.severity,
            "controls": list(f.controls),
            "frameworks": f.frameworks,
            "message": f.message,
            "remediation": f.remediation,
        }
        if f.policy in exceptions:  # the reviewed exception this finding falls under
            record["override"] = {
                "level": exceptions[f.policy].level,
                "reason": exceptions[f.policy].reason,
            }
        return record

    def deploy_entry(f: Finding) -> dict[str, Any]:
        return {
            "rule": f.policy,
            "category": f.category,
            "resource": f.resource,
            "type": f.type,
            "level": f.level,
            "outcome": f.outcome,
            "message": f.message,
            "remediation": f.remediation,
            "source": f.source,
        }

    policy_findings = report.policy_findings
    credited, unproven = _pass_figures(report, live)
    return json.dumps(
        {
            "resources": report.resources,
            "policies": report.policies,
            "violations": [entry(f) for f in policy_findings if f.outcome == "violation"],
            "unknown": [entry(f) for f in policy_findings if f.outcome == "unknown"],
            "overrides": [
                {
                    "policy": policy,
                    "level": override.level,
                    "reason": override.reason,
                    "effect": override_effect(report, policy),
                }
                for policy, override in report.overrides.items()
            ],
            # What the disabled policies would report: evidence of the exception, never
            # counted among the violations and never blocking.
            "suppressed": [entry(f) for f in report.suppressed],
            "deploy_rules": report.deploy_rules,
            "deploy": [deploy_entry(f) for f in report.deploy_findings],
            **({"passed": credited, "passed_not_proven": unproven} if live is not None else {}),
        },
        indent=2,
    )


def _source_line(program: Path | None, finding: Finding, anchors: dict[str, str]) -> int:
    """The line of ``__main__.py`` that creates the finding's top-level component."""
    if program is None or not program.is_file():
        return 1
    name = anchors.get(finding.urn, finding.resource)
    lines = program.read_text(encoding="utf-8").splitlines()
    candidates = [name, *(name.split("-", i)[-1] for i in range(1, name.count("-") + 1))]
    for candidate in candidates:
        for number, line in enumerate(lines, start=1):
            if f'"{candidate}"' in line or f'-{candidate}"' in line or f"'{candidate}'" in line:
                return number
    return 1


def check_sarif(
    report: CheckReport,
    *,
    program: Path | None = None,
    anchors: dict[str, str] | None = None,
    enforcement: Path | None = None,
) -> str:
    """The check report as SARIF 2.1.0 for GitHub code scanning.

    Rules are the evaluated policies (and the disabled ones); results point at
    ``__main__.py``, at the line creating the component the resource belongs to when it
    can be found. Every exception (an ``advisory`` or ``disabled`` override) is a result
    of level ``note`` at its line of ``policy/enforcement.yaml`` (``enforcement``), even
    when the policy finds nothing; it and every violation it covers (an advisory
    policy's, and what a disabled one would report) carry an ``external`` suppression
    (SARIF 2.1.0, 3.27.23 and 3.35) with status ``accepted`` and the override's reason as
    justification. GitHub code scanning still lists suppressed results as alerts
    (github/codeql-action#1230) unless a step such as advanced-security/dismiss-alerts
    dismisses them; the note's message carries the reason either way.
    """
    import hashlib

    from aiscaffold_components.deploy import CATEGORY_TITLES

    from . import __version__

    anchors = anchors or {}
    exceptions = report.exceptions
    policies = sorted([*report.policy_objects, *report.disabled_objects], key=lambda p: p.id)
    index = {p.id: i for i, p in enumerate(policies)}
    rules = []
    for policy in policies:
        clauses = policy.clauses()
        # A team's own policy (EXTRA_POLICIES) cites no catalog control and may give no
        # remediation: its help then says only what it has.
        help_text = policy.remediation or policy.description or policy.title
        help_parts = [f"**Remediation:** {help_text}" if policy.remediation else help_text]
        if policy.controls:
            help_parts.append("**Controls:** " + ", ".join(policy.controls))
        if clauses:
            help_parts.append(
                "**Frameworks:** "
                + "; ".join(f"{fw} {', '.join(cl)}" for fw, cl in clauses.items())
            )
        rules.append(
            {
                "id": policy.id,
                "name": "".join(w.capitalize() for w in policy.title.split() if w.isalnum())
                or policy.id,
                "shortDescription": {"text": policy.title},
                "fullDescription": {"text": policy.description or policy.title},
                "help": {"text": help_text, "markdown": "\n\n".join(help_parts)},
                "properties": {
                    "tags": ["security", *policy.controls],
                    "security-severity": _SECURITY_SEVERITY[policy.severity],
                    "precision": "high",
                },
            }
        )
    for rule in report.rule_objects:
        index[rule.id] = len(rules)
        rules.append(
            {
                "id": rule.id,
                "name": "".join(w.capitalize() for w in rule.title.split() if w.isalnum())
                or rule.id,
                "shortDescription": {"text": rule.title},
                "fullDescription": {"text": rule.description or rule.title},
                "helpUri": rule.source,
                "help": {
                    "text": rule.remediation,
                    "markdown": f"**Remediation:** {rule.remediation}\n\n"
                    f"**The cloud answers:** {rule.error}\n\n**Source:** {rule.source}",
                },
                "properties": {
                    "tags": ["deploy", CATEGORY_TITLES[rule.category]],
                    "precision": "high",
                },
            }
        )

    def suppression(policy: str) -> list[dict[str, str]]:
        override = exceptions.get(policy)
        if override is None:
            return []
        return [{"kind": "external", "status": "accepted", "justification": override.reason}]

    results = []
    for policy_id, override in exceptions.items():
        text = (
            f"{policy_id} is {override.level} by an override in {ENFORCEMENT_FILE} "
            f"({override_effect(report, policy_id)}): {override.reason}"
        )
        results.append(
            {
                "ruleId": policy_id,
                "ruleIndex": index.get(policy_id, 0),
                # kind stays at its default ("fail"): SARIF 2.1.0 (3.27.9) allows a result
                # of any other kind no level but "none", and the issue asks for "note".
                "level": "note",
                "message": {"text": text},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": ENFORCEMENT_FILE},
                            "region": {"startLine": _override_line(enforcement, policy_id)},
                        }
                    }
                ],
                "partialFingerprints": {
                    "aiscaffoldOverride/v1": hashlib.sha256(
                        f"{policy_id}|{override.level}".encode()
                    ).hexdigest()
                },
                "suppressions": suppression(policy_id),
            }
        )
    shown = [
        *report.findings,
        *(f for f in report.suppressed if f.outcome == "violation"),
    ]
    for finding in shown:
        if finding.level == "disabled":
            level = "note"  # what a disabled policy would report: it blocks nothing
        elif finding.level == "mandatory" and finding.outcome == "violation":
            level = "error"
        else:
            level = "warning"
        fingerprint = hashlib.sha256(
            f"{finding.policy}|{finding.urn}|{finding.message}".encode()
        ).hexdigest()
        results.append(
            {
                "ruleId": finding.policy,
                "ruleIndex": index.get(finding.policy, 0),
                "level": level,
                "message": {"text": f"{finding.resource}: {finding.message}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": "__main__.py"},
                            "region": {"startLine": _source_line(program, finding, anchors)},
                        },
                        "logicalLocations": [
                            {
                                "name": finding.resource,
                                "fullyQualifiedName": finding.urn or finding.resource,
                                "kind": "resource",
                            }
                        ],
                    }
                ],
                "partialFingerprints": {"aiscaffoldFinding/v1": fingerprint},
            }
        )
        if finding.category == "policy" and finding.policy in exceptions:
            results[-1]["suppressions"] = suppression(finding.policy)
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "aiscaffold",
                        "version": __version__,
                        "informationUri": "https://github.com/aiscaffold/aiscaffold",
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": f"aiscaffold-check/{report.stack}/"},
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2)


def check_table(report: CheckReport, live: frozenset[str] | None = None) -> Group:
    """The check report for people: findings grouped by severity, then a summary.

    With ``live`` the summary counts as passing only the policies that passed and were
    proven live on this project, and says how many passed without that proof.
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    policy_findings = report.policy_findings
    for severity in ("critical", "high", "medium", "low"):
        findings = [f for f in policy_findings if f.severity == severity]
        if not findings:
            continue
        table = Table(
            title=f"{severity.upper()} ({len(findings)})",
            title_justify="left",
            show_lines=True,
            expand=True,
        )
        table.add_column("Policy", no_wrap=True)
        table.add_column("Level")
        table.add_column("Resource")
        table.add_column("Finding")
        table.add_column("Remediation")
        table.add_column("Frameworks")
        for f in findings:
            level = f.level if f.outcome == "violation" else "unknown"
            style = "bold red" if level == "mandatory" else "yellow"
            table.add_row(
                f.policy,
                Text(level, style=style),
                f.resource,
                f.message,
                f.remediation,
                "\n".join(f"{fw} {', '.join(cl)}" for fw, cl in f.frameworks.items()),
            )
        parts.append(table)
    deploy = report.deploy_findings
    if deploy:
        table = Table(
            title=f"DEPLOY RULES ({len(deploy)}): what the cloud would refuse, lock for good "
            "or share account-wide",
            title_justify="left",
            show_lines=True,
            expand=True,
        )
        table.add_column("Rule", no_wrap=True)
        table.add_column("Category")
        table.add_column("Resource")
        table.add_column("Finding")
        table.add_column("Remediation")
        table.add_column("Source")
        for f in deploy:
            style = "bold red" if f.level == "mandatory" else "yellow"
            shown = f.category if f.outcome == "violation" else f"{f.category} (unknown)"
            table.add_row(
                f.policy, Text(shown, style=style), f.resource, f.message, f.remediation, f.source
            )
        parts.append(table)
    if report.overrides:
        table = Table(
            title=f"OVERRIDES ({len(report.overrides)}) in {ENFORCEMENT_FILE}: reviewed "
            "exceptions, shown with their reasons",
            title_justify="left",
            show_lines=True,
            expand=True,
        )
        table.add_column("Policy", no_wrap=True)
        table.add_column("Level")
        table.add_column("Reason")
        table.add_column("Here")
        for policy, override in report.overrides.items():
            style = "yellow" if override.level != "mandatory" else ""
            table.add_row(
                policy,
                Text(override.level, style=style),
                override.reason,
                override_effect(report, policy),
            )
        parts.append(table)
    mandatory, advisory = len(report.mandatory), len(report.violations) - len(report.mandatory)
    credited, unproven = _pass_figures(report, live)
    verdict = "[bold green]PASS[/]" if not mandatory else "[bold red]FAIL[/]"
    parts.append(
        Text.from_markup(
            f"{verdict} {report.project} ({report.stack}): {report.resources} resources, "
            f"{report.policies} policies, {report.evaluations} evaluations: "
            f"{mandatory} mandatory violations, {advisory} advisory, "
            f"{len(report.unknown)} unknown, {report.not_applicable} not applicable; "
            + (
                f"{len(credited)} passed (proven live here), {len(unproven)} passed "
                "without a liveness proof (not counted); "
                if live is not None
                else ""
            )
            + f"{report.deploy_rules} deploy rules: {len(deploy)} findings"
            + (
                f"; {len(report.exceptions)} exceptions "
                f"({', '.join(f'{p} {o.level}' for p, o in report.exceptions.items())})"
                if report.exceptions
                else ""
            )
        )
    )
    return Group(*parts)


# ------------------------------------------------------------------ preview
def preview_json(run: MockRun) -> str:
    """Every resource of an offline run: type, name, parent, inputs."""
    return json.dumps(
        {
            "project": run.project,
            "stack": run.stack,
            "resources": [
                {
                    "type": r.type,
                    "name": r.name,
                    "urn": r.urn,
                    "parent": r.parent
                    if r.parent and "pulumi:pulumi:Stack" not in r.parent.split("::")[-2]
                    else None,
                    "custom": r.custom,
                    "protect": r.protect,
                    "inputs": r.inputs,
                }
                for r in run.resources
            ],
            "outputs": run.outputs,
        },
        indent=2,
        default=str,
    )


def preview_tree(run: MockRun, settings: dict[str, list[tuple[str, Any]]]) -> Tree:
    """The resource tree: components and their children, each with its key settings.

    ``settings`` maps a resource URN to the (path, value) pairs its policies read.
    """
    from rich.markup import escape
    from rich.tree import Tree

    root = Tree(
        f"[bold]{escape(run.project)}[/] ({escape(run.stack)}): {len(run.custom_resources)} resources"
    )
    nodes: dict[str, Tree] = {}
    for resource in run.resources:
        parent = nodes.get(resource.parent or "", root)
        label = f"[bold]{escape(resource.name)}[/] [dim]{escape(resource.type)}[/]"
        if resource.protect:
            label += " [magenta]protected[/]"
        node = parent.add(label)
        nodes[resource.urn] = node
        for path, value in settings.get(resource.urn, []):
            shown = json.dumps(value, default=str)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            node.add(f"[cyan]{escape(path)}[/] = {escape(shown)}")
    return root
