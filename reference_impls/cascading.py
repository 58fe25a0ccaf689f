"""Cascading: call the small model first, keep its answer when a scorer trusts it, else escalate to the large model.

For a query x the small model answers y_s with confidence g(x, y_s); with threshold tau

    answer(x) = y_s                if g(x, y_s) >= tau
              = large model(x)     otherwise          cost(x) = C_small(x) + [g < tau] C_large(x)

(chen2024frugalgpt's LLM cascade with two models). tau = 0 never calls the large model; tau > 1 always
does (and still pays for the small call). tau is chosen on a validation split as the cheapest threshold
whose validation accuracy is within `val_tolerance` (half a point) of the large model's, then evaluated
once on the test split, where the claim is: within 1 point of the large model and >= 30% cheaper.

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
from reference_impls.common import Claim, Progress, Result, Timer, config_dict, report, set_threads, sub_progress


@dataclass
class Config:
    small: str = "zoo-180k"  # the cheap model, always called first
    large: str = "zoo-1.3m"  # the expensive model, called on escalation
    lengths: list[int] = field(default_factory=lambda: [2, 3, 4, 5, 6, 7, 8])  # list lengths to sort (difficulty)
    tune_examples: int = 7000  # fine-tuning examples shared by both models
    steps_small: int = 600  # fine-tuning steps of the small model (batch 32; cheap, so it gets more)
    steps_large: int = 300  # of the large model (it learns the task in fewer steps)
    lr_small: float = 3e-3  # peak learning rate of the small model
    lr_large: float = 1e-3  # of the large model (larger zoo models need a lower rate, as in zoo.SPECS)
    train_queries: int = 2000  # pool split the router trains on (for the cost-quality plot; same pool as routing)
    val_queries: int = 2000  # queries the threshold is chosen on
    test_queries: int = 3000  # queries the chosen threshold is evaluated on
    tolerance: float = 0.01  # accuracy the cascade may lose against the large model on test (1 point)
    val_tolerance: float = 0.005  # what the threshold may lose on validation (half of it: room for noise)
    grid: int = 21  # thresholds of the monotonicity sweep
    claim_saving: bool = True  # claim >= 30% saving on test (the quick pair is too weak to save anything)
    seed: int = 0  # data and fine-tuning seed

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
            claim_saving=False,
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


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        pool = model_pool.from_config(config, sub_progress(progress, 0.0, 0.9))
        val, te = pool.val, pool.test
        report(progress, 0.9, "choosing the threshold on validation")
        n = len(te)
        acc_s = te.small_correct.double().mean().item()
        acc_l = te.large_correct.double().mean().item()
        all_large = te.large_cost.sum().item()
        all_small = te.small_cost.sum().item()
        metrics = model_pool.test_summary(pool)
        metrics["val_accuracy_small"] = val.small_correct.double().mean().item()
        metrics["val_accuracy_large"] = val.large_correct.double().mean().item()
        for d in te.difficulty.unique().tolist():
            m = te.difficulty == d
            metrics[f"test_small_confidence_items_{d + 2}"] = te.small_conf[m].mean().item()
        conf_right = te.small_conf[te.small_correct].mean().item()
        conf_wrong = te.small_conf[~te.small_correct].mean().item()
        metrics["test_small_confidence_when_right"], metrics["test_small_confidence_when_wrong"] = (
            conf_right,
            conf_wrong,
        )

        tau = choose_threshold(
            val.small_conf, val.small_correct, val.large_correct, val.small_cost, val.large_cost, config.val_tolerance
        )
        kept_val = accept(val.small_conf, tau)
        metrics["threshold"] = tau
        metrics["val_cascade_accuracy"] = cascade_accuracy(kept_val, val.small_correct, val.large_correct).item()
        metrics["val_cost_fraction"] = (
            cascade_cost(kept_val, val.small_cost, val.large_cost) / val.large_cost.sum()
        ).item()

        # Evaluated once on test, query by query, and by the formula.
        acc, spent, calls = serve(tau, te)
        kept = accept(te.small_conf, tau)
        formula = cascade_cost(kept, te.small_cost, te.large_cost).item()
        metrics["test_cascade_accuracy"] = acc
        metrics["test_cost_fraction"] = spent / all_large
        metrics["test_saving"] = 1 - spent / all_large
        metrics["test_large_call_share"] = calls / n
        metrics["cost_served_over_formula"] = spent / formula

        # Endpoints and monotonicity over a grid of thresholds from 1 + 1e-9 (always escalate) down to 0.
        acc0, cost0, calls0 = serve(0.0, te)
        acc1, cost1, calls1 = serve(1.0 + 1e-9, te)
        grid = torch.linspace(1.0 + 1e-9, 0.0, config.grid).tolist()
        costs = [cascade_cost(accept(te.small_conf, t), te.small_cost, te.large_cost).item() for t in grid]
        rises = sum(b > a for a, b in zip(costs, costs[1:], strict=False))

        rand_scores = torch.rand(n, generator=torch.Generator().manual_seed(config.seed + 1))
        # The same plot as `routing`'s: the learned router (its default settings) trained on this pool.
        _, router_test_scores, _ = routing.router_scores(pool, routing.Config())
        series = {"cost_quality": model_pool.cost_quality_series(router_test_scores, te, rand_scores)}

        claims = [
            Claim.compare(
                "the large model is clearly more accurate on the test split (gap > 20 x its standard error)",
                acc_l - acc_s,
                ">",
                20 * metrics["test_accuracy_large_stderr"],
            ),
            Claim.compare(
                "cost counted call by call equals the formula sum C_small + sum_escalated C_large (ratio 1)",
                abs(metrics["cost_served_over_formula"] - 1),
                "<",
                1e-9,
            ),
            Claim.compare("threshold 0 never calls the large model (large calls)", calls0, "==", 0),
            Claim.compare(
                "threshold 0 costs the all-small cost (relative difference < 1e-9)",
                abs(cost0 / all_small - 1),
                "<",
                1e-9,
            ),
            Claim.compare("threshold above 1 always calls the large model (large calls = N)", calls1, "==", n),
            Claim.compare(
                "threshold above 1 costs all-small + all-large (relative difference < 1e-9)",
                abs(cost1 / (all_small + all_large) - 1),
                "<",
                1e-9,
            ),
            Claim.compare("threshold above 1 has the large model's accuracy", abs(acc1 - acc_l), "<", 1e-9),
            Claim.compare("threshold 0 has the small model's accuracy", abs(acc0 - acc_s), "<", 1e-9),
            Claim.compare("cost never rises as the threshold loosens (rises over the grid)", rises, "==", 0),
            Claim.compare(
                f"on test the cascade is within {config.tolerance:g} of the large model's accuracy",
                acc,
                ">=",
                acc_l - config.tolerance,
            ),
        ]
        if config.claim_saving:
            claims.append(
                Claim.compare(
                    "on test the cascade saves >= 30% of the all-large cost", metrics["test_saving"], ">=", 0.30
                )
            )
        report(progress, 1.0, "done")
    return Result("cascading", config_dict(config), metrics, claims, timer.seconds, series=series)
