"""AI guardrails: a Model Armor template and the project's Model Armor floor setting.

The template screens prompts and responses with the responsible-AI filters (hate
speech, harassment, sexually explicit, dangerous), prompt-injection and jailbreak
detection, Sensitive Data Protection and the malicious URI filter, in
inspect-and-block mode. The project floor setting enforces the same filters as the
minimum every template must meet and, integrated with Vertex AI, screens every
``generateContent`` call in the project; the Vertex AI service agent gets
``roles/modelarmor.user`` on the project for that (the integration's documented
requirement).

``content_filter_strength`` follows the vocabulary shared with the other clouds: a
HIGH strength blocks the most, so it maps to Model Armor's lowest confidence threshold
(``LOW_AND_ABOVE``); MEDIUM to ``MEDIUM_AND_ABOVE``; LOW to ``HIGH``. It sets the
responsible-AI filters only: a profile that tolerates more borderline content (public
data, a MEDIUM strength) has no reason to tolerate more jailbreaks, so prompt-injection
and jailbreak detection has its own threshold, ``prompt_injection_confidence``, at the
most sensitive level (``LOW_AND_ABOVE``) unless explicitly raised (AI-02).

Sensitive data: ``basic`` uses Model Armor's built-in detectors; ``advanced`` creates a
Sensitive Data Protection inspect template for the profile's entity types (and a
de-identify template when personal data is to be anonymized). Model Armor has no topic
classifier: denied topics become a dictionary of phrases in the inspect template
(literal matches, ``advanced`` only); :attr:`Guardrail.unmapped_denied_topics` names
those it could not express. Floor settings live in the ``global`` location while
inspect templates are regional, so the floor enforces the basic detectors and the
template carries the advanced configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_gcp as gcp

from ._common import child_opts, compact, labels_of, wait_for_dependencies

__all__ = ["PII_INFO_TYPES", "RAI_FILTERS", "Guardrail", "GuardrailArgs"]

Strength = Literal["LOW", "MEDIUM", "HIGH"]
Confidence = Literal["LOW_AND_ABOVE", "MEDIUM_AND_ABOVE", "HIGH"]

#: Model Armor's responsible-AI filter types.
RAI_FILTERS: tuple[str, ...] = ("HATE_SPEECH", "HARASSMENT", "SEXUALLY_EXPLICIT", "DANGEROUS")

#: Confidence threshold per filter strength (higher strength blocks at lower confidence).
_CONFIDENCE: dict[str, str] = {"HIGH": "LOW_AND_ABOVE", "MEDIUM": "MEDIUM_AND_ABOVE", "LOW": "HIGH"}

#: Sensitive Data Protection infoTypes per entity type of the profile's pii_entities.
PII_INFO_TYPES: dict[str, tuple[str, ...]] = {
    "credentials": (
        "GCP_CREDENTIALS",
        "GCP_API_KEY",
        "AUTH_TOKEN",
        "AWS_CREDENTIALS",
        "AZURE_AUTH_TOKEN",
        "ENCRYPTION_KEY",
        "JSON_WEB_TOKEN",
        "PASSWORD",
    ),
    "email": ("EMAIL_ADDRESS",),
    "phone": ("PHONE_NUMBER",),
    "name": ("PERSON_NAME",),
    "address": ("STREET_ADDRESS",),
    "us-ssn": ("US_SOCIAL_SECURITY_NUMBER",),
    "credit-card": ("CREDIT_CARD_NUMBER",),
    "bank-account": ("IBAN_CODE", "FINANCIAL_ACCOUNT_NUMBER", "US_BANK_ROUTING_MICR"),
    "passport": ("PASSPORT",),
    "driver-license": ("US_DRIVERS_LICENSE_NUMBER",),
    "tax-id": ("US_INDIVIDUAL_TAXPAYER_IDENTIFICATION_NUMBER", "US_EMPLOYER_IDENTIFICATION_NUMBER"),
    "ip-address": ("IP_ADDRESS",),
    "health-number": ("US_HEALTHCARE_NPI", "MEDICAL_RECORD_NUMBER"),
}

_DENIED_TOPIC_INFO_TYPE = "DENIED_TOPIC"


@dataclass(frozen=True)
class GuardrailArgs:
    """Arguments of :class:`Guardrail`."""

    project: pulumi.Input[str]
    """Project id."""

    location: pulumi.Input[str]
    """Model Armor location of the template (a region where Vertex AI integration is
    offered, such as us-central1 or europe-west4)."""

    template_id: str | None = None
    """Template id; derived from the component name if unset."""

    content_filter_strength: Strength = "HIGH"
    """Strength of the responsible-AI filters (hate speech, harassment, sexually
    explicit, dangerous), in the template and the floor setting; lower strengths weaken
    AI-01. Prompt-injection detection does not follow it (``prompt_injection_confidence``)."""

    prompt_injection_filter: bool = True
    """Weakening when false (AI-02): no prompt-injection and jailbreak detection."""

    prompt_injection_confidence: Confidence = "LOW_AND_ABOVE"
    """Confidence from which prompt-injection and jailbreak attempts are blocked, in the
    template and the floor setting. ``LOW_AND_ABOVE`` blocks the most; a higher threshold
    is a weakening (AI-02) that lets likelier attacks through."""

    malicious_uri_filter: bool = True
    """Weakening when false: no malicious URI detection."""

    sensitive_data_protection: Literal["basic", "advanced", "off"] = "advanced"
    """``basic`` detectors, ``advanced`` inspect templates, or ``off`` (a weakening of
    AI-03)."""

    pii_entities: Sequence[str] = tuple(PII_INFO_TYPES)
    """Entity types (keys of :data:`PII_INFO_TYPES`) the advanced configuration finds."""

    pii_action: Literal["block", "anonymize"] = "block"
    """``anonymize`` adds a de-identify template replacing findings by their type."""

    denied_topics: Sequence[str] = ()
    """Topics to refuse; matched as literal phrases with ``advanced`` protection."""

    inspect_only: bool = False
    """Weakening (AI-05): report findings without blocking, in the template and the
    floor setting."""

    floor_setting: bool = True
    """Weakening when false (AI-05): no project floor setting, no Vertex AI integration."""

    vertex_service_agent: pulumi.Input[str] | None = None
    """IAM member of the Vertex AI service agent; granted roles/modelarmor.user on the
    project so the floor setting screens Vertex AI calls."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the template."""


class Guardrail(pulumi.ComponentResource):
    """A Model Armor template and floor setting screening prompts and responses."""

    template_name: pulumi.Output[str]
    """Full name of the template (``projects/<p>/locations/<l>/templates/<id>``)."""
    template_id: pulumi.Output[str]
    unmapped_denied_topics: tuple[str, ...]
    """Denied topics Model Armor cannot express with this configuration."""

    def __init__(
        self, name: str, args: GuardrailArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:gcp:Guardrail", name, None, opts)
        wait_for_dependencies(self, opts)
        unknown = sorted(set(args.pii_entities) - set(PII_INFO_TYPES))
        if unknown:
            raise ValueError(f"unknown pii_entities: {', '.join(unknown)}")
        child = child_opts(self)
        confidence = _CONFIDENCE[args.content_filter_strength]
        if args.prompt_injection_confidence not in _CONFIDENCE.values():
            raise ValueError(
                "prompt_injection_confidence must be one of "
                f"{', '.join(_CONFIDENCE.values())}, not {args.prompt_injection_confidence!r}"
            )
        enabled = "ENABLED"
        advanced = args.sensitive_data_protection == "advanced"
        self.unmapped_denied_topics = () if advanced else tuple(args.denied_topics)

        sdp: gcp.modelarmor.TemplateFilterConfigSdpSettingsArgs | None = None
        if advanced:
            inspect, deidentify = self._sdp_templates(name, args)
            sdp = gcp.modelarmor.TemplateFilterConfigSdpSettingsArgs(
                advanced_config=gcp.modelarmor.TemplateFilterConfigSdpSettingsAdvancedConfigArgs(
                    inspect_template=inspect, deidentify_template=deidentify
                )
            )
        elif args.sensitive_data_protection == "basic":
            sdp = gcp.modelarmor.TemplateFilterConfigSdpSettingsArgs(
                basic_config=gcp.modelarmor.TemplateFilterConfigSdpSettingsBasicConfigArgs(
                    filter_enforcement=enabled
                )
            )

        template = gcp.modelarmor.Template(
            f"{name}-template",
            project=args.project,
            location=args.location,
            template_id=args.template_id or compact(name, max_len=60, prefix="ai"),
            filter_config=gcp.modelarmor.TemplateFilterConfigArgs(
                rai_settings=gcp.modelarmor.TemplateFilterConfigRaiSettingsArgs(
                    rai_filters=[
                        gcp.modelarmor.TemplateFilterConfigRaiSettingsRaiFilterArgs(
                            filter_type=kind, confidence_level=confidence
                        )
                        for kind in RAI_FILTERS
                    ]
                ),
                pi_and_jailbreak_filter_settings=(
                    gcp.modelarmor.TemplateFilterConfigPiAndJailbreakFilterSettingsArgs(
                        filter_enforcement=enabled,
                        confidence_level=args.prompt_injection_confidence,
                    )
                    if args.prompt_injection_filter
                    else None
                ),
                malicious_uri_filter_settings=(
                    gcp.modelarmor.TemplateFilterConfigMaliciousUriFilterSettingsArgs(
                        filter_enforcement=enabled
                    )
                    if args.malicious_uri_filter
                    else None
                ),
                sdp_settings=sdp,
            ),
            template_metadata=gcp.modelarmor.TemplateTemplateMetadataArgs(
                enforcement_type="INSPECT_ONLY" if args.inspect_only else "INSPECT_AND_BLOCK",
                log_sanitize_operations=True,
                log_template_operations=True,
                multi_language_detection=gcp.modelarmor.TemplateTemplateMetadataMultiLanguageDetectionArgs(
                    enable_multi_language_detection=True
                ),
            ),
            labels=labels_of(args.labels),
            opts=child,
        )

        if args.floor_setting:
            self._floor_setting(name, args, confidence, template)

        self.template_name = template.name
        self.template_id = template.template_id
        self.register_outputs(
            {"template_name": self.template_name, "template_id": self.template_id}
        )

    def _sdp_templates(
        self, name: str, args: GuardrailArgs
    ) -> tuple[pulumi.Output[str], pulumi.Output[str] | None]:
        """Sensitive Data Protection templates of the advanced configuration."""
        child = child_opts(self)
        parent = pulumi.Output.concat("projects/", args.project, "/locations/", args.location)
        info_types = list(dict.fromkeys(t for e in args.pii_entities for t in PII_INFO_TYPES[e]))
        custom = (
            [
                gcp.dataloss.PreventionInspectTemplateInspectConfigCustomInfoTypeArgs(
                    info_type=gcp.dataloss.PreventionInspectTemplateInspectConfigCustomInfoTypeInfoTypeArgs(
                        name=_DENIED_TOPIC_INFO_TYPE
                    ),
                    likelihood="VERY_LIKELY",
                    dictionary=gcp.dataloss.PreventionInspectTemplateInspectConfigCustomInfoTypeDictionaryArgs(
                        word_list=gcp.dataloss.PreventionInspectTemplateInspectConfigCustomInfoTypeDictionaryWordListArgs(
                            words=list(args.denied_topics)
                        )
                    ),
                )
            ]
            if args.denied_topics
            else None
        )
        inspect = gcp.dataloss.PreventionInspectTemplate(
            f"{name}-inspect",
            parent=parent,
            template_id=compact(name, max_len=50, prefix="aiinspect"),
            display_name=f"{name} sensitive data",
            description="Entity types Model Armor screens prompts and responses for",
            inspect_config=gcp.dataloss.PreventionInspectTemplateInspectConfigArgs(
                info_types=[
                    gcp.dataloss.PreventionInspectTemplateInspectConfigInfoTypeArgs(name=t)
                    for t in info_types
                ],
                custom_info_types=custom,
                min_likelihood="POSSIBLE",
            ),
            opts=child,
        )
        if args.pii_action != "anonymize":
            return inspect.name, None
        deidentify = gcp.dataloss.PreventionDeidentifyTemplate(
            f"{name}-deidentify",
            parent=parent,
            template_id=compact(name, max_len=50, prefix="aideidentify"),
            display_name=f"{name} anonymization",
            description="Replaces sensitive data in prompts and responses by its type",
            deidentify_config=gcp.dataloss.PreventionDeidentifyTemplateDeidentifyConfigArgs(
                info_type_transformations=gcp.dataloss.PreventionDeidentifyTemplateDeidentifyConfigInfoTypeTransformationsArgs(
                    transformations=[
                        gcp.dataloss.PreventionDeidentifyTemplateDeidentifyConfigInfoTypeTransformationsTransformationArgs(
                            primitive_transformation=gcp.dataloss.PreventionDeidentifyTemplateDeidentifyConfigInfoTypeTransformationsTransformationPrimitiveTransformationArgs(
                                replace_with_info_type_config=True
                            )
                        )
                    ]
                )
            ),
            opts=child,
        )
        return inspect.name, deidentify.name

    def _floor_setting(
        self, name: str, args: GuardrailArgs, confidence: str, template: gcp.modelarmor.Template
    ) -> None:
        child = child_opts(self)
        enabled = "ENABLED"
        sdp_on = args.sensitive_data_protection != "off"
        # An enforced floor refuses templates below it: create the template first.
        depends: list[pulumi.Resource] = [template]
        if args.vertex_service_agent is not None:
            depends.append(
                gcp.projects.IAMMember(
                    f"{name}-vertex-modelarmor",
                    project=args.project,
                    role="roles/modelarmor.user",
                    member=args.vertex_service_agent,
                    opts=child,
                )
            )
        gcp.modelarmor.Floorsetting(
            f"{name}-floor",
            parent=pulumi.Output.concat("projects/", args.project),
            location="global",
            enable_floor_setting_enforcement=True,
            filter_config=gcp.modelarmor.FloorsettingFilterConfigArgs(
                rai_settings=gcp.modelarmor.FloorsettingFilterConfigRaiSettingsArgs(
                    rai_filters=[
                        gcp.modelarmor.FloorsettingFilterConfigRaiSettingsRaiFilterArgs(
                            filter_type=kind, confidence_level=confidence
                        )
                        for kind in RAI_FILTERS
                    ]
                ),
                pi_and_jailbreak_filter_settings=(
                    gcp.modelarmor.FloorsettingFilterConfigPiAndJailbreakFilterSettingsArgs(
                        filter_enforcement=enabled,
                        confidence_level=args.prompt_injection_confidence,
                    )
                    if args.prompt_injection_filter
                    else None
                ),
                malicious_uri_filter_settings=(
                    gcp.modelarmor.FloorsettingFilterConfigMaliciousUriFilterSettingsArgs(
                        filter_enforcement=enabled
                    )
                    if args.malicious_uri_filter
                    else None
                ),
                sdp_settings=(
                    gcp.modelarmor.FloorsettingFilterConfigSdpSettingsArgs(
                        basic_config=gcp.modelarmor.FloorsettingFilterConfigSdpSettingsBasicConfigArgs(
                            filter_enforcement=enabled
                        )
                    )
                    if sdp_on
                    else None
                ),
            ),
            # Screen prompts in every language, not only English, in the floor too.
            floor_setting_metadata=gcp.modelarmor.FloorsettingFloorSettingMetadataArgs(
                multi_language_detection=gcp.modelarmor.FloorsettingFloorSettingMetadataMultiLanguageDetectionArgs(
                    enable_multi_language_detection=True
                )
            ),
            integrated_services=["AI_PLATFORM"],
            ai_platform_floor_setting=gcp.modelarmor.FloorsettingAiPlatformFloorSettingArgs(
                # One enforcement mode or the other, never both set.
                inspect_and_block=None if args.inspect_only else True,
                inspect_only=True if args.inspect_only else None,
                enable_cloud_logging=True,
            ),
            opts=child_opts(self, depends_on=depends),
        )
