"""The control catalog: controls, frameworks, clouds and profile settings.

The catalog is data (the YAML files beside this module); this module gives it types.
Everything else reads it: the generator (questions, regions, which settings a set of
answers selects), the components (settings through the profile), the policy packs
(control metadata and enforcement levels) and the docs.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AI_FRAMEWORKS",
    "CLOUDS",
    "FAMILIES",
    "FRAMEWORKS",
    "LIFECYCLE_STATUSES",
    "SENSITIVITIES",
    "AIFrameworkId",
    "AIService",
    "Catalog",
    "Clause",
    "Cloud",
    "CloudInfo",
    "Control",
    "Family",
    "Framework",
    "FrameworkId",
    "FrameworkKind",
    "Lifecycle",
    "LifecycleStatus",
    "ModelLifecycle",
    "ModelStatus",
    "Sensitivity",
    "Setting",
    "load_catalog",
    "model_status",
    "model_warnings",
]

Cloud = Literal["aws", "azure", "gcp"]
Sensitivity = Literal["public", "internal", "confidential", "restricted"]
SecurityFrameworkId = Literal["hipaa", "pci-dss", "soc2", "gdpr", "fedramp", "iso27001"]
AIFrameworkId = Literal["owasp-llm", "mitre-atlas", "nist-ai-rmf", "iso42001", "eu-ai-act"]
"""The AI risk frameworks (issue 14): ``kind: ai-risk`` in frameworks.yaml."""
FrameworkId = Literal[SecurityFrameworkId, AIFrameworkId]
FrameworkKind = Literal["security", "ai-risk"]
Family = Literal[
    "network",
    "private-endpoints",
    "encryption",
    "identity",
    "logging",
    "guardrails",
    "secrets",
    "governance",
    "detection",
    "cost",
    "gateway",
    "recovery",
]
Merge = Literal["max", "min", "any", "strongest", "union", "intersect"]
LifecycleStatus = Literal["current", "deprecated", "retired", "unknown"]

CLOUDS: tuple[Cloud, ...] = get_args(Cloud)
SENSITIVITIES: tuple[Sensitivity, ...] = get_args(Sensitivity)
FRAMEWORKS: tuple[FrameworkId, ...] = get_args(FrameworkId)
AI_FRAMEWORKS: tuple[AIFrameworkId, ...] = get_args(AIFrameworkId)
FAMILIES: tuple[Family, ...] = get_args(Family)
LIFECYCLE_STATUSES: tuple[LifecycleStatus, ...] = get_args(LifecycleStatus)

_DATA = Path(__file__).parent


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Clause(_Model):
    """One clause of a framework."""

    id: str
    title: str
    customer: str | None = None
    """Why infrastructure alone cannot satisfy the clause; None when controls address it."""


class Framework(_Model):
    id: FrameworkId
    title: str
    version: str
    source: str
    """The official text the clause ids come from (https); the OSCAL component
    definition names it as its control implementations' source."""
    kind: FrameworkKind = "security"
    """``ai-risk`` for the AI risk frameworks (mapped only to AI-specific controls, or
    with a reason: ``Control.ai_reasons``); ``security`` for the others."""
    clause_pattern: str
    clauses: dict[str, Clause]

    @field_validator("source")
    @classmethod
    def _https_source(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError(f"framework source {value!r} is not an https URL")
        return value

    @model_validator(mode="after")
    def _kind_matches_id(self) -> Framework:
        expected = "ai-risk" if self.id in AI_FRAMEWORKS else "security"
        if self.kind != expected:
            raise ValueError(f"framework {self.id} must have kind {expected}, not {self.kind}")
        return self

    @model_validator(mode="before")
    @classmethod
    def _clause_ids(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("clauses"), dict):
            data = dict(data)
            data["clauses"] = {str(k): {"id": str(k), **v} for k, v in data["clauses"].items()}
        return data

    def clause(self, clause_id: str) -> Clause:
        return self.clauses[clause_id]


class ModelLifecycle(_Model):
    """The dates a provider publishes for one model id (either may be unpublished)."""

    deprecated: date | None = None
    """From this day new customers (or new deployments) are refused: Azure's deprecation
    ("no new customers") or Legacy stage, Bedrock's Legacy date, Vertex's "new access
    blocked" (a month before retirement). Existing users keep working until ``retired``."""
    retired: date | None = None
    """From this day every call fails: Azure's retirement, Bedrock's end-of-life (EOL),
    Vertex's retirement (discontinuation) date."""
    note: str | None = None
    """Where a date comes from when not from ``source``, or why one is missing."""

    @model_validator(mode="after")
    def _order(self) -> ModelLifecycle:
        if self.deprecated and self.retired and self.deprecated > self.retired:
            raise ValueError(f"deprecated {self.deprecated} is after retired {self.retired}")
        return self


class Lifecycle(_Model):
    """A provider's lifecycle table for one AI service: data to maintain, with its date."""

    source: str
    """The provider's lifecycle page (https): the dates below are copied from it."""
    checked: date
    """When the table was last compared with ``source``."""
    prefixes: tuple[str, ...] = ()
    """Routing prefixes of model ids that share the base model's lifecycle (Bedrock's
    cross-region inference profiles: ``us.anthropic.claude-...``)."""
    models: dict[str, ModelLifecycle] = Field(default_factory=dict)

    @field_validator("source")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError(f"lifecycle source {value!r} is not an https URL")
        return value

    def entry(self, model_id: str) -> ModelLifecycle | None:
        """The lifecycle of ``model_id``, a routing prefix removed; None when unlisted."""
        if model_id in self.models:
            return self.models[model_id]
        head, _, rest = model_id.partition(".")
        if head in self.prefixes and rest in self.models:
            return self.models[rest]
        return None


class ModelStatus(NamedTuple):
    """Where a model stands on a given day, per its provider's lifecycle page."""

    status: LifecycleStatus
    when: date | None
    """The date that decided ``status`` (deprecation or retirement); None otherwise."""
    source: str | None
    """The provider's lifecycle page; None when the service has no lifecycle table."""


class AIService(_Model):
    id: str
    title: str
    default_models: tuple[str, ...]
    default_models_by_region: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Defaults for regions whose name starts with the key (``eu-``), where the
    ``default_models`` cannot be called: a cross-region inference profile names its
    geography (``us.`` profiles route within the US only)."""
    lifecycle: Lifecycle | None = None

    def defaults_for(self, region: str | None) -> tuple[str, ...]:
        """The default models in ``region`` (the longest matching prefix wins)."""
        if region:
            matches = [p for p in self.default_models_by_region if region.startswith(p)]
            if matches:
                return self.default_models_by_region[max(matches, key=len)]
        return self.default_models

    def model_status(self, model_id: str, today: date) -> ModelStatus:
        """``current``, ``deprecated``, ``retired`` or ``unknown`` (not in the table)."""
        if self.lifecycle is None:
            return ModelStatus("unknown", None, None)
        source = self.lifecycle.source
        entry = self.lifecycle.entry(model_id)
        if entry is None:
            return ModelStatus("unknown", None, source)
        if entry.retired is not None and today >= entry.retired:
            return ModelStatus("retired", entry.retired, source)
        if entry.deprecated is not None and today >= entry.deprecated:
            return ModelStatus("deprecated", entry.deprecated, source)
        return ModelStatus("current", None, source)


class CloudInfo(_Model):
    id: Cloud
    title: str
    default_regions: tuple[str, ...]
    """Preferred regions: the default is the first one the chosen frameworks allow."""
    regions: dict[Literal["commercial", "government", "eu"], tuple[str, ...]]
    notes: dict[FrameworkId, str] = Field(default_factory=dict)
    ai_services: dict[str, AIService]

    @model_validator(mode="before")
    @classmethod
    def _service_ids(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("ai_services"), dict):
            data = dict(data)
            data["ai_services"] = {k: {"id": k, **v} for k, v in data["ai_services"].items()}
        return data

    @property
    def default_region(self) -> str:
        return self.default_regions[0]

    def preferred_region(self, allowed: tuple[str, ...]) -> str | None:
        """The default region among ``allowed`` (None when nothing is allowed)."""
        for region in self.default_regions:
            if region in allowed:
                return region
        return allowed[0] if allowed else None

    def region_group(self, group: str) -> tuple[str, ...]:
        """Regions in a named group; ``all`` is every region of the cloud."""
        if group == "all":
            seen = dict.fromkeys(self.regions["commercial"] + self.regions["government"])
            return tuple(seen)
        return self.regions[group]  # type: ignore[index]


class Control(_Model):
    id: str
    family: Family
    title: str
    description: str
    mandatory_from: Sensitivity
    frameworks: dict[FrameworkId, tuple[str, ...]]
    implemented_by: dict[Cloud, tuple[str, ...]] = Field(default_factory=dict)
    not_applicable: dict[Cloud, str] = Field(default_factory=dict)
    answers: tuple[str, ...] = ()
    ai_reasons: dict[AIFrameworkId, str] = Field(default_factory=dict)
    """Why a control outside the AI-specific ones cites an AI risk framework: the
    framework's own text names what the control does (one line per framework)."""
    advisory_only: bool = False
    """Its policies never block (best-effort controls: anomaly detection, quotas)."""

    @model_validator(mode="after")
    def _reasons_for_cited(self) -> Control:
        stray = sorted(set(self.ai_reasons) - set(self.frameworks))
        if stray:
            raise ValueError(f"{self.id}: ai_reasons for frameworks it does not cite: {stray}")
        return self

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{2,4}-\d{2}", value):
            raise ValueError(f"control id {value!r} is not of the form ABC-01")
        return value

    def components(self, cloud: Cloud) -> tuple[str, ...]:
        """Type tokens of the components implementing this control on ``cloud``."""
        return tuple(f"aiscaffold:{cloud}:{name}" for name in self.implemented_by.get(cloud, ()))

    def applies_to(self, cloud: Cloud) -> bool:
        return cloud not in self.not_applicable

    def clauses(self, frameworks: tuple[FrameworkId, ...] | None = None) -> list[str]:
        """Clauses as ``"<framework> <clause>"`` strings, for the given frameworks or all."""
        return [
            f"{fw} {clause}"
            for fw, clauses in self.frameworks.items()
            if frameworks is None or fw in frameworks
            for clause in clauses
        ]


class Setting(_Model):
    """A profile setting and how answers select its value (see settings.yaml)."""

    name: str
    control: str
    merge: Merge
    order: tuple[str, ...] | None = None
    sensitivity: dict[Sensitivity, Any]
    frameworks: dict[FrameworkId, Any] = Field(default_factory=dict)
    why: dict[FrameworkId, str] = Field(default_factory=dict)


class Catalog(_Model):
    families: dict[Family, str]
    controls: tuple[Control, ...]
    frameworks: dict[FrameworkId, Framework]
    clouds: dict[Cloud, CloudInfo]
    settings: dict[str, Setting]

    def ai_frameworks(self) -> list[Framework]:
        """The AI risk frameworks (``kind: ai-risk``), in catalog order."""
        return [f for f in self.frameworks.values() if f.kind == "ai-risk"]

    def control(self, control_id: str) -> Control:
        for control in self.controls:
            if control.id == control_id:
                return control
        raise KeyError(control_id)

    def select(
        self, *, cloud: Cloud | None = None, framework: FrameworkId | None = None
    ) -> list[Control]:
        """Controls that apply to ``cloud`` and cite ``framework`` (either may be None)."""
        return [
            c
            for c in self.controls
            if (cloud is None or c.applies_to(cloud))
            and (framework is None or framework in c.frameworks)
        ]

    def is_mandatory(
        self,
        control: Control,
        sensitivity: Sensitivity,
        frameworks: tuple[FrameworkId, ...] | list[FrameworkId],
    ) -> bool:
        """A control blocks when a chosen framework cites it or the sensitivity reaches it
        (never when it is advisory only)."""
        if control.advisory_only:
            return False
        if any(fw in control.frameworks for fw in frameworks):
            return True
        return SENSITIVITIES.index(sensitivity) >= SENSITIVITIES.index(control.mandatory_from)

    def settings_for(self, control_id: str) -> list[Setting]:
        return [s for s in self.settings.values() if s.control == control_id]


#: libyaml's safe loader when PyYAML was built with it (the wheels are): the catalog is
#: read by every check, program and policy pack run, and libyaml reads it about ten
#: times faster (controls.yaml: ~10 ms instead of ~100 ms). Same safe constructors.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(name: str) -> Any:
    with (_DATA / name).open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_LOADER)  # noqa: S506 - a safe loader


def model_status(
    cloud: Cloud, service: str, model_id: str, today: date | None = None
) -> ModelStatus:
    """Lifecycle status of ``model_id`` of ``service`` on ``cloud`` on ``today``.

    ``unknown`` when the cloud, the service or the model is not in the catalog: the
    catalog lists the defaults, their predecessors and common alternatives, not every
    model a provider offers.
    """
    info = load_catalog().clouds.get(cloud)
    ai_service = info.ai_services.get(service) if info else None
    if ai_service is None:
        return ModelStatus("unknown", None, None)
    return ai_service.model_status(model_id, today or date.today())


def model_warnings(
    cloud: Cloud, service: str, models: tuple[str, ...] | list[str], today: date | None = None
) -> list[str]:
    """One line per deprecated or retired model of ``models``, with its date and source."""
    lines = []
    for model in models:
        status, when, source = model_status(cloud, service, model, today)
        if status == "retired":
            lines.append(
                f"model {model} was retired on {when}: every call to it fails; "
                f"choose a current model (see {source})"
            )
        elif status == "deprecated":
            lines.append(
                f"model {model} is deprecated since {when}: new customers may be refused "
                f"and it retires later; choose a current model (see {source})"
            )
    return lines


@functools.cache
def load_catalog() -> Catalog:
    """Load and validate the catalog shipped with aiscaffold (cached)."""
    controls = _read("controls.yaml")
    frameworks = _read("frameworks.yaml")
    clouds = _read("clouds.yaml")
    settings = _read("settings.yaml")
    return Catalog.model_validate(
        {
            "families": controls["families"],
            "controls": controls["controls"],
            "frameworks": {k: {"id": k, **v} for k, v in frameworks.items()},
            "clouds": {k: {"id": k, **v} for k, v in clouds.items()},
            "settings": {k: {"name": k, **v} for k, v in settings.items()},
        }
    )
