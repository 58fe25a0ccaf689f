"""Write the Markdown pages, the data files, the nav and mkdocs.yml into a work folder, render them
with mkdocs-material (strict: any warning fails the build), then index them for search (Pagefind).

Papers stay out of the nav (their section has an index page instead) and the theme prunes the nav,
so the cost of a build grows linearly with the number of papers.
"""

from __future__ import annotations

import http.server
import json
import logging
import os
from functools import partial
from pathlib import Path

import yaml

from smatlas.errors import DataError
from smatlas.kb import KnowledgeBase
from smatlas.schema import json_schema
from smatlas.site import downloads, search
from smatlas.site.markup import esc
from smatlas.site.pages import SITE_DESCRIPTION, SITE_NAME, Atlas, impl_url, node_bib, tag_bib

ASSETS = Path(__file__).resolve().parents[2] / "site"  # the repository's site/ folder: CSS, JS, overrides


class SiteError(Exception):
    """The site could not be built (mkdocs reported a problem, or the output folder is unsafe)."""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def mkdocs_config(atlas: Atlas, docs: Path, out: Path) -> dict:
    kb = atlas.kb

    def node_nav(node_id: str):
        title = esc(kb.nodes[node_id].title)
        kids = kb.children.get(node_id, [])
        page = f"nodes/{node_id}/index.md"
        if not kids:
            return {title: page}
        return {title: [page] + [node_nav(k) for k in kids]}

    impls = [{esc(atlas.impl_summary(i)["title"]): f"{impl_url(i)}index.md"} for i in atlas.impl_pages]
    nav = [
        {"Home": "index.md"},
        {"Taxonomy": ["nodes/index.md"] + [node_nav(r) for r in kb.roots]},
        {"Papers": "papers/index.md"},
        {"Implementations": ["implementations/index.md", *impls]},
        {"Tags": ["tags/index.md"] + [{esc(t.title): f"tags/{t.id}/index.md"} for t in kb.tags.values()]},
        {"Statistics": "stats.md"},
        {"What's new": "new.md"},
        {"Downloads": "downloads/index.md"},
        {"Cite": "cite.md"},
        {"Contribute": "contribute.md"},
    ]
    site = atlas.config
    licences = [
        {"what": what, "name": site.licence(key)[0], "url": site.licence(key)[1]}
        for what, key in (("Code", site.code_license), ("Content", site.content_license))
        if key
    ]
    extra = {"licences": licences, "generator": False}
    repo = {}
    if site.repo_url:
        repo = {"repo_url": site.repo_url, "repo_name": site.repo_url.rstrip("/").split("/", 3)[-1], "edit_uri": ""}
    return {
        "site_name": SITE_NAME,
        "site_description": SITE_DESCRIPTION,
        "site_url": site.site_base or None,
        **repo,
        "docs_dir": str(docs),
        "site_dir": str(out),
        "use_directory_urls": True,
        "nav": nav,
        "extra": extra,
        "theme": {
            "name": "material",
            "custom_dir": str(ASSETS / "overrides"),
            "font": False,
            "language": "en",
            "features": [
                "navigation.tabs",
                "navigation.indexes",
                "navigation.prune",
                "navigation.top",
                "search.highlight",
                "content.code.copy",
            ],
            "palette": [
                {
                    "media": "(prefers-color-scheme: light)",
                    "scheme": "default",
                    "primary": "teal",
                    "accent": "deep orange",
                    "toggle": {"icon": "material/weather-night", "name": "Switch to dark mode"},
                },
                {
                    "media": "(prefers-color-scheme: dark)",
                    "scheme": "slate",
                    "primary": "teal",
                    "accent": "deep orange",
                    "toggle": {"icon": "material/weather-sunny", "name": "Switch to light mode"},
                },
            ],
        },
        # Only the search plugin: no privacy/social plugins (they fetch from the network).
        "plugins": ["search"],
        "markdown_extensions": ["attr_list", {"toc": {"permalink": True}}],
        "hooks": [str(Path(__file__).with_name("hooks.py"))],
        "extra_css": ["assets/atlas.css"],
        "extra_javascript": ["assets/atlas.js"],
        "validation": {
            "nav": {"omitted_files": "ignore", "not_found": "warn", "absolute_links": "warn"},
            "links": {"not_found": "warn", "absolute_links": "warn", "unrecognized_links": "warn", "anchors": "warn"},
        },
    }


def write_sources(kb: KnowledgeBase, work: Path, out: Path, atlas: Atlas | None = None) -> Path:
    """Write docs/, the search records and mkdocs.yml into `work`; return the path of mkdocs.yml."""
    atlas = atlas or Atlas(kb)
    results = atlas.results  # read first, so that a broken results file stops the build early
    if atlas.errors:
        raise DataError(atlas.errors)
    del results
    if work.exists():
        if any(work.iterdir()) and not (work / "mkdocs.yml").exists():
            raise SiteError(f"{work} is not empty and does not hold generated sources; move it away first")
    docs = work / "docs"
    pages: dict[str, str] = {
        "index.md": atlas.home(),
        "nodes/index.md": atlas.nodes_index(),
        "papers/index.md": atlas.papers_index(),
        "tags/index.md": atlas.tags_index(),
        "stats.md": atlas.stats_page(),
        "new.md": atlas.whats_new(),
        "contribute.md": atlas.contribute(),
        "cite.md": atlas.cite_page(),
        "implementations/index.md": atlas.impls_index(),
    }
    for impl in atlas.impl_pages:
        pages[f"{impl_url(impl)}index.md"] = atlas.impl_page(impl)
    for node_id in kb.nodes:
        pages[f"nodes/{node_id}/index.md"] = atlas.node_page(node_id)
    for tag_id in kb.tags:
        pages[f"tags/{tag_id}/index.md"] = atlas.tag_page(tag_id)
    for paper in kb.papers.values():
        pages[f"papers/{paper.id}.md"] = atlas.paper_page(paper)

    files: dict[str, str] = {
        "downloads/papers.json": downloads.papers_json(kb),
        "downloads/papers.csv": downloads.papers_csv(kb),
        "downloads/atlas.bib": downloads.atlas_bib(kb),
        "downloads/schema.json": json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n",
        "feed.xml": downloads.atom_feed(kb, atlas.newest, atlas.config.site_base),
    }
    if atlas.cff_text:
        files["downloads/CITATION.cff"] = atlas.cff_text
    for node_id in kb.nodes:
        files[node_bib(node_id)] = downloads.node_bib(kb, node_id, atlas.bibtex_entries)
    for tag_id in kb.tags:
        files[tag_bib(tag_id)] = downloads.papers_bib(atlas.tag_papers(tag_id), atlas.bibtex_entries)
    sizes = {path: len(text.encode("utf-8")) for path, text in files.items()}
    pages["downloads/index.md"] = atlas.downloads_page(sizes)

    for asset in (ASSETS / "assets").iterdir():
        files[f"assets/{asset.name}"] = asset.read_text(encoding="utf-8")
    sync_folder(docs, {**pages, **files})
    sync_folder(work / "search", search.record_pages(atlas.search_records))
    config = work / "mkdocs.yml"
    _write(config, yaml.safe_dump(mkdocs_config(atlas, docs, out), sort_keys=False, allow_unicode=True))
    return config


def sync_folder(folder: Path, contents: dict[str, str]) -> None:
    """Make `folder` hold exactly `contents` (relative path -> text), rewriting only the files that
    changed: on a slow disk, deleting and recreating 10,000 unchanged files costs more than the build."""
    wanted = {folder / path: text for path, text in contents.items()}
    if folder.exists():
        for file in [f for f in folder.rglob("*") if f.is_file() and f not in wanted]:
            file.unlink()
    for path, text in wanted.items():
        try:
            if path.read_text(encoding="utf-8") == text:
                continue
        except (FileNotFoundError, UnicodeDecodeError):
            pass
        _write(path, text)


def _check_output(out: Path) -> None:
    """mkdocs empties the output folder: refuse one that holds anything but a previous build."""
    if out.exists() and any(out.iterdir()) and not (out / "sitemap.xml").exists():
        raise SiteError(f"{out} is not empty and does not hold a previous build; choose an empty folder")


def build_site(kb: KnowledgeBase, out: Path, strict: bool = True, work: Path | None = None) -> Path:
    """Build the static site into `out`. The generated sources go to `work` (default: beside `out`,
    `docs_build` for site/build, else `<name>-docs_build`). Returns the path of the generated mkdocs.yml."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    out = out.resolve()
    _check_output(out)
    work = (work or out.parent / ("docs_build" if out.name == "build" else f"{out.name}-docs_build")).resolve()
    atlas = Atlas(kb)
    config_file = write_sources(kb, work, out, atlas)
    try:
        indexing = search.start_index(work / "search", work / "pagefind")
    except OSError as exc:
        raise SiteError(f"the search index could not be built: {exc}") from None
    log = logging.getLogger("mkdocs")
    if not log.handlers:  # show mkdocs' warnings when no one configured logging (the command line)
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s - %(message)s"))
        handler.setLevel(logging.WARNING)
        log.addHandler(handler)
    try:
        config = load_config(config_file=str(config_file), strict=strict)
        build(config)
    except MkDocsException as exc:
        indexing.kill()
        indexing.communicate()
        raise SiteError(f"mkdocs could not build the site: {exc}") from None
    try:
        search.finish_index(indexing, work / "pagefind", out, atlas.search_records)
    except (OSError, search.SearchError) as exc:
        raise SiteError(f"the search index could not be built: {exc}") from None
    return config_file


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site under the path of its configured URL (`prefix`, as on the real host, so
    that the 404 page's absolute links work), redirects / there, and answers a missing page with the
    site's own 404 page."""

    prefix = "/"

    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        if not str(args[1] if len(args) > 1 else "").startswith(("2", "3")):
            super().log_message(format, *args)

    def translate_path(self, path: str) -> str:
        if self.prefix != "/" and path.startswith(self.prefix):
            path = "/" + path[len(self.prefix) :]
        return super().translate_path(path)

    def send_head(self):
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if self.prefix != "/" and not path.startswith(self.prefix):
            if path in ("", "/"):
                self.send_response(302)
                self.send_header("Location", self.prefix)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            return self._not_found()
        target = Path(self.translate_path(self.path))
        if not target.exists() or (target.is_dir() and not (target / "index.html").is_file()):
            return self._not_found()
        return super().send_head()

    def _not_found(self):
        page = Path(self.directory) / "404.html"
        body = page.read_bytes() if page.is_file() else b"Not found"
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        import io

        return io.BytesIO(body)


def serve(folder: Path, host: str = "127.0.0.1", port: int = 8000, prefix: str = "/") -> None:
    """Serve a built site; `prefix` is the path of the site URL (e.g. /small-models-atlas/)."""
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    handler = partial(type("Handler", (SiteHandler,), {"prefix": prefix}), directory=str(folder))
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        print(f"serving {folder} at http://{host}:{port}{prefix} (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
