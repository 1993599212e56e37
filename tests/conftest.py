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


# ----------------------------------------------------------- parallel runs (xdist)
#: Groups of tests that share session fixtures (a cloud's rendered projects and their
#: mock runs): `pytest -n 2 --dist loadgroup` keeps each group on one worker, so each
#: variant is rendered and run once. Largest first, so the two workers finish together
#: (measured serially: the rest, AWS and the Azure mutation pass take 13-15 minutes
#: each, the other Azure tests and GCP 6-7).
_GROUPS = ("rest", "aws", "azure-mutations", "azure", "gcp")


def _group(item: pytest.Item) -> str:
    parts = Path(str(item.path)).relative_to(Path(__file__).parent).parts
    if parts[0] == "azure" and parts[-1] == "test_azure_mutations.py":
        return "azure-mutations"
    return parts[0] if parts[0] in _GROUPS else "rest"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item)))
    if config.pluginmanager.hasplugin("xdist") and config.getoption("numprocesses", None):
        items.sort(key=lambda item: _GROUPS.index(_group(item)))


# -------------------------------------------------------------- mutation kill rates
_KILL_RATES: list[tuple[str, int, int, int]] = []


@pytest.fixture(scope="session")
def record_kill_rate() -> Callable[[str, int, int, int], None]:
    """Record a mutation run (label, killed, total, exempted) for the session summary."""

    def record(label: str, killed: int, total: int, exempted: int) -> None:
        _KILL_RATES.append((label, killed, total, exempted))

    return record


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker: hand the kill rates to the controller, which prints them."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["aiscaffold_kill_rates"] = json.dumps(_KILL_RATES)


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_KillRateCollector(), "aiscaffold-kill-rates")


class _KillRateCollector:
    """The controller's side of the kill rates of an xdist run."""

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        rates = getattr(node, "workeroutput", {}).get("aiscaffold_kill_rates")
        if rates:
            _KILL_RATES.extend(tuple(rate) for rate in json.loads(rates))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _KILL_RATES:
        return
    terminalreporter.section("policy mutation kill rates")
    for label, killed, total, exempted in sorted(_KILL_RATES):
        rate = 100.0 * killed / total if total else 100.0
        terminalreporter.write_line(
            f"{label}: {killed}/{total} mutations caught ({rate:.1f}%), {exempted} exempted as not weakenings"
        )
