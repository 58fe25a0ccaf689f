"""The Jinja2 environment of the page templates (`site/templates/`), with autoescaping on.

Python prepares plain data; a template decides the markup. Every string is escaped unless it is
`Markup` (the SVG drawn by `svg.py`, whose labels it escapes itself). `url(target)` in a template
gives a link relative to the page being rendered (its `here`).
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from markupsafe import Markup

from smatlas.site.markup import rel

TEMPLATES = Path(__file__).resolve().parents[2] / "site" / "templates"


@pass_context
def _url(context, target: str) -> str:
    return rel(context["here"], target)


def _g4(value) -> str:
    if value is None:
        return ""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )
    env.globals["url"] = _url
    env.filters["g4"] = _g4
    return env


def render(template: str, here: str, **data) -> str:
    return environment().get_template(template).render(here=here, **data)


def markup(html: str) -> Markup:
    """HTML that Python built and escaped itself (the SVG charts): shown as it is."""
    return Markup(html)
