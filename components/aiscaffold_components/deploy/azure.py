"""Deploy rules for azure: see the package docstring."""

from __future__ import annotations
