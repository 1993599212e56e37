"""Model Armor: the template and the project floor setting screening model calls.

Templates and floor settings share the shape of ``filterConfig``, so the filter
policies read both: the template is what applications and integrations screen with,
the floor the minimum every template must meet, enforced on Vertex AI calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import of_type, some

TEMPLATE = "gcp:modelarmor/template:Template"
FLOOR = "gcp:modelarmor/floorsetting:Floorsetting"
INSPECT_TEMPLATE = "gcp:dataloss/preventionInspectTemplate:PreventionInspectTemplate"
ENABLED = "ENABLED"

#: The responsible-AI filter categories.
RAI_FILTERS = ("HATE_SPEECH", "HARASSMENT", "SEXUALLY_EXPLICIT", "DANGEROUS")
#: Confidence thresholds, from the one that blocks most.
CONFIDENCE_ORDER = ("LOW_AND_ABOVE", "MEDIUM_AND_ABOVE", "HIGH")
#: The threshold each filter strength of the profile asks for (a HIGH strength blocks
#: at the lowest confidence).
REQUIRED_CONFIDENCE = {"HIGH": "LOW_AND_ABOVE", "MEDIUM": "MEDIUM_AND_ABOVE", "LOW": "HIGH"}
#: The threshold prompt-injection and jailbreak detection blocks from (AI-02), whatever
#: the profile's content filter strength.
PROMPT_INJECTION_CONFIDENCE = CONFIDENCE_ORDER[0]
_LIKELIHOOD_ORDER = ("VERY_UNLIKELY", "UNLIKELY", "POSSIBLE", "LIKELY", "VERY_LIKELY")


def _required(requirements: Requirements) -> str:
    return REQUIRED_CONFIDENCE[str(requirements.setting("content_filter_strength"))]


def _too_lax(level: Any, required: str) -> bool:
    """Whether a confidence threshold blocks less than ``required`` (unset counts as lax)."""
    if level not in CONFIDENCE_ORDER:
        return True
    return CONFIDENCE_ORDER.index(level) > CONFIDENCE_ORDER.index(required)


def _kind(resource: Resource) -> str:
    return "floor setting" if resource.type == FLOOR else "template"


@resource_policy(
    id="GCP-ARMOR-001",
    title="Responsible-AI filters screen every category at the profile's strength",
    severity="high",
    types=[TEMPLATE, FLOOR],
    controls=["AI-01"],
    remediation="Configure rai_settings with HATE_SPEECH, HARASSMENT, SEXUALLY_EXPLICIT and "
    "DANGEROUS at the confidence level of the profile's content_filter_strength (HIGH: "
    "LOW_AND_ABOVE, MEDIUM: MEDIUM_AND_ABOVE, LOW: HIGH).",
)
def rai_filters(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Prompts and responses are screened for hate speech, harassment, sexually explicit
    and dangerous content, each blocking at the confidence the profile's
    `content_filter_strength` asks for or lower."""
    required = _required(requirements)
    levels = {
        str(f.get("filterType")): f.get("confidenceLevel")
        for f in resource.items("filterConfig", "raiSettings", "raiFilters")
    }
    for kind in RAI_FILTERS:
        if kind not in levels:
            yield f"{resource.name} has no {kind} filter"
        elif _too_lax(levels[kind], required):
            yield (
                f"{resource.name} filters {kind} at {levels[kind] or 'no confidence level'}; "
                f"the profile requires {required}"
            )


@resource_policy(
    id="GCP-ARMOR-002",
    title="Prompt injection and jailbreak detection is on at the most sensitive threshold",
    severity="critical",
    types=[TEMPLATE, FLOOR],
    controls=["AI-02"],
    remediation="Set pi_and_jailbreak_filter_settings with filter_enforcement ENABLED and "
    "confidence_level LOW_AND_ABOVE (Guardrail(prompt_injection_filter=True) with the "
    "default prompt_injection_confidence).",
)
def prompt_injection(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Inputs are screened for prompt injection and jailbreak attempts, blocking from
    LOW_AND_ABOVE confidence whatever the profile's content filter strength: tolerating
    borderline content is no reason to tolerate likelier attacks."""
    settings = resource.get("filterConfig", "piAndJailbreakFilterSettings")
    if settings is None or settings.get("filterEnforcement") != ENABLED:
        yield f"{resource.name} does not detect prompt injection and jailbreaks"
        return
    level = settings.get("confidenceLevel")
    if _too_lax(level, PROMPT_INJECTION_CONFIDENCE):
        yield (
            f"{resource.name} detects prompt injection at {level or 'no confidence level'}; "
            f"AI-02 requires {PROMPT_INJECTION_CONFIDENCE}"
        )


@resource_policy(
    id="GCP-ARMOR-003",
    title="Sensitive data protection screens prompts and responses",
    severity="high",
    types=[TEMPLATE, FLOOR],
    controls=["AI-03"],
    remediation="Set sdp_settings: an advanced_config with the inspect template when the "
    "profile's sensitive_data_protection is advanced (Guardrail does), the basic_config "
    "ENABLED otherwise and on the floor setting.",
)
def sensitive_data(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Personal and payment data is detected in prompts and responses: Model Armor's
    basic detectors at least, and on templates an inspect template (advanced
    configuration) when the profile's `sensitive_data_protection` is advanced."""
    advanced = bool(
        resource.get("filterConfig", "sdpSettings", "advancedConfig", "inspectTemplate")
    )
    basic = (
        resource.get("filterConfig", "sdpSettings", "basicConfig", "filterEnforcement") == ENABLED
    )
    wants_advanced = requirements.setting("sensitive_data_protection") == "advanced"
    if resource.type == TEMPLATE and wants_advanced and not advanced:
        yield f"{resource.name} has no advanced sensitive data protection (an inspect template)"
    elif not (advanced or basic):
        yield f"{resource.name} ({_kind(resource)}) does not screen for sensitive data"


@resource_policy(
    id="GCP-ARMOR-004",
    title="The malicious URI filter is on",
    severity="medium",
    types=[TEMPLATE, FLOOR],
    controls=["AI-01"],
    remediation="Set malicious_uri_filter_settings.filter_enforcement to ENABLED.",
)
def malicious_uri(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Prompts and responses carrying known malicious URLs are caught."""
    if resource.get("filterConfig", "maliciousUriFilterSettings", "filterEnforcement") != ENABLED:
        yield f"{resource.name} does not filter malicious URIs"


@resource_policy(
    id="GCP-ARMOR-005",
    title="Screening blocks, not only inspects",
    severity="high",
    types=[TEMPLATE, FLOOR],
    controls=["AI-05"],
    remediation="Template: enforcement_type INSPECT_AND_BLOCK (the default); floor setting: "
    "enable_floor_setting_enforcement=True and ai_platform_floor_setting.inspect_and_block=True.",
)
def blocking(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Requests that trip a filter are blocked: templates in INSPECT_AND_BLOCK mode (the
    default), the floor setting enforced and blocking Vertex AI calls."""
    if resource.type == TEMPLATE:
        if resource.get("templateMetadata", "enforcementType") == "INSPECT_ONLY":
            yield f"{resource.name} only inspects: nothing is blocked"
        return
    if resource.get("enableFloorSettingEnforcement") is not True:
        yield f"{resource.name} is not enforced: templates may fall below it"
    platform = resource.get("aiPlatformFloorSetting")
    if platform is not None and (
        platform.get("inspectAndBlock") is not True or platform.get("inspectOnly") is True
    ):
        yield f"{resource.name} only inspects Vertex AI calls: nothing is blocked"


@resource_policy(
    id="GCP-ARMOR-006",
    title="The floor setting screens every Vertex AI call",
    severity="high",
    types=[FLOOR],
    controls=["AI-05"],
    remediation="Set integrated_services=['AI_PLATFORM'] and ai_platform_floor_setting on "
    "the floor setting (Guardrail(floor_setting=True)).",
)
def vertex_integration(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The floor setting is integrated with Vertex AI, so every generateContent call in
    the project is screened whether or not the application calls Model Armor."""
    if "AI_PLATFORM" not in [str(s) for s in resource.items("integratedServices")]:
        yield f"{resource.name} is not integrated with Vertex AI"
    if resource.get("aiPlatformFloorSetting") is None:
        yield f"{resource.name} has no Vertex AI screening setting"


@resource_policy(
    id="GCP-ARMOR-007",
    title="Model Armor screening is logged",
    severity="medium",
    types=[TEMPLATE, FLOOR],
    controls=["LOG-05"],
    remediation="Template: template_metadata.log_sanitize_operations and "
    "log_template_operations True; floor: ai_platform_floor_setting.enable_cloud_logging True.",
)
def screening_logged(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Every screening verdict (and every change of a template) reaches Cloud Logging, so
    model calls and what the guardrail did with them are on record."""
    if resource.type == TEMPLATE:
        if resource.get("templateMetadata", "logSanitizeOperations") is not True:
            yield f"{resource.name} does not log screening operations"
        if resource.get("templateMetadata", "logTemplateOperations") is not True:
            yield f"{resource.name} does not log changes to the template"
        return
    platform = resource.get("aiPlatformFloorSetting")
    if platform is None:
        raise NotApplicable("the floor setting screens no Vertex AI call (GCP-ARMOR-006)")
    if platform.get("enableCloudLogging") is not True:
        yield f"{resource.name} does not log the screening of Vertex AI calls"


@resource_policy(
    id="GCP-ARMOR-011",
    title="Screening covers prompts in every language",
    severity="high",
    types=[TEMPLATE, FLOOR],
    controls=["AI-02", "AI-01"],
    remediation="Template: template_metadata.multi_language_detection."
    "enable_multi_language_detection=True; floor setting: the same under "
    "floor_setting_metadata.",
)
def every_language(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Multi-language detection is on, so a jailbreak or harmful request translated
    out of English is screened like the original."""
    key = "templateMetadata" if resource.type == TEMPLATE else "floorSettingMetadata"
    if resource.get(key, "multiLanguageDetection", "enableMultiLanguageDetection") is not True:
        yield f"{resource.name} screens prompts in English only (no multi-language detection)"


@stack_policy(
    id="GCP-ARMOR-008",
    title="Vertex AI workloads are guarded by a Model Armor template and floor setting",
    severity="high",
    controls=["AI-05", "AI-01"],
    remediation="Add the Guardrail component: a Model Armor template and the project "
    "floor setting integrated with Vertex AI.",
)
def guarded_workload(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A stack that serves or calls Vertex AI models has a Model Armor template and a
    floor setting integrated with Vertex AI: the guardrail cannot be skipped."""
    if not any(r.type.startswith(("gcp:vertex/", "gcp:workbench/")) for r in resources):
        raise NotApplicable("the stack runs no Vertex AI resource")
    if not of_type(resources, TEMPLATE):
        yield None, "no Model Armor template screens the workload's prompts and responses"
    if not some(
        of_type(resources, FLOOR),
        lambda f: "AI_PLATFORM" in [str(s) for s in f.items("integratedServices")],
    ):
        yield None, "no Model Armor floor setting screens the project's Vertex AI calls"


def _inspect_templates(
    resources: Sequence[Resource],
) -> list[tuple[Resource, Resource]]:
    """(Model Armor template, its inspect template) pairs found in the stack."""
    inspect = {
        f"{r.get('parent')}/inspectTemplates/{r.get('templateId')}": r
        for r in of_type(resources, INSPECT_TEMPLATE)
    }
    pairs = []
    for template in of_type(resources, TEMPLATE):
        name = template.get("filterConfig", "sdpSettings", "advancedConfig", "inspectTemplate")
        if name in inspect:
            pairs.append((template, inspect[str(name)]))
    return pairs


@stack_policy(
    id="GCP-ARMOR-009",
    title="The inspect template finds every entity type the profile selects",
    severity="medium",
    controls=["AI-03"],
    remediation="List the infoTypes of the profile's pii_entities in the inspect template "
    "(Guardrail(pii_entities=profile.pii_entities)), with min_likelihood POSSIBLE or lower.",
)
def inspect_entities(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """The Sensitive Data Protection inspect template of the guardrail looks for the
    infoTypes of every entity type in the profile's `pii_entities`, and reports
    findings from POSSIBLE likelihood up."""
    from aiscaffold_components.gcp.guardrail import PII_INFO_TYPES

    pairs = _inspect_templates(resources)
    if not pairs:
        raise NotApplicable("no Model Armor template uses an inspect template of this stack")
    expected = {
        info_type
        for entity in requirements.setting("pii_entities")
        for info_type in PII_INFO_TYPES.get(str(entity), ())
    }
    for _, inspect in pairs:
        found = {str(t.get("name")) for t in inspect.items("inspectConfig", "infoTypes")}
        missing = sorted(expected - found)
        if missing:
            yield inspect, f"{inspect.name} does not look for {', '.join(missing)}"
        likelihood = inspect.get("inspectConfig", "minLikelihood", default="POSSIBLE")
        if likelihood in _LIKELIHOOD_ORDER and _LIKELIHOOD_ORDER.index(likelihood) > 2:
            yield inspect, f"{inspect.name} ignores findings below {likelihood}"


@stack_policy(
    id="GCP-ARMOR-010",
    title="Denied topics are refused where Model Armor can express them",
    severity="medium",
    controls=["AI-04"],
    remediation="Add the denied topics as a dictionary custom infoType to the inspect "
    "template (Guardrail(denied_topics=profile.guardrail_denied_topics) with advanced "
    "sensitive data protection).",
)
def denied_topics(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Model Armor has no topic classifier: with advanced sensitive data protection the
    answered `guardrail_denied_topics` are matched as dictionary phrases of the inspect
    template; with basic protection they cannot be expressed (the README names them)."""
    topics = [t.lower() for t in requirements.guardrail_denied_topics]
    if not topics:
        raise NotApplicable("the project denies no topics")
    if requirements.setting("sensitive_data_protection") != "advanced":
        raise NotApplicable("basic sensitive data protection cannot express denied topics")
    templates = of_type(resources, TEMPLATE)
    if not templates:
        raise NotApplicable("the stack has no Model Armor template (GCP-ARMOR-008)")
    paired = dict((t.urn, i) for t, i in _inspect_templates(resources))
    for template in templates:
        inspect = paired.get(template.urn)
        if inspect is None:
            yield template, f"{template.name} has no inspect template to refuse denied topics"
            continue
        words = {
            str(w).lower()
            for custom in inspect.items("inspectConfig", "customInfoTypes")
            for w in (custom.get("dictionary") or {}).get("wordList", {}).get("words", [])
        }
        missing = [t for t in topics if t not in words]
        if missing:
            yield inspect, f"{inspect.name} does not refuse {', '.join(missing)}"
