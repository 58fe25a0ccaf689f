"""Shared fixtures: tiny atlases built in a temporary folder."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from smatlas.cli import main
from smatlas.yamlio import read_document

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

VALID_PAPER = """\
# yaml-language-server: $schema=schema.json
id: doe2024small
title: Small Models Help Large Ones
authors:
  - Jane Doe
  - Ada Lovelace
year: 2024
venue:
  name: ICLR
  kind: conference
arxiv: '2401.00001'
taxonomy:
  - routing
tags:
  - method
summary: >-
  A small router decides which queries a large model must answer, and the small model answers the
  rest, which saves most of the cost at the same quality.
added: 2026-11-23
"""


def copy_taxonomy(dst: Path) -> None:
    """Copy the real taxonomy and tags to dst, with the reference-implementation modules its nodes
    list (validation checks that every listed implementation exists)."""
    shutil.copytree(ROOT / "taxonomy", dst / "taxonomy")
    (dst / "reference_impls").mkdir()
    for module in (ROOT / "reference_impls").glob("*.py"):
        shutil.copy(module, dst / "reference_impls" / module.name)


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture
def no_network(monkeypatch):
    """Any name lookup other than the loopback fails, so a request that escapes is an error (for the
    commands that fetch on request: `new --arxiv/--doi`, `check-links --online`)."""
    real = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        if host not in LOOPBACK:
            raise OSError(f"network disabled in tests: {host}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


@pytest.fixture
def atlas(tmp_path: Path) -> Path:
    """A copy of the real taxonomy and tags with one valid paper."""
    copy_taxonomy(tmp_path)
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "doe2024small.yaml").write_text(VALID_PAPER, encoding="utf-8")
    return tmp_path


def write_paper(atlas: Path, name: str, text: str | bytes) -> Path:
    path = atlas / "papers" / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


_quick_runs: dict[str, tuple[dict, bool]] = {}


def quick_run(impl: str) -> tuple[dict, bool]:
    """`smatlas run IMPL --quick` through smatlas.runner, once per test session: (the result object,
    whether reference_impls/results/IMPL.json was left alone, bytes and modification time)."""
    if impl not in _quick_runs:
        from smatlas import runner

        path = runner.RESULTS / f"{impl}.json"

        def state() -> tuple[bytes, int] | None:
            return (path.read_bytes(), path.stat().st_mtime_ns) if path.exists() else None

        before = state()
        result = runner.run_tasks([(impl, 0)], quick=True, say=lambda msg: None)[impl, 0]
        _quick_runs[impl] = (result, state() == before)
    return _quick_runs[impl]


def sound_quick_run(impl: str) -> dict:
    """The quick run of IMPL (once per session), checked for what must hold on any machine: every
    sanity check passes, every finding names an atlas paper and compares two numbers, and the
    committed results file was left alone. Findings are not asserted: whether the paper's result
    holds is measured over seeds by `make reproduce`, not decided by one quick run."""
    result, untouched = quick_run(impl)
    assert untouched, "a quick run must not touch reference_impls/results"
    assert result["impl"] == impl
    assert set(result) == {
        "impl",
        "config",
        "metrics",
        "timings",
        "labels",
        "claims",
        "checks",
        "seconds",
        "versions",
        "series",
    }
    assert result["claims"], "an implementation states at least one finding"
    failing = [c for c in result["checks"] if not c["holds"]]
    assert not failing, failing
    for f in result["claims"]:
        assert (ROOT / "papers" / f"{f['paper']}.yaml").is_file(), f"{f['claim']}: no paper {f['paper']}"
        assert f["op"] in ("<", "<=", ">", ">=") and isinstance(f["lhs"], float) and isinstance(f["rhs"], float)
    return result


def paper_data(atlas: Path, pid: str) -> dict:
    """A written paper file's YAML, which must parse."""
    doc, errors = read_document((atlas / "papers" / f"{pid}.yaml").read_bytes(), pid)
    assert not errors
    return doc.data


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def run_new(capsys, *args: str) -> tuple[int, str, str]:
    """`smatlas new ARGS`: exit code, stdout, stderr."""
    code = main(["new", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def import_bib(capsys, *args: str) -> tuple[int, list[str], list[str]]:
    """`smatlas import-bib ARGS`: exit code, stdout lines, stderr lines."""
    code = main(["import-bib", *args])
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err.splitlines()
