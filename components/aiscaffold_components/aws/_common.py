"""Helpers shared by the AWS components: account context, policy documents, retention."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, cast

import pulumi
import pulumi_aws as aws

__all__ = [
    "CLOUDWATCH_RETENTION_DAYS",
    "AwsContext",
    "Condition",
    "Principal",
    "Statement",
    "aws_context",
    "cloudwatch_retention_days",
    "policy_json",
    "require_tls",
    "same_account",
    "service_trust",
    "tls_allow",
]

#: The retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days.
CLOUDWATCH_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def cloudwatch_retention_days(days: int) -> int:
    """The shortest retention CloudWatch Logs accepts that keeps logs at least ``days``.

    The profile's retention comes from compliance rules (913 days for FedRAMP, say),
    which CloudWatch does not accept as is: rounding up keeps the promise.
    """
    if days < 1:
        raise ValueError(f"log retention must be at least one day, not {days}")
    index = bisect.bisect_left(CLOUDWATCH_RETENTION_DAYS, days)
    if index == len(CLOUDWATCH_RETENTION_DAYS):
        raise ValueError(
            f"log retention of {days} days exceeds CloudWatch Logs' longest, "
            f"{CLOUDWATCH_RETENTION_DAYS[-1]} days"
        )
    return CLOUDWATCH_RETENTION_DAYS[index]


@dataclass(frozen=True)
class AwsContext:
    """Account, partition and region the provider deploys to."""

    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]
    region: pulumi.Output[str]
    dns_suffix: pulumi.Output[str]

    def arn(self, service: str, resource: str, *, regional: bool = True) -> pulumi.Output[str]:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``."""
        region: pulumi.Input[str] = self.region if regional else ""
        return pulumi.Output.concat(
            "arn:", self.partition, ":", service, ":", region, ":", self.account_id, ":", resource
        )

    @property
    def account_root(self) -> pulumi.Output[str]:
        """The account principal (``arn:<partition>:iam::<account>:root``)."""
        return self.arn("iam", "root", regional=False)

    def service_name(self, service: str) -> pulumi.Output[str]:
        """A VPC endpoint service name: ``com.amazonaws.<region>.<service>``."""
        return pulumi.Output.concat("com.amazonaws.", self.region, ".", service)


def aws_context(parent: pulumi.Resource) -> AwsContext:
    """Look up account, partition and region through the parent's provider."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    identity = aws.get_caller_identity_output(opts=opts)
    partition = aws.get_partition_output(opts=opts)
    region = aws.get_region_output(opts=opts)
    return AwsContext(
        account_id=identity.account_id,
        partition=partition.partition,
        region=region.region,
        dns_suffix=partition.dns_suffix,
    )


class Principal(TypedDict):
    """A policy principal (``type`` is ``AWS``, ``Service`` or ``*``)."""

    type: str
    identifiers: Sequence[pulumi.Input[str]]


class Condition(TypedDict):
    """A policy condition: ``test`` operator, context ``variable``, ``values``."""

    test: str
    variable: str
    values: Sequence[pulumi.Input[str]]


class Statement(TypedDict, total=False):
    """A policy statement whose resources, principals and values may be Outputs."""

    sid: str
    effect: Literal["Allow", "Deny"]
    actions: Sequence[str]
    resources: Sequence[pulumi.Input[str]]
    principals: Sequence[Principal]
    conditions: Sequence[Condition]


def _plain(value: Any) -> Any:
    """Tuples and other sequences as lists, so Output.from_input unwraps what they hold."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def policy_json(statements: Sequence[Statement], *, parent: pulumi.Resource) -> pulumi.Output[str]:
    """An IAM policy document built by ``aws.iam.get_policy_document`` from the statements.

    Statements may hold Outputs (ARNs of resources not created yet); they are resolved
    first, then handed to the provider's own document builder, so the JSON is never
    assembled by string concatenation.
    """
    if not statements:
        raise ValueError("a policy document needs at least one statement")
    opts = pulumi.InvokeOutputOptions(parent=parent)
    resolved: pulumi.Output[list[dict[str, Any]]] = pulumi.Output.from_input(
        cast(Any, _plain(list(statements)))
    )
    return resolved.apply(
        lambda plain: (
            aws.iam.get_policy_document_output(statements=cast(Any, plain), opts=opts).json
        )
    )


def require_tls() -> Condition:
    """The condition every Allow statement of a workload policy carries (NET-05)."""
    return {"test": "Bool", "variable": "aws:SecureTransport", "values": ["true"]}


def same_account(account_id: pulumi.Input[str], variable: str = "aws:SourceAccount") -> Condition:
    """``StringEquals <variable> <account>``: the confused-deputy guard for service principals."""
    return {"test": "StringEquals", "variable": variable, "values": [account_id]}


def tls_allow(
    sid: str, actions: Sequence[str], resources: Sequence[pulumi.Input[str]], *conditions: Condition
) -> Statement:
    """An Allow of ``actions`` on ``resources`` over TLS only, under ``conditions``."""
    return {
        "sid": sid,
        "effect": "Allow",
        "actions": list(actions),
        "resources": list(resources),
        "conditions": [require_tls(), *conditions],
    }


def service_trust(sid: str, service: str | Sequence[str], *conditions: Condition) -> Statement:
    """The trust statement of a role that ``service`` (one service principal or several)
    assumes, under ``conditions`` (at least the confused-deputy guard,
    :func:`same_account`)."""
    services = [service] if isinstance(service, str) else list(service)
    return {
        "sid": sid,
        "effect": "Allow",
        "principals": [{"type": "Service", "identifiers": services}],
        "actions": ["sts:AssumeRole"],
        "conditions": list(conditions),
    }
