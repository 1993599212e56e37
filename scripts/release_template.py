"""Cut a template release: append templates/ to the shipped release history.

    python scripts/release_template.py 0.2.0

Run it when releasing aiscaffold VERSION (pyproject's version), after the template's
last change and before building the wheel. It adds the current templates/ tree as a
commit tagged VERSION on top of the previous release in
generator/aiscaffold/_data/template-history.bundle, so that projects generated from any
release can later be updated (offline) to any newer one. Commit the bundle with the
release. See docs/updating.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiscaffold.errors import AiscaffoldError
from aiscaffold.template_source import SHIPPED_BUNDLE, release_template

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", help="the release version (PEP 440), e.g. 0.2.0")
    parser.add_argument("--template", type=Path, default=ROOT / "templates")
    parser.add_argument("--bundle", type=Path, default=SHIPPED_BUNDLE)
    args = parser.parse_args(argv)
    try:
        commit = release_template(args.version, template=args.template, bundle=args.bundle)
    except AiscaffoldError as exc:
        print(f"error: {exc.render()}", file=sys.stderr)
        return 2
    print(f"template {args.version} is commit {commit[:12]} in {args.bundle.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
