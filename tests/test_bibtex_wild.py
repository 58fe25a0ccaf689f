"""BibTeX from the wild (issue 17): truncated author lists, duplicates without identifiers, copies of
one paper in one file, withdrawn submissions, letter macros, group authors, files that hold no entry,
and entries with several problems. Each defect has its own small fixture in tests/data/bibtex/wild."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import bibtexparser
import pytest
from bibtexparser import middlewares as m
from conftest import ROOT, copy_taxonomy, paper_data
from conftest import import_bib as _import_bib

from smatlas.bibtex import bibtex_name, export_bibtex, read_bibtex
from smatlas.cli import main
from smatlas.kb import load
from smatlas.schema import SUMMARY_PLACEHOLDER

WILD = Path(__file__).parent / "data" / "bibtex" / "wild"
SUMMARY = (
    "A summary written by a person: what the paper does, and the part small and large models play in it, "
    "long enough for the schema."
)


@pytest.fixture
def atlas(tmp_path: Path, monkeypatch) -> Path:
    """The real taxonomy and Hinton et al.'s distillation paper (relations dropped); the fixtures of
    tests/data/bibtex/wild copied in, so that errors name them `name.bib`."""
    copy_taxonomy(tmp_path)
    (tmp_path / "papers").mkdir()
    text = (ROOT / "papers" / "hinton2015distilling.yaml").read_text(encoding="utf-8")
    text = re.sub(r"^relations:\n(?:  .*\n)+", "", text, flags=re.MULTILINE)
    (tmp_path / "papers" / "hinton2015distilling.yaml").write_text(text, encoding="utf-8")
    for fixture in WILD.iterdir():
        shutil.copy(fixture, tmp_path / fixture.name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def import_bib(capsys, *args: str) -> tuple[int, list[str], list[str]]:
    return _import_bib(capsys, *args, "--no-suggest")


def new_files(atlas: Path) -> list[str]:
    return sorted(p.stem for p in (atlas / "papers").glob("*.yaml") if p.stem != "hinton2015distilling")


# ---- 1. "and others" ------------------------------------------------------------------------------


def test_and_others_is_an_error_at_the_author_line(atlas, capsys):
    code, out, err = import_bib(capsys, "and_others.bib", "--taxonomy", "llm-evaluation", "--dry-run")
    assert code == 1
    assert err == [
        "and_others.bib:22: author: ends with 'and others'; the atlas lists every author: write all the names "
        "(the paper's first page or its arXiv page has them)"
    ]
    assert out[-1] == "1 new, 1 duplicates, 1 broken"


def test_the_richer_copy_of_a_paper_is_kept_even_when_it_comes_second(atlas, capsys):
    code, out, _ = import_bib(capsys, "and_others.bib", "--taxonomy", "llm-evaluation", "--skip-broken")
    assert code == 1  # the truncated third entry
    assert (
        "and_others.bib:3: duplicate of doe2025tiny (and_others.bib:11): same arXiv id 2404.99999; "
        "that later copy is the richer record and is kept; skipped"
    ) in out
    assert new_files(atlas) == ["doe2025tiny"]
    data = paper_data(atlas, "doe2025tiny")
    assert data["authors"] == ["Jane Doe", "Bob Roe", "Edgar Poe", "Anna Moe", "Kim Zoe"]
    assert data["venue"] == {"name": "ICLR", "kind": "conference"}


def test_a_truncated_copy_of_an_atlas_paper_is_just_a_duplicate(atlas, capsys):
    (atlas / "short.bib").write_text(
        "@article{h, title = {Distilling the Knowledge in a Neural Network}, author = {Hinton, Geoffrey and others},"
        " journal = {arXiv preprint arXiv:1503.02531}, year = {2015}}\n",
        encoding="utf-8",
    )
    code, out, err = import_bib(capsys, "short.bib", "--taxonomy", "rag")
    assert (code, err) == (0, [])
    assert out[-1] == "0 new, 1 duplicates, 0 broken"


# ---- 2. duplicates without identifiers ---------------------------------------------------------------


def test_identifier_less_duplicates_are_duplicates_not_broken(atlas, capsys):
    code, out, err = import_bib(capsys, "identifierless.bib", "--taxonomy", "llm-evaluation")
    assert (code, err) == (0, [])  # nothing broken: the whole file imports without --skip-broken
    assert out[-1] == "2 new, 3 duplicates, 0 broken"
    assert (
        "identifierless.bib:3: duplicate of hinton2015distilling (papers/hinton2015distilling.yaml): "
        "same title, first author and year; skipped"
    ) in out
    assert (
        "identifierless.bib:17: duplicate of doe2024tiny (identifierless.bib:9): same title, first author and year; skipped"
        in out
    )
    # The first copy of a repeated key has no identifier, the second has a URL: the paper is kept.
    assert (
        "identifierless.bib:23: duplicate of roe2023small (identifierless.bib:29): same title, first author and year; "
        "that later copy is the richer record and is kept; skipped"
    ) in out
    assert new_files(atlas) == ["doe2024tiny", "roe2023small"]
    assert paper_data(atlas, "roe2023small")["url"] == "https://example.org/small-judges"


def test_same_title_without_identifiers_by_another_author_is_another_paper(atlas, capsys):
    (atlas / "other.bib").write_text(
        "@misc{s, title = {Distilling the Knowledge in a Neural Network}, author = {Smith, Ann}, year = {2019}}\n",
        encoding="utf-8",
    )
    code, out, err = import_bib(capsys, "other.bib", "--taxonomy", "rag")
    assert code == 1 and out[-1] == "0 new, 0 duplicates, 1 broken"
    assert err == ["other.bib:1: arxiv/doi/url: give at least one of arxiv, doi or url"]


def test_an_identifier_less_entry_is_not_a_copy_of_a_later_entry_by_another_author(atlas, capsys):
    (atlas / "two.bib").write_text(
        "@misc{a, title = {An Introduction}, author = {Smith, Ann}, year = {2019}}\n"
        "@misc{b, title = {An Introduction}, author = {Jones, Bob}, year = {2024}, url = {https://example.org/b}}\n",
        encoding="utf-8",
    )
    code, out, err = import_bib(capsys, "two.bib", "--taxonomy", "rag", "--dry-run")
    assert code == 1 and out[-1] == "1 new, 0 duplicates, 1 broken"
    assert err == ["two.bib:1: arxiv/doi/url: give at least one of arxiv, doi or url"]


def test_a_reused_key_for_another_paper_is_still_an_error(atlas, capsys):
    (atlas / "reuse.bib").write_text(
        "@misc{k, title = {First Paper}, author = {Doe, Jane}, year = {2024}, url = {https://example.org/1}}\n"
        "@misc{k, title = {Second Paper}, author = {Roe, Bob}, year = {2024}, url = {https://example.org/2}}\n",
        encoding="utf-8",
    )
    code, out, err = import_bib(capsys, "reuse.bib", "--taxonomy", "rag", "--dry-run")
    assert code == 1
    assert err == ["reuse.bib:2: duplicate key 'k' (also on line 1, another paper); BibTeX keys must be unique"]
    assert out[-1] == "1 new, 0 duplicates, 1 broken"


# ---- 4. withdrawn and rejected submissions --------------------------------------------------------------


def test_withdrawn_and_rejected_submissions_are_preprints_and_the_report_says_so(atlas, capsys):
    code, out, err = import_bib(capsys, "withdrawn.bib", "--taxonomy", "routing")
    assert (code, err) == (0, [])
    assert paper_data(atlas, "doe2025tiny")["venue"] == {"name": "OpenReview", "kind": "preprint"}
    assert paper_data(atlas, "roe2024small")["venue"] == {"name": "OpenReview", "kind": "preprint"}
    assert paper_data(atlas, "poe2024drafts")["venue"] == {"name": "arXiv", "kind": "preprint"}
    wrote = out.index("withdrawn.bib:2: wrote papers/doe2025tiny.yaml")
    assert out[wrote + 1] == (
        "  note: howpublished 'OpenReview (ICLR 2026 Conference Withdrawn Submission)' names a withdrawn submission, "
        "not a publication: imported as a preprint (OpenReview)"
    )
    assert any("names a submission under review" in line for line in out)
    assert any("names a rejected submission" in line for line in out)
    for pid in ("doe2025tiny", "roe2024small", "poe2024drafts"):
        path = atlas / "papers" / f"{pid}.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(SUMMARY_PLACEHOLDER, SUMMARY), encoding="utf-8")
    capsys.readouterr()
    assert main(["export-bib", "--node", "routing"]) == 0
    exported = capsys.readouterr().out
    assert "@inproceedings" not in exported and exported.count("@misc{") == 3


def test_new_with_a_withdrawn_venue_writes_a_preprint(atlas, capsys):
    code = main(
        ["new", "--title", "Tiny Routers Are Enough", "--author", "Jane Doe", "--year", "2025",
         "--url", "https://openreview.net/forum?id=AbCdEf1234", "--venue",
         "OpenReview (ICLR 2026 Conference Withdrawn Submission)", "--taxonomy", "routing", "--no-suggest"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert paper_data(atlas, "doe2025tiny")["venue"] == {"name": "OpenReview", "kind": "preprint"}


# ---- 5. letter macros ended by a space --------------------------------------------------------------------


def test_letter_macros_followed_by_a_space_make_one_word(atlas, capsys):
    code, out, err = import_bib(capsys, "letters.bib", "--taxonomy", "rag")
    assert (code, err) == (0, [])
    data = paper_data(atlas, "kaiser2024letters")
    assert data["title"] == "Letters From Kołodziej"
    assert data["authors"] == [
        "Łukasz Kaiser",
        "Anna Kołodziej",
        "Jørgen Sørensen",
        "Øystein Ore",
        "Hans Große",
        "Benoît Sagot",
    ]


def test_an_imported_letter_macro_name_exports_as_one_given_name(atlas, capsys):
    import_bib(capsys, "letters.bib", "--taxonomy", "rag")
    path = atlas / "papers" / "kaiser2024letters.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(SUMMARY_PLACEHOLDER, SUMMARY), encoding="utf-8")
    kb, errors = load(atlas)
    assert not errors
    library = bibtexparser.parse_string(
        export_bibtex(kb.papers.values()),
        parse_stack=[m.RemoveEnclosingMiddleware(), m.SeparateCoAuthors(), m.SplitNameParts()],
    )
    entry = next(e for e in library.entries if e.key == "kaiser2024letters")
    first = entry.fields_dict["author"].value[0]
    assert (first.first, first.last) == (["Łukasz"], ["Kaiser"])


def test_a_name_after_and_keeps_its_leading_latex_command():
    entries, _ = read_bibtex(
        "@misc{k, author = {Doe, Jane and \\'Eric Roe and \\O ystein Ore}, title = {T}, year = 2024,"
        " url = {https://example.org/t}}\n",
        "k.bib",
    )
    assert entries[0].fields["authors"] == ["Jane Doe", "Éric Roe", "Øystein Ore"]


# ---- 8. group authors -------------------------------------------------------------------------------------


def test_a_group_author_keeps_its_braces_through_import_and_export(atlas, capsys):
    code, _, err = import_bib(capsys, "groups.bib", "--taxonomy", "small-model-families")
    assert (code, err) == (0, [])
    pid = new_files(atlas)[0]
    assert paper_data(atlas, pid)["authors"] == ["Gemini Team Google", "Jane Doe"]
    path = atlas / "papers" / f"{pid}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(SUMMARY_PLACEHOLDER, SUMMARY), encoding="utf-8")
    capsys.readouterr()
    assert main(["export-bib", "--node", "small-model-families"]) == 0
    exported = capsys.readouterr().out
    assert "{{Gemini Team Google} and Jane Doe}" in exported
    entries, broken = read_bibtex(exported, "export.bib")  # and it reads back as the same two names
    assert not broken and entries[0].fields["authors"] == ["Gemini Team Google", "Jane Doe"]


@pytest.mark.parametrize(
    "name, braced",
    [
        ("Gemini Team Google", True),
        ("Google DeepMind", True),
        ("The Qwen Team", True),
        ("BigScience Workshop", True),
        ("Qingyao Ai", False),  # a family name, not the word "AI"
        ("Teven Le Scao", False),
    ],
)
def test_organisations_are_braced_whole_wherever_their_word_stands(name, braced):
    assert bibtex_name(name).startswith("{") is braced


# ---- 9. files without entries, entries with several problems -----------------------------------------------


@pytest.mark.parametrize("name", ["empty.bib", "not_bibtex.ris"])
def test_a_file_without_bibtex_entries_is_an_error_not_zero_new(atlas, capsys, name):
    code, out, err = import_bib(capsys, name, "--taxonomy", "rag")
    assert code == 1
    assert err == [
        f"{name}:1: no BibTeX entries found (an entry starts like @article{{key, ...}}); is this a BibTeX file?"
    ]
    assert new_files(atlas) == []


def test_a_broken_entry_lists_every_problem(atlas, capsys):
    (atlas / "many.bib").write_text(
        "@misc{k,\n  author = {Doe, Jane and others},\n  title = {Many Problems},\n  year = {20x4},\n"
        "  eprint = {2404.1},\n  archivePrefix = {arXiv},\n  url = {ftp://example.org/x}\n}\n",
        encoding="utf-8",
    )
    code, out, err = import_bib(capsys, "many.bib", "--taxonomy", "rag")
    assert code == 1 and out[-1] == "0 new, 0 duplicates, 1 broken"
    assert err == [
        "many.bib:2: author: ends with 'and others'; the atlas lists every author: write all the names "
        "(the paper's first page or its arXiv page has them)",
        "many.bib:4: year: '20x4' is not a year",
        "many.bib:5: eprint: '2404.1' is not an arXiv id like 2306.11695",
        "many.bib:7: url: must be an http:// or https:// URL with a host and no spaces",
    ]
