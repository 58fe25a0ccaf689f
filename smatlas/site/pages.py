"""The pages of the site, generated from the knowledge base.

Python prepares plain data (a paper's fields, a node's papers, URLs); the templates in
`site/templates/` decide the markup, with autoescaping on (`render.py`). A page is Markdown holding
only its front matter and its `#` title; its body is one HTML fragment that `assemble` moves to the
page's appendix, so that neither Python-Markdown nor the search plugin parse thousands of table rows
(`hooks.py` puts it back in the finished page). Search uses its own index (`search.py`).
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import quote, quote_plus, urlsplit

import networkx as nx
import yaml

from smatlas import bibtex
from smatlas.errors import UserError
from smatlas.kb import KnowledgeBase
from smatlas.schema import Paper
from smatlas.site import svg
from smatlas.site.config import SiteConfig, read_config
from smatlas.site.impls import (
    ImplResults,
    Zoo,
    docstring_blocks,
    module_docstring,
    module_file,
    module_summary,
    no_impl_reasons,
    read_results,
    read_zoo,
    zoo_names_in,
)
from smatlas.site.markup import arxiv_url, authors_short, doi_url, esc, md_text, rel, safe_url
from smatlas.site.render import markup, render

SITE_NAME = "Small Models Atlas"
SITE_DESCRIPTION = "A curated, verified and runnable map of research on small models in the LLM era"
KIND_TITLES = {"conference": "Conference", "journal": "Journal", "workshop": "Workshop", "preprint": "Preprint"}
RELATION_OUT = {"builds-on": "Builds on", "compares-with": "Compares with", "extends": "Extends"}
RELATION_IN = {"builds-on": "Built on by", "compares-with": "Compared with by", "extends": "Extended by"}
RELATED_LIMIT = 8
NEWEST_HOME = 10
NEWEST_PAGE = 50
LANDMARKS_HOME = 12
TAG_TABLE_LIMIT = 500  # rows on one tag page; beyond that the tag page points to node tables filtered by tag
PAPERS_INDEX_LIMIT = 1000
TITLE_MAX = 50  # an implementation title taken from its docstring is at most this long
YEARS_SHOWN = 12  # the statistics show this many recent years; older papers share one bar
# Words that a title prefix or a code repository may be named but that are not a method's name.
NOT_NAMES = {
    "code", "main", "src", "master", "tree", "llm", "llms", "model", "models", "survey", "overview", "paper",
    "less", "love", "lion", "interpret", "chill", "apricot", "luna", "comet", "mods", "lmops", "deepspeed",
    "chatgpt", "gpt-3", "gpt-4", "llm-based", "transformers", "research", "google-research",
}  # fmt: skip


def node_url(node_id: str) -> str:
    return f"nodes/{node_id}/"


def paper_url(paper_id: str) -> str:
    return f"papers/{paper_id}/"


def tag_url(tag_id: str) -> str:
    return f"tags/{tag_id}/"


def impl_url(impl: str) -> str:
    return f"implementations/{impl}/"


def node_bib(node_id: str) -> str:
    return f"downloads/nodes/{node_id}.bib"


def tag_bib(tag_id: str) -> str:
    return f"downloads/tags/{tag_id}.bib"


class Frag(str):
    """HTML that Markdown need not parse: `assemble` moves it to the page's appendix and leaves a
    slot comment in its place (filled by `hooks.py`)."""


class Head(str):
    """HTML for the page's <head> (its meta tags): `assemble` appends it as the `head` fragment."""


FRAGMENTS_MARK = "<!-- atlas-fragments -->"


def assemble(parts: list[str]) -> str:
    """Join a page's parts: Markdown lines, and `Frag` pieces that become numbered slots. The
    fragments follow FRAGMENTS_MARK at the end of the file, each after its `<!--atlas:N-->` line.
    Fragments cannot forge these markers: every YAML string in them is escaped (`<` is `&lt;`)."""
    body, appendix = [], []
    for part in parts:
        if isinstance(part, Head):
            appendix.append(f"<!--atlas:head-->\n{part}")
        elif isinstance(part, Frag):
            number = sum(1 for a in appendix if not a.startswith("<!--atlas:head")) + 1
            appendix.append(f"<!--atlas:{number}-->\n{part}")
            body += [f"<!--atlas:{number}-->", ""]
        else:
            body.append(part)
    text = "\n".join(body).rstrip("\n") + "\n"
    if appendix:
        text += f"\n{FRAGMENTS_MARK}\n" + "\n".join(appendix) + "\n"
    return text


def front(*hide: str, template: str | None = None, title: str | None = None) -> str:
    """Front matter: the parts of Material's layout to hide, optionally a template and a title.
    Every page stays out of Material's own search index: search has its own (search.py).

    A page whose title comes from YAML sets `title` to the escaped text: Material writes
    `page.title | striptags` into <title>, and striptags would undo the escaping, while it writes
    `page.meta.title` as it is."""
    lines = [f"template: {template}"] if template else []
    if title is not None:
        lines.append(f"title: {json.dumps(esc(title))}")
    lines += ["search:", "  exclude: true"]
    if hide:
        lines += ["hide:", *(f"  - {h}" for h in hide)]
    return "---\n" + "\n".join(lines) + "\n---\n\n"


def page(title: str, body: str, *hide: str, template: str | None = None, meta=None, yaml_title: bool = False) -> str:
    """A whole page: front matter, the Markdown title, the rendered body as one fragment, and its
    meta tags ([attribute, name, content] triples, templates/head.html) for the <head>."""
    top = front(*hide, template=template, title=title if yaml_title else None)
    parts = [top + f"# {md_text(title)}", "", Frag(body)]
    if meta:
        parts.append(Head(render("head.html", "", meta=meta)))
    return assemble(parts)


def link_names(text: str, names: dict[str, str]) -> list[tuple[str, str | None]]:
    """Split `text` into (text, target) segments, where a target is the URL of a paper whose name
    (`names`: lower-case name -> URL) the text mentions; each name is linked once."""
    if not names:
        return [(text, None)]
    pattern = re.compile(
        r"(?<![\w-])(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")(?![\w-])", re.I
    )
    out: list[tuple[str, str | None]] = []
    done: set[str] = set()
    last = 0
    for match in pattern.finditer(text):
        name = match.group(1)
        key = name.lower()
        if key in done or name == name.lower():  # a name is written with a capital: "Wanda", not "wanda"
            continue
        done.add(key)
        out += [(text[last : match.start()], None), (name, names[key])]
        last = match.end()
    out.append((text[last:], None))
    return [(t, u) for t, u in out if t]


def paper_names(paper: Paper) -> set[str]:
    """The short names a paper goes by: a one-word title prefix ("MiniLLM: ...") and its code
    repository's name (".../locuslab/wanda"), common words and organisations' names left out."""
    names = set()
    prefix, colon, _ = paper.title.partition(":")
    if colon and " " not in prefix.strip() and len(prefix.strip()) >= 3:
        names.add(prefix.strip())
    if safe_url(paper.code):
        segment = urlsplit(paper.code).path.rstrip("/").rsplit("/", 1)[-1]
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9]{3,}", segment):
            names.add(segment)
    return {n for n in names if n.lower() not in NOT_NAMES}


@dataclass
class Atlas:
    """The knowledge base plus what the pages derive from it (counts, related papers, results)."""

    kb: KnowledgeBase
    errors: list[UserError] = field(default_factory=list)

    @cached_property
    def config(self) -> SiteConfig:
        return read_config(self.kb.root)

    @cached_property
    def no_impl(self) -> dict[str, str]:
        """Why a node has no reference implementation (reference_impls/no_impl.yaml)."""
        return no_impl_reasons(self.kb.root)

    @cached_property
    def counts(self) -> dict[str, int]:
        return {node: len(self.kb.papers_in(node)) for node in self.kb.nodes}

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The taxonomy tree as a networkx graph; node attributes title, count and description."""
        g = nx.DiGraph()
        for node_id in self.tree_order:
            node = self.kb.nodes[node_id]
            g.add_node(node_id, title=node.title, description=node.description, count=self.counts[node_id])
        for node_id in self.tree_order:
            parent = self.kb.nodes[node_id].parent
            if parent is not None and parent in self.kb.nodes:
                g.add_edge(parent, node_id)
        return g

    @cached_property
    def tree_order(self) -> list[str]:
        return [n for r in self.kb.roots for n in self.kb.subtree(r)]

    @cached_property
    def newest(self) -> list[Paper]:
        return sorted(self.kb.papers.values(), key=lambda p: (p.added, p.year, p.id), reverse=True)

    @cached_property
    def impl_ids(self) -> list[str]:
        wanted = {impl for node in self.kb.nodes.values() for impl in node.reference_impls}
        wanted |= {p.reference_impl for p in self.kb.papers.values() if p.reference_impl}
        return sorted(wanted)

    @cached_property
    def results(self) -> dict[str, ImplResults]:
        out: dict[str, ImplResults] = {}
        for impl in self.impl_ids:
            found, errors = read_results(self.kb.root, impl)
            self.errors.extend(errors)
            if found is not None:
                out[impl] = found
        return out

    @cached_property
    def zoo(self) -> Zoo | None:
        return read_zoo(self.kb.root)

    @cached_property
    def impl_pages(self) -> list[str]:
        """The implementations that get a page: those with a source file or results."""
        return [i for i in self.impl_ids if i in self.results or (self.kb.root / module_file(i)).is_file()]

    @cached_property
    def impl_nodes(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for node_id in self.tree_order:
            for impl in self.kb.nodes[node_id].reference_impls:
                out.setdefault(impl, []).append(node_id)
        return out

    @cached_property
    def findings(self) -> tuple[int, int]:
        """(findings that reproduce, all findings) over every implementation's results."""
        claims = [c for r in self.results.values() for c in r.claims]
        return sum(c.verdict == "reproduces" for c in claims), len(claims)

    @cached_property
    def bibtex_entries(self) -> dict[str, str]:
        """Each paper's BibTeX entry, rendered once per build (paper pages and .bib files share it)."""
        return {pid: bibtex.to_bibtex(p) for pid, p in self.kb.papers.items()}

    @cached_property
    def citation_keys(self) -> dict[str, str]:
        return {pid: bibtex.citation_key(p) for pid, p in self.kb.papers.items()}

    @cached_property
    def tag_masks(self) -> dict[str, int]:
        """Each paper's tags as the bits of an int, so that counting shared tags is one `&`."""
        bit = {tag: 1 << i for i, tag in enumerate(sorted({t for p in self.kb.papers.values() for t in p.tags}))}
        return {pid: sum(bit[t] for t in set(p.tags)) for pid, p in self.kb.papers.items()}

    @cached_property
    def years(self) -> dict[str, int]:
        return {pid: p.year for pid, p in self.kb.papers.items()}

    @cached_property
    def names(self) -> dict[str, str]:
        """Lower-case short name -> paper URL, for names that belong to exactly one paper."""
        owners: dict[str, set[str]] = {}
        for p in self.kb.papers.values():
            for name in paper_names(p):
                owners.setdefault(name.lower(), set()).add(p.id)
        return {name: paper_url(next(iter(ids))) for name, ids in owners.items() if len(ids) == 1}

    def related(self, paper: Paper, limit: int = RELATED_LIMIT) -> list[Paper]:
        """Papers sharing the most taxonomy nodes, then tags, then the closest year."""
        shared: Counter[str] = Counter()
        for node in paper.taxonomy:
            shared.update(self.kb.papers_by_node.get(node, ()))
        shared.pop(paper.id, None)
        mask, masks, years, year = self.tag_masks[paper.id], self.tag_masks, self.years, paper.year

        def key(pid: str):
            return (-shared[pid], -(mask & masks[pid]).bit_count(), abs(years[pid] - year), pid)

        return [self.kb.papers[pid] for pid in heapq.nsmallest(limit, shared, key=key)]

    # ---- plain data for the templates ----------------------------------------------------------
    def paper_item(self, p: Paper) -> dict:
        return {
            "url": paper_url(p.id),
            "title": p.title,
            "authors": authors_short(p.authors),
            "venue": p.venue.name,
            "year": p.year,
            "added": p.added.isoformat(),
            "landmark": p.landmark or "",
        }

    def landmarks(self, papers) -> list[dict]:
        return [self.paper_item(p) for p in sorted(papers, key=lambda p: (p.year, p.title.lower())) if p.landmark]

    def tag_item(self, tag_id: str) -> dict:
        return {"id": tag_id, "title": self.kb.tags[tag_id].title}

    @cached_property
    def row_topics(self) -> dict[str, str]:
        """Each paper's nodes and their ancestors, space-separated (the table's topic filter)."""
        out = {}
        for pid, p in self.kb.papers.items():
            nodes: dict[str, None] = {}
            for n in p.taxonomy:
                if n in self.kb.nodes:
                    nodes.update(dict.fromkeys(self.kb.ancestors(n)))
                    nodes[n] = None
            out[pid] = " ".join(nodes)
        return out

    def table(self, papers: list[Paper], bib: str, bib_name: str, topics: bool = False) -> dict:
        """The rows and filter options of a papers table (macros.html: papers_table)."""
        years = [p.year for p in papers] or [dt.date.today().year]
        tag_ids = sorted({t for p in papers for t in p.tags}, key=lambda t: self.kb.tags[t].title.lower())
        depth = {n: len(self.kb.ancestors(n)) for n in self.kb.nodes}
        rows = [
            {
                "url": paper_url(p.id),
                "title": p.title,
                "authors": authors_short(p.authors, 2),
                "year": p.year,
                "venue": p.venue.name,
                "kind": p.venue.kind,
                "code": safe_url(p.code),
                "tags": [self.tag_item(t) for t in p.tags],
                "tag_ids": " ".join(p.tags),
                "topics": self.row_topics[p.id],
                "key": self.citation_keys[p.id],
                "models": " ".join((p.models.small + p.models.large) if p.models else []),
                "landmark": bool(p.landmark),
            }
            for p in papers
        ]
        present = {n for p in papers for n in self.row_topics[p.id].split()}
        return {
            "rows": rows,
            "lo": min(years),
            "hi": max(years),
            "kinds": [(k, KIND_TITLES[k]) for k in KIND_TITLES if any(p.venue.kind == k for p in papers)],
            "tags": [(t, self.kb.tags[t].title) for t in tag_ids],
            "topics": [(n, self.kb.nodes[n].title, depth[n]) for n in self.tree_order if n in present]
            if topics
            else [],
            "bib": bib,
            "bib_name": bib_name,
        }

    def meta(self, here: str, title: str, description: str, kind: str = "website", extra=()) -> list:
        """OpenGraph tags (and any `extra` tags) for a page."""
        tags = [
            ["property", "og:site_name", SITE_NAME],
            ["property", "og:title", title],
            ["property", "og:description", " ".join(description.split())[:300]],
            ["property", "og:type", kind],
        ]
        if self.config.site_base:
            tags.append(["property", "og:url", self.config.absolute(here)])
        return tags + list(extra)

    # ---- pages ---------------------------------------------------------------------------------
    def home(self) -> str:
        kb = self.kb
        with_code = sum(1 for p in kb.papers.values() if safe_url(p.code))
        share = f"{with_code / len(kb.papers):.0%}" if kb.papers else "0%"
        reproduced, findings = self.findings
        counts = [
            (len(kb.papers), "papers", "papers/"),
            (len(kb.nodes), "topics", "nodes/"),
            (len(kb.tags), "tags", "tags/"),
            (share, "with code", "stats/"),
            (len(self.impl_pages), "reference implementations", "implementations/"),
        ]
        if findings:
            counts.append((f"{reproduced} of {findings}", "paper findings reproduce at tiny scale", "implementations/"))
        landmarks = [p for p in kb.papers.values() if p.landmark]
        data = {
            "counts": counts,
            "repo_url": self.config.repo_url,
            "diagram": markup(svg.tree_diagram(self.graph, lambda n: rel("", node_url(n)))),
            "landmarks": self.landmarks(landmarks)[:LANDMARKS_HOME],
            "newest": [self.paper_item(p) for p in self.newest[:NEWEST_HOME]],
        }
        body = render("home.html", "", h=data)
        return page(SITE_NAME, body, "navigation", "toc", meta=self.meta("", SITE_NAME, SITE_DESCRIPTION))

    def node_tree(self, node_id: str) -> dict:
        node = self.kb.nodes[node_id]
        return {
            "url": node_url(node_id),
            "title": node.title,
            "count": self.counts[node_id],
            "description": link_names(node.description, self.names),
            "children": [self.node_tree(k) for k in self.kb.children.get(node_id, [])],
        }

    def nodes_index(self) -> str:
        here = "nodes/"
        body = render(
            "nodes_index.html",
            here,
            diagram=markup(svg.tree_diagram(self.graph, lambda n: rel(here, node_url(n)))),
            tree=[self.node_tree(r) for r in self.kb.roots],
        )
        return page("Taxonomy", body, "toc", meta=self.meta(here, "Taxonomy", "The topics of the atlas"))

    def impl_summary(self, impl: str) -> dict:
        found = self.results.get(impl)
        doc_title = module_summary(self.kb.root, impl).split(":")[0].strip().rstrip(".")
        if len(doc_title) > TITLE_MAX:  # a sentence, not a name: the id reads better in the nav
            doc_title = impl.replace("-", " ").capitalize()
        title = (found.title if found and found.title else "") or doc_title or impl
        return {
            "id": impl,
            "url": impl_url(impl) if impl in self.impl_pages else None,
            "title": title,
            "shows": found.shows if found else module_summary(self.kb.root, impl),
            "findings": len(found.claims) if found else 0,
            "reproduced": found.reproduced if found else 0,
            "nodes": [{"url": node_url(n), "title": self.kb.nodes[n].title} for n in self.impl_nodes.get(impl, [])],
        }

    def node_page(self, node_id: str) -> str:
        here = node_url(node_id)
        kb = self.kb
        node = kb.nodes[node_id]
        papers = kb.papers_in(node_id)
        kids = kb.children.get(node_id, [])
        data = {
            "trail": [{"url": node_url(a), "title": kb.nodes[a].title} for a in kb.ancestors(node_id)],
            "description": link_names(node.description, self.names),
            "survey_section": node.survey_section or "",
            "landmarks": self.landmarks(papers),
            "table": self.table(papers, node_bib(node_id), f"{node_id}.bib"),
            "impls": [self.impl_summary(i) for i in node.reference_impls],
            "no_impl": self.no_impl.get(node_id, ""),
            "children": [
                {
                    "url": node_url(k),
                    "title": kb.nodes[k].title,
                    "count": self.counts[k],
                    "description": link_names(kb.nodes[k].description, self.names),
                }
                for k in kids
            ],
        }
        body = render("node.html", here, n=data)
        return page(node.title, body, "toc", yaml_title=True, meta=self.meta(here, node.title, node.description))

    def paper_links(self, paper: Paper) -> list[tuple[str, str]]:
        """(label, URL) of the paper's abstract page, PDF, DOI, code, weights and scholarly search pages."""
        links = []
        if paper.arxiv:
            links += [
                ("Abstract", arxiv_url(paper.arxiv)),
                ("PDF", f"https://arxiv.org/pdf/{quote(paper.arxiv, safe='/.')}"),
            ]
        elif safe_url(paper.url):
            links.append(("Abstract", paper.url))
        if paper.doi:
            links.append((f"DOI {paper.doi}", doi_url(paper.doi)))
        if paper.arxiv and safe_url(paper.url):
            links.append(("Web page", paper.url))
        if safe_url(paper.code):
            links.append(("Code", paper.code))
        if safe_url(paper.weights):
            links.append(("Weights", paper.weights))
        if paper.arxiv:
            s2 = f"https://www.semanticscholar.org/arxiv/{quote(paper.arxiv, safe='/.')}"
        else:
            s2 = f"https://www.semanticscholar.org/search?q={quote_plus(paper.title)}"
        links += [
            ("Semantic Scholar", s2),
            ("Google Scholar", f"https://scholar.google.com/scholar?q={quote_plus(chr(34) + paper.title + chr(34))}"),
        ]
        return [(label, href) for label, href in links if safe_url(href)]

    def citation_meta(self, paper: Paper) -> list:
        """Highwire Press tags, which Zotero and Google Scholar read."""
        tags = [["name", "citation_title", paper.title]]
        tags += [["name", "citation_author", a] for a in paper.authors]
        tags.append(["name", "citation_publication_date", str(paper.year)])
        venue = bibtex.venue_full_name(paper) or paper.venue.name
        if paper.venue.kind == "journal":
            tags.append(["name", "citation_journal_title", venue])
        elif paper.venue.kind in ("conference", "workshop"):
            tags.append(["name", "citation_conference_title", venue])
        if paper.doi:
            tags.append(["name", "citation_doi", paper.doi])
        if paper.arxiv:
            tags.append(["name", "citation_arxiv_id", paper.arxiv])
            tags.append(["name", "citation_pdf_url", f"https://arxiv.org/pdf/{paper.arxiv}"])
            tags.append(["name", "citation_abstract_html_url", arxiv_url(paper.arxiv)])
        elif safe_url(paper.url):
            tags.append(["name", "citation_abstract_html_url", paper.url])
        return tags

    def paper_data(self, paper: Paper) -> dict:
        kb = self.kb
        source = kb.paths.get(paper.id, f"papers/{paper.id}.yaml")
        shown = 12
        authors = paper.authors
        folded = len(authors) > shown + 2
        relations = [(RELATION_OUT[r.type], r.paper) for r in paper.relations if r.paper in kb.papers]
        relations += [(RELATION_IN[t], src) for t, src in kb.cited_by.get(paper.id, []) if src in kb.papers]
        listed = {pid for _, pid in relations}
        related = [p for p in self.related(paper, RELATED_LIMIT + len(listed)) if p.id not in listed][:RELATED_LIMIT]
        impl = None
        if paper.reference_impl:
            summary = self.impl_summary(paper.reference_impl)
            impl = {"id": paper.reference_impl, "url": summary["url"], "title": summary["title"]}
        return {
            "authors": ", ".join(authors),
            "authors_shown": ", ".join(authors[:shown]) if folded else "",
            "authors_more": len(authors) - shown,
            "authors_rest": ", ".join(authors[shown:]),
            "venue": paper.venue.name,
            "year": paper.year,
            "kind": KIND_TITLES[paper.venue.kind],
            "landmark": paper.landmark or "",
            "links": self.paper_links(paper),
            "summary": paper.summary,
            "topics": [
                {
                    "url": node_url(n),
                    "title": kb.nodes[n].title,
                    "trail": " › ".join(kb.nodes[a].title for a in kb.ancestors(n)),
                }
                for n in paper.taxonomy
                if n in kb.nodes
            ],
            "tags": [self.tag_item(t) for t in paper.tags if t in kb.tags],
            "small_models": ", ".join(paper.models.small) if paper.models else "",
            "large_models": ", ".join(paper.models.large) if paper.models else "",
            "weights": safe_url(paper.weights),
            "impl": impl,
            "added": paper.added.isoformat(),
            "source": source,
            "source_url": self.config.source_url(source),
            "edit_url": self.config.edit_url(source),
            "report_url": self.config.correction_url(paper.id),
            "relations": [(label, self.paper_item(kb.papers[pid])) for label, pid in relations],
            "related": [self.paper_item(p) for p in related],
            "citations": [
                ("BibTeX", self.bibtex_entries[paper.id].strip()),
                ("Plain text", bibtex.plain_citation(paper).strip()),
            ],
        }

    def paper_page(self, paper: Paper) -> str:
        here = paper_url(paper.id)
        body = render("paper.html", here, p=self.paper_data(paper))
        meta = self.meta(here, paper.title, paper.summary, "article", self.citation_meta(paper))
        return page(paper.title, body, "navigation", "toc", template="paper.html", meta=meta, yaml_title=True)

    def impl_data(self, impl: str) -> dict:
        kb = self.kb
        found = self.results.get(impl)
        summary = self.impl_summary(impl)
        source = module_file(impl)
        followed = [p for p in kb.papers.values() if p.reference_impl == impl]
        if found:
            followed += [kb.papers[c.paper] for c in found.claims if c.paper in kb.papers]
        followed = sorted({p.id: p for p in followed}.values(), key=lambda p: (p.year, p.id))
        data = {
            "id": impl,
            "nodes": summary["nodes"],
            "rule": docstring_blocks(module_docstring(kb.root, impl)),
            "papers": [self.paper_item(p) for p in followed],
            "source": source,
            "source_url": self.config.source_url(source),
            "results_path": f"reference_impls/results/{impl}.json",
            "has_results": found is not None,
            "findings": [],
            "reproduced": 0,
            "seeds": [],
            "checks": [],
            "checks_holding": 0,
            "plots": [],
            "metrics": [],
            "zoo": [],
            "zoo_names": [],
            "corpus": "",
            "corpus_bytes": "",
            "seconds": None,
            "versions": "",
        }
        if found is None:
            return data
        findings = []
        for c in found.claims:
            paper = kb.papers.get(c.paper) if c.paper else None
            item = dict(vars(c))
            item["paper"] = (
                {"url": paper_url(paper.id), "short": f"{paper.authors[0].split()[-1]} et al. {paper.year}"}
                if paper
                else None
            )
            findings.append(item)
        data.update(
            findings=findings,
            reproduced=found.reproduced,
            seeds=found.seeds,
            checks=found.checks,
            checks_holding=sum(c.holds for c in found.checks),
            plots=[
                (markup(svg.line_chart(s.lines, s.title, s.xlabel, s.ylabel, legend=found.label)), s.title)
                for s in found.series
            ],
            metrics=[(found.label(k), k, v, found.metric_std.get(k)) for k, v in found.metrics.items()],
            seconds=found.seconds,
            versions=", ".join(f"{k} {v}" for k, v in found.versions.items()),
        )
        zoo = self.zoo
        names = zoo_names_in(found.config, zoo.models if zoo else None)
        data["zoo_names"] = names
        if zoo:
            data["corpus"] = zoo.corpus_description
            data["corpus_bytes"] = f"{zoo.corpus_bytes:,}" if zoo.corpus_bytes else ""
            for name in names:
                z = zoo.models[name]
                shape = ", ".join(
                    f"{v} {label}"
                    for v, label in ((z.layers, "layers"), (z.d_model, "wide"), (z.heads, "heads"), (z.mlp, "MLP"))
                    if v
                )
                training = ", ".join(
                    f"{label} {v}"
                    for label, v in (("steps", z.steps), ("batch", z.batch), ("sequence", z.seq_len), ("lr", z.lr))
                    if v
                )
                data["zoo"].append(
                    {
                        "name": name,
                        "params": f"{z.params:,}",
                        "shape": shape,
                        "training": training,
                        "ppl": f"{z.heldout_ppl:.2f}" if z.heldout_ppl is not None else "",
                    }
                )
        return data

    def impl_page(self, impl: str) -> str:
        here = impl_url(impl)
        title = self.impl_summary(impl)["title"]
        body = render("impl.html", here, i=self.impl_data(impl))
        shows = self.impl_summary(impl)["shows"]
        return page(title, body, "toc", yaml_title=True, meta=self.meta(here, title, shows or title))

    def impls_index(self) -> str:
        here = "implementations/"
        reproduced, findings = self.findings
        impls = [self.impl_summary(i) for i in self.impl_pages]
        body = render("impls_index.html", here, impls=impls, reproduced=reproduced, findings=findings)
        title = "Reference implementations"
        return page(title, body, "toc", meta=self.meta(here, title, "Runnable reference implementations"))

    def tags_index(self) -> str:
        here = "tags/"
        tags = [
            {
                "url": tag_url(tid),
                "title": t.title,
                "count": len(self.kb.papers_by_tag.get(tid, [])),
                "description": t.description,
            }
            for tid, t in sorted(self.kb.tags.items(), key=lambda kv: kv[1].title.lower())
        ]
        return page(
            "Tags", render("tags_index.html", here, tags=tags), meta=self.meta(here, "Tags", "The tags of the atlas")
        )

    def tag_papers(self, tag_id: str) -> list[Paper]:
        kb = self.kb
        return sorted(
            (kb.papers[i] for i in kb.papers_by_tag.get(tag_id, [])), key=lambda p: (-p.year, p.title.lower(), p.id)
        )

    def tag_page(self, tag_id: str) -> str:
        here = tag_url(tag_id)
        kb = self.kb
        tag = kb.tags[tag_id]
        papers = self.tag_papers(tag_id)
        per_node = Counter(n for p in papers for n in p.taxonomy)
        data = {
            "id": tag_id,
            "description": tag.description,
            "by_topic": [
                {"url": node_url(n), "title": kb.nodes[n].title, "count": per_node[n]}
                for n in self.tree_order
                if per_node[n]
            ],
            "total": len(papers),
            "table": self.table(papers[:TAG_TABLE_LIMIT], tag_bib(tag_id), f"{tag_id}.bib", topics=True),
        }
        body = render("tag.html", here, t=data)
        return page(tag.title, body, "toc", yaml_title=True, meta=self.meta(here, tag.title, tag.description))

    def papers_index(self) -> str:
        here = "papers/"
        papers = sorted(self.kb.papers.values(), key=lambda p: (-p.year, p.title.lower(), p.id))
        table = self.table(papers[:PAPERS_INDEX_LIMIT], "downloads/atlas.bib", "atlas.bib", topics=True)
        body = render("papers_index.html", here, total=len(papers), table=table)
        return page("Papers", body, "toc", meta=self.meta(here, "Papers", "Every paper of the atlas"))

    def stats_page(self) -> str:
        kb = self.kb
        papers = list(kb.papers.values())
        years = sorted({p.year for p in papers})
        first = max(years[0], years[-1] - YEARS_SHOWN + 1) if years else 0
        span = list(range(first, years[-1] + 1)) if years else []

        def bucket(year: int) -> str:
            return str(year) if year >= first else "earlier"

        buckets = (["earlier"] if years and years[0] < first else []) + [str(y) for y in span]
        branches = list(kb.roots)
        per = {b: Counter() for b in branches}
        for p in papers:
            for b in {kb.branch(n) for n in p.taxonomy if n in kb.nodes}:
                per[b][bucket(p.year)] += 1
        year_chart = svg.stacked_bars(
            buckets,
            {kb.nodes[b].title: [per[b][y] for y in buckets] for b in branches},
            "Papers per year and branch",
            "papers",
        )
        venues = Counter(p.venue.name for p in papers).most_common(15)
        kinds = Counter(p.venue.kind for p in papers)
        code_rows = []
        for b in branches:
            members = [p for p in papers if any(kb.branch(n) == b for n in p.taxonomy if n in kb.nodes)]
            if members:
                code_rows.append((kb.nodes[b].title, sum(1 for p in members if safe_url(p.code)) / len(members)))
        with_code = sum(1 for p in papers if safe_url(p.code))
        code_rows.append(("All papers", with_code / len(papers) if papers else 0.0))
        in_bucket = Counter(bucket(p.year) for p in papers)
        coded = Counter(bucket(p.year) for p in papers if safe_url(p.code))
        code_years = [(f"{b} ({in_bucket[b]})", coded[b] / in_bucket[b]) for b in buckets if in_bucket[b]]
        percent = lambda v: f"{v:.0%}"  # noqa: E731
        sections = [
            ("papers-per-year-and-branch", "Papers per year and branch",
             [(markup(year_chart), "Papers per year; each colour is a branch of the taxonomy")], ""),
            ("venues", "Venues", [
                (markup(svg.horizontal_bars(venues, "The 15 most frequent venues")), "The 15 most frequent venues"),
                (markup(svg.horizontal_bars([(KIND_TITLES[k], kinds[k]) for k in KIND_TITLES if kinds[k]], "Papers per venue kind")),
                 "Papers per venue kind"),
            ], ""),
            ("code-availability", "Code availability", [
                (markup(svg.horizontal_bars(code_rows, "Share of papers with code", fmt=percent, limit=1.0)),
                 "Share of papers with code, per branch"),
                (markup(svg.horizontal_bars(code_years, "Share with code per year (papers in brackets)", fmt=percent, limit=1.0)),
                 "Share of papers with code per year (number of papers in brackets)"),
            ], f"{with_code} of {len(papers)} papers link to their code."),
        ]  # fmt: skip
        reproduced, findings = self.findings
        data = {
            "papers": len(papers),
            "nodes": len(kb.nodes),
            "reproduced": reproduced,
            "findings": findings,
            "sections": sections,
        }
        body = render("stats.html", "stats/", s=data)
        return page("Statistics", body, "navigation", meta=self.meta("stats/", "Statistics", "The atlas in numbers"))

    def downloads_page(self, sizes: dict[str, int]) -> str:
        here = "downloads/"

        def size(path: str) -> str:
            n = sizes.get(path, 0)
            return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{max(1, round(n / 1e3))} kB"

        files = [
            ("downloads/papers.json", "every paper with all its fields, as a JSON list"),
            ("downloads/papers.csv", "one row per paper; list fields joined by semicolons"),
            ("downloads/atlas.bib", "BibTeX for the whole atlas"),
            ("downloads/schema.json", "the JSON Schema of a paper file"),
            ("downloads/CITATION.cff", "how to cite the atlas (Citation File Format)"),
            ("feed.xml", "an Atom feed of the newest additions"),
        ]
        rows = [(path, path.rsplit("/", 1)[-1], size(path), what) for path, what in files if path in sizes]
        nodes = [
            {"id": n, "bib": node_bib(n), "title": self.kb.nodes[n].title, "count": self.counts[n]}
            for n in self.tree_order
        ]
        body = render("downloads.html", here, files=rows, nodes=nodes)
        return page("Downloads", body, "navigation", meta=self.meta(here, "Downloads", "The atlas as data"))

    def whats_new(self) -> str:
        here = "new/"
        groups: dict[str, list[dict]] = {}
        shown = self.newest[:NEWEST_PAGE]
        for p in shown:
            groups.setdefault(p.added.isoformat(), []).append(self.paper_item(p))
        body = render("new.html", here, groups=list(groups.items()), shown=len(shown))
        return page("What's new", body, "navigation", meta=self.meta(here, "What's new", "The newest additions"))

    def contribute(self) -> str:
        example = """\
# yaml-language-server: $schema=schema.json
id: sun2024simple
title: A Simple and Effective Pruning Approach for Large Language Models
authors:
  - Mingjie Sun
  - Zhuang Liu
  - Anna Bair
  - J. Zico Kolter
year: 2024
venue:
  name: ICLR
  kind: conference
arxiv: '2306.11695'
code: https://github.com/locuslab/wanda
taxonomy:
  - pruning
tags:
  - method
summary: >-
  What the paper does and which role the small and the large model play, in your own words
  (80 to 700 characters).
added: 2026-11-23"""
        repo = self.config.repo_url
        body = render(
            "contribute.html",
            "contribute/",
            example=example,
            repo_url=repo,
            issues_url=f"{repo.rstrip('/')}/issues/new/choose" if repo else "",
        )
        return page(
            "Contribute", body, "navigation", meta=self.meta("contribute/", "Contribute", "Add or correct a paper")
        )

    @cached_property
    def cff_text(self) -> str:
        try:
            return (self.kb.root / "CITATION.cff").read_text(encoding="utf-8")
        except OSError:
            from smatlas.site.config import PACKAGE_ROOT

            try:
                return (PACKAGE_ROOT / "CITATION.cff").read_text(encoding="utf-8")
            except OSError:
                return ""

    def cite_page(self) -> str:
        here = "cite/"
        cff = yaml.safe_load(self.cff_text) if self.cff_text else {}
        cff = cff if isinstance(cff, dict) else {}
        data = {
            "message": " ".join(str(cff.get("message") or "").split()),
            "atlas_bibtex": atlas_bibtex(cff, self.config),
            "cff": self.cff_text,
            "cff_url": self.config.source_url("CITATION.cff"),
            "survey_bibtex": "",
            "survey_title": "",
            "survey_url": "",
            "licences": [],
        }
        survey = next(iter(cff.get("references") or []), None)
        if isinstance(survey, dict):
            arxiv = next(
                (str(i.get("value", "")).removeprefix("arXiv:") for i in survey.get("identifiers") or []
                 if "arxiv" in str(i.get("value", "")).lower()),
                "",
            )  # fmt: skip
            paper = next((p for p in self.kb.papers.values() if arxiv and p.arxiv == arxiv), None)
            data["survey_title"] = str(survey.get("title") or "")
            if paper:
                data["survey_bibtex"] = self.bibtex_entries[paper.id].strip()
                data["survey_url"] = paper_url(paper.id)
            else:
                data["survey_bibtex"] = reference_bibtex(survey, arxiv)
        for what, key in (
            ("Code", self.config.code_license),
            ("Content (papers, summaries, taxonomy)", self.config.content_license),
        ):
            if key:
                name, href = self.config.licence(key)
                data["licences"].append((what, name, href))
        body = render("cite.html", here, c=data)
        return page(
            "Cite the atlas", body, "navigation", meta=self.meta(here, "Cite the atlas", "How to cite the atlas")
        )

    @cached_property
    def search_records(self) -> dict[str, dict]:
        """What the search index holds per page (search.py): papers, topics, tags, implementations."""
        kb = self.kb
        records = {}
        for p in kb.papers.values():
            records[paper_url(p.id)] = {
                "title": p.title,
                "names": " ".join(sorted(paper_names(p))),
                "models": ", ".join((p.models.small + p.models.large) if p.models else []),
                "authors": ", ".join(p.authors),
                "text": p.summary,
                "extra": " ".join(
                    [p.venue.name, str(p.year)] + [kb.tags[t].title for t in p.tags if t in kb.tags]
                    + [kb.nodes[n].title for n in p.taxonomy if n in kb.nodes]
                ),
                "line": f"{authors_short(p.authors)} · {p.venue.name} {p.year}",
                "kind": "paper",
            }  # fmt: skip
        for nid, node in kb.nodes.items():
            records[node_url(nid)] = {
                "title": node.title, "names": "", "models": "", "authors": "", "text": node.description,
                "extra": "", "line": f"Topic · {self.counts[nid]} papers", "kind": "topic",
            }  # fmt: skip
        for tid, tag in kb.tags.items():
            records[tag_url(tid)] = {
                "title": tag.title, "names": "", "models": "", "authors": "", "text": tag.description,
                "extra": "", "line": f"Tag · {len(kb.papers_by_tag.get(tid, []))} papers", "kind": "tag",
            }  # fmt: skip
        for impl in self.impl_pages:
            s = self.impl_summary(impl)
            records[impl_url(impl)] = {
                "title": s["title"], "names": impl, "models": "", "authors": "", "text": s["shows"],
                "extra": "", "line": "Reference implementation", "kind": "implementation",
            }  # fmt: skip
        return records


def _bib_value(text: str) -> str:
    return bibtex.latex_escape(" ".join(str(text).split()))


def atlas_bibtex(cff: dict, config: SiteConfig) -> str:
    """The atlas's own BibTeX entry, from CITATION.cff."""
    if not cff:
        return ""
    names = []
    for a in cff.get("authors") or []:
        if isinstance(a, dict) and a.get("name"):
            names.append("{" + _bib_value(a["name"]) + "}")
        elif isinstance(a, dict) and a.get("family-names"):
            names.append(_bib_value(f"{a['family-names']}, {a.get('given-names', '')}".strip(", ")))
    fields = [("title", "{" + _bib_value(cff.get("title", "")) + "}"), ("author", " and ".join(names))]
    if cff.get("version"):
        fields.append(("version", _bib_value(cff["version"])))
    if cff.get("date-released"):
        fields.append(("year", str(cff["date-released"])[:4]))
    if config.repo_url:
        fields.append(("howpublished", "\\url{" + config.repo_url + "}"))
    if config.site_url:
        fields.append(("url", config.site_url))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields if v)
    return f"@misc{{small_models_atlas,\n{body}\n}}"


def reference_bibtex(ref: dict, arxiv: str) -> str:
    """A BibTeX entry for a CITATION.cff reference (the survey) that is not an atlas paper."""
    authors = " and ".join(
        _bib_value(f"{a.get('family-names', '')}, {a.get('given-names', '')}".strip(", "))
        for a in ref.get("authors") or []
        if isinstance(a, dict)
    )
    first = next(iter(ref.get("authors") or []), {}) or {}
    key = re.sub(r"[^a-z]", "", str(first.get("family-names", "ref")).lower()) + str(ref.get("year", ""))
    fields = [
        ("title", "{" + _bib_value(ref.get("title", "")) + "}"),
        ("author", authors),
        ("year", str(ref.get("year", ""))),
    ]
    if arxiv:
        fields += [("eprint", arxiv), ("archivePrefix", "arXiv")]
    if ref.get("url"):
        fields.append(("url", str(ref["url"])))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields if v)
    return f"@misc{{{key},\n{body}\n}}"
