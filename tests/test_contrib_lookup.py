"""`smatlas new --arxiv ID` and `--doi DOI`: the paper's details from arXiv's API or Crossref, fed
here from recorded answers (tests/data/lookup); offline, a clear message. Nothing here may reach the
network: a guard makes every name lookup but the loopback's fail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT, copy_taxonomy, paper_data, run_new

from smatlas import lookup
from smatlas.cli import main
from smatlas.schema import SUMMARY_PLACEHOLDER
from smatlas.suggest import placements

RECORDED = Path(__file__).parent / "data" / "lookup"
ANSWERS = {
    "https://export.arxiv.org/api/query?id_list=2306.08543&max_results=1": "arxiv-2306.08543.xml",
    "https://export.arxiv.org/api/query?id_list=2404.99999&max_results=1": "arxiv-empty.xml",
    "https://api.crossref.org/works/10.18653/v1/2020.findings-emnlp.372": (
        "crossref-10.18653_v1_2020.findings-emnlp.372.json"
    ),
}
pytestmark = pytest.mark.usefixtures("no_network")  # conftest: only the loopback resolves


@pytest.fixture
def recorded(monkeypatch) -> list[str]:
    """`smatlas.lookup` fetches from the recorded answers; returns the URLs asked for."""
    asked: list[str] = []

    def fetch(url: str, timeout: float = lookup.TIMEOUT) -> bytes:
        asked.append(url)
        if url not in ANSWERS:
            raise lookup.HttpStatus(url.split("/")[2], 404)
        return (RECORDED / ANSWERS[url]).read_bytes()

    monkeypatch.setattr(lookup, "fetch_url", fetch)
    return asked


@pytest.fixture
def atlas(tmp_path: Path, monkeypatch) -> Path:
    """The real taxonomy and four real papers (relations dropped); MiniLLM and TinyBERT are not in it."""
    copy_taxonomy(tmp_path)
    (tmp_path / "papers").mkdir()
    for pid in ("hinton2015distilling", "sanh2019distilbert", "kim2016sequence", "sun2024simple"):
        text = (ROOT / "papers" / f"{pid}.yaml").read_text(encoding="utf-8")
        text = re.sub(r"^relations:\n(?:  .*\n)+", "", text, flags=re.MULTILINE)
        (tmp_path / "papers" / f"{pid}.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_new_from_an_arxiv_id_writes_the_fetched_fields_and_the_suggested_node(atlas, recorded, capsys):
    code, out, err = run_new(capsys, "--arxiv", "2306.08543")
    assert (code, err) == (0, "")
    assert recorded == ["https://export.arxiv.org/api/query?id_list=2306.08543&max_results=1"]
    data = paper_data(atlas, "gu2023minillm")
    assert data["title"] == "MiniLLM: Knowledge Distillation of Large Language Models"  # unwrapped
    assert data["authors"] == ["Yuxian Gu", "Li Dong", "Furu Wei", "Minlie Huang"]
    assert data["year"] == 2023  # the first version's year
    assert data["venue"] == {"name": "arXiv", "kind": "preprint"}
    assert data["arxiv"] == "2306.08543"
    suggested = placements(atlas, [data["title"]])[0].nodes[0].id
    assert data["taxonomy"] == [suggested]  # the node the title suggests, announced
    assert f"  taxonomy: {suggested}, the node suggested by the title: check it, or give --taxonomy" in out
    assert data["summary"] == SUMMARY_PLACEHOLDER  # never the abstract
    assert "Kullback" not in (atlas / "papers" / "gu2023minillm.yaml").read_text(encoding="utf-8")
    lines = out.splitlines()
    assert lines[:3] == [
        "arXiv 2306.08543: MiniLLM: Knowledge Distillation of Large Language Models",
        "  Yuxian Gu, Li Dong, Furu Wei, Minlie Huang (2023)",
        "  arXiv categories: cs.CL (primary), cs.AI",
    ]
    assert "  abstract: https://arxiv.org/abs/2306.08543 (read it to write the summary in your own words)" in lines
    assert any("arXiv's comment: 'Published as a conference paper in ICLR 2024'" in line for line in lines)
    assert any(line.startswith("wrote papers/gu2023minillm.yaml") for line in lines)
    # The file fails validation for its placeholder summary only.
    assert main(["validate"]) == 1
    errors = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("papers/")]
    assert len(errors) == 1 and "summary: placeholder summary" in errors[0]


def test_flags_given_with_an_arxiv_id_win_over_the_fetched_fields(atlas, recorded, capsys):
    code, out, err = run_new(
        capsys, "--arxiv", "2306.08543", "--venue", "ICLR", "--year", "2024", "--taxonomy", "knowledge-distillation"
    )
    assert (code, err) == (0, "")
    data = paper_data(atlas, "gu2024minillm")
    assert data["venue"] == {"name": "ICLR", "kind": "conference"} and data["year"] == 2024
    assert data["taxonomy"] == ["knowledge-distillation"]


def test_with_every_field_given_nothing_is_fetched(atlas, recorded, capsys):
    code, _, err = run_new(
        capsys, "--arxiv", "2306.08543", "--title", "MiniLLM: Knowledge Distillation of Large Language Models",
        "--author", "Yuxian Gu", "--year", "2024", "--taxonomy", "white-box-distillation",
    )  # fmt: skip
    assert (code, err) == (0, "") and recorded == []


def test_a_fetched_paper_the_atlas_holds_is_refused(atlas, recorded, capsys):
    text = (ROOT / "papers" / "gu2024minillm.yaml").read_text(encoding="utf-8")
    (atlas / "papers" / "gu2024minillm.yaml").write_text(re.sub(r"^relations:\n(?:  .*\n)+", "", text, flags=re.M))
    before = sorted(p.name for p in (atlas / "papers").iterdir())
    code, _, err = run_new(capsys, "--arxiv", "2306.08543")
    assert code == 1
    assert "already in the atlas as gu2024minillm (papers/gu2024minillm.yaml): same arXiv id 2306.08543" in err
    assert sorted(p.name for p in (atlas / "papers").iterdir()) == before


def test_new_from_a_doi_takes_the_venue_from_crossref(atlas, recorded, capsys):
    code, out, err = run_new(
        capsys, "--doi", "10.18653/v1/2020.findings-emnlp.372", "--taxonomy", "white-box-distillation"
    )
    assert (code, err) == (0, "")
    data = paper_data(atlas, "jiao2020tinybert")
    assert data["title"] == "TinyBERT: Distilling BERT for Natural Language Understanding"  # JATS markup removed
    assert data["authors"][0] == "Xiaoqi Jiao" and len(data["authors"]) == 8
    assert data["year"] == 2020
    assert data["venue"] == {"name": "Findings of EMNLP", "kind": "conference"}
    assert data["doi"] == "10.18653/v1/2020.findings-emnlp.372"
    assert "  abstract: https://doi.org/10.18653/v1/2020.findings-emnlp.372 (read it to write the summary" in out


def test_an_arxiv_doi_is_looked_up_at_arxiv(atlas, recorded, capsys):
    code, _, err = run_new(capsys, "--doi", "10.48550/arXiv.2306.08543")
    assert code == 0, err
    assert recorded == ["https://export.arxiv.org/api/query?id_list=2306.08543&max_results=1"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--arxiv", "2404.99999"], "new --arxiv 2404.99999: arXiv has no paper 2404.99999; check the id"),
        (
            ["--doi", "10.1234/nothing"],
            "new --doi 10.1234/nothing: Crossref has no record of DOI 10.1234/nothing: check it",
        ),
        (["--arxiv", "2306.08543v2"], "--arxiv: drop the version suffix: write '2306.08543'"),
    ],
)
def test_unknown_or_malformed_identifiers_are_one_clear_line(atlas, recorded, capsys, args, message):
    code, _, err = run_new(capsys, *args)
    assert code == 1 and err.startswith(message) and "Traceback" not in err
    assert sorted(p.stem for p in (atlas / "papers").iterdir()) == [
        "hinton2015distilling",
        "kim2016sequence",
        "sanh2019distilbert",
        "sun2024simple",
    ]


def test_arxiv_error_entries_and_rate_limits_are_explained():
    with pytest.raises(lookup.LookupFailed, match="arXiv refused the id 2306.0854: incorrect id format"):
        lookup.parse_arxiv((RECORDED / "arxiv-error.xml").read_bytes(), "2306.0854")
    with pytest.raises(lookup.LookupFailed, match="Rate exceeded"):
        lookup.parse_arxiv(b"Rate exceeded.", "2306.08543")
    with pytest.raises(lookup.LookupFailed, match="not an Atom feed"):
        lookup.parse_arxiv(b"<html>busy</html", "2306.08543")


def test_offline_new_says_it_needs_the_network_and_writes_nothing(atlas, capsys):
    """The real fetcher, with name lookups failing as they do without a network."""
    code, out, err = run_new(capsys, "--arxiv", "2306.08543")
    assert code == 1 and out == ""
    assert err.startswith("new --arxiv 2306.08543: cannot reach export.arxiv.org (")
    assert "fetching the paper's details needs the network" in err
    assert "give the fields yourself: --title, --author (once per author, in order), --year and --taxonomy" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    code, _, err = run_new(capsys, "--doi", "10.18653/v1/2020.findings-emnlp.372")
    assert code == 1 and err.startswith("new --doi 10.18653/v1/2020.findings-emnlp.372: cannot reach api.crossref.org")
    assert not (atlas / "papers" / "gu2023minillm.yaml").exists()
