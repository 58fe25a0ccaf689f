"""The typed data model: papers, taxonomy nodes and tags (pydantic v2, strict, unknown fields rejected).

Field names are fixed: tools outside the project read these files.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
ARXIV_NEW = re.compile(r"(\d{2})(0[1-9]|1[0-2])\.\d{4,5}")
ARXIV_OLD = re.compile(r"[a-z]+(-[a-z]+)*(\.[A-Z]{2})?/\d{2}(0[1-9]|1[0-2])\d{3}")
DOI = re.compile(r"10\.\d{4,9}/\S+")
SUMMARY_PLACEHOLDER = "TODO: write a summary in your own words"
SUMMARY_MIN, SUMMARY_MAX = 80, 700


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError("must be an http:// or https:// URL with a host and no spaces")
    return value


def _arxiv(value: str) -> str:
    if re.search(r"v\d+$", value) and (ARXIV_NEW.fullmatch(value[: value.rindex("v")])):
        raise ValueError(f"drop the version suffix: write '{value[: value.rindex('v')]}'")
    if not (ARXIV_NEW.fullmatch(value) or ARXIV_OLD.fullmatch(value)):
        raise ValueError("must be an arXiv id like '2306.11695' or 'cs/0501001' (no 'arXiv:' prefix)")
    return value


def _doi(value: str) -> str:
    if not DOI.fullmatch(value):
        raise ValueError("must be a bare DOI like '10.18653/v1/2023.acl-long.1' (no https://doi.org/ prefix)")
    return value


def _summary(value: str) -> str:
    text = value.strip()
    if text.startswith(SUMMARY_PLACEHOLDER) or text.upper().startswith("TODO"):
        raise ValueError("placeholder summary: write 80 to 700 characters in your own words")
    if not SUMMARY_MIN <= len(text) <= SUMMARY_MAX:
        raise ValueError(f"has {len(text)} characters; write {SUMMARY_MIN} to {SUMMARY_MAX} in your own words")
    return value


def _year(value: int) -> int:
    last = dt.date.today().year + 1
    if not 1980 <= value <= last:
        raise ValueError(f"must be a year from 1980 to {last}")
    return value


LANDMARK_MIN, LANDMARK_MAX = 20, 200


def _landmark(value: str) -> str:
    text = value.strip()
    if "\n" in text or not LANDMARK_MIN <= len(text) <= LANDMARK_MAX:
        raise ValueError(
            f"has {len(text)} characters; write one line of {LANDMARK_MIN} to {LANDMARK_MAX} saying why the paper is key"
        )
    return value


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Slug = Annotated[str, Field(pattern=ID_PATTERN, max_length=80)]
Text = Annotated[str, AfterValidator(_non_blank)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Venue(_Strict):
    name: Text
    kind: Literal["conference", "journal", "workshop", "preprint"]


class Models(_Strict):
    small: list[Text] = []
    large: list[Text] = []


class Relation(_Strict):
    type: Literal["builds-on", "compares-with", "extends"]
    paper: Slug


class Paper(_Strict):
    """One paper of the atlas, stored as `papers/<id>.yaml`."""

    id: Slug
    title: Text
    authors: Annotated[list[Text], Field(min_length=1)]
    year: Annotated[int, AfterValidator(_year)]
    venue: Venue
    arxiv: Annotated[str, AfterValidator(_arxiv)] | None = None
    doi: Annotated[str, AfterValidator(_doi)] | None = None
    url: HttpUrl | None = None
    code: HttpUrl | None = None
    # Model weights on a hub (a model or collection page), for papers that release models.
    weights: HttpUrl | None = None
    taxonomy: Annotated[list[Slug], Field(min_length=1)]
    tags: list[Slug] = []
    summary: Annotated[str, AfterValidator(_summary)]
    # Editorial: one line on why this is a key paper of its nodes; node pages list landmarks first.
    landmark: Annotated[str, AfterValidator(_landmark)] | None = None
    models: Models | None = None
    reference_impl: Slug | None = None
    relations: list[Relation] = []
    added: Annotated[dt.date, Field(strict=False)]

    @model_validator(mode="after")
    def _has_identifier(self) -> Paper:
        if not (self.arxiv or self.doi or self.url):
            raise ValueError("give at least one of arxiv, doi or url")
        return self


class TaxonomyNode(_Strict):
    """A node of the taxonomy tree (`taxonomy/taxonomy.yaml`)."""

    id: Slug
    title: Text
    parent: Slug | None
    description: Text
    survey_section: Text | None = None
    reference_impls: list[Slug] = []


class Tag(_Strict):
    """A tag of the controlled vocabulary (`taxonomy/tags.yaml`)."""

    id: Slug
    title: Text
    description: Text


FIELD_ORDER = list(Paper.model_fields)


def json_schema() -> dict:
    """The paper schema as JSON Schema that draft-07 validators (the VS Code YAML extension) accept."""
    schema = Paper.model_json_schema()
    text = _rewrite_refs(schema)
    text["$schema"] = "http://json-schema.org/draft-07/schema#"
    text["title"] = "Small Models Atlas paper"
    text["properties"]["added"] = {"type": "string", "format": "date", "title": "Added"}
    return {"$schema": text.pop("$schema"), **text}


def _rewrite_refs(node):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$defs":
                out["definitions"] = _rewrite_refs(value)
            elif key == "$ref" and isinstance(value, str):
                out[key] = value.replace("#/$defs/", "#/definitions/")
            else:
                out[key] = _rewrite_refs(value)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node
