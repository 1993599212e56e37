"""GCP deploy rules (issue 19, items 10-13): what the first `pulumi up` would meet.

Each fixed configuration leaves its rule silent; the configuration the project had
before (rebuilt by editing a mock run, or by running a component the old way) makes it
fire with the cited error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest
from aiscaffold.check import evaluate, load_requirements
from aiscaffold.testing import CapturedResource, MockRun, run_program
from aiscaffold_components.deploy import DeployContext, deploy_rules
from aiscaffold_components.gcp import Keys, KeysArgs, SecureBucket, SecureBucketArgs
from aiscaffold_components.gcp.apis import API_OF_MODULE, apis_of
from aiscaffold_components.policies import Resource
from gcp_support import NUMBER, PROJECT, REGION, VARIANTS, GeneratedRun, run_component

SERVICE = "gcp:projects/service:Service"
POLICY = "gcp:orgpolicy/policy:Policy"
LOG_BUCKET = "gcp:logging/projectBucketConfig:ProjectBucketConfig"
BUCKET = "gcp:storage/bucket:Bucket"
SLEEP = "time:index/sleep:Sleep"
RULES = {rule.id: rule for rule in deploy_rules("gcp")}


def views(resources: Sequence[CapturedResource]) -> list[Resource]:
    return [
        Resource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            props=r.inputs,
            protect=r.protect,
            parent=r.parent,
            dependencies=tuple(r.dependencies),
        )
        for r in resources
        if r.custom
    ]


def fired(rule_id: str, resources: Sequence[CapturedResource]) -> list[tuple[str, str]]:
    """(resource name or "(stack)", message) of each finding of one rule."""
    context = DeployContext(cloud="gcp", region=REGION)
    return [
        (r.name if r else "(stack)", m)
        for r, m in RULES[rule_id].evaluate(views(resources), context)
    ]


def findings(
    project: GeneratedRun, run: MockRun | None = None, **requirements: Any
) -> dict[str, list[str]]:
    required = load_requirements(project.path).model_copy(update=requirements)
    report = evaluate(run or project.run, required)
    out: dict[str, list[str]] = {}
    for finding in report.findings:
        if finding.outcome == "violation":
            out.setdefault(finding.policy, []).append(f"{finding.resource}: {finding.message}")
    return out


def test_rules_cite_a_source_and_the_clouds_error() -> None:
    assert set(RULES) >= {f"GCP-DEPLOY-00{n}" for n in range(1, 7)}
    for rule in RULES.values():
        assert rule.source.startswith("https://") and rule.error, rule.id


# ------------------------------------------------------------ 11: APIs enabled, derived
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_resource_api_is_enabled_before_it(
    variant: str, gcp_projects: dict[str, GeneratedRun]
) -> None:
    run = gcp_projects[variant].run
    assert fired("GCP-DEPLOY-003", run.resources) == []
    # The AI gateway's own API (its Endpoints service) is enabled by ApiGateway, not
    # derived from a resource type.
    services = [r for r in run.of_type(SERVICE) if ".endpoints." not in r.inputs["service"]]
    enabled = {r.inputs["service"] for r in services}
    # Exactly the APIs of the registered resources: none by hand, none missing.
    needed = {api for r in run.custom_resources for api in apis_of(r.type, r.inputs)}
    assert enabled == needed
    assert {"iam.googleapis.com", "cloudresourcemanager.googleapis.com"} <= enabled
    # Existing api-<name> resources keep their names.
    assert {r.name for r in services} == {f"api-{api.split('.')[0]}" for api in enabled}


def test_the_perimeter_brings_access_context_manager(gcp_projects: dict[str, GeneratedRun]) -> None:
    enabled = {
        r.inputs["service"] for r in gcp_projects["confidential-iso-soc2"].run.of_type(SERVICE)
    }
    assert {"accesscontextmanager.googleapis.com", "notebooks.googleapis.com"} <= enabled
    defaults = {r.inputs["service"] for r in gcp_projects["defaults"].run.of_type(SERVICE)}
    assert "accesscontextmanager.googleapis.com" not in defaults


#: The hand-written list of release 0.2.0.
OLD_APIS = {
    f"{name}.googleapis.com"
    for name in [
        "aiplatform",
        "cloudkms",
        "compute",
        "dlp",
        "dns",
        "logging",
        "modelarmor",
        "networkconnectivity",
        "notebooks",
        "orgpolicy",
        "pubsub",
        "secretmanager",
        "servicedirectory",
        "storage",
    ]
}


def test_the_old_api_list_fires_service_disabled(gcp_projects: dict[str, GeneratedRun]) -> None:
    run = gcp_projects["confidential-iso-soc2"].run
    old = [r for r in run.resources if r.type != SERVICE or r.inputs["service"] in OLD_APIS]
    found = fired("GCP-DEPLOY-003", old)
    missing = {m.split(" needs ")[1].split(",")[0] for _, m in found}
    assert missing == {
        "iam.googleapis.com",
        "cloudresourcemanager.googleapis.com",
        "accesscontextmanager.googleapis.com",
        # detection and cost guardrails (0.3.0): alerting, SCC notifications, budgets
        "monitoring.googleapis.com",
        "securitycenter.googleapis.com",
        "billingbudgets.googleapis.com",
    }
    names = {name for name, _ in found}
    types = {r.type for r in run.resources if r.name in names}
    assert {
        "gcp:serviceaccount/account:Account",
        "gcp:projects/iAMMember:IAMMember",
        "gcp:projects/iAMAuditConfig:IAMAuditConfig",
        "gcp:projects/iAMCustomRole:IAMCustomRole",
        "gcp:accesscontextmanager/servicePerimeter:ServicePerimeter",
    } <= types
    assert RULES["GCP-DEPLOY-003"].blocking
    assert "SERVICE_DISABLED" in RULES["GCP-DEPLOY-003"].error


def test_a_resource_created_alongside_its_api_fires(gcp_projects: dict[str, GeneratedRun]) -> None:
    run = gcp_projects["defaults"].run
    ring = run.one("gcp:kms/keyRing:KeyRing")
    api = next(r for r in run.of_type(SERVICE) if r.inputs["service"] == "cloudkms.googleapis.com")
    racing = dataclasses.replace(
        ring, dependencies=tuple(d for d in ring.dependencies if d != api.urn)
    )
    resources = [racing if r is ring else r for r in run.resources]
    assert fired("GCP-DEPLOY-003", resources) == [
        (
            ring.name,
            f"{ring.name} does not wait for cloudkms.googleapis.com to be enabled: on the "
            "first `pulumi up` it may be created first",
        )
    ]


def test_an_unmapped_module_is_reported_not_skipped() -> None:
    with pytest.raises(KeyError, match="bigtable"):
        apis_of("gcp:bigtable/instance:Instance")
    assert apis_of("aws:s3/bucket:Bucket") == set()
    assert all(
        api.endswith(".googleapis.com") and src.startswith("https://")
        for api, src in API_OF_MODULE.values()
    )


# ------------------------------------------------------ 12: CMEK users wait for grants
def build_keys_and_bucket(propagation: int) -> MockRun:
    def program() -> None:
        keys = Keys(
            "keys",
            KeysArgs(
                location=REGION,
                project=PROJECT,
                project_number=NUMBER,
                purposes=("data",),
                grant_propagation_seconds=propagation,
            ),
        )
        SecureBucket(
            "data",
            SecureBucketArgs(project=PROJECT, location=REGION, kms_key_name=keys.key_ids["data"]),
        )

    return run_component(program)


def test_cmek_users_wait_for_the_grant_propagation() -> None:
    fixed = build_keys_and_bucket(120)
    sleep = fixed.one(SLEEP)
    assert sleep.inputs["createDuration"] == "120s"
    grants = {g.urn for g in fixed.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")}
    assert grants and grants <= set(sleep.dependencies)
    assert sleep.urn in fixed.one(BUCKET).dependencies
    assert fired("GCP-DEPLOY-004", fixed.resources) == []
    # A wait of no time waits for nothing.
    instant = dataclasses.replace(sleep, inputs={**sleep.inputs, "createDuration": "0s"})
    resources = [instant if r is sleep else r for r in fixed.resources]
    assert [n for n, _ in fired("GCP-DEPLOY-004", resources)] == [fixed.one(BUCKET).name]
    # The old Keys: the bucket waited for the grants to exist, not to take effect.
    old = build_keys_and_bucket(0)
    assert not old.of_type(SLEEP)
    bucket = old.one(BUCKET)
    key = bucket.inputs["encryption"]["defaultKmsKeyName"]
    assert fired("GCP-DEPLOY-004", old.resources) == [
        (
            bucket.name,
            f"{bucket.name} encrypts with {key} without waiting for its grants to propagate "
            "(up to 7 minutes)",
        )
    ]
    assert "Permission denied on Cloud KMS key" in RULES["GCP-DEPLOY-004"].error


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_generated_cmek_users_wait(variant: str, gcp_projects: dict[str, GeneratedRun]) -> None:
    run = gcp_projects[variant].run
    # One wait per key's grants (the alert channel waits for its publisher grant too).
    key_waits = [s for s in run.of_type(SLEEP) if s.name.endswith("-grants-propagation")]
    assert len(key_waits) == len(run.of_type("gcp:kms/cryptoKey:CryptoKey"))
    assert fired("GCP-DEPLOY-004", run.resources) == []
    # Without the waits (the 0.2.0 program) every store is reported.
    bare = [
        dataclasses.replace(r, dependencies=tuple(d for d in r.dependencies if "Sleep" not in d))
        for r in run.resources
    ]
    reported = {n for n, _ in fired("GCP-DEPLOY-004", bare)}
    types = {r.type.split(":")[-1] for r in run.resources if r.name in reported}
    assert {"ProjectBucketConfig", "Bucket", "Secret", "Topic", "AiEndpoint"} <= types


# ------------------------------------------------------ 10: organization policies opt-in
def test_org_policies_off_by_default_and_left_to_the_organization(
    gcp_projects: dict[str, GeneratedRun],
) -> None:
    project = gcp_projects["defaults"]
    default = run_program(project.path)  # gcp_org_policies unset: false
    assert not default.of_type(POLICY)
    assert "orgpolicy.googleapis.com" not in {r.inputs["service"] for r in default.of_type(SERVICE)}
    found = findings(project, default)
    assert "GCP-ORG-003" not in found  # not applicable: the organization owns them
    assert len(found["GCP-DEPLOY-001"]) == 1
    assert (
        "organization's administrators own iam.disableServiceAccountKeyCreation"
        in (found["GCP-DEPLOY-001"][0])
    )


def test_org_policies_when_answered_keep_their_names_and_name_the_role(
    gcp_projects: dict[str, GeneratedRun],
) -> None:
    project = gcp_projects["defaults"]
    run = run_program(project.path, config={"gcp_org_policies": True})
    policies = run.of_type(POLICY)
    assert len(policies) == 10
    # Release 0.2.0 names: projects updating in place keep their policies.
    assert "gcp-defaults-org-gcp-resourcelocations" in {p.name for p in policies}
    assert "orgpolicy.googleapis.com" in {r.inputs["service"] for r in run.of_type(SERVICE)}
    found = findings(project, run, gcp_org_policies=True)
    assert "GCP-ORG-003" not in found
    assert [m.split(": ", 1)[1] for m in found["GCP-DEPLOY-001"]] == [
        "the stack sets 10 organization policies on the project ("
        + ", ".join(sorted(p.inputs["name"].rsplit("/", 1)[-1] for p in policies))
        + "): whoever deploys needs roles/orgpolicy.policyAdmin granted on the organization"
    ]
    assert RULES["GCP-DEPLOY-001"].category == "account-wide"
    # Still required where the answer asks for them: dropping them is a violation.
    without = dataclasses.replace(run, resources=[r for r in run.resources if r.type != POLICY])
    assert len(findings(project, without, gcp_org_policies=True)["GCP-ORG-003"]) == 10


def test_the_perimeter_stays_opt_in_without_org_policies(
    gcp_projects: dict[str, GeneratedRun],
) -> None:
    run = run_program(gcp_projects["defaults"].path, config={"vpc_sc_access_policy": "123456789"})
    assert not run.of_type(POLICY)
    [perimeter] = run.of_type("gcp:accesscontextmanager/servicePerimeter:ServicePerimeter")
    assert perimeter.name.endswith("-org-perimeter")
    assert [n for n, _ in fired("GCP-DEPLOY-002", run.resources)] == [perimeter.name]


# ------------------------------------------------------------ 13: logs locked later
def test_logs_are_locked_only_by_the_explicit_second_step(
    gcp_projects: dict[str, GeneratedRun],
) -> None:
    project = gcp_projects["restricted-gdpr"]
    first = run_program(project.path)  # lock_log_archive unset
    assert first.one(LOG_BUCKET).inputs["locked"] is False
    found = findings(project, first)
    assert "GCP-DEPLOY-005" not in found and "GCP-DEPLOY-006" not in found
    # Before the lock step the lock is missing, and the policies say how to add it.
    for policy in ("GCP-LOG-006", "GCP-LOG-010"):
        assert len(found[policy]) == 1
        assert "`pulumi config set lock_log_archive true && pulumi up`" in found[policy][0]

    locked = run_program(project.path, config={"lock_log_archive": True})
    assert locked.one(LOG_BUCKET).inputs["locked"] is True
    after = findings(project, locked)
    assert "GCP-LOG-006" not in after and "GCP-LOG-010" not in after
    # The lock step (and the 0.2.0 program, which locked on the first up) is irreversible.
    [bucket_lock] = after["GCP-DEPLOY-005"]
    assert "can never change" in bucket_lock
    [archive_lock] = after["GCP-DEPLOY-006"]
    assert archive_lock.startswith(f"{project.project}-audit-archive-bucket: ")
    assert f"for {int(project.config['log_retention_days'])} days" in archive_lock
    assert RULES["GCP-DEPLOY-005"].category == RULES["GCP-DEPLOY-006"].category == "irreversible"


def test_the_lock_setting_does_nothing_without_immutable_logs(
    gcp_projects: dict[str, GeneratedRun],
) -> None:
    project = gcp_projects["defaults"]
    assert project.config["immutable_logs"] is False
    run = run_program(project.path, config={"lock_log_archive": True})
    assert run.one(LOG_BUCKET).inputs["locked"] is False
    assert fired("GCP-DEPLOY-005", run.resources) == []
