"""Task-specific: the quick run (tuned small model against an untuned large one) and reproduction."""

import pytest
from conftest import sound_quick_run

from reference_impls.common import set_threads

set_threads(1)


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("task-specific")
    m = result["metrics"]
    assert m["small_tuned_accuracy"] > m["small_untuned_accuracy"] + 0.1  # the tuning did the work
    assert m["cost_ratio_flops"] == pytest.approx(m["small_flops_per_token"] / m["large_flops_per_token"])
