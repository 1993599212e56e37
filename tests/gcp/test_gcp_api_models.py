"""Inputs of the generated GCP projects against Google's discovery documents.

Enums (key purposes, DNS visibility, flow-log intervals ...) and duration formats the
REST APIs define are checked on every variant's mock run, so a value the API rejects
fails here, not at the first ``pulumi up``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest
from aiscaffold.api_models import region_problem, validate
from gcp_support import VARIANTS, GeneratedRun

pytestmark = pytest.mark.slow


@dataclass
class Resource:
    type: str
    name: str
    inputs: dict[str, Any]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_input_is_inside_the_api_domain(
    gcp_projects: dict[str, GeneratedRun], variant: str
) -> None:
    result = validate("gcp", gcp_projects[variant].run.custom_resources)
    assert not result.problems, "\n".join(map(str, result.problems))
    # A new resource type is checked by nothing until aiscaffold.api_models.GCP_TYPES
    # maps it (or GCP_UNMODELLED names why it cannot be).
    assert not result.unknown_types
    assert not result.unmapped, sorted(result.unmapped)


def test_the_inputs_that_matter_are_checked(gcp_projects: dict[str, GeneratedRun]) -> None:
    checked = validate("gcp", gcp_projects["defaults"].run.custom_resources).checked
    for expected in [
        ("gcp:kms/cryptoKey:CryptoKey", "purpose"),
        ("gcp:kms/cryptoKey:CryptoKey", "rotationPeriod"),
        ("gcp:kms/cryptoKey:CryptoKey", "versionTemplate.algorithm"),
        ("gcp:dns/managedZone:ManagedZone", "visibility"),
        ("gcp:compute/subnetwork:Subnetwork", "logConfig.aggregationInterval"),
        ("gcp:compute/firewall:Firewall", "direction"),
        ("gcp:projects/iAMAuditConfig:IAMAuditConfig", "auditLogConfigs.logType"),
        ("gcp:storage/bucket:Bucket", "lifecycleRules.action.type"),
    ]:
        assert expected in checked


@pytest.mark.parametrize(
    ("type_", "key", "value", "says"),
    [
        # cloudkms: "INVALID_ARGUMENT: Invalid value at 'crypto_key.purpose'"
        ("gcp:kms/cryptoKey:CryptoKey", "purpose", "ENCRYPT", "not one of"),
        # a Terraform-style "90d" is no google-duration ("7776000s")
        ("gcp:kms/cryptoKey:CryptoKey", "rotationPeriod", "90d", "not a duration"),
        ("gcp:dns/managedZone:ManagedZone", "visibility", "internal", "not one of"),
        ("gcp:compute/firewall:Firewall", "direction", "INBOUND", "not one of"),
    ],
)
def test_a_value_the_api_rejects_is_reported(
    gcp_projects: dict[str, GeneratedRun], type_: str, key: str, value: Any, says: str
) -> None:
    resources = [
        Resource(r.type, r.name, copy.deepcopy(r.inputs))
        for r in gcp_projects["defaults"].run.custom_resources
    ]
    target = next(r for r in resources if r.type == type_)
    target.inputs[key] = value

    problems = validate("gcp", resources).problems

    assert {(p.type, p.name, p.path) for p in problems} == {(type_, target.name, key)}
    assert says in problems[0].message
    assert problems[0].source.startswith("https://cloud.google.com/")


def test_no_offline_region_offering_for_gcp() -> None:
    # Discovery documents carry no region lists: `new` checks GCP regions against the
    # catalog only.
    assert region_problem("gcp", "vertex-ai", "us-central1") is None
