"""Data synthesis: the teacher's labels, the student arms, the quick run."""

from conftest import sound_quick_run

from reference_impls import data_synthesis as D
from reference_impls import finetune, tasks, zoo
from reference_impls.common import set_threads

set_threads(1)


def test_label_pool_is_the_teachers_most_likely_label():
    teacher = zoo.fresh("zoo-50k", seed=7)
    prompts = [e.prompt for e in tasks.sentiment(8, seed=1)]
    labels = D.label_pool(teacher, prompts)
    lp = finetune.choice_logprobs(teacher, prompts, D.LABELS)
    assert labels == [D.LABELS[i] for i in lp.argmax(dim=1).tolist()]
    assert set(labels) <= set(D.LABELS)


def test_test_reviews_never_occur_in_the_seeds_or_the_pool():
    for config in (D.Config.quick(), D.Config()):
        seeds, pool, test = D.splits(config)
        assert len(seeds) == config.seed_examples and len(pool) == config.pool
        assert not {e.prompt for e in test} & {e.prompt for e in seeds + pool}
        assert len(test) > 0.95 * config.test


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("data-synthesis")
    assert result["metrics"]["synthetic_label_accuracy"] > 0.6  # the teacher's labels carry information
    assert [f["rhs_label"] for f in result["claims"]] == ["seeds only", "seeds + own labels"]
