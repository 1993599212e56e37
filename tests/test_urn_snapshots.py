"""No resource of a generated project disappears without an alias (no silent replacement).

Template and component changes that rename or move a resource must ship with an alias
to the old name, so `pulumi up` after `aiscaffold update` updates it in place. The
snapshots hold the URNs of each cloud's default project; update them with
scripts/snapshot_urns.py once such a change carries its aliases.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from aiscaffold.testing import MockRun, run
from aiscaffold.testing.urns import missing_without_alias

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "snapshot_urns", ROOT / "scripts" / "snapshot_urns.py"
)
assert _spec and _spec.loader
snapshot_urns = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(snapshot_urns)


@pytest.mark.slow
@pytest.mark.parametrize("label", sorted(snapshot_urns.ANSWERS))
def test_no_resource_disappears_without_an_alias(label: str, tmp_path: Path) -> None:
    snapshot = (ROOT / "tests" / "snapshots" / f"urns-{label}.txt").read_text().split()
    current = snapshot_urns.snapshot(label, tmp_path)
    from aiscaffold.testing import run_program

    missing = missing_without_alias(snapshot, run_program(tmp_path / "snap-app"))
    assert not missing, (
        "resources would be replaced (add aliases, then scripts/snapshot_urns.py):\n"
        + "\n".join(missing)
    )
    assert current, "the project created nothing"


def test_an_alias_covers_a_rename() -> None:
    import pulumi
    import pulumi_aws as aws

    def before() -> None:
        aws.kms.Key("old-name")

    def after() -> None:
        aws.kms.Key(
            "new-name", opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old-name")])
        )

    def careless() -> None:
        aws.kms.Key("new-name")

    old: MockRun = run(before, project="p", stack="s")
    snapshot = [r.urn for r in old.resources]
    assert missing_without_alias(snapshot, run(after, project="p", stack="s")) == []
    assert missing_without_alias(snapshot, run(careless, project="p", stack="s")) == snapshot
