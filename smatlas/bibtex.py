"""BibTeX out of the atlas: one entry per paper, rendered from our own model in a fixed field order.

The citation key is the paper id (`smatlas.ids`), so the same paper always gets the same key.
Text is escaped for LaTeX but non-ASCII stays UTF-8; capitals that a bibliography style must not
lowercase (acronyms, mixed case, model names with digits) are protected with braces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

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

# Last words that mark an author as an organisation; the name is braced so styles keep it whole.
ORGANISATION_WORDS = frozenset(
    "Team Organization Organisation Consortium Collaboration Group Institute Foundation Association "
    "Committee Inc Inc. Ltd Ltd. Lab Labs Project AI Research".split()
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


def _decoder() -> LatexNodes2Text:
    context = get_default_latex_context_db()
    # pylatexenc reads \textasciicircum as the modifier letter; LaTeX prints a plain caret.
    context.add_context_category("smatlas", prepend=True, macros=[MacroTextSpec("textasciicircum", "^")])
    return LatexNodes2Text(latex_context=context, math_mode="text")


_DECODER = _decoder()


def latex_decode(text: str) -> str:
    """LaTeX (accents in any form, braces, escapes) as plain text with single spaces."""
    return " ".join(_DECODER.latex_to_text(text).split())


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
    name ends with a generational suffix, and organisations (or names holding a comma) braced whole."""
    words = name.split()
    if "," in name or (len(words) > 1 and words[-1] in ORGANISATION_WORDS):
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
