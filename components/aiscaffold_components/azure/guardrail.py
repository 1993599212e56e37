"""AI guardrail: an Azure OpenAI content filter (RAI policy) and its blocklists.

The policy (``cognitiveservices.RaiPolicy``, based on ``Microsoft.DefaultV2``, in
synchronous ``Blocking`` mode, never the asynchronous filter that lets text through
before it is screened) contains:

* hate, sexual, violence and self-harm filters on prompts and completions, blocking
  at the threshold ``strength`` selects (AI-01): HIGH strength blocks from *low*
  severity up, MEDIUM from medium, LOW only high severity;
* prompt shields (AI-02): ``Jailbreak`` (direct attacks in the user prompt) and
  ``Indirect Attack`` (instructions hidden in documents and tool results), blocking;
* ``Protected Material Text`` and ``Protected Material Code`` on completions, blocking;
* ``Profanity``, Microsoft's profanity list, on both sides (AI-04);
* a blocklist of the ``denied_terms`` (from the project's denied topics), blocking on
  prompts and completions (AI-04). Azure blocklists match terms, not topics: list the
  words and phrases a topic is recognised by;
* a blocklist of regular expressions for the ``pii_entities`` a pattern can recognise
  (AI-03): credentials, e-mail, phone, US SSN, credit card and IP address. Azure's RAI
  policy can block such text but not mask it, so ``anonymize`` behaves as block; the
  other entity types (names, addresses, ...) need an application-side PII step
  (Azure AI Language PII detection) and are listed in ``unmatched_pii_entities``.

:class:`~aiscaffold_components.azure.OpenAIAccount` creates its guardrail from these
arguments and binds every model deployment to the policy (AI-05).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_azure_native as azure_native

from ._common import child_opts, tags_of

__all__ = ["PII_PATTERNS", "Guardrail", "GuardrailArgs"]

Strength = Literal["LOW", "MEDIUM", "HIGH"]

#: Severity from which content is blocked, per strength: the lower the threshold, the
#: more content is filtered.
_THRESHOLD: dict[Strength, str] = {"HIGH": "Low", "MEDIUM": "Medium", "LOW": "High"}

_HARM_CATEGORIES = ("Hate", "Sexual", "Violence", "Selfharm")

#: Regular expressions for the PII entity types a pattern can recognise.
PII_PATTERNS: dict[str, str] = {
    "credentials": r"(password|passwd|secret|api[_-]?key|token)\s*[:=]\s*\S+",
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "phone": r"\+?[0-9]{1,3}[ .-]?\(?[0-9]{2,4}\)?[ .-]?[0-9]{3,4}[ .-]?[0-9]{3,4}",
    "us-ssn": r"[0-9]{3}-[0-9]{2}-[0-9]{4}",
    "credit-card": r"[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{1,4}",
    "ip-address": r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}",
}


@dataclass(frozen=True)
class GuardrailArgs:
    """Arguments of :class:`Guardrail`.

    ``account_name`` and ``resource_group_name`` may stay unset when the guardrail is
    given to :class:`~aiscaffold_components.azure.OpenAIAccountArgs`, which fills them.
    """

    strength: Strength = "HIGH"
    """Content filter strength (AI-01); lower is a weakening."""
    denied_terms: Sequence[str] = ()
    """Terms blocked in prompts and completions (AI-04)."""
    pii_entities: Sequence[str] = ()
    """PII entity types to block (AI-03); those in ``PII_PATTERNS`` get a pattern."""
    tags: Mapping[str, str] = field(default_factory=dict)
    block_jailbreak: bool = True
    """Weakening when false: jailbreak attempts are annotated, not blocked."""
    block_indirect_attacks: bool = True
    """Weakening when false: indirect prompt injections are annotated, not blocked."""
    block_protected_material: bool = True
    """Weakening when false: protected text and code are annotated, not blocked."""
    block_profanity: bool = True
    """Weakening when false: profanity is annotated, not blocked."""
    account_name: pulumi.Input[str] | None = None
    resource_group_name: pulumi.Input[str] | None = None
    policy_name: str = "aiscaffold-guardrail"
    """Name of the RAI policy in the account."""


class Guardrail(pulumi.ComponentResource):
    """A blocking RAI content filter policy with prompt shields and blocklists."""

    policy_name: pulumi.Output[str]
    policy_id: pulumi.Output[str]
    unmatched_pii_entities: list[str]
    """Requested PII entity types no blocklist pattern covers."""

    def __init__(
        self, name: str, args: GuardrailArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:azure:Guardrail", name, None, opts)
        if args.account_name is None or args.resource_group_name is None:
            raise ValueError("a Guardrail needs account_name and resource_group_name")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,100}", args.policy_name):
            raise ValueError(f"policy_name {args.policy_name!r} is not a valid RAI policy name")
        tags = tags_of(args.tags)
        account, group = args.account_name, args.resource_group_name

        blocklists: list[azure_native.cognitiveservices.RaiBlocklist] = []
        last_item: list[pulumi.Resource] = []
        terms = _unique(term.strip() for term in args.denied_terms if term.strip())
        patterns = [PII_PATTERNS[e] for e in _unique(args.pii_entities) if e in PII_PATTERNS]
        self.unmatched_pii_entities = [e for e in args.pii_entities if e not in PII_PATTERNS]
        for kind, items, is_regex in (
            ("denied-terms", terms, False),
            ("pii", patterns, True),
        ):
            if not items:
                continue
            blocklist = azure_native.cognitiveservices.RaiBlocklist(
                f"{name}-{kind}",
                resource_group_name=group,
                account_name=account,
                rai_blocklist_name=f"{args.policy_name}-{kind}",
                properties=azure_native.cognitiveservices.RaiBlocklistPropertiesArgs(
                    description=f"aiscaffold {kind} (AI-0{4 if kind == 'denied-terms' else 3})"
                ),
                tags=tags,
                opts=child_opts(self, depends_on=last_item),
            )
            blocklists.append(blocklist)
            last_item = [blocklist]
            for index, item in enumerate(items):
                # Writes to one account's blocklists are serialised: Azure rejects
                # concurrent changes to the same parent.
                created = azure_native.cognitiveservices.RaiBlocklistItem(
                    f"{name}-{kind}-{index}",
                    resource_group_name=group,
                    account_name=account,
                    rai_blocklist_name=blocklist.name,
                    rai_blocklist_item_name=f"{kind}-{index}",
                    properties=azure_native.cognitiveservices.RaiBlocklistItemPropertiesArgs(
                        pattern=item, is_regex=is_regex
                    ),
                    tags=tags,
                    opts=child_opts(self, depends_on=last_item),
                )
                last_item = [created]

        policy = azure_native.cognitiveservices.RaiPolicy(
            f"{name}-policy",
            resource_group_name=group,
            account_name=account,
            rai_policy_name=args.policy_name,
            properties=azure_native.cognitiveservices.RaiPolicyPropertiesArgs(
                base_policy_name="Microsoft.DefaultV2",
                mode="Blocking",
                content_filters=_content_filters(args),
                custom_blocklists=[
                    azure_native.cognitiveservices.CustomBlocklistConfigArgs(
                        blocklist_name=blocklist.name, blocking=True, source=source
                    )
                    for blocklist in blocklists
                    for source in ("Prompt", "Completion")
                ],
            ),
            tags=tags,
            opts=child_opts(self, depends_on=last_item),
        )
        self.policy_name = policy.name
        self.policy_id = policy.id
        self.register_outputs({"policy_name": self.policy_name, "policy_id": self.policy_id})


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _filter(
    name: str, source: str, blocking: bool, threshold: str | None = None
) -> azure_native.cognitiveservices.RaiPolicyContentFilterArgs:
    return azure_native.cognitiveservices.RaiPolicyContentFilterArgs(
        name=name, source=source, enabled=True, blocking=blocking, severity_threshold=threshold
    )


def _content_filters(
    args: GuardrailArgs,
) -> list[azure_native.cognitiveservices.RaiPolicyContentFilterArgs]:
    threshold = _THRESHOLD[args.strength]
    filters = [
        _filter(category, source, True, threshold)
        for source in ("Prompt", "Completion")
        for category in _HARM_CATEGORIES
    ]
    filters += [
        _filter("Jailbreak", "Prompt", args.block_jailbreak),
        _filter("Indirect Attack", "Prompt", args.block_indirect_attacks),
        _filter("Protected Material Text", "Completion", args.block_protected_material),
        _filter("Protected Material Code", "Completion", args.block_protected_material),
        _filter("Profanity", "Prompt", args.block_profanity),
        _filter("Profanity", "Completion", args.block_profanity),
    ]
    return filters
