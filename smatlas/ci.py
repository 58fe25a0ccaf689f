"""What a pull request's checks need: the paper files changed since a git ref, the ones added (not yet
published, which must follow the id rule), and errors printed as GitHub Actions annotations so that
they show on the lines of the pull request's diff."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from smatlas.errors import UserError


class GitError(Exception):
    """git is missing, the folder is not a repository, or the ref is unknown."""


def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    if proc.returncode != 0:
        raise GitError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"git {args[0]} failed")
    return proc.stdout


def changed_paper_files(root: Path, ref: str) -> list[Path]:
    """Paper files (`papers/*.yaml`) added or modified since `ref`, committed or not, plus untracked
    new ones. 'Since' means since the branch left `ref` (their merge base), so that papers added
    to `ref` in the meantime do not count; in a shallow clone without a merge base, `ref` itself."""
    _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    try:
        base = _git(root, "merge-base", ref, "HEAD").strip()
    except GitError:
        base = ref
    diff = _git(root, "diff", "--name-only", "--relative", "--diff-filter=d", "-z", base, "--", "papers")
    new = _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", "papers")
    names = {name for name in (diff + new).split("\0") if name}
    return sorted(
        root / name
        for name in names
        if name.startswith("papers/") and name.count("/") == 1 and name.endswith(".yaml") and (root / name).is_file()
    )


DEFAULT_BASES = ("origin/main", "main")


def added_paper_files(root: Path, ref: str | None = None) -> list[Path]:
    """Paper files that are not yet on the main branch: added since the branch left `ref` (committed
    or not; a renamed file counts as added, since its URL is new) and untracked new ones. Without
    `ref`, the first of origin/main and main that exists. Empty when there is no such branch, no
    repository or no git: then every paper counts as already published."""
    try:
        if ref is None:
            ref = next((r for r in DEFAULT_BASES if _resolves(root, r)), None)
            if ref is None:
                return []
        _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        try:
            base = _git(root, "merge-base", ref, "HEAD").strip()
        except GitError:
            base = ref
        diff = _git(
            root, "diff", "--name-only", "--relative", "--no-renames", "--diff-filter=A", "-z", base, "--", "papers"
        )
        new = _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", "papers")
    except GitError:
        return []
    names = {name for name in (diff + new).split("\0") if name}
    return sorted(
        root / name
        for name in names
        if name.startswith("papers/") and name.count("/") == 1 and name.endswith(".yaml") and (root / name).is_file()
    )


def _resolves(root: Path, ref: str) -> bool:
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError:
        return False
    return True


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(error: UserError) -> str:
    """`::error file=papers/x.yaml,line=3,col=5::message` (or `::warning ...`): a GitHub workflow
    command that marks the line in the pull request."""
    props = [f"file={_escape_property(error.path)}"]
    if error.line:
        props.append(f"line={error.line}")
        if error.col:
            props.append(f"col={error.col}")
    kind = "warning" if error.severity == "warning" else "error"
    return f"::{kind} {','.join(props)}::{_escape_data(error.message)}"
