"""The validator: real data validates, and every class of bad input gets one clear positioned error."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, VALID_PAPER, write_paper

from smatlas import checks
from smatlas.cli import main
from smatlas.kb import load


def run_validate(atlas: Path, capsys) -> tuple[int, str, str]:
    code = main(["--root", str(atlas), "validate"])
    out = capsys.readouterr()
    return code, out.out, out.err


def variant(old: str, new: str, base: str = VALID_PAPER) -> str:
    assert old in base, old
    return base.replace(old, new)


def test_real_atlas_validates(capsys):
    code, out, err = run_validate(ROOT, capsys)
    assert code == 0, err
    assert out.strip().splitlines()[-1].endswith(": OK") or ": OK, " in out


def test_valid_fixture_passes_with_summary_line(atlas, capsys):
    code, out, err = run_validate(atlas, capsys)
    assert code == 0, err
    assert "1 papers, 36 nodes" in out and "OK" in out


BAD_INPUTS = [
    # (name, file content, expected "line:col", fragment of the message)
    ("malformed", variant("year: 2024", "year: [2024"), "8:6", "malformed YAML"),
    ("toplist", "- a\n- b\n", "1:1", "top level is a list"),
    ("scalar", "just a string\n", "1:1", "top level is a single value"),
    ("nonutf8", VALID_PAPER.replace("Jane", "J\udcffne").encode("utf-8", "surrogateescape"), "5:6", "not valid UTF-8"),
    ("bom", b"\xef\xbb\xbf" + VALID_PAPER.encode(), "1:1", "byte-order mark"),
    ("tab", variant("  - Ada Lovelace", "\t- Ada Lovelace"), "6:1", "tab character"),
    ("dupkey", variant("year: 2024\n", "year: 2024\nyear: 2023\n"), "8:1", "duplicate key 'year'"),
    ("pytag", variant("title: Small Models Help Large Ones", "title: !!python/object:os.system x"), "3:8", "YAML tag"),
    ("alias", variant("  - Ada Lovelace", "  - &a Ada Lovelace\n  - *a"), "7:5", "aliases"),
    ("bomb", "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: &d [*c, *c]\n", "2:8", "aliases"),
    ("yes_no", variant("title: Small Models Help Large Ones", "title: NO"), "3:8", "put it in quotes"),
    ("float", variant("title: Small Models Help Large Ones", "title: 1e3"), "3:8", "put it in quotes"),
    ("date", variant("title: Small Models Help Large Ones", "title: 2024-01-01"), "3:8", "read as a date"),
    ("arxivnum", variant("arxiv: '2401.00001'", "arxiv: 2401.00001"), "11:8", "read as a number"),
    ("year", variant("year: 2024", "year: 1975"), "7:7", "year: must be a year from 1980"),
    ("yearstr", variant("year: 2024", "year: '2024'"), "7:7", "year: Input should be a valid integer"),
    ("unknown", variant("added: 2026-11-23", "added: 2026-11-23\nabstract: copied"), "20:1", "abstract: unknown field"),
    ("missing", variant("title: Small Models Help Large Ones\n", ""), "2:1", "title: required field is missing"),
    ("kind", variant("kind: conference", "kind: poster"), "10:9", "venue.kind"),
    (
        "badurl",
        variant("arxiv: '2401.00001'", "url: javascript:alert(1)"),
        "11:6",
        "url: must be an http:// or https://",
    ),
    ("arxivver", variant("'2401.00001'", "'2401.00001v2'"), "11:8", "drop the version suffix"),
    (
        "shortsum",
        VALID_PAPER.split("summary:")[0] + "summary: Too short.\nadded: 2026-11-23\n",
        "16:10",
        "summary: has 10 characters",
    ),
    ("noid", variant("arxiv: '2401.00001'\n", ""), "2:1", "paper: give at least one of arxiv, doi or url"),
]


@pytest.mark.parametrize("name,content,where,fragment", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gets_positioned_error_without_traceback(atlas, capsys, name, content, where, fragment):
    write_paper(atlas, "doe2024small.yaml", content)
    code, out, err = run_validate(atlas, capsys)
    assert code == 1
    assert "Traceback" not in out + err
    lines = [ln for ln in err.splitlines() if ln.startswith("papers/doe2024small.yaml:")]
    assert lines, err
    assert any(ln.startswith(f"papers/doe2024small.yaml:{where}:") and fragment in ln for ln in lines), lines


def test_oversized_file_is_refused(atlas, capsys):
    write_paper(atlas, "doe2024small.yaml", VALID_PAPER + "#" * (300 * 1024) + "\n")
    code, _, err = run_validate(atlas, capsys)
    assert code == 1 and "papers/doe2024small.yaml:1:1: file is 300 KB" in err


def test_every_error_is_reported_in_one_run(atlas, capsys):
    write_paper(atlas, "a2024one.yaml", variant("id: doe2024small", "id: a2024one").replace("year: 2024", "year: x"))
    write_paper(atlas, "b2024two.yaml", "- not a mapping\n")
    write_paper(atlas, "c2024three.yaml", "a: [\n")
    code, _, err = run_validate(atlas, capsys)
    assert code == 1
    for name in ("a2024one", "b2024two", "c2024three"):
        assert f"papers/{name}.yaml:" in err
    assert "3 errors in 3 files" in err


def test_id_must_equal_file_stem(atlas, capsys):
    write_paper(atlas, "other2024name.yaml", VALID_PAPER.replace("arxiv: '2401.00001'", "arxiv: '2401.00002'"))
    code, _, err = run_validate(atlas, capsys)
    assert code == 1 and "papers/other2024name.yaml:2:5: id: 'doe2024small' differs from the file name" in err


def second_paper(**changes) -> str:
    text = VALID_PAPER.replace("doe2024small", "roe2023other").replace(
        "Small Models Help Large Ones", "An Unrelated Study of Routers"
    )
    text = text.replace("'2401.00001'", "'2312.00002'")
    for old, new in changes.items():
        text = text.replace(old.replace("_", " "), new)
    return text


@pytest.mark.parametrize(
    "field,text",
    [
        ("arxiv", second_paper().replace("'2312.00002'", "'2401.00001'")),
        ("title", second_paper().replace("An Unrelated Study of Routers", "'small models: help LARGE ones!'")),
        ("doi", second_paper().replace("arxiv: '2312.00002'", "doi: 10.1000/xyz") + ""),
    ],
)
def test_shared_identifiers_are_duplicates(atlas, capsys, field, text):
    if field == "doi":
        write_paper(atlas, "doe2024small.yaml", VALID_PAPER.replace("arxiv: '2401.00001'", "doi: 10.1000/XYZ"))
    write_paper(atlas, "roe2023other.yaml", text)
    code, _, err = run_validate(atlas, capsys)
    assert code == 1
    assert f"{field}: same as in papers/" in err


def test_near_duplicate_title_is_a_warning_not_an_error(atlas, capsys):
    write_paper(
        atlas,
        "roe2023other.yaml",
        second_paper().replace("An Unrelated Study of Routers", "Small Model Help Large Ones"),
    )
    code, out, _ = run_validate(atlas, capsys)
    assert code == 0
    assert "warning: title: nearly the same as papers/doe2024small.yaml" in out


def test_dangling_references_are_errors(atlas, capsys):
    text = VALID_PAPER.replace("  - routing", "  - routing\n  - no-such-node").replace("  - method", "  - no-such-tag")
    text = text.replace(
        "added:", "reference_impl: no-such-impl\nrelations:\n  - type: builds-on\n    paper: ghost2020paper\nadded:"
    )
    write_paper(atlas, "doe2024small.yaml", text)
    code, _, err = run_validate(atlas, capsys)
    assert code == 1
    for fragment in (
        "'no-such-node' is not a node",
        "'no-such-tag' is not in taxonomy/tags.yaml",
        "'no-such-impl' is not an implementation",
        "'ghost2020paper' is not in the atlas",
    ):
        assert fragment in err


def test_taxonomy_must_be_a_tree(atlas, capsys):
    tax = atlas / "taxonomy" / "taxonomy.yaml"
    text = tax.read_text().replace(
        "- id: collaboration\n  title: Collaboration\n  parent: null",
        "- id: collaboration\n  title: Collaboration\n  parent: routing",
    )
    tax.write_text(text)
    code, _, err = run_validate(atlas, capsys)
    assert code == 1 and "loops back; the taxonomy must be a tree" in err
    assert "taxonomy/taxonomy.yaml:4:" in err


def test_real_taxonomy_is_a_tree_with_the_required_nodes():
    kb, errors = load(ROOT)
    assert not [e for e in errors if e.path.startswith("taxonomy")]
    assert not checks.check_taxonomy(kb)
    assert set(kb.roots) == {"collaboration", "competition"}
    required = """data-curation pretraining-data instruction-data weak-to-strong efficient-inference routing cascading
    speculative-decoding llm-evaluation domain-adaptation decoding-time-adjustment knowledge-generation rag
    prompt-augmentation deficiency-repair sm-plugins contrastive-decoding knowledge-distillation
    black-box-distillation white-box-distillation data-synthesis data-augmentation training-data-generation
    computation-constrained pruning quantization small-model-families task-specific interpretability-required""".split()
    assert set(required) <= set(kb.nodes)
    for node in kb.nodes.values():
        sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", node.description.strip())
        assert 3 <= len(sentences) <= 6, (node.id, len(sentences))


def test_cli_exit_codes_and_no_traceback_in_a_subprocess(atlas):
    ok = subprocess.run(
        [sys.executable, "-m", "smatlas.cli", "--root", str(atlas), "validate"], capture_output=True, text=True
    )
    assert ok.returncode == 0 and ok.stdout.strip().endswith("OK")
    write_paper(atlas, "doe2024small.yaml", b"\xff\xfe")
    bad = subprocess.run(
        [sys.executable, "-m", "smatlas.cli", "--root", str(atlas), "validate"], capture_output=True, text=True
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and "papers/doe2024small.yaml:1:1" in bad.stderr


def test_extra_paper_paths_are_checked_against_the_atlas(atlas, tmp_path, capsys):
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "doe2024small.yaml").write_text(VALID_PAPER)
    code = main(["--root", str(atlas), "validate", str(staging)])
    err = capsys.readouterr().err
    assert code == 1 and "also used by" in err


def test_near_duplicate_blocking_finds_plural_and_dropped_article_variants():
    titles = {
        "a": "Distilling the Knowledge in a Neural Network",
        "b": "Distilling the Knowledge in Neural Networks",
        "c": "Fast Inference from Transformers via Speculative Decoding",
    }
    pairs = checks.near_duplicate_pairs(titles)
    assert [(a, b) for a, b, _ in pairs] == [("a", "b")]
