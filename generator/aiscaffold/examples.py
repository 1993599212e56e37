"""The repository's example projects: rendered from examples/answers/*.yml.

``scripts/render_examples.py`` writes them; ``tests/test_examples.py`` renders them
afresh and fails on any difference, so they never drift from the template.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .answers import read_answers_file
from .generate import generate

__all__ = [
    "EXAMPLE_REQUIREMENT",
    "LOCAL_DIRS",
    "example_names",
    "is_local",
    "normalise",
    "render_example",
]

#: Examples pin the release aiscaffold version, not the path of whoever renders them.
EXAMPLE_REQUIREMENT = f"aiscaffold[{{extra}}]=={__version__}"

_DEV_COMMIT = re.compile(r"^_commit: (.+\.dev\d+)$", re.MULTILINE)


def example_names(examples: Path) -> list[str]:
    return sorted(p.stem for p in (examples / "answers").glob("*.yml"))


@contextmanager
def _home_cache() -> Iterator[None]:
    """Render with the template cache under ``~`` so ``_src_path`` reads the same for all."""
    saved = os.environ.pop("AISCAFFOLD_CACHE_DIR", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["AISCAFFOLD_CACHE_DIR"] = saved


def render_example(examples: Path, name: str, destination: Path) -> Path:
    """Render example ``name`` from its answers file into ``destination``."""
    answers = read_answers_file(examples / "answers" / f"{name}.yml")
    with _home_cache():
        generate(
            destination,
            answers=answers,
            defaults=True,
            force=True,
            aiscaffold_requirement=EXAMPLE_REQUIREMENT,
        )
    return destination


def normalise(relative: str, text: str) -> str:
    """Text of a rendered file, with the one thing that legitimately varies masked.

    A development template (one that is not a release) is recorded under a development
    version whose number is set by the renderer's template cache; a release renders as
    its tag and is compared as is.
    """
    if relative == ".copier-answers.yml":
        return _DEV_COMMIT.sub("_commit: <development template>", text)
    return text


#: What a rendering leaves that is machine-local and git-ignored (the liveness proof's
#: cache): not part of an example.
LOCAL_DIRS = frozenset({".aiscaffold", "__pycache__"})


def is_local(relative: Path) -> bool:
    """Whether a path of a rendered project is machine-local (see :data:`LOCAL_DIRS`)."""
    return bool(LOCAL_DIRS & set(relative.parts))


def fresh(examples: Path, name: str) -> dict[str, str]:
    """Files of a fresh rendering of ``name``, normalised, by relative path."""
    with tempfile.TemporaryDirectory() as tmp:
        root = render_example(examples, name, Path(tmp) / name)
        return {
            p.relative_to(root).as_posix(): normalise(
                p.relative_to(root).as_posix(), p.read_text(encoding="utf-8")
            )
            for p in sorted(root.rglob("*"))
            if p.is_file() and not is_local(p.relative_to(root))
        }
