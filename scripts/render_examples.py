"""Render the example projects in examples/ from examples/answers/*.yml.

    python scripts/render_examples.py

Run it after changing the template, the components, the policies or the catalog, and
commit the result: tests/test_examples.py fails when an example differs from a fresh
rendering.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from aiscaffold.examples import example_names, render_example

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def main() -> int:
    for name in example_names(EXAMPLES):
        target = EXAMPLES / name
        if target.exists():
            shutil.rmtree(target)
        render_example(EXAMPLES, name, target)
        print(f"rendered examples/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
