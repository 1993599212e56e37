"""Secret Manager: CMEK replicas in allowed regions, rotation, access for the workload only.

Rotation (SEC-03) is judged by its mechanism: Secret Manager only sends ``SECRET_ROTATE``
notices, "You must configure a Pub/Sub subscriber to receive and act on the
SECRET_ROTATE messages" (https://cloud.google.com/secret-manager/docs/secret-rotation).
A push subscription to the team's rotation service is that subscriber; notices that
only reach the owners are a reminder ("reminder only", never credited), as
AWS-SECRETS-004 and AZURE-SECRETS-001 report theirs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .._core import (
    REMINDER_ONLY,
    NotApplicable,
    Requirements,
    Resource,
    resource_policy,
    stack_policy,
)
from ._util import (
    DAY,
    SECRET_IAM_TYPES,
    days_text,
    grants,
    last_segment,
    of_type,
    seconds,
    some,
)

if TYPE_CHECKING:
    from pulumi_policy.proxy import UnknownValueError

SECRET = "gcp:secretmanager/secret:Secret"  # noqa: S105 - a type token
REGIONAL_SECRET = "gcp:secretmanager/regionalSecret:RegionalSecret"  # noqa: S105
SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
ACCESSOR_ROLES = frozenset({"roles/secretmanager.secretAccessor"})
#: The filter Secrets puts on its push subscription: rotation notices only (Secret
#: Manager sets each message's ``eventType`` attribute,
#: https://cloud.google.com/secret-manager/docs/event-notifications).
ROTATE_FILTER = 'attributes.eventType = "SECRET_ROTATE"'
#: Seconds a subscription may be idle before Pub/Sub deletes it, when its expiration
#: policy is unset (31 days, pubsub v1 Subscription.expirationPolicy).
DEFAULT_SUBSCRIPTION_TTL = 31 * DAY
_How = Literal["expires", "pushed", "unpushed"]
#: The project's alert channel is the Pub/Sub topic ``<prefix>-alerts``
#: (:class:`~aiscaffold_components.gcp.AlertChannel`: a fixed name the
#: detection-and-response family adopts); a reminder is a notice reaching it.
ALERT_TOPIC_SUFFIX = "-alerts"
#: The shortest rotation period: "Must be in seconds and at least 3600s (1h)"
#: (https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets#rotation).
MIN_ROTATION_PERIOD = 3600


def _replicas(resource: Resource) -> list[tuple[str | None, object]]:
    """(location, kms key) of each replica; location None for automatic replication."""
    if resource.type == REGIONAL_SECRET:
        return [
            (
                str(resource.get("location", default="")) or None,
                resource.get("customerManagedEncryption", "kmsKeyName"),
            )
        ]
    user = resource.items("replication", "userManaged", "replicas")
    if user:
        return [
            (str(r.get("location")), (r.get("customerManagedEncryption") or {}).get("kmsKeyName"))
            for r in user
        ]
    auto = resource.get("replication", "auto")
    if auto is not None:
        return [
            (None, resource.get("replication", "auto", "customerManagedEncryption", "kmsKeyName"))
        ]
    return []


@resource_policy(
    id="GCP-SECRETS-001",
    title="Every secret replica is encrypted with the secrets key",
    severity="high",
    types=[SECRET, REGIONAL_SECRET],
    controls=["SEC-01", "KEY-01"],
    remediation="Give each replica customer_managed_encryption with the secrets key of its "
    "region (Secrets does).",
)
def secret_cmek(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Secret payloads are encrypted with the project's secrets key in every replica,
    not with a Google-managed key."""
    replicas = _replicas(resource)
    if not replicas:
        yield f"{resource.name} has no replication configured"
    for location, key in replicas:
        if not key:
            where = f"replica in {location}" if location else "automatic replication"
            yield f"{resource.name} {where} has no customer-managed key"


@resource_policy(
    id="GCP-SECRETS-002",
    title="Secret replicas stay in the allowed regions",
    severity="high",
    types=[SECRET, REGIONAL_SECRET],
    controls=["GOV-02"],
    remediation="Use user-managed replication with replicas only in the allowed regions "
    "(Secrets(replicas=..., allowed_regions=profile.allowed_regions)).",
)
def secret_residency(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Secrets are replicated only to regions the compliance answers allow; automatic
    replication lets Google choose, so it is refused."""
    allowed = set(requirements.setting("allowed_regions"))
    for location, _ in _replicas(resource):
        if location is None:
            yield f"{resource.name} is replicated automatically, to regions Google chooses"
        elif location not in allowed:
            yield f"{resource.name} has a replica in {location}, outside the allowed regions"


def _secret_findings(secret: Resource, required: int) -> list[str] | None:
    """What keeps ``secret`` from rotating (or expiring) within ``required`` days; None
    when it expires within them (a real mechanism: Secret Manager deletes it)."""
    ttl = seconds(secret.get("ttl"))
    if ttl is not None and ttl <= required * DAY:
        return None
    period = seconds(secret.get("rotation", "rotationPeriod"))
    if period is None:
        return [f"{secret.name} neither rotates nor expires; the profile requires {required} days"]
    out = []
    if period < MIN_ROTATION_PERIOD:
        out.append(
            f"{secret.name} rotates every {period:g}s; Secret Manager takes at least "
            f"{MIN_ROTATION_PERIOD}s"
        )
    if period > required * DAY:
        out.append(
            f"{secret.name} rotates every {days_text(period)}; the profile requires {required} days"
        )
    if not secret.get("rotation", "nextRotationTime"):
        out.append(f"{secret.name} has a rotation period but no next rotation time")
    if not secret.items("topics"):
        out.append(f"{secret.name} sends its rotation notices to no topic")
    return out


def _same_topic(a: Any, b: Any) -> bool:
    """Whether two topic references (``projects/<p>/topics/<t>`` or a bare ``<t>`` in the
    subscription's project) name the same topic."""
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        return False
    if a == b:
        return True
    return ("/" not in a or "/" not in b) and last_segment(a) == last_segment(b)


def _subscribed_to(subscription: Resource, topic: Any) -> bool:
    return _same_topic(subscription.get("topic"), topic)


def _push_findings(subscription: Resource, period: float) -> list[str] | None:
    """What keeps a subscription from delivering each SECRET_ROTATE notice to a rotation
    service; None when it is no push subscription (a pull subscriber may act on the
    notices or not: nothing here says). Pub/Sub pushes only to "A publicly accessible
    HTTPS address" (https://cloud.google.com/pubsub/docs/create-push-subscription)."""
    if not subscription.get("pushConfig"):
        return None
    endpoint = subscription.get("pushConfig", "pushEndpoint")
    if not isinstance(endpoint, str) or not endpoint.lower().startswith("https://"):
        return [f"{subscription.name} pushes to {endpoint or 'no endpoint'}, not an HTTPS URL"]
    notices = subscription.get("filter", default="")
    if notices and " ".join(str(notices).split()) != ROTATE_FILTER:
        return [f"{subscription.name} may filter out the SECRET_ROTATE notices ({notices})"]
    return _expiry_findings(subscription, period)


def _is_alert_channel(topic: Any) -> bool:
    """Whether a topic reference names the project's alert channel (``<prefix>-alerts``)."""
    if not isinstance(topic, str) or not topic:
        return False
    name = last_segment(topic)
    return name == ALERT_TOPIC_SUFFIX[1:] or name.endswith(ALERT_TOPIC_SUFFIX)


def _reminds(secret: Resource) -> bool:
    """Whether the secret's rotation notices reach the alert channel, which tells the
    owners (nothing else in the stack does without a rotation service)."""
    return any(_is_alert_channel(t.get("name")) for t in secret.items("topics"))


def _is_rotation_service(subscription: Resource) -> bool:
    """A push of rotation notices alone (Secrets' filter): the stack's rotation service,
    whichever topic it is on."""
    if not subscription.get("pushConfig"):
        return False
    notices = subscription.get("filter", default="")
    return " ".join(str(notices).split()) == ROTATE_FILTER


def _expiry_findings(subscription: Resource, period: float) -> list[str]:
    """A push subscription Pub/Sub deletes between two notices rotates nothing: idle for
    its ``expirationPolicy.ttl`` (31 days when unset: "If expiration_policy is not set, a
    default policy with ttl of 31 days will be used", pubsub v1
    Subscription.expirationPolicy; ``""`` never) it is gone."""
    ttl_text = subscription.get("expirationPolicy", "ttl", default=None)
    if subscription.get("expirationPolicy") is not None and not ttl_text:
        return []  # set without a ttl: never expires
    ttl = seconds(ttl_text) if ttl_text else DEFAULT_SUBSCRIPTION_TTL
    if ttl is not None and ttl > period:
        return []
    return [
        f"{subscription.name} expires after {days_text(ttl or 0)} without a delivery, before "
        f'the next rotation notice ({days_text(period)}): set expiration_policy ttl ""'
    ]


@stack_policy(
    id="GCP-SECRETS-003",
    title="Secrets rotate or expire within the profile's period",
    severity="medium",
    controls=["SEC-03"],
    remediation="Set rotation.rotation_period (at most the profile's secret_rotation_days) "
    "with next_rotation_time and a rotation topic (Secrets(rotation_days=...)), and give the "
    "stack a rotation service (stack config secret_rotation_push_endpoint and "
    "secret_rotation_push_service_account, SecretsArgs.rotation_push_endpoint): a push "
    "subscription delivers each SECRET_ROTATE notice to it. Notices that only reach the "
    "alert channel (AlertChannel's <prefix>-alerts topic, in SecretsArgs.notify_topics) are "
    "reported 'reminder only'. Or let the secret expire (ttl) within the period.",
)
def secret_rotation(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A leaked value stops working: every secret expires (``ttl``) within
    `secret_rotation_days`, or Secret Manager sends ``SECRET_ROTATE`` notices at least
    that often (rotation period and next rotation time) to its topics, and a push
    subscription on one of them delivers the notices to an HTTPS rotation service. A
    push that cannot deliver them (no HTTPS endpoint, a filter dropping them, deleted by
    Pub/Sub as idle before the next notice) is a violation, and so is a secret left out
    of the stack's rotation service. Secret Manager itself changes no value
    (https://cloud.google.com/secret-manager/docs/secret-rotation): in a stack without a
    rotation service, a schedule whose notices reach the project's alert channel (the
    topic ``<prefix>-alerts``) is not judged ("reminder only", never credited); one
    whose notices reach no alert channel reminds nobody, a violation."""
    from pulumi_policy.proxy import UnknownValueError

    required = int(requirements.setting("secret_rotation_days"))
    secrets = of_type(resources, SECRET, REGIONAL_SECRET)
    if not secrets:
        raise NotApplicable("the stack has no Secret Manager secrets")
    subscriptions = of_type(resources, SUBSCRIPTION)
    found: list[tuple[Resource | None, str]] = []
    unpushed: list[Resource] = []
    rotation_service = False
    pending: UnknownValueError | None = None
    for secret in secrets:
        try:
            findings, how = _judge(secret, subscriptions, required)
        except UnknownValueError as error:
            # A known violation of another secret still decides, whatever the order.
            pending = _first(pending, error)
            continue
        found += findings
        rotation_service = rotation_service or how == "pushed"
        if not findings and how == "unpushed":
            unpushed.append(secret)
    if unpushed and not rotation_service:
        rotation_service = some(subscriptions, _is_rotation_service)
    if rotation_service:
        # The stack has a rotation service: a secret whose notices do not reach it is
        # left out of it, not merely reminded.
        found += [
            (
                s,
                f"{s.name} sends its rotation notices to no topic the rotation service is "
                "pushed from",
            )
            for s in unpushed
        ]
        unpushed = []
    else:
        # Without a rotation service the notices are a reminder only if they reach the
        # owners: a schedule whose notices reach no alert channel reminds nobody.
        found += [
            (
                s,
                f"{s.name} sends its rotation notices to no alert channel (a topic named "
                f"<prefix>{ALERT_TOPIC_SUFFIX}, AlertChannel) and no rotation service "
                "receives them: nobody is told",
            )
            for s in unpushed
            if not _reminds(s)
        ]
        unpushed = [s for s in unpushed if _reminds(s)]
    if found:
        yield from found
        return
    if pending is not None:
        raise pending
    if unpushed:
        raise NotApplicable(
            f"{REMINDER_ONLY}: no rotation service receives the SECRET_ROTATE notices of "
            f"{', '.join(s.name for s in unpushed)} (stack config "
            f"secret_rotation_push_endpoint); they remind the owners every {required} days "
            "or sooner, and nothing rotates the values"
        )


def _first(pending: UnknownValueError | None, error: UnknownValueError) -> UnknownValueError:
    # The same unknown is reported whichever secret or subscription comes first.
    return error if pending is None or error.message < pending.message else pending


def _judge(
    secret: Resource, subscriptions: Sequence[Resource], required: int
) -> tuple[list[tuple[Resource | None, str]], _How]:
    """The findings on one secret, and how its value stops working: it ``expires``
    within the period, or its notices are ``pushed`` (a push subscription on its topics,
    working or not), or ``unpushed`` (nothing known acts on them: the caller decides). Raises UnknownValueError when a value it needs is
    unknown and no known one decides.
    """
    from pulumi_policy.proxy import UnknownValueError

    problems = _secret_findings(secret, required)
    if problems is None:
        return [], "expires"
    if problems:
        return [(secret, message) for message in problems], "unpushed"
    topics = [t.get("name") for t in secret.items("topics")]
    period = seconds(secret.get("rotation", "rotationPeriod")) or 0.0
    pushes: list[tuple[Resource, list[str]]] = []
    pending: UnknownValueError | None = None
    for subscription in subscriptions:
        try:
            # The topic first: nothing else is read of a subscription of another topic.
            if not some(topics, functools.partial(_subscribed_to, subscription)):
                continue
            found = _push_findings(subscription, period)
        except UnknownValueError as error:
            pending = _first(pending, error)
            continue
        if found is not None:
            pushes.append((subscription, found))
    if any(not found for _, found in pushes):
        return [], "pushed"  # a working push: the notices rotate the value
    if pending is not None:
        raise pending
    return [(s, m) for s, found in pushes for m in found], "pushed" if pushes else "unpushed"


@resource_policy(
    id="GCP-SECRETS-004",
    title="Only service accounts may read secrets",
    severity="high",
    types=SECRET_IAM_TYPES,
    controls=["SEC-02"],
    remediation="Grant roles/secretmanager.secretAccessor on the secret to the workload's "
    "service account only.",
)
def secret_access(resource: Resource, requirements: Requirements) -> Iterator[str]:
    """Grants on a secret give read access (secretAccessor) to service accounts only:
    no administration or version management, no users or groups."""
    for role, member in grants(resource):
        if role not in ACCESSOR_ROLES:
            yield f"{resource.name} grants {role} to {member}; only secretAccessor is granted on secrets"
        elif not member.startswith("serviceAccount:"):
            yield f"{resource.name} lets {member} read the secret; only the workload's service account may"
