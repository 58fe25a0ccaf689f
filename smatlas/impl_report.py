"""The results of the reference implementations as Markdown, generated from `reference_impls/results/`.

READMEs carry no hand-copied numbers: every number about a run sits between markers

    <!-- results:ID -->  ...  <!-- /results:ID -->      one implementation's findings, checks, metrics
    <!-- results:summary -->  ...  <!-- /results:summary -->   the count of findings by verdict
    <!-- results:zoo -->  ...  <!-- /results:zoo -->           the zoo's models (results/zoo.json)
    <!-- results:suggest -->  ...  <!-- /results:suggest -->   how well `suggest` places papers and
                                   finds duplicates (scripts/results/suggest.json, CONTRIBUTING.md)

and `update(text)` rewrites those blocks from the results files (`python scripts/impl_readme.py`;
a test fails when a README is stale). Pure Python: no torch.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from smatlas import findings as F

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "reference_impls" / "results"
SUGGEST = ROOT / "scripts" / "results" / "suggest.json"  # written by scripts/bench_suggest.py --write
BLOCK = re.compile(r"<!-- results:([a-z0-9-]+) -->\n.*?<!-- /results:\1 -->", re.S)


def load_all(folder: Path = RESULTS) -> dict[str, dict]:
    """Implementation id -> its results object (zoo.json, which describes the zoo, is left out)."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json")) if p.stem != "zoo"}


def fmt(x: float) -> str:
    """A number as a reader wants it: integers plainly, others to 3 significant digits."""
    if x is None:
        return "-"
    if float(x).is_integer() and abs(x) >= 1:
        return f"{int(x):,}"
    return f"{x:.3g}"


def side(c: dict, name: str) -> str:
    label = c.get(f"{name}_label") or ""
    value = fmt(c[name]) + (f" ± {fmt(c[f'{name}_std'])}" if c.get(f"{name}_std") else "")
    if label in (fmt(c[name]), f"{c[name]:g}"):  # a constant named by its value ("0.7")
        return value
    return f"{label} {value}".strip()


def counts(results: dict[str, dict]) -> dict[str, int]:
    """Findings by verdict over every implementation (a claim without a verdict counts by `holds`)."""
    out = dict.fromkeys(F.VERDICTS, 0)
    for r in results.values():
        for c in r["claims"]:
            out[c.get("verdict") or (F.REPRODUCES if c["holds"] else F.FAILS)] += 1
    return out


def summary(results: dict[str, dict]) -> str:
    n = counts(results)
    total = sum(n.values())
    checks = sum(len(r.get("checks", [])) for r in results.values())
    passing = sum(c["holds"] for r in results.values() for c in r.get("checks", []))
    return (
        f"**{n[F.REPRODUCES]} of {total} paper findings reproduce at tiny scale**; {n[F.MIXED]} are mixed "
        f"and {n[F.FAILS]} do not reproduce, over {len(results)} implementations (each finding over at least "
        f"three seeds). Apart from the findings, {passing} of {checks} sanity checks pass."
    )


def block(result: dict) -> str:
    """One implementation's results as Markdown: findings with verdicts, sanity checks, labelled metrics."""
    seeds = result.get("seeds", [])
    lines = [
        f"Full run: seeds {', '.join(map(str, seeds))}; {fmt(result['seconds'])} s of run time recorded over the "
        f"seeds, models already in the cache not rebuilt (`reference_impls/results/{result['impl']}.json`).",
        "",
        "| finding | paper | measured (mean ± sd over seeds) | verdict |",
        "|---|---|---|---|",
    ]
    for c in result["claims"]:
        holding = sum(p["holds"] for p in c.get("per_seed", []))
        verdict = c.get("verdict", "")
        lines.append(
            f"| {c['claim']} | {c['paper']} | {side(c, 'lhs')} {c['op']} {side(c, 'rhs')} | "
            f"{verdict} ({holding} of {len(c.get('per_seed', []))} seeds) |"
        )
    notes = [c for c in result["claims"] if c.get("note")]
    if notes:
        lines.append("")
        lines += [f'- Why "{c["claim"]}" does not reproduce here: {c["note"]}' for c in notes]
    checks = result.get("checks", [])
    if checks:
        ok = sum(c["holds"] for c in checks)
        lines += ["", f"Sanity checks (not findings), {ok} of {len(checks)} pass on every seed:"]
        lines += [f"- {'pass' if c['holds'] else 'FAIL'}: {c['check']}" for c in checks]
    labels = result.get("metric_labels", {})
    shown = [k for k in result["metrics"] if k in labels]
    if shown:
        lines += ["", "| metric | mean ± sd |", "|---|---|"]
        std = result.get("metric_std", {})
        for k in shown:
            lines.append(
                f"| {labels[k]} | {fmt(result['metrics'][k])}" + (f" ± {fmt(std[k])}" if std.get(k) else "") + " |"
            )
    return "\n".join(lines)


def zoo_table(folder: Path = RESULTS) -> str:
    """The zoo's models from results/zoo.json: shape, parameters, training and held-out perplexity."""
    zoo = json.loads((folder / "zoo.json").read_text(encoding="utf-8"))
    lines = [
        "| name | d | layers | heads | MLP | parameters | training | held-out perplexity (bytes) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in zoo["models"]:
        ppl = fmt(m["heldout_ppl"]) + (
            f" ± {fmt(m['heldout_ppl_std'])} ({len(m['seeds'])} seeds)" if len(m["seeds"]) > 1 else " (seed 0)"
        )
        lines.append(
            f"| {m['name']} | {m['d_model']} | {m['layers']} | {m['heads']} | {m['mlp']} | {fmt(m['params'])} | "
            f"{m['steps']} steps of {m['batch']} x {m['seq_len']} bytes, lr {m['lr']:g} | {ppl} |"
        )
    c = zoo["corpus"]
    lines += [
        "",
        f"Corpus: {fmt(c['bytes'])} bytes in {fmt(c['documents'])} documents ({', '.join(c['domains'])}), {c['description']}.",
    ]
    return "\n".join(lines)


def suggest_table(path: Path = SUGGEST) -> str:
    """How well `smatlas suggest` does on the atlas, from scripts/bench_suggest.py --write."""
    q = json.loads(path.read_text(encoding="utf-8"))
    names = {"tfidf": "TF-IDF", "minilm": "MiniLM"}
    lines = [
        f"Measured on the atlas's {q['papers']} papers (`python scripts/bench_suggest.py --write`):",
        "",
        "| backend | top-1 node | top-3 nodes | tag precision@3 | top-3 nodes from the title alone |",
        "|---|---|---|---|---|",
    ]
    for key, p in q["placement"].items():
        lines.append(
            f"| {names[key]} | {p['top1']:.2f} | {p['top3']:.2f} | {p['tags_precision3']:.2f} | {p['title_only_top3']:.2f} |"
        )
    d = q["duplicates"]["trigram"]
    lines += [
        "",
        f"Duplicates, on {d['positives']:,} perturbed titles and the {d['negatives']} exact titles with their own "
        f"paper left out, with character-trigram title vectors: precision {d['precision']:.2f}, recall {d['recall']:.2f}.",
    ]
    if "minilm" in q["duplicates"]:
        m = q["duplicates"]["minilm"]
        lines.append(
            f"MiniLM title embeddings on the same set: precision {m['precision']:.2f}, recall {m['recall']:.2f}."
        )
    return "\n".join(lines)


def update(text: str, results: dict[str, dict] | None = None) -> str:
    """`text` with every results block regenerated; an unknown id raises KeyError."""
    results = load_all() if results is None else results

    def fill(m: re.Match) -> str:
        key = m.group(1)
        special = {"summary": lambda: summary(results), "zoo": zoo_table, "suggest": suggest_table}
        body = special[key]() if key in special else block(results[key])
        return f"<!-- results:{key} -->\n{body}\n<!-- /results:{key} -->"

    return BLOCK.sub(fill, text)
