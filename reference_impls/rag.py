"""Retrieval-augmented generation: a small BM25 retriever puts the right fact into a tiny LM's context.

BM25 (Robertson and Zaragoza) scores a passage d for a query q by

    score(q, d) = sum_{t in q} idf(t) * f(t, d) (k1 + 1) / (f(t, d) + k1 (1 - b + b |d| / avgdl)),
    idf(t) = ln(1 + (N - n(t) + 0.5) / (n(t) + 0.5))

where f(t, d) counts term t in d, n(t) is the number of passages holding t and N their number. The
top-k passages are placed before the answer: "Question: q Context: d_1 ... d_k Answer:", and the LM
writes the answer (lewis2020retrieval; the LM here is fixed after its own training, the retriever is
not trained, as in shi2024replug's black-box setting).

The facts are about a world the LM never saw: a freshly seeded world of `tasks.world` (people, their
jobs, pets, food, cities). The zoo's models have no in-context reading out of the box (measured:
copying a label that is already in the context does not beat chance), so the reader is first taught
to read: the zoo model is fine-tuned on questions about other random worlds with the gold passage in
its context (and a share with no context, so that asking without retrieval is in distribution). No
fact of the test world is ever trained on, so without retrieval the reader can only guess.

Reported: recall@k of BM25 (is the gold passage among the top k?), and exact-match accuracy of the
reader with BM25's top-k passages, with the gold passage (the reader's ceiling, which separates
retrieval errors from reading errors), and closed book. The finding compares retrieval with a
closed-book baseline that can win: a copy of the reader trained to memorise every fact sentence of
the test world (and to answer closed book about other worlds it memorised), the parametric memory
lewis2020retrieval compares with; closed book without the facts and the majority answer are shown
for scale. Related papers: shi2024replug, xu2024recomp, ma2023query, wang2023knowledgpt,
zhou2023docprompting.
"""

from __future__ import annotations

import copy
import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field

import torch

from reference_impls import finetune, tasks, zoo
from reference_impls.common import (
    Check,
    Finding,
    Progress,
    Result,
    Timer,
    config_dict,
    report,
    seed_everything,
    set_threads,
    sub_progress,
)


@dataclass
class Config:
    reader: str = "zoo-660k"  # zoo name or local checkpoint folder of the reader LM
    steps: int = 200  # reader fine-tuning steps
    batch: int = 16  # questions per step
    lr: float = 2e-3  # peak learning rate of the reader's fine-tuning
    train_worlds: int = 50  # random worlds the reader learns to read on (none is the test world)
    train_questions: int = 3000  # reading-lesson questions over those worlds
    closed_book_share: float = 0.2  # share of lessons with no context
    paraphrase_share: float = 0.3  # share of questions sharing only the name with their passage
    test_world_seed: int = 777  # the world of the test questions (never trained on)
    test_questions: int = 300  # test questions
    k: int = 1  # passages BM25 puts in the reader's context
    recall_ks: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5, 6, 10])  # k of the recall@k curve
    recall_check_k: int = 5  # the setting check: recall at this k is at least 0.9
    memory_worlds: int = 8  # other worlds whose facts and closed-book questions the memoriser trains on
    memory_steps: int = 600  # its training steps (memorising takes longer than learning to read)
    bm25_k1: float = 1.5  # BM25 term-frequency saturation
    bm25_b: float = 0.75  # BM25 length normalisation
    seed: int = 0  # the zoo's seed, the test world (test_world_seed + seed), questions and batch order

    @classmethod
    def quick(cls) -> Config:
        return cls(reader="zoo-50k", steps=180, lr=5e-3, test_questions=100, memory_worlds=2, memory_steps=150)


# ---------------------------------------------------------------------------------------------------
# The retriever


def terms(text: str) -> list[str]:
    """Lower-cased words with a crude plural/verb "s" stripped (keeps -> keep, lives -> live)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]


class BM25:
    """An inverted-index-free BM25 over a few thousand short passages."""

    def __init__(self, passages: list[str], k1: float = 1.5, b: float = 0.75):
        self.docs = [Counter(terms(p)) for p in passages]
        self.lengths = torch.tensor([sum(d.values()) for d in self.docs], dtype=torch.float64)  # (D,)
        self.k1, self.b = k1, b
        df = Counter(t for d in self.docs for t in d)
        n = len(passages)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}

    def scores(self, query: str) -> torch.Tensor:
        """BM25 score of every passage for the query: (D,)."""
        norm = self.k1 * (1 - self.b + self.b * self.lengths / self.lengths.mean())  # (D,)
        out = torch.zeros(len(self.docs), dtype=torch.float64)
        for t in set(terms(query)):
            if t not in self.idf:
                continue
            f = torch.tensor([d.get(t, 0) for d in self.docs], dtype=torch.float64)  # (D,)
            out += self.idf[t] * f * (self.k1 + 1) / (f + norm)
        return out

    def top(self, query: str, k: int) -> list[int]:
        """Indices of the k best passages, best first (ties broken by passage order)."""
        return torch.topk(self.scores(query), k).indices.tolist()


def recall_at_k(ranked: list[list[int]], gold: list[int], k: int) -> float:
    """Share of queries whose gold passage is among the first k of its ranking."""
    return sum(g in r[:k] for r, g in zip(ranked, gold, strict=True)) / len(gold)


# ---------------------------------------------------------------------------------------------------
# The facts of a world as passages, and questions whose answer is in exactly one passage


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def passages(w: tasks.World) -> list[str]:
    """One sentence per fact, the answer last: six per person, two per city."""
    out = []
    for p in w.people:
        out += [
            f"{p.name} lives in {p.city}.",
            f"{p.name} works as {_a(p.job)}.",
            f"{p.name} keeps {_a(p.pet)}.",
            f"The {p.pet} of {p.name} is named {p.pet_name}.",
            f"{p.name} likes to eat {p.food}.",
            f"{p.name} was born in {p.born}.",
        ]
    for c in w.cities:
        out += [f"{c.name} lies in {c.country}.", f"{c.name} is known for its {c.product}."]
    return out


def questions(w: tasks.World, n: int, seed: int, paraphrase_share: float = 0.0) -> list[tuple[str, str, int]]:
    """(question, answer, index of the gold passage) on jobs, pets and food (answers from closed lists).

    A share of the questions is paraphrased so that it shares only the person's name with its passage
    ("What is the job of X?" against "X works as a baker."): the vocabulary mismatch of lexical retrieval.
    """
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        i = rng.randrange(len(w.people))
        p = w.people[i]
        kind, para = rng.randrange(3), rng.random() < paraphrase_share
        q, answer, offset = [
            (f"What is the job of {p.name}?" if para else f"What does {p.name} work as?", p.job, 1),
            (f"What pet has {p.name} got?" if para else f"Which animal does {p.name} keep?", p.pet, 2),
            (f"What food does {p.name} prefer?" if para else f"What does {p.name} like to eat?", p.food, 4),
        ][kind]
        out.append((q, answer, 6 * i + offset))
    return out


def reader_prompt(question: str, context: list[str]) -> str:
    """ "Question: q Context: d_1 ... d_k Answer:" ("Question: q Answer:" without context)."""
    middle = f" Context: {' '.join(context)}" if context else ""
    return f"Question: {question}{middle} Answer:"


def lessons(
    n_worlds: int, n: int, closed_book_share: float, paraphrase_share: float, seed: int
) -> list[tuple[str, str]]:
    """Reader training pairs on random worlds (seeds far from the test world's), gold passage as context."""
    rng = random.Random(seed)
    out = []
    per_world = max(n // n_worlds, 1)
    for i in range(n_worlds):
        w = tasks.world(seed=100_000 + 1_000 * seed + i)
        facts = passages(w)
        for q, answer, gold in questions(w, per_world, rng.randrange(1 << 30), paraphrase_share):
            context = [] if rng.random() < closed_book_share else [facts[gold]]
            out.append((reader_prompt(q, context), f" {answer}."))
    return out


# ---------------------------------------------------------------------------------------------------
# The demo


def memory_lessons(test_facts: list[str], config: Config) -> list[tuple[str, str]]:
    """The closed-book reader's training pairs: the test world's fact sentences to memorise (half of
    the pairs), and other worlds' sentences together with closed-book questions about them, so that
    it learns to answer from what it has memorised (the parametric baseline of lewis2020retrieval)."""
    rng = random.Random(config.seed)
    other, asked = [], []
    for i in range(config.memory_worlds):
        w = tasks.world(seed=200_000 + 1_000 * config.seed + i)
        other += [("", f" {s}") for s in passages(w)]
        asked += [
            (reader_prompt(q, []), f" {a}.")
            for q, a, _ in questions(w, 120, rng.randrange(1 << 30), config.paraphrase_share)
        ]
    mine = [("", f" {s}") for s in test_facts] * max(1, (len(other) + len(asked)) // len(test_facts))
    return mine + other + asked


LABELS = {
    "passages": "fact sentences in the retrieval corpus",
    "reader_params": "reader parameters",
    "accuracy_bm25": "accuracy, BM25 top passage in the context",
    "accuracy_gold_passage": "accuracy, gold passage in the context (reading ceiling)",
    "accuracy_closed_book_memorised": "accuracy, closed book after memorising the facts",
    "accuracy_closed_book_unseen": "accuracy, closed book without ever seeing the facts",
    "accuracy_majority_guess": "accuracy of the majority answer per question type",
}


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        seed_everything(config.seed)
        report(progress, 0.0, f"loading {config.reader}")
        reader, _ = zoo.load(config.reader, seed=config.seed)
        memoriser = copy.deepcopy(reader)

        # Retrieval on the test world.
        world = tasks.world(seed=config.test_world_seed + config.seed)
        facts = passages(world)
        bm25 = BM25(facts, config.bm25_k1, config.bm25_b)
        test = questions(world, config.test_questions, config.seed + 1, config.paraphrase_share)
        depth = max([config.k, config.recall_check_k, *config.recall_ks])
        ranked = [bm25.top(q, depth) for q, _, _ in test]
        gold = [g for _, _, g in test]
        metrics: dict[str, float] = {"passages": len(facts), "reader_params": zoo.n_params(reader)}
        for k in sorted({*config.recall_ks, config.k, config.recall_check_k}):
            metrics[f"recall@{k}"] = recall_at_k(ranked, gold, k)

        # Teach the reader to read (other worlds); teach a copy to memorise the test world instead.
        tick = sub_progress(progress, 0.05, 0.4)
        pairs = lessons(
            config.train_worlds, config.train_questions, config.closed_book_share, config.paraphrase_share, config.seed
        )
        finetune.finetune(reader, pairs, config.steps, lr=config.lr, batch=config.batch, seed=config.seed,
                          progress=lambda s: report(tick, (s + 1) / config.steps, "teaching the reader to read"))  # fmt: skip
        tick = sub_progress(progress, 0.4, 0.9)
        finetune.finetune(memoriser, memory_lessons(facts, config), config.memory_steps, lr=config.lr, batch=config.batch, seed=config.seed,
                          progress=lambda s: report(tick, (s + 1) / config.memory_steps, "the closed-book reader memorises the facts"))  # fmt: skip
        report(progress, 0.9, "answering")
        answers = [f" {a}." for _, a, _ in test]
        conditions = {
            "closed_book_unseen": (reader, [reader_prompt(q, []) for q, _, _ in test]),
            "closed_book_memorised": (memoriser, [reader_prompt(q, []) for q, _, _ in test]),
            "bm25": (
                reader,
                [
                    reader_prompt(q, [facts[j] for j in r[: config.k]])
                    for (q, _, _), r in zip(test, ranked, strict=True)
                ],
            ),
            "gold_passage": (reader, [reader_prompt(q, [facts[g]]) for q, _, g in test]),
        }
        for name, (model, prompts) in conditions.items():
            metrics[f"accuracy_{name}"] = (
                finetune.exact_match(model, list(zip(prompts, answers, strict=True))).float().mean().item()
            )
        memorised = [(("", f" {s}")) for s in facts]
        metrics["memoriser_fact_nll"] = finetune.answer_loss(memoriser, *finetune.pack(memorised)).item()
        counts = Counter((g % 6, a) for _, a, g in test)  # (question type, answer) -> count
        best = {kind: max(c for (k, _), c in counts.items() if k == kind) for kind, _ in counts}
        metrics["accuracy_majority_guess"] = sum(best.values()) / len(test)

        series = {
            "recall": {
                "title": f"BM25 over {len(facts)} fact sentences of an unseen world",
                "xlabel": "k (passages retrieved)",
                "ylabel": "recall@k",
                "lines": {"BM25": {"x": config.recall_ks, "y": [metrics[f"recall@{k}"] for k in config.recall_ks]}},
            }
        }
        m = metrics
        findings = [
            Finding.compare("a reader given BM25's top passage answers more questions than the same model that memorised every fact sentence and answers closed book",
                            "lewis2020retrieval", m["accuracy_bm25"], ">", m["accuracy_closed_book_memorised"], "retrieval", "closed book, memorised"),
        ]  # fmt: skip
        checks = [
            Check.compare(f"the setting: BM25 finds the gold passage among its top {config.recall_check_k} for at least 90% of the questions", m[f"recall@{config.recall_check_k}"], ">=", 0.9),
            Check.compare("the setting: the reader reads (gold passage in context beats guessing the majority answer)", m["accuracy_gold_passage"], ">", m["accuracy_majority_guess"]),
        ]  # fmt: skip
        report(progress, 1.0, "done")
    return Result("rag", config_dict(config), metrics, findings, checks, timer.seconds, series=series, labels=LABELS)
