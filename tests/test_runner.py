"""`smatlas run`: discovery, --list, --quick, --json, exit codes, and the results file."""

import json
import subprocess
import sys
import types
from dataclasses import dataclass

import pytest
from conftest import ROOT, quick_run

pytest.importorskip("torch")

from smatlas import runner  # noqa: E402
from smatlas.cli import main  # noqa: E402

IMPLS = runner.implementations()


def test_discovery_finds_the_implementations_and_not_the_helpers():
    assert {"distillation", "pruning"} <= set(IMPLS)
    assert not {"common", "zoo", "tasks"} & set(IMPLS)


@pytest.mark.parametrize("impl", IMPLS)
def test_every_implementation_quick_run_holds_every_claim_and_leaves_the_results_file_alone(impl):
    result, untouched = quick_run(impl)
    assert set(result) == {"impl", "config", "metrics", "claims", "seconds", "versions", "series"}
    assert result["impl"] == impl and result["claims"]
    assert all(c["holds"] for c in result["claims"]), [c for c in result["claims"] if not c["holds"]]
    assert untouched


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
    """A stand-in implementation whose full configuration breaks its claim and whose quick one keeps it."""
    from reference_impls.common import Claim, Result

    @dataclass
    class Config:
        value: float = 2.0  # the claim is value < 1

        @classmethod
        def quick(cls):
            return cls(value=0.5)

    def run(config, progress=None):
        claims = [Claim.compare("value < 1", config.value, "<", 1.0)]
        return Result("fake", {"value": config.value}, {"value": config.value}, claims, 0.01)

    module = types.ModuleType("fake_impl")
    module.Config, module.run = Config, run
    monkeypatch.setitem(sys.modules, "fake_impl", module)
    monkeypatch.setattr(runner, "implementations", lambda: {"fake": "fake_impl"})
    monkeypatch.setattr(runner, "RESULTS", tmp_path)
    return tmp_path


def test_quick_json_run_prints_the_result_object_and_writes_nothing(fake, capsys):
    assert main(["run", "fake", "--quick", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metrics"] == {"value": 0.5} and out["claims"][0]["holds"] is True
    assert list(fake.iterdir()) == []


def test_full_run_writes_the_results_file_and_exits_1_when_a_claim_fails(fake, capsys):
    assert main(["run", "fake"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  value < 1  (2 vs 1)" in out
    written = json.loads((fake / "fake.json").read_text())
    assert written["claims"] == [{"claim": "value < 1", "lhs": 2.0, "rhs": 1.0, "holds": False}]


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
