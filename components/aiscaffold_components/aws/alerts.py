"""Alert channel: the project's one encrypted SNS topic that alerts and reminders go to.

It carries the secret rotation reminders (SEC-03, :class:`Secrets` without a rotation
function), the security alarms and the high-severity findings (DET-02, DET-03,
:mod:`.detection`); budgets join later. Each address of ``emails`` (the answer
``alert_emails``) gets an ``email`` subscription. SNS sends each address a confirmation
message, and nothing is delivered there until its link is followed: until then the
subscription stays "PendingConfirmation" (and SNS drops it after three days, so a
subscription left unconfirmed must be created again by ``pulumi up``)
(https://docs.aws.amazon.com/sns/latest/dg/sns-email-notifications.html). With no
address, subscribe later by hand:
``aws sns subscribe --topic-arn <alert_topic_arn> --protocol email --notification-endpoint <address>``.

The topic's policy (:data:`SNS_TOPIC_POLICY_GUIDE`) denies every publish without TLS
(``aws:SecureTransport`` false) and lets only CloudWatch alarms and EventBridge rules of
this account (``aws:SourceAccount``) publish as services; principals of the account
(the reminder role) publish through their IAM policies, which the deny still binds to
TLS. EventBridge cannot deliver to a topic whose policy does not allow it
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions).

Messages are encrypted with a key of their own, not the logs or secrets key: the
services that publish to an encrypted topic must be allowed to use its key, and a
separate key keeps that grant off the keys of the audit logs and the secrets.

Who may publish, and what SNS needs from the key (:data:`SNS_KEY_POLICY_GUIDE`): SNS
encrypts each message with a data key it asks KMS for as the publisher, so the
publisher needs ``kms:GenerateDataKey`` and ``kms:Decrypt`` on the topic's key;
without them ``Publish`` fails with ``KMSAccessDeniedException`` ("The ciphertext
references a key that doesn't exist or that you don't have access to"), which an
alarm or a rule reports only as a failed action. The key grants:

- CloudWatch alarms and EventBridge rules (service principals
  ``cloudwatch.amazonaws.com``, ``events.amazonaws.com``), only for this topic
  (``kms:EncryptionContext:aws:sns:topicArn``, the context SNS passes to KMS) and only
  for this account (``aws:SourceAccount``);
- the reminder role EventBridge Scheduler assumes (a schedule publishes as its role,
  not as a service principal), through SNS only (``kms:ViaService``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ._common import Statement, aws_context, policy_json, same_account, service_trust
from .keys import KEY_ADMIN_ACTIONS

__all__ = [
    "ALERT_PUBLISHER_SERVICES",
    "SNS_KEY_POLICY_GUIDE",
    "SNS_TOPIC_POLICY_GUIDE",
    "AlertChannel",
    "AlertChannelArgs",
]

#: SNS's guide to the key policy of an encrypted topic that AWS services publish to
#: ("Enable compatibility between event sources from AWS services and encrypted
#: topics"): the service principal gets kms:GenerateDataKey* and kms:Decrypt. The
#: encryption context SNS passes (aws:sns:topicArn) is shown in use by
#: https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/queue-notification-sns-sse.html
SNS_KEY_POLICY_GUIDE = (
    "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html"
    "#compatibility-with-aws-services"
)
#: SNS's guide to topic policies: a Deny on ``aws:SecureTransport`` false enforces
#: encryption in transit, and ``aws:SourceAccount`` keeps a service principal to this
#: account's resources (the confused-deputy guard).
SNS_TOPIC_POLICY_GUIDE = (
    "https://docs.aws.amazon.com/sns/latest/dg/sns-security-best-practices.html"
    "#enforce-encryption-data-in-transit"
)
#: Services that publish alerts as themselves: CloudWatch alarm actions and EventBridge
#: rule targets (EventBridge Scheduler publishes as the schedule's role), AWS Budgets
#: notifications and Cost Anomaly Detection subscriptions (COST-01, COST-02, :mod:`.cost`;
#: https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html,
#: https://docs.aws.amazon.com/cost-management/latest/userguide/ad-SNS.html).
ALERT_PUBLISHER_SERVICES: tuple[str, ...] = (
    "cloudwatch.amazonaws.com",
    "events.amazonaws.com",
    "budgets.amazonaws.com",
    "costalerts.amazonaws.com",
)

#: SNS asks KMS for a data key and decrypts it (the guide's GenerateDataKey*, spelled
#: out: the only variant SNS calls).
_PUBLISH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: A plausible e-mail address (local@domain.tld, no spaces): the answer is checked in
#: full when the project is generated; this guards direct use of the component.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class AlertChannelArgs:
    """Arguments of :class:`AlertChannel`."""

    name_prefix: str
    """The topic is ``<name_prefix>-alerts``, its key's alias ``alias/<name_prefix>-alerts``
    and the reminder role ``<name_prefix>-alert-scheduler`` (fixed names, so the key
    policy can name them before they exist)."""
    tags: Mapping[str, str]
    key_rotation_days: int = 365
    """Rotation period of the topic's key (KMS accepts 90 to 2560 days)."""
    key_deletion_window_days: int = 30
    """Waiting period before the key's scheduled deletion (KMS accepts 7 to 30)."""
    protect: bool = False
    """Guard the key with Pulumi's ``protect`` option (GOV-05)."""
    emails: Sequence[str] = ()
    """Addresses subscribed to the topic (protocol ``email``); each must confirm the
    subscription from the message SNS sends it."""


class AlertChannel(pulumi.ComponentResource):
    """One SNS topic per project, encrypted with its own customer-managed key."""

    key: aws.kms.Key
    topic: aws.sns.Topic
    subscriptions: list[aws.sns.TopicSubscription]
    """One ``email`` subscription per address of ``emails``."""
    topic_arn: pulumi.Output[str]
    """Where alarms, rules and reminders publish."""
    key_arn: pulumi.Output[str]
    scheduler_role_arn: pulumi.Output[str]
    """The role an EventBridge Scheduler schedule assumes to publish here."""

    def __init__(
        self, name: str, args: AlertChannelArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        topic_name = f"{args.name_prefix}-alerts"
        if not _TOPIC_NAME.fullmatch(topic_name):
            raise ValueError(f"invalid topic name {topic_name!r}")
        if not 90 <= args.key_rotation_days <= 2560:
            raise ValueError(
                f"key_rotation_days must be between 90 and 2560, not {args.key_rotation_days}"
            )
        if not 7 <= args.key_deletion_window_days <= 30:
            raise ValueError(
                "key_deletion_window_days must be between 7 and 30, "
                f"not {args.key_deletion_window_days}"
            )
        for address in args.emails:
            if not _EMAIL.fullmatch(address):
                raise ValueError(f"invalid e-mail address {address!r}")
        if len(set(args.emails)) != len(args.emails):
            raise ValueError("emails lists an address twice")
        super().__init__("aiscaffold:aws:AlertChannel", name, None, opts)
        ctx = aws_context(self)
        child = pulumi.ResourceOptions(parent=self)
        topic_arn = ctx.arn("sns", topic_name)
        scheduler_role_name = f"{args.name_prefix}-alert-scheduler"
        scheduler_role_arn = pulumi.Output.concat(
            "arn:", ctx.partition, ":iam::", ctx.account_id, ":role/", scheduler_role_name
        )
        account = same_account(ctx.account_id)
        statements: list[Statement] = [
            {
                "sid": "KeyAdministrationByTheAccount",
                "effect": "Allow",
                "principals": [{"type": "AWS", "identifiers": [ctx.account_root]}],
                "actions": list(KEY_ADMIN_ACTIONS),
                "resources": ["*"],
            },
            {
                "sid": "AwsServicesPublishAlerts",
                "effect": "Allow",
                "principals": [{"type": "Service", "identifiers": list(ALERT_PUBLISHER_SERVICES)}],
                "actions": list(_PUBLISH_KEY_ACTIONS),
                "resources": ["*"],
                "conditions": [
                    account,
                    {
                        "test": "StringEquals",
                        "variable": "kms:EncryptionContext:aws:sns:topicArn",
                        "values": [topic_arn],
                    },
                ],
            },
            {
                "sid": "SchedulerRolePublishesReminders",
                "effect": "Allow",
                "principals": [{"type": "AWS", "identifiers": [ctx.account_root]}],
                "actions": list(_PUBLISH_KEY_ACTIONS),
                "resources": ["*"],
                "conditions": [
                    {
                        "test": "ArnEquals",
                        "variable": "aws:PrincipalArn",
                        "values": [scheduler_role_arn],
                    },
                    {
                        "test": "StringEquals",
                        "variable": "kms:ViaService",
                        "values": [pulumi.Output.concat("sns.", ctx.region, ".", ctx.dns_suffix)],
                    },
                ],
            },
        ]
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{args.name_prefix} alerts key (aiscaffold)",
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            rotation_period_in_days=args.key_rotation_days,
            deletion_window_in_days=args.key_deletion_window_days,
            multi_region=False,
            bypass_policy_lockout_safety_check=False,
            policy=policy_json(statements, parent=self),
            tags={**args.tags, "purpose": "alerts"},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/{topic_name}",
            target_key_id=self.key.key_id,
            opts=child,
        )
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=topic_name,
            kms_master_key_id=self.key.arn,
            tags=args.tags,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-scheduler",
            name=scheduler_role_name,
            description="EventBridge Scheduler publishes reminders to the alert topic (aiscaffold)",
            assume_role_policy=policy_json(
                [service_trust("SchedulerOfThisAccount", "scheduler.amazonaws.com", account)],
                parent=self,
            ),
            tags=args.tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-scheduler-policy",
            role=role.name,
            policy=policy_json(
                [
                    {
                        "sid": "PublishToTheAlertTopic",
                        "effect": "Allow",
                        "actions": ["sns:Publish"],
                        "resources": [self.topic.arn],
                    },
                    {
                        "sid": "EncryptAlertMessages",
                        "effect": "Allow",
                        "actions": list(_PUBLISH_KEY_ACTIONS),
                        "resources": [self.key.arn],
                    },
                ],
                parent=self,
            ),
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=policy_json(
                [
                    {
                        "sid": "DenyPublishWithoutTls",
                        "effect": "Deny",
                        "principals": [{"type": "*", "identifiers": ["*"]}],
                        "actions": ["sns:Publish"],
                        "resources": [self.topic.arn],
                        "conditions": [
                            {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}
                        ],
                    },
                    {
                        "sid": "AlarmsAndRulesOfThisAccountPublish",
                        "effect": "Allow",
                        "principals": [
                            {"type": "Service", "identifiers": list(ALERT_PUBLISHER_SERVICES)}
                        ],
                        "actions": ["sns:Publish"],
                        "resources": [self.topic.arn],
                        "conditions": [account],
                    },
                ],
                parent=self,
            ),
            opts=child,
        )
        self.subscriptions = []
        for address in args.emails:
            # Named by a digest of the address, so reordering the list or removing one
            # address leaves the other subscriptions (and their confirmations) alone.
            digest = hashlib.sha256(address.lower().encode()).hexdigest()[:8]
            self.subscriptions.append(
                aws.sns.TopicSubscription(
                    f"{name}-email-{digest}",
                    topic=self.topic.arn,
                    protocol="email",
                    endpoint=address,
                    opts=child,
                )
            )
        self.topic_arn = self.topic.arn
        self.key_arn = self.key.arn
        self.scheduler_role_arn = role.arn
        self.register_outputs(
            {
                "topic_arn": self.topic_arn,
                "key_arn": self.key_arn,
                "scheduler_role_arn": self.scheduler_role_arn,
            }
        )
