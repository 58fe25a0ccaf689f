"""Cascading: cost accounting, threshold endpoints, monotone cost, the validation threshold, the quick run."""

import pytest
import torch
from conftest import sound_quick_run

from reference_impls import cascading as C
from reference_impls import model_pool
from reference_impls.common import set_threads

set_threads(1)


def synthetic_split(n: int = 500, seed: int = 0) -> model_pool.Split:
    """A pool with known answers where the small model's confidence is informative: it is right with
    probability equal to its confidence; the large model is right on 95%."""
    g = torch.Generator().manual_seed(seed)
    conf = torch.rand(n, generator=g, dtype=torch.float64)
    small_cost = 1 + torch.rand(n, generator=g, dtype=torch.float64)
    return model_pool.Split(
        queries=[f"q{i}" for i in range(n)],
        difficulty=torch.zeros(n, dtype=torch.long),
        small_correct=torch.rand(n, generator=g, dtype=torch.float64) < conf,
        large_correct=torch.rand(n, generator=g) < 0.95,
        small_conf=conf,
        small_cost=small_cost,
        large_cost=8 * small_cost,
    )


def test_cost_is_the_sum_of_the_calls_made():
    split = synthetic_split()
    for tau in (0.0, 0.2, 0.5, 0.77, 1.5):
        acc, spent, calls = C.serve(tau, split)
        kept = C.accept(split.small_conf, tau)
        by_hand = split.small_cost.sum().item() + sum(
            split.large_cost[i].item() for i in range(len(split)) if split.small_conf[i] < tau
        )
        assert spent == pytest.approx(by_hand, rel=1e-12)
        assert spent == pytest.approx(C.cascade_cost(kept, split.small_cost, split.large_cost).item(), rel=1e-12)
        assert calls == int((~kept).sum())
        assert acc == pytest.approx(C.cascade_accuracy(kept, split.small_correct, split.large_correct).item())


def test_threshold_zero_never_calls_the_large_model_and_above_one_always_does():
    split = synthetic_split()
    acc0, cost0, calls0 = C.serve(0.0, split)
    assert calls0 == 0 and cost0 == pytest.approx(split.small_cost.sum().item())
    assert acc0 == pytest.approx(split.small_correct.double().mean().item())
    acc1, cost1, calls1 = C.serve(1.0 + 1e-9, split)
    assert calls1 == len(split)
    assert cost1 == pytest.approx((split.small_cost + split.large_cost).sum().item())
    assert acc1 == pytest.approx(split.large_correct.double().mean().item())


def test_cost_does_not_rise_as_the_threshold_loosens():
    split = synthetic_split()
    costs = [
        C.cascade_cost(C.accept(split.small_conf, t), split.small_cost, split.large_cost).item()
        for t in torch.linspace(1.01, 0.0, 60).tolist()
    ]
    assert all(b <= a for a, b in zip(costs, costs[1:], strict=False))
    assert costs[0] > costs[-1]


def test_chosen_threshold_is_the_cheapest_that_meets_the_accuracy_target():
    split = synthetic_split(800)
    args = (split.small_conf, split.small_correct, split.large_correct, split.small_cost, split.large_cost)
    acc_l = split.large_correct.double().mean().item()
    for tol in (0.0, 0.01, 0.05, 0.2):
        tau = C.choose_threshold(*args, tol)
        kept = C.accept(split.small_conf, tau)
        assert C.cascade_accuracy(kept, split.small_correct, split.large_correct).item() >= acc_l - tol - 1e-12
        cost = C.cascade_cost(kept, split.small_cost, split.large_cost).item()
        # brute force over every threshold: none is cheaper and also meets the target
        for t in split.small_conf.tolist():
            k = C.accept(split.small_conf, t)
            if C.cascade_accuracy(k, split.small_correct, split.large_correct).item() >= acc_l - tol - 1e-12:
                assert C.cascade_cost(k, split.small_cost, split.large_cost).item() >= cost - 1e-9
    # a looser target never costs more
    costs = [
        C.cascade_cost(C.accept(split.small_conf, C.choose_threshold(*args, tol)), *args[3:]).item()
        for tol in (0.0, 0.02, 0.1, 0.5)
    ]
    assert all(b <= a for a, b in zip(costs, costs[1:], strict=False))
    # tolerance 1 accepts everything (threshold = the lowest confidence)
    assert C.choose_threshold(*args, 1.0) == split.small_conf.min().item()


def test_an_informative_confidence_saves_cost_at_the_large_models_accuracy():
    split = synthetic_split(4000, seed=1)
    args = (split.small_conf, split.small_correct, split.large_correct, split.small_cost, split.large_cost)
    tau = C.choose_threshold(*args, 0.01)
    kept = C.accept(split.small_conf, tau)
    assert 0 < tau < 1 and kept.any()
    assert C.cascade_cost(kept, split.small_cost, split.large_cost) < split.large_cost.sum()


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("cascading")
    lines = result["series"]["cost_quality"]["lines"]
    assert set(lines) == {"learned router", "cascade (small first, confidence)", "random router"}
    cascade = lines["cascade (small first, confidence)"]
    assert cascade["x"][0] == pytest.approx(1 + result["metrics"]["small_cost_share_of_large"])  # nothing accepted
