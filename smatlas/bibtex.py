"""Temporary stand-in for the BibTeX module (the real one lands from the bib branch).

Same four names as the real module; just enough for the site to offer citations and downloads.
"""

from __future__ import annotations

from smatlas.schema import Paper

_ENTRY_TYPE = {"conference": "inproceedings", "workshop": "inproceedings", "journal": "article", "preprint": "misc"}


def citation_key(paper: Paper) -> str:
    return paper.id


def _braced(text: str) -> str:
    return "{" + text.replace("{", "").replace("}", "") + "}"


def to_bibtex(paper: Paper) -> str:
    kind = _ENTRY_TYPE[paper.venue.kind]
    fields = [("title", _braced(paper.title)), ("author", _braced(" and ".join(paper.authors)))]
    fields.append(("year", _braced(str(paper.year))))
    if kind == "inproceedings":
        fields.append(("booktitle", _braced(paper.venue.name)))
    elif kind == "article":
        fields.append(("journal", _braced(paper.venue.name)))
    if paper.arxiv:
        fields += [("eprint", _braced(paper.arxiv)), ("archivePrefix", "{arXiv}")]
    if paper.doi:
        fields.append(("doi", _braced(paper.doi)))
    if paper.url:
        fields.append(("url", _braced(paper.url)))
    body = ",\n".join(f"  {name} = {value}" for name, value in fields)
    return f"@{kind}{{{citation_key(paper)},\n{body}\n}}\n"


def export_bibtex(papers) -> str:
    return "\n".join(to_bibtex(p) for p in sorted(papers, key=citation_key))


def plain_citation(paper: Paper) -> str:
    authors = paper.authors
    names = ", ".join(authors[:-1]) + f", and {authors[-1]}" if len(authors) > 2 else " and ".join(authors)
    where = f"arXiv:{paper.arxiv}" if paper.venue.kind == "preprint" and paper.arxiv else paper.venue.name
    tail = f" https://doi.org/{paper.doi}" if paper.doi else ""
    return f"{names}. {paper.year}. {paper.title}. {where}.{tail}"
