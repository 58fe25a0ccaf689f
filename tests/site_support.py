"""Built sites for the site tests, each built once per test session, and a local HTTP server.

Two sites: the real atlas, and a small fixture atlas whose YAML strings are hostile (script tags,
event-handler attributes, Markdown links to javascript: URLs, attribute-breaking quotes in URLs).
The fixture also has a landmark paper, a model release with weights, a topic description naming a
paper, and two implementations: `routing-demo` with results in the older format and `cascade-demo`
in the current one (seeds, verdicts, checks, metric labels), with a zoo.json.
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
LANDMARK = "<script>alert('landmark')</script> The first plain router, the baseline every later one compares with"
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
        if node["id"] == "cascading":
            node["description"] = "Cascades try a small model first, as PlainRouter does, and defer when unsure."
            node["reference_impls"] = ["cascade-demo"]
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
            title="PlainRouter: A Plain Router for Small and Large Models",
            authors=["Alan Turing"],
            year=2022,
            arxiv="2201.00004",
            code="https://example.org/plain",
            weights="https://huggingface.co/example/plain-router",
            landmark=LANDMARK,
            models={"small": ["LLaMA-7B"], "large": ["GPT-4"]},
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


NEW_RESULTS = {
    "impl": "cascade-demo",
    "title": "Cascade demo: defer to the large model when the small one is unsure",
    "config": {"small": "zoo-50k", "large": "zoo-1.3m", "threshold": 0.5},
    "seeds": [0, 1, 2],
    "metrics": {"acc_cascade": 0.8123, "cost_share": 0.31, "raw_only_key": 2.5},
    "metric_std": {"acc_cascade": 0.0123, "cost_share": 0.02, "raw_only_key": 0.0},
    "metric_labels": {"acc_cascade": "Accuracy of the cascade", "cost_share": "Share of calls to the large model"},
    "claims": [
        {
            "claim": "The cascade matches the large model's accuracy at a third of its cost",
            "paper": "plain2022router",
            "op": ">=",
            "lhs_label": "cascade",
            "rhs_label": "large model",
            "lhs": 0.8123,
            "rhs": 0.8011,
            "lhs_std": 0.0123,
            "rhs_std": 0.0045,
            "per_seed": [
                {"seed": 0, "lhs": 0.81, "rhs": 0.80, "holds": True},
                {"seed": 1, "lhs": 0.82, "rhs": 0.80, "holds": True},
                {"seed": 2, "lhs": 0.80, "rhs": 0.80, "holds": True},
            ],
            "verdict": "reproduces",
            "holds": True,
        },
        {
            "claim": "<b>Learned</b> deferral beats a fixed threshold",
            "op": ">",
            "lhs": 0.70,
            "rhs": 0.71,
            "lhs_std": 0.03,
            "rhs_std": 0.02,
            "per_seed": [
                {"seed": 0, "lhs": 0.72, "rhs": 0.70, "holds": True},
                {"seed": 1, "lhs": 0.68, "rhs": 0.71, "holds": False},
                {"seed": 2, "lhs": 0.70, "rhs": 0.72, "holds": False},
            ],
            "verdict": "mixed",
            "holds": False,
            "note": "At tiny scale the confidence signal is too noisy to learn from.",
        },
    ],
    "checks": [{"check": "threshold 0 never calls the large model", "lhs": 0.0, "rhs": 0.0, "holds": True}],
    "seconds": 30.0,
    "versions": {"python": "3.11.7", "torch": "2.13.0"},
    "series": {
        "repeats": {
            "title": "Accuracy against repeats",
            "xlabel": "repeats",
            "ylabel": "accuracy",
            "lines": {"Cascade, learned deferral": {"x": [1, 2, 3], "y": [0.7, 0.75, 0.8]}},
        }
    },
}
ZOO = {
    "models": [
        {"name": "zoo-50k", "d_model": 40, "layers": 2, "heads": 2, "mlp": 112, "params": 50120, "steps": 300,
         "batch": 16, "seq_len": 64, "lr": 0.003, "heldout_ppl": 9.40, "in_names": True},
        {"name": "zoo-1.3m", "d_model": 160, "layers": 4, "heads": 4, "mlp": 432, "params": 1312160, "steps": 1200,
         "batch": 16, "seq_len": 128, "lr": 0.002, "heldout_ppl": 2.45, "in_names": True},
    ],
    "corpus": {"bytes": 1280000, "description": "synthetic English-like sentences about shops and prices"},
}  # fmt: skip


def write_new_format_results(root: Path) -> None:
    (root / "reference_impls" / "cascade_demo.py").write_text(
        '"""Cascade demo: defer to the large model when the small one is unsure.\n\nThe rule:\n\n'
        '    defer(x) = max_y p_small(y | x) < threshold\n"""\n\n\nclass Config:\n    pass\n\n\n'
        "def run(config):\n    return None\n",
        encoding="utf-8",
    )
    results = root / "reference_impls" / "results"
    (results / "cascade-demo.json").write_text(json.dumps(NEW_RESULTS), encoding="utf-8")
    (results / "zoo.json").write_text(json.dumps(ZOO), encoding="utf-8")


@functools.cache
def hostile_site() -> tuple[KnowledgeBase, Path]:
    root = WORK / "hostile"
    write_hostile_atlas(root)
    write_new_format_results(root)
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
