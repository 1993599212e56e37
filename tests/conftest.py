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
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep the template cache of a test session away from the user's."""
    cache = tmp_path_factory.mktemp("aiscaffold-cache")
    old = os.environ.get("AISCAFFOLD_CACHE_DIR")
    os.environ["AISCAFFOLD_CACHE_DIR"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("AISCAFFOLD_CACHE_DIR", None)
    else:
        os.environ["AISCAFFOLD_CACHE_DIR"] = old


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
            generate(dst, answers=answers, defaults=True, aiscaffold_requirement=TEST_REQUIREMENT)
            cache[key] = dst
        return cache[key]

    return render
