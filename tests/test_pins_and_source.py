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
