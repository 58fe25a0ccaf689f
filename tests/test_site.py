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
from smatlas.site.config import read_config
from smatlas.site.impls import read_results, zoo_names_in
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


def test_search_index_holds_summaries_models_and_a_vocabulary(real):
    kb, out = real
    mkdocs_index = json.loads((out / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert mkdocs_index["docs"] == [], "Material's own index stays empty: search uses Pagefind"
    assert (out / "pagefind" / "pagefind.js").is_file() and list((out / "pagefind" / "index").iterdir())
    records = out.parent / "docs_build" / "search"
    assert {p.parent.name for p in (records / "papers").glob("*/index.html")} == set(kb.papers)
    paper = kb.papers["sun2024simple"]
    record = (records / "papers" / paper.id / "index.html").read_text(encoding="utf-8")
    assert "Wanda" in record and "LLaMA-7B" in record and paper.authors[0] in record and str(paper.year) in record
    assert 'data-pagefind-weight="10"' in record and "@inproceedings" not in record
    vocab = json.loads((out / "pagefind" / "vocab" / "12.json").read_text(encoding="utf-8"))
    assert vocab["distillation"] > 1 and all(len(w) == 12 for w in vocab)


def test_vocabulary_counts_records_per_word():
    from smatlas.site.search import vocabulary

    shards = vocabulary(
        {"a/": {"title": "Speculative decoding", "text": "Décoding speculative"}, "b/": {"text": "decoding"}}
    )
    assert shards[8] == {"decoding": 2} and shards[11] == {"speculative": 1}
    assert 3 not in shards, "words shorter than four letters are left out"


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
    base = read_config(kb.root).site_base
    assert base.startswith("https://") and root.find("a:link[@rel='self']", ns).get("href") == base + "feed.xml"
    for entry in entries:
        href = entry.find("a:link", ns).get("href")
        assert href.startswith(base), "feed links are absolute"
        assert (out / href.removeprefix(base) / "index.html").is_file()


def test_hostile_feed_is_well_formed_xml(hostile):
    kb, out = hostile
    root = ET.fromstring((out / "feed.xml").read_bytes())
    titles = [e.text for e in root.iter("{http://www.w3.org/2005/Atom}title")]
    assert XSS_TITLE in titles


# ---- reference implementation card -----------------------------------------------------------------
def test_node_card_links_the_implementation_page(hostile):
    kb, out = hostile
    page = (out / "nodes" / "routing" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../implementations/routing-demo/"' in page
    assert "Routes easy queries to a &lt;b&gt;small&lt;/b&gt; model" in page
    assert "<strong>1 of 2</strong> paper findings reproduce" in page
    other = (out / "nodes" / "instruction-data" / "index.html").read_text(encoding="utf-8")
    assert "No reference implementation for this topic yet." in other


def test_old_results_format_shows_each_claim_as_one_run(hostile):
    kb, out = hostile
    page = (out / "implementations" / "routing-demo" / "index.html").read_text(encoding="utf-8")
    assert "the router is cheaper than the large model" in page
    assert "&lt;img src=x onerror=alert(&#39;claim&#39;)&gt;" in page
    findings = re.search(r'<div class="atlas-findings">(.*?)</table>', page, re.S).group(1)
    assert findings.count("1 seed<") == 2 and findings.count(">reproduces<") == 1
    assert findings.count(">does not reproduce<") == 1
    assert "accuracy_router" in page and "0.91" in page and "<polyline" in page
    assert "<code>smatlas run routing-demo</code>" not in page  # the commands are in one <pre> block
    assert "smatlas run routing-demo --quick" in page


def test_implementation_page_shows_rule_run_findings_checks_labels_plots_and_zoo(hostile):
    kb, out = hostile
    page = (out / "implementations" / "cascade-demo" / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Cascade demo: defer to the large model" in page
    assert "defer(x) = max_y p_small(y | x) &lt; threshold" in page, "the docstring's formula block"
    assert "smatlas run cascade-demo --quick" in page and "smatlas run cascade-demo " in text
    source = read_config(kb.root).source_url("reference_impls/cascade_demo.py")
    assert source.startswith("https://") and f'href="{source}"' in page
    findings = re.search(r'<div class="atlas-findings">(.*?)</table>', page, re.S).group(1)
    assert "0.8123 ± 0.0123" in findings and "0.8011 ± 0.0045" in findings and "holds in 3 of 3 seeds" in findings
    assert ">reproduces<" in findings and ">mixed<" in findings and "holds in 1 of 3 seeds" in findings
    assert 'href="../../papers/plain2022router/"' in findings, "the finding links the paper it mirrors"
    assert "too noisy to learn from" in findings and "&lt;b&gt;Learned&lt;/b&gt;" in findings
    assert "threshold 0 never calls the large model" not in findings
    checks = re.search(r'<details class="atlas-checks">(.*?)</details>', page, re.S).group(1)
    assert "Sanity checks, not findings" in checks and "threshold 0 never calls the large model" in checks
    assert "Accuracy of the cascade" in page and "Share of calls to the large model" in page
    assert "raw_only_key" in page, "a metric without a label keeps its key"
    assert "Cascade, learned deferral" in page, "legend labels come from the series"
    plot = re.search(r"<svg[^>]*>.*?Accuracy against repeats.*?</svg>", page, re.S).group(0)
    ticks = re.findall(r'<text class="tick" x="[\d.]+" y="[\d.]+" text-anchor="middle">([^<]+)</text>', plot)
    assert ticks and all(re.fullmatch(r"\d+", t) for t in ticks), f"integer x data get integer ticks: {ticks}"
    zoo = re.search(r'<div class="atlas-zoo">(.*?)</table>', page, re.S).group(1)
    assert "zoo-50k" in zoo and "50,120" in zoo and "9.40" in zoo and "zoo-1.3m" in zoo and "1,312,160" in zoo
    assert "shops and prices" in page


def test_findings_count_on_home_stats_and_implementations_pages(hostile):
    kb, out = hostile
    # routing-demo: 1 of 2 (old format); cascade-demo: 1 of 2 (one mixed)
    for path in ("index.html", "stats/index.html", "implementations/index.html"):
        page = re.sub(r"<[^>]+>", "", (out / path).read_text(encoding="utf-8"))
        assert "2 of 4" in page and "paper findings reproduce at tiny scale" in page, path


# ---- links to the repository, meta tags, citing ---------------------------------------------------
def test_config_comes_from_pyproject_and_fixtures_fall_back_to_the_repository(tmp_path):
    from site_support import ROOT

    config = read_config(ROOT)
    assert config.repo_url == "https://github.com/small-models-atlas/small-models-atlas"
    assert config.site_base == "https://small-models-atlas.github.io/small-models-atlas/"
    assert config.code_license == "MIT" and config.content_license == "CC-BY-4.0"
    assert read_config(tmp_path) == config
    (tmp_path / "pyproject.toml").write_text('[tool.smatlas]\nrepo_url = "https://example.org/r"\n', encoding="utf-8")
    assert read_config(tmp_path).repo_url == "https://example.org/r"
    assert read_config(tmp_path).correction_url("x2024y").startswith("https://example.org/r/issues/new?")


def test_every_page_links_the_repository_and_shows_the_licences(real):
    kb, out = real
    config = read_config(kb.root)
    for page in html_pages(out):
        if page.parent.parent.name == "papers" and page.parent.name not in ("sun2024simple", "leviathan2023fast"):
            continue  # two paper pages stand for all of them
        text = page.read_text(encoding="utf-8")
        assert f'href="{config.repo_url}"' in text and 'class="md-source"' in text, page
        assert 'data-md-component="source"' not in text, "Material's source component calls the GitHub API"
        assert ">MIT</a>" in text and ">CC BY 4.0</a>" in text, page


def test_paper_page_has_edit_report_scholar_links_and_meta_tags(real):
    kb, out = real
    paper = kb.papers["sun2024simple"]
    config = read_config(kb.root)
    page = (out / "papers" / paper.id / "index.html").read_text(encoding="utf-8")
    hrefs = [a.get("href") for t, a in parse(out / "papers" / paper.id / "index.html").tags if t == "a"]
    assert f"{config.repo_url}/edit/main/papers/{paper.id}.yaml" in hrefs
    assert config.correction_url(paper.id) in hrefs and f"paper={paper.id}" in config.correction_url(paper.id)
    assert f"https://arxiv.org/abs/{paper.arxiv}" in hrefs and f"https://arxiv.org/pdf/{paper.arxiv}" in hrefs
    assert f"https://www.semanticscholar.org/arxiv/{paper.arxiv}" in hrefs
    assert any(h.startswith("https://scholar.google.com/scholar?q=") for h in hrefs)
    assert paper.code in hrefs
    metas = [a for t, a in parse(out / "papers" / paper.id / "index.html").tags if t == "meta"]
    named = {}
    for m in metas:
        named.setdefault(m.get("name") or m.get("property"), []).append(m.get("content"))
    assert named["citation_title"] == [paper.title] and named["citation_author"] == paper.authors
    assert named["citation_publication_date"] == [str(paper.year)] and named["citation_arxiv_id"] == [paper.arxiv]
    assert named["og:title"] == [paper.title] and named["og:type"] == ["article"]
    canonical = f"{config.site_base}papers/{paper.id}/"
    assert named["og:url"] == [canonical] and f'<link rel="canonical" href="{canonical}">' in page


def test_weights_landmark_and_named_papers_are_shown(hostile):
    kb, out = hostile
    paper = (out / "papers" / "plain2022router" / "index.html").read_text(encoding="utf-8")
    assert 'href="https://huggingface.co/example/plain-router"' in paper and ">Weights<" in paper
    assert "&lt;script&gt;alert(&#39;landmark&#39;)&lt;/script&gt; The first plain router" in paper
    node = (out / "nodes" / "cascading" / "index.html").read_text(encoding="utf-8")
    key = node.index('id="key-papers"')
    assert key < node.index('id="papers"') < node.index('id="reference-implementation"'), "key papers, then papers"
    assert "The first plain router" in node[key : node.index('id="papers"')]
    assert 'as <a href="../../papers/plain2022router/">PlainRouter</a> does' in node, "the description links the name"


def test_sitemap_lists_every_page(real):
    kb, out = real
    root = ET.fromstring((out / "sitemap.xml").read_bytes())
    locs = {e.text for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")}
    base = read_config(kb.root).site_base
    pages = {base + str(p.parent.relative_to(out)).replace(".", "").strip("/") for p in html_pages(out)}
    pages = {p if p.endswith("/") else p + "/" for p in pages if not p.endswith("404")}
    assert len(locs) > len(kb.papers) and pages <= locs | {base}


def test_cite_page_gives_the_atlas_and_the_survey(real):
    kb, out = real
    page = (out / "cite" / "index.html").read_text(encoding="utf-8")
    assert "@misc{small_models_atlas," in page and "Small Models Atlas: a curated, runnable knowledge base" in page
    assert "{Small Models Atlas contributors}" in page and "cff-version: 1.2.0" in page
    assert "What is the Role of Small Models in the LLM Era" in page and "2409.06857" in page
    assert (out / "downloads" / "CITATION.cff").read_text(encoding="utf-8") == (kb.root / "CITATION.cff").read_text(
        encoding="utf-8"
    )


def test_tag_bib_files_hold_the_tag_papers(real):
    kb, out = real
    text = (out / "downloads" / "tags" / "method.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"^@\w+\{([^,]+),", text, re.M))
    assert keys == {bibtex.citation_key(kb.papers[p]) for p in kb.papers_by_tag["method"]}


def test_serve_answers_a_missing_page_with_the_site_404_and_redirects_to_the_site_path(real):
    import http.client
    import threading
    from functools import partial

    from smatlas.site.build import SiteHandler

    kb, out = real
    handler = partial(type("H", (SiteHandler,), {"prefix": "/atlas/"}), directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]

        def get(path):
            conn = http.client.HTTPConnection("127.0.0.1", port)
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.getheader("Location"), response.read()

        assert get("/")[:2] == (302, "/atlas/")
        status, _, body = get("/atlas/no-such-page/")
        assert status == 404 and body == (out / "404.html").read_bytes()
        status, _, body = get("/atlas/papers/sun2024simple/")
        assert status == 200 and b"A Simple and Effective Pruning Approach" in body
    finally:
        server.shutdown()
        server.server_close()


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


def test_zoo_names_in_a_config_come_from_zoo_json_or_else_from_their_shape():
    config = {"small": "zoo-180k", "pool": ["zoo-1.3m", {"draft": "zoo-50k"}], "note": "zoo-180k again", "n": 3}
    assert zoo_names_in(config, {"zoo-180k": 1, "zoo-50k": 2}) == ["zoo-180k", "zoo-50k"]
    assert zoo_names_in(config) == ["zoo-180k", "zoo-1.3m", "zoo-50k"]
