"""Counts over the atlas: per node (subtree), per year, per venue kind, and the share with code."""

from __future__ import annotations

from collections import Counter

from smatlas.kb import KnowledgeBase


def node_counts(kb: KnowledgeBase) -> dict[str, int]:
    """Papers per node, counting the node's whole subtree, each paper once."""
    return {node: len(kb.papers_in(node)) for node in kb.nodes}


def stats_text(kb: KnowledgeBase) -> str:
    counts = node_counts(kb)
    lines = [
        f"{len(kb.papers)} papers, {len(kb.nodes)} nodes, {len(kb.tags)} tags",
        "",
        "papers per node (with subtree):",
    ]

    def walk(node: str, depth: int) -> None:
        lines.append(f"  {'  ' * depth}{node:<{34 - 2 * depth}} {counts[node]:>4}")
        for child in kb.children.get(node, []):
            walk(child, depth + 1)

    for root in kb.roots:
        walk(root, 0)
    years = Counter(p.year for p in kb.papers.values())
    lines += ["", "papers per year:"] + [f"  {y}  {years[y]:>4}" for y in sorted(years)]
    kinds = Counter(p.venue.kind for p in kb.papers.values())
    lines += ["", "papers per venue kind:"] + [f"  {k:<11} {n:>4}" for k, n in kinds.most_common()]
    with_code = sum(1 for p in kb.papers.values() if p.code)
    share = with_code / len(kb.papers) if kb.papers else 0.0
    lines += ["", f"share with code: {with_code}/{len(kb.papers)} = {share:.0%}"]
    return "\n".join(lines)
