"""The built site in a real Chromium (Debian's, driven by Playwright): search (method names, model
names, typos, look-alikes), navigation, table filters kept in the address, BibTeX of a filtered view,
the phone layout, meta tags and links, no request off 127.0.0.1, no console errors, no script from
hostile YAML, screenshots.

Each site is built once per session (tests/site_support.py) and served on a free port.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from site_support import XSS_TITLE, Server, hostile_site, real_site

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent.parent / "test-output"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("the browser tests need Debian's chromium: run 'make test' as root, or 'apt-get install chromium'")
    SHOTS.mkdir(exist_ok=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def real():
    kb, out = real_site()
    with Server(out) as server:
        yield kb, server.url


@pytest.fixture(scope="module")
def hostile():
    kb, out = hostile_site()
    with Server(out) as server:
        yield kb, server.url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def heading(page) -> str:
    return page.locator("h1").inner_text().replace("¶", "").strip()


def search(page, base: str, query: str) -> list[str]:
    """Type a query into Material's search box; return the result links (site-relative) once the
    results for the whole query are shown."""
    page.goto(base)
    page.keyboard.press("/")
    page.locator(".md-search__input").press_sequentially(query)
    page.wait_for_selector(".md-search-result__item")
    page.wait_for_timeout(400)  # answers to the query's first letters may come before the last one's
    links = page.locator(".md-search-result__item > a").evaluate_all("els => els.map(e => e.href)")
    return [urlsplit(href).path.lstrip("/") for href in links]


def unique_word(kb, text) -> tuple[str, str]:
    """A (paper id, word) such that the word starts a word of exactly one paper's searchable text."""
    words = {pid: set(re.findall(r"[a-z]{6,}", text(p).lower())) for pid, p in kb.papers.items()}
    everything = Counter(w for ws in words.values() for w in ws)
    for pid in sorted(words):
        for word in sorted(words[pid]):
            prefix_hits = sum(n for w, n in everything.items() if w.startswith(word))
            if prefix_hits == 1:
                return pid, word
    raise AssertionError("no word unique to one paper")


def searchable(p) -> str:
    models = (p.models.small + p.models.large) if p.models else []
    return " ".join([p.title, *p.authors, p.venue.name, p.summary, *models])


def test_search_for_a_title_word_finds_the_paper(page, real):
    kb, base = real
    pid, word = unique_word(kb, searchable)
    assert f"papers/{pid}/" in search(page, base, word)


def test_search_finds_method_names_model_names_and_typos_but_not_look_alikes(page, real):
    kb, base = real
    # "Wanda" is in the summary and the code address of the Wanda paper, not in its title (Wanda++,
    # which builds on it, has it in its title)
    assert "Wanda" not in kb.papers["sun2024simple"].title
    assert "papers/sun2024simple/" in search(page, base, "Wanda")[:3]
    # a model of the paper's `models` list, named nowhere in its title
    llama = search(page, base, "LLaMA-7B")
    assert "papers/sun2024simple/" in llama
    # one letter missing ("distilation") and two letters swapped ("specualtive"): both are found
    typo = search(page, base, "distilation")
    assert any("distil" in kb.papers[u.split("/")[1]].title.lower() for u in typo if u.startswith("papers/"))
    swapped = search(page, base, "specualtive")
    assert "papers/leviathan2023fast/" in swapped
    # "Phi-3": every one of the first six results is about Phi, none is a GPT-3 look-alike
    phi = [u.split("/")[1] for u in search(page, base, "Phi-3") if u.startswith("papers/")][:6]
    assert phi and phi[0] == "abdin2024phi"
    assert all("phi" in searchable(kb.papers[pid]).lower() for pid in phi), phi
    annotator = [pid for pid, p in kb.papers.items() if p.title.startswith("Is GPT-3 a Good Data Annotator")]
    assert not set(annotator) & set(phi)


def test_search_for_an_author_family_name_finds_their_paper(page, real):
    kb, base = real
    family = {pid: p.authors[0].split()[-1] for pid, p in kb.papers.items()}
    counts = Counter(w.lower() for p in kb.papers.values() for w in set(re.findall(r"\w+", searchable(p))))
    pid = next(pid for pid in sorted(family) if counts[family[pid].lower()] == 1 and len(family[pid]) > 3)
    results = search(page, base, family[pid])
    assert f"papers/{pid}/" in results[:10], (family[pid], results[:10])


def test_home_then_node_then_paper(page, real):
    kb, base = real
    page.goto(base)
    page.screenshot(path=str(SHOTS / "home.png"), full_page=True)
    page.locator("svg.atlas-tree a[href='nodes/routing/']").click()
    page.wait_for_url("**/nodes/routing/")
    assert heading(page) == kb.nodes["routing"].title
    page.screenshot(path=str(SHOTS / "node.png"), full_page=True)
    first = page.locator("[data-atlas-papers] tbody tr").first.locator("td a").first
    title = first.inner_text()
    first.click()
    page.wait_for_url("**/papers/*/")
    pid = urlsplit(page.url).path.rstrip("/").rsplit("/", 1)[-1]
    assert heading(page) == kb.papers[pid].title == title
    page.screenshot(path=str(SHOTS / "paper.png"), full_page=True)
    page.locator("label", has_text="Plain text").click()
    assert kb.papers[pid].authors[0] in page.locator(".tabbed-block pre").nth(1).inner_text()


def visible_rows(page) -> int:
    return page.locator("[data-atlas-papers] tbody tr:not([hidden])").count()


def test_node_table_filters_reduce_rows_as_expected(page, real):
    kb, base = real
    papers = kb.papers_in("collaboration")
    page.goto(base + "nodes/collaboration/")
    form = page.locator("form.atlas-filters")
    assert visible_rows(page) == len(papers)
    form.locator("input[name=from]").fill("2024")
    assert visible_rows(page) == sum(p.year >= 2024 for p in papers)
    form.locator("select[name=code]").select_option("yes")
    assert visible_rows(page) == sum(p.year >= 2024 and bool(p.code) for p in papers)
    form.locator("button[type=reset]").click()
    page.wait_for_timeout(50)
    assert visible_rows(page) == len(papers)
    form.locator("select[name=kind]").select_option("preprint")
    assert visible_rows(page) == sum(p.venue.kind == "preprint" for p in papers)
    form.locator("select[name=kind]").select_option("")
    tag = Counter(t for p in papers for t in p.tags).most_common(1)[0][0]
    form.locator("select[name=tag]").select_option(tag)
    assert visible_rows(page) == sum(tag in p.tags for p in papers)
    form.locator("select[name=tag]").select_option("")
    target = papers[len(papers) // 2]
    form.locator("input[name=q]").fill(target.title.lower())
    assert 1 <= visible_rows(page) < len(papers)
    assert (
        page.locator("[data-atlas-papers] tbody tr:not([hidden]) td:first-child").all_inner_texts().count(target.title)
        == 1
    )
    assert f"of {len(papers)} papers" in form.locator(".atlas-count").inner_text()


def test_table_sorts_by_year(page, real):
    kb, base = real
    page.goto(base + "nodes/competition/")
    header = page.locator("[data-atlas-papers] th", has_text="Year")
    header.click()
    years = [int(y) for y in page.locator("[data-atlas-papers] tbody td:nth-child(3)").all_inner_texts()]
    assert years == sorted(years)
    header.click()
    years = [int(y) for y in page.locator("[data-atlas-papers] tbody td:nth-child(3)").all_inner_texts()]
    assert years == sorted(years, reverse=True)


MAIN_PAGES = ["", "nodes/", "nodes/routing/", "papers/", "papers/leviathan2023fast/", "tags/", "tags/method/",
              "stats/", "new/", "downloads/", "contribute/"]  # fmt: skip


def test_no_request_leaves_localhost_and_no_console_errors(page, real):
    kb, base = real
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    for path in MAIN_PAGES:
        page.goto(base + path, wait_until="networkidle")
    page.keyboard.press("/")
    page.locator(".md-search__input").press_sequentially("distillation")
    page.wait_for_selector(".md-search-result__item")
    page.emulate_media(color_scheme="dark")
    page.goto(base + "nodes/routing/", wait_until="networkidle")
    page.screenshot(path=str(SHOTS / "node-dark.png"))
    off_site = {u for u in requests if urlsplit(u).hostname != "127.0.0.1" and not u.startswith(("data:", "blob:"))}
    assert not off_site
    assert not errors


def test_hostile_atlas_runs_no_script(page, hostile):
    kb, base = hostile
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    hover_everything = (
        "document.querySelectorAll('*').forEach(e => e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})))"
    )
    for path in ["", "nodes/routing/", "nodes/collaboration/", "papers/hostile2024img/", "papers/hostile2024markdown/",
                 "tags/method/", "tags/", "new/", "papers/", "stats/", "downloads/"]:  # fmt: skip
        page.goto(base + path, wait_until="networkidle")
        page.evaluate(hover_everything)
    page.goto(base + "papers/hostile2024img/")
    assert heading(page) == XSS_TITLE
    page.keyboard.press("/")
    page.locator(".md-search__input").press_sequentially("onerror")
    page.wait_for_selector(".md-search-result__item")
    page.wait_for_timeout(300)
    assert XSS_TITLE in page.locator(".md-search-result").inner_text()
    page.screenshot(path=str(SHOTS / "hostile-search.png"))
    assert dialogs == []


def test_filtered_view_survives_a_reload_and_downloads_its_bibtex(page, real, browser):
    kb, base = real
    page.goto(base + "papers/")
    form = page.locator("form.atlas-filters")
    form.locator("select[name=topic]").select_option("pruning")
    form.locator("input[name=from]").fill("2024")
    expected = sum(1 for p in kb.papers_in("pruning") if p.year >= 2024)
    assert visible_rows(page) == expected > 0
    page.locator("[data-atlas-papers] th", has_text="Year").click()
    shared = page.url
    assert "topic=pruning" in shared and "from=2024" in shared and "sort=year" in shared
    other = browser.new_page()
    try:
        other.goto(shared)
        assert other.locator("form.atlas-filters select[name=topic]").input_value() == "pruning"
        assert other.locator("[data-atlas-papers] tbody tr:not([hidden])").count() == expected
        years = [
            int(y)
            for y in other.locator("[data-atlas-papers] tbody tr:not([hidden]) td:nth-child(3)").all_inner_texts()
        ]
        assert years == sorted(years)
        assert f"{expected} of " in other.locator(".atlas-count").inner_text()
    finally:
        other.close()
    keys = page.locator("[data-atlas-papers] tbody tr:not([hidden])").evaluate_all("rs => rs.map(r => r.dataset.key)")
    with page.expect_download() as info:
        page.locator("[data-atlas-bib]").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert sorted(re.findall(r"^@\w+\{([^,]+),", text, re.M)) == sorted(keys)


def text_sizes(page, selector: str) -> list[float]:
    """The font size each SVG text is drawn at, in CSS pixels (its size times the SVG's scale)."""
    sizes = page.evaluate(
        f"() => Array.from(document.querySelectorAll('{selector}')).map(t => {{"
        " const svg = t.ownerSVGElement; const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;"
        " return parseFloat(getComputedStyle(t).fontSize) * scale; })"
    )
    assert sizes, f"no {selector} on {page.url}"
    return sizes


def test_phone_layout_fits_the_viewport(browser, real):
    kb, base = real
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(base + "nodes/pruning/")
        too_wide = page.evaluate(
            "() => Array.from(document.querySelectorAll('[data-atlas-papers] *'))"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth).map(e => e.tagName + ' ' + e.className)"
        )
        assert not too_wide, too_wide[:5]
        row = page.locator("[data-atlas-papers] tbody tr").first
        for label in ("Year", "Code", "Title"):
            box = row.locator(f"td[data-label={label}]").bounding_box()
            assert box and box["width"] > 0 and box["x"] >= 0 and box["x"] + box["width"] <= 390, label
        assert row.locator("td[data-label=Year]").inner_text().strip().isdigit()
        page.screenshot(path=str(SHOTS / "node-390.png"))
        page.goto(base + "implementations/pruning/")
        verdict = page.locator(".atlas-findings td[data-label=Verdict]").first
        box = verdict.bounding_box()
        assert verdict.is_visible() and box["x"] + box["width"] <= 390
        assert min(text_sizes(page, "svg.atlas-chart text")) >= 11
        page.goto(base)
        assert min(text_sizes(page, "svg.atlas-tree text")) >= 11
        page.screenshot(path=str(SHOTS / "home-390.png"))
        page.goto(base + "papers/sun2024simple/")
        page.screenshot(path=str(SHOTS / "paper-390.png"), full_page=True)
    finally:
        context.close()


def test_paper_page_meta_tags_and_links(page, real):
    from smatlas.site.config import read_config

    kb, base = real
    config = read_config(kb.root)
    paper = kb.papers["sun2024simple"]
    page.goto(base + f"papers/{paper.id}/")
    assert page.locator("meta[name=citation_title]").get_attribute("content") == paper.title
    assert page.locator("meta[name=citation_author]").count() == len(paper.authors)
    assert page.locator("meta[property='og:title']").get_attribute("content") == paper.title
    assert page.locator("link[rel=canonical]").get_attribute("href") == f"{config.site_base}papers/{paper.id}/"
    assert page.locator("header a.md-source").get_attribute("href") == config.repo_url
    edit = page.get_by_role("link", name="Edit this paper").get_attribute("href")
    assert edit == f"{config.repo_url}/edit/main/papers/{paper.id}.yaml"
    report = page.get_by_role("link", name="Report an error").get_attribute("href")
    assert report.startswith(config.repo_url + "/issues/new?") and f"paper={paper.id}" in report
    for label in ("Abstract", "PDF", "Semantic Scholar", "Google Scholar", "Code"):
        assert page.locator(".atlas-links a", has_text=label).count() == 1, label
    footer = page.locator("footer").inner_text()
    assert "MIT" in footer and "CC BY 4.0" in footer
    page.locator("footer a", has_text="Cite the atlas").click()
    page.wait_for_url("**/cite/")
    assert "@misc{small_models_atlas," in page.locator(".tabbed-block pre").first.inner_text()
