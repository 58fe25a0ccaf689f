"""Benchmark: BibTeX export and import on synthetic atlases of 1,000 and 10,000 papers.

For each size: `smatlas export-bib` of the whole atlas, then `smatlas import-bib --dry-run` of that
file into an empty atlas (every entry new, so every title is compared with the ones before it: the
worst case of the near-duplicate search), and the same file into the atlas it came from (every entry
a duplicate). Reports seconds and entries per second; no goal is set by the issue.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_validate import copy_skeleton, make_atlas  # noqa: E402


def timed(args: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "smatlas.cli", *args], capture_output=True, text=True, cwd=cwd)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"smatlas {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return seconds, proc.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1000, 10000):
            atlas, empty = Path(tmp) / f"atlas{n}", Path(tmp) / f"empty{n}"
            atlas.mkdir()
            make_atlas(atlas, n)
            copy_skeleton(empty)
            (empty / "papers").mkdir()
            bib = Path(tmp) / f"atlas{n}.bib"
            cases = [
                ("export-bib", ["--root", str(atlas), "export-bib", "-o", str(bib)], f"wrote {n} entries"),
                ("import-bib, all new", ["--root", str(empty), "import-bib", str(bib), "--dry-run"], f"{n} new"),
                ("import-bib, all duplicates", ["--root", str(atlas), "import-bib", str(bib), "--dry-run"], "0 new"),
            ]
            for case, command, expected in cases:
                seconds, last = timed(command, ROOT)
                assert last.startswith(expected), last
                rows.append(dict(bench="bibtex", case=f"{case}, {n}", metric="seconds", value=seconds, unit="s"))
                rows.append(
                    dict(bench="bibtex", case=f"{case}, {n}", metric="throughput", value=n / seconds, unit="entries/s")
                )
    for row in rows:
        row.update(goal=None, ok=None)
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            print(f"{r['case']:>34}  {r['metric']:<10} {r['value']:.3f} {r['unit']}")


if __name__ == "__main__":
    main()
