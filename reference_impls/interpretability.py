"""A transparent small model against a neural one, with an explanation and a check that it is faithful.

The transparent model is logistic regression on word counts x (one weight per word):

    p(positive | x) = sigmoid(w . x + b),   fitted by minimising  BCE + lambda |w|^2

Its explanation of a prediction is exact: the contribution of word j is w_j x_j, and the global
explanation is the list of words with the largest weights. The neural model is a zoo LM fine-tuned
on the same reviews, which explains nothing by itself (rudin2019stop: for high-stakes decisions,
prefer a model that is interpretable to begin with when it is about as accurate).

Faithfulness (jacovi2020faithfully): an explanation is faithful when the features it ranks highest
are the ones the prediction depends on. Deletion test: remove from every test review the k words
with the largest |w_j x_j| and measure the drop in accuracy; compare with removing k random words
of the same review. The same edited reviews go to the neural model too, which shows whether the
linear model's explanation also names what the neural model relies on. Because the task is
synthetic (`tasks.sentiment`: the label is the majority polarity of the review's adjectives), the
explanation can also be checked against the true rule: the top-weighted words should be exactly
the cue adjectives, with the right signs. Related papers: agarwal2021neural (neural additive
models), nori2019interpretml, singh2023augmenting, jain2019attention, wiegreffe2019attention.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from reference_impls import finetune, tasks, zoo
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

LABELS = [" positive", " negative"]
WORD = re.compile(r"[A-Za-z]+")


@dataclass
class Config:
    neural: str = "zoo-180k"  # zoo model fine-tuned as the neural classifier
    difficulty: int | None = None  # review difficulty (1 = all cues agree; None = the task's mix of 1-3)
    train: int = 4000  # labelled training reviews (both models)
    l2: float = 1e-3  # lambda of the logistic regression
    neural_steps: int = 300  # fine-tuning steps of the neural model
    neural_lr: float = 3e-3  # its peak learning rate
    neural_batch: int = 16  # its batch size
    test: int = 400  # test reviews
    delete_k: int = 2  # words deleted per review in the faithfulness test
    show: int = 6  # top words per class written into the metrics (the readable explanation)
    match_points: float = 0.02  # the finding: the linear model's accuracy is at least the neural one's minus this
    seed: int = 0  # the zoo's seed, data, batch order and the random deletions

    @classmethod
    def quick(cls) -> Config:
        return cls(neural="zoo-50k", train=1000, neural_steps=20, neural_lr=5e-3, test=150)


# ---------------------------------------------------------------------------------------------------
# The transparent model: pure functions


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


def vocabulary(texts: list[str]) -> dict[str, int]:
    """Word -> column, in order of first appearance."""
    vocab: dict[str, int] = {}
    for t in texts:
        for w in words(t):
            vocab.setdefault(w, len(vocab))
    return vocab


def bag_of_words(texts: list[str], vocab: dict[str, int]) -> torch.Tensor:
    """Word counts (N, V); unknown words are dropped."""
    x = torch.zeros(len(texts), len(vocab), dtype=torch.float64)
    for i, t in enumerate(texts):
        for w in words(t):
            if w in vocab:
                x[i, vocab[w]] += 1
    return x


def fit_logistic(
    x: torch.Tensor, y: torch.Tensor, l2: float, iterations: int = 200
) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights (V,) and bias () minimising mean BCE(sigmoid(x w + b), y) + l2 |w|^2 (L-BFGS, deterministic)."""
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=iterations, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(x @ w + b, y.double()) + l2 * (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


def contributions(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """w_j x_j: each word's additive share of the logit, (N, V)."""
    return x * w


def top_words(text: str, vocab: dict[str, int], w: torch.Tensor, k: int) -> list[str]:
    """The k distinct words of a text with the largest |w_j x_j| (its local explanation)."""
    x = bag_of_words([text], vocab)[0]  # (V,)
    score = contributions(x, w).abs()  # (V,)
    inverse = {j: word for word, j in vocab.items()}
    ranked = [inverse[j] for j in torch.argsort(score, descending=True).tolist() if score[j] > 0]
    return ranked[:k]


def delete_words(text: str, remove: set[str]) -> str:
    """The text with every occurrence of the given words (case-insensitive) removed."""
    out = WORD.sub(lambda m: "" if m.group(0).lower() in remove else m.group(0), text)
    return re.sub(r" +", " ", out).replace(" ,", ",").replace(" .", ".").strip()


# ---------------------------------------------------------------------------------------------------
# The demo


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        seed_everything(config.seed)
        report(progress, 0.0, f"loading {config.neural}")
        neural, _ = zoo.load(config.neural, seed=config.seed)
        train = tasks.sentiment(config.train, seed=9000 + config.seed, difficulty=config.difficulty)
        seen = {e.prompt for e in train}
        test = [
            e
            for e in tasks.sentiment(config.test, seed=9500 + config.seed, difficulty=config.difficulty)
            if e.prompt not in seen
        ]

        def text(e: tasks.Example) -> str:
            return e.prompt.removesuffix(" Label:")

        # 1. The transparent model.
        vocab = vocabulary([text(e) for e in train])
        y_train = torch.tensor([e.answer == " positive" for e in train])
        w, b = fit_logistic(bag_of_words([text(e) for e in train], vocab), y_train, config.l2)
        truth = [e.answer for e in test]

        def linear_predict(texts: list[str]) -> list[str]:
            logit = bag_of_words(texts, vocab) @ w + b  # (N,)
            return [LABELS[0] if z > 0 else LABELS[1] for z in logit.tolist()]

        # 2. The neural model.
        tick = sub_progress(progress, 0.05, 0.85)
        finetune.finetune(
            neural,
            [(e.prompt, e.answer) for e in train],
            config.neural_steps,
            lr=config.neural_lr,
            batch=config.neural_batch,
            seed=config.seed,
            progress=lambda i: report(tick, (i + 1) / config.neural_steps, f"tuning {config.neural}"),
        )

        def neural_predict(texts: list[str]) -> list[str]:
            return finetune.classify(neural, [f"{t} Label:" for t in texts], LABELS)[0]

        # 3. Faithfulness: delete each review's top-k words, or k random words of it.
        report(progress, 0.85, "deletion test")
        rng = random.Random(config.seed)
        originals = [text(e) for e in test]
        top_deleted = [delete_words(t, set(top_words(t, vocab, w, config.delete_k))) for t in originals]
        random_deleted = []
        for t in originals:
            distinct = sorted(set(words(t)))
            random_deleted.append(delete_words(t, set(rng.sample(distinct, min(config.delete_k, len(distinct))))))
        metrics: dict[str, float] = {"linear_params": len(vocab) + 1, "neural_params": zoo.n_params(neural)}
        for model_name, predict in (("linear", linear_predict), ("neural", neural_predict)):
            acc = {
                name: finetune.accuracy(predict(texts), truth)
                for name, texts in (("", originals), ("_top_deleted", top_deleted), ("_random_deleted", random_deleted))
            }
            metrics[f"{model_name}_accuracy"] = acc[""]
            metrics[f"{model_name}_drop_top_deleted"] = acc[""] - acc["_top_deleted"]
            metrics[f"{model_name}_drop_random_deleted"] = acc[""] - acc["_random_deleted"]
        metrics["accuracy_gap_linear_minus_neural"] = metrics["linear_accuracy"] - metrics["neural_accuracy"]

        # 4. The explanation: the largest weights, and how well they match the true cue words.
        inverse = {j: word for word, j in vocab.items()}
        order = torch.argsort(w, descending=True).tolist()
        for word_index in order[: config.show] + order[-config.show :]:
            metrics[f"weight[{inverse[word_index]}]"] = w[word_index].item()
        cues = {c: +1 for c in tasks.POSITIVE} | {c: -1 for c in tasks.NEGATIVE}
        by_size = torch.argsort(w.abs(), descending=True).tolist()[: len(cues)]
        metrics["explanation_precision_at_cues"] = sum(inverse[j] in cues for j in by_size) / len(cues)
        metrics["explanation_sign_agreement"] = sum(
            cues.get(inverse[j], 0) == (1 if w[j] > 0 else -1) for j in by_size
        ) / len(cues)

        m, k, tol = metrics, config.delete_k, config.match_points
        findings = [
            Finding.compare(f"the transparent linear model is about as accurate as the fine-tuned neural model (no more than {tol * 100:g} points behind)", "rudin2019stop",
                            m["linear_accuracy"], ">=", m["neural_accuracy"] - tol, "linear model", f"neural - {tol * 100:g} points"),
            Finding.compare(f"the linear model's explanation names what the neural model relies on: deleting each review's top-{k} words by |w_j x_j| costs the neural model more accuracy than deleting {k} random words",
                            "jacovi2020faithfully", m["neural_drop_top_deleted"], ">", m["neural_drop_random_deleted"], "top words deleted", "random words deleted"),
        ]  # fmt: skip
        checks = [
            Check.compare(f"the linear model's own explanation is faithful: deleting its top-{k} words costs it more accuracy than deleting {k} random words",
                          m["linear_drop_top_deleted"], ">", m["linear_drop_random_deleted"]),
            Check.compare(f"the setting: the {len(cues)} largest weights are the task's {len(cues)} cue adjectives (share)", m["explanation_precision_at_cues"], ">=", 0.9),
        ]  # fmt: skip
        report(progress, 1.0, "done")
    labels = {
        "linear_accuracy": "accuracy, linear model on word counts",
        "neural_accuracy": "accuracy, fine-tuned neural model",
        "linear_drop_top_deleted": "linear: accuracy lost, top words deleted",
        "linear_drop_random_deleted": "linear: accuracy lost, random words deleted",
        "neural_drop_top_deleted": "neural: accuracy lost, linear model's top words deleted",
        "neural_drop_random_deleted": "neural: accuracy lost, random words deleted",
        "explanation_precision_at_cues": "share of the largest weights that are cue adjectives",
    }
    return Result("interpretability", config_dict(config), metrics, findings, checks, timer.seconds, labels=labels)
