"""Reference-implementation results for the site, read from `reference_impls/results/<impl>.json`
without importing the implementation (no torch needed to build the site).

Two formats are read. The current one (issue 14): `{impl, title, config, seeds, metrics, metric_std,
metric_labels, claims: [findings with verdict, paper, lhs/rhs means and stds, per_seed, note],
checks: [{check, lhs, rhs, holds}], seconds, versions, series}`. The older one has claims of
`{claim, lhs, rhs, holds}` only: each is shown as a one-run finding. `series` is optional plot data:
`{name: {title, xlabel, ylabel, lines: {label: {x, y}}}}`. The tiny model zoo is described by
`reference_impls/results/zoo.json` when present.
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from smatlas.errors import UserError

VERDICTS = ("reproduces", "mixed", "does not reproduce")


@dataclass
class Claim:
    """A finding: what a paper reports, checked on tiny models."""

    claim: str
    lhs: float
    rhs: float
    holds: bool
    verdict: str = ""
    paper: str | None = None
    op: str = ""
    lhs_label: str = ""
    rhs_label: str = ""
    lhs_std: float | None = None
    rhs_std: float | None = None
    seeds: int = 1  # runs behind the verdict (len(per_seed), or 1 for the older format)
    seeds_holding: int | None = None
    note: str = ""

    def __post_init__(self):
        if not self.verdict:
            self.verdict = "reproduces" if self.holds else "does not reproduce"


@dataclass
class Check:
    """A sanity check of the code (an invariant), not a finding."""

    check: str
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
    title: str = ""
    seeds: list[int] = field(default_factory=list)
    metric_std: dict[str, float] = field(default_factory=dict)
    metric_labels: dict[str, str] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    config: dict = field(default_factory=dict)

    @property
    def reproduced(self) -> int:
        return sum(c.verdict == "reproduces" for c in self.claims)

    def label(self, metric: str) -> str:
        return self.metric_labels.get(metric) or metric


@dataclass
class ZooModel:
    name: str
    params: int
    d_model: int | None = None
    layers: int | None = None
    heads: int | None = None
    mlp: int | None = None
    steps: int | None = None
    batch: int | None = None
    seq_len: int | None = None
    lr: float | None = None
    heldout_ppl: float | None = None


@dataclass
class Zoo:
    models: dict[str, ZooModel]
    corpus_bytes: int | None = None
    corpus_description: str = ""


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _numbers(values) -> list[float]:
    if not isinstance(values, list):
        raise ValueError("expected a list of numbers")
    return [float("nan") if v is None else _number(v) for v in values]


def module_file(impl: str) -> str:
    """The implementation's source file, relative to the repository."""
    return f"reference_impls/{impl.replace('-', '_')}.py"


def module_docstring(root: Path, impl: str) -> str:
    """The implementation module's docstring, read with ast (without importing it, so without torch)."""
    try:
        return ast.get_docstring(ast.parse((root / module_file(impl)).read_text(encoding="utf-8"))) or ""
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return ""


def module_summary(root: Path, impl: str) -> str:
    """The first paragraph of the implementation module's docstring."""
    return " ".join(module_docstring(root, impl).split("\n\n")[0].split())


def docstring_blocks(doc: str) -> list[tuple[str, str]]:
    """A docstring as ("p", text) paragraphs and ("pre", text) blocks: a paragraph whose first line
    is indented (a formula, a list of rules) keeps its line breaks."""
    blocks = []
    for chunk in doc.strip("\n").split("\n\n"):
        if not chunk.strip():
            continue
        if chunk.startswith((" ", "\t")):
            lines = chunk.split("\n")
            indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
            blocks.append(("pre", "\n".join(line[indent:] for line in lines).rstrip()))
        else:
            blocks.append(("p", " ".join(chunk.split())))
    return blocks


def _optional_number(value) -> float | None:
    return None if value is None else _number(value)


def _claim(i: int, c) -> Claim:
    if not isinstance(c, dict) or not isinstance(c.get("claim"), str) or not isinstance(c.get("holds"), bool):
        raise ValueError(f"claims[{i}]: expected {{claim: text, lhs, rhs, holds: true|false}}")
    verdict = c.get("verdict") or ""
    if verdict and verdict not in VERDICTS:
        raise ValueError(f"claims[{i}].verdict: expected one of {', '.join(VERDICTS)}, got {verdict!r}")
    per_seed = c.get("per_seed") or []
    if not isinstance(per_seed, list):
        raise ValueError(f"claims[{i}].per_seed: expected a list")
    paper = c.get("paper")
    return Claim(
        c["claim"],
        _number(c.get("lhs")),
        _number(c.get("rhs")),
        c["holds"],
        verdict=verdict,
        paper=str(paper) if paper else None,
        op=str(c.get("op") or ""),
        lhs_label=str(c.get("lhs_label") or ""),
        rhs_label=str(c.get("rhs_label") or ""),
        lhs_std=_optional_number(c.get("lhs_std")),
        rhs_std=_optional_number(c.get("rhs_std")),
        seeds=len(per_seed) or 1,
        seeds_holding=sum(1 for s in per_seed if isinstance(s, dict) and s.get("holds") is True) if per_seed else None,
        note=str(c.get("note") or ""),
    )


def _check(i: int, c) -> Check:
    if not isinstance(c, dict) or not isinstance(c.get("check"), str) or not isinstance(c.get("holds"), bool):
        raise ValueError(f"checks[{i}]: expected {{check: text, lhs, rhs, holds: true|false}}")
    return Check(c["check"], _number(c.get("lhs")), _number(c.get("rhs")), c["holds"])


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
        claims = [_claim(i, c) for i, c in enumerate(data.get("claims") or [])]
        checks = [_check(i, c) for i, c in enumerate(data.get("checks") or [])]
        std_raw = data.get("metric_std") or {}
        labels_raw = data.get("metric_labels") or {}
        if not isinstance(std_raw, dict) or not isinstance(labels_raw, dict):
            raise ValueError("metric_std and metric_labels: expected objects keyed by metric name")
        metric_std = {str(k): _number(v) for k, v in std_raw.items()}
        metric_labels = {str(k): str(v) for k, v in labels_raw.items() if v}
        seeds = data.get("seeds") or []
        seeds = (
            [int(s) for s in seeds if isinstance(s, int) and not isinstance(s, bool)] if isinstance(seeds, list) else []
        )
        config = data.get("config") if isinstance(data.get("config"), dict) else {}
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
    found = ImplResults(impl, path, module_summary(root, impl), metrics, claims, seconds, versions, series)
    found.title = str(data.get("title") or "")
    found.seeds, found.metric_std, found.metric_labels = seeds, metric_std, metric_labels
    found.checks, found.config = checks, config
    return found, []


def read_zoo(root: Path) -> Zoo | None:
    """The tiny model zoo (`reference_impls/results/zoo.json`), or None when it is missing or unreadable."""
    file = root / "reference_impls" / "results" / "zoo.json"
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        models = {}
        for m in data.get("models") or []:
            fields = {k: m.get(k) for k in ZooModel.__dataclass_fields__ if k in m}
            models[str(m["name"])] = ZooModel(**fields)
        corpus = data.get("corpus") or {}
        return Zoo(models, corpus.get("bytes"), str(corpus.get("description") or ""))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
        return None


ZOO_NAME = re.compile(r"zoo-[\w.]+")


def zoo_names_in(config: dict, names=None) -> list[str]:
    """The zoo model names that a run's config mentions (values, nested lists and dicts included):
    those in `names`, or without zoo.json (names None) every string that looks like one."""
    found: list[str] = []

    def walk(value) -> None:
        if isinstance(value, str):
            known = ZOO_NAME.fullmatch(value) if names is None else value in names
            if known and value not in found:
                found.append(value)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    walk(config)
    return found


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
