"""Files the command line writes (issue 17, item 6): the umask decides a new file's mode, a replaced
file keeps its own, and nothing is left behind (writes go through a temporary file and a rename)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from smatlas.cli import main
from smatlas.writer import FileExists, write_atomic

BIB = "@misc{k, author = {Roe, Bob}, title = {Tiny Critics}, year = 2024, url = {https://example.org/t}}\n"
NEW = ["new", "--title", "Small Judges", "--author", "Ann Poe", "--year", "2024", "--arxiv", "2404.99999",
       "--taxonomy", "routing", "--no-suggest"]  # fmt: skip


@pytest.fixture
def umask():
    """Set the umask for one test, and put the old one back."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_new_and_import_bib_files_follow_the_umask(atlas, umask, capsys, mask, expected):
    umask(mask)
    (atlas / "refs.bib").write_text(BIB, encoding="utf-8")
    assert main(["--root", str(atlas), "import-bib", str(atlas / "refs.bib"), "--taxonomy", "rag", "--no-suggest"]) == 0
    assert main(["--root", str(atlas), *NEW]) == 0, capsys.readouterr().err
    assert mode(atlas / "papers" / "roe2024tiny.yaml") == expected
    assert mode(atlas / "papers" / "poe2024small.yaml") == expected
    assert leftovers(atlas / "papers") == []


def test_export_bib_output_follows_the_umask_and_keeps_an_existing_files_mode(atlas, umask, tmp_path, capsys):
    umask(0o022)
    fresh = tmp_path / "fresh.bib"
    assert main(["--root", str(atlas), "export-bib", "-o", str(fresh)]) == 0
    assert mode(fresh) == 0o644
    for kept in (0o640, 0o664):
        existing = tmp_path / f"existing-{kept:o}.bib"
        existing.write_text("old\n", encoding="utf-8")
        existing.chmod(kept)
        assert main(["--root", str(atlas), "export-bib", "-o", str(existing)]) == 0
        assert mode(existing) == kept and existing.read_text(encoding="utf-8").startswith(
            "@inproceedings{doe2024small,"
        )
    assert leftovers(tmp_path) == []


def test_write_atomic_never_replaces_a_file_unless_asked(tmp_path, umask):
    umask(0o022)
    target = tmp_path / "a.yaml"
    target.write_text("mine\n", encoding="utf-8")
    target.chmod(0o600)
    with pytest.raises(FileExists):
        write_atomic(target, "theirs\n")
    assert target.read_text(encoding="utf-8") == "mine\n" and mode(target) == 0o600
    write_atomic(target, "theirs\n", overwrite=True)
    assert target.read_text(encoding="utf-8") == "theirs\n" and mode(target) == 0o600
    assert leftovers(tmp_path) == []
