"""Reports a generated project carries, derived from its own resources.

``COMPLIANCE.md`` is the control matrix of the chosen frameworks: every clause the
catalog knows, the controls that address it, the components and resources of this
project that implement them, the policies that verify them, and their status in an
offline check run when the file is written; clauses infrastructure cannot satisfy are
listed as the customer's responsibility. ``docs/architecture.md`` is a Mermaid diagram
of the components the program creates and how they use each other, from the same run.

Both are written by ``aiscaffold new`` and ``aiscaffold update`` (they are reports, not
template files: edit the program, not them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from aiscaffold_components.catalog import Control, load_catalog
from aiscaffold_components.policies import Policy

from .answers import Answers
from .check import CheckReport, evaluate, load_extra_policies, load_requirements
from .testing import MockRun, run_program

__all__ = ["architecture_markdown", "compliance_markdown", "write_reports"]

COMPLIANCE_FILE = "COMPLIANCE.md"
ARCHITECTURE_FILE = "docs/architecture.md"


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


def _status(policy_ids: Iterable[str], report: CheckReport | None) -> str:
    """A clause's or control's status: only policies that reached a verdict count."""
    ids = sorted(set(policy_ids))
    if report is None:
        return "not checked"
    if not ids:
        return "no policy"
    failing = sorted({f.policy for f in report.violations if f.policy in ids})
    if failing:
        return "❌ violations: " + ", ".join(failing)
    unknown = sorted({f.policy for f in report.unknown if f.policy in ids})
    if unknown:
        return "❔ unknown offline: " + ", ".join(unknown)
    passed = [i for i in ids if i in report.checked]
    if not passed:
        return "➖ nothing here for its policies to verify"
    return f"✅ {len(passed)} {'policy passes' if len(passed) == 1 else 'policies pass'}"


def compliance_markdown(answers: Answers, report: CheckReport | None, run: MockRun | None) -> str:
    """The control matrix of a project, for its chosen frameworks."""
    from aiscaffold_components.policies import registry

    catalog = load_catalog()
    policies = registry(answers.cloud)
    by_control: dict[str, list[str]] = {}
    for policy in policies:
        for control_id in policy.controls:
            by_control.setdefault(control_id, []).append(policy.id)
    controls = [c for c in catalog.controls if c.applies_to(answers.cloud)]

    lines = [
        f"# Compliance matrix: {answers.project_name}",
        "",
        f"{answers.ai_service} on {catalog.clouds[answers.cloud].title} in {answers.region}; "
        f"data sensitivity **{answers.data_sensitivity}**.",
        "",
        "Written by aiscaffold from its control catalog and an offline check of this project "
        f"(stack `{answers.stack}`): the program ran under Pulumi mocks and the policy pack "
        "evaluated what it would create. Run `aiscaffold check` for the current state; "
        "`aiscaffold update` rewrites this file.",
        "",
        "Status: ✅ the policies verifying the clause's controls that apply to this "
        "project's resources pass (the count says how many); ❌ a policy finds a violation; "
        "❔ a value a policy reads is unknown offline; ➖ none of its policies applies to "
        "what this project creates; 👤 the customer's responsibility (infrastructure alone "
        "cannot satisfy it).",
        "",
    ]
    lines += _outside_this_stack(answers, policies)
    if report is None:
        lines += [
            "> The offline check could not run when this file was written; statuses read "
            "*not checked*. Install the project's requirements and run `aiscaffold check`.",
            "",
        ]
    if not answers.compliance:
        lines += [
            "No compliance framework was chosen. The controls below are in force for the data "
            "sensitivity; `aiscaffold update --data 'compliance=[hipaa]'` maps them to frameworks.",
            "",
            "| Control | Title | Implemented by | Verified by | Status |",
            "|---|---|---|---|---|",
        ]
        for control in controls:
            ids = by_control.get(control.id, [])
            lines.append(
                f"| {control.id} | {control.title} | {', '.join(_components_of(control, answers, run))} "
                f"| {', '.join(ids)} | {_status(ids, report)} |"
            )
        return "\n".join(lines) + "\n"

    for framework_id in answers.compliance:
        framework = catalog.frameworks[framework_id]
        lines += [f"## {framework.title} ({framework.version})", ""]
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
            ids = sorted({p for c in cited for p in by_control.get(c.id, [])})
            lines.append(
                f"| {clause.id} | {clause.title} | "
                + ", ".join(f"{c.id} {c.title}" for c in cited)
                + f" | {', '.join(components)} | {', '.join(ids)} | {_status(ids, report)} |"
            )
        if customer:
            lines += [
                "",
                f"### Customer responsibilities ({framework.title})",
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
    return "\n".join(lines).rstrip("\n") + "\n"


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
    """Run the project offline and write COMPLIANCE.md and docs/architecture.md."""
    run: MockRun | None
    report: CheckReport | None
    try:
        run = run_program(project, stack=answers.stack)
        report = evaluate(run, load_requirements(project), load_extra_policies(project))
    except Exception:  # the reports then say "not checked" instead of a status
        run, report = None, None
    compliance = project / COMPLIANCE_FILE
    compliance.write_text(compliance_markdown(answers, report, run), encoding="utf-8")
    architecture = project / ARCHITECTURE_FILE
    architecture.parent.mkdir(parents=True, exist_ok=True)
    architecture.write_text(architecture_markdown(answers, run), encoding="utf-8")
    # ----- deployer permissions (issue 19): docs/deployer-permissions.md + machine form
    from .deployer_permissions import write_deployer_permissions

    write_deployer_permissions(project, answers, run)
    # ----- end deployer permissions
    return compliance, architecture
