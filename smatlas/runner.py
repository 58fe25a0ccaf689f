"""`smatlas run`: list and run the reference implementations in `reference_impls/`.

    smatlas run --list                 implementation ids and the taxonomy nodes that list them
    smatlas run ID [--quick] [--json]  run one; print its metrics and claims (or the JSON object)

A full run writes `reference_impls/results/ID.json`; `--quick` leaves it alone. The exit code is 1
when a claim does not hold, 2 for an unknown id. Torch and the implementations are imported only
inside the command, so importing this module costs nothing.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "reference_impls" / "results"
TAXONOMY = ROOT / "taxonomy" / "taxonomy.yaml"


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `run` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser("run", help="run a reference implementation and check its claims")
    p.add_argument("impl", nargs="?", help="implementation id, e.g. pruning")
    p.add_argument("--list", action="store_true", help="list implementation ids and their taxonomy nodes")
    p.add_argument("--quick", action="store_true", help="the quick configuration; results file untouched")
    p.add_argument("--json", action="store_true", help="print the result object as JSON on stdout")
    p.set_defaults(func=command)
    return p


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


def _table(rows: list[tuple[str, str]]) -> str:
    width = max((len(a) for a, _ in rows), default=0)
    return "\n".join(f"  {a:<{width}}  {b}" for a, b in rows)


def _fmt(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() and abs(x) >= 1 else f"{x:.4g}"


def render(result: dict) -> str:
    """The human-readable report of a result object."""
    lines = [f"{result['impl']}  ({result['seconds']:.1f} s)", "", "metrics:"]
    lines.append(_table([(k, _fmt(v)) for k, v in result["metrics"].items()]))
    lines += ["", "claims:"]
    lines.append(
        _table(
            [
                ("PASS" if c["holds"] else "FAIL", f"{c['claim']}  ({_fmt(c['lhs'])} vs {_fmt(c['rhs'])})")
                for c in result["claims"]
            ]
        )
    )
    return "\n".join(lines)


def run_one(impl: str, quick: bool = False, bar: bool = True) -> dict:
    """Run an implementation; returns the result object (and writes the results file for a full run)."""
    module = importlib.import_module(implementations()[impl])
    config = module.Config.quick() if quick else module.Config()
    pbar = None
    progress = None
    if bar:
        from tqdm.auto import tqdm

        pbar = tqdm(
            total=1000,
            desc=impl,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} {postfix}",
            file=sys.stderr,
            leave=False,
        )

        def progress(fraction: float, stage: str) -> None:
            pbar.update(max(0, round(fraction * 1000) - pbar.n))
            pbar.set_postfix_str(stage, refresh=False)

    try:
        result = module.run(config, progress=progress).to_json()
    finally:
        if pbar is not None:
            pbar.close()
    if not quick:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{impl}.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


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
    result = run_one(args.impl, quick=args.quick, bar=sys.stderr.isatty() or not args.json)
    print(json.dumps(result, indent=1) if args.json else render(result))
    return 0 if all(c["holds"] for c in result["claims"]) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smatlas")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
