"""Collection checks: what no single file can tell on its own."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection

from smatlas.errors import UserError
from smatlas.ids import follows_rule, rule_ids, unique_id
from smatlas.kb import KnowledgeBase
from smatlas.titles import NEAR_DUPLICATE_SCORE, TitleKey, normalise_title, title_similarity

__all__ = ["NEAR_DUPLICATE_SCORE", "normalise_title", "check_all", "near_duplicate_pairs"]

# HTML in text that should be plain: a tag (`<i>`, `</sub>`, `<script src=...>`), a character
# entity (`&amp;`, `&#39;`) or a javascript: address.
_MARKUP = re.compile(
    r"<\s*/?\s*[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?\s*>|&(?:#[0-9]+|#x[0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]{1,7});"
    r"|\bjavascript\s*:",
    re.IGNORECASE,
)
PLAIN_TEXT_FIELDS = ("title", "summary", "landmark")


def _where(kb: KnowledgeBase, paper_id: str, field: str) -> tuple[str, int, int]:
    """The file and, found cheaply by scanning the text, the line of a top-level field."""
    path = kb.paths[paper_id]
    try:
        lines = (kb.root / path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return path, 0, 0
    for number, line in enumerate(lines, 1):
        if line.startswith(f"{field}:"):
            return path, number, 1
    return path, 1, 1


def check_taxonomy(kb: KnowledgeBase) -> list[UserError]:
    errors = []
    where = "taxonomy/taxonomy.yaml"

    def at(node_id: str) -> tuple[str, int, int]:
        return where, kb.lines.get(node_id, 0), 1 if node_id in kb.lines else 0

    for node in kb.nodes.values():
        if node.parent is not None and node.parent not in kb.nodes:
            errors.append(UserError(*at(node.id), f"parent: '{node.parent}' is not a node id"))
    for node_id in kb.nodes:
        seen, current = set(), node_id
        while current is not None and current in kb.nodes:
            if current in seen:
                errors.append(
                    UserError(
                        *at(node_id),
                        f"parent: following parents from '{node_id}' loops back; the taxonomy must be a tree",
                    )
                )
                break
            seen.add(current)
            current = kb.nodes[current].parent
    for node in kb.nodes.values():
        for impl in node.reference_impls:
            if impl not in kb.implementations:
                errors.append(
                    UserError(*at(node.id), f"reference_impls: '{impl}' is not an implementation in reference_impls/")
                )
    return errors


def check_references(kb: KnowledgeBase) -> list[UserError]:
    errors = []
    for paper in kb.papers.values():
        for node in paper.taxonomy:
            if node not in kb.nodes:
                errors.append(
                    UserError(
                        *_where(kb, paper.id, "taxonomy"), f"taxonomy: '{node}' is not a node of taxonomy/taxonomy.yaml"
                    )
                )
        for tag in paper.tags:
            if tag not in kb.tags:
                errors.append(
                    UserError(
                        *_where(kb, paper.id, "tags"),
                        f"tags: '{tag}' is not in taxonomy/tags.yaml; use a listed tag or propose a new one there",
                    )
                )
        for rel in paper.relations:
            if rel.paper == paper.id:
                errors.append(
                    UserError(*_where(kb, paper.id, "relations"), "relations: a paper cannot relate to itself")
                )
            elif rel.paper not in kb.papers:
                errors.append(
                    UserError(*_where(kb, paper.id, "relations"), f"relations: paper '{rel.paper}' is not in the atlas")
                )
        if paper.reference_impl and paper.reference_impl not in kb.implementations:
            errors.append(
                UserError(
                    *_where(kb, paper.id, "reference_impl"),
                    f"reference_impl: '{paper.reference_impl}' is not an implementation in reference_impls/",
                )
            )
        if len(set(paper.taxonomy)) != len(paper.taxonomy):
            errors.append(UserError(*_where(kb, paper.id, "taxonomy"), "taxonomy: a node is listed twice"))
    return errors


def check_duplicates(kb: KnowledgeBase) -> list[UserError]:
    """Two papers sharing an arXiv id, a DOI or a normalised title are errors; near-identical titles warn."""
    errors = []
    for field, key in (
        ("arxiv", lambda p: p.arxiv),
        ("doi", lambda p: p.doi and p.doi.lower()),
        ("title", lambda p: normalise_title(p.title)),
    ):
        first: dict[str, str] = {}
        for paper in sorted(kb.papers.values(), key=lambda p: p.id):
            value = key(paper)
            if not value:
                continue
            if value in first:
                errors.append(
                    UserError(
                        *_where(kb, paper.id, field),
                        f"{field}: same as in {kb.paths[first[value]]}; one paper, one file",
                    )
                )
            else:
                first[value] = paper.id
    errors += near_duplicate_warnings(kb)
    return errors


def near_duplicate_pairs(titles: dict[str, str], score: float = NEAR_DUPLICATE_SCORE) -> list[tuple[str, str, float]]:
    """Pairs of ids whose titles are near-identical but not equal, by the rule of `smatlas.titles`
    (titles that differ in a number or version token never match).

    Titles are blocked by their three rarest word stems, so the cost grows with the number of titles rather
    than its square; two near-identical titles share most words and therefore a rare one.
    """
    keys = {pid: TitleKey.of(t) for pid, t in titles.items()}
    norm = {pid: key.text for pid, key in keys.items()}
    # Block on word stems (a plural and its singular share a block), keeping the three rarest.
    words = {pid: {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in t.split()} for pid, t in norm.items()}
    df = Counter(w for ws in words.values() for w in ws)
    blocks: dict[str, list[str]] = defaultdict(list)
    for pid, ws in words.items():
        for w in sorted(ws, key=lambda w: (df[w], w))[:3]:
            blocks[w].append(pid)
    pairs: dict[tuple[str, str], float] = {}
    for members in blocks.values():
        if len(members) > 200:  # a block this common says nothing about duplication
            continue
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                pair = (a, b) if a < b else (b, a)
                if pair in pairs or norm[a] == norm[b]:
                    continue
                s = title_similarity(keys[a], keys[b], cutoff=score)
                if s:
                    pairs[pair] = s
    return [(a, b, s) for (a, b), s in sorted(pairs.items())]


def near_duplicate_warnings(kb: KnowledgeBase) -> list[UserError]:
    out = []
    for a, b, score in near_duplicate_pairs({p.id: p.title for p in kb.papers.values()}):
        out.append(
            UserError(
                *_where(kb, b, "title"),
                f"title: nearly the same as {kb.paths[a]} ({score:.0f}% similar); check it is not the same paper",
                severity="warning",
            )
        )
    return out


def check_markup(kb: KnowledgeBase) -> list[UserError]:
    """HTML or script in a title, summary or landmark: a warning (they are plain text; the site
    escapes them, but other readers of the files may not)."""
    out = []
    for paper in kb.papers.values():
        for field in PLAIN_TEXT_FIELDS:
            found = _MARKUP.search(getattr(paper, field) or "")
            if found:
                out.append(
                    UserError(
                        *_where(kb, paper.id, field),
                        f"{field}: holds HTML or script (`{found.group()}`); write plain text: "
                        "drop the tags, write & < > as themselves",
                        severity="warning",
                    )
                )
    return out


def check_ids(kb: KnowledgeBase, new: Collection[str] = ()) -> list[UserError]:
    """Ids that do not follow the id rule (`smatlas.ids`): an error for a new paper (its file path
    in `new`), a warning for a published one, which keeps its id because its URL is permanent. The
    rule accepts the paper's year or its arXiv id's year, and any collision suffix."""
    out = []
    for paper in kb.papers.values():
        if follows_rule(paper.id, paper.authors[0], paper.year, paper.title, paper.arxiv):
            continue
        others = set(kb.papers) - {paper.id}
        expected = [
            unique_id(base, others) for base in rule_ids(paper.authors[0], paper.year, paper.title, paper.arxiv)
        ]
        also = f" (or '{expected[1]}', with its arXiv id's year)" if len(expected) > 1 else ""
        rule = "first author's family name, year, first significant title word; see CONTRIBUTING.md"
        if kb.paths[paper.id] in new:
            message = (
                f"id: '{paper.id}' does not follow the id rule ({rule}); expected '{expected[0]}'{also}: "
                f"rename the file to {expected[0]}.yaml and set its id to match"
            )
            out.append(UserError(*_where(kb, paper.id, "id"), message))
        else:
            message = (
                f"id: '{paper.id}' does not follow the id rule ({rule}): it would be '{expected[0]}'{also}; "
                "a published paper keeps its id, since its URL is permanent"
            )
            out.append(UserError(*_where(kb, paper.id, "id"), message, severity="warning"))
    return out


def check_all(kb: KnowledgeBase, new: Collection[str] = ()) -> list[UserError]:
    """Every collection check. `new` holds the file paths (as displayed) of papers not yet published,
    which must follow the id rule."""
    return check_taxonomy(kb) + check_references(kb) + check_duplicates(kb) + check_markup(kb) + check_ids(kb, new)
