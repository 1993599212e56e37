"""Renderings of the control catalog for people (rich tables) and programs (JSON)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiscaffold_components.catalog import Cloud, Control, FrameworkId, load_catalog

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["controls_json", "controls_table"]


def _rows(cloud: Cloud | None, framework: FrameworkId | None) -> list[Control]:
    return load_catalog().select(cloud=cloud, framework=framework)


def _record(control: Control, cloud: Cloud | None, framework: FrameworkId | None) -> dict[str, Any]:
    catalog = load_catalog()
    frameworks = {
        fw: list(clauses)
        for fw, clauses in control.frameworks.items()
        if framework is None or fw == framework
    }
    clouds = [cloud] if cloud else list(catalog.clouds)
    return {
        "id": control.id,
        "family": control.family,
        "title": control.title,
        "description": control.description,
        "mandatory_from": control.mandatory_from,
        "frameworks": frameworks,
        "components": {c: list(control.components(c)) for c in clouds if control.applies_to(c)},
        "not_applicable": {c: r for c, r in control.not_applicable.items() if c in clouds},
        "settings": [s.name for s in catalog.settings_for(control.id)],
        "answers": list(control.answers),
    }


def controls_json(*, cloud: Cloud | None = None, framework: FrameworkId | None = None) -> str:
    """The catalog (filtered) as a JSON array of controls."""
    return json.dumps([_record(c, cloud, framework) for c in _rows(cloud, framework)], indent=2)


def controls_table(*, cloud: Cloud | None = None, framework: FrameworkId | None = None) -> Table:
    """The catalog (filtered) as a rich table."""
    from rich.table import Table

    catalog = load_catalog()
    title = "aiscaffold controls"
    if cloud:
        title += f" on {catalog.clouds[cloud].title}"
    if framework:
        title += f" citing {catalog.frameworks[framework].title}"
    table = Table(title=title, show_lines=True)
    table.add_column("Control", no_wrap=True)
    table.add_column("Family")
    table.add_column("Title")
    table.add_column("Framework clauses")
    table.add_column("Components" if cloud else "Clouds")
    table.add_column("Settings")
    for control in _rows(cloud, framework):
        record = _record(control, cloud, framework)
        clauses = "\n".join(f"{fw}: {', '.join(cl)}" for fw, cl in record["frameworks"].items())
        if cloud:
            where = ", ".join(t.rsplit(":", 1)[-1] for t in record["components"].get(cloud, []))
        else:
            where = ", ".join(record["components"])
        table.add_row(
            control.id,
            catalog.families[control.family],
            control.title,
            clauses,
            where,
            ", ".join(record["settings"]),
        )
    return table
