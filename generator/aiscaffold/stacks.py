"""Several stacks per project: ``aiscaffold stack add|list|remove`` (issue 18).

Where a stack's answers live:

- The project's first stack, the ``stack`` answer, takes its answers from
  ``.copier-answers.yml``, as in a project with one stack (nothing changes there).
- Every stack added with ``stack add`` is recorded in :data:`STACKS_FILE`
  (``.aiscaffold-stacks.yml``, committed), under ``stacks: {name: {key: value}}``, with
  its :data:`PER_STACK_KEYS` only. The project-wide answers (:data:`PROJECT_KEYS`) are
  read from ``.copier-answers.yml`` whenever the stack is derived, so ``update`` derives
  each stack from the project's answers as they are then plus the stack's own.

Each added stack gets ``Pulumi.<name>.yaml`` (its derived profile, rendered by the same
template file as the first stack's) and ``policy/enforcement.<name>.yaml`` (its
requirements: the policy pack enforces them when Pulumi previews that stack, see
:mod:`aiscaffold_components.policies._stacks`). Its derived values join the record
``update`` merges from (``.aiscaffold-derived.yml``, one entry per stack file).
"""

from __future__ import annotations

import json
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .answers import (
    QUESTION_KEYS,
    Answers,
    allowed_regions,
    applies,
    choices_for,
    coerce_answers,
    default_for,
    parse_data_options,
    problem,
    validate_answers,
)
from .errors import (
    AnswersError,
    Interrupted,
    MissingAnswersError,
    ProjectError,
    RenderError,
    UsageError,
)

__all__ = [
    "PER_STACK_KEYS",
    "PROJECT_KEYS",
    "STACKS_FILE",
    "AddResult",
    "RemoveResult",
    "StackInfo",
    "add_stack",
    "enforcement_text",
    "list_stacks",
    "load_stack_requirements",
    "merged_answers",
    "read_records",
    "remove_stack",
    "render_stack",
    "stack_answers",
    "stack_file",
]

STACKS_FILE = ".aiscaffold-stacks.yml"
ANSWERS_FILE = ".copier-answers.yml"

#: Answers that differ between environments: where the stack runs and what data it
#: holds (region, sensitivity, frameworks: they select the derived settings and the
#: enforcement levels), what it may reach and owns in its account (egress, the
#: account-level singletons), who is alerted and what it may spend, and its front door
#: (a public gateway in prod, none in dev), and its recovery region (prod replicates, dev
#: need not). In question order.
PER_STACK_KEYS: tuple[str, ...] = tuple(
    k
    for k in QUESTION_KEYS
    if k
    in {
        "data_sensitivity",
        "compliance",
        "region",
        "allow_internet_egress",
        "account_services",
        "alert_emails",
        "monthly_budget",
        "billing_account",
        "api_gateway",
        "gateway_oidc_issuer",
        "gateway_oidc_audience",
        "dr_region",
    }
)
#: Answers every stack shares: what the workload is (name, cloud, AI service, models,
#: guardrail topics and PII handling: the same application runs in every stack, tested
#: in dev as it runs in prod), where its state lives, and the organization policies
#: (set once per GCP organization, not per stack).
PROJECT_KEYS: tuple[str, ...] = tuple(
    k for k in QUESTION_KEYS if k not in PER_STACK_KEYS and k != "stack"
)

_HEADER = (
    "# Written by aiscaffold: the stacks added with `aiscaffold stack add` and their own\n"
    "# answers (the first stack's are in .copier-answers.yml; project-wide answers too).\n"
    "# `aiscaffold update` derives each stack from these; commit this file. Change a\n"
    "# stack with `aiscaffold stack remove` and `stack add`, or edit it and run update.\n"
)


def stack_file(stack: str) -> str:
    """The stack's config file, relative to the project."""
    return f"Pulumi.{stack}.yaml"


def _enforcement_file(stack: str) -> str:
    from aiscaffold_components.policies import stack_enforcement_file

    return f"policy/{stack_enforcement_file(stack)}"


def _recorded(project: Path) -> dict[str, Any]:
    path = project / ANSWERS_FILE
    if not path.is_file():
        raise ProjectError(
            f"{project} has no {ANSWERS_FILE}: stacks are added to a project generated "
            "by aiscaffold",
            hint="Run the command in the project directory (or give its path).",
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        raise ProjectError(f"{ANSWERS_FILE} is not valid YAML; restore it from git") from None
    if not isinstance(data, dict):
        raise ProjectError(f"{ANSWERS_FILE} is not a mapping; restore it from git")
    return data


def read_records(project: Path) -> dict[str, dict[str, Any]]:
    """The added stacks and their own answers, in the order they were added."""
    path = project / STACKS_FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        raise ProjectError(f"{STACKS_FILE} is not valid YAML; restore it from git") from None
    stacks = data.get("stacks") if isinstance(data, dict) else None
    if not isinstance(stacks, dict) or not all(isinstance(v, dict) for v in stacks.values()):
        raise ProjectError(
            f"{STACKS_FILE} has no `stacks:` mapping of stack names to answers",
            hint="Restore it from git history.",
        )
    return {str(k): dict(v) for k, v in stacks.items()}


def _records_text(records: Mapping[str, Mapping[str, Any]]) -> str:
    body = yaml.safe_dump(
        {"stacks": {k: dict(v) for k, v in records.items()}},
        sort_keys=False,
        width=100,
        allow_unicode=True,
    )
    return _HEADER + body


def _project_context(recorded: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in recorded.items() if k in QUESTION_KEYS}


def merged_answers(
    recorded: Mapping[str, Any], stack: str, own: Mapping[str, Any]
) -> dict[str, Any]:
    """The answers a stack is derived from: the project's, its own, its name."""
    context = _project_context(recorded)
    return {
        **{k: v for k, v in context.items() if k not in PER_STACK_KEYS},
        # Per-stack questions newer than the record take the first stack's answer.
        **{k: v for k, v in context.items() if k in PER_STACK_KEYS and k not in own},
        **{k: v for k, v in own.items() if k in PER_STACK_KEYS},
        "stack": stack,
    }


def stack_answers(project: Path, stack: str) -> Answers:
    """A stack's complete answers (the first stack's, or an added one's)."""
    recorded = _recorded(project)
    primary = str(recorded.get("stack", "dev"))
    records = read_records(project)
    if stack == primary:
        return validate_answers(_project_context(recorded))
    if stack not in records:
        raise ProjectError(
            f"stack {stack!r} is not a stack of this project",
            hint=f"Its stacks: {', '.join([primary, *records])}.",
        )
    return validate_answers(merged_answers(recorded, stack, records[stack]))


def load_stack_requirements(project: Path, stack: str | None) -> Any:
    """The requirements the policy pack enforces for ``stack``: its own
    ``policy/enforcement.<stack>.yaml`` with the project-wide overrides, or
    ``policy/enforcement.yaml`` (as :func:`aiscaffold.check.load_requirements`)."""
    from aiscaffold_components.policies import stack_enforcement_file, stack_requirements
    from pydantic import ValidationError

    from .check import load_requirements

    own = stack_enforcement_file(stack) if stack else None
    if own is None or not (project / "policy" / own).is_file():
        return load_requirements(project)
    load_requirements(project)  # the project-wide file's own problems, named as such
    try:
        return stack_requirements(project / "policy", stack)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ProjectError(f"policy/{own} is invalid: {problems}") from None
    except Exception as exc:  # YAML errors
        raise ProjectError(f"policy/{own} cannot be read: {exc}") from None


# ------------------------------------------------------------------ rendering
def render_stack(
    answers: Mapping[str, Any],
    tmp: Path,
    *,
    src_path: str | None = None,
    ref: str | None = None,
) -> tuple[str, str]:
    """``Pulumi.<stack>.yaml`` and the requirements of the policy pack for ``answers``,
    rendered by the template itself (the same files ``new`` writes for the first stack).

    ``src_path`` and ``ref`` name the template version (default: the installed one)."""
    import copier

    if src_path is None or ref is None:
        from .template_source import ensure_template_source

        source = ensure_template_source()
        src_path, ref = source.src_path, source.ref
    out = tmp / f"render-{answers['stack']}"
    # Only the questions copier asks for these answers: it validates every answer given.
    data = {k: v for k, v in answers.items() if k in QUESTION_KEYS and applies(k, answers)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            copier.run_copy(
                src_path,
                out,
                data=data,
                defaults=True,
                unsafe=True,
                vcs_ref=ref,
                quiet=True,
                overwrite=True,
            )
    except KeyboardInterrupt:
        raise Interrupted("interrupted: nothing was written") from None
    except Exception as exc:
        raise RenderError(
            f"rendering stack {answers['stack']} failed: {exc}",
            hint="Nothing was written. Run with -v for details.",
        ) from exc
    config = (out / stack_file(str(answers["stack"]))).read_text(encoding="utf-8")
    enforcement = (out / "policy" / "enforcement.yaml").read_text(encoding="utf-8")
    return config, enforcement


def derived_requirements(rendered: str) -> str:
    """The requirement lines of a rendered enforcement file (before its overrides)."""
    lines = rendered.splitlines(keepends=True)
    cut = next((i for i, line in enumerate(lines) if line.startswith("overrides:")), len(lines))
    return "".join(lines[:cut])


def enforcement_text(rendered: str, current: str | None = None) -> str:
    """A stack's enforcement file: the freshly derived requirements, and the overrides
    of ``current`` (the team's, kept) or else the rendered ones (the lock step's)."""
    head = derived_requirements(rendered)
    source = current if current is not None else rendered
    lines = source.splitlines(keepends=True)
    cut = next((i for i, line in enumerate(lines) if line.startswith("overrides:")), None)
    tail = "".join(lines[cut:]) if cut is not None else "overrides: {}\n"
    return head + tail


# ------------------------------------------------------------------ add
@dataclass(frozen=True)
class AddResult:
    """What :func:`add_stack` wrote."""

    stack: str
    answers: Answers
    files: tuple[str, ...]
    defaults_taken: tuple[str, ...]
    """Per-stack answers taken from defaults (the first stack's, or ``shared``)."""


def _owner_in_region(
    recorded: Mapping[str, Any], records: Mapping[str, Mapping[str, Any]], region: Any
) -> str | None:
    """A stack that creates the account-level singletons in ``region``, if any.

    Offline there is no account id to compare: one cloud and one region is taken as
    one account (docs/environments.md); a stack in another account says
    ``--data account_services=this-stack``.
    """
    stacks = {str(recorded.get("stack", "dev")): _project_context(recorded)}
    stacks.update({name: merged_answers(recorded, name, own) for name, own in records.items()})
    for name, answers in stacks.items():
        if answers.get("region") == region and answers.get("account_services") == "this-stack":
            return name
    return None


def _default(
    key: str,
    answers: Mapping[str, Any],
    recorded: Mapping[str, Any],
    records: Mapping[str, Mapping[str, Any]],
) -> Any:
    """A new stack's default: ``shared`` account services where another stack owns them
    in the region; otherwise the first stack's answer where it is still valid."""
    if key == "account_services":
        owner = _owner_in_region(recorded, records, answers.get("region"))
        return "shared" if owner is not None else "this-stack"
    first = recorded.get(key)
    if (
        first is not None
        and not problem(key, first, answers)
        and (
            key != "region"
            or first
            in allowed_regions(answers.get("cloud", "aws"), list(answers.get("compliance") or ()))
        )
    ):
        return first
    return default_for(key, answers)


def _ask(key: str, default: Any, answers: Mapping[str, Any]) -> Any:
    """One per-stack question on the terminal (questionary, as ``new`` asks)."""
    import questionary

    choices = choices_for(key, answers)
    title = f"{key.replace('_', ' ')}?"
    if key == "compliance":
        question = questionary.checkbox(
            title,
            choices=[questionary.Choice(c, checked=c in (default or ())) for c in choices or []],
        )
    elif choices:
        question = questionary.select(
            title, choices=choices, default=default if default in choices else None
        )
    elif isinstance(default, bool):
        question = questionary.confirm(title, default=default)
    else:
        shown = json.dumps(default) if isinstance(default, (list, tuple)) else str(default or "")
        question = questionary.text(title + " (YAML)", default=shown)
    try:
        value = question.unsafe_ask()
    except EOFError:
        raise MissingAnswersError([key]) from None
    except KeyboardInterrupt:
        raise Interrupted("interrupted: nothing was written") from None
    if isinstance(value, str) and not choices:
        # Typed text reads as --data does: YAML, except for the text questions.
        return parse_data_options([f"{key}={value}"])[key]
    return value


def _collect(
    stack: str,
    given: Mapping[str, Any],
    recorded: Mapping[str, Any],
    records: Mapping[str, Mapping[str, Any]],
    *,
    defaults: bool,
    interactive: bool,
    ask: Callable[[str, Any, Mapping[str, Any]], Any],
) -> tuple[dict[str, Any], list[str]]:
    answers = {
        **{k: v for k, v in _project_context(recorded).items() if k not in PER_STACK_KEYS},
        "stack": stack,
    }
    taken: list[str] = []
    missing: list[str] = []
    for key in PER_STACK_KEYS:
        if key in given:
            answers[key] = given[key]
        elif not applies(key, answers):
            continue
        else:
            default = _default(key, answers, recorded, records)
            if interactive and not defaults:
                answers[key] = ask(key, default, answers)
            elif defaults and default is not None:
                answers[key] = default
                taken.append(key)
            else:
                missing.append(key)
    if missing:
        raise MissingAnswersError(missing)
    return answers, taken


def _check_given(
    stack: str, given: Mapping[str, Any], project: Path, primary: str, records: Mapping[str, Any]
) -> None:
    problems: list[str] = []
    if message := problem("stack", stack):
        problems.append(f"stack name: {message}")
    elif stack == primary or stack in records:
        problems.append(f"stack name: {stack!r} is already a stack of this project")
    elif (project / stack_file(stack)).exists():
        problems.append(
            f"stack name: {stack_file(stack)} already exists (a stack made outside "
            "aiscaffold?); remove or rename it, or choose another name"
        )
    for key in given:
        if key == "cloud":
            problems.append(
                "cloud: every stack of a project runs on the project's cloud "
                f"({given.get('cloud')!r} is another project: `aiscaffold new`)"
            )
        elif key == "stack":
            problems.append("stack: the name is the command's argument, not an answer")
        elif key in PROJECT_KEYS:
            problems.append(
                f"{key}: project-wide (every stack shares it); change it for all with "
                f"`aiscaffold update --data {key}=...`"
            )
        elif key not in PER_STACK_KEYS:
            problems.append(
                f"{key}: not a question of aiscaffold (per-stack answers: "
                f"{', '.join(PER_STACK_KEYS)})"
            )
    if problems:
        raise AnswersError(problems)


def add_stack(
    path: str | Path,
    name: str,
    *,
    answers: Mapping[str, Any] | None = None,
    defaults: bool = False,
    interactive: bool = False,
    ask: Callable[[str, Any, Mapping[str, Any]], Any] = _ask,
) -> AddResult:
    """Add stack ``name`` to the project: its answers, config, requirements, reports.

    Everything is computed and validated before anything is written.

    Raises:
        AnswersError: a bad name, a name in use, a project-wide or unknown key, or
            answers ``new`` would refuse (a region of another cloud or excluded by the
            frameworks...).
        MissingAnswersError: answers missing without a terminal or ``defaults``.
        ProjectError: not a generated project.
    """
    from .derived import _config, read_baseline, write_baseline

    project = Path(path).resolve()
    recorded = _recorded(project)
    primary = str(recorded.get("stack", "dev"))
    records = read_records(project)
    given = coerce_answers(dict(answers or {}))
    _check_given(name, given, project, primary, records)
    merged, taken = _collect(
        name, given, recorded, records, defaults=defaults, interactive=interactive, ask=ask
    )
    final = validate_answers(merged)
    dumped = final.model_dump(mode="json")
    own = {k: v for k, v in dumped.items() if k in PER_STACK_KEYS and applies(k, dumped)}

    with tempfile.TemporaryDirectory(prefix="aiscaffold-stack-") as tmp:
        config_text, rendered_enforcement = render_stack(
            {**final.model_dump(mode="json")}, Path(tmp)
        )
    config = _config(config_text)
    baseline = read_baseline(project)
    from . import __version__

    version, files = baseline if baseline is not None else (__version__, {})
    files = {**files, stack_file(name): {"config": config or {}}}
    writes = {
        stack_file(name): config_text,
        _enforcement_file(name): enforcement_text(rendered_enforcement),
        STACKS_FILE: _records_text({**records, name: own}),
    }
    # Everything is known: write (the files are new, or ours to rewrite).
    for file, text in writes.items():
        (project / file).write_text(text, encoding="utf-8")
    write_baseline(project, files, version)
    _refresh_reports(project)
    from .derived import BASELINE_FILE

    return AddResult(
        stack=name,
        answers=final,
        files=(*writes, BASELINE_FILE, "COMPLIANCE.md"),
        defaults_taken=tuple(taken),
    )


def _refresh_reports(project: Path) -> None:
    from .project_reports import write_reports

    try:
        answers = validate_answers(_project_context(_recorded(project)))
    except AnswersError:
        return  # answers of another template version: leave the reports
    write_reports(project, answers)


# ------------------------------------------------------------------ list
@dataclass(frozen=True)
class StackInfo:
    """One row of ``stack list``."""

    name: str
    first: bool
    """The project's first stack (its answers are the project's)."""
    recorded: bool
    """Recorded by aiscaffold (False: a Pulumi.<name>.yaml made outside it)."""
    region: str | None = None
    dr_region: str | None = None
    data_sensitivity: str | None = None
    compliance: tuple[str, ...] = ()
    account_services: str | None = None
    api_gateway: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "first": self.first,
            "recorded": self.recorded,
            "region": self.region,
            "dr_region": self.dr_region,
            "data_sensitivity": self.data_sensitivity,
            "compliance": list(self.compliance),
            "account_services": self.account_services,
            "api_gateway": self.api_gateway,
        }


def list_stacks(path: str | Path = ".") -> list[StackInfo]:
    """The project's stacks: the first, the added ones, then unrecorded stack files."""
    project = Path(path).resolve()
    recorded = _recorded(project)
    primary = str(recorded.get("stack", "dev"))
    records = read_records(project)
    rows: list[StackInfo] = []
    for name in (primary, *records):
        a = (
            _project_context(recorded)
            if name == primary
            else merged_answers(recorded, name, records[name])
        )
        rows.append(
            StackInfo(
                name=name,
                first=name == primary,
                recorded=True,
                region=a.get("region"),
                dr_region=a.get("dr_region", ""),
                data_sensitivity=a.get("data_sensitivity"),
                compliance=tuple(a.get("compliance") or ()),
                account_services=a.get("account_services", "this-stack"),
                api_gateway=a.get("api_gateway", "none"),
            )
        )
    known = {r.name for r in rows}
    for file in sorted(project.glob("Pulumi.*.yaml")):
        name = file.name[len("Pulumi.") : -len(".yaml")]
        if name not in known:
            rows.append(StackInfo(name=name, first=False, recorded=False))
    return rows


# ------------------------------------------------------------------ remove
@dataclass(frozen=True)
class RemoveResult:
    stack: str
    removed: tuple[str, ...]


def remove_stack(path: str | Path, name: str) -> RemoveResult:
    """Forget an added stack: its record and files (never its cloud resources or state).

    Raises:
        UsageError: the stack is the project's first (its answers are the project's)
            or not a stack aiscaffold added.
    """
    from .derived import BASELINE_FILE, read_baseline, write_baseline

    project = Path(path).resolve()
    recorded = _recorded(project)
    primary = str(recorded.get("stack", "dev"))
    records = read_records(project)
    if name == primary:
        raise UsageError(
            f"{name!r} is the project's first stack: its answers are the project's "
            f"({ANSWERS_FILE}), so it stays while the project exists",
            hint="Remove the stacks added after it; a project without it is a new project.",
        )
    if name not in records:
        raise UsageError(
            f"{name!r} is not a stack added with `aiscaffold stack add`",
            hint=f"Its stacks: {', '.join([primary, *records])} (`aiscaffold stack list`).",
        )
    removed: list[str] = []
    for file in (stack_file(name), _enforcement_file(name)):
        if (project / file).is_file():
            (project / file).unlink()
            removed.append(file)
    rest = {k: v for k, v in records.items() if k != name}
    if rest:
        (project / STACKS_FILE).write_text(_records_text(rest), encoding="utf-8")
    else:  # back to a one-stack project: its files as a one-stack project has them
        (project / STACKS_FILE).unlink()
    removed.append(STACKS_FILE)
    baseline = read_baseline(project)
    if baseline is not None and stack_file(name) in baseline[1]:
        files = {k: v for k, v in baseline[1].items() if k != stack_file(name)}
        write_baseline(project, files, baseline[0])
        removed.append(BASELINE_FILE)
    _refresh_reports(project)
    return RemoveResult(stack=name, removed=tuple(removed))
