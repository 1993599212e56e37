"""Alert channel: the project's one Pub/Sub topic, and the Monitoring channels on it.

The topic receives the Secret Manager rotation notices (SEC-03: :class:`Secrets` names
it among each secret's ``topics``, so ``SECRET_ROTATE`` reaches it every rotation
period), the Security Command Center findings (:class:`~.detection.ThreatDetection`)
and, through a Cloud Monitoring notification channel of type ``pubsub``, every
security alert (:class:`~.detection.SecurityAlarms`, DET-02): the machine channel a
SIEM, a chat bot or a pager subscribes to. People get the same alerts by e-mail: one
Monitoring notification channel of type ``email`` per address of ``emails``
(https://cloud.google.com/monitoring/support/notification-options#email). With no
address the channel still exists, and addresses are added later (README, "Alerts").

Monitoring publishes to the topic as its notification service agent,
``service-<project number>@gcp-sa-monitoring-notification.iam.gserviceaccount.com``,
which needs ``roles/pubsub.publisher`` on the topic
(https://cloud.google.com/monitoring/support/notification-options#pubsub, "Authorize
service account"). Monitoring creates that agent with the project's first ``pubsub``
channel, so the grant follows the channel (a grant to an agent that does not exist yet
is refused: ``Service account ... does not exist``).

Messages are kept encrypted with a customer-managed key (GCP-PUBSUB-001) and only in
the allowed regions (GCP-PUBSUB-002). A service publishing here as its service agent
(Secret Manager) needs ``roles/pubsub.publisher`` on the topic, granted before a secret
names it (https://cloud.google.com/secret-manager/docs/event-notifications). A grant takes
minutes to take effect (https://cloud.google.com/iam/docs/access-change-propagation), so
the exported topic id resolves only after a wait following the grants: whatever names
the topic is created once its publishers may publish.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time

from ._common import child_opts, labels_of, wait_for_dependencies

__all__ = ["AlertChannel", "AlertChannelArgs"]

#: Pub/Sub topic ids: 3-255 characters, a letter first, then letters, digits and
#: ``-_.~+%``; not starting with ``goog``
#: (https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names).
_TOPIC_ID = re.compile(r"[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}")


@dataclass(frozen=True)
class AlertChannelArgs:
    """Arguments of :class:`AlertChannel`."""

    name_prefix: str
    """The topic is ``<name_prefix>-alerts`` (a fixed name the detection-and-response
    family adopts)."""
    kms_key_name: pulumi.Input[str]
    """The key encrypting the messages (in a generated project, the secrets key, which
    the Pub/Sub service agent may already use)."""
    regions: Sequence[str]
    """Regions messages may be stored in (the allowed regions)."""
    project: pulumi.Input[str] | None = None
    publishers: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """IAM members (service agents) allowed to publish, by a short label naming them."""
    grant_propagation_seconds: int = 120
    """How long the topic id waits after the publisher grants (0: not at all)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    emails: Sequence[str] = ()
    """Addresses that receive every alert, one Monitoring e-mail channel each (DET-02)."""
    project_number: pulumi.Input[str] | None = None
    """Project number, naming Monitoring's notification service agent: with it, a
    Monitoring channel of type ``pubsub`` delivers the alerts to the topic. Without it
    the topic carries no Monitoring alerts (a weakening of DET-02)."""


#: E-mail addresses Monitoring accepts (a pragmatic check: one @, a dotted domain).
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class AlertChannel(pulumi.ComponentResource):
    """One CMEK-encrypted Pub/Sub topic per project, the target of every alert, and the
    Monitoring notification channels (e-mail, Pub/Sub) alert policies name."""

    topic: gcp.pubsub.Topic
    topic_id: pulumi.Output[str]
    """``projects/<p>/topics/<name>``, resolved once the publishers may publish."""
    notification_channel_ids: list[pulumi.Output[str]]
    """Monitoring notification channels every alert policy names: the ``pubsub`` channel
    on the topic (once Monitoring may publish to it) and one ``email`` channel per
    address."""
    email_channel_ids: dict[str, pulumi.Output[str]]
    """The ``email`` channel of each address."""

    def __init__(
        self, name: str, args: AlertChannelArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        topic_name = f"{args.name_prefix}-alerts"
        if not _TOPIC_ID.fullmatch(topic_name) or topic_name.startswith("goog"):
            raise ValueError(f"invalid Pub/Sub topic id {topic_name!r}")
        if not args.regions:
            raise ValueError("the alert topic needs at least one allowed region")
        if args.grant_propagation_seconds < 0:
            raise ValueError("grant_propagation_seconds may not be negative")
        for address in args.emails:
            if not _EMAIL.fullmatch(address):
                raise ValueError(f"invalid alert e-mail address {address!r}")
        if len(set(args.emails)) != len(args.emails):
            raise ValueError("alert e-mail addresses must be unique")
        super().__init__("aiscaffold:gcp:AlertChannel", name, None, opts)
        wait_for_dependencies(self, opts)
        child = child_opts(self)
        self.topic = gcp.pubsub.Topic(
            f"{name}-topic",
            project=args.project,
            name=topic_name,
            kms_key_name=args.kms_key_name,
            message_storage_policy=gcp.pubsub.TopicMessageStoragePolicyArgs(
                allowed_persistence_regions=list(args.regions), enforce_in_transit=True
            ),
            labels=labels_of(args.labels),
            opts=child,
        )
        grants = [
            gcp.pubsub.TopicIAMMember(
                f"{name}-publisher-{label}",
                project=args.project,
                topic=self.topic.name,
                role="roles/pubsub.publisher",
                member=member,
                opts=child,
            )
            for label, member in sorted(args.publishers.items())
        ]
        waits: list[pulumi.CustomResource] = list(grants)
        if grants and args.grant_propagation_seconds:
            waits.append(
                pulumiverse_time.Sleep(
                    f"{name}-publishers-propagation",
                    create_duration=f"{args.grant_propagation_seconds}s",
                    triggers={label: m for label, m in args.publishers.items()},
                    opts=child_opts(self, depends_on=grants),
                )
            )
        self.topic_id = pulumi.Output.all(self.topic.id, *(w.id for w in waits)).apply(
            lambda ids: str(ids[0])
        )

        self.email_channel_ids = {}
        for index, address in enumerate(args.emails):
            # Indexed names would change when an address is removed from the middle of
            # the list; a digest of the address keeps each channel's name stable.
            digest = hashlib.sha256(address.lower().encode()).hexdigest()[:8]
            channel = gcp.monitoring.NotificationChannel(
                f"{name}-email-{digest}",
                project=args.project,
                type="email",
                display_name=f"{topic_name} e-mail {index + 1}",
                labels={"email_address": address},
                user_labels=labels_of(args.labels),
                opts=child,
            )
            self.email_channel_ids[address] = channel.id
        self.notification_channel_ids = []
        if args.project_number is not None:
            pubsub_channel = gcp.monitoring.NotificationChannel(
                f"{name}-pubsub",
                project=args.project,
                type="pubsub",
                display_name=f"{topic_name} (Pub/Sub)",
                labels={"topic": self.topic.id},
                user_labels=labels_of(args.labels),
                opts=child,
            )
            agent = pulumi.Output.concat(
                "serviceAccount:service-",
                args.project_number,
                "@gcp-sa-monitoring-notification.iam.gserviceaccount.com",
            )
            # After the channel: Monitoring creates its agent with the first one.
            monitoring_grant = gcp.pubsub.TopicIAMMember(
                f"{name}-publisher-monitoring",
                project=args.project,
                topic=self.topic.name,
                role="roles/pubsub.publisher",
                member=agent,
                opts=child_opts(self, depends_on=[pubsub_channel]),
            )
            self.notification_channel_ids.append(
                pulumi.Output.all(pubsub_channel.id, monitoring_grant.id).apply(
                    lambda ids: str(ids[0])
                )
            )
        self.notification_channel_ids.extend(self.email_channel_ids.values())
        self.register_outputs(
            {
                "topic_id": self.topic_id,
                "notification_channel_ids": self.notification_channel_ids,
                "email_channel_ids": self.email_channel_ids,
            }
        )
