"""The control catalog: controls, frameworks, clouds and profile settings.

The catalog is data (the YAML files beside this module); this module gives it types.
Everything else reads it: the generator (questions, regions, which settings a set of
answers selects), the components (settings through the profile), the policy packs
(control metadata and enforcement levels) and the docs.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "CLOUDS",
    "FAMILIES",
    "FRAMEWORKS",
    "SENSITIVITIES",
    "AIService",
    "Catalog",
    "Clause",
    "Cloud",
    "CloudInfo",
    "Control",
    "Family",
    "Framework",
    "FrameworkId",
    "Sensitivity",
    "Setting",
    "load_catalog",
]

Cloud = Literal["aws", "azure", "gcp"]
Sensitivity = Literal["public", "internal", "confidential", "restricted"]
FrameworkId = Literal["hipaa", "pci-dss", "soc2", "gdpr", "fedramp", "iso27001"]
Family = Literal[
    "network",
    "private-endpoints",
    "encryption",
    "identity",
    "logging",
    "guardrails",
    "secrets",
    "governance",
]
Merge = Literal["max", "min", "any", "strongest", "union", "intersect"]

CLOUDS: tuple[Cloud, ...] = get_args(Cloud)
SENSITIVITIES: tuple[Sensitivity, ...] = get_args(Sensitivity)
FRAMEWORKS: tuple[FrameworkId, ...] = get_args(FrameworkId)
FAMILIES: tuple[Family, ...] = get_args(Family)

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
    clause_pattern: str
    clauses: dict[str, Clause]

    @model_validator(mode="before")
    @classmethod
    def _clause_ids(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("clauses"), dict):
            data = dict(data)
            data["clauses"] = {str(k): {"id": str(k), **v} for k, v in data["clauses"].items()}
        return data

    def clause(self, clause_id: str) -> Clause:
        return self.clauses[clause_id]


class AIService(_Model):
    id: str
    title: str
    default_models: tuple[str, ...]


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

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{2,3}-\d{2}", value):
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
        """A control blocks when a chosen framework cites it or the sensitivity reaches it."""
        if any(fw in control.frameworks for fw in frameworks):
            return True
        return SENSITIVITIES.index(sensitivity) >= SENSITIVITIES.index(control.mandatory_from)

    def settings_for(self, control_id: str) -> list[Setting]:
        return [s for s in self.settings.values() if s.control == control_id]


def _read(name: str) -> Any:
    with (_DATA / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


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
