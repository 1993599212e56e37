"""Errors aiscaffold reports to users.

Every error a user can cause derives from :class:`AiscaffoldError`; the CLI prints its
message (no traceback unless ``-v``) and exits with its ``exit_code``. Builtin mix-ins
let library callers catch them by their usual kinds too.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AiscaffoldError",
    "AnswersError",
    "DestinationError",
    "Interrupted",
    "MissingAnswersError",
    "ProjectError",
    "RenderError",
    "UsageError",
]


class AiscaffoldError(Exception):
    """Root of the errors aiscaffold reports: a message and an exit code."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def render(self) -> str:
        text = str(self)
        return f"{text}\n{self.hint}" if self.hint else text


class UsageError(AiscaffoldError, ValueError):
    """A command line or input file that cannot be used as given."""


class AnswersError(AiscaffoldError, ValueError):
    """One or more answers are invalid; ``problems`` has one line per answer."""

    def __init__(self, problems: Sequence[str], *, hint: str | None = None) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        noun = "answer is" if len(self.problems) == 1 else "answers are"
        super().__init__(f"{len(self.problems)} {noun} invalid:\n{lines}", hint=hint)


class MissingAnswersError(AnswersError):
    """Answers are missing and there is no terminal to ask them."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = list(missing)
        AiscaffoldError.__init__(
            self,
            "no terminal to ask questions, and these answers are missing: "
            + ", ".join(self.missing),
            hint="Give them with --data KEY=VALUE or --answers-file FILE, "
            "or use --defaults to take the default for each.",
        )
        self.problems = [f"{key}: missing" for key in self.missing]


class DestinationError(AiscaffoldError, OSError):
    """The destination cannot receive a project as asked."""


class ProjectError(AiscaffoldError, ValueError):
    """A generated project is not in a state the command can work on."""


class RenderError(AiscaffoldError, RuntimeError):
    """The template could not be rendered; the destination was left as it was."""


class Interrupted(AiscaffoldError):
    """The user interrupted (Ctrl-C); nothing was written."""

    exit_code = 130
