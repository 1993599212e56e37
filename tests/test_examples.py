"""The example projects equal a fresh rendering, and pass their own checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from aiscaffold.examples import example_names, fresh, is_local, normalise

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NAMES = example_names(EXAMPLES)


def test_one_example_per_cloud() -> None:
    import yaml

    clouds = {
        yaml.safe_load((EXAMPLES / "answers" / f"{n}.yml").read_text())["cloud"] for n in NAMES
    }
    assert clouds == {"aws", "azure", "gcp"}


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_example_equals_a_fresh_render(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # a fresh template cache under ~
    rendered = fresh(EXAMPLES, name)
    root = EXAMPLES / name
    committed = {
        p.relative_to(root).as_posix(): normalise(
            p.relative_to(root).as_posix(), p.read_text(encoding="utf-8")
        )
        for p in sorted(root.rglob("*"))
        if p.is_file() and not is_local(p.relative_to(root))
    }
    assert sorted(committed) == sorted(rendered), "files differ: run scripts/render_examples.py"
    for relative, text in rendered.items():
        assert committed[relative] == text, (
            f"{name}/{relative} differs: run scripts/render_examples.py"
        )


def test_examples_do_not_name_machine_paths() -> None:
    home = os.path.expanduser("~")
    for path in EXAMPLES.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "file:///" not in text, path  # an absolute file URL names a machine
            assert home not in text or home == "/", path


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_example_passes_its_own_tests_and_check(name: str, tmp_path: Path) -> None:
    """As a user would: pytest in the project directory, then aiscaffold check."""
    import shutil
    import subprocess
    import sys

    from aiscaffold.cli import main

    project = tmp_path / name
    shutil.copytree(EXAMPLES / name, project)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
    assert main(["check", str(project)]) == 0
