"""When two titles name the same paper: the one rule used by `import-bib` and `new` (duplicates of
the atlas and within a file), `validate` (its near-duplicate warning) and `suggest` (numbers).

Titles are compared in normalised form: lowercase ASCII letters and digits separated by single
spaces, accents dropped. Two titles that differ in a number or a version token never match:
"Qwen Technical Report" and "Qwen2 Technical Report", "Open LLM Leaderboard" and "Open LLM
Leaderboard v2", "Phi-3" and "Phi-3.5", a title and its sequel "... II". Otherwise their similarity
is rapidfuzz's ratio (0..100) of the normalised titles, and at least `NEAR_DUPLICATE_SCORE` is a
near-identical title.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

NEAR_DUPLICATE_SCORE = 92  # rapidfuzz ratio (0..100) on normalised titles
ROMAN_NUMERALS = frozenset("ii iii iv vi vii viii ix".split())  # "v" and "x" are too often letters


def normalise_title(title: str) -> str:
    """Lowercase ASCII letters and digits separated by single spaces."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def number_tokens(title: str) -> frozenset[str]:
    """The numbers of a title (every run of digits, so "Qwen2.5" gives 2 and 5 and "v2" gives 2) and
    its Roman numerals: they tell a paper from its next version or sequel."""
    text = normalise_title(title)
    return frozenset(re.findall(r"[0-9]+", text)) | frozenset(w for w in text.split() if w in ROMAN_NUMERALS)


@dataclass(frozen=True)
class TitleKey:
    """A title prepared for comparison: its normalised text and its number tokens."""

    text: str
    numbers: frozenset[str]

    @classmethod
    def of(cls, title: str) -> TitleKey:
        return cls(normalise_title(title), number_tokens(title))


def title_similarity(a: str | TitleKey, b: str | TitleKey, cutoff: float = 0) -> float:
    """How alike two titles are, 0..100; 0 when they differ in a number or version token, and 0 when
    below `cutoff`. Pass `TitleKey`s to compare one title with many."""
    a = a if isinstance(a, TitleKey) else TitleKey.of(a)
    b = b if isinstance(b, TitleKey) else TitleKey.of(b)
    if a.numbers != b.numbers:
        return 0.0
    return fuzz.ratio(a.text, b.text, score_cutoff=cutoff)


def near_identical(a: str | TitleKey, b: str | TitleKey) -> bool:
    """Whether two titles are the same or nearly the same title (the duplicate rule)."""
    return title_similarity(a, b, NEAR_DUPLICATE_SCORE) >= NEAR_DUPLICATE_SCORE
