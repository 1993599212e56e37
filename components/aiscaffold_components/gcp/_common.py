"""Helpers shared by the GCP components (not public API)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pulumi

#: Seconds in a day, for the duration strings Google APIs take ("86400s").
DAY = 86400

#: Roles that grant everything in a project; no component ever binds them.
BASIC_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})


def duration(days: int) -> str:
    """A whole number of days as a Google API duration string (``"7776000s"``)."""
    if days <= 0:
        raise ValueError(f"a duration must be a positive number of days, not {days}")
    return f"{days * DAY}s"


_WAITS_FOR = "_aiscaffold_waits_for"


def wait_for_dependencies(
    component: pulumi.ComponentResource, opts: pulumi.ResourceOptions | None
) -> None:
    """Make every child of ``component`` wait for the ``depends_on`` it was given.

    Pulumi does not pass a component's ``depends_on`` to its children, so a program's
    "after the APIs are enabled" would otherwise order nothing inside the component.
    """
    depends = opts.depends_on if opts is not None else None
    if depends is None:
        waits: list[pulumi.Resource] = []
    elif isinstance(depends, pulumi.Resource):
        waits = [depends]
    elif isinstance(depends, Sequence):
        waits = [d for d in depends if isinstance(d, pulumi.Resource)]
        if len(waits) != len(depends):
            raise TypeError("aiscaffold components take depends_on as resources, not outputs")
    else:
        raise TypeError("aiscaffold components take depends_on as a list of resources")
    setattr(component, _WAITS_FOR, waits)


def child_opts(
    parent: pulumi.Resource,
    *,
    depends_on: Sequence[pulumi.Resource] = (),
    protect: bool = False,
    ignore_changes: Sequence[str] = (),
) -> pulumi.ResourceOptions:
    """Options of a component's child: parented, waiting for what the parent waits for,
    optionally protected or ordered."""
    waits: list[pulumi.Resource] = [*getattr(parent, _WAITS_FOR, ()), *depends_on]
    return pulumi.ResourceOptions(
        parent=parent,
        depends_on=waits or None,
        protect=protect or None,
        ignore_changes=list(ignore_changes) or None,
    )


def compact(name: str, *, max_len: int, prefix: str = "") -> str:
    """``prefix`` plus the lowercase letters and digits of ``name``, cut to ``max_len``.

    For the GCP names with the tightest rules (PSC forwarding rules: 1-20 lowercase
    letters and digits starting with a letter; service perimeter and custom role ids).
    """
    return (prefix + re.sub(r"[^a-z0-9]", "", name.lower()))[:max_len]


def account_id(name: str) -> str:
    """A service account id (6-30 chars, lowercase letters, digits, hyphens) from a name."""
    cleaned = re.sub(r"[^a-z0-9-]", "-", name.lower()).strip("-")
    cleaned = re.sub(r"-+", "-", cleaned)
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"sa-{cleaned}"
    cleaned = cleaned[:30].rstrip("-")
    return cleaned if len(cleaned) >= 6 else f"{cleaned}-wkld"[:30]


def labels_of(labels: Mapping[str, str]) -> dict[str, str]:
    """A copy of the labels, validated against GCP's label rules."""
    pattern = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
    for key, value in labels.items():
        if not pattern.match(key) or not re.match(r"^[a-z0-9_-]{0,63}$", value):
            raise ValueError(
                f"label {key}={value!r} is not a valid GCP label (lowercase letters, digits, "
                "'-' and '_', keys starting with a letter, at most 63 characters)"
            )
    return dict(labels)


def reject_basic_roles(roles: Sequence[str], what: str) -> None:
    """Raise if a basic role (owner, editor, viewer) is among ``roles``."""
    basic = sorted(set(roles) & BASIC_ROLES)
    if basic:
        raise ValueError(
            f"{what} may not include basic roles ({', '.join(basic)}): they grant every "
            "permission of a service family on the whole project"
        )
