"""Prompt augmentation with a small plug-in (SuperICL): a tuned classifier's answer in the large model's context.

A small model is fine-tuned on the task. For every input x it gives a label y_s and a confidence

    c = max_y p_small(y | x),    p_small(y | x) = softmax_y log p_small(y | x)

and the large model reads them in its prompt, for the demonstrations and for the test input alike
(xu2024small):

    "<x> Small model: <y_s> (<c>). Label: <y>"        demonstration
    "<x> Small model: <y_s> (<c>). Label:"            test input; the large model writes the label

so it can follow the plug-in where the plug-in is sure and use its own judgement elsewhere. SuperICL
shows the demonstrations in context; the zoo's models do no in-context learning (measured: they do
not even copy a label already in the context), so here the large model reads its demonstrations by
a short fine-tuning on them. Both arms get the same demonstrations, steps and learning rate; they
differ only in the plug-in's line. The task is the sentiment of restaurant reviews from
`tasks.sentiment` (the label is the majority polarity of the adjectives). The "large" model is
zoo-180k, larger than the zoo-50k plug-in but not by much: two reading arms of zoo-1.3m did not fit
the time budget of a run, and zoo-660k with fewer steps did not learn to use the plug-in's line.

Reported: the accuracy of the small plug-in alone, of the large model with and without the plug-in
in its context (the findings compare the large model with the plug-in against both, as SuperICL does), how often the large model overrides the plug-in and how often it is right when it
does, and the accuracies on the inputs where the plug-in is least sure. Related papers:
yang2024supervised (SuperContext: the same idea with out-of-distribution inputs), cheng2023uprise
and wang2024learning (small retrievers choosing the demonstrations), juneja2023small, lee2024small.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from reference_impls import finetune, tasks, zoo
from reference_impls.common import (
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


@dataclass
class Config:
    large: str = "zoo-180k"  # zoo name or local checkpoint folder of the large model (see the docstring)
    small: str = "zoo-50k"  # the small model fine-tuned into the plug-in classifier
    difficulty: int | None = None  # review difficulty (1 = all cues agree; None = the task's mix of 1-3)
    small_examples: int = 4000  # labelled reviews the plug-in is tuned on
    small_steps: int = 300  # its fine-tuning steps
    small_lr: float = 5e-3  # its peak learning rate
    small_batch: int = 32  # its batch size
    demos: int = 64  # labelled demonstrations the large model reads (the same in both arms)
    large_steps: int = 150  # steps of reading them (fine-tuning; see the docstring)
    large_lr: float = 3e-3  # their peak learning rate
    large_batch: int = 16  # their batch size
    test: int = 400  # test reviews
    low_confidence: float = 0.75  # plug-in confidence below which an input counts as unsure
    seed: int = 0  # the zoo's seed, data and batch order

    @classmethod
    def quick(cls) -> Config:
        # Easy reviews and few demonstrations: the large model cannot learn the task from 16 examples
        # in 40 steps, but it can learn to read the plug-in's line.
        return cls(
            difficulty=1, small_examples=2000, small_steps=100, demos=16, large_steps=40, large_lr=5e-3, test=150
        )


# ---------------------------------------------------------------------------------------------------
# The prompt


def review_text(example: tasks.Example) -> str:
    """The review without its trailing " Label:"."""
    return example.prompt.removesuffix(" Label:")


def augmented_prompt(text: str, small_label: str | None = None, confidence: float | None = None) -> str:
    """ "<review> Small model: <label> (<confidence>). Label:", or "<review> Label:" without the plug-in."""
    if small_label is None:
        return f"{text} Label:"
    return f"{text} Small model:{small_label} ({confidence:.2f}). Label:"


def plug_in(model, texts: list[str]) -> tuple[list[str], torch.Tensor]:
    """The plug-in's label and confidence (N,) for each review."""
    labels, probs = finetune.classify(model, [f"{t} Label:" for t in texts], LABELS)
    return labels, probs.max(dim=-1).values


# ---------------------------------------------------------------------------------------------------
# The demo


METRIC_LABELS = {
    "small_plugin_accuracy": "accuracy, plug-in alone",
    "large_without_plugin_accuracy": "accuracy, large model without the plug-in",
    "large_with_plugin_accuracy": "accuracy, large model with the plug-in",
    "override_rate": "share of reviews where the large model overrides the plug-in",
    "override_accuracy": "accuracy of the large model where it overrides the plug-in",
    "unsure_share": "share of reviews where the plug-in is unsure",
    "unsure_small_accuracy": "unsure reviews: accuracy of the plug-in",
    "unsure_large_without_accuracy": "unsure reviews: large model without the plug-in",
    "unsure_large_with_accuracy": "unsure reviews: large model with the plug-in",
}


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        seed_everything(config.seed)
        report(progress, 0.0, f"loading {config.small} and {config.large}")
        small, _ = zoo.load(config.small, seed=config.seed)
        large, _ = zoo.load(config.large, seed=config.seed)
        s = config.seed
        train = tasks.sentiment(config.small_examples, seed=1000 + s, difficulty=config.difficulty)
        demos = tasks.sentiment(config.demos, seed=2000 + s, difficulty=config.difficulty)
        seen = {e.prompt for e in train + demos}
        test = [
            e for e in tasks.sentiment(config.test, seed=3000 + s, difficulty=config.difficulty) if e.prompt not in seen
        ]

        # 1. The plug-in: the small model fine-tuned on the task.
        tick = sub_progress(progress, 0.02, 0.3)
        finetune.finetune(
            small,
            [(e.prompt, e.answer) for e in train],
            config.small_steps,
            lr=config.small_lr,
            batch=config.small_batch,
            seed=s,
            progress=lambda i: report(tick, (i + 1) / config.small_steps, "tuning the plug-in"),
        )
        demo_labels, demo_conf = plug_in(small, [review_text(e) for e in demos])
        test_labels, test_conf = plug_in(small, [review_text(e) for e in test])
        truth = [e.answer for e in test]

        # 2. The large model reads the same demonstrations, with and without the plug-in's line.
        arms = {
            "without": [(augmented_prompt(review_text(e)), e.answer) for e in demos],
            "with": [
                (augmented_prompt(review_text(e), y, c), e.answer)
                for e, y, c in zip(demos, demo_labels, demo_conf.tolist(), strict=True)
            ],
        }
        test_prompts = {
            "without": [augmented_prompt(review_text(e)) for e in test],
            "with": [
                augmented_prompt(review_text(e), y, c)
                for e, y, c in zip(test, test_labels, test_conf.tolist(), strict=True)
            ],
        }
        predictions = {}
        for i, (arm, pairs) in enumerate(arms.items()):
            tick = sub_progress(progress, 0.3 + 0.33 * i, 0.63 + 0.33 * i)
            reader = finetune.finetune(
                copy.deepcopy(large),
                pairs,
                config.large_steps,
                lr=config.large_lr,
                batch=config.large_batch,
                seed=s,
                progress=lambda j, arm=arm, tick=tick: report(
                    tick, (j + 1) / config.large_steps, f"large model, {arm} plug-in"
                ),
            )
            predictions[arm] = finetune.classify(reader, test_prompts[arm], LABELS)[0]

        unsure = [c < config.low_confidence for c in test_conf.tolist()]

        def acc(pred: list[str], mask: list[bool] | None = None) -> float:
            pairs = [(p, t) for p, t, m in zip(pred, truth, mask or [True] * len(truth), strict=True) if m]
            return sum(p == t for p, t in pairs) / max(len(pairs), 1)

        overrides = [p != y for p, y in zip(predictions["with"], test_labels, strict=True)]
        metrics: dict[str, float] = {
            "small_params": zoo.n_params(small),
            "large_params": zoo.n_params(large),
            "small_plugin_accuracy": acc(test_labels),
            "large_without_plugin_accuracy": acc(predictions["without"]),
            "large_with_plugin_accuracy": acc(predictions["with"]),
            "plugin_mean_confidence": test_conf.mean().item(),
            "override_rate": sum(overrides) / len(overrides),
            "override_accuracy": acc(predictions["with"], overrides),
            "unsure_share": sum(unsure) / len(unsure),
            "unsure_small_accuracy": acc(test_labels, unsure),
            "unsure_large_without_accuracy": acc(predictions["without"], unsure),
            "unsure_large_with_accuracy": acc(predictions["with"], unsure),
        }
        m = metrics
        findings = [
            Finding.compare("the large model is more accurate with the plug-in's prediction and confidence in its prompt than without", "xu2024small",
                            m["large_with_plugin_accuracy"], ">", m["large_without_plugin_accuracy"], "large + plug-in", "large alone"),
            Finding.compare("the large model with the plug-in is more accurate than the plug-in alone", "xu2024small",
                            m["large_with_plugin_accuracy"], ">", m["small_plugin_accuracy"], "large + plug-in", "plug-in alone",
                            note="The large model here (zoo-180k) reads its demonstrations by fine-tuning, not in context, and is less accurate than the tuned plug-in on its own; where it overrides the plug-in it is wrong more often than right (override accuracy in the metrics)."),
        ]  # fmt: skip
        report(progress, 1.0, "done")
    return Result(
        "prompt-augmentation", config_dict(config), metrics, findings, [], timer.seconds, labels=METRIC_LABELS
    )
