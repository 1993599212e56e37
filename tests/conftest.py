"""Shared fixtures: an isolated template cache and a project renderer."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

#: The aiscaffold line rendered into test projects' requirements.txt, so renders do not
#: depend on how the test machine installed aiscaffold.
TEST_REQUIREMENT = "aiscaffold[{extra}]==0.1.0"


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A template cache away from the user's, and a fixed aiscaffold requirement."""
    cache = tmp_path_factory.mktemp("aiscaffold-cache")
    settings = {"AISCAFFOLD_CACHE_DIR": str(cache), "AISCAFFOLD_REQUIREMENT": TEST_REQUIREMENT}
    old = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    yield cache
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


RenderProject = Callable[..., Path]


@pytest.fixture(scope="session")
def render_project(tmp_path_factory: pytest.TempPathFactory) -> RenderProject:
    """Render a project from answers (defaults for the rest), once per distinct answers.

    The returned directory is shared within the session: tests must not modify it
    (copy it first with ``shutil.copytree``).
    """
    from aiscaffold.generate import generate

    cache: dict[str, Path] = {}

    def render(**answers: Any) -> Path:
        answers.setdefault("project_name", "test-app")
        key = json.dumps(answers, sort_keys=True)
        if key not in cache:
            dst = tmp_path_factory.mktemp("project") / answers["project_name"]
            generate(dst, answers=answers, defaults=True)
            cache[key] = dst
        return cache[key]

    return render


# -------------------------------------------------------------- mutation kill rates
_KILL_RATES: list[tuple[str, int, int, int]] = []


@pytest.fixture(scope="session")
def record_kill_rate() -> Callable[[str, int, int, int], None]:
    """Record a mutation run (label, killed, total, exempted) for the session summary."""

    def record(label: str, killed: int, total: int, exempted: int) -> None:
        _KILL_RATES.append((label, killed, total, exempted))

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _KILL_RATES:
        return
    terminalreporter.section("policy mutation kill rates")
    for label, killed, total, exempted in sorted(_KILL_RATES):
        rate = 100.0 * killed / total if total else 100.0
        terminalreporter.write_line(
            f"{label}: {killed}/{total} mutations caught ({rate:.1f}%), {exempted} exempted as not weakenings"
        )
