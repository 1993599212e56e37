"""The mutation engine itself: which weakenings it derives from inputs, and how it applies them.

The cloud mutation tests (tests/*/test_*_mutations.py) run these against the generated
projects' policies; here small hand-made resources pin what each kind produces, so a
change to the vocabulary or the tables shows up as a failing expectation, not as a
silently smaller mutation set.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiscaffold.testing import CapturedResource, MockRun
from aiscaffold.testing import mutations as engine
from aiscaffold.testing.mutations import (
    ENUM_WEAKENINGS,
    Exemption,
    derive_mutations,
    load_exemptions,
    mutate,
)


def _run(type_: str, inputs: dict[str, Any], name: str = "r") -> MockRun:
    resource = CapturedResource(
        type=type_,
        name=name,
        urn=f"urn:pulumi:dev::p::{type_}::{name}",
        parent=None,
        custom=True,
        inputs=inputs,
        outputs={},
    )
    return MockRun("p", "dev", {}, [resource])


def _derived(type_: str, inputs: dict[str, Any]) -> set[tuple[str, str, Any]]:
    """(dotted path, kind, new value) of every mutation of one resource."""
    return {(m.dotted, m.kind, m.to) for m in derive_mutations(_run(type_, inputs))}


SG_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
NACL = "aws:ec2/networkAcl:NetworkAcl"
NSG = "azure-native:network:NetworkSecurityGroup"
FIREWALL = "gcp:compute/firewall:Firewall"


def test_an_aws_security_group_rule_widens_its_peer_ports_and_protocol() -> None:
    found = _derived(
        SG_RULE,
        {
            "cidrIpv4": "10.0.0.0/16",
            "fromPort": 443.0,
            "toPort": 443.0,
            "ipProtocol": "tcp",
            "description": "HTTPS from the VPC",
        },
    )
    assert {
        ("cidrIpv4", "widen-cidr", "0.0.0.0/0"),
        ("fromPort", "widen-ports", 0.0),
        ("toPort", "widen-ports", 65535.0),
        ("ipProtocol", "widen-ports", "-1"),
    } <= found
    assert not {m for m in found if m[0] == "description"}  # a description is no setting


def test_a_rule_already_open_to_everything_is_not_widened() -> None:
    found = _derived(
        NACL,
        {
            "ingress": [
                {"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlock": "0.0.0.0/0"},
                {"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrBlock": "::/0"},
            ]
        },
    )
    widened = {(path, kind) for path, kind, _ in found if kind.startswith("widen")}
    # the all-protocols rule covers every port; both rules already cover every address
    assert widened == {
        ("ingress.1.fromPort", "widen-ports"),
        ("ingress.1.toPort", "widen-ports"),
        ("ingress.1.protocol", "widen-ports"),
    }
    assert ("ingress.0", "drop", None) in found
    assert ("ingress.1", "drop", None) in found


def test_an_azure_nsg_rule_widens_to_the_internet_and_all_ports_and_allows() -> None:
    rule = {
        "name": "allow-https-from-vnet",
        "access": "Deny",
        "direction": "Inbound",
        "protocol": "Tcp",
        "sourceAddressPrefix": "VirtualNetwork",
        "destinationAddressPrefix": "10.20.0.0/24",
        "sourcePortRange": "*",
        "destinationPortRange": "443",
        "priority": 100.0,
    }
    found = _derived(NSG, {"securityRules": [rule], "location": "eastus2"})
    assert found == {
        ("securityRules", "remove", None),
        ("securityRules.0.access", "enum", "Allow"),
        ("securityRules.0.protocol", "widen-ports", "*"),
        ("securityRules.0.sourceAddressPrefix", "widen-cidr", "Internet"),
        ("securityRules.0.destinationAddressPrefix", "widen-cidr", "0.0.0.0/0"),
        ("securityRules.0.destinationPortRange", "widen-ports", "0-65535"),
        ("securityRules.0.priority", "weaken", 1),
    }


def test_gcp_firewall_ranges_and_ports_inside_lists_are_weakened_in_place() -> None:
    found = _derived(
        FIREWALL,
        {
            "direction": "INGRESS",
            "sourceRanges": ["35.235.240.0/20"],
            "allows": [{"protocol": "tcp", "ports": ["22", "3389"]}],
        },
    )
    assert {
        ("sourceRanges", "remove", None),
        ("sourceRanges.0", "widen-cidr", "0.0.0.0/0"),
        ("allows", "remove", None),
        ("allows.0.protocol", "widen-ports", "all"),
        ("allows.0.ports.0", "widen-ports", "0-65535"),
        ("allows.0.ports.1", "widen-ports", "0-65535"),
        ("allows.0.ports.0", "drop", None),
    } <= found
    denies = _derived(FIREWALL, {"denies": [{"protocol": "all"}]})
    assert denies == {("denies", "remove", None)}  # "denies" is vocabulary, "all" is widest


@pytest.mark.parametrize(
    ("type_", "inputs", "path", "weak"),
    [
        ("aws:ec2/flowLog:FlowLog", {"trafficType": "ALL"}, "trafficType", "REJECT"),
        (
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            {"rule": {"objectOwnership": "BucketOwnerEnforced"}},
            "rule.objectOwnership",
            "ObjectWriter",
        ),
        (
            "aws:bedrock/guardrail:Guardrail",
            {"contentPolicyConfig": {"filtersConfigs": [{"inputStrength": "HIGH"}]}},
            "contentPolicyConfig.filtersConfigs.0.inputStrength",
            "LOW",
        ),
        (
            "azure-native:cognitiveservices:RaiPolicy",
            {"properties": {"contentFilters": [{"severityThreshold": "Low"}]}},
            "properties.contentFilters.0.severityThreshold",
            "High",
        ),
        (
            "aws:sagemaker/domain:Domain",
            {"appNetworkAccessType": "VpcOnly"},
            "appNetworkAccessType",
            "PublicInternetOnly",
        ),
        (
            "gcp:storage/bucket:Bucket",
            {"publicAccessPrevention": "enforced"},
            "publicAccessPrevention",
            "inherited",
        ),
        (
            "azure-native:storage:StorageAccount",
            {"networkRuleSet": {"bypass": "None"}},
            "networkRuleSet.bypass",
            "AzureServices",
        ),
        (
            "azure-native:storage:BlobContainer",
            {"publicAccess": "None"},
            "publicAccess",
            "Blob",
        ),
    ],
)
def test_enum_values_move_to_their_weak_value(
    type_: str, inputs: dict[str, Any], path: str, weak: str
) -> None:
    assert (path, "enum", weak) in _derived(type_, inputs)


def test_enum_entries_with_a_key_apply_only_under_it() -> None:
    # HIGH is a strength only where the key says so; ALL is a traffic type only there
    found = _derived("aws:x/y:Z", {"policy": {"level": "HIGH", "events": "ALL"}})
    assert not {m for m in found if m[1] == "enum"}


def test_switch_strings_flip_like_booleans() -> None:
    found = _derived(
        "gcp:orgpolicy/policy:Policy",
        {"spec": {"rules": [{"enforce": "TRUE"}]}},
    )
    assert ("spec.rules.0.enforce", "negate", "FALSE") in found
    found = _derived(
        "azure-native:keyvault:Vault",
        {"properties": {"publicNetworkAccess": "Disabled", "enableRbacAuthorization": True}},
    )
    assert ("properties.publicNetworkAccess", "negate", "Enabled") in found
    assert ("properties.enableRbacAuthorization", "negate", False) in found


def test_grants_widen_to_everyone_the_owner_role_and_the_subscription() -> None:
    gcp = _derived(
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        {"member": "serviceAccount:a@p.iam.gserviceaccount.com", "role": "roles/storage.admin"},
    )
    assert {("member", "widen-grant", "allUsers"), ("role", "widen-grant", "roles/owner")} <= gcp
    subscription = "/subscriptions/0000"
    azure = _derived(
        "azure-native:authorization:RoleAssignment",
        {
            "scope": f"{subscription}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v",
            "roleDefinitionId": f"{subscription}/providers/Microsoft.Authorization/"
            "roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6",
            "principalId": "1234",
        },
    )
    assert azure == {
        ("scope", "widen-grant", subscription),
        (
            "roleDefinitionId",
            "widen-grant",
            f"{subscription}/providers/Microsoft.Authorization/roleDefinitions/"
            "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        ),
    }


def test_tags_count_as_one_setting_and_names_as_none() -> None:
    found = _derived(
        "aws:s3/bucket:Bucket",
        {"bucket": "b", "tags": {"data-classification": "confidential", "project": "p"}},
    )
    assert found == {("tags", "remove", None), ("tags.data-classification", "remove", None)}


def test_mutate_applies_the_new_value_or_removes() -> None:
    run = _run(NSG, {"securityRules": [{"access": "Deny"}, {"access": "Allow"}]})
    resource = run.resources[0]
    by_kind = {(m.dotted, m.kind): m for m in derive_mutations(run)}
    allowed = mutate(resource, by_kind[("securityRules.0.access", "enum")])
    assert allowed.inputs["securityRules"][0]["access"] == "Allow"
    dropped = mutate(resource, by_kind[("securityRules.0", "drop")])
    assert dropped.inputs["securityRules"] == [{"access": "Allow"}]
    assert resource.inputs["securityRules"][0]["access"] == "Deny"  # the run is untouched


def test_exemptions_can_require_a_value_or_the_fields_of_the_list_entry() -> None:
    run = _run(
        NSG,
        {
            "securityRules": [
                {"access": "Allow", "direction": "Inbound", "sourceAddressPrefix": "10.0.0.0/8"},
                {"access": "Deny", "direction": "Inbound", "sourceAddressPrefix": "10.0.0.0/8"},
            ]
        },
    )
    mutations = {m.dotted: m for m in derive_mutations(run) if m.kind in ("drop", "widen-cidr")}
    allow_rules = Exemption(
        type=NSG,
        path="securityRules.*",
        kinds=("drop",),
        reason="narrows",
        entry={"access": "Allow"},
    )
    assert allow_rules.matches(mutations["securityRules.0"], run)
    assert not allow_rules.matches(mutations["securityRules.1"], run)
    inbound_sources = Exemption(
        type=NSG,
        path="securityRules.*.sourceAddressPrefix",
        kinds=("widen-cidr",),
        reason="r",
        entry={"direction": "Inbound", "access": "Deny"},
        values=("10.0.0.0/8",),
    )
    assert inbound_sources.matches(mutations["securityRules.1.sourceAddressPrefix"], run)
    assert not inbound_sources.matches(mutations["securityRules.0.sourceAddressPrefix"], run)


def test_exemption_files_are_checked_for_reasons_and_kinds(tmp_path: Path) -> None:
    path = tmp_path / "exemptions.yaml"
    path.write_text(
        "- {type: t, path: p, kinds: [widen-everything], reason: a reason long enough}\n"
    )
    with pytest.raises(ValueError, match="unknown kinds"):
        load_exemptions(path)
    path.write_text("- {type: t, path: p, kinds: [remove], reason: short}\n")
    with pytest.raises(ValueError, match="specific reason"):
        load_exemptions(path)


def test_the_docstring_lists_every_enum_weakening() -> None:
    """The table is documented where the kinds are: an entry added in code shows up there."""
    doc = engine.__doc__ or ""
    for safe, weak, _ in ENUM_WEAKENINGS:
        assert f"``{safe}``" in doc and f"``{weak}``" in doc, (safe, weak)


# ------------------------------------------------------------------ liveness proof
KEY = "aws:kms/key:Key"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"


def _requirements() -> Any:
    from aiscaffold_components.policies import Requirements

    return Requirements(cloud="aws", data_sensitivity="internal", ai_service="bedrock")


def _inventory(rotation: bool = True) -> MockRun:
    key = CapturedResource(
        type=KEY,
        name="keys-data",
        urn=f"urn:pulumi:dev::p::{KEY}::keys-data",
        parent=None,
        custom=True,
        inputs={
            "enableKeyRotation": rotation,
            "rotationPeriodInDays": 90.0,
            "deletionWindowInDays": 30.0,
            "description": "data",
            "isEnabled": True,
        },
        outputs={},
    )
    group = CapturedResource(
        type=DEFAULT_SG,
        name="network-default-sg",
        urn=f"urn:pulumi:dev::p::{DEFAULT_SG}::network-default-sg",
        parent=None,
        custom=True,
        inputs={"vpcId": "vpc-1", "ingress": [], "egress": []},
        outputs={},
    )
    return MockRun("p", "dev", {"aws:region": "us-east-1"}, [key, group])


def test_a_policy_is_live_only_when_a_weakening_of_this_inventory_is_caught() -> None:
    from aiscaffold.liveness import prove_liveness

    proof = prove_liveness(_inventory(), _requirements())
    rotation = proof.proofs["AWS-KMS-001"]
    assert rotation.live
    assert "keys-data enableKeyRotation" in rotation.reads
    assert any("enableKeyRotation (negate" in k for k in rotation.kills)
    # the period is read, and moved past the profile's bound (ten times longer)
    period = proof.proofs["AWS-KMS-002"]
    assert any("rotationPeriodInDays" in k and "-> 900.0" in k for k in period.kills)
    # nothing here for the bucket policies to read: no proof, never credited
    assert not proof.proofs["AWS-S3-001"].live
    assert "AWS-S3-001" not in proof.live


def test_an_absence_policy_is_proven_live_by_its_declared_addition() -> None:
    from aiscaffold.liveness import prove_liveness

    proof = prove_liveness(_inventory(), _requirements())
    # an empty rule list has nothing to weaken: the declared allow-all rule proves it
    assert any("widen-list" in k and "ingress" in k for k in proof.proofs["AWS-EC2-004"].kills)


def test_the_proof_is_cached_per_inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aiscaffold import liveness

    first = liveness.project_liveness(tmp_path, "dev", _inventory(), _requirements())
    cache = tmp_path / ".aiscaffold" / "liveness" / "dev.json"
    assert cache.is_file() and first.inventory in cache.read_text(encoding="utf-8")
    # git-ignored even where the project's .gitignore predates it (update needs a clean tree)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    status = subprocess.run(
        ["git", "-C", str(tmp_path), "status", "--porcelain", "--untracked-files=all"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert status.stdout == ""

    def no_proof(*args: Any) -> Any:
        raise AssertionError("proved again")

    monkeypatch.setattr(liveness, "prove_liveness", no_proof)
    again = liveness.project_liveness(tmp_path, "dev", _inventory(), _requirements())
    assert again == first  # read back from the cache, not proven again
    with pytest.raises(AssertionError, match="proved again"):  # a changed input invalidates
        liveness.project_liveness(tmp_path, "dev", _inventory(rotation=False), _requirements())
    assert liveness.inventory_hash(_inventory(), _requirements()) != liveness.inventory_hash(
        _inventory(rotation=False), _requirements()
    )


def test_a_passing_policy_without_a_proof_is_not_exercised_and_never_credited() -> None:
    from aiscaffold.answers import Answers
    from aiscaffold.check import evaluate
    from aiscaffold.liveness import prove_liveness
    from aiscaffold.project_reports import StackEvidence, compliance_document

    run, requirements = _inventory(), _requirements()
    report = evaluate(run, requirements)
    passed = set(report.passed)
    assert "AWS-KMS-001" in passed
    answers = Answers.model_validate(
        {
            "cloud": "aws",
            "project_name": "demo",
            "ai_service": "bedrock",
            "region": "us-east-1",
            "models": ["anthropic.claude-3-haiku-20240307-v1:0"],
        }
    )
    live = prove_liveness(run, requirements).live
    proven = compliance_document(answers, [StackEvidence("dev", report, run, {}, live)])
    unproven = compliance_document(
        answers, [StackEvidence("dev", report, run, {}, live - {"AWS-KMS-001"})]
    )
    row = next(line for line in proven.splitlines() if line.startswith("| KEY-02 "))
    assert "AWS-KMS-001" in row.split("|")[4] and "✅" in row
    row = next(line for line in unproven.splitlines() if line.startswith("| KEY-02 "))
    assert "AWS-KMS-001" not in row.split("|")[4]
    section = unproven.split("Not exercised here", 1)[1]
    line = next(x for x in section.splitlines() if x.startswith("| AWS-KMS-001 "))
    assert "not proven live here" in line


# ------------------------------------------------- declared additions, next to policies
def test_absence_policies_declare_their_additions_next_to_them() -> None:
    """The additions live on the policies (``live_when``), and each is caught by it."""
    from aiscaffold_components.policies import registry

    declared = {p.id: p.live_when for p in registry() if p.live_when}
    assert {
        "AWS-EC2-001",
        "AWS-EC2-003",
        "AWS-EC2-004",
        "AWS-EC2-005",
        "AWS-KMS-007",
        "AZURE-AI-013",
        "GCP-IAM-006",
        "GCP-IAM-007",
    } <= set(declared)
    assert [a.why for a in declared["AWS-EC2-001"]] == ["an internet gateway", "a NAT gateway"]


def test_the_engine_gathers_additions_from_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without its declaration, the absence policy has nothing to catch: no proof."""
    from dataclasses import replace as replaced

    from aiscaffold import liveness
    from aiscaffold_components.policies import registry

    assert liveness.prove_liveness(_inventory(), _requirements()).proofs["AWS-EC2-004"].live
    stripped = [replaced(p, live_when=()) for p in registry("aws")]
    monkeypatch.setattr(liveness, "registry", lambda cloud=None: stripped)
    assert not liveness.prove_liveness(_inventory(), _requirements()).proofs["AWS-EC2-004"].live


def test_a_declared_value_is_set_where_the_input_exists() -> None:
    from aiscaffold.testing.mutations import Addition, addition_mutations

    deployment = "azure-native:cognitiveservices:Deployment"
    run = _run(deployment, {"sku": {"name": "Standard", "capacity": 10.0}}, name="gpt")
    other = _run(deployment, {"properties": {}}, name="none")
    global_sku = Addition(deployment, "a Global SKU", path="sku.name", value="GlobalStandard")
    [mutation] = addition_mutations(global_sku, run)
    assert (mutation.dotted, mutation.kind, mutation.to) == ("sku.name", "enum", "GlobalStandard")
    assert mutate(run.resources[0], mutation).inputs["sku"]["name"] == "GlobalStandard"
    assert addition_mutations(global_sku, other) == []  # nothing to set: nothing derived


def test_an_addition_is_one_of_its_three_forms() -> None:
    from aiscaffold.testing.mutations import Addition

    with pytest.raises(ValueError, match="needs the path"):
        Addition("t", "an entry without a path", entry={"a": 1})
    with pytest.raises(ValueError, match="either the entry"):
        Addition("t", "both an entry and a value", path="x", entry={"a": 1}, value="v")
    with pytest.raises(ValueError, match="either the entry"):
        Addition("t", "a path and nothing to put there", path="x")


# ------------------------------------------------------- mutations of what policies read
def test_a_read_address_range_narrows_and_a_gcp_direction_flips() -> None:
    """A deny rule is weakened by narrowing what it denies; GCP types a firewall's
    direction as a string, its members come from the discovery document."""
    from aiscaffold.testing.mutations import derive_read_mutations

    run = _run(FIREWALL, {"direction": "INGRESS", "sourceRanges": ["0.0.0.0/0"]})
    urn = run.resources[0].urn
    found = {
        (m.dotted, m.kind, m.to)
        for m in derive_read_mutations(run, {urn: [("direction",), ("sourceRanges", 0)]})
    }
    assert ("direction", "enum", "EGRESS") in found
    assert ("sourceRanges.0", "narrow-cidr", "192.0.2.0/24") in found


def test_a_read_exemption_matching_no_uncovered_read_is_stale() -> None:
    from aiscaffold.testing.mutations import stale_exemptions

    run = _run("aws:kms/alias:Alias", {"name": "alias/data", "targetKeyId": "k"})
    resource = run.resources[0]
    used = Exemption("aws:kms/alias:Alias", "name", ("read",), "an alias name protects nothing")
    unused = Exemption("aws:kms/alias:Alias", "targetKeyId", ("read",), "re-pointing it...")
    uncovered = {"p": [(resource, ("name",))]}
    stale = stale_exemptions([used, unused], {"p": run}, uncovered_reads=uncovered)
    assert stale == [unused]
    # once a caught mutation weakens the input, its read exemption is no longer needed
    assert stale_exemptions([used], {"p": run}, uncovered_reads={"p": []}) == [used]


def test_the_gcp_iam_absence_checks_catch_their_declared_grants() -> None:
    """GCP-IAM-006 (impersonation) and GCP-IAM-007 (default service account) forbid
    grants a stack should not make: each is proven by the grant it declares."""
    from aiscaffold.liveness import prove_liveness
    from aiscaffold_components.policies import Requirements

    run = _run(
        "gcp:serviceaccount/account:Account",
        {"accountId": "workload", "project": "mock-project"},
        name="identity",
    )
    requirements = Requirements(cloud="gcp", data_sensitivity="internal", ai_service="vertex")
    proofs = prove_liveness(run, requirements).proofs
    assert proofs["GCP-IAM-006"].kills == (
        "gcp:projects/iAMMember:IAMMember liveness-added-token-creator (add: a project-wide "
        "grant of the token creator role, which impersonates every service account)",
    )
    assert any("Compute Engine default" in k for k in proofs["GCP-IAM-007"].kills)
