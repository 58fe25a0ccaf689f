"""Adding papers to the atlas, from a BibTeX file (`import-bib`) or from the command line (`new`).

Each new paper gets its id by the rule of `smatlas.ids`, is checked against the atlas (and against the
papers added before it in the same run) for duplicates, and is written as `papers/<id>.yaml` in the
fixed field order, with a placeholder summary that `smatlas validate` rejects until a person writes
one. Writes are atomic and never replace an existing file.
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

from smatlas.bibtex import read_bibtex, resolve_venue
from smatlas.checks import NEAR_DUPLICATE_SCORE, normalise_title
from smatlas.errors import UserError, display_path
from smatlas.ids import paper_id, unique_id
from smatlas.kb import paper_files
from smatlas.load import read_tags, read_taxonomy
from smatlas.schema import ID_PATTERN, SUMMARY_PLACEHOLDER, Paper
from smatlas.writer import FileExists, paper_yaml, write_atomic
from smatlas.yamlio import MAX_BYTES

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Stands in for the summary and taxonomy while the other fields of a new paper are checked.
_STAND_IN = {"summary": "s" * 100, "taxonomy": ["stand-in"]}
PAPER_FIELDS = ("title", "authors", "year", "venue", "arxiv", "doi", "url", "code", "tags")


@dataclass(frozen=True)
class Known:
    """A paper the atlas holds, or one accepted earlier in this run: what duplicates are judged by."""

    id: str
    title: str
    arxiv: str | None
    doi: str | None
    where: str  # "papers/<id>.yaml", or "refs.bib:12" for a paper of this run


class AtlasIndex:
    """The papers of the atlas by id, arXiv id, DOI and normalised title. Files are read leniently:
    a paper with schema errors (an imported one still waiting for its summary) still counts."""

    def __init__(self) -> None:
        self.papers: dict[str, Known] = {}
        self.taken: set[str] = set()  # ids in use: every file stem, readable or not
        self._keys: dict[tuple[str, str], Known] = {}
        # Normalised titles sorted by length, with their papers: a near-identical title has a
        # similar length, so each comparison runs over a slice.
        self._lengths: list[int] = []
        self._titles: list[str] = []
        self._known: list[Known] = []

    @classmethod
    def read(cls, root: Path) -> AtlasIndex:
        index = cls()
        for file in paper_files(root):
            stem = file.name.removesuffix(".yaml")
            index.taken.add(stem)
            data = _lenient_yaml(file)
            text = {k: data[k] if isinstance(data.get(k), str) else None for k in ("title", "arxiv", "doi")}
            index.add(Known(stem, text["title"] or "", text["arxiv"], text["doi"], f"papers/{file.name}"))
        return index

    def add(self, paper: Known) -> None:
        self.papers[paper.id] = paper
        self.taken.add(paper.id)
        title = normalise_title(paper.title)
        for key in _keys(title, paper.arxiv, paper.doi):
            self._keys.setdefault(key, paper)
        at = bisect.bisect_right(self._lengths, len(title))
        self._lengths.insert(at, len(title))
        self._titles.insert(at, title)
        self._known.insert(at, paper)

    def exact_duplicate(self, fields: dict) -> tuple[Known, str] | None:
        """The paper sharing an arXiv id, a DOI or a normalised title with `fields`, and how."""
        title = normalise_title(fields.get("title") or "")
        for kind, value in _keys(title, fields.get("arxiv"), fields.get("doi")):
            if (kind, value) in self._keys:
                how = {"arxiv": f"same arXiv id {value}", "doi": f"same DOI {value}", "title": "same title"}[kind]
                return self._keys[(kind, value)], how
        return None

    def near_duplicate(self, fields: dict) -> tuple[Known, str] | None:
        """The paper whose title is nearly the same as that of `fields` (the validator's measure and
        threshold), unless their arXiv ids or DOIs differ. Every title is compared: blocking by rare
        words misses pairs like "in a Neural Network" / "in Neural Networks"."""
        title = normalise_title(fields.get("title") or "")
        # fuzz.ratio is 2 * LCS / (la + lb) <= 2 * min / (la + lb): lengths further apart cannot reach it.
        share = NEAR_DUPLICATE_SCORE / 100
        shortest, longest = math.floor(len(title) * share / (2 - share)), math.ceil(len(title) * (2 - share) / share)
        start, end = bisect.bisect_left(self._lengths, shortest), bisect.bisect_right(self._lengths, longest)
        found = process.extract(
            title, self._titles[start:end], scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE_SCORE, limit=None
        )
        for _, score, i in sorted(found, key=lambda f: (-f[1], f[2])):
            if not _conflicting_identifiers(fields, self._known[start + i]):
                return self._known[start + i], f"nearly the same title ({score:.0f}% similar)"
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
    """A paper someone wants to add: its fields, and where each came from for error messages."""

    fields: dict
    source: str  # "refs.bib:12" or "smatlas new"
    path: str = ""  # the file errors point into ("" for the command line)
    line: int = 0
    lines: dict[str, int] = field(default_factory=dict)  # paper field -> line


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
            name = ".".join(str(p) for p in e["loc"]) or "arxiv/doi/url"
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


def plan_additions(
    candidates: list[Candidate], index: AtlasIndex, nodes: set[str] | None = None, tags: set[str] | None = None
) -> Plan:
    """Judge the candidates in order: broken, duplicate (of the atlas or of an earlier candidate), or
    new with a fresh id. Accepted candidates join `index`, so later ones are checked against them."""
    plan = Plan()
    for candidate in candidates:
        problems = field_problems(candidate.fields, nodes, tags)
        if problems:
            plan.broken.append(candidate.source)
            where = candidate.path or candidate.source
            for name, message in problems:
                line = candidate.lines.get(name.split(".")[0], candidate.line)
                plan.errors.append(UserError(where, line, 0, f"{name}: {message}"))
            continue
        duplicate = index.exact_duplicate(candidate.fields) or index.near_duplicate(candidate.fields)
        if duplicate is not None:
            plan.duplicates.append((candidate, *duplicate))
            continue
        fields = candidate.fields
        new_id = fields.get("id") or unique_id(
            paper_id(fields["authors"][0], fields["year"], fields["title"]), index.taken
        )
        known = Known(new_id, fields["title"], fields.get("arxiv"), fields.get("doi"), candidate.source)
        index.add(known)
        plan.new.append((candidate, new_id))
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
    entries, broken = read_bibtex(text, shown_as)
    candidates = [Candidate(e.fields, f"{shown_as}:{e.line}", shown_as, e.line, e.lines) for e in entries]
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
