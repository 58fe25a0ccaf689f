"""Reference-implementation results for the site, read from `reference_impls/results/<impl>.json`
without importing the implementation (no torch needed to build the site).

A results file holds `{impl, config, metrics, claims: [{claim, lhs, rhs, holds}], seconds, versions,
series}`; `series` is optional plot data: `{name: {title, xlabel, ylabel, lines: {label: {x, y}}}}`.
"""

from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from smatlas.errors import UserError


@dataclass
class Claim:
    claim: str
    lhs: float
    rhs: float
    holds: bool


@dataclass
class Series:
    title: str
    xlabel: str
    ylabel: str
    lines: dict[str, tuple[list[float], list[float]]]


@dataclass
class ImplResults:
    impl: str
    path: str  # the results file, relative to the repository
    shows: str  # what the implementation shows: its module docstring's first paragraph
    metrics: dict[str, float]
    claims: list[Claim]
    seconds: float | None = None
    versions: dict[str, str] = field(default_factory=dict)
    series: list[Series] = field(default_factory=list)


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _numbers(values) -> list[float]:
    if not isinstance(values, list):
        raise ValueError("expected a list of numbers")
    return [float("nan") if v is None else _number(v) for v in values]


def module_summary(root: Path, impl: str) -> str:
    """The first paragraph of the implementation module's docstring, read without importing it."""
    file = root / "reference_impls" / f"{impl.replace('-', '_')}.py"
    try:
        doc = ast.get_docstring(ast.parse(file.read_text(encoding="utf-8")))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return ""
    return " ".join((doc or "").split("\n\n")[0].split())


def read_results(root: Path, impl: str) -> tuple[ImplResults | None, list[UserError]]:
    """The results of one implementation; (None, []) when it has no results file yet."""
    file = root / "reference_impls" / "results" / f"{impl}.json"
    path = f"reference_impls/results/{impl}.json"
    if not file.is_file():
        return None, []
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("the top level must be an object")
        metrics_raw = data.get("metrics") or {}
        if not isinstance(metrics_raw, dict):
            raise ValueError("metrics: expected an object of name -> number")
        metrics = {str(k): _number(v) for k, v in metrics_raw.items()}
        claims = []
        for i, c in enumerate(data.get("claims") or []):
            if not isinstance(c, dict) or not isinstance(c.get("claim"), str) or not isinstance(c.get("holds"), bool):
                raise ValueError(f"claims[{i}]: expected {{claim: text, lhs, rhs, holds: true|false}}")
            claims.append(Claim(c["claim"], _number(c.get("lhs")), _number(c.get("rhs")), c["holds"]))
        series = []
        raw_series = data.get("series") or {}
        if not isinstance(raw_series, dict):
            raise ValueError("series: expected an object of name -> {title, xlabel, ylabel, lines}")
        for name, s in raw_series.items():
            if not isinstance(s, dict) or not isinstance(s.get("lines"), dict):
                raise ValueError(f"series.{name}: expected {{title, xlabel, ylabel, lines: {{label: {{x, y}}}}}}")
            lines = {}
            for label, line in s["lines"].items():
                if not isinstance(line, dict):
                    raise ValueError(f"series.{name}.lines.{label}: expected {{x: [...], y: [...]}}")
                lines[str(label)] = (_numbers(line.get("x")), _numbers(line.get("y")))
            series.append(
                Series(str(s.get("title") or name), str(s.get("xlabel") or ""), str(s.get("ylabel") or ""), lines)
            )
        seconds = data.get("seconds")
        seconds = _number(seconds) if seconds is not None else None
        versions = data.get("versions") or {}
        versions = {str(k): str(v) for k, v in versions.items()} if isinstance(versions, dict) else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        return None, [UserError(path, getattr(exc, "lineno", 0), getattr(exc, "colno", 0), f"results: {exc}")]
    if any(not math.isfinite(v) for v in metrics.values()):
        metrics = {k: v for k, v in metrics.items() if math.isfinite(v)}
    return ImplResults(impl, path, module_summary(root, impl), metrics, claims, seconds, versions, series), []


def no_impl_reasons(root: Path) -> dict[str, str]:
    """Why a taxonomy node has no implementation, from `reference_impls/no_impl.yaml` ({node: reason})."""
    import yaml

    file = root / "reference_impls" / "no_impl.yaml"
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}
