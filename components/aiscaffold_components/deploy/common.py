"""Deploy rules for common: see the package docstring."""

from __future__ import annotations
