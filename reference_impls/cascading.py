"""Cascading: call the small model first, keep its answer when a scorer trusts it, else escalate to the large model.

For a query x the small model answers y_s with confidence g(x, y_s); with threshold tau

    answer(x) = y_s                if g(x, y_s) >= tau
              = large model(x)     otherwise          cost(x) = C_small(x) + [g < tau] C_large(x)

(chen2024frugalgpt's LLM cascade with two models). tau = 0 never calls the large model; tau > 1 always
does (and still pays for the small call). tau is chosen on a validation split as the cheapest threshold
whose validation accuracy is within `val_tolerance` (half a point) of the large model's, then evaluated
once on the test split. The findings: within 1 point of the large model, at most 70% of its cost, and
more accurate than a random mix of the two models that spends the same.

The scorer is the small model's own probability of its greedy answer, g = prod_t p(y_t | y_<t, x), the
simplest of the token-level confidence measures of gupta2024language; FrugalGPT trains a separate
DistilBERT scorer on (query, answer) pairs, AutoMix (aggarwal2024automix) asks the small model to verify
itself, and yue2024large uses the agreement of sampled answers. Here the small model's probability is
already well ordered (it is low on exactly the long lists it gets wrong), so no scorer is trained. Also
related: varshney2022model (cascades of models of increasing size, escalating on low confidence).
The pool (zoo-180k and zoo-1.3m fine-tuned on digit sorting; costs in FLOPs) is built by `model_pool`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from reference_impls import model_pool, routing
from reference_impls.common import (
    Check,
    Finding,
    Progress,
    Result,
    Timer,
    config_dict,
    report,
    set_threads,
    sub_progress,
)


@dataclass
class Config:
    small: str = "zoo-180k"  # the cheap model, always called first
    large: str = "zoo-1.3m"  # the expensive model, called on escalation
    lengths: list[int] = field(default_factory=lambda: [2, 3, 4, 5, 6, 7, 8])  # list lengths to sort (difficulty)
    tune_examples: int = 7000  # fine-tuning examples shared by both models
    steps_small: int = 600  # fine-tuning steps of the small model (batch 32; cheap, so it gets more)
    steps_large: int = 600  # of the large model (with 300, one zoo seed of zoo-1.3m did not learn the task)
    lr_small: float = 3e-3  # peak learning rate of the small model
    lr_large: float = 1e-3  # of the large model (larger zoo models need a lower rate, as in zoo.SPECS)
    train_queries: int = 2000  # pool split the router trains on (for the cost-quality plot; same pool as routing)
    val_queries: int = 2000  # queries the threshold is chosen on
    test_queries: int = 3000  # queries the chosen threshold is evaluated on
    tolerance: float = 0.01  # accuracy the cascade may lose against the large model on test (1 point)
    val_tolerance: float = 0.005  # what the threshold may lose on validation (half of it: room for noise)
    max_cost_fraction: float = 0.7  # the cost the finding allows, as a share of all-large (FrugalGPT-style saving)
    seed: int = 0  # the zoo's seed, data and fine-tuning seed

    @classmethod
    def quick(cls) -> Config:
        return cls(
            small="zoo-50k",
            large="zoo-180k",
            lengths=[2, 3, 4],
            tune_examples=3000,
            steps_small=250,
            steps_large=250,
            lr_small=5e-3,
            lr_large=3e-3,
            train_queries=600,
            val_queries=600,
            test_queries=1200,
        )


# ---------------------------------------------------------------------------------------------------
# The rule: pure functions on per-query tensors (N,)


def accept(confidence: torch.Tensor, tau: float) -> torch.Tensor:
    """Keep the small model's answer where confidence >= tau: (N,) bool."""
    return confidence >= tau


def cascade_cost(accepted: torch.Tensor, small_cost: torch.Tensor, large_cost: torch.Tensor) -> torch.Tensor:
    """Every query pays the small call; escalated ones also pay the large call."""
    return small_cost.sum() + large_cost[~accepted].sum()


def cascade_accuracy(accepted: torch.Tensor, small_correct: torch.Tensor, large_correct: torch.Tensor) -> torch.Tensor:
    """Accuracy of the small answers kept and the large answers of the escalated queries."""
    return torch.where(accepted, small_correct, large_correct).double().mean()


def choose_threshold(
    confidence: torch.Tensor,
    small_correct: torch.Tensor,
    large_correct: torch.Tensor,
    small_cost: torch.Tensor,
    large_cost: torch.Tensor,
    tolerance: float,
) -> float:
    """The cheapest tau (among the confidences seen, and +inf = always escalate) whose accuracy is
    >= the large model's accuracy - tolerance on these queries."""
    taus = torch.cat([confidence.unique(), torch.tensor([float("inf")], dtype=confidence.dtype)])  # (U,)
    kept = confidence[None, :] >= taus[:, None]  # (U, N)
    acc = torch.where(kept, small_correct, large_correct).double().mean(dim=1)  # (U,)
    cost = small_cost.sum() + torch.where(kept, 0.0, large_cost.double()).sum(dim=1)  # (U,)
    ok = acc >= large_correct.double().mean() - tolerance - 1e-12  # (U,) +inf always qualifies if tol >= 0
    cost = torch.where(ok, cost, torch.tensor(float("inf"), dtype=cost.dtype))
    return taus[cost.argmin()].item()


def serve(tau: float, split: model_pool.Split) -> tuple[float, float, int]:
    """Run the cascade query by query: (accuracy, FLOPs spent, large-model calls)."""
    spent, correct, large_calls = 0.0, 0, 0
    for i in range(len(split)):
        spent += split.small_cost[i].item()  # the small model always answers first
        if split.small_conf[i].item() >= tau:
            correct += bool(split.small_correct[i])
        else:
            spent += split.large_cost[i].item()
            large_calls += 1
            correct += bool(split.large_correct[i])
    return correct / len(split), spent, large_calls


# ---------------------------------------------------------------------------------------------------
# The demo


LABELS = {
    "test_accuracy_small": "test accuracy, small model alone",
    "test_accuracy_large": "test accuracy, large model alone",
    "small_cost_share_of_large": "cost of a small call relative to a large one (FLOPs)",
    "threshold": "confidence threshold chosen on validation",
    "test_cascade_accuracy": "test accuracy, cascade",
    "test_cost_fraction": "cascade cost / all-large cost (test)",
    "test_large_call_share": "share of queries escalated to the large model (test)",
    "test_random_mix_accuracy": "expected accuracy of a random small/large mix at the cascade's cost",
    "test_small_confidence_when_right": "small model's answer probability when right",
    "test_small_confidence_when_wrong": "small model's answer probability when wrong",
}


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        pool = model_pool.from_config(config, sub_progress(progress, 0.0, 0.9))
        val, te = pool.val, pool.test
        report(progress, 0.9, "choosing the threshold on validation")
        acc_s = te.small_correct.double().mean().item()
        acc_l = te.large_correct.double().mean().item()
        all_large, all_small = te.large_cost.sum().item(), te.small_cost.sum().item()
        metrics = model_pool.test_summary(pool)
        metrics["test_small_confidence_when_right"] = te.small_conf[te.small_correct].mean().item()
        metrics["test_small_confidence_when_wrong"] = te.small_conf[~te.small_correct].mean().item()
        tau = choose_threshold(
            val.small_conf, val.small_correct, val.large_correct, val.small_cost, val.large_cost, config.val_tolerance
        )
        metrics["threshold"] = tau

        # Evaluated once on test, query by query, and by the formula.
        acc, spent, calls = serve(tau, te)
        formula = cascade_cost(accept(te.small_conf, tau), te.small_cost, te.large_cost).item()
        metrics["test_cascade_accuracy"] = acc
        metrics["test_cost_fraction"] = spent / all_large
        metrics["test_large_call_share"] = calls / len(te)
        # A random mix that spends the same: a share r of the queries to the large model only,
        # r = (spent - all_small) / (all_large - all_small), expected accuracy acc_s + r (acc_l - acc_s).
        r = min(max((spent - all_small) / (all_large - all_small), 0.0), 1.0)
        metrics["test_random_mix_accuracy"] = acc_s + r * (acc_l - acc_s)

        rand_scores = torch.rand(len(te), generator=torch.Generator().manual_seed(config.seed + 1))
        # The same plot as `routing`'s: the learned router (its default settings) trained on this pool.
        _, router_test_scores, _ = routing.router_scores(pool, routing.Config(seed=config.seed))
        series = {"cost_quality": model_pool.cost_quality_series(router_test_scores, te, rand_scores)}
        m, tol = metrics, config.tolerance
        findings = [
            Finding.compare(f"the cascade keeps accuracy within {tol * 100:g} point of the large model's (threshold chosen on validation)", "chen2024frugalgpt",
                            acc, ">=", acc_l - tol, "cascade", f"large model - {tol * 100:g} point"),
            Finding.compare(f"... while spending at most {config.max_cost_fraction:.0%} of what the large model alone costs", "chen2024frugalgpt",
                            m["test_cost_fraction"], "<=", config.max_cost_fraction, "cascade cost / all-large", f"{config.max_cost_fraction:g}"),
            Finding.compare("the cascade is more accurate than a random mix of the two models that spends the same", "chen2024frugalgpt",
                            acc, ">", m["test_random_mix_accuracy"], "cascade", "random mix, same cost"),
        ]  # fmt: skip
        checks = [
            Check.compare("the setting: the large model is more accurate on test, by more than 3 standard errors of the paired difference", acc_l - acc_s, ">", 3 * m["test_gap_stderr"]),
            Check.compare("cost counted call by call equals the formula sum C_small + sum_escalated C_large (|ratio - 1|)", abs(spent / formula - 1), "<", 1e-9),
        ]  # fmt: skip
        report(progress, 1.0, "done")
    return Result(
        "cascading", config_dict(config), metrics, findings, checks, timer.seconds, series=series, labels=LABELS
    )
