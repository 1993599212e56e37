"""Alert channel: the project's one Azure Monitor action group that alerts go to.

Today it receives the Key Vault secret expiry alerts (SEC-03: :class:`Secrets` routes
``Microsoft.KeyVault.SecretNearExpiry`` and ``SecretExpired`` events to it); the
detection-and-response family adds its alert rules, findings and budgets to the same
group, and its ``alert_emails`` answer the receivers. Until then the group has no
receivers: the alerts are recorded in Azure Monitor (portal, "Alerts") but nobody is
told. Add receivers by hand until then, e.g.
``az monitor action-group update -g <group> -n <action_group_name> --add-action email secops <address>``.

An action group stores no message and holds no key: Azure Monitor offers no encryption
setting on it, so no policy judges one (unlike the SNS topic of AWS or the Pub/Sub topic
of Google Cloud, which keep messages at rest).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from ._common import child_opts, tags_of

__all__ = ["AlertChannel", "AlertChannelArgs"]

#: Action group names: 1-260 characters, no ``/`` ``%`` ``&`` ``\`` ``?`` ``<`` ``>``;
#: the short name (shown in SMS and e-mail) is at most 12 characters
#: (https://learn.microsoft.com/azure/azure-monitor/alerts/action-groups, "Basics").
_GROUP_NAME = re.compile(r"[^/%&\\?<>]{1,260}")
_SHORT_NAME_MAX = 12


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


class AlertChannel(pulumi.ComponentResource):
    """One Azure Monitor action group per project, the target of every alert."""

    action_group: azure_native.monitor.ActionGroup
    action_group_id: pulumi.Output[str]
    """ARM id of the action group, for alert rules and Event Grid alert destinations."""
    action_group_name: pulumi.Output[str]

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
            tags=tags_of(args.tags),
            opts=child_opts(self),
        )
        self.action_group_id = self.action_group.id
        self.action_group_name = self.action_group.name
        self.register_outputs(
            {"action_group_id": self.action_group_id, "action_group_name": self.action_group_name}
        )
