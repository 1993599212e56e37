"""``generate``: render a new project from answers, atomically."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import __version__
from .answers import (
    QUESTION_KEYS,
    Answers,
    applies,
    coerce_answers,
    fill_defaults,
    problem,
    validate_answers,
)
from .derived import snapshot, write_baseline
from .errors import (
    AnswersError,
    DestinationError,
    Interrupted,
    MissingAnswersError,
    RenderError,
)
from .pins import requirement_override
from .template_source import TemplateSource, ensure_template_source

__all__ = ["GenerateResult", "generate"]


@dataclass(frozen=True)
class GenerateResult:
    """What :func:`generate` rendered (or, with ``pretend``, would have)."""

    destination: Path
    answers: Answers
    files: tuple[str, ...]
    """Paths relative to the destination, sorted."""
    pretend: bool
    template: TemplateSource
    warnings: tuple[str, ...] = ()
    """Not errors: what the user should know about the answers (a deprecated model)."""


def _check_destination(dst: Path, *, force: bool) -> None:
    if dst.exists() and not dst.is_dir():
        raise DestinationError(
            f"destination {str(dst)!r} is a file",
            hint="Give a directory that does not exist yet, or an empty one.",
        )
    if dst.is_dir() and any(dst.iterdir()) and not force:
        raise DestinationError(
            f"destination {str(dst)!r} is not empty",
            hint="Choose a new directory, or pass --force to render into it "
            "(template files are overwritten; your other files are kept).",
        )


def _given_problems(answers: Mapping[str, Any]) -> list[str]:
    """Problems of the answers given so far (missing ones are not problems yet)."""
    problems: list[str] = []
    seen: dict[str, Any] = {}
    for key in answers:
        if key not in QUESTION_KEYS:
            problems.append(
                f"{key}: not a question of aiscaffold (questions: {', '.join(QUESTION_KEYS)})"
            )
    for key in QUESTION_KEYS:
        if key in answers:
            message = problem(key, answers[key], {**seen})
            if message:
                problems.append(f"{key}: {message}")
            seen[key] = answers[key]
    return problems


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return Path.cwd()


@contextlib.contextmanager
def _staging_dir(dst: Path) -> Iterator[Path]:
    """A temporary directory on dst's file system, removed afterwards."""
    base = _nearest_existing(dst.parent)
    try:
        staging = Path(tempfile.mkdtemp(prefix=".aiscaffold-", dir=base))
    except OSError as exc:
        raise DestinationError(f"cannot write under {str(base)!r}: {exc.strerror}") from None
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _files(root: Path) -> tuple[str, ...]:
    return tuple(sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()))


def _clashes(rendered: Path, dst: Path) -> list[str]:
    """Paths in ``dst`` that the rendered tree cannot be moved onto."""
    clashes = []
    for source in sorted(rendered.rglob("*")):
        relative = source.relative_to(rendered)
        target = dst / relative
        if target.is_symlink():
            clashes.append(f"{relative.as_posix()} is a symbolic link")
        elif source.is_dir() and target.exists() and not target.is_dir():
            clashes.append(f"{relative.as_posix()} is a file; the template has a directory there")
        elif not source.is_dir() and target.is_dir():
            clashes.append(f"{relative.as_posix()} is a directory; the template has a file there")
    return clashes


def _install(rendered: Path, dst: Path, backup: Path) -> None:
    """Move the rendered tree into place; existing files not in it are kept.

    All or nothing: paths that cannot take the template's files are refused before
    anything moves, and files it replaces wait in ``backup`` until every move has
    succeeded, so a failure (or Ctrl-C) part way puts ``dst`` back as it was.
    """
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(rendered, dst)
        return
    clashes = _clashes(rendered, dst)
    if clashes:
        raise DestinationError(
            f"cannot render into {str(dst)!r}: "
            + "; ".join(clashes[:5])
            + (f" (and {len(clashes) - 5} more)" if len(clashes) > 5 else ""),
            hint="Move or rename those paths, or choose another directory. Nothing was written.",
        )
    made: list[Path] = []
    placed: list[tuple[Path, Path | None]] = []  # target, backup of what it replaced
    try:
        for source in sorted(rendered.rglob("*")):
            relative = source.relative_to(rendered)
            target = dst / relative
            if source.is_dir():
                if not target.is_dir():
                    target.mkdir()
                    made.append(target)
                continue
            saved = None
            if target.exists():
                saved = backup / relative
                saved.parent.mkdir(parents=True, exist_ok=True)
                os.replace(target, saved)
            placed.append((target, saved))
            os.replace(source, target)
    except BaseException as exc:
        for target, saved in reversed(placed):
            with contextlib.suppress(OSError):
                target.unlink(missing_ok=True)
                if saved is not None:
                    os.replace(saved, target)
        for directory in reversed(made):
            with contextlib.suppress(OSError):
                directory.rmdir()
        if isinstance(exc, OSError):
            raise DestinationError(
                f"cannot write {exc.filename or str(dst)!r}: {exc.strerror or exc}",
                hint=f"{str(dst)!r} was put back as it was.",
            ) from None
        if isinstance(exc, KeyboardInterrupt):
            raise Interrupted("interrupted: nothing was written") from None
        raise


def _default_project_name(dst: Path) -> str | None:
    name = dst.resolve().name
    return name if not problem("project_name", name) else None


def generate(
    dst: str | os.PathLike[str],
    *,
    answers: Mapping[str, Any] | None = None,
    defaults: bool = False,
    interactive: bool = False,
    force: bool = False,
    pretend: bool = False,
    aiscaffold_requirement: str | None = None,
) -> GenerateResult:
    """Render a new project into ``dst``.

    Args:
        dst: destination directory; created if missing, must be empty unless ``force``.
        answers: answers given up front (``--data``, ``--answers-file``).
        defaults: take the default of every question not answered.
        interactive: ask the unanswered questions on the terminal (questionary).
        force: render into a non-empty directory; files not in the template are kept.
        pretend: render to a temporary directory and report, writing nothing.
        aiscaffold_requirement: the aiscaffold line of the project's requirements.txt
            (``{extra}`` becomes the cloud); default: how this aiscaffold was installed.

    Raises:
        AnswersError: answers are invalid (one line each).
        MissingAnswersError: answers are missing and neither defaults nor a terminal.
        DestinationError: ``dst`` is a file, or not empty without ``force``.
        Interrupted: the user pressed Ctrl-C while answering; nothing was written.
        RenderError: rendering failed; ``dst`` was left as it was.
    """
    destination = Path(dst)
    given = coerce_answers(dict(answers or {}))
    problems = _given_problems(given)
    if problems:
        raise AnswersError(problems)
    _check_destination(destination, force=force)

    suggested = {}
    if "project_name" not in given and (name := _default_project_name(destination)):
        suggested["project_name"] = name
    if defaults:
        given = fill_defaults({**suggested, **given})
        validate_answers(given)
    elif not interactive:
        missing = [k for k in QUESTION_KEYS if k not in given and applies(k, given)]
        if missing:
            raise MissingAnswersError(missing)
        validate_answers(given)

    source = ensure_template_source()
    import copier
    from copier.errors import InteractiveSessionError

    with _staging_dir(destination) as staging, requirement_override(aiscaffold_requirement):
        rendered = staging / "project"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # copier's settings-file notices
                copier.run_copy(
                    source.src_path,
                    rendered,
                    data=given,
                    user_defaults=suggested,
                    defaults=defaults,
                    unsafe=True,
                    vcs_ref=source.ref,
                    quiet=True,
                    overwrite=True,
                )
        except KeyboardInterrupt:
            raise Interrupted("interrupted: nothing was written") from None
        except InteractiveSessionError:
            missing = [k for k in QUESTION_KEYS if k not in given and applies(k, given)]
            raise MissingAnswersError(missing) from None
        except ValueError as exc:  # a copier validator refused an answer
            raise AnswersError([str(exc).replace("Validation error for question ", "")]) from None
        except Exception as exc:
            raise RenderError(
                f"rendering the template failed: {exc}",
                hint=f"{str(destination)!r} was left as it was. Run with -v for details.",
            ) from exc
        recorded = yaml.safe_load((rendered / ".copier-answers.yml").read_text(encoding="utf-8"))
        final = validate_answers({k: v for k, v in recorded.items() if not k.startswith("_")})
        from .project_reports import write_reports

        write_reports(rendered, final)
        write_baseline(rendered, snapshot(rendered, final.stack), __version__)
        files = _files(rendered)
        if not pretend:
            _install(rendered, destination, staging / "replaced")
    from aiscaffold_components.catalog import model_warnings

    # A deprecated or retired model renders (the user may hold an older subscription
    # that keeps it), but is said: `aiscaffold check` blocks a retired one later anyway.
    warnings_ = tuple(model_warnings(final.cloud, final.ai_service, final.models))
    return GenerateResult(
        destination=destination,
        answers=final,
        files=files,
        pretend=pretend,
        template=source,
        warnings=warnings_,
    )
