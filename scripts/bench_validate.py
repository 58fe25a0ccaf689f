"""Benchmark: `smatlas validate` on synthetic atlases of 1,000 and 10,000 valid papers.

Reports seconds and papers per second for each size, and the 10k/1k time ratio (linear cost gives
about 10). Goal: 10,000 papers in at most 3 s on a 2-core machine. Both sizes run in the same
process, one after the other, so that the ratio is measured side by side.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smatlas.ids import paper_id, unique_id  # noqa: E402
from smatlas.writer import paper_yaml  # noqa: E402

WORDS = (
    "small large model language distillation pruning routing cascade speculative decoding data "
    "curation weak strong evaluation retrieval prompt synthesis quantization sparse efficient "
    "transformer token teacher student draft verify filter quality"
).split()


SYLLABLES = "ka lo mi nu pe ra si to vu ze bra cli dro fen gul hor jin kev lum mor".split()
VOCAB = WORDS + [a + b + c for a in SYLLABLES for b in SYLLABLES for c in ("n", "s", "x", "l", "r")]


def copy_skeleton(folder: Path) -> None:
    """The real taxonomy and tags, with the implementation modules the taxonomy lists (validate
    checks that they exist)."""
    shutil.copytree(ROOT / "taxonomy", folder / "taxonomy")
    (folder / "reference_impls").mkdir()
    for module in (ROOT / "reference_impls").glob("*.py"):
        shutil.copy(module, folder / "reference_impls" / module.name)


MODELS = ["LLaMA-7B", "LLaMA-2-13B", "GPT-4", "GPT-3.5", "Phi-3-mini", "T5-base", "Qwen2-7B", "Mistral-7B", "BERT-base"]


def make_atlas(folder: Path, n: int, varied: bool = False) -> None:
    """A synthetic atlas of n valid papers with distinct titles (no near-duplicates); `varied` gives
    each paper its own 60-word summary and model lists (what the site benchmark indexes)."""
    import random

    import yaml

    rng = random.Random(0)
    copy_skeleton(folder)
    papers = folder / "papers"
    papers.mkdir()
    nodes = [node["id"] for node in yaml.safe_load((ROOT / "taxonomy" / "taxonomy.yaml").read_text())]
    taken: set[str] = set()
    for i in range(n):
        words = rng.sample(VOCAB, 7)
        title = " ".join(words).capitalize()
        authors, year = [f"Ann Author{i}", "Second Person"], 2000 + i % 25
        pid = unique_id(paper_id(authors[0], year, title), taken)  # the id rule, which validate checks
        taken.add(pid)
        paper = {
            "id": pid,
            "title": title,
            "authors": authors,
            "year": year,
            "venue": {"name": "arXiv", "kind": "preprint"},
            "arxiv": f"24{(i % 12) + 1:02d}.{i:05d}",
            "taxonomy": [nodes[i % len(nodes)]],
            "tags": ["method"],
            "summary": "A synthetic paper used to time the validator; it has a summary long enough to pass "
            "the schema's eighty-character minimum.",
            "added": "2026-11-23",
        }
        if varied:
            paper["summary"] = (" ".join(rng.choice(VOCAB) for _ in range(60)).capitalize() + ".")[:700]
            paper["models"] = {"small": rng.sample(MODELS, 1), "large": rng.sample(MODELS, 2)}
        (papers / f"{pid}.yaml").write_text(paper_yaml(paper), encoding="utf-8")


def time_validate(folder: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "smatlas.cli", "--root", str(folder), "validate"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"validate failed on the synthetic atlas:\n{proc.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows, best = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1000, 10000):
            folder = Path(tmp) / f"atlas{n}"
            folder.mkdir()
            make_atlas(folder, n)
            best[n] = min(time_validate(folder) for _ in range(args.repeats))
            rows.append(
                dict(
                    bench="validate",
                    case=f"{n} papers",
                    metric="seconds",
                    value=best[n],
                    unit="s",
                    goal="<= 3 s" if n == 10000 else None,
                    ok=(best[n] <= 3.0) if n == 10000 else None,
                )
            )
            rows.append(
                dict(
                    bench="validate",
                    case=f"{n} papers",
                    metric="throughput",
                    value=n / best[n],
                    unit="papers/s",
                    goal=None,
                    ok=None,
                )
            )
    ratio = best[10000] / best[1000]
    rows.append(
        dict(
            bench="validate",
            case="10k / 1k",
            metric="time ratio",
            value=ratio,
            unit="x",
            goal="<= 11 (linear)",
            ok=ratio <= 11,
        )
    )
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            print(f"{r['case']:>12}  {r['metric']:<11} {r['value']:.3f} {r['unit']}  {r['goal'] or ''}")


if __name__ == "__main__":
    main()
