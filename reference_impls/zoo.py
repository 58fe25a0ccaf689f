"""The tiny model zoo: Llama-shaped causal LMs from ~50k to ~1.3M parameters, one byte tokenizer, one corpus.

The models are built from `transformers.LlamaConfig` and trained here, deterministically (fixed seed,
one torch thread), on `reference_impls/corpus/train.jsonl` (see its README). Nothing is downloaded.
Each trained model is cached in `<cache>/zoo/<name>-<hash>` where `<cache>` is $SMATLAS_CACHE, else
$XDG_CACHE_HOME/smatlas, else ~/.cache/smatlas, and the hash covers the model's config, the
training settings, the corpus bytes and the torch/transformers versions; a missing model is trained
on first use with a progress bar.

    model, tok = zoo.load("zoo-1.3m")          # a LlamaForCausalLM and the byte tokenizer
    zoo.perplexity(model)                       # held-out perplexity (bytes)
    zoo.names()                                 # smallest first

The tokenizer is the 256 bytes of UTF-8: no tokenizer file, and the newline byte ends a document.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedModel

from reference_impls.common import Progress, Timer, report, set_threads

ZOO_VERSION = 1  # bump to invalidate every cached model
CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
VOCAB = 256  # bytes
EOS = 10  # "\n" ends a document


@dataclass(frozen=True)
class Spec:
    """Shape of one zoo model (Llama: RMSNorm, rotary positions, SwiGLU MLP, tied embeddings)."""

    name: str
    hidden: int  # model width d
    layers: int  # decoder blocks
    heads: int  # attention heads (no grouped-query attention)
    intermediate: int  # SwiGLU width
    lr: float  # peak learning rate (larger models are unstable at the smaller ones' rate)


@dataclass(frozen=True)
class TrainConfig:
    """How every zoo model is trained (the same data, steps and seed for every size)."""

    steps: int = 300  # optimiser steps
    batch: int = 16  # sequences per step
    seq_len: int = 64  # bytes per sequence
    warmup: int = 30  # linear warm-up steps, then cosine decay to lr/10
    weight_decay: float = 0.01  # AdamW weight decay
    seed: int = 0  # initialisation and batch-order seed


SPECS = (
    Spec("zoo-50k", hidden=40, layers=2, heads=2, intermediate=112, lr=3e-3),
    Spec("zoo-180k", hidden=64, layers=3, heads=4, intermediate=192, lr=3e-3),
    Spec("zoo-660k", hidden=112, layers=4, heads=4, intermediate=320, lr=2e-3),
    Spec("zoo-1.3m", hidden=160, layers=4, heads=4, intermediate=448, lr=7e-4),
)
TRAIN = TrainConfig()

# Larger models for demos that need a target far costlier than a zoo model (speculative decoding).
# Not in `names()`: only `load(name)` builds them, each with its own (shorter) training settings.
LARGE_SPECS = (Spec("zoo-25m", hidden=512, layers=8, heads=8, intermediate=1376, lr=1e-3),)
LARGE_TRAIN = {"zoo-25m": TrainConfig(steps=100, warmup=20)}


class ByteTokenizer:
    """UTF-8 bytes as token ids 0..255. `encode(text) -> list[int]`, `decode(ids) -> str`."""

    vocab_size = VOCAB
    eos_token_id = EOS

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: list[int] | torch.Tensor) -> str:
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return bytes(int(i) for i in ids).decode("utf-8", errors="replace")

    def __call__(self, text: str) -> dict[str, list[int]]:
        return {"input_ids": self.encode(text)}


TOKENIZER = ByteTokenizer()


def encode(text: str) -> list[int]:
    return TOKENIZER.encode(text)


def decode(ids: list[int] | torch.Tensor) -> str:
    return TOKENIZER.decode(ids)


def names() -> list[str]:
    """Zoo model names, smallest first."""
    return [s.name for s in SPECS]


def spec(name: str) -> Spec:
    for s in SPECS + LARGE_SPECS:
        if s.name == name:
            return s
    raise KeyError(f"no zoo model {name!r}; choose from {names() + [s.name for s in LARGE_SPECS]}")


def training_settings(name: str, seed: int = 0) -> TrainConfig:
    """The training settings of a zoo model: TRAIN, or the large model's own, with its seed.

    Seed 0 is the zoo every quick run and test uses; a multi-seed run trains a zoo per seed, so the
    spread over seeds covers the models' training as well as the experiment's own randomness.
    """
    return replace(LARGE_TRAIN.get(name, TRAIN), seed=seed)


def config(name_or_spec: str | Spec) -> LlamaConfig:
    """The transformers config of a zoo model."""
    s = spec(name_or_spec) if isinstance(name_or_spec, str) else name_or_spec
    return LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=s.hidden,
        num_hidden_layers=s.layers,
        num_attention_heads=s.heads,
        num_key_value_heads=s.heads,
        intermediate_size=s.intermediate,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=EOS,
        pad_token_id=None,
    )


def fresh(name_or_spec: str | Spec, seed: int = 0) -> LlamaForCausalLM:
    """An untrained zoo-shaped model, initialised from `seed`."""
    torch.manual_seed(seed)
    return LlamaForCausalLM(config(name_or_spec)).eval()


def n_params(model: torch.nn.Module) -> int:
    """Parameter count (tied weights counted once)."""
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------------
# The corpus


@cache
def _corpus_bytes(split: str) -> bytes:
    return (CORPUS_DIR / f"{split}.jsonl").read_bytes()


def documents(split: str = "train") -> list[dict[str, str]]:
    """The corpus documents of a split ("train" or "heldout"): [{"domain", "text"}]."""
    return [json.loads(line) for line in _corpus_bytes(split).decode("ascii").splitlines()]


@cache
def _tokens(split: str) -> torch.Tensor:
    text = "".join(d["text"] + "\n" for d in documents(split))
    return torch.tensor(encode(text), dtype=torch.long)


def tokens(split: str = "train") -> torch.Tensor:
    """The split as one stream of byte ids, documents separated by "\\n": (N,)."""
    return _tokens(split)


def corpus_hash() -> str:
    h = hashlib.sha256()
    for split in ("train", "heldout"):
        h.update(_corpus_bytes(split))
    return h.hexdigest()


def random_windows(ids: torch.Tensor, n: int, seq_len: int, generator: torch.Generator) -> torch.Tensor:
    """`n` random windows of `seq_len` tokens from a token stream: (n, seq_len)."""
    starts = torch.randint(0, len(ids) - seq_len, (n,), generator=generator)  # (n,)
    return torch.stack([ids[s : s + seq_len] for s in starts.tolist()])  # (n, T)


def windows(ids: torch.Tensor, seq_len: int, max_tokens: int | None = None) -> torch.Tensor:
    """Consecutive non-overlapping windows: (N // seq_len, seq_len)."""
    if max_tokens is not None:
        ids = ids[:max_tokens]
    n = len(ids) // seq_len
    return ids[: n * seq_len].view(n, seq_len)


# ---------------------------------------------------------------------------------------------------
# Evaluation and training, for any causal LM


def logits(model: PreTrainedModel, input_ids: torch.Tensor) -> torch.Tensor:
    """Next-token logits (B, T, V) of any transformers causal LM."""
    return model(input_ids=input_ids).logits


@torch.no_grad()
def mean_nll(model: PreTrainedModel, x: torch.Tensor, batch: int = 64) -> float:
    """Mean next-token negative log-likelihood (nats) over the windows x: (N, T)."""
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(x), batch):
        xb = x[i : i + batch]  # (B, T)
        lg = logits(model, xb)[:, :-1].float()  # (B, T-1, V)
        total += F.cross_entropy(lg.reshape(-1, lg.shape[-1]), xb[:, 1:].reshape(-1), reduction="sum").item()
        count += xb[:, 1:].numel()
    return total / count


def perplexity(
    model: PreTrainedModel,
    ids: torch.Tensor | None = None,
    seq_len: int = 128,
    max_tokens: int | None = 32768,
) -> float:
    """exp(mean NLL) on non-overlapping windows of a token stream (default: the held-out split)."""
    ids = tokens("heldout") if ids is None else ids
    return math.exp(mean_nll(model, windows(ids, seq_len, max_tokens)))


def lm_loss(model: PreTrainedModel, x: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of next-token prediction on windows x: (B, T)."""
    lg = logits(model, x)[:, :-1]  # (B, T-1, V)
    return F.cross_entropy(lg.reshape(-1, lg.shape[-1]), x[:, 1:].reshape(-1))


def train(
    model: PreTrainedModel,
    batches: Iterator[torch.Tensor],
    steps: int,
    loss_fn: Callable[[PreTrainedModel, torch.Tensor], torch.Tensor] = lm_loss,
    lr: float = 3e-3,
    warmup: int = 30,
    weight_decay: float = 0.01,
    progress: Callable[[int], None] | None = None,
) -> list[float]:
    """AdamW with linear warm-up and cosine decay to lr/10; returns the loss of every step."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=weight_decay)
    warmup = min(warmup, max(steps // 4, 1))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        t = (step - warmup) / max(steps - warmup, 1)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    model.train()
    losses = []
    for step in range(steps):
        loss = loss_fn(model, next(batches))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if progress is not None:
            progress(step)
    model.eval()
    return losses


def batch_stream(ids: torch.Tensor, batch: int, seq_len: int, seed: int) -> Iterator[torch.Tensor]:
    """An endless, seeded stream of random windows (batch, seq_len) from a token stream."""
    g = torch.Generator().manual_seed(seed)
    while True:
        yield random_windows(ids, batch, seq_len, g)


@torch.no_grad()
def generate(
    model: PreTrainedModel,
    prompts: torch.Tensor,
    n_new: int,
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Continue prompts (B, P) by n_new tokens with a KV cache: greedy at temperature 0, else sampled.

    Never stops early (no end-of-sequence handling), so every row has P + n_new tokens: (B, P + n_new).
    """
    model.eval()
    out = model(input_ids=prompts, use_cache=True)
    cache, seq = out.past_key_values, prompts
    for i in range(n_new):
        lg = out.logits[:, -1].float()  # (B, V)
        if temperature == 0:
            nxt = lg.argmax(dim=-1)  # (B,)
        else:
            nxt = torch.multinomial(torch.softmax(lg / temperature, dim=-1), 1, generator=generator)[:, 0]
        seq = torch.cat([seq, nxt[:, None]], dim=1)  # (B, P + i + 1)
        if i + 1 < n_new:
            out = model(input_ids=nxt[:, None], past_key_values=cache, use_cache=True)
            cache = out.past_key_values
    return seq


def document_prompts(split: str, n: int, length: int, seed: int = 0) -> torch.Tensor:
    """ "\n" plus the first length-1 bytes of n random documents at least 2*length long: (n, length)."""
    docs = [d["text"] for d in documents(split) if len(d["text"]) >= 2 * length]
    g = torch.Generator().manual_seed(seed)
    pick = torch.randperm(len(docs), generator=g)[:n].tolist()
    return torch.tensor([encode("\n" + docs[i][: length - 1]) for i in pick], dtype=torch.long)


# ---------------------------------------------------------------------------------------------------
# The cache


def cache_root() -> Path:
    """$SMATLAS_CACHE, else $XDG_CACHE_HOME/smatlas, else ~/.cache/smatlas."""
    if os.environ.get("SMATLAS_CACHE"):
        return Path(os.environ["SMATLAS_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "smatlas"


def model_dir(name: str, train_config: TrainConfig | None = None, seed: int = 0) -> Path:
    """Where a zoo model is cached; the folder name carries the hash of everything that shapes it."""
    import transformers

    train_config = train_config or training_settings(name, seed)

    key = json.dumps(
        {
            "zoo": ZOO_VERSION,
            "spec": asdict(spec(name)),
            "train": asdict(train_config),
            "corpus": corpus_hash(),
            "torch": torch.__version__.split("+")[0],
            "transformers": transformers.__version__,
        },
        sort_keys=True,
    )
    return cache_root() / "zoo" / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def is_cached(name: str, seed: int = 0) -> bool:
    return (model_dir(name, seed=seed) / "zoo.json").exists()


def train_model(
    name: str, train_config: TrainConfig | None = None, progress: Callable[[int], None] | None = None
) -> LlamaForCausalLM:
    """Train one zoo model from scratch (deterministic given the thread count); returns it."""
    train_config = train_config or training_settings(name)
    model = fresh(name, seed=train_config.seed)
    stream = batch_stream(tokens("train"), train_config.batch, train_config.seq_len, seed=train_config.seed)
    train(
        model,
        stream,
        train_config.steps,
        lr=spec(name).lr,
        warmup=train_config.warmup,
        weight_decay=train_config.weight_decay,
        progress=progress,
    )
    return model


@contextmanager
def cache_lock(name: str) -> Iterator[None]:
    """Hold an exclusive lock on `<cache>/locks/<name>.lock`, so that processes running side by side
    (seeds in parallel, test workers) build a cached model once instead of racing to write it."""
    import fcntl

    folder = cache_root() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_atomic(model: PreTrainedModel, final: Path, meta: dict) -> None:
    """Write a model and its zoo.json to `final` atomically (save to a temporary folder, rename)."""
    tmp = final.with_name(final.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model.save_pretrained(tmp)
    (tmp / "zoo.json").write_text(json.dumps(meta, indent=1) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)


def _save(name: str, model: PreTrainedModel, seconds: float, seed: int) -> None:
    """Write a trained model to its cache folder atomically."""
    meta = {"name": name, "seed": seed, "params": n_params(model), "train_seconds": round(seconds, 2)}
    meta["heldout_ppl"] = perplexity(model)
    save_atomic(model, model_dir(name, seed=seed), meta)


def _worker(seed: int, todo: list[str]) -> None:
    """Train and cache models one after the other on one thread, reporting every step on stdout."""
    set_threads(1)
    for name in todo:
        with Timer() as t:
            model = train_model(
                name,
                training_settings(name, seed),
                progress=lambda step, name=name: print("step", name, step, flush=True),
            )
        _save(name, model, t.seconds, seed)
        print("done", name, t.seconds, flush=True)


def build(
    which: list[str] | None = None, progress: Progress | None = None, bar: bool = True, seed: int = 0
) -> dict[str, float]:
    """Train and cache the zoo models that are missing; returns seconds per model trained.

    Models train in $SMATLAS_ZOO_WORKERS subprocesses (default: 2 when there are 2 cores), one torch
    thread each, the largest first; a model's weights do not depend on which worker trained it.
    """
    todo = [n for n in (which or names()) if not is_cached(n, seed)]
    if not todo:
        return {}
    with cache_lock(f"zoo-seed{seed}"):
        todo = [n for n in todo if not is_cached(n, seed)]  # another process may have built them meanwhile
        return _build(todo, seed, progress, bar) if todo else {}


def _build(todo: list[str], seed: int, progress: Progress | None, bar: bool) -> dict[str, float]:
    import queue
    import subprocess
    import sys
    import threading

    cost = {n: n_params(fresh(n)) for n in todo}  # training time is about proportional to size
    workers = min(len(todo), int(os.environ.get("SMATLAS_ZOO_WORKERS", min(2, os.cpu_count() or 1))))
    shares: list[list[str]] = [[] for _ in range(workers)]
    for n in sorted(todo, key=cost.__getitem__, reverse=True):  # longest job first, least loaded worker
        min(shares, key=lambda share: sum(cost[m] for m in share)).append(n)
    pbar = None
    if bar:
        from tqdm.auto import tqdm

        pbar = tqdm(
            total=sum(training_settings(n).steps for n in todo), desc="building the zoo", unit="step", leave=False
        )
    lines: queue.Queue[str | None] = queue.Queue()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parent.parent), *sys.path]),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "reference_impls.zoo", str(seed), *share], stdout=subprocess.PIPE, text=True, env=env
        )
        for share in shares
    ]

    def pump(stream) -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    for p in procs:
        threading.Thread(target=pump, args=(p.stdout,), daemon=True).start()
    seconds: dict[str, float] = {}
    steps = {n: 0 for n in todo}
    total, open_streams = sum(cost.values()), len(procs)
    try:
        while open_streams:
            line = lines.get()
            if line is None:
                open_streams -= 1
                continue
            kind, name, value = line.split()
            if kind == "step":
                steps[name] = int(value) + 1
                if pbar is not None:
                    pbar.update(1)
                    pbar.set_postfix_str(name)
            elif kind == "done":
                seconds[name] = float(value)
            done = sum(cost[n] * steps[n] / training_settings(n).steps for n in todo)
            report(progress, done / total, "building the zoo")
    finally:
        for p in procs:
            p.wait()
        if pbar is not None:
            pbar.close()
    if any(p.returncode for p in procs) or len(seconds) < len(todo):
        raise RuntimeError("building the zoo failed; see the worker's traceback above")
    return seconds


def load(name_or_path: str, progress: Progress | None = None, seed: int = 0):
    """(model, tokenizer): a zoo model by name (trained and cached on first use) or a local checkpoint.

    `seed` picks the zoo: seed 0 is the one every quick run uses; multi-seed runs train one per seed.

    A local folder is read with `AutoModelForCausalLM.from_pretrained`; its tokenizer with
    `AutoTokenizer` when the folder has one, else the byte tokenizer (vocabulary of 256).
    """
    if os.path.isdir(name_or_path):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model = AutoModelForCausalLM.from_pretrained(name_or_path).eval()
        try:
            tok = AutoTokenizer.from_pretrained(name_or_path)
        except (OSError, ValueError):
            tok = TOKENIZER
        return model, tok
    spec(name_or_path)  # a clear error for an unknown name
    build([name_or_path], progress=progress, seed=seed)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a progress bar per load of a 40-tensor model is only noise
    model = LlamaForCausalLM.from_pretrained(model_dir(name_or_path, seed=seed)).eval()
    return model, TOKENIZER


def info(name: str, seed: int = 0) -> dict:
    """What the cache recorded when the model was built: params, train_seconds, heldout_ppl."""
    build([name], seed=seed)
    return json.loads((model_dir(name, seed=seed) / "zoo.json").read_text())


if __name__ == "__main__":  # the build's worker process: python -m reference_impls.zoo SEED NAME...
    import sys

    _worker(int(sys.argv[1]), sys.argv[2:])


def describe(seeds: list[int]) -> dict:
    """What `results/zoo.json` holds: each model's shape, training settings and held-out perplexity
    over the zoo's seeds (the large target only for seed 0, when it has been built), and the corpus."""
    models = []
    for s in SPECS + LARGE_SPECS:
        large = s.name not in names()
        if large and not is_cached(s.name):
            continue
        runs = [info(s.name, seed) for seed in ([0] if large else seeds)]
        ppl = [r["heldout_ppl"] for r in runs]
        t = training_settings(s.name)
        mean = sum(ppl) / len(ppl)
        std = (sum((p - mean) ** 2 for p in ppl) / (len(ppl) - 1)) ** 0.5 if len(ppl) > 1 else 0.0
        models.append(
            {"name": s.name, "d_model": s.hidden, "layers": s.layers, "heads": s.heads, "mlp": s.intermediate,
             "params": runs[0]["params"], "steps": t.steps, "batch": t.batch, "seq_len": t.seq_len, "lr": s.lr,
             "heldout_ppl": mean, "heldout_ppl_std": std, "heldout_ppl_seeds": ppl,
             "seeds": [0] if large else list(seeds), "in_names": not large}
        )  # fmt: skip
    docs = documents("train") + documents("heldout")
    corpus = {
        "bytes": sum(len(_corpus_bytes(split)) for split in ("train", "heldout")),
        "documents": len(docs),
        "domains": sorted({d["domain"] for d in docs}),
        "description": "generated by reference_impls/corpus/generate.py from invented facts and templates (see corpus/README.md)",
    }
    return {"models": models, "corpus": corpus}
