"""What the speculative-decoding demo needs besides the rule: the draft, the baseline, the timing, the exact check.

- The draft distilled from the target (`load_draft`): forward KL from the target on corpus windows
  and on the target's own greedy continuations, starting from a trained zoo model
  (zhou2024distillspec), cached like the zoo under a hash of both models and the settings.
- transformers' assisted generation (`hf_assisted_generate`), the implementation to compare with.
- `time_interleaved`: decoding methods timed side by side, prompt by prompt, median over repeats.
- The sampling rule against an exact distribution: speculative sampling from a tabular (Markov)
  target and draft, whose joint distribution is known in closed form (`markov_speculative_sample`,
  `markov_joint`), and rounds whose every position has the same acceptance, where the
  tokens-per-round formula is exact (`iid_tokens_per_round`).
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from transformers import LlamaForCausalLM, PreTrainedModel

from reference_impls import zoo
from reference_impls.common import Progress, Timer, report, set_threads
from reference_impls.distillation import forward_kl

# verify(p (N, gamma+1, V), q (N, gamma, V), draft_tokens (N, gamma), generator) -> (n_accepted (N,), next (N,))
Verify = Callable[..., tuple[torch.Tensor, torch.Tensor]]


# ---------------------------------------------------------------------------------------------------
# The draft distilled from the target, cached like the zoo


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


def load_draft(
    target_name: str,
    draft_name: str,
    settings: DistillSettings | None,
    target: PreTrainedModel,
    progress: Progress | None = None,
) -> tuple[PreTrainedModel, dict]:
    """(draft model, what its cache recorded): the seed-0 zoo model `draft_name` as it is when `settings`
    is None, else that model distilled from `target` (built once under a lock, then read from the cache)."""
    if settings is None:
        return zoo.load(draft_name)[0], zoo.info(draft_name)
    path = draft_dir(target_name, draft_name, settings)
    if not (path / "zoo.json").exists():
        with zoo.cache_lock(path.name):  # seeds run side by side: one process builds, the others wait
            if not (path / "zoo.json").exists():
                set_threads()
                with Timer() as t:
                    student = distill_draft(target, zoo.load(draft_name)[0], settings, progress)
                meta = {"name": path.name, "params": zoo.n_params(student), "train_seconds": round(t.seconds, 2)}
                zoo.save_atomic(student, path, meta)
    return LlamaForCausalLM.from_pretrained(path).eval(), json.loads((path / "zoo.json").read_text())


# ---------------------------------------------------------------------------------------------------
# transformers' assisted generation, and timing decoders side by side


def switch_off_eos(model: PreTrainedModel) -> PreTrainedModel:
    """No end-of-sequence token in the model's generation config (generate() then never stops early)."""
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = zoo.EOS
    return model


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


def time_interleaved(
    methods: dict[str, Callable[[torch.Tensor], torch.Tensor]],
    prompts: list[torch.Tensor],
    n_new: int,
    repeats: int,
    progress: Progress | None = None,
) -> tuple[dict[str, float], dict[str, list[torch.Tensor]]]:
    """Time decoding methods (prompt (1, P) -> sequence (1, P + n_new)) side by side: each repeat runs
    every method on a prompt before the next prompt, so that a slow spell of the machine hits them all.
    Returns (median over repeats of tokens per second, per method; outputs of the first repeat)."""
    tok_s: dict[str, list[float]] = {m: [] for m in methods}
    outputs: dict[str, list[torch.Tensor]] = {m: [] for m in methods}
    for r in range(repeats):
        seconds = dict.fromkeys(methods, 0.0)
        for i, prompt in enumerate(prompts):
            for m, decode in methods.items():
                start = time.perf_counter()
                out = decode(prompt)
                seconds[m] += time.perf_counter() - start
                if r == 0:
                    outputs[m].append(out)
            report(progress, (r * len(prompts) + i + 1) / (repeats * len(prompts)), "timing")
        for m in methods:
            tok_s[m].append(len(prompts) * n_new / seconds[m])
    return {m: statistics.median(v) for m, v in tok_s.items()}, outputs


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
    verify: Verify,
) -> torch.Tensor:
    """n_samples independent sequences (N, n_tokens) from speculative decoding with target chain P and
    draft chain Q (V, V): draft gamma tokens from Q, decide them with `verify`, repeat until done."""
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


def expected_tv_noise(exact: torch.Tensor, n_samples: int) -> float:
    """Expected TV between `exact` and the frequencies of n exact samples: sum_x sqrt(p(1-p)/n) sqrt(2/pi) / 2."""
    return 0.5 * math.sqrt(2 / math.pi) * (exact * (1 - exact) / n_samples).sqrt().sum().item()


def tabular_check(
    verify: Verify, vocab: int, n_tokens: int, n_samples: int, gammas: list[int], generator: torch.Generator
) -> dict[str, float]:
    """Speculative sampling through `verify` from a random Markov target P and draft Q over `vocab` tokens:
    TV between the frequencies of the next n_tokens and their exact joint under P, for each gamma;
    TV between Q's own joint and P's (the power of the check); the expected TV of exact samples (noise)."""
    P = torch.softmax(1.5 * torch.randn(vocab, vocab, generator=generator, dtype=torch.float64), -1)  # (V, V)
    Q = torch.softmax(1.5 * torch.randn(vocab, vocab, generator=generator, dtype=torch.float64), -1)  # (V, V)
    exact = markov_joint(P, 0, n_tokens)  # (V^n,)
    out = {}
    for gamma in gammas:
        samples = markov_speculative_sample(P, Q, 0, n_tokens, gamma, n_samples, generator, verify)  # (N, n)
        out[f"tabular_tv_gamma{gamma}"] = total_variation(empirical_joint(samples, vocab), exact)
    out["tabular_tv_draft_vs_target"] = total_variation(markov_joint(Q, 0, n_tokens), exact)
    out["tabular_tv_expected_noise"] = expected_tv_noise(exact, n_samples)
    return out


def iid_tokens_per_round(alpha: float, gamma: int, rounds: int, generator: torch.Generator, verify: Verify) -> float:
    """Mean tokens per round of `verify` on rounds whose every position has the same (p, q) with
    sum_v min(p, q) = alpha (the draft always proposes token 0, which p gives probability alpha):
    the assumption under which (1 - alpha^(gamma+1)) / (1 - alpha) is exact."""
    p = torch.tensor([alpha, 1 - alpha, 0.0], dtype=torch.float64)
    q = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    x = torch.zeros(rounds, gamma, dtype=torch.long)
    n, _ = verify(p.expand(rounds, gamma + 1, 3), q.expand(rounds, gamma, 3), x, generator)
    return (n + 1).double().mean().item()
