"""Site generation: Markdown pages and a nav written into a build folder, rendered by mkdocs-material.

This first version writes a home page and one page per taxonomy node listing its papers.
"""

from __future__ import annotations

import html
import http.server
import os
import shutil
import tempfile
from functools import partial
from pathlib import Path

from smatlas.kb import KnowledgeBase


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _node_page(kb: KnowledgeBase, node_id: str) -> str:
    node = kb.nodes[node_id]
    papers = kb.papers_in(node_id)
    out = [f"# {_esc(node.title)}", "", _esc(node.description), ""]
    kids = kb.children.get(node_id, [])
    if kids:
        out += ["## Sub-topics", ""] + [f"- [{_esc(kb.nodes[k].title)}]({k}.md)" for k in kids] + [""]
    out += [
        f"## Papers ({len(papers)})",
        "",
        "<table><thead><tr><th>Title</th><th>Authors</th><th>Year</th><th>Venue</th></tr></thead><tbody>",
    ]
    for p in papers:
        authors = ", ".join(p.authors[:3]) + (" et al." if len(p.authors) > 3 else "")
        out.append(
            f"<tr><td>{_esc(p.title)}</td><td>{_esc(authors)}</td><td>{p.year}</td><td>{_esc(p.venue.name)}</td></tr>"
        )
    out += ["</tbody></table>", ""]
    return "\n".join(out)


def build_site(kb: KnowledgeBase, out: Path, strict: bool = True) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    with tempfile.TemporaryDirectory(prefix="smatlas-site-") as tmp:
        docs = Path(tmp) / "docs"
        (docs / "nodes").mkdir(parents=True)
        home = ["# Small Models Atlas", "", f"{len(kb.papers)} papers in {len(kb.nodes)} taxonomy nodes.", ""]
        nav = [{"Home": "index.md"}]

        def walk(node_id: str, depth: int) -> None:
            home.append(
                f"{'    ' * depth}- [{_esc(kb.nodes[node_id].title)}](nodes/{node_id}.md) ({len(kb.papers_in(node_id))})"
            )
            (docs / "nodes" / f"{node_id}.md").write_text(_node_page(kb, node_id), encoding="utf-8")
            nav.append({kb.nodes[node_id].title: f"nodes/{node_id}.md"})
            for child in kb.children.get(node_id, []):
                walk(child, depth + 1)

        for root in kb.roots:
            walk(root, 0)
        (docs / "index.md").write_text("\n".join(home) + "\n", encoding="utf-8")
        config = load_config(
            config_file=None,
            site_name="Small Models Atlas",
            docs_dir=str(docs),
            site_dir=str(out),
            theme={"name": "material", "font": False},
            nav=nav,
            strict=strict,
        )
        os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
        if out.exists():
            shutil.rmtree(out)
        build(config)


def serve(folder: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        print(f"serving {folder} at http://{host}:{port}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
