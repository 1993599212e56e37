"""Liveness of a project's policies: proof, on its own resources, that each can fail.

A policy that passes is evidence only if it could have failed here. The proof is a
mutation run on the project's own inventory (the resources of its offline run and
their inputs): the policies are evaluated once while every input path each one reads
is recorded, then every weakening the engine derives is applied alone, and a policy
that reports a new violation on a weakened copy *kills* it. A policy with at least one
kill on this project is **live** here; only live policies that pass are credited in
COMPLIANCE.md and in ``check``'s pass figures.

The weakenings (:mod:`aiscaffold.testing.mutations`) are the word-list mutations of
every security-relevant input, the mutations of every input path a policy read
(:func:`~aiscaffold.testing.mutations.derive_read_mutations`), and the declared
additions of a forbidden resource for policies that check for something being absent
(each policy's ``live_when``, declared next to it: see
:class:`aiscaffold_components.policies._core.Addition`).

Speed: a policy is a pure function of what it reads, so a mutation of one input can
change the verdict only of the policies that read that input (or a path above or below
it, or iterated the mapping holding it) in the baseline run; only those are evaluated
again, on the mutated resource (a resource policy) or on the stack with it (a stack
policy). bench/liveness.py prints the figures. The proof is cached per inventory
(:func:`inventory_hash`) in the project's git-ignored ``.aiscaffold/`` directory.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiscaffold_components.policies import Policy, Requirements, ResourcePolicy, registry, to_pulumi

from .testing import CapturedResource, MockRun
from .testing.mutations import (
    Addition,
    Mutation,
    added_resource,
    addition_mutations,
    derive_mutations,
    derive_read_mutations,
    mutate,
)

if TYPE_CHECKING:
    from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

__all__ = [
    "CACHE_DIR",
    "Liveness",
    "MutationRun",
    "PolicyProof",
    "check_with_liveness",
    "inventory_hash",
    "kill_report",
    "project_liveness",
    "prove_liveness",
    "run_all_mutations",
]

#: Where a project keeps what aiscaffold computes from it (git-ignored), relative to it.
CACHE_DIR = ".aiscaffold"
_CACHE_FORMAT = 1

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class PolicyProof:
    """What the mutation run showed of one policy on one project."""

    policy: str
    reads: tuple[str, ...] = ()
    """The input paths it read, as ``<resource name> <path>`` (sorted)."""
    kills: tuple[str, ...] = ()
    """The mutations it caught (:attr:`Mutation.label`, sorted)."""

    @property
    def live(self) -> bool:
        return bool(self.kills)


@dataclass(frozen=True)
class Liveness:
    """The liveness proof of a project's policies on one stack's inventory."""

    inventory: str
    """:func:`inventory_hash` of the run and requirements it was proven on."""
    proofs: Mapping[str, PolicyProof] = field(default_factory=dict)
    mutations: int = 0
    """How many mutations were tried."""

    @property
    def live(self) -> frozenset[str]:
        """Ids of the policies with at least one kill on this project."""
        return frozenset(p for p, proof in self.proofs.items() if proof.live)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": _CACHE_FORMAT,
                "inventory": self.inventory,
                "mutations": self.mutations,
                "policies": {
                    p: {"reads": list(proof.reads), "kills": list(proof.kills)}
                    for p, proof in sorted(self.proofs.items())
                },
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Liveness | None:
        """The proof a cache file holds (None: unreadable or of another format)."""
        try:
            data = json.loads(text)
            if data.get("format") != _CACHE_FORMAT:
                return None
            proofs = {
                p: PolicyProof(p, tuple(entry["reads"]), tuple(entry["kills"]))
                for p, entry in data["policies"].items()
            }
            return cls(str(data["inventory"]), proofs, int(data["mutations"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


# ------------------------------------------------------------------ the inventory
def _engine_fingerprint() -> str:
    """The code a proof depends on: the policies, the catalog, the mutation engine.

    A project updated to another aiscaffold (or a checkout under development) proves
    again instead of trusting a proof of other policies.
    """
    import aiscaffold_components

    from . import __version__

    digest = hashlib.sha256(__version__.encode())
    components = Path(aiscaffold_components.__file__).parent
    sources = sorted(
        [
            *(components / "policies").rglob("*.py"),
            *components.glob("catalog*/**/*.yaml"),
            *components.glob("*.yaml"),
            Path(__file__),
            Path(__file__).parent / "testing" / "mutations.py",
        ]
    )
    for source in sources:
        digest.update(source.relative_to(source.parents[1]).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def inventory_hash(run: MockRun, requirements: Requirements) -> str:
    """A hash of what a proof depends on: the registered resources and their inputs and
    options, the stack config, the requirements (overrides aside: a proof covers every
    policy of the cloud, enforced or not) and the code of the policies and the engine."""
    resources = [
        {
            "type": r.type,
            "name": r.name,
            "urn": r.urn,
            "parent": r.parent,
            "custom": r.custom,
            "inputs": r.inputs,
            "protect": r.protect,
            "provider": r.provider,
            "dependencies": list(r.dependencies),
        }
        for r in sorted(run.resources, key=lambda r: r.urn)
    ]
    document = {
        "resources": resources,
        "config": dict(sorted(run.config.items())),
        "requirements": requirements.model_dump(mode="json", exclude={"overrides"}),
        "engine": _engine_fingerprint(),
    }
    canonical = json.dumps(document, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# ------------------------------------------------------------------ recording reads
class _Reads:
    """What one policy read of one resource's inputs, in one evaluation."""

    __slots__ = ("present", "touched")

    def __init__(self) -> None:
        self.present: set[Path_] = set()
        """Paths read that hold a value."""
        self.touched: set[Path_] = set()
        """Every path looked up (present or not), and mappings or lists iterated whole."""


def _unknown(value: Any) -> bool:
    from pulumi_policy.proxy import _is_unknown

    return bool(_is_unknown(value))


def _wrap(value: Any, path: Path_, reads: _Reads) -> Any:
    if _unknown(value):
        from pulumi_policy.proxy import UnknownValueError

        raise UnknownValueError(value, [str(k) for k in path])
    if isinstance(value, Mapping):
        return _MappingRecorder(value, path, reads)
    if isinstance(value, list):
        return _ListRecorder(value, path, reads)
    return value


class _MappingRecorder(Mapping[str, Any]):
    """Read-only props that record every path read, and raise on unknown values as
    pulumi-policy's proxy does."""

    def __init__(self, target: Mapping[str, Any], path: Path_, reads: _Reads) -> None:
        self._target, self._path, self._reads = target, path, reads

    def __getitem__(self, key: str) -> Any:
        path = (*self._path, key)
        self._reads.touched.add(path)
        value = self._target[key]
        self._reads.present.add(path)
        return _wrap(value, path, self._reads)

    def __iter__(self) -> Iterator[str]:
        self._reads.touched.add(self._path)
        return iter(self._target)

    def __len__(self) -> int:
        self._reads.touched.add(self._path)
        return len(self._target)


class _ListRecorder(Sequence[Any]):
    def __init__(self, target: list[Any], path: Path_, reads: _Reads) -> None:
        self._target, self._path, self._reads = target, path, reads

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):  # the list as a whole
            self._reads.touched.add(self._path)
            return [self[i] for i in range(*index.indices(len(self._target)))]
        position = index if index >= 0 else len(self._target) + index
        path = (*self._path, position)
        self._reads.touched.add(path)
        value = self._target[index]
        self._reads.present.add(path)
        return _wrap(value, path, self._reads)

    def __len__(self) -> int:
        self._reads.touched.add(self._path)
        return len(self._target)


# ------------------------------------------------------------------ evaluation
def _violations(validator: Any, args: Any) -> frozenset[str] | None:
    """The messages a pulumi-policy policy reports (None: it raised)."""
    from pulumi_policy.policy import _NotApplicableError
    from pulumi_policy.proxy import UnknownValueError

    reported: list[str] = []

    def report_violation(message: str, urn: str | None = None) -> None:
        reported.append(f"{urn or ''}|{message}")

    try:
        result = validator.validate(args, report_violation)
        if result is not None and inspect.isawaitable(result):
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(result)
            finally:
                loop.close()
    except (_NotApplicableError, UnknownValueError):
        return frozenset()
    except Exception:
        # A policy that breaks on a weakened input fails `pulumi preview` too, but that is
        # a bug to fix, not a proof that it judges the input: no kill.
        return None
    return frozenset(reported)


class _Bench:
    """The project's policies on its inventory, evaluated again only where needed."""

    def __init__(self, run: MockRun, requirements: Requirements) -> None:
        from .check import _policy_inputs

        self.run = run
        self.by_urn = {r.urn: r for r in run.resources}
        self.policies: list[Policy] = registry(requirements.cloud)
        self.validators: dict[str, ResourceValidationPolicy | StackValidationPolicy] = {
            p.id: to_pulumi(p, requirements)  # type: ignore[misc]
            for p in self.policies
        }
        self.custom = [
            r for r in run.resources if r.custom and not r.type.startswith("pulumi:providers:")
        ]
        # Options and provider of each resource, as the check gives them (props replaced).
        self.context = {r.urn: _policy_inputs(r, run, self.by_urn) for r in run.resources}
        #: (policy id, urn) -> what the policy read of that resource in the baseline.
        self.reads: dict[tuple[str, str], _Reads] = {}
        #: policy id -> (urn of the resource evaluated or "" for the stack) -> violations.
        self.baseline: dict[str, dict[str, frozenset[str] | None]] = {}
        self._plain: list[Any] | None = None
        self._position: dict[str, int] = {}

    # --- arguments
    def _resource_args(self, resource: CapturedResource, props: Mapping[str, Any]) -> Any:
        from pulumi_policy import ResourceValidationArgs

        context = self.context.get(resource.urn) or self._context_of(resource)
        return ResourceValidationArgs(
            resource.type,
            props,
            resource.urn,
            resource.name,
            context["opts"],
            context["provider"],
        )

    def _context_of(self, resource: CapturedResource) -> dict[str, Any]:
        from .check import _policy_inputs

        return _policy_inputs(resource, self.run, self.by_urn)

    def _stack_args(
        self, resources: Sequence[CapturedResource], props: Mapping[str, Mapping[str, Any]]
    ) -> Any:
        from pulumi_policy import PolicyResource, StackValidationArgs

        built: dict[str, PolicyResource] = {}
        for resource in resources:
            context = self.context.get(resource.urn) or self._context_of(resource)
            built[resource.urn] = PolicyResource(
                resource_type=resource.type,
                props=props[resource.urn],
                urn=resource.urn,
                name=resource.name,
                opts=context["opts"],
                provider=context["provider"],
                parent=built.get(resource.parent or ""),
                dependencies=[built[d] for d in resource.dependencies if d in built],
                property_dependencies={},
            )
        return StackValidationArgs(list(built.values()))

    # --- the baseline, recorded
    def record(self) -> None:
        for policy in self.policies:
            validator = self.validators[policy.id]
            if isinstance(policy, ResourcePolicy):
                verdicts: dict[str, frozenset[str] | None] = {}
                for resource in self.custom:
                    if not policy.applies_to(resource.type):
                        continue
                    reads = self.reads.setdefault((policy.id, resource.urn), _Reads())
                    props = _MappingRecorder(resource.inputs, (), reads)
                    verdicts[resource.urn] = _violations(
                        validator, self._resource_args(resource, props)
                    )
                self.baseline[policy.id] = verdicts
            else:
                stack_props = {
                    r.urn: _MappingRecorder(
                        r.inputs, (), self.reads.setdefault((policy.id, r.urn), _Reads())
                    )
                    for r in self.run.resources
                }
                self.baseline[policy.id] = {
                    "": _violations(validator, self._stack_args(self.run.resources, stack_props))
                }
        self.readers: dict[str, list[tuple[str, _Reads]]] = {}
        for (policy_id, urn), reads in self.reads.items():
            if reads.touched:
                self.readers.setdefault(urn, []).append((policy_id, reads))

    # --- one mutation
    def _stack_with(self, mutated: CapturedResource) -> Any:
        """The stack's arguments with one resource's inputs replaced.

        Only the mutated resource's PolicyResource is new: aiscaffold's stack policies
        see a parent by its URN and no dependencies, so the others are shared.
        """
        from pulumi_policy import PolicyResource, StackValidationArgs

        if self._plain is None:
            self._plain = self._stack_args(
                self.run.resources, {r.urn: r.inputs for r in self.run.resources}
            ).resources
            self._position = {r.urn: i for i, r in enumerate(self.run.resources)}
        resources = list(self._plain)
        position = self._position[mutated.urn]
        old = resources[position]
        resources[position] = PolicyResource(
            resource_type=old.resource_type,
            props=mutated.inputs,
            urn=old.urn,
            name=old.name,
            opts=old.opts,
            provider=old.provider,
            parent=old.parent,
            dependencies=old.dependencies,
            property_dependencies={},
        )
        return StackValidationArgs(resources)

    def killers(self, mutation: Mutation, skip: Collection[str] = ()) -> list[str]:
        """The policies that report a new violation when ``mutation`` alone is applied
        (those in ``skip`` are not evaluated)."""
        path = mutation.path
        affected = [
            policy_id
            for policy_id, reads in self.readers.get(mutation.urn, [])
            if policy_id not in skip and any(_related(path, t) for t in reads.touched)
        ]
        if not affected:
            return []
        original = self.by_urn[mutation.urn]
        mutated = mutate(original, mutation)
        killed = []
        for policy_id in affected:
            validator = self.validators[policy_id]
            before = self.baseline[policy_id]
            if "" in before:  # a stack policy
                after = _violations(validator, self._stack_with(mutated))
                baseline = before[""]
            else:
                after = _violations(validator, self._resource_args(mutated, mutated.inputs))
                baseline = before.get(mutation.urn)
            if after and baseline is not None and after - baseline:
                killed.append(policy_id)
        return killed

    def addition_killers(self, addition: Addition) -> list[str]:
        """The policies that report a new violation when ``addition``'s resource exists."""
        parent = next((r.urn for r in self.run.resources if r.type == "pulumi:pulumi:Stack"), None)
        added = added_resource(addition, self.run.project, self.run.stack, parent)
        resources = [*self.run.resources, added]
        props = {r.urn: r.inputs for r in resources}
        killed = []
        for policy in self.policies:
            validator = self.validators[policy.id]
            if isinstance(policy, ResourcePolicy):
                if not policy.applies_to(added.type):
                    continue
                after = _violations(validator, self._resource_args(added, added.inputs))
                if after:
                    killed.append(policy.id)
                continue
            after = _violations(validator, self._stack_args(resources, props))
            baseline = self.baseline[policy.id][""]
            if after and baseline is not None and after - baseline:
                killed.append(policy.id)
        return killed


def _related(mutated: Path_, read: Path_) -> bool:
    """Whether a read of ``read`` can see a change at ``mutated`` (one holds the other)."""
    shorter = min(len(mutated), len(read))
    return mutated[:shorter] == read[:shorter]


def _shown(path: Path_) -> str:
    return ".".join(map(str, path)) or "(all inputs)"


@dataclass
class MutationRun:
    """Every mutation tried on one inventory and the policies that caught it."""

    run: MockRun
    policies: list[str]
    reads: dict[tuple[str, str], set[Path_]]
    """(policy id, urn) -> the input paths the policy read of that resource (present)."""
    outcomes: list[tuple[Mutation, list[str]]]
    additions: list[tuple[Addition, list[str]]]

    def uncovered_reads(self) -> list[tuple[CapturedResource, Path_]]:
        """Read input paths no caught mutation touched (the path, above or below it)."""
        killed: dict[str, list[Path_]] = {}
        for mutation, killers in self.outcomes:
            if killers:
                killed.setdefault(mutation.urn, []).append(mutation.path)
        out = []
        by_urn = {r.urn: r for r in self.run.resources}
        paths = {(urn, p) for (_, urn), read in self.reads.items() for p in read}
        for urn, path in sorted(paths, key=lambda x: (x[0], tuple(map(str, x[1])))):
            if not any(_related(path, k) for k in killed.get(urn, ())):
                out.append((by_urn[urn], path))
        return out


#: Kills a proof keeps per policy: past them a policy is not evaluated again (the proof
#: is made; the exhaustive run of the mutation tests finds every kill). A stack policy,
#: evaluated on the whole inventory each time, stops at its first.
KILLS_KEPT = 3


def run_all_mutations(
    run: MockRun, requirements: Requirements, *, exhaustive: bool = True
) -> MutationRun:
    """Record what every policy of the cloud reads, then try every mutation alone.

    ``exhaustive``: evaluate every affected policy on every mutation; otherwise a policy
    is left out once it caught :data:`KILLS_KEPT` mutations (the proof's speed).
    """
    bench = _Bench(run, requirements)
    bench.record()
    present: dict[str, set[Path_]] = {}
    reads: dict[tuple[str, str], set[Path_]] = {}
    for key, recorded in bench.reads.items():
        # A policy that walked a resource's whole inputs (looking for references to a
        # key, say) scanned them rather than judged each: those reads are not settings.
        if not recorded.present or () in recorded.touched:
            continue
        present.setdefault(key[1], set()).update(recorded.present)
        reads[key] = recorded.present
    ids = [p.id for p in bench.policies]
    # The additions each absence policy declares (``live_when``), gathered from the
    # registry: whichever policy catches one is proven by it, not only its declarer.
    declared = [a for p in bench.policies for a in p.live_when]
    candidates = [
        *derive_mutations(run),
        *derive_read_mutations(run, present),
        *(m for a in declared if a.path is not None for m in addition_mutations(a, run)),
    ]
    # One of each (the word list and the reads derive many of the same).
    mutations = list({(m.urn, m.path, m.kind, repr(m.to)): m for m in candidates}.values())
    counts: dict[str, int] = dict.fromkeys(ids, 0)
    kept = {p.id: KILLS_KEPT if isinstance(p, ResourcePolicy) else 1 for p in bench.policies}
    done: set[str] = set()
    # Additions first: the policies they prove (absence checks that read every resource)
    # are then done before the many input mutations.
    additions = [(a, bench.addition_killers(a)) for a in declared if a.path is None]
    for _, killers in additions:
        for policy_id in killers:
            counts[policy_id] += 1
            if not exhaustive and counts[policy_id] >= kept[policy_id]:
                done.add(policy_id)
    outcomes = []
    for mutation in mutations:
        killers = bench.killers(mutation, done)
        outcomes.append((mutation, killers))
        for policy_id in killers:
            counts[policy_id] += 1
            if not exhaustive and counts[policy_id] >= kept[policy_id]:
                done.add(policy_id)
    return MutationRun(run, ids, reads, outcomes, additions)


def prove_liveness(run: MockRun, requirements: Requirements) -> Liveness:
    """Which of the cloud's policies catch at least one weakening of this inventory.

    Every policy of the project's cloud is proven, whatever its enforcement level, so
    an override changes what is credited, never the proof.
    """
    tried = run_all_mutations(run, requirements, exhaustive=False)
    kills: dict[str, set[str]] = {p: set() for p in tried.policies}
    for mutation, killers in tried.outcomes:
        for policy_id in killers:
            kills[policy_id].add(mutation.label)
    for addition, killers in tried.additions:
        for policy_id in killers:
            kills[policy_id].add(addition.label)
    names = {r.urn: r.name for r in run.resources}
    read_by: dict[str, set[str]] = {p: set() for p in tried.policies}
    for (policy_id, urn), paths in tried.reads.items():
        read_by[policy_id].update(f"{names[urn]} {_shown(p)}" for p in paths)
    proofs = {
        p: PolicyProof(p, tuple(sorted(read_by[p])), tuple(sorted(kills[p])))
        for p in tried.policies
    }
    count = len(tried.outcomes) + len(tried.additions)
    return Liveness(inventory_hash(run, requirements), proofs, count)


def project_liveness(
    project: Path, stack: str, run: MockRun, requirements: Requirements
) -> Liveness:
    """The proof of one stack of a project, from its cache when the inventory is unchanged.

    The cache is ``.aiscaffold/liveness/<stack>.json`` in the project (git-ignored): it
    holds the inventory hash, and per policy the paths read and the mutations caught
    (the per-project kill report). A project directory that cannot be written to (a
    read-only checkout) proves every time.
    """
    inventory = inventory_hash(run, requirements)
    cache = project / CACHE_DIR / "liveness" / f"{stack}.json"
    if cache.is_file():
        cached = Liveness.from_json(cache.read_text(encoding="utf-8"))
        if cached is not None and cached.inventory == inventory:
            return cached
    proof = prove_liveness(run, requirements)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        # Ignored by git on its own (as .pytest_cache is), also in projects whose
        # .gitignore predates it: `aiscaffold update` needs a clean tree.
        ignore = project / CACHE_DIR / ".gitignore"
        if not ignore.is_file():
            ignore.write_text("# written by aiscaffold: a cache, never committed\n*\n")
        cache.write_text(proof.to_json() + "\n", encoding="utf-8")
    except OSError:
        pass  # no cache: the next run proves again
    return proof


def kill_report(liveness: Liveness, policies: Sequence[str] | None = None) -> str:
    """The per-project kill report: for each policy, the paths read and what it caught."""
    lines = [f"{liveness.mutations} mutations; {len(liveness.live)} live policies", ""]
    for policy_id in policies if policies is not None else sorted(liveness.proofs):
        proof = liveness.proofs.get(policy_id, PolicyProof(policy_id))
        state = f"live ({len(proof.kills)} kills)" if proof.live else "NOT LIVE"
        lines.append(f"{policy_id}: {state}; reads {len(proof.reads)} paths")
        lines += [f"  read   {r}" for r in proof.reads]
        lines += [f"  killed {k}" for k in proof.kills]
    return "\n".join(lines) + "\n"


def check_with_liveness(
    path: str | Path = ".", *, stack: str | None = None
) -> tuple[Any, frozenset[str]]:
    """``check_project`` and the policies proven live on the same run (cached).

    Returns the :class:`~aiscaffold.check.CheckReport` and the live policy ids, for the
    pass figures of ``aiscaffold check`` (see :func:`aiscaffold.reports.check_table`).
    """
    from .check import (
        _default_stack,
        evaluate,
        load_extra_policies,
        run_project,
    )
    from .errors import ProjectError

    project = Path(path).resolve()
    if not project.is_dir():
        raise ProjectError(f"{path} is not a directory")
    name = stack or _default_stack(project)
    # Each stack is judged by its own requirements (policy/enforcement.<stack>.yaml).
    from .stacks import load_stack_requirements

    requirements = load_stack_requirements(project, name)
    extra = load_extra_policies(project)
    run = run_project(project, name)
    report = evaluate(run, requirements, extra)
    return report, project_liveness(project, name, run, requirements).live
