"""Run Pulumi programs offline and capture every resource they register.

The real program runs under ``pulumi.runtime.set_mocks``: no CLI, no provider plugin,
no credentials. Every registration is recorded with its type, name, parent, resource
options and inputs in engine form (camelCase, numbers as floats, secrets unwrapped), and
the mocks answer like a provider would: they echo inputs and add plausible ids, ARNs,
names and the other outputs programs read, and answer the common invokes of the three
cloud SDKs. Engine warnings (deprecations among them) are captured too.

Example::

    from aiscaffold.testing import run_program

    run = run_program("my-rag-app", stack="dev")
    key = run.one("aws:kms/key:Key", name="my-rag-app-data")
    assert key.inputs["enableKeyRotation"] is True
    assert not run.warnings
"""

from __future__ import annotations

from ._harness import (
    CapturedResource,
    MockRun,
    ProgramError,
    ProjectFileError,
    run,
    run_program,
)
from ._mocks import AiscaffoldMocks

__all__ = [
    "AiscaffoldMocks",
    "CapturedResource",
    "MockRun",
    "ProgramError",
    "ProjectFileError",
    "run",
    "run_program",
]
