"""Issue 17 on Azure: workload segments (NET-07), one identity per workload type
(IAM-05), raw / curated / model-artifact data zones (GOV-07) and replicas in the
recovery region (REC-01), on the components composed as the generated program does,
and the policies that judge them."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

import pytest
from aiscaffold.testing import MockRun, ProgramError, run
from azure.azure_policy_support import STACK, copy_of, flagged, report, resource, unknown

PROJECT, STACK_NAME, PRIMARY, DR = "proj", "dev", "swedencentral", "germanywestcentral"
ACCOUNT = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-proj-dev/"
    "providers/Microsoft.CognitiveServices/accounts/oai-proj-dev"
)
ROLE = "azure-native:authorization:RoleAssignment"
ROLE_DEF = "azure-native:authorization:RoleDefinition"
NSG = "azure-native:network:NetworkSecurityGroup"
SUBNET = "azure-native:network:Subnet"
STORAGE = "azure-native:storage:StorageAccount"
REPLICATION = "azure-native:storage:ObjectReplicationPolicy"
VAULT = "azure-native:keyvault:Vault"
ROLE_IDS = {
    "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd": "Cognitive Services OpenAI User",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
}
ALL = ("inference", "training", "data-processing")


def compose(workloads: tuple[str, ...], dr_region: str) -> None:
    """The issue 17 part of the generated program (templates/includes/azure)."""
    from aiscaffold_components.azure import (
        Keys,
        KeysArgs,
        Network,
        NetworkArgs,
        ReplicatedStorage,
        ReplicatedStorageArgs,
        SecureStorage,
        SecureStorageArgs,
        WorkloadIdentity,
        WorkloadIdentityArgs,
    )

    network = Network(
        "network",
        NetworkArgs(location=PRIMARY, workload_segments=[w for w in workloads if w != "inference"]),
    )
    group = network.resource_group_name

    def keys(name: str, location: str) -> Any:
        return Keys(
            name,
            KeysArgs(
                resource_group_name=group,
                location=location,
                created_on=dt.date(2025, 3, 1),
                purposes=("data",),
                trusted_services_bypass=True,
            ),
        )

    primary_keys = keys("keys", PRIMARY)

    def store(name: str, zone: str | None, **extra: Any) -> Any:
        return SecureStorage(
            name,
            SecureStorageArgs(
                resource_group_name=group,
                location=PRIMARY,
                cmk=primary_keys.cmk("data"),
                tags={"data-zone": zone} if zone else {},
                containers=(name,),
                **extra,
            ),
        )

    data = store("data", None)
    raw = store("raw", "raw") if "data-processing" in workloads else None
    artifacts = (
        store("artifacts", "model-artifacts", soft_delete_days=365)
        if "training" in workloads
        else None
    )
    ids = {
        "resource_group_name": group,
        "location": PRIMARY,
    }
    WorkloadIdentity(
        "workload",
        WorkloadIdentityArgs(
            **ids,
            openai_account_id=ACCOUNT,
            key_vault_id=primary_keys.vault_id,
            data_container_ids=list(data.container_ids.values()),
        ),
    )
    if artifacts is not None:
        WorkloadIdentity(
            "training",
            WorkloadIdentityArgs(
                **ids,
                openai_account_id=ACCOUNT,
                openai_access="fine-tuning",
                data_container_ids=list(data.container_ids.values()),
                write_container_ids=list(artifacts.container_ids.values()),
            ),
        )
    if raw is not None:
        WorkloadIdentity(
            "data-processing",
            WorkloadIdentityArgs(
                **ids,
                data_container_ids=list(raw.container_ids.values()),
                write_container_ids=list(data.container_ids.values()),
            ),
        )
    if dr_region:
        dr_keys = keys("dr-keys", dr_region)
        for zone, source in (("data", data), ("artifacts", artifacts)):
            if source is not None:
                ReplicatedStorage(
                    f"{zone}-dr",
                    ReplicatedStorageArgs(
                        resource_group_name=group,
                        source=source,
                        source_location=PRIMARY,
                        location=dr_region,
                        cmk=dr_keys.cmk("data"),
                        containers=(zone,),
                        tags={"data-zone": "replica"},
                    ),
                )


_RUNS: dict[tuple[tuple[str, ...], str], MockRun] = {}


def workloads_run(workloads: tuple[str, ...] = ALL, dr_region: str = DR) -> MockRun:
    key = (workloads, dr_region)
    if key not in _RUNS:
        composed = run(
            lambda: compose(workloads, dr_region),
            project=PROJECT,
            stack=STACK_NAME,
            config={"azure-native:location": PRIMARY},
        )
        # The AI account the identities are granted on (OpenAIAccount, tested elsewhere):
        # data-zone and recovery policies judge the workload's stack, which has one.
        account = resource(
            "azure-native:cognitiveservices:Account",
            "openai-account",
            {"accountName": "oai-proj-dev", "location": PRIMARY, "kind": "OpenAI"},
        )
        _RUNS[key] = MockRun(
            composed.project,
            composed.stack,
            composed.config,
            [*composed.resources, account],
            composed.warnings,
            composed.outputs,
        )
    return _RUNS[key]


def _grants(run_: MockRun, identity: str) -> set[tuple[str, str]]:
    """(role, scope tail) of every role assignment of one WorkloadIdentity."""
    out = set()
    for r in run_.resources:
        if r.type != ROLE or not r.name.startswith(f"{identity}-"):
            continue
        guid = str(r.inputs["roleDefinitionId"]).rsplit("/", 1)[-1]
        role = ROLE_IDS.get(guid, "custom:" + guid)
        out.add((role, "/".join(str(r.inputs["scope"]).split("/")[-2:])))
    return out


# ----------------------------------------------------------------- segments (NET-07)
def test_only_inference_adds_no_segment() -> None:
    run_ = workloads_run(("inference",), "")
    assert {r.inputs["subnetName"] for r in run_.of_type(SUBNET)} == {
        "workload",
        "private-endpoints",
    }
    pe = {r["name"] for r in run_.one(NSG, "network-pe-nsg").inputs["securityRules"]}
    assert not any("training" in n or "data-processing" in n for n in pe)
    assert not run_.of_type(ROLE_DEF) and not run_.of_type(REPLICATION)
    assert len(run_.of_type(STORAGE)) == 1


@pytest.mark.parametrize(
    "workloads", [("inference", "training"), ("inference", "data-processing"), ALL]
)
def test_each_segment_has_its_subnet_and_group(workloads: tuple[str, ...]) -> None:
    run_ = workloads_run(workloads, "")
    subnets = {r.inputs["subnetName"]: r.inputs for r in run_.of_type(SUBNET)}
    # Existing subnets keep their names and prefixes; new ones take fixed blocks.
    assert subnets["workload"]["addressPrefix"] == "10.20.0.0/24"
    assert subnets["private-endpoints"]["addressPrefix"] == "10.20.1.0/24"
    fixed = {"training": "10.20.3.0/24", "data-processing": "10.20.4.0/24"}
    for segment in workloads[1:]:
        assert subnets[segment]["addressPrefix"] == fixed[segment]
        assert subnets[segment]["defaultOutboundAccess"] is False
    networks = [ipaddress.ip_network(s["addressPrefix"]) for s in subnets.values()]
    assert all(not a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])
    assert set(subnets) == {"workload", "private-endpoints", *workloads[1:]}


def test_segment_rules_allow_only_https_to_the_endpoints() -> None:
    run_ = workloads_run(ALL, "")
    for segment, prefix in (("training", "10.20.3.0/24"), ("data-processing", "10.20.4.0/24")):
        rules = run_.one(NSG, f"network-{segment}-nsg").inputs["securityRules"]
        allows = [r for r in rules if r["access"] == "Allow"]
        assert [
            (r["direction"], r["sourceAddressPrefix"], r["destinationAddressPrefix"],
             r["destinationPortRange"], r["protocol"])
            for r in allows
        ] == [("Outbound", prefix, "10.20.1.0/24", "443", "Tcp")]  # fmt: skip
        denies = {(r["direction"], r["sourceAddressPrefix"], r["destinationAddressPrefix"]) for r in rules if r["access"] == "Deny"}  # fmt: skip
        assert {("Inbound", "*", "*"), ("Outbound", "*", "*")} <= denies
        pe = {r["name"]: r for r in run_.one(NSG, "network-pe-nsg").inputs["securityRules"]}
        admit = pe[f"allow-https-from-{segment}"]
        assert (admit["sourceAddressPrefix"], admit["destinationPortRange"]) == (prefix, "443")


def test_segment_policy_passes_and_catches_a_cross_segment_allow() -> None:
    run_ = workloads_run(ALL, "")
    assert flagged(run_, "AZURE-NET-013", workloads=list(ALL)) == set()
    rules = run_.one(NSG, "network-training-nsg").inputs["securityRules"]
    opened = [dict(r, access="Allow") if r["name"] == "deny-all-outbound" else r for r in rules]
    patches = {"network-training-nsg": {"securityRules": opened}}
    # Training may now reach the inference subnet, which admits HTTPS from the VNet.
    assert flagged(run_, "AZURE-NET-013", patches, workloads=list(ALL)) == {"network-training"}


def test_segment_policy_wants_a_segment_per_chosen_workload() -> None:
    run_ = workloads_run(("inference", "training"), "")
    assert flagged(run_, "AZURE-NET-013", workloads=list(ALL)) == {STACK}
    only = workloads_run(("inference",), "")
    result = report(only, "AZURE-NET-013")
    assert not result.violations and not result.passed


# ----------------------------------------------------------------- identities (IAM-05)
def test_each_identity_holds_only_its_job() -> None:
    from aiscaffold_components.azure.identity import fine_tuning_role_guid

    run_ = workloads_run(ALL, "")
    tune = "custom:" + fine_tuning_role_guid(ACCOUNT)
    assert _grants(run_, "training") == {
        (tune, "accounts/oai-proj-dev"),
        ("Storage Blob Data Reader", "containers/data"),
        ("Storage Blob Data Contributor", "containers/artifacts"),
    }
    assert _grants(run_, "data-processing") == {
        ("Storage Blob Data Reader", "containers/raw"),
        ("Storage Blob Data Contributor", "containers/data"),
    }
    inference = _grants(run_, "workload")
    # Inference cannot write model artifacts (nor anything); training cannot invoke.
    assert not any(role == "Storage Blob Data Contributor" for role, _ in inference)
    assert not any("artifacts" in scope for _, scope in inference)
    assert not any(
        role == "Cognitive Services OpenAI User" for role, _ in _grants(run_, "training")
    )
    assert not any(
        "Cognitive" in s or "artifacts" in s for _, s in _grants(run_, "data-processing")
    )


def test_fine_tuning_role_cannot_invoke_a_deployment() -> None:
    from aiscaffold_components.azure import FINE_TUNING_DATA_ACTIONS

    definition = workloads_run(ALL, "").one(ROLE_DEF)
    assert definition.inputs["assignableScopes"] == [ACCOUNT]
    (permission,) = definition.inputs["permissions"]
    assert permission["dataActions"] == list(FINE_TUNING_DATA_ACTIONS)
    assert permission["actions"] == []
    for action in permission["dataActions"]:
        assert "deployments" not in action and "completions" not in action
        assert "embeddings" not in action
    assert any(a.endswith("/fine-tunes/write") for a in permission["dataActions"])


def test_identity_policies_pass_and_catch_a_shared_job() -> None:
    run_ = workloads_run(ALL, "")
    for policy in ("AZURE-IAM-002", "AZURE-IAM-004", "AZURE-IAM-005", "AZURE-IAM-006"):
        assert flagged(run_, policy, workloads=list(ALL)) == set(), policy
    training = run_.one(ROLE, "training-write-0").inputs["principalId"]
    inference = run_.one(ROLE, "workload-openai-user").inputs["principalId"]
    # Training also invoking the production model; inference also writing artifacts.
    invoke = copy_of(
        run_, "workload-openai-user", "training-openai-user", {"principalId": training}
    )
    write = copy_of(run_, "training-write-0", "workload-write-0", {"principalId": inference})
    assert flagged(run_, "AZURE-IAM-006", add=[invoke], workloads=list(ALL)) == {
        "training-fine-tuning"
    }
    assert "workload-write-0" in flagged(run_, "AZURE-IAM-005", add=[write], workloads=list(ALL))
    assert flagged(run_, "AZURE-IAM-006", add=[write], workloads=list(ALL)) != set()
    # The fine-tuning role widened to chat completions.
    widened = {
        "training-fine-tuning-role": {
            "permissions": [
                {"actions": [], "dataActions": [
                    "Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action"
                ]}
            ]
        }
    }  # fmt: skip
    assert flagged(run_, "AZURE-IAM-006", widened, workloads=list(ALL)) == {
        "training-fine-tuning-role"
    }
    subscription = {"training-fine-tuning-role": {"scope": "/subscriptions/0"}}
    assert flagged(run_, "AZURE-IAM-006", subscription, workloads=list(ALL)) == {
        "training-fine-tuning-role"
    }


def test_write_access_to_artifacts_needs_the_training_workload() -> None:
    run_ = workloads_run(ALL, "")
    assert flagged(run_, "AZURE-IAM-005", workloads=["inference"]) == {
        "training-write-0",
        "data-processing-write-0",
    }


# ----------------------------------------------------------------- data zones (GOV-07)
def test_data_zones_policy() -> None:
    run_ = workloads_run(ALL, "")
    answers: dict[str, Any] = {"workloads": list(ALL), "data_sensitivity": "restricted"}
    assert flagged(run_, "AZURE-ST-017", **answers) == set()
    short = {"artifacts-blob-service": {"deleteRetentionPolicy": {"enabled": True, "days": 30}}}
    assert flagged(run_, "AZURE-ST-017", short, **answers) == {"artifacts-blob-service"}
    unversioned = {"artifacts-blob-service": {"isVersioningEnabled": False}}
    assert flagged(run_, "AZURE-ST-017", unversioned, **answers) == {"artifacts-account"}
    assert flagged(run_, "AZURE-ST-017", drop=["raw-account"], **answers) == {STACK}
    only = workloads_run(("inference",), "")
    result = report(only, "AZURE-ST-017")
    assert not result.violations and not result.passed


# ----------------------------------------------------------------- recovery (REC-01)
@pytest.mark.parametrize("workloads", [("inference",), ALL])
def test_replicas_and_their_vault_are_in_the_recovery_region(workloads: tuple[str, ...]) -> None:
    run_ = workloads_run(workloads, DR)
    zones = ["data"] + (["artifacts"] if "training" in workloads else [])
    for zone in zones:
        replica = run_.one(STORAGE, f"{zone}-dr-account").inputs
        assert replica["location"] == DR != PRIMARY
        assert replica["publicNetworkAccess"] == "Disabled"
        assert replica["minimumTlsVersion"] == "TLS1_2"
        assert replica["allowCrossTenantReplication"] is False
        vault_uri = replica["encryption"]["keyVaultProperties"]["keyVaultUri"]
        vault = next(v for v in run_.of_type(VAULT) if v.inputs["vaultName"] in vault_uri)
        assert vault.name == "dr-keys-vault"
        assert vault.inputs["location"] == DR
        assert vault.inputs["properties"]["enablePurgeProtection"] is True
        destination = run_.one(REPLICATION, f"{zone}-dr-replication-destination").inputs
        source = run_.one(REPLICATION, f"{zone}-dr-replication-source").inputs
        assert destination["objectReplicationPolicyId"] == "default"
        assert source["objectReplicationPolicyId"] not in ("", "default")
        assert destination["accountName"] == replica["accountName"]
        assert source["sourceAccount"].startswith("/subscriptions/")
        assert source["rules"][0]["ruleId"]
        assert source["rules"][0]["sourceContainer"] == zone
    primary_vault = run_.one(VAULT, "keys-vault").inputs
    assert primary_vault["location"] == PRIMARY
    assert len(run_.of_type(REPLICATION)) == 2 * len(zones)


def test_no_replica_without_a_recovery_region() -> None:
    run_ = workloads_run(ALL, "")
    assert not run_.of_type(REPLICATION)
    assert all(v.inputs["location"] == PRIMARY for v in run_.of_type(VAULT))


def test_replica_region_must_differ() -> None:
    with pytest.raises(ProgramError, match="must be set and differ"):
        run(
            lambda: compose(("inference",), PRIMARY),
            project=PROJECT,
            stack=STACK_NAME,
            config={"azure-native:location": PRIMARY},
        )


def test_recovery_policy_passes_and_catches_each_gap() -> None:
    run_ = workloads_run(ALL, DR)
    answers: dict[str, Any] = {"dr_region": DR, "data_sensitivity": "restricted"}
    assert flagged(run_, "AZURE-REC-001", **answers) == set()
    moved = {"dr-keys-vault": {"location": PRIMARY}}
    assert flagged(run_, "AZURE-REC-001", moved, **answers) == {
        "data-dr-account",
        "artifacts-dr-account",
    }
    elsewhere = {"data-dr-account": {"location": "westeurope"}}
    assert "data-dr-account" in flagged(run_, "AZURE-REC-001", elsewhere, **answers)
    assert flagged(run_, "AZURE-REC-001", drop=["data-dr-replication-source"], **answers) == {
        "data-account"
    }
    no_rules = {"data-dr-replication-destination": {"rules": []}}
    assert flagged(run_, "AZURE-REC-001", no_rules, **answers) == {"data-dr-account"}
    no_feed = {"data-blob-service": {"changeFeed": {"enabled": False}}}
    assert flagged(run_, "AZURE-REC-001", no_feed, **answers) == {"data-account"}
    # Without the replicas, a stack with a recovery region is caught.
    bare = workloads_run(ALL, "")
    assert flagged(bare, "AZURE-REC-001", **answers) == {"data-account", "artifacts-account"}


def test_restricted_data_without_recovery_region_is_advisory() -> None:
    from aiscaffold_components.policies import registry

    bare = workloads_run(("inference",), "")
    result = report(bare, "AZURE-REC-002", data_sensitivity="restricted")
    assert [(f.resource, f.level) for f in result.violations] == [(STACK, "advisory")]
    assert not report(bare, "AZURE-REC-001", data_sensitivity="restricted").passed
    confidential = report(bare, "AZURE-REC-002")
    assert not confidential.violations and not confidential.passed
    policy = next(p for p in registry("azure") if p.id == "AZURE-REC-001")
    assert policy.controls == ("REC-01",) or list(policy.controls) == ["REC-01"]


# ----------------------------------------------------------------- unknown during preview
@pytest.mark.parametrize(
    ("policy", "name", "path", "answers"),
    [
        ("AZURE-IAM-006", "training-fine-tuning", "principalId", {}),
        ("AZURE-NET-013", "network-training", "addressPrefix", {}),
        ("AZURE-ST-017", "artifacts-blob-service", "isVersioningEnabled", {}),
        ("AZURE-REC-001", "data-dr-account", "location", {"dr_region": DR}),
    ],
)
def test_values_unknown_during_preview_are_reported_unknown(
    policy: str, name: str, path: str, answers: dict[str, Any]
) -> None:
    from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE

    run_ = workloads_run(ALL, DR)
    answers = {"workloads": list(ALL), "data_sensitivity": "restricted", **answers}
    known = report(run_, policy, **answers)
    assert set(known.verdicts[policy].values()) == {"passed"}, known.verdicts
    sentinel = UNKNOWN_BOOLEAN_VALUE if path.startswith("is") else UNKNOWN_STRING_VALUE
    assert unknown(run_, policy, {name: {path: sentinel}}, **answers) == {STACK}


# ----------------------------------------------------------------- deploy rule
def test_object_replication_deploy_rule() -> None:
    from aiscaffold.check import evaluate
    from azure.azure_policy_support import patched, reqs

    run_ = workloads_run(ALL, DR)

    def fired(changes: dict[str, Any]) -> set[str]:
        found = evaluate(patched(run_, changes), reqs()).deploy_findings
        return {f.resource for f in found if f.policy == "AZURE-DEPLOY-040"}

    assert fired({}) == set()
    by_name = {"data-dr-replication-source": {"sourceAccount": "stprojdevdata"}}
    assert fired(by_name) == {"data-dr-replication-source"}
    no_id = {"data-dr-replication-source": {"objectReplicationPolicyId": "default"}}
    assert fired(no_id) == {"data-dr-replication-source"}
