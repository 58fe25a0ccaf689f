"""Built sites for the site tests, each built once per test session, and a local HTTP server.

Two sites: the real atlas, and a small fixture atlas whose YAML strings are hostile (script tags,
event-handler attributes, Markdown links to javascript: URLs, attribute-breaking quotes in URLs).
"""

from __future__ import annotations

import atexit
import functools
import http.server
import json
import shutil
import tempfile
import threading
from pathlib import Path

import yaml

from smatlas.cli import load_checked
from smatlas.kb import KnowledgeBase
from smatlas.site import build_site

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(tempfile.mkdtemp(prefix="smatlas-site-tests-"))
atexit.register(shutil.rmtree, WORK, ignore_errors=True)

XSS_TITLE = "<img src=x onerror=alert(1)>"
XSS_NODE_TITLE = "<script>alert('node')</script>Routing"
XSS_TAG_TITLE = '"><svg onload=alert("tag")>'
SUMMARY = (
    "A hostile summary: [click me](javascript:alert('md')) and <iframe src=javascript:alert('frame')></iframe> "
    "and {{ 7*7 }} and **bold** text, written to check that every string from YAML shows as text."
)


def build(root: Path, out: Path) -> KnowledgeBase:
    kb, errors = load_checked(root)
    problems = [e for e in errors if e.severity == "error"]
    assert not problems, "\n".join(map(str, problems))
    build_site(kb, out, strict=True)
    return kb


@functools.cache
def real_site() -> tuple[KnowledgeBase, Path]:
    out = WORK / "real" / "build"
    return build(ROOT, out), out


def _paper(pid: str, **fields) -> dict:
    base = {
        "id": pid,
        "title": f"Paper {pid}",
        "authors": ["Jane Doe"],
        "year": 2024,
        "venue": {"name": "ICLR", "kind": "conference"},
        "arxiv": "2401.00001",
        "taxonomy": ["routing"],
        "tags": ["method"],
        "summary": SUMMARY,
        "added": "2026-11-23",
    }
    base.update(fields)
    return base


def write_hostile_atlas(root: Path) -> None:
    (root / "taxonomy").mkdir(parents=True)
    nodes = yaml.safe_load((ROOT / "taxonomy" / "taxonomy.yaml").read_text(encoding="utf-8"))
    for node in nodes:
        node["reference_impls"] = []  # the fixture's only implementation is routing-demo, below
        if node["id"] == "routing":
            node["title"] = XSS_NODE_TITLE
            node["description"] = "<img src=x onerror=alert('desc')> routes [x](javascript:alert('desc-md'))"
            node["reference_impls"] = ["routing-demo"]
    tags = yaml.safe_load((ROOT / "taxonomy" / "tags.yaml").read_text(encoding="utf-8"))
    for tag in tags:
        if tag["id"] == "method":
            tag["title"] = XSS_TAG_TITLE
    (root / "taxonomy" / "taxonomy.yaml").write_text(yaml.safe_dump(nodes, sort_keys=False), encoding="utf-8")
    (root / "taxonomy" / "tags.yaml").write_text(yaml.safe_dump(tags, sort_keys=False), encoding="utf-8")
    papers = [
        _paper(
            "hostile2024img",
            title=XSS_TITLE,
            authors=["<script>alert('author')</script> Doe", 'Ada " onmouseover=alert(3) x="Lovelace'],
            venue={"name": "<svg onload=alert('venue')>", "kind": "workshop"},
            doi="10.1234/\"><script>alert('doi')</script>",
            code="https://example.org/\"><script>alert('code')</script>",
            url="http://example.org/'onmouseover='alert(10)",
            models={"small": ["<b onmouseover=alert('model')>tiny</b>"], "large": ["{{ config }}"]},
            relations=[{"type": "builds-on", "paper": "hostile2024markdown"}],
            arxiv="2401.00002",
            reference_impl="routing-demo",
        ),
        _paper(
            "hostile2024markdown",
            title="**Bold** [link](javascript:alert('title')) {: onclick=alert('attr') } `code` # not a heading",
            authors=["[Evil](javascript:alert('a'))", "Grace Hopper"],
            year=2023,
            arxiv="2301.00003",
            venue={"name": "arXiv", "kind": "preprint"},
            tags=["method", "survey"],
        ),
        _paper(
            "plain2022router",
            title="A Plain Router for Small and Large Models",
            authors=["Alan Turing"],
            year=2022,
            arxiv="2201.00004",
            code="https://example.org/plain",
            taxonomy=["routing", "cascading"],
            tags=["empirical-study"],
        ),
    ]
    (root / "papers").mkdir()
    for paper in papers:
        (root / "papers" / f"{paper['id']}.yaml").write_text(yaml.safe_dump(paper, sort_keys=False), encoding="utf-8")
    results = root / "reference_impls" / "results"
    results.mkdir(parents=True)
    for module in (ROOT / "reference_impls").glob("*.py"):  # the implementations the real taxonomy lists
        shutil.copy(module, root / "reference_impls" / module.name)
    (root / "reference_impls" / "routing_demo.py").write_text(
        '"""Routes easy queries to a <b>small</b> model and hard ones to a large one.\n\nMore detail."""\n\n\n'
        "class Config:\n    pass\n\n\ndef run(config):\n    return None\n",
        encoding="utf-8",
    )
    (results / "routing-demo.json").write_text(
        json.dumps(
            {
                "impl": "routing-demo",
                "config": {"threshold": 0.5},
                "metrics": {"accuracy_router": 0.91, "<script>alert('metric')</script>": 1.0},
                "claims": [
                    {"claim": "the router is cheaper than the large model", "lhs": 0.3, "rhs": 1.0, "holds": True},
                    {"claim": "<img src=x onerror=alert('claim')>", "lhs": 2.0, "rhs": 1.0, "holds": False},
                ],
                "seconds": 12.5,
                "versions": {"python": "3.11.7", "torch": "2.13.0"},
                "series": {
                    "cost": {
                        "title": "Accuracy against cost",
                        "xlabel": "share sent to the large model",
                        "ylabel": "accuracy",
                        "lines": {
                            "router": {"x": [0.0, 0.5, 1.0], "y": [0.6, 0.85, 0.92]},
                            "<script>alert('line')</script>": {"x": [0.0, 1.0], "y": [0.6, 0.92]},
                        },
                    }
                },
            }
        ),
        encoding="utf-8",
    )


@functools.cache
def hostile_site() -> tuple[KnowledgeBase, Path]:
    root = WORK / "hostile"
    write_hostile_atlas(root)
    return build(root, root / "site" / "build"), root / "site" / "build"


class Server:
    """Serve a folder on 127.0.0.1 on a free port, in a background thread."""

    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass
