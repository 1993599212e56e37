"""Helpers of the AWS policies: IAM documents, CIDR ranges, and how resources refer to each other.

Resources refer to each other by physical name or ARN (a bucket policy's ``bucket``, a
trail's ``s3BucketName``, a role policy's ``role``). A policy sees a resource's inputs
(and, in a stack policy under ``pulumi preview``, its outputs); the physical name is
one of them when it was set explicitly, starts with a ``*Prefix`` input otherwise, or
is Pulumi's auto-name (``<resource name>-<random hex>``). :func:`refers_to` accepts all
three.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .._core import Resource

__all__ = [
    "INTERNET",
    "actions",
    "as_list",
    "conditions",
    "document",
    "grants",
    "has_condition",
    "is_internet",
    "of_type",
    "principals",
    "refers_to",
    "statements",
    "tail_name",
]

INTERNET = ("0.0.0.0/0", "::/0")


# The components' own definitions, imported when a policy runs: importing the AWS
# components loads pulumi-aws, which projects on other clouds do not install.
def endpoint_services() -> Mapping[str, tuple[str, ...]]:
    """Interface endpoint services per AI service (``aws.ENDPOINT_SERVICES``)."""
    from ...aws import ENDPOINT_SERVICES

    return ENDPOINT_SERVICES


def ecr_endpoint_services() -> tuple[str, ...]:
    """Interface endpoints a private container runtime pulls images through."""
    from ...aws import ECR_ENDPOINT_SERVICES

    return ECR_ENDPOINT_SERVICES


def endpoint_actions() -> Mapping[str, tuple[str, ...] | None]:
    """Actions each interface endpoint admits; None: the whole API (``aws.ENDPOINT_ACTIONS``)."""
    from ...aws import ENDPOINT_ACTIONS

    return ENDPOINT_ACTIONS


def training_actions(ai_service: str) -> tuple[str, ...]:
    """What a training identity calls on the AI service (``aws.workloads``)."""
    from ...aws.workloads import BEDROCK_TRAINING_ACTIONS, SAGEMAKER_TRAINING_ACTIONS

    return BEDROCK_TRAINING_ACTIONS if ai_service == "bedrock" else SAGEMAKER_TRAINING_ACTIONS


def unscoped_actions() -> Mapping[str, str]:
    """Actions allowed on Resource "*", with the reason (``aws.UNSCOPED_ACTIONS``)."""
    from ...aws import UNSCOPED_ACTIONS

    return UNSCOPED_ACTIONS


def pii_entity_types() -> Mapping[str, tuple[str, ...]]:
    """Bedrock PII types behind each generic entity name (``aws.PII_ENTITY_TYPES``)."""
    from ...aws import PII_ENTITY_TYPES

    return PII_ENTITY_TYPES


def content_filter_types() -> tuple[str, ...]:
    """Content filter categories the guardrail applies (``aws.guardrail``)."""
    from ...aws.guardrail import CONTENT_FILTER_TYPES

    return CONTENT_FILTER_TYPES


def bedrock_invoke_actions() -> tuple[str, ...]:
    """Model invocation actions (``aws.identity.BEDROCK_INVOKE_ACTIONS``)."""
    from ...aws.identity import BEDROCK_INVOKE_ACTIONS

    return BEDROCK_INVOKE_ACTIONS


def cloudwatch_retention(days: int) -> int:
    """The CloudWatch Logs retention that keeps logs ``days`` (rounded up)."""
    from ...aws._common import cloudwatch_retention_days

    return cloudwatch_retention_days(days)


#: Pulumi's auto-name suffix: a dash and seven or eight random hex digits.
_AUTONAME_SUFFIX = r"-[0-9a-f]{7,8}"


def as_list(value: Any) -> list[Any]:
    """A JSON value that may be one item or a list, as a list."""
    if value is None:
        return []
    if isinstance(value, (str, Mapping)):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    return [value]


def document(resource: Resource, *path: str) -> dict[str, Any] | None:
    """The IAM document at ``path`` (a JSON string or an object), None when absent."""
    doc = resource.json(*path)
    return doc if isinstance(doc, Mapping) else None  # type: ignore[return-value]


def statements(doc: Mapping[str, Any] | None, effect: str | None = None) -> list[Mapping[str, Any]]:
    """The statements of a document (of one effect, when given)."""
    if doc is None:
        return []
    out = [s for s in as_list(doc.get("Statement")) if isinstance(s, Mapping)]
    if effect is not None:
        out = [s for s in out if s.get("Effect") == effect]
    return out


def actions(statement: Mapping[str, Any]) -> list[str]:
    return [str(a) for a in as_list(statement.get("Action"))]


def grants(statement: Mapping[str, Any], action: str) -> bool:
    """Whether the statement's actions, wildcards included, cover ``action`` (any case)."""
    wanted = action.lower()
    return any(fnmatch.fnmatchcase(wanted, granted.lower()) for granted in actions(statement))


def principals(statement: Mapping[str, Any]) -> dict[str, list[str]]:
    """Principals by kind (``AWS``, ``Service``, ``Federated``); ``"*"`` as ``{"*": ["*"]}``."""
    principal = statement.get("Principal")
    if principal is None:
        return {}
    if isinstance(principal, str):
        return {"*": [principal]} if principal == "*" else {"AWS": [principal]}
    return {str(kind): [str(p) for p in as_list(value)] for kind, value in principal.items()}


def is_public_principal(statement: Mapping[str, Any]) -> bool:
    """Principal ``*`` or ``{"AWS": "*"}``: anyone, any account."""
    found = principals(statement)
    return "*" in found or "*" in found.get("AWS", [])


def conditions(statement: Mapping[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Conditions as ``{operator: {key (lower case): [values]}}``."""
    raw = statement.get("Condition") or {}
    return {
        str(op): {
            str(key).lower(): [str(v) for v in as_list(values)] for key, values in block.items()
        }
        for op, block in raw.items()
    }


def condition_keys(statement: Mapping[str, Any]) -> set[str]:
    """Every condition key of a statement (lower case)."""
    return {key for block in conditions(statement).values() for key in block}


def has_condition(statement: Mapping[str, Any], *keys: str) -> bool:
    """Whether a condition on any of ``keys`` (case-insensitive; ``prefix*`` allowed) exists."""
    present = condition_keys(statement)
    for key in keys:
        wanted = key.lower()
        if wanted.endswith("*"):
            if any(k.startswith(wanted[:-1]) for k in present):
                return True
        elif wanted in present:
            return True
    return False


#: Address space that never routes over the internet: RFC 1918, shared (carrier-grade
#: NAT), link-local and loopback ranges, IPv6 unique-local and link-local.
_PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "127.0.0.0/8",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)


def is_internet(cidr: Any) -> bool:
    """Whether a CIDR reaches beyond private address space (``0.0.0.0/0``, public ranges)."""
    if not isinstance(cidr, str) or not cidr:
        return False
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return not any(
        network.version == private.version and network.subnet_of(private)  # type: ignore[arg-type]
        for private in _PRIVATE
    )


def of_type(resources: Iterable[Resource], *types: str) -> list[Resource]:
    return [r for r in resources if r.type in types]


def tail_name(reference: str) -> str:
    """The name an ARN or name reference designates.

    ``arn:aws:s3:::bucket/key`` gives ``bucket``; ``arn:aws:logs:r:a:log-group:name:*``
    gives ``name``; ``arn:aws:iam::a:role/path/name`` gives ``name``; a plain name is
    itself.
    """
    if not reference.startswith("arn:"):
        return reference
    parts = reference.split(":", 5)
    if len(parts) < 6:
        return reference
    service, rest = parts[2], parts[5]
    if service == "s3":
        return rest.split("/", 1)[0]
    if service == "logs" and rest.startswith("log-group:"):
        return rest[len("log-group:") :].split(":", 1)[0]
    if service == "secretsmanager" and rest.startswith("secret:"):
        return rest[len("secret:") :]
    if "/" in rest:
        return rest.rsplit("/", 1)[1]
    return rest.split(":", 1)[-1]


def _names(resource: Resource, name_keys: Sequence[str]) -> Iterator[str]:
    for key in name_keys:
        value = resource.get(key)
        if isinstance(value, str) and value:
            yield value


def refers_to(
    reference: Any,
    resource: Resource,
    *,
    name_keys: Sequence[str] = ("name",),
    prefix_keys: Sequence[str] = ("namePrefix",),
) -> bool:
    """Whether a name or ARN ``reference`` designates ``resource``.

    Explicit names (and ``arn``/``id`` when the view holds outputs) match exactly; a
    name prefix matches the start; without either, Pulumi's auto-name pattern.
    """
    if not isinstance(reference, str) or not reference:
        return False
    name = tail_name(reference)
    explicit = [*_names(resource, name_keys), *_names(resource, ("arn", "id"))]
    if explicit:
        return (
            reference in explicit
            or name in explicit
            or any(tail_name(e) == name for e in explicit if e.startswith("arn:"))
        )
    prefixes = list(_names(resource, prefix_keys))
    if prefixes:
        return any(name.startswith(prefix) for prefix in prefixes)
    return re.fullmatch(re.escape(resource.name) + _AUTONAME_SUFFIX, name) is not None


def bucket_refers_to(reference: Any, bucket: Resource) -> bool:
    """Whether a bucket name or ARN designates ``bucket`` (an ``aws:s3/bucket:Bucket``)."""
    return refers_to(reference, bucket, name_keys=("bucket",), prefix_keys=("bucketPrefix",))


def strings(value: Any) -> Iterator[str]:
    """Every string inside a (proxied) value, JSON documents parsed."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key in value:
            yield from strings(value[key])
    elif isinstance(value, Sequence):
        for item in value:
            yield from strings(item)
