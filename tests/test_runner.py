"""`smatlas run`: discovery, --list, --quick, --json, exit codes, and the results file."""

import json
import subprocess
import sys
import types
from dataclasses import dataclass

import pytest
from conftest import ROOT

pytest.importorskip("torch")

from smatlas import runner  # noqa: E402
from smatlas.cli import main  # noqa: E402

IMPLS = runner.implementations()


def test_discovery_finds_the_implementations_and_not_the_helpers():
    assert {"distillation", "pruning"} <= set(IMPLS)
    assert not {"common", "zoo", "tasks"} & set(IMPLS)


def test_every_implementation_has_a_test_file_that_checks_its_quick_run():
    """Each tests/test_impl_<id>.py runs its quick configuration once (sound_quick_run), so that test
    workers never run the same quick run twice."""
    for impl in IMPLS:
        path = ROOT / "tests" / f"test_impl_{impl.replace('-', '_')}.py"
        assert f'sound_quick_run("{impl}")' in path.read_text(encoding="utf-8"), path


def test_list_prints_every_implementation_with_its_taxonomy_nodes(capsys):
    assert main(["run", "--list"]) == 0
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert set(lines) == set(IMPLS)
    assert lines["pruning"] == "pruning"
    assert lines["distillation"] == "knowledge-distillation, black-box-distillation, white-box-distillation"


def test_unknown_implementation_exits_2(capsys):
    assert main(["run", "no-such-technique"]) == 2
    assert "unknown implementation 'no-such-technique'" in capsys.readouterr().err


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """A stand-in implementation: its finding holds on seeds 0 and 2 and fails on seed 1 by a large
    margin (a mixed verdict), and its sanity check fails only in the quick configuration."""
    from reference_impls.common import Check, Finding, Result

    @dataclass
    class Config:
        broken: bool = False
        seed: int = 0

        @classmethod
        def quick(cls):
            return cls(broken=True)

    def run(config, progress=None):
        value = {0: 0.5, 1: 5.0, 2: 0.5}.get(config.seed, 0.5)
        findings = [Finding.compare("value < 1", "doe2024small", value, "<", 1.0, "value", "1")]
        checks = [Check.compare("identity", 1.0 if config.broken else 0.0, "==", 0.0)]
        return Result("fake", {"broken": config.broken, "seed": config.seed}, {"value": value}, findings, checks, 0.01)

    module = types.ModuleType("fake_impl")
    module.Config, module.run = Config, run
    monkeypatch.setitem(sys.modules, "fake_impl", module)
    monkeypatch.setattr(runner, "implementations", lambda: {"fake": "fake_impl"})
    monkeypatch.setattr(runner, "_title", lambda name: "A stand-in")
    monkeypatch.setattr(runner, "RESULTS", tmp_path)
    monkeypatch.setenv("SMATLAS_JOBS", "1")
    return tmp_path


def test_quick_json_run_prints_one_seed_writes_nothing_and_exits_1_on_a_failing_check(fake, capsys):
    assert main(["run", "fake", "--quick", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["metrics"] == {"value": 0.5} and out["claims"][0]["holds"] is True
    assert out["checks"] == [{"check": "identity", "lhs": 1.0, "op": "==", "rhs": 0.0, "holds": False}]
    assert list(fake.iterdir()) == []


def test_full_run_aggregates_seeds_writes_only_when_asked_and_a_failing_finding_is_not_an_error(fake, capsys):
    assert main(["run", "fake", "--seeds", "0,1,2"]) == 0
    assert list(fake.iterdir()) == []
    assert "MIXED  value < 1" in capsys.readouterr().out
    assert main(["run", "fake", "--seeds", "0,1,2", "--write"]) == 0
    written = json.loads((fake / "fake.json").read_text())
    assert written["seeds"] == [0, 1, 2] and written["title"] == "A stand-in"
    (claim,) = written["claims"]
    assert claim["verdict"] == "mixed" and claim["holds"] is False and claim["paper"] == "doe2024small"
    assert [p["holds"] for p in claim["per_seed"]] == [True, False, True]
    assert claim["lhs"] == pytest.approx(2.0) and claim["lhs_std"] == pytest.approx(2.598, abs=1e-3)
    assert written["metrics"] == {"value": pytest.approx(2.0)} and written["checks"][0]["seeds_holding"] == 3


def test_full_run_adds_seeds_3_and_4_when_a_margin_is_within_two_standard_deviations(fake, capsys):
    assert main(["run", "fake", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["seeds"] == [0, 1, 2, 3, 4]


def test_reproduce_compares_verdicts_and_bands_and_exits_1_only_on_a_flip_or_an_escape(fake, capsys):
    assert main(["run", "fake", "--seeds", "0,2", "--write"]) == 0  # committed: reproduces, value 0.5 +- 0
    capsys.readouterr()
    assert main(["reproduce", "fake"]) == 0  # the same seeds again: same verdict, inside the band
    assert "fake: OK" in capsys.readouterr().out
    committed = json.loads((fake / "fake.json").read_text())
    committed["seeds"] = [1, 2]  # now seed 1 fails by a wide margin: the mean leaves its band
    (fake / "fake.json").write_text(json.dumps(committed))
    assert main(["reproduce", "fake", "--report", str(fake / "report.json")]) == 1
    out = capsys.readouterr().out
    assert "fake: DIFFERS" in out and "OUT" in out
    report = json.loads((fake / "report.json").read_text())
    assert report["ok"] is False and report["implementations"][0]["metrics"][0]["inside"] is False
    assert json.loads((fake / "fake.json").read_text())["seeds"] == [1, 2]  # nothing rewritten without --write


def test_the_cli_imports_no_torch_and_lists_in_a_subprocess():
    code = "import sys, smatlas.cli; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    code = "import sys; from smatlas import runner; runner.implementations(); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    out = subprocess.run(
        [sys.executable, "-m", "smatlas.cli", "run", "--list"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0 and "pruning: pruning" in out.stdout.splitlines()


def test_a_closed_pipe_ends_the_output_quietly():
    """`smatlas run --list | head -0`: the reader is gone before the first write; no traceback, exit 0."""
    import os

    read, write = os.pipe()
    os.close(read)
    proc = subprocess.run(
        [sys.executable, "-m", "smatlas.cli", "run", "--list"], stdout=write, stderr=subprocess.PIPE, cwd=ROOT
    )
    os.close(write)
    err = proc.stderr.decode()
    assert proc.returncode == 0 and "Traceback" not in err and "BrokenPipe" not in err, err


@pytest.mark.parametrize("seeds", ["x", "0,,1", "0,0", "-1"])
def test_bad_seeds_are_a_usage_error_not_a_traceback(seeds, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "routing", "--seeds", seeds])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seeds" in err and "Traceback" not in err
