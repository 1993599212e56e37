"""Every documented weakening argument of the Azure components is caught by the policy
that verifies what it weakens (docs/clouds/azure.md lists them)."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold.check import evaluate
from aiscaffold.testing import MockRun
from azure.azure_policy_support import reqs

#: Answers matching the composition of tests/azure/conftest.py.
ANSWERS: dict[str, Any] = {
    "compliance": ["soc2"],
    "guardrail_denied_topics": ["investment advice", "legal advice"],
    "alert_emails": ["secops@example.com"],
    "monthly_budget": 1000,
}

WEAKENINGS: list[tuple[str, dict[str, dict[str, Any]], set[str]]] = [
    ("internet egress", {"network": {"allow_internet_egress": True}}, {"AZURE-NET-004", "AZURE-NET-006"}),
    ("hsm keys off (restricted)", {"keys": {"hsm_keys": False}}, {"AZURE-KV-014"}),
    ("no group lock (restricted)", {"network": {"lock_resource_group": False}}, {"AZURE-LOCK-001"}),
    ("slow key rotation", {"keys": {"rotation_days": 400}}, {"AZURE-KV-010", "AZURE-KV-011"}),
    ("long key expiry grace", {"keys": {"expiry_grace_days": 120}}, {"AZURE-KV-011"}),
    ("short soft delete", {"keys": {"soft_delete_days": 7}}, {"AZURE-KV-002"}),
    ("data account for trusted services", {"storage": {"trusted_services_bypass": True}}, {"AZURE-ST-002"}),
    ("short blob soft delete", {"storage": {"soft_delete_days": 1}}, {"AZURE-ST-013"}),
    ("AI account for trusted services", {"openai": {"trusted_services_bypass": True}}, {"AZURE-AI-001"}),
    ("MEDIUM filter for confidential data", {"guardrail": {"strength": "MEDIUM"}}, {"AZURE-AI-006"}),
    ("jailbreak annotated only", {"guardrail": {"block_jailbreak": False}}, {"AZURE-AI-007"}),
    ("indirect attacks annotated only", {"guardrail": {"block_indirect_attacks": False}}, {"AZURE-AI-007"}),
    ("protected material annotated", {"guardrail": {"block_protected_material": False}}, {"AZURE-AI-008"}),
    ("profanity annotated", {"guardrail": {"block_profanity": False}}, {"AZURE-AI-009"}),
    # Writing curated data is the data-processing workload's job too (IAM-05).
    ("workload writes data", {"identity": {"data_write_access": True}}, {"AZURE-IAM-005", "AZURE-IAM-006"}),
    ("mutable archive", {"audit": {"immutable_archive": False}}, {"AZURE-ST-015"}),
    ("no activity log", {"audit": {"export_activity_log": False}}, {"AZURE-MON-005"}),
    ("public queries", {"audit": {"public_query_access": True}}, {"AZURE-MON-007"}),
    ("no flow logs", {"audit": {"flow_logs": None}}, {"AZURE-NET-007"}),
    ("traffic analytics off", {"flow_logs": {"traffic_analytics": False}}, {"AZURE-NET-010"}),
    ("short retention", {"audit": {"retention_days": 90}}, {
        "AZURE-MON-006", "AZURE-NET-008", "AZURE-ST-015", "AZURE-ST-016"
    }),
    ("no Defender for Resource Manager", {"detection": {"plans": ("AI", "KeyVaults", "StorageAccounts")}}, {"AZURE-DET-001"}),
    ("surge alarm waits for 500 blocks", {"alarms": {"blocked_requests_threshold": 500}}, {"AZURE-DET-003"}),
    ("no budget", {"cost": {"monthly_budget": 0}}, {"AZURE-COST-001"}),
    ("no cost anomaly alert", {"cost": {"anomaly_alert": False}}, {"AZURE-COST-003"}),
]  # fmt: skip
RESTRICTED_ONLY = {"hsm keys off (restricted)", "no group lock (restricted)"}


def _violations(run: MockRun, **answers: Any) -> set[tuple[str, str]]:
    return {(f.policy, f.urn) for f in evaluate(run, reqs(**answers)).violations}


@pytest.mark.parametrize(
    ("label", "overrides", "expected"), WEAKENINGS, ids=[w[0] for w in WEAKENINGS]
)
def test_weakening_is_caught_by_its_policy(
    azure_run: Any, label: str, overrides: dict[str, dict[str, Any]], expected: set[str]
) -> None:
    answers = {
        **ANSWERS,
        **({"data_sensitivity": "restricted"} if label in RESTRICTED_ONLY else {}),
    }
    before = _violations(azure_run(), **answers)
    after = _violations(azure_run(**overrides), **answers)
    assert {policy for policy, _ in after - before} == expected


def test_the_documented_exceptions_pass(azure_run: Any) -> None:
    """Log accounts open to trusted services, the vault's AzureServices bypass for CMKs
    and the 2048-bit HSM key of the AI account are intended, not findings."""
    flagged = {policy for policy, _ in _violations(azure_run(), **ANSWERS)}
    assert not flagged & {
        "AZURE-ST-001",
        "AZURE-ST-002",
        "AZURE-KV-003",
        "AZURE-KV-004",
        "AZURE-KV-013",
    }
    # The components' own test composition lists fewer PII entities than the profile;
    # the stack owns the subscription's Defender settings (advisory by design).
    assert flagged == {"AZURE-AI-011", "AZURE-DEPLOY-005"}
