"""smatlas.findings: the verdict rule, aggregation over seeds, metric bands and the reproduce comparison."""

import math

import pytest

from smatlas import findings as F


def run(seed_value: float, check_ok: bool = True, series_y=(1.0, 2.0)) -> dict:
    """A one-seed result object with one finding (value < 1), one check and one plot."""
    return {
        "impl": "fake",
        "config": {"steps": 3, "seed": 0},
        "metrics": {"value": seed_value, "params": 100.0},
        "timings": {"seconds_per_token": 0.1},
        "labels": {"value": "the value"},
        "claims": [
            {
                "claim": "value < 1",
                "paper": "doe2024small",
                "lhs": seed_value,
                "op": "<",
                "rhs": 1.0,
                "lhs_label": "v",
                "rhs_label": "1",
                "note": "why it fails",
                "holds": seed_value < 1,
            }
        ],  # fmt: skip
        "checks": [{"check": "identity", "lhs": 0.0 if check_ok else 1.0, "op": "==", "rhs": 0.0, "holds": check_ok}],
        "seconds": 1.0,
        "versions": {"torch": "x"},
        "series": {
            "plot": {"title": "t", "xlabel": "x", "ylabel": "y", "lines": {"a": {"x": [0, 1], "y": list(series_y)}}}
        },
    }


@pytest.mark.parametrize(
    ("margins", "verdict"),
    [
        ([0.1, 0.2, 0.3], F.REPRODUCES),  # holds on every seed
        ([-0.1, -0.2, -0.3], F.FAILS),  # fails on every seed
        ([1.0, 1.1, 0.9, 1.0, -0.01], F.REPRODUCES),  # one tiny failure, mean far above two standard errors
        ([-1.0, -1.1, -0.9, -1.0, 0.01], F.FAILS),
        ([0.5, -0.5, 0.4], F.MIXED),  # within the noise
    ],
)
def test_verdict_follows_the_rule(margins, verdict):
    assert F.verdict(margins, [m > 0 for m in margins]) == verdict


def test_margin_is_positive_exactly_when_the_comparison_holds():
    assert F.margin(1.0, "<", 2.0) == 1.0 and F.margin(3.0, ">", 2.0) == 1.0
    assert F.margin(2.0, "<=", 1.0) < 0 and F.margin(1.0, ">=", 2.0) < 0


def test_aggregate_gives_means_spreads_per_seed_sides_and_verdicts():
    out = F.aggregate([run(0.5), run(2.0), run(0.8)], [0, 1, 2], title="A fake")
    assert out["seeds"] == [0, 1, 2] and out["title"] == "A fake" and "seed" not in out["config"]
    assert out["metrics"]["value"] == pytest.approx(1.1) and out["metric_seeds"]["value"] == [0.5, 2.0, 0.8]
    assert out["metric_std"]["value"] == pytest.approx(math.sqrt(((0.6**2) + (0.9**2) + (0.3**2)) / 2))
    (c,) = out["claims"]
    assert [p["holds"] for p in c["per_seed"]] == [True, False, True]
    assert c["verdict"] == F.MIXED and c["holds"] is False and c["note"] == "why it fails"
    assert c["lhs"] == pytest.approx(1.1) and c["rhs"] == 1.0 and c["rhs_std"] == 0.0
    assert out["checks"][0]["holds"] and out["checks"][0]["seeds_holding"] == 3
    assert out["series"]["plot"]["lines"]["a"]["y"] == [1.0, 2.0] and "3 seeds" in out["series"]["plot"]["note"]
    assert out["timings"] == {"seconds_per_token": pytest.approx(0.1)} and out["seconds"] == 3.0


def test_a_reproduced_finding_keeps_no_note_and_a_failing_check_is_reported_with_its_failing_seed():
    out = F.aggregate([run(0.5), run(0.6, check_ok=False), run(0.7)], [0, 1, 2])
    assert out["claims"][0]["verdict"] == F.REPRODUCES and "note" not in out["claims"][0]
    assert out["checks"][0] == {
        "check": "identity",
        "op": "==",
        "lhs": 1.0,
        "rhs": 0.0,
        "holds": False,
        "seeds_holding": 2,
    }


def test_aggregate_refuses_seeds_that_state_different_findings():
    other = run(0.5)
    other["claims"][0]["claim"] = "something else"
    with pytest.raises(ValueError, match="different findings"):
        F.aggregate([run(0.5), other], [0, 1])


def test_more_seeds_are_needed_only_when_a_margin_is_within_two_standard_deviations():
    assert not F.needs_more_seeds([run(0.5), run(0.6), run(0.4)])  # margin 0.5, sd 0.1
    assert F.needs_more_seeds([run(0.5), run(2.0), run(0.8)])  # margin -0.1, sd 0.8


def test_band_scales_with_the_spread_and_has_floors():
    committed = F.aggregate([run(0.5), run(0.7), run(0.9)], [0, 1, 2])
    lo, hi = F.band(committed, "value")
    half = F.BAND_SIGMAS * 0.2 * math.sqrt(2 / 3)
    assert (lo, hi) == (pytest.approx(0.7 - half), pytest.approx(0.7 + half))
    lo, hi = F.band(committed, "params")  # the same on every seed: the relative floor
    assert (lo, hi) == (pytest.approx(99.0), pytest.approx(101.0))


def test_compare_fails_only_on_a_flip_or_a_metric_out_of_its_band():
    committed = F.aggregate([run(0.5), run(0.7), run(0.9)], [0, 1, 2])
    same = F.compare(committed, F.aggregate([run(0.52), run(0.71), run(0.88)], [0, 1, 2]))
    assert same["ok"] and [f["measured"] for f in same["findings"]] == [F.REPRODUCES]
    moved = F.compare(committed, F.aggregate([run(0.5), run(1.2), run(0.9)], [0, 1, 2]))
    assert moved["findings"][0]["measured"] == F.REPRODUCES or not moved["findings"][0]["flipped"]
    flipped = F.compare(committed, F.aggregate([run(1.5), run(1.7), run(1.9)], [0, 1, 2]))
    assert not flipped["ok"] and flipped["findings"][0]["flipped"]
    assert not flipped["metrics"][0]["inside"] and flipped["metrics"][1]["inside"]


def test_a_change_to_or_from_mixed_is_not_a_flip():
    assert not F.flipped(F.REPRODUCES, F.MIXED) and not F.flipped(F.MIXED, F.FAILS)
    assert F.flipped(F.REPRODUCES, F.FAILS) and F.flipped(F.FAILS, F.REPRODUCES)


def test_a_metric_that_only_some_seeds_measured_is_left_out():
    a, b = run(0.5), run(0.6)
    a["metrics"]["weight[tasty]"] = 2.0  # named by what seed 0 found
    out = F.aggregate([a, b], [0, 1])
    assert set(out["metrics"]) == set(out["metric_std"]) == set(out["metric_seeds"]) == {"value", "params"}
