"""Learned routing: a cheap classifier sends each query to the small or the large model, before either runs.

A router scores every query, s(x) = P(the large model wins | x), and the query goes to the large model
when s(x) >= tau; tau is calibrated on a validation split so that a TARGET SHARE r of the queries goes
to the large model (the (1 - r) quantile of the validation scores). Quality is measured as the
performance gap recovered (ong2025routellm):

    PGR(c) = (acc(c) - acc_small) / (acc_large - acc_small),      APGR = integral_0^1 PGR(c) dc

over the share c of large-model calls; a random router recovers the gap linearly (APGR ~ 0.5) and a
perfect one sends exactly the queries the large model wins. Cost is the sum of the calls made,
sum_x [route(x) ? C_large(x) : C_small(x)], in FLOPs (see `model_pool`). The router is a logistic
regression on hashed character n-grams of the query (RouteLLM's BERT/matrix-factorisation routers,
Hybrid LLM's DeBERTa router (ding2024hybrid) at toy scale), trained on RouteLLM's label
"large correct and small wrong". Related: shnitzer2023large (learning which model to ask from
benchmark outcomes), hu2024routerbench (cost-quality curves and APGR-style summaries of routers).
The pool (zoo-180k and zoo-1.3m fine-tuned on digit sorting) is built by `model_pool`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from reference_impls import model_pool
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
    small: str = "zoo-180k"  # the cheap model
    large: str = "zoo-1.3m"  # the expensive model
    lengths: list[int] = field(default_factory=lambda: [2, 3, 4, 5, 6, 7, 8])  # list lengths to sort (difficulty)
    tune_examples: int = 7000  # fine-tuning examples shared by both models
    steps_small: int = 600  # fine-tuning steps of the small model (batch 32; cheap, so it gets more)
    steps_large: int = 600  # of the large model (with 300, one zoo seed of zoo-1.3m did not learn the task)
    lr_small: float = 3e-3  # peak learning rate of the small model
    lr_large: float = 1e-3  # of the large model (larger zoo models need a lower rate, as in zoo.SPECS)
    train_queries: int = 2000  # queries the router is trained on
    val_queries: int = 2000  # queries the threshold is calibrated on
    test_queries: int = 3000  # queries everything is measured on
    buckets: int = 4096  # hashed character n-gram features
    ngrams: list[int] = field(default_factory=lambda: [1, 2, 3])  # n-gram lengths hashed
    router_steps: int = 300  # full-batch Adam steps of the logistic regression
    router_lr: float = 0.05  # its learning rate
    router_l2: float = 1e-3  # its weight decay
    shares: list[float] = field(default_factory=lambda: [0.1, 0.2, 0.3, 0.5, 0.7, 0.9])  # target large shares
    share_tolerance: float = 0.03  # claimed max |realised - target| share on test (noise ~ 1/sqrt(val_queries))
    random_seeds: int = 20  # random routers averaged
    seed: int = 0  # the zoo's seed, data, fine-tuning and router seed

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
            router_steps=150,
            share_tolerance=0.06,
            random_seeds=10,
        )


# ---------------------------------------------------------------------------------------------------
# The rule: pure functions on per-query tensors (N,)


def route_cost(route: torch.Tensor, small_cost: torch.Tensor, large_cost: torch.Tensor) -> torch.Tensor:
    """Total cost of a routing decision (N,) bool: sum of C_large where routed, C_small elsewhere."""
    return torch.where(route, large_cost, small_cost).sum()


def route_accuracy(route: torch.Tensor, small_correct: torch.Tensor, large_correct: torch.Tensor) -> torch.Tensor:
    """Accuracy of the answers of the models the queries were routed to."""
    return torch.where(route, large_correct, small_correct).double().mean()


def calibrate_threshold(val_scores: torch.Tensor, share: float) -> float:
    """tau such that a share `share` of the validation scores is >= tau (route when s >= tau).

    share 0 gives +inf (nothing routed), share 1 the smallest score (everything routed)."""
    k = round(share * len(val_scores))
    if k <= 0:
        return float("inf")
    return val_scores.sort(descending=True).values[k - 1].item()


def pgr_curve(
    scores: torch.Tensor, small_correct: torch.Tensor, large_correct: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Share c_j = j / N of large calls (N + 1,) and PGR(c_j) (N + 1,) when the j highest scores go large.

    Ties are broken by position (a stable sort); PGR(0) = 0 and PGR(1) = 1 by construction."""
    n = len(scores)
    order = scores.argsort(descending=True, stable=True)  # (N,)
    gain = (large_correct.double() - small_correct.double())[order]  # (N,) what routing each query adds
    acc = small_correct.double().mean() + torch.cat([torch.zeros(1, dtype=torch.float64), gain.cumsum(0) / n])
    acc_small, acc_large = acc[0], acc[-1]
    shares = torch.arange(n + 1, dtype=torch.float64) / n  # (N + 1,)
    return shares, (acc - acc_small) / (acc_large - acc_small)


def apgr(scores: torch.Tensor, small_correct: torch.Tensor, large_correct: torch.Tensor) -> float:
    """Average PGR over the share of large calls from 0 to 1 (trapezoid rule on the N + 1 points)."""
    shares, pgr = pgr_curve(scores, small_correct, large_correct)
    return torch.trapezoid(pgr, shares).item()


def share_at_pgr(
    scores: torch.Tensor, small_correct: torch.Tensor, large_correct: torch.Tensor, target: float = 0.5
) -> float:
    """The smallest share of large calls whose PGR reaches `target` (RouteLLM's CPT(50%))."""
    shares, pgr = pgr_curve(scores, small_correct, large_correct)
    return shares[(pgr >= target - 1e-9).nonzero()[0, 0]].item()  # tolerance: PGR is a ratio of float sums


def hashed_ngrams(texts: list[str], ns: list[int], buckets: int) -> torch.Tensor:
    """Counts of character n-grams hashed (crc32) into `buckets` columns, log(1 + count): (N, buckets)."""
    x = torch.zeros(len(texts), buckets)
    for i, t in enumerate(texts):
        for n in ns:
            for j in range(len(t) - n + 1):
                x[i, zlib.crc32(f"{n}:{t[j : j + n]}".encode()) % buckets] += 1
    return torch.log1p(x)


def train_router(x: torch.Tensor, y: torch.Tensor, steps: int, lr: float, l2: float, seed: int) -> torch.nn.Linear:
    """Logistic regression P(y = 1 | x) = sigmoid(w . x + b) by full-batch Adam: x (N, D), y (N,)."""
    torch.manual_seed(seed)
    model = torch.nn.Linear(x.shape[1], 1)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=l2)
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(model(x)[:, 0], y.float())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def router_scores(pool: model_pool.Pool, config: Config) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train the router on the pool's train split; its scores on validation (N_val,) and test (N_test,),
    and the training labels "the large model wins" (N_train,)."""
    tr, val, te = pool.train, pool.val, pool.test
    feats = [hashed_ngrams(s.queries, config.ngrams, config.buckets) for s in (tr, val, te)]  # (N, D) each
    wins = tr.large_correct & ~tr.small_correct  # (N_train,) RouteLLM's label
    router = train_router(feats[0], wins, config.router_steps, config.router_lr, config.router_l2, config.seed)
    with torch.no_grad():
        return torch.sigmoid(router(feats[1])[:, 0]), torch.sigmoid(router(feats[2])[:, 0]), wins


# ---------------------------------------------------------------------------------------------------
# Serving: calls one model per query and counts what it spent (the cost claim compares it with the formula)


def serve(route: torch.Tensor, split: model_pool.Split) -> tuple[float, float]:
    """Answer every query with the model it is routed to, one call at a time: (accuracy, FLOPs spent)."""
    spent, correct = 0.0, 0
    for i, to_large in enumerate(route.tolist()):
        if to_large:
            spent += split.large_cost[i].item()
            correct += bool(split.large_correct[i])
        else:
            spent += split.small_cost[i].item()
            correct += bool(split.small_correct[i])
    return correct / len(split), spent


# ---------------------------------------------------------------------------------------------------
# The demo


LABELS = {
    "test_accuracy_small": "test accuracy, small model alone",
    "test_accuracy_large": "test accuracy, large model alone",
    "small_cost_share_of_large": "cost of a small call relative to a large one (FLOPs)",
    "apgr_learned": "APGR, learned router",
    "apgr_length": "APGR, routing by list length",
    "apgr_random_mean": "APGR, random router (mean)",
    "apgr_oracle": "APGR, oracle router",
    "share_at_pgr50_learned": "share of large calls at 50% of the gap recovered, learned router",
    "cost_at_pgr50_learned": "cost at 50% of the gap recovered / all-large cost, learned router",
    "calibration_error_max": "largest |realised - target| share of large calls on test",
}


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        pool = model_pool.from_config(config, sub_progress(progress, 0.0, 0.85))
        te, n = pool.test, len(pool.test)
        report(progress, 0.85, "training the router")
        s_val, s_te, wins = router_scores(pool, config)  # (N_val,), (N_test,), (N_train,)
        acc_s = te.small_correct.double().mean().item()
        acc_l = te.large_correct.double().mean().item()
        metrics = model_pool.test_summary(pool)
        metrics["router_train_win_rate"] = wins.double().mean().item()
        easy, hard = te.difficulty.min().item(), te.difficulty.max().item()
        gap = {
            d: metrics[f"test_accuracy_large_items_{d + 2}"] - metrics[f"test_accuracy_small_items_{d + 2}"]
            for d in (easy, hard)
        }

        def area(scores: torch.Tensor) -> float:
            return apgr(scores, te.small_correct, te.large_correct)

        g = torch.Generator().manual_seed(config.seed)
        rand = torch.tensor([area(torch.rand(n, generator=g)) for _ in range(config.random_seeds)], dtype=torch.float64)
        metrics["apgr_learned"] = area(s_te)
        metrics["apgr_length"] = area(te.difficulty.double())  # longer lists first (ties in query order)
        metrics["apgr_random_mean"], metrics["apgr_random_std"] = rand.mean().item(), rand.std().item()
        metrics["apgr_oracle"] = area(te.large_correct.double() - te.small_correct.double())
        metrics["share_at_pgr50_learned"] = share_at_pgr(s_te, te.small_correct, te.large_correct)
        route50 = torch.zeros(n, dtype=torch.bool)
        route50[s_te.argsort(descending=True, stable=True)[: round(metrics["share_at_pgr50_learned"] * n)]] = True
        metrics["cost_at_pgr50_learned"] = (
            route_cost(route50, te.small_cost, te.large_cost) / te.large_cost.sum()
        ).item()

        # Thresholds calibrated on validation to target shares: realised share, accuracy and cost on test.
        errors = []
        for share in config.shares:
            route = s_te >= calibrate_threshold(s_val, share)  # (N,)
            acc, spent = serve(route, te)
            errors.append(abs(route.double().mean().item() - share))
            metrics[f"share_{share:g}_realised"] = route.double().mean().item()
            metrics[f"share_{share:g}_accuracy"] = acc
            metrics[f"share_{share:g}_pgr"] = (acc - acc_s) / (acc_l - acc_s)
            metrics[f"share_{share:g}_cost_fraction"] = spent / te.large_cost.sum().item()
        metrics["calibration_error_max"] = max(errors)
        route = s_te >= calibrate_threshold(s_val, 0.5)
        served = serve(route, te)[1] / route_cost(route, te.small_cost, te.large_cost).item()

        rand_scores = torch.rand(n, generator=torch.Generator().manual_seed(config.seed + 1))
        series = {"cost_quality": model_pool.cost_quality_series(s_te, te, rand_scores)}
        shares, pgr = pgr_curve(s_te, te.small_correct, te.large_correct)
        idx = torch.linspace(0, n, 21).round().long()
        series["pgr"] = {
            "title": "Performance gap recovered against the share of large-model calls (test split)",
            "xlabel": "share of queries sent to the large model",
            "ylabel": "performance gap recovered (PGR)",
            "lines": {
                label: {
                    "x": shares[idx].tolist(),
                    "y": pgr_curve(scores, te.small_correct, te.large_correct)[1][idx].tolist(),
                }
                for label, scores in (
                    ("learned router", s_te),
                    ("by list length", te.difficulty.double()),
                    ("random router", rand_scores),
                )
            },
        }
        m = metrics
        findings = [
            Finding.compare("a learned router recovers more of the small-large quality gap than a random router (APGR)", "ong2025routellm",
                            m["apgr_learned"], ">", m["apgr_random_mean"], "learned router", "random router"),
            Finding.compare("a learned router recovers more of the gap than routing by query length (longer lists to the large model)", "ong2025routellm",
                            m["apgr_learned"], ">", m["apgr_length"], "learned router", "by length"),
        ]  # fmt: skip
        checks = [
            Check.compare("the setting: the large model is more accurate on test, by more than 3 standard errors of the paired difference", acc_l - acc_s, ">", 3 * m["test_gap_stderr"]),
            Check.compare(f"the setting: the gap grows with difficulty (large - small at {hard + 2} items > at {easy + 2})", gap[hard], ">", gap[easy]),
            Check.compare("cost counted call by call equals the formula sum(route ? C_large : C_small) (|ratio - 1|)", abs(served - 1), "<", 1e-9),
            Check.compare("a random router's APGR is about 0.5 (|mean - 0.5|)", abs(m["apgr_random_mean"] - 0.5), "<", 0.05),
            Check.compare(f"thresholds calibrated on validation hit the target share on test within {config.share_tolerance:g}", m["calibration_error_max"], "<=", config.share_tolerance),
        ]  # fmt: skip
        report(progress, 1.0, "done")
    return Result(
        "routing", config_dict(config), metrics, findings, checks, timer.seconds, series=series, labels=LABELS
    )
