"""The mock-run harness: run a program or a callable, return what it registered."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import runpy
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._mocks import AiscaffoldMocks, unwrap_secrets

#: Stand-in for a config value encrypted in the stack file: offline there is no key
#: to decrypt it, so the program sees this placeholder, marked secret.
SECRET_PLACEHOLDER = "mock-secret-value"  # noqa: S105 - a stand-in, not a secret


@dataclass(frozen=True)
class CapturedResource:
    """One resource registration, as the engine received it."""

    type: str
    name: str
    urn: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    id: str | None = None
    provider: str | None = None
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    ignore_changes: tuple[str, ...] = ()
    aliases: tuple[dict[str, Any], ...] = ()
    dependencies: tuple[str, ...] = ()
    secret_inputs: frozenset[str] = frozenset()
    """Top-level input names whose value arrived as a Pulumi secret."""


@dataclass
class MockRun:
    """Everything one mock run of a program produced."""

    project: str
    stack: str
    config: dict[str, str]
    resources: list[CapturedResource] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[CapturedResource]:
        """Resources of one type token, in the order the engine received them.

        That is the order their inputs resolved, not always the order the program
        declared them: two resources waiting on the same output may arrive either way.
        Key by name when the order matters."""
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> CapturedResource:
        """The single resource of ``type_`` (and ``name``); AssertionError otherwise."""
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise AssertionError(
                f"expected one {type_}{f' named {name!r}' if name else ''}, "
                f"found {len(found)} among {names}"
            )
        return found[0]

    def by_urn(self, urn: str) -> CapturedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)

    def children(self, parent: CapturedResource | str) -> list[CapturedResource]:
        urn = parent if isinstance(parent, str) else parent.urn
        return [r for r in self.resources if r.parent == urn]

    def descendants(self, parent: CapturedResource | str) -> list[CapturedResource]:
        out: list[CapturedResource] = []
        for child in self.children(parent):
            out.append(child)
            out.extend(self.descendants(child))
        return out

    @property
    def custom_resources(self) -> list[CapturedResource]:
        """Cloud resources only (components excluded)."""
        return [r for r in self.resources if r.custom]

    @property
    def components(self) -> list[CapturedResource]:
        return [r for r in self.resources if not r.custom]


class ProgramError(Exception):
    """The program raised while running under mocks.

    ``str()`` is the program's own error; ``details`` the traceback lines that point
    into the program's files (not the harness or the Pulumi SDK).
    """

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class ProjectFileError(ValueError):
    """The project directory holds no usable Pulumi.yaml or stack file."""


def _import_mocks() -> Any:
    from pulumi.runtime import mocks

    return mocks


class _WarningCollector(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


def _make_monitor(mocks: AiscaffoldMocks, captured: list[CapturedResource]) -> Any:
    """A MockMonitor that records each registration with its parent and options."""
    from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]
    from pulumi.runtime import rpc
    from pulumi.runtime.mocks import MockMonitor

    register = MockMonitor.RegisterResource

    class RecordingMonitor(MockMonitor):
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC name
            response = _call_untyped(register, self, request)
            if request.type == "pulumi:pulumi:Stack":
                return response
            raw = rpc.deserialize_properties(request.object)
            registration = self.resources[response.urn]
            captured.append(
                CapturedResource(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent or None,
                    custom=bool(request.custom),
                    inputs=unwrap_secrets(raw),
                    outputs=unwrap_secrets(dict(registration.state)),
                    id=registration.id or None,
                    provider=request.provider or None,
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    ignore_changes=tuple(request.ignoreChanges),
                    aliases=tuple(MessageToDict(a) for a in request.aliases),
                    dependencies=tuple(request.dependencies),
                    secret_inputs=frozenset(k for k, v in raw.items() if _is_secret(v)),
                )
            )
            return response

    return RecordingMonitor(mocks)


def _call_untyped(fn: Any, *args: Any) -> Any:
    """Call an SDK function that carries no annotations (keeps mypy strict elsewhere)."""
    return fn(*args)


def _is_secret(value: Any) -> bool:
    from ._mocks import SECRET_SIG_KEY

    return isinstance(value, dict) and SECRET_SIG_KEY in value


def _program_frames(exc: BaseException, roots: tuple[Path, ...]) -> str:
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if any(Path(frame.filename).resolve().is_relative_to(r) for r in roots)
    ]
    return "".join(traceback.format_list(frames))


def run(
    program: Callable[[], Any],
    *,
    project: str = "project",
    stack: str = "dev",
    config: Mapping[str, Any] | None = None,
    secret_keys: tuple[str, ...] = (),
    mocks: AiscaffoldMocks | None = None,
    _program_roots: tuple[Path, ...] = (),
) -> MockRun:
    """Run ``program`` under mocks and return every registered resource.

    Args:
        program: builds resources (a Pulumi program as a function).
        project: the Pulumi project name (``pulumi.get_project()``).
        stack: the stack name (``pulumi.get_stack()``).
        config: stack config, keys namespaced (``"proj:key"``, ``"aws:region"``);
            values other than strings are JSON-encoded, as the Pulumi CLI does.
        secret_keys: config keys the program must treat as secret.
        mocks: the mocks to use; defaults to :class:`AiscaffoldMocks`.

    Raises:
        ProgramError: the program raised; the message is the program's error.
    """
    import asyncio

    import pulumi
    from pulumi.runtime import set_all_config

    # The Pulumi SDK runs on the thread's current event loop; an earlier caller (a
    # prompt_toolkit application, another test) may have closed or removed it.
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
        if loop.is_closed():
            raise RuntimeError("closed")
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())

    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (config or {}).items()}
    set_all_config(encoded, list(secret_keys))
    mocks = mocks or AiscaffoldMocks(config=encoded)
    result = MockRun(project=project, stack=stack, config=encoded)

    logger = logging.getLogger(f"aiscaffold.testing.run.{id(result)}")
    logger.propagate = False
    handler = _WarningCollector(result.warnings)
    logger.addHandler(handler)
    monitor = _make_monitor(mocks, result.resources)
    # A fresh root stack resource per run: set_mocks keeps an existing one, and with it
    # the previous run's stack exports.
    from pulumi.runtime.settings import reset_options

    _call_untyped(reset_options, project, stack)
    _import_mocks().set_mocks(
        mocks, project=project, stack=stack, preview=False, logger=logger, monitor=monitor
    )

    def body() -> Any:
        program()
        from pulumi.runtime.settings import get_root_resource

        root = get_root_resource()
        exports: dict[str, Any] = dict(getattr(root, "outputs", {}) or {})
        return pulumi.Output.all(**exports).apply(result.outputs.update)

    try:
        _call_untyped(_call_untyped(pulumi.runtime.test, body))
    # The program's own error, reported to the caller; a program that calls sys.exit()
    # has failed too (it must not end the process that runs it).
    except (Exception, SystemExit) as exc:
        raise ProgramError(
            f"{type(exc).__name__}: {exc}", _program_frames(exc, _program_roots)
        ) from exc
    finally:
        logger.removeHandler(handler)
    result.outputs = unwrap_secrets(result.outputs)
    return result


def read_project(path: Path) -> dict[str, Any]:
    """Pulumi.yaml of a project directory, checked for what a mock run needs."""
    project_file = path / "Pulumi.yaml"
    if not project_file.is_file():
        raise ProjectFileError(f"{path} has no Pulumi.yaml: is it a Pulumi project directory?")
    try:
        data = yaml.safe_load(project_file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProjectFileError(f"{project_file} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not data.get("name"):
        raise ProjectFileError(f"{project_file} names no project (a `name:` key)")
    runtime = data.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ProjectFileError(
            f"{project_file} has runtime {runtime_name!r}; only Python programs run offline"
        )
    return data


def read_stack_config(path: Path, project: str, stack: str) -> tuple[dict[str, Any], list[str]]:
    """Config of ``Pulumi.<stack>.yaml``, keys namespaced, and the keys that are secret."""
    stack_file = path / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in path.glob("Pulumi.*.yaml"))
        raise ProjectFileError(
            f"{path} has no Pulumi.{stack}.yaml"
            + (f"; its stacks: {', '.join(stacks)}" if stacks else "")
        )
    try:
        data = yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProjectFileError(f"{stack_file} is not valid YAML: {exc}") from None
    raw = data.get("config") or {} if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        raise ProjectFileError(f"{stack_file}: `config:` must be a mapping")
    config: dict[str, Any] = {}
    secrets: list[str] = []
    for key, value in raw.items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full] = SECRET_PLACEHOLDER
            secrets.append(full)
        else:
            config[full] = value
    return config, secrets


@contextlib.contextmanager
def _program_context(path: Path) -> Iterator[None]:
    """cwd and import path of the program, restored afterwards with its own modules."""
    before = set(sys.modules)
    old_cwd = Path.cwd()
    sys.path.insert(0, str(path))
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        with contextlib.suppress(ValueError):
            sys.path.remove(str(path))
        for name in set(sys.modules) - before:
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            if module_file and Path(module_file).resolve().is_relative_to(path):
                del sys.modules[name]


def run_program(
    path: str | os.PathLike[str],
    *,
    stack: str = "dev",
    config: Mapping[str, Any] | None = None,
    mocks: AiscaffoldMocks | None = None,
) -> MockRun:
    """Run the Pulumi program in directory ``path`` with its stack's config.

    Args:
        path: a Pulumi project directory (Pulumi.yaml, Pulumi.<stack>.yaml, program).
        stack: whose ``Pulumi.<stack>.yaml`` config to use.
        config: overrides, keys namespaced or bare (bare keys take the project's
            namespace).
        mocks: the mocks to use; defaults to :class:`AiscaffoldMocks`.

    Raises:
        ProjectFileError: Pulumi.yaml or the stack file is missing or unusable.
        ProgramError: the program raised.
    """
    root = Path(path).resolve()
    project_data = read_project(root)
    project = str(project_data["name"])
    settings, secrets = read_stack_config(root, project, stack)
    for key, value in (config or {}).items():
        settings[key if ":" in key else f"{project}:{key}"] = value
    main = root / str(project_data.get("main") or "")
    entry = main / "__main__.py" if main.is_dir() else main
    if not entry.is_file():
        raise ProjectFileError(f"{root} has no program entry point ({entry.name})")

    def program() -> None:
        runpy.run_path(str(entry), run_name="__main__")

    with _program_context(root):
        return run(
            program,
            project=project,
            stack=stack,
            config=settings,
            secret_keys=tuple(secrets),
            mocks=mocks,
            _program_roots=(root,),
        )
