"""Secrets: Secret Manager secrets replicated only where allowed, each replica CMEK.

Replication is user-managed: one replica per region of ``replicas``, each encrypted
with that region's secrets key, and every region must be in ``allowed_regions`` (GDPR
residency, GOV-02). Versions come from values the caller passes (in a generated
project, Pulumi config secrets; a secret without a value gets no version). Only the
``accessor`` is granted ``roles/secretmanager.secretAccessor``, per secret (SEC-02).

Rotation (SEC-03): every ``rotation_days`` Secret Manager publishes a ``SECRET_ROTATE``
notice to the secret's topics: a CMEK-encrypted rotation topic kept in the replica
regions, and the project's alert topic (``notify_topics``,
:class:`~aiscaffold_components.gcp.AlertChannel`), which tells the owners. Secret
Manager itself changes no value: "You must configure a Pub/Sub subscriber to receive
and act on the SECRET_ROTATE messages"
(https://cloud.google.com/secret-manager/docs/secret-rotation). Given the team's rotation
service (``rotation_push_endpoint``, e.g. a Cloud Run service, and the service account
Pub/Sub signs its requests as), a push subscription on the rotation topic delivers each
notice to it, and the values really rotate; without one the notices are reminders, and
GCP-SECRETS-003 says so ("reminder only", never credited).
"""

from __future__ import annotations

import datetime
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from ._common import child_opts, duration, labels_of, wait_for_dependencies

__all__ = ["Secrets", "SecretsArgs"]

#: How long an undelivered rotation notice stays in the push subscription: Pub/Sub keeps
#: unacknowledged messages "Defaults to 7 days. Cannot be more than 31 days or less than
#: 10 minutes" (pubsub v1 Subscription.messageRetentionDuration); a week lets the
#: rotation service be repaired while Pub/Sub keeps retrying.
PUSH_RETENTION_DAYS = 7
#: Seconds Pub/Sub waits for the rotation service to answer a push ("For push delivery,
#: this value is also used to set the request timeout"; 10 to 600 seconds,
#: Subscription.ackDeadlineSeconds): issuing a new credential can take minutes.
PUSH_ACK_DEADLINE_SECONDS = 600
#: The push delivers rotation notices only: Secret Manager publishes every change of the
#: secret to its topics (SECRET_VERSION_ADD, ...), each with an ``eventType`` attribute
#: (https://cloud.google.com/secret-manager/docs/event-notifications).
ROTATE_FILTER = 'attributes.eventType = "SECRET_ROTATE"'

_EMAIL = re.compile(r"[^@\s:]+@[^@\s]+\.[^@\s]+")


def _https_endpoint(url: str) -> str:
    """``url`` if Pub/Sub can push to it: "A publicly accessible HTTPS address", with
    "a valid SSL certificate signed by a certificate authority"
    (https://cloud.google.com/pubsub/docs/create-push-subscription)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(
            f"rotation_push_endpoint must be an https:// URL of the rotation service, not {url!r}"
        )
    return url


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

    rotation_push_endpoint: pulumi.Input[str] | None = None
    """HTTPS URL of the team's rotation service (e.g. a Cloud Run service's URL): a push
    subscription on the rotation topic delivers each ``SECRET_ROTATE`` notice to it, and
    it adds the new version. Needs ``rotation_push_service_account``. Without it nothing
    changes the values: the notices are reminders to the owners."""

    rotation_push_service_account: pulumi.Input[str] | None = None
    """Email of the service account Pub/Sub signs each push's OIDC token as (audience:
    the endpoint URL), which the rotation service verifies. Whoever runs ``pulumi up``
    needs ``iam.serviceAccounts.actAs`` on it ("The caller ... must have the
    iam.serviceAccounts.actAs permission for the service account", pubsub v1
    PushConfig.OidcToken)."""

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
    rotation_subscription: pulumi.Output[str] | None
    """Id of the push subscription delivering rotation notices to the rotation service
    (``None`` without ``rotation_push_endpoint``)."""

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
        endpoint, pusher = args.rotation_push_endpoint, args.rotation_push_service_account
        if (endpoint is None) != (pusher is None):
            raise ValueError(
                "rotation_push_endpoint and rotation_push_service_account go together "
                "(Pub/Sub pushes only signed requests to the rotation service)"
            )
        if endpoint is not None and args.rotation_days is None:
            raise ValueError("rotation_push_endpoint needs rotation_days (no notice, no push)")
        if isinstance(endpoint, str):
            _https_endpoint(endpoint)
        if isinstance(pusher, str) and not _EMAIL.fullmatch(pusher):
            raise ValueError(
                "rotation_push_service_account is a service account email "
                f"(name@project.iam.gserviceaccount.com), not {pusher!r}"
            )
        labels = labels_of(args.labels)
        child = child_opts(self)
        regions = list(args.replicas)

        self.rotation_topic = None
        self.rotation_subscription = None
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
            if endpoint is not None and pusher is not None:
                self.rotation_subscription = self._push(name, args, topic, endpoint, pusher)

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
            {
                "secret_ids": self.secret_ids,
                "rotation_topic": self.rotation_topic,
                "rotation_subscription": self.rotation_subscription,
            }
        )

    def _push(
        self,
        name: str,
        args: SecretsArgs,
        topic: gcp.pubsub.Topic,
        endpoint: pulumi.Input[str],
        pusher: pulumi.Input[str],
    ) -> pulumi.Output[str]:
        """The push subscription delivering the rotation notices to the rotation service.

        Its messages stay in the topic's CMEK-protected, region-bound storage (a
        subscription has no key of its own). No dead-letter topic: one would need a
        second topic and Pub/Sub service agent grants on both; an undelivered notice is
        retried for ``PUSH_RETENTION_DAYS`` and the owners get every notice on the alert
        topic anyway.
        """
        url = pulumi.Output.from_input(endpoint).apply(_https_endpoint)
        subscription = gcp.pubsub.Subscription(
            f"{name}-rotation-push",
            project=args.project,
            topic=topic.id,
            filter=ROTATE_FILTER,
            push_config=gcp.pubsub.SubscriptionPushConfigArgs(
                push_endpoint=url,
                oidc_token=gcp.pubsub.SubscriptionPushConfigOidcTokenArgs(
                    service_account_email=pusher, audience=url
                ),
            ),
            ack_deadline_seconds=PUSH_ACK_DEADLINE_SECONDS,
            message_retention_duration=duration(PUSH_RETENTION_DAYS),
            retain_acked_messages=False,
            # Pub/Sub deletes a subscription idle for 31 days unless told otherwise ("If
            # expiration_policy is not set, a default policy with ttl of 31 days will be
            # used", Subscription.expirationPolicy); notices come every rotation period,
            # so it must never expire ("" in the provider: never).
            expiration_policy=gcp.pubsub.SubscriptionExpirationPolicyArgs(ttl=""),
            retry_policy=gcp.pubsub.SubscriptionRetryPolicyArgs(
                minimum_backoff="10s", maximum_backoff="600s"
            ),
            labels=labels_of(args.labels),
            opts=child_opts(self),
        )
        return subscription.id
