"""Write the Markdown pages, the data files, the nav and mkdocs.yml into a work folder, then render
them with mkdocs-material (strict: any warning fails the build).

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
from smatlas.site import downloads
from smatlas.site.markup import esc
from smatlas.site.pages import SITE_NAME, Atlas, node_bib

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

    nav = [
        {"Home": "index.md"},
        {"Taxonomy": ["nodes/index.md"] + [node_nav(r) for r in kb.roots]},
        {"Papers": "papers/index.md"},
        {"Tags": ["tags/index.md"] + [{esc(t.title): f"tags/{t.id}/index.md"} for t in kb.tags.values()]},
        {"Statistics": "stats.md"},
        {"What's new": "new.md"},
        {"Downloads": "downloads/index.md"},
        {"Contribute": "contribute.md"},
    ]
    return {
        "site_name": SITE_NAME,
        "site_description": "A curated, verified and runnable map of research on small models in the LLM era",
        "docs_dir": str(docs),
        "site_dir": str(out),
        "use_directory_urls": True,
        "nav": nav,
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


def write_sources(kb: KnowledgeBase, work: Path, out: Path) -> Path:
    """Write docs/ and mkdocs.yml into `work`; return the path of mkdocs.yml."""
    atlas = Atlas(kb)
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
    }
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
        "feed.xml": downloads.atom_feed(kb, atlas.newest),
    }
    for node_id in kb.nodes:
        files[node_bib(node_id)] = downloads.node_bib(kb, node_id, atlas.bibtex_entries)
    sizes = {path: len(text.encode("utf-8")) for path, text in files.items()}
    pages["downloads/index.md"] = atlas.downloads_page(sizes)

    for asset in (ASSETS / "assets").iterdir():
        files[f"assets/{asset.name}"] = asset.read_text(encoding="utf-8")
    sync_folder(docs, {**pages, **files})
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
    config_file = write_sources(kb, work, out)
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
        raise SiteError(f"mkdocs could not build the site: {exc}") from None
    return config_file


def serve(folder: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        print(f"serving {folder} at http://{host}:{port}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
