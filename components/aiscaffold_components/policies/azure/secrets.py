"""Key Vault secrets: rotation judged by its mechanism, told truthfully (SEC-03).

Key Vault rotates no generic secret, and a secret's expiry does not stop its value
from being read (``exp`` "is for informational purposes only",
https://learn.microsoft.com/azure/key-vault/secrets/about-secrets#secret-attributes).
What rotates a value is a function subscribed to the vault's
``Microsoft.KeyVault.SecretNearExpiry`` events that issues a new credential
(https://learn.microsoft.com/azure/key-vault/secrets/tutorial-rotation). Without one,
an expiry within the period plus an alert to the project's action group when it nears
is a reminder: the policy reports it "reminder only" (not applicable, never credited),
as AWS-SECRETS-004 does for Secrets Manager reminders. A broken reminder (an alert that
leaves out SecretNearExpiry or SecretExpired, is on no Key Vault topic of the stack, or
tells no enabled action group of it) is a violation, also when the vault's secrets are
set outside the stack.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .._core import REMINDER_ONLY, NotApplicable, Requirements, Resource, stack_policy
from ._util import SECRET, SYSTEM_TOPIC, days, id_path, listed, name_of, of_type

SUBSCRIPTION = "azure-native:eventgrid:SystemTopicEventSubscription"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
#: The topic type of a Key Vault's Event Grid system topic.
VAULT_TOPIC_TYPE = "microsoft.keyvault.vaults"
#: The event Key Vault sends 30 days before a secret's current version expires
#: (https://learn.microsoft.com/azure/event-grid/event-schema-key-vault).
NEAR_EXPIRY = "Microsoft.KeyVault.SecretNearExpiry"
#: The events an expiry reminder alerts on: 30 days before, and when the value expires.
EXPIRY_EVENTS = (NEAR_EXPIRY, "Microsoft.KeyVault.SecretExpired")
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


def _event_types(subscription: Resource) -> list[str] | None:
    """The event types a subscription's filter lets through, lowercased; None for every
    type (no list: "If it is desired to subscribe to all default event types, set the
    IncludedEventTypes to null", Event Grid EventSubscriptionFilter)."""
    types = [str(t).lower() for t in listed(subscription.get("filter", "includedEventTypes"))]
    return types or None


def _narrowed(subscription: Resource) -> bool:
    """Whether a subject or advanced filter may drop some secrets' events."""
    narrowing: list[Any] = [
        subscription.get("filter", "subjectBeginsWith"),
        subscription.get("filter", "subjectEndsWith"),
        *listed(subscription.get("filter", "advancedFilters")),
    ]
    return any(narrowing)


def _delivers(subscription: Resource, *events: str) -> bool:
    """Whether the subscription's filter lets every one of ``events`` through for every
    secret."""
    types = _event_types(subscription)
    if types is not None and not all(e.lower() in types for e in events):
        return False
    return not _narrowed(subscription)


def _is_expiry_route(subscription: Resource) -> bool:
    """A subscription meant to act on secret expiry: its filter names an expiry event
    (the rotation function's, the alert's), or takes every event type. Others on the
    vault's topic (a webhook on SecretNewVersionCreated reloading the application's
    settings, key expiry alerts) are not judged here."""
    types = _event_types(subscription)
    return types is None or bool({t.lower() for t in EXPIRY_EVENTS} & set(types))


def _route_problem(subscription: Resource, groups: dict[str, Resource]) -> str | None:
    """Why an expiry route on the vault's topic neither rotates nor reminds (None: it
    does one of them, or it goes to a destination judged by neither)."""
    if _rotates(subscription):
        if _delivers(subscription, NEAR_EXPIRY):
            return None
        return (
            f"{subscription.name} calls its rotation function without {NEAR_EXPIRY} "
            "for every secret"
        )
    if str(subscription.get("destination", "endpointType", default="")).lower() != "monitoralert":
        return None
    if not _delivers(subscription, *EXPIRY_EVENTS):
        return (
            f"{subscription.name} does not alert on both {' and '.join(EXPIRY_EVENTS)} "
            "for every secret: the owners are not told before and when a value expires"
        )
    if not _alerts_a_group(subscription, groups):
        return f"{subscription.name} alerts no enabled action group of this stack: nobody is told"
    return None


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
    webhook). A vault whose ``SecretNearExpiry`` and ``SecretExpired`` events only raise
    Azure Monitor alerts on an enabled action group of the stack is not judged
    ("reminder only": Key Vault serves an expired value, so nothing stops it working).
    A vault whose secrets' expiry tells nobody, or a secret without an expiry within
    the period, is a violation. So is a broken reminder, also on a vault whose secrets
    are set outside the stack: an expiry route on no Key Vault topic of the stack, or
    one whose filter drops an expiry event or whose action group is not the stack's."""
    required = int(requirements.setting("secret_rotation_days"))
    secrets = of_type(resources, SECRET)
    found: list[tuple[Resource | None, str]] = []
    for secret in secrets:
        found += [(secret, message) for message in _expiry_findings(secret, required)]
    topics = [
        t
        for t in of_type(resources, SYSTEM_TOPIC)
        if str(t.get("topicType", default="")).lower() == VAULT_TOPIC_TYPE
    ]
    # A topic whose source names no vault carries no vault's events.
    vault_of_topic = {_topic_name(t): _vault_of_topic(t) for t in topics}
    vault_of_topic = {name: vault for name, vault in vault_of_topic.items() if name and vault}
    groups = _group_names(resources)
    routes: dict[str, list[Resource]] = {}
    for subscription in of_type(resources, SUBSCRIPTION):
        if not _is_expiry_route(subscription):
            continue
        vault = vault_of_topic.get(_subscribed_topic(subscription))
        if vault is None:
            # Expiry events on no Key Vault system topic of the stack: no vault's events
            # reach it (pointed at another topic, or the topic watches no vault).
            found.append(
                (
                    subscription,
                    f"{subscription.name} routes Key Vault expiry events but is on no Key "
                    "Vault system topic of this stack: it receives none",
                )
            )
            continue
        routes.setdefault(vault, []).append(subscription)
    reminder_only: list[str] = []
    # The vaults of the stack's secrets, and those whose expiry routes the stack sets up
    # (a vault may hold secrets set outside the stack: a route set up must work).
    for vault in sorted({name_of(s, "vaultName") for s in secrets} | set(routes)):
        mine = routes.get(vault, [])
        problems = [(s, _route_problem(s, groups)) for s in mine]
        working = [s for s, problem in problems if problem is None]
        if any(_rotates(s) for s in working):
            continue
        if any(_alerts_a_group(s, groups) for s in working):
            reminder_only.append(vault)
            continue
        why = "; ".join(problem for _, problem in problems if problem) or (
            f"no rotation function on its {NEAR_EXPIRY} events, no alert to an action group"
        )
        first = next((s for s in secrets if name_of(s, "vaultName") == vault), None)
        found.append(
            (
                first or mine[0],
                f"the secrets of vault {vault} are neither rotated nor reminded ({why})",
            )
        )
    if found:
        yield from found
        return
    if not secrets:
        alerts = " (the expiry alerts it sets up work)" if routes else ""
        raise NotApplicable(f"the stack has no Key Vault secrets{alerts}")
    if reminder_only:
        raise NotApplicable(
            f"{REMINDER_ONLY}: the secrets of {', '.join(reminder_only)} have no rotation "
            f"function; they expire within {required} days and an alert goes to the "
            "action group 30 days before, but nothing changes the values"
        )
