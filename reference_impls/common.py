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
class Claim:
    """A sentence the run checked, the two numbers it compared, and whether the claim holds."""

    claim: str
    lhs: float
    rhs: float
    holds: bool

    @classmethod
    def compare(cls, claim: str, lhs: float, op: str, rhs: float) -> Claim:
        """`Claim.compare("ppl Wanda < ppl magnitude", 31.2, "<", 40.5)` checks lhs op rhs."""
        lhs, rhs = float(lhs), float(rhs)
        return cls(claim=claim, lhs=lhs, rhs=rhs, holds=bool(_OPS[op](lhs, rhs)))


@dataclass
class Result:
    """What `run` returns; `to_json()` is what the results file and `--json` hold."""

    impl: str  # implementation id, e.g. "pruning"
    config: dict[str, Any]  # the Config the run used, as a plain dict
    metrics: dict[str, float]  # measured numbers, flat name -> value
    claims: list[Claim]  # the claims checked
    seconds: float  # wall-clock time of the run
    versions: dict[str, str] = field(default_factory=lambda: versions())
    # Plot data for the site: {name: {"title", "xlabel", "ylabel", "lines": {label: {"x", "y"}}}}
    series: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.holds for c in self.claims)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready {impl, config, metrics, claims: [{claim, lhs, rhs, holds}], seconds, versions,
        series}"""
        return {
            "impl": self.impl,
            "config": self.config,
            "metrics": {k: float(v) for k, v in self.metrics.items()},
            "claims": [dataclasses.asdict(c) for c in self.claims],
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
