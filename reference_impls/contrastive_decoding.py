"""Contrastive decoding: a large expert's log-probabilities minus a small amateur's, among plausible tokens.

At every step, with expert distribution p_E and amateur distribution p_A (at temperature tau):

    V_head = {v : p_E(v | x_<t) >= alpha * max_w p_E(w | x_<t)}               (plausibility set)
    x_t    = argmax_{v in V_head}  log p_E(v | x_<t) - log p_A(v | x_<t)       (li2023contrastive)

The amateur makes the same mistakes as the expert, only more so (repeating itself, drifting off
topic), so subtracting it removes them; the plausibility set keeps the amateur from promoting tokens
the expert finds unlikely. Two consequences the tests check: the chosen token is always in V_head,
and a uniform amateur (a constant log p_A) leaves the expert's greedy choice; so does alpha = 1.

The demo continues held-out corpus prompts with zoo-1.3m as the expert and zoo-180k as the amateur
and compares contrastive decoding with the expert's greedy decoding: distinct-n of the words
(repetition) and the expert's own mean log-likelihood of the text (greedy text is the one the
expert likes best; contrastive decoding trades some of it for less repetition). It sweeps alpha and
the amateur's size. Related papers: obrien2023contrastive (the same rule on reasoning tasks),
chang2024explaining, yuan2024speculative, phan2024distillation, zhang2025alleviating.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from reference_impls import zoo
from reference_impls.common import Claim, Progress, Result, Timer, config_dict, report, set_threads


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
    seed: int = 0  # which held-out documents give the prompts

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
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Continue prompts (B, P) by n_new tokens; `amateur=None` is the expert's greedy decoding.

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
            nxt = le.argmax(dim=-1)  # (B,)
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


def text_measures(seq: torch.Tensor, records: dict[str, torch.Tensor], prompt_len: int) -> dict[str, float]:
    """distinct-1..3 of the continuations, the expert's mean log-likelihood per byte, the lowest ratio."""
    texts = [zoo.decode(row[prompt_len:]) for row in seq]
    out = {f"distinct_{n}": distinct_n(texts, n) for n in (1, 2, 3)}
    out["expert_loglik"] = records["expert_logprob"].mean().item()
    out["min_plausibility"] = records["plausibility"].min().item()
    return out


# ---------------------------------------------------------------------------------------------------
# The demo


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        report(progress, 0.0, f"loading {config.expert} and {config.amateur}")
        expert, _ = zoo.load(config.expert)
        amateur, _ = zoo.load(config.amateur)
        prompts = zoo.document_prompts("heldout", config.prompts, config.prompt_len, seed=config.seed)
        n_runs = 3 + len(config.alphas) + len(config.amateurs)
        done = 0

        def decode(am: PreTrainedModel | None, alpha: float) -> tuple[torch.Tensor, dict[str, float]]:
            nonlocal done
            seq, rec = contrastive_generate(expert, am, prompts, config.gen_len, alpha, config.amateur_temperature)
            done += 1
            report(progress, done / n_runs, "decoding")
            return seq, text_measures(seq, rec, prompts.shape[1])

        greedy_seq, greedy = decode(None, config.alpha)
        cd_seq, cd = decode(amateur, config.alpha)
        uniform_seq, _ = decode(uniform_amateur(amateur), config.alpha)
        metrics: dict[str, float] = {"expert_params": zoo.n_params(expert), "amateur_params": zoo.n_params(amateur)}
        metrics.update({f"greedy_{k}": v for k, v in greedy.items() if k != "min_plausibility"})
        metrics.update({f"cd_{k}": v for k, v in cd.items()})
        same = (uniform_seq == greedy_seq).all(dim=1)  # (B,)
        metrics["uniform_amateur_rows_equal_greedy"] = same.float().mean().item()
        metrics["cd_tokens_differing_from_greedy"] = (cd_seq != greedy_seq).float().mean().item()

        series: dict = {}
        if config.alphas:
            sweep = {a: decode(amateur, a)[1] for a in config.alphas}
            series["alpha"] = {
                "title": f"Contrastive decoding ({config.expert} - {config.amateur}): plausibility threshold",
                "xlabel": "alpha (plausibility threshold)",
                "ylabel": "distinct-2 / expert log-likelihood per byte",
                "lines": {
                    "distinct-2": {"x": config.alphas, "y": [sweep[a]["distinct_2"] for a in config.alphas]},
                    "expert log-likelihood": {
                        "x": config.alphas,
                        "y": [sweep[a]["expert_loglik"] for a in config.alphas],
                    },
                    "greedy distinct-2": {"x": config.alphas, "y": [greedy["distinct_2"]] * len(config.alphas)},
                },
            }
        if config.amateurs:
            sizes, d2, ll = [], [], []
            for name in config.amateurs:
                am, _ = zoo.load(name)
                m = decode(am, config.alpha)[1]
                sizes.append(zoo.n_params(am))
                d2.append(m["distinct_2"])
                ll.append(m["expert_loglik"])
                metrics[f"amateur_{name}_distinct_2"] = m["distinct_2"]
            series["amateur_size"] = {
                "title": f"Contrastive decoding with expert {config.expert}: size of the amateur",
                "xlabel": "amateur parameters",
                "ylabel": "distinct-2 / expert log-likelihood per byte",
                "lines": {
                    "distinct-2": {"x": sizes, "y": d2},
                    "expert log-likelihood": {"x": sizes, "y": ll},
                },
            }

        claims = [
            Claim.compare(
                f"every chosen token is plausible: min p_E(chosen) / max p_E >= alpha = {config.alpha}",
                metrics["cd_min_plausibility"],
                ">=",
                config.alpha,
            ),
            Claim.compare(
                "a uniform amateur gives the expert's greedy output (share of identical rows = 1)",
                metrics["uniform_amateur_rows_equal_greedy"],
                "==",
                1.0,
            ),
            Claim.compare(
                "less repetition than the expert's greedy decoding: distinct-2, contrastive > greedy",
                metrics["cd_distinct_2"],
                ">",
                metrics["greedy_distinct_2"],
            ),
        ]
        report(progress, 1.0, "done")
    return Result("contrastive-decoding", config_dict(config), metrics, claims, timer.seconds, series=series)
