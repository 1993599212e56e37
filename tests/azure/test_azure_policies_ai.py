"""AI account and content filter policies: each failure mode flags exactly the
offending resources."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold.testing import MockRun
from aiscaffold_components.catalog import load_catalog
from azure.azure_policy_support import DROP, base_run, flagged

ACCOUNT = "openai-account"
POLICY = "openai-guardrail-policy"
GPT, EMBEDDING = (
    "openai-" + model.partition(":")[0]
    for model in load_catalog().clouds["azure"].ai_services["openai"].default_models
)
FILTERS = "properties.contentFilters"
BLOCKLISTS = "properties.customBlocklists"
# contentFilters: 0-3 harm categories on prompts, 4-7 on completions, 8 Jailbreak,
# 9 Indirect Attack, 10-11 protected material, 12-13 profanity (prompt, completion).
# customBlocklists: 0-1 denied terms, 2-3 PII (prompt, completion).
GDPR = {"compliance": ["gdpr"]}


@pytest.fixture(scope="module")
def base(render_project: Any) -> MockRun:
    return base_run(render_project)


CASES: list[tuple[str, dict[str, dict[str, Any]], set[str], dict[str, Any]]] = [
    # AI-001 network
    ("AZURE-AI-001", {ACCOUNT: {"properties.publicNetworkAccess": "Enabled"}}, {ACCOUNT}, {}),
    ("AZURE-AI-001", {ACCOUNT: {"properties.publicNetworkAccess": DROP}}, {ACCOUNT}, {}),
    ("AZURE-AI-001", {ACCOUNT: {"properties.networkAcls.defaultAction": "Allow"}}, {ACCOUNT}, {}),
    ("AZURE-AI-001", {ACCOUNT: {"properties.networkAcls": DROP}}, {ACCOUNT}, {}),
    (
        "AZURE-AI-001",
        {ACCOUNT: {"properties.networkAcls.ipRules": [{"value": "203.0.113.9"}]}},
        {ACCOUNT},
        {},
    ),
    ("AZURE-AI-001", {ACCOUNT: {"properties.networkAcls.bypass": "AzureServices"}}, {ACCOUNT}, {}),
    ("AZURE-AI-001", {ACCOUNT: {"properties.networkAcls.bypass": DROP}}, {ACCOUNT}, {}),
    # AI-002 keyless
    ("AZURE-AI-002", {ACCOUNT: {"properties.disableLocalAuth": False}}, {ACCOUNT}, {}),
    ("AZURE-AI-002", {ACCOUNT: {"properties.disableLocalAuth": DROP}}, {ACCOUNT}, {}),
    ("AZURE-AI-002", {ACCOUNT: {"properties.customSubDomainName": DROP}}, {ACCOUNT}, {}),
    # AI-003 CMK
    (
        "AZURE-AI-003",
        {ACCOUNT: {"properties.encryption.keySource": "Microsoft.CognitiveServices"}},
        {ACCOUNT},
        {},
    ),
    ("AZURE-AI-003", {ACCOUNT: {"properties.encryption.keyVaultProperties": DROP}}, {ACCOUNT}, {}),
    (
        "AZURE-AI-003",
        {ACCOUNT: {"properties.encryption.keyVaultProperties.keyVersion": "abc"}},
        {ACCOUNT},
        {},
    ),
    (
        "AZURE-AI-003",
        {ACCOUNT: {"properties.encryption.keyVaultProperties.identityClientId": DROP}},
        {ACCOUNT},
        {},
    ),
    ("AZURE-AI-003", {ACCOUNT: {"identity": DROP}}, {ACCOUNT}, {}),
    # AI-004 outbound
    ("AZURE-AI-004", {ACCOUNT: {"properties.restrictOutboundNetworkAccess": False}}, {ACCOUNT}, {}),
    ("AZURE-AI-004", {ACCOUNT: {"properties.restrictOutboundNetworkAccess": DROP}}, {ACCOUNT}, {}),
    ("AZURE-AI-004", {ACCOUNT: {"properties.allowedFqdnList": ["*.example.com"]}}, {ACCOUNT}, {}),
    ("AZURE-AI-004", {ACCOUNT: {"properties.allowedFqdnList": ["search.example.com"]}}, set(), {}),
    # AI-005 deployments bound to the project's filter
    ("AZURE-AI-005", {GPT: {"properties.raiPolicyName": DROP}}, {GPT}, {}),
    ("AZURE-AI-005", {GPT: {"properties.raiPolicyName": "Microsoft.DefaultV2"}}, {GPT}, {}),
    ("AZURE-AI-005", {POLICY: {"raiPolicyName": "another-policy"}}, {GPT, EMBEDDING}, {}),
    ("AZURE-AI-005", {POLICY: {"accountName": "another-account"}}, {GPT, EMBEDDING}, {}),
    # AI-006 harm categories at the profile's strength
    ("AZURE-AI-006", {POLICY: {f"{FILTERS}.0.blocking": False}}, {POLICY}, {}),
    ("AZURE-AI-006", {POLICY: {f"{FILTERS}.5.enabled": False}}, {POLICY}, {}),
    ("AZURE-AI-006", {POLICY: {f"{FILTERS}.7": DROP}}, {POLICY}, {}),
    ("AZURE-AI-006", {POLICY: {f"{FILTERS}.2.severityThreshold": "Medium"}}, {POLICY}, {}),  # HIGH
    (
        "AZURE-AI-006",
        {POLICY: {f"{FILTERS}.2.severityThreshold": "Medium"}},
        set(),
        {"data_sensitivity": "internal"},  # MEDIUM strength
    ),
    (
        "AZURE-AI-006",
        {POLICY: {f"{FILTERS}.2.severityThreshold": "High"}},
        {POLICY},
        {"data_sensitivity": "internal"},
    ),
    ("AZURE-AI-006", {POLICY: {f"{FILTERS}.4.severityThreshold": DROP}}, {POLICY}, {}),
    # AI-007 prompt shields
    ("AZURE-AI-007", {POLICY: {f"{FILTERS}.8.blocking": False}}, {POLICY}, {}),
    ("AZURE-AI-007", {POLICY: {f"{FILTERS}.8.enabled": False}}, {POLICY}, {}),
    ("AZURE-AI-007", {POLICY: {f"{FILTERS}.9": DROP}}, {POLICY}, {}),
    ("AZURE-AI-007", {POLICY: {f"{FILTERS}.8.source": "Completion"}}, {POLICY}, {}),
    # AI-008 protected material
    ("AZURE-AI-008", {POLICY: {f"{FILTERS}.11.blocking": False}}, {POLICY}, {}),
    ("AZURE-AI-008", {POLICY: {f"{FILTERS}.10": DROP}}, {POLICY}, {}),
    # AI-009 profanity
    ("AZURE-AI-009", {POLICY: {f"{FILTERS}.12": DROP}}, {POLICY}, {}),
    ("AZURE-AI-009", {POLICY: {f"{FILTERS}.13.blocking": False}}, {POLICY}, {}),
    # AI-010 synchronous, current base
    ("AZURE-AI-010", {POLICY: {"properties.mode": "Asynchronous_filter"}}, {POLICY}, {}),
    ("AZURE-AI-010", {POLICY: {"properties.mode": "Deferred"}}, {POLICY}, {}),
    ("AZURE-AI-010", {POLICY: {"properties.basePolicyName": DROP}}, {POLICY}, {}),
    ("AZURE-AI-010", {POLICY: {"properties.basePolicyName": "Microsoft.Default"}}, {POLICY}, {}),
    # AI-011 PII blocklist
    ("AZURE-AI-011", {"openai-guardrail-pii-1": {"properties.pattern": "@"}}, {POLICY}, {}),
    ("AZURE-AI-011", {"openai-guardrail-pii-3": {"raiBlocklistName": "elsewhere"}}, {POLICY}, {}),
    ("AZURE-AI-011", {"openai-guardrail-pii-0": {"properties.isRegex": False}}, {POLICY}, {}),
    ("AZURE-AI-011", {"openai-guardrail-pii": {"raiBlocklistName": "renamed"}}, {POLICY}, {}),
    ("AZURE-AI-011", {POLICY: {f"{BLOCKLISTS}.3": DROP}}, {POLICY}, {}),  # not on completions
    ("AZURE-AI-011", {POLICY: {f"{BLOCKLISTS}.2.blocking": False}}, {POLICY}, {}),
    ("AZURE-AI-011", {}, {POLICY}, {"data_sensitivity": "restricted"}),  # + ip-address
    # AI-012 denied topics
    (
        "AZURE-AI-012",
        {"openai-guardrail-denied-terms-0": {"properties.pattern": "advice"}},
        {POLICY},
        {},
    ),
    ("AZURE-AI-012", {POLICY: {f"{BLOCKLISTS}.0": DROP}}, {POLICY}, {}),
    (
        "AZURE-AI-012",
        {},
        {POLICY},
        {"guardrail_denied_topics": ["investment advice", "legal advice"]},
    ),
    ("AZURE-AI-012", {}, set(), {"guardrail_denied_topics": ["Investment Advice "]}),
    ("AZURE-AI-012", {POLICY: {f"{BLOCKLISTS}": DROP}}, set(), {"guardrail_denied_topics": []}),
    # AI-013 deployments process data where the frameworks allow
    ("AZURE-AI-013", {GPT: {"sku.name": "GlobalStandard"}}, {GPT}, GDPR),
    ("AZURE-AI-013", {GPT: {"sku.name": "DataZoneStandard"}}, set(), GDPR),  # the EU data zone
    ("AZURE-AI-013", {GPT: {"sku.name": "DataZoneStandard"}}, {GPT}, {"compliance": ["fedramp"]}),
    ("AZURE-AI-013", {GPT: {"sku.name": "GlobalStandard"}}, set(), {}),  # no residency answer
]


@pytest.mark.parametrize(("policy", "patches", "expected", "answers"), CASES)
def test_ai_policy(
    base: MockRun,
    policy: str,
    patches: dict[str, dict[str, Any]],
    expected: set[str],
    answers: dict[str, Any],
) -> None:
    assert flagged(base, policy, patches, **answers) == expected


def test_the_blocklists_must_exist_in_the_stack(base: MockRun) -> None:
    assert flagged(base, "AZURE-AI-011", drop=["openai-guardrail-pii"]) == {POLICY}
    assert flagged(base, "AZURE-AI-012", drop=["openai-guardrail-denied-terms"]) == {POLICY}


def test_a_deployment_without_its_policy_is_flagged(base: MockRun) -> None:
    assert flagged(base, "AZURE-AI-005", drop=[POLICY]) == {GPT, EMBEDDING}
