"""Deploy rules for gcp: see the package docstring."""

from __future__ import annotations
