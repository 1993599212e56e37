"""A cache for ``aiscaffold check``: an unchanged project answers in a fraction of a second.

``check`` runs the program under mocks, evaluates the policy pack and proves the
policies live: seconds of work whose result depends only on what is hashed here. When
none of it changed since the last run, the command prints what that run printed, exits
with its code, and says on stderr that it answered from the cache. This is what makes
the pre-commit hook (``.pre-commit-hooks.yaml``) affordable on every commit.

The key (SHA-256 over paths and contents, or names and values) covers:

* the project's files: everything under the project except version control, caches,
  virtual environments and what the program cannot read into its resources
  (:data:`IGNORED_DIRS`, :data:`IGNORED_TOP_FILES`): the program and any module or data
  file it opens, ``Pulumi.yaml`` and every ``Pulumi.<stack>.yaml``, ``policy/``, the
  requirements and answers files;
* the installed versions (``importlib.metadata``) of the distributions the program, the
  policy pack and the report formatting import (:data:`DISTRIBUTIONS`), plus every name
  the project's ``requirements*.txt`` lists, and the Python version;
* aiscaffold's own files: every file of the installed ``aiscaffold`` and
  ``aiscaffold_components`` packages (``__pycache__`` aside), so an editable checkout
  under development never answers with a stale verdict;
* what shapes the printed text: the command's ``--stack``, ``--format`` and project
  path as given (SARIF names files by it), and the console rich would print to (width,
  colours, terminal or not, encoding);
* ``AISCAFFOLD_*`` and ``PULUMI_*`` environment variables (hashed, never stored).

What is cached is what the command printed (stdout, stderr) and its exit code, so a
cached answer is byte for byte what a fresh run printed. Not cached: ``--output``
(a report written to a file is the evidence a CI run keeps: it is always produced
afresh), ``--format oscal`` (it carries the time of the assessment), and runs that end
in an error (exit 2: the error is printed outside the command, and is worth seeing
again). ``--no-cache`` runs in full and refreshes the entry.

The entries live in the project's git-ignored ``.aiscaffold/check/``, one per stack and
format. A directory that cannot be written to costs nothing but the cache: the check is
never failed for it, and stderr says the result was not cached.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "CACHEABLE_FORMATS",
    "DISTRIBUTIONS",
    "CachedCheck",
    "cache_key",
    "run_cached",
]

#: Formats whose output is a pure function of the key (oscal carries a timestamp).
CACHEABLE_FORMATS = frozenset({"table", "json", "sarif", "compliance"})

#: Distributions whose version can change a check's result or its printed text: the
#: Pulumi SDKs and policy SDK the program and the pack run on, the libraries they
#: build on (grpc, protobuf, dill serialise resources under mocks), what parses the
#: project's files (PyYAML, pydantic) and what prints the report (rich, typer, click).
#: The project's requirements files add their own names (see :func:`_requirement_names`).
DISTRIBUTIONS = (
    "aiscaffold",
    "pulumi",
    "pulumi-policy",
    "pulumi-aws",
    "pulumi-azure-native",
    "pulumi-gcp",
    "pulumiverse-time",
    "grpcio",
    "protobuf",
    "dill",
    "semver",
    "pydantic",
    "pydantic-core",
    "PyYAML",
    "packaging",
    "rich",
    "typer",
    "click",
)

#: Directories never part of the key (at any depth): version control, caches, virtual
#: environments, and the project's docs, tests and CI files, which no program run reads.
IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".aiscaffold",
        ".venv",
        "venv",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        "node_modules",
        ".github",
        "docs",
        "tests",
    }
)
#: Top-level files that are documentation (COMPLIANCE.md is check's own output).
IGNORED_TOP_FILES = frozenset({"README.md", "COMPLIANCE.md", "CHANGELOG.md"})

CACHE_SUBDIR = Path(".aiscaffold") / "check"
_FORMAT_VERSION = 1
_ENV_PREFIXES = ("AISCAFFOLD_", "PULUMI_")


# ------------------------------------------------------------------ the key
def _project_files(project: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(project):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS)
        here = Path(root)
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            if here == project and name in IGNORED_TOP_FILES:
                continue
            yield here / name


def _package_dirs() -> list[Path]:
    """The installed aiscaffold and aiscaffold_components package directories, found
    without importing the components (importing is what the cache saves)."""
    import importlib.util

    dirs = [Path(__file__).resolve().parent]
    spec = importlib.util.find_spec("aiscaffold_components")
    if spec is not None and spec.submodule_search_locations:
        dirs += [Path(p).resolve() for p in spec.submodule_search_locations]
    return dirs


def _source_files() -> Iterator[tuple[str, Path]]:
    for package in _package_dirs():
        for root, dirs, files in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if not name.endswith((".pyc", ".pyo")):
                    path = Path(root) / name
                    yield f"{package.name}/{path.relative_to(package).as_posix()}", path


def _installed_version(name: str) -> str | None:
    """The installed version of a distribution, None when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _requirement_names(project: Path) -> list[str]:
    """Distribution names the project's requirements files list (best effort: a line
    the parser rejects is hashed with the file anyway)."""
    import re

    names: list[str] = []
    for req in sorted(project.glob("requirements*.txt")) + sorted(
        (project / "policy").glob("requirements*.txt")
    ):
        try:
            lines = req.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line.split("#", 1)[0])
            if match and not line.lstrip().startswith("-"):
                names.append(match.group(1))
    return names


def _console_state() -> list[Any]:
    """What rich's consoles on stdout and stderr would print like (width, colours...):
    a table printed for an 80-column pipe is not what a wide terminal shows."""
    from rich.console import Console

    state: list[Any] = []
    for stderr in (False, True):
        console = Console(stderr=stderr, highlight=False, soft_wrap=True)
        state += [
            console.width,
            console.color_system,
            console.is_terminal,
            console.encoding,
            console.legacy_windows,
        ]
    return state


def cache_key(project: Path, *, stack: Any, fmt: str, shown_as: str = "") -> str:
    """The SHA-256 key of a check of ``project`` (see the module docstring).

    ``shown_as`` is the path as the command line gave it: SARIF names files by it.
    """
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)

    add("cache-format", str(_FORMAT_VERSION).encode())
    add("command", json.dumps([stack, fmt, shown_as, _console_state()]).encode())
    add("python", sys.version.encode())
    for path in _project_files(project):
        try:
            add(f"project/{path.relative_to(project).as_posix()}", path.read_bytes())
        except OSError:
            add(f"unreadable/{path.relative_to(project).as_posix()}", b"")
    names = sorted({*DISTRIBUTIONS, *_requirement_names(project)}, key=str.lower)
    for name in names:
        add(f"dist/{name.lower()}", str(_installed_version(name)).encode())
    for label, path in _source_files():
        add(f"source/{label}", path.read_bytes())
    for name in sorted(os.environ):
        if name.startswith(_ENV_PREFIXES):
            add(f"env/{name}", os.environ[name].encode())
    return digest.hexdigest()


# ------------------------------------------------------------------ the entries
@dataclass(frozen=True)
class CachedCheck:
    """What one run of ``check`` printed and returned, under the key it ran with."""

    key: str
    created: float
    """When the run that printed this finished (seconds since the epoch)."""
    stdout: str
    stderr: str
    exit_code: int

    def to_json(self) -> str:
        return json.dumps(
            {"format": _FORMAT_VERSION, **self.__dict__}, ensure_ascii=False, sort_keys=True
        )

    @classmethod
    def from_json(cls, text: str) -> CachedCheck | None:
        try:
            data = json.loads(text)
            if data.pop("format", None) != _FORMAT_VERSION:
                return None
            entry = cls(**data)
        except (ValueError, TypeError):
            return None
        if not isinstance(entry.exit_code, int) or not isinstance(entry.stdout, str):
            return None
        return entry


def _entry_path(project: Path, stack: Any, fmt: str) -> Path:
    # One entry per stack option and format: `check` and `check --format sarif` in a
    # pre-commit hook and a CI step do not evict each other.
    if isinstance(stack, (list, tuple)):  # several --stack options
        stack = "+".join(stack)
    return project / CACHE_SUBDIR / f"{stack or '_default'}.{fmt}.json"


def _load(path: Path) -> CachedCheck | None:
    try:
        return CachedCheck.from_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def _store(project: Path, path: Path, entry: CachedCheck) -> str | None:
    """Write the entry atomically; the reason it could not be written, or None."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Ignored by git on its own, also in projects whose .gitignore predates it
        # (`aiscaffold update` needs a clean tree); the liveness cache does the same.
        ignore = project / ".aiscaffold" / ".gitignore"
        if not ignore.is_file():
            ignore.write_text("# written by aiscaffold: a cache, never committed\n*\n")
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_text(entry.to_json() + "\n", encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


# ------------------------------------------------------------------ capture and replay
class _Tee(io.TextIOBase):
    """A text stream that writes through to ``real`` and keeps a copy.

    Everything else (``isatty``, ``fileno``, ``encoding``...) is the real stream's, so
    rich and click format exactly as they would without the copy.
    """

    def __init__(self, real: TextIO) -> None:
        super().__init__()
        self._real = real
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.copy.write(text)
        return self._real.write(text)

    def flush(self) -> None:
        self._real.flush()

    def isatty(self) -> bool:
        return self._real.isatty()

    def fileno(self) -> int:
        return self._real.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._real, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._real, "errors", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _since(created: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(created))


def run_cached(command: Callable[..., None], **params: Any) -> None:
    """Run ``check``'s command function through the cache.

    ``params`` are the command's own (``path``, ``stack``, ``output_format``,
    ``output``, ``no_cache``); the command raises ``typer.Exit`` for a non-zero exit.
    """
    import typer

    fmt = getattr(params["output_format"], "value", str(params["output_format"]))
    path = Path(params["path"])
    stack = params.get("stack")
    if (
        params.get("no_cache")
        or params.get("output") is not None
        or fmt not in CACHEABLE_FORMATS
        or not path.is_dir()
    ):
        command(**params)
        return
    project = path.resolve()
    key = cache_key(project, stack=stack, fmt=fmt, shown_as=str(params["path"]))
    entry_path = _entry_path(project, stack, fmt)
    entry = _load(entry_path)
    if entry is not None and entry.key == key:
        sys.stdout.write(entry.stdout)
        sys.stdout.flush()
        sys.stderr.write(entry.stderr)
        sys.stderr.write(
            f"from cache: nothing changed since {_since(entry.created)} "
            "(--no-cache runs the check again)\n"
        )
        sys.stderr.flush()
        if entry.exit_code:
            raise typer.Exit(entry.exit_code)
        return

    out, err = _Tee(sys.stdout), _Tee(sys.stderr)
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    ended: typer.Exit | None = None
    try:
        command(**params)
    except typer.Exit as exc:
        ended = exc
    finally:
        sys.stdout, sys.stderr = real_out, real_err
    # Reached only when the command returned or exited with a code: an error raised
    # by it is printed outside the command, and is not cached (see the module docstring).
    entry = CachedCheck(
        key=key,
        created=time.time(),
        stdout=out.copy.getvalue(),
        stderr=err.copy.getvalue(),
        exit_code=int(ended.exit_code) if ended is not None else 0,
    )
    problem = _store(project, entry_path, entry)
    if problem is not None:
        sys.stderr.write(f"not cached: cannot write {entry_path}: {problem}\n")
    if ended is not None:
        raise ended
