"""Key Vault secrets: rotation judged by its mechanism, told truthfully (SEC-03).

Key Vault rotates no generic secret, and a secret's expiry does not stop its value
from being read (``exp`` "is for informational purposes only",
https://learn.microsoft.com/azure/key-vault/secrets/about-secrets#secret-attributes).
What rotates a value is a function subscribed to the vault's
``Microsoft.KeyVault.SecretNearExpiry`` events that issues a new credential
(https://learn.microsoft.com/azure/key-vault/secrets/tutorial-rotation). Without one,
an expiry within the period plus an alert to the project's action group when it nears
is a reminder: the policy reports it "reminder only" (not applicable, never credited),
as AWS-SECRETS-004 does for Secrets Manager reminders.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .._core import REMINDER_ONLY, NotApplicable, Requirements, Resource, stack_policy
from ._util import SECRET, days, id_path, listed, name_of, of_type

SYSTEM_TOPIC = "azure-native:eventgrid:SystemTopic"
SUBSCRIPTION = "azure-native:eventgrid:SystemTopicEventSubscription"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
#: The topic type of a Key Vault's Event Grid system topic.
VAULT_TOPIC_TYPE = "microsoft.keyvault.vaults"
#: The event Key Vault sends 30 days before a secret's current version expires
#: (https://learn.microsoft.com/azure/event-grid/event-schema-key-vault).
NEAR_EXPIRY = "Microsoft.KeyVault.SecretNearExpiry"
#: Destinations that run code on the event: a rotation function.
ROTATING_ENDPOINTS = frozenset({"azurefunction", "webhook"})

_DAY_SECONDS = 86400


def _expiry_findings(secret: Resource, required: int) -> list[str]:
    """What keeps the secret from expiring within the period after its value was set."""
    attributes = ("properties", "attributes")
    expires = secret.get(*attributes, "expires")
    not_before = secret.get(*attributes, "notBefore")
    if expires is None:
        return [f"{secret.name} never expires: no reminder ever comes"]
    if not_before is None:
        return [f"{secret.name} has no notBefore: its validity cannot be checked"]
    valid = (float(expires) - float(not_before)) / _DAY_SECONDS
    if valid > required:
        return [f"{secret.name} stays valid {days(valid)}; the profile allows {days(required)}"]
    return []


def _vault_of_topic(topic: Resource) -> str:
    source = topic.get("source")
    path = id_path(source) if isinstance(source, str) else ()
    return path[-1][1] if path and path[-1][0] == "vaults" else ""


def _topic_name(topic: Resource) -> str:
    name = topic.get("systemTopicName") or topic.get("name")
    return str(name).lower() if name else ""


def _subscribed_topic(subscription: Resource) -> str:
    """The system topic a subscription belongs to: its input, or, in the engine's
    outputs (which carry no URL parameters), its id
    (``.../systemTopics/<topic>/eventSubscriptions/<name>``)."""
    name = subscription.get("systemTopicName")
    if isinstance(name, str) and name:
        return name.lower()
    resource_id = subscription.get("id")
    if isinstance(resource_id, str):
        for collection, value in id_path(resource_id):
            if collection == "systemtopics":
                return value
    return ""


def _delivers_near_expiry(subscription: Resource) -> bool:
    """Whether the subscription's filter lets SecretNearExpiry through for every secret
    (no type list means every type; a subject or advanced filter may drop secrets)."""
    types = [str(t).lower() for t in listed(subscription.get("filter", "includedEventTypes"))]
    if types and NEAR_EXPIRY.lower() not in types:
        return False
    narrowing: list[Any] = [
        subscription.get("filter", "subjectBeginsWith"),
        subscription.get("filter", "subjectEndsWith"),
        *listed(subscription.get("filter", "advancedFilters")),
    ]
    return not any(narrowing)


def _group_names(resources: Sequence[Resource]) -> dict[str, Resource]:
    out = {}
    for group in of_type(resources, ACTION_GROUP):
        name = group.get("actionGroupName") or group.get("name")
        if name:
            out[str(name).lower()] = group
    return out


def _alerts_a_group(subscription: Resource, groups: dict[str, Resource]) -> bool:
    """Whether the subscription raises Azure Monitor alerts on an enabled action group
    of this stack (the project's alert channel)."""
    if str(subscription.get("destination", "endpointType", default="")).lower() != "monitoralert":
        return False
    for ref in listed(subscription.get("destination", "actionGroups")):
        path = id_path(ref) if isinstance(ref, str) else ()
        group = groups.get(path[-1][1]) if path and path[-1][0] == "actiongroups" else None
        if group is not None and group.get("enabled", default=True) is not False:
            return True
    return False


def _rotates(subscription: Resource) -> bool:
    endpoint = str(subscription.get("destination", "endpointType", default="")).lower()
    return endpoint in ROTATING_ENDPOINTS


@stack_policy(
    id="AZURE-SECRETS-001",
    title="Secrets are rotated before they expire, or their owners are told",
    severity="medium",
    controls=["SEC-03"],
    remediation="Give every secret an expiry at most secret_rotation_days after its value "
    "was set (Secrets(expiry_days=...)) and subscribe a rotation function to the vault's "
    "Microsoft.KeyVault.SecretNearExpiry events (stack config secret_rotation_function_id, "
    "SecretsArgs.rotation_function_id). Until then keep the expiry alerts to the project's "
    "action group (SecretsArgs.expiry_action_group_id): reported 'reminder only'.",
)
def rotation(
    resources: Sequence[Resource], requirements: Requirements
) -> Iterator[tuple[Resource | None, str]]:
    """A leaked value stops working: every secret expires at most `secret_rotation_days`
    after its value was set, and its vault's Event Grid system topic has a subscription
    receiving ``SecretNearExpiry`` that runs a rotation function (Azure Function or
    webhook). A vault whose near-expiry events only raise Azure Monitor alerts on an
    enabled action group of the stack is not judged ("reminder only": Key Vault serves
    an expired value, so nothing stops it working). A vault whose secrets' expiry tells
    nobody, or a secret without an expiry within the period, is a violation."""
    required = int(requirements.setting("secret_rotation_days"))
    secrets = of_type(resources, SECRET)
    if not secrets:
        raise NotApplicable("the stack has no Key Vault secrets")
    found: list[tuple[Resource | None, str]] = []
    for secret in secrets:
        found += [(secret, message) for message in _expiry_findings(secret, required)]
    topics = [
        t
        for t in of_type(resources, SYSTEM_TOPIC)
        if str(t.get("topicType", default="")).lower() == VAULT_TOPIC_TYPE
    ]
    subscriptions = of_type(resources, SUBSCRIPTION)
    groups = _group_names(resources)
    reminder_only: list[str] = []
    vaults = sorted({name_of(s, "vaultName") for s in secrets})
    for vault in vaults:
        names = {_topic_name(t) for t in topics if _vault_of_topic(t) == vault} - {""}
        mine = [
            s for s in subscriptions if _subscribed_topic(s) in names and _delivers_near_expiry(s)
        ]
        if any(_rotates(s) for s in mine):
            continue
        if any(_alerts_a_group(s, groups) for s in mine):
            reminder_only.append(vault)
            continue
        first = next(s for s in secrets if name_of(s, "vaultName") == vault)
        found.append(
            (
                first,
                f"the secrets of vault {vault} are neither rotated (no rotation function on "
                f"its {NEAR_EXPIRY} events) nor reminded (no alert to an action group)",
            )
        )
    if found:
        yield from found
        return
    if reminder_only:
        raise NotApplicable(
            f"{REMINDER_ONLY}: the secrets of {', '.join(reminder_only)} have no rotation "
            f"function; they expire within {required} days and an alert goes to the "
            "action group 30 days before, but nothing changes the values"
        )
