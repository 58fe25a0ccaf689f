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
(`DynamicCache.crop`) instead of recomputed. gamma is fixed or adaptive (the rule of transformers'
"heuristic" schedule: gamma + 2 after a fully accepted round, max(1, gamma - 1) otherwise). The timed
runs call the draft through `LeanLlama`, the same Llama forward as plain tensor code (a tiny model's
transformers forward at batch 1 is mostly Python overhead); the target keeps its own forward.

The demo: a 25M-parameter target (zoo-25m, built and cached like the zoo) and a draft distilled from
it with forward KL (the distillation implementation's `forward_kl`) on corpus windows and the
target's own greedy continuations, starting from the trained zoo-660k (zhou2024distillspec: a draft
distilled from the target, on the target's generations, is accepted more often). It checks the
claims with the trained, a random and the target itself as drafts, the sampling rule on a tabular
model against the exact distribution, and times target-only greedy decoding, transformers' assisted
generation and this loop side by side. Related: kim2023speculative (the big model steps in only when
the small one is unsure), narasimhan2025faster (cascades with speculative execution).
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from transformers import DynamicCache, LlamaForCausalLM, PreTrainedModel

from reference_impls import zoo
from reference_impls.common import Claim, Progress, Result, Timer, config_dict, report, set_threads
from reference_impls.distillation import forward_kl

GAMMA_MAX = 16  # cap of the adaptive gamma


@dataclass(frozen=True)
class DistillSettings:
    """How the draft is distilled from the target (the cache key of the distilled draft holds all of it)."""

    corpus_windows: int = 32  # training windows of seq_len bytes
    generations: int = 192  # target greedy continuations of training prompts (prompt 16 bytes)
    seq_len: int = 208  # bytes per training sequence (as long as the benchmark's prompt + continuation)
    steps: int = 400  # optimiser steps of forward KL
    batch: int = 16  # sequences per step
    lr: float = 2e-3  # peak learning rate
    seed: int = 0  # which windows and prompts, batch order


@dataclass
class Config:
    target: str = "zoo-25m"  # zoo name of the target (large) model
    draft: str = "zoo-660k"  # zoo name of the draft (small) model, or of its starting point when distilled
    distill: DistillSettings | None = field(default_factory=DistillSettings)  # None: use the draft as it is
    gamma: int = 4  # draft tokens per round (fixed gamma; the adaptive run starts from it); 3-8 timed alike
    prompts: int = 4  # held-out prompts of the timed comparison
    prompt_len: int = 16  # bytes per prompt ("\n" + start of a document)
    gen_len: int = 128  # new tokens per prompt (prompt + gen_len + GAMMA_MAX stays within 256 positions)
    repeats: int = 3  # timing repeats (median)
    check_prompts: int = 2  # prompts of the random-draft and self-draft identity checks
    check_len: int = 48  # new tokens in those checks
    sample_prompts: int = 8  # prompts of the sampled run (alpha against sum min(p, q))
    sample_len: int = 128  # new tokens per sampled prompt
    temperature: float = 1.0  # temperature of the sampled run
    tv_vocab: int = 4  # vocabulary of the tabular (Markov) model of the sampling check
    tv_tokens: int = 2  # length of the sequences whose joint distribution is compared
    tv_samples: int = 400_000  # independent samples through the acceptance / residual / bonus code
    hf_assisted: bool = True  # also time transformers' assisted generation
    lean_draft: bool = True  # our timed runs call the draft through LeanLlama (same weights, plain tensor code)
    speed_claims: bool = True  # claim speed-ups (only meaningful when the target is much costlier)
    seed: int = 0  # prompts and sampling

    @classmethod
    def quick(cls) -> Config:
        return cls(
            target="zoo-1.3m",
            draft="zoo-180k",
            distill=None,
            gamma=4,
            prompts=2,
            gen_len=64,
            repeats=1,
            check_prompts=2,
            check_len=32,
            sample_prompts=4,
            sample_len=64,
            tv_samples=200_000,
            speed_claims=False,
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
# The sampling rule on a tabular model: a Markov chain over a tiny vocabulary, exact distribution known


def markov_joint(P: torch.Tensor, start: int, n_tokens: int) -> torch.Tensor:
    """Exact joint distribution of the next n_tokens of a Markov chain P (V, V) from `start`: (V^n,)."""
    joint = P[start]  # (V,)
    for _ in range(n_tokens - 1):
        last = torch.arange(len(joint)) % P.shape[0]  # the last token of each prefix (index in base V)
        joint = (joint[:, None] * P[last]).reshape(-1)  # (V^k,)
    return joint


def markov_speculative_sample(
    P: torch.Tensor,
    Q: torch.Tensor,
    start: int,
    n_tokens: int,
    gamma: int,
    n_samples: int,
    generator: torch.Generator,
    verify=verify_draft,
) -> torch.Tensor:
    """n_samples independent sequences (N, n_tokens) from speculative decoding with target chain P and
    draft chain Q (V, V): draft gamma tokens from Q, verify with `verify_draft`, repeat until done."""
    out = torch.zeros(n_samples, n_tokens + gamma + 1, dtype=torch.long)  # (N, room for one more round)
    length = torch.zeros(n_samples, dtype=torch.long)  # (N,)
    last = torch.full((n_samples,), start, dtype=torch.long)  # (N,)
    rows = torch.arange(n_samples)
    while (length < n_tokens).any():
        drafts, q = [], []
        tok = last
        for _ in range(gamma):
            qi = Q[tok]  # (N, V)
            tok = torch.multinomial(qi, 1, generator=generator)[:, 0]
            drafts.append(tok)
            q.append(qi)
        x = torch.stack(drafts, 1)  # (N, gamma)
        ctx = torch.cat([last[:, None], x], 1)  # (N, gamma+1): the token each p_i conditions on
        n, nxt = verify(P[ctx], torch.stack(q, 1), x, generator)
        active = length < n_tokens
        for i in range(gamma + 1):  # write accepted drafts, then the next token, for rows still going
            tok_i = torch.where(i < n, x[:, min(i, gamma - 1)] if gamma else nxt, nxt)
            write = active & (i <= n)
            out[rows[write], length[write] + i] = tok_i[write]
        length = torch.where(active, length + n + 1, length)
        last = torch.where(active, nxt, last)
    return out[:, :n_tokens]


def empirical_joint(samples: torch.Tensor, vocab: int) -> torch.Tensor:
    """Frequencies (V^n,) of the sequences (N, n) indexed in base V."""
    index = (samples * vocab ** torch.arange(samples.shape[1] - 1, -1, -1)).sum(1)  # (N,)
    return torch.bincount(index, minlength=vocab ** samples.shape[1]).double() / len(samples)


def total_variation(a: torch.Tensor, b: torch.Tensor) -> float:
    return 0.5 * (a - b).abs().sum().item()


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
    gammas: list[int] = field(default_factory=list)  # gamma of every round

    def add(self, other: Stats) -> Stats:
        return Stats(
            *(getattr(self, k) + getattr(other, k) for k in ("rounds", "drafted", "examined", "accepted", "emitted")),
            self.sum_min_pq + other.sum_min_pq,
            self.sum_min_pq_var + other.sum_min_pq_var,
            self.gammas + other.gammas,
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
        stats.gammas.append(g)
        length += n + 1
        _crop(t_cache, length - 1)  # roll back to the accepted prefix (the new token is fed next round)
        _crop(d_cache, length - 1)
        if adaptive:
            gamma = adapt_gamma(gamma, n, g)
    return seq[:, : P + n_new], stats


@torch.inference_mode()
def target_greedy(target: PreTrainedModel, prompt: torch.Tensor, n_new: int) -> torch.Tensor:
    """Target-only greedy decoding with a KV cache, the same calls as ours without a draft: (1, P + n_new)."""
    seq = torch.empty(1, prompt.shape[1] + n_new, dtype=torch.long)
    seq[:, : prompt.shape[1]] = prompt
    cache = DynamicCache()
    logits = target(input_ids=prompt, past_key_values=cache, use_cache=True).logits[0, -1]  # (V,)
    for i in range(prompt.shape[1], prompt.shape[1] + n_new):
        seq[0, i] = logits.argmax()
        if i + 1 < seq.shape[1]:
            logits = target(input_ids=seq[:, i : i + 1], past_key_values=cache, use_cache=True).logits[0, -1]
    return seq


@torch.inference_mode()
def hf_assisted_generate(
    target: PreTrainedModel,
    draft: PreTrainedModel,
    prompt: torch.Tensor,
    n_new: int,
    num_assistant_tokens: int | None = None,
    schedule: str | None = None,
    confidence_threshold: float | None = None,
) -> torch.Tensor:
    """transformers' assisted generation, greedy, batch 1: (1, P + n_new). The assistant settings are
    read from the draft's generation_config; None leaves transformers' default. The end-of-sequence
    token is switched off (it is "\\n" in the zoo) so that every call generates n_new tokens."""
    gc = draft.generation_config
    saved = (gc.num_assistant_tokens, gc.num_assistant_tokens_schedule, gc.assistant_confidence_threshold)
    gc.num_assistant_tokens, gc.num_assistant_tokens_schedule, gc.assistant_confidence_threshold = (
        num_assistant_tokens,
        schedule,
        confidence_threshold,
    )
    try:
        return target.generate(
            prompt,
            assistant_model=draft,
            do_sample=False,
            max_new_tokens=n_new,
            eos_token_id=None,
            pad_token_id=zoo.EOS,
            attention_mask=torch.ones_like(prompt),
        )
    finally:
        gc.num_assistant_tokens, gc.num_assistant_tokens_schedule, gc.assistant_confidence_threshold = saved


def switch_off_eos(model: PreTrainedModel) -> PreTrainedModel:
    """No end-of-sequence token in the model's generation config (generate() then never stops early)."""
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = zoo.EOS
    return model


# ---------------------------------------------------------------------------------------------------
# A lean forward for the draft. At batch 1 a tiny model's transformers forward is mostly Python
# overhead (about 2.3 ms a token for zoo-660k on one thread, against about 17 ms for zoo-25m), and
# the draft runs gamma times a round. The same Llama computation written out as a few tensor lines
# costs a fraction of that. Only the draft uses it: the target still verifies with its own forward,
# so the output is exactly the same whatever the draft computes.


class LeanLlama:
    """A transformers Llama (no grouped-query attention, RoPE without scaling) as plain tensor code.

    Called like the model, `lean(input_ids=ids, past_key_values=cache, use_cache=True).logits`, with a
    DynamicCache (cropped as usual), it returns the logits of the LAST position only: (1, 1, V).
    """

    def __init__(self, model: PreTrainedModel):
        cfg, m = model.config, model.model
        self.heads, self.eps = cfg.num_attention_heads, cfg.rms_norm_eps
        self.embed = m.embed_tokens.weight  # (V, d)
        self.head = model.lm_head.weight  # (V, d), tied to the embedding in the zoo
        self.norm = m.norm.weight  # (d,)
        self.inv_freq = m.rotary_emb.inv_freq.float()  # (hd / 2,)
        self.rope_scale = float(m.rotary_emb.attention_scaling)
        self.layers = [
            (
                layer.input_layernorm.weight,
                torch.cat(
                    [layer.self_attn.q_proj.weight, layer.self_attn.k_proj.weight, layer.self_attn.v_proj.weight]
                ),
                layer.self_attn.o_proj.weight,
                layer.post_attention_layernorm.weight,
                torch.cat([layer.mlp.gate_proj.weight, layer.mlp.up_proj.weight]),
                layer.mlp.down_proj.weight,
            )
            for layer in m.layers
        ]
        assert cfg.num_key_value_heads == cfg.num_attention_heads and not cfg.attention_bias and not cfg.mlp_bias

    def _rms(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    @staticmethod
    def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x1, x2 = x.chunk(2, dim=-1)
        return x * cos + torch.cat([-x2, x1], dim=-1) * sin

    @torch.inference_mode()
    def __call__(self, input_ids: torch.Tensor, past_key_values: DynamicCache, use_cache: bool = True):
        T, past = input_ids.shape[1], past_key_values.get_seq_length()
        h = self.embed[input_ids[0]]  # (T, d)
        freqs = torch.arange(past, past + T, dtype=torch.float)[:, None] * self.inv_freq  # (T, hd/2)
        emb = torch.cat([freqs, freqs], dim=-1)  # (T, hd)
        cos, sin = emb.cos() * self.rope_scale, emb.sin() * self.rope_scale
        mask = None
        if T > 1:  # query i (position past + i) sees keys 0 .. past + i
            mask = torch.arange(past + T)[None, :] <= torch.arange(past, past + T)[:, None]  # (T, past + T)
        for i, (w_in, w_qkv, w_o, w_post, w_gu, w_down) in enumerate(self.layers):
            qkv = (self._rms(h, w_in) @ w_qkv.T).view(T, 3, self.heads, -1).transpose(0, 2)  # (H, 3, T, hd)
            q, k = self._rotate(qkv[:, 0], cos, sin), self._rotate(qkv[:, 1], cos, sin)  # (H, T, hd)
            k, v = past_key_values.update(k[None], qkv[:, 2][None], i)  # (1, H, past + T, hd)
            att = F.scaled_dot_product_attention(q[None], k, v, attn_mask=mask)  # (1, H, T, hd)
            h = h + att[0].transpose(0, 1).reshape(T, -1) @ w_o.T  # (T, d)
            gate, up = (self._rms(h, w_post) @ w_gu.T).chunk(2, dim=-1)  # (T, ff) each
            h = h + (F.silu(gate) * up) @ w_down.T
        logits = self._rms(h[-1:], self.norm) @ self.head.T  # (1, V)
        return SimpleNamespace(logits=logits[None])  # (1, 1, V)


# ---------------------------------------------------------------------------------------------------
# The draft distilled from the target, cached like the zoo


def draft_dir(target: str, draft: str, settings: DistillSettings) -> Path:
    """Cache folder of the distilled draft: the hash covers both zoo models' cache keys and the settings."""
    key = json.dumps(
        {"target": zoo.model_dir(target).name, "draft": zoo.model_dir(draft).name, "distill": asdict(settings)},
        sort_keys=True,
    )
    return zoo.cache_root() / "zoo" / f"{draft}-distilled-from-{target}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def distill_draft(
    target: PreTrainedModel, student: PreTrainedModel, settings: DistillSettings, progress: Progress | None = None
) -> PreTrainedModel:
    """Train `student` toward `target` with forward KL on corpus windows and the target's greedy continuations."""
    s = settings
    g = torch.Generator().manual_seed(s.seed)
    windows = zoo.random_windows(zoo.tokens("train"), s.corpus_windows, s.seq_len, g)  # (Nc, T)
    prompts = zoo.document_prompts("train", s.generations, 16, seed=s.seed)  # (Ng, 16)
    report(progress, 0.0, "target continues training prompts")
    gens = torch.cat([zoo.generate(target, prompts[i : i + 32], s.seq_len - 16) for i in range(0, len(prompts), 32)])
    data = torch.cat([windows, gens])  # (N, T)
    report(progress, 0.2, "target logits")
    with torch.inference_mode():
        t_logits = torch.cat([zoo.logits(target, data[i : i + 16])[:, :-1] for i in range(0, len(data), 16)])

    def batches():
        while True:
            yield torch.randint(0, len(data), (s.batch,), generator=g)

    def loss_fn(model: PreTrainedModel, idx: torch.Tensor) -> torch.Tensor:
        return forward_kl(zoo.logits(model, data[idx])[:, :-1], t_logits[idx])  # KL(p_target || q_draft)

    tick = None if progress is None else (lambda step: report(progress, 0.4 + 0.6 * (step + 1) / s.steps, "distilling"))
    zoo.train(student, batches(), s.steps, loss_fn, lr=s.lr, warmup=min(30, s.steps // 4), progress=tick)
    return student.eval()


def load_draft(config: Config, target: PreTrainedModel, progress: Progress | None = None) -> PreTrainedModel:
    """The draft model: the zoo model as it is, or distilled from the target (built once, then cached)."""
    if config.distill is None:
        return zoo.load(config.draft)[0]
    path = draft_dir(config.target, config.draft, config.distill)
    if not (path / "zoo.json").exists():
        set_threads()
        with Timer() as t:
            student = distill_draft(target, zoo.load(config.draft)[0], config.distill, progress)
        meta = {"name": path.name, "params": zoo.n_params(student), "train_seconds": round(t.seconds, 2)}
        zoo.save_atomic(student, path, meta)
    return LlamaForCausalLM.from_pretrained(path).eval()


# ---------------------------------------------------------------------------------------------------
# The demo


def _identical(outputs: list[torch.Tensor], reference: list[torch.Tensor]) -> float:
    """Share of rows equal to the reference (same length and every token)."""
    return sum(torch.equal(a, b) for a, b in zip(outputs, reference, strict=True)) / len(reference)


def iid_tokens_per_round(
    alpha_target: float, gamma: int, rounds: int, generator: torch.Generator
) -> tuple[float, float]:
    """verify_draft on `rounds` rounds whose every position has the same (p, q) with sum min(p, q) = alpha:
    (alpha of that pair, measured tokens per round). The formula's assumption holds exactly here."""
    p = torch.tensor([alpha_target, 1 - alpha_target, 0.0], dtype=torch.float64)
    q = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)  # draft always proposes token 0
    P = p.expand(rounds, gamma + 1, 3)
    Q = q.expand(rounds, gamma, 3)
    x = torch.zeros(rounds, gamma, dtype=torch.long)
    n, _ = verify_draft(P, Q, x, generator)
    return acceptance_rate(p, q).item(), (n + 1).double().mean().item()


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        report(progress, 0.0, f"loading {config.target}")
        target = switch_off_eos(zoo.load(config.target)[0])
        built = (
            config.distill is not None
            and not (draft_dir(config.target, config.draft, config.distill) / "zoo.json").exists()
        )
        with Timer() as t_draft:
            draft = switch_off_eos(load_draft(config, target, progress=None))
        metrics: dict[str, float] = {"target_params": zoo.n_params(target), "draft_params": zoo.n_params(draft)}
        if built:
            metrics["draft_build_seconds"] = t_draft.seconds
        n_prompts = max(config.prompts, config.check_prompts, config.sample_prompts)
        prompts = zoo.document_prompts("heldout", n_prompts, config.prompt_len, seed=config.seed)  # (n, P)
        rows = [prompts[i : i + 1] for i in range(n_prompts)]
        assert config.prompt_len + config.gen_len + GAMMA_MAX < target.config.max_position_embeddings

        fast_draft = LeanLlama(draft) if config.lean_draft else draft

        # 1. Timed side by side, interleaved: target-only greedy, ours (fixed and adaptive gamma), HF assisted.
        last_stats: dict[str, Stats] = {}

        def ours(adaptive: bool):
            def f(prompt: torch.Tensor) -> torch.Tensor:
                out, st = speculative_generate(target, fast_draft, prompt, config.gen_len, config.gamma, adaptive)
                key = "ours_adaptive" if adaptive else "ours"
                last_stats[key] = last_stats[key].add(st) if key in last_stats else st
                return out

            return f

        methods = {
            "target": lambda pr: target_greedy(target, pr, config.gen_len),
            "ours": ours(False),
            "ours_adaptive": ours(True),
        }
        if config.hf_assisted:
            methods["hf_default"] = lambda pr: hf_assisted_generate(target, draft, pr, config.gen_len)
            methods["hf_gamma"] = lambda pr: hf_assisted_generate(
                target, draft, pr, config.gen_len, config.gamma, "constant", 0.0
            )
        tok_s: dict[str, list[float]] = {m: [] for m in methods}
        outputs: dict[str, list[torch.Tensor]] = {m: [] for m in methods}
        timed = rows[: config.prompts]
        for r in range(config.repeats):
            seconds = dict.fromkeys(methods, 0.0)
            for i, prompt in enumerate(timed):
                for m, f in methods.items():
                    start = time.perf_counter()
                    out = f(prompt)
                    seconds[m] += time.perf_counter() - start
                    if r == 0:
                        outputs[m].append(out)
                report(progress, 0.7 * (r * len(timed) + i + 1) / (config.repeats * len(timed)), "timing")
            for m in methods:
                tok_s[m].append(len(timed) * config.gen_len / seconds[m])
            if r == 0:  # stats of one pass over the prompts
                stats = dict(last_stats)
        for m in methods:
            metrics[f"{m}_tokens_per_second"] = statistics.median(tok_s[m])
            if m != "target":
                metrics[f"{m}_identical_to_target"] = _identical(outputs[m], outputs["target"])
        for m in [m for m in methods if m != "target"]:
            metrics[f"speedup_{m}_vs_target"] = metrics[f"{m}_tokens_per_second"] / metrics["target_tokens_per_second"]
        for m in [m for m in methods if m.startswith("hf_")]:
            for ours_m in ("ours", "ours_adaptive"):
                metrics[f"speedup_{ours_m}_vs_{m}"] = (
                    metrics[f"{ours_m}_tokens_per_second"] / metrics[f"{m}_tokens_per_second"]
                )
        for key, st in stats.items():
            metrics[f"{key}_alpha"] = st.alpha
            metrics[f"{key}_tokens_per_target_pass"] = st.tokens_per_pass
            metrics[f"{key}_mean_gamma"] = st.drafted / st.rounds
        metrics["ours_formula_tokens_per_pass"] = expected_tokens_per_pass(stats["ours"].alpha, config.gamma)

        # 2. Greedy identity with a random (untrained) draft and with the target as its own draft.
        report(progress, 0.7, "random and self drafts")
        checks = rows[: config.check_prompts]
        reference = [target_greedy(target, pr, config.check_len) for pr in checks]
        random_draft = zoo.fresh(config.draft, seed=config.seed + 1)
        for name, d in (("random", random_draft), ("self", target)):
            for adaptive in (False, True):
                runs = [speculative_generate(target, d, pr, config.check_len, config.gamma, adaptive) for pr in checks]
                key = f"{name}_draft{'_adaptive' if adaptive else ''}"
                metrics[f"{key}_identical_to_target"] = _identical([o for o, _ in runs], reference)
                total = runs[0][1]
                for _, st in runs[1:]:
                    total = total.add(st)
                metrics[f"{key}_alpha"] = total.alpha

        # 3. Sampling: measured acceptance against sum_v min(p, q) at the examined positions.
        report(progress, 0.8, "sampling")
        g = torch.Generator().manual_seed(config.seed)
        sampled = Stats()
        for pr in rows[: config.sample_prompts]:
            _, st = speculative_generate(
                target, draft, pr, config.sample_len, config.gamma, temperature=config.temperature, generator=g
            )
            sampled = sampled.add(st)
        metrics["sampled_alpha"] = sampled.alpha
        metrics["sampled_mean_sum_min_pq"] = sampled.sum_min_pq / sampled.examined
        metrics["sampled_alpha_standard_error"] = math.sqrt(sampled.sum_min_pq_var) / sampled.examined
        metrics["sampled_examined_positions"] = sampled.examined
        metrics["sampled_tokens_per_target_pass"] = sampled.tokens_per_pass
        metrics["sampled_formula_tokens_per_pass"] = expected_tokens_per_pass(sampled.alpha, config.gamma)

        # 4. The sampling rule against the exact distribution of a tabular (Markov) target.
        report(progress, 0.9, "tabular sampling check")
        V = config.tv_vocab
        P = torch.softmax(1.5 * torch.randn(V, V, generator=g, dtype=torch.float64), -1)  # target chain
        Q = torch.softmax(1.5 * torch.randn(V, V, generator=g, dtype=torch.float64), -1)  # draft chain
        exact = markov_joint(P, 0, config.tv_tokens)
        for gamma in (1, 3):
            samples = markov_speculative_sample(P, Q, 0, config.tv_tokens, gamma, config.tv_samples, g)
            metrics[f"tabular_tv_gamma{gamma}"] = total_variation(empirical_joint(samples, V), exact)
        metrics["tabular_tv_draft_vs_target"] = total_variation(markov_joint(Q, 0, config.tv_tokens), exact)
        # expected TV of the empirical distribution of n exact samples, sum_x sqrt(p(1-p)/n) sqrt(2/pi) / 2
        noise = 0.5 * math.sqrt(2 / math.pi) * (exact * (1 - exact) / config.tv_samples).sqrt().sum().item()
        metrics["tabular_tv_expected_noise"] = noise
        a_iid, tpr_iid = iid_tokens_per_round(0.8, config.gamma, 200_000, g)
        metrics["iid_tokens_per_round"] = tpr_iid
        metrics["iid_formula_tokens_per_round"] = expected_tokens_per_pass(a_iid, config.gamma)

        claims = [
            Claim.compare(
                "greedy: ours (trained draft, fixed gamma) = target-only greedy on every prompt (share of rows)",
                metrics["ours_identical_to_target"],
                "==",
                1.0,
            ),
            Claim.compare(
                "greedy: ours (trained draft, adaptive gamma) = target-only greedy on every prompt",
                metrics["ours_adaptive_identical_to_target"],
                "==",
                1.0,
            ),
            Claim.compare(
                "greedy: ours with a random untrained draft (fixed and adaptive gamma) = target-only greedy",
                min(metrics["random_draft_identical_to_target"], metrics["random_draft_adaptive_identical_to_target"]),
                "==",
                1.0,
            ),
            Claim.compare(
                "greedy: ours with the target as its own draft = target-only greedy",
                min(metrics["self_draft_identical_to_target"], metrics["self_draft_adaptive_identical_to_target"]),
                "==",
                1.0,
            ),
            Claim.compare(
                "the target as its own draft: every draft token is accepted (alpha = 1)",
                metrics["self_draft_alpha"],
                "==",
                1.0,
            ),
            Claim.compare(
                f"sampling: TV(speculative samples, exact target joint) <= 0.01 ({config.tv_samples} samples, "
                f"vocab {V}, {config.tv_tokens} tokens, gamma 1 and 3)",
                max(metrics["tabular_tv_gamma1"], metrics["tabular_tv_gamma3"]),
                "<=",
                0.01,
            ),
            Claim.compare(
                "the check has power: TV(draft's own joint, target's) > 0.1",
                metrics["tabular_tv_draft_vs_target"],
                ">",
                0.1,
            ),
            Claim.compare(
                "sampled run: |measured alpha - mean sum_v min(p, q)| <= 3 standard errors",
                abs(metrics["sampled_alpha"] - metrics["sampled_mean_sum_min_pq"]),
                "<=",
                3 * metrics["sampled_alpha_standard_error"],
            ),
            Claim.compare(
                "i.i.d. positions: tokens per round within 1% of (1 - alpha^(gamma+1)) / (1 - alpha)",
                abs(tpr_iid / metrics["iid_formula_tokens_per_round"] - 1),
                "<=",
                0.01,
            ),
        ]
        if config.hf_assisted:
            claims.append(
                Claim.compare(
                    "greedy: transformers' assisted generation (default and our gamma) = target-only greedy",
                    min(metrics["hf_default_identical_to_target"], metrics["hf_gamma_identical_to_target"]),
                    "==",
                    1.0,
                )
            )
        if config.speed_claims:
            claims.append(
                Claim.compare(
                    "wall clock: ours (adaptive gamma) is faster than target-only greedy (speed-up > 1)",
                    metrics["speedup_ours_adaptive_vs_target"],
                    ">",
                    1.0,
                )
            )
        report(progress, 1.0, "done")
    series = {
        "tokens_per_second": {
            "title": f"Greedy decoding, batch 1, one thread: {config.target} with a {config.draft} draft",
            "xlabel": "repeat",
            "ylabel": "tokens per second",
            "lines": {m: {"x": list(range(1, config.repeats + 1)), "y": tok_s[m]} for m in methods},
        }
    }
    return Result("speculative-decoding", config_dict(config), metrics, claims, timer.seconds, series=series)
