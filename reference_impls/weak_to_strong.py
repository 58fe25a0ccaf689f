"""Weak-to-strong generalisation: a strong model trained on a weak model's labels beats its teacher.

burns2024weak: a weak model fine-tuned on ground truth labels a held-out set; a strong model is
trained on those weak labels; a strong ceiling is trained on ground truth. How much of the gap the
weak labels recover is the performance gap recovered,

    PGR = (acc(weak-to-strong) - acc(weak)) / (acc(strong ceiling) - acc(weak)),

0 when the strong student only matches its teacher, 1 when it matches the ceiling. The auxiliary
confidence loss lets the student trust itself where it disagrees with the teacher: with the weak
soft labels y_w, the student's probabilities p and its predictions hardened at the threshold t that
gives them the weak labels' class balance within the batch,

    L = CE(p, (1 - a) y_w + a 1[p > t]),    a warmed up linearly from 0 over the first 20% of steps,

which is plain cross-entropy on the weak labels at a = 0 (the repository's `logconf` loss).

The task here is one a byte language model knows about from pretraining: is a short document clean,
or was it corrupted by one edit (two neighbouring words swapped, one word replaced by a random word
of the corpus, or one word duplicated)? Each model reads a document through its own surprisal
profile (summaries of its per-token negative log-likelihoods: mean, spread, peaks, share of
surprising tokens) and a linear head; the heads are what is trained (the models stay frozen, the
linear-probe variant of the paper). The larger zoo models model language better, so their profile
separates corrupted text better, and the weak model's mistakes are not something they can easily
copy. Accuracies are medians over seeds (splits, head initialisation and batch order).
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from reference_impls import tasks, zoo
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
from reference_impls.data_curation import token_nll


@dataclass
class Config:
    weak: str = "zoo-50k"  # the weak supervisor (zoo name or local checkpoint folder)
    strong: str = "zoo-1.3m"  # the strong student and ceiling of the claims
    sweep: tuple[str, ...] = ("zoo-180k", "zoo-660k", "zoo-1.3m")  # strong students of the PGR curve
    alphas: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)  # a values of the PGR-against-a curve
    n_weak: int = 300  # ground-truth examples the weak supervisor is trained on
    n_student: int = 1000  # held-out examples the weak supervisor labels (and the ceiling's truth)
    n_test: int = 1000  # test examples for every accuracy
    max_chars: int = 90  # documents are cut to whole sentences within this length
    alpha: float = 0.75  # a of the confidence loss (the paper's value for large gaps)
    warmup: float = 0.2  # share of the steps over which a rises linearly from 0
    epochs: int = 10  # epochs of the strong heads (student and ceiling)
    weak_epochs: int = 40  # epochs of the weak head (trained to convergence on its small set)
    lr: float = 1e-2  # Adam learning rate of every head
    batch: int = 64  # examples per step (the hardening threshold is set within each batch)
    head_seeds: int = 5  # splits and head initialisations within a run; accuracies and PGR are medians over them
    seed: int = 0  # the zoo's seed, the documents and their corruptions, the splits

    @classmethod
    def quick(cls) -> Config:
        return cls(strong="zoo-180k", sweep=(), alphas=(), n_weak=150, n_student=400, n_test=400, head_seeds=3)


# ---------------------------------------------------------------------------------------------------
# The rule: pure functions


def pgr(weak_acc: float, w2s_acc: float, ceiling_acc: float) -> float:
    """Performance gap recovered: 0 at the weak model's accuracy, 1 at the ceiling's."""
    return (w2s_acc - weak_acc) / (ceiling_acc - weak_acc)


def harden(probs: torch.Tensor, weak_labels: torch.Tensor) -> torch.Tensor:
    """One-hot predictions (B, 2) from probs (B, 2), thresholded so that the share of class 1 is the
    weak soft labels' mean share of class 1 in this batch (burns2024weak's adaptive threshold)."""
    threshold = torch.quantile(probs[:, 0], weak_labels[:, 1].mean())  # ()
    return torch.stack([probs[:, 0] >= threshold, probs[:, 0] < threshold], dim=1).float()  # (B, 2)


def confidence_loss(logits: torch.Tensor, weak_labels: torch.Tensor, alpha: float) -> torch.Tensor:
    """CE(softmax(logits), (1 - a) y_w + a harden(p)); logits (B, 2), weak_labels (B, 2) soft labels."""
    probs = logits.detach().softmax(dim=-1)  # (B, 2)
    target = (1 - alpha) * weak_labels + alpha * harden(probs, weak_labels)  # (B, 2)
    return F.cross_entropy(logits, target)


def surprisal_profile(nll: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Summaries of per-token NLL (B, T) over the real tokens (mask (B, T)): (B, 8) features
    [mean, max, mean of top 3, mean of top 10, std, share > 2 nats, share > 4 nats, log length]."""
    nll = nll * mask
    n = mask.sum(dim=1)  # (B,)
    mean = nll.sum(dim=1) / n  # (B,)
    top = nll.sort(dim=1, descending=True).values  # (B, T)
    std = (((nll - mean[:, None]) ** 2) * mask).sum(dim=1).div(n).sqrt()  # (B,)
    share = lambda t: ((nll > t) * mask).sum(dim=1) / n  # noqa: E731
    cols = [mean, top[:, 0], top[:, :3].mean(1), top[:, :10].mean(1), std, share(2.0), share(4.0), n.log()]
    return torch.stack(cols, dim=1)


def standardise(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """(x - mean(ref)) / std(ref), feature-wise."""
    return (x - ref.mean(0)) / (ref.std(0) + 1e-6)


def train_head(
    x: torch.Tensor,
    targets: torch.Tensor,
    alpha: float = 0.0,
    epochs: int = 10,
    lr: float = 1e-2,
    batch: int = 64,
    warmup: float = 0.2,
    seed: int = 0,
) -> nn.Linear:
    """A linear head on features x (N, d) trained on soft targets (N, 2) with the confidence loss
    (a warmed up from 0 to `alpha` over the first `warmup` of the steps; alpha 0 is plain CE)."""
    g = torch.Generator().manual_seed(seed)
    head = nn.Linear(x.shape[1], 2)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    steps_per_epoch = (len(x) + batch - 1) // batch
    total, step = epochs * steps_per_epoch, 0
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch):
            idx = order[i : i + batch]
            a = alpha * min(1.0, step / (warmup * total)) if warmup > 0 else alpha
            loss = confidence_loss(head(x[idx]), targets[idx], a)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
    return head.eval()


@torch.no_grad()
def accuracy(head: nn.Linear, x: torch.Tensor, labels: torch.Tensor) -> float:
    return (head(x).argmax(-1) == labels).float().mean().item()


# ---------------------------------------------------------------------------------------------------
# The data: clean and corrupted short documents from the zoo's world


def shorten(text: str, max_chars: int) -> str:
    """The longest run of whole leading sentences within max_chars (at least the first sentence)."""
    sentences = text.split(". ")
    out = sentences[0]
    for s in sentences[1:]:
        if len(out) + 2 + len(s) > max_chars:
            break
        out += ". " + s
    return out if out.endswith(".") else out + "."


def corrupt(text: str, rng: random.Random, vocab: list[str]) -> str:
    """One edit: swap two neighbouring words, replace a word by a random one, or duplicate a word."""
    words = text.split()
    kind = rng.randrange(3)
    if kind == 0:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    elif kind == 1:
        words[rng.randrange(len(words))] = rng.choice(vocab)
    else:
        words.insert(rng.randrange(len(words)), words[rng.randrange(len(words))])
    return " ".join(words)


def corruption_task(n: int, max_chars: int, seed: int) -> tuple[list[str], torch.Tensor]:
    """n documents (prose domains), half of them corrupted; labels 1 = clean, 0 = corrupted: (n,)."""
    prose = ("biography", "geography", "story", "recipe")
    docs: list[str] = []
    k = 0
    while len(docs) < n:
        batch = tasks.documents(2 * n, seed=seed * 1000 + k)
        docs += [shorten(t, max_chars) for d, t in batch if d in prose]
        k += 1
    docs = docs[:n]
    vocab = sorted({w for t in docs for w in t.split()})
    rng = random.Random(seed)
    texts, labels = [], []
    for t in docs:
        c = corrupt(t, rng, vocab) if rng.random() < 0.5 else t
        texts.append(c)
        labels.append(int(c == t))
    return texts, torch.tensor(labels)


def features(model, tok, texts: list[str]) -> torch.Tensor:
    """The model's surprisal profile of each text (newline-delimited like the corpus): (N, 8)."""
    ids = [tok("\n" + t + "\n")["input_ids"] for t in texts]
    nll, mask = token_nll(model, ids)  # (N, T-1) each
    return surprisal_profile(nll, mask)


# ---------------------------------------------------------------------------------------------------
# The demo


def experiment(
    weak_x: torch.Tensor,
    strong_x: torch.Tensor,
    labels: torch.Tensor,
    config: Config,
    seed: int,
    alphas: tuple[float, ...] = (),
) -> dict[str, float]:
    """One seed: accuracies of the weak supervisor, the weak-to-strong students (plain CE, the
    confidence loss at config.alpha and at every a of `alphas`) and the strong ceiling, and PGRs."""
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(labels), generator=g)
    a, b = config.n_weak, config.n_weak + config.n_student
    i_weak, i_student, i_test = order[:a], order[a:b], order[b : b + config.n_test]
    hot = F.one_hot(labels, 2).float()  # (N, 2)
    kw = dict(lr=config.lr, batch=config.batch, warmup=config.warmup, seed=seed)

    wx = standardise(weak_x, weak_x[i_weak])
    weak = train_head(wx[i_weak], hot[i_weak], epochs=config.weak_epochs, **kw)
    weak_labels = weak(wx[i_student]).softmax(-1).detach()  # (n_student, 2) soft labels

    sx = standardise(strong_x, strong_x[i_student])
    y = labels[i_test]
    ceiling = train_head(sx[i_student], hot[i_student], epochs=config.epochs, **kw)
    out = {
        "weak_acc": accuracy(weak, wx[i_test], y),
        "ceiling_acc": accuracy(ceiling, sx[i_test], y),
        "weak_label_acc": (weak_labels.argmax(-1) == labels[i_student]).float().mean().item(),
    }
    for name, alpha in (("ce", 0.0), ("aux", config.alpha), *((f"alpha{x}", x) for x in alphas)):
        student = train_head(sx[i_student], weak_labels, alpha=alpha, epochs=config.epochs, **kw)
        out[f"w2s_{name}_acc"] = accuracy(student, sx[i_test], y)
        out[f"pgr_{name}"] = pgr(out["weak_acc"], out[f"w2s_{name}_acc"], out["ceiling_acc"])
    return out


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        seed_everything(config.seed)
        n = config.n_weak + config.n_student + config.n_test
        texts, labels = corruption_task(n, config.max_chars, config.seed)
        names = [config.weak, *dict.fromkeys([config.strong, *config.sweep])]
        feats: dict[str, torch.Tensor] = {}
        params: dict[str, int] = {}
        for i, name in enumerate(names):
            report(progress, 0.95 * i / len(names), f"surprisal profiles: {name}")
            model, tok = zoo.load(name, progress=sub_progress(progress, 0, 0.01), seed=config.seed)
            feats[name] = features(model, tok, texts)
            params[name] = zoo.n_params(model)
        report(progress, 0.95, "training heads")

        def medians(strong: str, alphas: tuple[float, ...] = ()) -> tuple[dict[str, float], list[dict]]:
            runs = [
                experiment(feats[config.weak], feats[strong], labels, config, 1000 * config.seed + s, alphas)
                for s in range(config.head_seeds)
            ]
            return {k: statistics.median(r[k] for r in runs) for k in runs[0]}, runs

        main, runs = medians(config.strong, config.alphas)
        by_alpha = {x: main.pop(f"pgr_alpha{x}") for x in config.alphas}
        for x in config.alphas:
            main.pop(f"w2s_alpha{x}_acc")
        metrics: dict[str, float] = {"documents": n, "clean_share": labels.float().mean().item(), **main}
        lines = {"plain cross-entropy": {"x": [], "y": []}, "confidence loss": {"x": [], "y": []}}
        for strong in config.sweep:
            m = main if strong == config.strong else medians(strong)[0]
            metrics[f"{strong}_ceiling_acc"] = m["ceiling_acc"]
            metrics[f"{strong}_pgr_ce"] = m["pgr_ce"]
            metrics[f"{strong}_pgr_aux"] = m["pgr_aux"]
            for label, key in (("plain cross-entropy", "pgr_ce"), ("confidence loss", "pgr_aux")):
                lines[label]["x"].append(params[strong])
                lines[label]["y"].append(m[key])
        series = {}
        if config.alphas:
            for x, v in by_alpha.items():
                metrics[f"pgr_alpha_{x}"] = v
            series["pgr_by_alpha"] = {
                "title": f"PGR of {config.strong} against the weight a of the confidence loss (median)",
                "xlabel": "a (0 = plain cross-entropy)",
                "ylabel": "PGR",
                "lines": {"confidence loss": {"x": list(by_alpha), "y": list(by_alpha.values())}},
            }
        if config.sweep:
            series["pgr_by_strong_size"] = {
                "title": f"Performance gap recovered from {config.weak} labels (median over seeds)",
                "xlabel": "strong student parameters",
                "ylabel": "PGR",
                "lines": lines,
            }
        findings = [
            Finding.compare(f"a strong student ({config.strong}) trained on the weak supervisor's labels beats its supervisor: PGR with plain cross-entropy > 0",
                            "burns2024weak", main["pgr_ce"], ">", 0.0, "PGR", "0 (the supervisor)"),
            Finding.compare("the auxiliary confidence loss recovers more of the gap than plain cross-entropy (PGR)",
                            "burns2024weak", main["pgr_aux"], ">", main["pgr_ce"], "confidence loss", "cross-entropy"),
        ]  # fmt: skip
        checks = [
            Check.compare(f"the setting: the strong ceiling ({config.strong} on true labels) beats the weak supervisor ({config.weak})", main["ceiling_acc"], ">", main["weak_acc"]),
        ]  # fmt: skip
        report(progress, 1.0, "done")
    labels = {
        "weak_acc": f"test accuracy, weak supervisor ({config.weak})",
        "w2s_ce_acc": "test accuracy, strong student on weak labels, cross-entropy",
        "w2s_aux_acc": "test accuracy, strong student on weak labels, confidence loss",
        "ceiling_acc": f"test accuracy, strong ceiling ({config.strong} on true labels)",
        "pgr_ce": "PGR, cross-entropy",
        "pgr_aux": "PGR, confidence loss",
    }
    return Result(
        "weak-to-strong", config_dict(config), metrics, findings, checks, timer.seconds, series=series, labels=labels
    )
