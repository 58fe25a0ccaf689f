"""`smatlas validate --changed-since REF`: only the changed papers' own errors, every collection
error, and GitHub annotations when GITHUB_ACTIONS is set."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import VALID_PAPER, write_paper

from smatlas.ci import annotation, changed_paper_files
from smatlas.cli import main
from smatlas.errors import UserError

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


def paper(pid: str, arxiv: str, title: str, year: str = "2024") -> str:
    """A valid paper whose first author is named after the id (`roe...` is Jane Roe); give titles
    whose first significant word ends the id, so that the id follows the rule."""
    family = re.match(r"[a-z]+", pid).group().capitalize()
    return (
        VALID_PAPER.replace("doe2024small", pid)
        .replace("Jane Doe", f"Jane {family}")
        .replace("'2401.00001'", f"'{arxiv}'")
        .replace("Small Models Help Large Ones", title)
        .replace("year: 2024", f"year: {year}")
    )


@pytest.fixture
def repo(atlas: Path) -> Path:
    """A git repository holding the fixture atlas, with a second valid paper and one broken paper
    already committed (the broken one stands for noise that a pull request did not cause)."""
    write_paper(atlas, "roe2023other.yaml", paper("roe2023other", "2302.00002", "Other Distinct Paper"))
    write_paper(atlas, "old2022broken.yaml", paper("old2022broken", "2203.00003", "Broken Old Entry", year="1970"))
    git(atlas, "init", "-q", "-b", "main")
    git(atlas, "add", "-A")
    git(atlas, "commit", "-q", "-m", "base")
    return atlas


def validate(repo: Path, capsys, *extra: str) -> tuple[int, str, str]:
    code = main(["--root", str(repo), "validate", "--changed-since", "main", *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_changed_files_are_modified_and_untracked_papers_not_deleted_ones(repo):
    (repo / "papers" / "roe2023other.yaml").write_text(
        paper("roe2023other", "2302.00002", "Other Distinct Paper, Edited"), encoding="utf-8"
    )
    write_paper(repo, "new2025paper.yaml", paper("new2025paper", "2501.00004", "Paper, New and Untracked"))
    (repo / "papers" / "doe2024small.yaml").unlink()
    (repo / "notes.txt").write_text("not a paper\n", encoding="utf-8")
    names = [f.name for f in changed_paper_files(repo, "main")]
    assert names == ["new2025paper.yaml", "roe2023other.yaml"]


def test_committed_changes_on_a_branch_count_since_the_merge_base(repo):
    git(repo, "checkout", "-q", "-b", "feature")
    write_paper(repo, "new2025paper.yaml", paper("new2025paper", "2501.00004", "Paper, New and Committed"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "add a paper")
    git(repo, "checkout", "-q", "main")  # main moves on with a paper of its own
    write_paper(repo, "main2025only.yaml", paper("main2025only", "2501.00005", "Only On The Main Branch"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "main moves")
    git(repo, "checkout", "-q", "feature")
    assert [f.name for f in changed_paper_files(repo, "main")] == ["new2025paper.yaml"]


def test_unchanged_broken_paper_is_not_reported_but_changed_one_is(repo, capsys):
    code, out, err = validate(repo, capsys)
    assert code == 0, err
    assert out.startswith("0 papers changed since main; 2 papers")
    write_paper(repo, "new2025paper.yaml", paper("new2025paper", "2501.00004", "Paper, New", year="1975"))
    code, out, err = validate(repo, capsys)
    assert code == 1
    assert "papers/new2025paper.yaml:7:7: year: must be a year from 1980" in err
    assert "old2022broken" not in err
    # the full validation still sees the old noise
    assert main(["--root", str(repo), "validate"]) == 1
    assert "papers/old2022broken.yaml:7:7" in capsys.readouterr().err


def test_collection_errors_are_reported_even_in_unchanged_files(repo, capsys):
    # The new paper reuses the arXiv id of a committed one: a collection error.
    write_paper(repo, "zed2025copy.yaml", paper("zed2025copy", "2302.00002", "Copy With a Copied Id"))
    code, _, err = validate(repo, capsys)
    assert code == 1
    assert "papers/zed2025copy.yaml:11:1: arxiv: same as in papers/roe2023other.yaml" in err
    # Deleting a paper that another one relates to breaks an unchanged file: still reported.
    (repo / "papers" / "zed2025copy.yaml").unlink()
    text = (repo / "papers" / "roe2023other.yaml").read_text(encoding="utf-8")
    (repo / "papers" / "roe2023other.yaml").write_text(
        text.replace("added:", "relations:\n  - type: builds-on\n    paper: doe2024small\nadded:"), encoding="utf-8"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "relation")
    git(repo, "branch", "-f", "base")
    (repo / "papers" / "doe2024small.yaml").unlink()
    code = main(["--root", str(repo), "validate", "--changed-since", "base"])
    err = capsys.readouterr().err
    assert code == 1
    assert "papers/roe2023other.yaml:19:1: relations: paper 'doe2024small' is not in the atlas" in err


def test_github_annotations_when_running_in_actions(repo, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    write_paper(repo, "new2025paper.yaml", paper("new2025paper", "2501.00004", "Paper, New", year="1975"))
    code, out, err = validate(repo, capsys)
    assert code == 1
    lines = [line for line in out.splitlines() if line.startswith("::")]
    last = dt.date.today().year + 1
    assert lines == [f"::error file=papers/new2025paper.yaml,line=7,col=7::year: must be a year from 1980 to {last}"]
    monkeypatch.setenv("GITHUB_ACTIONS", "false")
    code, out, err = validate(repo, capsys)
    assert "::error" not in out + err and "papers/new2025paper.yaml:7:7: year" in err


def test_annotation_escapes_what_github_would_misread():
    e = UserError("papers/a,b:c.yaml", 3, 0, "summary: 100% wrong\nsecond line")
    assert annotation(e) == "::error file=papers/a%2Cb%3Ac.yaml,line=3::summary: 100%25 wrong%0Asecond line"
    w = UserError("papers/x.yaml", 0, 0, "nearly the same", severity="warning")
    assert annotation(w) == "::warning file=papers/x.yaml::nearly the same"


def test_unknown_ref_or_no_repository_is_a_clear_error(repo, tmp_path_factory, capsys):
    code = main(["--root", str(repo), "validate", "--changed-since", "no-such-branch"])
    err = capsys.readouterr().err
    assert code == 2 and "validate --changed-since no-such-branch:" in err and "Traceback" not in err
    plain = tmp_path_factory.mktemp("plain") / "atlas"
    shutil.copytree(repo, plain, ignore=shutil.ignore_patterns(".git"))
    code = main(["--root", str(plain), "validate", "--changed-since", "main"])
    assert code == 2 and "validate --changed-since main:" in capsys.readouterr().err


def test_near_duplicate_warnings_only_when_they_concern_a_changed_paper(repo, capsys):
    write_paper(repo, "zoe2024other.yaml", paper("zoe2024other", "2402.00009", "Other Distinct Papers"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "an old near-duplicate pair")
    git(repo, "branch", "-f", "base")
    assert main(["--root", str(repo), "validate", str(repo)]) == 1  # the old broken paper
    assert "warning: title: nearly the same" in capsys.readouterr().out  # the full run sees the old pair
    assert main(["--root", str(repo), "validate", "--changed-since", "base"]) == 0
    out = capsys.readouterr().out
    assert "warning" not in out and "0 papers changed since base" in out
    # A new paper near-identical to an old one: the warning may sit on the old file, and is shown.
    write_paper(repo, "abe2024small.yaml", paper("abe2024small", "2402.00010", "Small Models Help Large One"))
    assert main(["--root", str(repo), "validate", "--changed-since", "base"]) == 0
    out = capsys.readouterr().out
    assert "papers/doe2024small.yaml:3:1: warning: title: nearly the same as papers/abe2024small.yaml" in out


# ---- the id rule (issue 17): an error for new papers, a warning for published ones -------------------

RULE = "first author's family name, year, first significant title word; see CONTRIBUTING.md"


def renamed(text: str, old: str, new: str) -> str:
    return text.replace(f"id: {old}\n", f"id: {new}\n")


def test_a_new_paper_whose_id_breaks_the_rule_is_an_error_that_names_the_expected_id(repo, capsys):
    write_paper(
        repo,
        "foo2019bar.yaml",
        paper("sun2024simple", "2306.11695", "Simple Pruning").replace("sun2024simple", "foo2019bar"),
    )
    code = main(["--root", str(repo), "validate"])
    err = capsys.readouterr().err
    assert code == 1
    assert (
        f"papers/foo2019bar.yaml:2:1: id: 'foo2019bar' does not follow the id rule ({RULE}); expected 'sun2024simple' "
        "(or 'sun2023simple', with its arXiv id's year): rename the file to sun2024simple.yaml and set its id to match"
    ) in err
    code, _, err = validate(repo, capsys)  # the same with --changed-since
    assert code == 1 and "papers/foo2019bar.yaml:2:1: id: 'foo2019bar' does not follow the id rule" in err


def test_a_published_paper_renamed_to_a_wrong_id_is_new_and_an_error(repo, capsys):
    git(repo, "checkout", "-q", "-b", "feature")
    git(repo, "mv", "papers/roe2023other.yaml", "papers/foo2019bar.yaml")
    path = repo / "papers" / "foo2019bar.yaml"
    path.write_text(renamed(path.read_text(encoding="utf-8"), "roe2023other", "foo2019bar"), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "rename")
    code, _, err = validate(repo, capsys)
    assert code == 1 and "expected 'roe2024other' (or 'roe2023other', with its arXiv id's year)" in err


def test_a_published_paper_with_a_wrong_id_only_warns(repo, capsys):
    path = repo / "papers" / "roe2023other.yaml"
    path.rename(repo / "papers" / "foo2019bar.yaml")
    path = repo / "papers" / "foo2019bar.yaml"
    path.write_text(renamed(path.read_text(encoding="utf-8"), "roe2023other", "foo2019bar"), encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a wrong id reaches main")
    (repo / "papers" / "old2022broken.yaml").unlink()  # the unrelated broken paper
    code = main(["--root", str(repo), "validate"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert (
        f"papers/foo2019bar.yaml:2:1: warning: id: 'foo2019bar' does not follow the id rule ({RULE}): it would be "
        "'roe2024other' (or 'roe2023other', with its arXiv id's year); a published paper keeps its id, since its URL "
        "is permanent"
    ) in out
    # Without git information every paper counts as published: still a warning.
    plain = repo.parent / "plain"
    shutil.copytree(repo, plain, ignore=shutil.ignore_patterns(".git"))
    assert main(["--root", str(plain), "validate"]) == 0
    assert "warning: id: 'foo2019bar' does not follow the id rule" in capsys.readouterr().out


@pytest.mark.parametrize(
    "pid, arxiv, year",
    [
        ("doe2025small", "2501.00007", "2025"),  # the paper's year
        ("doe2023small", "2312.00007", "2024"),  # the arXiv id's year: the venue came later
        ("doe2024smallb", "2402.00007", "2024"),  # a collision suffix
        ("doe2024smallbc", "2402.00007", "2024"),  # a longer one
    ],
)
def test_new_ids_may_use_the_arxiv_year_and_a_suffix(repo, capsys, pid, arxiv, year):
    text = paper(pid, arxiv, "Small Models Help Large Ones, Again", year=year)
    write_paper(repo, f"{pid}.yaml", text)
    code = main(["--root", str(repo), "validate", "--changed-since", "main"])
    out, err = capsys.readouterr()
    assert "id rule" not in out + err, out + err
    assert code == 0, err
