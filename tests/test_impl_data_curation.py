"""Data curation: selectors, DSIR weights and Gumbel top-k, the annotator and classifier, the pool,
the quick run, and reproduction."""

import math
import random

import pytest
import torch
from conftest import sound_quick_run

from reference_impls import data_curation as D
from reference_impls import zoo
from reference_impls.common import set_threads

set_threads(1)


def test_bands_keep_exactly_k_documents_from_the_right_part_of_the_ranking():
    scores = torch.randperm(101, generator=torch.Generator().manual_seed(0)).float()
    for band in ("low", "middle", "high"):
        sel = D.band_select(scores, 30, band)
        assert len(sel) == len(set(sel.tolist())) == 30
    assert sorted(scores[D.band_select(scores, 30, "low")].tolist()) == list(range(30))
    assert sorted(scores[D.band_select(scores, 30, "high")].tolist()) == list(range(71, 101))
    assert sorted(scores[D.band_select(scores, 31, "middle")].tolist()) == list(range(35, 66))


def test_dsir_weights_vanish_when_target_equals_raw():
    docs = ["the cat sat on the mat", "a dog ran to the river", "2031-01-02 INFO worker-3 done"]
    feats = torch.stack([D.hashed_ngrams(d, 64) for d in docs])
    log_p = D.ngram_log_probs(feats)
    assert torch.equal(D.dsir_log_weights(feats, log_p, log_p), torch.zeros(3))
    assert D.effective_sample_size(torch.zeros(3)) == pytest.approx(3.0)
    assert torch.logsumexp(log_p, 0) == pytest.approx(0.0, abs=1e-5)
    # word unigrams and bigrams: 6 + 5 grams in the first document
    assert feats[0].sum() == 11


def test_dsir_prefers_documents_that_look_like_the_target():
    target = ["the cat sat on the mat"] * 5
    raw = ["the cat sat on the mat", "ERROR worker 7 dropped job 12", "the dog sat on the rug"]
    feats = torch.stack([D.hashed_ngrams(d, 1000) for d in raw])
    log_p_t = D.ngram_log_probs(torch.stack([D.hashed_ngrams(t, 1000) for t in target]))
    lw = D.dsir_log_weights(feats, log_p_t, D.ngram_log_probs(feats))
    assert lw[0] > lw[2] > lw[1]


def test_gumbel_top_k_with_equal_weights_is_uniform_sampling_without_replacement():
    g = torch.Generator().manual_seed(1)
    counts = torch.zeros(200)
    for _ in range(400):
        sel = D.gumbel_top_k(torch.zeros(200), 50, g)
        assert len(set(sel.tolist())) == 50
        counts[sel] += 1
    assert 0.8 < D.inclusion_dispersion(counts, 400, 50) < 1.2  # sd about 0.1 under uniformity


def test_gumbel_top_one_samples_in_proportion_to_the_weights():
    weights = torch.tensor([1.0, 2.0, 3.0, 4.0])
    g = torch.Generator().manual_seed(2)
    firsts = torch.bincount(
        torch.stack([D.gumbel_top_k(weights.log(), 1, g) for _ in range(8000)]).flatten(), minlength=4
    )
    assert torch.allclose(firsts / 8000, weights / weights.sum(), atol=0.02)


def test_inclusion_dispersion_flags_non_uniform_selection():
    counts = torch.tensor([10.0] * 50 + [0.0] * 150)  # the same 50 documents every time
    assert D.inclusion_dispersion(counts, 10, 50) > 10


def test_annotator_scores_are_monotone_in_nll_and_span_zero_to_five():
    edges = torch.tensor([3.0, 2.5, 2.0, 1.5, 1.0])
    nll = torch.tensor([0.5, 1.2, 1.9, 3.5, 2.5])
    assert D.annotate(nll, edges).tolist() == [5.0, 4.0, 3.0, 0.0, 2.0]


def test_ridge_recovers_a_linear_function_and_f1_counts_correctly():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(300, 5, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.7
    w = D.fit_ridge(x, y, 1e-6)
    assert torch.allclose(D.predict_ridge(x, w), y, atol=1e-3)
    t = torch.tensor([True, True, False, False])
    assert D.f1(t, t) == 1.0
    assert D.f1(torch.tensor([True, False, True, False]), t) == pytest.approx(0.5)


def test_raw_pool_has_the_exact_mix_and_corruption_changes_text():
    docs, kinds = D.raw_pool(101, (0.4, 0.3, 0.3), seed=5)
    assert len(docs) == 101 and torch.bincount(kinds).tolist() == [40, 30, 31]
    assert all("\n" not in d for d in docs)
    rng = random.Random(0)
    text = "In the end she went home happy and sang a song about the river"
    assert all(D.corrupt(text, rng) != text for _ in range(30))


def test_token_nll_of_a_padded_batch_equals_each_sequence_alone():
    model = zoo.fresh("zoo-50k", seed=0)
    seqs = [zoo.encode("\nabc def"), zoo.encode("\nhello world, longer one"), zoo.encode("\nx")]
    nll, mask = D.token_nll(model, seqs, batch=2)
    for i, s in enumerate(seqs):
        alone, m = D.token_nll(model, [s])
        assert torch.allclose(nll[i, : len(s) - 1], alone[0], atol=1e-5)
        assert mask[i].sum() == len(s) - 1
    direct = zoo.mean_nll(model, torch.tensor([seqs[1]]))
    assert D.mean_nll(nll, mask)[1].item() == pytest.approx(direct, rel=1e-5)
    assert math.isfinite(D.mean_nll(nll, mask).sum().item())


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("data-curation")
    assert result["metrics"]["precision_perplexity_high"] < result["metrics"]["precision_random"]
