"""A small model tuned for one narrow task against a larger general model used as it is.

The small model is fine-tuned on labelled examples of the task; the large general model is asked
zero-shot, the label being the one it finds more likely after the prompt,

    y_hat = argmax_y log p(y | x)

(the standard way to use a language model as a classifier without tuning). The cost of a query is
the forward FLOPs per token, 2 (N - N_embed) + 2 d V + 4 L T d (see `size_tradeoff`), and the
measured time to classify the test set. Papers: bucher2024fine and zhang2024sentiment (fine-tuned
small models against zero-shot large ones on text classification), lepagnol2024small,
zhao2024lora, edwards2024language.

The task is the sentiment of restaurant reviews from `tasks.sentiment`. Zero-shot, every zoo model
is near chance (the zoo follows no instructions), so the zero-shot large model is shown for scale
only. The finding compares the tuned small model with a baseline that can win: the large model
adapted on a few labelled examples (32 by default), which is how a large model is used when labels
are scarce, here by fine-tuning since the zoo does no in-context learning. Every zoo model is also
asked zero-shot, which gives the accuracy-against-cost picture of untuned general models of every
size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

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
from reference_impls.size_tradeoff import flops_per_token

LABELS = [" positive", " negative"]


@dataclass
class Config:
    small: str = "zoo-50k"  # the small model fine-tuned on the task
    large: str = "zoo-1.3m"  # the large general model, used without tuning
    difficulty: int | None = None  # review difficulty (1 = all cues agree; None = the task's mix of 1-3)
    train: int = 4000  # labelled training reviews
    steps: int = 300  # fine-tuning steps
    lr: float = 5e-3  # peak learning rate
    batch: int = 32  # reviews per step
    test: int = 400  # test reviews
    few_shot: int = 32  # labelled reviews the large model is adapted on (the baseline)
    few_shot_steps: int = 60  # its fine-tuning steps
    few_shot_lr: float = 1e-3  # its peak learning rate (the large zoo models need a low one)
    few_shot_batch: int = 8  # its batch size
    also_zero_shot: list[str] = field(default_factory=zoo.names)  # zoo models also asked zero-shot (series)
    seed: int = 0  # the zoo's seed, data and batch order

    @classmethod
    def quick(cls) -> Config:
        return cls(difficulty=1, train=2000, steps=80, test=100, also_zero_shot=[])


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        seed_everything(config.seed)
        report(progress, 0.0, f"loading {config.small} and {config.large}")
        small, _ = zoo.load(config.small, seed=config.seed)
        large, _ = zoo.load(config.large, seed=config.seed)
        train = tasks.sentiment(config.train, seed=7000 + config.seed, difficulty=config.difficulty)
        seen = {e.prompt for e in train}
        test = [
            e
            for e in tasks.sentiment(config.test, seed=8000 + config.seed, difficulty=config.difficulty)
            if e.prompt not in seen
        ]
        prompts, truth = [e.prompt for e in test], [e.answer for e in test]
        context = max(len(zoo.encode(p)) for p in prompts)

        def evaluate(model) -> tuple[float, float]:
            """(accuracy, seconds to classify the test set)"""
            start = time.perf_counter()
            pred = finetune.classify(model, prompts, LABELS)[0]
            return finetune.accuracy(pred, truth), time.perf_counter() - start

        metrics: dict[str, float] = {
            "small_params": zoo.n_params(small),
            "large_params": zoo.n_params(large),
            "small_flops_per_token": flops_per_token(small, context),
            "large_flops_per_token": flops_per_token(large, context),
        }
        metrics["small_untuned_accuracy"], _ = evaluate(small)
        metrics["large_zero_shot_accuracy"], large_seconds = evaluate(large)
        metrics["majority_class_accuracy"] = max(truth.count(y) for y in LABELS) / len(truth)

        tick = sub_progress(progress, 0.1, 0.8)
        finetune.finetune(
            small,
            [(e.prompt, e.answer) for e in train],
            config.steps,
            lr=config.lr,
            batch=config.batch,
            seed=config.seed,
            progress=lambda i: report(tick, (i + 1) / config.steps, f"tuning {config.small}"),
        )
        metrics["small_tuned_accuracy"], small_seconds = evaluate(small)
        metrics["cost_ratio_flops"] = metrics["small_flops_per_token"] / metrics["large_flops_per_token"]
        timings = {
            "small_seconds": small_seconds,
            "large_seconds": large_seconds,
            "cost_ratio_seconds": small_seconds / large_seconds,
        }

        # The baseline that can win: the large model adapted from a few labelled examples, the way a
        # large model is used when labels are scarce (the zoo cannot read examples in context).
        few = train[: config.few_shot]
        tick = sub_progress(progress, 0.8, 0.85)
        finetune.finetune(large, [(e.prompt, e.answer) for e in few], config.few_shot_steps, lr=config.few_shot_lr, batch=config.few_shot_batch, seed=config.seed,
                          progress=lambda i: report(tick, (i + 1) / config.few_shot_steps, f"tuning {config.large} on {len(few)} examples"))  # fmt: skip
        metrics["large_few_shot_tuned_accuracy"], _ = evaluate(large)

        series = {}
        if config.also_zero_shot:
            xs, ys = [], []
            for i, name in enumerate(config.also_zero_shot):
                report(progress, 0.85 + 0.15 * i / len(config.also_zero_shot), f"{name} zero-shot")
                model = zoo.load(name, seed=config.seed)[0] if name != config.large else None
                xs.append(flops_per_token(model or zoo.load(name, seed=config.seed)[0], context))
                # the untuned small model and the large one were measured above
                known = {config.small: "small_untuned_accuracy", config.large: "large_zero_shot_accuracy"}
                ys.append(metrics[known[name]] if name in known else evaluate(model)[0])
                metrics[f"{name}_zero_shot_accuracy"] = ys[-1]
            series["accuracy_vs_cost"] = {
                "title": "Review sentiment: tuned small model against untuned zoo models",
                "xlabel": f"forward FLOPs per token (context {context})",
                "ylabel": "test accuracy",
                "lines": {
                    "zoo models, zero-shot": {"x": xs, "y": ys},
                    f"{config.small} fine-tuned": {
                        "x": [metrics["small_flops_per_token"]],
                        "y": [metrics["small_tuned_accuracy"]],
                    },
                },
            }

        m = metrics
        findings = [
            Finding.compare(f"{config.small} fine-tuned on {len(train)} labelled reviews is more accurate than {config.large} adapted on {len(few)} of them, at a fraction of its cost per token",
                            "bucher2024fine", m["small_tuned_accuracy"], ">", m["large_few_shot_tuned_accuracy"], "small, tuned on all labels", f"large, tuned on {len(few)}"),
        ]  # fmt: skip
        checks = [
            Check.compare("the setting: the small model costs under a tenth of the large one's FLOPs per token", m["cost_ratio_flops"], "<", 0.1),
        ]  # fmt: skip
        report(progress, 1.0, "done")
    labels = {
        "small_tuned_accuracy": f"{config.small} fine-tuned on all labels",
        "large_few_shot_tuned_accuracy": f"{config.large} tuned on {config.few_shot} labels",
        "large_zero_shot_accuracy": f"{config.large} zero-shot",
        "small_untuned_accuracy": f"{config.small} zero-shot",
        "majority_class_accuracy": "majority class",
        "cost_ratio_flops": "small / large FLOPs per token",
    }
    return Result(
        "task-specific",
        config_dict(config),
        metrics,
        findings,
        checks,
        timer.seconds,
        series=series,
        labels=labels,
        timings=timings,
    )
