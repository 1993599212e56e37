"""GCP policies: one module per service; importing this package registers them.

==========  ===========================================================================
module      what its policies verify
==========  ===========================================================================
kms         rotation, destruction window, protect, HSM, key grants, unused keys
network     custom-mode VPC, private subnets with flow logs, firewall baseline,
            HTTPS-only allow rules, egress
psc         Private Service Connect endpoint for Google APIs, vpc-sc bundle, Model
            Armor's regional endpoint
dns         private zones for Google API domains and regional hostnames resolving to
            their endpoints
iam         basic roles, public grants, project-level grants, custom roles, keys,
            impersonation, default accounts, the workload's own service account
logging     audit configs, log routing, retention, locks, CMEK, sinks, protection
storage     uniform access, public access prevention, CMEK, recovery, access logs
vertex      private CMEK endpoints, CMEK resources, hardened Workbench instances
armor       Model Armor template and floor setting (filters, blocking, logging)
secrets     CMEK replicas in allowed regions, rotation, accessor grants
pubsub      topic CMEK and message residency
detection   SCC findings routed, tampering and surge alarms, alert channels
orgpolicy   organization policy constraints and the service perimeter
cost        budgets, their alerts and forecasts, Vertex AI request caps
segments    workload segmentation: disjoint identities, separated segments, data zones
recovery    replicas of curated data and model artifacts in the recovery region
gateway     the AI gateway: JWT on every operation, proxy not bypassed, throttle, WAF,
            internal or armored exposure, request logs, TLS 1.2+
==========  ===========================================================================

Labels (GCP-GOV-001) and residency (GCP-GOV-002) live in ``policies/common.py``.
"""

from . import (
    armor,
    cost,
    detection,
    dns,
    gateway,
    iam,
    kms,
    logging,
    network,
    orgpolicy,
    psc,
    pubsub,
    recovery,
    secrets,
    segments,
    storage,
    vertex,
)

__all__ = [
    "armor",
    "cost",
    "detection",
    "dns",
    "gateway",
    "iam",
    "kms",
    "logging",
    "network",
    "orgpolicy",
    "psc",
    "pubsub",
    "recovery",
    "secrets",
    "segments",
    "storage",
    "vertex",
]
