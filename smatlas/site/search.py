"""Full-text search: a Pagefind index of every paper, topic, tag and implementation, and a
vocabulary for typo tolerance.

Pagefind (the `pagefind[bin]` wheel ships its binary; nothing is downloaded) does not read the built
pages: it indexes one small HTML record per page (`site/templates/search_record.html`) holding the
fields a reader searches, weighted (titles and model names most). Its index is chunked, so a query
fetches only the fragments it needs. Pagefind has no typo tolerance: `vocab/<length>.json` holds
the index's words of four letters or more with their document counts, split by length, and the
search worker (`site/assets/search-worker.js`) replaces a word of five letters or more that finds
nothing by the most frequent vocabulary word one edit away.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

from smatlas.site.render import render

OUTPUT = "pagefind"  # the index folder inside the built site
MIN_VOCAB = 4  # words a query word of 5+ letters can be one edit away from
_WORD = re.compile(r"[^\W_]+")


class SearchError(Exception):
    """Pagefind could not build the index."""


def fold(text: str) -> str:
    """Lower case without accents, as the search worker folds a query."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).lower()


def vocabulary(records: dict[str, dict]) -> dict[int, dict[str, int]]:
    """Words of the records (MIN_VOCAB letters or more) with the number of records holding each, by length."""
    counts: Counter[str] = Counter()
    for r in records.values():
        text = " ".join(str(r.get(k, "")) for k in ("title", "names", "models", "authors", "text", "extra"))
        counts.update({w for w in _WORD.findall(fold(text)) if len(w) >= MIN_VOCAB and not w.isdigit()})
    shards: dict[int, dict[str, int]] = {}
    for word, n in sorted(counts.items()):
        shards.setdefault(len(word), {})[word] = n
    return shards


def record_pages(records: dict[str, dict]) -> dict[str, str]:
    """One small HTML file per record, at the record's URL (what Pagefind indexes)."""
    return {f"{url}index.html": render("search_record.html", url, r=r) for url, r in records.items()}


def start_index(source: Path, target: Path) -> subprocess.Popen:
    """Start Pagefind on the record pages in `source` (already written), writing into `target`. It
    runs beside the mkdocs build (which empties the site folder first): see `finish_index`."""
    if target.exists():
        shutil.rmtree(target)
    return subprocess.Popen(
        [sys.executable, "-m", "pagefind", "--site", str(source), "--output-path", str(target), "--silent"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish_index(proc: subprocess.Popen, target: Path, out: Path, records: dict[str, dict]) -> None:
    """Wait for Pagefind, add the vocabulary, and move the index into the built site as `pagefind/`."""
    stdout, stderr = proc.communicate()
    if proc.returncode != 0 or not (target / "pagefind.js").is_file():
        raise SearchError(f"pagefind failed ({proc.returncode}): {(stderr or stdout)[-2000:]}")
    vocab = target / "vocab"
    vocab.mkdir(exist_ok=True)
    for length, words in vocabulary(records).items():
        (vocab / f"{length}.json").write_text(json.dumps(words, separators=(",", ":")), encoding="utf-8")
    final = out / OUTPUT
    if final.exists():
        shutil.rmtree(final)
    shutil.move(str(target), str(final))
