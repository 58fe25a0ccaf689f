"""The query pool shared by `routing` and `cascading`: a small and a large zoo model answer the same queries.

Both models are fine-tuned the same way (`finetune.finetune`, same steps, batch, seed and training
examples) on a task of known difficulty, digit sorting with 2..8 items ("sort: 5 2 9 -> 2 5 9.";
difficulty = items - 2 as in `tasks.sorting`, which the zoo's corpus also contains), then decode every
query of a router-training, a validation and a test split greedily. Per query the pool records:

    small_correct, large_correct   greedy output == answer + "." (exact match, "." ends the answer)
    small_conf                     probability of the small model's own greedy answer, prod_t p(y_t | y_<t, x)
    small_cost, large_cost         FLOPs of the call: 2 * params * (prompt tokens + generated tokens)

Cost is counted in forward FLOPs (about 2 x parameters per token, kaplan-style, as in `size-tradeoff`),
so a long query costs more than a short one; generation stops at the first "." (or `max_new` bytes).
`build` caches the pool by its settings, in memory and in the model cache (`<cache>/pool/`), so that
routing and cascading fine-tune the pair once per seed. Not an implementation (no Config, no run).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from reference_impls import finetune, tasks, zoo
from reference_impls.common import Progress, report, sub_progress

STOP = ord(".")  # the byte that ends an answer


@dataclass
class Split:
    """One split of the pool: N queries answered by both models."""

    queries: list[str]  # the prompts, e.g. "sort: 5 2 9 ->"
    difficulty: torch.Tensor  # (N,) long, items - 2
    small_correct: torch.Tensor  # (N,) bool
    large_correct: torch.Tensor  # (N,) bool
    small_conf: torch.Tensor  # (N,) float64, p(small's greedy answer) in [0, 1]
    small_cost: torch.Tensor  # (N,) float64, FLOPs of calling the small model on the query
    large_cost: torch.Tensor  # (N,) float64, FLOPs of calling the large model on the query

    def __len__(self) -> int:
        return len(self.queries)


@dataclass
class Pool:
    train: Split  # trains the router
    val: Split  # calibrates thresholds
    test: Split  # evaluated once
    small_params: int
    large_params: int
    small_name: str
    large_name: str


def sorting_queries(n: int, lengths: tuple[int, ...], seed: int) -> list[tasks.Example]:
    """n sorting examples, an equal share of each list length, shuffled."""
    out: list[tasks.Example] = []
    for k in lengths:
        out += tasks.sorting(n // len(lengths), seed=seed * 1000 + k, length=k)
    random.Random(seed).shuffle(out)
    return out


@torch.no_grad()
def greedy_answers(
    model: PreTrainedModel, prompts: list[str], max_new: int, batch: int = 256
) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """Greedy continuations of "\\n" + prompt up to the first "." (included) or max_new bytes.

    Returns the answers, the probability of each greedy answer (N,) (product of the chosen tokens'
    probabilities) and the tokens each call processed (N,) (prompt + generated). Prompts are decoded in
    groups of equal length, so no padding or attention mask is needed.
    """
    model.eval()
    n = len(prompts)
    answers, prob, tokens = [""] * n, torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)
    ids = [zoo.encode("\n" + p) for p in prompts]
    groups: dict[int, list[int]] = {}
    for i, s in enumerate(ids):
        groups.setdefault(len(s), []).append(i)
    for length, members in groups.items():
        for b in range(0, len(members), batch):
            rows = members[b : b + batch]
            x = torch.tensor([ids[i] for i in rows])  # (B, P)
            out = model(input_ids=x, use_cache=True)
            logp = torch.zeros(len(rows), dtype=torch.float64)  # (B,)
            done = torch.zeros(len(rows), dtype=torch.bool)  # (B,)
            used = torch.zeros(len(rows), dtype=torch.long)  # (B,) generated tokens
            gen = []
            for t in range(max_new):
                lp = F.log_softmax(out.logits[:, -1].double(), dim=-1)  # (B, V)
                nxt = lp.argmax(dim=-1)  # (B,)
                live = ~done
                logp += torch.where(live, lp.gather(1, nxt[:, None])[:, 0], 0.0)
                used += live.long()
                gen.append(nxt)
                done |= nxt == STOP
                if done.all() or t + 1 == max_new:
                    break
                out = model(input_ids=nxt[:, None], past_key_values=out.past_key_values, use_cache=True)
            gen_ids = torch.stack(gen, dim=1)  # (B, steps)
            for j, i in enumerate(rows):
                answers[i] = zoo.decode(gen_ids[j, : used[j]])
                prob[i] = logp[j].exp()
                tokens[i] = length + used[j].item()
    return answers, prob, tokens


def answer(model: PreTrainedModel, examples: list[tasks.Example], max_new: int) -> dict[str, torch.Tensor]:
    """Correctness (N,), answer probability (N,) and FLOPs (N,) of one model on examples."""
    texts, prob, tokens = greedy_answers(model, [e.prompt for e in examples], max_new)
    correct = torch.tensor([t == e.answer + "." for t, e in zip(texts, examples, strict=True)])
    return {"correct": correct, "conf": prob, "cost": 2.0 * zoo.n_params(model) * tokens}


_POOLS: dict[str, Pool] = {}  # pools built or loaded in this process, by their settings


def build(
    small: str,
    large: str,
    lengths: tuple[int, ...] | list[int],
    n_train: int,
    n_val: int,
    n_test: int,
    n_tune: int,
    steps_small: int,
    steps_large: int,
    lr_small: float,
    lr_large: float,
    batch: int = 32,
    seed: int = 0,
    progress: Progress | None = None,
) -> Pool:
    """Fine-tune `small` and `large` (the zoo of `seed`) on n_tune sorting examples and let both answer
    three fresh splits. Cached by its settings in memory and on disk (`<cache>/pool/`), so that routing
    and cascading, in one process or side by side, fine-tune the pair once per seed."""
    settings = [  # _build's arguments, in its order; also the cache key
        small,
        large,
        list(lengths),
        n_train,
        n_val,
        n_test,
        n_tune,
        steps_small,
        steps_large,
        lr_small,
        lr_large,
        batch,
        seed,
    ]
    key = hashlib.sha256(
        json.dumps([settings, zoo.model_dir(small, seed=seed).name, zoo.model_dir(large, seed=seed).name]).encode()
    ).hexdigest()[:16]
    if key in _POOLS:
        report(progress, 1.0, "pool already built in this process")
        return _POOLS[key]
    path = zoo.cache_root() / "pool" / f"{key}.pt"
    with zoo.cache_lock(f"pool-{key}"):
        if not path.exists():
            pool = _build(*settings, progress)  # settings in _build's order
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(dataclasses.asdict(pool), path.with_suffix(".tmp"))
            path.with_suffix(".tmp").replace(path)
    data = torch.load(path, weights_only=False)
    _POOLS[key] = Pool(**{**data, **{k: Split(**data[k]) for k in ("train", "val", "test")}})
    report(progress, 1.0, "pool ready")
    return _POOLS[key]


def _build(small, large, lengths, n_train, n_val, n_test, n_tune, steps_small, steps_large, lr_small, lr_large, batch, seed, progress) -> Pool:  # fmt: skip
    tune = sorting_queries(n_tune, lengths, seed)
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    splits = {name: sorting_queries(n, lengths, seed + 1 + i) for i, (name, n) in enumerate(sizes.items())}
    pairs = [(e.prompt, e.answer + ".") for e in tune]
    max_new = 2 * max(lengths) + 2  # " 1 2 ... k." is 2k + 1 bytes; one spare
    params, out = {}, {}
    for j, (name, steps, lr) in enumerate(((small, steps_small, lr_small), (large, steps_large, lr_large))):
        tick = sub_progress(progress, 0.5 * j, 0.5 * j + 0.4)
        model, _ = zoo.load(name, seed=seed)
        finetune.finetune(
            model,
            pairs,
            steps,
            lr=lr,
            batch=batch,
            seed=seed,
            progress=lambda s, t=tick, name=name, n=steps: report(t, (s + 1) / n, f"fine-tuning {name}"),
        )
        report(progress, 0.5 * j + 0.4, f"{name} answers every query")
        params[name] = zoo.n_params(model)
        out[name] = {k: answer(model, ex, max_new) for k, ex in splits.items()}
    pool = {
        k: Split(
            queries=[e.prompt for e in ex],
            difficulty=torch.tensor([e.difficulty for e in ex]),
            small_correct=out[small][k]["correct"],
            large_correct=out[large][k]["correct"],
            small_conf=out[small][k]["conf"],
            small_cost=out[small][k]["cost"],
            large_cost=out[large][k]["cost"],
        )
        for k, ex in splits.items()
    }
    return Pool(**pool, small_params=params[small], large_params=params[large], small_name=small, large_name=large)


def test_summary(pool: Pool) -> dict[str, float]:
    """What both demos report about the pool's test split: sizes, accuracies (overall and by list
    length), the large model's standard error and the small call's cost relative to the large one."""
    te, n = pool.test, len(pool.test)
    acc_s = te.small_correct.double().mean().item()
    acc_l = te.large_correct.double().mean().item()
    metrics = {
        "small_params": pool.small_params,
        "large_params": pool.large_params,
        "test_queries": n,
        "test_accuracy_small": acc_s,
        "test_accuracy_large": acc_l,
        "test_accuracy_large_stderr": (acc_l * (1 - acc_l) / n) ** 0.5,
        # standard error of the difference of the two accuracies on the same queries (paired)
        "test_gap_stderr": ((te.large_correct.double() - te.small_correct.double()).std() / n**0.5).item(),
        "small_cost_share_of_large": (te.small_cost.sum() / te.large_cost.sum()).item(),
    }
    for d in te.difficulty.unique().tolist():
        m = te.difficulty == d
        metrics[f"test_accuracy_small_items_{d + 2}"] = te.small_correct[m].double().mean().item()
        metrics[f"test_accuracy_large_items_{d + 2}"] = te.large_correct[m].double().mean().item()
    return metrics


def from_config(config, progress: Progress | None = None) -> Pool:
    """The pool of a routing or cascading Config (both carry the same pool fields)."""
    return build(
        config.small,
        config.large,
        config.lengths,
        config.train_queries,
        config.val_queries,
        config.test_queries,
        config.tune_examples,
        config.steps_small,
        config.steps_large,
        config.lr_small,
        config.lr_large,
        seed=config.seed,
        progress=progress,
    )


# ---------------------------------------------------------------------------------------------------
# Cost-quality curves of the router, the cascade and a random router (the same plot in both results)


def router_curve(scores: torch.Tensor, split: Split, points: int = 21) -> tuple[list[float], list[float]]:
    """Accuracy against cost / all-large cost when the top j scores go large, at `points` shares."""
    order = scores.argsort(descending=True, stable=True)
    all_large = split.large_cost.sum().item()
    xs, ys = [], []
    for k in range(points):
        route = torch.zeros(len(split), dtype=torch.bool)
        route[order[: round(k / (points - 1) * len(split))]] = True
        xs.append(torch.where(route, split.large_cost, split.small_cost).sum().item() / all_large)
        ys.append(torch.where(route, split.large_correct, split.small_correct).double().mean().item())
    return xs, ys


def cascade_curve(split: Split, points: int = 21) -> tuple[list[float], list[float]]:
    """Accuracy against cost / all-large cost of the small-first cascade, accepting the `k/(points-1)`
    share of most confident small answers (cost = all small calls + escalated large calls)."""
    order = split.small_conf.argsort(descending=True, stable=True)
    all_large = split.large_cost.sum().item()
    xs, ys = [], []
    for k in range(points):
        accept = torch.zeros(len(split), dtype=torch.bool)
        accept[order[: round(k / (points - 1) * len(split))]] = True
        cost = split.small_cost.sum() + split.large_cost[~accept].sum()
        xs.append(cost.item() / all_large)
        ys.append(torch.where(accept, split.small_correct, split.large_correct).double().mean().item())
    return xs, ys


def cost_quality_series(scores: torch.Tensor, split: Split, random_scores: torch.Tensor) -> dict:
    """The site's plot: router, cascade and random router on one split, accuracy against relative cost."""
    lines = {}
    for label, xy in (
        ("learned router", router_curve(scores, split)),
        ("cascade (small first, confidence)", cascade_curve(split)),
        ("random router", router_curve(random_scores, split)),
    ):
        lines[label] = {"x": xy[0], "y": xy[1]}
    return {
        "title": "Cost against accuracy on the test split (digit sorting, 2-8 items)",
        "xlabel": "cost / cost of calling the large model on every query (FLOPs)",
        "ylabel": "exact-match accuracy",
        "lines": lines,
    }
