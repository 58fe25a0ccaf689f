"""Regenerate the results blocks of the READMEs from reference_impls/results/*.json.

    python scripts/impl_readme.py          rewrite README.md, reference_impls/README.md and CONTRIBUTING.md in place
    python scripts/impl_readme.py --check  exit 1 if one is stale (what tests/test_results.py checks)

Every measured number in those files sits in a generated block (see smatlas/impl_report.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smatlas.impl_report import update  # noqa: E402

FILES = [ROOT / "README.md", ROOT / "reference_impls" / "README.md", ROOT / "CONTRIBUTING.md"]


def main(argv: list[str]) -> int:
    stale = []
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        new = update(text)
        if new != text:
            stale.append(path)
            if "--check" not in argv:
                path.write_text(new, encoding="utf-8")
    if stale:
        verb = "stale" if "--check" in argv else "rewrote"
        print("\n".join(f"{verb}: {p.relative_to(ROOT)}" for p in stale))
    return 1 if stale and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
