"""The committed JSON Schema matches the model, and every paper file names it."""

from __future__ import annotations

import json

from conftest import ROOT

from smatlas.schema import json_schema


def test_committed_schema_is_current():
    committed = json.loads((ROOT / "papers" / "schema.json").read_text(encoding="utf-8"))
    assert committed == json_schema(), "papers/schema.json is stale: run `smatlas schema`"


def test_schema_is_draft07_shaped():
    schema = json_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert "$defs" not in json.dumps(schema)
    assert schema["additionalProperties"] is False
    assert {"id", "title", "authors", "year", "venue", "taxonomy", "summary", "added"} <= set(schema["required"])


def test_every_paper_file_starts_with_the_schema_comment():
    for path in (ROOT / "papers").glob("*.yaml"):
        assert path.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=schema.json\n"), path
