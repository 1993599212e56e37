"""Mutation testing of policy packs: weaken each security setting, see a policy catch it.

The security-relevant inputs are derived from what a program actually registers, not
listed by hand: every input of a cloud resource whose key, or an enclosing key, belongs
to the security vocabulary below. Each gets the mutations its place and value allow:

* ``remove``: a mapping key is dropped, as if the component no longer set it (the
  provider's default applies);
* ``drop``: one entry of a list is dropped (a filter, a rule, a log type, a PII entity,
  a policy statement...);
* ``negate``: a boolean flips;
* ``weaken``: a number moves the unsafe way (retention, windows and sampling shrink,
  rotation periods grow);
* ``widen``: a JSON policy document gains a statement allowing every action on every
  resource to everyone.

Tags and labels count as one setting each: removing them all, and removing the
data-classification one. A mutation is killed when the project's policies find a
violation the unmutated resources did not have. Mutations that are not weakenings
(dropping an allow rule narrows access) are exempted by pattern, with a reason, in the
caller's exemption list.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml
from aiscaffold_components.policies import Requirements

from ._harness import CapturedResource, MockRun

__all__ = [
    "Exemption",
    "Mutation",
    "MutationReport",
    "derive_mutations",
    "exemption_for",
    "load_exemptions",
    "mutate",
    "run_mutations",
    "stale_exemptions",
]

Kind = Literal["remove", "drop", "negate", "weaken", "widen"]

#: Key fragments that mark an input as security-relevant (matched case-insensitively
#: against every key on the path to it).
SECURITY_VOCABULARY = (
    "encrypt", "kms", "cmk", "keyuri", "keyvault", "keysource", "cryptokey", "keyspec",
    "rotation", "retention", "deletion", "purge", "softdelete", "protect", "lock",
    "versioning", "immutab", "publicaccess", "blockpublic", "ignorepublic",
    "restrictpublic", "public", "private", "internet", "egress", "ingress", "policy",
    "policies", "auth", "tls", "ssl", "https", "secure", "log", "audit", "trail",
    "validation", "multiregion", "filter", "guardrail", "rai", "pii", "sensitive",
    "jailbreak", "prompt", "rootaccess", "directinternet", "firewall", "deny", "acl",
    "bypass", "defaultaction", "networkaccess", "sampling", "flow", "shielded",
    "secureboot", "integritymonitoring", "confidential", "sourcearn", "sourceaccount",
    "trust", "assumerole", "member", "permission", "condition", "replication", "expir",
    "uniformbucket", "sharedkey", "localauth", "oslogin", "serviceaccount", "identity",
    "dnssupport", "privatedns", "topic", "word", "grounding", "contentfilter", "blocklist",
    "outbound", "inbound", "sourceaddress", "destinationaddress", "access",
)  # fmt: skip

_VOCABULARY = re.compile("|".join(SECURITY_VOCABULARY), re.IGNORECASE)
#: Keys that name, describe or point at things: changing them is not a weakening.
_IDENTIFIERS = re.compile(
    r"(Id|Ids|Name|Names|Arn|Arns|Uri|Url|Description|DisplayName|Messaging|Message)$"
    r"|^(id|name|names|description|displayName|location|region|project)$"
)
_GROWS_UNSAFE = re.compile("rotation", re.IGNORECASE)
_TAG_KEYS = ("tags", "labels")
_CLASSIFICATION = "data-classification"


@dataclass(frozen=True)
class Mutation:
    """One weakening of one input of one resource."""

    urn: str
    resource: str
    type: str
    path: tuple[str | int, ...]
    kind: Kind

    @property
    def dotted(self) -> str:
        return ".".join(map(str, self.path))

    @property
    def label(self) -> str:
        return f"{self.type} {self.resource} {self.dotted} ({self.kind})"


@dataclass(frozen=True)
class Exemption:
    """Mutations that are not weakenings, matched by glob patterns, with the reason.

    ``values`` limits the exemption to inputs currently holding one of them (removing a
    value equal to the provider's default changes nothing); ``resource`` globs the
    resource's name; ``projects`` names the labels of the runs it applies to (for values
    that are only safe where the answers make them so).
    """

    type: str
    path: str
    kinds: tuple[Kind, ...]
    reason: str
    resource: str = "*"
    values: tuple[Any, ...] | None = None
    projects: tuple[str, ...] | None = None

    def matches(
        self, mutation: Mutation, run: MockRun | None = None, project: str | None = None
    ) -> bool:
        if not (
            mutation.kind in self.kinds
            and fnmatch.fnmatchcase(mutation.type, self.type)
            and fnmatch.fnmatchcase(mutation.dotted, self.path)
            and fnmatch.fnmatchcase(mutation.resource, self.resource)
        ):
            return False
        if self.projects is not None and project not in self.projects:
            return False
        if self.values is None:
            return True
        if run is None:
            return False
        current: Any = run.by_urn(mutation.urn).inputs
        for key in mutation.path:
            current = current[key]
        return current in self.values


_EXEMPTION_KEYS = {"type", "path", "kinds", "reason", "resource", "value", "values", "projects"}


def load_exemptions(path: Path) -> list[Exemption]:
    """Exemptions from a YAML list of mappings (keys: the fields of :class:`Exemption`;
    ``value`` is a one-element ``values``). Every entry needs a specific reason."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out = []
    for entry in entries:
        unknown = set(entry) - _EXEMPTION_KEYS
        if unknown:
            raise ValueError(f"{path.name}: unknown keys {sorted(unknown)} in {entry}")
        if len(str(entry.get("reason", ""))) < 20:
            raise ValueError(f"{path.name}: give a specific reason (20+ characters) in {entry}")
        values = entry.get("values", [entry["value"]] if "value" in entry else None)
        projects = entry.get("projects")
        out.append(
            Exemption(
                type=entry["type"],
                path=entry["path"],
                kinds=tuple(entry["kinds"]),
                reason=entry["reason"],
                resource=entry.get("resource", "*"),
                values=tuple(values) if values is not None else None,
                projects=tuple(projects) if projects is not None else None,
            )
        )
    return out


def exemption_for(
    mutation: Mutation, exemptions: Sequence[Exemption], run: MockRun, project: str | None = None
) -> Exemption | None:
    """The first exemption that applies to ``mutation`` (None: it must be caught)."""
    return next((e for e in exemptions if e.matches(mutation, run, project)), None)


def stale_exemptions(
    exemptions: Sequence[Exemption], runs: Mapping[str, MockRun]
) -> list[Exemption]:
    """Exemptions no mutation of any of ``runs`` (by project label) needs: remove or fix them."""
    used: set[int] = set()
    for project, run in runs.items():
        for mutation in derive_mutations(run):
            used |= {i for i, e in enumerate(exemptions) if e.matches(mutation, run, project)}
    return [e for i, e in enumerate(exemptions) if i not in used]


@dataclass
class MutationReport:
    killed: list[Mutation] = field(default_factory=list)
    survived: list[Mutation] = field(default_factory=list)
    exempted: list[tuple[Mutation, Exemption]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.killed) + len(self.survived)

    @property
    def kill_rate(self) -> float:
        return len(self.killed) / self.total if self.total else 1.0


def _is_policy_document(value: Any) -> bool:
    if not isinstance(value, str) or not value.lstrip().startswith("{"):
        return False
    try:
        return "Statement" in json.loads(value)
    except ValueError:
        return False


def _relevant(keys: Sequence[str]) -> bool:
    if not keys:
        return False
    if _IDENTIFIERS.search(keys[-1]) and not _VOCABULARY.search(keys[-1]):
        return False
    return any(_VOCABULARY.search(k) for k in keys)


def _mutations_of(
    value: Any, path: tuple[str | int, ...], in_list: bool
) -> Iterator[tuple[tuple[str | int, ...], Kind]]:
    keys = [k for k in path if isinstance(k, str)]
    if keys and keys[-1] in _TAG_KEYS and isinstance(value, Mapping):
        yield path, "remove"
        if _CLASSIFICATION in value:
            yield (*path, _CLASSIFICATION), "remove"
        return
    relevant = _relevant(keys)
    if isinstance(value, Mapping):
        if relevant and path and not in_list:
            yield path, "remove"
        for key, child in value.items():
            # Inside a list entry, fields are not removed (that makes an invalid entry,
            # not a weaker one): the entry as a whole is dropped instead.
            yield from _mutations_of(child, (*path, key), in_list)
        return
    if isinstance(value, list):
        if relevant and path and not in_list:
            yield path, "remove"
        if relevant and len(value) > 1:
            for index in range(len(value)):
                yield (*path, index), "drop"
        for index, child in enumerate(value):
            if isinstance(child, (Mapping, list)):
                yield from _mutations_of(child, (*path, index), True)
        return
    if not relevant:
        return
    if not in_list:
        yield path, "remove"
    if isinstance(value, bool):
        yield path, "negate"
    elif isinstance(value, (int, float)):
        yield path, "weaken"
    elif _is_policy_document(value):
        yield path, "widen"


def derive_mutations(run: MockRun) -> list[Mutation]:
    """Every weakening of every security-relevant input of the run's cloud resources."""
    mutations: list[Mutation] = []
    for resource in run.resources:
        if not resource.custom or resource.type.startswith("pulumi:"):
            continue
        for key, value in resource.inputs.items():
            for path, kind in _mutations_of(value, (key,), False):
                mutations.append(Mutation(resource.urn, resource.name, resource.type, path, kind))
    return mutations


_WIDE_OPEN = {
    "Sid": "MutationWideOpen",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "*",
    "Resource": "*",
}


def _mutated_value(kind: Kind, path: tuple[str | int, ...], value: Any) -> Any:
    if kind == "negate":
        return not value
    if kind == "weaken":
        key = str(next((k for k in reversed(path) if isinstance(k, str)), ""))
        if _GROWS_UNSAFE.search(key):
            return value * 10 if value else 3650
        return 0 if isinstance(value, float) and value <= 1 else 1
    if kind == "widen":
        document = json.loads(value)
        statements = document["Statement"]
        document["Statement"] = [
            *(statements if isinstance(statements, list) else [statements]),
            _WIDE_OPEN,
        ]
        return json.dumps(document)
    raise ValueError(kind)


def mutate(resource: CapturedResource, mutation: Mutation) -> CapturedResource:
    """A copy of ``resource`` with ``mutation`` applied to its inputs."""
    inputs = copy.deepcopy(resource.inputs)
    parent: Any = inputs
    for key in mutation.path[:-1]:
        parent = parent[key]
    last = mutation.path[-1]
    if mutation.kind in ("remove", "drop"):
        parent.pop(last)
    else:
        parent[last] = _mutated_value(mutation.kind, mutation.path, parent[last])
    return replace(resource, inputs=inputs)


def _signature(run: MockRun, requirements: Requirements) -> set[tuple[str, str, str]]:
    from ..check import evaluate

    report = evaluate(run, requirements)
    return {(f.policy, f.urn, f.message) for f in report.violations}


def run_mutations(
    run: MockRun,
    requirements: Requirements,
    mutations: list[Mutation] | None = None,
    exemptions: Sequence[Exemption] = (),
    project: str | None = None,
) -> MutationReport:
    """Apply each mutation alone and record whether a new violation catches it.

    ``project`` labels the run for exemptions limited to some projects.
    """
    baseline = _signature(run, requirements)
    report = MutationReport()
    index = {r.urn: i for i, r in enumerate(run.resources)}
    for mutation in mutations if mutations is not None else derive_mutations(run):
        exemption = exemption_for(mutation, exemptions, run, project)
        if exemption is not None:
            report.exempted.append((mutation, exemption))
            continue
        position = index[mutation.urn]
        resources = list(run.resources)
        resources[position] = mutate(resources[position], mutation)
        mutated = MockRun(run.project, run.stack, run.config, resources, run.warnings, run.outputs)
        if _signature(mutated, requirements) - baseline:
            report.killed.append(mutation)
        else:
            report.survived.append(mutation)
    return report
