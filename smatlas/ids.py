"""The paper id rule, which is also the citation key: first author's family name + year + first
significant title word (`sun2024simple`), with a letter suffix on collision (`abdin2024phib`).

Names are read as the atlas stores them, given names first ("J. Zico Kolter"); a name with a comma
is read as "Family, Given". A trailing generational suffix ("Jr.", "III") is not a family name.

Ids are permanent (they are the papers' URLs): a paper whose year changed after it entered the atlas
(its preprint was published later) keeps its id, so an id follows the rule with either the paper's
year or the year of its arXiv id (`2306.xxxxx` is 2023), and with any collision suffix.
"""

from __future__ import annotations

import itertools
import re
import string
import unicodedata
from collections.abc import Container, Iterator

STOPWORDS = frozenset(
    """a an the on of in for to and with via by from is are do does can how what when why
    towards toward at as its your our we be not or vs versus into over under than this that these""".split()
)
NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
MAX_ID = 80


def ascii_fold(text: str) -> str:
    """Drop accents and anything else outside ASCII: "Kocoń" -> "Kocon"."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).encode("ascii", "ignore").decode()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", ascii_fold(text).lower())


def family_name(name: str) -> str:
    """The family name as lowercase ASCII letters and digits ("Gaël Varoquaux" -> "varoquaux")."""
    name = name.strip()
    if "," in name:
        return _slug(name.split(",")[0])
    parts = name.split()
    while len(parts) > 1 and _slug(parts[-1]) in NAME_SUFFIXES:
        parts.pop()
    return _slug(parts[-1] if parts else name)


def first_word(title: str) -> str:
    """The first title word that is not a stop word, lowercase ASCII ("untitled" when there is none)."""
    for word in re.split(r"[^a-z0-9]+", ascii_fold(title).lower()):
        if word and word not in STOPWORDS:
            return word
    return "untitled"


def paper_id(first_author: str, year: int, title: str) -> str:
    """The id (and citation key) before any collision suffix: `sun2024simple`."""
    return _join(family_name(first_author) or "anonymous", year, first_word(title))


def _join(family: str, year: int, word: str) -> str:
    return f"{family}{year}{word}"[: MAX_ID - 2]  # room for a two-letter suffix


def _suffixes() -> Iterator[str]:
    """b, c, ..., z, then ba, bb, ... (an unsuffixed id is the first, "a")."""
    yield from string.ascii_lowercase[1:]
    for size in itertools.count(2):
        for letters in itertools.product(string.ascii_lowercase, repeat=size):
            if letters[0] != "a":
                yield "".join(letters)


def unique_id(base: str, taken: Container[str]) -> str:
    """`base` itself when free, else `base` with the first free suffix b, c, ..."""
    if base not in taken:
        return base
    return next(base + s for s in _suffixes() if base + s not in taken)


_SUFFIX = re.compile(r"(?:[b-z][a-z]*)?")


def arxiv_year(arxiv: str | None) -> int | None:
    """The year an arXiv id was issued: `2306.08543` -> 2023, `cs/0501001` -> 2005; None without one."""
    if not arxiv:
        return None
    found = re.fullmatch(r"(\d{2})\d{2}\.\d{4,5}", arxiv) or re.fullmatch(r"[a-z-]+(?:\.[A-Z]{2})?/(\d{2})\d{5}", arxiv)
    if not found:
        return None
    yy = int(found.group(1))
    return (1900 if yy >= 91 else 2000) + yy


def rule_ids(first_author: str, year: int, title: str, arxiv: str | None = None) -> list[str]:
    """The ids the rule allows before a suffix: with the paper's year, then with its arXiv id's year."""
    family, word = family_name(first_author) or "anonymous", first_word(title)
    other = arxiv_year(arxiv)
    years = [year] if other is None or other == year else [year, other]
    return [_join(family, y, word) for y in years]


def follows_rule(pid: str, first_author: str, year: int, title: str, arxiv: str | None = None) -> bool:
    """Whether `pid` is one of `rule_ids` followed by nothing or by a collision suffix (b, c, ...)."""
    return any(
        pid.startswith(base) and _SUFFIX.fullmatch(pid[len(base) :])
        for base in rule_ids(first_author, year, title, arxiv)
    )
