"""Mutation testing of policy packs: weaken each security setting, see a policy catch it.

The security-relevant inputs are derived from what a program actually registers, not
listed by hand: every input of a cloud resource whose key, or an enclosing key, belongs
to the security vocabulary below. Each gets the mutations its place and value allow:

* ``remove``: a mapping key is dropped, as if the component no longer set it (the
  provider's default applies);
* ``drop``: one entry of a list is dropped (a filter, a rule, a log type, a PII entity,
  a policy statement...);
* ``negate``: a switch flips: a boolean, or a string spelling one (``true``/``false``,
  ``TRUE``/``FALSE``, ``Enabled``/``Disabled``, ``ENABLED``/``DISABLED``);
* ``weaken``: a number moves the unsafe way (retention, windows and sampling shrink,
  rotation periods grow);
* ``widen``: a JSON policy document gains a statement allowing every action on every
  resource to everyone;
* ``widen-cidr``: an address range (CIDR block, address prefix, source or destination
  range) becomes every address, ``0.0.0.0/0`` (``::/0`` for IPv6); an Azure service tag
  (``VirtualNetwork``...) becomes ``Internet``;
* ``widen-ports``: a port or port range becomes all ports (``fromPort`` 0, ``toPort``
  65535, ``"0-65535"``), and a TCP or UDP protocol all protocols, in the cloud's
  spelling (AWS ``-1``, GCP ``all``, Azure ``*``);
* ``widen-grant``: a grant widens: an IAM member becomes ``allUsers``, a role the
  cloud's owner role (GCP ``roles/owner``, Azure's Owner role definition, AWS's
  ``AdministratorAccess``), a role assignment's scope its whole subscription;
* ``enum``: a setting with a known weaker value moves to it. The table of
  (safe value -> weak value) pairs, :data:`ENUM_WEAKENINGS`, is keyed by value, never
  by resource type; where one value means different things an entry also names the
  key fragment it applies to (in brackets):

  - ``Deny`` -> ``Allow``, ``deny`` -> ``allow`` (a rule's action, a default action);
  - ``ALL`` -> ``REJECT`` [traffic] (flow logs record only rejected traffic);
  - ``BucketOwnerEnforced`` -> ``ObjectWriter`` (object ACLs back on);
  - ``enforced`` -> ``inherited`` (public access prevention);
  - ``HIGH``, ``MEDIUM`` -> ``LOW`` [strength] (guardrail filter strength);
  - ``Low``, ``Medium`` -> ``High`` [threshold] (Azure blocks at and above the
    threshold, so ``High`` blocks least);
  - ``LOW_AND_ABOVE``, ``MEDIUM_AND_ABOVE`` -> ``HIGH`` (Model Armor confidence);
  - ``VERY_UNLIKELY``, ``UNLIKELY``, ``POSSIBLE``, ``LIKELY`` -> ``VERY_LIKELY``
    [likelihood] (DLP reports fewer findings);
  - ``BLOCK`` -> ``NONE`` [action] (sensitive information detected, not blocked);
  - ``INSPECT_AND_BLOCK`` -> ``INSPECT_ONLY``;
  - ``Blocking`` -> ``Asynchronous_filter`` (content streamed before filtering);
  - ``VpcOnly`` -> ``PublicInternetOnly``;
  - ``None`` -> ``AzureServices`` [bypass]; ``None`` -> ``Blob`` [publicaccess];
  - ``TLS1_2`` -> ``TLS1_0``;
  - ``RSA-HSM`` -> ``RSA``, ``EC-HSM`` -> ``EC``, ``HSM`` -> ``SOFTWARE``;
  - ``aws:kms``, ``aws:kms:dsse`` -> ``AES256`` (S3-managed keys);
  - ``COMPLIANCE`` -> ``GOVERNANCE`` (object lock the root can lift);
  - ``Locked`` -> ``Unlocked`` (immutability policy);
  - ``allLogs`` -> ``audit`` (diagnostic categories);
  - ``INCLUDE_ALL_METADATA`` -> ``EXCLUDE_ALL_METADATA``;
  - ``INTERVAL_5_SEC`` -> ``INTERVAL_15_MIN`` (flow log aggregation);
  - ``FullyRestricted`` -> ``NotRestricted`` (bucket encryption enforcement);
  - ``RESTRICTED-SERVICES`` -> ``ALL-SERVICES`` (VPC-accessible services);
  - ``USER_PROFILE_NAME`` -> ``DISABLED`` (source identity in CloudTrail);
  - ``Block`` -> ``Log`` (use of an expired SAS);
  - ``Retain`` -> ``Delete`` (data kept when its owner is deleted);
  - ``Disabled`` -> ``Allowed`` [outputoption] (SageMaker notebook output shared).

Values already at their widest (``0.0.0.0/0``, ``*``, ``Internet``, all ports) are not
widened. Tags and labels count as one setting each: removing them all, and removing the
data-classification one. A mutation is killed when the project's policies find a
violation the unmutated resources did not have. Mutations that are not weakenings
(dropping an allow rule narrows access) are exempted by pattern, with a reason, in the
caller's exemption list.
"""

from __future__ import annotations

import copy
import fnmatch
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from aiscaffold_components.policies import Requirements
from aiscaffold_components.policies._core import Addition

from ._harness import CapturedResource, MockRun

__all__ = [
    "ENUM_WEAKENINGS",
    "Addition",
    "Exemption",
    "Mutation",
    "MutationReport",
    "added_resource",
    "addition_mutations",
    "derive_mutations",
    "derive_read_mutations",
    "exemption_for",
    "load_exemptions",
    "mutate",
    "run_mutations",
    "stale_exemptions",
]

Kind = Literal[
    "remove",
    "drop",
    "negate",
    "weaken",
    "widen",
    "widen-cidr",
    "widen-ports",
    "widen-grant",
    "enum",
    "lower",
    "raise",
    "widen-list",
    "relocate",
    "narrow-cidr",
    "read",
]

#: Key fragments that mark an input as security-relevant (regular expressions, matched
#: case-insensitively against every key on the path to it).
SECURITY_VOCABULARY = (
    "encrypt", "kms", "cmk", "keyuri", "keyvault", "keysource", "cryptokey", "keyspec",
    "rotation", "retention", "deletion", "purge", "softdelete", "protect", "lock",
    "versioning", "immutab", "publicaccess", "blockpublic", "ignorepublic",
    "restrictpublic", "public", "private", "internet", "egress", "ingress", "policy",
    "policies", "auth", "tls", "ssl", "https", "secure", "log", "audit", "trail",
    "validation", "multiregion", "filter", "guardrail", "rai", "pii", "sensitive",
    "jailbreak", "prompt", "rootaccess", "directinternet", "firewall", "deny", "denies",
    "acl", "bypass", "defaultaction", "networkaccess", "sampling", "flow", "shielded",
    "secureboot", "integritymonitoring", "confidential", "sourcearn", "sourceaccount",
    "trust", "assumerole", "member", "permission", "condition", "replication", "expir",
    "uniformbucket", "sharedkey", "localauth", "oslogin", "serviceaccount", "identity",
    "dnssupport", "privatedns", "topic", "word", "grounding", "contentfilter", "blocklist",
    "outbound", "inbound", "sourceaddress", "destinationaddress", "access",
    # network rules: what they allow, from and to where, on which ports
    "rule", "allow", "cidr", "addressprefix", "sourcerange", "destinationrange",
    "destrange", r"(?<!sup)port(?!al)", "protocol",
    # org policies, log selection, guardrail strength
    "enforce", "traffictype", "selector", "globalservice", "strength", "threshold",
    "confidence", "likelihood", "infotype",
    # GCE metadata switches (notebook-disable-root...), not disableOnDestroy-style lifecycle
    "disable-",
    # object ownership, local users (who may act: roles, members and scopes are
    # widened by value, see ``widen-grant``)
    "ownership", "localuser", "export",
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

#: Strings that spell a switch, and the other position of each.
_SWITCHES = {
    "true": "false", "false": "true", "TRUE": "FALSE", "FALSE": "TRUE",
    "Enabled": "Disabled", "Disabled": "Enabled",
    "ENABLED": "DISABLED", "DISABLED": "ENABLED",
}  # fmt: skip

#: (safe value, weak value, key fragment or None for any key): see the module docstring.
ENUM_WEAKENINGS: tuple[tuple[str, str, str | None], ...] = (
    ("Deny", "Allow", None),
    ("deny", "allow", None),
    ("ALL", "REJECT", "traffic"),
    ("BucketOwnerEnforced", "ObjectWriter", None),
    ("enforced", "inherited", None),
    ("HIGH", "LOW", "strength"),
    ("MEDIUM", "LOW", "strength"),
    ("Low", "High", "threshold"),
    ("Medium", "High", "threshold"),
    ("LOW_AND_ABOVE", "HIGH", None),
    ("MEDIUM_AND_ABOVE", "HIGH", None),
    ("VERY_UNLIKELY", "VERY_LIKELY", "likelihood"),
    ("UNLIKELY", "VERY_LIKELY", "likelihood"),
    ("POSSIBLE", "VERY_LIKELY", "likelihood"),
    ("LIKELY", "VERY_LIKELY", "likelihood"),
    ("BLOCK", "NONE", "action"),
    ("INSPECT_AND_BLOCK", "INSPECT_ONLY", None),
    ("Blocking", "Asynchronous_filter", None),
    ("VpcOnly", "PublicInternetOnly", None),
    ("None", "AzureServices", "bypass"),
    ("None", "Blob", "publicaccess"),
    ("TLS1_2", "TLS1_0", None),
    ("RSA-HSM", "RSA", None),
    ("EC-HSM", "EC", None),
    ("HSM", "SOFTWARE", None),
    ("aws:kms", "AES256", None),
    ("aws:kms:dsse", "AES256", None),
    ("COMPLIANCE", "GOVERNANCE", None),
    ("Locked", "Unlocked", None),
    ("allLogs", "audit", None),
    ("INCLUDE_ALL_METADATA", "EXCLUDE_ALL_METADATA", None),
    ("INTERVAL_5_SEC", "INTERVAL_15_MIN", None),
    ("FullyRestricted", "NotRestricted", None),
    ("RESTRICTED-SERVICES", "ALL-SERVICES", None),
    ("USER_PROFILE_NAME", "DISABLED", None),
    ("Block", "Log", None),
    ("Retain", "Delete", None),
    ("Disabled", "Allowed", "outputoption"),
)

# ------------------------------------------------------------ what widens, per cloud
_WIDEST_ADDRESSES = {"*", "0.0.0.0/0", "::/0", "Internet", "Any", "any"}
#: Keys holding an address range (a CIDR, an Azure prefix or service tag).
_ADDRESS_KEY = re.compile(r"cidr|addressprefix|sourcerange|destinationrange|destrange", re.I)
_SERVICE_TAG = re.compile(r"^[A-Z][A-Za-z]+(\.[A-Za-z0-9]+)?$")
_FROM_PORT = re.compile(r"fromport$", re.I)
_TO_PORT = re.compile(r"toport$", re.I)
_PORT_STRING_KEY = re.compile(r"(portrange|ports?)s?$", re.I)
_PORT_STRING = re.compile(r"^\d+(-\d+)?$")
_ALL_PORTS = "0-65535"
_PROTOCOL_KEY = re.compile(r"protocol$", re.I)
_NARROW_PROTOCOLS = {"tcp", "udp", "6", "17"}
#: How each cloud spells every protocol.
_ALL_PROTOCOLS = {"aws": "-1", "gcp": "all", "azure-native": "*"}
_ANY_PROTOCOL: set[str | float] = {*_ALL_PROTOCOLS.values(), -1.0}  # ints arrive as floats
_GCP_MEMBER = re.compile(r"^(serviceAccount|user|group|domain|principal\w*):")
_GCP_ROLE = re.compile(r"^(roles/|projects/[^/]+/roles/|organizations/[^/]+/roles/)")
_GCP_OWNER = "roles/owner"
_AZURE_ROLE = re.compile(r"^(?P<prefix>.*/providers/Microsoft\.Authorization/roleDefinitions/)")
_AZURE_OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"  # the built-in Owner role's id
_AZURE_SCOPE = re.compile(r"^(?P<subscription>/subscriptions/[^/]+)/.+", re.I)
_AWS_MANAGED_POLICY = re.compile(r"^arn:aws[\w-]*:iam::(aws|\d{12}):policy/")
_AWS_ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@dataclass(frozen=True)
class Mutation:
    """One weakening of one input of one resource.

    ``to`` is the value the input takes (None when the input or entry is removed).
    """

    urn: str
    resource: str
    type: str
    path: tuple[str | int, ...]
    kind: Kind
    to: Any = None

    @property
    def dotted(self) -> str:
        return ".".join(map(str, self.path))

    @property
    def label(self) -> str:
        if self.kind == "widen-list":
            shown = f" + {self.to!r}"
        elif self.kind not in ("remove", "drop", "widen") and self.to is not None:
            shown = f" -> {self.to!r}"
        else:
            shown = ""
        return f"{self.type} {self.resource} {self.dotted} ({self.kind}{shown})"


@dataclass(frozen=True)
class Exemption:
    """Mutations that are not weakenings, matched by glob patterns, with the reason.

    ``values`` limits the exemption to inputs currently holding one of them (removing a
    value equal to the provider's default changes nothing); ``entry`` to inputs that are,
    or are inside, a list entry holding these fields (an allow rule, an abort rule);
    ``resource`` globs the resource's name; ``projects`` names the labels of the runs it
    applies to (for values that are only safe where the answers make them so).
    """

    type: str
    path: str
    kinds: tuple[Kind, ...]
    reason: str
    resource: str = "*"
    values: tuple[Any, ...] | None = None
    projects: tuple[str, ...] | None = None
    entry: Mapping[str, Any] | None = None
    order_dependent: bool = False
    """A ``read`` the policy makes or not depending on the order it meets resources in (a
    check that stops at the first match among a set): the exemption may go unused in a
    run, so it is never reported stale."""

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
        if self.values is None and self.entry is None:
            return True
        if run is None:
            return False
        current: Any = run.by_urn(mutation.urn).inputs
        entry: Any = None
        for key in mutation.path:
            current = current[key]
            if isinstance(key, int) and isinstance(current, Mapping):
                entry = current  # the innermost list entry on the way
        if self.entry is not None and not (
            entry is not None and all(entry.get(k) == v for k, v in self.entry.items())
        ):
            return False
        return self.values is None or current in self.values


_EXEMPTION_KEYS = {
    "type", "path", "kinds", "reason", "resource", "value", "values", "projects", "entry",
    "order_dependent",
}  # fmt: skip


def load_exemptions(path: Path) -> list[Exemption]:
    """Exemptions from a YAML list of mappings (keys: the fields of :class:`Exemption`;
    ``value`` is a one-element ``values``). Every entry needs a specific reason, and
    names kinds the engine knows."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out = []
    for entry in entries:
        unknown = set(entry) - _EXEMPTION_KEYS
        if unknown:
            raise ValueError(f"{path.name}: unknown keys {sorted(unknown)} in {entry}")
        if len(str(entry.get("reason", ""))) < 20:
            raise ValueError(f"{path.name}: give a specific reason (20+ characters) in {entry}")
        unknown_kinds = set(entry["kinds"]) - set(get_args(Kind))
        if unknown_kinds:
            raise ValueError(f"{path.name}: unknown kinds {sorted(unknown_kinds)} in {entry}")
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
                entry=entry.get("entry"),
                order_dependent=bool(entry.get("order_dependent", False)),
            )
        )
    return out


def exemption_for(
    mutation: Mutation, exemptions: Sequence[Exemption], run: MockRun, project: str | None = None
) -> Exemption | None:
    """The first exemption that applies to ``mutation`` (None: it must be caught)."""
    return next((e for e in exemptions if e.matches(mutation, run, project)), None)


def stale_exemptions(
    exemptions: Sequence[Exemption],
    runs: Mapping[str, MockRun],
    *,
    uncovered_reads: Mapping[str, Iterable[tuple[CapturedResource, tuple[str | int, ...]]]],
) -> list[Exemption]:
    """Exemptions nothing needs (by project label): remove or fix them.

    An exemption is needed when it matches a mutation :func:`derive_mutations` derives
    from one of ``runs``, or, for kind ``read``, an input path a policy reads that no
    caught mutation weakens (``uncovered_reads``, by the same labels: see
    ``aiscaffold.liveness.MutationRun.uncovered_reads``). A ``read`` exemption of an
    input that a caught mutation now weakens is stale too: the proof no longer needs it.
    """
    used: set[int] = set()
    for project, run in runs.items():
        for mutation in derive_mutations(run):
            used |= {i for i, e in enumerate(exemptions) if e.matches(mutation, run, project)}
    for project, reads in uncovered_reads.items():
        run = runs[project]
        for resource, path in reads:
            probe = Mutation(resource.urn, resource.name, resource.type, path, "read")
            used |= {i for i, e in enumerate(exemptions) if e.matches(probe, run, project)}
    return [e for i, e in enumerate(exemptions) if i not in used and not e.order_dependent]


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


_WIDE_OPEN = {
    "Sid": "MutationWideOpen",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "*",
    "Resource": "*",
}


def _widened_document(value: str) -> str:
    document = json.loads(value)
    statements = document["Statement"]
    document["Statement"] = [
        *(statements if isinstance(statements, list) else [statements]),
        _WIDE_OPEN,
    ]
    return json.dumps(document)


def _weakened_number(key: str, value: float) -> float:
    if _GROWS_UNSAFE.search(key):
        return value * 10 if value else 3650
    return 0 if isinstance(value, float) and value <= 1 else 1


def _widened_address(value: str, cloud: str) -> str | None:
    if value in _WIDEST_ADDRESSES:
        return None
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        # Azure names address groups by service tag; Internet is the widest outside one.
        return "Internet" if cloud == "azure-native" and _SERVICE_TAG.match(value) else None
    return "0.0.0.0/0" if network.version == 4 else "::/0"


def _widened_grant(key: str, value: str) -> str | None:
    lowered = key.lower()
    if "member" in lowered and _GCP_MEMBER.match(value):
        return "allUsers"
    if lowered == "role" and _GCP_ROLE.match(value) and value != _GCP_OWNER:
        return _GCP_OWNER
    if "roledefinition" in lowered and (match := _AZURE_ROLE.match(value)):
        owner = match["prefix"] + _AZURE_OWNER
        return owner if value.lower() != owner.lower() else None
    if "scope" in lowered and (match := _AZURE_SCOPE.match(value)):
        return match["subscription"]
    if "policyarn" in lowered and _AWS_MANAGED_POLICY.match(value) and value != _AWS_ADMIN:
        return _AWS_ADMIN
    return None


def _enum_weakening(key: str, value: str) -> str | None:
    for safe, weak, fragment in ENUM_WEAKENINGS:
        if value == safe and (fragment is None or fragment in key.lower()):
            return weak
    return None


def _value_mutations(
    value: Any, key: str, relevant: bool, cloud: str, all_protocols: bool = False
) -> Iterator[tuple[Kind, Any]]:
    """The weakenings that replace a scalar ``value`` held under ``key``.

    ``all_protocols``: the enclosing rule already covers every protocol, hence every
    port, so its ports are not widened.
    """
    if isinstance(value, bool):
        if relevant:
            yield "negate", not value
        return
    if isinstance(value, (int, float)):
        if not relevant:
            return
        if _FROM_PORT.search(key):
            if value != 0 and not all_protocols:
                yield "widen-ports", type(value)(0)
        elif _TO_PORT.search(key):
            if value < 65535 and not all_protocols:
                yield "widen-ports", type(value)(65535)
        else:
            yield "weaken", _weakened_number(key, value)
        return
    if not isinstance(value, str):
        return
    # Grants are recognised by their value (a member, a role, a scope), whatever the key
    # is called: roleDefinitionId and policyArn read as identifiers, and are the grant.
    if (grant := _widened_grant(key, value)) is not None:
        yield "widen-grant", grant
        return
    if _IDENTIFIERS.search(key) and not _VOCABULARY.search(key):
        return  # a name or a description: the enum table does not apply either
    if (weak := _enum_weakening(key, value)) is not None:
        yield "enum", weak
    if not relevant:
        return
    if value in _SWITCHES:
        yield "negate", _SWITCHES[value]
    elif _is_policy_document(value):
        yield "widen", _widened_document(value)
    elif _ADDRESS_KEY.search(key):
        if (wide := _widened_address(value, cloud)) is not None:
            yield "widen-cidr", wide
    elif _PORT_STRING_KEY.search(key) and _PORT_STRING.match(value):
        if value != _ALL_PORTS and not all_protocols:
            yield "widen-ports", _ALL_PORTS
    elif (
        _PROTOCOL_KEY.search(key) and value.lower() in _NARROW_PROTOCOLS and cloud in _ALL_PROTOCOLS
    ):
        yield "widen-ports", _ALL_PROTOCOLS[cloud]


def _mutations_of(
    value: Any,
    path: tuple[str | int, ...],
    in_list: bool,
    cloud: str,
    all_protocols: bool = False,
) -> Iterator[tuple[tuple[str | int, ...], Kind, Any]]:
    keys = [k for k in path if isinstance(k, str)]
    if keys and keys[-1] in _TAG_KEYS and isinstance(value, Mapping):
        yield path, "remove", None
        if _CLASSIFICATION in value:
            yield (*path, _CLASSIFICATION), "remove", None
        return
    relevant = _relevant(keys)
    if isinstance(value, Mapping):
        if relevant and path and not in_list:
            yield path, "remove", None
        open_protocol = any(
            _PROTOCOL_KEY.search(str(k)) and isinstance(v, (str, float)) and v in _ANY_PROTOCOL
            for k, v in value.items()
        )
        for key, child in value.items():
            # Inside a list entry, fields are not removed (that makes an invalid entry,
            # not a weaker one): the entry as a whole is dropped instead.
            yield from _mutations_of(child, (*path, key), in_list, cloud, open_protocol)
        return
    if isinstance(value, list):
        if relevant and path and not in_list:
            yield path, "remove", None
        if relevant and len(value) > 1:
            for index in range(len(value)):
                yield (*path, index), "drop", None
        for index, child in enumerate(value):
            if isinstance(child, (Mapping, list)):
                yield from _mutations_of(child, (*path, index), True, cloud)
            else:
                # A string in a list (a source range, a port, a member) is weakened in
                # place like any other value, under the list's key.
                for kind, to in _value_mutations(child, keys[-1], relevant, cloud, all_protocols):
                    yield (*path, index), kind, to
        return
    if relevant and not in_list:
        yield path, "remove", None
    for kind, to in _value_mutations(value, keys[-1], relevant, cloud, all_protocols):
        yield path, kind, to


def derive_mutations(run: MockRun) -> list[Mutation]:
    """Every weakening of every security-relevant input of the run's cloud resources."""
    mutations: list[Mutation] = []
    for resource in run.resources:
        if not resource.custom or resource.type.startswith("pulumi:"):
            continue
        cloud = resource.type.split(":", 1)[0]
        for key, value in resource.inputs.items():
            for path, kind, to in _mutations_of(value, (key,), False, cloud):
                mutations.append(
                    Mutation(resource.urn, resource.name, resource.type, path, kind, to)
                )
    return mutations


# ------------------------------------------------------ mutations of what policies read
#: A duration as Google APIs spell it ("86400s").
_DURATION = re.compile(r"^(?P<seconds>\d+(\.\d+)?)s$")
#: A region of each jurisdiction region rules tell apart (United States, European Union):
#: a resource moved out of the allowed regions.
_ELSEWHERE = {
    "aws": ("us-east-1", "eu-west-1"),
    "azure-native": ("eastus", "westeurope"),
    "gcp": ("us-central1", "europe-west1"),
}
#: The most alternatives of one SDK enum tried on one input.
_MAX_ENUM_MEMBERS = 8
#: An address range no traffic comes from or goes to (TEST-NET-1, RFC 5737): a deny
#: rule narrowed to it denies nothing the workload sends or receives.
_NARROWEST = "192.0.2.0/24"
#: Enums pulumi-gcp types as free strings, by (cloud, key): their members from Google's
#: discovery documents (compute v1 ``Firewall.direction``: ``INGRESS`` or ``EGRESS``).
_STRING_ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("gcp", "direction"): ("INGRESS", "EGRESS"),
}


def _sdk_enum_members(type_token: str, key: str, value: str) -> list[str]:
    """The other members of the SDK enum an input of ``key`` holding ``value`` belongs to.

    The enum is found by name in the resource module's ``_enums`` (azure-native) or the
    package's (pulumi-aws): the class named like the key (``principalType`` ->
    ``PrincipalType``, ``minimumTlsVersion`` -> ``MinimumTlsVersion``) that has the
    value as a member. Which member is weakest is the SDK's silence, so each is tried.
    """
    import enum
    import importlib

    package, _, rest = type_token.partition(":")
    module_name = rest.split(":", 1)[0].split("/", 1)[0]
    candidates = {
        "azure-native": [f"pulumi_azure_native.{module_name}._enums"],
        "aws": [f"pulumi_aws.{module_name}._enums", "pulumi_aws._enums"],
    }.get(package, [])
    wanted = key[:1].upper() + key[1:]
    for name in candidates:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for attribute in dir(module):
            found = getattr(module, attribute)
            if not (
                isinstance(found, type)
                and issubclass(found, enum.Enum)
                and (attribute == wanted or attribute.endswith(wanted))
            ):
                continue
            members = [str(m.value) for m in found]
            if value in members:
                return [m for m in members if m != value][:_MAX_ENUM_MEMBERS]
    return []


def _read_value_mutations(
    type_token: str, key: str, value: Any, cloud: str
) -> Iterator[tuple[Kind, Any]]:
    """Every weaker value of a scalar a policy read (it may hold a stronger one too:
    which way is weaker is the policy's to say, and only a kill counts)."""
    seen: set[tuple[Kind, Any]] = set()
    for kind, to in _value_mutations(value, key, True, cloud):
        seen.add((kind, to))
        yield kind, to
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        # past the bound the policy checks, whichever side it is on
        bounds: tuple[tuple[Kind, Any], ...] = (
            ("lower", type(value)(0)),
            ("raise", type(value)(value * 10 or 3650)),
        )
        for kind, to in bounds:
            if to != value and not any(k in ("weaken", "widen-ports") and t == to for k, t in seen):
                yield kind, to
        return
    if not isinstance(value, str):
        return
    if match := _DURATION.match(value):
        seconds = float(match["seconds"])
        yield "lower", "0s"
        yield "raise", f"{int(seconds * 10 or 315360000)}s"
        return
    if _ADDRESS_KEY.search(key) and value != _NARROWEST:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            pass
        else:
            # A deny rule is weakened by narrowing what it denies (an allow rule is not:
            # only a kill counts).
            yield "narrow-cidr", _NARROWEST
    for member in _STRING_ENUMS.get((cloud, key), ()):
        if member != value:
            yield "enum", member
    if key in ("location", "region") and cloud in _ELSEWHERE:
        for region in _ELSEWHERE[cloud]:
            if region.lower() != value.lower():
                yield "relocate", region
        return
    for member in _sdk_enum_members(type_token, key, value):
        if ("enum", member) not in seen:
            yield "enum", member


def derive_read_mutations(
    run: MockRun, reads: Mapping[str, Iterable[tuple[str | int, ...]]]
) -> list[Mutation]:
    """Every weakening of every input path a policy read (``reads``: paths by URN).

    A read mapping key is removed and a read list entry dropped; a boolean flips; a
    number moves below zero's side and ten times past its value (the bound a policy
    checks is on one side); a duration likewise; a string takes the weaker values the
    word-list engine knows for it and every other member of its SDK enum (or of the
    enums the SDK types as strings, :data:`_STRING_ENUMS`); an address range narrows to
    one no traffic uses (weakening a deny rule) and a region moves to another
    jurisdiction; a list of strings gains ``"*"``. Unlike :func:`derive_mutations` no vocabulary filters the
    paths: a policy reading an input makes it security-relevant.
    """
    mutations: list[Mutation] = []
    by_urn = {r.urn: r for r in run.resources}
    for urn, paths in reads.items():
        resource = by_urn.get(urn)
        if resource is None or not resource.custom or resource.type.startswith("pulumi:"):
            continue
        cloud = resource.type.split(":", 1)[0]
        for path in sorted(set(paths), key=lambda p: tuple(map(str, p))):
            if not path:
                continue
            value: Any = resource.inputs
            try:
                for key in path:
                    value = value[key]
            except (KeyError, IndexError, TypeError):
                continue
            keys = [k for k in path if isinstance(k, str)]
            name = keys[-1] if keys else ""

            found: list[tuple[Kind, Any]] = [
                ("drop" if isinstance(path[-1], int) else "remove", None)
            ]
            if isinstance(value, list):
                if value and all(isinstance(v, str) for v in value) and "*" not in value:
                    found.append(("widen-list", "*"))
            elif not isinstance(value, Mapping):
                found += _read_value_mutations(resource.type, name, value, cloud)
            mutations += [
                Mutation(urn, resource.name, resource.type, path, kind, to) for kind, to in found
            ]
    return mutations


def addition_mutations(addition: Addition, run: MockRun) -> list[Mutation]:
    """The mutations of a declared :class:`Addition` with a ``path``: its entry appended
    to, or its value set at, that input of each resource of its type holding it."""
    assert addition.path is not None
    keys = tuple(addition.path.split("."))
    out = []
    for resource in run.resources:
        if resource.type != addition.type:
            continue
        value: Any = resource.inputs
        for key in keys:
            value = value.get(key) if isinstance(value, Mapping) else None
        if addition.entry is not None and isinstance(value, list):
            out.append(
                Mutation(
                    resource.urn, resource.name, addition.type, keys, "widen-list", addition.entry
                )
            )
        elif addition.value is not None and value is not None and value != addition.value:
            out.append(
                Mutation(resource.urn, resource.name, addition.type, keys, "enum", addition.value)
            )
    return out


def added_resource(
    addition: Addition, project: str, stack: str, parent: str | None
) -> CapturedResource:
    """The new resource of a declared :class:`Addition` without a ``path``."""
    return CapturedResource(
        type=addition.type,
        name=addition.name,
        urn=f"urn:pulumi:{stack}::{project}::{addition.type}::{addition.name}",
        parent=parent,
        custom=True,
        inputs=copy.deepcopy(dict(addition.inputs)),
        outputs={},
    )


def mutate(resource: CapturedResource, mutation: Mutation) -> CapturedResource:
    """A copy of ``resource`` with ``mutation`` applied to its inputs."""
    inputs = copy.deepcopy(resource.inputs)
    parent: Any = inputs
    for key in mutation.path[:-1]:
        parent = parent[key]
    last = mutation.path[-1]
    if mutation.kind in ("remove", "drop"):
        parent.pop(last)
    elif mutation.kind == "widen-list":
        parent[last] = [*parent[last], copy.deepcopy(mutation.to)]
    else:
        parent[last] = copy.deepcopy(mutation.to)
    return replace(resource, inputs=inputs)


def _signature(run: MockRun, requirements: Requirements) -> set[tuple[str, str, str]]:
    from ..check import evaluate

    report = evaluate(run, requirements)
    # Only policies kill a mutation: deploy rules judge what the cloud accepts, not a control.
    return {(f.policy, f.urn, f.message) for f in report.violations if f.category == "policy"}


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
