"""Deploy smoke test helpers: a throw-away stack of this project in a sandbox.

Used by .github/workflows/deploy-smoke-test.yml (see README, "Deploy smoke test"):

    python scripts/smoke_stack.py prepare smoke-123   # Pulumi.smoke-123.yaml from dev
    aiscaffold preview --stack smoke-123 --format json > expected.json   # offline
    pulumi up ... && pulumi stack output --json --stack smoke-123 > outputs.json
    python scripts/smoke_stack.py verify expected.json outputs.json

`prepare` copies the settings of stack "dev" (so the sandbox deploys what
production would) with the sandbox's own choices: the logs are never locked (a lock
cannot be undone, and a locked bucket cannot be destroyed), so the stack can always be
destroyed. Protected resources are unprotected by the workflow's cleanup step
(`pulumi state unprotect --all`) before `pulumi destroy`.
`verify` checks that the deployed stack exports every output the program exports
offline, none of them empty.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

SOURCE_STACK = "dev"
PROJECT = "gcp-vertex-soc2"
#: Stack settings a sandbox overrides: never lock logs in a throw-away stack.
SANDBOX = {f"{PROJECT}:lock_log_archive": False}
_STACK_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")


def prepare(stack: str, root: Path = Path(".")) -> Path:
    """Write Pulumi.<stack>.yaml from the source stack with the sandbox settings."""
    if not _STACK_NAME.fullmatch(stack) or stack == SOURCE_STACK:
        raise SystemExit(f"error: {stack!r} is not a throw-away stack name (e.g. smoke-42)")
    source = root / f"Pulumi.{SOURCE_STACK}.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    config = dict(data.get("config") or {})
    config.update(SANDBOX)
    # Encrypted values belong to the source stack's secrets provider: the sandbox sets its own.
    config = {k: v for k, v in config.items() if not (isinstance(v, dict) and "secure" in v)}
    target = root / f"Pulumi.{stack}.yaml"
    target.write_text(
        f"# Throw-away smoke-test stack made from {source.name} by scripts/smoke_stack.py.\n"
        + yaml.safe_dump({"config": config}, sort_keys=False, width=100),
        encoding="utf-8",
    )
    return target


def verify(expected_file: Path, outputs_file: Path) -> list[str]:
    """Problems: outputs exported offline that the deployed stack lacks or left empty."""
    expected = json.loads(expected_file.read_text(encoding="utf-8")).get("outputs") or {}
    actual = json.loads(outputs_file.read_text(encoding="utf-8"))
    problems = []
    for key in sorted(expected):
        if key not in actual:
            problems.append(f"output {key!r} is missing from the deployed stack")
        elif actual[key] in (None, "", [], {}):
            problems.append(f"output {key!r} is empty in the deployed stack")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "prepare":
        print(f"wrote {prepare(argv[1])}")
        return 0
    if len(argv) == 3 and argv[0] == "verify":
        problems = verify(Path(argv[1]), Path(argv[2]))
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        if not problems:
            print("every output the program exports is deployed")
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
