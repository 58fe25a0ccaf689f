"""Proxy-tuning: steer a large model at decoding time with the difference a small model's tuning made.

Tune a small model on a domain; keep its untuned copy. At every position, with logits z:

    z_proxy = z_large + alpha * (z_small_tuned - z_small_base)          (liu2024tuning)
    p_proxy = softmax(z_proxy)

The large model's weights are never touched: only its logits are needed. With alpha = 1 this is
the emulated fine-tuning of mitchell2024emulator (large base + small fine-tuning delta) and the
expert/anti-expert ensemble of liu2021dexperts. Two properties follow from the formula: a tuned
model equal to the base leaves the large model's distribution (and so its greedy output) exactly
unchanged, and alpha = 0 does the same.

The demo tunes zoo-180k on one domain of the corpus and also tunes zoo-1.3m directly on the same
data, steps and batches (the reference proxy-tuning tries to match), then measures held-out
perplexity on that domain: large untuned, proxy-tuned, directly tuned, and the share of the gap
between the first and the last that proxy-tuning closes, across alpha. Related papers:
ormazabal2023comblm (learned combination of a black-box large and a tuned small model),
fei2025nudging, lu2023inference, zhou2024weak.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from reference_impls import zoo
from reference_impls.common import (
    Claim,
    Progress,
    Result,
    Timer,
    config_dict,
    report,
    seed_everything,
    set_threads,
    sub_progress,
)


@dataclass
class Config:
    large: str = "zoo-1.3m"  # zoo name or local checkpoint folder of the large model (never tuned by proxy)
    small: str = "zoo-180k"  # the small model tuned on the domain; must share the large one's vocabulary
    domain: str = "recipe"  # corpus domain used as the tuning and held-out split
    steps: int = 120  # tuning steps, the same for the small model and the directly tuned large model
    batch: int = 16  # sequences per step
    seq_len: int = 64  # tokens per sequence
    small_lr: float = 3e-3  # peak learning rate of the small model's tuning
    large_lr: float = 7e-4  # peak learning rate of the large model's direct tuning (its zoo rate)
    alpha: float = 1.0  # weight of the small model's logit difference
    alphas: list[float] = field(default_factory=lambda: [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0])  # sweep
    eval_tokens: int = 8192  # held-out domain tokens for perplexity
    eval_seq_len: int = 128  # their window length
    gen_prompts: int = 16  # held-out domain prompts for the "tuned = base leaves greedy unchanged" check
    gen_len: int = 48  # greedy tokens generated for that check
    seed: int = 0  # batch order

    @classmethod
    def quick(cls) -> Config:
        return cls(
            large="zoo-660k",
            large_lr=2e-3,
            steps=30,
            alphas=[],
            eval_tokens=2048,
            gen_prompts=4,
            gen_len=24,
        )


# ---------------------------------------------------------------------------------------------------
# The rule


def proxy_logits(
    large_logits: torch.Tensor, tuned_logits: torch.Tensor, base_logits: torch.Tensor, alpha: float = 1.0
) -> torch.Tensor:
    """z_large + alpha * (z_tuned - z_base): (..., V)."""
    return large_logits.float() + alpha * (tuned_logits.float() - base_logits.float())


class ProxyTuned(torch.nn.Module):
    """The three models as one: `logits(input_ids)` gives the proxy-tuned next-token logits (B, T, V)."""

    def __init__(self, large: PreTrainedModel, tuned: PreTrainedModel, base: PreTrainedModel, alpha: float = 1.0):
        super().__init__()
        self.large, self.tuned, self.base, self.alpha = large.eval(), tuned.eval(), base.eval(), alpha

    @torch.no_grad()
    def logits(self, input_ids: torch.Tensor) -> torch.Tensor:
        z = [m(input_ids=input_ids).logits for m in (self.large, self.tuned, self.base)]  # 3 x (B, T, V)
        return proxy_logits(*z, alpha=self.alpha)


@torch.no_grad()
def proxy_generate(proxy: ProxyTuned, prompts: torch.Tensor, n_new: int) -> torch.Tensor:
    """Greedy decoding from the proxy-tuned logits, with a KV cache for each of the three models: (B, P + n)."""
    models = (proxy.large, proxy.tuned, proxy.base)
    outs = [m(input_ids=prompts, use_cache=True) for m in models]
    seq = prompts
    for i in range(n_new):
        z = proxy_logits(*(o.logits[:, -1] for o in outs), alpha=proxy.alpha)  # (B, V)
        nxt = z.argmax(dim=-1)  # (B,)
        seq = torch.cat([seq, nxt[:, None]], dim=1)
        if i + 1 < n_new:
            outs = [
                m(input_ids=nxt[:, None], past_key_values=o.past_key_values, use_cache=True)
                for m, o in zip(models, outs, strict=True)
            ]
    return seq


@torch.no_grad()
def perplexity_of(logits_fn, x: torch.Tensor, batch: int = 32) -> float:
    """exp(mean next-token NLL) of windows x (N, T) under a function input_ids -> logits (B, T, V)."""
    total, count = 0.0, 0
    for i in range(0, len(x), batch):
        xb = x[i : i + batch]  # (B, T)
        lg = logits_fn(xb)[:, :-1].float()  # (B, T-1, V)
        total += F.cross_entropy(lg.reshape(-1, lg.shape[-1]), xb[:, 1:].reshape(-1), reduction="sum").item()
        count += xb[:, 1:].numel()
    return math.exp(total / count)


def gap_closed(ppl_large: float, ppl_proxy: float, ppl_tuned_large: float) -> float:
    """(ppl_large - ppl_proxy) / (ppl_large - ppl_tuned_large): 0 = no gain, 1 = as good as direct tuning."""
    return (ppl_large - ppl_proxy) / (ppl_large - ppl_tuned_large)


def domain_tokens(split: str, domain: str) -> torch.Tensor:
    """The documents of one domain of a corpus split as one token stream (N,)."""
    text = "".join(d["text"] + "\n" for d in zoo.documents(split) if d["domain"] == domain)
    return torch.tensor(zoo.encode(text), dtype=torch.long)


def tune(model: PreTrainedModel, ids: torch.Tensor, config: Config, lr: float, progress=None) -> PreTrainedModel:
    """Next-token training on random windows of a token stream (seeded: same batches for every model)."""
    batches = zoo.batch_stream(ids, config.batch, config.seq_len, seed=config.seed + 1)
    zoo.train(model, batches, config.steps, lr=lr, warmup=min(20, config.steps // 4), progress=progress)
    return model


# ---------------------------------------------------------------------------------------------------
# The demo


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        seed_everything(config.seed)
        report(progress, 0.0, f"loading {config.large} and {config.small}")
        large, _ = zoo.load(config.large)
        base, _ = zoo.load(config.small)
        train_ids = domain_tokens("train", config.domain)
        held = zoo.windows(domain_tokens("heldout", config.domain), config.eval_seq_len, config.eval_tokens)

        # Tuning: the small model (cheap), and the large one directly (the reference to match).
        small_cost = zoo.n_params(base) / zoo.n_params(large)
        split = small_cost / (1 + small_cost)
        tick = sub_progress(progress, 0.02, 0.02 + 0.8 * split)
        tuned = tune(
            copy.deepcopy(base),
            train_ids,
            config,
            config.small_lr,
            progress=lambda s: report(tick, (s + 1) / config.steps, "tuning the small model"),
        )
        tick = sub_progress(progress, 0.02 + 0.8 * split, 0.82)
        tuned_large = tune(
            copy.deepcopy(large),
            train_ids,
            config,
            config.large_lr,
            progress=lambda s: report(tick, (s + 1) / config.steps, "tuning the large model"),
        )

        report(progress, 0.85, "held-out perplexity")
        with torch.no_grad():
            z_large = torch.cat([large(input_ids=held[i : i + 32]).logits for i in range(0, len(held), 32)])
            z_tuned = torch.cat([tuned(input_ids=held[i : i + 32]).logits for i in range(0, len(held), 32)])
            z_base = torch.cat([base(input_ids=held[i : i + 32]).logits for i in range(0, len(held), 32)])

        def ppl(z: torch.Tensor) -> float:
            lg = z[:, :-1].float()  # (N, T-1, V)
            return math.exp(F.cross_entropy(lg.reshape(-1, lg.shape[-1]), held[:, 1:].reshape(-1)).item())

        metrics: dict[str, float] = {
            "large_params": zoo.n_params(large),
            "small_params": zoo.n_params(base),
            "large_ppl": ppl(z_large),
            "tuned_large_ppl": perplexity_of(lambda x: tuned_large(input_ids=x).logits, held),
            "small_base_ppl": ppl(z_base),
            "small_tuned_ppl": ppl(z_tuned),
        }
        metrics["proxy_ppl"] = ppl(proxy_logits(z_large, z_tuned, z_base, config.alpha))
        metrics["gap_closed"] = gap_closed(metrics["large_ppl"], metrics["proxy_ppl"], metrics["tuned_large_ppl"])
        series = {}
        if config.alphas:
            closed = []
            for a in config.alphas:
                p = ppl(proxy_logits(z_large, z_tuned, z_base, a))
                metrics[f"proxy_ppl_alpha_{a:g}"] = p
                closed.append(gap_closed(metrics["large_ppl"], p, metrics["tuned_large_ppl"]))
            series["alpha"] = {
                "title": f"Proxy-tuning {config.large} with {config.small} on '{config.domain}'",
                "xlabel": "alpha (weight of the small model's tuning delta)",
                "ylabel": "share of the perplexity gap to direct tuning closed",
                "lines": {"proxy-tuned": {"x": config.alphas, "y": closed}},
            }

        # tuned = base: the proxy's logits and greedy output are the large model's.
        report(progress, 0.95, "tuned = base check")
        same_logits = proxy_logits(z_large, z_base, z_base, config.alpha)
        metrics["tuned_equals_base_max_logit_change"] = (same_logits - z_large.float()).abs().max().item()
        prompts = zoo.document_prompts("heldout", config.gen_prompts, 16, seed=config.seed)
        greedy_large = zoo.generate(large, prompts, config.gen_len)
        greedy_proxy = proxy_generate(ProxyTuned(large, base, base, config.alpha), prompts, config.gen_len)
        metrics["tuned_equals_base_rows_equal_large_greedy"] = (
            (greedy_proxy == greedy_large).all(dim=1).float().mean().item()
        )

        claims = [
            Claim.compare(
                "tuned = base leaves the large model's greedy output unchanged (share of identical rows)",
                metrics["tuned_equals_base_rows_equal_large_greedy"],
                "==",
                1.0,
            ),
            Claim.compare(
                "tuned = base leaves the large model's logits unchanged (largest absolute change)",
                metrics["tuned_equals_base_max_logit_change"],
                "==",
                0.0,
            ),
            Claim.compare(
                f"proxy-tuning closes >= 50% of the held-out perplexity gap to direct tuning ({config.domain})",
                metrics["gap_closed"],
                ">=",
                0.5,
            ),
        ]
        report(progress, 1.0, "done")
    return Result("proxy-tuning", config_dict(config), metrics, claims, timer.seconds, series=series)
