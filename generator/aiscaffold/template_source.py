"""Where copier finds the template, and at which version.

copier records a project's template as ``_src_path`` (a git repository or bundle) and
``_commit`` (a version in it); ``copier update`` later needs both the old and the new
version from that source. aiscaffold ships the template's release history as a git
bundle inside the package (``_data/template-history.bundle``, maintained by
``scripts/release_template.py``) and keeps an append-only copy in the user cache:

* the shipped release tags are fetched into a cache repository;
* when the installed template equals a release, that tag is used; otherwise (a checkout
  with template changes since the last release) a development commit is added on top
  of the last release, built deterministically (fixed author and date), so the same
  template tree always yields the same commit;
* the cache repository is written out as ``template.bundle``; ``_src_path`` names it
  with ``~`` so it stays valid for everyone who clones the project.

Nothing is ever removed from the cache repository, so every ``_commit`` a project
recorded stays reachable for its next update. See docs/updating.md.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from .errors import AiscaffoldError

__all__ = ["TemplateSource", "cache_dir", "ensure_template_source", "template_dir"]

_PACKAGE = Path(__file__).resolve().parent
SHIPPED_BUNDLE = _PACKAGE / "_data" / "template-history.bundle"

#: Fixed identity and date of development commits: same tree, same commit id.
DEV_COMMIT_ENV = {
    "GIT_AUTHOR_NAME": "aiscaffold",
    "GIT_AUTHOR_EMAIL": "aiscaffold@users.noreply.github.com",
    "GIT_COMMITTER_NAME": "aiscaffold",
    "GIT_COMMITTER_EMAIL": "aiscaffold@users.noreply.github.com",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00+0000",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00+0000",
}


class TemplateSourceError(AiscaffoldError, RuntimeError):
    """The template source cannot be prepared (git missing, cache not writable...)."""


@dataclass(frozen=True)
class TemplateSource:
    """A template version copier can render and later update from."""

    src_path: str
    """What copier records as ``_src_path`` (home shown as ``~``)."""
    ref: str
    """The tag or commit to render."""
    release: str | None
    """The release tag the template equals, or None for a development template."""


def template_dir() -> Path:
    """The template shipped with this installation (wheel) or checkout (editable)."""
    packaged = _PACKAGE / "_template"
    if (packaged / "copier.yml").is_file():
        return packaged
    checkout = _PACKAGE.parents[1] / "templates"
    if (checkout / "copier.yml").is_file():
        return checkout
    raise TemplateSourceError(
        "aiscaffold's template is missing from this installation",
        hint="Reinstall aiscaffold (pip install --force-reinstall aiscaffold).",
    )


def cache_dir() -> Path:
    """aiscaffold's user cache directory (``AISCAFFOLD_CACHE_DIR`` overrides it)."""
    override = os.environ.get("AISCAFFOLD_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_cache_path("aiscaffold", appauthor=False)


def _git(
    repo: Path, *args: str, env: dict[str, str] | None = None, input_: str | None = None
) -> str:
    # The caller's git environment (GIT_DIR, GIT_INDEX_FILE... set by a hook, say) must
    # not leak into the cache repository.
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    full_env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", **(env or {})})
    try:
        done = subprocess.run(
            ["git", f"--git-dir={repo}", *args],
            check=True,
            capture_output=True,
            text=True,
            env=full_env,
            input=input_,
        )
    except FileNotFoundError:
        raise TemplateSourceError(
            "git is not installed; aiscaffold needs it to version the template",
            hint="Install git and run the command again.",
        ) from None
    except subprocess.CalledProcessError as exc:
        raise TemplateSourceError(
            f"git {' '.join(args[:2])} failed in the template cache: {exc.stderr.strip()}",
            hint=f"Remove {repo.parent} and run the command again.",
        ) from None
    return done.stdout.strip()


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Serialise cache updates between concurrent aiscaffold processes."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; updates are idempotent anyway
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _versions(repo: Path) -> list[tuple[Version, str]]:
    out = _git(repo, "for-each-ref", "--format=%(refname:short)", "refs/tags")
    versions = []
    for tag in out.splitlines():
        with contextlib.suppress(InvalidVersion):
            versions.append((Version(tag), tag))
    return sorted(versions)


def tree_of(repo: Path, directory: Path) -> str:
    """The git tree id of ``directory``'s files (caches and bytecode left out)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"), "GIT_WORK_TREE": str(directory)}
        _git(
            repo,
            "add",
            "--all",
            "--force",
            "--",
            ".",
            ":(exclude)**/__pycache__/**",
            ":(exclude)**/*.pyc",
            env=env,
        )
        return _git(repo, "write-tree", env=env)


def _release_for_tree(repo: Path, tree: str) -> str | None:
    for _, tag in reversed(_versions(repo)):
        if _git(repo, "rev-parse", f"{tag}^{{tree}}") == tree:
            return tag
    return None


def _home_relative(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return "~/" + path.resolve().relative_to(Path.home().resolve()).as_posix()
    return path.as_posix()


def ensure_template_source(
    template: Path | None = None, *, shipped: Path | None = None
) -> TemplateSource:
    """Make the installed template available as a versioned copier source.

    Args:
        template: the template directory (default: the installed one).
        shipped: the release-history bundle (default: the one shipped in the package).
    """
    template = template or template_dir()
    shipped = SHIPPED_BUNDLE if shipped is None else shipped
    cache = cache_dir()
    repo = cache / "template.git"
    bundle = cache / "template.bundle"
    with _locked(cache):
        if not (repo / "HEAD").is_file():
            repo.mkdir(parents=True, exist_ok=True)
            _git(repo, "init", "--quiet", "--bare")
        if shipped.is_file():
            _git(repo, "fetch", "--quiet", str(shipped), "+refs/tags/*:refs/tags/*")
        tree = tree_of(repo, template)
        release = _release_for_tree(repo, tree)
        if release is not None:
            ref = release
        else:
            versions = _versions(repo)
            parents = ["-p", versions[-1][1]] if versions else []
            label = versions[-1][1] if versions else "no release"
            ref = _git(
                repo,
                "commit-tree",
                tree,
                *parents,
                "-m",
                f"Development template (after {label})",
                env=DEV_COMMIT_ENV,
            )
            _git(repo, "update-ref", f"refs/heads/dev/{ref[:12]}", ref)
        refs = _git(repo, "show-ref")
        stamp = cache / "template.bundle.refs"
        if not bundle.is_file() or not stamp.is_file() or stamp.read_text() != refs:
            partial = cache / "template.bundle.partial"
            _git(repo, "bundle", "create", "--quiet", str(partial), "--all")
            partial.replace(bundle)
            stamp.write_text(refs)
    return TemplateSource(src_path=_home_relative(bundle), ref=ref, release=release)
