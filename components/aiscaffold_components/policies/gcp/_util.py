"""Helpers of the GCP policies: durations, references between resources, IAM grants,
quantifiers that do not hang on the order of items.

Props are the engine's camelCase inputs (numbers as floats). A resource named by
Pulumi's auto-naming carries its cloud name in its props once the provider has checked
it (``pulumi preview``); offline runs may lack it, so a reference also matches the
logical name followed by Pulumi's random suffix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from .._core import Resource

if TYPE_CHECKING:
    from pulumi_policy.proxy import UnknownValueError

T = TypeVar("T")


# The components' own definitions, read when a policy runs: importing the GCP components
# at import time would load pulumi_gcp for every `check` of every cloud.
class GatewayConstants(NamedTuple):
    espv2_image: str
    waf_rules: tuple[str, ...]
    proxy_log_flags: tuple[str, ...]


class CostConstants(NamedTuple):
    spend_thresholds: tuple[float, ...]
    forecast_thresholds: tuple[float, ...]
    max_requests_per_minute: Callable[[int], int]


def gateway_constants() -> GatewayConstants:
    """ApiGateway's proxy image, Cloud Armor WAF rules and ESPv2 logging flags."""
    from ...gcp.gateway import ESPV2_IMAGE, PROXY_LOG_FLAGS, WAF_RULES

    return GatewayConstants(ESPV2_IMAGE, tuple(WAF_RULES), tuple(PROXY_LOG_FLAGS))


def cost_constants() -> CostConstants:
    """The cost component's budget thresholds and request-quota bound."""
    from ...gcp.cost import FORECAST_THRESHOLDS, SPEND_THRESHOLDS, max_requests_per_minute

    return CostConstants(
        tuple(SPEND_THRESHOLDS), tuple(FORECAST_THRESHOLDS), max_requests_per_minute
    )


DAY = 86400

#: Prefixes of resource types that make a stack an AI workload (as opposed to a stack
#: of supporting resources, such as the state backend).
AI_TYPE_PREFIXES = ("gcp:vertex/", "gcp:workbench/", "gcp:modelarmor/", "gcp:notebooks/")

#: Members that stand for everyone.
PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})

#: Roles that grant a whole service family (or everything) on their scope.
BASIC_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})

#: Roles that let their holder act as a service account.
IMPERSONATION_ROLES = frozenset(
    {
        "roles/iam.serviceAccountUser",
        "roles/iam.serviceAccountTokenCreator",
        "roles/iam.serviceAccountOpenIdTokenCreator",
        "roles/iam.workloadIdentityUser",
        "roles/iam.serviceAccountKeyAdmin",
        "roles/iam.serviceAccountAdmin",
    }
)


def _iam(module: str, *names: str, iam: str = "IAM") -> tuple[str, ...]:
    out = []
    for name in names:
        for kind in ("Member", "Binding", "Policy"):
            token = f"{name}{iam}{kind}"
            out.append(f"gcp:{module}/{token[0].lower()}{token[1:]}:{token}")
    return tuple(out)


#: Grants at project, folder and organization scope.
PROJECT_IAM_TYPES = _iam("projects", "") + _iam("folder", "") + _iam("organizations", "")
#: Grants on a service account (who may act as it).
SERVICE_ACCOUNT_IAM_TYPES = _iam("serviceaccount", "")
#: Grants on Cloud KMS keys and key rings.
KMS_IAM_TYPES = _iam("kms", "CryptoKey", "KeyRing")
#: Grants on Secret Manager secrets.
SECRET_IAM_TYPES = _iam("secretmanager", "Secret", "RegionalSecret", iam="Iam")
#: Every IAM grant type the policies read.
IAM_TYPES = (
    PROJECT_IAM_TYPES
    + SERVICE_ACCOUNT_IAM_TYPES
    + KMS_IAM_TYPES
    + SECRET_IAM_TYPES
    + _iam("storage", "Bucket")
    + _iam("storage", "ManagedFolder", iam="Iam")
    + _iam("pubsub", "Topic", "Subscription")
    + _iam("vertex", "AiEndpoint", "AiFeatureOnlineStore", "AiFeatureStore", iam="Iam")
    # the AI gateway: who may invoke a Cloud Run service, who reports for an API
    + _iam("cloudrunv2", "Service", iam="Iam")
    + _iam("endpoints", "Service", iam="Iam")
)

KEY_TYPE = "gcp:kms/cryptoKey:CryptoKey"
BUCKET_TYPE = "gcp:storage/bucket:Bucket"
SINK_TYPE = "gcp:logging/projectSink:ProjectSink"
LOG_BUCKET_TYPE = "gcp:logging/projectBucketConfig:ProjectBucketConfig"
AUDIT_CONFIG_TYPES = (
    "gcp:projects/iAMAuditConfig:IAMAuditConfig",
    "gcp:folder/iamAuditConfig:IamAuditConfig",
    "gcp:organizations/iamAuditConfig:IamAuditConfig",
)


def seconds(value: Any) -> float | None:
    """A Google API duration (``"86400s"``, ``"86400"`` or a number) in seconds."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)s?\s*", str(value))
    return float(match.group(1)) if match else None


def days_text(secs: float) -> str:
    days = secs / DAY
    return f"{days:g} days" if days != 1 else "1 day"


def last_segment(reference: str) -> str:
    return reference.rstrip("/").rsplit("/", 1)[-1]


#: Inputs that carry a resource's own name in Google Cloud (log buckets name theirs
#: with ``bucketId``).
_NAME_KEYS = ("name", "bucketId")


def refers_to(reference: Any, resource: Resource) -> bool:
    """Whether ``reference`` (an id, name, URL or ``service/<name>``) names ``resource``."""
    if not isinstance(reference, str) or not reference:
        return False
    last = last_segment(reference)
    for key in _NAME_KEYS:
        own = resource.get(key)
        if isinstance(own, str) and own:
            return last == last_segment(own)
    return re.fullmatch(re.escape(resource.name) + r"-[0-9a-f]{7}", last) is not None


def _first(pending: UnknownValueError | None, error: UnknownValueError) -> UnknownValueError:
    # The same unknown is reported whichever item a check meets first.
    return error if pending is None or error.message < pending.message else pending


def some(items: Iterable[T], test: Callable[[T], object]) -> bool:
    """Whether ``test`` holds for some item, in any order of the items.

    ``any()`` stops at the first item it meets: True when a known item passing comes
    first, but pulumi-policy's UnknownValueError when an item whose value is unknown
    during preview does, so a verdict would hang on the order of registration. Here a
    known item passing decides (True); else an unknown item leaves it open (its
    UnknownValueError is raised); else False.
    """
    from pulumi_policy.proxy import UnknownValueError

    pending: UnknownValueError | None = None
    for item in items:
        try:
            if test(item):
                return True
        except UnknownValueError as error:
            pending = _first(pending, error)
    if pending is not None:
        raise pending
    return False


def every(items: Iterable[T], test: Callable[[T], object]) -> bool:
    """Whether ``test`` holds for every item, in any order of the items: a known item
    failing decides (False); else an item whose value is unknown during preview leaves
    it open (its UnknownValueError is raised); else True. See :func:`some`."""
    from pulumi_policy.proxy import UnknownValueError

    pending: UnknownValueError | None = None
    for item in items:
        try:
            if not test(item):
                return False
        except UnknownValueError as error:
            pending = _first(pending, error)
    if pending is not None:
        raise pending
    return True


def audit_log_types(config: Resource) -> set[str]:
    """The log types an audit config records."""
    return {str(c.get("logType")) for c in config.items("auditLogConfigs")}


def audited(resources: Sequence[Resource], service: str) -> bool:
    """Whether an audit config of the stack records data reads and writes of ``service``."""
    return some(
        of_type(resources, *AUDIT_CONFIG_TYPES),
        lambda config: (
            config.get("service") in (service, "allServices")
            and {"DATA_READ", "DATA_WRITE"} <= audit_log_types(config)
        ),
    )


def of_type(resources: Iterable[Resource], *types: str) -> list[Resource]:
    return [r for r in resources if r.type in types]


def is_ai_workload(resources: Sequence[Resource]) -> bool:
    return any(r.type.startswith(AI_TYPE_PREFIXES) for r in resources)


def project_of(resource: Resource) -> str | None:
    value = resource.get("project")
    if not isinstance(value, str) or not value:
        value = resource.provider_props.get("project")
    return value if isinstance(value, str) and value else None


def grants(resource: Resource) -> Iterator[tuple[str, str]]:
    """The (role, member) pairs an IAM member, binding or policy resource grants."""
    if resource.type.endswith(("IAMPolicy", "IamPolicy")):
        document = resource.json("policyData") or {}
        for binding in document.get("bindings", []) if isinstance(document, Mapping) else []:
            for member in binding.get("members", []):
                yield str(binding.get("role", "")), str(member)
        return
    role = str(resource.get("role", default=""))
    if resource.type.endswith(("IAMBinding", "IamBinding")):
        for member in resource.items("members"):
            yield role, str(member)
    else:
        member = resource.get("member")
        if member is not None:
            yield role, str(member)


def walk_strings(value: Any) -> Iterator[str]:
    """Every string inside a props value (mappings and lists searched)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key in value:
            yield from walk_strings(value[key])
    elif isinstance(value, Sequence):
        for index in range(len(value)):
            yield from walk_strings(value[index])
