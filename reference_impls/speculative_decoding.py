"""Speculative decoding: a cheap draft model proposes gamma tokens, the target checks them all in one pass.

Each round, the draft samples x_1..x_gamma from its distributions q_i; the target scores the prefix
plus the drafts in ONE forward pass, giving p_1..p_{gamma+1}. Then, in order (leviathan2023fast,
chen2023accelerating):

    accept x_i with probability min(1, p_i(x_i) / q_i(x_i))
    at the first rejection i, emit y ~ norm(max(0, p_i - q_i)) and stop       (the residual)
    if all gamma are accepted, emit a bonus token y ~ p_{gamma+1}

so every round emits between 1 and gamma + 1 tokens and the output has exactly the target's
distribution. Greedy decoding is the limit of one-hot p and q: accept while the draft's token is the
target's argmax, then emit the target's argmax, so the output is the target's own greedy output
whatever the draft. The acceptance probability at a position is alpha = sum_v min(p(v), q(v)), and
with a constant alpha a round emits (1 - alpha^(gamma+1)) / (1 - alpha) tokens per target pass.

Both models keep a KV cache; after a rejection each cache is cropped back to the accepted prefix
(`DynamicCache.crop`). gamma is fixed or adaptive (transformers' "heuristic" schedule: gamma + 2
after a fully accepted round, max(1, gamma - 1) otherwise).

The demo (`run`): a 25M-parameter target (zoo-25m) and a draft distilled from it with forward KL on
corpus windows and the target's own greedy continuations, starting from the trained zoo-660k
(zhou2024distillspec; `spec_support.load_draft`). Both are seed 0's models at every seed: the target
alone takes minutes to train and the draft minutes to distil, too much per seed; a seed picks the
held-out prompts, the sampling, the random draft and the tabular chains. Findings (the papers'
comparisons): greedy speculative decoding is faster than target-only greedy decoding
(leviathan2023fast), speculative sampling than sampling from the target alone
(chen2023accelerating), and the distilled draft is accepted more often than the zoo-660k it starts
from (zhou2024distillspec). Checks (identities that hold whatever the models learn): the greedy
output is the target's for the trained draft, a random draft and the target itself (which is always
accepted), and for transformers' assisted generation; sampled tokens follow a tabular target's exact
distribution; measured acceptance matches sum min(p, q); tokens per round match the formula.
Speeds are machine-dependent and reported as timings. The timed runs call the draft through
`LeanLlama` (the same Llama forward as plain tensor code); the target keeps its own forward.
`scripts/bench_speculative.py` (`make bench`) compares more settings of transformers' assisted
generation. Related: kim2023speculative (the big model steps in only when the small one is unsure),
narasimhan2025faster (cascades with speculative execution).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from transformers import DynamicCache, PreTrainedModel

from reference_impls import zoo
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
from reference_impls.lean_llama import LeanLlama
from reference_impls.spec_support import (
    DistillSettings,
    hf_assisted_generate,
    iid_tokens_per_round,
    load_draft,
    switch_off_eos,
    tabular_check,
    time_interleaved,
)

GAMMA_MAX = 16  # cap of the adaptive gamma


@dataclass
class Config:
    target: str = "zoo-25m"  # zoo name of the target (large) model (seed 0's)
    draft: str = "zoo-660k"  # zoo name of the draft (small) model, or of its starting point when distilled
    distill: DistillSettings | None = field(default_factory=DistillSettings)  # None: use the draft as it is
    gamma: int = 4  # draft tokens per round (fixed gamma; the adaptive runs start from it)
    prompts: int = 4  # held-out prompts of the timed runs (other prompts at every seed)
    prompt_len: int = 16  # bytes per prompt ("\n" + start of a document)
    gen_len: int = 128  # new tokens per prompt (prompt + gen_len + GAMMA_MAX stays within 256 positions)
    repeats: int = 3  # timing repeats (median)
    temperature: float = 1.0  # temperature of the sampled runs
    gammas: list[int] = field(default_factory=lambda: [1, 2, 4, 8])  # greedy tokens per target pass against gamma
    check_prompts: int = 2  # prompts of the random-draft and self-draft identity checks
    check_len: int = 48  # new tokens in those checks
    tv_vocab: int = 4  # vocabulary of the tabular (Markov) model of the sampling check
    tv_tokens: int = 2  # length of the sequences whose joint distribution is compared
    tv_samples: int = 400_000  # independent samples through the acceptance / residual / bonus code
    hf_assisted: bool = True  # also time transformers' assisted generation (and check its output)
    lean_draft: bool = True  # the timed runs call the draft through LeanLlama (same weights, plain tensor code)
    seed: int = 0  # prompts, sampling, the random draft and the tabular chains (the models are seed 0's)

    @classmethod
    def quick(cls) -> Config:
        """No zoo-25m: zoo-660k as the target and zoo-50k, distilled briefly, as the draft. At this size
        the target costs too little per pass for any speed-up: the quick run is for the checks."""
        return cls(
            target="zoo-660k",
            draft="zoo-50k",
            distill=DistillSettings(corpus_windows=16, generations=32, seq_len=80, steps=60, batch=8, lr=3e-3),
            prompts=2,
            gen_len=64,
            repeats=1,
            gammas=[],
            check_len=32,
            tv_samples=200_000,
        )


# ---------------------------------------------------------------------------------------------------
# The rule: pure functions of probabilities. N independent rounds, gamma draft tokens, vocabulary V.


def acceptance_rate(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """alpha = sum_v min(p(v), q(v)): the probability that a token drawn from q is accepted. (...,)"""
    return torch.minimum(p, q).sum(-1)


def expected_tokens_per_pass(alpha: float, gamma: int) -> float:
    """(1 - alpha^(gamma+1)) / (1 - alpha): tokens one round emits when each draft is accepted w.p. alpha."""
    return gamma + 1.0 if alpha >= 1 else (1 - alpha ** (gamma + 1)) / (1 - alpha)


def residual_distribution(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """norm(max(0, p - q)) over the last axis: (..., V). Where p == q the residual is never sampled
    (acceptance is certain); p is returned there to keep a distribution."""
    r = (p - q).clamp_min(0)  # (..., V)
    z = r.sum(-1, keepdim=True)  # (..., 1)
    return torch.where(z > 0, r / z.clamp_min(torch.finfo(r.dtype).tiny), p)


def verify_draft(
    p: torch.Tensor, q: torch.Tensor, draft_tokens: torch.Tensor, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Modified rejection sampling for N independent rounds.

    p: (N, gamma+1, V) target probabilities after the prefix and after each draft token;
    q: (N, gamma, V) draft probabilities; draft_tokens: (N, gamma) drawn from q.
    Returns (n_accepted (N,), next_token (N,)): the first n drafts are kept, then next_token, drawn from
    the residual at the first rejection or, when all gamma are accepted, from p_{gamma+1} (the bonus).
    """
    gamma = draft_tokens.shape[1]
    px = p[:, :gamma].gather(-1, draft_tokens[..., None])[..., 0]  # (N, gamma)
    qx = q.gather(-1, draft_tokens[..., None])[..., 0]  # (N, gamma)
    u = torch.rand(px.shape, generator=generator, dtype=px.dtype)  # (N, gamma)
    accept = u * qx < px  # u < p/q: accepted with probability min(1, p/q)
    n = accept.long().cumprod(-1).sum(-1)  # (N,) accepted prefix length
    at = n.clamp(max=max(gamma - 1, 0))[:, None, None].expand(-1, 1, p.shape[-1])  # (N, 1, V)
    if gamma > 0:
        resid = residual_distribution(p[:, :gamma].gather(1, at)[:, 0], q.gather(1, at)[:, 0])  # (N, V)
        dist = torch.where((n < gamma)[:, None], resid, p[:, gamma])  # (N, V)
    else:
        dist = p[:, 0]
    return n, torch.multinomial(dist, 1, generator=generator)[:, 0]


def greedy_verify(target_logits: torch.Tensor, draft_tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The greedy limit: keep drafts while they equal the target's argmax, then emit its argmax.

    target_logits: (N, gamma+1, V); draft_tokens: (N, gamma). Returns (n_accepted (N,), next_token (N,)).
    """
    pred = target_logits.argmax(-1)  # (N, gamma+1)
    n = (pred[:, :-1] == draft_tokens).long().cumprod(-1).sum(-1)  # (N,)
    return n, pred.gather(1, n[:, None])[:, 0]


def adapt_gamma(gamma: int, n_accepted: int, drafted: int) -> int:
    """transformers' "heuristic" schedule: +2 after a fully accepted round, else -1 (at least 1)."""
    return min(gamma + 2, GAMMA_MAX) if n_accepted == drafted else max(1, gamma - 1)


# ---------------------------------------------------------------------------------------------------
# The loop on real models: batch size 1, KV caches for both, cropped on rejection


@dataclass
class Stats:
    """What one speculative generation did."""

    rounds: int = 0  # target verification passes (the prompt's prefill not counted)
    drafted: int = 0  # draft tokens proposed
    examined: int = 0  # draft tokens the target decided on (up to and including the first rejection)
    accepted: int = 0  # draft tokens kept
    emitted: int = 0  # tokens generated
    sum_min_pq: float = 0.0  # sum over examined positions of sum_v min(p, q) (sampling only)
    sum_min_pq_var: float = 0.0  # sum over examined positions of b (1 - b), b = sum_v min(p, q)

    def add(self, other: Stats) -> Stats:
        return Stats(
            *(getattr(self, k) + getattr(other, k) for k in ("rounds", "drafted", "examined", "accepted", "emitted")),
            self.sum_min_pq + other.sum_min_pq,
            self.sum_min_pq_var + other.sum_min_pq_var,
        )

    @property
    def alpha(self) -> float:
        """Measured acceptance rate: accepted / examined."""
        return self.accepted / max(self.examined, 1)

    @property
    def tokens_per_pass(self) -> float:
        return self.emitted / max(self.rounds, 1)


def _crop(cache: DynamicCache, length: int) -> None:
    """Roll a cache back to its first `length` positions."""
    extra = cache.get_seq_length() - length
    if extra > 0:
        cache.crop(-extra)


@torch.inference_mode()
def speculative_generate(
    target: PreTrainedModel,
    draft: PreTrainedModel,
    prompt: torch.Tensor,
    n_new: int,
    gamma: int = 4,
    adaptive: bool = False,
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, Stats]:
    """Continue one prompt (1, P) by exactly n_new tokens: greedy at temperature 0, else sampled.

    Returns the sequence (1, P + n_new) and the Stats of the run. No end-of-sequence handling.
    """
    P = prompt.shape[1]
    seq = torch.empty(1, P + n_new + GAMMA_MAX + 1, dtype=torch.long)  # (1, room for one more round)
    seq[:, :P] = prompt
    t_cache, d_cache = DynamicCache(), DynamicCache()
    if P > 1:  # prefill: each cache holds every committed token but the last
        target(input_ids=prompt[:, :-1], past_key_values=t_cache, use_cache=True)
        draft(input_ids=prompt[:, :-1], past_key_values=d_cache, use_cache=True)
    length, stats, sample = P, Stats(), temperature > 0
    while length < P + n_new:
        g = min(gamma, P + n_new - length - 1)  # never draft past the last token we need
        qs = []
        for i in range(g):  # the draft proposes g tokens, one forward pass each
            d_in = seq[:, d_cache.get_seq_length() : length + i]  # (1, 1 or 2): tokens not in its cache yet
            d_logits = draft(input_ids=d_in, past_key_values=d_cache, use_cache=True).logits[0, -1]  # (V,)
            if sample:
                q = torch.softmax(d_logits.float() / temperature, -1)  # (V,)
                seq[0, length + i] = torch.multinomial(q, 1, generator=generator)[0]
                qs.append(q)
            else:
                seq[0, length + i] = d_logits.argmax()
        t_start = t_cache.get_seq_length()
        t_logits = target(input_ids=seq[:, t_start : length + g], past_key_values=t_cache, use_cache=True).logits
        t_logits = t_logits[:, length - 1 - t_start :].float()  # (1, g+1, V): p after the prefix and each draft
        drafts = seq[:, length : length + g]  # (1, g)
        if sample:
            p = torch.softmax(t_logits / temperature, -1)  # (1, g+1, V)
            q = torch.stack(qs)[None] if qs else p[:, :0]  # (1, g, V)
            n_t, nxt = verify_draft(p, q, drafts, generator)
            n = int(n_t)
            examined = min(n + 1, g)
            b = acceptance_rate(p[0, :examined], q[0, :examined])  # (examined,)
            stats.sum_min_pq += b.sum().item()
            stats.sum_min_pq_var += (b * (1 - b)).sum().item()
        else:
            n_t, nxt = greedy_verify(t_logits, drafts)
            n = int(n_t)
            examined = min(n + 1, g)
        seq[0, length + n] = nxt[0]
        stats.rounds += 1
        stats.drafted += g
        stats.examined += examined
        stats.accepted += n
        stats.emitted += n + 1
        length += n + 1
        _crop(t_cache, length - 1)  # roll back to the accepted prefix (the new token is fed next round)
        _crop(d_cache, length - 1)
        if adaptive:
            gamma = adapt_gamma(gamma, n, g)
    return seq[:, : P + n_new], stats


@torch.inference_mode()
def target_decode(
    target: PreTrainedModel,
    prompt: torch.Tensor,
    n_new: int,
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Target-only decoding with a KV cache, the same calls as ours without a draft: greedy at
    temperature 0, else sampled. Returns (1, P + n_new)."""
    P = prompt.shape[1]
    seq = torch.empty(1, P + n_new, dtype=torch.long)
    seq[:, :P] = prompt
    cache = DynamicCache()
    logits = target(input_ids=prompt, past_key_values=cache, use_cache=True).logits[0, -1]  # (V,)
    for i in range(P, P + n_new):
        if temperature > 0:
            seq[0, i] = torch.multinomial(torch.softmax(logits.float() / temperature, -1), 1, generator=generator)[0]
        else:
            seq[0, i] = logits.argmax()
        if i + 1 < seq.shape[1]:
            logits = target(input_ids=seq[:, i : i + 1], past_key_values=cache, use_cache=True).logits[0, -1]
    return seq


@torch.inference_mode()
def acceptance_along(
    target: PreTrainedModel, draft: PreTrainedModel, seqs: torch.Tensor, start: int, temperature: float = 0.0
) -> float:
    """How often the draft's proposals would be accepted along sequences (N, T), e.g. the target's own
    continuations, at positions start..T-1: at temperature 0 the share of positions where the draft's
    argmax is the target's; else the mean of sum_v min(p, q) at that temperature."""
    p_logits = target(input_ids=seqs).logits[:, start - 1 : -1].float()  # (N, T - start, V)
    q_logits = draft(input_ids=seqs).logits[:, start - 1 : -1].float()  # (N, T - start, V)
    if temperature == 0:
        return (p_logits.argmax(-1) == q_logits.argmax(-1)).double().mean().item()
    p, q = torch.softmax(p_logits / temperature, -1), torch.softmax(q_logits / temperature, -1)  # (N, T - start, V)
    return acceptance_rate(p, q).mean().item()


# ---------------------------------------------------------------------------------------------------
# The demo

LABELS = {
    "target_params": "target parameters",
    "draft_params": "draft parameters",
    "ours_alpha": "greedy, fixed gamma: acceptance (accepted / examined draft tokens)",
    "ours_tokens_per_target_pass": "greedy, fixed gamma: tokens per target pass",
    "ours_formula_tokens_per_pass": "greedy, fixed gamma: (1 - alpha^(gamma+1)) / (1 - alpha) at the measured alpha",
    "ours_adaptive_alpha": "greedy, adaptive gamma: acceptance",
    "ours_adaptive_tokens_per_target_pass": "greedy, adaptive gamma: tokens per target pass",
    "ours_adaptive_mean_gamma": "greedy, adaptive gamma: mean gamma",
    "ours_sampled_alpha": "sampled, fixed gamma: acceptance",
    "ours_sampled_tokens_per_target_pass": "sampled, fixed gamma: tokens per target pass",
    "ours_sampled_mean_sum_min_pq": "sampled: mean of sum_v min(p, q) over the examined positions",
    "ours_sampled_alpha_standard_error": "sampled: standard error of the measured acceptance",
    "ours_sampled_formula_tokens_per_pass": "sampled: (1 - alpha^(gamma+1)) / (1 - alpha) at the measured alpha",
    "distilled_greedy_acceptance": "distilled draft: greedy acceptance along the target's greedy continuations",
    "undistilled_greedy_acceptance": "draft before distillation: greedy acceptance along the same continuations",
    "distilled_sampled_acceptance": "distilled draft: sum_v min(p, q) along the target's sampled continuations",
    "undistilled_sampled_acceptance": "draft before distillation: sum_v min(p, q) along the same continuations",
    "random_draft_alpha": "random untrained draft: greedy acceptance",
    "tabular_tv_gamma1": "tabular target: TV(speculative samples, exact joint), gamma 1",
    "tabular_tv_gamma3": "tabular target: TV(speculative samples, exact joint), gamma 3",
    "tabular_tv_draft_vs_target": "tabular target: TV(the draft's own joint, the target's)",
    "tabular_tv_expected_noise": "tabular target: expected TV of exact samples (sampling noise)",
    "iid_tokens_per_round": "identical positions (alpha 0.8): measured tokens per round",
    "iid_formula_tokens_per_round": "identical positions (alpha 0.8): (1 - alpha^(gamma+1)) / (1 - alpha)",
    # timings (this machine)
    "target_tokens_per_second": "target-only greedy: tokens per second",
    "ours_tokens_per_second": "speculative greedy, fixed gamma: tokens per second",
    "ours_adaptive_tokens_per_second": "speculative greedy, adaptive gamma: tokens per second",
    "target_sampled_tokens_per_second": "target-only sampling: tokens per second",
    "ours_sampled_tokens_per_second": "speculative sampling, fixed gamma: tokens per second",
    "hf_default_tokens_per_second": "transformers' assisted generation, its defaults: tokens per second",
    "hf_gamma_tokens_per_second": "transformers' assisted generation, our fixed gamma: tokens per second",
    "speedup_ours_vs_target": "speed-up: speculative greedy, fixed gamma / target-only greedy",
    "speedup_ours_adaptive_vs_target": "speed-up: speculative greedy, adaptive gamma / target-only greedy",
    "speedup_ours_sampled_vs_target_sampled": "speed-up: speculative sampling / target-only sampling",
    "speedup_hf_default_vs_target": "speed-up: transformers' defaults / target-only greedy",
    "speedup_hf_gamma_vs_target": "speed-up: transformers' at our gamma / target-only greedy",
    "speedup_ours_vs_hf_default": "ours, fixed gamma / transformers' defaults",
    "speedup_ours_adaptive_vs_hf_default": "ours, adaptive gamma / transformers' defaults",
    "speedup_ours_vs_hf_gamma": "ours, fixed gamma / transformers' at the same gamma",
    "speedup_ours_adaptive_vs_hf_gamma": "ours, adaptive gamma / transformers' at our gamma",
    "target_train_seconds": "target: training seconds (when it was built)",
    "draft_build_seconds": "draft: distillation seconds (when it was built)",
}
IID_ALPHA = 0.8  # acceptance of the identical-positions check of the formula


def _identical(outputs: list[torch.Tensor], reference: list[torch.Tensor]) -> float:
    """Share of rows equal to the reference (same length and every token)."""
    return sum(torch.equal(a, b) for a, b in zip(outputs, reference, strict=True)) / len(reference)


def _total(stats: list[Stats]) -> Stats:
    out = Stats()
    for st in stats:
        out = out.add(st)
    return out


def draft_identities(
    target: PreTrainedModel, random_draft: PreTrainedModel, rows: list[torch.Tensor], config: Config
) -> tuple[dict[str, float], dict[str, float]]:
    """Greedy speculative decoding with a random draft and with the target as its own draft, fixed and
    adaptive gamma: the share of rows identical to target-only greedy decoding, and the acceptance."""
    reference = [target_decode(target, pr, config.check_len) for pr in rows]
    identical: dict[str, float] = {}
    alphas: dict[str, float] = {}
    for name, d in (("random", random_draft), ("self", target)):
        for adaptive in (False, True):
            runs = [speculative_generate(target, d, pr, config.check_len, config.gamma, adaptive) for pr in rows]
            key = f"{name}{'_adaptive' if adaptive else ''}"
            identical[key] = _identical([out for out, _ in runs], reference)
            alphas[key] = _total([st for _, st in runs]).alpha
    return identical, alphas


def gamma_sweep(
    target: PreTrainedModel, draft: torch.nn.Module, rows: list[torch.Tensor], config: Config, at_gamma: Stats
) -> dict:
    """Greedy tokens per target pass against gamma, measured and from the formula at the measured
    acceptance (a plot series); `at_gamma` is the run already made at config.gamma."""
    measured, formula = [], []
    for gm in config.gammas:
        st = (
            at_gamma
            if gm == config.gamma
            else _total([speculative_generate(target, draft, pr, config.gen_len, gm)[1] for pr in rows])
        )
        measured.append(st.tokens_per_pass)
        formula.append(expected_tokens_per_pass(st.alpha, gm))
    return {
        "title": f"Greedy speculative decoding, {config.target} target: tokens per target pass against gamma",
        "xlabel": "gamma (draft tokens per round)",
        "ylabel": "tokens per target pass",
        "lines": {
            "measured": {"x": config.gammas, "y": measured},
            "formula at the measured acceptance": {"x": config.gammas, "y": formula},
        },
    }


SLOW_NOTE = (
    "the speed-up needs a target far costlier per pass than the draft; on one CPU thread verifying "
    "gamma + 1 tokens costs more than one single-token pass, unlike on an accelerator"
)


def _findings(config: Config, m: dict[str, float], t: dict[str, float]) -> list[Finding]:
    gamma, temp, slow_note = config.gamma, config.temperature, SLOW_NOTE
    findings = [
        Finding.compare(f"greedy speculative decoding (gamma {gamma}) is faster than target-only greedy decoding, with the same output (tokens per second, batch 1)", "leviathan2023fast",
                        t["speedup_ours_vs_target"], ">", 1.0, "speed-up", "target-only", slow_note),
        Finding.compare(f"speculative sampling (temperature {temp:g}, gamma {gamma}) is faster than sampling from the target alone", "chen2023accelerating",
                        t["speedup_ours_sampled_vs_target_sampled"], ">", 1.0, "speed-up", "target-only", slow_note),
    ]  # fmt: skip
    if config.distill is not None:
        findings += [
            Finding.compare(f"a draft distilled from the target agrees with the target's greedy choice more often than the {config.draft} it starts from (along the target's continuations)", "zhou2024distillspec",
                            m["distilled_greedy_acceptance"], ">", m["undistilled_greedy_acceptance"], "distilled", config.draft),
            Finding.compare(f"a draft distilled from the target is accepted more often when sampling (sum_v min(p, q) at temperature {temp:g}) than the {config.draft} it starts from", "zhou2024distillspec",
                            m["distilled_sampled_acceptance"], ">", m["undistilled_sampled_acceptance"], "distilled", config.draft),
        ]  # fmt: skip
    return findings


def _checks(
    config: Config,
    m: dict[str, float],
    outputs: dict[str, list[torch.Tensor]],
    identical: dict[str, float],
    alphas: dict[str, float],
    hf_same: float | None,
) -> list[Check]:
    gamma = config.gamma
    checks = [
        Check.compare(f"greedy: speculative decoding, gamma {gamma}, gives the target's greedy output on every prompt (share of rows)", _identical(outputs["ours"], outputs["target"]), "==", 1.0),
        Check.compare("greedy: speculative decoding with adaptive gamma gives the target's greedy output", _identical(outputs["ours_adaptive"], outputs["target"]), "==", 1.0),
        Check.compare("greedy: with a random untrained draft (fixed and adaptive gamma), the target's greedy output", min(identical["random"], identical["random_adaptive"]), "==", 1.0),
        Check.compare("greedy: with the target as its own draft, the target's greedy output", min(identical["self"], identical["self_adaptive"]), "==", 1.0),
        Check.compare("the target as its own draft: every draft token is accepted (alpha = 1)", min(alphas["self"], alphas["self_adaptive"]), "==", 1.0),
        Check.compare(f"sampling: TV(speculative samples, exact target joint) <= 0.01 ({config.tv_samples} samples, vocabulary {config.tv_vocab}, {config.tv_tokens} tokens, gamma 1 and 3)",
                      max(m["tabular_tv_gamma1"], m["tabular_tv_gamma3"]), "<=", 0.01),
        Check.compare("the tabular check has power: TV(the draft's own joint, the target's) > 0.1", m["tabular_tv_draft_vs_target"], ">", 0.1),
        Check.compare("sampled run: |measured acceptance - mean sum_v min(p, q)| <= 3 standard errors",
                      abs(m["ours_sampled_alpha"] - m["ours_sampled_mean_sum_min_pq"]), "<=", 3 * m["ours_sampled_alpha_standard_error"]),
        Check.compare(f"identical positions (alpha {IID_ALPHA}): tokens per round within 1% of (1 - alpha^(gamma+1)) / (1 - alpha)",
                      abs(m["iid_tokens_per_round"] / m["iid_formula_tokens_per_round"] - 1), "<=", 0.01),
    ]  # fmt: skip
    if hf_same is not None:
        checks.append(Check.compare("greedy: transformers' assisted generation (default and our gamma) gives the target's greedy output", hf_same, "==", 1.0))  # fmt: skip
    return checks


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        report(progress, 0.0, f"loading {config.target} and the draft")
        target = switch_off_eos(zoo.load(config.target)[0])  # seed 0's at every seed (see the docstring)
        draft, draft_meta = load_draft(config.target, config.draft, config.distill, target)
        draft = switch_off_eos(draft)
        n_rows = max(config.prompts, config.check_prompts)
        prompts = zoo.document_prompts("heldout", n_rows, config.prompt_len, seed=config.seed)  # (n_rows, P)
        rows = [prompts[i : i + 1] for i in range(n_rows)]  # batch size 1
        assert config.prompt_len + config.gen_len + GAMMA_MAX < target.config.max_position_embeddings
        fast_draft = LeanLlama(draft) if config.lean_draft else draft
        g = torch.Generator().manual_seed(config.seed)
        gamma, n, temp = config.gamma, config.gen_len, config.temperature

        # 1. Timed side by side: target-only and speculative decoding, greedy and sampled, and
        #    transformers' assisted generation with the same draft.
        stats: dict[str, list[Stats]] = {"ours": [], "ours_adaptive": [], "ours_sampled": []}

        def ours(key: str, adaptive: bool = False, temperature: float = 0.0):
            def decode(prompt: torch.Tensor) -> torch.Tensor:
                out, st = speculative_generate(target, fast_draft, prompt, n, gamma, adaptive, temperature, g)
                stats[key].append(st)
                return out

            return decode

        methods = {
            "target": lambda pr: target_decode(target, pr, n),
            "ours": ours("ours"),
            "ours_adaptive": ours("ours_adaptive", adaptive=True),
            "target_sampled": lambda pr: target_decode(target, pr, n, temp, g),
            "ours_sampled": ours("ours_sampled", temperature=temp),
        }
        hf = ["hf_default", "hf_gamma"] if config.hf_assisted else []
        if config.hf_assisted:
            methods["hf_default"] = lambda pr: hf_assisted_generate(target, draft, pr, n)
            methods["hf_gamma"] = lambda pr: hf_assisted_generate(target, draft, pr, n, gamma, "constant", 0.0)
        timed = rows[: config.prompts]
        tok_s, outputs = time_interleaved(methods, timed, n, config.repeats, sub_progress(progress, 0.05, 0.7))
        first = {key: _total(sts[: len(timed)]) for key, sts in stats.items()}  # the first repeat

        timings = {f"{m}_tokens_per_second": v for m, v in tok_s.items()}
        for m in ("ours", "ours_adaptive", *hf):
            timings[f"speedup_{m}_vs_target"] = tok_s[m] / tok_s["target"]
        timings["speedup_ours_sampled_vs_target_sampled"] = tok_s["ours_sampled"] / tok_s["target_sampled"]
        for m in hf:
            for key in ("ours", "ours_adaptive"):
                timings[f"speedup_{key}_vs_{m}"] = tok_s[key] / tok_s[m]
        timings["target_train_seconds"] = zoo.info(config.target)["train_seconds"]
        timings["draft_build_seconds"] = draft_meta["train_seconds"]

        metrics: dict[str, float] = {"target_params": zoo.n_params(target), "draft_params": zoo.n_params(draft)}
        for key, st in first.items():
            metrics[f"{key}_alpha"] = st.alpha
            metrics[f"{key}_tokens_per_target_pass"] = st.tokens_per_pass
        metrics["ours_formula_tokens_per_pass"] = expected_tokens_per_pass(first["ours"].alpha, gamma)
        metrics["ours_adaptive_mean_gamma"] = first["ours_adaptive"].drafted / first["ours_adaptive"].rounds
        sampled = first["ours_sampled"]
        metrics["ours_sampled_mean_sum_min_pq"] = sampled.sum_min_pq / sampled.examined
        metrics["ours_sampled_alpha_standard_error"] = math.sqrt(sampled.sum_min_pq_var) / sampled.examined
        metrics["ours_sampled_formula_tokens_per_pass"] = expected_tokens_per_pass(sampled.alpha, gamma)

        # 2. The draft before and after distillation, along the target's own continuations of the timed prompts.
        if config.distill is not None:
            report(progress, 0.7, "acceptance before and after distillation")
            undistilled = zoo.load(config.draft)[0]
            greedy_seqs, sampled_seqs = torch.cat(outputs["target"]), torch.cat(outputs["target_sampled"])  # (N, P + n)
            for name, d in (("distilled", draft), ("undistilled", undistilled)):
                metrics[f"{name}_greedy_acceptance"] = acceptance_along(target, d, greedy_seqs, config.prompt_len)
                metrics[f"{name}_sampled_acceptance"] = acceptance_along(
                    target, d, sampled_seqs, config.prompt_len, temp
                )

        # 3. Greedy identity with a random (untrained) draft and with the target as its own draft.
        report(progress, 0.75, "random and self drafts")
        random_draft = zoo.fresh(config.draft, seed=config.seed + 1)
        identical, alphas = draft_identities(target, random_draft, rows[: config.check_prompts], config)
        metrics["random_draft_alpha"] = alphas["random"]

        # 4. Tokens per target pass against gamma (greedy), measured and from the formula.
        series: dict = {}
        if config.gammas:
            report(progress, 0.8, "gamma sweep")
            series["gamma"] = gamma_sweep(target, fast_draft, timed, config, first["ours"])

        # 5. The sampling rule against the exact distribution of a tabular (Markov) target.
        report(progress, 0.9, "tabular sampling check")
        metrics |= tabular_check(verify_draft, config.tv_vocab, config.tv_tokens, config.tv_samples, [1, 3], g)
        metrics["iid_tokens_per_round"] = iid_tokens_per_round(IID_ALPHA, gamma, 200_000, g, verify_draft)
        metrics["iid_formula_tokens_per_round"] = expected_tokens_per_pass(IID_ALPHA, gamma)

        hf_same = min(_identical(outputs[h], outputs["target"]) for h in hf) if hf else None
        findings = _findings(config, metrics, timings)
        checks = _checks(config, metrics, outputs, identical, alphas, hf_same)
        report(progress, 1.0, "done")
    return Result(
        "speculative-decoding",
        config_dict(config),
        metrics,
        findings,
        checks,
        timer.seconds,
        series=series,
        labels=LABELS,
        timings=timings,
    )
