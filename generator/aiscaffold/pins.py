"""Exact versions a generated project depends on.

The Pulumi SDK versions come from ``constraints.txt`` (the versions aiscaffold's CI
runs with). The aiscaffold requirement itself must resolve on the user's machine:
an exact version when aiscaffold came from a package index, otherwise the local path,
archive or VCS URL it was installed from, as PEP 610's ``direct_url.json`` records.
``AISCAFFOLD_REQUIREMENT`` (or ``generate(aiscaffold_requirement=...)``) overrides it,
for example to render the repository's examples with the release version.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import os
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

__all__ = ["aiscaffold_requirement", "pinned", "requirement_override"]

CONSTRAINTS = Path(__file__).with_name("constraints.txt")

_OVERRIDE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "aiscaffold_requirement_override", default=None
)


@functools.cache
def _constraints() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pins[Requirement(line).name.lower()] = line
    return pins


def pinned(*names: str) -> list[str]:
    """``name==version`` lines for ``names`` from constraints.txt."""
    pins = _constraints()
    return [pins[name.lower()] for name in names]


@contextlib.contextmanager
def requirement_override(requirement: str | None) -> Iterator[None]:
    """Render with this aiscaffold requirement (``{extra}`` is replaced by the cloud)."""
    token = _OVERRIDE.set(requirement)
    try:
        yield
    finally:
        _OVERRIDE.reset(token)


def aiscaffold_requirement(extra: str) -> str:
    """The requirement line that installs this aiscaffold with ``extra``."""
    override = _OVERRIDE.get() or os.environ.get("AISCAFFOLD_REQUIREMENT")
    if override:
        return override.replace("{extra}", extra)
    name = f"aiscaffold[{extra}]"
    dist = metadata.distribution("aiscaffold")
    direct = dist.read_text("direct_url.json")
    if not direct:
        return f"{name}=={dist.version}"
    info = json.loads(direct)
    url = info.get("url", "")
    vcs = info.get("vcs_info")
    if vcs:
        return f"{name} @ {vcs['vcs']}+{url}@{vcs.get('commit_id', '')}".rstrip("@")
    return f"{name} @ {url}"
