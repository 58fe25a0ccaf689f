"""Fine-tuning and scoring any causal LM on (prompt, answer) pairs: a helper shared by several demos.

    pack(pairs)                       right-padded ids (N, T) and targets (N, T), -100 outside answers
    finetune(model, pairs, steps)     cross-entropy on the answer tokens only (AdamW, warm-up, cosine)
    choice_logprobs(model, prompts, choices)   log p(choice | prompt) summed over its tokens: (N, C)
    exact_match(model, pairs)         would greedy decoding write the answer? (teacher-forced argmax)

Every prompt starts with the end-of-document byte "\\n", as documents do in the zoo's corpus.
Padding is on the right, so with causal attention it never changes the scores of real tokens.
The byte tokenizer is the default; for another model pass `encode` (text -> ids, e.g.
`lambda s: tok(s, add_special_tokens=False)["input_ids"]`), its `pad` id and `bos=""` as keyword
arguments to any of these functions. Prompt and answer are encoded separately, so the answer starts
at a token boundary. Not an implementation (no Config, no run).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from reference_impls import zoo

IGNORE = -100  # target of positions that carry no loss
Encode = Callable[[str], list[int]]


def pack(
    pairs: list[tuple[str, str]], bos: str = "\n", encode: Encode = zoo.encode, pad: int = zoo.EOS
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids (N, T) of bos + prompt + answer, padded with EOS; targets (N, T): the next token where
    it belongs to the answer, IGNORE elsewhere (so position t predicts target t)."""
    seqs, starts = [], []
    for prompt, answer in pairs:
        p, a = encode(bos + prompt), encode(answer)
        seqs.append(p + a)
        starts.append(len(p))
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)  # (N, T)
    targets = torch.full((len(seqs), width), IGNORE, dtype=torch.long)  # (N, T)
    for i, (s, start) in enumerate(zip(seqs, starts, strict=True)):
        ids[i, : len(s)] = torch.tensor(s)
        targets[i, start - 1 : len(s) - 1] = torch.tensor(s[start:])
    return ids, targets


def answer_loss(model: PreTrainedModel, ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the answer tokens."""
    lg = zoo.logits(model, ids).float()  # (B, T, V)
    return F.cross_entropy(lg.reshape(-1, lg.shape[-1]), targets.reshape(-1), ignore_index=IGNORE)


def finetune(
    model: PreTrainedModel,
    pairs: list[tuple[str, str]],
    steps: int,
    lr: float = 3e-3,
    batch: int = 16,
    seed: int = 0,
    progress=None,
    **tokenizer,
) -> PreTrainedModel:
    """Train on random batches of the pairs (seeded), loss on the answer tokens only; returns the model."""
    g = torch.Generator().manual_seed(seed)

    def batches():
        while True:
            idx = torch.randint(0, len(pairs), (batch,), generator=g).tolist()
            yield pack([pairs[i] for i in idx], **tokenizer)

    zoo.train(
        model,
        batches(),
        steps,
        loss_fn=lambda m, b: answer_loss(m, *b),
        lr=lr,
        warmup=min(20, max(steps // 5, 1)),
        progress=progress,
    )
    return model


@torch.no_grad()
def choice_logprobs(
    model: PreTrainedModel, prompts: list[str], choices: list[str], batch: int = 64, **tokenizer
) -> torch.Tensor:
    """log p(choice | prompt), summed over the choice's tokens: (N, C)."""
    model.eval()
    out = torch.zeros(len(prompts), len(choices))
    for j, choice in enumerate(choices):
        for i in range(0, len(prompts), batch):
            ids, targets = pack([(p, choice) for p in prompts[i : i + batch]], **tokenizer)
            lp = F.log_softmax(zoo.logits(model, ids).float(), dim=-1)  # (B, T, V)
            mask = targets != IGNORE  # (B, T)
            tok = lp.gather(2, targets.clamp(min=0)[..., None])[..., 0]  # (B, T)
            out[i : i + batch, j] = (tok * mask).sum(dim=1)
    return out


@torch.no_grad()
def exact_match(model: PreTrainedModel, pairs: list[tuple[str, str]], batch: int = 64, **tokenizer) -> torch.Tensor:
    """(N,) booleans: greedy decoding after the prompt writes exactly the answer.

    Greedy decoding writes the answer if and only if, fed the answer's own prefix, the argmax at every
    answer position is the answer's next token, so one teacher-forced forward pass decides it.
    """
    model.eval()
    hits = []
    for i in range(0, len(pairs), batch):
        ids, targets = pack(pairs[i : i + batch], **tokenizer)
        pred = zoo.logits(model, ids).argmax(dim=-1)  # (B, T)
        hits.append(((pred == targets) | (targets == IGNORE)).all(dim=1))
    return torch.cat(hits)


def accuracy(predictions: list[str], answers: list[str]) -> float:
    return sum(p == a for p, a in zip(predictions, answers, strict=True)) / max(len(answers), 1)


def classify(
    model: PreTrainedModel, prompts: list[str], labels: list[str], **tokenizer
) -> tuple[list[str], torch.Tensor]:
    """The most likely label of each prompt and the label distribution (N, C) (softmax of log p(label))."""
    lp = choice_logprobs(model, prompts, labels, **tokenizer)  # (N, C)
    probs = torch.softmax(lp, dim=-1)
    return [labels[k] for k in lp.argmax(dim=-1).tolist()], probs
