"""The documentation: generated reference pages are current, the site builds strictly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiscaffold.docs_pages import render_pages

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted(render_pages(ROOT / "docs")), ids=lambda p: p.name)
def test_reference_page_is_current(path: Path) -> None:
    expected = render_pages(ROOT / "docs")[path]
    assert path.is_file(), f"{path.name} missing: run scripts/gen_docs.py"
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path.name} is stale: run scripts/gen_docs.py"
    )


def test_policy_reference_lists_every_policy() -> None:
    from aiscaffold_components.policies import registry

    page = (ROOT / "docs" / "reference" / "policies.md").read_text(encoding="utf-8")
    for policy in registry():
        assert f"### {policy.id}" in page


@pytest.mark.slow
def test_docs_build_in_strict_mode(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "reference" / "policies" / "index.html").is_file()
