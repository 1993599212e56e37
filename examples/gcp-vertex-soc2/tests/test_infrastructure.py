"""Offline tests of gcp-vertex-soc2: the program under Pulumi mocks, its policy pack.

No cloud credentials or Pulumi CLI needed: `pytest` in the project directory.
"""

import os
from pathlib import Path

import pytest
# load_requirements: the first stack's policy settings, for the control tests below.
from aiscaffold.check import evaluate, load_extra_policies, load_requirements  # noqa: F401
from aiscaffold.testing import MockRun, run_program

PROJECT = Path(__file__).resolve().parents[1]
STACK = "dev"
"""The first stack: the control tests at the end of this file check its answers."""
# Every stack of the project (one Pulumi.<stack>.yaml each; `aiscaffold stack add` adds
# them), or the one CI's matrix names in AISCAFFOLD_STACK.
STACKS = (
    [os.environ["AISCAFFOLD_STACK"]]
    if os.environ.get("AISCAFFOLD_STACK")
    else sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in PROJECT.glob("Pulumi.*.yaml"))
)
_RUNS: dict[str, MockRun] = {}


def _run_of(stack: str) -> MockRun:
    if stack not in _RUNS:
        _RUNS[stack] = run_program(PROJECT, stack=stack)
    return _RUNS[stack]


@pytest.fixture(scope="module")
def run() -> MockRun:
    if STACK not in STACKS:
        pytest.skip(f"the control tests check stack {STACK}; this run covers {STACKS}")
    return _run_of(STACK)


@pytest.fixture(scope="module", params=STACKS)
def stack_run(request: pytest.FixtureRequest) -> MockRun:
    return _run_of(str(request.param))


def test_program_runs_without_deprecated_resources(stack_run: MockRun) -> None:
    assert stack_run.custom_resources, "the program created no resource"
    assert not [w for w in stack_run.warnings if "deprecated" in w.lower()]


def test_policy_pack_finds_no_mandatory_violation(stack_run: MockRun) -> None:
    # aiscaffold's policies and the team's own (EXTRA_POLICIES in policy/__main__.py),
    # at the stack's own levels (policy/enforcement.<stack>.yaml, else enforcement.yaml)
    from aiscaffold.stacks import load_stack_requirements

    requirements = load_stack_requirements(PROJECT, stack_run.stack)
    report = evaluate(stack_run, requirements, load_extra_policies(PROJECT))
    mandatory = [f"{f.policy} {f.resource}: {f.message}" for f in report.mandatory]
    assert not mandatory, "\n".join(mandatory)


def test_compliance_md_is_current() -> None:
    # COMPLIANCE.md is the evidence a reviewer reads: it must be what the current
    # __main__.py, Pulumi.<stack>.yaml files and policy/enforcement*.yaml give.
    from aiscaffold.project_reports import stale_compliance

    problem = stale_compliance(PROJECT, runs={s: _run_of(s) for s in STACKS})
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def test_every_taggable_resource_is_classified(stack_run: MockRun) -> None:
    key = "labels"
    sensitivity = stack_run.config["gcp-vertex-soc2:data_sensitivity"]
    tagged = [r for r in stack_run.custom_resources if key in r.inputs]
    assert tagged
    for resource in tagged:
        labels = resource.inputs[key]
        # A Monitoring notification channel's labels configure it (email_address, topic):
        # its own labels are user_labels.
        if resource.type.endswith("NotificationChannel"):
            labels = resource.inputs["userLabels"]
        assert labels.get("data-classification") == sensitivity, resource.name


# ------------------------------------------------------- Google Cloud key controls
# Bounds come from the profile at generation time: tightening Pulumi.dev.yaml keeps
# these tests green, weakening a control below the profile fails them.

RAI_FILTERS = {"HATE_SPEECH", "HARASSMENT", "SEXUALLY_EXPLICIT", "DANGEROUS"}


def test_keys_rotate_and_are_protected(run: MockRun) -> None:
    keys = run.of_type("gcp:kms/cryptoKey:CryptoKey")
    assert keys
    for key in keys:
        period = int(str(key.inputs["rotationPeriod"]).rstrip("s"))
        assert period <= 365 * 86400, key.name
        assert key.protect, key.name


def test_network_is_custom_mode_with_a_deny_all_baseline(run: MockRun) -> None:
    network = run.one("gcp:compute/network:Network").inputs
    assert network["autoCreateSubnetworks"] is False
    assert network["deleteDefaultRoutesOnCreate"] is True
    firewalls = [f.inputs for f in run.of_type("gcp:compute/firewall:Firewall")]
    deny_all = [{"protocol": "all"}]
    denied = {f["direction"] for f in firewalls if f.get("denies") == deny_all}
    assert denied == {"INGRESS", "EGRESS"}
    assert not [f for f in firewalls if f["direction"] == "INGRESS" and f.get("allows")]
    assert not run.of_type("gcp:compute/routerNat:RouterNat")
    # the workload subnets (one per workload type; a private gateway adds a proxy-only
    # subnet, which runs no workload and takes no flow logs)
    subnets = [
        s.inputs for s in run.of_type("gcp:compute/subnetwork:Subnetwork") if not s.inputs.get("purpose")
    ]
    assert len(subnets) == 1
    for subnet in subnets:
        assert subnet["privateIpGoogleAccess"] is True
        assert subnet["logConfig"]["flowSampling"] >= 0.5


def test_model_armor_screens_every_model_call(run: MockRun) -> None:
    template = run.one("gcp:modelarmor/template:Template").inputs
    floor = run.one("gcp:modelarmor/floorsetting:Floorsetting").inputs
    for filters in (template["filterConfig"], floor["filterConfig"]):
        injection = filters["piAndJailbreakFilterSettings"]
        assert injection["filterEnforcement"] == "ENABLED"
        assert injection["confidenceLevel"] == "LOW_AND_ABOVE"
        rai = {f["filterType"] for f in filters["raiSettings"]["raiFilters"]}
        assert rai == RAI_FILTERS
        assert filters["maliciousUriFilterSettings"]["filterEnforcement"] == "ENABLED"
        assert filters["sdpSettings"]
    assert template["templateMetadata"]["enforcementType"] == "INSPECT_AND_BLOCK"
    assert floor["enableFloorSettingEnforcement"] is True
    assert "AI_PLATFORM" in floor["integratedServices"]
    assert floor["aiPlatformFloorSetting"]["inspectAndBlock"] is True


def test_model_armor_is_reachable_from_the_vpc(run: MockRun) -> None:
    # Model Armor screens only at its regional endpoint, which the API bundle does not
    # serve: without a regional endpoint every screening call from the VPC gets 404.
    template = run.one("gcp:modelarmor/template:Template").inputs
    host = f"modelarmor.{template['location']}.rep.googleapis.com"
    endpoint = run.one("gcp:networkconnectivity/regionalEndpoint:RegionalEndpoint").inputs
    assert endpoint["targetGoogleApi"] == host
    workload_subnet = next(
        s for s in run.of_type("gcp:compute/subnetwork:Subnetwork") if s.name.endswith("-net-subnet")
    )
    assert endpoint["subnetwork"] == workload_subnet.outputs["id"]
    zones = {z.inputs["dnsName"]: z for z in run.of_type("gcp:dns/managedZone:ManagedZone")}
    assert zones[f"{host}."].inputs["visibility"] == "private"
    records = [r.inputs for r in run.of_type("gcp:dns/recordSet:RecordSet")]
    assert [r["rrdatas"] for r in records if r["name"] == f"{host}."] == [[endpoint["address"]]]
    egress = [
        f.inputs
        for f in run.of_type("gcp:compute/firewall:Firewall")
        if f.inputs.get("destinationRanges") == [f"{endpoint['address']}/32"]
    ]
    assert [f["allows"] for f in egress] == [[{"protocol": "tcp", "ports": ["443"]}]]


def test_every_alert_reaches_the_alert_channel(run: MockRun) -> None:
    # DET-02: every alert policy is enabled and notifies the Pub/Sub channel on the
    # alert topic and the e-mail channel of each alert address, nothing else.
    topic = run.one("gcp:pubsub/topic:Topic", "alerts-topic")
    channels = run.of_type("gcp:monitoring/notificationChannel:NotificationChannel")
    (pubsub,) = [c for c in channels if c.inputs["type"] == "pubsub"]
    assert pubsub.inputs["labels"]["topic"] == topic.id
    assert topic.inputs["kmsKeyName"]
    emails = {c.inputs["labels"]["email_address"] for c in channels if c.inputs["type"] == "email"}
    assert emails == set([])
    ids = {c.id for c in channels}
    policies = run.of_type("gcp:monitoring/alertPolicy:AlertPolicy")
    assert len(policies) >= 9
    for policy in policies:
        assert policy.inputs["enabled"] is True, policy.name
        assert set(policy.inputs["notificationChannels"]) == ids, policy.name
        assert "docs/incident-response.md#" in policy.inputs["documentation"]["content"]
    findings = run.one("gcp:securitycenter/v2ProjectNotificationConfig:V2ProjectNotificationConfig")
    assert findings.inputs["pubsubTopic"] == topic.id


def test_cost_guardrails_notify_the_alert_channel(run: MockRun) -> None:
    # COST-01..03: budgets publish every update to the alert topic and e-mail the alert
    # addresses; each model's requests per minute are capped (README, "Cost guardrails").
    budgets = run.of_type("gcp:billing/budget:Budget")
    # No budget: no billing_account yet.
    assert not budgets
    caps = run.of_type("gcp:serviceusage/consumerQuotaOverride:ConsumerQuotaOverride")
    assert {c.inputs["dimensions"]["base_model"] for c in caps} == set(["gemini-3.5-flash", "text-embedding-005"])
    # At most 60 a minute per 1,000 of monthly budget (COST-03, GCP-COST-004).
    assert all(
        0 < int(c.inputs["overrideValue"]) <= 60
        for c in caps
    )


def test_vertex_endpoint_is_private_and_encrypted(run: MockRun) -> None:
    endpoint = run.one("gcp:vertex/aiEndpoint:AiEndpoint").inputs
    psc = endpoint["privateServiceConnectConfig"]
    assert psc["enablePrivateServiceConnect"] is True
    assert endpoint["encryptionSpec"]["kmsKeyName"]
    for workbench in run.of_type("gcp:workbench/instance:Instance"):
        assert workbench.inputs["gceSetup"]["disablePublicIp"] is True


def test_buckets_are_private_and_encrypted(run: MockRun) -> None:
    buckets = run.of_type("gcp:storage/bucket:Bucket")
    assert buckets
    for bucket in buckets:
        assert bucket.inputs["uniformBucketLevelAccess"] is True, bucket.name
        assert bucket.inputs["publicAccessPrevention"] == "enforced", bucket.name
        assert bucket.inputs["encryption"]["defaultKmsKeyName"], bucket.name


def test_recovery_replicas_follow_the_stacks_dr_region(run: MockRun) -> None:
    # REC-01: dr_region is per stack (Pulumi.<stack>.yaml); with it, the curated data
    # (and model artifacts) replicate to buckets there, under a key of that region.
    dr_region = str(run.config.get("gcp-vertex-soc2:dr_region") or "")
    replicas = [b.inputs for b in run.of_type("gcp:storage/bucket:Bucket") if b.inputs["labels"].get("data-zone") == "replica"]
    if not dr_region:
        assert replicas == []
        assert not run.of_type("gcp:storage/transferJob:TransferJob")
        return
    assert len(replicas) == 1
    for replica in replicas:
        assert replica["location"] == dr_region
        assert f"/locations/{dr_region}/keyRings/" in replica["encryption"]["defaultKmsKeyName"]
        assert replica["publicAccessPrevention"] == "enforced"
    assert len(run.of_type("gcp:storage/transferJob:TransferJob")) == len(replicas)


def test_audit_logs_are_kept(run: MockRun) -> None:
    audited = {
        c.inputs["service"]: {t["logType"] for t in c.inputs["auditLogConfigs"]}
        for c in run.of_type("gcp:projects/iAMAuditConfig:IAMAuditConfig")
    }
    assert {"DATA_READ", "DATA_WRITE"} <= audited["aiplatform.googleapis.com"]
    log_bucket = run.one("gcp:logging/projectBucketConfig:ProjectBucketConfig").inputs
    assert log_bucket["retentionDays"] >= 365
