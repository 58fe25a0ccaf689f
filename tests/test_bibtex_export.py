"""BibTeX export: golden files, stable keys, escaping that decodes back, and the real atlas."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import bibtexparser
import pytest
from bibtexparser import middlewares as m
from conftest import ROOT, copy_taxonomy
from hypothesis import given, settings
from hypothesis import strategies as st

from smatlas.bibtex import (
    bibtex_name,
    bibtex_title,
    citation_key,
    export_bibtex,
    latex_decode,
    latex_escape,
    plain_citation,
    to_bibtex,
)
from smatlas.cli import main
from smatlas.kb import load

DATA = Path(__file__).parent / "data" / "bibtex"
UPDATE = os.environ.get("SMATLAS_UPDATE_GOLDEN") == "1"


@pytest.fixture
def bib_atlas(tmp_path: Path) -> Path:
    """The real taxonomy with the six fixture papers of tests/data/bibtex/papers."""
    copy_taxonomy(tmp_path)
    shutil.copytree(DATA / "papers", tmp_path / "papers")
    return tmp_path


def check_golden(name: str, text: str) -> None:
    golden = DATA / name
    if UPDATE:
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"differs from tests/data/bibtex/{name}"


def test_export_of_fixture_papers_matches_golden_file(bib_atlas):
    kb, errors = load(bib_atlas)
    assert not errors and len(kb.papers) == 6
    check_golden("export.bib", export_bibtex(kb.papers.values()))


def test_plain_citations_of_fixture_papers_match_golden_file(bib_atlas):
    kb, _ = load(bib_atlas)
    check_golden("plain.txt", "".join(plain_citation(p) + "\n" for p in sorted(kb.papers.values(), key=citation_key)))


def test_export_order_does_not_depend_on_input_order(bib_atlas):
    kb, _ = load(bib_atlas)
    papers = list(kb.papers.values())
    shuffled = papers[:]
    random.Random(0).shuffle(shuffled)
    assert export_bibtex(shuffled) == export_bibtex(papers)


def test_entry_types_follow_venue_kind(bib_atlas):
    kb, _ = load(bib_atlas)
    assert to_bibtex(kb.papers["doe2024small"]).startswith("@inproceedings{doe2024small,")
    assert to_bibtex(kb.papers["roe2023tiny"]).startswith("@inproceedings{roe2023tiny,")
    assert to_bibtex(kb.papers["yoo2022why"]).startswith("@article{yoo2022why,")
    arxiv_only = to_bibtex(kb.papers["team2025tiny"])
    assert arxiv_only.startswith("@misc{team2025tiny,")
    assert "eprint        = {2501.00003}," in arxiv_only and "archivePrefix = {arXiv}," in arxiv_only
    assert "howpublished" not in arxiv_only


def test_capitals_are_protected_but_title_case_compounds_are_not():
    assert bibtex_title("LLaMA Meets GPT-4 and Phi-3 via QLoRA") == "{LLaMA} Meets {GPT-4} and {Phi-3} via {QLoRA}"
    assert bibtex_title("Fine-Tuning Small Models") == "Fine-Tuning Small Models"
    assert bibtex_title("k-NN Rules") == "{k-NN} Rules"


def test_names_keep_order_and_organisations_stay_whole():
    assert bibtex_name("Ana de la Fuente") == "Ana de la Fuente"
    assert bibtex_name("Robert Smith Jr.") == "Smith, Jr., Robert"
    assert bibtex_name("Gemma Team") == "{Gemma Team}"
    assert bibtex_name("Google, Inc.") == "{Google, Inc.}"
    assert bibtex_name("Jörg Müller") == "Jörg Müller"  # UTF-8 stays


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]), min_size=1, max_size=40))
def test_latex_escape_decodes_back_to_the_same_text(text):
    assert latex_decode(latex_escape(text)) == " ".join(text.split())


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_latex_decode_skips_the_parser_only_where_the_parser_changes_nothing(text):
    from smatlas.bibtex import _DECODER

    assert latex_decode(text) == " ".join(_DECODER.latex_to_text(text).split())


def test_citation_key_is_the_id_of_every_real_paper_and_unique():
    kb, errors = load(ROOT)
    assert not [e for e in errors if e.severity == "error"]
    keys = [citation_key(p) for p in kb.papers.values()]
    assert keys == [p.id for p in kb.papers.values()]
    assert len(set(keys)) == len(keys) == len(kb.papers)


def test_real_atlas_export_parses_cleanly_with_one_entry_per_paper():
    kb, _ = load(ROOT)
    text = export_bibtex(kb.papers.values())
    stack = [m.ResolveStringReferencesMiddleware(), m.RemoveEnclosingMiddleware()]
    library = bibtexparser.parse_string(text, parse_stack=stack)
    assert not library.failed_blocks
    assert sorted(e.key for e in library.entries) == sorted(kb.papers)
    assert export_bibtex(kb.papers.values()) == text  # deterministic


# ---- smatlas export-bib ----------------------------------------------------------------------------


def export_keys(text: str) -> list[str]:
    return [line.split("{", 1)[1].rstrip(",") for line in text.splitlines() if line.startswith("@")]


def test_export_bib_command_selects_a_subtree_a_tag_or_both(bib_atlas, capsys):
    assert main(["--root", str(bib_atlas), "export-bib"]) == 0
    assert capsys.readouterr().out == (DATA / "export.bib").read_text(encoding="utf-8")
    assert main(["--root", str(bib_atlas), "export-bib", "--node", "knowledge-distillation"]) == 0
    assert export_keys(capsys.readouterr().out) == ["muller2023gpt"]  # placed in black-box-distillation, below it
    assert main(["--root", str(bib_atlas), "export-bib", "--tag", "method"]) == 0
    assert export_keys(capsys.readouterr().out) == ["doe2024small", "muller2023gpt"]
    assert main(["--root", str(bib_atlas), "export-bib", "--node", "collaboration", "--tag", "method"]) == 0
    assert export_keys(capsys.readouterr().out) == ["doe2024small", "muller2023gpt"]
    assert main(["--root", str(bib_atlas), "export-bib", "--node", "competition", "--tag", "method"]) == 0
    assert capsys.readouterr().out == ""


def test_export_bib_command_writes_a_file(bib_atlas, tmp_path, capsys):
    target = tmp_path / "out" / "sm-plugins.bib"
    assert main(["--root", str(bib_atlas), "export-bib", "--node", "sm-plugins", "-o", str(target)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote 2 entries to {target}"
    assert export_keys(target.read_text(encoding="utf-8")) == ["roe2023tiny", "roe2024tiny"]


def test_export_bib_command_refuses_unknown_ids(bib_atlas, capsys):
    assert main(["--root", str(bib_atlas), "export-bib", "--node", "no-such-node"]) == 2
    assert main(["--root", str(bib_atlas), "export-bib", "--tag", "no-such-tag"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_export_bib_exports_what_validates_and_warns_once_with_a_count(bib_atlas, capsys):
    """Issue 17, item 3: papers just imported (placeholder summaries) or otherwise invalid are left out
    with one warning; the rest of the atlas, or of a subtree, still exports."""
    path = bib_atlas / "papers" / "roe2023tiny.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("year: 2023", "year: 1975"), encoding="utf-8")
    for i in range(30):  # thirty fresh imports, each with the placeholder summary
        text = (DATA / "martin2020camembert.yaml").read_text(encoding="utf-8").replace("TODAY", "2026-11-23")
        text = text.replace("martin2020camembert", f"martin2020camembert{chr(98 + i % 25)}{i}")
        (bib_atlas / "papers" / f"martin2020camembert{chr(98 + i % 25)}{i}.yaml").write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["--root", str(bib_atlas), "export-bib"]) == 0
    out = capsys.readouterr()
    assert export_keys(out.out) == ["doe2024small", "muller2023gpt", "roe2024tiny", "team2025tiny", "yoo2022why"]
    assert out.err.splitlines() == [
        "warning: left out 31 paper files that do not validate (30 with a placeholder summary); "
        "smatlas validate lists the problems"
    ]
    assert main(["--root", str(bib_atlas), "export-bib", "--node", "sm-plugins"]) == 0
    out = capsys.readouterr()
    assert export_keys(out.out) == ["roe2024tiny"] and len(out.err.splitlines()) == 1
