"""Alert channel: the project's one Azure Monitor action group that alerts go to (DET-02).

It receives the Key Vault secret expiry alerts (SEC-03: :class:`Secrets` routes
``Microsoft.KeyVault.SecretNearExpiry`` and ``SecretExpired`` events to it), the
tampering and misuse alerts of :class:`~aiscaffold_components.azure.SecurityAlarms`
and the high-severity Defender for Cloud alerts of
:class:`~aiscaffold_components.azure.ThreatDetection` (DET-01..03). Each address of
``emails`` (the ``alert_emails`` answer) is an e-mail receiver using the common alert
schema, so every alert arrives in one format whatever rule raised it
(https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-common-schema). With no
address the group still exists and every rule still routes to it: the alerts are
recorded in Azure Monitor (portal, "Alerts") but nobody is told until a receiver is
added, e.g.
``az monitor action-group update -g <group> -n <action_group_name> --add-action email secops <address>``.

An action group stores no message and holds no key: it is a list of receivers that
Azure Monitor notifies when an alert fires, and offers no encryption setting
(https://learn.microsoft.com/azure/azure-monitor/alerts/action-groups). So no policy
judges its encryption (unlike the SNS topic of AWS or the Pub/Sub topic of Google Cloud,
which keep messages at rest); the alerts themselves live in Azure Monitor's alert
store, encrypted by the platform.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from ._common import child_opts, short_hash, tags_of

__all__ = ["AlertChannel", "AlertChannelArgs"]

#: Action group names: 1-260 characters, no ``/`` ``%`` ``&`` ``\`` ``?`` ``<`` ``>``;
#: the short name (shown in SMS and e-mail) is at most 12 characters
#: (https://learn.microsoft.com/azure/azure-monitor/alerts/action-groups, "Basics").
_GROUP_NAME = re.compile(r"[^/%&\\?<>]{1,260}")
_SHORT_NAME_MAX = 12
#: An address Azure Monitor can deliver to: one ``@``, a dotted domain, no spaces. (The
#: answers model checks the same before anything is rendered.)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class AlertChannelArgs:
    """Arguments of :class:`AlertChannel`."""

    resource_group_name: pulumi.Input[str]
    name_prefix: str
    """The action group is ``<name_prefix>-alerts`` (a fixed name the
    detection-and-response family adopts)."""
    tags: Mapping[str, str]
    short_name: str = "alerts"
    """Short name shown in SMS and e-mail notifications (1-12 characters)."""
    emails: Sequence[str] = ()
    """Addresses notified of every alert (``profile.alert_emails``). Empty: the group
    exists without receivers, and they are added later (README, "Alerts")."""


class AlertChannel(pulumi.ComponentResource):
    """One Azure Monitor action group per project, the target of every alert."""

    action_group: azure_native.monitor.ActionGroup
    action_group_id: pulumi.Output[str]
    """ARM id of the action group, for alert rules and Event Grid alert destinations."""
    action_group_name: pulumi.Output[str]
    emails: tuple[str, ...]
    """The addresses subscribed."""

    def __init__(
        self, name: str, args: AlertChannelArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        group_name = f"{args.name_prefix}-alerts"
        if not _GROUP_NAME.fullmatch(group_name):
            raise ValueError(f"invalid action group name {group_name!r}")
        if not 1 <= len(args.short_name) <= _SHORT_NAME_MAX:
            raise ValueError(
                f"short_name must be 1 to {_SHORT_NAME_MAX} characters, not {args.short_name!r}"
            )
        emails = list(dict.fromkeys(args.emails))
        for address in emails:
            if not _EMAIL.fullmatch(address):
                raise ValueError(f"{address!r} is not an e-mail address")
        super().__init__("aiscaffold:azure:AlertChannel", name, None, opts)
        self.action_group = azure_native.monitor.ActionGroup(
            f"{name}-group",
            resource_group_name=args.resource_group_name,
            action_group_name=group_name,
            # Action groups are global resources, written "Global" as Azure Monitor's own
            # templates do (location names are case-insensitive; private DNS zones are
            # "global"): https://learn.microsoft.com/azure/azure-monitor/alerts/resource-manager-action-groups
            location="Global",
            group_short_name=args.short_name,
            enabled=True,
            # Receiver names are unique in the group; a hash of the address keeps each
            # one's name when others are added or removed.
            email_receivers=[
                azure_native.monitor.MicrosoftCommonEmailReceiverArgs(
                    name=f"email-{short_hash(address.lower(), length=8)}",
                    email_address=address,
                    use_common_alert_schema=True,
                )
                for address in emails
            ]
            or None,
            tags=tags_of(args.tags),
            opts=child_opts(self),
        )
        self.action_group_id = self.action_group.id
        self.action_group_name = self.action_group.name
        self.emails = tuple(emails)
        self.register_outputs(
            {"action_group_id": self.action_group_id, "action_group_name": self.action_group_name}
        )
