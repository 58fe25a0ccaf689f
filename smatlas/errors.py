"""One error type for problems in user data, carrying `file:line:col` and an actionable message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class UserError:
    """A problem in a contributor's file. `line` and `col` are 1-based; 0 means unknown."""

    path: str
    line: int
    col: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.col:
                where += f":{self.col}"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{self.message}"


def display_path(path: Path, root: Path) -> str:
    """The path as a contributor would type it: relative to the repository when inside it.

    Plain string work first (cheap for the thousands of files under the root); resolving links
    only for paths given some other way.
    """
    text, prefix = str(path), str(root).rstrip("/") + "/"
    if text.startswith(prefix) and ".." not in text:
        return text[len(prefix) :]
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


class DataError(Exception):
    """Raised by library functions that stop at bad user data; carries every error found."""

    def __init__(self, errors: list[UserError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))
