"""The title rule (`smatlas.titles`): one function decides when two titles name the same paper, for
`import-bib` duplicates and for `validate`'s near-duplicate warning; titles that differ in a number or
version token never match."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import VALID_PAPER, write_paper

from smatlas.cli import main
from smatlas.ids import paper_id
from smatlas.titles import near_identical, number_tokens, title_similarity

PAIRS = [
    # (atlas title, incoming title, same paper?)
    ("Qwen Technical Report", "Qwen2 Technical Report", False),
    ("Open LLM Leaderboard", "Open LLM Leaderboard v2", False),
    ("Phi-3 Technical Report", "Phi-3.5 Technical Report", False),
    ("Qwen2 Technical Report", "Qwen2.5 Technical Report", False),
    ("Neural Additive Models", "Neural Additive Models II", False),
    ("Distilling the Knowledge in a Neural Network", "Distilling the Knowledge in Neural Networks", True),
    ("Small Models Help Large Ones", "Small Model Help Large Ones", True),
    ("Phi-3 Technical Report", "Phi 3 Technical Reports", True),
]


@pytest.mark.parametrize("a, b, same", PAIRS)
def test_titles_that_differ_in_a_number_or_version_never_match(a, b, same):
    assert near_identical(a, b) is same
    assert near_identical(b, a) is same
    assert (title_similarity(a, b) > 0) is (number_tokens(a) == number_tokens(b))


def test_number_tokens_read_digits_versions_and_roman_numerals():
    assert number_tokens("Qwen2.5-Coder") == {"2", "5"}
    assert number_tokens("Open LLM Leaderboard v2") == {"2"}
    assert number_tokens("Attention Is All You Need") == frozenset()
    assert number_tokens("Neural Additive Models II") == {"ii"}


def paper_text(title: str, arxiv: str, suffix: str = "") -> tuple[str, str]:
    """A valid paper by Jane Doe (2024) with this title, and its id by the rule."""
    pid = paper_id("Jane Doe", 2024, title) + suffix
    text = (
        VALID_PAPER.replace("doe2024small", pid)
        .replace("Small Models Help Large Ones", f"'{title}'")
        .replace("'2401.00001'", f"'{arxiv}'")
    )
    return f"{pid}.yaml", text


@pytest.fixture
def empty_atlas(atlas: Path) -> Path:
    (atlas / "papers" / "doe2024small.yaml").unlink()
    return atlas


@pytest.mark.parametrize("a, b, same", PAIRS)
def test_validate_warns_exactly_when_the_title_rule_matches(empty_atlas, capsys, a, b, same):
    write_paper(empty_atlas, *paper_text(a, "2401.00001"))
    write_paper(empty_atlas, *paper_text(b, "2401.00002", suffix="b"))
    code = main(["--root", str(empty_atlas), "validate"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert ("warning: title: nearly the same" in out.out) is same


@pytest.mark.parametrize("a, b, same", PAIRS)
def test_import_bib_flags_a_duplicate_exactly_when_the_title_rule_matches(empty_atlas, capsys, a, b, same):
    write_paper(empty_atlas, *paper_text(a, "2401.00001"))
    bib = empty_atlas / "refs.bib"
    bib.write_text(
        f"@misc{{x, author = {{Doe, Jane}}, title = {{{b}}}, year = 2024, url = {{https://example.org/x}}}}\n",
        encoding="utf-8",
    )
    code = main(["--root", str(empty_atlas), "import-bib", str(bib), "--dry-run", "--no-suggest"])
    out = capsys.readouterr().out
    assert code == 0
    assert ("duplicate of" in out) is same, out
