"""Cloud KMS keys: rotation, destruction window, protection, HSM, grants, unused keys."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._core import NotApplicable, Requirements, Resource, resource_policy, stack_policy
from ._util import DAY, KEY_TYPE, KMS_IAM_TYPES, days_text, grants, last_segment, refers_to, seconds

#: Roles that let a principal use a key, not administer it.
KEY_USE_ROLES = frozenset(
    {
        "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        "roles/cloudkms.cryptoKeyEncrypter",
        "roles/cloudkms.cryptoKeyDecrypter",
        "roles/cloudkms.cryptoKeyEncrypterDecrypterViaDelegation",
        "roles/cloudkms.cryptoKeyEncrypterViaDelegation",
        "roles/cloudkms.cryptoKeyDecrypterViaDelegation",
    }
)

#: Cloud KMS keeps destroyed versions this long when a key names no duration.
DEFAULT_DESTROY_SECONDS = 30 * DAY

#: The ``key-purpose`` label of a key whose user is outside the stack: the Pulumi CLI
#: encrypting a stack's secrets (``gcpkms://`` secrets provider).
EXTERNAL_PURPOSE = "pulumi-secrets"

_HSM_LEVELS = ("HSM", "HSM_SINGLE_TENANT")


@resource_policy(
    id="GCP-KMS-001",
    title="Keys rotate automatically within the profile's period",
    severity="high",
    types=[KEY_TYPE],
    controls=["KEY-02"],
    remediation="Give every ENCRYPT_DECRYPT key a rotation_period of at most the profile's "
    "key_rotation_days (Keys(rotation_days=profile.key_rotation_days) does).",
)
def key_rotation(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Symmetric keys get a new primary version automatically at least every
    `key_rotation_days` days, so one key version protects a bounded amount of data."""
    purpose = resource.get("purpose", default="ENCRYPT_DECRYPT")
    if purpose != "ENCRYPT_DECRYPT":
        raise NotApplicable(f"{purpose} keys cannot rotate automatically in Cloud KMS")
    required = requirements.setting("key_rotation_days")
    period = seconds(resource.get("rotationPeriod"))
    if period is None:
        yield (
            f"{resource.name} never rotates (no rotation period); the profile requires "
            f"rotation every {required} days or less"
        )
    elif period > required * DAY:
        yield (
            f"{resource.name} rotates every {days_text(period)}; the profile requires "
            f"{required} days or less"
        )


@resource_policy(
    id="GCP-KMS-002",
    title="Destroyed key versions stay recoverable for the profile's window",
    severity="medium",
    types=[KEY_TYPE],
    controls=["KEY-03"],
    remediation="Set destroy_scheduled_duration to at least the profile's "
    "key_deletion_window_days (Keys(destroy_scheduled_days=...)), or leave Cloud KMS's "
    "30-day default.",
)
def key_destroy_window(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """A destroyed key version stays in DESTROY_SCHEDULED, and can be restored, for at
    least `key_deletion_window_days` days (Cloud KMS's default is 30)."""
    required = requirements.setting("key_deletion_window_days")
    window = seconds(resource.get("destroyScheduledDuration"))
    window = DEFAULT_DESTROY_SECONDS if window is None else window
    if window < required * DAY:
        yield (
            f"{resource.name} destroys versions after {days_text(window)}; the profile "
            f"requires {required} days"
        )


@resource_policy(
    id="GCP-KMS-003",
    title="Keys are guarded by Pulumi's protect option",
    severity="medium",
    types=[KEY_TYPE],
    controls=["KEY-03", "GOV-05"],
    remediation="Create keys with pulumi.ResourceOptions(protect=True) (Keys does unless "
    "protect=False); unprotect deliberately with `pulumi state unprotect` before deleting.",
)
def key_protected(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Deleting a key schedules the destruction of every version, and everything it
    encrypted becomes unreadable once the window passes: Pulumi must refuse to delete it
    without a deliberate step."""
    if not resource.protect:
        yield f"{resource.name} is not protected: `pulumi destroy` or a rename deletes it"


@resource_policy(
    id="GCP-KMS-004",
    title="Keys are HSM-backed when the profile asks for it",
    severity="high",
    types=[KEY_TYPE],
    controls=["KEY-05"],
    remediation="Set version_template.protection_level to HSM "
    "(Keys(protection_level='HSM')) for restricted data.",
)
def key_hsm(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Keys protecting restricted data are generated and used only inside hardware
    security modules (protection level HSM); software keys are the Cloud KMS default."""
    if not requirements.setting("hsm_keys"):
        raise NotApplicable("the profile does not ask for HSM-backed keys")
    level = resource.get("versionTemplate", "protectionLevel", default="SOFTWARE")
    if level not in _HSM_LEVELS:
        yield f"{resource.name} has protection level {level}; the profile requires HSM"


@resource_policy(
    id="GCP-KMS-005",
    title="Key grants allow only key use, per key, to service accounts",
    severity="high",
    types=KMS_IAM_TYPES,
    controls=["KEY-04"],
    remediation="Grant roles/cloudkms.cryptoKeyEncrypterDecrypter on each key "
    "(CryptoKeyIAMMember) to the service agents and workload service account that "
    "encrypt with it; keep key administration with the project's owners.",
)
def key_grants(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Key administration stays with the project's owners: grants on keys give only the
    encrypt/decrypt roles, only to service accounts (service agents and the workload),
    and per key rather than on a whole key ring."""
    if "/keyRing" in resource.type:
        yield (
            f"{resource.name} grants on a key ring, which covers every key in it; grant on "
            "each key instead"
        )
    for role, member in grants(resource):
        if role not in KEY_USE_ROLES:
            yield (
                f"{resource.name} grants {role} to {member}; only the encrypt/decrypt roles "
                "may be granted on keys"
            )
        elif not member.startswith("serviceAccount:"):
            yield (
                f"{resource.name} grants key use to {member}; only service agents and the "
                "workload service account may use keys"
            )


_KEY_REFERENCE = re.compile(r"(?:^|/)keyRings/([^/]+)/cryptoKeys/([^/]+)")


def _names_key(text: str, key: Resource) -> bool:
    match = _KEY_REFERENCE.search(text)
    if match is None:
        return False
    ring, name = match.groups()
    key_ring = key.get("keyRing")
    if isinstance(key_ring, str) and key_ring and last_segment(key_ring) != ring:
        return False
    return refers_to(name, key)


#: Where Google Cloud resources name the key they encrypt with: fields named after KMS
#: or the crypto key, inside encryption, replication and disk settings.
_KEY_FIELD = re.compile(r"kms|cryptokey", re.IGNORECASE)
_KEY_CONTAINER = re.compile(
    r"encrypt|cmek|replica|replication|usermanaged|^auto$|setup|disk", re.IGNORECASE
)


def _key_references(value: Any, unknown: list[Exception]) -> Iterator[str]:
    """Strings in ``value`` where a resource names a key (values unknown during preview
    are noted). Only those fields are read, so the offline preview's settings stay the
    security-relevant ones."""
    from pulumi_policy.proxy import UnknownValueError

    if isinstance(value, str):
        yield value
        return
    if isinstance(value, Mapping):
        keys = [k for k in value if _KEY_FIELD.search(str(k)) or _KEY_CONTAINER.search(str(k))]
    elif isinstance(value, Sequence):
        keys = list(range(len(value)))
    else:
        return
    for key in keys:
        try:
            item = value[key]
        except UnknownValueError as exc:
            unknown.append(exc)
            continue
        yield from _key_references(item, unknown)


@stack_policy(
    id="GCP-KMS-006",
    title="Every key is used by something",
    severity="low",
    controls=["KEY-01"],
    remediation="Point the store meant to use the key at it (a bucket's default KMS key, a "
    "log bucket's CMEK settings, a secret replica...), or delete the key. A key used "
    "outside the stack (a gcpkms:// secrets provider) carries the label "
    f"key-purpose={EXTERNAL_PURPOSE}.",
)
def keys_used(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """Each key encrypts something the stack creates (a field such as kmsKeyName names
    it): a key nothing references is a store that fell back to Google-managed
    encryption, or a key to delete. Grants on a key do not count as use. Keys labelled
    key-purpose=pulumi-secrets serve a Pulumi secrets provider outside the stack."""
    keys = [r for r in resources if r.type == KEY_TYPE]
    if not keys:
        raise NotApplicable("the stack creates no Cloud KMS key")
    unknown: list[Exception] = []
    texts = [
        text
        for r in resources
        if r.type != KEY_TYPE and r.type not in KMS_IAM_TYPES
        for text in _key_references(r.props, unknown)
        if "cryptoKeys/" in text
    ]
    for key in keys:
        if key.get("labels", "key-purpose") == EXTERNAL_PURPOSE:
            continue
        if any(_names_key(text, key) for text in texts):
            continue
        if unknown:
            raise unknown[0]  # a value not yet known may be the reference
        yield key, f"{key.name} encrypts nothing in this stack"
