"""Write which AWS regions offer the API resource types generated projects need.

    python scripts/gen_region_types.py

Renders the AWS projects the tests render (tests/aws/aws_support.py PROJECTS), runs each
under the mocks, maps the Pulumi types they register to CloudFormation types (and the
botocore service of types CloudFormation lacks), and writes, from cfn-lint's per-region
CloudFormation schemas, which regions lack any of them:
components/aiscaffold_components/catalog/region_types.yaml. ``aiscaffold new`` reads that
file (aiscaffold.api_models.region_problem) without cfn-lint installed.

Run it after adding a resource type to the AWS components or upgrading cfn-lint/botocore;
tests/aws/test_aws_api_models.py fails while the file is stale.
"""

from __future__ import annotations

import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from aiscaffold.api_models import REGION_TYPES_FILE, project_needs, region_types_document  # noqa: E402
from aiscaffold.generate import generate  # noqa: E402
from aiscaffold.testing import run_program  # noqa: E402
from aws.aws_support import PROJECTS  # noqa: E402


def main() -> None:
    needed: dict[str, set[str]] = defaultdict(set)
    with tempfile.TemporaryDirectory() as tmp:
        for name, answers in PROJECTS.items():
            project = Path(tmp) / f"aws-{name}"
            generate(project, answers={"project_name": f"aws-{name}", **answers}, defaults=True)
            _, service, types = project_needs(project, run_program(project).resources)
            needed[service] |= types
    REGION_TYPES_FILE.write_text(region_types_document(needed), encoding="utf-8")
    print(f"wrote {REGION_TYPES_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
