"""Guardrail: a Bedrock guardrail screening prompts and answers, with a published version."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Literal

import pulumi
import pulumi_aws as aws

__all__ = ["CONTENT_FILTER_TYPES", "PII_ENTITY_TYPES", "Guardrail", "GuardrailArgs"]

Strength = Literal["NONE", "LOW", "MEDIUM", "HIGH"]

#: Content categories the guardrail filters in prompts and answers.
CONTENT_FILTER_TYPES: tuple[str, ...] = ("HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT")

#: Bedrock PII entity types behind each of the profile's generic entity names.
PII_ENTITY_TYPES: Mapping[str, tuple[str, ...]] = {
    "credentials": ("AWS_ACCESS_KEY", "AWS_SECRET_KEY", "PASSWORD", "PIN"),
    "email": ("EMAIL",),
    "phone": ("PHONE",),
    "name": ("NAME",),
    "address": ("ADDRESS",),
    "us-ssn": ("US_SOCIAL_SECURITY_NUMBER",),
    "credit-card": (
        "CREDIT_DEBIT_CARD_NUMBER",
        "CREDIT_DEBIT_CARD_CVV",
        "CREDIT_DEBIT_CARD_EXPIRY",
    ),
    "bank-account": (
        "US_BANK_ACCOUNT_NUMBER",
        "US_BANK_ROUTING_NUMBER",
        "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
        "SWIFT_CODE",
    ),
    "passport": ("US_PASSPORT_NUMBER",),
    "driver-license": ("DRIVER_ID",),
    "tax-id": ("US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER"),
    "ip-address": ("IP_ADDRESS",),
    "health-number": ("UK_NATIONAL_HEALTH_SERVICE_NUMBER", "CA_HEALTH_NUMBER"),
}

# Denied topic names: letters, digits, "-_ !?." and at most 100 characters.
_TOPIC_NAME = re.compile(r"[^0-9A-Za-z\-_ !?.]")


@dataclass(frozen=True)
class GuardrailArgs:
    """Arguments of :class:`Guardrail`.

    Always on: the five content filters on prompts and answers, the prompt-attack
    filter on prompts, sensitive-information filters, encryption with the given key,
    and a numbered version the workload is pinned to.
    """

    kms_key_arn: pulumi.Input[str]
    """Key encrypting the guardrail's configuration."""
    tags: Mapping[str, str]
    guardrail_name: str | None = None
    """The guardrail's name, unique in the account and region (default: the component's)."""
    content_filter_strength: Literal["LOW", "MEDIUM", "HIGH"] = "HIGH"
    """Strength of the hate, insults, sexual, violence and misconduct filters."""
    prompt_attack_strength: Literal["LOW", "MEDIUM", "HIGH"] = "HIGH"
    """Weakening when lowered: strength of the jailbreak / prompt-injection filter on
    prompts (AI-02 asks for HIGH)."""
    pii_entities: Sequence[str] = tuple(PII_ENTITY_TYPES)
    """Generic PII names (keys of ``PII_ENTITY_TYPES``) to find in prompts and answers."""
    pii_action: Literal["block", "anonymize"] = "block"
    """Block the whole prompt or answer, or mask the entities found."""
    denied_topics: Sequence[str] = ()
    """Topics the guardrail refuses (AI-04), in plain words."""
    blocked_words: Sequence[str] = ()
    """Words and phrases blocked besides the managed profanity list."""
    profanity_filter: bool = True
    """Weakening: ``False`` drops the managed profanity word list."""
    grounding_threshold: float | None = None
    """Contextual grounding check: answers less grounded in the supplied sources than
    this (0 to 0.99) are blocked. For retrieval-augmented answers; ``None`` turns it off."""
    relevance_threshold: float | None = None
    """Contextual relevance check threshold (0 to 0.99); ``None`` turns it off."""
    blocked_input_message: str = "This request was blocked by the content policy."
    blocked_output_message: str = "The answer was blocked by the content policy."


class Guardrail(pulumi.ComponentResource):
    """A Bedrock guardrail and a numbered version of it."""

    guardrail: aws.bedrock.Guardrail
    version: aws.bedrock.GuardrailVersion
    guardrail_id: pulumi.Output[str]
    guardrail_arn: pulumi.Output[str]
    guardrail_version: pulumi.Output[str]
    """The published version number (never DRAFT): what the workload must name."""

    def __init__(
        self, name: str, args: GuardrailArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        unknown = sorted(set(args.pii_entities) - set(PII_ENTITY_TYPES))
        if unknown:
            raise ValueError(
                f"unknown PII entities {', '.join(unknown)}; known: {', '.join(PII_ENTITY_TYPES)}"
            )
        for label, threshold in (
            ("grounding_threshold", args.grounding_threshold),
            ("relevance_threshold", args.relevance_threshold),
        ):
            if threshold is not None and not 0 <= threshold <= 0.99:
                raise ValueError(f"{label} must be between 0 and 0.99, not {threshold}")
        topics = [_topic(topic) for topic in args.denied_topics]
        super().__init__("aiscaffold:aws:Guardrail", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        action = "BLOCK" if args.pii_action == "block" else "ANONYMIZE"
        filters: list[aws.bedrock.GuardrailContentPolicyConfigFiltersConfigArgsDict] = [
            {
                "type": kind,
                "input_strength": args.content_filter_strength,
                "output_strength": args.content_filter_strength,
            }
            for kind in CONTENT_FILTER_TYPES
        ]
        # Prompt attacks exist in prompts only: Bedrock requires NONE on the output side.
        filters.append(
            {
                "type": "PROMPT_ATTACK",
                "input_strength": args.prompt_attack_strength,
                "output_strength": "NONE",
            }
        )
        pii_types = dict.fromkeys(
            t for entity in args.pii_entities for t in PII_ENTITY_TYPES[entity]
        )
        words: aws.bedrock.GuardrailWordPolicyConfigArgsDict = {}
        if args.profanity_filter:
            words["managed_word_lists_configs"] = [{"type": "PROFANITY"}]
        if args.blocked_words:
            words["words_configs"] = [{"text": word} for word in args.blocked_words]
        grounding: list[aws.bedrock.GuardrailContextualGroundingPolicyConfigFiltersConfigArgsDict]
        grounding = []
        if args.grounding_threshold is not None:
            grounding.append({"type": "GROUNDING", "threshold": args.grounding_threshold})
        if args.relevance_threshold is not None:
            grounding.append({"type": "RELEVANCE", "threshold": args.relevance_threshold})

        self.guardrail = aws.bedrock.Guardrail(
            f"{name}-guardrail",
            name=_guardrail_name(args.guardrail_name or name),
            description="Content, prompt-attack, PII, topic and word filters (aiscaffold)",
            blocked_input_messaging=args.blocked_input_message,
            blocked_outputs_messaging=args.blocked_output_message,
            kms_key_arn=args.kms_key_arn,
            content_policy_config={"filters_configs": filters},
            sensitive_information_policy_config=(
                {"pii_entities_configs": [{"type": t, "action": action} for t in pii_types]}
                if pii_types
                else None
            ),
            topic_policy_config=({"topics_configs": topics} if topics else None),
            word_policy_config=words or None,
            contextual_grounding_policy_config=(
                {"filters_configs": grounding} if grounding else None
            ),
            tags=dict(args.tags),
            opts=child,
        )
        # A version is immutable: a new one must be published whenever the guardrail
        # changes. The description carries a digest of the configuration, the key that
        # encrypts it included, so a change replaces the version resource (publishing a
        # new version) instead of leaving the workload pinned to a stale one. Tags and
        # the name are not part of a version.
        settings = {
            f.name: getattr(args, f.name)
            for f in fields(args)
            if f.name not in ("kms_key_arn", "tags", "guardrail_name")
        }

        def describe(kms_key_arn: str) -> str:
            configuration = {**settings, "kms_key_arn": kms_key_arn}
            digest = hashlib.sha256(
                json.dumps(configuration, sort_keys=True, default=list).encode()
            ).hexdigest()[:12]
            return f"aiscaffold configuration {digest}"

        self.version = aws.bedrock.GuardrailVersion(
            f"{name}-version",
            guardrail_arn=self.guardrail.guardrail_arn,
            description=pulumi.Output.from_input(args.kms_key_arn).apply(describe),
            skip_destroy=False,
            opts=pulumi.ResourceOptions(parent=self, replace_on_changes=["description"]),
        )
        self.guardrail_id = self.guardrail.guardrail_id
        self.guardrail_arn = self.guardrail.guardrail_arn
        self.guardrail_version = self.version.version
        self.register_outputs(
            {
                "guardrail_id": self.guardrail_id,
                "guardrail_arn": self.guardrail_arn,
                "guardrail_version": self.guardrail_version,
            }
        )


def _guardrail_name(name: str) -> str:
    cleaned = re.sub(r"[^0-9A-Za-z_-]", "-", name)
    return cleaned[:50]


def _topic(topic: str) -> aws.bedrock.GuardrailTopicPolicyConfigTopicsConfigArgsDict:
    text = " ".join(topic.split())
    if not text:
        raise ValueError("a denied topic must not be empty")
    return {
        "name": _TOPIC_NAME.sub(" ", text)[:100].strip(),
        "definition": f"Questions about, requests for or statements on {text}."[:200],
        "type": "DENY",
    }
