"""The committed results of the reference implementations: findings over seeds with verdicts that
follow the rule, sanity checks apart and passing, papers that exist, and READMEs generated from them.

No torch and no training: these read the files `make reproduce` compares against."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT

from smatlas import findings as F
from smatlas import impl_report
from smatlas.kb import implementation_ids

RESULTS = ROOT / "reference_impls" / "results"
IMPLS = sorted(implementation_ids(ROOT))


def load(impl: str) -> dict:
    return json.loads((RESULTS / f"{impl}.json").read_text(encoding="utf-8"))


def test_every_implementation_has_a_committed_results_file():
    assert sorted(p.stem for p in RESULTS.glob("*.json") if p.stem != "zoo") == IMPLS


@pytest.mark.parametrize("impl", IMPLS)
def test_results_hold_findings_over_at_least_three_seeds_with_verdicts_that_follow_the_rule(impl):
    r = load(impl)
    seeds = r["seeds"]
    assert len(seeds) >= 3 and len(set(seeds)) == len(seeds)
    assert r["claims"], "every implementation states at least one finding"
    for c in r["claims"]:
        assert (ROOT / "papers" / f"{c['paper']}.yaml").is_file(), f"{c['claim']}: no paper {c['paper']}"
        assert c["op"] in ("<", "<=", ">", ">=")
        assert [p["seed"] for p in c["per_seed"]] == seeds
        for p in c["per_seed"]:
            m = F.margin(p["lhs"], c["op"], p["rhs"])
            assert p["holds"] == (m >= 0 if c["op"] in ("<=", ">=") else m > 0)
        margins = [F.margin(p["lhs"], c["op"], p["rhs"]) for p in c["per_seed"]]
        assert c["verdict"] == F.verdict(margins, [p["holds"] for p in c["per_seed"]])
        assert c["holds"] == (c["verdict"] == F.REPRODUCES)
        assert c["lhs"] == pytest.approx(F.mean([p["lhs"] for p in c["per_seed"]]))
        assert c["rhs"] == pytest.approx(F.mean([p["rhs"] for p in c["per_seed"]]))
        assert c["lhs_std"] == pytest.approx(F.std([p["lhs"] for p in c["per_seed"]]))
        # five seeds wherever the margin is within two standard deviations
        if len(seeds) < 5:
            assert abs(F.mean(margins)) >= 2 * F.std(margins), f"{c['claim']}: needs seeds 3 and 4"


@pytest.mark.parametrize("impl", IMPLS)
def test_results_keep_sanity_checks_apart_and_every_one_passes(impl):
    r = load(impl)
    failing = [c["check"] for c in r["checks"] if not c["holds"]]
    assert not failing
    assert not {c["check"] for c in r["checks"]} & {c["claim"] for c in r["claims"]}


@pytest.mark.parametrize("impl", IMPLS)
def test_results_carry_each_metric_with_its_spread_over_seeds(impl):
    r = load(impl)
    assert set(r["metric_std"]) == set(r["metrics"]) == set(r["metric_seeds"])
    for key, values in r["metric_seeds"].items():
        assert len(values) == len(r["seeds"]) and r["metrics"][key] == pytest.approx(F.mean(values)), key
    assert set(r["metric_labels"]) <= set(r["metrics"]) | set(r.get("timings", {}))


def test_readmes_are_generated_from_the_results_files():
    """Every number about a run in the READMEs comes from a results file (scripts/impl_readme.py)."""
    out = subprocess.run(
        [sys.executable, "scripts/impl_readme.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    readme = (ROOT / "reference_impls" / "README.md").read_text(encoding="utf-8")
    for impl in IMPLS:
        assert f"<!-- results:{impl} -->" in readme, f"reference_impls/README.md has no results block for {impl}"
    assert "<!-- results:summary -->" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "<!-- results:suggest -->" in (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")


def test_the_summary_counts_every_finding_once():
    results = impl_report.load_all()
    n = impl_report.counts(results)
    assert sum(n.values()) == sum(len(r["claims"]) for r in results.values())
    assert f"{n[F.REPRODUCES]} of {sum(n.values())} paper findings reproduce" in impl_report.summary(results)
