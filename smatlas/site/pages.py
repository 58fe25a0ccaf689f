"""The pages of the site as Markdown, generated from the knowledge base.

Each page is Markdown whose YAML-derived parts are raw HTML built from escaped strings (see
`markup`). Sections that would bloat the search index (tables, BibTeX, summaries, lists of other
papers) carry `data-search-exclude`, so that the index holds titles, authors, venues and topic
descriptions only and stays small at 10,000 papers.
"""

from __future__ import annotations

import datetime as dt
import heapq
import html
import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from smatlas import bibtex
from smatlas.errors import UserError
from smatlas.kb import KnowledgeBase
from smatlas.schema import Paper
from smatlas.site import svg
from smatlas.site.impls import ImplResults, no_impl_reasons, read_results
from smatlas.site.markup import (
    arxiv_url,
    authors_short,
    doi_url,
    esc,
    ext_link,
    md_text,
    rel,
    safe_url,
)

SITE_NAME = "Small Models Atlas"
KIND_TITLES = {"conference": "Conference", "journal": "Journal", "workshop": "Workshop", "preprint": "Preprint"}
RELATION_OUT = {"builds-on": "Builds on", "compares-with": "Compares with", "extends": "Extends"}
RELATION_IN = {"builds-on": "Built on by", "compares-with": "Compared with by", "extends": "Extended by"}
RELATED_LIMIT = 8
NEWEST_HOME = 10
NEWEST_PAGE = 50
TAG_TABLE_LIMIT = 500  # rows on one tag page; beyond that the tag page points to node tables filtered by tag
PAPERS_INDEX_LIMIT = 1000
YEARS_SHOWN = 12  # the statistics show this many recent years; older papers share one bar
EXCLUDE = "{ data-search-exclude }"


def node_url(node_id: str) -> str:
    return f"nodes/{node_id}/"


def paper_url(paper_id: str) -> str:
    return f"papers/{paper_id}/"


def tag_url(tag_id: str) -> str:
    return f"tags/{tag_id}/"


def node_bib(node_id: str) -> str:
    return f"downloads/nodes/{node_id}.bib"


class Frag(str):
    """HTML that the search index must not see and Markdown need not parse: `assemble` moves it to
    the page's appendix and leaves a slot comment in its place (filled by `hooks.py`)."""


FRAGMENTS_MARK = "<!-- atlas-fragments -->"


def assemble(parts: list[str]) -> str:
    """Join a page's parts: Markdown lines, and `Frag` pieces that become numbered slots. The
    fragments follow FRAGMENTS_MARK at the end of the file, each after its `<!--atlas:N-->` line.
    Fragments cannot forge these markers: every YAML string in them is escaped (`<` is `&lt;`)."""
    body, appendix = [], []
    for part in parts:
        if isinstance(part, Frag):
            appendix.append(f"<!--atlas:{len(appendix) + 1}-->\n{part}")
            body += [f"<!--atlas:{len(appendix)}-->", ""]
        else:
            body.append(part)
    text = "\n".join(body).rstrip("\n") + "\n"
    if appendix:
        text += f"\n{FRAGMENTS_MARK}\n" + "\n".join(appendix) + "\n"
    return text


def front(*hide: str, template: str | None = None, title: str | None = None) -> str:
    """Front matter hiding parts of Material's layout (navigation, toc), optionally naming a template.

    A page whose title comes from YAML sets `title` to the escaped text: Material writes
    `page.title | striptags` into <title>, and striptags would undo the escaping, while it writes
    `page.meta.title` as it is."""
    meta = f"template: {template}\n" if template else ""
    meta += f"title: {json.dumps(esc(title))}\n" if title is not None else ""
    return "---\n" + meta + "hide:\n" + "".join(f"  - {h}\n" for h in hide) + "---\n\n"


def figure(svg_markup: str, caption: str) -> Frag:
    return Frag(f'<figure class="atlas-figure">{svg_markup}<figcaption>{esc(caption)}</figcaption></figure>')


def section(anchor: str, title: str) -> str:
    """A section heading written as HTML (inside fragments), with its permalink."""
    return f'<h2 id="{anchor}">{title}<a class="headerlink" href="#{anchor}" title="Permanent link">&para;</a></h2>'


def pre(text: str) -> str:
    """Escaped text for a <pre> block: line breaks kept, everything else inert."""
    return html.escape(text.replace("\r", ""), quote=True)


@dataclass
class Atlas:
    """The knowledge base plus what the pages derive from it (counts, related papers, results)."""

    kb: KnowledgeBase
    errors: list[UserError] = field(default_factory=list)

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
        order: list[str] = []

        def walk(node_id: str) -> None:
            order.append(node_id)
            for child in self.kb.children.get(node_id, []):
                walk(child)

        for root in self.kb.roots:
            walk(root)
        for node_id in order:
            node = self.kb.nodes[node_id]
            g.add_node(node_id, title=node.title, description=node.description, count=self.counts[node_id])
        for node_id in order:
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
    def results(self) -> dict[str, ImplResults]:
        out: dict[str, ImplResults] = {}
        wanted = {impl for node in self.kb.nodes.values() for impl in node.reference_impls}
        wanted |= {p.reference_impl for p in self.kb.papers.values() if p.reference_impl}
        for impl in sorted(wanted):
            found, errors = read_results(self.kb.root, impl)
            self.errors.extend(errors)
            if found is not None:
                out[impl] = found
        return out

    @cached_property
    def impl_nodes(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for node_id in self.tree_order:
            for impl in self.kb.nodes[node_id].reference_impls:
                out.setdefault(impl, []).append(node_id)
        return out

    @cached_property
    def bibtex_entries(self) -> dict[str, str]:
        """Each paper's BibTeX entry, rendered once per build (paper pages and .bib files share it)."""
        return {pid: bibtex.to_bibtex(p) for pid, p in self.kb.papers.items()}

    @cached_property
    def tag_sets(self) -> dict[str, frozenset[str]]:
        return {pid: frozenset(p.tags) for pid, p in self.kb.papers.items()}

    def related(self, paper: Paper, limit: int = RELATED_LIMIT) -> list[Paper]:
        """Papers sharing the most taxonomy nodes, then tags, then the closest year."""
        shared: Counter[str] = Counter()
        for node in paper.taxonomy:
            shared.update(self.kb.papers_by_node.get(node, ()))
        shared.pop(paper.id, None)
        tags = self.tag_sets[paper.id]
        papers = self.kb.papers

        def key(pid: str):
            return (-shared[pid], -len(tags & self.tag_sets[pid]), abs(papers[pid].year - paper.year), pid)

        return [papers[pid] for pid in heapq.nsmallest(limit, shared, key=key)]

    # ---- shared pieces -------------------------------------------------------------------------
    def node_link(self, here: str, node_id: str) -> str:
        return f'<a href="{rel(here, node_url(node_id))}">{esc(self.kb.nodes[node_id].title)}</a>'

    def tag_link(self, here: str, tag_id: str, cls: str = "atlas-tag") -> str:
        return f'<a class="{cls}" href="{rel(here, tag_url(tag_id))}">{esc(self.kb.tags[tag_id].title)}</a>'

    def paper_link(self, here: str, paper: Paper) -> str:
        return f'<a href="{rel(here, paper_url(paper.id))}">{esc(paper.title)}</a>'

    def paper_item(self, here: str, paper: Paper, with_added: bool = False) -> str:
        added = f' <span class="atlas-muted">added {paper.added.isoformat()}</span>' if with_added else ""
        return (
            f"<li>{self.paper_link(here, paper)} "
            f'<span class="atlas-muted">{esc(authors_short(paper.authors))} · {esc(paper.venue.name)} {paper.year}</span>'
            f"{added}</li>"
        )

    def papers_table(self, here: str, papers: list[Paper]) -> str:
        """The sortable, filterable table of papers (behaviour in site/assets/atlas.js)."""
        years = [p.year for p in papers] or [dt.date.today().year]
        kinds = sorted({p.venue.kind for p in papers})
        tags = sorted({t for p in papers for t in p.tags}, key=lambda t: self.kb.tags[t].title.lower())
        kind_opts = "".join(f'<option value="{k}">{KIND_TITLES[k]}</option>' for k in kinds)
        tag_opts = "".join(f'<option value="{esc(t)}">{esc(self.kb.tags[t].title)}</option>' for t in tags)
        lo, hi = min(years), max(years)
        out = [
            '<div class="atlas-papers" data-atlas-papers data-search-exclude>',
            '<form class="atlas-filters" hidden>',
            '<label>Search <input type="search" name="q" placeholder="title, author, venue"></label>',
            f'<label>Years <input type="number" name="from" min="{lo}" max="{hi}" value="{lo}" aria-label="from year">',
            f' to <input type="number" name="to" min="{lo}" max="{hi}" value="{hi}" aria-label="to year"></label>',
            f'<label>Venue <select name="kind"><option value="">any</option>{kind_opts}</select></label>',
            '<label>Code <select name="code"><option value="">any</option>'
            '<option value="yes">with code</option><option value="no">without code</option></select></label>',
            f'<label>Tag <select name="tag"><option value="">any</option>{tag_opts}</select></label>',
            '<button type="reset" class="md-button">Reset</button>',
            f'<output class="atlas-count" aria-live="polite">{len(papers)} papers</output>',
            "</form>",
            "<table>",
            '<thead><tr><th data-sort="text">Title</th><th data-sort="text">Authors</th>'
            '<th data-sort="num">Year</th><th data-sort="text">Venue</th><th data-sort="text">Code</th>'
            "<th>Tags</th></tr></thead>",
            "<tbody>",
        ]
        for p in papers:
            code = ext_link(p.code, "code") if safe_url(p.code) else ""
            tag_cells = " ".join(self.tag_link(here, t) for t in p.tags)
            out.append(
                f'<tr data-year="{p.year}" data-kind="{p.venue.kind}" data-code="{"yes" if safe_url(p.code) else "no"}" '
                f'data-tags="{esc(" ".join(p.tags))}">'
                f"<td>{self.paper_link(here, p)}</td><td>{esc(authors_short(p.authors, 2))}</td><td>{p.year}</td>"
                f'<td>{esc(p.venue.name)}</td><td>{code}</td><td class="atlas-tags">{tag_cells}</td></tr>'
            )
        out += ["</tbody>", "</table>", "</div>"]
        return "\n".join(out)

    # ---- pages ---------------------------------------------------------------------------------
    def home(self) -> str:
        here = ""
        kb = self.kb
        with_code = sum(1 for p in kb.papers.values() if safe_url(p.code))
        impls = len(self.results)
        share = f"{with_code / len(kb.papers):.0%}" if kb.papers else "0%"
        counts = [
            (len(kb.papers), "papers", "papers/"),
            (len(kb.nodes), "topics", "nodes/"),
            (len(kb.tags), "tags", "tags/"),
            (share, "with code", "stats/"),
            (impls, "reference implementations", "nodes/"),
        ]
        newest = "\n".join(self.paper_item(here, p) for p in self.newest[:NEWEST_HOME])
        return front("navigation", "toc") + assemble(
            [
                f"# {SITE_NAME}",
                "",
                '<p class="atlas-lead">A curated, verified and runnable map of research on <strong>the role of small '
                "models in the era of large language models</strong>. It follows the taxonomy of Chen and Varoquaux "
                "(arXiv 2409.06857): <em>collaboration</em>, where small models make large ones cheaper, better "
                "supervised and better informed, and large models teach small ones; and <em>competition</em>, where "
                "a small model is simply the better choice. Every paper is checked against a public record and "
                "summarised in our own words.</p>",
                "",
                '<div class="atlas-counts">'
                + "".join(
                    f'<a href="{rel(here, url)}"><strong>{value}</strong><span>{label}</span></a>'
                    for value, label, url in counts
                )
                + "</div>",
                "",
                f"## The taxonomy {EXCLUDE}",
                "",
                '<p class="atlas-muted">Each box is a topic with its number of papers (its subtree included); '
                "click one to open it.</p>",
                "",
                Frag(
                    f'<div class="atlas-diagram">{svg.tree_diagram(self.graph, lambda n: rel(here, node_url(n)))}</div>'
                ),
                "",
                f"## Newest additions {EXCLUDE}",
                "",
                Frag(f'<ul class="atlas-list">\n{newest}\n</ul>'),
                "",
                f'<p><a href="{rel(here, "new/")}">All recent additions</a> · '
                f'<a href="{rel(here, "feed.xml")}">Atom feed</a></p>',
                "",
            ]
        )

    def nodes_index(self) -> str:
        here = "nodes/"
        lines = []

        def walk(node_id: str, depth: int) -> None:
            node = self.kb.nodes[node_id]
            lines.append(
                f'<li>{self.node_link(here, node_id)} <span class="atlas-muted">({self.counts[node_id]})</span>'
                f'<br><span class="atlas-desc">{esc(node.description)}</span>'
            )
            kids = self.kb.children.get(node_id, [])
            if kids:
                lines.append("<ul>")
                for k in kids:
                    walk(k, depth + 1)
                lines.append("</ul>")
            lines.append("</li>")

        for root in self.kb.roots:
            walk(root, 0)
        return front("toc") + assemble(
            [
                "# Taxonomy",
                "",
                "<p>The atlas follows the survey's tree: small and large models either <em>collaborate</em> or "
                "<em>compete</em>. A topic's count includes the papers of its sub-topics.</p>",
                "",
                Frag(
                    f'<div class="atlas-diagram">{svg.tree_diagram(self.graph, lambda n: rel(here, node_url(n)))}</div>'
                ),
                "",
                f"## All topics {EXCLUDE}",
                "",
                Frag("\n".join(['<ul class="atlas-tree-list">', *lines, "</ul>"])),
                "",
            ]
        )

    def impl_card(self, here: str, impl: str) -> str:
        found = self.results.get(impl)
        if found is None:
            return (
                f'<div class="atlas-card"><p><strong>{esc(impl)}</strong>: this reference implementation has no '
                f"committed results yet. Run it with <code>smatlas run {esc(impl)}</code>.</p></div>"
            )
        out = [
            '<div class="atlas-card">',
            f'<p class="atlas-card-title">Reference implementation <code>{esc(impl)}</code></p>',
        ]
        if found.shows:
            out.append(f"<p>{esc(found.shows)}</p>")
        if found.claims:
            held = sum(c.holds for c in found.claims)
            out.append(f"<p><strong>Claims checked</strong>: {held} of {len(found.claims)} hold.</p>")
            out.append(
                "<table><thead><tr><th>Claim</th><th>Measured</th><th>Compared with</th><th>Holds</th></tr></thead><tbody>"
            )
            for c in found.claims:
                mark = '<span class="atlas-yes">yes</span>' if c.holds else '<span class="atlas-no">no</span>'
                out.append(f"<tr><td>{esc(c.claim)}</td><td>{c.lhs:.4g}</td><td>{c.rhs:.4g}</td><td>{mark}</td></tr>")
            out.append("</tbody></table>")
        if found.metrics:
            out.append(
                "<details><summary>Measured numbers</summary><table><thead><tr><th>Metric</th><th>Value</th></tr></thead><tbody>"
            )
            for name, value in found.metrics.items():
                out.append(f"<tr><td><code>{esc(name)}</code></td><td>{value:.4g}</td></tr>")
            out.append("</tbody></table></details>")
        for s in found.series:
            out.append(f'<figure class="atlas-figure">{svg.line_chart(s.lines, s.title, s.xlabel, s.ylabel)}')
            out.append(f"<figcaption>{esc(s.title)}</figcaption></figure>")
        versions = ", ".join(f"{esc(k)} {esc(v)}" for k, v in found.versions.items())
        took = f" in {found.seconds:.0f} s" if found.seconds is not None else ""
        out.append(
            f'<p class="atlas-muted">Numbers from <code>{esc(found.path)}</code>, measured on a CPU{took}'
            f"{' with ' + versions if versions else ''}. Reproduce them:</p>"
        )
        out.append(f"<pre><code>smatlas run {esc(impl)}</code></pre>")
        out.append("</div>")
        return "\n".join(out)

    def node_page(self, node_id: str) -> str:
        here = node_url(node_id)
        kb = self.kb
        node = kb.nodes[node_id]
        papers = kb.papers_in(node_id)
        trail = " › ".join(self.node_link(here, a) for a in kb.ancestors(node_id))
        out = [front("toc", title=node.title) + f"# {md_text(node.title)}", ""]
        if trail:
            out += [f'<p class="atlas-trail">{trail}</p>', ""]
        out += [f'<p class="atlas-desc">{esc(node.description)}</p>', ""]
        if node.survey_section:
            out += [f'<p class="atlas-muted">Survey section: {esc(node.survey_section)}</p>', ""]
        kids = kb.children.get(node_id, [])
        if kids:
            items = [
                f'<li>{self.node_link(here, k)} <span class="atlas-muted">({self.counts[k]} papers)</span>'
                f' – <span class="atlas-desc">{esc(kb.nodes[k].description)}</span></li>'
                for k in kids
            ]
            out += [f"## Sub-topics {EXCLUDE}", "", Frag("\n".join(['<ul class="atlas-list">', *items, "</ul>"])), ""]
        out += [f"## Reference implementation {EXCLUDE}", ""]
        if node.reference_impls:
            out += [Frag(self.impl_card(here, impl)) for impl in node.reference_impls]
        elif node_id in self.no_impl:
            out.append(f'<p class="atlas-muted">No reference implementation: {esc(self.no_impl[node_id])}</p>')
        else:
            out.append('<p class="atlas-muted">No reference implementation for this topic yet.</p>')
        out += ["", "## Papers { #papers data-search-exclude }", ""]
        scope = " (sub-topics included)" if kids else ""
        out.append(
            f"<p>{len(papers)} papers{scope}. "
            f'<a class="atlas-download" href="{rel(here, node_bib(node_id))}" download>Download their BibTeX</a></p>'
        )
        out += ["", Frag(self.papers_table(here, papers)), ""]
        return assemble(out)

    def paper_page(self, paper: Paper) -> str:
        here = paper_url(paper.id)
        kb = self.kb
        kind = KIND_TITLES[paper.venue.kind]
        out = [
            front("navigation", "toc", template="paper.html", title=paper.title) + f"# {md_text(paper.title)}",
            "",
            self.authors_block(paper.authors),
            f'<p class="atlas-venue">{esc(paper.venue.name)} {paper.year} · {kind}</p>',
            "",
        ]
        # Everything below the authors is one fragment with plain <h2>s: no Markdown, TOC or index
        # work for it, which keeps 10,000 paper pages cheap to render.
        body = [section("summary", "Summary"), f"<p>{esc(paper.summary)}</p>", section("details", "Details")]
        links = []
        if paper.arxiv:
            links.append(ext_link(arxiv_url(paper.arxiv), f"arXiv {paper.arxiv}"))
        if paper.doi:
            links.append(ext_link(doi_url(paper.doi), f"DOI {paper.doi}"))
        if safe_url(paper.url):
            links.append(ext_link(paper.url, "Web page"))
        if safe_url(paper.code):
            links.append(ext_link(paper.code, "Code"))
        rows = [("Links", " · ".join(links) or "none")]
        rows.append(("Venue", f"{esc(paper.venue.name)} ({kind.lower()}), {paper.year}"))
        node_links = []
        for n in paper.taxonomy:
            trail = " › ".join(esc(kb.nodes[a].title) for a in kb.ancestors(n))
            where = f' <span class="atlas-muted">in {trail}</span>' if trail else ""
            node_links.append(self.node_link(here, n) + where)
        rows.append(("Topics", "<br>".join(node_links)))
        if paper.tags:
            rows.append(("Tags", " ".join(self.tag_link(here, t) for t in paper.tags)))
        if paper.models and paper.models.small:
            rows.append(("Small models", esc(", ".join(paper.models.small))))
        if paper.models and paper.models.large:
            rows.append(("Large models", esc(", ".join(paper.models.large))))
        if paper.reference_impl:
            impl = paper.reference_impl
            where = self.impl_nodes.get(impl, [])
            target = (
                f'<a href="{rel(here, node_url(where[0]))}#reference-implementation"><code>{esc(impl)}</code></a>'
                if where
                else f"<code>{esc(impl)}</code>"
            )
            rows.append(("Reference implementation", f"{target} (run <code>smatlas run {esc(impl)}</code>)"))
        rows.append(("Added", paper.added.isoformat()))
        rows.append(("Source", f"<code>{esc(kb.paths.get(paper.id, f'papers/{paper.id}.yaml'))}</code>"))
        details = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
        body.append(f'<table class="atlas-details"><tbody>{details}</tbody></table>')

        relations = [(RELATION_OUT[r.type], r.paper) for r in paper.relations if r.paper in kb.papers]
        relations += [(RELATION_IN[t], src) for t, src in kb.cited_by.get(paper.id, []) if src in kb.papers]
        listed = {pid for _, pid in relations}
        related = [p for p in self.related(paper, RELATED_LIMIT + len(listed)) if p.id not in listed][:RELATED_LIMIT]
        if relations or related:
            body.append(section("related-papers", "Related papers"))
            block = []
            if relations:
                block.append('<ul class="atlas-list atlas-relations">')
                block += [
                    f'<li><span class="atlas-rel">{label}</span> {self.paper_link(here, kb.papers[pid])} '
                    f'<span class="atlas-muted">{kb.papers[pid].year}</span></li>'
                    for label, pid in relations
                ]
                block.append("</ul>")
            if related:
                block += ['<p class="atlas-muted">Sharing a topic:</p>', '<ul class="atlas-list">']
                block += [self.paper_item(here, p) for p in related]
                block.append("</ul>")
            body += block
        body += [section("cite", "Cite"), self.citation_tabs(paper)]
        return assemble([*out, Frag("\n".join(body))])

    @staticmethod
    def authors_block(authors: list[str], shown: int = 12) -> str:
        """All authors (they are searchable); past `shown`, the rest fold into a <details>."""
        if len(authors) <= shown + 2:
            return f'<p class="atlas-authors">{esc(", ".join(authors))}</p>'
        rest = len(authors) - shown
        return (
            f'<details class="atlas-authors"><summary>{esc(", ".join(authors[:shown]))} '
            f'<span class="atlas-muted">and {rest} more</span></summary>{esc(", ".join(authors[shown:]))}</details>'
        )

    def citation_tabs(self, paper: Paper) -> str:
        """Material's content tabs (the markup pymdownx.tabbed writes), each holding a code block
        that gets Material's copy button."""
        tabs = [("BibTeX", self.bibtex_entries[paper.id].strip()), ("Plain text", bibtex.plain_citation(paper).strip())]
        radios = "".join(
            f'<input{" checked" if i == 1 else ""} id="__tabbed_1_{i}" name="__tabbed_1" type="radio">'
            for i in range(1, len(tabs) + 1)
        )
        labels = "".join(f'<label for="__tabbed_1_{i}">{name}</label>' for i, (name, _) in enumerate(tabs, 1))
        blocks = "".join(
            f'<div class="tabbed-block"><pre class="atlas-cite"><code>{pre(text)}</code></pre></div>'
            for _, text in tabs
        )
        return (
            f'<div class="tabbed-set tabbed-alternate" data-tabs="1:{len(tabs)}">{radios}'
            f'<div class="tabbed-labels">{labels}</div><div class="tabbed-content">{blocks}</div></div>'
        )

    def tags_index(self) -> str:
        here = "tags/"
        rows = [
            f"<tr><td>{self.tag_link(here, tid, cls='')}</td><td>{len(self.kb.papers_by_tag.get(tid, []))}</td>"
            f"<td>{esc(tag.description)}</td></tr>"
            for tid, tag in sorted(self.kb.tags.items(), key=lambda kv: kv[1].title.lower())
        ]
        table = ["<table><thead><tr><th>Tag</th><th>Papers</th><th>Meaning</th></tr></thead><tbody>", *rows]
        return assemble(
            [
                "# Tags",
                "",
                "<p>A controlled vocabulary of what a paper contributes and what it is about.</p>",
                "",
                Frag("\n".join([*table, "</tbody></table>"])),
            ]
        )

    def tag_page(self, tag_id: str) -> str:
        here = tag_url(tag_id)
        kb = self.kb
        tag = kb.tags[tag_id]
        papers = sorted(
            (kb.papers[i] for i in kb.papers_by_tag.get(tag_id, [])), key=lambda p: (-p.year, p.title.lower(), p.id)
        )
        per_node = Counter(n for p in papers for n in p.taxonomy)
        out = [
            front("toc", title=tag.title) + f"# {md_text(tag.title)}",
            "",
            f'<p class="atlas-desc">{esc(tag.description)}</p>',
            "",
        ]
        if per_node:
            items = [
                f'<li><a href="{rel(here, node_url(n))}?tag={esc(tag_id)}#papers">{esc(kb.nodes[n].title)}</a> '
                f'<span class="atlas-muted">({per_node[n]})</span></li>'
                for n in self.tree_order
                if per_node[n]
            ]
            out += [
                f"## By topic {EXCLUDE}",
                "",
                Frag("\n".join(['<ul class="atlas-list atlas-columns">', *items, "</ul>"])),
                "",
            ]
        out += ["## Papers { #papers data-search-exclude }", ""]
        if len(papers) > TAG_TABLE_LIMIT:
            out += [
                f'<p class="atlas-muted">{len(papers)} papers carry this tag; the {TAG_TABLE_LIMIT} most recent are '
                "listed here. Open a topic above to see all of its papers with this tag.</p>",
                "",
            ]
            papers = papers[:TAG_TABLE_LIMIT]
        else:
            out += [f"<p>{len(papers)} papers.</p>", ""]
        out += [Frag(self.papers_table(here, papers)), ""]
        return assemble(out)

    def papers_index(self) -> str:
        here = "papers/"
        papers = sorted(self.kb.papers.values(), key=lambda p: (-p.year, p.title.lower(), p.id))
        note = f"<p>{len(papers)} papers."
        if len(papers) > PAPERS_INDEX_LIMIT:
            note += (
                f" The {PAPERS_INDEX_LIMIT} most recent are listed here; every paper is listed on its topics' pages."
            )
            papers = papers[:PAPERS_INDEX_LIMIT]
        note += "</p>"
        return front("toc") + assemble(
            [
                "# Papers",
                "",
                "<p>Every paper of the atlas, with its topics, tags and a summary in our own words. Use the search "
                "box for titles and authors, or filter the table below.</p>",
                "",
                "## All papers { #papers data-search-exclude }",
                "",
                note,
                "",
                Frag(self.papers_table(here, papers)),
            ]
        )

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
        venue_chart = svg.horizontal_bars(venues, "The 15 most frequent venues")
        kinds = Counter(p.venue.kind for p in papers)
        kind_chart = svg.horizontal_bars(
            [(KIND_TITLES[k], kinds[k]) for k in KIND_TITLES if kinds[k]], "Papers per venue kind"
        )
        code_rows = []
        for b in branches:
            members = [p for p in papers if any(kb.branch(n) == b for n in p.taxonomy if n in kb.nodes)]
            if members:
                code_rows.append((kb.nodes[b].title, sum(1 for p in members if safe_url(p.code)) / len(members)))
        with_code = sum(1 for p in papers if safe_url(p.code))
        code_rows.append(("All papers", with_code / len(papers) if papers else 0.0))
        code_chart = svg.horizontal_bars(code_rows, "Share of papers with code", fmt=lambda v: f"{v:.0%}", limit=1.0)
        in_bucket = Counter(bucket(p.year) for p in papers)
        coded = Counter(bucket(p.year) for p in papers if safe_url(p.code))
        code_years = [(f"{b} ({in_bucket[b]})", coded[b] / in_bucket[b]) for b in buckets if in_bucket[b]]
        code_year_chart = svg.horizontal_bars(
            code_years, "Share with code per year (papers in brackets)", fmt=lambda v: f"{v:.0%}", limit=1.0
        )
        return front("navigation") + assemble(
            [
                "# Statistics",
                "",
                f"<p>{len(papers)} papers in {len(kb.nodes)} topics, drawn when the site was built. "
                "A paper placed in both branches counts in each.</p>",
                "",
                f"## Papers per year and branch {EXCLUDE}",
                "",
                figure(year_chart, "Papers per year; each colour is a branch of the taxonomy"),
                "",
                f"## Venues {EXCLUDE}",
                "",
                figure(venue_chart, "The 15 most frequent venues"),
                "",
                figure(kind_chart, "Papers per venue kind"),
                "",
                f"## Code availability {EXCLUDE}",
                "",
                f"<p>{with_code} of {len(papers)} papers link to their code.</p>",
                "",
                figure(code_chart, "Share of papers with code, per branch"),
                "",
                figure(code_year_chart, "Share of papers with code per year (number of papers in brackets)"),
                "",
            ]
        )

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
            ("feed.xml", "an Atom feed of the newest additions"),
        ]
        rows = [
            f'<tr><td><a href="{rel(here, path)}" download>{path.rsplit("/", 1)[-1]}</a></td><td>{size(path)}</td>'
            f"<td>{esc(what)}</td></tr>"
            for path, what in files
        ]
        node_rows = [
            f'<li><a href="{rel(here, node_bib(n))}" download>{n}.bib</a> – {esc(self.kb.nodes[n].title)} '
            f'<span class="atlas-muted">({self.counts[n]})</span></li>'
            for n in self.tree_order
        ]
        return front("navigation") + assemble(
            [
                "# Downloads",
                "",
                "<p>The atlas as data, regenerated from the YAML files on every build. The files are also in the "
                "repository (<code>papers/*.yaml</code>).</p>",
                "",
                Frag(
                    "\n".join(
                        [
                            "<table><thead><tr><th>File</th><th>Size</th><th>Contents</th></tr></thead><tbody>",
                            *rows,
                            "</tbody></table>",
                        ]
                    )
                ),
                "",
                '<p class="atlas-muted">In the CSV, a cell that would start with <code>=</code>, <code>+</code>, '
                "<code>-</code> or <code>@</code> is prefixed with <code>'</code> so that spreadsheets do not run it "
                "as a formula.</p>",
                "",
                f"## BibTeX per topic {EXCLUDE}",
                "",
                "<p>Each file holds the papers of a topic and of its sub-topics.</p>",
                "",
                Frag("\n".join(['<ul class="atlas-list atlas-columns">', *node_rows, "</ul>"])),
            ]
        )

    def whats_new(self) -> str:
        here = "new/"
        out = [
            front("navigation") + "# What's new",
            "",
            f"<p>The {NEWEST_PAGE} most recent additions to the atlas, newest first. "
            f'Follow them with the <a href="{rel(here, "feed.xml")}">Atom feed</a>.</p>',
            "",
        ]
        groups: dict[dt.date, list[Paper]] = {}
        for p in self.newest[:NEWEST_PAGE]:
            groups.setdefault(p.added, []).append(p)
        for added, papers in groups.items():
            items = "\n".join(self.paper_item(here, p) for p in papers)
            out += [f"## {added.isoformat()} {EXCLUDE}", "", Frag(f'<ul class="atlas-list">\n{items}\n</ul>'), ""]
        return assemble(out)

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
        return front("navigation") + assemble(
            [
                "# Contribute",
                "",
                "The atlas lives in a Git repository as one YAML file per paper. To add a paper:",
                "",
                "1. Pick its id: the first author's family name, the year and the first significant title word, "
                "in lower case (`sun2024simple`). The file is `papers/<id>.yaml`.",
                "2. Fill in the fields of `papers/schema.json`. Check every fact (title, authors, year, venue, "
                "arXiv id or DOI) against a public record of the paper.",
                "3. Place it in one or more topics of `taxonomy/taxonomy.yaml` and give it tags from "
                "`taxonomy/tags.yaml`.",
                "4. Write the summary in your own words: what the paper does and the role small and large models "
                "play in it.",
                "5. Run `smatlas validate`; it prints every problem as `file:line:col`. Then open a pull request.",
                "",
                f"<pre><code>{pre(example)}</code></pre>",
                "",
                "Editors that understand `# yaml-language-server` comments (for example VS Code with the YAML "
                "extension) check the file against the schema as you type.",
                "",
                "## Build the site locally",
                "",
                "<pre><code>make serve   # validate, build and serve at http://127.0.0.1:8000",
                "make test    # lint and every test, browser tests included</code></pre>",
                "",
            ]
        )
