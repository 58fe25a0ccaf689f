"""BibTeX import: the messy fixture, nothing written on error, dry runs, idempotence, and the round
trip of the whole atlas through export and import."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, copy_taxonomy, import_bib, paper_data, snapshot

from smatlas.bibtex import export_bibtex, read_bibtex, resolve_venue
from smatlas.cli import main
from smatlas.ids import family_name, paper_id, unique_id
from smatlas.kb import load
from smatlas.schema import SUMMARY_PLACEHOLDER

DATA = Path(__file__).parent / "data" / "bibtex"
ATLAS_PAPERS = ["sun2024simple", "hinton2015distilling", "dettmers2023qlora"]
SUMMARY = (
    "A summary written by a person: what the paper does, and the part small and large models play in it, "
    "long enough for the schema."
)


@pytest.fixture
def atlas(tmp_path: Path, monkeypatch) -> Path:
    """The real taxonomy and three real papers (relations dropped), with messy.bib as refs.bib; the
    current folder is the atlas, so errors name the file `refs.bib`."""
    copy_taxonomy(tmp_path)
    (tmp_path / "papers").mkdir()
    for pid in ATLAS_PAPERS:
        text = (ROOT / "papers" / f"{pid}.yaml").read_text(encoding="utf-8")
        text = re.sub(r"^relations:\n(?:  .*\n)+", "", text, flags=re.MULTILINE)
        (tmp_path / "papers" / f"{pid}.yaml").write_text(text, encoding="utf-8")
    shutil.copy(DATA / "messy.bib", tmp_path / "refs.bib")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---- the messy fixture ---------------------------------------------------------------------------


def test_messy_fixture_imports_exactly_as_expected(atlas, capsys):
    code, out, err = import_bib(capsys, "refs.bib", "--taxonomy", "knowledge-distillation", "--skip-broken")
    assert code == 1  # something was broken
    assert out[-1] == "2 new, 3 duplicates, 3 broken"
    assert err == [
        "refs.bib:28: author: ends with 'and others'; the atlas lists every author: write all the names "
        "(the paper's first page or its arXiv page has them)",
        "refs.bib:62: malformed entry: Unexpected block start: `@misc`. Was still looking for field-value closing `,` or `}`",
        "refs.bib:68: duplicate key 'jiao2020tinybert' (also on line 36, another paper); BibTeX keys must be unique",
    ]
    assert "refs.bib:47: duplicate of sun2024simple (papers/sun2024simple.yaml): same title; skipped" in out
    assert (
        "refs.bib:55: duplicate of hinton2015distilling (papers/hinton2015distilling.yaml): same arXiv id 1503.02531; skipped"
        in out
    )
    assert "refs.bib:75: duplicate of martin2020camembert (refs.bib:6): same title; skipped" in out
    assert sorted(p.stem for p in (atlas / "papers").glob("*.yaml")) == sorted(
        ATLAS_PAPERS + ["martin2020camembert", "jiao2020tinybert"]
    )

    camembert = paper_data(atlas, "martin2020camembert")
    assert camembert["title"] == "CamemBERT: a Tasty French Language Model"  # braced capitals
    assert camembert["authors"] == [  # accents as {\'a}, \'{e}, {\'E}, {\^\i}; a von part
        "Louis Martin",
        "Benjamin Muller",
        "Pedro Javier Ortiz Suárez",
        "Yoann Dupont",
        "Laurent Romary",
        "Éric de la Clergerie",
        "Djamé Seddah",
        "Benoît Sagot",
    ]
    assert camembert["venue"] == {"name": "ACL", "kind": "conference"}  # @string concatenated with text
    assert camembert["doi"] == "10.18653/v1/2020.acl-main.645"
    assert camembert["url"] == "https://aclanthology.org/2020.acl-main.645"
    assert "arxiv" not in camembert

    # BLOOM's entry ends its authors with "and others": broken (above), not imported with six of them.
    assert not (atlas / "papers" / "workshop2022bloom.yaml").exists()

    tinybert = paper_data(atlas, "jiao2020tinybert")
    assert tinybert["venue"] == {"name": "Findings of EMNLP", "kind": "conference"}  # @string macro
    assert tinybert["arxiv"] == "1909.10351"  # from an arXiv URL
    assert "url" not in tinybert  # the arXiv URL says nothing more than the arXiv id
    assert tinybert["authors"][0] == "Xiaoqi Jiao" and len(tinybert["authors"]) == 8


def test_imported_file_is_formatted_like_the_golden_file(atlas, capsys):
    import_bib(capsys, "refs.bib", "--taxonomy", "knowledge-distillation", "--skip-broken")
    text = (atlas / "papers" / "martin2020camembert.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=schema.json\n")
    text = re.sub(r"^added: \d{4}-\d{2}-\d{2}$", "added: TODAY", text, flags=re.MULTILINE)
    assert text == (DATA / "martin2020camembert.yaml").read_text(encoding="utf-8")


def test_imported_files_fail_validation_only_for_their_placeholder_summary(atlas, capsys):
    import_bib(capsys, "refs.bib", "--taxonomy", "knowledge-distillation", "--skip-broken")
    assert main(["validate"]) == 1
    errors = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("papers/")]
    assert sorted(ln.split(":")[0] for ln in errors) == [
        "papers/jiao2020tinybert.yaml",
        "papers/martin2020camembert.yaml",
    ]
    assert all("summary: placeholder summary" in ln for ln in errors)
    for pid in ("jiao2020tinybert", "martin2020camembert"):
        path = atlas / "papers" / f"{pid}.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(SUMMARY_PLACEHOLDER, SUMMARY), encoding="utf-8")
    assert main(["validate"]) == 0, capsys.readouterr().err


def test_nothing_is_written_when_an_entry_is_broken(atlas, capsys):
    before = snapshot(atlas / "papers")
    code, out, err = import_bib(capsys, "refs.bib", "--taxonomy", "knowledge-distillation")
    assert code == 1
    assert snapshot(atlas / "papers") == before
    assert any(ln.startswith("nothing written") for ln in err)
    assert out[-1] == "2 new, 3 duplicates, 3 broken"
    assert "refs.bib:6: would write papers/martin2020camembert.yaml" in out


def test_dry_run_writes_nothing(atlas, capsys):
    before = snapshot(atlas / "papers")
    code, out, _ = import_bib(capsys, "refs.bib", "--dry-run", "--skip-broken")
    assert snapshot(atlas / "papers") == before
    assert "dry run: nothing written" in out and out[-1] == "2 new, 3 duplicates, 3 broken"
    assert code == 1


def test_importing_the_same_file_twice_adds_nothing_the_second_time(atlas, capsys):
    import_bib(capsys, "refs.bib", "--taxonomy", "knowledge-distillation", "--skip-broken")
    after_first = snapshot(atlas / "papers")
    code, out, _ = import_bib(capsys, "refs.bib", "--taxonomy", "knowledge-distillation", "--skip-broken")
    assert snapshot(atlas / "papers") == after_first
    assert out[-1] == "0 new, 5 duplicates, 3 broken"
    assert (
        "refs.bib:36: duplicate of jiao2020tinybert (papers/jiao2020tinybert.yaml): same arXiv id 1909.10351; skipped"
        in out
    )


def test_clean_file_imports_with_exit_code_zero(atlas, capsys):
    (atlas / "clean.bib").write_text(
        "@misc{x, author = {Doe, Jane}, title = {Small Critics}, year = 2024, eprint = {2401.09999}, "
        "archivePrefix = {arXiv}}\n",
        encoding="utf-8",
    )
    code, out, err = import_bib(capsys, "clean.bib", "--taxonomy", "sm-plugins", "rag")
    assert (code, err) == (0, [])
    assert out[-1] == "1 new, 0 duplicates, 0 broken"
    assert paper_data(atlas, "doe2024small")["taxonomy"] == ["sm-plugins", "rag"]


# ---- broken entries, each with its line --------------------------------------------------------------

BROKEN = """\
@book{a, author={X, Y}, title={T}, year=2020, publisher={P}}
@article{b, author={X, Y}, title={T}, journal={J}, year={circa 2020}}
@article{c, author={X, Y}, journal={J}, year=2020, doi={10.1/x}}
@article{d, author={X, Y}, title={No identifier}, journal={J}, year=2020}
@article{e, author={X, Y}, title={Too old}, journal={J}, year=1970, doi={10.1234/old}}
@inproceedings{f, author={X, Y}, title={T2}, booktitle=nomacro, year=2020, doi={10.1234/f}}
@misc{g, author={X, Y}, title={Bad arXiv id}, year=2020, eprint={2306.11695v}, archivePrefix={arXiv}}
@misc{h, author={X, Y}, title={Bad URL}, year=2020, url={ftp://x.org}}
@inproceedings{i,
  author = {Foo, Bar, Baz, Qux},
  title = {Too many commas}, booktitle = {ICML}, year = 2020, url = {https://x.org}}
"""


def test_each_broken_entry_is_reported_at_its_line_without_a_traceback(atlas, capsys):
    (atlas / "broken.bib").write_text(BROKEN, encoding="utf-8")
    code, out, err = import_bib(capsys, "broken.bib", "--taxonomy", "rag", "--skip-broken")
    assert code == 1 and out[-1] == "0 new, 0 duplicates, 9 broken"
    assert err == [  # every problem of an entry, not only the first found
        "broken.bib:1: @book: not a kind of paper the atlas holds; use @article, @inproceedings or @misc",
        "broken.bib:1: arxiv/doi/url: give at least one of arxiv, doi or url",
        "broken.bib:2: year: 'circa 2020' is not a year",
        "broken.bib:3: doi: must be a bare DOI like '10.18653/v1/2023.acl-long.1' (no https://doi.org/ prefix)",
        "broken.bib:3: title: missing",
        "broken.bib:4: arxiv/doi/url: give at least one of arxiv, doi or url",
        f"broken.bib:5: year: must be a year from 1980 to {dt.date.today().year + 1}",
        "broken.bib:6: booktitle: undefined @string macro 'nomacro'",
        "broken.bib:7: eprint: '2306.11695v' is not an arXiv id like 2306.11695",
        "broken.bib:8: url: must be an http:// or https:// URL with a host and no spaces",
        "broken.bib:9: cannot read the entry: Cannot split the following name `Foo, Bar, Baz, Qux` into parts: Too many commas",
    ]
    assert not list(atlas.glob("papers/x*.yaml"))


def test_an_entry_with_several_problems_reports_each_at_its_field_line():
    _, broken = read_bibtex("@article{k,\n  title = {},\n  year = {soon},\n  journal = {J}\n}\n", "refs.bib")
    assert [str(e) for e in broken[0].errors] == [
        "refs.bib:1: author: missing; the atlas needs the authors",
        "refs.bib:2: title: missing",
        "refs.bib:3: year: 'soon' is not a year",
    ]


def test_file_that_is_not_utf8_is_one_broken_error(atlas, capsys):
    (atlas / "latin1.bib").write_bytes("@misc{a,\n  author = {M\u00fcller, J},\n}\n".encode("latin-1"))
    code, out, err = import_bib(capsys, "latin1.bib", "--taxonomy", "rag")
    assert code == 1 and err[0] == "latin1.bib:2: not valid UTF-8; save the file as UTF-8"
    assert out[-1] == "0 new, 0 duplicates, 1 broken"


def test_taxonomy_is_required_and_must_exist(atlas, capsys):
    assert import_bib(capsys, "refs.bib")[0] == 2
    code, _, err = import_bib(capsys, "refs.bib", "--taxonomy", "no-such-node")
    assert code == 2 and "no-such-node: not a node" in err[0]
    assert import_bib(capsys, "missing.bib", "--taxonomy", "rag")[0] == 2


# ---- duplicates and ids ----------------------------------------------------------------------------


def test_near_identical_title_is_a_duplicate_unless_identifiers_differ(atlas, capsys):
    (atlas / "near.bib").write_text(
        "@misc{a, author = {Hinton, G.}, title = {Distilling the Knowledge in Neural Networks}, year = 2015,"
        " url = {https://example.org/hinton}}\n"
        "@misc{b, author = {Dettmers, Tim}, title = {QLoRA: Efficient Fine-tuning of Quantized LLMs}, year = 2023,"
        " eprint = {2305.99999}, archivePrefix = {arXiv}}\n",
        encoding="utf-8",
    )
    code, out, _ = import_bib(capsys, "near.bib", "--taxonomy", "rag")
    assert code == 0
    assert out[0].startswith("near.bib:1: duplicate of hinton2015distilling") and "% similar" in out[0]
    assert "near.bib:2: wrote papers/dettmers2023qlorab.yaml" in out  # another arXiv id: another paper


def test_id_taken_by_another_paper_gets_a_suffix_and_files_are_never_overwritten(atlas, capsys):
    (atlas / "same.bib").write_text(
        "@misc{a, author = {Sun, Mingjie}, title = {A Second Paper}, year = 2024, url = {https://x.org/1}}\n"
        "@misc{b, author = {Sun, Mingjie}, title = {A Third Paper}, year = 2024, url = {https://x.org/2}}\n",
        encoding="utf-8",
    )
    (atlas / "papers" / "sun2024second.yaml").write_text("not: a valid paper\n", encoding="utf-8")
    code, out, _ = import_bib(capsys, "same.bib", "--taxonomy", "rag")
    assert code == 0
    assert "same.bib:1: wrote papers/sun2024secondb.yaml" in out
    assert "same.bib:2: wrote papers/sun2024third.yaml" in out
    assert (atlas / "papers" / "sun2024second.yaml").read_text(encoding="utf-8") == "not: a valid paper\n"


# Ids are permanent URLs: a paper keeps its id when a later record changes its first author.
RENAMED_FIRST_AUTHOR = {"deepseekai2025deepseek"}  # the DeepSeek-AI consortium, before the full author list


def test_every_atlas_id_follows_the_id_rule():
    """The rule with the paper's year, or with its arXiv year (a paper keeps its id when it moves
    from preprint to a later venue)."""
    kb, _ = load(ROOT)
    taken: set[str] = set()
    for paper in sorted(kb.papers.values(), key=lambda p: p.id):
        years = {paper.year} | ({2000 + int(paper.arxiv[:2])} if paper.arxiv and paper.arxiv[:4].isdigit() else set())
        expected = {unique_id(paper_id(paper.authors[0], y, paper.title), taken) for y in years}
        assert paper.id in expected or paper.id in RENAMED_FIRST_AUTHOR, (paper.id, expected)
        taken.add(paper.id)


@pytest.mark.parametrize(
    "name, family",
    [
        ("Gaël Varoquaux", "varoquaux"),
        ("J. Zico Kolter Jr.", "kolter"),
        ("Kolter, J. Zico", "kolter"),
        ("Gemma Team", "team"),
        ("DeepSeek-AI", "deepseekai"),
        ("Marija Šakota", "sakota"),
    ],
)
def test_family_name(name, family):
    assert family_name(name) == family


def test_unique_id_suffixes():
    assert unique_id("doe2024small", set()) == "doe2024small"
    assert unique_id("doe2024small", {"doe2024small", "doe2024smallb"}) == "doe2024smallc"
    taken = {"x"} | {f"x{c}" for c in "bcdefghijklmnopqrstuvwxyz"}
    assert unique_id("x", taken) == "xba"


@pytest.mark.parametrize(
    "text, entry_type, venue",
    [
        ("Advances in Neural Information Processing Systems 36", "inproceedings", ("NeurIPS", "conference")),
        ("The Twelfth International Conference on Learning Representations", "inproceedings", ("ICLR", "conference")),
        (
            "Proceedings of the 40th International Conference on Machine Learning",
            "inproceedings",
            ("ICML", "conference"),
        ),
        (
            "Findings of the Association for Computational Linguistics: ACL 2023",
            "inproceedings",
            ("Findings of ACL", "conference"),
        ),
        (
            "Findings of the Association for Computational Linguistics: NAACL 2024",
            "inproceedings",
            ("Findings of NAACL", "conference"),
        ),
        (
            "Proceedings of the 2023 Conference on Empirical Methods in Natural Language Processing",
            "inproceedings",
            ("EMNLP", "conference"),
        ),
        (
            "Proceedings of the 2024 Conference of the North American Chapter of the Association for Computational Linguistics: Human Language Technologies (Volume 1: Long Papers)",
            "inproceedings",
            ("NAACL", "conference"),
        ),
        (
            "Proceedings of the 2024 Joint International Conference on Computational Linguistics, Language Resources and Evaluation (LREC-COLING 2024)",
            "inproceedings",
            ("LREC-COLING", "conference"),
        ),
        ("Transactions on Machine Learning Research", "article", ("TMLR", "journal")),
        ("Transactions of the Association for Computational Linguistics", "article", ("TACL", "journal")),
        ("Computational Linguistics", "article", ("Computational Linguistics", "journal")),
        ("ICLR 2024 Workshop ME-FoMo", "inproceedings", ("ICLR 2024 Workshop ME-FoMo", "workshop")),
        ("AAAI 2026 Bridge LMReasoning", "inproceedings", ("AAAI 2026 Bridge LMReasoning", "workshop")),
        ("arXiv preprint arXiv:2306.11695", "article", ("arXiv", "preprint")),
        ("CoRR", "article", ("arXiv", "preprint")),
        ("Proceedings of the AAAI Conference on Artificial Intelligence", "inproceedings", ("AAAI", "conference")),
        ("Some New Venue", "inproceedings", ("Some New Venue", "conference")),
    ],
)
def test_known_venues_get_the_atlas_short_name_and_kind(text, entry_type, venue):
    assert resolve_venue(text, entry_type) == venue


# ---- the round trip --------------------------------------------------------------------------------


def test_round_trip_of_the_whole_atlas_gives_back_ids_titles_authors_and_years(tmp_path, capsys, monkeypatch):
    kb, _ = load(ROOT)
    assert len(kb.papers) > 200
    (tmp_path / "atlas.bib").write_text(export_bibtex(kb.papers.values()), encoding="utf-8")
    copy_taxonomy(tmp_path)
    (tmp_path / "papers").mkdir()
    monkeypatch.chdir(tmp_path)
    code, out, err = import_bib(capsys, "atlas.bib", "--taxonomy", "rag")
    assert (code, err) == (0, [])
    assert out[-1] == f"{len(kb.papers)} new, 0 duplicates, 0 broken"
    imported = {
        paper_data(tmp_path, p.stem)["title"]: paper_data(tmp_path, p.stem)
        for p in (tmp_path / "papers").glob("*.yaml")
    }
    assert set(imported) == {p.title for p in kb.papers.values()}  # ids follow the rule anew (venue years)
    for pid, paper in kb.papers.items():
        got = imported[paper.title]
        assert (got["title"], got["authors"], got["year"]) == (paper.title, paper.authors, paper.year), pid
        # Beyond what the issue asks: identifiers and venues survive too.
        assert (got.get("arxiv"), got.get("doi"), got.get("url")) == (paper.arxiv, paper.doi, paper.url), pid
        assert got["venue"] == paper.venue.model_dump(), pid
