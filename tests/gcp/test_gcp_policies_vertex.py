"""GCP-VERTEX policies: compliant and non-compliant fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from aiscaffold_components.gcp.vertex import WORKBENCH_METADATA
from gcp.gcp_policy_support import (
    DROP,
    KEY,
    LABELS,
    NETWORK_ID,
    PROJECT,
    flagged,
    patch,
    res,
    unknown,
)
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE

ENDPOINT = "gcp:vertex/aiEndpoint:AiEndpoint"
WORKBENCH = "gcp:workbench/instance:Instance"
ENDPOINT_INPUTS = {
    "project": PROJECT,
    "location": "us-central1",
    "encryptionSpec": {"kmsKeyName": KEY},
    "privateServiceConnectConfig": {
        "enablePrivateServiceConnect": True,
        "projectAllowlists": [PROJECT],
        "pscAutomationConfigs": [{"projectId": PROJECT, "network": NETWORK_ID}],
    },
    "labels": LABELS,
}
WORKBENCH_INPUTS = {
    "project": PROJECT,
    "location": "us-central1-a",
    "gceSetup": {
        "machineType": "e2-standard-4",
        "disablePublicIp": True,
        "enableIpForwarding": False,
        "networkInterfaces": [{"network": NETWORK_ID, "subnet": "s"}],
        "serviceAccounts": [{"email": f"workload@{PROJECT}.iam.gserviceaccount.com"}],
        "shieldedInstanceConfig": {
            "enableSecureBoot": True,
            "enableVtpm": True,
            "enableIntegrityMonitoring": True,
        },
        "bootDisk": {"diskEncryption": "CMEK", "kmsKey": KEY},
        "dataDisks": {"diskEncryption": "CMEK", "kmsKey": KEY},
        "metadata": dict(WORKBENCH_METADATA),
    },
    "disableProxyAccess": True,
    "labels": LABELS,
}


def endpoint(name: str = "good", /, **changes: Any) -> Any:
    return res(ENDPOINT, name, patch(ENDPOINT_INPUTS, changes))


def workbench(name: str = "good", /, **changes: Any) -> Any:
    return res(WORKBENCH, name, patch(WORKBENCH_INPUTS, changes))


def test_private_endpoint() -> None:
    resources = [
        endpoint(),
        endpoint("peered", privateServiceConnectConfig=DROP, network=NETWORK_ID),
        endpoint("public", privateServiceConnectConfig=DROP),
        endpoint("psc-off", **{"privateServiceConnectConfig.enablePrivateServiceConnect": False}),
    ]
    assert flagged("GCP-VERTEX-001", resources) == {"public", "psc-off"}


def test_endpoint_allowlist() -> None:
    resources = [
        endpoint(),
        endpoint("open", **{"privateServiceConnectConfig.projectAllowlists": DROP}),
        endpoint(
            "shared", **{"privateServiceConnectConfig.projectAllowlists": [PROJECT, "partner"]}
        ),
        endpoint("public", privateServiceConnectConfig=DROP),  # GCP-VERTEX-001's business
    ]
    assert flagged("GCP-VERTEX-002", resources) == {"open", "shared"}


def test_vertex_cmek() -> None:
    resources = [
        endpoint(),
        endpoint("google", encryptionSpec=DROP),
        res("gcp:vertex/aiDataset:AiDataset", "dataset", {"encryptionSpec": {"kmsKeyName": KEY}}),
        res("gcp:vertex/aiIndex:AiIndex", "index", {}),
    ]
    assert flagged("GCP-VERTEX-003", resources) == {"google", "index"}


def test_workbench_private() -> None:
    resources = [
        workbench(),
        workbench("public", **{"gceSetup.disablePublicIp": False}),
        workbench("default", **{"gceSetup.disablePublicIp": DROP}),
        workbench("router", **{"gceSetup.enableIpForwarding": True}),
    ]
    assert flagged("GCP-VERTEX-004", resources) == {"public", "default", "router"}


def test_workbench_cmek() -> None:
    resources = [
        workbench(),
        workbench("boot", **{"gceSetup.bootDisk": DROP}),
        workbench("data", **{"gceSetup.dataDisks.diskEncryption": "GMEK"}),
        workbench("no-key", **{"gceSetup.dataDisks.kmsKey": DROP}),
    ]
    assert flagged("GCP-VERTEX-005", resources) == {"boot", "data", "no-key"}


@pytest.mark.parametrize("key", list(WORKBENCH_METADATA))
def test_workbench_metadata(key: str) -> None:
    flipped = "false" if WORKBENCH_METADATA[key].lower() == "true" else "true"
    resources = [
        workbench(),
        workbench("missing", **{f"gceSetup.metadata.{key}": DROP}),
        workbench("flipped", **{f"gceSetup.metadata.{key}": flipped}),
    ]
    assert flagged("GCP-VERTEX-006", resources) == {"missing", "flipped"}


def test_workbench_shielded() -> None:
    resources = [
        workbench(),
        workbench("no-config", **{"gceSetup.shieldedInstanceConfig": DROP}),  # no secure boot
        workbench("defaults", **{"gceSetup.shieldedInstanceConfig": {"enableSecureBoot": True}}),
        workbench("no-vtpm", **{"gceSetup.shieldedInstanceConfig.enableVtpm": False}),
        workbench(
            "unmonitored", **{"gceSetup.shieldedInstanceConfig.enableIntegrityMonitoring": False}
        ),
    ]
    assert flagged("GCP-VERTEX-007", resources) == {"no-config", "no-vtpm", "unmonitored"}


def test_workbench_identity() -> None:
    resources = [
        workbench(),
        workbench("default", **{"gceSetup.serviceAccounts": DROP}),
        workbench(
            "compute",
            **{
                "gceSetup.serviceAccounts": [{"email": "123-compute@developer.gserviceaccount.com"}]
            },
        ),
    ]
    assert flagged("GCP-VERTEX-008", resources) == {"default", "compute"}


def test_workbench_no_proxy() -> None:
    resources = [
        workbench(),
        workbench("proxied", disableProxyAccess=False),
        workbench("default", disableProxyAccess=DROP),  # the proxy is on unless disabled
    ]
    assert flagged("GCP-VERTEX-009", resources) == {"proxied", "default"}


@pytest.mark.parametrize(
    ("policy", "resource"),
    [
        ("GCP-VERTEX-001", endpoint("pending", privateServiceConnectConfig=UNKNOWN_OBJECT_VALUE)),
        (
            "GCP-VERTEX-002",
            endpoint(
                "pending", **{"privateServiceConnectConfig.projectAllowlists": UNKNOWN_OBJECT_VALUE}
            ),
        ),
        (
            "GCP-VERTEX-003",
            endpoint("pending", **{"encryptionSpec.kmsKeyName": UNKNOWN_STRING_VALUE}),
        ),
        (
            "GCP-VERTEX-004",
            workbench("pending", **{"gceSetup.disablePublicIp": UNKNOWN_STRING_VALUE}),
        ),
        (
            "GCP-VERTEX-005",
            workbench("pending", **{"gceSetup.bootDisk.kmsKey": UNKNOWN_STRING_VALUE}),
        ),
        ("GCP-VERTEX-006", workbench("pending", **{"gceSetup.metadata": UNKNOWN_OBJECT_VALUE})),
        ("GCP-VERTEX-009", workbench("pending", disableProxyAccess=UNKNOWN_STRING_VALUE)),
        (
            "GCP-VERTEX-008",
            workbench("pending", **{"gceSetup.serviceAccounts.0.email": UNKNOWN_STRING_VALUE}),
        ),
    ],
)
def test_unknown_values(policy: str, resource: Any) -> None:
    assert unknown(policy, [resource]) == {"pending"}
