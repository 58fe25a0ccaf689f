"""Reading YAML safely, with the source position of every value.

libyaml composes the node tree (fast, with line and column marks); this module turns the nodes into
plain Python values under one well-defined rule set close to YAML 1.2, and refuses what a
contributor's file should never contain: tags, anchors and aliases, duplicate keys, tabs, a
byte-order mark, bytes that are not UTF-8, and files over the size limit. Values that YAML 1.1 and
YAML 1.2 parsers read differently (`NO`, `1e3`, `0777`, an unquoted date) are remembered, so that
the schema can tell the contributor to quote them.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from smatlas.errors import UserError

MAX_BYTES = 256 * 1024

Loc = tuple  # a path into the document: keys and list indexes

_TAG = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")}
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = {"null", "Null", "NULL", "~", ""}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Plain scalars that stay text here but that a YAML 1.1 parser reads as something else.
_YAML11_BOOL = re.compile(r"y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF")
_YAML11_NUMBER = re.compile(
    r"[-+]?0[0-7_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0b[01_]+|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?"
)
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ]|\s+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}.*")


@dataclass
class Document:
    """A parsed YAML file: its value and where each part of it came from."""

    data: Any
    positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)  # loc -> (line, col) of the value
    key_positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)  # loc -> (line, col) of its key
    plain: dict[Loc, str] = field(default_factory=dict)  # loc -> source text of unquoted non-text values
    ambiguous: dict[Loc, str] = field(default_factory=dict)  # loc -> source text YAML 1.1 reads differently

    def position(self, loc: Loc, prefer_key: bool = False) -> tuple[int, int]:
        """The closest known position of `loc`: itself, else its nearest ancestor."""
        loc = tuple(loc)
        while True:
            if prefer_key and loc in self.key_positions:
                return self.key_positions[loc]
            if loc in self.positions:
                return self.positions[loc]
            if not loc:
                return (1, 1)
            loc = loc[:-1]


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def read_document(raw: bytes, path: str) -> tuple[Document | None, list[UserError]]:
    """Parse bytes of a YAML file. Returns the document (None when unreadable) and every error found."""
    errors: list[UserError] = []

    def err(line: int, col: int, message: str) -> None:
        errors.append(UserError(path, line, col, message))

    if len(raw) > MAX_BYTES:
        err(1, 1, f"file is {len(raw) // 1024} KB, over the {MAX_BYTES // 1024} KB limit; split it or shorten it")
        return None, errors
    if raw.startswith(codecs.BOM_UTF8):
        err(1, 1, "file starts with a byte-order mark (BOM); save it as UTF-8 without BOM")
        return None, errors
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = raw[: exc.start].decode("utf-8", errors="replace")
        line, col = _line_col(good, len(good))
        err(line, col, f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; save the file as UTF-8")
        return None, errors
    tab = text.find("\t")
    if tab >= 0:
        line, col = _line_col(text, tab)
        more = text.count("\t") - 1
        extra = f" ({more} more in the file)" if more else ""
        err(line, col, f"tab character{extra}; YAML indentation must use spaces")
        return None, errors
    try:
        node = yaml.compose(text, Loader=yaml.CBaseLoader)  # no implicit typing: _scalar decides
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        err(line, col, f"malformed YAML: {problem}; check quoting and indentation here")
        return None, errors
    except yaml.YAMLError as exc:  # pragma: no cover - libyaml reports marks for all syntax errors
        err(1, 1, f"malformed YAML: {exc}")
        return None, errors
    if node is None:
        err(1, 1, "file is empty; it should hold a mapping of fields")
        return None, errors
    builder = _Builder(path)
    data = builder.construct(node, ())
    builder.doc.data = data
    if builder.aliased:
        # The composed tree shares an aliased node; point at the first alias as written.
        event = next(e for e in yaml.parse(text, Loader=yaml.CBaseLoader) if isinstance(e, yaml.AliasEvent))
        builder.errors.append(UserError(path, event.start_mark.line + 1, event.start_mark.column + 1, _ALIAS_MESSAGE))
    errors.extend(sorted(builder.errors))
    return builder.doc, errors


_ALIAS_MESSAGE = "anchors and aliases (&name, *name) are not allowed; write the value out"


class _Builder:
    """Turns a composed node tree into Python values, recording positions and problems."""

    def __init__(self, path: str):
        self.path = path
        self.doc = Document(data=None)
        self.errors: list[UserError] = []
        self.seen: set[int] = set()
        self.aliased = False

    def err(self, line: int, col: int, message: str) -> None:
        self.errors.append(UserError(self.path, line, col, message))

    def construct(self, node: yaml.Node, loc: Loc) -> Any:
        doc = self.doc
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        doc.positions[loc] = (line, col)
        if id(node) in self.seen:
            self.aliased = True
            return None
        self.seen.add(id(node))
        if node.tag not in _ALLOWED_TAGS:
            self.err(line, col, f"YAML tag {node.tag.replace(_TAG, '!!')} is not allowed; remove the tag")
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                kline, kcol = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _ALLOWED_TAGS:
                    self.err(kline, kcol, "mapping keys must be plain names")
                    continue
                key = key_node.value
                if key in out:
                    first = doc.key_positions.get(loc + (key,), (0, 0))[0]
                    self.err(kline, kcol, f"duplicate key '{key}' (first on line {first}); keep one")
                    continue
                doc.key_positions[loc + (key,)] = (kline, kcol)
                out[key] = self.construct(value_node, loc + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.construct(item, loc + (i,)) for i, item in enumerate(node.value)]
        return _scalar(node, loc, doc)


def _scalar(node: yaml.ScalarNode, loc: Loc, doc: Document) -> Any:
    text = node.value
    if node.style:
        return text  # quoted or block scalar: always text
    if text in _NULL:
        return None
    if text in _BOOL:
        doc.plain[loc] = text
        return _BOOL[text]
    if _INT.fullmatch(text):
        doc.plain[loc] = text
        if len(text.lstrip("+-")) > 1 and text.lstrip("+-").startswith("0"):
            doc.ambiguous[loc] = text  # YAML 1.1 reads a leading zero as octal
        return int(text)
    if _FLOAT.fullmatch(text):
        doc.plain[loc] = text
        return float(text.replace("inf", "Inf").replace("INF", "Inf").replace("Inf", "inf").replace("NaN", "nan"))
    if _DATE.fullmatch(text):
        doc.plain[loc] = text
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            doc.ambiguous[loc] = text
            return text
    if _YAML11_BOOL.fullmatch(text) or _YAML11_NUMBER.fullmatch(text) or _DATETIME.fullmatch(text):
        doc.ambiguous[loc] = text
    return text
