"""`smatlas run` and `smatlas reproduce`: run the reference implementations in `reference_impls/`.

    smatlas run --list                  implementation ids and the taxonomy nodes that list them
    smatlas run ID --quick [--json]     the quick configuration, one seed, in seconds
    smatlas run ID [--seeds 0,1,2] [--write] [--json]
                                        the full configuration over seeds (0, 1, 2, plus 3 and 4 when
                                        a finding's margin is under two standard deviations)
    smatlas reproduce [ID ...] [--write] [--report FILE]
                                        full runs at the committed seeds, compared with the committed
                                        results: verdicts side by side, metrics against their bands

Nothing rewrites `reference_impls/results/ID.json` unless `--write` is given. `run` exits 1 when a
sanity check fails (a finding that does not hold is a result, not an error); `reproduce` exits 1
when a finding's verdict flips or a metric leaves its band (see `smatlas.findings`). Seeds run in
$SMATLAS_JOBS processes side by side (default 2 on a machine with 2 or more cores), one torch thread
each. Torch and the implementations are imported only inside the commands, so importing this module
costs nothing.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

from smatlas import findings as F

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "reference_impls" / "results"
TAXONOMY = ROOT / "taxonomy" / "taxonomy.yaml"


def seed_list(text: str) -> list[int]:
    """`--seeds 0,1,2`: distinct non-negative integers; anything else is argparse's usage error."""
    try:
        seeds = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give comma-separated integers, e.g. 0,1,2") from None
    if any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"{text!r}: give distinct seeds >= 0, e.g. 0,1,2")
    return seeds


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `run` and `reproduce` subcommands to an argparse subparsers object."""
    p = subparsers.add_parser("run", help="run a reference implementation: findings and sanity checks")
    p.add_argument("impl", nargs="?", help="implementation id, e.g. pruning")
    p.add_argument("--list", action="store_true", help="list implementation ids and their taxonomy nodes")
    p.add_argument("--quick", action="store_true", help="the quick configuration, one seed (seconds)")
    p.add_argument(
        "--seeds", type=seed_list, help="comma-separated seeds of a full run (default 0,1,2 and 3,4 if needed)"
    )
    p.add_argument("--write", action="store_true", help="write reference_impls/results/ID.json (full runs)")
    p.add_argument("--json", action="store_true", help="print the result object as JSON on stdout")
    p.add_argument(
        "--fresh", action="store_true", help="re-run seeds even when a finished run of the same code is kept"
    )
    p.set_defaults(func=command)
    r = subparsers.add_parser("reproduce", help="re-run every implementation and compare with the committed results")
    r.add_argument("impls", nargs="*", help="implementation ids (default: all)")
    r.add_argument("--write", action="store_true", help="rewrite the results files with this machine's runs")
    r.add_argument("--report", help="also write the comparison as JSON to this file")
    r.add_argument(
        "--fresh", action="store_true", help="re-run seeds even when a finished run of the same code is kept"
    )
    r.set_defaults(func=reproduce_command)


def implementations() -> dict[str, str]:
    """Implementation id -> module name: modules of reference_impls defining `Config` and `run`, found
    by reading the files (as validation does), so listing imports neither torch nor the modules."""
    from smatlas.kb import implementation_ids

    return {impl: f"reference_impls.{impl.replace('-', '_')}" for impl in sorted(implementation_ids(ROOT))}


def taxonomy_nodes(path: Path = TAXONOMY) -> dict[str, list[str]]:
    """Implementation id -> ids of the taxonomy nodes whose `reference_impls` list it."""
    import yaml

    nodes = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out: dict[str, list[str]] = {}
    for node in nodes:
        for impl in node.get("reference_impls") or []:
            out.setdefault(impl, []).append(node["id"])
    return out


def jobs() -> int:
    """Processes for seeds side by side: $SMATLAS_JOBS, else min(2, cores)."""
    return max(1, int(os.environ.get("SMATLAS_JOBS", min(2, os.cpu_count() or 1))))


# ---------------------------------------------------------------------------------------------------
# Running


def _run_seed(module_name: str, quick: bool, seed: int, fresh: bool = False) -> dict:
    """One seed of one implementation, as `Result.to_json()` (runs in a worker process). A full run's
    seed is kept in `<cache>/runs/`, keyed by the implementations' source, the corpus and the library
    versions, so that a run that stops half-way (or a second `reproduce`) does not redo finished seeds;
    `fresh` ignores what is kept."""
    import dataclasses

    module = importlib.import_module(module_name)
    config = module.Config.quick() if quick else module.Config()
    path = None if quick else _kept_run(module_name, seed)
    if path is not None and path.exists() and not fresh:
        return json.loads(path.read_text(encoding="utf-8"))
    result = module.run(dataclasses.replace(config, seed=seed)).to_json()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(result) + "\n", encoding="utf-8")
        tmp.replace(path)
    return result


def _kept_run(module_name: str, seed: int) -> Path:
    """Where a full run's seed is kept: the hash covers every file of reference_impls (code and corpus)."""
    import hashlib

    import torch
    import transformers

    from reference_impls import zoo

    h = hashlib.sha256(f"{module_name} {seed} {torch.__version__} {transformers.__version__}".encode())
    folder = ROOT / "reference_impls"
    for path in sorted([*folder.glob("*.py"), *(folder / "corpus").glob("*")]):
        h.update(path.name.encode() + path.read_bytes())
    return zoo.cache_root() / "runs" / f"{module_name.rsplit('.', 1)[-1]}-seed{seed}-{h.hexdigest()[:16]}.json"


def _title(module_name: str) -> str:
    """The first line of the implementation's docstring, read from the file (no import)."""
    import ast

    path = ROOT / Path(*module_name.split("."))
    doc = ast.get_docstring(ast.parse(path.with_suffix(".py").read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0].rstrip(".") if doc.strip() else ""


def run_tasks(
    tasks: list[tuple[str, int]], quick: bool = False, say=print, fresh: bool = False
) -> dict[tuple[str, int], dict]:
    """Run (implementation id, seed) pairs, `jobs()` processes side by side; the zoo of every seed is
    then built first (two models at a time), so that the processes do not wait on each other for it."""
    import concurrent.futures as cf
    import multiprocessing

    from reference_impls import zoo

    impls = implementations()
    out: dict[tuple[str, int], dict] = {}
    if jobs() == 1 or len(tasks) == 1:
        for impl, seed in tasks:
            out[impl, seed] = _run_seed(impls[impl], quick, seed, fresh)
            say(f"  {impl} seed {seed}: {out[impl, seed]['seconds']:.0f} s")
        return out
    for seed in sorted({s for _, s in tasks}):
        if zoo.build(seed=seed, bar=sys.stderr.isatty()):
            say(f"built the zoo of seed {seed}")
    with cf.ProcessPoolExecutor(jobs(), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_run_seed, impls[impl], quick, seed, fresh): (impl, seed) for impl, seed in tasks}
        for future in cf.as_completed(futures):
            impl, seed = futures[future]
            out[impl, seed] = future.result()
            say(f"  {impl} seed {seed}: {out[impl, seed]['seconds']:.0f} s")
    return out


def run_full(
    ids: list[str], seeds: dict[str, list[int]] | None = None, say=print, fresh: bool = False
) -> dict[str, dict]:
    """Full runs of several implementations, aggregated over seeds. With `seeds` given (per id) those
    seeds; else 0, 1, 2, then 3 and 4 for the implementations where a finding's margin is under two
    standard deviations."""
    impls = implementations()
    chosen = {i: list(seeds[i]) if seeds else list(F.BASE_SEEDS) for i in ids}
    runs = run_tasks([(i, s) for i in ids for s in chosen[i]], say=say, fresh=fresh)
    if seeds is None:
        more = [i for i in ids if F.needs_more_seeds([runs[i, s] for s in chosen[i]])]
        if more:
            say(f"margins under two standard deviations: seeds {F.EXTRA_SEEDS} for {', '.join(more)}")
            runs.update(run_tasks([(i, s) for i in more for s in F.EXTRA_SEEDS], say=say, fresh=fresh))
            for i in more:
                chosen[i] += list(F.EXTRA_SEEDS)
    return {i: F.aggregate([runs[i, s] for s in chosen[i]], chosen[i], _title(impls[i])) for i in ids}


def write_results(impl: str, result: dict) -> Path:
    """Write a results file atomically."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{impl}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def write_zoo(seeds: list[int]) -> Path:
    """Write `results/zoo.json`: the zoo's shapes, settings and held-out perplexity over `seeds`."""
    from reference_impls import zoo

    return write_results("zoo", zoo.describe(seeds))


# ---------------------------------------------------------------------------------------------------
# Printing


def _table(rows: list[tuple[str, ...]]) -> str:
    if not rows:
        return "  (none)"
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  " + "  ".join(f"{c:<{w}}" for c, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows
    )


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.0f}" if float(x).is_integer() and abs(x) >= 1 else f"{x:.4g}"


def _side(c: dict, side: str) -> str:
    std = c.get(f"{side}_std")
    return _fmt(c[side]) + (f" ± {_fmt(std)}" if std else "")


def render(result: dict) -> str:
    """The human-readable report of a result object (one seed or aggregated)."""
    seeds = result.get("seeds")
    head = f"{result['impl']}  ({result['seconds']:.1f} s" + (f", seeds {seeds})" if seeds else ")")
    labels = result.get("metric_labels") or result.get("labels") or {}
    std = result.get("metric_std", {})
    lines = [head, "", "metrics:"]
    lines.append(
        _table(
            [
                (labels.get(k, k), _fmt(v) + (f" ± {_fmt(std[k])}" if std.get(k) else ""))
                for k, v in result["metrics"].items()
            ]
        )
    )
    if result.get("timings"):
        lines += ["", "timings (this machine):", _table([(k, _fmt(v)) for k, v in result["timings"].items()])]
    lines += ["", "findings:"]
    rows = []
    for c in result["claims"]:
        verdict = c.get("verdict") or ("holds" if c["holds"] else "does not hold")
        rows.append((verdict.upper(), f"{c['claim']}  ({_side(c, 'lhs')} vs {_side(c, 'rhs')}; {c['paper']})"))
    lines.append(_table(rows))
    lines += ["", "sanity checks:"]
    lines.append(
        _table(
            [
                ("PASS" if c["holds"] else "FAIL", f"{c['check']}  ({_fmt(c['lhs'])} vs {_fmt(c['rhs'])})")
                for c in result["checks"]
            ]
        )
    )
    return "\n".join(lines)


def render_comparison(cmp: dict) -> str:
    """`reproduce`'s table for one implementation."""
    lines = [f"{cmp['impl']}: {'OK' if cmp['ok'] else 'DIFFERS'}", "  findings (committed verdict -> this machine):"]
    for f in cmp["findings"]:
        mark = "FLIP" if f["flipped"] else ("same" if f["committed"] == f["measured"] else "moved")
        lines.append(f"    {mark:<5} {f['committed']:>18} -> {f['measured']:<18} {f['claim']}")
    lines.append("  metrics (committed, this machine, band):")
    for m in cmp["metrics"]:
        mark = "ok" if m["inside"] else "OUT"
        lo, hi = m["band"]
        lines.append(
            f"    {mark:<3} {m['metric']:<40} {_fmt(m['committed']):>10} {_fmt(m['measured']):>10}  [{_fmt(lo)}, {_fmt(hi)}]"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# Commands


def command(args: argparse.Namespace) -> int:
    impls = implementations()
    if args.list or not args.impl:
        nodes = taxonomy_nodes()
        for impl in impls:
            print(f"{impl}: {', '.join(nodes.get(impl, [])) or '(no taxonomy node lists it)'}")
        return 0
    if args.impl not in impls:
        print(f"unknown implementation {args.impl!r}; choose from: {', '.join(impls)}", file=sys.stderr)
        return 2
    say = (lambda msg: print(msg, file=sys.stderr)) if args.json else print
    if args.quick:
        result = run_tasks([(args.impl, 0)], quick=True, say=lambda msg: None)[args.impl, 0]
    else:
        seeds = {args.impl: args.seeds} if args.seeds else None
        result = run_full([args.impl], seeds, say=say, fresh=args.fresh)[args.impl]
        if args.write:
            path = write_results(args.impl, result)
            say(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(json.dumps(result, indent=1) if args.json else render(result))
    return 0 if all(c["holds"] for c in result["checks"]) else 1


def reproduce_command(args: argparse.Namespace) -> int:
    impls = implementations()
    ids = args.impls or list(impls)
    unknown = [i for i in ids if i not in impls]
    if unknown:
        print(f"unknown implementation(s) {', '.join(unknown)}; choose from: {', '.join(impls)}", file=sys.stderr)
        return 2
    committed = {}
    for i in ids:
        path = RESULTS / f"{i}.json"
        committed[i] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    seeds = {i: (committed[i] or {}).get("seeds") or list(F.BASE_SEEDS) for i in ids}
    print(f"reproducing {len(ids)} implementation(s) at their committed seeds, {jobs()} process(es) side by side")
    measured = run_full(ids, seeds, fresh=args.fresh)
    report, ok = [], True
    for i in ids:
        if committed[i] is None:
            print(f"{i}: no committed results to compare with")
            ok = False
            continue
        cmp = F.compare(committed[i], measured[i])
        report.append(cmp)
        ok &= cmp["ok"]
        print(render_comparison(cmp))
        failing = [c for c in measured[i]["checks"] if not c["holds"]]
        if failing:
            ok = False
            print("  FAILED sanity checks: " + "; ".join(c["check"] for c in failing))
    n_find = sum(len(c["findings"]) for c in report)
    n_flip = sum(f["flipped"] for c in report for f in c["findings"])
    n_out = sum(not m["inside"] for c in report for m in c["metrics"])
    print(
        f"\n{n_find} findings, {n_flip} flipped; {sum(len(c['metrics']) for c in report)} metrics, {n_out} out of band"
    )
    if args.report:
        Path(args.report).write_text(
            json.dumps({"ok": ok, "implementations": report}, indent=1) + "\n", encoding="utf-8"
        )
    if args.write:
        for i in ids:
            write_results(i, measured[i])
        write_zoo(list(F.BASE_SEEDS))
        print(f"rewrote {len(ids)} results file(s) and results/zoo.json; run scripts/impl_readme.py for the READMEs")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smatlas")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
