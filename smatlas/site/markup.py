"""Safe output outside the templates (which autoescape), and URL helpers.

A page's body is rendered by a Jinja2 template with autoescaping. The one place where YAML text is
written as Markdown (a page's `#` title) gets its HTML and Markdown syntax escaped (`md_text`); a
title in front matter or the nav is HTML-escaped (`esc`). Links to other hosts are rendered only
when they are http or https (`safe_url`).
"""

from __future__ import annotations

import html
from urllib.parse import quote, urlsplit

# Characters Python-Markdown treats as escapable (core plus the tables extension's `|`).
_MD_ESCAPABLE = set("\\`*_{}[]()#+-.!|")


def esc(text: object) -> str:
    """HTML-escape text (quotes included) and fold whitespace, so no value can open a tag or an
    attribute, or end a raw HTML block with a blank line."""
    return html.escape(" ".join(str(text).split()), quote=True)


def md_text(text: str) -> str:
    """Text safe to place in Markdown inline content, such as a heading: shown literally."""
    folded = " ".join(text.split())
    return html.escape("".join("\\" + c if c in _MD_ESCAPABLE else c for c in folded), quote=True)


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s) with a host, else None (so it is never rendered as a link)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url.strip()):
        return None
    return url.strip()


def arxiv_url(arxiv: str) -> str:
    return f"https://arxiv.org/abs/{quote(arxiv, safe='/.')}"


def doi_url(doi: str) -> str:
    return f"https://doi.org/{quote(doi, safe='/.-_;()')}"


def page_url(md_path: str) -> str:
    """The site URL (directory style, relative to the site root) of a Markdown source path."""
    stem = md_path.removesuffix(".md")
    if stem == "index":
        return ""
    return stem.removesuffix("/index") + "/"


def rel(from_url: str, to: str) -> str:
    """A relative link from the page at `from_url` (directory URL like 'nodes/routing/') to `to`
    (a site-root-relative URL like 'papers/x/' or 'downloads/atlas.bib')."""
    depth = from_url.count("/")
    return "../" * depth + to if (to or depth) else "./"


def authors_short(authors: list[str], limit: int = 3) -> str:
    return ", ".join(authors[:limit]) + (" et al." if len(authors) > limit else "")
