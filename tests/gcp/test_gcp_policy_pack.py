"""The GCP policy pack as a whole: manifest, coverage, generated projects, values unknown
during preview, state backend."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.check import check_project, evaluate, load_requirements
from aiscaffold.cli import main
from aiscaffold.testing import CapturedResource, MockRun, run_program
from aiscaffold_components.catalog import load_catalog
from aiscaffold_components.policies import Requirements, ResourcePolicy, registry
from gcp.gcp_policy_support import DROP, derived, only, patched, res
from gcp.gcp_support import ORG_POLICIES, VARIANTS, GeneratedRun
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

#: Every GCP policy and its level for public data without a framework (the weakest
#: profile, where the catalog makes most of them advisory). A refactor that drops or
#: renames a policy, or moves one to another control, shows up here.
MANIFEST = {
    "GCP-API-001": "advisory",
    "GCP-API-002": "advisory",
    "GCP-API-003": "advisory",
    "GCP-API-004": "advisory",
    "GCP-API-005": "advisory",
    "GCP-API-006": "advisory",
    "GCP-API-007": "advisory",
    "GCP-ARMOR-001": "mandatory",
    "GCP-ARMOR-002": "mandatory",
    "GCP-ARMOR-003": "advisory",
    "GCP-ARMOR-004": "mandatory",
    "GCP-ARMOR-005": "mandatory",
    "GCP-ARMOR-006": "mandatory",
    "GCP-ARMOR-007": "advisory",
    "GCP-ARMOR-008": "mandatory",
    "GCP-ARMOR-009": "advisory",
    "GCP-ARMOR-010": "mandatory",
    "GCP-ARMOR-011": "mandatory",
    "GCP-DNS-001": "advisory",
    "GCP-DNS-002": "advisory",
    "GCP-DNS-003": "advisory",
    "GCP-GOV-001": "advisory",
    "GCP-GOV-002": "mandatory",
    "GCP-IAM-001": "mandatory",
    "GCP-IAM-002": "mandatory",
    "GCP-IAM-003": "mandatory",
    "GCP-IAM-004": "mandatory",
    "GCP-IAM-005": "mandatory",
    "GCP-IAM-006": "mandatory",
    "GCP-IAM-007": "mandatory",
    "GCP-IAM-009": "advisory",
    "GCP-IAM-008": "mandatory",
    "GCP-KMS-001": "advisory",
    "GCP-KMS-002": "advisory",
    "GCP-KMS-003": "advisory",
    "GCP-KMS-004": "advisory",
    "GCP-KMS-005": "mandatory",
    "GCP-KMS-006": "advisory",
    "GCP-LOG-001": "advisory",
    "GCP-LOG-002": "advisory",
    "GCP-LOG-003": "mandatory",
    "GCP-LOG-004": "advisory",
    "GCP-LOG-005": "advisory",
    "GCP-LOG-006": "advisory",
    "GCP-LOG-007": "advisory",
    "GCP-LOG-008": "advisory",
    "GCP-LOG-009": "advisory",
    "GCP-LOG-010": "advisory",
    "GCP-LOG-011": "advisory",
    "GCP-NET-001": "mandatory",
    "GCP-NET-002": "mandatory",
    "GCP-NET-003": "advisory",
    "GCP-NET-004": "advisory",
    "GCP-NET-005": "advisory",
    "GCP-NET-006": "mandatory",
    "GCP-NET-007": "mandatory",
    "GCP-NET-008": "advisory",
    "GCP-NET-009": "mandatory",
    "GCP-NET-010": "mandatory",
    "GCP-NET-011": "mandatory",
    "GCP-NET-012": "mandatory",
    "GCP-NET-013": "mandatory",
    "GCP-NET-015": "advisory",
    "GCP-NET-014": "mandatory",
    "GCP-ORG-001": "advisory",
    "GCP-ORG-002": "mandatory",
    "GCP-ORG-003": "advisory",
    "GCP-ORG-004": "advisory",
    "GCP-PSC-001": "advisory",
    "GCP-PSC-002": "advisory",
    "GCP-PSC-003": "mandatory",
    "GCP-PUBSUB-001": "advisory",
    "GCP-PUBSUB-002": "mandatory",
    "GCP-COST-001": "advisory",
    "GCP-COST-002": "advisory",
    "GCP-COST-003": "advisory",
    "GCP-COST-004": "advisory",
    "GCP-DET-001": "advisory",
    "GCP-DET-002": "advisory",
    "GCP-DET-003": "advisory",
    "GCP-DET-004": "advisory",
    "GCP-DET-005": "advisory",
    "GCP-DET-006": "advisory",
    "GCP-REC-001": "advisory",
    "GCP-SECRETS-001": "advisory",
    "GCP-SECRETS-002": "mandatory",
    "GCP-SECRETS-003": "advisory",
    "GCP-SECRETS-004": "mandatory",
    "GCP-STORAGE-001": "mandatory",
    "GCP-STORAGE-002": "mandatory",
    "GCP-STORAGE-003": "advisory",
    "GCP-STORAGE-004": "advisory",
    "GCP-STORAGE-005": "advisory",
    "GCP-STORAGE-006": "advisory",
    "GCP-STORAGE-007": "advisory",
    "GCP-STORAGE-008": "mandatory",
    "GCP-STORAGE-009": "advisory",
    "GCP-STORAGE-010": "advisory",
    "GCP-VERTEX-001": "mandatory",
    "GCP-VERTEX-002": "advisory",
    "GCP-VERTEX-003": "advisory",
    "GCP-VERTEX-004": "mandatory",
    "GCP-VERTEX-005": "mandatory",
    "GCP-VERTEX-006": "mandatory",
    "GCP-VERTEX-007": "mandatory",
    "GCP-VERTEX-008": "mandatory",
    "GCP-VERTEX-009": "mandatory",
}


def test_manifest() -> None:
    requirements = Requirements(cloud="gcp", data_sensitivity="public", ai_service="vertex-ai")
    assert {p.id: p.level(requirements) for p in registry("gcp")} == MANIFEST


def test_every_gcp_control_has_a_gcp_policy() -> None:
    covered = {c for p in registry("gcp") if p.id.startswith("GCP-") for c in p.controls}
    expected = {c.id for c in load_catalog().controls if c.applies_to("gcp")}
    assert expected - covered == set()


def test_resource_types_are_real_pulumi_gcp_types() -> None:
    for policy in registry("gcp"):
        if not isinstance(policy, ResourcePolicy):
            continue
        for token in policy.resource_types:
            _, module_path, class_name = token.split(":")
            module = importlib.import_module(f"pulumi_gcp.{module_path.split('/')[0]}")
            source = importlib.import_module(getattr(module, class_name).__module__).__file__
            assert source is not None, token
            assert f"'{token}'" in Path(source).read_text(encoding="utf-8"), (policy.id, token)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_generated_project_passes_the_check(
    variant: str, gcp_projects: dict[str, GeneratedRun], capsys: pytest.CaptureFixture[str]
) -> None:
    project = gcp_projects[variant]
    # With immutable logs, the lock is a second step: until then the missing lock is the
    # one violation, advisory by the exception the project declares (so the first deploy
    # is not blocked), and the check names the command that adds it.
    pending = {"GCP-LOG-006", "GCP-LOG-010"} if project.config["immutable_logs"] else set()
    assert main(["check", str(project.path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    policies = [v for v in report["violations"] if "-DEPLOY-" not in v["policy"]]
    # Without a billing account no budget can exist: advisory, never blocking (COST-01).
    no_budget = set() if project.config.get("billing_account") else {"GCP-COST-001"}
    # Restricted data without a recovery region is reported, advisory (REC-01).
    no_replica = (
        {"GCP-REC-001"}
        if project.config["data_sensitivity"] == "restricted"
        and not project.config.get("dr_region")
        else set()
    )
    assert {v["policy"] for v in policies} == pending | no_budget | no_replica
    assert all(v["level"] == "advisory" for v in policies)
    assert all("lock_log_archive true" in v["message"] for v in policies if v["policy"] in pending)
    assert {o["policy"] for o in report.get("overrides", [])} >= pending
    assert report["policies"] == len(registry("gcp"))
    assert not check_project(project.path).unknown


def test_optional_pieces_pass_the_pack(gcp_projects: dict[str, GeneratedRun]) -> None:
    project = gcp_projects["confidential-iso-soc2"]  # with Workbench, perimeter, secret value
    report = evaluate(project.run, load_requirements(project.path))
    assert [f"{f.policy} {f.resource}" for f in report.violations if f.category == "policy"] == []


def test_optional_pieces_pass_the_gcp_policies(gcp_projects: dict[str, GeneratedRun]) -> None:
    project = gcp_projects["confidential-iso-soc2"]
    assert project.run.of_type("gcp:workbench/instance:Instance")
    report = evaluate(project.run, load_requirements(project.path))
    assert [
        f"{f.policy} {f.resource}"
        for f in report.violations
        if f.policy != "GCP-GOV-002" and f.category == "policy"
    ] == []
    assert not report.unknown


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("rotation_days=profile.key_rotation_days,", "rotation_days=36500,  # effectively never"),
        (
            "\n# Network isolation",
            "\ngcp.kms.CryptoKey(\n"
            '    "unrotated", key_ring=keys.key_ring_id, labels=labels,\n'
            "    opts=pulumi.ResourceOptions(protect=True),\n"
            ")\n\n# Network isolation",
        ),
    ],
    ids=["rotation-period", "key-without-rotation"],
)
def test_disabling_key_rotation_fails_the_check(
    old: str,
    new: str,
    gcp_projects: dict[str, GeneratedRun],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = tmp_path / "edited"
    shutil.copytree(gcp_projects["defaults"].path, project)
    main_py = project / "__main__.py"
    source = main_py.read_text(encoding="utf-8")
    # the first occurrence: the workload region's keys (the recovery region's keys, with
    # dr_region, come later with the same rotation)
    assert source.count(old) >= 1
    main_py.write_text(source.replace(old, new, 1), encoding="utf-8")
    assert main(["check", str(project), "--format", "json"]) == 1
    violations = json.loads(capsys.readouterr().out)["violations"]
    rotation = [v for v in violations if v["policy"] == "GCP-KMS-001"]
    assert rotation and all(v["level"] == "mandatory" for v in rotation)
    assert "rotat" in rotation[0]["message"]


def test_removing_the_model_armor_regional_endpoint_fails_the_check(
    gcp_projects: dict[str, GeneratedRun], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "edited"
    shutil.copytree(gcp_projects["defaults"].path, project)
    main_py = project / "__main__.py"
    source = main_py.read_text(encoding="utf-8")
    old = "subnet_cidr=network.subnet_cidr,\n"
    assert source.count(old) == 1
    main_py.write_text(source.replace(old, old + "        regional_services=(),\n"), "utf-8")
    assert main(["check", str(project), "--format", "json"]) == 1
    violations = json.loads(capsys.readouterr().out)["violations"]
    assert {(v["policy"], v["level"]) for v in violations} == {
        ("GCP-PSC-003", "mandatory"),
        ("GCP-COST-001", "advisory"),  # no billing account: no budget (advisory)
    }
    assert any("modelarmor." in v["message"] for v in violations if v["policy"] == "GCP-PSC-003")


# ------------------------------------------------------ values unknown during preview
S, B, N, OBJ, A = (
    UNKNOWN_STRING_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_ARRAY_VALUE,
)
D, R, C, E = "defaults", "restricted-gdpr", "confidential-iso-soc2", "egress-topics"
GW = "public-restricted-pci"
#: Answers of a project the shared variants leave out: internet egress (a default route
#: and Cloud NAT) and a denied topic (a dictionary of the inspect template).
EGRESS_TOPICS = {"allow_internet_egress": True, "guardrail_denied_topics": ["investment advice"]}

#: Per policy: the generated project it applies to (restricted data for immutable logs,
#: HSM keys and deletion protection; Workbench and the perimeter in the confidential
#: variant), the resource (its name after the project's prefix), a value the policy
#: reads, and the unknown sentinel of its type. Where one exists, the value is one that
#: comes from another resource's outputs (ids, names, emails, addresses), which is what
#: is unknown during a first preview.
UNKNOWN: dict[str, tuple[str, str, str, str]] = {
    # the AI gateway (public: every gateway policy applies there)
    "GCP-API-001": (GW, "gateway-api", "openapiConfig", S),
    "GCP-API-002": (GW, "gateway-proxy", "ingress", S),
    "GCP-API-003": (GW, "gateway-armor", "rules", A),
    "GCP-API-004": (GW, "gateway-armor", "rules", A),
    "GCP-API-005": (GW, "gateway-backend", "securityPolicy", S),
    "GCP-API-006": (GW, "gateway-backend", "logConfig", OBJ),
    "GCP-API-007": (GW, "gateway-tls", "minTlsVersion", S),
    "GCP-ARMOR-001": (D, "guardrail-template", "filterConfig.raiSettings.raiFilters", A),
    "GCP-ARMOR-002": (
        D,
        "guardrail-floor",
        "filterConfig.piAndJailbreakFilterSettings.confidenceLevel",
        S,
    ),
    "GCP-ARMOR-003": (
        D,
        "guardrail-template",
        "filterConfig.sdpSettings.advancedConfig.inspectTemplate",
        S,
    ),
    "GCP-ARMOR-004": (
        D,
        "guardrail-floor",
        "filterConfig.maliciousUriFilterSettings.filterEnforcement",
        S,
    ),
    "GCP-ARMOR-005": (D, "guardrail-floor", "enableFloorSettingEnforcement", B),
    "GCP-ARMOR-006": (D, "guardrail-floor", "integratedServices", A),
    "GCP-ARMOR-007": (D, "guardrail-floor", "aiPlatformFloorSetting.enableCloudLogging", B),
    "GCP-ARMOR-008": (D, "guardrail-floor", "integratedServices", A),
    "GCP-ARMOR-009": (D, "guardrail-inspect", "parent", S),
    "GCP-ARMOR-010": (
        E,
        "guardrail-template",
        "filterConfig.sdpSettings.advancedConfig.inspectTemplate",
        S,
    ),
    "GCP-ARMOR-011": (
        D,
        "guardrail-template",
        "templateMetadata.multiLanguageDetection.enableMultiLanguageDetection",
        B,
    ),
    "GCP-DNS-001": (D, "pe-googleapis-com", "privateVisibilityConfig.networks", A),
    "GCP-DNS-002": (D, "pe-googleapis-com-a", "managedZone", S),
    "GCP-DNS-003": (D, "pe-modelarmor-rep-a", "rrdatas", A),
    "GCP-GOV-001": (D, "vertex-datasets-bucket", "labels", OBJ),
    "GCP-GOV-002": (D, "vertex-datasets-bucket", "location", S),
    "GCP-IAM-001": (D, "workload-invoker", "role", S),
    "GCP-IAM-002": (D, "vertex-datasets-objectviewer-0", "member", S),
    "GCP-IAM-003": (D, "workload-logwriter", "member", S),
    "GCP-IAM-004": (D, "workload-invoker-role", "permissions", A),
    "GCP-IAM-006": (D, "workload-screener", "role", S),
    "GCP-IAM-007": (D, "keys-data-storage", "member", S),
    "GCP-IAM-008": (D, "vertex-endpoint-invoker", "member", S),
    # segmentation and recovery: the restricted-gdpr variant has every workload type and
    # a recovery region
    "GCP-IAM-009": (R, "segments-training-trainer", "role", S),
    "GCP-NET-015": (R, "segments-training-deny-from-segments", "sourceServiceAccounts", A),
    "GCP-STORAGE-010": (R, "segments-artifacts-bucket", "versioning.enabled", B),
    "GCP-REC-001": (R, "curated-dr-replica-bucket", "location", S),
    "GCP-KMS-001": (D, "keys-data", "rotationPeriod", S),
    "GCP-KMS-002": (D, "keys-data", "destroyScheduledDuration", S),
    "GCP-KMS-004": (R, "keys-data", "versionTemplate.protectionLevel", S),
    "GCP-KMS-005": (D, "keys-vertex-aiplatform", "member", S),
    "GCP-KMS-006": (D, "vertex-datasets-bucket", "encryption.defaultKmsKeyName", S),
    "GCP-LOG-001": (D, "audit-storage", "auditLogConfigs", A),
    "GCP-LOG-002": (D, "audit-cloudkms", "service", S),
    # Both sinks route the audit logs: only with both destinations unknown is it open.
    "GCP-LOG-003": (D, "audit-sink+audit-archive-sink", "destination", S),
    "GCP-LOG-004": (D, "net-subnet", "logConfig", OBJ),
    "GCP-LOG-005": (D, "audit-log-bucket", "retentionDays", N),
    "GCP-LOG-006": (R, "audit-log-bucket", "locked", B),
    "GCP-LOG-007": (D, "audit-log-bucket", "cmekSettings.kmsKeyName", S),
    "GCP-LOG-008": (D, "audit-archive-sink", "uniqueWriterIdentity", B),
    "GCP-LOG-009": (D, "audit-archive-bucket", "retentionPolicy.retentionPeriod", S),
    "GCP-LOG-010": (R, "audit-archive-bucket", "retentionPolicy.isLocked", B),
    "GCP-LOG-011": (R, "audit-archive-sink", "destination", S),
    "GCP-NET-001": (D, "net-vpc", "autoCreateSubnetworks", B),
    "GCP-NET-002": (D, "net-vpc", "deleteDefaultRoutesOnCreate", B),
    "GCP-NET-003": (D, "net-subnet", "privateIpGoogleAccess", B),
    "GCP-NET-004": (D, "net-subnet", "logConfig.metadata", S),
    "GCP-NET-005": (D, "net-subnet", "logConfig.flowSampling", N),
    "GCP-NET-006": (D, "net-allow-iap-ssh", "sourceRanges", A),
    "GCP-NET-007": (D, "net-allow-google-apis", "destinationRanges", A),
    "GCP-NET-008": (D, "net-deny-all-ingress", "logConfig.metadata", S),
    "GCP-NET-009": (D, "net-deny-all-egress", "network", S),
    "GCP-NET-010": (E, "net-internet", "nextHopGateway", S),
    "GCP-NET-011": (E, "net-nat", "logConfig.enable", B),
    "GCP-NET-012": (D, "net-vm", "networkInterfaces.0.accessConfigs", A),
    "GCP-NET-013": (D, "net-subnet", "ipv6AccessType", S),
    "GCP-NET-014": (D, "net-allow-google-apis", "allows.0.ports", A),
    "GCP-ORG-001": (D, "org-compute-requireoslogin", "spec.rules", A),
    "GCP-ORG-002": (
        D,
        "org-gcp-resourcelocations",
        "spec.rules.0.values.allowedValues",
        A,
    ),
    "GCP-ORG-003": (D, "org-compute-requireoslogin", "name", S),
    "GCP-ORG-004": (C, "org-perimeter", "status.resources", A),
    "GCP-PSC-001": (D, "pe-psc", "network", S),
    "GCP-PSC-002": (C, "pe-psc", "target", S),
    "GCP-PSC-003": (D, "pe-modelarmor-rep", "network", S),
    "GCP-PUBSUB-001": (D, "secrets-rotation", "kmsKeyName", S),
    "GCP-COST-001": (C, "cost-budget", "amount.specifiedAmount.units", S),
    "GCP-COST-002": (C, "cost-budget", "allUpdatesRule.pubsubTopic", S),
    "GCP-COST-003": (C, "cost-budget", "thresholdRules", A),
    "GCP-COST-004": (D, "cost-quota-gemini-3-5-flash", "overrideValue", S),
    "GCP-DET-001": (D, "threats-findings", "pubsubTopic", S),
    "GCP-DET-002": (D, "alarms-key-tampering", "notificationChannels", A),
    "GCP-DET-003": (D, "alarms-invocation-volume-spike", "notificationChannels", A),
    "GCP-DET-004": (D, "alarms-guardrail-tampering", "notificationChannels", A),
    "GCP-DET-005": (D, "/alerts-pubsub", "labels.topic", S),
    "GCP-DET-006": ("restricted-shared-siem", "siem-consumer", "role", S),
    "GCP-PUBSUB-002": (
        D,
        "secrets-rotation",
        "messageStoragePolicy.allowedPersistenceRegions",
        A,
    ),
    "GCP-SECRETS-001": (
        D,
        "secrets-app-api-key",
        "replication.userManaged.replicas.0.customerManagedEncryption.kmsKeyName",
        S,
    ),
    "GCP-SECRETS-002": (
        D,
        "secrets-app-api-key",
        "replication.userManaged.replicas.0.location",
        S,
    ),
    "GCP-SECRETS-003": (D, "secrets-app-api-key", "topics", A),
    "GCP-SECRETS-004": (D, "secrets-app-api-key-accessor", "member", S),
    "GCP-STORAGE-001": (D, "vertex-datasets-bucket", "uniformBucketLevelAccess", B),
    "GCP-STORAGE-002": (D, "vertex-datasets-bucket", "publicAccessPrevention", S),
    "GCP-STORAGE-003": (D, "vertex-datasets-bucket", "encryption.defaultKmsKeyName", S),
    "GCP-STORAGE-004": (
        D,
        "vertex-datasets-bucket",
        "encryption.googleManagedEncryptionEnforcementConfig.restrictionMode",
        S,
    ),
    "GCP-STORAGE-005": (D, "vertex-datasets-bucket", "versioning.enabled", B),
    "GCP-STORAGE-006": (
        D,
        "vertex-datasets-bucket",
        "softDeletePolicy.retentionDurationSeconds",
        N,
    ),
    "GCP-STORAGE-007": (D, "vertex-datasets-bucket", "forceDestroy", B),
    "GCP-STORAGE-008": (D, "vertex-datasets-bucket", "website", OBJ),
    "GCP-STORAGE-009": (D, "audit-storage", "auditLogConfigs", A),
    "GCP-VERTEX-001": (
        D,
        "vertex-endpoint",
        "privateServiceConnectConfig.enablePrivateServiceConnect",
        B,
    ),
    "GCP-VERTEX-002": (D, "vertex-endpoint", "privateServiceConnectConfig.projectAllowlists", A),
    "GCP-VERTEX-003": (D, "vertex-endpoint", "encryptionSpec.kmsKeyName", S),
    "GCP-VERTEX-004": (C, "vertex-workbench", "gceSetup.disablePublicIp", B),
    "GCP-VERTEX-005": (C, "vertex-workbench", "gceSetup.bootDisk.kmsKey", S),
    "GCP-VERTEX-006": (C, "vertex-workbench", "gceSetup.metadata", OBJ),
    "GCP-VERTEX-007": (
        C,
        "vertex-workbench",
        "gceSetup.shieldedInstanceConfig.enableSecureBoot",
        B,
    ),
    "GCP-VERTEX-008": (C, "vertex-workbench", "gceSetup.serviceAccounts.0.email", S),
    "GCP-VERTEX-009": (C, "vertex-workbench", "disableProxyAccess", B),
}

#: Policies that read no input, so nothing they read can be unknown (shown below).
READS_NO_INPUT = {
    "GCP-IAM-005": "a service account, HMAC or API key is the violation, whatever its inputs",
    "GCP-KMS-003": "it reads the protect option, which the engine knows during preview",
}


def _iap_ssh_rule(run: MockRun) -> CapturedResource:
    """The ingress rule vertex.py tells Workbench users to add: tcp:22 from IAP alone."""
    return derived(
        run,
        f"{run.project}-net-deny-all-ingress",
        f"{run.project}-net-allow-iap-ssh",
        {
            "description": "SSH tunnel to Workbench through Identity-Aware Proxy",
            "denies": DROP,
            "allows": [{"protocol": "tcp", "ports": ["22"]}],
            "sourceRanges": ["35.235.240.0/20"],
            "priority": 1000.0,
        },
    )


def _vm(run: MockRun) -> CapturedResource:
    """A VM in the workload subnet, without an external address (no project creates one)."""
    subnet = next(r for r in run.resources if r.name == f"{run.project}-net-subnet")
    return res(
        "gcp:compute/instance:Instance",
        f"{run.project}-net-vm",
        {
            "machineType": "e2-small",
            "zone": f"{subnet.inputs['region']}-a",
            "bootDisk": {"initializeParams": {"image": "debian-cloud/debian-12"}},
            "networkInterfaces": [{"subnetwork": subnet.outputs["id"]}],
        },
    )


def _rotation_push(run: MockRun) -> CapturedResource:
    """The push subscription Secrets adds on the rotation topic once the stack names a
    rotation service (stack config secret_rotation_push_endpoint)."""
    topic = next(r for r in run.resources if r.name == f"{run.project}-secrets-rotation")
    endpoint = "https://rotate-abc123-uc.a.run.app/rotate"
    return res(
        "gcp:pubsub/subscription:Subscription",
        f"{run.project}-secrets-rotation-push",
        {
            "topic": topic.outputs["id"],
            "filter": 'attributes.eventType = "SECRET_ROTATE"',
            "pushConfig": {
                "pushEndpoint": endpoint,
                "oidcToken": {
                    "serviceAccountEmail": "rotator@mock-project.iam.gserviceaccount.com",
                    "audience": endpoint,
                },
            },
            "expirationPolicy": {"ttl": ""},
            "messageRetentionDuration": "604800s",
            "labels": topic.inputs["labels"],
        },
    )


#: Resources no generated project has, added (compliant) where a policy checks only them.
ADDED: dict[str, Callable[[MockRun], CapturedResource]] = {
    "net-allow-iap-ssh": _iap_ssh_rule,
    "net-vm": _vm,
}
#: Resources added for one policy's case, beside the resource whose value is unknown:
#: without a rotation service GCP-SECRETS-003 finds the secrets "reminder only" (not
#: applicable), so the case starts from a project that names one.
ADDED_FOR: dict[str, Callable[[MockRun], CapturedResource]] = {
    "GCP-SECRETS-003": _rotation_push,
}
#: Inputs set (compliant) before a case where the generated projects leave the input
#: out: an absent input is not judged, so the known baseline would be "not applicable".
GIVEN: dict[str, dict[str, dict[str, Any]]] = {
    "GCP-NET-013": {"net-subnet": {"ipv6AccessType": "INTERNAL"}},
    "GCP-STORAGE-008": {"vertex-datasets-bucket": {"website": {}}},
}
#: Policies that never pass: what they judge may exist only where an answer makes them
#: not applicable (a default internet route, only with internet egress). Their case
#: starts from the violation (the route on a project without egress).
NEVER_PASSES = {"GCP-NET-010"}
GCP_POLICIES = {p.id: p for p in registry("gcp")}


@pytest.fixture(scope="module")
def projects(
    gcp_projects: dict[str, GeneratedRun], render_project: Any
) -> dict[str, tuple[MockRun, Requirements]]:
    """Each generated project's mock run and policy requirements (with the organization
    policies and locked logs of the shared runs, see gcp_support.ORG_POLICIES)."""
    own = {"gcp_org_policies": True}
    out = {
        v: (p.run, load_requirements(p.path).model_copy(update=own))
        for v, p in gcp_projects.items()
    }
    path = render_project(cloud="gcp", project_name=f"gcp-{E}", **EGRESS_TOPICS)
    out[E] = (
        run_program(path, config=ORG_POLICIES),
        load_requirements(path).model_copy(update=own),
    )
    return out


def test_every_gcp_policy_has_an_unknown_case() -> None:
    assert set(UNKNOWN) == set(GCP_POLICIES) - set(READS_NO_INPUT)
    assert set(READS_NO_INPUT) <= set(GCP_POLICIES)


@pytest.mark.parametrize("policy", sorted(UNKNOWN))
def test_values_unknown_during_preview_are_reported_unknown(
    policy: str, projects: dict[str, tuple[MockRun, Requirements]]
) -> None:
    variant, role, path, sentinel = UNKNOWN[policy]
    run, requirements = projects[variant]
    requirements = only(requirements, policy)
    # "a+b": both unknown; "/name": a resource named without the project prefix (the
    # alert channel's, named before the convention)
    names = [r[1:] if r.startswith("/") else f"{run.project}-{r}" for r in role.split("+")]
    name = names[0]
    add = [ADDED[role](run)] if role in ADDED else []
    add += [ADDED_FOR[policy](run)] if policy in ADDED_FOR else []
    given = {f"{run.project}-{r}": v for r, v in GIVEN.get(policy, {}).items()}
    if policy in NEVER_PASSES:
        requirements = requirements.model_copy(update={"allow_internet_egress": False})
    known = evaluate(patched(run, given, add), requirements)
    assert known.policies == 1
    # While the value is known, the policy gives a verdict, and the project complies...
    decided = {"passed", "violation"} & set(known.verdicts.get(policy, {}).values())
    assert decided, f"{policy} judges nothing in {variant}: {known.verdicts.get(policy)}"
    found = [(f.resource, f.message) for f in known.policy_findings]
    assert bool(found) == (policy in NEVER_PASSES), found
    pending = patched(run, {n: {**given.get(n, {}), path: sentinel} for n in names}, add)
    pending = patched(pending, {k: v for k, v in given.items() if k not in names})
    where = name if isinstance(GCP_POLICIES[policy], ResourcePolicy) else "(stack)"
    message = UnknownValueError(sentinel, path.split(".")).message
    # ...with it unknown, the policy reports no violation, but that it cannot tell: on
    # the resource (the stack, for a stack policy), about that very value. In either
    # order of the resources: a verdict must not hang on which one a check meets first.
    for resources in (pending.resources, pending.resources[::-1]):
        report = evaluate(dataclasses.replace(pending, resources=resources), requirements)
        policy = [f for f in report.violations if f.category == "policy"]
        assert not policy, [(f.resource, f.message) for f in policy]
        policy_unknown = [f for f in report.unknown if f.category == "policy"]
        assert [(f.resource, f.message) for f in policy_unknown] == [(where, message)]
        # the resource was judged before (not skipped as not applicable): now unknown
        assert report.not_applicable == known.not_applicable


def test_policies_reading_no_input_keep_their_verdict_with_every_input_unknown(
    projects: dict[str, tuple[MockRun, Requirements]],
) -> None:
    run, requirements = projects[D]
    key = next(r for r in run.resources if r.name == f"{run.project}-keys-data")
    unknown_key = {path: S for path in key.inputs}
    unprotected = dataclasses.replace(
        derived(run, key.name, f"{key.name}-copy", unknown_key), protect=False
    )
    credential = res(
        "gcp:serviceaccount/key:Key",
        f"{run.project}-workload-key",
        {"serviceAccountId": S, "publicKeyType": S, "keyAlgorithm": S},
    )
    report = evaluate(
        patched(run, {key.name: unknown_key}, [unprotected]), only(requirements, "GCP-KMS-003")
    )
    assert not report.unknown
    assert {f.resource for f in report.violations if f.category == "policy"} == {unprotected.name}
    report = evaluate(patched(run, {}, [credential]), only(requirements, "GCP-IAM-005"))
    assert not report.unknown
    assert {f.resource for f in report.violations if f.category == "policy"} == {credential.name}


# ----------------------------------------------------------------- state backend
@pytest.fixture(scope="module")
def bootstraps(gcp_projects: dict[str, GeneratedRun]) -> dict[str, MockRun]:
    return {
        # after the lock step of the access logs (lock_log_archive), as in the project
        variant: run_program(
            project.path / "bootstrap", stack="bootstrap", config={"lock_log_archive": True}
        )
        for variant, project in gcp_projects.items()
    }


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_bootstrap_passes_the_project_policies(
    variant: str, bootstraps: dict[str, MockRun], gcp_projects: dict[str, GeneratedRun]
) -> None:
    run = bootstraps[variant]
    report = evaluate(run, load_requirements(gcp_projects[variant].path))
    assert [f"{f.policy} {f.resource}: {f.message}" for f in report.policy_findings] == []
    assert not [w for w in run.warnings if "deprecat" in w.lower()]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_bootstrap_state_bucket_and_secrets_key(
    variant: str, bootstraps: dict[str, MockRun], gcp_projects: dict[str, GeneratedRun]
) -> None:
    run = bootstraps[variant]
    config = gcp_projects[variant].config
    assert set(run.outputs) == {"backend_url", "secrets_provider"}
    state = next(
        b for b in run.of_type("gcp:storage/bucket:Bucket") if b.name.endswith("-state-bucket")
    )
    assert run.outputs["backend_url"] == f"gs://{state.outputs['name']}"
    inputs = state.inputs
    assert inputs["uniformBucketLevelAccess"] is True
    assert inputs["publicAccessPrevention"] == "enforced"
    assert inputs["versioning"] == {"enabled": True}
    assert inputs["encryption"]["defaultKmsKeyName"]
    assert inputs["location"] == gcp_projects[variant].region
    assert state.protect
    keys = {k.name: k for k in run.of_type("gcp:kms/cryptoKey:CryptoKey")}
    secrets_key = next(k for n, k in keys.items() if n.endswith("-secrets-provider"))
    assert run.outputs["secrets_provider"] == f"gcpkms://{secrets_key.outputs['id']}"
    assert run.outputs["secrets_provider"].startswith("gcpkms://projects/")
    assert "/cryptoKeys/" in run.outputs["secrets_provider"]
    for key in keys.values():
        assert key.protect
        assert key.inputs["rotationPeriod"] == f"{config['key_rotation_days'] * 86400}s"
        level = "HSM" if config["hsm_keys"] else "SOFTWARE"
        assert key.inputs["versionTemplate"]["protectionLevel"] == level
    # the secrets-provider key is granted to no one; the state key only to Cloud Storage
    grants = run.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert [g.inputs["member"].split("@")[-1] for g in grants] == [
        "gs-project-accounts.iam.gserviceaccount.com"
    ]


# ------------------------------------------------------- the project's own tests
@pytest.mark.slow
@pytest.mark.parametrize("variant", ["defaults", "restricted-gdpr", "private-gateway"])
def test_generated_tests_pass_in_the_project(
    variant: str, gcp_projects: dict[str, GeneratedRun], tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(gcp_projects[variant].path, project)
    source = (project / "tests" / "test_infrastructure.py").read_text(encoding="utf-8")
    assert "def test_model_armor_screens_every_model_call" in source
    assert "def test_state_backend_passes_the_policy_pack" in source
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore::DeprecationWarning",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout
