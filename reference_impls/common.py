"""The frame every reference implementation shares: claims, results, seeding, threads, progress.

An implementation is a module of this package that defines a `Config` dataclass (with
`Config.quick()` for the `--quick` settings) and `run(config, progress=None) -> Result`.
Torch is imported here because only the implementations import this module; `smatlas` never does
at import time.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

# A progress callback: fraction of the whole run done (0..1) and a short description of the stage.
Progress = Callable[[float, str], None]

# Claim comparison operators, written the way the claim sentence reads.
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
}


@dataclass
class Finding:
    """What a reader would quote: a statement about what the technique achieves, decided by the models'
    outcomes and compared with a baseline that can win (the paper's own comparison where it has one).

    `Finding.compare("Wanda beats magnitude pruning at 50% sparsity", "sun2024simple", ppl_wanda, "<",
    ppl_magnitude, "Wanda", "magnitude")`. A multi-seed run decides its verdict (`verdict`).
    """

    claim: str
    paper: str  # the atlas paper id whose result this mirrors
    lhs: float
    op: str  # "<", "<=", ">" or ">=", as the sentence reads
    rhs: float
    lhs_label: str = ""  # short readable names of the two sides
    rhs_label: str = ""
    note: str = ""  # where the paper's result does not reproduce at tiny scale: why, if known

    @classmethod
    def compare(
        cls,
        claim: str,
        paper: str,
        lhs: float,
        op: str,
        rhs: float,
        lhs_label: str = "",
        rhs_label: str = "",
        note: str = "",
    ) -> Finding:
        if op not in ("<", "<=", ">", ">="):
            raise ValueError(f"a finding compares with <, <=, > or >=, not {op!r}")
        return cls(claim, paper, float(lhs), op, float(rhs), lhs_label, rhs_label, note)

    @property
    def holds(self) -> bool:
        return bool(_OPS[self.op](self.lhs, self.rhs))

    @property
    def margin(self) -> float:
        """How far the finding holds: positive when it holds, in the units of the two sides."""
        return margin(self.lhs, self.op, self.rhs)


@dataclass
class Check:
    """A sanity check: an identity or invariant that holds by construction, whatever the models learn
    (cost counted call by call equals the formula; a 2:4 mask keeps 2 of every 4 weights). Shown apart
    from the findings and never counted as a reproduced result."""

    check: str
    lhs: float
    op: str
    rhs: float

    @classmethod
    def compare(cls, check: str, lhs: float, op: str, rhs: float) -> Check:
        return cls(check, float(lhs), op, float(rhs))

    @property
    def holds(self) -> bool:
        return bool(_OPS[self.op](self.lhs, self.rhs))


def margin(lhs: float, op: str, rhs: float) -> float:
    """rhs - lhs for "<" and "<=", lhs - rhs for ">" and ">=": positive when lhs op rhs holds."""
    return rhs - lhs if op in ("<", "<=") else lhs - rhs


@dataclass
class Result:
    """What `run` returns for one seed; `to_json()` is what `--json` prints for it. The results file
    holds several seeds aggregated by `aggregate`."""

    impl: str  # implementation id, e.g. "pruning"
    config: dict[str, Any]  # the Config the run used, as a plain dict
    metrics: dict[str, float]  # measured numbers, flat name -> value
    findings: list[Finding]  # what the technique achieves against its baseline
    checks: list[Check]  # sanity checks: identities and invariants
    seconds: float  # wall-clock time of the run
    series: dict[str, Any] = field(default_factory=dict)
    # Plot data for the site: {name: {"title", "xlabel", "ylabel", "lines": {label: {"x", "y"}}}}
    labels: dict[str, str] = field(default_factory=dict)  # readable names of metrics (key -> label)
    timings: dict[str, float] = field(default_factory=dict)  # machine-dependent numbers (seconds,
    # tokens per second and ratios of them): reported, never compared across machines
    versions: dict[str, str] = field(default_factory=lambda: versions())

    @property
    def ok(self) -> bool:
        """Every sanity check holds (findings may fail: that is a result, not an error)."""
        return all(c.holds for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        """{impl, config, metrics, timings, labels, claims: [finding...], checks, seconds, versions, series}"""
        return {
            "impl": self.impl,
            "config": self.config,
            "metrics": {k: float(v) for k, v in self.metrics.items()},
            "timings": {k: float(v) for k, v in self.timings.items()},
            "labels": dict(self.labels),
            "claims": [{**dataclasses.asdict(f), "holds": f.holds} for f in self.findings],
            "checks": [{**dataclasses.asdict(c), "holds": c.holds} for c in self.checks],
            "seconds": round(float(self.seconds), 2),
            "versions": self.versions,
            "series": self.series,
        }


def versions() -> dict[str, str]:
    """Python, torch, transformers and numpy versions (results record what produced them)."""
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": np.__version__,
    }


def impl_id(module_name: str) -> str:
    """`reference_impls.speculative_decoding` -> `speculative-decoding`."""
    return module_name.rsplit(".", 1)[-1].replace("_", "-")


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def default_threads() -> int:
    """Torch threads to use: $SMATLAS_THREADS, else 1 (measured fastest on a loaded 2-core machine)."""
    return int(os.environ.get("SMATLAS_THREADS", "1"))


def set_threads(n: int | None = None) -> int:
    """Set the torch intra-op thread count (default `default_threads()`); returns it."""
    n = n or default_threads()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def report(progress: Progress | None, fraction: float, stage: str) -> None:
    """Call the progress callback if there is one."""
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), stage)


def sub_progress(progress: Progress | None, start: float, end: float) -> Progress | None:
    """A callback mapping 0..1 onto start..end of the parent's range (for a stage of a run)."""
    if progress is None:
        return None
    return lambda f, s: progress(start + (end - start) * f, s)


class Timer:
    """`with Timer() as t: ...; t.seconds`."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def config_dict(config: Any) -> dict[str, Any]:
    """A Config dataclass as a plain JSON-ready dict."""
    return dataclasses.asdict(config)
