"""Adding papers to the atlas, from a BibTeX file (`import-bib`) or from the command line (`new`).

Each new paper gets its id by the rule of `smatlas.ids`, is checked against the atlas (and against the
other papers of the same run) for duplicates, and is written as `papers/<id>.yaml` in the fixed field
order, with a placeholder summary that `smatlas validate` rejects until a person writes one. Writes
are atomic and never replace an existing file.

Duplicates are judged before anything else, so that a copy of a paper the atlas already holds is
skipped even when it lacks what a new paper needs. Two records are the same paper when they share an
arXiv id or a DOI, or when their titles are the same or nearly the same (`smatlas.titles`); a record
with no arXiv id, DOI or URL matches by title only when the first author's family name matches too
and the years are at most one apart. When one run holds several copies of a paper, the richest is
kept: a complete author list, then no problems, more authors, a published venue, more identifiers,
then the first in the file.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError
from rapidfuzz import fuzz, process

from smatlas.bibtex import BibEntry, entry_errors, read_entries, resolve_venue
from smatlas.errors import UserError, display_path
from smatlas.ids import arxiv_year, family_name, paper_id, unique_id
from smatlas.kb import paper_files
from smatlas.load import read_tags, read_taxonomy
from smatlas.schema import ID_PATTERN, SUMMARY_PLACEHOLDER, Paper
from smatlas.titles import NEAR_DUPLICATE_SCORE, TitleKey, normalise_title, title_similarity
from smatlas.writer import FileExists, paper_yaml, write_atomic
from smatlas.yamlio import MAX_BYTES

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Stands in for the summary and taxonomy while the other fields of a new paper are checked.
_STAND_IN = {"summary": "s" * 100, "taxonomy": ["stand-in"]}
PAPER_FIELDS = ("title", "authors", "year", "venue", "arxiv", "doi", "url", "code", "tags")
IDENTIFIERS = ("arxiv", "doi", "url")


def _first_family(authors) -> str:
    first = authors[0] if isinstance(authors, list) and authors and isinstance(authors[0], str) else ""
    return family_name(first) if first.strip() else ""


def _years(year, arxiv) -> frozenset[int]:
    years = {year} if isinstance(year, int) and not isinstance(year, bool) else set()
    other = arxiv_year(arxiv) if isinstance(arxiv, str) else None
    return frozenset(years | ({other} if other else set()))


@dataclass(frozen=True)
class Known:
    """A paper the atlas holds, or one accepted earlier in this run: what duplicates are judged by."""

    id: str  # "" for a copy in this run that could not be accepted
    title: str
    arxiv: str | None
    doi: str | None
    where: str  # "papers/<id>.yaml", or "refs.bib:12" for a paper of this run
    family: str = ""  # the first author's family name, as the id rule reads it
    years: frozenset[int] = frozenset()  # the year, and the year of the arXiv id
    bare: bool = False  # no arXiv id, DOI or URL: a title match needs the same authorship

    @classmethod
    def of(cls, pid: str, fields: dict, where: str) -> Known:
        text = {k: fields[k] if isinstance(fields.get(k), str) else None for k in ("title", "arxiv", "doi")}
        return cls(
            pid,
            text["title"] or "",
            text["arxiv"],
            text["doi"],
            where,
            _first_family(fields.get("authors")),
            _years(fields.get("year"), text["arxiv"]),
            not has_identifier(fields),
        )


def _same_authorship(fields: dict, paper: Known) -> bool:
    """Same first author (family name) and years at most one apart: what an identifier-less record
    must share with a paper besides its title."""
    family = _first_family(fields.get("authors"))
    years = _years(fields.get("year"), fields.get("arxiv"))
    return bool(family) and family == paper.family and any(abs(a - b) <= 1 for a in years for b in paper.years)


def has_identifier(fields: dict) -> bool:
    return any(fields.get(k) for k in IDENTIFIERS)


class AtlasIndex:
    """The papers of the atlas by id, arXiv id, DOI and normalised title. Files are read leniently:
    a paper with schema errors (an imported one still waiting for its summary) still counts."""

    def __init__(self) -> None:
        self.papers: dict[str, Known] = {}
        self.taken: set[str] = set()  # ids in use: every file stem, readable or not
        self._keys: dict[tuple[str, str], list[Known]] = {}
        # Normalised titles sorted by length, with their papers: a near-identical title has a
        # similar length, so each comparison runs over a slice.
        self._lengths: list[int] = []
        self._titles: list[str] = []
        self._title_keys: list[TitleKey] = []
        self._known: list[Known] = []

    @classmethod
    def read(cls, root: Path) -> AtlasIndex:
        index = cls()
        for file in paper_files(root):
            stem = file.name.removesuffix(".yaml")
            index.taken.add(stem)
            index.add(Known.of(stem, _lenient_yaml(file), f"papers/{file.name}"))
        return index

    def add(self, paper: Known) -> None:
        if paper.id:
            self.papers[paper.id] = paper
            self.taken.add(paper.id)
        key = TitleKey.of(paper.title)
        for k in _keys(key.text, paper.arxiv, paper.doi):
            self._keys.setdefault(k, []).append(paper)
        if not key.text:
            return
        at = bisect.bisect_right(self._lengths, len(key.text))
        self._lengths.insert(at, len(key.text))
        self._titles.insert(at, key.text)
        self._title_keys.insert(at, key)
        self._known.insert(at, paper)

    def duplicate(self, fields: dict) -> tuple[Known, str] | None:
        """The paper `fields` duplicates, and how: the same arXiv id, DOI or title, else a nearly
        identical title."""
        return self.exact_duplicate(fields) or self.near_duplicate(fields)

    def exact_duplicate(self, fields: dict) -> tuple[Known, str] | None:
        """The paper sharing an arXiv id, a DOI or a normalised title with `fields`, and how. A record
        without identifiers matches a title only with the same first author and year (see the module)."""
        title = normalise_title(fields.get("title") or "")
        bare = not has_identifier(fields)
        for kind, value in _keys(title, fields.get("arxiv"), fields.get("doi")):
            for paper in self._keys.get((kind, value), []):
                either_bare = bare or paper.bare
                if kind == "title" and either_bare and not _same_authorship(fields, paper):
                    continue
                how = {
                    "arxiv": f"same arXiv id {value}",
                    "doi": f"same DOI {value}",
                    "title": "same title, first author and year" if either_bare else "same title",
                }[kind]
                return paper, how
        return None

    def near_duplicate(self, fields: dict) -> tuple[Known, str] | None:
        """The paper whose title is nearly the same as that of `fields` (`smatlas.titles`), unless
        their arXiv ids or DOIs differ. Every title of a compatible length is compared: blocking by
        rare words misses pairs like "in a Neural Network" / "in Neural Networks"."""
        key = TitleKey.of(fields.get("title") or "")
        if not key.text:
            return None
        title = key.text
        # fuzz.ratio is 2 * LCS / (la + lb) <= 2 * min / (la + lb): lengths further apart cannot reach it.
        share = NEAR_DUPLICATE_SCORE / 100
        shortest, longest = math.floor(len(title) * share / (2 - share)), math.ceil(len(title) * (2 - share) / share)
        start, end = bisect.bisect_left(self._lengths, shortest), bisect.bisect_right(self._lengths, longest)
        found = process.extract(
            title, self._titles[start:end], scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE_SCORE, limit=None
        )
        bare = not has_identifier(fields)
        for _, _, i in sorted(found, key=lambda f: (-f[1], f[2])):
            paper = self._known[start + i]
            score = title_similarity(key, self._title_keys[start + i], cutoff=NEAR_DUPLICATE_SCORE)
            if not score or _conflicting_identifiers(fields, paper):
                continue
            if (bare or paper.bare) and not _same_authorship(fields, paper):
                continue
            return paper, f"nearly the same title ({score:.0f}% similar)"
        return None


def _lenient_yaml(file: Path) -> dict:
    """The top-level mapping of a paper file, or {} when it cannot be read: duplicates are judged by
    whatever a file says, valid or not (the validator reports what is wrong with it)."""
    try:
        raw = file.read_bytes()
        data = yaml.load(raw, Loader=_YAML_LOADER) if len(raw) <= MAX_BYTES else None
    except (OSError, yaml.YAMLError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _keys(normalised_title: str, arxiv: str | None, doi: str | None) -> list[tuple[str, str]]:
    keys = [("arxiv", arxiv), ("doi", doi.lower() if doi else None), ("title", normalised_title)]
    return [(k, v) for k, v in keys if v]


def _conflicting_identifiers(fields: dict, paper: Known) -> bool:
    """Different arXiv ids or DOIs: two papers, however alike their titles ("Attention is not
    Explanation" and "Attention is not not Explanation")."""
    arxiv, doi = fields.get("arxiv"), fields.get("doi")
    return bool(
        (arxiv and paper.arxiv and arxiv != paper.arxiv) or (doi and paper.doi and doi.lower() != paper.doi.lower())
    )


@dataclass
class Candidate:
    """A paper someone wants to add: its fields, where each came from for error messages, and what
    reading it found (problems with its BibTeX, notes for the contributor)."""

    fields: dict
    source: str  # "refs.bib:12" or "smatlas new"
    path: str = ""  # the file errors point into ("" for the command line)
    line: int = 0
    lines: dict[str, int] = field(default_factory=dict)  # paper field -> line
    problems: list[UserError] = field(default_factory=list)  # found while reading the record
    problem_fields: set[str] = field(default_factory=set)  # the fields those problems are about
    truncated_authors: bool = False
    notes: list[str] = field(default_factory=list)
    key: str = ""  # the BibTeX key
    duplicate_key_of: int | None = None  # line of an earlier entry with the same BibTeX key

    @classmethod
    def from_bibtex(cls, entry: BibEntry, path: str) -> Candidate:
        return cls(
            entry.fields,
            f"{path}:{entry.line}",
            path,
            entry.line,
            entry.lines,
            entry_errors(entry, path),
            {p.field for p in entry.problems},
            entry.truncated_authors,
            list(entry.notes),
            entry.key,
            entry.duplicate_key_of,
        )


@dataclass
class Plan:
    """What adding the candidates would do: new papers with their ids, duplicates, broken entries."""

    new: list[tuple[Candidate, str]] = field(default_factory=list)
    duplicates: list[tuple[Candidate, Known, str]] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)  # sources of the broken entries ("refs.bib:12")
    errors: list[UserError] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.new)} new, {len(self.duplicates)} duplicates, {len(self.broken)} broken"


def field_problems(fields: dict, nodes: set[str] | None = None, tags: set[str] | None = None) -> list[tuple[str, str]]:
    """Every problem with a new paper's fields as (field, message), judged by the paper schema
    (summary and taxonomy aside) and, when given, the taxonomy and tag vocabulary."""
    problems = []
    data = {k: v for k, v in fields.items() if k in PAPER_FIELDS and v not in (None, "", [])}
    data |= {"id": "stand-in", "added": dt.date.today(), **_STAND_IN}
    try:
        Paper.model_validate(data)
    except ValidationError as exc:
        for e in exc.errors(include_url=False):
            name = ".".join(str(p) for p in e["loc"]) or "/".join(IDENTIFIERS)
            message = e["msg"].removeprefix("Value error, ")
            if e["type"] == "missing":
                message = "missing"
            problems.append((name, message))
    if nodes is not None:
        problems += [
            ("taxonomy", f"'{n}' is not a node of taxonomy/taxonomy.yaml")
            for n in fields.get("taxonomy", [])
            if n not in nodes
        ]
    if tags is not None:
        problems += [("tags", f"'{t}' is not in taxonomy/tags.yaml") for t in fields.get("tags", []) if t not in tags]
    return problems


def candidate_errors(candidate: Candidate, nodes: set[str] | None, tags: set[str] | None) -> list[UserError]:
    """Every problem with a candidate: those found reading it, then the schema's about the fields that
    were read (a field already reported is not reported again)."""
    errors = list(candidate.problems)
    reported = set(candidate.problem_fields)
    where = candidate.path or candidate.source
    for name, message in field_problems(candidate.fields, nodes, tags):
        top = name.split(".")[0]
        if top in reported or (top == "/".join(IDENTIFIERS) and reported & set(IDENTIFIERS)):
            continue
        line = candidate.lines.get(top, candidate.line)
        errors.append(UserError(where, line, 0, f"{name}: {message}"))
    return sorted(errors)


def _richness(candidate: Candidate, errors: list[UserError]) -> tuple:
    """How complete a record is, for choosing among copies of one paper (larger is richer; ties go to
    the first in the file)."""
    fields = candidate.fields
    venue = fields.get("venue") or {}
    return (
        not candidate.truncated_authors,
        not errors,
        len(fields.get("authors") or []),
        venue.get("kind") not in (None, "preprint"),
        sum(bool(fields.get(k)) for k in IDENTIFIERS),
        -candidate.line,
    )


def plan_additions(
    candidates: list[Candidate], index: AtlasIndex, nodes: set[str] | None = None, tags: set[str] | None = None
) -> Plan:
    """Judge the candidates: duplicates of the atlas first; then, among copies of one paper in this
    run, the richest is judged and the others are its duplicates; the judged ones are broken or new,
    with a fresh id. Accepted candidates join `index`."""
    plan = Plan()
    pending: list[int] = []  # candidates that are not copies of an atlas paper
    for i, candidate in enumerate(candidates):
        duplicate = index.duplicate(candidate.fields)
        if duplicate is not None:
            plan.duplicates.append((candidate, *duplicate))
        else:
            pending.append(i)

    # Copies of one paper within the run: grouped by the same rule as duplicates of the atlas.
    run = AtlasIndex()
    group: dict[int, int] = {}
    how: dict[int, str] = {}
    for i in pending:
        match = run.duplicate(candidates[i].fields)
        group[i] = group[int(match[0].id)] if match else i
        if match:
            how[i] = match[1]
        run.add(Known.of(str(i), candidates[i].fields, candidates[i].source))

    errors = {i: candidate_errors(candidates[i], nodes, tags) for i in pending}
    by_line = {c.line: i for i, c in enumerate(candidates) if c.line}
    for i in pending:  # a reused BibTeX key is an error only when it names another paper
        c = candidates[i]
        first = by_line.get(c.duplicate_key_of) if c.duplicate_key_of else None
        if first is not None and group.get(first) != group[i]:  # (a copy of an atlas paper has no group)
            message = f"duplicate key '{c.key}' (also on line {c.duplicate_key_of}, another paper); BibTeX keys must be unique"
            errors[i] = sorted([*errors[i], UserError(c.path or c.source, c.line, 0, message)])

    members: dict[int, list[int]] = {}
    for i in pending:
        members.setdefault(group[i], []).append(i)
    kept = {g: max(ms, key=lambda i: _richness(candidates[i], errors[i])) for g, ms in members.items()}

    accepted: dict[int, Known] = {}
    for i in sorted(kept.values()):
        candidate = candidates[i]
        if errors[i]:
            plan.broken.append(candidate.source)
            plan.errors += errors[i]
            continue
        fields = candidate.fields
        new_id = fields.get("id") or unique_id(
            paper_id(fields["authors"][0], fields["year"], fields["title"]), index.taken
        )
        accepted[i] = Known.of(new_id, fields, candidate.source)
        index.add(accepted[i])
        plan.new.append((candidate, new_id))

    for g, ms in members.items():
        keep = kept[g]
        for i in ms:
            if i == keep:
                continue
            copy = accepted.get(keep) or Known.of("", candidates[keep].fields, candidates[keep].source)
            reason = how.get(i) or how.get(keep) or "same paper"
            if candidates[keep].line > candidates[i].line:
                reason += "; that later copy is the richer record and is kept"
            plan.duplicates.append((candidates[i], copy, reason))
    plan.duplicates.sort(key=lambda d: (d[0].line, d[0].source))
    return plan


def new_paper_data(fields: dict, paper_id: str, taxonomy: list[str], added: dt.date | None = None) -> dict:
    """A new paper as the mapping `paper_yaml` renders: the given fields, the placeholder summary, today."""
    data = {k: fields[k] for k in PAPER_FIELDS if fields.get(k) not in (None, "", [])}
    return data | {
        "id": paper_id,
        "taxonomy": taxonomy,
        "summary": SUMMARY_PLACEHOLDER,
        "added": added or dt.date.today(),
    }


def write_new(plan: Plan, root: Path, taxonomy: list[str]) -> tuple[list[Path], list[UserError]]:
    """Write each new paper of the plan as papers/<id>.yaml; an existing file is never replaced."""
    written, errors = [], []
    for candidate, new_id in plan.new:
        path = root / "papers" / f"{new_id}.yaml"
        try:
            write_atomic(path, paper_yaml(new_paper_data(candidate.fields, new_id, taxonomy)))
            written.append(path)
        except FileExists:
            errors.append(UserError(display_path(path, root), 0, 0, "already exists; not overwritten"))
        except OSError as exc:
            errors.append(UserError(display_path(path, root), 0, 0, f"cannot write: {exc.strerror}"))
    return written, errors


def atlas_vocabulary(root: Path) -> tuple[set[str], set[str]]:
    """The taxonomy node ids and tag ids of the atlas."""
    return {n.id for n, _ in read_taxonomy(root)[0]}, {t.id for t, _ in read_tags(root)[0]}


# ---- import-bib ------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    plan: Plan
    written: list[Path] = field(default_factory=list)
    write_errors: list[UserError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.plan.broken and not self.write_errors


def import_bibtex(
    file: Path,
    shown_as: str,
    root: Path,
    taxonomy: list[str] | None,
    dry_run: bool = False,
    skip_broken: bool = False,
) -> ImportResult:
    """Import a BibTeX file into the atlas at `root`, the new papers placed in `taxonomy`. Nothing is
    written on a dry run, nor when any entry is broken unless `skip_broken`. `shown_as` is how errors
    name the file (`refs.bib:12: ...`)."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        error = UserError(shown_as, 0, 0, f"cannot read the file: {exc.strerror}")
        return ImportResult(Plan(broken=[shown_as], errors=[error]))
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        error = UserError(shown_as, line, 0, "not valid UTF-8; save the file as UTF-8")
        return ImportResult(Plan(broken=[f"{shown_as}:{line}"], errors=[error]))
    entries, broken = read_entries(text, shown_as)
    if not entries and not broken:
        error = UserError(
            shown_as,
            1,
            0,
            "no BibTeX entries found (an entry starts like @article{key, ...}); is this a BibTeX file?",
        )
        return ImportResult(Plan(broken=[shown_as], errors=[error]))
    candidates = [Candidate.from_bibtex(e, shown_as) for e in entries]
    nodes, tags = atlas_vocabulary(root)
    plan = plan_additions(candidates, AtlasIndex.read(root), nodes, tags)
    plan.broken += [f"{shown_as}:{b.line}" for b in broken]
    plan.errors = sorted(plan.errors + [e for b in broken for e in b.errors])
    result = ImportResult(plan)
    if dry_run or not taxonomy or (plan.broken and not skip_broken):
        return result
    result.written, result.write_errors = write_new(plan, root, taxonomy)
    return result


# ---- new -------------------------------------------------------------------------------------------


def venue_for(name: str | None, kind: str | None, arxiv: str | None) -> dict | None:
    """The venue of a paper added by hand: known names shortened ("Advances in Neural Information
    Processing Systems" -> NeurIPS) and their kind filled in; arXiv when only an arXiv id is given."""
    if not name:
        return {"name": "arXiv", "kind": kind or "preprint"} if arxiv else None
    short, known_kind = resolve_venue(name, "", arxiv)
    return {"name": short, "kind": kind or known_kind} if kind or known_kind else {"name": short}


def new_fields(values: dict) -> dict:
    """Paper fields from the values of `smatlas new` (flags or answers to prompts)."""
    fields = {k: values.get(k) for k in (*PAPER_FIELDS, "taxonomy", "id") if k != "venue"}
    fields["venue"] = venue_for(values.get("venue"), values.get("kind"), values.get("arxiv"))
    return {k: v for k, v in fields.items() if v not in (None, "", [])}


def with_details(values: dict, details: dict) -> dict:
    """The values of `smatlas new` completed with a public record's fields (`smatlas.lookup`): a flag
    the contributor gave always wins; the record's venue kind comes only with its venue."""
    out = dict(values)
    for key in ("title", "authors", "year", "arxiv", "doi"):
        if not out.get(key) and details.get(key):
            out[key] = details[key]
    if not out.get("venue") and details.get("venue"):
        out["venue"] = details["venue"]
        if not out.get("kind") and details.get("kind"):
            out["kind"] = details["kind"]
    return out


def identifier_problems(values: dict) -> list[tuple[str, str]]:
    """Problems with the arXiv id and DOI of `smatlas new`, judged alone (before fetching anything)."""
    probe = {k: values.get(k) for k in ("arxiv", "doi") if values.get(k)}
    return [(name, message) for name, message in field_problems(probe) if name in probe]


@dataclass
class NewResult:
    written: Path | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, message): fix and retry
    refusal: str = ""  # why nothing was written although the fields are fine
    notes: list[str] = field(default_factory=list)


def add_new_paper(values: dict, root: Path) -> NewResult:
    """Add one paper from `smatlas new`, refusing a taken id (given with `id`) and a paper the atlas
    already holds."""
    nodes, tags = atlas_vocabulary(root)
    fields = new_fields(values)
    problems = field_problems(fields, nodes, tags)
    if not fields.get("taxonomy"):
        problems.append(("taxonomy", "give at least one taxonomy node"))
    wanted = fields.get("id")
    if wanted and not (re.fullmatch(ID_PATTERN, wanted) and len(wanted) <= 80):
        problems.append(("id", f"'{wanted}' is not a slug of lowercase letters, digits and single hyphens"))
    if problems:
        return NewResult(problems=problems)
    index = AtlasIndex.read(root)
    if wanted in index.taken:
        return NewResult(refusal=f"id '{wanted}' is taken: papers/{wanted}.yaml already exists; nothing written")
    plan = plan_additions([Candidate(fields, "smatlas new")], index, nodes, tags)
    if plan.duplicates:
        _, known, how = plan.duplicates[0]
        return NewResult(refusal=f"already in the atlas as {known.id} ({known.where}): {how}; nothing written")
    _, new_id = plan.new[0]
    result = NewResult()
    base = paper_id(fields["authors"][0], fields["year"], fields["title"])
    if not wanted and new_id != base:
        result.notes.append(f"id {base} belongs to another paper; this one is {new_id}")
    written, errors = write_new(plan, root, fields["taxonomy"])
    result.written = written[0] if written else None
    result.refusal = "; ".join(str(e) for e in errors)
    return result


PROMPTS = [
    # (field, question, required)
    ("title", "Title", True),
    ("authors", "Authors, separated by ';' (given names first)", True),
    ("year", "Year", True),
    ("arxiv", "arXiv id (like 2306.11695; empty if none)", False),
    ("doi", "DOI (empty if none)", False),
    ("url", "URL (empty if none)", False),
    ("venue", "Venue (ICLR, NeurIPS, a journal...; empty for arXiv)", False),
    ("kind", "Venue kind (conference, journal, workshop or preprint; empty to infer it)", False),
    ("taxonomy", "Taxonomy nodes, separated by spaces", True),
    ("tags", "Tags, separated by spaces (empty for none)", False),
    ("code", "Code URL (empty if none)", False),
]


def prompt_new_paper(ask: Callable[[str], str], say: Callable[[str], None], root: Path) -> dict:
    """Ask for the fields of a new paper one by one; a bad answer is explained and asked again."""
    nodes, tags = atlas_vocabulary(root)
    values: dict = {}
    for name, question, _ in PROMPTS:
        while True:
            value = _parse_answer(name, ask(f"{question}: ").strip())
            problem = _answer_problem(name, value, values, nodes, tags)
            if problem:
                say(f"  {problem}")
                continue
            if value not in (None, []):
                values[name] = value
            break
    return values


def _parse_answer(name: str, answer: str):
    if name == "authors":
        return [a.strip() for a in answer.split(";") if a.strip()]
    if name in ("taxonomy", "tags"):
        return answer.replace(",", " ").split()
    if name == "year":
        return int(answer) if answer.isdigit() else answer or None
    return answer or None


def _answer_problem(name: str, value, values: dict, nodes: set[str], tags: set[str]) -> str:
    """What is wrong with one answer, judged alone ("" when nothing)."""
    if value in (None, []):
        if name == "url" and not (values.get("arxiv") or values.get("doi")):
            return "give at least one of an arXiv id, a DOI or a URL"
        if name == "kind" and "kind" not in (venue_for(values.get("venue"), None, values.get("arxiv")) or {}):
            return "unknown venue: give its kind (conference, journal, workshop or preprint)"
        return f"{name} is required" if any(n == name and req for n, _, req in PROMPTS) else ""
    probe = {**values, name: value}
    fields = new_fields(probe)
    if name == "kind":
        fields["venue"] = {"name": values.get("venue") or "arXiv", "kind": value}
    wanted = "venue" if name in ("venue", "kind") else name
    problems = [msg for field_name, msg in field_problems(fields, nodes, tags) if field_name.split(".")[0] == wanted]
    return "; ".join(problems)
