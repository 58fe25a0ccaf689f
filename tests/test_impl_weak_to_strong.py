"""Weak-to-strong: the confidence loss, PGR, the features, the quick run, and reproduction."""

import random

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import sound_quick_run

from reference_impls import weak_to_strong as W
from reference_impls.common import set_threads

set_threads(1)


def _soft(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, 2, generator=torch.Generator().manual_seed(seed)).softmax(-1)


def test_confidence_loss_with_alpha_zero_is_cross_entropy_on_the_weak_labels():
    logits, weak = torch.randn(32, 2, generator=torch.Generator().manual_seed(0)), _soft(32, 1)
    assert torch.allclose(W.confidence_loss(logits, weak, 0.0), F.cross_entropy(logits, weak))
    assert not torch.allclose(W.confidence_loss(logits, weak, 0.5), F.cross_entropy(logits, weak))


def test_alpha_zero_training_equals_plain_cross_entropy_training():
    """train_head(alpha=0) and an independent plain-CE loop give the same head, step for step."""
    g = torch.Generator().manual_seed(2)
    x, targets = torch.randn(200, 8, generator=g), _soft(200, 3)
    head = W.train_head(x, targets, alpha=0.0, epochs=3, lr=1e-2, batch=32, seed=7)

    ref = nn.Linear(8, 2)
    nn.init.zeros_(ref.weight)
    nn.init.zeros_(ref.bias)
    opt = torch.optim.Adam(ref.parameters(), lr=1e-2)
    order_g = torch.Generator().manual_seed(7)
    for _ in range(3):
        order = torch.randperm(200, generator=order_g)
        for i in range(0, 200, 32):
            idx = order[i : i + 32]
            loss = F.cross_entropy(ref(x[idx]), targets[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert torch.allclose(head.weight, ref.weight, atol=1e-6)
    assert torch.allclose(head.bias, ref.bias, atol=1e-6)
    aux = W.train_head(x, targets, alpha=0.75, epochs=3, lr=1e-2, batch=32, seed=7)
    assert not torch.allclose(aux.weight, ref.weight, atol=1e-3)


def test_hardening_matches_the_weak_labels_class_balance():
    probs = _soft(40, 4)
    weak = torch.zeros(40, 2)
    weak[:10, 1], weak[10:, 0] = 1.0, 1.0  # a quarter labelled class 1
    hard = W.harden(probs, weak)
    assert torch.equal(hard.sum(1), torch.ones(40))
    assert hard[:, 1].sum() == 10
    # the ten hardened to class 1 are the ten with the highest p(class 1)
    assert set(hard[:, 1].nonzero().flatten().tolist()) == set(probs[:, 1].topk(10).indices.tolist())


def test_confidence_loss_pulls_towards_the_students_own_confident_predictions():
    logits = torch.tensor([[3.0, -3.0], [-3.0, 3.0]] * 8)  # confident, balanced
    weak = torch.full((16, 2), 0.5)  # uninformative teacher
    assert W.confidence_loss(logits, weak, 1.0) < W.confidence_loss(logits, weak, 0.0)


def test_pgr_is_zero_at_the_weak_accuracy_and_one_at_the_ceiling():
    assert W.pgr(0.6, 0.6, 0.8) == 0.0
    assert W.pgr(0.6, 0.8, 0.8) == 1.0
    assert W.pgr(0.6, 0.7, 0.8) == pytest.approx(0.5)


def test_surprisal_profile_ignores_padding_and_summarises_the_real_tokens():
    nll = torch.tensor([[1.0, 3.0, 5.0, 9.0], [2.0, 2.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    f = W.surprisal_profile(nll, mask)
    assert f.shape == (2, 8)
    assert f[0, 0] == pytest.approx(3.0) and f[0, 1] == pytest.approx(5.0)  # mean, max (9 is padding)
    assert f[0, 2] == pytest.approx(3.0)  # mean of the top 3
    assert f[0, 5] == pytest.approx(2 / 3) and f[0, 6] == pytest.approx(1 / 3)  # shares > 2 and > 4
    assert f[1, 4] == pytest.approx(0.0) and f[1, 7] == pytest.approx(torch.log(torch.tensor(2.0)).item())


def test_corruption_is_one_edit_and_labels_mark_clean_documents():
    rng = random.Random(0)
    text = "One morning Ana walked to the market in Lumo."
    for _ in range(50):
        c = W.corrupt(text, rng, ["apple", "river"])
        assert len(c.split()) - len(text.split()) in (0, 1)
        assert c != text  # the words are distinct and the vocabulary is new, so every edit shows
    texts, labels = W.corruption_task(200, 90, seed=3)
    assert len(texts) == 200 and 0.35 < labels.float().mean() < 0.65
    clean = [t for t, y in zip(texts, labels.tolist(), strict=True) if y == 1]
    assert all(len(t) <= 90 or ". " not in t for t in clean)


def test_shorten_keeps_whole_sentences():
    text = "A b c. D e f. G h i."
    assert W.shorten(text, 13) == "A b c. D e f."
    assert W.shorten(text, 3) == "A b c."


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("weak-to-strong")
    m = result["metrics"]
    assert 0 < m["weak_acc"] < 1 and 0 < m["ceiling_acc"] <= 1
