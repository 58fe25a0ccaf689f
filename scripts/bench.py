"""Run every scripts/bench_*.py and print one table of results.

Each benchmark script, run with `--json`, prints a JSON list of rows:
{"bench", "case", "metric", "value", "unit", "goal" (text or null), "ok" (true, false or null)}.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    rows, failed = [], []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, str(script), "--json"], capture_output=True, text=True)
        if proc.returncode != 0:
            failed.append(script.name)
            print(proc.stderr[-2000:], file=sys.stderr)
            continue
        rows += json.loads(proc.stdout.strip().splitlines()[-1])
    header = ("bench", "case", "metric", "value", "unit", "goal", "ok")
    table = [header] + [
        (
            r["bench"],
            r["case"],
            r["metric"],
            f"{r['value']:.4g}" if isinstance(r["value"], float) else str(r["value"]),
            r.get("unit") or "",
            r.get("goal") or "",
            {True: "yes", False: "NO", None: ""}[r.get("ok")],
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
