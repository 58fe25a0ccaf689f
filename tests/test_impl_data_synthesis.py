"""Data synthesis: the teacher's labels, the student arms, the quick run."""

import json
from pathlib import Path

import pytest

from reference_impls import data_synthesis as D
from reference_impls import finetune, tasks, zoo
from reference_impls.common import set_threads

set_threads(1)
RESULTS = Path(D.__file__).parent / "results" / "data-synthesis.json"


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
        assert len(seeds) == config.seeds and len(pool) == config.pool
        assert not {e.prompt for e in test} & {e.prompt for e in seeds + pool}
        assert len(test) > 0.95 * config.test


def test_quick_run_every_claim_holds():
    result = D.run(D.Config.quick())
    assert result.claims and all(c.holds for c in result.claims), [c for c in result.claims if not c.holds]
    assert result.metrics["synthetic_label_accuracy"] > 0.6  # the teacher's labels carry information


@pytest.mark.slow
def test_full_run_reproduces_committed_results():
    """Tolerance: each metric within 10% relative (or 0.05 absolute) of the committed file; same claims."""
    committed = json.loads(RESULTS.read_text())
    result = D.run(D.Config()).to_json()
    assert result["config"] == committed["config"]
    assert [c["holds"] for c in result["claims"]] == [c["holds"] for c in committed["claims"]]
    for k, v in committed["metrics"].items():
        assert result["metrics"][k] == pytest.approx(v, rel=0.10, abs=0.05), k
