"""Findings over seeds: verdicts, metric bands, and the comparison `smatlas reproduce` prints.

A reference implementation's `run(config)` measures one seed. A full run repeats it over several
seeds (each seed also trains its own zoo) and `aggregate` turns the per-seed results into the
results file: every metric's mean and standard deviation, every finding's per-seed sides and its
verdict, every sanity check's outcome on all seeds. Pure Python on the JSON objects, so the site and
the tests use it without torch.

Verdict of a finding whose per-seed margins are m_1..m_n (positive when it holds), mean m and
standard error se = sd(m_i) / sqrt(n):

    reproduces          it holds on every seed, or m > 2 se
    does not reproduce  it fails on every seed, or m < -2 se
    mixed               otherwise

A metric's band, for comparing a new run of the same seeds (on another machine, say) with the
committed one: mean +- max(BAND_SIGMAS * sd * sqrt(2 / n), REL_FLOOR * |mean|, ABS_FLOOR). Two
runs of the same seeds on different CPUs differ in the last bits, and training amplifies that into
differences of the size of a change of seed; the difference of two means of n seeds then has
standard deviation sd * sqrt(2 / n). The floors cover metrics that do not vary over seeds at all.
"""

from __future__ import annotations

import math
from typing import Any

REPRODUCES, MIXED, FAILS = "reproduces", "mixed", "does not reproduce"
VERDICTS = (REPRODUCES, MIXED, FAILS)
BASE_SEEDS = (0, 1, 2)  # every full run
EXTRA_SEEDS = (3, 4)  # added when a finding's margin is under two standard deviations
BAND_SIGMAS = 4.0
REL_FLOOR = 0.01
ABS_FLOOR = 1e-6


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def std(xs: list[float]) -> float:
    """Sample standard deviation (n - 1); 0 for a single value."""
    if len(xs) < 2:
        return 0.0
    m = mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def margin(lhs: float, op: str, rhs: float) -> float:
    """rhs - lhs for "<" and "<=", lhs - rhs for ">" and ">=": positive when lhs op rhs holds."""
    return rhs - lhs if op in ("<", "<=") else lhs - rhs


def verdict(margins: list[float], holds: list[bool]) -> str:
    """The verdict of a finding from its per-seed margins and outcomes (see the module docstring)."""
    m = mean(margins)
    se = std(margins) / math.sqrt(len(margins))
    if all(holds) or (len(margins) > 1 and m > 2 * se):
        return REPRODUCES
    if not any(holds) or (len(margins) > 1 and m < -2 * se):
        return FAILS
    return MIXED


def needs_more_seeds(runs: list[dict]) -> bool:
    """True when some finding's mean margin is under two standard deviations of its margins."""
    for i in range(len(runs[0]["claims"])):
        ms = [margin(r["claims"][i]["lhs"], r["claims"][i]["op"], r["claims"][i]["rhs"]) for r in runs]
        if abs(mean(ms)) < 2 * std(ms):
            return True
    return False


def _mean_series(series: list[dict]) -> dict:
    """Each plot's lines averaged over seeds where their x values agree (else the first seed's)."""
    out: dict[str, Any] = {}
    for name, plot in series[0].items():
        lines = {}
        for label, line in plot["lines"].items():
            ys = [s[name]["lines"][label]["y"] for s in series if label in s.get(name, {}).get("lines", {})]
            same_x = all(s[name]["lines"][label]["x"] == line["x"] for s in series if label in s[name]["lines"])
            if same_x and len(ys) == len(series):
                lines[label] = {"x": line["x"], "y": [mean(list(col)) for col in zip(*ys, strict=True)]}
            else:
                lines[label] = line
        out[name] = {**plot, "lines": lines}
        if len(series) > 1:
            out[name]["note"] = f"mean over {len(series)} seeds"
    return out


def aggregate(runs: list[dict], seeds: list[int], title: str = "") -> dict:
    """The results file from per-seed results (`Result.to_json()` of each seed, in seed order)."""
    if not runs or len(runs) != len(seeds):
        raise ValueError("one run per seed")
    first = runs[0]
    for r in runs[1:]:
        if [c["claim"] for c in r["claims"]] != [c["claim"] for c in first["claims"]]:
            raise ValueError("the seeds' runs state different findings")
    # Metrics every seed measured (a seed may name some by what it found, e.g. its top-weighted words).
    keys = [k for k in first["metrics"] if all(k in r["metrics"] for r in runs)]
    config = {k: v for k, v in first["config"].items() if k != "seed"}
    metrics = {k: mean([r["metrics"][k] for r in runs]) for k in keys}
    claims = []
    for i, c in enumerate(first["claims"]):
        per_seed = [
            {"seed": s, "lhs": r["claims"][i]["lhs"], "rhs": r["claims"][i]["rhs"], "holds": r["claims"][i]["holds"]}
            for s, r in zip(seeds, runs, strict=True)
        ]
        ms = [margin(p["lhs"], c["op"], p["rhs"]) for p in per_seed]
        v = verdict(ms, [p["holds"] for p in per_seed])
        lhs, rhs = [p["lhs"] for p in per_seed], [p["rhs"] for p in per_seed]
        claims.append(
            {
                "claim": c["claim"],
                "paper": c["paper"],
                "op": c["op"],
                "lhs_label": c.get("lhs_label", ""),
                "rhs_label": c.get("rhs_label", ""),
                "lhs": mean(lhs),
                "rhs": mean(rhs),
                "lhs_std": std(lhs),
                "rhs_std": std(rhs),
                "margin": mean(ms),
                "margin_se": std(ms) / math.sqrt(len(ms)),
                "per_seed": per_seed,
                "verdict": v,
                "holds": v == REPRODUCES,
                # the note says why the paper's result does not reproduce here: kept only when it does not
                **({"note": c["note"]} if c.get("note") and v != REPRODUCES else {}),
            }
        )
    checks = []
    for i, c in enumerate(first["checks"]):
        outcomes = [r["checks"][i] for r in runs]
        worst = next((o for o in outcomes if not o["holds"]), outcomes[0])
        checks.append(
            {
                "check": c["check"],
                "op": c["op"],
                "lhs": worst["lhs"],
                "rhs": worst["rhs"],
                "holds": all(o["holds"] for o in outcomes),
                "seeds_holding": sum(o["holds"] for o in outcomes),
            }
        )
    return {
        "impl": first["impl"],
        **({"title": title} if title else {}),
        "config": config,
        "seeds": list(seeds),
        "metrics": metrics,
        "metric_std": {k: std([r["metrics"][k] for r in runs]) for k in keys},
        "metric_seeds": {k: [r["metrics"][k] for r in runs] for k in keys},
        "metric_labels": {
            k: v for k, v in first.get("labels", {}).items() if k in keys or k in first.get("timings", {})
        },
        "timings": {
            k: mean([r["timings"][k] for r in runs])
            for k in first.get("timings", {})
            if all(k in r.get("timings", {}) for r in runs)
        },
        "claims": claims,
        "checks": checks,
        "seconds": round(sum(r["seconds"] for r in runs), 2),
        "versions": first["versions"],
        "series": _mean_series([r["series"] for r in runs]) if first["series"] else {},
    }


def band(committed: dict, key: str) -> tuple[float, float]:
    """The interval a re-run of the committed seeds should land in for metric `key`."""
    m = committed["metrics"][key]
    n = len(committed.get("seeds", [0]))
    sd = committed.get("metric_std", {}).get(key, 0.0)
    half = max(BAND_SIGMAS * sd * math.sqrt(2 / n), REL_FLOOR * abs(m), ABS_FLOOR)
    return m - half, m + half


def flipped(before: str, after: str) -> bool:
    """A verdict flips when it changes between "reproduces" and "does not reproduce"; moving to or
    from "mixed" is reported but is not a failure (a mixed finding sits within the noise)."""
    return {before, after} == {REPRODUCES, FAILS}


def compare(committed: dict, measured: dict) -> dict:
    """Committed results beside a re-run of the same seeds: per finding both verdicts, per metric
    both means and the band. `ok` is False only when a verdict flips or a metric leaves its band."""
    findings = []
    by_claim = {c["claim"]: c for c in measured["claims"]}
    for c in committed["claims"]:
        new = by_claim.get(c["claim"])
        after = new["verdict"] if new else "missing"
        findings.append(
            {
                "claim": c["claim"],
                "paper": c.get("paper", ""),
                "committed": c.get("verdict", REPRODUCES if c["holds"] else FAILS),
                "measured": after,
                "flipped": new is None or flipped(c.get("verdict", ""), after),
            }
        )
    metrics = []
    for key, value in committed["metrics"].items():
        lo, hi = band(committed, key)
        new = measured["metrics"].get(key)
        metrics.append(
            {
                "metric": key,
                "committed": value,
                "measured": new,
                "band": [lo, hi],
                "inside": new is not None and lo <= new <= hi,
            }
        )
    ok = not any(f["flipped"] for f in findings) and all(m["inside"] for m in metrics)
    return {"impl": committed["impl"], "findings": findings, "metrics": metrics, "ok": ok}
