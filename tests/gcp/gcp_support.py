"""Helpers of the GCP component tests: running one component, diffing two runs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml
from aiscaffold.testing import CapturedResource, MockRun, run

PROJECT = "mock-project"
NUMBER = "123456789012"
REGION = "us-central1"
CONFIG = {"gcp:region": REGION, "gcp:project": PROJECT}
LABELS = {
    "project": "unit",
    "stack": "test",
    "data-classification": "confidential",
    "managed-by": "aiscaffold",
    "compliance": "none",
}
KEY = f"projects/{PROJECT}/locations/{REGION}/keyRings/ring/cryptoKeys"
WORKLOAD = f"serviceAccount:workload@{PROJECT}.iam.gserviceaccount.com"

#: Domain of each Google-managed service agent, by service, where it is not gcp-sa-<service>.
_AGENT_DOMAINS = {"storage": "gs-project-accounts", "compute": "compute-system"}


def agent(service: str) -> str:
    """IAM member of the mock project's service agent of ``service``."""
    domain = _AGENT_DOMAINS.get(service, f"gcp-sa-{service}")
    return f"serviceAccount:service-{NUMBER}@{domain}.iam.gserviceaccount.com"


#: The service agents the project grants anything to, as IAM members, each for a reason:
#: key use (Keys: Vertex AI, Cloud Storage, Cloud Logging, Secret Manager, Pub/Sub, and
#: Compute Engine and Notebooks for Workbench disks), publishing rotation notices (Secret
#: Manager), writing to the log archive (Cloud Logging, the sink's writer identity) and
#: screening Vertex AI calls with Model Armor (Vertex AI).
SERVICE_AGENTS = frozenset(
    agent(service)
    for service in (
        "aiplatform",
        "storage",
        "logging",
        "secretmanager",
        "pubsub",
        "compute",
        "notebooks",
        # Publishing alerts and findings to the alert topic (DET-02).
        "monitoring-notification",
        "scc-notification",
    )
) | {
    # Not a service agent: the SIEM consumer of the restricted-shared-siem variant,
    # granted pulling its export subscription (DET-04).
    "serviceAccount:siem@central-sec.iam.gserviceaccount.com"
}


def run_component(build: Callable[[], object]) -> MockRun:
    """Run a function building components under the mocks, in a unit test project."""
    return run(build, project="unit", stack="test", config=CONFIG)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values of nested inputs by path (``a.b[0].c``)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out if out else {prefix: {}}
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
        return out if out else {prefix: []}
    return {prefix: value}


def _state(resource: CapturedResource) -> dict[str, Any]:
    state = flatten(resource.inputs)
    state["<protect>"] = resource.protect
    return state


def changes(base: MockRun, other: MockRun) -> set[str]:
    """What differs between two runs.

    ``+name`` / ``-name`` for a resource only in ``other`` / ``base``, and
    ``name:path`` for an input (or ``<protect>``) whose value differs.
    """
    before = {r.name: r for r in base.resources}
    after = {r.name: r for r in other.resources}
    for result, by_name in ((base, before), (other, after)):
        assert len(by_name) == len(result.resources), "resource names must be unique"
    out = {f"+{n}" for n in after.keys() - before.keys()}
    out |= {f"-{n}" for n in before.keys() - after.keys()}
    for name in before.keys() & after.keys():
        old, new = _state(before[name]), _state(after[name])
        out |= {f"{name}:{p}" for p in old.keys() | new.keys() if old.get(p) != new.get(p)}
    return out


def only_paths(found: Iterable[str]) -> set[str]:
    """Changed input paths with list indexes removed (``a.b[3].c`` -> ``a.b.c``)."""
    return {re.sub(r"\[\d+\]", "", item) for item in found}


IAM_TYPES = re.compile(r"(IAMMember|IamMember|IAMBinding|IamBinding|IAMPolicy|IamPolicy)$")


def iam_bindings(result: MockRun) -> list[CapturedResource]:
    """Every IAM grant resource of a run."""
    return [r for r in result.custom_resources if IAM_TYPES.search(r.type)]


#: Answer sets the generated project is tested with (besides cloud=gcp).
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    # Segmentation and recovery (IAM-05, NET-07, GOV-07, REC-01): every workload type and
    # a recovery region in the EU (the region is europe-west4), so mutation kill covers
    # their policies.
    "restricted-gdpr": {
        "data_sensitivity": "restricted",
        "compliance": ["gdpr"],
        "workloads": ["inference", "training", "data-processing"],
        "dr_region": "europe-west1",
    },
    "confidential-iso-soc2": {
        "data_sensitivity": "confidential",
        "compliance": ["iso27001", "soc2"],
        # Cost guardrails (COST-01): a billing account, so the budgets exist here.
        "billing_account": "012345-6789AB-CDEF01",
    },
    # Detection and response (DET): alert addresses, the project's services owned by
    # another stack (no SCC notification config here) and the SIEM export on.
    "restricted-shared-siem": {
        "data_sensitivity": "restricted",
        "account_services": "shared",
        "alert_emails": ["secops@example.com", "oncall@example.com"],
    },
    # The AI gateway (API-01..05): private (internal load balancer, no certificate yet:
    # the first deploy's state) and public (restricted data and PCI DSS, where API-03 is
    # mandatory; its domain and backend set in VARIANT_CONFIG).
    "private-gateway": {
        "api_gateway": "private",
        "gateway_oidc_issuer": "https://login.example.com/tenant/v2.0",
        "gateway_oidc_audience": "api://gcp-private-gateway",
    },
    "public-restricted-pci": {
        "data_sensitivity": "restricted",
        "compliance": ["pci-dss"],
        "api_gateway": "public",
        "gateway_oidc_issuer": "https://login.example.com/tenant/v2.0",
        "gateway_oidc_audience": "api://gcp-public-restricted-pci",
    },
}

#: Stack config of single variants, besides ORG_POLICIES and OPTIONAL_CONFIG.
VARIANT_CONFIG: dict[str, dict[str, Any]] = {
    "restricted-shared-siem": {
        "siem_consumer": "serviceAccount:siem@central-sec.iam.gserviceaccount.com"
    },
    "public-restricted-pci": {
        "gateway_backend": "ai-workload",
        "gateway_domain": "api.example.com",
    },
}

#: Optional stack config the confidential variant also turns on, so the optional
#: pieces (Workbench, VPC-SC perimeter, a secret value) run in a generated project too.
OPTIONAL_CONFIG = {
    "workbench": True,
    "vpc_sc_access_policy": "123456789",
    "secret-app-api-key": "mock-value",
}


#: Stack config of the shared runs: the organization policies (the answer
#: gcp_org_policies: true) and the logs after their lock step (lock_log_archive), the
#: state release 0.2.0 deployed at once. tests/gcp/test_gcp_deploy.py runs the defaults.
ORG_POLICIES = {"gcp_org_policies": True, "lock_log_archive": True}


class GeneratedRun:
    """A rendered GCP project, its stack config and its mock run."""

    def __init__(self, path: Path, result: MockRun) -> None:
        self.path = path
        self.run = result
        stack = yaml.safe_load((path / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
        project = yaml.safe_load((path / "Pulumi.yaml").read_text(encoding="utf-8"))["name"]
        self.config: dict[str, Any] = {
            key.split(":", 1)[1]: value
            for key, value in stack["config"].items()
            if key.startswith(f"{project}:")
        }
        self.region: str = stack["config"]["gcp:region"]
        self.project = project
