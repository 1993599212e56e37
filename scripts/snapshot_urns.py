"""Record the URNs of each cloud's default project (tests/snapshots/urns-<cloud>.txt).

    python scripts/snapshot_urns.py

Run it after an intended change of resources, once renamed or moved resources carry
aliases to their old names (tests/test_urn_snapshots.py fails until they do).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from aiscaffold.generate import generate
from aiscaffold.testing import run_program
from aiscaffold.testing.urns import urns

SNAPSHOTS = Path(__file__).resolve().parents[1] / "tests" / "snapshots"
#: The answers whose projects are snapshotted: every optional piece of each cloud on.
ANSWERS = {
    "aws": {"cloud": "aws", "data_sensitivity": "restricted", "compliance": ["hipaa"]},
    "aws-sagemaker": {"cloud": "aws", "ai_service": "sagemaker"},
    "azure": {"cloud": "azure", "data_sensitivity": "restricted", "compliance": ["gdpr"]},
    # gcp_org_policies: what a project generated before the question existed keeps
    # through `aiscaffold update` (its organization policies exist).
    "gcp": {
        "cloud": "gcp",
        "data_sensitivity": "restricted",
        "compliance": ["soc2"],
        "gcp_org_policies": True,
    },
}


def snapshot(label: str, tmp: Path) -> list[str]:
    project = tmp / "snap-app"
    generate(
        project, answers={"project_name": "snap-app", **ANSWERS[label]}, defaults=True, force=True
    )
    return urns(run_program(project))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for label in ANSWERS:
            path = SNAPSHOTS / f"urns-{label}.txt"
            path.write_text("\n".join(snapshot(label, Path(tmp) / label)) + "\n", encoding="utf-8")
            print(f"wrote {path.relative_to(SNAPSHOTS.parents[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
