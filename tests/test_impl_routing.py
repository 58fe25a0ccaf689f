"""Routing: cost accounting, threshold endpoints, APGR of oracle and random routers, calibration, the pool."""

import pytest
import torch
from conftest import sound_quick_run

from reference_impls import finetune, model_pool, zoo
from reference_impls import routing as R
from reference_impls.common import set_threads

set_threads(1)


def synthetic_split(n: int = 400, seed: int = 0) -> model_pool.Split:
    """A pool with known answers: the large model is right on 90%, the small one on 60% (a subset
    mostly), costs 1..3 FLOPs for small and 10..30 for large."""
    g = torch.Generator().manual_seed(seed)
    large = torch.rand(n, generator=g) < 0.9
    small = large & (torch.rand(n, generator=g) < 0.65) | (torch.rand(n, generator=g) < 0.03)
    small_cost = 1 + 2 * torch.rand(n, generator=g, dtype=torch.float64)
    return model_pool.Split(
        queries=[f"q{i}" for i in range(n)],
        difficulty=torch.zeros(n, dtype=torch.long),
        small_correct=small,
        large_correct=large,
        small_conf=torch.rand(n, generator=g, dtype=torch.float64),
        small_cost=small_cost,
        large_cost=10 * small_cost,
    )


def test_route_cost_is_the_sum_of_the_calls_made():
    split = synthetic_split()
    for seed in range(5):
        route = torch.rand(len(split), generator=torch.Generator().manual_seed(200 + seed)) < 0.4
        formula = R.route_cost(route, split.small_cost, split.large_cost).item()
        by_hand = sum((split.large_cost if r else split.small_cost)[i].item() for i, r in enumerate(route.tolist()))
        acc, served = R.serve(route, split)
        assert formula == pytest.approx(by_hand, rel=1e-12)
        assert served == pytest.approx(formula, rel=1e-12)
        assert acc == pytest.approx(R.route_accuracy(route, split.small_correct, split.large_correct).item())


def test_threshold_endpoints_give_all_large_and_all_small():
    split = synthetic_split()
    scores = torch.rand(len(split), generator=torch.Generator().manual_seed(103))  # in [0, 1)
    acc_l, cost_l = R.serve(scores >= 0.0, split)
    acc_s, cost_s = R.serve(scores >= 1.0 + 1e-9, split)
    assert cost_l == pytest.approx(split.large_cost.sum().item()) and acc_l == split.large_correct.double().mean()
    assert cost_s == pytest.approx(split.small_cost.sum().item()) and acc_s == split.small_correct.double().mean()
    shares, pgr = R.pgr_curve(scores, split.small_correct, split.large_correct)
    assert shares[0] == 0 and shares[-1] == 1 and pgr[0] == 0 and pgr[-1] == pytest.approx(1.0)


def test_oracle_router_apgr_matches_its_piecewise_linear_curve():
    """The oracle scores +1 where only the large model is right, -1 where only the small one is, 0 else:
    PGR climbs to wins / (wins - losses) over the first wins / N of the shares, stays flat, and falls to 1
    over the last losses / N, so APGR is that curve's area."""
    split = synthetic_split()
    n = len(split)
    oracle = split.large_correct.double() - split.small_correct.double()
    wins, losses = int((oracle > 0).sum()), int((oracle < 0).sum())
    top, w, lo = wins / (wins - losses), wins / n, losses / n
    area = top * w / 2 + top * (1 - w - lo) + (top + 1) / 2 * lo
    assert R.apgr(oracle, split.small_correct, split.large_correct) == pytest.approx(area, rel=1e-9)
    # half the gap is recovered after (wins - losses) / 2 wins: the fewest calls any router can make
    assert R.share_at_pgr(oracle, split.small_correct, split.large_correct, 0.5) == pytest.approx(
        -(-(wins - losses) // 2) / n
    )
    # no random router comes close, and the reversed oracle is the worst
    g = torch.Generator().manual_seed(100)  # not the split's seed: its draws made the answers
    best_random = max(R.apgr(torch.rand(n, generator=g), split.small_correct, split.large_correct) for _ in range(20))
    assert R.apgr(oracle, split.small_correct, split.large_correct) > best_random + 0.2
    assert R.apgr(-oracle, split.small_correct, split.large_correct) < 0.5 - 0.2


def test_random_router_apgr_is_about_one_half():
    split = synthetic_split(2000)
    g = torch.Generator().manual_seed(101)
    values = [R.apgr(torch.rand(len(split), generator=g), split.small_correct, split.large_correct) for _ in range(30)]
    assert sum(values) / len(values) == pytest.approx(0.5, abs=0.03)


def test_apgr_is_the_mean_of_the_pgr_curve():
    split = synthetic_split(50)
    scores = torch.rand(50, generator=torch.Generator().manual_seed(102))
    shares, pgr = R.pgr_curve(scores, split.small_correct, split.large_correct)
    # accuracy when the j top-scored queries go large, computed directly
    order = scores.argsort(descending=True)
    for j in (0, 7, 25, 50):
        route = torch.zeros(50, dtype=torch.bool)
        route[order[:j]] = True
        acc = R.route_accuracy(route, split.small_correct, split.large_correct).item()
        acc_s, acc_l = split.small_correct.double().mean().item(), split.large_correct.double().mean().item()
        assert pgr[j].item() == pytest.approx((acc - acc_s) / (acc_l - acc_s))
    trapezoid = sum((pgr[i] + pgr[i + 1]).item() / 2 for i in range(50)) / 50
    assert R.apgr(scores, split.small_correct, split.large_correct) == pytest.approx(trapezoid)


@pytest.mark.parametrize("share", [0.0, 0.1, 0.25, 0.5, 0.9, 1.0])
def test_calibrated_threshold_hits_the_share_on_its_own_scores(share):
    scores = torch.rand(1000, generator=torch.Generator().manual_seed(4))
    tau = R.calibrate_threshold(scores, share)
    assert (scores >= tau).double().mean().item() == pytest.approx(share, abs=1e-9)


def test_calibrated_threshold_transfers_to_fresh_scores_of_the_same_distribution():
    g = torch.Generator().manual_seed(5)
    val, test = torch.rand(40000, generator=g) ** 2, torch.rand(40000, generator=g) ** 2
    for share in (0.1, 0.3, 0.5, 0.8):
        assert (test >= R.calibrate_threshold(val, share)).double().mean().item() == pytest.approx(share, abs=0.015)


def test_router_learns_a_feature_that_predicts_the_label():
    texts = [f"sort: {' '.join('7' * k)} ->" for k in (2, 3, 7, 8)] * 50
    y = torch.tensor([len(t) > 16 for t in texts])
    x = R.hashed_ngrams(texts, [1, 2, 3], 256)
    assert x.shape == (200, 256) and (x >= 0).all()
    router = R.train_router(x, y, steps=200, lr=0.05, l2=0.0, seed=0)
    with torch.no_grad():
        p = torch.sigmoid(router(x)[:, 0])
    assert ((p > 0.5) == y).all()


def test_greedy_answers_agree_with_teacher_forced_exact_match():
    """The pool's greedy decoding (grouped by prompt length, KV cache) is what exact_match predicts."""
    model = zoo.fresh("zoo-50k", seed=0)
    examples = model_pool.sorting_queries(24, (2, 3), seed=0)
    texts, prob, tokens = model_pool.greedy_answers(model, [e.prompt for e in examples], max_new=6, batch=5)
    pairs = [(e.prompt, t) for e, t in zip(examples, texts, strict=True)]
    assert finetune.exact_match(model, pairs).all()
    assert ((prob >= 0) & (prob <= 1)).all()
    for e, t, n in zip(examples, texts, tokens.tolist(), strict=True):
        assert n == len(zoo.encode("\n" + e.prompt)) + len(t)
        assert len(t) == 6 or (t.endswith(".") and t.count(".") == 1)


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("routing")
    assert set(result["series"]) == {"cost_quality", "pgr"}
