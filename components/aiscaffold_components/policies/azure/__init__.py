"""Azure policies: one module per service; importing this package registers them.

==================  =====================================================================
module              what its policies verify
==================  =====================================================================
keyvault            private RBAC-only purge-protected vaults; key rotation, expiry,
                    strength, HSM and use; secret expiry
secrets             secret rotation by its mechanism (rotation function, or "reminder
                    only": expiry alerts to the action group)
storage             private Entra-only CMK storage, TLS, tenant boundary, SAS, versioning
                    and soft delete; immutable, expiring log accounts
cognitiveservices   private keyless CMK AI accounts with restricted outbound; deployments
                    bound to a blocking content filter (harm, prompt shields, protected
                    material, profanity, PII and denied-topic blocklists); residency
recovery            replicas of curated data and model artifacts in the recovery region,
                    keys there (REC-01)
network             security group rules, private subnets, no egress path, flow logs
privatelink         private endpoints and their private DNS
monitor             diagnostic settings, archived audit logs, activity log, workspace
authorization       role scope, allowed roles and principals; resource group locks
cost                the project's budget and its alerts, the anomaly alert, AI capacity
detection           Defender for Cloud plans and contact, tampering and misuse alarms
                    routed to the alert channel, its receivers, the SIEM's read access
gateway             the AI gateway (API-01..05): token validation on every operation,
                    request and token limits, WAF or internal mode, logs without
                    bodies, TLS 1.2+
==================  =====================================================================

Tags (AZURE-GOV-001) and residency (AZURE-GOV-002) live in ``policies/common.py``.
"""

from . import (
    authorization,
    cognitiveservices,
    cost,
    detection,
    gateway,
    keyvault,
    monitor,
    network,
    privatelink,
    recovery,
    secrets,
    storage,
)

__all__ = [
    "authorization",
    "cognitiveservices",
    "cost",
    "detection",
    "gateway",
    "keyvault",
    "monitor",
    "network",
    "privatelink",
    "recovery",
    "secrets",
    "storage",
]
