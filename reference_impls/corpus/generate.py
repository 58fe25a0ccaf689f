"""Regenerate the zoo corpus: `python reference_impls/corpus/generate.py` (seeded, byte-identical).

Writes train.jsonl and heldout.jsonl, one {"domain": ..., "text": ...} document per line. Held-out
documents come from another seed of the same world; any that also occur in train are dropped.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from reference_impls import tasks  # noqa: E402

TRAIN_DOCS, TRAIN_SEED = 8000, 1
HELDOUT_DOCS, HELDOUT_SEED = 1000, 2


def build() -> dict[str, str]:
    """File name -> content."""
    w = tasks.world()
    train = tasks.documents(TRAIN_DOCS, TRAIN_SEED, w)
    seen = {t for _, t in train}
    heldout = [(d, t) for d, t in tasks.documents(HELDOUT_DOCS, HELDOUT_SEED, w) if t not in seen]

    def dump(docs: list[tuple[str, str]]) -> str:
        return "".join(json.dumps({"domain": d, "text": t}, ensure_ascii=True) + "\n" for d, t in docs)

    return {"train.jsonl": dump(train), "heldout.jsonl": dump(heldout)}


if __name__ == "__main__":
    for name, content in build().items():
        (HERE / name).write_text(content, encoding="ascii")
        print(f"{name}: {content.count(chr(10))} documents, {len(content)} bytes")
