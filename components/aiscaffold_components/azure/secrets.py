"""Secrets: application settings kept as Key Vault secrets.

Values come from Pulumi config secrets (``config.require_secret``), never literals: a
plain ``str`` value is refused, and every value is stored as a Pulumi secret (SEC-01).
Each secret has a content type and expires ``expiry_days`` after the date its value
was set (``rotated_on``), so the expiry moves only when the value does (SEC-03).

What "rotation" means here, told truthfully: Key Vault does not rotate a generic secret
(it rotates keys, and the certificates it issues), and a secret's expiry does not stop
its value from being read: ``exp`` "is for informational purposes only"
(https://learn.microsoft.com/azure/key-vault/secrets/about-secrets#secret-attributes;
reads past it still return 200, https://github.com/Azure/AzureKeyVault/issues/19). A
leaked value stops working only once it is changed where it was issued. So:

- with a rotation function (``rotation_function_id``, Microsoft's pattern: an Azure
  Function subscribed to ``Microsoft.KeyVault.SecretNearExpiry`` that issues a new
  credential and stores it as a new version with a new expiry,
  https://learn.microsoft.com/azure/key-vault/secrets/tutorial-rotation), the values
  rotate before they expire;
- without one, the expiry is a deadline and a reminder: the vault's Event Grid system
  topic sends ``SecretNearExpiry`` (30 days before the expiry) and ``SecretExpired`` as
  Azure Monitor alerts to the project's action group (``expiry_action_group_id``,
  :class:`~aiscaffold_components.azure.AlertChannel`), and the owners set a new value.
  The policies report that "reminder only", never as rotation (AZURE-SECRETS-001).

Sources: https://learn.microsoft.com/azure/event-grid/event-schema-key-vault (event
types, "triggered 30 days before the expiration date") and
https://learn.microsoft.com/azure/event-grid/handler-azure-monitor-alerts (the Azure
Monitor alert destination: Key Vault system events only, "Cloud Events Schema v1.0 ...
the only schema type that's supported").

The secrets live in the project's vault (:class:`~aiscaffold_components.azure.Keys`):
RBAC-only, private, purge-protected. Only the workload identity is granted Key Vault
Secrets User on it (:class:`~aiscaffold_components.azure.WorkloadIdentity`, SEC-02);
the deployment writes them through Azure Resource Manager, which needs no data-plane
role.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure_native

from ._common import DiagnosticTarget, child_opts, tags_of

__all__ = ["EXPIRY_EVENT_TYPES", "AppSecret", "Secrets", "SecretsArgs"]

_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")

#: The Key Vault events that tell the owners a secret must get a new value.
EXPIRY_EVENT_TYPES: tuple[str, ...] = (
    "Microsoft.KeyVault.SecretNearExpiry",
    "Microsoft.KeyVault.SecretExpired",
)
#: The only event schema the Azure Monitor alert destination takes; another is refused
#: when the subscription is created.
_MONITOR_ALERT_SCHEMA = "CloudEventSchemaV1_0"


@dataclass(frozen=True)
class AppSecret:
    """One application secret."""

    value: pulumi.Output[str]
    """The value, from ``pulumi.Config().require_secret(...)``."""
    rotated_on: dt.date
    """When the value was last set; it expires ``expiry_days`` later."""
    content_type: str = "text/plain"


@dataclass(frozen=True)
class SecretsArgs:
    """Arguments of :class:`Secrets`."""

    resource_group_name: pulumi.Input[str]
    vault_name: pulumi.Input[str]
    secrets: Mapping[str, AppSecret] = field(default_factory=dict)
    """Secrets by Key Vault name (letters, digits, hyphens)."""
    expiry_days: int = 90
    """Days after ``rotated_on`` at which each secret expires (SEC-03)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    expiry_action_group_id: pulumi.Input[str] | None = None
    """The action group told when a secret nears its expiry or expires
    (``AlertChannel.action_group_id``); needs ``vault_id`` and ``location``. Without
    it nobody is told before the values stop working, which AZURE-SECRETS-001 reports."""
    vault_id: pulumi.Input[str] | None = None
    """ARM id of the vault (``Keys.vault_id``): the source of its Event Grid system topic."""
    location: str | None = None
    """Region of the vault; its system topic lives there too."""
    expiry_alert_severity: str = "Sev2"
    """Severity of the expiry alerts (Sev0, the most severe, to Sev4)."""
    rotation_function_id: pulumi.Input[str] | None = None
    """ARM id of an Azure Function (``.../sites/<app>/functions/<name>``) that rotates a
    secret when it nears its expiry; needs ``vault_id`` and ``location``. Its identity
    needs Key Vault Secrets Officer on the vault to write the new version."""


class Secrets(pulumi.ComponentResource):
    """Key Vault secrets with content types and expiry, values from config secrets."""

    secret_uris: dict[str, pulumi.Output[str]]
    """Versionless URI of each secret, for the application's configuration."""
    vault_events_topic_name: pulumi.Output[str] | None
    """The vault's Event Grid system topic (one per vault: other subscriptions to the
    vault's events, such as key expiry alerts, go on it); None without expiry alerts."""
    diagnostic_targets: list[DiagnosticTarget]
    """The system topic, for :class:`~aiscaffold_components.azure.AuditLogging`: its
    ``DeliveryFailures`` log records an expiry alert or rotation call Event Grid could
    not deliver (the reminder failing silently otherwise), and its metrics count the
    events delivered and dropped. The archive takes ``allLogs``: the log's one
    category is DeliveryFailures
    (https://learn.microsoft.com/azure/azure-monitor/reference/supported-logs/microsoft-eventgrid-systemtopics-logs,
    https://learn.microsoft.com/azure/event-grid/monitor-push-reference). Empty without
    the topic."""

    def __init__(
        self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:azure:Secrets", name, None, opts)
        if args.expiry_days < 1:
            raise ValueError("expiry_days must be at least 1")
        if (args.expiry_action_group_id is not None or args.rotation_function_id is not None) and (
            args.vault_id is None or args.location is None
        ):
            raise ValueError(
                "expiry_action_group_id and rotation_function_id need vault_id and location"
            )
        if args.expiry_alert_severity not in {f"Sev{n}" for n in range(5)}:
            raise ValueError(
                f"expiry_alert_severity must be Sev0 to Sev4, not {args.expiry_alert_severity!r}"
            )
        tags = tags_of(args.tags)
        self.vault_events_topic_name = None
        self.diagnostic_targets = []
        if args.expiry_action_group_id is not None or args.rotation_function_id is not None:
            self.vault_events_topic_name = self._vault_events(name, args, tags)
        self.secret_uris = {}
        for secret_name, secret in args.secrets.items():
            if not _NAME.match(secret_name):
                raise ValueError(
                    f"secret name {secret_name!r} is not valid in Key Vault "
                    "(1-127 letters, digits and hyphens)"
                )
            if not isinstance(secret.value, pulumi.Output):
                raise TypeError(
                    f"secret {secret_name!r} must come from a Pulumi config secret "
                    "(config.require_secret), not a literal value"
                )
            expires = secret.rotated_on + dt.timedelta(days=args.expiry_days)
            created = azure_native.keyvault.Secret(
                f"{name}-{secret_name}",
                resource_group_name=args.resource_group_name,
                vault_name=args.vault_name,
                secret_name=secret_name,
                properties=azure_native.keyvault.SecretPropertiesArgs(
                    value=pulumi.Output.secret(secret.value),
                    content_type=secret.content_type,
                    attributes=azure_native.keyvault.SecretAttributesArgs(
                        enabled=True,
                        not_before=_epoch(secret.rotated_on),
                        expires=_epoch(expires),
                    ),
                ),
                tags=tags,
                opts=child_opts(self),
            )
            self.secret_uris[secret_name] = created.properties.apply(lambda p: p.secret_uri or "")
        self.register_outputs(
            {
                "secret_uris": self.secret_uris,
                "vault_events_topic_name": self.vault_events_topic_name,
            }
        )

    def _vault_events(
        self, name: str, args: SecretsArgs, tags: Mapping[str, str]
    ) -> pulumi.Output[str]:
        """The vault's system topic; a subscription sending its secret expiry events to
        the action group as Azure Monitor alerts, and one calling the rotation function
        when a secret nears its expiry."""
        assert args.vault_id is not None
        topic = azure_native.eventgrid.SystemTopic(
            f"{name}-vault-events",
            resource_group_name=args.resource_group_name,
            # 3-128 letters, digits and hyphens: the vault's name (3-24) fits.
            system_topic_name=pulumi.Output.concat(args.vault_name, "-events"),
            source=args.vault_id,
            topic_type="Microsoft.KeyVault.vaults",
            location=args.location,
            tags=dict(tags),
            opts=child_opts(self),
        )
        self.diagnostic_targets.append(
            DiagnosticTarget("vault-events", topic.id, archive_group="allLogs")
        )
        if args.rotation_function_id is not None:
            azure_native.eventgrid.SystemTopicEventSubscription(
                f"{name}-rotation",
                resource_group_name=args.resource_group_name,
                system_topic_name=topic.name,
                event_subscription_name="secret-rotation",
                filter=azure_native.eventgrid.EventSubscriptionFilterArgs(
                    included_event_types=[EXPIRY_EVENT_TYPES[0]]
                ),
                destination=azure_native.eventgrid.AzureFunctionEventSubscriptionDestinationArgs(
                    endpoint_type="AzureFunction", resource_id=args.rotation_function_id
                ),
                opts=child_opts(self),
            )
        if args.expiry_action_group_id is None:
            return topic.name
        azure_native.eventgrid.SystemTopicEventSubscription(
            f"{name}-expiry-alerts",
            resource_group_name=args.resource_group_name,
            system_topic_name=topic.name,
            event_subscription_name="secret-expiry",
            event_delivery_schema=_MONITOR_ALERT_SCHEMA,
            filter=azure_native.eventgrid.EventSubscriptionFilterArgs(
                included_event_types=list(EXPIRY_EVENT_TYPES)
            ),
            destination=azure_native.eventgrid.MonitorAlertEventSubscriptionDestinationArgs(
                endpoint_type="MonitorAlert",
                severity=args.expiry_alert_severity,
                action_groups=[args.expiry_action_group_id],
                description=(
                    "A Key Vault secret expires within 30 days or has expired: set a new "
                    "value (README.md, Secrets)."
                ),
            ),
            opts=child_opts(self),
        )
        return topic.name


def _epoch(day: dt.date) -> int:
    """Seconds since 1970 at midnight UTC of ``day`` (Key Vault's date format)."""
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())
