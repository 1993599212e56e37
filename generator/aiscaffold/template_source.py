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
  template tree always yields the same commit, and tagged with a development version
  (``<next patch>.dev<N>``, N growing with time) so that copier, which compares
  versions and refuses downgrades, orders development templates as they were made;
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
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from .errors import AiscaffoldError

__all__ = [
    "TemplateSource",
    "cache_dir",
    "ensure_template_source",
    "release_template",
    "template_dir",
]

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
    """aiscaffold's cache directory: ``~/.cache/aiscaffold`` (``AISCAFFOLD_CACHE_DIR``).

    The same path on every OS on purpose: projects record the bundle's path, with
    ``~``, in ``.copier-answers.yml``, and a team's members update from theirs.
    """
    override = os.environ.get("AISCAFFOLD_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    return Path.home() / ".cache" / "aiscaffold"


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


def _versions(repo: Path, *, releases_only: bool = True) -> list[tuple[Version, str]]:
    out = _git(repo, "for-each-ref", "--format=%(refname:short)", "refs/tags")
    versions = []
    for tag in out.splitlines():
        with contextlib.suppress(InvalidVersion):
            version = Version(tag)
            if not (releases_only and version.is_prerelease):
                versions.append((version, tag))
    return sorted(versions)


def _dev_tag(repo: Path, commit: str, base: Version | None) -> str:
    """The development tag of ``commit``: the existing one, or a new, higher one."""
    for _, tag in _versions(repo, releases_only=False):
        if Version(tag).is_devrelease and _git(repo, "rev-parse", f"{tag}^{{commit}}") == commit:
            return tag
    release = base or Version("0.0.0")
    major, minor, micro = (*release.release, 0, 0)[:3]
    upcoming = Version(f"{major}.{minor}.{micro + 1}")
    number = int(time.time())
    for version, _ in _versions(repo, releases_only=False):
        if (
            version.is_devrelease
            and version.release == upcoming.release
            and version.dev is not None
        ):
            number = max(number, version.dev + 1)
    # <next patch>.dev<N>: after the release, before the next one, and in the form
    # dunamai (copier's version reader) recognises, so copier orders them correctly.
    tag = f"{upcoming}.dev{number}"
    _git(repo, "tag", tag, commit)
    return tag


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
            releases = _versions(repo)
            parents = ["-p", releases[-1][1]] if releases else []
            label = releases[-1][1] if releases else "no release"
            commit = _git(
                repo,
                "commit-tree",
                tree,
                *parents,
                "-m",
                f"Development template (after {label})",
                env=DEV_COMMIT_ENV,
            )
            ref = _dev_tag(repo, commit, releases[-1][0] if releases else None)
        refs = _git(repo, "show-ref")
        stamp = cache / "template.bundle.refs"
        if not bundle.is_file() or not stamp.is_file() or stamp.read_text() != refs:
            partial = cache / "template.bundle.partial"
            _git(repo, "bundle", "create", "--quiet", str(partial), "--all")
            partial.replace(bundle)
            stamp.write_text(refs)
    return TemplateSource(src_path=_home_relative(bundle), ref=ref, release=release)


def release_template(version: str, *, template: Path, bundle: Path) -> str:
    """Append ``template`` to the release history in ``bundle`` as tag ``version``.

    Used by ``scripts/release_template.py`` when cutting a release: the bundle shipped
    in the package then holds every released template, so projects generated from any
    release can be updated offline.

    Returns:
        The new release commit's id.

    Raises:
        TemplateSourceError: ``version`` is not PEP 440, not newer than the last
            release, or the template equals the last release.
    """
    try:
        new = Version(version)
    except InvalidVersion:
        raise TemplateSourceError(f"{version!r} is not a PEP 440 version") from None
    if new.is_prerelease:
        raise TemplateSourceError(f"{version!r} is a pre-release; release versions only")
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "history.git"
        repo.mkdir()
        _git(repo, "init", "--quiet", "--bare")
        if bundle.is_file():
            _git(repo, "fetch", "--quiet", str(bundle), "+refs/tags/*:refs/tags/*")
        releases = _versions(repo)
        if releases and releases[-1][0] >= new:
            raise TemplateSourceError(
                f"{version} is not newer than the last release {releases[-1][1]}"
            )
        tree = tree_of(repo, template)
        if releases and _git(repo, "rev-parse", f"{releases[-1][1]}^{{tree}}") == tree:
            raise TemplateSourceError(
                f"the template has not changed since {releases[-1][1]}; nothing to release"
            )
        parents = ["-p", releases[-1][1]] if releases else []
        commit = _git(
            repo,
            "commit-tree",
            tree,
            *parents,
            "-m",
            f"aiscaffold template {version}",
            env={k: v for k, v in DEV_COMMIT_ENV.items() if "DATE" not in k},
        )
        _git(repo, "tag", version, commit)
        bundle.parent.mkdir(parents=True, exist_ok=True)
        partial = bundle.with_suffix(".partial")
        _git(repo, "bundle", "create", "--quiet", str(partial), "--tags")
        partial.replace(bundle)
        return commit
