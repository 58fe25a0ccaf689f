"""BibTeX in and out.

Out: one entry per paper, rendered from our own model in a fixed field order.

The citation key is the paper id (`smatlas.ids`), so the same paper always gets the same key.
Text is escaped for LaTeX but non-ASCII stays UTF-8; capitals that a bibliography style must not
lowercase (acronyms, mixed case, model names with digits) are protected with braces.

In: bibtexparser with an explicit parse stack, then each entry mapped to the atlas's paper fields
(LaTeX decoded, arXiv id and DOI found wherever tools put them, venues named as the atlas names them;
withdrawn, rejected and submitted papers are preprints). Each entry comes back with every problem
found in it, each at the line of its field ("and others" is one: the atlas lists every author), and
blocks that are no entry at all as errors at the line they start on. Whether an entry with problems
is broken or merely a duplicate is for `smatlas.intake` to judge; nothing here writes files.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field

import bibtexparser
from bibtexparser import middlewares as m
from bibtexparser.model import DuplicateBlockKeyBlock, MiddlewareErrorBlock
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.latexwalker import get_default_latex_context_db as get_default_parsing_context_db
from pylatexenc.macrospec import LatexContextDb

from smatlas.errors import UserError
from smatlas.ids import NAME_SUFFIXES
from smatlas.schema import Paper

# Venues the atlas names by a short name. Columns: short name | kind | full name written to BibTeX |
# other phrases that recognise it in a booktitle or journal (the short and full names always do).
# Phrases match whole words, case-insensitively; the first matching row wins, so order matters.
_VENUE_TABLE = """
NLP4ConvAI | workshop | Workshop on NLP for Conversational AI |
WNGT | workshop | Workshop on Neural Generation and Translation |
TACL | journal | Transactions of the Association for Computational Linguistics |
TMLR | journal | Transactions on Machine Learning Research |
JMLR | journal | Journal of Machine Learning Research |
NeurIPS Datasets and Benchmarks | conference | Neural Information Processing Systems Datasets and Benchmarks Track | neural information processing systems track on datasets and benchmarks
NeurIPS | conference | Advances in Neural Information Processing Systems | nips; neural information processing systems
ICLR | conference | International Conference on Learning Representations |
ICML | conference | International Conference on Machine Learning |
NAACL | conference | Conference of the North American Chapter of the Association for Computational Linguistics | naacl-hlt; north american chapter of the association for computational linguistics
EACL | conference | Conference of the European Chapter of the Association for Computational Linguistics | european chapter of the association for computational linguistics
AACL | conference | Conference of the Asia-Pacific Chapter of the Association for Computational Linguistics | aacl-ijcnlp; asia-pacific chapter of the association for computational linguistics
LREC-COLING | conference | Joint International Conference on Computational Linguistics, Language Resources and Evaluation |
COLING | conference | International Conference on Computational Linguistics |
LREC | conference | Language Resources and Evaluation Conference | international conference on language resources and evaluation
EMNLP | conference | Conference on Empirical Methods in Natural Language Processing | empirical methods in natural language processing
CoNLL | conference | Conference on Computational Natural Language Learning |
ACL | conference | Annual Meeting of the Association for Computational Linguistics |
COLM | conference | Conference on Language Modeling |
AAAI | conference | AAAI Conference on Artificial Intelligence |
IJCAI | conference | International Joint Conference on Artificial Intelligence |
AISTATS | conference | International Conference on Artificial Intelligence and Statistics | conference on artificial intelligence and statistics
UAI | conference | Conference on Uncertainty in Artificial Intelligence |
CVPR | conference | IEEE/CVF Conference on Computer Vision and Pattern Recognition | conference on computer vision and pattern recognition
ICCV | conference | IEEE/CVF International Conference on Computer Vision | international conference on computer vision
ECCV | conference | European Conference on Computer Vision |
MLSys | conference | Conference on Machine Learning and Systems | machine learning and systems
KDD | conference | ACM SIGKDD Conference on Knowledge Discovery and Data Mining | sigkdd; knowledge discovery and data mining
WSDM | conference | ACM International Conference on Web Search and Data Mining | web search and data mining
SIGIR | conference | International ACM SIGIR Conference on Research and Development in Information Retrieval | sigir
WWW | conference | ACM Web Conference | the web conference; world wide web conference
"""


@dataclass(frozen=True)
class KnownVenue:
    name: str
    kind: str
    full: str
    pattern: re.Pattern


def _known_venues(table: str) -> list[KnownVenue]:
    venues = []
    for row in table.strip().splitlines():
        name, kind, full, others = (cell.strip() for cell in row.split("|"))
        phrases = [name.lower(), full.lower(), *(p.strip() for p in others.split(";") if p.strip())]
        pattern = re.compile("|".join(rf"(?<![\w-]){re.escape(p)}(?![\w-])" for p in phrases), re.IGNORECASE)
        venues.append(KnownVenue(name, kind, full, pattern))
    return venues


VENUES = _known_venues(_VENUE_TABLE)
FULL_NAME = {v.name: v.full for v in VENUES}
FINDINGS = re.compile(r"^Findings of (ACL|EMNLP|NAACL|EACL|AACL)$")
FINDINGS_FULL = "Findings of the Association for Computational Linguistics: {}"

# Words that mark an author as an organisation ("Gemma Team", "Gemini Team Google", "Google
# DeepMind"); the name is braced so that styles keep it whole instead of reading a family name.
ORGANISATION_WORDS = frozenset(
    "Team Organization Organisation Consortium Collaboration Group Institute Foundation Association "
    "Committee Inc Inc. Ltd Ltd. Lab Labs Project AI Research Workshop Google DeepMind".split()
)
FIELD_WIDTH = len("archivePrefix")

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_SPECIAL_RE = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIAL))
# Character pairs that LaTeX turns into other characters (-- en dash, `` and '' quotes, ?` and !`).
_LIGATURE_RE = re.compile(r"(?<=-)(?=-)|(?<=`)(?=`)|(?<=')(?=')|(?<=[?!])(?=`)")


def latex_escape(text: str) -> str:
    """Text as LaTeX that decodes back to the same text; non-ASCII characters stay as they are."""
    text = _LATEX_SPECIAL_RE.sub(lambda m: _LATEX_SPECIAL[m.group()], text)
    return _LIGATURE_RE.sub("{}", text)


def _decoder() -> tuple[LatexNodes2Text, LatexContextDb]:
    context = get_default_latex_context_db()
    # pylatexenc reads \textasciicircum as the modifier letter; LaTeX prints a plain caret.
    context.add_context_category("smatlas", prepend=True, macros=[MacroTextSpec("textasciicircum", "^")])
    return LatexNodes2Text(latex_context=context, math_mode="text"), get_default_parsing_context_db()


_DECODER, _PARSING_CONTEXT = _decoder()
_LATEX_MARKUP = re.compile(r"[\\{}$~%&#^_]|--|``|''|[?!]`")


def latex_decode(text: str) -> str:
    """LaTeX (accents in any form, braces, escapes) as plain text with single spaces."""
    if _LATEX_MARKUP.search(text):  # the parser is slow: only text with markup goes through it
        text = _DECODER.latex_to_text(text, latex_context=_PARSING_CONTEXT)
    return " ".join(text.split())


def _needs_protection(word: str) -> bool:
    """Acronyms and mixed case ("LLaMA", "GPT-4", "QLoRA", "k-NN") and capitalised names with digits
    ("Phi-3"), but not title-case compounds ("Fine-Tuning")."""
    for part in re.split(r"[-/]", word):
        letters = [c for c in part if c.isalpha()]
        if any(c.isupper() for c in letters[1:]):
            return True
    letters = [c for c in word if c.isalpha()]
    return bool(letters) and letters[0].isupper() and any(c.isdigit() for c in word)


def bibtex_title(title: str) -> str:
    """The title escaped, with the words whose capitals must survive a bibliography style braced."""
    return " ".join(
        "{" + latex_escape(word) + "}" if _needs_protection(word) else latex_escape(word) for word in title.split()
    )


def bibtex_name(name: str) -> str:
    """One author for BibTeX's name parser: "Given Family" as stored, "Family, Jr., Given" when the
    name ends with a generational suffix, and organisations (a name with an organisation word
    anywhere, or holding a comma) braced whole."""
    words = name.split()
    if "," in name or (len(words) > 1 and any(w in ORGANISATION_WORDS for w in words)):
        return "{" + latex_escape(name) + "}"
    words = ["{" + w + "}" if w.lower() == "and" else latex_escape(w) for w in words]
    if len(words) > 2 and re.sub(r"[^a-z]", "", words[-1].lower()) in NAME_SUFFIXES:
        return f"{words[-2]}, {words[-1]}, {' '.join(words[:-2])}"
    return " ".join(words)


def citation_key(paper: Paper) -> str:
    """The paper's citation key: its id, which follows the rule of `smatlas.ids` and never changes."""
    return paper.id


def venue_full_name(paper: Paper) -> str:
    """The venue as a bibliography prints it: "Advances in Neural Information Processing Systems" for
    "NeurIPS"; names the atlas does not abbreviate stay as they are."""
    name = paper.venue.name
    findings = FINDINGS.match(name)
    if findings:
        return FINDINGS_FULL.format(findings.group(1))
    return FULL_NAME.get(name, name)


def _fields(paper: Paper) -> tuple[str, list[tuple[str, str]]]:
    """The entry type and its fields in the fixed order, values already in BibTeX form."""
    fields = [
        ("author", " and ".join(bibtex_name(a) for a in paper.authors)),
        ("title", bibtex_title(paper.title)),
    ]
    kind = paper.venue.kind
    if kind in ("conference", "workshop"):
        entry_type = "inproceedings"
        fields.append(("booktitle", latex_escape(venue_full_name(paper))))
    elif kind == "journal":
        entry_type = "article"
        fields.append(("journal", latex_escape(venue_full_name(paper))))
    else:
        entry_type = "misc"
        if not (paper.arxiv and paper.venue.name == "arXiv"):
            fields.append(("howpublished", latex_escape(paper.venue.name)))
    fields.append(("year", str(paper.year)))
    if paper.doi:
        fields.append(("doi", paper.doi))
    if paper.arxiv:
        fields += [("eprint", paper.arxiv), ("archivePrefix", "arXiv")]
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv}" if paper.arxiv and not paper.doi else None)
    if url:
        fields.append(("url", url))
    return entry_type, fields


def to_bibtex(paper: Paper) -> str:
    """One BibTeX entry for the paper, ending with a newline."""
    entry_type, fields = _fields(paper)
    lines = [f"@{entry_type}{{{citation_key(paper)},"]
    lines += [f"  {key:<{FIELD_WIDTH}} = {{{value}}}," for key, value in fields]
    return "\n".join(lines) + "\n}\n"


def export_bibtex(papers: Iterable[Paper]) -> str:
    """A BibTeX file for the papers, sorted by citation key, entries separated by a blank line."""
    return "\n".join(to_bibtex(p) for p in sorted(papers, key=citation_key))


def _author_list(authors: list[str]) -> str:
    if len(authors) > 3:
        return f"{authors[0]} et al."
    if len(authors) == 1:
        return authors[0]
    return ", ".join(authors[:-1]) + " and " + authors[-1]


def plain_citation(paper: Paper) -> str:
    """A one-line plain-text citation: authors (the first and "et al." beyond three), title, venue,
    year, and the DOI, arXiv id or URL. For example: `Mingjie Sun et al. A Simple and Effective
    Pruning Approach for Large Language Models. In ICLR, 2024. arXiv:2306.11695.`"""
    title = paper.title.strip()
    parts = [_author_list(paper.authors).rstrip(".") + ".", title if title[-1] in ".?!" else title + "."]
    venue = paper.venue
    arxiv_only = venue.kind == "preprint" and venue.name == "arXiv" and paper.arxiv
    if arxiv_only:
        parts.append(f"arXiv:{paper.arxiv}, {paper.year}.")
    elif venue.kind in ("conference", "workshop"):
        parts.append(f"In {venue.name}, {paper.year}.")
    else:
        parts.append(f"{venue.name}, {paper.year}.")
    if paper.doi:
        parts.append(f"doi:{paper.doi}.")
    elif paper.arxiv and not arxiv_only:
        parts.append(f"arXiv:{paper.arxiv}.")
    elif paper.url and not paper.arxiv:
        parts.append(paper.url)
    return " ".join(parts)


# ---- BibTeX in ------------------------------------------------------------------------------------

# Entry types the atlas takes, with the venue kind they imply when the venue is not a known one.
ENTRY_KINDS = {
    "inproceedings": "conference",
    "conference": "conference",
    "incollection": "conference",
    "article": "journal",
    "misc": "preprint",
    "unpublished": "preprint",
    "techreport": "preprint",
    "report": "preprint",
    "online": "preprint",
    "electronic": "preprint",
    "preprint": "preprint",
}
_ARXIV_ID = r"(\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_ARXIV_IN_JOURNAL = re.compile(rf"(?i:arxiv|corr)\b.*?(?:(?i:arxiv):|abs/)\s*{_ARXIV_ID}\b")
_ARXIV_URL = re.compile(rf"(?i:https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/){_ARXIV_ID}(?:\.pdf)?/?$")
_ARXIV_DOI = re.compile(rf"10\.48550/(?i:arxiv)\.{_ARXIV_ID}$")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_LOOKS_LIKE_URL = re.compile(r"[a-z]+://|www\.", re.IGNORECASE)
_URL_MACRO = re.compile(r"^\\url\{(.*)\}$")
_FINDINGS_OF = re.compile(r"\bfindings\b", re.IGNORECASE)
_FINDINGS_CONFERENCE = re.compile(r"\b(ACL|EMNLP|NAACL|EACL|AACL)\b")
_WORKSHOP = re.compile(r"\bworkshops?\b|\bbridge\b", re.IGNORECASE)  # AAAI's bridge programs are workshops
_ARXIV_VENUE = re.compile(r"\barxiv\b|\bcorr\b", re.IGNORECASE)
# BibTeX's predefined month macros, for concatenations such as `jun # "~15"`.
_MONTHS = {
    name[:3].lower(): name
    for name in "January February March April May June July August September October November December".split()
}

# bibtexparser logs each block it cannot parse; the importer reports those itself, with line numbers.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())


def split_names(value: str) -> list[str]:
    """The names of a BibTeX name list, split at each " and " outside braces.

    bibtexparser's own splitter (2.1) drops a LaTeX command that starts a name after " and ":
    "Doe, Jane and \\O ystein Ore" gives "ystein Ore", "... and \\'Eric Roe" gives "Eric Roe"."""
    value = value.strip()
    depth, depths, escaped = 0, [], False
    for c in value:
        depths.append(depth)
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth = max(depth - 1, 0)
    names, start = [], 0
    for match in re.finditer(r"(?<=\S)\s+and\s+(?=\S)", value, re.IGNORECASE):
        if depths[match.start()] == 0:
            names.append(value[start : match.start()])
            start = match.end()
    names.append(value[start:])
    return [n.strip() for n in names if n.strip()]


class _SeparateNames(m.SeparateCoAuthors):
    """bibtexparser's co-author splitting with `split_names` in place of its splitter."""

    def _transform_field_value(self, name: str) -> list[str]:
        return split_names(name)


def parse_stack() -> list:
    """The middleware applied after splitting, named explicitly (defaults change between versions):
    @string macros resolved, enclosing braces and quotes removed, month macros read, names split into
    parts. LaTeX is decoded later, per name and per text field, so braced organisations survive."""
    return [
        m.ResolveStringReferencesMiddleware(allow_inplace_modification=True),
        m.RemoveEnclosingMiddleware(allow_inplace_modification=True),
        m.MonthIntMiddleware(allow_inplace_modification=True),
        _SeparateNames(allow_inplace_modification=True),
        m.SplitNameParts(allow_inplace_modification=True),
    ]


@dataclass(frozen=True)
class Problem:
    """One problem with an entry: the paper field it concerns, the line of the BibTeX field it came
    from, and what to do."""

    field: str  # title, authors, year, venue, arxiv, doi, url, key or entry
    line: int
    message: str


@dataclass
class BibEntry:
    """A BibTeX entry read into the atlas's paper fields (title, authors, year, venue, arxiv, doi, url),
    with every problem found in it. Fields that could not be read are left out."""

    key: str
    line: int  # 1-based line of the entry in its file
    fields: dict
    lines: dict[str, int]  # paper field -> line of the BibTeX field it came from
    problems: list[Problem] = dataclass_field(default_factory=list)
    truncated_authors: bool = False  # the author list ends with "and others"
    notes: list[str] = dataclass_field(default_factory=list)  # what a contributor should know
    duplicate_key_of: int | None = None  # line of an earlier entry with the same key


class _Broken(Exception):
    """One problem with an entry, at the line of the field it is about."""

    def __init__(self, line: int, message: str, field: str = ""):
        super().__init__(message)
        self.line, self.message, self.field = line, message, field


# A venue phrase saying the paper was submitted there, not published: the paper is a preprint.
_NOT_PUBLISHED = re.compile(
    r"\b(withdrawn|rejected|desk[- ]rejected|under review|under submission|in submission|submitted to)\b",
    re.IGNORECASE,
)
_OPENREVIEW = re.compile(r"\bopenreview\b", re.IGNORECASE)


def unpublished(name: str | None) -> str | None:
    """What a venue names when it is a submission rather than a publication ("a withdrawn
    submission" for "OpenReview (ICLR 2026 Conference Withdrawn Submission)"), or None."""
    found = _NOT_PUBLISHED.search(name or "")
    if not found:
        return None
    word = found.group(1).lower()
    if word == "withdrawn":
        return "a withdrawn submission"
    return "a rejected submission" if "reject" in word else "a submission under review"


def resolve_venue(name: str | None, entry_type: str = "misc", arxiv: str | None = None) -> tuple[str, str | None]:
    """A booktitle or journal as the atlas names it, with its kind: "Proceedings of the 2023
    Conference on Empirical Methods in Natural Language Processing" -> ("EMNLP", "conference").
    Rejected, withdrawn and submitted papers are preprints (arXiv when they have an arXiv id).
    Unknown venues keep their name; their kind comes from the entry type (None when unknown)."""
    fallback = ENTRY_KINDS.get(entry_type)
    if not name:
        return ("arXiv", "preprint") if arxiv else ("", fallback)
    if unpublished(name):
        if arxiv:
            return "arXiv", "preprint"
        return ("OpenReview" if _OPENREVIEW.search(name) else "Preprint"), "preprint"
    if _FINDINGS_OF.search(name):
        conference = _FINDINGS_CONFERENCE.search(name)
        return f"Findings of {conference.group(1) if conference else 'ACL'}", "conference"
    for venue in VENUES:
        if venue.kind == "workshop" and venue.pattern.search(name):
            return venue.name, venue.kind
    if _WORKSHOP.search(name):
        return name, "workshop"
    for venue in VENUES:
        if venue.pattern.search(name):
            return venue.name, venue.kind
    if _ARXIV_VENUE.search(name):
        return "arXiv", "preprint"
    return name, fallback


def _split_concatenation(value: str) -> list[str]:
    """The parts of `a # "b" # {c}` at top-level `#` signs."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, c in enumerate(value):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == '"' and depth == 0:
            quoted = not quoted
        elif c == "#" and depth == 0 and not quoted:
            parts.append(value[start:i])
            start = i + 1
    return [p.strip() for p in parts + [value[start:]]]


class _Fields:
    """An entry's fields, looked up case-insensitively, with macros and concatenations resolved."""

    def __init__(self, entry, strings: dict[str, str]):
        self.entry, self.strings = entry, strings
        self.by_key = {}
        for field in entry.fields:
            self.by_key.setdefault(field.key.lower(), field)

    def line(self, key: str) -> int:
        field = self.by_key.get(key)
        return field.start_line + 1 if field is not None and field.start_line is not None else self.entry_line

    @property
    def entry_line(self) -> int:
        return (self.entry.start_line or 0) + 1

    def value(self, key: str):
        field = self.by_key.get(key)
        if field is None:
            return None
        if field.enclosing != "no-enclosing" or not isinstance(field.value, str) or field.value.isdigit():
            return field.value
        out = []  # a bare value bibtexparser left alone: an undefined macro or a concatenation
        for part in _split_concatenation(field.value):
            if len(part) >= 2 and (part[0], part[-1]) in (("{", "}"), ('"', '"')):
                out.append(part[1:-1])
            elif part.isdigit():
                out.append(part)
            elif part.lower() in self.strings:
                out.append(self.strings[part.lower()])
            elif part.lower() in _MONTHS:
                out.append(_MONTHS[part.lower()])
            else:
                raise _Broken(self.line(key), f"{key}: undefined @string macro '{part}'")
        return "".join(out)

    def text(self, key: str) -> str | None:
        """A text field with LaTeX decoded ("{\\'E}cole" -> "École"); None when missing or blank."""
        value = self.value(key)
        if value is None:
            return None
        return latex_decode(str(value)) or None

    def raw(self, key: str) -> str | None:
        """An identifier field (eprint, doi, url) with braces, `\\url{}` and escapes removed, not decoded."""
        value = self.value(key)
        if value is None:
            return None
        value = str(value).strip()
        url = _URL_MACRO.match(value)
        value = url.group(1) if url else value
        value = re.sub(r"\\([_%&#~$])", r"\1", value).replace("{", "").replace("}", "")
        return value.strip() or None


def _names(fields: _Fields) -> tuple[list[str], bool]:
    """The authors given names first, and whether the list ends with "and others".

    Each name's parts are joined before LaTeX is decoded, so that a letter macro and the space that
    ends it (`\\L ukasz`, `Beno\\^\\i t`) make one word, as in LaTeX; a braced organisation is one part
    and stays whole."""
    value = fields.value("author")
    if value is None:
        raise _Broken(fields.entry_line, "author: missing; the atlas needs the authors", "authors")
    names, truncated = [], False
    for parts in value if isinstance(value, list) else []:
        words = [*parts.first, *parts.von, *parts.last, *parts.jr]
        name = latex_decode(" ".join(words))
        if name.lower() == "others":  # "and others": the list is cut short
            truncated = True
        elif name:
            names.append(name)
    if not names:
        raise _Broken(fields.line("author"), "author: no author names", "authors")
    return names, truncated


def _year(fields: _Fields) -> int:
    for key in ("year", "date"):
        value = fields.value(key)
        if value is None:
            continue
        found = re.fullmatch(r"\s*(\d{4})\s*" if key == "year" else r"\s*(\d{4})\b.*", str(value), re.DOTALL)
        if not found:
            raise _Broken(fields.line(key), f"{key}: '{value}' is not a year", "year")
        return int(found.group(1))
    raise _Broken(fields.entry_line, "year: missing; give a year (or a date) field", "year")


def _identifiers(fields: _Fields, problems: list[_Broken]) -> dict[str, tuple[str, int]]:
    """arXiv id, DOI and URL, each with the line it came from; problems with them go to `problems`."""
    found: dict[str, tuple[str, int]] = {}

    def read(key: str) -> str | None:
        try:
            return fields.raw(key)
        except _Broken as exc:
            exc.field = exc.field or {"eprint": "arxiv", "howpublished": "url"}.get(key, key)
            problems.append(exc)
            return None

    eprint, prefix = read("eprint"), read("archiveprefix") or read("eprinttype")
    if eprint and (prefix is None or prefix.lower() == "arxiv"):
        match = re.fullmatch(rf"(?:(?i:arxiv):)?{_ARXIV_ID}", eprint)
        if match:
            found["arxiv"] = (match.group(1), fields.line("eprint"))
        elif prefix:
            problems.append(
                _Broken(fields.line("eprint"), f"eprint: '{eprint}' is not an arXiv id like 2306.11695", "arxiv")
            )
    for key in ("journal", "volume", "note"):
        value = read(key)
        match = _ARXIV_IN_JOURNAL.search(value or "") or re.fullmatch(rf"abs/{_ARXIV_ID}", value or "")
        if match and "arxiv" not in found:
            found["arxiv"] = (match.group(1), fields.line(key))
    doi = read("doi")
    if doi:
        doi = _DOI_PREFIX.sub("", doi)
        arxiv_doi = _ARXIV_DOI.match(doi)
        if arxiv_doi:
            found.setdefault("arxiv", (arxiv_doi.group(1), fields.line("doi")))
        else:
            found["doi"] = (doi, fields.line("doi"))
    howpublished = read("howpublished")
    for key, url in (("url", read("url")), ("howpublished", howpublished)):
        if not url or not _LOOKS_LIKE_URL.match(url):
            continue
        arxiv_url, doi_url = _ARXIV_URL.match(url), _DOI_PREFIX.match(url)
        if arxiv_url:
            found.setdefault("arxiv", (arxiv_url.group(1), fields.line(key)))
        elif doi_url:
            found.setdefault("doi", (_DOI_PREFIX.sub("", url), fields.line(key)))
        else:
            found.setdefault("url", (url, fields.line(key)))
    return found


def _venue(fields: _Fields, entry_type: str, arxiv: str | None, notes: list[str]) -> tuple[str, str, int]:
    if ENTRY_KINDS[entry_type] == "conference":
        key = "booktitle"
    elif ENTRY_KINDS[entry_type] == "journal":
        key = "journal"
    else:
        key = next(
            (k for k in ("howpublished", "journal", "institution", "publisher", "organization") if _is_name(fields, k)),
            "",
        )
    name = fields.text(key) if key else None
    if not name and ENTRY_KINDS[entry_type] != "preprint" and not arxiv:
        raise _Broken(fields.entry_line, f"{key}: missing; the atlas needs the venue of a @{entry_type}", "venue")
    venue, kind = resolve_venue(name, entry_type if name else "misc", arxiv)
    phrase = unpublished(name)
    if phrase and venue == "Preprint" and _OPENREVIEW.search(fields.raw("url") or ""):
        venue = "OpenReview"  # where the submission is public
    if phrase:
        notes.append(f"{key} '{name}' names {phrase}, not a publication: imported as a preprint ({venue})")
    if not name and not venue:
        venue = "Preprint"
    return venue, kind or "preprint", fields.line(key) if key else fields.entry_line


def _is_name(fields: _Fields, key: str) -> bool:
    value = fields.raw(key)
    return bool(value) and not _LOOKS_LIKE_URL.match(value)


def entry_fields(entry, strings: dict[str, str]) -> BibEntry:
    """Map one parsed entry to paper fields, with every problem found, each at the line of the
    BibTeX field it is about. Never raises: what cannot be read is left out of the fields."""
    fields = _Fields(entry, strings)
    entry_type = entry.entry_type.lower()
    problems: list[_Broken] = []
    if entry_type not in ENTRY_KINDS:
        problems.append(
            _Broken(
                fields.entry_line,
                f"@{entry_type}: not a kind of paper the atlas holds; use @article, @inproceedings or @misc",
                "entry",
            )
        )
        entry_type = "misc"
    out: dict = {}
    lines = {"title": fields.line("title"), "authors": fields.line("author"), "year": fields.line("year")}
    notes: list[str] = []

    def attempt(field: str, step):
        try:
            return step()
        except _Broken as exc:
            exc.field = exc.field or field
            problems.append(exc)

    out["title"] = attempt("title", lambda: fields.text("title") or _missing(fields, "title"))
    names, truncated = attempt("authors", lambda: _names(fields)) or (None, False)
    out["authors"] = names
    if truncated:
        problems.append(
            _Broken(
                fields.line("author"),
                "author: ends with 'and others'; the atlas lists every author: write all the names "
                "(the paper's first page or its arXiv page has them)",
                "authors",
            )
        )
    out["year"] = attempt("year", lambda: _year(fields))
    for name, (value, line) in _identifiers(fields, problems).items():
        out[name], lines[name] = value, line
    venue = attempt("venue", lambda: _venue(fields, entry_type, out.get("arxiv"), notes))
    if venue is not None:
        name, kind, lines["venue"] = venue
        out["venue"] = {"name": name, "kind": kind}
    out = {k: v for k, v in out.items() if v is not None}
    found = [Problem(p.field, p.line, p.message) for p in problems]
    return BibEntry(entry.key, fields.entry_line, out, lines, sorted(found, key=lambda p: p.line), truncated, notes)


def _missing(fields: _Fields, key: str):
    raise _Broken(fields.line(key), f"{key}: missing", key)


def _failure(block) -> str:
    if isinstance(block, DuplicateBlockKeyBlock):
        return f"duplicate key '{block.key}'; BibTeX keys must be unique"
    if isinstance(block, MiddlewareErrorBlock):
        return f"cannot read the entry: {block.error}"
    reason = getattr(block.error, "abort_reason", "") or str(block.error) or type(block.error).__name__
    return f"malformed entry: {reason.strip()}"


@dataclass
class BrokenEntry:
    """An entry that cannot be imported, with every problem found in it."""

    line: int
    errors: list[UserError]


def _duplicate_key_entry(block: DuplicateBlockKeyBlock, library) -> object | None:
    """The entry a duplicate-key block holds, run through the same parse stack; None when unreadable."""
    entry = block.ignore_error_block
    if entry is None:
        return None
    single = bibtexparser.Library([*library.strings, entry])
    for middleware in parse_stack():
        single = middleware.transform(single)
    return single.entries[0] if single.entries and not single.failed_blocks else None


def read_entries(text: str, path: str) -> tuple[list[BibEntry], list[BrokenEntry]]:
    """Every entry of a BibTeX text mapped to paper fields (with its problems), and the blocks that
    are not readable entries at all, with positioned errors (`refs.bib:12: reason`). An entry that
    reuses an earlier key is read too, marked with the line of the earlier one: whether that is an
    error depends on whether it is the same paper. `path` is how errors name the file."""
    library = bibtexparser.parse_string(text, parse_stack=parse_stack())
    strings = {s.key.lower(): str(s.value) for s in library.strings}
    first: dict[str, int] = {}
    for entry in library.entries:
        first.setdefault(entry.key, entry.start_line + 1)
    broken, entries = [], []
    for entry in library.entries:
        entries.append(entry_fields(entry, strings))
    for block in library.failed_blocks:
        line, reason = (block.start_line or 0) + 1, _failure(block)
        if isinstance(block, DuplicateBlockKeyBlock) and block.key in first:
            entry = _duplicate_key_entry(block, library)
            if entry is not None:
                read = entry_fields(entry, strings)
                read.duplicate_key_of = first[block.key]
                entries.append(read)
                continue
            reason = reason.replace("; ", f" (also on line {first[block.key]}); ")
        broken.append(BrokenEntry(line, [UserError(path, line, 0, reason)]))
    return sorted(entries, key=lambda e: e.line), sorted(broken, key=lambda b: b.line)


def entry_errors(entry: BibEntry, path: str) -> list[UserError]:
    return sorted(UserError(path, p.line, 0, p.message) for p in entry.problems)


def read_bibtex(text: str, path: str) -> tuple[list[BibEntry], list[BrokenEntry]]:
    """The entries of a BibTeX text that map to paper fields without a problem, and every other entry
    as broken, with all of its problems (see `read_entries`; a reused key is a problem here)."""
    entries, broken = read_entries(text, path)
    good = []
    for entry in entries:
        errors = entry_errors(entry, path)
        if entry.duplicate_key_of is not None:
            errors.append(
                UserError(
                    path,
                    entry.line,
                    0,
                    f"duplicate key '{entry.key}' (also on line {entry.duplicate_key_of}); BibTeX keys must be unique",
                )
            )
        if errors:
            broken.append(BrokenEntry(entry.line, sorted(errors)))
        else:
            good.append(entry)
    return good, sorted(broken, key=lambda b: b.line)
