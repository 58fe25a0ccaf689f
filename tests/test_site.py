"""Page generation: escaping, links, nav, downloads and the reference-implementation card, checked on
the built HTML of the real atlas and of a fixture atlas with hostile strings (no browser here)."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from site_support import XSS_NODE_TITLE, XSS_TAG_TITLE, XSS_TITLE, hostile_site, real_site

from smatlas import bibtex
from smatlas.errors import DataError
from smatlas.site import build_site
from smatlas.site.impls import read_results
from smatlas.site.markup import md_text, page_url, rel, safe_url
from smatlas.site.pages import Atlas, assemble
from smatlas.site.svg import nice_ticks


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of every <script>."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def parse(path: Path) -> Elements:
    parser = Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def html_pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


@pytest.fixture(scope="module")
def real():
    return real_site()


@pytest.fixture(scope="module")
def hostile():
    return hostile_site()


# ---- escaping --------------------------------------------------------------------------------------
def test_hostile_strings_render_as_text_not_markup(hostile):
    kb, out = hostile
    for page in html_pages(out):
        doc = parse(page)
        for tag, attrs in doc.tags:
            handlers = [a for a in attrs if a.startswith("on")]
            assert not handlers, f"{page}: <{tag}> has event handler {handlers}"
            for name, value in attrs.items():
                assert not (value or "").strip().lower().startswith("javascript:"), f"{page}: {name}={value}"
            assert tag not in ("iframe", "img"), f"{page}: <{tag}> from YAML"
        assert not any("alert(" in s for s in doc.scripts), f"{page}: a script holds YAML text"


def test_hostile_title_shows_escaped_in_heading_title_and_tables(hostile):
    kb, out = hostile
    page = (out / "papers" / "hostile2024img" / "index.html").read_text(encoding="utf-8")
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1)
    assert heading.startswith('&lt;img src=x onerror=alert(1)&gt;<a class="headerlink"')
    assert "<title>&lt;img src=x onerror=alert(1)&gt; - Small Models Atlas</title>" in page
    table = (out / "nodes" / "routing" / "index.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;</a>" in table
    assert XSS_TITLE not in table


def test_markdown_syntax_in_yaml_stays_literal(hostile):
    kb, out = hostile
    page = (out / "papers" / "hostile2024markdown" / "index.html").read_text(encoding="utf-8")
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1)
    assert "**Bold** [link](javascript:alert(&#x27;title&#x27;))" in heading
    assert "<strong>" not in heading and "<code>" not in heading and "onclick" not in heading.split("&")[0]
    summary = (out / "papers" / "hostile2024img" / "index.html").read_text(encoding="utf-8")
    assert "[click me](javascript:alert(&#39;md&#39;))" in summary
    assert "{{ 7*7 }}" in summary


def test_hostile_node_and_tag_titles_are_escaped_in_the_nav(hostile):
    kb, out = hostile
    page = (out / "nodes" / "routing" / "index.html").read_text(encoding="utf-8")
    assert XSS_NODE_TITLE not in page and "&lt;script&gt;alert(" in page
    assert XSS_TAG_TITLE not in page


def test_urls_that_break_attributes_are_quoted(hostile):
    kb, out = hostile
    doc = parse(out / "papers" / "hostile2024img" / "index.html")
    hrefs = [a.get("href") or "" for t, a in doc.tags if t == "a"]
    assert "https://example.org/\"><script>alert('code')</script>" in hrefs
    assert "http://example.org/'onmouseover='alert(10)" in hrefs
    doi = [h for h in hrefs if h.startswith("https://doi.org/")]
    assert doi and "<" not in doi[0] and '"' not in doi[0]


def test_md_text_escapes_markdown_and_html():
    assert md_text("a *b* [c](d) <e> & #f") == r"a \*b\* \[c\]\(d\) &lt;e&gt; &amp; \#f"
    assert md_text("x {: .y }") == r"x \{: \.y \}"
    assert md_text("two\n\nlines") == "two lines"


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://example.org/x", True),
        ("http://example.org", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        ("data:text/html,<b>", False),
        ("//example.org/x", False),
        ("ftp://example.org/", False),
        ("https:///nohost", False),
    ],
)
def test_only_http_and_https_links_are_rendered(url, ok):
    assert (safe_url(url) is not None) == ok


def test_every_external_link_in_the_real_site_is_http_or_https(real):
    kb, out = real
    for page in html_pages(out):
        for _tag, attrs in parse(page).tags:
            for name in ("href", "src"):
                value = attrs.get(name)
                if value and ":" in value.split("/")[0]:
                    assert urlsplit(value).scheme in ("http", "https"), f"{page}: {name}={value}"


# ---- links and nav ---------------------------------------------------------------------------------
def test_relative_links_and_page_urls():
    assert page_url("index.md") == "" and page_url("papers/x.md") == "papers/x/"
    assert page_url("nodes/routing/index.md") == "nodes/routing/"
    assert rel("", "papers/x/") == "papers/x/"
    assert rel("nodes/routing/", "papers/x/") == "../../papers/x/"
    assert rel("nodes/routing/", "") == "../../"
    assert rel("", "") == "./"


def test_every_internal_link_of_the_real_site_resolves(real):
    kb, out = real
    broken = []
    for page in html_pages(out):
        if page.name == "404.html":  # served for any missing path, so mkdocs writes it with root-relative links
            continue
        for tag, attrs in parse(page).tags:
            target = attrs.get("href") if tag in ("a", "link") else attrs.get("src") if tag == "script" else None
            if not target or target.startswith(("#", "mailto:")) or urlsplit(target).scheme:
                continue
            path = unquote(urlsplit(target).path)
            if not path:
                continue
            resolved = (page.parent / path).resolve()
            if resolved.is_dir():
                resolved = resolved / "index.html"
            if not resolved.is_file():
                broken.append(f"{page.relative_to(out)} -> {target}")
    assert not broken, "\n".join(broken[:20])


def test_every_paper_node_and_tag_has_a_page(real):
    kb, out = real
    for pid in kb.papers:
        assert (out / "papers" / pid / "index.html").is_file()
    for nid in kb.nodes:
        assert (out / "nodes" / nid / "index.html").is_file()
    for tid in kb.tags:
        assert (out / "tags" / tid / "index.html").is_file()
    for page in ("stats", "new", "downloads", "contribute", "papers", "tags", "nodes"):
        assert (out / page / "index.html").is_file(), page


def test_papers_stay_out_of_the_nav_and_theme_is_offline(real):
    kb, out = real
    config = yaml.safe_load((out.parent / "docs_build" / "mkdocs.yml").read_text(encoding="utf-8"))
    text = json.dumps(config["nav"])
    assert "papers/index.md" in text
    assert not re.search(r"papers/(?!index\.md)[a-z0-9-]+\.md", text)
    assert config["theme"]["font"] is False
    assert "navigation.prune" in config["theme"]["features"]
    assert {p["scheme"] for p in config["theme"]["palette"]} == {"default", "slate"}
    assert config["plugins"] == ["search"]
    paper_html = (out / "papers" / "leviathan2023fast" / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis" not in paper_html and "cdn" not in paper_html.lower().replace("cdnjs", "cdn")


def test_paper_page_has_links_nodes_tags_related_and_citation_tabs(real):
    kb, out = real
    paper = kb.papers["leviathan2023fast"]
    page = (out / "papers" / paper.id / "index.html").read_text(encoding="utf-8")
    assert f"https://arxiv.org/abs/{paper.arxiv}" in page
    for node in paper.taxonomy:
        assert f'href="../../nodes/{node}/"' in page
    for tag in paper.tags:
        assert f'href="../../tags/{tag}/"' in page
    assert 'class="tabbed-set tabbed-alternate"' in page and ">BibTeX</label>" in page and ">Plain text</label>" in page
    assert "@" in page and bibtex.citation_key(paper) in page
    incoming = kb.cited_by.get(paper.id, [])
    for _, source in incoming:
        assert page.count(f'href="../../papers/{source}/"') == 1, "incoming relation missing or listed twice"
    for rel_ in paper.relations:
        assert f'href="../../papers/{rel_.paper}/"' in page, "outgoing relation missing"


def test_search_index_is_slim(real):
    kb, out = real
    index = json.loads((out / "search" / "search_index.json").read_text(encoding="utf-8"))
    paper_docs = [d for d in index["docs"] if d["location"].startswith("papers/") and d["location"] != "papers/"]
    assert {d["location"] for d in paper_docs} == {f"papers/{pid}/" for pid in kb.papers}, "one entry per paper"
    for doc in paper_docs:
        assert "@inproceedings" not in doc["text"] and "@misc" not in doc["text"] and "@article" not in doc["text"]
    paper = kb.papers["leviathan2023fast"]
    doc = next(d for d in paper_docs if d["location"] == f"papers/{paper.id}/")
    assert paper.authors[0] in doc["text"] and paper.summary[:40] not in doc["text"]


# ---- downloads -------------------------------------------------------------------------------------
def test_papers_json_and_csv_hold_every_paper(real):
    kb, out = real
    data = json.loads((out / "downloads" / "papers.json").read_text(encoding="utf-8"))
    assert sorted(p["id"] for p in data) == sorted(kb.papers)
    one = next(p for p in data if p["id"] == "leviathan2023fast")
    assert one["title"] == kb.papers["leviathan2023fast"].title and one["added"]
    rows = list(csv.DictReader(io.StringIO((out / "downloads" / "papers.csv").read_text(encoding="utf-8"))))
    assert sorted(r["id"] for r in rows) == sorted(kb.papers)
    row = next(r for r in rows if r["id"] == "leviathan2023fast")
    assert row["authors"].split("; ") == kb.papers["leviathan2023fast"].authors


def test_csv_cells_cannot_start_a_formula(tmp_path):
    from smatlas.site.downloads import _cell

    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _cell("@x") == "'@x" and _cell("plain") == "plain"


def test_bib_files_hold_the_atlas_and_each_node_subtree(real):
    kb, out = real
    atlas = (out / "downloads" / "atlas.bib").read_text(encoding="utf-8")
    assert all(f"{{{bibtex.citation_key(p)}," in atlas for p in kb.papers.values())
    for node in ("routing", "efficient-inference", "competition"):
        text = (out / "downloads" / "nodes" / f"{node}.bib").read_text(encoding="utf-8")
        keys = set(re.findall(r"^@\w+\{([^,]+),", text, re.M))
        assert keys == {bibtex.citation_key(p) for p in kb.papers_in(node)}
        assert text == bibtex.export_bibtex(kb.papers_in(node))


def test_atom_feed_lists_newest_additions(real):
    kb, out = real
    root = ET.fromstring((out / "feed.xml").read_bytes())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert 0 < len(entries) <= 50
    updated = [e.find("a:updated", ns).text for e in entries]
    assert updated == sorted(updated, reverse=True)
    for entry in entries:
        href = entry.find("a:link", ns).get("href")
        assert (out / href / "index.html").is_file()


def test_hostile_feed_is_well_formed_xml(hostile):
    kb, out = hostile
    root = ET.fromstring((out / "feed.xml").read_bytes())
    titles = [e.text for e in root.iter("{http://www.w3.org/2005/Atom}title")]
    assert XSS_TITLE in titles


# ---- reference implementation card -----------------------------------------------------------------
def test_node_with_results_shows_card_claims_metrics_plot_and_command(hostile):
    kb, out = hostile
    page = (out / "nodes" / "routing" / "index.html").read_text(encoding="utf-8")
    assert "Routes easy queries to a &lt;b&gt;small&lt;/b&gt; model" in page
    assert "the router is cheaper than the large model" in page and "1 of 2 hold" in page
    assert "accuracy_router" in page and "0.91" in page
    assert "<polyline" in page and "Accuracy against cost" in page
    assert "<code>smatlas run routing-demo</code>" in page
    other = (out / "nodes" / "cascading" / "index.html").read_text(encoding="utf-8")
    assert "No reference implementation for this topic yet." in other


def test_broken_results_file_stops_the_build_with_its_path(tmp_path):
    from site_support import write_hostile_atlas

    write_hostile_atlas(tmp_path / "atlas")
    (tmp_path / "atlas" / "reference_impls" / "results" / "routing-demo.json").write_text("{not json", encoding="utf-8")
    found, errors = read_results(tmp_path / "atlas", "routing-demo")
    assert found is None and errors and errors[0].path == "reference_impls/results/routing-demo.json"
    from smatlas.cli import load_checked

    kb, _ = load_checked(tmp_path / "atlas")
    with pytest.raises(DataError):
        build_site(kb, tmp_path / "out")


def test_build_refuses_a_folder_that_is_not_a_previous_build(tmp_path, real):
    from smatlas.site import SiteError

    kb, _ = real
    (tmp_path / "precious.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(SiteError):
        build_site(kb, tmp_path)
    assert (tmp_path / "precious.txt").exists()


# ---- pieces ----------------------------------------------------------------------------------------
def test_fragments_move_to_an_appendix_with_numbered_slots():
    from smatlas.site.pages import Frag

    text = assemble(["# T", "", Frag("<table>1</table>"), "text", Frag("<ul>2</ul>")])
    body, _, appendix = text.partition("<!-- atlas-fragments -->")
    assert "<!--atlas:1-->" in body and "<!--atlas:2-->" in body and "<table>" not in body
    assert "<!--atlas:1-->\n<table>1</table>" in appendix and "<!--atlas:2-->\n<ul>2</ul>" in appendix


def test_nice_ticks_cover_the_range():
    for lo, hi in [(0, 108), (0, 1), (3.2, 3.9), (10, 70), (0, 0)]:
        ticks = nice_ticks(lo, hi)
        assert ticks[0] <= lo and ticks[-1] >= hi and ticks == sorted(ticks)


def test_taxonomy_diagram_links_every_node(real):
    kb, out = real
    svg = Atlas(kb).home()
    for node in kb.nodes:
        assert f'href="nodes/{node}/"' in svg


def test_sources_folder_is_synced_not_rewritten(tmp_path):
    from smatlas.site.build import sync_folder

    sync_folder(tmp_path, {"a.md": "one", "sub/b.md": "two", "stale.md": "old"})
    before = (tmp_path / "a.md").stat().st_mtime_ns
    sync_folder(tmp_path, {"a.md": "one", "sub/b.md": "changed"})
    assert (tmp_path / "a.md").stat().st_mtime_ns == before
    assert (tmp_path / "sub" / "b.md").read_text() == "changed"
    assert not (tmp_path / "stale.md").exists()
