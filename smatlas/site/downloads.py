"""The atlas as data files: papers.json, papers.csv, atlas.bib, one .bib per node, and an Atom feed."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

from smatlas import bibtex
from smatlas.kb import KnowledgeBase
from smatlas.schema import Paper

CSV_FIELDS = [
    "id",
    "title",
    "authors",
    "year",
    "venue",
    "venue_kind",
    "arxiv",
    "doi",
    "url",
    "code",
    "taxonomy",
    "tags",
    "reference_impl",
    "added",
    "summary",
]
FEED_ENTRIES = 50
ATOM = "http://www.w3.org/2005/Atom"
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _sorted(papers) -> list[Paper]:
    return sorted(papers, key=lambda p: p.id)


def papers_json(kb: KnowledgeBase) -> str:
    return json.dumps([p.model_dump(mode="json") for p in _sorted(kb.papers.values())], ensure_ascii=False, indent=1)


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas (a cell starting with = + - @ or a control character)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def papers_csv(kb: KnowledgeBase) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for p in _sorted(kb.papers.values()):
        row = [
            p.id,
            p.title,
            "; ".join(p.authors),
            str(p.year),
            p.venue.name,
            p.venue.kind,
            p.arxiv or "",
            p.doi or "",
            p.url or "",
            p.code or "",
            "; ".join(p.taxonomy),
            "; ".join(p.tags),
            p.reference_impl or "",
            p.added.isoformat(),
            " ".join(p.summary.split()),
        ]
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def atlas_bib(kb: KnowledgeBase) -> str:
    return bibtex.export_bibtex(_sorted(kb.papers.values()))


def node_bib(kb: KnowledgeBase, node_id: str, entries: dict[str, str] | None = None) -> str:
    """The BibTeX of a node's subtree: `bibtex.export_bibtex` of its papers. With `entries` (paper id
    -> `bibtex.to_bibtex`), the same text is assembled from entries rendered once per build
    (export_bibtex joins the entries, sorted by citation key, with blank lines)."""
    papers = sorted(kb.papers_in(node_id), key=bibtex.citation_key)
    if entries is None:
        return bibtex.export_bibtex(papers)
    return "\n".join(entries[p.id] for p in papers)


def papers_bib(papers, entries: dict[str, str]) -> str:
    """The BibTeX of some papers, sorted by citation key, from entries rendered once per build."""
    return "\n".join(entries[p.id] for p in sorted(papers, key=bibtex.citation_key))


def _xml_text(text: str) -> str:
    return _XML_ILLEGAL.sub("", " ".join(text.split()))


def atom_feed(kb: KnowledgeBase, newest: list[Paper], site_url: str = "") -> str:
    """An Atom feed of the newest additions. Links are relative to the feed (it sits at the site root)
    unless `site_url` is given; ids are tag: URIs, stable across builds."""
    base = site_url.rstrip("/") + "/" if site_url else ""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    entries = newest[:FEED_ENTRIES]
    updated = (entries[0].added.isoformat() if entries else "1970-01-01") + "T00:00:00Z"

    def sub(parent, tag, text=None, **attrs):
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = _xml_text(text)
        return el

    sub(feed, "title", "Small Models Atlas: new papers")
    sub(feed, "subtitle", "The latest papers added to the Small Models Atlas")
    sub(feed, "id", "tag:small-models-atlas,2026:feed")
    sub(feed, "updated", updated)
    sub(feed, "link", href=f"{base}feed.xml", rel="self")
    sub(feed, "link", href=base or "./", rel="alternate")
    sub(sub(feed, "author"), "name", "Small Models Atlas")
    for p in entries:
        entry = sub(feed, "entry")
        sub(entry, "title", p.title)
        sub(entry, "id", f"tag:small-models-atlas,2026:papers/{p.id}")
        sub(entry, "updated", p.added.isoformat() + "T00:00:00Z")
        sub(entry, "link", href=f"{base}papers/{p.id}/", rel="alternate")
        for name in p.authors[:10]:
            sub(sub(entry, "author"), "name", name)
        for node in p.taxonomy:
            if node in kb.nodes:
                sub(entry, "category", term=node, label=_xml_text(kb.nodes[node].title))
        sub(entry, "summary", p.summary)
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"
