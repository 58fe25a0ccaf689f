"""A paper's details from its identifier, for `smatlas new --arxiv ID` and `--doi DOI`: arXiv's API
(an Atom feed) for arXiv ids and arXiv DOIs, Crossref's REST API (JSON) for other DOIs.

What comes back is what the atlas records from a public source: title, authors in order, year, and
for a DOI the venue and its kind; plus what helps the contributor check and place the paper (the
abstract page, arXiv's categories, and the journal reference, comment or DOI arXiv holds). The
abstract itself is never copied: the atlas's summary is written by a person.

Fetching is a function from a URL to bytes (`fetch_url` by default), so that tests feed recorded
responses; nothing else here touches the network. Without a network, `fetch_url` raises `Offline`.
"""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from smatlas.bibtex import resolve_venue

ARXIV_API = "https://export.arxiv.org/api/query?id_list={id}&max_results=1"
CROSSREF_API = "https://api.crossref.org/works/{doi}"
ARXIV_ABS = "https://arxiv.org/abs/{id}"
DOI_ORG = "https://doi.org/{doi}"
USER_AGENT = "smatlas-new/0.1 (Small Models Atlas; adds one paper from its identifier)"
TIMEOUT = 20  # seconds
MAX_BYTES = 2 * 1024 * 1024

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_ARXIV_DOI = re.compile(r"10\.48550/arxiv\.(.+)", re.IGNORECASE)
_VERSION = re.compile(r"v\d+$")
_TAG = re.compile(r"<[^<>]+>")
# Crossref work types and the BibTeX entry type whose venue kind they imply.
_CROSSREF_TYPES = {
    "proceedings-article": "inproceedings",
    "journal-article": "article",
    "book-chapter": "incollection",
    "posted-content": "misc",
    "report": "techreport",
}

Fetch = Callable[[str], bytes]


class LookupFailed(Exception):
    """The paper's details could not be had; the message says why and what to do."""


class Offline(LookupFailed):
    """The service could not be reached at all: no network, no name resolution, or no answer."""


class HttpStatus(LookupFailed):
    """The service answered with an HTTP error."""

    def __init__(self, host: str, status: int):
        super().__init__(f"{host} answered HTTP {status}")
        self.host, self.status = host, status


@dataclass
class Found:
    """A paper's details as a public record gives them."""

    source: str  # "arXiv" or "Crossref"
    identifier: str  # the arXiv id or the DOI asked for
    fields: dict  # title, authors, year; for a DOI also venue and kind; arxiv or doi
    abstract_url: str
    categories: list[str] = field(default_factory=list)  # arXiv categories, the primary first
    notes: list[str] = field(default_factory=list)


def fetch_url(url: str, timeout: float = TIMEOUT) -> bytes:
    """GET `url`; `Offline` when the host cannot be reached, `LookupFailed` on an HTTP error."""
    host = urlsplit(url).hostname or url
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read(MAX_BYTES)
    except urllib.error.HTTPError as exc:
        raise HttpStatus(host, exc.code) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Offline(f"cannot reach {host} ({reason})") from None


def _text(element, path: str) -> str:
    found = element.find(path)
    return " ".join((found.text or "").split()) if found is not None else ""


def parse_arxiv(data: bytes, arxiv_id: str) -> Found:
    """The paper of an arXiv API answer (an Atom feed holding one entry)."""
    if data.strip().lower().startswith(b"rate exceeded"):
        raise LookupFailed("arXiv's API answered 'Rate exceeded': wait a few seconds, then try again")
    try:
        feed = ET.fromstring(data)
    except ET.ParseError:
        raise LookupFailed("arXiv's API gave an answer that is not an Atom feed; try again later") from None
    entries = feed.findall(f"{_ATOM}entry")
    if not entries or _text(feed, f"{_OPENSEARCH}totalResults") == "0":
        raise LookupFailed(f"arXiv has no paper {arxiv_id}; check the id")
    entry = entries[0]
    title = _text(entry, f"{_ATOM}title")
    if title == "Error":  # arXiv reports a bad query as an entry titled "Error", with HTTP 200
        raise LookupFailed(f"arXiv refused the id {arxiv_id}: {_text(entry, f'{_ATOM}summary')}")
    found_id = _VERSION.sub("", _text(entry, f"{_ATOM}id").rsplit("/abs/", 1)[-1])
    if found_id != arxiv_id:
        raise LookupFailed(f"arXiv answered with paper {found_id} for {arxiv_id}; check the id")
    authors = [_text(a, f"{_ATOM}name") for a in entry.findall(f"{_ATOM}author")]
    published = _text(entry, f"{_ATOM}published")
    if not title or not authors or not re.match(r"\d{4}-", published):
        raise LookupFailed(f"arXiv's record of {arxiv_id} lacks a title, authors or a date; give them as flags")
    primary = entry.find(f"{_ARXIV}primary_category")
    categories = [primary.get("term")] if primary is not None and primary.get("term") else []
    categories += [c.get("term") for c in entry.findall(f"{_ATOM}category") if c.get("term") not in categories]
    notes = []
    if "$" in title or "\\" in title:
        notes.append("the title holds TeX as arXiv writes it: check it against the paper")
    for label, path in (("journal reference", "journal_ref"), ("comment", "comment")):
        value = _text(entry, f"{_ARXIV}{path}")
        if value:
            notes.append(
                f"arXiv's {label}: '{value}'; if the paper appeared at a venue, give --venue and --year "
                "(the venue's year)"
            )
    doi = _text(entry, f"{_ARXIV}doi")
    if doi:
        notes.append(f"arXiv links a published version, DOI {doi}: to cite it, add --doi {doi}")
    fields = {"title": title, "authors": authors, "year": int(published[:4]), "arxiv": arxiv_id}
    return Found("arXiv", arxiv_id, fields, ARXIV_ABS.format(id=arxiv_id), categories, notes)


def _plain(text: str) -> str:
    """Crossref's JATS or HTML markup (`<i>`, `<sub>`) and entities taken out of a title."""
    return " ".join(html.unescape(_TAG.sub("", text)).split())


def _crossref_name(author: dict) -> str:
    if author.get("name"):  # an organisation
        return _plain(author["name"])
    parts = [author.get("given", ""), author.get("family", ""), author.get("suffix", "")]
    return _plain(" ".join(p for p in parts if p))


def _crossref_year(work: dict) -> int | None:
    for key in ("issued", "published-print", "published-online", "published", "created"):
        parts = (work.get(key) or {}).get("date-parts") or [[None]]
        if parts and parts[0] and isinstance(parts[0][0], int):
            return parts[0][0]
    return None


def parse_crossref(data: bytes, doi: str) -> Found:
    """The paper of a Crossref `works/{doi}` answer."""
    try:
        work = json.loads(data)["message"]
    except (ValueError, KeyError, TypeError):
        raise LookupFailed("Crossref gave an answer that is not a work record; try again later") from None
    titles = [_plain(t) for t in work.get("title") or [] if _plain(t)]
    authors = [name for name in (_crossref_name(a) for a in work.get("author") or []) if name]
    year = _crossref_year(work)
    missing = [name for name, value in (("title", titles), ("authors", authors), ("year", year)) if not value]
    if missing:
        raise LookupFailed(
            f"Crossref's record of {doi} has no {' or '.join(missing)}; give "
            + ", ".join(
                {"title": "--title", "authors": "--author (once per author)", "year": "--year"}[m] for m in missing
            )
        )
    title = titles[0]
    subtitle = [_plain(t) for t in work.get("subtitle") or [] if _plain(t)]
    if subtitle and subtitle[0].lower() not in title.lower():
        title = f"{title}: {subtitle[0]}"
    fields = {"title": title, "authors": authors, "year": year, "doi": work.get("DOI") or doi}
    container = next((_plain(t) for t in work.get("container-title") or [] if _plain(t)), "")
    entry_type = _CROSSREF_TYPES.get(work.get("type", ""), "")
    notes = []
    if container:
        name, kind = resolve_venue(container, entry_type)
        fields["venue"] = name
        if kind:
            fields["kind"] = kind
        if name != container:
            notes.append(f"venue '{container}' recorded as {name}")
    elif work.get("type") == "posted-content":
        fields["venue"], fields["kind"] = _plain(work.get("publisher") or "Preprint"), "preprint"
    return Found("Crossref", doi, fields, DOI_ORG.format(doi=fields["doi"]), [], notes)


def from_arxiv(arxiv_id: str, fetch: Fetch | None = None) -> Found:
    """The details of an arXiv paper from arXiv's API."""
    fetch = fetch or fetch_url
    try:
        data = fetch(ARXIV_API.format(id=quote(arxiv_id, safe="/.")))
    except HttpStatus as exc:
        if exc.status in (429, 503):
            raise LookupFailed(f"arXiv's API is busy (HTTP {exc.status}): wait a minute, then try again") from None
        raise
    return parse_arxiv(data, arxiv_id)


def from_doi(doi: str, fetch: Fetch | None = None) -> Found:
    """The details of a paper from Crossref; DOIs that arXiv issued (10.48550/arXiv.ID) from arXiv."""
    arxiv = _ARXIV_DOI.fullmatch(doi)
    if arxiv:
        return from_arxiv(_VERSION.sub("", arxiv.group(1)), fetch)
    fetch = fetch or fetch_url
    try:
        data = fetch(CROSSREF_API.format(doi=quote(doi, safe="/:;()")))
    except HttpStatus as exc:
        if exc.status == 404:
            raise LookupFailed(
                f"Crossref has no record of DOI {doi}: check it (DataCite DOIs, such as Zenodo's, are not in "
                "Crossref; give the fields as flags)"
            ) from None
        raise
    return parse_crossref(data, doi)
