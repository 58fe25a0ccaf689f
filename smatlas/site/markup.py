"""Safe output: every string that comes from YAML passes through one of these before it reaches a page.

Pages are Markdown whose data parts are raw HTML blocks, so a YAML string is HTML-escaped (`esc`);
the one place where YAML text is written as Markdown (a page's `#` title) also gets its Markdown
syntax escaped (`md_text`). Links to other hosts are rendered only when they are http or https.
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


def ext_link(url: str | None, label: str, cls: str = "") -> str:
    """An external link, or the escaped label alone when the URL is not http(s)."""
    target = safe_url(url)
    if target is None:
        return esc(label)
    klass = f' class="{cls}"' if cls else ""
    return f'<a href="{esc(target)}"{klass} rel="noopener">{esc(label)}</a>'


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
