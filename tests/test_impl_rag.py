"""RAG: BM25 against a hand computation, recall@k, the fact store, reading lessons, the quick run."""

import math

import pytest
from conftest import sound_quick_run

from reference_impls import rag as R
from reference_impls import tasks
from reference_impls.common import set_threads

set_threads(1)


def test_bm25_matches_a_hand_computed_score():
    docs = ["the cat sat", "the dog sat on the mat", "a bird"]
    bm25 = R.BM25(docs, k1=1.2, b=0.75)
    avgdl = (3 + 6 + 2) / 3
    idf_cat = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))
    idf_sat = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))
    expected = idf_cat * 2.2 / (1 + 1.2 * (1 - 0.75 + 0.75 * 3 / avgdl)) + idf_sat * 2.2 / (
        1 + 1.2 * (1 - 0.75 + 0.75 * 3 / avgdl)
    )
    scores = bm25.scores("cat sat")
    assert scores[0].item() == pytest.approx(expected)
    assert scores[2].item() == 0.0
    assert bm25.top("cat sat", 2)[0] == 0


def test_rarer_terms_weigh_more_and_repeats_saturate():
    bm25 = R.BM25(["apple", "apple banana", "apple banana cherry", "kiwi"])
    assert bm25.idf["cherry"] > bm25.idf["banana"] > bm25.idf["apple"]
    s = R.BM25(["x y", "x x y", "x x x x x x x x y"], b=0.0).scores("x")
    assert s[0] < s[1] < s[2] < 2.5 * s[0]  # grows with term frequency, bounded by (k1 + 1)


def test_terms_strip_a_plural_s_so_question_and_fact_share_words():
    assert R.terms("Which animal does Kai keep?")[-1] == "keep"
    assert "keep" in R.terms("Kai keeps a cat.")
    assert R.terms("glass") == ["glass"]


def test_recall_at_k():
    ranked = [[3, 1, 2], [0, 2, 1], [2, 0, 1]]
    assert R.recall_at_k(ranked, [1, 1, 2], 1) == pytest.approx(1 / 3)
    assert R.recall_at_k(ranked, [1, 1, 2], 2) == pytest.approx(2 / 3)
    assert R.recall_at_k(ranked, [1, 1, 2], 3) == 1.0


def test_every_question_has_its_answer_in_its_gold_passage_only():
    w = tasks.world(seed=5)
    facts = R.passages(w)
    for q, answer, gold in R.questions(w, 200, seed=1, paraphrase_share=0.5):
        assert facts[gold].endswith(f" {answer}.")
        name = next(p.name for p in w.people if p.name in q)
        assert name in facts[gold]


def test_lexical_questions_are_retrieved_and_paraphrases_are_harder():
    w = tasks.world(seed=6)
    bm25 = R.BM25(R.passages(w))
    lexical = R.questions(w, 150, seed=2, paraphrase_share=0.0)
    para = R.questions(w, 150, seed=2, paraphrase_share=1.0)
    rank = lambda qs: [bm25.top(q, 6) for q, _, _ in qs]  # noqa: E731
    assert R.recall_at_k(rank(lexical), [g for *_, g in lexical], 1) > 0.95
    assert R.recall_at_k(rank(para), [g for *_, g in para], 1) < 0.8
    assert R.recall_at_k(rank(para), [g for *_, g in para], 6) == 1.0  # the name finds the person


def test_reading_lessons_never_use_the_test_world():
    test_names = {p.name for p in tasks.world(seed=R.Config().test_world_seed).people}
    pairs = R.lessons(10, 200, 0.2, 0.3, seed=0)
    assert len(pairs) == 200
    assert not any(n in prompt for prompt, _ in pairs for n in test_names)
    assert 0.1 < sum(" Context: " not in p for p, _ in pairs) / len(pairs) < 0.3


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("rag")
    m = result["metrics"]
    assert m["accuracy_bm25"] <= m["accuracy_gold_passage"] + 0.02
