"""The profile: a project's answers plus the concrete settings they select.

``derive_profile`` turns answers into settings through the catalog's settings table
(``catalog/settings.yaml``): a value per data sensitivity, combined with the value of
every chosen framework by the setting's merge rule. No setting is decided by code
paths here. A generated project stores the profile as namespaced Pulumi stack config;
``Profile.from_config`` reads it back inside the Pulumi program.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from .catalog import (
    Catalog,
    Cloud,
    FrameworkId,
    Sensitivity,
    Setting,
    load_catalog,
)

if TYPE_CHECKING:
    import pulumi

__all__ = [
    "ANSWER_KEYS",
    "PROVIDER_REGION_KEYS",
    "SETTING_KEYS",
    "WORKLOADS",
    "Profile",
    "ProfileConfigError",
    "Workload",
    "derive_profile",
    "derive_settings",
]

#: Stack config key that carries the region, per cloud (the provider's own key).
PROVIDER_REGION_KEYS: dict[Cloud, str] = {
    "aws": "aws:region",
    "azure": "azure-native:location",
    "gcp": "gcp:region",
}

Strength = Literal["LOW", "MEDIUM", "HIGH"]
#: Workload types a project separates (SEG-01..03): each gets its own identity, network
#: segment and data access. ``inference`` calls the models; ``training`` trains or adapts
#: models with the AI service's own jobs; ``data-processing`` is the team's batch jobs
#: turning raw data into curated data.
Workload = Literal["inference", "training", "data-processing"]
WORKLOADS: tuple[Workload, ...] = ("inference", "training", "data-processing")


class Profile(BaseModel):
    """Everything a generated program needs to know about its project's choices.

    Answer fields mirror the questions; setting fields are derived from them by
    :func:`derive_profile` and may be tightened by hand in the stack config.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # -- identity of the deployment
    project: str
    stack: str
    # -- answers
    cloud: Cloud
    region: str
    ai_service: str
    models: tuple[str, ...]
    data_sensitivity: Sensitivity
    compliance: tuple[FrameworkId, ...]
    allow_internet_egress: bool = False
    guardrail_denied_topics: tuple[str, ...] = ()
    pii_action: Literal["block", "anonymize"] = "block"
    account_services: Literal["this-stack", "shared"] = "this-stack"
    """Who owns the account-, region- or subscription-level singletons (Bedrock
    invocation logging today; threat detection and cost monitors later): this stack
    creates them, or another stack or a central team does and this stack creates none."""
    gcp_org_policies: bool = False
    """GCP: create the project's organization policies (needs an organization-level
    role, ``roles/orgpolicy.policyAdmin``); false leaves them to the organization."""
    alert_emails: tuple[str, ...] = ()
    """Addresses subscribed to the project's alert channel (security and cost alerts);
    empty: the channel exists and subscriptions are added later (README, "Alerts")."""
    monthly_budget: int = 1000
    """Expected monthly spend in the billing currency (COST-01); 0: no budget."""
    billing_account: str = ""
    """GCP: the billing account the budget attaches to; empty: no budget is created."""
    api_gateway: Literal["none", "private", "public"] = "none"
    """The front door (API-01..05): none (the workload is reached only inside the
    network), a private gateway, or a public one behind a web application firewall."""
    gateway_oidc_issuer: str = ""
    """The https issuer URL whose tokens the gateway accepts (api_gateway not none)."""
    gateway_oidc_audience: str = ""
    """The audience the gateway requires in callers' tokens (api_gateway not none)."""
    workloads: tuple[Workload, ...] = ("inference",)
    """Workload types with their own identity, segment and data zones (SEG-01..03)."""
    dr_region: str = ""
    """Region of the same cloud the curated data and model artifacts replicate to
    (REC-01); empty: no replica."""
    # -- derived settings (catalog/settings.yaml)
    allowed_regions: tuple[str, ...]
    log_retention_days: int
    key_rotation_days: int
    key_deletion_window_days: int
    immutable_logs: bool
    hsm_keys: bool
    flow_log_sampling: float
    content_filter_strength: Strength
    pii_entities: tuple[str, ...]
    sensitive_data_protection: Literal["basic", "advanced"]
    secret_rotation_days: int
    deletion_protection: bool
    gateway_rate_limit: int
    """Requests per second the gateway admits (API-02), per caller where metered."""
    gateway_burst_limit: int
    """Requests the gateway admits at once above the rate (API-02)."""
    gateway_tokens_per_minute: int
    """Model tokens per minute the gateway admits where it meters tokens (API-02)."""

    @property
    def tags(self) -> dict[str, str]:
        """Standard tags every taggable resource carries (control GOV-01).

        Values use only lowercase letters, digits, ``-`` and ``_`` so that every cloud
        accepts them unchanged, GCP labels included.
        """
        return {
            "project": self.project,
            "stack": self.stack,
            "data-classification": self.data_sensitivity,
            "managed-by": "aiscaffold",
            "compliance": compliance_tag(self.compliance),
        }

    def is_mandatory(self, control_id: str) -> bool:
        """Whether the control's policies block a deployment for this profile."""
        catalog = load_catalog()
        return catalog.is_mandatory(
            catalog.control(control_id), self.data_sensitivity, self.compliance
        )

    def stack_config(self, namespace: str | None = None) -> dict[str, Any]:
        """The profile as Pulumi stack config (``Pulumi.<stack>.yaml`` ``config:``).

        Keys are namespaced by the project (or ``namespace``, for a second program
        such as the state-backend bootstrap that reads the same profile).
        """
        exclude = {"project", "stack", "region"}
        if self.cloud != "gcp":
            exclude.add("gcp_org_policies")  # asked on GCP only
        values = self.model_dump(mode="json", exclude=exclude)
        prefix = namespace or self.project
        config: dict[str, Any] = {PROVIDER_REGION_KEYS[self.cloud]: self.region}
        config.update({f"{prefix}:{key}": value for key, value in values.items()})
        return config

    @classmethod
    def from_config(cls, config: pulumi.Config | None = None) -> Profile:
        """Read the profile from the running stack's config.

        Raises:
            ProfileConfigError: a key is missing or holds a value of the wrong type;
                the message names the key and the ``pulumi config set`` that fixes it.
        """
        import pulumi

        config = config or pulumi.Config()
        project, stack = pulumi.get_project(), pulumi.get_stack()
        raw: dict[str, str | None] = {
            name: config.get(name) for name in cls.model_fields if name not in _IDENTITY
        }
        region_key = {str(k): v for k, v in PROVIDER_REGION_KEYS.items()}.get(
            raw.get("cloud") or ""
        )
        if region_key:
            namespace, key = region_key.split(":")
            raw["region"] = pulumi.Config(namespace).get(key)
        return cls.from_mapping(raw, project=project, stack=stack)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, str | None], *, project: str, stack: str) -> Profile:
        """Build a profile from config strings (JSON for lists, numbers, booleans)."""
        missing = [
            name
            for name, field in cls.model_fields.items()
            if name not in _IDENTITY and field.is_required() and raw.get(name) is None
        ]
        if missing:
            key = missing[0]
            where = "the provider's region key" if key == "region" else f"'{project}:{key}'"
            raise ProfileConfigError(
                f"stack config lacks {', '.join(missing)} ({where} first); restore "
                f"Pulumi.{stack}.yaml from the template (aiscaffold update) or run "
                f"`pulumi config set {key} <value>`"
            )
        values: dict[str, Any] = {"project": project, "stack": stack}
        for name, text in raw.items():
            if text is None:
                continue
            adapter: TypeAdapter[Any] = TypeAdapter(cls.model_fields[name].rebuild_annotation())
            try:
                values[name] = adapter.validate_json(text)
            except ValidationError:
                try:
                    values[name] = adapter.validate_python(text)
                except ValidationError as exc:
                    message = exc.errors()[0]["msg"]
                    raise ProfileConfigError(
                        f"stack config '{project}:{name}' = {text!r} is invalid ({message}); "
                        f"fix it with `pulumi config set {name} <value>`"
                    ) from None
        return cls.model_validate(values)


_IDENTITY = frozenset({"project", "stack"})

#: Keys of the profile that are answers to the questions.
ANSWER_KEYS: tuple[str, ...] = (
    "cloud",
    "region",
    "ai_service",
    "models",
    "data_sensitivity",
    "compliance",
    "allow_internet_egress",
    "guardrail_denied_topics",
    "pii_action",
    "account_services",
    "gcp_org_policies",
    "alert_emails",
    "monthly_budget",
    "billing_account",
    "api_gateway",
    "gateway_oidc_issuer",
    "gateway_oidc_audience",
    "workloads",
    "dr_region",
)

#: Keys of the profile derived from the catalog's settings table.
SETTING_KEYS: tuple[str, ...] = tuple(
    name for name in Profile.model_fields if name not in _IDENTITY and name not in ANSWER_KEYS
)


#: The longest tag value every cloud accepts (GCP labels: 63 characters).
TAG_VALUE_MAX = 63


def compliance_tag(compliance: Sequence[str]) -> str:
    """The ``compliance`` tag: the chosen frameworks joined by ``_`` ("none" without
    any). Beyond :data:`TAG_VALUE_MAX` characters the first frameworks that fit are kept
    and the rest counted (``..._and-2-more``): the policy file lists them all."""
    if not compliance:
        return "none"
    joined = "_".join(compliance)
    if len(joined) <= TAG_VALUE_MAX:
        return joined
    for keep in range(len(compliance) - 1, 0, -1):
        value = "_".join(compliance[:keep]) + f"_and-{len(compliance) - keep}-more"
        if len(value) <= TAG_VALUE_MAX:
            return value
    return f"{len(compliance)}-frameworks"


class ProfileConfigError(ValueError):
    """The stack config does not hold a valid profile."""


def _merge(setting: Setting, values: Sequence[Any], cloud: Cloud, catalog: Catalog) -> Any:
    rule = setting.merge
    if rule == "max":
        return max(values)
    if rule == "min":
        return min(values)
    if rule == "any":
        return any(values)
    if rule == "strongest":
        assert setting.order is not None, f"setting {setting.name} needs an order"
        return max(values, key=setting.order.index)
    if rule == "union":
        seen: dict[str, None] = {}
        for value in values:
            seen.update(dict.fromkeys(value))
        return tuple(seen)
    # intersect: region groups of the cloud
    info = catalog.clouds[cloud]
    groups = [info.region_group(group) for group in values]
    return tuple(region for region in groups[0] if all(region in g for g in groups[1:]))


def derive_settings(
    *,
    cloud: Cloud,
    data_sensitivity: Sensitivity,
    compliance: Iterable[FrameworkId],
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """The settings (``SETTING_KEYS``) that a sensitivity and frameworks select."""
    catalog = catalog or load_catalog()
    frameworks = list(compliance)
    settings: dict[str, Any] = {}
    for name, setting in catalog.settings.items():
        values = [setting.sensitivity[data_sensitivity]]
        values += [setting.frameworks[fw] for fw in frameworks if fw in setting.frameworks]
        settings[name] = _merge(setting, values, cloud, catalog)
    return settings


def derive_profile(
    *,
    project: str,
    stack: str,
    cloud: Cloud,
    region: str,
    ai_service: str,
    models: Iterable[str],
    data_sensitivity: Sensitivity,
    compliance: Iterable[FrameworkId],
    allow_internet_egress: bool = False,
    guardrail_denied_topics: Iterable[str] = (),
    pii_action: Literal["block", "anonymize"] = "block",
    account_services: Literal["this-stack", "shared"] = "this-stack",
    gcp_org_policies: bool = False,
    alert_emails: Iterable[str] = (),
    monthly_budget: int = 1000,
    billing_account: str = "",
    api_gateway: Literal["none", "private", "public"] = "none",
    gateway_oidc_issuer: str = "",
    gateway_oidc_audience: str = "",
    workloads: Iterable[Workload] = ("inference",),
    dr_region: str = "",
) -> Profile:
    """Derive a project's profile from its answers through the catalog."""
    frameworks = tuple(compliance)
    return Profile(
        project=project,
        stack=stack,
        cloud=cloud,
        region=region,
        ai_service=ai_service,
        models=tuple(models),
        data_sensitivity=data_sensitivity,
        compliance=frameworks,
        allow_internet_egress=allow_internet_egress,
        guardrail_denied_topics=tuple(guardrail_denied_topics),
        pii_action=pii_action,
        account_services=account_services,
        gcp_org_policies=gcp_org_policies,
        alert_emails=tuple(alert_emails),
        monthly_budget=monthly_budget,
        billing_account=billing_account,
        api_gateway=api_gateway,
        gateway_oidc_issuer=gateway_oidc_issuer,
        gateway_oidc_audience=gateway_oidc_audience,
        workloads=tuple(workloads),
        dr_region=dr_region,
        **derive_settings(cloud=cloud, data_sensitivity=data_sensitivity, compliance=frameworks),
    )
