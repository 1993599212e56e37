"""Deploy rules for aws: see the package docstring."""

from __future__ import annotations
