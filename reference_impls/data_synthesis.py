"""Data synthesis: a larger model writes the labels of a training set for a small model.

With a small labelled seed set S and a pool U of unlabelled inputs:

    teacher  = large model adapted on S
    S_syn    = {(x, argmax_y p_teacher(y | x)) : x in U}                 (wang2021want, ding2023gpt)
    student  = small model trained on S + S_syn,   against   small model trained on S alone

The large model is meant to be the better learner from few examples (compare `teacher_accuracy`
with `student_seed_only_accuracy`), and the synthetic set passes that on to the small model, which
is the one deployed. A self-training control separates the teacher's contribution from the mere use
of more inputs: the seed-trained student labels the same pool itself and is retrained on it. The zoo's models follow no instructions and
do no in-context learning, so the teacher learns the task from the seed set by a short fine-tuning
rather than from a prompt, and the inputs come from the task's own generator (`tasks.sentiment`)
rather than from the teacher's pen: at this scale the teacher's sampled reviews are mostly broken
text. Because the world is synthetic, the synthetic labels' accuracy is known exactly, and a third
student trained on the same pool with the true labels shows what the labelling errors cost.

The task is the sentiment of restaurant reviews; by default reviews whose adjectives all agree
(difficulty 1): tiny models learn the mixed ones, which need counting, too slowly for a demo.
Related papers: ye2022zerogen and meng2022generating (the large model writes the inputs too, from a
label-descriptive prompt), gilardi2023chatgpt, li2023synthetic, yu2023large, eldan2023tinystories.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

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
    teacher: str = "zoo-660k"  # zoo name or local checkpoint folder of the large model that labels
    student: str = "zoo-50k"  # the small model trained on the data
    difficulty: int | None = 1  # review difficulty (1 = all cues agree; None = the task's mix of 1-3)
    seed_examples: int = 32  # labelled seed examples (all the human labels there are)
    pool: int = 2000  # unlabelled inputs the teacher labels
    teacher_steps: int = 60  # steps adapting the teacher to the seed set
    teacher_lr: float = 2e-3  # their peak learning rate
    teacher_batch: int = 8  # their batch size
    student_steps: int = 150  # training steps of every student (the same for every arm)
    student_lr: float = 1e-2  # their peak learning rate
    student_batch: int = 16  # their batch size
    true_label_arm: bool = True  # also train a student on the pool with its true labels (the noise-free bound)
    sizes: list[int] = field(default_factory=lambda: [0, 125, 500, 2000])  # synthetic-set sizes swept
    test: int = 400  # test reviews
    seed: int = 0  # the zoo's seed, data and batch order

    @classmethod
    def quick(cls) -> Config:
        return cls(
            pool=200,
            true_label_arm=False,
            sizes=[],
            test=150,
        )


def splits(config: Config) -> tuple[list[tasks.Example], list[tasks.Example], list[tasks.Example]]:
    """Seed set, unlabelled pool (labels kept only to measure the teacher) and test set; a test review
    that also occurs in the seeds or the pool is dropped."""
    s, d = config.seed, config.difficulty
    seeds = tasks.sentiment(config.seed_examples, seed=4000 + s, difficulty=d)
    pool = tasks.sentiment(config.pool, seed=5000 + s, difficulty=d)
    seen = {e.prompt for e in seeds + pool}
    test = [e for e in tasks.sentiment(config.test, seed=6000 + s, difficulty=d) if e.prompt not in seen]
    return seeds, pool, test


def label_pool(teacher, inputs: list[str]) -> list[str]:
    """The teacher's most likely label for each unlabelled prompt."""
    return finetune.classify(teacher, inputs, LABELS)[0]


METRIC_LABELS = {
    "teacher_accuracy": "test accuracy of the teacher (adapted on the seed set)",
    "synthetic_label_accuracy": "accuracy of the teacher's labels on the pool",
    "self_label_accuracy": "accuracy of the seed-trained student's own labels on the pool",
    "student_seed_only_accuracy": "student trained on the seed set alone",
    "student_synthetic_accuracy": "student trained on seeds + teacher-labelled pool",
    "student_self_trained_accuracy": "student trained on seeds + its own labels of the pool",
    "student_true_labels_accuracy": "student trained on seeds + pool with true labels (bound)",
}


def run(config: Config, progress: Progress | None = None) -> Result:
    with Timer() as timer:
        set_threads()
        seed_everything(config.seed)
        report(progress, 0.0, f"loading {config.teacher} and {config.student}")
        teacher, _ = zoo.load(config.teacher, seed=config.seed)
        student_base, _ = zoo.load(config.student, seed=config.seed)
        s = config.seed
        seeds, pool, test = splits(config)
        seed_pairs = [(e.prompt, e.answer) for e in seeds]

        def accuracy(model) -> float:
            pred = finetune.classify(model, [e.prompt for e in test], LABELS)[0]
            return finetune.accuracy(pred, [e.answer for e in test])

        arms = ["seed_only", "synthetic", "self_trained"] + ["true_labels"] * config.true_label_arm
        arms += [n for n in config.sizes if 0 < n < config.pool]
        stage = {"done": 0}

        def train_student(pairs: list[tuple[str, str]], name: str):
            tick = sub_progress(
                progress, 0.35 + 0.6 * stage["done"] / len(arms), 0.35 + 0.6 * (stage["done"] + 1) / len(arms)
            )
            model = finetune.finetune(
                copy.deepcopy(student_base),
                pairs,
                config.student_steps,
                lr=config.student_lr,
                batch=config.student_batch,
                seed=s,
                progress=lambda i: report(tick, (i + 1) / config.student_steps, f"student: {name}"),
            )
            stage["done"] += 1
            return model

        # 1. The teacher learns the task from the seed set, then labels the pool.
        tick = sub_progress(progress, 0.02, 0.25)
        finetune.finetune(
            teacher,
            seed_pairs,
            config.teacher_steps,
            lr=config.teacher_lr,
            batch=config.teacher_batch,
            seed=s,
            progress=lambda i: report(tick, (i + 1) / config.teacher_steps, "adapting the teacher to the seeds"),
        )
        report(progress, 0.25, "the teacher labels the pool")
        synthetic = label_pool(teacher, [e.prompt for e in pool])
        metrics: dict[str, float] = {
            "teacher_params": zoo.n_params(teacher),
            "student_params": zoo.n_params(student_base),
            "teacher_accuracy": accuracy(teacher),
            "synthetic_label_accuracy": finetune.accuracy(synthetic, [e.answer for e in pool]),
        }
        syn_pairs = [(e.prompt, y) for e, y in zip(pool, synthetic, strict=True)]
        true_pairs = [(e.prompt, e.answer) for e in pool]

        # 2. Students of the same size, steps and batches: seed set alone, plus synthetic labels, plus true labels.
        seed_only = train_student(seed_pairs, "seed only")
        metrics["student_seed_only_accuracy"] = accuracy(seed_only)
        metrics["student_synthetic_accuracy"] = accuracy(train_student(seed_pairs + syn_pairs, "seed + synthetic"))
        # Self-training control: the seed-only student labels the same pool itself.
        own = label_pool(seed_only, [e.prompt for e in pool])
        metrics["self_label_accuracy"] = finetune.accuracy(own, [e.answer for e in pool])
        own_pairs = [(e.prompt, y) for e, y in zip(pool, own, strict=True)]
        metrics["student_self_trained_accuracy"] = accuracy(train_student(seed_pairs + own_pairs, "seed + own labels"))
        if config.true_label_arm:
            metrics["student_true_labels_accuracy"] = accuracy(
                train_student(seed_pairs + true_pairs, "seed + true labels")
            )
        series = {}
        if config.sizes:
            ys = []
            for n in config.sizes:
                if n == 0:  # the same run as the seed-only student
                    ys.append(metrics["student_seed_only_accuracy"])
                elif n >= len(syn_pairs):  # the same run as the synthetic student
                    ys.append(metrics["student_synthetic_accuracy"])
                else:
                    ys.append(accuracy(train_student(seed_pairs + syn_pairs[:n], f"{n} synthetic")))
                metrics[f"student_accuracy_{n}_synthetic"] = ys[-1]
            series["size"] = {
                "title": f"{config.student} trained on {config.seed_examples} seed examples + reviews labelled by {config.teacher}",
                "xlabel": "synthetic examples",
                "ylabel": "test accuracy",
                "lines": {
                    "student": {"x": config.sizes, "y": ys},
                    "teacher": {"x": config.sizes, "y": [metrics["teacher_accuracy"]] * len(config.sizes)},
                },
            }

        m = metrics
        findings = [
            Finding.compare("a small model trained on the seed set plus the large model's labels of unlabelled inputs beats one trained on the seed set alone",
                            "wang2021want", m["student_synthetic_accuracy"], ">", m["student_seed_only_accuracy"], "seeds + teacher labels", "seeds only"),
            Finding.compare("... and beats self-training, where the seed-trained small model labels the same inputs itself",
                            "wang2021want", m["student_synthetic_accuracy"], ">", m["student_self_trained_accuracy"], "seeds + teacher labels", "seeds + own labels"),
        ]  # fmt: skip
        report(progress, 1.0, "done")
    return Result(
        "data-synthesis", config_dict(config), metrics, findings, [], timer.seconds, series=series, labels=METRIC_LABELS
    )
