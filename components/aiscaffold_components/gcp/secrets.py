"""Secrets: Secret Manager secrets replicated only where allowed, each replica CMEK.

Replication is user-managed: one replica per region of ``replicas``, each encrypted
with that region's secrets key, and every region must be in ``allowed_regions`` (GDPR
residency, GOV-02). Versions come from values the caller passes (in a generated
project, Pulumi config secrets; a secret without a value gets no version). Only the
``accessor`` is granted ``roles/secretmanager.secretAccessor``, per secret (SEC-02).
Rotation (SEC-03): every ``rotation_days`` Secret Manager publishes a ``SECRET_ROTATE``
notice to the secret's topics: a CMEK-encrypted rotation topic kept in the replica
regions, which a rotating function subscribes to, and the project's alert topic
(``notify_topics``, :class:`~aiscaffold_components.gcp.AlertChannel`), which tells the
owners. Secret Manager itself changes no value: "You must configure a Pub/Sub subscriber
to receive and act on the SECRET_ROTATE messages"
(https://cloud.google.com/secret-manager/docs/secret-rotation).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from ._common import child_opts, duration, labels_of, wait_for_dependencies

__all__ = ["Secrets", "SecretsArgs"]


@dataclass(frozen=True)
class SecretsArgs:
    """Arguments of :class:`Secrets`."""

    replicas: Mapping[str, pulumi.Input[str]]
    """Region of each replica and the secrets key (in that region) encrypting it."""

    allowed_regions: Sequence[str]
    """Regions data may be stored in; a replica elsewhere is refused."""

    secrets: Mapping[str, pulumi.Input[str] | None] = field(default_factory=dict)
    """Secret id and its value; ``None`` creates the secret without a version."""

    project: pulumi.Input[str] | None = None
    """Project; the provider's project when unset."""

    accessor: pulumi.Input[str] | None = None
    """IAM member (the workload) granted secretAccessor on each secret."""

    rotation_days: int | None = 90
    """Rotation period; ``None`` is a weakening of SEC-03 (no rotation notices)."""

    secret_manager_agent: pulumi.Input[str] | None = None
    """IAM member of the Secret Manager service agent; needed with rotation, to
    publish to the rotation topic (``Keys.service_agents["secretmanager"]``)."""

    next_rotation_time: str | None = None
    """First rotation notice (RFC 3339); one rotation period from the first deployment
    if unset. Later changes to it are ignored: Secret Manager moves it forward."""

    notify_topics: Sequence[pulumi.Input[str]] = ()
    """Further topics told of every rotation (``AlertChannel.topic_id``: the owners);
    the Secret Manager service agent must be allowed to publish to them. Secret Manager
    takes at most 10 topics per secret."""

    version_destroy_days: int = 7
    """Days a destroyed version stays recoverable before it is gone."""

    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the secrets and the rotation topic."""


class Secrets(pulumi.ComponentResource):
    """Secret Manager secrets with residency-limited, CMEK-encrypted replicas."""

    secret_ids: dict[str, pulumi.Output[str]]
    """Resource id (``projects/<n>/secrets/<id>``) per secret."""
    rotation_topic: pulumi.Output[str] | None
    """Id of the rotation topic (``None`` without rotation)."""

    def __init__(
        self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aiscaffold:gcp:Secrets", name, None, opts)
        wait_for_dependencies(self, opts)
        if not args.replicas:
            raise ValueError("secrets need at least one replica region")
        outside = sorted(set(args.replicas) - set(args.allowed_regions))
        if outside:
            raise ValueError(
                f"replica regions {', '.join(outside)} are not among the allowed regions"
            )
        labels = labels_of(args.labels)
        child = child_opts(self)
        regions = list(args.replicas)

        self.rotation_topic = None
        topics: list[gcp.secretmanager.SecretTopicArgs] | None = None
        rotation: gcp.secretmanager.SecretRotationArgs | None = None
        ignore: list[str] = []
        depends: list[pulumi.Resource] = []
        if args.rotation_days is not None:
            agent = args.secret_manager_agent
            if agent is None:
                raise ValueError(
                    "rotation needs secret_manager_agent (to publish rotation notices)"
                )
            topic = gcp.pubsub.Topic(
                f"{name}-rotation",
                project=args.project,
                kms_key_name=args.replicas[regions[0]],
                message_storage_policy=gcp.pubsub.TopicMessageStoragePolicyArgs(
                    allowed_persistence_regions=regions, enforce_in_transit=True
                ),
                labels=labels,
                opts=child,
            )
            depends.append(
                gcp.pubsub.TopicIAMMember(
                    f"{name}-rotation-publisher",
                    project=args.project,
                    topic=topic.name,
                    role="roles/pubsub.publisher",
                    member=agent,
                    opts=child,
                )
            )
            if len(args.notify_topics) > 9:
                raise ValueError("Secret Manager takes at most 10 topics per secret")
            topics = [
                gcp.secretmanager.SecretTopicArgs(name=t) for t in [topic.id, *args.notify_topics]
            ]
            first = args.next_rotation_time or (
                datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=args.rotation_days)
            ).strftime("%Y-%m-%dT%H:%M:%SZ")
            rotation = gcp.secretmanager.SecretRotationArgs(
                rotation_period=duration(args.rotation_days), next_rotation_time=first
            )
            # The first rotation time is set once; later runs must not move it.
            ignore.append("rotation.nextRotationTime")
            self.rotation_topic = topic.id

        self.secret_ids = {}
        for secret_id, value in args.secrets.items():
            secret = gcp.secretmanager.Secret(
                f"{name}-{secret_id}",
                project=args.project,
                secret_id=secret_id,
                replication=gcp.secretmanager.SecretReplicationArgs(
                    user_managed=gcp.secretmanager.SecretReplicationUserManagedArgs(
                        replicas=[
                            gcp.secretmanager.SecretReplicationUserManagedReplicaArgs(
                                location=region,
                                customer_managed_encryption=gcp.secretmanager.SecretReplicationUserManagedReplicaCustomerManagedEncryptionArgs(
                                    kms_key_name=key
                                ),
                            )
                            for region, key in args.replicas.items()
                        ]
                    )
                ),
                topics=topics,
                rotation=rotation,
                version_destroy_ttl=duration(args.version_destroy_days),
                labels=labels,
                opts=child_opts(self, depends_on=depends, ignore_changes=ignore),
            )
            if value is not None:
                gcp.secretmanager.SecretVersion(
                    f"{name}-{secret_id}-version",
                    secret=secret.id,
                    secret_data=pulumi.Output.secret(value),
                    opts=child,
                )
            if args.accessor is not None:
                gcp.secretmanager.SecretIamMember(
                    f"{name}-{secret_id}-accessor",
                    project=args.project,
                    secret_id=secret.secret_id,
                    role="roles/secretmanager.secretAccessor",
                    member=args.accessor,
                    opts=child,
                )
            self.secret_ids[secret_id] = secret.id

        self.register_outputs(
            {"secret_ids": self.secret_ids, "rotation_topic": self.rotation_topic}
        )
