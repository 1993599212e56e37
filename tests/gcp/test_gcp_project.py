"""The generated GCP project, run under the mocks for several answer sets."""

from __future__ import annotations

import importlib
import inspect
import ipaddress

import pytest
from aiscaffold.testing import CapturedResource
from aiscaffold_components.catalog import load_catalog
from aiscaffold_components.gcp.apis import apis_of
from aiscaffold_components.profile import compliance_tag
from gcp_support import SERVICE_AGENTS, VARIANTS, GeneratedRun, iam_bindings

COMPONENTS = {
    "WorkloadSegments",
    "ReplicatedBucket",
    "Network",
    "PrivateEndpoints",
    "Keys",
    "WorkloadIdentity",
    "AuditLogging",
    "SecureBucket",
    "Guardrail",
    "Secrets",
    "VertexAI",
    "OrgPolicies",
    "AlertChannel",
    "CostGuardrails",
    "SecurityAlarms",
    "ThreatDetection",
    "SiemExport",
    "ApiGateway",
}
KEY = "gcp:kms/cryptoKey:CryptoKey"
ACCOUNT = "gcp:serviceaccount/account:Account"
SUBNET = "gcp:compute/subnetwork:Subnetwork"


@pytest.fixture(params=list(VARIANTS))
def project(request: pytest.FixtureRequest, gcp_projects: dict[str, GeneratedRun]) -> GeneratedRun:
    return gcp_projects[request.param]


def _args_class(resource: CapturedResource) -> type:
    _, module_path, name = resource.type.split(":")
    module = importlib.import_module(f"pulumi_gcp.{module_path.split('/')[0]}")
    return getattr(module, f"{name}Args")  # type: ignore[no-any-return]


def test_program_runs_without_deprecation_warnings(project: GeneratedRun) -> None:
    assert project.run.resources
    assert not [w for w in project.run.warnings if "deprecat" in w.lower()]


def test_every_component_is_composed(project: GeneratedRun) -> None:
    found = {
        r.type.split(":")[-1]
        for r in project.run.components
        if r.type.startswith("aiscaffold:gcp:")
    }
    # ThreatDetection only where the stack owns the project's services, SiemExport only
    # with a SIEM consumer in the stack config.
    absent = set()
    if project.config.get("account_services") == "shared":
        absent.add("ThreatDetection")
    if not any(key.endswith("siem_consumer") for key in project.run.config):
        absent.add("SiemExport")
    if project.config.get("api_gateway", "none") == "none":
        absent.add("ApiGateway")
    if len(project.config.get("workloads") or ["inference"]) < 2:
        absent.add("WorkloadSegments")
    if not project.config.get("dr_region"):
        absent.add("ReplicatedBucket")
    assert found == COMPONENTS - absent
    catalog_names = {
        name
        for control in load_catalog().controls
        for name in (control.implemented_by.get("gcp") or [])
    }
    assert catalog_names <= COMPONENTS


def test_program_exports_what_the_issue_lists(project: GeneratedRun) -> None:
    outputs = project.run.outputs
    assert (
        outputs["endpoint_id"] == project.run.one("gcp:vertex/aiEndpoint:AiEndpoint").outputs["id"]
    )
    account = project.run.one(ACCOUNT, f"{project.project}-workload-sa")
    assert outputs["service_account_email"] == account.outputs["email"]
    assert set(outputs["key_ids"]) == {"data", "logs", "secrets", "vertex"}
    keys = {k.outputs["id"] for k in project.run.of_type(KEY)}
    assert set(outputs["key_ids"].values()) | set(outputs.get("dr_key_ids", {}).values()) == keys
    template = project.run.one("gcp:modelarmor/template:Template")
    assert outputs["guardrail_template"] == template.outputs["name"]
    buckets = {b.outputs["name"] for b in project.run.of_type("gcp:storage/bucket:Bucket")}
    zones = [outputs[k] for k in ("raw_bucket", "artifacts_bucket") if k in outputs]
    replicas = list(outputs.get("replica_buckets", {}).values())
    assert {outputs["datasets_bucket"], outputs["log_archive_bucket"], *zones, *replicas} == buckets


def test_labels_on_every_resource_that_takes_them(project: GeneratedRun) -> None:
    tags = {
        "project": project.project,
        "stack": "dev",
        "data-classification": project.config["data_sensitivity"],
        "managed-by": "aiscaffold",
        "compliance": compliance_tag(project.config["compliance"]),
    }
    takes_labels = [
        r
        for r in project.run.custom_resources
        if r.type.startswith("gcp:")
        and "labels" in inspect.signature(_args_class(r).__init__).parameters
    ]
    assert len(takes_labels) >= 10
    for resource in takes_labels:
        # A notification channel's labels configure it; its labels are user_labels.
        key = "userLabels" if resource.type.endswith("NotificationChannel") else "labels"
        labels = dict(resource.inputs.get(key) or {})
        labels.pop("key-purpose", None)
        labels.pop("data-zone", None)  # raw, artifacts, replica (GOV-07, REC-01)
        assert labels == tags, resource.name


def test_iam_grants_no_basic_roles_and_only_known_members(project: GeneratedRun) -> None:
    workload = project.run.one(ACCOUNT, f"{project.project}-workload-sa").outputs["member"]
    # the AI gateway's proxy (ESPv2) reports for its API and invokes the workload's service
    proxy = [
        a.outputs["member"]
        for a in project.run.of_type(ACCOUNT)
        if a.name.endswith("-gateway-proxy-sa")
    ]
    # the identities of the other workload types (IAM-05) and Storage Transfer Service's
    # agent, which replicates to the recovery region (REC-01)
    segments = [
        a.outputs["member"]
        for a in project.run.of_type(ACCOUNT)
        if a.name.endswith(("-segments-training-sa", "-segments-dataproc-sa"))
    ]
    transfer = (
        "serviceAccount:project-123456789012@storage-transfer-service.iam.gserviceaccount.com"
    )
    bindings = iam_bindings(project.run)
    assert bindings
    for binding in bindings:
        if binding.type.startswith("gcp:serviceaccount/"):
            # the one grant on a service account: the training identity acts as itself,
            # for the jobs it starts (their service account)
            assert binding.inputs["role"] == "roles/iam.serviceAccountUser"
            assert binding.inputs["member"] in segments
            email = binding.inputs["member"].removeprefix("serviceAccount:")
            assert binding.inputs["serviceAccountId"].endswith(f"/{email}")
            continue
        # Additive members only: nothing replaces a resource's whole IAM policy.
        assert binding.type.endswith(("IAMMember", "IamMember")), binding.type
        role, member = binding.inputs["role"], binding.inputs["member"]
        assert role not in {"roles/owner", "roles/editor", "roles/viewer"}, binding.name
        known = (workload, *proxy, *segments, transfer)
        assert member in known or member in SERVICE_AGENTS, (binding.name, member)
        # Nobody is granted impersonation of a service account (IAM-04).
        assert not binding.type.startswith("gcp:serviceaccount/")
    assert not project.run.of_type("gcp:serviceaccount/key:Key")


def test_every_named_service_agent_is_granted_somewhere(
    gcp_projects: dict[str, GeneratedRun],
) -> None:
    """The named list holds the agents the project grants, no spare one."""
    granted = {b.inputs["member"] for p in gcp_projects.values() for b in iam_bindings(p.run)}
    assert granted >= SERVICE_AGENTS


def test_project_level_grants_are_only_the_documented_ones(project: GeneratedRun) -> None:
    grants = {
        (b.inputs["role"].split("/")[-1], b.inputs["member"].split("@")[-1])
        for b in project.run.of_type("gcp:projects/iAMMember:IAMMember")
    }
    roles = {
        r.name.rsplit("-", 2)[-2]: r.inputs["roleId"]
        for r in project.run.of_type("gcp:projects/iAMCustomRole:IAMCustomRole")
    }
    account_domain = (
        f"{project.run.config.get('gcp:project', 'mock-project')}.iam.gserviceaccount.com"
    )
    assert grants == {
        (roles["invoker"], account_domain),
        (roles["screener"], account_domain),
        ("logging.logWriter", account_domain),
        ("monitoring.metricWriter", account_domain),
        ("modelarmor.user", "gcp-sa-aiplatform.iam.gserviceaccount.com"),
        # the training identity's job role (IAM-05), only with training
        *([(roles["training"], account_domain)] if "training" in roles else []),
    }


def test_every_resource_waits_for_the_apis(project: GeneratedRun) -> None:
    apis = {r.inputs["service"]: r.urn for r in project.run.of_type("gcp:projects/service:Service")}
    assert len(apis) >= 10
    for resource in project.run.custom_resources:
        for api in apis_of(resource.type, resource.inputs):
            assert apis[api] in resource.dependencies, (resource.name, api)


def test_stores_wait_for_their_key_grants(project: GeneratedRun) -> None:
    """A CMEK store created before its service agent may use the key fails to create."""
    grants: dict[str, set[str]] = {}
    for grant in project.run.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"):
        grants.setdefault(grant.inputs["cryptoKeyId"], set()).add(grant.urn)
    stores = [
        (r, key)
        for r in project.run.custom_resources
        for key in _kms_keys(r.inputs)
        if not r.type.startswith("gcp:kms/")
    ]
    assert {r.type.split(":")[-1] for r, _ in stores} >= {
        "ProjectBucketConfig",
        "Bucket",
        "Secret",
        "Topic",
        "AiEndpoint",
    }
    for resource, key in stores:
        assert grants[key] <= set(resource.dependencies), (resource.name, key)


def _kms_keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return {k for item in value.values() for k in _kms_keys(item)}
    if isinstance(value, list):
        return {k for item in value for k in _kms_keys(item)}
    return {value} if isinstance(value, str) and "/cryptoKeys/" in value else set()


def test_profile_drives_keys_logs_and_network(project: GeneratedRun) -> None:
    config = project.config
    days = config["key_rotation_days"]
    level = "HSM" if config["hsm_keys"] else "SOFTWARE"
    for key in project.run.of_type(KEY):
        assert key.inputs["rotationPeriod"] == f"{days * 86400}s"
        assert key.inputs["versionTemplate"]["protectionLevel"] == level
        assert key.protect is True
    log_bucket = project.run.one("gcp:logging/projectBucketConfig:ProjectBucketConfig")
    assert log_bucket.inputs["retentionDays"] == config["log_retention_days"]
    # The shared runs are after the lock step (lock_log_archive), see test_gcp_deploy.py.
    assert log_bucket.inputs["locked"] is config["immutable_logs"]
    assert log_bucket.protect is config["deletion_protection"]
    subnet = project.run.one(SUBNET, f"{project.project}-net-subnet").inputs
    assert subnet["logConfig"]["flowSampling"] == config["flow_log_sampling"]
    assert subnet["region"] == project.region
    assert not project.run.of_type("gcp:compute/routerNat:RouterNat")


def test_secret_replicas_and_locations_stay_in_allowed_regions(project: GeneratedRun) -> None:
    allowed = project.config["allowed_regions"]
    assert project.region in allowed
    for secret in project.run.of_type("gcp:secretmanager/secret:Secret"):
        replicas = secret.inputs["replication"]["userManaged"]["replicas"]
        assert {r["location"] for r in replicas} <= set(allowed)
        assert all(r["customerManagedEncryption"]["kmsKeyName"] for r in replicas)
    locations = [
        p.inputs
        for p in project.run.of_type("gcp:orgpolicy/policy:Policy")
        if p.inputs["name"].endswith("/policies/gcp.resourceLocations")
    ]
    assert len(locations) == 1
    values = locations[0]["spec"]["rules"][0]["values"]["allowedValues"]
    assert values == [f"in:{region}-locations" for region in allowed]


def test_restricted_gdpr_stays_in_the_eu_with_hsm_and_locked_logs(
    gcp_projects: dict[str, GeneratedRun],
) -> None:
    project = gcp_projects["restricted-gdpr"]
    eu = set(load_catalog().clouds["gcp"].region_group("eu"))
    assert project.region in eu
    assert project.config["allowed_regions"] and set(project.config["allowed_regions"]) <= eu
    assert project.config["hsm_keys"] is True and project.config["immutable_logs"] is True
    archive = [
        b.inputs
        for b in project.run.of_type("gcp:storage/bucket:Bucket")
        if "retentionPolicy" in b.inputs
    ]
    assert [a["retentionPolicy"]["isLocked"] for a in archive] == [True]  # after the lock step
    # the replicas live in the recovery region, in the EU too (REC-01)
    assert project.config["dr_region"] in eu and project.config["dr_region"] != project.region
    buckets = project.run.of_type("gcp:storage/bucket:Bucket")
    assert {b.inputs["location"] for b in buckets} == {project.region, project.config["dr_region"]}
    replicas = [b for b in buckets if b.inputs["labels"].get("data-zone") == "replica"]
    assert {b.inputs["location"] for b in replicas} == {project.config["dr_region"]}


def test_model_armor_reachable_through_a_regional_endpoint_in_the_subnet(
    project: GeneratedRun,
) -> None:
    run = project.run
    template = run.one("gcp:modelarmor/template:Template").inputs
    assert template["location"] == project.region
    host = f"modelarmor.{project.region}.rep.googleapis.com"
    endpoint = run.one("gcp:networkconnectivity/regionalEndpoint:RegionalEndpoint")
    subnet = run.one(SUBNET, f"{project.project}-net-subnet")
    network = run.one("gcp:compute/network:Network")
    assert endpoint.inputs["targetGoogleApi"] == host
    assert endpoint.inputs["location"] == project.region
    assert endpoint.inputs["network"] == network.outputs["id"]
    assert endpoint.inputs["subnetwork"] == subnet.outputs["id"]
    ip = endpoint.inputs["address"]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network(subnet.inputs["ipCidrRange"])
    zone = next(
        z
        for z in run.of_type("gcp:dns/managedZone:ManagedZone")
        if z.inputs["dnsName"] == f"{host}."
    )
    records = [
        r.inputs
        for r in run.of_type("gcp:dns/recordSet:RecordSet")
        if r.inputs["managedZone"] == zone.outputs["name"]
    ]
    assert records == [records[0] | {"name": f"{host}.", "type": "A", "rrdatas": [ip]}]
    allow = [
        f.inputs
        for f in run.of_type("gcp:compute/firewall:Firewall")
        if f.inputs.get("destinationRanges") == [f"{ip}/32"]
    ]
    assert [(a["direction"], a["allows"]) for a in allow] == [
        ("EGRESS", [{"protocol": "tcp", "ports": ["443"]}])
    ]
    # the Network Connectivity API creates regional endpoints; it is enabled first
    services = {s.inputs["service"] for s in run.of_type("gcp:projects/service:Service")}
    assert "networkconnectivity.googleapis.com" in services


def test_defaults_use_the_all_apis_bundle_and_no_optional_pieces(
    gcp_projects: dict[str, GeneratedRun],
) -> None:
    run = gcp_projects["defaults"].run
    rule = run.one("gcp:compute/globalForwardingRule:GlobalForwardingRule").inputs
    assert rule["target"] == "all-apis"
    assert not run.of_type("gcp:workbench/instance:Instance")
    assert not run.of_type("gcp:accesscontextmanager/servicePerimeter:ServicePerimeter")
    secrets = run.of_type("gcp:secretmanager/secret:Secret")
    assert [s.inputs["secretId"] for s in secrets] == ["app-api-key"]
    assert not run.of_type("gcp:secretmanager/secretVersion:SecretVersion")


def test_optional_pieces_in_a_generated_project(gcp_projects: dict[str, GeneratedRun]) -> None:
    run = gcp_projects["confidential-iso-soc2"].run
    rule = run.one("gcp:compute/globalForwardingRule:GlobalForwardingRule").inputs
    assert rule["target"] == "vpc-sc"
    perimeter = run.one("gcp:accesscontextmanager/servicePerimeter:ServicePerimeter").inputs
    assert perimeter["parent"] == "accessPolicies/123456789"
    instance = run.one("gcp:workbench/instance:Instance").inputs
    vertex_key = run.one(KEY, "gcp-confidential-iso-soc2-keys-vertex").outputs["id"]
    assert instance["gceSetup"]["bootDisk"]["kmsKey"] == vertex_key
    disk_agents = {
        b.inputs["member"].split("@")[-1]
        for b in run.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
        if b.inputs["cryptoKeyId"] == vertex_key
    }
    assert disk_agents == {
        "gcp-sa-aiplatform.iam.gserviceaccount.com",
        "compute-system.iam.gserviceaccount.com",
        "gcp-sa-notebooks.iam.gserviceaccount.com",
    }
    version = run.one("gcp:secretmanager/secretVersion:SecretVersion")
    assert "secretData" in version.secret_inputs


def test_perimeter_admission_and_workbench_proxy_come_from_stack_config(
    gcp_projects: dict[str, GeneratedRun],
) -> None:
    """The weakenings the README offers reach the components, and the pack reports the
    proxy (the perimeter's named admissions are what PE-04 allows)."""
    from aiscaffold.check import evaluate, load_requirements
    from aiscaffold.testing import run_program

    path = gcp_projects["defaults"].path
    deployer = "serviceAccount:ci@mock-project.iam.gserviceaccount.com"
    level = "accessPolicies/123456789/accessLevels/corp"
    run = run_program(
        path,
        config={
            "workbench": True,
            "workbench_proxy": True,
            "vpc_sc_access_policy": "123456789",
            "vpc_sc_deployers": [deployer],
            "vpc_sc_access_levels": [level],
        },
    )
    status = run.one("gcp:accesscontextmanager/servicePerimeter:ServicePerimeter").inputs["status"]
    assert status["accessLevels"] == [level]
    assert [p["ingressFrom"]["identities"] for p in status["ingressPolicies"]] == [[deployer]]
    instance = run.one("gcp:workbench/instance:Instance")
    assert instance.inputs["disableProxyAccess"] is False
    report = evaluate(run, load_requirements(path))
    assert {
        (f.policy, f.resource)
        for f in report.violations
        if f.category == "policy" and f.policy != "GCP-COST-001"  # no billing account
    } == {("GCP-VERTEX-009", instance.name)}
