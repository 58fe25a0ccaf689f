"""`smatlas new`: a correctly formatted entry from flags or prompts; taken ids and duplicates refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT, copy_taxonomy, run_new, snapshot

from smatlas.cli import main
from smatlas.yamlio import read_document

WANDA = ["--title", "A Simple and Effective Pruning Approach for Large Language Models"]
NEW = [
    "--arxiv", "2404.99999",
    "--title", "Tiny Critics for Big Writers",
    "--author", "Jane Doe",
    "--author", "Łukasz Wiśniewski",
    "--year", "2024",
    "--taxonomy", "sm-plugins",
]  # fmt: skip


@pytest.fixture
def atlas(tmp_path: Path, monkeypatch) -> Path:
    copy_taxonomy(tmp_path)
    (tmp_path / "papers").mkdir()
    text = (ROOT / "papers" / "sun2024simple.yaml").read_text(encoding="utf-8")
    text = re.sub(r"^relations:\n(?:  .*\n)+", "", text, flags=re.MULTILINE)
    (tmp_path / "papers" / "sun2024simple.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_new_writes_a_formatted_entry_that_fails_validation_only_for_its_summary(atlas, capsys):
    code, out, err = run_new(capsys, *NEW)
    assert (code, err) == (0, "")
    assert "wrote papers/doe2024tiny.yaml" in out
    text = (atlas / "papers" / "doe2024tiny.yaml").read_text(encoding="utf-8")
    expected = """\
# yaml-language-server: $schema=schema.json
id: doe2024tiny
title: 'Tiny Critics for Big Writers'
authors:
  - 'Jane Doe'
  - 'Łukasz Wiśniewski'
year: 2024
venue:
  name: 'arXiv'
  kind: preprint
arxiv: '2404.99999'
taxonomy:
  - 'sm-plugins'
summary: >-
  TODO: write a summary in your own words
added: """
    assert text.startswith(expected) and re.fullmatch(r"\d{4}-\d{2}-\d{2}\n", text[len(expected) :])
    assert main(["validate"]) == 1
    errors = capsys.readouterr().err.splitlines()[:-1]
    assert errors == [
        "papers/doe2024tiny.yaml:14:10: summary: placeholder summary: write 80 to 700 characters in your own words"
    ]


def test_new_refuses_an_existing_id(atlas, capsys):
    before = snapshot(atlas / "papers")
    code, _, err = run_new(capsys, *NEW, "--id", "sun2024simple")
    assert code == 1 and "id 'sun2024simple' is taken" in err
    assert snapshot(atlas / "papers") == before


BASE = ["--author", "Mingjie Sun", "--year", "2024", "--venue", "ICLR", "--taxonomy", "pruning"]


@pytest.mark.parametrize(
    "args, how",
    [
        (["--title", "Another Title", "--arxiv", "2306.11695"], "same arXiv id 2306.11695"),
        ([*WANDA, "--url", "https://example.org/wanda"], "same title"),
        (
            ["--title", "A Simple and Effective Pruning Approach for Large Language Model", "--doi", "10.1234/x"],
            "% similar",
        ),
    ],
)
def test_new_refuses_a_paper_already_in_the_atlas(atlas, capsys, args, how):
    before = snapshot(atlas / "papers")
    code, _, err = run_new(capsys, *args, *BASE)
    assert code == 1
    assert "already in the atlas as sun2024simple (papers/sun2024simple.yaml)" in err and how in err
    assert snapshot(atlas / "papers") == before


def test_near_identical_title_with_another_arxiv_id_is_another_paper(atlas, capsys):
    title = "A Simple and Effective Pruning Approach for Large Language Model"
    code, out, _ = run_new(capsys, "--title", title, "--arxiv", "2404.99999", *BASE)
    assert code == 0 and "wrote papers/sun2024simpleb.yaml" in out


def test_new_gives_a_suffixed_id_when_the_rule_gives_a_taken_one(atlas, capsys):
    code, out, _ = run_new(
        capsys, "--title", "Simple Tricks", "--author", "Mingjie Sun", "--year", "2024", "--doi", "10.1234/x",
        "--venue", "Advances in Neural Information Processing Systems", "--taxonomy", "pruning",
    )  # fmt: skip
    assert code == 0 and "id sun2024simple belongs to another paper; this one is sun2024simpleb" in out
    data = read_document((atlas / "papers" / "sun2024simpleb.yaml").read_bytes(), "x")[0].data
    assert data["venue"] == {"name": "NeurIPS", "kind": "conference"}


def test_new_reports_bad_fields_by_their_flags(atlas, capsys):
    code, _, err = run_new(
        capsys, "--title", "T", "--author", "A B", "--year", "1975", "--arxiv", "2306.11695v2",
        "--venue", "Some Venue", "--taxonomy", "no-such-node",
    )  # fmt: skip
    assert code == 1
    assert "--year: must be a year from 1980" in err
    assert "--arxiv: drop the version suffix: write '2306.11695'" in err
    assert "--kind: missing" in err
    assert "--taxonomy: 'no-such-node' is not a node of taxonomy/taxonomy.yaml" in err
    assert sorted(p.name for p in (atlas / "papers").iterdir()) == ["sun2024simple.yaml"]


def test_new_without_flags_outside_a_terminal_says_what_to_do(atlas, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run_new(capsys)
    assert code == 2 and "give the fields as flags" in err


def test_new_in_a_terminal_asks_field_by_field_and_asks_again_after_a_bad_answer(atlas, capsys, monkeypatch):
    answers = iter(
        [
            "Tiny Critics for Big Writers",  # title
            "Jane Doe; Ada Lovelace",  # authors
            "twenty",  # year: not a number, asked again
            "2024",
            "2404.99999v1",  # arXiv id with a version, asked again
            "2404.99999",
            "",  # DOI
            "",  # URL (the arXiv id is enough)
            "",  # venue: arXiv
            "",  # kind: inferred
            "routing no-such-node",  # a node that does not exist, asked again
            "routing",
            "method",  # tags
            "",  # code
        ]
    )
    questions = []

    def ask(question: str) -> str:
        questions.append(question)
        return next(answers)

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", ask)
    code, out, err = run_new(capsys)
    assert (code, err) == (0, ""), err
    assert len(questions) == 14 and questions[0] == "Title: "
    assert "must be an arXiv id" in out or "drop the version suffix" in out
    assert "'no-such-node' is not a node" in out
    data = read_document((atlas / "papers" / "doe2024tiny.yaml").read_bytes(), "x")[0].data
    assert data["authors"] == ["Jane Doe", "Ada Lovelace"] and data["year"] == 2024
    assert data["taxonomy"] == ["routing"] and data["tags"] == ["method"]
    assert data["venue"] == {"name": "arXiv", "kind": "preprint"}
