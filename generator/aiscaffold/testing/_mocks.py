"""Mocks that answer like the three clouds' providers would, offline.

``new_resource`` echoes a resource's inputs and adds the outputs programs read from it
(ids, ARNs, names, endpoints...). Without those, an input computed from a missing output
silently disappears under mocks, so each cloud module lists the outputs its components
depend on. ``call`` answers the common invokes (caller identity, region, zones, policy
documents, project and client config).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

from . import _aws, _azure, _gcp

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"  # noqa: S105 - Pulumi's secret marker

_CLOUDS = {"aws": _aws, "azure-native": _azure, "gcp": _gcp}


def unwrap_secrets(value: Any) -> Any:
    """Replace Pulumi's wrapped secret values by their plain values, recursively."""
    if isinstance(value, dict):
        if SECRET_SIG_KEY in value:
            return unwrap_secrets(value.get("value"))
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def _merge(outputs: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs echoed over provider outputs, nested: an input ``properties`` mapping
    keeps output-only keys inside it (``properties.vaultUri``, say)."""
    merged = dict(outputs)
    for key, value in inputs.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class AiscaffoldMocks(Mocks):
    """Provider-like mocks for aws, azure-native and gcp resources and invokes.

    Args:
        config: the run's stack config (namespaced keys, string values), read for the
            region, location and project the mocks report.
    """

    def __init__(self, config: Mapping[str, str] | None = None) -> None:
        self.config = dict(config or {})

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = unwrap_secrets(dict(args.inputs))
        package = args.typ.split(":", 1)[0]
        cloud = _CLOUDS.get(package)
        if cloud is None or not args.custom:
            return (f"{args.name}-id" if args.custom else None), inputs
        resource_id, extra = cloud.outputs(args.typ, args.name, inputs, self.config)
        if args.resource_id:
            resource_id = args.resource_id
        return resource_id, _merge(extra, inputs)

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        package = args.token.split(":", 1)[0]
        cloud = _CLOUDS.get(package)
        if cloud is not None:
            handler = cloud.INVOKES.get(args.token)
            if handler is not None:
                return handler(unwrap_secrets(dict(args.args)), self.config), []
        return {}, []


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=False, separators=(",", ":"))
