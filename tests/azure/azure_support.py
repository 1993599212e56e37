"""Shared data of the Azure tests (fixtures are in conftest.py)."""

from __future__ import annotations

from typing import Any

#: Answer sets the generated Azure project is tested with (besides cloud=azure): the
#: default project and the compliance-heavy variants of issue 4.
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    # Also every workload type and a recovery region (issue 17: IAM-05, NET-07, GOV-07,
    # REC-01), so the mutation pass covers their policies without another variant.
    "restricted-hipaa-gdpr": {
        "data_sensitivity": "restricted",
        "compliance": ["hipaa", "gdpr"],
        "region": "swedencentral",
        "workloads": ["inference", "training", "data-processing"],
        "dr_region": "germanywestcentral",
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
    # The AI gateway (issue 20): internal API Management; and the public one behind Front
    # Door's WAF with the strictest limits (restricted) and the framework that makes its
    # policies mandatory when public (pci-dss).
    "gateway-private": {
        "api_gateway": "private",
        "gateway_oidc_issuer": "https://login.example.com/tenant/v2.0",
        "gateway_oidc_audience": "api://az-gateway-private",
    },
    "gateway-public": {
        "api_gateway": "public",
        "gateway_oidc_issuer": "https://login.example.com/tenant/v2.0",
        "gateway_oidc_audience": "api://az-gateway-public",
        "data_sensitivity": "restricted",
        "compliance": ["pci-dss"],
    },
}
