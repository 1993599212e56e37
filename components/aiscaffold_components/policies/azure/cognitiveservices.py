"""Azure OpenAI / AI Services: a private, keyless, CMK-encrypted account whose every
deployment is bound to a blocking content filter with prompt shields.

The content filter (``RaiPolicy``) is checked filter by filter: the four harm categories
at the profile's strength on prompts and completions, jailbreak and indirect-attack
shields, protected material, profanity, synchronous mode; its blocklists hold the PII
patterns of the profile's entity types and the denied topics. Azure's content filter
blocks PII but cannot mask it, so ``pii_action: anonymize`` is checked as block.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import (
    Addition,
    NotApplicable,
    Requirements,
    Resource,
    resource_policy,
    stack_policy,
)
from ._util import (
    AI_ACCOUNT,
    BLOCKLIST,
    BLOCKLIST_ITEM,
    DEPLOYMENT,
    RAI_POLICY,
    listed,
    name_of,
    of_type,
)

_HARM = ("hate", "sexual", "violence", "selfharm")
_SOURCES = ("prompt", "completion")
#: Severity from which a harm filter blocks, per content filter strength.
THRESHOLD = {"HIGH": "low", "MEDIUM": "medium", "LOW": "high"}
_ORDER = ("low", "medium", "high")
_SYNCHRONOUS_MODES = ("Blocking", "Default")
BASE_POLICIES = ("Microsoft.DefaultV2",)


@resource_policy(
    id="AZURE-AI-001",
    title="AI accounts refuse public network access",
    severity="critical",
    types=[AI_ACCOUNT],
    controls=["PE-03"],
    remediation="Set properties.publicNetworkAccess Disabled and networkAcls "
    "{defaultAction: Deny, bypass: None, no ipRules or virtualNetworkRules}; call the "
    "model through the account's private endpoint.",
)
def account_network(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Prompts and completions never cross the internet: the account has no public
    endpoint and no firewall exception, not even for trusted Azure services."""
    props = ("properties",)
    if resource.get(*props, "publicNetworkAccess") != "Disabled":
        yield "publicNetworkAccess is not Disabled"
    acls = ("properties", "networkAcls")
    if resource.get(*acls, "defaultAction") != "Deny":
        yield "the network ACL's default action is not Deny"
    if resource.items(*acls, "ipRules") or resource.items(*acls, "virtualNetworkRules"):
        yield "the network ACL admits IP ranges or subnets"
    bypass = resource.get(*acls, "bypass")
    if bypass != "None":
        yield f"trusted Azure services pass the network ACL (bypass {bypass or 'not stated'})"


@resource_policy(
    id="AZURE-AI-002",
    title="AI accounts take Entra ID tokens only (local auth disabled)",
    severity="critical",
    types=[AI_ACCOUNT],
    controls=["IAM-03"],
    remediation="Set properties.disableLocalAuth true and a customSubDomainName (Entra ID "
    "tokens need one); call the model with the workload identity's token.",
)
def account_keyless(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """API keys are shared, long-lived secrets; with local auth disabled only Entra ID
    identities holding a role on the account can call it."""
    if resource.get("properties", "disableLocalAuth") is not True:
        yield "API keys are accepted (disableLocalAuth is not true)"
    if not resource.get("properties", "customSubDomainName"):
        yield "no custom subdomain: Entra ID authentication and private endpoints need one"


@resource_policy(
    id="AZURE-AI-003",
    title="AI accounts encrypt with a customer-managed key",
    severity="high",
    types=[AI_ACCOUNT],
    controls=["KEY-01"],
    remediation="Set properties.encryption {keySource: Microsoft.KeyVault, keyVaultProperties "
    "{keyName, keyVaultUri, identityClientId} without keyVersion} and assign that "
    "user-assigned identity to the account (OpenAIAccountArgs(cmk=keys.cmk('ai'))).",
)
def account_cmk(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Stored content (fine-tuning data, files, batch jobs, stored completions) is
    encrypted with the project's key through a user-assigned identity; the key is
    versionless so the account follows its rotation."""
    encryption = ("properties", "encryption")
    if resource.get(*encryption, "keySource") != "Microsoft.KeyVault":
        yield "encryption.keySource is not Microsoft.KeyVault: Microsoft-managed keys"
    vault = (*encryption, "keyVaultProperties")
    if not resource.get(*vault, "keyName") or not resource.get(*vault, "keyVaultUri"):
        yield "encryption.keyVaultProperties names no key and vault"
    if resource.get(*vault, "keyVersion"):
        yield "the key version is pinned: the account would not follow key rotation"
    if not resource.get(*vault, "identityClientId"):
        yield "no user-assigned identity (identityClientId) unwraps the key"
    identity_type = str(resource.get("identity", "type", default=""))
    if "UserAssigned" not in identity_type or not listed(
        resource.get("identity", "userAssignedIdentities")
    ):
        yield "the account has no user-assigned identity to unwrap its key with"


@resource_policy(
    id="AZURE-AI-004",
    title="AI accounts call out only to listed destinations",
    severity="high",
    types=[AI_ACCOUNT],
    controls=["PE-04", "NET-06"],
    remediation="Set properties.restrictOutboundNetworkAccess true and list in "
    "allowedFqdnList only the exact host names the account must reach (none by default).",
)
def account_outbound(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Features that fetch data (on-your-data, tools, web content) cannot send prompts
    or documents to arbitrary destinations."""
    if resource.get("properties", "restrictOutboundNetworkAccess") is not True:
        yield "outbound network access is unrestricted"
    for fqdn in listed(resource.get("properties", "allowedFqdnList")):
        if "*" in str(fqdn):
            yield f"allowedFqdnList holds the wildcard {fqdn!r}"


def _same_account(a: Resource, b: Resource) -> bool:
    name = name_of(a, "accountName")
    return bool(name) and name == name_of(b, "accountName")


@stack_policy(
    id="AZURE-AI-005",
    title="Every model deployment is bound to the project's content filter",
    severity="critical",
    controls=["AI-05"],
    remediation="Set properties.raiPolicyName of every deployment to the RAI policy the "
    "stack creates on the same account (OpenAIAccount binds each deployment to its "
    "Guardrail).",
)
def deployments_bound(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A deployment without ``raiPolicyName`` (or naming a built-in policy) runs under
    Microsoft's default filter, without the project's prompt shields, blocklists and
    strength; every model call must pass the project's guardrail."""
    deployments = of_type(resources, DEPLOYMENT)
    if not deployments:
        raise NotApplicable("no model deployments")
    policies = of_type(resources, RAI_POLICY)
    for deployment in deployments:
        name = deployment.get("properties", "raiPolicyName")
        if not name:
            yield deployment, f"{deployment.name} is bound to no content filter (raiPolicyName)"
        elif not any(
            name_of(p, "raiPolicyName") == str(name).lower() and _same_account(p, deployment)
            for p in policies
        ):
            yield (
                deployment,
                f"{deployment.name} uses content filter {name!r}, which this stack does not "
                "define on its account",
            )


def _filters(resource: Resource) -> dict[tuple[str, str], Mapping[str, Any]]:
    out: dict[tuple[str, str], Mapping[str, Any]] = {}
    for item in resource.items("properties", "contentFilters"):
        key = (str(item.get("name", "")).lower(), str(item.get("source", "")).lower())
        out[key] = item
    return out


def _blocks(item: Mapping[str, Any] | None) -> bool:
    return item is not None and item.get("enabled") is True and item.get("blocking") is True


@resource_policy(
    id="AZURE-AI-006",
    title="The content filter blocks harmful content at the profile's strength",
    severity="high",
    types=[RAI_POLICY],
    controls=["AI-01"],
    remediation="List Hate, Sexual, Violence and Selfharm for Prompt and Completion, "
    "enabled and blocking, at the severityThreshold of the profile's "
    "content_filter_strength (HIGH: Low, MEDIUM: Medium, LOW: High) or lower.",
)
def harm_filters(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Hate, sexual, violence and self-harm content is blocked in prompts and
    completions from the severity the profile's strength selects."""
    strength = requirements.setting("content_filter_strength")
    required = THRESHOLD[strength]
    filters = _filters(resource)
    for category in _HARM:
        for source in _SOURCES:
            item = filters.get((category, source))
            if not _blocks(item):
                yield f"{category} on {source}s is not filtered and blocking"
                continue
            assert item is not None
            threshold = str(item.get("severityThreshold", "")).lower()
            if threshold not in _ORDER or _ORDER.index(threshold) > _ORDER.index(required):
                yield (
                    f"{category} on {source}s blocks from {threshold or 'no stated'} severity; "
                    f"{strength} strength blocks from {required}"
                )


@resource_policy(
    id="AZURE-AI-007",
    title="Prompt shields block jailbreaks and indirect prompt injection",
    severity="critical",
    types=[RAI_POLICY],
    controls=["AI-02"],
    remediation="List Jailbreak and Indirect Attack for Prompt, enabled and blocking "
    "(Guardrail(block_jailbreak=True, block_indirect_attacks=True)).",
)
def prompt_shields(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """User prompts that try to override the system prompt, and instructions hidden in
    documents or tool results, are refused before they reach the model."""
    filters = _filters(resource)
    for name in ("jailbreak", "indirect attack"):
        if not _blocks(filters.get((name, "prompt"))):
            yield f"the {name} shield does not block prompts"


@resource_policy(
    id="AZURE-AI-008",
    title="Completions with protected material are blocked",
    severity="medium",
    types=[RAI_POLICY],
    controls=["AI-01"],
    remediation="List Protected Material Text and Protected Material Code for Completion, "
    "enabled and blocking.",
)
def protected_material(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Known copyrighted text and public code are not returned to users."""
    filters = _filters(resource)
    for name in ("protected material text", "protected material code"):
        if not _blocks(filters.get((name, "completion"))):
            yield f"{name} is not blocked in completions"


@resource_policy(
    id="AZURE-AI-009",
    title="Profanity is blocked in prompts and completions",
    severity="low",
    types=[RAI_POLICY],
    controls=["AI-04"],
    remediation="List Profanity for Prompt and Completion, enabled and blocking.",
)
def profanity(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Microsoft's profanity list is applied both ways."""
    filters = _filters(resource)
    for source in _SOURCES:
        if not _blocks(filters.get(("profanity", source))):
            yield f"profanity is not blocked in {source}s"


@resource_policy(
    id="AZURE-AI-010",
    title="The content filter screens synchronously on the current base policy",
    severity="high",
    types=[RAI_POLICY],
    controls=["AI-01", "AI-05"],
    remediation="Set properties.mode Blocking (never Asynchronous_filter or Deferred) and "
    "basePolicyName Microsoft.DefaultV2.",
)
def filter_mode(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """The asynchronous filter streams text before it is screened; the DefaultV2 base
    carries the prompt shields and protected material detection."""
    mode = resource.get("properties", "mode", default="Default")
    if mode not in _SYNCHRONOUS_MODES:
        yield f"mode {mode}: content reaches the user before it is screened"
    base = resource.get("properties", "basePolicyName")
    if base not in BASE_POLICIES:
        yield f"basePolicyName is {base or 'not stated'}; Microsoft.DefaultV2 required"


def _bound_blocklists(policy: Resource) -> set[str]:
    """Blocklists the policy applies, blocking, to prompts and completions alike."""
    sources: dict[str, set[str]] = {}
    for item in policy.items("properties", "customBlocklists"):
        if item.get("blocking") is not True:
            continue
        name = str(item.get("blocklistName", "")).lower()
        sources.setdefault(name, set()).add(str(item.get("source", "")).lower())
    return {name for name, seen in sources.items() if set(_SOURCES) <= seen}


def _patterns(policy: Resource, resources: Sequence[Resource], *, regex: bool) -> set[str]:
    """Patterns of the blocklists ``policy`` applies that exist in the stack."""
    bound = _bound_blocklists(policy)
    existing = {
        name_of(b, "raiBlocklistName")
        for b in of_type(resources, BLOCKLIST)
        if _same_account(b, policy) and name_of(b, "raiBlocklistName") in bound
    }
    out: set[str] = set()
    for item in of_type(resources, BLOCKLIST_ITEM):
        if not _same_account(item, policy) or name_of(item, "raiBlocklistName") not in existing:
            continue
        if bool(item.get("properties", "isRegex", default=False)) != regex:
            continue
        pattern = item.get("properties", "pattern")
        if isinstance(pattern, str):
            out.add(pattern if regex else pattern.strip().lower())
    return out


@stack_policy(
    id="AZURE-AI-011",
    title="The content filter blocks the profile's PII patterns",
    severity="high",
    controls=["AI-03"],
    remediation="Bind a regex blocklist, blocking on prompts and completions, holding "
    "aiscaffold's pattern for each of the profile's pii_entities that a pattern can "
    "recognise (GuardrailArgs(pii_entities=profile.pii_entities) does). Other entity "
    "types need application-side PII detection.",
)
def pii_blocklist(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Credentials, e-mail addresses, phone, SSN, card and IP numbers in prompts and
    completions are blocked (Azure's filter cannot mask: ``anonymize`` acts as block)."""
    from aiscaffold_components.azure.guardrail import PII_PATTERNS

    policies = of_type(resources, RAI_POLICY)
    if not policies:
        raise NotApplicable("no content filter policy")
    wanted = {e: PII_PATTERNS[e] for e in requirements.setting("pii_entities") if e in PII_PATTERNS}
    if not wanted:
        raise NotApplicable("no PII entity of the profile has a pattern")
    for policy in policies:
        present = _patterns(policy, resources, regex=True)
        missing = sorted(e for e, pattern in wanted.items() if pattern not in present)
        if missing:
            yield (
                policy,
                f"{policy.name} does not block these PII entities in prompts and "
                f"completions: {', '.join(missing)}",
            )


@stack_policy(
    id="AZURE-AI-012",
    title="The content filter blocks the denied topics",
    severity="medium",
    controls=["AI-04"],
    remediation="Bind a blocklist, blocking on prompts and completions, holding each of "
    "the project's guardrail_denied_topics (GuardrailArgs(denied_terms=...) does); add "
    "the phrases each topic is recognised by.",
)
def denied_topics(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Topics the team answered are refused: Azure blocklists match terms, so each
    answered topic is a blocked term on both sides."""
    topics = {t.strip().lower() for t in requirements.guardrail_denied_topics if t.strip()}
    if not topics:
        raise NotApplicable("the project denies no topics")
    policies = of_type(resources, RAI_POLICY)
    if not policies:
        raise NotApplicable("no content filter policy")
    for policy in policies:
        missing = sorted(topics - _patterns(policy, resources, regex=False))
        if missing:
            yield policy, f"{policy.name} does not block: {', '.join(missing)}"


@resource_policy(
    id="AZURE-AI-013",
    title="Model deployments process data in the allowed regions",
    severity="high",
    types=[DEPLOYMENT],
    controls=["GOV-02"],
    remediation="Use the Standard (or ProvisionedManaged) SKU, which processes data in the "
    "account's region; DataZoneStandard only when every allowed region is in the EU data "
    "zone; never Global* SKUs under GDPR or FedRAMP.",
    # The SDK types the SKU name as a free string (no enum to move to): the Global SKU
    # this policy forbids is declared instead.
    live_when=[
        Addition(
            DEPLOYMENT,
            "a GlobalStandard SKU, which processes prompts in any Azure region",
            path="sku.name",
            value="GlobalStandard",
        )
    ],
)
def deployment_residency(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Global deployments process prompts in any Azure region and data-zone deployments
    anywhere in the zone; a project whose frameworks restrict regions keeps processing
    in its account's region (or, for the EU, in the EU data zone)."""
    from aiscaffold_components.catalog import load_catalog

    regions = load_catalog().clouds["azure"]
    allowed = set(requirements.setting("allowed_regions"))
    if allowed >= set(regions.region_group("all")):
        raise NotApplicable("the project's frameworks do not restrict regions")
    sku = str(resource.get("sku", "name", default="Standard"))
    if sku.lower().startswith("global"):
        yield f"SKU {sku} processes data in any Azure region"
    elif sku.lower().startswith("datazone") and not allowed <= set(regions.region_group("eu")):
        yield f"SKU {sku} processes data across its data zone, beyond the allowed regions"
