"""OSCAL evidence: the control catalog as a component definition, a check as assessment results.

Two documents of NIST's Open Security Controls Assessment Language, built as
compliance-trestle's OSCAL models (``trestle.oscal``) and serialised by it, so what is
written is what the library validates:

- :func:`component_definition` (``aiscaffold controls --format oscal``): one component
  per hardened component class of a cloud (``aiscaffold:aws:Network``, type
  ``software``) and the cloud's policy pack (type ``validation``). Each carries control
  implementations per framework source; each implemented requirement is one framework
  clause and names, as properties, the catalog controls that address it, the profile
  settings that configure them and the policies that verify them.
- :func:`assessment_results` (``aiscaffold check --format oscal``): one result for a
  project's stack: the resources the policies judged as inventory items, one observation
  per (policy, subject) verdict, findings for violations and for every clause of the
  chosen frameworks with its status, and the project's exceptions as risks.

Control ids (``control-id``, ``target-id``): OSCAL wants a token (a letter or ``_``
first, then letters, digits, ``.``, ``-``, ``_``). :func:`oscal_control_id` derives it
from the catalog's clause id: lower case; each parenthesised part becomes a ``.``
segment (``SC-7(5)`` -> ``sc-7.5``, ``164.312(a)(2)(iv)`` -> ``164.312.a.2.iv``); blanks
after a dot are dropped (``Art. 5(1)(c)`` -> ``art.5.1.c``); any other run of characters
outside ``[a-z0-9.-]`` becomes one ``-`` (``MEASURE 2.7`` -> ``measure-2.7``); and an id
that would start with a digit gets the framework id in front
(``hipaa-164.312.a.2.iv``, ``pci-dss-10.2.1``). For NIST SP 800-53 (the ``fedramp``
framework) this gives exactly the ids of NIST's OSCAL catalog (``ac-6``, ``sc-7.5``).

What counts as satisfied is what COMPLIANCE.md counts (:mod:`aiscaffold.project_reports`
decides both): a clause is ``satisfied`` only when the policies verifying its controls
passed on this project's resources, were proven live here by the mutation engine, and
none finds a violation or is left unverified by a disabled policy. A clause only the
team can satisfy is ``not-satisfied`` with the reason. Overrides that weaken a policy
(``advisory``, ``disabled``) are risks, linked from every finding they touch.

Determinism: every UUID is a version-5 UUID over stable content (:data:`NAMESPACE` and
the ids it identifies: cloud, component, framework, clause, policy, URN), a document's
own UUID over its whole content; iteration is in catalog or sorted order. The only
varying values are the timestamps, which ``SOURCE_DATE_EPOCH`` fixes
(https://reproducible-builds.org/specs/source-date-epoch/), so the same catalog and the
same project give byte-identical documents and ``git diff`` of two exports shows what
changed. docs/evidence-export.md explains both documents to an auditor.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiscaffold_components.catalog import CLOUDS, Catalog, Cloud, Control, load_catalog

from . import __version__

if TYPE_CHECKING:
    from trestle.oscal.assessment_results import AssessmentResults
    from trestle.oscal.common import Property
    from trestle.oscal.component import ComponentDefinition, ControlImplementation

    from .answers import Answers
    from .check import CheckReport

__all__ = [
    "NAMESPACE",
    "PROPERTY_NS",
    "assessment_results",
    "component_definition",
    "framework_source",
    "oscal_control_id",
    "oscal_json",
    "project_assessment_results",
]

#: The namespace of every UUID aiscaffold writes (fixed: changing it changes every id).
NAMESPACE = uuid.UUID("921b51ce-2adf-4b9d-863c-653cd2be15a8")

#: The namespace of aiscaffold's own OSCAL properties (``control``, ``policy``,
#: ``setting``, ``verdict``...): an identifier, documented in docs/evidence-export.md.
PROPERTY_NS = "https://github.com/aiscaffold/aiscaffold/ns/oscal"

#: The official OSCAL catalog of NIST SP 800-53 Rev. 5, which the FedRAMP baselines
#: profile: its control ids are the ``fedramp`` clauses in OSCAL form.
NIST_800_53_R5 = (
    "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/"
    "rev5/json/NIST_SP-800-53_rev5_catalog.json"
)

#: The aiscaffold catalog itself, the source of control ids when a project chose no
#: framework (its findings are then per catalog control, as COMPLIANCE.md's rows are).
CATALOG_SOURCE = "https://github.com/aiscaffold/aiscaffold/blob/main/docs/reference/controls.md"

#: Where the assessment results say the component definition is (``import-ap``).
COMPONENT_DEFINITION_FILE = "aiscaffold-component-definition.json"

_OTHER = re.compile(r"[^a-z0-9.\-]+")


def oscal_control_id(framework: str, clause: str) -> str:
    """The OSCAL token of a framework clause (the derivation is in the module docstring)."""
    text = clause.strip().lower()
    while True:  # (5) -> .5, innermost first, so nesting cannot leave a bracket
        replaced = re.sub(r"\(([^()]*)\)", r".\1", text)
        if replaced == text:
            break
        text = replaced
    text = re.sub(r"\.\s+", ".", text)
    text = _OTHER.sub("-", text)
    text = re.sub(r"([.\-])[.\-]+", r"\1", text).strip(".-")
    if not text[:1].isalpha():
        text = f"{framework}-{text}"
    return text


def framework_source(framework: str) -> str:
    """The ``source`` of a framework's control implementations: the framework's
    ``source`` in frameworks.yaml (NIST's OSCAL catalog for ``fedramp``).

    Raises:
        KeyError: the catalog has no such framework.
    """
    return load_catalog().frameworks[framework].source  # type: ignore[index]


# ------------------------------------------------------------------ shared pieces
def _uuid(*parts: str) -> str:
    """A version-5 UUID over ``parts`` (joined by a unit separator: no part can collide)."""
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def timestamp() -> datetime:
    """``SOURCE_DATE_EPOCH`` when set (reproducible output), else now; UTC, whole seconds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError, OSError):
            from .errors import UsageError

            raise UsageError(
                f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds since 1970",
                hint="Set it to an integer (git log -1 --format=%ct gives the last commit's).",
            ) from None
    return datetime.now(UTC).replace(microsecond=0)


def _props(*pairs: tuple[str, str | Iterable[str]]) -> list[Property] | None:
    """aiscaffold's properties, one per value, in the given order (None when empty)."""
    from trestle.oscal.common import Property

    out: list[Property] = []
    for name, values in pairs:
        for value in [values] if isinstance(values, str) else values:
            if value:
                out.append(Property(name=name, value=value, ns=PROPERTY_NS))
    return out or None


def _one_line(text: str) -> str:
    """Text for an OSCAL markup-line field (no line breaks)."""
    return " ".join(text.split())


def _with_content_uuid(model: Any) -> Any:
    """``model`` with its own UUID derived from its content, timestamps left out: a new
    catalog or a changed project gives a new document UUID, the same ones the same."""
    import json

    data = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    data.pop("uuid", None)
    data["metadata"].pop("last-modified", None)
    for result in data.get("results", []):
        for key in ("start", "end"):
            result.pop(key, None)
        for observation in result.get("observations", []):
            observation.pop("collected", None)
    model.uuid = _uuid("document", json.dumps(data, sort_keys=True))
    return model


def oscal_json(model: Any) -> str:
    """A document as OSCAL JSON: its root key (``component-definition``,
    ``assessment-results``) around trestle's serialisation, indented, keys in model order."""
    text: str = model.oscal_serialize_json(pretty=True)
    return text


def _policies_by_control(cloud: Cloud) -> dict[str, list[str]]:
    from aiscaffold_components.policies import registry

    out: dict[str, list[str]] = {}
    for policy in registry(cloud):
        for control_id in policy.controls:
            out.setdefault(control_id, []).append(policy.id)
    return out


def _framework_ids(catalog: Catalog, framework: str | None) -> list[str]:
    return [fw for fw in catalog.frameworks if framework is None or fw == framework]


# ------------------------------------------------------------------ component definition
def _control_implementations(
    catalog: Catalog,
    cloud: Cloud,
    owner: str,
    controls: Sequence[Control],
    frameworks: Sequence[str],
    by_control: Mapping[str, list[str]],
) -> list[ControlImplementation] | None:
    """Per framework, one implemented requirement per clause ``controls`` cite."""
    from trestle.oscal.component import ControlImplementation, ImplementedRequirement

    implementations = []
    for fw in frameworks:
        framework = catalog.frameworks[fw]  # type: ignore[index]
        requirements = []
        for clause in framework.clauses.values():
            cited = [c for c in controls if clause.id in c.frameworks.get(fw, ())]  # type: ignore[call-overload]
            if not cited:
                continue
            settings = [s.name for c in cited for s in catalog.settings_for(c.id)]
            policies = sorted({p for c in cited for p in by_control.get(c.id, [])})
            control_id = oscal_control_id(fw, clause.id)
            requirements.append(
                ImplementedRequirement(
                    uuid=_uuid("implemented-requirement", cloud, owner, fw, clause.id),
                    control_id=control_id,
                    description=f"{clause.id} {clause.title}: addressed by "
                    + "; ".join(f"{c.id} {c.title}" for c in cited)
                    + ".",
                    props=_props(
                        ("clause", clause.id),
                        ("control", [c.id for c in cited]),
                        ("setting", sorted(set(settings))),
                        ("policy", policies),
                    ),
                )
            )
        if requirements:
            implementations.append(
                ControlImplementation(
                    uuid=_uuid("control-implementation", cloud, owner, fw),
                    source=framework_source(fw),
                    description=f"{framework.title} ({framework.version})",
                    props=_props(("framework", fw)),
                    implemented_requirements=requirements,
                )
            )
    return implementations or None


def component_definition(
    cloud: Cloud | None = None, framework: str | None = None
) -> ComponentDefinition:
    """The control catalog as an OSCAL component definition.

    Args:
        cloud: only this cloud's components and policy pack (default: every cloud).
        framework: only the control implementations of this catalog framework id
            (default: every framework); components implementing none of its clauses
            are left out.

    Raises:
        KeyError: ``framework`` is not in the catalog, or has no documented source.
    """
    from trestle.oscal import OSCAL_VERSION
    from trestle.oscal.common import Metadata
    from trestle.oscal.component import ComponentDefinition, DefinedComponent

    catalog = load_catalog()
    if framework is not None and framework not in catalog.frameworks:
        raise KeyError(framework)
    frameworks = _framework_ids(catalog, framework)
    components = []
    for cloud_id in [cloud] if cloud else list(CLOUDS):
        by_control = _policies_by_control(cloud_id)
        controls = catalog.select(cloud=cloud_id, framework=framework)
        names = sorted({n for c in controls for n in c.implemented_by.get(cloud_id, ())})
        for name in names:
            own = [c for c in controls if name in c.implemented_by.get(cloud_id, ())]
            implementations = _control_implementations(
                catalog, cloud_id, name, own, frameworks, by_control
            )
            if implementations is None and framework is not None:
                continue
            components.append(
                DefinedComponent(
                    uuid=_uuid("component", cloud_id, name),
                    type="software",
                    title=f"aiscaffold:{cloud_id}:{name}",
                    description=f"The hardened Pulumi component {name} of aiscaffold for "
                    f"{catalog.clouds[cloud_id].title} (type token aiscaffold:{cloud_id}:{name}).",
                    props=_props(("cloud", cloud_id), ("control", [c.id for c in own])),
                    control_implementations=implementations,
                )
            )
        verified = [c for c in controls if by_control.get(c.id)]
        implementations = _control_implementations(
            catalog, cloud_id, "policy-pack", verified, frameworks, by_control
        )
        if implementations is None and framework is not None:
            continue
        components.append(
            DefinedComponent(
                uuid=_uuid("component", cloud_id, "policy-pack"),
                type="validation",
                title=f"aiscaffold:{cloud_id}:policy-pack",
                description=f"The Pulumi policy pack of aiscaffold for "
                f"{catalog.clouds[cloud_id].title}: `pulumi preview --policy-pack policy` and "
                "`aiscaffold check` evaluate these policies against what the program creates.",
                props=_props(
                    ("cloud", cloud_id),
                    ("policy", sorted({p for c in verified for p in by_control[c.id]})),
                ),
                control_implementations=implementations,
            )
        )
    scope = " ".join(x for x in (cloud, framework) if x) or "all clouds and frameworks"
    document = ComponentDefinition(
        uuid=_uuid("placeholder"),
        metadata=Metadata(
            title=f"aiscaffold control catalog ({scope})",
            last_modified=timestamp(),
            version=__version__,
            oscal_version=OSCAL_VERSION,
            props=_props(("cloud", cloud or ""), ("framework", framework or "")),
        ),
        components=components or None,
    )
    result: ComponentDefinition = _with_content_uuid(document)
    return result


# ------------------------------------------------------------------ assessment results
def _urn_parts(urn: str) -> tuple[str, str]:
    """The (type, name) of a Pulumi URN (``urn:pulumi:stack::project::parent$type::name``)."""
    parts = urn.split("::", 3)
    if len(parts) < 4:
        return "", urn
    return parts[2].rsplit("$", 1)[-1], parts[3]


def _stack_urn(project: str, stack: str) -> str:
    """The stack's own URN: the subject of stack policies (as the check names it)."""
    return f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"


def assessment_results(
    report: CheckReport,
    answers: Answers,
    *,
    live: frozenset[str] | None,
    template_commit: str | None = None,
) -> AssessmentResults:
    """An offline check of one stack as OSCAL assessment results.

    Args:
        report: the check of the stack (:func:`aiscaffold.check.evaluate`).
        answers: the project's answers (its frameworks and cloud).
        live: the policies the mutation engine proved live on this stack
            (:func:`aiscaffold.liveness.project_liveness`); None: no proof, nothing is
            credited and no clause is satisfied.
        template_commit: the template version the project was rendered from
            (``_commit`` of ``.copier-answers.yml``).
    """
    from trestle.oscal import OSCAL_VERSION
    from trestle.oscal.assessment_results import (
        AssessmentResults,
        ImportAp,
        LocalDefinitions1,
        Result,
    )
    from trestle.oscal.common import (
        AssociatedRisk,
        BackMatter,
        ControlSelections,
        Finding,
        FindingTarget,
        InventoryItem,
        Metadata,
        ObjectiveStatus,
        Observation,
        RelatedObservation,
        Resource,
        ReviewedControls,
        Risk,
        Rlink,
        SelectControlById,
        SubjectReference,
    )

    from .project_reports import StackEvidence, _row
    from .reports import override_effect

    catalog = load_catalog()
    now = timestamp()
    project, stack = report.project, report.stack
    evidence = StackEvidence(stack, report, None, report.exceptions, live)
    credited = evidence.credited
    policies = {p.id: p for p in [*report.policy_objects, *report.disabled_objects]}
    by_control = _policies_by_control(answers.cloud)

    def subject_urn(urn: str) -> str:
        return urn or _stack_urn(project, stack)

    # The resources judged (and those a violation names) are the inventory.
    urns = {subject_urn(u) for by in report.verdicts.values() for u in by}
    urns |= {subject_urn(f.urn) for f in report.violations}
    inventory = [
        InventoryItem(
            uuid=_uuid("inventory-item", urn),
            description=f"{_urn_parts(urn)[0]} {_urn_parts(urn)[1]}",
            props=_props(
                ("pulumi-urn", urn),
                ("resource-type", _urn_parts(urn)[0]),
                ("resource-name", _urn_parts(urn)[1]),
            ),
        )
        for urn in sorted(urns)
    ]

    # One observation per (policy, subject) verdict.
    messages: dict[tuple[str, str], list[str]] = {}
    for f in report.findings:
        messages.setdefault((f.policy, subject_urn(f.urn)), []).append(f.message)
    observations = []
    observed: dict[str, list[str]] = {}  # policy -> its observations' uuids
    for policy_id in sorted(report.verdicts):
        policy = policies.get(policy_id)
        for raw_urn, verdict in sorted(report.verdicts[policy_id].items()):
            urn = subject_urn(raw_urn)
            kind, name = _urn_parts(urn)
            reason = report.not_applicable_reasons.get(policy_id, {}).get(raw_urn)
            said = messages.get((policy_id, urn), [])
            is_credited = verdict == "passed" and policy_id in credited
            observation_uuid = _uuid("observation", policy_id, urn)
            observed.setdefault(policy_id, []).append(observation_uuid)
            observations.append(
                Observation(
                    uuid=observation_uuid,
                    title=f"{policy_id} on {name}: {verdict}",
                    description=(policy.title if policy else policy_id)
                    + f": {verdict} on {kind} {name}"
                    + (" (credited: passed and proven live here)" if is_credited else "."),
                    props=_props(
                        ("policy", policy_id),
                        ("verdict", verdict),
                        ("credited", "true" if is_credited else "false"),
                        ("control", list(policy.controls) if policy else []),
                    ),
                    methods=["TEST"],
                    subjects=[
                        SubjectReference(
                            subject_uuid=_uuid("inventory-item", urn),
                            type="inventory-item",
                            title=urn,
                            props=_props(("resource-type", kind)),
                        )
                    ],
                    collected=now,
                    remarks="\n".join(filter(None, [reason, *said])) or None,
                )
            )

    # Exceptions (overrides that weaken a policy) are risks.
    risks = []
    risk_of: dict[str, str] = {}
    for policy_id, override in sorted(report.exceptions.items()):
        risk_uuid = _uuid("risk", policy_id)
        risk_of[policy_id] = risk_uuid
        policy = policies.get(policy_id)
        risks.append(
            Risk(
                uuid=risk_uuid,
                title=f"Exception: {policy_id} {override.level}",
                description=f"policy/enforcement.yaml sets {policy_id} "
                f"({policy.title if policy else policy_id}) to {override.level}: "
                f"{override_effect(report, policy_id)}.",
                statement=override.reason,
                props=_props(
                    ("policy", policy_id),
                    ("level", override.level),
                    ("control", list(policy.controls) if policy else []),
                ),
                status="deviation-approved",
                related_observations=[
                    RelatedObservation(observation_uuid=o) for o in observed.get(policy_id, [])
                ]
                or None,
            )
        )

    def related(policy_ids: Iterable[str]) -> dict[str, Any]:
        ids = sorted(set(policy_ids))
        obs = [RelatedObservation(observation_uuid=o) for p in ids for o in observed.get(p, [])]
        rsk = [AssociatedRisk(risk_uuid=risk_of[p]) for p in ids if p in risk_of]
        return {"related_observations": obs or None, "related_risks": rsk or None}

    findings = []
    # Violations: one finding each, its target the policy (the test aiscaffold ran).
    for f in report.violations:
        urn = subject_urn(f.urn)
        finding_obs = (
            [RelatedObservation(observation_uuid=_uuid("observation", f.policy, urn))]
            if (f.urn in report.verdicts.get(f.policy, {}))
            else None
        )
        findings.append(
            Finding(
                uuid=_uuid("finding", "violation", f.policy, urn, f.message),
                title=f"{f.policy} violation on {f.resource}",
                description=f"{f.title}: {f.message}",
                props=_props(
                    ("policy", f.policy),
                    ("level", f.level),
                    ("severity", f.severity),
                    ("category", f.category),
                    ("pulumi-urn", urn),
                    ("resource-type", f.type),
                    ("control", list(f.controls)),
                ),
                target=FindingTarget(
                    type="objective-id",
                    target_id=f.policy,
                    title=_one_line(f.title),
                    status=ObjectiveStatus(state="not-satisfied", reason="fail"),
                ),
                related_observations=finding_obs,
                related_risks=[AssociatedRisk(risk_uuid=risk_of[f.policy])]
                if f.policy in risk_of
                else None,
                remarks=f.remediation or None,
            )
        )

    # The status of every clause of the chosen frameworks (of every catalog control
    # when none was chosen, as COMPLIANCE.md's rows are).
    controls = [c for c in catalog.controls if c.applies_to(answers.cloud)]
    selections = []
    targets: list[tuple[str, str, str, str, list[Control], str | None]] = []
    for chosen in answers.compliance:
        fw = str(chosen)
        framework = catalog.frameworks[chosen]
        clause_ids = []
        for clause in framework.clauses.values():
            cited = [c for c in controls if clause.id in c.frameworks.get(chosen, ())]
            why = clause.customer or (
                None
                if cited
                else f"No control of this project addresses it on {catalog.clouds[answers.cloud].title}."
            )
            control_id = oscal_control_id(fw, clause.id)
            clause_ids.append(control_id)
            targets.append((fw, control_id, clause.id, clause.title, cited, why))
        selections.append(
            ControlSelections(
                description=f"{framework.title} ({framework.version}): {framework_source(fw)}",
                props=_props(("framework", fw)),
                include_controls=[SelectControlById(control_id=i) for i in clause_ids],
            )
        )
    if not answers.compliance:
        for control in controls:
            targets.append(("", control.id.lower(), control.id, control.title, [control], None))
        selections.append(
            ControlSelections(
                description=f"The aiscaffold control catalog (no framework chosen): {CATALOG_SOURCE}",
                include_controls=[SelectControlById(control_id=c.id.lower()) for c in controls],
            )
        )
    titles = {str(k): f.title for k, f in catalog.frameworks.items()}
    for fw, control_id, label, title, cited, customer in targets:
        if customer is not None:
            state, reason, remarks = (
                "not-satisfied",
                "other",
                f"Customer responsibility: {customer}",
            )
            ids: list[str] = []
        else:
            ids = sorted({p for c in cited for p in by_control.get(c.id, [])})
            verified, status = _row(cited, by_control, evidence)
            satisfied = status.startswith("✅")
            state = "satisfied" if satisfied else "not-satisfied"
            reason = "pass" if satisfied else "fail"
            remarks = status.replace("<br>", "\n")
            if verified != "—":
                remarks += f"\nVerified by: {verified}"
        findings.append(
            Finding(
                uuid=_uuid("finding", "clause", fw, label),
                title=f"{label} {_one_line(title)}",
                description=f"{titles.get(fw, 'aiscaffold control')} {label}: {state}.",
                props=_props(
                    ("framework", fw),
                    ("clause", label if fw else ""),
                    ("control", [c.id for c in cited]),
                    ("responsibility", "customer" if customer is not None else ""),
                    ("policy", [p for p in ids if p in credited]),
                ),
                target=FindingTarget(
                    type="objective-id",
                    target_id=control_id,
                    title=f"{label} {_one_line(title)}",
                    status=ObjectiveStatus(state=state, reason=reason),
                ),
                remarks=remarks,
                **related(ids),
            )
        )

    # import-ap is required; aiscaffold has no assessment plan: it points at the
    # component definition the results test (a back-matter resource naming the command
    # that writes it, and where to keep it next to this document).
    definition = component_definition(answers.cloud)
    resource_uuid = _uuid("back-matter", "component-definition", answers.cloud)
    frameworks = list(answers.compliance)
    metadata_props = _props(
        ("project", project),
        ("stack", stack),
        ("cloud", answers.cloud),
        ("data-sensitivity", answers.data_sensitivity),
        ("framework", frameworks),
        ("template-commit", template_commit or ""),
        ("aiscaffold-version", __version__),
    )
    result = Result(
        uuid=_uuid("result", project, stack),
        title=f"aiscaffold check of {project}, stack {stack}",
        description="The project's program ran offline under Pulumi mocks; its policy pack "
        "evaluated every resource it would create. Only a passed verdict of a policy proven "
        "live on this project (the mutation engine weakened these resources and it failed) "
        "is credited.",
        start=now,
        end=now,
        local_definitions=LocalDefinitions1(inventory_items=inventory or None),
        reviewed_controls=ReviewedControls(control_selections=selections),
        observations=observations or None,
        risks=risks or None,
        findings=findings or None,
    )
    document = AssessmentResults(
        uuid=_uuid("placeholder"),
        metadata=Metadata(
            title=f"aiscaffold assessment results: {project} ({stack})",
            last_modified=now,
            version=__version__,
            oscal_version=OSCAL_VERSION,
            props=metadata_props,
        ),
        import_ap=ImportAp(
            href=f"#{resource_uuid}",
            remarks="aiscaffold runs no separate assessment plan: the component definition "
            "of the project's cloud (back-matter) says what is tested and how.",
        ),
        results=[result],
        back_matter=BackMatter(
            resources=[
                Resource(
                    uuid=resource_uuid,
                    title=f"aiscaffold component definition ({answers.cloud})",
                    description=f"Written by `aiscaffold controls --format oscal --cloud "
                    f"{answers.cloud} > {COMPONENT_DEFINITION_FILE}` with aiscaffold "
                    f"{__version__}; its uuid is {definition.uuid}.",
                    props=_props(("component-definition-uuid", definition.uuid)),
                    rlinks=[Rlink(href=COMPONENT_DEFINITION_FILE, media_type="application/json")],
                )
            ]
        ),
    )
    out: AssessmentResults = _with_content_uuid(document)
    return out


def project_assessment_results(
    path: str | Path = ".", *, stack: str | None = None
) -> tuple[AssessmentResults, CheckReport]:
    """``aiscaffold check --format oscal``: the check of one stack as assessment results.

    The check and its liveness proof are :func:`aiscaffold.liveness.check_with_liveness`'s
    (cached in the project's ``.aiscaffold/``); answers and the template version come
    from ``.copier-answers.yml``.

    Raises:
        ProjectError: not a generated project, or unreadable answers or policy settings.
        ProgramFailed: the program raised under mocks.
    """
    import yaml

    from .liveness import check_with_liveness
    from .project_reports import ANSWERS_FILE, _own_answers, project_answers

    project = Path(path).resolve()
    report, live = check_with_liveness(project, stack=stack)
    # A stack added with `aiscaffold stack add` is assessed against its own answers.
    answers = _own_answers(project, report.stack) or project_answers(project)
    recorded = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8")) or {}
    commit = recorded.get("_commit")
    results = assessment_results(
        report, answers, live=live, template_commit=str(commit) if commit else None
    )
    return results, report
