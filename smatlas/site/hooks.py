"""mkdocs hooks that put each page's HTML fragments in place.

A generated page ends with an appendix of HTML fragments (see `pages.assemble`): the big tables,
lists, diagrams and citations. `on_page_markdown` cuts the appendix off before Markdown runs, and
`on_post_page` puts each fragment where its `<!--atlas:N-->` slot is in the finished page, and the
`head` fragment (the page's meta tags) before `</head>`. So neither Python-Markdown nor the front
matter's YAML parser see thousands of table rows or tags, and the build stays fast.
"""

from __future__ import annotations

import re

FRAGMENTS_MARK = "\n<!-- atlas-fragments -->\n"  # the same marker as pages.FRAGMENTS_MARK
_SLOT = re.compile(r"<!--atlas:(\d+)-->")
_fragments: dict[str, dict[str, str]] = {}


def on_page_markdown(markdown: str, page, **kwargs) -> str:
    body, found, appendix = markdown.partition(FRAGMENTS_MARK)
    if found:
        parts = re.split(r"^<!--atlas:(\d+|head)-->\n", appendix, flags=re.M)
        _fragments[page.file.src_uri] = dict(zip(parts[1::2], (p.rstrip("\n") for p in parts[2::2]), strict=True))
    return body


def on_post_page(output: str, page, **kwargs) -> str:
    fragments = _fragments.pop(page.file.src_uri, None)
    if not fragments:
        return output
    head = fragments.pop("head", "")
    if head:
        output = output.replace("</head>", head + "\n</head>", 1)
    return _SLOT.sub(lambda m: fragments.get(m.group(1), ""), output)
