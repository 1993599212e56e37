"""Answers to aiscaffold's questions: types, defaults, choices and validation.

The questions themselves are declared in the template's ``copier.yml`` (so every answer
lands in ``.copier-answers.yml`` and ``copier update`` can ask new ones); their rules
live here, once: ``copier.yml`` calls :func:`default_for`, :func:`choices_for` and
:func:`problem` through aiscaffold's Jinja extension, and ``aiscaffold new`` checks
answers given on the command line with the same functions before rendering anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

import yaml
from aiscaffold_components.catalog import (
    FRAMEWORKS,
    Cloud,
    FrameworkId,
    Sensitivity,
    load_catalog,
)
from aiscaffold_components.profile import WORKLOADS, Profile, Workload, derive_profile
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from .errors import AnswersError, UsageError

__all__ = [
    "ASKED_WITH_GATEWAY",
    "CLOUD_ONLY",
    "QUESTION_KEYS",
    "Answers",
    "applies",
    "choices_for",
    "default_for",
    "dr_regions",
    "fill_defaults",
    "parse_data_options",
    "problem",
    "read_answers_file",
    "validate_answers",
]


def _pattern(regex: str, what: str, fix: str) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}; {fix}")
        return value

    return AfterValidator(check)


ProjectName = Annotated[
    str,
    _pattern(
        r"[a-z][a-z0-9]*(-[a-z0-9]+)*",
        "a valid project name",
        "use 3 to 30 lowercase letters, digits and single hyphens, starting with a "
        "letter (for example my-rag-app)",
    ),
    Field(min_length=3, max_length=30),
]
StackName = Annotated[
    str,
    _pattern(
        r"[a-z][a-z0-9]*(-[a-z0-9]+)*",
        "a valid stack name",
        "use up to 16 lowercase letters, digits and hyphens, starting with a letter "
        "(for example dev or prod)",
    ),
    Field(min_length=1, max_length=16),
]
Description = Annotated[
    str,
    _pattern(r"[^\n\r\t{}]*", "a one-line description", "use one line without braces"),
    Field(max_length=200),
]
ModelId = Annotated[
    str,
    _pattern(
        r"[A-Za-z0-9][A-Za-z0-9._:/@+-]*",
        "a model id",
        "use the provider's model id, for example us.anthropic.claude-sonnet-4-6 or "
        "gpt-5.1:2025-11-13",
    ),
    Field(max_length=200),
]
Topic = Annotated[
    str,
    _pattern(
        r"[0-9A-Za-z][0-9A-Za-z_ !?.-]*",
        "a denied topic name",
        "use letters, digits, spaces and - _ ! ? . (for example investment advice)",
    ),
    Field(max_length=100),
]

PiiAction = Literal["block", "anonymize"]
StateBackend = Literal["pulumi-cloud", "self-managed"]
AccountServices = Literal["this-stack", "shared"]

#: Questions asked only for some clouds (others never see them; their default holds).
CLOUD_ONLY: dict[str, Cloud] = {"gcp_org_policies": "gcp", "billing_account": "gcp"}

#: Questions asked only after an earlier answer, and required then (they have no
#: default): the gateway's identity provider, once there is a gateway to put before it.
ASKED_WITH_GATEWAY = ("gateway_oidc_issuer", "gateway_oidc_audience")
_ASKED_WHY = {
    "gateway_oidc_issuer": "the https issuer URL of the identity provider whose tokens "
    "callers present (for example https://login.microsoftonline.com/<tenant>/v2.0)",
    "gateway_oidc_audience": "the audience your callers' tokens carry (for example "
    "api://my-rag-app)",
}

#: A monthly budget above this is a typo, not a plan (in the billing currency).
MAX_MONTHLY_BUDGET = 10_000_000
BillingAccount = Annotated[
    str,
    _pattern(
        r"([0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6})?",
        "a billing account id",
        "use the id `gcloud billing accounts list` shows, like 012345-6789AB-CDEF01, or "
        "leave it empty to add the budget later",
    ),
]


def _issuer(value: str) -> str:
    """An OIDC issuer: an absolute https URL without query, fragment or credentials
    (OpenID Connect Discovery 1.0, section 2; the gateways fetch
    ``<issuer>/.well-known/openid-configuration`` from it)."""
    if not value:
        return value
    parsed = urlsplit(value)
    if (
        parsed.scheme != "https"
        or not parsed.hostname
        or parsed.query
        or parsed.fragment
        or parsed.username
        or any(c.isspace() for c in value)
    ):
        raise ValueError(
            f"{value!r} is not an OIDC issuer URL; use the https URL your identity "
            "provider names as `issuer` in its /.well-known/openid-configuration, without "
            "query or fragment (for example https://login.microsoftonline.com/<tenant>/v2.0)"
        )
    return value


OidcIssuer = Annotated[str, AfterValidator(_issuer), Field(max_length=2048)]
OidcAudience = Annotated[
    str,
    _pattern(
        r"([A-Za-z0-9][A-Za-z0-9._:/@+~-]*)?",
        "an OIDC audience",
        "use the audience your callers' tokens carry in their aud claim, without spaces "
        "or quotes (for example api://my-rag-app or https://api.example.com)",
    ),
    Field(max_length=256),
]
ApiGateway = Literal["none", "private", "public"]


class Answers(BaseModel):
    """A complete, valid set of answers (the keys of ``.copier-answers.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project_name: ProjectName
    description: Description = "AI workload infrastructure scaffolded by aiscaffold"
    cloud: Cloud = "aws"
    ai_service: str
    data_sensitivity: Sensitivity = "confidential"
    compliance: tuple[FrameworkId, ...] = ()
    region: str
    models: Annotated[tuple[ModelId, ...], Field(min_length=1, max_length=20)]
    stack: StackName = "dev"
    guardrail_denied_topics: Annotated[tuple[Topic, ...], Field(max_length=30)] = ()
    pii_action: PiiAction = "block"
    allow_internet_egress: bool = False
    state_backend: StateBackend = "self-managed"
    account_services: AccountServices = "this-stack"
    gcp_org_policies: bool = False
    alert_emails: Annotated[tuple[EmailStr, ...], Field(max_length=20)] = ()
    monthly_budget: Annotated[int, Field(ge=0, le=MAX_MONTHLY_BUDGET)] = 1000
    billing_account: BillingAccount = ""
    api_gateway: ApiGateway = "none"
    gateway_oidc_issuer: OidcIssuer = ""
    gateway_oidc_audience: OidcAudience = ""
    workloads: Annotated[tuple[Workload, ...], Field(min_length=1, max_length=3)] = ("inference",)
    dr_region: str = ""

    @model_validator(mode="after")
    def _cross_field(self) -> Answers:
        values = self.model_dump()
        for key in (
            "compliance",
            "ai_service",
            "region",
            "models",
            "guardrail_denied_topics",
            "gcp_org_policies",
            "alert_emails",
            "monthly_budget",
            "billing_account",
            "gateway_oidc_issuer",
            "gateway_oidc_audience",
            "workloads",
            "dr_region",
        ):
            message = _cross_check(key, values[key], values)
            if message:
                raise ValueError(f"{key}: {message}")
        for key in ASKED_WITH_GATEWAY:
            if applies(key, values) and not values[key]:
                raise ValueError(f"{key}: missing ({_ASKED_WHY[key]})")
        return self

    def profile(self) -> Profile:
        """The profile these answers select (settings derived through the catalog)."""
        return derive_profile(
            project=self.project_name,
            stack=self.stack,
            cloud=self.cloud,
            region=self.region,
            ai_service=self.ai_service,
            models=self.models,
            data_sensitivity=self.data_sensitivity,
            compliance=self.compliance,
            allow_internet_egress=self.allow_internet_egress,
            guardrail_denied_topics=self.guardrail_denied_topics,
            pii_action=self.pii_action,
            account_services=self.account_services,
            gcp_org_policies=self.gcp_org_policies,
            alert_emails=self.alert_emails,
            monthly_budget=self.monthly_budget,
            billing_account=self.billing_account,
            api_gateway=self.api_gateway,
            gateway_oidc_issuer=self.gateway_oidc_issuer,
            gateway_oidc_audience=self.gateway_oidc_audience,
            workloads=self.workloads,
            dr_region=self.dr_region,
        )


#: The questions, in the order they are asked (the order of copier.yml).
QUESTION_KEYS: tuple[str, ...] = tuple(Answers.model_fields)

# Questions whose answers are text: a --data value for them is taken as written, not
# parsed as YAML (so `--data project_name=2024` is the name "2024", not a number).
_STRING_KEYS = frozenset(
    {
        "project_name",
        "description",
        "cloud",
        "ai_service",
        "data_sensitivity",
        "region",
        "stack",
        "pii_action",
        "state_backend",
        "account_services",
        "billing_account",
        "api_gateway",
        "gateway_oidc_issuer",
        "gateway_oidc_audience",
        "dr_region",
    }
)


def applies(key: str, answers: Mapping[str, Any]) -> bool:
    """Whether question ``key`` is asked given the earlier answers (see CLOUD_ONLY and
    ASKED_WITH_GATEWAY)."""
    if key in ASKED_WITH_GATEWAY:
        return answers.get("api_gateway", "none") not in ("none", None)
    only = CLOUD_ONLY.get(key)
    return only is None or answers.get("cloud", "aws") == only


def allowed_regions(
    cloud: Cloud, compliance: tuple[FrameworkId, ...] | list[FrameworkId]
) -> tuple[str, ...]:
    """Regions of ``cloud`` that every chosen framework allows."""
    from aiscaffold_components.profile import derive_settings

    settings = derive_settings(cloud=cloud, data_sensitivity="public", compliance=compliance)
    regions: tuple[str, ...] = settings["allowed_regions"]
    return regions


def _cross_check(key: str, value: Any, answers: Mapping[str, Any]) -> str:
    """Rules that depend on earlier answers; "" when the answer is fine."""
    catalog = load_catalog()
    cloud = answers.get("cloud")
    if cloud not in catalog.clouds:
        return ""
    info = catalog.clouds[cloud]
    if key == "ai_service" and value not in info.ai_services:
        offered = ", ".join(info.ai_services)
        return f"{value!r} is not offered on {cloud}; choose one of: {offered}"
    if key == "compliance" and not allowed_regions(cloud, list(value or ())):
        return (
            f"{' and '.join(value)} together allow no {cloud} region (GDPR needs EU "
            "regions, FedRAMP US government regions); deploy them as separate projects"
        )
    if key == "region":
        compliance = list(answers.get("compliance") or ())
        allowed = allowed_regions(cloud, compliance)
        if value in allowed:
            # Does the region offer every resource type the project needs? (AWS: from
            # the CloudFormation schemas per region, kept as a data file.)
            from .api_models import region_problem

            return region_problem(cloud, str(answers.get("ai_service") or ""), value) or ""
        if not allowed:
            return ""  # the compliance answer already says no region can satisfy it
        if value not in info.region_group("all"):
            return (
                f"{value!r} is not a region of {info.title} that aiscaffold supports; "
                f"choose one of: {', '.join(allowed)}"
            )
        why = " and ".join(compliance)
        return f"{value!r} is not allowed by {why}; choose one of: {', '.join(allowed)}"
    if key == "dr_region" and value:
        return _dr_region_problem(str(value), answers, info)
    if key == "workloads" and value is not None:
        items = list(value)
        if "inference" not in items:
            return (
                "must include inference: the workload identity, guardrail and alarms every "
                "project has are the inference workload's; add training or "
                "data-processing next to it (for example [inference, training])"
            )
    if key == "monthly_budget" and value == 0:
        sensitivity = answers.get("data_sensitivity", "confidential")
        if sensitivity in ("confidential", "restricted"):
            return (
                f"0 (no budget) is not allowed for {sensitivity} data: a leaked key or a "
                "prompt loop shows first as a bill, and the budget's alerts are how you "
                "hear of it; give the expected monthly spend (for example 1000)"
            )
    if key in CLOUD_ONLY and value and not applies(key, answers):
        return f"applies to {CLOUD_ONLY[key]} projects only; leave it out for {cloud}"
    if key in ASKED_WITH_GATEWAY and value and not applies(key, answers):
        return (
            "applies only with a gateway (api_gateway private or public); leave it out, "
            "or choose the gateway too"
        )
    if (
        key in ("models", "guardrail_denied_topics", "alert_emails", "workloads")
        and value is not None
    ):
        items = list(value)
        duplicates = sorted({x for x in items if items.count(x) > 1})
        if duplicates:
            return f"lists {', '.join(duplicates)} more than once"
    return ""


def dr_regions(cloud: Cloud, compliance: list[FrameworkId], region: str) -> list[str]:
    """Regions a project in ``region`` may replicate to: those the frameworks allow, in
    the same partition (government and commercial regions of AWS and Azure share no
    accounts or keys), other than ``region`` itself."""
    info = load_catalog().clouds[cloud]
    government = info.regions["government"] if cloud != "gcp" else ()
    return [
        r
        for r in allowed_regions(cloud, compliance)
        if r != region and (r in government) == (region in government)
    ]


def _dr_region_problem(value: str, answers: Mapping[str, Any], info: Any) -> str:
    """The recovery region follows the rules of ``region`` and differs from it."""
    compliance = list(answers.get("compliance") or ())
    region = str(answers.get("region") or "")
    candidates = dr_regions(info.id, compliance, region)
    if value in candidates:
        return ""
    choose = f"choose one of: {', '.join(candidates)}, or leave it empty for no replica"
    if value == region:
        return f"{value!r} is the primary region: a replica there fails with it; {choose}"
    if value not in info.region_group("all"):
        return f"{value!r} is not a region of {info.title} that aiscaffold supports; {choose}"
    if value not in allowed_regions(info.id, compliance):
        why = " and ".join(compliance)
        return f"{value!r} is not allowed by {why} (the same rules as region); {choose}"
    return (
        f"{value!r} and {region!r} are in separate partitions ({info.title} government and "
        f"commercial regions share no accounts or keys); {choose}"
    )


def _field_problem(key: str, value: Any) -> str:
    try:
        _ADAPTERS[key].validate_python(value)
    except ValidationError as exc:
        return _describe(exc.errors()[0], value)
    return ""


_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    key: TypeAdapter(field.rebuild_annotation()) for key, field in Answers.model_fields.items()
}


def _describe(error: Mapping[str, Any], value: Any) -> str:
    """A pydantic error as a sentence about the user's answer."""
    kind = str(error["type"])
    given = error.get("input", value)
    ctx = error.get("ctx") or {}
    if kind == "literal_error":
        return f"{given!r} is not one of the choices: {ctx.get('expected', '')}"
    if kind == "bool_parsing" or kind == "bool_type":
        return f"{given!r} is not true or false"
    if kind in ("too_long", "string_too_long"):
        unit = "characters" if isinstance(given, str) else "entries"
        return f"is too long (at most {ctx.get('max_length')} {unit})"
    if kind in ("too_short", "string_too_short"):
        if not given:
            return "must not be empty"
        unit = "characters" if isinstance(given, str) else "entries"
        return f"is too short (at least {ctx.get('min_length')} {unit})"
    if kind in ("tuple_type", "list_type"):
        return f"{given!r} is not a list; write it as [a, b]"
    if kind == "string_type":
        return f"{given!r} is not text"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{given!r} is not a whole number; write it like 1000"
    if kind == "greater_than_equal":
        return f"{given!r} is negative; give 0 or more"
    if kind == "less_than_equal":
        return f"{given!r} is above {ctx.get('le'):,}; give the expected monthly spend"
    if kind == "value_error" and "email address" in str(error["msg"]):
        why = str(error["msg"]).split(": ", 2)[-1]
        return f"{given!r} is not an e-mail address ({why}); write it as name@example.com"
    return str(error["msg"]).removeprefix("Value error, ")


def problem(key: str, value: Any, answers: Mapping[str, Any] | None = None) -> str:
    """What is wrong with one answer, given the earlier answers; "" if nothing.

    Used by copier.yml validators and before rendering.
    """
    if key not in Answers.model_fields:
        return f"unknown question {key!r}"
    return _field_problem(key, value) or _cross_check(key, value, answers or {})


def default_for(key: str, answers: Mapping[str, Any]) -> Any:
    """The default answer to ``key`` given the earlier ``answers``."""
    catalog = load_catalog()
    cloud = answers.get("cloud", "aws")
    info = catalog.clouds[cloud] if cloud in catalog.clouds else catalog.clouds["aws"]
    if key == "ai_service":
        return next(iter(info.ai_services))
    if key == "region":
        allowed = allowed_regions(info.id, list(answers.get("compliance") or ()))
        return info.preferred_region(allowed) or ""
    if key == "models":
        service = info.ai_services.get(answers.get("ai_service", "")) or next(
            iter(info.ai_services.values())
        )
        # Defaults depend on the region (Bedrock inference profiles name a geography);
        # a region without a confirmed default has none: the models must be named.
        return list(service.defaults_for(answers.get("region"))) or None
    if key == "project_name" or key in ASKED_WITH_GATEWAY:
        return None  # no default: the team's identity provider
    default = Answers.model_fields[key].default
    return list(default) if isinstance(default, tuple) else default


def choices_for(key: str, answers: Mapping[str, Any]) -> list[str] | None:
    """The choices offered for ``key`` (None for free text)."""
    catalog = load_catalog()
    cloud = answers.get("cloud", "aws")
    info = catalog.clouds.get(cloud)
    if key == "cloud":
        return list(catalog.clouds)
    if key == "ai_service" and info:
        return list(info.ai_services)
    if key == "region" and info:
        return list(allowed_regions(info.id, list(answers.get("compliance") or ())))
    if key == "workloads":
        return list(WORKLOADS)
    if key == "compliance":
        return list(FRAMEWORKS)
    annotation = Answers.model_fields[key].annotation
    literal = get_args(annotation)
    if literal and all(isinstance(x, str) for x in literal):
        return list(literal)
    return None


def fill_defaults(answers: Mapping[str, Any]) -> dict[str, Any]:
    """``answers`` plus the default of every question left unanswered, in order."""
    filled = dict(answers)
    for key in QUESTION_KEYS:
        if key not in filled and applies(key, filled):
            default = default_for(key, filled)
            if default is not None:
                filled[key] = default
    return filled


def validate_answers(answers: Mapping[str, Any]) -> Answers:
    """Check answers one by one in question order, then as a whole.

    Raises:
        AnswersError: one line per invalid or unknown answer.
    """
    unknown = [k for k in answers if k not in Answers.model_fields]
    problems = [
        f"{k}: not a question of aiscaffold (questions: {', '.join(QUESTION_KEYS)})"
        for k in unknown
    ]
    seen: dict[str, Any] = {}
    for key in QUESTION_KEYS:
        if key in answers:
            field_message = _field_problem(key, answers[key])
            message = field_message or _cross_check(key, answers[key], seen)
            if message:
                problems.append(f"{key}: {message}")
            if not field_message:
                seen[key] = answers[key]
    missing = [
        k
        for k in QUESTION_KEYS
        if k not in answers and Answers.model_fields[k].is_required() and applies(k, answers)
    ]
    missing += [k for k in ASKED_WITH_GATEWAY if not answers.get(k) and applies(k, answers)]
    problems += [
        f"{k}: missing (no default model is confirmed in {answers.get('region')}; name the "
        "models your account offers there: --data 'models=[...]')"
        if k == "models" and answers.get("region")
        else f"{k}: missing ({_ASKED_WHY[k]})"
        if k in _ASKED_WHY
        else f"{k}: missing"
        for k in missing
    ]
    if problems:
        raise AnswersError(problems)
    try:
        return Answers.model_validate(dict(answers))
    except ValidationError as exc:  # cross-field rules not caught one by one
        raise AnswersError(
            [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
        ) from None


def _coerce(key: str, value: Any) -> Any:
    """Answers to string questions stay strings even when they look like YAML numbers."""
    if key in _STRING_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def parse_data_options(options: list[str]) -> dict[str, Any]:
    """``--data KEY=VALUE`` options; values are YAML (``compliance=[hipaa,gdpr]``).

    Raises:
        UsageError: an option is not KEY=VALUE or its value is not YAML.
    """
    data: dict[str, Any] = {}
    for option in options:
        key, sep, raw = option.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(
                f"--data {option!r} is not KEY=VALUE",
                hint="For example: --data cloud=azure --data compliance=[hipaa,gdpr]",
            )
        if key in _STRING_KEYS:
            data[key] = raw
            continue
        try:
            data[key] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem", None) or "not valid YAML"
            raise UsageError(
                f"--data {key}: {raw!r} is not a YAML value ({mark})",
                hint="Lists are written [a,b]; quote values with special characters.",
            ) from None
    return data


def read_answers_file(path: Path) -> dict[str, Any]:
    """An answers file: a YAML mapping of question keys (copier metadata keys ignored).

    Raises:
        UsageError: the file is missing, unreadable, not YAML or not a mapping.
    """
    if not path.is_file():
        raise UsageError(
            f"answers file {str(path)!r} does not exist",
            hint="Check the path given to --answers-file.",
        )
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"answers file {str(path)!r} cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise UsageError(
            f"answers file {str(path)!r} is not valid YAML{at}",
            hint="It must be a YAML mapping such as `cloud: aws`, one answer a line.",
        ) from None
    if not isinstance(loaded, dict):
        raise UsageError(
            f"answers file {str(path)!r} is not a mapping of answers",
            hint="Write one `key: value` per line, for example `cloud: aws`.",
        )
    return {str(k): _coerce(str(k), v) for k, v in loaded.items() if not str(k).startswith("_")}


def coerce_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _coerce(k, v) for k, v in answers.items()}
