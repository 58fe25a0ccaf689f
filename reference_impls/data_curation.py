"""Data curation with small models: perplexity filtering, DSIR importance resampling, a quality classifier.

A raw pool of N documents is cut to exactly k = round(f N) by one of three selectors, each cheap
enough to run over a whole crawl:

    perplexity filter (wenzek2020ccnet; ankner2024perplexed)
        score_i = mean NLL of document i under a small reference LM trained on target-domain text;
        keep a band of the ranking: "low" (the k lowest, CCNet's head bucket), "middle" (the k
        around the median) or "high" (the k highest), the three selection criteria of Ankner et al.
    DSIR (xie2023data)
        hashed n-gram features h_i (word unigrams and bigrams into B buckets); bag-of-n-grams
        models p_target and p_raw fitted on a target sample and on the pool (add-one smoothing);
        importance log-weight  log w_i = sum_j h_ij (log p_target(j) - log p_raw(j));
        resample k without replacement by Gumbel top-k: the k largest log w_i + G_i, G_i ~ Gumbel(0, 1).
    quality classifier (penedo2024fineweb)
        a larger model annotates a sample of the pool with a 0-5 quality score (here: how many of five
        thresholds its per-byte NLL falls below, the thresholds being quantiles of its NLL on target
        text); a linear regression head on a small model's embeddings (mean-pooled hidden states)
        learns to predict that score; keep the k highest predictions (FineWeb-Edu keeps score >= 3).

The pool has a known mix: clean in-domain documents (fresh draws from the zoo corpus's world and
domains), off-domain documents (server logs, code, weather reports, price lists: templates the zoo
never saw) and corrupted in-domain documents (character noise, shuffled words, spam-like
repetition). The demo measures each selector's precision for clean in-domain documents, trains one
fresh zoo-shaped model per selected subset and one on a random subset of the same size (same steps,
same seed) and compares their perplexity on the held-out corpus, and checks that DSIR with a target
sample drawn from the raw distribution itself selects the pool's mix.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

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
)

KINDS = ("clean", "off-domain", "corrupted")


@dataclass
class Config:
    pool: int = 2000  # documents in the raw pool
    mix: tuple[float, float, float] = (0.4, 0.3, 0.3)  # shares of clean, off-domain and corrupted documents
    keep: float = 0.25  # keep fraction f: every selector keeps exactly round(f * pool) documents
    reference: str = "zoo-50k"  # small reference LM of the perplexity filter (trained on the corpus)
    band: str = "low"  # perplexity band of the claims: "low", "middle" or "high"
    buckets: int = 10000  # DSIR hash buckets
    target_docs: int = 2000  # corpus training documents forming DSIR's target sample
    annotator: str = "zoo-1.3m"  # the larger model whose quality scores the classifier learns
    embedder: str = "zoo-50k"  # the small model whose mean-pooled hidden states the classifier reads
    annotate: int = 600  # pool documents the annotator scores (80% train the classifier, 20% test it)
    annotator_calibration: int = 200  # target documents whose NLL quantiles set the annotator's thresholds
    ridge: float = 1.0  # L2 penalty of the classifier's regression head
    trainee: str = "zoo-180k"  # zoo shape trained from scratch on each subset
    train: tuple[str, ...] = ("perplexity", "dsir", "classifier")  # selectors whose subsets are trained on
    steps: int = 200  # training steps on each subset
    lr: float | None = None  # peak learning rate of the trainee (None: the zoo's rate for its shape)
    batch: int = 16  # sequences per step
    seq_len: int = 64  # tokens per sequence
    eval_tokens: int = 16384  # held-out corpus tokens for perplexity
    curve: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # keep fractions of the plot
    draws: int = 100  # Gumbel draws averaged in the target = raw check
    seed: int = 0  # the zoo's seed, pool, Gumbel noise, random subset and training seed

    @classmethod
    def quick(cls) -> Config:
        return cls(
            pool=800,
            keep=0.3,
            annotate=200,
            annotator="zoo-180k",
            target_docs=600,
            trainee="zoo-50k",
            train=("dsir",),  # at this scale training noise hides the other two subsets' smaller gains
            steps=300,
            batch=8,
            seq_len=32,
            eval_tokens=4096,
            draws=50,
        )


# ---------------------------------------------------------------------------------------------------
# Scoring documents with a causal LM (also used by llm_evaluation and weak_to_strong)


@torch.no_grad()
def token_nll(
    model: PreTrainedModel, seqs: list[list[int]], batch: int = 64, pooled: bool = False
) -> tuple[torch.Tensor, ...]:
    """Per-token next-token NLL of token-id sequences, right-padded: nll (N, T-1), mask (N, T-1).

    Right padding is harmless for a causal LM: no real token attends to the padding after it.
    Sequences are batched by length to keep padding short. With pooled=True also returns the
    last hidden state averaged over each sequence's tokens: (N, d).
    """
    model.eval()
    n, longest = len(seqs), max(len(s) for s in seqs)
    nll, mask = torch.zeros(n, longest - 1), torch.zeros(n, longest - 1)
    pool = None
    order = sorted(range(n), key=lambda i: len(seqs[i]))
    for start in range(0, n, batch):
        idx = order[start : start + batch]
        width = max(len(seqs[i]) for i in idx)
        ids = torch.tensor([seqs[i] + [0] * (width - len(seqs[i])) for i in idx])  # (B, W)
        real = torch.tensor([[1.0] * len(seqs[i]) + [0.0] * (width - len(seqs[i])) for i in idx])  # (B, W)
        out = model(input_ids=ids, output_hidden_states=pooled)
        lg = out.logits[:, :-1].float()  # (B, W-1, V)
        tok_nll = F.cross_entropy(lg.transpose(1, 2), ids[:, 1:], reduction="none")  # (B, W-1)
        nll[idx, : width - 1] = tok_nll * real[:, 1:]
        mask[idx, : width - 1] = real[:, 1:]
        if pooled:
            h = out.hidden_states[-1].float()  # (B, W, d)
            if pool is None:
                pool = torch.zeros(n, h.shape[-1])
            pool[idx] = (h * real[..., None]).sum(1) / real.sum(1, keepdim=True)
    return (nll, mask, pool) if pooled else (nll, mask)


def mean_nll(nll: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean NLL per sequence (nats per token): (N,)."""
    return (nll * mask).sum(1) / mask.sum(1)


# ---------------------------------------------------------------------------------------------------
# Selectors: pure functions returning the indices of exactly k documents


def band_select(scores: torch.Tensor, k: int, band: str = "low") -> torch.Tensor:
    """Indices of the k documents in the "low", "middle" or "high" band of scores (N,)."""
    order = torch.argsort(scores, stable=True)  # ascending
    start = {"low": 0, "middle": (len(scores) - k) // 2, "high": len(scores) - k}[band]
    return order[start : start + k]


def hashed_ngrams(text: str, buckets: int) -> torch.Tensor:
    """Counts of the text's word unigrams and bigrams hashed into `buckets`: (buckets,)."""
    words = text.lower().split()
    grams = words + [a + " " + b for a, b in zip(words, words[1:], strict=False)]
    idx = torch.tensor([zlib.crc32(g.encode()) % buckets for g in grams], dtype=torch.long)
    return torch.bincount(idx, minlength=buckets).float()


def ngram_log_probs(counts: torch.Tensor) -> torch.Tensor:
    """Add-one smoothed log-probabilities of the buckets from summed counts (B,) or (N, B): (B,)."""
    total = counts.reshape(-1, counts.shape[-1]).sum(0) + 1  # (B,)
    return torch.log(total / total.sum())


def dsir_log_weights(features: torch.Tensor, log_p_target: torch.Tensor, log_p_raw: torch.Tensor) -> torch.Tensor:
    """log w_i = sum_j h_ij (log p_target(j) - log p_raw(j)); features (N, B) -> (N,)."""
    return features @ (log_p_target - log_p_raw)


def gumbel_top_k(log_weights: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """k indices sampled without replacement with probabilities proportional to exp(log_weights)."""
    u = torch.rand(log_weights.shape, generator=generator, dtype=torch.float64).clamp_min(1e-30)
    gumbel = -torch.log(-torch.log(u))  # (N,)
    return torch.topk(log_weights.double() + gumbel, k).indices


def effective_sample_size(log_weights: torch.Tensor) -> float:
    """(sum w)^2 / sum w^2 of the importance weights: N when they are all equal."""
    w = torch.exp(log_weights.double() - log_weights.double().max())
    return (w.sum() ** 2 / (w**2).sum()).item()


def inclusion_dispersion(counts: torch.Tensor, draws: int, k: int) -> float:
    """Variance of the documents' inclusion counts (N,) over `draws` selections of k, relative to
    uniform sampling's binomial variance draws p (1 - p), p = k / N: about 1 when uniform."""
    p = k / len(counts)
    return (counts.float().var() / (draws * p * (1 - p))).item()


def annotate(nll: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
    """The annotator's 0-5 score: how many of the thresholds `edges` (5,) the NLL (N,) is at or below."""
    return (nll[:, None] <= edges[None, :]).sum(1).float()


def fit_ridge(x: torch.Tensor, y: torch.Tensor, penalty: float) -> torch.Tensor:
    """Closed-form ridge regression with an unpenalised bias: weights (d + 1,) for [x, 1]."""
    x1 = torch.cat([x, torch.ones(len(x), 1)], dim=1).double()  # (N, d+1)
    reg = penalty * torch.eye(x1.shape[1], dtype=torch.float64)
    reg[-1, -1] = 0.0
    return torch.linalg.solve(x1.T @ x1 + reg, x1.T @ y.double()).float()


def predict_ridge(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return torch.cat([x, torch.ones(len(x), 1)], dim=1) @ w  # (N,)


def f1(pred: torch.Tensor, true: torch.Tensor) -> float:
    """F1 of boolean predictions against boolean labels."""
    tp = (pred & true).sum().item()
    return 2 * tp / max(pred.sum().item() + true.sum().item(), 1)


def precision(selected: torch.Tensor, is_clean: torch.Tensor) -> float:
    return is_clean[selected].float().mean().item()


# ---------------------------------------------------------------------------------------------------
# The raw pool: clean, off-domain and corrupted documents (one line each, no newlines)


def _log_line(rng: random.Random, w: tasks.World) -> str:
    lines = []
    for _ in range(rng.randrange(2, 5)):
        level = rng.choice(["INFO", "INFO", "WARN", "ERROR"])
        lines.append(
            f"2031-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d} {rng.randrange(24):02d}:"
            f"{rng.randrange(60):02d}:{rng.randrange(60):02d} {level} worker-{rng.randrange(16)} "
            f"{rng.choice(['finished', 'started', 'retried', 'dropped'])} job {rng.randrange(10000)} "
            f"in {rng.randrange(1, 999)} ms;"
        )
    return " ".join(lines)


def _code(rng: random.Random, w: tasks.World) -> str:
    a, b, n = rng.choice("xyzabc"), rng.choice("ijkmn"), rng.randrange(2, 50)
    body = rng.choice(
        [
            f"{a}[{b}] = {a}[{b} - 1] * {rng.randrange(2, 9)} + {rng.randrange(10)}",
            f"total += {a}[{b}] ** 2",
            f"if {a}[{b}] > {rng.randrange(100)}: count += 1",
        ]
    )
    return f"def f({a}): total = 0; count = 0; for {b} in range(1, {n}): {body}; return total, count"


def _weather(rng: random.Random, w: tasks.World) -> str:
    city = rng.choice(w.cities).name
    day = rng.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
    return (
        f"Weather for {city}, {day}: wind {rng.randrange(2, 60)} km/h from the "
        f"{rng.choice(['north', 'south', 'east', 'west'])}, rain {rng.randrange(0, 30)} mm, "
        f"high {rng.randrange(10, 35)} C, low {rng.randrange(-5, 10)} C, "
        f"pressure {rng.randrange(980, 1040)} hPa."
    )


def _prices(rng: random.Random, w: tasks.World) -> str:
    items = rng.sample(tasks.FOODS + tasks.INGREDIENTS + tasks.OBJECTS, rng.randrange(3, 7))
    cells = [f"{it} {rng.randrange(1, 40)}.{rng.randrange(100):02d}" for it in items]
    return "PRICE LIST | " + " | ".join(cells) + f" | total {rng.randrange(20, 200)}.{rng.randrange(100):02d}"


OFF_DOMAIN = (_log_line, _code, _weather, _prices)


def corrupt(text: str, rng: random.Random) -> str:
    """Character noise (15-35% of letters replaced), all words shuffled, or spam-like repetition."""
    kind = rng.randrange(3)
    if kind == 0:
        rate = rng.uniform(0.15, 0.35)
        letters = "abcdefghijklmnopqrstuvwxyz"
        return "".join(rng.choice(letters) if c.isalpha() and rng.random() < rate else c for c in text)
    words = text.split()
    if kind == 1:
        rng.shuffle(words)
        return " ".join(words)
    start = rng.randrange(max(len(words) - 3, 1))
    phrase = " ".join(words[start : start + 3])
    return " ".join([phrase] * rng.randrange(4, 9))


def raw_pool(n: int, mix: tuple[float, float, float], seed: int) -> tuple[list[str], torch.Tensor]:
    """n documents and their kinds (N,) (0 clean, 1 off-domain, 2 corrupted), shuffled, exact counts."""
    rng = random.Random(seed)
    w = tasks.world()
    counts = [round(m * n) for m in mix[:2]]
    counts.append(n - sum(counts))
    clean = [t for _, t in tasks.documents(counts[0] + counts[2], seed=10_000 + seed, w=w)]
    docs = clean[: counts[0]]
    docs += [rng.choice(OFF_DOMAIN)(rng, w) for _ in range(counts[1])]
    docs += [corrupt(t, rng) for t in clean[counts[0] :]]
    kinds = [0] * counts[0] + [1] * counts[1] + [2] * counts[2]
    order = list(range(n))
    rng.shuffle(order)
    return [docs[i] for i in order], torch.tensor([kinds[i] for i in order])


# ---------------------------------------------------------------------------------------------------
# The demo


def train_on(docs: list[str], config: Config, tok) -> float:
    """Held-out corpus perplexity of a fresh `trainee`-shaped model trained on the documents."""
    ids = torch.tensor([t for d in docs for t in tok(d + "\n")["input_ids"]])
    model = zoo.fresh(config.trainee, seed=config.seed)
    stream = zoo.batch_stream(ids, config.batch, config.seq_len, seed=config.seed)
    lr = config.lr or zoo.spec(config.trainee).lr
    zoo.train(model, stream, config.steps, lr=lr, warmup=min(30, config.steps // 4))
    return zoo.perplexity(model, zoo.tokens("heldout"), seq_len=128, max_tokens=config.eval_tokens)


def quality_classifier(docs, kinds, target, ref_pooled, g, config: Config) -> tuple[torch.Tensor, dict[str, float]]:
    """The annotator scores a sample of the pool 0-5 (thresholds from its NLL on target text); a ridge
    head on the embedder's mean-pooled states learns the score: predictions (N,), F1, mean scores."""
    big, big_tok = zoo.load(config.annotator, seed=config.seed)
    sample = torch.randperm(config.pool, generator=g)[: config.annotate]
    big_nll = mean_nll(*token_nll(big, [big_tok("\n" + docs[i] + "\n")["input_ids"] for i in sample]))
    calibration = target[: config.annotator_calibration]
    target_nll = mean_nll(*token_nll(big, [big_tok("\n" + t + "\n")["input_ids"] for t in calibration]))
    edges = torch.quantile(target_nll, torch.tensor([0.99, 0.9, 0.75, 0.5, 0.25]))
    labels = annotate(big_nll, edges)  # (annotate,) scores 0..5
    if config.embedder == config.reference:
        emb = ref_pooled
    else:
        emb_model, emb_tok = zoo.load(config.embedder, seed=config.seed)
        emb = token_nll(emb_model, [emb_tok("\n" + d + "\n")["input_ids"] for d in docs], pooled=True)[2]
    emb = (emb - emb.mean(0)) / (emb.std(0) + 1e-6)
    n_fit = round(0.8 * config.annotate)
    w = fit_ridge(emb[sample[:n_fit]], labels[:n_fit], config.ridge)
    quality = predict_ridge(emb, w)  # (N,)
    metrics = {"classifier_f1_at_3": f1(quality[sample[n_fit:]] >= 2.5, labels[n_fit:] >= 3)}
    for j, kind in enumerate(KINDS):
        metrics[f"annotator_score_{kind}"] = labels[kinds[sample] == j].mean().item()
    return quality, metrics


def dsir_mix_checks(kinds, k: int, weights: dict, config: Config) -> dict[str, float]:
    """Over repeated draws of k documents by each set of log-weights (None: uniform sampling): the mean
    total variation between the kept mix and the pool's, the dispersion of inclusion counts, and the
    effective sample size of the weights."""
    pool_mix = torch.bincount(kinds, minlength=3).float() / config.pool
    metrics = {}
    for name, lw in weights.items():
        gg = torch.Generator().manual_seed(config.seed + 2)
        tv, counts = 0.0, torch.zeros(config.pool)
        for _ in range(config.draws):
            sel = torch.randperm(config.pool, generator=gg)[:k] if lw is None else gumbel_top_k(lw, k, gg)
            counts[sel] += 1
            tv += 0.5 * (torch.bincount(kinds[sel], minlength=3).float() / k - pool_mix).abs().sum().item()
        metrics[f"{name}_tv"], metrics[f"{name}_dispersion"] = (
            tv / config.draws,
            inclusion_dispersion(counts, config.draws, k),
        )
        if lw is not None:
            metrics[f"{name}_ess"] = effective_sample_size(lw) / config.pool
    return metrics


def precision_curve(is_clean, ppl_scores, dsir_lw, quality, config: Config) -> dict[str, dict[str, list[float]]]:
    """Share of clean documents among those kept, against the keep fraction (no training): the plot."""
    lines: dict[str, dict[str, list[float]]] = {}
    for frac in config.curve:
        kk = round(frac * config.pool)
        gg = torch.Generator().manual_seed(config.seed)
        picks = {
            "random": torch.randperm(config.pool, generator=gg)[:kk],
            "perplexity (low band)": band_select(ppl_scores, kk, "low"),
            "perplexity (middle band)": band_select(ppl_scores, kk, "middle"),
            "perplexity (high band)": band_select(ppl_scores, kk, "high"),
            "DSIR": gumbel_top_k(dsir_lw, kk, gg),
            "quality classifier": band_select(quality, kk, "high"),
        }
        for name, sel in picks.items():
            line = lines.setdefault(name, {"x": [], "y": []})
            line["x"].append(frac)
            line["y"].append(precision(sel, is_clean))
    return lines


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        seed_everything(config.seed)
        docs, kinds = raw_pool(config.pool, config.mix, config.seed)
        is_clean = kinds == 0
        k = round(config.keep * config.pool)
        g = torch.Generator().manual_seed(config.seed)
        metrics: dict[str, float] = {
            "pool": config.pool,
            "kept": k,
            "clean_share": is_clean.float().mean().item(),
        }

        # 1. Perplexity under the small reference LM (and the embedder's hidden states, if it is the same).
        report(progress, 0.0, f"scoring the pool with {config.reference}")
        ref, tok = zoo.load(config.reference, seed=config.seed)
        pool_ids = [tok("\n" + d + "\n")["input_ids"] for d in docs]
        nll, mask, ref_pooled = token_nll(ref, pool_ids, pooled=True)
        ppl_scores = mean_nll(nll, mask)  # (N,)

        # 2. DSIR: target = the corpus's own documents; a second run with a target drawn from the raw mix.
        report(progress, 0.1, "DSIR")
        feats = torch.stack([hashed_ngrams(d, config.buckets) for d in docs])  # (N, B)
        target = [d["text"] for d in zoo.documents("train")[: config.target_docs]]
        log_p_target = ngram_log_probs(torch.stack([hashed_ngrams(t, config.buckets) for t in target]))
        log_p_raw = ngram_log_probs(feats)
        dsir_lw = dsir_log_weights(feats, log_p_target, log_p_raw)  # (N,)
        # Target equal to raw: the n-gram models coincide, so every weight is 1 and the selection uniform.
        same_lw = dsir_log_weights(feats, log_p_raw, log_p_raw)
        # Target an independent sample of the raw mix: each document's own rare n-grams raise p_raw
        # but not p_target, so small samples bias the weights against documents full of rare n-grams.
        other_docs, _ = raw_pool(config.pool, config.mix, config.seed + 1)
        log_p_other = ngram_log_probs(torch.stack([hashed_ngrams(t, config.buckets) for t in other_docs]))
        other_lw = dsir_log_weights(feats, log_p_other, log_p_raw)

        # 3. Quality classifier: the larger model annotates a sample; a ridge head on small-model embeddings.
        report(progress, 0.2, f"{config.annotator} annotates {config.annotate} documents")
        quality, found = quality_classifier(docs, kinds, target, ref_pooled, g, config)
        metrics |= found
        # Selections of exactly k documents.
        random_pick = torch.randperm(config.pool, generator=g)[:k]
        selections = {
            "random": random_pick,
            "perplexity": band_select(ppl_scores, k, config.band),
            "dsir": gumbel_top_k(dsir_lw, k, g),
            "classifier": band_select(quality, k, "high"),
        }
        for band in ("low", "middle", "high"):
            metrics[f"precision_perplexity_{band}"] = precision(band_select(ppl_scores, k, band), is_clean)
        for name, sel in selections.items():
            metrics[f"precision_{name}"] = precision(sel, is_clean)
            for j, kind in enumerate(KINDS):
                metrics[f"share_{kind}_{name}"] = (kinds[sel] == j).float().mean().item()
        metrics |= dsir_mix_checks(kinds, k, {"dsir_target_raw": same_lw, "uniform_sampling": None, "dsir_target_other_raw_sample": other_lw, "dsir_target_corpus": dsir_lw}, config)  # fmt: skip
        lines = precision_curve(is_clean, ppl_scores, dsir_lw, quality, config)

        # 4. Train a fresh model on the random subset and on each trained selector's subset of k documents.
        trained = ["random", *config.train]
        for i, name in enumerate(trained):
            report(progress, 0.3 + 0.7 * i / len(trained), f"training on the {name} subset")
            metrics[f"heldout_ppl_{name}"] = train_on([docs[j] for j in selections[name].tolist()], config, tok)

        papers = {
            "perplexity": ("wenzek2020ccnet", "ankner2024perplexed"),
            "dsir": ("xie2023data", "xie2023data"),
            "classifier": ("penedo2024fineweb", "penedo2024fineweb"),
        }
        names = {
            "perplexity": f"the perplexity filter ({config.band} band)",
            "dsir": "DSIR",
            "classifier": "the quality classifier",
        }
        findings = [
            Finding.compare(f"{names[n]} keeps a larger share of clean in-domain documents than random selection", papers[n][0],
                            metrics[f"precision_{n}"], ">", metrics["precision_random"], n, "random")
            for n in ("perplexity", "dsir", "classifier")
        ] + [
            Finding.compare(f"a model trained on {names[n]}'s subset reaches lower held-out perplexity than one trained on a random subset of the same size", papers[n][1],
                            metrics[f"heldout_ppl_{n}"], "<", metrics["heldout_ppl_random"], f"{n} subset", "random subset")
            for n in config.train
        ]  # fmt: skip
        checks = [
            Check.compare("every selector keeps exactly round(f N) documents (largest deviation)", max(abs(len(set(sel.tolist())) - k) for sel in selections.values()), "==", 0),
            Check.compare(f"DSIR with target = raw selects near-uniformly: variance of inclusion counts over {config.draws} draws / uniform sampling's <= 1.25", metrics["dsir_target_raw_dispersion"], "<=", 1.25),
        ]  # fmt: skip
        series = {
            "precision_by_keep_fraction": {
                "title": "Share of clean in-domain documents among those kept",
                "xlabel": "keep fraction",
                "ylabel": "precision",
                "lines": lines,
            }
        }
        report(progress, 1.0, "done")
    labels = {
        f"precision_{n}": f"share of clean in-domain documents kept, {n}"
        for n in ("random", "perplexity", "dsir", "classifier")
    }
    labels |= {
        f"heldout_ppl_{n}": f"held-out perplexity after training on the {n} subset" for n in ("random", *config.train)
    }
    return Result(
        "data-curation", config_dict(config), metrics, findings, checks, timer.seconds, series=series, labels=labels
    )
