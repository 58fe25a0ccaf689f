"""Size against quality: what each zoo model buys for its parameters, compute, time and memory.

For every model: held-out perplexity (quality), parameters, forward FLOPs per token, measured
forward time and memory of the weights. The forward cost of a decoder per token at context length T
(kaplan-style count; multiply-add = 2 FLOPs):

    FLOPs/token = 2 (N - N_embed) + 2 d V + 4 L T d

with N parameters, N_embed of them in the input embedding (a lookup, not a product), d the width,
V the vocabulary and L the layers (the last term is attention over the context). Weights can also
shrink by quantisation: round-to-nearest (RTN) with one scale per output row,

    s_i = max_j |W_ij| / (2^(b-1) - 1),   W_ij ~ s_i * clamp(round(W_ij / s_i), -2^(b-1), 2^(b-1) - 1)

which stores b bits per weight plus a 16-bit scale per row. A model is on the efficient frontier
when no other model is at least as cheap and at least as good, and strictly better in one of the two.

The survey's figure of this kind plots benchmark score against size across model families
(small-model-families); here the family is the zoo, and the quantised copies add points to the
memory axis (the trade-off of the quantization node: dettmers2022llm, frantar2023gptq, lin2024awq
do far better than RTN at 4 bits on real models).
"""

from __future__ import annotations

import copy
import itertools
import statistics
import time
from dataclasses import dataclass, field

import torch
from transformers import PreTrainedModel

from reference_impls import zoo
from reference_impls.common import Check, Finding, Progress, Result, Timer, config_dict, report, set_threads


@dataclass
class Config:
    models: list[str] = field(default_factory=zoo.names)  # zoo names or local checkpoint folders
    eval_tokens: int = 32768  # held-out tokens for perplexity
    eval_seq_len: int = 128  # window length (also the context T of the FLOPs count)
    timing_batch: int = 16  # sequences per timed forward pass
    timing_repeats: int = 7  # timed passes (the median is reported)
    bits: list[int] = field(default_factory=lambda: [8, 4])  # RTN weight widths tried on every model
    seed: int = 0  # the zoo's seed

    @classmethod
    def quick(cls) -> Config:
        return cls(eval_tokens=4096, timing_repeats=3, bits=[8])


# ---------------------------------------------------------------------------------------------------
# Costs and the frontier: pure functions


def flops_per_token(model: PreTrainedModel, context: int) -> float:
    """2 (N - N_embed) + 2 d V + 4 L T d: forward FLOPs per token of a decoder at context length T."""
    cfg = model.config
    n = sum(p.numel() for p in model.parameters())
    n_embed = model.get_input_embeddings().weight.numel()
    d, vocab, layers = cfg.hidden_size, cfg.vocab_size, cfg.num_hidden_layers
    return 2 * (n - n_embed) + 2 * d * vocab + 4 * layers * context * d


def pareto_front(costs: list[float], losses: list[float]) -> list[int]:
    """Indices of the points no other point dominates (cost <= and loss <=, one strictly), cheapest first."""
    front = []
    for i, (c, q) in enumerate(zip(costs, losses, strict=True)):
        dominated = any(
            (c2 <= c and q2 <= q) and (c2 < c or q2 < q)
            for j, (c2, q2) in enumerate(zip(costs, losses, strict=True))
            if j != i
        )
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: (costs[i], losses[i]))


def quantize_rtn(weight: torch.Tensor, bits: int) -> torch.Tensor:
    """Symmetric round-to-nearest with one scale per output row (row = first dimension): same shape."""
    qmax = 2 ** (bits - 1) - 1
    scale = weight.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / qmax  # (out, 1)
    return (weight / scale).round().clamp(-qmax - 1, qmax) * scale


def quantized_copy(model: PreTrainedModel, bits: int) -> tuple[PreTrainedModel, int]:
    """A copy with every matrix (linear layers and embeddings) RTN-quantised, and its weight bytes."""
    q = copy.deepcopy(model)
    total, seen = 0, set()
    with torch.no_grad():
        for p in q.parameters():
            if id(p) in seen:  # tied weights counted once
                continue
            seen.add(id(p))
            if p.dim() == 2:
                p.copy_(quantize_rtn(p, bits))
                total += p.numel() * bits // 8 + p.shape[0] * 2  # weights + fp16 scale per row
            else:
                total += p.numel() * 4  # norms stay fp32
    return q, total


def weight_bytes(model: PreTrainedModel) -> int:
    """Bytes of the fp32 weights (tied weights counted once)."""
    return sum(p.numel() * p.element_size() for p in model.parameters())


@torch.no_grad()
def forward_seconds(model: PreTrainedModel, batch: int, length: int, repeats: int) -> float:
    """Median wall-clock seconds of one forward pass over a (batch, length) input."""
    x = torch.randint(0, model.config.vocab_size, (batch, length), generator=torch.Generator().manual_seed(0))
    model(input_ids=x)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(input_ids=x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ---------------------------------------------------------------------------------------------------
# The demo


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        held = zoo.tokens("heldout")
        rows = []
        for i, name in enumerate(config.models):
            report(progress, i / len(config.models), f"measuring {name}")
            model, _ = zoo.load(name, seed=config.seed)
            row = {
                "name": name,
                "params": zoo.n_params(model),
                "flops": flops_per_token(model, config.eval_seq_len),
                "bytes": weight_bytes(model),
                "ppl": zoo.perplexity(model, held, config.eval_seq_len, config.eval_tokens),
                "seconds": forward_seconds(model, config.timing_batch, config.eval_seq_len, config.timing_repeats),
            }
            for bits in config.bits:
                q, nbytes = quantized_copy(model, bits)
                row[f"int{bits}_bytes"] = nbytes
                row[f"int{bits}_ppl"] = zoo.perplexity(q, held, config.eval_seq_len, config.eval_tokens)
            rows.append(row)

        tokens = config.timing_batch * config.eval_seq_len
        metrics: dict[str, float] = {}
        timings: dict[str, float] = {}
        for r in rows:
            n = r["name"]
            metrics[f"{n}_params"] = r["params"]
            metrics[f"{n}_ppl"] = r["ppl"]
            metrics[f"{n}_mflops_per_token"] = r["flops"] / 1e6
            timings[f"{n}_us_per_token"] = 1e6 * r["seconds"] / tokens
            metrics[f"{n}_fp32_kb"] = r["bytes"] / 1e3
            for bits in config.bits:
                metrics[f"{n}_int{bits}_kb"] = r[f"int{bits}_bytes"] / 1e3
                metrics[f"{n}_int{bits}_ppl"] = r[f"int{bits}_ppl"]

        # Points on the memory axis: every model in fp32 and in each width.
        points = [(r["name"] + " fp32", r["bytes"], r["ppl"]) for r in rows]
        points += [(f"{r['name']} int{b}", r[f"int{b}_bytes"], r[f"int{b}_ppl"]) for r in rows for b in config.bits]
        mem_front = pareto_front([p[1] for p in points], [p[2] for p in points])
        metrics["memory_frontier_points"] = len(mem_front)
        metrics["memory_frontier_fp32_points"] = sum(points[i][0].endswith("fp32") for i in mem_front)
        by_params = sorted(rows, key=lambda r: r["params"])
        metrics["ppl_increases_along_params"] = sum(b["ppl"] >= a["ppl"] for a, b in itertools.pairwise(by_params))
        worst_int8 = max((abs(r["int8_ppl"] / r["ppl"] - 1) for r in rows), default=0.0) if 8 in config.bits else 0.0
        metrics["int8_max_relative_ppl_change"] = worst_int8

        def line(xs: list[float], ys: list[float]) -> dict:
            return {"x": xs, "y": ys}

        def frontier_line(xkey: str) -> dict:
            front = pareto_front([r[xkey] for r in rows], [r["ppl"] for r in rows])
            return line([rows[i][xkey] for i in front], [rows[i]["ppl"] for i in front])

        series = {
            axis: {
                "title": f"Zoo: held-out perplexity against {label}",
                "xlabel": label,
                "ylabel": "held-out perplexity (bytes)",
                "lines": {
                    "zoo": line([r[key] for r in rows], [r["ppl"] for r in rows]),
                    "efficient frontier": frontier_line(key),
                },
                "names": [r["name"] for r in rows],
            }
            for axis, key, label in (
                ("params", "params", "parameters"),
                ("flops", "flops", f"forward FLOPs per token (context {config.eval_seq_len})"),
                ("time", "seconds", f"seconds per forward pass ({config.timing_batch} x {config.eval_seq_len} tokens)"),
            )
        }
        mem_lines = {"fp32": line([r["bytes"] for r in rows], [r["ppl"] for r in rows])}
        for b in config.bits:
            mem_lines[f"int{b} (RTN)"] = line([r[f"int{b}_bytes"] for r in rows], [r[f"int{b}_ppl"] for r in rows])
        mem_lines["efficient frontier"] = line([points[i][1] for i in mem_front], [points[i][2] for i in mem_front])
        series["memory"] = {
            "title": "Zoo: held-out perplexity against weight memory, fp32 and round-to-nearest quantised",
            "xlabel": "weight bytes",
            "ylabel": "held-out perplexity (bytes)",
            "lines": mem_lines,
            "names": [p[0] for p in points],
            "frontier": [points[i][0] for i in mem_front],
        }

        big, small = max(rows, key=lambda r: r["params"]), min(rows, key=lambda r: r["params"])
        findings = []
        if 8 in config.bits:
            findings.append(Finding.compare("8-bit round-to-nearest weights change no zoo model's held-out perplexity by 1% or more (largest relative change)",
                                            "dettmers2022llm", worst_int8, "<", 0.01, "largest change", "1%"))  # fmt: skip
        if 4 in config.bits and 8 in config.bits and len(by_params) > 1:
            # At about the same weight memory: each larger model at 4 bits against the next smaller at 8 bits.
            pairs = list(itertools.pairwise(by_params))
            wins = sum(b["int4_ppl"] < a["int8_ppl"] for a, b in pairs)
            metrics["int4_larger_beats_int8_smaller_share"] = wins / len(pairs)
            findings.append(Finding.compare("at about the same weight memory, the next larger model at 4 bits has lower perplexity than the smaller one at 8 bits (share of the zoo's neighbouring pairs)",
                                            "liu2025paretoq", wins / len(pairs), ">", 0.5, "share of pairs", "half"))  # fmt: skip
        checks = [
            Check.compare("the setting: held-out perplexity falls with every step up in parameters (steps where it does not)", metrics["ppl_increases_along_params"], "==", 0),
            Check.compare(f"the setting: a forward pass of {big['name']} takes longer than one of {small['name']} (seconds)", big["seconds"], ">", small["seconds"]),
        ]  # fmt: skip
        report(progress, 1.0, "done")
    labels = {f"{n}_{k}": f"{n}: {what}" for n in config.models for k, what in (
        ("params", "parameters"), ("ppl", "held-out perplexity, fp32"), ("mflops_per_token", "MFLOPs per token"),
        ("fp32_kb", "weights, fp32 (kB)"), ("int8_kb", "weights, 8 bits (kB)"), ("int8_ppl", "held-out perplexity, 8-bit RTN"),
        ("int4_kb", "weights, 4 bits (kB)"), ("int4_ppl", "held-out perplexity, 4-bit RTN"))}  # fmt: skip
    return Result(
        "size-tradeoff",
        config_dict(config),
        metrics,
        findings,
        checks,
        timer.seconds,
        series=series,
        labels=labels,
        timings=timings,
    )
