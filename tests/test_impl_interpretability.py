"""Interpretability: the logistic regression, its explanations, the deletion test, the quick run."""

import torch
from conftest import sound_quick_run

from reference_impls import interpretability as I
from reference_impls import tasks
from reference_impls.common import set_threads

set_threads(1)


def test_bag_of_words_counts_known_words_case_insensitively():
    vocab = I.vocabulary(["The food was tasty", "the tea was cold"])
    x = I.bag_of_words(["The the TASTY soup"], vocab)
    assert x[0, vocab["the"]] == 2 and x[0, vocab["tasty"]] == 1 and x.sum() == 3


def test_logistic_regression_recovers_a_planted_linear_rule():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 3, (400, 6), generator=g).double()
    y = (x[:, 0] - x[:, 1] > 0).long()
    w, b = I.fit_logistic(x, y, l2=1e-4)
    assert ((x @ w + b > 0).long() == y).float().mean() > 0.97
    assert w[0] > 1 and w[1] < -1 and w[2:].abs().max() < 0.5 * min(w[0], -w[1])


def test_contributions_sum_to_the_logit_minus_bias():
    x = torch.tensor([[1.0, 0.0, 2.0]], dtype=torch.float64)
    w = torch.tensor([0.5, -3.0, -1.0], dtype=torch.float64)
    assert torch.allclose(I.contributions(x, w).sum(dim=1), x @ w)


def test_top_words_rank_by_absolute_contribution_and_skip_absent_words():
    vocab = {"tasty": 0, "cold": 1, "the": 2, "rude": 3}
    w = torch.tensor([2.0, -3.0, 0.1, -5.0], dtype=torch.float64)
    assert I.top_words("The tasty soup was cold", vocab, w, 2) == ["cold", "tasty"]
    assert I.top_words("the the", vocab, w, 3) == ["the"]


def test_delete_words_removes_every_occurrence_and_tidies_spaces():
    assert I.delete_words("The food was tasty, the tea was tasty.", {"tasty"}) == "The food was, the tea was."
    assert I.delete_words("The food was cold.", {"the"}) == "food was cold."


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("interpretability")
    shown = [k[len("weight[") : -1] for k in result["metrics"] if k.startswith("weight[")]
    assert set(shown) <= set(tasks.POSITIVE) | set(tasks.NEGATIVE)
