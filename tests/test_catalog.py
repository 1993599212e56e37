"""The control catalog is consistent: ids, families, clauses, settings, components."""

from __future__ import annotations

import importlib
import re

import pytest
from aiscaffold_components.catalog import AI_FRAMEWORKS, CLOUDS, FAMILIES, FRAMEWORKS, load_catalog

catalog = load_catalog()


def test_control_ids_are_unique_and_stable_shaped() -> None:
    ids = [c.id for c in catalog.controls]
    assert len(ids) == len(set(ids)), "duplicate control ids"
    prefixes = {c.family: c.id.split("-")[0] for c in catalog.controls}
    # one id prefix per family, so an id tells its family
    assert len(set(prefixes.values())) == len(prefixes)


def test_every_family_has_controls() -> None:
    assert set(catalog.families) == set(FAMILIES)
    for family in FAMILIES:
        assert any(c.family == family for c in catalog.controls), family


def test_every_framework_is_described() -> None:
    assert set(catalog.frameworks) == set(FRAMEWORKS)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_framework_names_its_official_source(framework: str) -> None:
    fw = catalog.frameworks[framework]  # type: ignore[index]
    assert fw.source is not None and fw.source.startswith("https://"), framework
    assert fw.kind == ("ai-risk" if framework in AI_FRAMEWORKS else "security")


def test_ai_reasons_explain_ai_frameworks_the_control_cites() -> None:
    for control in catalog.controls:
        for fw, why in control.ai_reasons.items():
            assert fw in AI_FRAMEWORKS and fw in control.frameworks, (control.id, fw)
            assert why.strip(), (control.id, fw)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_clauses_are_well_formed(framework: str) -> None:
    fw = catalog.frameworks[framework]  # type: ignore[index]
    pattern = re.compile(fw.clause_pattern)
    for clause in fw.clauses:
        assert pattern.fullmatch(clause), f"{framework} clause {clause!r} is malformed"


def test_cited_clauses_exist() -> None:
    for control in catalog.controls:
        for fw, clauses in control.frameworks.items():
            known = catalog.frameworks[fw].clauses
            for clause in clauses:
                assert clause in known, f"{control.id} cites unknown {fw} clause {clause!r}"
                assert known[clause].customer is None, (
                    f"{control.id} cites {fw} {clause}, marked customer responsibility"
                )


def test_every_clause_is_cited_or_customer_responsibility() -> None:
    cited = {(fw, cl) for c in catalog.controls for fw, cls in c.frameworks.items() for cl in cls}
    for fw, framework in catalog.frameworks.items():
        for clause_id, clause in framework.clauses.items():
            assert (fw, clause_id) in cited or clause.customer, (
                f"{fw} {clause_id} is neither addressed by a control nor explained as the "
                "customer's responsibility"
            )


def test_each_control_is_implemented_or_explained_on_each_cloud() -> None:
    for control in catalog.controls:
        for cloud in CLOUDS:
            implemented = bool(control.implemented_by.get(cloud))
            explained = cloud in control.not_applicable
            assert implemented != explained, (
                f"{control.id} on {cloud}: needs components or a not_applicable reason, not both"
            )


@pytest.mark.parametrize("cloud", CLOUDS)
def test_implementing_components_exist(cloud: str) -> None:
    import pulumi

    module = importlib.import_module(f"aiscaffold_components.{cloud}")
    for control in catalog.controls:
        for component in control.implemented_by.get(cloud, ()):  # type: ignore[call-overload]
            cls = getattr(module, component, None)
            assert isinstance(cls, type) and issubclass(cls, pulumi.ComponentResource), (
                f"{control.id}: aiscaffold_components.{cloud} has no component {component}"
            )
            assert component in module.__all__


def test_settings_configure_existing_controls() -> None:
    ids = {c.id for c in catalog.controls}
    for setting in catalog.settings.values():
        assert setting.control in ids, f"setting {setting.name} names unknown {setting.control}"
        assert set(setting.frameworks) <= set(FRAMEWORKS)
        assert set(setting.why) <= set(setting.frameworks), f"{setting.name}: why without value"


def test_region_groups_are_regions_of_the_cloud() -> None:
    for cloud in catalog.clouds.values():
        every = set(cloud.region_group("all"))
        assert set(cloud.default_regions) <= every
        assert set(cloud.regions["eu"]) <= every
        assert set(cloud.regions["government"]) <= every
        for service in cloud.ai_services.values():
            assert service.default_models, f"{cloud.id}/{service.id} has no default model"
