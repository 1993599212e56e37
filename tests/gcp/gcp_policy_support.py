"""Helpers of the GCP policy tests: resources as the engine gives them, and verdicts."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from aiscaffold.check import CheckReport, evaluate
from aiscaffold.testing import CapturedResource, MockRun
from aiscaffold_components.policies import Override, Requirements, registry

PROJECT = "mock-project"
REGION = "us-central1"
RING = f"projects/{PROJECT}/locations/{REGION}/keyRings/ring"
KEY = f"{RING}/cryptoKeys/data"
WORKLOAD = f"serviceAccount:workload@{PROJECT}.iam.gserviceaccount.com"
AGENT = "serviceAccount:service-123456789012@gs-project-accounts.iam.gserviceaccount.com"
VERTEX_AGENT = "serviceAccount:service-123456789012@gcp-sa-aiplatform.iam.gserviceaccount.com"
NETWORK_ID = f"projects/{PROJECT}/global/networks/net"
LABELS = {
    "project": "p",
    "stack": "dev",
    "data-classification": "confidential",
    "managed-by": "aiscaffold",
    "compliance": "none",
}
DROP = object()
"""Value of :func:`patch` that removes the key."""


def res(
    type_: str, name: str, inputs: Mapping[str, Any] | None = None, *, protect: bool = False
) -> CapturedResource:
    """A custom resource with its engine inputs (camelCase)."""
    return CapturedResource(
        type=type_,
        name=name,
        urn=f"urn:pulumi:dev::p::{type_}::{name}",
        parent=None,
        custom=True,
        inputs=copy.deepcopy(dict(inputs or {})),
        outputs={},
        protect=protect,
    )


def patch(inputs: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``inputs`` with dotted paths set (or removed with :data:`DROP`).

    A numeric path segment indexes a list.
    """
    out: dict[str, Any] = copy.deepcopy(dict(inputs))
    for dotted, value in changes.items():
        keys: list[str | int] = [int(k) if k.isdigit() else k for k in dotted.split(".")]
        parent: Any = out
        for key in keys[:-1]:
            parent = parent[key] if isinstance(key, int) else parent.setdefault(key, {})
        last = keys[-1]
        if value is DROP:
            parent.pop(last, None) if isinstance(last, str) else parent.pop(last)
        else:
            parent[last] = copy.deepcopy(value)
    return out


def reqs(**overrides: Any) -> Requirements:
    """Requirements of a GCP project (confidential data, no framework by default)."""
    values: dict[str, Any] = {
        "cloud": "gcp",
        "data_sensitivity": "confidential",
        "compliance": [],
        "ai_service": "vertex-ai",
    }
    values.update(overrides)
    return Requirements.model_validate(values)


def report(
    resources: Sequence[CapturedResource], requirements: Requirements | None = None
) -> CheckReport:
    run = MockRun(project="p", stack="dev", config={"gcp:region": REGION, "gcp:project": PROJECT})
    run.resources = list(resources)
    return evaluate(run, requirements or reqs())


def flagged(
    policy: str,
    resources: Sequence[CapturedResource],
    requirements: Requirements | None = None,
) -> set[str]:
    """Names of the resources ``policy`` finds in violation (``(stack)`` for the stack)."""
    return {f.resource for f in report(resources, requirements).violations if f.policy == policy}


def messages(
    policy: str,
    resources: Sequence[CapturedResource],
    requirements: Requirements | None = None,
) -> list[str]:
    return [f.message for f in report(resources, requirements).violations if f.policy == policy]


def unknown(
    policy: str,
    resources: Sequence[CapturedResource],
    requirements: Requirements | None = None,
) -> set[str]:
    """Names of the resources on which ``policy`` met a value unknown during preview."""
    result = report(resources, requirements)
    assert not [f for f in result.violations if f.policy == policy]
    return {f.resource for f in result.unknown if f.policy == policy}


# ------------------------------------------------- compliant inputs, as the components set them
KEY_INPUTS: dict[str, Any] = {
    "keyRing": RING,
    "purpose": "ENCRYPT_DECRYPT",
    "rotationPeriod": f"{90 * 86400}s",
    "destroyScheduledDuration": f"{30 * 86400}s",
    "versionTemplate": {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "HSM"},
    "labels": {**LABELS, "key-purpose": "data"},
}

BUCKET_INPUTS: dict[str, Any] = {
    "location": REGION,
    "project": PROJECT,
    "storageClass": "STANDARD",
    "uniformBucketLevelAccess": True,
    "publicAccessPrevention": "enforced",
    "encryption": {
        "defaultKmsKeyName": KEY,
        "googleManagedEncryptionEnforcementConfig": {"restrictionMode": "FullyRestricted"},
        "customerSuppliedEncryptionEnforcementConfig": {"restrictionMode": "FullyRestricted"},
    },
    "versioning": {"enabled": True},
    "softDeletePolicy": {"retentionDurationSeconds": 30.0 * 86400},
    "forceDestroy": False,
    "labels": LABELS,
}


def archive_inputs(days: int = 365, locked: bool = False) -> dict[str, Any]:
    """A log archive bucket: retention instead of versioning, deletion after it."""
    return patch(
        BUCKET_INPUTS,
        {
            "versioning": {"enabled": False},
            "retentionPolicy": {"retentionPeriod": str(days * 86400), "isLocked": locked},
            "lifecycleRules": [{"action": {"type": "Delete"}, "condition": {"age": float(days)}}],
        },
    )


AUDIT_INPUTS: dict[str, Any] = {
    "project": PROJECT,
    "service": "storage.googleapis.com",
    "auditLogConfigs": [{"logType": t} for t in ("ADMIN_READ", "DATA_READ", "DATA_WRITE")],
}


def audit(service: str, name: str | None = None, **changes: Any) -> CapturedResource:
    inputs = patch(AUDIT_INPUTS, {"service": service, **changes})
    return res(
        "gcp:projects/iAMAuditConfig:IAMAuditConfig",
        name or f"audit-{service.split('.')[0]}",
        inputs,
    )


def member(type_: str, name: str, role: str, who: str, **inputs: Any) -> CapturedResource:
    return res(type_, name, {"role": role, "member": who, **inputs})


def policy_data(role: str, *members: str) -> str:
    """The ``policyData`` of an authoritative IAM policy resource."""
    return json.dumps({"bindings": [{"role": role, "members": list(members)}]})


# ------------------------------------------- one policy on a generated project's resources
def only(requirements: Requirements, policy: str) -> Requirements:
    """``requirements`` with every other GCP policy disabled, through the project's own
    override mechanism, so a report holds the verdicts of ``policy`` alone."""
    overrides = dict(requirements.overrides)
    for other in registry("gcp"):
        if other.id != policy:
            overrides[other.id] = Override(level="disabled", reason="one policy at a time")
    return requirements.model_copy(update={"overrides": overrides})


def derived(run: MockRun, name: str, new_name: str, changes: Mapping[str, Any]) -> CapturedResource:
    """A renamed copy of the run's resource ``name`` (same type, parent and options)
    with ``changes`` patched into its inputs: a resource a user adds beside a component's."""
    original = next(r for r in run.resources if r.name == name)
    return dataclasses.replace(
        original,
        name=new_name,
        urn=original.urn.rsplit("::", 1)[0] + f"::{new_name}",
        inputs=patch(original.inputs, changes),
    )


def patched(
    run: MockRun,
    patches: Mapping[str, Mapping[str, Any]],
    add: Sequence[CapturedResource] = (),
) -> MockRun:
    """A copy of ``run`` with ``add`` appended and the inputs of the resources named in
    ``patches`` changed (dotted paths, as :func:`patch`); the run itself is untouched."""
    resources = [*run.resources, *add]
    missing = set(patches) - {r.name for r in resources}
    assert not missing, f"no such resources: {sorted(missing)}"
    return MockRun(
        run.project,
        run.stack,
        run.config,
        [
            dataclasses.replace(r, inputs=patch(r.inputs, patches[r.name]))
            if r.name in patches
            else r
            for r in resources
        ],
        run.warnings,
        run.outputs,
    )
