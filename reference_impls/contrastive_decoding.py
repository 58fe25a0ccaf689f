"""Contrastive decoding: a large expert's log-probabilities minus a small amateur's, among plausible tokens.

At every step, with expert distribution p_E and amateur distribution p_A (at temperature tau):

    V_head = {v : p_E(v | x_<t) >= alpha * max_w p_E(w | x_<t)}               (plausibility set)
    x_t    = argmax_{v in V_head}  log p_E(v | x_<t) - log p_A(v | x_<t)       (li2023contrastive)

The amateur makes the same mistakes as the expert, only more so (repeating itself, drifting off
topic), so subtracting it removes them; the plausibility set keeps the amateur from promoting tokens
the expert finds unlikely. Two consequences the tests check: the chosen token is always in V_head,
and a uniform amateur (a constant log p_A) leaves the expert's greedy choice; so does alpha = 1.

The demo continues held-out corpus prompts with zoo-1.3m as the expert and zoo-180k as the amateur
and compares contrastive decoding with the paper's baselines, nucleus (p = 0.95) and top-k (k = 50)
sampling from the expert, on stand-ins for the paper's measures: how close the text is to human
text (Jensen-Shannon divergence of byte 3-grams from held-out corpus text, in place of MAUVE), how
likely the expert finds it (in place of coherence and fluency judgements), and the paper's
diversity. Greedy decoding and sampling at temperature 0.7 are measured too. It sweeps alpha and the
amateur's size. Related papers: obrien2023contrastive (the same rule on reasoning tasks),
chang2024explaining, yuan2024speculative, phan2024distillation, zhang2025alleviating.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from reference_impls import zoo
from reference_impls.common import Check, Finding, Progress, Result, Timer, config_dict, report, set_threads


@dataclass
class Config:
    expert: str = "zoo-1.3m"  # zoo name or local checkpoint folder of the expert (large) model
    amateur: str = "zoo-180k"  # the amateur (small) model; must share the expert's vocabulary
    alpha: float = 0.1  # plausibility threshold: keep tokens with p_E >= alpha * max p_E (paper: 0.1)
    amateur_temperature: float = 1.0  # tau: the amateur's logits are divided by it
    prompts: int = 64  # held-out documents whose first bytes are the prompts
    prompt_len: int = 16  # prompt length in bytes ("\n" + start of a document)
    gen_len: int = 128  # bytes generated per prompt
    alphas: list[float] = field(default_factory=lambda: [1.0, 0.5, 0.2, 0.1, 0.05, 0.02])  # alpha sweep
    amateurs: list[str] = field(default_factory=lambda: ["zoo-50k", "zoo-180k", "zoo-660k"])  # size sweep
    top_p: float = 0.95  # nucleus sampling baseline (the paper's p)
    top_k: int = 50  # top-k sampling baseline (the paper's k)
    human_bytes: int = 65536  # held-out bytes whose 3-grams stand for human text
    seed: int = 0  # the zoo's seed, the held-out documents giving the prompts, the samplers

    @classmethod
    def quick(cls) -> Config:
        return cls(prompts=8, gen_len=96, alphas=[], amateurs=[])


# ---------------------------------------------------------------------------------------------------
# The rule: pure functions of next-token log-probabilities (B, V)


def plausible(expert_logprobs: torch.Tensor, alpha: float) -> torch.Tensor:
    """V_head as a mask (B, V): p_E(v) >= alpha * max p_E, i.e. log p_E(v) >= log alpha + max log p_E."""
    top = expert_logprobs.max(dim=-1, keepdim=True).values  # (B, 1)
    return expert_logprobs >= top + torch.log(torch.tensor(alpha, dtype=expert_logprobs.dtype))


def contrastive_scores(expert_logprobs: torch.Tensor, amateur_logprobs: torch.Tensor, alpha: float) -> torch.Tensor:
    """log p_E - log p_A on V_head, -inf elsewhere: (B, V). Computed in float64 so that a constant
    amateur cannot reorder two expert log-probabilities by rounding."""
    e, a = expert_logprobs.double(), amateur_logprobs.double()  # (B, V)
    return torch.where(plausible(e, alpha), e - a, torch.tensor(float("-inf"), dtype=e.dtype))


def contrastive_choice(expert_logprobs: torch.Tensor, amateur_logprobs: torch.Tensor, alpha: float) -> torch.Tensor:
    """The next token (B,) of contrastive decoding."""
    return contrastive_scores(expert_logprobs, amateur_logprobs, alpha).argmax(dim=-1)


def top_k_sample(logprobs: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """Sample (B,) from the k most likely tokens of logprobs (B, V), renormalised (top-k sampling)."""
    top = logprobs.topk(k, dim=-1)  # values, indices (B, k)
    pick = torch.multinomial(top.values.softmax(dim=-1), 1, generator=generator)  # (B, 1)
    return top.indices.gather(1, pick)[:, 0]


def top_p_sample(logprobs: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Sample (B,) from the smallest set of most likely tokens whose mass reaches p (nucleus sampling)."""
    probs, order = logprobs.exp().sort(dim=-1, descending=True)  # (B, V)
    keep = probs.cumsum(dim=-1) - probs < p  # (B, V): a token is kept if the mass before it is < p
    pick = torch.multinomial(torch.where(keep, probs, 0.0), 1, generator=generator)  # (B, 1)
    return order.gather(1, pick)[:, 0]


def uniform_amateur(model: PreTrainedModel) -> PreTrainedModel:
    """A copy of `model` whose output embedding (and bias) is zero: logits 0, p_A uniform at every step."""
    uniform = copy.deepcopy(model).eval()
    head = uniform.get_output_embeddings()
    with torch.no_grad():
        head.weight.zero_()
        if getattr(head, "bias", None) is not None:
            head.bias.zero_()
    return uniform


# ---------------------------------------------------------------------------------------------------
# Decoding with KV caches for both models, and the measures of the text


@torch.no_grad()
def contrastive_generate(
    expert: PreTrainedModel,
    amateur: PreTrainedModel | None,
    prompts: torch.Tensor,
    n_new: int,
    alpha: float = 0.1,
    amateur_temperature: float = 1.0,
    sampler: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Continue prompts (B, P) by n_new tokens; `amateur=None` is the expert's greedy decoding, or the
    expert sampled by `sampler` (expert log-probabilities (B, V) -> tokens (B,)) when one is given.

    Returns the sequences (B, P + n_new) and per-step records (B, n_new): the expert's log-probability
    of each chosen token ("expert_logprob") and its ratio p_E(chosen) / max p_E ("plausibility").
    """
    expert.eval()
    e_out = expert(input_ids=prompts, use_cache=True)
    a_out = amateur.eval()(input_ids=prompts, use_cache=True) if amateur is not None else None
    seq, chosen_lp, ratio = prompts, [], []
    for i in range(n_new):
        le = F.log_softmax(e_out.logits[:, -1].float(), dim=-1)  # (B, V)
        if a_out is None:
            nxt = le.argmax(dim=-1) if sampler is None else sampler(le)  # (B,)
        else:
            la = F.log_softmax(a_out.logits[:, -1].float() / amateur_temperature, dim=-1)  # (B, V)
            nxt = contrastive_choice(le, la, alpha)  # (B,)
        lp = le.gather(1, nxt[:, None])[:, 0]  # (B,)
        chosen_lp.append(lp)
        ratio.append(torch.exp(lp - le.max(dim=-1).values))
        seq = torch.cat([seq, nxt[:, None]], dim=1)  # (B, P + i + 1)
        if i + 1 < n_new:
            e_out = expert(input_ids=nxt[:, None], past_key_values=e_out.past_key_values, use_cache=True)
            if a_out is not None:
                a_out = amateur(input_ids=nxt[:, None], past_key_values=a_out.past_key_values, use_cache=True)
    records = {"expert_logprob": torch.stack(chosen_lp, dim=1), "plausibility": torch.stack(ratio, dim=1)}
    return seq, records


def distinct_n(texts: list[str], n: int) -> float:
    """Mean over texts of (distinct word n-grams) / (word n-grams): 1 = no repeated n-gram."""
    scores = []
    for text in texts:
        words = text.split()
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        if grams:
            scores.append(len(set(grams)) / len(grams))
    return sum(scores) / max(len(scores), 1)


def diversity(texts: list[str]) -> float:
    """The paper's diversity: prod over n = 2, 3, 4 of (1 - rep-n), rep-n = 1 - distinct / total word
    n-grams pooled over the texts."""
    out = 1.0
    for n in (2, 3, 4):
        grams = [tuple(w[i : i + n]) for w in (t.split() for t in texts) for i in range(len(w) - n + 1)]
        out *= len(set(grams)) / max(len(grams), 1)
    return out


def ngram_counts(data: bytes, n: int = 3) -> Counter:
    return Counter(data[i : i + n] for i in range(len(data) - n + 1))


def js_divergence(p: Counter, q: Counter) -> float:
    """Jensen-Shannon divergence (nats) between two n-gram count tables."""
    sp, sq = sum(p.values()), sum(q.values())
    js = 0.0
    for g in set(p) | set(q):
        a, b = p.get(g, 0) / sp, q.get(g, 0) / sq
        m = (a + b) / 2
        js += 0.5 * (a * math.log(a / m) if a else 0.0) + 0.5 * (b * math.log(b / m) if b else 0.0)
    return js


def text_measures(
    seq: torch.Tensor, records: dict[str, torch.Tensor], prompt_len: int, human: Counter
) -> dict[str, float]:
    """distinct-1..3 and the paper's diversity of the continuations; the expert's mean log-likelihood
    per byte (fluency as the expert judges it); the Jensen-Shannon divergence of their byte 3-grams from
    held-out human text (a stand-in for MAUVE's distance to human text); the lowest plausibility ratio."""
    texts = [zoo.decode(row[prompt_len:]) for row in seq]
    out = {f"distinct_{n}": distinct_n(texts, n) for n in (1, 2, 3)}
    out["diversity"] = diversity(texts)
    out["expert_loglik"] = records["expert_logprob"].mean().item()
    out["js_human"] = js_divergence(ngram_counts(bytes(seq[:, prompt_len:].flatten().tolist())), human)
    out["min_plausibility"] = records["plausibility"].min().item()
    return out


# ---------------------------------------------------------------------------------------------------
# The demo


JS_NOTE = "Contrastive decoding repeats itself far more than the samplers here (its diversity is a fraction of theirs, see the metrics), so its n-gram profile is further from human text; the zoo's expert is too weak for the coherence the paper's judges rewarded."
DECODERS = {
    "greedy": "expert greedy",
    "cd": "contrastive",
    "nucleus": "nucleus (p 0.95)",
    "topk": "top-k (k 50)",
    "temp07": "temperature 0.7",
}
LABELS = {
    "expert_params": "expert parameters",
    "amateur_params": "amateur parameters",
    **{f"{k}_{m}": f"{name}: {what}" for k, name in DECODERS.items() for m, what in (
        ("diversity", "diversity (prod of 1 - rep-n, n = 2-4)"), ("distinct_2", "distinct-2"),
        ("expert_loglik", "expert log-likelihood per byte"), ("js_human", "JS divergence from human text (byte 3-grams)"))},
}  # fmt: skip


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        report(progress, 0.0, f"loading {config.expert} and {config.amateur}")
        expert, _ = zoo.load(config.expert, seed=config.seed)
        amateur, _ = zoo.load(config.amateur, seed=config.seed)
        prompts = zoo.document_prompts("heldout", config.prompts, config.prompt_len, seed=config.seed)
        human = ngram_counts(bytes(zoo.tokens("heldout")[: config.human_bytes].tolist()))
        g = torch.Generator().manual_seed(config.seed)
        samplers = {
            "nucleus": lambda lp: top_p_sample(lp, config.top_p, g),
            "topk": lambda lp: top_k_sample(lp, config.top_k, g),
            "temp07": lambda lp: torch.multinomial((lp / 0.7).softmax(dim=-1), 1, generator=g)[:, 0],
        }
        n_runs = 3 + len(samplers) + len(config.alphas) + len(config.amateurs)
        done = 0

        def decode(am: PreTrainedModel | None, alpha: float, sampler=None) -> tuple[torch.Tensor, dict[str, float]]:
            nonlocal done
            seq, rec = contrastive_generate(
                expert, am, prompts, config.gen_len, alpha, config.amateur_temperature, sampler
            )
            done += 1
            report(progress, done / n_runs, "decoding")
            return seq, text_measures(seq, rec, prompts.shape[1], human)

        greedy_seq, greedy = decode(None, config.alpha)
        cd_seq, cd = decode(amateur, config.alpha)
        uniform_seq, _ = decode(uniform_amateur(amateur), config.alpha)
        measured = {"greedy": greedy, "cd": cd} | {k: decode(None, config.alpha, f)[1] for k, f in samplers.items()}
        metrics: dict[str, float] = {"expert_params": zoo.n_params(expert), "amateur_params": zoo.n_params(amateur)}
        for k, values in measured.items():
            metrics |= {f"{k}_{m}": v for m, v in values.items() if m != "min_plausibility"}

        series: dict = {}
        if config.alphas:
            sweep = {a: decode(amateur, a)[1] for a in config.alphas}
            series["alpha"] = {
                "title": f"Contrastive decoding ({config.expert} - {config.amateur}) against the plausibility threshold",
                "xlabel": "alpha (plausibility threshold; 1 = greedy)",
                "ylabel": "diversity / expert log-likelihood per byte",
                "lines": {
                    "diversity": {"x": config.alphas, "y": [sweep[a]["diversity"] for a in config.alphas]},
                    "expert log-likelihood per byte": {
                        "x": config.alphas,
                        "y": [sweep[a]["expert_loglik"] for a in config.alphas],
                    },
                },
            }
        if config.amateurs:
            sizes, div, ll = [], [], []
            for name in config.amateurs:
                am, _ = zoo.load(name, seed=config.seed)
                m = decode(am, config.alpha)[1]
                sizes.append(zoo.n_params(am))
                div.append(m["diversity"])
                ll.append(m["expert_loglik"])
            series["amateur_size"] = {
                "title": f"Contrastive decoding with expert {config.expert} against the amateur's size",
                "xlabel": "amateur parameters",
                "ylabel": "diversity / expert log-likelihood per byte",
                "lines": {"diversity": {"x": sizes, "y": div}, "expert log-likelihood per byte": {"x": sizes, "y": ll}},
            }
        m = metrics
        findings = [
            Finding.compare(f"contrastive decoding's text is closer to human text than nucleus sampling's (p = {config.top_p}; JS divergence of byte 3-grams)", "li2023contrastive",
                            m["cd_js_human"], "<", m["nucleus_js_human"], "contrastive", "nucleus", note=JS_NOTE),
            Finding.compare(f"contrastive decoding's text is closer to human text than top-k sampling's (k = {config.top_k})", "li2023contrastive",
                            m["cd_js_human"], "<", m["topk_js_human"], "contrastive", "top-k", note=JS_NOTE),
            Finding.compare("the expert finds contrastive decoding's text more likely than nucleus sampling's (fluency, log-likelihood per byte)", "li2023contrastive",
                            m["cd_expert_loglik"], ">", m["nucleus_expert_loglik"], "contrastive", "nucleus"),
            Finding.compare("the expert finds contrastive decoding's text more likely than top-k sampling's", "li2023contrastive",
                            m["cd_expert_loglik"], ">", m["topk_expert_loglik"], "contrastive", "top-k"),
        ]  # fmt: skip
        checks = [
            Check.compare(f"every chosen token is plausible: min p_E(chosen) / max p_E >= alpha = {config.alpha}", cd["min_plausibility"], ">=", config.alpha),
            Check.compare("a uniform amateur gives the expert's greedy output (share of identical rows)", (uniform_seq == greedy_seq).all(dim=1).float().mean().item(), "==", 1.0),
        ]  # fmt: skip
        report(progress, 1.0, "done")
    return Result(
        "contrastive-decoding",
        config_dict(config),
        metrics,
        findings,
        checks,
        timer.seconds,
        series=series,
        labels=LABELS,
    )
