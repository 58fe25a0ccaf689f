"""How well `smatlas suggest` places papers and finds duplicates, measured on the real atlas.

Placement: leave-one-out. Each paper in turn is taken out of the vote (it neither votes nor counts
as a duplicate) and placed from its own title and summary. A proposed node is a hit when it is one
of the paper's own nodes or the parent of one of them (`routing` for a paper placed in
`efficient-inference` does not count; `efficient-inference` for a paper in `routing` does). The
strict rule (own nodes only) is reported beside it.

Duplicates: each paper's title, perturbed five ways (lower case, punctuation changed, subtitle
dropped, one typo, two adjacent words swapped), must be flagged as that paper (positives), and each
paper's exact title, with the paper taken out, must flag nothing: the atlas holds no duplicates, so
anything flagged is a false alarm (negatives, including hard ones such as 'Qwen2 Technical Report'
against 'Qwen2.5 Technical Report'). Precision counts every wrongly flagged paper, also those
flagged beside the right one.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from smatlas.schema import Paper
from smatlas.suggest import Index, title_variants


def node_hit(index: Index, paper: Paper, node: str, strict: bool = False) -> bool:
    """A proposed node hits when it is one of the paper's nodes, or (unless strict) their parent."""
    if node in paper.taxonomy:
        return True
    return not strict and any(index.kb.nodes[n].parent == node for n in paper.taxonomy if n in index.kb.nodes)


@dataclass
class Placement:
    papers: int = 0
    top1: float = 0.0
    top3: float = 0.0
    top1_strict: float = 0.0
    top3_strict: float = 0.0
    tags_precision3: float = 0.0  # share of the three proposed tags that the paper has
    misses: list[str] = field(default_factory=list)  # ids with no hit in the top 3


def leave_one_out(index: Index, k: int = 3, use_summary: bool = True) -> Placement:
    """Place every paper with itself left out; `use_summary=False` places it from its title alone,
    as `new` and `import-bib` must (a new entry has no summary yet)."""
    out = Placement(papers=len(index.ids))
    counts = dict(top1=0, top3=0, top1_strict=0, top3_strict=0, tags=0)
    for pid in index.ids:
        paper = index.kb.papers[pid]
        s = index.suggest(paper.title, paper.summary if use_summary else "", k=k, exclude={pid})
        nodes = [n.id for n in s.nodes]
        for strict, suffix in ((False, ""), (True, "_strict")):
            hits = [node_hit(index, paper, n, strict) for n in nodes]
            counts["top1" + suffix] += bool(hits[:1] and hits[0])
            counts["top3" + suffix] += any(hits[:3])
        counts["tags"] += sum(t.id in paper.tags for t in s.tags[:3])
        if not any(node_hit(index, paper, n) for n in nodes[:3]):
            out.misses.append(pid)
    n = max(out.papers, 1)
    out.top1, out.top3 = counts["top1"] / n, counts["top3"] / n
    out.top1_strict, out.top3_strict = counts["top1_strict"] / n, counts["top3_strict"] / n
    out.tags_precision3 = counts["tags"] / (3 * n)
    return out


# ---- perturbed titles ---------------------------------------------------------------------------


def _typo(title: str, rng: random.Random) -> str | None:
    """Swap two adjacent letters inside one word of at least five letters."""
    words = title.split()
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return None
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def _reorder(title: str, rng: random.Random) -> str | None:
    words = title.split()
    if len(words) < 3:
        return None
    i = rng.randrange(len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def _punctuation(title: str, rng: random.Random) -> str | None:
    return re.sub(r"[,'\"?!]", "", title.replace(":", " -").replace("-", " "))


def _subtitle_dropped(title: str, rng: random.Random) -> str | None:
    variants = title_variants(title)
    return variants[1] if len(variants) > 1 else None


PERTURBATIONS: dict[str, Callable[[str, random.Random], str | None]] = {
    "case": lambda title, rng: title.lower(),
    "punctuation": _punctuation,
    "subtitle": _subtitle_dropped,
    "typo": _typo,
    "reorder": _reorder,
}


def perturbed_titles(titles: dict[str, str], seed: int = 0) -> list[tuple[str, str, str]]:
    """(perturbation, paper id, perturbed title) for every paper and every perturbation that changes it."""
    rng = random.Random(seed)
    out = []
    for pid in sorted(titles):
        for name, perturb in PERTURBATIONS.items():
            text = perturb(titles[pid], rng)
            if text and text != titles[pid]:
                out.append((name, pid, text))
    return out


@dataclass
class DuplicateScores:
    positives: int = 0
    negatives: int = 0
    true_positives: int = 0
    false_positives: int = 0
    recall_by_perturbation: dict[str, float] = field(default_factory=dict)
    false_alarms: list[tuple[str, str]] = field(default_factory=list)  # (query title, flagged id)
    missed: list[tuple[str, str]] = field(default_factory=list)  # (perturbation, perturbed title)

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 0.0


def duplicate_detection(index: Index, seed: int = 0) -> DuplicateScores:
    kb = index.kb
    out = DuplicateScores()
    hits: dict[str, list[bool]] = {name: [] for name in PERTURBATIONS}
    queries = perturbed_titles({i: kb.papers[i].title for i in index.ids}, seed)
    embed = getattr(index.titles_backend, "embed", None)
    if embed is not None:  # encode every query in batches first, not one model call per title
        embed([variant for _, _, text in queries for variant in title_variants(text)])
    for name, pid, text in queries:
        flagged = index.duplicates(text)
        found = pid in flagged
        out.positives += 1
        out.true_positives += found
        hits[name].append(found)
        if not found:
            out.missed.append((name, text))
        for other in flagged:
            if other != pid:
                out.false_positives += 1
                out.false_alarms.append((text, other))
    for pid in index.ids:
        out.negatives += 1
        for other in index.duplicates(kb.papers[pid].title, {pid}):
            out.false_positives += 1
            out.false_alarms.append((kb.papers[pid].title, other))
    out.recall_by_perturbation = {name: sum(v) / len(v) for name, v in hits.items() if v}
    return out
