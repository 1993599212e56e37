"""Generated projects pin what they depend on; the template source is versioned."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from aiscaffold import pins
from aiscaffold.template_source import ensure_template_source


class FakeDistribution:
    def __init__(self, direct_url: dict[str, object] | None) -> None:
        self.version = "0.1.0"
        self._direct = direct_url

    def read_text(self, name: str) -> str | None:
        return (
            json.dumps(self._direct)
            if self._direct is not None and name == "direct_url.json"
            else None
        )


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [
        (None, "aiscaffold[aws]==0.1.0"),
        (
            {"url": "file:///src/aiscaffold", "dir_info": {"editable": True}},
            "aiscaffold[aws] @ file:///src/aiscaffold",
        ),
        (
            {
                "url": "https://github.com/acme/aiscaffold.git",
                "vcs_info": {"vcs": "git", "commit_id": "abc123"},
            },
            "aiscaffold[aws] @ git+https://github.com/acme/aiscaffold.git@abc123",
        ),
        (
            {"url": "file:///wheels/aiscaffold-0.1.0-py3-none-any.whl", "archive_info": {}},
            "aiscaffold[aws] @ file:///wheels/aiscaffold-0.1.0-py3-none-any.whl",
        ),
    ],
)
def test_aiscaffold_requirement_follows_pep_610(
    monkeypatch: pytest.MonkeyPatch, direct_url: dict[str, object] | None, expected: str
) -> None:
    monkeypatch.delenv("AISCAFFOLD_REQUIREMENT")
    monkeypatch.setattr(pins.metadata, "distribution", lambda name: FakeDistribution(direct_url))
    assert pins.aiscaffold_requirement("aws") == expected


def test_sdk_pins_are_exact() -> None:
    for line in pins.pinned(
        "pulumi", "pulumi-aws", "pulumi-azure-native", "pulumi-gcp", "pulumi-policy"
    ):
        name, _, version = line.partition("==")
        assert name and version and version[0].isdigit(), line


def _template(tmp_path: Path, text: str) -> Path:
    template = tmp_path / "template"
    template.mkdir(exist_ok=True)
    (template / "copier.yml").write_text(text)
    return template


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_development_template_gets_a_deterministic_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = _template(tmp_path, "a: 1\n")
    monkeypatch.setenv("AISCAFFOLD_CACHE_DIR", str(tmp_path / "cache1"))
    first = ensure_template_source(template, shipped=tmp_path / "none.bundle")
    monkeypatch.setenv("AISCAFFOLD_CACHE_DIR", str(tmp_path / "cache2"))
    second = ensure_template_source(template, shipped=tmp_path / "none.bundle")
    assert first.ref == second.ref and first.release is None  # same tree, same commit anywhere
    (template / "copier.yml").write_text("a: 2\n")
    third = ensure_template_source(template, shipped=tmp_path / "none.bundle")
    assert third.ref != second.ref
    # the earlier commit stays reachable for projects that recorded it
    repo = Path(third.src_path.replace("~", str(Path.home()), 1))
    clone = tmp_path / "clone"
    _git("clone", "--quiet", str(repo), str(clone), cwd=tmp_path)
    assert _git("cat-file", "-t", second.ref, cwd=clone) == "commit"


def test_release_tags_are_used_when_the_template_matches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = _template(tmp_path, "a: 1\n")
    history = tmp_path / "history"
    history.mkdir()
    _git("init", "--quiet", cwd=history)
    (history / "copier.yml").write_text("a: 1\n")
    _git("add", "-A", cwd=history)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "v1", cwd=history)
    _git("tag", "1.0.0", cwd=history)
    bundle = tmp_path / "history.bundle"
    _git("bundle", "create", "--quiet", str(bundle), "--all", cwd=history)
    monkeypatch.setenv("AISCAFFOLD_CACHE_DIR", str(tmp_path / "cache"))
    source = ensure_template_source(template, shipped=bundle)
    assert source.ref == "1.0.0" and source.release == "1.0.0"
    (template / "copier.yml").write_text("a: 1\nb: 2\n")
    dev = ensure_template_source(template, shipped=bundle)
    assert dev.release is None
    assert _git(
        "--git-dir",
        str(tmp_path / "cache" / "template.git"),
        "rev-parse",
        f"{dev.ref}^",
        cwd=tmp_path,
    ) == _git("rev-parse", "1.0.0", cwd=history)


def test_src_path_is_home_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AISCAFFOLD_CACHE_DIR", str(home / ".cache" / "aiscaffold"))
    source = ensure_template_source(_template(tmp_path, "a: 1\n"), shipped=tmp_path / "none.bundle")
    assert source.src_path == "~/.cache/aiscaffold/template.bundle"


@pytest.mark.slow
def test_wheel_ships_the_template_and_updates_offline(tmp_path: Path) -> None:
    """A user who installed the wheel (not a checkout) generates and updates offline:
    the wheel carries the template and its release history, under namespaced packages."""
    import os
    import sys
    import zipfile

    import yaml

    root = Path(__file__).resolve().parents[1]
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(root)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("aiscaffold-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {"aiscaffold", "aiscaffold_components"}  # nothing named generator/components
    assert "aiscaffold/_template/copier.yml" in names
    assert "aiscaffold/_data/template-history.bundle" in names
    assert any(n.startswith("aiscaffold_components/catalog/") for n in names)
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)

    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        PYTHONPATH=str(site),  # ahead of the editable install's path entries
        AISCAFFOLD_CACHE_DIR=str(tmp_path / "cache"),
        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
        GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t",
    )  # fmt: skip

    def run(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)

    where = run(sys.executable, "-c", "import aiscaffold; print(aiscaffold.__file__)")
    assert where.stdout.startswith(str(site)), where.stdout + where.stderr
    project = tmp_path / "wheel-app"
    made = run(sys.executable, "-m", "aiscaffold", "new", str(project), "--defaults")
    assert made.returncode == 0, made.stderr
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert recorded["_src_path"].endswith("template.bundle") and recorded["_commit"]
    for git_args in (("init", "-q"), ("add", "-A"), ("commit", "-qm", "new")):
        assert run("git", *git_args, cwd=project).returncode == 0
    updated = run(sys.executable, "-m", "aiscaffold", "update", str(project), "--defaults")
    assert updated.returncode == 0, updated.stderr
    assert "nothing to update" in updated.stdout
