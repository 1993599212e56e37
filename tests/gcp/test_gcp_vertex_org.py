"""VertexAI (private CMEK endpoint, datasets bucket, Workbench) and OrgPolicies."""

from __future__ import annotations

import pytest
from aiscaffold.testing import MockRun
from aiscaffold_components.gcp import OrgPolicies, OrgPoliciesArgs, VertexAI, VertexAIArgs
from aiscaffold_components.gcp.org_policies import PERIMETER_SERVICES
from aiscaffold_components.gcp.vertex import WORKBENCH_METADATA
from gcp_support import KEY, LABELS, NUMBER, PROJECT, REGION, WORKLOAD, changes, run_component

ENDPOINT = "gcp:vertex/aiEndpoint:AiEndpoint"
WORKBENCH = "gcp:workbench/instance:Instance"
POLICY = "gcp:orgpolicy/policy:Policy"
PERIMETER = "gcp:accesscontextmanager/servicePerimeter:ServicePerimeter"
NETWORK_ID = f"projects/{PROJECT}/global/networks/vpc"
SUBNET_ID = f"projects/{PROJECT}/regions/{REGION}/subnetworks/subnet"
INVOKER_ROLE = f"projects/{PROJECT}/roles/invoker"
WORKLOAD_EMAIL = WORKLOAD.removeprefix("serviceAccount:")

BOOLEAN_CONSTRAINTS = {
    "disable_service_account_keys": "iam.disableServiceAccountKeyCreation",
    "enforce_public_access_prevention": "storage.publicAccessPrevention",
    "enforce_uniform_bucket_level_access": "storage.uniformBucketLevelAccess",
    "require_os_login": "compute.requireOsLogin",
    "require_shielded_vm": "compute.requireShieldedVm",
    "disable_serial_port_access": "compute.disableSerialPortAccess",
    "restrict_workbench_public_ip": "ainotebooks.restrictPublicIp",
    "disable_default_service_account_grants": "iam.automaticIamGrantsForDefaultServiceAccounts",
}


def build_vertex(**overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "project": PROJECT,
        "region": REGION,
        "network_id": NETWORK_ID,
        "kms_key_name": f"{KEY}/vertex",
        "datasets_kms_key_name": f"{KEY}/data",
        "invoker": WORKLOAD,
        "invoker_role": INVOKER_ROLE,
        "workbench_subnet_id": SUBNET_ID,
        "workbench_service_account": WORKLOAD_EMAIL,
        "labels": LABELS,
    }
    settings.update(overrides)
    args = VertexAIArgs(**settings)  # type: ignore[arg-type]
    return run_component(lambda: VertexAI("ai", args))


def build_org(**overrides: object) -> MockRun:
    settings: dict[str, object] = {
        "project": PROJECT,
        "project_number": NUMBER,
        "allowed_regions": ("europe-west1", "europe-west4"),
    }
    settings.update(overrides)
    args = OrgPoliciesArgs(**settings)  # type: ignore[arg-type]
    return run_component(lambda: OrgPolicies("org", args))


@pytest.fixture(scope="module")
def vertex() -> MockRun:
    return build_vertex()


@pytest.fixture(scope="module")
def workbench() -> MockRun:
    return build_vertex(workbench=True)


@pytest.fixture(scope="module")
def org() -> MockRun:
    return build_org()


def test_endpoint_is_private_through_psc_and_cmek(vertex: MockRun) -> None:
    endpoint = vertex.one(ENDPOINT).inputs
    assert endpoint["encryptionSpec"] == {"kmsKeyName": f"{KEY}/vertex"}
    assert endpoint["privateServiceConnectConfig"] == {
        "enablePrivateServiceConnect": True,
        "projectAllowlists": [PROJECT],
        "pscAutomationConfigs": [{"projectId": PROJECT, "network": NETWORK_ID}],
    }
    # VPC peering (`network`) and PSC exclude each other; PSC it is.
    assert "network" not in endpoint
    assert (endpoint["location"], endpoint["region"]) == (REGION, REGION)
    assert endpoint["labels"] == LABELS


def test_workload_may_invoke_this_endpoint(vertex: MockRun) -> None:
    grant = vertex.one("gcp:vertex/aiEndpointIamMember:AiEndpointIamMember").inputs
    assert grant["endpoint"] == vertex.one(ENDPOINT).outputs["name"]
    assert (grant["role"], grant["member"], grant["location"]) == (INVOKER_ROLE, WORKLOAD, REGION)


def test_datasets_bucket_is_a_hardened_secure_bucket(vertex: MockRun) -> None:
    component = vertex.one("aiscaffold:gcp:SecureBucket")
    assert component.parent == vertex.one("aiscaffold:gcp:VertexAI").urn
    bucket = vertex.one("gcp:storage/bucket:Bucket").inputs
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["encryption"]["defaultKmsKeyName"] == f"{KEY}/data"
    assert bucket["versioning"] == {"enabled": True}
    grants = vertex.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
    assert {(g.inputs["role"], g.inputs["member"]) for g in grants} == {
        ("roles/storage.objectViewer", WORKLOAD),
        ("roles/storage.objectCreator", WORKLOAD),
    }


def test_no_workbench_unless_asked(vertex: MockRun) -> None:
    assert not vertex.of_type(WORKBENCH)


def test_workbench_is_private_shielded_cmek_and_rootless(workbench: MockRun) -> None:
    instance = workbench.one(WORKBENCH).inputs
    setup = instance["gceSetup"]
    assert setup["disablePublicIp"] is True
    assert setup["enableIpForwarding"] is False
    assert setup["shieldedInstanceConfig"] == {
        "enableSecureBoot": True,
        "enableVtpm": True,
        "enableIntegrityMonitoring": True,
    }
    for disk in ("bootDisk", "dataDisks"):
        assert setup[disk] == {"diskEncryption": "CMEK", "kmsKey": f"{KEY}/vertex"}
    assert setup["serviceAccounts"] == [{"email": WORKLOAD_EMAIL}]
    assert setup["networkInterfaces"] == [
        {"network": NETWORK_ID, "subnet": SUBNET_ID, "nicType": "GVNIC"}
    ]
    assert setup["metadata"] == WORKBENCH_METADATA
    assert WORKBENCH_METADATA["notebook-disable-root"] == "true"
    assert instance["location"] == f"{REGION}-a"
    assert instance["labels"] == LABELS


def test_workbench_adds_only_the_instance(vertex: MockRun, workbench: MockRun) -> None:
    assert changes(vertex, workbench) == {"+ai-workbench"}


def test_workbench_needs_its_subnet_and_account() -> None:
    with pytest.raises(Exception, match="workbench_subnet_id"):
        build_vertex(workbench=True, workbench_subnet_id=None)


def test_public_endpoint_changes_only_the_psc_config(vertex: MockRun) -> None:
    found = changes(vertex, build_vertex(private_endpoint=False))
    assert {f.split(":")[0] for f in found} == {"ai-endpoint"}
    assert {f.split(":")[1].split(".")[0] for f in found} == {"privateServiceConnectConfig"}


def test_org_policies_enforce_every_constraint_on_the_project(org: MockRun) -> None:
    policies = {p.inputs["name"].split("/policies/")[1]: p.inputs for p in org.of_type(POLICY)}
    assert set(policies) == {
        *BOOLEAN_CONSTRAINTS.values(),
        "compute.vmExternalIpAccess",
        "gcp.resourceLocations",
    }
    for constraint, policy in policies.items():
        assert policy["parent"] == f"projects/{PROJECT}"
        assert policy["name"] == f"projects/{PROJECT}/policies/{constraint}"
    for constraint in BOOLEAN_CONSTRAINTS.values():
        assert policies[constraint]["spec"] == {"rules": [{"enforce": "TRUE"}]}
    assert policies["compute.vmExternalIpAccess"]["spec"] == {"rules": [{"denyAll": "TRUE"}]}
    assert policies["gcp.resourceLocations"]["spec"] == {
        "rules": [
            {
                "values": {
                    "allowedValues": ["in:europe-west1-locations", "in:europe-west4-locations"]
                }
            }
        ]
    }


def test_no_perimeter_without_an_access_policy(org: MockRun) -> None:
    assert not org.of_type(PERIMETER)


def test_perimeter_restricts_the_services_around_the_project(org: MockRun) -> None:
    fenced = build_org(vpc_sc_access_policy="987654")
    assert changes(org, fenced) == {"+org-perimeter"}
    perimeter = fenced.one(PERIMETER).inputs
    assert perimeter["parent"] == "accessPolicies/987654"
    assert perimeter["name"].startswith("accessPolicies/987654/servicePerimeters/")
    assert perimeter["status"] == {
        "resources": [f"projects/{NUMBER}"],
        "restrictedServices": list(PERIMETER_SERVICES),
        "vpcAccessibleServices": {
            "enableRestriction": True,
            "allowedServices": ["RESTRICTED-SERVICES"],
        },
    }


@pytest.mark.parametrize(
    ("flag", "constraint"),
    [*BOOLEAN_CONSTRAINTS.items(), ("restrict_vm_external_ips", "compute.vmExternalIpAccess")],
)
def test_each_org_policy_weakening_drops_only_its_constraint(
    org: MockRun, flag: str, constraint: str
) -> None:
    found = changes(org, build_org(**{flag: False}))
    assert found == {f"-org-{constraint.replace('.', '-').lower()}"}


def test_locations_constraint_needs_regions() -> None:
    with pytest.raises(Exception, match="allowed_regions"):
        build_org(allowed_regions=())
