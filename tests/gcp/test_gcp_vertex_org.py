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
    # Not published on the Workbench proxy's public URL: users tunnel through IAP.
    assert instance["disableProxyAccess"] is True


def test_workbench_proxy_changes_only_the_proxy_flag(workbench: MockRun) -> None:
    proxied = build_vertex(workbench=True, workbench_proxy_access=True)
    assert changes(workbench, proxied) == {"ai-workbench:disableProxyAccess"}
    assert proxied.one(WORKBENCH).inputs["disableProxyAccess"] is False


def test_workbench_adds_only_the_instance(vertex: MockRun, workbench: MockRun) -> None:
    assert changes(vertex, workbench) == {"+ai-workbench"}


def test_workbench_needs_its_subnet_and_account() -> None:
    with pytest.raises(Exception, match="workbench_subnet_id"):
        build_vertex(workbench=True, workbench_subnet_id=None)


def test_public_endpoint_changes_only_the_psc_config(vertex: MockRun) -> None:
    public = build_vertex(private_endpoint=False)
    psc = "ai-endpoint:privateServiceConnectConfig"
    assert changes(vertex, public) == {
        f"{psc}.enablePrivateServiceConnect",
        f"{psc}.projectAllowlists[0]",
        f"{psc}.pscAutomationConfigs[0].projectId",
        f"{psc}.pscAutomationConfigs[0].network",
    }
    assert "privateServiceConnectConfig" not in public.one(ENDPOINT).inputs


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
        # RESTRICTED-SERVICES: the VPC may call every restricted service, and only those.
        "vpcAccessibleServices": {
            "enableRestriction": True,
            "allowedServices": ["RESTRICTED-SERVICES"],
        },
    }
    # What the workload calls from the VPC is restricted, hence reachable from it: the
    # guardrail, its logs and metrics, the notebooks, besides the data services.
    assert set(PERIMETER_SERVICES) == {
        "aiplatform.googleapis.com",
        "storage.googleapis.com",
        "secretmanager.googleapis.com",
        "cloudkms.googleapis.com",
        "modelarmor.googleapis.com",
        "logging.googleapis.com",
        "monitoring.googleapis.com",
        "notebooks.googleapis.com",
    }


def test_deployers_add_only_an_ingress_rule_for_them() -> None:
    fenced = build_org(vpc_sc_access_policy="987654")
    deployers = ("serviceAccount:ci@mock-project.iam.gserviceaccount.com", "user:ops@example.com")
    admitted = build_org(vpc_sc_access_policy="987654", perimeter_deployers=deployers)
    found = changes(fenced, admitted)
    assert {f.split(".")[0] for f in found} == {"org-perimeter:status"}
    assert {f.split(".")[1].split("[")[0] for f in found} == {"ingressPolicies"}
    assert admitted.one(PERIMETER).inputs["status"]["ingressPolicies"] == [
        {
            "title": "deployers",
            "ingressFrom": {"identities": list(deployers), "sources": [{"accessLevel": "*"}]},
            "ingressTo": {
                "resources": [f"projects/{NUMBER}"],
                "operations": [
                    {"serviceName": service, "methodSelectors": [{"method": "*"}]}
                    for service in PERIMETER_SERVICES
                ],
            },
        }
    ]


def test_access_levels_add_only_the_perimeter_access_levels() -> None:
    fenced = build_org(vpc_sc_access_policy="987654")
    level = "accessPolicies/987654/accessLevels/corp"
    admitted = build_org(vpc_sc_access_policy="987654", perimeter_access_levels=(level,))
    assert changes(fenced, admitted) == {"org-perimeter:status.accessLevels[0]"}
    assert admitted.one(PERIMETER).inputs["status"]["accessLevels"] == [level]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"perimeter_deployers": ("user:ops@example.com",)}, "need a perimeter"),
        ({"perimeter_access_levels": ("accessPolicies/1/accessLevels/a",)}, "need a perimeter"),
        (
            {"vpc_sc_access_policy": "1", "perimeter_deployers": ("group:ops@example.com",)},
            "group:ops@example.com",
        ),
        ({"vpc_sc_access_policy": "1", "perimeter_deployers": ("user:*",)}, "wildcards"),
    ],
)
def test_deployers_must_be_named_identities_of_a_perimeter(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(Exception, match=message):
        build_org(**overrides)


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
