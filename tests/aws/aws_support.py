"""Helpers of the AWS component tests: running components, diffing runs, reading policies."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from aiscaffold.testing import CapturedResource, MockRun, run

ACCOUNT = "123456789012"
REGION = "us-east-1"
CONFIG = {"aws:region": REGION}
TAGS = {
    "project": "unit",
    "stack": "test",
    "data-classification": "confidential",
    "managed-by": "aiscaffold",
    "compliance": "none",
}
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/unit-test-workload"
#: The answer sets the AWS tests render, by name.
PROJECTS: dict[str, dict[str, Any]] = {
    "defaults": {"cloud": "aws"},
    "bedrock-restricted": {
        "cloud": "aws",
        "ai_service": "bedrock",
        "data_sensitivity": "restricted",
        "compliance": ["hipaa", "pci-dss"],
        "guardrail_denied_topics": ["investment advice", "legal advice"],
        # Issue 17: every workload type and a recovery region, so the mutation test of
        # this project covers IAM-05, NET-07, GOV-07 and REC-01.
        "workloads": ["inference", "training", "data-processing"],
        "dr_region": "us-west-2",
    },
    "sagemaker-confidential": {
        "cloud": "aws",
        "ai_service": "sagemaker",
        "data_sensitivity": "confidential",
        "compliance": ["soc2"],
    },
    "egress": {"cloud": "aws", "allow_internet_egress": True},
    # No budget (0 is accepted for public and internal data only), another stack owns the
    # account's services: no budget and no anomaly monitor (the owning stack's covers it).
    "no-budget": {
        "cloud": "aws",
        "data_sensitivity": "internal",
        "monthly_budget": 0,
        "account_services": "shared",
    },
    # DET: addresses subscribed, threat detection owned elsewhere, a SIEM reading the logs
    # (its stack config in PROJECT_CONFIG).
    "shared-siem": {
        "cloud": "aws",
        "ai_service": "bedrock",
        "data_sensitivity": "restricted",
        "account_services": "shared",
        "alert_emails": ["secops@example.com", "oncall@example.org"],
    },
    # The AI gateway (issue 20): private with the 503 mock; public for restricted
    # data under PCI DSS (API-01..05 mandatory), with a Lambda backend.
    "gateway-private": {
        "cloud": "aws",
        "ai_service": "bedrock",
        "data_sensitivity": "confidential",
        "api_gateway": "private",
        "gateway_oidc_issuer": "https://login.example.com/tenant/v2.0",
        "gateway_oidc_audience": "api://aws-gateway-private",
    },
    "gateway-public": {
        "cloud": "aws",
        "ai_service": "bedrock",
        "data_sensitivity": "restricted",
        "compliance": ["pci-dss"],
        "api_gateway": "public",
        "gateway_oidc_issuer": "https://login.example.com/tenant/v2.0",
        "gateway_oidc_audience": "api://aws-gateway-public",
    },
}
#: Stack config a project of ``PROJECTS`` runs with (besides its Pulumi.<stack>.yaml).
PROJECT_CONFIG: dict[str, dict[str, Any]] = {
    "gateway-public": {
        # No gateway_clients: scripts/gen_region_types.py renders the projects without
        # this config, so it must add no resource type (the component tests cover keys).
        "gateway_backend": "arn:aws:lambda:us-east-1:123456789012:function:aws-gateway-public-app",
    },
    "shared-siem": {
        "siem_consumer": "arn:aws:iam::210987654321:role/central-siem",
        "siem_external_id": "aiscaffold-siem-test",
    },
}

KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"


def run_component(build: Callable[[], object], region: str = REGION) -> MockRun:
    """Run a function building components under the mocks, in a unit test project."""
    return run(build, project="unit", stack="test", config={"aws:region": region})


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values of nested inputs by path (``a.b[0].c``); policies parsed as JSON."""
    if isinstance(value, str) and value.startswith("{") and '"Statement"' in value:
        value = json.loads(value)
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


@dataclass(frozen=True)
class Changes:
    """How a run differs from another, by resource (type, name)."""

    added: frozenset[tuple[str, str]]
    removed: frozenset[tuple[str, str]]
    changed: dict[tuple[str, str], dict[str, tuple[Any, Any]]]
    """Per resource: path -> (before, after) for every input leaf that differs."""

    @property
    def added_types(self) -> set[str]:
        return {t for t, _ in self.added}

    @property
    def changed_paths(self) -> dict[str, set[str]]:
        return {name: set(paths) for (_, name), paths in self.changed.items()}


def _snapshot(result: MockRun) -> dict[tuple[str, str], tuple[dict[str, Any], bool]]:
    return {(r.type, r.name): (flatten(r.inputs), r.protect) for r in result.resources}


def changes(before: MockRun, after: MockRun) -> Changes:
    """Resources added, removed and changed (inputs or protect) from ``before`` to ``after``."""
    old, new = _snapshot(before), _snapshot(after)
    changed: dict[tuple[str, str], dict[str, tuple[Any, Any]]] = {}
    for key in old.keys() & new.keys():
        (a, pa), (b, pb) = old[key], new[key]
        diff = {p: (a.get(p), b.get(p)) for p in a.keys() | b.keys() if a.get(p) != b.get(p)}
        if pa != pb:
            diff["<protect>"] = (pa, pb)
        if diff:
            changed[key] = diff
    return Changes(
        added=frozenset(new.keys() - old.keys()),
        removed=frozenset(old.keys() - new.keys()),
        changed=changed,
    )


# ------------------------------------------------------------------ policy documents
#: Inputs holding a policy document, by resource type.
POLICY_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("assumeRolePolicy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:kms/key:Key": ("policy",),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("policy",),
    "aws:secretsmanager/secretPolicy:SecretPolicy": ("policy",),
}


@dataclass(frozen=True)
class Document:
    resource: CapturedResource
    field: str
    doc: dict[str, Any]

    @property
    def statements(self) -> list[dict[str, Any]]:
        return list(self.doc["Statement"])


def documents(result: MockRun) -> Iterator[Document]:
    """Every policy document the run's resources carry, parsed."""
    for resource in result.resources:
        for field in POLICY_INPUTS.get(resource.type, ()):
            text = resource.inputs.get(field)
            if text is None:
                continue
            assert isinstance(text, str), f"{resource.name}.{field} is not a JSON string"
            yield Document(resource, field, json.loads(text))


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statement(document: Document | str, sid: str) -> dict[str, Any]:
    """The statement ``sid`` of a document (or of a JSON policy string)."""
    doc = json.loads(document) if isinstance(document, str) else document.doc
    found = [s for s in doc["Statement"] if s.get("Sid") == sid]
    assert len(found) == 1, (
        f"no single statement {sid} among {[s.get('Sid') for s in doc['Statement']]}"
    )
    return found[0]


def policy(resource: CapturedResource, field: str = "policy") -> dict[str, Any]:
    return json.loads(resource.inputs[field])


# ------------------------------------------------------------------ tags
@cache
def takes_tags(type_token: str) -> bool:
    """Whether pulumi-aws's class for ``type_token`` accepts ``tags`` (its own signature)."""
    import importlib

    _, module_part, class_name = type_token.split(":")
    module_name = module_part.split("/")[0]
    module_name = {"lambda": "lambda_"}.get(module_name, module_name)  # a Python keyword
    module = importlib.import_module(f"pulumi_aws.{module_name}")
    init = getattr(module, class_name)._internal_init
    return "tags" in inspect.signature(init).parameters


def untagged(result: MockRun, tags: dict[str, str]) -> list[str]:
    """Taggable AWS resources whose own tags input lacks any of ``tags``."""
    return [
        f"{r.type} {r.name}"
        for r in result.custom_resources
        if r.type.startswith("aws:")
        and takes_tags(r.type)
        and not tags.items() <= (r.inputs.get("tags") or {}).items()
    ]
