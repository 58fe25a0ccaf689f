"""Writing files atomically and rendering papers as YAML in the fixed field order."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from smatlas.schema import FIELD_ORDER, Paper

SCHEMA_COMMENT = "# yaml-language-server: $schema=schema.json\n"


class FileExists(Exception):
    pass


def _umask() -> int:
    """The process's umask (reading it means setting it; it is set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode(path: Path, overwrite: bool) -> int:
    """The permissions a written file gets: those of the file it replaces, else what the umask
    allows a new file (0644 under the usual 022)."""
    if overwrite:
        try:
            return stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            pass
    return 0o666 & ~_umask()


def write_atomic(path: Path, text: str, overwrite: bool = False) -> None:
    """Write `text` to `path` through a temporary file and a rename; never replace an existing file
    unless `overwrite` is set. The file gets the mode of the file it replaces, or the umask's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = file_mode(path, overwrite)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)  # mkstemp creates files 0600 whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if the path exists, even under a race
            except FileExistsError:
                raise FileExists(f"{path} already exists; not overwritten") from None
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return _quote(str(value))


def _folded(text: str, indent: str = "  ", width: int = 96) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return ">-\n" + "\n".join(indent + ln for ln in lines)


def paper_yaml(paper: Paper | dict) -> str:
    """A paper as YAML in the fixed field order, with the schema comment first."""
    data = paper.model_dump(exclude_none=True) if isinstance(paper, Paper) else dict(paper)
    out = [SCHEMA_COMMENT.rstrip("\n")]
    for key in FIELD_ORDER:
        value = data.get(key)
        if value is None or value == [] or value == {}:
            continue
        if key == "summary":
            out.append(f"summary: {_folded(value)}")
        elif key == "venue":
            out.append(f"venue:\n  name: {_quote(value['name'])}\n  kind: {value['kind']}")
        elif key == "models":
            parts = [
                f"  {size}:\n" + "\n".join(f"    - {_quote(m)}" for m in value[size])
                for size in ("small", "large")
                if value.get(size)
            ]
            if parts:
                out.append("models:\n" + "\n".join(parts))
        elif key == "relations":
            out.append("relations:\n" + "\n".join(f"  - type: {r['type']}\n    paper: {r['paper']}" for r in value))
        elif isinstance(value, list):
            out.append(f"{key}:\n" + "\n".join(f"  - {_scalar(v)}" for v in value))
        elif key in ("id", "year", "added", "reference_impl"):
            out.append(f"{key}: {_scalar(value) if key != 'id' and key != 'reference_impl' else value}")
        else:
            out.append(f"{key}: {_scalar(value)}")
    return "\n".join(out) + "\n"
