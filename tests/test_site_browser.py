"""The built site in a real Chromium (Debian's, driven by Playwright): search, navigation, table
filters, no request off 127.0.0.1, no console errors, no script from hostile YAML, screenshots.

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
    """Type a query into Material's search box; return the result links (site-relative)."""
    page.goto(base)
    page.keyboard.press("/")
    page.locator(".md-search__input").press_sequentially(query)
    page.wait_for_selector(".md-search-result__item")
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


def test_search_for_a_title_word_finds_the_paper(page, real):
    kb, base = real
    pid, word = unique_word(kb, lambda p: p.title + " " + " ".join(p.authors) + " " + p.venue.name)
    assert f"papers/{pid}/" in search(page, base, word)


def test_search_for_an_author_family_name_finds_their_paper(page, real):
    kb, base = real
    family = {pid: p.authors[0].split()[-1] for pid, p in kb.papers.items()}
    counts = Counter(f.lower() for f in family.values())
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
