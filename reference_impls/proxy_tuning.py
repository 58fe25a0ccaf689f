"""Proxy-tuning: steer a large model at decoding time with the difference a small model's tuning made.

Tune a small model on a domain; keep its untuned copy. At every position, with logits z:

    z_proxy = z_large + alpha * (z_small_tuned - z_small_base)          (liu2024tuning)
    p_proxy = softmax(z_proxy)

The large model's weights are never touched: only its logits are needed. With alpha = 1 this is
the emulated fine-tuning of mitchell2024emulator (large base + small fine-tuning delta) and the
expert/anti-expert ensemble of liu2021dexperts. Two properties follow from the formula: a tuned
model equal to the base leaves the large model's distribution (and so its greedy output) exactly
unchanged, and alpha = 0 does the same.

The demo tunes zoo-180k on each of four domains of the corpus (recipes, reviews, stories,
biographies) and also tunes zoo-1.3m directly on the same data, steps and batches (the reference
proxy-tuning tries to match), then measures held-out perplexity on each domain: large untuned,
proxy-tuned, directly tuned, the small tuned model alone, and the share of the gap between the large
base and direct tuning that proxy-tuning closes, across alpha.
Related papers: ormazabal2023comblm (learned combination of a black-box large and a tuned small model),
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
    Check,
    Finding,
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
    domains: list[str] = field(default_factory=lambda: ["recipe", "review", "story", "biography"])  # tuning domains
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
    seed: int = 0  # the zoo's seed and the batch order

    @classmethod
    def quick(cls) -> Config:
        return cls(
            large="zoo-660k",
            domains=["recipe", "story"],
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


def domain_experiment(large, base, domain: str, config: Config, progress: Progress | None) -> tuple[dict, dict]:
    """Tune the small model and, as the reference, the large one on a domain; held-out perplexity of
    the large model untuned, proxy-tuned (each alpha), tuned directly, and of the small tuned model."""
    train_ids = domain_tokens("train", domain)
    held = zoo.windows(domain_tokens("heldout", domain), config.eval_seq_len, config.eval_tokens)  # (N, T)
    share = zoo.n_params(base) / (zoo.n_params(base) + zoo.n_params(large))  # of the tuning time
    tick = sub_progress(progress, 0.0, 0.9 * share)
    tuned = tune(
        copy.deepcopy(base),
        train_ids,
        config,
        config.small_lr,
        lambda s: report(tick, (s + 1) / config.steps, f"{domain}: tuning the small model"),
    )
    tick = sub_progress(progress, 0.9 * share, 0.9)
    tuned_large = tune(
        copy.deepcopy(large),
        train_ids,
        config,
        config.large_lr,
        lambda s: report(tick, (s + 1) / config.steps, f"{domain}: tuning the large model"),
    )
    with torch.no_grad():
        z_large, z_tuned, z_base = (
            torch.cat([m(input_ids=held[i : i + 32]).logits for i in range(0, len(held), 32)])
            for m in (large, tuned, base)
        )

    def ppl(z: torch.Tensor) -> float:
        lg = z[:, :-1].float()  # (N, T-1, V)
        return math.exp(F.cross_entropy(lg.reshape(-1, lg.shape[-1]), held[:, 1:].reshape(-1)).item())

    m = {
        "large_ppl": ppl(z_large),
        "tuned_large_ppl": perplexity_of(lambda x: tuned_large(input_ids=x).logits, held),
        "small_tuned_ppl": ppl(z_tuned),
        "proxy_ppl": ppl(proxy_logits(z_large, z_tuned, z_base, config.alpha)),
    }
    m["gap_closed"] = gap_closed(m["large_ppl"], m["proxy_ppl"], m["tuned_large_ppl"])
    closed = {
        a: gap_closed(m["large_ppl"], ppl(proxy_logits(z_large, z_tuned, z_base, a)), m["tuned_large_ppl"])
        for a in config.alphas
    }
    return {f"{domain}_{k}": v for k, v in m.items()}, closed


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        seed_everything(config.seed)
        report(progress, 0.0, f"loading {config.large} and {config.small}")
        large, _ = zoo.load(config.large, seed=config.seed)
        base, _ = zoo.load(config.small, seed=config.seed)
        metrics: dict[str, float] = {"large_params": zoo.n_params(large), "small_params": zoo.n_params(base)}
        curves = {}
        for j, domain in enumerate(config.domains):
            part = sub_progress(progress, 0.9 * j / len(config.domains), 0.9 * (j + 1) / len(config.domains))
            found, curves[domain] = domain_experiment(large, base, domain, config, part)
            metrics |= found
        metrics["gap_closed_mean"] = sum(metrics[f"{d}_gap_closed"] for d in config.domains) / len(config.domains)
        series = {}
        if config.alphas:
            series["alpha"] = {
                "title": f"Proxy-tuning {config.large} with {config.small}: share of the gap to direct tuning closed",
                "xlabel": "alpha (weight of the small model's tuning delta)",
                "ylabel": "share of the perplexity gap to direct tuning closed",
                "lines": {d: {"x": config.alphas, "y": [curves[d][a] for a in config.alphas]} for d in config.domains},
            }

        # tuned = base: the proxy's logits and greedy output are the large model's.
        report(progress, 0.95, "tuned = base check")
        prompts = zoo.document_prompts("heldout", config.gen_prompts, 16, seed=config.seed)
        with torch.no_grad():
            z_large, z_base = large(input_ids=prompts).logits, base(input_ids=prompts).logits
        logit_change = (proxy_logits(z_large, z_base, z_base, config.alpha) - z_large.float()).abs().max().item()
        greedy_large = zoo.generate(large, prompts, config.gen_len)
        greedy_proxy = proxy_generate(ProxyTuned(large, base, base, config.alpha), prompts, config.gen_len)
        m = metrics
        findings = [
            Finding.compare(f"proxy-tuning lowers the large model's held-out perplexity on '{d}'", "liu2024tuning",
                            m[f"{d}_proxy_ppl"], "<", m[f"{d}_large_ppl"], "proxy-tuned large", "large base")
            for d in config.domains
        ] + [
            Finding.compare(f"the proxy-tuned large model beats the small tuned model alone on '{d}' (held-out perplexity)", "liu2024tuning",
                            m[f"{d}_proxy_ppl"], "<", m[f"{d}_small_tuned_ppl"], "proxy-tuned large", "small tuned alone",
                            note="On the most templated domains (recipes, reviews) the tuned small model alone is about as good as the proxy-tuned large model: the large base adds little that the small model has not learned.")
            for d in config.domains
        ] + [
            Finding.compare(f"proxy-tuning closes at least half of the perplexity gap between the large base and the large model tuned directly (mean over {len(config.domains)} domains)",
                            "liu2024tuning", m["gap_closed_mean"], ">=", 0.5, "share of the gap closed", "0.5"),
        ]  # fmt: skip
        checks = [
            Check.compare("tuned = base leaves the large model's logits unchanged (largest absolute change)", logit_change, "==", 0.0),
            Check.compare("tuned = base leaves the large model's greedy output unchanged (share of identical rows)", (greedy_proxy == greedy_large).all(dim=1).float().mean().item(), "==", 1.0),
        ]  # fmt: skip
        report(progress, 1.0, "done")
    labels = {f"{d}_{k}": f"{d}: {what}" for d in config.domains for k, what in (
        ("large_ppl", "held-out perplexity, large base"), ("proxy_ppl", "held-out perplexity, proxy-tuned large"),
        ("small_tuned_ppl", "held-out perplexity, small tuned alone"), ("tuned_large_ppl", "held-out perplexity, large tuned directly"),
        ("gap_closed", "share of the gap to direct tuning closed"))}  # fmt: skip
    labels["gap_closed_mean"] = "share of the gap closed, mean over domains"
    return Result(
        "proxy-tuning", config_dict(config), metrics, findings, checks, timer.seconds, series=series, labels=labels
    )
