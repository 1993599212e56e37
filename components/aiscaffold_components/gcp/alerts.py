"""Alert channel: the project's one Pub/Sub topic that alerts and notices go to.

Today it receives the Secret Manager rotation notices (SEC-03: :class:`Secrets` names
it among each secret's ``topics``, so ``SECRET_ROTATE`` reaches it every rotation
period); the detection-and-response family adds its alerts and budgets, and a Cloud
Monitoring notification channel of type ``pubsub`` on this topic, to the same channel.
Until then nobody reads it: subscribe whoever acts on it (README, "Alerts").

Messages are kept encrypted with a customer-managed key (GCP-PUBSUB-001) and only in
the allowed regions (GCP-PUBSUB-002). A service publishing here as its service agent
(Secret Manager) needs ``roles/pubsub.publisher`` on the topic, granted before a secret
names it (https://cloud.google.com/secret-manager/docs/event-notifications). A grant takes
minutes to take effect (https://cloud.google.com/iam/docs/access-change-propagation), so
the exported topic id resolves only after a wait following the grants: whatever names
the topic is created once its publishers may publish.
"""

from __future__ import annotations

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


class AlertChannel(pulumi.ComponentResource):
    """One CMEK-encrypted Pub/Sub topic per project, the target of every alert."""

    topic: gcp.pubsub.Topic
    topic_id: pulumi.Output[str]
    """``projects/<p>/topics/<name>``, resolved once the publishers may publish."""

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
        self.register_outputs({"topic_id": self.topic_id})
