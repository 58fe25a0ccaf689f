"""From files to typed models: read each YAML file, validate it against the schema, and map every
schema error back to the `file:line:col` it came from."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from smatlas.errors import UserError, display_path
from smatlas.schema import Paper, Tag, TaxonomyNode
from smatlas.yamlio import Document, read_document

M = TypeVar("M", bound=BaseModel)

_KIND_OF_VALUE = {bool: "a boolean", int: "a number", float: "a number"}


def _describe(value) -> str:
    for kind, text in _KIND_OF_VALUE.items():
        if type(value) is kind:
            return text
    return "a date"


def _field_name(loc: tuple) -> str:
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc).replace(".[", "[")


def _get(data, loc):
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def schema_errors(model: type[M], data, doc: Document, path: str, base: tuple = ()) -> tuple[M | None, list]:
    """Validate `data` (found at `base` in `doc`) as `model`; return the model or positioned errors."""
    try:
        obj = model.model_validate(data)
    except ValidationError as exc:
        errors = []
        for e in exc.errors(include_url=False):
            loc = base + tuple(e["loc"])
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                allowed = ", ".join(model.model_fields) if not e["loc"][:-1] else "see the schema"
                msg = f"unknown field; allowed fields: {allowed}"
            elif e["type"] == "missing":
                msg = "required field is missing"
            if loc in doc.plain and e["type"].endswith("_type"):
                value = _get(doc.data, loc)
                msg += f" (unquoted `{doc.plain[loc]}` is read as {_describe(value)}; put it in quotes)"
            line, col = doc.position(loc, prefer_key=e["type"] == "extra_forbidden")
            errors.append(
                UserError(path, line, col, f"{_field_name(loc[len(base) :]) or model.__name__.lower()}: {msg}")
            )
        return None, errors
    errors = []
    for loc, text in doc.ambiguous.items():
        if loc[: len(base)] == base and isinstance(_get(doc.data, loc), str):
            line, col = doc.position(loc)
            errors.append(
                UserError(
                    path,
                    line,
                    col,
                    f"{_field_name(loc[len(base) :])}: unquoted `{text}` is read differently by YAML 1.1 "
                    f"parsers (as a boolean, number or date); put it in quotes",
                )
            )
    return (None if errors else obj), errors


def read_file(file: Path, root: Path) -> tuple[str, Document | None, list[UserError]]:
    """Read one YAML file of the atlas: its path as shown to the contributor, the document (None when
    unreadable) and every error found while reading it."""
    path = display_path(file, root)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        return path, None, [UserError(path, 0, 0, f"cannot read the file: {exc.strerror}")]
    doc, errors = read_document(raw, path)
    return path, doc, errors


def read_paper(file: Path, root: Path) -> tuple[Paper | None, list[UserError]]:
    """Read and validate one paper file."""
    path, doc, errors = read_file(file, root)
    if doc is None:
        return None, errors
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else "a single value"
        return None, errors + [UserError(path, 1, 1, f"top level is {kind}; a paper file must be a mapping of fields")]
    if errors:
        return None, errors
    paper, errors = schema_errors(Paper, doc.data, doc, path)
    stem = file.name.removesuffix(".yaml")
    if isinstance(doc.data.get("id"), str) and doc.data["id"] != stem:
        line, col = doc.position(("id",))
        errors.append(
            UserError(
                path,
                line,
                col,
                f"id: '{doc.data['id']}' differs from the file name; rename the file to {doc.data['id']}.yaml or change the id",
            )
        )
        paper = None
    return paper, errors


def read_list(file: Path, root: Path, model: type[M]) -> tuple[list[tuple[M, int]], list[UserError]]:
    """Read a YAML list of records (taxonomy nodes or tags); each comes with its line number."""
    path, doc, errors = read_file(file, root)
    if doc is None:
        return [], errors
    if not isinstance(doc.data, list):
        return [], errors + [UserError(path, 1, 1, f"top level must be a list of {model.__name__} entries")]
    items = []
    for i, data in enumerate(doc.data):
        obj, errs = schema_errors(model, data, doc, path, base=(i,))
        errors.extend(errs)
        if obj is not None:
            items.append((obj, doc.position((i,))[0]))
    return items, errors


def read_taxonomy(root: Path) -> tuple[list[tuple[TaxonomyNode, int]], list[UserError]]:
    return read_list(root / "taxonomy" / "taxonomy.yaml", root, TaxonomyNode)


def read_tags(root: Path) -> tuple[list[tuple[Tag, int]], list[UserError]]:
    return read_list(root / "taxonomy" / "tags.yaml", root, Tag)
