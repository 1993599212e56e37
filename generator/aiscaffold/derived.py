"""Values aiscaffold derives in code, and their three-way merge when a project updates.

Some lines of a generated project come from aiscaffold's Python code rather than from
template text: the exact pins of the requirements files (``constraints.txt``) and the
stack settings derived through the control catalog (``Pulumi.<stack>.yaml``). copier's
update cannot bring their changes in: it renders the old template version with the
*installed* code, so the old and new renders agree and the project's older values look
like the user's edits.

So a project records what aiscaffold derived when it was last rendered, in
:data:`BASELINE_FILE`, and ``aiscaffold update`` merges those values itself, one pin or
setting at a time, with that record as the common ancestor: a value the user left as
derived takes the new one; a value the user changed is kept (and reported); a value
the user removed stays removed; new values are added; values aiscaffold no longer
derives are removed unless the user changed them. Only the lines of those entries are
rewritten, so comments and the rest of each file survive.

A project without the record (rendered before it existed) takes its base from git
history instead: the derived files as committed with the answers file's last change,
the commit that recorded its generation or last update (``aiscaffold update`` reads
it). With no base at all, new pins and settings are added where missing and every
differing value is kept, reported for review.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement, Requirement

__all__ = [
    "BASELINE_FILE",
    "DerivedMerge",
    "add_config_entries",
    "merge_derived",
    "read_baseline",
    "snapshot",
    "write_baseline",
]

BASELINE_FILE = ".aiscaffold-derived.yml"

REQUIREMENTS_FILES = ("requirements.txt", "policy/requirements.txt", "bootstrap/requirements.txt")
#: The pre-commit config: the aiscaffold release its hook runs (``rev:``) and the pins
#: the hook's environment installs (``additional_dependencies``) are derived in code too.
PRE_COMMIT_FILE = ".pre-commit-config.yaml"
_REV = re.compile(r"^(\s+rev:\s*)(\S+)(.*)$")
_DEPENDENCY = re.compile(r"^(\s+-\s+)(\S.*?)\s*$")
_BASELINE_HEADER = (
    "# Written by aiscaffold: the pins and stack settings it derived in code when it last\n"
    "# rendered this project. `aiscaffold update` merges newer ones into your files with\n"
    "# this record as the common ancestor, so keep it committed and do not edit it.\n"
)

Snapshot = dict[str, dict[str, Any]]
"""File -> ``{"requirements": {name: line}}`` or ``{"config": {key: value}}``."""


def _config_files(stack: str) -> tuple[str, ...]:
    return (f"Pulumi.{stack}.yaml", "bootstrap/Pulumi.bootstrap.yaml")


def _requirement_name(line: str) -> str | None:
    text = line.split("#", 1)[0].strip()
    if not text or text.startswith("-"):
        return None
    try:
        return Requirement(text).name.lower()
    except InvalidRequirement:
        return None


def _requirements(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        name = _requirement_name(line)
        if name is not None:
            out[name] = line.strip()
    return out


def _config(text: str) -> dict[str, Any] | None:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    config = data.get("config") if isinstance(data, dict) else None
    return dict(config) if isinstance(config, dict) else None


def snapshot(root: Path, stack: str) -> Snapshot:
    """The derived values of a freshly rendered project in ``root``."""
    out: Snapshot = {}
    for name in REQUIREMENTS_FILES:
        path = root / name
        if path.is_file():
            out[name] = {"requirements": _requirements(path.read_text(encoding="utf-8"))}
    pre_commit = root / PRE_COMMIT_FILE
    if pre_commit.is_file():
        out[PRE_COMMIT_FILE] = {"pre-commit": _pre_commit(pre_commit.read_text(encoding="utf-8"))}
    for name in _config_files(stack):
        path = root / name
        if path.is_file():
            config = _config(path.read_text(encoding="utf-8"))
            if config is not None:
                out[name] = {"config": config}
    return out


def _pre_commit_lines(lines: list[str]) -> dict[str, int]:
    """Where the derived values of the aiscaffold hook are: ``rev`` and each
    dependency's name -> line index (only in the first, uncommented repo: aiscaffold's)."""
    where: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            continue
        if "rev" not in where and (match := _REV.match(line)):
            where["rev"] = i
        elif "rev" in where and (match := _DEPENDENCY.match(line)):
            name = _requirement_name(match.group(2))
            if name is not None:
                where[name] = i
        elif "rev" in where and line.startswith("  - repo:"):
            break  # another repository's hooks are the team's
    return where


def _pre_commit_value(line: str, key: str) -> str:
    match = _REV.match(line) if key == "rev" else _DEPENDENCY.match(line)
    return match.group(2) if match else ""


def _pre_commit(text: str) -> dict[str, str]:
    lines = text.splitlines()
    return {key: _pre_commit_value(lines[i], key) for key, i in _pre_commit_lines(lines).items()}


def _merge_pre_commit(
    file: str, text: str, base: Mapping[str, str] | None, new: Mapping[str, str], kept: list[str]
) -> str:
    """The hook's release and pins follow aiscaffold's where the user left them as
    derived (a user's own ``rev`` or pin is kept and reported, like requirements)."""
    lines = text.splitlines()
    where = _pre_commit_lines(lines)
    changed = False
    for key, value in new.items():
        if key not in where:
            continue  # a dependency or rev the user removed stays removed
        i = where[key]
        ours = _pre_commit_value(lines[i], key)
        if ours == value:
            continue
        if base is not None and base.get(key) == ours:
            match = _REV.match(lines[i]) if key == "rev" else _DEPENDENCY.match(lines[i])
            assert match is not None
            tail = match.group(3) if key == "rev" else ""
            lines[i] = f"{match.group(1)}{value}{tail}"
            changed = True
        else:
            kept.append(f"{file}: kept your {key} `{ours}` (aiscaffold now derives `{value}`)")
    return "\n".join(lines) + "\n" if changed else text


def write_baseline(root: Path, values: Snapshot, version: str) -> None:
    """Record ``values`` as what aiscaffold ``version`` derived for the project."""
    body = yaml.safe_dump(
        {"aiscaffold": version, "files": values}, sort_keys=False, width=100, allow_unicode=True
    )
    (root / BASELINE_FILE).write_text(_BASELINE_HEADER + body, encoding="utf-8")


def read_baseline(root: Path) -> tuple[str, Snapshot] | None:
    """The recorded version and values, or None when the project has no usable record."""
    path = root / BASELINE_FILE
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return None
    return str(data.get("aiscaffold", "")), data["files"]


@dataclass
class DerivedMerge:
    """What :func:`merge_derived` did."""

    updated: list[str] = field(default_factory=list)
    """Files whose derived lines changed."""
    kept: list[str] = field(default_factory=list)
    """One line per value of the user's that differs from the new derived one."""


def _show(value: Any) -> str:
    return json.dumps(value)


def _merge_requirements(
    file: str,
    text: str,
    base: Mapping[str, str] | None,
    new: Mapping[str, str],
    versions: tuple[str, str] | None,
    kept: list[str],
) -> str:
    lines = text.splitlines()
    where = {name: i for i, line in enumerate(lines) if (name := _requirement_name(line))}
    replace: dict[int, str | None] = {}
    for name, line in new.items():
        if name not in where:
            if base is not None and name in base:
                kept.append(f"{file}: {name} stays out, as you removed it (now `{line}`)")
            else:
                lines.append(line)  # new pins go at the end (the order pip ignores)
            continue
        ours = lines[where[name]].strip()
        if ours == line:
            continue
        if base is not None and base.get(name) == ours:
            replace[where[name]] = line
        else:
            kept.append(f"{file}: kept your `{ours}` (aiscaffold now pins `{line}`)")
    for name, line in (base or {}).items():
        if name not in new and name in where and lines[where[name]].strip() == line:
            replace[where[name]] = None
    appended = len(lines) > len(text.splitlines())
    if not replace and not appended and versions is None:
        return text
    merged: list[str] = []
    for i, line in enumerate(lines):
        kept_line = replace.get(i, line) if i in replace else line
        if kept_line is not None:
            merged.append(kept_line)
    if versions is not None:  # "as tested with aiscaffold X" follows the pins
        old, current = versions
        comment = re.compile(rf"^(#.*\baiscaffold ){re.escape(old)}\b")
        merged = [comment.sub(rf"\g<1>{current}", line) for line in merged]
    out = "\n".join(merged) + "\n"
    return out if out.rstrip("\n") != text.rstrip("\n") else text


_ENTRY = re.compile(r"^  (?![ #-])\S")
_CONTINUATION = re.compile(r"^(  - |   )")


def _config_blocks(lines: list[str]) -> tuple[dict[str, tuple[int, int]], int] | None:
    """Where each entry of the ``config:`` mapping is: key -> (first, end) line indices,
    and the index after the last entry (where new entries go)."""
    try:
        start = lines.index("config:") + 1
    except ValueError:
        return None
    blocks: dict[str, tuple[int, int]] = {}
    i, last_end = start, start
    while i < len(lines):
        line = lines[i]
        if line and not line.startswith((" ", "#")):
            break  # the next top-level key
        if not _ENTRY.match(line):
            i += 1
            continue
        end = i + 1
        while end < len(lines) and _CONTINUATION.match(lines[end]):
            end += 1
        try:
            entry = yaml.safe_load("\n".join(lines[i:end]))
        except yaml.YAMLError:
            return None
        if not isinstance(entry, dict) or len(entry) != 1:
            return None
        blocks[str(next(iter(entry)))] = (i, end)
        i = last_end = end
    return blocks, last_end


def _entry_lines(key: str, value: Any) -> list[str]:
    # The template writes the stack file with this same dump, so entries read alike.
    dumped = yaml.safe_dump({"config": {key: value}}, sort_keys=False, width=100)
    return dumped.splitlines()[1:]


def _merge_config(
    file: str,
    text: str,
    base: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    kept: list[str],
) -> str:
    ours = _config(text)
    lines = text.splitlines()
    located = _config_blocks(lines)
    if ours is None or located is None:
        kept.append(f"{file}: not merged (no `config:` mapping aiscaffold can read)")
        return text
    blocks, append_at = located
    expected = dict(ours)  # what the merged file must read back as
    edits: dict[int, tuple[int, list[str]]] = {}  # first line -> (end, replacement)
    added: list[str] = []
    for key, value in new.items():
        if key not in ours:
            if base is not None and key in base:
                kept.append(f"{file}: {key} stays out, as you removed it (now {_show(value)})")
            else:
                added += _entry_lines(key, value)
                expected[key] = value
            continue
        if ours[key] == value:
            continue
        if base is not None and key in base and base[key] == ours[key] and key in blocks:
            edits[blocks[key][0]] = (blocks[key][1], _entry_lines(key, value))
            expected[key] = value
        else:
            kept.append(
                f"{file}: kept your {key}: {_show(ours[key])} (aiscaffold now derives "
                f"{_show(value)})"
            )
    for key, value in (base or {}).items():
        if key not in new and key in ours and ours[key] == value and key in blocks:
            edits[blocks[key][0]] = (blocks[key][1], [])
            del expected[key]
    if not edits and not added:
        return text
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i == append_at:
            out += added
            added = []
        if i in edits:
            end, replacement = edits[i]
            out += replacement
            i = end
            continue
        out.append(lines[i])
        i += 1
    out += added
    merged = "\n".join(out) + "\n"
    if _config(merged) != expected:  # never write a file that does not read back as intended
        kept.append(f"{file}: not merged (its layout is not one aiscaffold can edit safely)")
        return text
    return merged


def add_config_entries(project: Path, file: str, entries: Mapping[str, Any]) -> list[str]:
    """Add config entries a project lacks, line by line (a value the user set is kept).

    Returns what was kept instead, for the update report.
    """
    path = project / file
    kept: list[str] = []
    if not path.is_file():
        return kept
    text = path.read_text(encoding="utf-8")
    merged = _merge_config(file, text, None, entries, kept)
    if merged != text:
        path.write_text(merged, encoding="utf-8")
    return kept


def merge_derived(
    project: Path,
    baseline: tuple[str, Snapshot] | None,
    new: Snapshot,
    version: str,
) -> DerivedMerge:
    """Merge newly derived values into the project's files (see the module docstring).

    Args:
        project: the project directory, after copier's update.
        baseline: the project's record from before the update (:func:`read_baseline`).
        new: the values derived now (:func:`snapshot` of a fresh render).
        version: the aiscaffold version that derived ``new``.
    """
    result = DerivedMerge()
    old_version, base = baseline if baseline is not None else ("", None)
    for file, entry in new.items():
        path = project / file
        if not path.is_file():
            continue  # a file the user deleted stays deleted
        text = path.read_text(encoding="utf-8")
        base_entry = base.get(file) if base is not None else None
        if "pre-commit" in entry:
            merged = _merge_pre_commit(
                file,
                text,
                base_entry.get("pre-commit") if isinstance(base_entry, dict) else None,
                entry["pre-commit"],
                result.kept,
            )
        elif "requirements" in entry:
            merged = _merge_requirements(
                file,
                text,
                base_entry.get("requirements") if isinstance(base_entry, dict) else None,
                entry["requirements"],
                (old_version, version) if old_version and old_version != version else None,
                result.kept,
            )
        else:
            merged = _merge_config(
                file,
                text,
                base_entry.get("config") if isinstance(base_entry, dict) else None,
                entry["config"],
                result.kept,
            )
        if merged != text:
            path.write_text(merged, encoding="utf-8")
            result.updated.append(file)
    write_baseline(project, new, version)
    return result
