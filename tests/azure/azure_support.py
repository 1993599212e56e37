"""Shared data of the Azure tests (fixtures are in conftest.py)."""

from __future__ import annotations

from typing import Any

#: Answer sets the generated Azure project is tested with (besides cloud=azure): the
#: default project and the compliance-heavy variants of issue 4.
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "restricted-hipaa-gdpr": {
        "data_sensitivity": "restricted",
        "compliance": ["hipaa", "gdpr"],
        "region": "swedencentral",
    },
    "internal-soc2": {"data_sensitivity": "internal", "compliance": ["soc2"]},
    # Cost guardrails (COST-01..03): a budget other than the default, and the alert
    # addresses the subscription's cost anomaly alert e-mails.
    "cost-alerts": {"monthly_budget": 2500, "alert_emails": ["finops@example.com"]},
    # Detection and response (issue 15): subscribed addresses, and the subscription's
    # services (Defender plans, contact, findings route) owned by another stack.
    "shared-alerts": {
        "account_services": "shared",
        "alert_emails": ["secops@example.com", "oncall@example.com"],
    },
}
