"""Types shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

#: ``render_project(**answers) -> Path`` (see conftest.py).
RenderProject = Callable[..., Path]
