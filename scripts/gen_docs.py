"""Write the generated pages of the docs (docs/reference/*.md, docs/examples.md).

    python scripts/gen_docs.py

They come from the control catalog, the policies, the questions and the examples; the test
tests/test_docs.py fails when a committed page differs from a fresh rendering.
"""

from __future__ import annotations

import sys
from pathlib import Path

from aiscaffold.docs_pages import render_pages

DOCS = Path(__file__).resolve().parents[1] / "docs"


def main() -> int:
    for path, text in render_pages(DOCS).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
