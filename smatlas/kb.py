"""The one collection object: taxonomy, tags and papers, with the indexes everything else reads."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from smatlas.errors import DataError, UserError, display_path
from smatlas.load import read_paper, read_tags, read_taxonomy
from smatlas.schema import Paper, Tag, TaxonomyNode

NON_IMPLEMENTATION_MODULES = {"common", "zoo", "tasks", "corpus"}


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder upwards that holds taxonomy/taxonomy.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "taxonomy" / "taxonomy.yaml").is_file():
            return folder
    raise DataError([UserError(str(here), 0, 0, "no taxonomy/taxonomy.yaml here or above; run inside the atlas")])


def paper_files(root: Path) -> list[Path]:
    folder = root / "papers"
    if not folder.is_dir():
        return []
    return sorted(folder / name for name in os.listdir(folder) if name.endswith(".yaml"))


def implementation_ids(root: Path) -> set[str]:
    """Ids of the reference implementations, found without importing them (no torch needed)."""
    folder = root / "reference_impls"
    ids = set()
    if folder.is_dir():
        for file in folder.glob("*.py"):
            if file.stem.startswith("_") or file.stem in NON_IMPLEMENTATION_MODULES:
                continue
            text = file.read_text(encoding="utf-8", errors="replace")
            if "\ndef run(" in text and "\nclass Config" in text:
                ids.add(file.stem.replace("_", "-"))
    return ids


@dataclass
class KnowledgeBase:
    root: Path
    nodes: dict[str, TaxonomyNode]
    tags: dict[str, Tag]
    papers: dict[str, Paper]
    paths: dict[str, str] = field(default_factory=dict)  # paper id -> file path as displayed
    lines: dict[str, int] = field(default_factory=dict)  # node or tag id -> line in its YAML file

    # ---- indexes -------------------------------------------------------------------------------
    @cached_property
    def children(self) -> dict[str | None, list[str]]:
        out: dict[str | None, list[str]] = defaultdict(list)
        for node in self.nodes.values():
            out[node.parent].append(node.id)
        return dict(out)

    @property
    def roots(self) -> list[str]:
        return self.children.get(None, [])

    def ancestors(self, node_id: str) -> list[str]:
        """The node's ancestors from the root down, excluding the node itself."""
        out, seen = [], {node_id}
        parent = self.nodes[node_id].parent
        while parent is not None and parent in self.nodes and parent not in seen:
            out.append(parent)
            seen.add(parent)
            parent = self.nodes[parent].parent
        return out[::-1]

    def branch(self, node_id: str) -> str:
        return (self.ancestors(node_id) or [node_id])[0]

    def subtree(self, node_id: str) -> list[str]:
        """The node and all its descendants, depth first."""
        out, stack = [], [node_id]
        while stack:
            current = stack.pop()
            if current in out:
                continue
            out.append(current)
            stack.extend(reversed(self.children.get(current, [])))
        return out

    @cached_property
    def papers_by_node(self) -> dict[str, list[str]]:
        """Paper ids placed directly in each node."""
        out: dict[str, list[str]] = defaultdict(list)
        for paper in self.papers.values():
            for node in paper.taxonomy:
                out[node].append(paper.id)
        return dict(out)

    def papers_in(self, node_id: str, recursive: bool = True) -> list[Paper]:
        """Papers of a node (and of its subtree when recursive), each once, newest first."""
        ids: dict[str, None] = {}
        for node in self.subtree(node_id) if recursive else [node_id]:
            ids.update(dict.fromkeys(self.papers_by_node.get(node, [])))
        return sorted((self.papers[i] for i in ids), key=lambda p: (-p.year, p.title.lower()))

    @cached_property
    def papers_by_tag(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for paper in self.papers.values():
            for tag in paper.tags:
                out[tag].append(paper.id)
        return dict(out)

    @cached_property
    def cited_by(self) -> dict[str, list[tuple[str, str]]]:
        """Incoming relations: paper id -> [(relation type, id of the paper that points here)]."""
        out: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for paper in self.papers.values():
            for rel in paper.relations:
                out[rel.paper].append((rel.type, paper.id))
        return dict(out)

    @cached_property
    def implementations(self) -> set[str]:
        return implementation_ids(self.root)


def load(root: Path, files: list[Path] | None = None) -> tuple[KnowledgeBase, list[UserError]]:
    """Load the atlas under `root`, collecting every per-file error. Invalid papers are left out."""
    errors: list[UserError] = []
    nodes: dict[str, TaxonomyNode] = {}
    tags: dict[str, Tag] = {}
    lines: dict[str, int] = {}
    for reader, store, where in (
        (read_taxonomy, nodes, "taxonomy/taxonomy.yaml"),
        (read_tags, tags, "taxonomy/tags.yaml"),
    ):
        items, errs = reader(root)
        errors += errs
        for obj, line in items:
            if obj.id in store:
                errors.append(UserError(where, line, 1, f"id: '{obj.id}' is already used on line {lines[obj.id]}"))
                continue
            store[obj.id] = obj
            lines.setdefault(obj.id, line)
    papers: dict[str, Paper] = {}
    paths: dict[str, str] = {}
    for file in paper_files(root) if files is None else files:
        paper, errs = read_paper(file, root)
        errors += errs
        if paper is not None:
            if paper.id in papers:
                where = display_path(file, root)
                errors.append(UserError(where, 1, 1, f"id: '{paper.id}' is also used by {paths[paper.id]}"))
                continue
            papers[paper.id] = paper
            paths[paper.id] = display_path(file, root)
    kb = KnowledgeBase(
        root=root,
        nodes=nodes,
        tags=tags,
        papers=papers,
        paths=paths,
        lines=lines,
    )
    return kb, errors
