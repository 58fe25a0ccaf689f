"""Prompt augmentation (SuperICL): the augmented prompt, the plug-in's confidence, the quick run."""

import torch
from conftest import sound_quick_run

from reference_impls import finetune, tasks, zoo
from reference_impls import prompt_augmentation as PA
from reference_impls.common import set_threads

set_threads(1)


def test_augmented_prompt_carries_the_plugin_label_and_confidence_before_the_label_slot():
    ex = tasks.sentiment(1, seed=3)[0]
    text = PA.review_text(ex)
    assert not text.endswith("Label:") and ex.prompt == PA.augmented_prompt(text)
    assert PA.augmented_prompt(text, " negative", 0.8712) == f"{text} Small model: negative (0.87). Label:"


def test_plugin_confidence_is_the_probability_of_its_own_label():
    model = zoo.fresh("zoo-50k", seed=4)
    texts = [PA.review_text(e) for e in tasks.sentiment(6, seed=5)]
    labels, conf = PA.plug_in(model, texts)
    _, probs = finetune.classify(model, [f"{t} Label:" for t in texts], PA.LABELS)
    assert torch.allclose(conf, probs.max(dim=1).values)
    assert ((conf >= 0.5) & (conf <= 1)).all()
    assert labels == [PA.LABELS[i] for i in probs.argmax(dim=1).tolist()]


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("prompt-augmentation")
    assert [f["rhs_label"] for f in result["claims"]] == ["large alone", "plug-in alone"]
